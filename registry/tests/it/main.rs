//! Integration tests of the registry crate (one binary; each area in its own module).

mod support;

mod determinism;
mod proofs;
mod qr;
mod rules;

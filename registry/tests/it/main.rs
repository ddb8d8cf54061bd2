//! Integration tests of the registry crate (one binary; each area in its own module).

mod support;

mod corpus;
mod determinism;
mod ics23_vectors;
mod logs;
mod proofs;
mod qr;
mod rules;
mod validators;

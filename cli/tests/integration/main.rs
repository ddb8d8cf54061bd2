//! Integration tests of the `tradeseal-cli` binary.

mod crash;
mod decode;
mod join;
mod verify;
mod verify_header;

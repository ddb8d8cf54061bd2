//! Integration tests of the `tradeseal-cli` binary.

mod crash;
mod decode;
mod verify;
mod verify_header;

//! Integration tests of the `tradeseal-cli` binary.

mod crash;
mod verify_header;

//! Integration tests of the `tradeseal-cli` binary.

mod verify_header;

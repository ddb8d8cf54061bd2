//! Tradeseal command-line interface.

fn main() {}

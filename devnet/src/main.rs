//! Local development network binary.

fn main() {}

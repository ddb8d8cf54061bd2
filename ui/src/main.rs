//! Tradeseal UI.

fn main() {}

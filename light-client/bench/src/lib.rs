//! Benchmark-only package: see `benches/verify.rs` and `docs/benchmarks.md`.

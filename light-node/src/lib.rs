//! The wallet's light node: the I/O around `light-client`.

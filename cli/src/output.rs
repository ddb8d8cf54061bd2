//! What every subcommand shares: JSON on stdout, the bad-input exit code, the default data
//! directory and the async runtime.

use std::path::PathBuf;

use serde_json::Value;

/// Exit code for bad input (unreadable or malformed file, bad argument).
pub const BAD_INPUT: u8 = 2;

/// One JSON document on a line of stdout.
pub fn print(v: &Value) {
    println!("{}", serde_json::to_string(v).unwrap_or_default());
}

/// `$XDG_DATA_HOME/tradeseal-cli`, else `~/.local/share/tradeseal-cli`.
pub fn default_data_dir() -> PathBuf {
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("tradeseal-cli")
}

/// The runtime a subcommand's async work runs on.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

//! End-to-end tests: the real app binary under Xvfb, driven through its WebView by
//! tauri-driver + WebKitWebDriver. Run with `cargo xtask e2e` (or `cargo xtask test`).

mod app_shell;
mod harness;
mod keys_sign;
mod local_network;
mod verify;

//! Desktop entry point: everything lives in the library so mobile builds share it.

// Keep a console window from opening next to the app on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    tradeseal_app::run();
}

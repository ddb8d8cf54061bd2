//! End-to-end test support: a virtual display, tauri-driver, and a small WebDriver client that
//! drives the real app through its WebView.
//!
//! Everything runs on this machine: Xvfb on a free display, tauri-driver and WebKitWebDriver on
//! free loopback ports; all are stopped when their guards drop.

mod display;
mod driver;
mod webdriver;

pub use display::VirtualDisplay;
pub use driver::TauriDriver;
pub use webdriver::{Element, Session, WebDriverError};

use std::{net::TcpListener, path::PathBuf};

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free loopback port")
}

/// The app binary under test: `TRADESEAL_APP`, set by `cargo xtask test` / `cargo xtask e2e`.
pub fn app_binary() -> PathBuf {
    let path = std::env::var_os("TRADESEAL_APP").map(PathBuf::from).expect(
        "TRADESEAL_APP is not set: run the end-to-end tests with `cargo xtask e2e`, which builds \
         the app and points the tests at it",
    );
    assert!(
        path.exists(),
        "the app binary {} does not exist: run `cargo xtask app`",
        path.display()
    );
    path
}

/// Where screenshots go (`TRADESEAL_ARTIFACTS`, else a folder under the system temp dir).
pub fn artifacts_dir() -> PathBuf {
    let dir = std::env::var_os("TRADESEAL_ARTIFACTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("tradeseal-e2e"));
    std::fs::create_dir_all(&dir).expect("cannot create the artifacts folder");
    dir
}

/// Memory of the processes whose command line starts with `program` and of their descendants
/// (the WebView's web and network processes), from /proc.
#[derive(Debug, Clone, Copy, Default)]
pub struct TreeMemory {
    pub processes: usize,
    /// Sum of resident set sizes (KiB): counts shared libraries once per process.
    pub rss_kib: u64,
    /// Sum of proportional set sizes (KiB): shared pages split between their users, so the
    /// sum is what the tree really costs.
    pub pss_kib: u64,
}

pub fn memory_of_tree(program: &std::path::Path) -> Option<TreeMemory> {
    let procs = std::fs::read_dir("/proc").ok()?;
    let mut parent_of = std::collections::HashMap::new();
    let mut roots = Vec::new();
    for entry in procs.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // The parent pid is the second field after the parenthesised command name.
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        if let Some(ppid) = ppid {
            parent_of.insert(pid, ppid);
        }
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let argv0 = cmdline.split(|b| *b == 0).next().unwrap_or_default();
        if argv0 == program.as_os_str().as_encoded_bytes() {
            roots.push(pid);
        }
    }
    if roots.is_empty() {
        return None;
    }
    let in_tree = |mut pid: u32| loop {
        if roots.contains(&pid) {
            return true;
        }
        match parent_of.get(&pid) {
            Some(&p) if p != pid && p != 0 => pid = p,
            _ => return false,
        }
    };
    let field = |text: &str, name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<u64>().ok())
    };
    let mut total = TreeMemory::default();
    for &pid in parent_of.keys() {
        if in_tree(pid) {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
            let rollup =
                std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
            if let Some(rss) = field(&status, "VmRSS:") {
                total.processes += 1;
                total.rss_kib += rss;
                total.pss_kib += field(&rollup, "Pss:").unwrap_or(rss);
            }
        }
    }
    Some(total)
}

//! tauri-driver, the WebDriver proxy that launches the app under WebKitWebDriver.

use std::{
    ffi::OsStr,
    net::TcpStream,
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use crate::{free_port, VirtualDisplay};

/// A running tauri-driver. Dropping it sends SIGTERM (a killed driver orphans
/// WebKitWebDriver, which then holds the test's output open).
#[derive(Debug)]
pub struct TauriDriver {
    child: Child,
    pub url: String,
}

impl TauriDriver {
    /// Start tauri-driver on free loopback ports; the app it launches gets `display`, a
    /// private home for its settings and data, and `env`.
    pub fn start(display: &VirtualDisplay, home: &Path, env: &[(&str, &OsStr)]) -> Self {
        let port = free_port();
        let native_port = free_port();
        let child = Command::new("tauri-driver")
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native_port.to_string(),
            ])
            .env("DISPLAY", &display.name)
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_DATA_HOME", home.join("data"))
            .env("XDG_CACHE_HOME", home.join("cache"))
            .env_remove("WAYLAND_DISPLAY")
            // The chain config comes from `env` or the private home, never from the caller's.
            .env_remove("TRADESEAL_CHAIN_CONFIG")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("cannot start tauri-driver (install it: `cargo xtask setup`)");
        // tauri-driver listens at once; WebKitWebDriver behind it takes a moment longer.
        let deadline = Instant::now() + Duration::from_secs(30);
        for p in [port, native_port] {
            while TcpStream::connect(("127.0.0.1", p)).is_err() {
                assert!(
                    Instant::now() < deadline,
                    "the WebDriver did not listen on {p}"
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for TauriDriver {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

//! `cargo xtask dev`: the app on the local development network. Builds the UI, the devnet and
//! the app; starts the devnet (its data in `target/devnet`, so the chain continues across
//! runs); waits for the chain config it writes; runs the app on it; stops the devnet after.

use std::{
    process::{Child, Command},
    time::{Duration, Instant},
};

use anyhow::{bail, Context, Result};

use crate::{
    setup, ui,
    util::{self, Workspace},
};

pub fn run(ws: &Workspace) -> Result<()> {
    if std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none() {
        bail!(
            "no display to show the app on: run this from a desktop session \
             (on a headless machine: `xvfb-run -a cargo xtask dev`)"
        );
    }
    setup::ensure(setup::Need::Run)?;
    ui::build(ws)?;
    util::step("build the local network and the app", || {
        util::cargo(
            ws,
            &[
                "build",
                "-p",
                "devnet",
                "--bin",
                "devnet",
                "-p",
                "tradeseal-app",
                "--bin",
                "tradeseal",
            ],
        )
    })?;

    let data = ws.target.join("devnet");
    let chain_config = data.join("chain-config.json");
    // The devnet writes a fresh checkpoint at every start: wait for that one, not an old file.
    if chain_config.exists() {
        std::fs::remove_file(&chain_config)?;
    }
    println!("\n==> start the local network (data in {})", data.display());
    let devnet = Command::new(ws.target.join("debug/devnet"))
        .arg("--data-dir")
        .arg(&data)
        .current_dir(&ws.root)
        .spawn()
        .context("could not start the local network")?;
    let mut devnet = StopOnDrop(devnet);
    let deadline = Instant::now() + Duration::from_secs(120);
    while !chain_config.exists() {
        if let Some(status) = devnet.0.try_wait()? {
            bail!("the local network stopped ({status}); see its output above");
        }
        if Instant::now() > deadline {
            bail!("the local network wrote no chain config within 2 minutes");
        }
        std::thread::sleep(Duration::from_millis(200));
    }

    util::step("run the app (close its window to stop)", || {
        util::run(
            Command::new(ws.app_binary(false))
                .env("TRADESEAL_CHAIN_CONFIG", &chain_config)
                .current_dir(&ws.root),
        )
    })
}

/// Stops the devnet gracefully (SIGTERM) when the app exits or anything fails.
struct StopOnDrop(Child);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        println!("\n==> stop the local network");
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

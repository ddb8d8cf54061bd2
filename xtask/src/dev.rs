//! `cargo xtask dev`: the app on the local development network. Builds the UI, the devnet and
//! the app; starts the devnet (its data in `target/devnet`, so the chain continues across
//! runs); waits for the chain config it writes; runs the app on it; stops the devnet after.
//! Ctrl-C stops the app (SIGTERM, SIGKILL after a grace period), then the devnet, and exits
//! with 130; a second Ctrl-C kills both at once.

use std::{
    path::Path,
    process::{Command, ExitStatus},
    time::{Duration, Instant},
};

use anyhow::{bail, Result};

use crate::{
    process::{stop_all, Group, Interrupted, Interrupts},
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
    // From here on Ctrl-C reaches only xtask (the children run in process groups of their own),
    // which stops the app and then the devnet, and exits with 130.
    let interrupts = Interrupts::listen()?;
    println!("\n==> start the local network (data in {})", data.display());
    let mut devnet = Group::spawn(
        "the local network",
        Command::new(ws.target.join("debug/devnet"))
            .arg("--data-dir")
            .arg(&data)
            .current_dir(&ws.root),
        DEVNET_GRACE,
    )?;
    if let Err(e) = wait_for_chain_config(&chain_config, &mut devnet, &interrupts) {
        stop_all(&mut [&mut devnet], &interrupts);
        return Err(e);
    }

    println!("\n==> run the app (close its window, or press Ctrl-C, to stop)");
    let mut app = match Group::spawn(
        "the app",
        Command::new(ws.app_binary(false))
            .env("TRADESEAL_CHAIN_CONFIG", &chain_config)
            .current_dir(&ws.root),
        APP_GRACE,
    ) {
        Ok(app) => app,
        Err(e) => {
            stop_all(&mut [&mut devnet], &interrupts);
            return Err(e);
        }
    };
    match supervise(&mut app, &mut devnet, &interrupts)? {
        Ended::Interrupted(signal) => Err(Interrupted(signal).into()),
        Ended::AppClosed(status) if status.success() => Ok(()),
        Ended::AppClosed(status) => bail!("the app exited with {status}"),
    }
}

/// How long the app may take to close its window after SIGTERM.
const APP_GRACE: Duration = Duration::from_secs(5);
/// How long the devnet may take to stop its nodes and write its data after SIGTERM.
const DEVNET_GRACE: Duration = Duration::from_secs(10);

/// Waits until the devnet has written its chain config; an interrupt is an error
/// ([`Interrupted`]).
fn wait_for_chain_config(path: &Path, devnet: &mut Group, interrupts: &Interrupts) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !path.exists() {
        if let Some(status) = devnet.try_wait()? {
            bail!("the local network stopped ({status}); see its output above");
        }
        if Instant::now() > deadline {
            bail!("the local network wrote no chain config within 2 minutes");
        }
        if let Some(signal) = interrupts.wait(Duration::from_millis(200)) {
            return Err(Interrupted(signal).into());
        }
    }
    Ok(())
}

/// What ended a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ended {
    AppClosed(ExitStatus),
    Interrupted(i32),
}

/// Waits for the app to close or for an interrupt, then stops what still runs: the app (on an
/// interrupt), then the devnet. A second interrupt meanwhile kills both at once.
fn supervise(app: &mut Group, devnet: &mut Group, interrupts: &Interrupts) -> Result<Ended> {
    let ended = loop {
        if let Some(status) = app.try_wait()? {
            break Ended::AppClosed(status);
        }
        if let Some(signal) = interrupts.wait(Duration::from_millis(100)) {
            break Ended::Interrupted(signal);
        }
    };
    stop_all(&mut [app, devnet], interrupts);
    Ok(ended)
}

#[cfg(test)]
mod tests {
    use signal_hook::consts::SIGINT;

    use super::*;
    use crate::process::tests::{fake_interrupts, sh, stubborn};

    #[test]
    fn ctrl_c_stops_the_app_then_the_network() {
        let (tx, interrupts) = fake_interrupts();
        let mut app = sh("app", "exec sleep 30", Duration::from_secs(5));
        let mut devnet = sh("devnet", "exec sleep 30", Duration::from_secs(5));
        tx.send(SIGINT).unwrap();
        let ended = supervise(&mut app, &mut devnet, &interrupts).unwrap();
        assert_eq!(ended, Ended::Interrupted(SIGINT));
        assert!(app.try_wait().unwrap().is_some());
        assert!(devnet.try_wait().unwrap().is_some());
        let error = anyhow::Error::from(Interrupted(SIGINT));
        assert_eq!(crate::exit_code(&error), 130);
    }

    #[test]
    fn closing_the_app_stops_the_network() {
        let (_tx, interrupts) = fake_interrupts();
        let mut app = sh("app", "exit 0", Duration::from_secs(5));
        let mut devnet = sh("devnet", "exec sleep 30", Duration::from_secs(5));
        let ended = supervise(&mut app, &mut devnet, &interrupts).unwrap();
        assert!(matches!(ended, Ended::AppClosed(s) if s.success()));
        assert!(devnet.try_wait().unwrap().is_some());
    }

    #[test]
    fn a_second_ctrl_c_while_stopping_kills_at_once() {
        let (tx, interrupts) = fake_interrupts();
        let long = Duration::from_secs(60);
        let mut app = stubborn("app", long);
        let mut devnet = stubborn("devnet", long);
        tx.send(SIGINT).unwrap();
        tx.send(SIGINT).unwrap();
        let started = Instant::now();
        let ended = supervise(&mut app, &mut devnet, &interrupts).unwrap();
        assert_eq!(ended, Ended::Interrupted(SIGINT));
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(app.try_wait().unwrap().is_some());
        assert!(devnet.try_wait().unwrap().is_some());
    }

    #[test]
    fn ctrl_c_while_the_network_starts() {
        let (tx, interrupts) = fake_interrupts();
        let mut devnet = sh("devnet", "exec sleep 30", Duration::from_secs(5));
        tx.send(SIGINT).unwrap();
        let missing = std::env::temp_dir().join("xtask-no-such-chain-config.json");
        let error = wait_for_chain_config(&missing, &mut devnet, &interrupts).unwrap_err();
        assert_eq!(crate::exit_code(&error), 130);
    }
}

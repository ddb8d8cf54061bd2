//! Install what is missing on a Debian or Ubuntu machine: system packages (apt-get, as root or
//! through sudo), Rust targets and components, and pinned tools. Anything already present is
//! left alone, so a second run takes a second.

use std::process::Command;

use anyhow::{bail, Result};

use crate::util;

/// What the machine must be able to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Build and run the app.
    Run,
    /// Also run every test, including the end-to-end test under a virtual display.
    Test,
}

/// Debian packages to build and run the app (WebKitGTK for the WebView).
const RUN_PACKAGES: &[&str] = &["libwebkit2gtk-4.1-dev", "pkg-config", "build-essential"];
/// Added for tests: a virtual X display and the WebKit WebDriver the end-to-end test drives;
/// an aarch64 C cross compiler with its libc headers (a Recommends of the compiler, so named
/// here), for the C that build scripts compile during the Android type-check (see
/// `android_c_env` in main.rs: the NDK is not needed for a check).
const TEST_PACKAGES: &[&str] = &[
    "xvfb",
    "xauth",
    "webkit2gtk-driver",
    "gcc-aarch64-linux-gnu",
    "libc6-dev-arm64-cross",
    // The keystore's tests: a private D-Bus session with GNOME Keyring's Secret Service,
    // libsecret's client to read it back, SoftHSM2 and OpenSC's pkcs11-tool.
    "dbus",
    "gnome-keyring",
    "libsecret-tools",
    "softhsm2",
    "opensc",
    "zbar-tools",
    // The certificate PDF rendered by an independent renderer (pdftoppm) in the wallet's
    // issuance test.
    "poppler-utils",
];
const TARGETS: &[&str] = &["wasm32-unknown-unknown"];
const TEST_TARGETS: &[&str] = &["aarch64-linux-android"];
/// Pinned tools installed with `cargo install --locked`.
const TEST_TOOLS: &[(&str, &str)] = &[("tauri-driver", "2.1.0")];

pub fn ensure(need: Need) -> Result<()> {
    let test = need == Need::Test;
    let packages: Vec<&str> = RUN_PACKAGES
        .iter()
        .chain(if test { TEST_PACKAGES } else { &[] })
        .copied()
        .collect();
    util::step("system packages", || apt_install(&packages))?;
    let targets: Vec<&str> = TARGETS
        .iter()
        .chain(if test { TEST_TARGETS } else { &[] })
        .copied()
        .collect();
    util::step("Rust targets and components", || rust_targets(&targets))?;
    if test {
        util::step("pinned tools", || {
            for (tool, version) in TEST_TOOLS {
                cargo_install(tool, version)?;
            }
            Ok(())
        })?;
    }
    Ok(())
}

fn apt_install(packages: &[&str]) -> Result<()> {
    let missing: Vec<&str> = packages
        .iter()
        .copied()
        .filter(|p| !is_installed(p))
        .collect();
    if missing.is_empty() {
        println!("    all present: {}", packages.join(" "));
        return Ok(());
    }
    if util::output("apt-get", &["--version"]).is_none() {
        bail!(
            "missing system packages {} and no apt-get on this machine: install them with your \
             package manager",
            missing.join(" ")
        );
    }
    println!("    installing: {}", missing.join(" "));
    let root = util::output("id", &["-u"]).is_some_and(|id| id.trim() == "0");
    let sudo = |args: &[&str]| {
        let mut cmd = if root {
            Command::new(args[0])
        } else {
            let mut c = Command::new("sudo");
            c.arg(args[0]);
            c
        };
        cmd.args(&args[1..])
            .env("DEBIAN_FRONTEND", "noninteractive");
        cmd
    };
    util::run(&mut sudo(&["apt-get", "update", "-q"]))?;
    let mut install = sudo(&["apt-get", "install", "-y", "-q", "--no-install-recommends"]);
    install.args(&missing);
    util::run(&mut install)
}

fn is_installed(package: &str) -> bool {
    util::output("dpkg-query", &["-W", "-f=${Status}", package])
        .is_some_and(|s| s.contains("install ok installed"))
}

fn rust_targets(targets: &[&str]) -> Result<()> {
    let installed = util::output("rustup", &["target", "list", "--installed"]).unwrap_or_default();
    let missing: Vec<&str> = targets
        .iter()
        .copied()
        .filter(|t| !installed.lines().any(|l| l.trim() == *t))
        .collect();
    if !missing.is_empty() {
        let mut cmd = Command::new("rustup");
        cmd.args(["target", "add"]).args(&missing);
        util::run(&mut cmd)?;
    }
    let components =
        util::output("rustup", &["component", "list", "--installed"]).unwrap_or_default();
    for component in ["rustfmt", "clippy"] {
        if !components.lines().any(|l| l.starts_with(component)) {
            util::run(Command::new("rustup").args(["component", "add", component]))?;
        }
    }
    println!("    targets: {}", targets.join(" "));
    Ok(())
}

fn cargo_install(tool: &str, version: &str) -> Result<()> {
    let list = util::output("cargo", &["install", "--list"]).unwrap_or_default();
    if list
        .lines()
        .any(|l| l.starts_with(&format!("{tool} v{version}:")))
    {
        println!("    {tool} {version} present");
        return Ok(());
    }
    println!("    installing {tool} {version} (a few minutes on 2 cores)");
    util::run(Command::new("cargo").args(["install", "--locked", tool, "--version", version]))
}

//! Developer tasks (`cargo xtask <task>`): install what is missing, build the UI, run the app on
//! the local network, run every test. Each step says what it does and how long it took.

mod dev;
mod process;
mod setup;
mod tidy;
mod ui;
mod util;

use std::ffi::{OsStr, OsString};

use anyhow::{bail, Result};

const HELP: &str = "\
usage: cargo xtask <task>

tasks:
  dev      install what is missing, build, start the local development network and run
           the app on it (the network stops when the app closes; Ctrl-C stops both)
  test     install what is missing, then fmt check, tidy, clippy, unit/integration tests,
           wasm and Android checks, and the end-to-end test through the app's WebView
  tidy     check that every .rs file opens with `//!`, that docs/ARCHITECTURE.md's code
           map names every source file, and that the pure crates do no I/O
  setup    install system packages, Rust targets and pinned tools (no build)
  ui       build the UI (wasm) into ui/dist
  app      build the UI and the app binary (add --release for an optimised build)
  e2e      build the app and run only the end-to-end test
";

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            match interrupted(&e) {
                Some(i) => eprintln!("\n{i}: stopped"),
                None => eprintln!("\nerror: {e:#}"),
            }
            std::process::ExitCode::from(exit_code(&e))
        }
    }
}

fn interrupted(e: &anyhow::Error) -> Option<process::Interrupted> {
    e.chain()
        .find_map(|c| c.downcast_ref::<process::Interrupted>())
        .copied()
}

/// 1 for a failure; 128 + the signal's number when a signal stopped the task (130 for Ctrl-C).
fn exit_code(e: &anyhow::Error) -> u8 {
    interrupted(e).map_or(1, process::Interrupted::exit_code)
}

fn run() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let task = args.first().map(String::as_str).unwrap_or("help");
    let release = args.iter().any(|a| a == "--release");
    let ws = util::Workspace::locate()?;
    match task {
        "dev" => dev::run(&ws),
        "test" => test(&ws),
        "tidy" => tidy(&ws),
        "setup" => setup::ensure(setup::Need::Test),
        "ui" => ui::build(&ws),
        "app" => {
            ui::build(&ws)?;
            build_app(&ws, release)
        }
        "e2e" => {
            setup::ensure(setup::Need::Test)?;
            ui::build(&ws)?;
            build_app(&ws, false)?;
            e2e(&ws)
        }
        "help" | "-h" | "--help" => {
            print!("{HELP}");
            Ok(())
        }
        other => bail!("unknown task `{other}`\n\n{HELP}"),
    }
}

/// Everything CI checks, in the order that fails fastest.
fn test(ws: &util::Workspace) -> Result<()> {
    let started = std::time::Instant::now();
    setup::ensure(setup::Need::Test)?;
    util::step("check formatting (cargo fmt --check)", || {
        util::cargo(ws, &["fmt", "--all", "--", "--check"])
    })?;
    tidy(ws)?;
    ui::build(ws)?;
    // The UI is wasm-only: it is linted for wasm32, not for the host.
    util::step("clippy, host crates, warnings denied", || {
        util::cargo(
            ws,
            &[
                "clippy",
                "--workspace",
                "--all-targets",
                "--exclude",
                "tradeseal-ui",
                "--",
                "-D",
                "warnings",
            ],
        )
    })?;
    util::step("clippy, UI for wasm32, warnings denied", || {
        util::cargo(
            ws,
            &[
                "clippy",
                "-p",
                "tradeseal-ui",
                "--target",
                "wasm32-unknown-unknown",
                "--",
                "-D",
                "warnings",
            ],
        )
    })?;
    util::step("light-client compiles for wasm32", || {
        util::cargo(
            ws,
            &[
                "check",
                "-p",
                "light-client",
                "--target",
                "wasm32-unknown-unknown",
            ],
        )
    })?;
    util::step(
        &format!(
            "compiles for Android ({ANDROID}): {}",
            ANDROID_CRATES.join(", ")
        ),
        || {
            let env = android_c_env();
            let env: Vec<(&str, &OsStr)> = env.iter().map(|(k, v)| (*k, v.as_os_str())).collect();
            for (k, v) in &env {
                println!("    {k}={}", v.to_string_lossy());
            }
            // One crate at a time: each must compile with only its own features enabled.
            for krate in ANDROID_CRATES {
                util::cargo_env(ws, &["check", "-p", krate, "--target", ANDROID], &env)?;
            }
            Ok(())
        },
    )?;
    // A workspace build unifies registry's features (the node enables `chain`), so each side
    // is linted alone: the client side must build without the tree, the test helpers
    // without the chain.
    util::step(
        "registry by side (client, chain, testkit), warnings denied",
        || {
            for features in REGISTRY_FEATURE_SETS {
                let mut args = vec!["clippy", "-p", "registry"];
                if !features.is_empty() {
                    args.extend(["--features", features]);
                }
                args.extend(["--", "-D", "warnings"]);
                util::cargo(ws, &args)?;
            }
            Ok(())
        },
    )?;
    util::step("unit and integration tests", || {
        util::cargo(
            ws,
            &[
                "test",
                "--workspace",
                "--exclude",
                "tradeseal-ui",
                "--exclude",
                "tradeseal-tests",
            ],
        )
    })?;
    build_app(ws, false)?;
    e2e(ws)?;
    println!(
        "\n==> all checks passed in {:.0?}",
        std::time::Duration::from_secs(started.elapsed().as_secs())
    );
    Ok(())
}

/// The feature sets of `registry` linted one by one: the client side alone (what the wallet
/// builds), the chain side, the test helpers without the chain.
const REGISTRY_FEATURE_SETS: [&str; 3] = ["", "chain", "testkit"];

/// The Android target the app, its light node and its core are type-checked for.
const ANDROID: &str = "aarch64-linux-android";
/// What must compile for Android: the core alone, the light node and the wallet services, and
/// the app on top of them.
const ANDROID_CRATES: &[&str] = &[
    "light-client",
    "light-node",
    "tradeseal-wallet",
    "tradeseal-app",
];

/// The C toolchain for the Android check. Build scripts compile C even under `cargo check`
/// (SQLite's amalgamation in `libsqlite3-sys`, ring's C and assembly for rustls), and for an
/// Android target they look for the NDK's `aarch64-linux-android-clang`. Without the NDK, the
/// check uses Debian's aarch64 cross compiler (`gcc-aarch64-linux-gnu`, installed by setup):
/// the C is compiled for the right architecture against glibc's headers instead of Bionic's,
/// and nothing is linked, so this proves that the code compiles for Android, not that it
/// links or runs there; a real Android build uses the NDK. Variables already set (pointing at
/// an NDK) are kept, and so is an NDK clang found on the `PATH`.
fn android_c_env() -> Vec<(&'static str, OsString)> {
    let ndk_clang = util::output("aarch64-linux-android-clang", &["--version"]).is_some();
    android_c_env_given(ndk_clang, |k| std::env::var_os(k).is_some())
}

fn android_c_env_given(
    ndk_clang: bool,
    is_set: impl Fn(&str) -> bool,
) -> Vec<(&'static str, OsString)> {
    if ndk_clang {
        return Vec::new();
    }
    [
        ("CC_aarch64_linux_android", "aarch64-linux-gnu-gcc"),
        ("AR_aarch64_linux_android", "aarch64-linux-gnu-ar"),
    ]
    .into_iter()
    .filter(|(k, _)| !is_set(k))
    .map(|(k, v)| (k, OsString::from(v)))
    .collect()
}

fn tidy(ws: &util::Workspace) -> Result<()> {
    util::step(
        "tidy: `//!` lines, the code map, pure crates (cargo xtask tidy)",
        || tidy::run(ws),
    )
}

fn build_app(ws: &util::Workspace, release: bool) -> Result<()> {
    let mut args = vec!["build", "-p", "tradeseal-app", "--bin", "tradeseal"];
    if release {
        args.push("--release");
    }
    util::step("build the app binary", || util::cargo(ws, &args))?;
    println!("    binary: {}", ws.app_binary(release).display());
    Ok(())
}

/// The end-to-end test starts its own Xvfb and tauri-driver; it needs the app's path.
fn e2e(ws: &util::Workspace) -> Result<()> {
    let artifacts = ws.root.join("artifacts").join("e2e");
    std::fs::create_dir_all(&artifacts)?;
    util::step(
        "end-to-end test (real app, WebView driven by tauri-driver)",
        || {
            util::cargo_env(
                ws,
                &[
                    "test",
                    "-p",
                    "tradeseal-tests",
                    "--",
                    "--nocapture",
                    "--test-threads=1",
                ],
                &[
                    ("TRADESEAL_APP", ws.app_binary(false).as_os_str()),
                    ("TRADESEAL_ARTIFACTS", artifacts.as_os_str()),
                ],
            )
        },
    )?;
    println!("    screenshots: {}", artifacts.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn android_c_env_uses_the_cross_gcc_only_without_an_ndk() {
        let names = |env: Vec<(&str, OsString)>| -> Vec<String> {
            env.iter()
                .map(|(k, v)| format!("{k}={}", v.to_string_lossy()))
                .collect()
        };
        assert_eq!(
            names(android_c_env_given(false, |_| false)),
            [
                "CC_aarch64_linux_android=aarch64-linux-gnu-gcc",
                "AR_aarch64_linux_android=aarch64-linux-gnu-ar"
            ]
        );
        assert_eq!(
            names(android_c_env_given(false, |k| k.starts_with("CC_"))),
            ["AR_aarch64_linux_android=aarch64-linux-gnu-ar"]
        );
        assert!(android_c_env_given(true, |_| false).is_empty());
    }
}

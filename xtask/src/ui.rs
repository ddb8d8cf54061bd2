//! Build the UI: compile it to wasm32, generate its JS bindings with wasm-bindgen (as a library,
//! pinned to the same version as the UI's wasm-bindgen, so no separate CLI is needed), and copy
//! the static files into `ui/dist`, which the app embeds.

use std::path::Path;

use anyhow::{Context, Result};

use crate::util::{self, Workspace};

pub fn build(ws: &Workspace) -> Result<()> {
    util::step("build the UI (Leptos → wasm32)", || {
        util::cargo(
            ws,
            &[
                "build",
                "-p",
                "tradeseal-ui",
                "--target",
                "wasm32-unknown-unknown",
                "--release",
            ],
        )
    })?;
    let wasm = ws
        .target
        .join("wasm32-unknown-unknown/release/tradeseal-ui.wasm");
    let dist = ws.root.join("ui/dist");
    util::step("generate JS bindings and assemble ui/dist", || {
        // Build next to dist, then swap, so a failed build never leaves a half-written dist.
        let staging = ws.root.join("ui/dist.new");
        if staging.exists() {
            std::fs::remove_dir_all(&staging)?;
        }
        std::fs::create_dir_all(&staging)?;
        wasm_bindgen_cli_support::Bindgen::new()
            .input_path(&wasm)
            .web(true)?
            .typescript(false)
            .omit_default_module_path(false)
            .out_name("tradeseal_ui")
            .generate(&staging)
            .with_context(|| format!("wasm-bindgen on {}", wasm.display()))?;
        copy_dir(&ws.root.join("ui/static"), &staging)?;
        std::fs::copy(
            ws.root.join("assets/icons/128x128.png"),
            staging.join("icon.png"),
        )?;
        if dist.exists() {
            std::fs::remove_dir_all(&dist)?;
        }
        std::fs::rename(&staging, &dist)?;
        let size = std::fs::metadata(dist.join("tradeseal_ui_bg.wasm"))?.len();
        println!("    ui/dist ready (wasm {} KiB)", size / 1024);
        Ok(())
    })
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    for entry in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        std::fs::copy(entry.path(), to.join(entry.file_name()))?;
    }
    Ok(())
}

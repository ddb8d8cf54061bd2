//! Build script: checks the UI has been built, and generates the permissions for exactly the
//! app's own commands (the capability file grants them; nothing else is allowed).

fn main() {
    let dist = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/dist/index.html");
    println!("cargo:rerun-if-changed={}", dist.display());
    if !dist.exists() {
        panic!(
            "the UI is not built ({} is missing): run `cargo xtask ui` first \
             (`cargo xtask dev` and `cargo xtask test` do it for you)",
            dist.display()
        );
    }
    let manifest = tauri_build::AppManifest::new().commands(tradeseal_api::COMMANDS);
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest))
        .expect("tauri-build failed");
}

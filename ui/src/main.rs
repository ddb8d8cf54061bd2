//! Tradeseal UI entry point: mounts the app into the page (compiled to wasm32).

mod alerts;
mod app;
mod backend;
mod camera;
mod describe;
mod files;
mod i18n;
mod pages;
mod status_bar;
mod verdict;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}

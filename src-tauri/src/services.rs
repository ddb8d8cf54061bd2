//! The app's services, held in Tauri's managed state. They know nothing of Tauri, so they are
//! tested directly and shared with the CLI later.

mod settings;
mod status;

use std::path::Path;

use tradeseal_api::AppInfo;

pub use settings::SettingsStore;
use status::chain_config_path;
pub use status::StatusService;

/// Every service the commands reach.
#[derive(Debug)]
pub struct Services {
    pub settings: SettingsStore,
    pub status: StatusService,
}

impl Services {
    /// Open the services on the app's configuration directory (created if missing).
    pub fn open(config_dir: &Path) -> Result<Self, std::io::Error> {
        std::fs::create_dir_all(config_dir)?;
        Ok(Self {
            settings: SettingsStore::open(config_dir.join("settings.json")),
            status: StatusService::load(Some(&chain_config_path(config_dir))),
        })
    }
}

/// The app's name, version and platform.
pub fn app_info() -> AppInfo {
    AppInfo {
        name: "Tradeseal".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        platform: std::env::consts::OS.to_owned(),
    }
}

//! Tradeseal app: the Tauri builder, the services held in managed state, and the commands the
//! UI calls (each one line into a service).

mod commands;
mod services;

use tauri::Manager;

pub use services::{Services, SettingsStore, StatusService};

/// Start the app (desktop `main` and the mobile entry point).
#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    builder(tauri::Builder::default())
        .run(tauri::generate_context!())
        .expect("the app failed to start");
}

/// Wire services and commands into a builder; tests may pass their own builder.
pub fn builder<R: tauri::Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder
        .setup(|app| {
            let config_dir = app.path().app_config_dir()?;
            app.manage(Services::open(&config_dir)?);
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::node_status,
            commands::settings_get,
            commands::settings_set,
        ])
}

#[cfg(test)]
mod tests {
    /// The capability file grants exactly the commands of the API table: one permission each,
    /// and nothing else (no core or plugin permissions).
    #[test]
    fn capability_grants_exactly_the_api_commands() {
        let text = include_str!("../capabilities/main.json");
        let cap: serde_json::Value = serde_json::from_str(text).unwrap();
        let mut granted: Vec<String> = cap["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap().to_owned())
            .collect();
        granted.sort();
        let mut expected: Vec<String> = tradeseal_api::COMMANDS
            .iter()
            .map(|c| format!("allow-{}", c.replace('_', "-")))
            .collect();
        expected.sort();
        assert_eq!(granted, expected);
    }
}

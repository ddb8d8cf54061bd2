//! Tauri commands: each is one line into a service. Names match `tradeseal_api::COMMANDS`.

use tauri::State;
use tradeseal_api::{ApiError, AppInfo, NodeStatus, Settings};

use crate::Services;

#[tauri::command]
pub fn app_info() -> AppInfo {
    crate::services::app_info()
}

#[tauri::command]
pub fn node_status(services: State<'_, Services>) -> NodeStatus {
    services.status.status()
}

#[tauri::command]
pub fn settings_get(services: State<'_, Services>) -> Settings {
    services.settings.get()
}

#[tauri::command]
pub fn settings_set(
    services: State<'_, Services>,
    request: Settings,
) -> Result<Settings, ApiError> {
    services.settings.set(request)
}

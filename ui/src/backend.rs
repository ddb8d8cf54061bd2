//! The only door to the backend: one typed async function per command, over Tauri's `invoke`.

use serde::Serialize;
use tradeseal_api::{
    ApiError, AppInfo, AppInfoCmd, Command, ErrorCode, NodeStatus, NodeStatusCmd, Settings,
    SettingsGetCmd, SettingsSetCmd,
};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// `window.__TAURI__.core.invoke`; throws (caught) when the page runs outside the app.
    #[wasm_bindgen(catch, js_namespace = ["window", "__TAURI__", "core"], js_name = invoke)]
    async fn tauri_invoke(cmd: &str, args: JsValue) -> Result<JsValue, JsValue>;
}

#[derive(Serialize)]
struct Args<'a, T> {
    request: &'a T,
}

/// Call a command with its typed request and decode its typed answer.
async fn call<C: Command>(request: &C::Request) -> Result<C::Response, ApiError> {
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    let args = Args { request }
        .serialize(&serializer)
        .map_err(|e| ApiError::new(ErrorCode::Internal, format!("encoding request: {e}")))?;
    match tauri_invoke(C::NAME, args).await {
        Ok(value) => serde_wasm_bindgen::from_value(value).map_err(|e| {
            ApiError::new(
                ErrorCode::Internal,
                format!("unexpected answer to {}: {e}", C::NAME),
            )
        }),
        Err(err) => Err(decode_error(err)),
    }
}

/// The backend rejects with an `ApiError`; Tauri itself rejects with a string (unknown command,
/// denied permission); outside the app the call throws a JS error.
fn decode_error(err: JsValue) -> ApiError {
    if let Ok(api) = serde_wasm_bindgen::from_value::<ApiError>(err.clone()) {
        return api;
    }
    if let Some(text) = err.as_string() {
        return ApiError::new(ErrorCode::Internal, text);
    }
    ApiError::new(
        ErrorCode::Unavailable,
        "the app backend is not reachable from this page",
    )
}

pub async fn app_info() -> Result<AppInfo, ApiError> {
    call::<AppInfoCmd>(&()).await
}

pub async fn node_status() -> Result<NodeStatus, ApiError> {
    call::<NodeStatusCmd>(&()).await
}

pub async fn settings_get() -> Result<Settings, ApiError> {
    call::<SettingsGetCmd>(&()).await
}

pub async fn settings_set(settings: &Settings) -> Result<Settings, ApiError> {
    call::<SettingsSetCmd>(settings).await
}

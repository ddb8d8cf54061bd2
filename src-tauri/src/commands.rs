//! Tauri commands: each is one line into the wallet. Every signature is written from the
//! command table (`<C as Command>::Request` / `::Response`), so a type changed in `api`
//! breaks the build here; names match `tradeseal_api::COMMANDS` (a test checks it).

use tauri::State;
use tradeseal_api::{
    ApiError, AppInfoCmd, ChainImportCmd, ChainPreviewCmd, Command, HistoryExportCmd,
    HistoryListCmd, NodeAddCmd, NodeRemoveCmd, NodeStatusCmd, SettingsGetCmd, SettingsSetCmd,
    VerifyCmd,
};
use tradeseal_wallet::Wallet;

use crate::error::to_api;

type Answer<C> = Result<<C as Command>::Response, ApiError>;
type Request<C> = <C as Command>::Request;

#[tauri::command]
pub fn app_info() -> Answer<AppInfoCmd> {
    Ok(tradeseal_wallet::app_info())
}

#[tauri::command]
pub fn node_status(wallet: State<'_, Wallet>) -> Answer<NodeStatusCmd> {
    Ok(wallet.node_status())
}

#[tauri::command]
pub fn settings_get(wallet: State<'_, Wallet>) -> Answer<SettingsGetCmd> {
    Ok(wallet.settings.get())
}

#[tauri::command]
pub fn settings_set(
    wallet: State<'_, Wallet>,
    request: Request<SettingsSetCmd>,
) -> Answer<SettingsSetCmd> {
    wallet.settings.set(request).map_err(to_api)
}

#[tauri::command]
pub fn chain_preview(
    wallet: State<'_, Wallet>,
    request: Request<ChainPreviewCmd>,
) -> Answer<ChainPreviewCmd> {
    wallet.chain_preview(&request).map_err(to_api)
}

#[tauri::command]
pub async fn chain_import(
    wallet: State<'_, Wallet>,
    request: Request<ChainImportCmd>,
) -> Answer<ChainImportCmd> {
    wallet
        .chain_import(&request.text, request.confirm_replace)
        .await
        .map_err(to_api)
}

#[tauri::command]
pub async fn node_add(
    wallet: State<'_, Wallet>,
    request: Request<NodeAddCmd>,
) -> Answer<NodeAddCmd> {
    wallet
        .node_add(&request.url, request.primary)
        .await
        .map_err(to_api)
}

#[tauri::command]
pub async fn node_remove(
    wallet: State<'_, Wallet>,
    request: Request<NodeRemoveCmd>,
) -> Answer<NodeRemoveCmd> {
    wallet.node_remove(&request.url).await.map_err(to_api)
}

#[tauri::command]
pub async fn verify(wallet: State<'_, Wallet>, request: Request<VerifyCmd>) -> Answer<VerifyCmd> {
    wallet.verify(&request).await.map_err(to_api)
}

#[tauri::command]
pub async fn history_list(
    wallet: State<'_, Wallet>,
    request: Request<HistoryListCmd>,
) -> Answer<HistoryListCmd> {
    wallet.history_list(&request).await.map_err(to_api)
}

#[tauri::command]
pub async fn history_export(
    wallet: State<'_, Wallet>,
    request: Request<HistoryExportCmd>,
) -> Answer<HistoryExportCmd> {
    wallet
        .history()
        .export(&request.query, &request.format)
        .await
        .map_err(to_api)
}

//! Tauri commands: each is one line into the wallet. Every signature is written from the
//! command table (`<C as Command>::Request` / `::Response`), so a type changed in `api`
//! breaks the build here; names match `tradeseal_api::COMMANDS` (a test checks it).

use tauri::State;
use tradeseal_api::{
    ApiError, AppInfoCmd, ChainImportCmd, ChainPreviewCmd, Command, HistoryExportCmd,
    HistoryListCmd, NodeAddCmd, NodeRemoveCmd, NodeStatusCmd, ScanFrameCmd, SettingsGetCmd,
    SettingsSetCmd, VerifyCmd,
};
use tradeseal_api::{
    AuditExportCmd, KeyCreateCmd, KeyDeleteCmd, KeyImportCmd, KeyImportDevCmd, KeysListCmd,
    OutboxDiscardCmd, OutboxListCmd, OutboxRetryCmd, OutboxSubmitCmd, SignConfirmCmd,
    SignPrepareCmd,
};
use tradeseal_api::{IssueFilesCmd, IssuePrepareCmd};
use tradeseal_api::{OfflineRecheckCmd, OfflineStatusCmd, OfflineSyncCmd};
use tradeseal_wallet::signing::SigningService;
use tradeseal_wallet::Wallet;

use crate::error::{sign_to_api, to_api};

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
        .export(&request.query, request.format)
        .await
        .map_err(to_api)
}

#[tauri::command]
pub async fn scan_frame(request: Request<ScanFrameCmd>) -> Answer<ScanFrameCmd> {
    tradeseal_wallet::verify::scan_frame_async(request)
        .await
        .map_err(to_api)
}

#[tauri::command]
pub async fn keys_list(signer: State<'_, SigningService>) -> Answer<KeysListCmd> {
    signer.keys().await.map_err(sign_to_api)
}

#[tauri::command]
pub async fn key_create(
    signer: State<'_, SigningService>,
    request: Request<KeyCreateCmd>,
) -> Answer<KeyCreateCmd> {
    signer.key_create(&request).await.map_err(sign_to_api)
}

#[tauri::command]
pub async fn key_import(
    signer: State<'_, SigningService>,
    request: Request<KeyImportCmd>,
) -> Answer<KeyImportCmd> {
    signer.key_import(&request).await.map_err(sign_to_api)
}

#[tauri::command]
pub async fn key_import_dev(
    signer: State<'_, SigningService>,
    request: Request<KeyImportDevCmd>,
) -> Answer<KeyImportDevCmd> {
    signer.key_import_dev(&request).await.map_err(sign_to_api)
}

#[tauri::command]
pub async fn key_delete(
    signer: State<'_, SigningService>,
    request: Request<KeyDeleteCmd>,
) -> Answer<KeyDeleteCmd> {
    signer.key_delete(&request).await.map_err(sign_to_api)
}

#[tauri::command]
pub async fn sign_prepare(
    wallet: State<'_, Wallet>,
    signer: State<'_, SigningService>,
    request: Request<SignPrepareCmd>,
) -> Answer<SignPrepareCmd> {
    signer.prepare(&wallet, &request).await.map_err(sign_to_api)
}

#[tauri::command]
pub async fn sign_confirm(
    wallet: State<'_, Wallet>,
    signer: State<'_, SigningService>,
    request: Request<SignConfirmCmd>,
) -> Answer<SignConfirmCmd> {
    signer.confirm(&wallet, &request).await.map_err(sign_to_api)
}

#[tauri::command]
pub async fn outbox_list(signer: State<'_, SigningService>) -> Answer<OutboxListCmd> {
    signer.outbox_list().await.map_err(sign_to_api)
}

#[tauri::command]
pub async fn outbox_submit(
    wallet: State<'_, Wallet>,
    signer: State<'_, SigningService>,
) -> Answer<OutboxSubmitCmd> {
    signer.outbox_submit(&wallet).await.map_err(sign_to_api)
}

#[tauri::command]
pub async fn outbox_retry(
    signer: State<'_, SigningService>,
    request: Request<OutboxRetryCmd>,
) -> Answer<OutboxRetryCmd> {
    signer.outbox_retry(request.id).await.map_err(sign_to_api)
}

#[tauri::command]
pub async fn outbox_discard(
    signer: State<'_, SigningService>,
    request: Request<OutboxDiscardCmd>,
) -> Answer<OutboxDiscardCmd> {
    signer
        .outbox_discard(request.id, request.confirm)
        .await
        .map_err(sign_to_api)
}

#[tauri::command]
pub async fn audit_export(
    signer: State<'_, SigningService>,
    request: Request<AuditExportCmd>,
) -> Answer<AuditExportCmd> {
    signer.audit_export(request).await.map_err(sign_to_api)
}

#[tauri::command]
pub async fn issue_prepare(
    wallet: State<'_, Wallet>,
    signer: State<'_, SigningService>,
    request: Request<IssuePrepareCmd>,
) -> Answer<IssuePrepareCmd> {
    signer
        .issue_prepare(&wallet, &request)
        .await
        .map_err(sign_to_api)
}

#[tauri::command]
pub async fn issue_files(
    signer: State<'_, SigningService>,
    request: Request<IssueFilesCmd>,
) -> Answer<IssueFilesCmd> {
    signer.issue_files(&request).await.map_err(sign_to_api)
}

#[tauri::command]
pub async fn offline_status(wallet: State<'_, Wallet>) -> Answer<OfflineStatusCmd> {
    wallet.offline_status().await.map_err(to_api)
}

#[tauri::command]
pub async fn offline_sync(
    wallet: State<'_, Wallet>,
    signer: State<'_, SigningService>,
) -> Answer<OfflineSyncCmd> {
    signer.offline_sync(&wallet).await.map_err(sign_to_api)
}

#[tauri::command]
pub async fn offline_recheck(
    wallet: State<'_, Wallet>,
    signer: State<'_, SigningService>,
) -> Answer<OfflineRecheckCmd> {
    signer.offline_recheck(&wallet).await.map_err(sign_to_api)
}

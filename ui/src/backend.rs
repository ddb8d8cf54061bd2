//! The only door to the backend: one typed async function per command over Tauri's `invoke`,
//! and typed event subscriptions over Tauri's `listen`. Nothing else in the UI touches
//! `window.__TAURI__`.

use serde::{de::DeserializeOwned, Serialize};
use tradeseal_api::{
    ApiError, AppInfo, AppInfoCmd, ChainImport, ChainImportCmd, ChainPreview, ChainPreviewCmd,
    Command, ErrorCode, Event, Frame, HistoryExport, HistoryExportCmd, HistoryListCmd,
    HistoryQuery, NodeAddCmd, NodeEdit, NodeRemoveCmd, NodeStatus, NodeStatusCmd, ScanFrameCmd,
    Settings, SettingsGetCmd, SettingsSetCmd, VerifyCmd, VerifyReport, VerifyRequest,
};
use wasm_bindgen::prelude::*;

// Both return a promise, and throw (caught) when the page runs outside the app. They are not
// declared `async`: wasm-bindgen's async imports do not survive a synchronous throw.
#[wasm_bindgen]
extern "C" {
    /// `window.__TAURI__.core.invoke`.
    #[wasm_bindgen(catch, js_namespace = ["window", "__TAURI__", "core"], js_name = invoke)]
    fn tauri_invoke(cmd: &str, args: JsValue) -> Result<js_sys::Promise, JsValue>;

    /// `window.__TAURI__.event.listen`: resolves to the function that stops listening.
    #[wasm_bindgen(catch, js_namespace = ["window", "__TAURI__", "event"], js_name = listen)]
    fn tauri_listen(
        event: &str,
        handler: &Closure<dyn FnMut(JsValue)>,
    ) -> Result<js_sys::Promise, JsValue>;
}

/// Wait for a promise that a Tauri call gave (or the error it threw at once).
async fn settle(promise: Result<js_sys::Promise, JsValue>) -> Result<JsValue, JsValue> {
    wasm_bindgen_futures::JsFuture::from(promise?).await
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
    match settle(tauri_invoke(C::NAME, args)).await {
        Ok(value) => decode(value, C::NAME),
        Err(err) => Err(decode_error(err)),
    }
}

fn decode<T: DeserializeOwned>(value: JsValue, what: &str) -> Result<T, ApiError> {
    serde_wasm_bindgen::from_value(value).map_err(|e| {
        ApiError::new(
            ErrorCode::Internal,
            format!("unexpected answer to {what}: {e}"),
        )
    })
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

/// What a chain config (file content or pasted text) would trust; changes nothing.
pub async fn chain_preview(text: &str) -> Result<ChainPreview, ApiError> {
    call::<ChainPreviewCmd>(&text.to_owned()).await
}

pub async fn chain_import(import: &ChainImport) -> Result<NodeStatus, ApiError> {
    call::<ChainImportCmd>(import).await
}

pub async fn node_add(edit: &NodeEdit) -> Result<NodeStatus, ApiError> {
    call::<NodeAddCmd>(edit).await
}

pub async fn node_remove(edit: &NodeEdit) -> Result<NodeStatus, ApiError> {
    call::<NodeRemoveCmd>(edit).await
}

/// Verifies a certificate; the report is kept in the history.
pub async fn verify(request: &VerifyRequest) -> Result<VerifyReport, ApiError> {
    call::<VerifyCmd>(request).await
}

/// The QR codes' texts in one camera frame.
pub async fn scan_frame(frame: &Frame) -> Result<Vec<String>, ApiError> {
    call::<ScanFrameCmd>(frame).await
}

/// The history, filtered, newest first.
pub async fn history_list(query: &HistoryQuery) -> Result<Vec<VerifyReport>, ApiError> {
    call::<HistoryListCmd>(query).await
}

/// The history as CSV or JSON text.
pub async fn history_export(export: &HistoryExport) -> Result<String, ApiError> {
    call::<HistoryExportCmd>(export).await
}

/// The signing keys.
pub async fn keys_list() -> Result<Vec<tradeseal_api::KeyView>, ApiError> {
    call::<tradeseal_api::KeysListCmd>(&()).await
}

/// Signs the transaction of a confirmed review, queues it and submits it once.
pub async fn sign_confirm(
    confirm: &tradeseal_api::SignConfirm,
) -> Result<tradeseal_api::OutboxItem, ApiError> {
    call::<tradeseal_api::SignConfirmCmd>(confirm).await
}

/// One submission pass of the outbox (confirming by proof what is in a block).
pub async fn outbox_submit() -> Result<Vec<tradeseal_api::OutboxItem>, ApiError> {
    call::<tradeseal_api::OutboxSubmitCmd>(&()).await
}

/// Creates a key; its backup words come back once.
pub async fn key_create(
    request: &tradeseal_api::KeyCreate,
) -> Result<tradeseal_api::KeyCreated, ApiError> {
    call::<tradeseal_api::KeyCreateCmd>(request).await
}

/// Imports a key from its backup words.
pub async fn key_import(
    request: &tradeseal_api::KeyImport,
) -> Result<tradeseal_api::KeyView, ApiError> {
    call::<tradeseal_api::KeyImportCmd>(request).await
}

/// Imports a development network's keys (its dev-keys.json text).
pub async fn key_import_dev(
    request: &tradeseal_api::KeyImportDev,
) -> Result<Vec<tradeseal_api::KeyView>, ApiError> {
    call::<tradeseal_api::KeyImportDevCmd>(request).await
}

/// Deletes a key (confirmed).
pub async fn key_delete(
    request: &tradeseal_api::KeyDelete,
) -> Result<tradeseal_api::KeyView, ApiError> {
    call::<tradeseal_api::KeyDeleteCmd>(request).await
}

/// Checks a signing form against the proven chain state; answers its review. Signs nothing.
pub async fn sign_prepare(
    request: &tradeseal_api::SignPrepare,
) -> Result<tradeseal_api::SignReview, ApiError> {
    call::<tradeseal_api::SignPrepareCmd>(request).await
}

/// The outbox, oldest first.
pub async fn outbox_list() -> Result<Vec<tradeseal_api::OutboxItem>, ApiError> {
    call::<tradeseal_api::OutboxListCmd>(&()).await
}

/// Puts a failed transaction back in the queue.
pub async fn outbox_retry(id: i64) -> Result<tradeseal_api::OutboxItem, ApiError> {
    call::<tradeseal_api::OutboxRetryCmd>(&tradeseal_api::OutboxAction { id, confirm: false }).await
}

/// Removes a failed transaction (confirmed).
pub async fn outbox_discard(id: i64) -> Result<tradeseal_api::OutboxItem, ApiError> {
    call::<tradeseal_api::OutboxDiscardCmd>(&tradeseal_api::OutboxAction { id, confirm: true })
        .await
}

/// The audit log of every signature, as JSON or CSV text.
pub async fn audit_export(format: tradeseal_api::ExportFormat) -> Result<String, ApiError> {
    call::<tradeseal_api::AuditExportCmd>(&format).await
}

/// Checks an issuer's certificate form; answers the review of its registration.
pub async fn issue_prepare(
    request: &tradeseal_api::IssuePrepare,
) -> Result<tradeseal_api::SignReview, ApiError> {
    call::<tradeseal_api::IssuePrepareCmd>(request).await
}

/// The QR code and printable PDF of the certificate an outbox entry registers.
pub async fn issue_files(outbox_id: i64) -> Result<tradeseal_api::IssuedFiles, ApiError> {
    call::<tradeseal_api::IssueFilesCmd>(&tradeseal_api::IssueFiles { outbox_id }).await
}

/// How fresh the offline knowledge is; `None` before the first sync.
pub async fn offline_status() -> Result<Option<tradeseal_api::OfflineStatus>, ApiError> {
    call::<tradeseal_api::OfflineStatusCmd>(&()).await
}

/// Syncs the offline knowledge now (and the keys' sequences for signing offline).
pub async fn offline_sync() -> Result<tradeseal_api::OfflineSync, ApiError> {
    call::<tradeseal_api::OfflineSyncCmd>(&()).await
}

/// Checks the offline verdicts of the history again online; answers those checked.
pub async fn offline_recheck() -> Result<Vec<VerifyReport>, ApiError> {
    call::<tradeseal_api::OfflineRecheckCmd>(&()).await
}

/// A live event subscription; dropping it stops listening.
#[derive(Debug)]
pub struct Subscription {
    unlisten: Option<js_sys::Function>,
    // Kept alive for as long as Tauri may call it.
    _handler: Closure<dyn FnMut(JsValue)>,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(unlisten) = self.unlisten.take() {
            let _ = unlisten.call0(&JsValue::NULL);
        }
    }
}

/// Listen to the backend's event `E`: `callback` gets each payload, decoded (or why it could
/// not be). Fails when the page cannot listen (outside the app, or the permission is missing).
pub async fn listen<E: Event>(
    mut callback: impl FnMut(Result<E::Payload, ApiError>) + 'static,
) -> Result<Subscription, ApiError>
where
    E::Payload: 'static,
{
    let handler = Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
        let payload = js_sys::Reflect::get(&event, &JsValue::from_str("payload"))
            .map_err(|_| ApiError::new(ErrorCode::Internal, "an event without a payload"))
            .and_then(|payload| decode(payload, E::NAME));
        callback(payload);
    });
    let unlisten = settle(tauri_listen(E::NAME, &handler))
        .await
        .map_err(decode_error)?;
    Ok(Subscription {
        unlisten: unlisten.dyn_into::<js_sys::Function>().ok(),
        _handler: handler,
    })
}

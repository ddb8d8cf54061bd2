//! Tradeseal app: the Tauri builder, the wallet held in managed state, the commands the UI
//! calls (each one line into the wallet), the wallet's status forwarded to the UI as
//! events, and the wallet's background rounds of offline upkeep (each reported as an event).

mod commands;
mod error;

use tauri::{Emitter, Manager};
use tradeseal_api::{Event, NodeStatusEvent, OfflineEvent};
use tradeseal_wallet::signing::SigningService;
use tradeseal_wallet::{Wallet, WalletConfig};

/// Start the app (desktop `main` and the mobile entry point).
#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    builder(tauri::Builder::default())
        .run(tauri::generate_context!())
        .expect("the app failed to start");
}

/// Wire the wallet, its events and the commands into a builder; tests may pass their own.
pub fn builder<R: tauri::Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder
        // The Verify page's scanner asks for the camera; nothing else is granted.
        .on_permission_request(|_, kind| match kind {
            tauri::webview::PermissionKind::Camera => tauri::webview::PermissionResponse::Allow,
            _ => tauri::webview::PermissionResponse::Deny,
        })
        .setup(|app| {
            let paths = app.path();
            let config = WalletConfig::new(paths.app_config_dir()?, paths.app_data_dir()?);
            let wallet = tauri::async_runtime::block_on(async {
                let wallet = Wallet::open(config).await?;
                wallet.start_node(true).await?;
                Ok::<_, tradeseal_wallet::WalletError>(wallet)
            })?;
            forward_status(app.handle().clone(), &wallet);
            let data_dir = paths.app_data_dir()?;
            let signer = tauri::async_runtime::block_on(SigningService::open(&data_dir))
                .map_err(|e| format!("opening the keystore: {e}"))?;
            app.manage(wallet);
            app.manage(signer);
            follow_offline(app.handle().clone());
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::node_status,
            commands::settings_get,
            commands::settings_set,
            commands::chain_preview,
            commands::chain_import,
            commands::node_add,
            commands::node_remove,
            commands::verify,
            commands::history_list,
            commands::history_export,
            commands::scan_frame,
            commands::keys_list,
            commands::key_create,
            commands::key_import,
            commands::key_import_dev,
            commands::key_delete,
            commands::sign_prepare,
            commands::sign_confirm,
            commands::outbox_list,
            commands::outbox_submit,
            commands::outbox_retry,
            commands::outbox_discard,
            commands::audit_export,
            commands::issue_prepare,
            commands::issue_files,
            commands::offline_status,
            commands::offline_sync,
            commands::offline_recheck,
        ])
}

/// Every change of the light node's status reaches the UI as a `node-status` event.
fn forward_status<R: tauri::Runtime>(app: tauri::AppHandle<R>, wallet: &Wallet) {
    let mut status = wallet.watch_status();
    tauri::async_runtime::spawn(async move {
        loop {
            let payload: <NodeStatusEvent as Event>::Payload = status.borrow_and_update().clone();
            if let Err(e) = app.emit(NodeStatusEvent::NAME, payload) {
                eprintln!("could not send the node status to the UI: {e}");
            }
            if status.changed().await.is_err() {
                return;
            }
        }
    });
}

/// The wallet's rounds of offline upkeep (while the light node is online: at the start, every
/// 15 minutes and on coming back online), each reaching the UI as an `offline-update` event.
/// A failed round is a warning in the log; the next round tries again.
fn follow_offline<R: tauri::Runtime>(app: tauri::AppHandle<R>) {
    tauri::async_runtime::spawn(async move {
        let wallet = app.state::<Wallet>();
        let signer = app.state::<SigningService>();
        let every = (
            SigningService::OFFLINE_EVERY,
            SigningService::OFFLINE_MIN_GAP,
        );
        signer
            .follow_offline(&wallet, every, error::sign_to_api, |round| {
                let payload: <OfflineEvent as Event>::Payload = round;
                if let Some(e) = &payload.error {
                    eprintln!("warning: keeping the offline data current: {}", e.message);
                }
                if let Err(e) = app.emit(OfflineEvent::NAME, payload) {
                    eprintln!("could not send the offline update to the UI: {e}");
                }
            })
            .await;
    });
}

#[cfg(test)]
mod tests {
    /// The capability file grants exactly the commands of the API table (one permission
    /// each) and, for the events of the API's event table, listening and unlistening.
    #[test]
    fn capability_grants_exactly_the_api_commands_and_event_listening() {
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
        expected.push("core:event:allow-listen".into());
        expected.push("core:event:allow-unlisten".into());
        expected.sort();
        assert_eq!(granted, expected);
    }

    /// The handlers registered are the command table, in order.
    #[test]
    fn registered_handlers_are_the_command_table() {
        let source = include_str!("lib.rs");
        let start = source.find("generate_handler![").unwrap();
        let end = start + source[start..].find(']').unwrap();
        let names: Vec<&str> = source[start..end]
            .split("commands::")
            .skip(1)
            .map(|s| s.trim().trim_end_matches(',').trim())
            .collect();
        assert_eq!(names, tradeseal_api::COMMANDS);
    }
}

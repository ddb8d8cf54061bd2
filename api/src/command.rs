//! The command table: every command the UI may call, with its name, request and response.

use serde::{de::DeserializeOwned, Serialize};

use crate::{
    AppInfo, ChainImport, ChainPreview, Frame, HistoryExport, HistoryQuery, NodeEdit, NodeStatus,
    Settings, VerifyReport, VerifyRequest,
};

/// A command the UI sends to the backend.
///
/// Contract: the backend registers a Tauri command whose function name is [`Command::NAME`] and
/// which takes the request (if it is not `()`) as a parameter named `request`; it answers with
/// `Result<Self::Response, ApiError>`. [`COMMANDS`] lists every name, and the app's capability
/// file grants exactly those.
pub trait Command {
    /// The Tauri command name (snake_case).
    const NAME: &'static str;
    /// What the UI sends, under the argument key `request`.
    type Request: Serialize + DeserializeOwned;
    /// What the backend answers on success.
    type Response: Serialize + DeserializeOwned;
}

macro_rules! commands {
    ($($(#[$doc:meta])* $ty:ident = $name:literal : $req:ty => $resp:ty;)*) => {
        $(
            $(#[$doc])*
            #[derive(Debug, Clone, Copy)]
            pub struct $ty;

            impl Command for $ty {
                const NAME: &'static str = $name;
                type Request = $req;
                type Response = $resp;
            }
        )*

        /// The names of every command, in declaration order.
        pub const COMMANDS: &[&str] = &[$($name),*];
    };
}

commands! {
    /// The app's name, version and platform.
    AppInfoCmd = "app_info": () => AppInfo;
    /// The light node's state, for the status bar and the Network page.
    NodeStatusCmd = "node_status": () => NodeStatus;
    /// The user's settings as stored.
    SettingsGetCmd = "settings_get": () => Settings;
    /// Validate and store new settings; answers what was stored.
    SettingsSetCmd = "settings_set": Settings => Settings;
    /// Read a chain config (file content or QR text) and show what it would trust; changes
    /// nothing.
    ChainPreviewCmd = "chain_preview": String => ChainPreview;
    /// Make a chain config the root of trust (replacing one in use needs `confirm_replace`);
    /// the header store starts afresh.
    ChainImportCmd = "chain_import": ChainImport => NodeStatus;
    /// Add a full node (a witness, or the new primary).
    NodeAddCmd = "node_add": NodeEdit => NodeStatus;
    /// Remove a full node.
    NodeRemoveCmd = "node_remove": NodeEdit => NodeStatus;
    /// Verify a certificate (a scanned payload, an image or PDF, or a serial); the report is
    /// kept in the history.
    VerifyCmd = "verify": VerifyRequest => VerifyReport;
    /// The history of verifications, newest first, filtered.
    HistoryListCmd = "history_list": HistoryQuery => Vec<VerifyReport>;
    /// The history as CSV or JSON text.
    HistoryExportCmd = "history_export": HistoryExport => String;
    /// The QR codes' texts in one camera frame (often none; the next frame is another try).
    ScanFrameCmd = "scan_frame": Frame => Vec<String>;
    /// The signing keys (what the wallet records; never a secret).
    KeysListCmd = "keys_list": () => Vec<crate::KeyView>;
    /// Create a key; its backup words come back once (none for a key made inside a token).
    KeyCreateCmd = "key_create": crate::KeyCreate => crate::KeyCreated;
    /// Import a key from its backup words.
    KeyImportCmd = "key_import": crate::KeyImport => crate::KeyView;
    /// Import a development network's keys (its `dev-keys.json`), into the OS credential
    /// store, labelled `dev/...` and marked as development keys.
    KeyImportDevCmd = "key_import_dev": crate::KeyImportDev => Vec<crate::KeyView>;
    /// Delete a key (needs `confirm`; cannot be undone).
    KeyDeleteCmd = "key_delete": crate::KeyDelete => crate::KeyView;
    /// Check a signing form against the proven chain state; answers the review of exactly
    /// the bytes to sign. Signs nothing.
    SignPrepareCmd = "sign_prepare": crate::SignPrepare => crate::SignReview;
    /// Sign the transaction of a review the user confirmed, queue it in the outbox, submit.
    SignConfirmCmd = "sign_confirm": crate::SignConfirm => crate::OutboxItem;
    /// The outbox, oldest first.
    OutboxListCmd = "outbox_list": () => Vec<crate::OutboxItem>;
    /// Submit what is pending and confirm by proof what is in a block; answers the outbox.
    OutboxSubmitCmd = "outbox_submit": () => Vec<crate::OutboxItem>;
    /// Put a failed transaction back in the queue.
    OutboxRetryCmd = "outbox_retry": crate::OutboxAction => crate::OutboxItem;
    /// Remove a failed transaction (needs `confirm`).
    OutboxDiscardCmd = "outbox_discard": crate::OutboxAction => crate::OutboxItem;
    /// The audit log of every signature as `json` or `csv` text.
    AuditExportCmd = "audit_export": crate::ExportFormat => String;
    /// Check an issuer's certificate form (and its attached document) against the proven
    /// chain state; answers the review of its registration, confirmed with `sign_confirm`.
    IssuePrepareCmd = "issue_prepare": crate::IssuePrepare => crate::SignReview;
    /// The QR code (PNG, SVG, print size) and printable PDF of a certificate signed in the
    /// outbox.
    IssueFilesCmd = "issue_files": crate::IssueFiles => crate::IssuedFiles;
    /// How fresh the offline knowledge on this device is; `None` before the first sync.
    OfflineStatusCmd = "offline_status": () => Option<crate::OfflineStatus>;
    /// Sync the offline knowledge (issuer registry and revocation log, proven) to the newest
    /// verified state, and prove the keystore's keys' last sequences for signing offline.
    OfflineSyncCmd = "offline_sync": () => crate::OfflineSync;
    /// Check every offline verdict of the history again online; answers those checked, each
    /// with its re-check (`changed` when the online verdict differs).
    OfflineRecheckCmd = "offline_recheck": () => Vec<VerifyReport>;
}

/// An event the backend pushes to the UI.
///
/// Contract: the backend emits [`Event::NAME`] with a [`Event::Payload`]; the UI listens with
/// `window.__TAURI__.event.listen`. [`EVENTS`] lists every name.
pub trait Event {
    /// The event name (kebab-case).
    const NAME: &'static str;
    /// What it carries.
    type Payload: Serialize + DeserializeOwned;
}

/// The light node's status changed (sync progress, new header, node health, fork).
#[derive(Debug, Clone, Copy)]
pub struct NodeStatusEvent;

impl Event for NodeStatusEvent {
    const NAME: &'static str = "node-status";
    type Payload = NodeStatus;
}

/// The app's background upkeep of the offline knowledge made a round (synced, re-checked
/// offline verdicts, or failed): pages showing the offline status or the history refresh.
#[derive(Debug, Clone, Copy)]
pub struct OfflineEvent;

impl Event for OfflineEvent {
    const NAME: &'static str = "offline-update";
    type Payload = crate::OfflineUpdate;
}

/// The names of every event.
pub const EVENTS: &[&str] = &[NodeStatusEvent::NAME, OfflineEvent::NAME];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_names_are_unique_snake_case() {
        let mut seen = std::collections::BTreeSet::new();
        for name in COMMANDS {
            assert!(seen.insert(*name), "duplicate command {name}");
            assert!(
                name.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{name} is not snake_case"
            );
        }
        assert_eq!(COMMANDS.len(), 29);
        assert_eq!(NodeStatusCmd::NAME, "node_status");
    }
}

//! Types shared by the UI (wasm) and the app backend (native): one request and one response
//! type per command, the settings and status models, and the one error every command returns.
//!
//! This crate knows neither Tauri nor Leptos. The wire format is serde's JSON; each command is
//! a type implementing [`Command`], so the UI calls `invoke::<NodeStatusCmd>(&())` and the
//! compiler checks the request and response types on both sides.

mod command;
mod error;
mod issuance;
mod settings;
mod signing;
mod status;
mod verify;

pub use command::{
    AppInfoCmd, ChainImportCmd, ChainPreviewCmd, Command, Event, HistoryExportCmd, HistoryListCmd,
    NodeAddCmd, NodeRemoveCmd, NodeStatusCmd, NodeStatusEvent, ScanFrameCmd, SettingsGetCmd,
    SettingsSetCmd, VerifyCmd, COMMANDS, EVENTS,
};
pub use command::{
    AuditExportCmd, KeyCreateCmd, KeyDeleteCmd, KeyImportCmd, KeyImportDevCmd, KeysListCmd,
    OutboxDiscardCmd, OutboxListCmd, OutboxRetryCmd, OutboxSubmitCmd, SignConfirmCmd,
    SignPrepareCmd,
};
pub use command::{IssueFilesCmd, IssuePrepareCmd};
pub use command::{OfflineEvent, OfflineRecheckCmd, OfflineStatusCmd, OfflineSyncCmd};
pub use error::{ApiError, ErrorCode};
pub use issuance::{IssueFiles, IssuePrepare, IssuedFiles, PrintSizeView};
pub use settings::{Language, Settings, Theme, DEFAULT_OFFLINE_WARN_AFTER_HOURS};
pub use signing::{
    KeyBackendChoice, KeyCreate, KeyCreated, KeyDelete, KeyImport, KeyImportDev, KeyView,
    OutboxAction, OutboxItem, ReviewLine, SignConfirm, SignPrepare, SignReview, TokenChoice,
};
pub use status::{
    AppInfo, ChainImport, ChainPreview, ChainSummary, ForkReport, NodeEdit, NodeHealth, NodeReport,
    NodeState, NodeStatus, TrustedHead,
};
pub use verify::{
    CannotVerify, CertificateView, Evidence, ExportFormat, Facts, FileData, Frame, Freshness,
    HistoryExport, HistoryQuery, IssuerStanding, IssuerView, Mismatch, Mode, NotOurs,
    OfflineStatus, OfflineSync, OfflineUpdate, Origin, ProofStatus, Recheck, RecordView,
    RevocationFacts, RevocationView, Source, Unregistrable, Verdict, VerifyInput, VerifyReport,
    VerifyRequest,
};

//! The signing service as the app holds it: the keystore, the outbox and the transactions
//! prepared and awaiting the user's confirmation, behind calls that take and answer the
//! `api` crate's models (the app's commands are one line each into it). It also keeps the
//! offline knowledge current for the app (an offline sync proves the keystore's keys' last
//! sequences too): on demand, and in rounds while the light node is online.

use std::sync::Mutex;
use std::time::Duration;

use tradeseal_api::{
    ApiError, KeyBackendChoice, KeyCreate, KeyCreated, KeyDelete, KeyImport, KeyImportDev, KeyView,
    NodeState, OfflineSync, OfflineUpdate, OutboxItem, ReviewLine, SignConfirm, SignPrepare,
    SignReview, VerifyReport,
};
use zeroize::Zeroizing;

use super::{prepare, sign, Confirmation, Form, Prepared, SignError};
use crate::audit::ExportFormat;
use crate::keystore::{BackendChoice, KeyInfo, Keystore, KeystoreError, Locator, Pin};
use crate::outbox::{Outbox, OutboxEntry};
use crate::Wallet;

/// Prepared transactions are forgotten after this many (the oldest first).
const MAX_PREPARED: usize = 16;

/// The keystore, the outbox and the reviews awaiting confirmation.
#[derive(Debug)]
pub struct SigningService {
    keystore: Keystore,
    outbox: Outbox,
    prepared: Mutex<Vec<Prepared>>,
    /// One offline sync or re-check at a time (the user's and the background rounds).
    offline: tokio::sync::Mutex<()>,
}

fn choice(c: &KeyBackendChoice) -> Result<BackendChoice, KeystoreError> {
    match c {
        KeyBackendChoice::Keyring => Ok(BackendChoice::Keyring),
        #[cfg(not(any(target_os = "android", target_os = "ios")))]
        KeyBackendChoice::Pkcs11 { token } => {
            Ok(BackendChoice::Pkcs11(crate::keystore::TokenConfig {
                library: token.library.clone().into(),
                slot: token.slot,
                token_label: token.label.clone(),
            }))
        }
        #[cfg(any(target_os = "android", target_os = "ios"))]
        KeyBackendChoice::Pkcs11 { .. } => Err(KeystoreError::Unsupported(
            "PKCS#11 tokens are not available on this platform".into(),
        )),
    }
}

fn pin(p: &Option<String>) -> Option<Pin> {
    p.as_ref().map(|p| Pin::new(p.clone()))
}

/// A key as the Keys page shows it.
pub fn key_view(k: &KeyInfo) -> KeyView {
    KeyView {
        label: k.label.clone(),
        public_key: k.public_key.clone(),
        backend: k.backend.as_str().to_owned(),
        origin: k.origin.as_str().to_owned(),
        development: k.is_development(),
        protection: k.protection.clone(),
        created_at: k.created_at,
        token: match &k.locator {
            Locator::Pkcs11 {
                library,
                token_label,
                ..
            } => Some((library.display().to_string(), token_label.clone())),
            Locator::Keyring { .. } => None,
        },
    }
}

/// An outbox entry as the Sign page lists it.
pub fn outbox_item(e: &OutboxEntry) -> OutboxItem {
    OutboxItem {
        id: e.id,
        tx_hash: e.tx_hash.clone(),
        key_label: e.key_label.clone(),
        sequence: e.sequence,
        action: e.action.clone(),
        summary: e.summary.clone(),
        state: e.state.as_str().to_owned(),
        height: e.height,
        code: e.code,
        reason: e.reason.clone(),
        created_at: e.created_at,
    }
}

fn review_view(p: &Prepared) -> SignReview {
    let r = &p.review;
    SignReview {
        action: r.action.clone(),
        summary: r.summary.clone(),
        chain_id: r.chain_id.clone(),
        signer: r.signer.clone(),
        signer_label: r.signer_label.clone(),
        sequence: r.sequence,
        fields: r
            .fields
            .iter()
            .map(|f| ReviewLine {
                name: f.name.clone(),
                label: f.label.clone(),
                value: f.value.clone(),
            })
            .collect(),
        sign_bytes_sha256: r.sign_bytes_sha256.clone(),
        checks: r.checks.clone(),
        proven_height: r.proven_height,
    }
}

impl SigningService {
    /// Over the keystore in `data_dir` (its database also holds the outbox and audit log).
    pub async fn open(data_dir: &std::path::Path) -> Result<SigningService, KeystoreError> {
        let keystore = Keystore::open(data_dir).await?;
        Ok(SigningService::new(keystore))
    }

    /// Over an open keystore.
    pub fn new(keystore: Keystore) -> SigningService {
        let outbox = Outbox::new(keystore.database());
        SigningService {
            keystore,
            outbox,
            prepared: Mutex::new(Vec::new()),
            offline: tokio::sync::Mutex::new(()),
        }
    }

    /// The keystore.
    pub fn keystore(&self) -> &Keystore {
        &self.keystore
    }

    /// The outbox.
    pub fn outbox(&self) -> &Outbox {
        &self.outbox
    }

    /// Every key.
    pub async fn keys(&self) -> Result<Vec<KeyView>, SignError> {
        Ok(self.keystore.list().await?.iter().map(key_view).collect())
    }

    /// Creates a key; its backup words come back once.
    pub async fn key_create(&self, r: &KeyCreate) -> Result<KeyCreated, SignError> {
        let created = self
            .keystore
            .create(&r.label, &choice(&r.backend)?, pin(&r.pin))
            .await?;
        let backup_words = created
            .backup
            .as_ref()
            .map(|b| b.expose().split(' ').map(str::to_owned).collect());
        Ok(KeyCreated {
            key: key_view(&created.key),
            backup_words,
        })
    }

    /// Imports a key from its backup words.
    pub async fn key_import(&self, r: &KeyImport) -> Result<KeyView, SignError> {
        let words = Zeroizing::new(r.words.clone());
        let key = self
            .keystore
            .import_mnemonic(&r.label, words, &choice(&r.backend)?, pin(&r.pin))
            .await?;
        Ok(key_view(&key))
    }

    /// Imports a development network's keys (its `dev-keys.json` text) into the OS
    /// credential store as `dev/...`, marked as development keys.
    pub async fn key_import_dev(&self, r: &KeyImportDev) -> Result<Vec<KeyView>, SignError> {
        let text = Zeroizing::new(r.text.clone());
        let keys = self
            .keystore
            .import_development(&text, "dev/", &BackendChoice::Keyring, None)
            .await?;
        Ok(keys.iter().map(key_view).collect())
    }

    /// Deletes a key (only confirmed).
    pub async fn key_delete(&self, r: &KeyDelete) -> Result<KeyView, SignError> {
        let key = self
            .keystore
            .delete(&r.label, r.confirm, pin(&r.pin))
            .await?;
        Ok(key_view(&key))
    }

    /// Checks a form and keeps the prepared transaction until it is confirmed.
    pub async fn prepare(&self, wallet: &Wallet, r: &SignPrepare) -> Result<SignReview, SignError> {
        let form = Form::from_json(&r.form_json)?;
        let prepared = prepare(wallet, &self.keystore, &self.outbox, &r.key_label, &form).await?;
        let view = review_view(&prepared);
        let mut kept = self.prepared.lock().unwrap_or_else(|p| p.into_inner());
        kept.retain(|p| p.review.sign_bytes_sha256 != view.sign_bytes_sha256);
        kept.push(prepared);
        if kept.len() > MAX_PREPARED {
            kept.remove(0);
        }
        Ok(view)
    }

    /// Signs the prepared transaction the confirmation names, and queues it; then one
    /// submission pass (the outbox keeps it when the network is not there).
    pub async fn confirm(&self, wallet: &Wallet, r: &SignConfirm) -> Result<OutboxItem, SignError> {
        let prepared = {
            let mut kept = self.prepared.lock().unwrap_or_else(|p| p.into_inner());
            let at = kept
                .iter()
                .position(|p| p.review.sign_bytes_sha256 == r.sign_bytes_sha256)
                .ok_or_else(|| {
                    SignError::NotConfirmed(
                        "no prepared transaction has this review: prepare it again".into(),
                    )
                })?;
            kept.remove(at)
        };
        let confirmation = Confirmation {
            sign_bytes_sha256: r.sign_bytes_sha256.clone(),
        };
        let entry = match sign(
            &self.keystore,
            &self.outbox,
            &prepared,
            &confirmation,
            pin(&r.pin),
        )
        .await
        {
            Ok(entry) => entry,
            Err(e) => {
                // Nothing was signed when the token wanted its PIN or refused it: the same
                // review can be confirmed again with the right PIN.
                if matches!(&e, SignError::Keystore(k) if k.is_pin_refusal()) {
                    let mut kept = self.prepared.lock().unwrap_or_else(|p| p.into_inner());
                    kept.push(prepared);
                }
                return Err(e);
            }
        };
        // Best effort now; the outbox submits it later otherwise.
        let _ = self.outbox.submit(wallet).await;
        let now = self.outbox.get(&entry.id.to_string()).await?;
        Ok(outbox_item(&now))
    }

    /// The outbox, oldest first.
    pub async fn outbox_list(&self) -> Result<Vec<OutboxItem>, SignError> {
        Ok(self
            .outbox
            .list(None)
            .await?
            .iter()
            .map(outbox_item)
            .collect())
    }

    /// One submission pass; answers the whole outbox.
    pub async fn outbox_submit(&self, wallet: &Wallet) -> Result<Vec<OutboxItem>, SignError> {
        self.outbox.submit(wallet).await?;
        self.outbox_list().await
    }

    /// Puts a failed entry back in the queue.
    pub async fn outbox_retry(&self, id: i64) -> Result<OutboxItem, SignError> {
        Ok(outbox_item(&self.outbox.retry(&id.to_string()).await?))
    }

    /// Removes a failed entry (only confirmed).
    pub async fn outbox_discard(&self, id: i64, confirm: bool) -> Result<OutboxItem, SignError> {
        Ok(outbox_item(
            &self.outbox.discard(&id.to_string(), confirm).await?,
        ))
    }

    /// The audit log as JSON or CSV text.
    pub async fn audit_export(&self, format: ExportFormat) -> Result<String, SignError> {
        Ok(self.outbox.audit().export(format).await?)
    }

    /// Proves and remembers the last sequence the chain accepted from each key of the
    /// keystore (see [`super::remember_sequences`]); answers how many keys.
    pub async fn remember_sequences(&self, wallet: &Wallet) -> Result<usize, SignError> {
        super::remember_sequences(wallet, &self.keystore, &self.outbox).await
    }

    /// Syncs the offline knowledge to the newest verified state, then proves the keys' last
    /// sequences (so inspections can be signed offline). A failure of the second is the
    /// answer, the knowledge synced is kept.
    pub async fn offline_sync(&self, wallet: &Wallet) -> Result<OfflineSync, SignError> {
        let _one = self.offline.lock().await;
        self.sync_locked(wallet).await
    }

    async fn sync_locked(&self, wallet: &Wallet) -> Result<OfflineSync, SignError> {
        let synced = wallet.offline_sync().await?;
        self.remember_sequences(wallet).await?;
        Ok(synced)
    }

    /// Checks every offline verdict again online (see [`Wallet::recheck_offline`]), never
    /// while another re-check runs (each would check the same verdicts).
    pub async fn offline_recheck(&self, wallet: &Wallet) -> Result<Vec<VerifyReport>, SignError> {
        let _one = self.offline.lock().await;
        Ok(wallet.recheck_offline().await?)
    }

    /// While the light node is synced, a background round this long after the last one.
    pub const OFFLINE_EVERY: Duration = Duration::from_secs(15 * 60);
    /// When the light node becomes synced again (back online), a round at once unless the
    /// last one is more recent than this (a flapping connection does not sync at every flap).
    pub const OFFLINE_MIN_GAP: Duration = Duration::from_secs(60);

    /// One round of upkeep: the sync (with the keys' sequences), then the offline verdicts
    /// checked again online when some wait for it, then the status. Each part answers for
    /// itself (a failed sync does not stop the re-check); the round's first error is kept,
    /// as `map_err` (the app's one mapping) makes it.
    pub async fn offline_upkeep(
        &self,
        wallet: &Wallet,
        map_err: impl Fn(SignError) -> ApiError,
    ) -> OfflineUpdate {
        let _one = self.offline.lock().await;
        let mut errors = Vec::new();
        let synced = match self.sync_locked(wallet).await {
            Ok(_) => true,
            Err(e) => {
                errors.push(map_err(e));
                false
            }
        };
        let rechecked = match wallet.history().pending_rechecks().await {
            Ok(pending) if pending.is_empty() => Ok(Vec::new()),
            Ok(_) => wallet.recheck_offline().await.map_err(SignError::from),
            Err(e) => Err(e.into()),
        };
        let (rechecked, changed) = match rechecked {
            Ok(reports) => {
                let changed = reports
                    .iter()
                    .filter(|r| r.recheck.as_ref().is_some_and(|c| c.changed))
                    .count();
                (reports.len(), changed)
            }
            Err(e) => {
                errors.push(map_err(e));
                (0, 0)
            }
        };
        let status = wallet.offline_status().await.unwrap_or_else(|e| {
            errors.push(map_err(e.into()));
            None
        });
        OfflineUpdate {
            status,
            synced,
            rechecked: u32::try_from(rechecked).unwrap_or(u32::MAX),
            changed: u32::try_from(changed).unwrap_or(u32::MAX),
            error: errors.into_iter().next(),
        }
    }

    /// Keeps the offline knowledge current for as long as the wallet runs (the app spawns
    /// it): while the light node is online (synced, or stale: no new block lately), a round
    /// of [`SigningService::offline_upkeep`] at the start, `every` after the last one, and on
    /// coming back online (unless the last round is more recent than `min_gap`); `on_round`
    /// gets each round's outcome. Returns only when the node's status can no longer change.
    pub async fn follow_offline(
        &self,
        wallet: &Wallet,
        (every, min_gap): (Duration, Duration),
        map_err: impl Fn(SignError) -> ApiError,
        mut on_round: impl FnMut(OfflineUpdate),
    ) {
        let mut status = wallet.watch_status();
        let mut rounds = Rounds::new(every, min_gap);
        let mut last: Option<tokio::time::Instant> = None;
        loop {
            // Online: synced, or stale (the nodes answer, the chain is slow or quiet).
            let online = matches!(
                status.borrow_and_update().state,
                NodeState::Synced | NodeState::Stale { .. }
            );
            if rounds.due(online, last.map(|t| t.elapsed())) {
                on_round(self.offline_upkeep(wallet, &map_err).await);
                last = Some(tokio::time::Instant::now());
                rounds.done();
            }
            let wait = rounds.wait(last.map(|t| t.elapsed()));
            tokio::select! {
                changed = status.changed() => {
                    if changed.is_err() {
                        return;
                    }
                }
                () = tokio::time::sleep(wait.max(Duration::from_secs(1))) => {}
            }
        }
    }
}

/// When [`SigningService::follow_offline`] makes a round: the decision alone, given whether
/// the node is online and how long ago the last round was.
#[derive(Debug)]
struct Rounds {
    every: Duration,
    min_gap: Duration,
    was_online: bool,
    /// A round at the start, and one after each return online.
    owed: bool,
}

impl Rounds {
    fn new(every: Duration, min_gap: Duration) -> Rounds {
        Rounds {
            every,
            min_gap,
            was_online: false,
            owed: true,
        }
    }

    /// Whether to make a round now; `since`: the time since the last one (none yet: `None`).
    fn due(&mut self, online: bool, since: Option<Duration>) -> bool {
        self.owed |= online && !self.was_online;
        self.was_online = online;
        online && since.is_none_or(|s| s >= self.every || (self.owed && s >= self.min_gap))
    }

    /// A round was made.
    fn done(&mut self) {
        self.owed = false;
    }

    /// How long until a round may be due, with no change of status.
    fn wait(&self, since: Option<Duration>) -> Duration {
        match since {
            None => self.every,
            Some(s) => {
                let target = if self.owed { self.min_gap } else { self.every };
                target.saturating_sub(s)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_api_form_shape_is_the_cli_form_shape() {
        let text = r#"{"type":"approve","proposal":4}"#;
        assert_eq!(
            Form::from_json(text).unwrap(),
            Form::Approve { proposal: 4 }
        );
        // Unknown tags and fields are refused, not ignored.
        assert!(Form::from_json(r#"{"type":"transfer"}"#).is_err());
    }

    #[tokio::test]
    async fn a_confirmation_of_nothing_prepared_signs_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let service = SigningService::new(Keystore::open(dir).await.unwrap());
        let wallet = Wallet::open(crate::WalletConfig::new(dir.join("c"), dir.join("d")))
            .await
            .unwrap();
        let r = service
            .confirm(
                &wallet,
                &SignConfirm {
                    sign_bytes_sha256: "00".repeat(32),
                    pin: None,
                },
            )
            .await;
        assert!(matches!(r, Err(SignError::NotConfirmed(_))), "{r:?}");
        assert!(service.outbox_list().await.unwrap().is_empty());
    }

    #[test]
    fn rounds_at_the_start_periodically_and_on_coming_back_online() {
        let (every, gap) = (Duration::from_secs(900), Duration::from_secs(60));
        let s = Duration::from_secs;
        let mut r = Rounds::new(every, gap);
        // Not online: nothing, however long.
        assert!(!r.due(false, None));
        // Online: at once (the first), then not before `every`.
        assert!(r.due(true, None));
        r.done();
        assert!(!r.due(true, Some(s(10))));
        assert_eq!(r.wait(Some(s(10))), s(890));
        assert!(r.due(true, Some(s(900))));
        r.done();
        // Offline, back online soon after a round: owed, made once the gap has passed.
        assert!(!r.due(false, Some(s(5))));
        assert!(!r.due(true, Some(s(20))));
        assert_eq!(r.wait(Some(s(20))), s(40));
        assert!(r.due(true, Some(s(60))));
        r.done();
        assert!(!r.due(true, Some(s(61))));
        // Back online long after: at once.
        assert!(!r.due(false, Some(s(100))));
        assert!(r.due(true, Some(s(120))));
    }

    /// The error mapping of a test: the kind as the code's message.
    fn code(e: SignError) -> ApiError {
        ApiError::new(tradeseal_api::ErrorCode::Internal, e.kind())
    }

    /// A round with no network configured answers why, and nothing synced.
    #[tokio::test]
    async fn an_offline_round_without_a_network_says_why() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let service = SigningService::new(Keystore::open(dir).await.unwrap());
        let wallet = Wallet::open(crate::WalletConfig::new(dir.join("c"), dir.join("d")))
            .await
            .unwrap();
        let round = service.offline_upkeep(&wallet, code).await;
        assert!(!round.synced);
        assert_eq!(round.status, None);
        assert_eq!(round.error.unwrap().message, "not_configured");
    }

    /// What the app's offline commands and background rounds do, against a devnet on
    /// loopback: a sync proves the knowledge; a certificate verified offline is checked again
    /// online by the first background round (which runs at once, the node being synced), its
    /// verdict flagged unchanged; the status says what is known.
    #[tokio::test(flavor = "multi_thread")]
    async fn offline_sync_and_the_background_round_recheck_offline_verdicts() {
        use tradeseal_api::{Mode, Origin, Verdict, VerifyInput, VerifyRequest};

        let config = devnet::DevnetConfig::for_tests();
        let net = devnet::Devnet::start(config.clone()).await.unwrap();
        assert!(net.wait_for_height(3, Duration::from_secs(30)).await);
        let samples = net.samples().expect("seeded samples").clone();
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let chain = devnet::chain_config(&config, net.chain(), net.rpc_urls()).unwrap();
        std::fs::write(dir.join("chain.json"), chain.to_json()).unwrap();
        let mut wc = crate::WalletConfig::new(dir.join("c"), dir.join("d"));
        wc.chain_config = Some(dir.join("chain.json"));
        // A loaded machine must not make a fresh head look stale.
        wc.node.node.stale_after_blocks = 100;
        let wallet = Wallet::open(wc).await.unwrap();
        wallet.start_node(true).await.unwrap();
        let service = SigningService::new(Keystore::open(dir).await.unwrap());
        assert_eq!(wallet.offline_status().await.unwrap(), None);

        let synced = service.offline_sync(&wallet).await.unwrap();
        assert_eq!(synced.previous_height, 0);
        assert!(
            synced.status.height > 0 && synced.status.issuers > 0,
            "{synced:?}"
        );
        assert!(!synced.status.stale && !synced.status.too_old);
        let status = wallet.offline_status().await.unwrap().unwrap();
        assert_eq!(status.height, synced.status.height);

        let valid = samples
            .certificates
            .iter()
            .find(|c| c.status == devnet::SampleStatus::Valid)
            .unwrap();
        let offline = wallet
            .verify(&VerifyRequest {
                input: VerifyInput::Payload {
                    text: registry::qr::encode(&valid.signed).unwrap(),
                    origin: Origin::Camera,
                },
                document: None,
                offline: true,
            })
            .await
            .unwrap();
        assert_eq!(offline.evidence.mode, Mode::Offline);
        let freshness = offline.evidence.freshness.clone().unwrap();
        assert_eq!(freshness.as_of_height, synced.status.height);
        assert!(!freshness.registration_checked);

        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let every = (
            SigningService::OFFLINE_EVERY,
            SigningService::OFFLINE_MIN_GAP,
        );
        let round = tokio::select! {
            () = service.follow_offline(&wallet, every, code, |r| {
                let _ = tx.send(r);
            }) => panic!("the rounds stopped"),
            round = rx.recv() => round.unwrap(),
        };
        assert_eq!(round.error, None);
        assert!(round.synced);
        assert_eq!((round.rechecked, round.changed), (1, 0));
        let after = round.status.unwrap();
        assert!(after.height >= synced.status.height);
        let history = wallet
            .history_list(&tradeseal_api::HistoryQuery::default())
            .await
            .unwrap();
        let flagged = history
            .iter()
            .find(|r| r.history_id == offline.history_id)
            .unwrap();
        let recheck = flagged.recheck.clone().unwrap();
        assert_eq!(recheck.verdict, Verdict::Valid);
        assert!(!recheck.changed);
        // Nothing is left to check again.
        assert!(service.offline_recheck(&wallet).await.unwrap().is_empty());
        net.shutdown().await;
    }
}

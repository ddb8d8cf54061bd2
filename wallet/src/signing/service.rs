//! The signing service as the app holds it: the keystore, the outbox and the transactions
//! prepared and awaiting the user's confirmation, behind calls that take and answer the
//! `api` crate's models (the app's commands are one line each into it).

use std::sync::Mutex;

use tradeseal_api::{
    KeyBackendChoice, KeyCreate, KeyCreated, KeyDelete, KeyImport, KeyView, OutboxItem, ReviewLine,
    SignConfirm, SignPrepare, SignReview,
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
}

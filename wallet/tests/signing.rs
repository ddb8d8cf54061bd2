//! The signing service and the outbox against the devnet (started here, on loopback): forms
//! checked against the proven chain state, the review decoded from the bytes signed, nothing
//! signed without the confirmation of those bytes, the outbox submitting in order and
//! confirming only by proof, rejections with the registry's reason, retry and discard, and
//! the audit log of it all. Keys sit in an in-memory backend here (the real stores are tested
//! in `stores.rs`, `keys.rs` and through the CLI).

use std::sync::Arc;
use std::time::{Duration, Instant};

use devnet::{Devnet, DevnetConfig};
use light_node::RpcConfig;
use tradeseal_wallet::audit::{AuditEvent, ExportFormat};
use tradeseal_wallet::keystore::{BackendChoice, Keystore};
use tradeseal_wallet::outbox::{Outbox, OutboxEntry, OutboxState};
use tradeseal_wallet::signing::{self, Confirmation, Form, ProposalForm, SignError};
use tradeseal_wallet::Wallet;

use crate::support::{wallet_for, MemoryBackend, NodeSetup};

struct Net {
    net: Devnet,
    _dir: tempfile::TempDir,
    wallet: Wallet,
    keystore: Keystore,
    outbox: Outbox,
}

async fn start() -> Net {
    start_with(RpcConfig {
        timeout: Duration::from_secs(5),
        ..RpcConfig::default()
    })
    .await
}

async fn start_with(rpc: RpcConfig) -> Net {
    let net = Devnet::start(DevnetConfig::for_tests())
        .await
        .expect("devnet starts");
    // The samples go in one phase per block (issuers, certificates, revocations, removal).
    assert!(net.wait_for_height(12, Duration::from_secs(60)).await);
    let dir = tempfile::tempdir().unwrap();
    let setup = NodeSetup {
        rpc,
        stale_after_blocks: 1000,
        follow: false,
    };
    let wallet = wallet_for(&net, &DevnetConfig::for_tests(), dir.path(), setup).await;
    let keystore =
        Keystore::with_keyring(&dir.path().join("data"), Arc::new(MemoryBackend::default()))
            .await
            .unwrap();
    let text = dev_keys(&net);
    keystore
        .import_development(&text, "dev/", &BackendChoice::Keyring, None)
        .await
        .unwrap();
    let outbox = Outbox::new(keystore.database());
    Net {
        net,
        _dir: dir,
        wallet,
        keystore,
        outbox,
    }
}

impl Net {
    /// Submits the signed `entry` until the chain settles it, and requires it confirmed by
    /// proof; the settled entry.
    async fn settle_confirmed(&self, entry: &OutboxEntry) -> OutboxEntry {
        let r = self
            .outbox
            .submit_until_settled(&self.wallet, &[entry.id], deadline())
            .await
            .unwrap();
        assert_eq!(r.entries[0].state, OutboxState::Confirmed, "{r:?}");
        r.entries[0].clone()
    }

    /// Signs `prepared` as the user confirms its review (no PIN: the keys are in memory).
    async fn confirm(&self, prepared: &signing::Prepared) -> OutboxEntry {
        signing::sign(
            &self.keystore,
            &self.outbox,
            prepared,
            &Confirmation::of(&prepared.review),
            None,
        )
        .await
        .unwrap()
    }
}

/// The devnet's development keys in its `dev-keys.json` shape.
fn dev_keys(net: &Devnet) -> String {
    let samples = net.samples().expect("the devnet has sample data");
    let entry = |label: &str, k: &ed25519_dalek::SigningKey| {
        serde_json::json!({
            "label": label,
            "public_key": hex::encode(k.verifying_key().to_bytes()),
            "secret_key": hex::encode(k.to_bytes()),
        })
    };
    serde_json::json!({
        "warning": devnet::DEV_KEY_WARNING,
        "governance": {"keys": samples.governance.iter().enumerate()
            .map(|(i, k)| entry(&format!("governance-{i}"), k)).collect::<Vec<_>>()},
        "issuers": samples.issuers.iter()
            .map(|i| entry(i.spec.id.as_str(), &i.key)).collect::<Vec<_>>(),
    })
    .to_string()
}

fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(60)
}

fn inspect(notes: &str) -> Form {
    Form::Inspect {
        cert: "KE-KEPHIS/PH-2026-0001".into(),
        agency: "KE-KEPHIS".into(),
        location: "Port of Mombasa, berth 11".into(),
        outcome: "compliant".into(),
        notes: notes.into(),
        inspected_at: None,
    }
}

async fn proven_u64(wallet: &Wallet, key: &str) -> u64 {
    wallet
        .query(key, None)
        .await
        .unwrap()
        .value
        .map_or(0, |v| registry::state::decode_u64(&v).unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn an_inspection_is_reviewed_signed_queued_and_confirmed_by_proof() {
    let n = start().await;
    let form = inspect("seals intact");
    let prepared = signing::prepare(&n.wallet, &n.keystore, &n.outbox, "dev/KE-KEPHIS", &form)
        .await
        .unwrap();
    let r = &prepared.review;
    assert_eq!(r.action, "record_inspection");
    assert_eq!(r.chain_id, n.net.chain().chain_id());
    assert_eq!(r.signer_label, "dev/KE-KEPHIS");
    let key = n.keystore.get("dev/KE-KEPHIS").await.unwrap();
    assert_eq!(r.signer, key.public_key);
    let before = proven_u64(&n.wallet, &format!("account/{}", key.public_key)).await;
    assert_eq!(r.sequence, before + 1, "the next sequence, proven");
    let field = |name: &str| {
        r.fields
            .iter()
            .find(|f| f.name == name)
            .unwrap()
            .value
            .clone()
    };
    assert_eq!(field("location"), "Port of Mombasa, berth 11");
    assert_eq!(field("notes"), "seals intact");
    assert!(
        r.checks.iter().any(|c| c.contains("KE-KEPHIS is active")),
        "{:?}",
        r.checks
    );

    // No confirmation of these bytes, no signature.
    let wrong = Confirmation {
        sign_bytes_sha256: "00".repeat(32),
    };
    let refused = signing::sign(&n.keystore, &n.outbox, &prepared, &wrong, None).await;
    assert!(
        matches!(refused, Err(SignError::NotConfirmed(_))),
        "{refused:?}"
    );
    assert!(n.outbox.list(None).await.unwrap().is_empty());

    let entry = n.confirm(&prepared).await;
    assert_eq!(entry.state, OutboxState::Pending);
    assert_eq!(entry.sequence, r.sequence);
    // The stored bytes are the reviewed ones plus the signature.
    let tx = hex::decode(&entry.tx_hex).unwrap();
    assert_eq!(
        &tx[..tx.len() - 64],
        &prepared.sign_bytes()[registry::TX_SIGN_DOMAIN.len()..]
    );

    let report = n
        .outbox
        .submit_until_settled(&n.wallet, &[entry.id], deadline())
        .await
        .unwrap();
    let done = &report.entries[0];
    assert_eq!(done.state, OutboxState::Confirmed, "{done:?}");
    let height = done.height.unwrap();
    // Its effect, read independently: the inspection is on the record at that height.
    let len = n
        .wallet
        .query(
            "inspection/KE-KEPHIS/PH-2026-0001/len",
            Some(light_client::Height(height)),
        )
        .await
        .unwrap();
    assert_eq!(registry::state::decode_u64(&len.value.unwrap()).unwrap(), 1);
    assert_eq!(
        proven_u64(&n.wallet, &format!("account/{}", key.public_key)).await,
        r.sequence
    );

    let events: Vec<AuditEvent> = n
        .outbox
        .audit()
        .entries()
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event)
        .collect();
    assert_eq!(
        events,
        [
            AuditEvent::Signed,
            AuditEvent::Submitted,
            AuditEvent::Confirmed
        ]
    );
    let csv = n.outbox.audit().export(ExportFormat::Csv).await.unwrap();
    assert_eq!(csv.lines().count(), 4);
    assert!(csv.contains("dev/KE-KEPHIS"));
    n.net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn forms_the_registry_would_refuse_are_refused_before_signing() {
    let n = start().await;
    let refuse = |label: &'static str, form: Form| {
        let n = &n;
        async move {
            match signing::prepare(&n.wallet, &n.keystore, &n.outbox, label, &form).await {
                Err(e) => e,
                Ok(p) => panic!("prepared {form:?}: {:?}", p.review),
            }
        }
    };
    // Another issuer's certificate.
    let e = refuse(
        "dev/KE-KNCCI",
        Form::Revoke {
            cert: "KE-KEPHIS/PH-2026-0001".into(),
            reason: "issued_in_error".into(),
            note: String::new(),
        },
    )
    .await;
    assert_eq!(e.registry_code(), Some(21), "{e}");
    // No such certificate.
    let e = refuse(
        "dev/KE-KEPHIS",
        Form::Revoke {
            cert: "KE-KEPHIS/NOPE-1".into(),
            reason: "issued_in_error".into(),
            note: String::new(),
        },
    )
    .await;
    assert_eq!(e.registry_code(), Some(12), "{e}");
    // Already revoked (the third sample of each issuer is).
    let e = refuse(
        "dev/KE-KEPHIS",
        Form::Revoke {
            cert: "KE-KEPHIS/PH-2026-0003".into(),
            reason: "other".into(),
            note: String::new(),
        },
    )
    .await;
    assert_eq!(e.registry_code(), Some(13), "{e}");
    // An inspection of a certificate that is not on the chain (the registry's rule, code 12).
    let e = refuse("dev/KE-KEPHIS", {
        let Form::Inspect {
            agency,
            location,
            outcome,
            notes,
            inspected_at,
            ..
        } = inspect("no such certificate")
        else {
            unreachable!()
        };
        Form::Inspect {
            cert: "KE-KEPHIS/NOPE-1".into(),
            agency,
            location,
            outcome,
            notes,
            inspected_at,
        }
    })
    .await;
    assert_eq!(e.registry_code(), Some(12), "{e}");
    // A removed agency cannot inspect.
    let e = refuse("dev/KE-OLD-INSPECT", {
        let Form::Inspect {
            cert,
            location,
            outcome,
            notes,
            inspected_at,
            ..
        } = inspect("")
        else {
            unreachable!()
        };
        Form::Inspect {
            cert,
            agency: "KE-OLD-INSPECT".into(),
            location,
            outcome,
            notes,
            inspected_at,
        }
    })
    .await;
    assert_eq!(e.registry_code(), Some(8), "{e}");
    // Governance only.
    let e = refuse("dev/KE-KEPHIS", Form::Approve { proposal: 0 }).await;
    assert_eq!(e.registry_code(), Some(5), "{e}");
    let e = refuse("dev/governance-0", Form::Approve { proposal: 999 }).await;
    assert_eq!(e.registry_code(), Some(15), "{e}");
    // The genesis proposals are executed.
    let e = refuse("dev/governance-1", Form::Approve { proposal: 0 }).await;
    assert_eq!(e.registry_code(), Some(16), "{e}");
    let e = refuse(
        "dev/governance-0",
        Form::Propose {
            action: ProposalForm::SuspendIssuer {
                id: "KE-OLD-INSPECT".into(),
                reason: String::new(),
            },
            expires_at: None,
        },
    )
    .await;
    assert_eq!(e.registry_code(), Some(20), "{e}");
    // The registry knows the validators the chain started with (InitChain's): removing a key
    // that is not one of them is refused before signing.
    let e = refuse(
        "dev/governance-0",
        Form::Propose {
            action: ProposalForm::SetValidator {
                pub_key: registry::devkit::dev_public_key("not-a-validator").to_hex(),
                power: 0,
            },
            expires_at: None,
        },
    )
    .await;
    assert_eq!(e.registry_code(), Some(26), "{e}");
    // A bad field names itself.
    let e = refuse("dev/KE-KEPHIS", inspect(&"x".repeat(300))).await;
    assert!(
        matches!(&e, SignError::Form(f) if f.field == "notes"),
        "{e}"
    );
    assert!(n.outbox.list(None).await.unwrap().is_empty());
    n.net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn governance_proposes_and_approves_and_a_rejection_keeps_the_registrys_reason() {
    let n = start().await;
    let sign = |label: &'static str, form: Form| {
        let n = &n;
        async move {
            let p = signing::prepare(&n.wallet, &n.keystore, &n.outbox, label, &form)
                .await
                .unwrap();
            n.confirm(&p).await
        }
    };
    let proposals = proven_u64(&n.wallet, "gov/proposal/len").await;
    let propose = sign(
        "dev/governance-0",
        Form::Propose {
            action: ProposalForm::SuspendIssuer {
                id: "KE-TRADE-LIC".into(),
                reason: "audit pending".into(),
            },
            expires_at: None,
        },
    )
    .await;
    n.settle_confirmed(&propose).await;
    let approve = sign(
        "dev/governance-1",
        Form::Approve {
            proposal: proposals,
        },
    )
    .await;
    n.settle_confirmed(&approve).await;
    let issuer = n.wallet.query("issuer/KE-TRADE-LIC", None).await.unwrap();
    let record: registry::state::IssuerRecord =
        registry::Canonical::from_bytes(&issuer.value.unwrap()).unwrap();
    assert_eq!(record.status, registry::state::IssuerStatus::Suspended);

    // Two revocations of the same certificate, both prepared before either is on the chain:
    // the second is refused by the chain, with its reason kept.
    let revoke = Form::Revoke {
        cert: "KE-KEPHIS/PH-2026-0002".into(),
        reason: "superseded".into(),
        note: "replaced by PH-2026-0099".into(),
    };
    let first = sign("dev/KE-KEPHIS", revoke.clone()).await;
    let second = sign("dev/KE-KEPHIS", revoke).await;
    assert_eq!(second.sequence, first.sequence + 1, "after the queued one");
    let r = n
        .outbox
        .submit_until_settled(&n.wallet, &[first.id, second.id], deadline())
        .await
        .unwrap();
    let by_id = |id| r.entries.iter().find(|e| e.id == id).unwrap().clone();
    assert_eq!(by_id(first.id).state, OutboxState::Confirmed, "{r:?}");
    let failed = by_id(second.id);
    assert_eq!(failed.state, OutboxState::Failed, "{failed:?}");
    assert_eq!(failed.code, Some(13), "{failed:?}");
    assert!(
        failed
            .reason
            .as_deref()
            .unwrap_or("")
            .contains("already revoked"),
        "{failed:?}"
    );
    // Retried: the same bytes, refused again for the same reason.
    let retried = n.outbox.retry(&failed.id.to_string()).await.unwrap();
    assert_eq!(retried.state, OutboxState::Pending);
    let r = n
        .outbox
        .submit_until_settled(&n.wallet, &[failed.id], deadline())
        .await
        .unwrap();
    assert_eq!(r.entries[0].state, OutboxState::Failed);
    assert_eq!(r.entries[0].code, Some(13));
    // Discarded only when confirmed.
    assert!(n.outbox.discard(&failed.tx_hash, false).await.is_err());
    n.outbox.discard(&failed.tx_hash, true).await.unwrap();
    assert!(n.outbox.get(&failed.id.to_string()).await.is_err());
    let events: Vec<AuditEvent> = n
        .outbox
        .audit()
        .entries()
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event)
        .collect();
    assert!(events.contains(&AuditEvent::Failed));
    assert!(events.contains(&AuditEvent::Retried));
    assert_eq!(events.last(), Some(&AuditEvent::Discarded));
    n.net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_certificate_is_signed_by_the_issuer_key_and_registered() {
    let n = start().await;
    let now = signing::unix_now();
    let certificate =
        registry::sample_certificate(registry::Serial::new("PH-2026-9001").unwrap(), now - 60);
    assert_eq!(certificate.id.issuer.as_str(), "KE-KEPHIS");
    let form = Form::Issue {
        certificate: Box::new(certificate.clone()),
        signature: None,
    };
    // Not another issuer's, not a kind the issuer may not issue.
    let e = signing::prepare(&n.wallet, &n.keystore, &n.outbox, "dev/KE-KNCCI", &form)
        .await
        .unwrap_err();
    assert_eq!(e.registry_code(), Some(21), "{e}");
    let mut veterinary = certificate.clone();
    veterinary.kind = registry::CertificateKind::Veterinary;
    let e = signing::prepare(
        &n.wallet,
        &n.keystore,
        &n.outbox,
        "dev/KE-KEPHIS",
        &Form::Issue {
            certificate: Box::new(veterinary),
            signature: None,
        },
    )
    .await
    .unwrap_err();
    assert_eq!(e.registry_code(), Some(9), "{e}");

    let prepared = signing::prepare(&n.wallet, &n.keystore, &n.outbox, "dev/KE-KEPHIS", &form)
        .await
        .unwrap();
    let r = &prepared.review;
    assert_eq!(r.action, "issue_certificate");
    let field = |name: &str| {
        r.fields
            .iter()
            .find(|f| f.name == name)
            .unwrap()
            .value
            .clone()
    };
    assert_eq!(field("cert"), "KE-KEPHIS/PH-2026-9001");
    assert_eq!(
        field("content_hash"),
        hex::encode(certificate.content_hash())
    );
    assert!(field("signature").contains("when you confirm"));
    let entry = n.confirm(&prepared).await;
    let report = n
        .outbox
        .submit_until_settled(&n.wallet, &[entry.id], deadline())
        .await
        .unwrap();
    assert_eq!(
        report.entries[0].state,
        OutboxState::Confirmed,
        "{report:?}"
    );
    let record = n
        .wallet
        .query("cert/KE-KEPHIS/PH-2026-9001", None)
        .await
        .unwrap();
    let record: registry::state::CertRecord =
        registry::Canonical::from_bytes(&record.value.unwrap()).unwrap();
    assert_eq!(record.content_hash, certificate.content_hash());
    // The certificate in the transaction carries the issuer key's signature.
    let tx = registry::Tx::decode(&hex::decode(&entry.tx_hex).unwrap()).unwrap();
    let registry::Message::IssueCertificate(signed) = tx.body.message else {
        panic!("not an issue")
    };
    assert!(signed.is_signed_by(n.net.chain().chain_id(), &tx.body.signer));
    n.net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_inspection_recorded_offline_is_queued_and_submitted_when_the_network_returns() {
    // Short timeouts: the nodes are made silent below.
    let n = start_with(RpcConfig {
        timeout: Duration::from_secs(1),
        retries: 0,
        ..RpcConfig::default()
    })
    .await;
    // Online: the offline knowledge and the keys' proven sequences (the dev keys signed the
    // devnet's sample data, so the chain's count is not zero).
    n.wallet.offline_sync().await.unwrap();
    let keys = signing::remember_sequences(&n.wallet, &n.keystore, &n.outbox)
        .await
        .unwrap();
    assert!(keys > 0);
    let nodes = n.net.rpc_urls().len();
    for i in 0..nodes {
        n.net.set_behaviour(i, devnet::Behaviour::Timeout);
    }
    // Offline: checked against the offline knowledge, and said so.
    let prepared = signing::prepare(
        &n.wallet,
        &n.keystore,
        &n.outbox,
        "dev/KE-KEPHIS",
        &inspect("recorded in the field"),
    )
    .await
    .unwrap();
    let checks = &prepared.review.checks;
    assert!(checks[0].starts_with("offline:"), "{checks:?}");
    assert!(
        checks
            .iter()
            .any(|c| c == "KE-KEPHIS is active (offline knowledge)"),
        "{checks:?}"
    );
    assert!(
        checks
            .iter()
            .any(|c| c.contains("proven then") && c.contains("cannot be proven offline")),
        "{checks:?}"
    );
    // Only inspection records are signed offline; the others need the proven state.
    let revoke = Form::Revoke {
        cert: "KE-KEPHIS/PH-2026-0001".into(),
        reason: "superseded".into(),
        note: String::new(),
    };
    let refused =
        signing::prepare(&n.wallet, &n.keystore, &n.outbox, "dev/KE-KEPHIS", &revoke).await;
    assert!(matches!(refused, Err(SignError::Wallet(_))), "{refused:?}");
    // A key of another agency is refused by the offline knowledge too.
    let wrong = signing::prepare(
        &n.wallet,
        &n.keystore,
        &n.outbox,
        "dev/KE-KNCCI",
        &inspect("not ours"),
    )
    .await;
    assert!(
        matches!(wrong, Err(SignError::WouldBeRejected(_))),
        "{wrong:?}"
    );

    let entry = n.confirm(&prepared).await;
    // No network: it waits in the outbox.
    let _ = n.outbox.submit(&n.wallet).await;
    let waiting = n.outbox.get(&entry.id.to_string()).await.unwrap();
    assert!(
        !matches!(waiting.state, OutboxState::Confirmed | OutboxState::Failed),
        "{waiting:?}"
    );

    // The network back: submitted once and confirmed by proof.
    for i in 0..nodes {
        n.net.set_behaviour(i, devnet::Behaviour::Honest);
    }
    let report = n
        .outbox
        .submit_until_settled(&n.wallet, &[entry.id], deadline())
        .await
        .unwrap();
    let done = &report.entries[0];
    assert_eq!(done.state, OutboxState::Confirmed, "{done:?}");
    let len = n
        .wallet
        .query(
            "inspection/KE-KEPHIS/PH-2026-0001/len",
            Some(light_client::Height(done.height.unwrap())),
        )
        .await
        .unwrap();
    assert_eq!(registry::state::decode_u64(&len.value.unwrap()).unwrap(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn development_keys_are_imported_through_the_service_and_marked() {
    use tradeseal_api::KeyImportDev;
    use tradeseal_wallet::keystore::KeystoreError;
    use tradeseal_wallet::signing::SigningService;

    let dir = tempfile::tempdir().unwrap();
    let keystore = Keystore::with_keyring(dir.path(), Arc::new(MemoryBackend::default()))
        .await
        .unwrap();
    let service = SigningService::new(keystore);
    let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let entry = serde_json::json!({
        "label": "KE-KEPHIS",
        "public_key": hex::encode(key.verifying_key().to_bytes()),
        "secret_key": hex::encode(key.to_bytes()),
    });
    let file = serde_json::json!({"warning": devnet::DEV_KEY_WARNING, "issuers": [entry]});
    let keys = service
        .key_import_dev(&KeyImportDev {
            text: file.to_string(),
        })
        .await
        .unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].label, "dev/KE-KEPHIS");
    assert!(keys[0].development, "{:?}", keys[0]);
    assert_eq!(keys[0].public_key, entry["public_key"]);
    // A file without the development warning is not taken for one.
    let plain = serde_json::json!({"issuers": [entry]});
    let refused = service
        .key_import_dev(&KeyImportDev {
            text: plain.to_string(),
        })
        .await;
    assert!(
        matches!(
            refused,
            Err(SignError::Keystore(KeystoreError::InvalidRequest(_)))
        ),
        "{refused:?}"
    );
    assert_eq!(service.keys().await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn governance_adds_a_validator_who_signs_from_two_blocks_later_and_the_light_node_follows() {
    let n = start().await;
    let config = DevnetConfig::for_tests();
    // A development validator key the network can sign with, not in the genesis set (0..4).
    let joining = devnet::ValidatorKey::derive(&config.seed, devnet::KeyRole::Validator, 4);
    let key_hex = hex::encode(joining.pub_key);
    let proposals = proven_u64(&n.wallet, "gov/proposal/len").await;
    let form = Form::Propose {
        action: ProposalForm::SetValidator {
            pub_key: key_hex.clone(),
            power: 10,
        },
        expires_at: None,
    };
    let prepared = signing::prepare(&n.wallet, &n.keystore, &n.outbox, "dev/governance-0", &form)
        .await
        .unwrap();
    assert_eq!(
        prepared.review.summary,
        format!("Propose: set validator {key_hex} to voting power 10."),
        "{:?}",
        prepared.review
    );
    n.settle_confirmed(&n.confirm(&prepared).await).await;
    let approve = signing::prepare(
        &n.wallet,
        &n.keystore,
        &n.outbox,
        "dev/governance-1",
        &Form::Approve {
            proposal: proposals,
        },
    )
    .await
    .unwrap();
    let approved_at = n
        .settle_confirmed(&n.confirm(&approve).await)
        .await
        .height
        .expect("a confirmed entry has its height");

    // The approving block's FinalizeBlock carries the update; CometBFT's rule: the new set
    // signs from two heights later.
    assert!(
        n.net
            .wait_for_height(approved_at + 3, Duration::from_secs(30))
            .await
    );
    let chain = n.net.chain();
    let update = chain
        .blocks()
        .get(approved_at)
        .unwrap()
        .validator_updates
        .clone();
    assert_eq!(update.len(), 1, "the approval's block returns the update");
    let signs = |h: u64| {
        chain
            .validators_at(h)
            .unwrap()
            .validators()
            .iter()
            .any(|v| v.pub_key.as_bytes() == &joining.pub_key)
    };
    assert!(!signs(approved_at) && !signs(approved_at + 1));
    assert!(signs(approved_at + 2), "in the set from height + 2");
    let b = chain.blocks().get(approved_at + 2).unwrap().clone();
    assert!(
        b.commit
            .signatures
            .iter()
            .any(|s| s.validator_address.map(|a| *a.as_bytes()) == Some(joining.address)),
        "and it signs"
    );
    // The registry's proven state has it, and the wallet's light node verifies across the
    // change.
    assert_eq!(
        proven_u64(&n.wallet, &format!("validator/{key_hex}")).await,
        10
    );
    let status = n.wallet.sync_once().await.unwrap();
    let head = status.head.as_ref().expect("a verified head");
    assert!(
        head.height >= approved_at + 2,
        "the light node verified past the set change: {status:?}"
    );
    n.net.shutdown().await;
}

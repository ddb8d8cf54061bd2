//! Verifying certificates against the devnet (started inside each test, on loopback): every
//! verdict from the seeded samples and from certificates made here; images and serials; a
//! lying node never yields VALID and an unreachable network is CANNOT VERIFY, never INVALID;
//! each verdict carries the facts its sentence states; the history keeps and exports every
//! verification.

use std::time::Duration;

use base64::Engine as _;
use devnet::{Behaviour, Devnet, DevnetConfig, SampleStatus, Samples};
use registry::devkit::dev_key;
use registry::{qr, CertId, IssuerId, SignedCertificate};
use tradeseal_api::{
    CannotVerify, ExportFormat, Facts, FileData, HistoryQuery, Mismatch, Mode, NotOurs, Origin,
    ProofStatus, RevocationFacts, Source, Verdict, VerifyInput, VerifyReport, VerifyRequest,
};
use tradeseal_wallet::{Wallet, WalletError};

use crate::support::{wallet_for, NodeSetup};

struct Net {
    net: Devnet,
    _dir: tempfile::TempDir,
    wallet: Wallet,
    samples: Samples,
}

/// The report's facts, which every verdict carries.
fn facts(r: &VerifyReport) -> Facts {
    r.evidence
        .facts
        .clone()
        .expect("every verdict carries its facts")
}

async fn start() -> Net {
    let net = Devnet::start(DevnetConfig::for_tests())
        .await
        .expect("devnet starts");
    assert!(net.wait_for_height(3, Duration::from_secs(20)).await);
    let dir = tempfile::tempdir().unwrap();
    let config = DevnetConfig::for_tests();
    let wallet = wallet_for(&net, &config, dir.path(), NodeSetup::quick()).await;
    let samples = net.samples().expect("seeded samples").clone();
    // The samples are seeded in the first blocks; wait until the last phase is in.
    let seeded = net.chain().latest_height();
    assert!(
        net.wait_for_height(seeded + 2, Duration::from_secs(20))
            .await
    );
    Net {
        net,
        _dir: dir,
        wallet,
        samples,
    }
}

fn payload(text: String) -> VerifyRequest {
    VerifyRequest {
        input: VerifyInput::Payload {
            text,
            origin: Origin::Paste,
        },
        document: None,
        offline: false,
    }
}

fn sample(n: &Net, status: SampleStatus) -> SignedCertificate {
    n.samples
        .certificates
        .iter()
        .find(|c| c.status == status)
        .expect("a sample with that status")
        .signed
        .clone()
}

async fn verdict_of(n: &Net, signed: &SignedCertificate) -> VerifyReport {
    verdict_in(&n.wallet, signed).await
}

async fn verdict_in(wallet: &Wallet, signed: &SignedCertificate) -> VerifyReport {
    wallet
        .verify(&payload(qr::encode(signed).unwrap()))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_verdict_from_the_chain() {
    let n = start().await;
    let valid = sample(&n, SampleStatus::Valid);
    let r = verdict_of(&n, &valid).await;
    assert_eq!(r.verdict, Verdict::Valid, "{r:#?}");
    assert_eq!(r.evidence.proof, ProofStatus::Verified);
    assert_eq!(r.evidence.mode, Mode::Online);
    assert!(r.evidence.record.is_some() && r.evidence.issuer.is_some());
    assert_eq!(
        r.evidence.header_height,
        r.evidence.proven_height.map(|h| h + 1)
    );
    assert!(r.reason.starts_with("Genuine"), "{}", r.reason);
    assert_eq!(
        r.certificate_id.as_deref(),
        Some(valid.certificate.id.to_string().as_str())
    );
    // The facts the UI says the sentence from, in the user's language.
    let f = facts(&r);
    assert_eq!(
        f.issuer_name,
        r.evidence.issuer.as_ref().map(|i| i.legal_name.clone())
    );
    assert!(!f.id_only && f.mismatches.is_empty());
    assert!(f.revocation.is_none() && f.issuer_standing.is_none() && f.expires_at.is_none());

    let r = verdict_of(&n, &sample(&n, SampleStatus::Revoked)).await;
    assert_eq!(r.verdict, Verdict::Revoked, "{r:#?}");
    assert!(r.reason.contains("cancelled"), "{}", r.reason);
    let recorded = r.evidence.record.clone().unwrap().revocation.unwrap();
    assert_eq!(
        facts(&r).revocation,
        Some(RevocationFacts {
            reason: "cancelled".into(),
            time: recorded.time,
            height: recorded.height,
            by: Some(recorded.by.clone()),
            note: Some(recorded.note.clone()).filter(|n| !n.is_empty()),
        })
    );

    let r = verdict_of(&n, &sample(&n, SampleStatus::Expired)).await;
    assert_eq!(r.verdict, Verdict::Expired, "{r:#?}");
    assert_eq!(
        facts(&r).expires_at,
        r.certificate.as_ref().map(|c| c.expires_at)
    );

    let r = verdict_of(&n, &sample(&n, SampleStatus::IssuerRemoved)).await;
    assert_eq!(r.verdict, Verdict::IssuerRemoved, "{r:#?}");
    assert!(
        r.reason.contains(devnet::REMOVED_ISSUER_REASON),
        "{}",
        r.reason
    );
    let standing = facts(&r).issuer_standing.unwrap();
    assert_eq!(standing.status, "removed");
    assert_eq!(
        standing.reason.as_deref(),
        Some(devnet::REMOVED_ISSUER_REASON)
    );
    assert_eq!(
        Some(standing.since),
        r.evidence.issuer.as_ref().map(|i| i.status_since)
    );

    // Altered after signing: the issuer's signature no longer matches.
    let mut altered = valid.clone();
    altered.certificate.goods.quantity = "1".into();
    let r = verdict_of(&n, &altered).await;
    assert_eq!(r.verdict, Verdict::Tampered);
    assert_eq!(r.evidence.mismatch, Some(Mismatch::Signature));
    assert_eq!(facts(&r).mismatches, [Mismatch::Signature]);
    // Re-signed by someone else.
    let forged = valid
        .certificate
        .clone()
        .sign(&n.samples.chain_id, &dev_key("forger"))
        .unwrap();
    assert_eq!(verdict_of(&n, &forged).await.verdict, Verdict::Tampered);

    // Signed by the real issuer but never registered.
    let issuer = n
        .samples
        .issuers
        .iter()
        .find(|i| i.spec.id == valid.certificate.id.issuer)
        .unwrap();
    let mut unregistered = valid.certificate.clone();
    unregistered.id.serial = registry::Serial::new("NEVER-REGISTERED-1").unwrap();
    let unregistered = unregistered.sign(&n.samples.chain_id, &issuer.key).unwrap();
    let r = verdict_of(&n, &unregistered).await;
    assert_eq!(r.verdict, Verdict::NotRegistered, "{r:#?}");
    assert_eq!(facts(&r).issuer_name, Some(issuer.spec.legal_name.clone()));
    assert_eq!(facts(&r).unregistrable, None);

    // An issuer the registry does not know.
    let mut stranger = valid.certificate.clone();
    stranger.id = CertId::new(
        IssuerId::new("XX-NOBODY").unwrap(),
        registry::Serial::new("1").unwrap(),
    );
    let stranger = stranger
        .sign(&n.samples.chain_id, &dev_key("nobody"))
        .unwrap();
    assert_eq!(
        verdict_of(&n, &stranger).await.verdict,
        Verdict::UnknownIssuer
    );

    // Not ours.
    let r = n
        .wallet
        .verify(&payload("https://example.com/certificate/1".into()))
        .await
        .unwrap();
    assert_eq!(r.verdict, Verdict::NotOurs);
    assert_eq!(r.evidence.not_ours, Some(NotOurs::Foreign));
    assert_eq!(facts(&r), Facts::default());

    // By serial: the chain's record alone.
    let by_serial = |id: String| VerifyRequest {
        input: VerifyInput::Serial { id },
        document: None,
        offline: false,
    };
    let r = n
        .wallet
        .verify(&by_serial(valid.certificate.id.to_string()))
        .await
        .unwrap();
    assert_eq!(r.verdict, Verdict::Valid, "{r:#?}");
    assert_eq!(r.source, Source::Serial);
    assert!(r.reason.contains("Compare"), "{}", r.reason);
    assert!(facts(&r).id_only);
    let r = n
        .wallet
        .verify(&by_serial("KE-KEPHIS/NO-SUCH-SERIAL".into()))
        .await
        .unwrap();
    assert_eq!(r.verdict, Verdict::NotRegistered);

    // The history holds all of them, filterable and exportable.
    let all = n
        .wallet
        .history_list(&HistoryQuery::default())
        .await
        .unwrap();
    assert_eq!(all.len(), 11);
    // Kept with their facts.
    assert!(all.iter().all(|r| r.evidence.facts.is_some()), "{all:#?}");
    let tampered = n
        .wallet
        .history_list(&HistoryQuery {
            verdicts: vec![Verdict::Tampered],
            ..HistoryQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(tampered.len(), 2);
    let csv = n
        .wallet
        .history()
        .export(&HistoryQuery::default(), ExportFormat::Csv)
        .await
        .unwrap();
    assert_eq!(csv.lines().count(), 12);
    n.net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn images_pdfs_and_documents() {
    let n = start().await;
    let valid = sample(&n, SampleStatus::Valid);
    let text = qr::encode(&valid).unwrap();
    let png = devnet::qr_png(text.as_bytes()).unwrap();
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let file = |name: &str, bytes: &[u8]| VerifyRequest {
        input: VerifyInput::File {
            name: name.into(),
            base64: b64(bytes),
        },
        document: None,
        offline: false,
    };
    let r = n.wallet.verify(&file("roses.png", &png)).await.unwrap();
    assert_eq!(r.verdict, Verdict::Valid, "{r:#?}");
    assert_eq!(r.source, Source::Image);
    assert_eq!(r.file.as_deref(), Some("roses.png"));

    // The certificate's document: the devnet's samples name the hash of this text.
    let serial = valid.certificate.id.serial.to_string();
    let doc = format!("devnet sample document {serial}");
    let with_doc = |bytes: &[u8]| VerifyRequest {
        document: Some(FileData {
            name: "certificate.pdf".into(),
            base64: b64(bytes),
        }),
        ..file("roses.png", &png)
    };
    let r = n.wallet.verify(&with_doc(doc.as_bytes())).await.unwrap();
    assert_eq!(r.verdict, Verdict::Valid, "{r:#?}");
    assert_eq!(r.evidence.document_matches, Some(true));
    let r = n
        .wallet
        .verify(&with_doc(b"another document"))
        .await
        .unwrap();
    assert_eq!(r.verdict, Verdict::Tampered);
    assert_eq!(r.evidence.mismatch, Some(Mismatch::Document));
    assert_eq!(r.evidence.document_matches, Some(false));

    // Bad files are errors that verify nothing and keep nothing.
    let before = n
        .wallet
        .history_list(&HistoryQuery::default())
        .await
        .unwrap()
        .len();
    for bad in [&b"not an image"[..], &png[..png.len() / 2]] {
        let e = n.wallet.verify(&file("bad.png", bad)).await.unwrap_err();
        assert!(matches!(e, WalletError::InvalidRequest(_)), "{e}");
    }
    let after = n
        .wallet
        .history_list(&HistoryQuery::default())
        .await
        .unwrap()
        .len();
    assert_eq!(after, before, "nothing verified, nothing kept");
    n.net.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn lying_or_unreachable_nodes_never_decide() {
    let n = start().await;
    n.wallet.sync_once().await.unwrap();
    let revoked = sample(&n, SampleStatus::Revoked);
    let forged = {
        let mut c = sample(&n, SampleStatus::Valid);
        c.certificate.goods.quantity = "1".into();
        c
    };
    // Every node lies about values or proofs: nothing is accepted, so nothing is decided.
    n.net.set_behaviour(0, Behaviour::LieValue);
    n.net.set_behaviour(1, Behaviour::LieProof);
    n.net.set_behaviour(2, Behaviour::LieValue);
    for cert in [sample(&n, SampleStatus::Valid), revoked.clone()] {
        let r = verdict_of(&n, &cert).await;
        assert_eq!(r.verdict, Verdict::CannotVerify, "{r:#?}");
        assert_eq!(r.evidence.cannot_verify, Some(CannotVerify::NodeLying));
        assert_eq!(r.evidence.proof, ProofStatus::Failed);
        assert!(!facts(&r).id_only);
    }
    // One honest node is enough to decide, and the liars' answers are never used.
    n.net.set_behaviour(2, Behaviour::Honest);
    let r = verdict_of(&n, &revoked).await;
    assert_eq!(r.verdict, Verdict::Revoked, "{r:#?}");
    assert_eq!(r.evidence.nodes, vec![n.net.rpc_urls()[2].clone()]);

    // The network gone: CANNOT VERIFY (no network), never INVALID, REVOKED or NOT REGISTERED.
    let Net { net, wallet, .. } = n;
    net.shutdown().await;
    for cert in [revoked, forged] {
        let r = verdict_in(&wallet, &cert).await;
        // Even a forged text: without the issuer's proven keys the wallet cannot tell.
        assert_eq!(r.verdict, Verdict::CannotVerify, "{r:#?}");
        assert_eq!(r.evidence.cannot_verify, Some(CannotVerify::NoNetwork));
        assert!(r.certificate.is_some(), "what was read is still shown");
    }
}

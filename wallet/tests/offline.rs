//! Offline verification against the devnet (started inside the test, on loopback): the
//! offline knowledge synced and proven, then the network cut; valid, revoked before the sync,
//! revoked after it, expired, forged, never registered and removed-issuer certificates judged
//! from it with their freshness; the network back: every offline verdict checked again online
//! and the changed ones flagged; the next sync fetches only what is new; the devnet stopped,
//! offline verification still answers.

use std::time::Duration;

use devnet::{Behaviour, Devnet, DevnetConfig, SampleStatus, Samples};
use registry::state::RevocationReason;
use registry::{qr, Serial, SignedCertificate, TxBuilder};
use tradeseal_api::{
    CannotVerify, Mode, Origin, Verdict, VerifyInput, VerifyReport, VerifyRequest,
};
use tradeseal_wallet::Wallet;

use crate::support::{wallet_for, NodeSetup};

fn request(input: VerifyInput, offline: bool) -> VerifyRequest {
    VerifyRequest {
        input,
        document: None,
        offline,
    }
}

fn code(signed: &SignedCertificate) -> VerifyInput {
    VerifyInput::Payload {
        text: qr::encode(signed).unwrap(),
        origin: Origin::Camera,
    }
}

async fn check(wallet: &Wallet, signed: &SignedCertificate, offline: bool) -> VerifyReport {
    wallet
        .verify(&request(code(signed), offline))
        .await
        .unwrap()
}

fn samples_with(samples: &Samples, status: SampleStatus) -> Vec<SignedCertificate> {
    samples
        .certificates
        .iter()
        .filter(|c| c.status == status)
        .map(|c| c.signed.clone())
        .collect()
}

fn cut(net: &Devnet, behaviour: Behaviour) {
    for i in 0..net.rpc_urls().len() {
        net.set_behaviour(i, behaviour.clone());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn offline_verdicts_say_how_fresh_they_are_and_are_checked_again_online() {
    let config = DevnetConfig::for_tests();
    let net = Devnet::start(config.clone()).await.expect("devnet starts");
    assert!(net.wait_for_height(3, Duration::from_secs(20)).await);
    let samples = net.samples().expect("seeded samples").clone();
    let seeded = net.chain().latest_height();
    assert!(
        net.wait_for_height(seeded + 2, Duration::from_secs(20))
            .await
    );
    let dir = tempfile::tempdir().unwrap();
    let wallet = wallet_for(&net, &config, dir.path(), NodeSetup::quick()).await;
    wallet.sync_once().await.unwrap();

    let valid = samples_with(&samples, SampleStatus::Valid);
    assert!(valid.len() >= 2, "two valid samples");
    let (good, revoked_later) = (valid[0].clone(), valid[1].clone());
    let revoked_before = samples_with(&samples, SampleStatus::Revoked)[0].clone();
    let expired = samples_with(&samples, SampleStatus::Expired)[0].clone();
    let removed = samples_with(&samples, SampleStatus::IssuerRemoved)[0].clone();
    let forged = {
        let mut c = good.clone();
        c.certificate.goods.quantity = "1".into();
        c
    };
    let issuer = samples
        .issuers
        .iter()
        .find(|i| i.spec.id == good.certificate.id.issuer)
        .expect("the good sample's issuer");
    // Signed by the real issuer, never registered.
    let never = {
        let mut c = good.certificate.clone();
        c.id.serial = Serial::new("NEVER-REGISTERED-1").unwrap();
        c.sign(&samples.chain_id, &issuer.key).unwrap()
    };

    // Before any sync there is nothing to judge from offline.
    let r = check(&wallet, &good, true).await;
    assert_eq!(r.verdict, Verdict::CannotVerify, "{r:#?}");
    assert_eq!(
        r.evidence.cannot_verify,
        Some(CannotVerify::OfflineDataMissing)
    );
    assert_eq!(r.evidence.mode, Mode::Offline);
    assert!(wallet.offline_status().await.unwrap().is_none());

    // Sync: every issuer (the removed one too) and the whole revocation log, proven.
    let first = wallet.offline_sync().await.unwrap();
    assert_eq!(first.previous_height, 0);
    assert!(first.status.height > 0);
    assert_eq!(first.status.issuers, samples.issuers.len() as u64);
    let revoked_count = samples_with(&samples, SampleStatus::Revoked).len() as u64;
    assert_eq!(first.status.revocations, revoked_count);
    assert_eq!(first.new_revocations, revoked_count);
    assert!(!first.status.stale && !first.status.too_old);
    assert_eq!(
        wallet.offline_status().await.unwrap().unwrap().height,
        first.status.height
    );

    // After the sync, the issuer revokes another certificate.
    let revoke = TxBuilder::new(&samples.chain_id, &issuer.key)
        .revoke(
            500_000,
            revoked_later.certificate.id.clone(),
            RevocationReason::Superseded,
            "replaced",
        )
        .unwrap();
    net.chain()
        .submit_tx(revoke)
        .expect("the revocation is accepted");
    let now = net.chain().latest_height();
    assert!(net.wait_for_height(now + 3, Duration::from_secs(20)).await);

    // The network cut (every node silent): the offline knowledge answers, saying so.
    cut(&net, Behaviour::Timeout);
    let expect = [
        (&good, Verdict::Valid),
        (&revoked_before, Verdict::Revoked),
        // Revoked after the sync: offline, the device cannot know yet.
        (&revoked_later, Verdict::Valid),
        (&expired, Verdict::Expired),
        (&forged, Verdict::Tampered),
        // Offline, whether it was registered cannot be known: the signature is genuine.
        (&never, Verdict::Valid),
        (&removed, Verdict::IssuerRemoved),
    ];
    for (cert, verdict) in expect {
        let r = check(&wallet, cert, false).await;
        assert_eq!(r.verdict, verdict, "{}: {r:#?}", cert.certificate.id);
        assert_eq!(r.evidence.mode, Mode::Offline);
        let f = r.evidence.freshness.as_ref().expect("freshness");
        assert_eq!(f.as_of_height, first.status.height);
        assert!(!f.registration_checked);
        assert!(
            r.reason.contains(&format!("block {}", first.status.height)),
            "{}",
            r.reason
        );
        assert!(r.reason.contains("cannot be known offline"), "{}", r.reason);
        assert!(
            r.evidence
                .detail
                .as_deref()
                .is_some_and(|d| d.contains("network cannot be reached")),
            "{r:#?}"
        );
    }
    // Asked for offline, the same; an id typed in is judged only from the revocation log.
    let r = check(&wallet, &revoked_before, true).await;
    assert_eq!(r.verdict, Verdict::Revoked);
    assert_eq!(r.evidence.detail, None);
    let by_id = |id: &registry::CertId| request(VerifyInput::Serial { id: id.to_string() }, true);
    let r = wallet
        .verify(&by_id(&revoked_before.certificate.id))
        .await
        .unwrap();
    assert_eq!(r.verdict, Verdict::Revoked, "{r:#?}");
    let r = wallet.verify(&by_id(&good.certificate.id)).await.unwrap();
    assert_eq!(r.verdict, Verdict::CannotVerify, "{r:#?}");
    assert_eq!(
        r.evidence.cannot_verify,
        Some(CannotVerify::OfflineDataMissing)
    );
    // With the network still cut, nothing is checked again and nothing is flagged.
    assert!(wallet.recheck_offline().await.unwrap().is_empty());

    // The network back: every offline verdict is checked online; the changes are flagged.
    cut(&net, Behaviour::Honest);
    wallet.sync_once().await.unwrap();
    let rechecked = wallet.recheck_offline().await.unwrap();
    // The check before the sync, 7 with the network cut, one asked offline and two ids: the
    // offline CANNOT VERIFY answers are checked again too.
    assert_eq!(rechecked.len(), 11, "{rechecked:#?}");
    let changed: Vec<(String, Verdict, Verdict)> = rechecked
        .iter()
        .filter_map(|r| {
            let c = r.recheck.as_ref().unwrap();
            c.changed
                .then(|| (r.certificate_id.clone().unwrap(), r.verdict, c.verdict))
        })
        .collect();
    let id = |c: &SignedCertificate| c.certificate.id.to_string();
    assert!(changed.contains(&(id(&revoked_later), Verdict::Valid, Verdict::Revoked)));
    assert!(changed.contains(&(id(&never), Verdict::Valid, Verdict::NotRegistered)));
    assert!(changed.contains(&(id(&good), Verdict::CannotVerify, Verdict::Valid)));
    assert_eq!(changed.len(), 4, "{changed:#?}");
    for r in &rechecked {
        let c = r.recheck.as_ref().unwrap();
        if !c.changed {
            assert_eq!(c.verdict, r.verdict);
        }
    }
    // The history keeps the flag, and nothing is left to check.
    let listed = wallet.history_list(&Default::default()).await.unwrap();
    assert!(listed
        .iter()
        .any(|r| r.recheck.as_ref().is_some_and(|c| c.changed)));
    assert!(wallet.recheck_offline().await.unwrap().is_empty());

    // The next sync fetches only the new revocation.
    let second = wallet.offline_sync().await.unwrap();
    assert_eq!(second.previous_height, first.status.height);
    assert_eq!(second.new_revocations, 1);
    assert_eq!(second.issuers_fetched, 0);
    assert_eq!(second.status.revocations, revoked_count + 1);

    // The devnet stopped: offline verification still answers, from the new knowledge.
    net.shutdown().await;
    let r = check(&wallet, &revoked_later, true).await;
    assert_eq!(r.verdict, Verdict::Revoked, "{r:#?}");
    let r = check(&wallet, &good, false).await;
    assert_eq!(r.verdict, Verdict::Valid, "{r:#?}");
    assert_eq!(r.evidence.mode, Mode::Offline);
}

//! Every transaction rule: who may do what, and that rejected transactions change nothing.

use registry::state::{
    CertRecord, GovAction, InspectionOutcome, IssuerRecord, IssuerSpec, IssuerStatus,
    RevocationEntry, RevocationReason,
};
use registry::{
    keys, sample_certificate, Canonical, CertId, CertificateKind, Country, IssuerId, KindSet,
    Message, PublicKey, RecordInspection, Serial, TxBody, TxBuilder,
};

use crate::support::*;

fn cert(serial: &str, issued_at: u64) -> registry::Certificate {
    sample_certificate(Serial::new(serial).unwrap(), issued_at)
}

fn new_issuer_spec(id: &str, key: &ed25519_dalek::SigningKey) -> IssuerSpec {
    IssuerSpec {
        id: IssuerId::new(id).unwrap(),
        legal_name: "Uganda Revenue Authority".into(),
        country: Country::new("UG").unwrap(),
        keys: vec![PublicKey::from(&key.verifying_key())],
        kinds: KindSet::of(&[CertificateKind::CertificateOfOrigin]),
        valid_from: T0,
        valid_until: T0 + 1_000_000,
    }
}

#[test]
fn issue_and_revoke_by_issuer() {
    let mut c = Chain::new();
    let k = kephis();
    let b = TxBuilder::new(CHAIN, &k);
    let crt = cert("PH-0001", T0);
    let r = c.run(b.issue(1, &crt).unwrap());
    assert_code(&r, 0);
    assert_eq!(r.events[0].kind, "certificate_issued");
    let rec = CertRecord::from_bytes(&c.reg.get(&keys::cert(&crt.id)).unwrap()).unwrap();
    assert_eq!(rec.content_hash, crt.content_hash());
    assert!(rec.revocation.is_none());

    // Duplicate id, even with a fresh sequence.
    assert_code(&c.run(b.issue(2, &crt).unwrap()), 11);
    // Replay of the same bytes.
    assert_code(&c.run(b.issue(1, &crt).unwrap()), 4);

    let r = c.run(
        b.revoke(3, crt.id.clone(), RevocationReason::IssuedInError, "typo")
            .unwrap(),
    );
    assert_code(&r, 0);
    let rec = CertRecord::from_bytes(&c.reg.get(&keys::cert(&crt.id)).unwrap()).unwrap();
    assert_eq!(rec.revocation.unwrap().log_index, 0);
    let e = RevocationEntry::from_bytes(&c.reg.get(&keys::revocation_log(0)).unwrap()).unwrap();
    assert_eq!(e.cert, crt.id);
    assert_eq!(
        c.reg.get(keys::REVOCATION_LOG_LEN).unwrap(),
        1u64.to_be_bytes()
    );
    assert_code(
        &c.run(b.revoke(4, crt.id, RevocationReason::Other, "").unwrap()),
        13,
    );
}

#[test]
fn only_the_right_issuer_and_kind() {
    let mut c = Chain::new();
    let crt = cert("PH-0002", T0);
    // KNCCI may not issue for KEPHIS's id.
    let k = kncci();
    assert_code(
        &c.run(TxBuilder::new(CHAIN, &k).issue(1, &crt).unwrap()),
        21,
    );
    // A governance key is not an issuer.
    let g = gov(0);
    assert_code(&c.run(TxBuilder::new(CHAIN, &g).issue(1, &crt).unwrap()), 5);
    // Unknown key.
    let u = registry::devkit::dev_key("stranger");
    assert_code(&c.run(TxBuilder::new(CHAIN, &u).issue(1, &crt).unwrap()), 5);
    // KEPHIS may not issue certificates of origin.
    let mut coo = cert("COO-1", T0);
    coo.kind = CertificateKind::CertificateOfOrigin;
    let kk = kephis();
    assert_code(
        &c.run(TxBuilder::new(CHAIN, &kk).issue(1, &coo).unwrap()),
        9,
    );
    // Issue time before the issuer's window, expiry before issue, far future.
    assert_code(
        &c.run(
            TxBuilder::new(CHAIN, &kk)
                .issue(2, &cert("PH-3", T0 - 1))
                .unwrap(),
        ),
        10,
    );
    // Expiry before issue: the signed certificate itself is not well-formed. The builder
    // refuses to sign it; sent anyway, the chain refuses it as malformed.
    let mut bad = cert("PH-4", T0);
    bad.expires_at = bad.issued_at;
    assert!(TxBuilder::new(CHAIN, &kk).issue(3, &bad).is_err());
    let unsigned = registry::SignedCertificate {
        certificate: bad,
        signature: [0; 64],
    };
    let msg = Message::IssueCertificate(Box::new(unsigned));
    assert_code(&c.run(raw_tx(&kk, CHAIN, 3, &msg)), 1);
    // The registered record comes from the signed text, so the certificate's signature must be
    // by a key of its issuer and for this chain, whoever sends the transaction.
    let b = TxBuilder::new(CHAIN, &kk);
    let by_stranger = cert("PH-6", T0)
        .sign(CHAIN, &registry::devkit::dev_key("stranger"))
        .unwrap();
    assert_code(&c.run(b.issue_signed(3, &by_stranger).unwrap()), 22);
    let by_other_issuer = cert("PH-6", T0).sign(CHAIN, &kncci()).unwrap();
    assert_code(&c.run(b.issue_signed(3, &by_other_issuer).unwrap()), 22);
    let other_chain = cert("PH-6", T0).sign("other-chain", &kk).unwrap();
    assert_code(&c.run(b.issue_signed(3, &other_chain).unwrap()), 22);
    assert_code(
        &c.run(
            TxBuilder::new(CHAIN, &kk)
                .issue(4, &cert("PH-5", T0 + 10_000))
                .unwrap(),
        ),
        14,
    );
    // Other issuers may not revoke.
    assert_code(
        &c.run(TxBuilder::new(CHAIN, &kk).issue(5, &crt).unwrap()),
        0,
    );
    let r = c.run(
        TxBuilder::new(CHAIN, &k)
            .revoke(2, crt.id.clone(), RevocationReason::Other, "")
            .unwrap(),
    );
    assert_code(&r, 21);
    assert_code(
        &c.run(
            TxBuilder::new(CHAIN, &g)
                .revoke(2, crt.id, RevocationReason::Other, "")
                .unwrap(),
        ),
        5,
    );
    // Revoking an unknown certificate.
    let missing = CertId::parse("KE-KEPHIS/NOPE").unwrap();
    assert_code(
        &c.run(
            TxBuilder::new(CHAIN, &kk)
                .revoke(6, missing, RevocationReason::Other, "")
                .unwrap(),
        ),
        12,
    );
}

#[test]
fn envelope_rules() {
    let mut c = Chain::new();
    let k = kephis();
    let crt = cert("PH-10", T0);
    // Wrong chain.
    assert_code(
        &c.run(TxBuilder::new("other-chain", &k).issue(1, &crt).unwrap()),
        2,
    );
    // Signed by another key than the signer field.
    let body = TxBody {
        chain_id: CHAIN.into(),
        signer: PublicKey::from(&k.verifying_key()),
        sequence: 1,
        message: Message::IssueCertificate(Box::new(crt.clone().sign(CHAIN, &k).unwrap())),
    };
    let forged = body.sign(&kncci()).unwrap().to_bytes();
    assert_code(&c.run(forged), 3);
    // Garbage.
    assert_code(&c.run(vec![1, 2, 3]), 1);
    assert_code(&c.run(Vec::new()), 1);
    // Sequence zero is never valid; gaps are allowed; going back is not.
    let b = TxBuilder::new(CHAIN, &k);
    assert_code(&c.run(b.issue(0, &crt).unwrap()), 4);
    assert_code(&c.run(b.issue(10, &crt).unwrap()), 0);
    assert_code(&c.run(b.issue(9, &cert("PH-11", T0)).unwrap()), 4);
    assert_code(&c.run(b.issue(11, &cert("PH-11", T0)).unwrap()), 0);
    assert_eq!(
        c.reg.get(&keys::account(&b.signer())).unwrap(),
        11u64.to_be_bytes()
    );
}

#[test]
fn rejected_transactions_change_nothing() {
    let mut c = Chain::new();
    let k = kephis();
    let b = TxBuilder::new(CHAIN, &k);
    // Two blocks with identical time: one empty, one with only rejected transactions, from two
    // registries at the same height: the app hashes must match.
    let mut empty = Chain::new();
    let bad = vec![
        b.issue(0, &cert("X-1", T0)).unwrap(),
        TxBuilder::new("other", &k)
            .issue(1, &cert("X-2", T0))
            .unwrap(),
        vec![0xff; 10],
    ];
    let out = c.block(&bad);
    assert!(out.tx_results.iter().all(|r| !r.is_ok()));
    let out2 = empty.block(&[]);
    assert_eq!(out.app_hash, out2.app_hash);
    // A failing approval (action no longer valid) leaves the proposal untouched.
    assert!(c.reg.get(&keys::account(&b.signer())).is_none());
}

#[test]
fn check_tx_matches_rules_and_changes_nothing() {
    let c = Chain::new();
    let k = kephis();
    let b = TxBuilder::new(CHAIN, &k);
    let before = c.reg.app_hash();
    let r = c.reg.check_tx(&b.issue(1, &cert("PH-20", T0)).unwrap());
    assert_code(&r, 0);
    assert_code(&c.reg.check_tx(&b.issue(0, &cert("PH-20", T0)).unwrap()), 4);
    assert_code(&c.reg.check_tx(&[0u8; 3]), 1);
    assert_eq!(c.reg.app_hash(), before);
    assert!(c
        .reg
        .get(&keys::cert(&CertId::parse("KE-KEPHIS/PH-20").unwrap()))
        .is_none());
}

#[test]
fn governance_threshold_register_suspend_reinstate_remove() {
    let mut c = Chain::new();
    let (g0, g1, g2) = (gov(0), gov(1), gov(2));
    let new_key = registry::devkit::dev_key("issuer-ug-ura");
    let spec = new_issuer_spec("UG-URA", &new_key);
    let exp = T0 + 3600;

    // Issuers and strangers cannot propose.
    let kk = kephis();
    assert_code(
        &c.run(
            TxBuilder::new(CHAIN, &kk)
                .propose(1, GovAction::RegisterIssuer(spec.clone()), exp)
                .unwrap(),
        ),
        5,
    );
    // Proposal 0: one approval of two needed: nothing happens yet.
    let r = c.run(
        TxBuilder::new(CHAIN, &g0)
            .propose(1, GovAction::RegisterIssuer(spec.clone()), exp)
            .unwrap(),
    );
    assert_code(&r, 0);
    assert!(c.reg.get(&keys::issuer(&spec.id)).is_none());
    // The proposer cannot approve twice.
    assert_code(
        &c.run(TxBuilder::new(CHAIN, &g0).approve(2, 0).unwrap()),
        18,
    );
    // Unknown proposal.
    assert_code(
        &c.run(TxBuilder::new(CHAIN, &g1).approve(1, 7).unwrap()),
        15,
    );
    // The second approval executes it.
    let r = c.run(TxBuilder::new(CHAIN, &g1).approve(2, 0).unwrap());
    assert_code(&r, 0);
    let rec = IssuerRecord::from_bytes(&c.reg.get(&keys::issuer(&spec.id)).unwrap()).unwrap();
    assert_eq!(rec.status, IssuerStatus::Active);
    // A third approval is too late.
    assert_code(
        &c.run(TxBuilder::new(CHAIN, &g2).approve(1, 0).unwrap()),
        16,
    );
    // Registering the same id, or reusing a key, is refused at proposal time.
    assert_code(
        &c.run(
            TxBuilder::new(CHAIN, &g2)
                .propose(2, GovAction::RegisterIssuer(spec.clone()), exp)
                .unwrap(),
        ),
        7,
    );
    let mut reuse = new_issuer_spec("UG-OTHER", &kk);
    reuse.keys.push(PublicKey::from(&new_key.verifying_key()));
    assert_code(
        &c.run(
            TxBuilder::new(CHAIN, &g2)
                .propose(3, GovAction::RegisterIssuer(reuse), exp)
                .unwrap(),
        ),
        19,
    );

    // The new issuer issues a certificate of origin.
    let ura = TxBuilder::new(CHAIN, &new_key);
    let mut coo = cert("URA-1", c.time);
    coo.kind = CertificateKind::CertificateOfOrigin;
    coo.id = CertId::parse("UG-URA/URA-1").unwrap();
    assert_code(&c.run(ura.issue(1, &coo).unwrap()), 0);

    // Suspend (proposal 1): then it cannot issue, but can still revoke.
    let suspend = GovAction::SuspendIssuer {
        id: spec.id.clone(),
        reason: "audit".into(),
    };
    assert_code(
        &c.run(TxBuilder::new(CHAIN, &g2).propose(4, suspend, exp).unwrap()),
        0,
    );
    assert_code(&c.run(TxBuilder::new(CHAIN, &g0).approve(3, 1).unwrap()), 0);
    let mut coo2 = coo.clone();
    coo2.id = CertId::parse("UG-URA/URA-2").unwrap();
    assert_code(&c.run(ura.issue(2, &coo2).unwrap()), 8);
    // Suspending twice is an invalid transition (refused at proposal time).
    let again = GovAction::SuspendIssuer {
        id: spec.id.clone(),
        reason: String::new(),
    };
    assert_code(
        &c.run(TxBuilder::new(CHAIN, &g2).propose(5, again, exp).unwrap()),
        20,
    );
    // Reinstate (proposal 2), issue again.
    let reinstate = GovAction::ReinstateIssuer {
        id: spec.id.clone(),
        reason: "ok".into(),
    };
    assert_code(
        &c.run(
            TxBuilder::new(CHAIN, &g1)
                .propose(3, reinstate, exp)
                .unwrap(),
        ),
        0,
    );
    assert_code(&c.run(TxBuilder::new(CHAIN, &g2).approve(6, 2).unwrap()), 0);
    assert_code(&c.run(ura.issue(3, &coo2).unwrap()), 0);
    // Governance revokes (proposal 3).
    let revoke = GovAction::RevokeCertificate {
        cert: coo.id.clone(),
        reason: RevocationReason::Fraudulent,
        note: "forged invoice".into(),
    };
    assert_code(
        &c.run(TxBuilder::new(CHAIN, &g0).propose(4, revoke, exp).unwrap()),
        0,
    );
    assert_code(&c.run(TxBuilder::new(CHAIN, &g1).approve(4, 3).unwrap()), 0);
    let rec = CertRecord::from_bytes(&c.reg.get(&keys::cert(&coo.id)).unwrap()).unwrap();
    assert!(rec.revocation.is_some());
    // Remove (proposal 4): terminal.
    let remove = GovAction::RemoveIssuer {
        id: spec.id.clone(),
        reason: "closed".into(),
    };
    assert_code(
        &c.run(TxBuilder::new(CHAIN, &g0).propose(5, remove, exp).unwrap()),
        0,
    );
    assert_code(&c.run(TxBuilder::new(CHAIN, &g2).approve(7, 4).unwrap()), 0);
    let rec = IssuerRecord::from_bytes(&c.reg.get(&keys::issuer(&spec.id)).unwrap()).unwrap();
    assert_eq!(rec.status, IssuerStatus::Removed);
    assert_code(
        &c.run(ura.revoke(4, coo2.id, RevocationReason::Other, "").unwrap()),
        8,
    );
    let reinstate = GovAction::ReinstateIssuer {
        id: spec.id,
        reason: String::new(),
    };
    assert_code(
        &c.run(
            TxBuilder::new(CHAIN, &g0)
                .propose(6, reinstate, exp)
                .unwrap(),
        ),
        20,
    );
    // Issuer log: 3 genesis + registered, suspended, reinstated, removed.
    assert_eq!(c.reg.get(keys::ISSUER_LOG_LEN).unwrap(), 7u64.to_be_bytes());
}

#[test]
fn proposals_expire() {
    let mut c = Chain::new();
    let (g0, g1) = (gov(0), gov(1));
    let act = GovAction::SuspendIssuer {
        id: IssuerId::new("KE-KNCCI").unwrap(),
        reason: String::new(),
    };
    assert_code(
        &c.run(
            TxBuilder::new(CHAIN, &g0)
                .propose(1, act.clone(), c.time)
                .unwrap(),
        ),
        14,
    );
    assert_code(
        &c.run(
            TxBuilder::new(CHAIN, &g0)
                .propose(2, act, c.time + 6)
                .unwrap(),
        ),
        0,
    );
    c.block(&[]);
    assert_code(
        &c.run(TxBuilder::new(CHAIN, &g1).approve(1, 0).unwrap()),
        17,
    );
}

#[test]
fn inspections() {
    let mut c = Chain::new();
    let k = nl_customs();
    let b = TxBuilder::new(CHAIN, &k);
    let id = CertId::parse("KE-KEPHIS/PH-99").unwrap();
    let ins = |agency: &str, at: u64| RecordInspection {
        cert: id.clone(),
        agency: IssuerId::new(agency).unwrap(),
        location: "Schiphol cargo".into(),
        outcome: InspectionOutcome::Compliant,
        notes: String::new(),
        inspected_at: at,
    };
    // A certificate that is not on the chain: refused (code 12), nothing is written.
    let before = c.reg.app_hash();
    let r = c.run(b.record_inspection(1, ins("NL-CUSTOMS", T0)).unwrap());
    assert_code(&r, 12);
    assert!(r.log.contains("KE-KEPHIS/PH-99"), "{}", r.log);
    assert!(c.reg.get(&keys::inspection_len(&id)).is_none());
    assert!(c.reg.get(&keys::account(&b.signer())).is_none());
    assert_ne!(c.reg.app_hash(), before, "meta/block still moves");
    let kk = kephis();
    assert_code(
        &c.run(
            TxBuilder::new(CHAIN, &kk)
                .issue(1, &cert("PH-99", T0))
                .unwrap(),
        ),
        0,
    );
    // Recorded offline long before the block: fine.
    assert_code(
        &c.run(
            b.record_inspection(1, ins("NL-CUSTOMS", T0 - 86_400))
                .unwrap(),
        ),
        0,
    );
    assert_code(
        &c.run(b.record_inspection(2, ins("NL-CUSTOMS", T0)).unwrap()),
        0,
    );
    assert_eq!(
        c.reg.get(&keys::inspection_len(&id)).unwrap(),
        2u64.to_be_bytes()
    );
    let rec = registry::state::InspectionRecord::from_bytes(
        &c.reg.get(&keys::inspection(&id, 1)).unwrap(),
    )
    .unwrap();
    assert_eq!(rec.inspector, b.signer());
    // For another agency, in the future, or by a stranger: refused.
    assert_code(
        &c.run(b.record_inspection(3, ins("KE-KEPHIS", T0)).unwrap()),
        21,
    );
    assert_code(
        &c.run(
            b.record_inspection(4, ins("NL-CUSTOMS", c.time + 10_000))
                .unwrap(),
        ),
        14,
    );
    let s = registry::devkit::dev_key("stranger");
    assert_code(
        &c.run(
            TxBuilder::new(CHAIN, &s)
                .record_inspection(1, ins("NL-CUSTOMS", T0))
                .unwrap(),
        ),
        5,
    );
}

#[test]
fn block_order_is_enforced() {
    let mut c = Chain::new();
    assert!(c.reg.execute_block(2, T0 + 1, &[]).is_err());
    assert!(c.reg.execute_block(1, T0 - 1, &[]).is_err());
    assert!(c.reg.execute_block(1, T0, &[]).is_ok());
    c.block(&[]);
    assert_eq!(c.reg.last_height(), 2);
}

#[test]
fn invalid_transactions_inside_a_block_leave_no_trace() {
    let k = kephis();
    let b = TxBuilder::new(CHAIN, &k);
    let ok1 = b.issue(1, &cert("M-1", T0)).unwrap();
    let ok2 = b.issue(2, &cert("M-2", T0)).unwrap();
    let bad = [
        // Sequence 2, already used by ok2 earlier in the block.
        b.issue(2, &cert("M-3", T0)).unwrap(),
        // Duplicate id.
        b.issue(5, &cert("M-1", T0)).unwrap(),
        // Wrong chain.
        TxBuilder::new("x", &k).issue(6, &cert("M-4", T0)).unwrap(),
    ];
    let mut with_bad = Chain::new();
    let out = with_bad.block(&[
        ok1.clone(),
        bad[1].clone(),
        bad[2].clone(),
        ok2.clone(),
        bad[0].clone(),
    ]);
    let codes: Vec<u32> = out.tx_results.iter().map(|r| r.code).collect();
    assert_eq!(codes, vec![0, 11, 2, 0, 4]);
    let mut clean = Chain::new();
    let out2 = clean.block(&[ok1, ok2]);
    assert_eq!(out.app_hash, out2.app_hash);
}

#[test]
fn approval_whose_action_fails_is_refused_and_the_proposal_stays_open() {
    let mut c = Chain::new();
    let (g0, g1) = (gov(0), gov(1));
    let key = registry::devkit::dev_key("issuer-tz-tra");
    let spec = new_issuer_spec("TZ-TRA", &key);
    let exp = T0 + 3600;
    // Two proposals to register the same issuer: both valid when proposed.
    assert_code(
        &c.run(
            TxBuilder::new(CHAIN, &g0)
                .register_issuer(1, spec.clone(), exp)
                .unwrap(),
        ),
        0,
    );
    assert_code(
        &c.run(
            TxBuilder::new(CHAIN, &g0)
                .register_issuer(2, spec, exp)
                .unwrap(),
        ),
        0,
    );
    assert_code(&c.run(TxBuilder::new(CHAIN, &g1).approve(1, 0).unwrap()), 0);
    let before = c.reg.get(&keys::proposal(1)).unwrap();
    let r = c.run(TxBuilder::new(CHAIN, &g1).approve(2, 1).unwrap());
    assert_code(&r, 7);
    assert_eq!(c.reg.get(&keys::proposal(1)).unwrap(), before);
    let p = registry::state::Proposal::from_bytes(&before).unwrap();
    assert_eq!(p.status, registry::state::ProposalStatus::Open);
    assert_eq!(p.approvals.len(), 1);
    // The approver's sequence did not move either: sequence 2 is still usable.
    assert_code(&c.run(TxBuilder::new(CHAIN, &g1).approve(2, 1).unwrap()), 7);
}

#[test]
fn sequences_are_bounded_so_no_key_is_locked() {
    let mut c = Chain::new();
    let k = kephis();
    let b = TxBuilder::new(CHAIN, &k);
    let before = c.reg.app_hash();
    // u64::MAX would leave no greater sequence: refused, the account is untouched.
    let r = c.run(b.issue(u64::MAX, &cert("S-1", T0)).unwrap());
    assert_code(&r, 23);
    assert!(r.log.contains("sequence"), "{}", r.log);
    assert!(c.reg.get(&keys::account(&b.signer())).is_none());
    assert_ne!(c.reg.app_hash(), before);
    assert_code(
        &c.run(
            b.issue(registry::MAX_SEQUENCE_GAP + 1, &cert("S-1", T0))
                .unwrap(),
        ),
        23,
    );
    // Gaps up to the bound are fine, counted from the last accepted sequence.
    let first = registry::MAX_SEQUENCE_GAP;
    assert_code(&c.run(b.issue(first, &cert("S-1", T0)).unwrap()), 0);
    assert_code(
        &c.run(
            b.issue(first + registry::MAX_SEQUENCE_GAP + 1, &cert("S-2", T0))
                .unwrap(),
        ),
        23,
    );
    assert_code(
        &c.run(
            b.issue(first + registry::MAX_SEQUENCE_GAP, &cert("S-2", T0))
                .unwrap(),
        ),
        0,
    );
    // check_tx applies the same rule.
    assert_code(
        &c.reg
            .check_tx(&b.issue(u64::MAX, &cert("S-3", T0)).unwrap()),
        23,
    );
}

#[test]
fn issuer_keys_must_be_valid_points() {
    let mut c = Chain::new();
    let g0 = gov(0);
    let good = registry::devkit::dev_key("new-issuer");
    let mut spec = new_issuer_spec("UG-URA", &good);
    // The identity point: small order, it could never sign under verify_strict.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    spec.keys.push(PublicKey(identity));
    let exp = c.time + 3600;
    // The builder refuses it with the field named.
    let err = TxBuilder::new(CHAIN, &g0)
        .register_issuer(1, spec.clone(), exp)
        .unwrap_err();
    assert!(err.to_string().contains("issuer.keys"), "{err}");
    // Sent anyway, the chain refuses the proposal (code 24) and nothing changes.
    let msg = Message::Propose {
        action: GovAction::RegisterIssuer(spec.clone()),
        expires_at: exp,
    };
    let r = c.run(raw_tx(&g0, CHAIN, 1, &msg));
    assert_code(&r, 24);
    assert!(c.reg.get(&keys::issuer(&spec.id)).is_none());
    assert_eq!(c.reg.get(keys::PROPOSAL_LEN).unwrap(), 0u64.to_be_bytes());
    assert!(c
        .reg
        .get(&keys::account(&PublicKey::from(&g0.verifying_key())))
        .is_none());
    // Bytes that are not a point at all.
    let off_curve = (0u8..=255)
        .map(|b| PublicKey([b; 32]))
        .find(|k| !k.is_valid_ed25519())
        .unwrap();
    spec.keys[1] = off_curve;
    let msg = Message::Propose {
        action: GovAction::RegisterIssuer(spec),
        expires_at: exp,
    };
    assert_code(&c.run(raw_tx(&g0, CHAIN, 1, &msg)), 24);
}

#[test]
fn genesis_keys_must_be_valid_points() {
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let mut g = registry::devkit::demo_genesis(CHAIN, T0);
    g.issuers[0].keys.push(PublicKey(identity));
    let err = registry::Registry::new(&g).unwrap_err();
    assert!(err.to_string().contains("issuer.keys"), "{err}");
    let mut g = registry::devkit::demo_genesis(CHAIN, T0);
    g.governance.keys.push(PublicKey([0; 32]));
    let err = registry::Registry::new(&g).unwrap_err();
    assert!(err.to_string().contains("governance.keys"), "{err}");
}

#[test]
fn fields_over_their_limit_are_refused_when_decoded() {
    let mut c = Chain::new();
    let n = nl_customs();
    let kk = kephis();
    assert_code(
        &c.run(
            TxBuilder::new(CHAIN, &kk)
                .issue(1, &cert("L-1", T0))
                .unwrap(),
        ),
        0,
    );
    // A 65-byte location fits the encoding (255) but not its field (64): the builder refuses,
    // and the chain refuses the hand-made transaction as malformed, naming the field.
    let m = RecordInspection {
        cert: CertId::parse("KE-KEPHIS/L-1").unwrap(),
        agency: IssuerId::new("NL-CUSTOMS").unwrap(),
        location: "L".repeat(65),
        outcome: InspectionOutcome::Compliant,
        notes: String::new(),
        inspected_at: T0,
    };
    assert!(TxBuilder::new(CHAIN, &n)
        .record_inspection(1, m.clone())
        .is_err());
    let r = c.run(raw_tx(&n, CHAIN, 1, &Message::RecordInspection(m)));
    assert_code(&r, 1);
    assert!(r.log.contains("inspection.location"), "{}", r.log);
}

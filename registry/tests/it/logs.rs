//! The logs' hash-chain heads (`issuer_log/head`, `revocation_log/head`) kept by execution,
//! checked against the client-side recomputation over the stored entries; the page queries
//! (`/log/issuer`, `/log/revocation`) and their bounds.

use registry::log::{Log, LogHead, Page, PageRequest, MAX_PAGE_ENTRIES};
use registry::state::RevocationReason;
use registry::{sample_certificate, Canonical as _, CertId, IssuerId, Serial, TxBuilder};

use crate::support::*;

/// The head the chain stores for `log`, at the latest version.
fn stored_head(c: &Chain, log: Log) -> Option<LogHead> {
    c.reg
        .get(log.head_key())
        .map(|b| LogHead::from_bytes(&b).unwrap())
}

/// The head recomputed over the entries in state, as a client does.
fn recomputed(c: &Chain, log: Log) -> LogHead {
    let len = registry::state::decode_u64(&c.reg.get(log.len_key()).unwrap()).unwrap();
    let entries: Vec<Vec<u8>> = (0..len)
        .map(|n| c.reg.get(&log.entry_key(n)).unwrap())
        .collect();
    log.extend(LogHead::EMPTY, entries.iter().map(Vec::as_slice))
}

fn page(c: &Chain, log: Log, from: u64, count: u32, height: Option<u64>) -> registry::QueryResult {
    c.reg.query(
        log.page_path(),
        &PageRequest { from, count }.to_bytes(),
        height,
        false,
    )
}

/// A chain with `n` certificates of KE-KEPHIS issued.
fn chain_with_certs(n: usize) -> Chain {
    let mut c = Chain::new();
    let k = kephis();
    let b = TxBuilder::new(CHAIN, &k);
    let txs: Vec<Vec<u8>> = (0..n)
        .map(|i| {
            b.issue(
                i as u64 + 1,
                &sample_certificate(Serial::new(format!("PH-{i}")).unwrap(), T0),
            )
            .unwrap()
        })
        .collect();
    assert!(c.block(&txs).tx_results.iter().all(|r| r.is_ok()));
    c
}

fn revoke(from_sequence: u64, serials: &[usize]) -> Vec<Vec<u8>> {
    let k = kephis();
    let b = TxBuilder::new(CHAIN, &k);
    serials
        .iter()
        .enumerate()
        .map(|(i, s)| {
            b.revoke(
                from_sequence + i as u64,
                CertId::parse(&format!("KE-KEPHIS/PH-{s}")).unwrap(),
                RevocationReason::Superseded,
                "",
            )
            .unwrap()
        })
        .collect()
}

#[test]
fn heads_follow_every_append_and_equal_the_recomputation() {
    let mut c = chain_with_certs(6);
    // The genesis writes no head (its state and app hash are those of before heads).
    assert_eq!(stored_head(&c, Log::Revocation), None);
    assert_eq!(stored_head(&c, Log::Issuer), None);

    // One revocation, then two in one block (the second extends the first's head).
    assert!(c.block(&revoke(7, &[0])).tx_results[0].is_ok());
    let one = stored_head(&c, Log::Revocation).unwrap();
    assert_eq!(one.len, 1);
    assert_eq!(one, recomputed(&c, Log::Revocation));
    let out = c.block(&revoke(8, &[3, 5]));
    assert!(out.tx_results.iter().all(|r| r.is_ok()));
    let three = stored_head(&c, Log::Revocation).unwrap();
    assert_eq!(three.len, 3);
    assert_eq!(three, recomputed(&c, Log::Revocation));
    // Extending the earlier head over the new entries gives the same head.
    let new: Vec<Vec<u8>> = (1..3)
        .map(|n| c.reg.get(&Log::Revocation.entry_key(n)).unwrap())
        .collect();
    assert_eq!(
        Log::Revocation.extend(one, new.iter().map(Vec::as_slice)),
        three
    );
    // A refused revocation (already revoked) changes no head.
    assert_code(&c.run(revoke(10, &[3]).remove(0)), 13);
    assert_eq!(stored_head(&c, Log::Revocation), Some(three));

    // The first issuer change after genesis computes the head over the genesis entries too.
    let exp = c.time + 86_400;
    let suspend = TxBuilder::new(CHAIN, &gov(2))
        .suspend_issuer(1, IssuerId::new("KE-KNCCI").unwrap(), "audit", exp)
        .unwrap();
    assert_code(&c.run(suspend), 0);
    assert_code(
        &c.run(TxBuilder::new(CHAIN, &gov(0)).approve(1, 0).unwrap()),
        0,
    );
    let issuers = stored_head(&c, Log::Issuer).unwrap();
    let genesis_issuers = registry::devkit::demo_genesis(CHAIN, T0).issuers.len() as u64;
    assert_eq!(issuers.len, genesis_issuers + 1);
    assert_eq!(issuers, recomputed(&c, Log::Issuer));
}

#[test]
fn pages_serve_the_stored_entries_at_a_committed_height() {
    let mut c = chain_with_certs(6);
    assert!(c.block(&revoke(7, &[0, 1])).tx_results[0].is_ok());
    let h2 = c.reg.last_height();
    assert!(c.block(&revoke(9, &[2, 3, 4])).tx_results[0].is_ok());

    let q = page(&c, Log::Revocation, 0, 5, None);
    assert_eq!(q.code, 0, "{}", q.log);
    assert!(q.proof.is_none());
    let p = Page::from_bytes(q.value.as_deref().unwrap()).unwrap();
    assert_eq!(p.from, 0);
    let stored: Vec<Vec<u8>> = (0..5)
        .map(|n| c.reg.get(&Log::Revocation.entry_key(n)).unwrap())
        .collect();
    assert_eq!(p.entries, stored);
    let head = Log::Revocation.extend(LogHead::EMPTY, p.entries.iter().map(Vec::as_slice));
    assert_eq!(Some(head), stored_head(&c, Log::Revocation));

    // A middle page.
    let q = page(&c, Log::Revocation, 2, 2, None);
    let p = Page::from_bytes(q.value.as_deref().unwrap()).unwrap();
    assert_eq!((p.from, p.entries.as_slice()), (2, &stored[2..4]));

    // At an earlier height the log was shorter.
    let q = page(&c, Log::Revocation, 0, 2, Some(h2));
    assert_eq!(q.code, 0, "{}", q.log);
    assert_eq!(q.height, h2);
    assert_eq!(
        Page::from_bytes(q.value.as_deref().unwrap())
            .unwrap()
            .entries,
        stored[..2]
    );
    assert_eq!(page(&c, Log::Revocation, 0, 3, Some(h2)).code, 105);

    // The genesis entries of the issuer log (no head yet) are served too.
    let q = page(&c, Log::Issuer, 0, 1, None);
    assert_eq!(q.code, 0, "{}", q.log);
}

#[test]
fn bad_page_requests_get_clear_codes() {
    let mut c = chain_with_certs(2);
    assert!(c.block(&revoke(3, &[0, 1])).tx_results[0].is_ok());
    let latest = c.reg.last_height();
    for (from, count, code) in [
        (0, 0, 104),
        (0, MAX_PAGE_ENTRIES + 1, 104),
        (2, 1, 105),
        (1, 2, 105),
        (u64::MAX, 1, 105),
    ] {
        let q = page(&c, Log::Revocation, from, count, None);
        assert_eq!(q.code, code, "from {from} count {count}: {}", q.log);
        assert!(!q.log.is_empty());
        assert!(q.value.is_none());
    }
    // Data that is not a page request.
    let q = c.reg.query("/log/revocation", b"short", None, false);
    assert_eq!(q.code, 104, "{}", q.log);
    // A height not yet produced.
    assert_eq!(page(&c, Log::Revocation, 0, 1, Some(latest + 1)).code, 103);
    // An unknown log.
    assert_eq!(c.reg.query("/log/other", &[], None, false).code, 101);
}

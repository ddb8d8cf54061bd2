//! The bodies of the fuzz targets (`registry/fuzz`), shared with the corpus replay test so
//! that CI exercises every corpus input without a nightly toolchain.

use std::sync::OnceLock;

use crate::app::Registry;
use crate::codec::Canonical;
use crate::devkit::demo_genesis;
use crate::qr;
use crate::state::{
    BlockMeta, CertRecord, Governance, InspectionRecord, IssuerLogEntry, IssuerRecord, Proposal,
    RevocationEntry, ValidatorTotals,
};
use crate::tx::Tx;

/// QR parser: no panic; a parsed payload re-encodes to exactly the input.
pub fn qr_payload(data: &[u8]) {
    if let Ok(signed) = qr::decode(data) {
        let text = qr::encode(&signed);
        assert_eq!(
            text.as_ref().map(String::as_bytes),
            Ok(data),
            "QR payload is not canonical"
        );
    }
}

fn demo_registry() -> &'static Registry {
    static REG: OnceLock<Registry> = OnceLock::new();
    REG.get_or_init(|| {
        Registry::new(&demo_genesis("tradeseal-fuzz", 1_767_225_600))
            .expect("the demo genesis is valid")
    })
}

/// Transaction decoder: no panic; a decoded transaction re-encodes to the input; `check_tx`
/// answers with a code.
pub fn tx_decode(data: &[u8]) {
    if let Ok(tx) = Tx::decode(data) {
        assert_eq!(tx.to_bytes(), data, "transaction encoding is not canonical");
    }
    let r = demo_registry().check_tx(data);
    assert!(r.code == 0 || !r.log.is_empty());
}

fn round_trip<T: Canonical>(data: &[u8]) {
    if let Ok(v) = T::from_bytes(data) {
        assert_eq!(v.to_bytes(), data, "state value encoding is not canonical");
    }
}

/// State value decoders: the first byte picks the record type, the rest is decoded.
pub fn state_values(data: &[u8]) {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    match which % 10 {
        0 => round_trip::<IssuerRecord>(rest),
        1 => round_trip::<CertRecord>(rest),
        2 => round_trip::<RevocationEntry>(rest),
        3 => round_trip::<IssuerLogEntry>(rest),
        4 => round_trip::<InspectionRecord>(rest),
        5 => round_trip::<Proposal>(rest),
        6 => round_trip::<Governance>(rest),
        7 => round_trip::<BlockMeta>(rest),
        8 => {
            let _ = crate::proof::decode_proof(rest);
        }
        _ => round_trip::<ValidatorTotals>(rest),
    }
}

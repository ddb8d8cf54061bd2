//! Deterministic keys and a demo genesis for the local network, examples and tests.
//!
//! Keys are derived from a seed string with SHA-256: never use them outside development.

use ed25519_dalek::SigningKey;
use sha2::{Digest, Sha256};

use crate::genesis::Genesis;
use crate::state::{Governance, IssuerSpec};
use crate::types::{CertificateKind, Country, IssuerId, KindSet, PublicKey};

/// A development signing key: the ed25519 secret is SHA-256 of `"tradeseal-dev-key/" + label`.
pub fn dev_key(label: &str) -> SigningKey {
    let seed: [u8; 32] = Sha256::new()
        .chain_update(b"tradeseal-dev-key/")
        .chain_update(label.as_bytes())
        .finalize()
        .into();
    SigningKey::from_bytes(&seed)
}

/// The public key of [`dev_key`]`(label)`.
pub fn dev_public_key(label: &str) -> PublicKey {
    PublicKey::from(&dev_key(label).verifying_key())
}

/// Labels of the demo governance keys (`gov-0`, `gov-1`, `gov-2`; threshold 2).
pub const DEMO_GOVERNANCE: [&str; 3] = ["gov-0", "gov-1", "gov-2"];

/// The demo issuers: (id, legal name, country, key label, kinds).
pub const DEMO_ISSUERS: [(&str, &str, &str, &str, &[CertificateKind]); 3] = [
    (
        "KE-KEPHIS",
        "Kenya Plant Health Inspectorate Service",
        "KE",
        "issuer-ke-kephis",
        &[CertificateKind::Phytosanitary, CertificateKind::Fumigation],
    ),
    (
        "KE-KNCCI",
        "Kenya National Chamber of Commerce and Industry",
        "KE",
        "issuer-ke-kncci",
        &[CertificateKind::CertificateOfOrigin],
    ),
    (
        "NL-CUSTOMS",
        "Douane Nederland",
        "NL",
        "agency-nl-customs",
        &[],
    ),
];

/// A demo genesis: 2-of-3 governance ([`DEMO_GOVERNANCE`]) and the [`DEMO_ISSUERS`], each
/// valid from `genesis_time` for ten years.
pub fn demo_genesis(chain_id: &str, genesis_time: u64) -> Genesis {
    let issuers = DEMO_ISSUERS
        .iter()
        .map(|(id, name, country, key, kinds)| IssuerSpec {
            id: IssuerId::new(*id).expect("constant id is valid"),
            legal_name: (*name).to_owned(),
            country: Country::new(country).expect("constant country is valid"),
            keys: vec![dev_public_key(key)],
            kinds: KindSet::of(kinds),
            valid_from: genesis_time,
            valid_until: genesis_time.saturating_add(10 * 365 * 24 * 3600),
        })
        .collect();
    Genesis {
        chain_id: chain_id.to_owned(),
        genesis_time,
        governance: Governance {
            threshold: 2,
            keys: DEMO_GOVERNANCE.iter().map(|l| dev_public_key(l)).collect(),
        },
        issuers,
        validators: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_genesis_is_valid_and_stable() {
        let g = demo_genesis("tradeseal-devnet", 1_700_000_000);
        g.validate().unwrap();
        assert_eq!(dev_public_key("gov-0"), dev_public_key("gov-0"));
        assert_ne!(dev_public_key("gov-0"), dev_public_key("gov-1"));
        let json = serde_json::to_string(&g).unwrap();
        let back: Genesis = serde_json::from_str(&json).unwrap();
        assert_eq!(back, g);
    }
}

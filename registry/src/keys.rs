//! The state key layout: every key the registry writes, as ASCII byte strings.
//!
//! Keys are hashed (SHA-256) into the Jellyfish Merkle tree, so they have no order; logs use
//! an explicit `len` counter and numbered entries. Numbers in keys are decimal without leading
//! zeros; public keys are 64 lowercase hex digits; ids are their text.

use crate::types::{CertId, IssuerId, PublicKey};

/// Written at genesis so that the tree is never empty (an empty tree cannot prove absence).
pub const SENTINEL: &[u8] = b"meta/sentinel";
/// The value of [`SENTINEL`].
pub const SENTINEL_VALUE: &[u8] = b"tradeseal-registry/v1";
/// The chain id (UTF-8).
pub const CHAIN_ID: &[u8] = b"meta/chain_id";
/// The last executed block ([`crate::state::BlockMeta`]).
pub const BLOCK: &[u8] = b"meta/block";
/// The governance ([`crate::state::Governance`]).
pub const GOVERNANCE: &[u8] = b"gov/config";
/// Number of proposals ever made (`u64`).
pub const PROPOSAL_LEN: &[u8] = b"gov/proposal/len";
/// Length of the revocation log (`u64`).
pub const REVOCATION_LOG_LEN: &[u8] = b"revocation_log/len";
/// Length of the issuer log (`u64`).
pub const ISSUER_LOG_LEN: &[u8] = b"issuer_log/len";
/// The revocation log's length and hash-chain head ([`crate::log::LogHead`]); written with
/// every revocation (absent on a chain whose log has not changed since before heads existed).
pub const REVOCATION_LOG_HEAD: &[u8] = b"revocation_log/head";
/// The issuer log's length and hash-chain head ([`crate::log::LogHead`]); written with every
/// issuer change (absent until the first change after genesis).
pub const ISSUER_LOG_HEAD: &[u8] = b"issuer_log/head";
/// The size of the validator set ([`crate::state::ValidatorTotals`]); absent when the
/// genesis listed no validators (the registry then knows no set and refuses validator
/// changes).
pub const VALIDATOR_SET: &[u8] = b"validator_set";
/// The prefix of [`validator`] keys.
pub const VALIDATOR_PREFIX: &str = "validator/";

/// `gov/proposal/<n>`.
pub fn proposal(n: u64) -> Vec<u8> {
    format!("gov/proposal/{n}").into_bytes()
}

/// `issuer/<id>`.
pub fn issuer(id: &IssuerId) -> Vec<u8> {
    format!("issuer/{id}").into_bytes()
}

/// `issuer_key/<hex>`: the issuer id that owns a signing key.
pub fn issuer_key(key: &PublicKey) -> Vec<u8> {
    format!("issuer_key/{}", key.to_hex()).into_bytes()
}

/// `issuer_log/<n>`.
pub fn issuer_log(n: u64) -> Vec<u8> {
    format!("issuer_log/{n}").into_bytes()
}

/// `validator/<hex>`: a consensus validator's voting power (`u64`; 0 once removed).
pub fn validator(key: &PublicKey) -> Vec<u8> {
    format!("{VALIDATOR_PREFIX}{}", key.to_hex()).into_bytes()
}

/// The validator a [`validator`] key names (`None` for any other key).
pub fn parse_validator(key: &[u8]) -> Option<PublicKey> {
    let hex = std::str::from_utf8(key)
        .ok()?
        .strip_prefix(VALIDATOR_PREFIX)?;
    if hex.len() != 64 || hex.bytes().any(|b| b.is_ascii_uppercase()) {
        return None;
    }
    PublicKey::from_hex(hex).ok()
}

/// `cert/<issuer>/<serial>`.
pub fn cert(id: &CertId) -> Vec<u8> {
    format!("cert/{}/{}", id.issuer, id.serial).into_bytes()
}

/// `revocation_log/<n>`.
pub fn revocation_log(n: u64) -> Vec<u8> {
    format!("revocation_log/{n}").into_bytes()
}

/// `account/<hex>`: the last sequence number used by a key.
pub fn account(key: &PublicKey) -> Vec<u8> {
    format!("account/{}", key.to_hex()).into_bytes()
}

/// `inspection/<issuer>/<serial>/len`: number of inspections of a certificate.
pub fn inspection_len(id: &CertId) -> Vec<u8> {
    format!("inspection/{}/{}/len", id.issuer, id.serial).into_bytes()
}

/// `inspection/<issuer>/<serial>/<n>`.
pub fn inspection(id: &CertId, n: u64) -> Vec<u8> {
    format!("inspection/{}/{}/{n}", id.issuer, id.serial).into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_is_stable() {
        let id = CertId::parse("KE-KEPHIS/PH-1").unwrap();
        assert_eq!(cert(&id), b"cert/KE-KEPHIS/PH-1");
        assert_eq!(inspection(&id, 0), b"inspection/KE-KEPHIS/PH-1/0");
        assert_eq!(inspection_len(&id), b"inspection/KE-KEPHIS/PH-1/len");
        assert_eq!(revocation_log(12), b"revocation_log/12");
        assert_eq!(issuer(&id.issuer), b"issuer/KE-KEPHIS");
        assert_eq!(
            account(&PublicKey([0xab; 32])),
            format!("account/{}", "ab".repeat(32)).as_bytes()
        );
        assert_eq!(proposal(3), b"gov/proposal/3");
        let v = PublicKey([0xcd; 32]);
        assert_eq!(
            validator(&v),
            format!("validator/{}", "cd".repeat(32)).as_bytes()
        );
        assert_eq!(parse_validator(&validator(&v)), Some(v));
        assert_eq!(parse_validator(VALIDATOR_SET), None);
        assert_eq!(parse_validator(&account(&v)), None);
        assert_eq!(
            parse_validator(format!("validator/{}", "CD".repeat(32)).as_bytes()),
            None
        );
    }
}

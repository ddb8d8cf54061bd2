//! Development keys, derived deterministically from the network seed. DEVELOPMENT ONLY: anyone
//! who knows the seed (the default one is public) can sign as these validators and issuers.

use ed25519_dalek::{Signer as _, SigningKey};
use sha2::{Digest as _, Sha256};

/// The warning written next to every development key the network exports.
pub const DEV_KEY_WARNING: &str = "DEVELOPMENT KEYS — never use on a real network";

/// The role a derived key plays; part of the derivation so roles never share keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRole {
    /// A validator of the real chain.
    Validator,
    /// A validator of the made-up set a lunatic node signs with.
    LunaticValidator,
    /// A governance member.
    Governance,
    /// An issuer's signing key.
    Issuer,
    /// A full node's identity (node id in `/status`).
    Node,
}

impl KeyRole {
    fn label(self) -> &'static str {
        match self {
            Self::Validator => "validator",
            Self::LunaticValidator => "lunatic-validator",
            Self::Governance => "governance",
            Self::Issuer => "issuer",
            Self::Node => "node",
        }
    }
}

/// Derives the ed25519 key `index` of `role` from `seed`: SHA-256 of a domain-separated string.
/// Deterministic, so a restarted network and its tests meet the same keys. DEVELOPMENT ONLY.
pub fn dev_signing_key(seed: &str, role: KeyRole, index: u32) -> SigningKey {
    let mut h = Sha256::new();
    h.update(b"tradeseal-devnet/dev-key/v1\0");
    h.update(u64::try_from(seed.len()).unwrap_or(u64::MAX).to_be_bytes());
    h.update(seed.as_bytes());
    h.update(role.label().as_bytes());
    h.update([0]);
    h.update(index.to_be_bytes());
    SigningKey::from_bytes(&h.finalize().into())
}

/// A validator's key: what it signs with and the identity CometBFT derives from it.
#[derive(Debug, Clone)]
pub struct ValidatorKey {
    signing: SigningKey,
    /// The key's index in its derivation (stable across validator-set changes).
    pub index: u32,
    /// The ed25519 public key.
    pub pub_key: [u8; 32],
    /// CometBFT address: first 20 bytes of SHA-256 of the public key.
    pub address: [u8; 20],
}

impl ValidatorKey {
    /// Derives validator key `index` of `role` from `seed`.
    pub fn derive(seed: &str, role: KeyRole, index: u32) -> Self {
        let signing = dev_signing_key(seed, role, index);
        let pub_key = signing.verifying_key().to_bytes();
        Self {
            signing,
            index,
            pub_key,
            address: address_of(&pub_key),
        }
    }

    /// Signs `msg` (deterministic ed25519).
    pub fn sign(&self, msg: &[u8]) -> [u8; 64] {
        self.signing.sign(msg).to_bytes()
    }

    /// The 32-byte secret seed (exported only in development key files).
    pub fn secret_bytes(&self) -> [u8; 32] {
        self.signing.to_bytes()
    }
}

/// CometBFT's address of an ed25519 public key: SHA-256, truncated to 20 bytes.
pub fn address_of(pub_key: &[u8; 32]) -> [u8; 20] {
    let digest = Sha256::digest(pub_key);
    let mut a = [0u8; 20];
    a.copy_from_slice(&digest[..20]);
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signature, Verifier as _, VerifyingKey};

    #[test]
    fn derivation_is_deterministic_and_separated() {
        let a = ValidatorKey::derive("s", KeyRole::Validator, 0);
        let b = ValidatorKey::derive("s", KeyRole::Validator, 0);
        assert_eq!(a.pub_key, b.pub_key);
        assert_ne!(
            a.pub_key,
            ValidatorKey::derive("s", KeyRole::Validator, 1).pub_key
        );
        assert_ne!(
            a.pub_key,
            ValidatorKey::derive("t", KeyRole::Validator, 0).pub_key
        );
        assert_ne!(
            a.pub_key,
            ValidatorKey::derive("s", KeyRole::LunaticValidator, 0).pub_key
        );
    }

    #[test]
    fn signatures_verify() {
        let k = ValidatorKey::derive("s", KeyRole::Validator, 3);
        let sig = Signature::from_bytes(&k.sign(b"hello"));
        let vk = VerifyingKey::from_bytes(&k.pub_key).unwrap();
        assert!(vk.verify(b"hello", &sig).is_ok());
        assert_eq!(k.address.len(), 20);
    }
}

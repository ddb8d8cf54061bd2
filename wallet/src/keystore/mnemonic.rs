//! Keys from BIP-39 words: the documented derivation (docs/protocol.md, "Wallet keys"), and
//! the secret types that hold a seed or a mnemonic without ever printing it.
//!
//! words (English BIP-39, checksum checked) → BIP-39 seed (PBKDF2-HMAC-SHA512, 2048 rounds,
//! salt `"mnemonic"`, empty passphrase) → SLIP-0010 ed25519 master key → hardened path
//! `m/44'/29811'/0'` → the 32-byte ed25519 secret seed.

use bip39::{Language, Mnemonic};
use ed25519_dalek::SigningKey;
use hmac::{Hmac, Mac};
use rand_core::{OsRng, RngCore};
use sha2::Sha512;
use zeroize::{Zeroize, Zeroizing};

use super::KeystoreError;

/// The coin type in the path: 0x7473, ASCII "ts". Not a registered SLIP-44 number; fixed
/// here so that every Tradeseal wallet derives the same key from the same words.
pub const COIN_TYPE: u32 = 0x7473;
/// The derivation path of key `account`, every level hardened: `m/44'/29811'/account'`.
pub fn path(account: u32) -> [u32; 3] {
    [44, COIN_TYPE, account]
}
/// Words of a newly created key's backup (256 bits of entropy).
pub const NEW_WORDS: usize = 24;

const HARDENED: u32 = 0x8000_0000;

/// A 32-byte ed25519 secret seed. Zeroized on drop; its `Debug` shows nothing of it.
pub struct SecretSeed(Zeroizing<[u8; 32]>);

impl SecretSeed {
    /// Wraps raw bytes (the caller zeroizes its own copy).
    pub fn from_bytes(bytes: [u8; 32]) -> SecretSeed {
        SecretSeed(Zeroizing::new(bytes))
    }

    /// From 64 hex digits (development key files); the text is not kept.
    pub fn from_hex(text: &str) -> Result<SecretSeed, KeystoreError> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        hex::decode_to_slice(text.trim(), bytes.as_mut()).map_err(|_| {
            KeystoreError::InvalidRequest("a secret key must be 64 hex digits".into())
        })?;
        Ok(SecretSeed(bytes))
    }

    /// The secret bytes, for a backend to store or sign with.
    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }

    /// The ed25519 signing key (zeroized on drop by ed25519-dalek).
    pub fn signing_key(&self) -> SigningKey {
        SigningKey::from_bytes(&self.0)
    }

    /// The public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.signing_key().verifying_key().to_bytes()
    }
}

impl std::fmt::Debug for SecretSeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretSeed(<redacted>)")
    }
}

/// The backup words of a key, returned once when the key is created for the user to write
/// down. Zeroized on drop; its `Debug` shows nothing of it.
pub struct MnemonicBackup(Zeroizing<String>);

impl MnemonicBackup {
    /// The words, separated by single spaces: show them to the user once, then drop this.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The number of words.
    pub fn word_count(&self) -> usize {
        self.0.split(' ').count()
    }
}

impl std::fmt::Debug for MnemonicBackup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MnemonicBackup(<{} words redacted>)", self.word_count())
    }
}

/// A new key: fresh entropy from the operating system, its words and its seed.
pub fn generate() -> Result<(MnemonicBackup, SecretSeed), KeystoreError> {
    let mut entropy = Zeroizing::new([0u8; 32]);
    OsRng
        .try_fill_bytes(entropy.as_mut())
        .map_err(|e| KeystoreError::Store(format!("the system's random source failed: {e}")))?;
    let mnemonic = Mnemonic::from_entropy_in(Language::English, entropy.as_ref())
        .map_err(|e| KeystoreError::InvalidRequest(format!("mnemonic: {e}")))?;
    let seed = derive(&mnemonic, 0);
    let words = Zeroizing::new(mnemonic.to_string());
    Ok((MnemonicBackup(words), seed))
}

/// The seed of key `account` from backup words (12, 15, 18, 21 or 24 English BIP-39 words,
/// any case and spacing; the checksum must be right).
pub fn from_words(words: &str, account: u32) -> Result<SecretSeed, KeystoreError> {
    let mut normalized = Zeroizing::new(String::with_capacity(words.len()));
    for word in words.split_whitespace() {
        if !normalized.is_empty() {
            normalized.push(' ');
        }
        normalized.push_str(&word.to_ascii_lowercase());
    }
    if !normalized.is_ascii() {
        return Err(KeystoreError::InvalidRequest(
            "the backup words must be English BIP-39 words".into(),
        ));
    }
    // The error names no word: a word of a backup is a secret too.
    let mnemonic = Mnemonic::parse_in_normalized(Language::English, &normalized).map_err(|e| {
        let why = match e {
            bip39::Error::BadWordCount(n) => {
                format!("{n} words; a backup has 12, 15, 18, 21 or 24")
            }
            bip39::Error::UnknownWord(i) => format!("word {} is not a BIP-39 word", i + 1),
            bip39::Error::InvalidChecksum => {
                "the checksum does not match: a word is wrong or out of order".to_owned()
            }
            _ => "not a valid BIP-39 mnemonic".to_owned(),
        };
        KeystoreError::InvalidRequest(format!("backup words: {why}"))
    })?;
    Ok(derive(&mnemonic, account))
}

fn derive(mnemonic: &Mnemonic, account: u32) -> SecretSeed {
    let seed = Zeroizing::new(mnemonic.to_seed_normalized(""));
    slip10_ed25519(seed.as_ref(), &path(account))
}

type HmacSha512 = Hmac<Sha512>;

/// SLIP-0010 for ed25519: the master key from `seed`, then one hardened child per index
/// (`index` given without the hardened bit; ed25519 has hardened children only).
pub fn slip10_ed25519(seed: &[u8], path: &[u32]) -> SecretSeed {
    let mut mac = HmacSha512::new_from_slice(b"ed25519 seed").expect("HMAC takes any key length");
    mac.update(seed);
    let mut out = Zeroizing::new([0u8; 64]);
    out.copy_from_slice(&mac.finalize().into_bytes());
    for index in path {
        let mut mac = HmacSha512::new_from_slice(&out[32..]).expect("HMAC takes any key length");
        mac.update(&[0]);
        mac.update(&out[..32]);
        mac.update(&(index | HARDENED).to_be_bytes());
        let mut next = mac.finalize().into_bytes();
        out.copy_from_slice(&next);
        next.as_mut_slice().zeroize();
    }
    let mut key = [0u8; 32];
    key.copy_from_slice(&out[..32]);
    let seed = SecretSeed::from_bytes(key);
    key.zeroize();
    seed
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SLIP-0010 test vector 1 for ed25519 (seed 000102…0f).
    #[test]
    fn slip10_vector_1() {
        let seed = hex::decode("000102030405060708090a0b0c0d0e0f").unwrap();
        let master = slip10_ed25519(&seed, &[]);
        assert_eq!(
            hex::encode(master.expose()),
            "2b4be7f19ee27bbf30c667b642d5f4aa69fd169872f8fc3059c08ebae2eb19e7"
        );
        assert_eq!(
            hex::encode(master.public_key()),
            "a4b2856bfec510abab89753fac1ac0e1112364e7d250545963f135f2a33188ed"
        );
        let child = slip10_ed25519(&seed, &[0]);
        assert_eq!(
            hex::encode(child.expose()),
            "68e0fe46dfb67e368c75379acec591dad19df3cde26e63b93a8e704f1dade7a3"
        );
        let deep = slip10_ed25519(&seed, &[0, 1, 2, 2, 1_000_000_000]);
        assert_eq!(
            hex::encode(deep.expose()),
            "8f94d394a8e8fd6b1bc2f3f49f5c47e385281d5c17e65324b0f62483e37e8793"
        );
    }

    #[test]
    fn words_give_the_documented_key() {
        let words = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
        let a = from_words(words, 0).unwrap();
        // Case and spacing do not matter.
        let b = from_words(&format!("  {}\n", words.to_uppercase()), 0).unwrap();
        assert_eq!(a.expose(), b.expose());
        assert_ne!(a.expose(), from_words(words, 1).unwrap().expose());
        // The same as computing each documented step by hand.
        let seed = Mnemonic::parse_in_normalized(Language::English, words)
            .unwrap()
            .to_seed_normalized("");
        assert_eq!(
            hex::encode(&seed[..8]),
            "5eb00bbddcf06908",
            "BIP-39 seed of the standard vector"
        );
        let by_hand = slip10_ed25519(&seed, &[44, 0x7473, 0]);
        assert_eq!(a.expose(), by_hand.expose());
        // Pinned in docs/protocol.md (§16).
        assert_eq!(
            hex::encode(a.public_key()),
            "5ed264dc2d5b27401d5a3b5fcdc9254ea4ccf79afbe89689941989bb5b49ced8"
        );
    }

    #[test]
    fn bad_words_are_refused_without_echoing_them() {
        let e = from_words("abandon abandon abandon", 0).unwrap_err();
        assert!(e.to_string().contains("3 words"), "{e}");
        let wrong_checksum = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon";
        let e = from_words(wrong_checksum, 0).unwrap_err();
        assert!(e.to_string().contains("checksum"), "{e}");
        let e = from_words("abandon zzzzqx abandon abandon abandon abandon abandon abandon abandon abandon abandon about", 0)
            .unwrap_err();
        assert!(e.to_string().contains("word 2"), "{e}");
        assert!(!e.to_string().contains("zzzzqx"), "{e}");
    }

    #[test]
    fn generated_words_round_trip_and_debug_hides_them() {
        let (backup, seed) = generate().unwrap();
        assert_eq!(backup.word_count(), NEW_WORDS);
        let again = from_words(backup.expose(), 0).unwrap();
        assert_eq!(seed.expose(), again.expose());
        assert_eq!(format!("{seed:?}"), "SecretSeed(<redacted>)");
        assert_eq!(format!("{backup:?}"), "MnemonicBackup(<24 words redacted>)");
    }
}

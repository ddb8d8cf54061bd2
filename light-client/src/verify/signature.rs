//! ZIP-215 ed25519 signature checks for validator votes: single and batch verification that
//! always agree, and a cache of decoded validator keys.

use std::collections::HashMap;

use ed25519_consensus::{batch, Signature as EdSignature, VerificationKey, VerificationKeyBytes};
use rand_core::{CryptoRng, RngCore};
use sha2::{Digest, Sha512};

use crate::types::{PublicKey, Signature};

/// Decoded (decompressed) validator keys, kept across blocks: validator sets change rarely, so
/// the same keys are checked again and again.
#[derive(Default)]
pub(crate) struct KeyCache {
    keys: HashMap<[u8; 32], Option<VerificationKey>>,
}

impl std::fmt::Debug for KeyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyCache")
            .field("len", &self.keys.len())
            .finish()
    }
}

/// Keys beyond this many are dropped (all at once) so the cache stays bounded.
const KEY_CACHE_LIMIT: usize = 4096;

impl KeyCache {
    /// The decoded key, or `None` if the bytes are not a curve point (every signature under
    /// such a key is invalid).
    pub(crate) fn get(&mut self, key: &PublicKey) -> Option<VerificationKey> {
        if self.keys.len() >= KEY_CACHE_LIMIT && !self.keys.contains_key(key.as_bytes()) {
            self.keys.clear();
        }
        *self
            .keys
            .entry(*key.as_bytes())
            .or_insert_with(|| VerificationKey::try_from(*key.as_bytes()).ok())
    }

    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }
}

/// One signature to check.
pub(crate) struct SigCheck<'a> {
    pub(crate) key: &'a PublicKey,
    pub(crate) signature: &'a Signature,
    pub(crate) message: Vec<u8>,
}

/// Verifies one signature with the ZIP-215 rules of `ed25519-consensus`.
pub(crate) fn verify_single(cache: &mut KeyCache, check: &SigCheck<'_>) -> bool {
    let Some(sig) = check.signature.to_array() else {
        return false;
    };
    match cache.get(check.key) {
        Some(vk) => vk.verify(&EdSignature::from(sig), &check.message).is_ok(),
        None => false,
    }
}

/// Verifies all `checks`; returns the position of the first invalid one, in order, or `None`
/// when all are valid.
///
/// Two or more signatures go through `ed25519-consensus`'s batch verifier (same ZIP-215
/// rules). If the batch fails, every signature is checked singly in order, so the answer is
/// always exactly that of single verification.
pub(crate) fn first_invalid(cache: &mut KeyCache, checks: &[SigCheck<'_>]) -> Option<usize> {
    if checks.len() >= 2 && batch_ok(checks) {
        return None;
    }
    checks.iter().position(|c| !verify_single(cache, c))
}

fn batch_ok(checks: &[SigCheck<'_>]) -> bool {
    let mut verifier = batch::Verifier::new();
    let mut transcript = Sha512::new();
    transcript.update(b"tradeseal light-client batch v1");
    for c in checks {
        let Some(sig) = c.signature.to_array() else {
            return false;
        };
        transcript.update(c.key.as_bytes());
        transcript.update(sig);
        transcript.update((c.message.len() as u64).to_le_bytes());
        transcript.update(&c.message);
        verifier.queue((
            VerificationKeyBytes::from(*c.key.as_bytes()),
            EdSignature::from(sig),
            &c.message[..],
        ));
    }
    verifier
        .verify(TranscriptRng::new(transcript.finalize().into()))
        .is_ok()
}

/// The batch verifier's random coefficients, derived from a hash of everything in the batch
/// (keys, signatures, messages), so verification is deterministic and needs no entropy source.
/// An attacker must fix every input before the coefficients exist, as with fresh randomness.
struct TranscriptRng {
    seed: [u8; 64],
    counter: u64,
    block: [u8; 64],
    used: usize,
}

impl TranscriptRng {
    fn new(seed: [u8; 64]) -> Self {
        TranscriptRng {
            seed,
            counter: 0,
            block: [0; 64],
            used: 64,
        }
    }

    fn refill(&mut self) {
        let mut h = Sha512::new();
        h.update(self.seed);
        h.update(self.counter.to_le_bytes());
        self.block = h.finalize().into();
        self.counter += 1;
        self.used = 0;
    }
}

impl RngCore for TranscriptRng {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0u8; 4];
        self.fill_bytes(&mut b);
        u32::from_le_bytes(b)
    }

    fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.fill_bytes(&mut b);
        u64::from_le_bytes(b)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for byte in dest {
            if self.used == self.block.len() {
                self.refill();
            }
            *byte = self.block[self.used];
            self.used += 1;
        }
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl CryptoRng for TranscriptRng {}

/// Single and batch verification of arbitrary (key, signature, message) triples, for tests and
/// benchmarks: `(single verdicts, batch verdict)`.
pub fn verify_each_and_batch(items: &[(PublicKey, Signature, Vec<u8>)]) -> (Vec<bool>, bool) {
    let mut cache = KeyCache::default();
    let checks: Vec<SigCheck<'_>> = items
        .iter()
        .map(|(k, s, m)| SigCheck {
            key: k,
            signature: s,
            message: m.clone(),
        })
        .collect();
    let single = checks
        .iter()
        .map(|c| verify_single(&mut cache, c))
        .collect();
    let batch = !checks.is_empty() && batch_ok(&checks);
    (single, batch)
}

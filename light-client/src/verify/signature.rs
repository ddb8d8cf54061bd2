//! ZIP-215 ed25519 signature checks for validator votes: single and batch verification that
//! always agree, over a cache of decompressed validator keys.
//!
//! Single verification is `ed25519-consensus` (`VerificationKey::verify`, the rules CometBFT
//! uses). Batch verification checks the same cofactored equation for a random linear
//! combination of the signatures, `[8]([-Σ z·s]B + Σ [z]R + Σ [z·k]A) = 0`, with
//! `curve25519-dalek` (whose point decoding is line for line that of the `curve25519-dalek-ng`
//! inside `ed25519-consensus`: non-canonical encodings accepted the same way), over validator
//! keys decompressed once and kept. A batch that fails is re-checked one signature at a time, so the verdict is always
//! exactly that of single verification.

use std::collections::HashMap;

use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
use ed25519_consensus::{Signature as EdSignature, VerificationKey};
use sha2::{Digest, Sha512};

use crate::types::{PublicKey, Signature};

/// A validator key decoded once: the point for batch equations and, once a signature under it
/// has to be checked singly, the `ed25519-consensus` key.
#[derive(Clone, Copy)]
struct DecodedKey {
    point: EdwardsPoint,
    single: Option<VerificationKey>,
}

/// Decompressed validator keys, kept across blocks: validator sets change rarely, so the same
/// keys are checked block after block. Bounded: cleared when it grows past a limit.
#[derive(Default)]
pub(crate) struct KeyCache {
    keys: HashMap<[u8; 32], Option<DecodedKey>>,
    /// Signatures handed to [`first_invalid`] so far (each counted once, batch or single).
    pub(crate) signatures_checked: u64,
}

impl std::fmt::Debug for KeyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyCache")
            .field("len", &self.keys.len())
            .finish()
    }
}

/// When the cache holds this many keys and a new one comes, it is emptied first.
const KEY_CACHE_LIMIT: usize = 4096;

impl KeyCache {
    /// The decoded key, or `None` if the bytes are not a curve point. (`curve25519-dalek`
    /// decodes exactly the encodings `ed25519-consensus` decodes, non-canonical ones
    /// included, so `None` here means every signature under the key is invalid.)
    fn entry(&mut self, key: &PublicKey) -> Option<&mut DecodedKey> {
        if !self.keys.contains_key(key.as_bytes()) {
            if self.keys.len() >= KEY_CACHE_LIMIT {
                self.keys.clear();
            }
            let decoded = CompressedEdwardsY(*key.as_bytes())
                .decompress()
                .map(|point| DecodedKey {
                    point,
                    single: None,
                });
            self.keys.insert(*key.as_bytes(), decoded);
        }
        self.keys.get_mut(key.as_bytes()).and_then(Option::as_mut)
    }

    fn point(&mut self, key: &PublicKey) -> Option<EdwardsPoint> {
        self.entry(key).map(|d| d.point)
    }

    fn single_key(&mut self, key: &PublicKey) -> Option<VerificationKey> {
        let entry = self.entry(key)?;
        if entry.single.is_none() {
            entry.single = VerificationKey::try_from(*key.as_bytes()).ok();
        }
        entry.single
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

/// Verifies one signature with `ed25519-consensus` (ZIP-215 rules).
pub(crate) fn verify_single(cache: &mut KeyCache, check: &SigCheck<'_>) -> bool {
    let Some(sig) = check.signature.to_array() else {
        return false;
    };
    match cache.single_key(check.key) {
        Some(key) => key.verify(&EdSignature::from(sig), &check.message).is_ok(),
        None => false,
    }
}

/// Verifies all `checks`; returns the position of the first invalid one (in order), or `None`
/// when all are valid. Two or more go through the batch equation first; if it fails, each is
/// checked singly, so the answer is always that of single verification.
pub(crate) fn first_invalid(cache: &mut KeyCache, checks: &[SigCheck<'_>]) -> Option<usize> {
    cache.signatures_checked += checks.len() as u64;
    if checks.len() >= 2 && batch_holds(cache, checks) {
        return None;
    }
    checks.iter().position(|c| !verify_single(cache, c))
}

/// The batch equation over `checks`; `false` if any input cannot even be decoded.
fn batch_holds(cache: &mut KeyCache, checks: &[SigCheck<'_>]) -> bool {
    // Decode everything first: (R, s, k, A) per signature.
    let mut decoded: Vec<(EdwardsPoint, Scalar, Scalar, EdwardsPoint)> =
        Vec::with_capacity(checks.len());
    let mut transcript = Sha512::new();
    transcript.update(b"tradeseal light-client batch coefficients v1");
    transcript.update((checks.len() as u64).to_le_bytes());
    for c in checks {
        let Some(sig) = c.signature.to_array() else {
            return false;
        };
        let Some(a) = cache.point(c.key) else {
            return false;
        };
        let mut r_bytes = [0u8; 32];
        r_bytes.copy_from_slice(&sig[..32]);
        let mut s_bytes = [0u8; 32];
        s_bytes.copy_from_slice(&sig[32..]);
        let Some(r) = CompressedEdwardsY(r_bytes).decompress() else {
            return false;
        };
        let Some(s) = Option::<Scalar>::from(Scalar::from_canonical_bytes(s_bytes)) else {
            return false;
        };
        let k = challenge(&r_bytes, c.key.as_bytes(), &c.message);
        // k binds R, A and the message; with s, the transcript binds every input.
        transcript.update(k.as_bytes());
        transcript.update(s_bytes);
        decoded.push((r, s, k, a));
    }
    let mut coefficients = Coefficients::new(transcript.finalize().into());
    let mut scalars: Vec<Scalar> = Vec::with_capacity(2 * decoded.len() + 1);
    let mut points: Vec<EdwardsPoint> = Vec::with_capacity(2 * decoded.len() + 1);
    let mut b_coefficient = Scalar::ZERO;
    scalars.push(Scalar::ZERO);
    points.push(ED25519_BASEPOINT_POINT);
    for (r, s, k, a) in decoded {
        let z = coefficients.next();
        b_coefficient -= z * s;
        scalars.push(z);
        points.push(r);
        scalars.push(z * k);
        points.push(a);
    }
    scalars[0] = b_coefficient;
    EdwardsPoint::vartime_multiscalar_mul(&scalars, &points)
        .mul_by_cofactor()
        .is_identity()
}

/// `k = SHA-512(R || A || M) mod l`, over the encodings as given (ZIP-215).
fn challenge(r_bytes: &[u8; 32], a_bytes: &[u8; 32], message: &[u8]) -> Scalar {
    let mut h = Sha512::new();
    h.update(r_bytes);
    h.update(a_bytes);
    h.update(message);
    Scalar::from_bytes_mod_order_wide(&h.finalize().into())
}

/// The batch's random 128-bit coefficients, derived from a hash of everything in the batch:
/// deterministic and needing no entropy source, while whoever made the signatures must fix
/// every input before the coefficients exist, as with fresh randomness.
struct Coefficients {
    seed: [u8; 64],
    counter: u64,
    block: [u8; 64],
    used: usize,
}

impl Coefficients {
    fn new(seed: [u8; 64]) -> Self {
        Coefficients {
            seed,
            counter: 0,
            block: [0; 64],
            used: 64,
        }
    }

    fn next(&mut self) -> Scalar {
        if self.used == self.block.len() {
            let mut h = Sha512::new();
            h.update(self.seed);
            h.update(self.counter.to_le_bytes());
            self.counter += 1;
            self.block = h.finalize().into();
            self.used = 0;
        }
        let mut z = [0u8; 16];
        z.copy_from_slice(&self.block[self.used..self.used + 16]);
        self.used += 16;
        Scalar::from(u128::from_le_bytes(z))
    }
}

/// Single and batch verification of arbitrary (key, signature, message) triples with this
/// crate's verifier: `(one verdict per triple, batch verdict)`. For tests and benchmarks.
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
    let batch = !checks.is_empty() && batch_holds(&mut cache, &checks);
    (single, batch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_utils::TestValidator;

    fn items(n: usize) -> Vec<(PublicKey, Signature, Vec<u8>)> {
        (0..n)
            .map(|i| {
                let v = TestValidator::new(&format!("sig-{i}"), 1);
                let msg = format!("message {i}").into_bytes();
                (v.validator.pub_key, v.sign(&msg), msg)
            })
            .collect()
    }

    fn checks(items: &[(PublicKey, Signature, Vec<u8>)]) -> Vec<SigCheck<'_>> {
        items
            .iter()
            .map(|(k, s, m)| SigCheck {
                key: k,
                signature: s,
                message: m.clone(),
            })
            .collect()
    }

    #[test]
    fn batch_accepts_valid_and_finds_the_first_invalid_in_order() {
        let mut cache = KeyCache::default();
        let good = items(6);
        assert!(batch_holds(&mut cache, &checks(&good)));
        assert_eq!(first_invalid(&mut cache, &checks(&good)), None);
        assert_eq!(cache.len(), 6);

        let mut bad = good.clone();
        bad[4].2.push(0);
        bad[2].1 = Signature::new(bad[2].1.as_bytes()[..63].to_vec());
        assert!(!batch_holds(&mut cache, &checks(&bad)));
        assert_eq!(first_invalid(&mut cache, &checks(&bad)), Some(2));
        assert_eq!(cache.signatures_checked, 12);
    }

    #[test]
    fn undecodable_key_fails_without_panic() {
        let mut cache = KeyCache::default();
        let mut it = items(2);
        // y = 2 is not the y-coordinate of a curve point.
        let mut key = [0u8; 32];
        key[0] = 2;
        it[1].0 = PublicKey::from_bytes(key);
        assert!(!batch_holds(&mut cache, &checks(&it)));
        assert_eq!(first_invalid(&mut cache, &checks(&it)), Some(1));
    }
}

//! Deterministic validator keys and correctly signed light blocks, for tests and benchmarks
//! (feature `test-utils`). Never use these keys outside tests: they derive from public labels.

use core::time::Duration;

use ed25519_consensus::SigningKey;

use crate::types::{
    BlockId, BlockIdFlag, ChainId, Commit, CommitSig, Hash, Header, Height, HexBytes, LightBlock,
    PartSetHeader, PublicKey, Signature, SignedHeader, Time, Validator, ValidatorSet, Version,
    BLOCK_PROTOCOL,
};
use crate::vote::CommitSignBytes;

/// A validator with its signing key.
#[derive(Clone)]
pub struct TestValidator {
    signing_key: SigningKey,
    /// The public validator entry.
    pub validator: Validator,
}

impl std::fmt::Debug for TestValidator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestValidator")
            .field("validator", &self.validator)
            .finish()
    }
}

impl TestValidator {
    /// A validator whose key is SHA-256 of `label`.
    pub fn new(label: &str, voting_power: u64) -> TestValidator {
        let seed = *Hash::sha256(label.as_bytes()).as_bytes();
        let signing_key = SigningKey::from(seed);
        let public = PublicKey::from_bytes(signing_key.verification_key().to_bytes());
        TestValidator {
            signing_key,
            validator: Validator::new(public, voting_power),
        }
    }

    /// Signs `message`.
    pub fn sign(&self, message: &[u8]) -> Signature {
        Signature::from(self.signing_key.sign(message).to_bytes())
    }
}

/// `n` validators labelled `"{prefix}-{i}"`, each with `voting_power`.
pub fn validators(prefix: &str, n: usize, voting_power: u64) -> Vec<TestValidator> {
    (0..n)
        .map(|i| TestValidator::new(&format!("{prefix}-{i}"), voting_power))
        .collect()
}

/// The validator set of `validators` (in CometBFT order).
pub fn validator_set(validators: &[TestValidator]) -> ValidatorSet {
    ValidatorSet::new(
        validators.iter().map(|v| v.validator.clone()).collect(),
        None,
    )
    .unwrap_or_else(|e| panic!("test validators do not form a set: {e}"))
}

/// What a generated light block looks like.
#[derive(Debug, Clone)]
pub struct BlockSpec<'a> {
    /// Chain id.
    pub chain_id: &'a str,
    /// Height.
    pub height: u64,
    /// Header time.
    pub time: Time,
    /// The signing set.
    pub validators: &'a [TestValidator],
    /// The next set.
    pub next_validators: &'a [TestValidator],
    /// The previous block id, if any.
    pub last_block_id: Option<BlockId>,
    /// Positions (in set order) whose vote is absent.
    pub absent: &'a [usize],
    /// Positions (in set order) that vote nil.
    pub nil: &'a [usize],
}

impl<'a> BlockSpec<'a> {
    /// A block where everybody signs and the set does not change.
    pub fn new(
        chain_id: &'a str,
        height: u64,
        time: Time,
        validators: &'a [TestValidator],
    ) -> Self {
        BlockSpec {
            chain_id,
            height,
            time,
            validators,
            next_validators: validators,
            last_block_id: None,
            absent: &[],
            nil: &[],
        }
    }
}

fn label_hash(label: &str, height: u64) -> Hash {
    Hash::sha256(format!("{label}/{height}").as_bytes())
}

/// Builds a correctly hashed and signed light block.
pub fn light_block(spec: &BlockSpec<'_>) -> LightBlock {
    let set = validator_set(spec.validators);
    let next = validator_set(spec.next_validators);
    let header = Header {
        version: Version {
            block: BLOCK_PROTOCOL,
            app: 1,
        },
        chain_id: ChainId::new(spec.chain_id),
        height: Height(spec.height),
        time: spec.time,
        last_block_id: spec.last_block_id,
        last_commit_hash: Some(label_hash("last_commit", spec.height)),
        data_hash: Some(label_hash("data", spec.height)),
        validators_hash: set.hash(),
        next_validators_hash: next.hash(),
        consensus_hash: label_hash("consensus", 0),
        app_hash: HexBytes(label_hash("app", spec.height).as_bytes().to_vec()),
        last_results_hash: Some(label_hash("results", spec.height)),
        evidence_hash: None,
        proposer_address: set
            .validators()
            .first()
            .map(|v| v.address)
            .unwrap_or_else(|| crate::types::Address::new([0; 20])),
    };
    let block_id = BlockId {
        hash: header.hash(),
        part_set_header: PartSetHeader {
            total: 1,
            hash: label_hash("parts", spec.height),
        },
    };
    let mut commit = Commit {
        height: Height(spec.height),
        round: 0,
        block_id,
        signatures: Vec::new(),
    };
    let sign_bytes = CommitSignBytes::for_commit(&header.chain_id, &commit);
    for (i, v) in set.validators().iter().enumerate() {
        if spec.absent.contains(&i) {
            commit.signatures.push(CommitSig::absent());
            continue;
        }
        let signer = spec
            .validators
            .iter()
            .find(|t| t.validator.address == v.address)
            .unwrap_or_else(|| panic!("no signer for validator {i}"));
        let timestamp = spec
            .time
            .checked_add(Duration::from_millis(1000 + i as u64))
            .unwrap_or(spec.time);
        let (flag, message) = if spec.nil.contains(&i) {
            let bytes = crate::vote::precommit_sign_bytes(
                &header.chain_id,
                commit.height,
                commit.round,
                None,
                timestamp,
            );
            (BlockIdFlag::Nil, bytes)
        } else {
            (BlockIdFlag::Commit, sign_bytes.for_timestamp(timestamp))
        };
        commit.signatures.push(CommitSig {
            block_id_flag: flag,
            validator_address: Some(v.address),
            timestamp,
            signature: Some(signer.sign(&message)),
        });
    }
    LightBlock {
        signed_header: SignedHeader { header, commit },
        validators: set,
        next_validators: Some(next),
    }
}

/// Signs `block` again after its header was edited (e.g. a real `data_hash`): a new block
/// id and new commit signatures by `validators` (absent and nil votes kept as they were).
pub fn resign(block: &LightBlock, validators: &[TestValidator]) -> LightBlock {
    let mut out = block.clone();
    let header = &out.signed_header.header;
    let mut commit = out.signed_header.commit.clone();
    commit.block_id.hash = header.hash();
    let sign_bytes = CommitSignBytes::for_commit(&header.chain_id, &commit);
    for sig in &mut commit.signatures {
        if sig.block_id_flag != BlockIdFlag::Commit {
            continue;
        }
        let signer = validators
            .iter()
            .find(|t| Some(t.validator.address) == sig.validator_address)
            .unwrap_or_else(|| panic!("no signer for {:?}", sig.validator_address));
        sig.signature = Some(signer.sign(&sign_bytes.for_timestamp(sig.timestamp)));
    }
    out.signed_header.commit = commit;
    out
}

/// A fixed-stream generator (a 64-bit LCG) for ed25519-consensus's batch verifier in tests and
/// benchmarks: batch coefficients only need to be unknown to whoever made the signatures, and a
/// fixed stream keeps runs repeatable. Never use it for keys.
#[derive(Debug, Clone)]
pub struct FixedRng(pub u64);

impl rand_core::RngCore for FixedRng {
    fn next_u32(&mut self) -> u32 {
        self.next_u64() as u32
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for b in dest {
            *b = (self.next_u64() >> 32) as u8;
        }
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl rand_core::CryptoRng for FixedRng {}

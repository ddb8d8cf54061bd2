//! What the light node asks of a full node: the [`Provider`] trait, its answers and its
//! errors. [`crate::RpcProvider`] speaks CometBFT JSON-RPC; tests use in-memory providers.

use std::future::Future;
use std::pin::Pin;

use light_client::{Hash, Header, Height, LightBlock, SignedHeader, ValidatorSet};

/// A boxed future that can move between threads.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why a full node's answer could not be used. Every variant says what the node did.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// No answer within the time allowed.
    #[error("no answer within {secs} s")]
    Timeout {
        /// The limit.
        secs: u64,
    },
    /// The node could not be reached (connection refused, DNS, TLS).
    #[error("unreachable: {0}")]
    Unreachable(String),
    /// The node answered with an HTTP error status.
    #[error("HTTP status {0}")]
    Http(u16),
    /// The answer is larger than the light node accepts.
    #[error("answer larger than {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: usize,
    },
    /// The answer is not what CometBFT sends (not JSON, a field missing or malformed, or
    /// inconsistent with the request).
    #[error("malformed answer: {0}")]
    Malformed(String),
    /// The node answered with a JSON-RPC error.
    #[error("JSON-RPC error {code}: {message}")]
    Rpc {
        /// The error code.
        code: i64,
        /// The message (and data).
        message: String,
    },
    /// The node does not have the height asked for (not produced yet, or pruned).
    #[error("height {0} is not available from this node")]
    HeightUnavailable(Height),
}

impl ProviderError {
    /// `true` when the node did not answer (as opposed to answering wrongly).
    pub fn is_silence(&self) -> bool {
        matches!(
            self,
            ProviderError::Timeout { .. } | ProviderError::Unreachable(_)
        )
    }
}

/// The node's view of the chain (`/status`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeInfo {
    /// The chain id the node serves (`node_info.network`).
    pub network: String,
    /// Its latest block height.
    pub latest_height: Height,
}

/// One `abci_query` answer, as the node gave it (unverified).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryAnswer {
    /// ABCI result code (0 is success).
    pub code: u32,
    /// The application's log text.
    pub log: String,
    /// The key the answer is about.
    pub key: Vec<u8>,
    /// The value (`None` when the node says the key is absent).
    pub value: Option<Vec<u8>>,
    /// The state height the answer is for.
    pub height: Height,
    /// The proof operations (empty without `prove`).
    pub proof_ops: Vec<ProofOp>,
}

/// One proof operation of an `abci_query` answer (CometBFT's `ProofOp`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofOp {
    /// The operation type (e.g. `ics23:jmt`).
    pub kind: String,
    /// The key it proves.
    pub key: Vec<u8>,
    /// The encoded proof.
    pub data: Vec<u8>,
}

/// A `tx` answer with its inclusion proof (unverified).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxAnswer {
    /// The transaction hash (SHA-256 of the bytes).
    pub hash: Hash,
    /// The block that includes it.
    pub height: Height,
    /// Its index in the block.
    pub index: u32,
    /// The transaction bytes.
    pub tx: Vec<u8>,
    /// The execution result code the node reports.
    pub code: u32,
    /// The execution log the node reports.
    pub log: String,
    /// The Merkle proof against the block's `data_hash`.
    pub proof: Option<TxProof>,
}

/// The inclusion proof of a transaction (CometBFT's `TxProof`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxProof {
    /// The root the node claims (must equal the verified header's `data_hash`).
    pub root_hash: Hash,
    /// The proved bytes (must equal the transaction).
    pub data: Vec<u8>,
    /// The Merkle path.
    pub proof: light_client::merkle::Proof,
}

/// The answer to `broadcast_tx_sync` (the mempool's check, not inclusion).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BroadcastAnswer {
    /// CheckTx code (0 accepted into the mempool).
    pub code: u32,
    /// CheckTx log.
    pub log: String,
    /// The transaction hash.
    pub hash: Hash,
}

/// A full node the light node asks. Every answer is checked by the caller before use; an
/// implementation only parses and checks shapes.
pub trait Provider: Send + Sync + std::fmt::Debug {
    /// Where it is (its URL), for reports.
    fn url(&self) -> &str;

    /// `/status`.
    fn status(&self) -> BoxFuture<'_, Result<NodeInfo, ProviderError>>;

    /// `/commit`: the signed header at `height` (the latest when `None`).
    fn signed_header(
        &self,
        height: Option<Height>,
    ) -> BoxFuture<'_, Result<SignedHeader, ProviderError>>;

    /// `/header` (or `/commit` where there is no `/header`): the header at `height`; enough
    /// to compare header hashes with another node.
    fn header(&self, height: Height) -> BoxFuture<'_, Result<Header, ProviderError>>;

    /// `/validators`, every page: the validator set at `height`.
    fn validators(&self, height: Height) -> BoxFuture<'_, Result<ValidatorSet, ProviderError>>;

    /// The light block at `height` (the latest when `None`): the signed header and its
    /// validator set fetched concurrently, and the next set when the header says it changes.
    fn light_block(
        &self,
        height: Option<Height>,
    ) -> BoxFuture<'_, Result<LightBlock, ProviderError>> {
        self.light_block_known(height, &[])
    }

    /// [`Provider::light_block`], completed from `known` validator sets where the header names
    /// one of them by hash (its `validators_hash` or `next_validators_hash`) instead of
    /// fetching `/validators` again. With sets known (or for the latest block, whose height is
    /// not known before its commit arrives) the commit is fetched first; otherwise the commit
    /// and the validators are fetched concurrently. A set taken from `known` is exactly as
    /// trustworthy as a fetched one: verification checks every set against the header's hash.
    fn light_block_known<'a>(
        &'a self,
        height: Option<Height>,
        known: &'a [ValidatorSet],
    ) -> BoxFuture<'a, Result<LightBlock, ProviderError>> {
        Box::pin(async move {
            let (signed_header, validators) = match height {
                Some(h) if known.is_empty() => {
                    let (sh, vals) = tokio::join!(self.signed_header(Some(h)), self.validators(h));
                    (sh?, Some(vals?))
                }
                _ => (self.signed_header(height).await?, None),
            };
            if let Some(h) = height {
                if signed_header.header.height != h {
                    return Err(ProviderError::Malformed(format!(
                        "asked for height {h}, got a header at {}",
                        signed_header.header.height
                    )));
                }
            }
            complete_light_block(self, signed_header, validators, known).await
        })
    }
    /// [`Provider::header`] at each of `heights`, in order; one round trip where the node
    /// takes JSON-RPC batches ([`crate::RpcProvider`] sends them), else concurrent requests.
    fn headers<'a>(
        &'a self,
        heights: &'a [Height],
    ) -> BoxFuture<'a, Vec<Result<Header, ProviderError>>> {
        Box::pin(futures_util::future::join_all(
            heights.iter().map(|&h| self.header(h)),
        ))
    }

    /// [`Provider::validators`] at each of `heights`, in order, batched like
    /// [`Provider::headers`].
    fn validator_sets<'a>(
        &'a self,
        heights: &'a [Height],
    ) -> BoxFuture<'a, Vec<Result<ValidatorSet, ProviderError>>> {
        Box::pin(futures_util::future::join_all(
            heights.iter().map(|&h| self.validators(h)),
        ))
    }

    /// [`Provider::signed_header`] at each of `heights`, in order, batched like
    /// [`Provider::headers`].
    fn signed_headers<'a>(
        &'a self,
        heights: &'a [Height],
    ) -> BoxFuture<'a, Vec<Result<SignedHeader, ProviderError>>> {
        Box::pin(futures_util::future::join_all(
            heights.iter().map(|&h| self.signed_header(Some(h))),
        ))
    }

    /// `abci_query` with `prove=true` at state height `height`.
    fn abci_query<'a>(
        &'a self,
        path: &'a str,
        data: &'a [u8],
        height: Height,
    ) -> BoxFuture<'a, Result<QueryAnswer, ProviderError>>;

    /// [`Provider::abci_query`] of each `(path, data)` at state height `height`, in order,
    /// batched like [`Provider::headers`].
    fn abci_queries<'a>(
        &'a self,
        queries: &'a [(String, Vec<u8>)],
        height: Height,
    ) -> BoxFuture<'a, Vec<Result<QueryAnswer, ProviderError>>> {
        Box::pin(futures_util::future::join_all(
            queries
                .iter()
                .map(move |(path, data)| self.abci_query(path, data, height)),
        ))
    }

    /// `tx` with `prove=true`.
    fn tx(&self, hash: Hash) -> BoxFuture<'_, Result<TxAnswer, ProviderError>>;

    /// `broadcast_tx_sync`.
    fn broadcast_tx_sync<'a>(
        &'a self,
        tx: &'a [u8],
    ) -> BoxFuture<'a, Result<BroadcastAnswer, ProviderError>>;

    /// `broadcast_evidence` with CometBFT's JSON evidence; answers the evidence hash the node
    /// reports.
    fn broadcast_evidence<'a>(
        &'a self,
        evidence: &'a serde_json::Value,
    ) -> BoxFuture<'a, Result<String, ProviderError>>;
}

/// A light block from its signed header: the validator set given (fetched with the header), or
/// one of `known` whose hash the header names, or else fetched; the next set likewise when the
/// header says it changes.
pub async fn complete_light_block<P: Provider + ?Sized>(
    provider: &P,
    signed_header: SignedHeader,
    validators: Option<ValidatorSet>,
    known: &[ValidatorSet],
) -> Result<LightBlock, ProviderError> {
    let find = |hash: Hash| known.iter().find(|set| set.hash() == hash).cloned();
    let header = &signed_header.header;
    let validators = match validators.or_else(|| find(header.validators_hash)) {
        Some(set) => set,
        None => provider.validators(header.height).await?,
    };
    let next_validators = if header.next_validators_hash == header.validators_hash {
        None
    } else if let Some(set) = find(header.next_validators_hash) {
        Some(set)
    } else {
        let next = header
            .height
            .increment()
            .ok_or_else(|| ProviderError::Malformed("height overflows".to_owned()))?;
        Some(provider.validators(next).await?)
    };
    Ok(LightBlock {
        signed_header,
        validators,
        next_validators,
    })
}

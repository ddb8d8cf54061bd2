//! Proven queries: an `abci_query` answer checked against the app hash of a verified header,
//! bound to the key and the height asked for; a transaction's inclusion proven against a
//! verified header's data hash. Also unverified queries ([`Unverified`]): raw answers for the
//! caller to check against a proven value (bulk data whose digest is proven).

use light_client::{Hash, Height, Time};
use sha2::{Digest, Sha256};

use crate::node::{LightNode, SyncError};
use crate::provider::{ProofOp, ProviderError};

/// Checks a state proof against an app hash. The light node knows no application: the
/// wallet supplies the application's proof format (for the registry, ICS-23 over its tree).
pub trait StateVerifier: Send + Sync {
    /// `Ok` when `proof` proves `value` for `key` (absence when `None`) under `app_hash`.
    fn verify(
        &self,
        app_hash: &[u8],
        key: &[u8],
        value: Option<&[u8]>,
        proof: &[ProofOp],
    ) -> Result<(), String>;
}

/// What to ask: the `abci_query` path and data, and the state key the answer must be about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryRequest {
    /// The `abci_query` path.
    pub path: String,
    /// The `abci_query` data.
    pub data: Vec<u8>,
    /// The state key the answer and its proof must name.
    pub key: Vec<u8>,
    /// The state height (`None`: the state of the newest verified header).
    pub height: Option<Height>,
}

/// A value (or its absence) proven against a verified header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proven {
    /// The key.
    pub key: Vec<u8>,
    /// The value; `None` is proven absence.
    pub value: Option<Vec<u8>>,
    /// The state height (after executing block `height`).
    pub height: Height,
    /// The verified header whose app hash commits to that state (`height + 1`).
    pub header_height: Height,
    /// That header's time.
    pub header_time: Time,
    /// That header's app hash.
    pub app_hash: Vec<u8>,
    /// The node that answered.
    pub node: String,
}

/// The value bytes of an `abci_query` answer that NO proof checked: only that the node
/// answered with code 0 for the state height asked. The caller must check them against
/// something proven (for the registry's log pages, a hash chain whose head is proven) before
/// believing a byte of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unverified {
    /// The answer's value, as the node sent it (empty when it sent none).
    pub value: Vec<u8>,
    /// The state height it claims to answer for (the one asked).
    pub height: Height,
    /// The node that answered.
    pub node: String,
}

/// A transaction proven included in a verified block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvenTx {
    /// The transaction hash.
    pub hash: Hash,
    /// The block height.
    pub height: Height,
    /// The block time.
    pub time: Time,
    /// The index in the block.
    pub index: u32,
    /// The result code the node reports (not covered by the inclusion proof).
    pub reported_code: u32,
    /// The result log the node reports.
    pub reported_log: String,
}

/// Why a query could not be proven.
#[derive(Debug, Clone, thiserror::Error)]
pub enum QueryError {
    /// The header to check against could not be verified.
    #[error(transparent)]
    Sync(#[from] SyncError),
    /// Every node failed or lied; each is named with what it did.
    #[error("no node gave a provable answer: {reasons}")]
    Unproven {
        /// Each node and what it did, `; `-separated.
        reasons: String,
        /// How many of them answered with something that failed its checks (a wrong key or
        /// height, no proof, a proof that does not verify): they lied, the others were
        /// unreachable or refused.
        rejected: usize,
    },
    /// The transaction is not known to any node.
    #[error("transaction {0} was not found")]
    TxNotFound(Hash),
    /// There is no state before the first block.
    #[error("there is no state at height 0")]
    NoState,
}

fn check_answer(
    req: &QueryRequest,
    height: Height,
    answer: &crate::provider::QueryAnswer,
) -> Result<(), String> {
    if answer.height != height {
        return Err(format!(
            "answered for height {} instead of {height}",
            answer.height
        ));
    }
    if answer.key != req.key {
        return Err(format!(
            "answered for key {} instead of {}",
            hex::encode(&answer.key),
            hex::encode(&req.key)
        ));
    }
    if answer.code != 0 {
        return Err(format!(
            "query failed with code {}: {}",
            answer.code, answer.log
        ));
    }
    if answer.proof_ops.is_empty() {
        return Err("answered without a proof".into());
    }
    if answer.proof_ops.iter().any(|op| op.key != req.key) {
        return Err("the proof names another key".into());
    }
    Ok(())
}

impl LightNode {
    /// Fetches and proves a state value: the answer at state height H is checked against the
    /// app hash of verified header H + 1 (which commits to the state after block H). An
    /// answer for another key or height, without proof, or with a proof that does not verify
    /// is rejected and the next node asked.
    pub async fn query(
        &self,
        req: &QueryRequest,
        verifier: &dyn StateVerifier,
    ) -> Result<Proven, QueryError> {
        let (height, header) = self.state_header(req.height).await?;
        let header_height = header.height;
        let mut failures = Vec::new();
        let mut rejected = 0;
        for provider in self.query_providers() {
            let answer = match provider.abci_query(&req.path, &req.data, height).await {
                Ok(a) => a,
                Err(e) => {
                    failures.push(format!("{}: {e}", provider.url()));
                    continue;
                }
            };
            let checked = check_answer(req, height, &answer).and_then(|()| {
                verifier
                    .verify(
                        header.app_hash.as_bytes(),
                        &req.key,
                        answer.value.as_deref(),
                        &answer.proof_ops,
                    )
                    .map_err(|e| format!("proof rejected: {e}"))
            });
            match checked {
                Ok(()) => {
                    return Ok(Proven {
                        key: req.key.clone(),
                        value: answer.value,
                        height,
                        header_height,
                        header_time: header.time,
                        app_hash: header.app_hash.as_bytes().to_vec(),
                        node: provider.url().to_owned(),
                    })
                }
                Err(why) => {
                    self.mark_faulty(provider.url(), why.clone());
                    failures.push(format!("{}: {why}", provider.url()));
                    rejected += 1;
                }
            }
        }
        Err(QueryError::Unproven {
            reasons: failures.join("; "),
            rejected,
        })
    }

    /// The state height to answer at (`None`: the newest verified state) and the verified
    /// header (one above it) whose app hash commits to that state.
    async fn state_header(
        &self,
        height: Option<Height>,
    ) -> Result<(Height, light_client::Header), QueryError> {
        if let Some(fork) = self.fork() {
            return Err(SyncError::ForkDetected(fork).into());
        }
        let height = match height {
            Some(h) => h,
            None => {
                let head = match self.status().head {
                    Some(head) => head.height,
                    None => self.sync().await?.height,
                };
                Height(head.value().saturating_sub(1))
            }
        };
        if height.value() == 0 {
            return Err(QueryError::NoState);
        }
        let header = self.verified_header(Height(height.value() + 1)).await?;
        Ok((height, header))
    }

    /// Proves many state values at one state height (`height`; `None`: the newest verified
    /// state; each request's own `height` is not used), in order: the answers are asked in
    /// JSON-RPC batches and each is checked as [`LightNode::query`] checks one. What a node
    /// fails to prove is asked of the next; a node whose answer fails its checks is marked
    /// faulty. All are proven, or none is answered.
    pub async fn query_many(
        &self,
        reqs: &[QueryRequest],
        height: Option<Height>,
        verifier: &dyn StateVerifier,
    ) -> Result<Vec<Proven>, QueryError> {
        let (height, header) = self.state_header(height).await?;
        let mut out: Vec<Option<Proven>> = vec![None; reqs.len()];
        let mut pending: Vec<usize> = (0..reqs.len()).collect();
        let mut failures = Vec::new();
        let mut rejected = 0;
        for provider in self.query_providers() {
            if pending.is_empty() {
                break;
            }
            let asks: Vec<(String, Vec<u8>)> = pending
                .iter()
                .map(|&i| (reqs[i].path.clone(), reqs[i].data.clone()))
                .collect();
            let answers = provider.abci_queries(&asks, height).await;
            let mut still = Vec::new();
            let mut lied = None;
            let mut unreachable = None;
            for (&i, answer) in pending.iter().zip(answers) {
                let req = &reqs[i];
                let checked = match answer {
                    Err(e) => {
                        unreachable.get_or_insert_with(|| e.to_string());
                        still.push(i);
                        continue;
                    }
                    Ok(answer) => check_answer(req, height, &answer)
                        .and_then(|()| {
                            verifier
                                .verify(
                                    header.app_hash.as_bytes(),
                                    &req.key,
                                    answer.value.as_deref(),
                                    &answer.proof_ops,
                                )
                                .map_err(|e| format!("proof rejected: {e}"))
                        })
                        .map(|()| answer.value),
                };
                match checked {
                    Ok(value) => {
                        out[i] = Some(Proven {
                            key: req.key.clone(),
                            value,
                            height,
                            header_height: header.height,
                            header_time: header.time,
                            app_hash: header.app_hash.as_bytes().to_vec(),
                            node: provider.url().to_owned(),
                        })
                    }
                    Err(why) => {
                        lied.get_or_insert(why);
                        still.push(i);
                    }
                }
            }
            if let Some(why) = lied {
                // A liar's other answers are not kept either: ask them all of the next node.
                for &i in &pending {
                    out[i] = None;
                }
                still = pending.clone();
                self.mark_faulty(provider.url(), why.clone());
                failures.push(format!("{}: {why}", provider.url()));
                rejected += 1;
            } else if let Some(e) = unreachable {
                failures.push(format!("{}: {e}", provider.url()));
            }
            pending = still;
        }
        if !pending.is_empty() {
            return Err(QueryError::Unproven {
                reasons: failures.join("; "),
                rejected,
            });
        }
        Ok(out.into_iter().flatten().collect())
    }

    /// Asks `abci_query` of each `(path, data)` at state height `height` WITHOUT checking any
    /// proof, in order: the primary first (in JSON-RPC batches), then each witness for what
    /// is still missing. An answer counts when its height is the one asked and its code is 0;
    /// anything else (silence, an error code, another height) is asked of the next node. The
    /// bytes answered are [`Unverified`]: a node can answer anything, so the caller must
    /// check them against a proven value before use (the light node knows no application and
    /// cannot). Refused while a fork is detected, like every query.
    pub async fn query_unverified_many(
        &self,
        queries: &[(String, Vec<u8>)],
        height: Height,
    ) -> Result<Vec<Unverified>, QueryError> {
        if let Some(fork) = self.fork() {
            return Err(SyncError::ForkDetected(fork).into());
        }
        if height.value() == 0 {
            return Err(QueryError::NoState);
        }
        let mut out: Vec<Option<Unverified>> = vec![None; queries.len()];
        let mut pending: Vec<usize> = (0..queries.len()).collect();
        let mut failures = Vec::new();
        for provider in self.query_providers() {
            if pending.is_empty() {
                break;
            }
            let asks: Vec<(String, Vec<u8>)> =
                pending.iter().map(|&i| queries[i].clone()).collect();
            let answers = provider.abci_queries(&asks, height).await;
            let mut still = Vec::new();
            let mut first_failure = None;
            for (&i, answer) in pending.iter().zip(answers) {
                let failed = match answer {
                    Err(e) => e.to_string(),
                    Ok(a) if a.height != height => {
                        format!("answered for height {} instead of {height}", a.height)
                    }
                    Ok(a) if a.code != 0 => format!("query failed with code {}: {}", a.code, a.log),
                    Ok(a) => {
                        out[i] = Some(Unverified {
                            value: a.value.unwrap_or_default(),
                            height,
                            node: provider.url().to_owned(),
                        });
                        continue;
                    }
                };
                first_failure.get_or_insert(failed);
                still.push(i);
            }
            if let Some(why) = first_failure {
                failures.push(format!("{}: {why}", provider.url()));
            }
            pending = still;
        }
        if !pending.is_empty() {
            return Err(QueryError::Unproven {
                reasons: failures.join("; "),
                rejected: 0,
            });
        }
        Ok(out.into_iter().flatten().collect())
    }

    /// Marks node `url` faulty with `why`, as a node whose proof fails is marked: for a caller
    /// that found [`Unverified`] bytes from it contradicting a proven value. A node that is
    /// not one of this light node's does nothing.
    pub fn report_faulty(&self, url: &str, why: String) {
        self.mark_faulty(url, why);
    }

    /// Proves that transaction `hash` is included in a verified block: the node's Merkle
    /// proof must lead from the transaction's hash to the verified header's `data_hash`.
    pub async fn prove_tx(&self, hash: Hash) -> Result<ProvenTx, QueryError> {
        let mut failures = Vec::new();
        let mut rejected = 0;
        let mut not_found = 0;
        let providers = self.query_providers();
        for provider in &providers {
            let answer = match provider.tx(hash).await {
                Ok(a) => a,
                Err(ProviderError::Rpc { message, .. }) if message.contains("not found") => {
                    not_found += 1;
                    continue;
                }
                Err(e) => {
                    failures.push(format!("{}: {e}", provider.url()));
                    continue;
                }
            };
            let header = self.verified_header(answer.height).await?;
            let checked = (|| {
                let digest: [u8; 32] = Sha256::digest(&answer.tx).into();
                if digest != *hash.as_bytes() || answer.hash != hash {
                    return Err("the transaction does not hash to what was asked".to_owned());
                }
                let proof = answer.proof.as_ref().ok_or("answered without a proof")?;
                let data_hash = header
                    .data_hash
                    .ok_or("the verified block has no transactions")?;
                if proof.root_hash != data_hash || proof.data != answer.tx {
                    return Err("the proof is for another block or transaction".to_owned());
                }
                if proof.proof.index != u64::from(answer.index) {
                    return Err("the proof is for another index".to_owned());
                }
                proof
                    .proof
                    .verify(&data_hash, &digest)
                    .map_err(|e| format!("proof rejected: {e}"))
            })();
            match checked {
                Ok(()) => {
                    return Ok(ProvenTx {
                        hash,
                        height: answer.height,
                        time: header.time,
                        index: answer.index,
                        reported_code: answer.code,
                        reported_log: answer.log,
                    })
                }
                Err(why) => {
                    self.mark_faulty(provider.url(), why.clone());
                    failures.push(format!("{}: {why}", provider.url()));
                    rejected += 1;
                }
            }
        }
        if failures.is_empty() && not_found > 0 {
            return Err(QueryError::TxNotFound(hash));
        }
        Err(QueryError::Unproven {
            reasons: failures.join("; "),
            rejected,
        })
    }
}

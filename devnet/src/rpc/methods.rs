//! The CometBFT RPC methods a full node serves, answering in CometBFT's JSON shapes (int64 as
//! strings, upper-case hex hashes, base64 bytes).

use base64::Engine as _;
use serde_json::{json, Value};

use super::jsonrpc::{Params, RawParams, RpcError};
use super::Node;
use crate::abci;
use crate::app::{response, ExecTxResult};
use crate::chain::{tx_hash, MempoolError};
use crate::seal::{BlockRecord, BLOCK_MAX_BYTES, BLOCK_MAX_GAS};

/// A `light_client` value in CometBFT's JSON shape (its serde is that shape; it cannot fail
/// for these types, which hold no maps with non-string keys).
fn to_json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// CometBFT version this node claims (the JSON shapes are those of v0.38).
pub const COMETBFT_VERSION: &str = "0.38.17";

/// Default and maximum `per_page` of `validators` (CometBFT's).
const DEFAULT_PER_PAGE: i64 = 30;
const MAX_PER_PAGE: i64 = 100;

/// The methods served, with their argument names (for positional parameters).
pub const METHODS: &[(&str, &[&str])] = &[
    ("health", &[]),
    ("status", &[]),
    ("abci_info", &[]),
    ("commit", &["height"]),
    ("header", &["height"]),
    ("block", &["height"]),
    ("block_results", &["height"]),
    ("validators", &["height", "page", "per_page"]),
    ("abci_query", &["path", "data", "height", "prove"]),
    ("broadcast_tx_sync", &["tx"]),
    ("broadcast_tx_async", &["tx"]),
    ("tx", &["hash", "prove"]),
    ("broadcast_evidence", &["evidence"]),
    ("blockchain", &["minHeight", "maxHeight"]),
    ("block_by_hash", &["hash"]),
    ("genesis", &[]),
    ("net_info", &[]),
    ("consensus_params", &["height"]),
    ("broadcast_tx_commit", &["tx"]),
    ("num_unconfirmed_txs", &[]),
];

/// Most block metas one `blockchain` call returns (CometBFT's limit).
const BLOCKCHAIN_LIMIT: u64 = 20;
/// How long `broadcast_tx_commit` waits for the block (CometBFT's default
/// `timeout_broadcast_tx_commit`).
const BROADCAST_COMMIT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn b64_or_null(bytes: &[u8]) -> Value {
    if bytes.is_empty() {
        Value::Null
    } else {
        json!(b64(bytes))
    }
}

fn upper(bytes: &[u8]) -> String {
    hex::encode_upper(bytes)
}

/// Runs `method` on `node`. Blocking (takes locks); call from a blocking task.
pub fn call(
    node: &Node,
    method: &str,
    raw: RawParams,
    raw_params: Option<&str>,
) -> Result<Value, RpcError> {
    let Some((_, names)) = METHODS.iter().find(|(m, _)| *m == method) else {
        return Err(RpcError::MethodNotFound(method.to_string()));
    };
    let p = Params::resolve(raw, names)?.with_raw_params(raw_params, names);
    match method {
        "health" => Ok(json!({})),
        "status" => status(node),
        "abci_info" => abci_info(node),
        "commit" => commit(node, &p),
        "header" => {
            let b = block_at(node, &p)?;
            Ok(json!({ "header": to_json(&b.header) }))
        }
        "block" => block(node, &p),
        "block_results" => block_results(node, &p),
        "validators" => validators(node, &p),
        "abci_query" => abci_query(node, &p),
        "broadcast_tx_sync" | "broadcast_tx_async" => broadcast(node, &p),
        "tx" => tx(node, &p),
        "broadcast_evidence" => broadcast_evidence(node, &p),
        "blockchain" => blockchain(node, &p),
        "block_by_hash" => block_by_hash(node, &p),
        "genesis" => genesis(node),
        "net_info" => Ok(net_info(node)),
        "consensus_params" => consensus_params(node, &p),
        "broadcast_tx_commit" => broadcast_tx_commit(node, &p),
        "num_unconfirmed_txs" => Ok(num_unconfirmed_txs(node)),
        _ => Err(RpcError::MethodNotFound(method.to_string())),
    }
}

/// CometBFT's height checks: absent (or 0) means the latest; otherwise 1..=latest.
fn resolve_height(requested: Option<i64>, latest: u64) -> Result<u64, RpcError> {
    match requested {
        None | Some(0) => Ok(latest),
        Some(h) if h < 0 => Err(RpcError::internal(format!(
            "height must be greater than or equal to 0, but got {h}"
        ))),
        Some(h) => {
            let h = u64::try_from(h).unwrap_or(u64::MAX);
            if h > latest {
                Err(RpcError::internal(format!(
                    "height {h} must be less than or equal to the current blockchain height {latest}"
                )))
            } else {
                Ok(h)
            }
        }
    }
}

fn block_at(node: &Node, p: &Params) -> Result<std::sync::Arc<BlockRecord>, RpcError> {
    let mut view = node.view();
    let latest = view.latest_height(&node.chain);
    let h = resolve_height(p.int("height")?, latest)?;
    view.block(&node.chain, h)
        .ok_or_else(|| RpcError::internal(format!("height {h} is not available")))
}

fn status(node: &Node) -> Result<Value, RpcError> {
    let mut view = node.view();
    let latest = view.latest_height(&node.chain);
    let last = view.block(&node.chain, latest);
    let first = view.block(&node.chain, 1);
    let (hash, app_hash, time) = block_summary(last.as_deref());
    let (e_hash, e_app_hash, e_time) = block_summary(first.as_deref());
    Ok(json!({
        "node_info": {
            "protocol_version": { "p2p": "8", "block": "11", "app": "1" },
            "id": node.node_id,
            "listen_addr": node.listen_addr,
            "network": node.chain.chain_id(),
            "version": COMETBFT_VERSION,
            "channels": "40202122233038606100",
            "moniker": node.moniker,
            "other": { "tx_index": "on", "rpc_address": format!("tcp://{}", node.listen_addr) }
        },
        "sync_info": {
            "latest_block_hash": hash,
            "latest_app_hash": app_hash,
            "latest_block_height": latest.to_string(),
            "latest_block_time": time,
            "earliest_block_hash": e_hash,
            "earliest_app_hash": e_app_hash,
            "earliest_block_height": if first.is_some() { "1" } else { "0" },
            "earliest_block_time": e_time,
            "catching_up": false
        },
        "validator_info": {
            "address": node.node_address,
            "pub_key": { "type": "tendermint/PubKeyEd25519", "value": node.node_pub_key },
            "voting_power": "0"
        }
    }))
}

/// A block's id hash, app hash and time as `status` prints them; empty values (and the zero
/// time) before the first block.
fn block_summary(block: Option<&BlockRecord>) -> (String, String, String) {
    match block {
        Some(b) => (
            b.block_id.hash.to_hex(),
            upper(&b.header.app_hash.0),
            b.header.time.to_rfc3339(),
        ),
        None => (
            String::new(),
            String::new(),
            light_client::types::Time::UNIX_EPOCH.to_rfc3339(),
        ),
    }
}

fn abci_info(node: &Node) -> Result<Value, RpcError> {
    let mut view = node.view();
    let latest = view.latest_height(&node.chain);
    let app_hash = view
        .block(&node.chain, latest)
        .map(|b| b.app_hash_after.clone())
        .unwrap_or_default();
    Ok(json!({
        "response": {
            "data": "tradeseal-registry",
            "version": env!("CARGO_PKG_VERSION"),
            "app_version": "1",
            "last_block_height": latest.to_string(),
            "last_block_app_hash": b64(&app_hash)
        }
    }))
}

fn commit(node: &Node, p: &Params) -> Result<Value, RpcError> {
    let b = block_at(node, p)?;
    let latest = node.view().latest_height(&node.chain);
    Ok(json!({
        "signed_header": {
            "header": to_json(&b.header),
            "commit": to_json(&b.commit)
        },
        "canonical": b.height() < latest
    }))
}

fn block(node: &Node, p: &Params) -> Result<Value, RpcError> {
    let b = block_at(node, p)?;
    Ok(block_json(node, &b))
}

/// `{"block_id", "block"}` as `block` answers, for a block this node serves.
pub(super) fn block_json(node: &Node, b: &BlockRecord) -> Value {
    let last_commit = if b.height() > 1 {
        let prev = node.view().block(&node.chain, b.height() - 1);
        prev.map_or(Value::Null, |prev| to_json(&prev.commit))
    } else {
        json!({
            "height": "0",
            "round": 0,
            "block_id": { "hash": "", "parts": { "total": 0, "hash": "" } },
            "signatures": []
        })
    };
    json!({
        "block_id": to_json(&b.block_id),
        "block": {
            "header": to_json(&b.header),
            "data": { "txs": b.txs.iter().map(|t| b64(t)).collect::<Vec<_>>() },
            "evidence": { "evidence": [] },
            "last_commit": last_commit
        }
    })
}

/// The `ResponseFinalizeBlock` of a block, as a `NewBlock` event carries it.
pub(super) fn finalize_block_json(b: &BlockRecord) -> Value {
    json!({
        "events": [],
        "tx_results": b.tx_results.iter().map(tx_result_json).collect::<Vec<_>>(),
        "validator_updates": validator_updates_json(b),
        "consensus_param_updates": null,
        "app_hash": b64(&b.app_hash_after)
    })
}

/// A block's validator updates, as tendermint-rs reads them (`pub_key` with its type, `power`
/// as a string).
fn validator_updates_json(b: &BlockRecord) -> Value {
    b.validator_updates.iter().map(to_json).collect()
}

/// ABCI events as CometBFT JSON (v0.38: string keys and values).
pub(super) fn events_json(events: &[crate::app::Event]) -> Value {
    events
        .iter()
        .map(|e| {
            json!({
                "type": e.kind,
                "attributes": e.attributes.iter().map(|a| json!({
                    "key": String::from_utf8_lossy(a.key_bytes()),
                    "value": String::from_utf8_lossy(a.value_bytes()),
                    "index": a.index()
                })).collect::<Vec<_>>()
            })
        })
        .collect()
}

/// An `ExecTxResult` as CometBFT JSON.
pub(super) fn tx_result_json(r: &ExecTxResult) -> Value {
    json!({
        "code": r.code.value(),
        "data": b64_or_null(&r.data),
        "log": r.log,
        "info": r.info,
        "gas_wanted": r.gas_wanted.to_string(),
        "gas_used": r.gas_used.to_string(),
        "events": events_json(&r.events),
        "codespace": r.codespace
    })
}

/// A `ResponseCheckTx` as CometBFT JSON (v0.38: the fields of `ExecTxResult`).
fn check_tx_json(r: &response::CheckTx) -> Value {
    tx_result_json(&ExecTxResult {
        code: r.code,
        data: r.data.clone(),
        log: r.log.clone(),
        info: r.info.clone(),
        gas_wanted: r.gas_wanted,
        gas_used: r.gas_used,
        events: r.events.clone(),
        codespace: r.codespace.clone(),
    })
}

fn block_results(node: &Node, p: &Params) -> Result<Value, RpcError> {
    let b = block_at(node, p)?;
    let results: Vec<Value> = b.tx_results.iter().map(tx_result_json).collect();
    Ok(json!({
        "height": b.height().to_string(),
        "txs_results": if results.is_empty() { Value::Null } else { Value::Array(results) },
        "finalize_block_events": [],
        "validator_updates": validator_updates_json(&b),
        "consensus_param_updates": null,
        "app_hash": b64(&b.app_hash_after)
    }))
}

fn validators(node: &Node, p: &Params) -> Result<Value, RpcError> {
    let mut view = node.view();
    let latest = view.latest_height(&node.chain);
    let h = match p.int("height")? {
        Some(h) if u64::try_from(h).ok() == Some(latest + 1) => latest + 1,
        other => resolve_height(other, latest)?,
    };
    let set = view.validators(&node.chain, h).ok_or_else(|| {
        RpcError::internal(format!("could not find validator set for height #{h}"))
    })?;
    let total = i64::try_from(set.validators().len()).unwrap_or(i64::MAX);
    let per_page = match p.int("per_page")? {
        None => DEFAULT_PER_PAGE,
        Some(n) if n < 1 => DEFAULT_PER_PAGE,
        Some(n) => n.min(MAX_PER_PAGE),
    };
    let pages = ((total + per_page - 1) / per_page).max(1);
    let page = p.int("page")?.unwrap_or(1);
    if page < 1 || page > pages {
        return Err(RpcError::internal(format!(
            "page should be within [1, {pages}] range, given {page}"
        )));
    }
    let skip = usize::try_from((page - 1) * per_page).unwrap_or(usize::MAX);
    let take = usize::try_from(per_page).unwrap_or(usize::MAX);
    let items: Vec<Value> = set
        .validators()
        .iter()
        .skip(skip)
        .take(take)
        .map(to_json)
        .collect();
    Ok(json!({
        "block_height": h.to_string(),
        "validators": items,
        "count": items.len().to_string(),
        "total": total.to_string()
    }))
}

fn abci_query(node: &Node, p: &Params) -> Result<Value, RpcError> {
    let height = match p.int("height")?.unwrap_or(0) {
        h if h < 0 => {
            return Err(RpcError::params(format!(
                "height must be non-negative, got {h}"
            )))
        }
        h => u64::try_from(h).unwrap_or(0),
    };
    let path = p.string("path")?.unwrap_or_default();
    let data = p.hex_bytes("data")?.unwrap_or_default();
    let prove = p.bool("prove")?.unwrap_or(false);
    let view = node.view();
    let latest = view.latest_height(&node.chain);
    if height > latest {
        return Err(RpcError::internal(format!(
            "height {height} must be less than or equal to the current blockchain height {latest}"
        )));
    }
    // A stale node answers from the state it admits to.
    let at = if height == 0 { latest } else { height };
    let response = node
        .chain
        .query(&abci::query(&path, &data, at, prove))
        .map_err(|e| RpcError::internal(e.to_string()))?;
    let r = view.doctor_query(response);
    let proof_ops = r.proof.as_ref().map(|proof| {
        json!({ "ops": proof.ops.iter().map(|op| json!({
            "type": op.field_type,
            "key": b64(&op.key),
            "data": b64(&op.data)
        })).collect::<Vec<_>>() })
    });
    Ok(json!({
        "response": {
            "code": r.code.value(),
            "log": r.log,
            "info": r.info,
            "index": r.index.to_string(),
            "key": b64_or_null(&r.key),
            "value": b64_or_null(&r.value),
            "proofOps": proof_ops,
            "height": r.height.to_string(),
            "codespace": r.codespace
        }
    }))
}

fn broadcast(node: &Node, p: &Params) -> Result<Value, RpcError> {
    let tx = p
        .base64_bytes("tx")?
        .ok_or_else(|| RpcError::params("missing tx"))?;
    let hash = tx_hash(&tx);
    let result = node.chain.submit_tx(tx).map_err(|e| match e {
        MempoolError::Duplicate | MempoolError::Full(_) | MempoolError::TooLarge { .. } => {
            RpcError::internal(e.to_string())
        }
    })?;
    Ok(json!({
        "code": result.code.value(),
        "data": upper(&result.data),
        "log": result.log,
        "codespace": result.codespace,
        "hash": upper(&hash)
    }))
}

fn broadcast_evidence(node: &Node, p: &Params) -> Result<Value, RpcError> {
    let text = p
        .json_text("evidence")
        .ok_or_else(|| RpcError::params("missing evidence"))?;
    let latest = node.view().latest_height(&node.chain);
    let record = super::evidence::check(&text, node.chain.chain_id(), latest)?;
    let hash = record.hash.clone();
    node.record_evidence(record);
    Ok(json!({ "hash": hash }))
}

fn tx(node: &Node, p: &Params) -> Result<Value, RpcError> {
    let hash = p
        .hash_bytes("hash")?
        .ok_or_else(|| RpcError::params("missing hash"))?;
    let prove = p.bool("prove")?.unwrap_or(false);
    let hash: [u8; 32] = hash
        .as_slice()
        .try_into()
        .map_err(|_| RpcError::params(format!("hash must be 32 bytes, got {}", hash.len())))?;
    let not_found = || RpcError::internal(format!("tx ({}) not found", upper(&hash)));
    let loc = node.chain.blocks().find_tx(&hash).ok_or_else(not_found)?;
    let mut view = node.view();
    let b = view.block(&node.chain, loc.height).ok_or_else(not_found)?;
    let i = usize::try_from(loc.index).unwrap_or(usize::MAX);
    let (Some(tx), Some(result)) = (b.txs.get(i), b.tx_results.get(i)) else {
        return Err(not_found());
    };
    let mut answer = json!({
        "hash": upper(&hash),
        "height": loc.height.to_string(),
        "index": loc.index,
        "tx_result": tx_result_json(result),
        "tx": b64(tx)
    });
    // CometBFT's `proof` is `omitempty`: absent unless asked for.
    if prove {
        answer["proof"] = tx_proof_json(&b.txs, i);
    }
    Ok(answer)
}

/// The `tx` endpoint's proof: the transaction's inclusion under the block's `data_hash`
/// (leaf: the transaction's SHA-256), by `light_client`'s Merkle tree.
fn tx_proof_json(txs: &[Vec<u8>], index: usize) -> Value {
    let leaves: Vec<[u8; 32]> = txs.iter().map(|t| tx_hash(t)).collect();
    let (root, proofs) = light_client::merkle::proofs_from_byte_slices(&leaves);
    let proof = proofs.get(index).map_or(Value::Null, to_json);
    let data = txs.get(index).map(|t| b64(t));
    json!({ "root_hash": root.to_hex(), "data": data, "proof": proof })
}

/// A `BlockMeta`: block id, size, header, number of transactions. `block_size` is the bytes
/// of the block's transactions, header and commit as this node serves them (JSON); CometBFT
/// counts the block's protobuf encoding, which the devnet does not make.
fn block_meta_json(b: &BlockRecord) -> Value {
    let header = to_json(&b.header);
    let commit = to_json(&b.commit);
    let size = b.txs.iter().map(Vec::len).sum::<usize>()
        + header.to_string().len()
        + commit.to_string().len();
    json!({
        "block_id": to_json(&b.block_id),
        "block_size": size.to_string(),
        "header": header,
        "num_txs": b.txs.len().to_string()
    })
}

/// `blockchain(minHeight, maxHeight)`: the metas of at most 20 blocks, highest first, with
/// CometBFT's defaults and checks (`filterMinMax`).
fn blockchain(node: &Node, p: &Params) -> Result<Value, RpcError> {
    let mut view = node.view();
    let latest = view.latest_height(&node.chain);
    let min = p.int("minHeight")?.unwrap_or(0);
    let max = p.int("maxHeight")?.unwrap_or(0);
    if min < 0 || max < 0 {
        return Err(RpcError::internal("heights must be non-negative"));
    }
    let (min, max) = (min.unsigned_abs(), max.unsigned_abs());
    let max = if max == 0 { latest } else { max.min(latest) };
    let min = min.max(1).max((max + 1).saturating_sub(BLOCKCHAIN_LIMIT));
    if min > max && latest > 0 {
        return Err(RpcError::internal(format!(
            "min height {min} can't be greater than max height {max}"
        )));
    }
    let metas: Vec<Value> = (min..=max)
        .rev()
        .filter_map(|h| view.block(&node.chain, h))
        .map(|b| block_meta_json(&b))
        .collect();
    Ok(json!({ "last_height": latest.to_string(), "block_metas": metas }))
}

/// `block_by_hash(hash)`: the block this node serves with that id hash, or (as CometBFT
/// answers) an empty block id and a `null` block.
fn block_by_hash(node: &Node, p: &Params) -> Result<Value, RpcError> {
    let hash = p
        .base64_bytes("hash")?
        .ok_or_else(|| RpcError::params("missing hash"))?;
    let found = {
        let mut view = node.view();
        let latest = view.latest_height(&node.chain);
        (1..=latest)
            .rev()
            .filter_map(|h| view.block(&node.chain, h))
            .find(|b| b.block_id.hash.as_bytes().as_slice() == hash.as_slice())
    };
    Ok(match found {
        Some(b) => block_json(node, &b),
        None => json!({
            "block_id": { "hash": "", "parts": { "total": 0, "hash": "" } },
            "block": null
        }),
    })
}

/// CometBFT's `ConsensusParams` JSON with the values this network uses (CometBFT's defaults;
/// the block limits are those hashed into every header's `consensus_hash`).
fn consensus_params_json() -> Value {
    json!({
        "block": {
            "max_bytes": BLOCK_MAX_BYTES.to_string(),
            "max_gas": BLOCK_MAX_GAS.to_string()
        },
        "evidence": {
            "max_age_num_blocks": "100000",
            "max_age_duration": "172800000000000",
            "max_bytes": "1048576"
        },
        "validator": { "pub_key_types": ["ed25519"] },
        "version": { "app": "0" },
        "abci": { "vote_extensions_enable_height": "0" }
    })
}

/// `genesis`: the genesis document (time of block 1, as in CometBFT, where the first block
/// carries the genesis time; the genesis validators; the application's genesis as
/// `app_state`).
fn genesis(node: &Node) -> Result<Value, RpcError> {
    let first = node.chain.blocks().get(1).cloned();
    let time = first.map_or_else(crate::seal::now, |b| b.header.time);
    let validators: Vec<Value> = node
        .chain
        .genesis_validators()
        .validators()
        .iter()
        .map(|v| {
            let j = to_json(v);
            json!({
                "address": j["address"],
                "pub_key": j["pub_key"],
                "power": j["voting_power"],
                "name": ""
            })
        })
        .collect();
    // An application without a genesis state gets `{}`: CometBFT omits an empty `app_state`,
    // but tendermint-rs's genesis type requires the member.
    let app_state = node
        .chain
        .genesis()
        .app_state
        .clone()
        .unwrap_or_else(|| json!({}));
    Ok(json!({ "genesis": {
        "genesis_time": time.to_rfc3339(),
        "chain_id": node.chain.chain_id(),
        "initial_height": "1",
        "consensus_params": consensus_params_json(),
        "validators": validators,
        "app_hash": "",
        "app_state": app_state
    }}))
}

/// `net_info`: the devnet's nodes share one chain in process and have no peer-to-peer
/// connections, so a node lists none.
fn net_info(node: &Node) -> Value {
    json!({
        "listening": true,
        "listeners": [format!("Listener(@tcp://{})", node.listen_addr)],
        "n_peers": "0",
        "peers": []
    })
}

/// `consensus_params(height)`: the parameters at a height (the same at every height).
fn consensus_params(node: &Node, p: &Params) -> Result<Value, RpcError> {
    let latest = node.view().latest_height(&node.chain);
    let h = resolve_height(p.int("height")?, latest)?;
    Ok(json!({
        "block_height": h.to_string(),
        "consensus_params": consensus_params_json()
    }))
}

/// `num_unconfirmed_txs`: the mempool's size (`txs` is `null`, as CometBFT answers).
fn num_unconfirmed_txs(node: &Node) -> Value {
    let (n, bytes) = node.chain.mempool_totals();
    json!({
        "n_txs": n.to_string(),
        "total": n.to_string(),
        "total_bytes": bytes.to_string(),
        "txs": null
    })
}

/// `broadcast_tx_commit(tx)`: CheckTx, then waits (up to 10 s) for the block that holds it.
/// A transaction CheckTx refuses is answered at once with its `check_tx` result, height 0.
fn broadcast_tx_commit(node: &Node, p: &Params) -> Result<Value, RpcError> {
    let tx = p
        .base64_bytes("tx")?
        .ok_or_else(|| RpcError::params("missing tx"))?;
    let hash = tx_hash(&tx);
    let mut heights = node.chain.subscribe_heights();
    let check = node
        .chain
        .submit_tx(tx)
        .map_err(|e| RpcError::internal(e.to_string()))?;
    let answer = |tx_result: Value, height: u64| {
        json!({
            "check_tx": check_tx_json(&check),
            "tx_result": tx_result,
            "hash": upper(&hash),
            "height": height.to_string()
        })
    };
    if check.code.is_err() {
        return Ok(answer(tx_result_json(&ExecTxResult::default()), 0));
    }
    let committed = |node: &Node| {
        let loc = node.chain.blocks().find_tx(&hash)?;
        let b = node.view().block(&node.chain, loc.height)?;
        let result = b.tx_results.get(usize::try_from(loc.index).ok()?)?.clone();
        Some((loc.height, result))
    };
    let waited = tokio::runtime::Handle::current().block_on(async {
        tokio::time::timeout(BROADCAST_COMMIT_TIMEOUT, async {
            loop {
                if let Some(found) = committed(node) {
                    return Some(found);
                }
                if heights.changed().await.is_err() {
                    return None;
                }
            }
        })
        .await
    });
    match waited {
        Ok(Some((height, result))) => Ok(answer(tx_result_json(&result), height)),
        Ok(None) => Err(RpcError::internal("the network stopped")),
        Err(_) => Err(RpcError::internal(
            "timed out waiting for tx to be included in a block",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heights_follow_cometbft_rules() {
        assert_eq!(resolve_height(None, 5).unwrap(), 5);
        assert_eq!(resolve_height(Some(3), 5).unwrap(), 3);
        assert_eq!(resolve_height(Some(6), 5).unwrap_err().code(), -32603);
        assert_eq!(resolve_height(Some(-1), 5).unwrap_err().code(), -32603);
    }
}

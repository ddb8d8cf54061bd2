//! The CometBFT RPC methods a full node serves, answering in CometBFT's JSON shapes (int64 as
//! strings, upper-case hex hashes, base64 bytes).

use base64::Engine as _;
use serde_json::{json, Value};

use super::jsonrpc::{Params, RawParams, RpcError};
use super::Node;
use crate::app::{Query, TxResult};
use crate::block::BlockRecord;
use crate::chain::{tx_hash, MempoolError};
use crate::consensus;

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
];

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
        return Err(RpcError::MethodNotFound);
    };
    let p = Params::resolve(raw, names)?.with_raw_params(raw_params, names);
    match method {
        "health" => Ok(json!({})),
        "status" => status(node),
        "abci_info" => abci_info(node),
        "commit" => commit(node, &p),
        "header" => {
            let b = block_at(node, &p)?;
            Ok(json!({ "header": consensus::header_json(&b.header) }))
        }
        "block" => block(node, &p),
        "block_results" => block_results(node, &p),
        "validators" => validators(node, &p),
        "abci_query" => abci_query(node, &p),
        "broadcast_tx_sync" | "broadcast_tx_async" => broadcast(node, &p),
        "tx" => tx(node, &p),
        "broadcast_evidence" => broadcast_evidence(node, &p),
        _ => Err(RpcError::MethodNotFound),
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
            upper(&b.block_id.hash),
            upper(&b.header.app_hash),
            b.header.time().to_rfc3339(),
        ),
        None => (
            String::new(),
            String::new(),
            crate::timestamp::Timestamp::default().to_rfc3339(),
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
            "header": consensus::header_json(&b.header),
            "commit": consensus::commit_json(&b.commit)
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
        prev.map_or(Value::Null, |prev| consensus::commit_json(&prev.commit))
    } else {
        json!({
            "height": "0",
            "round": 0,
            "block_id": { "hash": "", "parts": { "total": 0, "hash": "" } },
            "signatures": []
        })
    };
    json!({
        "block_id": consensus::block_id_json(&b.block_id),
        "block": {
            "header": consensus::header_json(&b.header),
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
        "validator_updates": [],
        "consensus_param_updates": null,
        "app_hash": b64(&b.app_hash_after)
    })
}

fn tx_result_json(r: &TxResult) -> Value {
    json!({
        "code": r.code,
        "data": b64_or_null(&r.data),
        "log": r.log,
        "info": r.info,
        "gas_wanted": r.gas_wanted.to_string(),
        "gas_used": r.gas_used.to_string(),
        "events": r.events.iter().map(|e| json!({
            "type": e.kind,
            "attributes": e.attributes.iter().map(|(k, v)| json!({"key": k, "value": v, "index": true})).collect::<Vec<_>>()
        })).collect::<Vec<_>>(),
        "codespace": r.codespace
    })
}

fn block_results(node: &Node, p: &Params) -> Result<Value, RpcError> {
    let b = block_at(node, p)?;
    let results: Vec<Value> = b.tx_results.iter().map(tx_result_json).collect();
    Ok(json!({
        "height": b.height().to_string(),
        "txs_results": if results.is_empty() { Value::Null } else { Value::Array(results) },
        "finalize_block_events": [],
        "validator_updates": [],
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
        .map(consensus::validator_json)
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
    let query = Query {
        path: p.string("path")?.unwrap_or_default(),
        data: p.hex_bytes("data")?.unwrap_or_default(),
        height,
        prove: p.bool("prove")?.unwrap_or(false),
    };
    let view = node.view();
    let latest = view.latest_height(&node.chain);
    if height > latest {
        return Err(RpcError::internal(format!(
            "height {height} must be less than or equal to the current blockchain height {latest}"
        )));
    }
    // A stale node answers from the state it admits to.
    let query = if height == 0 {
        Query {
            height: latest,
            ..query
        }
    } else {
        query
    };
    let response = node
        .chain
        .query(&query)
        .map_err(|e| RpcError::internal(e.to_string()))?;
    let r = view.doctor_query(response);
    let proof_ops = r.proof_ops.as_ref().map(|ops| {
        json!({ "ops": ops.iter().map(|op| json!({
            "type": op.kind,
            "key": b64(&op.key),
            "data": b64(&op.data)
        })).collect::<Vec<_>>() })
    });
    Ok(json!({
        "response": {
            "code": r.code,
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
        "code": result.code,
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
    let proof = if prove {
        consensus::tx_proof_json(&b.txs, i)
    } else {
        json!({
            "root_hash": "",
            "data": null,
            "proof": { "total": "0", "index": "0", "leaf_hash": null, "aunts": null }
        })
    };
    Ok(json!({
        "hash": upper(&hash),
        "height": loc.height.to_string(),
        "index": loc.index,
        "tx_result": tx_result_json(result),
        "tx": b64(tx),
        "proof": proof
    }))
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

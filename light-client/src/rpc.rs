//! Reading CometBFT JSON-RPC answers (`/commit`, `/validators`, light-block files) into types,
//! with errors that name the field and the reason.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::serde_helpers::{str_u64, votes_list};
use crate::types::{Height, LightBlock, SignedHeader, Validator, ValidatorSet, ValidatorSetError};

/// Why a JSON-RPC answer could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The text is not JSON, or a field is missing, mistyped or malformed.
    #[error("at {path}: {reason}")]
    Field {
        /// Where (`result.commit.signatures[3].signature`; `.` for the document itself).
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// The node answered with a JSON-RPC error.
    #[error("JSON-RPC error {code}: {message}")]
    RpcError {
        /// The error code.
        code: i64,
        /// The error message (and data, if any).
        message: String,
    },
    /// The document has none of the known light-block shapes.
    #[error("unknown light block shape: {reason}")]
    UnknownShape {
        /// What was found.
        reason: String,
    },
    /// The validators do not form a valid set.
    #[error("validator set: {0}")]
    ValidatorSet(#[from] ValidatorSetError),
}

fn from_value<T: DeserializeOwned>(
    value: serde_json::Value,
    prefix: &str,
) -> Result<T, ParseError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let inner = e.path().to_string();
        let path = match (prefix.is_empty(), inner.as_str()) {
            (true, _) => inner,
            (false, ".") => prefix.to_owned(),
            (false, _) => format!("{prefix}.{inner}"),
        };
        ParseError::Field {
            path,
            reason: e.into_inner().to_string(),
        }
    })
}

fn parse_json(text: &str) -> Result<serde_json::Value, ParseError> {
    serde_json::from_str(text).map_err(|e| ParseError::Field {
        path: ".".into(),
        reason: e.to_string(),
    })
}

/// Strips a JSON-RPC envelope (`{"jsonrpc", "id", "result"}`) if there is one; turns an
/// `error` answer into [`ParseError::RpcError`]. Returns the payload and its path prefix.
fn unwrap_envelope(
    mut value: serde_json::Value,
) -> Result<(serde_json::Value, &'static str), ParseError> {
    let Some(obj) = value.as_object_mut() else {
        return Err(ParseError::UnknownShape {
            reason: "expected a JSON object".into(),
        });
    };
    if let Some(err) = obj.get("error").filter(|e| !e.is_null()) {
        let code = err
            .get("code")
            .and_then(serde_json::Value::as_i64)
            .unwrap_or(0);
        let mut message = err
            .get("message")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("")
            .to_owned();
        if let Some(data) = err.get("data").and_then(serde_json::Value::as_str) {
            message = format!("{message}: {data}");
        }
        return Err(ParseError::RpcError { code, message });
    }
    match obj.remove("result") {
        Some(result) => Ok((result, "result")),
        None => Ok((value, "")),
    }
}

fn join(prefix: &str, field: &str) -> String {
    if prefix.is_empty() {
        field.to_owned()
    } else {
        format!("{prefix}.{field}")
    }
}

/// Reads a light block from any of these shapes, with or without a JSON-RPC envelope:
///
/// - `{"signed_header": {"header", "commit"}, "validator_set", "next_validator_set"?}`
///   (CometBFT model-based test cases, [`LightBlock`]'s own serialisation);
/// - `{"header", "commit", "validator_set", "next_validator_set"?}` (a block with its commit
///   and validators, as in the Celestia fixtures);
///
/// `validators` is accepted as an alias of `validator_set` (holding either a set or a plain
/// validator list, as `/validators` returns; `null` there is the empty list, as Go prints it).
/// Wherever Go prints an empty list as `null` (`"signatures": null`, `"validators": null`),
/// `null` reads as the empty list: the verdict then follows from the contents (a commit
/// without signatures is [`crate::VerificationError::NoSignatures`]).
pub fn parse_light_block(json: &str) -> Result<LightBlock, ParseError> {
    let (mut payload, prefix) = unwrap_envelope(parse_json(json)?)?;
    let obj = payload
        .as_object_mut()
        .ok_or_else(|| ParseError::UnknownShape {
            reason: format!(
                "{}: expected an object",
                if prefix.is_empty() { "." } else { prefix }
            ),
        })?;

    let signed_header = if let Some(sh) = obj.remove("signed_header") {
        from_value::<SignedHeader>(sh, &join(prefix, "signed_header"))?
    } else if obj.contains_key("header") && obj.contains_key("commit") {
        let mut sh = serde_json::Map::new();
        for key in ["header", "commit"] {
            if let Some(v) = obj.remove(key) {
                sh.insert(key.to_owned(), v);
            }
        }
        from_value::<SignedHeader>(serde_json::Value::Object(sh), prefix)?
    } else {
        return Err(ParseError::UnknownShape {
            reason: "expected `signed_header`, or `header` and `commit`".into(),
        });
    };

    let vals_key = if obj.contains_key("validator_set") {
        "validator_set"
    } else if obj.contains_key("validators") {
        "validators"
    } else {
        return Err(ParseError::UnknownShape {
            reason: "expected `validator_set` next to the signed header".into(),
        });
    };
    let mut value = obj.remove(vals_key);
    if vals_key == "validators" && matches!(value, Some(serde_json::Value::Null)) {
        // A plain validator list, empty: Go prints a nil list as `null`.
        value = Some(serde_json::Value::Array(Vec::new()));
    }
    let validators =
        read_set(value, &join(prefix, vals_key))?.ok_or_else(|| ParseError::Field {
            path: join(prefix, vals_key),
            reason: "validator set is null".into(),
        })?;
    let next_validators = read_set(
        obj.remove("next_validator_set"),
        &join(prefix, "next_validator_set"),
    )?;
    Ok(LightBlock {
        signed_header,
        validators,
        next_validators,
    })
}

fn read_set(
    value: Option<serde_json::Value>,
    path: &str,
) -> Result<Option<ValidatorSet>, ParseError> {
    match value {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(v @ serde_json::Value::Array(_)) => {
            let vals: Vec<Validator> = from_value(v, path)?;
            Ok(Some(ValidatorSet::new(vals, None)?))
        }
        Some(v) => from_value(v, path).map(Some),
    }
}

/// The `/commit` answer: the signed header and whether the commit is canonical.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitResponse {
    /// Header and commit.
    pub signed_header: SignedHeader,
    /// `true` when the commit is the canonical one (stored with the next block).
    #[serde(default)]
    pub canonical: bool,
}

/// Reads a `/commit` answer (with or without the JSON-RPC envelope).
pub fn parse_commit_response(json: &str) -> Result<CommitResponse, ParseError> {
    let (payload, prefix) = unwrap_envelope(parse_json(json)?)?;
    from_value(payload, prefix)
}

/// One page of a `/validators` answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidatorsPage {
    /// The height whose validators these are.
    pub block_height: Height,
    /// The validators of this page (`null`, Go's empty list, reads as none).
    #[serde(deserialize_with = "votes_list")]
    pub validators: Vec<Validator>,
    /// Number of validators on this page.
    #[serde(with = "str_u64")]
    pub count: u64,
    /// Total number of validators at this height.
    #[serde(with = "str_u64")]
    pub total: u64,
}

/// Reads a `/validators` answer page (with or without the JSON-RPC envelope). Join pages with
/// [`ValidatorSet::new`] once `total` validators have been collected.
pub fn parse_validators_response(json: &str) -> Result<ValidatorsPage, ParseError> {
    let (payload, prefix) = unwrap_envelope(parse_json(json)?)?;
    let page: ValidatorsPage = from_value(payload, prefix)?;
    if page.count != page.validators.len() as u64 || page.count > page.total {
        return Err(ParseError::Field {
            path: join(prefix, "count"),
            reason: format!(
                "count {} does not match {} validators listed (total {})",
                page.count,
                page.validators.len(),
                page.total
            ),
        });
    }
    Ok(page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rpc_errors_and_garbage_are_reported() {
        assert!(matches!(
            parse_light_block(
                r#"{"jsonrpc":"2.0","id":1,"error":{"code":-32603,"message":"Internal error","data":"height 9 must be less than or equal to the current blockchain height 5"}}"#
            ),
            Err(ParseError::RpcError { code: -32603, .. })
        ));
        assert!(matches!(
            parse_light_block("[1,2"),
            Err(ParseError::Field { .. })
        ));
        assert!(matches!(
            parse_light_block("{}"),
            Err(ParseError::UnknownShape { .. })
        ));
        assert!(matches!(
            parse_light_block("7"),
            Err(ParseError::UnknownShape { .. })
        ));
    }

    #[test]
    fn validators_page() {
        let page = parse_validators_response(
            r#"{"jsonrpc":"2.0","id":-1,"result":{"block_height":"3","validators":[{"address":"7619BFC85B72E319BF414A784D4DE40EE9B92C16","pub_key":{"type":"tendermint/PubKeyEd25519","value":"l/qNaf4JDxnhP+6Pf+2OSAJYksSIkjyefYCDvZPoahA="},"voting_power":"20000000","proposer_priority":"0"}],"count":"1","total":"1"}}"#,
        )
        .unwrap();
        assert_eq!(page.total, 1);
        let err = parse_validators_response(
            r#"{"result":{"block_height":"3","validators":[{"address":"76","pub_key":{"type":"tendermint/PubKeyEd25519","value":"AA=="},"voting_power":"1"}],"count":"1","total":"1"}}"#,
        )
        .unwrap_err();
        assert!(
            matches!(err, ParseError::Field { ref path, .. } if path == "result.validators[0].address"),
            "{err}"
        );
    }
}

//! JSON-RPC 2.0 envelopes as CometBFT serves them: request parsing (POST bodies and URI query
//! strings), typed parameters, success and error responses with CometBFT's error codes.

use std::collections::HashMap;

use base64::Engine as _;
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};

/// A JSON-RPC error, with the code CometBFT uses for it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RpcError {
    /// -32700: the body is not JSON.
    #[error("parse error: {0}")]
    Parse(String),
    /// -32600: JSON, but not a request (wrong shape, body too large, wrong path).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// -32601: no such method (the method name asked for).
    #[error("method not found: {0:?}")]
    MethodNotFound(String),
    /// -32602: parameters of the wrong type or value.
    #[error("invalid params: {0}")]
    InvalidParams(String),
    /// -32603: the method failed (height not available, tx not found, ...).
    #[error("internal error: {0}")]
    Internal(String),
}

impl RpcError {
    /// The JSON-RPC error code.
    pub fn code(&self) -> i64 {
        match self {
            Self::Parse(_) => -32700,
            Self::InvalidRequest(_) => -32600,
            Self::MethodNotFound(_) => -32601,
            Self::InvalidParams(_) => -32602,
            Self::Internal(_) => -32603,
        }
    }

    /// The short message CometBFT puts beside the code.
    pub fn message(&self) -> &'static str {
        match self {
            Self::Parse(_) => "Parse error. Invalid JSON",
            Self::InvalidRequest(_) => "Invalid Request",
            Self::MethodNotFound(_) => "Method not found",
            Self::InvalidParams(_) => "Invalid params",
            Self::Internal(_) => "Internal error",
        }
    }

    /// The error's `data`: the detail, and for an unknown method which one was asked for.
    fn data(&self) -> Option<String> {
        match self {
            Self::Parse(d)
            | Self::InvalidRequest(d)
            | Self::InvalidParams(d)
            | Self::Internal(d) => Some(d.clone()),
            Self::MethodNotFound(m) => Some(format!(
                "method {m:?} is not served by this node (GET / lists the methods)"
            )),
        }
    }

    /// Shorthand for an internal error.
    pub fn internal(msg: impl Into<String>) -> Self {
        Self::Internal(msg.into())
    }

    /// Shorthand for invalid parameters.
    pub fn params(msg: impl Into<String>) -> Self {
        Self::InvalidParams(msg.into())
    }
}

/// `{"jsonrpc":"2.0","id":..,"result":..}`.
pub fn success(id: &Value, result: Value) -> Value {
    let mut m = Map::new();
    m.insert("jsonrpc".into(), Value::from("2.0"));
    m.insert("id".into(), id.clone());
    m.insert("result".into(), result);
    Value::Object(m)
}

/// `{"jsonrpc":"2.0","id":..,"error":{"code":..,"message":..,"data":..}}`.
pub fn failure(id: &Value, err: &RpcError) -> Value {
    let mut e = Map::new();
    e.insert("code".into(), json!(err.code()));
    e.insert("message".into(), json!(err.message()));
    if let Some(d) = err.data().filter(|d| !d.is_empty()) {
        e.insert("data".into(), json!(d));
    }
    json!({ "jsonrpc": "2.0", "id": id, "error": Value::Object(e) })
}

/// The id CometBFT uses in answers to URI (GET) requests.
pub const URI_REQUEST_ID: i64 = -1;

/// One parsed call.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// The request id, echoed in the answer.
    pub id: Value,
    /// The method name.
    pub method: String,
    /// The parameters as sent.
    pub params: RawParams,
    /// The `params` member's JSON text exactly as received, kept only for methods that need
    /// the bytes of a parameter as sent ([`RAW_PARAM_METHODS`]).
    pub raw_params: Option<String>,
}

/// Methods whose parameters are also kept as received (`broadcast_evidence` hashes the
/// evidence JSON as sent).
pub const RAW_PARAM_METHODS: &[&str] = &["broadcast_evidence"];

/// The `params` member of a request, unparsed.
#[derive(serde::Deserialize)]
struct RawEntry<'a> {
    #[serde(borrow, default)]
    params: Option<&'a RawValue>,
}

fn raw_params_of(entry: &RawValue) -> Option<String> {
    serde_json::from_str::<RawEntry<'_>>(entry.get())
        .ok()
        .and_then(|e| e.params)
        .map(|p| p.get().to_string())
}

/// Fills [`Call::raw_params`] for the calls that need it (a second, borrowing parse of the
/// body, done only when such a call is present).
fn attach_raw_params(bytes: &[u8], body: &mut Body) {
    let wants =
        |e: &Entry| matches!(e, Entry::Call(c) if RAW_PARAM_METHODS.contains(&c.method.as_str()));
    match body {
        Body::Single(entry) if wants(entry) => {
            if let (Entry::Call(c), Ok(raw)) = (entry, serde_json::from_slice::<&RawValue>(bytes)) {
                c.raw_params = raw_params_of(raw);
            }
        }
        Body::Batch(entries) if entries.iter().any(wants) => {
            let Ok(raws) = serde_json::from_slice::<Vec<&RawValue>>(bytes) else {
                return;
            };
            for (entry, raw) in entries.iter_mut().zip(raws) {
                if let Entry::Call(c) = entry {
                    if RAW_PARAM_METHODS.contains(&c.method.as_str()) {
                        c.raw_params = raw_params_of(raw);
                    }
                }
            }
        }
        _ => {}
    }
}

/// Parameters before the method's argument names are known.
#[derive(Debug, Clone, PartialEq)]
pub enum RawParams {
    /// No `params` member, or `null`.
    None,
    /// `params` as an object.
    Named(Map<String, Value>),
    /// `params` as an array, matched to the argument names in order.
    Positional(Vec<Value>),
    /// URI query string parameters (`/commit?height=5`).
    Uri(HashMap<String, String>),
}

/// One entry of a POST body: a call to make, a notification to skip, or an error to answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Entry {
    /// A call with an id.
    Call(Call),
    /// A request without an id: no answer is sent (JSON-RPC 2.0).
    Notification,
    /// A malformed request; answer with this id and error.
    Invalid(Value, RpcError),
}

/// A parsed POST body.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// A single request object.
    Single(Entry),
    /// A batch (non-empty array).
    Batch(Vec<Entry>),
}

/// Parses a POST body. An `Err` is answered alone with a null id.
pub fn parse_body(bytes: &[u8]) -> Result<Body, RpcError> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| RpcError::Parse(format!("error unmarshaling request: {e}")))?;
    match value {
        Value::Array(items) if items.is_empty() => {
            Err(RpcError::InvalidRequest("empty batch".into()))
        }
        Value::Array(items) => {
            let mut body = Body::Batch(items.into_iter().map(parse_entry).collect());
            attach_raw_params(bytes, &mut body);
            Ok(body)
        }
        Value::Object(_) => {
            let mut body = Body::Single(parse_entry(value));
            attach_raw_params(bytes, &mut body);
            Ok(body)
        }
        _ => Err(RpcError::InvalidRequest(
            "a request must be a JSON object or an array of them".into(),
        )),
    }
}

fn parse_entry(value: Value) -> Entry {
    let Value::Object(mut obj) = value else {
        return Entry::Invalid(
            Value::Null,
            RpcError::InvalidRequest("a request must be a JSON object".into()),
        );
    };
    let id = match obj.remove("id") {
        None | Some(Value::Null) => return Entry::Notification,
        Some(Value::String(s)) => Value::String(s),
        Some(Value::Number(n)) if n.is_i64() || n.is_u64() => Value::Number(n),
        Some(other) => {
            return Entry::Invalid(
                Value::Null,
                RpcError::InvalidRequest(format!("id must be a string or an integer, got {other}")),
            )
        }
    };
    match obj.get("jsonrpc") {
        Some(Value::String(v)) if v == "2.0" => {}
        _ => {
            return Entry::Invalid(
                id,
                RpcError::InvalidRequest("jsonrpc must be \"2.0\"".into()),
            )
        }
    }
    let method = match obj.remove("method") {
        Some(Value::String(m)) => m,
        _ => {
            return Entry::Invalid(
                id,
                RpcError::InvalidRequest("method must be a string".into()),
            )
        }
    };
    let params = match obj.remove("params") {
        None | Some(Value::Null) => RawParams::None,
        Some(Value::Object(m)) => RawParams::Named(m),
        Some(Value::Array(a)) => RawParams::Positional(a),
        Some(_) => {
            return Entry::Invalid(
                id,
                RpcError::InvalidParams("params must be an object or an array".into()),
            )
        }
    };
    Entry::Call(Call {
        id,
        method,
        params,
        raw_params: None,
    })
}

/// Parameters matched to a method's argument names.
#[derive(Debug, Clone)]
pub struct Params {
    json: HashMap<String, Value>,
    uri: HashMap<String, String>,
    /// Parameters' JSON text as received (see [`Params::with_raw_params`]).
    raw: HashMap<String, String>,
}

impl Params {
    /// Matches raw parameters to `names` (for positional arrays: exactly as many as names).
    pub fn resolve(raw: RawParams, names: &[&str]) -> Result<Self, RpcError> {
        let mut json = HashMap::new();
        let mut uri = HashMap::new();
        match raw {
            RawParams::None => {}
            RawParams::Named(m) => {
                for (k, v) in m {
                    if !v.is_null() {
                        json.insert(k, v);
                    }
                }
            }
            RawParams::Positional(a) => {
                if a.len() != names.len() {
                    return Err(RpcError::params(format!(
                        "expected {} parameters ({names:?}), got {}",
                        names.len(),
                        a.len()
                    )));
                }
                for (name, v) in names.iter().zip(a) {
                    if !v.is_null() {
                        json.insert((*name).to_string(), v);
                    }
                }
            }
            RawParams::Uri(m) => {
                for (k, v) in m {
                    if !v.is_empty() {
                        uri.insert(k, v);
                    }
                }
            }
        }
        Ok(Self {
            json,
            uri,
            raw: HashMap::new(),
        })
    }

    /// Keeps the JSON text of each parameter as received, from the `params` member's text
    /// (an object, or an array matched to `names`).
    pub fn with_raw_params(mut self, raw_params: Option<&str>, names: &[&str]) -> Self {
        let Some(text) = raw_params else {
            return self;
        };
        if let Ok(map) = serde_json::from_str::<HashMap<String, &RawValue>>(text) {
            self.raw = map
                .into_iter()
                .map(|(k, v)| (k, v.get().to_string()))
                .collect();
        } else if let Ok(list) = serde_json::from_str::<Vec<&RawValue>>(text) {
            self.raw = names
                .iter()
                .zip(list)
                .map(|(k, v)| ((*k).to_string(), v.get().to_string()))
                .collect();
        }
        self
    }

    /// A JSON parameter as text: as received when known (POST with the raw text kept, or a
    /// URI value, which is the JSON itself), else the parsed value written back compactly.
    pub fn json_text(&self, name: &str) -> Option<String> {
        if let Some(v) = self.json.get(name) {
            return Some(self.raw.get(name).cloned().unwrap_or_else(|| v.to_string()));
        }
        self.uri.get(name).cloned()
    }

    /// An integer parameter (`5`, `"5"`; in a URI `5` or `"5"`).
    pub fn int(&self, name: &str) -> Result<Option<i64>, RpcError> {
        let bad = |v: &dyn std::fmt::Display| {
            RpcError::params(format!("{name}: expected an integer, got {v}"))
        };
        if let Some(v) = self.json.get(name) {
            return match v {
                Value::Number(n) => n.as_i64().map(Some).ok_or_else(|| bad(n)),
                Value::String(s) => s.parse::<i64>().map(Some).map_err(|_| bad(s)),
                other => Err(bad(other)),
            };
        }
        if let Some(s) = self.uri.get(name) {
            let t = unquote(s).unwrap_or(s.as_str());
            return t.parse::<i64>().map(Some).map_err(|_| bad(s));
        }
        Ok(None)
    }

    /// A boolean parameter (`true`, `"true"`).
    pub fn bool(&self, name: &str) -> Result<Option<bool>, RpcError> {
        let parse = |s: &str| match s {
            "true" => Ok(Some(true)),
            "false" => Ok(Some(false)),
            _ => Err(RpcError::params(format!(
                "{name}: expected true or false, got {s}"
            ))),
        };
        if let Some(v) = self.json.get(name) {
            return match v {
                Value::Bool(b) => Ok(Some(*b)),
                Value::String(s) => parse(s),
                other => Err(RpcError::params(format!(
                    "{name}: expected a boolean, got {other}"
                ))),
            };
        }
        match self.uri.get(name) {
            Some(s) => parse(unquote(s).unwrap_or(s)),
            None => Ok(None),
        }
    }

    /// A string parameter (JSON string; in a URI `"quoted"` or `0x`-hex).
    pub fn string(&self, name: &str) -> Result<Option<String>, RpcError> {
        if let Some(v) = self.json.get(name) {
            return match v {
                Value::String(s) => Ok(Some(s.clone())),
                other => Err(RpcError::params(format!(
                    "{name}: expected a string, got {other}"
                ))),
            };
        }
        match self.uri.get(name) {
            Some(s) => {
                if let Some(hex) = strip_0x(s) {
                    let bytes = decode_hex(name, hex)?;
                    return String::from_utf8(bytes)
                        .map(Some)
                        .map_err(|_| RpcError::params(format!("{name}: not UTF-8")));
                }
                match unquote(s) {
                    Some(inner) => Ok(Some(inner.to_string())),
                    None => Ok(Some(s.clone())),
                }
            }
            None => Ok(None),
        }
    }

    /// A `HexBytes` parameter (abci_query `data`): hex in JSON; `0x`-hex or `"quoted"` in a URI.
    pub fn hex_bytes(&self, name: &str) -> Result<Option<Vec<u8>>, RpcError> {
        if let Some(v) = self.json.get(name) {
            return match v {
                Value::String(s) => decode_hex(name, strip_0x(s).unwrap_or(s)).map(Some),
                other => Err(RpcError::params(format!(
                    "{name}: expected a hex string, got {other}"
                ))),
            };
        }
        self.uri_bytes(name)
    }

    /// A `[]byte` parameter (`tx`, tx `hash`): base64 in JSON; `0x`-hex or `"quoted"` in a URI.
    pub fn base64_bytes(&self, name: &str) -> Result<Option<Vec<u8>>, RpcError> {
        if let Some(v) = self.json.get(name) {
            return match v {
                Value::String(s) => base64::engine::general_purpose::STANDARD
                    .decode(s)
                    .map(Some)
                    .map_err(|e| RpcError::params(format!("{name}: invalid base64: {e}"))),
                other => Err(RpcError::params(format!(
                    "{name}: expected a base64 string, got {other}"
                ))),
            };
        }
        self.uri_bytes(name)
    }

    /// A 32-byte hash parameter (`tx` `hash`): base64 in JSON as CometBFT expects, also
    /// accepted as 64 hex digits; `0x`-hex or `"quoted"` in a URI.
    pub fn hash_bytes(&self, name: &str) -> Result<Option<Vec<u8>>, RpcError> {
        if let Some(Value::String(s)) = self.json.get(name) {
            let t = strip_0x(s).unwrap_or(s);
            if t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()) {
                return decode_hex(name, t).map(Some);
            }
        }
        self.base64_bytes(name)
    }

    fn uri_bytes(&self, name: &str) -> Result<Option<Vec<u8>>, RpcError> {
        match self.uri.get(name) {
            Some(s) => {
                if let Some(hex) = strip_0x(s) {
                    return decode_hex(name, hex).map(Some);
                }
                match unquote(s) {
                    Some(inner) => Ok(Some(inner.as_bytes().to_vec())),
                    None => Err(RpcError::params(format!(
                        "{name}: expected 0x-prefixed hex or a quoted string, got {s}"
                    ))),
                }
            }
            None => Ok(None),
        }
    }
}

fn strip_0x(s: &str) -> Option<&str> {
    s.strip_prefix("0x").or_else(|| s.strip_prefix("0X"))
}

fn unquote(s: &str) -> Option<&str> {
    s.strip_prefix('"').and_then(|t| t.strip_suffix('"'))
}

fn decode_hex(name: &str, s: &str) -> Result<Vec<u8>, RpcError> {
    hex::decode(s).map_err(|e| RpcError::params(format!("{name}: invalid hex: {e}")))
}

/// Parses a URL query string (`a=1&b=%22x%22`) into a map, percent-decoding values.
pub fn parse_query_string(query: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        out.entry(percent_decode(k))
            .or_insert_with(|| percent_decode(v));
    }
    out
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' if i + 2 < bytes.len() => match hex::decode(&bytes[i + 1..i + 3]) {
                Ok(b) => {
                    out.extend_from_slice(&b);
                    i += 3;
                }
                Err(_) => {
                    out.push(b'%');
                    i += 1;
                }
            },
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(body: &str) -> Call {
        match parse_body(body.as_bytes()) {
            Ok(Body::Single(Entry::Call(c))) => c,
            other => panic!("not a single call: {other:?}"),
        }
    }

    #[test]
    fn parses_calls_with_named_and_positional_params() {
        let c = call(r#"{"jsonrpc":"2.0","id":1,"method":"commit","params":{"height":"5"}}"#);
        assert_eq!(c.method, "commit");
        let p = Params::resolve(c.params, &["height"]).unwrap();
        assert_eq!(p.int("height").unwrap(), Some(5));

        let c = call(r#"{"jsonrpc":"2.0","id":"x","method":"validators","params":["3",2,null]}"#);
        assert_eq!(c.id, json!("x"));
        let p = Params::resolve(c.params, &["height", "page", "per_page"]).unwrap();
        assert_eq!(p.int("height").unwrap(), Some(3));
        assert_eq!(p.int("page").unwrap(), Some(2));
        assert_eq!(p.int("per_page").unwrap(), None);
    }

    #[test]
    fn classifies_bad_requests() {
        assert_eq!(parse_body(b"{nope").unwrap_err().code(), -32700);
        assert_eq!(parse_body(b"[]").unwrap_err().code(), -32600);
        assert_eq!(parse_body(b"42").unwrap_err().code(), -32600);
        let Ok(Body::Single(Entry::Invalid(_, e))) =
            parse_body(br#"{"jsonrpc":"2.0","id":1,"method":7}"#)
        else {
            panic!("expected invalid")
        };
        assert_eq!(e.code(), -32600);
        let Ok(Body::Single(Entry::Invalid(id, e))) =
            parse_body(br#"{"jsonrpc":"1.0","id":9,"method":"status"}"#)
        else {
            panic!("expected invalid")
        };
        assert_eq!((id, e.code()), (json!(9), -32600));
        let Ok(Body::Single(Entry::Invalid(_, e))) =
            parse_body(br#"{"jsonrpc":"2.0","id":1,"method":"status","params":3}"#)
        else {
            panic!("expected invalid")
        };
        assert_eq!(e.code(), -32602);
        assert_eq!(
            parse_body(br#"{"jsonrpc":"2.0","method":"status"}"#).unwrap(),
            Body::Single(Entry::Notification)
        );
        assert!(matches!(
            parse_body(br#"{"jsonrpc":"2.0","id":1.5,"method":"status"}"#),
            Ok(Body::Single(Entry::Invalid(_, RpcError::InvalidRequest(_))))
        ));
    }

    #[test]
    fn typed_params_reject_wrong_types() {
        let c = call(
            r#"{"jsonrpc":"2.0","id":1,"method":"x","params":{"height":"abc","prove":3,"tx":"%%%","data":"zz"}}"#,
        );
        let p = Params::resolve(c.params, &[]).unwrap();
        assert_eq!(p.int("height").unwrap_err().code(), -32602);
        assert_eq!(p.bool("prove").unwrap_err().code(), -32602);
        assert_eq!(p.base64_bytes("tx").unwrap_err().code(), -32602);
        assert_eq!(p.hex_bytes("data").unwrap_err().code(), -32602);
        let hex_hash = "AB".repeat(32);
        let c = call(&format!(
            r#"{{"jsonrpc":"2.0","id":1,"method":"tx","params":{{"hash":"{hex_hash}"}}}}"#
        ));
        let p = Params::resolve(c.params, &[]).unwrap();
        assert_eq!(p.hash_bytes("hash").unwrap(), Some(vec![0xab; 32]));
        let positional = RawParams::Positional(vec![json!(1), json!(2)]);
        assert_eq!(
            Params::resolve(positional, &["height"]).unwrap_err().code(),
            -32602
        );
    }

    #[test]
    fn uri_params_follow_cometbft_conventions() {
        let q = parse_query_string(
            "path=%22%2Fregistry%2Fissuer%22&data=0x0aFF&height=7&prove=true&s=0x6869",
        );
        let p = Params::resolve(RawParams::Uri(q), &[]).unwrap();
        assert_eq!(
            p.string("path").unwrap().as_deref(),
            Some("/registry/issuer")
        );
        assert_eq!(p.hex_bytes("data").unwrap(), Some(vec![0x0a, 0xff]));
        assert_eq!(p.int("height").unwrap(), Some(7));
        assert_eq!(p.bool("prove").unwrap(), Some(true));
        assert_eq!(p.string("s").unwrap().as_deref(), Some("hi"));
        let q = parse_query_string("tx=%22abc%22&hash=nothex");
        let p = Params::resolve(RawParams::Uri(q), &[]).unwrap();
        assert_eq!(p.base64_bytes("tx").unwrap(), Some(b"abc".to_vec()));
        assert_eq!(p.base64_bytes("hash").unwrap_err().code(), -32602);
    }

    #[test]
    fn error_envelope_has_cometbft_shape() {
        let v = failure(&json!(3), &RpcError::MethodNotFound("nope".into()));
        assert_eq!(
            v,
            json!({"jsonrpc":"2.0","id":3,"error":{"code":-32601,"message":"Method not found",
                "data":"method \"nope\" is not served by this node (GET / lists the methods)"}})
        );
        let v = failure(&Value::Null, &RpcError::Parse("bad".into()));
        assert_eq!(v["error"]["data"], json!("bad"));
        assert_eq!(v["id"], Value::Null);
    }
}

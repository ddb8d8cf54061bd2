//! The root of trust: which chain config is in use, where it came from, importing a new one
//! (its text, or a QR code image of it), and the user's own full-node list layered over it.

use std::path::{Path, PathBuf};

use light_client::ChainConfig;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tradeseal_api::ChainSummary;

use crate::settings::write_file_atomically;
use crate::WalletError;

/// The environment variable that fixes the chain config file (set by `cargo xtask dev`).
pub const CHAIN_CONFIG_ENV: &str = "TRADESEAL_CHAIN_CONFIG";

/// Largest chain config accepted (a real one is well under 4 KiB).
const MAX_CONFIG_BYTES: usize = 64 * 1024;

/// Largest image of a chain config's QR code accepted (a phone photo is a few MB).
const MAX_IMAGE_BYTES: usize = 16 * 1024 * 1024;

/// How an image arrives as text from the WebView (a `data:` URL of the file).
const DATA_URL_PREFIX: &str = "data:image/";

/// What was found where the chain config should be.
#[derive(Debug, Clone)]
pub enum ChainSource {
    /// No chain config yet.
    Missing,
    /// A usable config, and the file it came from.
    Valid {
        /// The config, with the user's node list applied.
        config: ChainConfig,
        /// The file.
        path: PathBuf,
    },
    /// A config file that cannot be used; left untouched.
    Invalid {
        /// The file.
        source: String,
        /// Why.
        reason: String,
    },
}

/// The user's node list for one chain, replacing the config's primary and witnesses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct NodeList {
    chain_id: String,
    primary: String,
    witnesses: Vec<String>,
}

/// Where the chain config and the node list live.
#[derive(Debug, Clone)]
pub struct ChainFiles {
    config_dir: PathBuf,
    /// Set when the config is fixed from outside (the environment).
    fixed: Option<PathBuf>,
}

impl ChainFiles {
    /// Files in `config_dir`, unless the environment names the chain config.
    pub fn new(config_dir: &Path) -> ChainFiles {
        ChainFiles {
            config_dir: config_dir.to_owned(),
            fixed: std::env::var_os(CHAIN_CONFIG_ENV).map(PathBuf::from),
        }
    }

    /// Files in `config_dir` only (tests, and the CLI with `--chain-config`).
    pub fn with_fixed(config_dir: &Path, fixed: Option<PathBuf>) -> ChainFiles {
        ChainFiles {
            config_dir: config_dir.to_owned(),
            fixed,
        }
    }

    /// The chain config file in use.
    pub fn config_path(&self) -> PathBuf {
        self.fixed
            .clone()
            .unwrap_or_else(|| self.config_dir.join("chain-config.json"))
    }

    fn nodes_path(&self) -> PathBuf {
        self.config_dir.join("nodes.json")
    }

    /// Reads the chain config and applies the user's node list. A missing file means "not
    /// configured"; an unreadable or invalid one is reported with its reason and left as is.
    pub fn load(&self) -> ChainSource {
        let path = self.config_path();
        if !path.exists() {
            return ChainSource::Missing;
        }
        let parsed = read_config_file(&path).map_err(|e| match e {
            WalletError::InvalidRequest(why) => why,
            other => other.to_string(),
        });
        match parsed {
            Ok(mut config) => {
                if let Some(list) = self.node_list(&config) {
                    config.primary = list.primary;
                    config.witnesses = list.witnesses;
                }
                ChainSource::Valid { config, path }
            }
            Err(reason) => ChainSource::Invalid {
                source: path.display().to_string(),
                reason,
            },
        }
    }

    fn node_list(&self, config: &ChainConfig) -> Option<NodeList> {
        let text = std::fs::read_to_string(self.nodes_path()).ok()?;
        let list: NodeList = serde_json::from_str(&text).ok()?;
        (list.chain_id == config.chain_id.as_str()).then_some(list)
    }

    /// Makes `text` the chain config in use. Replacing a different config needs `confirm`.
    pub fn import(
        &self,
        text: &str,
        current: Option<&ChainConfig>,
        confirm: bool,
    ) -> Result<ChainConfig, WalletError> {
        if let Some(fixed) = &self.fixed {
            return Err(WalletError::InvalidRequest(format!(
                "the chain config is fixed by {CHAIN_CONFIG_ENV}={}; unset it to import another",
                fixed.display()
            )));
        }
        let config = parse_text(text)?;
        if let Some(current) = current {
            if !same_root(current, &config) && !confirm {
                return Err(WalletError::ConfirmationRequired(format!(
                    "this replaces the network {} (checkpoint {}); its verified headers will be forgotten",
                    current.chain_id.as_str(),
                    current.checkpoint.height
                )));
            }
        }
        std::fs::create_dir_all(&self.config_dir)
            .and_then(|()| write_file_atomically(&self.config_path(), config.to_json().as_bytes()))
            .map_err(|e| WalletError::Storage(format!("saving the chain config: {e}")))?;
        // A new root of trust starts with its own node list.
        let _ = std::fs::remove_file(self.nodes_path());
        Ok(config)
    }

    /// Adds a full node (as the primary, or a witness) to the list in use.
    pub fn add_node(
        &self,
        config: &ChainConfig,
        url: &str,
        primary: bool,
    ) -> Result<(), WalletError> {
        let url = check_url(url)?;
        let mut list = self.current_list(config);
        if list.primary == url || list.witnesses.contains(&url) {
            if !primary || list.primary == url {
                return Err(WalletError::InvalidRequest(format!(
                    "{url} is already in the list"
                )));
            }
            list.witnesses.retain(|w| *w != url);
        }
        if primary {
            let old = std::mem::replace(&mut list.primary, url);
            list.witnesses.insert(0, old);
        } else {
            list.witnesses.push(url);
        }
        self.save_list(&list)
    }

    /// Removes a full node; the first witness takes over when the primary goes. The last
    /// node cannot be removed.
    pub fn remove_node(&self, config: &ChainConfig, url: &str) -> Result<(), WalletError> {
        let mut list = self.current_list(config);
        if list.primary == url {
            if list.witnesses.is_empty() {
                return Err(WalletError::InvalidRequest(
                    "the only full node cannot be removed; add another first".into(),
                ));
            }
            list.primary = list.witnesses.remove(0);
        } else if list.witnesses.contains(&url.to_owned()) {
            list.witnesses.retain(|w| w != url);
        } else {
            return Err(WalletError::InvalidRequest(format!(
                "{url} is not in the list"
            )));
        }
        self.save_list(&list)
    }

    fn current_list(&self, config: &ChainConfig) -> NodeList {
        NodeList {
            chain_id: config.chain_id.as_str().to_owned(),
            primary: config.primary.clone(),
            witnesses: config.witnesses.clone(),
        }
    }

    fn save_list(&self, list: &NodeList) -> Result<(), WalletError> {
        let text = serde_json::to_vec_pretty(list).expect("a node list serialises");
        std::fs::create_dir_all(&self.config_dir)
            .and_then(|()| write_file_atomically(&self.nodes_path(), &text))
            .map_err(|e| WalletError::Storage(format!("saving the node list: {e}")))
    }
}

/// Reads a chain config file: its JSON text, or an image (PNG, JPEG, WebP) of its QR code.
pub fn read_config_file(path: &Path) -> Result<ChainConfig, WalletError> {
    let meta = std::fs::metadata(path)
        .map_err(|e| WalletError::InvalidRequest(format!("{}: {e}", path.display())))?;
    if meta.len() <= MAX_IMAGE_BYTES as u64 {
        let bytes = std::fs::read(path)
            .map_err(|e| WalletError::InvalidRequest(format!("{}: {e}", path.display())))?;
        if looks_like_image(&bytes) {
            return parse_image(&bytes);
        }
    }
    let text = read_limited(path).map_err(WalletError::InvalidRequest)?;
    parse(&text).map_err(WalletError::InvalidRequest)
}

/// PNG, JPEG or WebP by their signatures.
fn looks_like_image(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\x89PNG\r\n\x1a\n")
        || bytes.starts_with(&[0xff, 0xd8, 0xff])
        || (bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP")
}

/// The chain config in an image of its QR code (PNG, JPEG or WebP), as the devnet writes it
/// beside the file and an operator publishes it: the first code whose text is a chain config.
pub fn parse_image(bytes: &[u8]) -> Result<ChainConfig, WalletError> {
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(WalletError::InvalidRequest(format!(
            "this image is {} bytes; at most {MAX_IMAGE_BYTES} are read",
            bytes.len()
        )));
    }
    let codes = tradeseal_scan::decode_image_bytes(bytes)
        .map_err(|e| WalletError::InvalidRequest(format!("cannot read this image: {e}")))?;
    let Some(first) = codes.first() else {
        return Err(WalletError::InvalidRequest(
            "no QR code found in this image".into(),
        ));
    };
    if let Some(config) = codes.iter().find_map(|c| parse(c.text.trim()).ok()) {
        return Ok(config);
    }
    let what = if first.text.starts_with("TS1:") {
        "a certificate's code, not a chain config".to_owned()
    } else {
        let why = parse(first.text.trim()).err().unwrap_or_default();
        format!("not a usable chain config: {why}")
    };
    Err(WalletError::InvalidRequest(format!(
        "the QR code in this image is {what}"
    )))
}

/// An image sent as a `data:image/...;base64,` URL: its bytes.
fn data_url_bytes(text: &str) -> Result<Vec<u8>, WalletError> {
    use base64::Engine as _;
    let bad = |why: &str| WalletError::InvalidRequest(format!("not a usable image: {why}"));
    let (head, body) = text.split_once(',').ok_or_else(|| bad("no data"))?;
    if !head.ends_with(";base64") {
        return Err(bad("not base64"));
    }
    base64::engine::general_purpose::STANDARD
        .decode(body.trim())
        .map_err(|_| bad("broken base64"))
}

fn read_limited(path: &Path) -> Result<String, String> {
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if meta.len() > MAX_CONFIG_BYTES as u64 {
        return Err(format!(
            "the file is {} bytes; a chain config is at most {MAX_CONFIG_BYTES}",
            meta.len()
        ));
    }
    std::fs::read_to_string(path).map_err(|e| e.to_string())
}

fn parse(text: &str) -> Result<ChainConfig, String> {
    ChainConfig::from_json(text).map_err(|e| e.to_string())
}

/// Parses a chain config given as text: a file's content, a QR code's text, or an image of
/// its QR code as a `data:image/...;base64,` URL (how the Join screen sends an image file).
pub fn parse_text(text: &str) -> Result<ChainConfig, WalletError> {
    if let Some(rest) = text.trim_start().strip_prefix(DATA_URL_PREFIX) {
        // Base64 is 4/3 of the bytes.
        if rest.len() > MAX_IMAGE_BYTES / 3 * 4 + 256 {
            return Err(WalletError::InvalidRequest(format!(
                "this image is larger than {MAX_IMAGE_BYTES} bytes"
            )));
        }
        return parse_image(&data_url_bytes(rest)?);
    }
    if text.len() > MAX_CONFIG_BYTES {
        return Err(WalletError::InvalidRequest(format!(
            "this is {} bytes; a chain config is at most {MAX_CONFIG_BYTES}",
            text.len()
        )));
    }
    parse(text.trim())
        .map_err(|e| WalletError::InvalidRequest(format!("not a usable chain config: {e}")))
}

fn check_url(url: &str) -> Result<String, WalletError> {
    let url = url.trim().trim_end_matches('/');
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or_else(|| {
            WalletError::InvalidRequest(format!("{url:?} is not an http:// or https:// URL"))
        })?;
    if rest.is_empty() || rest.chars().any(char::is_whitespace) || url.len() > 2048 {
        return Err(WalletError::InvalidRequest(format!(
            "{url:?} is not a usable URL"
        )));
    }
    Ok(url.to_owned())
}

/// `true` when both configs trust the same chain from the same checkpoint.
pub fn same_root(a: &ChainConfig, b: &ChainConfig) -> bool {
    a.chain_id == b.chain_id && a.checkpoint == b.checkpoint
}

/// The root of trust's fingerprint: the first 8 bytes of SHA-256 over the chain id, the
/// checkpoint height and hash, as `XXXX-XXXX-XXXX-XXXX`.
pub fn fingerprint(config: &ChainConfig) -> String {
    let mut h = Sha256::new();
    h.update(config.chain_id.as_str().as_bytes());
    h.update([0]);
    h.update(config.checkpoint.height.value().to_be_bytes());
    h.update(config.checkpoint.hash.as_bytes());
    let hex = hex::encode_upper(&h.finalize()[..8]);
    hex.as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).expect("hex is ASCII"))
        .collect::<Vec<_>>()
        .join("-")
}

/// The chain as the UI shows it.
pub fn summary(config: &ChainConfig) -> ChainSummary {
    ChainSummary {
        chain_id: config.chain_id.as_str().to_owned(),
        checkpoint_height: config.checkpoint.height.value(),
        checkpoint_hash: config.checkpoint.hash.to_string(),
        trusting_period_secs: config.trusting_period.as_secs(),
        fingerprint: fingerprint(config),
        primary: config.primary.clone(),
        witnesses: config.witnesses.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const VALID: &str = r#"{
        "chain_id": "tradeseal-test-1",
        "checkpoint": { "height": "7", "hash": "A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F60718293A4B5C6D7E8F90" },
        "trusting_period": "1209600s",
        "trust_level": "1/3",
        "max_clock_drift": "10s",
        "primary": "http://127.0.0.1:26657",
        "witnesses": ["http://127.0.0.1:26658"]
    }"#;

    fn files(dir: &Path) -> ChainFiles {
        ChainFiles::with_fixed(dir, None)
    }

    #[test]
    fn missing_valid_and_invalid_files() {
        let dir = tempfile::tempdir().unwrap();
        let f = files(dir.path());
        assert!(matches!(f.load(), ChainSource::Missing));
        std::fs::write(f.config_path(), VALID).unwrap();
        let ChainSource::Valid { config, .. } = f.load() else {
            panic!("expected valid");
        };
        assert_eq!(summary(&config).trusting_period_secs, 14 * 24 * 3600);
        let bad = VALID.replace("\"7\"", "\"0\"");
        std::fs::write(f.config_path(), &bad).unwrap();
        let ChainSource::Invalid { reason, .. } = f.load() else {
            panic!("expected invalid");
        };
        assert!(reason.contains("checkpoint.height"), "{reason}");
        assert_eq!(std::fs::read_to_string(f.config_path()).unwrap(), bad);
    }

    #[test]
    fn import_asks_before_replacing_and_node_edits_persist() {
        let dir = tempfile::tempdir().unwrap();
        let f = files(dir.path());
        let first = f.import(VALID, None, false).unwrap();
        // Re-importing the same root needs no confirmation.
        f.import(VALID, Some(&first), false).unwrap();
        let other = VALID.replace("tradeseal-test-1", "tradeseal-test-2");
        assert!(matches!(
            f.import(&other, Some(&first), false),
            Err(WalletError::ConfirmationRequired(_))
        ));
        assert!(
            matches!(f.load(), ChainSource::Valid { ref config, .. } if config.chain_id.as_str() == "tradeseal-test-1")
        );
        f.import(&other, Some(&first), true).unwrap();
        let ChainSource::Valid { config, .. } = f.load() else {
            panic!()
        };
        assert_eq!(config.chain_id.as_str(), "tradeseal-test-2");

        f.add_node(&config, "http://127.0.0.1:9000/", false)
            .unwrap();
        let ChainSource::Valid { config, .. } = f.load() else {
            panic!()
        };
        assert_eq!(config.witnesses.last().unwrap(), "http://127.0.0.1:9000");
        f.add_node(&config, "http://127.0.0.1:9000", true).unwrap();
        let ChainSource::Valid { config, .. } = f.load() else {
            panic!()
        };
        assert_eq!(config.primary, "http://127.0.0.1:9000");
        assert_eq!(config.witnesses[0], "http://127.0.0.1:26657");
        f.remove_node(&config, "http://127.0.0.1:9000").unwrap();
        let ChainSource::Valid { config, .. } = f.load() else {
            panic!()
        };
        assert_eq!(config.primary, "http://127.0.0.1:26657");
        assert!(f.add_node(&config, "ftp://x", false).is_err());
        assert!(f.remove_node(&config, "http://nowhere").is_err());
        assert!(parse_text(&"x".repeat(MAX_CONFIG_BYTES + 1)).is_err());
        assert_eq!(fingerprint(&config).len(), 19);
    }
}

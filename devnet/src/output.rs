//! The files a network writes for the wallet and for developers: the chain config (root of
//! trust and node URLs) as JSON and as a QR code, the development keys, the sample
//! certificates and their QR codes.

use std::path::{Path, PathBuf};

use light_client::config::{ChainConfig, Checkpoint, TrustLevel, DEFAULT_MAX_CLOCK_DRIFT};
use light_client::types::{ChainId, Height};
use qrcode::{EcLevel, QrCode};
use serde_json::json;

use crate::chain::Chain;
use crate::config::DevnetConfig;
use crate::keys::DEV_KEY_WARNING;
use crate::registry_app::{SampleCertificate, Samples};

/// The chain database's file name in the data directory.
pub const DB_FILE: &str = "chain.sqlite";
/// The wallet's chain config.
pub const CHAIN_CONFIG_FILE: &str = "chain-config.json";
/// The wallet's chain config as a QR code (its compact JSON text), for joining from a phone.
pub const CHAIN_CONFIG_QR_FILE: &str = "chain-config.png";
/// The development keys.
pub const DEV_KEYS_FILE: &str = "dev-keys.json";
/// The index of sample certificates.
pub const CERTIFICATES_FILE: &str = "certificates.json";
/// The folder of QR code images.
pub const QR_DIR: &str = "qr";

/// Errors writing the files.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// A file could not be written.
    #[error("writing {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A QR code could not be made.
    #[error("QR code for {id}: {reason}")]
    Qr {
        /// The certificate (or the chain config file).
        id: String,
        /// Why.
        reason: String,
    },
    /// The chain has no block to use as checkpoint.
    #[error("the chain has no block yet")]
    NoBlock,
    /// The chain config is invalid.
    #[error("invalid chain config: {0}")]
    Config(String),
}

/// Paths of what was written.
#[derive(Debug, Clone)]
pub struct OutputFiles {
    /// The wallet's chain config.
    pub chain_config: PathBuf,
    /// The development keys.
    pub dev_keys: PathBuf,
    /// The certificate index (with samples only).
    pub certificates: Option<PathBuf>,
    /// The QR PNGs, one per sample certificate.
    pub qr_codes: Vec<PathBuf>,
    /// The chain config's QR PNG.
    pub chain_config_qr: PathBuf,
}

/// Write a file whole or not at all (temp file + rename), so a reader that sees the file
/// (the app waiting for the chain config) never sees half of it.
fn write(path: &Path, bytes: &[u8]) -> Result<(), OutputError> {
    let io = |source| OutputError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    std::fs::write(&tmp, bytes).map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

/// The chain config for the wallet: the latest block as checkpoint, node 0 as primary, the
/// others as witnesses.
pub fn chain_config(
    config: &DevnetConfig,
    chain: &Chain,
    rpc_urls: &[String],
) -> Result<ChainConfig, OutputError> {
    let latest = chain
        .blocks()
        .latest()
        .cloned()
        .ok_or(OutputError::NoBlock)?;
    let hash = latest.block_id.hash;
    let cfg = ChainConfig {
        chain_id: ChainId::new(chain.chain_id()),
        checkpoint: Checkpoint {
            height: Height::from(latest.height()),
            hash,
        },
        trusting_period: config.trusting_period,
        trust_level: TrustLevel::default(),
        max_clock_drift: DEFAULT_MAX_CLOCK_DRIFT,
        primary: rpc_urls.first().cloned().unwrap_or_default(),
        witnesses: rpc_urls.iter().skip(1).cloned().collect(),
    };
    cfg.validate()
        .map_err(|e| OutputError::Config(e.to_string()))?;
    Ok(cfg)
}

/// The text a sample certificate's QR code carries (the registry's `TS1:` payload).
pub fn qr_payload(cert: &SampleCertificate) -> Result<String, String> {
    registry::qr::encode(&cert.signed).map_err(|e| e.to_string())
}

/// Largest QR version phones read reliably from paper (the protocol's limit).
pub const MAX_QR_VERSION: i16 = 15;

/// A QR code PNG (error correction M, at most version 15, 8 pixels per module, quiet zone
/// included).
pub fn qr_png(payload: &[u8]) -> Result<Vec<u8>, String> {
    let code =
        QrCode::with_error_correction_level(payload, EcLevel::M).map_err(|e| e.to_string())?;
    match code.version() {
        qrcode::Version::Normal(v) if v <= MAX_QR_VERSION => {}
        other => return Err(format!("QR version {other:?} exceeds {MAX_QR_VERSION}")),
    }
    let img = code
        .render::<image::Luma<u8>>()
        .module_dimensions(8, 8)
        .build();
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .map_err(|e| e.to_string())?;
    Ok(out.into_inner())
}

/// The largest QR version of the chain config's code: read from a screen or a print at
/// hand, not from a certificate on paper, so larger than [`MAX_QR_VERSION`].
pub const MAX_CHAIN_CONFIG_QR_VERSION: i16 = 25;

/// The chain config's QR code as a PNG: its compact JSON text (the wallet reads it as it reads
/// the file), error correction M, 8 pixels per module.
pub fn chain_config_qr_png(config: &ChainConfig) -> Result<Vec<u8>, String> {
    let text = serde_json::to_string(config).map_err(|e| e.to_string())?;
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .map_err(|e| e.to_string())?;
    match code.version() {
        qrcode::Version::Normal(v) if v <= MAX_CHAIN_CONFIG_QR_VERSION => {}
        other => {
            return Err(format!(
                "QR version {other:?} exceeds {MAX_CHAIN_CONFIG_QR_VERSION}"
            ))
        }
    }
    let img = code
        .render::<image::Luma<u8>>()
        .module_dimensions(8, 8)
        .build();
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png)
        .map_err(|e| e.to_string())?;
    Ok(out.into_inner())
}

fn key_entry(label: &str, key: &ed25519_dalek::SigningKey) -> serde_json::Value {
    json!({
        "label": label,
        "algorithm": "ed25519",
        "public_key": hex::encode(key.verifying_key().to_bytes()),
        "secret_key": hex::encode(key.to_bytes()),
    })
}

/// Writes everything into `dir`.
pub fn write_files(
    dir: &Path,
    config: &DevnetConfig,
    chain: &Chain,
    rpc_urls: &[String],
    samples: Option<&Samples>,
) -> Result<OutputFiles, OutputError> {
    std::fs::create_dir_all(dir).map_err(|source| OutputError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let chain_config_path = dir.join(CHAIN_CONFIG_FILE);
    let wallet_config = chain_config(config, chain, rpc_urls)?;
    write(&chain_config_path, wallet_config.to_json().as_bytes())?;
    let chain_config_qr = dir.join(CHAIN_CONFIG_QR_FILE);
    let png = chain_config_qr_png(&wallet_config).map_err(|reason| OutputError::Qr {
        id: CHAIN_CONFIG_FILE.to_owned(),
        reason,
    })?;
    write(&chain_config_qr, &png)?;

    let validators: Vec<_> = (0..config.validators)
        .map(|i| {
            let k = chain
                .keys()
                .key(false, u32::try_from(i).unwrap_or(u32::MAX));
            json!({
                "key_index": k.index,
                "address": hex::encode_upper(k.address),
                "public_key": hex::encode(k.pub_key),
                "secret_key": hex::encode(k.secret_bytes()),
            })
        })
        .collect();
    let mut keys = json!({
        "warning": DEV_KEY_WARNING,
        "chain_id": chain.chain_id(),
        "secret_key_format": "hex of the 32-byte ed25519 secret seed",
        "validators": validators,
    });
    let mut out = OutputFiles {
        chain_config: chain_config_path,
        dev_keys: dir.join(DEV_KEYS_FILE),
        certificates: None,
        qr_codes: Vec::new(),
        chain_config_qr,
    };
    if let Some(s) = samples {
        keys["governance"] = json!({
            "threshold": crate::registry_app::GOVERNANCE_THRESHOLD,
            "keys": s.governance.iter().enumerate().map(|(i, k)| key_entry(&format!("governance-{i}"), k)).collect::<Vec<_>>(),
        });
        keys["issuers"] = s
            .issuers
            .iter()
            .map(|i| {
                let mut e = key_entry(i.spec.id.as_str(), &i.key);
                e["issuer_id"] = json!(i.spec.id.as_str());
                e["legal_name"] = json!(i.spec.legal_name);
                e["country"] = json!(i.spec.country.as_str());
                e["kinds"] = json!(i.spec.kinds.kinds());
                e
            })
            .collect();
        let qr_dir = dir.join(QR_DIR);
        std::fs::create_dir_all(&qr_dir).map_err(|source| OutputError::Io {
            path: qr_dir.clone(),
            source,
        })?;
        let mut index = Vec::new();
        for c in &s.certificates {
            let cert = &c.signed.certificate;
            let id = cert.id.to_string();
            let payload = qr_payload(c).map_err(|reason| OutputError::Qr {
                id: id.clone(),
                reason,
            })?;
            let png = qr_png(payload.as_bytes()).map_err(|reason| OutputError::Qr {
                id: id.clone(),
                reason,
            })?;
            let file = format!(
                "{}_{}.png",
                cert.id.issuer.as_str(),
                cert.id.serial.as_str()
            );
            let path = qr_dir.join(&file);
            write(&path, &png)?;
            index.push(json!({
                "id": id,
                "kind": cert.kind,
                "status": c.status,
                "issued_at": cert.issued_at,
                "expires_at": cert.expires_at,
                "content_hash": hex::encode(cert.content_hash()),
                "qr_png": format!("{QR_DIR}/{file}"),
                "qr_text": payload,
                "query_key": format!("/store/cert/{}/{}", cert.id.issuer.as_str(), cert.id.serial.as_str()),
            }));
            out.qr_codes.push(path);
        }
        let path = dir.join(CERTIFICATES_FILE);
        let text = serde_json::to_string_pretty(
            &json!({ "chain_id": chain.chain_id(), "certificates": index }),
        )
        .unwrap_or_default();
        write(&path, text.as_bytes())?;
        out.certificates = Some(path);
    }
    write(
        &out.dev_keys,
        serde_json::to_string_pretty(&keys)
            .unwrap_or_default()
            .as_bytes(),
    )?;
    Ok(out)
}

//! The registry application behind the network's [`Application`] trait, and the sample data
//! a development network is seeded with: governance, three issuers, certificates (some
//! revoked, some expired), all signed with development keys.

use ed25519_dalek::SigningKey;
use registry::state::{GovAction, Governance, IssuerSpec, RevocationReason};
use registry::{
    CertId, Certificate, CertificateKind, Country, Genesis, GenesisError, Goods, IssuerId, KindSet,
    Party, Registry, RegistryConfig, Serial, SignedCertificate, TxBuilder,
};
use sha2::{Digest as _, Sha256};

use crate::app::{
    AppError, Application, BlockOutcome, Event, ProofOp, Query, QueryResponse, TxResult,
};
use crate::chain::Chain;
use crate::keys::{dev_signing_key, KeyRole};
use crate::timestamp::Timestamp;

/// Genesis time of every development chain (2026-01-01T00:00:00Z): fixed, so that a restarted
/// network rebuilds the same genesis state.
pub const GENESIS_TIME: u64 = 1_767_225_600;
/// Number of governance keys; [`GOVERNANCE_THRESHOLD`] of them must approve.
pub const GOVERNANCE_KEYS: u32 = 3;
/// Approvals needed for a governance action.
pub const GOVERNANCE_THRESHOLD: u8 = 2;
/// Sample certificates per issuer.
pub const CERTS_PER_ISSUER: usize = 24;
/// State versions kept queryable with proofs.
pub const RETAIN_VERSIONS: u64 = 10_000;

const DAY: u64 = 24 * 3600;

/// Errors while seeding.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// A sample value is invalid (a bug in the samples).
    #[error("invalid sample data: {0}")]
    Invalid(String),
    /// A seed transaction was rejected.
    #[error("seed transaction rejected ({what}): code {code}: {log}")]
    Rejected {
        /// Which transaction.
        what: String,
        /// Its code.
        code: u32,
        /// The reason.
        log: String,
    },
    /// The chain failed.
    #[error(transparent)]
    Chain(#[from] crate::chain::ChainError),
}

fn invalid(e: impl std::fmt::Display) -> SeedError {
    SeedError::Invalid(e.to_string())
}

/// The governance of a development chain (keys derived from `seed`).
pub fn governance_keys(seed: &str) -> Vec<SigningKey> {
    (0..GOVERNANCE_KEYS)
        .map(|i| dev_signing_key(seed, KeyRole::Governance, i))
        .collect()
}

/// The genesis of a development chain: governance only; issuers are registered by
/// governance transactions in the first blocks.
pub fn genesis(chain_id: &str, seed: &str) -> Genesis {
    Genesis {
        chain_id: chain_id.to_string(),
        genesis_time: GENESIS_TIME,
        governance: Governance {
            threshold: GOVERNANCE_THRESHOLD,
            keys: governance_keys(seed)
                .iter()
                .map(|k| registry::PublicKey::from(&k.verifying_key()))
                .collect(),
        },
        issuers: Vec::new(),
    }
}

/// The registry as the chain's application.
#[derive(Debug)]
pub struct RegistryApp {
    inner: Registry,
    genesis: Genesis,
}

impl RegistryApp {
    /// A registry at the development genesis; an invalid genesis (a chain id out of its
    /// limits) is an error, and no application exists.
    pub fn new(chain_id: &str, seed: &str) -> Result<Self, GenesisError> {
        let config = RegistryConfig {
            retain_versions: Some(RETAIN_VERSIONS),
        };
        let genesis = genesis(chain_id, seed);
        Ok(Self {
            inner: Registry::with_config(&genesis, config)?,
            genesis,
        })
    }

    /// The registry (for in-process inspection).
    pub fn registry(&self) -> &Registry {
        &self.inner
    }
}

fn tx_result(r: registry::TxResult) -> TxResult {
    TxResult {
        code: r.code,
        log: r.log,
        codespace: if r.code == 0 {
            String::new()
        } else {
            "registry".into()
        },
        events: r
            .events
            .into_iter()
            .map(|e| Event {
                kind: e.kind,
                attributes: e.attributes,
            })
            .collect(),
        ..TxResult::default()
    }
}

impl Application for RegistryApp {
    fn app_state(&self) -> Option<serde_json::Value> {
        serde_json::to_value(&self.genesis).ok()
    }

    fn genesis_app_hash(&self) -> Vec<u8> {
        // Every version's root is kept, pruned or not: version 0 is always there.
        self.inner
            .app_hash_at(0)
            .unwrap_or_else(|| self.inner.app_hash())
            .to_vec()
    }

    fn check_tx(&mut self, tx: &[u8]) -> TxResult {
        tx_result(self.inner.check_tx(tx))
    }

    fn finalize_block(
        &mut self,
        height: u64,
        time: Timestamp,
        txs: &[Vec<u8>],
    ) -> Result<BlockOutcome, AppError> {
        let secs = u64::try_from(time.secs).map_err(|_| AppError {
            height,
            reason: format!("block time {} is before 1970", time.secs),
        })?;
        let out = self
            .inner
            .execute_block(height, secs, txs)
            .map_err(|e| AppError {
                height,
                reason: e.to_string(),
            })?;
        Ok(BlockOutcome {
            tx_results: out.tx_results.into_iter().map(tx_result).collect(),
            app_hash: out.app_hash.to_vec(),
        })
    }

    fn query(&self, q: &Query) -> QueryResponse {
        let r = self.inner.query(&q.path, &q.data, Some(q.height), q.prove);
        let found = r.value.is_some();
        QueryResponse {
            code: r.code,
            log: if r.code == 0 {
                if found { "exists" } else { "does not exist" }.to_string()
            } else {
                r.log
            },
            key: r.key,
            value: r.value.unwrap_or_default(),
            proof_ops: r.proof.map(|p| {
                vec![ProofOp {
                    kind: p.kind,
                    key: p.key,
                    data: p.data,
                }]
            }),
            height: r.height,
            codespace: if r.code == 0 {
                String::new()
            } else {
                "registry".into()
            },
            ..QueryResponse::default()
        }
    }
}

/// What a sample certificate's state on the chain is meant to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SampleStatus {
    /// Registered, current.
    Valid,
    /// Registered, then revoked by its issuer.
    Revoked,
    /// Registered with an expiry in the past.
    Expired,
    /// Registered, current, but governance has since removed its issuer (a compromised key).
    IssuerRemoved,
}

/// A sample issuer and its development key.
#[derive(Debug, Clone)]
pub struct SampleIssuer {
    /// What governance registers.
    pub spec: IssuerSpec,
    /// Its signing key.
    pub key: SigningKey,
}

/// A sample certificate, signed by its issuer.
#[derive(Debug, Clone)]
pub struct SampleCertificate {
    /// The signed certificate (what the QR code carries).
    pub signed: SignedCertificate,
    /// Its intended state.
    pub status: SampleStatus,
}

/// All sample data of a development chain.
#[derive(Debug, Clone)]
pub struct Samples {
    /// Chain id the signatures are bound to.
    pub chain_id: String,
    /// Governance keys.
    pub governance: Vec<SigningKey>,
    /// Issuers.
    pub issuers: Vec<SampleIssuer>,
    /// Certificates.
    pub certificates: Vec<SampleCertificate>,
}

struct IssuerTemplate {
    id: &'static str,
    name: &'static str,
    country: &'static str,
    kinds: &'static [CertificateKind],
    prefix: &'static str,
    /// How many certificates it issues.
    certificates: usize,
    /// Governance removes it after its certificates are registered.
    removed: bool,
}

/// Why governance removes the removed sample issuer.
pub const REMOVED_ISSUER_REASON: &str = "signing key compromised (devnet sample)";

const ISSUERS: [IssuerTemplate; 4] = [
    IssuerTemplate {
        id: "KE-KNCCI",
        name: "Kenya National Chamber of Commerce and Industry (devnet sample)",
        country: "KE",
        kinds: &[CertificateKind::CertificateOfOrigin],
        prefix: "CO",
        certificates: CERTS_PER_ISSUER,
        removed: false,
    },
    IssuerTemplate {
        id: "KE-KEPHIS",
        name: "Kenya Plant Health Inspectorate Service (devnet sample)",
        country: "KE",
        kinds: &[CertificateKind::Phytosanitary, CertificateKind::Fumigation],
        prefix: "PH",
        certificates: CERTS_PER_ISSUER,
        removed: false,
    },
    IssuerTemplate {
        id: "KE-TRADE-LIC",
        name: "Import and Export Licensing Office (devnet sample)",
        country: "KE",
        kinds: &[
            CertificateKind::ImportLicence,
            CertificateKind::ExportLicence,
            CertificateKind::Permit,
        ],
        prefix: "LIC",
        certificates: CERTS_PER_ISSUER,
        removed: false,
    },
    IssuerTemplate {
        id: "KE-OLD-INSPECT",
        name: "Former Export Inspection Office (devnet sample; removed by governance)",
        country: "KE",
        kinds: &[CertificateKind::Conformity],
        prefix: "CC",
        certificates: 4,
        removed: true,
    },
];

const EXPORTERS: [(&str, &str); 4] = [
    ("Rift Valley Roses Ltd", "P051234567X"),
    ("Mombasa Coffee Traders Ltd", "P051987654Q"),
    ("Naivasha Fresh Produce Ltd", "P052223344M"),
    ("Thika Tea Exporters Ltd", "P053334455K"),
];
const IMPORTERS: [(&str, &str, &str); 4] = [
    ("Aalsmeer Flower Imports B.V.", "NL", "NL823456789B01"),
    ("Hamburg Kaffee Import GmbH", "DE", "DE812345678"),
    ("Dubai Fresh Foods LLC", "AE", "100234567800003"),
    ("London Tea Merchants Ltd", "GB", "GB123456789"),
];
const GOODS: [(&str, &str, &str, &str); 4] = [
    ("Fresh cut roses (Rosa spp.)", "060311", "9600", "KGM"),
    ("Green coffee beans, not roasted", "090111", "18000", "KGM"),
    ("Fresh avocados (Hass)", "080440", "12500", "KGM"),
    ("Black tea, fermented, in bulk", "090240", "20000", "KGM"),
];

/// Builds the sample data. `base_time` (unix seconds; the time of block 1) anchors every
/// date, so the same chain always gets the same samples.
pub fn samples(chain_id: &str, seed: &str, base_time: Timestamp) -> Result<Samples, SeedError> {
    let now = u64::try_from(base_time.secs)
        .unwrap_or(GENESIS_TIME)
        .max(GENESIS_TIME);
    let mut issuers = Vec::new();
    let mut certificates = Vec::new();
    for (i, t) in ISSUERS.iter().enumerate() {
        let key = dev_signing_key(seed, KeyRole::Issuer, u32::try_from(i).unwrap_or(0));
        let country = Country::new(t.country).map_err(invalid)?;
        let spec = IssuerSpec {
            id: IssuerId::new(t.id).map_err(invalid)?,
            legal_name: t.name.to_string(),
            country,
            keys: vec![registry::PublicKey::from(&key.verifying_key())],
            kinds: KindSet::of(t.kinds),
            valid_from: GENESIS_TIME - 3 * 365 * DAY,
            valid_until: GENESIS_TIME + 10 * 365 * DAY,
        };
        for n in 0..t.certificates {
            let status = match n % 6 {
                _ if t.removed => SampleStatus::IssuerRemoved,
                2 => SampleStatus::Revoked,
                4 => SampleStatus::Expired,
                _ => SampleStatus::Valid,
            };
            let n64 = u64::try_from(n).unwrap_or(0);
            let (issued_at, expires_at) = match status {
                SampleStatus::Expired => (now - 400 * DAY + n64 * DAY, now - 30 * DAY + n64 * 3600),
                _ => (now - (n64 + 1) * 3600, now + 180 * DAY),
            };
            let (exporter, exporter_id) = EXPORTERS[n % EXPORTERS.len()];
            let (importer, importer_country, importer_id) = IMPORTERS[n % IMPORTERS.len()];
            let (goods, hs, qty, unit) = GOODS[n % GOODS.len()];
            // The issuer's main kinds, with its last kind for one certificate in four
            // (fumigation certificates, permits).
            let main = t.kinds.len().saturating_sub(1).max(1);
            let kind = if t.kinds.len() > 1 && n % 4 == 3 {
                t.kinds[t.kinds.len() - 1]
            } else {
                t.kinds[n % main]
            };
            let serial = format!("{}-2026-{:04}", t.prefix, n + 1);
            let destination = Country::new(importer_country).map_err(invalid)?;
            let certificate = Certificate {
                kind,
                id: CertId::new(
                    spec.id.clone(),
                    Serial::new(serial.clone()).map_err(invalid)?,
                ),
                exporter: Party {
                    name: exporter.into(),
                    country,
                    identifier: Some(exporter_id.into()),
                },
                importer: Party {
                    name: importer.into(),
                    country: destination,
                    identifier: Some(importer_id.into()),
                },
                goods: Goods {
                    description: goods.into(),
                    hs_code: hs.into(),
                    quantity: qty.into(),
                    unit: unit.into(),
                },
                origin: country,
                destination,
                issued_at,
                expires_at,
                transport: Some(format!("Sea MSC-{} MBA-RTM", 100 + n)),
                invoice: Some(format!("INV-2026-{:05}", 1000 + n)),
                remarks: None,
                document_hash: Some(
                    Sha256::digest(format!("devnet sample document {serial}")).into(),
                ),
            };
            certificates.push(SampleCertificate {
                signed: certificate.sign(chain_id, &key).map_err(invalid)?,
                status,
            });
        }
        issuers.push(SampleIssuer { spec, key });
    }
    Ok(Samples {
        chain_id: chain_id.to_string(),
        governance: governance_keys(seed),
        issuers,
        certificates,
    })
}

/// A sample transaction: what it does, and its bytes or why it could not be built.
type SampleTx = (String, Result<Vec<u8>, registry::DecodeError>);

fn submit_all(chain: &Chain, txs: Vec<SampleTx>) -> Result<(), SeedError> {
    for (what, tx) in txs {
        let tx = tx.map_err(|e| SeedError::Invalid(format!("{what}: {e}")))?;
        let r = chain.submit_tx(tx).map_err(|e| SeedError::Rejected {
            what: what.clone(),
            code: 0,
            log: e.to_string(),
        })?;
        if r.code != 0 {
            return Err(SeedError::Rejected {
                what,
                code: r.code,
                log: r.log,
            });
        }
    }
    let block = chain.produce_block(Timestamp::now())?;
    if let Some((i, r)) = block
        .tx_results
        .iter()
        .enumerate()
        .find(|(_, r)| r.code != 0)
    {
        return Err(SeedError::Rejected {
            what: format!("tx {i} of block {}", block.height()),
            code: r.code,
            log: r.log.clone(),
        });
    }
    Ok(())
}

/// Writes the samples on the chain, one block per phase (each phase's transactions need the
/// previous phase committed to pass CheckTx): governance proposals, approvals, certificates,
/// revocations.
pub fn submit_samples(chain: &Chain, samples: &Samples) -> Result<(), SeedError> {
    let chain_id = samples.chain_id.as_str();
    let [proposer, approver, ..] = samples.governance.as_slice() else {
        return Err(SeedError::Invalid("need two governance keys".into()));
    };
    let expires = u64::try_from(Timestamp::now().secs).unwrap_or(GENESIS_TIME) + 7 * DAY;
    let p = TxBuilder::new(chain_id, proposer);
    let proposals = samples
        .issuers
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let seq = u64::try_from(i).unwrap_or(0) + 1;
            (
                format!("propose {}", s.spec.id),
                p.propose(seq, GovAction::RegisterIssuer(s.spec.clone()), expires),
            )
        })
        .collect();
    submit_all(chain, proposals)?;
    let a = TxBuilder::new(chain_id, approver);
    let approvals = (0..samples.issuers.len())
        .map(|i| {
            let id = u64::try_from(i).unwrap_or(0);
            (format!("approve proposal {id}"), a.approve(id + 1, id))
        })
        .collect();
    submit_all(chain, approvals)?;
    let mut issues = Vec::new();
    let mut revokes = Vec::new();
    for issuer in &samples.issuers {
        let b = TxBuilder::new(chain_id, &issuer.key);
        let mine: Vec<_> = samples
            .certificates
            .iter()
            .filter(|c| c.signed.certificate.id.issuer == issuer.spec.id)
            .collect();
        let mut seq = 0;
        for c in &mine {
            seq += 1;
            issues.push((
                format!("issue {}", c.signed.certificate.id),
                b.issue_signed(seq, &c.signed),
            ));
        }
        for c in mine.iter().filter(|c| c.status == SampleStatus::Revoked) {
            seq += 1;
            revokes.push((
                format!("revoke {}", c.signed.certificate.id),
                b.revoke(
                    seq,
                    c.signed.certificate.id.clone(),
                    RevocationReason::Cancelled,
                    "shipment cancelled (devnet sample)",
                ),
            ));
        }
    }
    submit_all(chain, issues)?;
    submit_all(chain, revokes)?;
    // Governance removes the issuers meant to be removed, after their certificates are in.
    let removed: Vec<_> = ISSUERS
        .iter()
        .zip(&samples.issuers)
        .filter(|(t, _)| t.removed)
        .map(|(_, s)| s.spec.id.clone())
        .collect();
    let first = samples.issuers.len();
    let proposals = removed
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let seq = u64::try_from(first + i).unwrap_or(0) + 1;
            let action = GovAction::RemoveIssuer {
                id: id.clone(),
                reason: REMOVED_ISSUER_REASON.into(),
            };
            (
                format!("propose removing {id}"),
                p.propose(seq, action, expires),
            )
        })
        .collect();
    submit_all(chain, proposals)?;
    let approvals = (0..removed.len())
        .map(|i| {
            let n = u64::try_from(first + i).unwrap_or(0);
            (format!("approve proposal {n}"), a.approve(n + 1, n))
        })
        .collect();
    submit_all(chain, approvals)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invalid_genesis_is_an_error_not_an_application() {
        let long = "c".repeat(registry::MAX_CHAIN_ID_LEN + 1);
        assert!(matches!(
            RegistryApp::new(&long, "seed"),
            Err(GenesisError::Invalid(_))
        ));
        let app = RegistryApp::new("tradeseal-devnet", "seed").unwrap();
        assert_eq!(app.genesis_app_hash(), app.registry().app_hash().to_vec());
    }
}

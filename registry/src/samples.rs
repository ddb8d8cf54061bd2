//! The sample data a development network is seeded with: three issuers and a fourth that
//! governance removes, and their certificates (some revoked, some expired), all signed with
//! the keys given (development keys). Feature `testkit`; the devnet writes them on its chain.

use ed25519_dalek::SigningKey;
use sha2::{Digest as _, Sha256};

use crate::certificate::{Certificate, Goods, Party, SignedCertificate};
use crate::codec::DecodeError;
use crate::state::IssuerSpec;
use crate::types::{CertId, CertificateKind, Country, IssuerId, KindSet, PublicKey, Serial};

/// Sample certificates per issuer (the removed issuer has four).
pub const CERTS_PER_ISSUER: usize = 24;

const DAY: u64 = 24 * 3600;

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
    /// Governance removes it once its certificates are registered.
    pub removed: bool,
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

/// Builds the sample data, signed for `chain_id`. `now` (unix seconds) anchors every date, so
/// the same chain always gets the same samples; each issuer is valid from three years before
/// `genesis_time` to ten years after it. `issuer_key(i)` is the key of the `i`-th issuer (four
/// issuers, the last one removed by governance); `governance` is kept as given.
pub fn samples(
    chain_id: &str,
    genesis_time: u64,
    now: u64,
    governance: Vec<SigningKey>,
    issuer_key: impl Fn(u32) -> SigningKey,
) -> Result<Samples, DecodeError> {
    let mut issuers = Vec::new();
    let mut certificates = Vec::new();
    for (i, t) in ISSUERS.iter().enumerate() {
        let key = issuer_key(u32::try_from(i).unwrap_or(0));
        let country = Country::new(t.country)?;
        let spec = IssuerSpec {
            id: IssuerId::new(t.id)?,
            legal_name: t.name.to_string(),
            country,
            keys: vec![PublicKey::from(&key.verifying_key())],
            kinds: KindSet::of(t.kinds),
            valid_from: genesis_time.saturating_sub(3 * 365 * DAY),
            valid_until: genesis_time.saturating_add(10 * 365 * DAY),
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
                SampleStatus::Expired => (
                    now.saturating_sub(400 * DAY) + n64 * DAY,
                    now.saturating_sub(30 * DAY) + n64 * 3600,
                ),
                _ => (now.saturating_sub((n64 + 1) * 3600), now + 180 * DAY),
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
            let destination = Country::new(importer_country)?;
            let certificate = Certificate {
                kind,
                id: CertId::new(spec.id.clone(), Serial::new(serial.clone())?),
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
                signed: certificate.sign(chain_id, &key)?,
                status,
            });
        }
        issuers.push(SampleIssuer {
            spec,
            key,
            removed: t.removed,
        });
    }
    Ok(Samples {
        chain_id: chain_id.to_string(),
        governance,
        issuers,
        certificates,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devkit::dev_key;

    fn build(now: u64) -> Samples {
        let gov = vec![dev_key("gov-0"), dev_key("gov-1")];
        samples("tradeseal-test", 1_767_225_600, now, gov, |i| {
            dev_key(&format!("issuer-{i}"))
        })
        .unwrap()
    }

    #[test]
    fn the_samples_are_stable_and_cover_every_status() {
        let a = build(1_767_225_600);
        let b = build(1_767_225_600);
        assert_eq!(a.issuers.len(), 4);
        assert_eq!(a.issuers.iter().filter(|i| i.removed).count(), 1);
        assert_eq!(a.certificates.len(), 3 * CERTS_PER_ISSUER + 4);
        for status in [
            SampleStatus::Valid,
            SampleStatus::Revoked,
            SampleStatus::Expired,
            SampleStatus::IssuerRemoved,
        ] {
            assert!(a.certificates.iter().any(|c| c.status == status));
        }
        for (x, y) in a.certificates.iter().zip(&b.certificates) {
            assert_eq!(x.signed, y.signed);
            let issuer = a
                .issuers
                .iter()
                .find(|i| i.spec.id == x.signed.certificate.id.issuer)
                .unwrap();
            assert!(x
                .signed
                .is_signed_by("tradeseal-test", &issuer.spec.keys[0]));
            assert!(issuer.spec.kinds.contains(x.signed.certificate.kind));
        }
    }
}

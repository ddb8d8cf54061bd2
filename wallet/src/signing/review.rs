//! The review: exactly the bytes that will be signed, decoded back into a transaction by the
//! registry's own decoder and written out field by field in plain words, with the chain id,
//! the signer and the sequence. What the user confirms is the SHA-256 of those bytes.

use registry::state::GovAction;
use registry::{Message, Tx, TxBody, TX_SIGN_DOMAIN};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::forms::kind_name;

/// One line of the review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewField {
    /// Stable name (`cert`, `outcome`, `action.keys`); the UI translates by it.
    pub name: String,
    /// In words (English).
    pub label: String,
    /// The value as text.
    pub value: String,
}

/// What the user is asked to confirm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    /// The message's stable name: `revoke_certificate`, `record_inspection`, `propose`,
    /// `approve`, `issue_certificate`.
    pub action: String,
    /// One sentence saying what the transaction does.
    pub summary: String,
    /// The chain it is for.
    pub chain_id: String,
    /// The signer's public key (hex).
    pub signer: String,
    /// The signer's key label in this wallet.
    pub signer_label: String,
    /// The sequence it carries.
    pub sequence: u64,
    /// Every field of the message, in order.
    pub fields: Vec<ReviewField>,
    /// SHA-256 of the bytes to be signed (hex): the confirmation must name it.
    pub sign_bytes_sha256: String,
    /// The bytes to be signed (hex), for whoever wants to check them.
    pub sign_bytes_hex: String,
    /// What was proven about the chain before this was prepared, in words.
    pub checks: Vec<String>,
    /// The state height those checks were proven at.
    pub proven_height: u64,
}

/// Why bytes could not be reviewed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReviewError {
    /// They do not start with the transaction domain.
    #[error("not transaction sign bytes: the domain prefix is missing")]
    NotSignBytes,
    /// The registry's decoder refused them.
    #[error("the bytes do not decode as a transaction: {0}")]
    Decode(String),
    /// They decode, but not canonically (re-encoding gives other bytes).
    #[error("the bytes are not the canonical encoding of the transaction they decode to")]
    NotCanonical,
}

/// Decodes sign bytes (`TX_SIGN_DOMAIN || unsigned transaction`) back into the body with the
/// registry's decoder, and checks that the body encodes to exactly these bytes.
pub fn decode_sign_bytes(sign_bytes: &[u8]) -> Result<TxBody, ReviewError> {
    let unsigned = sign_bytes
        .strip_prefix(TX_SIGN_DOMAIN)
        .ok_or(ReviewError::NotSignBytes)?;
    // The decoder reads a whole envelope: give it a placeholder signature, never checked.
    let mut envelope = unsigned.to_vec();
    envelope.extend_from_slice(&[0u8; 64]);
    let tx = Tx::decode(&envelope).map_err(|e| ReviewError::Decode(e.to_string()))?;
    let again = tx
        .body
        .sign_bytes()
        .map_err(|e| ReviewError::Decode(e.to_string()))?;
    if again != sign_bytes {
        return Err(ReviewError::NotCanonical);
    }
    Ok(tx.body)
}

/// Unix seconds as `YYYY-MM-DD HH:MM:SS UTC`.
pub fn utc(t: u64) -> String {
    let days = (t / 86_400) as i64;
    let secs = t % 86_400;
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

fn snake<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(|s| s.replace('_', " ")))
        .unwrap_or_default()
}

fn field(name: &str, label: &str, value: impl Into<String>) -> ReviewField {
    ReviewField {
        name: name.to_owned(),
        label: label.to_owned(),
        value: value.into(),
    }
}

fn or_none(s: &str) -> String {
    if s.is_empty() {
        "(none)".to_owned()
    } else {
        s.to_owned()
    }
}

/// The message's stable name, a sentence and every field in words.
pub fn describe(message: &Message) -> (&'static str, String, Vec<ReviewField>) {
    match message {
        Message::RevokeCertificate { cert, reason, note } => (
            "revoke_certificate",
            format!("Revoke certificate {cert} ({}).", snake(reason)),
            vec![
                field("cert", "Certificate", cert.to_string()),
                field("reason", "Reason", snake(reason)),
                field("note", "Note", or_none(note)),
            ],
        ),
        Message::RecordInspection(m) => (
            "record_inspection",
            format!(
                "Record an inspection of certificate {} by {} at {}: {}.",
                m.cert,
                m.agency,
                m.location,
                snake(&m.outcome)
            ),
            vec![
                field("cert", "Certificate", m.cert.to_string()),
                field("agency", "Inspecting agency", m.agency.to_string()),
                field("location", "Location", m.location.clone()),
                field("outcome", "Outcome", snake(&m.outcome)),
                field("notes", "Notes", or_none(&m.notes)),
                field("inspected_at", "Inspected at", utc(m.inspected_at)),
            ],
        ),
        Message::Approve { proposal } => (
            "approve",
            format!("Approve governance proposal {proposal}."),
            vec![field("proposal", "Proposal", proposal.to_string())],
        ),
        Message::Propose { action, expires_at } => {
            let (sentence, mut fields) = describe_action(action);
            fields.push(field(
                "expires_at",
                "Open for approvals until",
                utc(*expires_at),
            ));
            ("propose", format!("Propose: {sentence}"), fields)
        }
        Message::IssueCertificate(signed) => {
            let c = &signed.certificate;
            let party = |p: &registry::Party| {
                let id = p
                    .identifier
                    .as_deref()
                    .map(|i| format!(", {i}"))
                    .unwrap_or_default();
                format!("{} ({}{id})", p.name, p.country)
            };
            let opt = |o: &Option<String>| o.clone().unwrap_or_else(|| "(none)".to_owned());
            let signature = if signed.signature == super::forms::UNSIGNED {
                "made by this key over the certificate when you confirm".to_owned()
            } else {
                hex::encode(signed.signature)
            };
            (
                "issue_certificate",
                format!(
                    "Register certificate {} ({}) for {} to {}.",
                    c.id,
                    kind_name(c.kind).replace('_', " "),
                    c.exporter.name,
                    c.importer.name
                ),
                vec![
                    field("cert", "Certificate", c.id.to_string()),
                    field("kind", "Kind", kind_name(c.kind).replace('_', " ")),
                    field("exporter", "Exporter", party(&c.exporter)),
                    field("importer", "Importer", party(&c.importer)),
                    field(
                        "goods",
                        "Goods",
                        format!(
                            "{} (HS {}), {} {}",
                            c.goods.description, c.goods.hs_code, c.goods.quantity, c.goods.unit
                        ),
                    ),
                    field("origin", "Origin", c.origin.to_string()),
                    field("destination", "Destination", c.destination.to_string()),
                    field("issued_at", "Issued at", utc(c.issued_at)),
                    field("expires_at", "Expires at", utc(c.expires_at)),
                    field("transport", "Transport", opt(&c.transport)),
                    field("invoice", "Invoice", opt(&c.invoice)),
                    field("remarks", "Remarks", opt(&c.remarks)),
                    field(
                        "document_hash",
                        "Document (SHA-256)",
                        c.document_hash
                            .map_or_else(|| "(none)".to_owned(), hex::encode),
                    ),
                    field(
                        "content_hash",
                        "Content hash",
                        hex::encode(c.content_hash()),
                    ),
                    field("signature", "Issuer's signature", signature),
                ],
            )
        }
    }
}

fn describe_action(action: &GovAction) -> (String, Vec<ReviewField>) {
    match action {
        GovAction::RegisterIssuer(spec) => {
            let kinds: Vec<String> = spec.kinds.kinds().into_iter().map(kind_name).collect();
            let keys: Vec<String> = spec.keys.iter().map(|k| k.to_hex()).collect();
            (
                format!(
                    "register issuer {} ({}, {}).",
                    spec.id, spec.legal_name, spec.country
                ),
                vec![
                    field("action", "Action", "register issuer"),
                    field("action.id", "Issuer id", spec.id.to_string()),
                    field("action.legal_name", "Legal name", spec.legal_name.clone()),
                    field("action.country", "Country", spec.country.to_string()),
                    field("action.keys", "Signing keys", keys.join(", ")),
                    field(
                        "action.kinds",
                        "May issue",
                        if kinds.is_empty() {
                            "nothing (inspects only)".to_owned()
                        } else {
                            kinds.join(", ").replace('_', " ")
                        },
                    ),
                    field("action.valid_from", "Valid from", utc(spec.valid_from)),
                    field("action.valid_until", "Valid until", utc(spec.valid_until)),
                ],
            )
        }
        GovAction::SuspendIssuer { id, reason } => status_change("suspend", id, reason),
        GovAction::ReinstateIssuer { id, reason } => status_change("reinstate", id, reason),
        GovAction::RemoveIssuer { id, reason } => status_change("remove", id, reason),
        GovAction::RevokeCertificate { cert, reason, note } => (
            format!("revoke certificate {cert} ({}).", snake(reason)),
            vec![
                field("action", "Action", "revoke certificate (governance)"),
                field("action.cert", "Certificate", cert.to_string()),
                field("action.reason", "Reason", snake(reason)),
                field("action.note", "Note", or_none(note)),
            ],
        ),
        GovAction::SetValidator { pub_key, power: 0 } => (
            format!("remove validator {}.", pub_key.to_hex()),
            vec![
                field("action", "Action", "remove validator"),
                field(
                    "action.pub_key",
                    "Validator key",
                    validator_key_text(pub_key),
                ),
                field("action.power", "Voting power", "0 (removed from the set)"),
            ],
        ),
        GovAction::SetValidator { pub_key, power } => (
            format!(
                "set validator {} to voting power {power}.",
                pub_key.to_hex()
            ),
            vec![
                field("action", "Action", "set validator power"),
                field(
                    "action.pub_key",
                    "Validator key",
                    validator_key_text(pub_key),
                ),
                field("action.power", "Voting power", power.to_string()),
            ],
        ),
    }
}

/// A validator key in both forms one meets it in: hex (the registry's) and base64
/// (CometBFT's `priv_validator_key.json` and `/validators`).
fn validator_key_text(key: &registry::PublicKey) -> String {
    use base64::Engine as _;
    format!(
        "{} (base64 {})",
        key.to_hex(),
        base64::engine::general_purpose::STANDARD.encode(key.as_bytes())
    )
}

fn status_change(verb: &str, id: &registry::IssuerId, reason: &str) -> (String, Vec<ReviewField>) {
    (
        format!("{verb} issuer {id}."),
        vec![
            field("action", "Action", format!("{verb} issuer")),
            field("action.id", "Issuer id", id.to_string()),
            field("action.reason", "Reason", or_none(reason)),
        ],
    )
}

/// The review of `sign_bytes`, decoded from them: nothing in it comes from the form.
pub fn review(
    sign_bytes: &[u8],
    signer_label: &str,
    checks: Vec<String>,
    proven_height: u64,
) -> Result<Review, ReviewError> {
    let body = decode_sign_bytes(sign_bytes)?;
    let (action, summary, fields) = describe(&body.message);
    Ok(Review {
        action: action.to_owned(),
        summary,
        chain_id: body.chain_id,
        signer: body.signer.to_hex(),
        signer_label: signer_label.to_owned(),
        sequence: body.sequence,
        fields,
        sign_bytes_sha256: hex::encode(Sha256::digest(sign_bytes)),
        sign_bytes_hex: hex::encode(sign_bytes),
        checks,
        proven_height,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use registry::state::InspectionOutcome;
    use registry::{CertId, IssuerId, PublicKey, RecordInspection};

    fn body() -> TxBody {
        TxBody {
            chain_id: "tradeseal-devnet".into(),
            signer: PublicKey([7; 32]),
            sequence: 12,
            message: Message::RecordInspection(RecordInspection {
                cert: CertId::parse("KE-KEPHIS/PH-1").unwrap(),
                agency: IssuerId::new("NL-CUSTOMS").unwrap(),
                location: "Rotterdam".into(),
                outcome: InspectionOutcome::CertificateRejected,
                notes: String::new(),
                inspected_at: 1_767_225_600,
            }),
        }
    }

    #[test]
    fn the_review_comes_from_the_bytes() {
        let bytes = body().sign_bytes().unwrap();
        let r = review(&bytes, "customs", vec![], 5).unwrap();
        assert_eq!(r.action, "record_inspection");
        assert_eq!(r.chain_id, "tradeseal-devnet");
        assert_eq!(r.sequence, 12);
        assert_eq!(r.signer, "07".repeat(32));
        let value = |n: &str| r.fields.iter().find(|f| f.name == n).unwrap().value.clone();
        assert_eq!(value("outcome"), "certificate rejected");
        assert_eq!(value("inspected_at"), "2026-01-01 00:00:00 UTC");
        assert_eq!(value("notes"), "(none)");
        assert_eq!(r.sign_bytes_sha256, hex::encode(Sha256::digest(&bytes)));
    }

    #[test]
    fn bytes_that_are_not_a_canonical_transaction_are_refused() {
        let bytes = body().sign_bytes().unwrap();
        assert_eq!(
            decode_sign_bytes(&bytes[1..]),
            Err(ReviewError::NotSignBytes)
        );
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert!(decode_sign_bytes(&trailing).is_err());
        let mut bad_tag = bytes;
        let at = TX_SIGN_DOMAIN.len() + 1 + 1 + "tradeseal-devnet".len() + 32 + 8;
        bad_tag[at] = 9;
        assert!(matches!(
            decode_sign_bytes(&bad_tag),
            Err(ReviewError::Decode(_))
        ));
    }

    #[test]
    fn dates_are_utc() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_709_210_096), "2024-02-29 12:34:56 UTC");
    }

    #[test]
    fn a_validator_change_reads_in_words() {
        let key = registry::devkit::dev_public_key("validator-0");
        let propose = |power| TxBody {
            message: Message::Propose {
                action: GovAction::SetValidator {
                    pub_key: key,
                    power,
                },
                expires_at: 1_767_225_600,
            },
            ..body()
        };
        let r = review(&propose(25).sign_bytes().unwrap(), "gov", vec![], 3).unwrap();
        assert_eq!(r.action, "propose");
        assert_eq!(
            r.summary,
            format!(
                "Propose: set validator {} to voting power 25.",
                key.to_hex()
            )
        );
        let value =
            |r: &Review, n: &str| r.fields.iter().find(|f| f.name == n).unwrap().value.clone();
        assert_eq!(value(&r, "action"), "set validator power");
        assert_eq!(value(&r, "action.power"), "25");
        assert!(value(&r, "action.pub_key").starts_with(&key.to_hex()));
        let r = review(&propose(0).sign_bytes().unwrap(), "gov", vec![], 3).unwrap();
        assert_eq!(
            r.summary,
            format!("Propose: remove validator {}.", key.to_hex())
        );
        assert_eq!(value(&r, "action"), "remove validator");
        assert_eq!(value(&r, "expires_at"), "2026-01-01 00:00:00 UTC");
    }
}

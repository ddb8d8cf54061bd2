//! The signing forms: one per transaction the registry accepts, as the Sign page and the
//! CLI's `--tx FILE.json` give them (plain strings and numbers, `"type"` naming the form),
//! checked field by field and turned into a registry [`Message`].
//!
//! A form says nothing of the signer, the chain or the sequence: the signing service adds
//! them from the chosen key and the proven chain state.

use registry::state::{
    GovAction, InspectionOutcome, IssuerSpec, RevocationReason, MAX_LEGAL_NAME_LEN,
    MAX_LOCATION_LEN, MAX_NOTE_LEN, MAX_VALIDATOR_POWER,
};
use registry::{
    CertId, Certificate, CertificateKind, Country, IssuerId, KindSet, Message, PublicKey,
    RecordInspection, SignedCertificate,
};
use serde::{Deserialize, Serialize};

/// The signature slot of a certificate the signing key signs when the user confirms.
pub const UNSIGNED: [u8; 64] = [0; 64];

/// How long a proposal stays open when the form does not say: seven days.
pub const DEFAULT_PROPOSAL_SECS: u64 = 7 * 24 * 3600;

/// A transaction to sign, as the user filled it in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Form {
    /// Revoke one of the signer's issuer's certificates.
    Revoke {
        /// `ISSUER/SERIAL`.
        cert: String,
        /// `issued_in_error`, `superseded`, `cancelled`, `fraudulent`, `key_compromise` or
        /// `other`.
        reason: String,
        /// Free text, at most 255 bytes.
        #[serde(default)]
        note: String,
    },
    /// Record an inspection of a certificate (by an agency's key).
    Inspect {
        /// `ISSUER/SERIAL` of a certificate registered on the chain (a forged code naming it is
        /// recorded with outcome `certificate_rejected`).
        cert: String,
        /// The inspecting agency (the signer's issuer id).
        agency: String,
        /// Where, 1 to 64 bytes.
        location: String,
        /// `compliant`, `non_compliant`, `held`, `sampled` or `certificate_rejected`.
        outcome: String,
        /// Notes, at most 255 bytes.
        #[serde(default)]
        notes: String,
        /// When, unix seconds (default: now).
        #[serde(default)]
        inspected_at: Option<u64>,
    },
    /// Propose a governance action (a governance key; the proposer's approval included).
    Propose {
        /// What the proposal does.
        action: ProposalForm,
        /// Approvals are accepted until this block time, unix seconds (default: now + 7
        /// days).
        #[serde(default)]
        expires_at: Option<u64>,
    },
    /// Approve an open proposal (a governance key).
    Approve {
        /// The proposal number.
        proposal: u64,
    },
    /// Register a certificate of the signer's issuer. Without `signature` the signing key
    /// also signs the certificate itself (over this chain's certificate sign bytes) when the
    /// user confirms; with it, the certificate was signed beforehand by a key of the issuer.
    Issue {
        /// The certificate, in the registry's JSON shape.
        certificate: Box<Certificate>,
        /// The issuer's signature of it, 128 hex digits, when signed beforehand.
        #[serde(default)]
        signature: Option<String>,
    },
}

/// A governance action, as the form gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ProposalForm {
    /// Register an issuing or inspecting agency.
    RegisterIssuer {
        /// Its id (1-32 of `[A-Za-z0-9._-]`, new).
        id: String,
        /// Legal name, 1 to 128 bytes.
        legal_name: String,
        /// ISO 3166-1 alpha-2 country.
        country: String,
        /// Its signing keys, 64 hex digits each (1-8).
        keys: Vec<String>,
        /// The certificate kinds it may issue (`certificate_of_origin`, `phytosanitary`, ...;
        /// empty for an agency that only inspects).
        #[serde(default)]
        kinds: Vec<String>,
        /// Start of its validity, unix seconds (default: now).
        #[serde(default)]
        valid_from: Option<u64>,
        /// End of its validity, unix seconds (exclusive).
        valid_until: u64,
    },
    /// Suspend an active issuer.
    SuspendIssuer {
        /// The issuer.
        id: String,
        /// Why, at most 255 bytes.
        #[serde(default)]
        reason: String,
    },
    /// Reinstate a suspended issuer.
    ReinstateIssuer {
        /// The issuer.
        id: String,
        /// Why, at most 255 bytes.
        #[serde(default)]
        reason: String,
    },
    /// Remove an issuer for good.
    RemoveIssuer {
        /// The issuer.
        id: String,
        /// Why, at most 255 bytes.
        #[serde(default)]
        reason: String,
    },
    /// Revoke any issuer's certificate.
    RevokeCertificate {
        /// `ISSUER/SERIAL`.
        cert: String,
        /// As in [`Form::Revoke`].
        reason: String,
        /// Free text, at most 255 bytes.
        #[serde(default)]
        note: String,
    },
    /// Set a consensus validator's voting power; 0 removes it from the set.
    SetValidator {
        /// Its ed25519 consensus key: 64 hex digits, or the base64 CometBFT writes
        /// (`pub_key.value` of `priv_validator_key.json`, `pub_key.value` of `/validators`).
        pub_key: String,
        /// The new voting power, 0 to 2^40 (0 removes the validator).
        power: u64,
    },
}

/// A validator's consensus key as given: 64 hex digits or 44 characters of standard base64,
/// either holding the 32 bytes of a valid ed25519 key.
pub fn validator_key(field: &str, s: &str) -> Result<PublicKey, FormError> {
    use base64::Engine as _;
    let s = s.trim();
    let key = if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        PublicKey::from_hex(s).map_err(|_| bad(field, "64 hex digits"))?
    } else {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(s)
            .map_err(|_| bad(field, "64 hex digits or the base64 of 32 bytes"))?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|v: Vec<u8>| {
            bad(
                field,
                format!("an ed25519 key is 32 bytes, this base64 holds {}", v.len()),
            )
        })?;
        PublicKey(bytes)
    };
    if !key.is_valid_ed25519() {
        return Err(bad(field, "not a valid ed25519 public key"));
    }
    Ok(key)
}

/// A field that breaks a rule: which one and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct FormError {
    /// The field's name in the form (`cert`, `action.keys[1]`).
    pub field: String,
    /// What is wrong, in words.
    pub reason: String,
}

fn bad(field: impl Into<String>, reason: impl Into<String>) -> FormError {
    FormError {
        field: field.into(),
        reason: reason.into(),
    }
}

/// The names of the revocation reasons, in code order.
pub const REVOCATION_REASONS: [&str; 6] = [
    "issued_in_error",
    "superseded",
    "cancelled",
    "fraudulent",
    "key_compromise",
    "other",
];

/// The names of the inspection outcomes, in code order.
pub const INSPECTION_OUTCOMES: [&str; 5] = [
    "compliant",
    "non_compliant",
    "held",
    "sampled",
    "certificate_rejected",
];

/// The stable name of a certificate kind (`phytosanitary`).
pub fn kind_name(kind: CertificateKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn cert_id(field: &str, s: &str) -> Result<CertId, FormError> {
    CertId::parse(s.trim())
        .map_err(|e| bad(field, format!("not a certificate id ISSUER/SERIAL ({e})")))
}

fn issuer_id(field: &str, s: &str) -> Result<IssuerId, FormError> {
    IssuerId::new(s.trim()).map_err(|e| bad(field, format!("not an issuer id ({e})")))
}

fn text(field: &str, s: &str, max: usize, required: bool) -> Result<String, FormError> {
    if s.len() > max {
        return Err(bad(field, format!("at most {max} bytes, got {}", s.len())));
    }
    if required && s.trim().is_empty() {
        return Err(bad(field, "must not be empty"));
    }
    if s.chars().any(|c| c.is_control() && c != '\n') {
        return Err(bad(field, "no control characters"));
    }
    Ok(s.to_owned())
}

fn reason_of(field: &str, s: &str) -> Result<RevocationReason, FormError> {
    let code = REVOCATION_REASONS
        .iter()
        .position(|r| *r == s)
        .ok_or_else(|| bad(field, format!("one of {}", REVOCATION_REASONS.join(", "))))?;
    RevocationReason::from_code(code as u8 + 1).map_err(|e| bad(field, e.to_string()))
}

fn outcome_of(field: &str, s: &str) -> Result<InspectionOutcome, FormError> {
    let code = INSPECTION_OUTCOMES
        .iter()
        .position(|r| *r == s)
        .ok_or_else(|| bad(field, format!("one of {}", INSPECTION_OUTCOMES.join(", "))))?;
    InspectionOutcome::from_code(code as u8 + 1).map_err(|e| bad(field, e.to_string()))
}

fn kind_of(field: &str, s: &str) -> Result<CertificateKind, FormError> {
    CertificateKind::ALL
        .into_iter()
        .find(|k| kind_name(*k) == s)
        .ok_or_else(|| {
            let names: Vec<String> = CertificateKind::ALL.into_iter().map(kind_name).collect();
            bad(field, format!("one of {}", names.join(", ")))
        })
}

impl Form {
    /// The form's stable name (`revoke`, `inspect`, `propose`, `approve`, `issue`).
    pub fn name(&self) -> &'static str {
        match self {
            Form::Revoke { .. } => "revoke",
            Form::Inspect { .. } => "inspect",
            Form::Propose { .. } => "propose",
            Form::Approve { .. } => "approve",
            Form::Issue { .. } => "issue",
        }
    }

    /// Parses a form from its JSON text, with the field at fault in the error.
    pub fn from_json(text: &str) -> Result<Form, FormError> {
        serde_json::from_str(text).map_err(|e| {
            let msg = e.to_string();
            bad(
                "form",
                msg.split(" at line")
                    .next()
                    .unwrap_or("bad JSON")
                    .to_owned(),
            )
        })
    }

    /// The registry message, every field checked; `now` (unix seconds) fills the times the
    /// form leaves out.
    pub fn to_message(&self, now: u64) -> Result<Message, FormError> {
        Ok(match self {
            Form::Revoke { cert, reason, note } => Message::RevokeCertificate {
                cert: cert_id("cert", cert)?,
                reason: reason_of("reason", reason)?,
                note: text("note", note, MAX_NOTE_LEN, false)?,
            },
            Form::Inspect {
                cert,
                agency,
                location,
                outcome,
                notes,
                inspected_at,
            } => Message::RecordInspection(RecordInspection {
                cert: cert_id("cert", cert)?,
                agency: issuer_id("agency", agency)?,
                location: text("location", location, MAX_LOCATION_LEN, true)?,
                outcome: outcome_of("outcome", outcome)?,
                notes: text("notes", notes, MAX_NOTE_LEN, false)?,
                inspected_at: inspected_at.unwrap_or(now),
            }),
            Form::Propose { action, expires_at } => {
                let expires_at = expires_at.unwrap_or(now + DEFAULT_PROPOSAL_SECS);
                if expires_at <= now {
                    return Err(bad("expires_at", "must be in the future"));
                }
                Message::Propose {
                    action: action.to_action(now)?,
                    expires_at,
                }
            }
            Form::Approve { proposal } => Message::Approve {
                proposal: *proposal,
            },
            Form::Issue {
                certificate,
                signature,
            } => {
                certificate
                    .validate()
                    .map_err(|e| bad("certificate", e.to_string()))?;
                let signature = match signature {
                    None => UNSIGNED,
                    Some(hex_sig) => {
                        let mut out = [0u8; 64];
                        hex::decode_to_slice(hex_sig.trim(), &mut out)
                            .map_err(|_| bad("signature", "128 hex digits"))?;
                        if out == UNSIGNED {
                            return Err(bad("signature", "not a signature"));
                        }
                        out
                    }
                };
                Message::IssueCertificate(Box::new(SignedCertificate {
                    certificate: (**certificate).clone(),
                    signature,
                }))
            }
        })
    }
}

impl ProposalForm {
    fn to_action(&self, now: u64) -> Result<GovAction, FormError> {
        Ok(match self {
            ProposalForm::RegisterIssuer {
                id,
                legal_name,
                country,
                keys,
                kinds,
                valid_from,
                valid_until,
            } => {
                let keys = keys
                    .iter()
                    .enumerate()
                    .map(|(i, k)| {
                        PublicKey::from_hex(k.trim())
                            .map_err(|_| bad(format!("action.keys[{i}]"), "64 hex digits"))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let kinds = kinds
                    .iter()
                    .enumerate()
                    .map(|(i, k)| kind_of(&format!("action.kinds[{i}]"), k))
                    .collect::<Result<Vec<_>, _>>()?;
                let spec = IssuerSpec {
                    id: issuer_id("action.id", id)?,
                    legal_name: text("action.legal_name", legal_name, MAX_LEGAL_NAME_LEN, true)?,
                    country: Country::new(country.trim())
                        .map_err(|_| bad("action.country", "two capital letters (ISO 3166-1)"))?,
                    keys,
                    kinds: KindSet::of(&kinds),
                    valid_from: valid_from.unwrap_or(now),
                    valid_until: *valid_until,
                };
                spec.validate().map_err(|e| bad("action", e.to_string()))?;
                GovAction::RegisterIssuer(spec)
            }
            ProposalForm::SuspendIssuer { id, reason } => GovAction::SuspendIssuer {
                id: issuer_id("action.id", id)?,
                reason: text("action.reason", reason, MAX_NOTE_LEN, false)?,
            },
            ProposalForm::ReinstateIssuer { id, reason } => GovAction::ReinstateIssuer {
                id: issuer_id("action.id", id)?,
                reason: text("action.reason", reason, MAX_NOTE_LEN, false)?,
            },
            ProposalForm::RemoveIssuer { id, reason } => GovAction::RemoveIssuer {
                id: issuer_id("action.id", id)?,
                reason: text("action.reason", reason, MAX_NOTE_LEN, false)?,
            },
            ProposalForm::RevokeCertificate { cert, reason, note } => {
                GovAction::RevokeCertificate {
                    cert: cert_id("action.cert", cert)?,
                    reason: reason_of("action.reason", reason)?,
                    note: text("action.note", note, MAX_NOTE_LEN, false)?,
                }
            }
            ProposalForm::SetValidator { pub_key, power } => {
                if *power > MAX_VALIDATOR_POWER {
                    return Err(bad(
                        "action.power",
                        format!("at most {MAX_VALIDATOR_POWER} (2^40)"),
                    ));
                }
                GovAction::SetValidator {
                    pub_key: validator_key("action.pub_key", pub_key)?,
                    power: *power,
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_parse_and_check_their_fields() {
        let f = Form::from_json(
            r#"{"type":"inspect","cert":"KE-KEPHIS/PH-1","agency":"NL-CUSTOMS",
                "location":"Rotterdam","outcome":"held","notes":"sampled roses"}"#,
        )
        .unwrap();
        let Message::RecordInspection(m) = f.to_message(1000).unwrap() else {
            panic!("not an inspection")
        };
        assert_eq!(m.inspected_at, 1000);
        assert_eq!(m.outcome, InspectionOutcome::Held);

        let revoke = Form::Revoke {
            cert: "KE-KEPHIS/PH-1".into(),
            reason: "lost".into(),
            note: String::new(),
        };
        assert_eq!(revoke.to_message(1).unwrap_err().field, "reason");
        let empty_location = Form::Inspect {
            cert: "KE-KEPHIS/PH-1".into(),
            agency: "NL-CUSTOMS".into(),
            location: " ".into(),
            outcome: "compliant".into(),
            notes: String::new(),
            inspected_at: None,
        };
        assert_eq!(empty_location.to_message(1).unwrap_err().field, "location");
        assert_eq!(
            Form::from_json(r#"{"type":"approve","proposal":1,"extra":2}"#)
                .unwrap_err()
                .field,
            "form"
        );
        let propose = Form::from_json(
            r#"{"type":"propose","action":{"type":"register_issuer","id":"TZ-TPHPA",
                "legal_name":"Tanzania Plant Health","country":"TZ","keys":["zz"],
                "valid_until":99999}}"#,
        )
        .unwrap();
        assert_eq!(propose.to_message(1).unwrap_err().field, "action.keys[0]");
    }

    #[test]
    fn names_follow_the_registry_codes() {
        for (i, r) in REVOCATION_REASONS.iter().enumerate() {
            assert_eq!(reason_of("r", r).unwrap() as u8, i as u8 + 1);
            assert_eq!(
                serde_json::to_value(reason_of("r", r).unwrap()).unwrap(),
                *r
            );
        }
        for (i, o) in INSPECTION_OUTCOMES.iter().enumerate() {
            assert_eq!(outcome_of("o", o).unwrap() as u8, i as u8 + 1);
            assert_eq!(
                serde_json::to_value(outcome_of("o", o).unwrap()).unwrap(),
                *o
            );
        }
        assert_eq!(kind_name(CertificateKind::Phytosanitary), "phytosanitary");
    }

    #[test]
    fn a_validator_key_is_hex_or_cometbfts_base64() {
        use base64::Engine as _;
        let key = registry::devkit::dev_public_key("validator-0");
        let b64 = base64::engine::general_purpose::STANDARD.encode(key.as_bytes());
        assert_eq!(b64.len(), 44);
        for given in [key.to_hex(), key.to_hex().to_uppercase(), b64.clone()] {
            let form = Form::from_json(&format!(
                r#"{{"type":"propose","action":{{"type":"set_validator",
                    "pub_key":" {given} ","power":10}}}}"#
            ))
            .unwrap();
            let Message::Propose { action, .. } = form.to_message(1).unwrap() else {
                panic!("not a proposal")
            };
            assert_eq!(
                action,
                GovAction::SetValidator {
                    pub_key: key,
                    power: 10
                }
            );
        }
        let set = |pub_key: &str, power| Form::Propose {
            action: ProposalForm::SetValidator {
                pub_key: pub_key.into(),
                power,
            },
            expires_at: None,
        };
        // Removal is power 0.
        assert!(set(&b64, 0).to_message(1).is_ok());
        let err = |f: Form| f.to_message(1).unwrap_err();
        assert_eq!(
            err(set(&b64, MAX_VALIDATOR_POWER + 1)).field,
            "action.power"
        );
        assert_eq!(err(set("zz", 1)).field, "action.pub_key");
        // 33 bytes (a secp256k1 key's length) is not an ed25519 key.
        let e = err(set(
            &base64::engine::general_purpose::STANDARD.encode([2u8; 33]),
            1,
        ));
        assert!(e.reason.contains("33"), "{e}");
        // 32 bytes that are no curve point.
        assert_eq!(err(set(&"00".repeat(32), 1)).field, "action.pub_key");
        assert_eq!(
            Form::from_json(
                r#"{"type":"propose","action":{"type":"set_validator","pub_key":"x"}}"#
            )
            .unwrap_err()
            .field,
            "form"
        );
    }
}

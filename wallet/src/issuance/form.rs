//! The certificate form an issuer's clerk fills in, in user terms (kind names, country codes
//! in any case, dates as `YYYY-MM-DD`, an attachment instead of a hash), checked field by field
//! into a registry [`Certificate`]. Every field at fault is reported at once, by the name the
//! form gives it (`exporter.name`, `goods.hs_code`, `expires_at`), and a certificate too large
//! for its QR code is refused before anything is signed.

use registry::qr::{QrError, MAX_QR_PAYLOAD_BYTES};
use registry::{
    CertId, Certificate, CertificateKind, Country, DecodeError, Goods, IssuerId, Party, Serial,
    SignedCertificate,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::signing::forms::kind_name;
use crate::signing::FormError;

// The registry's text limits in bytes (docs/protocol.md §8), for the form's own messages;
// the registry's check ([`Certificate::validate`]) runs after them and has the last word.
const MAX_PARTY_NAME_LEN: usize = 96;
const MAX_PARTY_ID_LEN: usize = 32;
const MAX_GOODS_LEN: usize = 200;
const MAX_QUANTITY_LEN: usize = 16;
const MAX_REF_LEN: usize = 64;
const MAX_REMARKS_LEN: usize = 200;

/// Largest attachment (the certificate's document), in bytes: what the verifier accepts as a
/// document to check ([`tradeseal_scan::MAX_FILE_BYTES`]).
pub const MAX_ATTACHMENT_BYTES: usize = tradeseal_scan::MAX_FILE_BYTES;

/// How far in the future the issue time may be: the registry refuses more than 5 minutes
/// after its block time.
const FUTURE_SKEW_SECS: u64 = 300;

/// A party as the form gives it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PartyForm {
    /// Name, 1 to 96 bytes.
    pub name: String,
    /// ISO 3166-1 alpha-2 country (`KE`, `nl`).
    pub country: String,
    /// TIN, EORI or another business identifier, if any (empty: none).
    pub identifier: String,
}

/// The goods as the form gives them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GoodsForm {
    /// Description, 1 to 200 bytes.
    pub description: String,
    /// Harmonized System code, 6 to 10 digits (dots and spaces are dropped: `0603.11`).
    pub hs_code: String,
    /// Quantity: a decimal number (`9600`, `12.5`).
    pub quantity: String,
    /// UN/ECE Rec. 20 unit code (`KGM`, `NAR`), any case.
    pub unit: String,
}

/// A time as the form gives it: unix seconds, `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM[:SS]Z`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TimeInput {
    /// Unix seconds.
    Unix(u64),
    /// A UTC date or date and time.
    Text(String),
}

/// A certificate as the issuer's clerk fills it in. Every text is taken as typed (no
/// trimming inside); empty optional texts mean "none".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IssueForm {
    /// `certificate_of_origin`, `phytosanitary`, `veterinary`, `import_licence`,
    /// `export_licence`, `permit`, `conformity`, `fumigation` or `aeo_authorisation` (any case,
    /// spaces for underscores).
    pub kind: String,
    /// The issuing agency's id (`KE-KEPHIS`): the signing key must be one of its keys.
    pub issuer: String,
    /// The certificate's serial, unique for the issuer (1-48 of `[A-Za-z0-9._-]`).
    pub serial: String,
    /// Exporter / consignor.
    pub exporter: PartyForm,
    /// Importer / consignee.
    pub importer: PartyForm,
    /// The goods.
    pub goods: GoodsForm,
    /// Country of origin of the goods.
    pub origin: String,
    /// Country of destination.
    pub destination: String,
    /// Issue time (default: now). A date alone is 00:00 UTC that day.
    pub issued_at: Option<TimeInput>,
    /// End of validity, exclusive. A date alone means valid through that day (UTC): the
    /// certificate expires at 00:00 UTC the next day. Give this or `valid_days`.
    pub expires_at: Option<TimeInput>,
    /// Valid for this many days from the issue time (instead of `expires_at`).
    pub valid_days: Option<u32>,
    /// Means of transport and its reference (vessel and voyage, flight, truck plate).
    pub transport: String,
    /// Commercial invoice number.
    pub invoice: String,
    /// Remarks: additional declarations, treatment.
    pub remarks: String,
    /// SHA-256 of the certificate's document, 64 hex digits, when the document itself is not
    /// attached (an attachment's hash must equal it when both are given).
    pub document_sha256: String,
}

/// Every field of a form that breaks a rule, in form order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
pub struct FormErrors(pub Vec<FormError>);

fn bad(field: impl Into<String>, reason: impl Into<String>) -> FormError {
    FormError {
        field: field.into(),
        reason: reason.into(),
    }
}

/// The registry's complaint about a field, as a form error on that field.
pub(crate) fn decode_error(e: &DecodeError) -> FormError {
    match e {
        DecodeError::TooLong { field, len, max } => {
            bad(*field, format!("at most {max} bytes, got {len}"))
        }
        DecodeError::InvalidField { field, reason } => bad(*field, *reason),
        other => bad("certificate", other.to_string()),
    }
}

/// The kind named in the form.
pub fn parse_kind(s: &str) -> Result<CertificateKind, FormError> {
    let wanted = s.trim().to_ascii_lowercase().replace([' ', '-'], "_");
    CertificateKind::ALL
        .into_iter()
        .find(|k| kind_name(*k) == wanted)
        .ok_or_else(|| {
            let names: Vec<String> = CertificateKind::ALL.into_iter().map(kind_name).collect();
            if wanted.is_empty() {
                bad("kind", format!("required: one of {}", names.join(", ")))
            } else {
                bad("kind", format!("one of {}", names.join(", ")))
            }
        })
}

fn country(field: &str, s: &str) -> Result<Country, FormError> {
    let up = s.trim().to_ascii_uppercase();
    if up.is_empty() {
        return Err(bad(
            field,
            "required: a two-letter country code (ISO 3166-1)",
        ));
    }
    Country::new(&up).map_err(|_| bad(field, "a two-letter country code (ISO 3166-1), e.g. KE"))
}

/// A text field: required or not, within `max` bytes, no control characters. Empty
/// optional texts are `None`.
fn text(field: &str, s: &str, max: usize, required: bool) -> Result<Option<String>, FormError> {
    if s.trim().is_empty() {
        return if required {
            Err(bad(field, "required"))
        } else {
            Ok(None)
        };
    }
    if s.len() > max {
        return Err(bad(
            field,
            format!(
                "at most {max} bytes, got {} (shorten it, or put it in the attached document)",
                s.len()
            ),
        ));
    }
    if s.chars().any(char::is_control) {
        return Err(bad(field, "no line breaks or control characters"));
    }
    Ok(Some(s.to_owned()))
}

/// Days since 1970-01-01 of a civil date (H. Hinnant's algorithm), if it exists.
fn days_from_civil(y: i64, m: u32, d: u32) -> Option<i64> {
    let dim = [
        31,
        28 + u32::from(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)),
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&m) || d == 0 || d > dim[m as usize - 1] {
        return None;
    }
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// A parsed time: unix seconds, and whether it was a date alone.
fn parse_time(field: &str, t: &TimeInput) -> Result<(u64, bool), FormError> {
    let text = match t {
        TimeInput::Unix(s) => return Ok((*s, false)),
        TimeInput::Text(s) => s.trim(),
    };
    let err = || {
        bad(
            field,
            "a date YYYY-MM-DD, a UTC time YYYY-MM-DDTHH:MM:SSZ, or unix seconds",
        )
    };
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse().map(|s| (s, false)).map_err(|_| err());
    }
    let (date, time) = match text.split_once(['T', ' ']) {
        Some((d, t)) => (d, Some(t)),
        None => (text, None),
    };
    let num = |s: &str, len: usize| -> Option<u32> {
        (s.len() == len && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let mut parts = date.split('-');
    let (Some(y), Some(m), Some(d), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(err());
    };
    let (y, m, d) = (
        num(y, 4).ok_or_else(err)?,
        num(m, 2).ok_or_else(err)?,
        num(d, 2).ok_or_else(err)?,
    );
    let days = days_from_civil(i64::from(y), m, d).ok_or_else(|| bad(field, "no such date"))?;
    if days < 0 {
        return Err(bad(field, "before 1970"));
    }
    let mut secs = days as u64 * 86_400;
    let Some(time) = time else {
        return Ok((secs, true));
    };
    let time = time
        .strip_suffix('Z')
        .ok_or_else(|| bad(field, "a time must be UTC, ending in Z"))?;
    let hms: Vec<&str> = time.split(':').collect();
    let (h, mi, s) = match hms.as_slice() {
        [h, mi] => (num(h, 2), num(mi, 2), Some(0)),
        [h, mi, s] => (num(h, 2), num(mi, 2), num(s, 2)),
        _ => (None, None, None),
    };
    match (h, mi, s) {
        (Some(h), Some(mi), Some(s)) if h < 24 && mi < 60 && s < 60 => {
            secs += u64::from(h * 3600 + mi * 60 + s);
            Ok((secs, false))
        }
        _ => Err(err()),
    }
}

fn party(prefix: &str, p: &PartyForm, errors: &mut Vec<FormError>) -> Option<Party> {
    let name = text(&format!("{prefix}.name"), &p.name, MAX_PARTY_NAME_LEN, true);
    let c = country(&format!("{prefix}.country"), &p.country);
    let id = text(
        &format!("{prefix}.identifier"),
        &p.identifier,
        MAX_PARTY_ID_LEN,
        false,
    );
    match (name, c, id) {
        (Ok(Some(name)), Ok(country), Ok(identifier)) => Some(Party {
            name,
            country,
            identifier,
        }),
        (name, c, id) => {
            errors.extend(name.err());
            errors.extend(c.err());
            errors.extend(id.err());
            None
        }
    }
}

fn goods(g: &GoodsForm, errors: &mut Vec<FormError>) -> Option<Goods> {
    let description = text("goods.description", &g.description, MAX_GOODS_LEN, true);
    let hs: String = g
        .hs_code
        .chars()
        .filter(|c| !matches!(c, '.' | ' '))
        .collect();
    let hs_code = if hs.is_empty() {
        Err(bad(
            "goods.hs_code",
            "required: the Harmonized System code, 6 to 10 digits",
        ))
    } else if (6..=10).contains(&hs.len()) && hs.bytes().all(|b| b.is_ascii_digit()) {
        Ok(hs)
    } else {
        Err(bad("goods.hs_code", "6 to 10 digits, e.g. 060311"))
    };
    let q = g.quantity.trim();
    let quantity = if q.is_empty() {
        Err(bad("goods.quantity", "required"))
    } else if q.len() > MAX_QUANTITY_LEN {
        Err(bad(
            "goods.quantity",
            format!("at most {MAX_QUANTITY_LEN} characters"),
        ))
    } else if q.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && q.bytes().filter(|&b| b == b'.').count() <= 1
        && !q.starts_with('.')
        && !q.ends_with('.')
    {
        Ok(q.to_owned())
    } else {
        Err(bad(
            "goods.quantity",
            "a decimal number such as 1250 or 12.5 (no unit, no thousands separator)",
        ))
    };
    let u = g.unit.trim().to_ascii_uppercase();
    let unit = if u.is_empty() {
        Err(bad(
            "goods.unit",
            "required: a UN/ECE Rec. 20 unit code such as KGM",
        ))
    } else if u.len() <= 3
        && u.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    {
        Ok(u)
    } else {
        Err(bad(
            "goods.unit",
            "a UN/ECE Rec. 20 code of 1 to 3 letters or digits, e.g. KGM",
        ))
    };
    match (description, hs_code, quantity, unit) {
        (Ok(Some(description)), Ok(hs_code), Ok(quantity), Ok(unit)) => Some(Goods {
            description,
            hs_code,
            quantity,
            unit,
        }),
        (d, h, q, u) => {
            errors.extend(d.err());
            errors.extend(h.err());
            errors.extend(q.err());
            errors.extend(u.err());
            None
        }
    }
}

/// Checks an attachment: a PDF within [`MAX_ATTACHMENT_BYTES`]. Its SHA-256 is the document
/// hash.
pub fn check_attachment(bytes: &[u8]) -> Result<[u8; 32], FormError> {
    if bytes.len() > MAX_ATTACHMENT_BYTES {
        return Err(bad(
            "attachment",
            format!(
                "the document is {} bytes, the limit is {MAX_ATTACHMENT_BYTES} ({} MiB): a verifier could not check it",
                bytes.len(),
                MAX_ATTACHMENT_BYTES >> 20
            ),
        ));
    }
    if bytes.is_empty() {
        return Err(bad("attachment", "the document is empty"));
    }
    if !tradeseal_scan::is_pdf(bytes) {
        return Err(bad("attachment", "the document must be a PDF file"));
    }
    Ok(Sha256::digest(bytes).into())
}

/// Reads an attachment file, refusing one over [`MAX_ATTACHMENT_BYTES`] before reading it
/// whole.
pub fn read_attachment(path: &std::path::Path) -> Result<Vec<u8>, FormError> {
    use std::io::Read as _;
    let cannot =
        |e: std::io::Error| bad("attachment", format!("cannot read {}: {e}", path.display()));
    let file = std::fs::File::open(path).map_err(cannot)?;
    let mut bytes = Vec::new();
    file.take(MAX_ATTACHMENT_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    Ok(bytes)
}

impl IssueForm {
    /// Parses a form from JSON, naming what is wrong (an unknown field, a wrong type).
    pub fn from_json(text: &str) -> Result<IssueForm, FormErrors> {
        serde_json::from_str(text).map_err(|e| {
            let msg = e.to_string();
            let msg = msg
                .split(" at line")
                .next()
                .unwrap_or("bad JSON")
                .to_owned();
            FormErrors(vec![bad("form", msg)])
        })
    }

    /// The registry certificate, every field checked; `now` (unix seconds) is the default
    /// issue time and the bound on how far ahead it may be; `attachment` is the document's
    /// bytes, whose SHA-256 becomes the document hash. Fails with every field at fault, or
    /// when the signed certificate would not fit its QR code.
    pub fn to_certificate(
        &self,
        now: u64,
        attachment: Option<&[u8]>,
    ) -> Result<Certificate, FormErrors> {
        let mut errors = Vec::new();
        let kind = parse_kind(&self.kind).map_err(|e| errors.push(e)).ok();
        let issuer = if self.issuer.trim().is_empty() {
            errors.push(bad(
                "issuer",
                "required: the issuing agency's id, e.g. KE-KEPHIS",
            ));
            None
        } else {
            IssuerId::new(self.issuer.trim())
                .map_err(|e| errors.push(bad("issuer", format!("not an issuer id: {e}"))))
                .ok()
        };
        let serial = if self.serial.trim().is_empty() {
            errors.push(bad("serial", "required"));
            None
        } else {
            Serial::new(self.serial.trim())
                .map_err(|e| {
                    errors.push(bad(
                        "serial",
                        format!("1 to 48 letters, digits, '-', '.' or '_' ({e})"),
                    ))
                })
                .ok()
        };
        let exporter = party("exporter", &self.exporter, &mut errors);
        let importer = party("importer", &self.importer, &mut errors);
        let goods = goods(&self.goods, &mut errors);
        let origin = country("origin", &self.origin)
            .map_err(|e| errors.push(e))
            .ok();
        let destination = country("destination", &self.destination)
            .map_err(|e| errors.push(e))
            .ok();
        let issued_at = match &self.issued_at {
            None => Some(now),
            Some(t) => match parse_time("issued_at", t) {
                Ok((t, _)) if t > now + FUTURE_SKEW_SECS => {
                    errors.push(bad(
                        "issued_at",
                        "in the future: a certificate is issued now or earlier",
                    ));
                    None
                }
                Ok((t, _)) => Some(t),
                Err(e) => {
                    errors.push(e);
                    None
                }
            },
        };
        let expires_at = match (&self.expires_at, self.valid_days) {
            (Some(_), Some(_)) => {
                errors.push(bad("expires_at", "give expires_at or valid_days, not both"));
                None
            }
            (None, None) => {
                errors.push(bad(
                    "expires_at",
                    "required: the last day of validity (or valid_days)",
                ));
                None
            }
            (None, Some(0)) => {
                errors.push(bad("valid_days", "at least 1"));
                None
            }
            (None, Some(days)) => issued_at.map(|t| t + u64::from(days) * 86_400),
            (Some(t), None) => match parse_time("expires_at", t) {
                // A date alone: valid through that day.
                Ok((t, true)) => Some(t + 86_400),
                Ok((t, false)) => Some(t),
                Err(e) => {
                    errors.push(e);
                    None
                }
            },
        };
        if let (Some(i), Some(e)) = (issued_at, expires_at) {
            if e <= i {
                errors.push(bad("expires_at", "must be after the issue time"));
            } else if e <= now {
                errors.push(bad(
                    "expires_at",
                    "already past: the certificate would be expired",
                ));
            }
        }
        let transport = text("transport", &self.transport, MAX_REF_LEN, false)
            .map_err(|e| errors.push(e))
            .ok()
            .flatten();
        let invoice = text("invoice", &self.invoice, MAX_REF_LEN, false)
            .map_err(|e| errors.push(e))
            .ok()
            .flatten();
        let remarks = text("remarks", &self.remarks, MAX_REMARKS_LEN, false)
            .map_err(|e| errors.push(e))
            .ok()
            .flatten();
        let given = self.document_sha256.trim();
        let given = if given.is_empty() {
            None
        } else {
            let mut h = [0u8; 32];
            match hex::decode_to_slice(given, &mut h) {
                Ok(()) => Some(h),
                Err(_) => {
                    errors.push(bad("document_sha256", "64 hex digits"));
                    None
                }
            }
        };
        let attached = attachment
            .map(check_attachment)
            .transpose()
            .map_err(|e| errors.push(e))
            .ok()
            .flatten();
        let document_hash = match (given, attached) {
            (Some(g), Some(a)) if g != a => {
                errors.push(bad(
                    "document_sha256",
                    "differs from the attached document's SHA-256: attach the right document or leave this empty",
                ));
                None
            }
            (g, a) => a.or(g),
        };
        if !errors.is_empty() {
            return Err(FormErrors(errors));
        }
        let (
            Some(kind),
            Some(issuer),
            Some(serial),
            Some(exporter),
            Some(importer),
            Some(goods),
            Some(origin),
            Some(destination),
            Some(issued_at),
            Some(expires_at),
        ) = (
            kind,
            issuer,
            serial,
            exporter,
            importer,
            goods,
            origin,
            destination,
            issued_at,
            expires_at,
        )
        else {
            return Err(FormErrors(vec![bad("form", "incomplete")]));
        };
        let certificate = Certificate {
            kind,
            id: CertId::new(issuer, serial),
            exporter,
            importer,
            goods,
            origin,
            destination,
            issued_at,
            expires_at,
            transport,
            invoice,
            remarks,
            document_hash,
        };
        check_fits(&certificate)?;
        Ok(certificate)
    }
}

/// The registry's own rules, and the size of the signed certificate against what a QR code
/// of version 15 at level M holds.
pub fn check_fits(certificate: &Certificate) -> Result<(), FormErrors> {
    let placeholder = SignedCertificate {
        certificate: certificate.clone(),
        signature: [0; 64],
    };
    match registry::qr::encode(&placeholder) {
        Ok(_) => Ok(()),
        Err(QrError::PayloadTooLarge { len, max }) => Err(FormErrors(vec![bad(
            "form",
            format!(
                "the signed certificate is {len} bytes, its QR code holds at most {max}: shorten \
                 the goods description, the remarks or the names by {} bytes, or put long text in \
                 the attached document",
                len - max
            ),
        )])),
        Err(QrError::Certificate(e)) => Err(FormErrors(vec![decode_error(&e)])),
        Err(e) => Err(FormErrors(vec![bad("form", e.to_string())])),
    }
}

/// The largest signed certificate a QR code holds, in bytes (for the form's size meter).
pub const MAX_SIGNED_BYTES: usize = MAX_QR_PAYLOAD_BYTES;

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_796_212_800; // 2026-12-02 12:00:00 UTC

    fn form() -> IssueForm {
        IssueForm::from_json(
            r#"{"kind":"Phytosanitary","issuer":"KE-KEPHIS","serial":"PH-2026-0100",
              "exporter":{"name":"Rift Valley Roses Ltd","country":"ke","identifier":"P051234567X"},
              "importer":{"name":"Aalsmeer Flower Imports B.V.","country":"NL"},
              "goods":{"description":"Fresh cut roses","hs_code":"0603.11","quantity":"9600","unit":"kgm"},
              "origin":"KE","destination":"NL","issued_at":"2026-12-02","expires_at":"2026-12-16",
              "transport":"Air KQ0112 NBO-AMS","remarks":""}"#,
        )
        .unwrap()
    }

    #[test]
    fn a_form_in_user_terms_becomes_the_registry_certificate() {
        let c = form().to_certificate(NOW, None).unwrap();
        assert_eq!(c.kind, CertificateKind::Phytosanitary);
        assert_eq!(c.id.to_string(), "KE-KEPHIS/PH-2026-0100");
        assert_eq!(c.exporter.country.as_str(), "KE");
        assert_eq!(c.importer.identifier, None);
        assert_eq!(c.goods.hs_code, "060311");
        assert_eq!(c.goods.unit, "KGM");
        assert_eq!(c.issued_at, 1_796_169_600); // 2026-12-02 00:00 UTC
        assert_eq!(c.expires_at, 1_797_465_600); // 2026-12-17 00:00 UTC: through the 16th
        assert_eq!(c.remarks, None);
        assert_eq!(c.document_hash, None);
        c.validate().unwrap();
    }

    #[test]
    fn times_dates_and_defaults() {
        let mut f = form();
        f.issued_at = None;
        f.expires_at = None;
        f.valid_days = Some(14);
        let c = f.to_certificate(NOW, None).unwrap();
        assert_eq!((c.issued_at, c.expires_at), (NOW, NOW + 14 * 86_400));
        f.valid_days = None;
        f.expires_at = Some(TimeInput::Text("2026-12-20T08:30:00Z".into()));
        assert_eq!(
            f.to_certificate(NOW, None).unwrap().expires_at,
            1_797_755_400
        );
        assert_eq!(
            parse_time("t", &TimeInput::Text("2024-02-29".into())).unwrap(),
            (1_709_164_800, true)
        );
        assert!(parse_time("t", &TimeInput::Text("2025-02-29".into())).is_err());
        assert!(parse_time("t", &TimeInput::Text("2025-01-01T10:00:00+02:00".into())).is_err());
        assert_eq!(parse_time("t", &TimeInput::Unix(5)).unwrap(), (5, false));
        assert_eq!(
            parse_time("t", &TimeInput::Text("1700000000".into())).unwrap(),
            (1_700_000_000, false)
        );
    }

    #[test]
    fn every_field_at_fault_is_named_at_once() {
        let f = IssueForm::from_json(
            r#"{"kind":"licence","serial":"a b","exporter":{"name":"","country":"Kenya"},
              "importer":{"name":"X","country":"NL","identifier":"ok"},
              "goods":{"description":"roses","hs_code":"06","quantity":"1,000","unit":"KILO"},
              "origin":"KE","destination":"","issued_at":"2030-01-01","expires_at":"01/02/2027",
              "document_sha256":"zz"}"#,
        )
        .unwrap();
        let errs = f.to_certificate(NOW, Some(b"not a pdf")).unwrap_err().0;
        let fields: Vec<&str> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "kind",
                "issuer",
                "serial",
                "exporter.name",
                "exporter.country",
                "goods.hs_code",
                "goods.quantity",
                "goods.unit",
                "destination",
                "issued_at",
                "expires_at",
                "document_sha256",
                "attachment"
            ],
            "{errs:?}"
        );
        assert!(IssueForm::from_json(r#"{"kind":"permit","colour":"red"}"#)
            .unwrap_err()
            .0[0]
            .reason
            .contains("unknown field"));
    }

    #[test]
    fn the_attachment_becomes_the_document_hash() {
        let pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF";
        let c = form().to_certificate(NOW, Some(pdf)).unwrap();
        assert_eq!(c.document_hash, Some(Sha256::digest(pdf).into()));
        assert!(c.document_matches(pdf));
        let mut f = form();
        f.document_sha256 = "00".repeat(32);
        let e = f.to_certificate(NOW, Some(pdf)).unwrap_err().0;
        assert_eq!(e[0].field, "document_sha256");
        f.document_sha256 = hex::encode(Sha256::digest(pdf));
        assert!(f.to_certificate(NOW, Some(pdf)).is_ok());
        let big = vec![b'%'; MAX_ATTACHMENT_BYTES + 1];
        let e = check_attachment(&big).unwrap_err();
        assert!(e.reason.contains("limit"), "{e}");
    }

    #[test]
    fn the_limits_are_the_registrys() {
        for (max, set) in [
            (
                MAX_PARTY_NAME_LEN,
                (|c: &mut Certificate, s: String| c.exporter.name = s)
                    as fn(&mut Certificate, String),
            ),
            (MAX_PARTY_ID_LEN, |c, s| c.importer.identifier = Some(s)),
            (MAX_GOODS_LEN, |c, s| c.goods.description = s),
            (MAX_REF_LEN, |c, s| c.transport = Some(s)),
            (MAX_REMARKS_LEN, |c, s| c.remarks = Some(s)),
        ] {
            let mut c = form().to_certificate(NOW, None).unwrap();
            set(&mut c, "x".repeat(max));
            assert!(c.validate().is_ok(), "{max}");
            set(&mut c, "x".repeat(max + 1));
            assert!(c.validate().is_err(), "{max} + 1");
        }
        let mut c = form().to_certificate(NOW, None).unwrap();
        c.goods.quantity = "1".repeat(MAX_QUANTITY_LEN);
        assert!(c.validate().is_ok());
        c.goods.quantity = "1".repeat(MAX_QUANTITY_LEN + 1);
        assert!(c.validate().is_err());
    }

    #[test]
    fn too_large_for_the_qr_code_is_refused_with_the_overflow() {
        let mut f = form();
        f.goods.description = "d".repeat(200);
        f.remarks = "r".repeat(200);
        let e = f.to_certificate(NOW, None).unwrap_err().0;
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].field, "form");
        assert!(e[0].reason.contains("at most 396"), "{}", e[0].reason);
        f.remarks = "r".repeat(201);
        assert_eq!(
            f.to_certificate(NOW, None).unwrap_err().0[0].field,
            "remarks"
        );
        f.remarks = "two\nlines".into();
        assert_eq!(
            f.to_certificate(NOW, None).unwrap_err().0[0].field,
            "remarks"
        );
    }
}

//! The verdict's one plain sentence in the chosen language, composed from the structured
//! facts of the report (`evidence.facts`, `cannot_verify`, `not_ours`); the wallet's English
//! `reason` is said only for a report kept before those facts existed.

use tradeseal_api::{CannotVerify, Facts, Mismatch, Mode, NotOurs, Verdict, VerifyReport};

use crate::describe::{day, isolate};
use crate::i18n::{fill, Texts};

/// The revocation reasons' stable names, in the order of `Texts::revocation_reasons`.
const REVOCATION_REASONS: [&str; 6] = [
    "issued_in_error",
    "superseded",
    "cancelled",
    "fraudulent",
    "key_compromise",
    "other",
];

/// The sentence a trader reads under the verdict.
pub fn sentence(t: &Texts, report: &VerifyReport) -> String {
    let ev = &report.evidence;
    match report.verdict {
        Verdict::NotOurs => match ev.not_ours {
            Some(NotOurs::NewerVersion) => t.sentence_not_ours_newer.to_owned(),
            Some(NotOurs::Damaged | NotOurs::TooLong) => t.sentence_not_ours_damaged.to_owned(),
            Some(NotOurs::Foreign | NotOurs::Empty) => t.sentence_not_ours_foreign.to_owned(),
            None => report.reason.clone(),
        },
        Verdict::CannotVerify => {
            let id_only = ev
                .facts
                .as_ref()
                .map_or(report.source == tradeseal_api::Source::Serial, |f| {
                    f.id_only
                });
            match ev.cannot_verify {
                Some(kind) => cannot_verify(t, kind, id_only).to_owned(),
                None => report.reason.clone(),
            }
        }
        _ => match &ev.facts {
            Some(facts) => judged(t, report, facts),
            None => report.reason.clone(),
        },
    }
}

/// Why the wallet cannot know, for each kind.
pub fn cannot_verify(t: &Texts, kind: CannotVerify, id_only: bool) -> &'static str {
    match kind {
        CannotVerify::NoNetwork => t.sentence_cannot_no_network,
        CannotVerify::NodeLying => t.sentence_cannot_node_lying,
        CannotVerify::ForkDetected => t.sentence_cannot_fork,
        CannotVerify::TrustExpired => t.sentence_cannot_trust_expired,
        CannotVerify::NotConfigured => t.sentence_cannot_not_configured,
        CannotVerify::OfflineDataMissing if id_only => t.sentence_cannot_offline_missing_id,
        CannotVerify::OfflineDataMissing => t.sentence_cannot_offline_missing,
        CannotVerify::OfflineDataTooOld => t.sentence_cannot_offline_too_old,
    }
}

/// A verdict the wallet reached, from its facts.
fn judged(t: &Texts, report: &VerifyReport, facts: &Facts) -> String {
    let issuer = || {
        isolate(
            facts
                .issuer_name
                .as_deref()
                .or(report.certificate.as_ref().map(|c| c.issuer.as_str()))
                .unwrap_or_default(),
        )
    };
    let date = |secs: Option<u64>| secs.map(|s| isolate(&day(s)));
    let fallback = || report.reason.clone();
    match report.verdict {
        Verdict::Valid if facts.id_only => fill(t.sentence_valid_id_only, &[&issuer()]),
        Verdict::Valid if report.evidence.mode == Mode::Offline => {
            fill(t.sentence_valid_offline, &[&issuer()])
        }
        Verdict::Valid => fill(t.sentence_valid, &[&issuer()]),
        Verdict::Revoked => {
            let Some(rv) = &facts.revocation else {
                return fallback();
            };
            let mut why = revocation_reason(t, &rv.reason);
            if let Some(note) = rv.note.as_deref().filter(|n| !n.is_empty()) {
                why = fill(t.sentence_with_note, &[&why, &isolate(note)]);
            }
            let template = match rv.by.as_deref() {
                Some("governance") => t.sentence_revoked_by_governance,
                Some(_) => t.sentence_revoked_by_issuer,
                None => t.sentence_revoked,
            };
            fill(template, &[&isolate(&day(rv.time)), &why])
        }
        Verdict::Expired => match date(facts.expires_at) {
            Some(d) => fill(t.sentence_expired, &[&d]),
            None => fallback(),
        },
        Verdict::NotYetValid => match date(facts.issued_at) {
            Some(d) => fill(t.sentence_not_yet_valid, &[&d]),
            None => fallback(),
        },
        Verdict::UnknownIssuer => t.sentence_unknown_issuer.to_owned(),
        Verdict::IssuerRemoved | Verdict::IssuerSuspended => {
            let Some(s) = &facts.issuer_standing else {
                return fallback();
            };
            let mut since = isolate(&day(s.since));
            if let Some(why) = s.reason.as_deref().filter(|r| !r.is_empty()) {
                since = fill(t.sentence_with_why, &[&since, &isolate(why)]);
            }
            let template = if report.verdict == Verdict::IssuerRemoved {
                t.sentence_issuer_removed
            } else {
                t.sentence_issuer_suspended
            };
            fill(template, &[&issuer(), &since])
        }
        Verdict::NotRegistered => {
            use tradeseal_api::Unregistrable as U;
            let template = match facts.unregistrable {
                Some(U::KindNotAllowed) => t.sentence_kind_not_allowed,
                Some(U::OutsideIssuerValidity) => t.sentence_outside_validity,
                None => t.sentence_not_registered,
            };
            fill(template, &[&issuer()])
        }
        Verdict::Tampered => tampered(t, &facts.mismatches, report),
        // Said above, without facts.
        Verdict::NotOurs | Verdict::CannotVerify => fallback(),
    }
}

/// TAMPERED: a forged signature or a swapped document in a sentence of their own; parts
/// of the chain's record that differ, named.
fn tampered(t: &Texts, mismatches: &[Mismatch], report: &VerifyReport) -> String {
    let all: Vec<Mismatch> = if mismatches.is_empty() {
        report.evidence.mismatch.into_iter().collect()
    } else {
        mismatches.to_vec()
    };
    match all.as_slice() {
        [] => report.reason.clone(),
        m if m.contains(&Mismatch::Signature) => t.sentence_tampered_signature.to_owned(),
        [Mismatch::Document] => t.sentence_tampered_document.to_owned(),
        m => {
            let parts: Vec<&str> = m.iter().map(|&p| mismatch_part(t, p)).collect();
            fill(t.sentence_tampered_fields, &[&parts.join(t.list_separator)])
        }
    }
}

/// A part of a certificate that can differ, as a sentence names it.
pub fn mismatch_part(t: &Texts, m: Mismatch) -> &'static str {
    let i = Mismatch::ALL.iter().position(|&x| x == m).unwrap_or(0);
    t.mismatch_parts[i]
}

/// A revocation reason in words; a reason this version does not know, as it came.
pub fn revocation_reason(t: &Texts, reason: &str) -> String {
    match REVOCATION_REASONS.iter().position(|&r| r == reason) {
        Some(i) => t.revocation_reasons[i].to_owned(),
        None => isolate(&reason.replace('_', " ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::texts;
    use tradeseal_api::{
        Evidence, IssuerStanding, Language, ProofStatus, RevocationFacts, Source, Unregistrable,
    };

    const FALLBACK: &str = "the wallet's English sentence";

    fn report(verdict: Verdict, mode: Mode, facts: Option<Facts>) -> VerifyReport {
        VerifyReport {
            verdict,
            reason: FALLBACK.into(),
            certificate_id: Some("KE-KEPHIS/A-1".into()),
            certificate: None,
            evidence: Evidence {
                facts,
                ..Evidence::new(mode, ProofStatus::Verified)
            },
            source: Source::Paste,
            file: None,
            checked_at: 1_767_225_600,
            history_id: 0,
            recheck: None,
        }
    }

    fn facts() -> Facts {
        Facts {
            issuer_name: Some("Kenya Plant Health Inspectorate Service".into()),
            ..Facts::default()
        }
    }

    fn revoked(by: Option<&str>, note: Option<&str>) -> VerifyReport {
        report(
            Verdict::Revoked,
            Mode::Online,
            Some(Facts {
                revocation: Some(RevocationFacts {
                    reason: "fraudulent".into(),
                    time: 1_767_225_600 + 40 * 86_400,
                    height: 12,
                    by: by.map(str::to_owned),
                    note: note.map(str::to_owned),
                }),
                ..facts()
            }),
        )
    }

    fn tampered_by(mismatches: Vec<Mismatch>) -> VerifyReport {
        let mut r = report(
            Verdict::Tampered,
            Mode::Online,
            Some(Facts {
                mismatches: mismatches.clone(),
                ..facts()
            }),
        );
        r.evidence.mismatch = mismatches.first().copied();
        r
    }

    /// A report of every verdict, with each of its variants: every kind of CANNOT VERIFY and
    /// NOT OURS, every mismatch, revoked by each revoker, online and offline.
    fn every_report() -> Vec<VerifyReport> {
        let standing = |status: &str, reason: Option<&str>| IssuerStanding {
            status: status.into(),
            since: 1_767_225_600 + 10 * 86_400,
            reason: reason.map(str::to_owned),
        };
        let mut all = vec![
            report(Verdict::Valid, Mode::Online, Some(facts())),
            report(Verdict::Valid, Mode::Offline, Some(facts())),
            report(
                Verdict::Valid,
                Mode::Online,
                Some(Facts {
                    id_only: true,
                    ..facts()
                }),
            ),
            revoked(Some("issuer"), None),
            revoked(Some("governance"), Some("fraude constatée")),
            revoked(None, None),
            report(
                Verdict::Expired,
                Mode::Online,
                Some(Facts {
                    expires_at: Some(1_767_225_600),
                    ..facts()
                }),
            ),
            report(
                Verdict::NotYetValid,
                Mode::Online,
                Some(Facts {
                    issued_at: Some(1_767_225_600),
                    ..facts()
                }),
            ),
            report(Verdict::UnknownIssuer, Mode::Online, Some(facts())),
            report(
                Verdict::IssuerRemoved,
                Mode::Online,
                Some(Facts {
                    issuer_standing: Some(standing("removed", Some("key compromised"))),
                    ..facts()
                }),
            ),
            report(
                Verdict::IssuerSuspended,
                Mode::Offline,
                Some(Facts {
                    issuer_standing: Some(standing("suspended", None)),
                    ..facts()
                }),
            ),
            report(Verdict::NotRegistered, Mode::Online, Some(facts())),
        ];
        for u in Unregistrable::ALL {
            all.push(report(
                Verdict::NotRegistered,
                Mode::Offline,
                Some(Facts {
                    unregistrable: Some(*u),
                    ..facts()
                }),
            ));
        }
        for m in Mismatch::ALL {
            all.push(tampered_by(vec![*m]));
        }
        all.push(tampered_by(vec![Mismatch::Kind, Mismatch::Dates]));
        for kind in NotOurs::ALL {
            let mut r = report(Verdict::NotOurs, Mode::Online, Some(Facts::default()));
            r.evidence.not_ours = Some(*kind);
            all.push(r);
        }
        for kind in CannotVerify::ALL {
            for id_only in [false, true] {
                let mut r = report(
                    Verdict::CannotVerify,
                    Mode::Online,
                    Some(Facts { id_only, ..facts() }),
                );
                r.evidence.cannot_verify = Some(*kind);
                all.push(r);
            }
        }
        all
    }

    #[test]
    fn every_verdict_has_its_own_sentence_in_every_language() {
        let all = every_report();
        for v in Verdict::ALL {
            assert!(all.iter().any(|r| r.verdict == *v), "no {v:?} report");
        }
        for language in Language::ALL {
            let t = texts(language);
            for r in &all {
                let s = sentence(t, r);
                assert!(!s.trim().is_empty(), "{}: {r:#?}", language.tag());
                assert_ne!(s, FALLBACK, "{}: {r:#?}", language.tag());
                assert!(!s.contains('{'), "{}: unfilled {s:?}", language.tag());
            }
            // Each kind of CANNOT VERIFY says something different.
            let mut kinds: Vec<&str> = CannotVerify::ALL
                .iter()
                .map(|k| cannot_verify(t, *k, false))
                .collect();
            kinds.sort_unstable();
            kinds.dedup();
            assert_eq!(kinds.len(), CannotVerify::ALL.len(), "{}", language.tag());
        }
    }

    #[test]
    fn a_revoked_sentence_names_its_date_reason_and_revoker() {
        for language in Language::ALL {
            let t = texts(language);
            let s = sentence(t, &revoked(Some("governance"), Some("fraude constatée")));
            assert!(
                s.contains(&isolate("2026-02-10")),
                "{}: {s}",
                language.tag()
            );
            assert!(
                s.contains(t.revocation_reasons[3]),
                "{}: {s}",
                language.tag()
            );
            assert!(s.contains("fraude constatée"), "{}: {s}", language.tag());
            let by_issuer = sentence(t, &revoked(Some("issuer"), None));
            assert_ne!(s, by_issuer);
            assert!(by_issuer.contains(&isolate("2026-02-10")));
        }
        assert_eq!(
            sentence(texts(Language::En), &revoked(Some("issuer"), None)),
            "Revoked by its issuer on \u{2068}2026-02-10\u{2069}: fraudulent. It is no longer valid."
        );
    }

    #[test]
    fn a_tampered_sentence_names_what_differs() {
        for language in Language::ALL {
            let t = texts(language);
            let s = sentence(t, &tampered_by(vec![Mismatch::Kind, Mismatch::Dates]));
            for m in [Mismatch::Kind, Mismatch::Dates] {
                assert!(s.contains(mismatch_part(t, m)), "{}: {s}", language.tag());
            }
            assert!(!s.contains(mismatch_part(t, Mismatch::DocumentHash)));
            let forged = sentence(t, &tampered_by(vec![Mismatch::Signature]));
            let swapped = sentence(t, &tampered_by(vec![Mismatch::Document]));
            assert_ne!(forged, swapped);
            assert_ne!(forged, s);
        }
    }

    #[test]
    fn the_french_and_arabic_sentences_are_not_the_english_ones() {
        let (en, fr, ar) = (
            texts(Language::En),
            texts(Language::Fr),
            texts(Language::Ar),
        );
        for r in every_report() {
            assert_ne!(sentence(en, &r), sentence(fr, &r), "{r:#?}");
            assert_ne!(sentence(en, &r), sentence(ar, &r), "{r:#?}");
        }
        assert_eq!(
            sentence(fr, &revoked(None, None)),
            "Révoqué le \u{2068}2026-02-10\u{2069} (motif\u{a0}: frauduleux). Il n'est plus valable."
        );
    }

    #[test]
    fn values_are_isolated_and_words_are_given_in_every_language() {
        let valid = report(Verdict::Valid, Mode::Online, Some(facts()));
        for language in Language::ALL {
            let t = texts(language);
            let s = sentence(t, &valid);
            assert!(
                s.contains(&isolate("Kenya Plant Health Inspectorate Service")),
                "{}: {s}",
                language.tag()
            );
            for words in [&t.mismatch_parts[..], &t.revocation_reasons[..]] {
                let mut distinct: Vec<&str> = words.to_vec();
                distinct.sort_unstable();
                distinct.dedup();
                assert_eq!(distinct.len(), words.len(), "{}", language.tag());
                assert!(words.iter().all(|w| !w.trim().is_empty()));
            }
        }
    }

    #[test]
    fn a_report_kept_before_the_facts_existed_keeps_its_reason() {
        let t = texts(Language::Fr);
        for v in [Verdict::Valid, Verdict::Revoked, Verdict::Tampered] {
            assert_eq!(sentence(t, &report(v, Mode::Online, None)), FALLBACK);
        }
        // CANNOT VERIFY and NOT OURS always said why.
        let mut r = report(Verdict::CannotVerify, Mode::Online, None);
        r.evidence.cannot_verify = Some(CannotVerify::NoNetwork);
        assert_eq!(sentence(t, &r), t.sentence_cannot_no_network);
        // An unknown revocation reason is shown as it came.
        let mut r = revoked(None, None);
        if let Some(rv) = r
            .evidence
            .facts
            .as_mut()
            .and_then(|f| f.revocation.as_mut())
        {
            rv.reason = "court_order".into();
        }
        assert!(sentence(t, &r).contains("court order"));
    }
}

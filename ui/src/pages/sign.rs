//! The Sign page: a form for each transaction the registry accepts (record an inspection,
//! revoke, and for governance keys register, suspend, reinstate or remove an issuer, revoke
//! any certificate, set a consensus validator's voting power, approve a proposal;
//! certificates are issued on the Issue page), checked
//! here for what is missing and then by the wallet against the proven chain state; the review
//! of every field decoded back from exactly the bytes to sign, with the chain, signer and
//! sequence; signing only on the user's confirmation (a token's PIN asked for this signing);
//! then the outbox (pending, submitted, confirmed by proof, failed with the registry's
//! reason; retry or discard a failed one) and the audit log's download.

use leptos::{ev::SubmitEvent, prelude::*, task::spawn_local};
use serde_json::{json, Value};
use tradeseal_api::{
    ApiError, ExportFormat, KeyView, OutboxItem, SignConfirm, SignPrepare, SignReview,
};

use crate::{
    app::use_app,
    backend, files,
    i18n::{fill, Text, Texts},
    pages::{
        form::Field,
        keys::{error_view, invalid},
        verify::moment,
        Page, PageHeader,
    },
};

/// The forms, by their value in the type chooser.
const FORMS: [(&str, Text); 10] = [
    ("inspect", |t| t.sign_type_inspect),
    ("revoke", |t| t.sign_type_revoke),
    ("issue", |t| t.sign_type_issue),
    ("register_issuer", |t| t.sign_type_register),
    ("suspend_issuer", |t| t.sign_type_suspend),
    ("reinstate_issuer", |t| t.sign_type_reinstate),
    ("remove_issuer", |t| t.sign_type_remove),
    ("revoke_certificate", |t| t.sign_type_gov_revoke),
    ("set_validator", |t| t.sign_type_set_validator),
    ("approve", |t| t.sign_type_approve),
];

/// The inspection outcomes, in the order of `Texts::sign_outcomes`.
const OUTCOMES: [&str; 5] = [
    "compliant",
    "non_compliant",
    "held",
    "sampled",
    "certificate_rejected",
];

/// The revocation reasons, in the order of `Texts::sign_reasons`.
const REASONS: [&str; 6] = [
    "issued_in_error",
    "superseded",
    "cancelled",
    "fraudulent",
    "key_compromise",
    "other",
];

/// Every field of every form, as typed.
#[derive(Debug, Clone, Copy)]
struct Fields {
    kind: RwSignal<String>,
    cert: RwSignal<String>,
    agency: RwSignal<String>,
    location: RwSignal<String>,
    outcome: RwSignal<String>,
    notes: RwSignal<String>,
    reason: RwSignal<String>,
    issuer_id: RwSignal<String>,
    legal_name: RwSignal<String>,
    country: RwSignal<String>,
    issuer_keys: RwSignal<String>,
    kinds: RwSignal<String>,
    valid_until: RwSignal<String>,
    why: RwSignal<String>,
    proposal: RwSignal<String>,
    validator_key: RwSignal<String>,
    validator_power: RwSignal<String>,
}

impl Fields {
    fn new() -> Fields {
        let s = |v: &str| RwSignal::new(v.to_owned());
        Fields {
            kind: s("inspect"),
            cert: s(""),
            agency: s(""),
            location: s(""),
            outcome: s(OUTCOMES[0]),
            notes: s(""),
            reason: s(REASONS[0]),
            issuer_id: s(""),
            legal_name: s(""),
            country: s(""),
            issuer_keys: s(""),
            kinds: s(""),
            valid_until: s(""),
            why: s(""),
            proposal: s(""),
            validator_key: s(""),
            validator_power: s(""),
        }
    }

    /// The form as the wallet reads it (`tradeseal-cli sign --tx`'s shape), or the labels of
    /// what is missing or malformed.
    fn to_form(self, t: &Texts) -> Result<Value, Vec<&'static str>> {
        let missing = std::cell::RefCell::new(Vec::new());
        let need = |signal: RwSignal<String>, label: &'static str| {
            let v = signal.get_untracked().trim().to_owned();
            if v.is_empty() {
                missing.borrow_mut().push(label);
            }
            v
        };
        let lines = |signal: RwSignal<String>| -> Vec<String> {
            signal
                .get_untracked()
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let kind = self.kind.get_untracked();
        let form = match kind.as_str() {
            "inspect" => json!({
                "type": "inspect",
                "cert": need(self.cert, t.sign_cert),
                "agency": need(self.agency, t.sign_agency),
                "location": need(self.location, t.sign_location),
                "outcome": self.outcome.get_untracked(),
                "notes": self.notes.get_untracked().trim(),
            }),
            "revoke" => json!({
                "type": "revoke",
                "cert": need(self.cert, t.sign_cert),
                "reason": self.reason.get_untracked(),
                "note": self.notes.get_untracked().trim(),
            }),
            "revoke_certificate" => json!({
                "type": "propose",
                "action": {
                    "type": "revoke_certificate",
                    "cert": need(self.cert, t.sign_cert),
                    "reason": self.reason.get_untracked(),
                    "note": self.notes.get_untracked().trim(),
                },
            }),
            "register_issuer" => {
                let keys = lines(self.issuer_keys);
                if keys.is_empty() {
                    missing.borrow_mut().push(t.sign_issuer_keys);
                }
                let until = need(self.valid_until, t.sign_valid_until);
                let until = js_sys::Date::parse(&until);
                if until.is_nan() && !missing.borrow().contains(&t.sign_valid_until) {
                    missing.borrow_mut().push(t.sign_valid_until);
                }
                json!({
                    "type": "propose",
                    "action": {
                        "type": "register_issuer",
                        "id": need(self.issuer_id, t.sign_issuer_id),
                        "legal_name": need(self.legal_name, t.sign_legal_name),
                        "country": need(self.country, t.sign_country).to_uppercase(),
                        "keys": keys,
                        "kinds": lines(self.kinds),
                        "valid_until": if until.is_nan() { 0 } else { (until / 1000.0) as u64 },
                    },
                })
            }
            "suspend_issuer" | "reinstate_issuer" | "remove_issuer" => json!({
                "type": "propose",
                "action": {
                    "type": kind,
                    "id": need(self.issuer_id, t.sign_issuer_id),
                    "reason": self.why.get_untracked().trim(),
                },
            }),
            "set_validator" => {
                let power = need(self.validator_power, t.sign_validator_power);
                let parsed = power.parse::<u64>().ok();
                if parsed.is_none() && !power.is_empty() {
                    missing.borrow_mut().push(t.sign_validator_power);
                }
                json!({
                    "type": "propose",
                    "action": {
                        "type": "set_validator",
                        "pub_key": need(self.validator_key, t.sign_validator_key),
                        "power": parsed.unwrap_or_default(),
                    },
                })
            }
            "approve" => {
                let number = need(self.proposal, t.sign_proposal);
                let proposal = number.parse::<u64>().ok();
                if proposal.is_none() && !number.is_empty() {
                    missing.borrow_mut().push(t.sign_proposal);
                }
                json!({ "type": "approve", "proposal": proposal.unwrap_or_default() })
            }
            _ => Value::Null,
        };
        let missing = missing.into_inner();
        if missing.is_empty() {
            Ok(form)
        } else {
            Err(missing)
        }
    }
}

/// A many-line field (one value per line).
#[component]
fn Lines(
    id: &'static str,
    label: fn(&Texts) -> &'static str,
    value: RwSignal<String>,
) -> impl IntoView {
    let texts = use_app().texts;
    view! {
        <label class="field">
            <span class="field-label">{move || label(texts.get())}</span>
            <textarea
                id=id
                rows="3"
                dir="ltr"
                spellcheck="false"
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
            ></textarea>
        </label>
    }
}

/// A choice among stable values, shown in words.
#[component]
fn Choice(
    id: &'static str,
    label: fn(&Texts) -> &'static str,
    value: RwSignal<String>,
    values: &'static [&'static str],
    words: fn(&Texts) -> Vec<&'static str>,
) -> impl IntoView {
    let texts = use_app().texts;
    view! {
        <label class="field">
            <span class="field-label">{move || label(texts.get())}</span>
            <select id=id prop:value=move || value.get() on:change=move |ev| value.set(event_target_value(&ev))>
                {move || {
                    let words = words(texts.get());
                    values
                        .iter()
                        .zip(words)
                        .map(|(v, w)| view! { <option value=*v selected=move || value.get_untracked() == *v>{w}</option> })
                        .collect_view()
                }}
            </select>
        </label>
    }
}

/// The outbox state in words.
fn state_text(t: &Texts, state: &str) -> &'static str {
    match state {
        "pending" => t.outbox_pending,
        "submitted" => t.outbox_submitted,
        "confirmed" => t.outbox_confirmed,
        _ => t.outbox_failed,
    }
}

/// Where the page is: filling in a form, or reviewing what it would sign.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Form,
    Review(Box<SignReview>),
}

#[component]
pub fn SignPage() -> impl IntoView {
    let app = use_app();
    let texts = app.texts;
    let keys = RwSignal::new(Vec::<KeyView>::new());
    let key = RwSignal::new(String::new());
    let f = Fields::new();
    let step = RwSignal::new(Step::Form);
    let pin = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiError>);
    let notice = RwSignal::new(None::<&'static str>);
    let busy = RwSignal::new(false);
    let outbox = RwSignal::new(Vec::<OutboxItem>::new());
    let outbox_error = RwSignal::new(None::<ApiError>);
    let discarding = RwSignal::new(None::<i64>);

    spawn_local(async move {
        match backend::keys_list().await {
            Ok(list) => {
                if let Some(first) = list.first() {
                    key.set(first.label.clone());
                }
                keys.set(list);
            }
            Err(e) => error.set(Some(e)),
        }
    });

    // The outbox, kept current while the page is open: what is pending or submitted is sent
    // again and confirmed by proof once its block is verified.
    spawn_local(async move {
        let mut list = backend::outbox_list().await;
        loop {
            match list {
                Ok(items) => {
                    if outbox.try_set(items).is_some() {
                        return;
                    }
                    let _ = outbox_error.try_set(None);
                }
                Err(e) => {
                    if outbox_error.try_set(Some(e)).is_some() {
                        return;
                    }
                }
            }
            crate::camera::sleep(1000).await;
            let Some(items) = outbox.try_get_untracked() else {
                return;
            };
            list = if items
                .iter()
                .any(|i| i.state == "pending" || i.state == "submitted")
            {
                backend::outbox_submit().await
            } else {
                backend::outbox_list().await
            };
        }
    });
    let refresh = move || {
        spawn_local(async move {
            match backend::outbox_submit().await {
                Ok(items) => outbox.set(items),
                Err(e) => outbox_error.set(Some(e)),
            }
        });
    };

    let on_review = move |ev: SubmitEvent| {
        ev.prevent_default();
        let t = texts.get_untracked();
        error.set(None);
        notice.set(None);
        let form = match f.to_form(t) {
            Ok(form) => form,
            Err(missing) => {
                return error.set(Some(invalid(&fill(t.sign_missing, &[&missing.join(", ")]))))
            }
        };
        busy.set(true);
        let request = SignPrepare {
            key_label: key.get_untracked(),
            form_json: form.to_string(),
        };
        spawn_local(async move {
            match backend::sign_prepare(&request).await {
                Ok(review) => step.set(Step::Review(Box::new(review))),
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };

    let on_sign = move |_| {
        let Step::Review(review) = step.get_untracked() else {
            return;
        };
        busy.set(true);
        error.set(None);
        let typed = pin.get_untracked();
        pin.set(String::new());
        let request = SignConfirm {
            sign_bytes_sha256: review.sign_bytes_sha256,
            pin: Some(typed).filter(|p| !p.is_empty()),
        };
        spawn_local(async move {
            match backend::sign_confirm(&request).await {
                Ok(item) => {
                    outbox.update(|o| {
                        o.retain(|i| i.id != item.id);
                        o.push(item);
                    });
                    notice.set(Some(texts.get_untracked().sign_signed));
                    step.set(Step::Form);
                }
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };

    let token_key = move || {
        keys.get()
            .iter()
            .any(|k| k.label == key.get() && k.backend == "pkcs11")
    };

    let export = move |format: ExportFormat| {
        spawn_local(async move {
            match backend::audit_export(format).await {
                Ok(body) => {
                    let mime = match format {
                        ExportFormat::Csv => "text/csv",
                        ExportFormat::Json => "application/json",
                    };
                    let name = format!("tradeseal-audit.{}", format.as_str());
                    if let Err(why) = files::download(&name, mime, &body) {
                        outbox_error.set(Some(invalid(&why)));
                    }
                }
                Err(e) => outbox_error.set(Some(e)),
            }
        });
    };

    let fields = move || {
        let kind = f.kind.get();
        match kind.as_str() {
            "inspect" => view! {
                <Field id="sign-cert" label=|t| t.sign_cert value=f.cert/>
                <div class="verify-row">
                    <Field id="sign-agency" label=|t| t.sign_agency value=f.agency/>
                    <Field id="sign-location" label=|t| t.sign_location value=f.location/>
                </div>
                <Choice id="sign-outcome" label=|t| t.sign_outcome value=f.outcome values=&OUTCOMES words=|t| t.sign_outcomes.to_vec()/>
                <Field id="sign-notes" label=|t| t.sign_notes value=f.notes/>
            }
            .into_any(),
            "revoke" | "revoke_certificate" => view! {
                <Field id="sign-cert" label=|t| t.sign_cert value=f.cert/>
                <Choice id="sign-reason" label=|t| t.sign_reason value=f.reason values=&REASONS words=|t| t.sign_reasons.to_vec()/>
                <Field id="sign-notes" label=|t| t.sign_notes value=f.notes/>
            }
            .into_any(),
            "register_issuer" => view! {
                <div class="verify-row">
                    <Field id="sign-issuer-id" label=|t| t.sign_issuer_id value=f.issuer_id/>
                    <Field id="sign-country" label=|t| t.sign_country value=f.country/>
                </div>
                <Field id="sign-legal-name" label=|t| t.sign_legal_name value=f.legal_name/>
                <Lines id="sign-issuer-keys" label=|t| t.sign_issuer_keys value=f.issuer_keys/>
                <Lines id="sign-kinds" label=|t| t.sign_kinds value=f.kinds/>
                <Field id="sign-valid-until" label=|t| t.sign_valid_until value=f.valid_until kind="date"/>
            }
            .into_any(),
            "suspend_issuer" | "reinstate_issuer" | "remove_issuer" => view! {
                <Field id="sign-issuer-id" label=|t| t.sign_issuer_id value=f.issuer_id/>
                <Field id="sign-why" label=|t| t.sign_reason value=f.why/>
            }
            .into_any(),
            "set_validator" => view! {
                <Field id="sign-validator-key" label=|t| t.sign_validator_key value=f.validator_key wide=true/>
                <Field id="sign-validator-power" label=|t| t.sign_validator_power value=f.validator_power kind="number"/>
                <p class="muted" id="sign-validator-hint">{move || texts.get().sign_validator_hint}</p>
            }
            .into_any(),
            "approve" => view! {
                <Field id="sign-proposal" label=|t| t.sign_proposal value=f.proposal kind="number"/>
            }
            .into_any(),
            _ => ().into_any(),
        }
    };

    let form = move || {
        view! {
            <form class="card sign-form" id="sign-form" on:submit=on_review>
                <div class="verify-row">
                    <label class="field">
                        <span class="field-label">{move || texts.get().sign_key}</span>
                        <select id="sign-key" prop:value=move || key.get() on:change=move |ev| key.set(event_target_value(&ev))>
                            {move || keys.get().into_iter().map(|k| {
                                let label = k.label.clone();
                                view! { <option value=label.clone() selected=move || key.get_untracked() == label>{k.label}</option> }
                            }).collect_view()}
                        </select>
                    </label>
                    <label class="field">
                        <span class="field-label">{move || texts.get().sign_type}</span>
                        <select id="sign-type" prop:value=move || f.kind.get() on:change=move |ev| f.kind.set(event_target_value(&ev))>
                            {move || FORMS.iter().map(|(v, words)| view! {
                                <option value=*v selected=move || f.kind.get_untracked() == *v>{words(texts.get())}</option>
                            }).collect_view()}
                        </select>
                    </label>
                </div>
                <Show
                    when=move || f.kind.get() != "issue"
                    fallback=move || view! {
                        <p class="muted" id="sign-issue-hint">{move || texts.get().sign_issue_hint}</p>
                        <button class="button" type="button" id="sign-open-issue" on:click=move |_| app.page.set(Page::Issue)>
                            {move || texts.get().sign_open_issue}
                        </button>
                    }
                >
                    {fields}
                    <button class="button primary" id="sign-review" type="submit" disabled=move || busy.get()>
                        {move || texts.get().sign_review_button}
                    </button>
                </Show>
            </form>
        }
    };

    let review = move |r: SignReview| {
        let t = texts.get();
        view! {
            <section class="card sign-review" id="sign-review-panel" data-action=r.action.clone() data-sequence=r.sequence.to_string()>
                <h2>{t.sign_review_title}</h2>
                <p class="muted">{t.sign_review_intro}</p>
                <p class="review-summary" id="sign-summary">{r.summary.clone()}</p>
                <dl class="facts" id="sign-review-fields">
                    <dt>{t.sign_action}</dt><dd data-field="action">{r.action.clone()}</dd>
                    <dt>{t.sign_chain}</dt><dd data-field="chain_id" dir="ltr">{r.chain_id.clone()}</dd>
                    <dt>{t.sign_signer}</dt>
                    <dd data-field="signer">{r.signer_label.clone()}" "<code dir="ltr">{r.signer.clone()}</code></dd>
                    <dt>{t.sign_sequence}</dt><dd data-field="sequence">{r.sequence}</dd>
                    {r.fields
                        .iter()
                        .map(|l| view! { <dt>{l.label.clone()}</dt><dd data-field=l.name.clone()>{l.value.clone()}</dd> })
                        .collect_view()}
                    <dt>{t.sign_bytes_hash}</dt><dd data-field="sign_bytes_sha256"><code dir="ltr">{r.sign_bytes_sha256.clone()}</code></dd>
                </dl>
                <p class="muted">{fill(t.sign_proven_at, &[&r.proven_height.to_string()])}</p>
                <ul class="muted" id="sign-checks">
                    {r.checks.iter().map(|c| view! { <li>{c.clone()}</li> }).collect_view()}
                </ul>
                <Show when=token_key>
                    <Field id="sign-pin" label=|t| t.sign_pin value=pin kind="password"/>
                </Show>
                <div class="verify-row">
                    <button class="button" id="sign-back" on:click=move |_| { pin.set(String::new()); step.set(Step::Form); }>
                        {t.sign_back}
                    </button>
                    <button class="button primary" id="sign-confirm" disabled=move || busy.get() on:click=on_sign>
                        {t.sign_confirm}
                    </button>
                </div>
            </section>
        }
    };

    let outbox_row = move |item: OutboxItem| {
        let t = texts.get();
        let id = item.id;
        let failed = item.state == "failed";
        let rejected = item.reason.clone().map(|reason| {
            let code = item.code.map(|c| c.to_string()).unwrap_or_default();
            view! { <p class="error outbox-reason">{fill(t.outbox_rejected, &[&code, &reason])}</p> }
        });
        let retry = move |_| {
            spawn_local(async move {
                match backend::outbox_retry(id).await {
                    Ok(_) => refresh(),
                    Err(e) => outbox_error.set(Some(e)),
                }
            });
        };
        let discard = move |_| {
            spawn_local(async move {
                match backend::outbox_discard(id).await {
                    Ok(_) => {
                        discarding.set(None);
                        outbox.update(|o| o.retain(|i| i.id != id));
                    }
                    Err(e) => outbox_error.set(Some(e)),
                }
            });
        };
        view! {
            <li class="outbox-item" data-id=id.to_string() data-state=item.state.clone() data-tx=item.tx_hash.clone() data-action=item.action.clone()>
                <div class="outbox-head">
                    <span class=format!("badge state-{}", item.state)>{state_text(t, &item.state)}</span>
                    {item.height.map(|h| view! { <span class="muted outbox-height">{fill(t.outbox_in_block, &[&h.to_string()])}</span> })}
                    <span class="muted">{moment(item.created_at)}</span>
                </div>
                <p class="outbox-summary">{item.summary.clone()}</p>
                <p class="muted">{item.key_label.clone()}" · "{t.sign_sequence}" "{item.sequence}" · "<code dir="ltr">{item.tx_hash.clone()}</code></p>
                {rejected}
                {failed.then(|| view! {
                    <div class="verify-row">
                        <button class="button outbox-retry" on:click=retry>{t.outbox_retry}</button>
                        <button class="button outbox-discard" on:click=move |_| discarding.set(Some(id))>{t.outbox_discard}</button>
                    </div>
                    <Show when=move || discarding.get() == Some(id)>
                        <div class="confirm" role="alertdialog">
                            <p>{move || texts.get().outbox_discard_confirm}</p>
                            <div class="verify-row">
                                <button class="button" on:click=move |_| discarding.set(None)>{move || texts.get().keys_cancel}</button>
                                <button class="button danger outbox-discard-confirm" on:click=discard>{move || texts.get().outbox_discard}</button>
                            </div>
                        </div>
                    </Show>
                })}
            </li>
        }
    };

    view! {
        <PageHeader title=|t| t.sign_title intro=|t| t.sign_intro/>
        <Show
            when=move || !keys.get().is_empty()
            fallback=move || view! { <p class="empty-text" id="sign-no-keys">{move || texts.get().sign_no_keys}</p> }
        >
            {move || match step.get() {
                Step::Form => form().into_any(),
                Step::Review(r) => review(*r).into_any(),
            }}
        </Show>
        {error_view(error, "sign-error")}
        {move || notice.get().map(|n| view! { <p class="card tone-good" id="sign-notice" role="status">{n}</p> })}
        <section class="card" id="outbox">
            <div class="verify-row">
                <h2>{move || texts.get().outbox_title}</h2>
                <button class="button" id="outbox-send" on:click=move |_| refresh()>{move || texts.get().outbox_send}</button>
            </div>
            {error_view(outbox_error, "outbox-error")}
            <Show
                when=move || !outbox.get().is_empty()
                fallback=move || view! { <p class="empty-text" id="outbox-empty">{move || texts.get().outbox_empty}</p> }
            >
                <ul class="outbox-list" id="outbox-list">
                    {move || outbox.get().into_iter().rev().map(outbox_row).collect_view()}
                </ul>
            </Show>
        </section>
        <section class="card" id="audit">
            <h2>{move || texts.get().audit_title}</h2>
            <p class="muted">{move || texts.get().audit_intro}</p>
            <div class="verify-row">
                <button class="button" id="audit-export-json" on:click=move |_| export(ExportFormat::Json)>
                    {move || texts.get().audit_export_json}
                </button>
                <button class="button" id="audit-export-csv" on:click=move |_| export(ExportFormat::Csv)>
                    {move || texts.get().audit_export_csv}
                </button>
            </div>
        </section>
    }
}

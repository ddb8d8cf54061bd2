//! The Verify page: scan a certificate's QR code with the camera, open photos or a PDF, or
//! type the code's text or the serial; optionally the certificate's document to check; then
//! the verdict, in one word and one sentence (in the user's language, see `verdict.rs`), with
//! the evidence one tap away.

use leptos::{ev::SubmitEvent, prelude::*, task::spawn_local};
use tradeseal_api::{
    CannotVerify, Evidence, FileData, Mismatch, Mode, NodeState, NotOurs, Origin, Recheck, Verdict,
    VerifyInput, VerifyReport, VerifyRequest,
};
use wasm_bindgen::JsCast;

use crate::{
    app::use_app,
    camera::{self, CameraError},
    describe::{ago, grouped, span},
    files,
    i18n::{fill, Text, Texts},
    pages::{Page, PageHeader},
    verdict::sentence,
};

/// The headline of a verdict.
pub fn headline(t: &Texts, v: Verdict) -> &'static str {
    match v {
        Verdict::Valid => t.verdict_valid,
        Verdict::Revoked => t.verdict_revoked,
        Verdict::Expired => t.verdict_expired,
        Verdict::NotYetValid => t.verdict_not_yet_valid,
        Verdict::UnknownIssuer => t.verdict_unknown_issuer,
        Verdict::IssuerRemoved => t.verdict_issuer_removed,
        Verdict::IssuerSuspended => t.verdict_issuer_suspended,
        Verdict::NotRegistered => t.verdict_not_registered,
        Verdict::Tampered => t.verdict_tampered,
        Verdict::NotOurs => t.verdict_not_ours,
        Verdict::CannotVerify => t.verdict_cannot_verify,
    }
}

/// Green, red or amber: whether to accept, refuse, or find out more.
pub fn tone(v: Verdict) -> &'static str {
    match v {
        Verdict::Valid => "good",
        Verdict::CannotVerify | Verdict::NotYetValid | Verdict::NotOurs => "unknown",
        _ => "bad",
    }
}

/// A date (UTC) from unix seconds.
pub fn date(secs: u64) -> String {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(secs as f64 * 1000.0));
    String::from(d.to_iso_string()).chars().take(10).collect()
}

/// A moment (UTC, to the minute) from unix seconds.
pub fn moment(secs: u64) -> String {
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(secs as f64 * 1000.0));
    String::from(d.to_iso_string())
        .chars()
        .take(16)
        .collect::<String>()
        .replace('T', " ")
}

/// Text typed in: a certificate id (`ISSUER/SERIAL`, no spaces, no `:`) or a code's text.
fn typed_input(text: &str) -> VerifyInput {
    let t = text.trim();
    let looks_like_id = t.contains('/')
        && !t.contains(':')
        && !t.chars().any(char::is_whitespace)
        && t.split('/').count() == 2;
    if looks_like_id {
        VerifyInput::Serial { id: t.to_owned() }
    } else {
        VerifyInput::Payload {
            text: t.to_owned(),
            origin: Origin::Paste,
        }
    }
}

#[component]
pub fn VerifyPage() -> impl IntoView {
    let app = use_app();
    let texts = app.texts;
    let reports = RwSignal::new(Vec::<VerifyReport>::new());
    let errors = RwSignal::new(Vec::<String>::new());
    let busy = RwSignal::new(false);
    let typed = RwSignal::new(String::new());
    let document = RwSignal::new(None::<FileData>);
    // In the field with no network: judge from the offline data only, at once.
    let offline_only = RwSignal::new(false);

    // One request after the other, in order; results replace the previous ones.
    let run = move |inputs: Vec<VerifyInput>| {
        busy.set(true);
        errors.set(Vec::new());
        reports.set(Vec::new());
        let doc = document.get_untracked();
        let offline = offline_only.get_untracked();
        spawn_local(async move {
            for input in inputs {
                let request = VerifyRequest {
                    input,
                    document: doc.clone(),
                    offline,
                };
                match crate::backend::verify(&request).await {
                    Ok(r) => reports.update(|rs| rs.push(r)),
                    Err(e) => errors.update(|es| es.push(e.message)),
                }
            }
            busy.set(false);
        });
    };

    let on_files = move |ev: leptos::ev::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        let Some(list) = input.files() else {
            return;
        };
        let chosen: Vec<web_sys::File> = (0..list.length()).filter_map(|i| list.get(i)).collect();
        input.set_value("");
        spawn_local(async move {
            let mut inputs = Vec::new();
            for f in chosen {
                match files::read_bytes(&f).await {
                    Ok(bytes) => inputs.push(VerifyInput::File {
                        name: f.name(),
                        base64: files::base64(&bytes),
                    }),
                    Err(why) => errors.update(|es| es.push(format!("{}: {why}", f.name()))),
                }
            }
            if !inputs.is_empty() {
                run(inputs);
            }
        });
    };

    let on_document = move |ev: leptos::ev::Event| {
        let Some(f) = files::take_chosen(&ev) else {
            document.set(None);
            return;
        };
        spawn_local(async move {
            match files::read_bytes(&f).await {
                Ok(bytes) => document.set(Some(FileData {
                    name: f.name(),
                    base64: files::base64(&bytes),
                })),
                Err(why) => errors.update(|es| es.push(format!("{}: {why}", f.name()))),
            }
        });
    };

    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let text = typed.get_untracked();
        if !text.trim().is_empty() {
            run(vec![typed_input(&text)]);
        }
    };

    let on_code = Callback::new(move |code: String| {
        run(vec![VerifyInput::Payload {
            text: code,
            origin: Origin::Camera,
        }])
    });

    let not_configured = move || matches!(app.state(), Some(NodeState::NotConfigured));
    view! {
        <PageHeader title=|t| t.verify_title intro=|t| t.verify_intro/>
        <Show when=not_configured>
            <section class="panel notice" id="verify-needs-network">
                <p>{move || texts.get().verify_needs_network}</p>
                <button
                    class="button primary"
                    id="verify-go-network"
                    on:click=move |_| app.page.set(Page::Network)
                >
                    {move || texts.get().go_to_network}
                </button>
            </section>
        </Show>
        <section class="panel verify-inputs">
            <CameraScanner on_code=on_code/>
            <div class="verify-row">
                <label class="button" for="verify-file">
                    {move || texts.get().verify_open_files}
                </label>
                <input
                    type="file"
                    id="verify-file"
                    class="visually-hidden"
                    multiple=true
                    accept="image/png,image/jpeg,image/webp,application/pdf,.png,.jpg,.jpeg,.webp,.pdf"
                    on:change=on_files
                />
                <label class="button" for="verify-document">
                    {move || texts.get().verify_document}
                </label>
                <input
                    type="file"
                    id="verify-document"
                    class="visually-hidden"
                    on:change=on_document
                />
            </div>
            <label class="check">
                <input
                    type="checkbox"
                    id="verify-offline"
                    prop:checked=move || offline_only.get()
                    on:change=move |ev| offline_only.set(event_target_checked(&ev))
                />
                <span>{move || texts.get().verify_offline_only}</span>
            </label>
            {move || {
                document
                    .get()
                    .map(|d| {
                        view! {
                            <p class="muted" id="verify-document-name">
                                {fill(texts.get().verify_document_chosen, &[&d.name])}
                            </p>
                        }
                    })
            }}
            <form class="verify-row" on:submit=on_submit>
                <label class="field">
                    <span>{move || texts.get().verify_text_label}</span>
                    <input
                        type="text"
                        id="verify-text"
                        autocomplete="off"
                        spellcheck="false"
                        prop:value=move || typed.get()
                        on:input=move |ev| typed.set(event_target_value(&ev))
                    />
                </label>
                <button class="button primary" id="verify-submit" type="submit" disabled=move || busy.get()>
                    {move || texts.get().verify_submit}
                </button>
            </form>
        </section>
        <Show when=move || busy.get()>
            <p class="muted" id="verify-busy" role="status">{move || texts.get().verify_checking}</p>
        </Show>
        <div id="verify-errors" role="alert">
            {move || {
                errors
                    .get()
                    .into_iter()
                    .map(|e| view! { <p class="error-text verify-error">{e}</p> })
                    .collect_view()
            }}
        </div>
        <div id="verify-results">
            {move || {
                reports
                    .get()
                    .into_iter()
                    .map(|r| view! { <ReportCard report=r/> })
                    .collect_view()
            }}
        </div>
    }
}

/// One verdict: the word, the sentence, the certificate, and the evidence folded away.
#[component]
pub fn ReportCard(report: VerifyReport) -> impl IntoView {
    let texts = use_app().texts;
    let v = report.verdict;
    let cert = report.certificate.clone();
    let ev = report.evidence.clone();
    let id = report.certificate_id.clone().unwrap_or_default();
    let file = report.file.clone();
    let said = report.clone();
    view! {
        <article
            class=format!("report tone-{}", tone(v))
            data-verdict=v.as_str()
            data-certificate=id.clone()
        >
            <h2 class="report-verdict">{move || headline(texts.get(), v)}</h2>
            <p class="report-reason">{move || sentence(texts.get(), &said)}</p>
            <OfflineNote evidence=ev.clone()/>
            <RecheckNote mode=ev.mode recheck=report.recheck/>
            {file.map(|f| view! { <p class="muted report-file">{f}</p> })}
            <dl class="report-fields">
                {(!id.is_empty()).then(|| view! {
                    <dt>{move || texts.get().field_certificate}</dt><dd>{id.clone()}</dd>
                })}
                {cert.map(|c| {
                    let dates = format!("{} – {}", date(c.issued_at), date(c.expires_at));
                    let route = format!("{} → {}", c.origin, c.destination);
                    view! {
                        <dt>{move || texts.get().field_kind}</dt><dd>{c.kind.replace('_', " ")}</dd>
                        <dt>{move || texts.get().field_exporter}</dt><dd>{c.exporter}</dd>
                        <dt>{move || texts.get().field_importer}</dt><dd>{c.importer}</dd>
                        <dt>{move || texts.get().field_goods}</dt><dd>{c.goods}</dd>
                        <dt>{move || texts.get().field_route}</dt><dd>{route}</dd>
                        <dt>{move || texts.get().field_dates}</dt><dd>{dates}</dd>
                    }
                })}
            </dl>
            <details class="report-evidence">
                <summary>{move || texts.get().verify_details}</summary>
                <dl>
                    <dt>{move || texts.get().field_mode}</dt><dd>{ev.mode.as_str()}</dd>
                    {ev.issuer.clone().map(|i| view! {
                        <dt>{move || texts.get().field_issuer}</dt>
                        <dd>{format!("{} ({}, {}) — {}", i.legal_name, i.id, i.country, i.status)}</dd>
                    })}
                    {ev.proven_height.map(|h| view! {
                        <dt>{move || texts.get().field_proven}</dt>
                        <dd class="report-height">{h.to_string()}</dd>
                    })}
                    {ev.header_time.clone().map(|t| view! {
                        <dt>{move || texts.get().field_header_time}</dt><dd>{t}</dd>
                    })}
                    {ev.record.clone().map(|r| view! {
                        <dt>{move || texts.get().field_registered}</dt>
                        <dd>{format!("{} ({})", r.registered_height, moment(r.registered_time))}</dd>
                    })}
                    {(!ev.nodes.is_empty()).then(|| view! {
                        <dt>{move || texts.get().field_nodes}</dt><dd>{ev.nodes.join(", ")}</dd>
                    })}
                    {ev.document_matches.map(|m| view! {
                        <dt>{move || texts.get().field_document}</dt>
                        <dd>{move || if m { texts.get().document_matches } else { texts.get().document_differs }}</dd>
                    })}
                    {ev.cannot_verify.map(CannotVerify::as_str).or(ev.not_ours.map(NotOurs::as_str)).or(ev.mismatch.map(Mismatch::as_str)).map(|why| view! {
                        <dt>{move || texts.get().field_why}</dt>
                        <dd>{format!("{why}{}", ev.detail.clone().map(|d| format!(": {d}")).unwrap_or_default())}</dd>
                    })}
                </dl>
            </details>
        </article>
    }
}

/// An offline verdict says so plainly: as of when and which block, and that whether the
/// certificate was registered cannot be known offline; a loud warning when the knowledge is
/// past the user's warning age; and, when it refused, why (too old, or none).
#[component]
fn OfflineNote(evidence: Evidence) -> impl IntoView {
    let texts = use_app().texts;
    let freshness = evidence.freshness.map(|f| {
        let (age, height, stale, warn_after) =
            (f.age_secs, f.as_of_height, f.stale, f.warn_after_secs);
        view! {
            <p class="report-offline" data-stale=stale.to_string()>
                {move || {
                    let t = texts.get();
                    fill(t.offline_as_of, &[&ago(t, age), &grouped(t, height)])
                }}
            </p>
            {stale.then(|| view! {
                <p class="report-offline-warning" role="alert">
                    {move || {
                        let t = texts.get();
                        let hours = warn_after / 3_600;
                        let limit = if hours == 1 {
                            span(t, warn_after)
                        } else {
                            fill(t.hours, &[&hours.to_string()])
                        };
                        fill(t.offline_stale_warning, &[&limit])
                    }}
                </p>
            })}
        }
    });
    let refusal: Option<Text> = match evidence.cannot_verify {
        Some(CannotVerify::OfflineDataTooOld) => Some(|t| t.offline_too_old_refusal),
        Some(CannotVerify::OfflineDataMissing) => Some(|t| t.offline_missing_refusal),
        _ => None,
    };
    view! {
        {freshness}
        {refusal.map(|r| view! {
            <p class="report-offline-refusal" role="alert">{move || r(texts.get())}</p>
        })}
    }
}

/// For an offline verdict: its online re-check (same, or CHANGED to another verdict), or
/// that it is still to be made.
#[component]
pub fn RecheckNote(mode: Mode, recheck: Option<Recheck>) -> impl IntoView {
    let texts = use_app().texts;
    match (mode, recheck) {
        (_, Some(c)) if c.changed => {
            let now = c.verdict;
            Some(view! {
                <p class="recheck recheck-changed" data-recheck="changed" data-now=now.as_str()>
                    {move || { let t = texts.get(); fill(t.recheck_changed, &[headline(t, now)]) }}
                </p>
            }.into_any())
        }
        (_, Some(_)) => Some(
            view! {
                <p class="recheck recheck-same" data-recheck="same">
                    {move || texts.get().recheck_same}
                </p>
            }
            .into_any(),
        ),
        (Mode::Offline, None) => Some(
            view! {
                <p class="recheck recheck-pending" data-recheck="pending">
                    {move || texts.get().recheck_pending}
                </p>
            }
            .into_any(),
        ),
        (Mode::Online, None) => None,
    }
}

/// The live camera with its frame guide; calls `on_code` with the first code read.
#[component]
fn CameraScanner(on_code: Callback<String>) -> impl IntoView {
    let texts = use_app().texts;
    let running = RwSignal::new(false);
    let error = RwSignal::new(None::<CameraError>);
    let facing = RwSignal::new("environment");
    let torch_available = RwSignal::new(false);
    let torch_on = RwSignal::new(false);
    let stream = StoredValue::new_local(None::<web_sys::MediaStream>);
    let video_ref = NodeRef::<leptos::html::Video>::new();
    let canvas_ref = NodeRef::<leptos::html::Canvas>::new();

    let stop = move || {
        running.set(false);
        torch_on.set(false);
        if let Some(s) = stream.get_value() {
            camera::close(&s);
        }
        stream.set_value(None);
    };

    let start = move || {
        let (Some(video), Some(canvas)) = (video_ref.get_untracked(), canvas_ref.get_untracked())
        else {
            return;
        };
        let video: web_sys::HtmlVideoElement = video.unchecked_into();
        let canvas: web_sys::HtmlCanvasElement = canvas.unchecked_into();
        error.set(None);
        running.set(true);
        spawn_local(async move {
            match camera::open(&video, facing.get_untracked()).await {
                Ok(s) => {
                    torch_available.set(camera::has_torch(&s));
                    stream.set_value(Some(s));
                }
                Err(e) => {
                    running.set(false);
                    error.set(Some(e));
                    return;
                }
            }
            if let Some(code) = camera::scan(video, canvas, running).await {
                stop();
                on_code.run(code);
            }
        });
    };

    on_cleanup(stop);

    view! {
        <div class="camera">
            <div class="camera-view" class:hidden=move || !running.get()>
                <video node_ref=video_ref id="verify-video" autoplay=true muted=true></video>
                <div class="camera-guide" aria-hidden="true"></div>
                <p class="camera-hint">{move || texts.get().verify_camera_hint}</p>
            </div>
            <canvas node_ref=canvas_ref class="hidden"></canvas>
            <div class="verify-row">
                <Show
                    when=move || running.get()
                    fallback=move || view! {
                        <button class="button primary" id="verify-scan" on:click=move |_| start()>
                            {move || texts.get().verify_scan}
                        </button>
                    }
                >
                    <button class="button" id="verify-scan-stop" on:click=move |_| stop()>
                        {move || texts.get().verify_scan_stop}
                    </button>
                    <button
                        class="button"
                        id="verify-switch-camera"
                        on:click=move |_| {
                            stop();
                            facing.update(|f| *f = if *f == "environment" { "user" } else { "environment" });
                            start();
                        }
                    >
                        {move || texts.get().verify_switch_camera}
                    </button>
                    <Show when=move || torch_available.get()>
                        <button
                            class="button"
                            id="verify-torch"
                            aria-pressed=move || torch_on.get().to_string()
                            on:click=move |_| {
                                let on = !torch_on.get_untracked();
                                if let Some(s) = stream.get_value() {
                                    camera::set_torch(&s, on);
                                }
                                torch_on.set(on);
                            }
                        >
                            {move || texts.get().verify_torch}
                        </button>
                    </Show>
                </Show>
            </div>
            {move || error.get().map(|e| {
                let t = texts.get();
                let text = match e {
                    CameraError::NoCamera => t.verify_no_camera.to_owned(),
                    CameraError::Denied => t.verify_camera_denied.to_owned(),
                    CameraError::Other(why) => format!("{}: {why}", t.verify_no_camera),
                };
                view! { <p class="error-text" id="verify-camera-error" role="alert">{text}</p> }
            })}
        </div>
    }
}

//! The Issue page: the issuer's clerk fills in a certificate (kind, parties, goods, origin,
//! dates, an optional PDF document), reviews exactly what the key will sign (`issue_prepare`),
//! signs and registers it (`sign_confirm`, a token's PIN asked here), waits for the proof,
//! then downloads its QR code (PNG, SVG) with the print size and the printable PDF.

use leptos::{ev::SubmitEvent, prelude::*, task::spawn_local};
use tradeseal_api::{FileData, IssuePrepare, IssuedFiles, KeyView, SignConfirm, SignReview};

use crate::{
    app::use_app,
    files,
    i18n::fill,
    pages::{form::Field, PageHeader},
};

/// The certificate kinds, in the order of `Texts::issue_kinds`.
const KINDS: [&str; 9] = [
    "certificate_of_origin",
    "phytosanitary",
    "veterinary",
    "import_licence",
    "export_licence",
    "permit",
    "conformity",
    "fumigation",
    "aeo_authorisation",
];

/// The form's fields, as typed.
#[derive(Clone, Copy)]
struct Fields {
    kind: RwSignal<String>,
    issuer: RwSignal<String>,
    serial: RwSignal<String>,
    exporter_name: RwSignal<String>,
    exporter_country: RwSignal<String>,
    exporter_id: RwSignal<String>,
    importer_name: RwSignal<String>,
    importer_country: RwSignal<String>,
    importer_id: RwSignal<String>,
    goods: RwSignal<String>,
    hs_code: RwSignal<String>,
    quantity: RwSignal<String>,
    unit: RwSignal<String>,
    origin: RwSignal<String>,
    destination: RwSignal<String>,
    valid_days: RwSignal<String>,
    transport: RwSignal<String>,
    invoice: RwSignal<String>,
    remarks: RwSignal<String>,
}

impl Fields {
    fn new() -> Fields {
        let s = |v: &str| RwSignal::new(v.to_owned());
        Fields {
            kind: s("phytosanitary"),
            issuer: s(""),
            serial: s(""),
            exporter_name: s(""),
            exporter_country: s(""),
            exporter_id: s(""),
            importer_name: s(""),
            importer_country: s(""),
            importer_id: s(""),
            goods: s(""),
            hs_code: s(""),
            quantity: s(""),
            unit: s("KGM"),
            origin: s(""),
            destination: s(""),
            valid_days: s("14"),
            transport: s(""),
            invoice: s(""),
            remarks: s(""),
        }
    }

    /// The form as `tradeseal-cli issue --form` reads it; the backend checks every field.
    fn to_json(self) -> String {
        let g = |s: RwSignal<String>| serde_json::Value::String(s.get_untracked());
        let days = self.valid_days.get_untracked();
        let valid_days = days
            .trim()
            .parse::<u32>()
            .map(serde_json::Value::from)
            .unwrap_or(serde_json::Value::Null);
        serde_json::json!({
            "kind": g(self.kind),
            "issuer": g(self.issuer),
            "serial": g(self.serial),
            "exporter": {"name": g(self.exporter_name), "country": g(self.exporter_country),
                         "identifier": g(self.exporter_id)},
            "importer": {"name": g(self.importer_name), "country": g(self.importer_country),
                         "identifier": g(self.importer_id)},
            "goods": {"description": g(self.goods), "hs_code": g(self.hs_code),
                      "quantity": g(self.quantity), "unit": g(self.unit)},
            "origin": g(self.origin),
            "destination": g(self.destination),
            "valid_days": valid_days,
            "transport": g(self.transport),
            "invoice": g(self.invoice),
            "remarks": g(self.remarks),
        })
        .to_string()
    }
}

/// Where the page is.
#[derive(Clone, Debug, PartialEq)]
enum Step {
    Form,
    Review(SignReview),
    /// Signed and queued: the outbox entry, waiting for the proof.
    Waiting(i64),
    Done(Box<IssuedFiles>),
}

fn download_b64(name: &str, mime: &str, b64: &str) -> Result<(), String> {
    files::download_bytes(name, mime, &files::from_base64(b64)?)
}

#[component]
pub fn IssuePage() -> impl IntoView {
    let app = use_app();
    let texts = app.texts;
    let f = Fields::new();
    let keys = RwSignal::new(Vec::<KeyView>::new());
    let key = RwSignal::new(String::new());
    let attachment = RwSignal::new(None::<FileData>);
    let pin = RwSignal::new(String::new());
    let step = RwSignal::new(Step::Form);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);

    spawn_local(async move {
        match crate::backend::keys_list().await {
            Ok(list) => {
                if let Some(first) = list.first() {
                    key.set(first.label.clone());
                }
                keys.set(list);
            }
            Err(e) => error.set(Some(e.message)),
        }
    });

    let on_attachment = move |ev: leptos::ev::Event| {
        let Some(file) = files::take_chosen(&ev) else {
            attachment.set(None);
            return;
        };
        spawn_local(async move {
            match files::read_bytes(&file).await {
                Ok(bytes) => attachment.set(Some(FileData {
                    name: file.name(),
                    base64: files::base64(&bytes),
                })),
                Err(why) => error.set(Some(format!("{}: {why}", file.name()))),
            }
        });
    };

    let on_review = move |ev: SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        error.set(None);
        let request = IssuePrepare {
            key_label: key.get_untracked(),
            form_json: f.to_json(),
            attachment: attachment.get_untracked(),
        };
        spawn_local(async move {
            match crate::backend::issue_prepare(&request).await {
                Ok(review) => step.set(Step::Review(review)),
                Err(e) => error.set(Some(e.message)),
            }
            busy.set(false);
        });
    };

    // Submits and asks for the files until the proof is in (or the registry refused it).
    let wait = move |outbox_id: i64| {
        spawn_local(async move {
            for _ in 0..30 {
                let _ = crate::backend::outbox_submit().await;
                match crate::backend::issue_files(outbox_id).await {
                    Ok(files) if files.state == "confirmed" => {
                        step.set(Step::Done(Box::new(files)));
                        busy.set(false);
                        return;
                    }
                    Ok(_) => {}
                    Err(e) => {
                        error.set(Some(e.message));
                        busy.set(false);
                        return;
                    }
                }
                crate::camera::sleep(1000).await;
            }
            busy.set(false);
            error.set(Some(texts.get_untracked().issue_not_yet.to_owned()));
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
            pin: (!typed.is_empty()).then_some(typed),
        };
        spawn_local(async move {
            match crate::backend::sign_confirm(&request).await {
                Ok(item) if item.state == "failed" => {
                    busy.set(false);
                    error.set(Some(fill(
                        texts.get_untracked().issue_refused,
                        &[&item.reason.unwrap_or_default()],
                    )));
                }
                Ok(item) => {
                    step.set(Step::Waiting(item.id));
                    wait(item.id);
                }
                Err(e) => {
                    busy.set(false);
                    error.set(Some(e.message));
                }
            }
        });
    };

    let token_key = move || {
        keys.get()
            .iter()
            .any(|k| k.label == key.get() && k.backend == "pkcs11")
    };

    let form = move || {
        view! {
            <form class="panel issue-form" id="issue-form" on:submit=on_review>
                <div class="verify-row">
                    <label class="field">
                        <span class="field-label">{move || texts.get().issue_key}</span>
                        <select
                            id="issue-key"
                            on:change=move |ev| key.set(event_target_value(&ev))
                            prop:value=move || key.get()
                        >
                            {move || {
                                keys.get()
                                    .into_iter()
                                    .map(|k| {
                                        let value = k.label.clone();
                                        view! { <option value=value>{k.label}</option> }
                                    })
                                    .collect_view()
                            }}
                        </select>
                    </label>
                    <label class="field">
                        <span class="field-label">{move || texts.get().issue_kind}</span>
                        <select
                            id="issue-kind"
                            on:change=move |ev| f.kind.set(event_target_value(&ev))
                            prop:value=move || f.kind.get()
                        >
                            {KINDS
                                .iter()
                                .enumerate()
                                .map(|(i, k)| {
                                    view! {
                                        <option value=*k>{move || texts.get().issue_kinds[i]}</option>
                                    }
                                })
                                .collect_view()}
                        </select>
                    </label>
                    <Field id="issue-issuer" label=|t| t.issue_issuer value=f.issuer required=true/>
                    <Field id="issue-serial" label=|t| t.issue_serial value=f.serial required=true/>
                </div>
                <fieldset>
                    <legend>{move || texts.get().issue_exporter}</legend>
                    <div class="verify-row">
                        <Field id="issue-exporter-name" label=|t| t.issue_party_name value=f.exporter_name required=true wide=true/>
                        <Field id="issue-exporter-country" label=|t| t.issue_country value=f.exporter_country required=true/>
                        <Field id="issue-exporter-id" label=|t| t.issue_identifier value=f.exporter_id/>
                    </div>
                </fieldset>
                <fieldset>
                    <legend>{move || texts.get().issue_importer}</legend>
                    <div class="verify-row">
                        <Field id="issue-importer-name" label=|t| t.issue_party_name value=f.importer_name required=true wide=true/>
                        <Field id="issue-importer-country" label=|t| t.issue_country value=f.importer_country required=true/>
                        <Field id="issue-importer-id" label=|t| t.issue_identifier value=f.importer_id/>
                    </div>
                </fieldset>
                <fieldset>
                    <legend>{move || texts.get().issue_goods}</legend>
                    <div class="verify-row">
                        <Field id="issue-goods" label=|t| t.issue_goods_description value=f.goods required=true wide=true/>
                        <Field id="issue-hs-code" label=|t| t.issue_hs_code value=f.hs_code required=true/>
                        <Field id="issue-quantity" label=|t| t.issue_quantity value=f.quantity required=true/>
                        <Field id="issue-unit" label=|t| t.issue_unit value=f.unit required=true/>
                    </div>
                </fieldset>
                <div class="verify-row">
                    <Field id="issue-origin" label=|t| t.issue_origin value=f.origin required=true/>
                    <Field id="issue-destination" label=|t| t.issue_destination value=f.destination required=true/>
                    <Field id="issue-valid-days" label=|t| t.issue_valid_days value=f.valid_days required=true/>
                </div>
                <div class="verify-row">
                    <Field id="issue-transport" label=|t| t.issue_transport value=f.transport wide=true/>
                    <Field id="issue-invoice" label=|t| t.issue_invoice value=f.invoice/>
                </div>
                <div class="verify-row">
                    <Field id="issue-remarks" label=|t| t.issue_remarks value=f.remarks wide=true/>
                </div>
                <div class="verify-row">
                    <label class="button" for="issue-attachment">
                        {move || texts.get().issue_attachment}
                    </label>
                    <input
                        type="file"
                        id="issue-attachment"
                        class="visually-hidden"
                        accept="application/pdf,.pdf"
                        on:change=on_attachment
                    />
                    <span class="muted" id="issue-attachment-name">
                        {move || match attachment.get() {
                            Some(a) => a.name,
                            None => texts.get().issue_attachment_none.to_owned(),
                        }}
                    </span>
                </div>
                <button class="button primary" id="issue-review" type="submit" disabled=move || busy.get()>
                    {move || texts.get().issue_review}
                </button>
            </form>
        }
    };

    let review = move |r: SignReview| {
        view! {
            <section class="panel" id="issue-review-panel">
                <h2>{move || texts.get().issue_review_title}</h2>
                <p>{r.summary.clone()}</p>
                <dl class="report-fields">
                    {r.fields
                        .iter()
                        .map(|l| view! { <dt>{l.label.clone()}</dt><dd data-field=l.name.clone()>{l.value.clone()}</dd> })
                        .collect_view()}
                </dl>
                <ul class="muted">
                    {r.checks.iter().map(|c| view! { <li>{c.clone()}</li> }).collect_view()}
                </ul>
                <Show when=token_key>
                    <label class="field">
                        <span class="field-label">{move || texts.get().issue_pin}</span>
                        <input
                            type="password"
                            id="issue-pin"
                            autocomplete="off"
                            prop:value=move || pin.get()
                            on:input=move |ev| pin.set(event_target_value(&ev))
                        />
                    </label>
                </Show>
                <div class="verify-row">
                    <button class="button" id="issue-back" on:click=move |_| step.set(Step::Form)>
                        {move || texts.get().issue_back}
                    </button>
                    <button class="button primary" id="issue-sign" disabled=move || busy.get() on:click=on_sign>
                        {move || texts.get().issue_sign}
                    </button>
                </div>
            </section>
        }
    };

    let done = move |files: IssuedFiles| {
        let t = texts.get();
        let png_src = format!("data:image/png;base64,{}", files.png_base64);
        let size = fill(
            t.issue_print_size,
            &[
                &files.print.side_mm.to_string(),
                &files.print.min_side_mm.to_string(),
                &files.print.module_mm.to_string(),
            ],
        );
        let stem = files.file_stem.clone();
        let (png, svg, pdf) = (
            files.png_base64.clone(),
            files.svg.clone(),
            files.pdf_base64.clone(),
        );
        let download = move |r: Result<(), String>| {
            if let Err(e) = r {
                error.set(Some(e));
            }
        };
        let (s1, s2, s3) = (stem.clone(), stem.clone(), stem);
        view! {
            <section class="panel" id="issue-done" data-certificate=files.cert_id.clone()>
                <h2>{fill(t.issue_done, &[&files.cert_id])}</h2>
                <img class="issue-qr" id="issue-qr" src=png_src alt=files.cert_id.clone() width="240" height="240"/>
                <p id="issue-print-size">{size}</p>
                {(!files.unprintable_fields.is_empty()).then(|| view! {
                    <p class="muted">{fill(t.issue_unprintable, &[&files.unprintable_fields.join(", ")])}</p>
                })}
                <div class="verify-row">
                    <button class="button primary" id="issue-download-pdf"
                        on:click=move |_| download(download_b64(&format!("{s1}.pdf"), "application/pdf", &pdf))>
                        {t.issue_download_pdf}
                    </button>
                    <button class="button" id="issue-download-png"
                        on:click=move |_| download(download_b64(&format!("{s2}.png"), "image/png", &png))>
                        {t.issue_download_png}
                    </button>
                    <button class="button" id="issue-download-svg"
                        on:click=move |_| download(files::download(&format!("{s3}.svg"), "image/svg+xml", &svg))>
                        {t.issue_download_svg}
                    </button>
                    <button class="button" id="issue-another" on:click=move |_| step.set(Step::Form)>
                        {t.issue_another}
                    </button>
                </div>
            </section>
        }
    };

    view! {
        <PageHeader title=|t| t.issue_title intro=|t| t.issue_intro/>
        <Show when=move || keys.get().is_empty()>
            <p class="muted" id="issue-no-keys">{move || texts.get().issue_no_keys}</p>
        </Show>
        {move || match step.get() {
            Step::Form => form().into_any(),
            Step::Review(r) => review(r).into_any(),
            Step::Waiting(_) => view! {
                <p class="muted" id="issue-waiting" role="status">{move || texts.get().issue_waiting}</p>
            }
            .into_any(),
            Step::Done(files) => done(*files).into_any(),
        }}
        <div id="issue-errors" role="alert">
            {move || error.get().map(|e| view! { <p class="error-text">{e}</p> })}
        </div>
    }
}

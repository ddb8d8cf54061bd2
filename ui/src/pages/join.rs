//! Joining a network: load a chain config from a file, from an image of its QR code, or paste
//! its text; see what it would trust (the preview), then trust it, confirming when it replaces
//! the chain in use.

use leptos::{ev::SubmitEvent, prelude::*, task::spawn_local};
use tradeseal_api::{ChainImport, ChainPreview, ChainSummary, ErrorCode};

use crate::{
    app::use_app,
    backend, describe, files,
    i18n::{fill, Text},
};

/// What the import screen shows below the inputs.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    /// Nothing read yet.
    Empty,
    /// The preview of `text`, waiting for "Trust this network".
    Preview { text: String, preview: ChainPreview },
    /// The backend asked to confirm replacing the chain in use.
    Confirm { text: String, preview: ChainPreview },
}

/// The import screen, headed `title` ("Join a network" unless told). `cancellable` adds a
/// button that closes it (when a chain is in use).
#[component]
pub fn JoinNetwork(
    #[prop(optional)] cancellable: bool,
    #[prop(optional)] title: Option<Text>,
) -> impl IntoView {
    let app = use_app();
    let texts = app.texts;
    let pasted = RwSignal::new(String::new());
    let step = RwSignal::new(Step::Empty);
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);

    let preview = move |text: String| {
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            match backend::chain_preview(&text).await {
                Ok(preview) => step.set(Step::Preview { text, preview }),
                Err(e) => {
                    step.set(Step::Empty);
                    error.set(Some(e.message));
                }
            }
            busy.set(false);
        });
    };

    let trust = move |confirm_replace: bool| {
        let (Step::Preview { text, preview } | Step::Confirm { text, preview }) =
            step.get_untracked()
        else {
            return;
        };
        busy.set(true);
        error.set(None);
        let mark = app.status_mark();
        spawn_local(async move {
            let import = ChainImport {
                text: text.clone(),
                confirm_replace,
            };
            match backend::chain_import(&import).await {
                Ok(status) => {
                    step.set(Step::Empty);
                    pasted.set(String::new());
                    app.joining.set(false);
                    app.offer_status(mark, status);
                }
                Err(e) if e.code == ErrorCode::ConfirmationRequired && !confirm_replace => {
                    step.set(Step::Confirm { text, preview });
                }
                Err(e) => error.set(Some(e.message)),
            }
            busy.set(false);
        });
    };

    let on_file = move |ev: leptos::ev::Event| {
        let Some(file) = files::take_chosen(&ev) else {
            return;
        };
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            match files::read_text(&file).await {
                Ok(text) => {
                    pasted.set(text.clone());
                    preview(text);
                }
                Err(why) => {
                    busy.set(false);
                    let why = describe::isolate(&why);
                    error.set(Some(fill(texts.get_untracked().join_file_failed, &[&why])));
                }
            }
        });
    };

    // An image of the config's QR code goes to the backend as a `data:` URL, which decodes
    // it and previews and imports it as it does the text; the text box is left as it was.
    let on_image = move |ev: leptos::ev::Event| {
        let Some(file) = files::take_chosen(&ev) else {
            return;
        };
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            match files::read_bytes(&file).await {
                Ok(bytes) => {
                    let mime = match file.type_() {
                        t if t.starts_with("image/") => t,
                        _ => "image/png".to_owned(),
                    };
                    preview(format!("data:{mime};base64,{}", files::base64(&bytes)));
                }
                Err(why) => {
                    busy.set(false);
                    let why = describe::isolate(&why);
                    error.set(Some(fill(texts.get_untracked().join_file_failed, &[&why])));
                }
            }
        });
    };

    let on_paste_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let text = pasted.get_untracked();
        if !text.trim().is_empty() {
            preview(text);
        }
    };

    let replaced_chain = move || {
        app.status
            .get()
            .and_then(|s| s.ok())
            .and_then(|s| s.chain)
            .map(|c| c.chain_id)
    };

    view! {
        <section class="card join" id="join-network">
            <h2>{move || title.unwrap_or(|t| t.join_title)(texts.get())}</h2>
            <p class="note">{move || texts.get().join_intro}</p>
            <label class="button primary file-button" id="chain-file-label">
                <input
                    type="file"
                    id="chain-file"
                    class="visually-hidden"
                    accept=".json,application/json,text/plain"
                    on:change=on_file
                />
                {move || texts.get().join_file}
            </label>
            " "
            <label class="button file-button" id="chain-qr-label">
                <input
                    type="file"
                    id="chain-qr-file"
                    class="visually-hidden"
                    accept="image/png,image/jpeg,image/webp"
                    on:change=on_image
                />
                {move || texts.get().join_qr}
            </label>
            <form class="paste" id="chain-paste-form" novalidate on:submit=on_paste_submit>
                <label class="field">
                    <span class="field-label">{move || texts.get().join_paste}</span>
                    <textarea
                        id="chain-paste"
                        rows="5"
                        dir="auto"
                        spellcheck="false"
                        placeholder=move || texts.get().join_paste_placeholder
                        prop:value=move || pasted.get()
                        on:input=move |ev| {
                            pasted.set(event_target_value(&ev));
                            step.set(Step::Empty);
                            error.set(None);
                        }
                    ></textarea>
                </label>
                <button
                    type="submit"
                    class="button"
                    id="chain-preview-button"
                    disabled=move || busy.get() || pasted.with(|p| p.trim().is_empty())
                >
                    {move || texts.get().join_show_preview}
                </button>
            </form>
            <p class="error" id="chain-error" role="alert">{move || error.get()}</p>
            <p class="note" aria-live="polite">
                {move || busy.get().then(|| texts.get().busy)}
            </p>
            {move || match step.get() {
                Step::Empty => ().into_any(),
                Step::Preview { preview, .. } => {
                    view! {
                        <Preview preview/>
                        <button
                            class="button primary"
                            id="chain-trust"
                            disabled=move || busy.get()
                            on:click=move |_| trust(false)
                        >
                            {move || texts.get().join_trust}
                        </button>
                    }
                        .into_any()
                }
                Step::Confirm { preview, .. } => {
                    let question = move || {
                        let t = texts.get();
                        match replaced_chain() {
                            Some(chain) => fill(t.join_confirm_text, &[&describe::isolate(&chain)]),
                            None => t.join_replaces.to_owned(),
                        }
                    };
                    view! {
                        <Preview preview/>
                        <div class="confirm" id="chain-confirm-replace" role="alertdialog">
                            <p id="chain-confirm-text">{question}</p>
                            <div class="actions">
                                <button
                                    class="button danger"
                                    id="chain-confirm"
                                    disabled=move || busy.get()
                                    on:click=move |_| trust(true)
                                >
                                    {move || texts.get().join_confirm}
                                </button>
                                <button
                                    class="button"
                                    id="chain-confirm-cancel"
                                    on:click=move |_| {
                                        if let Step::Confirm { text, preview } = step.get_untracked() {
                                            step.set(Step::Preview { text, preview });
                                        }
                                    }
                                >
                                    {move || texts.get().join_keep}
                                </button>
                            </div>
                        </div>
                    }
                        .into_any()
                }
            }}
            {cancellable
                .then(|| {
                    view! {
                        <div class="actions">
                            <button
                                class="button"
                                id="join-close"
                                on:click=move |_| app.joining.set(false)
                            >
                                {move || texts.get().join_close}
                            </button>
                        </div>
                    }
                })}
        </section>
    }
}

/// What a chain config would trust, shown before trusting it.
#[component]
fn Preview(preview: ChainPreview) -> impl IntoView {
    let texts = use_app().texts;
    let replaces = preview.replaces_current;
    view! {
        <div class="preview" id="chain-preview">
            <h3>{move || texts.get().join_preview_title}</h3>
            <ChainFacts chain=preview.chain.clone() prefix="preview-"/>
            <p class="note">{move || texts.get().join_preview_hint}</p>
            <h4>{move || texts.get().join_nodes}</h4>
            <ul class="plain preview-nodes" id="preview-chain-nodes">
                <li data-role="primary">
                    <bdi class="mono">{preview.chain.primary.clone()}</bdi>
                    " "
                    <span class="badge">{move || texts.get().role_primary}</span>
                </li>
                {preview
                    .chain
                    .witnesses
                    .iter()
                    .cloned()
                    .map(|w| {
                        view! {
                            <li data-role="witness">
                                <bdi class="mono">{w}</bdi>
                                " "
                                <span class="badge">{move || texts.get().role_witness}</span>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
            {replaces
                .then(|| {
                    view! {
                        <p class="warning" id="preview-replaces">
                            {move || texts.get().join_replaces}
                        </p>
                    }
                })}
        </div>
    }
}

/// The root of trust as facts: chain id, checkpoint height and hash, fingerprint, trusting
/// period. Element ids start with `prefix` (`chain-id`, `preview-chain-id`, …).
#[component]
pub fn ChainFacts(chain: ChainSummary, prefix: &'static str) -> impl IntoView {
    let texts = use_app().texts;
    let period = chain.trusting_period_secs;
    view! {
        <dl class="facts">
            <dt>{move || texts.get().network_chain}</dt>
            <dd id=format!("{prefix}chain-id")>
                <bdi>{chain.chain_id}</bdi>
            </dd>
            <dt>{move || texts.get().network_checkpoint_height}</dt>
            <dd id=format!("{prefix}chain-checkpoint-height")>{chain.checkpoint_height}</dd>
            <dt>{move || texts.get().network_checkpoint_hash}</dt>
            <dd class="mono hash" id=format!("{prefix}chain-checkpoint-hash")>
                <bdi>{chain.checkpoint_hash}</bdi>
            </dd>
            <dt>{move || texts.get().network_fingerprint}</dt>
            <dd class="mono fingerprint" id=format!("{prefix}chain-fingerprint")>
                <bdi>{chain.fingerprint}</bdi>
            </dd>
            <dt>{move || texts.get().network_trusting_period}</dt>
            <dd id=format!("{prefix}chain-trusting-period")>
                {move || describe::period(texts.get(), period)}
            </dd>
        </dl>
    }
}

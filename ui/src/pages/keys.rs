//! The Keys page: the signing keys the wallet holds (label, public key as text and as a QR
//! code, where the secret is kept and what protects it, when it was added, development keys
//! marked), a key created in the OS credential store or a PKCS#11 token (library, slot and
//! label chosen here), a key imported from its backup words, a new key's backup words shown
//! once and some of them asked back, and a key deleted after confirmation.
//!
//! No secret passes through this page except a new key's backup words, once, and what the user
//! types (words to import, a token's PIN), which is sent inside the one request that needs it.

use std::fmt::Write as _;

use leptos::{ev::SubmitEvent, prelude::*, task::spawn_local};
use tradeseal_api::{
    ApiError, ErrorCode, KeyBackendChoice, KeyCreate, KeyDelete, KeyImport, KeyImportDev, KeyView,
    TokenChoice,
};

use crate::{
    app::use_app,
    backend,
    i18n::{fill, Texts},
    pages::{form::Field, verify::moment, PageHeader},
};

/// How many backup words the user types back to confirm the backup.
const WORDS_ASKED: usize = 3;

/// An error as this page and the Sign page show it: what the code means in the user's
/// language, then the backend's detail (a token's tries left, the registry's reason).
pub(crate) fn error_text(t: &Texts, e: &ApiError) -> String {
    let head = match e.code {
        ErrorCode::PinRequired => Some(t.err_pin_required),
        ErrorCode::WrongPin => Some(t.err_wrong_pin),
        ErrorCode::PinLocked => Some(t.err_pin_locked),
        ErrorCode::KeyStore => Some(t.err_key_store),
        ErrorCode::WouldBeRejected => Some(t.err_would_be_rejected),
        _ => None,
    };
    match head {
        Some(head) => format!("{head} {}", e.message),
        None => e.message.clone(),
    }
}

/// The error line (its code in `data-code`, for styles and tests).
pub(crate) fn error_view(error: RwSignal<Option<ApiError>>, id: &'static str) -> impl IntoView {
    let texts = use_app().texts;
    move || {
        error.get().map(|e| {
            let code = serde_plain_code(e.code);
            view! {
                <p class="error" role="alert" id=id data-code=code>
                    {error_text(texts.get(), &e)}
                </p>
            }
        })
    }
}

/// An error code's stable name (`wrong_pin`).
fn serde_plain_code(code: ErrorCode) -> String {
    let json = serde_wasm_bindgen::to_value(&code)
        .ok()
        .and_then(|v| v.as_string());
    json.unwrap_or_default()
}

/// A local check that failed, shown like the backend's errors.
pub(crate) fn invalid(text: &str) -> ApiError {
    ApiError::new(ErrorCode::InvalidRequest, text)
}

/// Where a key's secret goes, as the user picks it: the OS store, or a token (its library,
/// slot and label) with its PIN.
#[derive(Debug, Clone, Copy)]
struct StoreChoice {
    backend: RwSignal<String>,
    token_library: RwSignal<String>,
    slot: RwSignal<String>,
    token_label: RwSignal<String>,
    pin: RwSignal<String>,
}

impl StoreChoice {
    fn new() -> StoreChoice {
        StoreChoice {
            backend: RwSignal::new("keyring".to_owned()),
            token_library: RwSignal::new(String::new()),
            slot: RwSignal::new(String::new()),
            token_label: RwSignal::new(String::new()),
            pin: RwSignal::new(String::new()),
        }
    }

    /// The backend choice and the PIN; the PIN field is emptied.
    fn take(&self, t: &Texts) -> Result<(KeyBackendChoice, Option<String>), ApiError> {
        if self.backend.get_untracked() != "pkcs11" {
            return Ok((KeyBackendChoice::Keyring, None));
        }
        let library = self.token_library.get_untracked().trim().to_owned();
        if library.is_empty() {
            return Err(invalid(t.keys_need_library));
        }
        let slot = self.slot.get_untracked();
        let slot = match slot.trim() {
            "" => None,
            s => Some(s.parse::<u64>().map_err(|_| invalid(t.keys_bad_slot))?),
        };
        let label =
            Some(self.token_label.get_untracked().trim().to_owned()).filter(|l| !l.is_empty());
        let pin = self.pin.get_untracked();
        self.pin.set(String::new());
        Ok((
            KeyBackendChoice::Pkcs11 {
                token: TokenChoice {
                    library,
                    slot,
                    label,
                },
            },
            Some(pin).filter(|p| !p.is_empty()),
        ))
    }
}

/// The store chooser: the OS store or a token, and the token's library, slot, label and PIN.
#[component]
fn StoreFields(prefix: &'static str, store: StoreChoice) -> impl IntoView {
    let texts = use_app().texts;
    let id = move |what: &str| format!("{prefix}-{what}");
    view! {
        <label class="field">
            <span class="field-label">{move || texts.get().keys_store}</span>
            <select
                id=id("store")
                on:change=move |ev| store.backend.set(event_target_value(&ev))
                prop:value=move || store.backend.get()
            >
                <option value="keyring">{move || texts.get().keys_backend_keyring}</option>
                <option value="pkcs11">{move || texts.get().keys_backend_pkcs11}</option>
            </select>
        </label>
        <Show when=move || store.backend.get() == "pkcs11">
            <div class="token-fields">
                <Field id=id("library") label=|t| t.keys_library value=store.token_library/>
                <div class="verify-row">
                    <Field id=id("slot") label=|t| t.keys_slot value=store.slot/>
                    <Field id=id("token") label=|t| t.keys_token_label value=store.token_label/>
                    <Field id=id("pin") label=|t| t.keys_pin value=store.pin kind="password"/>
                </div>
            </div>
        </Show>
    }
}

/// `text` drawn as a QR code (SVG, dark modules on white with a 4-module quiet zone).
#[component]
pub(crate) fn QrCode(text: String) -> impl IntoView {
    let Ok(code) = qrcode::QrCode::new(text.as_bytes()) else {
        return ().into_any();
    };
    let width = code.width();
    let mut path = String::new();
    for (i, colour) in code.to_colors().iter().enumerate() {
        if *colour == qrcode::Color::Dark {
            let _ = write!(path, "M{} {}h1v1h-1z", i % width + 4, i / width + 4);
        }
    }
    let size = width + 8;
    view! {
        <svg class="key-qr" viewBox=format!("0 0 {size} {size}") role="img" aria-label=text.clone() data-text=text>
            <rect width=size.to_string() height=size.to_string() fill="#fff"/>
            <path d=path fill="#000"/>
        </svg>
    }
    .into_any()
}

/// `count` distinct word positions out of `len`, in increasing order.
fn positions_to_ask(len: usize, count: usize) -> Vec<usize> {
    let mut picked: Vec<usize> = Vec::new();
    while picked.len() < count.min(len) {
        let p = (js_sys::Math::random() * len as f64) as usize % len.max(1);
        if !picked.contains(&p) {
            picked.push(p);
        }
    }
    picked.sort_unstable();
    picked
}

/// A new key's backup: the words shown once, then some asked back.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Backup {
    None,
    Words {
        label: String,
        words: Vec<String>,
    },
    Check {
        words: Vec<String>,
        asked: Vec<usize>,
    },
    Done,
    TokenMade,
}

#[component]
pub fn KeysPage() -> impl IntoView {
    let texts = use_app().texts;
    let keys = RwSignal::new(Vec::<KeyView>::new());
    let error = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(false);
    let backup = RwSignal::new(Backup::None);
    let answers = RwSignal::new(Vec::<String>::new());
    let backup_error = RwSignal::new(None::<ApiError>);

    let load = move || {
        spawn_local(async move {
            match backend::keys_list().await {
                Ok(list) => keys.set(list),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    load();

    let create_label = RwSignal::new(String::new());
    let create_store = StoreChoice::new();
    let on_create = move |ev: SubmitEvent| {
        ev.prevent_default();
        let t = texts.get_untracked();
        error.set(None);
        let label = create_label.get_untracked().trim().to_owned();
        if label.is_empty() {
            error.set(Some(invalid(t.keys_need_label)));
            return;
        }
        let (backend, pin) = match create_store.take(t) {
            Ok(c) => c,
            Err(e) => return error.set(Some(e)),
        };
        busy.set(true);
        let request = KeyCreate {
            label,
            backend,
            pin,
        };
        spawn_local(async move {
            match backend::key_create(&request).await {
                Ok(created) => {
                    create_label.set(String::new());
                    backup.set(match created.backup_words {
                        Some(words) => Backup::Words {
                            label: created.key.label,
                            words,
                        },
                        None => Backup::TokenMade,
                    });
                    load();
                }
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };

    let import_label = RwSignal::new(String::new());
    let import_words = RwSignal::new(String::new());
    let import_store = StoreChoice::new();
    let on_import = move |ev: SubmitEvent| {
        ev.prevent_default();
        let t = texts.get_untracked();
        error.set(None);
        let label = import_label.get_untracked().trim().to_owned();
        if label.is_empty() {
            return error.set(Some(invalid(t.keys_need_label)));
        }
        let words = import_words
            .get_untracked()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        if words.is_empty() {
            return error.set(Some(invalid(t.keys_need_words)));
        }
        let (backend, pin) = match import_store.take(t) {
            Ok(c) => c,
            Err(e) => return error.set(Some(e)),
        };
        // The words leave the field as soon as they are sent.
        import_words.set(String::new());
        busy.set(true);
        let request = KeyImport {
            label,
            words,
            backend,
            pin,
        };
        spawn_local(async move {
            match backend::key_import(&request).await {
                Ok(_) => {
                    import_label.set(String::new());
                    load();
                }
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };

    let dev_done = RwSignal::new(None::<usize>);
    let on_dev_file = move |ev: leptos::ev::Event| {
        let Some(file) = crate::files::take_chosen(&ev) else {
            return;
        };
        error.set(None);
        dev_done.set(None);
        busy.set(true);
        spawn_local(async move {
            match crate::files::read_text(&file).await {
                Ok(text) => match backend::key_import_dev(&KeyImportDev { text }).await {
                    Ok(keys) => {
                        dev_done.set(Some(keys.len()));
                        load();
                    }
                    Err(e) => error.set(Some(e)),
                },
                Err(why) => {
                    let t = texts.get_untracked();
                    let why = crate::describe::isolate(&why);
                    error.set(Some(invalid(&fill(t.keys_dev_read_failed, &[&why]))));
                }
            }
            busy.set(false);
        });
    };

    let on_written = move |_| {
        if let Backup::Words { words, .. } = backup.get_untracked() {
            let asked = positions_to_ask(words.len(), WORDS_ASKED);
            answers.set(vec![String::new(); asked.len()]);
            backup_error.set(None);
            backup.set(Backup::Check { words, asked });
        }
    };
    let on_check = move |ev: SubmitEvent| {
        ev.prevent_default();
        if let Backup::Check { words, asked } = backup.get_untracked() {
            let typed = answers.get_untracked();
            let right = asked
                .iter()
                .zip(&typed)
                .all(|(&p, a)| a.trim().eq_ignore_ascii_case(&words[p]));
            if right {
                answers.set(Vec::new());
                backup.set(Backup::Done);
            } else {
                backup_error.set(Some(invalid(texts.get_untracked().keys_backup_wrong)));
            }
        }
    };

    let backup_view = move || {
        let t = texts.get();
        match backup.get() {
            Backup::None => ().into_any(),
            Backup::TokenMade => view! { <p class="card muted" id="backup-none">{t.keys_token_made}</p> }.into_any(),
            Backup::Done => view! { <p class="card tone-good" id="backup-done" role="status">{t.keys_backup_done}</p> }.into_any(),
            Backup::Words { label, words } => view! {
                <section class="card backup-panel" id="backup-panel" data-label=label>
                    <h2>{t.keys_backup_title}</h2>
                    <p>{t.keys_backup_intro}</p>
                    <ol class="backup-words" id="backup-words" dir="ltr">
                        {words.into_iter().map(|w| view! { <li>{w}</li> }).collect_view()}
                    </ol>
                    <button class="button primary" id="backup-written" on:click=on_written>{t.keys_backup_written}</button>
                </section>
            }
            .into_any(),
            Backup::Check { asked, .. } => view! {
                <form class="card backup-panel" id="backup-check" on:submit=on_check>
                    <h2>{t.keys_backup_title}</h2>
                    <p>{t.keys_backup_check}</p>
                    <div class="verify-row">
                        {asked.into_iter().enumerate().map(|(i, p)| view! {
                            <label class="field">
                                <span class="field-label">{fill(t.keys_backup_word, &[&(p + 1).to_string()])}</span>
                                <input
                                    type="text"
                                    class="backup-answer"
                                    data-position=(p + 1).to_string()
                                    autocomplete="off"
                                    dir="ltr"
                                    on:input=move |ev| {
                                        let v = event_target_value(&ev);
                                        answers.update(|a| if let Some(slot) = a.get_mut(i) { *slot = v; });
                                    }
                                />
                            </label>
                        }).collect_view()}
                    </div>
                    {error_view(backup_error, "backup-error")}
                    <button class="button primary" id="backup-confirm" type="submit">{t.keys_backup_confirm}</button>
                </form>
            }
            .into_any(),
        }
    };

    view! {
        <PageHeader title=|t| t.keys_title intro=|t| t.keys_intro/>
        {backup_view}
        {error_view(error, "keys-error")}
        <section class="card">
            <h2>{move || texts.get().keys_list_title}</h2>
            <Show
                when=move || !keys.get().is_empty()
                fallback=move || view! { <p class="empty-text" id="keys-empty">{move || texts.get().keys_none}</p> }
            >
                <ul class="key-list" id="key-list">
                    <For each=move || keys.get() key=|k| (k.label.clone(), k.public_key.clone()) let:key>
                        <KeyCard key=key on_deleted=move || load()/>
                    </For>
                </ul>
            </Show>
        </section>
        <form class="card key-form" id="key-create-form" on:submit=on_create>
            <h2>{move || texts.get().keys_create_title}</h2>
            <Field id="key-create-label" label=|t| t.keys_label value=create_label/>
            <StoreFields prefix="key-create" store=create_store/>
            <button class="button primary" id="key-create" type="submit" disabled=move || busy.get()>
                {move || texts.get().keys_create}
            </button>
        </form>
        <form class="card key-form" id="key-import-form" on:submit=on_import>
            <h2>{move || texts.get().keys_import_title}</h2>
            <Field id="key-import-label" label=|t| t.keys_label value=import_label/>
            <label class="field">
                <span class="field-label">{move || texts.get().keys_words}</span>
                <textarea
                    id="key-import-words"
                    rows="3"
                    autocomplete="off"
                    spellcheck="false"
                    dir="ltr"
                    prop:value=move || import_words.get()
                    on:input=move |ev| import_words.set(event_target_value(&ev))
                ></textarea>
            </label>
            <StoreFields prefix="key-import" store=import_store/>
            <button class="button primary" id="key-import" type="submit" disabled=move || busy.get()>
                {move || texts.get().keys_import}
            </button>
        </form>
        <section class="card key-form" id="key-dev">
            <h2>{move || texts.get().keys_dev_title}</h2>
            <p class="muted">{move || texts.get().keys_dev_intro}</p>
            <label class="button file-button" id="key-dev-label">
                <input
                    type="file"
                    id="key-dev-file"
                    class="visually-hidden"
                    accept=".json,application/json"
                    on:change=on_dev_file
                    disabled=move || busy.get()
                />
                {move || texts.get().keys_dev_button}
            </label>
            {move || dev_done.get().map(|n| view! {
                <p class="tone-good" id="key-dev-done" role="status">
                    {fill(texts.get().keys_dev_done, &[&n.to_string()])}
                </p>
            })}
        </section>
    }
}

/// One key: what the wallet records of it, its QR code on demand, and its deletion.
#[component]
fn KeyCard(key: KeyView, on_deleted: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let texts = use_app().texts;
    let show_qr = RwSignal::new(false);
    let deleting = RwSignal::new(false);
    let pin = RwSignal::new(String::new());
    let error = RwSignal::new(None::<ApiError>);
    let token_key = key.backend == "pkcs11";
    let label = StoredValue::new(key.label.clone());
    let on_delete = move |_| {
        let typed = pin.get_untracked();
        pin.set(String::new());
        let request = KeyDelete {
            label: label.get_value(),
            confirm: true,
            pin: Some(typed).filter(|p| !p.is_empty()),
        };
        spawn_local(async move {
            match backend::key_delete(&request).await {
                Ok(_) => on_deleted(),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let backend_name = move |t: &Texts| {
        if token_key {
            t.keys_backend_pkcs11
        } else {
            t.keys_backend_keyring
        }
    };
    let public_key = StoredValue::new(key.public_key.clone());
    let token = key
        .token
        .clone()
        .map(|(library, label)| format!("{label} ({library})"));
    view! {
        <li
            class="key-card"
            data-label=key.label.clone()
            data-backend=key.backend.clone()
            data-development=key.development.to_string()
        >
            <div class="key-head">
                <strong class="key-label">{key.label.clone()}</strong>
                {key.development.then(|| view! {
                    <span class="badge tone-bad key-development">{move || texts.get().keys_development}</span>
                })}
            </div>
            <dl class="facts">
                <dt>{move || texts.get().keys_public_key}</dt>
                <dd><code class="key-public" dir="ltr">{key.public_key.clone()}</code></dd>
                <dt>{move || texts.get().keys_backend}</dt>
                <dd class="key-backend">{move || backend_name(texts.get())}</dd>
                {token.map(|token| view! {
                    <dt>{move || texts.get().keys_token}</dt>
                    <dd class="key-token" dir="ltr">{token}</dd>
                })}
                <dt>{move || texts.get().keys_protection}</dt>
                <dd class="key-protection">{key.protection.clone()}</dd>
                <dt>{move || texts.get().keys_created}</dt>
                <dd>{moment(key.created_at)}</dd>
            </dl>
            <div class="verify-row">
                <button class="button key-qr-toggle" on:click=move |_| show_qr.update(|s| *s = !*s)>
                    {move || if show_qr.get() { texts.get().keys_hide_qr } else { texts.get().keys_show_qr }}
                </button>
                <button class="button key-delete" on:click=move |_| deleting.set(true)>
                    {move || texts.get().keys_delete}
                </button>
            </div>
            <Show when=move || show_qr.get()>
                <QrCode text=public_key.get_value()/>
            </Show>
            <Show when=move || deleting.get()>
                <div class="confirm key-delete-box" role="alertdialog">
                    <p>{move || fill(texts.get().keys_delete_confirm, &[&label.get_value()])}</p>
                    {token_key.then(|| view! { <Field id="key-delete-pin" label=|t| t.keys_pin value=pin kind="password"/> })}
                    <div class="verify-row">
                        <button class="button" on:click=move |_| deleting.set(false)>{move || texts.get().keys_cancel}</button>
                        <button class="button danger key-delete-confirm" on:click=on_delete>{move || texts.get().keys_delete_yes}</button>
                    </div>
                </div>
            </Show>
            {error_view(error, "key-error")}
        </li>
    }
}

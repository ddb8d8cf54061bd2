//! The Settings page: language and theme, saved by the backend; and what version this is.

use leptos::{prelude::*, task::spawn_local};
use tradeseal_api::{AppInfo, Language, Settings, Theme};

use super::PageHeader;
use crate::{app::use_app, backend, i18n::Text};

/// Whether the last save worked, for the message under the form.
#[derive(Debug, Clone, PartialEq)]
enum SaveState {
    Idle,
    Saved,
    Failed(String),
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    let app = use_app();
    let texts = app.texts;
    let settings = app.settings;
    let save_state = RwSignal::new(SaveState::Idle);
    let info = RwSignal::new(None::<AppInfo>);
    spawn_local(async move { info.set(backend::app_info().await.ok()) });

    // The stored settings change only once the backend has saved them.
    let save = move |new: Settings| {
        spawn_local(async move {
            match backend::settings_set(&new).await {
                Ok(stored) => {
                    settings.set(stored);
                    save_state.set(SaveState::Saved);
                }
                Err(e) => save_state.set(SaveState::Failed(e.message)),
            }
        })
    };

    let theme_label = |theme: Theme| -> Text {
        match theme {
            Theme::System => |t| t.theme_system,
            Theme::Light => |t| t.theme_light,
            Theme::Dark => |t| t.theme_dark,
        }
    };

    view! {
        <PageHeader title=|t| t.settings_title intro=|t| t.settings_intro/>
        <section class="card">
            <label class="field">
                <span class="field-label">{move || texts.get().settings_language}</span>
                <select
                    id="language-select"
                    on:change=move |ev| {
                        if let Some(language) = Language::from_tag(&event_target_value(&ev)) {
                            save(Settings { language, ..settings.get_untracked() });
                        }
                    }
                >
                    {Language::ALL
                        .into_iter()
                        .map(|l| {
                            view! {
                                <option value=l.tag() selected=move || settings.get().language == l>
                                    {l.native_name()}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </label>
            <fieldset class="field">
                <legend class="field-label">{move || texts.get().settings_theme}</legend>
                <div class="segmented" role="radiogroup">
                    {Theme::ALL
                        .into_iter()
                        .map(|theme| {
                            let label = theme_label(theme);
                            view! {
                                <button
                                    id=format!("theme-{}", theme.as_str())
                                    role="radio"
                                    aria-checked=move || (settings.get().theme == theme).to_string()
                                    on:click=move |_| save(Settings { theme, ..settings.get_untracked() })
                                >
                                    {move || label(texts.get())}
                                </button>
                            }
                        })
                        .collect_view()}
                </div>
            </fieldset>
            <p class="save-state" id="save-state" aria-live="polite">
                {move || match save_state.get() {
                    SaveState::Idle => String::new(),
                    SaveState::Saved => texts.get().settings_saved.to_owned(),
                    SaveState::Failed(why) => format!("{}: {why}", texts.get().settings_save_failed),
                }}
            </p>
        </section>
        <section class="card">
            <h2>{move || texts.get().about_title}</h2>
            <p id="about-version">
                {move || {
                    info.get()
                        .map(|i| format!("{} {} {} · {}", i.name, texts.get().about_version, i.version, i.platform))
                        .unwrap_or_default()
                }}
            </p>
        </section>
    }
}

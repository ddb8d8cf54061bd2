//! The Settings page: language, theme and the offline warning age, saved by the backend; the
//! offline data on this device (how fresh, what it holds) with "Sync now"; and what version
//! this is.

use leptos::{prelude::*, task::spawn_local};
use tradeseal_api::{AppInfo, Language, OfflineStatus, OfflineSync, Settings, Theme};

use super::{verify::moment, PageHeader};
use crate::{
    app::use_app,
    backend,
    describe::{ago, grouped},
    i18n::{fill, Text},
};

/// The warning age the field takes, in hours (up to a year).
const WARN_AFTER_HOURS: std::ops::RangeInclusive<u32> = 1..=8_760;

/// The warning age as typed: a whole number of hours in [`WARN_AFTER_HOURS`].
fn warn_after_hours(text: &str) -> Option<u32> {
    text.trim()
        .parse()
        .ok()
        .filter(|h| WARN_AFTER_HOURS.contains(h))
}

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
    let warn_invalid = RwSignal::new(false);
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
            <label class="field">
                <span class="field-label">{move || texts.get().settings_warn_after}</span>
                <input
                    type="number"
                    id="offline-warn-after"
                    min=*WARN_AFTER_HOURS.start()
                    max=*WARN_AFTER_HOURS.end()
                    step="1"
                    inputmode="numeric"
                    aria-invalid=move || warn_invalid.get().to_string()
                    prop:value=move || settings.get().offline_warn_after_hours.to_string()
                    on:change=move |ev| match warn_after_hours(&event_target_value(&ev)) {
                        Some(offline_warn_after_hours) => {
                            warn_invalid.set(false);
                            save(Settings { offline_warn_after_hours, ..settings.get_untracked() });
                        }
                        None => warn_invalid.set(true),
                    }
                />
                <Show when=move || warn_invalid.get()>
                    <span class="error-text" id="offline-warn-after-invalid" role="alert">
                        {move || texts.get().settings_warn_after_invalid}
                    </span>
                </Show>
            </label>
            <p class="save-state" id="save-state" aria-live="polite">
                {move || match save_state.get() {
                    SaveState::Idle => String::new(),
                    SaveState::Saved => texts.get().settings_saved.to_owned(),
                    SaveState::Failed(why) => format!("{}: {why}", texts.get().settings_save_failed),
                }}
            </p>
        </section>
        <OfflineSection/>
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

/// What "Sync now" did, for the line under the button.
#[derive(Debug, Clone, PartialEq)]
enum SyncState {
    Idle,
    Busy,
    Done(OfflineSync),
    Failed(String),
}

/// The offline data on this device: its state (current, stale, too old), block, age, what it
/// holds and when it was synced; "Sync now" and what it did; refreshed after each of the
/// backend's own rounds, whose failure is shown too.
#[component]
fn OfflineSection() -> impl IntoView {
    let app = use_app();
    let texts = app.texts;
    let status = RwSignal::new(None::<Result<Option<OfflineStatus>, String>>);
    let sync = RwSignal::new(SyncState::Idle);
    let fetch = move || {
        spawn_local(async move {
            status.set(Some(backend::offline_status().await.map_err(|e| e.message)))
        })
    };
    fetch();
    // A round of the backend's upkeep answers the status it left.
    Effect::new(move |_| {
        if let Some(update) = app.offline.get() {
            status.set(Some(Ok(update.status)));
        }
    });
    let sync_now = move |_| {
        sync.set(SyncState::Busy);
        spawn_local(async move {
            match backend::offline_sync().await {
                Ok(done) => {
                    status.set(Some(Ok(Some(done.status.clone()))));
                    sync.set(SyncState::Done(done));
                }
                Err(e) => {
                    sync.set(SyncState::Failed(e.message));
                    fetch();
                }
            }
        })
    };

    let details = move || {
        let t = texts.get();
        match status.get() {
            None => None,
            Some(Err(why)) => {
                Some(view! { <p class="error-text" id="offline-status-error">{why}</p> }.into_any())
            }
            Some(Ok(None)) => {
                Some(view! { <p class="muted" id="offline-none">{t.offline_none}</p> }.into_any())
            }
            Some(Ok(Some(s))) => {
                let (slug, state) = if s.too_old {
                    ("too_old", t.offline_too_old)
                } else if s.stale {
                    ("stale", t.offline_stale)
                } else {
                    ("fresh", t.offline_fresh)
                };
                Some(
                    view! {
                        <dl class="offline-status" id="offline-status" data-state=slug>
                            <dt>{t.offline_state}</dt>
                            <dd class=format!("offline-state offline-{slug}")>{state}</dd>
                            <dt>{t.offline_height}</dt>
                            <dd id="offline-height" data-height=s.height.to_string()>
                                {grouped(t, s.height)}
                            </dd>
                            <dt>{t.offline_age}</dt>
                            <dd>{format!("{} ({} UTC)", ago(t, s.age_secs), moment(s.time))}</dd>
                            <dt>{t.offline_issuers}</dt>
                            <dd id="offline-issuers">{grouped(t, s.issuers)}</dd>
                            <dt>{t.offline_revocations}</dt>
                            <dd id="offline-revocations">{grouped(t, s.revocations)}</dd>
                            <dt>{t.offline_synced_at}</dt>
                            <dd>{format!("{} UTC", moment(s.synced_at))}</dd>
                        </dl>
                    }
                    .into_any(),
                )
            }
        }
    };

    let result = move || {
        let t = texts.get();
        match sync.get() {
            SyncState::Idle => None,
            SyncState::Busy => Some(
                view! { <p class="muted" id="offline-sync-busy" role="status">{t.offline_syncing}</p> }
                    .into_any(),
            ),
            SyncState::Done(done) => {
                let line = fill(
                    t.offline_synced,
                    &[
                        &grouped(t, done.new_revocations),
                        &grouped(t, done.new_issuer_changes),
                        &grouped(t, done.proofs),
                    ],
                );
                Some(view! { <p id="offline-sync-done" role="status">{line}</p> }.into_any())
            }
            SyncState::Failed(why) => Some(
                view! {
                    <p class="error-text" id="offline-sync-error" role="alert">
                        {format!("{}: {why}", t.offline_sync_failed)}
                    </p>
                }
                .into_any(),
            ),
        }
    };

    // What the backend's last round said, when it re-checked something or failed.
    let round = move || {
        let t = texts.get();
        let update = app.offline.get()?;
        let rechecked = (update.rechecked > 0).then(|| {
            let line = fill(
                t.offline_rechecked,
                &[&update.rechecked.to_string(), &update.changed.to_string()],
            );
            view! { <p id="offline-rechecked">{line}</p> }
        });
        let failed = update.error.map(|e| {
            view! {
                <p class="warning" id="offline-auto-error">
                    {format!("{}: {}", t.offline_auto_failed, e.message)}
                </p>
            }
        });
        Some(view! { {rechecked} {failed} })
    };

    view! {
        <section class="card" id="offline-section">
            <h2>{move || texts.get().offline_title}</h2>
            <p class="muted">{move || texts.get().offline_intro}</p>
            {details}
            <button
                class="button primary"
                id="offline-sync"
                disabled=move || sync.get() == SyncState::Busy
                on:click=sync_now
            >
                {move || texts.get().offline_sync_now}
            </button>
            <div aria-live="polite">{result} {round}</div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_warning_age_is_a_whole_number_of_hours_up_to_a_year() {
        assert_eq!(warn_after_hours(" 24 "), Some(24));
        assert_eq!(warn_after_hours("1"), Some(1));
        assert_eq!(warn_after_hours("8760"), Some(8_760));
        for bad in ["0", "8761", "-3", "2.5", "", "soon"] {
            assert_eq!(warn_after_hours(bad), None, "{bad:?}");
        }
    }
}

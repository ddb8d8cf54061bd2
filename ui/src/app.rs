//! The app frame: header, navigation between pages, the page itself and the status bar; the
//! settings (language, direction, theme) applied to the whole document; the light node's status,
//! fetched once and then kept current by the backend's `node-status` events; the backend's
//! rounds of offline upkeep (`offline-update` events), for the pages that show them.

use std::time::Duration;

use leptos::{prelude::*, task::spawn_local};
use tradeseal_api::{
    ApiError, NodeState, NodeStatus, NodeStatusEvent, OfflineEvent, OfflineUpdate, Settings, Theme,
};

use crate::{
    alerts::Alerts,
    backend,
    i18n::{texts, Texts},
    pages::{self, Page},
    status_bar::StatusBar,
};

/// How often the ages on screen ("12 s ago") move on between two statuses.
const CLOCK_TICK: Duration = Duration::from_secs(1);

/// The light node's status as last received; `None` until the first answer.
pub type StatusSignal = RwSignal<Option<Result<NodeStatus, ApiError>>>;

/// State every component may read: the settings, the current page, the texts and the light
/// node's status.
#[derive(Debug, Clone, Copy)]
pub struct AppState {
    pub settings: RwSignal<Settings>,
    pub page: RwSignal<Page>,
    pub texts: Signal<&'static Texts>,
    pub status: StatusSignal,
    /// Why the status does not update by itself (the event subscription failed), if it does not.
    pub not_live: RwSignal<Option<String>>,
    /// Set by "Import a chain configuration" and "Change network": the Network page opens its
    /// import screen.
    pub joining: RwSignal<bool>,
    /// The backend's last round of offline upkeep (synced, re-checked), if one came since the
    /// UI started: the Settings and History pages refresh on it.
    pub offline: RwSignal<Option<OfflineUpdate>>,
    /// Offline verdicts those rounds found changed online, not yet looked at.
    pub offline_changed: RwSignal<u32>,
    /// Counts statuses received, so an answer older than an event does not overwrite it.
    received: RwSignal<u64>,
    /// When the current status arrived, and now (ms since the epoch, ticking).
    received_at: RwSignal<f64>,
    now: RwSignal<f64>,
}

impl AppState {
    /// The newest status from the backend (an event, or the answer to a command).
    fn set_status(&self, status: NodeStatus) {
        self.received.update(|n| *n += 1);
        self.received_at.set(js_sys::Date::now());
        self.status.set(Some(Ok(status)));
    }

    /// A mark to pass to [`AppState::offer_status`] with the answer of a command sent now.
    pub fn status_mark(&self) -> u64 {
        self.received.get_untracked()
    }

    /// A status answered by a command sent at `mark`: taken unless an event (newer) came since.
    pub fn offer_status(&self, mark: u64, status: NodeStatus) {
        if self.received.get_untracked() == mark {
            self.set_status(status);
        }
    }

    /// The age of the newest verified header now: its age when the status was made plus the
    /// time since it arrived.
    pub fn head_age(&self) -> Option<u64> {
        let status = self.status.get();
        let head = status.as_ref()?.as_ref().ok()?.head.as_ref()?;
        let since_ms = (self.now.get() - self.received_at.get()).max(0.0);
        Some(head.age_secs + (since_ms / 1000.0) as u64)
    }

    /// The current state, if the backend has answered.
    pub fn state(&self) -> Option<NodeState> {
        self.status
            .get()
            .and_then(|s| s.ok())
            .map(|status| status.state)
    }
}

pub fn use_app() -> AppState {
    expect_context::<AppState>()
}

#[component]
pub fn App() -> impl IntoView {
    let settings = RwSignal::new(Settings::default());
    let page = RwSignal::new(Page::Verify);
    let texts = Signal::derive(move || texts(settings.get().language));
    let now = RwSignal::new(js_sys::Date::now());
    let app = AppState {
        settings,
        page,
        texts,
        status: RwSignal::new(None),
        not_live: RwSignal::new(None),
        joining: RwSignal::new(false),
        offline: RwSignal::new(None),
        offline_changed: RwSignal::new(0),
        received: RwSignal::new(0),
        received_at: RwSignal::new(now.get_untracked()),
        now,
    };
    provide_context(app);

    if let Ok(handle) = set_interval_with_handle(move || now.set(js_sys::Date::now()), CLOCK_TICK) {
        on_cleanup(move || handle.clear());
    }
    follow_status(app);

    spawn_local(async move {
        if let Ok(stored) = backend::settings_get().await {
            settings.set(stored);
        }
    });
    Effect::new(move |_| apply_to_document(&settings.get()));

    view! {
        <div class="app" id="app">
            <header class="topbar">
                <img class="logo" src="icon.png" alt="" width="28" height="28"/>
                <div class="brand">
                    <span class="brand-name">{move || texts.get().app_name}</span>
                    <span class="brand-tagline">{move || texts.get().tagline}</span>
                </div>
            </header>
            <nav class="nav" aria-label=move || texts.get().nav_label>
                {Page::ALL
                    .into_iter()
                    .map(|p| {
                        view! {
                            <button
                                id=format!("nav-{}", p.slug())
                                class="nav-item"
                                aria-current=move || (page.get() == p).then_some("page")
                                on:click=move |_| page.set(p)
                            >
                                {pages::icon(p)}
                                <span class="nav-text">{move || p.label(texts.get())}</span>
                            </button>
                        }
                    })
                    .collect_view()}
            </nav>
            <main class="content" id=move || format!("page-{}", page.get().slug())>
                <Alerts/>
                {move || pages::render(page.get())}
            </main>
            <StatusBar/>
        </div>
    }
}

/// Subscribe to the backend's status events first, then ask for the status once (an event that
/// arrives meanwhile wins). On first run, with no usable network, open the Network page.
fn follow_status(app: AppState) {
    let subscription = StoredValue::new_local(None::<backend::Subscription>);
    let offline = StoredValue::new_local(None::<backend::Subscription>);
    on_cleanup(move || {
        subscription.dispose();
        offline.dispose();
    });
    spawn_local(async move {
        let listening = backend::listen::<NodeStatusEvent>(move |event| match event {
            Ok(status) => app.set_status(status),
            Err(e) => app.not_live.set(Some(e.message)),
        })
        .await;
        match listening {
            Ok(live) => subscription.set_value(Some(live)),
            Err(e) => app.not_live.set(Some(e.message)),
        }
        // The offline rounds are a refresh hint; a page shows what it fetched without them.
        if let Ok(live) = backend::listen::<OfflineEvent>(move |event| {
            if let Ok(update) = event {
                if update.changed > 0 {
                    app.offline_changed
                        .update(|n| *n = n.saturating_add(update.changed));
                }
                app.offline.set(Some(update));
            }
        })
        .await
        {
            offline.set_value(Some(live));
        }

        let mark = app.status_mark();
        match backend::node_status().await {
            Ok(status) => {
                let first_run = matches!(
                    status.state,
                    NodeState::NotConfigured | NodeState::ConfigInvalid { .. }
                );
                if first_run && app.page.get_untracked() == Page::Verify {
                    app.page.set(Page::Network);
                }
                app.offer_status(mark, status);
            }
            Err(e) if app.status_mark() == mark => app.status.set(Some(Err(e))),
            Err(_) => {}
        }
    });
}

/// Language, writing direction and theme live on `<html>` so CSS and the browser follow them.
fn apply_to_document(settings: &Settings) {
    let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    else {
        return;
    };
    let language = settings.language;
    let _ = root.set_attribute("lang", language.tag());
    let _ = root.set_attribute("dir", if language.is_rtl() { "rtl" } else { "ltr" });
    let _ = match settings.theme {
        Theme::System => root.remove_attribute("data-theme"),
        theme => root.set_attribute("data-theme", theme.as_str()),
    };
}

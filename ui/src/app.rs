//! The app frame: header, navigation between pages, the page itself and the status bar; the
//! settings (language, direction, theme) applied to the whole document.

use std::time::Duration;

use leptos::{prelude::*, task::spawn_local};
use tradeseal_api::{ApiError, NodeStatus, Settings, Theme};

use crate::{
    backend,
    i18n::{texts, Texts},
    pages::{self, Page},
    status_bar::StatusBar,
};

/// How often the light node's status is asked for.
const STATUS_REFRESH: Duration = Duration::from_secs(5);

/// The light node's status as last fetched; `None` until the first answer.
pub type StatusSignal = RwSignal<Option<Result<NodeStatus, ApiError>>>;

/// State every component may read: the settings, the current page, the texts and the light
/// node's status.
#[derive(Debug, Clone, Copy)]
pub struct AppState {
    pub settings: RwSignal<Settings>,
    pub page: RwSignal<Page>,
    pub texts: Signal<&'static Texts>,
    pub status: StatusSignal,
}

pub fn use_app() -> AppState {
    expect_context::<AppState>()
}

#[component]
pub fn App() -> impl IntoView {
    let settings = RwSignal::new(Settings::default());
    let page = RwSignal::new(Page::Verify);
    let texts = Signal::derive(move || texts(settings.get().language));
    let status: StatusSignal = RwSignal::new(None);
    provide_context(AppState {
        settings,
        page,
        texts,
        status,
    });

    let refresh =
        move || spawn_local(async move { status.set(Some(backend::node_status().await)) });
    refresh();
    if let Ok(handle) = set_interval_with_handle(refresh, STATUS_REFRESH) {
        on_cleanup(move || handle.clear());
    }

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
                {move || pages::render(page.get())}
            </main>
            <StatusBar/>
        </div>
    }
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

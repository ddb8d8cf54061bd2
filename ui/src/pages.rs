//! The pages of the app and what they share (icons, the heading).

mod form;
mod history;
mod issue;
mod join;
mod keys;
mod network;
mod settings;
mod sign;
pub mod verify;

use leptos::prelude::*;

use crate::{
    app::use_app,
    i18n::{Text, Texts},
};

/// The pages reachable from the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    Verify,
    Sign,
    Issue,
    Keys,
    History,
    Network,
    Settings,
}

impl Page {
    pub const ALL: [Page; 7] = [
        Page::Verify,
        Page::Sign,
        Page::Issue,
        Page::Keys,
        Page::History,
        Page::Network,
        Page::Settings,
    ];

    /// Stable identifier, used in element ids.
    pub fn slug(self) -> &'static str {
        match self {
            Page::Verify => "verify",
            Page::Sign => "sign",
            Page::Issue => "issue",
            Page::Keys => "keys",
            Page::History => "history",
            Page::Network => "network",
            Page::Settings => "settings",
        }
    }

    pub fn label(self, t: &Texts) -> &'static str {
        match self {
            Page::Verify => t.nav_verify,
            Page::Sign => t.nav_sign,
            Page::Issue => t.nav_issue,
            Page::Keys => t.nav_keys,
            Page::History => t.nav_history,
            Page::Network => t.nav_network,
            Page::Settings => t.nav_settings,
        }
    }
}

pub fn render(page: Page) -> AnyView {
    match page {
        Page::Verify => view! { <verify::VerifyPage/> }.into_any(),
        Page::Sign => view! { <sign::SignPage/> }.into_any(),
        Page::Issue => view! { <issue::IssuePage/> }.into_any(),
        Page::Keys => view! { <keys::KeysPage/> }.into_any(),
        Page::History => view! { <history::HistoryPage/> }.into_any(),
        Page::Network => view! { <network::NetworkPage/> }.into_any(),
        Page::Settings => view! { <settings::SettingsPage/> }.into_any(),
    }
}

/// A page heading with its one-line purpose.
#[component]
pub(crate) fn PageHeader(title: Text, #[prop(optional)] intro: Option<Text>) -> impl IntoView {
    let texts = use_app().texts;
    view! {
        <h1 class="page-title">{move || title(texts.get())}</h1>
        {intro.map(|intro| view! { <p class="page-intro">{move || intro(texts.get())}</p> })}
    }
}

/// A line icon for each page (24x24, stroked with the text colour).
pub fn icon(page: Page) -> impl IntoView {
    let paths: &[&str] = match page {
        Page::Verify => &[
            "M12 2l8 3v6c0 5-3.4 9.4-8 11-4.6-1.6-8-6-8-11V5z",
            "M8.5 12l2.5 2.5 4.5-5",
        ],
        Page::Sign => &["M4 20h4L19 9l-4-4L4 16z", "M13.5 6.5l4 4", "M12 20h8"],
        Page::Issue => &[
            "M6 3h9l4 4v14H6z",
            "M15 3v4h4",
            "M9 11h3v3H9z",
            "M14 17h2",
            "M9 17h2",
        ],
        Page::Keys => &[
            "M8 11a4 4 0 1 0 0 8 4 4 0 1 0 0-8z",
            "M11 13l9-9",
            "M16 8l3 3",
            "M14 10l2 2",
        ],
        Page::History => &["M12 3a9 9 0 1 0 0 18 9 9 0 1 0 0-18z", "M12 7v5l3 3"],
        Page::Network => &[
            "M5 10a2 2 0 1 0 0 4 2 2 0 1 0 0-4z",
            "M19 3a2 2 0 1 0 0 4 2 2 0 1 0 0-4z",
            "M19 17a2 2 0 1 0 0 4 2 2 0 1 0 0-4z",
            "M7 11l10-5",
            "M7 13l10 5",
        ],
        Page::Settings => &[
            "M4 7h10", "M18 7h2", "M4 17h4", "M12 17h8", "M16 5v4", "M10 15v4",
        ],
    };
    view! {
        <svg class="icon" viewBox="0 0 24 24" aria-hidden="true">
            {paths.iter().map(|d| view! { <path d=*d/> }).collect_view()}
        </svg>
    }
}

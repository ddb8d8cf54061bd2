//! The status bar: the light node's state, refreshed every few seconds.

use std::time::Duration;

use leptos::{prelude::*, task::spawn_local};
use tradeseal_api::{ApiError, NodeStatus};

use crate::{app::use_app, backend};

const REFRESH: Duration = Duration::from_secs(5);

#[component]
pub fn StatusBar() -> impl IntoView {
    let texts = use_app().texts;
    let status = RwSignal::new(None::<Result<NodeStatus, ApiError>>);
    let refresh = move || {
        spawn_local(async move {
            status.set(Some(backend::node_status().await));
        })
    };
    refresh();
    if let Ok(handle) = set_interval_with_handle(refresh, REFRESH) {
        on_cleanup(move || handle.clear());
    }

    let state = move || match status.get() {
        None => "loading",
        Some(Ok(NodeStatus::NotConfigured)) => "not_configured",
        Some(Err(_)) => "unreachable",
    };
    let text = move || {
        let t = texts.get();
        match status.get() {
            None => t.status_loading.to_owned(),
            Some(Ok(NodeStatus::NotConfigured)) => t.status_not_configured.to_owned(),
            Some(Err(e)) => format!("{}: {}", t.status_unreachable, e.message),
        }
    };

    view! {
        <footer class="status-bar" id="status-bar" role="status" data-state=state>
            <span class="status-dot" aria-hidden="true"></span>
            <span class="status-label">{move || texts.get().status_label}</span>
            <span class="status-value" id="node-state">{text}</span>
        </footer>
    }
}

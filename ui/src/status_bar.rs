//! The status bar: the light node's state in one line.

use leptos::prelude::*;
use tradeseal_api::NodeStatus;

use crate::app::use_app;

#[component]
pub fn StatusBar() -> impl IntoView {
    let app = use_app();
    let (texts, status) = (app.texts, app.status);

    let state = move || match status.get() {
        None => "loading",
        Some(Ok(NodeStatus::NotConfigured)) => "not_configured",
        Some(Ok(NodeStatus::Configured { .. })) => "configured",
        Some(Ok(NodeStatus::ConfigInvalid { .. })) => "config_invalid",
        Some(Err(_)) => "unreachable",
    };
    let text = move || {
        let t = texts.get();
        match status.get() {
            None => t.status_loading.to_owned(),
            Some(Ok(NodeStatus::NotConfigured)) => t.status_not_configured.to_owned(),
            Some(Ok(NodeStatus::Configured { chain })) => {
                format!("{} · {}", chain.chain_id, t.status_configured)
            }
            Some(Ok(NodeStatus::ConfigInvalid { .. })) => t.status_config_invalid.to_owned(),
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

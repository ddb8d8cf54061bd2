//! The status bar: the light node's state in one line (with sync progress while it verifies),
//! marked with the state's name for styling (`data-state`, `state-…` class).

use leptos::prelude::*;
use tradeseal_api::NodeState;

use crate::{app::use_app, describe, i18n::fill};

#[component]
pub fn StatusBar() -> impl IntoView {
    let app = use_app();
    let (texts, status) = (app.texts, app.status);

    let state = move || match status.get() {
        None => "loading",
        Some(Ok(s)) => describe::state_slug(&s.state),
        Some(Err(_)) => "unreachable",
    };
    let chain = move || {
        status
            .get()
            .and_then(|s| s.ok())
            .and_then(|s| s.chain)
            .map(|c| view! { <bdi class="status-chain">{c.chain_id}</bdi>" · " })
    };
    let line = move || {
        let t = texts.get();
        match status.get() {
            None => t.status_loading.to_owned(),
            Some(Ok(s)) => describe::state_line(t, &s, app.head_age()),
            Some(Err(e)) => describe::unreachable(t, &e),
        }
    };
    let progress = move || match app.state() {
        Some(NodeState::Syncing { from, to, current }) => {
            let max = to.saturating_sub(from).max(1);
            let value = current.saturating_sub(from).min(max);
            Some(view! {
                <progress id="sync-progress" class="sync-progress" max=max value=value></progress>
            })
        }
        _ => None,
    };
    // Without a status there is nothing to keep current: the line above already says why.
    let not_live = move || {
        let has_status = matches!(status.get(), Some(Ok(_)));
        app.not_live.get().filter(|_| has_status).map(|why| {
            view! {
                <span class="status-not-live" id="status-not-live">
                    {move || fill(texts.get().status_not_live, &[&describe::isolate(&why)])}
                </span>
            }
        })
    };

    view! {
        <footer
            class=move || format!("status-bar state-{}", state())
            id="status-bar"
            role="status"
            data-state=state
        >
            <span class="status-dot" aria-hidden="true"></span>
            <span class="status-label">{move || texts.get().status_label}</span>
            <span class="status-value" id="node-state">{chain} {line}</span>
            {progress}
            {not_live}
        </footer>
    }
}

//! The panels shown across the top of every page when the light node has stopped trusting:
//! a fork was detected, or its trust expired. Each says what happened and what to do.

use leptos::prelude::*;
use tradeseal_api::{ForkReport, NodeState};

use crate::{app::use_app, describe, i18n::fill, pages::Page};

#[component]
pub fn Alerts() -> impl IntoView {
    let app = use_app();
    move || match app.state() {
        Some(NodeState::ForkDetected { fork }) => view! { <ForkPanel fork/> }.into_any(),
        Some(NodeState::TrustExpired { expired_at }) => {
            view! { <TrustExpiredPanel expired_at/> }.into_any()
        }
        _ => ().into_any(),
    }
}

#[component]
fn ForkPanel(fork: ForkReport) -> impl IntoView {
    let app = use_app();
    let texts = app.texts;
    let what = move || {
        fill(
            texts.get().fork_what,
            &[
                &describe::isolate(&fork.witness),
                &fork.conflict_height.to_string(),
            ],
        )
    };
    view! {
        <section class="alert-panel danger" id="fork-panel" role="alert">
            <h2 class="alert-title">{move || texts.get().fork_title}</h2>
            <p id="fork-what">{what}</p>
            <h3 class="alert-subtitle">{move || texts.get().fork_todo_title}</h3>
            <ol class="alert-steps" id="fork-todo">
                <li>{move || texts.get().fork_todo_contact}</li>
                <li>{move || texts.get().fork_todo_rely}</li>
                <li>{move || texts.get().fork_todo_primary}</li>
            </ol>
            <Show when=move || app.page.get() != Page::Network>
                <button
                    class="button"
                    id="fork-show-evidence"
                    on:click=move |_| app.page.set(Page::Network)
                >
                    {move || texts.get().fork_show_evidence}
                </button>
            </Show>
        </section>
    }
}

#[component]
fn TrustExpiredPanel(expired_at: String) -> impl IntoView {
    let app = use_app();
    let texts = app.texts;
    let when = describe::isolate(&describe::time(&expired_at));
    view! {
        <section class="alert-panel danger" id="trust-expired-panel" role="alert">
            <h2 class="alert-title">{move || texts.get().expired_title}</h2>
            <p id="trust-expired-what">{move || fill(texts.get().expired_what, &[&when])}</p>
            <p>{move || texts.get().expired_todo}</p>
            <Show when=move || app.page.get() != Page::Network>
                <button
                    class="button primary"
                    id="trust-expired-import"
                    on:click=move |_| {
                        app.joining.set(true);
                        app.page.set(Page::Network);
                    }
                >
                    {move || texts.get().expired_import}
                </button>
            </Show>
        </section>
    }
}

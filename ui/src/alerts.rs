//! The panels shown across the top of every page when the light node has stopped trusting:
//! a fork was detected, or its trust expired. Each says what happened and what to do. And a
//! notice when offline verdicts changed once checked again online.

use leptos::prelude::*;
use tradeseal_api::{ForkReport, NodeState};

use crate::{app::use_app, describe, i18n::fill, pages::Page};

#[component]
pub fn Alerts() -> impl IntoView {
    let app = use_app();
    let trust = move || match app.state() {
        Some(NodeState::ForkDetected { fork }) => view! { <ForkPanel fork/> }.into_any(),
        Some(NodeState::TrustExpired { expired_at }) => {
            view! { <TrustExpiredPanel expired_at/> }.into_any()
        }
        _ => ().into_any(),
    };
    view! {
        {trust}
        <Show when=move || app.offline_changed.get() != 0>
            <OfflineChangedPanel/>
        </Show>
    }
}

/// Verdicts given offline that the background re-check found different online: look at them.
#[component]
fn OfflineChangedPanel() -> impl IntoView {
    let app = use_app();
    let texts = app.texts;
    let what = move || {
        let n = app.offline_changed.get().to_string();
        fill(texts.get().offline_changed_what, &[&n])
    };
    view! {
        <section class="alert-panel" id="offline-changed-panel" role="alert">
            <h2 class="alert-title">{move || texts.get().offline_changed_title}</h2>
            <p id="offline-changed-what">{what}</p>
            <div class="verify-row">
                <button
                    class="button primary"
                    id="offline-changed-open"
                    on:click=move |_| {
                        app.offline_changed.set(0);
                        app.page.set(Page::History);
                    }
                >
                    {move || texts.get().offline_changed_open}
                </button>
                <button
                    class="button"
                    id="offline-changed-dismiss"
                    on:click=move |_| app.offline_changed.set(0)
                >
                    {move || texts.get().offline_changed_dismiss}
                </button>
            </div>
        </section>
    }
}

#[component]
fn ForkPanel(fork: ForkReport) -> impl IntoView {
    let app = use_app();
    let texts = app.texts;
    let (witness, height) = (
        describe::isolate(&fork.witness),
        fork.conflict_height.to_string(),
    );
    let what = move || fill(texts.get().fork_what, &[&witness, &height]);
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
            // The Network page shows the same facts in a card of its own.
            <Show when=move || app.page.get() != Page::Network>
                <details class="evidence" id="fork-panel-evidence">
                    <summary id="fork-show-evidence">{move || texts.get().fork_show_evidence}</summary>
                    <ForkFacts fork=fork.clone()/>
                </details>
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

/// Every fact of a fork, for the network's operator (shown on one page at a time: the ids are
/// `fork-…`).
#[component]
pub fn ForkFacts(fork: ForkReport) -> impl IntoView {
    let texts = use_app().texts;
    let attack = fork.attack.clone();
    let validators = fork.byzantine_validators.clone();
    let submitted = fork.submitted_to.clone();
    view! {
        <dl class="facts">
                <dt>{move || texts.get().fork_detected_at}</dt>
                <dd id="fork-detected-at"><bdi>{describe::time(&fork.detected_at)}</bdi></dd>
                <dt>{move || texts.get().fork_common_height}</dt>
                <dd id="fork-common-height">{fork.common_height}</dd>
                <dt>{move || texts.get().fork_conflict_height}</dt>
                <dd id="fork-conflict-height">{fork.conflict_height}</dd>
                <dt>{move || texts.get().fork_witness}</dt>
                <dd class="mono" id="fork-witness"><bdi>{fork.witness.clone()}</bdi></dd>
                <dt>{move || texts.get().fork_trusted_hash}</dt>
                <dd class="mono" id="fork-trusted-hash"><bdi>{fork.trusted_hash.clone()}</bdi></dd>
                <dt>{move || texts.get().fork_conflicting_hash}</dt>
                <dd class="mono" id="fork-conflicting-hash"><bdi>{fork.conflicting_hash.clone()}</bdi></dd>
                <dt>{move || texts.get().fork_attack}</dt>
                <dd id="fork-attack" data-attack=fork.attack.clone()>
                    {move || describe::attack(texts.get(), &attack)}
                </dd>
                <dt>{move || texts.get().fork_byzantine}</dt>
                <dd id="fork-byzantine">
                    {if validators.is_empty() {
                        view! { <span>{move || texts.get().fork_byzantine_none}</span> }.into_any()
                    } else {
                        view! {
                            <ul class="plain">
                                {validators.into_iter().map(|v| view! { <li class="mono"><bdi>{v}</bdi></li> }).collect_view()}
                            </ul>
                        }
                            .into_any()
                    }}
                </dd>
                <dt>{move || texts.get().fork_evidence_file}</dt>
                <dd class="mono" id="fork-evidence-file"><bdi>{fork.evidence_file.clone()}</bdi></dd>
                <dt>{move || texts.get().fork_submitted}</dt>
                <dd id="fork-submitted">
                    {if submitted.is_empty() {
                        view! { <span>{move || texts.get().fork_not_submitted}</span> }.into_any()
                    } else {
                        view! {
                            <ul class="plain">
                                {submitted.into_iter().map(|s| view! { <li class="mono"><bdi>{s}</bdi></li> }).collect_view()}
                            </ul>
                        }
                            .into_any()
                    }}
                </dd>
            </dl>
    }
}

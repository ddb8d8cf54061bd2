//! The Network page: the light node's state and newest verified header, the chain it trusts
//! (checkpoint, fingerprint, trusting period), the full nodes it talks to with their health
//! (add and remove them), its notices; the fork evidence when there is a fork; and the import
//! screen when there is no usable chain, its trust expired, or the user changes network.

use leptos::{ev::SubmitEvent, prelude::*, task::spawn_local};
use tradeseal_api::{NodeEdit, NodeReport, NodeState, NodeStatus};

use super::{
    join::{ChainFacts, JoinNetwork},
    PageHeader,
};
use crate::{
    alerts::ForkFacts,
    app::use_app,
    describe,
    i18n::{fill, Text},
};

/// What the page is about, changing only when the kind of state changes (so forms keep what
/// was typed while statuses arrive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Loading,
    Unreachable,
    NotConfigured,
    Invalid,
    Configured,
}

#[component]
pub fn NetworkPage() -> impl IntoView {
    let app = use_app();
    let (texts, status) = (app.texts, app.status);
    let mode = Memo::new(move |_| match status.get() {
        None => Mode::Loading,
        Some(Err(_)) => Mode::Unreachable,
        Some(Ok(s)) => match s.state {
            NodeState::NotConfigured => Mode::NotConfigured,
            NodeState::ConfigInvalid { .. } => Mode::Invalid,
            _ => Mode::Configured,
        },
    });
    view! {
        <PageHeader title=|t| t.network_title intro=|t| t.network_intro/>
        {move || match mode.get() {
            Mode::Loading => view! { <p class="note">{move || texts.get().status_loading}</p> }.into_any(),
            Mode::Unreachable => {
                let why = move || match status.get() {
                    Some(Err(e)) => describe::unreachable(texts.get(), &e),
                    _ => String::new(),
                };
                view! {
                    <section class="card problem" id="backend-unreachable">
                        <p>{why}</p>
                    </section>
                }
                    .into_any()
            }
            Mode::NotConfigured => view! { <JoinNetwork/> }.into_any(),
            Mode::Invalid => view! { <InvalidConfig/> <JoinNetwork/> }.into_any(),
            Mode::Configured => view! { <Configured/> }.into_any(),
        }}
    }
}

/// The current status, once the backend has given one.
fn current(app: crate::app::AppState) -> Option<NodeStatus> {
    app.status.get().and_then(|s| s.ok())
}

#[component]
fn InvalidConfig() -> impl IntoView {
    let app = use_app();
    let texts = app.texts;
    let facts = move || match current(app).map(|s| s.state) {
        Some(NodeState::ConfigInvalid { source, reason }) => Some((source, reason)),
        _ => None,
    };
    view! {
        <section class="card problem" id="chain-config-invalid">
            <h2>{move || texts.get().network_invalid}</h2>
            <dl class="facts">
                <dt>{move || texts.get().network_invalid_file}</dt>
                <dd class="mono" id="chain-config-source">
                    <bdi>{move || facts().map(|f| f.0)}</bdi>
                </dd>
                <dt>{move || texts.get().network_invalid_reason}</dt>
                <dd id="chain-config-reason">{move || facts().map(|f| f.1)}</dd>
            </dl>
            <p class="note">{move || texts.get().join_invalid_next}</p>
        </section>
    }
}

#[component]
fn Configured() -> impl IntoView {
    let app = use_app();
    let texts = app.texts;
    let state = Memo::new(move |_| current(app).map(|s| s.state));
    let expired = move || matches!(state.get(), Some(NodeState::TrustExpired { .. }));
    let join = Memo::new(move |_| {
        if expired() {
            Some(false)
        } else {
            app.joining.get().then_some(true)
        }
    });
    view! {
        {move || match state.get() {
            Some(NodeState::ForkDetected { fork }) => Some(view! { <ForkEvidence fork/> }),
            _ => None,
        }}
        {move || {
            join.get()
                .map(|cancellable| {
                    let title: Text = if cancellable { |t| t.network_change } else { |t| t.expired_import };
                    view! { <JoinNetwork cancellable title/> }
                })
        }}
        <NodeCard/>
        <section class="card" id="chain-card">
            <h2>{move || texts.get().chain_title}</h2>
            {move || current(app).and_then(|s| s.chain).map(|chain| view! { <ChainFacts chain prefix=""/> })}
            <Show when=move || join.get().is_none()>
                <button class="button" id="change-network" on:click=move |_| app.joining.set(true)>
                    {move || texts.get().network_change}
                </button>
            </Show>
        </section>
        <NodesCard/>
        <Notices/>
    }
}

/// The light node's state in words (why, when it is stale or offline) and its newest header.
#[component]
fn NodeCard() -> impl IntoView {
    let app = use_app();
    let texts = app.texts;
    let line = move || current(app).map(|s| describe::state_line(texts.get(), &s, app.head_age()));
    let reason = move || match current(app).map(|s| s.state) {
        Some(NodeState::Stale { reason } | NodeState::Offline { reason }) => Some(view! {
            <p id="node-state-reason">
                <span class="muted">{move || texts.get().network_reason} ": "</span>
                {reason}
            </p>
        }),
        _ => None,
    };
    let head = move || current(app).and_then(|s| s.head);
    view! {
        <section class="card" id="node-card">
            <h2>{move || texts.get().status_label}</h2>
            <p class="state-line" id="network-state">{line}</p>
            {reason}
            <h3>{move || texts.get().head_title}</h3>
            {move || match head() {
                Some(head) => view! {
                    <dl class="facts" id="head-facts">
                        <dt>{move || texts.get().head_height}</dt>
                        <dd id="head-height">{head.height}</dd>
                        <dt>{move || texts.get().head_time}</dt>
                        <dd id="head-time"><bdi>{describe::time(&head.time)}</bdi></dd>
                        <dt>{move || texts.get().head_age}</dt>
                        <dd id="head-age">
                            {move || app.head_age().map(|age| describe::ago(texts.get(), age))}
                        </dd>
                        <dt>{move || texts.get().head_hash}</dt>
                        <dd class="mono hash" id="head-hash"><bdi>{head.hash}</bdi></dd>
                    </dl>
                }
                    .into_any(),
                None => view! {
                    <p class="note" id="head-missing">{move || texts.get().head_missing}</p>
                }
                    .into_any(),
            }}
        </section>
    }
}

/// The full nodes with role, health, latest height and what went wrong; add and remove.
#[component]
fn NodesCard() -> impl IntoView {
    let app = use_app();
    let texts = app.texts;
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);

    let edit = move |edit: NodeEdit, add: bool, done: Option<RwSignal<String>>| {
        busy.set(true);
        error.set(None);
        let mark = app.status_mark();
        spawn_local(async move {
            let answer = if add {
                crate::backend::node_add(&edit).await
            } else {
                crate::backend::node_remove(&edit).await
            };
            match answer {
                Ok(status) => {
                    if let Some(field) = done {
                        field.set(String::new());
                    }
                    app.offer_status(mark, status);
                }
                Err(e) => error.set(Some(e.message)),
            }
            busy.set(false);
        });
    };

    let nodes = move || {
        current(app)
            .map(|s| s.nodes)
            .unwrap_or_default()
            .into_iter()
            .enumerate()
            .collect::<Vec<_>>()
    };
    let url = RwSignal::new(String::new());
    let as_primary = RwSignal::new(false);
    let on_add = move |ev: SubmitEvent| {
        ev.prevent_default();
        let edit_url = url.get_untracked().trim().to_owned();
        if !edit_url.is_empty() {
            let request = NodeEdit {
                url: edit_url,
                primary: as_primary.get_untracked(),
            };
            edit(request, true, Some(url));
        }
    };

    view! {
        <section class="card" id="nodes-card">
            <h2>{move || texts.get().nodes_title}</h2>
            <p class="note">{move || texts.get().nodes_roles}</p>
            <Show
                when=move || !nodes().is_empty()
                fallback=move || view! { <p class="note" id="nodes-none">{move || texts.get().nodes_none}</p> }
            >
                <ul class="plain node-list" id="node-list">
                    <For
                        each=nodes
                        key=|(i, n)| format!("{i}|{n:?}")
                        children=move |(i, node)| {
                            let remove = NodeEdit { url: node.url.clone(), primary: node.primary };
                            let label_url = node.url.clone();
                            view! {
                                <NodeRow index=i node>
                                <button
                                    class="button small node-remove"
                                    id=format!("node-remove-{i}")
                                    aria-label=move || fill(texts.get().node_remove_label, &[&label_url])
                                    disabled=move || busy.get()
                                    on:click={
                                        let remove = remove.clone();
                                        move |_| edit(remove.clone(), false, None)
                                    }
                                >
                                    {move || texts.get().node_remove}
                                </button>
                                </NodeRow>
                            }
                        }
                    />
                </ul>
            </Show>
            <form class="node-add" id="node-add-form" novalidate on:submit=on_add>
                <h3>{move || texts.get().node_add_title}</h3>
                <div class="node-add-fields">
                    <label class="field grow">
                        <span class="field-label">{move || texts.get().node_add_url}</span>
                        <input
                            type="url"
                            id="node-add-url"
                            dir="auto"
                            autocomplete="off"
                            spellcheck="false"
                            placeholder="https://"
                            prop:value=move || url.get()
                            on:input=move |ev| url.set(event_target_value(&ev))
                        />
                    </label>
                    <label class="field">
                        <span class="field-label">{move || texts.get().node_add_role}</span>
                        <select
                            id="node-add-role"
                            on:change=move |ev| as_primary.set(event_target_value(&ev) == "primary")
                        >
                            <option value="witness" selected=move || !as_primary.get()>
                                {move || texts.get().role_witness}
                            </option>
                            <option value="primary" selected=move || as_primary.get()>
                                {move || texts.get().role_primary}
                            </option>
                        </select>
                    </label>
                    <button
                        type="submit"
                        class="button primary"
                        id="node-add-submit"
                        disabled=move || busy.get() || url.with(|u| u.trim().is_empty())
                    >
                        {move || texts.get().node_add_submit}
                    </button>
                </div>
            </form>
            <p class="error" id="node-edit-error" role="alert">{move || error.get()}</p>
        </section>
    }
}

/// One full node: address, role, health, latest height and what went wrong; then `children`
/// (its remove button).
#[component]
fn NodeRow(index: usize, node: NodeReport, children: Children) -> impl IntoView {
    let texts = use_app().texts;
    let role = if node.primary { "primary" } else { "witness" };
    let health = node.health;
    let height = node.latest_height;
    let url = node.url.clone();
    view! {
            <li
                class="node-row"
                id=format!("node-row-{index}")
                data-role=role
                data-health=describe::health_slug(health)
                data-url=url
            >
    <div class="node-main">
                <bdi class="mono node-url" id=node.primary.then_some("primary-node")>{node.url}</bdi>
                <span class="node-tags">
                    <span class="badge node-role">
                        {move || if node.primary { texts.get().role_primary } else { texts.get().role_witness }}
                    </span>
                    <span class="badge node-health" data-health=describe::health_slug(health)>
                        {move || describe::health(texts.get(), health)}
                    </span>
                    <span class="node-height">
                        {move || match height {
                            Some(h) => fill(texts.get().node_height, &[&h.to_string()]),
                            None => texts.get().node_height_none.to_owned(),
                        }}
                    </span>
                </span>
                {node.detail.filter(|d| !d.is_empty()).map(|d| view! { <span class="node-detail">{d}</span> })}
                </div>
                {children()}
            </li>
        }
}

/// What the light node wants the user to know without stopping.
#[component]
fn Notices() -> impl IntoView {
    let app = use_app();
    let texts = app.texts;
    let notices = move || current(app).map(|s| s.notices).unwrap_or_default();
    view! {
        <Show when=move || !notices().is_empty()>
            <section class="card" id="notices">
                <h2>{move || texts.get().notices_title}</h2>
                <ul class="notice-list">
                    {move || notices().into_iter().map(|n| view! { <li class="notice">{n}</li> }).collect_view()}
                </ul>
            </section>
        </Show>
    }
}

/// Every fact of a fork, for the network's operator.
#[component]
fn ForkEvidence(fork: tradeseal_api::ForkReport) -> impl IntoView {
    let texts = use_app().texts;
    view! {
        <section class="card problem" id="fork-evidence">
            <h2>{move || texts.get().fork_evidence_title}</h2>
            <ForkFacts fork/>
        </section>
    }
}

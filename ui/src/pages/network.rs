//! The Network page: the chain the light node trusts (checkpoint, trusting period) and the full
//! nodes it talks to, or why there is none.

use leptos::prelude::*;
use tradeseal_api::{ChainSummary, NodeStatus};

use super::{EmptyState, Page, PageHeader};
use crate::app::use_app;

#[component]
pub fn NetworkPage() -> impl IntoView {
    let app = use_app();
    let (texts, status) = (app.texts, app.status);
    view! {
        <PageHeader title=|t| t.network_title intro=|t| t.network_intro/>
        {move || match status.get() {
            Some(Ok(NodeStatus::Configured { chain })) => view! { <ChainCard chain/> }.into_any(),
            Some(Ok(NodeStatus::ConfigInvalid { source, reason })) => {
                view! {
                    <section class="card problem" id="chain-config-invalid">
                        <h2>{move || texts.get().network_invalid}</h2>
                        <p class="mono">{source}</p>
                        <p>{reason}</p>
                    </section>
                }
                    .into_any()
            }
            _ => view! { <EmptyState page=Page::Network text=|t| t.network_empty/> }.into_any(),
        }}
    }
}

#[component]
fn ChainCard(chain: ChainSummary) -> impl IntoView {
    let texts = use_app().texts;
    let days = chain.trusting_period_secs / 86_400;
    let witnesses = chain.witnesses.clone();
    view! {
        <section class="card" id="chain-card">
            <dl class="facts">
                <dt>{move || texts.get().network_chain}</dt>
                <dd id="chain-id">{chain.chain_id.clone()}</dd>
                <dt>{move || texts.get().network_checkpoint}</dt>
                <dd>
                    {move || texts.get().network_height} " " {chain.checkpoint_height}
                    <br/>
                    <span class="mono hash">{chain.checkpoint_hash.clone()}</span>
                </dd>
                <dt>{move || texts.get().network_trusting_period}</dt>
                <dd>{days} " " {move || texts.get().network_days}</dd>
                <dt>{move || texts.get().network_primary}</dt>
                <dd class="mono" id="primary-node">{chain.primary}</dd>
                <dt>{move || texts.get().network_witnesses}</dt>
                <dd>
                    <ul class="plain" id="witness-nodes">
                        {witnesses
                            .into_iter()
                            .map(|w| view! { <li class="mono">{w}</li> })
                            .collect_view()}
                    </ul>
                </dd>
            </dl>
            <p class="note">{move || texts.get().network_not_syncing}</p>
        </section>
    }
}

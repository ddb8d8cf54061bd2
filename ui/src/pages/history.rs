//! The History page: every verification on this device, newest first, filtered by verdict
//! and text, each with its verdict's sentence in the user's language, offline verdicts with
//! their online re-check (same, or CHANGED); each opens its report; the list exports as CSV
//! or JSON (with the wallet's English sentence).

use leptos::{prelude::*, task::spawn_local};
use tradeseal_api::{ExportFormat, HistoryExport, HistoryQuery, Verdict, VerifyReport};

use crate::{
    app::use_app,
    backend, files,
    pages::{
        verify::{headline, moment, tone, RecheckNote, ReportCard},
        PageHeader,
    },
    verdict::sentence,
};

#[component]
pub fn HistoryPage() -> impl IntoView {
    let app = use_app();
    let texts = app.texts;
    let verdict = RwSignal::new(String::new());
    let text = RwSignal::new(String::new());
    let rows = RwSignal::new(Vec::<VerifyReport>::new());
    let error = RwSignal::new(None::<String>);
    let open = RwSignal::new(None::<i64>);

    let query = move || HistoryQuery {
        verdicts: Verdict::parse(&verdict.get_untracked())
            .into_iter()
            .collect(),
        text: Some(text.get_untracked()).filter(|t| !t.trim().is_empty()),
        ..HistoryQuery::default()
    };
    let load = move || {
        let q = query();
        spawn_local(async move {
            match backend::history_list(&q).await {
                Ok(list) => {
                    rows.set(list);
                    error.set(None);
                }
                Err(e) => error.set(Some(e.message)),
            }
        });
    };
    load();
    // The backend re-checked offline verdicts in the background: show their flags.
    Effect::new(move |_| {
        if app.offline.get().is_some_and(|u| u.rechecked > 0) {
            load();
        }
    });
    let recheck = move |_| {
        spawn_local(async move {
            match backend::offline_recheck().await {
                Ok(_) => load(),
                Err(e) => error.set(Some(e.message)),
            }
        })
    };

    let export = move |format: ExportFormat| {
        let request = HistoryExport {
            format,
            query: HistoryQuery {
                limit: Some(10_000),
                ..query()
            },
        };
        spawn_local(async move {
            let result = backend::history_export(&request).await;
            match result {
                Ok(body) => {
                    let mime = match format {
                        ExportFormat::Csv => "text/csv",
                        ExportFormat::Json => "application/json",
                    };
                    let name = format!("tradeseal-history.{}", format.as_str());
                    if let Err(why) = files::download(&name, mime, &body) {
                        error.set(Some(why));
                    }
                }
                Err(e) => error.set(Some(e.message)),
            }
        });
    };

    view! {
        <PageHeader title=|t| t.history_title intro=|t| t.history_intro/>
        <section class="panel history-filters verify-row">
            <select
                id="history-verdict"
                on:change=move |ev| {
                    verdict.set(event_target_value(&ev));
                    load();
                }
            >
                <option value="">{move || texts.get().history_all_verdicts}</option>
                {Verdict::ALL
                    .iter()
                    .copied()
                    .map(|v| view! { <option value=v.as_str()>{move || headline(texts.get(), v)}</option> })
                    .collect_view()}
            </select>
            <input
                type="search"
                id="history-search"
                placeholder=move || texts.get().history_search
                on:input=move |ev| {
                    text.set(event_target_value(&ev));
                    load();
                }
            />
            <button class="button" id="history-recheck" on:click=recheck>
                {move || texts.get().history_recheck}
            </button>
            <button class="button" id="history-export-csv" on:click=move |_| export(ExportFormat::Csv)>
                {move || texts.get().history_export_csv}
            </button>
            <button class="button" id="history-export-json" on:click=move |_| export(ExportFormat::Json)>
                {move || texts.get().history_export_json}
            </button>
        </section>
        {move || error.get().map(|e| view! { <p class="error-text" role="alert">{e}</p> })}
        <Show
            when=move || !rows.get().is_empty()
            fallback=move || view! { <p class="empty-text" id="history-empty">{move || texts.get().history_empty}</p> }
        >
            <table class="history-table" id="history-table">
                <thead>
                    <tr>
                        <th>{move || texts.get().history_col_time}</th>
                        <th>{move || texts.get().history_col_verdict}</th>
                        <th>{move || texts.get().history_col_certificate}</th>
                        <th>{move || texts.get().history_col_source}</th>
                    </tr>
                </thead>
                <tbody>
                    {move || rows.get().into_iter().map(|r| {
                        let id = r.history_id;
                        let v = r.verdict;
                        let report = r.clone();
                        let said = r.clone();
                        let (mode, recheck) = (r.evidence.mode, r.recheck.clone());
                        view! {
                            <tr
                                class="history-row"
                                data-verdict=v.as_str()
                                on:click=move |_| open.update(|o| *o = if *o == Some(id) { None } else { Some(id) })
                            >
                                <td>{moment(r.checked_at)}</td>
                                <td class=format!("tone-{}", tone(v))>
                                    {move || headline(texts.get(), v)}
                                    <p class="muted history-sentence">{move || sentence(texts.get(), &said)}</p>
                                    <RecheckNote mode=mode recheck=recheck/>
                                </td>
                                <td>{r.certificate_id.clone().unwrap_or_default()}</td>
                                <td>{r.file.clone().unwrap_or_else(|| r.source.as_str().to_owned())}</td>
                            </tr>
                            <Show when=move || open.get() == Some(id)>
                                <tr class="history-detail"><td colspan="4"><ReportCard report=report.clone()/></td></tr>
                            </Show>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </Show>
    }
}

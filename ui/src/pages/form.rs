//! What the forms of the Keys, Sign and Issue pages share: one labelled text input bound to a
//! signal.

use leptos::prelude::*;

use crate::{app::use_app, i18n::Texts};

/// A labelled text input bound to `value` (`kind`: the input's type; `wide`: it takes the
/// rest of its row; `required`: the browser's own check too).
#[component]
pub(crate) fn Field(
    #[prop(into)] id: String,
    label: fn(&Texts) -> &'static str,
    value: RwSignal<String>,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional)] required: bool,
    #[prop(optional)] wide: bool,
) -> impl IntoView {
    let texts = use_app().texts;
    view! {
        <label class=if wide { "field grow" } else { "field" }>
            <span class="field-label">{move || label(texts.get())}</span>
            <input
                type=kind
                id=id
                required=required
                autocomplete="off"
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
            />
        </label>
    }
}

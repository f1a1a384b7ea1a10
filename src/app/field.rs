//! A labelled input with its hint and its error, linked for screen readers.

use web_sys::HtmlInputElement;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub(crate) struct FieldProps {
    pub(crate) id: AttrValue,
    pub(crate) label: AttrValue,
    pub(crate) value: AttrValue,
    pub(crate) oninput: Callback<String>,
    #[prop_or_default]
    pub(crate) hint: Option<AttrValue>,
    #[prop_or_default]
    pub(crate) error: Option<String>,
    #[prop_or(AttrValue::Static("text"))]
    pub(crate) kind: AttrValue,
    #[prop_or_default]
    pub(crate) placeholder: Option<AttrValue>,
    #[prop_or_default]
    pub(crate) mono: bool,
}

#[component]
pub(crate) fn Field(props: &FieldProps) -> Html {
    let oninput = {
        let cb = props.oninput.clone();
        Callback::from(move |e: InputEvent| {
            cb.emit(e.target_unchecked_into::<HtmlInputElement>().value())
        })
    };
    let hint_id = format!("{}-hint", props.id);
    let error_id = format!("{}-error", props.id);
    let described = [
        props.hint.as_ref().map(|_| hint_id.clone()),
        props.error.as_ref().map(|_| error_id.clone()),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ");
    html! {
        <div class={classes!("field", props.error.as_ref().map(|_| "invalid"))}>
            <label for={props.id.clone()}>{props.label.clone()}</label>
            <input
                id={props.id.clone()}
                type={props.kind.clone()}
                class={classes!(props.mono.then_some("mono"))}
                value={props.value.clone()}
                placeholder={props.placeholder.clone()}
                aria-invalid={props.error.is_some().to_string()}
                aria-describedby={(!described.is_empty()).then_some(described)}
                autocomplete="off"
                spellcheck="false"
                {oninput}
            />
            if let Some(hint) = &props.hint {
                <p class="hint" id={hint_id}>{hint.clone()}</p>
            }
            if let Some(error) = &props.error {
                <p class="error" id={error_id} role="alert">{error.clone()}</p>
            }
        </div>
    }
}

/// An `oninput` for a `<textarea>` that keeps its text in `state`.
pub(crate) fn textarea_setter(state: &UseStateHandle<String>) -> Callback<InputEvent> {
    let state = state.clone();
    Callback::from(move |e: InputEvent| {
        state.set(
            e.target_unchecked_into::<web_sys::HtmlTextAreaElement>()
                .value(),
        )
    })
}

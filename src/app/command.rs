//! The az CLI command equivalent to a step, with a copy button.

use yew::prelude::*;

use super::browser;

#[derive(Properties, PartialEq)]
pub(crate) struct CommandProps {
    /// What the command does, e.g. "Same step with the Azure CLI".
    pub(crate) title: AttrValue,
    /// The command text (may span lines).
    pub(crate) command: AttrValue,
}

#[component]
pub(crate) fn Command(props: &CommandProps) -> Html {
    let status = use_state(|| None::<Result<String, String>>);
    let onclick = {
        let status = status.clone();
        let text = props.command.to_string();
        Callback::from(move |_| {
            let (status, text) = (status.clone(), text.clone());
            yew::platform::spawn_local(async move {
                status.set(Some(
                    browser::copy_text(text).await.map(|_| "Copied.".into()),
                ));
            });
        })
    };
    html! {
        <div class="command">
            <div class="command-head">
                <span>{props.title.clone()}</span>
                <button type="button" class="secondary small" {onclick} aria-label={format!("Copy: {}", props.title)}>{"Copy"}</button>
            </div>
            <pre class="mono"><code>{props.command.clone()}</code></pre>
            if let Some(s) = &*status {
                <p class={classes!("status", if s.is_ok() { "ok" } else { "error" })} role="status">
                    { match s { Ok(m) | Err(m) => m.clone() } }
                </p>
            }
        </div>
    }
}

//! The line under a form: working on it (with a spinner), failed (with what to do), or done.

use yew::prelude::*;

/// A progress line, an error or a success line under a form.
#[derive(Clone, PartialEq)]
pub(crate) enum Outcome {
    Busy(String),
    Failed(String),
    Done(String),
}

/// The line for `outcome` with element id `id`; nothing when there is none.
pub(crate) fn outcome_view(outcome: &Option<Outcome>, id: &str) -> Html {
    match outcome {
        None => html! {},
        Some(Outcome::Busy(m)) => html! {
            <p class="progress" id={id.to_owned()} role="status" aria-live="polite"><span class="spinner" aria-hidden="true"></span>{m}</p>
        },
        Some(Outcome::Failed(m)) => {
            html! { <p class="error" id={id.to_owned()} role="alert">{m}</p> }
        }
        Some(Outcome::Done(m)) => {
            html! { <p class="status ok" id={id.to_owned()} role="status">{m}</p> }
        }
    }
}

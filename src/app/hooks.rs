//! Hooks shared by the steps.

use std::cell::RefCell;
use std::collections::BTreeMap;

use yew::prelude::*;

thread_local! {
    static DRAFTS: RefCell<BTreeMap<String, String>> = const { RefCell::new(BTreeMap::new()) };
}

/// What the forms held in the page's first module, by field id (`super::handoff`).
pub(crate) fn set_drafts(drafts: BTreeMap<String, String>) {
    DRAFTS.with(|d| *d.borrow_mut() = drafts);
}

/// What the field `id` held in the first module, if the page came from there.
pub(crate) fn draft(id: &str) -> Option<String> {
    DRAFTS.with(|d| d.borrow().get(id).cloned())
}

/// A text field's value and its setter, starting from what the field `id` held in the first
/// module when the page came from there.
#[hook]
pub(crate) fn use_draft(
    id: &'static str,
    initial: &'static str,
) -> (UseStateHandle<String>, Callback<String>) {
    let state = use_state(|| draft(id).unwrap_or_else(|| initial.to_owned()));
    let set = {
        let state = state.clone();
        Callback::from(move |v: String| state.set(v))
    };
    (state, set)
}

/// `value`, one task late whenever it changes: what draws from it (a table over thousands of
/// certificates) renders in a task of its own after the change instead of in the same one as the
/// rest of the page, so that no single task holds the page for long (a batch of 10,000 devices
/// redraws the page in several short tasks, not one of 150 ms). Equal values redraw nothing.
#[hook]
pub(crate) fn use_deferred<T: Clone + PartialEq + 'static>(value: T) -> T {
    let shown = use_state_eq(|| value.clone());
    {
        let shown = shown.clone();
        use_effect_with(value, move |value| {
            let value = value.clone();
            let pending = gloo::timers::callback::Timeout::new(0, move || shown.set(value));
            // A newer value before it fired replaces it.
            move || drop(pending)
        });
    }
    (*shown).clone()
}

//! Hooks shared by the steps.

use yew::prelude::*;

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

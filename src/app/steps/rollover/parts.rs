//! The rollover's leaf parts: the two CAs chosen, and the checklist of where it stands.

use super::*;
use crate::iothub::ChecklistItem;

#[derive(Properties, PartialEq)]
pub(super) struct RolloverChoiceProps {
    pub(super) cas: Rc<Vec<(SharedCa, Rc<Issued>)>>,
    /// The CA in use.
    pub(super) old: usize,
    /// The CA taking over.
    pub(super) new: Option<usize>,
    /// `(false, i)`: the CA in use is now `i`; `(true, i)`: the CA taking over.
    pub(super) onchoose: Callback<(bool, Option<usize>)>,
}

/// "From" and "To": the CA in use and the one taking over.
#[component]
pub(super) fn RolloverChoice(props: &RolloverChoiceProps) -> Html {
    let option = |i: usize, (_, card): &(SharedCa, Rc<Issued>), selected: bool| {
        html! { <option value={i.to_string()} {selected}>{format!("{} · {}", card.title, card.info.subject)}</option> }
    };
    let choose = |new: bool| {
        props.onchoose.reform(move |e: Event| {
            let v = e
                .target_unchecked_into::<web_sys::HtmlSelectElement>()
                .value();
            (new, v.parse().ok())
        })
    };
    html! {
        <div class="grid">
            <div class="field">
                <label for="rollover-old">{"From (the CA in use)"}</label>
                <select id="rollover-old" onchange={choose(false)}>
                    { for props.cas.iter().enumerate().map(|(i, c)| option(i, c, i == props.old)) }
                </select>
            </div>
            <div class="field">
                <label for="rollover-new">{"To (the CA taking over)"}</label>
                <select id="rollover-new" onchange={choose(true)}>
                    { for props.cas.iter().enumerate().map(|(i, c)| option(i, c, Some(i) == props.new)) }
                </select>
            </div>
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub(super) struct RolloverChecklistProps {
    pub(super) items: Vec<ChecklistItem>,
    /// What DPS's reading adds, if anything.
    pub(super) note: Option<String>,
}

/// Where the rollover stands, stage by stage.
#[component]
pub(super) fn RolloverChecklist(props: &RolloverChecklistProps) -> Html {
    html! {
        <div id="rollover-standing" role="status">
            <ol class="checklist">
                { for props.items.iter().map(|i| html! {
                    <li class={classes!(i.done.then_some("done"), i.muted.then_some("muted"))} id={i.id}>{&i.text}</li>
                }) }
            </ol>
            if let Some(n) = &props.note { <p class="muted">{n}</p> }
        </div>
    }
}

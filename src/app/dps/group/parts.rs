//! The enrollment group's leaf parts: the CA options, the proof on DPS, the further options and
//! the list of groups.

use super::*;
use crate::iothub::signing_subject;

/// An `onchange` for a `<select>` that keeps its value in `state`.
pub(super) fn select(state: &UseStateHandle<String>) -> Callback<Event> {
    let state = state.clone();
    Callback::from(move |e: Event| {
        state.set(
            e.target_unchecked_into::<web_sys::HtmlSelectElement>()
                .value(),
        )
    })
}

#[derive(Properties, PartialEq)]
pub(super) struct CaChoiceProps {
    pub(super) cas: Rc<Vec<(SharedCa, Rc<Issued>)>>,
    pub(super) form: Form,
}

/// The primary CA and, for a group holding its CAs, the secondary of a rollover.
#[component]
pub(super) fn CaChoice(props: &CaChoiceProps) -> Html {
    let f = &props.form;
    html! {
        <>
            <div class="field">
                <label for="dps-primary">{"Primary CA"}</label>
                <select id="dps-primary" onchange={select(&f.primary_state)}><CaOptions cas={props.cas.clone()} selected={f.primary.clone()} /></select>
                <p class="hint">{"Devices whose chain reaches it may register"}</p>
            </div>
            if !*f.by_reference {
                <div class="field">
                    <label for="dps-secondary">{"Secondary CA (rollover)"}</label>
                    <select id="dps-secondary" onchange={select(&f.secondary)}><CaOptions cas={props.cas.clone()} selected={(*f.secondary).clone()} none={Some(AttrValue::from("None"))} /></select>
                    <p class="hint">{"Put the next CA here while devices move to it"}</p>
                </div>
            }
        </>
    }
}

#[derive(Properties, PartialEq)]
pub(super) struct CaSourceProps {
    pub(super) form: Form,
    pub(super) onprove: Callback<MouseEvent>,
    /// How the proof on DPS went.
    pub(super) note: Option<Outcome>,
    /// The proof with the Azure CLI.
    pub(super) command: String,
}

/// How the group names its CA: pasted or chosen and held whole, or proven on DPS by name.
#[component]
pub(super) fn CaSource(props: &CaSourceProps) -> Html {
    let f = &props.form;
    let by_reference = *f.by_reference;
    let mode = |value: bool| {
        let by_reference = f.by_reference.clone();
        Callback::from(move |_: Event| by_reference.set(value))
    };
    html! {
        <>
            if f.primary == "paste" && !by_reference {
                <div class="field">
                    <label for="dps-pasted">{"CA certificate (PEM)"}</label>
                    <textarea id="dps-pasted" class="mono" rows="6" autocomplete="off" spellcheck="false" value={(*f.pasted).clone()} oninput={textarea_setter(&f.pasted)} placeholder="-----BEGIN CERTIFICATE-----" />
                </div>
            }
            <fieldset class="choice">
                <legend>{"How the group names its CA"}</legend>
                <label><input type="radio" id="dps-mode-signing" name="dps-mode" checked={!by_reference} onchange={mode(false)} />{" Its certificate, in the group (no proof needed)"}</label>
                <label><input type="radio" id="dps-mode-reference" name="dps-mode" checked={by_reference} onchange={mode(true)} />{" A CA certificate uploaded to DPS and proven there"}</label>
            </fieldset>
            if by_reference {
                <ProveOnDps ca_name={(*f.ca_name).clone()} onname={set(&f.ca_name)} onprove={props.onprove.clone()} note={props.note.clone()}
                    command={props.command.clone()} />
            }
        </>
    }
}

#[derive(Properties, PartialEq)]
struct CaOptionsProps {
    pub(super) cas: Rc<Vec<(SharedCa, Rc<Issued>)>>,
    /// `ca-N`, `paste` or empty (none).
    pub(super) selected: AttrValue,
    /// The label of a "none" option; without one, a "paste" option ends the list instead.
    #[prop_or_default]
    pub(super) none: Option<AttrValue>,
}

/// The options of a CA choice: the page's CAs, and "none" or "paste".
#[component]
fn CaOptions(props: &CaOptionsProps) -> Html {
    let selected = props.selected.as_str();
    html! {
        <>
            if let Some(label) = &props.none { <option value="" selected={selected.is_empty()}>{label}</option> }
            { for props.cas.iter().enumerate().map(|(i, (_, issued))| {
                let v = format!("ca-{i}");
                html! { <option value={v.clone()} selected={selected == v}>{format!("{} · {}", issued.title, issued.info.subject)}</option> }
            }) }
            if props.none.is_none() { <option value="paste" selected={selected == "paste"}>{"Paste a CA certificate (PEM)"}</option> }
        </>
    }
}

#[derive(Properties, PartialEq)]
struct ProveOnDpsProps {
    pub(super) ca_name: AttrValue,
    pub(super) onname: Callback<String>,
    pub(super) onprove: Callback<MouseEvent>,
    pub(super) note: Option<Outcome>,
    /// The same with the Azure CLI.
    pub(super) command: String,
}

/// The CA uploaded to DPS under a name and proven there.
#[component]
fn ProveOnDps(props: &ProveOnDpsProps) -> Html {
    html! {
        <>
            <div class="grid">
                <Field id="dps-ca-name" label="CA certificate name on DPS" value={props.ca_name.clone()} oninput={props.onname.clone()} hint="Letters, digits, - . _ (at most 64)" />
            </div>
            <div class="actions">
                <button type="button" class="secondary" id="dps-prove" onclick={props.onprove.clone()}>{"Upload the primary CA to DPS and prove possession"}</button>
            </div>
            { outcome_view(&props.note, "dps-proof-status") }
            <Command title="Same with the Azure CLI" command={props.command.clone()} />
        </>
    }
}

#[derive(Properties, PartialEq)]
pub(super) struct GroupMoreProps {
    pub(super) reprovision: AttrValue,
    pub(super) onreprovision: Callback<Event>,
    pub(super) initial_twin: AttrValue,
    pub(super) ontwin: Callback<InputEvent>,
    pub(super) iot_edge: bool,
    pub(super) onedge: Callback<Event>,
}

/// Initial twin, reprovisioning, IoT Edge.
#[component]
pub(super) fn GroupMore(props: &GroupMoreProps) -> Html {
    let r = props.reprovision.as_str();
    html! {
        <details class="help">
            <summary>{"Initial twin, reprovisioning, IoT Edge"}</summary>
            <div class="grid">
                <div class="field">
                    <label for="dps-reprovision">{"When a device registers again"}</label>
                    <select id="dps-reprovision" onchange={props.onreprovision.clone()}>
                        <option value="migrate" selected={r == "migrate"}>{"Re-provision and migrate its data (default)"}</option>
                        <option value="reset" selected={r == "reset"}>{"Re-provision and reset to the initial twin"}</option>
                        <option value="never" selected={r == "never"}>{"Never re-provision"}</option>
                    </select>
                </div>
            </div>
            <div class="field">
                <label for="dps-initial-twin">{"Initial twin (JSON, optional)"}</label>
                <textarea autocomplete="off" id="dps-initial-twin" class="mono" rows="4" spellcheck="false" value={props.initial_twin.clone()} oninput={props.ontwin.clone()} placeholder="{\"tags\": {\"site\": \"plant-7\"}, \"properties\": {\"desired\": {\"interval\": 30}}}" />
                <p class="hint">{"Set on a device's first assignment: tags and desired properties."}</p>
            </div>
            <label class="check"><input type="checkbox" id="dps-edge" checked={props.iot_edge} onchange={props.onedge.clone()} />{" IoT Edge devices"}</label>
        </details>
    }
}

#[derive(Properties, PartialEq)]
pub(super) struct GroupTableProps {
    pub(super) list: Vec<EnrollmentGroup>,
}

/// The DPS's enrollment groups: id, status, what each trusts.
#[component]
pub(super) fn GroupTable(props: &GroupTableProps) -> Html {
    html! {
        <div class="table-wrap">
            <table id="dps-groups">
                <thead><tr><th scope="col">{"Group"}</th><th scope="col">{"Status"}</th><th scope="col">{"Trusts"}</th></tr></thead>
                <tbody>
                    { for props.list.iter().map(|g| html! {
                        <tr>
                            <td><code>{&g.enrollment_group_id}</code></td>
                            <td><span class={classes!("badge", if g.is_enabled() { "ok" } else { "warn" })}>{if g.is_enabled() { "enabled" } else { "disabled" }}</span></td>
                            <td>if g.attestation.is_symmetric_key() { {"Symmetric key"} }
                                { for g.signing_entries().into_iter().map(|p| html! { <div>{signing_subject(p)}</div> }) }
                                { for g.ca_references().into_iter().map(|r| html! { <div>{format!("DPS certificate '{r}'")}</div> }) }</td>
                        </tr>
                    }) }
                </tbody>
            </table>
        </div>
    }
}

//! Symmetric-key attestation: the attestation choice of the enrollment forms, the key DPS made
//! for a group or an enrollment (as DPS answered it, with a copy button), and for a group the
//! device key of a registration id with what a device needs to provision.

use yew::prelude::*;

use super::run::now_ms;
use super::set;
use crate::app::command::Command;
use crate::app::fetch::Fetch;
use crate::app::field::Field;
use crate::contract::{derive_device_key, Attestation};
use crate::iothub::{DpsService, HubClient, Plane, RestError};

/// The attestation radio buttons: X.509 (`false`) or symmetric key (`true`). `id` prefixes the
/// inputs' ids (`{id}-x509`, `{id}-symkey`).
pub(super) fn attestation_choice(id: &'static str, symmetric: &UseStateHandle<bool>) -> Html {
    let pick = |value: bool| {
        let symmetric = symmetric.clone();
        Callback::from(move |_: Event| symmetric.set(value))
    };
    html! {
        <fieldset class="choice">
            <legend>{"Attestation (how devices prove themselves)"}</legend>
            <label><input type="radio" id={format!("{id}-x509")} name={id} checked={!**symmetric} onchange={pick(false)} />{" X.509 certificates"}</label>
            <label><input type="radio" id={format!("{id}-symkey")} name={id} checked={**symmetric} onchange={pick(true)} />{" Symmetric key (DPS makes the keys)"}</label>
        </fieldset>
    }
}

/// The connection details a symmetric-key device provisions with.
fn details(scope: &str, registration_id: &str, key: &str) -> String {
    format!(
        "Provisioning host: {}\nID scope: {scope}\nRegistration id: {registration_id}\nDevice key: {key}",
        crate::contract::DPS_GLOBAL_HOST
    )
}

#[derive(Properties, PartialEq)]
pub(super) struct KeysProps {
    /// `dps-group` or `dps-individual`: the prefix of the ids drawn.
    pub(super) id: AttrValue,
    pub(super) id_scope: AttrValue,
    /// The enrollment's primary key as DPS answered it.
    pub(super) primary: AttrValue,
    /// For an individual enrollment, its registration id (its key is the device's own); `None`
    /// for a group, whose devices' keys are derived here.
    pub(super) registration_id: Option<AttrValue>,
}

/// The key DPS answered with, and what a device signs with.
#[component]
pub(super) fn SymmetricKeys(props: &KeysProps) -> Html {
    let typed = use_state(String::new);
    let scope = match props.id_scope.trim() {
        "" => "ID_SCOPE",
        s => s,
    };
    let device = match &props.registration_id {
        Some(id) => html! {
            <Command title="What the device needs" command={details(scope, id, &props.primary)} />
        },
        None => derived_view(&props.id, scope, &props.primary, &typed),
    };
    html! {
        <div class="symkey">
            <div id={format!("{}-key", props.id)}>
                <Command title="Primary key (as DPS answered it)" command={props.primary.clone()} />
            </div>
            { device }
        </div>
    }
}

/// The device key box of a group: a registration id typed, its derived key and details.
fn derived_view(
    prefix: &str,
    scope: &str,
    group_key: &str,
    typed: &UseStateHandle<String>,
) -> Html {
    let id = typed.trim();
    let derived = (!id.is_empty()).then(|| derive_device_key(group_key, id));
    html! {
        <>
            <div class="grid">
                <Field id={format!("{prefix}-derive-id")} label="Device key for registration id" value={(**typed).clone()} oninput={set(typed)}
                    hint="Each device of the group signs with a key derived from the group's over its registration id" />
            </div>
            { match derived {
                None => html! {},
                Some(Ok(key)) => html! {
                    <div id={format!("{prefix}-derived")}>
                        <Command title={format!("Device key of {id}")} command={key.clone()} />
                        <Command title="What the device needs" command={details(scope, id, &key)} />
                    </div>
                },
                Some(Err(e)) => html! { <p class="error" id={format!("{prefix}-derived")} role="alert">{e.to_string()}</p> },
            } }
        </>
    }
}

/// What DPS holds for the enrollment group or individual enrollment `id` about to be written
/// again: its attestation (`None` when DPS has none of that id), so that a symmetric-key write
/// keeps its keys (`DpsService::keep_held_keys`).
pub(super) async fn held_attestation(
    client: &HubClient<Fetch>,
    dps: &DpsService,
    id: &str,
    group: bool,
) -> Result<Option<Attestation>, RestError> {
    let now = now_ms() / 1000;
    let request = if group {
        dps.get_group(id, now)?
    } else {
        dps.get_enrollment(id, now)?
    };
    let body = match client.call(Plane::Dps, &request).await {
        Ok(body) => body,
        Err(RestError::Status { status: 404, .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    #[derive(serde::Deserialize)]
    struct Held {
        attestation: Attestation,
    }
    serde_json::from_str::<Held>(&body)
        .map(|h| Some(h.attestation))
        .map_err(|e| RestError::BadAnswer(format!("not an enrollment: {e}")))
}

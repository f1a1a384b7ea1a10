//! Provision with DPS: the service settings, an X.509 enrollment group (`group.rs`) over a CA of
//! the page (its certificate in the group, or a CA proven on DPS and referenced), and a
//! provisioning test in the browser (`test.rs`): the device registers with DPS over MQTT over
//! WebSocket, is assigned, then connects to the assigned hub and sends telemetry.

mod group;
mod individual;
mod run;
mod test;

use std::rc::Rc;

use yew::prelude::*;

use super::command::Command;
use super::fetch::localhub_info;
use super::field::Field;
use super::outcome::{outcome_view, Outcome};
use super::settings::{HubSettings, LOCALHUB_ENDPOINT, RELAY_ENDPOINT};
use super::state::{Issued, SharedCa};
use crate::iothub::{Arm, AzDps, DpsService, DPS_DOMAIN};

#[derive(Properties, PartialEq)]
pub(crate) struct DpsProps {
    /// The CAs of the page, root first: what an enrollment group can trust.
    pub(crate) cas: Rc<Vec<(SharedCa, Rc<Issued>)>>,
    /// Devices issued on this page, to fill in the registration id.
    pub(crate) devices: Rc<Vec<Rc<Issued>>>,
    /// The hub settings: the target, and the ARM credentials the DPS's certificates use too.
    pub(crate) settings: UseReducerHandle<HubSettings>,
}

/// A text field's state setter.
fn set(state: &UseStateHandle<String>) -> Callback<String> {
    let state = state.clone();
    Callback::from(move |v: String| state.set(v))
}

/// The DPS name in ARM paths: as typed, else the first label of the connection string's host.
fn dps_name(typed: &str, service: &Result<DpsService, crate::iothub::RestError>) -> String {
    match (typed.trim(), service) {
        ("", Ok(s)) => s
            .host_name()
            .strip_suffix(DPS_DOMAIN)
            .unwrap_or_default()
            .to_owned(),
        (t, _) => t.to_owned(),
    }
}

#[component]
pub(crate) fn DpsStep(props: &DpsProps) -> Html {
    let settings = (*props.settings).clone();
    let localhub = settings.is_localhub();
    let endpoint = use_state(String::new);
    let connection_string = use_state(String::new);
    let id_scope = use_state(String::new);
    let name = use_state(String::new);
    let note = use_state(|| None::<Outcome>);
    use_effect_with(localhub, {
        let (endpoint, name) = (endpoint.clone(), name.clone());
        move |localhub: &bool| {
            endpoint.set(
                if *localhub {
                    LOCALHUB_ENDPOINT
                } else {
                    RELAY_ENDPOINT
                }
                .into(),
            );
            name.set(String::new());
        }
    });
    let service = DpsService::from_connection_string(&endpoint, &connection_string);
    let dps = dps_name(&name, &service);
    let p = settings.profile();
    let arm = Arm::dps(
        &p.arm_endpoint,
        &p.subscription,
        &p.resource_group,
        if dps.is_empty() { "DPS" } else { &dps },
        &p.arm_token,
    );
    let az = AzDps {
        dps: dps.clone(),
        resource_group: if localhub {
            String::new()
        } else {
            p.resource_group.clone()
        },
    };

    let on_localhub = {
        let (endpoint, cs, scope, name, note) = (
            endpoint.clone(),
            connection_string.clone(),
            id_scope.clone(),
            name.clone(),
            note.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            let (endpoint, cs, scope, name, note) = (
                endpoint.clone(),
                cs.clone(),
                scope.clone(),
                name.clone(),
                note.clone(),
            );
            note.set(Some(Outcome::Busy(
                "Asking localhub for its DPS settings…".into(),
            )));
            yew::platform::spawn_local(async move {
                match localhub_info(&endpoint).await {
                    Ok(info) if !info.id_scope.is_empty() => {
                        cs.set(info.dps_connection_string);
                        name.set(info.dps_name);
                        note.set(Some(Outcome::Done(format!(
                            "Read localhub's DPS: ID scope {} and its provisioningserviceowner connection string.",
                            info.id_scope
                        ))));
                        scope.set(info.id_scope);
                    }
                    Ok(_) => note.set(Some(Outcome::Failed(
                        "This localhub has no DPS (no ID scope in /localhub/info): update it."
                            .into(),
                    ))),
                    Err(e) => note.set(Some(Outcome::Failed(e))),
                }
            });
        })
    };

    html! {
        <section class="step" id="step-dps" aria-labelledby="step-dps-title">
            <div class="step-head">
                <span class="step-no" aria-hidden="true">{"7"}</span>
                <div>
                    <h2 id="step-dps-title">{"Provision fleets with DPS"}</h2>
                    <p class="lede">{"An X.509 enrollment group lets every device whose chain reaches your CA register itself with the Device Provisioning Service and be assigned to a hub. Try it here: the browser registers as the device, then connects to the hub DPS chose and sends telemetry."}</p>
                </div>
            </div>
            <div class="card form">
                <h3 class="sub">{"The provisioning service"}</h3>
                <div class="grid">
                    <Field id="dps-endpoint" label="DPS service endpoint" value={(*endpoint).clone()} oninput={set(&endpoint)}
                        hint={if localhub { "localhub's REST address".to_owned() } else { format!("The relay on your machine (`localhub relay --dps NAME`, {RELAY_ENDPOINT}); DPS refuses browser calls") }} />
                    <Field id="dps-connection-string" label="DPS connection string" kind="password" mono=true value={(*connection_string).clone()} oninput={set(&connection_string)}
                        hint="HostName=NAME.azure-devices-provisioning.net;SharedAccessKeyName=provisioningserviceowner;SharedAccessKey=… (the DPS's, not the hub's)" />
                    <Field id="dps-id-scope" label="ID scope" mono=true value={(*id_scope).clone()} oninput={set(&id_scope)} hint="0ne…, on the DPS overview" />
                    <Field id="dps-name" label="DPS name (for its CA certificates)" value={(*name).clone()} oninput={set(&name)}
                        placeholder={AttrValue::from(dps.clone())} hint="Taken from the connection string when empty; ARM uses the hub step's subscription, resource group and token" />
                </div>
                if !localhub {
                    <Command title="Print the DPS connection string" command={az.connection_string()} />
                    <Command title="Print the ID scope" command={az.id_scope()} />
                }
                if localhub {
                    <div class="actions">
                        <button type="button" class="secondary" id="dps-read-localhub" onclick={on_localhub}>{"Read localhub's DPS settings"}</button>
                    </div>
                }
                { outcome_view(&note, "dps-settings-status") }
            </div>
            <group::GroupCard service={service.clone()} arm={arm} cas={props.cas.clone()} localhub={localhub} az={az.clone()} />
            <individual::IndividualCard service={service.clone()} devices={props.devices.clone()} localhub={localhub} az={az.clone()} />
            <test::ProvisioningTest id_scope={AttrValue::from((*id_scope).clone())} devices={props.devices.clone()} localhub={localhub} az={az} />
        </section>
    }
}

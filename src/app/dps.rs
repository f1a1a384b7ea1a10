//! Provision with DPS: the service settings, an X.509 enrollment group (`group.rs`) over a CA of
//! the page (its certificate in the group, or a CA proven on DPS and referenced), and a
//! provisioning test in the browser (`test.rs`): the device registers with DPS over MQTT over
//! WebSocket, is assigned, then connects to the assigned hub and sends telemetry.

mod group;
mod individual;
mod run;
mod symkey;
mod test;

use std::rc::Rc;

use yew::prelude::*;

use super::command::Command;
use super::fetch::localhub_info;
use super::field::Field;
use super::hub::SettingsAction;
use super::outcome::{outcome_view, Outcome};
use super::settings::{HubSettings, Profile, RELAY_ENDPOINT};
use super::state::{Issued, SharedCa};

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

/// The DPS service API to call, or `None` after saying in `note` why there is none (no
/// connection string, a malformed one).
fn service_or_say(
    service: &Result<crate::iothub::DpsService, crate::iothub::RestError>,
    note: &UseStateHandle<Option<Outcome>>,
) -> Option<crate::iothub::DpsService> {
    match service {
        Ok(d) => Some(d.clone()),
        Err(e) => {
            note.set(Some(Outcome::Failed(e.to_string())));
            None
        }
    }
}

#[component]
pub(crate) fn DpsStep(props: &DpsProps) -> Html {
    let settings = (*props.settings).clone();
    let localhub = settings.is_localhub();
    let note = use_state(|| None::<Outcome>);
    let p = settings.profile().clone();
    let service = settings.dps_service();
    let dps = settings.dps_arm_name();
    let arm = settings.dps_arm();
    let az = settings.az_dps();
    let edit = |f: fn(&mut Profile, String)| {
        let settings = props.settings.clone();
        Callback::from(move |v: String| settings.dispatch(SettingsAction::Edit(f, v)))
    };

    let on_localhub = {
        let (settings, note) = (props.settings.clone(), note.clone());
        Callback::from(move |_: MouseEvent| {
            let (settings, note) = (settings.clone(), note.clone());
            let endpoint = settings.localhub.dps_endpoint.clone();
            note.set(Some(Outcome::Busy(
                "Asking localhub for its DPS settings…".into(),
            )));
            yew::platform::spawn_local(async move {
                match localhub_info(&endpoint).await {
                    Ok(info) if !info.id_scope.is_empty() => {
                        let scope = info.id_scope.clone();
                        settings.dispatch(SettingsAction::DpsFromLocalhub(
                            info.dps_connection_string,
                            info.id_scope,
                            info.dps_name,
                        ));
                        note.set(Some(Outcome::Done(format!(
                            "Read localhub's DPS: ID scope {scope} and its provisioningserviceowner connection string."
                        ))));
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
                    <Field id="dps-endpoint" label="DPS service endpoint" value={p.dps_endpoint.clone()} oninput={edit(|p, v| p.dps_endpoint = v)}
                        hint={if localhub { "localhub's REST address".to_owned() } else { format!("The relay on your machine (`localhub relay --dps NAME`, {RELAY_ENDPOINT}); DPS refuses browser calls") }} />
                    <Field id="dps-connection-string" label="DPS connection string" kind="password" mono=true value={p.dps_connection_string.clone()} oninput={edit(|p, v| p.dps_connection_string = v)}
                        hint="HostName=NAME.azure-devices-provisioning.net;SharedAccessKeyName=provisioningserviceowner;SharedAccessKey=… (the DPS's, not the hub's)" />
                    <Field id="dps-id-scope" label="ID scope" mono=true value={p.dps_id_scope.clone()} oninput={edit(|p, v| p.dps_id_scope = v)} hint="0ne…, on the DPS overview" />
                    <Field id="dps-name" label="DPS name (for its CA certificates)" value={p.dps_name.clone()} oninput={edit(|p, v| p.dps_name = v)}
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
            <group::GroupCard service={service.clone()} arm={arm} cas={props.cas.clone()} localhub={localhub} az={az.clone()} id_scope={AttrValue::from(p.dps_id_scope.clone())} />
            <individual::IndividualCard service={service.clone()} devices={props.devices.clone()} localhub={localhub} az={az.clone()} id_scope={AttrValue::from(p.dps_id_scope.clone())} />
            <test::ProvisioningTest id_scope={AttrValue::from(p.dps_id_scope.clone())} devices={props.devices.clone()} localhub={localhub} az={az} />
            <LimitsCard />
        </section>
    }
}

/// The published limits that shape certificate work, each with its source.
#[component]
fn LimitsCard() -> Html {
    html! {
        <details class="card" id="limits">
            <summary>{"Limits that shape certificate work (IoT Hub and DPS)"}</summary>
            <ul>
                { for crate::iothub::LIMITS.iter().map(|l| html! { <li>{l.line()}</li> }) }
            </ul>
            <p class="hint">{"The registry's throttle by tier is in the Register step, before many devices go."}</p>
        </details>
    }
}

//! The provisioning test: this browser as the device registers with DPS over MQTT over
//! WebSocket (the core's `Provisioning` flow), and once assigned connects to the assigned hub and
//! sends telemetry, with the packet log of both connections.

use std::cell::RefCell;
use std::rc::Rc;

use yew::prelude::*;

use super::run::{notes, Connection, Phase, RunAction, RunView};
use super::set;
use super::symkey::attestation_choice;
use crate::app::command::Command;
use crate::app::field::Field;
use crate::app::mqtt_socket::{choose_certificate, now_ms, MqttSocket, Next};
use crate::app::state::{issued_all_for, Issued};
use crate::contract::{websocket_url, DeviceId, DPS_GLOBAL_HOST};
use crate::iothub::{
    provisioning_files, provisioning_form_problem, provisioning_refusal_advice, sample_telemetry,
    AzDps, DeviceLogin, DpsDeviceRegistration, ProvisioningFiles,
};
use crate::mqtt::{
    refusal_advice, DeviceEvent, DeviceSession, Provisioning, ProvisioningEvent, QoS,
};

/// Where DPS's device endpoint and the hub's WebSocket are for localhub started by run.sh.
const LOCALHUB_WSS: &str = "localhost:8884";

#[derive(Properties, PartialEq)]
pub(super) struct TestProps {
    pub(super) id_scope: AttrValue,
    pub(super) devices: Rc<Vec<Rc<Issued>>>,
    pub(super) localhub: bool,
    pub(super) az: AzDps,
}

/// A symmetric-key device from the form: its own key when typed, else derived from the group's.
fn symmetric_device(
    scope: &str,
    id: &str,
    device_key: &str,
    group_key: &str,
) -> Result<DpsDeviceRegistration, String> {
    let made =
        match (device_key.trim(), group_key.trim()) {
            ("", "") => return Err(
                "Device key: paste the device's key, or the group's primary key to derive it from."
                    .into(),
            ),
            ("", group) => DpsDeviceRegistration::of_group("", scope, id, group),
            (key, _) => DpsDeviceRegistration::new("", scope, id, key),
        };
    made.map_err(|e| e.to_string())
}

/// DPS's device endpoint and the hub's WebSocket address, set again for each target when the hub
/// step's target changes (localhub, or Azure's global endpoint).
#[hook]
fn use_addresses(localhub: bool) -> (UseStateHandle<String>, UseStateHandle<String>) {
    let device_address = use_state(String::new);
    let hub_address = use_state(String::new);
    // Each target's addresses, set again when the hub step's target changes.
    use_effect_with(localhub, {
        let (device_address, hub_address) = (device_address.clone(), hub_address.clone());
        move |localhub: &bool| {
            if *localhub {
                device_address.set(LOCALHUB_WSS.into());
                hub_address.set(LOCALHUB_WSS.into());
            } else {
                device_address.set(format!("{DPS_GLOBAL_HOST}:443"));
                hub_address.set(String::new());
            }
        }
    });
    (device_address, hub_address)
}

#[component]
pub(super) fn ProvisioningTest(props: &TestProps) -> Html {
    let registration_id = use_state(String::new);
    let (device_address, hub_address) = use_addresses(props.localhub);
    let symmetric = use_state(|| false);
    let device_key = use_state(String::new);
    let group_key = use_state(String::new);
    let run_error = use_state(|| None::<String>);
    let view = use_reducer(RunView::default);
    let wire: Rc<RefCell<Option<Connection>>> = use_mut_ref(|| None);
    let id_scope = props.id_scope.to_string();

    let on_register = {
        let (scope, device_address, hub_address, registration_id, run_error, view, wire) = (
            id_scope.clone(),
            device_address.clone(),
            hub_address.clone(),
            registration_id.clone(),
            run_error.clone(),
            view.clone(),
            wire.clone(),
        );
        let symkey_form = (*symmetric).then(|| ((*device_key).clone(), (*group_key).clone()));
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let id = registration_id.trim().to_owned();
            let scope = scope.trim().to_owned();
            let problem = provisioning_form_problem(&scope, &id, &device_address);
            if let Some(p) = problem {
                return run_error.set(Some(p.to_owned()));
            }
            let symkey = match &symkey_form {
                None => None,
                Some((device, group)) => match symmetric_device(&scope, &id, device, group) {
                    Ok(d) => Some(d),
                    Err(e) => return run_error.set(Some(e)),
                },
            };
            // A symmetric-key device's registration token is its MQTT password.
            let password = symkey.as_ref().map(|d| d.mqtt_password(now_ms() / 1000));
            let password = match password.transpose() {
                Ok(p) => p,
                Err(e) => return run_error.set(Some(e.to_string())),
            };
            run_error.set(None);
            if let Some(old) = wire.borrow_mut().take() {
                old.close();
            }
            view.dispatch(RunAction::Reset);
            let flow = match Provisioning::connect(&scope, &id, password, now_ms()) {
                Ok(f) => f,
                Err(e) => return run_error.set(Some(e.to_string())),
            };
            let (address, hub_address, view, wire) = (
                device_address.trim().to_owned(),
                hub_address.trim().to_owned(),
                view.clone(),
                wire.clone(),
            );
            yew::platform::spawn_local(register(address, hub_address, flow, symkey, view, wire));
        })
    };

    let busy = matches!(
        view.phase,
        Some(Phase::Busy(_)) | Some(Phase::Assigned { .. })
    );
    let device_ids: Vec<String> = props
        .devices
        .iter()
        .filter_map(|d| d.device_id.as_ref().map(|id| id.as_str().to_owned()))
        .collect();
    let az = &props.az;
    // The code for the device itself, with this form's values; under an intermediate the
    // device sends its chain: the fullchain file of step 4.
    let typed = registration_id.trim();
    let chained = DeviceId::parse(typed).is_ok_and(|id| {
        issued_all_for(&props.devices, &id).any(|d| {
            d.downloads
                .iter()
                .any(|f| f.name.ends_with("-fullchain.pem"))
        })
    });
    let snippet = provisioning_files(props.localhub, &props.id_scope, typed, chained);
    html! {
        <form class="card form" onsubmit={on_register} novalidate=true>
            <h3 class="sub">{"Provisioning test (this browser as the device)"}</h3>
            { attestation_choice("dps-test-attestation", &symmetric) }
            if *symmetric {
                <p class="hint">{"The device signs its registration with its key (the registration token is its MQTT password; no client certificate, so any browser can), then connects to the assigned hub as a SAS device with the same key."}</p>
            } else {
                <p class="hint">{"Import the device's .pfx into this browser (or the OS store) first: the browser presents it to DPS and then to the hub. DPS takes X.509 over MQTT over WebSockets and writes the device into the hub as a thumbprint device pinned to this certificate, so the hub accepts it over WebSockets whatever CA signed it, and needs no CA of its own. A renewed certificate is accepted by the hub once it is provisioned here (or by the device) again."}</p>
            }
            <div class="grid">
                <Field id="dps-registration-id" label="Registration id (device id)" value={(*registration_id).clone()} oninput={set(&registration_id)}
                    hint={if device_ids.is_empty() { "The CN of the device certificate".to_owned() } else { format!("Issued here: {}", device_ids.iter().take(3).cloned().collect::<Vec<_>>().join(", ")) }} />
                <Field id="dps-device-endpoint" label="DPS device endpoint" mono=true value={(*device_address).clone()} oninput={set(&device_address)} hint="host:port of DPS's MQTT over WebSocket" />
                <Field id="dps-hub-address" label="Hub WebSocket address" mono=true value={(*hub_address).clone()} oninput={set(&hub_address)}
                    hint="host:port; empty means the assigned hub's own port 443" />
                if *symmetric {
                    <Field id="dps-device-key" label="Device key" kind="password" mono=true value={(*device_key).clone()} oninput={set(&device_key)}
                        hint="The device's key: an individual enrollment's, or derived from its group's (above)" />
                    <Field id="dps-test-group-key" label="Or the group's primary key" kind="password" mono=true value={(*group_key).clone()} oninput={set(&group_key)}
                        hint="Used when the device key is empty: the device key is derived from it over the registration id" />
                }
            </div>
            if let Some(e) = &*run_error { <p class="error" role="alert">{e}</p> }
            <div class="actions">
                <button type="submit" class="primary" id="dps-register" disabled={busy}>{"Register and send telemetry"}</button>
            </div>
            { phase_view(&view.phase) }
            <PacketLog view={view.clone()} />
            if !*symmetric { <ProvisioningSnippets files={snippet} /> }
            <Command title="The registration as DPS keeps it" command={az.registration_show(if registration_id.is_empty() { "DEVICE" } else { &registration_id })} />
        </form>
    }
}

/// Registers with DPS over MQTT over WebSocket, then (once assigned) goes on to the hub.
async fn register(
    address: String,
    hub_address: String,
    flow: Provisioning,
    symkey: Option<DpsDeviceRegistration>,
    view: UseReducerHandle<RunView>,
    wire: Rc<RefCell<Option<Connection>>>,
) {
    // Even without a certificate: the browser's decision on one (none, for a
    // symmetric-key device) is what lets the WebSocket open where DPS asks for one.
    view.dispatch(RunAction::Phase(Phase::Busy(if symkey.is_none() {
        "Asking the browser for the device certificate…".into()
    } else {
        "Reaching DPS…".into()
    })));
    choose_certificate(&address).await;
    let url = websocket_url(&address, false);
    view.dispatch(RunAction::Phase(Phase::Busy(format!(
        "Registering with DPS at {url}…"
    ))));
    let (next, events_view) = (wire.clone(), view.clone());
    let opened = MqttSocket::open(&url, flow, notes(&view, "DPS"), move |event, _| {
        on_provisioning(event, &events_view, &next, &hub_address, symkey.as_ref())
    });
    match opened {
        Ok(w) => *wire.borrow_mut() = Some(Connection::Dps(w)),
        Err(e) => view.dispatch(RunAction::Phase(Phase::Failed(e))),
    }
}

#[derive(Properties, PartialEq)]
struct PacketLogProps {
    /// The run's view state (compared by pointer, so the log is not copied).
    view: UseReducerHandle<RunView>,
}

/// The packets of the run, as they went.
#[component]
fn PacketLog(props: &PacketLogProps) -> Html {
    let log = &props.view.log;
    if log.is_empty() {
        return html! {};
    }
    html! {
        <details class="log" open=true>
            <summary>{format!("Packet log ({} lines)", log.len())}</summary>
            <ol id="dps-log" class="mono">
                { for log.iter().map(|l| html! { <li class={l.dir}><span class="time">{&l.time}</span>{" "}<span class="dir">{match l.dir { "out" => "→", "in" => "←", _ => "!" }}</span>{" "}{&l.text}</li> }) }
            </ol>
        </details>
    }
}

#[derive(Properties, PartialEq)]
struct ProvisioningSnippetsProps {
    files: ProvisioningFiles,
}

/// The same registration as the device's own code.
#[component]
fn ProvisioningSnippets(props: &ProvisioningSnippetsProps) -> Html {
    let files = &props.files;
    html! {
        <details class="help" id="dps-snippets">
            <summary>{format!("Run it on the device instead: code for {}", files.registration_id)}</summary>
            <p class="hint">{"Microsoft's SDKs register with DPS (MQTT, port 8883), then connect to the assigned hub and send the seed's sample message, with the device's files of step 4."}</p>
            <Command title={format!("Node.js, provision-x509.js — run: {}", files.node_command())} command={files.node()} />
            <Command title="Python (pip install azure-iot-device), provision_x509.py" command={files.python()} />
        </details>
    }
}

fn phase_view(phase: &Option<Phase>) -> Html {
    match phase {
        None => html! {},
        Some(Phase::Busy(m)) => html! {
            <p class="progress" id="dps-result" role="status" aria-live="polite"><span class="spinner" aria-hidden="true"></span>{m}</p>
        },
        Some(Phase::Assigned { hub, device_id }) => html! {
            <p class="progress" id="dps-result" role="status" aria-live="polite"><span class="spinner" aria-hidden="true"></span>
                {format!("Assigned to {hub} as {device_id}. Connecting there as the device…")}</p>
        },
        Some(Phase::Delivered { hub, device_id }) => html! {
            <p class="status ok" id="dps-result" role="status">
                {format!("Provisioned: DPS assigned {device_id} to {hub}, and {hub} acknowledged its telemetry.")}</p>
        },
        Some(Phase::Failed(m)) => html! { <p class="error" id="dps-result" role="alert">{m}</p> },
    }
}

/// DPS's side of the test: on assignment, the device's connection to the hub comes next.
fn on_provisioning(
    event: ProvisioningEvent,
    view: &UseReducerHandle<RunView>,
    wire: &Rc<RefCell<Option<Connection>>>,
    hub_address: &str,
    symkey: Option<&DpsDeviceRegistration>,
) -> Next {
    match event {
        ProvisioningEvent::Registering => view.dispatch(RunAction::Phase(Phase::Busy(
            "Connected to DPS; registration sent…".into(),
        ))),
        ProvisioningEvent::Waiting { retry_after_ms, .. } => {
            view.dispatch(RunAction::Phase(Phase::Busy(format!(
                "DPS is assigning; asking again in {} s…",
                retry_after_ms.div_ceil(1000)
            ))))
        }
        ProvisioningEvent::Failed {
            status,
            code,
            message,
        } => {
            let advice = provisioning_refusal_advice(status, &message, symkey.is_some());
            view.dispatch(RunAction::Phase(Phase::Failed(format!(
                "{advice} (DPS: {message}{})",
                code.map(|c| format!(", error {c}")).unwrap_or_default()
            ))));
            return Next::Close;
        }
        ProvisioningEvent::Assigned { hub, device_id, .. } => {
            view.dispatch(RunAction::Phase(Phase::Assigned {
                hub: hub.clone(),
                device_id: device_id.clone(),
            }));
            let (view, wire) = (view.clone(), wire.clone());
            // A symmetric-key device is a SAS device in the hub, with the same key.
            let login = match symkey {
                Some(d) => DeviceLogin::sas(
                    &d.hub_connection_string(&hub, &device_id),
                    hub_address,
                    now_ms() / 1000,
                ),
                None => DeviceLogin::x509(&hub, &device_id, hub_address),
            };
            // Deferred: this runs inside DPS's connection, which the hub's replaces.
            yew::platform::spawn_local(async move {
                let sent = match login {
                    Ok(login) => send_through_hub(login, &view, &wire).await,
                    Err(e) => Err(e.to_string()),
                };
                if let Err(e) = sent {
                    view.dispatch(RunAction::Phase(Phase::Failed(e)));
                }
            });
            return Next::Close;
        }
    }
    Next::Continue
}

/// The device on its assigned hub: connect with its certificate or SAS token, send one telemetry
/// message at QoS 1, and finish when the hub acknowledges it.
async fn send_through_hub(
    login: DeviceLogin,
    view: &UseReducerHandle<RunView>,
    wire: &Rc<RefCell<Option<Connection>>>,
) -> Result<(), String> {
    choose_certificate(&login.address).await;
    let session = DeviceSession::connect(&login.options, now_ms()).map_err(|e| e.to_string())?;
    let (hub, id, x509) = (login.host_name.clone(), login.device_id.clone(), login.x509);
    let events_view = view.clone();
    let w = MqttSocket::open(
        &login.url,
        session,
        notes(view, "the hub"),
        move |event, session: &mut DeviceSession| {
            let view = &events_view;
            match event {
                DeviceEvent::Connected => {
                    let properties = [
                        ("$.ct".into(), "application/json".into()),
                        ("$.ce".into(), "utf-8".into()),
                    ];
                    let telemetry = sample_telemetry(&id);
                    let sent = session.send_telemetry(
                        telemetry.as_bytes(),
                        &properties,
                        QoS::AtLeastOnce,
                        now_ms(),
                    );
                    if let Err(e) = sent {
                        view.dispatch(RunAction::Phase(Phase::Failed(e.to_string())));
                        return Next::Close;
                    }
                    Next::Continue
                }
                DeviceEvent::Refused(r) => {
                    view.dispatch(RunAction::Phase(Phase::Failed(format!(
                        "DPS assigned the device, but {hub} refused its connection (CONNACK {}). {}",
                        r.code(),
                        refusal_advice(r, x509).join(" ")
                    ))));
                    Next::Close
                }
                DeviceEvent::Acknowledged { .. } => {
                    session.disconnect(now_ms());
                    view.dispatch(RunAction::Phase(Phase::Delivered {
                        hub: hub.clone(),
                        device_id: id.clone(),
                    }));
                    Next::Close
                }
                _ => Next::Continue,
            }
        },
    )?;
    *wire.borrow_mut() = Some(Connection::Hub(w));
    Ok(())
}

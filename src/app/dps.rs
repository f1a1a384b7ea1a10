//! Provision with DPS: the service settings, an X.509 enrollment group from a CA of the page (or a
//! pasted one, or two during a rollover), and a provisioning test in the browser: the device
//! registers with DPS over MQTT over WebSocket, is assigned, then connects to the assigned hub
//! and sends telemetry, with the packet log of both connections.

mod run;

use std::cell::RefCell;
use std::rc::Rc;

use yew::prelude::*;

use run::{choose_certificate, now_ms, open, Phase, RunAction, RunView, Turn, Wire};

use super::command::Command;
use super::fetch::{localhub_info, Fetch};
use super::field::{textarea_setter, Field};
use super::settings::{LOCALHUB_ENDPOINT, RELAY_ENDPOINT};
use super::state::{Issued, SharedCa};
use crate::contract::{websocket_url, EnrollmentGroup, EnrollmentId, Topic, DPS_GLOBAL_HOST};
use crate::iothub::{sample_telemetry, AzDps, DeviceLogin, DpsService, HubClient};
use crate::mqtt::{
    refusal_advice, Event as MqttEvent, Provisioning, ProvisioningEvent, QoS, Session,
};

/// Where DPS's device endpoint and the hub's WebSocket are for localhub started by run.sh.
const LOCALHUB_WSS: &str = "localhost:8884";

#[derive(Properties, PartialEq)]
pub(crate) struct DpsProps {
    /// The CAs of the page, root first: what an enrollment group can trust.
    pub(crate) cas: Rc<Vec<(SharedCa, Rc<Issued>)>>,
    /// Devices issued on this page, to fill in the registration id.
    pub(crate) devices: Rc<Vec<Rc<Issued>>>,
    /// Whether the hub target is localhub (sets the default addresses).
    pub(crate) localhub: bool,
}

/// A line under a form: working, failed or done.
#[derive(Clone, PartialEq)]
enum Note {
    Busy(String),
    Failed(String),
    Done(String),
}

fn note_view(note: &Option<Note>, id: &str) -> Html {
    match note {
        None => html! {},
        Some(Note::Busy(m)) => html! {
            <p class="progress" id={id.to_owned()} role="status" aria-live="polite"><span class="spinner" aria-hidden="true"></span>{m}</p>
        },
        Some(Note::Failed(m)) => html! { <p class="error" id={id.to_owned()} role="alert">{m}</p> },
        Some(Note::Done(m)) => {
            html! { <p class="status ok" id={id.to_owned()} role="status">{m}</p> }
        }
    }
}

/// The PEM a CA choice stands for: `ca-N` (a CA of the page) or `paste`.
fn chosen_pem(choice: &str, cas: &[(SharedCa, Rc<Issued>)], pasted: &str) -> Option<String> {
    match choice {
        "paste" => Some(pasted.trim().to_owned()).filter(|p| !p.is_empty()),
        c => c
            .strip_prefix("ca-")
            .and_then(|i| i.parse::<usize>().ok())
            .and_then(|i| cas.get(i))
            .map(|(_, issued)| issued.certificate.pem()),
    }
}

/// The primary CA choice in effect: `ca-N` only while the page has that CA.
fn effective_choice(chosen: &str, cas: usize) -> String {
    match chosen
        .strip_prefix("ca-")
        .and_then(|i| i.parse::<usize>().ok())
    {
        Some(i) if i < cas => chosen.to_owned(),
        Some(_) if cas > 0 => "ca-0".to_owned(),
        _ => "paste".to_owned(),
    }
}

/// A signing certificate's subject for the group list.
fn subject(pem: &str) -> String {
    crate::pki::Certificate::from_pem(pem)
        .and_then(|c| c.info())
        .map(|i| i.subject)
        .unwrap_or_else(|_| "(not a readable certificate)".into())
}

#[component]
pub(crate) fn DpsStep(props: &DpsProps) -> Html {
    let endpoint = use_state(String::new);
    let connection_string = use_state(String::new);
    let id_scope = use_state(String::new);
    let device_address = use_state(String::new);
    let hub_address = use_state(String::new);
    // Each target's addresses, set again when the hub step's target changes.
    use_effect_with(props.localhub, {
        let (endpoint, device_address, hub_address) = (
            endpoint.clone(),
            device_address.clone(),
            hub_address.clone(),
        );
        move |localhub: &bool| {
            if *localhub {
                endpoint.set(LOCALHUB_ENDPOINT.into());
                device_address.set(LOCALHUB_WSS.into());
                hub_address.set(LOCALHUB_WSS.into());
            } else {
                endpoint.set(RELAY_ENDPOINT.into());
                device_address.set(format!("{DPS_GLOBAL_HOST}:443"));
                hub_address.set(String::new());
            }
        }
    });
    let group_id = use_state(|| "hubcert-fleet".to_owned());
    let primary_state = use_state(|| "ca-0".to_owned());
    // A CA of the page while there is one; the pasted PEM otherwise (and when chosen).
    let primary_choice = effective_choice(&primary_state, props.cas.len());
    let secondary = use_state(String::new);
    let pasted = use_state(String::new);
    let enabled = use_state(|| true);
    let service_note = use_state(|| None::<Note>);
    let groups = use_state(|| None::<Vec<EnrollmentGroup>>);
    let registration_id = use_state(String::new);
    let run_error = use_state(|| None::<String>);
    let view = use_reducer(RunView::default);
    let wire: Rc<RefCell<Option<Wire>>> = use_mut_ref(|| None);

    let service = {
        let (endpoint, cs) = (endpoint.clone(), connection_string.clone());
        move || DpsService::from_connection_string(&endpoint, &cs)
    };
    let client = HubClient::new(Fetch, props.localhub);

    let on_localhub = {
        let (endpoint, cs, scope, note) = (
            endpoint.clone(),
            connection_string.clone(),
            id_scope.clone(),
            service_note.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            let (endpoint, cs, scope, note) =
                (endpoint.clone(), cs.clone(), scope.clone(), note.clone());
            note.set(Some(Note::Busy(
                "Asking localhub for its DPS settings…".into(),
            )));
            yew::platform::spawn_local(async move {
                match localhub_info(&endpoint).await {
                    Ok(info) if !info.id_scope.is_empty() => {
                        cs.set(info.dps_connection_string);
                        note.set(Some(Note::Done(format!(
                            "Read localhub's DPS: ID scope {} and its provisioningserviceowner connection string.",
                            info.id_scope
                        ))));
                        scope.set(info.id_scope);
                    }
                    Ok(_) => note.set(Some(Note::Failed(
                        "This localhub has no DPS (no ID scope in /localhub/info): update it."
                            .into(),
                    ))),
                    Err(e) => note.set(Some(Note::Failed(e))),
                }
            });
        })
    };

    let on_save = {
        let (service, client, note, groups) = (
            service.clone(),
            client.clone(),
            service_note.clone(),
            groups.clone(),
        );
        let (group_id, primary, secondary, pasted, enabled) = (
            group_id.clone(),
            primary_choice.clone(),
            secondary.clone(),
            pasted.clone(),
            enabled.clone(),
        );
        let cas = props.cas.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if matches!(*note, Some(Note::Busy(_))) {
                return;
            }
            let id = group_id.trim().to_owned();
            if let Err(e) = EnrollmentId::parse(&id) {
                return note.set(Some(Note::Failed(format!("Enrollment group id: {e}"))));
            }
            let Some(first) = chosen_pem(&primary, &cas, &pasted) else {
                return note.set(Some(Note::Failed(if primary == "paste" {
                    "Paste the CA certificate (PEM) the group's devices chain to.".into()
                } else {
                    "Make a root CA in step 1 first, or paste a CA certificate.".into()
                })));
            };
            if primary == "paste" {
                if let Err(e) = crate::pki::Certificate::from_pem(&first) {
                    return note.set(Some(Note::Failed(format!(
                        "The pasted CA certificate: {e}"
                    ))));
                }
            }
            let second = chosen_pem(&secondary, &cas, "").filter(|s| *s != first);
            let mut group = EnrollmentGroup::x509_signing(&id, &first, second.as_deref());
            if !*enabled {
                group.provisioning_status = Some("disabled".into());
            }
            let dps = match service() {
                Ok(d) => d,
                Err(e) => return note.set(Some(Note::Failed(e.to_string()))),
            };
            let (client, note, groups) = (client.clone(), note.clone(), groups.clone());
            note.set(Some(Note::Busy(format!("Saving enrollment group {id}…"))));
            yew::platform::spawn_local(async move {
                match client
                    .save_enrollment_group(&dps, &group, now_ms() / 1000)
                    .await
                {
                    Ok(saved) => {
                        note.set(Some(Note::Done(format!(
                            "{} enrollment group {} ({}){}: devices whose chain reaches {} may register.",
                            if saved.replaced { "Updated" } else { "Created" },
                            saved.group.enrollment_group_id,
                            if saved.group.is_enabled() { "enabled" } else { "disabled" },
                            if saved.retried { ", after one retry with a fresh etag" } else { "" },
                            if saved.group.signing_certificates().len() > 1 { "either CA" } else { "this CA" },
                        ))));
                        groups.set(None);
                    }
                    Err(e) => note.set(Some(Note::Failed(e.to_string()))),
                }
            });
        })
    };

    let on_list = {
        let (service, client, note, groups) = (
            service.clone(),
            client.clone(),
            service_note.clone(),
            groups.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            let dps = match service() {
                Ok(d) => d,
                Err(e) => return note.set(Some(Note::Failed(e.to_string()))),
            };
            let (client, note, groups) = (client.clone(), note.clone(), groups.clone());
            note.set(Some(Note::Busy("Listing the enrollment groups…".into())));
            yew::platform::spawn_local(async move {
                match client.enrollment_groups(&dps, now_ms() / 1000).await {
                    Ok(list) => {
                        note.set(Some(Note::Done(format!(
                            "{} enrollment group{} on this DPS.",
                            list.len(),
                            if list.len() == 1 { "" } else { "s" }
                        ))));
                        groups.set(Some(list));
                    }
                    Err(e) => note.set(Some(Note::Failed(e.to_string()))),
                }
            });
        })
    };

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
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let id = registration_id.trim().to_owned();
            let scope = scope.trim().to_owned();
            let problem = if scope.is_empty() {
                Some("ID scope: enter it (DPS overview, or the command below; localhub's button fills it in).".to_owned())
            } else if id.is_empty() {
                Some("Registration id: enter the device id, the CN of the certificate imported in this browser.".to_owned())
            } else if device_address.trim().is_empty() {
                Some("DPS device endpoint: enter host:port.".to_owned())
            } else {
                None
            };
            if let Some(p) = problem {
                return run_error.set(Some(p));
            }
            run_error.set(None);
            wire.borrow_mut().take();
            view.dispatch(RunAction::Reset);
            let flow = match Provisioning::connect(&scope, &id, None, now_ms()) {
                Ok(f) => f,
                Err(e) => return run_error.set(Some(e.to_string())),
            };
            let (address, hub_address, view, wire) = (
                device_address.trim().to_owned(),
                hub_address.trim().to_owned(),
                view.clone(),
                wire.clone(),
            );
            yew::platform::spawn_local(async move {
                view.dispatch(RunAction::Phase(Phase::Busy(
                    "Asking the browser for the device certificate…".into(),
                )));
                choose_certificate(&address).await;
                let url = websocket_url(&address, false);
                view.dispatch(RunAction::Phase(Phase::Busy(format!(
                    "Registering with DPS at {url}…"
                ))));
                let next = wire.clone();
                let opened = open(
                    &url,
                    "DPS",
                    flow,
                    &view,
                    move |event, turn: &mut Turn<'_, Provisioning>| {
                        on_provisioning(event, turn, &next, &hub_address)
                    },
                );
                match opened {
                    Ok(w) => *wire.borrow_mut() = Some(w),
                    Err(e) => view.dispatch(RunAction::Phase(Phase::Failed(e))),
                }
            });
        })
    };

    let cas = props.cas.clone();
    let options = |selected: &str, none: Option<&str>| -> Html {
        html! {
            <>
                if let Some(label) = none { <option value="" selected={selected.is_empty()}>{label}</option> }
                { for cas.iter().enumerate().map(|(i, (_, issued))| {
                    let v = format!("ca-{i}");
                    html! { <option value={v.clone()} selected={selected == v}>{format!("{} · {}", issued.title, issued.info.subject)}</option> }
                }) }
                if none.is_none() { <option value="paste" selected={selected == "paste"}>{"Paste a CA certificate (PEM)"}</option> }
            </>
        }
    };
    let select = |state: &UseStateHandle<String>| {
        let state = state.clone();
        Callback::from(move |e: Event| {
            state.set(
                e.target_unchecked_into::<web_sys::HtmlSelectElement>()
                    .value(),
            )
        })
    };
    let set = |state: &UseStateHandle<String>| {
        let state = state.clone();
        Callback::from(move |v: String| state.set(v))
    };
    let on_enabled = {
        let enabled = enabled.clone();
        Callback::from(move |e: Event| {
            enabled.set(
                e.target_unchecked_into::<web_sys::HtmlInputElement>()
                    .checked(),
            )
        })
    };
    let az = AzDps {
        dps: service()
            .map(|d| d.host_name().to_owned())
            .unwrap_or_default(),
        resource_group: String::new(),
    };
    let busy = matches!(
        view.phase,
        Some(Phase::Busy(_)) | Some(Phase::Assigned { .. })
    );
    let device_ids: Vec<String> = props
        .devices
        .iter()
        .filter_map(|d| d.info.common_name.clone())
        .collect();

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
                        hint={if props.localhub { "localhub's REST address".to_owned() } else { format!("The relay on your machine (`localhub relay --dps NAME`, {RELAY_ENDPOINT}); DPS refuses browser calls") }} />
                    <Field id="dps-connection-string" label="DPS connection string" kind="password" mono=true value={(*connection_string).clone()} oninput={set(&connection_string)}
                        hint="HostName=NAME.azure-devices-provisioning.net;SharedAccessKeyName=provisioningserviceowner;SharedAccessKey=… (the DPS's, not the hub's)" />
                    <Field id="dps-id-scope" label="ID scope" mono=true value={(*id_scope).clone()} oninput={set(&id_scope)} hint="0ne…, on the DPS overview" />
                </div>
                if !props.localhub {
                    <Command title="Print the DPS connection string" command={az.connection_string()} />
                    <Command title="Print the ID scope" command={az.id_scope()} />
                }
                if props.localhub {
                    <div class="actions">
                        <button type="button" class="secondary" id="dps-read-localhub" onclick={on_localhub}>{"Read localhub's DPS settings"}</button>
                    </div>
                }
            </div>
            <form class="card form" onsubmit={on_save} novalidate=true>
                <h3 class="sub">{"Enrollment group (X.509, signing certificates)"}</h3>
                <div class="grid">
                    <Field id="dps-group-id" label="Enrollment group id" value={(*group_id).clone()} oninput={set(&group_id)} hint="Letters, digits and - . _ : (at most 128)" />
                    <div class="field">
                        <label for="dps-primary">{"Primary CA"}</label>
                        <select id="dps-primary" onchange={select(&primary_state)}>{ options(&primary_choice, None) }</select>
                        <p class="hint">{"Devices whose chain reaches it may register"}</p>
                    </div>
                    <div class="field">
                        <label for="dps-secondary">{"Secondary CA (rollover)"}</label>
                        <select id="dps-secondary" onchange={select(&secondary)}>{ options(&secondary, Some("None")) }</select>
                        <p class="hint">{"Put the next CA here while devices move to it"}</p>
                    </div>
                </div>
                if primary_choice == "paste" {
                    <div class="field">
                        <label for="dps-pasted">{"CA certificate (PEM)"}</label>
                        <textarea id="dps-pasted" class="mono" rows="6" autocomplete="off" spellcheck="false" value={(*pasted).clone()} oninput={textarea_setter(&pasted)} placeholder="-----BEGIN CERTIFICATE-----" />
                    </div>
                }
                <label class="check"><input type="checkbox" id="dps-enabled" checked={*enabled} onchange={on_enabled} />{" Enabled (devices may register)"}</label>
                <div class="actions">
                    <button type="submit" class="primary" id="dps-save">{"Create or update the group"}</button>
                    <button type="button" class="secondary" id="dps-list" onclick={on_list}>{"List groups"}</button>
                </div>
                { note_view(&service_note, "dps-status") }
                if let Some(list) = &*groups {
                    <div class="table-wrap">
                        <table id="dps-groups">
                            <thead><tr><th scope="col">{"Group"}</th><th scope="col">{"Status"}</th><th scope="col">{"Trusts"}</th></tr></thead>
                            <tbody>
                                { for list.iter().map(|g| html! {
                                    <tr>
                                        <td><code>{&g.enrollment_group_id}</code></td>
                                        <td><span class={classes!("badge", if g.is_enabled() { "ok" } else { "warn" })}>{if g.is_enabled() { "enabled" } else { "disabled" }}</span></td>
                                        <td>{ for g.signing_certificates().into_iter().map(|p| html! { <div>{subject(p)}</div> }) }
                                            { for g.ca_references().into_iter().map(|r| html! { <div>{format!("DPS certificate '{r}'")}</div> }) }</td>
                                    </tr>
                                }) }
                            </tbody>
                        </table>
                    </div>
                }
                <Command title="Same step with the Azure CLI" command={az.enrollment_group_create(&group_id, "root-ca.pem", (!secondary.is_empty()).then_some("next-ca.pem"), *enabled)} />
            </form>
            <form class="card form" onsubmit={on_register} novalidate=true>
                <h3 class="sub">{"Provisioning test (this browser as the device)"}</h3>
                <p class="hint">{"Import the device's .pfx into this browser (or the OS store) first: the browser presents it to DPS and then to the hub. DPS takes X.509 over MQTT over WebSockets; the assigned hub then applies its own WebSocket rule (a GA hub accepts a CA-signed device only when the registered CA signed it directly)."}</p>
                <div class="grid">
                    <Field id="dps-registration-id" label="Registration id (device id)" value={(*registration_id).clone()} oninput={set(&registration_id)}
                        hint={if device_ids.is_empty() { "The CN of the device certificate".to_owned() } else { format!("Issued here: {}", device_ids.iter().take(3).cloned().collect::<Vec<_>>().join(", ")) }} />
                    <Field id="dps-device-endpoint" label="DPS device endpoint" mono=true value={(*device_address).clone()} oninput={set(&device_address)} hint="host:port of DPS's MQTT over WebSocket" />
                    <Field id="dps-hub-address" label="Hub WebSocket address" mono=true value={(*hub_address).clone()} oninput={set(&hub_address)}
                        hint="host:port; empty means the assigned hub's own port 443" />
                </div>
                if let Some(e) = &*run_error { <p class="error" role="alert">{e}</p> }
                <div class="actions">
                    <button type="submit" class="primary" id="dps-register" disabled={busy}>{"Register and send telemetry"}</button>
                </div>
                { phase_view(&view.phase) }
                if !view.log.is_empty() {
                    <details class="log" open=true>
                        <summary>{format!("Packet log ({} lines)", view.log.len())}</summary>
                        <ol id="dps-log" class="mono">
                            { for view.log.iter().map(|l| html! { <li class={l.dir}><span class="time">{&l.time}</span>{" "}<span class="dir">{match l.dir { "out" => "→", "in" => "←", _ => "!" }}</span>{" "}{&l.text}</li> }) }
                        </ol>
                    </details>
                }
                <Command title="The registration as DPS keeps it" command={az.registration_show(if registration_id.is_empty() { "DEVICE" } else { &registration_id })} />
            </form>
        </section>
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
    turn: &mut Turn<'_, Provisioning>,
    wire: &Rc<RefCell<Option<Wire>>>,
    hub_address: &str,
) {
    let view = turn.view;
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
            turn.done = true;
            let advice = match (status, code) {
                (5, _) | (4, _) => "DPS refused the device: check that an enrollment group's CA signed its certificate, that the registration id equals the certificate's CN, and the ID scope.",
                (_, _) if message.contains("disabled") => "The enrollment is disabled: enable the group above and register again.",
                _ => "DPS did not assign the device.",
            };
            view.dispatch(RunAction::Phase(Phase::Failed(format!(
                "{advice} (DPS: {message}{})",
                code.map(|c| format!(", error {c}")).unwrap_or_default()
            ))));
        }
        ProvisioningEvent::Assigned { hub, device_id, .. } => {
            turn.done = true;
            view.dispatch(RunAction::Phase(Phase::Assigned {
                hub: hub.clone(),
                device_id: device_id.clone(),
            }));
            let (view, wire) = (view.clone(), wire.clone());
            let address = if hub_address.is_empty() {
                format!("{hub}:443")
            } else {
                hub_address.to_owned()
            };
            // Deferred: this runs inside DPS's connection, which the hub's replaces.
            yew::platform::spawn_local(async move {
                if let Err(e) = send_through_hub(&hub, &device_id, &address, &view, &wire).await {
                    view.dispatch(RunAction::Phase(Phase::Failed(e)));
                }
            });
        }
    }
}

/// The device on its assigned hub: connect with its certificate, send one telemetry message at
/// QoS 1, and finish when the hub acknowledges it.
async fn send_through_hub(
    hub: &str,
    device_id: &str,
    address: &str,
    view: &UseReducerHandle<RunView>,
    wire: &Rc<RefCell<Option<Wire>>>,
) -> Result<(), String> {
    let login = DeviceLogin::x509(hub, device_id, address).map_err(|e| e.to_string())?;
    choose_certificate(&login.address).await;
    let session = Session::connect(&login.options, now_ms()).map_err(|e| e.to_string())?;
    let (hub, id) = (hub.to_owned(), device_id.to_owned());
    let w = open(
        &login.url,
        "the hub",
        session,
        view,
        move |event, turn: &mut Turn<'_, Session>| match event {
            MqttEvent::Connected { .. } => {
                let topic = Topic::telemetry(
                    &id,
                    &[
                        ("$.ct".into(), "application/json".into()),
                        ("$.ce".into(), "utf-8".into()),
                    ],
                )
                .to_string();
                if let Err(e) = turn.flow.publish(
                    &topic,
                    sample_telemetry(&id).as_bytes(),
                    QoS::AtLeastOnce,
                    now_ms(),
                ) {
                    turn.done = true;
                    turn.view
                        .dispatch(RunAction::Phase(Phase::Failed(e.to_string())));
                }
            }
            MqttEvent::Refused(r) => {
                turn.done = true;
                turn.view.dispatch(RunAction::Phase(Phase::Failed(format!(
                    "DPS assigned the device, but {hub} refused its connection (CONNACK {}). {}",
                    r.code(),
                    refusal_advice(r, true).join(" ")
                ))));
            }
            MqttEvent::Acknowledged { .. } => {
                turn.flow.disconnect(now_ms());
                turn.done = true;
                turn.view.dispatch(RunAction::Phase(Phase::Delivered {
                    hub: hub.clone(),
                    device_id: id.clone(),
                }));
            }
            _ => {}
        },
    )?;
    *wire.borrow_mut() = Some(w);
    Ok(())
}

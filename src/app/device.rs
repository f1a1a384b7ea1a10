//! Step 6: a device connection test over MQTT over WebSocket, driven by the core's MQTT session.
//! The browser shell only moves frames between the WebSocket and the session.

use std::cell::RefCell;
use std::rc::Rc;

use yew::prelude::*;

mod link;
mod panels;

use link::{open, DeviceAction, DeviceView, Link, Status};
use panels::{
    ConnectionLog, DeviceSnippets, LoginFields, RegistrationCheck, TelemetryCard, TwinCard,
    X509Help,
};

use super::mqtt_socket::{choose_certificate, now_ms, MqttSocket, Next, SocketNote};
use super::state::{issued_for, Issued};
use crate::contract::{AuthKind, DeviceId};
use crate::iothub::{
    cloud_to_device_text, device_event_line, device_files, device_outlook, message_properties,
    method_answer, reported_patch, sample_telemetry, telemetry_counts, twin_panel_text,
    DeviceLogin, DeviceTestError, LogSide, SendPlan, WebSocketOutlook,
};
use crate::mqtt::{refusal_advice, ConnectOptions, DeviceEvent, DeviceSession, QoS, Refusal};

/// The device id of the seed's sample telemetry until a device connects.
const SAMPLE_DEVICE: &str = "sensor-device-01";

fn clock() -> String {
    let d = js_sys::Date::new_0();
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        d.get_hours(),
        d.get_minutes(),
        d.get_seconds(),
        d.get_milliseconds()
    )
}

#[derive(Properties, PartialEq)]
pub(crate) struct DeviceTestProps {
    /// Devices issued on this page, to fill in the id.
    pub(crate) devices: Rc<Vec<Rc<Issued>>>,
    /// Whether the hub target is localhub (sets the default addresses).
    pub(crate) localhub: bool,
    /// The hub settings, to read a device's registration.
    pub(crate) settings: UseReducerHandle<super::settings::HubSettings>,
}

/// Connect as a device, send telemetry, receive cloud-to-device messages, use the twin.
#[component]
pub(crate) fn DeviceTestStep(props: &DeviceTestProps) -> Html {
    let on_localhub = |v: &str| {
        if props.localhub {
            v.to_owned()
        } else {
            String::new()
        }
    };
    let login = LoginInputs {
        sas_mode: use_state(|| false),
        address: use_state(|| on_localhub("localhost:8884")),
        host: use_state(|| on_localhub("localhost")),
        device_id: use_state(String::new),
        connection_string: use_state(String::new),
    };
    let (sas_mode, host, device_id) = (*login.sas_mode, &login.host, &login.device_id);
    let payload = use_state(|| sample_telemetry(SAMPLE_DEVICE));
    // The device id the untouched sample names; a connecting device takes it over.
    let sample_id: Rc<RefCell<String>> = use_mut_ref(|| SAMPLE_DEVICE.to_owned());
    let properties = use_state(|| "$.ct=application/json\n$.ce=utf-8".to_owned());
    let qos1 = use_state(|| true);
    let repeat = use_state(|| "1".to_owned());
    let every = use_state(|| "1000".to_owned());
    let reported = use_state(|| "{\"firmware\": \"1.0.0\"}".to_owned());
    let form_error = use_state(|| None::<String>);
    let view = use_reducer(DeviceView::default);
    // The device's registration as the hub holds it, when the user asked: (device id, result).
    let registration = use_state(|| None::<(String, Result<AuthKind, String>)>);
    let this_registration = registration
        .as_ref()
        .filter(|(id, _)| id == device_id.trim())
        .map(|(_, r)| r.clone());
    let issued_chain = issued(&props.devices, device_id).and_then(|d| d.pfx.as_ref());
    let issued_chain = issued_chain.map(|p| p.chain.len());
    let known_kind = this_registration.as_ref().and_then(|r| r.as_ref().ok());
    let outlook = device_outlook(sas_mode, issued_chain, known_kind);
    let link: Rc<RefCell<Option<Link>>> = use_mut_ref(|| None);
    let repeater: Rc<RefCell<Option<gloo::timers::callback::Interval>>> = use_mut_ref(|| None);

    let on_check = check_registration(&registration, device_id, &props.settings);
    let on_connect = connector(&login, &payload, &sample_id, &form_error, &view, &link);
    let on_disconnect = disconnector(&link, &view, &repeater);
    let send_once = {
        let (link, view, payload, properties, qos1) = (
            link.clone(),
            view.clone(),
            payload.clone(),
            properties.clone(),
            qos1.clone(),
        );
        Rc::new(move || -> Result<(), String> {
            let qos = if *qos1 {
                QoS::AtLeastOnce
            } else {
                QoS::AtMostOnce
            };
            publish(
                &link,
                &view,
                &payload,
                &message_properties(&properties),
                qos,
            )
        })
    };
    let on_send = sender(send_once, &repeat, &every, &form_error, &repeater);
    let twin_call = |report: bool| twin_caller(report, &link, &reported, &form_error);
    let text_input = |state: &UseStateHandle<String>| {
        let state = state.clone();
        Callback::from(move |v: String| state.set(v))
    };
    let issued_ids: Vec<String> = props
        .devices
        .iter()
        .filter_map(|d| d.device_id.as_ref().map(|id| id.as_str().to_owned()))
        .collect();
    let connected = matches!(view.status, Some(Status::Connected));
    let files = device_files(
        host,
        device_id,
        issued_ids.first().map(String::as_str),
        props.localhub,
    );

    html! {
        <section class="step" id="step-device-test" aria-labelledby="step-device-test-title">
            <div class="step-head">
                <span class="step-no" aria-hidden="true">{"6"}</span>
                <div>
                    <h2 id="step-device-test-title">{"Test a device connection"}</h2>
                    <p class="lede">{"Connect as the device over MQTT over WebSocket, send telemetry and see the hub acknowledge it."}</p>
                </div>
            </div>
            <form class="card form" onsubmit={on_connect} novalidate=true>
                <LoginFields login={login.clone()} {issued_ids} />
                if !sas_mode { <X509Help /> }
                if let Some(e) = &*form_error { <p class="error" role="alert" id="dev-error">{e}</p> }
                <div class="actions">
                    <button type="submit" class="primary" id="dev-connect">{ if connected { "Reconnect" } else { "Connect" } }</button>
                    <button type="button" class="secondary" id="dev-disconnect" onclick={on_disconnect} disabled={view.status.is_none()}>{"Disconnect"}</button>
                </div>
                <div id="dev-status" role="status" aria-live="polite">
                    if !sas_mode { <RegistrationCheck registration={this_registration} oncheck={on_check} /> }
                    if let Some(caution) = outlook.caution() { <p class="notice" id="dev-ws-caution" role="note">{caution}</p> }
                    { status_view(view.status.as_ref(), outlook) }
                </div>
            </form>
            <TelemetryCard payload={(*payload).clone()} properties={(*properties).clone()} qos1={*qos1}
                repeat={(*repeat).clone()} every={(*every).clone()} {connected}
                counts={telemetry_counts(view.sent, view.acked, view.timed_out)}
                onpayload={text_input(&payload)} onproperties={text_input(&properties)}
                onqos={{ let qos1 = qos1.clone(); Callback::from(move |v| qos1.set(v)) }}
                onrepeat={text_input(&repeat)} onevery={text_input(&every)} onsend={on_send} />
            <TwinCard reported={(*reported).clone()} onreported={text_input(&reported)} {connected}
                onreport={twin_call(true)} onget={twin_call(false)} twin={view.twin.clone()} c2d={view.c2d.clone()} />
            <DeviceSnippets {files} />
            <ConnectionLog view={view.clone()} />
        </section>
    }
}

/// The device issued on this page for the typed `device_id`.
fn issued<'a>(devices: &'a [Rc<Issued>], device_id: &str) -> Option<&'a Issued> {
    let id = DeviceId::parse(device_id.trim()).ok()?;
    issued_for(devices, &id).map(|d| &**d)
}

/// The connect form's typed state: who connects, and with what.
#[derive(Clone, PartialEq)]
pub(super) struct LoginInputs {
    pub(super) sas_mode: UseStateHandle<bool>,
    pub(super) address: UseStateHandle<String>,
    pub(super) host: UseStateHandle<String>,
    pub(super) device_id: UseStateHandle<String>,
    pub(super) connection_string: UseStateHandle<String>,
}

/// "Connect": the login from the form, then the WebSocket.
fn connector(
    login: &LoginInputs,
    payload: &UseStateHandle<String>,
    sample_id: &Rc<RefCell<String>>,
    form_error: &UseStateHandle<Option<String>>,
    view: &UseReducerHandle<DeviceView>,
    link: &Rc<RefCell<Option<Link>>>,
) -> Callback<SubmitEvent> {
    let (inputs, payload, sample_id, form_error, view, link) = (
        login.clone(),
        payload.clone(),
        sample_id.clone(),
        form_error.clone(),
        view.clone(),
        link.clone(),
    );
    Callback::from(move |e: SubmitEvent| {
        e.prevent_default();
        let login = if *inputs.sas_mode {
            DeviceLogin::sas(&inputs.connection_string, &inputs.address, now_ms() / 1000)
        } else {
            DeviceLogin::x509(&inputs.host, &inputs.device_id, &inputs.address)
        };
        let login = match login {
            Ok(l) => l,
            Err(e) => return form_error.set(Some(e.to_string())),
        };
        form_error.set(None);
        *link.borrow_mut() = None;
        // The sample message names the device that sends it, unless the user edited it.
        if *payload == sample_telemetry(&sample_id.borrow()) {
            payload.set(sample_telemetry(&login.device_id));
            *sample_id.borrow_mut() = login.device_id.clone();
        }
        yew::platform::spawn_local(connect(login, view.clone(), link.clone()));
    })
}

/// "Disconnect": stops a repeat, says goodbye to the hub, drops the link.
fn disconnector(
    link: &Rc<RefCell<Option<Link>>>,
    view: &UseReducerHandle<DeviceView>,
    repeater: &Rc<RefCell<Option<gloo::timers::callback::Interval>>>,
) -> Callback<MouseEvent> {
    let (link, view, repeater) = (link.clone(), view.clone(), repeater.clone());
    Callback::from(move |_| {
        repeater.borrow_mut().take();
        if let Some(l) = link.borrow_mut().take() {
            l.with_flow(|s| s.disconnect(now_ms()));
            l.close();
        }
        view.dispatch(DeviceAction::Status(Status::Closed("Disconnected.".into())));
    })
}

/// "Check its registration in the hub": reads the device from the registry.
fn check_registration(
    registration: &UseStateHandle<Option<(String, Result<AuthKind, String>)>>,
    device_id: &UseStateHandle<String>,
    settings: &UseReducerHandle<super::settings::HubSettings>,
) -> Callback<MouseEvent> {
    let (registration, device_id, settings) =
        (registration.clone(), device_id.clone(), settings.clone());
    Callback::from(move |_| {
        let id_text = device_id.trim().to_owned();
        let (registration, settings) = (registration.clone(), settings.clone());
        yew::platform::spawn_local(async move {
            let s = super::hub::ready(&settings).await;
            let result = match (crate::contract::DeviceId::parse(&id_text), s.registry()) {
                (Err(e), _) => Err(e.to_string()),
                (_, Err(e)) => Err(e.to_string()),
                (Ok(id), Ok(registry)) => super::hub::client(&s)
                    .device(&registry, &id, now_ms() / 1000)
                    .await
                    .map(|d| d.auth_type)
                    .map_err(|e| e.to_string()),
            };
            registration.set(Some((id_text, result)));
        });
    })
}

/// Opens the WebSocket for `login` and hands it to the session.
async fn connect(
    login: DeviceLogin,
    view: UseReducerHandle<DeviceView>,
    link: Rc<RefCell<Option<Link>>>,
) {
    let DeviceLogin {
        address: addr,
        url,
        options,
        x509,
        ..
    } = login;
    // The browser decides on a client certificate for https requests only, then reuses
    // that decision for a WebSocket to the same host and port; without one, a server
    // that asks for a certificate (IoT Hub, localhub) makes the WebSocket fail. This
    // request makes the decision: with X.509 it brings up the certificate picker.
    view.dispatch(DeviceAction::Status(Status::Connecting(if x509 {
        "Asking the browser for the device certificate…".into()
    } else {
        "Reaching the hub…".into()
    })));
    choose_certificate(&addr).await;
    view.dispatch(DeviceAction::Status(Status::Connecting(format!(
        "Opening {url}…"
    ))));
    match open(&url, &options, x509, &view) {
        Ok(l) => *link.borrow_mut() = Some(l),
        Err(e) => view.dispatch(DeviceAction::Status(Status::Closed(e))),
    }
}

/// Publishes one telemetry message on the open link.
fn publish(
    link: &RefCell<Option<Link>>,
    view: &UseReducerHandle<DeviceView>,
    payload: &str,
    properties: &[(String, String)],
    qos: QoS,
) -> Result<(), String> {
    let guard = link.borrow();
    let l = guard
        .as_ref()
        .ok_or_else(|| DeviceTestError::NotConnected.to_string())?;
    l.with_flow(|s| s.send_telemetry(payload.as_bytes(), properties, qos, now_ms()))
        .map_err(|e| e.to_string())?;
    view.dispatch(DeviceAction::Sent);
    Ok(())
}

/// "Send telemetry": the first message at once, the rest on an interval.
fn sender(
    send_once: Rc<dyn Fn() -> Result<(), String>>,
    repeat: &UseStateHandle<String>,
    every: &UseStateHandle<String>,
    form_error: &UseStateHandle<Option<String>>,
    repeater: &Rc<RefCell<Option<gloo::timers::callback::Interval>>>,
) -> Callback<MouseEvent> {
    let (repeat, every, form_error, repeater) = (
        repeat.clone(),
        every.clone(),
        form_error.clone(),
        repeater.clone(),
    );
    Callback::from(move |_| {
        let plan = match SendPlan::parse(&repeat, &every) {
            Ok(p) => p,
            Err(e) => return form_error.set(Some(e.to_string())),
        };
        form_error.set(None);
        if let Err(e) = send_once() {
            return form_error.set(Some(e));
        }
        if plan.count > 1 {
            let left = Rc::new(std::cell::Cell::new(plan.count - 1));
            let (send_once, form_error, repeater2) =
                (send_once.clone(), form_error.clone(), repeater.clone());
            let interval = gloo::timers::callback::Interval::new(plan.period_ms, move || {
                if left.get() == 0 {
                    repeater2.borrow_mut().take();
                    return;
                }
                left.set(left.get() - 1);
                if let Err(e) = send_once() {
                    form_error.set(Some(e));
                    left.set(0);
                }
            });
            *repeater.borrow_mut() = Some(interval);
        }
    })
}

/// "Update reported properties" (`report`) or "Get twin".
fn twin_caller(
    report: bool,
    link: &Rc<RefCell<Option<Link>>>,
    reported: &UseStateHandle<String>,
    form_error: &UseStateHandle<Option<String>>,
) -> Callback<MouseEvent> {
    let (link, reported, form_error) = (link.clone(), reported.clone(), form_error.clone());
    Callback::from(move |_| {
        let guard = link.borrow();
        let Some(l) = guard.as_ref() else {
            return form_error.set(Some(DeviceTestError::NotConnected.to_string()));
        };
        let sent = if report {
            match reported_patch(&reported) {
                Ok(patch) => l.with_flow(|s| s.patch_reported(&patch, now_ms())),
                Err(e) => return form_error.set(Some(e.to_string())),
            }
        } else {
            l.with_flow(|s| s.request_twin(now_ms()))
        };
        form_error.set(sent.err().map(|e| e.to_string()));
    })
}

fn status_view(status: Option<&Status>, outlook: WebSocketOutlook) -> Html {
    match status {
        None => html! { <p class="hint">{"Not connected."}</p> },
        Some(Status::Connecting(m)) => {
            html! { <p class="progress"><span class="spinner" aria-hidden="true"></span>{m}</p> }
        }
        Some(Status::Connected) => {
            html! { <p class="status ok">{"Connected: the hub accepted the device (CONNACK 0)."}</p> }
        }
        Some(Status::Refused { refusal: r, x509 }) => html! {
            <div class="error-block" role="alert">
                <p class="error">{format!("The hub refused the device (CONNACK {}). Likely causes, most likely first:", r.code())}</p>
                <ol>
                    // Where it applies, the WebSocket rule is the most likely cause.
                    if let (true, Some(caution)) = (*x509, outlook.caution()) { <li>{caution}</li> }
                    { for refusal_advice(*r, *x509).into_iter().map(|a| html! { <li>{a}</li> }) }
                </ol>
            </div>
        },
        Some(Status::Closed(m)) => html! { <p class="error">{m}</p> },
    }
}

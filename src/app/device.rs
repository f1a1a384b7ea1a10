//! Step 6: a device connection test over MQTT over WebSocket, driven by the core's MQTT session.
//! The browser shell only moves frames between the WebSocket and the session.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{ArrayBuffer, Uint8Array};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{BinaryType, CloseEvent, MessageEvent, WebSocket};
use yew::prelude::*;

mod link;

use link::{open, pump, DeviceAction, DeviceView, Link, Status};

use super::command::Command;
use super::field::{textarea_setter, Field};
use super::state::Issued;
use crate::contract::AuthKind;
use crate::contract::{Topic, TopicFilter};
use crate::iothub::{sample_telemetry, DeviceFiles, DeviceLogin, WebSocketOutlook};
use crate::mqtt::{
    describe, refusal_advice, ConnectOptions, Event, QoS, Refusal, Session, ACK_TIMEOUT_MS,
};

/// The device id of the seed's sample telemetry until a device connects.
const SAMPLE_DEVICE: &str = "sensor-device-01";

fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

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
    let sas_mode = use_state(|| false);
    let address = use_state(|| {
        if props.localhub {
            "localhost:8884".to_owned()
        } else {
            String::new()
        }
    });
    let host = use_state(|| {
        if props.localhub {
            "localhost".to_owned()
        } else {
            String::new()
        }
    });
    let device_id = use_state(String::new);
    let connection_string = use_state(String::new);
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
    let known_kind = registration
        .as_ref()
        .filter(|(id, _)| id == device_id.trim())
        .and_then(|(_, r)| r.as_ref().ok().cloned());
    // What a GA hub will do with this X.509 device over WebSockets, for a device issued here: the
    // CAs above its issuer stand between it and a root registered in the hub.
    let outlook = if *sas_mode {
        WebSocketOutlook::Accepted
    } else {
        props
            .devices
            .iter()
            .find(|d| d.info.common_name.as_deref() == Some(device_id.trim()))
            .and_then(|d| d.pfx.as_ref())
            .map(|p| {
                WebSocketOutlook::of(
                    known_kind
                        .as_ref()
                        .unwrap_or(&AuthKind::CertificateAuthority),
                    p.chain.len().saturating_sub(1),
                )
            })
            .unwrap_or(WebSocketOutlook::Accepted)
    };
    let link: Rc<RefCell<Option<Link>>> = use_mut_ref(|| None);
    let repeater: Rc<RefCell<Option<gloo::timers::callback::Interval>>> = use_mut_ref(|| None);

    let on_check = {
        let (registration, device_id, settings) = (
            registration.clone(),
            device_id.clone(),
            props.settings.clone(),
        );
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
    };

    let on_connect = {
        let (payload, sample_id) = (payload.clone(), sample_id.clone());
        let (sas_mode, address, host, device_id, connection_string, form_error, view, link) = (
            sas_mode.clone(),
            address.clone(),
            host.clone(),
            device_id.clone(),
            connection_string.clone(),
            form_error.clone(),
            view.clone(),
            link.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            // Who connects, and with what.
            let login = if *sas_mode {
                DeviceLogin::sas(&connection_string, &address, now_ms() / 1000)
            } else {
                DeviceLogin::x509(&host, &device_id, &address)
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
            let DeviceLogin {
                address: addr,
                url,
                options,
                x509,
                ..
            } = login;
            let (view, link) = (view.clone(), link.clone());
            yew::platform::spawn_local(async move {
                // The browser decides on a client certificate for https requests only, then reuses
                // that decision for a WebSocket to the same host and port; without one, a server
                // that asks for a certificate (IoT Hub, localhub) makes the WebSocket fail. This
                // request makes the decision: with X.509 it brings up the certificate picker.
                view.dispatch(DeviceAction::Status(Status::Connecting(if x509 {
                    "Asking the browser for the device certificate…".into()
                } else {
                    "Reaching the hub…".into()
                })));
                let probe = format!("https://{addr}/");
                let _ = gloo::net::http::Request::get(&probe)
                    .mode(web_sys::RequestMode::NoCors)
                    .send()
                    .await;
                view.dispatch(DeviceAction::Status(Status::Connecting(format!(
                    "Opening {url}…"
                ))));
                match open(&url, options, x509, &view) {
                    Ok(l) => *link.borrow_mut() = Some(l),
                    Err(e) => view.dispatch(DeviceAction::Status(Status::Closed(e))),
                }
            });
        })
    };

    let on_disconnect = {
        let (link, view, repeater) = (link.clone(), view.clone(), repeater.clone());
        Callback::from(move |_| {
            repeater.borrow_mut().take();
            if let Some(l) = link.borrow_mut().take() {
                if let Some(s) = l.session.borrow_mut().as_mut() {
                    s.disconnect(now_ms());
                    pump(&l.socket, s, &view);
                }
            }
            view.dispatch(DeviceAction::Status(Status::Closed("Disconnected.".into())));
        })
    };

    let send_once = {
        let (link, view, payload, properties, qos1) = (
            link.clone(),
            view.clone(),
            payload.clone(),
            properties.clone(),
            qos1.clone(),
        );
        Rc::new(move || -> Result<(), String> {
            let mut guard = link.borrow_mut();
            let l = guard.as_mut().ok_or("Connect first.")?;
            let props: Vec<(String, String)> = properties
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(|l| {
                    let (k, v) = l.split_once('=').unwrap_or((l, ""));
                    (k.trim().to_owned(), v.trim().to_owned())
                })
                .collect();
            let topic = Topic::telemetry(&l.device_id, &props).to_string();
            let qos = if *qos1 {
                QoS::AtLeastOnce
            } else {
                QoS::AtMostOnce
            };
            let mut s = l.session.borrow_mut();
            let s = s.as_mut().ok_or("Connect first.")?;
            s.publish(&topic, payload.as_bytes(), qos, now_ms())
                .map_err(|e| e.to_string())?;
            view.dispatch(DeviceAction::Sent);
            pump(&l.socket, s, &view);
            Ok(())
        })
    };

    let on_send = {
        let (send_once, repeat, every, form_error, repeater) = (
            send_once.clone(),
            repeat.clone(),
            every.clone(),
            form_error.clone(),
            repeater.clone(),
        );
        Callback::from(move |_| {
            let count: u32 = match repeat.trim().parse() {
                Ok(n) if (1..=10_000).contains(&n) => n,
                _ => return form_error.set(Some("Messages: a number from 1 to 10000.".into())),
            };
            let period: u32 = match every.trim().parse() {
                Ok(n) if (10..=3_600_000).contains(&n) => n,
                _ => {
                    return form_error
                        .set(Some("Every: a number of milliseconds, at least 10.".into()))
                }
            };
            form_error.set(None);
            if let Err(e) = send_once() {
                return form_error.set(Some(e));
            }
            if count > 1 {
                let left = Rc::new(std::cell::Cell::new(count - 1));
                let (send_once, form_error, repeater2) =
                    (send_once.clone(), form_error.clone(), repeater.clone());
                let interval = gloo::timers::callback::Interval::new(period, move || {
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
    };

    let twin_call = |report: bool| {
        let (link, view, reported, form_error) = (
            link.clone(),
            view.clone(),
            reported.clone(),
            form_error.clone(),
        );
        Callback::from(move |_| {
            let mut guard = link.borrow_mut();
            let Some(l) = guard.as_mut() else {
                return form_error.set(Some("Connect first.".into()));
            };
            l.next_rid += 1;
            let rid = l.next_rid;
            let (topic, body) = if report {
                if let Err(e) = serde_json::from_str::<serde_json::Value>(&reported) {
                    return form_error.set(Some(format!("Reported properties: not JSON ({e}).")));
                }
                (
                    Topic::TwinReportedPatch {
                        rid: rid.to_string(),
                    }
                    .to_string(),
                    reported.as_bytes().to_vec(),
                )
            } else {
                (
                    Topic::TwinGet {
                        rid: rid.to_string(),
                    }
                    .to_string(),
                    Vec::new(),
                )
            };
            let mut s = l.session.borrow_mut();
            if let Some(s) = s.as_mut() {
                match s.publish(&topic, &body, QoS::AtMostOnce, now_ms()) {
                    Ok(_) => pump(&l.socket, s, &view),
                    Err(e) => form_error.set(Some(e.to_string())),
                }
            }
        })
    };

    let text_input = |state: &UseStateHandle<String>| {
        let state = state.clone();
        Callback::from(move |v: String| state.set(v))
    };
    let set_mode = |v: bool| {
        let sas_mode = sas_mode.clone();
        Callback::from(move |_: web_sys::Event| sas_mode.set(v))
    };
    let set_qos = |v: bool| {
        let qos1 = qos1.clone();
        Callback::from(move |_: web_sys::Event| qos1.set(v))
    };
    let issued_ids: Vec<String> = props
        .devices
        .iter()
        .filter_map(|d| d.info.common_name.clone())
        .collect();
    let connected = matches!(view.status, Some(Status::Connected));
    let snippet_id = if device_id.trim().is_empty() {
        issued_ids
            .first()
            .cloned()
            .unwrap_or_else(|| "sensor-device-01".into())
    } else {
        device_id.trim().to_owned()
    };
    let snippet = DeviceFiles {
        host: if host.trim().is_empty() {
            "NAME.azure-devices.net".to_owned()
        } else {
            host.trim().to_owned()
        },
        device_id: snippet_id.clone(),
        cert_file: format!("{snippet_id}.pem"),
        key_file: format!("{snippet_id}.key"),
        ca_file: props
            .localhub
            .then(|| ".localhub/tls/root-ca.pem".to_owned()),
    };

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
                <fieldset class="choice">
                    <legend>{"Device authentication"}</legend>
                    <label><input type="radio" id="dev-x509" name="dev-auth" checked={!*sas_mode} onchange={set_mode(false)} />{" X.509 certificate from this browser's store"}</label>
                    <label><input type="radio" id="dev-sas" name="dev-auth" checked={*sas_mode} onchange={set_mode(true)} />{" SAS key (device connection string)"}</label>
                </fieldset>
                <div class="grid">
                    <Field id="dev-address" label="WebSocket address (host:port)" value={(*address).clone()} oninput={text_input(&address)}
                        hint="localhub: localhost:8884. Azure: NAME.azure-devices.net (port 443)" />
                    if *sas_mode {
                        <Field id="dev-cs" label="Device connection string" kind="password" mono=true value={(*connection_string).clone()} oninput={text_input(&connection_string)}
                            hint="HostName=…;DeviceId=…;SharedAccessKey=… The SAS token is made here and lasts an hour." />
                    } else {
                        <Field id="dev-host" label="Hub host name" value={(*host).clone()} oninput={text_input(&host)} hint="In the MQTT user name: NAME.azure-devices.net, or localhost" />
                        <Field id="dev-id" label="Device id" mono=true value={(*device_id).clone()} oninput={text_input(&device_id)}
                            hint={if issued_ids.is_empty() { "The CN of the device certificate".to_owned() } else { format!("Issued here: {}", issued_ids.join(", ")) }} />
                    }
                </div>
                if !*sas_mode {
                    <details class="help">
                        <summary>{"How the browser presents the device certificate"}</summary>
                        <p>{"A page cannot hand a certificate to a WebSocket: the browser presents one from its own store. Download the device's .pfx from its card in step 4 and import it first, then connect; the browser asks which certificate to use."}</p>
                        <ul>
                            <li>{"Chrome / Edge on Windows: double-click the .pfx (Current User, Personal store)."}</li>
                            <li>{"Chrome on macOS: double-click the .pfx to add it to the login keychain."}</li>
                            <li>{"Chrome / Chromium on Linux: Settings → Privacy and security → Security → Manage certificates → Your certificates → Import, or pk12util -i device.pfx -d sql:$HOME/.pki/nssdb."}</li>
                            <li>{"Firefox: Settings → Privacy & Security → Certificates → View Certificates → Your Certificates → Import."}</li>
                        </ul>
                        <p>{"For localhub, also trust its TLS root (.localhub/tls/root-ca.pem); see the README."}</p>
                    </details>
                }
                if let Some(e) = &*form_error { <p class="error" role="alert" id="dev-error">{e}</p> }
                <div class="actions">
                    <button type="submit" class="primary" id="dev-connect">{ if connected { "Reconnect" } else { "Connect" } }</button>
                    <button type="button" class="secondary" id="dev-disconnect" onclick={on_disconnect} disabled={view.status.is_none()}>{"Disconnect"}</button>
                </div>
                <div id="dev-status" role="status" aria-live="polite">
                    if !*sas_mode {
                        <p class="hint">
                            <button type="button" class="secondary" id="dev-check-registration" onclick={on_check}>{"Check its registration in the hub"}</button>
                            { match registration.as_ref().filter(|(id, _)| id == device_id.trim()) {
                                None => html! {},
                                Some((_, Ok(kind))) => html! { <span id="dev-registration">{match kind {
                                    AuthKind::SelfSigned => " Registered by thumbprint (selfSigned): IoT Hub compares its SHA-1/SHA-256 only, and MQTT over WebSockets is generally available for it.".to_owned(),
                                    AuthKind::CertificateAuthority => " Registered as CA-signed (certificateAuthority).".to_owned(),
                                    other => format!(" Registered with {other} authentication: an X.509 certificate will not be accepted."),
                                }}</span> },
                                Some((_, Err(e))) => html! { <span class="error" id="dev-registration">{format!(" {e}")}</span> },
                            } }
                        </p>
                    }
                    if let Some(caution) = outlook.caution() { <p class="notice" id="dev-ws-caution" role="note">{caution}</p> }
                    { status_view(view.status.as_ref(), outlook) }
                </div>
            </form>
            <div class="card">
                <h3 class="sub">{"Telemetry"}</h3>
                <div class="field">
                    <label for="dev-payload">{"Message body (JSON)"}</label>
                    <textarea autocomplete="off" id="dev-payload" class="mono" rows="5" value={(*payload).clone()} oninput={textarea_setter(&payload)} spellcheck="false" />
                </div>
                <div class="grid">
                    <div class="field">
                        <label for="dev-props">{"Message properties, name=value per line"}</label>
                        <textarea autocomplete="off" id="dev-props" class="mono" rows="2" value={(*properties).clone()} oninput={textarea_setter(&properties)} spellcheck="false" />
                    </div>
                    <fieldset class="choice">
                        <legend>{"QoS"}</legend>
                        <label><input type="radio" id="dev-qos0" name="dev-qos" checked={!*qos1} onchange={set_qos(false)} />{" 0"}</label>
                        <label><input type="radio" id="dev-qos1" name="dev-qos" checked={*qos1} onchange={set_qos(true)} />{" 1 (acknowledged)"}</label>
                    </fieldset>
                    <Field id="dev-count" label="Messages" kind="number" value={(*repeat).clone()} oninput={text_input(&repeat)} />
                    <Field id="dev-every" label="Every (ms)" kind="number" value={(*every).clone()} oninput={text_input(&every)} />
                </div>
                <div class="actions">
                    <button type="button" class="primary" id="dev-send" onclick={on_send} disabled={!connected}>{"Send telemetry"}</button>
                    <span class="counts" id="dev-counts">{if view.timed_out == 0 { format!("{} sent · {} acknowledged", view.sent, view.acked) } else { format!("{} sent · {} acknowledged · {} timed out", view.sent, view.acked, view.timed_out) }}</span>
                </div>
            </div>
            <div class="card">
                <h3 class="sub">{"Device twin"}</h3>
                <div class="field">
                    <label for="dev-reported">{"Reported properties (JSON)"}</label>
                    <textarea autocomplete="off" id="dev-reported" class="mono" rows="2" value={(*reported).clone()} oninput={textarea_setter(&reported)} spellcheck="false" />
                </div>
                <div class="actions">
                    <button type="button" class="secondary" id="dev-twin-report" onclick={twin_call(true)} disabled={!connected}>{"Update reported properties"}</button>
                    <button type="button" class="secondary" id="dev-twin-get" onclick={twin_call(false)} disabled={!connected}>{"Get twin"}</button>
                </div>
                if let Some(t) = &view.twin { <pre class="mono twin" id="dev-twin">{t}</pre> }
                <h3 class="sub">{"Cloud-to-device messages"}</h3>
                if view.c2d.is_empty() {
                    <p class="hint">{"None yet. Send one with az iot device c2d-message send, or POST /localhub/devices/{id}/messages to localhub."}</p>
                } else {
                    <ul class="results" id="dev-c2d">{ for view.c2d.iter().map(|m| html! { <li class="ok">{m}</li> }) }</ul>
                }
            </div>
            <details class="card" id="dev-snippets">
                <summary class="sub">{format!("Run it on the device instead: code for {snippet_id}")}</summary>
                <p class="hint">{"Each sends the seed's sample message with the device's certificate and key files (the downloads of step 4). The SDKs connect to port 8883."}</p>
                <Command title="Node.js (npm install azure-iot-device azure-iot-device-mqtt), device-x509.js" command={snippet.node()} />
                <Command title="Python (pip install azure-iot-device), device_x509.py" command={snippet.python()} />
                <Command title="mosquitto_pub (Debian mosquitto-clients)" command={snippet.mosquitto_pub(8883)} />
            </details>
            <details class="card log" open=true>
                <summary>{format!("Connection log ({} lines)", view.log.len())}</summary>
                <ol class="mono" id="dev-log">
                    { for view.log.iter().rev().map(|l| html! {
                        <li class={l.dir}><span class="time">{&l.time}</span>{" "}<span class="dir">{match l.dir { "out" => "→", "in" => "←", _ => "!" }}</span>{" "}{&l.text}</li>
                    }) }
                </ol>
            </details>
        </section>
    }
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

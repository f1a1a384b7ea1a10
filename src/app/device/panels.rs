//! The device test's leaf parts: each takes what it shows and sends what the user did.

use yew::prelude::*;

use super::link::DeviceView;
use super::LoginInputs;
use crate::app::command::Command;
use crate::app::field::Field;
use crate::contract::AuthKind;
use crate::iothub::{registration_note, DeviceFiles};

/// The value of a `<textarea>`'s input event.
fn textarea_input(on: &Callback<String>) -> Callback<InputEvent> {
    on.reform(|e: InputEvent| {
        e.target_unchecked_into::<web_sys::HtmlTextAreaElement>()
            .value()
    })
}

#[derive(Properties, PartialEq)]
pub(super) struct LoginFieldsProps {
    pub(super) login: LoginInputs,
    /// The device ids issued on this page, offered in the hint.
    pub(super) issued_ids: Vec<String>,
}

/// How the device signs in: X.509 from the browser's store, or a SAS connection string.
#[component]
pub(super) fn LoginFields(props: &LoginFieldsProps) -> Html {
    let l = &props.login;
    let text_input = |state: &UseStateHandle<String>| {
        let state = state.clone();
        Callback::from(move |v: String| state.set(v))
    };
    let set_mode = |v: bool| {
        let sas_mode = l.sas_mode.clone();
        Callback::from(move |_: Event| sas_mode.set(v))
    };
    let id_hint = if props.issued_ids.is_empty() {
        "The CN of the device certificate".to_owned()
    } else {
        format!("Issued here: {}", props.issued_ids.join(", "))
    };
    html! {
        <>
            <fieldset class="choice">
                <legend>{"Device authentication"}</legend>
                <label><input type="radio" id="dev-x509" name="dev-auth" checked={!*l.sas_mode} onchange={set_mode(false)} />{" X.509 certificate from this browser's store"}</label>
                <label><input type="radio" id="dev-sas" name="dev-auth" checked={*l.sas_mode} onchange={set_mode(true)} />{" SAS key (device connection string)"}</label>
            </fieldset>
            <div class="grid">
                <Field id="dev-address" label="WebSocket address (host:port)" value={(*l.address).clone()} oninput={text_input(&l.address)}
                    hint="localhub: localhost:8884. Azure: NAME.azure-devices.net (port 443)" />
                if *l.sas_mode {
                    <Field id="dev-cs" label="Device connection string" kind="password" mono=true value={(*l.connection_string).clone()} oninput={text_input(&l.connection_string)}
                        hint="HostName=…;DeviceId=…;SharedAccessKey=… The SAS token is made here and lasts an hour." />
                } else {
                    <Field id="dev-host" label="Hub host name" value={(*l.host).clone()} oninput={text_input(&l.host)} hint="In the MQTT user name: NAME.azure-devices.net, or localhost" />
                    <Field id="dev-id" label="Device id" mono=true value={(*l.device_id).clone()} oninput={text_input(&l.device_id)} hint={id_hint} />
                }
            </div>
        </>
    }
}

/// How to get the device's certificate into the browser's store.
#[component]
pub(super) fn X509Help() -> Html {
    html! {
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
}

#[derive(Properties, PartialEq)]
pub(super) struct RegistrationCheckProps {
    /// The typed device's registration, once read.
    pub(super) registration: Option<Result<AuthKind, String>>,
    pub(super) oncheck: Callback<MouseEvent>,
}

/// "Check its registration in the hub" and what it found.
#[component]
pub(super) fn RegistrationCheck(props: &RegistrationCheckProps) -> Html {
    html! {
        <p class="hint">
            <button type="button" class="secondary" id="dev-check-registration" onclick={props.oncheck.clone()}>{"Check its registration in the hub"}</button>
            { match &props.registration {
                None => html! {},
                Some(Ok(kind)) => html! { <span id="dev-registration">{registration_note(kind)}</span> },
                Some(Err(e)) => html! { <span class="error" id="dev-registration">{format!(" {e}")}</span> },
            } }
        </p>
    }
}

#[derive(Properties, PartialEq)]
pub(super) struct TelemetryCardProps {
    pub(super) payload: AttrValue,
    pub(super) properties: AttrValue,
    pub(super) qos1: bool,
    pub(super) repeat: AttrValue,
    pub(super) every: AttrValue,
    pub(super) connected: bool,
    /// The sent / acknowledged line.
    pub(super) counts: AttrValue,
    pub(super) onpayload: Callback<String>,
    pub(super) onproperties: Callback<String>,
    pub(super) onqos: Callback<bool>,
    pub(super) onrepeat: Callback<String>,
    pub(super) onevery: Callback<String>,
    pub(super) onsend: Callback<MouseEvent>,
}

/// The telemetry form: body, properties, QoS, how many and how often.
#[component]
pub(super) fn TelemetryCard(props: &TelemetryCardProps) -> Html {
    let set_qos = |v: bool| props.onqos.reform(move |_: Event| v);
    html! {
        <div class="card">
            <h3 class="sub">{"Telemetry"}</h3>
            <div class="field">
                <label for="dev-payload">{"Message body (JSON)"}</label>
                <textarea autocomplete="off" id="dev-payload" class="mono" rows="5" value={props.payload.clone()} oninput={textarea_input(&props.onpayload)} spellcheck="false" />
            </div>
            <div class="grid">
                <div class="field">
                    <label for="dev-props">{"Message properties, name=value per line"}</label>
                    <textarea autocomplete="off" id="dev-props" class="mono" rows="2" value={props.properties.clone()} oninput={textarea_input(&props.onproperties)} spellcheck="false" />
                </div>
                <fieldset class="choice">
                    <legend>{"QoS"}</legend>
                    <label><input type="radio" id="dev-qos0" name="dev-qos" checked={!props.qos1} onchange={set_qos(false)} />{" 0"}</label>
                    <label><input type="radio" id="dev-qos1" name="dev-qos" checked={props.qos1} onchange={set_qos(true)} />{" 1 (acknowledged)"}</label>
                </fieldset>
                <Field id="dev-count" label="Messages" kind="number" value={props.repeat.clone()} oninput={props.onrepeat.clone()} />
                <Field id="dev-every" label="Every (ms)" kind="number" value={props.every.clone()} oninput={props.onevery.clone()} />
            </div>
            <div class="actions">
                <button type="button" class="primary" id="dev-send" onclick={props.onsend.clone()} disabled={!props.connected}>{"Send telemetry"}</button>
                <span class="counts" id="dev-counts">{props.counts.clone()}</span>
            </div>
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub(super) struct TwinCardProps {
    pub(super) reported: AttrValue,
    pub(super) onreported: Callback<String>,
    pub(super) connected: bool,
    pub(super) onreport: Callback<MouseEvent>,
    pub(super) onget: Callback<MouseEvent>,
    /// The twin as last read.
    pub(super) twin: Option<String>,
    /// Cloud-to-device messages received.
    pub(super) c2d: Vec<String>,
}

/// The device twin and the cloud-to-device messages.
#[component]
pub(super) fn TwinCard(props: &TwinCardProps) -> Html {
    html! {
        <div class="card">
            <h3 class="sub">{"Device twin"}</h3>
            <div class="field">
                <label for="dev-reported">{"Reported properties (JSON)"}</label>
                <textarea autocomplete="off" id="dev-reported" class="mono" rows="2" value={props.reported.clone()} oninput={textarea_input(&props.onreported)} spellcheck="false" />
            </div>
            <div class="actions">
                <button type="button" class="secondary" id="dev-twin-report" onclick={props.onreport.clone()} disabled={!props.connected}>{"Update reported properties"}</button>
                <button type="button" class="secondary" id="dev-twin-get" onclick={props.onget.clone()} disabled={!props.connected}>{"Get twin"}</button>
            </div>
            if let Some(t) = &props.twin { <pre class="mono twin" id="dev-twin">{t}</pre> }
            <h3 class="sub">{"Cloud-to-device messages"}</h3>
            if props.c2d.is_empty() {
                <p class="hint">{"None yet. Send one with az iot device c2d-message send, or POST /localhub/devices/{id}/messages to localhub."}</p>
            } else {
                <ul class="results" id="dev-c2d">{ for props.c2d.iter().map(|m| html! { <li class="ok">{m}</li> }) }</ul>
            }
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub(super) struct DeviceSnippetsProps {
    pub(super) files: DeviceFiles,
}

/// The same test as code to run on the device.
#[component]
pub(super) fn DeviceSnippets(props: &DeviceSnippetsProps) -> Html {
    let files = &props.files;
    html! {
        <details class="card" id="dev-snippets">
            <summary class="sub">{format!("Run it on the device instead: code for {}", files.device_id)}</summary>
            <p class="hint">{"Each sends the seed's sample message with the device's certificate and key files (the downloads of step 4). The SDKs connect to port 8883."}</p>
            <Command title="Node.js (npm install azure-iot-device azure-iot-device-mqtt), device-x509.js" command={files.node()} />
            <Command title="Python (pip install azure-iot-device), device_x509.py" command={files.python()} />
            <Command title="mosquitto_pub (Debian mosquitto-clients)" command={files.mosquitto_pub(8883)} />
        </details>
    }
}

#[derive(Properties, PartialEq)]
pub(super) struct ConnectionLogProps {
    /// The connection's view state (compared by pointer, so the log is not copied).
    pub(super) view: UseReducerHandle<DeviceView>,
}

/// The connection's log, newest first.
#[component]
pub(super) fn ConnectionLog(props: &ConnectionLogProps) -> Html {
    let log = &props.view.log;
    html! {
        <details class="card log" open=true>
            <summary>{format!("Connection log ({} lines)", log.len())}</summary>
            <ol class="mono" id="dev-log">
                { for log.iter().rev().map(|l| html! {
                    <li class={l.dir}><span class="time">{&l.time}</span>{" "}<span class="dir">{match l.dir { "out" => "→", "in" => "←", _ => "!" }}</span>{" "}{&l.text}</li>
                }) }
            </ol>
        </details>
    }
}

//! The workbench: drop or paste any certificate, CSR, key or .pfx, see what it is, and run IoT Hub's
//! pre-flight checks against the CA of this page.

use yew::prelude::*;

use super::browser;
use super::field::Field;
use super::state::SharedCa;
use crate::pki::{
    ca_checks, chain_checks, device_checks, format_utc, inspect, verification_checks,
    wants_password, Certificate, Check, Inspected, KeyPair, PkiError,
};

#[derive(Properties, PartialEq)]
pub(crate) struct InspectProps {
    /// The signing CA, to check against.
    pub(crate) ca: Option<SharedCa>,
}

fn checks_view(title: &str, checks: &[Check]) -> Html {
    let failed = checks.iter().filter(|c| !c.passed).count();
    html! {
        <div class="checks">
            <h4>{ if failed == 0 { format!("{title}: all {} checks pass", checks.len()) } else { format!("{title}: {failed} of {} checks fail", checks.len()) } }</h4>
            <ul>
                { for checks.iter().map(|c| html! {
                    <li class={if c.passed { "ok" } else { "bad" }}>
                        <span aria-hidden="true">{ if c.passed { "✓ " } else { "✗ " } }</span>
                        <strong>{c.label}</strong><span class="sr-only">{ if c.passed { " passed" } else { " failed" } }</span>
                        {": "}{&c.detail}
                    </li>
                }) }
            </ul>
        </div>
    }
}

fn certificate_view(cert: &Certificate) -> Html {
    match cert.info() {
        Err(e) => html! { <p class="error">{e.to_string()}</p> },
        Ok(info) => html! {
            <dl class="facts">
                <dt>{"Type"}</dt><dd>{ if info.is_ca { "CA certificate" } else { "Certificate" } }</dd>
                <dt>{"Subject"}</dt><dd>{&info.subject}</dd>
                <dt>{"Issuer"}</dt><dd>{&info.issuer}</dd>
                <dt>{"Serial"}</dt><dd><code>{&info.serial}</code></dd>
                <dt>{"Valid"}</dt><dd>{format!("{} → {} ({} days left)", format_utc(info.not_before), format_utc(info.not_after), info.days_left(browser::now()))}</dd>
                <dt>{"Key"}</dt><dd>{&info.key_type}</dd>
                <dt>{"Extensions"}</dt>
                <dd>
                    if info.extensions.is_empty() { {"none"} }
                    <ul class="extensions">
                        { for info.extensions.iter().map(|e| html! {
                            <li>
                                <strong>{&e.name}</strong>
                                if e.critical { <span class="badge">{"critical"}</span> }
                                <br/><span class="mono">{&e.value}</span>
                            </li>
                        }) }
                    </ul>
                </dd>
                <dt>{"SHA-1 thumbprint"}</dt><dd><code class="thumb">{info.sha1.as_str()}</code><span class="where">{"IoT Hub's certificate list; self-signed device registration"}</span></dd>
                <dt>{"SHA-256 thumbprint"}</dt><dd><code class="thumb">{info.sha256.as_str()}</code><span class="where">{"self-signed device registration"}</span></dd>
            </dl>
        },
    }
}

/// The facts of a certificate and IoT Hub's checks of it against the page's CA.
fn certificate_and_checks(
    cert: &Certificate,
    ca_cert: Option<&Certificate>,
    device_id: &str,
    code: &str,
    now: time::OffsetDateTime,
) -> Html {
    let info = cert.info().ok();
    let is_ca = info.as_ref().is_some_and(|i| i.is_ca);
    let mut sections = vec![certificate_view(cert)];
    if is_ca {
        if let Ok(c) = ca_checks(cert, now) {
            sections.push(checks_view("As a CA for IoT Hub", &c));
        }
    } else if let Some(ca) = ca_cert {
        if !code.trim().is_empty() {
            if let Ok(c) = verification_checks(cert, code, ca, now) {
                sections.push(checks_view("As the verification certificate", &c));
            }
        } else {
            let id = if device_id.trim().is_empty() {
                info.as_ref()
                    .and_then(|i| i.common_name.clone())
                    .unwrap_or_default()
            } else {
                device_id.trim().to_owned()
            };
            if let Ok(c) = device_checks(cert, &id, ca, now) {
                sections.push(checks_view(
                    &format!("As device \"{id}\" under this page's CA"),
                    &c,
                ));
            }
        }
    } else {
        sections.push(html! { <p class="hint">{"Create or import a CA above to check this certificate against it."}</p> });
    }
    html! { <>{ for sections }</> }
}

fn key_view(k: &KeyPair, ca_cert: Option<&Certificate>) -> Html {
    let matches = ca_cert
        .and_then(|c| c.info().ok())
        .map(|i| i.subject_public_key_info == k.subject_public_key_info_der());
    html! {
        <dl class="facts">
            <dt>{"Type"}</dt><dd>{"Private key (not shown, never sent)"}</dd>
            <dt>{"Key"}</dt><dd>{k.algorithm().label()}</dd>
            if let Some(m) = matches {
                <dt>{"This page's CA"}</dt><dd>{ if m { "this is its key" } else { "not its key" } }</dd>
            }
        </dl>
    }
}

/// Dropping a file loads it; dragging over the card marks it.
fn drop_handlers(
    load: &Callback<Option<web_sys::File>>,
    dragging: &UseStateHandle<bool>,
) -> (
    Callback<DragEvent>,
    Callback<DragEvent>,
    Callback<DragEvent>,
) {
    let on_drop = {
        let (load, dragging) = (load.clone(), dragging.clone());
        Callback::from(move |e: DragEvent| {
            e.prevent_default();
            dragging.set(false);
            load.emit(
                e.data_transfer()
                    .and_then(|d| d.files())
                    .and_then(|f| f.get(0)),
            );
        })
    };
    let on_drag_over = {
        let dragging = dragging.clone();
        Callback::from(move |e: DragEvent| {
            e.prevent_default();
            dragging.set(true);
        })
    };
    let on_drag_leave = {
        let dragging = dragging.clone();
        Callback::from(move |_: DragEvent| dragging.set(false))
    };
    (on_drop, on_drag_over, on_drag_leave)
}

/// What the input read as (`None`: nothing yet), with the checks that apply to it.
fn inspected_view(
    read: Option<&Result<Inspected, PkiError>>,
    ca_cert: Option<&Certificate>,
    device_id: &str,
    code: &str,
    now: time::OffsetDateTime,
) -> Html {
    match read {
        None => {
            html! { <p class="hint">{"Paste a PEM block, or choose or drop a file: a certificate (PEM, .cer, .der), a chain file (device first), a certificate request, a private key or a .pfx."}</p> }
        }
        Some(Err(e)) => html! { <p class="error" role="alert">{e.to_string()}</p> },
        Some(Ok(Inspected::NeedsPassword { what })) => html! {
            <p class="hint" role="status">{format!("This is an {what}: enter its password to look inside. It is opened here and never sent.")}</p>
        },
        Some(Ok(Inspected::Certificate(cert))) => {
            certificate_and_checks(cert, ca_cert, device_id, code, now)
        }
        Some(Ok(Inspected::Request(r))) => html! {
            <dl class="facts">
                <dt>{"Type"}</dt><dd>{"Certificate signing request (PKCS#10)"}</dd>
                <dt>{"Subject"}</dt><dd>{&r.subject}</dd>
                <dt>{"Key"}</dt><dd>{&r.key_type}</dd>
                <dt>{"Signature"}</dt><dd><span class="badge ok">{"valid"}</span></dd>
                <dt>{"Requested extensions"}</dt><dd>{ if r.requested_extensions.is_empty() { "none".to_owned() } else { r.requested_extensions.join(", ") } }</dd>
                <dt>{"Device id"}</dt><dd>{ match r.device_id() { Ok(id) => format!("{id} (valid for IoT Hub)"), Err(e) => e.to_string() } }</dd>
            </dl>
        },
        Some(Ok(Inspected::Key(k))) => key_view(k, ca_cert),
        Some(Ok(Inspected::Chain(certs))) => html! {
            <>
                { match chain_checks(certs, now) {
                    Ok(c) => checks_view(&format!("The chain of {} certificates", certs.len()), &c),
                    Err(e) => html! { <p class="error" role="alert">{e.to_string()}</p> },
                } }
                { for certs.iter().enumerate().map(|(i, c)| html! {
                    <details class="chain-member" open={i == 0}>
                        <summary>{ format!("{}. {}", i + 1, c.info().map(|i| i.subject).unwrap_or_default()) }</summary>
                        { certificate_view(c) }
                    </details>
                }) }
            </>
        },
        Some(Ok(Inspected::Pkcs12(p))) => html! {
            <>
                <dl class="facts">
                    <dt>{"Type"}</dt><dd>{"PKCS#12 (.pfx): a key with its certificate"}</dd>
                    if let Some(n) = &p.friendly_name { <dt>{"Name"}</dt><dd>{n}</dd> }
                    <dt>{"Key"}</dt><dd>{format!("{} (matches the certificate)", p.key.algorithm())}</dd>
                    <dt>{"Chain"}</dt>
                    <dd>
                        if p.chain.is_empty() { {"no CA certificates included"} }
                        <ul class="extensions">
                            { for p.chain.iter().map(|c| html! { <li>{ c.info().map(|i| i.subject).unwrap_or_default() }</li> }) }
                        </ul>
                    </dd>
                </dl>
                { certificate_and_checks(&p.certificate, ca_cert, device_id, code, now) }
            </>
        },
    }
}

/// Paste, choose or drop a file; see what it is; check it.
#[component]
pub(crate) fn InspectStep(props: &InspectProps) -> Html {
    let text = use_state(String::new);
    // A binary file (DER or .pfx) and its name; pasting text clears it.
    let file = use_state(|| None::<(String, Vec<u8>)>);
    let password = use_state(String::new);
    let device_id = use_state(String::new);
    let code = use_state(String::new);
    let file_error = use_state(|| None::<String>);
    let dragging = use_state(|| false);

    let on_text = {
        let (text, file) = (text.clone(), file.clone());
        Callback::from(move |e: InputEvent| {
            file.set(None);
            text.set(
                e.target_unchecked_into::<web_sys::HtmlTextAreaElement>()
                    .value(),
            )
        })
    };
    let load = {
        let (text, file, file_error) = (text.clone(), file.clone(), file_error.clone());
        Callback::from(move |picked: Option<web_sys::File>| {
            let (text, file, file_error) = (text.clone(), file.clone(), file_error.clone());
            let Some(picked) = picked else { return };
            yew::platform::spawn_local(async move {
                let name = picked.name();
                match super::browser::read_file_bytes(&picked).await {
                    Err(e) => file_error.set(Some(e)),
                    Ok(bytes) => {
                        file_error.set(None);
                        match String::from_utf8(bytes.clone()) {
                            Ok(t) if t.contains("-----BEGIN") => {
                                file.set(None);
                                text.set(t);
                            }
                            _ => {
                                text.set(String::new());
                                file.set(Some((name, bytes)));
                            }
                        }
                    }
                }
            });
        })
    };
    let on_file = {
        let load = load.clone();
        Callback::from(move |e: Event| {
            let input: web_sys::HtmlInputElement = e.target_unchecked_into();
            load.emit(input.files().and_then(|f| f.get(0)));
        })
    };
    let (on_drop, on_drag_over, on_drag_leave) = drop_handlers(&load, &dragging);
    let set = |s: &UseStateHandle<String>| {
        let s = s.clone();
        Callback::from(move |v: String| s.set(v))
    };
    let now = browser::now();
    let ca_cert = props.ca.as_ref().map(|c| c.0.certificate().clone());
    let pw = (!password.is_empty()).then_some(password.as_str());
    // Reading may decrypt (a .pfx, an encrypted key): only when the input or password changes,
    // not on every keystroke in the other fields.
    let outcome = use_memo(
        ((*text).clone(), (*file).clone(), (*password).clone()),
        |(text, file, password)| {
            let input: Option<&[u8]> = match file {
                Some((_, bytes)) => Some(bytes),
                None if text.trim().is_empty() => None,
                None => Some(text.as_bytes()),
            };
            input.map(|bytes| inspect(bytes, (!password.is_empty()).then_some(password.as_str())))
        },
    );
    let wants_password = wants_password(outcome.as_ref().as_ref(), pw.is_some(), file.is_some());

    let result = inspected_view(
        outcome.as_ref().as_ref(),
        ca_cert.as_ref(),
        &device_id,
        &code,
        now,
    );

    html! {
        <section class="step" id="step-inspect" aria-labelledby="step-inspect-title">
            <div class="step-head">
                <span class="step-no" aria-hidden="true">{"⌕"}</span>
                <div>
                    <h2 id="step-inspect-title">{"Inspect and check"}</h2>
                    <p class="lede">{"What openssl x509 -text would tell you, readably, and IoT Hub's pre-flight checks against this page's CA."}</p>
                </div>
            </div>
            <div class={classes!("card", "form", "dropzone", dragging.then_some("dragging"))}
                ondrop={on_drop} ondragover={on_drag_over} ondragleave={on_drag_leave}>
                <div class="field">
                    <label for="inspect-text">{"PEM to inspect"}</label>
                    <textarea id="inspect-text" class="mono" rows="6" autocomplete="off" value={(*text).clone()} oninput={on_text} spellcheck="false" placeholder="-----BEGIN CERTIFICATE-----" />
                    <label class="file">{"or a file (or drop it here): "}<input type="file" id="inspect-file" accept=".pem,.crt,.cer,.der,.csr,.req,.key,.pfx,.p12" onchange={on_file} /></label>
                    if let Some((name, bytes)) = &*file { <p class="hint" id="inspect-file-name">{format!("{name}: {} bytes loaded", bytes.len())}</p> }
                    if let Some(e) = &*file_error { <p class="error" role="alert">{e}</p> }
                </div>
                if wants_password {
                    <Field id="inspect-password" label="Password (encrypted key or .pfx)" kind="password" value={(*password).clone()} oninput={set(&password)} />
                }
                <div class="grid">
                    <Field id="inspect-device-id" label="Device id to check against (optional)" mono=true value={(*device_id).clone()} oninput={set(&device_id)} hint="Empty: the certificate's own CN" />
                    <Field id="inspect-code" label="Verification code (for a verification certificate)" mono=true value={(*code).clone()} oninput={set(&code)} />
                </div>
                <div id="inspect-result" aria-live="polite">{result}</div>
            </div>
        </section>
    }
}

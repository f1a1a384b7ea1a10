//! The workbench: drop or paste any certificate, CSR or key, see what it is, and run IoT Hub's
//! pre-flight checks against the CA of this page.

use yew::prelude::*;

use super::browser;
use super::field::Field;
use super::state::SharedCa;
use crate::pki::{
    ca_checks, certificate_from_bytes, device_checks, format_utc, read_csr, verification_checks,
    Certificate, Check, KeyPair,
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
                <dt>{"Extensions"}</dt><dd>{format!("CA: {}; keyCertSign: {}; clientAuth: {}", info.is_ca, info.can_sign_certificates, info.client_auth)}</dd>
                <dt>{"SHA-1 thumbprint"}</dt><dd><code class="thumb">{info.sha1.as_str()}</code><span class="where">{"IoT Hub's certificate list; self-signed device registration"}</span></dd>
                <dt>{"SHA-256 thumbprint"}</dt><dd><code class="thumb">{info.sha256.as_str()}</code><span class="where">{"self-signed device registration"}</span></dd>
            </dl>
        },
    }
}

/// Paste or choose a file; see what it is; check it.
#[component]
pub(crate) fn InspectStep(props: &InspectProps) -> Html {
    let text = use_state(String::new);
    let device_id = use_state(String::new);
    let code = use_state(String::new);

    let on_text = {
        let text = text.clone();
        Callback::from(move |e: InputEvent| {
            text.set(
                e.target_unchecked_into::<web_sys::HtmlTextAreaElement>()
                    .value(),
            )
        })
    };
    let set = |s: &UseStateHandle<String>| {
        let s = s.clone();
        Callback::from(move |v: String| s.set(v))
    };
    let now = browser::now();
    let input = text.trim();
    let label = input
        .strip_prefix("-----BEGIN ")
        .and_then(|r| r.split_once("-----"))
        .map(|(l, _)| l.to_owned());
    let ca_cert = props.ca.as_ref().map(|c| c.0.certificate().clone());

    let result = if input.is_empty() {
        html! { <p class="hint">{"Paste a PEM block: a certificate, a certificate request or a private key."}</p> }
    } else {
        match label.as_deref() {
            Some("CERTIFICATE") => match certificate_from_bytes(input.as_bytes()) {
                Err(e) => html! { <p class="error" role="alert">{e.to_string()}</p> },
                Ok(cert) => {
                    let info = cert.info().ok();
                    let is_ca = info.as_ref().is_some_and(|i| i.is_ca);
                    let mut sections = vec![certificate_view(&cert)];
                    if is_ca {
                        if let Ok(c) = ca_checks(&cert, now) {
                            sections.push(checks_view("As a CA for IoT Hub", &c));
                        }
                    } else if let Some(ca) = &ca_cert {
                        if !code.trim().is_empty() {
                            if let Ok(c) = verification_checks(&cert, &code, ca, now) {
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
                            if let Ok(c) = device_checks(&cert, &id, ca, now) {
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
            },
            Some("CERTIFICATE REQUEST") | Some("NEW CERTIFICATE REQUEST") => {
                match read_csr(input.as_bytes()) {
                    Err(e) => html! { <p class="error" role="alert">{e.to_string()}</p> },
                    Ok(r) => html! {
                        <dl class="facts">
                            <dt>{"Type"}</dt><dd>{"Certificate signing request (PKCS#10)"}</dd>
                            <dt>{"Subject"}</dt><dd>{&r.subject}</dd>
                            <dt>{"Key"}</dt><dd>{&r.key_type}</dd>
                            <dt>{"Signature"}</dt><dd><span class="badge ok">{"valid"}</span></dd>
                            <dt>{"Device id"}</dt><dd>{ match r.device_id() { Ok(id) => format!("{id} (valid for IoT Hub)"), Err(e) => e.to_string() } }</dd>
                        </dl>
                    },
                }
            }
            Some("PRIVATE KEY") | Some("EC PRIVATE KEY") => {
                match KeyPair::from_any_pem(input, None) {
                    Err(e) => html! { <p class="error" role="alert">{e.to_string()}</p> },
                    Ok(k) => {
                        let matches = ca_cert
                            .as_ref()
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
                }
            }
            Some("ENCRYPTED PRIVATE KEY") => {
                html! { <p class="hint">{"An encrypted private key (PKCS#8). Import it with its password in step 1."}</p> }
            }
            Some(other) => {
                html! { <p class="error" role="alert">{format!("\"{other}\" blocks are not something this tool reads yet: paste a CERTIFICATE, CERTIFICATE REQUEST or PRIVATE KEY.")}</p> }
            }
            None => {
                html! { <p class="error" role="alert">{"This is not PEM: it should start with a -----BEGIN …----- line."}</p> }
            }
        }
    };

    html! {
        <section class="step" id="step-inspect" aria-labelledby="step-inspect-title">
            <div class="step-head">
                <span class="step-no" aria-hidden="true">{"⌕"}</span>
                <div>
                    <h2 id="step-inspect-title">{"Inspect and check"}</h2>
                    <p class="lede">{"What openssl x509 -text would tell you, readably, and IoT Hub's pre-flight checks against this page's CA."}</p>
                </div>
            </div>
            <div class="card form">
                <div class="field">
                    <label for="inspect-text">{"PEM to inspect"}</label>
                    <textarea id="inspect-text" class="mono" rows="6" value={(*text).clone()} oninput={on_text} spellcheck="false" placeholder="-----BEGIN CERTIFICATE-----" />
                </div>
                <div class="grid">
                    <Field id="inspect-device-id" label="Device id to check against (optional)" mono=true value={(*device_id).clone()} oninput={set(&device_id)} hint="Empty: the certificate's own CN" />
                    <Field id="inspect-code" label="Verification code (for a verification certificate)" mono=true value={(*code).clone()} oninput={set(&code)} />
                </div>
                <div id="inspect-result" aria-live="polite">{result}</div>
            </div>
        </section>
    }
}

//! Decode an error: paste what a device SDK, the hub or OpenSSL printed; the core names the likely
//! causes in order and the fix, tied to this page's certificates.

use std::rc::Rc;

use yew::prelude::*;

use super::field::textarea_setter;
use super::state::Issued;
use crate::iothub::{decode_error, KnownCertificate};

#[derive(Properties, PartialEq)]
pub(crate) struct DecoderProps {
    /// Every certificate of the page, to match thumbprints and names against.
    pub(crate) certificates: Rc<Vec<Rc<Issued>>>,
}

#[component]
pub(crate) fn ErrorDecoderStep(props: &DecoderProps) -> Html {
    let text = use_state(String::new);
    let known: Vec<KnownCertificate> = props
        .certificates
        .iter()
        .map(|i| KnownCertificate {
            label: i.title.clone(),
            common_name: i.info.common_name.clone().unwrap_or_default(),
            sha1: i.info.sha1.to_string(),
            sha256: i.info.sha256.to_string(),
        })
        .collect();
    let found = decode_error(&text, &known);
    html! {
        <section class="step" id="step-decode" aria-labelledby="step-decode-title">
            <div class="step-head">
                <span class="step-no" aria-hidden="true">{"?"}</span>
                <div>
                    <h2 id="step-decode-title">{"Decode an error"}</h2>
                    <p class="lede">{"Paste what the device SDK, the hub, mosquitto or OpenSSL printed: 401003 with its thumbprints, 401002, IH400053, IH400054, IH412001, CONNACK 5, TLS trust errors and alerts."}</p>
                </div>
            </div>
            <div class="card form">
                <div class="field">
                    <label for="decode-text">{"Error text"}</label>
                    <textarea id="decode-text" class="mono" rows="4" value={(*text).clone()} oninput={textarea_setter(&text)} spellcheck="false" autocomplete="off"
                        placeholder="Connection Refused: not authorised." />
                </div>
                <div id="decode-result" aria-live="polite">
                    if text.trim().is_empty() {
                        <p class="hint">{"The causes appear here as you paste."}</p>
                    } else if found.is_empty() {
                        <p class="hint">{"Nothing here is an error this page knows. Paste the whole message, with its code."}</p>
                    }
                    { for found.iter().map(|d| html! {
                        <div class="diagnosis">
                            <p class="error"><strong>{d.title.clone()}</strong></p>
                            if !d.matched.is_empty() {
                                <ul class="matched">{ for d.matched.iter().map(|m| html! { <li>{m.clone()}</li> }) }</ul>
                            }
                            <p>{"Likely causes, most likely first:"}</p>
                            <ol>{ for d.causes.iter().map(|c| html! { <li>{c.clone()}</li> }) }</ol>
                            <p><strong>{"Fix: "}</strong>{d.fix.clone()}</p>
                        </div>
                    }) }
                </div>
            </div>
        </section>
    }
}

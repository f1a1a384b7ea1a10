//! A CA certificate whose key is elsewhere (an HSM, a Windows CA), pasted or from a file.

use super::*;
use crate::iothub::{outside_ca_label, NO_OUTSIDE_CA};

#[derive(Properties, PartialEq)]
pub(super) struct OutsideCaProps {
    /// Whether such a certificate is chosen now.
    pub(super) chosen: bool,
    /// A certificate chosen (with how the page names it), or `None`: the page's CA again.
    pub(super) onchoose: Callback<Option<(String, Certificate)>>,
}

#[component]
pub(super) fn OutsideCa(props: &OutsideCaProps) -> Html {
    let text = use_state(String::new);
    let file = use_state(|| None::<(String, Vec<u8>)>);
    let password = use_state(String::new);
    let error = use_state(|| None::<String>);

    let on_file = {
        let (file, text, error) = (file.clone(), text.clone(), error.clone());
        Callback::from(move |e: Event| {
            let input: web_sys::HtmlInputElement = e.target_unchecked_into();
            let (file, text, error) = (file.clone(), text.clone(), error.clone());
            yew::platform::spawn_local(async move {
                match crate::app::browser::read_file(input).await {
                    Ok(f) => {
                        text.set(String::new());
                        file.set(Some(f));
                        error.set(None);
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let on_use = {
        let (text, file, password, error, onchoose) = (
            text.clone(),
            file.clone(),
            password.clone(),
            error.clone(),
            props.onchoose.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            let (source, bytes) = match &*file {
                Some((name, bytes)) => (name.clone(), bytes.clone()),
                None if text.trim().is_empty() => return error.set(Some(NO_OUTSIDE_CA.into())),
                None => (
                    "the pasted certificate".to_owned(),
                    text.as_bytes().to_vec(),
                ),
            };
            let pass = (!password.is_empty()).then(|| password.as_str());
            match crate::pki::ca_certificates_from_bytes(&bytes, pass) {
                Ok(mut cas) => {
                    let count = cas.len();
                    let cert = cas.remove(0);
                    let cn = cert.info().ok().and_then(|i| i.common_name);
                    password.set(String::new());
                    error.set(None);
                    onchoose.emit(Some((
                        outside_ca_label(cn.as_deref(), count, &source),
                        cert,
                    )));
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        })
    };
    let on_clear = props.onchoose.reform(|_: MouseEvent| None);
    html! {
        <details class="import" id="hub-outside" open={props.chosen}>
            <summary>{"Or upload a CA certificate whose key is elsewhere (an HSM, a Windows CA)"}</summary>
            <div class="field">
                <label for="hub-outside-pem">{"CA certificate (PEM)"}</label>
                <textarea autocomplete="off" id="hub-outside-pem" class="mono" rows="3" value={(*text).clone()} oninput={textarea_setter(&text)} spellcheck="false" placeholder="-----BEGIN CERTIFICATE-----" />
                <label class="file">{"or a file (.pem, .cer, .p7b, or a .pfx without its key): "}<input type="file" id="hub-outside-file" accept=".pem,.cer,.crt,.der,.p7b,.p7c,.pfx,.p12" onchange={on_file} /></label>
                if let Some((n, _)) = &*file { <p class="hint">{format!("{n} loaded.")}</p> }
            </div>
            <Field id="hub-outside-password" label="Password (.pfx only)" kind="password" value={(*password).clone()} oninput={{ let p = password.clone(); Callback::from(move |v: String| p.set(v)) }} />
            if let Some(e) = &*error { <p class="error" id="hub-outside-error" role="alert">{e}</p> }
            <div class="actions">
                <button type="button" class="secondary" id="hub-outside-use" onclick={on_use}>{"Upload this certificate instead"}</button>
                if props.chosen { <button type="button" class="secondary" id="hub-outside-clear" onclick={on_clear}>{"Upload the page's CA again"}</button> }
            </div>
            <p class="hint">{"Only the certificate goes to the hub. Without its key this page cannot prove possession: the upload asks for automatic verification, or prove it where the key is (az iot hub certificate generate-verification-code, then verify)."}</p>
        </details>
    }
}

//! Upload the CA and prove possession; list and delete the hub's CAs.

use super::*;

#[derive(Properties, PartialEq)]
pub(crate) struct HubCaProps {
    pub(crate) settings: UseReducerHandle<HubSettings>,
    pub(crate) ca: Option<SharedCa>,
    /// Hears the verification certificate made during proof of possession.
    pub(crate) onverification: Callback<Rc<Issued>>,
}

/// Upload the CA and prove possession of its key in one click; list and delete the hub's CAs.
#[component]
pub(crate) fn HubCaStep(props: &HubCaProps) -> Html {
    let name = use_state(|| "root-ca".to_owned());
    let automatic = use_state(|| false);
    let outcome = use_state(|| None::<Outcome>);
    let uploaded = use_state(|| None::<HubCertificate>);
    let list = use_state(|| None::<Vec<HubCertificate>>);
    let list_outcome = use_state(|| None::<Outcome>);
    let confirm = use_state(|| None::<String>);
    // A CA certificate whose key is not on this page (an HSM, a Windows CA): upload only.
    let outside = use_state(|| None::<(String, Certificate)>);
    let outside_text = use_state(String::new);
    let outside_file = use_state(|| None::<(String, Vec<u8>)>);
    let outside_password = use_state(String::new);
    let outside_error = use_state(|| None::<String>);

    let refresh = {
        let (settings, list, list_outcome) =
            (props.settings.clone(), list.clone(), list_outcome.clone());
        Callback::from(move |done: Option<String>| {
            let (s, list, list_outcome) = ((*settings).clone(), list.clone(), list_outcome.clone());
            list_outcome.set(Some(Outcome::Busy(
                "Listing the hub's CA certificates…".into(),
            )));
            yew::platform::spawn_local(async move {
                let result = match s.arm() {
                    Ok(arm) => client(&s).certificates(&arm).await,
                    Err(e) => Err(e),
                };
                match result {
                    Ok(l) => {
                        list.set(Some(l));
                        list_outcome.set(done.map(Outcome::Done));
                    }
                    Err(e) => list_outcome.set(Some(Outcome::Failed(e.to_string()))),
                }
            });
        })
    };

    let on_outside_file = {
        let (outside_file, outside_text, outside_error) = (
            outside_file.clone(),
            outside_text.clone(),
            outside_error.clone(),
        );
        Callback::from(move |e: Event| {
            let input: web_sys::HtmlInputElement = e.target_unchecked_into();
            let (outside_file, outside_text, outside_error) = (
                outside_file.clone(),
                outside_text.clone(),
                outside_error.clone(),
            );
            yew::platform::spawn_local(async move {
                match crate::app::browser::read_file(input).await {
                    Ok(file) => {
                        outside_text.set(String::new());
                        outside_file.set(Some(file));
                        outside_error.set(None);
                    }
                    Err(e) => outside_error.set(Some(e)),
                }
            });
        })
    };
    let on_outside_use = {
        let (outside, outside_text, outside_file, outside_password, outside_error) = (
            outside.clone(),
            outside_text.clone(),
            outside_file.clone(),
            outside_password.clone(),
            outside_error.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            let (label, bytes) = match &*outside_file {
                Some((name, bytes)) => (name.clone(), bytes.clone()),
                None if outside_text.trim().is_empty() => {
                    return outside_error.set(Some(
                        "Paste the CA certificate (PEM) or choose its file (.pem, .cer, .p7b, or a .pfx without its key).".into(),
                    ))
                }
                None => ("the pasted certificate".to_owned(), outside_text.as_bytes().to_vec()),
            };
            let password = (!outside_password.is_empty()).then(|| outside_password.as_str());
            match crate::pki::ca_certificates_from_bytes(&bytes, password) {
                Ok(mut cas) => {
                    let more = cas.len() - 1;
                    let cert = cas.remove(0);
                    let cn = cert
                        .info()
                        .ok()
                        .and_then(|i| i.common_name)
                        .unwrap_or_else(|| "CA".into());
                    let from = if more > 0 {
                        format!(
                            "{cn} (the first of {} CA certificates in {label})",
                            more + 1
                        )
                    } else {
                        format!("{cn} (from {label})")
                    };
                    outside_password.set(String::new());
                    outside_error.set(None);
                    outside.set(Some((from, cert)));
                }
                Err(e) => outside_error.set(Some(e.to_string())),
            }
        })
    };
    let on_outside_clear = {
        let outside = outside.clone();
        Callback::from(move |_: MouseEvent| outside.set(None))
    };

    let on_upload = {
        let (settings, ca, name, automatic) = (
            props.settings.clone(),
            props.ca.clone(),
            name.clone(),
            automatic.clone(),
        );
        let outside = (*outside).clone();
        let (outcome, uploaded, onverification, refresh) = (
            outcome.clone(),
            uploaded.clone(),
            props.onverification.clone(),
            refresh.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            // The certificate to upload: one whose key is elsewhere if given, else the page's CA.
            let (certificate, ca) = match (&outside, ca.clone()) {
                (Some((_, cert)), _) => (cert.clone(), None),
                (None, Some(ca)) => (ca.0.certificate().clone(), Some(ca)),
                (None, None) => {
                    return outcome.set(Some(Outcome::Failed(
                        "Create a root CA in step 1 first: it is what the hub will trust.".into(),
                    )))
                }
            };
            let s = (*settings).clone();
            // Possession can only be proven with the key: a CA from elsewhere is verified
            // automatically (or proven where its key lives, with the az commands below).
            let (automatic, name) = (*automatic || ca.is_none(), (*name).clone());
            let (outcome, uploaded, onverification, refresh) = (
                outcome.clone(),
                uploaded.clone(),
                onverification.clone(),
                refresh.clone(),
            );
            yew::platform::spawn_local(async move {
                let fail = |e: RestError| outcome.set(Some(Outcome::Failed(e.to_string())));
                let (arm, name) = match (s.arm(), certificate_name(&name)) {
                    (Ok(a), Ok(n)) => (a, n),
                    (Err(e), _) | (_, Err(e)) => return fail(e),
                };
                let pem = certificate.pem();
                let sha1 = certificate
                    .info()
                    .map(|i| i.sha1.to_string())
                    .unwrap_or_default();
                let hub = client(&s);
                outcome.set(Some(Outcome::Busy(format!(
                    "Uploading the CA as '{name}'…"
                ))));
                let sign = |code: &VerificationCode| {
                    match &ca {
                    Some(ca) => {
                        let params = VerificationCertParams {
                            code: code.clone(),
                            validity: ValidityDays::ONE_DAY,
                        };
                        ca.0.issue_verification(&params, browser::now())
                            .map(|id| id.certificate.pem())
                            .map_err(|e| e.to_string())
                    }
                    None => Err(format!(
                        "the hub holds this CA unverified and its key is not on this page: sign a verification certificate with CN {code} where the key is, and verify it with the az commands below (or delete it and upload again with automatic verification)"
                    )),
                }
                };
                let progress = {
                    let outcome = outcome.clone();
                    move |stage: PossessionStage| {
                        outcome.set(Some(Outcome::Busy(stage.label().into())))
                    }
                };
                let done = match hub
                    .upload_and_verify(&arm, &name, &pem, &sha1, automatic, sign, progress)
                    .await
                {
                    Ok(done) => done,
                    Err(e) => {
                        if matches!(e, RestError::NameTaken { .. }) {
                            // Show the list the message points to.
                            refresh.emit(None);
                        }
                        return fail(e);
                    }
                };
                let mut notes = Vec::new();
                if done.adopted {
                    notes.push("This CA was already on the hub under this name.");
                }
                if let Some(p) = &done.possession {
                    if p.retried {
                        notes.push("The etag changed during the flow; it was read again and the call retried.");
                    }
                    if let Ok(i) = Certificate::from_pem(&p.verification_pem).and_then(|c| {
                        crate::app::state::verification_card(
                            format!("Verification certificate (code {})", p.code),
                            c,
                        )
                    }) {
                        onverification.emit(i);
                    }
                }
                let cert = done.certificate;
                let how = if automatic {
                    "automatic verification"
                } else {
                    "proof of possession"
                };
                let mut message = format!("'{}' is on the hub and verified ({how}).", cert.name);
                for n in notes {
                    message.push(' ');
                    message.push_str(n);
                }
                outcome.set(Some(Outcome::Done(message)));
                uploaded.set(Some(cert));
                refresh.emit(None);
            });
        })
    };

    let on_delete = |n: String| {
        let (settings, confirm, refresh, list_outcome) = (
            props.settings.clone(),
            confirm.clone(),
            refresh.clone(),
            list_outcome.clone(),
        );
        Callback::from(move |_| {
            if confirm.as_deref() != Some(n.as_str()) {
                return confirm.set(Some(n.clone()));
            }
            confirm.set(None);
            let (s, n, refresh, list_outcome) = (
                (*settings).clone(),
                n.clone(),
                refresh.clone(),
                list_outcome.clone(),
            );
            list_outcome.set(Some(Outcome::Busy(format!("Deleting '{n}'…"))));
            yew::platform::spawn_local(async move {
                let result = match s.arm() {
                    Ok(arm) => client(&s).delete_certificate(&arm, &n).await,
                    Err(e) => Err(e),
                };
                match result {
                    Ok(_) => refresh.emit(Some(format!("Deleted '{n}' from the hub."))),
                    Err(e) => list_outcome.set(Some(Outcome::Failed(e.to_string()))),
                }
            });
        })
    };

    let on_name = {
        let name = name.clone();
        Callback::from(move |v: String| name.set(v))
    };
    let set_automatic = |v: bool| {
        let automatic = automatic.clone();
        Callback::from(move |_: Event| automatic.set(v))
    };
    let az_hub = props.settings.az();
    let busy = matches!(*outcome, Some(Outcome::Busy(_)));
    let commands = if *automatic {
        az_hub.certificate_create(&name, "root-ca.pem", true)
    } else {
        format!(
            "{}\n{}\n# make verification.pem with the code (step 3b below does it)\n{}",
            az_hub.certificate_create(&name, "root-ca.pem", false),
            az_hub.verification_code(&name),
            az_hub.verify(&name, "verification.pem")
        )
    };

    html! {
        <section class="step" id="step-upload" aria-labelledby="step-upload-title">
            <div class="step-head">
                <span class="step-no" aria-hidden="true">{"3"}</span>
                <div>
                    <h2 id="step-upload-title">{"Upload the CA and prove possession"}</h2>
                    <p class="lede">{"One click: upload root-ca.pem, get the hub's verification code, sign the verification certificate with the CA key on this page, and verify."}</p>
                </div>
            </div>
            if props.ca.is_none() && outside.is_none() { <p class="notice">{"Create a root CA in step 1 first: it is what the hub will trust."}</p> }
            <form class="card form" onsubmit={on_upload} novalidate=true>
                <div class="grid">
                    <Field id="hub-cert-name" label="Certificate name in the hub" value={(*name).clone()} oninput={on_name}
                        hint="Letters, digits, - . _; at most 64" />
                    <fieldset class="choice">
                        <legend>{"Verification"}</legend>
                        <label><input type="radio" id="hub-pop" name="hub-verify" checked={!*automatic} onchange={set_automatic(false)} />{" Proof of possession (recommended)"}</label>
                        <label><input type="radio" id="hub-auto" name="hub-verify" checked={*automatic} onchange={set_automatic(true)} />{" Automatic verification"}</label>
                    </fieldset>
                </div>
                <details class="import" id="hub-outside" open={outside.is_some()}>
                    <summary>{"Or upload a CA certificate whose key is elsewhere (an HSM, a Windows CA)"}</summary>
                    <div class="field">
                        <label for="hub-outside-pem">{"CA certificate (PEM)"}</label>
                        <textarea autocomplete="off" id="hub-outside-pem" class="mono" rows="3" value={(*outside_text).clone()} oninput={textarea_setter(&outside_text)} spellcheck="false" placeholder="-----BEGIN CERTIFICATE-----" />
                        <label class="file">{"or a file (.pem, .cer, .p7b, or a .pfx without its key): "}<input type="file" id="hub-outside-file" accept=".pem,.cer,.crt,.der,.p7b,.p7c,.pfx,.p12" onchange={on_outside_file} /></label>
                        if let Some((n, _)) = &*outside_file { <p class="hint">{format!("{n} loaded.")}</p> }
                    </div>
                    <Field id="hub-outside-password" label="Password (.pfx only)" kind="password" value={(*outside_password).clone()} oninput={{ let p = outside_password.clone(); Callback::from(move |v: String| p.set(v)) }} />
                    if let Some(e) = &*outside_error { <p class="error" id="hub-outside-error" role="alert">{e}</p> }
                    <div class="actions">
                        <button type="button" class="secondary" id="hub-outside-use" onclick={on_outside_use}>{"Upload this certificate instead"}</button>
                        if outside.is_some() { <button type="button" class="secondary" id="hub-outside-clear" onclick={on_outside_clear}>{"Upload the page's CA again"}</button> }
                    </div>
                    <p class="hint">{"Only the certificate goes to the hub. Without its key this page cannot prove possession: the upload asks for automatic verification, or prove it where the key is (az iot hub certificate generate-verification-code, then verify)."}</p>
                </details>
                if let Some((from, _)) = &*outside {
                    <p class="notice" id="hub-outside-chosen">{format!("Uploading {from}, verified automatically.")}</p>
                }
                <div class="actions">
                    <button type="submit" class="primary" id="hub-upload" disabled={busy}>
                        { if *automatic || outside.is_some() { "Upload (verified automatically)" } else { "Upload and prove possession" } }
                    </button>
                </div>
                { outcome_view(&outcome, "hub-upload-status") }
                <Command title="The same with the Azure CLI" command={commands} />
            </form>
            if let Some(c) = &*uploaded {
                <article class="card result" id="hub-cert-result" aria-label="The CA as the hub shows it">
                    <h3>{"On the hub"}</h3>
                    { hub_certificate_facts(c) }
                </article>
            }
            <div class="card" id="hub-cert-list">
                <div class="list-head">
                    <h3>{"The hub's CA certificates"}</h3>
                    <button type="button" class="secondary" id="hub-list" onclick={let r = refresh.clone(); Callback::from(move |_| r.emit(None))}>{"Refresh"}</button>
                </div>
                { outcome_view(&list_outcome, "hub-list-status") }
                if let Some(l) = &*list {
                    if l.is_empty() {
                        <p class="hint">{"No CA certificates on this hub yet."}</p>
                    } else {
                        <div class="table-wrap">
                        <table>
                            <thead><tr><th>{"Name"}</th><th>{"Subject"}</th><th>{"SHA-1 thumbprint"}</th><th>{"Expires"}</th><th>{"Verified"}</th><th><span class="sr-only">{"Actions"}</span></th></tr></thead>
                            <tbody>
                            { for l.iter().map(|c| {
                                let confirming = confirm.as_deref() == Some(c.name.as_str());
                                html! {
                                <tr key={c.name.clone()}>
                                    <td>{&c.name}</td>
                                    <td>{&c.subject}</td>
                                    <td><code class="thumb">{&c.thumbprint}</code></td>
                                    <td>{&c.expiry}</td>
                                    <td>{ verified_badge(c.is_verified) }</td>
                                    <td><button type="button" class={classes!("secondary", "small", confirming.then_some("danger"))} id={format!("hub-delete-{}", c.name)} onclick={on_delete(c.name.clone())}>
                                        { if confirming { "Click again to delete" } else { "Delete" } }
                                    </button></td>
                                </tr>
                            }}) }
                            </tbody>
                        </table>
                        </div>
                    }
                }
                <Command title="List with the Azure CLI" command={az_hub.certificate_list()} />
            </div>
        </section>
    }
}

fn verified_badge(verified: bool) -> Html {
    if verified {
        html! { <span class="badge ok">{"Verified"}</span> }
    } else {
        html! { <span class="badge warn">{"Unverified"}</span> }
    }
}

fn hub_certificate_facts(c: &HubCertificate) -> Html {
    html! {
        <dl class="facts">
            <dt>{"Name"}</dt><dd>{&c.name}</dd>
            <dt>{"Subject"}</dt><dd>{&c.subject}</dd>
            <dt>{"SHA-1 thumbprint"}</dt><dd><code class="thumb">{&c.thumbprint}</code></dd>
            <dt>{"Expires"}</dt><dd>{&c.expiry}</dd>
            <dt>{"Status"}</dt><dd>{ verified_badge(c.is_verified) }</dd>
        </dl>
    }
}

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

    let on_upload = {
        let (settings, ca, name, automatic) = (
            props.settings.clone(),
            props.ca.clone(),
            name.clone(),
            automatic.clone(),
        );
        let (outcome, uploaded, onverification, refresh) = (
            outcome.clone(),
            uploaded.clone(),
            props.onverification.clone(),
            refresh.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Some(ca) = ca.clone() else {
                return outcome.set(Some(Outcome::Failed(
                    "Create a root CA in step 1 first: it is what the hub will trust.".into(),
                )));
            };
            let s = (*settings).clone();
            let (automatic, name) = (*automatic, (*name).clone());
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
                let pem = ca.0.certificate().pem();
                let sha1 =
                    ca.0.certificate()
                        .info()
                        .map(|i| i.sha1.to_string())
                        .unwrap_or_default();
                let hub = client(&s);
                outcome.set(Some(Outcome::Busy(format!(
                    "Uploading the CA as '{name}'…"
                ))));
                let sign = |code: &VerificationCode| {
                    let params = VerificationCertParams {
                        code: code.clone(),
                        validity: ValidityDays::ONE_DAY,
                    };
                    ca.0.issue_verification(&params, browser::now())
                        .map(|id| id.certificate.pem())
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
                    if let Ok(c) = Certificate::from_pem(&p.verification_pem) {
                        let download = crate::app::state::Download::pem(
                            "verification.pem".into(),
                            &c.pem(),
                            false,
                        );
                        if let Ok(i) = issued(
                            format!("Verification certificate (code {})", p.code),
                            c,
                            vec![download],
                        ) {
                            onverification.emit(i);
                        }
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
            if props.ca.is_none() { <p class="notice">{"Create a root CA in step 1 first: it is what the hub will trust."}</p> }
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
                <div class="actions">
                    <button type="submit" class="primary" id="hub-upload" disabled={busy}>
                        { if *automatic { "Upload (verified automatically)" } else { "Upload and prove possession" } }
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

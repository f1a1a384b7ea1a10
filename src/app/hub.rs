//! The hub steps: connection settings, CA upload with proof of possession, device registration.
//! Each step shows the az command that does the same by hand.

use std::rc::Rc;

use yew::prelude::*;

use super::browser;
use super::command::Command;
use super::fetch::{localhub_info, Fetch};
use super::field::{textarea_setter, Field};
use super::settings::{HubSettings, Profile, Target, RELAY_ENDPOINT};
use super::state::{Issued, SharedCa};
use super::steps::issued;
use crate::contract::{hub_host_name, AuthKind, DeviceId, VerificationCode};
use crate::iothub::az;
use crate::iothub::client::{HubClient, PossessionStage};
use crate::iothub::{certificate_name, DeviceAuth, HubCertificate, HubDevice, RestError};
use crate::pki::{Certificate, ValidityDays, VerificationCertParams};

/// A change to the settings.
pub(crate) enum SettingsAction {
    Target(Target),
    Edit(fn(&mut Profile, String), String),
    Remember(bool),
    /// What localhub said about itself: hub name and connection string.
    FromLocalhub(String, String),
}

impl Reducible for HubSettings {
    type Action = SettingsAction;

    fn reduce(self: Rc<Self>, action: SettingsAction) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            SettingsAction::Target(t) => next.target = t,
            SettingsAction::Edit(f, v) => f(next.profile_mut(), v),
            SettingsAction::Remember(r) => next.remember = r,
            SettingsAction::FromLocalhub(hub, cs) => {
                if !hub.is_empty() {
                    next.localhub.hub = hub;
                }
                next.localhub.connection_string = cs;
            }
        }
        Rc::new(next)
    }
}

fn client(settings: &HubSettings) -> HubClient<Fetch> {
    HubClient::new(Fetch, settings.is_localhub())
}

/// A progress line, an error or a success line under a form.
#[derive(Clone, PartialEq)]
enum Outcome {
    Busy(String),
    Failed(String),
    Done(String),
}

fn outcome_view(outcome: &Option<Outcome>, id: &str) -> Html {
    match outcome {
        None => html! {},
        Some(Outcome::Busy(m)) => html! {
            <p class="progress" id={id.to_owned()} role="status" aria-live="polite"><span class="spinner" aria-hidden="true"></span>{m}</p>
        },
        Some(Outcome::Failed(m)) => {
            html! { <p class="error" id={id.to_owned()} role="alert">{m}</p> }
        }
        Some(Outcome::Done(m)) => {
            html! { <p class="status ok" id={id.to_owned()} role="status">{m}</p> }
        }
    }
}

#[derive(Properties, PartialEq)]
pub(crate) struct SettingsProps {
    pub(crate) settings: UseReducerHandle<HubSettings>,
}

/// Where the hub steps go: localhub or Azure, and the credentials for each plane.
#[component]
pub(crate) fn HubSettingsStep(props: &SettingsProps) -> Html {
    let settings = props.settings.clone();
    let s = (*settings).clone();
    let p = s.profile().clone();
    let outcome = use_state(|| None::<Outcome>);

    let edit = |f: fn(&mut Profile, String)| {
        let settings = settings.clone();
        Callback::from(move |v: String| settings.dispatch(SettingsAction::Edit(f, v)))
    };
    let target = |t: Target| {
        let settings = settings.clone();
        Callback::from(move |_: Event| settings.dispatch(SettingsAction::Target(t)))
    };
    let on_remember = {
        let settings = settings.clone();
        Callback::from(move |e: Event| {
            let checked = e
                .target_unchecked_into::<web_sys::HtmlInputElement>()
                .checked();
            settings.dispatch(SettingsAction::Remember(checked));
        })
    };
    let read_localhub = {
        let (settings, outcome) = (settings.clone(), outcome.clone());
        Callback::from(move |()| {
            let (settings, outcome) = (settings.clone(), outcome.clone());
            let endpoint = settings.localhub.registry_endpoint.clone();
            outcome.set(Some(Outcome::Busy(
                "Asking localhub for its settings…".into(),
            )));
            yew::platform::spawn_local(async move {
                match localhub_info(&endpoint).await {
                    Ok((hub, cs)) => {
                        settings.dispatch(SettingsAction::FromLocalhub(hub.clone(), cs));
                        outcome.set(Some(Outcome::Done(format!(
                            "Read hub '{hub}' and its iothubowner connection string from localhub."
                        ))));
                    }
                    Err(e) => outcome.set(Some(Outcome::Failed(e))),
                }
            });
        })
    };
    // localhub tells its connection string: fill it in on first load, as run.sh started it.
    {
        let (read_localhub, s) = (read_localhub.clone(), (*settings).clone());
        use_effect_with((), move |()| {
            if s.is_localhub() && s.localhub.connection_string.trim().is_empty() {
                read_localhub.emit(());
            }
        });
    }
    let on_read_localhub = read_localhub.reform(|_: MouseEvent| ());
    let on_test = {
        let (settings, outcome) = (settings.clone(), outcome.clone());
        Callback::from(move |_| {
            let (s, outcome) = ((*settings).clone(), outcome.clone());
            outcome.set(Some(Outcome::Busy(
                "Listing the hub's CA certificates…".into(),
            )));
            yew::platform::spawn_local(async move {
                let arm = match s.arm() {
                    Ok(a) => a,
                    Err(e) => return outcome.set(Some(Outcome::Failed(e.to_string()))),
                };
                match client(&s).certificates(&arm).await {
                    Ok(list) => outcome.set(Some(Outcome::Done(format!(
                        "Connected to '{}': {} CA certificate{} on the hub.",
                        s.profile().hub,
                        list.len(),
                        if list.len() == 1 { "" } else { "s" }
                    )))),
                    Err(e) => outcome.set(Some(Outcome::Failed(e.to_string()))),
                }
            });
        })
    };
    let localhub = s.is_localhub();

    html! {
        <section class="step" id="step-hub" aria-labelledby="step-hub-title">
            <div class="step-head">
                <span class="step-no" aria-hidden="true">{"2"}</span>
                <div>
                    <h2 id="step-hub-title">{"Connect to IoT Hub"}</h2>
                    <p class="lede">{"Where the next steps upload the CA and register devices. localhub, the offline stand-in started by ./scripts/run.sh, needs no account."}</p>
                </div>
            </div>
            <div class="card form">
                <fieldset class="choice">
                    <legend>{"Target"}</legend>
                    <label><input type="radio" id="hub-target-localhub" name="hub-target" checked={localhub} onchange={target(Target::Localhub)} />{" localhub (offline)"}</label>
                    <label><input type="radio" id="hub-target-azure" name="hub-target" checked={!localhub} onchange={target(Target::Azure)} />{" Azure IoT Hub"}</label>
                </fieldset>
                <h3 class="sub">{"CA certificates (Azure Resource Manager)"}</h3>
                <div class="grid">
                    <Field id="hub-arm-endpoint" label="ARM endpoint" value={p.arm_endpoint.clone()} oninput={edit(|p, v| p.arm_endpoint = v)} />
                    <Field id="hub-subscription" label="Subscription id" mono=true value={p.subscription.clone()} oninput={edit(|p, v| p.subscription = v)} />
                    <Field id="hub-resource-group" label="Resource group" value={p.resource_group.clone()} oninput={edit(|p, v| p.resource_group = v)} />
                    <Field id="hub-name" label="Hub name" value={p.hub.clone()} oninput={edit(|p, v| p.hub = v)} />
                    <Field id="hub-arm-token" label="ARM access token" kind="password" mono=true value={p.arm_token.clone()} oninput={edit(|p, v| p.arm_token = v)}
                        hint={if localhub { "localhub accepts any token that has not expired" } else { "Lasts about an hour; print one with the command below" }} />
                </div>
                if !localhub {
                    <Command title="Print an ARM access token" command={az::ARM_TOKEN} />
                }
                <h3 class="sub">{"Devices (the hub's registry)"}</h3>
                <div class="grid">
                    <Field id="hub-registry-endpoint" label="Registry endpoint" value={p.registry_endpoint.clone()} oninput={edit(|p, v| p.registry_endpoint = v)}
                        hint={if localhub { "localhub's REST address".to_owned() } else { format!("The relay on your machine ({RELAY_ENDPOINT}); the hub itself refuses browser calls") }} />
                    <Field id="hub-connection-string" label="Service connection string" kind="password" mono=true value={p.connection_string.clone()} oninput={edit(|p, v| p.connection_string = v)}
                        hint="HostName=…;SharedAccessKeyName=iothubowner;SharedAccessKey=… — or Bearer <Entra token>. SAS tokens are made here and last 5 minutes." />
                </div>
                if !localhub {
                    <Command title="Print the service connection string" command={s.az().connection_string()} />
                    <Command title="Print an Entra token for the registry (instead of a connection string)" command={az::REGISTRY_TOKEN} />
                }
                <label class="check">
                    <input type="checkbox" id="hub-remember" checked={s.remember} onchange={on_remember} />
                    {" Remember for this tab"}
                </label>
                <p class="hint">{"Tokens and keys stay in this page's memory and go only to the endpoints above. Ticked, they are kept in this tab's sessionStorage until the tab closes; never in localStorage."}</p>
                <div class="actions">
                    if localhub {
                        <button type="button" class="secondary" id="hub-read-localhub" onclick={on_read_localhub}>{"Read settings from localhub"}</button>
                    }
                    <button type="button" class="primary" id="hub-test" onclick={on_test}>{"Test the connection"}</button>
                </div>
                { outcome_view(&outcome, "hub-settings-status") }
            </div>
        </section>
    }
}

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
                        let download =
                            super::state::Download::pem("verification.pem".into(), &c.pem(), false);
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

#[derive(Properties, PartialEq)]
pub(crate) struct HubDeviceProps {
    pub(crate) settings: UseReducerHandle<HubSettings>,
    /// Device certificates made on this page (for thumbprints and the id list).
    pub(crate) devices: Rc<Vec<Rc<Issued>>>,
}

#[derive(Clone, Copy, PartialEq)]
enum DeviceOp {
    Register,
    Show,
    Delete,
}

/// Register, show or delete devices: one or a list, CA-signed or self-signed.
#[component]
pub(crate) fn HubDeviceStep(props: &HubDeviceProps) -> Html {
    let ids = use_state(String::new);
    let self_signed = use_state(|| false);
    let outcome = use_state(|| None::<Outcome>);
    let rows = use_state(Vec::<(String, Result<String, String>)>::new);
    let confirm = use_state(|| false);

    let id_list = |text: &str| {
        let mut seen = Vec::<String>::new();
        for line in text
            .split(['\n', ','])
            .map(str::trim)
            .filter(|l| !l.is_empty())
        {
            if !seen.iter().any(|s| s == line) {
                seen.push(line.to_owned());
            }
        }
        seen
    };
    let thumbprint_of = {
        let devices = props.devices.clone();
        move |id: &str| {
            devices
                .iter()
                .find(|d| d.info.common_name.as_deref() == Some(id))
                .map(|d| d.info.sha256.to_string())
        }
    };

    let run = |op: DeviceOp| {
        let (settings, ids, self_signed, outcome, rows, confirm) = (
            props.settings.clone(),
            ids.clone(),
            self_signed.clone(),
            outcome.clone(),
            rows.clone(),
            confirm.clone(),
        );
        let thumbprint_of = thumbprint_of.clone();
        Callback::from(move |_| {
            let list = id_list(&ids);
            if list.is_empty() {
                return outcome.set(Some(Outcome::Failed(
                    "Enter at least one device id, one per line (or add the devices issued above)."
                        .into(),
                )));
            }
            if op == DeviceOp::Delete && !*confirm {
                confirm.set(true);
                return outcome.set(Some(Outcome::Busy(format!(
                    "Delete {} device{} from the hub? Click Delete again to confirm.",
                    list.len(),
                    if list.len() == 1 { "" } else { "s" }
                ))));
            }
            confirm.set(false);
            let s = (*settings).clone();
            let registry = match s.registry() {
                Ok(r) => r,
                Err(e) => return outcome.set(Some(Outcome::Failed(e.to_string()))),
            };
            let (self_signed, outcome, rows) = (*self_signed, outcome.clone(), rows.clone());
            let thumbprint_of = thumbprint_of.clone();
            yew::platform::spawn_local(async move {
                let hub = client(&s);
                let verb = match op {
                    DeviceOp::Register => "Registering",
                    DeviceOp::Show => "Reading",
                    DeviceOp::Delete => "Deleting",
                };
                let total = list.len();
                let mut done = Vec::with_capacity(total);
                let mut failures = 0;
                for (i, raw) in list.into_iter().enumerate() {
                    outcome.set(Some(Outcome::Busy(format!(
                        "{verb} {} of {total}: {raw}…",
                        i + 1
                    ))));
                    let now = browser::now().unix_timestamp().max(0) as u64;
                    let result: Result<String, String> = match DeviceId::parse(&raw) {
                        Err(e) => Err(e.to_string()),
                        Ok(id) => match op {
                            DeviceOp::Register => {
                                let auth = if self_signed {
                                    match thumbprint_of(id.as_str()) {
                                        Some(t) => Ok(DeviceAuth::SelfSigned { primary: t, secondary: None }),
                                        None => Err(format!("No certificate with CN={id} was issued on this page: issue it in step 4, or register it as CA-signed.")),
                                    }
                                } else {
                                    Ok(DeviceAuth::CertificateAuthority)
                                };
                                match auth {
                                    Ok(auth) => hub
                                        .register_device(&registry, &id, &auth, now)
                                        .await
                                        .map(|d| format!("registered: {}", describe(&d)))
                                        .map_err(|e| e.to_string()),
                                    Err(e) => Err(e),
                                }
                            }
                            DeviceOp::Show => hub
                                .device(&registry, &id, now)
                                .await
                                .map(|d| describe(&d))
                                .map_err(|e| e.to_string()),
                            DeviceOp::Delete => hub
                                .delete_device(&registry, &id, now)
                                .await
                                .map(|()| "deleted".to_owned())
                                .map_err(|e| e.to_string()),
                        },
                    };
                    if result.is_err() {
                        failures += 1;
                    }
                    done.push((raw, result));
                    rows.set(done.clone());
                }
                let summary = format!(
                    "{} of {total} done{}.",
                    total - failures,
                    if failures > 0 {
                        format!("; {failures} failed, see below")
                    } else {
                        String::new()
                    }
                );
                outcome.set(Some(if failures > 0 {
                    Outcome::Failed(summary)
                } else {
                    Outcome::Done(summary)
                }));
            });
        })
    };

    let on_fill = {
        let (ids, devices) = (ids.clone(), props.devices.clone());
        Callback::from(move |_| {
            let mut list = id_list(&ids);
            for d in devices.iter().rev() {
                if let Some(cn) = &d.info.common_name {
                    if !list.contains(cn) {
                        list.push(cn.clone());
                    }
                }
            }
            ids.set(list.join("\n"));
        })
    };
    let set_self_signed = |v: bool| {
        let self_signed = self_signed.clone();
        Callback::from(move |_: Event| self_signed.set(v))
    };

    let s = &*props.settings;
    let az_hub = s.az();
    let list = id_list(&ids);
    let shown: Vec<String> = if list.is_empty() {
        vec!["DEVICE_ID".into()]
    } else {
        list.clone()
    };
    let commands = shown
        .iter()
        .take(20)
        .map(|id| {
            if *self_signed {
                let t = thumbprint_of(id).unwrap_or_else(|| "THUMBPRINT".into());
                az_hub.device_create_thumbprint(id, &t, &t)
            } else {
                az_hub.device_create_ca(id)
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let busy = matches!(&*outcome, Some(Outcome::Busy(m)) if !m.ends_with("to confirm."));

    html! {
        <section class="step" id="step-register" aria-labelledby="step-register-title">
            <div class="step-head">
                <span class="step-no" aria-hidden="true">{"5"}</span>
                <div>
                    <h2 id="step-register-title">{"Register devices"}</h2>
                    <p class="lede">{"CA-signed devices are trusted through the verified CA; self-signed ones are pinned by their certificate's thumbprint."}</p>
                </div>
            </div>
            if !s.is_localhub() {
                <p class="notice">{format!(
                    "IoT Hub's device API sends no CORS headers, so this page reaches it through the relay on your machine: run `cargo run --release -p localhub -- relay --hub {}` and keep the registry endpoint at {RELAY_ENDPOINT}. Without the relay, run the az commands below instead.",
                    if s.profile().hub.trim().is_empty() { "HUB.azure-devices.net".to_owned() } else { hub_host_name(&s.profile().hub) }
                )}</p>
            }
            <div class="card form">
                <div class="field">
                    <label for="reg-ids">{"Device ids, one per line"}</label>
                    <textarea id="reg-ids" class="mono" rows="4" value={(*ids).clone()} oninput={textarea_setter(&ids)} spellcheck="false" aria-describedby="reg-ids-hint" />
                    <p class="hint" id="reg-ids-hint">{"Each id must be the CN of that device's certificate."}</p>
                </div>
                <div class="actions">
                    <button type="button" class="secondary" id="reg-fill" onclick={on_fill} disabled={props.devices.is_empty()}>{"Add the devices issued above"}</button>
                </div>
                <fieldset class="choice">
                    <legend>{"Authentication"}</legend>
                    <label><input type="radio" id="reg-ca" name="reg-auth" checked={!*self_signed} onchange={set_self_signed(false)} />{" CA-signed (x509_ca)"}</label>
                    <label><input type="radio" id="reg-self" name="reg-auth" checked={*self_signed} onchange={set_self_signed(true)} />{" Self-signed: SHA-256 thumbprint of the certificate issued here (x509_thumbprint)"}</label>
                </fieldset>
                <div class="actions">
                    <button type="button" class="primary" id="reg-submit" onclick={run(DeviceOp::Register)} disabled={busy}>{"Register"}</button>
                    <button type="button" class="secondary" id="reg-show" onclick={run(DeviceOp::Show)} disabled={busy}>{"Show"}</button>
                    <button type="button" class={classes!("secondary", confirm.then_some("danger"))} id="reg-delete" onclick={run(DeviceOp::Delete)} disabled={busy}>{"Delete"}</button>
                </div>
                { outcome_view(&outcome, "reg-status") }
                if !rows.is_empty() {
                    <ul class="results" id="reg-results">
                        { for rows.iter().map(|(id, r)| html! {
                            <li class={classes!(if r.is_ok() { "ok" } else { "bad" })}>
                                <code>{id}</code>{" — "}{ match r { Ok(m) | Err(m) => m.clone() } }
                            </li>
                        }) }
                    </ul>
                }
                <Command title="The same with the Azure CLI" command={commands} />
            </div>
        </section>
    }
}

fn describe(d: &HubDevice) -> String {
    let auth = match &d.auth_type {
        AuthKind::CertificateAuthority => "CA-signed".to_owned(),
        AuthKind::SelfSigned => format!(
            "self-signed, thumbprint {}",
            d.primary_thumbprint.as_deref().unwrap_or("?")
        ),
        AuthKind::Sas => "SAS keys".to_owned(),
        other => other.to_string(),
    };
    format!("{auth}, {}, {}", d.status, d.connection_state)
}

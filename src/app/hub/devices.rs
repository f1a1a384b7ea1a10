//! Register, show or delete devices.

use super::*;

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
    /// Revoke: the hub refuses a disabled device's connections (IoT Hub checks no CRL).
    Disable,
    Enable,
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
            let settings = settings.clone();
            let (self_signed, outcome, rows) = (*self_signed, outcome.clone(), rows.clone());
            let thumbprint_of = thumbprint_of.clone();
            yew::platform::spawn_local(async move {
                let s = ready(&settings).await;
                let registry = match s.registry() {
                    Ok(r) => r,
                    Err(e) => return outcome.set(Some(Outcome::Failed(e.to_string()))),
                };
                let hub = client(&s);
                let verb = match op {
                    DeviceOp::Register => "Registering",
                    DeviceOp::Show => "Reading",
                    DeviceOp::Disable => "Disabling",
                    DeviceOp::Enable => "Enabling",
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
                            DeviceOp::Disable | DeviceOp::Enable => hub
                                .set_device_enabled(
                                    &registry,
                                    &id,
                                    op == DeviceOp::Enable,
                                    if op == DeviceOp::Enable {
                                        "enabled again in hubcert"
                                    } else {
                                        "revoked in hubcert"
                                    },
                                    now,
                                )
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
                    <textarea autocomplete="off" id="reg-ids" class="mono" rows="4" value={(*ids).clone()} oninput={textarea_setter(&ids)} spellcheck="false" aria-describedby="reg-ids-hint" />
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
                    <button type="button" class="secondary" id="reg-disable" onclick={run(DeviceOp::Disable)} disabled={busy} title="Revoke: the hub refuses its connections until it is enabled again">{"Disable (revoke)"}</button>
                    <button type="button" class="secondary" id="reg-enable" onclick={run(DeviceOp::Enable)} disabled={busy}>{"Enable"}</button>
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
                <Command title="Revoke (disable) with the Azure CLI; --set status=enabled undoes it" command={az_hub.device_set_status(shown.first().map(String::as_str).unwrap_or("DEVICE"), false)} />
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

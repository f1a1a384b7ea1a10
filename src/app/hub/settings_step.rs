//! Where the hub steps go: localhub or Azure, and the credentials for each plane.

use super::*;

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
    // localhub is asked for its settings when a hub step first needs them (or this step's button
    // is pressed), never when the page opens.
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
                    Ok(info) => {
                        let hub = info.hub_name.clone();
                        settings.dispatch(SettingsAction::FromLocalhub(
                            info.hub_name,
                            info.connection_string,
                        ));
                        outcome.set(Some(Outcome::Done(format!(
                            "Read hub '{hub}' and its iothubowner connection string from localhub."
                        ))));
                    }
                    Err(e) => outcome.set(Some(Outcome::Failed(e))),
                }
            });
        })
    };
    let on_read_localhub = read_localhub.reform(|_: MouseEvent| ());
    let on_test = {
        let (settings, outcome) = (settings.clone(), outcome.clone());
        Callback::from(move |_| {
            let (settings, outcome) = (settings.clone(), outcome.clone());
            outcome.set(Some(Outcome::Busy(
                "Listing the hub's CA certificates…".into(),
            )));
            yew::platform::spawn_local(async move {
                let s = ready(&settings).await;
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
                    <Command title="Print an ARM access token" command={AZ_ARM_TOKEN} />
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
                    <Command title="Print an Entra token for the registry (instead of a connection string)" command={AZ_REGISTRY_TOKEN} />
                }
                <p class="hint">{"Tokens and keys stay in this page's memory and go only to the endpoints above; nothing is written to the browser's storage. To keep them, save an encrypted workspace (Keep, at the end of the page)."}</p>
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

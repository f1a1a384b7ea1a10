//! Revoke a CA as IoT Hub allows it (the hub checks no CRL): first what revoking it takes down,
//! read from the hub, DPS and the page; then, asked once, the CA deleted from the hub and DPS,
//! the DPS groups that trust it disabled, and (where a CA above it is still trusted) its devices
//! disabled in the registry.

use super::*;
use crate::app::fetch::client;
use crate::app::outcome::{outcome_view, Outcome};
use crate::app::settings::HubSettings;
use crate::iothub::{plan_revocation, RevocationInputs, RevocationPlan};

#[derive(Properties, PartialEq)]
pub(crate) struct RevokeProps {
    /// Every CA of the tree with its card, root first.
    pub(crate) cas: Rc<Vec<(SharedCa, Rc<Issued>)>>,
    /// Device certificates of the page, newest first.
    pub(crate) devices: Rc<Vec<Rc<Issued>>>,
    pub(crate) settings: UseReducerHandle<HubSettings>,
}

/// A plan, for which CA (its index in the tree), and what could not be read.
#[derive(Clone, PartialEq)]
struct Checked {
    index: usize,
    plan: RevocationPlan,
    /// DPS was not read (not set up, or it failed): why.
    dps_note: Option<String>,
}

fn list(items: &[String]) -> String {
    items
        .iter()
        .map(|i| format!("'{i}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[component]
pub(crate) fn RevokeStep(props: &RevokeProps) -> Html {
    // Default: the newest intermediate (a root is revoked by replacing it).
    let chosen = use_state(|| None::<usize>);
    let checked = use_state(|| None::<Checked>);
    let outcome = use_state(|| None::<Outcome>);
    let confirm = use_state(|| false);
    let disable_devices = use_state(|| None::<bool>);
    let rows = use_state(Vec::<(String, Result<String, String>)>::new);

    let index = chosen
        .filter(|i| *i < props.cas.len())
        .or_else(|| props.cas.len().checked_sub(1));
    let on_choose = {
        let (chosen, checked, confirm) = (chosen.clone(), checked.clone(), confirm.clone());
        Callback::from(move |e: Event| {
            let v = e
                .target_unchecked_into::<web_sys::HtmlSelectElement>()
                .value();
            chosen.set(v.parse().ok());
            checked.set(None);
            confirm.set(false);
        })
    };

    let on_check = {
        let (cas, devices, settings) = (
            props.cas.clone(),
            props.devices.clone(),
            props.settings.clone(),
        );
        let (checked, outcome, confirm, rows, disable_devices) = (
            checked.clone(),
            outcome.clone(),
            confirm.clone(),
            rows.clone(),
            disable_devices.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            let Some(i) = index else {
                return outcome.set(Some(Outcome::Failed(NO_CA.into())));
            };
            let settings = settings.clone();
            let (cas, devices, checked, outcome, confirm, rows, disable_devices) = (
                cas.clone(),
                devices.clone(),
                checked.clone(),
                outcome.clone(),
                confirm.clone(),
                rows.clone(),
                disable_devices.clone(),
            );
            confirm.set(false);
            rows.set(Vec::new());
            outcome.set(Some(Outcome::Busy(
                "Reading the hub's CA certificates and DPS's groups…".into(),
            )));
            yew::platform::spawn_local(async move {
                let s = crate::app::hub::ready(&settings).await;
                let trust = match crate::app::hub::read_trust(&s).await {
                    Ok(t) => t,
                    Err(e) => return outcome.set(Some(Outcome::Failed(e.to_string()))),
                };
                let (target_ca, _) = &cas[i];
                let target = target_ca.0.certificate().clone();
                let below: Vec<Certificate> = cas
                    .iter()
                    .filter(|(c, _)| c.0.issuers().contains(&target))
                    .map(|(c, _)| c.0.certificate().clone())
                    .collect();
                let page_devices = crate::app::hub::page_devices(&devices);
                let plan_with = |assigned: Option<&[String]>| {
                    plan_revocation(&RevocationInputs {
                        target: &target,
                        above: target_ca.0.issuers(),
                        below: &below,
                        hub: &trust.hub,
                        dps: &trust.dps,
                        groups: &trust.groups,
                        devices: &page_devices,
                        dps_assigned: assigned,
                    })
                };
                let mut plan = plan_with(None);
                // Which of its devices DPS provisioned (thumbprint devices in the hub): read
                // when a group admits them.
                if !plan.provisioned.is_empty() {
                    outcome.set(Some(Outcome::Busy(
                        "Reading which of its devices DPS provisioned…".into(),
                    )));
                    let paths = crate::app::hub::read_paths(&s, &plan.devices).await;
                    if plan.devices.len() <= crate::app::hub::PATHS_READ {
                        if let Some(assigned) = paths.dps_assigned.as_deref() {
                            plan = plan_with(Some(assigned));
                        }
                    }
                }
                disable_devices.set(Some(!plan.deletion_suffices()));
                outcome.set(None);
                checked.set(Some(Checked {
                    index: i,
                    plan,
                    dps_note: trust.dps_note,
                }));
            });
        })
    };

    let on_revoke = {
        let (cas, settings) = (props.cas.clone(), props.settings.clone());
        let (checked, outcome, confirm, rows, disable_devices) = (
            checked.clone(),
            outcome.clone(),
            confirm.clone(),
            rows.clone(),
            disable_devices.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            let Some(c) = (*checked).clone() else { return };
            if !*confirm {
                confirm.set(true);
                return outcome.set(Some(Outcome::Busy(format!(
                    "Revoke {}? This deletes it from the hub and DPS and disables what is listed. Click Revoke again to confirm.",
                    cas.get(c.index).map(|(_, i)| i.title.clone()).unwrap_or_default()
                ))));
            }
            confirm.set(false);
            let settings = settings.clone();
            let with_devices = disable_devices.unwrap_or(false);
            let (outcome, rows) = (outcome.clone(), rows.clone());
            yew::platform::spawn_local(async move {
                let s = crate::app::hub::ready(&settings).await;
                let hub = client(&s);
                let now = || browser::now().unix_timestamp().max(0) as u64;
                let mut done: Vec<(String, Result<String, String>)> = Vec::new();
                let mut push = |what: String, r: Result<String, String>| {
                    done.push((what, r));
                    rows.set(done.clone());
                };
                // DPS groups first, so no device registers while the rest is undone.
                if let Ok(svc) = s.dps_service() {
                    for g in &c.plan.dps_groups {
                        outcome.set(Some(Outcome::Busy(format!("Disabling group '{g}'…"))));
                        let r = hub.set_group_enabled(&svc, g, false, now()).await;
                        push(
                            format!("DPS group '{g}'"),
                            r.map(|_| "disabled".into()).map_err(|e| e.to_string()),
                        );
                    }
                }
                // The CA's certificates, on the hub and on DPS: the same ARM call for both.
                for (arm, names, place) in [
                    (s.arm(), &c.plan.on_hub, "the hub"),
                    (s.dps_arm(), &c.plan.on_dps, "DPS"),
                ] {
                    let Ok(arm) = arm else { continue };
                    for n in names {
                        outcome.set(Some(Outcome::Busy(format!("Deleting '{n}' from {place}…"))));
                        let r = hub.delete_certificate(&arm, n).await;
                        push(
                            format!("CA certificate '{n}' on {place}"),
                            r.map(|_| "deleted".into()).map_err(|e| e.to_string()),
                        );
                    }
                }
                if with_devices {
                    match s.registry() {
                        Ok(registry) => {
                            for id in &c.plan.devices {
                                outcome.set(Some(Outcome::Busy(format!("Disabling {id}…"))));
                                let r = match DeviceId::parse(id) {
                                    Ok(d) => hub
                                        .set_device_enabled(
                                            &registry,
                                            &d,
                                            false,
                                            "CA revoked in hubcert",
                                            now(),
                                        )
                                        .await
                                        .map(|_| "disabled in the registry".into())
                                        .map_err(|e| e.to_string()),
                                    Err(e) => Err(e.to_string()),
                                };
                                push(format!("device {id}"), r);
                            }
                        }
                        Err(e) => push("devices".into(), Err(e.to_string())),
                    }
                }
                let failed = done.iter().filter(|(_, r)| r.is_err()).count();
                let total = done.len();
                outcome.set(Some(if failed > 0 {
                    Outcome::Failed(format!("{} of {total} done; {failed} failed, see below.", total - failed))
                } else if total == 0 {
                    Outcome::Done("Nothing to revoke: the hub and DPS do not hold this CA and no device was chosen.".into())
                } else {
                    Outcome::Done(format!("Revoked: {total} of {total} done. Devices under it can no longer connect or register."))
                }));
            });
        })
    };

    let toggle_devices = {
        let disable_devices = disable_devices.clone();
        Callback::from(move |e: Event| {
            let on = e
                .target_unchecked_into::<web_sys::HtmlInputElement>()
                .checked();
            disable_devices.set(Some(on));
        })
    };
    let plan_view = checked.as_ref().filter(|c| Some(c.index) == index).map(|c| {
        let p = &c.plan;
        html! {
            <div class="plan" id="revoke-plan" role="status">
                <ul>
                    <li>{ if p.on_hub.is_empty() { "The hub does not hold this CA.".to_owned() } else { format!("On the hub as {}: deleted.", list(&p.on_hub)) } }</li>
                    if !p.trusted_above_on_hub.is_empty() {
                        <li class="warn" id="revoke-above">{format!(
                            "The hub also trusts {} (a CA above it, verified): its devices keep connecting through it until they are disabled below.",
                            list(&p.trusted_above_on_hub)
                        )}</li>
                    }
                    if !p.on_dps.is_empty() { <li>{format!("On DPS as {}: deleted.", list(&p.on_dps))}</li> }
                    if !p.dps_groups.is_empty() { <li>{format!("DPS enrollment groups trusting it: {}: disabled.", list(&p.dps_groups))}</li> }
                    if !p.dps_groups_above.is_empty() {
                        <li class="warn">{format!("DPS groups trusting a CA above it still admit its devices: {}. Disable them in step 7 if they must stop too.", list(&p.dps_groups_above))}</li>
                    }
                    if !p.provisioned.is_empty() {
                        <li class="warn" id="revoke-provisioned">{format!(
                            "DPS may have provisioned {} of them ({}): DPS writes its devices into the hub as thumbprint devices, which the CA leaving the hub does not stop. They are disabled in the hub below, and the disabled groups keep them from provisioning again.",
                            p.provisioned.len(),
                            p.provisioned.iter().take(8).cloned().collect::<Vec<_>>().join(", ")
                        )}</li>
                    }
                    if let Some(n) = &c.dps_note { <li class="muted">{n}</li> }
                    <li>{ if p.devices.is_empty() { "No device of this page chains through it.".to_owned() } else {
                        format!("{} device{} of this page chain through it: {}.", p.devices.len(), if p.devices.len() == 1 { "" } else { "s" }, p.devices.iter().take(8).cloned().collect::<Vec<_>>().join(", "))
                    } }</li>
                </ul>
                if !p.devices.is_empty() {
                    <label><input type="checkbox" id="revoke-devices" checked={disable_devices.unwrap_or(false)} onchange={toggle_devices} />
                        {format!(" Also disable these {} devices in the registry{}", p.devices.len(), if p.deletion_suffices() { "" } else if p.trusted_above_on_hub.is_empty() { " (needed: DPS devices are pinned by thumbprint)" } else { " (needed: a CA above is still trusted)" })}</label>
                }
            </div>
        }
    });
    let busy = matches!(&*outcome, Some(Outcome::Busy(m)) if !m.ends_with("to confirm."));
    html! {
        <section class="step" id="step-revoke" aria-labelledby="step-revoke-title">
            <div class="step-head">
                <span class="step-no" aria-hidden="true">{"⊘"}</span>
                <div>
                    <h2 id="step-revoke-title">{"Revoke"}</h2>
                    <p class="lede">{"IoT Hub checks no CRL: a CA is revoked by deleting it from the hub and DPS (and disabling the groups that trust it), a device by disabling it (step 5); a device DPS provisioned is a thumbprint device in the hub, so it is disabled there too and kept from provisioning again. See first what it takes down."}</p>
                </div>
            </div>
            <div class="card form">
                if props.cas.is_empty() {
                    <p class="hint">{"The CAs of this page are listed here."}</p>
                } else {
                    <div class="field">
                        <label for="revoke-ca">{"CA to revoke"}</label>
                        <select id="revoke-ca" onchange={on_choose}>
                            { for props.cas.iter().enumerate().map(|(i, (_, card))| html! {
                                <option value={i.to_string()} selected={Some(i) == index}>{format!("{} · {}", card.title, card.info.subject)}</option>
                            }) }
                        </select>
                    </div>
                }
                <div class="actions">
                    <button type="button" class="secondary" id="revoke-check" onclick={on_check} disabled={busy || props.cas.is_empty()}>{"Check what it takes down"}</button>
                    if plan_view.is_some() {
                        <button type="button" class={classes!("secondary", confirm.then_some("danger"))} id="revoke-submit" onclick={on_revoke} disabled={busy}>{"Revoke"}</button>
                    }
                </div>
                { plan_view.unwrap_or_default() }
                { outcome_view(&outcome, "revoke-status") }
                if !rows.is_empty() {
                    <ul class="results" id="revoke-results">
                        { for rows.iter().map(|(what, r)| html! {
                            <li class={classes!(if r.is_ok() { "ok" } else { "bad" })}>
                                {what.clone()}{" — "}{ match r { Ok(m) | Err(m) => m.clone() } }
                            </li>
                        }) }
                    </ul>
                }
            </div>
        </section>
    }
}

//! Revoke a CA as IoT Hub allows it (the hub checks no CRL): first what revoking it takes down,
//! read from the hub, DPS and the page; then, asked once, the CA deleted from the hub and DPS,
//! the DPS groups that trust it disabled, and (where a CA above it is still trusted) its devices
//! disabled in the registry.

use super::*;
use crate::app::fetch::client;
use crate::app::outcome::{outcome_view, Outcome};
use crate::app::settings::HubSettings;
use crate::iothub::{
    plan_revocation, revocation_result, revoke_confirm, PlanLine, RevocationInputs, RevocationPlan,
};

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

/// What checking and revoking need, and where they report.
#[derive(Clone)]
struct RevokeContext {
    cas: Rc<Vec<(SharedCa, Rc<Issued>)>>,
    devices: Rc<Vec<Rc<Issued>>>,
    settings: UseReducerHandle<HubSettings>,
    checked: UseStateHandle<Option<Checked>>,
    outcome: UseStateHandle<Option<Outcome>>,
    confirm: UseStateHandle<bool>,
    rows: UseStateHandle<Vec<(String, Result<String, String>)>>,
    disable_devices: UseStateHandle<Option<bool>>,
}

#[component]
pub(crate) fn RevokeStep(props: &RevokeProps) -> Html {
    // Default: the newest intermediate (a root is revoked by replacing it).
    let chosen = use_state(|| None::<usize>);
    let ctx = RevokeContext {
        cas: props.cas.clone(),
        devices: props.devices.clone(),
        settings: props.settings.clone(),
        checked: use_state(|| None::<Checked>),
        outcome: use_state(|| None::<Outcome>),
        confirm: use_state(|| false),
        rows: use_state(Vec::new),
        disable_devices: use_state(|| None::<bool>),
    };
    let index = chosen
        .filter(|i| *i < props.cas.len())
        .or_else(|| props.cas.len().checked_sub(1));
    let on_choose = {
        let (chosen, checked, confirm) = (chosen.clone(), ctx.checked.clone(), ctx.confirm.clone());
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
        let ctx = ctx.clone();
        Callback::from(move |_: MouseEvent| ctx.check(index))
    };
    let on_revoke = {
        let ctx = ctx.clone();
        Callback::from(move |_: MouseEvent| ctx.revoke())
    };
    let toggle_devices = {
        let disable_devices = ctx.disable_devices.clone();
        Callback::from(move |on: bool| disable_devices.set(Some(on)))
    };
    let shown = ctx.checked.as_ref().filter(|c| Some(c.index) == index);
    let busy = matches!(&*ctx.outcome, Some(Outcome::Busy(m)) if !m.ends_with("to confirm."));
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
                    if shown.is_some() {
                        <button type="button" class={classes!("secondary", ctx.confirm.then_some("danger"))} id="revoke-submit" onclick={on_revoke} disabled={busy}>{"Revoke"}</button>
                    }
                </div>
                if let Some(c) = shown {
                    <RevokePlan lines={c.plan.summary(c.dps_note.as_deref())} devices={c.plan.devices.len()}
                        label={c.plan.disable_devices_label()} checked={ctx.disable_devices.unwrap_or(false)} ontoggle={toggle_devices} />
                }
                { outcome_view(&ctx.outcome, "revoke-status") }
                if !ctx.rows.is_empty() {
                    <ul class="results" id="revoke-results">
                        { for ctx.rows.iter().map(|(what, r)| html! {
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

#[derive(Properties, PartialEq)]
struct RevokePlanProps {
    lines: Vec<PlanLine>,
    /// The page's devices under the CA.
    devices: usize,
    /// The label of the devices' checkbox.
    label: String,
    /// Whether the devices are disabled too.
    checked: bool,
    ontoggle: Callback<bool>,
}

/// What revoking the CA takes down, and whether its devices are disabled too.
#[component]
fn RevokePlan(props: &RevokePlanProps) -> Html {
    let toggle = props.ontoggle.reform(|e: Event| {
        e.target_unchecked_into::<web_sys::HtmlInputElement>()
            .checked()
    });
    html! {
        <div class="plan" id="revoke-plan" role="status">
            <ul>
                { for props.lines.iter().map(|l| html! {
                    <li class={classes!(l.warn.then_some("warn"), l.muted.then_some("muted"))} id={l.id}>{&l.text}</li>
                }) }
            </ul>
            if props.devices > 0 {
                <label><input type="checkbox" id="revoke-devices" checked={props.checked} onchange={toggle} />{&props.label}</label>
            }
        </div>
    }
}

impl RevokeContext {
    fn busy(&self, m: impl Into<String>) {
        self.outcome.set(Some(Outcome::Busy(m.into())));
    }

    /// "Check what it takes down" for the CA at `index`.
    fn check(&self, index: Option<usize>) {
        let Some(i) = index else {
            return self.outcome.set(Some(Outcome::Failed(NO_CA.into())));
        };
        self.confirm.set(false);
        self.rows.set(Vec::new());
        self.busy("Reading the hub's CA certificates and DPS's groups…");
        let ctx = self.clone();
        yew::platform::spawn_local(async move {
            let s = crate::app::hub::ready(&ctx.settings).await;
            let trust = match crate::app::hub::read_trust(&s).await {
                Ok(t) => t,
                Err(e) => return ctx.outcome.set(Some(Outcome::Failed(e.to_string()))),
            };
            let (target_ca, _) = &ctx.cas[i];
            let target = target_ca.0.certificate().clone();
            let below: Vec<Certificate> = ctx
                .cas
                .iter()
                .filter(|(c, _)| c.0.issuers().contains(&target))
                .map(|(c, _)| c.0.certificate().clone())
                .collect();
            let page_devices = crate::app::hub::page_devices(&ctx.devices);
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
                ctx.busy("Reading which of its devices DPS provisioned…");
                let paths = crate::app::hub::read_paths(&s, &plan.devices).await;
                if plan.devices.len() <= crate::app::hub::PATHS_READ {
                    if let Some(assigned) = paths.dps_assigned.as_deref() {
                        plan = plan_with(Some(assigned));
                    }
                }
            }
            ctx.disable_devices.set(Some(!plan.deletion_suffices()));
            ctx.outcome.set(None);
            ctx.checked.set(Some(Checked {
                index: i,
                plan,
                dps_note: trust.dps_note,
            }));
        });
    }

    /// "Revoke": asks once, then revokes what the plan lists.
    fn revoke(&self) {
        let Some(c) = (*self.checked).clone() else {
            return;
        };
        if !*self.confirm {
            self.confirm.set(true);
            let title = self.cas.get(c.index).map(|(_, i)| i.title.clone());
            return self.busy(revoke_confirm(&title.unwrap_or_default()));
        }
        self.confirm.set(false);
        let with_devices = self.disable_devices.unwrap_or(false);
        yew::platform::spawn_local(revoke(self.clone(), c.plan, with_devices));
    }
}

/// Disables the groups, deletes the CA from the hub and DPS, and disables the devices if asked.
async fn revoke(ctx: RevokeContext, plan: RevocationPlan, with_devices: bool) {
    let s = crate::app::hub::ready(&ctx.settings).await;
    let hub = client(&s);
    let now = || browser::now().unix_timestamp().max(0) as u64;
    let mut done: Vec<(String, Result<String, String>)> = Vec::new();
    let mut push = |what: String, r: Result<String, String>| {
        done.push((what, r));
        ctx.rows.set(done.clone());
    };
    // DPS groups first, so no device registers while the rest is undone.
    if let Ok(svc) = s.dps_service() {
        for g in &plan.dps_groups {
            ctx.busy(format!("Disabling group '{g}'…"));
            let r = hub.set_group_enabled(&svc, g, false, now()).await;
            push(
                format!("DPS group '{g}'"),
                r.map(|_| "disabled".into()).map_err(|e| e.to_string()),
            );
        }
    }
    // The CA's certificates, on the hub and on DPS: the same ARM call for both.
    for (arm, names, place) in [
        (s.arm(), &plan.on_hub, "the hub"),
        (s.dps_arm(), &plan.on_dps, "DPS"),
    ] {
        let Ok(arm) = arm else { continue };
        for n in names {
            ctx.busy(format!("Deleting '{n}' from {place}…"));
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
                for id in &plan.devices {
                    ctx.busy(format!("Disabling {id}…"));
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
    let (ok, line) = revocation_result(done.len(), failed);
    ctx.outcome.set(Some(if ok {
        Outcome::Done(line)
    } else {
        Outcome::Failed(line)
    }));
}

//! A guided CA rollover: the new CA verified on the hub beside the old, added to DPS's groups as
//! their secondary, the devices re-issued under it with their own keys, then the old retired.
//! Where it stands is read from the hub, DPS and the page each time, so after a reload (with the
//! workspace kept) it picks up at the step it reached.

use super::renew::{renew_one, renewed_zip};
use super::*;
use crate::app::fetch::client;
use crate::app::outcome::{outcome_view, Outcome};
use crate::app::settings::HubSettings;
use crate::iothub::{
    certificate_name, only_new_ca, plan_ca_rollover, with_new_ca, CaRollover, CaRolloverInputs,
    CaRolloverStage, RestError,
};

#[derive(Properties, PartialEq)]
pub(crate) struct RolloverProps {
    /// Every CA of the tree with its card, root first.
    pub(crate) cas: Rc<Vec<(SharedCa, Rc<Issued>)>>,
    /// Device certificates of the page, newest first.
    pub(crate) devices: Rc<Vec<Rc<Issued>>>,
    pub(crate) settings: UseReducerHandle<HubSettings>,
    /// Re-issued device certificates.
    pub(crate) onrenewed: Callback<Vec<Rc<Issued>>>,
}

/// A name for a CA on the hub or DPS from its CN: lowercase letters, digits and dashes.
fn name_from(cn: &str) -> String {
    let mut out = String::new();
    for c in cn.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_matches('-');
    let mut name: String = out.chars().take(64).collect();
    if name.is_empty() {
        name = "new-ca".into();
    }
    name
}

/// Reads where the rollover from `old` to `new` stands.
async fn read_standing(
    s: &HubSettings,
    old: &Certificate,
    new: &Certificate,
    devices: &[Rc<Issued>],
) -> Result<(CaRollover, Option<String>), RestError> {
    let trust = crate::app::hub::read_trust(s).await?;
    let page = crate::app::hub::page_devices(devices);
    // How each device of either CA stands in the hub: CA-signed, or pinned by DPS.
    let mut ids: Vec<String> = Vec::new();
    for (id, cert) in &page {
        let under = |ca: &Certificate| crate::pki::is_signed_by(cert, ca).unwrap_or(false);
        if !ids.contains(id) && (under(old) || under(new)) {
            ids.push(id.clone());
        }
    }
    let paths = crate::app::hub::read_paths(s, &ids).await;
    Ok((
        plan_ca_rollover(&CaRolloverInputs {
            old,
            new,
            hub: &trust.hub,
            dps: &trust.dps,
            groups: &trust.groups,
            devices: &page,
            hub_devices: &paths.hub,
            dps_assigned: paths.dps_assigned.as_deref().unwrap_or(&[]),
        }),
        trust.dps_note,
    ))
}

#[component]
pub(crate) fn RolloverStep(props: &RolloverProps) -> Html {
    let old_index = use_state(|| 0usize);
    let new_index = use_state(|| None::<usize>);
    let standing = use_state(|| None::<(usize, usize, CaRollover, Option<String>)>);
    let outcome = use_state(|| None::<Outcome>);
    let confirm = use_state(|| false);
    let zip = use_state(|| None::<Rc<Download>>);

    let n = props.cas.len();
    let old_i = (*old_index).min(n.saturating_sub(1));
    let new_i = new_index
        .filter(|i| *i < n)
        .or_else(|| (n > 1).then(|| n - 1));
    let pair = new_i.filter(|ni| *ni != old_i).map(|ni| (old_i, ni));
    let new_name = pair
        .and_then(|(_, ni)| props.cas[ni].1.info.common_name.clone())
        .map(|cn| name_from(&cn))
        .unwrap_or_else(|| "new-ca".into());

    let select = |state: UseStateHandle<usize>| {
        let (standing, confirm) = (standing.clone(), confirm.clone());
        Callback::from(move |e: Event| {
            let v = e
                .target_unchecked_into::<web_sys::HtmlSelectElement>()
                .value();
            if let Ok(i) = v.parse() {
                state.set(i);
            }
            standing.set(None);
            confirm.set(false);
        })
    };
    let on_new = {
        let (new_index, standing, confirm) = (new_index.clone(), standing.clone(), confirm.clone());
        Callback::from(move |e: Event| {
            let v = e
                .target_unchecked_into::<web_sys::HtmlSelectElement>()
                .value();
            new_index.set(v.parse().ok());
            standing.set(None);
            confirm.set(false);
        })
    };

    // Reads the standing again; used after every action.
    let refresh = {
        let (cas, devices, settings, standing, outcome) = (
            props.cas.clone(),
            props.devices.clone(),
            props.settings.clone(),
            standing.clone(),
            outcome.clone(),
        );
        Callback::from(move |done: Option<Outcome>| {
            let Some((oi, ni)) = pair else {
                return outcome.set(Some(Outcome::Failed(
                    "Choose two different CAs: the one in use now and the one taking over (make it in step 1 first).".into(),
                )));
            };
            let (cas, devices, settings, standing, outcome) = (
                cas.clone(),
                devices.clone(),
                settings.clone(),
                standing.clone(),
                outcome.clone(),
            );
            if done.is_none() {
                outcome.set(Some(Outcome::Busy("Reading the hub and DPS…".into())));
            }
            yew::platform::spawn_local(async move {
                let s = crate::app::hub::ready(&settings).await;
                let (old, new) = (cas[oi].0 .0.certificate(), cas[ni].0 .0.certificate());
                match read_standing(&s, old, new, &devices).await {
                    Ok((r, note)) => {
                        standing.set(Some((oi, ni, r, note)));
                        outcome.set(done);
                    }
                    Err(e) => outcome.set(Some(Outcome::Failed(e.to_string()))),
                }
            });
        })
    };

    let on_next = {
        let (cas, devices, settings, onrenewed) = (
            props.cas.clone(),
            props.devices.clone(),
            props.settings.clone(),
            props.onrenewed.clone(),
        );
        let (standing, outcome, confirm, zip, new_name) = (
            standing.clone(),
            outcome.clone(),
            confirm.clone(),
            zip.clone(),
            new_name.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            let Some((oi, ni, r, _)) = (*standing).clone() else {
                return;
            };
            if r.stage == CaRolloverStage::RetireOld && !*confirm {
                confirm.set(true);
                return outcome.set(Some(Outcome::Busy(
                    "Retire the old CA? It is deleted from the hub and the DPS groups trust only the new one; devices still on the old certificate stop connecting. Click again to confirm.".into(),
                )));
            }
            confirm.set(false);
            let settings = settings.clone();
            let (old_ca, new_ca) = (cas[oi].0.clone(), cas[ni].0.clone());
            let (devices, onrenewed, outcome, zip, new_name, standing) = (
                devices.clone(),
                onrenewed.clone(),
                outcome.clone(),
                zip.clone(),
                new_name.clone(),
                standing.clone(),
            );
            yew::platform::spawn_local(async move {
                let s = crate::app::hub::ready(&settings).await;
                let hub = client(&s);
                let now = || browser::now().unix_timestamp().max(0) as u64;
                // The page's devices as they will be once what is re-issued here is listed.
                let mut devices_now: Vec<Rc<Issued>> = devices.to_vec();
                let pem = new_ca.0.certificate().pem();
                let sha1 = new_ca.0.certificate().sha1_thumbprint().as_str().to_owned();
                let sign = |code: &VerificationCode| {
                    new_ca
                        .0
                        .issue_verification(
                            &VerificationCertParams {
                                code: code.clone(),
                                validity: ValidityDays::ONE_DAY,
                            },
                            browser::now(),
                        )
                        .map(|id| id.certificate.pem())
                };
                let progress = {
                    let outcome = outcome.clone();
                    move |stage: crate::iothub::PossessionStage| {
                        outcome.set(Some(Outcome::Busy(stage.label().into())))
                    }
                };
                let result: Result<String, String> = match r.stage {
                    CaRolloverStage::UploadNew => match (s.arm(), certificate_name(&new_name)) {
                        (Ok(arm), Ok(name)) => hub
                            .upload_and_verify(&arm, &name, &pem, &sha1, false, sign, progress)
                            .await
                            .map(|_| format!("The new CA is on the hub as '{name}', verified: the hub trusts both CAs now."))
                            .map_err(|e| e.to_string()),
                        (Err(e), _) | (_, Err(e)) => Err(e.to_string()),
                    },
                    CaRolloverStage::AddToGroups => {
                        let mut said = Vec::new();
                        let mut failed = None;
                        let svc = s.dps_service();
                        for id in &r.groups_old_only {
                            outcome.set(Some(Outcome::Busy(format!("Adding the new CA to group '{id}'…"))));
                            let svc = match &svc {
                                Ok(v) => v,
                                Err(e) => {
                                    failed = Some(e.to_string());
                                    break;
                                }
                            };
                            let step = async {
                                let g = hub.enrollment_group(svc, id, now()).await.map_err(|e| e.to_string())?;
                                let both = with_new_ca(&g, &pem, r.new_on_dps.first().map(String::as_str))
                                    .map_err(|e| format!("group '{id}': {e}"))?;
                                hub.save_enrollment_group(svc, &both, now()).await.map_err(|e| e.to_string())
                            };
                            match step.await {
                                Ok(_) => said.push(id.clone()),
                                Err(e) => {
                                    failed = Some(e);
                                    break;
                                }
                            }
                        }
                        match failed {
                            Some(e) => Err(e),
                            None => Ok(format!("The new CA is the secondary of {}: devices under either CA register.", said.join(", "))),
                        }
                    }
                    CaRolloverStage::Reissue => {
                        let mut cards = Vec::new();
                        let mut failed = None;
                        let validity = ValidityDays::new(365).unwrap_or(ValidityDays::ONE_DAY);
                        for id in &r.devices_on_old {
                            outcome.set(Some(Outcome::Busy(format!("Re-issuing {id} under the new CA…"))));
                            let Some(old) = devices.iter().find(|d| d.info.common_name.as_deref() == Some(id)) else { continue };
                            match renew_one(&new_ca, old, true, KeyAlgorithm::EcdsaP256, validity).await {
                                Ok(card) => cards.push(card),
                                Err(e) => {
                                    failed = Some(format!("{id}: {e}"));
                                    break;
                                }
                            }
                            browser::yield_now().await;
                        }
                        match (failed, renewed_zip(&cards)) {
                            (Some(e), _) => Err(e),
                            (None, Err(e)) => Err(e),
                            (None, Ok(z)) => {
                                let n = cards.len();
                                zip.set(Some(z));
                                devices_now.splice(0..0, cards.iter().cloned());
                                onrenewed.emit(cards);
                                Ok(format!("{n} device certificate{} re-issued under the new CA, each with its own key: install them (the zip below), then retire the old CA.", if n == 1 { "" } else { "s" }))
                            }
                        }
                    }
                    CaRolloverStage::RetireOld => {
                        let mut failed = None;
                        if let Ok(svc) = s.dps_service() {
                            for id in &r.groups_both {
                                outcome.set(Some(Outcome::Busy(format!("Group '{id}' trusts only the new CA…"))));
                                let step = async {
                                    let g = hub.enrollment_group(&svc, id, now()).await.map_err(|e| e.to_string())?;
                                    let only = only_new_ca(&g, &pem, r.new_on_dps.first().map(String::as_str))
                                        .map_err(|e| format!("group '{id}': {e}"))?;
                                    hub.save_enrollment_group(&svc, &only, now()).await.map_err(|e| e.to_string())
                                };
                                if let Err(e) = step.await {
                                    failed = Some(e);
                                    break;
                                }
                            }
                        }
                        if failed.is_none() {
                            match s.arm() {
                                Ok(arm) => {
                                    for name in &r.old_on_hub {
                                        outcome.set(Some(Outcome::Busy(format!("Deleting '{name}' from the hub…"))));
                                        if let Err(e) = hub.delete_certificate(&arm, name).await {
                                            failed = Some(e.to_string());
                                            break;
                                        }
                                    }
                                }
                                Err(e) => failed = Some(e.to_string()),
                            }
                        }
                        match failed {
                            Some(e) => Err(e),
                            None => Ok("The old CA is retired: the hub and DPS trust only the new one.".into()),
                        }
                    }
                    // The devices provision themselves; the page reads again whether they have.
                    CaRolloverStage::ProvisionAgain => Ok(format!(
                        "Still pinned to their old certificates in the hub: {}. Provision each again with its new certificate (on the device, or with the provisioning test here after importing its new .pfx): DPS then writes the new thumbprint.",
                        r.to_provision_again.join(", ")
                    )),
                    CaRolloverStage::Done => Ok("Nothing left to do.".into()),
                };
                match result {
                    Ok(m) => match read_standing(
                        &s,
                        old_ca.0.certificate(),
                        new_ca.0.certificate(),
                        &devices_now,
                    )
                    .await
                    {
                        Ok((r, note)) => {
                            standing.set(Some((oi, ni, r, note)));
                            outcome.set(Some(Outcome::Done(m)));
                        }
                        Err(e) => outcome.set(Some(Outcome::Failed(format!(
                            "{m} Reading it again failed: {e}"
                        )))),
                    },
                    Err(e) => outcome.set(Some(Outcome::Failed(e))),
                }
            });
        })
    };
    let on_save = zip.as_ref().map(|z| {
        let (z, outcome) = (z.clone(), outcome.clone());
        Callback::from(move |_: MouseEvent| {
            if let Err(e) = browser::download(&z.name, z.mime, &z.contents) {
                outcome.set(Some(Outcome::Failed(e)));
            }
        })
    });

    let shown = standing
        .as_ref()
        .filter(|(oi, ni, ..)| Some((*oi, *ni)) == pair);
    let checklist = shown.map(|(_, _, r, note)| {
        let mark = |done: bool| if done { "✓" } else { "•" };
        let stage = r.stage;
        let past = |s: CaRolloverStage| (stage as u8) > (s as u8);
        html! {
            <div id="rollover-standing" role="status">
                <ol class="checklist">
                    if r.hub_needs_new || !r.new_on_hub.is_empty() {
                        <li class={classes!(past(CaRolloverStage::UploadNew).then_some("done"))}>{format!("{} New CA verified on the hub{}", mark(past(CaRolloverStage::UploadNew)),
                            if r.new_on_hub.is_empty() { String::new() } else { format!(" ('{}')", r.new_on_hub.join("', '")) })}</li>
                    } else {
                        <li class="done muted" id="rollover-hub-not-needed">{"✓ The hub needs no CA: its devices came through DPS, which pins each certificate by thumbprint"}</li>
                    }
                    <li class={classes!(past(CaRolloverStage::AddToGroups).then_some("done"))}>{format!("{} DPS groups trust it too{}", mark(past(CaRolloverStage::AddToGroups)),
                        if r.groups_old_only.is_empty() { format!(" ({} in overlap)", r.groups_both.len()) } else { format!(": {} still trust only the old", r.groups_old_only.join(", ")) })}</li>
                    <li class={classes!(past(CaRolloverStage::Reissue).then_some("done"))}>{format!("{} Devices re-issued under it: {} on the new CA, {} still on the old", mark(past(CaRolloverStage::Reissue)), r.devices_on_new.len(), r.devices_on_old.len())}</li>
                    <li class={classes!(past(CaRolloverStage::ProvisionAgain).then_some("done"))} id="rollover-provision">{format!("{} DPS devices provisioned again with their new certificates{}", mark(past(CaRolloverStage::ProvisionAgain)),
                        if r.to_provision_again.is_empty() { String::new() } else { format!(": still pinned to the old in the hub: {}", r.to_provision_again.join(", ")) })}</li>
                    <li class={classes!((stage == CaRolloverStage::Done).then_some("done"))}>{format!("{} Old CA retired{}", mark(stage == CaRolloverStage::Done),
                        if r.old_on_hub.is_empty() { String::new() } else { format!(" (still on the hub as '{}')", r.old_on_hub.join("', '")) })}</li>
                </ol>
                if let Some(n) = note { <p class="muted">{n}</p> }
            </div>
        }
    });
    let next_label = shown.map(|(_, _, r, _)| match r.stage {
        CaRolloverStage::UploadNew => {
            format!("Upload the new CA to the hub as '{new_name}' and prove possession")
        }
        CaRolloverStage::AddToGroups => format!(
            "Add the new CA to {} DPS group{}",
            r.groups_old_only.len(),
            if r.groups_old_only.len() == 1 {
                ""
            } else {
                "s"
            }
        ),
        CaRolloverStage::Reissue => format!(
            "Re-issue {} device{} under the new CA (their own keys)",
            r.devices_on_old.len(),
            if r.devices_on_old.len() == 1 { "" } else { "s" }
        ),
        CaRolloverStage::ProvisionAgain => format!(
            "Check again: {} DPS device{} to provision with the new certificate",
            r.to_provision_again.len(),
            if r.to_provision_again.len() == 1 {
                ""
            } else {
                "s"
            }
        ),
        CaRolloverStage::RetireOld => "Retire the old CA".to_owned(),
        CaRolloverStage::Done => "Rolled over".to_owned(),
    });
    let busy = matches!(&*outcome, Some(Outcome::Busy(m)) if !m.ends_with("to confirm."));
    let option = |i: usize, (_, card): &(SharedCa, Rc<Issued>), selected: bool| {
        html! { <option value={i.to_string()} {selected}>{format!("{} · {}", card.title, card.info.subject)}</option> }
    };
    html! {
        <section class="step" id="step-rollover" aria-labelledby="step-rollover-title">
            <div class="step-head">
                <span class="step-no" aria-hidden="true">{"⇄"}</span>
                <div>
                    <h2 id="step-rollover-title">{"Roll over to a new CA"}</h2>
                    <p class="lede">{"Make the new CA in step 1 (a new root or intermediate), then follow the steps: both CAs are trusted during the overlap, so no device is refused. Each press reads where it stands first, so it picks up after a reload."}</p>
                </div>
            </div>
            <div class="card form">
                if n < 2 {
                    <p class="hint" id="rollover-need">{"Two CAs are needed on this page: the one in use and the one taking over. Create or import the new one in step 1."}</p>
                } else {
                    <div class="grid">
                        <div class="field">
                            <label for="rollover-old">{"From (the CA in use)"}</label>
                            <select id="rollover-old" onchange={select(old_index.clone())}>
                                { for props.cas.iter().enumerate().map(|(i, c)| option(i, c, i == old_i)) }
                            </select>
                        </div>
                        <div class="field">
                            <label for="rollover-new">{"To (the CA taking over)"}</label>
                            <select id="rollover-new" onchange={on_new}>
                                { for props.cas.iter().enumerate().map(|(i, c)| option(i, c, Some(i) == new_i)) }
                            </select>
                        </div>
                    </div>
                }
                <div class="actions">
                    <button type="button" class="secondary" id="rollover-read" onclick={let r = refresh.clone(); Callback::from(move |_| r.emit(None))} disabled={busy || pair.is_none()}>{"Read where it stands"}</button>
                    if let Some(label) = next_label {
                        <button type="button" class={classes!("primary", confirm.then_some("danger"))} id="rollover-next" onclick={on_next}
                            disabled={busy || shown.is_some_and(|(_, _, r, _)| r.stage == CaRolloverStage::Done)}>{label}</button>
                    }
                </div>
                { checklist.unwrap_or_default() }
                { outcome_view(&outcome, "rollover-status") }
                if let (Some(z), Some(on_save)) = (&*zip, on_save) {
                    <button type="button" class="secondary" id="rollover-save" onclick={on_save}>{format!("Download {}", z.name)}</button>
                }
            </div>
        </section>
    }
}

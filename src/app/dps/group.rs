//! The enrollment group: which CA it trusts (a CA of the page or a pasted one, with a secondary
//! during a rollover, given whole in the group; or a CA uploaded to DPS, proven there and
//! referenced by name), created or updated with its etag, and the DPS's groups listed.

use std::rc::Rc;

use yew::prelude::*;

use super::run::now_ms;
use super::symkey::{attestation_choice, held_attestation, SymmetricKeys};
use super::{service_or_say, set};
use crate::app::command::Command;
use crate::app::fetch::Fetch;
use crate::app::field::{textarea_setter, Field};
use crate::app::outcome::{outcome_view, Outcome};
use crate::app::state::{Issued, SharedCa};
use crate::contract::{EnrollmentGroup, EnrollmentId, VerificationCode};
use crate::iothub::{certificate_name, Arm, AzDps, DpsService, HubClient, RestError};
use crate::iothub::{PossessionStage, SavedGroup};
use crate::pki::{ValidityDays, VerificationCertParams};

#[derive(Properties, PartialEq)]
pub(super) struct GroupProps {
    pub(super) service: Result<DpsService, RestError>,
    pub(super) arm: Result<Arm, RestError>,
    pub(super) cas: Rc<Vec<(SharedCa, Rc<Issued>)>>,
    pub(super) localhub: bool,
    pub(super) az: AzDps,
    pub(super) id_scope: AttrValue,
}

/// The PEM a CA choice stands for: `ca-N` (a CA of the page) or `paste`.
fn chosen_pem(choice: &str, cas: &[(SharedCa, Rc<Issued>)], pasted: &str) -> Option<String> {
    match choice {
        "paste" => Some(pasted.trim().to_owned()).filter(|p| !p.is_empty()),
        c => chosen_ca(c, cas).map(|(_, issued)| issued.certificate.pem()),
    }
}

fn chosen_ca<'a>(
    choice: &str,
    cas: &'a [(SharedCa, Rc<Issued>)],
) -> Option<&'a (SharedCa, Rc<Issued>)> {
    choice
        .strip_prefix("ca-")
        .and_then(|i| i.parse::<usize>().ok())
        .and_then(|i| cas.get(i))
}

/// The primary CA choice in effect: `ca-N` only while the page has that CA.
fn effective_choice(chosen: &str, cas: usize) -> String {
    match chosen
        .strip_prefix("ca-")
        .and_then(|i| i.parse::<usize>().ok())
    {
        Some(i) if i < cas => chosen.to_owned(),
        Some(_) if cas > 0 => "ca-0".to_owned(),
        _ => "paste".to_owned(),
    }
}

/// A signing certificate's subject for the group list: what DPS says of it (its answers carry
/// `info`, not the certificate), else read from the certificate.
fn subject(entry: &crate::contract::X509CertificateWithInfo) -> String {
    if let Some(info) = &entry.info {
        return info.subject_name.clone();
    }
    entry
        .certificate
        .as_deref()
        .ok_or(())
        .and_then(|pem| {
            crate::pki::Certificate::from_pem(pem)
                .and_then(|c| c.info())
                .map_err(|_| ())
        })
        .map(|i| i.subject)
        .unwrap_or_else(|()| "(not a readable certificate)".into())
}

/// The initial twin typed in the form: empty for none, else a JSON object with `tags` and/or
/// `properties.desired`.
fn twin_json(text: &str) -> Result<Option<serde_json::Value>, String> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    let v: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| format!("Initial twin: not JSON ({e}). Example: {{\"tags\": {{\"site\": \"plant-7\"}}, \"properties\": {{\"desired\": {{\"interval\": 30}}}}}}"))?;
    let Some(o) = v.as_object() else {
        return Err(
            "Initial twin: a JSON object with \"tags\" and/or \"properties\": {\"desired\": …}."
                .into(),
        );
    };
    if let Some(k) = o.keys().find(|k| *k != "tags" && *k != "properties") {
        return Err(format!("Initial twin: '{k}' is not part of an initial twin; use \"tags\" and \"properties\": {{\"desired\": …}}."));
    }
    Ok(Some(v))
}

/// DPS's reprovision policy for the form's choice.
fn reprovision_policy(choice: &str) -> serde_json::Value {
    let (update, migrate) = match choice {
        "reset" => (true, false),
        "never" => (false, true),
        _ => (true, true),
    };
    serde_json::json!({"updateHubAssignment": update, "migrateDeviceData": migrate})
}

fn saved_line(saved: &SavedGroup) -> String {
    let g = &saved.item;
    let trusts = match (g.signing_entries().len(), g.ca_references().first()) {
        _ if g.attestation.is_symmetric_key() => {
            "devices signing with a key derived from the group's key (below) may register"
                .to_owned()
        }
        (0, Some(name)) => {
            format!("devices whose chain reaches the DPS certificate '{name}' may register")
        }
        (1, _) => "devices whose chain reaches this CA may register".to_owned(),
        _ => "devices whose chain reaches either CA may register".to_owned(),
    };
    format!(
        "{} enrollment group {} ({}){}: {trusts}.",
        if saved.replaced { "Updated" } else { "Created" },
        g.enrollment_group_id,
        if g.is_enabled() {
            "enabled"
        } else {
            "disabled"
        },
        if saved.retried {
            ", after one retry with a fresh etag"
        } else {
            ""
        },
    )
}

#[component]
pub(super) fn GroupCard(props: &GroupProps) -> Html {
    let group_id = use_state(|| "hubcert-fleet".to_owned());
    let primary_state = use_state(|| "ca-0".to_owned());
    // A CA of the page while there is one; the pasted PEM otherwise (and when chosen).
    let primary = effective_choice(&primary_state, props.cas.len());
    let secondary = use_state(String::new);
    let pasted = use_state(String::new);
    let enabled = use_state(|| true);
    let by_reference = use_state(|| false);
    let symmetric = use_state(|| false);
    // The group's primary key as DPS answered the last save of a symmetric-key group.
    let group_key = use_state(|| None::<String>);
    let iot_edge = use_state(|| false);
    let initial_twin = use_state(String::new);
    let reprovision = use_state(|| "migrate".to_owned());
    let ca_name = use_state(|| "hubcert-root".to_owned());
    let note = use_state(|| None::<Outcome>);
    let proof_note = use_state(|| None::<Outcome>);
    let groups = use_state(|| None::<Vec<EnrollmentGroup>>);
    let client = HubClient::new(Fetch, props.localhub);

    let on_save = {
        let (service, client, note, groups) = (
            props.service.clone(),
            client.clone(),
            note.clone(),
            groups.clone(),
        );
        let (group_id, primary, secondary, pasted, enabled, by_reference, ca_name) = (
            group_id.clone(),
            primary.clone(),
            secondary.clone(),
            pasted.clone(),
            enabled.clone(),
            by_reference.clone(),
            ca_name.clone(),
        );
        let (iot_edge, initial_twin, reprovision) =
            (*iot_edge, (*initial_twin).clone(), (*reprovision).clone());
        let (symmetric, group_key) = (*symmetric, group_key.clone());
        let cas = props.cas.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if matches!(*note, Some(Outcome::Busy(_))) {
                return;
            }
            let fail = |m: String| note.set(Some(Outcome::Failed(m)));
            let id = group_id.trim().to_owned();
            if let Err(e) = EnrollmentId::parse(&id) {
                return fail(format!("Enrollment group id: {e}"));
            }
            let mut group = if symmetric {
                // DPS makes the keys and answers with them.
                EnrollmentGroup::symmetric_key(&id, None, None)
            } else if *by_reference {
                match certificate_name(&ca_name) {
                    Ok(name) => EnrollmentGroup::x509_ca_references(&id, &name, None),
                    Err(e) => return fail(format!("CA certificate name on DPS: {e}")),
                }
            } else {
                let Some(first) = chosen_pem(&primary, &cas, &pasted) else {
                    return fail(if primary == "paste" {
                        "Paste the CA certificate (PEM) the group's devices chain to.".into()
                    } else {
                        "Make a root CA in step 1 first, or paste a CA certificate.".into()
                    });
                };
                if primary == "paste" {
                    if let Err(e) = crate::pki::Certificate::from_pem(&first) {
                        return fail(format!("The pasted CA certificate: {e}"));
                    }
                }
                let second = chosen_pem(&secondary, &cas, "").filter(|s| *s != first);
                EnrollmentGroup::x509_signing(&id, &first, second.as_deref())
            };
            if !*enabled {
                group.provisioning_status = Some("disabled".into());
            }
            match twin_json(&initial_twin) {
                Ok(twin) => group.initial_twin = twin,
                Err(e) => return fail(e),
            }
            group.reprovision_policy = Some(reprovision_policy(&reprovision));
            group.capabilities = Some(serde_json::json!({ "iotEdge": iot_edge }));
            let Some(dps) = service_or_say(&service, &note) else {
                return;
            };
            let (client, note, groups, group_key) = (
                client.clone(),
                note.clone(),
                groups.clone(),
                group_key.clone(),
            );
            note.set(Some(Outcome::Busy(format!(
                "Saving enrollment group {id}…"
            ))));
            yew::platform::spawn_local(async move {
                let mut group = group;
                if symmetric {
                    match held_attestation(&client, &dps, &id, true).await {
                        Ok(held) => {
                            DpsService::keep_held_keys(&mut group.attestation, held.as_ref())
                        }
                        Err(e) => return note.set(Some(Outcome::Failed(e.to_string()))),
                    }
                }
                match client
                    .save_enrollment_group(&dps, &group, now_ms() / 1000)
                    .await
                {
                    Ok(saved) => {
                        let keys = saved.item.attestation.symmetric_keys();
                        group_key.set(keys.first().map(|k| (*k).to_owned()));
                        note.set(Some(Outcome::Done(saved_line(&saved))));
                        groups.set(None);
                    }
                    Err(e) => note.set(Some(Outcome::Failed(e.to_string()))),
                }
            });
        })
    };

    // Delete asks once, then deletes on the second click.
    let confirm_delete = use_state(|| false);
    let on_delete = {
        let (service, client, note, groups, group_id, confirm) = (
            props.service.clone(),
            client.clone(),
            note.clone(),
            groups.clone(),
            group_id.clone(),
            confirm_delete.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            let id = group_id.trim().to_owned();
            if !*confirm {
                confirm.set(true);
                return note.set(Some(Outcome::Busy(format!(
                    "Delete enrollment group {id}? Its devices can no longer register (those already on a hub stay there). Click Delete again to confirm."
                ))));
            }
            confirm.set(false);
            let Some(dps) = service_or_say(&service, &note) else {
                return;
            };
            let (client, note, groups) = (client.clone(), note.clone(), groups.clone());
            yew::platform::spawn_local(async move {
                match client
                    .delete_enrollment_group(&dps, &id, now_ms() / 1000)
                    .await
                {
                    Ok(()) => {
                        groups.set(None);
                        note.set(Some(Outcome::Done(format!(
                            "Deleted enrollment group {id}."
                        ))));
                    }
                    Err(e) => note.set(Some(Outcome::Failed(e.to_string()))),
                }
            });
        })
    };

    let on_list = {
        let (service, client, note, groups) = (
            props.service.clone(),
            client.clone(),
            note.clone(),
            groups.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            let Some(dps) = service_or_say(&service, &note) else {
                return;
            };
            let (client, note, groups) = (client.clone(), note.clone(), groups.clone());
            note.set(Some(Outcome::Busy("Listing the enrollment groups…".into())));
            yew::platform::spawn_local(async move {
                match client.enrollment_groups(&dps, now_ms() / 1000).await {
                    Ok(list) => {
                        note.set(Some(Outcome::Done(format!(
                            "{} enrollment group{} on this DPS.",
                            list.len(),
                            if list.len() == 1 { "" } else { "s" }
                        ))));
                        groups.set(Some(list));
                    }
                    Err(e) => note.set(Some(Outcome::Failed(e.to_string()))),
                }
            });
        })
    };

    // The hub's one-click upload and proof of possession, on DPS.
    let on_prove = {
        let (arm, client, note, ca_name, primary) = (
            props.arm.clone(),
            client.clone(),
            proof_note.clone(),
            ca_name.clone(),
            primary.clone(),
        );
        let cas = props.cas.clone();
        Callback::from(move |_: MouseEvent| {
            if matches!(*note, Some(Outcome::Busy(_))) {
                return;
            }
            let fail = |m: String| note.set(Some(Outcome::Failed(m)));
            let Some((ca, _)) = chosen_ca(&primary, &cas).cloned() else {
                return fail("Proof of possession needs the CA's key: choose a CA made or imported on this page as the primary CA.".into());
            };
            let (arm, name) = match (arm.clone(), certificate_name(&ca_name)) {
                (Ok(a), Ok(n)) => (a, n),
                (Err(e), _) | (_, Err(e)) => return fail(e.to_string()),
            };
            let (client, note) = (client.clone(), note.clone());
            note.set(Some(Outcome::Busy(format!(
                "Uploading the CA to DPS as '{name}'…"
            ))));
            yew::platform::spawn_local(async move {
                let pem = ca.0.certificate().pem();
                let sha1 =
                    ca.0.certificate()
                        .info()
                        .map(|i| i.sha1.to_string())
                        .unwrap_or_default();
                let sign = |code: &VerificationCode| {
                    ca.0.issue_verification(
                        &VerificationCertParams {
                            code: code.clone(),
                            validity: ValidityDays::ONE_DAY,
                        },
                        crate::app::browser::now(),
                    )
                    .map(|v| v.certificate.pem())
                };
                let progress = {
                    let note = note.clone();
                    move |stage: PossessionStage| {
                        note.set(Some(Outcome::Busy(stage.label().into())))
                    }
                };
                match client
                    .upload_and_verify(&arm, &name, &pem, &sha1, false, sign, progress)
                    .await
                {
                    Ok(done) => note.set(Some(Outcome::Done(format!(
                        "'{name}' is on DPS and verified{}: an enrollment group may now refer to it.",
                        if done.adopted { " (it was already there)" } else { " (proof of possession)" }
                    )))),
                    Err(e) => note.set(Some(Outcome::Failed(e.to_string()))),
                }
            });
        })
    };

    let cas = props.cas.clone();
    let options = |selected: &str, none: Option<&str>| -> Html {
        html! {
            <>
                if let Some(label) = none { <option value="" selected={selected.is_empty()}>{label}</option> }
                { for cas.iter().enumerate().map(|(i, (_, issued))| {
                    let v = format!("ca-{i}");
                    html! { <option value={v.clone()} selected={selected == v}>{format!("{} · {}", issued.title, issued.info.subject)}</option> }
                }) }
                if none.is_none() { <option value="paste" selected={selected == "paste"}>{"Paste a CA certificate (PEM)"}</option> }
            </>
        }
    };
    let select = |state: &UseStateHandle<String>| {
        let state = state.clone();
        Callback::from(move |e: Event| {
            state.set(
                e.target_unchecked_into::<web_sys::HtmlSelectElement>()
                    .value(),
            )
        })
    };
    let on_enabled = {
        let enabled = enabled.clone();
        Callback::from(move |e: Event| {
            enabled.set(
                e.target_unchecked_into::<web_sys::HtmlInputElement>()
                    .checked(),
            )
        })
    };
    let mode = |value: bool| {
        let by_reference = by_reference.clone();
        Callback::from(move |_: Event| by_reference.set(value))
    };
    let az = &props.az;

    html! {
        <form class="card form" onsubmit={on_save} novalidate=true>
            <h3 class="sub">{"Enrollment group"}</h3>
            { attestation_choice("dps-group-attestation", &symmetric) }
            <div class="grid">
                <Field id="dps-group-id" label="Enrollment group id" value={(*group_id).clone()} oninput={set(&group_id)} hint="Letters, digits and - . _ : (at most 128)" />
                if !*symmetric {
                <div class="field">
                    <label for="dps-primary">{"Primary CA"}</label>
                    <select id="dps-primary" onchange={select(&primary_state)}>{ options(&primary, None) }</select>
                    <p class="hint">{"Devices whose chain reaches it may register"}</p>
                </div>
                if !*by_reference {
                    <div class="field">
                        <label for="dps-secondary">{"Secondary CA (rollover)"}</label>
                        <select id="dps-secondary" onchange={select(&secondary)}>{ options(&secondary, Some("None")) }</select>
                        <p class="hint">{"Put the next CA here while devices move to it"}</p>
                    </div>
                }
                }
            </div>
            if !*symmetric {
            if primary == "paste" && !*by_reference {
                <div class="field">
                    <label for="dps-pasted">{"CA certificate (PEM)"}</label>
                    <textarea id="dps-pasted" class="mono" rows="6" autocomplete="off" spellcheck="false" value={(*pasted).clone()} oninput={textarea_setter(&pasted)} placeholder="-----BEGIN CERTIFICATE-----" />
                </div>
            }
            <fieldset class="choice">
                <legend>{"How the group names its CA"}</legend>
                <label><input type="radio" id="dps-mode-signing" name="dps-mode" checked={!*by_reference} onchange={mode(false)} />{" Its certificate, in the group (no proof needed)"}</label>
                <label><input type="radio" id="dps-mode-reference" name="dps-mode" checked={*by_reference} onchange={mode(true)} />{" A CA certificate uploaded to DPS and proven there"}</label>
            </fieldset>
            if *by_reference {
                <div class="grid">
                    <Field id="dps-ca-name" label="CA certificate name on DPS" value={(*ca_name).clone()} oninput={set(&ca_name)} hint="Letters, digits, - . _ (at most 64)" />
                </div>
                <div class="actions">
                    <button type="button" class="secondary" id="dps-prove" onclick={on_prove}>{"Upload the primary CA to DPS and prove possession"}</button>
                </div>
                { outcome_view(&proof_note, "dps-proof-status") }
                <Command title="Same with the Azure CLI" command={az.certificate_create_and_verify(&ca_name, "root-ca.pem")} />
            }
            }
            <label class="check"><input type="checkbox" id="dps-enabled" checked={*enabled} onchange={on_enabled} />{" Enabled (devices may register)"}</label>
            <details class="help">
                <summary>{"Initial twin, reprovisioning, IoT Edge"}</summary>
                <div class="grid">
                    <div class="field">
                        <label for="dps-reprovision">{"When a device registers again"}</label>
                        <select id="dps-reprovision" onchange={select(&reprovision)}>
                            <option value="migrate" selected={*reprovision == "migrate"}>{"Re-provision and migrate its data (default)"}</option>
                            <option value="reset" selected={*reprovision == "reset"}>{"Re-provision and reset to the initial twin"}</option>
                            <option value="never" selected={*reprovision == "never"}>{"Never re-provision"}</option>
                        </select>
                    </div>
                </div>
                <div class="field">
                    <label for="dps-initial-twin">{"Initial twin (JSON, optional)"}</label>
                    <textarea autocomplete="off" id="dps-initial-twin" class="mono" rows="4" spellcheck="false" value={(*initial_twin).clone()} oninput={textarea_setter(&initial_twin)} placeholder="{\"tags\": {\"site\": \"plant-7\"}, \"properties\": {\"desired\": {\"interval\": 30}}}" />
                    <p class="hint">{"Set on a device's first assignment: tags and desired properties."}</p>
                </div>
                <label class="check"><input type="checkbox" id="dps-edge" checked={*iot_edge} onchange={{
                    let iot_edge = iot_edge.clone();
                    Callback::from(move |e: Event| iot_edge.set(e.target_unchecked_into::<web_sys::HtmlInputElement>().checked()))
                }} />{" IoT Edge devices"}</label>
            </details>
            if !*symmetric {
                <p class="hint">{"DPS only assigns: the hub it assigns to must trust the same CA (upload and verify it there too, step 3), or the device is refused when it connects."}</p>
            }
            <div class="actions">
                <button type="submit" class="primary" id="dps-save">{"Create or update the group"}</button>
                <button type="button" class="secondary" id="dps-list" onclick={on_list}>{"List groups"}</button>
                <button type="button" class={classes!("secondary", confirm_delete.then_some("danger"))} id="dps-delete" onclick={on_delete}>{"Delete"}</button>
            </div>
            { outcome_view(&note, "dps-status") }
            if let (true, Some(key)) = (*symmetric, &*group_key) {
                <SymmetricKeys id="dps-group" id_scope={props.id_scope.clone()} primary={AttrValue::from(key.clone())} registration_id={None::<AttrValue>} />
            }
            if let Some(list) = &*groups {
                <div class="table-wrap">
                    <table id="dps-groups">
                        <thead><tr><th scope="col">{"Group"}</th><th scope="col">{"Status"}</th><th scope="col">{"Trusts"}</th></tr></thead>
                        <tbody>
                            { for list.iter().map(|g| html! {
                                <tr>
                                    <td><code>{&g.enrollment_group_id}</code></td>
                                    <td><span class={classes!("badge", if g.is_enabled() { "ok" } else { "warn" })}>{if g.is_enabled() { "enabled" } else { "disabled" }}</span></td>
                                    <td>if g.attestation.is_symmetric_key() { {"Symmetric key"} }
                                        { for g.signing_entries().into_iter().map(|p| html! { <div>{subject(p)}</div> }) }
                                        { for g.ca_references().into_iter().map(|r| html! { <div>{format!("DPS certificate '{r}'")}</div> }) }</td>
                                </tr>
                            }) }
                        </tbody>
                    </table>
                </div>
            }
            if !*symmetric {
            <Command title="Same step with the Azure CLI" command={format!("{}{}", if *by_reference {
                az.enrollment_group_create_by_reference(&group_id, &ca_name, *enabled)
            } else {
                az.enrollment_group_create(&group_id, "root-ca.pem", (!secondary.is_empty()).then_some("next-ca.pem"), *enabled)
            }, AzDps::group_options(&reprovision, *iot_edge))} />
            }
        </form>
    }
}

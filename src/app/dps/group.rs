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
use crate::contract::{EnrollmentGroup, VerificationCode};
use crate::iothub::{
    certificate_name, dps_ca_limit_note, group_limit_note, Arm, AzDps, DpsService, HubClient,
    RestError,
};
use crate::iothub::{
    chosen_ca_index, effective_ca_choice, group_delete_confirm, groups_listed, proven_on_dps,
    saved_group_line, GroupForm, GroupTrust, PossessionStage,
};

mod parts;

use parts::{select, CaChoice, CaSource, GroupMore, GroupTable};

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
    chosen_ca_index(choice).and_then(|i| cas.get(i))
}

/// The form's typed state.
#[derive(Clone, PartialEq)]
pub(super) struct Form {
    group_id: UseStateHandle<String>,
    primary: String,
    primary_state: UseStateHandle<String>,
    secondary: UseStateHandle<String>,
    pasted: UseStateHandle<String>,
    enabled: UseStateHandle<bool>,
    by_reference: UseStateHandle<bool>,
    symmetric: UseStateHandle<bool>,
    iot_edge: UseStateHandle<bool>,
    initial_twin: UseStateHandle<String>,
    reprovision: UseStateHandle<String>,
    ca_name: UseStateHandle<String>,
}

impl Form {
    /// What the form says of the group, the page's CAs standing behind `ca-N`.
    fn read(&self, cas: &[(SharedCa, Rc<Issued>)]) -> GroupForm {
        let trust = if *self.symmetric {
            GroupTrust::SymmetricKey
        } else if *self.by_reference {
            GroupTrust::Reference((*self.ca_name).clone())
        } else {
            GroupTrust::Signing {
                primary: chosen_pem(&self.primary, cas, &self.pasted),
                pasted: self.primary == "paste",
                secondary: chosen_pem(&self.secondary, cas, ""),
            }
        };
        GroupForm {
            id: (*self.group_id).clone(),
            trust,
            enabled: *self.enabled,
            initial_twin: (*self.initial_twin).clone(),
            reprovision: (*self.reprovision).clone(),
            iot_edge: *self.iot_edge,
        }
    }
}

/// What the group's actions need, and where they report.
#[derive(Clone)]
struct GroupContext {
    service: Result<DpsService, RestError>,
    client: HubClient<Fetch>,
    note: UseStateHandle<Option<Outcome>>,
    groups: UseStateHandle<Option<Vec<EnrollmentGroup>>>,
    group_key: UseStateHandle<Option<String>>,
}

#[component]
pub(super) fn GroupCard(props: &GroupProps) -> Html {
    let primary_state = use_state(|| "ca-0".to_owned());
    let form = Form {
        group_id: use_state(|| "hubcert-fleet".to_owned()),
        // A CA of the page while there is one; the pasted PEM otherwise (and when chosen).
        primary: effective_ca_choice(&primary_state, props.cas.len()),
        primary_state,
        secondary: use_state(String::new),
        pasted: use_state(String::new),
        enabled: use_state(|| true),
        by_reference: use_state(|| false),
        symmetric: use_state(|| false),
        iot_edge: use_state(|| false),
        initial_twin: use_state(String::new),
        reprovision: use_state(|| "migrate".to_owned()),
        ca_name: use_state(|| "hubcert-root".to_owned()),
    };
    let ctx = GroupContext {
        service: props.service.clone(),
        client: HubClient::new(Fetch, props.localhub),
        note: use_state(|| None::<Outcome>),
        groups: use_state(|| None::<Vec<EnrollmentGroup>>),
        // The group's primary key as DPS answered the last save of a symmetric-key group.
        group_key: use_state(|| None::<String>),
    };
    let proof_note = use_state(|| None::<Outcome>);
    // Delete asks once, then deletes on the second click.
    let confirm_delete = use_state(|| false);

    let on_save = {
        let (ctx, form, cas) = (ctx.clone(), form.clone(), props.cas.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            ctx.save(&form.read(&cas), *form.symmetric);
        })
    };
    let on_delete = {
        let (ctx, group_id, confirm) = (ctx.clone(), form.group_id.clone(), confirm_delete.clone());
        Callback::from(move |_: MouseEvent| {
            let id = group_id.trim().to_owned();
            if !*confirm {
                confirm.set(true);
                return ctx.note.set(Some(Outcome::Busy(group_delete_confirm(&id))));
            }
            confirm.set(false);
            ctx.delete(id);
        })
    };
    let on_list = {
        let ctx = ctx.clone();
        Callback::from(move |_: MouseEvent| ctx.list())
    };
    let on_prove = prover(props, &ctx.client, &proof_note, &form);
    let checkbox = |state: &UseStateHandle<bool>| {
        let state = state.clone();
        Callback::from(move |e: Event| {
            state.set(
                e.target_unchecked_into::<web_sys::HtmlInputElement>()
                    .checked(),
            )
        })
    };
    let (az, symmetric, by_reference) = (&props.az, *form.symmetric, *form.by_reference);
    let Form {
        group_id,
        secondary,
        enabled,
        ca_name,
        reprovision,
        ..
    } = &form;
    let command = if by_reference {
        az.enrollment_group_create_by_reference(group_id, ca_name, **enabled)
    } else {
        az.enrollment_group_create(
            group_id,
            "root-ca.pem",
            (!secondary.is_empty()).then_some("next-ca.pem"),
            **enabled,
        )
    } + &AzDps::group_options(reprovision, *form.iot_edge);

    html! {
        <form class="card form" onsubmit={on_save} novalidate=true>
            <h3 class="sub">{"Enrollment group"}</h3>
            { attestation_choice("dps-group-attestation", &form.symmetric) }
            <div class="grid">
                <Field id="dps-group-id" label="Enrollment group id" value={(**group_id).clone()} oninput={set(group_id)} hint="Letters, digits and - . _ : (at most 128)" />
                if !symmetric { <CaChoice cas={props.cas.clone()} form={form.clone()} /> }
            </div>
            if !symmetric {
                <CaSource form={form.clone()} onprove={on_prove} note={(*proof_note).clone()}
                    command={az.certificate_create_and_verify(ca_name, "root-ca.pem")} />
            }
            <label class="check"><input type="checkbox" id="dps-enabled" checked={**enabled} onchange={checkbox(enabled)} />{" Enabled (devices may register)"}</label>
            <GroupMore reprovision={(**reprovision).clone()} onreprovision={select(reprovision)}
                initial_twin={(*form.initial_twin).clone()} ontwin={textarea_setter(&form.initial_twin)}
                iot_edge={*form.iot_edge} onedge={checkbox(&form.iot_edge)} />
            if !symmetric {
                <p class="hint">{"DPS only assigns: the hub it assigns to must trust the same CA (upload and verify it there too, step 3), or the device is refused when it connects."}</p>
            }
            <div class="actions">
                <button type="submit" class="primary" id="dps-save">{"Create or update the group"}</button>
                <button type="button" class="secondary" id="dps-list" onclick={on_list}>{"List groups"}</button>
                <button type="button" class={classes!("secondary", confirm_delete.then_some("danger"))} id="dps-delete" onclick={on_delete}>{"Delete"}</button>
            </div>
            { outcome_view(&ctx.note, "dps-status") }
            if let (true, Some(key)) = (symmetric, &*ctx.group_key) {
                <SymmetricKeys id="dps-group" id_scope={props.id_scope.clone()} primary={AttrValue::from(key.clone())} registration_id={None::<AttrValue>} />
            }
            if let Some(list) = &*ctx.groups { <GroupTable list={list.clone()} /> }
            if !symmetric { <Command title="Same step with the Azure CLI" {command} /> }
        </form>
    }
}

impl GroupContext {
    fn busy(&self) -> bool {
        matches!(*self.note, Some(Outcome::Busy(_)))
    }

    /// "Create or update the group".
    fn save(&self, form: &GroupForm, symmetric: bool) {
        if self.busy() {
            return;
        }
        let group = match form.group() {
            Ok(g) => g,
            Err(m) => return self.note.set(Some(Outcome::Failed(m))),
        };
        let Some(dps) = service_or_say(&self.service, &self.note) else {
            return;
        };
        let id = group.enrollment_group_id.clone();
        self.note.set(Some(Outcome::Busy(format!(
            "Saving enrollment group {id}…"
        ))));
        let ctx = self.clone();
        yew::platform::spawn_local(async move {
            let mut group = group;
            // A new group past the published limit is sent anyway (Microsoft may have raised
            // it) and the limit said beside the outcome.
            let limit = match ctx.client.enrollment_groups(&dps, now_ms() / 1000).await {
                Ok(groups) => group_limit_note(&groups, &group),
                Err(_) => None,
            };
            let with_limit = |text: String| match &limit {
                Some(note) => format!("{text} {note}"),
                None => text,
            };
            if symmetric {
                match held_attestation(&ctx.client, &dps, &id, true).await {
                    Ok(held) => DpsService::keep_held_keys(&mut group.attestation, held.as_ref()),
                    Err(e) => return ctx.note.set(Some(Outcome::Failed(e.to_string()))),
                }
            }
            match ctx
                .client
                .save_enrollment_group(&dps, &group, now_ms() / 1000)
                .await
            {
                Ok(saved) => {
                    let keys = saved.item.attestation.symmetric_keys();
                    ctx.group_key.set(keys.first().map(|k| (*k).to_owned()));
                    ctx.note
                        .set(Some(Outcome::Done(with_limit(saved_group_line(&saved)))));
                    ctx.groups.set(None);
                }
                Err(e) => ctx
                    .note
                    .set(Some(Outcome::Failed(with_limit(e.to_string())))),
            }
        });
    }

    /// Deletes group `id` (asked once already).
    fn delete(&self, id: String) {
        let Some(dps) = service_or_say(&self.service, &self.note) else {
            return;
        };
        let ctx = self.clone();
        yew::platform::spawn_local(async move {
            match ctx
                .client
                .delete_enrollment_group(&dps, &id, now_ms() / 1000)
                .await
            {
                Ok(()) => {
                    ctx.groups.set(None);
                    ctx.note.set(Some(Outcome::Done(format!(
                        "Deleted enrollment group {id}."
                    ))));
                }
                Err(e) => ctx.note.set(Some(Outcome::Failed(e.to_string()))),
            }
        });
    }

    /// "List groups".
    fn list(&self) {
        let Some(dps) = service_or_say(&self.service, &self.note) else {
            return;
        };
        self.note
            .set(Some(Outcome::Busy("Listing the enrollment groups…".into())));
        let ctx = self.clone();
        yew::platform::spawn_local(async move {
            match ctx.client.enrollment_groups(&dps, now_ms() / 1000).await {
                Ok(list) => {
                    ctx.note.set(Some(Outcome::Done(groups_listed(list.len()))));
                    ctx.groups.set(Some(list));
                }
                Err(e) => ctx.note.set(Some(Outcome::Failed(e.to_string()))),
            }
        });
    }
}

/// The hub's one-click upload and proof of possession, on DPS, for the primary CA.
fn prover(
    props: &GroupProps,
    client: &HubClient<Fetch>,
    note: &UseStateHandle<Option<Outcome>>,
    form: &Form,
) -> Callback<MouseEvent> {
    let (arm, client, note, ca_name, primary) = (
        props.arm.clone(),
        client.clone(),
        note.clone(),
        form.ca_name.clone(),
        form.primary.clone(),
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
            let sha1 = ca.0.certificate().sha1_thumbprint().to_string();
            let sign = |code: VerificationCode| async move {
                crate::app::webcrypto::verification_pem(&ca.0, code).await
            };
            let progress =
                |stage: PossessionStage| note.set(Some(Outcome::Busy(stage.label().into())));
            // A new CA past the published limit is sent anyway and the limit said with the outcome.
            let limit = match client.certificates(&arm).await {
                Ok(on_dps) => {
                    let names: Vec<String> = on_dps.into_iter().map(|c| c.name).collect();
                    dps_ca_limit_note(&names, &name)
                }
                Err(_) => None,
            };
            let with_limit = |text: String| match &limit {
                Some(n) => format!("{text} {n}"),
                None => text,
            };
            match client
                .upload_and_verify(&arm, &name, &pem, &sha1, false, sign, progress)
                .await
            {
                Ok(done) => note.set(Some(Outcome::Done(with_limit(proven_on_dps(
                    &name,
                    done.adopted,
                ))))),
                Err(e) => note.set(Some(Outcome::Failed(with_limit(e.to_string())))),
            }
        });
    })
}

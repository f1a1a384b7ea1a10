//! An individual enrollment: one device of the page by its own certificate (DPS then registers it
//! in the hub as a thumbprint device), with a renewed certificate as the secondary while the
//! device moves to it; and a device's registration state as DPS keeps it.

use std::rc::Rc;

use yew::prelude::*;

use super::run::now_ms;
use super::symkey::{attestation_choice, held_attestation, SymmetricKeys};
use super::{service_or_say, set};
use crate::app::command::Command;
use crate::app::fetch::Fetch;
use crate::app::field::Field;
use crate::app::outcome::{outcome_view, Outcome};
use crate::app::state::{issued_all_for, Issued};
use crate::contract::DeviceId;
use crate::iothub::{
    blocked_on_dps, cannot_block, individual_deleted, individual_enrollment_of,
    individual_enrollment_to_save, individual_saved_line, registration_state_line, AzDps,
    DpsService, HubClient, RestError,
};

#[derive(Properties, PartialEq)]
pub(super) struct IndividualProps {
    pub(super) service: Result<DpsService, RestError>,
    pub(super) devices: Rc<Vec<Rc<Issued>>>,
    pub(super) localhub: bool,
    pub(super) az: AzDps,
    pub(super) id_scope: AttrValue,
}

/// The page's device certificates (PEM) for registration id `id`, newest first (at most two: the
/// primary and the one before).
fn certificates_of(devices: &[Rc<Issued>], id: &str) -> Vec<String> {
    let Ok(id) = DeviceId::parse(id) else {
        return Vec::new();
    };
    issued_all_for(devices, &id)
        .map(|d| d.certificate.pem())
        .take(2)
        .collect()
}

/// What the card's actions need, and where they report.
#[derive(Clone)]
struct EnrollContext {
    service: Result<DpsService, RestError>,
    client: HubClient<Fetch>,
    devices: Rc<Vec<Rc<Issued>>>,
    note: UseStateHandle<Option<Outcome>>,
    /// The enrollment's primary key as DPS answered its last symmetric-key save, with its id.
    answered: UseStateHandle<Option<(String, String)>>,
}

#[component]
pub(super) fn IndividualCard(props: &IndividualProps) -> Html {
    let registration_id = use_state(String::new);
    let symmetric = use_state(|| false);
    let ctx = EnrollContext {
        service: props.service.clone(),
        client: HubClient::new(Fetch, props.localhub),
        devices: props.devices.clone(),
        note: use_state(|| None::<Outcome>),
        answered: use_state(|| None::<(String, String)>),
    };
    let action = |act: fn(&EnrollContext, String)| {
        let (ctx, registration_id) = (ctx.clone(), registration_id.clone());
        Callback::from(move |_: MouseEvent| act(&ctx, registration_id.trim().to_owned()))
    };
    let on_enroll = {
        let (ctx, registration_id, symmetric) = (ctx.clone(), registration_id.clone(), *symmetric);
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            ctx.enroll(registration_id.trim().to_owned(), symmetric);
        })
    };
    let ids: Vec<String> = {
        let mut ids: Vec<String> = props
            .devices
            .iter()
            .filter_map(|d| d.device_id.as_ref().map(|id| id.as_str().to_owned()))
            .collect();
        ids.dedup();
        ids
    };

    html! {
        <form class="card form" onsubmit={on_enroll} novalidate=true>
            <h3 class="sub">{"Individual enrollment and registration state"}</h3>
            { attestation_choice("dps-individual-attestation", &symmetric) }
            <p class="hint">{"For one device by its own certificate (no CA needed in DPS or the hub): DPS registers it by thumbprint. Issue a renewed certificate with the same id in step 4 and enroll again: the newest becomes the primary, the one before stays as the secondary until the device has moved."}</p>
            <div class="grid">
                <Field id="dps-individual-id" label="Registration id (device id)" value={(*registration_id).clone()} oninput={set(&registration_id)}
                    hint={if ids.is_empty() { "A device issued on this page".to_owned() } else { format!("Issued here: {}", ids.iter().take(3).cloned().collect::<Vec<_>>().join(", ")) }} />
            </div>
            <div class="actions">
                <button type="submit" class="primary" id="dps-individual-save">{"Enroll this device"}</button>
                <button type="button" class="secondary" id="dps-state" onclick={action(EnrollContext::state)}>{"Show its registration state"}</button>
                <button type="button" class="secondary" id="dps-individual-delete" onclick={action(EnrollContext::delete)}>{"Delete its enrollment"}</button>
                <button type="button" class="secondary" id="dps-individual-block" onclick={action(EnrollContext::block)} title="A disabled individual enrollment keeps the device out, even when a group's CA signed it">{"Block it on DPS (revoke)"}</button>
            </div>
            { outcome_view(&ctx.note, "dps-individual-status") }
            if let (true, Some((id, key))) = (*symmetric, &*ctx.answered) {
                <SymmetricKeys id="dps-individual" id_scope={props.id_scope.clone()} primary={AttrValue::from(key.clone())} registration_id={Some(AttrValue::from(id.clone()))} />
            }
            <Command title="Same step with the Azure CLI" command={props.az.individual_create(if registration_id.is_empty() { "DEVICE" } else { &registration_id })} />
        </form>
    }
}

impl EnrollContext {
    fn say(&self, outcome: Outcome) {
        self.note.set(Some(outcome));
    }

    /// "Enroll this device": by its certificates on the page, or by symmetric key.
    fn enroll(&self, id: String, symmetric: bool) {
        let certificates = certificates_of(&self.devices, &id);
        let enrollment = match individual_enrollment_to_save(&id, &certificates, symmetric) {
            Ok(e) => e,
            Err(m) => return self.say(Outcome::Failed(m)),
        };
        let Some(dps) = service_or_say(&self.service, &self.note) else {
            return;
        };
        self.say(Outcome::Busy(format!("Enrolling {id}…")));
        let ctx = self.clone();
        yew::platform::spawn_local(async move {
            let mut enrollment = enrollment;
            if symmetric {
                match held_attestation(&ctx.client, &dps, &id, false).await {
                    Ok(held) => {
                        DpsService::keep_held_keys(&mut enrollment.attestation, held.as_ref())
                    }
                    Err(e) => return ctx.say(Outcome::Failed(e.to_string())),
                }
            }
            match ctx
                .client
                .save_enrollment(&dps, &enrollment, now_ms() / 1000)
                .await
            {
                Ok(saved) => {
                    let keys = saved.item.attestation.symmetric_keys();
                    let key = keys.first().map(|k| (*k).to_owned());
                    ctx.answered
                        .set(key.map(|k| (saved.item.registration_id.clone(), k)));
                    ctx.say(Outcome::Done(individual_saved_line(
                        &saved.item,
                        saved.replaced,
                    )));
                }
                Err(e) => ctx.say(Outcome::Failed(e.to_string())),
            }
        });
    }

    /// "Show its registration state".
    fn state(&self, id: String) {
        let Some(dps) = service_or_say(&self.service, &self.note) else {
            return;
        };
        self.say(Outcome::Busy(format!("Reading {id}'s registration…")));
        let ctx = self.clone();
        yew::platform::spawn_local(async move {
            let read = ctx
                .client
                .registration_state(&dps, &id, now_ms() / 1000)
                .await;
            let (ok, line) = registration_state_line(&id, read);
            ctx.say(if ok {
                Outcome::Done(line)
            } else {
                Outcome::Failed(line)
            });
        });
    }

    /// "Delete its enrollment".
    fn delete(&self, id: String) {
        let Some(dps) = service_or_say(&self.service, &self.note) else {
            return;
        };
        let ctx = self.clone();
        yew::platform::spawn_local(async move {
            ctx.say(
                match ctx
                    .client
                    .delete_enrollment(&dps, &id, now_ms() / 1000)
                    .await
                {
                    Ok(()) => Outcome::Done(individual_deleted(&id)),
                    Err(e) => Outcome::Failed(e.to_string()),
                },
            );
        });
    }

    /// "Block it on DPS": DPS's documented way to keep one device of an enrollment group out, a
    /// disabled individual enrollment for its certificate (individual enrollments come before
    /// groups).
    fn block(&self, id: String) {
        let certificates = certificates_of(&self.devices, &id);
        let Some(mut enrollment) = individual_enrollment_of(&id, &certificates) else {
            return self.say(Outcome::Failed(cannot_block(&id)));
        };
        enrollment.provisioning_status = Some("disabled".to_owned());
        let Some(dps) = service_or_say(&self.service, &self.note) else {
            return;
        };
        self.say(Outcome::Busy(format!("Blocking {id} on DPS…")));
        let ctx = self.clone();
        yew::platform::spawn_local(async move {
            ctx.say(
                match ctx
                    .client
                    .save_enrollment(&dps, &enrollment, now_ms() / 1000)
                    .await
                {
                    Ok(_) => Outcome::Done(blocked_on_dps(&id)),
                    Err(e) => Outcome::Failed(e.to_string()),
                },
            );
        });
    }
}

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
use crate::app::state::Issued;
use crate::contract::{EnrollmentId, IndividualEnrollment, RegistrationStatus};
use crate::iothub::{AzDps, DpsService, HubClient, RestError};

#[derive(Properties, PartialEq)]
pub(super) struct IndividualProps {
    pub(super) service: Result<DpsService, RestError>,
    pub(super) devices: Rc<Vec<Rc<Issued>>>,
    pub(super) localhub: bool,
    pub(super) az: AzDps,
    pub(super) id_scope: AttrValue,
}

/// The individual enrollment of `id` with the page's certificates for it: the newest is the one
/// the device should use, the one before stays accepted as the secondary while it changes over.
/// `None` when the page issued no certificate with that CN.
fn enrollment_of(devices: &[Rc<Issued>], id: &str) -> Option<IndividualEnrollment> {
    let certs: Vec<String> = devices
        .iter()
        .filter(|d| d.info.common_name.as_deref() == Some(id))
        .map(|d| d.certificate.pem())
        .take(2)
        .collect();
    let primary = certs.first()?;
    Some(IndividualEnrollment::x509_client(
        id,
        primary,
        certs.get(1).map(String::as_str),
    ))
}

/// The enrollment a save writes: by symmetric key (DPS makes the keys), or by the page's
/// certificates of `id`.
fn enrollment_to_save(
    devices: &[Rc<Issued>],
    id: &str,
    symmetric: bool,
) -> Result<IndividualEnrollment, String> {
    if symmetric {
        EnrollmentId::parse(id).map_err(|e| format!("Registration id: {e}"))?;
        return Ok(IndividualEnrollment::symmetric_key(id, None, None));
    }
    enrollment_of(devices, id).ok_or_else(|| format!(
        "No device certificate with CN '{id}' was issued on this page: issue it in step 4 (an individual enrollment holds the device's own certificate), or choose a symmetric key."
    ))
}

fn saved_line(e: &IndividualEnrollment, replaced: bool) -> String {
    let done = if replaced { "Updated" } else { "Created" };
    if e.attestation.is_symmetric_key() {
        return format!(
            "{done} individual enrollment {} by symmetric key: the device signs its registration with the key below.",
            e.registration_id
        );
    }
    let n = e.client_entries().len();
    format!(
        "{done} individual enrollment {} with {n} certificate{}: DPS registers it in the hub by thumbprint.",
        e.registration_id,
        if n == 1 { "" } else { "s (the newest as primary)" },
    )
}

#[component]
pub(super) fn IndividualCard(props: &IndividualProps) -> Html {
    let registration_id = use_state(String::new);
    let note = use_state(|| None::<Outcome>);
    let symmetric = use_state(|| false);
    // The enrollment's primary key as DPS answered its last symmetric-key save, with its id.
    let answered = use_state(|| None::<(String, String)>);
    let client = HubClient::new(Fetch, props.localhub);

    let on_enroll = {
        let (symmetric, answered) = (*symmetric, answered.clone());
        let (service, client, note, registration_id) = (
            props.service.clone(),
            client.clone(),
            note.clone(),
            registration_id.clone(),
        );
        let devices = props.devices.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let id = registration_id.trim().to_owned();
            let enrollment = match enrollment_to_save(&devices, &id, symmetric) {
                Ok(e) => e,
                Err(m) => return note.set(Some(Outcome::Failed(m))),
            };
            let Some(dps) = service_or_say(&service, &note) else {
                return;
            };
            let (client, note, answered) = (client.clone(), note.clone(), answered.clone());
            note.set(Some(Outcome::Busy(format!("Enrolling {id}…"))));
            yew::platform::spawn_local(async move {
                let mut enrollment = enrollment;
                if symmetric {
                    match held_attestation(&client, &dps, &id, false).await {
                        Ok(held) => {
                            DpsService::keep_held_keys(&mut enrollment.attestation, held.as_ref())
                        }
                        Err(e) => return note.set(Some(Outcome::Failed(e.to_string()))),
                    }
                }
                match client
                    .save_enrollment(&dps, &enrollment, now_ms() / 1000)
                    .await
                {
                    Ok(saved) => {
                        let key = saved
                            .item
                            .attestation
                            .symmetric_keys()
                            .first()
                            .map(|k| (*k).to_owned());
                        answered.set(key.map(|k| (saved.item.registration_id.clone(), k)));
                        note.set(Some(Outcome::Done(saved_line(&saved.item, saved.replaced))));
                    }
                    Err(e) => note.set(Some(Outcome::Failed(e.to_string()))),
                }
            });
        })
    };

    let on_state = {
        let (service, client, note, registration_id) = (
            props.service.clone(),
            client.clone(),
            note.clone(),
            registration_id.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            let id = registration_id.trim().to_owned();
            let Some(dps) = service_or_say(&service, &note) else {
                return;
            };
            let (client, note) = (client.clone(), note.clone());
            note.set(Some(Outcome::Busy(format!("Reading {id}'s registration…"))));
            yew::platform::spawn_local(async move {
                note.set(Some(
                    match client.registration_state(&dps, &id, now_ms() / 1000).await {
                        Ok(s) => {
                            let when = s.last_updated_date_time_utc.unwrap_or_default();
                            match s.status {
                                Some(RegistrationStatus::Assigned) => Outcome::Done(format!(
                                    "{id}: assigned to {} as {} (last registered {when}).",
                                    s.assigned_hub.unwrap_or_default(),
                                    s.device_id.unwrap_or_default()
                                )),
                                other => Outcome::Failed(format!(
                                    "{id}: {} ({}; {when}).",
                                    other.map(|o| format!("{o:?}").to_lowercase()).unwrap_or_else(|| "no status".into()),
                                    s.error_message.unwrap_or_else(|| "no message".into())
                                )),
                            }
                        }
                        Err(RestError::Status { status: 404, .. }) => Outcome::Failed(format!(
                            "{id} has not registered with this DPS yet (or its registration was deleted)."
                        )),
                        Err(e) => Outcome::Failed(e.to_string()),
                    },
                ));
            });
        })
    };

    let on_delete = {
        let (service, client, note, registration_id) = (
            props.service.clone(),
            client.clone(),
            note.clone(),
            registration_id.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            let id = registration_id.trim().to_owned();
            let Some(dps) = service_or_say(&service, &note) else {
                return;
            };
            let (client, note) = (client.clone(), note.clone());
            yew::platform::spawn_local(async move {
                note.set(Some(match client.delete_enrollment(&dps, &id, now_ms() / 1000).await {
                    Ok(()) => Outcome::Done(format!(
                        "Deleted {id}'s enrollment: it can no longer register (if a group's CA signed it, that group still admits it)."
                    )),
                    Err(e) => Outcome::Failed(e.to_string()),
                }));
            });
        })
    };

    // DPS's documented way to keep one device of an enrollment group out: a disabled individual
    // enrollment for its certificate (individual enrollments come before groups).
    let on_block = {
        let (service, client, note, registration_id) = (
            props.service.clone(),
            client.clone(),
            note.clone(),
            registration_id.clone(),
        );
        let devices = props.devices.clone();
        Callback::from(move |_: MouseEvent| {
            let id = registration_id.trim().to_owned();
            let Some(mut enrollment) = enrollment_of(&devices, &id) else {
                return note.set(Some(Outcome::Failed(format!(
                    "No device certificate with CN '{id}' was issued on this page: DPS blocks a device by its own certificate."
                ))));
            };
            enrollment.provisioning_status = Some("disabled".to_owned());
            let Some(dps) = service_or_say(&service, &note) else {
                return;
            };
            let (client, note) = (client.clone(), note.clone());
            note.set(Some(Outcome::Busy(format!("Blocking {id} on DPS…"))));
            yew::platform::spawn_local(async move {
                note.set(Some(match client.save_enrollment(&dps, &enrollment, now_ms() / 1000).await {
                    Ok(_) => Outcome::Done(format!(
                        "{id} is blocked on DPS: a disabled individual enrollment holds its certificate, so it can no longer register, even through a group. Disable it in the hub too (step 5) to stop its connections."
                    )),
                    Err(e) => Outcome::Failed(e.to_string()),
                }));
            });
        })
    };

    let ids: Vec<String> = {
        let mut ids: Vec<String> = props
            .devices
            .iter()
            .filter_map(|d| d.info.common_name.clone())
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
                <button type="button" class="secondary" id="dps-state" onclick={on_state}>{"Show its registration state"}</button>
                <button type="button" class="secondary" id="dps-individual-delete" onclick={on_delete}>{"Delete its enrollment"}</button>
                <button type="button" class="secondary" id="dps-individual-block" onclick={on_block} title="A disabled individual enrollment keeps the device out, even when a group's CA signed it">{"Block it on DPS (revoke)"}</button>
            </div>
            { outcome_view(&note, "dps-individual-status") }
            if let (true, Some((id, key))) = (*symmetric, &*answered) {
                <SymmetricKeys id="dps-individual" id_scope={props.id_scope.clone()} primary={AttrValue::from(key.clone())} registration_id={Some(AttrValue::from(id.clone()))} />
            }
            <Command title="Same step with the Azure CLI" command={props.az.individual_create(if registration_id.is_empty() { "DEVICE" } else { &registration_id })} />
        </form>
    }
}

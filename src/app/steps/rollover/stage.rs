//! The rollover's actions on the hub, DPS and the page, one per stage of the plan.

use super::*;
use crate::app::state::issued_for;
use crate::contract::DeviceId;

/// Takes the action of `r`'s stage; what it reports, or why it stopped.
pub(super) async fn take_step(
    ctx: &StepContext,
    s: &HubSettings,
    r: &CaRollover,
    new_ca: &SharedCa,
    new_name: &str,
    devices_now: &mut Vec<Rc<Issued>>,
) -> Result<String, String> {
    match r.stage {
        CaRolloverStage::UploadNew => upload_new(ctx, s, new_ca, new_name).await,
        CaRolloverStage::AddToGroups => add_to_groups(ctx, s, r, new_ca).await,
        CaRolloverStage::Reissue => reissue(ctx, r, new_ca, devices_now).await,
        CaRolloverStage::RetireOld => retire_old(ctx, s, r, new_ca).await,
        CaRolloverStage::ProvisionAgain | CaRolloverStage::Done => Ok(String::new()),
    }
}

fn now() -> u64 {
    browser::now().unix_timestamp().max(0) as u64
}

async fn upload_new(
    ctx: &StepContext,
    s: &HubSettings,
    new_ca: &SharedCa,
    new_name: &str,
) -> Result<String, String> {
    let pem = new_ca.0.certificate().pem();
    let sha1 = new_ca.0.certificate().sha1_thumbprint().as_str().to_owned();
    let sign = |code: VerificationCode| {
        std::future::ready(
            new_ca
                .0
                .issue_verification(
                    &VerificationCertParams {
                        code,
                        validity: ValidityDays::ONE_DAY,
                    },
                    browser::now(),
                )
                .map(|id| id.certificate.pem()),
        )
    };
    let progress = |stage: crate::iothub::PossessionStage| ctx.busy(stage.label().into());
    let arm = s.arm().map_err(|e| e.to_string())?;
    let name = certificate_name(new_name).map_err(|e| e.to_string())?;
    client(s)
        .upload_and_verify(&arm, &name, &pem, &sha1, false, sign, progress)
        .await
        .map(|_| uploaded_note(&name))
        .map_err(|e| e.to_string())
}

async fn add_to_groups(
    ctx: &StepContext,
    s: &HubSettings,
    r: &CaRollover,
    new_ca: &SharedCa,
) -> Result<String, String> {
    let (hub, pem) = (client(s), new_ca.0.certificate().pem());
    let mut said = Vec::new();
    let svc = s.dps_service();
    for id in &r.groups_old_only {
        ctx.busy(format!("Adding the new CA to group '{id}'…"));
        let svc = svc.as_ref().map_err(|e| e.to_string())?;
        let g = hub
            .enrollment_group(svc, id, now())
            .await
            .map_err(|e| e.to_string())?;
        let both = with_new_ca(&g, &pem, r.new_on_dps.first().map(String::as_str))
            .map_err(|e| format!("group '{id}': {e}"))?;
        hub.save_enrollment_group(svc, &both, now())
            .await
            .map_err(|e| e.to_string())?;
        said.push(id.clone());
    }
    Ok(groups_added_note(&said))
}

async fn reissue(
    ctx: &StepContext,
    r: &CaRollover,
    new_ca: &SharedCa,
    devices_now: &mut Vec<Rc<Issued>>,
) -> Result<String, String> {
    let mut cards = Vec::new();
    let validity = ValidityDays::new(365).unwrap_or(ValidityDays::ONE_DAY);
    for id in &r.devices_on_old {
        ctx.busy(format!("Re-issuing {id} under the new CA…"));
        let Some(old) = DeviceId::parse(id)
            .ok()
            .and_then(|id| issued_for(&ctx.devices, &id))
        else {
            continue;
        };
        let card = renew_one(new_ca, old, true, KeyAlgorithm::EcdsaP256, validity)
            .await
            .map_err(|e| format!("{id}: {e}"))?;
        cards.push(card);
        browser::yield_now().await;
    }
    let zip = renewed_zip(&cards)?;
    let n = cards.len();
    ctx.zip.set(Some(zip));
    devices_now.splice(0..0, cards.iter().cloned());
    ctx.onrenewed.emit(cards);
    Ok(reissued_note(n))
}

async fn retire_old(
    ctx: &StepContext,
    s: &HubSettings,
    r: &CaRollover,
    new_ca: &SharedCa,
) -> Result<String, String> {
    let (hub, pem) = (client(s), new_ca.0.certificate().pem());
    if let Ok(svc) = s.dps_service() {
        for id in &r.groups_both {
            ctx.busy(format!("Group '{id}' trusts only the new CA…"));
            let g = hub
                .enrollment_group(&svc, id, now())
                .await
                .map_err(|e| e.to_string())?;
            let only = only_new_ca(&g, &pem, r.new_on_dps.first().map(String::as_str))
                .map_err(|e| format!("group '{id}': {e}"))?;
            hub.save_enrollment_group(&svc, &only, now())
                .await
                .map_err(|e| e.to_string())?;
        }
    }
    let arm = s.arm().map_err(|e| e.to_string())?;
    for name in &r.old_on_hub {
        ctx.busy(format!("Deleting '{name}' from the hub…"));
        hub.delete_certificate(&arm, name)
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(RETIRED_NOTE.into())
}

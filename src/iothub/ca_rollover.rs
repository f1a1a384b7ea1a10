//! Rolling a fleet from one CA to another without a refused connection: the new CA verified on
//! the hub beside the old (only where devices are registered in the hub as CA-signed), added to
//! DPS's groups as their secondary, the devices re-issued under it, the DPS devices provisioned
//! again with their new certificates (DPS pins each device's certificate in the hub by
//! thumbprint: [`super::HubPath`]), then the old one retired. Where a rollover stands is read each
//! time from the hub, DPS and the page, so it resumes after a reload at the step it reached.

use crate::contract::{AuthKind, EnrollmentGroup, RegisteredThumbprint};
use crate::pki::{is_signed_by, Certificate};

use super::revoke::group_signing_sha1;
use super::{HubCertificate, HubDevice, HubPath};

/// The next thing a rollover needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaRolloverStage {
    /// Upload the new CA to the hub and prove possession (devices registered in the hub as
    /// CA-signed need it; DPS devices do not).
    UploadNew,
    /// Add the new CA to the DPS groups that trust the old one (as their secondary).
    AddToGroups,
    /// Re-issue the devices still on the old CA under the new one.
    Reissue,
    /// The DPS devices re-issued under the new CA provision again with their new certificates:
    /// until they do, the hub holds each pinned to its old certificate.
    ProvisionAgain,
    /// Retire the old CA: delete it from the hub, make the new one the groups' only CA.
    RetireOld,
    /// Nothing of the old CA is left in use.
    Done,
}

/// Where a rollover from `old` to `new` stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaRollover {
    /// The hub's verified certificates of the new CA.
    pub new_on_hub: Vec<String>,
    /// The hub's certificates of the old CA (verified or not).
    pub old_on_hub: Vec<String>,
    /// DPS groups trusting the old CA but not the new.
    pub groups_old_only: Vec<String>,
    /// DPS groups trusting both (the overlap).
    pub groups_both: Vec<String>,
    /// DPS groups trusting the new CA only.
    pub groups_new_only: Vec<String>,
    /// DPS's certificates of the new CA (for groups that refer to CAs by name).
    pub new_on_dps: Vec<String>,
    /// Device ids whose newest certificate on the page is signed by the old CA.
    pub devices_on_old: Vec<String>,
    /// Device ids whose newest certificate on the page is signed by the new CA.
    pub devices_on_new: Vec<String>,
    /// Of `devices_on_new`, the DPS devices the hub still pins to another certificate: they must
    /// provision again with the new one.
    pub to_provision_again: Vec<String>,
    /// Whether the hub itself must trust the new CA: some device is registered there as
    /// CA-signed (or, with no device read from the hub, the old CA is on the hub).
    pub hub_needs_new: bool,
    /// What comes next.
    pub stage: CaRolloverStage,
}

/// What the services and the page hold, for [`plan_ca_rollover`].
pub struct CaRolloverInputs<'a> {
    /// The CA being retired.
    pub old: &'a Certificate,
    /// The CA taking over.
    pub new: &'a Certificate,
    /// The hub's CA certificates.
    pub hub: &'a [HubCertificate],
    /// DPS's CA certificates (empty without DPS).
    pub dps: &'a [HubCertificate],
    /// DPS's enrollment groups (empty without DPS).
    pub groups: &'a [EnrollmentGroup],
    /// The page's device certificates with their ids, newest first.
    pub devices: &'a [(String, Certificate)],
    /// The hub's records of the page's devices, where read (empty when not).
    pub hub_devices: &'a [HubDevice],
    /// Registration ids DPS reports assigned, where read (empty when not).
    pub dps_assigned: &'a [String],
}

/// Reads where the rollover stands and what comes next.
pub fn plan_ca_rollover(inputs: &CaRolloverInputs<'_>) -> CaRollover {
    let sha1 = |c: &Certificate| c.sha1_thumbprint().as_str().to_owned();
    let (old, new) = (sha1(inputs.old), sha1(inputs.new));
    let names = |list: &[HubCertificate], t: &str, verified_only: bool| -> Vec<String> {
        list.iter()
            .filter(|c| c.thumbprint.eq_ignore_ascii_case(t) && (c.is_verified || !verified_only))
            .map(|c| c.name.clone())
            .collect()
    };
    let new_on_hub = names(inputs.hub, &new, true);
    let old_on_hub = names(inputs.hub, &old, false);
    let old_on_dps = names(inputs.dps, &old, false);
    let new_on_dps = names(inputs.dps, &new, false);
    let (mut groups_old_only, mut groups_both, mut groups_new_only) = (vec![], vec![], vec![]);
    for g in inputs.groups {
        let signing = group_signing_sha1(g);
        let refs = g.ca_references();
        let trusts = |t: &str, on_dps: &[String]| {
            signing.iter().any(|s| s.eq_ignore_ascii_case(t))
                || refs.iter().any(|r| on_dps.iter().any(|n| n == r))
        };
        let id = g.enrollment_group_id.clone();
        match (trusts(&old, &old_on_dps), trusts(&new, &new_on_dps)) {
            (true, false) => groups_old_only.push(id),
            (true, true) => groups_both.push(id),
            (false, true) => groups_new_only.push(id),
            (false, false) => {}
        }
    }
    let mut seen = std::collections::HashSet::new();
    let (mut devices_on_old, mut devices_on_new) = (vec![], vec![]);
    for (id, cert) in inputs.devices {
        if !seen.insert(id.as_str()) {
            continue;
        }
        if is_signed_by(cert, inputs.new).unwrap_or(false) {
            devices_on_new.push(id.clone());
        } else if is_signed_by(cert, inputs.old).unwrap_or(false) {
            devices_on_old.push(id.clone());
        }
    }
    let record = |id: &str| inputs.hub_devices.iter().find(|d| d.device_id == id);
    let path = |id: &str| {
        HubPath::read_assigned(
            record(id).map(|d| &d.auth_type),
            inputs.dps_assigned.iter().any(|a| a == id),
        )
    };
    let ca_signed = inputs
        .devices
        .iter()
        .any(|(id, _)| path(id).is_some_and(|p| p.trusted_through_hub_ca()));
    let hub_needs_new = ca_signed || (inputs.hub_devices.is_empty() && !old_on_hub.is_empty());
    let newest = |id: &str| inputs.devices.iter().find(|(i, _)| i == id).map(|(_, c)| c);
    let to_provision_again: Vec<String> = devices_on_new
        .iter()
        .filter(|id| path(id) == Some(HubPath::Provisioned))
        .filter(|id| {
            let (Some(d), Some(cert)) = (record(id), newest(id)) else {
                return false;
            };
            let Ok(info) = cert.info() else { return false };
            let pins = |t: &Option<String>| {
                t.as_deref()
                    .and_then(|t| RegisteredThumbprint::parse(t).ok())
                    .is_some_and(|t| t.matches(info.sha1.as_str(), info.sha256.as_str()))
            };
            d.auth_type == AuthKind::SelfSigned
                && !pins(&d.primary_thumbprint)
                && !pins(&d.secondary_thumbprint)
        })
        .cloned()
        .collect();
    let stage = if hub_needs_new && new_on_hub.is_empty() {
        CaRolloverStage::UploadNew
    } else if !groups_old_only.is_empty() {
        CaRolloverStage::AddToGroups
    } else if !devices_on_old.is_empty() {
        CaRolloverStage::Reissue
    } else if !to_provision_again.is_empty() {
        CaRolloverStage::ProvisionAgain
    } else if !old_on_hub.is_empty() || !groups_both.is_empty() {
        CaRolloverStage::RetireOld
    } else {
        CaRolloverStage::Done
    };
    CaRollover {
        new_on_hub,
        old_on_hub,
        groups_old_only,
        groups_both,
        groups_new_only,
        new_on_dps,
        devices_on_old,
        devices_on_new,
        to_provision_again,
        hub_needs_new,
        stage,
    }
}

/// `group` trusting `new` too, as its secondary: the new CA's certificate for a group that
/// holds certificates, or the name of its verified DPS certificate for one that refers to names.
pub fn with_new_ca(
    group: &EnrollmentGroup,
    new_pem: &str,
    new_on_dps: Option<&str>,
) -> Result<EnrollmentGroup, String> {
    let mut g = group.clone();
    let x509 = g
        .attestation
        .x509
        .as_mut()
        .ok_or("it is not an X.509 group")?;
    if let Some(refs) = x509.ca_references.as_mut() {
        let name = new_on_dps.ok_or(
            "it refers to DPS certificates by name: upload the new CA to DPS and prove it first",
        )?;
        refs.secondary = Some(name.to_owned());
    } else if let Some(signing) = x509.signing_certificates.as_mut() {
        signing.secondary = Some(crate::contract::X509CertificateWithInfo {
            certificate: Some(new_pem.to_owned()),
            info: None,
        });
    } else {
        return Err("it has neither signing certificates nor CA references".into());
    }
    Ok(g)
}

/// `group` trusting only `new`: the end of a rollover.
pub fn only_new_ca(
    group: &EnrollmentGroup,
    new_pem: &str,
    new_on_dps: Option<&str>,
) -> Result<EnrollmentGroup, String> {
    let mut g = group.clone();
    let x509 = g
        .attestation
        .x509
        .as_mut()
        .ok_or("it is not an X.509 group")?;
    if let Some(refs) = x509.ca_references.as_mut() {
        let name = new_on_dps.ok_or("the new CA is not on DPS")?;
        refs.primary = Some(name.to_owned());
        refs.secondary = None;
    } else {
        x509.signing_certificates = Some(crate::contract::X509Certificates::pems(new_pem, None));
    }
    Ok(g)
}

//! The DPS individual enrollment card's decisions: the enrollment a save writes from the page's
//! certificates (or by symmetric key), how a device's registration state reads, and what each
//! action says.

use super::error::RestError;
use crate::contract::{EnrollmentId, IndividualEnrollment, RegistrationState, RegistrationStatus};

/// The individual enrollment of `id` with the device certificates (PEM) the page holds for it,
/// newest first: the newest is the one the device should use, the one before stays accepted as
/// the secondary while it changes over. `None` when there is none.
pub fn individual_enrollment_of(id: &str, certificates: &[String]) -> Option<IndividualEnrollment> {
    let primary = certificates.first()?;
    Some(IndividualEnrollment::x509_client(
        id,
        primary,
        certificates.get(1).map(String::as_str),
    ))
}

/// The enrollment a save writes: by symmetric key (DPS makes the keys), or by the page's
/// certificates of `id` (newest first).
pub fn individual_enrollment_to_save(
    id: &str,
    certificates: &[String],
    symmetric: bool,
) -> Result<IndividualEnrollment, String> {
    if symmetric {
        EnrollmentId::parse(id).map_err(|e| format!("Registration id: {e}"))?;
        return Ok(IndividualEnrollment::symmetric_key(id, None, None));
    }
    individual_enrollment_of(id, certificates).ok_or_else(|| format!(
        "No device certificate with CN '{id}' was issued on this page: issue it in step 4 (an individual enrollment holds the device's own certificate), or choose a symmetric key."
    ))
}

/// What a saved individual enrollment says (`replaced`: it existed).
pub fn individual_saved_line(e: &IndividualEnrollment, replaced: bool) -> String {
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

/// How `id`'s registration state as read reads: whether it is assigned, and the line shown.
pub fn registration_state_line(
    id: &str,
    read: Result<RegistrationState, RestError>,
) -> (bool, String) {
    match read {
        Ok(s) => {
            let when = s.last_updated_date_time_utc.unwrap_or_default();
            match s.status {
                Some(RegistrationStatus::Assigned) => (
                    true,
                    format!(
                        "{id}: assigned to {} as {} (last registered {when}).",
                        s.assigned_hub.unwrap_or_default(),
                        s.device_id.unwrap_or_default()
                    ),
                ),
                other => (
                    false,
                    format!(
                        "{id}: {} ({}; {when}).",
                        other
                            .as_ref()
                            .map_or("no status", RegistrationStatus::as_str),
                        s.error_message.unwrap_or_else(|| "no message".into())
                    ),
                ),
            }
        }
        Err(RestError::Status { status: 404, .. }) => (
            false,
            format!("{id} has not registered with this DPS yet (or its registration was deleted)."),
        ),
        Err(e) => (false, e.to_string()),
    }
}

/// After `id`'s enrollment was deleted.
pub fn individual_deleted(id: &str) -> String {
    format!("Deleted {id}'s enrollment: it can no longer register (if a group's CA signed it, that group still admits it).")
}

/// Why `id` cannot be blocked: DPS blocks a device by its own certificate.
pub fn cannot_block(id: &str) -> String {
    format!("No device certificate with CN '{id}' was issued on this page: DPS blocks a device by its own certificate.")
}

/// After `id` was blocked with a disabled individual enrollment.
pub fn blocked_on_dps(id: &str) -> String {
    format!("{id} is blocked on DPS: a disabled individual enrollment holds its certificate, so it can no longer register, even through a group. Disable it in the hub too (step 5) to stop its connections.")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::{
        CertificateAuthority, DeviceCertParams, KeyAlgorithm, RootCaParams, ValidityDays,
    };
    use time::OffsetDateTime;

    fn device_pem(id: &str) -> String {
        let now = OffsetDateTime::from_unix_timestamp(1_767_225_600).unwrap();
        let ca = CertificateAuthority::create_root(&RootCaParams::default(), now).unwrap();
        let params = DeviceCertParams {
            device_id: crate::contract::DeviceId::parse(id).unwrap(),
            validity: ValidityDays::new(30).unwrap(),
        };
        ca.issue_device_identity(&params, KeyAlgorithm::EcdsaP256, now)
            .unwrap()
            .certificate
            .pem()
    }

    fn state(status: Option<RegistrationStatus>) -> RegistrationState {
        serde_json::from_value(serde_json::json!({
            "registrationId": "d1",
            "assignedHub": "hub.azure-devices.net",
            "deviceId": "d1",
            "lastUpdatedDateTimeUtc": "2026-01-01T00:00:00Z",
            "errorMessage": "refused",
            "status": status,
        }))
        .unwrap()
    }

    #[test]
    fn the_newest_certificate_is_primary_and_the_one_before_secondary() {
        let (new, old) = (device_pem("d1"), device_pem("d1"));
        let e = individual_enrollment_to_save("d1", &[new, old], false).unwrap();
        assert_eq!(e.client_entries().len(), 2);
        assert!(individual_saved_line(&e, false).starts_with(
            "Created individual enrollment d1 with 2 certificates (the newest as primary)"
        ));
        assert!(individual_enrollment_to_save("d1", &[], false)
            .is_err_and(|m| m.starts_with("No device certificate with CN 'd1'")));
        assert_eq!(individual_enrollment_of("d1", &[]), None);
    }

    #[test]
    fn a_symmetric_key_enrollment_needs_only_a_valid_id() {
        let e = individual_enrollment_to_save("d1", &[], true).unwrap();
        assert!(e.attestation.is_symmetric_key());
        assert!(individual_saved_line(&e, true)
            .starts_with("Updated individual enrollment d1 by symmetric key"));
        assert!(individual_enrollment_to_save("bad id!", &[], true)
            .is_err_and(|m| m.starts_with("Registration id:")));
    }

    #[test]
    fn a_registration_state_reads_assigned_failed_or_missing() {
        let (ok, line) =
            registration_state_line("d1", Ok(state(Some(RegistrationStatus::Assigned))));
        assert!(ok);
        assert_eq!(
            line,
            "d1: assigned to hub.azure-devices.net as d1 (last registered 2026-01-01T00:00:00Z)."
        );
        let (ok, line) = registration_state_line("d1", Ok(state(Some(RegistrationStatus::Failed))));
        assert!(!ok);
        assert_eq!(line, "d1: failed (refused; 2026-01-01T00:00:00Z).");
        let (ok, line) = registration_state_line("d1", Ok(state(None)));
        assert!(!ok && line.starts_with("d1: no status"));
        assert!(cannot_block("d1").contains("CN 'd1'"));
        assert!(blocked_on_dps("d1").starts_with("d1 is blocked on DPS"));
        assert!(individual_deleted("d1").starts_with("Deleted d1's enrollment"));
    }
}

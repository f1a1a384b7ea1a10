//! Where a certificate of the inventory is registered, in words: the hub's record of its device
//! (and whether this very certificate is the one a thumbprint device is pinned to) and DPS's
//! registration state.

use crate::contract::{AuthKind, DeviceStatus, RegisteredThumbprint, RegistrationState};

use super::HubDevice;

/// The hub's record of the device whose certificate has thumbprints `sha1`/`sha256`, with DPS's
/// registration state where read: a thumbprint device DPS assigned was written by DPS
/// ([`super::HubPath::Provisioned`]), and is renewed by provisioning again.
pub fn describe_hub_registration(
    device: &HubDevice,
    sha1: &str,
    sha256: &str,
    dps: Option<&RegistrationState>,
) -> String {
    let by_dps =
        super::HubPath::read(Some(&device.auth_type), dps) == Some(super::HubPath::Provisioned);
    let status = match device.status {
        DeviceStatus::Enabled => "enabled",
        DeviceStatus::Disabled => "disabled (revoked)",
        _ => "status unknown",
    };
    let how = match &device.auth_type {
        AuthKind::CertificateAuthority => "CA-signed".to_owned(),
        AuthKind::SelfSigned => {
            let pinned = |t: &Option<String>| {
                t.as_deref()
                    .and_then(|t| RegisteredThumbprint::parse(t).ok())
                    .is_some_and(|t| t.matches(sha1, sha256))
            };
            match (
                pinned(&device.primary_thumbprint),
                pinned(&device.secondary_thumbprint),
            ) {
                (true, _) if by_dps => {
                    "thumbprint written by DPS, this certificate (renewed by provisioning again)"
                        .to_owned()
                }
                (false, false) if by_dps => "thumbprint written by DPS for another certificate (this one is refused until the device provisions again with it)".to_owned(),
                (true, _) => "thumbprint, this certificate as primary".to_owned(),
                (false, true) => "thumbprint, this certificate as secondary".to_owned(),
                (false, false) => {
                    "thumbprint of another certificate (this one is refused)".to_owned()
                }
            }
        }
        AuthKind::Sas => "SAS keys (not this certificate)".to_owned(),
        other => other.to_string(),
    };
    format!("{status}, {how}")
}

/// DPS's registration state of a device.
pub fn describe_dps_registration(state: &RegistrationState) -> String {
    let status = state
        .status
        .as_ref()
        .map(|s| format!("{s:?}").to_ascii_lowercase())
        .unwrap_or_else(|| "unknown".into());
    match (&state.assigned_hub, &state.error_message) {
        (Some(hub), _) => format!("{status} to {hub}"),
        (None, Some(e)) => format!("{status}: {e}"),
        (None, None) => status,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::{ConnectionState, RegistrationStatus};

    fn device(kind: AuthKind, primary: Option<&str>, secondary: Option<&str>) -> HubDevice {
        HubDevice {
            device_id: "d1".into(),
            etag: "e".into(),
            status: DeviceStatus::Enabled,
            auth_type: kind,
            primary_thumbprint: primary.map(str::to_owned),
            secondary_thumbprint: secondary.map(str::to_owned),
            connection_state: ConnectionState::Disconnected,
        }
    }

    #[test]
    fn a_pinned_certificate_is_named_by_its_slot() {
        let (sha1, sha256) = ("1".repeat(40), "a".repeat(64));
        let other = "b".repeat(64);
        let d = device(
            AuthKind::SelfSigned,
            Some(&other),
            Some(&sha256.to_uppercase()),
        );
        assert_eq!(
            describe_hub_registration(&d, &sha1, &sha256, None),
            "enabled, thumbprint, this certificate as secondary"
        );
        let d = device(AuthKind::SelfSigned, Some(&other), Some(&other));
        assert!(describe_hub_registration(&d, &sha1, &sha256, None).contains("this one is refused"));
        let mut d = device(AuthKind::CertificateAuthority, None, None);
        d.status = DeviceStatus::Disabled;
        assert_eq!(
            describe_hub_registration(&d, &sha1, &sha256, None),
            "disabled (revoked), CA-signed"
        );
        let s = RegistrationState {
            status: Some(RegistrationStatus::Assigned),
            assigned_hub: Some("h.azure-devices.net".into()),
            ..Default::default()
        };
        // DPS assigned it: the hub's thumbprint device is DPS's, pinned to this certificate (both
        // slots) or to another one until the device provisions again.
        let pinned = device(AuthKind::SelfSigned, Some(&sha256), Some(&sha256));
        assert_eq!(
            describe_hub_registration(&pinned, &sha1, &sha256, Some(&s)),
            "enabled, thumbprint written by DPS, this certificate (renewed by provisioning again)"
        );
        let stale = device(AuthKind::SelfSigned, Some(&other), Some(&other));
        assert!(describe_hub_registration(&stale, &sha1, &sha256, Some(&s))
            .contains("refused until the device provisions again"));
        assert_eq!(
            describe_dps_registration(&s),
            "assigned to h.azure-devices.net"
        );
    }
}

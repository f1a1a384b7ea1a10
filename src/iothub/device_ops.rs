//! The register step's decisions (step 5): which ids were typed, how a device is registered,
//! what each operation says as it goes and when it is done, and the Azure CLI equivalent.

use super::az::AzHub;
use super::bulk::BulkOutcome;
use super::registry::{DeviceAuth, HubDevice};
use crate::contract::{AuthKind, DeviceId, ExportImportDevice, ImportMode, BULK_MAX_DEVICES};

/// Said when no id is typed.
pub const NO_DEVICE_IDS: &str =
    "Enter at least one device id, one per line (or add the devices issued above).";

/// What the register step does to each typed device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceOp {
    /// Create the identity.
    Register,
    /// Read it.
    Show,
    /// Revoke: the hub refuses a disabled device's connections (IoT Hub checks no CRL).
    Disable,
    /// Enable it again.
    Enable,
    /// Delete the identity.
    Delete,
}

impl DeviceOp {
    /// The progress line's verb.
    pub fn verb(self) -> &'static str {
        match self {
            Self::Register => "Registering",
            Self::Show => "Reading",
            Self::Disable => "Disabling",
            Self::Enable => "Enabling",
            Self::Delete => "Deleting",
        }
    }

    /// Whether the page asks once before doing it: deleting cannot be undone.
    pub fn needs_confirmation(self) -> bool {
        self == Self::Delete
    }

    /// The reason written with a status change (`statusReason`).
    pub fn status_reason(self) -> &'static str {
        if self == Self::Enable {
            "enabled again in hubcert"
        } else {
            "revoked in hubcert"
        }
    }
}

/// The ids typed one a line (or comma-separated), trimmed, blanks and repeats left out.
pub fn typed_device_ids(text: &str) -> Vec<String> {
    let mut seen = Vec::<String>::new();
    for id in text
        .split(['\n', ','])
        .map(str::trim)
        .filter(|l| !l.is_empty())
    {
        if !seen.iter().any(|s| s == id) {
            seen.push(id.to_owned());
        }
    }
    seen
}

/// The typed ids followed by the page's issued ones not already typed (`issued` newest first;
/// they are added oldest first).
pub fn with_issued_ids<'a>(
    typed: &str,
    issued: impl DoubleEndedIterator<Item = &'a str>,
) -> String {
    let mut list = typed_device_ids(typed);
    for cn in issued.rev() {
        if !list.iter().any(|l| l == cn) {
            list.push(cn.to_owned());
        }
    }
    list.join("\n")
}

/// How `id` is registered: CA-signed, or pinned by the SHA-256 `thumbprint` of a certificate
/// issued on the page (none: refused).
pub fn registration_auth(
    self_signed: bool,
    id: &str,
    thumbprint: Option<String>,
) -> Result<DeviceAuth, String> {
    if !self_signed {
        return Ok(DeviceAuth::CertificateAuthority);
    }
    thumbprint
        .map(|t| DeviceAuth::SelfSigned {
            primary: t,
            secondary: None,
        })
        .ok_or_else(|| format!("No certificate with CN={id} was issued on this page: issue it in step 4, or register it as CA-signed."))
}

/// A device as the hub holds it, in a line: how it authenticates, its status and connection.
pub fn describe_device(d: &HubDevice) -> String {
    let auth = match &d.auth_type {
        AuthKind::CertificateAuthority => "CA-signed".to_owned(),
        AuthKind::SelfSigned => format!(
            "self-signed, thumbprint {}",
            d.primary_thumbprint.as_deref().unwrap_or("?")
        ),
        AuthKind::Sas => "SAS keys".to_owned(),
        other => other.to_string(),
    };
    format!("{auth}, {}, {}", d.status, d.connection_state)
}

impl DeviceOp {
    /// Whether `count` devices go through the registry's bulk call (up to 100 a call) rather
    /// than a call each: registering and deleting, which need nothing read first, for more than
    /// one device. Disabling and enabling stay per device: a bulk `update` replaces the whole
    /// identity, and the page knows the authentication of the devices it made only.
    pub fn in_bulk(self, count: usize) -> bool {
        count > 1 && matches!(self, Self::Register | Self::Delete)
    }

    /// The bulk entry for `id` (`auth` for a registration): `create` (an existing id fails alone,
    /// as with a single PUT) or `delete` (regardless of etag, as the single DELETE without
    /// `If-Match`).
    pub fn bulk_entry(
        self,
        id: &DeviceId,
        auth: Option<&DeviceAuth>,
    ) -> Result<ExportImportDevice, String> {
        match self {
            Self::Register => {
                let auth = auth.ok_or("no authentication chosen")?;
                let mut entry = ExportImportDevice::new(id.as_str(), ImportMode::Create);
                entry.authentication = Some(auth.authentication().map_err(|e| e.to_string())?);
                Ok(entry)
            }
            Self::Delete => Ok(ExportImportDevice::new(id.as_str(), ImportMode::Delete)),
            other => Err(format!("{} is not a bulk operation", other.verb())),
        }
    }

    /// What one device's row says after a bulk call: done, or the hub's error for it, or that
    /// its call was not applied.
    pub fn bulk_row(self, outcome: &BulkOutcome, id: &str) -> Result<String, String> {
        if let Some(e) = outcome.failed.get(id) {
            return Err(format!("{}: {}", e.error_code, e.error_status));
        }
        if outcome.not_applied.iter().any(|n| n == id) {
            return Err(match &outcome.stopped {
                Some(e) => format!("not applied: {e}"),
                None => "not applied".to_owned(),
            });
        }
        Ok(match self {
            Self::Delete => "deleted (bulk)".to_owned(),
            _ => "registered (bulk)".to_owned(),
        })
    }
}

/// The progress line of a bulk operation: devices sent so far, of how many, in how many calls.
pub fn bulk_progress(op: DeviceOp, sent: usize, total: usize) -> String {
    let calls = total.div_ceil(BULK_MAX_DEVICES);
    format!(
        "{} in bulk: {sent} of {total} sent ({calls} call{} of up to {BULK_MAX_DEVICES})…",
        op.verb(),
        if calls == 1 { "" } else { "s" }
    )
}

/// What "Delete" asks for `n` devices.
pub fn delete_devices_confirm(n: usize) -> String {
    format!(
        "Delete {n} device{} from the hub? Click Delete again to confirm.",
        if n == 1 { "" } else { "s" }
    )
}

/// How `total` operations, `failed` of them failed, went: whether all did, and the line shown.
pub fn device_ops_result(total: usize, failed: usize) -> (bool, String) {
    let failures = if failed > 0 {
        format!("; {failed} failed, see below")
    } else {
        String::new()
    };
    (
        failed == 0,
        format!("{} of {total} done{failures}.", total - failed),
    )
}

/// The registration with the Azure CLI for the first twenty ids (a placeholder when none).
pub fn register_commands(
    az: &AzHub,
    ids: &[String],
    self_signed: bool,
    thumbprint_of: impl Fn(&str) -> Option<String>,
) -> String {
    let placeholder = ["DEVICE_ID".to_owned()];
    let shown = if ids.is_empty() {
        &placeholder[..]
    } else {
        ids
    };
    shown
        .iter()
        .take(20)
        .map(|id| {
            if self_signed {
                let t = thumbprint_of(id).unwrap_or_else(|| "THUMBPRINT".into());
                az.device_create_thumbprint(id, &t, &t)
            } else {
                az.device_create_ca(id)
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::{ConnectionState, DeviceStatus};

    #[test]
    fn registering_and_deleting_many_go_in_bulk_and_the_rest_per_device() {
        assert!(DeviceOp::Register.in_bulk(2));
        assert!(DeviceOp::Delete.in_bulk(10_000));
        assert!(!DeviceOp::Register.in_bulk(1));
        for op in [DeviceOp::Show, DeviceOp::Disable, DeviceOp::Enable] {
            assert!(!op.in_bulk(500), "{op:?}");
        }
    }

    #[test]
    fn bulk_entries_carry_the_mode_and_the_authentication() {
        let id = DeviceId::parse("dev-1").unwrap();
        let pinned = DeviceAuth::SelfSigned {
            primary: "A".repeat(64),
            secondary: None,
        };
        let entry = DeviceOp::Register.bulk_entry(&id, Some(&pinned)).unwrap();
        assert_eq!(entry.import_mode, ImportMode::Create);
        let auth = entry.authentication.unwrap();
        assert_eq!(auth.kind, AuthKind::SelfSigned);
        let slots = auth.x509_thumbprint.unwrap();
        assert_eq!(slots.secondary_thumbprint, slots.primary_thumbprint);
        let entry = DeviceOp::Delete.bulk_entry(&id, None).unwrap();
        assert_eq!(
            (entry.import_mode, entry.authentication),
            (ImportMode::Delete, None)
        );
        let colons = DeviceAuth::SelfSigned {
            primary: "AB:CD".into(),
            secondary: None,
        };
        assert!(DeviceOp::Register.bulk_entry(&id, Some(&colons)).is_err());
        assert!(DeviceOp::Register.bulk_entry(&id, None).is_err());
        assert!(DeviceOp::Disable.bulk_entry(&id, None).is_err());
    }

    #[test]
    fn a_bulk_row_names_the_hubs_error_for_its_device_only() {
        use crate::contract::{DeviceRegistryOperationError, HubErrorCode};
        let mut outcome = BulkOutcome {
            applied: vec!["a".into()],
            not_applied: vec!["c".into()],
            ..Default::default()
        };
        outcome.failed.insert(
            "b".into(),
            DeviceRegistryOperationError {
                device_id: "b".into(),
                error_code: HubErrorCode::DeviceAlreadyExists,
                error_status: "taken".into(),
                module_id: None,
                operation: None,
            },
        );
        assert_eq!(
            DeviceOp::Register.bulk_row(&outcome, "a"),
            Ok("registered (bulk)".into())
        );
        assert_eq!(
            DeviceOp::Register.bulk_row(&outcome, "b"),
            Err("DeviceAlreadyExists: taken".into())
        );
        assert_eq!(
            DeviceOp::Register.bulk_row(&outcome, "c"),
            Err("not applied".into())
        );
        assert_eq!(
            bulk_progress(DeviceOp::Register, 200, 250),
            "Registering in bulk: 200 of 250 sent (3 calls of up to 100)…"
        );
    }

    #[test]
    fn typed_ids_are_trimmed_and_each_kept_once() {
        assert_eq!(
            typed_device_ids(" a \n\nb, a ,c\n"),
            ["a", "b", "c"].map(String::from)
        );
        assert!(typed_device_ids(" \n,").is_empty());
    }

    #[test]
    fn issued_ids_are_added_oldest_first_after_the_typed() {
        let issued = ["new", "a", "old"];
        assert_eq!(with_issued_ids("a", issued.into_iter()), "a\nold\nnew");
        assert_eq!(with_issued_ids("", std::iter::empty()), "");
    }

    #[test]
    fn a_self_signed_device_needs_a_certificate_issued_here() {
        assert_eq!(
            registration_auth(false, "d", None),
            Ok(DeviceAuth::CertificateAuthority)
        );
        assert_eq!(
            registration_auth(true, "d", Some("AB".into())),
            Ok(DeviceAuth::SelfSigned {
                primary: "AB".into(),
                secondary: None
            })
        );
        assert!(registration_auth(true, "d", None)
            .is_err_and(|e| e.starts_with("No certificate with CN=d")));
    }

    #[test]
    fn ops_ask_before_deleting_and_name_what_they_do() {
        assert!(DeviceOp::Delete.needs_confirmation());
        assert!(!DeviceOp::Disable.needs_confirmation());
        assert_eq!(DeviceOp::Show.verb(), "Reading");
        assert_eq!(DeviceOp::Enable.status_reason(), "enabled again in hubcert");
        assert_eq!(DeviceOp::Disable.status_reason(), "revoked in hubcert");
        assert_eq!(
            delete_devices_confirm(1),
            "Delete 1 device from the hub? Click Delete again to confirm."
        );
    }

    #[test]
    fn results_and_devices_read_in_a_line() {
        assert_eq!(device_ops_result(2, 0), (true, "2 of 2 done.".into()));
        assert_eq!(
            device_ops_result(3, 2),
            (false, "1 of 3 done; 2 failed, see below.".into())
        );
        let d = HubDevice {
            device_id: "d1".into(),
            etag: "e".into(),
            status: DeviceStatus::Enabled,
            auth_type: AuthKind::SelfSigned,
            primary_thumbprint: Some("AB".into()),
            secondary_thumbprint: None,
            connection_state: ConnectionState::Disconnected,
        };
        assert_eq!(
            describe_device(&d),
            format!(
                "self-signed, thumbprint AB, {}, {}",
                d.status, d.connection_state
            )
        );
    }

    #[test]
    fn register_commands_use_a_placeholder_and_the_thumbprint() {
        let az = AzHub {
            hub: "hub".into(),
            resource_group: String::new(),
        };
        assert!(register_commands(&az, &[], false, |_| None).contains("DEVICE_ID"));
        let pinned = register_commands(&az, &["d1".into()], true, |_| Some("AB12".into()));
        assert!(pinned.contains("AB12") && pinned.contains("x509_thumbprint"));
        assert!(register_commands(&az, &["d1".into()], true, |_| None).contains("THUMBPRINT"));
    }
}

//! The renew step's decisions: which devices are due by the typed horizon, which were renewed on
//! the page (and so roll over on the hub), how a CA of the tree is renewed, and what the step says.

use std::collections::{HashMap, HashSet};
use std::fmt;

use time::OffsetDateTime;

use super::az::AzHub;
use crate::pki::{format_utc, Certificate, CertificateInfo};

/// The furthest horizon "Due within" takes, in days (a hundred years).
const MAX_DUE_WITHIN: u32 = 36_500;

/// Why a renewal was not started; nothing was made.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RenewError {
    /// Every due device is unticked, or none is due.
    NothingChosen,
    /// The intermediate's parent is not on the page, so nothing here can sign it again.
    ParentMissing,
}

impl fmt::Display for RenewError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NothingChosen => {
                f.write_str("No device is chosen: raise \"Due within\" or tick a device above.")
            }
            Self::ParentMissing => f.write_str("The CA that signed this intermediate is not on the page (it was imported without its parent's key): renew it where its parent lives, then import it again."),
        }
    }
}

impl std::error::Error for RenewError {}

/// The "Due within (days)" field: a whole number of days up to [`MAX_DUE_WITHIN`].
pub fn due_within(text: &str) -> Option<u32> {
    text.trim()
        .parse::<u32>()
        .ok()
        .filter(|d| *d <= MAX_DUE_WITHIN)
}

/// A device with more than one certificate on the page: the newest one's thumbprints, which a
/// thumbprint rollover on the hub moves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenewedDevice {
    /// The device id (the certificates' CN).
    pub device_id: String,
    /// SHA-1 thumbprint of the newest certificate.
    pub sha1: String,
    /// SHA-256 thumbprint of the newest certificate.
    pub sha256: String,
}

/// The renewed devices among `certificates` (newest first), each once, in the order of its newest
/// certificate.
pub fn renewed_devices(certificates: &[&CertificateInfo]) -> Vec<RenewedDevice> {
    let mut count = HashMap::<&str, usize>::new();
    for cn in certificates.iter().filter_map(|c| c.common_name.as_deref()) {
        *count.entry(cn).or_default() += 1;
    }
    let mut seen = HashSet::new();
    certificates
        .iter()
        .filter_map(|c| {
            let cn = c.common_name.as_deref()?;
            (count.get(cn).copied().unwrap_or(0) > 1 && seen.insert(cn)).then(|| RenewedDevice {
                device_id: cn.to_owned(),
                sha1: c.sha1.to_string(),
                sha256: c.sha256.to_string(),
            })
        })
        .collect()
}

/// The renew button's text for `n` chosen devices.
pub fn renew_button(n: usize) -> String {
    format!("Renew {n} device{}", plural(n))
}

/// What a finished renewal of `ids` says (the first five named).
pub fn renewed_summary(ids: &[String]) -> String {
    format!(
        "{} device certificate{} renewed: {}. Listed with the devices for registration, the device test and the workspace.",
        ids.len(),
        plural(ids.len()),
        ids.iter().take(5).cloned().collect::<Vec<_>>().join(", ")
    )
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// How one press of "Roll over on the hub" went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RolloverTally {
    /// Devices tried.
    pub total: usize,
    /// Devices whose step failed.
    pub failed: usize,
}

impl RolloverTally {
    /// Whether every device took its step.
    pub fn ok(self) -> bool {
        self.failed == 0
    }

    /// The line shown after the press.
    pub fn line(self) -> String {
        let failed = if self.failed > 0 {
            format!("; {} failed, see below", self.failed)
        } else {
            String::new()
        };
        format!(
            "{} of {} done{failed}. Press again for the next step of each thumbprint device.",
            self.total - self.failed,
            self.total
        )
    }
}

/// The Azure CLI equivalent of the rollover for the first `shown` devices.
pub fn az_rollover(az: &AzHub, devices: &[RenewedDevice], shown: usize) -> String {
    devices
        .iter()
        .take(shown)
        .map(|d| {
            format!(
                "# {}: stage (old primary, new secondary), then promote, then retire\n{}",
                d.device_id,
                az.device_set_thumbprints(&d.device_id, "OLD_THUMBPRINT", &d.sha256)
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Who signs a CA of the tree again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaRenewal {
    /// A root signs itself.
    SelfSigned,
    /// An intermediate is signed by the CA at this index of the tree: the one whose certificate
    /// signed it.
    ByParent(usize),
}

/// How the CA whose first issuer is `issuer` (`None` for a root) is renewed among the tree's
/// CA certificates `tree`.
pub fn ca_renewal(
    issuer: Option<&Certificate>,
    tree: &[&Certificate],
) -> Result<CaRenewal, RenewError> {
    match issuer {
        None => Ok(CaRenewal::SelfSigned),
        Some(above) => tree
            .iter()
            .position(|c| *c == above)
            .map(CaRenewal::ByParent)
            .ok_or(RenewError::ParentMissing),
    }
}

/// What a renewed CA valid until `not_after` means for the hub and its devices.
pub fn renewed_ca_note(not_after: OffsetDateTime) -> String {
    format!(
        "Renewed with the same key and subject, valid until {}. Upload the new certificate to the hub and DPS and verify it (step 3): the hub treats it as a new certificate. Devices it signed chain to it unchanged.",
        format_utc(not_after)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::DeviceId;
    use crate::pki::{
        CertificateAuthority, DeviceCertParams, KeyAlgorithm, RootCaParams, ValidityDays,
    };

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_767_225_600).unwrap()
    }

    fn root() -> CertificateAuthority {
        CertificateAuthority::create_root(&RootCaParams::default(), now()).unwrap()
    }

    fn device(ca: &CertificateAuthority, id: &str) -> CertificateInfo {
        let params = DeviceCertParams {
            device_id: DeviceId::parse(id).unwrap(),
            validity: ValidityDays::new(30).unwrap(),
        };
        ca.issue_device_identity(&params, KeyAlgorithm::EcdsaP256, now())
            .unwrap()
            .certificate
            .info()
            .unwrap()
    }

    #[test]
    fn due_within_takes_whole_days_up_to_a_hundred_years() {
        assert_eq!(due_within(" 30 "), Some(30));
        assert_eq!(due_within("0"), Some(0));
        assert_eq!(due_within("36500"), Some(36_500));
        assert_eq!(due_within("36501"), None);
        assert_eq!(due_within("-1"), None);
        assert_eq!(due_within("soon"), None);
    }

    #[test]
    fn renewed_devices_are_those_with_two_certificates_at_their_newest() {
        let ca = root();
        let (new_a, b, old_a) = (
            device(&ca, "dev-a"),
            device(&ca, "dev-b"),
            device(&ca, "dev-a"),
        );
        let renewed = renewed_devices(&[&new_a, &b, &old_a]);
        assert_eq!(
            renewed,
            vec![RenewedDevice {
                device_id: "dev-a".into(),
                sha1: new_a.sha1.to_string(),
                sha256: new_a.sha256.to_string(),
            }]
        );
        assert!(renewed_devices(&[&b]).is_empty());
    }

    #[test]
    fn texts_count_devices_in_the_singular_and_plural() {
        assert_eq!(renew_button(1), "Renew 1 device");
        assert_eq!(renew_button(0), "Renew 0 devices");
        let ids: Vec<String> = (1..=7).map(|i| format!("d{i}")).collect();
        assert!(
            renewed_summary(&ids).starts_with("7 device certificates renewed: d1, d2, d3, d4, d5.")
        );
        assert!(renewed_summary(&ids[..1]).starts_with("1 device certificate renewed: d1."));
    }

    #[test]
    fn rollover_tally_names_failures_only_when_there_are_some() {
        let all = RolloverTally {
            total: 3,
            failed: 0,
        };
        assert!(all.ok());
        assert!(all.line().starts_with("3 of 3 done. Press again"));
        let some = RolloverTally {
            total: 3,
            failed: 1,
        };
        assert!(!some.ok());
        assert!(some.line().starts_with("2 of 3 done; 1 failed, see below."));
    }

    #[test]
    fn az_rollover_shows_the_first_devices_with_their_new_thumbprint() {
        let az = AzHub {
            hub: "hub".into(),
            resource_group: String::new(),
        };
        let d = |id: &str| RenewedDevice {
            device_id: id.into(),
            sha1: "S1".into(),
            sha256: format!("{id}-256"),
        };
        let lines = az_rollover(&az, &[d("a"), d("b"), d("c")], 2);
        assert!(lines.contains("# a: stage") && lines.contains("a-256"));
        assert!(lines.contains("# b: stage") && !lines.contains("# c"));
    }

    #[test]
    fn ca_renewal_finds_the_parent_or_says_it_is_missing() {
        let (r1, r2) = (root(), root());
        let tree = [r1.certificate(), r2.certificate()];
        assert_eq!(ca_renewal(None, &tree), Ok(CaRenewal::SelfSigned));
        assert_eq!(
            ca_renewal(Some(r2.certificate()), &tree),
            Ok(CaRenewal::ByParent(1))
        );
        let other = root();
        assert_eq!(
            ca_renewal(Some(other.certificate()), &tree),
            Err(RenewError::ParentMissing)
        );
    }

    #[test]
    fn renewed_ca_note_gives_the_new_end() {
        assert!(renewed_ca_note(now()).contains(&format_utc(now())));
    }
}

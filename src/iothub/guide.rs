//! The home page's decisions: where the guided path of the seed guide stands (root CA, connect,
//! upload and verify, device certificates, register, test) and what needs doing about expiry.

use crate::pki::{ExpiryRow, ExpiryStatus};

/// A step of the guided path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuideStep {
    /// 1: create or import a root CA.
    RootCa,
    /// 2: set the hub (localhub or Azure).
    Connect,
    /// 3: upload the CA to the hub and prove possession.
    Upload,
    /// 4: issue device certificates.
    Devices,
    /// 5 and 6: register the devices, then test one (the page cannot tell whether they are
    /// registered until it reads the hub).
    RegisterAndTest,
}

/// What the page knows of the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GuideFacts {
    /// A CA is on the page.
    pub has_ca: bool,
    /// The hub's settings are filled in (management and registry).
    pub hub_set: bool,
    /// A verification certificate was made here (proof of possession done or under way).
    pub verified: bool,
    /// Device certificates on the page.
    pub devices: usize,
}

/// The first step of the guided path not done yet, as far as the page knows.
pub fn next_step(f: GuideFacts) -> GuideStep {
    if !f.has_ca {
        GuideStep::RootCa
    } else if !f.hub_set {
        GuideStep::Connect
    } else if !f.verified {
        GuideStep::Upload
    } else if f.devices == 0 {
        GuideStep::Devices
    } else {
        GuideStep::RegisterAndTest
    }
}

/// Certificates in need of action, by how soon (each counted once, in its nearest band; a device
/// certificate renewed since is not counted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Alerts {
    /// Past their notAfter.
    pub expired: usize,
    /// Less than 7 days left.
    pub within_7: usize,
    /// 7 to 13 days left.
    pub within_14: usize,
    /// 14 to 29 days left.
    pub within_30: usize,
}

impl Alerts {
    /// Counts the rows of an expiry report.
    pub fn of(rows: &[ExpiryRow]) -> Self {
        let mut a = Self::default();
        for r in rows.iter().filter(|r| !r.superseded) {
            match r.status {
                ExpiryStatus::Expired => a.expired += 1,
                ExpiryStatus::Within7 => a.within_7 += 1,
                ExpiryStatus::Within14 => a.within_14 += 1,
                ExpiryStatus::Within30 => a.within_30 += 1,
                ExpiryStatus::Ok => {}
            }
        }
        a
    }

    /// Whether nothing needs action within 30 days.
    pub fn is_clear(self) -> bool {
        self == Self::default()
    }

    /// In words, soonest first: "1 expired, 2 within 7 days".
    pub fn describe(self) -> String {
        let parts: Vec<String> = [
            (self.expired, "expired"),
            (self.within_7, "within 7 days"),
            (self.within_14, "within 14 days"),
            (self.within_30, "within 30 days"),
        ]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect();
        if parts.is_empty() {
            "nothing expires within 30 days".into()
        } else {
            parts.join(", ")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::DeviceId;
    use crate::pki::{
        expiry_report, CertificateAuthority, DeviceCertParams, KeyAlgorithm, RootCaParams,
        ValidityDays,
    };
    use time::{Duration, OffsetDateTime};

    #[test]
    fn the_path_goes_step_by_step() {
        let mut f = GuideFacts::default();
        assert_eq!(next_step(f), GuideStep::RootCa);
        f.has_ca = true;
        assert_eq!(next_step(f), GuideStep::Connect);
        f.hub_set = true;
        assert_eq!(next_step(f), GuideStep::Upload);
        f.verified = true;
        assert_eq!(next_step(f), GuideStep::Devices);
        f.devices = 3;
        assert_eq!(next_step(f), GuideStep::RegisterAndTest);
    }

    #[test]
    fn alerts_count_each_certificate_once_in_its_band() {
        let now = OffsetDateTime::now_utc();
        let root = CertificateAuthority::create_root(&RootCaParams::default(), now).unwrap();
        // Made in the past so that they now have 3, 10, 20 and 200 days left.
        let issue = |id: &str, days: u32, made_ago: i64| {
            root.issue_device_identity(
                &DeviceCertParams {
                    device_id: DeviceId::parse(id).unwrap(),
                    validity: ValidityDays::new(days).unwrap(),
                },
                KeyAlgorithm::EcdsaP256,
                now - Duration::days(made_ago),
            )
            .unwrap()
            .certificate
        };
        let items = vec![
            ("a".to_owned(), issue("a", 30, 27)),
            ("b".to_owned(), issue("b", 30, 20)),
            ("c".to_owned(), issue("c", 30, 10)),
            ("d".to_owned(), issue("d", 300, 100)),
            ("root".to_owned(), root.certificate().clone()),
        ];
        let a = Alerts::of(&expiry_report(&items, now).unwrap());
        assert_eq!(
            a,
            Alerts {
                expired: 0,
                within_7: 1,
                within_14: 1,
                within_30: 1
            }
        );
        assert_eq!(
            a.describe(),
            "1 within 7 days, 1 within 14 days, 1 within 30 days"
        );
        // A renewed device's older certificate no longer counts.
        let mut renewed = items.clone();
        renewed.push(("a again".to_owned(), issue("a", 300, 0)));
        let b = Alerts::of(&expiry_report(&renewed, now).unwrap());
        assert_eq!(b.within_7, 0);
        assert!(Alerts::default().is_clear());
        assert_eq!(
            Alerts::default().describe(),
            "nothing expires within 30 days"
        );
    }
}

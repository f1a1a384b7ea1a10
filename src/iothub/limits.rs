//! The published limits that shape certificate work, each with its source, and whether a plan
//! would cross one. Where Microsoft's pages disagree, the limit says so.

use super::throttle::thousands;
use crate::contract::EnrollmentGroup;

/// One published limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// What is limited.
    pub what: &'static str,
    /// The most there may be.
    pub most: u64,
    /// Whether Microsoft raises it on request.
    pub adjustable: bool,
    /// Where it is published.
    pub source: &'static str,
    /// Where sources disagree, what the other says.
    pub disagreement: Option<&'static str>,
}

/// Devices plus modules in one hub.
pub const HUB_DEVICES: Limit = Limit {
    what: "devices (and modules) in one IoT hub",
    most: 1_000_000,
    adjustable: true,
    source: "MicrosoftDocs iot-hub-devguide-quotas-throttling, Other limits: \"capped at 1,000,000\"; raised only by Microsoft Support",
    disagreement: None,
};

/// CA certificates on one DPS.
pub const DPS_CAS: Limit = Limit {
    what: "CA certificates on one DPS",
    most: 25,
    adjustable: true,
    source: "MicrosoftDocs includes/iot-dps-limits.md, \"Maximum number of CAs\"",
    disagreement: Some("the June 2021 version of the same table says it cannot be adjusted; the October 2021 one says it can"),
};

/// X.509 enrollment groups on one DPS.
pub const DPS_X509_GROUPS: Limit = Limit {
    what: "X.509 enrollment groups on one DPS",
    most: 100,
    adjustable: true,
    source: "MicrosoftDocs includes/iot-dps-limits.md, \"Maximum number of enrollment groups (X.509 certificate)\"",
    disagreement: None,
};

/// Symmetric-key enrollment groups on one DPS.
pub const DPS_SYMMETRIC_KEY_GROUPS: Limit = Limit {
    what: "symmetric-key enrollment groups on one DPS",
    most: 100,
    adjustable: false,
    source: "MicrosoftDocs includes/iot-dps-limits.md (\"a hard limit\": use individual enrollments past it)",
    disagreement: None,
};

/// Individual enrollments on one DPS.
pub const DPS_INDIVIDUAL_ENROLLMENTS: Limit = Limit {
    what: "individual enrollments on one DPS",
    most: 1_000_000,
    adjustable: true,
    source:
        "MicrosoftDocs includes/iot-dps-limits.md, \"Maximum number of individual enrollments\"",
    disagreement: None,
};

/// Device registrations a minute on one DPS.
pub const DPS_REGISTRATIONS_PER_MINUTE: Limit = Limit {
    what: "device registrations a minute on one DPS",
    most: 1_000,
    adjustable: true,
    source: "MicrosoftDocs includes/iot-dps-limits.md, rate limits, \"Device registrations 1,000/min/service\"",
    disagreement: Some("the June 2021 version of the same table says 200 a minute"),
};

/// Every limit the page shows, in the order it shows them.
pub const LIMITS: [Limit; 6] = [
    HUB_DEVICES,
    DPS_CAS,
    DPS_X509_GROUPS,
    DPS_SYMMETRIC_KEY_GROUPS,
    DPS_INDIVIDUAL_ENROLLMENTS,
    DPS_REGISTRATIONS_PER_MINUTE,
];

impl Limit {
    /// What to say when `adding` more to `current` would go past the limit; `None` when it fits.
    pub fn crossing(&self, current: u64, adding: u64) -> Option<String> {
        let total = current.saturating_add(adding);
        (total > self.most).then(|| {
            format!(
                "{total} would be over the limit of {} {}{}: {}.",
                thousands(self.most),
                self.what,
                if self.adjustable {
                    " (Microsoft raises it on request)"
                } else {
                    ", which cannot be raised"
                },
                self.source
            )
        })
    }

    /// The limit in a line, with its source and any disagreement.
    pub fn line(&self) -> String {
        let mut line = format!("{}: at most {}", self.what, thousands(self.most));
        if !self.adjustable {
            line.push_str(" (cannot be raised)");
        }
        line.push_str(&format!(". Source: {}", self.source));
        if let Some(d) = self.disagreement {
            line.push_str(&format!("; the docs disagree: {d}"));
        }
        line.push('.');
        line
    }
}

/// What to tell a user saving `saving` on a DPS that holds `groups`: when it is a new group and
/// one more of its kind (X.509 or symmetric key) would pass the published limit, that limit, said
/// beside the outcome (DPS refuses it unless Microsoft raised the limit; the page sends it either
/// way, and says why if DPS refuses).
pub fn group_limit_note(groups: &[EnrollmentGroup], saving: &EnrollmentGroup) -> Option<String> {
    let id = &saving.enrollment_group_id;
    if groups.iter().any(|g| &g.enrollment_group_id == id) {
        return None;
    }
    let symmetric = |g: &EnrollmentGroup| g.attestation.kind == "symmetricKey";
    let limit = if symmetric(saving) {
        DPS_SYMMETRIC_KEY_GROUPS
    } else {
        DPS_X509_GROUPS
    };
    let same = groups
        .iter()
        .filter(|g| symmetric(g) == symmetric(saving))
        .count();
    limit.crossing(same as u64, 1)
}

/// What to tell a user uploading a CA named `name` to a DPS whose certificates are `names`: when
/// it is a new one past the published limit of CAs on one DPS, that limit.
pub fn dps_ca_limit_note(names: &[String], name: &str) -> Option<String> {
    if names.iter().any(|n| n == name) {
        return None;
    }
    DPS_CAS.crossing(names.len() as u64, 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_past_a_limit_is_said_and_one_within_is_not() {
        assert_eq!(DPS_CAS.crossing(24, 1), None);
        let over = DPS_CAS.crossing(25, 1).unwrap();
        assert!(
            over.starts_with("26 would be over the limit of 25 CA certificates on one DPS"),
            "{over}"
        );
        let hard = DPS_SYMMETRIC_KEY_GROUPS.crossing(100, 1).unwrap();
        assert!(hard.contains("cannot be raised"), "{hard}");
        assert!(HUB_DEVICES.crossing(999_000, 1_000).is_none());
        assert!(HUB_DEVICES
            .crossing(999_000, 1_001)
            .unwrap()
            .contains("1,000,000"));
        assert!(HUB_DEVICES.crossing(u64::MAX, 5).is_some());
    }

    #[test]
    fn each_line_names_its_source_and_where_the_docs_disagree() {
        for limit in LIMITS {
            assert!(limit.line().contains("Source: MicrosoftDocs"), "{limit:?}");
        }
        assert!(DPS_REGISTRATIONS_PER_MINUTE
            .line()
            .contains("the docs disagree: the June 2021 version"));
        assert!(!HUB_DEVICES.line().contains("disagree"));
    }

    fn group(id: &str, kind: &str) -> EnrollmentGroup {
        serde_json::from_value(serde_json::json!({
            "enrollmentGroupId": id,
            "attestation": {"type": kind},
        }))
        .expect("group")
    }

    #[test]
    fn a_new_group_or_ca_past_the_published_limit_is_said_and_a_replacement_is_not() {
        let x509: Vec<_> = (0..100).map(|i| group(&format!("g{i}"), "x509")).collect();
        let note = group_limit_note(&x509, &group("new", "x509")).expect("101st");
        assert!(
            note.starts_with("101 would be over the limit of 100 X.509 enrollment groups"),
            "{note}"
        );
        assert_eq!(
            group_limit_note(&x509, &group("g7", "x509")),
            None,
            "a replacement adds none"
        );
        // Symmetric-key groups count apart, and their limit cannot be raised.
        assert_eq!(group_limit_note(&x509, &group("sym", "symmetricKey")), None);
        let sym: Vec<_> = (0..100)
            .map(|i| group(&format!("s{i}"), "symmetricKey"))
            .collect();
        let hard = group_limit_note(&sym, &group("sym", "symmetricKey")).expect("101st");
        assert!(hard.contains("cannot be raised"), "{hard}");
        assert_eq!(group_limit_note(&x509[..99], &group("new", "x509")), None);

        let names: Vec<String> = (0..25).map(|i| format!("ca-{i}")).collect();
        let ca = dps_ca_limit_note(&names, "ca-new").expect("26th");
        assert!(
            ca.starts_with("26 would be over the limit of 25 CA certificates on one DPS"),
            "{ca}"
        );
        assert_eq!(dps_ca_limit_note(&names, "ca-3"), None);
        assert_eq!(dps_ca_limit_note(&names[..24], "ca-new"), None);
    }
}

//! What the page says of a revocation ([`RevocationPlan`]): the plan line by line, the devices'
//! checkbox, the confirmation, and how the revocation went.

use super::revoke::RevocationPlan;

/// A line of the plan as the page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanLine {
    /// What it says.
    pub text: String,
    /// Something revoking the CA does not stop by itself.
    pub warn: bool,
    /// A note on what could not be read.
    pub muted: bool,
    /// The element id the page gives it, if any.
    pub id: Option<&'static str>,
}

impl PlanLine {
    fn plain(text: String) -> Self {
        Self {
            text,
            warn: false,
            muted: false,
            id: None,
        }
    }

    fn warn(text: String, id: Option<&'static str>) -> Self {
        Self {
            warn: true,
            id,
            ..Self::plain(text)
        }
    }
}

/// `'a', 'b'`.
fn quoted(items: &[String]) -> String {
    items
        .iter()
        .map(|i| format!("'{i}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The first eight, joined.
fn first_eight(items: &[String]) -> String {
    items.iter().take(8).cloned().collect::<Vec<_>>().join(", ")
}

impl RevocationPlan {
    /// The plan line by line; `dps_note` says why DPS was not read, if it was not.
    pub fn summary(&self, dps_note: Option<&str>) -> Vec<PlanLine> {
        let mut lines = vec![PlanLine::plain(if self.on_hub.is_empty() {
            "The hub does not hold this CA.".to_owned()
        } else {
            format!("On the hub as {}: deleted.", quoted(&self.on_hub))
        })];
        if !self.trusted_above_on_hub.is_empty() {
            lines.push(PlanLine::warn(format!(
                "The hub also trusts {} (a CA above it, verified): its devices keep connecting through it until they are disabled below.",
                quoted(&self.trusted_above_on_hub)
            ), Some("revoke-above")));
        }
        if !self.on_dps.is_empty() {
            lines.push(PlanLine::plain(format!(
                "On DPS as {}: deleted.",
                quoted(&self.on_dps)
            )));
        }
        if !self.dps_groups.is_empty() {
            lines.push(PlanLine::plain(format!(
                "DPS enrollment groups trusting it: {}: disabled.",
                quoted(&self.dps_groups)
            )));
        }
        if !self.dps_groups_above.is_empty() {
            lines.push(PlanLine::warn(format!("DPS groups trusting a CA above it still admit its devices: {}. Disable them in step 7 if they must stop too.", quoted(&self.dps_groups_above)), None));
        }
        if !self.provisioned.is_empty() {
            lines.push(PlanLine::warn(format!(
                "DPS may have provisioned {} of them ({}): DPS writes its devices into the hub as thumbprint devices, which the CA leaving the hub does not stop. They are disabled in the hub below, and the disabled groups keep them from provisioning again.",
                self.provisioned.len(),
                first_eight(&self.provisioned)
            ), Some("revoke-provisioned")));
        }
        if let Some(n) = dps_note {
            lines.push(PlanLine {
                muted: true,
                ..PlanLine::plain(n.to_owned())
            });
        }
        lines.push(PlanLine::plain(if self.devices.is_empty() {
            "No device of this page chains through it.".to_owned()
        } else {
            format!(
                "{} device{} of this page chain through it: {}.",
                self.devices.len(),
                if self.devices.len() == 1 { "" } else { "s" },
                first_eight(&self.devices)
            )
        }));
        lines
    }

    /// The label of "Also disable these devices", with why it is needed when it is.
    pub fn disable_devices_label(&self) -> String {
        let why = if self.deletion_suffices() {
            ""
        } else if self.trusted_above_on_hub.is_empty() {
            " (needed: DPS devices are pinned by thumbprint)"
        } else {
            " (needed: a CA above is still trusted)"
        };
        format!(
            " Also disable these {} devices in the registry{why}",
            self.devices.len()
        )
    }
}

/// What "Revoke" asks before it deletes anything.
pub fn revoke_confirm(title: &str) -> String {
    format!("Revoke {title}? This deletes it from the hub and DPS and disables what is listed. Click Revoke again to confirm.")
}

/// How a revocation of `total` actions, `failed` of them failed, went: whether it all went
/// through, and the line the page shows.
pub fn revocation_result(total: usize, failed: usize) -> (bool, String) {
    if failed > 0 {
        (
            false,
            format!(
                "{} of {total} done; {failed} failed, see below.",
                total - failed
            ),
        )
    } else if total == 0 {
        (
            true,
            "Nothing to revoke: the hub and DPS do not hold this CA and no device was chosen."
                .into(),
        )
    } else {
        (true, format!("Revoked: {total} of {total} done. Devices under it can no longer connect or register."))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> RevocationPlan {
        RevocationPlan {
            on_hub: vec!["int".into()],
            trusted_above_on_hub: Vec::new(),
            on_dps: Vec::new(),
            dps_groups: vec!["g".into()],
            dps_groups_above: Vec::new(),
            devices: vec!["d1".into(), "d2".into()],
            provisioned: Vec::new(),
        }
    }

    #[test]
    fn summary_lists_what_is_deleted_disabled_and_left_running() {
        let lines = plan().summary(None);
        let texts: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "On the hub as 'int': deleted.",
                "DPS enrollment groups trusting it: 'g': disabled.",
                "2 devices of this page chain through it: d1, d2.",
            ]
        );
        assert!(lines.iter().all(|l| !l.warn));
        let above = RevocationPlan {
            trusted_above_on_hub: vec!["root".into()],
            provisioned: vec!["d1".into()],
            ..plan()
        };
        let lines = above.summary(Some("DPS is not set up."));
        let ids: Vec<_> = lines.iter().filter_map(|l| l.id).collect();
        assert_eq!(ids, ["revoke-above", "revoke-provisioned"]);
        assert!(lines
            .iter()
            .any(|l| l.muted && l.text == "DPS is not set up."));
    }

    #[test]
    fn summary_of_an_empty_plan_says_so() {
        let empty = RevocationPlan {
            on_hub: Vec::new(),
            dps_groups: Vec::new(),
            devices: Vec::new(),
            ..plan()
        };
        let texts: Vec<String> = empty.summary(None).into_iter().map(|l| l.text).collect();
        assert_eq!(
            texts,
            [
                "The hub does not hold this CA.",
                "No device of this page chains through it."
            ]
        );
    }

    #[test]
    fn disable_devices_label_says_why_it_is_needed() {
        assert_eq!(
            plan().disable_devices_label(),
            " Also disable these 2 devices in the registry"
        );
        let above = RevocationPlan {
            trusted_above_on_hub: vec!["root".into()],
            ..plan()
        };
        assert!(above
            .disable_devices_label()
            .ends_with("(needed: a CA above is still trusted)"));
        let pinned = RevocationPlan {
            provisioned: vec!["d1".into()],
            ..plan()
        };
        assert!(pinned
            .disable_devices_label()
            .ends_with("pinned by thumbprint)"));
    }

    #[test]
    fn revocation_result_counts_failures_and_the_empty_case() {
        assert_eq!(
            revocation_result(3, 1),
            (false, "2 of 3 done; 1 failed, see below.".into())
        );
        assert!(revocation_result(0, 0).1.starts_with("Nothing to revoke"));
        assert!(revocation_result(2, 0).0);
        assert!(revoke_confirm("Intermediate CA").starts_with("Revoke Intermediate CA?"));
    }
}

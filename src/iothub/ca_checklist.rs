//! What the page shows of a CA rollover ([`CaRollover`]): the name the new CA takes, which two
//! CAs are chosen, the checklist, the next action's label and what each action reports.

use super::ca_rollover::{CaRollover, CaRolloverStage};

/// What the retire step asks before it deletes anything.
pub const RETIRE_CONFIRM: &str = "Retire the old CA? It is deleted from the hub and the DPS groups trust only the new one; devices still on the old certificate stop connecting. Click again to confirm.";

/// Why no rollover can be read: the same CA, or one CA only, was chosen.
pub const CHOOSE_TWO_CAS: &str = "Choose two different CAs: the one in use now and the one taking over (make it in step 1 first).";

/// A name for a CA on the hub or DPS from its CN: lowercase letters, digits and dashes, at most
/// 64 characters, `new-ca` when nothing is left.
pub fn ca_name_from_cn(cn: &str) -> String {
    let mut out = String::new();
    for c in cn.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let name: String = out.trim_matches('-').chars().take(64).collect();
    if name.is_empty() {
        "new-ca".into()
    } else {
        name
    }
}

/// The two CAs of a rollover among `count` CAs of the page: `old` as chosen (clamped), `new` as
/// chosen or else the newest (the last); `None` unless they differ.
pub fn rollover_pair(
    count: usize,
    old: usize,
    new: Option<usize>,
) -> (usize, Option<usize>, Option<(usize, usize)>) {
    let old = old.min(count.saturating_sub(1));
    let new = new
        .filter(|i| *i < count)
        .or_else(|| (count > 1).then(|| count - 1));
    let pair = new.filter(|n| *n != old).map(|n| (old, n));
    (old, new, pair)
}

impl CaRolloverStage {
    /// Whether the step deletes trust and so asks first.
    pub fn needs_confirmation(self) -> bool {
        self == Self::RetireOld
    }
}

/// A line of the rollover's checklist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChecklistItem {
    /// Whether the rollover is past it.
    pub done: bool,
    /// Shown greyed: a step the rollover does not need.
    pub muted: bool,
    /// The element id the page gives it, if any.
    pub id: Option<&'static str>,
    /// Its text, with its mark (✓ done, • to do).
    pub text: String,
}

fn mark(done: bool) -> &'static str {
    if done {
        "✓"
    } else {
        "•"
    }
}

fn quoted(names: &[String]) -> String {
    names.join("', '")
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

impl CaRollover {
    fn past(&self, s: CaRolloverStage) -> bool {
        (self.stage as u8) > (s as u8)
    }

    fn item(&self, done: bool, text: String) -> ChecklistItem {
        ChecklistItem {
            done,
            muted: false,
            id: None,
            text: format!("{} {text}", mark(done)),
        }
    }

    /// The checklist, in the order of the stages.
    pub fn checklist(&self) -> Vec<ChecklistItem> {
        use CaRolloverStage::*;
        let hub = if self.hub_needs_new || !self.new_on_hub.is_empty() {
            let on = if self.new_on_hub.is_empty() {
                String::new()
            } else {
                format!(" ('{}')", quoted(&self.new_on_hub))
            };
            self.item(
                self.past(UploadNew),
                format!("New CA verified on the hub{on}"),
            )
        } else {
            ChecklistItem {
                done: true,
                muted: true,
                id: Some("rollover-hub-not-needed"),
                text: "✓ The hub needs no CA: its devices came through DPS, which pins each certificate by thumbprint".into(),
            }
        };
        let groups = if self.groups_old_only.is_empty() {
            format!(" ({} in overlap)", self.groups_both.len())
        } else {
            format!(
                ": {} still trust only the old",
                self.groups_old_only.join(", ")
            )
        };
        let provision = if self.to_provision_again.is_empty() {
            String::new()
        } else {
            format!(
                ": still pinned to the old in the hub: {}",
                self.to_provision_again.join(", ")
            )
        };
        let retired = if self.old_on_hub.is_empty() {
            String::new()
        } else {
            format!(" (still on the hub as '{}')", quoted(&self.old_on_hub))
        };
        vec![
            hub,
            self.item(
                self.past(AddToGroups),
                format!("DPS groups trust it too{groups}"),
            ),
            self.item(
                self.past(Reissue),
                format!(
                    "Devices re-issued under it: {} on the new CA, {} still on the old",
                    self.devices_on_new.len(),
                    self.devices_on_old.len()
                ),
            ),
            ChecklistItem {
                id: Some("rollover-provision"),
                ..self.item(
                    self.past(ProvisionAgain),
                    format!("DPS devices provisioned again with their new certificates{provision}"),
                )
            },
            self.item(self.stage == Done, format!("Old CA retired{retired}")),
        ]
    }

    /// The label of the button that takes the next step (`new_name`: the new CA's name on the hub).
    pub fn next_label(&self, new_name: &str) -> String {
        match self.stage {
            CaRolloverStage::UploadNew => {
                format!("Upload the new CA to the hub as '{new_name}' and prove possession")
            }
            CaRolloverStage::AddToGroups => format!(
                "Add the new CA to {} DPS group{}",
                self.groups_old_only.len(),
                plural(self.groups_old_only.len())
            ),
            CaRolloverStage::Reissue => format!(
                "Re-issue {} device{} under the new CA (their own keys)",
                self.devices_on_old.len(),
                plural(self.devices_on_old.len())
            ),
            CaRolloverStage::ProvisionAgain => format!(
                "Check again: {} DPS device{} to provision with the new certificate",
                self.to_provision_again.len(),
                plural(self.to_provision_again.len())
            ),
            CaRolloverStage::RetireOld => "Retire the old CA".to_owned(),
            CaRolloverStage::Done => "Rolled over".to_owned(),
        }
    }

    /// What the ProvisionAgain and Done stages report (the page does nothing there: the devices
    /// provision themselves); `None` for a stage that acts.
    pub fn nothing_to_do(&self) -> Option<String> {
        match self.stage {
            CaRolloverStage::ProvisionAgain => Some(format!(
                "Still pinned to their old certificates in the hub: {}. Provision each again with its new certificate (on the device, or with the provisioning test here after importing its new .pfx): DPS then writes the new thumbprint.",
                self.to_provision_again.join(", ")
            )),
            CaRolloverStage::Done => Some("Nothing left to do.".into()),
            _ => None,
        }
    }
}

/// After the upload: the new CA's name on the hub.
pub fn uploaded_note(name: &str) -> String {
    format!("The new CA is on the hub as '{name}', verified: the hub trusts both CAs now.")
}

/// After the groups took the new CA as their secondary.
pub fn groups_added_note(groups: &[String]) -> String {
    format!(
        "The new CA is the secondary of {}: devices under either CA register.",
        groups.join(", ")
    )
}

/// After `n` devices were re-issued.
pub fn reissued_note(n: usize) -> String {
    format!(
        "{n} device certificate{} re-issued under the new CA, each with its own key: install them (the zip below), then retire the old CA.",
        plural(n)
    )
}

/// After the old CA was retired.
pub const RETIRED_NOTE: &str = "The old CA is retired: the hub and DPS trust only the new one.";

#[cfg(test)]
mod tests {
    use super::*;

    fn standing(stage: CaRolloverStage) -> CaRollover {
        CaRollover {
            new_on_hub: Vec::new(),
            old_on_hub: vec!["old-ca".into()],
            groups_old_only: vec!["g1".into()],
            groups_both: Vec::new(),
            groups_new_only: Vec::new(),
            new_on_dps: Vec::new(),
            devices_on_old: vec!["d1".into(), "d2".into()],
            devices_on_new: Vec::new(),
            to_provision_again: vec!["d3".into()],
            hub_needs_new: true,
            stage,
        }
    }

    #[test]
    fn ca_name_from_cn_keeps_letters_and_digits_joined_by_single_dashes() {
        assert_eq!(ca_name_from_cn("IoT Root CA 2"), "iot-root-ca-2");
        assert_eq!(ca_name_from_cn("  --Ünïcode CA--  "), "n-code-ca");
        assert_eq!(ca_name_from_cn("***"), "new-ca");
        assert_eq!(ca_name_from_cn(&"a".repeat(80)).len(), 64);
    }

    #[test]
    fn rollover_pair_takes_the_newest_ca_and_refuses_the_same_twice() {
        assert_eq!(rollover_pair(3, 0, None), (0, Some(2), Some((0, 2))));
        assert_eq!(rollover_pair(3, 7, Some(1)), (2, Some(1), Some((2, 1))));
        assert_eq!(rollover_pair(3, 1, Some(1)), (1, Some(1), None));
        assert_eq!(rollover_pair(1, 0, None), (0, None, None));
        assert_eq!(rollover_pair(0, 0, Some(0)), (0, None, None));
    }

    #[test]
    fn checklist_marks_the_stages_passed() {
        let items = standing(CaRolloverStage::Reissue).checklist();
        let done: Vec<bool> = items.iter().map(|i| i.done).collect();
        assert_eq!(done, [true, true, false, false, false]);
        assert!(items[0].text.starts_with("✓ New CA verified on the hub"));
        assert!(items[1].text.ends_with(": g1 still trust only the old"));
        assert_eq!(
            items[2].text,
            "• Devices re-issued under it: 0 on the new CA, 2 still on the old"
        );
        assert_eq!(items[3].id, Some("rollover-provision"));
        assert!(items[4].text.ends_with("(still on the hub as 'old-ca')"));
        assert!(standing(CaRolloverStage::Done)
            .checklist()
            .iter()
            .all(|i| i.done));
    }

    #[test]
    fn checklist_says_when_the_hub_needs_no_ca() {
        let r = CaRollover {
            hub_needs_new: false,
            ..standing(CaRolloverStage::AddToGroups)
        };
        let first = &r.checklist()[0];
        assert!(first.done && first.muted);
        assert_eq!(first.id, Some("rollover-hub-not-needed"));
    }

    #[test]
    fn next_label_names_the_next_step_and_its_count() {
        let label = |s| standing(s).next_label("new-ca");
        assert_eq!(
            label(CaRolloverStage::UploadNew),
            "Upload the new CA to the hub as 'new-ca' and prove possession"
        );
        assert_eq!(
            label(CaRolloverStage::AddToGroups),
            "Add the new CA to 1 DPS group"
        );
        assert_eq!(
            label(CaRolloverStage::Reissue),
            "Re-issue 2 devices under the new CA (their own keys)"
        );
        assert_eq!(label(CaRolloverStage::RetireOld), "Retire the old CA");
        assert!(CaRolloverStage::RetireOld.needs_confirmation());
        assert!(!CaRolloverStage::Reissue.needs_confirmation());
    }

    #[test]
    fn only_the_waiting_stages_have_nothing_to_do() {
        assert!(standing(CaRolloverStage::ProvisionAgain)
            .nothing_to_do()
            .is_some_and(|m| m.contains("hub: d3.")));
        assert_eq!(
            standing(CaRolloverStage::Done).nothing_to_do().as_deref(),
            Some("Nothing left to do.")
        );
        assert_eq!(standing(CaRolloverStage::UploadNew).nothing_to_do(), None);
    }

    #[test]
    fn notes_count_in_the_singular_and_plural() {
        assert!(reissued_note(1).starts_with("1 device certificate re-issued"));
        assert!(reissued_note(2).starts_with("2 device certificates re-issued"));
        assert!(groups_added_note(&["a".into(), "b".into()]).contains("secondary of a, b:"));
        assert!(uploaded_note("n").contains("as 'n'"));
    }
}

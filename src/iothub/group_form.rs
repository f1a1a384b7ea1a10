//! The DPS enrollment group form's decisions: which CA choice is in effect, the group the form
//! describes (or why it is refused), the initial twin and reprovision policy typed, and what the
//! page says after each action.

use super::client::SavedGroup;
use crate::contract::{EnrollmentGroup, EnrollmentId, X509CertificateWithInfo};
use crate::pki::Certificate;

/// The primary CA choice in effect: `ca-N` only while the page has that CA (else its first CA),
/// `paste` when the page has none.
pub fn effective_ca_choice(chosen: &str, cas: usize) -> String {
    match chosen
        .strip_prefix("ca-")
        .and_then(|i| i.parse::<usize>().ok())
    {
        Some(i) if i < cas => chosen.to_owned(),
        Some(_) if cas > 0 => "ca-0".to_owned(),
        _ => "paste".to_owned(),
    }
}

/// The index of the page's CA a choice `ca-N` names.
pub fn chosen_ca_index(choice: &str) -> Option<usize> {
    choice.strip_prefix("ca-").and_then(|i| i.parse().ok())
}

/// How the group trusts its devices' CA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupTrust {
    /// Symmetric keys: DPS makes them and answers with them.
    SymmetricKey,
    /// A CA certificate uploaded to DPS and proven there, by name.
    Reference(String),
    /// The CA certificate in the group.
    Signing {
        /// The primary's PEM (`None` when the choice gives none).
        primary: Option<String>,
        /// Whether it was pasted (and so must be checked).
        pasted: bool,
        /// A secondary's PEM, during a rollover.
        secondary: Option<String>,
    },
}

/// What the form says of a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupForm {
    /// The enrollment group id as typed.
    pub id: String,
    /// How it trusts its devices' CA.
    pub trust: GroupTrust,
    /// Whether devices may register.
    pub enabled: bool,
    /// The initial twin as typed (empty: none).
    pub initial_twin: String,
    /// `migrate`, `reset` or `never`.
    pub reprovision: String,
    /// Whether its devices are IoT Edge devices.
    pub iot_edge: bool,
}

impl GroupForm {
    /// The group to save, or what is wrong with the form.
    pub fn group(&self) -> Result<EnrollmentGroup, String> {
        let id = self.id.trim();
        EnrollmentId::parse(id).map_err(|e| format!("Enrollment group id: {e}"))?;
        let mut group = match &self.trust {
            GroupTrust::SymmetricKey => EnrollmentGroup::symmetric_key(id, None, None),
            GroupTrust::Reference(name) => super::certificate_name(name)
                .map(|name| EnrollmentGroup::x509_ca_references(id, &name, None))
                .map_err(|e| format!("CA certificate name on DPS: {e}"))?,
            GroupTrust::Signing {
                primary,
                pasted,
                secondary,
            } => {
                let Some(first) = primary else {
                    return Err(if *pasted {
                        "Paste the CA certificate (PEM) the group's devices chain to.".into()
                    } else {
                        "Make a root CA in step 1 first, or paste a CA certificate.".into()
                    });
                };
                if *pasted {
                    Certificate::from_pem(first)
                        .map_err(|e| format!("The pasted CA certificate: {e}"))?;
                }
                // The same CA twice is one CA.
                let second = secondary.as_deref().filter(|s| s != first);
                EnrollmentGroup::x509_signing(id, first, second)
            }
        };
        if !self.enabled {
            group.provisioning_status = Some("disabled".into());
        }
        group.initial_twin = initial_twin(&self.initial_twin)?;
        group.reprovision_policy = Some(reprovision_policy(&self.reprovision));
        group.capabilities = Some(serde_json::json!({ "iotEdge": self.iot_edge }));
        Ok(group)
    }
}

/// The initial twin typed in the form: empty for none, else a JSON object with `tags` and/or
/// `properties.desired`.
pub fn initial_twin(text: &str) -> Result<Option<serde_json::Value>, String> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    let v: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| format!("Initial twin: not JSON ({e}). Example: {{\"tags\": {{\"site\": \"plant-7\"}}, \"properties\": {{\"desired\": {{\"interval\": 30}}}}}}"))?;
    let Some(o) = v.as_object() else {
        return Err(
            "Initial twin: a JSON object with \"tags\" and/or \"properties\": {\"desired\": …}."
                .into(),
        );
    };
    if let Some(k) = o.keys().find(|k| *k != "tags" && *k != "properties") {
        return Err(format!("Initial twin: '{k}' is not part of an initial twin; use \"tags\" and \"properties\": {{\"desired\": …}}."));
    }
    Ok(Some(v))
}

/// DPS's reprovision policy for the form's choice (`migrate` when unknown, DPS's default).
pub fn reprovision_policy(choice: &str) -> serde_json::Value {
    let (update, migrate) = match choice {
        "reset" => (true, false),
        "never" => (false, true),
        _ => (true, true),
    };
    serde_json::json!({"updateHubAssignment": update, "migrateDeviceData": migrate})
}

/// What a saved group says: created or updated, its status, and which devices may register.
pub fn saved_group_line(saved: &SavedGroup) -> String {
    let g = &saved.item;
    let trusts = match (g.signing_entries().len(), g.ca_references().first()) {
        _ if g.attestation.is_symmetric_key() => {
            "devices signing with a key derived from the group's key (below) may register"
                .to_owned()
        }
        (0, Some(name)) => {
            format!("devices whose chain reaches the DPS certificate '{name}' may register")
        }
        (1, _) => "devices whose chain reaches this CA may register".to_owned(),
        _ => "devices whose chain reaches either CA may register".to_owned(),
    };
    format!(
        "{} enrollment group {} ({}){}: {trusts}.",
        if saved.replaced { "Updated" } else { "Created" },
        g.enrollment_group_id,
        if g.is_enabled() {
            "enabled"
        } else {
            "disabled"
        },
        if saved.retried {
            ", after one retry with a fresh etag"
        } else {
            ""
        },
    )
}

/// A signing certificate's subject for the group list: what DPS says of it (its answers carry
/// `info`, not the certificate), else read from the certificate.
pub fn signing_subject(entry: &X509CertificateWithInfo) -> String {
    if let Some(info) = &entry.info {
        return info.subject_name.clone();
    }
    entry
        .certificate
        .as_deref()
        .and_then(|pem| Certificate::from_pem(pem).and_then(|c| c.info()).ok())
        .map(|i| i.subject)
        .unwrap_or_else(|| "(not a readable certificate)".into())
}

/// What "Delete" asks for group `id`.
pub fn group_delete_confirm(id: &str) -> String {
    format!("Delete enrollment group {id}? Its devices can no longer register (those already on a hub stay there). Click Delete again to confirm.")
}

/// What listing found.
pub fn groups_listed(n: usize) -> String {
    format!(
        "{n} enrollment group{} on this DPS.",
        if n == 1 { "" } else { "s" }
    )
}

/// After the CA was uploaded to DPS and proven (`adopted`: it was there already).
pub fn proven_on_dps(name: &str, adopted: bool) -> String {
    format!(
        "'{name}' is on DPS and verified{}: an enrollment group may now refer to it.",
        if adopted {
            " (it was already there)"
        } else {
            " (proof of possession)"
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::{CertificateAuthority, RootCaParams};
    use time::OffsetDateTime;

    fn pem() -> String {
        let now = OffsetDateTime::from_unix_timestamp(1_767_225_600).unwrap();
        CertificateAuthority::create_root(&RootCaParams::default(), now)
            .unwrap()
            .certificate()
            .pem()
    }

    fn form(trust: GroupTrust) -> GroupForm {
        GroupForm {
            id: " fleet ".into(),
            trust,
            enabled: true,
            initial_twin: String::new(),
            reprovision: "migrate".into(),
            iot_edge: false,
        }
    }

    #[test]
    fn the_ca_choice_falls_back_to_the_first_ca_then_a_paste() {
        assert_eq!(effective_ca_choice("ca-1", 2), "ca-1");
        assert_eq!(effective_ca_choice("ca-3", 2), "ca-0");
        assert_eq!(effective_ca_choice("ca-0", 0), "paste");
        assert_eq!(effective_ca_choice("paste", 2), "paste");
        assert_eq!(chosen_ca_index("ca-4"), Some(4));
        assert_eq!(chosen_ca_index("paste"), None);
    }

    #[test]
    fn a_signing_group_takes_its_ca_whole_and_one_secondary() {
        let ca = pem();
        let g = form(GroupTrust::Signing {
            primary: Some(ca.clone()),
            pasted: true,
            secondary: Some(ca.clone()),
        })
        .group()
        .unwrap();
        assert_eq!(g.enrollment_group_id, "fleet");
        // The same CA as secondary is left out.
        assert_eq!(g.signing_entries().len(), 1);
        assert!(g.is_enabled());
        assert_eq!(g.capabilities, Some(serde_json::json!({"iotEdge": false})));
    }

    #[test]
    fn the_form_refuses_a_bad_id_a_missing_or_unreadable_ca_and_a_bad_twin() {
        let bad_id = GroupForm {
            id: "no spaces".into(),
            ..form(GroupTrust::SymmetricKey)
        };
        assert!(bad_id
            .group()
            .unwrap_err()
            .starts_with("Enrollment group id:"));
        let missing = |pasted| {
            form(GroupTrust::Signing {
                primary: None,
                pasted,
                secondary: None,
            })
            .group()
            .unwrap_err()
        };
        assert!(missing(true).starts_with("Paste the CA certificate"));
        assert!(missing(false).starts_with("Make a root CA"));
        let unreadable = form(GroupTrust::Signing {
            primary: Some("not a PEM".into()),
            pasted: true,
            secondary: None,
        });
        assert!(unreadable
            .group()
            .unwrap_err()
            .starts_with("The pasted CA certificate:"));
        let twin = GroupForm {
            initial_twin: "{\"x\": 1}".into(),
            ..form(GroupTrust::SymmetricKey)
        };
        assert!(twin
            .group()
            .unwrap_err()
            .contains("'x' is not part of an initial twin"));
        assert!(form(GroupTrust::Reference("bad name!".into()))
            .group()
            .unwrap_err()
            .starts_with("CA certificate name on DPS:"));
    }

    #[test]
    fn a_disabled_reference_group_says_so_and_keeps_its_options() {
        let g = GroupForm {
            enabled: false,
            reprovision: "never".into(),
            iot_edge: true,
            initial_twin: "{\"tags\": {\"site\": \"a\"}}".into(),
            ..form(GroupTrust::Reference("root-ca".into()))
        }
        .group()
        .unwrap();
        assert_eq!(g.provisioning_status.as_deref(), Some("disabled"));
        assert_eq!(g.ca_references(), ["root-ca"]);
        assert_eq!(
            g.reprovision_policy,
            Some(serde_json::json!({"updateHubAssignment": false, "migrateDeviceData": true}))
        );
        assert!(g.initial_twin.is_some());
    }

    #[test]
    fn initial_twin_and_policy_read_the_form() {
        assert_eq!(initial_twin("  "), Ok(None));
        assert!(initial_twin("[1]").unwrap_err().contains("a JSON object"));
        assert!(initial_twin("{")
            .unwrap_err()
            .starts_with("Initial twin: not JSON"));
        assert_eq!(
            reprovision_policy("reset"),
            serde_json::json!({"updateHubAssignment": true, "migrateDeviceData": false})
        );
        assert_eq!(
            reprovision_policy("anything"),
            serde_json::json!({"updateHubAssignment": true, "migrateDeviceData": true})
        );
    }

    #[test]
    fn saved_line_says_what_was_done_and_who_may_register() {
        let saved = SavedGroup {
            item: EnrollmentGroup::x509_ca_references("fleet", "root-ca", None),
            replaced: true,
            retried: true,
        };
        assert_eq!(
            saved_group_line(&saved),
            "Updated enrollment group fleet (enabled), after one retry with a fresh etag: devices whose chain reaches the DPS certificate 'root-ca' may register."
        );
        let created = SavedGroup {
            item: EnrollmentGroup::symmetric_key("keys", None, None),
            replaced: false,
            retried: false,
        };
        assert!(saved_group_line(&created)
            .starts_with("Created enrollment group keys (enabled): devices signing"));
    }

    #[test]
    fn texts_for_the_list_delete_and_proof() {
        assert_eq!(groups_listed(1), "1 enrollment group on this DPS.");
        assert_eq!(groups_listed(0), "0 enrollment groups on this DPS.");
        assert!(group_delete_confirm("g").starts_with("Delete enrollment group g?"));
        assert!(proven_on_dps("n", true).contains("(it was already there)"));
        let entry = X509CertificateWithInfo {
            certificate: Some(pem()),
            info: None,
        };
        assert!(signing_subject(&entry).contains("IoT Root CA"));
        let unreadable = X509CertificateWithInfo {
            certificate: Some("x".into()),
            info: None,
        };
        assert_eq!(signing_subject(&unreadable), "(not a readable certificate)");
    }
}

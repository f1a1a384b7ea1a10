//! Revoking a CA as IoT Hub allows it: the hub checks no CRL, so what takes a CA's devices down is
//! the CA leaving the hub (and DPS) — unless a CA above it is verified there too, which keeps
//! trusting them — and the devices being disabled in the registry. This works out, before
//! anything is deleted, what the hub, DPS and the page hold of a CA and what revoking it takes down.

use crate::contract::EnrollmentGroup;
use crate::pki::{is_signed_by, Certificate};

use super::HubCertificate;

/// What revoking one CA involves.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RevocationPlan {
    /// The hub's CA certificates that are this CA (deleted by the revocation).
    pub on_hub: Vec<String>,
    /// The hub's verified CA certificates of a CA above it: while they stay, the hub still trusts
    /// every device under this CA, so those devices must be disabled one by one.
    pub trusted_above_on_hub: Vec<String>,
    /// DPS's CA certificates that are this CA.
    pub on_dps: Vec<String>,
    /// DPS enrollment groups that trust this CA (its certificate in the group, or a reference to
    /// a DPS certificate of it): disabled by the revocation.
    pub dps_groups: Vec<String>,
    /// DPS enrollment groups that trust a CA above it: they still admit its devices.
    pub dps_groups_above: Vec<String>,
    /// Device ids on the page whose certificate chains through this CA.
    pub devices: Vec<String>,
    /// Of `devices`, those DPS provisioned (or, where DPS's registrations were not read, may
    /// have: a group trusting this CA or one above admits them). DPS wrote them into the hub as
    /// thumbprint devices ([`super::HubPath::Provisioned`]), which the CA leaving the hub does not
    /// stop: each is disabled in the hub, and the groups disabled keep them from provisioning
    /// again.
    pub provisioned: Vec<String>,
}

impl RevocationPlan {
    /// Whether deleting the CA from the hub alone stops its devices connecting: not while a CA
    /// above it is verified there, nor for devices DPS provisioned (pinned by thumbprint).
    pub fn deletion_suffices(&self) -> bool {
        self.trusted_above_on_hub.is_empty() && self.provisioned.is_empty()
    }
}

/// What the services and the page hold of the CA `target`.
pub struct RevocationInputs<'a> {
    /// The CA to revoke.
    pub target: &'a Certificate,
    /// The CAs above it, nearest first.
    pub above: &'a [Certificate],
    /// The CAs of the page below it (intermediates it signed, and theirs).
    pub below: &'a [Certificate],
    /// The hub's CA certificates.
    pub hub: &'a [HubCertificate],
    /// DPS's CA certificates (empty when DPS is not used).
    pub dps: &'a [HubCertificate],
    /// DPS's enrollment groups (empty when DPS is not used).
    pub groups: &'a [EnrollmentGroup],
    /// The page's device certificates, with their ids.
    pub devices: &'a [(String, Certificate)],
    /// Registration ids DPS reports assigned, when its registrations were read; `None` when not
    /// (then every device a group admits may have been provisioned).
    pub dps_assigned: Option<&'a [String]>,
}

fn sha1_of(cert: &Certificate) -> String {
    cert.sha1_thumbprint().as_str().to_owned()
}

/// The thumbprints (SHA-1) of a group's signing certificates: DPS's `info`, or the certificate
/// itself when the answer carries it.
pub(super) fn group_signing_sha1(group: &EnrollmentGroup) -> Vec<String> {
    group
        .signing_entries()
        .into_iter()
        .filter_map(|e| match (&e.info, &e.certificate) {
            (Some(info), _) if !info.sha1_thumbprint.is_empty() => {
                Some(info.sha1_thumbprint.to_ascii_uppercase())
            }
            (_, Some(pem)) => Certificate::from_pem(pem).ok().map(|c| sha1_of(&c)),
            _ => None,
        })
        .collect()
}

/// Works out the plan. Names are listed in the services' order, device ids in the page's.
pub fn plan_revocation(inputs: &RevocationInputs<'_>) -> RevocationPlan {
    let target = sha1_of(inputs.target);
    let above: Vec<String> = inputs.above.iter().map(sha1_of).collect();
    let holds = |c: &HubCertificate, t: &str| c.thumbprint.eq_ignore_ascii_case(t);
    let on_hub = inputs
        .hub
        .iter()
        .filter(|c| holds(c, &target))
        .map(|c| c.name.clone())
        .collect();
    let trusted_above_on_hub = inputs
        .hub
        .iter()
        .filter(|c| c.is_verified && above.iter().any(|a| holds(c, a)))
        .map(|c| c.name.clone())
        .collect();
    let on_dps: Vec<String> = inputs
        .dps
        .iter()
        .filter(|c| holds(c, &target))
        .map(|c| c.name.clone())
        .collect();
    let dps_above: Vec<&str> = inputs
        .dps
        .iter()
        .filter(|c| above.iter().any(|a| holds(c, a)))
        .map(|c| c.name.as_str())
        .collect();
    let mut dps_groups = Vec::new();
    let mut dps_groups_above = Vec::new();
    for g in inputs.groups {
        let signing = group_signing_sha1(g);
        let refs = g.ca_references();
        let is_target = signing.iter().any(|s| s.eq_ignore_ascii_case(&target))
            || refs.iter().any(|r| on_dps.iter().any(|n| n == r));
        let is_above = signing
            .iter()
            .any(|s| above.iter().any(|a| s.eq_ignore_ascii_case(a)))
            || refs.iter().any(|r| dps_above.contains(r));
        if is_target {
            dps_groups.push(g.enrollment_group_id.clone());
        } else if is_above {
            dps_groups_above.push(g.enrollment_group_id.clone());
        }
    }
    let signers: Vec<&Certificate> = std::iter::once(inputs.target)
        .chain(inputs.below.iter())
        .collect();
    let mut devices: Vec<String> = Vec::new();
    for (id, cert) in inputs.devices {
        if !devices.contains(id)
            && signers
                .iter()
                .any(|ca| is_signed_by(cert, ca).unwrap_or(false))
        {
            devices.push(id.clone());
        }
    }
    let admitted_by_dps = !dps_groups.is_empty() || !dps_groups_above.is_empty();
    let provisioned = devices
        .iter()
        .filter(|id| match inputs.dps_assigned {
            Some(assigned) => assigned.contains(id),
            None => admitted_by_dps,
        })
        .cloned()
        .collect();
    RevocationPlan {
        on_hub,
        trusted_above_on_hub,
        on_dps,
        dps_groups,
        dps_groups_above,
        devices,
        provisioned,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::{EnrollmentGroup, X509CertificateInfo};
    use crate::pki::{CertificateAuthority, IntermediateCaParams, RootCaParams};
    use time::OffsetDateTime;

    fn on(name: &str, cert: &Certificate, verified: bool) -> HubCertificate {
        HubCertificate {
            name: name.into(),
            etag: "e".into(),
            subject: String::new(),
            expiry: String::new(),
            thumbprint: cert.sha1_thumbprint().as_str().to_ascii_lowercase(),
            is_verified: verified,
            verification_code: None,
        }
    }

    #[test]
    fn dps_groups_are_matched_by_what_dps_says_and_by_reference() {
        let now = OffsetDateTime::now_utc();
        let root = CertificateAuthority::create_root(&RootCaParams::default(), now).unwrap();
        let inter = root
            .issue_intermediate(
                &IntermediateCaParams {
                    subject: RootCaParams {
                        common_name: "Line".into(),
                        ..RootCaParams::default()
                    },
                    path_len: Some(0),
                },
                now,
            )
            .unwrap();
        fn described(c: &Certificate) -> impl Fn(&str) -> Option<X509CertificateInfo> {
            let sha1 = c.sha1_thumbprint().as_str().to_owned();
            move |_: &str| {
                Some(X509CertificateInfo {
                    sha1_thumbprint: sha1.clone(),
                    ..Default::default()
                })
            }
        }
        let by_info = EnrollmentGroup::x509_signing("by-info", "x", None)
            .answered(described(inter.certificate()));
        let by_pem = EnrollmentGroup::x509_signing("by-pem", &inter.certificate().pem(), None);
        let by_ref = EnrollmentGroup::x509_ca_references("by-ref", "dps-line", None);
        let above = EnrollmentGroup::x509_signing("above", "x", None)
            .answered(described(root.certificate()));
        let above_ref = EnrollmentGroup::x509_ca_references("above-ref", "dps-root", None);
        let dps = [
            on("dps-line", inter.certificate(), true),
            on("dps-root", root.certificate(), true),
        ];
        let hub = [on("hub-line", inter.certificate(), false)];
        let plan = plan_revocation(&RevocationInputs {
            target: inter.certificate(),
            above: &[root.certificate().clone()],
            below: &[],
            hub: &hub,
            dps: &dps,
            groups: &[by_info, by_pem, by_ref, above, above_ref],
            devices: &[],
            dps_assigned: None,
        });
        assert_eq!(plan.on_hub, ["hub-line"]);
        assert_eq!(plan.on_dps, ["dps-line"]);
        assert_eq!(plan.dps_groups, ["by-info", "by-pem", "by-ref"]);
        assert_eq!(plan.dps_groups_above, ["above", "above-ref"]);
        // An unverified root on the hub trusts nothing.
        assert!(plan.deletion_suffices());
    }

    #[test]
    fn devices_dps_provisioned_are_not_stopped_by_the_ca_leaving_the_hub() {
        use crate::contract::DeviceId;
        use crate::pki::{DeviceCertParams, KeyAlgorithm, ValidityDays};
        let now = OffsetDateTime::now_utc();
        let root = CertificateAuthority::create_root(&RootCaParams::default(), now).unwrap();
        let issue = |id: &str| {
            root.issue_device_identity(
                &DeviceCertParams {
                    device_id: DeviceId::parse(id).unwrap(),
                    validity: ValidityDays::new(30).unwrap(),
                },
                KeyAlgorithm::EcdsaP256,
                now,
            )
            .unwrap()
            .certificate
        };
        let devices = [
            ("by-dps".to_owned(), issue("by-dps")),
            ("by-hand".to_owned(), issue("by-hand")),
        ];
        let group = EnrollmentGroup::x509_signing("fleet", &root.certificate().pem(), None);
        let hub = [on("fleet-root", root.certificate(), true)];
        let plan_with = |assigned: Option<&[String]>| {
            plan_revocation(&RevocationInputs {
                target: root.certificate(),
                above: &[],
                below: &[],
                hub: &hub,
                dps: &[],
                groups: std::slice::from_ref(&group),
                devices: &devices,
                dps_assigned: assigned,
            })
        };
        // DPS says which devices it assigned: those are thumbprint devices in the hub, so
        // deleting the CA there does not stop them; each is disabled in the hub.
        let assigned = ["by-dps".to_owned()];
        let plan = plan_with(Some(&assigned));
        assert_eq!(plan.on_hub, ["fleet-root"]);
        assert_eq!(plan.dps_groups, ["fleet"]);
        assert_eq!(plan.provisioned, ["by-dps"]);
        assert!(!plan.deletion_suffices());
        // Not read: every device a group admits may have been provisioned.
        assert_eq!(plan_with(None).provisioned, ["by-dps", "by-hand"]);
        // None assigned: deleting the CA from the hub stops them (CA-signed in the hub).
        assert!(plan_with(Some(&[])).deletion_suffices());
    }
}

//! What every DPS device transport (MQTT, MQTT over WebSockets, HTTPS) shares: which enrollment
//! admits a device ([`attest`], by its X.509 certificate or its symmetric-key SAS token), and what
//! its registration does ([`conclude`]: [`assign`] it to localhub's hub, or [`refuse_disabled`]).

use std::time::Duration;

use hubcert::contract::{
    derive_device_key, verify_registration_token, EnrollmentGroup, IndividualEnrollment,
    RegistrationOperation, RegistrationState, RegistrationStatus, SymmetricKeyRegistrationResult,
    X509RegistrationResult,
};
use hubcert::pki::Certificate;
use rustls_pki_types::{CertificateDer, UnixTime};

use super::service::describe_certificate;
use crate::store::{now_unix, CertStore, DeviceAuth, DeviceRecord, Hub};

/// How a registering device proves who it is.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Credential<'a> {
    /// The certificates it presented in the TLS handshake, leaf first (X.509 attestation).
    Certificates(&'a [CertificateDer<'static>]),
    /// A SAS token signed with its symmetric key: the `Authorization` header over HTTPS, the
    /// MQTT password over MQTT.
    Sas(&'a str),
}

/// Which enrollment admitted the device: its own individual enrollment, which DPS prefers, or a
/// group.
#[derive(Debug, Clone)]
pub(crate) enum Enrollment {
    Individual(IndividualEnrollment),
    Group(EnrollmentGroup),
}

/// A device DPS admitted: the enrollment, the hub identity its registration writes, and how it
/// attested as its registration state says it (`x509` or `symmetricKey`).
#[derive(Debug, Clone)]
pub(crate) struct Attested {
    pub(crate) enrollment: Enrollment,
    auth: DeviceAuth,
    how: How,
}

#[derive(Debug, Clone)]
enum How {
    X509(Box<X509RegistrationResult>),
    SymmetricKey,
}

impl Attested {
    fn is_enabled(&self) -> bool {
        match &self.enrollment {
            Enrollment::Individual(e) => e.is_enabled(),
            Enrollment::Group(g) => g.is_enabled(),
        }
    }

    /// The enrollment's initial twin, reprovision policy and IoT Edge flag.
    fn settings(&self) -> (Option<&serde_json::Value>, Option<&serde_json::Value>, bool) {
        match &self.enrollment {
            Enrollment::Individual(e) => (
                e.initial_twin.as_ref(),
                e.reprovision_policy.as_ref(),
                e.extra
                    .get("capabilities")
                    .and_then(|c| c.get("iotEdge"))
                    .and_then(serde_json::Value::as_bool)
                    .unwrap_or(false),
            ),
            Enrollment::Group(g) => (
                g.initial_twin.as_ref(),
                g.reprovision_policy.as_ref(),
                g.capabilities
                    .as_ref()
                    .and_then(|c| c.get("iotEdge"))
                    .and_then(serde_json::Value::as_bool)
                    .unwrap_or(false),
            ),
        }
    }

    fn describe(&self) -> String {
        match &self.enrollment {
            Enrollment::Individual(e) => format!("Enrollment {}", e.registration_id),
            Enrollment::Group(g) => format!("Enrollment group {}", g.enrollment_group_id),
        }
    }

    fn group_id(&self) -> Option<String> {
        match &self.enrollment {
            Enrollment::Group(g) => Some(g.enrollment_group_id.clone()),
            Enrollment::Individual(_) => None,
        }
    }

    /// A registration state with what says how the device attested.
    fn state(&self, state: RegistrationState) -> RegistrationState {
        match &self.how {
            How::X509(x) => RegistrationState {
                x509: Some(X509RegistrationResult {
                    enrollment_group_id: self.group_id(),
                    ..(**x).clone()
                }),
                ..state
            },
            How::SymmetricKey => RegistrationState {
                symmetric_key: Some(SymmetricKeyRegistrationResult {
                    enrollment_group_id: self.group_id(),
                }),
                ..state
            },
        }
    }

    fn device_id(&self, registration_id: &str) -> String {
        match &self.enrollment {
            Enrollment::Group(_) => registration_id.to_owned(),
            Enrollment::Individual(e) => e.hub_device_id().to_owned(),
        }
    }
}

/// Which enrollment admits `registration_id` of `id_scope` presenting `credential`, or why none
/// does. DPS looks for the device's own individual enrollment first, then a group; a disabled
/// one admits too (the registration then ends `disabled`).
pub(crate) fn attest(
    hub: &Hub,
    id_scope: &str,
    registration_id: &str,
    credential: Credential<'_>,
) -> Result<Attested, String> {
    if id_scope != hub.config.id_scope {
        return Err(format!("unknown ID scope {id_scope}"));
    }
    match credential {
        Credential::Certificates(peer) => attest_x509(hub, registration_id, peer),
        Credential::Sas(token) => attest_symmetric_key(hub, id_scope, registration_id, token),
    }
}

fn attest_x509(
    hub: &Hub,
    registration_id: &str,
    peer: &[CertificateDer<'static>],
) -> Result<Attested, String> {
    let Some(leaf) = peer.first() else {
        return Err("no client certificate and no SAS token".into());
    };
    let cn = Certificate::from_der(leaf.to_vec())
        .ok()
        .and_then(|c| c.info().ok())
        .and_then(|i| i.common_name);
    if cn.as_deref() != Some(registration_id) {
        return Err(format!(
            "the certificate's CN ({}) is not the registration id {registration_id}",
            cn.as_deref().unwrap_or("none")
        ));
    }
    let presented = Certificate::from_der(leaf.to_vec()).ok();
    let how = How::X509(Box::new(X509RegistrationResult {
        certificate_info: presented.as_ref().and_then(describe_certificate),
        ..Default::default()
    }));
    if let Some(e) = enrollment_for(hub, registration_id, leaf) {
        return Ok(Attested {
            auth: x509_auth(&thumbprints(&e)),
            enrollment: Enrollment::Individual(e),
            how,
        });
    }
    if let Some(g) = group_for(hub, peer) {
        // A group's device is pinned to the certificate it presented.
        let presented = presented
            .and_then(|c| c.info().ok())
            .map(|i| vec![i.sha256.to_string()])
            .unwrap_or_default();
        return Ok(Attested {
            auth: x509_auth(&presented),
            enrollment: Enrollment::Group(g),
            how,
        });
    }
    Err(
        "no individual enrollment holds this certificate and no enrollment group's CA signed it"
            .into(),
    )
}

/// The device's hub keys by what admitted it. Research found no primary source for the exact
/// values DPS writes into the hub for a symmetric-key device; this is what Microsoft's SDK samples
/// rely on (the device connects to the hub with the key it registered with): an individual
/// enrollment's device gets the enrollment's primary and secondary keys, a group's device the
/// keys derived from the group's primary and secondary for its registration id.
fn attest_symmetric_key(
    hub: &Hub,
    id_scope: &str,
    registration_id: &str,
    token: &str,
) -> Result<Attested, String> {
    let now = now_unix().max(0) as u64;
    let mut why = None;
    if let Some(e) = hub
        .read_enrollments(|all| all.get(registration_id).cloned())
        .filter(|e| e.attestation.is_symmetric_key())
    {
        let keys = e.attestation.symmetric_keys();
        match verify_registration_token(token, id_scope, registration_id, &keys, now) {
            Ok(()) => {
                return Ok(Attested {
                    auth: sas_auth(keys.iter().map(|k| (*k).to_owned()).collect()),
                    enrollment: Enrollment::Individual(e),
                    how: How::SymmetricKey,
                })
            }
            Err(err) => why = Some(err.to_string()),
        }
    }
    let groups = hub.read_enrollment_groups(|groups| {
        groups
            .values()
            .filter(|g| g.attestation.is_symmetric_key())
            .cloned()
            .collect::<Vec<_>>()
    });
    for g in groups {
        let keys: Vec<String> = g
            .attestation
            .symmetric_keys()
            .into_iter()
            .filter_map(|k| derive_device_key(k, registration_id).ok())
            .collect();
        let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
        match verify_registration_token(token, id_scope, registration_id, &refs, now) {
            Ok(()) => {
                return Ok(Attested {
                    auth: sas_auth(keys),
                    enrollment: Enrollment::Group(g),
                    how: How::SymmetricKey,
                })
            }
            Err(err) => {
                why.get_or_insert(err.to_string());
            }
        }
    }
    Err(match why {
        Some(why) => format!("no symmetric-key enrollment's key signed this token: {why}"),
        None => "no symmetric-key enrollment or enrollment group".into(),
    })
}

fn sas_auth(keys: Vec<String>) -> DeviceAuth {
    let primary = keys.first().cloned().unwrap_or_default();
    DeviceAuth::Sas {
        secondary: keys.get(1).cloned().unwrap_or_else(|| primary.clone()),
        primary,
    }
}

/// The individual enrollment of `registration_id` whose client certificate is the device's own.
fn enrollment_for(
    hub: &Hub,
    registration_id: &str,
    leaf: &CertificateDer<'static>,
) -> Option<IndividualEnrollment> {
    let enrollment = hub.read_enrollments(|all| all.get(registration_id).cloned())?;
    enrollment
        .client_certificates()
        .into_iter()
        .filter_map(|pem| crate::arm::parse_certificate(pem).ok())
        .any(|c| c.der() == leaf.as_ref())
        .then_some(enrollment)
}

/// SHA-256 thumbprints of an individual enrollment's certificates, primary first: the hub shows
/// SHA-256 where DPS shows SHA-1 (Azure/iotedge#2951, "DPS is showing SHA1 and the hub is showing
/// SHA256").
fn thumbprints(e: &IndividualEnrollment) -> Vec<String> {
    e.client_certificates()
        .into_iter()
        .filter_map(|pem| crate::arm::parse_certificate(pem).ok())
        .filter_map(|c| c.info().ok())
        .map(|i| i.sha256.to_string())
        .collect()
}

/// The hub identity DPS writes for an X.509 device: a self-signed (thumbprint) device, never a
/// CA-signed one, whichever enrollment admitted it (MicrosoftDocs/azure-docs#70976 and #108289,
/// Azure/azure-iot-sdk-csharp#3360: "devices provisioned with DPS always shown as X509
/// self-signed"). A group's device is pinned to the SHA-256 thumbprint of the certificate it
/// presented, in both slots; an individual enrollment's device to its enrollment's certificates,
/// primary and secondary, the primary repeated when there is no secondary (Azure/iotedge#2951:
/// "with only a primary certificate, the primary thumbprint is duplicated into the secondary").
/// So a renewed certificate reaches the hub only when the device provisions again with it.
fn x509_auth(thumbprints: &[String]) -> DeviceAuth {
    DeviceAuth::SelfSigned {
        primary: thumbprints.first().cloned(),
        secondary: thumbprints.get(1).or(thumbprints.first()).cloned(),
    }
}

/// The CA certificates (DER) a group trusts: its signing certificates given whole, and the DPS
/// certificates it references that are verified.
fn anchors_of(hub: &Hub, group: &EnrollmentGroup) -> Vec<Vec<u8>> {
    let mut anchors: Vec<Vec<u8>> = group
        .signing_certificates()
        .into_iter()
        .filter_map(|pem| crate::arm::parse_certificate(pem).ok())
        .map(|c| c.der().to_vec())
        .collect();
    hub.read_certs(CertStore::Dps, |certs| {
        for name in group.ca_references() {
            if let Some(rec) = certs.get(name).filter(|c| c.is_verified) {
                anchors.push(rec.der.clone());
            }
        }
    });
    anchors
}

/// The enabled-or-not group one of whose CAs the device's chain reaches, the most specific first:
/// DPS applies the group of the first certificate up the device's chain that has one ("DPS order of
/// operations with certificates", MicrosoftDocs/azure-docs `articles/iot-dps/concepts-x509-attestation.md`:
/// "the service applies the first applicable entry that it finds"; a disabled group for an
/// intermediate therefore stops its devices even when an enabled group holds the root). The same
/// docs say a certificate belongs to one enrollment entry only; when two groups hold the same CA
/// all the same, the first by group id is applied.
fn group_for(hub: &Hub, peer: &[CertificateDer<'static>]) -> Option<EnrollmentGroup> {
    let leaf = peer.first()?;
    let at = UnixTime::since_unix_epoch(Duration::from_secs(now_unix().max(0) as u64));
    // How many certificates lie between the leaf and the group's CA (0: the CA signed the leaf).
    let distance = |g: &EnrollmentGroup| {
        anchors_of(hub, g)
            .into_iter()
            .filter_map(|der| {
                let ca = CertificateDer::from(der);
                let anchor = webpki::anchor_from_trusted_cert(&ca).ok()?;
                let ee = webpki::EndEntityCert::try_from(leaf).ok()?;
                let anchors = [anchor];
                let path = ee
                    .verify_for_usage(
                        webpki::ALL_VERIFICATION_ALGS,
                        &anchors,
                        &peer[1..],
                        at,
                        webpki::KeyUsage::client_auth(),
                        None,
                        None,
                    )
                    .ok()?;
                Some(path.intermediate_certificates().count())
            })
            .min()
    };
    let mut groups =
        hub.read_enrollment_groups(|groups| groups.values().cloned().collect::<Vec<_>>());
    groups.sort_by(|a, b| a.enrollment_group_id.cmp(&b.enrollment_group_id));
    groups
        .into_iter()
        .filter_map(|g| distance(&g).map(|d| (d, g)))
        .min_by_key(|(d, _)| *d)
        .map(|(_, g)| g)
}

/// What an enrollment's initial twin sets: tags, and desired properties.
fn initial_twin(
    twin: Option<&serde_json::Value>,
) -> (
    serde_json::Map<String, serde_json::Value>,
    serde_json::Map<String, serde_json::Value>,
) {
    let object = |v: Option<&serde_json::Value>| {
        v.and_then(serde_json::Value::as_object)
            .cloned()
            .unwrap_or_default()
    };
    (
        object(twin.and_then(|t| t.get("tags"))),
        object(
            twin.and_then(|t| t.get("properties"))
                .and_then(|p| p.get("desired")),
        ),
    )
}

/// The registration's outcome, as the operation-status answer carries it: assigned when the
/// enrollment is enabled, `disabled` when not. `disabled` is what the service answers: the device
/// API's `RegistrationOperationStatus` enum lists it (azure-rest-api-specs, DPS device.json
/// 2021-10-01), Microsoft's C SDK maps it to `PROV_DEVICE_TRANSPORT_STATUS_DISABLED`
/// (prov_device_ll_client.c) and the .NET client to `ProvisioningRegistrationStatusType.Disabled`
/// ("Device is disabled"). Microsoft's Python SDK alone knows no such status and reports an
/// invalid status: a limit of that client, which ends in failure either way.
pub(crate) fn conclude(
    hub: &Hub,
    registration_id: &str,
    operation_id: &str,
    attested: &Attested,
) -> RegistrationOperation {
    if attested.is_enabled() {
        RegistrationOperation {
            operation_id: operation_id.to_owned(),
            status: RegistrationStatus::Assigned,
            registration_state: Some(assign(hub, registration_id, attested)),
        }
    } else {
        RegistrationOperation {
            operation_id: operation_id.to_owned(),
            status: RegistrationStatus::Disabled,
            registration_state: Some(refuse_disabled(hub, registration_id, attested)),
        }
    }
}

/// Assigns the device to localhub's hub and records its registration state: the device is created,
/// or updated, with the identity its attestation gives (a thumbprint device for X.509, a SAS
/// device for a symmetric key), as DPS does. The first assignment applies the enrollment's initial
/// twin (tags, desired properties) and IoT Edge flag; a later one keeps the device's data, unless
/// the reprovision policy says not to migrate it (`migrateDeviceData: false`): then its twin
/// starts again from the initial twin and the substatus is `deviceDataReset`.
pub(crate) fn assign(hub: &Hub, registration_id: &str, attested: &Attested) -> RegistrationState {
    let etag = hub.next_etag();
    let now = now_unix();
    let stamp = crate::reply::rfc3339(now);
    let device_id = attested.device_id(registration_id);
    let auth = attested.auth.clone();
    hub.write_dps(|dps| {
        let device = dps
            .devices
            .entry(device_id.clone())
            .or_insert_with(|| DeviceRecord {
                device_id: device_id.clone(),
                etag: etag.clone(),
                generation_id: now.to_string(),
                enabled: true,
                auth: auth.clone(),
                reported: Default::default(),
                reported_version: 1,
                last_activity: None,
                service: Default::default(),
            });
        if device.auth != auth {
            device.auth = auth;
            device.etag = etag.clone();
        }
        let (twin, policy, iot_edge) = attested.settings();
        let first = !dps
            .registrations
            .get(registration_id)
            .is_some_and(|r| r.status == Some(RegistrationStatus::Assigned));
        let migrate = policy
            .and_then(|p| p.get("migrateDeviceData"))
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(true);
        let update = policy
            .and_then(|p| p.get("updateHubAssignment"))
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(true);
        let reset = !first && update && !migrate;
        if first || reset {
            let (tags, desired) = initial_twin(twin);
            device.service.tags = tags;
            device.service.desired = desired;
            device.service.iot_edge = iot_edge;
        }
        if reset {
            device.reported.clear();
            device.reported_version += 1;
        }
        let created = dps
            .registrations
            .get(registration_id)
            .and_then(|r| r.created_date_time_utc.clone())
            .unwrap_or_else(|| stamp.clone());
        let state = attested.state(RegistrationState {
            registration_id: registration_id.to_owned(),
            assigned_hub: Some(hub.config.host_name.clone()),
            device_id: Some(device_id.clone()),
            status: Some(RegistrationStatus::Assigned),
            substatus: Some(
                if reset {
                    "deviceDataReset"
                } else {
                    "initialAssignment"
                }
                .into(),
            ),
            created_date_time_utc: Some(created),
            last_updated_date_time_utc: Some(stamp.clone()),
            etag: Some(etag.clone()),
            ..Default::default()
        });
        dps.registrations
            .insert(registration_id.to_owned(), state.clone());
        state
    })
}

/// Records a refused registration (disabled enrollment) as DPS keeps it.
pub(crate) fn refuse_disabled(
    hub: &Hub,
    registration_id: &str,
    attested: &Attested,
) -> RegistrationState {
    let stamp = crate::reply::rfc3339(now_unix());
    let etag = hub.next_etag();
    hub.write_dps(|dps| {
        let created = dps
            .registrations
            .get(registration_id)
            .and_then(|r| r.created_date_time_utc.clone())
            .unwrap_or_else(|| stamp.clone());
        let state = attested.state(RegistrationState {
            registration_id: registration_id.to_owned(),
            status: Some(RegistrationStatus::Disabled),
            error_message: Some(format!("{} is disabled.", attested.describe())),
            created_date_time_utc: Some(created),
            last_updated_date_time_utc: Some(stamp.clone()),
            etag: Some(etag.clone()),
            ..Default::default()
        });
        dps.registrations
            .insert(registration_id.to_owned(), state.clone());
        state
    })
}

//! The Device Provisioning Service's device side over MQTT: the user name, the registration
//! topics and the JSON of a registration and its operation status.
//!
//! ```text
//! user name  {idScope}/registrations/{registrationId}/api-version=2019-03-31
//! subscribe  $dps/registrations/res/#
//! register   $dps/registrations/PUT/iotdps-register/?$rid={rid}            {"registrationId": ...}
//! poll       $dps/registrations/GET/iotdps-get-operationstatus/?$rid={rid}&operationId={op}
//! answer     $dps/registrations/res/{status}/?$rid={rid}[&retry-after={seconds}]
//! ```
//! Sources: MicrosoftDocs/azure-docs `articles/iot/iot-mqtt-connect-to-iot-dps.md`, and the
//! `RegistrationOperationStatus` model of azure-rest-api-specs' DPS device API (2021-10-01).

use std::fmt;

use serde::{Deserialize, Serialize};

use super::sas::{build_token, SasError, SasToken};
use super::topic::{query_param, TopicError};

/// The api-version a device puts in its DPS user name.
pub const DPS_DEVICE_API_VERSION: &str = "2019-03-31";
/// DPS's global device endpoint.
pub const DPS_GLOBAL_HOST: &str = "global.azure-devices-provisioning.net";
/// The filter a registering device subscribes to.
pub const DPS_RESPONSES: &str = "$dps/registrations/res/#";

const RES: &str = "$dps/registrations/res/";
const REGISTER: &str = "$dps/registrations/PUT/iotdps-register/";
const POLL: &str = "$dps/registrations/GET/iotdps-get-operationstatus/";

/// A registering device's MQTT user name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DpsUserName {
    /// The DPS instance's ID scope (`0ne...`).
    pub id_scope: String,
    /// The registration id (for X.509: the certificate's CN).
    pub registration_id: String,
}

impl DpsUserName {
    /// Reads `{idScope}/registrations/{registrationId}/api-version=...`.
    pub fn parse(s: &str) -> Result<Self, TopicError> {
        let err = || TopicError::UserName {
            found: s.to_owned(),
        };
        let (scope, rest) = s.split_once("/registrations/").ok_or_else(err)?;
        let (id, query) = rest.split_once('/').ok_or_else(err)?;
        if scope.is_empty() || id.is_empty() || !query.starts_with("api-version=") {
            return Err(err());
        }
        Ok(Self {
            id_scope: scope.to_owned(),
            registration_id: id.to_owned(),
        })
    }
}

impl fmt::Display for DpsUserName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/registrations/{}/api-version={DPS_DEVICE_API_VERSION}",
            self.id_scope, self.registration_id
        )
    }
}

/// A DPS registration topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DpsTopic {
    /// The device asks to be registered.
    Register {
        /// Request id.
        rid: String,
    },
    /// The device asks how its registration goes.
    OperationStatus {
        /// Request id.
        rid: String,
        /// The operation the 202 named.
        operation_id: String,
    },
    /// DPS answers.
    Response {
        /// 200 done (assigned or failed), 202 in progress, 4xx/5xx refused.
        status: u16,
        /// The request id it answers.
        rid: String,
        /// Seconds to wait before polling, when DPS says.
        retry_after: Option<u32>,
    },
}

impl DpsTopic {
    /// Reads a DPS topic.
    pub fn parse(topic: &str) -> Result<Self, TopicError> {
        let missing_rid = || TopicError::MissingRequestId {
            topic: topic.to_owned(),
        };
        if let Some(q) = topic.strip_prefix(REGISTER) {
            let rid = query_param(q, "$rid").ok_or_else(missing_rid)?;
            return Ok(Self::Register {
                rid: rid.to_owned(),
            });
        }
        if let Some(q) = topic.strip_prefix(POLL) {
            let rid = query_param(q, "$rid").ok_or_else(missing_rid)?;
            let operation_id =
                query_param(q, "operationId").ok_or_else(|| TopicError::Unknown {
                    topic: topic.to_owned(),
                })?;
            return Ok(Self::OperationStatus {
                rid: rid.to_owned(),
                operation_id: operation_id.to_owned(),
            });
        }
        if let Some(rest) = topic.strip_prefix(RES) {
            let (status, q) = rest.split_once("/?").ok_or_else(|| TopicError::BadStatus {
                topic: topic.to_owned(),
            })?;
            let status = status.parse().map_err(|_| TopicError::BadStatus {
                topic: topic.to_owned(),
            })?;
            let rid = query_param(q, "$rid").ok_or_else(missing_rid)?;
            return Ok(Self::Response {
                status,
                rid: rid.to_owned(),
                retry_after: query_param(q, "retry-after").and_then(|v| v.parse().ok()),
            });
        }
        Err(TopicError::Unknown {
            topic: topic.to_owned(),
        })
    }
}

impl fmt::Display for DpsTopic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Register { rid } => write!(f, "{REGISTER}?$rid={rid}"),
            Self::OperationStatus { rid, operation_id } => {
                write!(f, "{POLL}?$rid={rid}&operationId={operation_id}")
            }
            Self::Response {
                status,
                rid,
                retry_after,
            } => {
                write!(f, "{RES}{status}/?$rid={rid}")?;
                match retry_after {
                    Some(s) => write!(f, "&retry-after={s}"),
                    None => Ok(()),
                }
            }
        }
    }
}

/// The register request's body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationRequest {
    /// The registration id (for X.509: the certificate's CN).
    pub registration_id: String,
    /// Custom data for a custom allocation policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<serde_json::Value>,
}

/// Where a registration stands (`unassigned`, `assigning`, `assigned`, `failed`, `disabled`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RegistrationStatus {
    /// Not yet assigned.
    Unassigned,
    /// In progress: poll again.
    Assigning,
    /// Assigned to a hub.
    Assigned,
    /// Refused; the state says why.
    Failed,
    /// The enrollment or group is disabled.
    Disabled,
}

impl RegistrationStatus {
    /// Its name on the wire (as serde writes it).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Unassigned => "unassigned",
            Self::Assigning => "assigning",
            Self::Assigned => "assigned",
            Self::Failed => "failed",
            Self::Disabled => "disabled",
        }
    }
}

/// What DPS knows of a device's registration.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationState {
    /// The registration id.
    #[serde(default)]
    pub registration_id: String,
    /// The hub it was assigned to (host name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assigned_hub: Option<String>,
    /// Its device id in that hub.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    /// The registration's status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<RegistrationStatus>,
    /// `initialAssignment`, `deviceDataMigrated`, `deviceDataReset`,
    /// `reprovisionedToInitialAssignment`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub substatus: Option<String>,
    /// DPS's error code when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<i64>,
    /// DPS's error message when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// When it was made (ISO 8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_date_time_utc: Option<String>,
    /// When it last changed (ISO 8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_updated_date_time_utc: Option<String>,
    /// Its etag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// An X.509 device's: the certificate it presented and the group that admitted it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x509: Option<X509RegistrationResult>,
    /// A symmetric-key device's: the group that admitted it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub symmetric_key: Option<SymmetricKeyRegistrationResult>,
}

/// `registrationState.x509` (the device API's `X509RegistrationResult`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct X509RegistrationResult {
    /// The certificate the device presented.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_info: Option<X509CertificateInfo>,
    /// The enrollment group that admitted it (none for an individual enrollment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enrollment_group_id: Option<String>,
    /// The group's CA certificate its chain reached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_certificate_info: Option<X509CertificateInfo>,
}

/// `registrationState.symmetricKey` (the device API's `SymmetricKeyRegistrationResult`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SymmetricKeyRegistrationResult {
    /// The enrollment group that admitted it (none for an individual enrollment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enrollment_group_id: Option<String>,
}

/// The body of a register or operation-status answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationOperation {
    /// The operation to poll.
    pub operation_id: String,
    /// Where it stands.
    pub status: RegistrationStatus,
    /// The registration, once DPS has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_state: Option<RegistrationState>,
}

/// The SAS policy (`skn`) of a symmetric-key registration.
pub const DPS_REGISTRATION_POLICY: &str = "registration";

/// What a registration's SAS token names: `{idScope}/registrations/{registrationId}`.
pub fn registration_resource(id_scope: &str, registration_id: &str) -> String {
    format!("{id_scope}/registrations/{registration_id}")
}

/// The SAS token a symmetric-key device registers with, as Microsoft's docs write it:
/// `SharedAccessSignature sr={idScope}%2Fregistrations%2F{registrationId}&sig=...&se=...&skn=registration`,
/// signed with the device's key (an individual enrollment's, or [`derive_device_key`](crate::contract::derive_device_key) of a
/// group's). Sent as the `Authorization` header over HTTPS, as the MQTT password over MQTT.
pub fn registration_token(
    id_scope: &str,
    registration_id: &str,
    device_key_base64: &str,
    expiry: u64,
) -> Result<String, SasError> {
    build_token(
        &registration_resource(id_scope, registration_id),
        device_key_base64,
        Some(DPS_REGISTRATION_POLICY),
        expiry,
    )
}

/// Checks a registration's SAS token as DPS does: for this registration, not expired at `now`,
/// signed with one of `keys_base64`. Microsoft's SDKs do not all write it alike, and each form is
/// accepted: the Node.js SDK leaves `sr` unencoded (and signs it so), the Python SDK sends no
/// `skn`; a token naming another policy is refused.
pub fn verify_registration_token(
    token: &str,
    id_scope: &str,
    registration_id: &str,
    keys_base64: &[&str],
    now: u64,
) -> Result<(), SasError> {
    let parsed = SasToken::parse(token)?;
    match parsed.policy.as_deref() {
        None | Some(DPS_REGISTRATION_POLICY) => {}
        Some(other) => {
            return Err(SasError::WrongPolicy {
                found: Some(other.to_owned()),
            })
        }
    }
    parsed.verify(
        &registration_resource(id_scope, registration_id),
        keys_base64,
        now,
    )
}

/// The DPS service API's api-version (enrollments, registrations).
pub const DPS_SERVICE_API_VERSION: &str = "2021-10-01";

/// What DPS says of a certificate it holds: it answers with this, not with the certificate
/// (Microsoft's service SDKs document `{"info": {...}}` as what the service returns).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct X509CertificateInfo {
    /// Subject, `CN=…, O=…, C=…`.
    #[serde(default)]
    pub subject_name: String,
    /// SHA-1 thumbprint, hex.
    #[serde(default)]
    pub sha1_thumbprint: String,
    /// SHA-256 thumbprint, hex.
    #[serde(default)]
    pub sha256_thumbprint: String,
    /// Issuer, `CN=…`.
    #[serde(default)]
    pub issuer_name: String,
    /// Start of validity (RFC 3339, UTC).
    #[serde(default)]
    pub not_before_utc: String,
    /// End of validity (RFC 3339, UTC).
    #[serde(default)]
    pub not_after_utc: String,
    /// Serial number, hex.
    #[serde(default)]
    pub serial_number: String,
    /// X.509 version (3).
    #[serde(default)]
    pub version: u32,
}

/// A certificate in an attestation: PEM when written, its description when DPS answers.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct X509CertificateWithInfo {
    /// The certificate, PEM or base64 DER.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<String>,
    /// What DPS says of it (subject, thumbprints, validity).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub info: Option<X509CertificateInfo>,
}

/// A primary and an optional secondary certificate: the secondary is how a CA rolls over.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct X509Certificates {
    /// The primary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary: Option<X509CertificateWithInfo>,
    /// The secondary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secondary: Option<X509CertificateWithInfo>,
}

impl X509Certificates {
    /// A primary certificate and, during a rollover or renewal, a secondary, each given whole
    /// (PEM).
    pub fn pems(primary: &str, secondary: Option<&str>) -> Self {
        let cert = |pem: &str| X509CertificateWithInfo {
            certificate: Some(pem.to_owned()),
            info: None,
        };
        Self {
            primary: Some(cert(primary)),
            secondary: secondary.map(cert),
        }
    }

    /// The primary and secondary, each as DPS answers it: the certificate replaced by what
    /// `describe` says of it.
    pub fn answered(&self, describe: impl Fn(&str) -> Option<X509CertificateInfo>) -> Self {
        let answer = |c: &Option<X509CertificateWithInfo>| {
            c.as_ref().map(|c| X509CertificateWithInfo {
                certificate: None,
                info: c
                    .certificate
                    .as_deref()
                    .and_then(&describe)
                    .or_else(|| c.info.clone()),
            })
        };
        Self {
            primary: answer(&self.primary),
            secondary: answer(&self.secondary),
        }
    }

    /// What is known of the primary and secondary, primary first: DPS's `info` (its answers) or
    /// nothing but the certificate (what was written).
    pub fn entries(&self) -> Vec<&X509CertificateWithInfo> {
        [&self.primary, &self.secondary]
            .into_iter()
            .flatten()
            .collect()
    }

    /// The certificates given whole (PEM or base64 DER), primary first.
    pub fn given(&self) -> Vec<&str> {
        [&self.primary, &self.secondary]
            .into_iter()
            .flatten()
            .filter_map(|c| c.certificate.as_deref())
            .collect()
    }
}

/// Names of verified DPS CA certificates.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct X509CaReferences {
    /// The primary CA's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary: Option<String>,
    /// The secondary CA's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secondary: Option<String>,
}

/// `attestation.x509`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct X509Attestation {
    /// Device certificates of an individual enrollment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_certificates: Option<X509Certificates>,
    /// The CA certificates of an enrollment group, given whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_certificates: Option<X509Certificates>,
    /// The CA certificates of an enrollment group, by the names of verified DPS certificates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_references: Option<X509CaReferences>,
}

/// `attestation.symmetricKey`: base64 keys. DPS makes them (64 random bytes each) when a write
/// leaves them out, and answers with them.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SymmetricKeyAttestation {
    /// The primary key, base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_key: Option<String>,
    /// The secondary key, base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secondary_key: Option<String>,
}

impl SymmetricKeyAttestation {
    /// The keys set, primary first.
    pub fn keys(&self) -> Vec<&str> {
        [&self.primary_key, &self.secondary_key]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect()
    }
}

/// The `type` of an X.509 attestation.
pub const ATTESTATION_X509: &str = "x509";
/// The `type` of a symmetric-key attestation.
pub const ATTESTATION_SYMMETRIC_KEY: &str = "symmetricKey";

/// `attestation`: `{"type": "x509", "x509": {...}}`, `{"type": "symmetricKey", "symmetricKey":
/// {...}}` (or `tpm`, `none`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attestation {
    /// `x509`, `tpm`, `symmetricKey` or `none`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The X.509 part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x509: Option<X509Attestation>,
    /// The symmetric-key part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub symmetric_key: Option<SymmetricKeyAttestation>,
}

impl Attestation {
    /// A symmetric-key attestation with these keys; `None` lets DPS make them.
    pub fn symmetric_key(primary: Option<&str>, secondary: Option<&str>) -> Self {
        Self {
            kind: ATTESTATION_SYMMETRIC_KEY.to_owned(),
            x509: None,
            symmetric_key: Some(SymmetricKeyAttestation {
                primary_key: primary.map(str::to_owned),
                secondary_key: secondary.map(str::to_owned),
            }),
        }
    }

    /// Whether it is a symmetric-key attestation.
    pub fn is_symmetric_key(&self) -> bool {
        self.kind == ATTESTATION_SYMMETRIC_KEY
    }

    /// Its symmetric keys, primary first (none for another kind).
    pub fn symmetric_keys(&self) -> Vec<&str> {
        match &self.symmetric_key {
            Some(k) if self.is_symmetric_key() => k.keys(),
            _ => Vec::new(),
        }
    }
}

/// An enrollment group, as the DPS service API writes and reads it (the fields this tool uses;
/// others are kept in `extra`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnrollmentGroup {
    /// Its id.
    pub enrollment_group_id: String,
    /// How its devices prove themselves.
    pub attestation: Attestation,
    /// `enabled` or `disabled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioning_status: Option<String>,
    /// `hashed`, `geoLatency`, `static` or `custom`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocation_policy: Option<String>,
    /// The hubs it may assign to (host names).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iot_hubs: Option<Vec<String>>,
    /// Twin a new device starts with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_twin: Option<serde_json::Value>,
    /// `updateHubAssignment`, `migrateDeviceData`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reprovision_policy: Option<serde_json::Value>,
    /// `iotEdge`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<serde_json::Value>,
    /// Its etag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// Everything else DPS sends, kept as it came.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl EnrollmentGroup {
    /// An enabled X.509 group whose devices chain to `primary` (and, during a rollover, to
    /// `secondary`): the CAs' certificates given whole, PEM.
    pub fn x509_signing(id: &str, primary: &str, secondary: Option<&str>) -> Self {
        Self::x509(
            id,
            X509Attestation {
                signing_certificates: Some(X509Certificates::pems(primary, secondary)),
                ..Default::default()
            },
        )
    }

    /// An enabled X.509 group whose devices chain to the DPS CA certificate named `primary` (and
    /// `secondary`), uploaded to DPS and verified there.
    pub fn x509_ca_references(id: &str, primary: &str, secondary: Option<&str>) -> Self {
        Self::x509(
            id,
            X509Attestation {
                ca_references: Some(X509CaReferences {
                    primary: Some(primary.to_owned()),
                    secondary: secondary.map(str::to_owned),
                }),
                ..Default::default()
            },
        )
    }

    /// An enabled symmetric-key group: each device's key is derived from the group's
    /// ([`derive_device_key`](crate::contract::derive_device_key)). `None` keys are made by DPS when the group is written.
    pub fn symmetric_key(id: &str, primary: Option<&str>, secondary: Option<&str>) -> Self {
        Self::with_attestation(id, Attestation::symmetric_key(primary, secondary))
    }

    fn x509(id: &str, x509: X509Attestation) -> Self {
        Self::with_attestation(
            id,
            Attestation {
                kind: ATTESTATION_X509.to_owned(),
                x509: Some(x509),
                symmetric_key: None,
            },
        )
    }

    fn with_attestation(id: &str, attestation: Attestation) -> Self {
        Self {
            enrollment_group_id: id.to_owned(),
            attestation,
            provisioning_status: Some("enabled".to_owned()),
            allocation_policy: None,
            iot_hubs: None,
            initial_twin: None,
            reprovision_policy: None,
            capabilities: None,
            etag: None,
            extra: serde_json::Map::new(),
        }
    }

    /// The names of the DPS CA certificates it refers to, primary first.
    pub fn ca_references(&self) -> Vec<&str> {
        self.attestation
            .x509
            .as_ref()
            .and_then(|x| x.ca_references.as_ref())
            .map(|r| {
                [&r.primary, &r.secondary]
                    .into_iter()
                    .flatten()
                    .map(String::as_str)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Whether its devices may register (`provisioningStatus` absent means enabled).
    pub fn is_enabled(&self) -> bool {
        self.provisioning_status.as_deref() != Some("disabled")
    }

    /// The group as DPS answers it: each signing certificate described, not echoed.
    pub fn answered(&self, describe: impl Fn(&str) -> Option<X509CertificateInfo>) -> Self {
        let mut g = self.clone();
        if let Some(s) = g
            .attestation
            .x509
            .as_mut()
            .and_then(|x| x.signing_certificates.as_mut())
        {
            *s = s.answered(describe);
        }
        g
    }

    /// Its signing certificates as written or answered (primary first).
    pub fn signing_entries(&self) -> Vec<&X509CertificateWithInfo> {
        self.attestation
            .x509
            .as_ref()
            .and_then(|x| x.signing_certificates.as_ref())
            .map(X509Certificates::entries)
            .unwrap_or_default()
    }

    /// The PEM (or base64 DER) signing certificates given whole, primary first.
    pub fn signing_certificates(&self) -> Vec<&str> {
        self.attestation
            .x509
            .as_ref()
            .and_then(|x| x.signing_certificates.as_ref())
            .map(X509Certificates::given)
            .unwrap_or_default()
    }
}

/// An individual enrollment: one device, by its own X.509 certificate (DPS registers it in the
/// hub as a thumbprint device). The fields this tool uses; others are kept in `extra`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IndividualEnrollment {
    /// The registration id: the certificate's CN.
    pub registration_id: String,
    /// The device id in the hub (the registration id when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    /// How the device proves itself: `x509.clientCertificates`.
    pub attestation: Attestation,
    /// `enabled` or `disabled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioning_status: Option<String>,
    /// Twin a new device starts with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_twin: Option<serde_json::Value>,
    /// `updateHubAssignment`, `migrateDeviceData`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reprovision_policy: Option<serde_json::Value>,
    /// Its etag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// Everything else DPS sends, kept as it came.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl IndividualEnrollment {
    /// An enabled enrollment of the device whose certificate is `primary` (and, while it is
    /// renewed, `secondary`), PEM.
    pub fn x509_client(registration_id: &str, primary: &str, secondary: Option<&str>) -> Self {
        Self {
            registration_id: registration_id.to_owned(),
            device_id: None,
            attestation: Attestation {
                kind: ATTESTATION_X509.to_owned(),
                x509: Some(X509Attestation {
                    client_certificates: Some(X509Certificates::pems(primary, secondary)),
                    ..Default::default()
                }),
                symmetric_key: None,
            },
            provisioning_status: Some("enabled".to_owned()),
            initial_twin: None,
            reprovision_policy: None,
            etag: None,
            extra: serde_json::Map::new(),
        }
    }

    /// An enabled symmetric-key enrollment: the device signs its registration with one of these
    /// keys (`None`: DPS makes them when the enrollment is written).
    pub fn symmetric_key(
        registration_id: &str,
        primary: Option<&str>,
        secondary: Option<&str>,
    ) -> Self {
        Self {
            attestation: Attestation::symmetric_key(primary, secondary),
            ..Self::x509_client(registration_id, "", None)
        }
    }

    /// Whether the device may register (`provisioningStatus` absent means enabled).
    pub fn is_enabled(&self) -> bool {
        self.provisioning_status.as_deref() != Some("disabled")
    }

    /// The enrollment as DPS answers it: each client certificate described, not echoed.
    pub fn answered(&self, describe: impl Fn(&str) -> Option<X509CertificateInfo>) -> Self {
        let mut e = self.clone();
        if let Some(c) = e
            .attestation
            .x509
            .as_mut()
            .and_then(|x| x.client_certificates.as_mut())
        {
            *c = c.answered(describe);
        }
        e
    }

    /// Its client certificates as written or answered (primary first).
    pub fn client_entries(&self) -> Vec<&X509CertificateWithInfo> {
        self.attestation
            .x509
            .as_ref()
            .and_then(|x| x.client_certificates.as_ref())
            .map(X509Certificates::entries)
            .unwrap_or_default()
    }

    /// The device's certificates given whole (PEM or base64 DER), primary first.
    pub fn client_certificates(&self) -> Vec<&str> {
        self.attestation
            .x509
            .as_ref()
            .and_then(|x| x.client_certificates.as_ref())
            .map(X509Certificates::given)
            .unwrap_or_default()
    }

    /// The device id it registers as in the hub.
    pub fn hub_device_id(&self) -> &str {
        self.device_id.as_deref().unwrap_or(&self.registration_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::derive_device_key;

    #[test]
    fn a_registration_status_is_named_as_on_the_wire() {
        use RegistrationStatus::*;
        for status in [Unassigned, Assigning, Assigned, Failed, Disabled] {
            let wire = serde_json::to_string(&status).unwrap();
            assert_eq!(wire, format!("\"{}\"", status.as_str()));
        }
    }

    #[test]
    fn an_answered_group_carries_info_not_the_certificate_and_reads_back() {
        let g = EnrollmentGroup::x509_signing("g1", "PEM-A", Some("PEM-B"));
        let answered = g.answered(|pem| {
            Some(X509CertificateInfo {
                subject_name: format!("CN={pem}"),
                sha1_thumbprint: "AB".into(),
                version: 3,
                ..Default::default()
            })
        });
        assert!(answered.signing_certificates().is_empty());
        let json = serde_json::to_value(&answered).unwrap();
        let primary = &json["attestation"]["x509"]["signingCertificates"]["primary"];
        assert!(primary.get("certificate").is_none(), "{json}");
        assert_eq!(primary["info"]["subjectName"], "CN=PEM-A");
        assert_eq!(primary["info"]["sha1Thumbprint"], "AB");
        let back: EnrollmentGroup = serde_json::from_value(json).unwrap();
        let subjects: Vec<_> = back
            .signing_entries()
            .iter()
            .filter_map(|e| e.info.as_ref().map(|i| i.subject_name.clone()))
            .collect();
        assert_eq!(subjects, ["CN=PEM-A", "CN=PEM-B"]);
        // An answer with fields this tool does not know still reads.
        let e: X509CertificateInfo =
            serde_json::from_str(r#"{"subjectName":"CN=x","extra":1}"#).unwrap();
        assert_eq!(e.subject_name, "CN=x");
    }

    const GROUP_KEY: &str =
        "8isrFI1sGsIlvvFSSFRiMfCNzv21fjbE/+ah/lSh3lF8e2YG1Te7w1KpZhJFFXJrqYKi9yegxkqIChbqOS9Egw==";

    #[test]
    fn a_registration_token_as_built_here_verifies_and_reads_as_the_docs_write_it() {
        let key = derive_device_key(GROUP_KEY, "sym-1").expect("key");
        let token = registration_token("0ne00000001", "sym-1", &key, 2000).expect("token");
        assert!(
            token.starts_with("SharedAccessSignature sr=0ne00000001%2Fregistrations%2Fsym-1&sig="),
            "{token}"
        );
        assert!(token.ends_with("&se=2000&skn=registration"), "{token}");
        assert_eq!(
            verify_registration_token(&token, "0ne00000001", "sym-1", &[&key], 1999),
            Ok(())
        );
        // Another registration, an expired token, the group's key itself: refused.
        assert!(matches!(
            verify_registration_token(&token, "0ne00000001", "sym-2", &[&key], 1),
            Err(SasError::WrongResource { .. })
        ));
        assert_eq!(
            verify_registration_token(&token, "0ne00000001", "sym-1", &[&key], 2000),
            Err(SasError::Expired { expiry: 2000 })
        );
        assert_eq!(
            verify_registration_token(&token, "0ne00000001", "sym-1", &[GROUP_KEY], 1),
            Err(SasError::BadSignature)
        );
    }

    #[test]
    fn registration_tokens_of_each_sdk_verify() {
        use base64::Engine as _;
        use hmac::{KeyInit, Mac};
        let key = derive_device_key(GROUP_KEY, "sym-1").expect("key");
        let sign = |sr: &str, se: u64| {
            let raw = base64::engine::general_purpose::STANDARD
                .decode(&key)
                .expect("b64");
            let mut mac =
                <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(&raw).expect("hmac");
            mac.update(format!("{sr}\n{se}").as_bytes());
            crate::contract::url_encode(
                &base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes()),
            )
        };
        // Node.js (azure-iot-common SharedAccessSignature.create): sr as is, signed as is, skn
        // before se.
        let sr = "0ne00000001/registrations/sym-1";
        let node = format!(
            "SharedAccessSignature sr={sr}&sig={}&skn=registration&se=3000",
            sign(sr, 3000)
        );
        // Python (azure-iot-device sastoken.py): sr quoted with safe="", no skn.
        let sr = "0ne00000001%2Fregistrations%2Fsym-1";
        let python = format!(
            "SharedAccessSignature sr={sr}&sig={}&se=3000",
            sign(sr, 3000)
        );
        for token in [&node, &python] {
            assert_eq!(
                verify_registration_token(token, "0ne00000001", "sym-1", &["b3RoZXI=", &key], 1),
                Ok(()),
                "{token}"
            );
        }
        let other_policy = node.replace("skn=registration", "skn=provisioningserviceowner");
        assert!(matches!(
            verify_registration_token(&other_policy, "0ne00000001", "sym-1", &[&key], 1),
            Err(SasError::WrongPolicy { .. })
        ));
    }

    #[test]
    fn symmetric_key_groups_and_enrollments_write_the_spec_shape_and_read_back() {
        let g = EnrollmentGroup::symmetric_key("sym-fleet", Some("cHJpbWFyeQ=="), None);
        let json = serde_json::to_value(&g).expect("writes");
        assert_eq!(
            json,
            serde_json::json!({
                "enrollmentGroupId": "sym-fleet",
                "attestation": {"type": "symmetricKey", "symmetricKey": {"primaryKey": "cHJpbWFyeQ=="}},
                "provisioningStatus": "enabled"
            })
        );
        let back: EnrollmentGroup = serde_json::from_value(json).expect("reads");
        assert_eq!(back, g);
        assert_eq!(back.attestation.symmetric_keys(), vec!["cHJpbWFyeQ=="]);
        assert!(back.signing_certificates().is_empty() && back.ca_references().is_empty());

        let e = IndividualEnrollment::symmetric_key("sym-dev", Some("YQ=="), Some("Yg=="));
        let json = serde_json::to_value(&e).expect("writes");
        assert_eq!(
            json,
            serde_json::json!({
                "registrationId": "sym-dev",
                "attestation": {"type": "symmetricKey", "symmetricKey": {"primaryKey": "YQ==", "secondaryKey": "Yg=="}},
                "provisioningStatus": "enabled"
            })
        );
        let back: IndividualEnrollment = serde_json::from_value(json).expect("reads");
        assert_eq!(back.attestation.symmetric_keys(), vec!["YQ==", "Yg=="]);
        assert!(back.client_certificates().is_empty());
        // An X.509 attestation has no symmetric keys, whatever else it carries.
        let x = EnrollmentGroup::x509_signing("x", "PEM", None);
        assert!(!x.attestation.is_symmetric_key() && x.attestation.symmetric_keys().is_empty());
    }

    #[test]
    fn the_user_name_round_trips() {
        let u = DpsUserName {
            id_scope: "0ne00000001".into(),
            registration_id: "sensor-1".into(),
        };
        assert_eq!(
            u.to_string(),
            "0ne00000001/registrations/sensor-1/api-version=2019-03-31"
        );
        assert_eq!(DpsUserName::parse(&u.to_string()), Ok(u));
        for bad in [
            "",
            "0ne/sensor-1",
            "0ne/registrations/sensor-1",
            "/registrations/x/api-version=1",
        ] {
            assert!(DpsUserName::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_dps_topic_round_trips_and_reads_as_docs_write_it() {
        for t in [
            DpsTopic::Register { rid: "1".into() },
            DpsTopic::OperationStatus {
                rid: "2".into(),
                operation_id: "4.abc.def".into(),
            },
            DpsTopic::Response {
                status: 202,
                rid: "1".into(),
                retry_after: Some(3),
            },
            DpsTopic::Response {
                status: 200,
                rid: "2".into(),
                retry_after: None,
            },
        ] {
            assert_eq!(DpsTopic::parse(&t.to_string()), Ok(t.clone()), "{t}");
        }
        assert_eq!(
            DpsTopic::Register { rid: "7".into() }.to_string(),
            "$dps/registrations/PUT/iotdps-register/?$rid=7"
        );
        assert_eq!(
            DpsTopic::parse("$dps/registrations/res/202/?$rid=7&retry-after=3"),
            Ok(DpsTopic::Response {
                status: 202,
                rid: "7".into(),
                retry_after: Some(3)
            })
        );
        assert!(DpsTopic::parse("$dps/registrations/res/202/?retry-after=3").is_err());
        assert!(DpsTopic::parse("devices/d/messages/events/").is_err());
    }

    #[test]
    fn an_operation_status_reads_as_the_dps_api_writes_it() {
        // Fields as in azure-rest-api-specs' RuntimeRegistration_OperationStatusLookup example.
        let body = r#"{"operationId":"4.ab","status":"assigned","registrationState":{
            "registrationId":"sensor-1","createdDateTimeUtc":"2025-10-01T17:41:56.535Z",
            "assignedHub":"myhub.azure-devices.net","deviceId":"sensor-1","status":"assigned",
            "substatus":"initialAssignment","lastUpdatedDateTimeUtc":"2025-10-01T17:41:56.535Z",
            "etag":"IjAwIg==","x509":{"enrollmentGroupId":"fleet"}}}"#;
        let op: RegistrationOperation = serde_json::from_str(body).expect("parses");
        assert_eq!(op.status, RegistrationStatus::Assigned);
        let state = op.registration_state.clone().expect("a state");
        assert_eq!(
            state.assigned_hub.as_deref(),
            Some("myhub.azure-devices.net")
        );
        assert_eq!(state.device_id.as_deref(), Some("sensor-1"));
        assert_eq!(
            state.x509.and_then(|x| x.enrollment_group_id).as_deref(),
            Some("fleet")
        );
        let again: RegistrationOperation =
            serde_json::from_str(&serde_json::to_string(&op).expect("writes")).expect("reads");
        assert_eq!(again, op);
        let failed: RegistrationOperation = serde_json::from_str(
            r#"{"operationId":"4.x","status":"failed","registrationState":{"registrationId":"d","status":"failed","errorCode":401002,"errorMessage":"The device is unauthorized."}}"#,
        )
        .expect("parses");
        assert_eq!(
            failed.registration_state.and_then(|s| s.error_code),
            Some(401_002)
        );
        let request = RegistrationRequest {
            registration_id: "sensor-1".into(),
            payload: None,
        };
        assert_eq!(
            serde_json::to_string(&request).expect("writes"),
            r#"{"registrationId":"sensor-1"}"#
        );
    }

    #[test]
    fn an_enrollment_group_round_trips_and_keeps_what_it_does_not_know() {
        let body = r#"{"enrollmentGroupId":"fleet","attestation":{"type":"x509","x509":{"signingCertificates":{"primary":{"certificate":"PEM-1"},"secondary":{"certificate":"PEM-2"}}}},"provisioningStatus":"enabled","allocationPolicy":"static","iotHubs":["h.azure-devices.net"],"reprovisionPolicy":{"updateHubAssignment":true,"migrateDeviceData":true},"capabilities":{"iotEdge":false},"createdDateTimeUtc":"2026-01-01T00:00:00Z"}"#;
        let g: EnrollmentGroup = serde_json::from_str(body).expect("parses");
        assert!(g.is_enabled());
        assert_eq!(g.signing_certificates(), vec!["PEM-1", "PEM-2"]);
        assert_eq!(g.extra["createdDateTimeUtc"], "2026-01-01T00:00:00Z");
        let back: serde_json::Value =
            serde_json::from_str(&serde_json::to_string(&g).expect("writes")).expect("json");
        assert_eq!(
            back,
            serde_json::from_str::<serde_json::Value>(body).expect("json")
        );
        let disabled = EnrollmentGroup {
            provisioning_status: Some("disabled".into()),
            ..g
        };
        assert!(!disabled.is_enabled());
    }

    #[test]
    fn groups_built_here_write_the_spec_shape_and_read_back() {
        let g = EnrollmentGroup::x509_signing("fleet-a", "PEM-1", Some("PEM-2"));
        let json: serde_json::Value = serde_json::to_value(&g).expect("writes");
        assert_eq!(
            json,
            serde_json::json!({
                "enrollmentGroupId": "fleet-a",
                "attestation": {"type": "x509", "x509": {"signingCertificates": {
                    "primary": {"certificate": "PEM-1"},
                    "secondary": {"certificate": "PEM-2"}}}},
                "provisioningStatus": "enabled"
            })
        );
        let back: EnrollmentGroup = serde_json::from_value(json).expect("reads");
        assert_eq!(back, g);
        assert!(back.ca_references().is_empty());

        let r = EnrollmentGroup::x509_ca_references("fleet-b", "root-2026", None);
        let json = serde_json::to_value(&r).expect("writes");
        assert_eq!(
            json["attestation"]["x509"]["caReferences"],
            serde_json::json!({"primary": "root-2026"})
        );
        let back: EnrollmentGroup = serde_json::from_value(json).expect("reads");
        assert_eq!(back.ca_references(), vec!["root-2026"]);
        assert!(back.signing_certificates().is_empty());
    }

    #[test]
    fn enrollment_ids_follow_dps_rules() {
        for ok in [
            "fleet",
            "Fleet-2026.a_b:c",
            "ends-with-dash-",
            &"a".repeat(128),
        ] {
            assert!(super::super::EnrollmentId::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "ends.",
            "ends_",
            "ends:",
            "has space",
            "slash/x",
            &"a".repeat(129),
        ] {
            let e = super::super::EnrollmentId::parse(bad).unwrap_err();
            assert!(e.to_string().contains("not a DPS enrollment id"), "{bad}");
        }
    }

    #[test]
    fn an_individual_enrollment_writes_client_certificates_and_reads_back() {
        let e = IndividualEnrollment::x509_client("sensor-9", "PEM-A", Some("PEM-B"));
        let json = serde_json::to_value(&e).expect("writes");
        assert_eq!(
            json,
            serde_json::json!({
                "registrationId": "sensor-9",
                "attestation": {"type": "x509", "x509": {"clientCertificates": {
                    "primary": {"certificate": "PEM-A"},
                    "secondary": {"certificate": "PEM-B"}}}},
                "provisioningStatus": "enabled"
            })
        );
        let back: IndividualEnrollment = serde_json::from_value(json).expect("reads");
        assert_eq!(back.client_certificates(), vec!["PEM-A", "PEM-B"]);
        assert_eq!(back.hub_device_id(), "sensor-9");
        let with_id: IndividualEnrollment = serde_json::from_str(
            r#"{"registrationId":"r","deviceId":"d","attestation":{"type":"x509"},"provisioningStatus":"disabled","createdDateTimeUtc":"x"}"#,
        )
        .expect("reads");
        assert_eq!(with_id.hub_device_id(), "d");
        assert!(!with_id.is_enabled() && with_id.client_certificates().is_empty());
        assert_eq!(with_id.extra["createdDateTimeUtc"], "x");
    }
}

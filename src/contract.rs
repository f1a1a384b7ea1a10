//! The IoT Hub contract: every format both sides of a call must agree on, defined once.
//!
//! The app builds requests, user names and topics with these types; localhub parses them with the
//! same types and answers with them. A rule written twice drifts, and localhub would then agree
//! with the app instead of with IoT Hub. This module is a leaf: it imports nothing from [`pki`],
//! [`iothub`] or [`mqtt`], so each of them may use it.
//!
//! [`pki`]: crate::pki
//! [`iothub`]: crate::iothub
//! [`mqtt`]: crate::mqtt

mod api;
mod arm;
mod bulk;
mod device;
mod dps;
mod encoding;
mod error_code;
mod names;
mod query;
mod query_language;
mod redact;
mod sas;
mod thumbprint;
mod topic;

pub use api::{ARM_API_VERSION, DEVICE_API_VERSION, DPS_ARM_API_VERSION};
pub use arm::{
    ArmErrorCode, CertificateDescription, CertificateListDescription, CertificateProperties,
    CertificateVerificationDescription,
};
pub use bulk::{
    BulkRegistryOperationResult, DeviceRegistryOperationError, DeviceRegistryOperationWarning,
    ExportImportDevice, ImportMode, TwinProperties, BULK_MAX_DEVICES,
};
pub use device::{
    AuthKind, Authentication, Capabilities, ConnectionState, Device, DeviceStatus, SymmetricKey,
    X509Thumbprint,
};
pub use dps::{
    registration_resource, registration_token, verify_registration_token, Attestation, DpsTopic,
    DpsUserName, EnrollmentGroup, IndividualEnrollment, RegistrationOperation, RegistrationRequest,
    RegistrationState, RegistrationStatus, SymmetricKeyAttestation, SymmetricKeyRegistrationResult,
    X509Attestation, X509CaReferences, X509CertificateInfo, X509CertificateWithInfo,
    X509Certificates, X509RegistrationResult, ATTESTATION_SYMMETRIC_KEY, ATTESTATION_X509,
    DPS_DEVICE_API_VERSION, DPS_GLOBAL_HOST, DPS_REGISTRATION_POLICY, DPS_RESPONSES,
    DPS_SERVICE_API_VERSION,
};
pub use encoding::{url_decode, url_encode};
pub use error_code::HubErrorCode;
pub use names::{
    hub_host_name, CertificateName, DeviceId, EnrollmentId, HubHost, IdError, VerificationCode,
    HUB_DOMAIN,
};
pub use query::{
    format_iso8601, parse_iso8601, QueryItemType, QuerySpecification, ReportedCertificate, Twin,
    CONTINUATION_HEADER, ITEM_TYPE_HEADER, MAX_ITEM_COUNT_HEADER, QUERY_MAX_LENGTH, QUERY_PAGE_MAX,
    REPORTED_CERTIFICATE,
};
pub use query_language::{DeviceQuery, QueryError};
pub use redact::Redacted;
pub use sas::{build_token as build_sas_token, derive_device_key, SasError, SasToken};
pub use thumbprint::{RegisteredThumbprint, ThumbprintError};
pub use topic::{websocket_url, MqttUserName, PropertyBag, Topic, TopicError, TopicFilter};

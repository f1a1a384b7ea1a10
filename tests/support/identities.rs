//! Certificates both workspaces' tests make, at a clock the caller passes: included by
//! `tests/common` (pinned clock, OpenSSL checks) and `localhub/tests/common` (the wall clock, since
//! localhub checks validity now), so the two never drift apart.

use hubcert::contract::{DeviceId, VerificationCode};
use hubcert::pki::{
    CertificateAuthority, DeviceCertParams, Identity, KeyAlgorithm, RootCaParams, ValidityDays,
    VerificationCertParams,
};
use time::OffsetDateTime;

/// A P-256 root CA named `cn`, with the default validity.
pub fn root_at(cn: &str, now: OffsetDateTime) -> CertificateAuthority {
    let params = RootCaParams {
        common_name: cn.into(),
        ..Default::default()
    };
    CertificateAuthority::create_root(&params, now).expect("root CA")
}

/// A P-256 device identity for `id`, valid `days` from `now`.
pub fn device_at(ca: &CertificateAuthority, id: &str, days: u32, now: OffsetDateTime) -> Identity {
    let params = DeviceCertParams {
        device_id: DeviceId::parse(id).expect("valid device id"),
        validity: ValidityDays::new(days).expect("valid days"),
    };
    ca.issue_device_identity(&params, KeyAlgorithm::EcdsaP256, now)
        .expect("device certificate")
}

/// A verification certificate (CN = `code`) signed by `ca`, valid a day from `now`.
pub fn verification_at(ca: &CertificateAuthority, code: &str, now: OffsetDateTime) -> Identity {
    let params = VerificationCertParams {
        code: VerificationCode::parse(code).expect("valid code"),
        validity: ValidityDays::ONE_DAY,
    };
    ca.issue_verification(&params, now)
        .expect("verification certificate")
}

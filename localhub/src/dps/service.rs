//! The DPS service API: enrollment groups, individual enrollments and registration states, with
//! the `provisioningserviceowner` SAS, etags as DPS checks them, and DPS's error bodies.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use hubcert::contract::{
    Attestation, EnrollmentGroup, EnrollmentId, IndividualEnrollment, X509CertificateInfo,
    X509Certificates, ATTESTATION_X509,
};

use crate::extract::{Body, DpsServiceCall, IfMatch, RequestBody};
use crate::reply::{with_etag, ApiError};
use crate::store::{CertStore, Hub};

impl RequestBody for EnrollmentGroup {
    fn rejection(e: serde_json::Error) -> ApiError {
        ApiError::dps(
            StatusCode::BAD_REQUEST,
            400_004,
            format!("The enrollment group is not valid JSON ({e})"),
        )
    }
}

fn group_not_found(id: &str) -> ApiError {
    ApiError::dps(
        StatusCode::NOT_FOUND,
        404_202,
        format!("Enrollment group {id} not found."),
    )
}

fn enrollment_not_found(id: &str) -> ApiError {
    ApiError::dps(
        StatusCode::NOT_FOUND,
        404_201,
        format!("Enrollment {id} not found."),
    )
}

fn bad_request(message: impl Into<String>) -> ApiError {
    ApiError::dps(StatusCode::BAD_REQUEST, 400_004, message)
}

fn changed(what: &str) -> ApiError {
    ApiError::dps(
        StatusCode::PRECONDITION_FAILED,
        412_201,
        format!("{what} has changed: its etag does not match If-Match."),
    )
}

/// Whether a write with `if_match` may replace what is there (its etag, if anything is there):
/// DPS refuses a PUT over an existing enrollment without an etag (409; azure-sdk-for-python#35187
/// shows it as `ResourceExistsError`) and one with another etag (412).
fn check_write(
    if_match: &IfMatch,
    current_etag: Option<&str>,
    what: &str,
    not_found: ApiError,
) -> Result<(), ApiError> {
    match (current_etag, if_match.matches(current_etag.unwrap_or(""))) {
        (Some(_), None) => Err(ApiError::dps(
            StatusCode::CONFLICT,
            409_201,
            format!("{what} already exists: send its etag in If-Match to replace it."),
        )),
        (Some(_), Some(false)) => Err(changed(what)),
        (None, Some(_)) if if_match.0.as_deref() != Some("*") => Err(not_found),
        _ => Ok(()),
    }
}

/// The id in the path, by DPS's rules.
fn check_id(id: &str) -> Result<(), ApiError> {
    EnrollmentId::parse(id)
        .map(|_| ())
        .map_err(|e| bad_request(e.to_string()))
}

/// A list answer of the query API.
/// What DPS answers about a certificate it was given: its description, not the certificate.
fn describe(pem: &str) -> Option<X509CertificateInfo> {
    describe_certificate(&crate::arm::parse_certificate(pem).ok()?)
}

/// What DPS says of a certificate: subject, issuer, thumbprints, validity, serial.
pub(super) fn describe_certificate(
    cert: &hubcert::pki::Certificate,
) -> Option<X509CertificateInfo> {
    let info = cert.info().ok()?;
    let rfc3339 = |t: time::OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    };
    Some(X509CertificateInfo {
        subject_name: info.subject,
        sha1_thumbprint: info.sha1.to_string(),
        sha256_thumbprint: info.sha256.to_string(),
        issuer_name: info.issuer,
        not_before_utc: rfc3339(info.not_before),
        not_after_utc: rfc3339(info.not_after),
        serial_number: info.serial,
        version: 3,
    })
}

/// A PUT may carry a certificate as DPS answered it (`info` only, no `certificate`): what the az
/// CLI and a read-modify-write client send back. Like DPS, such an entry keeps the certificate the
/// enrollment already holds with that thumbprint; one that matches none is refused.
fn resolve_described(
    written: Option<&mut X509Certificates>,
    stored: Option<&X509Certificates>,
) -> Result<(), ApiError> {
    let Some(written) = written else {
        return Ok(());
    };
    let held: Vec<(X509CertificateInfo, String)> = stored
        .map(|s| s.given())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|pem| describe(pem).map(|i| (i, pem.to_owned())))
        .collect();
    for entry in [&mut written.primary, &mut written.secondary]
        .into_iter()
        .flatten()
    {
        if entry.certificate.is_some() {
            continue;
        }
        let Some(info) = &entry.info else {
            return Err(bad_request(
                "A certificate entry has neither a certificate nor its info",
            ));
        };
        let same = |t: &str, u: &str| !t.is_empty() && t.eq_ignore_ascii_case(u);
        let found = held.iter().find(|(h, _)| {
            same(&info.sha1_thumbprint, &h.sha1_thumbprint)
                || same(&info.sha256_thumbprint, &h.sha256_thumbprint)
        });
        match found {
            Some((_, pem)) => entry.certificate = Some(pem.clone()),
            None => {
                return Err(bad_request(
                    "A certificate given by its info only is not one this enrollment holds: give the certificate itself",
                ))
            }
        }
    }
    Ok(())
}

fn listed<T: serde::Serialize>(items: Vec<T>, kind: &'static str) -> Response {
    let mut r = Json(items).into_response();
    r.headers_mut()
        .insert("x-ms-item-type", axum::http::HeaderValue::from_static(kind));
    r
}

/// A new symmetric key as DPS makes one: 64 random bytes, base64.
fn new_symmetric_key() -> Result<String, ApiError> {
    let mut bytes = [0u8; 64];
    getrandom::fill(&mut bytes).map_err(|e| {
        ApiError::dps(
            StatusCode::INTERNAL_SERVER_ERROR,
            500_000,
            format!("No randomness for a key: {e}"),
        )
    })?;
    Ok(BASE64.encode(bytes))
}

/// A symmetric-key attestation's keys: each given one checked (base64 of 16 to 64 bytes, as DPS
/// takes them), each absent one made, as DPS does.
fn fill_symmetric_keys(attestation: &mut Attestation) -> Result<(), ApiError> {
    let keys = attestation
        .symmetric_key
        .get_or_insert_with(Default::default);
    for key in [&mut keys.primary_key, &mut keys.secondary_key] {
        match key {
            Some(k) => {
                let len = BASE64.decode(k.trim()).map(|b| b.len()).unwrap_or(0);
                if !(16..=64).contains(&len) {
                    return Err(bad_request(
                        "A symmetric key must be base64 of 16 to 64 bytes (leave it out and DPS makes one)",
                    ));
                }
            }
            None => *key = Some(new_symmetric_key()?),
        }
    }
    Ok(())
}

/// `PUT /enrollmentGroups/{id}`: creates, or replaces with the current etag.
pub(crate) async fn put_group(
    _: DpsServiceCall,
    State(hub): State<Arc<Hub>>,
    Path(id): Path<String>,
    if_match: IfMatch,
    Body(mut group): Body<EnrollmentGroup>,
) -> Result<Response, ApiError> {
    if group.enrollment_group_id != id {
        return Err(bad_request(
            "The enrollmentGroupId in the body differs from the one in the URL",
        ));
    }
    check_id(&id)?;
    let stored = hub.read_enrollment_groups(|groups| groups.get(&id).cloned());
    resolve_described(
        group
            .attestation
            .x509
            .as_mut()
            .and_then(|x| x.signing_certificates.as_mut()),
        stored
            .as_ref()
            .and_then(|g| g.attestation.x509.as_ref())
            .and_then(|x| x.signing_certificates.as_ref()),
    )?;
    if group.attestation.is_symmetric_key() {
        fill_symmetric_keys(&mut group.attestation)?;
    }
    let signing = group.signing_certificates();
    let references = group.ca_references();
    if !group.attestation.is_symmetric_key()
        && (group.attestation.kind != ATTESTATION_X509
            || (signing.is_empty() == references.is_empty()))
    {
        return Err(ApiError::dps(
            StatusCode::BAD_REQUEST,
            400_004,
            "localhub's DPS takes X.509 enrollment groups with either signingCertificates (a CA's PEM) or caReferences (names of verified DPS CA certificates), and symmetric-key groups",
        ));
    }
    for pem in signing {
        crate::arm::parse_certificate(pem).map_err(|e| {
            ApiError::dps(
                StatusCode::BAD_REQUEST,
                400_004,
                format!("A signing certificate is invalid: {e}"),
            )
        })?;
    }
    for name in references {
        match hub.read_certs(CertStore::Dps, |certs| certs.get(name).map(|c| c.is_verified)) {
            Some(true) => {}
            Some(false) => {
                return Err(ApiError::dps(
                    StatusCode::BAD_REQUEST,
                    400_004,
                    format!("The DPS certificate '{name}' is not verified: prove possession of its key first."),
                ))
            }
            None => {
                return Err(ApiError::dps(
                    StatusCode::BAD_REQUEST,
                    400_004,
                    format!("The CA reference '{name}' names no certificate of this DPS: upload it first."),
                ))
            }
        }
    }
    let etag = hub.next_etag();
    group.etag = Some(etag.clone());
    hub.write_enrollment_groups(|groups| {
        check_write(
            &if_match,
            groups.get(&id).and_then(|g| g.etag.as_deref()),
            &format!("Enrollment group {id}"),
            group_not_found(&id),
        )?;
        groups.insert(id, group.clone());
        Ok(())
    })?;
    Ok(with_etag(StatusCode::OK, group.answered(describe), &etag))
}

/// `GET /enrollmentGroups/{id}`.
pub(crate) async fn get_group(
    _: DpsServiceCall,
    State(hub): State<Arc<Hub>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let group = hub
        .read_enrollment_groups(|groups| groups.get(&id).cloned())
        .ok_or_else(|| group_not_found(&id))?;
    let etag = group.etag.clone().unwrap_or_default();
    Ok(with_etag(StatusCode::OK, group.answered(describe), &etag))
}

/// `POST /enrollmentGroups/query`: every group (localhub reads no query language; `*` is what
/// the SDKs and the app send).
pub(crate) async fn query_groups(_: DpsServiceCall, State(hub): State<Arc<Hub>>) -> Response {
    let groups = hub.read_enrollment_groups(|groups| {
        groups
            .values()
            .map(|g| g.answered(describe))
            .collect::<Vec<_>>()
    });
    listed(groups, "enrollmentGroup")
}

/// `DELETE /enrollmentGroups/{id}`, with an optional `If-Match`.
pub(crate) async fn delete_group(
    _: DpsServiceCall,
    State(hub): State<Arc<Hub>>,
    Path(id): Path<String>,
    if_match: IfMatch,
) -> Result<StatusCode, ApiError> {
    hub.write_enrollment_groups(|groups| {
        let current = groups.get(&id).ok_or_else(|| group_not_found(&id))?;
        if if_match.matches(current.etag.as_deref().unwrap_or("")) == Some(false) {
            return Err(changed(&format!("Enrollment group {id}")));
        }
        groups.remove(&id);
        Ok(StatusCode::NO_CONTENT)
    })
}

impl RequestBody for IndividualEnrollment {
    fn rejection(e: serde_json::Error) -> ApiError {
        bad_request(format!("The enrollment is not valid JSON ({e})"))
    }
}

/// `PUT /enrollments/{id}`: an X.509 device by its own certificate, or a device by its own
/// symmetric keys; creates, or replaces with the current etag.
pub(crate) async fn put_enrollment(
    _: DpsServiceCall,
    State(hub): State<Arc<Hub>>,
    Path(id): Path<String>,
    if_match: IfMatch,
    Body(mut enrollment): Body<IndividualEnrollment>,
) -> Result<Response, ApiError> {
    if enrollment.registration_id != id {
        return Err(bad_request(
            "The registrationId in the body differs from the one in the URL",
        ));
    }
    check_id(&id)?;
    let stored = hub.read_enrollments(|all| all.get(&id).cloned());
    resolve_described(
        enrollment
            .attestation
            .x509
            .as_mut()
            .and_then(|x| x.client_certificates.as_mut()),
        stored
            .as_ref()
            .and_then(|e| e.attestation.x509.as_ref())
            .and_then(|x| x.client_certificates.as_ref()),
    )?;
    if enrollment.attestation.is_symmetric_key() {
        fill_symmetric_keys(&mut enrollment.attestation)?;
    }
    let certs = enrollment.client_certificates();
    if !enrollment.attestation.is_symmetric_key()
        && (enrollment.attestation.kind != ATTESTATION_X509 || certs.is_empty())
    {
        return Err(bad_request(
            "localhub's DPS takes X.509 individual enrollments with clientCertificates (the device's certificate), and symmetric-key enrollments",
        ));
    }
    for pem in certs {
        let cert = crate::arm::parse_certificate(pem)
            .map_err(|e| bad_request(format!("A client certificate is invalid: {e}")))?;
        let cn = cert.info().ok().and_then(|i| i.common_name);
        if cn.as_deref() != Some(id.as_str()) {
            return Err(bad_request(format!(
                "The client certificate's CN ({}) is not the registration id {id}",
                cn.as_deref().unwrap_or("none")
            )));
        }
    }
    let etag = hub.next_etag();
    enrollment.etag = Some(etag.clone());
    hub.write_dps(|dps| {
        check_write(
            &if_match,
            dps.enrollments.get(&id).and_then(|e| e.etag.as_deref()),
            &format!("Enrollment {id}"),
            enrollment_not_found(&id),
        )?;
        dps.enrollments.insert(id, enrollment.clone());
        Ok::<_, ApiError>(())
    })?;
    Ok(with_etag(
        StatusCode::OK,
        enrollment.answered(describe),
        &etag,
    ))
}

/// `GET /enrollments/{id}`.
pub(crate) async fn get_enrollment(
    _: DpsServiceCall,
    State(hub): State<Arc<Hub>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let e = hub
        .read_enrollments(|all| all.get(&id).cloned())
        .ok_or_else(|| enrollment_not_found(&id))?;
    let etag = e.etag.clone().unwrap_or_default();
    Ok(with_etag(StatusCode::OK, e.answered(describe), &etag))
}

/// `POST /enrollments/query`: every individual enrollment.
pub(crate) async fn query_enrollments(_: DpsServiceCall, State(hub): State<Arc<Hub>>) -> Response {
    let all = hub.read_enrollments(|all| {
        all.values()
            .map(|e| e.answered(describe))
            .collect::<Vec<_>>()
    });
    listed(all, "enrollment")
}

/// `DELETE /enrollments/{id}`, with an optional `If-Match`.
pub(crate) async fn delete_enrollment(
    _: DpsServiceCall,
    State(hub): State<Arc<Hub>>,
    Path(id): Path<String>,
    if_match: IfMatch,
) -> Result<StatusCode, ApiError> {
    hub.write_dps(|dps| {
        let current = dps
            .enrollments
            .get(&id)
            .ok_or_else(|| enrollment_not_found(&id))?;
        if if_match.matches(current.etag.as_deref().unwrap_or("")) == Some(false) {
            return Err(changed(&format!("Enrollment {id}")));
        }
        dps.enrollments.remove(&id);
        Ok(StatusCode::NO_CONTENT)
    })
}

fn registration_not_found(id: &str) -> ApiError {
    ApiError::dps(
        StatusCode::NOT_FOUND,
        404_203,
        format!("Registration {id} not found."),
    )
}

/// `GET /registrations/{id}`: what the device's last registration did, as the service API's
/// `DeviceRegistrationState` says it (how the device attested is the device API's alone).
pub(crate) async fn get_registration(
    _: DpsServiceCall,
    State(hub): State<Arc<Hub>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let state = hub
        .read_registrations(|all| all.get(&id).cloned())
        .map(|s| hubcert::contract::RegistrationState {
            x509: None,
            symmetric_key: None,
            ..s
        })
        .ok_or_else(|| registration_not_found(&id))?;
    let etag = state.etag.clone().unwrap_or_default();
    Ok(with_etag(StatusCode::OK, &state, &etag))
}

/// `DELETE /registrations/{id}`: the device's next registration starts afresh.
pub(crate) async fn delete_registration(
    _: DpsServiceCall,
    State(hub): State<Arc<Hub>>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    hub.write_dps(|dps| {
        dps.registrations
            .remove(&id)
            .map(|_| StatusCode::NO_CONTENT)
            .ok_or_else(|| registration_not_found(&id))
    })
}

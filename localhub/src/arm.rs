//! ARM CA certificates: create, read, list, delete, verification code, proof of possession.
//! Credentials, api-version and hub name are checked by [`ArmCall`] before a handler runs.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use hubcert::contract::{
    ArmErrorCode, CertificateDescription, CertificateListDescription, CertificateName,
    CertificateProperties, CertificateVerificationDescription,
};
use hubcert::pki::Certificate;
use rustls_pki_types::{CertificateDer, UnixTime};

use crate::extract::{ArmCall, Body, IfMatch, RequestBody};
use crate::reply::{rfc1123, with_etag, ApiError};
use crate::store::{now_unix, CaRecord, CertStore, Hub};

/// `{sub}/{rg}/{hub or dps}/{name}`: the hub or DPS part is checked by [`ArmCall`].
type CertPath = Path<(String, String, String, String)>;

fn not_found(name: &str) -> ApiError {
    ApiError::certificate(
        StatusCode::NOT_FOUND,
        ArmErrorCode::CertificateNotFound,
        format!("Certificate {name} not found."),
    )
}

fn precondition_failed(detail: &str) -> ApiError {
    ApiError::certificate(
        StatusCode::PRECONDITION_FAILED,
        ArmErrorCode::PreconditionFailed,
        format!("Precondition failed: {detail}. Read the certificate again for its current etag."),
    )
}

/// `If-Match` must name the current etag (or `*`).
fn check_etag(if_match: &IfMatch, current: &str) -> Result<(), ApiError> {
    match if_match.matches(current) {
        None => Err(precondition_failed(
            "the If-Match header with the certificate's etag is required",
        )),
        Some(true) => Ok(()),
        Some(false) => Err(precondition_failed(
            "the etag in If-Match is not the current one",
        )),
    }
}

/// Reads a certificate given as PEM text or base64 DER, as the hub accepts both.
pub(crate) fn parse_certificate(text: &str) -> Result<Certificate, String> {
    let text = text.trim();
    if text.starts_with("-----BEGIN") {
        Certificate::from_pem(text).map_err(|e| e.to_string())
    } else {
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let der = BASE64
            .decode(compact)
            .map_err(|_| "The certificate is neither PEM nor base64 DER.".to_owned())?;
        Certificate::from_der(der).map_err(|e| e.to_string())
    }
}

/// The certificate as ARM describes it.
fn describe(hub: &Hub, call: &ArmCall, rec: &CaRecord) -> CertificateDescription {
    let cert = Certificate::from_der(rec.der.clone()).ok();
    let info = cert.as_ref().and_then(|c| c.info().ok());
    let (kind, resource) = match call.store {
        CertStore::Hub => ("IotHubs", &hub.config.hub_name),
        CertStore::Dps => ("provisioningServices", &hub.config.dps_name),
    };
    CertificateDescription {
        id: Some(format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Devices/{kind}/{resource}/certificates/{}",
            call.subscription, call.resource_group, rec.name
        )),
        name: Some(rec.name.clone()),
        kind: Some(format!("Microsoft.Devices/{kind}/Certificates")),
        etag: Some(rec.etag.clone()),
        properties: CertificateProperties {
            subject: Some(info.as_ref().and_then(|i| i.common_name.clone()).unwrap_or_default()),
            expiry: Some(info.as_ref().map(|i| rfc1123(i.not_after.unix_timestamp())).unwrap_or_default()),
            thumbprint: Some(info.as_ref().map(|i| i.sha1.to_string()).unwrap_or_default()),
            is_verified: Some(rec.is_verified),
            created: Some(rfc1123(rec.created)),
            updated: Some(rfc1123(rec.updated)),
            certificate: Some(cert.map(|c| c.pem()).unwrap_or_default()),
            verification_code: rec.verification_code.clone(),
        },
    }
}

fn described(hub: &Hub, call: &ArmCall, status: StatusCode, rec: &CaRecord) -> Response {
    with_etag(status, describe(hub, call, rec), &rec.etag)
}

pub(crate) async fn list(call: ArmCall, State(hub): State<Arc<Hub>>) -> Response {
    let value = hub.read_certs(call.store, |certs| {
        certs.values().map(|c| describe(&hub, &call, c)).collect()
    });
    Json(CertificateListDescription { value }).into_response()
}

pub(crate) async fn get(
    call: ArmCall,
    State(hub): State<Arc<Hub>>,
    Path((_, _, _, name)): CertPath,
) -> Result<Response, ApiError> {
    let rec = hub
        .read_certs(call.store, |certs| certs.get(&name).cloned())
        .ok_or_else(|| not_found(&name))?;
    Ok(described(&hub, &call, StatusCode::OK, &rec))
}

impl RequestBody for CertificateDescription {
    fn rejection(e: serde_json::Error) -> ApiError {
        ApiError::certificate(
            StatusCode::BAD_REQUEST,
            ArmErrorCode::BodyInvalid,
            format!("The body must be {{\"properties\":{{\"certificate\":\"...\"}}}} ({e})."),
        )
    }
}

pub(crate) async fn put(
    call: ArmCall,
    State(hub): State<Arc<Hub>>,
    Path((_, _, _, name)): CertPath,
    if_match: IfMatch,
    Body(body): Body<CertificateDescription>,
) -> Result<Response, ApiError> {
    CertificateName::parse(&name).map_err(|e| {
        ApiError::certificate(
            StatusCode::BAD_REQUEST,
            ArmErrorCode::NameInvalid,
            format!("Certificate name '{name}' is invalid: {e}"),
        )
    })?;
    let Some(pem) = body.properties.certificate.as_deref() else {
        return Err(CertificateDescription::rejection(
            serde::de::Error::missing_field("certificate"),
        ));
    };
    let cert = parse_certificate(pem).map_err(|e| {
        ApiError::certificate(
            StatusCode::BAD_REQUEST,
            ArmErrorCode::CertificateInvalid,
            format!("The certificate is invalid: {e}"),
        )
    })?;
    let etag = hub.next_etag();
    let now = now_unix();
    let (status, rec) = hub.write_certs(call.store, |certs| {
        let existing = certs.get(&name);
        let created = match existing {
            None => now,
            Some(rec) => {
                check_etag(&if_match, &rec.etag)?;
                rec.created
            }
        };
        let rec = CaRecord {
            name: name.clone(),
            der: cert.der().to_vec(),
            etag: etag.clone(),
            is_verified: body.properties.is_verified.unwrap_or(false),
            verification_code: None,
            created,
            updated: now,
        };
        // The hub's spec (iothub 2023-06-30, Certificates_CreateOrUpdate) declares 200 and 201;
        // DPS's (iotdps 2022-12-12, DpsCertificate_CreateOrUpdate) declares 200 only, and
        // Microsoft's Python management SDK raises on a 201 from DPS.
        let status = if existing.is_some() || call.store == CertStore::Dps {
            StatusCode::OK
        } else {
            StatusCode::CREATED
        };
        certs.insert(name.clone(), rec.clone());
        Ok::<_, ApiError>((status, rec))
    })?;
    Ok(described(&hub, &call, status, &rec))
}

pub(crate) async fn delete(
    call: ArmCall,
    State(hub): State<Arc<Hub>>,
    Path((_, _, _, name)): CertPath,
    if_match: IfMatch,
) -> Result<StatusCode, ApiError> {
    hub.write_certs(call.store, |certs| {
        let rec = certs.get(&name).ok_or_else(|| not_found(&name))?;
        check_etag(&if_match, &rec.etag)?;
        certs.remove(&name);
        Ok(StatusCode::OK)
    })
}

pub(crate) async fn generate_code(
    call: ArmCall,
    State(hub): State<Arc<Hub>>,
    Path((_, _, _, name)): CertPath,
    if_match: IfMatch,
) -> Result<Response, ApiError> {
    let mut code_bytes = [0u8; 24];
    getrandom::fill(&mut code_bytes).map_err(|_| {
        ApiError::arm(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            "No randomness available.",
        )
    })?;
    let code: String = code_bytes.iter().map(|b| format!("{b:02X}")).collect();
    let etag = hub.next_etag();
    let rec = hub.write_certs(call.store, |certs| {
        let rec = certs.get_mut(&name).ok_or_else(|| not_found(&name))?;
        check_etag(&if_match, &rec.etag)?;
        rec.verification_code = Some(code.clone());
        rec.etag = etag.clone();
        rec.updated = now_unix();
        Ok::<_, ApiError>(rec.clone())
    })?;
    Ok(described(&hub, &call, StatusCode::OK, &rec))
}

impl RequestBody for CertificateVerificationDescription {
    fn rejection(e: serde_json::Error) -> ApiError {
        ApiError::certificate(
            StatusCode::BAD_REQUEST,
            ArmErrorCode::BodyInvalid,
            format!("The body must be {{\"certificate\":\"...\"}} ({e})."),
        )
    }
}

pub(crate) async fn verify(
    call: ArmCall,
    State(hub): State<Arc<Hub>>,
    Path((_, _, _, name)): CertPath,
    if_match: IfMatch,
    Body(body): Body<CertificateVerificationDescription>,
) -> Result<Response, ApiError> {
    let invalid = |e: String| {
        ApiError::certificate(StatusCode::BAD_REQUEST, ArmErrorCode::CertificateInvalid, e)
    };
    let proof = parse_certificate(&body.certificate)
        .map_err(|e| invalid(format!("The verification certificate is invalid: {e}")))?;
    let etag = hub.next_etag();
    let rec = hub.write_certs(call.store, |certs| {
        let rec = certs.get_mut(&name).ok_or_else(|| not_found(&name))?;
        check_etag(&if_match, &rec.etag)?;
        let Some(code) = rec.verification_code.clone() else {
            return Err(ApiError::certificate(
                StatusCode::BAD_REQUEST,
                ArmErrorCode::NoVerificationCode,
                "No verification code was generated for this certificate: generate one first.",
            ));
        };
        let info = proof.info().map_err(|e| invalid(e.to_string()))?;
        if info.common_name.as_deref() != Some(code.as_str()) {
            return Err(ApiError::certificate(
                StatusCode::BAD_REQUEST,
                ArmErrorCode::VerificationCodeMismatch,
                format!(
                    "The verification certificate's CN ({}) is not the verification code ({code}).",
                    info.common_name.as_deref().unwrap_or("none")
                ),
            ));
        }
        signed_by(&proof, &rec.der).map_err(|why| {
            ApiError::certificate(
                StatusCode::BAD_REQUEST,
                ArmErrorCode::VerificationSignedByAnother,
                format!("The verification certificate was not signed by the uploaded CA certificate's key (issuer not found in chain: {why})."),
            )
        })?;
        rec.is_verified = true;
        rec.verification_code = None;
        rec.etag = etag.clone();
        rec.updated = now_unix();
        Ok(rec.clone())
    })?;
    Ok(described(&hub, &call, StatusCode::OK, &rec))
}

/// The proof must chain to the uploaded certificate as a trust anchor, valid now.
fn signed_by(proof: &Certificate, ca_der: &[u8]) -> Result<(), String> {
    let ca = CertificateDer::from(ca_der.to_vec());
    let anchor = webpki::anchor_from_trusted_cert(&ca).map_err(|e| format!("{e:?}"))?;
    let leaf = CertificateDer::from(proof.der().to_vec());
    let ee = webpki::EndEntityCert::try_from(&leaf).map_err(|e| format!("{e:?}"))?;
    let now = UnixTime::since_unix_epoch(std::time::Duration::from_secs(now_unix().max(0) as u64));
    ee.verify_for_usage(
        webpki::ALL_VERIFICATION_ALGS,
        &[anchor],
        &[],
        now,
        webpki::KeyUsage::client_auth(),
        None,
        None,
    )
    .map(|_| ())
    .map_err(|e| format!("{e:?}"))
}

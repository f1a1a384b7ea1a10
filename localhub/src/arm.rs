//! ARM CA certificates: create, read, list, delete, verification code, proof of possession.
//! Credentials, api-version and hub name are checked by [`ArmCall`] before a handler runs.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use hubcert::contract::CertificateName;
use hubcert::pki::Certificate;
use rustls_pki_types::{CertificateDer, UnixTime};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::extract::{ArmCall, Body, IfMatch, RequestBody};
use crate::reply::{rfc1123, with_etag, ApiError};
use crate::store::{now_unix, CaRecord, CertStore, Hub};

/// `{sub}/{rg}/{hub or dps}/{name}`: the hub or DPS part is checked by [`ArmCall`].
type CertPath = Path<(String, String, String, String)>;

fn not_found(name: &str) -> ApiError {
    ApiError::arm(
        StatusCode::NOT_FOUND,
        "IH404004",
        format!("Certificate {name} not found."),
    )
}

fn precondition_failed(detail: &str) -> ApiError {
    ApiError::arm(
        StatusCode::PRECONDITION_FAILED,
        "IH412001",
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
fn describe(hub: &Hub, call: &ArmCall, rec: &CaRecord) -> Value {
    let cert = Certificate::from_der(rec.der.clone()).ok();
    let info = cert.as_ref().and_then(|c| c.info().ok());
    let mut properties = json!({
        "subject": info.as_ref().and_then(|i| i.common_name.clone()).unwrap_or_default(),
        "expiry": info.as_ref().map(|i| rfc1123(i.not_after.unix_timestamp())).unwrap_or_default(),
        "thumbprint": info.as_ref().map(|i| i.sha1.to_string()).unwrap_or_default(),
        "isVerified": rec.is_verified,
        "created": rfc1123(rec.created),
        "updated": rfc1123(rec.updated),
        "certificate": cert.map(|c| c.pem()).unwrap_or_default(),
    });
    if let (Some(code), Some(obj)) = (&rec.verification_code, properties.as_object_mut()) {
        obj.insert("verificationCode".into(), Value::String(code.clone()));
    }
    let (kind, resource) = match call.store {
        CertStore::Hub => ("IotHubs", &hub.config.hub_name),
        CertStore::Dps => ("provisioningServices", &hub.config.dps_name),
    };
    json!({
        "id": format!(
            "/subscriptions/{}/resourceGroups/{}/providers/Microsoft.Devices/{kind}/{resource}/certificates/{}",
            call.subscription, call.resource_group, rec.name
        ),
        "name": rec.name,
        "type": format!("Microsoft.Devices/{kind}/Certificates"),
        "etag": rec.etag,
        "properties": properties,
    })
}

fn described(hub: &Hub, call: &ArmCall, status: StatusCode, rec: &CaRecord) -> Response {
    with_etag(status, describe(hub, call, rec), &rec.etag)
}

pub(crate) async fn list(call: ArmCall, State(hub): State<Arc<Hub>>) -> Response {
    let value: Vec<Value> = hub.read_certs(call.store, |certs| {
        certs.values().map(|c| describe(&hub, &call, c)).collect()
    });
    Json(json!({ "value": value })).into_response()
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

#[derive(Deserialize)]
pub(crate) struct PutBody {
    properties: PutProperties,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PutProperties {
    certificate: String,
    #[serde(default)]
    is_verified: bool,
}

impl RequestBody for PutBody {
    fn rejection(e: serde_json::Error) -> ApiError {
        ApiError::arm(
            StatusCode::BAD_REQUEST,
            "IH400001",
            format!("The body must be {{\"properties\":{{\"certificate\":\"...\"}}}} ({e})."),
        )
    }
}

pub(crate) async fn put(
    call: ArmCall,
    State(hub): State<Arc<Hub>>,
    Path((_, _, _, name)): CertPath,
    if_match: IfMatch,
    Body(body): Body<PutBody>,
) -> Result<Response, ApiError> {
    CertificateName::parse(&name).map_err(|e| {
        ApiError::arm(
            StatusCode::BAD_REQUEST,
            "IH400004",
            format!("Certificate name '{name}' is invalid: {e}"),
        )
    })?;
    let cert = parse_certificate(&body.properties.certificate).map_err(|e| {
        ApiError::arm(
            StatusCode::BAD_REQUEST,
            "IH400037",
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
            is_verified: body.properties.is_verified,
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

#[derive(Deserialize)]
pub(crate) struct VerifyBody {
    certificate: String,
}

impl RequestBody for VerifyBody {
    fn rejection(e: serde_json::Error) -> ApiError {
        ApiError::arm(
            StatusCode::BAD_REQUEST,
            "IH400001",
            format!("The body must be {{\"certificate\":\"...\"}} ({e})."),
        )
    }
}

pub(crate) async fn verify(
    call: ArmCall,
    State(hub): State<Arc<Hub>>,
    Path((_, _, _, name)): CertPath,
    if_match: IfMatch,
    Body(body): Body<VerifyBody>,
) -> Result<Response, ApiError> {
    let invalid = |e: String| ApiError::arm(StatusCode::BAD_REQUEST, "IH400037", e);
    let proof = parse_certificate(&body.certificate)
        .map_err(|e| invalid(format!("The verification certificate is invalid: {e}")))?;
    let etag = hub.next_etag();
    let rec = hub.write_certs(call.store, |certs| {
        let rec = certs.get_mut(&name).ok_or_else(|| not_found(&name))?;
        check_etag(&if_match, &rec.etag)?;
        let Some(code) = rec.verification_code.clone() else {
            return Err(ApiError::arm(
                StatusCode::BAD_REQUEST,
                "IH400052",
                "No verification code was generated for this certificate: generate one first.",
            ));
        };
        let info = proof.info().map_err(|e| invalid(e.to_string()))?;
        if info.common_name.as_deref() != Some(code.as_str()) {
            return Err(ApiError::arm(
                StatusCode::BAD_REQUEST,
                "IH400054",
                format!(
                    "The verification certificate's CN ({}) is not the verification code ({code}).",
                    info.common_name.as_deref().unwrap_or("none")
                ),
            ));
        }
        signed_by(&proof, &rec.der).map_err(|why| {
            ApiError::arm(
                StatusCode::BAD_REQUEST,
                "IH400053",
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

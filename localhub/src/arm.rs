//! ARM CA certificates: create, read, list, delete, verification code, proof of possession.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use hubcert::contract::{CertificateName, ARM_API_VERSION};
use hubcert::pki::Certificate;
use rustls_pki_types::{CertificateDer, UnixTime};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth;
use crate::http::arm_error;
use crate::store::{now_unix, CaRecord, Hub};

#[derive(Deserialize)]
pub(crate) struct ApiVersion {
    #[serde(rename = "api-version")]
    api_version: Option<String>,
}

type CertPath = Path<(String, String, String, String)>;
type ListPath = Path<(String, String, String)>;

/// Checks what every ARM call needs: a token, an api-version, this hub.
fn preflight(
    hub: &Hub,
    headers: &HeaderMap,
    q: &ApiVersion,
    hub_name: &str,
) -> Result<(), Response> {
    auth::arm(headers)?;
    match q.api_version.as_deref() {
        None => {
            return Err(arm_error(
                StatusCode::BAD_REQUEST,
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required for all requests.",
            ))
        }
        Some(v) if v < "2018-04-01" => {
            return Err(arm_error(
                StatusCode::BAD_REQUEST,
                "InvalidApiVersionParameter",
                format!("The api-version '{v}' is invalid. Use {ARM_API_VERSION}."),
            ))
        }
        _ => {}
    }
    if !hub_name.eq_ignore_ascii_case(&hub.config.hub_name) {
        return Err(arm_error(
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            format!(
                "The IoT hub '{hub_name}' was not found; this localhub is '{}'.",
                hub.config.hub_name
            ),
        ));
    }
    Ok(())
}

fn not_found(name: &str) -> Response {
    arm_error(
        StatusCode::NOT_FOUND,
        "IH404004",
        format!("Certificate {name} not found."),
    )
}

fn precondition_failed(detail: &str) -> Response {
    arm_error(
        StatusCode::PRECONDITION_FAILED,
        "IH412001",
        format!("Precondition failed: {detail}. Read the certificate again for its current etag."),
    )
}

fn if_match(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().trim_matches('"'))
}

/// `If-Match` must name the current etag (or `*`).
fn check_etag(headers: &HeaderMap, current: &str) -> Result<(), Response> {
    match if_match(headers) {
        None => Err(precondition_failed(
            "the If-Match header with the certificate's etag is required",
        )),
        Some("*") => Ok(()),
        Some(e) if e == current => Ok(()),
        Some(_) => Err(precondition_failed(
            "the etag in If-Match is not the current one",
        )),
    }
}

/// RFC 1123, as IoT Hub writes dates in certificate descriptions.
pub(crate) fn rfc1123(unix: i64) -> String {
    let fmt = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&fmt).ok())
        .unwrap_or_default()
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

fn describe(hub: &Hub, sub: &str, rg: &str, rec: &CaRecord) -> Value {
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
    json!({
        "id": format!(
            "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Devices/IotHubs/{}/certificates/{}",
            hub.config.hub_name, rec.name
        ),
        "name": rec.name,
        "type": "Microsoft.Devices/IotHubs/Certificates",
        "etag": rec.etag,
        "properties": properties,
    })
}

fn with_etag(status: StatusCode, body: Value, etag: &str) -> Response {
    let mut r = (status, Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("\"{etag}\"")) {
        r.headers_mut().insert(header::ETAG, v);
    }
    r
}

pub(crate) async fn list(
    State(hub): State<Arc<Hub>>,
    Path((sub, rg, hub_name)): ListPath,
    Query(q): Query<ApiVersion>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = preflight(&hub, &headers, &q, &hub_name) {
        return r;
    }
    let value: Vec<Value> = hub.read(|certs, _| {
        certs
            .values()
            .map(|c| describe(&hub, &sub, &rg, c))
            .collect()
    });
    Json(json!({ "value": value })).into_response()
}

pub(crate) async fn get(
    State(hub): State<Arc<Hub>>,
    Path((sub, rg, hub_name, name)): CertPath,
    Query(q): Query<ApiVersion>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = preflight(&hub, &headers, &q, &hub_name) {
        return r;
    }
    match hub.read(|certs, _| certs.get(&name).cloned()) {
        Some(rec) => with_etag(StatusCode::OK, describe(&hub, &sub, &rg, &rec), &rec.etag),
        None => not_found(&name),
    }
}

#[derive(Deserialize)]
struct PutBody {
    properties: PutProperties,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PutProperties {
    certificate: String,
    #[serde(default)]
    is_verified: bool,
}

pub(crate) async fn put(
    State(hub): State<Arc<Hub>>,
    Path((sub, rg, hub_name, name)): CertPath,
    Query(q): Query<ApiVersion>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if let Err(r) = preflight(&hub, &headers, &q, &hub_name) {
        return r;
    }
    if let Err(e) = CertificateName::parse(&name) {
        return arm_error(
            StatusCode::BAD_REQUEST,
            "IH400004",
            format!("Certificate name '{name}' is invalid: {e}"),
        );
    }
    let body: PutBody = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => {
            return arm_error(
                StatusCode::BAD_REQUEST,
                "IH400001",
                format!("The body must be {{\"properties\":{{\"certificate\":\"...\"}}}} ({e})."),
            )
        }
    };
    let cert = match parse_certificate(&body.properties.certificate) {
        Ok(c) => c,
        Err(e) => {
            return arm_error(
                StatusCode::BAD_REQUEST,
                "IH400037",
                format!("The certificate is invalid: {e}"),
            )
        }
    };
    let etag = hub.next_etag();
    let now = now_unix();
    let result = hub.write(|certs, _| {
        let existing = certs.get(&name);
        let created = match (existing, if_match(&headers)) {
            (None, _) => now,
            (Some(rec), _) => {
                check_etag(&headers, &rec.etag)?;
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
        let status = if existing.is_some() {
            StatusCode::OK
        } else {
            StatusCode::CREATED
        };
        certs.insert(name.clone(), rec.clone());
        Ok((status, rec))
    });
    match result {
        Ok((status, rec)) => with_etag(status, describe(&hub, &sub, &rg, &rec), &rec.etag),
        Err(r) => r,
    }
}

pub(crate) async fn delete(
    State(hub): State<Arc<Hub>>,
    Path((_, _, hub_name, name)): CertPath,
    Query(q): Query<ApiVersion>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = preflight(&hub, &headers, &q, &hub_name) {
        return r;
    }
    hub.write(|certs, _| {
        let Some(rec) = certs.get(&name) else {
            return not_found(&name);
        };
        if let Err(r) = check_etag(&headers, &rec.etag) {
            return r;
        }
        certs.remove(&name);
        StatusCode::OK.into_response()
    })
}

pub(crate) async fn generate_code(
    State(hub): State<Arc<Hub>>,
    Path((sub, rg, hub_name, name)): CertPath,
    Query(q): Query<ApiVersion>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = preflight(&hub, &headers, &q, &hub_name) {
        return r;
    }
    let mut code_bytes = [0u8; 24];
    if getrandom::fill(&mut code_bytes).is_err() {
        return arm_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            "No randomness available.",
        );
    }
    let code: String = code_bytes.iter().map(|b| format!("{b:02X}")).collect();
    let etag = hub.next_etag();
    let result = hub.write(|certs, _| {
        let Some(rec) = certs.get_mut(&name) else {
            return Err(not_found(&name));
        };
        check_etag(&headers, &rec.etag)?;
        rec.verification_code = Some(code.clone());
        rec.etag = etag.clone();
        rec.updated = now_unix();
        Ok(rec.clone())
    });
    match result {
        Ok(rec) => with_etag(StatusCode::OK, describe(&hub, &sub, &rg, &rec), &rec.etag),
        Err(r) => r,
    }
}

#[derive(Deserialize)]
struct VerifyBody {
    certificate: String,
}

pub(crate) async fn verify(
    State(hub): State<Arc<Hub>>,
    Path((sub, rg, hub_name, name)): CertPath,
    Query(q): Query<ApiVersion>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if let Err(r) = preflight(&hub, &headers, &q, &hub_name) {
        return r;
    }
    let body: VerifyBody = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => {
            return arm_error(
                StatusCode::BAD_REQUEST,
                "IH400001",
                format!("The body must be {{\"certificate\":\"...\"}} ({e})."),
            )
        }
    };
    let proof = match parse_certificate(&body.certificate) {
        Ok(c) => c,
        Err(e) => {
            return arm_error(
                StatusCode::BAD_REQUEST,
                "IH400037",
                format!("The verification certificate is invalid: {e}"),
            )
        }
    };
    let etag = hub.next_etag();
    let result = hub.write(|certs, _| {
        let Some(rec) = certs.get_mut(&name) else { return Err(not_found(&name)) };
        check_etag(&headers, &rec.etag)?;
        let Some(code) = rec.verification_code.clone() else {
            return Err(arm_error(
                StatusCode::BAD_REQUEST,
                "IH400052",
                "No verification code was generated for this certificate: generate one first.",
            ));
        };
        let info = proof.info().map_err(|e| arm_error(StatusCode::BAD_REQUEST, "IH400037", e.to_string()))?;
        if info.common_name.as_deref() != Some(code.as_str()) {
            return Err(arm_error(
                StatusCode::BAD_REQUEST,
                "IH400054",
                format!(
                    "The verification certificate's CN ({}) is not the verification code ({code}).",
                    info.common_name.as_deref().unwrap_or("none")
                ),
            ));
        }
        signed_by(&proof, &rec.der).map_err(|why| {
            arm_error(
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
    });
    match result {
        Ok(rec) => with_etag(StatusCode::OK, describe(&hub, &sub, &rg, &rec), &rec.etag),
        Err(r) => r,
    }
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

//! The device registry of the data plane: `/devices/{id}?api-version=2021-04-12`.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use hubcert::iothub::DeviceId;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth;
use crate::http::hub_error;
use crate::store::{random_key, DeviceAuth, DeviceRecord, Hub};

#[derive(Deserialize)]
pub(crate) struct ApiVersion {
    #[serde(rename = "api-version")]
    api_version: Option<String>,
}

fn preflight(hub: &Hub, headers: &HeaderMap, q: &ApiVersion) -> Result<(), Response> {
    auth::service(hub, headers)?;
    if q.api_version.is_none() {
        return Err(hub_error(
            StatusCode::BAD_REQUEST,
            "InvalidProtocolVersion",
            "The api-version query parameter is required (api-version=2021-04-12).",
        ));
    }
    Ok(())
}

fn describe(d: &DeviceRecord) -> Value {
    let authentication = match &d.auth {
        DeviceAuth::CertificateAuthority => json!({
            "type": "certificateAuthority",
            "symmetricKey": {"primaryKey": null, "secondaryKey": null},
            "x509Thumbprint": {"primaryThumbprint": null, "secondaryThumbprint": null},
        }),
        DeviceAuth::SelfSigned { primary, secondary } => json!({
            "type": "selfSigned",
            "symmetricKey": {"primaryKey": null, "secondaryKey": null},
            "x509Thumbprint": {"primaryThumbprint": primary, "secondaryThumbprint": secondary},
        }),
        DeviceAuth::Sas { primary, secondary } => json!({
            "type": "sas",
            "symmetricKey": {"primaryKey": primary, "secondaryKey": secondary},
            "x509Thumbprint": {"primaryThumbprint": null, "secondaryThumbprint": null},
        }),
        DeviceAuth::None => json!({"type": "none"}),
    };
    json!({
        "deviceId": d.device_id,
        "generationId": d.generation_id,
        "etag": d.etag,
        "connectionState": "Disconnected",
        "status": if d.enabled { "enabled" } else { "disabled" },
        "statusReason": null,
        "connectionStateUpdatedTime": "0001-01-01T00:00:00Z",
        "statusUpdatedTime": "0001-01-01T00:00:00Z",
        "lastActivityTime": "0001-01-01T00:00:00Z",
        "cloudToDeviceMessageCount": 0,
        "authentication": authentication,
        "capabilities": {"iotEdge": false},
    })
}

fn with_etag(status: StatusCode, d: &DeviceRecord) -> Response {
    let mut r = (status, Json(describe(d))).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("\"{}\"", d.etag)) {
        r.headers_mut().insert(header::ETAG, v);
    }
    r
}

fn not_found(id: &str) -> Response {
    hub_error(
        StatusCode::NOT_FOUND,
        "DeviceNotFound",
        format!("Device {id} is not registered"),
    )
}

pub(crate) async fn get(
    State(hub): State<Arc<Hub>>,
    Path(id): Path<String>,
    Query(q): Query<ApiVersion>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = preflight(&hub, &headers, &q) {
        return r;
    }
    match hub.read(|_, devices| devices.get(&id).cloned()) {
        Some(d) => with_etag(StatusCode::OK, &d),
        None => not_found(&id),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeviceBody {
    device_id: Option<String>,
    status: Option<String>,
    authentication: Option<AuthBody>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AuthBody {
    #[serde(rename = "type")]
    kind: Option<String>,
    symmetric_key: Option<KeysBody>,
    x509_thumbprint: Option<ThumbprintsBody>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KeysBody {
    primary_key: Option<String>,
    secondary_key: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ThumbprintsBody {
    primary_thumbprint: Option<String>,
    secondary_thumbprint: Option<String>,
}

/// A thumbprint is 40 (SHA-1) or 64 (SHA-256) hex digits; the hub refuses colons.
fn thumbprint(t: Option<String>) -> Result<Option<String>, String> {
    let Some(t) = t.filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if t.contains(':') {
        return Err(format!(
            "Thumbprint {t} contains colons: give the hex digits only"
        ));
    }
    if !(t.len() == 40 || t.len() == 64) || !t.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!(
            "Thumbprint {t} is not 40 (SHA-1) or 64 (SHA-256) hex digits"
        ));
    }
    Ok(Some(t.to_ascii_uppercase()))
}

fn parse_auth(body: Option<AuthBody>) -> Result<DeviceAuth, String> {
    let Some(a) = body else {
        return Ok(DeviceAuth::Sas {
            primary: random_key()?,
            secondary: random_key()?,
        });
    };
    match a.kind.as_deref().unwrap_or("sas") {
        "certificateAuthority" => Ok(DeviceAuth::CertificateAuthority),
        "selfSigned" => {
            let t = a.x509_thumbprint.ok_or("A selfSigned device needs x509Thumbprint")?;
            let primary = thumbprint(t.primary_thumbprint)?;
            let secondary = thumbprint(t.secondary_thumbprint)?;
            if primary.is_none() && secondary.is_none() {
                return Err("A selfSigned device needs a primaryThumbprint".into());
            }
            Ok(DeviceAuth::SelfSigned { primary, secondary })
        }
        "sas" => {
            let keys = a.symmetric_key;
            let pick = |k: Option<String>| -> Result<String, String> {
                match k.filter(|k| !k.is_empty()) {
                    Some(k) => {
                        use base64::Engine as _;
                        base64::engine::general_purpose::STANDARD
                            .decode(&k)
                            .map_err(|_| format!("Symmetric key {k} is not base64"))?;
                        Ok(k)
                    }
                    None => random_key(),
                }
            };
            let (p, s) = keys.map(|k| (k.primary_key, k.secondary_key)).unwrap_or((None, None));
            Ok(DeviceAuth::Sas { primary: pick(p)?, secondary: pick(s)? })
        }
        "none" => Ok(DeviceAuth::None),
        other => Err(format!(
            "Authentication type '{other}' is unknown: use sas, selfSigned, certificateAuthority or none"
        )),
    }
}

pub(crate) async fn put(
    State(hub): State<Arc<Hub>>,
    Path(id): Path<String>,
    Query(q): Query<ApiVersion>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if let Err(r) = preflight(&hub, &headers, &q) {
        return r;
    }
    let bad = |code: &str, m: String| hub_error(StatusCode::BAD_REQUEST, code, m);
    if let Err(e) = DeviceId::parse(&id) {
        return bad("ArgumentInvalid", e.to_string());
    }
    let body: DeviceBody = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => {
            return bad(
                "ArgumentInvalid",
                format!("The device body is not valid JSON ({e})"),
            )
        }
    };
    if body.device_id.as_deref().is_some_and(|d| d != id) {
        return bad(
            "ArgumentInvalid",
            "The deviceId in the body differs from the one in the URL".into(),
        );
    }
    let auth = match parse_auth(body.authentication) {
        Ok(a) => a,
        Err(e) => return bad("ArgumentInvalid", e),
    };
    let enabled = !matches!(body.status.as_deref(), Some("disabled"));
    let etag = hub.next_etag();
    let result = hub.write(|_, devices| {
        let existing = devices.get(&id);
        let if_match = headers
            .get(header::IF_MATCH)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.trim_matches('"'));
        let (status, generation_id, reported, reported_version) = match (existing, if_match) {
            (None, _) => (
                StatusCode::OK,
                format!("{}", crate::store::now_unix()),
                Default::default(),
                1,
            ),
            (Some(_), None) => {
                return Err(hub_error(
                    StatusCode::CONFLICT,
                    "DeviceAlreadyExists",
                    format!("A device with ID '{id}' is already registered"),
                ))
            }
            (Some(d), Some(m)) if m != "*" && m != d.etag => {
                return Err(hub_error(
                    StatusCode::PRECONDITION_FAILED,
                    "PreconditionFailed",
                    "The etag in If-Match is not the current one: read the device again",
                ))
            }
            (Some(d), Some(_)) => (
                StatusCode::OK,
                d.generation_id.clone(),
                d.reported.clone(),
                d.reported_version,
            ),
        };
        let record = DeviceRecord {
            device_id: id.clone(),
            etag: etag.clone(),
            generation_id,
            enabled,
            auth: auth.clone(),
            reported,
            reported_version,
            last_activity: None,
        };
        devices.insert(id.clone(), record.clone());
        Ok((status, record))
    });
    match result {
        Ok((status, record)) => {
            // A changed registration applies from the next connection.
            hub.disconnect(&id);
            with_etag(status, &record)
        }
        Err(r) => r,
    }
}

pub(crate) async fn delete(
    State(hub): State<Arc<Hub>>,
    Path(id): Path<String>,
    Query(q): Query<ApiVersion>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = preflight(&hub, &headers, &q) {
        return r;
    }
    let if_match = headers
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim_matches('"').to_owned());
    let result = hub.write(|_, devices| {
        let Some(d) = devices.get(&id) else {
            return Err(not_found(&id));
        };
        match if_match.as_deref() {
            None => Err(hub_error(
                StatusCode::BAD_REQUEST,
                "IfMatchHeaderRequired",
                "Deleting a device needs If-Match: the device's etag, or *",
            )),
            Some(m) if m != "*" && m != d.etag => Err(hub_error(
                StatusCode::PRECONDITION_FAILED,
                "PreconditionFailed",
                "The etag in If-Match is not the current one: read the device again",
            )),
            Some(_) => {
                devices.remove(&id);
                Ok(())
            }
        }
    });
    match result {
        Ok(()) => {
            hub.disconnect(&id);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(r) => r,
    }
}

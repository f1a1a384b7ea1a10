//! The device registry of the data plane: `/devices/{id}?api-version=...`, the body
//! `hubcert::contract::Device`.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use hubcert::contract::{
    AuthKind, Authentication, ConnectionState, Device, DeviceId, DeviceStatus,
    RegisteredThumbprint, SymmetricKey, X509Thumbprint, DEVICE_API_VERSION,
};
use serde::Deserialize;

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
            format!(
                "The api-version query parameter is required (api-version={DEVICE_API_VERSION})."
            ),
        ));
    }
    Ok(())
}

/// The record as the registry API describes it.
fn describe(d: &DeviceRecord) -> Device {
    let authentication = match &d.auth {
        DeviceAuth::CertificateAuthority => Authentication {
            kind: AuthKind::CertificateAuthority,
            symmetric_key: Some(SymmetricKey::default()),
            x509_thumbprint: Some(X509Thumbprint::default()),
        },
        DeviceAuth::SelfSigned { primary, secondary } => Authentication {
            kind: AuthKind::SelfSigned,
            symmetric_key: Some(SymmetricKey::default()),
            x509_thumbprint: Some(X509Thumbprint {
                primary_thumbprint: primary.clone(),
                secondary_thumbprint: secondary.clone(),
            }),
        },
        DeviceAuth::Sas { primary, secondary } => Authentication {
            kind: AuthKind::Sas,
            symmetric_key: Some(SymmetricKey {
                primary_key: Some(primary.clone()),
                secondary_key: Some(secondary.clone()),
            }),
            x509_thumbprint: Some(X509Thumbprint::default()),
        },
        DeviceAuth::None => Authentication {
            kind: AuthKind::None,
            ..Default::default()
        },
    };
    const NEVER: &str = "0001-01-01T00:00:00Z";
    Device {
        generation_id: Some(d.generation_id.clone()),
        etag: Some(d.etag.clone()),
        connection_state: Some(ConnectionState::Disconnected),
        status: if d.enabled {
            DeviceStatus::Enabled
        } else {
            DeviceStatus::Disabled
        },
        connection_state_updated_time: Some(NEVER.into()),
        status_updated_time: Some(NEVER.into()),
        last_activity_time: Some(NEVER.into()),
        cloud_to_device_message_count: Some(0),
        ..Device::new(&d.device_id, authentication)
    }
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

/// A registered thumbprint, as IoT Hub checks it; an empty one is absent.
fn thumbprint(t: Option<String>) -> Result<Option<String>, String> {
    match t.filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => RegisteredThumbprint::parse(&t)
            .map(|t| Some(t.as_str().to_owned()))
            .map_err(|e| format!("Thumbprint {t} {e}")),
    }
}

fn parse_auth(a: Authentication) -> Result<DeviceAuth, String> {
    match a.kind {
        AuthKind::CertificateAuthority => Ok(DeviceAuth::CertificateAuthority),
        AuthKind::SelfSigned => {
            let t = a.x509_thumbprint.ok_or("A selfSigned device needs x509Thumbprint")?;
            let primary = thumbprint(t.primary_thumbprint)?;
            let secondary = thumbprint(t.secondary_thumbprint)?;
            if primary.is_none() && secondary.is_none() {
                return Err("A selfSigned device needs a primaryThumbprint".into());
            }
            Ok(DeviceAuth::SelfSigned { primary, secondary })
        }
        AuthKind::Sas => {
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
            let keys = a.symmetric_key.unwrap_or_default();
            Ok(DeviceAuth::Sas {
                primary: pick(keys.primary_key)?,
                secondary: pick(keys.secondary_key)?,
            })
        }
        AuthKind::None => Ok(DeviceAuth::None),
        AuthKind::Unknown(other) => Err(format!(
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
    let body = match Device::from_json(&body) {
        Ok(b) => b,
        Err(e) => {
            return bad(
                "ArgumentInvalid",
                format!("The device body is not valid JSON ({e})"),
            )
        }
    };
    if body.device_id != id {
        return bad(
            "ArgumentInvalid",
            "The deviceId in the body differs from the one in the URL".into(),
        );
    }
    let auth = match parse_auth(body.authentication) {
        Ok(a) => a,
        Err(e) => return bad("ArgumentInvalid", e),
    };
    let enabled = body.status != DeviceStatus::Disabled;
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

//! The device registry of the data plane: `/devices/{id}?api-version=...`, the body
//! `hubcert::contract::Device`.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use hubcert::contract::{
    AuthKind, Authentication, ConnectionState, Device, DeviceId, DeviceStatus,
    RegisteredThumbprint, SymmetricKey, X509Thumbprint,
};

use crate::extract::{Body, IfMatch, RegistryOperation, RequestBody, ServiceCall};
use crate::reply::{with_etag, ApiError};
use crate::store::{random_key, DeviceAuth, DeviceRecord, Hub};

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
        last_activity_time: Some(
            d.last_activity
                .map_or_else(|| NEVER.into(), crate::query::iso_ms),
        ),
        cloud_to_device_message_count: Some(0),
        capabilities: hubcert::contract::Capabilities {
            iot_edge: d.service.iot_edge,
        },
        ..Device::new(&d.device_id, authentication)
    }
}

fn not_found(id: &str) -> ApiError {
    ApiError::hub(StatusCode::NOT_FOUND, "DeviceNotFound", not_registered(id))
}

/// Why a call on an id the registry does not have failed (`DeviceNotFound`).
pub(crate) fn not_registered(id: &str) -> String {
    format!("Device {id} is not registered")
}

/// Why creating an id the registry has failed (`DeviceAlreadyExists`).
pub(crate) fn already_registered(id: &str) -> String {
    format!("A device with ID '{id}' is already registered")
}

/// The record an identity write leaves: what the request says over what the registry keeps of
/// the device (its generation, reported properties and the service's side of its twin), or a new
/// device's.
pub(crate) fn identity_record(
    existing: Option<&DeviceRecord>,
    id: &str,
    etag: String,
    auth: DeviceAuth,
    enabled: bool,
    iot_edge: bool,
) -> DeviceRecord {
    let (generation_id, reported, reported_version, service) = match existing {
        Some(d) => (
            d.generation_id.clone(),
            d.reported.clone(),
            d.reported_version,
            d.service.clone(),
        ),
        None => (
            format!("{}", crate::store::now_unix()),
            Default::default(),
            1,
            crate::store::ServiceSide::default(),
        ),
    };
    DeviceRecord {
        device_id: id.to_owned(),
        etag,
        generation_id,
        enabled,
        auth,
        reported,
        reported_version,
        // An identity write keeps what the device did.
        last_activity: existing.and_then(|d| d.last_activity),
        service: crate::store::ServiceSide {
            iot_edge,
            ..service
        },
    }
}

fn described(status: StatusCode, d: &DeviceRecord) -> Response {
    with_etag(status, describe(d), &d.etag)
}

pub(crate) async fn get(
    _: ServiceCall,
    _: RegistryOperation,
    State(hub): State<Arc<Hub>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let d = hub
        .read(|_, devices| devices.get(&id).cloned())
        .ok_or_else(|| not_found(&id))?;
    Ok(described(StatusCode::OK, &d))
}

impl RequestBody for Device {
    fn rejection(e: serde_json::Error) -> ApiError {
        ApiError::hub(
            StatusCode::BAD_REQUEST,
            "ArgumentInvalid",
            format!("The device body is not valid JSON ({e})"),
        )
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

pub(crate) fn parse_auth(a: Authentication) -> Result<DeviceAuth, String> {
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

fn precondition_failed() -> ApiError {
    ApiError::hub(
        StatusCode::PRECONDITION_FAILED,
        "PreconditionFailed",
        "The etag in If-Match is not the current one: read the device again",
    )
}

pub(crate) async fn put(
    _: ServiceCall,
    _: RegistryOperation,
    State(hub): State<Arc<Hub>>,
    Path(id): Path<String>,
    if_match: IfMatch,
    Body(body): Body<Device>,
) -> Result<Response, ApiError> {
    let bad = |m: String| ApiError::hub(StatusCode::BAD_REQUEST, "ArgumentInvalid", m);
    DeviceId::parse(&id).map_err(|e| bad(e.to_string()))?;
    if body.device_id != id {
        return Err(bad(
            "The deviceId in the body differs from the one in the URL".into(),
        ));
    }
    let auth = parse_auth(body.authentication).map_err(bad)?;
    let enabled = body.status != DeviceStatus::Disabled;
    let iot_edge = body.capabilities.iot_edge;
    let etag = hub.next_etag();
    let (status, record) = hub.write(|_, devices| {
        let existing = devices.get(&id);
        match (
            existing,
            if_match.matches(existing.map(|d| d.etag.as_str()).unwrap_or("")),
        ) {
            (Some(_), None) => {
                return Err(ApiError::hub(
                    StatusCode::CONFLICT,
                    "DeviceAlreadyExists",
                    already_registered(&id),
                ))
            }
            (Some(_), Some(false)) => return Err(precondition_failed()),
            _ => {}
        }
        let record = identity_record(existing, &id, etag.clone(), auth.clone(), enabled, iot_edge);
        devices.insert(id.clone(), record.clone());
        Ok((StatusCode::OK, record))
    })?;
    // A changed registration applies from the next connection.
    hub.disconnect(&id);
    Ok(described(status, &record))
}

pub(crate) async fn delete(
    _: ServiceCall,
    _: RegistryOperation,
    State(hub): State<Arc<Hub>>,
    Path(id): Path<String>,
    if_match: IfMatch,
) -> Result<StatusCode, ApiError> {
    hub.write(|_, devices| {
        let d = devices.get(&id).ok_or_else(|| not_found(&id))?;
        match if_match.matches(&d.etag) {
            None => Err(ApiError::hub(
                StatusCode::BAD_REQUEST,
                "IfMatchHeaderRequired",
                "Deleting a device needs If-Match: the device's etag, or *",
            )),
            Some(false) => Err(precondition_failed()),
            Some(true) => {
                devices.remove(&id);
                Ok(())
            }
        }
    })?;
    hub.disconnect(&id);
    Ok(StatusCode::NO_CONTENT)
}

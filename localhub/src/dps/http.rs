//! DPS's device API over HTTPS (Microsoft's "Runtime Registration" REST API, the
//! `RuntimeRegistration_*` operations of azure-rest-api-specs' DPS `device.json`):
//!
//! ```text
//! PUT  /{idScope}/registrations/{registrationId}/register?api-version=...   {"registrationId", "payload"?}
//!      → 202 {"operationId", "status": "assigning"}, Retry-After
//! GET  /{idScope}/registrations/{registrationId}/operations/{operationId}?api-version=...
//!      → 200 {"operationId", "status": "assigned", "registrationState": {...}} (or disabled)
//! POST /{idScope}/registrations/{registrationId}?api-version=...
//!      → 200 the device's registration state (DeviceRegistrationResult)
//! ```
//!
//! Every call is attested ([`attest`]): by the TLS client certificate on the HTTPS port (X.509),
//! or by `Authorization: SharedAccessSignature sr={idScope}%2Fregistrations%2F{id}&...&skn=registration`
//! (symmetric key, on either port). A call that proves nothing is answered 401 with DPS's
//! error body, code 401002. No operation is kept: an operation id is sealed with the DPS's key
//! for its registration, and the status call, attested again, assigns the device.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use hubcert::contract::{
    derive_device_key, RegistrationOperation, RegistrationRequest, RegistrationStatus,
    DPS_DEVICE_API_VERSION,
};

use super::attest::{attest, conclude, Attested, Credential};
use crate::reply::ApiError;
use crate::store::{now_unix, Hub};
use crate::tls::PeerCerts;

/// Seconds a device is told to wait before asking how its registration goes.
const RETRY_AFTER_SECONDS: u32 = 1;

/// A device API error: DPS's body (`errorCode`, `trackingId`, `message`, `timestampUtc`) with the
/// HTTP status, and the code again in `x-ms-error-code`, as the spec declares.
pub(crate) struct DeviceError(ApiError);

impl DeviceError {
    fn new(status: StatusCode, code: i64, message: impl Into<String>) -> Self {
        Self(ApiError::dps(status, code, message))
    }
}

impl IntoResponse for DeviceError {
    fn into_response(self) -> Response {
        let code = match self.0.plane {
            crate::reply::Plane::Dps(code) => Some(code),
            _ => None,
        };
        let mut r = self.0.into_response();
        if let Some(v) = code.and_then(|c| HeaderValue::from_str(&c.to_string()).ok()) {
            r.headers_mut().insert("x-ms-error-code", v);
        }
        r
    }
}

/// A device API call: an api-version, and a device that an enrollment admits.
pub(crate) struct DeviceCall {
    registration_id: String,
    operation_id: Option<String>,
    attested: Attested,
}

impl FromRequestParts<Arc<Hub>> for DeviceCall {
    type Rejection = DeviceError;

    async fn from_request_parts(parts: &mut Parts, hub: &Arc<Hub>) -> Result<Self, DeviceError> {
        let has_version = parts
            .uri
            .query()
            .unwrap_or("")
            .split('&')
            .any(|kv| kv.starts_with("api-version="));
        if !has_version {
            return Err(DeviceError::new(
                StatusCode::BAD_REQUEST,
                400_001,
                format!("The api-version query parameter is required (api-version={DPS_DEVICE_API_VERSION})."),
            ));
        }
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, hub)
            .await
            .map_err(|e| DeviceError::new(StatusCode::BAD_REQUEST, 400_004, e.body_text()))?;
        let scope = params.get("scope").cloned().unwrap_or_default();
        let registration_id = params.get("registration").cloned().unwrap_or_default();
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        // The HTTPS port's connection hands its client certificates to the router.
        let peer = parts
            .extensions
            .get::<PeerCerts>()
            .cloned()
            .unwrap_or_default();
        let credential = match &token {
            Some(t) => Credential::Sas(t),
            None => Credential::Certificates(&peer.0),
        };
        let attested = attest(hub, &scope, &registration_id, credential).map_err(|why| {
            eprintln!("localhub dps: refused {registration_id:?} over HTTPS: {why}");
            DeviceError::new(
                StatusCode::UNAUTHORIZED,
                401_002,
                format!("Unauthorized: {why}"),
            )
        })?;
        Ok(Self {
            registration_id,
            operation_id: params.get("operation").cloned(),
            attested,
        })
    }
}

/// The seal of an operation id: the DPS's key over the registration and the id's nonce.
fn seal(hub: &Hub, registration_id: &str, nonce: &str) -> String {
    derive_device_key(&hub.dps_key(), &format!("{registration_id}\n{nonce}"))
        .unwrap_or_default()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(20)
        .collect()
}

/// A new operation id for `registration_id`: `5.{nonce}.{seal}`.
fn new_operation_id(hub: &Hub, registration_id: &str) -> String {
    let nonce = format!("{:x}{:04x}", now_unix(), hub.next_session_id());
    format!("5.{nonce}.{}", seal(hub, registration_id, &nonce))
}

/// Whether `operation_id` is one this DPS gave `registration_id`.
fn is_operation_of(hub: &Hub, registration_id: &str, operation_id: &str) -> bool {
    operation_id
        .strip_prefix("5.")
        .and_then(|rest| rest.split_once('.'))
        .is_some_and(|(nonce, sealed)| {
            !sealed.is_empty() && sealed == seal(hub, registration_id, nonce)
        })
}

/// `PUT /{idScope}/registrations/{registrationId}/register`: 202 with the operation to poll.
pub(crate) async fn register(
    call: DeviceCall,
    State(hub): State<Arc<Hub>>,
    body: Bytes,
) -> Result<Response, DeviceError> {
    let asked: RegistrationRequest = serde_json::from_slice(&body).map_err(|e| {
        DeviceError::new(
            StatusCode::BAD_REQUEST,
            400_004,
            format!("The registration request is not valid JSON ({e})"),
        )
    })?;
    if asked.registration_id != call.registration_id {
        return Err(DeviceError::new(
            StatusCode::BAD_REQUEST,
            400_004,
            "The registration request's registrationId is not the one in the URL.",
        ));
    }
    let operation = RegistrationOperation {
        operation_id: new_operation_id(&hub, &call.registration_id),
        status: RegistrationStatus::Assigning,
        registration_state: None,
    };
    let mut r = (StatusCode::ACCEPTED, Json(operation)).into_response();
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
    Ok(r)
}

/// `GET /{idScope}/registrations/{registrationId}/operations/{operationId}`: the registration
/// done, assigned (or `disabled`), 200.
pub(crate) async fn operation_status(
    call: DeviceCall,
    State(hub): State<Arc<Hub>>,
) -> Result<Json<RegistrationOperation>, DeviceError> {
    let operation_id = call.operation_id.unwrap_or_default();
    if !is_operation_of(&hub, &call.registration_id, &operation_id) {
        return Err(DeviceError::new(
            StatusCode::NOT_FOUND,
            404_201,
            format!(
                "No operation {operation_id} for registration {}.",
                call.registration_id
            ),
        ));
    }
    Ok(Json(conclude(
        &hub,
        &call.registration_id,
        &operation_id,
        &call.attested,
    )))
}

/// `POST /{idScope}/registrations/{registrationId}`: the device's registration state, 200; 404
/// before it has registered.
pub(crate) async fn registration_status(
    call: DeviceCall,
    State(hub): State<Arc<Hub>>,
) -> Result<Response, DeviceError> {
    let state = hub
        .read_registrations(|all| all.get(&call.registration_id).cloned())
        .ok_or_else(|| {
            DeviceError::new(
                StatusCode::NOT_FOUND,
                404_203,
                format!("Registration {} not found.", call.registration_id),
            )
        })?;
    Ok(Json(state).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn operation_ids_are_sealed_for_their_registration() {
        let running = crate::start(crate::Config::ephemeral())
            .await
            .expect("starts");
        let hub = &running.hub;
        let op = new_operation_id(hub, "dev-1");
        assert!(op.starts_with("5."), "{op}");
        assert!(is_operation_of(hub, "dev-1", &op));
        assert!(!is_operation_of(hub, "dev-2", &op));
        assert!(!is_operation_of(hub, "dev-1", "5.1."));
        assert!(!is_operation_of(hub, "dev-1", &op.replace("5.", "5.0")));
        running.stop();
    }
}

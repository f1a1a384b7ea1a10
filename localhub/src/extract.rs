//! What every call of a plane checks, once, as axum extractors: the caller's credentials, the
//! api-version, the hub's name, `If-Match`, and JSON bodies with the plane's own rejection.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use hubcert::contract::{ARM_API_VERSION, DEVICE_API_VERSION, DPS_SERVICE_API_VERSION};
use serde::de::DeserializeOwned;

use crate::auth;
use crate::reply::ApiError;
use crate::store::{CertStore, Hub};
use crate::throttle::THROTTLING_EXCEPTION;

fn query_param<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .uri
        .query()?
        .split('&')
        .filter_map(|kv| kv.split_once('=').or(Some((kv, ""))))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// An ARM call on this hub's certificates: a bearer token, a usable api-version, and this hub's
/// name in the path. Carries the path's subscription and resource group for resource ids.
pub(crate) struct ArmCall {
    pub(crate) subscription: String,
    pub(crate) resource_group: String,
    /// The hub's certificates (`IotHubs/{hub}`) or the DPS's (`provisioningServices/{dps}`).
    pub(crate) store: CertStore,
}

impl FromRequestParts<Arc<Hub>> for ArmCall {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, hub: &Arc<Hub>) -> Result<Self, ApiError> {
        auth::arm(&parts.headers)?;
        match query_param(parts, "api-version") {
            None => {
                return Err(ApiError::arm(
                    StatusCode::BAD_REQUEST,
                    "MissingApiVersionParameter",
                    "The api-version query parameter (?api-version=) is required for all requests.",
                ))
            }
            // The certificates API exists from 2018-04-01 on.
            Some(v) if v < "2018-04-01" => {
                return Err(ApiError::arm(
                    StatusCode::BAD_REQUEST,
                    "InvalidApiVersionParameter",
                    format!("The api-version '{v}' is invalid. Use {ARM_API_VERSION}."),
                ))
            }
            Some(_) => {}
        }
        let Path(params) = Path::<HashMap<String, String>>::from_request_parts(parts, hub)
            .await
            .map_err(|e| {
                ApiError::arm(StatusCode::BAD_REQUEST, "InvalidRequestUri", e.to_string())
            })?;
        let (store, name, ours, kind) = match params.get("dps") {
            Some(dps) => (
                CertStore::Dps,
                dps.as_str(),
                &hub.config.dps_name,
                "provisioning service",
            ),
            None => (
                CertStore::Hub,
                params.get("hub").map(String::as_str).unwrap_or(""),
                &hub.config.hub_name,
                "IoT hub",
            ),
        };
        if !name.eq_ignore_ascii_case(ours) {
            return Err(ApiError::arm(
                StatusCode::NOT_FOUND,
                "ResourceNotFound",
                format!("The {kind} '{name}' was not found; this localhub's is '{ours}'."),
            ));
        }
        Ok(Self {
            store,
            subscription: params.get("sub").cloned().unwrap_or_default(),
            resource_group: params.get("rg").cloned().unwrap_or_default(),
        })
    }
}

/// A data-plane call: a service SAS token signed with the owner key, and an api-version.
pub(crate) struct ServiceCall;

impl FromRequestParts<Arc<Hub>> for ServiceCall {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, hub: &Arc<Hub>) -> Result<Self, ApiError> {
        auth::service(hub, &parts.headers)?;
        if query_param(parts, "api-version").is_none() {
            return Err(ApiError::hub(
                StatusCode::BAD_REQUEST,
                "InvalidProtocolVersion",
                format!("The api-version query parameter is required (api-version={DEVICE_API_VERSION})."),
            ));
        }
        Ok(Self)
    }
}

/// Counts `cost` identity registry operations against the hub's throttle (`--tier`); past the
/// limit, 429 `ThrottlingException` in the data plane's error body.
pub(crate) fn registry_throttle(hub: &Hub, cost: usize) -> Result<(), ApiError> {
    let Some(throttle) = &hub.throttle else {
        return Ok(());
    };
    throttle.registry(cost).map_err(|message| {
        ApiError::hub(StatusCode::TOO_MANY_REQUESTS, THROTTLING_EXCEPTION, message)
    })
}

/// A single identity registry operation (`/devices/{id}`), counted against the hub's throttle
/// before its handler runs.
pub(crate) struct RegistryOperation;

impl FromRequestParts<Arc<Hub>> for RegistryOperation {
    type Rejection = ApiError;

    async fn from_request_parts(_: &mut Parts, hub: &Arc<Hub>) -> Result<Self, ApiError> {
        registry_throttle(hub, 1).map(|()| Self)
    }
}

/// A DPS service call: a SAS token signed with the `provisioningserviceowner` key, and an
/// api-version.
pub(crate) struct DpsServiceCall;

impl FromRequestParts<Arc<Hub>> for DpsServiceCall {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, hub: &Arc<Hub>) -> Result<Self, ApiError> {
        auth::dps_service(hub, &parts.headers)?;
        if query_param(parts, "api-version").is_none() {
            return Err(ApiError::dps(
                StatusCode::BAD_REQUEST,
                400_001,
                format!("The api-version query parameter is required (api-version={DPS_SERVICE_API_VERSION})."),
            ));
        }
        Ok(Self)
    }
}

/// `If-Match`, without the quotes around the etag; `None` when absent.
pub(crate) struct IfMatch(pub(crate) Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(
            parts
                .headers
                .get(header::IF_MATCH)
                .and_then(|v| v.to_str().ok())
                .map(|s| s.trim().trim_matches('"').to_owned()),
        ))
    }
}

impl IfMatch {
    /// Whether it allows a write over `current` (`*` allows any).
    pub(crate) fn matches(&self, current: &str) -> Option<bool> {
        self.0.as_deref().map(|m| m == "*" || m == current)
    }
}

/// A request body type, with the answer its plane gives when the body does not parse.
pub(crate) trait RequestBody: DeserializeOwned {
    fn rejection(e: serde_json::Error) -> ApiError;
}

/// A JSON body, refused in its plane's words when it does not parse.
pub(crate) struct Body<T>(pub(crate) T);

impl<S: Send + Sync, T: RequestBody> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if timed_out(&e) {
                ApiError::hub(
                    StatusCode::REQUEST_TIMEOUT,
                    "RequestTimedOut",
                    e.body_text(),
                )
            } else {
                ApiError::hub(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "MessageTooLarge",
                    e.body_text(),
                )
            }
        })?;
        serde_json::from_slice(&bytes)
            .map(Self)
            .map_err(T::rejection)
    }
}

/// A request's body that did not arrive in time.
#[derive(Debug)]
pub(crate) struct BodyTimedOut(pub(crate) std::time::Duration);

impl std::fmt::Display for BodyTimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the request body did not arrive within {} s",
            self.0.as_secs_f64()
        )
    }
}

impl std::error::Error for BodyTimedOut {}

/// Whether reading a body failed because it took longer than localhub allows.
fn timed_out(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(e);
    while let Some(c) = cause {
        if c.is::<BodyTimedOut>() {
            return true;
        }
        cause = c.source();
    }
    false
}

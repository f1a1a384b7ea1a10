//! Who may call: ARM wants a bearer token, the data plane a service SAS token.

use axum::http::{header, HeaderMap, StatusCode};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hubcert::contract::SasToken;

use crate::reply::ApiError;
use crate::store::{now_unix, Hub};

/// Any bearer token is accepted, as there is no identity provider offline; a JWT whose `exp` has
/// passed is refused as ARM refuses it, so expired-token handling can be tried.
pub(crate) fn arm(headers: &HeaderMap) -> Result<(), ApiError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let token = value.strip_prefix("Bearer ").map(str::trim).unwrap_or("");
    if token.is_empty() {
        return Err(ApiError::arm(
            StatusCode::UNAUTHORIZED,
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing.",
        ));
    }
    let exp = token
        .split('.')
        .nth(1)
        .and_then(|p| URL_SAFE_NO_PAD.decode(p.trim_end_matches('=')).ok())
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| v.get("exp").and_then(|e| e.as_i64()));
    if let Some(exp) = exp {
        if exp <= now_unix() {
            return Err(ApiError::arm(
                StatusCode::UNAUTHORIZED,
                "ExpiredAuthenticationToken",
                "The access token expiry UTC time is earlier than current UTC time.",
            ));
        }
    }
    Ok(())
}

/// A service SAS token for the hub, signed with the `iothubowner` key.
pub(crate) fn service(hub: &Hub, headers: &HeaderMap) -> Result<(), ApiError> {
    let unauthorized =
        |msg: String| ApiError::hub(StatusCode::UNAUTHORIZED, "IotHubUnauthorizedAccess", msg);
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| unauthorized("The Authorization header is missing".into()))?;
    let token = SasToken::parse(value).map_err(|e| unauthorized(e.to_string()))?;
    if token.policy.as_deref() != Some("iothubowner") {
        return Err(unauthorized(format!(
            "Policy {} has no registry write permission here; use iothubowner",
            token.policy.as_deref().unwrap_or("(none)")
        )));
    }
    let (primary, secondary) = hub.owner_keys();
    token
        .verify(
            &hub.config.host_name,
            &[&primary, &secondary],
            now_unix().max(0) as u64,
        )
        .map_err(|e| unauthorized(e.to_string()))
}

/// A DPS service SAS token, signed with the `provisioningserviceowner` key.
pub(crate) fn dps_service(hub: &Hub, headers: &HeaderMap) -> Result<(), ApiError> {
    let unauthorized = |msg: String| ApiError::dps(StatusCode::UNAUTHORIZED, 401002, msg);
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| unauthorized("The Authorization header is missing".into()))?;
    let token = SasToken::parse(value).map_err(|e| unauthorized(e.to_string()))?;
    if token.policy.as_deref() != Some("provisioningserviceowner") {
        return Err(unauthorized(format!(
            "Policy {} is not this DPS's; use provisioningserviceowner",
            token.policy.as_deref().unwrap_or("(none)")
        )));
    }
    token
        .verify(
            &hub.config.host_name,
            &[&hub.dps_key()],
            now_unix().max(0) as u64,
        )
        .map_err(|e| unauthorized(e.to_string()))
}

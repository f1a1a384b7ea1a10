//! What localhub answers with: errors in the body shape of the plane that sends them (ARM, or the
//! hub's data plane), etags, and dates as IoT Hub writes them.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::json;

use crate::store::now_unix;

/// Which plane an error comes from; each has its own body shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Plane {
    /// `{"code", "httpStatusCode", "message"}`.
    Arm,
    /// `{"Message": "ErrorCode:X;...", "ExceptionMessage"}`.
    Hub,
    /// DPS: `{"errorCode": 401002, "trackingId", "message", "timestampUtc"}`.
    Dps(i64),
}

/// An error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub(crate) plane: Plane,
    pub(crate) status: StatusCode,
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

impl ApiError {
    /// An error as the ARM resource provider returns it.
    pub(crate) fn arm(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            plane: Plane::Arm,
            status,
            code,
            message: message.into(),
        }
    }

    /// A certificate call's error, with the IoT Hub code the contract names.
    pub(crate) fn certificate(
        status: StatusCode,
        code: hubcert::contract::ArmErrorCode,
        message: impl Into<String>,
    ) -> Self {
        Self::arm(status, code.as_str(), message)
    }

    /// An error as the IoT Hub data plane returns it.
    pub(crate) fn hub(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            plane: Plane::Hub,
            status,
            code,
            message: message.into(),
        }
    }
}

impl ApiError {
    /// An error as DPS returns it, with its numeric code.
    pub(crate) fn dps(status: StatusCode, code: i64, message: impl Into<String>) -> Self {
        Self {
            plane: Plane::Dps(code),
            status,
            code: "",
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = match self.plane {
            Plane::Arm => json!({
                "code": self.code,
                "httpStatusCode": self.status.canonical_reason().unwrap_or("Error").replace(' ', ""),
                "message": self.message,
            }),
            Plane::Dps(code) => json!({
                "errorCode": code,
                "trackingId": format!("localhub-{code}"),
                "message": self.message,
                // ISO 8601, as DPS writes it (`2019-06-10T10:50:14.77Z`; ProvisioningServiceErrorDetails
                // declares date-time).
                "timestampUtc": rfc3339(now_unix()),
            }),
            Plane::Hub => json!({
                "Message": format!("ErrorCode:{};{}", self.code, self.message),
                "ExceptionMessage": format!("Tracking ID:localhub-{} Timestamp:{}", self.code, rfc1123(now_unix())),
            }),
        };
        (self.status, Json(body)).into_response()
    }
}

/// A JSON answer with its etag in the `ETag` header, quoted as IoT Hub sends it.
pub(crate) fn with_etag(status: StatusCode, body: impl Serialize, etag: &str) -> Response {
    let mut r = (status, Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("\"{etag}\"")) {
        r.headers_mut().insert(header::ETAG, v);
    }
    r
}

/// RFC 1123, as IoT Hub writes dates in certificate descriptions and error bodies.
pub(crate) fn rfc1123(unix: i64) -> String {
    let fmt = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&fmt).ok())
        .unwrap_or_default()
}

/// RFC 3339 in UTC, as DPS writes `createdDateTimeUtc` and `lastUpdatedDateTimeUtc`.
pub(crate) fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Unix time of an RFC 3339 stamp as `rfc3339` writes them (seconds, `Z`).
    fn time_of(stamp: &str) -> i64 {
        let n = |r: std::ops::Range<usize>| stamp[r].parse::<i64>().unwrap();
        let date = time::Date::from_calendar_date(
            n(0..4) as i32,
            time::Month::try_from(n(5..7) as u8).unwrap(),
            n(8..10) as u8,
        )
        .unwrap();
        date.with_hms(n(11..13) as u8, n(14..16) as u8, n(17..19) as u8)
            .unwrap()
            .assume_utc()
            .unix_timestamp()
    }

    #[tokio::test]
    async fn a_dps_error_is_stamped_as_dps_stamps_it() {
        let r = ApiError::dps(StatusCode::UNAUTHORIZED, 401_002, "who are you").into_response();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        let bytes = axum::body::to_bytes(r.into_body(), 4096).await.unwrap();
        let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(body["errorCode"], 401_002);
        let stamp = body["timestampUtc"].as_str().unwrap();
        // ISO 8601 date-time, as ProvisioningServiceErrorDetails declares (not RFC 1123).
        let b = stamp.as_bytes();
        assert!(
            b.len() >= 20
                && b[4] == b'-'
                && b[7] == b'-'
                && b[10] == b'T'
                && b[13] == b':'
                && stamp.ends_with('Z'),
            "{stamp}"
        );
        assert_eq!(stamp, rfc3339(time_of(stamp)), "{stamp}");
    }
}

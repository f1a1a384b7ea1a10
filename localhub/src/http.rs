//! The REST side: router, CORS, and the two error body shapes (ARM and the data plane).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, Request, StatusCode};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::json;
use tokio_stream::wrappers::BroadcastStream;

use crate::store::{lock, C2dMessage, Hub};
use crate::{arm, mqtt, registry};

/// An error as the ARM resource provider returns it.
pub(crate) fn arm_error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    let body = json!({
        "code": code,
        "httpStatusCode": status.canonical_reason().unwrap_or("Error").replace(' ', ""),
        "message": message.into(),
    });
    (status, Json(body)).into_response()
}

/// An error as the IoT Hub data plane returns it.
pub(crate) fn hub_error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    let body = json!({
        "Message": format!("ErrorCode:{code};{}", message.into()),
        "ExceptionMessage": format!("Tracking ID:localhub-{} Timestamp:{}", code, crate::arm::rfc1123(crate::store::now_unix())),
    });
    (status, Json(body)).into_response()
}

pub(crate) fn router(hub: Arc<Hub>) -> Router {
    let max_body = hub.config.max_body_bytes;
    let arm_base = "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Devices/IotHubs/{hub}/certificates";
    Router::new()
        .route(arm_base, get(arm::list))
        .route(
            &format!("{arm_base}/{{name}}"),
            get(arm::get).put(arm::put).delete(arm::delete),
        )
        .route(
            &format!("{arm_base}/{{name}}/generateVerificationCode"),
            post(arm::generate_code),
        )
        .route(&format!("{arm_base}/{{name}}/verify"), post(arm::verify))
        .route(
            "/devices/{id}",
            get(registry::get)
                .put(registry::put)
                .delete(registry::delete),
        )
        .route("/localhub/info", get(info))
        .route("/localhub/telemetry", get(telemetry))
        .route("/localhub/events", get(events))
        .route("/localhub/devices/{id}/messages", post(send_c2d))
        .route("/$iothub/websocket", get(mqtt::websocket))
        .fallback(|| async {
            hub_error(
                StatusCode::NOT_FOUND,
                "NotFound",
                "localhub serves no such path",
            )
        })
        .layer(DefaultBodyLimit::max(max_body))
        .layer(middleware::from_fn_with_state(hub.clone(), cors))
        .with_state(hub)
}

/// The data plane of the real IoT Hub sends no CORS headers; localhub does, for the app's origins,
/// so the app can be tried against it without a relay.
async fn cors(State(hub): State<Arc<Hub>>, req: Request<Body>, next: Next) -> Response {
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .map(str::to_owned);
    let preflight = req.method() == Method::OPTIONS;
    let mut response = if preflight {
        StatusCode::NO_CONTENT.into_response()
    } else {
        next.run(req).await
    };
    cors_headers(
        &hub.config.allowed_origins,
        origin.as_deref(),
        preflight,
        response.headers_mut(),
    );
    response
}

/// Adds CORS headers for `origin` when one of `allowed` matches it.
pub(crate) fn cors_headers(
    allowed: &[String],
    origin: Option<&str>,
    preflight: bool,
    h: &mut HeaderMap,
) {
    let Some(origin) = origin.filter(|o| allowed.iter().any(|a| origin_matches(a, o))) else {
        return;
    };
    if let Ok(v) = HeaderValue::from_str(origin) {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
    }
    h.insert(header::VARY, HeaderValue::from_static("Origin"));
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("ETag"),
    );
    if preflight {
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, PUT, POST, PATCH, DELETE, OPTIONS"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("Authorization, Content-Type, If-Match"),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
    }
}

/// `pattern` is an origin, `*`, or `scheme://host:*` for any port of that host.
fn origin_matches(pattern: &str, origin: &str) -> bool {
    if pattern == "*" || pattern == origin {
        return true;
    }
    match pattern.strip_suffix(":*") {
        Some(prefix) => origin
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_prefix(':'))
            .is_some_and(|port| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit())),
        None => false,
    }
}

async fn info(State(hub): State<Arc<Hub>>) -> Response {
    Json(json!({
        "hostName": hub.config.host_name,
        "hubName": hub.config.hub_name,
        "connectionString": hub.connection_string(),
    }))
    .into_response()
}

#[derive(Deserialize)]
struct TelemetryQuery {
    #[serde(rename = "deviceId")]
    device_id: Option<String>,
}

async fn telemetry(State(hub): State<Arc<Hub>>, Query(q): Query<TelemetryQuery>) -> Response {
    Json(hub.telemetry(q.device_id.as_deref())).into_response()
}

async fn events(State(hub): State<Arc<Hub>>) -> impl IntoResponse {
    let stream = BroadcastStream::new(hub.events.subscribe()).filter_map(|e| async move {
        let e = e.ok()?;
        Some(Ok::<_, std::convert::Infallible>(
            Event::default().event(e.kind.clone()).json_data(&e).ok()?,
        ))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

async fn send_c2d(
    State(hub): State<Arc<Hub>>,
    Path(id): Path<String>,
    Query(properties): Query<std::collections::BTreeMap<String, String>>,
    _headers: HeaderMap,
    body: bytes::Bytes,
) -> Response {
    if !hub.read(|_, devices| devices.contains_key(&id)) {
        return hub_error(
            StatusCode::NOT_FOUND,
            "DeviceNotFound",
            format!("Device {id} is not registered"),
        );
    }
    let sender = lock(&hub.sessions).get(&id).map(|s| s.c2d.clone());
    let Some(sender) = sender else {
        return hub_error(
            StatusCode::CONFLICT,
            "DeviceNotOnline",
            format!("Device {id} is not connected"),
        );
    };
    match sender.try_send(C2dMessage {
        body: body.to_vec(),
        properties,
    }) {
        Ok(()) => StatusCode::ACCEPTED.into_response(),
        Err(_) => hub_error(
            StatusCode::FORBIDDEN,
            "DeviceMaximumQueueDepthExceeded",
            "The device has too many undelivered messages",
        ),
    }
}

//! localhub's own routes, `/localhub/...`: its name and connection string, what devices sent
//! (JSON and server-sent events), and cloud-to-device sends.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::json;
use tokio_stream::wrappers::BroadcastStream;

use crate::reply::ApiError;
use crate::store::{lock, C2dMessage, Hub};

pub(crate) async fn info(State(hub): State<Arc<Hub>>) -> Response {
    Json(json!({
        "hostName": hub.config.host_name,
        "hubName": hub.config.hub_name,
        "connectionString": hub.connection_string(),
        "idScope": hub.config.id_scope,
        "dpsName": hub.config.dps_name,
        "dpsConnectionString": hub.dps_connection_string(),
    }))
    .into_response()
}

#[derive(Deserialize)]
pub(crate) struct TelemetryQuery {
    #[serde(rename = "deviceId")]
    device_id: Option<String>,
}

pub(crate) async fn telemetry(
    State(hub): State<Arc<Hub>>,
    Query(q): Query<TelemetryQuery>,
) -> Response {
    Json(hub.telemetry(q.device_id.as_deref())).into_response()
}

pub(crate) async fn events(State(hub): State<Arc<Hub>>) -> Response {
    // Each stream holds a permit while it is open; past the cap, 503 with a reason.
    let Ok(permit) = hub.event_streams.clone().try_acquire_owned() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "{} event streams are open already: close one (another tab of the app?) and retry.",
                crate::store::MAX_EVENT_STREAMS
            ),
        )
            .into_response();
    };
    let stream = BroadcastStream::new(hub.events.subscribe()).filter_map(move |e| {
        let _held = &permit;
        async move {
            let e = e.ok()?;
            Some(Ok::<_, std::convert::Infallible>(
                Event::default().event(e.kind.as_str()).json_data(&e).ok()?,
            ))
        }
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

pub(crate) async fn send_c2d(
    State(hub): State<Arc<Hub>>,
    Path(id): Path<String>,
    Query(properties): Query<std::collections::BTreeMap<String, String>>,
    headers: HeaderMap,
    body: bytes::Bytes,
) -> Response {
    // A send changes state: only a holder of the owner key may do it, which also makes the
    // request one a foreign page cannot send without a CORS preflight.
    if let Err(e) = crate::auth::service(&hub, &headers) {
        return e.into_response();
    }
    if !hub.read(|_, devices| devices.contains_key(&id)) {
        return ApiError::hub(
            StatusCode::NOT_FOUND,
            "DeviceNotFound",
            format!("Device {id} is not registered"),
        )
        .into_response();
    }
    let sender = lock(&hub.sessions).get(&id).map(|s| s.c2d.clone());
    let Some(sender) = sender else {
        return ApiError::hub(
            StatusCode::CONFLICT,
            "DeviceNotOnline",
            format!("Device {id} is not connected"),
        )
        .into_response();
    };
    match sender.try_send(C2dMessage {
        body: body.to_vec(),
        properties,
    }) {
        Ok(()) => StatusCode::ACCEPTED.into_response(),
        Err(_) => ApiError::hub(
            StatusCode::FORBIDDEN,
            "DeviceMaximumQueueDepthExceeded",
            "The device has too many undelivered messages",
        )
        .into_response(),
    }
}

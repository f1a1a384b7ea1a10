//! The REST side's router: which handler answers which path. Handlers live with their plane
//! (`arm`, `registry`, `console`, `mqtt` for the WebSocket), errors in `reply`, CORS in `cors`.

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::extract::BodyTimedOut;
use crate::guard::{guard, Doors};
use crate::reply::ApiError;
use crate::store::Hub;
use crate::{arm, bulk, console, cors, dps, mqtt, query, registry};

pub(crate) fn router(hub: Arc<Hub>, doors: Doors) -> Router {
    let max_body = hub.config.max_body_bytes;
    let hub_certs = "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Devices/IotHubs/{hub}/certificates";
    let dps_certs = "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Devices/provisioningServices/{dps}/certificates";
    let mut router = Router::new();
    // The hub's and the DPS's CA certificates: the same calls, each on its own store.
    for base in [hub_certs, dps_certs] {
        router = router
            .route(base, get(arm::list))
            .route(
                &format!("{base}/{{name}}"),
                get(arm::get).put(arm::put).delete(arm::delete),
            )
            .route(
                &format!("{base}/{{name}}/generateVerificationCode"),
                post(arm::generate_code),
            )
            .route(&format!("{base}/{{name}}/verify"), post(arm::verify));
    }
    router
        .route("/devices", post(bulk::update_registry))
        .route("/devices/query", post(query::query_twins))
        .route(
            "/devices/{id}",
            get(registry::get)
                .put(registry::put)
                .delete(registry::delete),
        )
        .route("/enrollmentGroups/query", post(dps::query_groups))
        .route("/enrollments/query", post(dps::query_enrollments))
        .route(
            "/enrollments/{id}",
            get(dps::get_enrollment)
                .put(dps::put_enrollment)
                .delete(dps::delete_enrollment),
        )
        .route(
            "/registrations/{id}",
            get(dps::get_registration).delete(dps::delete_registration),
        )
        // DPS's device API: registration over HTTPS (X.509 by the TLS client certificate, or a
        // symmetric key's SAS token).
        .route(
            "/{scope}/registrations/{registration}/register",
            axum::routing::put(dps::register),
        )
        .route(
            "/{scope}/registrations/{registration}/operations/{operation}",
            get(dps::operation_status),
        )
        .route(
            "/{scope}/registrations/{registration}",
            post(dps::registration_status),
        )
        .route(
            "/enrollmentGroups/{id}",
            get(dps::get_group)
                .put(dps::put_group)
                .delete(dps::delete_group),
        )
        .route("/localhub/info", get(console::info))
        .route("/localhub/telemetry", get(console::telemetry))
        .route("/localhub/events", get(console::events))
        .route("/localhub/devices/{id}/messages", post(console::send_c2d))
        .route("/$iothub/websocket", get(mqtt::websocket))
        .fallback(|| async {
            ApiError::hub(
                StatusCode::NOT_FOUND,
                "NotFound",
                "localhub serves no such path",
            )
        })
        .layer(middleware::from_fn(acknowledged_only_when_saved))
        .layer(middleware::from_fn_with_state(
            hub.config.body_read_timeout,
            whole_body_deadline,
        ))
        .layer(DefaultBodyLimit::max(max_body))
        .layer(middleware::from_fn_with_state(hub.clone(), cors::cors))
        .layer(middleware::from_fn_with_state(Arc::new(doors), guard))
        .with_state(hub)
}

/// Reads a request's body against one deadline for the whole of it (the headers have their own,
/// `server::HANDSHAKE_TIMEOUT`): a body sent a byte at a time fails with [`BodyTimedOut`] once
/// the deadline passes, and the connection closes with the answer.
async fn whole_body_deadline(
    axum::extract::State(limit): axum::extract::State<std::time::Duration>,
    req: Request,
    next: Next,
) -> Response {
    use futures_util::StreamExt as _;
    let deadline = tokio::time::Instant::now() + limit;
    let (parts, body) = req.into_parts();
    let timed =
        futures_util::stream::unfold(Some(body.into_data_stream()), move |state| async move {
            let mut stream = state?;
            match tokio::time::timeout_at(deadline, stream.next()).await {
                Ok(Some(chunk)) => Some((chunk, Some(stream))),
                Ok(None) => None,
                Err(_) => Some((Err(axum::Error::new(BodyTimedOut(limit))), None)),
            }
        });
    next.run(Request::from_parts(
        parts,
        axum::body::Body::from_stream(timed),
    ))
    .await
}

/// A request whose change could not be written to disk (a full disk, say) was undone
/// (`store::Hub::write`); it is answered with a 500 in its plane's error shape instead of the
/// success its handler built, so that whatever localhub acknowledged is on disk.
async fn acknowledged_only_when_saved(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let plane = if path.starts_with("/subscriptions/") {
        Plane::Arm
    } else if ["/enrollmentGroups", "/enrollments", "/registrations"]
        .iter()
        .any(|p| path.starts_with(p))
        // The device API: `/{idScope}/registrations/...`.
        || path.split('/').nth(2) == Some("registrations")
    {
        Plane::Dps
    } else {
        Plane::Hub
    };
    let (response, unsaved) = crate::store::saving(next.run(req)).await;
    let Some(why) = unsaved else {
        return response;
    };
    let message = why.to_string();
    let status = StatusCode::INTERNAL_SERVER_ERROR;
    match plane {
        // ARM's error body for an internal error.
        Plane::Arm => ApiError::arm(status, "InternalServerError", message),
        // DPS answers 500 for an internal error (Microsoft: how-to-troubleshoot-dps, "Common
        // error codes"); its six-digit codes put the status first.
        Plane::Dps => ApiError::dps(status, 500_000, message),
        // IoT Hub: 500001 ServerError (Microsoft: iot-hub-troubleshoot-error-500xxx-internal-errors).
        Plane::Hub => ApiError::hub(status, "ServerError", message),
    }
    .into_response()
}

#[derive(Clone, Copy)]
enum Plane {
    Arm,
    Dps,
    Hub,
}

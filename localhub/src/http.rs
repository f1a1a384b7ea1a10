//! The REST side's router: which handler answers which path. Handlers live with their plane
//! (`arm`, `registry`, `console`, `mqtt` for the WebSocket), errors in `reply`, CORS in `cors`.

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::middleware;
use axum::routing::{get, post};
use axum::Router;

use crate::guard::{guard, Doors};
use crate::reply::ApiError;
use crate::store::Hub;
use crate::{arm, console, cors, dps, mqtt, registry};

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
        .layer(DefaultBodyLimit::max(max_body))
        .layer(middleware::from_fn_with_state(hub.clone(), cors::cors))
        .layer(middleware::from_fn_with_state(Arc::new(doors), guard))
        .with_state(hub)
}

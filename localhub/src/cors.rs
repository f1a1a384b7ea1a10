//! CORS for the app's origins: the real hub's data plane sends none, localhub and the relay do, so
//! the page can call them.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, Request, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::store::Hub;

/// The data plane of the real IoT Hub sends no CORS headers; localhub does, for the app's origins,
/// so the app can be tried against it without a relay.
pub(crate) async fn cors(State(hub): State<Arc<Hub>>, req: Request<Body>, next: Next) -> Response {
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
    let Some(origin) = origin.filter(|o| origin_allowed(allowed, o)) else {
        return;
    };
    if let Ok(v) = HeaderValue::from_str(origin) {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
    }
    h.insert(header::VARY, HeaderValue::from_static("Origin"));
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        // A query's paging is in headers, which a page reads only when they are exposed.
        HeaderValue::from_static("ETag, x-ms-continuation, x-ms-item-type"),
    );
    if preflight {
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, PUT, POST, PATCH, DELETE, OPTIONS"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static(
                "Authorization, Content-Type, If-Match, x-ms-max-item-count, x-ms-continuation",
            ),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
    }
}

/// Whether `origin` matches one of `allowed`.
pub(crate) fn origin_allowed(allowed: &[String], origin: &str) -> bool {
    allowed.iter().any(|a| origin_matches(a, origin))
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

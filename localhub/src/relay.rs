//! `localhub relay`: lets the app call a real hub's device registry, or a real DPS's service API.
//! Neither sends CORS headers, so a page cannot read their answers; the relay listens on loopback,
//! forwards only `/devices/...` to the one `*.azure-devices.net` host it was started for (or only
//! `/enrollmentGroups/...`, `/enrollments/...` and `/registrations/...` to the one
//! `*.azure-devices-provisioning.net` host), and adds CORS for the app's origin. A request from a
//! page of another origin is refused before anything is sent (a "simple" request needs no
//! preflight, so CORS alone would let it through, answer unread), and so is a path the upstream
//! could read as another path (an encoded `/` or `\`, a `..` segment). It logs method, path and
//! status, never a header value or a body.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use hubcert::contract::HubHost;
use tokio::net::TcpListener;

use crate::cors::{cors_headers, origin_allowed};
use crate::guard::{guard, Doors};
use crate::reply::ApiError;

/// The relay's default port (the app's default registry endpoint for Azure).
pub const DEFAULT_PORT: u16 = 8090;

/// Headers passed to the hub; everything else the browser sent stays behind. A twin query's
/// page size and continuation go too.
const FORWARDED_REQUEST: [header::HeaderName; 6] = [
    header::AUTHORIZATION,
    header::CONTENT_TYPE,
    header::IF_MATCH,
    header::ACCEPT,
    header::HeaderName::from_static("x-ms-max-item-count"),
    header::HeaderName::from_static("x-ms-continuation"),
];

/// Headers of the hub's answer passed back: its type and etag, and a twin query's paging.
const FORWARDED_ANSWER: [header::HeaderName; 4] = [
    header::CONTENT_TYPE,
    header::ETAG,
    header::HeaderName::from_static("x-ms-continuation"),
    header::HeaderName::from_static("x-ms-item-type"),
];

/// What the relay forwards to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelayTarget {
    /// An IoT hub's device registry: `/devices/...`.
    Hub,
    /// A DPS's service API: enrollment groups, enrollments, registration states.
    Dps,
}

impl RelayTarget {
    /// The path prefixes forwarded; anything else is refused.
    fn prefixes(self) -> &'static [&'static str] {
        match self {
            Self::Hub => &["/devices"],
            Self::Dps => &["/enrollmentGroups", "/enrollments", "/registrations"],
        }
    }
}

/// The DNS suffix of every public-cloud DPS.
const DPS_DOMAIN: &str = ".azure-devices-provisioning.net";

/// How the relay runs.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// Where requests go: `https://{hub}.azure-devices.net`, `https://{dps}.azure-devices-provisioning.net`,
    /// or a test upstream on loopback.
    upstream: String,
    /// What the upstream is, which decides the paths forwarded.
    target: RelayTarget,
    /// Loopback port to listen on (0: the system chooses).
    pub port: u16,
    /// Origins allowed by CORS, as in [`crate::Config::allowed_origins`].
    pub allowed_origins: Vec<String>,
}

impl RelayConfig {
    /// For `hub`: a host name ending in `.azure-devices.net` (a bare hub name gets it added).
    /// Anything else is refused, so the relay cannot be pointed at an arbitrary host.
    pub fn for_hub(hub: &str) -> Result<Self, String> {
        let host = HubHost::parse(hub).map_err(|e| e.to_string())?;
        Ok(Self::with_upstream(
            format!("https://{host}"),
            RelayTarget::Hub,
        ))
    }

    /// For `dps`: `NAME.azure-devices-provisioning.net` (a bare name gets the suffix added);
    /// anything else is refused.
    pub fn for_dps(dps: &str) -> Result<Self, String> {
        let d = dps
            .trim()
            .trim_start_matches("https://")
            .trim_end_matches('/')
            .to_ascii_lowercase();
        let host = if d.contains('.') {
            d
        } else {
            format!("{d}{DPS_DOMAIN}")
        };
        let Some(name) = host.strip_suffix(DPS_DOMAIN) else {
            return Err(format!(
                "{host} is not a DPS host: the relay forwards only to NAME{DPS_DOMAIN}"
            ));
        };
        // Azure's rule for DPS names.
        let valid = (3..=64).contains(&name.len())
            && !name.starts_with('-')
            && !name.ends_with('-')
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !valid {
            return Err(format!(
                "'{name}' is not a DPS name: 3 to 64 letters, digits or '-'"
            ));
        }
        Ok(Self::with_upstream(
            format!("https://{host}"),
            RelayTarget::Dps,
        ))
    }

    /// For tests: forward to `upstream`, which must be plain HTTP on loopback, as `target`.
    pub fn for_test_upstream_as(upstream: &str, target: RelayTarget) -> Result<Self, String> {
        let mut config = Self::for_test_upstream(upstream)?;
        config.target = target;
        Ok(config)
    }

    /// For tests: forward to `upstream`, which must be plain HTTP on loopback.
    pub fn for_test_upstream(upstream: &str) -> Result<Self, String> {
        let u = upstream.trim_end_matches('/');
        let rest = u
            .strip_prefix("http://127.0.0.1:")
            .or_else(|| u.strip_prefix("http://localhost:"))
            .ok_or_else(|| {
                format!("{upstream}: a test upstream must be http://127.0.0.1:PORT or http://localhost:PORT")
            })?;
        if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("{upstream}: a test upstream must end in a port"));
        }
        Ok(Self::with_upstream(u.to_owned(), RelayTarget::Hub))
    }

    fn with_upstream(upstream: String, target: RelayTarget) -> Self {
        Self {
            upstream,
            target,
            port: DEFAULT_PORT,
            allowed_origins: crate::Config::default().allowed_origins,
        }
    }

    /// Where requests go.
    pub fn upstream(&self) -> &str {
        &self.upstream
    }
}

struct Relay {
    config: RelayConfig,
    client: reqwest::Client,
}

/// A running relay.
pub struct RunningRelay {
    /// Where it listens.
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl RunningRelay {
    /// Stops listening.
    pub fn stop(&self) {
        self.task.abort();
    }
}

/// Starts the relay on 127.0.0.1.
pub async fn start_relay(config: RelayConfig) -> Result<RunningRelay, String> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .map_err(|e| format!("HTTP client: {e}"))?;
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, config.port))
        .await
        .map_err(|e| format!("listening on 127.0.0.1:{}: {e}", config.port))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("listening: {e}"))?;
    let doors = Doors::loopback(&[], vec![addr.port()], config.allowed_origins.clone());
    let relay = Arc::new(Relay { config, client });
    let app = Router::new()
        .fallback(forward)
        .layer(DefaultBodyLimit::max(256 * 1024))
        .layer(axum::middleware::from_fn_with_state(Arc::new(doors), guard))
        .with_state(relay);
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(RunningRelay { addr, task })
}

async fn forward(State(relay): State<Arc<Relay>>, req: Request<Body>) -> Response {
    // An `Origin` that is not text is still a page's: it matches no allowed origin.
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .map(|o| o.to_str().unwrap_or("(not text)").to_owned());
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let mut response = if let Some(refused) = refusal(&relay.config, origin.as_deref(), &path) {
        refused
    } else if method == Method::OPTIONS {
        StatusCode::NO_CONTENT.into_response()
    } else {
        send(&relay, req).await
    };
    println!("relay: {method} {path} -> {}", response.status().as_u16());
    cors_headers(
        &relay.config.allowed_origins,
        origin.as_deref(),
        method == Method::OPTIONS,
        response.headers_mut(),
    );
    response
}

/// Why a request must not be forwarded, checked before anything is sent: a page of a foreign
/// origin (403), a path the upstream could read as another (400), a path outside the target's API
/// (404).
fn refusal(config: &RelayConfig, origin: Option<&str>, path: &str) -> Option<Response> {
    if let Some(origin) = origin.filter(|o| !origin_allowed(&config.allowed_origins, o)) {
        return Some(
            ApiError::hub(
                StatusCode::FORBIDDEN,
                "RelayOriginRefused",
                format!(
                    "the relay forwards only the app's requests; a page at {origin} is not one of its \
                     origins ({}); start the relay with --allow-origin {origin} if it is yours",
                    config.allowed_origins.join(", ")
                ),
            )
            .into_response(),
        );
    }
    if let Some(why) = ambiguous_path(path) {
        return Some(
            ApiError::hub(
                StatusCode::BAD_REQUEST,
                "RelayPathAmbiguous",
                format!("the relay does not forward a path with {why}: the hub could read it as another path"),
            )
            .into_response(),
        );
    }
    // Only the target's own API (`/devices` for a hub).
    let prefixes = config.target.prefixes();
    let allowed_path = prefixes
        .iter()
        .any(|p| path == *p || path.strip_prefix(p).is_some_and(|r| r.starts_with('/')));
    if !allowed_path {
        return Some(
            ApiError::hub(
                StatusCode::NOT_FOUND,
                "RelayPathRefused",
                format!(
                    "the relay forwards only {}/... to its target",
                    prefixes.join("/..., ")
                ),
            )
            .into_response(),
        );
    }
    None
}

/// What in `path` could make the upstream (or a proxy on the way) see another path: an encoded
/// `/` or `\` (`%2F`, `%5C`, any case), a backslash, or a `.` or `..` segment (also encoded, as
/// URL parsers normalise `%2e%2e` like `..`). `None` when there is nothing of the kind.
fn ambiguous_path(path: &str) -> Option<&'static str> {
    let lower = path.to_ascii_lowercase();
    if lower.contains("%2f") {
        Some("an encoded '/' (%2F)")
    } else if lower.contains("%5c") || path.contains('\\') {
        Some("a '\\' (or %5C)")
    } else if path.split('/').any(is_dot_segment) {
        Some("a '.' or '..' segment")
    } else {
        None
    }
}

async fn send(relay: &Relay, req: Request<Body>) -> Response {
    let method = match *req.method() {
        Method::GET => reqwest::Method::GET,
        Method::PUT => reqwest::Method::PUT,
        Method::DELETE => reqwest::Method::DELETE,
        Method::POST => reqwest::Method::POST,
        Method::PATCH => reqwest::Method::PATCH,
        _ => {
            return ApiError::hub(
                StatusCode::METHOD_NOT_ALLOWED,
                "RelayMethodRefused",
                "the relay forwards GET, PUT, POST, PATCH and DELETE only",
            )
            .into_response()
        }
    };
    let path_and_query = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let url = format!("{}{path_and_query}", relay.config.upstream);
    let mut out = relay.client.request(method, url);
    for name in FORWARDED_REQUEST {
        if let Some(v) = req.headers().get(&name).and_then(|v| v.to_str().ok()) {
            out = out.header(name.as_str(), v);
        }
    }
    let body: Bytes = match axum::body::to_bytes(req.into_body(), 256 * 1024).await {
        Ok(b) => b,
        Err(_) => {
            return ApiError::hub(
                StatusCode::PAYLOAD_TOO_LARGE,
                "RelayBodyTooLarge",
                "the request body is over 256 KiB",
            )
            .into_response()
        }
    };
    if !body.is_empty() {
        out = out.body(body);
    }
    let answer = match out.send().await {
        Ok(a) => a,
        Err(e) => {
            let what = if e.is_timeout() {
                "did not answer within 30 s"
            } else if e.is_connect() {
                "could not be reached (check the hub name and this machine's network)"
            } else {
                "failed"
            };
            return ApiError::hub(
                StatusCode::BAD_GATEWAY,
                "RelayUpstreamFailed",
                format!("{} {what}", relay.config.upstream),
            )
            .into_response();
        }
    };
    let status = StatusCode::from_u16(answer.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut headers = HeaderMap::new();
    for name in FORWARDED_ANSWER {
        if let Some(v) = answer
            .headers()
            .get(name.as_str())
            .and_then(|v| HeaderValue::from_bytes(v.as_bytes()).ok())
        {
            headers.insert(name, v);
        }
    }
    let bytes = answer.bytes().await.unwrap_or_default();
    (status, headers, bytes).into_response()
}

/// `.` or `..`, also percent-encoded (URL parsers normalise `%2e%2e` like `..`).
fn is_dot_segment(segment: &str) -> bool {
    let s = segment.to_ascii_lowercase().replace("%2e", ".");
    s == "." || s == ".."
}

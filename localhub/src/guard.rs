//! Closed doors. localhub and the relay hold keys (the owner connection string, every device's
//! SAS keys), so a web page must not reach them by any name but their own: a request whose `Host`
//! is not a loopback name of theirs is refused (a page whose DNS name was rebound to 127.0.0.1
//! sends its own name), and a WebSocket upgrade from a page of another origin is refused.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, Request, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::cors::origin_allowed;

/// Who may be named in `Host`, and which pages may open WebSockets.
#[derive(Debug, Clone)]
pub(crate) struct Doors {
    /// Host names (no port) this server answers to.
    pub(crate) hosts: Vec<String>,
    /// Ports it listens on.
    pub(crate) ports: Vec<u16>,
    /// Origins allowed by CORS (and for WebSockets).
    pub(crate) origins: Vec<String>,
    /// The hub's own host name: a WebSocket whose `Origin` names it is a device SDK's, not a page's.
    pub(crate) own_host: String,
}

impl Doors {
    /// Loopback names, plus `extra` (localhub's configured host name).
    pub(crate) fn loopback(extra: &[&str], ports: Vec<u16>, origins: Vec<String>) -> Self {
        let mut hosts: Vec<String> = ["127.0.0.1", "localhost", "[::1]"]
            .into_iter()
            .chain(extra.iter().copied())
            .map(|h| h.to_ascii_lowercase())
            .collect();
        hosts.dedup();
        Self {
            hosts,
            ports,
            origins,
            own_host: extra
                .first()
                .map(|h| h.to_ascii_lowercase())
                .unwrap_or_default(),
        }
    }

    /// Whether a WebSocket upgrade with this `Origin` may go on. Device SDKs are not browsers:
    /// Microsoft's Python SDK (paho) sends `Origin: https://{host}:443`, naming the hub itself, and
    /// IoT Hub and DPS do not filter WebSocket upgrades by `Origin`. Such an origin (`https` or
    /// `wss`, the hub's own host name, any port or none) passes; any other is a web page's and is
    /// held to the app's allowed origins, so another page on this machine cannot drive localhub.
    pub(crate) fn upgrade_origin_allowed(&self, origin: &str) -> bool {
        origin_allowed(&self.origins, origin) || self.names_own_host(origin)
    }

    fn names_own_host(&self, origin: &str) -> bool {
        let origin = origin.trim().to_ascii_lowercase();
        let Some(rest) = origin
            .strip_prefix("https://")
            .or_else(|| origin.strip_prefix("wss://"))
        else {
            return false;
        };
        let name = match rest.rsplit_once(':') {
            Some((n, p)) if !p.contains(']') && p.bytes().all(|b| b.is_ascii_digit()) => n,
            _ => rest,
        };
        !self.own_host.is_empty() && name == self.own_host
    }

    /// Whether `host` (a `Host` header value) names this server.
    pub(crate) fn host_allowed(&self, host: &str) -> bool {
        let host = host.trim().to_ascii_lowercase();
        let (name, port) = match host.rsplit_once(':') {
            // `[::1]:8081`, `localhost:8081`; a bare IPv6 literal has no port after `]`.
            Some((n, p)) if !p.is_empty() && !p.contains(']') => (n.to_owned(), p.parse().ok()),
            _ => (host.clone(), None),
        };
        let port_ok = match port {
            Some(p) => self.ports.contains(&p),
            // A client leaves the default port out (RFC 9110 §7.2): allowed when this server
            // listens on one (IoT Hub's 443, or 80).
            None => self.ports.iter().any(|p| *p == 443 || *p == 80),
        };
        port_ok && self.hosts.contains(&name)
    }
}

/// Refuses a request whose `Host` is not this server's (421), and a WebSocket upgrade whose
/// `Origin` is not allowed (403).
pub(crate) async fn guard(
    State(doors): State<Arc<Doors>>,
    req: Request<Body>,
    next: Next,
) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    if !doors.host_allowed(host) {
        return (
            StatusCode::MISDIRECTED_REQUEST,
            format!(
                "This server answers only to its loopback names ({}) on its own ports; the request named {host:?}. \
                 A page reached through another name (DNS rebinding) is refused.",
                doors.hosts.join(", ")
            ),
        )
            .into_response();
    }
    let upgrade = req
        .headers()
        .get(header::UPGRADE)
        .and_then(|u| u.to_str().ok())
        .is_some_and(|u| u.eq_ignore_ascii_case("websocket"));
    if upgrade {
        if let Some(origin) = req
            .headers()
            .get(header::ORIGIN)
            .and_then(|o| o.to_str().ok())
        {
            if !doors.upgrade_origin_allowed(origin) {
                return (
                    StatusCode::FORBIDDEN,
                    format!("A WebSocket from a page at {origin} is not allowed: only the app's origins may connect."),
                )
                    .into_response();
            }
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_names_on_own_ports_are_answered() {
        let d = Doors::loopback(&["127.0.0.2"], vec![8081, 8443], vec![]);
        for ok in [
            "127.0.0.1:8081",
            "localhost:8443",
            "LOCALHOST:8081",
            "[::1]:8081",
            "127.0.0.2:8081",
        ] {
            assert!(d.host_allowed(ok), "{ok}");
        }
        for bad in [
            "evil.example:8081",
            "127.0.0.1",
            "127.0.0.1:9999",
            "localhost.evil.example:8081",
            "",
            "127.0.0.1.nip.io:8081",
        ] {
            assert!(!d.host_allowed(bad), "{bad}");
        }
    }

    #[test]
    fn a_host_without_a_port_is_answered_on_a_default_port_only() {
        let on_443 = Doors::loopback(&["127.0.0.3"], vec![8081, 443], vec![]);
        for ok in ["127.0.0.3", "localhost", "127.0.0.3:443", "[::1]"] {
            assert!(on_443.host_allowed(ok), "{ok}");
        }
        assert!(!on_443.host_allowed("evil.example"));
        let on_8443 = Doors::loopback(&["127.0.0.3"], vec![8081, 8443], vec![]);
        assert!(!on_8443.host_allowed("127.0.0.3"));
    }

    #[test]
    fn websockets_from_device_sdks_pass_and_other_pages_stay_out() {
        let d = Doors::loopback(
            &["hub.local", "127.0.0.1"],
            vec![8443],
            vec!["http://127.0.0.1:8080".into()],
        );
        // The app's own page, and a device SDK naming the hub (paho sends https://host:443).
        for ok in [
            "http://127.0.0.1:8080",
            "https://hub.local:443",
            "https://HUB.local",
            "wss://hub.local:8443",
        ] {
            assert!(d.upgrade_origin_allowed(ok), "{ok}");
        }
        // Other pages: another port of the app's host, plain http naming the hub, other hosts,
        // look-alike names.
        for bad in [
            "http://127.0.0.1:3000",
            "http://hub.local:8443",
            "https://evil.example",
            "https://hub.local.evil.example:443",
            "https://localhost:3000",
            "null",
            "",
        ] {
            assert!(!d.upgrade_origin_allowed(bad), "{bad}");
        }
    }
}

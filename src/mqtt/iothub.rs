//! IoT Hub's MQTT conventions: user name, topics, message properties, and what a refusal means.

use super::Refusal;
use crate::iothub::sas::url_encode;

/// The api-version devices put in their user name.
pub const API_VERSION: &str = "2021-04-12";

/// `{host}/{deviceId}/?api-version=2021-04-12`.
pub fn username(host: &str, device_id: &str) -> String {
    format!("{host}/{device_id}/?api-version={API_VERSION}")
}

/// `wss://{host}/$iothub/websocket`, with `?iothub-no-client-cert=true` for SAS devices.
pub fn websocket_url(host_and_port: &str, sas: bool) -> String {
    let mut url = format!("wss://{host_and_port}/$iothub/websocket");
    if sas {
        url.push_str("?iothub-no-client-cert=true");
    }
    url
}

/// Telemetry topic, with application properties url-encoded after the slash.
pub fn telemetry_topic(device_id: &str, properties: &[(String, String)]) -> String {
    let props = properties
        .iter()
        .map(|(k, v)| format!("{}={}", url_encode(k), url_encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    format!("devices/{device_id}/messages/events/{props}")
}

/// Cloud-to-device subscription filter.
pub fn c2d_filter(device_id: &str) -> String {
    format!("devices/{device_id}/messages/devicebound/#")
}

/// Twin responses subscription filter.
pub const TWIN_RESPONSES: &str = "$iothub/twin/res/#";

/// Topic to ask for the twin.
pub fn twin_get(rid: u32) -> String {
    format!("$iothub/twin/GET/?$rid={rid}")
}

/// Topic to update reported properties.
pub fn twin_report(rid: u32) -> String {
    format!("$iothub/twin/PATCH/properties/reported/?$rid={rid}")
}

/// A twin response: `$iothub/twin/res/{status}/?$rid={rid}[&$version={v}]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TwinResponse {
    /// HTTP-like status (200 for GET, 204 for a reported patch).
    pub status: u16,
    /// The request id it answers.
    pub rid: u32,
    /// The new version after a patch.
    pub version: Option<u64>,
}

/// Reads a twin response topic; `None` for other topics.
pub fn twin_response(topic: &str) -> Option<TwinResponse> {
    let rest = topic.strip_prefix("$iothub/twin/res/")?;
    let (status, query) = rest.split_once("/?")?;
    let status = status.parse().ok()?;
    let mut rid = None;
    let mut version = None;
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some(("$rid", v)) => rid = v.parse().ok(),
            Some(("$version", v)) => version = v.parse().ok(),
            _ => {}
        }
    }
    Some(TwinResponse {
        status,
        rid: rid?,
        version,
    })
}

/// A cloud-to-device message's properties from its topic
/// (`devices/{id}/messages/devicebound/{k=v&...}`), decoded; `None` for other topics.
pub fn c2d_properties(device_id: &str, topic: &str) -> Option<Vec<(String, String)>> {
    let rest = topic.strip_prefix(&format!("devices/{device_id}/messages/devicebound/"))?;
    Some(
        rest.split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (decode(k), decode(v))
            })
            .collect(),
    )
}

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// What a refused connection most likely means, most likely cause first.
pub fn refusal_advice(refusal: Refusal, x509: bool) -> Vec<&'static str> {
    match (refusal, x509) {
        (Refusal::NotAuthorized, true) | (Refusal::BadCredentials, true) => vec![
            "The CA that signed the device is not verified in the hub: upload it and prove possession.",
            "The certificate's CN is not the device id: the CN must equal the id exactly.",
            "The device is not registered, or is registered with another authentication (register it as CA-signed, or self-signed with this certificate's thumbprint).",
            "The device was signed by an intermediate that was not sent: register the intermediate's CA in the hub, or import the intermediate into the browser's store too.",
            "The certificate has expired or is not yet valid: check its dates and this computer's clock.",
        ],
        (Refusal::NotAuthorized, false) | (Refusal::BadCredentials, false) => vec![
            "The SAS token is wrong or expired: check the device key and this computer's clock.",
            "The device is not registered, or is registered for X.509 rather than SAS keys.",
            "The device is disabled in the hub.",
        ],
        (Refusal::ClientId, _) => vec!["The client id must be the device id."],
        (Refusal::ServerUnavailable, _) => {
            vec!["The hub is unavailable or throttling: wait and try again."]
        }
        (Refusal::ProtocolVersion, _) => vec!["The server does not speak MQTT 3.1.1."],
    }
}

//! IoT Hub's MQTT conventions: the user name, the WebSocket address, topics and property bags.
//!
//! ```text
//! user name   {host}/{deviceId}/?api-version={DEVICE_API_VERSION}[&DeviceClientType=...]
//! telemetry   devices/{deviceId}/messages/events/{property_bag}
//! C2D         devices/{deviceId}/messages/devicebound/{property_bag}
//! twin        $iothub/twin/GET/?$rid={rid}
//!             $iothub/twin/PATCH/properties/reported/?$rid={rid}
//!             $iothub/twin/res/{status}/?$rid={rid}[&$version={version}]
//!             $iothub/twin/PATCH/properties/desired/?$version={version}
//! methods     $iothub/methods/POST/{name}/?$rid={rid}
//!             $iothub/methods/res/{status}/?$rid={rid}
//! ```
//! A property bag is `k1=v1&k2=v2`, keys and values percent-encoded as `encodeURIComponent` does.

use std::fmt;

use super::api::DEVICE_API_VERSION;
use super::encoding::{url_decode, url_encode};

/// Why a user name or topic was not understood.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TopicError {
    /// The user name is not `{host}/{deviceId}/?...`.
    UserName {
        /// The user name as sent.
        found: String,
    },
    /// The topic is none of IoT Hub's.
    Unknown {
        /// The topic as sent.
        topic: String,
    },
    /// A request or response topic without `$rid`.
    MissingRequestId {
        /// The topic as sent.
        topic: String,
    },
    /// A response topic whose status is not a number.
    BadStatus {
        /// The topic as sent.
        topic: String,
    },
}

impl fmt::Display for TopicError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UserName { found } => write!(
                f,
                "the user name must be {{host}}/{{deviceId}}/?api-version={DEVICE_API_VERSION}, not {found:?}"
            ),
            Self::Unknown { topic } => write!(f, "{topic} is not an IoT Hub topic"),
            Self::MissingRequestId { topic } => write!(f, "{topic} has no $rid"),
            Self::BadStatus { topic } => write!(f, "{topic} has no numeric status"),
        }
    }
}

impl std::error::Error for TopicError {}

/// The MQTT user name of a device: `{host}/{deviceId}/?api-version=...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MqttUserName {
    /// The hub's host name.
    pub host: String,
    /// The device id (also the client id).
    pub device_id: String,
}

impl MqttUserName {
    /// For a device of a hub.
    pub fn new(host: &str, device_id: &str) -> Self {
        Self {
            host: host.to_owned(),
            device_id: device_id.to_owned(),
        }
    }

    /// Reads a user name; the query (api-version, `DeviceClientType`) is not checked, since each
    /// SDK sends its own.
    pub fn parse(s: &str) -> Result<Self, TopicError> {
        let err = || TopicError::UserName {
            found: s.to_owned(),
        };
        let mut parts = s.splitn(3, '/');
        let (host, device_id, rest) = (parts.next(), parts.next(), parts.next());
        match (host, device_id, rest) {
            (Some(h), Some(d), Some(r)) if !h.is_empty() && !d.is_empty() && r.starts_with('?') => {
                Ok(Self::new(h, d))
            }
            _ => Err(err()),
        }
    }
}

impl fmt::Display for MqttUserName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/?api-version={DEVICE_API_VERSION}",
            self.host, self.device_id
        )
    }
}

/// `wss://{host}/$iothub/websocket`, with `?iothub-no-client-cert=true` for SAS devices.
pub fn websocket_url(host_and_port: &str, sas: bool) -> String {
    let mut url = format!("wss://{host_and_port}/$iothub/websocket");
    if sas {
        url.push_str("?iothub-no-client-cert=true");
    }
    url
}

/// Message properties in a topic, in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PropertyBag(pub Vec<(String, String)>);

impl PropertyBag {
    /// Reads `k1=v1&k2=v2` (an empty bag is empty).
    pub fn parse(bag: &str) -> Self {
        Self(
            bag.split('&')
                .filter(|kv| !kv.is_empty())
                .map(|kv| {
                    let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                    (url_decode(k), url_decode(v))
                })
                .collect(),
        )
    }
}

impl fmt::Display for PropertyBag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (k, v)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("&")?;
            }
            write!(f, "{}={}", url_encode(k), url_encode(v))?;
        }
        Ok(())
    }
}

/// A topic a device publishes to or receives on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Topic {
    /// Device-to-cloud message.
    Telemetry {
        /// The sending device.
        device_id: String,
        /// Application and system properties.
        properties: PropertyBag,
    },
    /// Cloud-to-device message.
    CloudToDevice {
        /// The receiving device.
        device_id: String,
        /// Its properties.
        properties: PropertyBag,
    },
    /// Ask for the twin.
    TwinGet {
        /// Request id.
        rid: String,
    },
    /// Update reported properties.
    TwinReportedPatch {
        /// Request id.
        rid: String,
    },
    /// The hub's answer to a twin request.
    TwinResponse {
        /// HTTP-like status (200 for GET, 204 for a patch).
        status: u16,
        /// The request id it answers.
        rid: String,
        /// The new reported version after a patch.
        version: Option<u64>,
    },
    /// Desired properties changed.
    TwinDesiredPatch {
        /// The new desired version.
        version: Option<u64>,
    },
    /// A direct method call.
    MethodRequest {
        /// Method name.
        name: String,
        /// Request id.
        rid: String,
    },
    /// A device's answer to a direct method.
    MethodResponse {
        /// Status the device returns.
        status: u16,
        /// The request id it answers.
        rid: String,
    },
}

const TELEMETRY: (&str, &str) = ("devices/", "/messages/events");
const C2D: (&str, &str) = ("devices/", "/messages/devicebound");
const TWIN_GET: &str = "$iothub/twin/GET/";
const TWIN_REPORTED: &str = "$iothub/twin/PATCH/properties/reported/";
const TWIN_DESIRED: &str = "$iothub/twin/PATCH/properties/desired/";
const TWIN_RES: &str = "$iothub/twin/res/";
const METHOD_POST: &str = "$iothub/methods/POST/";
const METHOD_RES: &str = "$iothub/methods/res/";

/// `?$rid=1&$version=2` (or without `?`) as key-value pairs.
fn query(q: &str) -> impl Iterator<Item = (&str, &str)> {
    q.trim_start_matches('?')
        .split('&')
        .filter_map(|kv| kv.split_once('='))
}

/// The value of `name` in a topic's query (`?$rid=1&...`), if present.
pub(super) fn query_param<'a>(q: &'a str, name: &str) -> Option<&'a str> {
    query(q).find(|(k, _)| *k == name).map(|(_, v)| v)
}

fn rid_of(q: &str, topic: &str) -> Result<String, TopicError> {
    query_param(q, "$rid")
        .map(str::to_owned)
        .ok_or_else(|| TopicError::MissingRequestId {
            topic: topic.to_owned(),
        })
}

fn version_of(q: &str) -> Option<u64> {
    query_param(q, "$version").and_then(|v| v.parse().ok())
}

/// `devices/{id}{suffix}[/bag]` → (id, bag).
fn device_topic<'a>(topic: &'a str, (prefix, suffix): (&str, &str)) -> Option<(&'a str, &'a str)> {
    let rest = topic.strip_prefix(prefix)?;
    let at = rest.find(suffix)?;
    let (id, tail) = (&rest[..at], &rest[at + suffix.len()..]);
    if id.is_empty() || id.contains('/') {
        return None;
    }
    match tail {
        "" => Some((id, "")),
        t => t.strip_prefix('/').map(|bag| (id, bag)),
    }
}

impl Topic {
    /// Telemetry from `device_id` with these properties.
    pub fn telemetry(device_id: &str, properties: &[(String, String)]) -> Self {
        Self::Telemetry {
            device_id: device_id.to_owned(),
            properties: PropertyBag(properties.to_vec()),
        }
    }

    /// Reads any IoT Hub device topic.
    pub fn parse(topic: &str) -> Result<Self, TopicError> {
        let status_and_query = |rest: &str| -> Result<(u16, String, Option<u64>), TopicError> {
            let (status, q) = rest.split_once("/?").ok_or_else(|| TopicError::BadStatus {
                topic: topic.to_owned(),
            })?;
            let status = status.parse().map_err(|_| TopicError::BadStatus {
                topic: topic.to_owned(),
            })?;
            Ok((status, rid_of(q, topic)?, version_of(q)))
        };
        if let Some((id, bag)) = device_topic(topic, TELEMETRY) {
            return Ok(Self::Telemetry {
                device_id: id.to_owned(),
                properties: PropertyBag::parse(bag),
            });
        }
        if let Some((id, bag)) = device_topic(topic, C2D) {
            return Ok(Self::CloudToDevice {
                device_id: id.to_owned(),
                properties: PropertyBag::parse(bag),
            });
        }
        if let Some(q) = topic.strip_prefix(TWIN_GET) {
            return Ok(Self::TwinGet {
                rid: rid_of(q, topic)?,
            });
        }
        if let Some(q) = topic.strip_prefix(TWIN_REPORTED) {
            return Ok(Self::TwinReportedPatch {
                rid: rid_of(q, topic)?,
            });
        }
        if let Some(q) = topic.strip_prefix(TWIN_DESIRED) {
            return Ok(Self::TwinDesiredPatch {
                version: version_of(q),
            });
        }
        if let Some(rest) = topic.strip_prefix(TWIN_RES) {
            let (status, rid, version) = status_and_query(rest)?;
            return Ok(Self::TwinResponse {
                status,
                rid,
                version,
            });
        }
        if let Some(rest) = topic.strip_prefix(METHOD_RES) {
            let (status, rid, _) = status_and_query(rest)?;
            return Ok(Self::MethodResponse { status, rid });
        }
        if let Some(rest) = topic.strip_prefix(METHOD_POST) {
            if let Some((name, q)) = rest.split_once("/?") {
                return Ok(Self::MethodRequest {
                    name: name.to_owned(),
                    rid: rid_of(q, topic)?,
                });
            }
        }
        Err(TopicError::Unknown {
            topic: topic.to_owned(),
        })
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Telemetry {
                device_id,
                properties,
            } => write!(f, "devices/{device_id}/messages/events/{properties}"),
            Self::CloudToDevice {
                device_id,
                properties,
            } => write!(f, "devices/{device_id}/messages/devicebound/{properties}"),
            Self::TwinGet { rid } => write!(f, "{TWIN_GET}?$rid={rid}"),
            Self::TwinReportedPatch { rid } => write!(f, "{TWIN_REPORTED}?$rid={rid}"),
            Self::TwinResponse {
                status,
                rid,
                version,
            } => {
                write!(f, "{TWIN_RES}{status}/?$rid={rid}")?;
                match version {
                    Some(v) => write!(f, "&$version={v}"),
                    None => Ok(()),
                }
            }
            Self::TwinDesiredPatch { version } => match version {
                Some(v) => write!(f, "{TWIN_DESIRED}?$version={v}"),
                None => f.write_str(TWIN_DESIRED),
            },
            Self::MethodRequest { name, rid } => write!(f, "{METHOD_POST}{name}/?$rid={rid}"),
            Self::MethodResponse { status, rid } => write!(f, "{METHOD_RES}{status}/?$rid={rid}"),
        }
    }
}

/// The subscriptions a device may make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TopicFilter {
    /// `devices/{id}/messages/devicebound/#`.
    CloudToDevice {
        /// The subscribing device.
        device_id: String,
    },
    /// `$iothub/twin/res/#`.
    TwinResponses,
    /// `$iothub/twin/PATCH/properties/desired/#`.
    TwinDesired,
    /// `$iothub/methods/POST/#`.
    Methods,
}

impl TopicFilter {
    /// Reads a filter; `None` for one IoT Hub does not grant.
    pub fn parse(filter: &str) -> Option<Self> {
        match filter {
            "$iothub/twin/res/#" => Some(Self::TwinResponses),
            "$iothub/twin/PATCH/properties/desired/#" => Some(Self::TwinDesired),
            "$iothub/methods/POST/#" => Some(Self::Methods),
            f => {
                let id = f
                    .strip_prefix("devices/")?
                    .strip_suffix("/messages/devicebound/#")?;
                (!id.is_empty() && !id.contains('/')).then(|| Self::CloudToDevice {
                    device_id: id.to_owned(),
                })
            }
        }
    }
}

impl fmt::Display for TopicFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::CloudToDevice { device_id } => {
                write!(f, "devices/{device_id}/messages/devicebound/#")
            }
            Self::TwinResponses => f.write_str("$iothub/twin/res/#"),
            Self::TwinDesired => f.write_str("$iothub/twin/PATCH/properties/desired/#"),
            Self::Methods => f.write_str("$iothub/methods/POST/#"),
        }
    }
}

#[cfg(test)]
mod tests;

//! A device's session with IoT Hub over MQTT, sans-IO like [`Session`] and [`super::Provisioning`]:
//! on CONNACK it subscribes to what a device receives (cloud-to-device messages, twin responses,
//! desired-property patches, direct methods), it numbers twin requests and reads the hub's answers
//! to them by request id, and it answers direct methods. Bytes in through
//! [`DeviceSession::receive`], frames out of [`DeviceSession::take_outgoing`], the time passed in.
//!
//! The topics and what each answer means are IoT Hub's MQTT support (MicrosoftDocs/azure-docs
//! `articles/iot/iot-mqtt-connect-to-iot-hub.md`): a twin GET is answered on
//! `$iothub/twin/res/200/?$rid=..` with the twin document, a reported patch on
//! `$iothub/twin/res/204/?$rid=..&$version=..`, anything else is a failure with the status given
//! (400 bad body, 429 throttled, 5xx server); a direct method arrives on
//! `$iothub/methods/POST/{name}/?$rid=..` and is answered on `$iothub/methods/res/{status}/?$rid=..`.

use std::collections::BTreeMap;

use super::{ConnectOptions, Event, MqttError, QoS, Refusal, Session};
use crate::contract::{Topic, TopicFilter};

/// What a twin request asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TwinRequest {
    /// The whole twin (`$iothub/twin/GET`).
    Get,
    /// A reported-properties patch.
    ReportedPatch,
}

/// What the device session saw.
#[derive(Debug, Clone, PartialEq)]
pub enum DeviceEvent {
    /// CONNACK 0; the subscriptions are on their way.
    Connected,
    /// CONNACK 1–5; the connection is over.
    Refused(Refusal),
    /// The hub answered a subscription.
    Subscribed {
        /// The filter.
        filter: String,
        /// The hub refused it (SUBACK 0x80).
        refused: bool,
    },
    /// A QoS 1 message was acknowledged by the hub.
    Acknowledged {
        /// Its packet id.
        pkid: u16,
        /// Milliseconds from send to PUBACK.
        rtt_ms: u64,
    },
    /// A QoS 1 message the hub did not acknowledge in time: counted as lost.
    Lost {
        /// Its packet id.
        pkid: u16,
    },
    /// The answer to a twin GET: the twin document (`desired` and `reported`).
    Twin {
        /// The request id it answers.
        rid: String,
        /// The document.
        document: serde_json::Value,
    },
    /// The answer to a reported patch: accepted.
    ReportedUpdated {
        /// The request id it answers.
        rid: String,
        /// The new reported version, when the hub says.
        version: Option<u64>,
    },
    /// A twin request the hub refused, or an answer that could not be read.
    TwinFailed {
        /// The request id it answers.
        rid: String,
        /// What was asked, when the request id is one of this session's.
        request: Option<TwinRequest>,
        /// The hub's status.
        status: u16,
        /// The hub's body, as text.
        body: String,
    },
    /// The desired properties changed.
    DesiredChanged {
        /// The new desired version.
        version: Option<u64>,
        /// The patch.
        patch: serde_json::Value,
    },
    /// A cloud-to-device message for this device.
    CloudToDevice {
        /// Its body.
        body: Vec<u8>,
        /// Its properties (application and system).
        properties: Vec<(String, String)>,
    },
    /// A direct method call, to be answered with [`DeviceSession::answer_method`].
    MethodCall {
        /// The method's name.
        name: String,
        /// The request id to answer.
        rid: String,
        /// Its payload.
        payload: Vec<u8>,
    },
    /// A message on a topic a device does not expect (or for another device).
    Unexpected {
        /// The topic.
        topic: String,
        /// The payload's size.
        bytes: usize,
    },
    /// PINGRESP.
    Pong {
        /// Milliseconds from PINGREQ.
        rtt_ms: u64,
    },
}

/// One device's connection to IoT Hub.
#[derive(Debug)]
pub struct DeviceSession {
    session: Session,
    device_id: String,
    next_rid: u32,
    twin_pending: BTreeMap<String, TwinRequest>,
    subscriptions: BTreeMap<u16, String>,
}

impl DeviceSession {
    /// Starts the CONNECT; `options.client_id` is the device id.
    pub fn connect(options: &ConnectOptions, now_ms: u64) -> Result<Self, MqttError> {
        Ok(Self {
            session: Session::connect(options, now_ms)?,
            device_id: options.client_id.clone(),
            next_rid: 0,
            twin_pending: BTreeMap::new(),
            subscriptions: BTreeMap::new(),
        })
    }

    /// The device id this session connects as.
    pub fn device_id(&self) -> &str {
        &self.device_id
    }

    /// Frames to send, in order.
    pub fn take_outgoing(&mut self) -> Vec<Vec<u8>> {
        self.session.take_outgoing()
    }

    /// CONNACK 0 came and the connection is not over.
    pub fn is_connected(&self) -> bool {
        self.session.is_connected()
    }

    /// Twin requests sent and not answered yet.
    pub fn twin_requests_pending(&self) -> usize {
        self.twin_pending.len()
    }

    /// Sends a device-to-cloud message with these properties; its packet id (0 for QoS 0).
    pub fn send_telemetry(
        &mut self,
        body: &[u8],
        properties: &[(String, String)],
        qos: QoS,
        now_ms: u64,
    ) -> Result<u16, MqttError> {
        let topic = Topic::telemetry(&self.device_id, properties).to_string();
        self.session.publish(&topic, body, qos, now_ms)
    }

    /// Asks for the twin; the request id its answer will carry.
    pub fn request_twin(&mut self, now_ms: u64) -> Result<String, MqttError> {
        self.twin_request(TwinRequest::Get, &[], now_ms)
    }

    /// Patches reported properties with `patch`, which IoT Hub takes as a JSON object only; the
    /// request id its answer will carry.
    pub fn patch_reported(
        &mut self,
        patch: &serde_json::Value,
        now_ms: u64,
    ) -> Result<String, MqttError> {
        if !patch.is_object() {
            return Err(MqttError::Encode(
                "reported properties must be a JSON object, such as {\"firmware\": \"1.0\"}".into(),
            ));
        }
        let body = serde_json::to_vec(patch).map_err(|e| MqttError::Encode(e.to_string()))?;
        self.twin_request(TwinRequest::ReportedPatch, &body, now_ms)
    }

    fn twin_request(
        &mut self,
        request: TwinRequest,
        body: &[u8],
        now_ms: u64,
    ) -> Result<String, MqttError> {
        self.next_rid = self.next_rid.wrapping_add(1);
        let rid = self.next_rid.to_string();
        let topic = match request {
            TwinRequest::Get => Topic::TwinGet { rid: rid.clone() },
            TwinRequest::ReportedPatch => Topic::TwinReportedPatch { rid: rid.clone() },
        };
        // QoS 0: the answer on the response topic is the acknowledgement that counts.
        self.session
            .publish(&topic.to_string(), body, QoS::AtMostOnce, now_ms)?;
        self.twin_pending.insert(rid.clone(), request);
        Ok(rid)
    }

    /// Answers the direct method `rid` with `status` and a JSON `payload`.
    pub fn answer_method(
        &mut self,
        rid: &str,
        status: u16,
        payload: &serde_json::Value,
        now_ms: u64,
    ) -> Result<(), MqttError> {
        let topic = Topic::MethodResponse {
            status,
            rid: rid.to_owned(),
        };
        let body = serde_json::to_vec(payload).map_err(|e| MqttError::Encode(e.to_string()))?;
        self.session
            .publish(&topic.to_string(), &body, QoS::AtMostOnce, now_ms)
            .map(|_| ())
    }

    /// Keep-alive, and the QoS 1 messages whose PUBACK did not come within
    /// [`super::ACK_TIMEOUT_MS`] (each reported once, as [`DeviceEvent::Lost`]); call it every
    /// second or so.
    pub fn tick(&mut self, now_ms: u64) -> Result<Vec<DeviceEvent>, MqttError> {
        let lost = self
            .session
            .expire_unacknowledged(now_ms)
            .into_iter()
            .map(|pkid| DeviceEvent::Lost { pkid })
            .collect();
        self.session.tick(now_ms)?;
        Ok(lost)
    }

    /// Queues a DISCONNECT and ends the session.
    pub fn disconnect(&mut self, now_ms: u64) {
        self.session.disconnect(now_ms);
    }

    /// Reads bytes from the hub.
    pub fn receive(&mut self, bytes: &[u8], now_ms: u64) -> Result<Vec<DeviceEvent>, MqttError> {
        let mut out = Vec::new();
        for event in self.session.receive(bytes, now_ms)? {
            match event {
                Event::Connected { .. } => {
                    out.push(DeviceEvent::Connected);
                    self.subscribe_all(now_ms)?;
                }
                Event::Refused(r) => out.push(DeviceEvent::Refused(r)),
                Event::Acknowledged { pkid, rtt_ms } => {
                    out.push(DeviceEvent::Acknowledged { pkid, rtt_ms });
                }
                Event::Subscribed { pkid, granted } => out.push(DeviceEvent::Subscribed {
                    filter: self.subscriptions.remove(&pkid).unwrap_or_default(),
                    refused: granted.iter().any(Option::is_none),
                }),
                Event::Message { topic, payload, .. } => out.push(self.message(topic, payload)),
                Event::Pong { rtt_ms } => out.push(DeviceEvent::Pong { rtt_ms }),
            }
        }
        Ok(out)
    }

    /// The subscriptions a device needs, each in its own SUBSCRIBE so that a refusal names it.
    fn subscribe_all(&mut self, now_ms: u64) -> Result<(), MqttError> {
        let filters = [
            TopicFilter::CloudToDevice {
                device_id: self.device_id.clone(),
            },
            TopicFilter::TwinResponses,
            TopicFilter::TwinDesired,
            TopicFilter::Methods,
        ];
        for filter in filters {
            let filter = filter.to_string();
            let pkid = self.session.subscribe(&filter, QoS::AtLeastOnce, now_ms)?;
            self.subscriptions.insert(pkid, filter);
        }
        Ok(())
    }

    fn message(&mut self, topic: String, payload: Vec<u8>) -> DeviceEvent {
        match Topic::parse(&topic) {
            Ok(Topic::TwinResponse {
                status,
                rid,
                version,
            }) => self.twin_answer(status, rid, version, &payload),
            Ok(Topic::TwinDesiredPatch { version }) => match serde_json::from_slice(&payload) {
                Ok(patch) => DeviceEvent::DesiredChanged { version, patch },
                Err(_) => DeviceEvent::Unexpected {
                    topic,
                    bytes: payload.len(),
                },
            },
            Ok(Topic::CloudToDevice {
                device_id,
                properties,
            }) if device_id == self.device_id => DeviceEvent::CloudToDevice {
                body: payload,
                properties: properties.0,
            },
            Ok(Topic::MethodRequest { name, rid }) => {
                DeviceEvent::MethodCall { name, rid, payload }
            }
            _ => DeviceEvent::Unexpected {
                topic,
                bytes: payload.len(),
            },
        }
    }

    fn twin_answer(
        &mut self,
        status: u16,
        rid: String,
        version: Option<u64>,
        payload: &[u8],
    ) -> DeviceEvent {
        let request = self.twin_pending.remove(&rid);
        let failed = |rid: String, body: String| DeviceEvent::TwinFailed {
            rid,
            request,
            status,
            body,
        };
        match (request, status) {
            (Some(TwinRequest::Get), 200) => match serde_json::from_slice(payload) {
                Ok(document) => DeviceEvent::Twin { rid, document },
                Err(e) => failed(rid, format!("the twin is not JSON: {e}")),
            },
            (Some(TwinRequest::ReportedPatch), 200 | 204) => {
                DeviceEvent::ReportedUpdated { rid, version }
            }
            _ => failed(rid, String::from_utf8_lossy(payload).into_owned()),
        }
    }
}

#[cfg(test)]
#[path = "device_session_tests.rs"]
mod tests;

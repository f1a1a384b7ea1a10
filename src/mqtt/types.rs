//! What a session is told and tells: the CONNECT settings, refusals and their meaning,
//! events and errors.

use std::fmt;

use crate::contract::Redacted;

use super::codec::{CodecError, QoS};

/// How long a QoS 1 publish may wait for its PUBACK before it counts as lost.
pub const ACK_TIMEOUT_MS: u64 = 30_000;

/// Largest packet accepted from the server (IoT Hub's message limit is 256 KiB).
pub const MAX_PACKET_BYTES: usize = 256 * 1024 + 1024;

/// What the session was told to connect with.
#[derive(Clone, PartialEq, Eq)]
pub struct ConnectOptions {
    /// Client id (IoT Hub: the device id).
    pub client_id: String,
    /// User name (IoT Hub: `{host}/{deviceId}/?api-version=...`).
    pub username: String,
    /// Password (IoT Hub: a SAS token; none with X.509).
    pub password: Option<String>,
    /// Keep-alive in seconds; 0 turns pings off.
    pub keep_alive_secs: u16,
    /// Start without stored state.
    pub clean_session: bool,
}

impl fmt::Debug for ConnectOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectOptions")
            .field("client_id", &self.client_id)
            .field("username", &self.username)
            .field("password", &self.password.as_deref().map(Redacted))
            .field("keep_alive_secs", &self.keep_alive_secs)
            .field("clean_session", &self.clean_session)
            .finish()
    }
}

/// Why a server refused the connection (CONNACK return codes 1–5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// 1: the server does not speak MQTT 3.1.1.
    ProtocolVersion,
    /// 2: the client id is not allowed.
    ClientId,
    /// 3: the service is unavailable.
    ServerUnavailable,
    /// 4: bad user name or password.
    BadCredentials,
    /// 5: not authorized.
    NotAuthorized,
}

impl Refusal {
    /// The CONNACK return code.
    pub fn code(self) -> u8 {
        match self {
            Self::ProtocolVersion => 1,
            Self::ClientId => 2,
            Self::ServerUnavailable => 3,
            Self::BadCredentials => 4,
            Self::NotAuthorized => 5,
        }
    }
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

/// Something the caller should know about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// CONNACK 0.
    Connected {
        /// The server kept a session.
        session_present: bool,
    },
    /// CONNACK 1–5; the connection is over.
    Refused(Refusal),
    /// A QoS 1 publish was acknowledged.
    Acknowledged {
        /// Its packet id.
        pkid: u16,
        /// Milliseconds from send to PUBACK.
        rtt_ms: u64,
    },
    /// A subscription was answered.
    Subscribed {
        /// Its packet id.
        pkid: u16,
        /// Per filter: the granted QoS, or `None` when refused.
        granted: Vec<Option<QoS>>,
    },
    /// A message from the server.
    Message {
        /// Its topic.
        topic: String,
        /// Its payload.
        payload: Vec<u8>,
        /// Its QoS (a QoS 1 message has been acknowledged already).
        qos: QoS,
    },
    /// PINGRESP.
    Pong {
        /// Milliseconds from PINGREQ.
        rtt_ms: u64,
    },
}

/// What went wrong; the connection should be closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MqttError {
    /// The server sent bytes that are not MQTT 3.1.1.
    Malformed(CodecError),
    /// The server sent a packet a client never receives, or one out of order.
    Unexpected(&'static str),
    /// A packet over [`MAX_PACKET_BYTES`].
    TooLarge(usize),
    /// No answer to a ping within the keep-alive period.
    KeepAliveTimeout,
    /// Publishing or subscribing before CONNACK or after the end.
    NotConnected,
    /// A packet could not be encoded (topic too long, ...).
    Encode(String),
    /// All 65,535 packet ids are waiting for an answer; nothing more can be sent until some are
    /// acknowledged or time out.
    PacketIdsExhausted,
}

impl fmt::Display for MqttError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed(what) => write!(f, "the server sent a malformed MQTT packet ({what})"),
            Self::Unexpected(what) => write!(f, "the server sent an unexpected {what}"),
            Self::TooLarge(n) => write!(
                f,
                "the server sent a {n}-byte packet, over the {MAX_PACKET_BYTES}-byte limit"
            ),
            Self::KeepAliveTimeout => f.write_str(
                "the server stopped answering pings: the connection is lost (network or hub)",
            ),
            Self::NotConnected => f.write_str("not connected: connect first"),
            Self::Encode(what) => write!(f, "the packet could not be encoded ({what})"),
            Self::PacketIdsExhausted => f.write_str(
                "65,535 messages are waiting for the hub's acknowledgement: wait for them (or for them to time out) before sending more",
            ),
        }
    }
}

impl std::error::Error for MqttError {}

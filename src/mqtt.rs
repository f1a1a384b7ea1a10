//! MQTT 3.1.1 as a sans-IO client session, and what IoT Hub's refusals mean.
//!
//! IoT Hub's user name and topics are in [`crate::contract`].
//!
//! The session never touches a socket or a clock: bytes go in through [`Session::receive`], frames
//! to send come out of [`Session::take_outgoing`], and the caller passes the time in milliseconds.
//! The same code runs natively over TLS in tests and over a browser WebSocket in the app.
//! Packets are encoded and decoded by this part's own codec (`codec.rs`, strict MQTT 3.1.1).

use std::collections::{HashMap, HashSet};

use bytes::BytesMut;

mod codec;
mod device_session;
mod provisioning;
mod types;

pub use codec::{
    encode, read, read_from, write, CodecError, ConnAck, Connect, ConnectReturnCode, LastWill,
    Login, Packet, PubAck, PubComp, PubRec, PubRel, Publish, QoS, SubAck, Subscribe,
    SubscribeFilter, SubscribeReasonCode, UnsubAck, Unsubscribe, MAX_REMAINING_LENGTH,
};

pub use device_session::{DeviceEvent, DeviceSession, TwinRequest};
pub use provisioning::{Provisioning, ProvisioningEvent};

pub use types::{
    refusal_advice, ConnectOptions, Event, MqttError, Refusal, ACK_TIMEOUT_MS, MAX_PACKET_BYTES,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Connecting,
    Connected,
    Closed,
}

/// One MQTT connection's client side.
#[derive(Debug)]
pub struct Session {
    state: State,
    keep_alive_ms: u64,
    input: BytesMut,
    outgoing: Vec<Vec<u8>>,
    next_pkid: u16,
    /// QoS 1 publishes awaiting PUBACK: packet id → time sent.
    unacked: HashMap<u16, u64>,
    /// Subscriptions awaiting SUBACK.
    unanswered: HashMap<u16, u64>,
    /// QoS 1 publishes given up on: a late PUBACK for one is ignored, not a protocol error.
    expired: HashSet<u16>,
    last_sent_ms: u64,
    ping_sent_ms: Option<u64>,
}

impl Session {
    /// A session that has queued its CONNECT.
    pub fn connect(options: &ConnectOptions, now_ms: u64) -> Result<Self, MqttError> {
        let mut connect = Connect::new(options.client_id.clone());
        connect.keep_alive = options.keep_alive_secs;
        connect.clean_session = options.clean_session;
        connect.set_login(
            options.username.clone(),
            options.password.clone().unwrap_or_default(),
        );
        // An empty password is left out of the packet (X.509 connections send none).
        let mut session = Self {
            state: State::Connecting,
            keep_alive_ms: u64::from(options.keep_alive_secs) * 1000,
            input: BytesMut::new(),
            outgoing: Vec::new(),
            next_pkid: 1,
            unacked: HashMap::new(),
            unanswered: HashMap::new(),
            expired: HashSet::new(),
            last_sent_ms: now_ms,
            ping_sent_ms: None,
        };
        let mut buf = BytesMut::new();
        write(&Packet::Connect(connect), &mut buf).map_err(|e| MqttError::Encode(e.to_string()))?;
        session.queue(buf, now_ms);
        Ok(session)
    }

    fn queue(&mut self, frame: BytesMut, now_ms: u64) {
        self.outgoing.push(frame.to_vec());
        self.last_sent_ms = now_ms;
    }

    /// Frames to send now, in order (each one a WebSocket binary message, or written to TLS).
    pub fn take_outgoing(&mut self) -> Vec<Vec<u8>> {
        std::mem::take(&mut self.outgoing)
    }

    /// Whether CONNACK 0 came and the session has not ended.
    pub fn is_connected(&self) -> bool {
        self.state == State::Connected
    }

    /// QoS 1 publishes not yet acknowledged.
    pub fn in_flight(&self) -> usize {
        self.unacked.len()
    }

    fn pkid(&mut self) -> Result<u16, MqttError> {
        if self.unacked.len() + self.unanswered.len() >= usize::from(u16::MAX) {
            return Err(MqttError::PacketIdsExhausted);
        }
        // Skip 0 and ids still in flight; a free one exists, so this ends.
        loop {
            let id = self.next_pkid;
            self.next_pkid = self.next_pkid.checked_add(1).unwrap_or(1);
            if !self.unacked.contains_key(&id) && !self.unanswered.contains_key(&id) {
                return Ok(id);
            }
        }
    }

    /// Gives up on QoS 1 publishes unacknowledged for [`ACK_TIMEOUT_MS`]: returns their packet
    /// ids (oldest first) and frees them. Call it with [`Session::tick`].
    pub fn expire_unacknowledged(&mut self, now_ms: u64) -> Vec<u16> {
        let mut expired: Vec<(u64, u16)> = self
            .unacked
            .iter()
            .filter(|(_, sent)| now_ms.saturating_sub(**sent) >= ACK_TIMEOUT_MS)
            .map(|(id, sent)| (*sent, *id))
            .collect();
        expired.sort_unstable();
        let expired: Vec<u16> = expired.into_iter().map(|(_, id)| id).collect();
        for id in &expired {
            self.unacked.remove(id);
            self.expired.insert(*id);
        }
        expired
    }

    /// Queues a PUBLISH; returns its packet id (0 for QoS 0).
    pub fn publish(
        &mut self,
        topic: &str,
        payload: &[u8],
        qos: QoS,
        now_ms: u64,
    ) -> Result<u16, MqttError> {
        if self.state != State::Connected {
            return Err(MqttError::NotConnected);
        }
        if qos == QoS::ExactlyOnce {
            return Err(MqttError::Encode(
                "IoT Hub does not support QoS 2: use 0 or 1".into(),
            ));
        }
        let mut publish = Publish::new(topic, qos, payload.to_vec());
        if qos == QoS::AtLeastOnce {
            publish.pkid = self.pkid()?;
        }
        let pkid = publish.pkid;
        let mut buf = BytesMut::new();
        write(&Packet::Publish(publish), &mut buf).map_err(|e| MqttError::Encode(e.to_string()))?;
        if qos == QoS::AtLeastOnce {
            self.unacked.insert(pkid, now_ms);
        }
        self.queue(buf, now_ms);
        Ok(pkid)
    }

    /// Queues a SUBSCRIBE to one filter; returns its packet id.
    pub fn subscribe(&mut self, filter: &str, qos: QoS, now_ms: u64) -> Result<u16, MqttError> {
        if self.state != State::Connected {
            return Err(MqttError::NotConnected);
        }
        let mut subscribe = Subscribe::new(filter, qos);
        let pkid = self.pkid()?;
        subscribe.pkid = pkid;
        let mut buf = BytesMut::new();
        write(&Packet::Subscribe(subscribe), &mut buf)
            .map_err(|e| MqttError::Encode(e.to_string()))?;
        self.unanswered.insert(pkid, now_ms);
        self.queue(buf, now_ms);
        Ok(pkid)
    }

    /// Queues a DISCONNECT and ends the session.
    pub fn disconnect(&mut self, now_ms: u64) {
        if self.state != State::Closed {
            let mut buf = BytesMut::new();
            if write(&Packet::Disconnect, &mut buf).is_ok() {
                self.queue(buf, now_ms);
            }
            self.state = State::Closed;
        }
    }

    /// Keep-alive: queues a PINGREQ when nothing was sent for the keep-alive period, and fails when
    /// a ping went unanswered for as long. Call it every second or so.
    pub fn tick(&mut self, now_ms: u64) -> Result<(), MqttError> {
        if self.state != State::Connected || self.keep_alive_ms == 0 {
            return Ok(());
        }
        if let Some(sent) = self.ping_sent_ms {
            if now_ms.saturating_sub(sent) >= self.keep_alive_ms {
                self.state = State::Closed;
                return Err(MqttError::KeepAliveTimeout);
            }
            return Ok(());
        }
        if now_ms.saturating_sub(self.last_sent_ms) >= self.keep_alive_ms {
            let mut buf = BytesMut::new();
            write(&Packet::PingReq, &mut buf).map_err(|e| MqttError::Encode(e.to_string()))?;
            self.queue(buf, now_ms);
            self.ping_sent_ms = Some(now_ms);
        }
        Ok(())
    }

    /// Feeds bytes from the server (any split: partial packets wait for the rest). Returns what
    /// happened; an error means the connection must be closed.
    pub fn receive(&mut self, bytes: &[u8], now_ms: u64) -> Result<Vec<Event>, MqttError> {
        self.input.extend_from_slice(bytes);
        let mut events = Vec::new();
        loop {
            if self.input.is_empty() {
                break;
            }
            let packet = match read_from(&mut self.input, MAX_PACKET_BYTES) {
                Ok(Some(p)) => p,
                Ok(None) => break,
                Err(CodecError::TooLarge { size, .. }) => {
                    self.state = State::Closed;
                    return Err(MqttError::TooLarge(size));
                }
                Err(e) => {
                    self.state = State::Closed;
                    return Err(MqttError::Malformed(e));
                }
            };
            if let Err(e) = self.handle(packet, now_ms, &mut events) {
                self.state = State::Closed;
                return Err(e);
            }
            if self.state == State::Closed {
                break;
            }
        }
        Ok(events)
    }

    fn handle(
        &mut self,
        packet: Packet,
        now_ms: u64,
        events: &mut Vec<Event>,
    ) -> Result<(), MqttError> {
        match (self.state, packet) {
            (
                State::Connecting,
                Packet::ConnAck(ConnAck {
                    code,
                    session_present,
                }),
            ) => {
                use ConnectReturnCode as C;
                let refusal = match code {
                    C::Success => None,
                    C::RefusedProtocolVersion => Some(Refusal::ProtocolVersion),
                    C::BadClientId => Some(Refusal::ClientId),
                    C::ServiceUnavailable => Some(Refusal::ServerUnavailable),
                    C::BadUserNamePassword => Some(Refusal::BadCredentials),
                    C::NotAuthorized => Some(Refusal::NotAuthorized),
                };
                match refusal {
                    None => {
                        self.state = State::Connected;
                        events.push(Event::Connected { session_present });
                    }
                    Some(r) => {
                        self.state = State::Closed;
                        events.push(Event::Refused(r));
                    }
                }
            }
            (State::Connecting, _) => return Err(MqttError::Unexpected("packet before CONNACK")),
            (_, Packet::ConnAck(_)) => return Err(MqttError::Unexpected("second CONNACK")),
            (_, Packet::PubAck(PubAck { pkid })) if !self.unacked.contains_key(&pkid) => {
                // Late, for a publish already given up on; anything else is the server's error.
                if !self.expired.remove(&pkid) {
                    return Err(MqttError::Unexpected("PUBACK for nothing sent"));
                }
            }
            (_, Packet::PubAck(PubAck { pkid })) => {
                let sent = self
                    .unacked
                    .remove(&pkid)
                    .ok_or(MqttError::Unexpected("PUBACK for nothing sent"))?;
                events.push(Event::Acknowledged {
                    pkid,
                    rtt_ms: now_ms.saturating_sub(sent),
                });
            }
            (_, Packet::SubAck(SubAck { pkid, return_codes })) => {
                self.unanswered
                    .remove(&pkid)
                    .ok_or(MqttError::Unexpected("SUBACK for nothing asked"))?;
                let granted = return_codes
                    .into_iter()
                    .map(|c| match c {
                        SubscribeReasonCode::Success(q) => Some(q),
                        SubscribeReasonCode::Failure => None,
                    })
                    .collect();
                events.push(Event::Subscribed { pkid, granted });
            }
            (_, Packet::Publish(p)) => {
                let qos = p.qos;
                if qos == QoS::ExactlyOnce {
                    return Err(MqttError::Unexpected(
                        "QoS 2 PUBLISH (never subscribed at 2)",
                    ));
                }
                if qos == QoS::AtLeastOnce {
                    let mut buf = BytesMut::new();
                    write(&Packet::PubAck(PubAck::new(p.pkid)), &mut buf)
                        .map_err(|e| MqttError::Encode(e.to_string()))?;
                    self.queue(buf, now_ms);
                }
                events.push(Event::Message {
                    topic: p.topic,
                    payload: p.payload,
                    qos,
                });
            }
            (_, Packet::PingResp) => {
                let sent = self
                    .ping_sent_ms
                    .take()
                    .ok_or(MqttError::Unexpected("PINGRESP without PINGREQ"))?;
                events.push(Event::Pong {
                    rtt_ms: now_ms.saturating_sub(sent),
                });
            }
            (_, Packet::UnsubAck(_)) => return Err(MqttError::Unexpected("UNSUBACK")),
            (_, Packet::PubRec(_) | Packet::PubRel(_) | Packet::PubComp(_)) => {
                return Err(MqttError::Unexpected("QoS 2 packet"))
            }
            (
                _,
                Packet::Connect(_)
                | Packet::Subscribe(_)
                | Packet::Unsubscribe(_)
                | Packet::PingReq
                | Packet::Disconnect,
            ) => return Err(MqttError::Unexpected("client-only packet")),
        }
        Ok(())
    }
}

/// A packet's name and a short summary, for a connection log.
pub fn describe(frame: &[u8]) -> String {
    match read(frame, usize::MAX).map(|p| p.map(|(packet, _)| packet)) {
        Ok(Some(Packet::Connect(c))) => format!(
            "CONNECT client id {} keep-alive {}s",
            c.client_id, c.keep_alive
        ),
        Ok(Some(Packet::ConnAck(c))) => format!("CONNACK {}", c.code.code()),
        Ok(Some(Packet::Publish(p))) => format!(
            "PUBLISH {} QoS {} id {} ({} bytes)",
            p.topic,
            p.qos.level(),
            p.pkid,
            p.payload.len()
        ),
        Ok(Some(Packet::PubAck(p))) => format!("PUBACK id {}", p.pkid),
        Ok(Some(Packet::Subscribe(s))) => format!(
            "SUBSCRIBE {} id {}",
            s.filters
                .iter()
                .map(|f| f.path.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            s.pkid
        ),
        Ok(Some(Packet::SubAck(s))) => format!("SUBACK id {}", s.pkid),
        Ok(Some(Packet::PingReq)) => "PINGREQ".into(),
        Ok(Some(Packet::PingResp)) => "PINGRESP".into(),
        Ok(Some(Packet::Disconnect)) => "DISCONNECT".into(),
        Ok(Some(other)) => format!("{other:?}"),
        Ok(None) => "incomplete packet".into(),
        Err(e) => format!("unreadable packet ({e})"),
    }
}

#[cfg(test)]
mod tests;

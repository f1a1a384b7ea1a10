//! MQTT 3.1.1 packets as bytes: the subset IoT Hub and DPS speak, read strictly and written as
//! the specification says (OASIS MQTT Version 3.1.1, section numbers below).
//!
//! [`read`] takes whatever bytes have arrived and answers `Ok(None)` until a whole packet is
//! there; the declared size is checked against the caller's limit as soon as the fixed header is
//! complete, before anything is copied. Nothing here panics or allocates more than the packet it
//! reads.

use std::fmt;

use bytes::{BufMut, BytesMut};

use crate::contract::Redacted;

/// The largest remaining length four bytes can encode (2.2.3).
pub const MAX_REMAINING_LENGTH: usize = 268_435_455;

/// An MQTT delivery guarantee. IoT Hub takes 0 and 1; 2 is named so that it can be refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QoS {
    /// 0: at most once, no acknowledgement.
    AtMostOnce,
    /// 1: at least once, acknowledged with PUBACK.
    AtLeastOnce,
    /// 2: exactly once; IoT Hub does not support it.
    ExactlyOnce,
}

impl QoS {
    /// Its number: 0, 1 or 2.
    pub fn level(self) -> u8 {
        match self {
            Self::AtMostOnce => 0,
            Self::AtLeastOnce => 1,
            Self::ExactlyOnce => 2,
        }
    }
}

/// Why bytes are not an MQTT 3.1.1 packet, or a packet cannot be written.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CodecError {
    /// The packet (fixed header included) is larger than the caller accepts.
    TooLarge {
        /// Its size in bytes, as its header declares.
        size: usize,
        /// The caller's limit.
        max: usize,
    },
    /// The remaining length runs over four bytes (2.2.3).
    RemainingLength,
    /// Packet type 0 or 15, both reserved (2.2.1).
    PacketType(u8),
    /// The fixed header's flags are not the ones its type requires (2.2.2).
    Flags {
        /// The packet type (1 to 14).
        packet_type: u8,
        /// The four flag bits received.
        flags: u8,
    },
    /// A QoS of 3 (3.3.1.2, 3.1.2.6, 3.8.3.1).
    QoS(u8),
    /// A field runs past the end of its packet: the remaining length is too short for it.
    Truncated,
    /// Bytes left over after the packet's last field.
    TrailingBytes(usize),
    /// A string that is not UTF-8, or holds U+0000 (1.5.3).
    Utf8,
    /// CONNECT's protocol name is not `MQTT` (3.1.2.1).
    ProtocolName,
    /// CONNECT's protocol level is not 4, MQTT 3.1.1 (3.1.2.2).
    ProtocolLevel(u8),
    /// CONNECT's flags contradict themselves: the reserved bit, will QoS or retain without a
    /// will, a password without a user name (3.1.2.3 to 3.1.2.9).
    ConnectFlags(u8),
    /// CONNACK's reserved flag bits are set (3.2.2.1).
    ConnAckFlags(u8),
    /// A CONNACK return code over 5 (3.2.2.3).
    ReturnCode(u8),
    /// A SUBACK return code other than 0, 1, 2 or 0x80 (3.9.3).
    SubAckCode(u8),
    /// A SUBSCRIBE's requested-QoS byte has its reserved bits set (3.8.3.1).
    SubscribeOptions(u8),
    /// Packet identifier 0 where one is required (2.3.1).
    PacketIdZero,
    /// A SUBSCRIBE, UNSUBSCRIBE or SUBACK without a single entry (3.8.3, 3.10.3, 3.9.3).
    Empty,
    /// An empty topic name or filter (4.7.3).
    EmptyTopic,
    /// A PUBLISH topic name holding `+` or `#` (3.3.2.1).
    TopicWildcard,
    /// A string or binary field over 65,535 bytes, which cannot be written (1.5.3).
    FieldTooLong(usize),
    /// A packet whose remaining length is over 268,435,455 bytes, which cannot be written.
    PacketTooLong(usize),
}

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge { size, max } => {
                write!(f, "a {size}-byte packet, over the {max}-byte limit")
            }
            Self::RemainingLength => f.write_str("a remaining length longer than four bytes"),
            Self::PacketType(t) => write!(f, "the reserved packet type {t}"),
            Self::Flags { packet_type, flags } => write!(
                f,
                "packet type {packet_type} with the flags {flags:#06b}, which it may not have"
            ),
            Self::QoS(q) => write!(f, "QoS {q}, which does not exist"),
            Self::Truncated => f.write_str("a field running past the end of its packet"),
            Self::TrailingBytes(n) => write!(f, "{n} bytes after the packet's last field"),
            Self::Utf8 => f.write_str("a string that is not UTF-8 or holds U+0000"),
            Self::ProtocolName => f.write_str("a CONNECT whose protocol name is not MQTT"),
            Self::ProtocolLevel(l) => {
                write!(f, "a CONNECT of protocol level {l}, not 4 (MQTT 3.1.1)")
            }
            Self::ConnectFlags(b) => write!(f, "contradictory CONNECT flags {b:#010b}"),
            Self::ConnAckFlags(b) => write!(f, "CONNACK flags {b:#010b} with reserved bits set"),
            Self::ReturnCode(c) => write!(f, "the unknown CONNACK return code {c}"),
            Self::SubAckCode(c) => write!(f, "the unknown SUBACK return code {c:#04x}"),
            Self::SubscribeOptions(b) => {
                write!(f, "a requested QoS byte {b:#010b} with reserved bits set")
            }
            Self::PacketIdZero => f.write_str("packet identifier 0"),
            Self::Empty => f.write_str("a SUBSCRIBE, UNSUBSCRIBE or SUBACK without an entry"),
            Self::EmptyTopic => f.write_str("an empty topic"),
            Self::TopicWildcard => f.write_str("a PUBLISH topic with a wildcard (+ or #)"),
            Self::FieldTooLong(n) => write!(f, "a {n}-byte field, over 65,535 bytes"),
            Self::PacketTooLong(n) => {
                write!(f, "a {n}-byte packet body, over MQTT's 268,435,455 bytes")
            }
        }
    }
}

impl std::error::Error for CodecError {}

/// CONNECT's will (3.1.3.2, 3.1.3.3).
#[derive(Clone, PartialEq, Eq)]
pub struct LastWill {
    /// Will topic.
    pub topic: String,
    /// Will message.
    pub message: Vec<u8>,
    /// Will QoS.
    pub qos: QoS,
    /// Will retain.
    pub retain: bool,
}

impl fmt::Debug for LastWill {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LastWill")
            .field("topic", &self.topic)
            .field("message_bytes", &self.message.len())
            .field("qos", &self.qos)
            .field("retain", &self.retain)
            .finish()
    }
}

/// CONNECT's user name and password: the user name is sent (empty, if so), the password only when
/// it is not empty (so never without a user name, as 3.1.2.9 says).
#[derive(Clone, PartialEq, Eq)]
pub struct Login {
    /// User name.
    pub username: String,
    /// Password (read only when it is UTF-8: IoT Hub's and DPS's are SAS tokens).
    pub password: String,
}

impl fmt::Debug for Login {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Login")
            .field("username", &self.username)
            .field("password", &Redacted(&self.password))
            .finish()
    }
}

/// CONNECT (3.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connect {
    /// Keep-alive in seconds; 0 turns it off.
    pub keep_alive: u16,
    /// Client id.
    pub client_id: String,
    /// Clean session.
    pub clean_session: bool,
    /// The will, if any.
    pub last_will: Option<LastWill>,
    /// User name and password, when a user name was sent.
    pub login: Option<Login>,
}

impl Connect {
    /// A CONNECT with keep-alive 10 s, a clean session, no will and no login.
    pub fn new(client_id: impl Into<String>) -> Self {
        Self {
            keep_alive: 10,
            client_id: client_id.into(),
            clean_session: true,
            last_will: None,
            login: None,
        }
    }

    /// Sets the user name and password (an empty password is left out).
    pub fn set_login(&mut self, username: impl Into<String>, password: impl Into<String>) {
        self.login = Some(Login {
            username: username.into(),
            password: password.into(),
        });
    }
}

/// CONNACK's return code (3.2.2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectReturnCode {
    /// 0: accepted.
    Success,
    /// 1: unacceptable protocol version.
    RefusedProtocolVersion,
    /// 2: identifier rejected.
    BadClientId,
    /// 3: server unavailable.
    ServiceUnavailable,
    /// 4: bad user name or password.
    BadUserNamePassword,
    /// 5: not authorized.
    NotAuthorized,
}

impl ConnectReturnCode {
    /// Its byte.
    pub fn code(self) -> u8 {
        match self {
            Self::Success => 0,
            Self::RefusedProtocolVersion => 1,
            Self::BadClientId => 2,
            Self::ServiceUnavailable => 3,
            Self::BadUserNamePassword => 4,
            Self::NotAuthorized => 5,
        }
    }

    fn from_code(c: u8) -> Result<Self, CodecError> {
        Ok(match c {
            0 => Self::Success,
            1 => Self::RefusedProtocolVersion,
            2 => Self::BadClientId,
            3 => Self::ServiceUnavailable,
            4 => Self::BadUserNamePassword,
            5 => Self::NotAuthorized,
            c => return Err(CodecError::ReturnCode(c)),
        })
    }
}

/// CONNACK (3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnAck {
    /// Session present.
    pub session_present: bool,
    /// Return code.
    pub code: ConnectReturnCode,
}

impl ConnAck {
    /// A CONNACK.
    pub fn new(code: ConnectReturnCode, session_present: bool) -> Self {
        Self {
            session_present,
            code,
        }
    }
}

/// PUBLISH (3.3).
#[derive(Clone, PartialEq, Eq)]
pub struct Publish {
    /// DUP.
    pub dup: bool,
    /// QoS (2 is read so that the caller can refuse it).
    pub qos: QoS,
    /// RETAIN.
    pub retain: bool,
    /// Topic name.
    pub topic: String,
    /// Packet identifier; 0 at QoS 0.
    pub pkid: u16,
    /// Payload.
    pub payload: Vec<u8>,
}

impl Publish {
    /// A PUBLISH without DUP or RETAIN, packet identifier 0 (set it for QoS 1).
    pub fn new(topic: impl Into<String>, qos: QoS, payload: impl Into<Vec<u8>>) -> Self {
        Self {
            dup: false,
            qos,
            retain: false,
            topic: topic.into(),
            pkid: 0,
            payload: payload.into(),
        }
    }
}

impl fmt::Debug for Publish {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Publish")
            .field("dup", &self.dup)
            .field("qos", &self.qos)
            .field("retain", &self.retain)
            .field("topic", &self.topic)
            .field("pkid", &self.pkid)
            .field("payload_bytes", &self.payload.len())
            .finish()
    }
}

macro_rules! id_only {
    ($(#[$doc:meta] $name:ident),*) => {$(
        #[$doc]
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $name {
            /// Packet identifier.
            pub pkid: u16,
        }

        impl $name {
            /// The packet for this identifier.
            pub fn new(pkid: u16) -> Self {
                Self { pkid }
            }
        }
    )*};
}

id_only!(
    /// PUBACK (3.4).
    PubAck,
    /// PUBREC (3.5), read so that it can be refused.
    PubRec,
    /// PUBREL (3.6), read so that it can be refused.
    PubRel,
    /// PUBCOMP (3.7), read so that it can be refused.
    PubComp,
    /// UNSUBACK (3.11).
    UnsubAck
);

/// One topic filter of a SUBSCRIBE and its requested QoS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscribeFilter {
    /// Topic filter.
    pub path: String,
    /// Requested QoS.
    pub qos: QoS,
}

/// SUBSCRIBE (3.8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscribe {
    /// Packet identifier.
    pub pkid: u16,
    /// At least one filter.
    pub filters: Vec<SubscribeFilter>,
}

impl Subscribe {
    /// A SUBSCRIBE to one filter, packet identifier 0 (set it before writing).
    pub fn new(path: impl Into<String>, qos: QoS) -> Self {
        Self {
            pkid: 0,
            filters: vec![SubscribeFilter {
                path: path.into(),
                qos,
            }],
        }
    }
}

/// One SUBACK return code (3.9.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscribeReasonCode {
    /// Granted at this QoS.
    Success(QoS),
    /// 0x80: refused.
    Failure,
}

/// SUBACK (3.9).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubAck {
    /// Packet identifier.
    pub pkid: u16,
    /// One per filter subscribed, in order.
    pub return_codes: Vec<SubscribeReasonCode>,
}

impl SubAck {
    /// A SUBACK.
    pub fn new(pkid: u16, return_codes: Vec<SubscribeReasonCode>) -> Self {
        Self { pkid, return_codes }
    }
}

/// UNSUBSCRIBE (3.10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsubscribe {
    /// Packet identifier.
    pub pkid: u16,
    /// At least one filter.
    pub topics: Vec<String>,
}

impl Unsubscribe {
    /// An UNSUBSCRIBE of one filter, packet identifier 0 (set it before writing).
    pub fn new(topic: impl Into<String>) -> Self {
        Self {
            pkid: 0,
            topics: vec![topic.into()],
        }
    }
}

/// An MQTT 3.1.1 control packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    /// CONNECT.
    Connect(Connect),
    /// CONNACK.
    ConnAck(ConnAck),
    /// PUBLISH.
    Publish(Publish),
    /// PUBACK.
    PubAck(PubAck),
    /// PUBREC.
    PubRec(PubRec),
    /// PUBREL.
    PubRel(PubRel),
    /// PUBCOMP.
    PubComp(PubComp),
    /// SUBSCRIBE.
    Subscribe(Subscribe),
    /// SUBACK.
    SubAck(SubAck),
    /// UNSUBSCRIBE.
    Unsubscribe(Unsubscribe),
    /// UNSUBACK.
    UnsubAck(UnsubAck),
    /// PINGREQ.
    PingReq,
    /// PINGRESP.
    PingResp,
    /// DISCONNECT.
    Disconnect,
}

fn qos_of(bits: u8) -> Result<QoS, CodecError> {
    match bits {
        0 => Ok(QoS::AtMostOnce),
        1 => Ok(QoS::AtLeastOnce),
        2 => Ok(QoS::ExactlyOnce),
        q => Err(CodecError::QoS(q)),
    }
}

fn qos_bits(q: QoS) -> u8 {
    q.level()
}

/// The flags a packet type must carry (2.2.2); PUBLISH's are its own.
fn check_first_byte(byte1: u8) -> Result<(), CodecError> {
    let (packet_type, flags) = (byte1 >> 4, byte1 & 0x0F);
    let required = match packet_type {
        0 | 15 => return Err(CodecError::PacketType(packet_type)),
        3 => {
            return match (flags >> 1) & 0b11 {
                3 => Err(CodecError::QoS(3)),
                _ => Ok(()),
            }
        }
        6 | 8 | 10 => 0b0010,
        _ => 0,
    };
    if flags == required {
        Ok(())
    } else {
        Err(CodecError::Flags { packet_type, flags })
    }
}

/// Reads the first packet in `buf`: `Ok(None)` while it is incomplete, else the packet and how
/// many bytes it took. A packet over `max_size` bytes (fixed header included) is refused as soon as
/// its header says so; a reserved packet type or wrong flags as soon as its first byte arrives.
pub fn read(buf: &[u8], max_size: usize) -> Result<Option<(Packet, usize)>, CodecError> {
    let Some(&byte1) = buf.first() else {
        return Ok(None);
    };
    check_first_byte(byte1)?;
    let mut remaining = 0usize;
    let mut at = 1;
    loop {
        if at > 4 {
            return Err(CodecError::RemainingLength);
        }
        let Some(&b) = buf.get(at) else {
            return Ok(None);
        };
        remaining |= usize::from(b & 0x7F) << (7 * (at - 1));
        at += 1;
        if b & 0x80 == 0 {
            break;
        }
    }
    let size = at + remaining;
    if size > max_size {
        return Err(CodecError::TooLarge {
            size,
            max: max_size,
        });
    }
    let Some(body) = buf.get(at..size) else {
        return Ok(None);
    };
    Ok(Some((parse(byte1, body)?, size)))
}

/// Reads the first packet out of `buf` and removes its bytes; `Ok(None)` (nothing removed) while
/// it is incomplete.
pub fn read_from(buf: &mut BytesMut, max_size: usize) -> Result<Option<Packet>, CodecError> {
    match read(buf, max_size)? {
        Some((packet, used)) => {
            let _ = buf.split_to(used);
            Ok(Some(packet))
        }
        None => Ok(None),
    }
}

struct Fields<'a>(&'a [u8]);

impl<'a> Fields<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], CodecError> {
        if n > self.0.len() {
            return Err(CodecError::Truncated);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8, CodecError> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, CodecError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn pkid(&mut self) -> Result<u16, CodecError> {
        match self.u16()? {
            0 => Err(CodecError::PacketIdZero),
            id => Ok(id),
        }
    }

    fn binary(&mut self) -> Result<&'a [u8], CodecError> {
        let n = self.u16()?;
        self.take(usize::from(n))
    }

    fn string(&mut self) -> Result<String, CodecError> {
        let s = std::str::from_utf8(self.binary()?).map_err(|_| CodecError::Utf8)?;
        if s.contains('\0') {
            return Err(CodecError::Utf8);
        }
        Ok(s.to_owned())
    }

    fn topic(&mut self) -> Result<String, CodecError> {
        let s = self.string()?;
        if s.is_empty() {
            return Err(CodecError::EmptyTopic);
        }
        Ok(s)
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.0)
    }

    fn end(self) -> Result<(), CodecError> {
        match self.0.len() {
            0 => Ok(()),
            n => Err(CodecError::TrailingBytes(n)),
        }
    }
}

fn parse(byte1: u8, body: &[u8]) -> Result<Packet, CodecError> {
    let mut f = Fields(body);
    let packet = match byte1 >> 4 {
        1 => Packet::Connect(parse_connect(&mut f)?),
        2 => {
            let flags = f.u8()?;
            if flags & 0xFE != 0 {
                return Err(CodecError::ConnAckFlags(flags));
            }
            let code = ConnectReturnCode::from_code(f.u8()?)?;
            Packet::ConnAck(ConnAck::new(code, flags & 1 == 1))
        }
        3 => {
            let qos = qos_of((byte1 >> 1) & 0b11)?;
            let topic = f.topic()?;
            if topic.contains(['+', '#']) {
                return Err(CodecError::TopicWildcard);
            }
            let pkid = match qos {
                QoS::AtMostOnce => 0,
                _ => f.pkid()?,
            };
            Packet::Publish(Publish {
                dup: byte1 & 0b1000 != 0,
                qos,
                retain: byte1 & 1 != 0,
                topic,
                pkid,
                payload: f.rest().to_vec(),
            })
        }
        4 => Packet::PubAck(PubAck::new(f.pkid()?)),
        5 => Packet::PubRec(PubRec::new(f.pkid()?)),
        6 => Packet::PubRel(PubRel::new(f.pkid()?)),
        7 => Packet::PubComp(PubComp::new(f.pkid()?)),
        8 => {
            let pkid = f.pkid()?;
            let mut filters = Vec::new();
            while !f.is_empty() {
                let path = f.topic()?;
                let options = f.u8()?;
                if options & 0xFC != 0 {
                    return Err(CodecError::SubscribeOptions(options));
                }
                filters.push(SubscribeFilter {
                    path,
                    qos: qos_of(options)?,
                });
            }
            if filters.is_empty() {
                return Err(CodecError::Empty);
            }
            Packet::Subscribe(Subscribe { pkid, filters })
        }
        9 => {
            let pkid = f.pkid()?;
            let return_codes = f
                .rest()
                .iter()
                .map(|&c| match c {
                    0x80 => Ok(SubscribeReasonCode::Failure),
                    0..=2 => qos_of(c).map(SubscribeReasonCode::Success),
                    c => Err(CodecError::SubAckCode(c)),
                })
                .collect::<Result<Vec<_>, _>>()?;
            if return_codes.is_empty() {
                return Err(CodecError::Empty);
            }
            Packet::SubAck(SubAck { pkid, return_codes })
        }
        10 => {
            let pkid = f.pkid()?;
            let mut topics = Vec::new();
            while !f.is_empty() {
                topics.push(f.topic()?);
            }
            if topics.is_empty() {
                return Err(CodecError::Empty);
            }
            Packet::Unsubscribe(Unsubscribe { pkid, topics })
        }
        11 => Packet::UnsubAck(UnsubAck::new(f.pkid()?)),
        12 => Packet::PingReq,
        13 => Packet::PingResp,
        14 => Packet::Disconnect,
        t => return Err(CodecError::PacketType(t)),
    };
    f.end()?;
    Ok(packet)
}

fn parse_connect(f: &mut Fields<'_>) -> Result<Connect, CodecError> {
    if f.binary()? != b"MQTT" {
        return Err(CodecError::ProtocolName);
    }
    match f.u8()? {
        4 => {}
        level => return Err(CodecError::ProtocolLevel(level)),
    }
    let flags = f.u8()?;
    let will = flags & 0b100 != 0;
    let will_qos = (flags >> 3) & 0b11;
    let will_retain = flags & 0b10_0000 != 0;
    let (user, pass) = (flags & 0x80 != 0, flags & 0x40 != 0);
    if flags & 1 != 0 || (!will && (will_qos != 0 || will_retain)) || (pass && !user) {
        return Err(CodecError::ConnectFlags(flags));
    }
    let keep_alive = f.u16()?;
    let client_id = f.string()?;
    let last_will = if will {
        let qos = qos_of(will_qos)?;
        let topic = f.topic()?;
        if topic.contains(['+', '#']) {
            return Err(CodecError::TopicWildcard);
        }
        Some(LastWill {
            topic,
            message: f.binary()?.to_vec(),
            qos,
            retain: will_retain,
        })
    } else {
        None
    };
    let login = if user {
        let username = f.string()?;
        let password = if pass {
            std::str::from_utf8(f.binary()?)
                .map_err(|_| CodecError::Utf8)?
                .to_owned()
        } else {
            String::new()
        };
        Some(Login { username, password })
    } else {
        None
    };
    Ok(Connect {
        keep_alive,
        client_id,
        clean_session: flags & 0b10 != 0,
        last_will,
        login,
    })
}

fn put_binary(out: &mut Vec<u8>, b: &[u8]) -> Result<(), CodecError> {
    let n = u16::try_from(b.len()).map_err(|_| CodecError::FieldTooLong(b.len()))?;
    out.extend_from_slice(&n.to_be_bytes());
    out.extend_from_slice(b);
    Ok(())
}

fn put_string(out: &mut Vec<u8>, s: &str) -> Result<(), CodecError> {
    if s.contains('\0') {
        return Err(CodecError::Utf8);
    }
    put_binary(out, s.as_bytes())
}

fn put_topic(out: &mut Vec<u8>, s: &str) -> Result<(), CodecError> {
    if s.is_empty() {
        return Err(CodecError::EmptyTopic);
    }
    put_string(out, s)
}

fn nonzero(pkid: u16) -> Result<[u8; 2], CodecError> {
    match pkid {
        0 => Err(CodecError::PacketIdZero),
        id => Ok(id.to_be_bytes()),
    }
}

/// Appends `packet` to `out`; returns how many bytes it took. Nothing is appended when the packet
/// cannot be written (a field over 65,535 bytes, packet identifier 0, an empty SUBSCRIBE, ...).
pub fn write(packet: &Packet, out: &mut BytesMut) -> Result<usize, CodecError> {
    let mut body = Vec::new();
    let byte1 = match packet {
        Packet::Connect(c) => {
            put_string(&mut body, "MQTT")?;
            body.push(4);
            let mut flags = 0u8;
            if c.clean_session {
                flags |= 0b10;
            }
            if let Some(w) = &c.last_will {
                flags |= 0b100 | (qos_bits(w.qos) << 3);
                if w.retain {
                    flags |= 0b10_0000;
                }
            }
            if let Some(l) = &c.login {
                flags |= 0x80;
                if !l.password.is_empty() {
                    flags |= 0x40;
                }
            }
            body.push(flags);
            body.extend_from_slice(&c.keep_alive.to_be_bytes());
            put_string(&mut body, &c.client_id)?;
            if let Some(w) = &c.last_will {
                if w.topic.contains(['+', '#']) {
                    return Err(CodecError::TopicWildcard);
                }
                put_topic(&mut body, &w.topic)?;
                put_binary(&mut body, &w.message)?;
            }
            if let Some(l) = &c.login {
                put_string(&mut body, &l.username)?;
                if flags & 0x40 != 0 {
                    put_binary(&mut body, l.password.as_bytes())?;
                }
            }
            0x10
        }
        Packet::ConnAck(c) => {
            body.push(u8::from(c.session_present));
            body.push(c.code.code());
            0x20
        }
        Packet::Publish(p) => {
            if p.topic.contains(['+', '#']) {
                return Err(CodecError::TopicWildcard);
            }
            put_topic(&mut body, &p.topic)?;
            if p.qos != QoS::AtMostOnce {
                body.extend_from_slice(&nonzero(p.pkid)?);
            }
            body.extend_from_slice(&p.payload);
            0x30 | (u8::from(p.dup) << 3) | (qos_bits(p.qos) << 1) | u8::from(p.retain)
        }
        Packet::PubAck(p) => {
            body.extend_from_slice(&nonzero(p.pkid)?);
            0x40
        }
        Packet::PubRec(p) => {
            body.extend_from_slice(&nonzero(p.pkid)?);
            0x50
        }
        Packet::PubRel(p) => {
            body.extend_from_slice(&nonzero(p.pkid)?);
            0x62
        }
        Packet::PubComp(p) => {
            body.extend_from_slice(&nonzero(p.pkid)?);
            0x70
        }
        Packet::Subscribe(s) => {
            body.extend_from_slice(&nonzero(s.pkid)?);
            if s.filters.is_empty() {
                return Err(CodecError::Empty);
            }
            for f in &s.filters {
                put_topic(&mut body, &f.path)?;
                body.push(qos_bits(f.qos));
            }
            0x82
        }
        Packet::SubAck(s) => {
            body.extend_from_slice(&nonzero(s.pkid)?);
            if s.return_codes.is_empty() {
                return Err(CodecError::Empty);
            }
            body.extend(s.return_codes.iter().map(|c| match c {
                SubscribeReasonCode::Success(q) => qos_bits(*q),
                SubscribeReasonCode::Failure => 0x80,
            }));
            0x90
        }
        Packet::Unsubscribe(u) => {
            body.extend_from_slice(&nonzero(u.pkid)?);
            if u.topics.is_empty() {
                return Err(CodecError::Empty);
            }
            for t in &u.topics {
                put_topic(&mut body, t)?;
            }
            0xA2
        }
        Packet::UnsubAck(u) => {
            body.extend_from_slice(&nonzero(u.pkid)?);
            0xB0
        }
        Packet::PingReq => 0xC0,
        Packet::PingResp => 0xD0,
        Packet::Disconnect => 0xE0,
    };
    if body.len() > MAX_REMAINING_LENGTH {
        return Err(CodecError::PacketTooLong(body.len()));
    }
    let start = out.len();
    out.reserve(5 + body.len());
    out.put_u8(byte1);
    let mut n = body.len();
    loop {
        let digit = (n % 128) as u8;
        n /= 128;
        if n == 0 {
            out.put_u8(digit);
            break;
        }
        out.put_u8(digit | 0x80);
    }
    out.extend_from_slice(&body);
    Ok(out.len() - start)
}

/// The packet's bytes.
pub fn encode(packet: &Packet) -> Result<Vec<u8>, CodecError> {
    let mut out = BytesMut::new();
    write(packet, &mut out)?;
    Ok(out.to_vec())
}

#[cfg(test)]
mod tests;

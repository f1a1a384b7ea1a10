//! What localhub reads from a client, through the types it uses: bytes in any split, framed by
//! mqttbytes v4 as `localhub/src/wire.rs` frames them (at most localhub's default packet size),
//! then each packet as the hub (`localhub/src/mqtt.rs`) and its DPS (`localhub/src/dps`) take
//! it: CONNECT's user name (hub or DPS) and SAS password, PUBLISH topics and JSON payloads,
//! SUBSCRIBE filters.
#![no_main]
use bytes::BytesMut;
use hubcert::contract::{
    DpsTopic, DpsUserName, MqttUserName, RegistrationRequest, SasToken, Topic, TopicFilter,
};
use libfuzzer_sys::fuzz_target;
use mqttbytes::v4::{self, Packet};
use mqttbytes::QoS;

/// localhub's `max_packet_bytes` default.
const MAX: usize = 256 * 1024;
const HOST: &str = "fuzz.azure-devices.net";
const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

fn connect(c: &v4::Connect) {
    let Some(login) = &c.login else { return };
    if let Ok(u) = DpsUserName::parse(&login.username) {
        let _ = u.registration_id == c.client_id;
        return;
    }
    let expected = MqttUserName::new(HOST, &c.client_id);
    if let Ok(u) = MqttUserName::parse(&login.username) {
        let _ = u.host.eq_ignore_ascii_case(&expected.host) && u.device_id == c.client_id;
    }
    if let Ok(token) = SasToken::parse(&login.password) {
        let resource = format!("{HOST}/devices/{}", c.client_id);
        let _ = token.verify(&resource, &[KEY, KEY], 1_700_000_000);
    }
}

fn publish(p: &v4::Publish) {
    if p.qos == QoS::ExactlyOnce {
        return;
    }
    match Topic::parse(&p.topic) {
        Ok(Topic::TwinReportedPatch { .. }) => {
            let _: Result<serde_json::Map<String, serde_json::Value>, _> =
                serde_json::from_slice(&p.payload);
        }
        Ok(t) => {
            let _ = t.to_string();
        }
        Err(_) => {}
    }
    match DpsTopic::parse(&p.topic) {
        Ok(DpsTopic::Register { rid }) => {
            let _: Result<RegistrationRequest, _> = serde_json::from_slice(&p.payload);
            let _ = DpsTopic::Response {
                status: 202,
                rid,
                retry_after: Some(1),
            }
            .to_string();
        }
        Ok(t) => {
            let _ = t.to_string();
        }
        Err(_) => {}
    }
    let mut out = BytesMut::new();
    let _ = v4::PubAck::new(p.pkid).write(&mut out);
}

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let mut buf = BytesMut::with_capacity(4096);
    'reading: for chunk in rest.chunks(usize::from(split).max(1)) {
        buf.extend_from_slice(chunk);
        loop {
            match v4::read(&mut buf, MAX) {
                Ok(Packet::Connect(c)) => connect(&c),
                Ok(Packet::Publish(p)) => publish(&p),
                Ok(Packet::Subscribe(s)) => {
                    for f in &s.filters {
                        if let Some(f) = TopicFilter::parse(&f.path) {
                            let _ = f.to_string();
                        }
                    }
                }
                Ok(_) => {}
                Err(mqttbytes::Error::InsufficientBytes(_)) => break,
                Err(_) => break 'reading,
            }
        }
    }
});

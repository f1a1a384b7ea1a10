//! What localhub reads from a client, through the types it uses: bytes in any split, framed by the
//! core's MQTT codec as `localhub/src/wire.rs` frames them (at most localhub's default packet
//! size), each packet written back and read again the same, then taken as the hub
//! (`localhub/src/mqtt.rs`) and its DPS (`localhub/src/dps`) take it: CONNECT's user name (hub or
//! DPS) and SAS password, PUBLISH topics and JSON payloads, SUBSCRIBE filters, and the answers.
#![no_main]
use bytes::BytesMut;
use hubcert::contract::{
    DpsTopic, DpsUserName, MqttUserName, RegistrationRequest, SasToken, Topic, TopicFilter,
};
use hubcert::mqtt::{self, Packet, PubAck, QoS, SubAck, SubscribeReasonCode};
use libfuzzer_sys::fuzz_target;

/// localhub's `max_packet_bytes` default.
const MAX: usize = 256 * 1024;
const HOST: &str = "fuzz.azure-devices.net";
const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

fn connect(c: &mqtt::Connect) {
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

fn publish(p: &mqtt::Publish) {
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
    if p.qos == QoS::AtLeastOnce {
        answer(&Packet::PubAck(PubAck::new(p.pkid)));
    }
}

/// What localhub sends back is written without error.
fn answer(packet: &Packet) {
    let mut out = BytesMut::new();
    mqtt::write(packet, &mut out).unwrap();
}

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let mut buf = BytesMut::with_capacity(4096);
    for chunk in rest.chunks(usize::from(split).max(1)) {
        buf.extend_from_slice(chunk);
        loop {
            let packet = match mqtt::read_from(&mut buf, MAX) {
                Ok(Some(p)) => p,
                Ok(None) => break,
                Err(_) => return,
            };
            let bytes = mqtt::encode(&packet).unwrap();
            assert_eq!(
                mqtt::read(&bytes, MAX),
                Ok(Some((packet.clone(), bytes.len())))
            );
            match &packet {
                Packet::Connect(c) => connect(c),
                Packet::Publish(p) => publish(p),
                Packet::Subscribe(s) => {
                    let codes = s
                        .filters
                        .iter()
                        .map(|f| match TopicFilter::parse(&f.path) {
                            Some(f) => {
                                let _ = f.to_string();
                                SubscribeReasonCode::Success(QoS::AtMostOnce)
                            }
                            None => SubscribeReasonCode::Failure,
                        })
                        .collect();
                    answer(&Packet::SubAck(SubAck::new(s.pkid, codes)));
                }
                _ => {}
            }
        }
    }
});

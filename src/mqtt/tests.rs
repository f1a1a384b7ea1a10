//! The session against byte sequences written out from the MQTT 3.1.1 specification's packet
//! layouts (OASIS, sections 2 and 3), including malformed and truncated input.

use super::*;

fn options() -> ConnectOptions {
    ConnectOptions {
        client_id: "d1".into(),
        username: "u".into(),
        password: None,
        keep_alive_secs: 60,
        clean_session: true,
    }
}

fn connected() -> Session {
    let mut s = Session::connect(&options(), 0).unwrap();
    s.take_outgoing();
    let events = s.receive(&[0x20, 0x02, 0x00, 0x00], 5).unwrap();
    assert_eq!(
        events,
        vec![Event::Connected {
            session_present: false
        }]
    );
    s
}

#[test]
fn connect_is_encoded_as_the_specification_lays_it_out() {
    let mut s = Session::connect(&options(), 0).unwrap();
    // 3.1: fixed header 0x10, remaining length 17; "MQTT", level 4, flags user name + clean
    // session (0x82), keep-alive 60; payload: client id, user name (no password field).
    assert_eq!(
        s.take_outgoing(),
        vec![vec![
            0x10, 0x11, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0x82, 0x00, 0x3C, 0x00, 0x02,
            b'd', b'1', 0x00, 0x01, b'u'
        ]]
    );
    let mut with_password = options();
    with_password.password = Some("p".into());
    let frame = Session::connect(&with_password, 0).unwrap().take_outgoing();
    assert_eq!(frame[0][9], 0xC2, "user name + password + clean session");
    assert_eq!(&frame[0][frame[0].len() - 3..], &[0x00, 0x01, b'p']);
}

#[test]
fn connack_codes_map_to_refusals_and_end_the_session() {
    for (code, refusal) in [
        (1, Refusal::ProtocolVersion),
        (2, Refusal::ClientId),
        (3, Refusal::ServerUnavailable),
        (4, Refusal::BadCredentials),
        (5, Refusal::NotAuthorized),
    ] {
        let mut s = Session::connect(&options(), 0).unwrap();
        let events = s.receive(&[0x20, 0x02, 0x00, code], 1).unwrap();
        assert_eq!(events, vec![Event::Refused(refusal)]);
        assert_eq!(refusal.code(), code);
        assert!(!s.is_connected());
        assert_eq!(
            s.publish("t", b"x", QoS::AtMostOnce, 2),
            Err(MqttError::NotConnected)
        );
    }
    let mut s = Session::connect(&options(), 0).unwrap();
    assert!(matches!(
        s.receive(&[0x20, 0x02, 0x00, 0x06], 1),
        Err(MqttError::Malformed(_))
    ));
}

#[test]
fn publish_qos0_and_qos1_with_puback_and_round_trip_time() {
    let mut s = connected();
    assert_eq!(s.publish("t", b"x", QoS::AtMostOnce, 10).unwrap(), 0);
    // 3.3: 0x30 (QoS 0), remaining 4, topic "t", payload "x".
    assert_eq!(
        s.take_outgoing(),
        vec![vec![0x30, 0x04, 0x00, 0x01, b't', b'x']]
    );
    let id = s.publish("t", b"x", QoS::AtLeastOnce, 10).unwrap();
    assert_eq!(id, 1);
    // 0x32 (QoS 1), remaining 6, topic, packet id 1, payload.
    assert_eq!(
        s.take_outgoing(),
        vec![vec![0x32, 0x06, 0x00, 0x01, b't', 0x00, 0x01, b'x']]
    );
    assert_eq!(s.in_flight(), 1);
    // 3.4: PUBACK 0x40 0x02 + id.
    let events = s.receive(&[0x40, 0x02, 0x00, 0x01], 35).unwrap();
    assert_eq!(
        events,
        vec![Event::Acknowledged {
            pkid: 1,
            rtt_ms: 25
        }]
    );
    assert_eq!(s.in_flight(), 0);
    // A second PUBACK for the same id acknowledges nothing: protocol error.
    assert_eq!(
        s.receive(&[0x40, 0x02, 0x00, 0x01], 36),
        Err(MqttError::Unexpected("PUBACK for nothing sent"))
    );
    assert!(!s.is_connected());
}

#[test]
fn qos2_is_refused_before_anything_is_sent() {
    let mut s = connected();
    assert!(matches!(
        s.publish("t", b"x", QoS::ExactlyOnce, 1),
        Err(MqttError::Encode(_))
    ));
    assert!(s.take_outgoing().is_empty());
}

#[test]
fn subscribe_and_suback_with_granted_and_refused_filters() {
    let mut s = connected();
    let id = s.subscribe("a/#", QoS::AtLeastOnce, 0).unwrap();
    // 3.8: 0x82, remaining 8, packet id, filter "a/#", requested QoS 1.
    assert_eq!(
        s.take_outgoing(),
        vec![vec![
            0x82, 0x08, 0x00, 0x01, 0x00, 0x03, b'a', b'/', b'#', 0x01
        ]]
    );
    // 3.9: SUBACK, return code 1 (granted QoS 1).
    let events = s.receive(&[0x90, 0x03, 0x00, 0x01, 0x01], 1).unwrap();
    assert_eq!(
        events,
        vec![Event::Subscribed {
            pkid: id,
            granted: vec![Some(QoS::AtLeastOnce)]
        }]
    );
    let id = s.subscribe("b", QoS::AtMostOnce, 2).unwrap();
    let events = s.receive(&[0x90, 0x03, 0x00, id as u8, 0x80], 3).unwrap();
    assert_eq!(
        events,
        vec![Event::Subscribed {
            pkid: id,
            granted: vec![None]
        }]
    );
}

#[test]
fn incoming_qos1_publish_is_acknowledged_and_delivered() {
    let mut s = connected();
    // Topic "a/b", packet id 10, payload "hi".
    let frame = [
        0x32, 0x09, 0x00, 0x03, b'a', b'/', b'b', 0x00, 0x0A, b'h', b'i',
    ];
    let events = s.receive(&frame, 1).unwrap();
    assert_eq!(
        events,
        vec![Event::Message {
            topic: "a/b".into(),
            payload: b"hi".to_vec(),
            qos: QoS::AtLeastOnce
        }]
    );
    assert_eq!(s.take_outgoing(), vec![vec![0x40, 0x02, 0x00, 0x0A]]);
}

#[test]
fn packets_split_anywhere_or_joined_give_the_same_events() {
    let stream: Vec<u8> = [
        &[0x20, 0x02, 0x00, 0x00][..],
        &[0x30, 0x05, 0x00, 0x01, b't', b'o', b'k'],
    ]
    .concat();
    let whole = {
        let mut s = Session::connect(&options(), 0).unwrap();
        s.receive(&stream, 1).unwrap()
    };
    assert_eq!(whole.len(), 2, "{whole:?}");
    assert!(
        matches!(&whole[1], Event::Message { topic, payload, .. } if topic == "t" && payload == b"ok")
    );
    // Byte by byte: nothing happens until a packet is complete.
    let mut s = Session::connect(&options(), 0).unwrap();
    let mut seen = Vec::new();
    for b in &stream {
        seen.extend(s.receive(&[*b], 1).unwrap());
    }
    assert_eq!(seen, whole);
    // A PINGRESP without a ping is a protocol error.
    assert_eq!(
        s.receive(&[0xD0, 0x00], 1),
        Err(MqttError::Unexpected("PINGRESP without PINGREQ"))
    );
}

#[test]
fn malformed_and_out_of_place_packets_end_the_session_with_a_reason() {
    let cases: [(&[u8], &str); 8] = [
        // Remaining length longer than four bytes (2.2.3).
        (&[0x20, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], "Malformed"),
        // Packet type 0 and 15 are reserved (2.2.1).
        (&[0x00, 0x00], "Malformed"),
        (&[0xF0, 0x00], "Malformed"),
        // A server never sends CONNECT, SUBSCRIBE or PINGREQ.
        (&[0xC0, 0x00], "Unexpected"),
        // CONNACK with a remaining length of 3: a byte after its last field (3.2).
        (
            &[0x20, 0x03, 0x00, 0x00, 0x00],
            "Malformed(TrailingBytes(1))",
        ),
        // A server never sends a CONNACK twice.
        (&[0x20, 0x02, 0x00, 0x00], "Unexpected"),
        // QoS 2 exchanges are not part of IoT Hub.
        (&[0x50, 0x02, 0x00, 0x01], "Unexpected"),
        // 100 MB announced.
        (&[0x30, 0x80, 0x80, 0x80, 0x30], "TooLarge"),
    ];
    for (bytes, kind) in cases {
        let mut s = connected();
        let err = s.receive(bytes, 1).unwrap_err();
        assert!(
            format!("{err:?}").starts_with(kind),
            "{bytes:02X?}: {err:?}"
        );
        assert!(!s.is_connected(), "{bytes:02X?}");
        assert!(!err.to_string().is_empty());
    }
    // Before CONNACK only CONNACK is allowed.
    let mut s = Session::connect(&options(), 0).unwrap();
    assert_eq!(
        s.receive(&[0x40, 0x02, 0x00, 0x01], 1),
        Err(MqttError::Unexpected("packet before CONNACK"))
    );
    // A truncated packet is kept, not an error, until the rest comes.
    let mut s = connected();
    assert_eq!(s.receive(&[0x40, 0x02, 0x00], 1), Ok(vec![]));
    assert!(s.is_connected());
}

#[test]
fn keep_alive_pings_when_idle_and_gives_up_without_an_answer() {
    let mut s = connected();
    s.tick(59_999).unwrap();
    assert!(s.take_outgoing().is_empty());
    s.tick(60_000).unwrap();
    assert_eq!(s.take_outgoing(), vec![vec![0xC0, 0x00]]);
    s.tick(61_000).unwrap();
    assert!(s.take_outgoing().is_empty(), "one ping at a time");
    assert_eq!(
        s.receive(&[0xD0, 0x00], 60_040).unwrap(),
        vec![Event::Pong { rtt_ms: 40 }]
    );
    // Sending resets the idle clock.
    s.publish("t", b"x", QoS::AtMostOnce, 100_000).unwrap();
    s.take_outgoing();
    s.tick(159_999).unwrap();
    assert!(s.take_outgoing().is_empty());
    s.tick(160_000).unwrap();
    assert_eq!(s.take_outgoing().len(), 1);
    assert_eq!(s.tick(220_000), Err(MqttError::KeepAliveTimeout));
    assert!(!s.is_connected());
}

#[test]
fn disconnect_is_sent_once() {
    let mut s = connected();
    s.disconnect(1);
    s.disconnect(2);
    assert_eq!(s.take_outgoing(), vec![vec![0xE0, 0x00]]);
}

#[test]
fn packets_are_described_for_the_log() {
    let mut s = Session::connect(&options(), 0).unwrap();
    assert_eq!(
        describe(&s.take_outgoing()[0]),
        "CONNECT client id d1 keep-alive 60s"
    );
    assert_eq!(describe(&[0x20, 0x02, 0x00, 0x05]), "CONNACK 5");
    assert_eq!(
        describe(&[0x32, 0x06, 0x00, 0x01, b't', 0x00, 0x07, b'x']),
        "PUBLISH t QoS 1 id 7 (1 bytes)"
    );
    assert!(describe(&[0xF0]).starts_with("unreadable"));
}

#[test]
fn iot_hub_names_and_topics() {
    use crate::contract::{websocket_url, MqttUserName, PropertyBag, Topic, TopicFilter};
    assert_eq!(
        MqttUserName::new("myhub.azure-devices.net", "dev-1").to_string(),
        "myhub.azure-devices.net/dev-1/?api-version=2021-04-12"
    );
    assert_eq!(
        websocket_url("localhost:8884", true),
        "wss://localhost:8884/$iothub/websocket?iothub-no-client-cert=true"
    );
    assert_eq!(
        Topic::telemetry("d", &[("alert level".into(), "high&urgent".into())]).to_string(),
        "devices/d/messages/events/alert%20level=high%26urgent"
    );
    assert_eq!(
        Topic::telemetry("d", &[]).to_string(),
        "devices/d/messages/events/"
    );
    assert_eq!(
        TopicFilter::CloudToDevice {
            device_id: "d".into()
        }
        .to_string(),
        "devices/d/messages/devicebound/#"
    );
    assert_eq!(
        Topic::TwinGet { rid: "7".into() }.to_string(),
        "$iothub/twin/GET/?$rid=7"
    );
    assert_eq!(
        Topic::TwinReportedPatch { rid: "8".into() }.to_string(),
        "$iothub/twin/PATCH/properties/reported/?$rid=8"
    );
    assert_eq!(
        Topic::parse("$iothub/twin/res/204/?$rid=8&$version=5"),
        Ok(Topic::TwinResponse {
            status: 204,
            rid: "8".into(),
            version: Some(5)
        })
    );
    assert!(!matches!(
        Topic::parse("devices/d/messages/devicebound/"),
        Ok(Topic::TwinResponse { .. })
    ));
    assert_eq!(
        Topic::parse("devices/d/messages/devicebound/%24.mid=1&color=dark%20red"),
        Ok(Topic::CloudToDevice {
            device_id: "d".into(),
            properties: PropertyBag(vec![
                ("$.mid".into(), "1".into()),
                ("color".into(), "dark red".into())
            ])
        })
    );
    let x509 = refusal_advice(Refusal::NotAuthorized, true);
    assert!(x509[0].contains("not verified") && x509.len() == 5);
    assert!(refusal_advice(Refusal::NotAuthorized, false)[0].contains("SAS"));
}

#[test]
fn exhausted_packet_ids_are_an_error_not_a_hang() {
    let mut s = connected();
    for i in 0..u32::from(u16::MAX) {
        s.publish("t", b"x", QoS::AtLeastOnce, u64::from(i))
            .expect("a free packet id");
    }
    assert_eq!(s.in_flight(), 65_535);
    assert_eq!(
        s.publish("t", b"x", QoS::AtLeastOnce, 70_000),
        Err(MqttError::PacketIdsExhausted)
    );
    assert_eq!(
        s.subscribe("f", QoS::AtMostOnce, 70_000),
        Err(MqttError::PacketIdsExhausted)
    );
    // QoS 0 needs no id.
    assert_eq!(s.publish("t", b"x", QoS::AtMostOnce, 70_000), Ok(0));
}

#[test]
fn unacknowledged_publishes_time_out_and_free_their_ids() {
    let mut s = connected();
    let a = s.publish("t", b"1", QoS::AtLeastOnce, 1_000).unwrap();
    let b = s.publish("t", b"2", QoS::AtLeastOnce, 20_000).unwrap();
    assert!(s.expire_unacknowledged(30_999).is_empty());
    assert_eq!(s.expire_unacknowledged(31_000), vec![a]);
    assert_eq!(s.in_flight(), 1);
    assert_eq!(s.expire_unacknowledged(50_000), vec![b]);
    assert_eq!(s.in_flight(), 0);
    // A late PUBACK for one given up on is ignored; a PUBACK for nothing is still an error.
    assert_eq!(s.receive(&[0x40, 0x02, 0x00, a as u8], 51_000), Ok(vec![]));
    assert!(s.receive(&[0x40, 0x02, 0x00, a as u8], 52_000).is_err());
}

//! The device session against frames as IoT Hub sends them (topics from Microsoft's MQTT support
//! page), decoded by the codec: what goes out, and what each answer becomes.

use super::*;
use crate::mqtt::{encode, read, Packet, Publish, SubAck, Subscribe, SubscribeReasonCode};

fn options() -> ConnectOptions {
    ConnectOptions {
        client_id: "dev-1".into(),
        username: "hub.azure-devices.net/dev-1/?api-version=2021-04-12".into(),
        password: None,
        keep_alive_secs: 60,
        clean_session: true,
    }
}

/// What the hub sends: a QoS 0 PUBLISH.
fn from_hub(topic: &str, body: &[u8]) -> Vec<u8> {
    encode(&Packet::Publish(Publish::new(topic, QoS::AtMostOnce, body))).expect("encodes")
}

/// The packets the device sent.
fn sent(s: &mut DeviceSession) -> Vec<Packet> {
    s.take_outgoing()
        .into_iter()
        .map(|f| match read(&f, usize::MAX) {
            Ok(Some((p, _))) => p,
            other => panic!("not one packet: {other:?}"),
        })
        .collect()
}

/// Connected, the four SUBSCRIBEs read: their packet ids and filters.
fn connected() -> (DeviceSession, Vec<Subscribe>) {
    let mut s = DeviceSession::connect(&options(), 0).expect("connect");
    assert!(matches!(sent(&mut s)[..], [Packet::Connect(_)]));
    let events = s.receive(&[0x20, 0x02, 0x00, 0x00], 5).expect("connack");
    assert_eq!(events, vec![DeviceEvent::Connected]);
    let subscribes = sent(&mut s)
        .into_iter()
        .map(|p| match p {
            Packet::Subscribe(s) => s,
            other => panic!("expected SUBSCRIBE, got {other:?}"),
        })
        .collect();
    (s, subscribes)
}

#[test]
fn on_connack_the_device_subscribes_to_what_a_device_receives() {
    let (mut s, subscribes) = connected();
    let filters: Vec<_> = subscribes
        .iter()
        .flat_map(|s| s.filters.iter().map(|f| f.path.clone()))
        .collect();
    assert_eq!(
        filters,
        [
            "devices/dev-1/messages/devicebound/#",
            "$iothub/twin/res/#",
            "$iothub/twin/PATCH/properties/desired/#",
            "$iothub/methods/POST/#",
        ]
    );
    // The hub grants the first and refuses the last: each answer names its filter.
    let granted = encode(&Packet::SubAck(SubAck::new(
        subscribes[0].pkid,
        vec![SubscribeReasonCode::Success(QoS::AtLeastOnce)],
    )))
    .expect("suback");
    let refused = encode(&Packet::SubAck(SubAck::new(
        subscribes[3].pkid,
        vec![SubscribeReasonCode::Failure],
    )))
    .expect("suback");
    assert_eq!(
        s.receive(&[granted, refused].concat(), 10)
            .expect("subacks"),
        vec![
            DeviceEvent::Subscribed {
                filter: "devices/dev-1/messages/devicebound/#".into(),
                refused: false
            },
            DeviceEvent::Subscribed {
                filter: "$iothub/methods/POST/#".into(),
                refused: true
            },
        ]
    );
}

#[test]
fn twin_answers_are_read_by_request_id() {
    let (mut s, _) = connected();
    let get = s.request_twin(20).expect("get");
    let patch = s
        .patch_reported(&serde_json::json!({"firmware": "1.2"}), 21)
        .expect("patch");
    assert_ne!(get, patch);
    assert_eq!(s.twin_requests_pending(), 2);
    let topics: Vec<_> = sent(&mut s)
        .into_iter()
        .map(|p| match p {
            Packet::Publish(p) => (p.topic, String::from_utf8_lossy(&p.payload).into_owned()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        topics,
        [
            (format!("$iothub/twin/GET/?$rid={get}"), String::new()),
            (
                format!("$iothub/twin/PATCH/properties/reported/?$rid={patch}"),
                r#"{"firmware":"1.2"}"#.to_owned()
            ),
        ]
    );
    // Answers in the other order: each is matched by its request id, not by arrival.
    let patched = from_hub(
        &format!("$iothub/twin/res/204/?$rid={patch}&$version=7"),
        b"",
    );
    let twin = from_hub(
        &format!("$iothub/twin/res/200/?$rid={get}"),
        br#"{"desired":{"$version":1},"reported":{"$version":7}}"#,
    );
    let events = s.receive(&[patched, twin].concat(), 30).expect("answers");
    assert_eq!(
        events,
        vec![
            DeviceEvent::ReportedUpdated {
                rid: patch,
                version: Some(7)
            },
            DeviceEvent::Twin {
                rid: get,
                document: serde_json::json!({"desired":{"$version":1},"reported":{"$version":7}}),
            },
        ]
    );
    assert_eq!(s.twin_requests_pending(), 0);
}

#[test]
fn a_refused_or_unreadable_twin_answer_is_a_failure_with_the_hubs_words() {
    let (mut s, _) = connected();
    let get = s.request_twin(20).expect("get");
    let patch = s
        .patch_reported(&serde_json::json!({"a": 1}), 20)
        .expect("patch");
    let throttled = from_hub(
        &format!("$iothub/twin/res/429/?$rid={patch}"),
        br#"{"errorCode":429001}"#,
    );
    let garbled = from_hub(&format!("$iothub/twin/res/200/?$rid={get}"), b"not json");
    let stray = from_hub("$iothub/twin/res/200/?$rid=999", b"{}");
    let events = s
        .receive(&[throttled, garbled, stray].concat(), 30)
        .expect("answers");
    assert!(
        matches!(&events[0], DeviceEvent::TwinFailed { rid, request: Some(TwinRequest::ReportedPatch), status: 429, body } if *rid == patch && body.contains("429001")),
        "{events:?}"
    );
    assert!(
        matches!(&events[1], DeviceEvent::TwinFailed { request: Some(TwinRequest::Get), status: 200, body, .. } if body.contains("not JSON")),
        "{events:?}"
    );
    assert!(
        matches!(&events[2], DeviceEvent::TwinFailed { request: None, .. }),
        "an answer to no request of this session: {events:?}"
    );
}

#[test]
fn reported_properties_must_be_an_object_and_nothing_goes_out_otherwise() {
    let (mut s, _) = connected();
    for bad in [serde_json::json!([1, 2]), serde_json::json!("text")] {
        assert!(matches!(
            s.patch_reported(&bad, 20),
            Err(MqttError::Encode(m)) if m.contains("JSON object")
        ));
    }
    assert!(sent(&mut s).is_empty());
    assert_eq!(s.twin_requests_pending(), 0);
}

#[test]
fn cloud_to_device_messages_desired_patches_and_methods_are_told_apart() {
    let (mut s, _) = connected();
    let c2d = from_hub(
        "devices/dev-1/messages/devicebound/%24.mid=m1&color=red",
        b"hello",
    );
    let other = from_hub("devices/dev-2/messages/devicebound/", b"not mine");
    let desired = from_hub(
        "$iothub/twin/PATCH/properties/desired/?$version=4",
        br#"{"interval":30,"$version":4}"#,
    );
    let method = from_hub("$iothub/methods/POST/reboot/?$rid=abc", br#"{"delay":5}"#);
    let events = s
        .receive(&[c2d, other, desired, method].concat(), 40)
        .expect("messages");
    assert_eq!(
        events,
        vec![
            DeviceEvent::CloudToDevice {
                body: b"hello".to_vec(),
                properties: vec![
                    ("$.mid".into(), "m1".into()),
                    ("color".into(), "red".into())
                ],
            },
            DeviceEvent::Unexpected {
                topic: "devices/dev-2/messages/devicebound/".into(),
                bytes: 8
            },
            DeviceEvent::DesiredChanged {
                version: Some(4),
                patch: serde_json::json!({"interval":30,"$version":4}),
            },
            DeviceEvent::MethodCall {
                name: "reboot".into(),
                rid: "abc".into(),
                payload: br#"{"delay":5}"#.to_vec(),
            },
        ]
    );
    s.answer_method("abc", 200, &serde_json::json!({"rebooting": true}), 41)
        .expect("answer");
    match &sent(&mut s)[..] {
        [Packet::Publish(p)] => {
            assert_eq!(p.topic, "$iothub/methods/res/200/?$rid=abc");
            assert_eq!(&p.payload[..], &br#"{"rebooting":true}"#[..]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn telemetry_goes_to_the_devices_events_topic_with_its_properties() {
    let (mut s, _) = connected();
    let pkid = s
        .send_telemetry(
            br#"{"t":21.5}"#,
            &[("$.ct".into(), "application/json".into())],
            QoS::AtLeastOnce,
            50,
        )
        .expect("sent");
    assert_ne!(pkid, 0);
    match &sent(&mut s)[..] {
        [Packet::Publish(p)] => {
            assert!(
                p.topic.starts_with("devices/dev-1/messages/events/"),
                "{}",
                p.topic
            );
            assert!(p.topic.contains("application%2Fjson"), "{}", p.topic);
        }
        other => panic!("{other:?}"),
    }
    let puback = [0x40, 0x02, (pkid >> 8) as u8, pkid as u8];
    assert_eq!(
        s.receive(&puback, 80).expect("puback"),
        vec![DeviceEvent::Acknowledged { pkid, rtt_ms: 30 }]
    );
}

#[test]
fn a_message_never_acknowledged_is_reported_lost_once() {
    use crate::mqtt::ACK_TIMEOUT_MS;
    let (mut s, _) = connected();
    let pkid = s
        .send_telemetry(b"{}", &[], QoS::AtLeastOnce, 100)
        .expect("sent");
    assert_eq!(s.tick(100 + ACK_TIMEOUT_MS - 1).expect("tick"), vec![]);
    assert_eq!(
        s.tick(100 + ACK_TIMEOUT_MS).expect("tick"),
        vec![DeviceEvent::Lost { pkid }]
    );
    assert_eq!(s.tick(100 + ACK_TIMEOUT_MS + 1).expect("tick"), vec![]);
}

#[test]
fn nothing_is_sent_before_connack_and_a_refusal_ends_it() {
    let mut s = DeviceSession::connect(&options(), 0).expect("connect");
    s.take_outgoing();
    assert!(matches!(s.request_twin(1), Err(MqttError::NotConnected)));
    assert_eq!(s.twin_requests_pending(), 0);
    assert_eq!(
        s.receive(&[0x20, 0x02, 0x00, 0x05], 2).expect("connack"),
        vec![DeviceEvent::Refused(Refusal::NotAuthorized)]
    );
    assert!(!s.is_connected());
    assert!(sent(&mut s).is_empty(), "no subscriptions after a refusal");
}

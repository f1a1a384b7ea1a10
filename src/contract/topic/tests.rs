use super::*;

fn bag(pairs: &[(&str, &str)]) -> PropertyBag {
    PropertyBag(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    )
}

#[test]
fn user_name_round_trips_and_sdk_queries_are_accepted() {
    let u = MqttUserName::new("myhub.azure-devices.net", "dev-1");
    assert_eq!(
        u.to_string(),
        "myhub.azure-devices.net/dev-1/?api-version=2021-04-12"
    );
    assert_eq!(MqttUserName::parse(&u.to_string()), Ok(u));
    let node = "h/d/?api-version=2020-09-30&DeviceClientType=azure-iot-device%2F1.18.4";
    assert_eq!(MqttUserName::parse(node), Ok(MqttUserName::new("h", "d")));
    for bad in ["", "h", "h/d", "/d/?x", "h//?x", "h/d/x"] {
        assert!(MqttUserName::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn every_topic_round_trips() {
    let topics = [
        Topic::telemetry("d", &[("alert level".into(), "high&urgent".into())]),
        Topic::Telemetry {
            device_id: "d".into(),
            properties: PropertyBag::default(),
        },
        Topic::CloudToDevice {
            device_id: "d-1".into(),
            properties: bag(&[("a", "1"), ("$.mid", "x y")]),
        },
        Topic::TwinGet { rid: "7".into() },
        Topic::TwinReportedPatch { rid: "8".into() },
        Topic::TwinResponse {
            status: 204,
            rid: "8".into(),
            version: Some(5),
        },
        Topic::TwinResponse {
            status: 200,
            rid: "c0ffee".into(),
            version: None,
        },
        Topic::TwinDesiredPatch { version: Some(3) },
        Topic::MethodRequest {
            name: "reboot".into(),
            rid: "1".into(),
        },
        Topic::MethodResponse {
            status: 200,
            rid: "1".into(),
        },
    ];
    for t in topics {
        assert_eq!(Topic::parse(&t.to_string()), Ok(t.clone()), "{t}");
    }
}

#[test]
fn topics_read_as_the_hub_writes_them() {
    assert_eq!(
        Topic::telemetry("d", &[("alert level".into(), "high&urgent".into())]).to_string(),
        "devices/d/messages/events/alert%20level=high%26urgent"
    );
    assert_eq!(
        Topic::telemetry("d", &[]).to_string(),
        "devices/d/messages/events/"
    );
    // Some SDKs publish telemetry without the trailing slash.
    assert_eq!(
        Topic::parse("devices/d/messages/events"),
        Ok(Topic::telemetry("d", &[]))
    );
    assert_eq!(
        Topic::parse("$iothub/twin/res/200/?$rid=x"),
        Ok(Topic::TwinResponse {
            status: 200,
            rid: "x".into(),
            version: None
        })
    );
    assert!(matches!(
        Topic::parse("$iothub/twin/res/200/?$version=1"),
        Err(TopicError::MissingRequestId { .. })
    ));
    assert!(matches!(
        Topic::parse("devices/a/b/messages/events/"),
        Err(TopicError::Unknown { .. })
    ));
    assert!(matches!(
        Topic::parse("devices/d/messages/eventsx"),
        Err(TopicError::Unknown { .. })
    ));
}

#[test]
fn filters_round_trip_and_others_are_not_granted() {
    for f in [
        TopicFilter::CloudToDevice {
            device_id: "d".into(),
        },
        TopicFilter::TwinResponses,
        TopicFilter::TwinDesired,
        TopicFilter::Methods,
    ] {
        assert_eq!(TopicFilter::parse(&f.to_string()), Some(f.clone()));
    }
    assert_eq!(TopicFilter::parse("#"), None);
    // A wildcard is read as an id, which is not the subscriber's: the server refuses it.
    assert_eq!(
        TopicFilter::parse("devices/+/messages/devicebound/#"),
        Some(TopicFilter::CloudToDevice {
            device_id: "+".into()
        })
    );
}

#[test]
fn websocket_url_marks_sas_devices() {
    assert_eq!(
        websocket_url("localhost:8884", true),
        "wss://localhost:8884/$iothub/websocket?iothub-no-client-cert=true"
    );
    assert_eq!(
        websocket_url("h:443", false),
        "wss://h:443/$iothub/websocket"
    );
}

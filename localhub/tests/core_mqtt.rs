//! The app's own MQTT session (`hubcert::mqtt`, sans-IO) driven over TLS against localhub with an
//! X.509 device certificate: telemetry, cloud-to-device, twin, and the refusals.

mod common;

use std::time::{Duration, Instant};

use common::{device, device_tls, root, start, Hub};
use hubcert::contract::{MqttUserName, Topic, TopicFilter};
use hubcert::mqtt::{refusal_advice, ConnectOptions, Event, QoS, Refusal, Session};
use hubcert::pki::Identity;
use localhub::EventKind;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

struct Device {
    tls: TlsStream<TcpStream>,
    session: Session,
    started: Instant,
}

impl Device {
    fn ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    async fn open(hub: &Hub, id: &str, identity: &Identity) -> Result<Self, std::io::Error> {
        let tls = device_tls(hub, identity).await?;
        let options = ConnectOptions {
            client_id: id.into(),
            username: MqttUserName::new("localhost", id).to_string(),
            password: None,
            keep_alive_secs: 30,
            clean_session: true,
        };
        let session = Session::connect(&options, 0).unwrap();
        let mut d = Self {
            tls,
            session,
            started: Instant::now(),
        };
        d.flush().await;
        Ok(d)
    }

    async fn flush(&mut self) {
        for frame in self.session.take_outgoing() {
            self.tls.write_all(&frame).await.unwrap();
        }
        self.tls.flush().await.unwrap();
    }

    /// Reads until the session reports something (or the server closes).
    async fn events(&mut self) -> Vec<Event> {
        let mut buf = [0u8; 4096];
        loop {
            let n = tokio::time::timeout(Duration::from_secs(10), self.tls.read(&mut buf))
                .await
                .expect("an answer within 10 s")
                .unwrap_or(0);
            if n == 0 {
                return Vec::new();
            }
            let now = self.ms();
            let events = self.session.receive(&buf[..n], now).expect("well-formed");
            self.flush().await;
            if !events.is_empty() {
                return events;
            }
        }
    }
}

#[tokio::test]
async fn the_apps_session_sends_telemetry_and_gets_c2d_and_twin_from_localhub() {
    let hub = start().await;
    let ca = root("Core Session Root");
    hub.upload_and_verify("root", &ca).await;
    hub.register_ca_device("core-dev").await;
    let identity = device(&ca, "core-dev");

    let mut dev = Device::open(&hub, "core-dev", &identity).await.unwrap();
    assert_eq!(
        dev.events().await,
        vec![Event::Connected {
            session_present: false
        }]
    );

    // Telemetry at QoS 1 with properties: PUBACK with a round-trip time, recorded by localhub.
    let topic = Topic::telemetry(
        "core-dev",
        &[
            ("$.ct".into(), "application/json".into()),
            ("alert".into(), "high temp".into()),
        ],
    )
    .to_string();
    let now = dev.ms();
    let id = dev
        .session
        .publish(&topic, br#"{"temperature":22.5}"#, QoS::AtLeastOnce, now)
        .unwrap();
    dev.flush().await;
    match dev.events().await.as_slice() {
        [Event::Acknowledged { pkid, .. }] => assert_eq!(*pkid, id),
        other => panic!("{other:?}"),
    }
    let got = hub.running.hub.telemetry(Some("core-dev"));
    let sent = got
        .iter()
        .find(|e| e.kind == EventKind::Telemetry)
        .expect("recorded");
    assert_eq!(sent.body.as_deref(), Some(r#"{"temperature":22.5}"#));
    assert_eq!(
        sent.properties.get("alert").map(String::as_str),
        Some("high temp")
    );

    // Cloud-to-device: subscribe, localhub sends, the session delivers (and acknowledges).
    let now = dev.ms();
    dev.session
        .subscribe(
            &TopicFilter::CloudToDevice {
                device_id: "core-dev".into(),
            }
            .to_string(),
            QoS::AtLeastOnce,
            now,
        )
        .unwrap();
    dev.flush().await;
    assert!(matches!(
        dev.events().await.as_slice(),
        [Event::Subscribed { granted, .. }] if granted == &[Some(QoS::AtLeastOnce)]
    ));
    let r = hub
        .http
        .post(format!(
            "{}/localhub/devices/core-dev/messages?color=red",
            hub.base
        ))
        .header(
            "Authorization",
            hub.service_token(common::now().unix_timestamp() as u64 + 3600),
        )
        .body("reboot")
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    match dev.events().await.as_slice() {
        [Event::Message { topic, payload, .. }] => {
            assert_eq!(payload, b"reboot");
            let Ok(Topic::CloudToDevice {
                device_id,
                properties,
            }) = Topic::parse(topic)
            else {
                panic!("not a c2d topic: {topic}")
            };
            assert_eq!(device_id, "core-dev");
            let props = properties.0;
            assert!(props.contains(&("color".into(), "red".into())), "{props:?}");
        }
        other => panic!("{other:?}"),
    }

    // Twin: subscribe to responses, report a property, read the twin back.
    let now = dev.ms();
    dev.session
        .subscribe(
            &TopicFilter::TwinResponses.to_string(),
            QoS::AtMostOnce,
            now,
        )
        .unwrap();
    dev.flush().await;
    assert!(matches!(
        dev.events().await.as_slice(),
        [Event::Subscribed { .. }]
    ));
    let now = dev.ms();
    dev.session
        .publish(
            &Topic::TwinReportedPatch { rid: "1".into() }.to_string(),
            br#"{"firmware":"1.2.3"}"#,
            QoS::AtMostOnce,
            now,
        )
        .unwrap();
    dev.flush().await;
    match dev.events().await.as_slice() {
        [Event::Message { topic, .. }] => {
            let r = Topic::parse(topic).expect("a twin response");
            assert!(
                matches!(&r, Topic::TwinResponse { status: 204, rid, .. } if rid == "1"),
                "{r:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    let now = dev.ms();
    dev.session
        .publish(
            &Topic::TwinGet { rid: "2".into() }.to_string(),
            b"",
            QoS::AtMostOnce,
            now,
        )
        .unwrap();
    dev.flush().await;
    match dev.events().await.as_slice() {
        [Event::Message { topic, payload, .. }] => {
            assert!(
                matches!(Topic::parse(topic), Ok(Topic::TwinResponse { status: 200, ref rid, .. }) if rid == "2"),
                "{topic}"
            );
            let twin: serde_json::Value = serde_json::from_slice(payload).unwrap();
            assert_eq!(twin["reported"]["firmware"], "1.2.3", "{twin}");
        }
        other => panic!("{other:?}"),
    }
    dev.session.disconnect(dev.ms());
    dev.flush().await;
}

#[tokio::test]
async fn a_rogue_or_unregistered_device_is_refused_with_advice() {
    let hub = start().await;
    let ca = root("Real Root");
    hub.upload_and_verify("root", &ca).await;
    hub.register_ca_device("known").await;
    let rogue = root("Rogue Root");

    for (id, identity) in [
        ("known", device(&rogue, "known")),
        ("unregistered", device(&ca, "unregistered")),
    ] {
        let mut dev = Device::open(&hub, id, &identity)
            .await
            .expect("TLS is accepted");
        assert_eq!(
            dev.events().await,
            vec![Event::Refused(Refusal::NotAuthorized)],
            "{id}"
        );
        assert!(!dev.session.is_connected(), "{id}");
        let now = dev.ms();
        assert!(dev
            .session
            .publish("t", b"x", QoS::AtMostOnce, now)
            .is_err());
    }
    assert!(refusal_advice(Refusal::NotAuthorized, true)[0].contains("not verified"));
}

/// The core's device session (`hubcert::mqtt::DeviceSession`, under the app's device test) against
/// localhub: its subscriptions are granted, twin answers are read by request id, and a
/// cloud-to-device message arrives with its properties.
#[tokio::test]
async fn the_device_session_is_granted_its_subscriptions_and_reads_the_hubs_answers() {
    use hubcert::mqtt::{DeviceEvent, DeviceSession};
    let hub = start().await;
    let ca = root("Device Session Root");
    hub.upload_and_verify("root", &ca).await;
    hub.register_ca_device("session-dev").await;
    let identity = device(&ca, "session-dev");
    let mut tls = device_tls(&hub, &identity).await.expect("tls");
    let started = Instant::now();
    let ms = || started.elapsed().as_millis() as u64;
    let options = ConnectOptions {
        client_id: "session-dev".into(),
        username: MqttUserName::new("localhost", "session-dev").to_string(),
        password: None,
        keep_alive_secs: 30,
        clean_session: true,
    };
    let mut session = DeviceSession::connect(&options, 0).expect("connect");
    let mut seen: Vec<DeviceEvent> = Vec::new();
    let mut buf = [0u8; 8192];
    // Sends what is queued, then reads until `done` holds for what was seen.
    macro_rules! until {
        ($done:expr) => {
            loop {
                for frame in session.take_outgoing() {
                    tls.write_all(&frame).await.expect("write");
                }
                tls.flush().await.expect("flush");
                if $done(&seen) {
                    break;
                }
                let n = tokio::time::timeout(Duration::from_secs(10), tls.read(&mut buf))
                    .await
                    .expect("an answer within 10 s")
                    .expect("read");
                assert_ne!(n, 0, "localhub closed the connection: {seen:?}");
                seen.extend(session.receive(&buf[..n], ms()).expect("well-formed"));
            }
        };
    }
    until!(|s: &Vec<DeviceEvent>| s
        .iter()
        .filter(|e| matches!(e, DeviceEvent::Subscribed { .. }))
        .count()
        == 4);
    assert_eq!(seen[0], DeviceEvent::Connected);
    assert!(
        seen.iter()
            .all(|e| !matches!(e, DeviceEvent::Subscribed { refused: true, .. })),
        "{seen:?}"
    );
    seen.clear();

    let patch = session
        .patch_reported(&serde_json::json!({"firmware": "2.0"}), ms())
        .expect("patch");
    let get = session.request_twin(ms()).expect("get");
    until!(|s: &Vec<DeviceEvent>| s.len() >= 2);
    assert!(
        seen.iter().any(
            |e| matches!(e, DeviceEvent::ReportedUpdated { rid, version: Some(_) } if *rid == patch)
        ),
        "{seen:?}"
    );
    assert!(
        seen.iter().any(|e| matches!(e, DeviceEvent::Twin { rid, document } if *rid == get && document["reported"]["firmware"] == "2.0")),
        "{seen:?}"
    );
    seen.clear();

    let r = hub
        .http
        .post(format!(
            "{}/localhub/devices/session-dev/messages?color=blue",
            hub.base
        ))
        .header(
            "Authorization",
            hub.service_token(common::now().unix_timestamp() as u64 + 3600),
        )
        .body("hello device")
        .send()
        .await
        .expect("sent");
    assert!(r.status().is_success(), "{}", r.status());
    until!(|s: &Vec<DeviceEvent>| !s.is_empty());
    assert!(
        matches!(&seen[..], [DeviceEvent::CloudToDevice { body, properties }]
            if body == b"hello device" && properties.contains(&("color".into(), "blue".into()))),
        "{seen:?}"
    );
    session.disconnect(ms());
    for frame in session.take_outgoing() {
        tls.write_all(&frame).await.expect("write");
    }
}

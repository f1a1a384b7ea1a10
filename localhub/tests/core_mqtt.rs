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

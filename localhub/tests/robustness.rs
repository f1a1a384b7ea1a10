//! Bad input closes only the connection that sent it; C2D, twin, one connection per device,
//! and state that survives a restart.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use rumqttc::{Event, Packet, QoS};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A raw TLS connection to localhub's MQTT port, trusting its root.
async fn raw_tls(hub: &Hub) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    let mut roots = rustls::RootCertStore::empty();
    let root = hubcert::pki::Certificate::from_pem(&hub.running.root_pem).expect("root");
    roots
        .add(rustls_pki_types::CertificateDer::from(root.der().to_vec()))
        .expect("add root");
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(hub.running.mqtt)
        .await
        .expect("tcp");
    let name = rustls_pki_types::ServerName::try_from("localhost").expect("name");
    tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .expect("tls")
}

/// Reads until the server closes; fails if it keeps the connection open.
async fn closed_by_server<S: tokio::io::AsyncRead + Unpin>(stream: &mut S) {
    let mut buf = [0u8; 256];
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(
        closed.is_ok(),
        "the server should have closed the connection"
    );
}

async fn good_device_still_connects(hub: &Hub, ca: &hubcert::pki::CertificateAuthority, id: &str) {
    hub.register_ca_device(id).await;
    let (client, mut events) = connect(hub, Via::Tls, id, Some(&device(ca, id)), "")
        .await
        .expect("a good device still connects");
    send_telemetry(&client, &mut events, id, "still here").await;
}

#[tokio::test]
async fn malformed_mqtt_closes_that_connection_only() {
    let hub = start().await;
    let ca = root("IoT Root CA");
    hub.upload_and_verify("root", &ca).await;

    // A remaining length that never ends.
    let mut bad = raw_tls(&hub).await;
    bad.write_all(&[0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x01])
        .await
        .expect("write");
    closed_by_server(&mut bad).await;

    // Not a CONNECT first.
    let mut bad = raw_tls(&hub).await;
    bad.write_all(&[0xC0, 0x00]).await.expect("write");
    closed_by_server(&mut bad).await;

    // A packet larger than IoT Hub's 256 KiB limit.
    let mut big = raw_tls(&hub).await;
    big.write_all(&[0x30, 0x80, 0x80, 0x80, 0x01])
        .await
        .expect("write"); // 2 MiB publish header
    closed_by_server(&mut big).await;

    good_device_still_connects(&hub, &ca, "after-garbage").await;
}

#[tokio::test]
async fn malformed_http_closes_that_connection_only() {
    let hub = start().await;
    let mut tcp = tokio::net::TcpStream::connect(hub.running.http)
        .await
        .expect("tcp");
    tcp.write_all(b"\x00\x01GARBAGE \xff\r\n\r\n")
        .await
        .expect("write");
    closed_by_server(&mut tcp).await;
    // Oversized body.
    let big = "x".repeat(1024 * 1024);
    let r = hub
        .arm(
            "PUT",
            &hub.cert_url("big"),
            None,
            Some(json!({"properties": {"certificate": big}})),
        )
        .await;
    assert_eq!(r.status, 413);
    let r = hub.arm("GET", &hub.cert_url("missing"), None, None).await;
    assert_eq!(r.status, 404, "REST still answers: {}", r.body);
}

#[tokio::test]
async fn qos_2_closes_the_connection() {
    let hub = start().await;
    let ca = root("IoT Root CA");
    hub.upload_and_verify("root", &ca).await;
    hub.register_ca_device("q2").await;
    let (client, mut events) = connect(&hub, Via::Tls, "q2", Some(&device(&ca, "q2")), "")
        .await
        .expect("connects");
    client
        .publish(
            "devices/q2/messages/events/",
            QoS::ExactlyOnce,
            false,
            b"x".to_vec(),
        )
        .await
        .expect("queued");
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if events.poll().await.is_err() {
                return;
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "QoS 2 must close the connection");
    assert!(hub.running.hub.telemetry(Some("q2")).is_empty());
}

#[tokio::test]
async fn cloud_to_device_and_twin_round_trip() {
    let hub = start().await;
    let ca = root("IoT Root CA");
    hub.upload_and_verify("root", &ca).await;
    hub.register_ca_device("c2d").await;
    let (client, mut events) = connect(&hub, Via::Tls, "c2d", Some(&device(&ca, "c2d")), "")
        .await
        .expect("connects");
    client
        .subscribe("devices/c2d/messages/devicebound/#", QoS::AtLeastOnce)
        .await
        .expect("sub");
    client
        .subscribe("$iothub/twin/res/#", QoS::AtMostOnce)
        .await
        .expect("sub");
    let mut subacks = 0;
    while subacks < 2 {
        if let Event::Incoming(Packet::SubAck(_)) = events.poll().await.expect("poll") {
            subacks += 1;
        }
    }

    let r = hub
        .http
        .post(format!(
            "{}/localhub/devices/c2d/messages?color=blue",
            hub.base
        ))
        .header(
            "Authorization",
            hub.service_token(now().unix_timestamp() as u64 + 3600),
        )
        .body("hello device")
        .send()
        .await
        .expect("post");
    assert_eq!(r.status().as_u16(), 202);
    client
        .publish(
            "$iothub/twin/PATCH/properties/reported/?$rid=7",
            QoS::AtMostOnce,
            false,
            br#"{"firmware":"1.2.3"}"#.to_vec(),
        )
        .await
        .expect("patch");
    client
        .publish(
            "$iothub/twin/GET/?$rid=8",
            QoS::AtMostOnce,
            false,
            Vec::new(),
        )
        .await
        .expect("get");

    let (mut c2d, mut patched, mut twin) = (None, None, None);
    tokio::time::timeout(Duration::from_secs(10), async {
        while c2d.is_none() || patched.is_none() || twin.is_none() {
            if let Event::Incoming(Packet::Publish(p)) = events.poll().await.expect("poll") {
                if p.topic.starts_with("devices/c2d/messages/devicebound/") {
                    c2d = Some((p.topic.clone(), p.payload.clone()));
                } else if p.topic.starts_with("$iothub/twin/res/204/?$rid=7") {
                    patched = Some(p.topic.clone());
                } else if p.topic.starts_with("$iothub/twin/res/200/?$rid=8") {
                    twin = Some(
                        serde_json::from_slice::<serde_json::Value>(&p.payload).expect("json"),
                    );
                }
            }
        }
    })
    .await
    .expect("C2D and twin replies arrive");
    let (topic, payload) = c2d.expect("c2d");
    assert_eq!(topic, "devices/c2d/messages/devicebound/color=blue");
    assert_eq!(&payload[..], b"hello device");
    assert!(patched.expect("patch").contains("$version=2"));
    assert_eq!(twin.expect("twin")["reported"]["firmware"], "1.2.3");
}

#[tokio::test]
async fn a_new_connection_replaces_the_old_one() {
    let hub = start().await;
    let ca = root("IoT Root CA");
    hub.upload_and_verify("root", &ca).await;
    hub.register_ca_device("twice").await;
    let identity = device(&ca, "twice");
    let (_first, mut first_events) = connect(&hub, Via::Tls, "twice", Some(&identity), "")
        .await
        .expect("first");
    let (second, mut second_events) = connect(&hub, Via::Tls, "twice", Some(&identity), "")
        .await
        .expect("second");
    let dropped = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if first_events.poll().await.is_err() {
                return;
            }
        }
    })
    .await;
    assert!(dropped.is_ok(), "the first connection must be closed");
    send_telemetry(&second, &mut second_events, "twice", "from the second").await;
}

#[tokio::test]
async fn state_survives_a_restart_with_a_data_directory() {
    let dir = tempfile::tempdir().expect("dir");
    let config = localhub::Config {
        data_dir: Some(dir.path().to_path_buf()),
        ..localhub::Config::ephemeral()
    };
    let first = localhub::start(config.clone()).await.expect("start");
    let hub = Hub {
        base: format!("http://{}", first.http),
        http: reqwest::Client::new(),
        running: first,
    };
    let ca = root("IoT Root CA");
    hub.upload_and_verify("root", &ca).await;
    hub.register_ca_device("keeper").await;
    let root_pem = hub.running.root_pem.clone();
    let connection_string = hub.running.hub.connection_string();
    hub.running.stop();

    let second = localhub::start(config).await.expect("restart");
    let hub = Hub {
        base: format!("http://{}", second.http),
        http: reqwest::Client::new(),
        running: second,
    };
    assert_eq!(
        hub.running.root_pem, root_pem,
        "the TLS root stays the same"
    );
    assert_eq!(hub.running.hub.connection_string(), connection_string);
    let r = hub.arm("GET", &hub.cert_url("root"), None, None).await;
    assert_eq!(r.body["properties"]["isVerified"], true, "{}", r.body);
    assert_eq!(hub.registry("GET", "keeper", None, None).await.status, 200);
    assert!(
        connect(&hub, Via::Tls, "keeper", Some(&device(&ca, "keeper")), "")
            .await
            .is_ok()
    );
    assert!(
        !dir.path().join("tls/root-ca.key").exists(),
        "the TLS root's key is never kept"
    );
}

#[tokio::test]
async fn a_page_reached_through_another_name_or_origin_is_refused() {
    let hub = start().await;
    let port = hub.running.http.port();
    // DNS rebinding: the page's own name in Host, on localhub's address.
    for host in [
        format!("evil.example:{port}"),
        format!("127.0.0.1.nip.io:{port}"),
    ] {
        let r = hub
            .http
            .get(format!("{}/localhub/info", hub.base))
            .header("Host", &host)
            .send()
            .await
            .expect("answer");
        assert_eq!(r.status().as_u16(), 421, "{host}");
        assert!(r.text().await.unwrap_or_default().contains("DNS rebinding"));
    }
    // Its own names pass.
    for host in [format!("127.0.0.1:{port}"), format!("localhost:{port}")] {
        let r = hub
            .http
            .get(format!("{}/localhub/info", hub.base))
            .header("Host", &host)
            .send()
            .await
            .expect("answer");
        assert_eq!(r.status().as_u16(), 200, "{host}");
    }
    // A WebSocket upgrade from another site's page.
    let upgrade_as = |origin: &'static str, protocol: &'static str| {
        hub.http
            .get(format!("{}/$iothub/websocket", hub.base))
            .header("Connection", "Upgrade")
            .header("Upgrade", "websocket")
            .header("Sec-WebSocket-Version", "13")
            .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
            .header("Sec-WebSocket-Protocol", protocol)
            .header("Origin", origin)
            .send()
    };
    let upgrade = |origin: &'static str| upgrade_as(origin, "mqtt");
    // A subprotocol offered in other letters is accepted and answered as offered (a browser fails
    // a handshake whose answer is not one of its offers).
    for offered in ["MQTT", "Mqtt"] {
        let r = upgrade_as("http://127.0.0.1:8080", offered)
            .await
            .expect("answer");
        assert_eq!(r.status().as_u16(), 101, "{offered}");
        assert_eq!(
            r.headers()
                .get("sec-websocket-protocol")
                .and_then(|v| v.to_str().ok()),
            Some(offered)
        );
    }
    assert_eq!(
        upgrade("https://evil.example")
            .await
            .expect("answer")
            .status()
            .as_u16(),
        403
    );
    assert_eq!(
        upgrade("http://127.0.0.1:8080")
            .await
            .expect("answer")
            .status()
            .as_u16(),
        101
    );
    // A cloud-to-device send is a state change: the owner's SAS token is required, so a foreign
    // page's "simple" POST cannot make one.
    let r = hub
        .http
        .post(format!("{}/localhub/devices/any/messages", hub.base))
        .header("Content-Type", "text/plain")
        .body("hello")
        .send()
        .await
        .expect("answer");
    assert_eq!(r.status().as_u16(), 401);
}

#[tokio::test]
async fn cloud_to_device_messages_queue_up_to_iot_hubs_limit() {
    let hub = start().await;
    let ca = root("Queue Root");
    hub.upload_and_verify("root", &ca).await;
    hub.register_ca_device("queued").await;
    // Connected, not subscribed: messages wait, 50 at most.
    let (client, mut events) = connect(&hub, Via::Tls, "queued", Some(&device(&ca, "queued")), "")
        .await
        .expect("connects");
    let token = hub.service_token(now().unix_timestamp() as u64 + 3600);
    let send = |n: usize| {
        hub.http
            .post(format!(
                "{}/localhub/devices/queued/messages?n={n}",
                hub.base
            ))
            .header("Authorization", &token)
            .body(format!("message {n}"))
            .send()
    };
    for n in 0..50 {
        assert_eq!(
            send(n).await.expect("answer").status().as_u16(),
            202,
            "message {n}"
        );
    }
    let full = send(50).await.expect("answer");
    assert_eq!(full.status().as_u16(), 403);
    assert!(full
        .text()
        .await
        .unwrap_or_default()
        .contains("DeviceMaximumQueueDepthExceeded"));
    // Subscribing delivers the 50, in order.
    client
        .subscribe("devices/queued/messages/devicebound/#", QoS::AtLeastOnce)
        .await
        .expect("sub");
    let mut got = Vec::new();
    while got.len() < 50 {
        match tokio::time::timeout(Duration::from_secs(5), events.poll())
            .await
            .expect("messages in time")
        {
            Ok(Event::Incoming(Packet::Publish(p))) => {
                got.push(String::from_utf8_lossy(&p.payload).into_owned())
            }
            Ok(_) => {}
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(got.first().map(String::as_str), Some("message 0"));
    assert_eq!(got.last().map(String::as_str), Some("message 49"));
}

/// Connections held on one listener (here event streams, which never end) do not stop the others:
/// each listener has its own limit, and the event streams a cap of their own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn held_event_streams_do_not_stop_rest_or_mqtt() {
    let hub = start_with(localhub::Config {
        max_connections: 30,
        ..localhub::Config::ephemeral()
    })
    .await;
    let mut held = Vec::new();
    let mut refused = 0;
    for _ in 0..30 {
        // A client of its own per stream: each stream is its own connection.
        let r = reqwest::Client::new()
            .get(format!("{}/localhub/events", hub.base))
            .send()
            .await
            .expect("answer");
        match r.status().as_u16() {
            200 => held.push(r),
            503 => refused += 1,
            other => panic!("event stream answered {other}"),
        }
    }
    assert_eq!((held.len(), refused), (16, 14));
    // REST on the same listener still answers, and so does MQTT.
    let info = reqwest::Client::new()
        .get(format!("{}/localhub/info", hub.base))
        .send()
        .await
        .expect("answer");
    assert_eq!(info.status().as_u16(), 200);
    let ca = root("Held Root");
    hub.upload_and_verify("held-root", &ca).await;
    hub.register_ca_device("held-dev").await;
    let (client, mut events) = connect(
        &hub,
        Via::Tls,
        "held-dev",
        Some(&device(&ca, "held-dev")),
        "",
    )
    .await
    .expect("MQTT connects while the streams are held");
    send_telemetry(&client, &mut events, "held-dev", r#"{"held":1}"#).await;
    // A stream closed gives its place back.
    held.pop();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let again = reqwest::Client::new()
        .get(format!("{}/localhub/events", hub.base))
        .send()
        .await
        .expect("answer");
    assert_eq!(again.status().as_u16(), 200);
}

//! localhub throttling as a hub of a tier does (`--tier S1 --units 1`, `Config::throttling`):
//! registry calls past the limit answered 429 `ThrottlingException` in the data plane's error
//! body, the core's client backing off until every device is registered at the published rate
//! (the throttle's clock scaled, so a minute passes in a fraction of a second), new connections
//! and device-to-cloud sends past their limits refused, nothing throttled without the setting, and
//! Microsoft's service SDKs reading the 429: Node.js `azure-iothub` as its `ThrottlingError`
//! (tests/node/throttled-registry.js; needs `npm ci` in tests/node, as scripts/test.sh does),
//! Python `azure-iot-hub` as an `HttpOperationError` of status 429 (tests/node/throttled_registry.py,
//! in the venv of `HUBCERT_PYTHON`).

mod common;

use std::time::{Duration, Instant};

use common::*;
use hubcert::contract::{DeviceId, ExportImportDevice};
use hubcert::iothub::{DeviceAuth, HubClient, RetryPolicy};
use localhub::{Config, HttpTransport};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One S1 unit, its clock running `time_scale` times the wall clock.
async fn s1(time_scale: f64) -> Hub {
    start_with(s1_config(time_scale)).await
}

/// Why devices were refused or disconnected, from the events `rx` saw (a watcher that fell behind
/// skips ahead: the latest events are kept).
fn reasons(rx: &mut tokio::sync::broadcast::Receiver<localhub::TelemetryEvent>) -> Vec<String> {
    use tokio::sync::broadcast::error::TryRecvError;
    let mut out = Vec::new();
    loop {
        match rx.try_recv() {
            Ok(e) => out.extend(e.reason),
            Err(TryRecvError::Lagged(_)) => {}
            Err(_) => return out,
        }
    }
}

/// `POST /devices` with `entries`: status and JSON answer.
async fn post_bulk(hub: &Hub, entries: &[ExportImportDevice]) -> Reply {
    let resp = hub
        .http
        .post(format!("{}/devices?api-version=2021-04-12", hub.base))
        .header("Authorization", hub.service_token(unix_now() + 600))
        .header("Content-Type", "application/json")
        .body(ExportImportDevice::list_to_json(entries))
        .send()
        .await
        .expect("request");
    assert!(
        resp.headers().get("retry-after").is_none(),
        "IoT Hub documents no Retry-After on a 429"
    );
    reply(resp).await
}

#[track_caller]
fn assert_throttled(r: &Reply) {
    assert_eq!(r.status, 429, "{}", r.body);
    let message = r.body["Message"].as_str().expect("Message");
    assert!(
        message.starts_with("ErrorCode:ThrottlingException;"),
        "{message}"
    );
    assert!(
        message.contains("100 a minute on S1 with 1 unit"),
        "{message}"
    );
    let exception = r.body["ExceptionMessage"]
        .as_str()
        .expect("ExceptionMessage");
    assert!(exception.starts_with("Tracking ID:"), "{exception}");
}

#[tokio::test]
async fn a_third_bulk_call_of_fifty_in_a_minute_is_refused_whole_as_iot_hub_refuses_it() {
    // Microsoft's example: bulk creates of 50 on one S1 unit, two accepted a minute.
    let dir = tempfile::tempdir().expect("dir");
    let hub = start_with(Config {
        data_dir: Some(dir.path().to_owned()),
        ..s1_config(FROZEN)
    })
    .await;
    for from in [0, 50] {
        let r = post_bulk(&hub, &ca_entries("b", from..from + 50)).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let r = post_bulk(&hub, &ca_entries("b", 100..150)).await;
    assert_throttled(&r);
    assert_eq!(
        hub.registry("GET", "b-100", None, None).await.status,
        429,
        "a single call is one more operation, refused too"
    );
    // Nothing of the refused call was written.
    let state = std::fs::read_to_string(dir.path().join("state.json")).expect("state");
    assert!(state.contains("\"b-99\"") && !state.contains("\"b-100\""));
}

#[tokio::test]
async fn single_calls_past_a_hundred_in_a_minute_are_refused() {
    let hub = s1(FROZEN).await;
    for i in 0..100 {
        let r = hub.registry("GET", &format!("none-{i}"), None, None).await;
        assert_eq!(r.status, 404, "call {i}: {}", r.body);
    }
    assert_throttled(&hub.registry("GET", "none-100", None, None).await);
    assert_throttled(
        &hub.registry(
            "PUT",
            "late",
            None,
            Some(json!({"deviceId": "late", "authentication": {"type": "certificateAuthority"}})),
        )
        .await,
    );
}

/// A client that backs off in milliseconds, as a clock 60 times faster asks.
fn fast_client() -> HubClient<HttpTransport> {
    HubClient::new(HttpTransport::default(), true).with_retry(
        RetryPolicy {
            max_attempts: 200,
            base: Duration::from_millis(2),
            cap: Duration::from_millis(20),
        },
        1,
    )
}

/// Operations per (scaled) minute measured after the first minute's allowance, which a full
/// bucket lets through at once.
fn measured_per_minute(devices: usize, elapsed: Duration, time_scale: f64) -> f64 {
    (devices - 100) as f64 / elapsed.as_secs_f64() * 60.0 / time_scale
}

#[tokio::test(flavor = "multi_thread")]
async fn the_core_client_backs_off_and_registers_every_device_at_the_published_rate() {
    const SCALE: f64 = 120.0;
    let hub = s1(SCALE).await;
    let reg = hub.core_registry();
    let client = fast_client();

    // One by one: 300 devices, 100 at once then 100 a (scaled) minute.
    let started = Instant::now();
    for i in 0..300 {
        let id = DeviceId::parse(&format!("one-{i}")).expect("id");
        client
            .register_device(&reg, &id, &DeviceAuth::CertificateAuthority, unix_now())
            .await
            .unwrap_or_else(|e| panic!("device {i}: {e:?}"));
    }
    let one_by_one = measured_per_minute(300, started.elapsed(), SCALE);
    assert!(client.slept() > Duration::ZERO, "it was throttled");

    // In bulk: 500 devices in calls of 100, each counting 100; wait for a full bucket first.
    tokio::time::sleep(Duration::from_secs_f64(60.0 / SCALE)).await;
    let started = Instant::now();
    let out = client
        .bulk_registry(&reg, &ca_entries("bulk", 0..500), unix_now())
        .await
        .expect("sent");
    let bulk = measured_per_minute(500, started.elapsed(), SCALE);
    assert!(out.stopped.is_none(), "{:?}", out.stopped);
    assert_eq!(out.applied.len(), 500);

    for (how, rate) in [("one by one", one_by_one), ("bulk", bulk)] {
        println!("{how}: {rate:.1} registry operations a minute measured, 100 published");
        assert!(
            (80.0..=110.0).contains(&rate),
            "{how}: {rate:.1} operations a minute, the limit is 100"
        );
    }
}

/// CONNECT as `id` over TLS with `identity`; the CONNACK's return code.
async fn connack(hub: &Hub, id: &str, identity: &hubcert::pki::Identity) -> u8 {
    let mut tls = device_tls(hub, identity).await.expect("tls");
    let user = format!("localhost/{id}/?api-version=2021-04-12");
    let mut vh = vec![0, 4, b'M', b'Q', b'T', b'T', 4, 0x82, 0, 60];
    for field in [id, user.as_str()] {
        vh.extend_from_slice(&(field.len() as u16).to_be_bytes());
        vh.extend_from_slice(field.as_bytes());
    }
    let mut packet = vec![0x10, vh.len() as u8];
    packet.extend(vh);
    tls.write_all(&packet).await.expect("connect");
    let mut ack = [0u8; 4];
    tokio::time::timeout(Duration::from_secs(10), tls.read_exact(&mut ack))
        .await
        .expect("connack in time")
        .expect("connack");
    assert_eq!(ack[..2], [0x20, 2]);
    ack[3]
}

#[tokio::test(flavor = "multi_thread")]
async fn new_connections_past_the_rate_get_server_unavailable() {
    let hub = s1(FROZEN).await;
    let ca = root("Throttle Root CA");
    hub.upload_and_verify("throttle-root", &ca).await;
    hub.register_ca_device("dev").await;
    let identity = device(&ca, "dev");
    let mut rx = hub.running.hub.subscribe();
    // One S1 unit: at least 100 new connections a second.
    for i in 0..100 {
        assert_eq!(connack(&hub, "dev", &identity).await, 0, "connection {i}");
    }
    assert_eq!(
        connack(&hub, "dev", &identity).await,
        3,
        "server unavailable"
    );
    let refused = reasons(&mut rx)
        .into_iter()
        .find(|r| r.starts_with("throttled"));
    assert_eq!(
        refused.as_deref(),
        Some("throttled: new device connections are limited to 100 a second on S1 with 1 unit")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_send_past_the_rate_closes_the_connection() {
    let hub = s1(FROZEN).await;
    let ca = root("Send Root CA");
    hub.upload_and_verify("send-root", &ca).await;
    hub.register_ca_device("sender").await;
    let identity = device(&ca, "sender");
    let mut rx = hub.running.hub.subscribe();
    let (client, mut events) = connect(&hub, Via::Tls, "sender", Some(&identity), "")
        .await
        .expect("connects");
    for i in 0..100 {
        send_telemetry(&client, &mut events, "sender", &format!("{{\"n\":{i}}}")).await;
    }
    client
        .publish(
            "devices/sender/messages/events/",
            rumqttc::QoS::AtLeastOnce,
            false,
            b"{\"n\":100}".to_vec(),
        )
        .await
        .expect("queued");
    let closed = loop {
        match tokio::time::timeout(Duration::from_secs(10), events.poll())
            .await
            .expect("an answer in time")
        {
            Ok(rumqttc::Event::Incoming(rumqttc::Packet::PubAck(_))) => break false,
            Ok(_) => {}
            Err(_) => break true,
        }
    };
    assert!(closed, "the 101st send in a second is not acknowledged");
    assert_eq!(hub.running.hub.telemetry(Some("sender")).len(), 100);
    // The session ends with the throttle's reason (the event comes as the server side closes).
    let mut why = Vec::new();
    for _ in 0..50 {
        why.extend(reasons(&mut rx));
        if why.iter().any(|r| r.starts_with("throttled")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        why.contains(
            &"throttled: device-to-cloud sends are limited to 100 a second on S1 with 1 unit"
                .to_owned()
        ),
        "{why:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_tier_nothing_is_throttled() {
    let hub = start().await;
    for from in [0, 100, 200] {
        let r = post_bulk(&hub, &ca_entries("free", from..from + 100)).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    for i in 0..150 {
        assert_eq!(
            hub.registry("GET", &format!("free-{i}"), None, None)
                .await
                .status,
            200
        );
    }
    let ca = root("Free Root CA");
    hub.upload_and_verify("free-root", &ca).await;
    hub.register_ca_device("free-dev").await;
    let identity = device(&ca, "free-dev");
    for i in 0..120 {
        assert_eq!(
            connack(&hub, "free-dev", &identity).await,
            0,
            "connection {i}"
        );
    }
    let (client, mut events) = connect(&hub, Via::Tls, "free-dev", Some(&identity), "")
        .await
        .expect("connects");
    for i in 0..120 {
        send_telemetry(&client, &mut events, "free-dev", &format!("{{\"n\":{i}}}")).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn node_service_sdk_reports_a_throttled_call_as_its_throttling_error() {
    let hub = start_for_service_sdk(SERVICE_SDK_HOSTS[0], s1_config(FROZEN)).await;
    run_service_sdk(
        &hub,
        SdkScript::File("throttled-registry.js"),
        &[("PREFIX", "node")],
        &[
            "added 0+50 isSuccessful=true",
            "added 50+50 isSuccessful=true",
            "third add refused name=ThrottlingError throttling=true status=429 message=The request has been throttled",
            "get refused name=ThrottlingError throttling=true status=429",
        ],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn python_service_sdk_reports_a_throttled_call_as_a_429_throttling_exception() {
    let hub = start_for_service_sdk(SERVICE_SDK_HOSTS[1], s1_config(FROZEN)).await;
    run_service_sdk(
        &hub,
        SdkScript::File("throttled_registry.py"),
        &[("PREFIX", "py")],
        &[
            "added 0+50 is_successful=True",
            "added 50+50 is_successful=True",
            "third add refused type=HttpOperationError status=429 code=ErrorCode:ThrottlingException message=Operation returned an invalid status code 'Too Many Requests'",
            "get refused type=HttpOperationError status=429 code=ErrorCode:ThrottlingException",
        ],
    );
}

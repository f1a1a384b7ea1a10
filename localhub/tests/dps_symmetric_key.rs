//! Symmetric-key registration over MQTT and MQTT over WebSockets: the SAS token as the MQTT
//! password, signed with a group's derived device key or an individual enrollment's key; the
//! device lands in the hub as a SAS device and connects there with the same key. Then Microsoft's
//! Python SDK (`ProvisioningDeviceClient.create_from_symmetric_key`) over MQTT and over WebSockets,
//! whose device client connects to the assigned hub with the same key and sends. The SDK dials
//! `{host}:8883` (MQTT) or `{host}:443` (WebSockets), so that localhub listens on 127.0.0.5:8883 or
//! on `WS_SDK_HOST`:443, loopback addresses of their own (one test each); the others use ephemeral
//! ports.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use common::*;
use hubcert::contract::{
    build_sas_token, derive_device_key, registration_token, EnrollmentGroup, IndividualEnrollment,
};
use localhub::{Config, EventKind};
use reqwest::Method;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS, TlsConfiguration, Transport};
use serde_json::{json, Value};

const SCOPE: &str = "0ne00000001";
/// The group key of Microsoft's symmetric-key docs.
const GROUP_KEY: &str =
    "8isrFI1sGsIlvvFSSFRiMfCNzv21fjbE/+ah/lSh3lF8e2YG1Te7w1KpZhJFFXJrqYKi9yegxkqIChbqOS9Egw==";
/// An individual enrollment's key (64 bytes, as DPS makes them).
const DEVICE_KEY: &str =
    "BwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4/QEFCQ0RFRg==";
/// Where Microsoft's Python SDK finds this test's localhub on port 8883.
const MQTT_SDK_HOST: &str = "127.0.0.5";

fn unix() -> u64 {
    now().unix_timestamp() as u64
}

async fn put(hub: &Hub, path: &str, body: Value) -> Value {
    let (status, body) = hub.dps_call(Method::PUT, path, Some(body)).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// Waits for the next PUBLISH on `events`.
async fn next_publish(events: &mut rumqttc::EventLoop) -> rumqttc::Publish {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match events.poll().await {
                Ok(Event::Incoming(Packet::Publish(p))) => return p,
                Ok(_) => {}
                Err(e) => panic!("the connection failed: {e:?}"),
            }
        }
    })
    .await
    .expect("an answer in time")
}

/// Registers `id` with DPS over `via` with `token` as the password, no client certificate: the
/// final operation status, or how the connection was refused.
async fn register(hub: &Hub, via: Via, id: &str, token: &str) -> Result<Value, String> {
    let (host, port) = match via {
        Via::Tls => ("localhost".to_owned(), hub.running.mqtt.port()),
        Via::Wss | Via::WssRest => {
            let port = match via {
                Via::Wss => hub.running.wss.port(),
                _ => hub.running.https.port(),
            };
            (format!("wss://localhost:{port}/$iothub/websocket"), port)
        }
    };
    let mut opts = MqttOptions::new(id, host, port);
    opts.set_credentials(
        format!("{SCOPE}/registrations/{id}/api-version=2019-03-31"),
        token,
    );
    let tls = TlsConfiguration::Simple {
        ca: hub.running.root_pem.clone().into_bytes(),
        alpn: None,
        client_auth: None,
    };
    opts.set_transport(match via {
        Via::Tls => Transport::Tls(tls),
        Via::Wss | Via::WssRest => Transport::Wss(tls),
    });
    let (client, mut events) = AsyncClient::new(opts, 16);
    match tokio::time::timeout(Duration::from_secs(10), events.poll()).await {
        Ok(Ok(Event::Incoming(Packet::ConnAck(a))))
            if a.code == rumqttc::ConnectReturnCode::Success => {}
        other => return Err(format!("{other:?}")),
    }
    client
        .subscribe("$dps/registrations/res/#", QoS::AtMostOnce)
        .await
        .expect("subscribe");
    client
        .publish(
            "$dps/registrations/PUT/iotdps-register/?$rid=1",
            QoS::AtMostOnce,
            false,
            json!({"registrationId": id}).to_string().into_bytes(),
        )
        .await
        .expect("register");
    let accepted = next_publish(&mut events).await;
    assert!(
        accepted
            .topic
            .starts_with("$dps/registrations/res/202/?$rid=1"),
        "{}",
        accepted.topic
    );
    let op: Value = serde_json::from_slice(&accepted.payload).expect("json");
    let op = op["operationId"].as_str().expect("operationId").to_owned();
    client
        .publish(
            format!("$dps/registrations/GET/iotdps-get-operationstatus/?$rid=2&operationId={op}"),
            QoS::AtMostOnce,
            false,
            Vec::new(),
        )
        .await
        .expect("poll");
    let done = next_publish(&mut events).await;
    assert!(
        done.topic.starts_with("$dps/registrations/res/200/?$rid=2"),
        "{}",
        done.topic
    );
    let _ = client.disconnect().await;
    Ok(serde_json::from_slice(&done.payload).expect("json"))
}

#[tokio::test]
async fn symmetric_key_devices_register_over_mqtt_and_websockets_and_connect_with_their_key() {
    let hub = start().await;
    let group = put(
        &hub,
        "/enrollmentGroups/sym-mqtt-fleet",
        serde_json::to_value(EnrollmentGroup::symmetric_key(
            "sym-mqtt-fleet",
            Some(GROUP_KEY),
            None,
        ))
        .expect("json"),
    )
    .await;
    let group_secondary = group["attestation"]["symmetricKey"]["secondaryKey"]
        .as_str()
        .expect("a secondary made by DPS")
        .to_owned();

    for (via, id) in [
        (Via::Tls, "sym-mqtt-1"),
        (Via::Wss, "sym-wss-1"),
        (Via::WssRest, "sym-wss-2"),
    ] {
        // The secondary's derived key works as the primary's does.
        for group_key in [GROUP_KEY, group_secondary.as_str()] {
            let key = derive_device_key(group_key, id).expect("key");
            let token = registration_token(SCOPE, id, &key, unix() + 600).expect("token");
            let op = register(&hub, via, id, &token).await.expect("connects");
            assert_eq!(op["status"], "assigned", "{op}");
            assert_eq!(op["registrationState"]["deviceId"], id);
            assert_eq!(op["registrationState"]["assignedHub"], "localhost");
            let r = hub.registry("GET", id, None, None).await;
            assert_eq!(r.body["authentication"]["type"], "sas", "{}", r.body);
            let hub_token =
                build_sas_token(&format!("localhost/devices/{id}"), &key, None, unix() + 600)
                    .expect("token");
            let (client, mut events) = connect(&hub, via, id, None, &hub_token)
                .await
                .expect("the device connects to the hub with its key");
            send_telemetry(&client, &mut events, id, r#"{"sym":true}"#).await;
            let _ = client.disconnect().await;
        }
    }

    // An individual enrollment with its own keys; it comes before the group.
    let solo_primary = "c29sby1wcmltYXJ5LWtleS0wMTIzNDU2Nzg5";
    let solo_secondary = "c29sby1zZWNvbmRhcnkta2V5LTAxMjM0NTY3ODk=";
    put(
        &hub,
        "/enrollments/sym-mqtt-solo",
        serde_json::to_value(IndividualEnrollment::symmetric_key(
            "sym-mqtt-solo",
            Some(solo_primary),
            Some(solo_secondary),
        ))
        .expect("json"),
    )
    .await;
    let token =
        registration_token(SCOPE, "sym-mqtt-solo", solo_primary, unix() + 600).expect("token");
    let op = register(&hub, Via::Tls, "sym-mqtt-solo", &token)
        .await
        .expect("connects");
    assert_eq!(op["status"], "assigned", "{op}");
    let r = hub.registry("GET", "sym-mqtt-solo", None, None).await;
    assert_eq!(
        r.body["authentication"]["symmetricKey"],
        json!({"primaryKey": solo_primary, "secondaryKey": solo_secondary}),
        "{}",
        r.body
    );
    // Signed with the group's derived key instead: the device's own enrollment refuses it, and
    // the group admits it, as DPS looks at the enrollment, then the groups.
    let derived = derive_device_key(GROUP_KEY, "sym-mqtt-solo").expect("key");
    let token = registration_token(SCOPE, "sym-mqtt-solo", &derived, unix() + 600).expect("token");
    let op = register(&hub, Via::Tls, "sym-mqtt-solo", &token)
        .await
        .expect("connects");
    assert_eq!(op["status"], "assigned", "{op}");

    // Refused at CONNECT: the group's own key, another registration's token, a wrong ID scope.
    for (id, token) in [
        (
            "sym-mqtt-3",
            registration_token(SCOPE, "sym-mqtt-3", GROUP_KEY, unix() + 600).expect("token"),
        ),
        (
            "sym-mqtt-3",
            registration_token(
                SCOPE,
                "sym-mqtt-1",
                &derive_device_key(GROUP_KEY, "sym-mqtt-1").expect("key"),
                unix() + 600,
            )
            .expect("token"),
        ),
        (
            "sym-mqtt-3",
            registration_token(
                "0ne99999999",
                "sym-mqtt-3",
                &derive_device_key(GROUP_KEY, "sym-mqtt-3").expect("key"),
                unix() + 600,
            )
            .expect("token"),
        ),
    ] {
        assert!(
            register(&hub, Via::Tls, id, &token).await.is_err(),
            "{token}"
        );
    }
}

fn node_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/node")
}

/// Runs tests/node/provision_symmetric_key.py with Microsoft's Python SDK over MQTT (port 8883 of
/// `host`), or MQTT over WebSockets (port 443) when `websockets`.
fn run_python(
    hub: &Hub,
    (host, websockets): (&str, bool),
    registration_id: &str,
    key: &str,
    message: &str,
) -> (bool, String) {
    let python = std::env::var("HUBCERT_PYTHON")
        .expect("HUBCERT_PYTHON: source scripts/env.sh (the Python SDK's venv)");
    let dir = tempfile::tempdir().expect("dir");
    let ca = dir.path().join("localhub-root.pem");
    std::fs::write(&ca, &hub.running.root_pem).expect("write");
    let out = Command::new(python)
        .arg(node_dir().join("provision_symmetric_key.py"))
        .env("PROVISIONING_HOST", host)
        .env("WEBSOCKETS", if websockets { "1" } else { "0" })
        .env("ID_SCOPE", SCOPE)
        .env("REGISTRATION_ID", registration_id)
        .env("SYMMETRIC_KEY", key)
        .env("MESSAGE", message)
        .env("SERVER_CA", &ca)
        .output()
        .expect("python runs");
    outcome(&out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn microsofts_python_sdk_provisions_by_symmetric_key_over_mqtt() {
    let hub = start_with(Config {
        mqtt_port: 8883,
        host_name: MQTT_SDK_HOST.into(),
        bind: MQTT_SDK_HOST.parse().expect("an address"),
        ..Config::ephemeral()
    })
    .await;
    put(
        &hub,
        "/enrollmentGroups/python-sym-fleet",
        serde_json::to_value(EnrollmentGroup::symmetric_key(
            "python-sym-fleet",
            Some(GROUP_KEY),
            None,
        ))
        .expect("json"),
    )
    .await;
    let id = "python-sym-1";
    let key = derive_device_key(GROUP_KEY, id).expect("key");
    let message = r#"{"provisioned":"python-sym"}"#;
    let (ok, text) =
        tokio::task::block_in_place(|| run_python(&hub, (MQTT_SDK_HOST, false), id, &key, message));
    assert!(ok, "{text}");
    assert!(
        text.contains(&format!("assigned {MQTT_SDK_HOST} {id}")),
        "{text}"
    );
    assert!(text.contains("sent"), "{text}");
    let got = hub.running.hub.telemetry(Some(id));
    assert!(
        got.iter()
            .any(|e| e.kind == EventKind::Telemetry && e.body.as_deref() == Some(message)),
        "{got:?}"
    );
    // A wrong key: the SDK reports the refusal.
    let wrong = derive_device_key(GROUP_KEY, "someone-else").expect("key");
    let (ok, text) = tokio::task::block_in_place(|| {
        run_python(&hub, (MQTT_SDK_HOST, false), "python-sym-2", &wrong, "{}")
    });
    assert!(!ok, "{text}");
    assert!(text.contains("registration failed"), "{text}");
}

/// Over WebSockets the SDK dials `{host}:443` for DPS and for the hub: localhub's HTTPS port on a
/// loopback address of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn microsofts_python_sdk_provisions_by_symmetric_key_over_websockets() {
    let hub = start_on_443().await;
    let individual = IndividualEnrollment::symmetric_key("python-sym-ws-1", Some(DEVICE_KEY), None);
    put(
        &hub,
        "/enrollments/python-sym-ws-1",
        serde_json::to_value(individual).expect("json"),
    )
    .await;
    let message = r#"{"provisioned":"python-sym-ws"}"#;
    let (ok, text) = tokio::task::block_in_place(|| {
        run_python(
            &hub,
            (WS_SDK_HOST, true),
            "python-sym-ws-1",
            DEVICE_KEY,
            message,
        )
    });
    assert!(ok, "{text}");
    assert!(
        text.contains(&format!("assigned {WS_SDK_HOST} python-sym-ws-1")),
        "{text}"
    );
    let got = hub.running.hub.telemetry(Some("python-sym-ws-1"));
    assert!(
        got.iter()
            .any(|e| e.kind == EventKind::Telemetry && e.body.as_deref() == Some(message)),
        "{got:?}"
    );
}

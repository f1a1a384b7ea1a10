//! Microsoft's Node.js device SDK (the seed's device-x509.js) against localhub.
//! Needs `npm ci` in tests/node (scripts/test.sh runs it); without it the test fails and says so.
//! With X.509 the SDK always dials `{HostName}:8883` (it ignores GatewayHostName), so localhub
//! listens on 127.0.0.2:8883 here (127.0.0.1:8883 may be run.sh's localhub), and both cases share one test so they never race for the port.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::*;

fn script_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/node")
}

fn run_node(hub: &Hub, id: &str, identity: &hubcert::pki::Identity) -> (bool, String) {
    assert!(
        script_dir().join("node_modules/azure-iot-device").exists(),
        "run `npm ci` in tests/node first (scripts/test.sh does)"
    );
    let dir = tempfile::tempdir().expect("dir");
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).expect("write");
        p
    };
    let cert = write("device.pem", &identity.certificate.pem());
    let key = write("device.key", &identity.key.to_pkcs8_pem().expect("key"));
    let ca = write("localhub-root.pem", &hub.running.root_pem);
    let out = Command::new("node")
        .arg(script_dir().join("device-x509.js"))
        .env("DEVICE_ID", id)
        .env("DEVICE_CERT", cert)
        .env("DEVICE_KEY", key)
        .env("IOTHUB_HOST", SDK_HOST)
        .env("IOTHUB_CA", ca)
        .output()
        .expect("node on PATH");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[tokio::test(flavor = "multi_thread")]
async fn node_device_sdk_connects_with_x509_and_an_unregistered_device_is_refused() {
    let hub = start_on_8883().await;
    let ca = root("IoT Root CA");
    hub.upload_and_verify("root-ca-cert", &ca).await;
    hub.register_ca_device("sensor-device-01").await;
    let identity = device(&ca, "sensor-device-01");

    let (ok, output) =
        tokio::task::block_in_place(|| run_node(&hub, "sensor-device-01", &identity));
    assert!(ok, "{output}");
    assert!(
        output.contains("Telemetry message sent successfully"),
        "{output}"
    );
    let got = hub.running.hub.telemetry(Some("sensor-device-01"));
    assert_eq!(got.len(), 1, "{got:?}");
    let body: serde_json::Value =
        serde_json::from_str(got[0].body.as_deref().unwrap_or("")).expect("json body");
    assert_eq!(body["temperature"], 22.5);
    assert_eq!(
        got[0].properties.get("$.ct").map(String::as_str),
        Some("application/json")
    );

    let stranger = device(&ca, "not-registered");
    let (ok, output) = tokio::task::block_in_place(|| run_node(&hub, "not-registered", &stranger));
    assert!(!ok, "an unregistered device must not connect: {output}");
    assert!(output.contains("Not authorized"), "{output}");
    assert!(hub.running.hub.telemetry(Some("not-registered")).is_empty());
}

//! Microsoft's provisioning SDKs against localhub's DPS: Node.js (azure-iot-provisioning-device + its
//! MQTT transport) and Python (azure-iot-device's ProvisioningDeviceClient). An X.509 device of an
//! enrollment group registers, is assigned to localhub's hub, and the SDK's device client connects
//! there and sends; a device of no group is refused. Node's service SDK (azure-iot-provisioning-service)
//! manages enrollment groups with etags. Needs `npm ci` in tests/node and the Python venv
//! (scripts/test.sh and setup.sh make them). The SDKs dial `{host}:8883`, so this localhub listens on
//! 127.0.0.2:8883 (127.0.0.1:8883 may be run.sh's); one test, so the two never race for the port.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::*;
use hubcert::pki::Identity;
use localhub::EventKind;

fn node_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/node")
}

#[derive(Clone, Copy)]
enum Sdk {
    Node,
    Python,
}

fn run_sdk(sdk: Sdk, hub: &Hub, registration_id: &str, identity: &Identity) -> (bool, String) {
    run_sdk_on(sdk, hub, SDK_HOST, false, registration_id, identity)
}

/// Runs `sdk` against `host`, over MQTT over WebSockets when `websockets`.
fn run_sdk_on(
    sdk: Sdk,
    hub: &Hub,
    host: &str,
    websockets: bool,
    registration_id: &str,
    identity: &Identity,
) -> (bool, String) {
    assert!(
        node_dir()
            .join("node_modules/azure-iot-provisioning-device")
            .exists(),
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
    let mut command = match sdk {
        Sdk::Node => {
            let mut c = Command::new("node");
            c.arg(node_dir().join("provision-x509.js"));
            c
        }
        Sdk::Python => {
            let python = std::env::var("HUBCERT_PYTHON")
                .expect("HUBCERT_PYTHON: source scripts/env.sh (the Python SDK's venv)");
            let mut c = Command::new(python);
            c.arg(node_dir().join("provision_x509.py"));
            c
        }
    };
    let out = command
        .env("PROVISIONING_HOST", host)
        .env("WEBSOCKETS", if websockets { "1" } else { "0" })
        .env("ID_SCOPE", "0ne00000001")
        .env("REGISTRATION_ID", registration_id)
        .env("DEVICE_CERT", cert)
        .env("DEVICE_KEY", key)
        .env("NODE_EXTRA_CA_CERTS", &ca)
        .env("SERVER_CA", &ca)
        .env("DEBUG", std::env::var("DEBUG").unwrap_or_default())
        .output()
        .expect("the SDK's interpreter runs");
    outcome(&out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn microsofts_provisioning_sdks_register_and_their_device_clients_connect_to_the_assigned_hub(
) {
    let hub = start_on_8883().await;
    let ca = root("SDK Fleet Root");
    // The CA on DPS only, as in Microsoft's enrollment-group tutorial: DPS makes the device a
    // thumbprint device in the hub, which needs no CA.
    assert_eq!(hub.enroll_group("sdk-fleet", &ca, true).await, 200);

    for (sdk, id, body) in [
        (Sdk::Node, "node-prov-1", r#"{"provisioned":true}"#),
        (Sdk::Python, "python-prov-1", r#"{"provisioned":"python"}"#),
    ] {
        let dev = device(&ca, id);
        let (ok, text) = run_sdk(sdk, &hub, id, &dev);
        assert!(ok, "{text}");
        assert!(
            text.contains(&format!("assigned {SDK_HOST} {id}")),
            "{text}"
        );
        assert!(text.contains("sent"), "{text}");
        let got = hub.running.hub.telemetry(Some(id));
        assert!(
            got.iter()
                .any(|e| e.kind == EventKind::Telemetry && e.body.as_deref() == Some(body)),
            "{got:?}"
        );

        // A device no enrollment group signed: the SDK reports the refusal.
        let stranger_id = format!("{id}-stranger");
        let stranger = device(&root("Stranger Root"), &stranger_id);
        let (ok, text) = run_sdk(sdk, &hub, &stranger_id, &stranger);
        assert!(!ok, "{text}");
        assert!(text.contains("registration failed"), "{text}");
    }
}

/// Microsoft's Node.js provisioning service SDK manages localhub's enrollment groups: create, get,
/// update with the etag, a stale etag refused (412), query, delete, and a 404 after; an individual
/// enrollment created, read, updated with its etag, queried and deleted; a registration state that
/// does not exist is a 404.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn microsofts_service_sdk_manages_enrollment_groups_with_etags() {
    let hub = start().await;
    let ca = root("Service SDK Root");
    let dir = tempfile::tempdir().expect("dir");
    let pem = dir.path().join("ca.pem");
    std::fs::write(&pem, ca.certificate().pem()).expect("write");
    let tls_root = dir.path().join("localhub-root.pem");
    std::fs::write(&tls_root, &hub.running.root_pem).expect("write");
    let device_pem = dir.path().join("device.pem");
    std::fs::write(&device_pem, device(&ca, "node-solo").certificate.pem()).expect("write");
    let cs = hub.running.hub.dps_connection_string();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(node_dir().join("enrollment-groups.js"))
            .env("DPS_CONNECTION_STRING", cs)
            .env("DPS_PORT", hub.running.https.port().to_string())
            .env("CA_PEM", &pem)
            .env("GROUP_ID", "node-service-fleet")
            .env("DEVICE_PEM", &device_pem)
            .env("DEVICE_ID", "node-solo")
            .env("NODE_EXTRA_CA_CERTS", &tls_root)
            .output()
            .expect("node runs")
    })
    .await
    .expect("joined");
    let (ok, text) = outcome(&out);
    assert!(ok, "{text}");
    for line in [
        "created node-service-fleet etag ",
        "got node-service-fleet enabled",
        "updated disabled etag changed true",
        "stale etag refused 412",
        "query node-service-fleet",
        "deleted",
        "after delete not found 404",
        "enrolled node-solo etag set",
        "got enrollment node-solo x509",
        "updated enrollment disabled etag changed true",
        "enrollments node-solo",
        "registration state not found 404",
        "individual deleted",
    ] {
        assert!(text.contains(line), "{line:?} missing in {text}");
    }
}

/// Microsoft's SDKs over MQTT over WebSockets, against localhub with its default flags but on
/// port 443 of a loopback address of its own (the SDKs dial `{host}:443` in WebSocket mode): they
/// send `Origin: https://{host}:443` (paho) and `Host` without the default port; the group's CA
/// is on DPS only, and the device, a thumbprint device in the hub, connects there over WebSockets.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn microsofts_sdks_provision_and_connect_over_websockets() {
    let hub = start_on_443().await;
    let ca = root("SDK WebSocket Root");
    assert_eq!(hub.enroll_group("sdk-ws-fleet", &ca, true).await, 200);
    for (sdk, id, body) in [
        (Sdk::Python, "python-ws-1", r#"{"provisioned":"python-ws"}"#),
        (Sdk::Node, "node-ws-1", r#"{"provisioned":"ws"}"#),
    ] {
        let dev = device(&ca, id);
        let (ok, text) = run_sdk_on(sdk, &hub, WS_SDK_HOST, true, id, &dev);
        assert!(ok, "{text}");
        assert!(
            text.contains(&format!("assigned {WS_SDK_HOST} {id}")),
            "{text}"
        );
        let got = hub.running.hub.telemetry(Some(id));
        assert!(
            got.iter().any(|e| e.kind == EventKind::Telemetry
                && e.body.as_deref() == Some(body)
                && e.transport == localhub::DeviceTransport::Wss),
            "{got:?}"
        );
    }
}

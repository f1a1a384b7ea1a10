//! Microsoft's Node.js provisioning SDK (azure-iot-provisioning-device + its MQTT transport) against
//! localhub's DPS: an X.509 device of an enrollment group registers, is assigned to localhub's hub,
//! and Microsoft's device SDK connects there and sends; a device of no group is refused.
//! Needs `npm ci` in tests/node (scripts/test.sh runs it). The SDKs dial `{host}:8883`, so this
//! localhub listens on 127.0.0.2:8883 (127.0.0.1:8883 may be run.sh's).

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::*;
use hubcert::contract::build_sas_token;
use hubcert::iothub::ConnectionString;
use hubcert::pki::{CertificateAuthority, Identity};
use localhub::EventKind;
use serde_json::{json, Value};

fn node_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/node")
}

async fn enroll(hub: &Hub, id: &str, ca: &CertificateAuthority) {
    let info: Value = hub
        .http
        .get(format!("{}/localhub/info", hub.base))
        .send()
        .await
        .expect("info")
        .json()
        .await
        .expect("json");
    let cs =
        ConnectionString::parse(info["dpsConnectionString"].as_str().expect("cs")).expect("cs");
    let token = build_sas_token(
        &cs.host_name,
        &cs.key.expect("key"),
        cs.policy.as_deref(),
        now().unix_timestamp() as u64 + 600,
    )
    .expect("token");
    let body = json!({"enrollmentGroupId": id, "attestation": {"type": "x509", "x509": {"signingCertificates": {"primary": {"certificate": ca.certificate().pem()}}}}});
    let r = hub
        .http
        .put(format!(
            "{}/enrollmentGroups/{id}?api-version=2021-10-01",
            hub.base
        ))
        .header("Authorization", token)
        .json(&body)
        .send()
        .await
        .expect("put");
    assert_eq!(r.status().as_u16(), 200);
}

fn run_sdk(hub: &Hub, registration_id: &str, identity: &Identity) -> (bool, String) {
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
    let out = Command::new("node")
        .arg(node_dir().join("provision-x509.js"))
        .env("PROVISIONING_HOST", SDK_HOST)
        .env("ID_SCOPE", "0ne00000001")
        .env("REGISTRATION_ID", registration_id)
        .env("DEVICE_CERT", cert)
        .env("DEVICE_KEY", key)
        .env("NODE_EXTRA_CA_CERTS", ca)
        .env("DEBUG", std::env::var("DEBUG").unwrap_or_default())
        .output()
        .expect("node on PATH");
    let text = format!(
        "{}: {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn microsofts_provisioning_sdk_registers_and_the_device_sdk_connects_to_the_assigned_hub() {
    let hub = start_on_8883().await;
    let ca = root("Node Fleet Root");
    hub.upload_and_verify("node-fleet", &ca).await;
    enroll(&hub, "node-fleet", &ca).await;

    let dev = device(&ca, "node-prov-1");
    let (ok, text) = run_sdk(&hub, "node-prov-1", &dev);
    assert!(ok, "{text}");
    assert!(
        text.contains(&format!("assigned {SDK_HOST} node-prov-1")),
        "{text}"
    );
    assert!(text.contains("sent"), "{text}");
    let got = hub.running.hub.telemetry(Some("node-prov-1"));
    assert!(
        got.iter().any(|e| e.kind == EventKind::Telemetry
            && e.body.as_deref() == Some(r#"{"provisioned":true}"#)),
        "{got:?}"
    );

    // A device no enrollment group signed: the SDK reports the refusal.
    let stranger = device(&root("Stranger Root"), "node-stranger");
    let (ok, text) = run_sdk(&hub, "node-stranger", &stranger);
    assert!(!ok, "{text}");
    assert!(text.contains("registration failed"), "{text}");
}

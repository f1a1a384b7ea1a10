//! The device snippets the app shows (`hubcert::iothub::snippets`), each run once against localhub
//! as written: Node.js with Microsoft's device SDK (tests/node), Python with `azure-iot-device`
//! (the venv scripts/setup.sh makes, `$HUBCERT_PYTHON`), and Debian's `mosquitto_pub`; then the
//! provisioning snippets (Node.js and Python) register with localhub's DPS and send through the hub.
//! The device snippets then report their certificate in the twin, which the hub's query finds.
//! The SDKs always dial `{HostName}:8883`, so localhub listens there, on 127.0.0.2 (127.0.0.1:8883
//! may be run.sh's localhub).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use hubcert::contract::{format_iso8601, ReportedCertificate};
use hubcert::iothub::{
    DeviceFiles, FleetFilter, HubClient, ProvisioningFiles, Registry, TwinQuery,
};
use localhub::EventKind;

fn run(cmd: &mut Command, what: &str) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what} could not start ({e}): run scripts/setup.sh"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{what} failed:\n{text}");
    text
}

fn files(dir: &Path, id: &str) -> DeviceFiles {
    let p = |name: String| dir.join(name).display().to_string();
    DeviceFiles {
        host: SDK_HOST.into(),
        device_id: id.into(),
        cert_file: p(format!("{id}.pem")),
        key_file: p(format!("{id}.key")),
        ca_file: Some(p("localhub-root.pem".into())),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn each_snippet_runs_as_shown_and_its_telemetry_arrives() {
    let hub = start_on_8883().await;
    let ca = root("Snippet Root");
    hub.upload_and_verify("root", &ca).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("localhub-root.pem"), &hub.running.root_pem).unwrap();

    let node_modules = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/node/node_modules");
    assert!(
        node_modules.join("azure-iot-device").exists(),
        "run `npm ci` in tests/node first (scripts/test.sh does)"
    );
    let python = std::env::var("HUBCERT_PYTHON")
        .expect("HUBCERT_PYTHON: source scripts/env.sh (the Python SDK's venv)");

    let registry =
        Registry::from_connection_string(&hub.base, &hub.running.hub.connection_string()).unwrap();
    for lang in ["node", "python", "mosquitto"] {
        let id = format!("snippet-{lang}");
        hub.register_ca_device(&id).await;
        let identity = device(&ca, &id);
        let f = files(dir.path(), &id);
        std::fs::write(&f.cert_file, identity.certificate.pem()).unwrap();
        std::fs::write(&f.key_file, identity.key.to_pkcs8_pem().unwrap()).unwrap();
        let out = tokio::task::block_in_place(|| match lang {
            "node" => {
                let script = dir.path().join("device-x509.js");
                std::fs::write(&script, f.node()).unwrap();
                run(
                    Command::new("node")
                        .arg(&script)
                        .env("NODE_PATH", &node_modules),
                    "the Node.js snippet",
                )
            }
            "python" => {
                let script = dir.path().join("device_x509.py");
                std::fs::write(&script, f.python()).unwrap();
                run(Command::new(&python).arg(&script), "the Python snippet")
            }
            _ => run(
                Command::new("sh").arg("-c").arg(f.mosquitto_pub(8883)),
                "the mosquitto_pub snippet",
            ),
        });
        if lang != "mosquitto" {
            assert!(
                out.contains("Telemetry message sent successfully"),
                "{lang}: {out}"
            );
        }
        let got: Vec<_> = hub
            .running
            .hub
            .telemetry(Some(&id))
            .into_iter()
            .filter(|e| e.kind == EventKind::Telemetry)
            .collect();
        assert_eq!(got.len(), 1, "{lang}: {got:?}\n{out}");
        let body: serde_json::Value =
            serde_json::from_str(got[0].body.as_deref().unwrap_or("")).expect("a JSON body");
        assert_eq!(body["temperature"], 22.5, "{lang}");
        assert_eq!(body["deviceId"], id.as_str(), "{lang}");

        // The certificate it connected with is in its twin, and the hub's query finds it there.
        let info = identity.certificate.info().unwrap();
        let query = TwinQuery::fleet()
            .filtered(FleetFilter::IdStartsWith(id.clone()))
            .text();
        let twins = HubClient::new(localhub::HttpTransport::default(), true)
            .query_twins(&registry, &query, None, now().unix_timestamp() as u64)
            .await
            .expect("query");
        assert_eq!(twins.len(), 1, "{lang}: {twins:?}");
        let reported = twins[0]
            .reported_certificate()
            .unwrap_or_else(|| panic!("{lang} reported no certificate:\n{out}"))
            .expect("a certificate");
        assert_eq!(
            reported,
            ReportedCertificate {
                thumbprint: info.sha256.as_str().to_owned(),
                // In the certificate's order, as Node.js and Python write it.
                issuer: "C=US, O=MyOrg, CN=Snippet Root".into(),
                valid_from: format_iso8601(info.not_before),
                valid_until: format_iso8601(info.not_after),
            },
            "{lang}"
        );
    }

    // The provisioning snippets: register with localhub's DPS, then send through the assigned hub.
    assert_eq!(hub.enroll_group("snippet-fleet", &ca, true).await, 200);
    let scope = localhub::Config::default().id_scope;
    for lang in ["node", "python"] {
        let id = format!("dps-snippet-{lang}");
        let identity = device(&ca, &id);
        let d = files(dir.path(), &id);
        let f = ProvisioningFiles {
            provisioning_host: SDK_HOST.into(),
            id_scope: scope.clone(),
            registration_id: id.clone(),
            cert_file: d.cert_file,
            key_file: d.key_file,
            ca_file: d.ca_file,
        };
        std::fs::write(&f.cert_file, identity.certificate.pem()).unwrap();
        std::fs::write(&f.key_file, identity.key.to_pkcs8_pem().unwrap()).unwrap();
        let out = tokio::task::block_in_place(|| match lang {
            "node" => {
                std::fs::write(dir.path().join("provision-x509.js"), f.node()).unwrap();
                // The command the snippet's header gives, run in the snippet's directory.
                run(
                    Command::new("sh")
                        .arg("-c")
                        .arg(f.node_command())
                        .current_dir(dir.path())
                        .env("NODE_PATH", &node_modules),
                    "the Node.js provisioning snippet",
                )
            }
            _ => {
                let script = dir.path().join("provision_x509.py");
                std::fs::write(&script, f.python()).unwrap();
                run(
                    Command::new(&python).arg(&script),
                    "the Python provisioning snippet",
                )
            }
        });
        assert!(
            out.contains(&format!("Assigned to {SDK_HOST} as {id}"))
                && out.contains("Telemetry message sent successfully"),
            "{lang}: {out}"
        );
        let got: Vec<_> = hub
            .running
            .hub
            .telemetry(Some(&id))
            .into_iter()
            .filter(|e| e.kind == EventKind::Telemetry)
            .collect();
        assert_eq!(got.len(), 1, "{lang}: {got:?}\n{out}");
    }
}

//! The registry's bulk operation (`POST /devices`) on localhub: through the core's client
//! (`HubClient::bulk_registry` over `localhub::HttpTransport`), as raw requests, and by Microsoft's
//! service SDKs run unmodified: Node.js `azure-iothub` (`Registry.addDevices`, `updateDevices`,
//! `removeDevices`: tests/node/bulk-registry.js) and Python `azure-iot-hub`
//! (`IoTHubRegistryManager.bulk_create_or_update_devices`: tests/node/bulk_registry.py). Needs
//! `npm ci` in tests/node and the Python venv (scripts/test.sh and setup.sh make them). The SDKs
//! dial `https://{HostName}` (port 443) and run unmodified: each SDK test's localhub listens on
//! 443 of a loopback address of its own (`SERVICE_SDK_HOSTS`), which its connection string names.

mod common;

use common::*;
use hubcert::contract::{
    AuthKind, Authentication, ExportImportDevice, HubErrorCode, ImportMode, X509Thumbprint,
};
use localhub::Config;
use serde_json::{json, Value};

/// An entry creating a device authenticated by a verified CA.
fn ca_entry(id: &str) -> ExportImportDevice {
    ExportImportDevice {
        authentication: Some(Authentication {
            kind: AuthKind::CertificateAuthority,
            ..Default::default()
        }),
        ..ExportImportDevice::new(id, ImportMode::Create)
    }
}

/// `POST /devices` with `body` as it is: status and JSON answer.
async fn post_bulk(hub: &Hub, body: Value) -> Reply {
    let token = hub.service_token(unix_now() + 600);
    let resp = hub
        .http
        .post(format!("{}/devices?api-version=2021-04-12", hub.base))
        .header("Authorization", token)
        .json(&body)
        .send()
        .await
        .expect("request");
    reply(resp).await
}

async fn status_of(hub: &Hub, id: &str) -> u16 {
    hub.registry("GET", id, None, None).await.status
}

#[tokio::test]
async fn a_hundred_created_in_one_call_are_registered_and_one_connects_with_its_certificate() {
    let hub = start().await;
    let ca = root("Bulk Root CA");
    hub.upload_and_verify("bulk-root", &ca).await;
    let entries: Vec<_> = (0..100)
        .map(|i| ca_entry(&format!("fleet-{i:03}")))
        .collect();

    let out = core_client()
        .bulk_registry(&hub.core_registry(), &entries, unix_now())
        .await
        .expect("sent");
    assert!(out.stopped.is_none(), "{:?}", out.stopped);
    assert!(out.failed.is_empty(), "{:?}", out.failed);
    assert_eq!(out.applied.len(), 100);
    for i in [0, 42, 99] {
        let r = hub
            .registry("GET", &format!("fleet-{i:03}"), None, None)
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["authentication"]["type"], "certificateAuthority");
        assert_eq!(r.body["status"], "enabled");
    }
    let identity = device(&ca, "fleet-042");
    let (client, _events) = connect(&hub, Via::Tls, "fleet-042", Some(&identity), "")
        .await
        .expect("a device created in bulk connects");
    let _ = client.disconnect().await;
}

#[tokio::test]
async fn one_bad_entry_is_reported_by_its_id_and_the_others_apply() {
    let hub = start().await;
    hub.register_ca_device("taken").await;
    let self_signed = ExportImportDevice {
        authentication: Some(Authentication {
            kind: AuthKind::SelfSigned,
            symmetric_key: None,
            x509_thumbprint: Some(X509Thumbprint {
                primary_thumbprint: Some("AB:CD".into()),
                secondary_thumbprint: None,
            }),
        }),
        ..ExportImportDevice::new("colons", ImportMode::Create)
    };
    let entries = vec![
        ca_entry("fresh-1"),
        ca_entry("taken"),
        ca_entry("bad/id"),
        self_signed,
        ExportImportDevice::new("no-such-mode", ImportMode::Unknown("createOrUpdate".into())),
        ca_entry("fresh-2"),
    ];
    let out = core_client()
        .bulk_registry(&hub.core_registry(), &entries, unix_now())
        .await
        .expect("sent");
    assert!(out.stopped.is_none(), "{:?}", out.stopped);
    assert_eq!(out.applied, ["fresh-1", "fresh-2"]);
    let codes: Vec<(&str, HubErrorCode)> = out
        .failed
        .iter()
        .map(|(id, e)| (id.as_str(), e.error_code.clone()))
        .collect();
    assert_eq!(
        codes,
        [
            ("bad/id", HubErrorCode::ArgumentInvalid),
            ("colons", HubErrorCode::ArgumentInvalid),
            ("no-such-mode", HubErrorCode::ArgumentInvalid),
            ("taken", HubErrorCode::DeviceAlreadyExists),
        ]
    );
    assert!(
        out.failed["colons"].error_status.contains("':'"),
        "{:?}",
        out.failed
    );
    assert_eq!(status_of(&hub, "fresh-1").await, 200);
    assert_eq!(status_of(&hub, "fresh-2").await, 200);
    assert_eq!(status_of(&hub, "colons").await, 404);
    // The device that was there is as it was.
    let taken = hub.registry("GET", "taken", None, None).await;
    assert_eq!(taken.body["authentication"]["type"], "certificateAuthority");

    // On the wire: 400 with the result, as IoT Hub answers a partial failure.
    let r = post_bulk(&hub, json!([{"id": "fresh-1", "importMode": "create"}, {"id": "fresh-3", "importMode": "create"}])).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(
        r.body,
        json!({"isSuccessful": false, "errors": [{"deviceId": "fresh-1", "errorCode": "DeviceAlreadyExists", "errorStatus": "A device with ID 'fresh-1' is already registered"}], "warnings": []})
    );
    assert_eq!(status_of(&hub, "fresh-3").await, 200);
}

#[tokio::test]
async fn more_than_a_hundred_entries_or_an_id_named_twice_are_refused_whole() {
    let hub = start().await;
    let many: Vec<Value> = (0..101)
        .map(|i| json!({"id": format!("many-{i}"), "importMode": "create"}))
        .collect();
    let r = post_bulk(&hub, Value::Array(many.clone())).await;
    assert_eq!(r.status, 413, "{}", r.body);
    assert!(
        r.body["Message"]
            .as_str()
            .is_some_and(|m| m.starts_with("ErrorCode:TooManyDevices;")),
        "{}",
        r.body
    );
    assert_eq!(status_of(&hub, "many-0").await, 404);
    // A hundred is the limit, not over it.
    let r = post_bulk(&hub, Value::Array(many[..100].to_vec())).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["isSuccessful"], true);

    let r = post_bulk(
        &hub,
        json!([{"id": "twice", "importMode": "create"}, {"id": "twice", "importMode": "delete"}]),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.body["Message"]
            .as_str()
            .is_some_and(|m| m.starts_with("ErrorCode:DeviceDefinedMultipleTimes;")),
        "{}",
        r.body
    );
    assert_eq!(status_of(&hub, "twice").await, 404);

    // Without the owner's token nothing is read.
    let resp = hub
        .http
        .post(format!("{}/devices?api-version=2021-04-12", hub.base))
        .json(&json!([{"id": "x", "importMode": "create"}]))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status().as_u16(), 401);
    assert_eq!(status_of(&hub, "x").await, 404);
}

#[tokio::test]
async fn etag_modes_apply_only_with_the_current_etag() {
    let hub = start().await;
    hub.register_ca_device("e1").await;
    hub.register_ca_device("e2").await;
    let etag = |r: &Reply| r.body["etag"].as_str().expect("etag").to_owned();
    let e1 = etag(&hub.registry("GET", "e1", None, None).await);
    let e2 = etag(&hub.registry("GET", "e2", None, None).await);

    let r = post_bulk(&hub, json!([
        {"id": "e1", "importMode": "updateIfMatchETag", "eTag": "c3RhbGU=", "status": "disabled", "authentication": {"type": "certificateAuthority"}},
        {"id": "e2", "importMode": "deleteIfMatchETag", "eTag": "c3RhbGU="},
        {"id": "e2", "importMode": "updateIfMatchETag"}
    ]))
    .await;
    // The last names e2 again: the whole call is refused before the etags are looked at.
    assert_eq!(r.status, 400, "{}", r.body);

    let r = post_bulk(&hub, json!([
        {"id": "e1", "importMode": "updateIfMatchETag", "eTag": "c3RhbGU=", "status": "disabled", "authentication": {"type": "certificateAuthority"}},
        {"id": "e2", "importMode": "deleteIfMatchETag", "eTag": "c3RhbGU="}
    ]))
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    let codes: Vec<(&str, &str)> = r.body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            (
                e["deviceId"].as_str().unwrap(),
                e["errorCode"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        codes,
        [("e1", "PreconditionFailed"), ("e2", "PreconditionFailed")]
    );
    let after = hub.registry("GET", "e1", None, None).await;
    assert_eq!(
        (after.body["status"].as_str(), etag(&after)),
        (Some("enabled"), e1.clone())
    );
    assert_eq!(status_of(&hub, "e2").await, 200);

    // With the current etags (quoted, as the ETag header carries them) both apply.
    let r = post_bulk(&hub, json!([
        {"id": "e1", "importMode": "updateIfMatchETag", "eTag": format!("\"{e1}\""), "status": "disabled", "authentication": {"type": "certificateAuthority"}},
        {"id": "e2", "importMode": "deleteIfMatchETag", "eTag": e2}
    ]))
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let after = hub.registry("GET", "e1", None, None).await;
    assert_eq!(after.body["status"], "disabled");
    assert_ne!(etag(&after), e1, "an update gives a new etag");
    assert_eq!(status_of(&hub, "e2").await, 404);

    // An etag mode without an etag is the entry's error, not a write.
    let r = post_bulk(
        &hub,
        json!([{"id": "e1", "importMode": "deleteIfMatchETag"}]),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.body["errors"][0]["errorCode"], "ArgumentInvalid");
    assert_eq!(status_of(&hub, "e1").await, 200);
}

#[tokio::test]
async fn bulk_deletes_and_updates_are_saved_and_a_missing_id_is_its_own_error() {
    let dir = tempfile::tempdir().expect("dir");
    let config = || Config {
        data_dir: Some(dir.path().to_owned()),
        ..Config::ephemeral()
    };
    let hub = start_with(config()).await;
    let entries: Vec<_> = (0..10).map(|i| ca_entry(&format!("keep-{i}"))).collect();
    let out = core_client()
        .bulk_registry(&hub.core_registry(), &entries, unix_now())
        .await
        .expect("sent");
    assert_eq!(out.applied.len(), 10, "{:?}", out.failed);
    let mut deletes: Vec<_> = (0..5)
        .map(|i| ExportImportDevice::new(&format!("keep-{i}"), ImportMode::Delete))
        .collect();
    deletes.push(ExportImportDevice::new("never-was", ImportMode::Delete));
    deletes.push(ExportImportDevice {
        tags: Some(json!({"site": "north"}).as_object().cloned().expect("map")),
        ..ExportImportDevice::new("keep-9", ImportMode::UpdateTwin)
    });
    let out = core_client()
        .bulk_registry(&hub.core_registry(), &deletes, unix_now())
        .await
        .expect("sent");
    assert_eq!(out.applied.len(), 6);
    assert_eq!(
        out.failed.get("never-was").map(|e| e.error_code.clone()),
        Some(HubErrorCode::DeviceNotFound)
    );
    hub.running.stop();
    drop(hub);

    // Another localhub on the same data: the bulk changes were on disk.
    let again = start_with(config()).await;
    for i in 0..5 {
        assert_eq!(status_of(&again, &format!("keep-{i}")).await, 404);
    }
    for i in 5..10 {
        assert_eq!(status_of(&again, &format!("keep-{i}")).await, 200);
    }
    let state = std::fs::read_to_string(dir.path().join("state.json")).expect("state");
    assert!(state.contains("\"north\""), "the twin's tags were saved");
}

// Microsoft's SDKs.

#[tokio::test(flavor = "multi_thread")]
async fn node_service_sdk_adds_updates_and_removes_devices_in_bulk() {
    let hub = start_for_service_sdk(SERVICE_SDK_HOSTS[0], Config::ephemeral()).await;
    run_service_sdk(
        &hub,
        SdkScript::File("bulk-registry.js"),
        &[("PREFIX", "node")],
        &[
            "added 100 isSuccessful=true",
            "got node-7 sas",
            "mixed status=400 isSuccessful=false errors=node-0:DeviceAlreadyExists,node/bad:ArgumentInvalid",
            "stale status=400 isSuccessful=false errors=node-1:PreconditionFailed",
            "updated isSuccessful=true",
            "now node-1 disabled",
            "removed 100 isSuccessful=true",
            "gone status=400 isSuccessful=false errors=node-gone:DeviceNotFound",
        ],
    );
    // What the SDK was told is what localhub holds.
    assert_eq!(status_of(&hub, "node-0").await, 200);
    for id in ["node-1", "node-50", "node-99", "node-new"] {
        assert_eq!(status_of(&hub, id).await, 404, "{id}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn python_service_sdk_creates_and_deletes_devices_in_bulk() {
    let hub = start_for_service_sdk(SERVICE_SDK_HOSTS[1], Config::ephemeral()).await;
    run_service_sdk(
        &hub,
        SdkScript::File("bulk_registry.py"),
        &[("PREFIX", "py")],
        &[
            "created 100 is_successful=True",
            "got py-7 sas enabled",
            "mixed is_successful=False errors=py-0:DeviceAlreadyExists,py/bad:ArgumentInvalid",
            "101 refused status=413",
            "stale is_successful=False errors=py-2:PreconditionFailed",
            "deleted 100 is_successful=True",
        ],
    );
    assert_eq!(status_of(&hub, "py-new").await, 200);
    assert_eq!(status_of(&hub, "py-many-0").await, 404);
    assert_eq!(status_of(&hub, "py-2").await, 404);
}

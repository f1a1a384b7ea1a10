//! A full disk: a change localhub cannot write fails its request (500, in the plane's error
//! shape; a twin patch's 500; a DPS registration ends unanswered) and is undone in memory, so that
//! after a crash and a restart the hub holds exactly what it acknowledged.
//!
//! The test runs its data directory on a 1 MiB tmpfs filled to the last page, in a mount namespace
//! of its own: it runs itself again under `unshare --mount` (root on Linux); elsewhere it says it
//! was skipped.

mod common;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::{device, root, Hub, Via};
use hubcert::mqtt::{Provisioning, ProvisioningEvent};
use hubcert::pki::Identity;
use localhub::Config;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Set in the run inside the namespace: the tmpfs mount point.
const INNER: &str = "LOCALHUB_TEST_FULL_DISK";
const TEST: &str =
    "a_change_that_cannot_be_saved_fails_its_request_and_only_what_was_acknowledged_survives";

#[test]
fn a_change_that_cannot_be_saved_fails_its_request_and_only_what_was_acknowledged_survives() {
    if let Ok(dir) = std::env::var(INNER) {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(on_a_full_disk(PathBuf::from(dir)));
        return;
    }
    let mount = tempfile::tempdir().expect("dir");
    let probe = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c"])
        .arg(r#"mount -t tmpfs -o size=64k probe "$0""#)
        .arg(mount.path())
        .output();
    if !matches!(&probe, Ok(o) if o.status.success()) {
        eprintln!(
            "SKIPPED: a private tmpfs needs root and `unshare --mount` ({probe:?}); the full-disk test did not run"
        );
        return;
    }
    let exe = std::env::current_exe().expect("test binary");
    let out = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c"])
        .arg(r#"mount -t tmpfs -o size=1m,mode=0700 localhub-full "$0" && exec "$1" --exact "$2" --nocapture --test-threads=1"#)
        .arg(mount.path())
        .arg(&exe)
        .arg(TEST)
        .env(INNER, mount.path())
        .output()
        .expect("unshare runs");
    print!("{}", String::from_utf8_lossy(&out.stdout));
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        out.status.success(),
        "the run on a full tmpfs failed: {}",
        out.status
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("1 passed"),
        "the inner run did not run the test"
    );
}

/// Fills the file system of `dir` to its last page; the file to delete to free it again.
fn fill(dir: &Path) -> PathBuf {
    let ballast = dir.join("ballast");
    let mut f = std::fs::File::create(&ballast).expect("ballast");
    for chunk in [64 * 1024, 4096, 512, 1] {
        let bytes = vec![0xA5u8; chunk];
        while f.write_all(&bytes).is_ok() {}
    }
    let _ = f.sync_all();
    ballast
}

async fn on_a_full_disk(mount: PathBuf) {
    let config = Config {
        data_dir: Some(mount.join("hub")),
        ..Config::ephemeral()
    };
    let hub = common::start_with(config.clone()).await;

    // Acknowledged while there is room: a verified CA, a device under it with a reported
    // property, an enrollment group.
    let ca = root("Full Disk Root");
    hub.upload_and_verify("kept-ca", &ca).await;
    hub.register_ca_device("kept").await;
    let kept = device(&ca, "kept");
    let (status, twin) = patch_and_read(&hub, "kept", &kept, json!({"a": 1}), 1).await;
    assert_eq!(status, 204);
    assert_eq!(twin["reported"]["a"], 1);
    let fleet = root("Full Disk Fleet");
    assert_eq!(hub.enroll_group("kept-group", &fleet, true).await, 200);
    let device_before = hub.registry("GET", "kept", None, None).await;
    assert_eq!(device_before.status, 200);
    let etag = device_before.body["etag"]
        .as_str()
        .expect("etag")
        .to_owned();

    let ballast = fill(&mount);

    // Each plane's write fails with a 500 in its own shape, and nothing of it stays in memory.
    let r = hub
        .registry(
            "PUT",
            "lost",
            None,
            Some(json!({"deviceId": "lost", "authentication": {"type": "certificateAuthority"}})),
        )
        .await;
    assert_eq!(r.status, 500, "a device PUT on a full disk: {}", r.body);
    assert!(
        r.body["Message"]
            .as_str()
            .is_some_and(|m| m.starts_with("ErrorCode:ServerError;")),
        "{}",
        r.body
    );
    assert_eq!(hub.registry("GET", "lost", None, None).await.status, 404);

    let r = hub
        .registry(
            "PUT",
            "kept",
            Some(&format!("\"{etag}\"")),
            Some(json!({"deviceId": "kept", "status": "disabled", "authentication": {"type": "certificateAuthority"}})),
        )
        .await;
    assert_eq!(r.status, 500, "a device update on a full disk: {}", r.body);
    let r = hub.registry("DELETE", "kept", Some("*"), None).await;
    assert_eq!(r.status, 500, "a device delete on a full disk: {}", r.body);
    let now = hub.registry("GET", "kept", None, None).await;
    assert_eq!(
        (now.body["etag"].as_str(), now.body["status"].as_str()),
        (Some(etag.as_str()), Some("enabled"))
    );

    let (status, twin) = patch_and_read(&hub, "kept", &kept, json!({"b": 2}), 2).await;
    assert_eq!(status, 500, "a reported patch on a full disk");
    assert_eq!(twin["reported"]["a"], 1);
    assert!(twin["reported"].get("b").is_none(), "{twin}");

    let r = hub
        .arm(
            "PUT",
            &hub.cert_url("lost-ca"),
            None,
            Some(json!({"properties": {"certificate": root("Lost Root").certificate().pem()}})),
        )
        .await;
    assert_eq!(r.status, 500, "an ARM upload on a full disk: {}", r.body);
    assert_eq!(r.body["code"], "InternalServerError", "{}", r.body);
    assert_eq!(
        hub.arm("GET", &hub.cert_url("lost-ca"), None, None)
            .await
            .status,
        404
    );

    assert_eq!(hub.enroll_group("lost-group", &fleet, true).await, 500);
    let (status, body) = hub
        .dps_call(
            reqwest::Method::PUT,
            "/enrollmentGroups/lost-group",
            Some(group_body("lost-group", &fleet)),
        )
        .await;
    assert_eq!(
        (status, body["errorCode"].as_i64()),
        (500, Some(500_000)),
        "{body}"
    );
    assert_eq!(
        hub.dps_call(reqwest::Method::GET, "/enrollmentGroups/lost-group", None)
            .await
            .0,
        404
    );

    // A device registering through DPS is never told it is assigned.
    let events = register(
        &hub,
        &config.id_scope,
        "fleet-dev",
        &device(&fleet, "fleet-dev"),
    )
    .await;
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, ProvisioningEvent::Assigned { .. })),
        "{events:?}"
    );
    assert_eq!(
        hub.dps_call(reqwest::Method::GET, "/registrations/fleet-dev", None)
            .await
            .0,
        404
    );
    assert_eq!(
        hub.registry("GET", "fleet-dev", None, None).await.status,
        404
    );

    // Room again: the same hub writes again, without a restart.
    std::fs::remove_file(&ballast).expect("free the disk");
    let r = hub
        .registry(
            "PUT",
            "after",
            None,
            Some(json!({"deviceId": "after", "authentication": {"type": "certificateAuthority"}})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);

    // A crash: this hub's memory is abandoned (nothing is written on the way out), and a new
    // localhub reads the data directory.
    hub.running.stop();
    let restarted = common::start_with(config).await;
    let again = restarted.registry("GET", "kept", None, None).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.body["etag"], device_before.body["etag"]);
    assert_eq!(again.body["status"], "enabled");
    assert_eq!(
        again.body["authentication"],
        device_before.body["authentication"]
    );
    for id in ["lost", "fleet-dev"] {
        assert_eq!(
            restarted.registry("GET", id, None, None).await.status,
            404,
            "{id}"
        );
    }
    assert_eq!(
        restarted.registry("GET", "after", None, None).await.status,
        200
    );
    let twin = common::twin_of(&restarted, "kept", &kept, None).await;
    assert_eq!(twin["reported"]["a"], 1);
    assert!(twin["reported"].get("b").is_none(), "{twin}");
    assert_eq!(twin["reported"]["$version"], 2, "{twin}");
    assert_eq!(
        restarted
            .arm("GET", &restarted.cert_url("kept-ca"), None, None)
            .await
            .status,
        200
    );
    assert_eq!(
        restarted
            .arm("GET", &restarted.cert_url("lost-ca"), None, None)
            .await
            .status,
        404
    );
    for (group, status) in [("kept-group", 200), ("lost-group", 404)] {
        let path = format!("/enrollmentGroups/{group}");
        assert_eq!(
            restarted
                .dps_call(reqwest::Method::GET, &path, None)
                .await
                .0,
            status,
            "{group}"
        );
    }
    assert_eq!(
        restarted
            .dps_call(reqwest::Method::GET, "/registrations/fleet-dev", None)
            .await
            .0,
        404
    );
}

fn group_body(id: &str, ca: &hubcert::pki::CertificateAuthority) -> Value {
    let mut group =
        hubcert::contract::EnrollmentGroup::x509_signing(id, &ca.certificate().pem(), None);
    group.allocation_policy = Some("static".into());
    serde_json::to_value(&group).expect("json")
}

/// Connects as `id`, sends a reported-properties patch with request id `rid`, and reads the twin:
/// the patch's status and the twin.
async fn patch_and_read(
    hub: &Hub,
    id: &str,
    identity: &Identity,
    patch: Value,
    rid: u32,
) -> (u16, Value) {
    let (client, events) = common::connect(hub, Via::Tls, id, Some(identity), "")
        .await
        .expect("connects");
    common::patch_and_read(client, events, patch, rid).await
}

/// Registers `registration_id` through DPS over TLS; the flow's events until it ends.
async fn register(
    hub: &Hub,
    scope: &str,
    registration_id: &str,
    identity: &Identity,
) -> Vec<ProvisioningEvent> {
    let mut tls = common::device_tls(hub, identity).await.expect("tls");
    let started = Instant::now();
    let ms = || started.elapsed().as_millis() as u64;
    let mut flow = Provisioning::connect(scope, registration_id, None, 0).expect("connect");
    let mut events = Vec::new();
    let mut buf = [0u8; 8192];
    while !flow.is_finished() {
        for frame in flow.take_outgoing() {
            if tls.write_all(&frame).await.is_err() {
                return events;
            }
        }
        if tls.flush().await.is_err() {
            return events;
        }
        match tokio::time::timeout(Duration::from_millis(200), tls.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => match flow.receive(&buf[..n], ms()) {
                Ok(more) => events.extend(more),
                Err(_) => break,
            },
            Err(_) => {}
        }
        if flow.tick(ms()).is_err() {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "registration took too long: {events:?}"
        );
    }
    events
}

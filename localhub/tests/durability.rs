//! localhub's state on disk: every acknowledged write survives `kill -9`, the file always parses,
//! a damaged file falls back to the backup of the previous write, and secrets are private.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hubcert::contract::build_sas_token;
use hubcert::iothub::ConnectionString;
use serde_json::{json, Value};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The localhub binary on `dir`, its REST on the returned port.
fn spawn(dir: &Path) -> (Child, u16) {
    let http = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_localhub"))
        .arg("--data-dir")
        .arg(dir)
        .args(["--http-port", &http.to_string()])
        .args(["--https-port", &free_port().to_string()])
        .args(["--mqtt-port", &free_port().to_string()])
        .args(["--wss-port", &free_port().to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("localhub runs");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", http)).is_err() {
        assert!(Instant::now() < deadline, "localhub did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    (child, http)
}

async fn owner_token(http: &reqwest::Client, base: &str) -> String {
    let info: Value = http
        .get(format!("{base}/localhub/info"))
        .send()
        .await
        .expect("info")
        .json()
        .await
        .expect("json");
    let cs = ConnectionString::parse(info["connectionString"].as_str().expect("cs")).expect("cs");
    let expiry = common::now().unix_timestamp() as u64 + 3600;
    build_sas_token(
        &cs.host_name,
        &cs.key.expect("key"),
        Some("iothubowner"),
        expiry,
    )
    .expect("token")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_acknowledged_registration_survives_kill_9() {
    let dir = tempfile::tempdir().expect("dir");
    let (mut child, port) = spawn(dir.path());
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let token = owner_token(&http, &base).await;

    // 1,000 registrations at once; localhub is killed once 300 have been acknowledged.
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let count = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..1000 {
        let (http, base, token) = (http.clone(), base.clone(), token.clone());
        let (acknowledged, count) = (acknowledged.clone(), count.clone());
        tasks.push(tokio::spawn(async move {
            let id = format!("durable-{i:04}");
            let body = json!({"deviceId": id, "authentication": {"type": "certificateAuthority"}});
            let r = http
                .put(format!("{base}/devices/{id}?api-version=2021-04-12"))
                .header("Authorization", &token)
                .json(&body)
                .send()
                .await;
            if matches!(&r, Ok(r) if r.status() == 200) {
                acknowledged.lock().expect("lock").push(id);
                count.fetch_add(1, Ordering::SeqCst);
            }
        }));
    }
    while count.load(Ordering::SeqCst) < 300 {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "registrations too slow"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    child.kill().expect("SIGKILL");
    let killed_at = started.elapsed();
    let _ = child.wait();
    for t in tasks {
        let _ = t.await;
    }
    let acknowledged = acknowledged.lock().expect("lock").clone();

    // The file parses as it is.
    let text = std::fs::read(dir.path().join("state.json")).expect("state.json");
    let state: Value = serde_json::from_slice(&text).expect("state.json parses after kill -9");
    let on_disk = state["devices"].as_object().map(|d| d.len()).unwrap_or(0);

    // Restarted, every acknowledged device is there.
    let (mut child, port) = spawn(dir.path());
    let base = format!("http://127.0.0.1:{port}");
    let token = owner_token(&http, &base).await;
    let mut missing = Vec::new();
    for id in &acknowledged {
        let r = http
            .get(format!("{base}/devices/{id}?api-version=2021-04-12"))
            .header("Authorization", &token)
            .send()
            .await
            .expect("get");
        if r.status() != 200 {
            missing.push(id.clone());
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    println!(
        "kill -9 after {} acknowledged registrations ({:.2} s): {} devices on disk, {} acknowledged missing",
        acknowledged.len(),
        killed_at.as_secs_f64(),
        on_disk,
        missing.len()
    );
    assert!(acknowledged.len() >= 300);
    assert!(missing.is_empty(), "acknowledged but lost: {missing:?}");
    assert!(on_disk >= acknowledged.len());
}

#[tokio::test]
async fn a_damaged_state_file_falls_back_to_the_backup_or_is_named() {
    let dir = tempfile::tempdir().expect("dir");
    let config = localhub::Config {
        data_dir: Some(dir.path().to_path_buf()),
        ..localhub::Config::ephemeral()
    };
    let first = localhub::start(config.clone()).await.expect("start");
    let connection_string = first.hub.connection_string();
    first.stop();
    // Two writes happened (start, then a second start saves again): a backup exists.
    let second = localhub::start(config.clone()).await.expect("restart");
    second.stop();
    let state = dir.path().join("state.json");
    assert!(dir.path().join("state.json.bak").exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for f in ["state.json", "state.json.bak", "tls/server.key"] {
            let mode = std::fs::metadata(dir.path().join(f))
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{f} holds secrets");
        }
    }

    // A half-written state.json: the backup is used, the damaged file kept aside.
    std::fs::write(&state, b"{\"certificates\": {").expect("damage");
    let third = localhub::start(config.clone())
        .await
        .expect("starts from the backup");
    assert_eq!(third.hub.connection_string(), connection_string);
    third.stop();
    assert!(std::fs::read_dir(dir.path()).expect("list").any(|e| e
        .expect("entry")
        .file_name()
        .to_string_lossy()
        .starts_with("state.json.damaged-")));

    // Both damaged: refused, naming the file and what to do.
    std::fs::write(&state, b"not json").expect("damage");
    std::fs::write(dir.path().join("state.json.bak"), b"not json either").expect("damage");
    let refused = localhub::start(config).await.err().expect("refused");
    assert!(
        refused.contains("state.json") && refused.contains("Move") && refused.contains("backup"),
        "{refused}"
    );
}

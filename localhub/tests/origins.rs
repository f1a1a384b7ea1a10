//! Which pages may read localhub: `/localhub/info` holds the owner and DPS keys, so CORS answers
//! only the app as `scripts/run.sh` serves it, unless `--allow-origin` adds another; and the
//! binary keeps the keys off its terminal.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::start;

/// The `Access-Control-Allow-Origin` of `/localhub/info` at `base` for a page at `origin`.
async fn allowed(http: &reqwest::Client, base: &str, origin: &str) -> Option<String> {
    let r = http
        .get(format!("{base}/localhub/info"))
        .header("Origin", origin)
        .send()
        .await
        .expect("answer");
    r.headers()
        .get("access-control-allow-origin")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

#[tokio::test]
async fn by_default_only_the_apps_own_origin_reads_the_keys() {
    let hub = start().await;
    for app in ["http://127.0.0.1:8080", "http://localhost:8080"] {
        assert_eq!(
            allowed(&hub.http, &hub.base, app).await.as_deref(),
            Some(app)
        );
    }
    // Another dev server on this machine is another site's page.
    for other in [
        "http://localhost:3000",
        "http://127.0.0.1:5173",
        "http://127.0.0.1:8081",
        "https://127.0.0.1:8080",
        "http://[::1]:8080",
        "null",
    ] {
        assert_eq!(allowed(&hub.http, &hub.base, other).await, None, "{other}");
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

#[test]
fn allow_origin_adds_a_page_and_the_keys_stay_off_the_terminal() {
    let dir = tempfile::tempdir().expect("dir");
    let http = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_localhub"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["--http-port", &http.to_string()])
        .args(["--https-port", &free_port().to_string()])
        .args(["--mqtt-port", &free_port().to_string()])
        .args(["--wss-port", &free_port().to_string()])
        .args(["--allow-origin", "http://localhost:3000"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("localhub runs");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut printed = String::new();
    while !printed.contains("TLS root") {
        if out.read_line(&mut printed).expect("stdout") == 0 {
            break;
        }
    }
    let base = format!("http://127.0.0.1:{http}");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let http_client = reqwest::Client::new();
    let (added, app, other) = rt.block_on(async {
        (
            allowed(&http_client, &base, "http://localhost:3000").await,
            allowed(&http_client, &base, "http://127.0.0.1:8080").await,
            allowed(&http_client, &base, "http://localhost:3001").await,
        )
    });
    child.kill().expect("kill");
    let _ = child.wait();

    assert!(
        !printed.contains("SharedAccessKey") && !printed.contains("HostName="),
        "a connection string was printed:\n{printed}"
    );
    assert!(
        printed.contains(&format!("{base}/localhub/info")),
        "where to get the connection strings is not said:\n{printed}"
    );
    assert_eq!(added.as_deref(), Some("http://localhost:3000"));
    assert_eq!(
        app.as_deref(),
        Some("http://127.0.0.1:8080"),
        "--allow-origin adds to the app's origins"
    );
    assert_eq!(other, None);
}

//! `localhub relay`: forwards the app's device calls to one hub, adds CORS, refuses everything else.
//! A localhub on loopback stands in for `NAME.azure-devices.net`.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use common::start;
use hubcert::contract::DeviceId;
use hubcert::iothub::HubClient;
use hubcert::iothub::{DeviceAuth, Registry};
use localhub::{start_relay, RelayConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn unix() -> u64 {
    common::now().unix_timestamp() as u64
}

#[test]
fn only_azure_device_hosts_and_loopback_test_upstreams_are_accepted() {
    for (hub, upstream) in [
        ("myhub", "https://myhub.azure-devices.net"),
        ("MyHub.azure-devices.net", "https://myhub.azure-devices.net"),
        (
            "https://my-hub.azure-devices.net/",
            "https://my-hub.azure-devices.net",
        ),
    ] {
        assert_eq!(RelayConfig::for_hub(hub).unwrap().upstream(), upstream);
    }
    for bad in [
        "evil.example.com",
        "myhub.azure-devices.net.evil.com",
        "azure-devices.net",
        ".azure-devices.net",
        "a_b.azure-devices.net",
        "my.hub.azure-devices.net",
        "-hub.azure-devices.net",
        "myhub.azure-devices.net:444",
        "",
    ] {
        assert!(RelayConfig::for_hub(bad).is_err(), "{bad} accepted");
    }
    assert!(RelayConfig::for_test_upstream("http://127.0.0.1:8081").is_ok());
    for bad in [
        "http://10.0.0.1:8081",
        "https://127.0.0.1:8081",
        "http://127.0.0.1.evil.com:80",
        "http://127.0.0.1:",
        "http://example.com:80",
    ] {
        assert!(
            RelayConfig::for_test_upstream(bad).is_err(),
            "{bad} accepted"
        );
    }
}

#[tokio::test]
async fn a_twin_query_pages_through_the_relay_with_its_headers_both_ways() {
    let hub = start().await;
    let mut config = RelayConfig::for_test_upstream(&hub.base).unwrap();
    config.port = 0;
    let relay = start_relay(config).await.unwrap();
    let relay_base = format!("http://{}", relay.addr);
    let client = HubClient::new(localhub::HttpTransport(hub.http.clone()), false);
    let cs = hub.running.hub.connection_string();
    let via_relay = Registry::from_connection_string(&relay_base, &cs).unwrap();
    for i in 0..5 {
        let id = DeviceId::parse(&format!("paged-{i}")).unwrap();
        client
            .register_device(&via_relay, &id, &DeviceAuth::CertificateAuthority, unix())
            .await
            .unwrap();
    }
    // Pages of 2: the page size goes up, each continuation comes back and goes up again.
    let twins = client
        .query_twins(&via_relay, "SELECT deviceId FROM devices", Some(2), unix())
        .await
        .unwrap();
    let ids: Vec<&str> = twins.iter().map(|t| t.device_id.as_str()).collect();
    assert_eq!(ids, ["paged-0", "paged-1", "paged-2", "paged-3", "paged-4"]);
    let page = client
        .query_page(&via_relay, "SELECT * FROM devices", None, Some(2), unix())
        .await
        .unwrap();
    assert_eq!(page.twins.len(), 2);
    assert!(page.continuation.is_some());
    assert_eq!(page.item_type, Some(hubcert::contract::QueryItemType::Twin));
}

#[tokio::test]
async fn the_apps_device_calls_go_through_with_cors_and_nothing_else_does() {
    let hub = start().await;
    let mut config = RelayConfig::for_test_upstream(&hub.base).unwrap();
    config.port = 0;
    let relay = start_relay(config).await.unwrap();
    let relay_base = format!("http://{}", relay.addr);

    // The app's registry calls, sent to the relay, land in the hub.
    let client = HubClient::new(localhub::HttpTransport(hub.http.clone()), false);
    let cs = hub.running.hub.connection_string();
    let via_relay = Registry::from_connection_string(&relay_base, &cs).unwrap();
    let direct = Registry::from_connection_string(&hub.base, &cs).unwrap();
    let id = DeviceId::parse("relayed-1").unwrap();
    let made = client
        .register_device(&via_relay, &id, &DeviceAuth::CertificateAuthority, unix())
        .await
        .unwrap();
    assert_eq!(made.auth_type.as_str(), "certificateAuthority");
    let held = client.device(&direct, &id, unix()).await.unwrap();
    assert_eq!(held.device_id, "relayed-1");
    // An error answer comes back as the hub gave it: a second PUT is 409.
    let again = client
        .register_device(&via_relay, &id, &DeviceAuth::CertificateAuthority, unix())
        .await
        .unwrap_err();
    assert_eq!(again.status(), Some(409), "{again}");
    client.delete_device(&via_relay, &id, unix()).await.unwrap();
    assert_eq!(
        client
            .device(&direct, &id, unix())
            .await
            .unwrap_err()
            .status(),
        Some(404)
    );

    // CORS for the app's origin, on the preflight and on the answer; none for others.
    let url = format!("{relay_base}/devices/relayed-1?api-version=2021-04-12");
    let preflight = hub
        .http
        .request(reqwest::Method::OPTIONS, &url)
        .header("Origin", "http://127.0.0.1:8080")
        .header("Access-Control-Request-Method", "PUT")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 204);
    assert_eq!(
        preflight.headers()["access-control-allow-origin"],
        "http://127.0.0.1:8080"
    );
    assert!(preflight.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .contains("If-Match"));
    let answer = hub
        .http
        .get(&url)
        .header("Origin", "http://localhost:8080")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 401, "no credentials: the hub's refusal");
    assert_eq!(
        answer.headers()["access-control-allow-origin"],
        "http://localhost:8080"
    );
    let other = hub
        .http
        .get(&url)
        .header("Origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 403, "a foreign page is refused");
    assert!(other.headers().get("access-control-allow-origin").is_none());

    // A page whose name was rebound to 127.0.0.1 sends its own name as Host: refused.
    let rebound = hub
        .http
        .get(&url)
        .header("Host", format!("evil.example:{}", relay.addr.port()))
        .send()
        .await
        .unwrap();
    assert_eq!(rebound.status(), 421);

    // Nothing but /devices: not ARM, not localhub's own pages, not a climb out of /devices.
    for path in [
        "/subscriptions/s/resourceGroups/r/providers/Microsoft.Devices/IotHubs/localhub/certificates?api-version=2023-06-30",
        "/localhub/info",
        "/devicesX",
        "/",
    ] {
        let r = hub
            .http
            .get(format!("{relay_base}{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{path}");
        assert!(r.text().await.unwrap().contains("RelayPathRefused"), "{path}");
    }
    relay.stop();
}

#[test]
fn the_binary_listens_on_loopback_and_logs_no_secret() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let hub = rt.block_on(start());
    let mut child = Command::new(env!("CARGO_BIN_EXE_localhub"))
        .args(["relay", "--test-upstream", &hub.base, "--port", "0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    let addr = first
        .split_whitespace()
        .find_map(|w| w.strip_prefix("http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("no loopback address in {first:?}"))
        .to_owned();
    let secret = "SharedAccessSignature sr=x&sig=TOPSECRETSIG&se=1&skn=iothubowner";
    let status = rt.block_on(async {
        hub.http
            .put(format!(
                "http://127.0.0.1:{addr}/devices/logged?api-version=2021-04-12"
            ))
            .header("Authorization", secret)
            .body(r#"{"deviceId":"logged","note":"BODYSECRET"}"#)
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(status, 401);
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    child.kill().unwrap();
    let _ = child.wait();
    assert!(line.contains("PUT /devices/logged -> 401"), "{line:?}");
    assert!(
        !line.contains("TOPSECRET") && !line.contains("BODYSECRET") && !line.contains("sig="),
        "{line:?}"
    );

    // A host that is not an IoT Hub: the binary refuses to start.
    let refused = Command::new(env!("CARGO_BIN_EXE_localhub"))
        .args(["relay", "--hub", "evil.example.com"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("not an IoT Hub host"));
}

#[test]
fn a_dps_relay_takes_only_dps_hosts() {
    for (dps, upstream) in [
        ("mydps", "https://mydps.azure-devices-provisioning.net"),
        (
            "https://My-Dps.azure-devices-provisioning.net/",
            "https://my-dps.azure-devices-provisioning.net",
        ),
    ] {
        assert_eq!(RelayConfig::for_dps(dps).unwrap().upstream(), upstream);
    }
    for bad in [
        "mydps.azure-devices.net",
        "evil.example.com",
        "ab",
        "-dps",
        "mydps.azure-devices-provisioning.net.evil.com",
    ] {
        assert!(RelayConfig::for_dps(bad).is_err(), "{bad} accepted");
    }
}

#[tokio::test]
async fn a_dps_relay_forwards_the_service_api_and_nothing_else() {
    let hub = start().await;
    let mut config =
        RelayConfig::for_test_upstream_as(&hub.base, localhub::RelayTarget::Dps).unwrap();
    config.port = 0;
    let relay = start_relay(config).await.unwrap();
    let relay_base = format!("http://{}", relay.addr);
    // Without credentials the DPS answers 401 itself: the request went through.
    let r = hub
        .http
        .get(format!(
            "{relay_base}/enrollmentGroups/fleet?api-version=2021-10-01"
        ))
        .header("Origin", "http://127.0.0.1:8080")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "http://127.0.0.1:8080"
    );
    // The hub's registry and localhub's own pages are not forwarded.
    for path in [
        "/devices/d1?api-version=2021-04-12",
        "/localhub/info",
        "/enrollmentGroupsX",
    ] {
        let r = hub
            .http
            .get(format!("{relay_base}{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{path}");
    }
}

/// A stand-in upstream that records the request line of every request it gets and answers 200.
async fn recording_upstream() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tcp.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&head);
                log.lock()
                    .unwrap()
                    .push(text.lines().next().unwrap_or("").to_owned());
                let _ = tcp
                    .write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}",
                    )
                    .await;
            });
        }
    });
    (base, seen)
}

/// Sends a request to `addr` byte for byte (no client library normalises the path), with
/// `headers`; the status and the body of the answer.
async fn raw(addr: std::net::SocketAddr, method: &str, path: &str, headers: &str) -> (u16, String) {
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n{headers}content-length: 0\r\nconnection: close\r\n\r\n",
        addr.port()
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tcp.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {answer:?}"));
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

#[tokio::test]
async fn a_foreign_page_or_an_ambiguous_path_is_refused_before_anything_is_sent() {
    let (upstream, seen) = recording_upstream().await;
    let mut config = RelayConfig::for_test_upstream(&upstream).unwrap();
    config.port = 0;
    let relay = start_relay(config).await.unwrap();
    let addr = relay.addr;

    // Pages of other origins, another dev server on this machine among them: their "simple"
    // requests need no preflight, so CORS alone would forward them (answer unread). Refused.
    for (method, headers) in [
        ("GET", "Origin: http://localhost:3000\r\n"),
        (
            "POST",
            "Origin: http://127.0.0.1:5173\r\ncontent-type: text/plain\r\n",
        ),
        ("DELETE", "Origin: https://evil.example\r\nif-match: *\r\n"),
        ("GET", "Origin: null\r\n"),
        (
            "OPTIONS",
            "Origin: http://localhost:3000\r\naccess-control-request-method: PUT\r\n",
        ),
    ] {
        let (status, body) = raw(addr, method, "/devices/d1?api-version=2021-04-12", headers).await;
        assert_eq!(status, 403, "{method} {headers:?}: {body}");
        assert!(
            body.contains("RelayOriginRefused") && body.contains("--allow-origin"),
            "{body}"
        );
    }

    // Paths the hub (or a proxy on the way) could read as another path.
    for path in [
        "/devices/..%2fx",
        "/devices/..%2Fx",
        "/devices/x%2F..%2F..%2Fsubscriptions",
        "/devices/a%5cb",
        "/devices/a%5C..%5Cb",
        "/devices/../localhub/info",
        "/devices/./d1",
        "/devices/%2e%2e/localhub/info",
        "/devices/%2E%2E/localhub/info",
        "/devices/.%2e/localhub/info",
        "/devices/d1/..",
    ] {
        let (status, body) = raw(addr, "GET", path, "Origin: http://127.0.0.1:8080\r\n").await;
        assert_eq!(status, 400, "{path}: {body}");
        assert!(body.contains("RelayPathAmbiguous"), "{path}: {body}");
        let (status, _) = raw(addr, "GET", path, "").await;
        assert_eq!(status, 400, "{path} without Origin");
    }
    assert!(
        seen.lock().unwrap().is_empty(),
        "forwarded: {:?}",
        seen.lock().unwrap()
    );

    // The app's own origin, and a client that is not a page (no Origin), still go through.
    for headers in [
        "Origin: http://127.0.0.1:8080\r\n",
        "Origin: http://localhost:8080\r\n",
        "",
    ] {
        let (status, _) = raw(
            addr,
            "GET",
            "/devices/d%231?api-version=2021-04-12",
            headers,
        )
        .await;
        assert_eq!(status, 200, "{headers:?}");
    }
    assert_eq!(
        *seen.lock().unwrap(),
        vec!["GET /devices/d%231?api-version=2021-04-12 HTTP/1.1"; 3]
    );
    relay.stop();
}

#[test]
fn the_relays_allow_origin_adds_to_the_apps_origins() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (upstream, seen) = rt.block_on(recording_upstream());
    let mut child = Command::new(env!("CARGO_BIN_EXE_localhub"))
        .args(["relay", "--test-upstream", &upstream, "--port", "0"])
        .args(["--allow-origin", "http://localhost:3000"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    let addr: std::net::SocketAddr = first
        .split_whitespace()
        .find_map(|w| w.strip_prefix("http://"))
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("no address in {first:?}"));
    let statuses = rt.block_on(async {
        let mut statuses = Vec::new();
        for origin in [
            "http://localhost:3000",
            "http://127.0.0.1:8080",
            "http://localhost:3001",
        ] {
            let headers = format!("Origin: {origin}\r\n");
            statuses.push(raw(addr, "GET", "/devices/d1", &headers).await.0);
        }
        statuses
    });
    child.kill().unwrap();
    let _ = child.wait();
    assert_eq!(statuses, [200, 200, 403]);
    assert_eq!(seen.lock().unwrap().len(), 2);
}

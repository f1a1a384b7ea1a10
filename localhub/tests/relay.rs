//! `localhub relay`: forwards the app's device calls to one hub, adds CORS, refuses everything else.
//! A localhub on loopback stands in for `NAME.azure-devices.net`.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::start;
use hubcert::contract::DeviceId;
use hubcert::iothub::HubClient;
use hubcert::iothub::{DeviceAuth, Registry};
use localhub::{start_relay, RelayConfig};

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
        "/devices/%2e%2e/localhub/info",
        "/devices/%2E%2E/localhub/info",
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
        "/enrollmentGroups/%2e%2e/localhub/info",
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

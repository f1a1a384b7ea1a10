//! In headless Chromium against a running localhub (the fixtures of scripts/fixtures.sh): the hub steps as a
//! user clicks through them, then what localhub holds, checked by calls of the test's own.
#![cfg(target_arch = "wasm32")]

mod page;

use hubcert::app::Fetch;
use hubcert::contract::build_sas_token;
use hubcert::iothub::HubClient;
use hubcert::iothub::{Arm, Plane};
use hubcert::pki::{CertificateAuthority, RootCaParams};
use page::{choose, click, find, mount, settle, text, type_into, value, wait_for};
use serde_json::Value;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// localhub's REST address; the fixtures (scripts/fixtures.sh) start it there.
const LOCALHUB: &str = match option_env!("HUBCERT_LOCALHUB") {
    Some(url) => url,
    None => "http://127.0.0.1:18081",
};

/// An unsigned JWT that expired in 2001.
const EXPIRED_JWT: &str = "eyJhbGciOiJub25lIn0.eyJleHAiOjEwMDAwMDAwMDB9.";

fn unix_now() -> u64 {
    (js_sys::Date::now() / 1000.0) as u64
}

async fn get_json(url: &str, authorization: &str) -> (u16, Value) {
    let r = gloo::net::http::Request::get(url)
        .header("Authorization", authorization)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// localhub's info, or a failure that says how to start it.
async fn localhub_info() -> Value {
    let url = format!("{LOCALHUB}/localhub/info");
    match gloo::net::http::Request::get(&url).send().await {
        Ok(r) => r.json().await.expect("localhub info is JSON"),
        Err(e) => panic!(
            "localhub is not running at {LOCALHUB} ({e}). Run the browser tests under the fixtures: \
             ./scripts/fixtures.sh run wasm-pack test --headless --chrome (scripts/test.sh does this)"
        ),
    }
}

/// Points the hub settings at the test's localhub and reads its connection string from it.
async fn point_at_localhub(page: &web_sys::Element) {
    type_into(page, "hub-arm-endpoint", LOCALHUB);
    type_into(page, "hub-registry-endpoint", LOCALHUB);
    click(page, "hub-read-localhub");
    wait_for(page, "#hub-settings-status", "connection string").await;
}

/// Uploads the page's signing CA as `name` and proves possession, in one click.
async fn upload_with_proof(page: &web_sys::Element, name: &str) {
    type_into(page, "hub-cert-name", name);
    click(page, "hub-upload");
    wait_for(page, "#hub-upload-status", "verified (proof of possession)").await;
}

/// Issues a device certificate for `id` with the step's defaults.
async fn issue_device(page: &web_sys::Element, id: &str) {
    type_into(page, "d-id", id);
    click(page, "d-create");
    settle().await;
}

/// Points the DPS settings at the test's localhub and reads them from it.
async fn read_localhub_dps(page: &web_sys::Element) {
    type_into(page, "dps-endpoint", LOCALHUB);
    click(page, "dps-read-localhub");
    wait_for(page, "#dps-settings-status", "Read localhub's DPS").await;
}

fn suffix() -> String {
    format!(
        "{:08x}",
        (js_sys::Math::random() * f64::from(u32::MAX)) as u32
    )
}

#[wasm_bindgen_test]
async fn a_user_uploads_proves_possession_and_registers_a_device_on_localhub() {
    let info = localhub_info().await;
    let page = mount().await;

    type_into(&page, "ca-cn", "Browser Hub Root");
    click(&page, "ca-create");
    settle().await;
    let sha1 = text(&page, "#ca-result .thumb.sha1");

    // Point the settings at the test's localhub and read its connection string from it.
    point_at_localhub(&page).await;
    assert_eq!(
        value(&page, "hub-connection-string"),
        info["connectionString"].as_str().unwrap()
    );
    click(&page, "hub-test");
    wait_for(&page, "#hub-settings-status", "Connected to 'localhub'").await;

    // One click: upload, code, verification certificate, verify.
    let name = format!("browser-{}", suffix());
    type_into(&page, "hub-cert-name", &name);
    click(&page, "hub-upload");
    let done = wait_for(
        &page,
        "#hub-upload-status",
        "verified (proof of possession)",
    )
    .await;
    assert!(done.contains(&name), "{done}");
    let shown = text(&page, "#hub-cert-result");
    assert!(
        shown.contains("Verified") && shown.contains(&sha1),
        "{shown}"
    );
    // The verification certificate made on the way is shown with its file.
    let v = wait_for(&page, "#v-result", "Verification certificate (code").await;
    assert!(
        v.contains("CN=Browser Hub Root") && v.contains("verification.pem"),
        "{v}"
    );
    wait_for(&page, "#hub-cert-list", &name).await;

    // A device certificate, then its registration as CA-signed.
    let device = format!("browser-dev-{}", suffix());
    issue_device(&page, &device).await;
    click(&page, "reg-fill");
    settle().await;
    assert!(value(&page, "reg-ids").contains(&device));
    type_into(&page, "reg-ids", &format!("{device}\nbad/id"));
    click(&page, "reg-submit");
    wait_for(&page, "#reg-status", "1 of 2 done; 1 failed").await;
    let rows = text(&page, "#reg-results");
    // Two ids go in one bulk call; the one the page refuses is not sent.
    assert!(
        rows.contains(&format!("{device} — registered (bulk)")),
        "{rows}"
    );
    assert!(rows.contains("bad/id — ") && rows.contains("'/'"), "{rows}");

    // Revoked as IoT Hub revokes (disabled in the registry), then enabled again.
    type_into(&page, "reg-ids", &device);
    settle().await;
    click(&page, "reg-disable");
    wait_for(&page, "#reg-status", "1 of 1 done").await;
    assert!(
        text(&page, "#reg-results").contains("disabled"),
        "{}",
        text(&page, "#reg-results")
    );
    click(&page, "reg-enable");
    wait_for(&page, "#reg-results", "enabled").await;

    // What localhub now holds, read with the test's own calls.
    let (status, cert) = get_json(
        &format!("{LOCALHUB}/subscriptions/s/resourceGroups/r/providers/Microsoft.Devices/IotHubs/localhub/certificates/{name}?api-version=2023-06-30"),
        "Bearer test",
    )
    .await;
    assert_eq!(status, 200, "{cert}");
    assert_eq!(cert["properties"]["isVerified"], Value::Bool(true));
    assert_eq!(
        cert["properties"]["thumbprint"].as_str(),
        Some(sha1.as_str())
    );
    let cs = info["connectionString"].as_str().unwrap();
    let key = cs.split("SharedAccessKey=").nth(1).unwrap();
    let host = info["hostName"].as_str().unwrap();
    let token = build_sas_token(host, key, Some("iothubowner"), unix_now() + 60).unwrap();
    let (status, dev) = get_json(
        &format!("{LOCALHUB}/devices/{device}?api-version=2021-04-12"),
        &token,
    )
    .await;
    assert_eq!(status, 200, "{dev}");
    assert_eq!(dev["authentication"]["type"], "certificateAuthority");

    // A second device, pinned by the SHA-256 thumbprint of the certificate issued here.
    let pinned = format!("browser-pin-{}", suffix());
    issue_device(&page, &pinned).await;
    let sha256 = text(&page, "[id^=device-] .thumb.sha256");
    type_into(&page, "reg-ids", &pinned);
    click(&page, "reg-self");
    settle().await;
    assert!(text(&page, "#step-register .command").contains(&sha256));
    click(&page, "reg-submit");
    wait_for(&page, "#reg-status", "1 of 1 done").await;
    let (status, dev) = get_json(
        &format!("{LOCALHUB}/devices/{pinned}?api-version=2021-04-12"),
        &token,
    )
    .await;
    assert_eq!(status, 200, "{dev}");
    assert_eq!(dev["authentication"]["type"], "selfSigned");
    assert_eq!(
        dev["authentication"]["x509Thumbprint"]["primaryThumbprint"].as_str(),
        Some(sha256.as_str())
    );
    // An id with no certificate on this page cannot be pinned: the row says what to do.
    type_into(&page, "reg-ids", "never-issued");
    click(&page, "reg-submit");
    wait_for(&page, "#reg-results", "No certificate with CN=never-issued").await;
    click(&page, "reg-ca");

    // An expired ARM token: the message says so and how to get a new one.
    type_into(&page, "hub-arm-token", EXPIRED_JWT);
    click(&page, "hub-list");
    let err = wait_for(&page, "#hub-list-status", "HTTP 401").await;
    assert!(
        err.contains("expired") && err.contains("az account get-access-token"),
        "{err}"
    );

    // Delete the device (two clicks), then the CA certificate from the list.
    type_into(&page, "hub-arm-token", "test");
    type_into(&page, "reg-ids", &device);
    click(&page, "reg-delete");
    wait_for(&page, "#reg-status", "Click Delete again to confirm").await;
    click(&page, "reg-delete");
    wait_for(&page, "#reg-status", "1 of 1 done").await;
    let (status, _) = get_json(
        &format!("{LOCALHUB}/devices/{device}?api-version=2021-04-12"),
        &token,
    )
    .await;
    assert_eq!(status, 404);
    click(&page, "hub-list");
    wait_for(&page, "#hub-cert-list", &name).await;
    click(&page, &format!("hub-delete-{name}"));
    wait_for(&page, "#hub-cert-list", "Click again to delete").await;
    click(&page, &format!("hub-delete-{name}"));
    wait_for(&page, "#hub-list-status", &format!("Deleted '{name}'")).await;
}

#[wasm_bindgen_test]
async fn the_page_registers_and_deletes_a_fleet_in_bulk_calls_each_device_with_its_own_outcome() {
    let info = localhub_info().await;
    let page = mount().await;
    point_at_localhub(&page).await;
    let run = suffix();
    // One id the hub already holds: its entry fails alone, the other 149 are created.
    let taken = format!("bulk-{run}-taken");
    put_device(
        &info,
        &taken,
        serde_json::json!({"type": "certificateAuthority"}),
        None,
    )
    .await;
    let mut ids: Vec<String> = (0..149).map(|i| format!("bulk-{run}-{i:03}")).collect();
    ids.insert(70, taken.clone());
    type_into(&page, "reg-ids", &ids.join("\n"));
    click(&page, "reg-ca");
    settle().await;
    // Before anything goes: how long the hub's registry throttle makes it, at the tier typed.
    let estimate = text(&page, "#reg-estimate");
    assert!(
        estimate.contains("150 devices on S1 with one unit: about 2 minutes")
            && estimate.contains("2 bulk calls"),
        "{estimate}"
    );
    type_into(&page, "reg-units", "0");
    settle().await;
    assert!(text(&page, "#reg-estimate").contains("Units: a number from 1 to 200"));
    type_into(&page, "reg-units", "2");
    settle().await;
    assert!(text(&page, "#reg-estimate").contains("with 2 units: about 45 seconds"));
    click(&page, "reg-submit");
    wait_for(&page, "#reg-status", "149 of 150 done; 1 failed").await;
    let rows = text(&page, "#reg-results");
    assert!(
        rows.contains(&format!("{taken} — DeviceAlreadyExists")),
        "{rows}"
    );
    assert_eq!(rows.matches("registered (bulk)").count(), 149, "{rows}");
    let token = owner_token(&info);
    for id in [&ids[0], &ids[149]] {
        let (status, dev) = get_json(
            &format!("{LOCALHUB}/devices/{id}?api-version=2021-04-12"),
            &token,
        )
        .await;
        assert_eq!(status, 200, "{id}: {dev}");
        assert_eq!(dev["authentication"]["type"], "certificateAuthority");
    }

    // All 150 deleted, in two calls, after one confirmation.
    click(&page, "reg-delete");
    wait_for(&page, "#reg-status", "Delete 150 devices").await;
    click(&page, "reg-delete");
    wait_for(&page, "#reg-status", "150 of 150 done").await;
    for id in [&ids[0], &taken, &ids[149]] {
        let (status, _) = get_json(
            &format!("{LOCALHUB}/devices/{id}?api-version=2021-04-12"),
            &token,
        )
        .await;
        assert_eq!(status, 404, "{id}");
    }
}

#[wasm_bindgen_test]
async fn a_stale_etag_and_a_missing_relay_come_back_as_their_messages() {
    localhub_info().await;
    let hub = HubClient::new(Fetch, true);
    let arm = Arm::new(LOCALHUB, "s", "r", "localhub", "test").unwrap();
    let ca = CertificateAuthority::create_root(
        &RootCaParams::default(),
        time::OffsetDateTime::from_unix_timestamp(unix_now() as i64).unwrap(),
    )
    .unwrap();
    let name = format!("stale-{}", suffix());
    let uploaded = hub
        .upload_certificate(&arm, &name, &ca.certificate().pem(), false)
        .await
        .unwrap();
    hub.call(
        Plane::Arm,
        &arm.generate_verification_code(&name, &uploaded.etag),
    )
    .await
    .unwrap();
    // The etag read before the code was generated is stale now.
    let pem = ca.certificate().pem();
    let err = hub
        .call(Plane::Arm, &arm.verify(&name, &uploaded.etag, &pem))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(412), "{err}");
    assert!(err.to_string().contains("etag was stale"), "{err}");
    assert!(hub.delete_certificate(&arm, &name).await.is_ok());

    // Nothing listens here: the advice for Azure's registry is the relay.
    let nowhere = HubClient::new(Fetch, false);
    let reg = hubcert::iothub::Registry::from_connection_string(
        "http://127.0.0.1:9",
        "HostName=h.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=AAAA",
    )
    .unwrap();
    let id = hubcert::contract::DeviceId::parse("d1").unwrap();
    let err = nowhere.device(&reg, &id, unix_now()).await.unwrap_err();
    assert!(err.to_string().contains("start the relay"), "{err}");
}

/// localhub's MQTT over WebSocket address; its TLS root is trusted in the test browser's NSS store.
const LOCALHUB_WSS: &str = match option_env!("HUBCERT_LOCALHUB_WSS") {
    Some(a) => a,
    None => "localhost:18884",
};

/// A service SAS token from localhub's owner connection string, for a minute.
fn owner_token(info: &Value) -> String {
    let cs = info["connectionString"].as_str().unwrap();
    let key = cs.split("SharedAccessKey=").nth(1).unwrap();
    let host = info["hostName"].as_str().unwrap();
    build_sas_token(host, key, Some("iothubowner"), unix_now() + 60).unwrap()
}

/// Creates (`if_match` None) or replaces a device with the test's own REST call, with
/// `authentication` as IoT Hub's JSON has it; returns what the hub answered.
async fn put_device(
    info: &Value,
    id: &str,
    authentication: Value,
    if_match: Option<&str>,
) -> Value {
    let body = serde_json::json!({"deviceId": id, "authentication": authentication});
    let mut request =
        gloo::net::http::Request::put(&format!("{LOCALHUB}/devices/{id}?api-version=2021-04-12"))
            .header("Authorization", &owner_token(info))
            .header("Content-Type", "application/json");
    if let Some(etag) = if_match {
        request = request.header("If-Match", etag);
    }
    let r = request
        .body(body.to_string())
        .unwrap()
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

/// A thumbprint device's `authentication`: both slots `sha256`.
fn thumbprint_auth(sha256: &str) -> Value {
    serde_json::json!({"type": "selfSigned", "x509Thumbprint": {"primaryThumbprint": sha256, "secondaryThumbprint": sha256}})
}

/// Registers a SAS device with the test's own REST call; returns its primary key.
async fn register_sas_device(info: &Value, id: &str) -> String {
    let auth = serde_json::json!({"type": "sas", "symmetricKey": {"primaryKey": null, "secondaryKey": null}});
    let v = put_device(info, id, auth, None).await;
    v["authentication"]["symmetricKey"]["primaryKey"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[wasm_bindgen_test]
async fn a_sas_device_connects_over_wss_sends_telemetry_and_gets_c2d_and_twin() {
    let info = localhub_info().await;
    let id = format!("wss-sas-{}", suffix());
    let key = register_sas_device(&info, &id).await;
    let host = info["hostName"].as_str().unwrap();

    let page = mount().await;
    click(&page, "dev-sas");
    settle().await;
    type_into(&page, "dev-address", LOCALHUB_WSS);
    type_into(
        &page,
        "dev-cs",
        &format!("HostName={host};DeviceId={id};SharedAccessKey={key}"),
    );
    click(&page, "dev-connect");
    wait_for(&page, "#dev-status", "Connected").await;
    wait_for(&page, "#dev-log", "SUBACK").await;

    // Two messages of the seed's sample, QoS 1: both acknowledged, both recorded by localhub.
    type_into(&page, "dev-count", "2");
    type_into(&page, "dev-every", "50");
    click(&page, "dev-send");
    wait_for(&page, "#dev-counts", "2 sent · 2 acknowledged").await;
    assert!(text(&page, "#dev-log").contains("PUBACK id"));
    let (status, got) = get_json(&format!("{LOCALHUB}/localhub/telemetry?deviceId={id}"), "").await;
    assert_eq!(status, 200);
    let sent: Vec<&Value> = got
        .as_array()
        .expect("a list")
        .iter()
        .filter(|e| e["kind"] == "telemetry")
        .collect();
    assert_eq!(sent.len(), 2, "{got}");
    assert!(sent[0]["body"]
        .as_str()
        .unwrap()
        .contains("\"temperature\": 22.5"));
    // The seed's sample names the device that sent it.
    assert!(
        sent[0]["body"]
            .as_str()
            .unwrap()
            .contains(&format!("\"deviceId\": \"{id}\"")),
        "{got}"
    );
    assert_eq!(sent[0]["properties"]["$.ct"], "application/json");
    assert_eq!(sent[0]["transport"], "wss");

    // Cloud-to-device from localhub arrives on the page.
    let r = gloo::net::http::Request::post(&format!(
        "{LOCALHUB}/localhub/devices/{id}/messages?color=red"
    ))
    .header("Authorization", &owner_token(&info))
    .body("reboot now")
    .unwrap()
    .send()
    .await
    .unwrap();
    assert!(r.ok(), "{}", r.status());
    let c2d = wait_for(&page, "#dev-c2d", "reboot now").await;
    assert!(c2d.contains("color=red"), "{c2d}");

    // Twin: report, then read it back.
    click(&page, "dev-twin-report");
    wait_for(&page, "#dev-twin", "Reported properties updated").await;
    click(&page, "dev-twin-get");
    wait_for(&page, "#dev-twin", "\"firmware\": \"1.0.0\"").await;

    click(&page, "dev-disconnect");
    wait_for(&page, "#dev-status", "Disconnected").await;

    // A device the hub does not know: refused, with the causes in order.
    type_into(
        &page,
        "dev-cs",
        &format!(
            "HostName={host};DeviceId=nobody-{};SharedAccessKey={key}",
            suffix()
        ),
    );
    click(&page, "dev-connect");
    let refused = wait_for(&page, "#dev-status", "CONNACK 5").await;
    assert!(refused.contains("not registered"), "{refused}");
}

/// A CA-signed device whose certificate the browser-store fixture imported into the test browser's store
/// (and which a Chromium policy selects for localhub's WSS port).
const X509_DEVICE: Option<&str> = option_env!("HUBCERT_X509_DEVICE");
/// localhub's HTTPS REST port, which serves the device WebSocket too.
const LOCALHUB_HTTPS: Option<&str> = option_env!("HUBCERT_LOCALHUB_HTTPS");
const X509_ROGUE: Option<&str> = option_env!("HUBCERT_X509_ROGUE");

#[wasm_bindgen_test]
async fn an_x509_device_from_the_browser_store_connects_over_wss_and_sends_telemetry() {
    localhub_info().await;
    let id = X509_DEVICE.expect(
        "HUBCERT_X509_DEVICE is unset: the browser-store fixture provisions the device, imports its \
         .pfx into the browser's NSS store and sets it (./scripts/fixtures.sh run ...)",
    );
    let page = mount().await;
    click(&page, "dev-x509");
    settle().await;
    type_into(&page, "dev-address", LOCALHUB_WSS);
    type_into(&page, "dev-host", "localhost");
    type_into(&page, "dev-id", id);
    settle().await;
    let code = text(&page, "#dev-snippets");
    assert!(
        code.contains(&format!("DeviceId={id};x509=true"))
            && code.contains(&format!("--cert {id}.pem")),
        "{code}"
    );
    click(&page, "dev-connect");
    wait_for(&page, "#dev-status", "Connected").await;
    type_into(
        &page,
        "dev-payload",
        r#"{"from":"the browser's certificate store"}"#,
    );
    click(&page, "dev-send");
    wait_for(&page, "#dev-counts", "1 sent · 1 acknowledged").await;
    let (_, got) = get_json(&format!("{LOCALHUB}/localhub/telemetry?deviceId={id}"), "").await;
    let sent: Vec<&Value> = got
        .as_array()
        .expect("a list")
        .iter()
        .filter(|e| e["kind"] == "telemetry")
        .collect();
    assert!(
        sent.iter().any(
            |e| e["body"] == r#"{"from":"the browser's certificate store"}"#
                && e["transport"] == "wss"
        ),
        "{got}"
    );
    click(&page, "dev-disconnect");
    wait_for(&page, "#dev-status", "Disconnected").await;

    // The same certificate once the hub no longer knows the device: refused, and the page lists
    // why (the browser keeps presenting this certificate to this address).
    let info = localhub_info().await;
    let cs = info["connectionString"].as_str().unwrap();
    let key = cs.split("SharedAccessKey=").nth(1).unwrap();
    let host = info["hostName"].as_str().unwrap();
    let token = build_sas_token(host, key, Some("iothubowner"), unix_now() + 60).unwrap();
    let url = format!("{LOCALHUB}/devices/{id}?api-version=2021-04-12");
    let (_, device) = get_json(&url, &token).await;
    let r = gloo::net::http::Request::delete(&url)
        .header("Authorization", &token)
        .header("If-Match", "*")
        .send()
        .await
        .unwrap();
    assert!(r.ok(), "{}", r.status());
    click(&page, "dev-connect");
    let refused = wait_for(&page, "#dev-status", "CONNACK 5").await;
    assert!(refused.contains("registered"), "{refused}");
    // Registered again, as it was.
    let r = gloo::net::http::Request::put(&url)
        .header("Authorization", &token)
        .header("Content-Type", "application/json")
        .body(
            serde_json::json!({"deviceId": id, "authentication": device["authentication"]})
                .to_string(),
        )
        .unwrap()
        .send()
        .await
        .unwrap();
    assert!(r.ok(), "{}", r.status());

    // A device whose CA the hub never saw, from the store through localhub's other address.
    let rogue = X509_ROGUE.expect(
        "HUBCERT_X509_ROGUE is unset: the browser-store fixture makes a device under an unknown CA \
         and puts it in the browser's store for https://127.0.0.1:18884 (./scripts/fixtures.sh run ...)",
    );
    let port = LOCALHUB_WSS.rsplit(':').next().unwrap_or("18884");
    type_into(&page, "dev-address", &format!("127.0.0.1:{port}"));
    type_into(&page, "dev-id", rogue);
    click(&page, "dev-connect");
    let refused = wait_for(&page, "#dev-status", "CONNACK 5").await;
    assert!(refused.contains("verified"), "{refused}");
    let (_, got) = get_json(
        &format!("{LOCALHUB}/localhub/telemetry?deviceId={rogue}"),
        "",
    )
    .await;
    assert_eq!(got.as_array().map(Vec::len), Some(0), "{got}");
}

/// A device under an intermediate, registered CA-signed on both fixture localhubs; the browser
/// presents it to `https://127.0.0.1:18443` and to the preview localhub's WebSocket port.
const X509_CHAINED: Option<&str> = option_env!("HUBCERT_X509_CHAINED");
/// The fixture localhub started with `--preview-mode`.
const PREVIEW_LOCALHUB: &str = match option_env!("HUBCERT_PREVIEW_LOCALHUB") {
    Some(url) => url,
    None => "http://127.0.0.1:18091",
};
const PREVIEW_WSS: &str = match option_env!("HUBCERT_PREVIEW_WSS") {
    Some(address) => address,
    None => "localhost:18894",
};

/// Why a localhub refused devices, read from its event stream (`/localhub/events`) from the
/// moment this is made: "{device} over {transport}: {reason}" per refusal.
struct Refusals {
    source: web_sys::EventSource,
    seen: std::rc::Rc<std::cell::RefCell<Vec<String>>>,
    _listener: wasm_bindgen::closure::Closure<dyn FnMut(web_sys::MessageEvent)>,
}

impl Refusals {
    async fn watch(base: &str) -> Self {
        let source = web_sys::EventSource::new(&format!("{base}/localhub/events")).unwrap();
        let seen = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let sink = seen.clone();
        let listener = wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
            move |e: web_sys::MessageEvent| {
                let event: Value = serde_json::from_str(&e.data().as_string().unwrap_or_default())
                    .unwrap_or_default();
                sink.borrow_mut().push(format!(
                    "{} over {}: {}",
                    event["deviceId"].as_str().unwrap_or("?"),
                    event["transport"].as_str().unwrap_or("?"),
                    event["reason"].as_str().unwrap_or("?")
                ));
            },
        );
        source
            .add_event_listener_with_callback("refused", listener.as_ref().unchecked_ref())
            .unwrap();
        // Open before anything it should see happens.
        for _ in 0..100 {
            if source.ready_state() == web_sys::EventSource::OPEN {
                break;
            }
            page::sleep_ms(20).await;
        }
        assert_eq!(
            source.ready_state(),
            web_sys::EventSource::OPEN,
            "{base}/localhub/events"
        );
        Self {
            source,
            seen,
            _listener: listener,
        }
    }

    /// The refusals of `id` seen so far, waiting up to 2 s for the first.
    async fn of(&self, id: &str) -> Vec<String> {
        for _ in 0..100 {
            let mine: Vec<String> = self
                .seen
                .borrow()
                .iter()
                .filter(|r| r.starts_with(&format!("{id} ")))
                .cloned()
                .collect();
            if !mine.is_empty() {
                return mine;
            }
            page::sleep_ms(20).await;
        }
        Vec::new()
    }
}

impl Drop for Refusals {
    fn drop(&mut self) {
        self.source.close();
    }
}

/// The SHA-256 thumbprint of that device's certificate.
const X509_CHAINED_SHA256: Option<&str> = option_env!("HUBCERT_X509_CHAINED_SHA256");

/// IoT Hub's TLS handshake names no acceptable CAs, and Chromium then sends the client
/// certificate alone, without the intermediates it holds. So a device under an intermediate,
/// registered as CA-signed, is refused from the browser by a generally available hub (which, over
/// WebSockets, would refuse it anyway) and by a hub in preview mode alike: the hub sees a
/// certificate whose issuer it does not know. Registered by thumbprint, the same certificate
/// connects.
#[wasm_bindgen_test]
async fn a_browser_sends_no_intermediate_so_a_device_under_one_connects_only_by_thumbprint() {
    let info = localhub_info().await;
    let id = X509_CHAINED.expect(
        "HUBCERT_X509_CHAINED is unset: the browser-store fixture provisions a device under an \
         intermediate on both localhubs and sets it (./scripts/fixtures.sh run ...)",
    );
    let watches = [
        Refusals::watch(LOCALHUB).await,
        Refusals::watch(PREVIEW_LOCALHUB).await,
    ];
    let page = mount().await;
    click(&page, "dev-x509");
    settle().await;
    type_into(&page, "dev-host", "localhost");
    type_into(&page, "dev-id", id);

    // The generally available localhub, through the WebSocket its HTTPS port serves, and the
    // one in preview mode: both refuse, each having seen one certificate.
    let https_port = LOCALHUB_HTTPS
        .and_then(|a| a.rsplit(':').next())
        .unwrap_or("18443");
    let ga = format!("127.0.0.1:{https_port}");
    for address in [ga.as_str(), PREVIEW_WSS] {
        type_into(&page, "dev-address", address);
        click(&page, "dev-connect");
        let status = wait_for(&page, "#dev-status", "CONNACK 5").await;
        assert!(status.contains("intermediate"), "{status}");
    }
    for watch in &watches {
        let refusals = watch.of(id).await;
        assert!(
            refusals
                .iter()
                .any(|r| r.contains("over wss") && r.contains("sent 1 certificate")),
            "{refusals:?}"
        );
    }

    // Registered by thumbprint on the generally available hub: the same certificate connects.
    let sha256 = X509_CHAINED_SHA256.expect("HUBCERT_X509_CHAINED_SHA256 is unset");
    put_device(&info, id, thumbprint_auth(sha256), Some("*")).await;
    type_into(&page, "dev-address", &ga);
    click(&page, "dev-connect");
    wait_for(&page, "#dev-status", "Connected").await;
    type_into(&page, "dev-payload", r#"{"from":"a thumbprint device"}"#);
    click(&page, "dev-send");
    wait_for(&page, "#dev-counts", "1 acknowledged").await;
    click(&page, "dev-disconnect");
    wait_for(&page, "#dev-status", "Disconnected").await;
}

const MOSQUITTO_WSS: Option<&str> = option_env!("HUBCERT_MOSQUITTO_WSS");

/// The same page and certificate against a real broker: Debian's mosquitto with a TLS websockets
/// listener that requires a client certificate. scripts/test.sh checks that mosquitto_sub, on the
/// broker's plain listener, received what the page sent.
#[wasm_bindgen_test]
async fn an_x509_device_from_the_browser_store_publishes_through_mosquitto_over_wss() {
    let id = X509_DEVICE.expect(
        "HUBCERT_X509_DEVICE is unset: run the browser tests under ./scripts/fixtures.sh run ... (scripts/test.sh does)",
    );
    let address = MOSQUITTO_WSS.expect(
        "HUBCERT_MOSQUITTO_WSS is unset: the mosquitto fixture (./scripts/fixtures.sh run ...) starts mosquitto with a TLS websockets \
         listener on localhost:18886 and sets it",
    );
    let page = mount().await;
    click(&page, "dev-x509");
    settle().await;
    type_into(&page, "dev-address", address);
    type_into(&page, "dev-host", "localhost");
    type_into(&page, "dev-id", id);
    click(&page, "dev-connect");
    wait_for(&page, "#dev-status", "Connected").await;
    type_into(
        &page,
        "dev-payload",
        r#"{"from":"the page through mosquitto"}"#,
    );
    click(&page, "dev-send");
    // mosquitto acknowledges the QoS 1 publish: it took the message.
    wait_for(&page, "#dev-counts", "1 sent · 1 acknowledged").await;
    click(&page, "dev-disconnect");
    wait_for(&page, "#dev-status", "Disconnected").await;
}

#[wasm_bindgen_test]
async fn the_device_test_reads_the_registration_and_a_thumbprint_device_needs_no_preview_mode() {
    let info = localhub_info().await;
    let page = mount().await;
    point_at_localhub(&page).await;

    // A device under an intermediate: registered as CA-signed, a GA hub refuses it over WSS.
    type_into(&page, "ca-cn", "WS Check Root");
    click(&page, "ca-create");
    settle().await;
    type_into(&page, "im-cn", "WS Check Intermediate");
    click(&page, "im-create");
    settle().await;
    let id = format!("ws-thumb-{}", suffix());
    issue_device(&page, &id).await;
    let sha256 = text(&page, "[id^=device-] code.sha256").trim().to_owned();
    type_into(&page, "dev-id", &id);
    settle().await;
    assert!(text(&page, "#dev-ws-caution").contains("preview mode"));

    // Registered by its thumbprint instead, the page reads that and lifts the caution.
    put_device(&info, &id, thumbprint_auth(&sha256), None).await;
    click(&page, "dev-check-registration");
    wait_for(&page, "#dev-registration", "thumbprint").await;
    assert!(find(&page, "#dev-ws-caution").is_none());
}

/// A GET on localhub's DPS service API with its owner SAS.
async fn get_json_dps(path: &str, info: &Value) -> (u16, Value) {
    let cs = info["dpsConnectionString"].as_str().unwrap();
    let key = cs.split("SharedAccessKey=").nth(1).unwrap();
    let host = info["hostName"].as_str().unwrap();
    let token =
        build_sas_token(host, key, Some("provisioningserviceowner"), unix_now() + 60).unwrap();
    get_json(&format!("{LOCALHUB}{path}?api-version=2021-10-01"), &token).await
}

/// Telemetry events localhub holds for `id`.
async fn telemetry_of(id: &str) -> Vec<Value> {
    let (_, got) = get_json(&format!("{LOCALHUB}/localhub/telemetry?deviceId={id}"), "").await;
    got.as_array()
        .expect("a list")
        .iter()
        .filter(|e| e["kind"] == "telemetry")
        .cloned()
        .collect()
}

#[wasm_bindgen_test]
async fn dps_provisions_the_browser_store_device_which_then_sends_through_the_assigned_hub() {
    let info = localhub_info().await;
    let id = X509_DEVICE.expect(
        "HUBCERT_X509_DEVICE is unset: run the browser tests under ./scripts/fixtures.sh run ... (scripts/test.sh does)",
    );
    let page = mount().await;
    type_into(&page, "ca-cn", "DPS Page Root");
    click(&page, "ca-create");
    settle().await;

    // The service: localhub's DPS settings read from localhub; ARM (for the DPS's certificates)
    // is the hub step's.
    type_into(&page, "hub-arm-endpoint", LOCALHUB);
    read_localhub_dps(&page).await;
    assert_eq!(
        value(&page, "dps-id-scope"),
        info["idScope"].as_str().unwrap()
    );
    assert_eq!(
        value(&page, "dps-connection-string"),
        info["dpsConnectionString"].as_str().unwrap()
    );

    // A group over the page's root: created, then updated with its etag.
    let page_group = format!("page-fleet-{}", suffix());
    type_into(&page, "dps-group-id", &page_group);
    click(&page, "dps-save");
    wait_for(
        &page,
        "#dps-status",
        &format!("Created enrollment group {page_group} (enabled)"),
    )
    .await;
    click(&page, "dps-save");
    wait_for(
        &page,
        "#dps-status",
        &format!("Updated enrollment group {page_group}"),
    )
    .await;
    // A malformed initial twin is refused by name; a good one goes with the group.
    type_into(&page, "dps-initial-twin", "[1]");
    settle().await;
    click(&page, "dps-save");
    wait_for(&page, "#dps-status", "Initial twin: a JSON object").await;
    type_into(
        &page,
        "dps-initial-twin",
        r#"{"tags": {"site": "browser"}, "properties": {"desired": {"interval": 30}}}"#,
    );
    settle().await;
    click(&page, "dps-save");
    wait_for(
        &page,
        "#dps-status",
        &format!("Updated enrollment group {page_group}"),
    )
    .await;
    let (_, g) = get_json_dps(&format!("/enrollmentGroups/{page_group}"), &info).await;
    assert_eq!(
        g["initialTwin"]["properties"]["desired"]["interval"], 30,
        "{g}"
    );
    assert_eq!(g["reprovisionPolicy"]["migrateDeviceData"], true, "{g}");
    type_into(&page, "dps-initial-twin", "");
    // A bad id is refused by name before anything is sent.
    type_into(&page, "dps-group-id", "fleet/1");
    click(&page, "dps-save");
    wait_for(&page, "#dps-status", "not a DPS enrollment id").await;

    // By reference: refused while DPS does not hold the CA; uploaded and proven on DPS with the
    // hub's one-click flow, then accepted.
    let ca_name = format!("page-root-{}", suffix());
    click(&page, "dps-mode-reference");
    settle().await;
    type_into(&page, "dps-ca-name", &ca_name);
    type_into(&page, "dps-group-id", &format!("by-ref-{}", suffix()));
    click(&page, "dps-save");
    wait_for(&page, "#dps-status", "names no certificate of this DPS").await;
    click(&page, "dps-prove");
    wait_for(
        &page,
        "#dps-proof-status",
        "is on DPS and verified (proof of possession)",
    )
    .await;
    click(&page, "dps-save");
    wait_for(
        &page,
        "#dps-status",
        &format!("the DPS certificate '{ca_name}'"),
    )
    .await;
    let dps_name = info["dpsName"].as_str().unwrap();
    let (status, on_dps) = get_json(
        &format!("{LOCALHUB}/subscriptions/s/resourceGroups/r/providers/Microsoft.Devices/provisioningServices/{dps_name}/certificates/{ca_name}?api-version=2022-12-12"),
        "Bearer test",
    )
    .await;
    assert_eq!(
        (status, &on_dps["properties"]["isVerified"]),
        (200, &Value::Bool(true)),
        "{on_dps}"
    );
    click(&page, "dps-mode-signing");
    settle().await;

    // An individual enrollment of a device issued on the page: enrolled with its certificate,
    // and not registered yet.
    let solo = format!("page-solo-{}", suffix());
    issue_device(&page, &solo).await;
    type_into(&page, "dps-individual-id", &solo);
    click(&page, "dps-individual-save");
    wait_for(
        &page,
        "#dps-individual-status",
        &format!("Created individual enrollment {solo} with 1 certificate"),
    )
    .await;
    click(&page, "dps-state");
    wait_for(
        &page,
        "#dps-individual-status",
        "has not registered with this DPS yet",
    )
    .await;
    click(&page, "dps-individual-delete");
    wait_for(
        &page,
        "#dps-individual-status",
        &format!("Deleted {solo}'s enrollment"),
    )
    .await;
    let (status, _) = get_json_dps(&format!("/enrollments/{solo}"), &info).await;
    assert_eq!(status, 404);
    type_into(&page, "dps-individual-id", "nobody-here");
    click(&page, "dps-individual-save");
    wait_for(
        &page,
        "#dps-individual-status",
        "No device certificate with CN 'nobody-here'",
    )
    .await;

    // The store's device: no group trusts its CA yet, so DPS refuses it.
    type_into(&page, "dps-registration-id", id);
    settle().await;
    let code = text(&page, "#dps-snippets");
    let scope = info["idScope"].as_str().unwrap();
    assert!(
        code.contains(&format!("new X509Security(\"{id}\", tls)"))
            && code.contains(&format!("id_scope=\"{scope}\""))
            && code.contains("NODE_EXTRA_CA_CERTS="),
        "{code}"
    );
    type_into(&page, "dps-device-endpoint", LOCALHUB_WSS);
    type_into(&page, "dps-hub-address", LOCALHUB_WSS);
    click(&page, "dps-register");
    let refused = wait_for(&page, "#dps-result", "DPS refused the device").await;
    assert!(
        refused.contains("registration id equals the certificate's CN"),
        "{refused}"
    );

    // A group over its CA (pasted, as a user pastes a CA made elsewhere): provisioned, and the
    // assigned hub takes its telemetry.
    let (status, cert) = get_json(
        &format!("{LOCALHUB}/subscriptions/s/resourceGroups/r/providers/Microsoft.Devices/IotHubs/localhub/certificates/root-{id}?api-version=2023-06-30"),
        "Bearer test",
    )
    .await;
    assert_eq!(status, 200, "{cert}");
    let store_group = format!("store-fleet-{}", suffix());
    type_into(&page, "dps-group-id", &store_group);
    choose(&page, "dps-primary", "paste");
    settle().await;
    type_into(
        &page,
        "dps-pasted",
        cert["properties"]["certificate"].as_str().unwrap(),
    );
    click(&page, "dps-save");
    wait_for(
        &page,
        "#dps-status",
        &format!("Created enrollment group {store_group}"),
    )
    .await;
    let before = telemetry_of(id).await.len();
    click(&page, "dps-register");
    let done = wait_for(&page, "#dps-result", "Provisioned").await;
    assert!(
        done.contains(&format!("DPS assigned {id} to localhost"))
            && done.contains("acknowledged its telemetry"),
        "{done}"
    );
    let log = text(&page, "#dps-log");
    assert!(
        log.contains("iotdps-register") && log.contains("iotdps-get-operationstatus"),
        "{log}"
    );
    let after = telemetry_of(id).await;
    assert_eq!(after.len(), before + 1, "{after:?}");
    let last = after.last().unwrap();
    assert_eq!(last["transport"], "wss", "{last}");
    assert!(
        last["body"]
            .as_str()
            .unwrap_or("")
            .contains(&format!("\"deviceId\": \"{id}\"")),
        "{last}"
    );

    // Both groups are listed.
    click(&page, "dps-list");
    let listed = wait_for(&page, "#dps-groups", &store_group).await;
    assert!(
        listed.contains(&page_group) && listed.contains("DPS Page Root"),
        "{listed}"
    );

    // Disabled, the group no longer provisions the device, and the page says so.
    click(&page, "dps-enabled");
    click(&page, "dps-save");
    wait_for(
        &page,
        "#dps-status",
        &format!("Updated enrollment group {store_group} (disabled)"),
    )
    .await;
    click(&page, "dps-register");
    let off = wait_for(&page, "#dps-result", "disabled").await;
    assert!(off.contains("enable the group"), "{off}");

    // The page's group deleted (asked once, then done): DPS no longer has it.
    type_into(&page, "dps-group-id", &page_group);
    settle().await;
    click(&page, "dps-delete");
    wait_for(&page, "#dps-status", "Click Delete again to confirm").await;
    click(&page, "dps-delete");
    wait_for(
        &page,
        "#dps-status",
        &format!("Deleted enrollment group {page_group}"),
    )
    .await;
    let (status, _) = get_json_dps(&format!("/enrollmentGroups/{page_group}"), &info).await;
    assert_eq!(status, 404);

    // Re-provisioning after renewal across a CA rollover: the fixture renewed the device under a
    // second root (verified on the hub) and presents that certificate on localhub's HTTPS port,
    // which serves the WebSocket too. The first group is disabled now, so only a group over the
    // new root can let it in: the renewed device registers and lands on the same hub with the
    // same device id.
    let (status, next) = get_json(
        &format!("{LOCALHUB}/subscriptions/s/resourceGroups/r/providers/Microsoft.Devices/IotHubs/localhub/certificates/root-{id}-next?api-version=2023-06-30"),
        "Bearer test",
    )
    .await;
    assert_eq!(status, 200, "{next}");
    let next_group = format!("store-next-{}", suffix());
    type_into(&page, "dps-group-id", &next_group);
    click(&page, "dps-enabled");
    type_into(
        &page,
        "dps-pasted",
        next["properties"]["certificate"].as_str().unwrap(),
    );
    click(&page, "dps-save");
    wait_for(
        &page,
        "#dps-status",
        &format!("Created enrollment group {next_group} (enabled)"),
    )
    .await;
    let https = LOCALHUB_HTTPS
        .expect("HUBCERT_LOCALHUB_HTTPS is unset: run under ./scripts/fixtures.sh run ...");
    type_into(&page, "dps-device-endpoint", https);
    type_into(&page, "dps-hub-address", https);
    // How DPS left the device in the hub before: a thumbprint device, pinned to the certificate
    // it presented then (DPS writes its X.509 devices so, never as CA-signed).
    let hub_url = format!("{LOCALHUB}/devices/{id}?api-version=2021-04-12");
    let (_, first) = get_json(&hub_url, &owner_token(&info)).await;
    assert_eq!(first["authentication"]["type"], "selfSigned", "{first}");
    let before = telemetry_of(id).await.len();
    click(&page, "dps-register");
    let again = wait_for(&page, "#dps-result", "Provisioned").await;
    assert!(
        again.contains(&format!("DPS assigned {id} to localhost")),
        "{again}"
    );
    assert_eq!(telemetry_of(id).await.len(), before + 1);
    // Provisioning again with the renewed certificate is what moves the hub to it: DPS wrote the
    // renewed certificate's thumbprint in place of the first one.
    let (_, renewed) = get_json(&hub_url, &owner_token(&info)).await;
    let pinned = |d: &Value| d["authentication"]["x509Thumbprint"]["primaryThumbprint"].clone();
    assert_eq!(renewed["authentication"]["type"], "selfSigned", "{renewed}");
    assert_ne!(pinned(&renewed), pinned(&first), "{renewed}");
    // The fixture's device goes back to how the other tests know it: CA-signed in the hub.
    put_device(
        &info,
        id,
        serde_json::json!({"type": "certificateAuthority"}),
        Some("*"),
    )
    .await;
    type_into(&page, "dps-device-endpoint", LOCALHUB_WSS);
    type_into(&page, "dps-hub-address", LOCALHUB_WSS);
    type_into(&page, "dps-group-id", &store_group);
    type_into(
        &page,
        "dps-pasted",
        cert["properties"]["certificate"].as_str().unwrap(),
    );

    page.remove();
}

#[wasm_bindgen_test]
async fn a_renewed_thumbprint_device_is_rolled_over_on_localhub_in_three_presses() {
    let info = localhub_info().await;
    let page = mount().await;
    type_into(&page, "ca-cn", "Rollover Root");
    click(&page, "ca-create");
    settle().await;
    // No "Read settings from localhub": the first hub call reads them.
    type_into(&page, "hub-arm-endpoint", LOCALHUB);
    type_into(&page, "hub-registry-endpoint", LOCALHUB);
    assert_eq!(value(&page, "hub-connection-string"), "");

    let id = format!("roll-{}", suffix());
    type_into(&page, "d-id", &id);
    type_into(&page, "d-days", "20");
    click(&page, "d-create");
    settle().await;
    let old = text(&page, "[id^=device-] .thumb.sha256");
    type_into(&page, "reg-ids", &id);
    click(&page, "reg-self");
    click(&page, "reg-submit");
    wait_for(&page, "#reg-status", "1 of 1 done").await;

    // Renew it with its own key; the renewed certificate's thumbprint is what the hub must learn.
    click(&page, "renew-submit");
    wait_for(&page, "#renew-result", &format!("renewed: {id}")).await;
    let new = text(&page, "#renew-result [id^=renewed-] .thumb.sha256");
    assert_ne!(old, new);
    assert!(text(&page, "#renew-hub").contains(&id));

    let cs = info["connectionString"].as_str().unwrap();
    let key = cs.split("SharedAccessKey=").nth(1).unwrap();
    let host = info["hostName"].as_str().unwrap();
    let token = build_sas_token(host, key, Some("iothubowner"), unix_now() + 120).unwrap();
    let thumbprints = || {
        let (id, token) = (id.clone(), token.clone());
        async move {
            let (status, dev) = get_json(
                &format!("{LOCALHUB}/devices/{id}?api-version=2021-04-12"),
                &token,
            )
            .await;
            assert_eq!(status, 200, "{dev}");
            let t = &dev["authentication"]["x509Thumbprint"];
            (
                t["primaryThumbprint"].as_str().unwrap_or("").to_owned(),
                t["secondaryThumbprint"].as_str().unwrap_or("").to_owned(),
            )
        }
    };
    assert_eq!(thumbprints().await, (old.clone(), old.clone()));
    let steps = [
        (
            "new thumbprint added as secondary",
            (old.clone(), new.clone()),
        ),
        ("new thumbprint is now primary", (new.clone(), old.clone())),
        ("old thumbprint retired", (new.clone(), new.clone())),
        ("already on the new certificate", (new.clone(), new.clone())),
    ];
    for (said, expected) in steps {
        click(&page, "renew-roll");
        wait_for(&page, "#renew-roll-results", said).await;
        wait_for(&page, "#renew-roll-status", "1 of 1 done").await;
        assert_eq!(thumbprints().await, expected, "{said}");
    }
    // The inventory reads where each certificate stands on the hub: the renewed one pinned, the
    // old one refused now; neither registered with DPS.
    click(&page, "expiry-read-registrations");
    wait_for(&page, "#expiry-registrations-status", "Read where").await;
    let table = text(&page, "#expiry-table");
    assert!(
        table.contains(
            "Hub: enabled, thumbprint, this certificate as primary. DPS: not registered."
        ),
        "{table}"
    );
    assert!(table.contains("this one is refused"), "{table}");
    type_into(&page, "expiry-search", &new[..12]);
    settle().await;
    assert!(text(&page, "#step-expiry").contains("1 of 3 shown"));
    type_into(&page, "expiry-search", "");

    // A CA-signed device needs nothing on the hub.
    let ca_dev = format!("roll-ca-{}", suffix());
    issue_device(&page, &ca_dev).await;
    type_into(&page, "reg-ids", &ca_dev);
    click(&page, "reg-ca");
    click(&page, "reg-submit");
    wait_for(&page, "#reg-status", "1 of 1 done").await;
    type_into(&page, "renew-within", "400");
    settle().await;
    click(&page, "renew-submit");
    wait_for(&page, "#renew-result", "renewed").await;
    click(&page, "renew-roll");
    wait_for(&page, "#renew-roll-results", "CA-signed").await;
    let rows = text(&page, "#renew-roll-results");
    assert!(rows.contains(&format!("{ca_dev} — CA-signed")), "{rows}");
    page.remove();
}

#[wasm_bindgen_test]
async fn a_ca_whose_key_is_elsewhere_is_uploaded_and_verified_automatically() {
    localhub_info().await;
    let page = mount().await;
    type_into(&page, "hub-arm-endpoint", LOCALHUB);
    type_into(&page, "hub-registry-endpoint", LOCALHUB);
    // A CA made elsewhere: only its certificate comes to this page.
    let elsewhere = CertificateAuthority::create_root(
        &RootCaParams {
            common_name: "HSM Root".into(),
            ..RootCaParams::default()
        },
        time::OffsetDateTime::from_unix_timestamp(unix_now() as i64).unwrap(),
    )
    .unwrap();
    let device = hubcert::pki::CertificateAuthority::issue_device_identity(
        &elsewhere,
        &hubcert::pki::DeviceCertParams {
            device_id: hubcert::contract::DeviceId::parse("not-a-ca").unwrap(),
            validity: hubcert::pki::ValidityDays::new(30).unwrap(),
        },
        hubcert::pki::KeyAlgorithm::EcdsaP256,
        time::OffsetDateTime::from_unix_timestamp(unix_now() as i64).unwrap(),
    )
    .unwrap();
    // Nothing on the page yet: the step says so.
    assert!(text(&page, "#step-upload").contains("Create a root CA in step 1 first"));
    type_into(&page, "hub-outside-pem", &device.certificate.pem());
    click(&page, "hub-outside-use");
    settle().await;
    assert!(text(&page, "#hub-outside-error").contains("holds no CA certificate"));
    type_into(&page, "hub-outside-pem", &elsewhere.certificate().pem());
    click(&page, "hub-outside-use");
    settle().await;
    assert!(text(&page, "#hub-outside-chosen").contains("Uploading HSM Root"));
    assert!(text(&page, "#hub-upload").contains("verified automatically"));
    let name = format!("hsm-{}", suffix());
    type_into(&page, "hub-cert-name", &name);
    click(&page, "hub-upload");
    let done = wait_for(
        &page,
        "#hub-upload-status",
        "verified (automatic verification)",
    )
    .await;
    assert!(done.contains(&name), "{done}");
    let hub = HubClient::new(Fetch, true);
    let arm = Arm::new(LOCALHUB, "s", "r", "localhub", "test").unwrap();
    let on_hub = hub.certificate(&arm, &name).await.unwrap();
    assert!(on_hub.is_verified);
    let sha1 = elsewhere.certificate().info().unwrap().sha1;
    assert!(on_hub.thumbprint.eq_ignore_ascii_case(sha1.as_str()));
    assert!(hub.delete_certificate(&arm, &name).await.is_ok());
    page.remove();
}

#[wasm_bindgen_test]
async fn a_user_sees_what_revoking_an_intermediate_takes_down_then_revokes_it() {
    let info = localhub_info().await;
    let page = mount().await;
    type_into(&page, "ca-cn", "Revocation Page Root");
    click(&page, "ca-create");
    settle().await;
    let line = format!("Line {}", suffix());
    type_into(&page, "im-cn", &line);
    click(&page, "im-create");
    settle().await;
    point_at_localhub(&page).await;
    // The intermediate (the signing CA now) on the hub, proven; a device under it, registered.
    let name = format!("line-{}", suffix());
    upload_with_proof(&page, &name).await;
    let dev = format!("line-dev-{}", suffix());
    issue_device(&page, &dev).await;
    type_into(&page, "reg-ids", &dev);
    click(&page, "reg-submit");
    wait_for(&page, "#reg-status", "1 of 1 done").await;
    // A DPS group over the intermediate (the second CA of the page).
    read_localhub_dps(&page).await;
    let group = format!("line-group-{}", suffix());
    type_into(&page, "dps-group-id", &group);
    choose(&page, "dps-primary", "ca-1");
    settle().await;
    click(&page, "dps-save");
    wait_for(
        &page,
        "#dps-status",
        &format!("Created enrollment group {group}"),
    )
    .await;

    // One device kept out of the group on DPS: a disabled individual enrollment for it.
    type_into(&page, "dps-individual-id", &dev);
    click(&page, "dps-individual-block");
    wait_for(&page, "#dps-individual-status", "is blocked on DPS").await;
    let (status, e) = get_json_dps(&format!("/enrollments/{dev}"), &info).await;
    assert_eq!(status, 200, "{e}");
    assert_eq!(e["provisioningStatus"], "disabled", "{e}");

    // Check: the intermediate is chosen by default; the plan names what goes.
    assert!(text(&page, "#revoke-ca").contains(&line));
    click(&page, "revoke-check");
    let plan = wait_for(&page, "#revoke-plan", "On the hub as").await;
    assert!(plan.contains(&format!("'{name}'")), "{plan}");
    assert!(
        plan.contains(&format!("DPS enrollment groups trusting it: '{group}'")),
        "{plan}"
    );
    assert!(plan.contains(&dev), "{plan}");
    assert!(find(&page, "#revoke-above").is_none(), "{plan}");
    click(&page, "revoke-submit");
    wait_for(&page, "#revoke-status", "Click Revoke again to confirm").await;
    click(&page, "revoke-submit");
    let done = wait_for(&page, "#revoke-status", "Revoked").await;
    assert!(done.contains("done"), "{done}");
    let rows = text(&page, "#revoke-results");
    assert!(
        rows.contains("disabled") && rows.contains("deleted"),
        "{rows}"
    );

    // The hub no longer holds it; DPS's group is disabled.
    let hub = HubClient::new(Fetch, true);
    let arm = Arm::new(LOCALHUB, "s", "r", "localhub", "test").unwrap();
    let e = hub.certificate(&arm, &name).await.unwrap_err();
    assert_eq!(e.status(), Some(404), "{e}");
    let (status, g) = get_json_dps(&format!("/enrollmentGroups/{group}"), &info).await;
    assert_eq!(status, 200, "{g}");
    assert_eq!(g["provisioningStatus"], "disabled", "{g}");
    page.remove();
}

#[wasm_bindgen_test]
async fn a_user_rolls_a_fleet_over_to_a_new_root_step_by_step_on_localhub() {
    let info = localhub_info().await;
    let page = mount().await;
    let tag = suffix();
    type_into(&page, "ca-cn", &format!("Old Root {tag}"));
    click(&page, "ca-create");
    settle().await;
    point_at_localhub(&page).await;
    let old_name = format!("old-{tag}");
    upload_with_proof(&page, &old_name).await;
    let dev = format!("fleet-{tag}");
    issue_device(&page, &dev).await;
    // A DPS group over the old root.
    read_localhub_dps(&page).await;
    let group = format!("rolling-{tag}");
    type_into(&page, "dps-group-id", &group);
    click(&page, "dps-save");
    wait_for(
        &page,
        "#dps-status",
        &format!("Created enrollment group {group}"),
    )
    .await;
    // The new root, made beside the old.
    type_into(&page, "ca-cn", &format!("New Root {tag}"));
    click(&page, "ca-create");
    settle().await;
    assert!(text(&page, "#rollover-old").contains("Old Root"));
    assert!(text(&page, "#rollover-new").contains("New Root"));

    click(&page, "rollover-read");
    wait_for(&page, "#rollover-next", "Upload the new CA").await;
    let steps = [
        ("#rollover-next", "Add the new CA to 1 DPS group"),
        ("#rollover-next", "Re-issue 1 device"),
        ("#rollover-next", "Retire the old CA"),
    ];
    for (button, next) in steps {
        click(&page, &button[1..]);
        wait_for(&page, button, next).await;
    }
    assert!(text(&page, "#rollover-standing").contains("1 on the new CA, 0 still on the old"));
    assert!(text(&page, "#rollover-save").contains("renewed-devices-1.zip"));
    // The re-issued certificate is listed with the page's devices (the Renew step sees two
    // certificates for the device now).
    assert!(text(&page, "#renew-hub").contains(&format!("Renewed on this page: {dev}.")));
    click(&page, "rollover-next");
    wait_for(&page, "#rollover-status", "Click again to confirm").await;
    click(&page, "rollover-next");
    wait_for(&page, "#rollover-next", "Rolled over").await;
    assert!(text(&page, "#rollover-status").contains("The old CA is retired"));

    // The hub no longer holds the old root; the group trusts only the new one.
    let hub = HubClient::new(Fetch, true);
    let arm = Arm::new(LOCALHUB, "s", "r", "localhub", "test").unwrap();
    assert_eq!(
        hub.certificate(&arm, &old_name).await.unwrap_err().status(),
        Some(404)
    );
    let (status, g) = get_json_dps(&format!("/enrollmentGroups/{group}"), &info).await;
    assert_eq!(status, 200, "{g}");
    let signing = &g["attestation"]["x509"]["signingCertificates"];
    assert!(
        signing["primary"]["info"]["subjectName"]
            .as_str()
            .unwrap_or("")
            .contains("New Root"),
        "{g}"
    );
    assert!(signing.get("secondary").is_none_or(|s| s.is_null()), "{g}");
    page.remove();
}

/// Records every request the page sends (fetch: URL, headers, body; WebSocket: each frame, as
/// hex when binary) and every file it offers for download (the blobs behind object URLs).
const NETWORK_RECORDER: &str = r#"
window.__net = [];
window.__blobs = [];
const hex = (b) => Array.from(new Uint8Array(b)).map((x) => x.toString(16).padStart(2, "0")).join("");
const realFetch = window.fetch;
window.fetch = async function (r, init) {
  let text = "";
  const url = typeof r === "string" ? r : r.url;
  try {
    if (r instanceof Request) text = await r.clone().text();
    const body = init && init.body;
    if (typeof body === "string") text += body;
    else if (body instanceof ArrayBuffer) text += hex(body);
    else if (ArrayBuffer.isView(body)) text += hex(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength));
  } catch (e) { text += " (body unread: " + e + ")"; }
  let headers = "";
  if (r instanceof Request) headers = JSON.stringify([...r.headers]);
  window.__net.push(url + "\n" + headers + "\n" + text);
  return realFetch.call(window, r, init);
};
const realSend = WebSocket.prototype.send;
WebSocket.prototype.send = function (d) {
  let text = typeof d === "string" ? d
    : d instanceof ArrayBuffer ? hex(d)
    : ArrayBuffer.isView(d) ? hex(d.buffer.slice(d.byteOffset, d.byteOffset + d.byteLength)) : "";
  window.__net.push("ws " + this.url + "\n" + text);
  return realSend.call(this, d);
};
const realUrl = URL.createObjectURL;
URL.createObjectURL = function (b) { window.__blobs.push(b); return realUrl.call(URL, b); };
"#;

/// Clicks the download button that says `Download {name}` and returns the file's text.
async fn download_text(page: &web_sys::Element, name: &str) -> String {
    let label = format!("Download {name}");
    let buttons = page.query_selector_all("button").unwrap();
    let button = (0..buttons.length())
        .filter_map(|i| buttons.item(i))
        .map(|n| n.unchecked_into::<web_sys::HtmlElement>())
        .find(|b| b.text_content().unwrap_or_default().trim() == label)
        .unwrap_or_else(|| panic!("no button {label}"));
    let before = js_sys::eval("window.__blobs.length")
        .unwrap()
        .as_f64()
        .unwrap() as u32;
    button.click();
    settle().await;
    let blob: web_sys::Blob = js_sys::eval(&format!("window.__blobs[{before}]"))
        .unwrap()
        .unchecked_into();
    wasm_bindgen_futures::JsFuture::from(blob.text())
        .await
        .unwrap()
        .as_string()
        .unwrap()
}

#[wasm_bindgen_test]
async fn no_private_key_leaves_the_page_through_a_whole_flow() {
    localhub_info().await;
    js_sys::eval(NETWORK_RECORDER).unwrap();
    let page = mount().await;
    let tag = suffix();
    type_into(&page, "ca-cn", &format!("Leak Check Root {tag}"));
    click(&page, "ca-create");
    settle().await;
    type_into(&page, "im-cn", "Leak Check Intermediate");
    click(&page, "im-create");
    settle().await;
    type_into(&page, "hub-arm-endpoint", LOCALHUB);
    type_into(&page, "hub-registry-endpoint", LOCALHUB);
    let name = format!("leak-{tag}");
    upload_with_proof(&page, &name).await;
    let dev = format!("leak-dev-{tag}");
    issue_device(&page, &dev).await;
    type_into(&page, "batch-ids", &format!("leak-batch-{tag}-{{1..3}}"));
    settle().await;
    click(&page, "batch-create");
    wait_for(&page, "#batch-result", "3 device certificates issued").await;
    click(&page, "reg-fill");
    settle().await;
    click(&page, "reg-submit");
    wait_for(&page, "#reg-status", "4 of 4 done").await;
    // A DPS group over the intermediate, and a renewal rolled over on the hub.
    read_localhub_dps(&page).await;
    type_into(&page, "dps-group-id", &format!("leak-group-{tag}"));
    choose(&page, "dps-primary", "ca-1");
    settle().await;
    click(&page, "dps-save");
    wait_for(&page, "#dps-status", "Created enrollment group").await;
    type_into(&page, "renew-within", "400");
    settle().await;
    click(&page, "renew-submit");
    wait_for(&page, "#renew-result", "renewed").await;
    click(&page, "renew-roll");
    wait_for(&page, "#renew-roll-status", "done").await;

    // The keys, as the page offers them for download.
    let keys = [
        download_text(&page, "root-ca.key").await,
        download_text(&page, "intermediate-ca.key").await,
        download_text(&page, &format!("{dev}.key")).await,
    ];
    let recorded = js_sys::eval("window.__net.join('\\n====\\n')")
        .unwrap()
        .as_string()
        .unwrap();
    // The recorder saw the flow: the intermediate's certificate went to the hub, devices to the
    // registry, the group to DPS.
    let inter_pem = find(&page, "[id^=intermediate-] textarea")
        .expect("the intermediate's card")
        .unchecked_into::<web_sys::HtmlTextAreaElement>()
        .value();
    let inter_b64: String = inter_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    assert!(
        recorded.contains(&inter_b64[..64])
            || recorded.replace("\\n", "").contains(&inter_b64[..64]),
        "the upload of the intermediate was not recorded"
    );
    assert!(
        recorded.contains(&format!("/devices/{dev}")),
        "{}",
        &recorded[..recorded.len().min(2000)]
    );
    assert!(recorded.contains("/enrollmentGroups/leak-group-"));
    for key in &keys {
        assert!(key.contains("PRIVATE KEY"), "{key}");
        let b64: String = key.lines().filter(|l| !l.starts_with("-----")).collect();
        let der = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &b64).unwrap();
        let der_hex: String = der.iter().map(|b| format!("{b:02x}")).collect();
        let needles: Vec<String> = key
            .lines()
            .filter(|l| !l.starts_with("-----") && l.len() >= 32)
            .map(str::to_owned)
            .chain([b64.clone(), der_hex[..64].to_owned()])
            .collect();
        for n in &needles {
            assert!(
                !recorded.contains(n.as_str()),
                "private key material left the page: {n}"
            );
        }
    }
    page.remove();
}

#[wasm_bindgen_test]
async fn a_symmetric_key_group_made_on_the_page_shows_dps_key_and_derives_device_keys() {
    let info = localhub_info().await;
    let page = mount().await;
    read_localhub_dps(&page).await;
    let scope = info["idScope"].as_str().unwrap();

    // A group by symmetric key: no CA asked for; DPS makes the keys and the page shows them.
    click(&page, "dps-group-attestation-symkey");
    settle().await;
    assert!(find(&page, "#dps-primary").is_none());
    let group = format!("symkey-fleet-{}", suffix());
    type_into(&page, "dps-group-id", &group);
    click(&page, "dps-save");
    wait_for(
        &page,
        "#dps-status",
        &format!("Created enrollment group {group} (enabled)"),
    )
    .await;
    let primary = text(&page, "#dps-group-key code");
    let (status, held) = get_json_dps(&format!("/enrollmentGroups/{group}"), &info).await;
    assert_eq!(status, 200, "{held}");
    assert_eq!(held["attestation"]["type"], "symmetricKey");
    assert_eq!(
        held["attestation"]["symmetricKey"]["primaryKey"].as_str(),
        Some(primary.as_str()),
        "the page shows the key DPS holds"
    );

    // The device key box: a registration id's key, derived from the group's.
    type_into(&page, "dps-group-derive-id", "symkey-dev-7");
    settle().await;
    let derived = text(&page, "#dps-group-derived code");
    assert_eq!(
        derived,
        hubcert::contract::derive_device_key(&primary, "symkey-dev-7").unwrap()
    );
    let needs = text(&page, "#dps-group-derived");
    assert!(
        needs.contains(&format!("ID scope: {scope}"))
            && needs.contains("Registration id: symkey-dev-7")
            && needs.contains(&format!("Device key: {derived}")),
        "{needs}"
    );
    type_into(&page, "dps-group-derive-id", "");
    settle().await;
    assert!(find(&page, "#dps-group-derived").is_none());

    // Saved again, the group keeps its keys (its devices' keys come from them).
    click(&page, "dps-save");
    wait_for(
        &page,
        "#dps-status",
        &format!("Updated enrollment group {group} (enabled)"),
    )
    .await;
    assert_eq!(text(&page, "#dps-group-key code"), primary);

    // An individual enrollment by symmetric key: no certificate of the page needed.
    let solo = format!("symkey-solo-{}", suffix());
    click(&page, "dps-individual-attestation-symkey");
    settle().await;
    type_into(&page, "dps-individual-id", &solo);
    click(&page, "dps-individual-save");
    wait_for(
        &page,
        "#dps-individual-status",
        &format!("Created individual enrollment {solo} by symmetric key"),
    )
    .await;
    let key = text(&page, "#dps-individual-key code");
    let (_, held) = get_json_dps(&format!("/enrollments/{solo}"), &info).await;
    assert_eq!(
        held["attestation"]["symmetricKey"]["primaryKey"].as_str(),
        Some(key.as_str())
    );
    click(&page, "dps-individual-save");
    wait_for(
        &page,
        "#dps-individual-status",
        &format!("Updated individual enrollment {solo}"),
    )
    .await;
    assert_eq!(text(&page, "#dps-individual-key code"), key);
    page.remove();
}

/// Creates a symmetric-key enrollment group with localhub's DPS service API (DPS makes its keys);
/// returns its primary key as DPS answered it.
async fn put_symmetric_key_group(info: &Value, id: &str) -> String {
    let cs = info["dpsConnectionString"].as_str().unwrap();
    let key = cs.split("SharedAccessKey=").nth(1).unwrap();
    let host = info["hostName"].as_str().unwrap();
    let token =
        build_sas_token(host, key, Some("provisioningserviceowner"), unix_now() + 60).unwrap();
    let body = serde_json::json!({
        "enrollmentGroupId": id,
        "attestation": {"type": "symmetricKey", "symmetricKey": {}},
    });
    let r = gloo::net::http::Request::put(&format!(
        "{LOCALHUB}/enrollmentGroups/{id}?api-version=2021-10-01"
    ))
    .header("Authorization", &token)
    .header("Content-Type", "application/json")
    .body(body.to_string())
    .unwrap()
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    let group: Value = r.json().await.unwrap();
    group["attestation"]["symmetricKey"]["primaryKey"]
        .as_str()
        .expect("DPS answers with the keys it made")
        .to_owned()
}

#[wasm_bindgen_test]
async fn the_page_provisions_a_symmetric_key_device_which_then_sends_through_the_assigned_hub() {
    let info = localhub_info().await;
    let group_key = put_symmetric_key_group(&info, &format!("symkey-test-{}", suffix())).await;
    let id = "symkey-dev-1";
    let before = telemetry_of(id).await.len();
    let page = mount().await;
    read_localhub_dps(&page).await;
    click(&page, "dps-test-attestation-symkey");
    settle().await;
    type_into(&page, "dps-registration-id", id);
    type_into(&page, "dps-device-endpoint", LOCALHUB_WSS);
    type_into(&page, "dps-hub-address", LOCALHUB_WSS);
    settle().await;

    // No key: said before anything is sent.
    click(&page, "dps-register");
    wait_for(&page, "p.error", "Device key: paste the device's key").await;

    // A key no enrollment made: DPS refuses it, and the page says what to check.
    type_into(
        &page,
        "dps-device-key",
        "c2VjcmV0LWtleS1vZi1ub2JvZHktYXQtYWxs",
    );
    settle().await;
    click(&page, "dps-register");
    wait_for(&page, "#dps-result", "check the device key").await;

    // The device key pasted, derived in the test from the group's key.
    let device_key = hubcert::contract::derive_device_key(&group_key, id).unwrap();
    type_into(&page, "dps-device-key", &device_key);
    settle().await;
    click(&page, "dps-register");
    let done = wait_for(&page, "#dps-result", "Provisioned").await;
    assert!(done.contains(&format!("assigned {id} to")), "{done}");
    let log = text(&page, "#dps-log");
    assert!(log.contains("iotdps-register"), "{log}");
    assert!(telemetry_of(id).await.len() > before, "telemetry arrived");

    // The group's key instead: the page derives the device key.
    type_into(&page, "dps-device-key", "");
    type_into(&page, "dps-test-group-key", &group_key);
    settle().await;
    click(&page, "dps-register");
    wait_for(&page, "#dps-result", "Provisioned").await;
    assert!(
        telemetry_of(id).await.len() > before + 1,
        "telemetry arrived again"
    );
    page.remove();
}

#[wasm_bindgen_test]
async fn the_hubs_view_of_the_fleet_lists_every_device_beside_the_pages_and_exports_it() {
    let info = localhub_info().await;
    js_sys::eval(NETWORK_RECORDER).unwrap();
    let page = mount().await;
    point_at_localhub(&page).await;
    let tag = suffix();
    // A device registered by someone else (never made on this page, never connected) ...
    let elsewhere = format!("fleet-{tag}-elsewhere");
    put_device(
        &info,
        &elsewhere,
        serde_json::json!({"type": "certificateAuthority"}),
        None,
    )
    .await;
    // ... and one made here, not registered.
    type_into(&page, "ca-cn", &format!("Fleet Root {tag}"));
    click(&page, "ca-create");
    settle().await;
    let made = format!("fleet-{tag}-made");
    issue_device(&page, &made).await;

    click(&page, "fleet-read");
    wait_for(&page, "#fleet-status", "twins from the hub").await;
    let summary = text(&page, "#fleet-summary");
    assert!(
        summary.contains("devices on the hub") && summary.contains("never reported a certificate"),
        "{summary}"
    );
    let csv = download_text(&page, "fleet-expiry.csv").await;
    assert!(csv.starts_with("deviceId,onHub,madeHere,"), "{csv}");
    let line = |id: &str| {
        csv.lines()
            .find(|l| l.starts_with(&format!("{id},")))
            .unwrap_or_else(|| panic!("{id} not in {csv}"))
            .to_owned()
    };
    let row = line(&elsewhere);
    assert!(
        row.starts_with(&format!(
            "{elsewhere},true,false,enabled,certificateAuthority"
        )),
        "{row}"
    );
    assert!(row.contains(",unknown,"), "{row}");
    let row = line(&made);
    assert!(row.starts_with(&format!("{made},false,true,")), "{row}");
}

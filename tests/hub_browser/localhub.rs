//! The fixture localhub: its addresses, the test's own calls to it (what it holds, checked apart
//! from the page), and the page's steps that point at it.

use hubcert::app::Fetch;
use hubcert::contract::build_sas_token;
use hubcert::iothub::{Arm, HubClient};
use serde_json::Value;
use web_sys::Element;

use crate::page::{click, type_into, unix_now, wait_for};

/// localhub's REST address; the fixtures (scripts/fixtures.sh) start it there.
pub const LOCALHUB: &str = match option_env!("HUBCERT_LOCALHUB") {
    Some(url) => url,
    None => "http://127.0.0.1:18081",
};

/// localhub's MQTT over WebSocket address; its TLS root is trusted in the test browser's NSS store.
pub const LOCALHUB_WSS: &str = match option_env!("HUBCERT_LOCALHUB_WSS") {
    Some(a) => a,
    None => "localhost:18884",
};

/// localhub's HTTPS REST port, which serves the device WebSocket too.
pub const LOCALHUB_HTTPS: Option<&str> = option_env!("HUBCERT_LOCALHUB_HTTPS");

/// A CA-signed device whose certificate the browser-store fixture imported into the test
/// browser's store (and which a Chromium policy selects for localhub's WSS port).
const X509_DEVICE: Option<&str> = option_env!("HUBCERT_X509_DEVICE");

/// [`X509_DEVICE`], or a failure that says how to set it.
pub fn x509_device() -> &'static str {
    X509_DEVICE.expect(
        "HUBCERT_X509_DEVICE is unset: the browser-store fixture provisions the device, imports its \
         .pfx into the browser's NSS store and sets it (./scripts/fixtures.sh run ...; scripts/test.sh does)",
    )
}

/// A short random tag, so that what a test makes on localhub is its own.
pub fn suffix() -> String {
    format!(
        "{:08x}",
        (js_sys::Math::random() * f64::from(u32::MAX)) as u32
    )
}

pub async fn get_json(url: &str, authorization: &str) -> (u16, Value) {
    let r = gloo::net::http::Request::get(url)
        .header("Authorization", authorization)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// localhub's info, or a failure that says how to start it.
pub async fn localhub_info() -> Value {
    let url = format!("{LOCALHUB}/localhub/info");
    match gloo::net::http::Request::get(&url).send().await {
        Ok(r) => r.json().await.expect("localhub info is JSON"),
        Err(e) => panic!(
            "localhub is not running at {LOCALHUB} ({e}). Run the browser tests under the fixtures: \
             ./scripts/fixtures.sh run wasm-pack test --headless --chrome (scripts/test.sh does this)"
        ),
    }
}

/// A SAS token for `policy` from the connection string `info[field]`, for `seconds`.
fn token_from(info: &Value, field: &str, policy: &str, seconds: u64) -> String {
    let cs = info[field].as_str().unwrap();
    let key = cs.split("SharedAccessKey=").nth(1).unwrap();
    let host = info["hostName"].as_str().unwrap();
    build_sas_token(host, key, Some(policy), unix_now() + seconds).unwrap()
}

/// A service SAS token from localhub's owner connection string, for a minute.
pub fn owner_token(info: &Value) -> String {
    token_from(info, "connectionString", "iothubowner", 60)
}

/// The same for `seconds`.
pub fn owner_token_for(info: &Value, seconds: u64) -> String {
    token_from(info, "connectionString", "iothubowner", seconds)
}

/// A SAS token from localhub's DPS owner connection string, for a minute.
pub fn dps_owner_token(info: &Value) -> String {
    token_from(info, "dpsConnectionString", "provisioningserviceowner", 60)
}

/// The registry's address of device `id`.
pub fn device_url(id: &str) -> String {
    format!("{LOCALHUB}/devices/{id}?api-version=2021-04-12")
}

/// ARM's address of the hub's CA certificate `name`.
pub fn hub_certificate_url(name: &str) -> String {
    format!("{LOCALHUB}/subscriptions/s/resourceGroups/r/providers/Microsoft.Devices/IotHubs/localhub/certificates/{name}?api-version=2023-06-30")
}

/// Device `id` as the registry answers it, with its status.
pub async fn get_device(info: &Value, id: &str) -> (u16, Value) {
    get_json(&device_url(id), &owner_token(info)).await
}

/// A GET on localhub's DPS service API with its owner SAS.
pub async fn get_json_dps(path: &str, info: &Value) -> (u16, Value) {
    get_json(
        &format!("{LOCALHUB}{path}?api-version=2021-10-01"),
        &dps_owner_token(info),
    )
    .await
}

/// A PUT of `body` to `url` with `token` (and `If-Match`, if given): it must answer 200, with
/// what it holds now.
pub async fn put_json(url: &str, token: &str, body: Value, if_match: Option<&str>) -> Value {
    let mut request = gloo::net::http::Request::put(url)
        .header("Authorization", token)
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
    assert_eq!(r.status(), 200, "PUT {url}");
    r.json().await.unwrap()
}

/// Creates (`if_match` None) or replaces a device with the test's own REST call, with
/// `authentication` as IoT Hub's JSON has it; returns what the hub answered.
pub async fn put_device(
    info: &Value,
    id: &str,
    authentication: Value,
    if_match: Option<&str>,
) -> Value {
    let body = serde_json::json!({"deviceId": id, "authentication": authentication});
    put_json(&device_url(id), &owner_token(info), body, if_match).await
}

/// A CA-signed device's `authentication`.
pub fn ca_signed_auth() -> Value {
    serde_json::json!({"type": "certificateAuthority"})
}

/// A thumbprint device's `authentication`: both slots `sha256`.
pub fn thumbprint_auth(sha256: &str) -> Value {
    serde_json::json!({"type": "selfSigned", "x509Thumbprint": {"primaryThumbprint": sha256, "secondaryThumbprint": sha256}})
}

/// Every event localhub recorded for `id` (telemetry and others).
pub async fn events_of(id: &str) -> Value {
    let (status, got) = get_json(&format!("{LOCALHUB}/localhub/telemetry?deviceId={id}"), "").await;
    assert_eq!(status, 200);
    got
}

/// Telemetry events localhub holds for `id`.
pub async fn telemetry_of(id: &str) -> Vec<Value> {
    events_of(id)
        .await
        .as_array()
        .expect("a list")
        .iter()
        .filter(|e| e["kind"] == "telemetry")
        .cloned()
        .collect()
}

/// The hub client the page uses, and ARM's address of localhub.
pub fn hub_and_arm() -> (HubClient<Fetch>, Arm) {
    (
        HubClient::new(Fetch, true),
        Arm::new(LOCALHUB, "s", "r", "localhub", "test").unwrap(),
    )
}

// ---- the page's steps against localhub ----

/// Points the hub settings' endpoints at the test's localhub.
pub fn hub_endpoints_at_localhub(page: &Element) {
    type_into(page, "hub-arm-endpoint", LOCALHUB);
    type_into(page, "hub-registry-endpoint", LOCALHUB);
}

/// Points the hub settings at the test's localhub and reads its connection string from it.
pub async fn point_at_localhub(page: &Element) {
    hub_endpoints_at_localhub(page);
    click(page, "hub-read-localhub");
    wait_for(page, "#hub-settings-status", "connection string").await;
}

/// Uploads the page's signing CA as `name` and proves possession, in one click.
pub async fn upload_with_proof(page: &Element, name: &str) {
    type_into(page, "hub-cert-name", name);
    click(page, "hub-upload");
    wait_for(page, "#hub-upload-status", "verified (proof of possession)").await;
}

/// Points the DPS settings at the test's localhub and reads them from it.
pub async fn read_localhub_dps(page: &Element) {
    type_into(page, "dps-endpoint", LOCALHUB);
    click(page, "dps-read-localhub");
    wait_for(page, "#dps-settings-status", "Read localhub's DPS").await;
}

/// Registers `ids` (one a line) with the register step's choices, waiting for `said`.
pub async fn register(page: &Element, ids: &str, said: &str) {
    type_into(page, "reg-ids", ids);
    click(page, "reg-submit");
    wait_for(page, "#reg-status", said).await;
}

/// Saves the DPS group form, waiting until the page says `said`.
pub async fn save_group(page: &Element, said: &str) {
    click(page, "dps-save");
    wait_for(page, "#dps-status", said).await;
}

//! The Test a device route (`#/test`): this browser as the device over MQTT over WebSockets, by
//! SAS and by a certificate from the browser's store, against localhub and mosquitto.

use serde_json::Value;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::wasm_bindgen_test;
use web_sys::Element;

use crate::localhub::*;
use crate::page::*;

const X509_ROGUE: Option<&str> = option_env!("HUBCERT_X509_ROGUE");
/// A device under an intermediate, registered CA-signed on both fixture localhubs; the browser
/// presents it to `https://127.0.0.1:18443` and to the preview localhub's WebSocket port.
const X509_CHAINED: Option<&str> = option_env!("HUBCERT_X509_CHAINED");
/// The SHA-256 thumbprint of that device's certificate.
const X509_CHAINED_SHA256: Option<&str> = option_env!("HUBCERT_X509_CHAINED_SHA256");
/// The fixture localhub started with `--preview-mode`.
const PREVIEW_LOCALHUB: &str = match option_env!("HUBCERT_PREVIEW_LOCALHUB") {
    Some(url) => url,
    None => "http://127.0.0.1:18091",
};
const PREVIEW_WSS: &str = match option_env!("HUBCERT_PREVIEW_WSS") {
    Some(address) => address,
    None => "localhost:18894",
};
const MOSQUITTO_WSS: Option<&str> = option_env!("HUBCERT_MOSQUITTO_WSS");

/// Registers a SAS device with the test's own REST call; returns its primary key.
async fn register_sas_device(info: &Value, id: &str) -> String {
    let auth = serde_json::json!({"type": "sas", "symmetricKey": {"primaryKey": null, "secondaryKey": null}});
    let v = put_device(info, id, auth, None).await;
    v["authentication"]["symmetricKey"]["primaryKey"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The device test as the X.509 device `id`, for host `localhost` (its certificate comes from
/// the browser's store).
async fn as_x509_device(page: &Element, id: &str) {
    press(page, "dev-x509").await;
    type_into(page, "dev-host", "localhost");
    type_into(page, "dev-id", id);
}

/// Connects and waits for the page to say so.
async fn connect(page: &Element) {
    press_until(page, "dev-connect", "#dev-status", "Connected").await;
}

/// Sends `payload` once and waits until the counts say `said`.
async fn send(page: &Element, payload: &str, said: &str) {
    type_into(page, "dev-payload", payload);
    press_until(page, "dev-send", "#dev-counts", said).await;
}

async fn disconnect(page: &Element) {
    press_until(page, "dev-disconnect", "#dev-status", "Disconnected").await;
}

#[wasm_bindgen_test]
async fn a_sas_device_connects_over_wss_sends_telemetry_and_gets_c2d_and_twin() {
    let info = localhub_info().await;
    let id = format!("wss-sas-{}", suffix());
    let key = register_sas_device(&info, &id).await;
    let host = info["hostName"].as_str().unwrap();

    let page = mount().await;
    press(&page, "dev-sas").await;
    type_into(&page, "dev-address", LOCALHUB_WSS);
    type_into(
        &page,
        "dev-cs",
        &format!("HostName={host};DeviceId={id};SharedAccessKey={key}"),
    );
    connect(&page).await;
    wait_for(&page, "#dev-log", "SUBACK").await;

    // Two messages of the seed's sample, QoS 1: both acknowledged, both recorded by localhub.
    type_into(&page, "dev-count", "2");
    type_into(&page, "dev-every", "50");
    press_until(&page, "dev-send", "#dev-counts", "2 sent · 2 acknowledged").await;
    assert!(text(&page, "#dev-log").contains("PUBACK id"));
    let sent = telemetry_of(&id).await;
    assert_eq!(sent.len(), 2, "{sent:?}");
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
        "{sent:?}"
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
    press_until(
        &page,
        "dev-twin-report",
        "#dev-twin",
        "Reported properties updated",
    )
    .await;
    press_until(
        &page,
        "dev-twin-get",
        "#dev-twin",
        "\"firmware\": \"1.0.0\"",
    )
    .await;

    disconnect(&page).await;

    // A device the hub does not know: refused, with the causes in order.
    type_into(
        &page,
        "dev-cs",
        &format!(
            "HostName={host};DeviceId=nobody-{};SharedAccessKey={key}",
            suffix()
        ),
    );
    let refused = press_until(&page, "dev-connect", "#dev-status", "CONNACK 5").await;
    assert!(refused.contains("not registered"), "{refused}");
}

#[wasm_bindgen_test]
async fn an_x509_device_from_the_browser_store_connects_over_wss_and_sends_telemetry() {
    let info = localhub_info().await;
    let id = x509_device();
    let page = mount().await;
    as_x509_device(&page, id).await;
    fill(&page, "dev-address", LOCALHUB_WSS).await;
    let code = text(&page, "#dev-snippets");
    assert!(
        code.contains(&format!("DeviceId={id};x509=true"))
            && code.contains(&format!("--cert {id}.pem")),
        "{code}"
    );
    connect(&page).await;
    let payload = r#"{"from":"the browser's certificate store"}"#;
    send(&page, payload, "1 sent · 1 acknowledged").await;
    let sent = telemetry_of(id).await;
    assert!(
        sent.iter()
            .any(|e| e["body"] == payload && e["transport"] == "wss"),
        "{sent:?}"
    );
    disconnect(&page).await;

    // The same certificate once the hub no longer knows the device: refused, and the page lists
    // why (the browser keeps presenting this certificate to this address).
    let (_, device) = get_device(&info, id).await;
    let r = gloo::net::http::Request::delete(&device_url(id))
        .header("Authorization", &owner_token(&info))
        .header("If-Match", "*")
        .send()
        .await
        .unwrap();
    assert!(r.ok(), "{}", r.status());
    let refused = press_until(&page, "dev-connect", "#dev-status", "CONNACK 5").await;
    assert!(refused.contains("registered"), "{refused}");
    // Registered again, as it was.
    put_device(&info, id, device["authentication"].clone(), None).await;

    // A device whose CA the hub never saw, from the store through localhub's other address.
    let rogue = X509_ROGUE.expect(
        "HUBCERT_X509_ROGUE is unset: the browser-store fixture makes a device under an unknown CA \
         and puts it in the browser's store for https://127.0.0.1:18884 (./scripts/fixtures.sh run ...)",
    );
    let port = LOCALHUB_WSS.rsplit(':').next().unwrap_or("18884");
    type_into(&page, "dev-address", &format!("127.0.0.1:{port}"));
    type_into(&page, "dev-id", rogue);
    let refused = press_until(&page, "dev-connect", "#dev-status", "CONNACK 5").await;
    assert!(refused.contains("verified"), "{refused}");
    let got = events_of(rogue).await;
    assert_eq!(got.as_array().map(Vec::len), Some(0), "{got}");
}

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
            sleep_ms(20).await;
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
            sleep_ms(20).await;
        }
        Vec::new()
    }
}

impl Drop for Refusals {
    fn drop(&mut self) {
        self.source.close();
    }
}

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
    as_x509_device(&page, id).await;

    // The generally available localhub, through the WebSocket its HTTPS port serves, and the
    // one in preview mode: both refuse, each having seen one certificate.
    let https_port = LOCALHUB_HTTPS
        .and_then(|a| a.rsplit(':').next())
        .unwrap_or("18443");
    let ga = format!("127.0.0.1:{https_port}");
    for address in [ga.as_str(), PREVIEW_WSS] {
        type_into(&page, "dev-address", address);
        let status = press_until(&page, "dev-connect", "#dev-status", "CONNACK 5").await;
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
    connect(&page).await;
    send(&page, r#"{"from":"a thumbprint device"}"#, "1 acknowledged").await;
    disconnect(&page).await;
}

/// The same page and certificate against a real broker: Debian's mosquitto with a TLS websockets
/// listener that requires a client certificate. scripts/test.sh checks that mosquitto_sub, on the
/// broker's plain listener, received what the page sent.
#[wasm_bindgen_test]
async fn an_x509_device_from_the_browser_store_publishes_through_mosquitto_over_wss() {
    let id = x509_device();
    let address = MOSQUITTO_WSS.expect(
        "HUBCERT_MOSQUITTO_WSS is unset: the mosquitto fixture (./scripts/fixtures.sh run ...) starts mosquitto with a TLS websockets \
         listener on localhost:18886 and sets it",
    );
    let page = mount().await;
    as_x509_device(&page, id).await;
    type_into(&page, "dev-address", address);
    connect(&page).await;
    // mosquitto acknowledges the QoS 1 publish: it took the message.
    send(
        &page,
        r#"{"from":"the page through mosquitto"}"#,
        "1 sent · 1 acknowledged",
    )
    .await;
    disconnect(&page).await;
}

#[wasm_bindgen_test]
async fn the_device_test_reads_the_registration_and_a_thumbprint_device_needs_no_preview_mode() {
    let info = localhub_info().await;
    let page = mount().await;
    point_at_localhub(&page).await;

    // A device under an intermediate: registered as CA-signed, a GA hub refuses it over WSS.
    create_root(&page, "WS Check Root").await;
    create_intermediate(&page, "WS Check Intermediate").await;
    let id = format!("ws-thumb-{}", suffix());
    issue_device(&page, &id).await;
    let sha256 = text(&page, "[id^=device-] code.sha256").trim().to_owned();
    fill(&page, "dev-id", &id).await;
    assert!(text(&page, "#dev-ws-caution").contains("preview mode"));

    // Registered by its thumbprint instead, the page reads that and lifts the caution.
    put_device(&info, &id, thumbprint_auth(&sha256), None).await;
    press_until(
        &page,
        "dev-check-registration",
        "#dev-registration",
        "thumbprint",
    )
    .await;
    assert!(find(&page, "#dev-ws-caution").is_none());
}

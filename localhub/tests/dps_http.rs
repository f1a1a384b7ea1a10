//! DPS's device API over HTTPS (register, operation status, registration status): symmetric-key
//! devices by their SAS token, X.509 devices by their TLS client certificate, DPS's answers and
//! error bodies as its spec declares them; then Microsoft's Node.js provisioning SDK over HTTPS
//! (azure-iot-provisioning-device-http with azure-iot-security-symmetric-key, and with
//! X509Security), whose device client connects to the assigned hub over WebSockets and sends.
//! The SDK dials `{host}:443`, so that localhub listens on 127.0.0.4:443, its own loopback address
//! (one test there); the other tests use ephemeral ports.

mod common;

use std::path::PathBuf;
use std::process::Command;

use base64::Engine as _;
use common::*;
use hubcert::contract::{derive_device_key, registration_token, EnrollmentGroup};
use hubcert::pki::Identity;
use localhub::{Config, EventKind};
use reqwest::Method;
use serde_json::{json, Value};

const SCOPE: &str = "0ne00000001";
/// The group key of Microsoft's symmetric-key docs.
const GROUP_KEY: &str =
    "8isrFI1sGsIlvvFSSFRiMfCNzv21fjbE/+ah/lSh3lF8e2YG1Te7w1KpZhJFFXJrqYKi9yegxkqIChbqOS9Egw==";
/// Where Microsoft's Node.js SDK finds this test's localhub on port 443.
const HTTPS_SDK_HOST: &str = "127.0.0.4";

fn unix() -> u64 {
    now().unix_timestamp() as u64
}

/// An answer: status, headers, JSON body.
struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

/// A device API call: `{root}/{SCOPE}/registrations/{id}{tail}?api-version=2021-06-01`.
async fn device_call(
    client: &reqwest::Client,
    root: &str,
    method: Method,
    id: &str,
    tail: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Answer {
    let mut req = client.request(
        method,
        format!("{root}/{SCOPE}/registrations/{id}{tail}?api-version=2021-06-01"),
    );
    if let Some(t) = token {
        req = req.header("Authorization", t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.expect("an answer");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap_or_default();
    Answer {
        status,
        headers,
        body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
    }
}

/// Register then poll once, as the SDKs do: the PUT's 202 and the GET's answer.
async fn register(
    client: &reqwest::Client,
    root: &str,
    id: &str,
    token: Option<&str>,
) -> (Answer, Answer) {
    let put = device_call(
        client,
        root,
        Method::PUT,
        id,
        "/register",
        token,
        Some(json!({"registrationId": id})),
    )
    .await;
    let op = put.body["operationId"]
        .as_str()
        .unwrap_or("none")
        .to_owned();
    let get = device_call(
        client,
        root,
        Method::GET,
        id,
        &format!("/operations/{op}"),
        token,
        None,
    )
    .await;
    (put, get)
}

fn assert_dps_error(a: &Answer, status: u16, code: i64) {
    assert_eq!(a.status, status, "{}", a.body);
    assert_eq!(a.body["errorCode"], code, "{}", a.body);
    for field in ["trackingId", "message", "timestampUtc"] {
        assert!(a.body[field].is_string(), "{field} in {}", a.body);
    }
    assert_eq!(
        a.headers
            .get("x-ms-error-code")
            .and_then(|v| v.to_str().ok()),
        Some(code.to_string().as_str())
    );
}

async fn put_group(hub: &Hub, group: &EnrollmentGroup) -> (u16, Value) {
    hub.dps_call(
        Method::PUT,
        &format!("/enrollmentGroups/{}", group.enrollment_group_id),
        Some(serde_json::to_value(group).expect("json")),
    )
    .await
}

fn key_bytes(key: &Value) -> usize {
    base64::engine::general_purpose::STANDARD
        .decode(key.as_str().expect("a key"))
        .expect("base64")
        .len()
}

#[tokio::test]
async fn symmetric_key_devices_register_over_https_as_the_device_api_declares() {
    let hub = start().await;
    let http = reqwest::Client::new();
    let root = hub.base.clone();

    // A group with its primary key given: DPS makes the secondary (64 random bytes).
    let (status, group) = put_group(
        &hub,
        &EnrollmentGroup::symmetric_key("sym-fleet", Some(GROUP_KEY), None),
    )
    .await;
    assert_eq!(status, 200, "{group}");
    let keys = &group["attestation"]["symmetricKey"];
    assert_eq!(keys["primaryKey"], GROUP_KEY);
    assert_eq!(key_bytes(&keys["secondaryKey"]), 64);
    let group_secondary = keys["secondaryKey"].as_str().expect("key").to_owned();

    // A group device, signing with the key derived from the group's primary.
    let id = "sym-http-1";
    let device_key = derive_device_key(GROUP_KEY, id).expect("key");
    let token = registration_token(SCOPE, id, &device_key, unix() + 600).expect("token");
    let (put, get) = register(&http, &root, id, Some(&token)).await;
    assert_eq!(put.status, 202, "{}", put.body);
    assert_eq!(put.body["status"], "assigning");
    assert!(put.body["operationId"]
        .as_str()
        .is_some_and(|o| !o.is_empty()));
    assert_eq!(
        put.headers.get("retry-after").and_then(|v| v.to_str().ok()),
        Some("1")
    );
    assert_eq!(get.status, 200, "{}", get.body);
    assert_eq!(get.body["operationId"], put.body["operationId"]);
    assert_eq!(get.body["status"], "assigned");
    let state = &get.body["registrationState"];
    assert_eq!(state["registrationId"], id);
    assert_eq!(state["assignedHub"], "localhost");
    assert_eq!(state["deviceId"], id);
    assert_eq!(state["status"], "assigned");
    assert_eq!(state["substatus"], "initialAssignment");
    for field in ["createdDateTimeUtc", "lastUpdatedDateTimeUtc", "etag"] {
        assert!(state[field].is_string(), "{field} in {state}");
    }
    assert_eq!(state["symmetricKey"]["enrollmentGroupId"], "sym-fleet");
    assert!(state.get("x509").is_none(), "{state}");
    // The registration status lookup answers the same state.
    let status = device_call(
        &http,
        &root,
        Method::POST,
        id,
        "",
        Some(&token),
        Some(json!({"registrationId": id})),
    )
    .await;
    assert_eq!(status.status, 200, "{}", status.body);
    assert_eq!(&status.body, state);
    // The service API's registration state says the same, without the device API's attestation.
    let (code, service) = hub
        .dps_call(Method::GET, &format!("/registrations/{id}"), None)
        .await;
    assert_eq!(code, 200, "{service}");
    assert_eq!(service["deviceId"], id);
    assert!(service.get("symmetricKey").is_none(), "{service}");

    // The device is a SAS device in the hub, its keys derived from the group's two.
    let r = hub.registry("GET", id, None, None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["authentication"]["type"], "sas", "{}", r.body);
    let sas = &r.body["authentication"]["symmetricKey"];
    assert_eq!(sas["primaryKey"], device_key.as_str());
    assert_eq!(
        sas["secondaryKey"],
        derive_device_key(&group_secondary, id)
            .expect("key")
            .as_str()
    );
    // And it connects to the hub with the key it registered with.
    let hub_token = hubcert::contract::build_sas_token(
        &format!("localhost/devices/{id}"),
        &device_key,
        None,
        unix() + 600,
    )
    .expect("token");
    let (client, mut events) = connect(&hub, Via::Tls, id, None, &hub_token)
        .await
        .expect("the device connects to the hub");
    send_telemetry(&client, &mut events, id, r#"{"via":"https"}"#).await;

    // An individual enrollment, keys made by DPS; the device signs with the secondary.
    let (status, enrollment) = hub
        .dps_call(
            Method::PUT,
            "/enrollments/sym-solo",
            Some(
                serde_json::to_value(hubcert::contract::IndividualEnrollment::symmetric_key(
                    "sym-solo", None, None,
                ))
                .expect("json"),
            ),
        )
        .await;
    assert_eq!(status, 200, "{enrollment}");
    let keys = &enrollment["attestation"]["symmetricKey"];
    assert_eq!(
        (
            key_bytes(&keys["primaryKey"]),
            key_bytes(&keys["secondaryKey"])
        ),
        (64, 64)
    );
    let (primary, secondary) = (
        keys["primaryKey"].as_str().expect("key"),
        keys["secondaryKey"].as_str().expect("key"),
    );
    let token = registration_token(SCOPE, "sym-solo", secondary, unix() + 600).expect("token");
    let (_, get) = register(&http, &root, "sym-solo", Some(&token)).await;
    assert_eq!(get.body["status"], "assigned", "{}", get.body);
    let r = hub.registry("GET", "sym-solo", None, None).await;
    assert_eq!(r.body["authentication"]["type"], "sas", "{}", r.body);
    assert_eq!(
        r.body["authentication"]["symmetricKey"]["primaryKey"],
        primary
    );
    assert_eq!(
        r.body["authentication"]["symmetricKey"]["secondaryKey"],
        secondary
    );

    // Refusals: no credential, the group's own key, another registration's token, an expired one.
    let (put, _) = register(&http, &root, "sym-http-2", None).await;
    assert_dps_error(&put, 401, 401_002);
    for bad in [
        registration_token(SCOPE, "sym-http-2", GROUP_KEY, unix() + 600).expect("token"),
        registration_token(SCOPE, id, &device_key, unix() + 600).expect("token"),
        registration_token(
            SCOPE,
            "sym-http-2",
            &derive_device_key(GROUP_KEY, "sym-http-2").expect("key"),
            unix() - 1,
        )
        .expect("token"),
    ] {
        let (put, _) = register(&http, &root, "sym-http-2", Some(&bad)).await;
        assert_dps_error(&put, 401, 401_002);
    }
    // Another ID scope, a body naming another registration, an operation never given, no
    // api-version, the status of a registration that never was.
    let good = registration_token(
        SCOPE,
        "sym-http-2",
        &derive_device_key(GROUP_KEY, "sym-http-2").expect("key"),
        unix() + 600,
    )
    .expect("token");
    let other_scope = http
        .put(format!(
            "{root}/0ne99999999/registrations/sym-http-2/register?api-version=2021-06-01"
        ))
        .header("Authorization", &good)
        .json(&json!({"registrationId": "sym-http-2"}))
        .send()
        .await
        .expect("answer");
    assert_eq!(other_scope.status().as_u16(), 401);
    let wrong_body = device_call(
        &http,
        &root,
        Method::PUT,
        "sym-http-2",
        "/register",
        Some(&good),
        Some(json!({"registrationId": "x"})),
    )
    .await;
    assert_dps_error(&wrong_body, 400, 400_004);
    let no_op = device_call(
        &http,
        &root,
        Method::GET,
        "sym-http-2",
        "/operations/5.1.abc",
        Some(&good),
        None,
    )
    .await;
    assert_dps_error(&no_op, 404, 404_201);
    let never = device_call(
        &http,
        &root,
        Method::POST,
        "sym-http-2",
        "",
        Some(&good),
        None,
    )
    .await;
    assert_dps_error(&never, 404, 404_203);
    let unversioned = http
        .put(format!("{root}/{SCOPE}/registrations/sym-http-2/register"))
        .header("Authorization", &good)
        .json(&json!({"registrationId": "sym-http-2"}))
        .send()
        .await
        .expect("answer");
    assert_eq!(unversioned.status().as_u16(), 400);

    // A disabled group: the registration ends `disabled`, with a 200, as DPS answers it.
    let mut off = EnrollmentGroup::symmetric_key("sym-off", None, None);
    off.provisioning_status = Some("disabled".into());
    let (status, group) = put_group(&hub, &off).await;
    assert_eq!(status, 200, "{group}");
    let off_key = group["attestation"]["symmetricKey"]["primaryKey"]
        .as_str()
        .expect("key");
    let token = registration_token(
        SCOPE,
        "sym-off-1",
        &derive_device_key(off_key, "sym-off-1").expect("key"),
        unix() + 600,
    )
    .expect("token");
    let (put, get) = register(&http, &root, "sym-off-1", Some(&token)).await;
    assert_eq!(put.status, 202, "{}", put.body);
    assert_eq!(get.status, 200, "{}", get.body);
    assert_eq!(get.body["status"], "disabled", "{}", get.body);
    assert_eq!(get.body["registrationState"]["status"], "disabled");
    assert_eq!(
        hub.registry("GET", "sym-off-1", None, None).await.status,
        404
    );
}

/// The core's device-API requests (`hubcert::iothub::DpsDeviceRegistration`), sent as the app
/// sends its calls: register, poll, read the registration status.
#[tokio::test]
async fn the_cores_symmetric_key_registration_requests_get_a_device_assigned() {
    use hubcert::iothub::{
        parse_registration_operation, parse_registration_state, DpsDeviceRegistration, Transport,
    };
    let hub = start().await;
    let (status, body) = put_group(
        &hub,
        &EnrollmentGroup::symmetric_key("core-fleet", Some(GROUP_KEY), None),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let key = derive_device_key(GROUP_KEY, "core-sym-1").expect("key");
    let transport = localhub::HttpTransport(reqwest::Client::new());
    let dev = DpsDeviceRegistration::new(&hub.base, SCOPE, "core-sym-1", &key).expect("settings");
    let answer = transport
        .send(&dev.register(unix()).expect("request"))
        .await
        .expect("an answer");
    assert_eq!(answer.status, 202, "{}", answer.body);
    let op = parse_registration_operation(&answer.body).expect("an operation");
    let answer = transport
        .send(
            &dev.operation_status(&op.operation_id, unix())
                .expect("request"),
        )
        .await
        .expect("an answer");
    assert_eq!(answer.status, 200, "{}", answer.body);
    let done = parse_registration_operation(&answer.body).expect("an operation");
    assert_eq!(done.status, hubcert::contract::RegistrationStatus::Assigned);
    let answer = transport
        .send(&dev.registration_status(unix()).expect("request"))
        .await
        .expect("an answer");
    let state = parse_registration_state(&answer.body).expect("a state");
    assert_eq!(Some(state), done.registration_state);
    // Signed with another key: 401.
    let wrong =
        DpsDeviceRegistration::new(&hub.base, SCOPE, "core-sym-1", GROUP_KEY).expect("settings");
    let answer = transport
        .send(&wrong.register(unix()).expect("request"))
        .await
        .expect("an answer");
    assert_eq!(answer.status, 401, "{}", answer.body);
}

/// A reqwest client trusting localhub's root, presenting `identity` when given.
fn https_client(hub: &Hub, identity: Option<&Identity>) -> reqwest::Client {
    let mut b = reqwest::Client::builder()
        .use_rustls_tls()
        .add_root_certificate(
            reqwest::Certificate::from_pem(hub.running.root_pem.as_bytes()).expect("root"),
        );
    if let Some(i) = identity {
        let pem = format!(
            "{}{}",
            i.key.to_pkcs8_pem().expect("key").as_str(),
            i.certificate.pem()
        );
        b = b.identity(reqwest::Identity::from_pem(pem.as_bytes()).expect("identity"));
    }
    b.build().expect("client")
}

#[tokio::test]
async fn x509_devices_register_over_https_by_their_tls_client_certificate() {
    let hub = start().await;
    let ca = root("HTTPS Fleet Root");
    assert_eq!(hub.enroll_group("https-fleet", &ca, true).await, 200);
    let root_url = format!("https://localhost:{}", hub.running.https.port());

    let dev = device(&ca, "x509-http-1");
    let client = https_client(&hub, Some(&dev));
    let (put, get) = register(&client, &root_url, "x509-http-1", None).await;
    assert_eq!(put.status, 202, "{}", put.body);
    assert_eq!(get.status, 200, "{}", get.body);
    assert_eq!(get.body["status"], "assigned", "{}", get.body);
    let state = &get.body["registrationState"];
    assert_eq!(state["deviceId"], "x509-http-1");
    assert_eq!(state["x509"]["enrollmentGroupId"], "https-fleet", "{state}");
    assert_eq!(
        state["x509"]["certificateInfo"]["subjectName"], "CN=x509-http-1",
        "{state}"
    );
    let r = hub.registry("GET", "x509-http-1", None, None).await;
    assert_eq!(r.body["authentication"]["type"], "selfSigned", "{}", r.body);
    let thumbprint = dev.certificate.info().expect("info").sha256.to_string();
    assert!(
        r.body["authentication"]["x509Thumbprint"]["primaryThumbprint"]
            .as_str()
            .is_some_and(|t| t.eq_ignore_ascii_case(&thumbprint)),
        "{}",
        r.body
    );

    // No certificate; a certificate of another registration; one no group's CA signed.
    let (put, _) = register(&https_client(&hub, None), &root_url, "x509-http-1", None).await;
    assert_dps_error(&put, 401, 401_002);
    let (put, _) = register(&client, &root_url, "x509-http-2", None).await;
    assert_dps_error(&put, 401, 401_002);
    let stranger = device(&root("Stranger Root"), "x509-http-3");
    let (put, _) = register(
        &https_client(&hub, Some(&stranger)),
        &root_url,
        "x509-http-3",
        None,
    )
    .await;
    assert_dps_error(&put, 401, 401_002);
    // The plain HTTP port has no client certificate to attest by.
    let (put, _) = register(&reqwest::Client::new(), &hub.base, "x509-http-1", None).await;
    assert_dps_error(&put, 401, 401_002);
}

fn node_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/node")
}

/// Runs tests/node/provision-http.js; `(succeeded, output)`.
fn run_node(
    hub: &Hub,
    registration_id: &str,
    credential: Result<&str, &Identity>,
    message: &str,
) -> (bool, String) {
    assert!(
        node_dir()
            .join("node_modules/azure-iot-provisioning-device-http")
            .exists(),
        "run `npm ci` in tests/node first (scripts/test.sh does)"
    );
    let dir = tempfile::tempdir().expect("dir");
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).expect("write");
        p
    };
    let ca = write("localhub-root.pem", &hub.running.root_pem);
    let mut c = Command::new("node");
    c.arg(node_dir().join("provision-http.js"))
        .env("PROVISIONING_HOST", HTTPS_SDK_HOST)
        .env("ID_SCOPE", SCOPE)
        .env("REGISTRATION_ID", registration_id)
        .env("MESSAGE", message)
        .env("NODE_EXTRA_CA_CERTS", &ca)
        .env("DEBUG", std::env::var("DEBUG").unwrap_or_default());
    match credential {
        Ok(key) => {
            c.env("SYMMETRIC_KEY", key);
        }
        Err(identity) => {
            c.env(
                "DEVICE_CERT",
                write("device.pem", &identity.certificate.pem()),
            )
            .env(
                "DEVICE_KEY",
                write("device.key", &identity.key.to_pkcs8_pem().expect("key")),
            );
        }
    }
    let out = c.output().expect("node runs");
    outcome(&out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn microsofts_node_sdk_provisions_over_https_by_symmetric_key_and_x509() {
    let hub = start_with(Config {
        https_port: 443,
        host_name: HTTPS_SDK_HOST.into(),
        bind: HTTPS_SDK_HOST.parse().expect("an address"),
        ..Config::ephemeral()
    })
    .await;
    let (status, body) = put_group(
        &hub,
        &EnrollmentGroup::symmetric_key("node-sym-fleet", Some(GROUP_KEY), None),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let ca = root("Node HTTPS Root");
    assert_eq!(hub.enroll_group("node-x509-fleet", &ca, true).await, 200);

    let sym_id = "node-http-sym-1";
    let x509_id = "node-http-x509-1";
    let device_key = derive_device_key(GROUP_KEY, sym_id).expect("key");
    let identity = device(&ca, x509_id);
    let cases: [(&str, Result<&str, &Identity>, &str); 2] = [
        (
            sym_id,
            Ok(&device_key),
            r#"{"provisioned":"node-https-sym"}"#,
        ),
        (
            x509_id,
            Err(&identity),
            r#"{"provisioned":"node-https-x509"}"#,
        ),
    ];
    for (id, credential, message) in cases {
        let (ok, text) = tokio::task::block_in_place(|| run_node(&hub, id, credential, message));
        assert!(ok, "{text}");
        assert!(
            text.contains(&format!("assigned {HTTPS_SDK_HOST} {id}")),
            "{text}"
        );
        assert!(text.contains("sent"), "{text}");
        let got = hub.running.hub.telemetry(Some(id));
        assert!(
            got.iter()
                .any(|e| e.kind == EventKind::Telemetry && e.body.as_deref() == Some(message)),
            "{got:?}"
        );
    }
    // A wrong key: the SDK reports DPS's refusal.
    let wrong = derive_device_key(GROUP_KEY, "someone-else").expect("key");
    let (ok, text) =
        tokio::task::block_in_place(|| run_node(&hub, "node-http-sym-2", Ok(&wrong), "{}"));
    assert!(!ok, "{text}");
    assert!(text.contains("registration failed"), "{text}");
}

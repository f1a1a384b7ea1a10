//! A localhub on ephemeral loopback ports, REST helpers, and a real MQTT client (rumqttc) as the device.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use hubcert::contract::build_sas_token;
use hubcert::pki::{CertificateAuthority, Identity};
use localhub::{Config, Running};
use rumqttc::{
    AsyncClient, ConnectReturnCode, Event, MqttOptions, Packet, QoS, TlsConfiguration, Transport,
};
use serde_json::{json, Value};
use time::OffsetDateTime;

pub const ARM_TOKEN: &str = "Bearer test-token";

pub struct Hub {
    pub running: Running,
    pub http: reqwest::Client,
    pub base: String,
}

pub async fn start() -> Hub {
    start_with(Config::ephemeral()).await
}

pub async fn start_with(config: Config) -> Hub {
    hub_with(localhub::start(config).await.expect("localhub starts"))
}

/// The loopback address of the localhub that device SDKs reach on port 8883: not 127.0.0.1, so
/// the tests run beside the localhub of `./scripts/run.sh`, which holds 127.0.0.1:8883.
pub const SDK_HOST: &str = "127.0.0.2";

/// localhub with MQTT on `SDK_HOST`:8883, where device SDKs always dial `{HostName}:8883`; its
/// host name is that address, which its TLS certificate names.
pub async fn start_on_8883() -> Hub {
    let config = Config {
        mqtt_port: 8883,
        host_name: SDK_HOST.into(),
        bind: SDK_HOST.parse().expect("an address"),
        ..Config::ephemeral()
    };
    hub_with(localhub::start(config).await.unwrap_or_else(|e| {
        panic!("localhub on {SDK_HOST}:8883 (stop whatever else listens there): {e}")
    }))
}

/// The loopback address of the localhub that device SDKs reach over WebSockets on port 443.
pub const WS_SDK_HOST: &str = "127.0.0.3";

/// localhub with HTTPS (and so its WebSocket endpoint) on `WS_SDK_HOST`:443, where device SDKs in
/// WebSocket mode always dial `{HostName}:443`; otherwise its default flags.
pub async fn start_on_443() -> Hub {
    start_for_service_sdk(WS_SDK_HOST, Config::ephemeral()).await
}

/// Loopback addresses of their own for Microsoft's service SDKs (`azure-iothub`, `azure-iot-hub`),
/// which dial `https://{HostName}`, port 443, and take no other port: one per SDK test of a test
/// binary (its tests run in parallel), none of them taken by the device SDK tests.
pub const SERVICE_SDK_HOSTS: [&str; 2] = ["127.0.0.6", "127.0.0.7"];

/// localhub started with `config`, its HTTPS port on `host`:443 and its host name that address
/// (which its TLS certificate names): the connection string it gives is what an SDK dials.
pub async fn start_for_service_sdk(host: &str, config: Config) -> Hub {
    let config = Config {
        https_port: 443,
        host_name: host.into(),
        bind: host.parse().expect("an address"),
        ..config
    };
    hub_with(localhub::start(config).await.unwrap_or_else(|e| {
        panic!("localhub on {host}:443 (stop whatever else listens there): {e}")
    }))
}

fn hub_with(running: Running) -> Hub {
    let base = format!("http://{}", running.http);
    Hub {
        running,
        http: reqwest::Client::new(),
        base,
    }
}

pub fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

pub fn unix_now() -> u64 {
    now().unix_timestamp() as u64
}

/// A clock so slow that no throttle refills while a test runs.
pub const FROZEN: f64 = 1e-6;

/// A hub throttled as one S1 unit, its throttles' clock running `time_scale` times the wall clock.
pub fn s1_config(time_scale: f64) -> Config {
    Config {
        throttling: Some(localhub::Throttling {
            time_scale,
            ..localhub::Throttling::new(hubcert::iothub::HubTier::S1, 1)
        }),
        ..Config::ephemeral()
    }
}

/// Bulk entries creating the CA-signed devices `{prefix}-{i}` for each `i` of `range`.
pub fn ca_entries(
    prefix: &str,
    range: std::ops::Range<usize>,
) -> Vec<hubcert::contract::ExportImportDevice> {
    use hubcert::contract::{AuthKind, Authentication, ExportImportDevice, ImportMode};
    range
        .map(|i| ExportImportDevice {
            authentication: Some(Authentication {
                kind: AuthKind::CertificateAuthority,
                ..Default::default()
            }),
            ..ExportImportDevice::new(&format!("{prefix}-{i}"), ImportMode::Create)
        })
        .collect()
}

/// The core's client over HTTP, its retries as the app's.
pub fn core_client() -> hubcert::iothub::HubClient<localhub::HttpTransport> {
    hubcert::iothub::HubClient::new(localhub::HttpTransport::default(), true)
}

#[path = "../../../tests/support/identities.rs"]
mod identities;

pub fn root(cn: &str) -> CertificateAuthority {
    identities::root_at(cn, now())
}

pub fn device(ca: &CertificateAuthority, id: &str) -> Identity {
    identities::device_at(ca, id, 30, now())
}

pub fn verification(ca: &CertificateAuthority, code: &str) -> String {
    identities::verification_at(ca, code, now())
        .certificate
        .pem()
}

/// The REST response: status, body, etag header.
pub struct Reply {
    pub status: u16,
    pub body: Value,
}

impl Hub {
    /// The core's registry for this hub, with its owner connection string.
    pub fn core_registry(&self) -> hubcert::iothub::Registry {
        hubcert::iothub::Registry::from_connection_string(
            &self.base,
            &self.running.hub.connection_string(),
        )
        .expect("registry")
    }

    pub fn cert_url(&self, name: &str) -> String {
        format!(
            "{}/subscriptions/sub-1/resourceGroups/rg-1/providers/Microsoft.Devices/IotHubs/localhub/certificates/{name}",
            self.base
        )
    }

    pub async fn arm(
        &self,
        method: &str,
        url: &str,
        etag: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let url = format!(
            "{url}{}api-version=2023-06-30",
            if url.contains('?') { "&" } else { "?" }
        );
        let mut req = self
            .http
            .request(method.parse().expect("method"), url)
            .header("Authorization", ARM_TOKEN);
        if let Some(e) = etag {
            req = req.header("If-Match", e);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        reply(req.send().await.expect("request")).await
    }

    /// A call on the DPS service API with the `provisioningserviceowner` SAS: status and JSON body.
    pub async fn dps_call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(
                method,
                format!("{}{path}?api-version=2021-10-01", self.base),
            )
            .header("Authorization", self.dps_token());
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.expect("answer");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Creates the X.509 enrollment group `id` over `ca`'s certificate, enabled or not; the status.
    pub async fn enroll_group(&self, id: &str, ca: &CertificateAuthority, enabled: bool) -> u16 {
        let mut group =
            hubcert::contract::EnrollmentGroup::x509_signing(id, &ca.certificate().pem(), None);
        if !enabled {
            group.provisioning_status = Some("disabled".into());
        }
        group.allocation_policy = Some("static".into());
        let body = serde_json::to_value(&group).expect("json");
        self.dps_call(
            reqwest::Method::PUT,
            &format!("/enrollmentGroups/{id}"),
            Some(body),
        )
        .await
        .0
    }

    /// A DPS service SAS token (`provisioningserviceowner`) valid for ten minutes.
    pub fn dps_token(&self) -> String {
        let cs = self.running.hub.dps_connection_string();
        let cs = hubcert::iothub::ConnectionString::parse(&cs).expect("DPS connection string");
        let key = cs.key.expect("key");
        let expiry = now().unix_timestamp() as u64 + 600;
        build_sas_token(&cs.host_name, &key, cs.policy.as_deref(), expiry).expect("token")
    }

    pub fn service_token(&self, expiry: u64) -> String {
        let cs = self.running.hub.connection_string();
        let cs = hubcert::iothub::ConnectionString::parse(&cs).expect("owner connection string");
        let key = cs.key.expect("key");
        build_sas_token(&cs.host_name, &key, Some("iothubowner"), expiry).expect("token")
    }

    pub async fn registry(
        &self,
        method: &str,
        id: &str,
        etag: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let expiry = (now().unix_timestamp() + 600) as u64;
        self.registry_with(method, id, etag, body, &self.service_token(expiry))
            .await
    }

    pub async fn registry_with(
        &self,
        method: &str,
        id: &str,
        etag: Option<&str>,
        body: Option<Value>,
        token: &str,
    ) -> Reply {
        let url = format!("{}/devices/{id}?api-version=2021-04-12", self.base);
        let mut req = self
            .http
            .request(method.parse().expect("method"), url)
            .header("Authorization", token);
        if let Some(e) = etag {
            req = req.header("If-Match", e);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        reply(req.send().await.expect("request")).await
    }

    /// Upload → verification code → verification certificate → verify: the seed's step 2.
    pub async fn upload_and_verify(&self, name: &str, ca: &CertificateAuthority) {
        let r = self
            .arm(
                "PUT",
                &self.cert_url(name),
                None,
                Some(json!({"properties": {"certificate": ca.certificate().pem()}})),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let etag = r.body["etag"].as_str().expect("etag").to_owned();
        let r = self
            .arm(
                "POST",
                &format!("{}/generateVerificationCode", self.cert_url(name)),
                Some(&etag),
                None,
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let code = r.body["properties"]["verificationCode"]
            .as_str()
            .expect("code")
            .to_owned();
        let etag = r.body["etag"].as_str().expect("etag").to_owned();
        let r = self
            .arm(
                "POST",
                &format!("{}/verify", self.cert_url(name)),
                Some(&etag),
                Some(json!({"certificate": verification(ca, &code)})),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["properties"]["isVerified"], true);
    }

    pub async fn register_ca_device(&self, id: &str) {
        let body = json!({"deviceId": id, "status": "enabled", "authentication": {"type": "certificateAuthority"}, "capabilities": {"iotEdge": false}});
        let r = self.registry("PUT", id, None, Some(body)).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
}

pub async fn reply(resp: reqwest::Response) -> Reply {
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    Reply {
        status,
        body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
    }
}

#[derive(Debug, Clone, Copy)]
pub enum Via {
    /// MQTT over TLS.
    Tls,
    /// MQTT over a TLS WebSocket on the WSS port.
    Wss,
    /// MQTT over a TLS WebSocket on the HTTPS REST port (one port, as IoT Hub's 443).
    WssRest,
}

/// Connects as a device with rumqttc and returns the CONNACK code (or the error text).
pub async fn connect(
    hub: &Hub,
    via: Via,
    id: &str,
    identity: Option<&Identity>,
    password: &str,
) -> Result<(AsyncClient, rumqttc::EventLoop), String> {
    connect_with_chain(hub, via, id, identity, &[], password).await
}

/// As [`connect`], the device sending `chain` (its CAs below the registered one) after its own
/// certificate.
pub async fn connect_with_chain(
    hub: &Hub,
    via: Via,
    id: &str,
    identity: Option<&Identity>,
    chain: &[&hubcert::pki::Certificate],
    password: &str,
) -> Result<(AsyncClient, rumqttc::EventLoop), String> {
    // `localhost`, unless localhub listens on a loopback address of its own (which its TLS
    // certificate names too).
    let name = match hub.running.mqtt.ip() {
        std::net::IpAddr::V4(ip) if ip.octets() != [127, 0, 0, 1] => ip.to_string(),
        _ => "localhost".to_owned(),
    };
    let ws = |port: u16| (format!("wss://{name}:{port}/$iothub/websocket"), port);
    let (host, port) = match via {
        Via::Tls => (name.clone(), hub.running.mqtt.port()),
        Via::Wss => ws(hub.running.wss.port()),
        Via::WssRest => ws(hub.running.https.port()),
    };
    let mut opts = MqttOptions::new(id, host, port);
    opts.set_credentials(format!("{name}/{id}/?api-version=2021-04-12"), password);
    opts.set_keep_alive(Duration::from_secs(30));
    let client_auth = identity.map(|i| {
        let mut pem = i.certificate.pem();
        for c in chain {
            pem.push_str(&c.pem());
        }
        (
            pem.into_bytes(),
            i.key.to_pkcs8_pem().expect("key").as_bytes().to_vec(),
        )
    });
    let tls = TlsConfiguration::Simple {
        ca: hub.running.root_pem.clone().into_bytes(),
        alpn: None,
        client_auth,
    };
    opts.set_transport(match via {
        Via::Tls => Transport::Tls(tls),
        Via::Wss | Via::WssRest => Transport::Wss(tls),
    });
    let (client, mut events) = AsyncClient::new(opts, 16);
    let first = tokio::time::timeout(Duration::from_secs(10), events.poll())
        .await
        .map_err(|_| "timed out".to_owned())?;
    match first {
        Ok(Event::Incoming(Packet::ConnAck(ack))) if ack.code == ConnectReturnCode::Success => {
            Ok((client, events))
        }
        Ok(other) => Err(format!("{other:?}")),
        Err(e) => Err(format!("{e:?}")),
    }
}

/// Publishes telemetry at QoS 1 and waits for the PUBACK.
pub async fn send_telemetry(
    client: &AsyncClient,
    events: &mut rumqttc::EventLoop,
    id: &str,
    body: &str,
) {
    client
        .publish(
            format!("devices/{id}/messages/events/$.ct=application%2Fjson&$.ce=utf-8"),
            QoS::AtLeastOnce,
            false,
            body.as_bytes().to_vec(),
        )
        .await
        .expect("publish queued");
    loop {
        match tokio::time::timeout(Duration::from_secs(10), events.poll())
            .await
            .expect("no puback in time")
        {
            Ok(Event::Incoming(Packet::PubAck(_))) => return,
            Ok(_) => {}
            Err(e) => panic!("connection failed while publishing: {e:?}"),
        }
    }
}

/// A TLS connection to localhub's device port as `identity` (its certificate in the handshake),
/// trusting localhub's root: what a device's MQTT client opens.
pub async fn device_tls(
    hub: &Hub,
    identity: &Identity,
) -> std::io::Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
    device_tls_presenting(hub, identity, &[]).await
}

/// As [`device_tls`], the device presenting `intermediates` (DER) after its certificate.
pub async fn device_tls_presenting(
    hub: &Hub,
    identity: &Identity,
    intermediates: &[Vec<u8>],
) -> std::io::Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(hub.running.root_pem.as_bytes()).expect("root"))
        .expect("root");
    let chain = std::iter::once(identity.certificate.der().to_vec())
        .chain(intermediates.iter().cloned())
        .map(CertificateDer::from)
        .collect();
    let key = PrivateKeyDer::from_pem_slice(identity.key.to_pkcs8_pem().expect("key").as_bytes())
        .expect("key");
    let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocols")
    .with_root_certificates(roots)
    .with_client_auth_cert(chain, key)
    .expect("client certificate");
    let tcp = tokio::net::TcpStream::connect(hub.running.mqtt).await?;
    tokio_rustls::TlsConnector::from(std::sync::Arc::new(config))
        .connect(ServerName::try_from("localhost").expect("name"), tcp)
        .await
}

/// Connects as `id` over TLS, optionally patches reported properties, then reads the twin.
pub async fn twin_of(hub: &Hub, id: &str, identity: &Identity, report: Option<Value>) -> Value {
    let (client, mut events) = connect(hub, Via::Tls, id, Some(identity), "")
        .await
        .expect("connects to the hub");
    client
        .subscribe("$iothub/twin/res/#", QoS::AtMostOnce)
        .await
        .expect("sub");
    loop {
        if let Event::Incoming(Packet::SubAck(_)) = events.poll().await.expect("poll") {
            break;
        }
    }
    if let Some(patch) = report {
        client
            .publish(
                "$iothub/twin/PATCH/properties/reported/?$rid=1",
                QoS::AtMostOnce,
                false,
                patch.to_string().into_bytes(),
            )
            .await
            .expect("patch");
    }
    client
        .publish(
            "$iothub/twin/GET/?$rid=2",
            QoS::AtMostOnce,
            false,
            Vec::new(),
        )
        .await
        .expect("get");
    let twin = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Event::Incoming(Packet::Publish(p)) = events.poll().await.expect("poll") {
                if p.topic.starts_with("$iothub/twin/res/200/?$rid=2") {
                    return serde_json::from_slice::<Value>(&p.payload).expect("json");
                }
            }
        }
    })
    .await
    .expect("the twin arrives");
    let _ = client.disconnect().await;
    twin
}

/// Over a connected device's session: a reported-properties patch with request id `rid`, then a
/// twin read; the patch's status and the twin (the session is closed after).
pub async fn patch_and_read(
    client: AsyncClient,
    mut events: rumqttc::EventLoop,
    patch: Value,
    rid: u32,
) -> (u16, Value) {
    client
        .subscribe("$iothub/twin/res/#", QoS::AtMostOnce)
        .await
        .expect("sub");
    client
        .publish(
            format!("$iothub/twin/PATCH/properties/reported/?$rid={rid}"),
            QoS::AtMostOnce,
            false,
            patch.to_string().into_bytes(),
        )
        .await
        .expect("patch");
    client
        .publish(
            "$iothub/twin/GET/?$rid=get",
            QoS::AtMostOnce,
            false,
            Vec::new(),
        )
        .await
        .expect("get");
    let mut status = None;
    let twin = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Event::Incoming(Packet::Publish(p)) = events.poll().await.expect("poll") {
                if p.topic.starts_with("$iothub/twin/res/200/?$rid=get") {
                    return serde_json::from_slice::<Value>(&p.payload).expect("json");
                }
                if p.topic.contains(&format!("/?$rid={rid}")) {
                    status = p
                        .topic
                        .trim_start_matches("$iothub/twin/res/")
                        .split('/')
                        .next()
                        .and_then(|s| s.parse().ok());
                }
            }
        }
    })
    .await
    .expect("the twin arrives");
    let _ = client.disconnect().await;
    (status.expect("the patch was answered"), twin)
}

/// How a program run by a test ended: whether it succeeded, and its exit status, standard output
/// and standard error in one text (for the test's failure message).
pub fn outcome(out: &std::process::Output) -> (bool, String) {
    (
        out.status.success(),
        format!(
            "{}: {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// A script that drives one of Microsoft's service SDKs: its file name's extension says which, `.js`
/// Node.js `azure-iothub` (tests/node's `node_modules`: `npm ci` there, as scripts/test.sh does),
/// `.py` Python `azure-iot-hub` (the venv of `HUBCERT_PYTHON`: source scripts/env.sh).
#[derive(Debug, Clone, Copy)]
pub enum SdkScript<'a> {
    /// A script of tests/node, by file name.
    File(&'a str),
    /// A script the test carries: its file name and source, written to a folder of its own.
    Inline(&'a str, &'a str),
}

/// tests/node: the SDKs' scripts and their `node_modules`.
pub fn sdk_scripts() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/node")
}

/// Runs `script` against `hub` (started by [`start_for_service_sdk`], so the SDK dials it as it
/// dials IoT Hub) with `IOTHUB_CONNECTION_STRING` (iothubowner), localhub's TLS root trusted
/// (`NODE_EXTRA_CA_CERTS`, `REQUESTS_CA_BUNDLE`) and `env` besides; checks that it succeeded and
/// printed each of `expected` (as a part of its output), and returns the output.
#[track_caller]
pub fn run_service_sdk(
    hub: &Hub,
    script: SdkScript,
    env: &[(&str, &str)],
    expected: &[&str],
) -> String {
    let dir = tempfile::tempdir().expect("dir");
    let root = dir.path().join("localhub-root.pem");
    std::fs::write(&root, &hub.running.root_pem).expect("write");
    let (name, path) = match script {
        SdkScript::File(name) => (name, sdk_scripts().join(name)),
        SdkScript::Inline(name, source) => {
            let path = dir.path().join(name);
            std::fs::write(&path, source).expect("write the script");
            (name, path)
        }
    };
    let mut command = if name.ends_with(".js") {
        let modules = sdk_scripts().join("node_modules");
        assert!(
            modules.join("azure-iothub").exists(),
            "run `npm ci` in tests/node first (scripts/test.sh does)"
        );
        let mut c = Command::new("node");
        // A script written elsewhere finds the SDK where tests/node's own scripts do.
        c.env("NODE_PATH", modules)
            .env("NODE_EXTRA_CA_CERTS", &root);
        c
    } else {
        let python = std::env::var("HUBCERT_PYTHON")
            .expect("HUBCERT_PYTHON: source scripts/env.sh (the Python SDK's venv)");
        let mut c = Command::new(python);
        c.env("REQUESTS_CA_BUNDLE", &root);
        c
    };
    let out = command
        .arg(&path)
        .env(
            "IOTHUB_CONNECTION_STRING",
            hub.running.hub.connection_string(),
        )
        .envs(env.iter().copied())
        .output()
        .unwrap_or_else(|e| panic!("running {name}: {e}"));
    let (ok, output) = outcome(&out);
    assert!(ok, "{name}: {output}");
    for line in expected {
        assert!(output.contains(line), "missing {line:?} in {output}");
    }
    output
}

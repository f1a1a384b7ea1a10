//! DPS under load on loopback: N X.509 devices of one enrollment group register with localhub's
//! DPS over MQTT/TLS, each with the app's own sans-IO flow (`hubcert::mqtt::Provisioning`), at most
//! C at a time. Prints registrations per second and the p50/p99 of register-to-assigned (which
//! includes the `retry-after` DPS asks for: 1 s on localhub). `DPS_DEVICES` and `DPS_CONCURRENCY`
//! change N and C (default 1,000 and 200). Not a test: nothing here fails on a slow machine.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hubcert::contract::{build_sas_token, DeviceId, EnrollmentGroup};
use hubcert::mqtt::{Provisioning, ProvisioningEvent};
use hubcert::pki::{
    CertificateAuthority, DeviceCertParams, Identity, KeyAlgorithm, RootCaParams, ValidityDays,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Semaphore;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One registration, from TCP connect to the assigned answer; its duration, or what failed.
async fn register(
    mqtt: std::net::SocketAddr,
    root_pem: Arc<String>,
    scope: Arc<String>,
    id: String,
    identity: Identity,
) -> Result<Duration, String> {
    let started = Instant::now();
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(root_pem.as_bytes()).map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    let key_pem = identity.key.to_pkcs8_pem().map_err(|e| e.to_string())?;
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).map_err(|e| e.to_string())?;
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_root_certificates(roots)
    .with_client_auth_cert(
        vec![CertificateDer::from(identity.certificate.der().to_vec())],
        key,
    )
    .map_err(|e| e.to_string())?;
    let tcp = tokio::net::TcpStream::connect(mqtt)
        .await
        .map_err(|e| e.to_string())?;
    let name = ServerName::try_from("localhost").map_err(|e| e.to_string())?;
    let mut tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .map_err(|e| format!("{id}: TLS: {e}"))?;
    let ms = || started.elapsed().as_millis() as u64;
    let mut flow = Provisioning::connect(&scope, &id, None, 0).map_err(|e| e.to_string())?;
    let mut buf = [0u8; 8192];
    loop {
        for frame in flow.take_outgoing() {
            tls.write_all(&frame).await.map_err(|e| e.to_string())?;
        }
        tls.flush().await.map_err(|e| e.to_string())?;
        match tokio::time::timeout(Duration::from_millis(50), tls.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return Err(format!("{id}: DPS closed the connection")),
            Ok(Ok(n)) => {
                for event in flow.receive(&buf[..n], ms()).map_err(|e| e.to_string())? {
                    match event {
                        ProvisioningEvent::Assigned { .. } => return Ok(started.elapsed()),
                        ProvisioningEvent::Failed { message, .. } => {
                            return Err(format!("{id}: {message}"))
                        }
                        _ => {}
                    }
                }
            }
            Err(_) => {}
        }
        flow.tick(ms()).map_err(|e| e.to_string())?;
        if started.elapsed() > Duration::from_secs(60) {
            return Err(format!("{id}: not assigned within 60 s"));
        }
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (n, c) = (env("DPS_DEVICES", 1000), env("DPS_CONCURRENCY", 200));
    let running = localhub::start(localhub::Config {
        max_connections: n + 64,
        ..localhub::Config::ephemeral()
    })
    .await?;
    let base = format!("http://{}", running.http);
    let now = time::OffsetDateTime::now_utc();
    let ca = CertificateAuthority::create_root(&RootCaParams::default(), now)?;

    // The enrollment group, through the service API with the DPS's own SAS.
    let cs = hubcert::iothub::ConnectionString::parse(&running.hub.dps_connection_string())?;
    let token = build_sas_token(
        &cs.host_name,
        cs.key.as_deref().unwrap_or_default(),
        cs.policy.as_deref(),
        (now.unix_timestamp() + 3600) as u64,
    )?;
    let group = EnrollmentGroup::x509_signing("load", &ca.certificate().pem(), None);
    let r = reqwest::Client::new()
        .put(format!(
            "{base}/enrollmentGroups/load?api-version=2021-10-01"
        ))
        .header("Authorization", token)
        .json(&group)
        .send()
        .await?;
    assert!(r.status().is_success(), "enrollment group: {}", r.status());
    let info: serde_json::Value = reqwest::get(format!("{base}/localhub/info"))
        .await?
        .json()
        .await?;
    let scope = Arc::new(info["idScope"].as_str().unwrap_or_default().to_owned());

    let t = Instant::now();
    let mut identities = Vec::with_capacity(n);
    for i in 0..n {
        let id = format!("dps-load-{i:05}");
        let params = DeviceCertParams {
            device_id: DeviceId::parse(&id)?,
            validity: ValidityDays::new(30)?,
        };
        identities.push((
            id,
            ca.issue_device_identity(&params, KeyAlgorithm::EcdsaP256, now)?,
        ));
    }
    let issue_secs = t.elapsed().as_secs_f64();

    let root_pem = Arc::new(running.root_pem.clone());
    let slots = Arc::new(Semaphore::new(c));
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(n);
    for (id, identity) in identities {
        let (root_pem, scope, slots, mqtt) =
            (root_pem.clone(), scope.clone(), slots.clone(), running.mqtt);
        tasks.push(tokio::spawn(async move {
            let _slot = slots.acquire().await;
            register(mqtt, root_pem, scope, id, identity).await
        }));
    }
    let mut latencies = Vec::with_capacity(n);
    let mut failures = Vec::new();
    for t in tasks {
        match t.await {
            Ok(Ok(d)) => latencies.push(d),
            Ok(Err(e)) => failures.push(e),
            Err(e) => failures.push(e.to_string()),
        }
    }
    let total = start.elapsed().as_secs_f64();
    latencies.sort();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p).ceil() as usize).saturating_sub(1))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    println!("localhub DPS load on loopback ({n} X.509 devices of one enrollment group, MQTT over TLS, {c} at a time)");
    println!("  issued {n} P-256 device identities in {issue_secs:.2} s");
    println!(
        "  assigned {}/{n} in {total:.2} s = {:.0} registrations per second",
        latencies.len(),
        latencies.len() as f64 / total
    );
    println!(
        "  register-to-assigned: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms (DPS's retry-after is 1 s here, 3 s on Azure)",
        pct(0.50),
        pct(0.99),
        pct(1.0)
    );
    for f in failures.iter().take(5) {
        println!("  failure: {f}");
    }
    Ok(())
}

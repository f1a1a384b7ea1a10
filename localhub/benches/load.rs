//! Load on loopback: N devices connect to localhub with X.509 over TLS, each publishes M messages
//! at QoS 1. Prints connections per second, messages per second, and whether every message was
//! recorded. `LOAD_DEVICES` and `LOAD_MESSAGES` change N and M (default 500 and 10).

use std::sync::Arc;
use std::time::{Duration, Instant};

use hubcert::contract::{build_sas_token, DeviceId};
use hubcert::pki::{
    CertificateAuthority, DeviceCertParams, KeyAlgorithm, RootCaParams, ValidityDays,
};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS, TlsConfiguration, Transport};
use serde_json::json;
use tokio::sync::{mpsc, watch, Semaphore};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (n, m) = (env("LOAD_DEVICES", 500), env("LOAD_MESSAGES", 10));
    let running = localhub::start(localhub::Config {
        max_connections: n + 64,
        ..localhub::Config::ephemeral()
    })
    .await?;
    let base = format!("http://{}", running.http);
    let http = reqwest::Client::new();
    let now = time::OffsetDateTime::now_utc();

    let ca = CertificateAuthority::create_root(&RootCaParams::default(), now)?;
    let url = format!("{base}/subscriptions/s/resourceGroups/r/providers/Microsoft.Devices/IotHubs/localhub/certificates/root?api-version=2023-06-30");
    let r = http
        .put(url)
        .header("Authorization", "Bearer load")
        .json(&json!({"properties": {"certificate": ca.certificate().pem(), "isVerified": true}}))
        .send()
        .await?;
    assert!(r.status().is_success(), "upload: {}", r.status());

    let key = running
        .hub
        .connection_string()
        .split("SharedAccessKey=")
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    let token = build_sas_token(
        "localhost",
        &key,
        Some("iothubowner"),
        (now.unix_timestamp() + 3600) as u64,
    )?;
    let t = Instant::now();
    let mut identities = Vec::with_capacity(n);
    for i in 0..n {
        let id = format!("load-{i:05}");
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
    let t = Instant::now();
    for (id, _) in &identities {
        let r = http
            .put(format!("{base}/devices/{id}?api-version=2021-04-12"))
            .header("Authorization", &token)
            .json(&json!({"deviceId": id, "authentication": {"type": "certificateAuthority"}}))
            .send()
            .await?;
        assert!(r.status().is_success(), "register {id}: {}", r.status());
    }
    let register_secs = t.elapsed().as_secs_f64();

    let root_pem = running.root_pem.clone().into_bytes();
    let port = running.mqtt.port();
    let (connected_tx, mut connected_rx) = mpsc::channel::<Result<(), String>>(n);
    let (done_tx, mut done_rx) = mpsc::channel::<Result<(), String>>(n);
    let (go_tx, go_rx) = watch::channel(false);
    // Bounded handshakes in flight, as a fleet reconnecting after an outage would be throttled.
    let handshakes = Arc::new(Semaphore::new(64));
    let start = Instant::now();
    for (id, identity) in identities {
        let (connected_tx, done_tx, mut go_rx, root_pem, handshakes) = (
            connected_tx.clone(),
            done_tx.clone(),
            go_rx.clone(),
            root_pem.clone(),
            handshakes.clone(),
        );
        let cert = identity.certificate.pem().into_bytes();
        let key = identity.key.to_pkcs8_pem()?.as_bytes().to_vec();
        tokio::spawn(async move {
            let mut opts = MqttOptions::new(&id, "localhost", port);
            opts.set_credentials(format!("localhost/{id}/?api-version=2021-04-12"), "");
            opts.set_keep_alive(Duration::from_secs(60));
            opts.set_transport(Transport::Tls(TlsConfiguration::Simple {
                ca: root_pem,
                alpn: None,
                client_auth: Some((cert, key)),
            }));
            let (client, mut events) = AsyncClient::new(opts, m + 4);
            let permit = handshakes.acquire().await;
            let first = events.poll().await;
            drop(permit);
            if !matches!(first, Ok(Event::Incoming(Packet::ConnAck(_)))) {
                let _ = connected_tx.send(Err(format!("{id}: {first:?}"))).await;
                return;
            }
            let _ = connected_tx.send(Ok(())).await;
            let _ = go_rx.wait_for(|go| *go).await;
            for i in 0..m {
                let body = format!("{{\"seq\":{i}}}");
                if client
                    .publish(
                        format!("devices/{id}/messages/events/"),
                        QoS::AtLeastOnce,
                        false,
                        body,
                    )
                    .await
                    .is_err()
                {
                    let _ = done_tx
                        .send(Err(format!("{id}: publish queue closed")))
                        .await;
                    return;
                }
            }
            let mut acked = 0;
            while acked < m {
                match events.poll().await {
                    Ok(Event::Incoming(Packet::PubAck(_))) => acked += 1,
                    Ok(_) => {}
                    Err(e) => {
                        let _ = done_tx.send(Err(format!("{id}: {e:?}"))).await;
                        return;
                    }
                }
            }
            let _ = done_tx.send(Ok(())).await;
            let _ = client.disconnect().await;
            let _ = tokio::time::timeout(Duration::from_secs(2), events.poll()).await;
        });
    }
    drop(connected_tx);
    let mut connected = 0;
    let mut failures = Vec::new();
    // Every task answers exactly once (it keeps its sender until it finishes, so count).
    for _ in 0..n {
        let Some(r) = connected_rx.recv().await else {
            break;
        };
        match r {
            Ok(()) => connected += 1,
            Err(e) => failures.push(e),
        }
    }
    let connect_secs = start.elapsed().as_secs_f64();
    let publish_start = Instant::now();
    let _ = go_tx.send(true);
    drop(done_tx);
    let mut finished = 0;
    for _ in 0..connected {
        let Some(r) = done_rx.recv().await else { break };
        match r {
            Ok(()) => finished += 1,
            Err(e) => failures.push(e),
        }
    }
    let publish_secs = publish_start.elapsed().as_secs_f64();
    let recorded = running.hub.telemetry(None).len();

    println!("localhub load on loopback ({n} devices x {m} messages, X.509 over TLS, QoS 1)");
    println!("  issued {n} P-256 device identities in {issue_secs:.2} s; registered them over REST in {register_secs:.2} s ({:.0} req/s)", n as f64 / register_secs);
    println!(
        "  connected {connected}/{n} in {connect_secs:.2} s = {:.0} connections per second",
        connected as f64 / connect_secs
    );
    println!("  {finished} devices published and got every PUBACK in {publish_secs:.2} s = {:.0} messages per second", (finished * m) as f64 / publish_secs);
    println!(
        "  recorded {recorded} of {} messages: {}",
        n * m,
        if recorded == n * m {
            "all recorded"
        } else {
            "MISSING MESSAGES"
        }
    );
    for f in failures.iter().take(5) {
        println!("  failure: {f}");
    }
    if recorded != n * m || connected != n {
        std::process::exit(1);
    }
    Ok(())
}

//! The fleet query over N twins on loopback: N devices registered through the bulk registry
//! operation (calls of 100), then the fleet page's query (`iothub::TwinQuery::fleet`) read page by
//! page to the last by the core's client over `localhub::HttpTransport`, then the fleet view and
//! its CSV; and a filtered query that matches no device (every twin read, one page answered).
//! Prints the time to the last page. `QUERY_DEVICES` changes N (default 100,000). Not a test:
//! nothing here fails on a slow machine.

use std::time::Instant;

use hubcert::contract::{AuthKind, Authentication, ExportImportDevice, ImportMode, QUERY_PAGE_MAX};
use hubcert::iothub::{fleet_csv, fleet_view, FleetFilter, HubClient, Registry, TwinQuery};
use localhub::HttpTransport;

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::var("QUERY_DEVICES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let running = localhub::start(localhub::Config::ephemeral()).await?;
    let base = format!("http://{}", running.http);
    let registry = Registry::from_connection_string(&base, &running.hub.connection_string())?;
    let client = HubClient::new(HttpTransport::default(), true);
    let now = time::OffsetDateTime::now_utc();
    let now_unix = now.unix_timestamp().unsigned_abs();

    let entries: Vec<ExportImportDevice> = (0..n)
        .map(|i| ExportImportDevice {
            authentication: Some(Authentication {
                kind: AuthKind::CertificateAuthority,
                ..Default::default()
            }),
            ..ExportImportDevice::new(&format!("fleet-{i:06}"), ImportMode::Create)
        })
        .collect();
    let started = Instant::now();
    let out = client.bulk_registry(&registry, &entries, now_unix).await?;
    if let Some(e) = out.stopped {
        return Err(format!("registering stopped: {e:?}").into());
    }
    let registered = started.elapsed();

    let started = Instant::now();
    let twins = client
        .query_twins(
            &registry,
            &TwinQuery::fleet().text(),
            Some(QUERY_PAGE_MAX),
            now_unix,
        )
        .await?;
    let last_page = started.elapsed();
    let started = Instant::now();
    let csv = fleet_csv(&fleet_view(&twins, &[], now));
    let viewed = started.elapsed();

    let started = Instant::now();
    let none = client
        .query_twins(
            &registry,
            &TwinQuery::fleet()
                .filtered(FleetFilter::ExpiringBefore(now))
                .text(),
            Some(QUERY_PAGE_MAX),
            now_unix,
        )
        .await?;
    let filtered = started.elapsed();

    println!("localhub query over {n} twins:");
    println!(
        "  registered {} in bulk calls of 100 in {:.1} s",
        out.applied.len(),
        registered.as_secs_f64()
    );
    println!(
        "  fleet query: {} twins in {} pages of {QUERY_PAGE_MAX}, {:.2} s to the last page ({:.0} twins per second)",
        twins.len(),
        twins.len().div_ceil(QUERY_PAGE_MAX),
        last_page.as_secs_f64(),
        twins.len() as f64 / last_page.as_secs_f64()
    );
    println!(
        "  fleet view and CSV: {} ms ({} KiB)",
        viewed.as_millis(),
        csv.len() / 1024
    );
    println!(
        "  filtered query matching none of them (every twin read): {} found in {:.2} s",
        none.len(),
        filtered.as_secs_f64()
    );
    Ok(())
}

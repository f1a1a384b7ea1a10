//! Registering a fleet through the registry on loopback, with the app's client
//! (`hubcert::iothub::HubClient` over `localhub::HttpTransport`): N devices one by one
//! (`PUT /devices/{id}`) and in bulk (`POST /devices`, 100 a call), first on a localhub that does
//! not throttle, then on one throttled as one S1 unit (`--tier S1 --units 1`) whose clock runs
//! `REGISTRY_TIME_SCALE` times faster (default 400, so the 100 minutes 10,000 devices take at
//! 100 a minute pass in 15 s). Prints devices per second, HTTP calls (throttled ones included),
//! and under the throttle the measured rate next to the published one. `REGISTRY_DEVICES` changes
//! N (default 10,000). Not a test: nothing here fails on a slow machine.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use hubcert::contract::{AuthKind, Authentication, DeviceId, ExportImportDevice, ImportMode};
use hubcert::iothub::{
    estimate_registration, Answer, DeviceAuth, DeviceOp, HubClient, HubTier, Pace,
    RegistrationMethod, Registry, Request, RetryPolicy, Transport,
};
use localhub::{Config, HttpTransport, Throttling};

fn env<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// localhub's transport, counting the requests sent.
#[derive(Default)]
struct Counted {
    http: HttpTransport,
    sent: AtomicUsize,
    throttled: AtomicUsize,
}

impl Transport for &Counted {
    async fn send(&self, request: &Request) -> Result<Answer, String> {
        self.sent.fetch_add(1, Ordering::Relaxed);
        let answer = self.http.send(request).await?;
        if answer.status == 429 {
            self.throttled.fetch_add(1, Ordering::Relaxed);
        }
        Ok(answer)
    }

    async fn send_keeping(
        &self,
        request: &Request,
        keep: &'static [&'static str],
    ) -> Result<(Answer, Vec<(String, String)>), String> {
        self.sent.fetch_add(1, Ordering::Relaxed);
        let (answer, headers) = self.http.send_keeping(request, keep).await?;
        if answer.status == 429 {
            self.throttled.fetch_add(1, Ordering::Relaxed);
        }
        Ok((answer, headers))
    }

    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}

/// How a run sends its devices.
#[derive(Clone, Copy)]
enum How {
    /// One call each, or in bulk calls backing off when throttled.
    Plain(RegistrationMethod),
    /// The page's fleet run, kept to this pace (its minute on the scaled clock).
    Paced(Pace),
}

struct Run {
    seconds: f64,
    calls: usize,
    throttled: usize,
}

fn unix_now() -> u64 {
    time::OffsetDateTime::now_utc().unix_timestamp() as u64
}

/// Registers `n` devices named `{prefix}-{i}` the `method` way; how long it took and in how many
/// calls.
async fn register(
    registry: &Registry,
    policy: RetryPolicy,
    prefix: &str,
    n: usize,
    how: How,
) -> Result<Run, String> {
    let transport = Counted::default();
    let client = HubClient::new(&transport, true).with_retry(policy, 7);
    let started = Instant::now();
    let entries = || -> Vec<ExportImportDevice> {
        (0..n)
            .map(|i| ExportImportDevice {
                authentication: Some(Authentication {
                    kind: AuthKind::CertificateAuthority,
                    ..Default::default()
                }),
                ..ExportImportDevice::new(&format!("{prefix}-{i}"), ImportMode::Create)
            })
            .collect()
    };
    match how {
        How::Paced(pace) => {
            let now_ms =
                || (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as u64;
            let report = client
                .fleet_run(
                    registry,
                    DeviceOp::Register,
                    &entries(),
                    &now_ms,
                    Some(pace),
                    |_| std::ops::ControlFlow::Continue(()),
                )
                .await;
            if let Some(e) = report.error {
                return Err(format!("stopped: {e:?}"));
            }
            if report.sent != n {
                return Err(format!("{} of {n} sent", report.sent));
            }
        }
        How::Plain(RegistrationMethod::OneByOne) => {
            for i in 0..n {
                let id = DeviceId::parse(&format!("{prefix}-{i}")).map_err(|e| e.to_string())?;
                client
                    .register_device(registry, &id, &DeviceAuth::CertificateAuthority, unix_now())
                    .await
                    .map_err(|e| format!("{id}: {e:?}"))?;
            }
        }
        How::Plain(RegistrationMethod::Bulk) => {
            let entries = entries();
            let out = client
                .bulk_registry(registry, &entries, unix_now())
                .await
                .map_err(|e| format!("{e:?}"))?;
            if let Some(e) = out.stopped {
                return Err(format!("stopped: {e:?}"));
            }
            if out.applied.len() != n {
                return Err(format!("{} of {n} applied", out.applied.len()));
            }
        }
    }
    Ok(Run {
        seconds: started.elapsed().as_secs_f64(),
        calls: transport.sent.load(Ordering::Relaxed),
        throttled: transport.throttled.load(Ordering::Relaxed),
    })
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = env("REGISTRY_DEVICES", 10_000);
    let scale: f64 = env("REGISTRY_TIME_SCALE", 400.0);
    let methods = [
        ("one by one", "one", RegistrationMethod::OneByOne),
        ("bulk of 100", "bulk", RegistrationMethod::Bulk),
    ];
    let (tier, units) = (HubTier::S1, 1);
    let limit = tier.registry_operations_per_minute(units);
    // The tier's pace on the scaled clock.
    let pace = Pace::new((limit as f64 * scale) as u64);
    println!("localhub registry on loopback ({n} devices, HubClient over HttpTransport)");

    let open = localhub::start(Config::ephemeral()).await?;
    let registry = Registry::from_connection_string(
        &format!("http://{}", open.http),
        &open.hub.connection_string(),
    )?;
    for (name, prefix, method) in methods {
        let r = register(
            &registry,
            RetryPolicy::default(),
            prefix,
            n,
            How::Plain(method),
        )
        .await?;
        println!(
            "  unthrottled, {name}: {:.0} devices/s, {} calls, {:.2} s",
            n as f64 / r.seconds,
            r.calls,
            r.seconds
        );
    }
    open.stop();

    let throttled = localhub::start(Config {
        throttling: Some(Throttling {
            time_scale: scale,
            ..Throttling::new(tier, units)
        }),
        ..Config::ephemeral()
    })
    .await?;
    let registry = Registry::from_connection_string(
        &format!("http://{}", throttled.http),
        &throttled.hub.connection_string(),
    )?;
    // The default policy's waits, on the scaled clock.
    let base = RetryPolicy::default();
    let policy = RetryPolicy {
        max_attempts: 10_000,
        base: base.base.div_f64(scale),
        cap: base.cap.div_f64(scale),
    };
    let runs = [
        (
            "one by one",
            "one",
            How::Plain(RegistrationMethod::OneByOne),
            RegistrationMethod::OneByOne,
        ),
        (
            "bulk of 100",
            "bulk",
            How::Plain(RegistrationMethod::Bulk),
            RegistrationMethod::Bulk,
        ),
        (
            "bulk of 100 kept to the tier's rate (the page's fleet run)",
            "paced",
            How::Paced(pace),
            RegistrationMethod::Bulk,
        ),
    ];
    for (name, prefix, how, method) in runs {
        // A full bucket (a minute's allowance) at the start of each run.
        tokio::time::sleep(Duration::from_secs_f64(60.0 / scale)).await;
        let r = register(&registry, policy, prefix, n, how).await?;
        let scaled_minutes = r.seconds * scale / 60.0;
        // After the first minute's allowance, which a full bucket lets through at once.
        let rate = (n as f64 - limit as f64) / scaled_minutes;
        println!(
            "  {tier} x{units}, clock x{scale}, {name}: {:.1} devices/min measured (published limit {limit}/min), {} calls of which {} throttled (429), {:.1} scaled minutes in {:.2} s",
            rate, r.calls, r.throttled, scaled_minutes, r.seconds
        );
        println!(
            "    estimate: {}",
            estimate_registration(n as u64, tier, units, method).text
        );
    }
    throttled.stop();
    Ok(())
}

//! The register step's fleet run (`HubClient::fleet_run`) against localhub: the presence query
//! it sends before each bulk call is answered by localhub's query language, so a run stopped
//! midway and started again (a new client, as after a reload) sends only what the hub lacks; a
//! device already there under another authentication is told so without a call; and a run kept to
//! one S1 unit's published registry rate goes through localhub's throttle without one 429.

mod common;

use std::ops::ControlFlow;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::*;
use hubcert::contract::{DeviceId, ExportImportDevice, ImportMode};
use hubcert::iothub::{
    Answer, DeviceAuth, DeviceOp, HubClient, HubTier, Pace, Request, RunEvent, Transport,
};
use localhub::HttpTransport;

fn now_ms() -> u64 {
    (now().unix_timestamp_nanos() / 1_000_000) as u64
}

/// localhub over HTTP, counting the devices named in bulk calls and the 429s.
#[derive(Default)]
struct Counted {
    http: HttpTransport,
    bulk_devices: AtomicUsize,
    throttled: AtomicUsize,
}

impl Counted {
    fn count(&self, request: &Request, answer: &Answer) {
        if answer.status == 429 {
            self.throttled.fetch_add(1, Ordering::Relaxed);
        }
        if !request.url.contains("/devices/query") {
            if let Some(body) = request.body.as_deref() {
                let n = ExportImportDevice::list_from_json(body.as_bytes()).map_or(0, |l| l.len());
                self.bulk_devices.fetch_add(n, Ordering::Relaxed);
            }
        }
    }
}

impl Transport for &Counted {
    async fn send(&self, request: &Request) -> Result<Answer, String> {
        let answer = self.http.send(request).await?;
        self.count(request, &answer);
        Ok(answer)
    }

    async fn send_keeping(
        &self,
        request: &Request,
        keep: &'static [&'static str],
    ) -> Result<(Answer, Vec<(String, String)>), String> {
        let (answer, headers) = self.http.send_keeping(request, keep).await?;
        self.count(request, &answer);
        Ok((answer, headers))
    }

    async fn sleep(&self, duration: Duration) {
        tokio::time::sleep(duration).await;
    }
}

#[tokio::test]
async fn a_run_stopped_midway_and_started_again_registers_only_what_the_hub_lacks() {
    let hub = start().await;
    let registry = hub.core_registry();
    // One device there before the run, the same way; one there with symmetric keys.
    let core = core_client();
    core.register_device(
        &registry,
        &DeviceId::parse("fleet-0").unwrap(),
        &DeviceAuth::CertificateAuthority,
        unix_now(),
    )
    .await
    .expect("fleet-0");
    let sas = hub
        .http
        .put(format!(
            "{}/devices/fleet-1?api-version=2021-04-12",
            hub.base
        ))
        .header("Authorization", hub.service_token(unix_now() + 600))
        .header("Content-Type", "application/json")
        .body(r#"{"deviceId":"fleet-1","authentication":{"type":"sas"}}"#)
        .send()
        .await
        .expect("request");
    assert_eq!(sas.status(), 200);

    let entries = ca_entries("fleet", 0..250);
    let first = Counted::default();
    let mut calls = 0;
    let report = HubClient::new(&first, true)
        .fleet_run(
            &registry,
            DeviceOp::Register,
            &entries,
            &now_ms,
            None,
            |e| {
                if matches!(e, RunEvent::Rows(_)) {
                    calls += 1;
                    if calls == 1 {
                        return ControlFlow::Break(());
                    }
                }
                ControlFlow::Continue(())
            },
        )
        .await;
    assert!(
        report.stopped && report.error.is_none(),
        "{:?}",
        report.error
    );
    assert_eq!(first.bulk_devices.load(Ordering::Relaxed), 98);
    assert_eq!(report.not_sent, 150);
    assert!(report.rows[0]
        .1
        .as_ref()
        .is_ok_and(|m| m.contains("already on the hub")));
    assert!(
        report.rows[1].1.as_ref().is_err_and(|m| m.contains("sas")),
        "{:?}",
        report.rows[1]
    );

    // Started again, as after a reload: a new client, the same list.
    let again = Counted::default();
    let report = HubClient::new(&again, true)
        .fleet_run(
            &registry,
            DeviceOp::Register,
            &entries,
            &now_ms,
            None,
            |_| ControlFlow::Continue(()),
        )
        .await;
    assert_eq!(
        again.bulk_devices.load(Ordering::Relaxed),
        150,
        "only the devices the first run did not reach"
    );
    assert_eq!(report.not_sent, 0);
    assert_eq!(report.rows.iter().filter(|(_, r)| r.is_ok()).count(), 249);
    for i in [2, 99, 100, 249] {
        let id = DeviceId::parse(&format!("fleet-{i}")).unwrap();
        core.device(&registry, &id, unix_now())
            .await
            .expect("registered");
    }

    // Deleting the list, twice: the second run finds nothing to delete and sends nothing.
    let deletes: Vec<_> = entries
        .iter()
        .map(|e| ExportImportDevice::new(&e.id, ImportMode::Delete))
        .collect();
    let report = core_client()
        .fleet_run(&registry, DeviceOp::Delete, &deletes, &now_ms, None, |_| {
            ControlFlow::Continue(())
        })
        .await;
    assert_eq!(report.sent, 250);
    let twice = core_client()
        .fleet_run(&registry, DeviceOp::Delete, &deletes, &now_ms, None, |_| {
            ControlFlow::Continue(())
        })
        .await;
    assert_eq!(twice.sent, 0);
    assert!(twice
        .rows
        .iter()
        .all(|(_, r)| r.as_ref().is_ok_and(|m| m.contains("nothing to delete"))));
}

#[tokio::test]
async fn a_run_kept_to_the_tiers_rate_is_never_throttled() {
    // One S1 unit (100 registry operations a minute), its clock 60 times the wall clock: a minute
    // passes in a second, so 400 devices take about 3 s after the first call (the pace's 2% under
    // the rate is 20 ms a call, far more than loopback's jitter).
    let scale = 60.0;
    let hub = start_with(s1_config(scale)).await;
    let registry = hub.core_registry();
    let counted = Counted::default();
    let pace = Pace::new((Pace::for_tier(HubTier::S1, 1).per_minute() as f64 * scale) as u64);
    let report = HubClient::new(&counted, true)
        .fleet_run(
            &registry,
            DeviceOp::Register,
            &ca_entries("paced", 0..400),
            &now_ms,
            Some(pace),
            |_| ControlFlow::Continue(()),
        )
        .await;
    assert!(report.error.is_none(), "{:?}", report.error);
    assert_eq!(report.sent, 400);
    assert_eq!(
        counted.throttled.load(Ordering::Relaxed),
        0,
        "no call throttled"
    );

    // The same without the pace is throttled: the hub's bucket holds one minute's allowance.
    let unpaced = Counted::default();
    let report = HubClient::new(&unpaced, true)
        .with_retry(
            hubcert::iothub::RetryPolicy {
                max_attempts: 1_000,
                base: Duration::from_millis(5),
                cap: Duration::from_millis(50),
            },
            7,
        )
        .fleet_run(
            &registry,
            DeviceOp::Register,
            &ca_entries("rushed", 0..200),
            &now_ms,
            None,
            |_| ControlFlow::Continue(()),
        )
        .await;
    assert_eq!(report.sent, 200);
    assert!(
        unpaced.throttled.load(Ordering::Relaxed) > 0,
        "without the pace the hub throttles"
    );
}

use super::*;
use crate::contract::{
    Authentication, DeviceQuery, ImportMode, QuerySpecification, X509Thumbprint,
    CONTINUATION_HEADER,
};
use crate::iothub::{Answer, Request};
use serde_json::{json, Value};
use std::cell::{Cell, RefCell};
use std::pin::pin;
use std::task::{Context, Poll, Waker};

/// A hub in memory that answers the presence query (through the contract's query language) and
/// the bulk call, on a clock that its calls and waits move.
#[derive(Default)]
struct Hub {
    devices: RefCell<BTreeMap<String, Value>>,
    clock_ms: Cell<u64>,
    /// What was sent: the query texts and the bulk calls' ids.
    queries: RefCell<Vec<String>>,
    bulk_calls: RefCell<Vec<(u64, Vec<String>)>>,
    /// Answers the next query with this status.
    refuse_query: Cell<Option<u16>>,
    waits: RefCell<Vec<Duration>>,
}

impl Hub {
    fn with(ids: &[(&str, Value)]) -> Self {
        let hub = Self::default();
        hub.clock_ms.set(1_700_000_000_000);
        for (id, auth) in ids {
            hub.devices.borrow_mut().insert(
                (*id).to_owned(),
                json!({"deviceId": id, "authenticationType": auth["type"], "x509Thumbprint": auth["x509Thumbprint"]}),
            );
        }
        hub
    }

    fn now(&self) -> u64 {
        self.clock_ms.get()
    }
}

impl Transport for &Hub {
    async fn send(&self, request: &Request) -> Result<Answer, String> {
        self.send_keeping(request, &[]).await.map(|(a, _)| a)
    }

    async fn send_keeping(
        &self,
        request: &Request,
        _keep: &'static [&'static str],
    ) -> Result<(Answer, Vec<(String, String)>), String> {
        self.clock_ms.set(self.clock_ms.get() + 40);
        let body = request.body.as_deref().unwrap_or_default().as_bytes();
        if request.url.contains("/devices/query") {
            let text = QuerySpecification::from_json(body).expect("spec").query;
            self.queries.borrow_mut().push(text.clone());
            if let Some(status) = self.refuse_query.take() {
                return Ok((
                    Answer::new(
                        status,
                        r#"{"Message":"ErrorCode:IotHubUnauthorizedAccess;no","ExceptionMessage":""}"#,
                    ),
                    Vec::new(),
                ));
            }
            let query = DeviceQuery::parse(&text).expect("the hub reads the page's query");
            let found: Vec<Value> = self
                .devices
                .borrow()
                .values()
                .filter(|t| query.matches(t))
                .map(|t| query.project(t.clone()))
                .collect();
            return Ok((
                Answer::new(200, Value::Array(found).to_string()),
                vec![(CONTINUATION_HEADER.to_owned(), String::new())],
            ));
        }
        let entries = ExportImportDevice::list_from_json(body).expect("entries");
        self.bulk_calls
            .borrow_mut()
            .push((self.now(), entries.iter().map(|e| e.id.clone()).collect()));
        let mut errors = Vec::new();
        let mut devices = self.devices.borrow_mut();
        for e in entries {
            match e.import_mode {
                ImportMode::Create if devices.contains_key(&e.id) => errors.push(json!({"deviceId": e.id, "errorCode": "DeviceAlreadyExists", "errorStatus": "taken"})),
                ImportMode::Create => {
                    let auth = e.authentication.clone().unwrap_or_default();
                    devices.insert(e.id.clone(), json!({"deviceId": e.id, "authenticationType": auth.kind.as_str()}));
                }
                _ => {
                    devices.remove(&e.id);
                }
            }
        }
        let ok = errors.is_empty();
        Ok((
            Answer::new(
                if ok { 200 } else { 400 },
                json!({"isSuccessful": ok, "errors": errors, "warnings": []}).to_string(),
            ),
            Vec::new(),
        ))
    }

    async fn sleep(&self, duration: Duration) {
        self.waits.borrow_mut().push(duration);
        self.clock_ms
            .set(self.clock_ms.get() + duration.as_millis() as u64);
    }
}

/// The fake hub answers at once, so one poll finishes the run.
fn run<F: std::future::Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("the fake hub never leaves a call pending"),
    }
}

fn registry() -> Registry {
    Registry::from_connection_string(
        "http://127.0.0.1:8081",
        "HostName=myhub.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=c2VjcmV0a2V5MTIzNDU2Nzg5MA==",
    )
    .expect("registry")
}

fn ca() -> Value {
    json!({"type": "certificateAuthority"})
}

fn creates(n: usize) -> Vec<ExportImportDevice> {
    (0..n)
        .map(|i| ExportImportDevice {
            authentication: Some(Authentication {
                kind: AuthKind::CertificateAuthority,
                ..Default::default()
            }),
            ..ExportImportDevice::new(&format!("d{i}"), ImportMode::Create)
        })
        .collect()
}

fn pinned(id: &str, thumbprint: &str) -> ExportImportDevice {
    ExportImportDevice {
        authentication: Some(Authentication {
            kind: AuthKind::SelfSigned,
            symmetric_key: None,
            x509_thumbprint: Some(X509Thumbprint {
                primary_thumbprint: Some(thumbprint.to_owned()),
                secondary_thumbprint: Some(thumbprint.to_owned()),
            }),
        }),
        ..ExportImportDevice::new(id, ImportMode::Create)
    }
}

#[test]
fn the_pace_pays_for_every_operation_before_a_call() {
    let s1 = Pace::for_tier(HubTier::S1, 1);
    assert_eq!(s1.per_minute(), 100);
    assert_eq!(s1.wait(0, Duration::ZERO), Duration::ZERO);
    // 2% under the published rate: 100 operations are paid for after 61.2 s.
    assert_eq!(
        s1.wait(100, Duration::from_secs(20)),
        Duration::from_millis(41_224)
    );
    assert_eq!(s1.wait(100, Duration::from_secs(75)), Duration::ZERO);
    assert_eq!(
        Pace::for_tier(HubTier::S3, 2).wait(100, Duration::ZERO),
        Duration::from_millis(612)
    );
    assert_eq!(Pace::new(0).per_minute(), 1);
}

#[test]
fn presence_queries_name_every_id_once_and_each_fits_the_length_limit() {
    let ids: Vec<String> = (0..100).map(|i| format!("{i:0>120}")).collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let queries = presence_queries(&refs);
    assert!(
        queries.len() > 1,
        "100 ids of 120 characters need more than one query"
    );
    let mut named = Vec::new();
    for q in &queries {
        assert!(q.chars().count() <= QUERY_MAX_LENGTH, "{}", q.len());
        let parsed = DeviceQuery::parse(q).expect("the query language reads it");
        for id in &ids {
            if parsed.matches(&json!({"deviceId": id})) {
                named.push(id.clone());
            }
        }
    }
    assert_eq!(named, ids);
    let quoted = presence_queries(&["it's"]);
    assert_eq!(
        quoted,
        ["SELECT deviceId, authenticationType, x509Thumbprint FROM devices WHERE deviceId IN ['it\\'s']"]
    );
    assert!(presence_queries(&[]).is_empty());
}

#[test]
fn what_the_hub_already_holds_settles_a_row_without_a_call() {
    let entry = &creates(1)[0];
    let on = |kind: AuthKind, thumb: Option<&str>| OnHub {
        kind: Some(kind),
        thumbprint: thumb.map(str::to_owned),
    };
    assert_eq!(settled_before(DeviceOp::Register, entry, None), None);
    let same = settled_before(
        DeviceOp::Register,
        entry,
        Some(&on(AuthKind::CertificateAuthority, None)),
    );
    assert!(
        matches!(same, Some(Ok(ref m)) if m.contains("already on the hub")),
        "{same:?}"
    );
    let other = settled_before(DeviceOp::Register, entry, Some(&on(AuthKind::Sas, None)));
    assert!(
        matches!(other, Some(Err(ref m)) if m.contains("sas") && m.contains("delete it first")),
        "{other:?}"
    );
    let a = "a".repeat(64);
    let b = "b".repeat(64);
    let mine = pinned("p", &a.to_uppercase());
    assert!(matches!(
        settled_before(
            DeviceOp::Register,
            &mine,
            Some(&on(AuthKind::SelfSigned, Some(&a)))
        ),
        Some(Ok(_))
    ));
    let moved = settled_before(
        DeviceOp::Register,
        &mine,
        Some(&on(AuthKind::SelfSigned, Some(&b))),
    );
    assert!(
        matches!(moved, Some(Err(ref m)) if m.contains("another certificate")),
        "{moved:?}"
    );
    let gone = ExportImportDevice::new("x", ImportMode::Delete);
    assert!(
        matches!(settled_before(DeviceOp::Delete, &gone, None), Some(Ok(ref m)) if m.contains("not on the hub"))
    );
    assert_eq!(
        settled_before(DeviceOp::Delete, &gone, Some(&on(AuthKind::Sas, None))),
        None
    );
}

#[test]
fn a_run_sends_only_what_the_hub_lacks_so_running_the_list_again_goes_on() {
    // d0 and d150 are already there as asked; d1 is there with SAS.
    let hub = Hub::with(&[("d0", ca()), ("d1", json!({"type": "sas"})), ("d150", ca())]);
    let client = HubClient::new(&hub, true);
    let entries = creates(250);
    let mut heard = Vec::new();
    let report = run(client.fleet_run(
        &registry(),
        DeviceOp::Register,
        &entries,
        &|| hub.now(),
        None,
        |e| {
            if let RunEvent::Rows(rows) = e {
                heard.push(rows.len());
            }
            ControlFlow::Continue(())
        },
    ));
    assert_eq!(heard, [100, 100, 50]);
    assert_eq!(report.rows.len(), 250);
    assert_eq!(report.sent, 247);
    let calls = hub.bulk_calls.borrow().clone();
    assert_eq!(calls.len(), 3);
    assert!(!calls[0].1.contains(&"d0".to_owned()) && !calls[0].1.contains(&"d1".to_owned()));
    assert!(!calls[1].1.contains(&"d150".to_owned()));
    assert_eq!(hub.queries.borrow().len(), 3, "one presence query per call");
    assert!(matches!(&report.rows[0], (id, Ok(m)) if id == "d0" && m.contains("already")));
    assert!(matches!(&report.rows[1], (id, Err(m)) if id == "d1" && m.contains("sas")));
    assert!(matches!(&report.rows[2], (id, Ok(m)) if id == "d2" && m.contains("registered")));
    let (ok, text) = run_summary(DeviceOp::Register, &report);
    assert!(!ok);
    assert_eq!(text, "249 of 250 done; 1 failed, see below.");

    // The same list again: every device is on the hub, so nothing is sent.
    hub.bulk_calls.borrow_mut().clear();
    let again = run(client.fleet_run(
        &registry(),
        DeviceOp::Register,
        &entries,
        &|| hub.now(),
        None,
        |_| ControlFlow::Continue(()),
    ));
    assert!(hub.bulk_calls.borrow().is_empty());
    assert_eq!(again.sent, 0);
    assert_eq!(again.rows.iter().filter(|(_, r)| r.is_ok()).count(), 249);
}

#[test]
fn a_stopped_run_leaves_the_rest_unsent_and_the_next_run_picks_it_up() {
    let hub = Hub::with(&[]);
    let client = HubClient::new(&hub, true);
    let entries = creates(350);
    let mut calls = 0;
    let report = run(client.fleet_run(
        &registry(),
        DeviceOp::Register,
        &entries,
        &|| hub.now(),
        None,
        |e| {
            if matches!(e, RunEvent::Rows(_)) {
                calls += 1;
                if calls == 2 {
                    return ControlFlow::Break(());
                }
            }
            ControlFlow::Continue(())
        },
    ));
    assert!(report.stopped && report.error.is_none());
    assert_eq!((report.sent, report.not_sent), (200, 150));
    assert_eq!(report.rows.len(), 350);
    assert_eq!(
        report.rows[200],
        ("d200".to_owned(), Err(NOT_SENT.to_owned()))
    );
    let (ok, text) = run_summary(DeviceOp::Register, &report);
    assert!(!ok);
    assert!(
        text.starts_with("200 of 350 done; 150 stopped. Register the same list again"),
        "{text}"
    );

    let next = run(client.fleet_run(
        &registry(),
        DeviceOp::Register,
        &entries,
        &|| hub.now(),
        None,
        |_| ControlFlow::Continue(()),
    ));
    assert_eq!(next.sent, 150, "only what the first run did not reach");
    assert_eq!(hub.devices.borrow().len(), 350);
    assert_eq!(
        run_summary(DeviceOp::Register, &next),
        (true, "350 of 350 done.".to_owned())
    );
}

#[test]
fn a_paced_run_keeps_to_the_tiers_rate_and_can_be_stopped_while_it_waits() {
    let hub = Hub::with(&[]);
    let client = HubClient::new(&hub, true);
    let start = hub.now();
    let report = run(client.fleet_run(
        &registry(),
        DeviceOp::Register,
        &creates(300),
        &|| hub.now(),
        Some(Pace::for_tier(HubTier::S1, 1)),
        |_| ControlFlow::Continue(()),
    ));
    assert_eq!(report.sent, 300);
    let calls = hub.bulk_calls.borrow().clone();
    let at: Vec<u64> = calls.iter().map(|(t, _)| (t - start) / 1000).collect();
    // 100 devices a minute, 2% under: each call 61.2 s after the last one's answer, then its
    // presence query and itself (40 ms each on the fake hub).
    assert_eq!(at, [0, 61, 122]);
    assert!(
        hub.waits
            .borrow()
            .iter()
            .all(|w| *w <= Duration::from_secs(1)),
        "waits heard each second"
    );

    let hub = Hub::with(&[]);
    let client = HubClient::new(&hub, true);
    let mut waiting = 0;
    let report = run(client.fleet_run(
        &registry(),
        DeviceOp::Register,
        &creates(300),
        &|| hub.now(),
        Some(Pace::for_tier(HubTier::S1, 1)),
        |e| {
            if let RunEvent::Waiting { left, done } = e {
                assert_eq!(done, 100);
                assert!(left <= Duration::from_millis(61_225));
                waiting += 1;
                if waiting == 3 {
                    return ControlFlow::Break(());
                }
            }
            ControlFlow::Continue(())
        },
    ));
    assert!(report.stopped);
    assert_eq!((report.sent, report.not_sent), (100, 200));
    assert_eq!(hub.bulk_calls.borrow().len(), 1);
}

#[test]
fn a_refused_presence_query_stops_the_run_before_its_call() {
    let hub = Hub::with(&[]);
    hub.refuse_query.set(Some(401));
    let client = HubClient::new(&hub, true);
    let report = run(client.fleet_run(
        &registry(),
        DeviceOp::Register,
        &creates(150),
        &|| hub.now(),
        None,
        |_| ControlFlow::Continue(()),
    ));
    assert!(hub.bulk_calls.borrow().is_empty());
    assert_eq!(report.error.as_ref().and_then(RestError::status), Some(401));
    assert_eq!(report.not_sent, 150);
    let (ok, text) = run_summary(DeviceOp::Register, &report);
    assert!(
        !ok && text.contains("stopped by the hub's answer"),
        "{text}"
    );
}

#[test]
fn a_deletion_run_skips_what_is_already_gone() {
    let hub = Hub::with(&[("d0", ca()), ("d2", ca())]);
    let client = HubClient::new(&hub, true);
    let entries: Vec<_> = (0..3)
        .map(|i| ExportImportDevice::new(&format!("d{i}"), ImportMode::Delete))
        .collect();
    let report = run(client.fleet_run(
        &registry(),
        DeviceOp::Delete,
        &entries,
        &|| hub.now(),
        None,
        |_| ControlFlow::Continue(()),
    ));
    assert_eq!(hub.bulk_calls.borrow()[0].1, ["d0", "d2"]);
    assert!(matches!(&report.rows[1], (_, Ok(m)) if m.contains("nothing to delete")));
    assert!(hub.devices.borrow().is_empty());
    assert_eq!(
        run_summary(DeviceOp::Delete, &report),
        (true, "3 of 3 done.".to_owned())
    );
}

#[test]
fn the_progress_line_says_where_the_run_is_and_why_it_waits() {
    let pace = Some(Pace::for_tier(HubTier::S1, 1));
    let waiting = RunEvent::Waiting {
        left: Duration::from_millis(40_200),
        done: 100,
    };
    assert_eq!(
        run_progress(DeviceOp::Register, &waiting, 10_000, pace).as_deref(),
        Some("Registering in bulk: 100 of 10,000 done; next call in 41 s, keeping to 100 registry operations a minute…")
    );
    assert_eq!(
        run_progress(
            DeviceOp::Delete,
            &RunEvent::Sending {
                done: 0,
                sending: 98
            },
            250,
            None
        )
        .as_deref(),
        Some("Deleting in bulk: 0 of 250 done; sending 98…")
    );
    assert!(
        run_progress(DeviceOp::Register, &RunEvent::Reading { done: 0 }, 2, None)
            .is_some_and(|t| t.contains("already holds"))
    );
    assert_eq!(
        run_progress(DeviceOp::Register, &RunEvent::Rows(&[]), 2, None),
        None
    );
}

//! The twin query (`POST /devices/query`) on localhub: through the core's client
//! (`HubClient::query_twins` over `localhub::HttpTransport`, and `iothub::fleet_view` on its
//! answer), as raw requests (headers, pages, refusals), and by Microsoft's service SDKs run
//! unmodified: Python `azure-iot-hub` (`IoTHubRegistryManager.query_iot_hub`:
//! tests/node/query_twins.py) and Node.js `azure-iothub` (`Registry.createQuery(...).nextAsTwin`
//! and `next`: tests/node/query-twins.js), each with pages smaller than the fleet. Devices report
//! their certificate over MQTT as the snippets do (`properties.reported.certificate`). The SDKs
//! dial `https://{HostName}` (port 443) and run unmodified: each SDK test's localhub listens on
//! 443 of a loopback address of its own (`SERVICE_SDK_HOSTS`), which its connection string names.

mod common;

use common::*;
use hubcert::contract::{
    format_iso8601, AuthKind, Authentication, ExportImportDevice, ImportMode, ReportedCertificate,
};
use hubcert::iothub::{fleet_view, FleetExpiry, FleetFilter, MadeHere, RestError, TwinQuery};
use localhub::Config;
use serde_json::{json, Value};
use time::Duration;

/// Devices in the fleet; every test pages it in pages of [`PAGE`].
const FLEET: usize = 25;
const PAGE: usize = 10;

/// The certificate `identity` holds, as a device reports it.
fn reported(identity: &hubcert::pki::Identity) -> ReportedCertificate {
    let info = identity.certificate.info().expect("info");
    ReportedCertificate {
        thumbprint: info.sha256.as_str().to_owned(),
        issuer: info.issuer.clone(),
        valid_from: format_iso8601(info.not_before),
        valid_until: format_iso8601(info.not_after),
    }
}

/// A fleet of [`FLEET`] CA-signed devices (`fleet-00` ...) made in bulk; three connect and report
/// a certificate: `fleet-03` its own, `fleet-07` one ending in 5 days, `fleet-11` one that ended
/// yesterday. Returns `fleet-03`'s report.
async fn fleet(hub: &Hub) -> ReportedCertificate {
    let ca = root("Query Root CA");
    hub.upload_and_verify("query-root", &ca).await;
    let entries: Vec<ExportImportDevice> = (0..FLEET)
        .map(|i| ExportImportDevice {
            authentication: Some(Authentication {
                kind: AuthKind::CertificateAuthority,
                ..Default::default()
            }),
            ..ExportImportDevice::new(&format!("fleet-{i:02}"), ImportMode::Create)
        })
        .collect();
    let out = core_client()
        .bulk_registry(&hub.core_registry(), &entries, unix_now())
        .await
        .expect("bulk");
    assert_eq!(out.applied.len(), FLEET, "{out:?}");
    let mut own = None;
    for (id, until) in [
        ("fleet-03", None),
        ("fleet-07", Some(now() + Duration::days(5))),
        ("fleet-11", Some(now() - Duration::days(1))),
    ] {
        let identity = device(&ca, id);
        let mut report = reported(&identity);
        if let Some(u) = until {
            report.valid_until = format_iso8601(u);
        } else {
            own = Some(report.clone());
        }
        let patch: Value = serde_json::from_str(&report.to_patch()).expect("patch");
        let twin = twin_of(hub, id, &identity, Some(patch)).await;
        assert_eq!(
            twin["reported"]["certificate"]["validUntil"],
            report.valid_until.as_str()
        );
    }
    own.expect("fleet-03")
}

#[tokio::test]
async fn the_core_client_pages_the_fleet_and_classes_each_device_by_its_reported_certificate() {
    let hub = start().await;
    let own = fleet(&hub).await;
    let twins = core_client()
        .query_twins(
            &hub.core_registry(),
            &TwinQuery::fleet().text(),
            Some(PAGE),
            unix_now(),
        )
        .await
        .expect("query");
    let ids: Vec<&str> = twins.iter().map(|t| t.device_id.as_str()).collect();
    let expected: Vec<String> = (0..FLEET).map(|i| format!("fleet-{i:02}")).collect();
    assert_eq!(ids, expected);
    let t3 = &twins[3];
    assert_eq!(
        t3.reported_certificate().expect("reported").expect("read"),
        own
    );
    assert_eq!(t3.authentication_type, Some(AuthKind::CertificateAuthority));
    assert!(
        !t3.last_activity_time
            .as_deref()
            .unwrap_or("0001")
            .starts_with("0001"),
        "it connected: {t3:?}"
    );
    // A projection answers what it selected, and nothing else.
    assert!(t3.etag.is_none() && t3.tags.is_none());

    let mine = MadeHere {
        device_id: "made-here-only".into(),
        not_after: now() + Duration::days(300),
        thumbprint: "AB".into(),
    };
    let rows = fleet_view(&twins, &[mine], now());
    let class = |id: &str| rows.iter().find(|r| r.device_id == id).expect(id).expiry;
    assert_eq!(class("fleet-11"), FleetExpiry::Expired);
    assert_eq!(class("fleet-07"), FleetExpiry::Within7);
    // Its own certificate: the test identities live 30 days.
    assert_eq!(class("fleet-03"), FleetExpiry::Within30);
    assert_eq!(class("fleet-00"), FleetExpiry::Unknown);
    assert_eq!(class("made-here-only"), FleetExpiry::Unknown);
    assert_eq!(rows.len(), FLEET + 1);

    // The page's filters, run by localhub.
    let soon = TwinQuery::fleet().filtered(FleetFilter::ExpiringBefore(now() + Duration::days(20)));
    let found = core_client()
        .query_twins(&hub.core_registry(), &soon.text(), Some(PAGE), unix_now())
        .await
        .expect("query");
    let ids: Vec<&str> = found.iter().map(|t| t.device_id.as_str()).collect();
    assert_eq!(ids, ["fleet-07", "fleet-11"]);
    let never = TwinQuery::fleet()
        .filtered(FleetFilter::NotReported)
        .filtered(FleetFilter::IdStartsWith("fleet-1".into()));
    let found = core_client()
        .query_twins(&hub.core_registry(), &never.text(), Some(PAGE), unix_now())
        .await
        .expect("query");
    assert_eq!(found.len(), 9, "fleet-10, 12..19");

    let e = core_client()
        .query_twins(
            &hub.core_registry(),
            "SELECT * FROM devices WHERE",
            None,
            unix_now(),
        )
        .await
        .expect_err("refused");
    assert!(
        matches!(&e, RestError::Status { status: 400, code: Some(c), .. } if c == "ArgumentInvalid"),
        "{e:?}"
    );
}

/// `POST /devices/query` with `query`, page size and token as given: status, headers, JSON.
async fn post_query(
    hub: &Hub,
    query: &str,
    size: Option<&str>,
    token: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut req = hub
        .http
        .post(format!("{}/devices/query?api-version=2021-04-12", hub.base))
        .header("Authorization", hub.service_token(unix_now() + 600))
        .json(&json!({ "query": query }));
    if let Some(s) = size {
        req = req.header("x-ms-max-item-count", s);
    }
    if let Some(t) = token {
        req = req.header("x-ms-continuation", t);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.json().await.unwrap_or(Value::Null);
    (status, headers, body)
}

#[tokio::test]
async fn pages_carry_their_headers_the_last_none_and_a_bad_query_or_token_is_refused() {
    let hub = start().await;
    fleet(&hub).await;
    let (status, h, body) = post_query(&hub, "SELECT * FROM devices", Some("10"), None).await;
    assert_eq!(status, 200);
    assert_eq!(h["x-ms-item-type"], "twin");
    let token = h["x-ms-continuation"].to_str().expect("token").to_owned();
    let first = body.as_array().expect("a page");
    assert_eq!(first.len(), 10);
    let t = &first[3];
    assert_eq!(t["deviceId"], "fleet-03");
    for field in [
        "etag",
        "status",
        "connectionState",
        "lastActivityTime",
        "authenticationType",
        "x509Thumbprint",
        "version",
        "capabilities",
        "tags",
    ] {
        assert!(t.get(field).is_some(), "{field} in {t}");
    }
    assert!(t["properties"]["reported"]["$version"].is_u64(), "{t}");
    assert!(t["properties"]["reported"]["$metadata"].is_object(), "{t}");
    assert!(t["properties"]["desired"]["$version"].is_u64(), "{t}");

    let (_, h, body) = post_query(&hub, "SELECT * FROM devices", Some("10"), Some(&token)).await;
    assert_eq!(body[0]["deviceId"], "fleet-10");
    let token = h["x-ms-continuation"].to_str().expect("token").to_owned();
    let (_, h, body) = post_query(&hub, "SELECT * FROM devices", Some("10"), Some(&token)).await;
    assert_eq!(body.as_array().map(Vec::len), Some(5));
    assert!(
        h.get("x-ms-continuation").is_none(),
        "the last page has none"
    );

    // No size, or one over the maximum: pages of 1,000 (the whole fleet here).
    for size in [None, Some("5000"), Some("0")] {
        let (_, h, body) = post_query(&hub, "SELECT deviceId FROM devices", size, None).await;
        assert_eq!(body.as_array().map(Vec::len), Some(FLEET), "{size:?}");
        assert_eq!(h["x-ms-item-type"], "raw");
        assert!(h.get("x-ms-continuation").is_none());
    }
    let (_, _, body) =
        post_query(&hub, "SELECT TOP 3 deviceId FROM devices", Some("2"), None).await;
    assert_eq!(
        body,
        json!([{"deviceId": "fleet-00"}, {"deviceId": "fleet-01"}])
    );

    for (query, token) in [
        ("SELECT * FROM devices WHERE status =", None),
        ("SELECT * FROM devices.modules", None),
        ("SELECT * FROM devices", Some("not-a-token!")),
    ] {
        let (status, _, body) = post_query(&hub, query, None, token).await;
        assert_eq!(status, 400, "{query}");
        let message = body["Message"].as_str().unwrap_or("");
        assert!(message.starts_with("ErrorCode:ArgumentInvalid;"), "{body}");
    }
}

// Microsoft's SDKs.

fn expiring_before() -> String {
    format_iso8601(now() + Duration::days(20))
}

#[tokio::test(flavor = "multi_thread")]
async fn python_service_sdk_queries_every_twin_page_by_page() {
    let hub = start_for_service_sdk(SERVICE_SDK_HOSTS[0], Config::ephemeral()).await;
    fleet(&hub).await;
    run_service_sdk(
        &hub,
        SdkScript::File("query_twins.py"),
        &[
            ("PAGE_SIZE", &PAGE.to_string()),
            ("EXPIRING_BEFORE", &expiring_before()),
        ],
        &[
            "all 25 twins in 3 pages type=twin sorted=True unique=True",
            "reported fleet-03 until=",
            "auth=certificateAuthority active=True",
            "expiring fleet-07,fleet-11 type=raw",
            "bad query status=400 code=ArgumentInvalid",
        ],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn node_service_sdk_queries_every_twin_page_by_page() {
    let hub = start_for_service_sdk(SERVICE_SDK_HOSTS[1], Config::ephemeral()).await;
    fleet(&hub).await;
    run_service_sdk(
        &hub,
        SdkScript::File("query-twins.js"),
        &[
            ("PAGE_SIZE", &PAGE.to_string()),
            ("EXPIRING_BEFORE", &expiring_before()),
        ],
        &[
            "all 25 twins in 3 pages sorted=true unique=true",
            "reported fleet-07 until=",
            "reported fleet-11 until=",
            "expiring fleet-07,fleet-11",
            "bad query status=400 code=ArgumentInvalid",
        ],
    );
}

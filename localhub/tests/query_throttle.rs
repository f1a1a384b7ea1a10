//! The twin query throttled as a hub of a tier throttles it (`--tier S1 --units 1`,
//! `Config::throttling`): 20 queries a minute a unit on S1 (Microsoft's "Queries" row of
//! iot-hub-devguide-quotas-throttling), the 21st answered 429 `ThrottlingException` in the data
//! plane's error body and a query passing again once the bucket has refilled; the core's client
//! following the pages through the throttle with its backoff; nothing throttled without a tier; and
//! Microsoft's service SDKs, run unmodified, reporting the refusal as their throttling error:
//! Python `azure-iot-hub` (`IoTHubRegistryManager.query_iot_hub`) as an `HttpOperationError` of
//! status 429, Node.js `azure-iothub` (`Registry.createQuery(...).nextAsTwin`) as its
//! `ThrottlingError`. Each SDK test's localhub listens on 443 of a loopback address of its own
//! (`SERVICE_SDK_HOSTS`), which its connection string names.

mod common;

use std::time::Duration;

use common::*;
use hubcert::iothub::{HubClient, RetryPolicy};
use localhub::HttpTransport;
use serde_json::{json, Value};

/// `POST /devices/query` for every twin: status, whether a `Retry-After` came, JSON answer.
async fn query(hub: &Hub) -> (u16, bool, Value) {
    let resp = hub
        .http
        .post(format!("{}/devices/query?api-version=2021-04-12", hub.base))
        .header("Authorization", hub.service_token(unix_now() + 600))
        .json(&json!({ "query": "SELECT * FROM devices" }))
        .send()
        .await
        .expect("request");
    let status = resp.status().as_u16();
    let retry_after = resp.headers().contains_key("retry-after");
    (
        status,
        retry_after,
        resp.json().await.unwrap_or(Value::Null),
    )
}

/// Queries until one is refused; how many passed before it.
async fn exhaust(hub: &Hub) -> usize {
    for passed in 0..200 {
        let (status, _, body) = query(hub).await;
        match status {
            200 => {}
            429 => return passed,
            other => panic!("query {passed}: {other} {body}"),
        }
    }
    panic!("200 queries passed on one S1 unit")
}

#[tokio::test]
async fn the_21st_query_in_a_minute_on_one_s1_unit_is_refused_as_iot_hub_refuses_it() {
    let hub = start_with(s1_config(FROZEN)).await;
    for i in 0..20 {
        let (status, _, body) = query(&hub).await;
        assert_eq!(status, 200, "query {i}: {body}");
    }
    let (status, retry_after, body) = query(&hub).await;
    assert_eq!(status, 429, "{body}");
    assert!(!retry_after, "IoT Hub documents no Retry-After on a 429");
    let message = body["Message"].as_str().expect("Message");
    assert!(
        message.starts_with("ErrorCode:ThrottlingException;"),
        "{message}"
    );
    assert!(
        message.contains("queries are limited to 20 a minute on S1 with 1 unit"),
        "{message}"
    );
    let exception = body["ExceptionMessage"].as_str().expect("ExceptionMessage");
    assert!(exception.starts_with("Tracking ID:"), "{exception}");
    // Registry operations are a throttle of their own.
    assert_eq!(hub.registry("GET", "none", None, None).await.status, 404);
}

#[tokio::test]
async fn a_refused_query_passes_once_the_bucket_has_refilled() {
    // Three times the wall clock: one query's worth (a twentieth of a minute) refills in a second.
    const SCALE: f64 = 3.0;
    let hub = start_with(s1_config(SCALE)).await;
    assert!(
        exhaust(&hub).await >= 20,
        "a minute's allowance passes first"
    );
    tokio::time::sleep(Duration::from_secs_f64(60.0 / 20.0 / SCALE * 1.5)).await;
    let (status, _, body) = query(&hub).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn without_a_tier_queries_are_not_throttled() {
    let hub = start().await;
    for i in 0..30 {
        let (status, _, body) = query(&hub).await;
        assert_eq!(status, 200, "query {i}: {body}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_core_client_waits_out_a_throttled_page_and_reads_every_twin() {
    // One query's worth refills in half a second.
    const SCALE: f64 = 6.0;
    let hub = start_with(s1_config(SCALE)).await;
    let registry = hub.core_registry();
    let entries = ca_entries("q", 10..35);
    let client = HubClient::new(HttpTransport::default(), true).with_retry(
        RetryPolicy {
            max_attempts: 1_000,
            base: Duration::from_millis(10),
            cap: Duration::from_millis(100),
        },
        1,
    );
    let out = client
        .bulk_registry(&registry, &entries, unix_now())
        .await
        .expect("bulk");
    assert_eq!(out.applied.len(), 25, "{out:?}");
    // The bucket is empty: the first page is refused until a query's worth has refilled.
    exhaust(&hub).await;
    let twins = client
        .query_twins(&registry, "SELECT * FROM devices", Some(10), unix_now())
        .await
        .expect("every page");
    let ids: Vec<&str> = twins.iter().map(|t| t.device_id.as_str()).collect();
    let expected: Vec<String> = (10..35).map(|i| format!("q-{i}")).collect();
    assert_eq!(ids, expected);
    assert!(client.slept() > Duration::ZERO, "it was throttled");
}

/// Twenty queries answered, then how `query_iot_hub` reports the 21st: its exception, the HTTP
/// status and the error code of the body.
const PYTHON_QUERIES: &str = r#"
import os

from azure.iot.hub import IoTHubRegistryManager
from azure.iot.hub.models import QuerySpecification
from msrest.exceptions import HttpOperationError

registry = IoTHubRegistryManager.from_connection_string(os.environ["IOTHUB_CONNECTION_STRING"])
spec = QuerySpecification(query="SELECT * FROM devices")
answered = [registry.query_iot_hub(spec, None, 10) for _ in range(20)]
print(f"{len(answered)} queries answered")
try:
    registry.query_iot_hub(spec, None, 10)
    print("21st answered")
except HttpOperationError as e:
    code = e.response.json()["Message"].split(";")[0]
    print(f"21st refused type={type(e).__name__} status={e.response.status_code} code={code}")
"#;

#[tokio::test(flavor = "multi_thread")]
async fn python_service_sdk_reports_a_throttled_query_as_a_429_throttling_exception() {
    let hub = start_for_service_sdk(SERVICE_SDK_HOSTS[0], s1_config(FROZEN)).await;
    run_service_sdk(
        &hub,
        SdkScript::Inline("throttled_queries.py", PYTHON_QUERIES),
        &[],
        &[
            "20 queries answered",
            "21st refused type=HttpOperationError status=429 code=ErrorCode:ThrottlingException",
        ],
    );
}

/// Twenty queries answered by `nextAsTwin`, then how the 21st is reported: the error's class,
/// whether it is azure-iothub's `ThrottlingError`, the HTTP status and the message.
const NODE_QUERIES: &str = r#"
'use strict';
const { Registry } = require('azure-iothub');
// The errors azure-iothub throws (its own copy of azure-iot-common's, not exported at the top).
const errors = require('azure-iothub/dist/common-core/errors');

const registry = Registry.fromConnectionString(process.env.IOTHUB_CONNECTION_STRING);
const status = (e) => (e && e.response && e.response.statusCode) || (e && e.statusCode);

async function main() {
  for (let i = 0; i < 20; i += 1) {
    await registry.createQuery('SELECT * FROM devices', 10).nextAsTwin();
  }
  console.log('20 queries answered');
  try {
    await registry.createQuery('SELECT * FROM devices', 10).nextAsTwin();
    console.log('21st answered');
  } catch (e) {
    console.log(`21st refused name=${e.name} throttling=${e instanceof errors.ThrottlingError} status=${status(e)} message=${e.message}`);
  }
}

main().catch((e) => {
  console.log(`failed: ${e && (e.responseBody || e.message || e)}`);
  process.exit(2);
});
"#;

#[tokio::test(flavor = "multi_thread")]
async fn node_service_sdk_reports_a_throttled_query_as_its_throttling_error() {
    let hub = start_for_service_sdk(SERVICE_SDK_HOSTS[1], s1_config(FROZEN)).await;
    run_service_sdk(
        &hub,
        SdkScript::Inline("throttled-queries.js", NODE_QUERIES),
        &[],
        &[
            "20 queries answered",
            "21st refused name=ThrottlingError throttling=true status=429 message=The request has been throttled: queries are limited to 20 a minute",
        ],
    );
}

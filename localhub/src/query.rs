//! The hub's twin query: `POST /devices/query?api-version=...` with a
//! `hubcert::contract::QuerySpecification`, answered by a page of twins
//! (`hubcert::contract::Twin`) and the paging headers.
//!
//! The query is read by the contract's `DeviceQuery` (the language's subset the page and
//! Microsoft's SDKs send, one grammar for both sides); this module answers it over the hub's
//! devices, each as the query sees its twin.
//!
//! Pages: `x-ms-max-item-count` up to [`QUERY_PAGE_MAX`] (larger asks are cut to it; "the
//! service may use a different value if the value specified is not acceptable": azure-iot-hub's
//! `get_twins`), the same when absent. Devices are walked in id order; the continuation is the
//! last id answered (and how many `TOP` has had), base64url, so a page resumes after it even when
//! devices come and go meanwhile. The last page carries no `x-ms-continuation` (Node's
//! `Query.next` reads an absent header as the end).
//!
//! On a throttled hub (`--tier`) each call counts against the tier's query throttle before it is
//! read (`throttle::queries_per_minute`); past it the call is answered 429 `ThrottlingException`.
//!
//! A query this module cannot read is answered 400 `ArgumentInvalid` in the data plane's error
//! shape (`{"Message":"ErrorCode:...;...","ExceptionMessage":...}`, as azure-iot-sdks#941 shows
//! IoT Hub refusing a query with `ErrorCode:ArgumentNull;BadRequest`).

use std::ops::Bound;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use hubcert::contract::{
    AuthKind, Capabilities, ConnectionState, DeviceQuery, DeviceStatus, QuerySpecification, Twin,
    TwinProperties, X509Thumbprint, CONTINUATION_HEADER, ITEM_TYPE_HEADER, MAX_ITEM_COUNT_HEADER,
    QUERY_PAGE_MAX,
};
use serde_json::{Map, Value};

use crate::extract::{Body, RequestBody, ServiceCall};
use crate::reply::ApiError;
use crate::store::{DeviceAuth, DeviceRecord, Hub};
use crate::throttle::THROTTLING_EXCEPTION;

const NEVER: &str = "0001-01-01T00:00:00Z";

/// `unix_ms` as the hub writes times (`2026-11-30T10:00:00.123Z`).
pub(crate) fn iso_ms(unix_ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(unix_ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(time::macros::format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
            ))
            .ok()
        })
        .unwrap_or_else(|| NEVER.to_owned())
}

/// A device's twin as the query sees it.
pub(crate) fn twin_of(d: &DeviceRecord, connected: bool) -> Twin {
    let (kind, x509) = match &d.auth {
        DeviceAuth::CertificateAuthority => {
            (AuthKind::CertificateAuthority, X509Thumbprint::default())
        }
        DeviceAuth::SelfSigned { primary, secondary } => (
            AuthKind::SelfSigned,
            X509Thumbprint {
                primary_thumbprint: primary.clone(),
                secondary_thumbprint: secondary.clone(),
            },
        ),
        DeviceAuth::Sas { .. } => (AuthKind::Sas, X509Thumbprint::default()),
        DeviceAuth::None => (AuthKind::None, X509Thumbprint::default()),
    };
    let last = d.last_activity.map_or_else(|| NEVER.to_owned(), iso_ms);
    let section = |props: &Map<String, Value>, version: u64| {
        let mut m = props.clone();
        m.insert(
            "$metadata".into(),
            serde_json::json!({ "$lastUpdated": last }),
        );
        m.insert("$version".into(), version.into());
        m
    };
    Twin {
        device_id: d.device_id.clone(),
        etag: Some(format!("AAAAAAAAAA{}", d.reported_version)),
        device_etag: Some(d.etag.clone()),
        version: Some(d.reported_version + 1),
        status: Some(if d.enabled {
            DeviceStatus::Enabled
        } else {
            DeviceStatus::Disabled
        }),
        status_update_time: Some(NEVER.into()),
        connection_state: Some(if connected {
            ConnectionState::Connected
        } else {
            ConnectionState::Disconnected
        }),
        last_activity_time: Some(last.clone()),
        cloud_to_device_message_count: Some(0),
        authentication_type: Some(kind),
        x509_thumbprint: Some(x509),
        capabilities: Some(Capabilities {
            iot_edge: d.service.iot_edge,
        }),
        tags: Some(d.service.tags.clone()),
        properties: Some(TwinProperties {
            desired: Some(section(&d.service.desired, 1)),
            reported: Some(section(&d.reported, d.reported_version)),
        }),
        ..Twin::default()
    }
}

/// Where a page resumes: after `after` (a device id), with `emitted` answered so far (for TOP).
fn continuation(after: &str, emitted: usize) -> String {
    B64.encode(format!("{emitted}:{after}"))
}

fn resume(token: &str) -> Option<(usize, String)> {
    let raw = String::from_utf8(B64.decode(token.trim()).ok()?).ok()?;
    let (n, after) = raw.split_once(':')?;
    Some((n.parse().ok()?, after.to_owned()))
}

/// One page of `query` over the hub's devices from `resume_at`: the items, and where the next
/// page resumes (`None` when this is the last).
pub(crate) fn run_page(
    hub: &Hub,
    query: &DeviceQuery,
    resume_at: Option<(usize, String)>,
    page: usize,
) -> (Vec<Value>, Option<String>) {
    let connected: std::collections::HashSet<String> =
        crate::store::lock(&hub.sessions).keys().cloned().collect();
    let (mut emitted, after) = resume_at.unwrap_or((0, String::new()));
    let limit = query
        .top()
        .map_or(usize::MAX, |t| t.saturating_sub(emitted));
    let want = page.min(limit);
    // A query naming its device ids reads those twins only (the page's presence check before
    // each bulk call names 100 of a fleet of any size); the condition still decides on each.
    let named = query.named_device_ids();
    hub.read(|_, devices| {
        let mut items = Vec::new();
        let start = if after.is_empty() {
            Bound::Unbounded
        } else {
            Bound::Excluded(after.as_str())
        };
        let range: Box<dyn Iterator<Item = (&String, &DeviceRecord)>> = match &named {
            Some(ids) => Box::new(
                ids.range::<str, _>((start, Bound::Unbounded))
                    .filter_map(|id| devices.get_key_value(id.as_str())),
            ),
            None => Box::new(devices.range::<str, _>((start, Bound::Unbounded))),
        };
        let mut last = None;
        let mut more = false;
        for (id, d) in range {
            if items.len() == want {
                more = true;
                break;
            }
            let twin = match serde_json::to_value(twin_of(d, connected.contains(id))) {
                Ok(t) => t,
                Err(_) => continue,
            };
            if query.matches(&twin) {
                items.push(query.project(twin));
                last = Some(id.as_str());
            }
        }
        emitted += items.len();
        let top_done = query.top().is_some_and(|t| emitted >= t);
        let next = match last {
            Some(l) if more && !top_done => Some(continuation(l, emitted)),
            _ => None,
        };
        (items, next)
    })
}

impl RequestBody for QuerySpecification {
    fn rejection(e: serde_json::Error) -> ApiError {
        refused(format!("The body is not a query specification ({e})"))
    }
}

fn refused(message: String) -> ApiError {
    ApiError::hub(StatusCode::BAD_REQUEST, "ArgumentInvalid", message)
}

/// `POST /devices/query`.
pub(crate) async fn query_twins(
    _: ServiceCall,
    State(hub): State<Arc<Hub>>,
    headers: HeaderMap,
    Body(spec): Body<QuerySpecification>,
) -> Result<Response, ApiError> {
    if let Some(throttle) = &hub.throttle {
        throttle.query().map_err(|message| {
            ApiError::hub(StatusCode::TOO_MANY_REQUESTS, THROTTLING_EXCEPTION, message)
        })?;
    }
    let query = DeviceQuery::parse(&spec.query)
        .map_err(|why| refused(format!("Query is not valid: {why}")))?;
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    // An unreadable or zero size is the default, as the service "may use a different value".
    let page = header(MAX_ITEM_COUNT_HEADER)
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|n| *n > 0)
        .map_or(QUERY_PAGE_MAX, |n| n.min(QUERY_PAGE_MAX));
    let resume_at = match header(CONTINUATION_HEADER).filter(|t| !t.is_empty()) {
        Some(t) => {
            Some(resume(t).ok_or_else(|| refused("The continuation token is not valid".into()))?)
        }
        None => None,
    };
    let (items, next) = run_page(&hub, &query, resume_at, page);
    let mut response = Json(items).into_response();
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(query.item_type().as_str()) {
        h.insert(ITEM_TYPE_HEADER, v);
    }
    if let Some(v) = next.and_then(|n| HeaderValue::from_str(&n).ok()) {
        h.insert(CONTINUATION_HEADER, v);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_continuation_names_where_to_resume_and_garbage_is_none() {
        let t = continuation("dev:1", 7);
        assert_eq!(resume(&t), Some((7, "dev:1".to_owned())));
        assert_eq!(resume("%%%"), None);
        assert_eq!(resume(&B64.encode("x")), None);
    }
}

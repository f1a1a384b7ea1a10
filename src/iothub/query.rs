//! The hub's view of the fleet: the twin query the page sends (`POST /devices/query`), built from
//! what the page asks, and the paging loop that follows `x-ms-continuation` to the last page.

use super::client::{Answer, HubClient, Transport};
use super::error::setting;
use super::{Method, Plane, Registry, Request, RestError};
use crate::contract::{
    format_iso8601, DeviceStatus, QueryItemType, QuerySpecification, Twin, CONTINUATION_HEADER,
    DEVICE_API_VERSION, ITEM_TYPE_HEADER, MAX_ITEM_COUNT_HEADER, QUERY_MAX_LENGTH, QUERY_PAGE_MAX,
    REPORTED_CERTIFICATE,
};
use time::OffsetDateTime;

/// What the fleet page selects of each twin: enough to class its certificate and show the device.
pub const FLEET_FIELDS: [&str; 6] = [
    "deviceId",
    "status",
    "authenticationType",
    "x509Thumbprint",
    "lastActivityTime",
    "properties.reported.certificate",
];

/// A condition of the fleet query's `WHERE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FleetFilter {
    /// Devices whose reported certificate ends before this time (ISO dates compare as strings).
    ExpiringBefore(OffsetDateTime),
    /// Devices that never reported a certificate.
    NotReported,
    /// Devices whose id starts with this.
    IdStartsWith(String),
    /// Devices with this status.
    Status(DeviceStatus),
}

impl FleetFilter {
    fn text(&self) -> String {
        let cert = format!("properties.reported.{REPORTED_CERTIFICATE}");
        match self {
            Self::ExpiringBefore(t) => {
                format!("{cert}.validUntil < {}", literal(&format_iso8601(*t)))
            }
            Self::NotReported => format!("NOT IS_DEFINED({cert}.validUntil)"),
            Self::IdStartsWith(p) => format!("STARTSWITH(deviceId, {})", literal(p)),
            Self::Status(s) => format!("status = {}", literal(s.as_str())),
        }
    }
}

/// A string literal of the query language: single quotes, with `'` and `\` escaped by a
/// backslash (a device id may hold a `'`).
pub fn literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        if c == '\'' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// A twin query: what to select, and the conditions (all must hold).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TwinQuery {
    /// The fields selected; empty selects whole twins (`*`).
    pub select: Vec<String>,
    /// The conditions, joined by `AND`.
    pub filters: Vec<FleetFilter>,
}

impl TwinQuery {
    /// The fleet page's query: [`FLEET_FIELDS`] of every device.
    pub fn fleet() -> Self {
        Self {
            select: FLEET_FIELDS.iter().map(|f| (*f).to_owned()).collect(),
            filters: Vec::new(),
        }
    }

    /// With one more condition.
    pub fn filtered(mut self, filter: FleetFilter) -> Self {
        self.filters.push(filter);
        self
    }

    /// The query's text: `SELECT ... FROM devices [WHERE ... AND ...]`.
    pub fn text(&self) -> String {
        let select = if self.select.is_empty() {
            "*".to_owned()
        } else {
            self.select.join(", ")
        };
        let mut q = format!("SELECT {select} FROM devices");
        if !self.filters.is_empty() {
            let conditions: Vec<String> = self.filters.iter().map(FleetFilter::text).collect();
            q.push_str(" WHERE ");
            q.push_str(&conditions.join(" AND "));
        }
        q
    }
}

/// One page of a query's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryPage {
    /// The twins (or projections) of this page.
    pub twins: Vec<Twin>,
    /// The token of the next page; `None` on the last.
    pub continuation: Option<String>,
    /// What the items are, when the hub said.
    pub item_type: Option<QueryItemType>,
}

impl Registry {
    /// One page of `query`: the first when `continuation` is `None`. `page_size` is capped at
    /// [`QUERY_PAGE_MAX`]; `None` leaves it to the hub.
    pub fn query(
        &self,
        query: &str,
        continuation: Option<&str>,
        page_size: Option<usize>,
        now_unix: u64,
    ) -> Result<Request, RestError> {
        if query.trim().is_empty() || query.chars().count() > QUERY_MAX_LENGTH {
            return Err(setting(
                "Query",
                format!(
                    "a query has 1 to {QUERY_MAX_LENGTH} characters, not {}",
                    query.chars().count()
                ),
            ));
        }
        let url = format!(
            "{}/devices/query?api-version={DEVICE_API_VERSION}",
            self.base()
        );
        let mut request = Request::new(Method::Post, url, self.authorization(now_unix)?);
        request
            .headers
            .push(("Content-Type", "application/json".to_owned()));
        if let Some(size) = page_size {
            request.headers.push((
                MAX_ITEM_COUNT_HEADER,
                size.clamp(1, QUERY_PAGE_MAX).to_string(),
            ));
        }
        if let Some(token) = continuation {
            request
                .headers
                .push((CONTINUATION_HEADER, token.to_owned()));
        }
        request.body = Some(
            QuerySpecification {
                query: query.to_owned(),
            }
            .to_json(),
        );
        Ok(request)
    }
}

/// The headers a query's answer is read with.
const PAGING_HEADERS: &[&str] = &[CONTINUATION_HEADER, ITEM_TYPE_HEADER];

/// Reads a query's answer: its twins on 200, with the next page's token and the item type from
/// `headers`; any other status is the call's error.
pub fn read_query_answer(
    answer: &Answer,
    headers: &[(String, String)],
) -> Result<QueryPage, RestError> {
    if answer.status != 200 {
        return Err(RestError::from_status(
            Plane::Registry,
            answer.status,
            &answer.body,
        ));
    }
    let twins = Twin::list_from_json(answer.body.as_bytes())
        .map_err(|e| RestError::BadAnswer(format!("not a page of twins: {e}")))?;
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    Ok(QueryPage {
        twins,
        continuation: header(CONTINUATION_HEADER)
            .filter(|t| !t.is_empty())
            .map(str::to_owned),
        item_type: header(ITEM_TYPE_HEADER).map(QueryItemType::parse),
    })
}

impl<T: Transport> HubClient<T> {
    /// One page of `query`.
    pub async fn query_page(
        &self,
        registry: &Registry,
        query: &str,
        continuation: Option<&str>,
        page_size: Option<usize>,
        now_unix: u64,
    ) -> Result<QueryPage, RestError> {
        let request = registry.query(query, continuation, page_size, now_unix)?;
        let (answer, headers) = self
            .send_keeping(Plane::Registry, &request, PAGING_HEADERS)
            .await?;
        read_query_answer(&answer, &headers)
    }

    /// Every twin `query` finds: pages of `page_size` followed until the hub gives no
    /// continuation. A hub that gives back the token it was sent would loop forever; that stops
    /// with an error.
    pub async fn query_twins(
        &self,
        registry: &Registry,
        query: &str,
        page_size: Option<usize>,
        now_unix: u64,
    ) -> Result<Vec<Twin>, RestError> {
        let mut twins = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .query_page(registry, query, token.as_deref(), page_size, now_unix)
                .await?;
            twins.extend(page.twins);
            match page.continuation {
                Some(next) if token.as_deref() == Some(next.as_str()) => {
                    return Err(RestError::BadAnswer(
                        "the query's continuation did not move on".into(),
                    ))
                }
                Some(next) => token = Some(next),
                None => return Ok(twins),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::SasToken;
    use crate::iothub::backoff::RetryPolicy;
    use crate::iothub::testing::{answer, registry, run, Headless, Reply, Script, KEY};
    use serde_json::{json, Value};
    use std::time::Duration;

    fn page(ids: &[&str], next: Option<&str>) -> Reply {
        let body = Value::Array(ids.iter().map(|id| json!({"deviceId": id})).collect());
        let page = answer(200, body.to_string()).header(ITEM_TYPE_HEADER, "raw");
        match next {
            Some(t) => page.header(CONTINUATION_HEADER, t),
            None => page,
        }
    }

    #[test]
    fn the_fleet_query_selects_what_the_page_shows_and_filters_join_with_and() {
        assert_eq!(
            TwinQuery::fleet().text(),
            "SELECT deviceId, status, authenticationType, x509Thumbprint, lastActivityTime, properties.reported.certificate FROM devices"
        );
        let until = OffsetDateTime::from_unix_timestamp(1_790_000_000).expect("time");
        let q = TwinQuery::default()
            .filtered(FleetFilter::ExpiringBefore(until))
            .filtered(FleetFilter::IdStartsWith("it's".into()))
            .filtered(FleetFilter::Status(DeviceStatus::Enabled))
            .filtered(FleetFilter::NotReported);
        assert_eq!(
            q.text(),
            "SELECT * FROM devices WHERE properties.reported.certificate.validUntil < '2026-09-21T14:13:20Z' AND STARTSWITH(deviceId, 'it\\'s') AND status = 'enabled' AND NOT IS_DEFINED(properties.reported.certificate.validUntil)"
        );
        assert_eq!(literal(r"a\b"), r"'a\\b'");
    }

    #[test]
    fn every_query_the_page_builds_reads_back_with_the_language_localhub_answers_with() {
        use crate::contract::DeviceQuery;
        let twin = |id: &str, until: Option<&str>| {
            let mut t = json!({"deviceId": id, "status": "enabled", "authenticationType": "selfSigned",
                "x509Thumbprint": {"primaryThumbprint": "AB"}, "lastActivityTime": "0001-01-01T00:00:00Z",
                "properties": {"reported": {}}});
            if let Some(u) = until {
                t["properties"]["reported"]["certificate"] = json!({"thumbprint": "AB",
                    "issuer": "CN=Root", "validFrom": "2026-01-01T00:00:00Z", "validUntil": u});
            }
            t
        };
        let soon = twin("it's-soon", Some("2026-09-01T00:00:00Z"));
        let later = twin("later", Some("2027-01-01T00:00:00Z"));
        let never = twin("never", None);
        let until = OffsetDateTime::from_unix_timestamp(1_790_000_000).expect("time");
        let cases = [
            (TwinQuery::fleet(), [true, true, true]),
            (
                TwinQuery::fleet().filtered(FleetFilter::ExpiringBefore(until)),
                [true, false, false],
            ),
            (
                TwinQuery::fleet().filtered(FleetFilter::NotReported),
                [false, false, true],
            ),
            (
                TwinQuery::fleet().filtered(FleetFilter::IdStartsWith("it's".into())),
                [true, false, false],
            ),
            (
                TwinQuery::default().filtered(FleetFilter::Status(DeviceStatus::Disabled)),
                [false, false, false],
            ),
        ];
        for (query, expected) in cases {
            let q = DeviceQuery::parse(&query.text())
                .unwrap_or_else(|e| panic!("{}: {e}", query.text()));
            let got = [&soon, &later, &never].map(|t| q.matches(t));
            assert_eq!(got, expected, "{}", query.text());
        }
        // The fleet's projection is what the contract's twin reads back.
        let q = DeviceQuery::parse(&TwinQuery::fleet().text()).expect("fleet");
        let t: Twin = serde_json::from_value(q.project(soon.clone())).expect("a twin");
        assert_eq!(t.device_id, "it's-soon");
        assert_eq!(
            t.reported_certificate()
                .and_then(Result::ok)
                .map(|c| c.valid_until),
            Some("2026-09-01T00:00:00Z".to_owned())
        );
    }

    #[test]
    fn a_query_call_is_a_signed_post_with_its_paging_headers() {
        let r = registry()
            .query(
                "SELECT * FROM devices",
                Some("tok+1"),
                Some(5000),
                1_700_000_000,
            )
            .expect("request");
        assert_eq!(r.method, Method::Post);
        assert_eq!(
            r.url,
            "http://127.0.0.1:8081/devices/query?api-version=2021-04-12"
        );
        assert_eq!(r.header("x-ms-max-item-count"), Some("1000"));
        assert_eq!(r.header("x-ms-continuation"), Some("tok+1"));
        assert_eq!(r.header("Content-Type"), Some("application/json"));
        SasToken::parse(r.header("Authorization").expect("auth"))
            .expect("token")
            .verify("myhub.azure-devices.net", &[KEY], 1_700_000_000)
            .expect("signed for the hub");
        let body: Value = serde_json::from_str(r.body.as_deref().expect("body")).expect("json");
        assert_eq!(body, json!({"query": "SELECT * FROM devices"}));
        let first = registry()
            .query("SELECT * FROM devices", None, None, 0)
            .expect("request");
        assert!(first.header("x-ms-continuation").is_none());
        assert!(first.header("x-ms-max-item-count").is_none());
        for bad in [String::new(), "x".repeat(QUERY_MAX_LENGTH + 1)] {
            assert!(matches!(
                registry().query(&bad, None, None, 0),
                Err(RestError::Setting { field: "Query", .. })
            ));
        }
    }

    #[test]
    fn pages_are_followed_until_no_continuation_and_each_sends_the_last_token() {
        let script = Script::replies(vec![
            page(&["a", "b"], Some("p2")),
            page(&["c", "d"], Some("p3")),
            page(&["e"], None),
        ]);
        let twins = run(HubClient::new(&script, true).query_twins(
            &registry(),
            &TwinQuery::fleet().text(),
            Some(2),
            0,
        ))
        .expect("twins");
        let ids: Vec<&str> = twins.iter().map(|t| t.device_id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "c", "d", "e"]);
        let sent = script.sent.borrow();
        let tokens: Vec<Option<&str>> =
            sent.iter().map(|r| r.header("x-ms-continuation")).collect();
        assert_eq!(tokens, [None, Some("p2"), Some("p3")]);
        assert!(sent
            .iter()
            .all(|r| r.header("x-ms-max-item-count") == Some("2")));
    }

    #[test]
    fn a_refused_query_a_bad_page_or_a_stuck_token_is_an_error() {
        let script = Script::new(vec![Ok((
            400,
            r#"{"Message":"ErrorCode:BadRequest;Query is not valid","ExceptionMessage":""}"#,
        ))]);
        let e =
            run(HubClient::new(&script, true).query_twins(&registry(), "SELECT nonsense", None, 0))
                .expect_err("refused");
        assert!(
            matches!(&e, RestError::Status { status: 400, code: Some(c), .. } if c == "BadRequest"),
            "{e:?}"
        );
        let every = |script: Script| {
            run(HubClient::new(&script, true).query_twins(
                &registry(),
                "SELECT * FROM devices",
                None,
                0,
            ))
        };
        let html = Script::new(vec![Ok((200, "<html>"))]);
        assert!(matches!(every(html), Err(RestError::BadAnswer(_))));
        let stuck = Script::replies(vec![page(&["a"], Some("same")), page(&["a"], Some("same"))]);
        assert!(matches!(every(stuck), Err(RestError::BadAnswer(_))));
        let reset = Script::new(vec![Err("connection reset")]);
        assert!(matches!(
            every(reset),
            Err(RestError::Unreachable {
                plane: Plane::Registry,
                ..
            })
        ));
    }

    fn throttled() -> Reply {
        answer(
            429,
            r#"{"Message":"ErrorCode:ThrottlingException;slow down","ExceptionMessage":""}"#,
        )
    }

    #[test]
    fn a_throttled_page_is_waited_out_and_the_query_goes_on() {
        let script = Script::replies(vec![
            page(&["a"], Some("p2")),
            throttled(),
            page(&["b"], None),
        ]);
        let client = HubClient::new(&script, true);
        let twins = run(client.query_twins(&registry(), "SELECT * FROM devices", Some(1), 0))
            .expect("twins");
        assert_eq!(twins.len(), 2);
        let sent = script.sent.borrow();
        let tokens: Vec<Option<&str>> =
            sent.iter().map(|r| r.header("x-ms-continuation")).collect();
        assert_eq!(tokens, [None, Some("p2"), Some("p2")]);
        assert!(client.slept() > Duration::ZERO);
    }

    #[test]
    fn a_query_refused_429_then_answered_gives_every_twin_after_one_backoff() {
        let policy = RetryPolicy {
            max_attempts: 3,
            base: Duration::from_secs(1),
            cap: Duration::from_secs(60),
        };
        let script = || {
            Script::replies(vec![
                throttled(),
                page(&["a", "b"], Some("p2")),
                page(&["c"], None),
            ])
        };
        let twice = script();
        let client = HubClient::new(&twice, true).with_retry(policy, 7);
        let twins = run(client.query_twins(&registry(), "SELECT * FROM devices", Some(2), 0))
            .expect("the throttled page is sent again");
        let ids: Vec<&str> = twins.iter().map(|t| t.device_id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "c"]);
        assert_eq!(twice.sent.borrow().len(), 3);
        let slept = twice.slept.borrow();
        assert_eq!(slept.len(), 1, "one wait, before the page is sent again");
        assert!(slept[0] <= policy.base, "{slept:?}");
        // Without retries the same script ends at the 429.
        let once = script();
        let no_retry = RetryPolicy {
            max_attempts: 1,
            ..policy
        };
        let e = run(HubClient::new(&once, true)
            .with_retry(no_retry, 7)
            .query_twins(&registry(), "SELECT * FROM devices", Some(2), 0))
        .expect_err("throttled");
        assert_eq!(e.status(), Some(429), "{e:?}");
    }

    #[test]
    fn a_page_reads_its_item_type_and_a_transport_without_headers_stops_at_one_page() {
        let answer = Answer::new(200, "[]");
        let p = read_query_answer(
            &answer,
            &[
                ("X-MS-Item-Type".into(), "twin".into()),
                ("x-ms-continuation".into(), String::new()),
            ],
        )
        .expect("page");
        assert_eq!(p.item_type, Some(QueryItemType::Twin));
        assert_eq!(p.continuation, None);
        let headless = Headless(Script::replies(vec![page(&["a"], Some("p2"))]));
        let twins = run(HubClient::new(&headless, true).query_twins(
            &registry(),
            "SELECT * FROM devices",
            None,
            0,
        ))
        .expect("one page");
        assert_eq!(twins.len(), 1);
    }
}

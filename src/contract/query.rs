//! The hub's query of device twins: `POST /devices/query?api-version=2021-04-12` with a
//! [`QuerySpecification`] body, answered by a JSON array of [`Twin`]s, one page at a time.
//!
//! Paging is in headers (REST reference, Query - Get Twins, `QueryIoTHub` in
//! Azure/azure-rest-api-specs, iothub data plane 2021-04-12, as azure-iot-hub 2.7.0's
//! `protocol/operations/query_operations.py` sends and reads them): the request's
//! [`MAX_ITEM_COUNT_HEADER`] (a page size "the service may use a different value" for) and
//! [`CONTINUATION_HEADER`] (the token of the page asked for); the answer's
//! [`CONTINUATION_HEADER`] (absent on the last page: Node's `azure-iothub` 1.16.6 `Query.next` sets
//! `hasMoreResults = continuationToken !== undefined`) and [`ITEM_TYPE_HEADER`].
//!
//! The twin's fields are those azure-iot-hub's `protocol/models/twin.py` maps (`deviceId`, `etag`,
//! `deviceEtag`, `version`, `status`, `statusReason`, `statusUpdateTime`, `connectionState`,
//! `lastActivityTime`, `cloudToDeviceMessageCount`, `authenticationType`, `x509Thumbprint`,
//! `capabilities`, `tags`, `properties.desired/reported`), as MicrosoftDocs/azure-docs
//! `articles/iot-hub/query-twins.md` shows a twin; a projection (`SELECT deviceId, status ...`)
//! answers objects with only the fields it names, so every field but the id may be absent.
//!
//! A device reports the certificate it connects with as [`ReportedCertificate`] in
//! `properties.reported.certificate`: MicrosoftDocs/azure-docs
//! `articles/iot-hub/concept-certificate-renewal.md` ("Reporting certificate expiration with
//! device twins") has devices report `validFrom` and `validUntil` there so that a fleet's expiry can
//! be queried; hubcert's snippets add the `thumbprint` and `issuer`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

use super::{
    AuthKind, Capabilities, ConnectionState, DeviceStatus, TwinProperties, X509Thumbprint,
};

/// The request's page size and nothing more (`x-ms-max-item-count`).
pub const MAX_ITEM_COUNT_HEADER: &str = "x-ms-max-item-count";
/// The page asked for (request) or the next page (answer) (`x-ms-continuation`).
pub const CONTINUATION_HEADER: &str = "x-ms-continuation";
/// What the answer's items are (`x-ms-item-type`).
pub const ITEM_TYPE_HEADER: &str = "x-ms-item-type";

/// The largest page: "the query object is instantiated with a page size (up to 1000)"
/// (MicrosoftDocs/azure-docs `articles/iot-hub/iot-hub-devguide-query-language.md`, C# and Node
/// examples). Also the page when none is asked for (Node's `Registry.createQuery`: "default:
/// 1000").
pub const QUERY_PAGE_MAX: usize = 1000;

/// The longest query: "Query expressions can have a maximum length of 8192 characters"
/// (MicrosoftDocs/azure-docs `articles/iot-hub/query-twins.md`, "Twin query limitations").
pub const QUERY_MAX_LENGTH: usize = 8192;

/// The reported property a device's certificate is reported under.
pub const REPORTED_CERTIFICATE: &str = "certificate";

/// The body of a query call: `{"query": "SELECT ..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuerySpecification {
    /// The query text.
    pub query: String,
}

impl QuerySpecification {
    /// Reads a query call's body.
    pub fn from_json(body: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(body)
    }

    /// Writes a query call's body.
    pub fn to_json(&self) -> String {
        serde_json::json!({ "query": self.query }).to_string()
    }
}

/// `x-ms-item-type`: what a page holds. The values are those of Node's generated client
/// (`pl/models/index.d.ts`, `QueryResult.type`): `unknown`, `twin`, `deviceJob`, `jobResponse`,
/// `raw`, `enrollment`, `enrollmentGroup`, `deviceRegistration`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum QueryItemType {
    /// Whole twins (`SELECT *`).
    Twin,
    /// Projections and aggregates: JSON objects of what the query selected.
    Raw,
    /// Any other value, as sent.
    Other(String),
}

impl QueryItemType {
    /// The value as the service writes it.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Twin => "twin",
            Self::Raw => "raw",
            Self::Other(s) => s,
        }
    }

    /// Reads the header's value (without regard to case, as .NET's enum reader does).
    pub fn parse(s: &str) -> Self {
        [Self::Twin, Self::Raw]
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(s))
            .unwrap_or_else(|| Self::Other(s.to_owned()))
    }
}

/// A device twin as a query answers it. Fields a projection leaves out are `None`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Twin {
    /// The device id.
    #[serde(default)]
    pub device_id: String,
    /// A module's id, for module twins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module_id: Option<String>,
    /// The twin's etag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// The identity's etag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_etag: Option<String>,
    /// The twin's version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u64>,
    /// Enabled or disabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<DeviceStatus>,
    /// Why it was disabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<String>,
    /// When the status last changed (ISO 8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_update_time: Option<String>,
    /// Whether a connection is open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_state: Option<ConnectionState>,
    /// When the device last connected, sent or received (ISO 8601; `0001-01-01T00:00:00Z` when
    /// never).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_activity_time: Option<String>,
    /// Cloud-to-device messages waiting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_to_device_message_count: Option<u64>,
    /// How it authenticates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication_type: Option<AuthKind>,
    /// Thumbprints of a `selfSigned` device (`null`s otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x509_thumbprint: Option<X509Thumbprint>,
    /// What it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<Capabilities>,
    /// The twin's tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Map<String, Value>>,
    /// Desired and reported properties, each with its `$metadata` and `$version`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<TwinProperties>,
}

impl Twin {
    /// Reads a query answer's page.
    pub fn list_from_json(body: &[u8]) -> Result<Vec<Self>, serde_json::Error> {
        serde_json::from_slice(body)
    }

    /// Writes a page.
    pub fn list_to_json(twins: &[Self]) -> String {
        // Strings, options, maps of JSON values: always serialises.
        serde_json::to_string(twins).unwrap_or_default()
    }

    /// The certificate the device reported: `None` when it reported none, `Some(Err)` when what
    /// it reported is not one.
    pub fn reported_certificate(&self) -> Option<Result<ReportedCertificate, serde_json::Error>> {
        let value = self
            .properties
            .as_ref()?
            .reported
            .as_ref()?
            .get(REPORTED_CERTIFICATE)?;
        Some(serde_json::from_value(value.clone()))
    }
}

/// What a device reports of the certificate it connected with, in
/// `properties.reported.certificate`. Dates are ISO 8601 in UTC (`2026-03-31T00:00:00Z`), so the
/// hub's query compares them as strings in time order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportedCertificate {
    /// SHA-256 of the certificate's DER, hex (upper case, no colons), as a thumbprint device is
    /// registered with.
    #[serde(default)]
    pub thumbprint: String,
    /// The issuer's distinguished name.
    #[serde(default)]
    pub issuer: String,
    /// notBefore.
    pub valid_from: String,
    /// notAfter.
    pub valid_until: String,
}

impl ReportedCertificate {
    /// The reported-properties patch a device sends: `{"certificate": {...}}`.
    pub fn to_patch(&self) -> String {
        serde_json::json!({ REPORTED_CERTIFICATE: self }).to_string()
    }

    /// notAfter as a time; `None` when it is not ISO 8601.
    pub fn valid_until_time(&self) -> Option<OffsetDateTime> {
        parse_iso8601(&self.valid_until)
    }
}

/// Reads an ISO 8601 date and time with an offset (`2026-03-31T00:00:00Z`,
/// `2026-03-31T02:00:00.5+02:00`) or a bare date (`2026-03-31`, midnight UTC); `None` otherwise.
pub fn parse_iso8601(s: &str) -> Option<OffsetDateTime> {
    let num = |t: &str| -> Option<u32> {
        (!t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
            .then(|| t.parse().ok())
            .flatten()
    };
    let s = s.trim();
    let (date, rest) = s.split_at(s.find(['T', 't', ' ']).unwrap_or(s.len()));
    let mut d = date.splitn(3, '-');
    let year: i32 = d.next().and_then(num)?.try_into().ok()?;
    let month = Month::try_from(u8::try_from(d.next().and_then(num)?).ok()?).ok()?;
    let day = u8::try_from(d.next().and_then(num)?).ok()?;
    let date = Date::from_calendar_date(year, month, day).ok()?;
    if rest.is_empty() {
        return Some(date.midnight().assume_utc());
    }
    let rest = &rest[1..];
    let (clock, offset) = match rest.find(['Z', 'z', '+', '-']) {
        Some(i) => rest.split_at(i),
        // No offset: UTC, as the hub writes `0001-01-01T00:00:00`.
        None => (rest, "Z"),
    };
    let (hms, fraction) = clock.split_once('.').unwrap_or((clock, ""));
    let mut t = hms.splitn(3, ':');
    let (h, m) = (t.next().and_then(num)?, t.next().and_then(num)?);
    let sec = t.next().map_or(Some(0), num)?;
    if !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let nanos = fraction
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(9)
        .fold(0u32, |n, b| n * 10 + u32::from(b - b'0'));
    let time = Time::from_hms_nano(
        u8::try_from(h).ok()?,
        u8::try_from(m).ok()?,
        u8::try_from(sec).ok()?,
        nanos,
    )
    .ok()?;
    let offset = match offset {
        "Z" | "z" => UtcOffset::UTC,
        o => {
            let sign: i8 = if o.starts_with('-') { -1 } else { 1 };
            let (oh, om) = o[1..].split_once(':').unwrap_or((&o[1..], "0"));
            UtcOffset::from_hms(
                sign * i8::try_from(num(oh)?).ok()?,
                sign * i8::try_from(num(om)?).ok()?,
                0,
            )
            .ok()?
        }
    };
    Some(PrimitiveDateTime::new(date, time).assume_offset(offset))
}

/// Writes `t` as the snippets report it: ISO 8601 in UTC to the second (`2026-03-31T00:00:00Z`).
pub fn format_iso8601(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A twin as `SELECT *` answers it (the shape of MicrosoftDocs' query-twins.md sample).
    fn whole_twin() -> Value {
        json!({
            "deviceId": "sensor-01",
            "etag": "AAAAAAAAAAc=",
            "deviceEtag": "Njc2MzYzMzQ1",
            "status": "enabled",
            "statusUpdateTime": "0001-01-01T00:00:00Z",
            "connectionState": "Disconnected",
            "lastActivityTime": "2026-11-30T10:00:00.1234567Z",
            "cloudToDeviceMessageCount": 0,
            "authenticationType": "selfSigned",
            "x509Thumbprint": {"primaryThumbprint": "AB12", "secondaryThumbprint": null},
            "modelId": "",
            "version": 4,
            "tags": {"location": {"region": "US"}},
            "properties": {
                "desired": {"$metadata": {"$lastUpdated": "2026-11-30T10:00:00Z"}, "$version": 1},
                "reported": {
                    "certificate": {
                        "thumbprint": "AB12",
                        "issuer": "CN=Fleet Root",
                        "validFrom": "2026-11-01T00:00:00Z",
                        "validUntil": "2027-11-01T00:00:00Z"
                    },
                    "$metadata": {"$lastUpdated": "2026-11-30T10:00:00Z"},
                    "$version": 3
                }
            },
            "capabilities": {"iotEdge": false}
        })
    }

    #[test]
    fn a_whole_twin_reads_with_its_reported_certificate_and_writes_back_the_same() {
        let body = json!([whole_twin()]).to_string();
        let twins = Twin::list_from_json(body.as_bytes()).expect("a page");
        let t = &twins[0];
        assert_eq!(t.device_id, "sensor-01");
        assert_eq!(t.status, Some(DeviceStatus::Enabled));
        assert_eq!(t.authentication_type, Some(AuthKind::SelfSigned));
        assert_eq!(t.connection_state, Some(ConnectionState::Disconnected));
        assert_eq!(t.version, Some(4));
        let cert = t.reported_certificate().expect("reported").expect("read");
        assert_eq!(
            cert,
            ReportedCertificate {
                thumbprint: "AB12".into(),
                issuer: "CN=Fleet Root".into(),
                valid_from: "2026-11-01T00:00:00Z".into(),
                valid_until: "2027-11-01T00:00:00Z".into(),
            }
        );
        // What localhub writes, the app reads back field for field (modelId, unknown here, is
        // the one thing dropped).
        let again: Vec<Twin> =
            Twin::list_from_json(Twin::list_to_json(&twins).as_bytes()).expect("again");
        assert_eq!(again, twins);
        let mut expected = whole_twin();
        expected.as_object_mut().expect("object").remove("modelId");
        assert_eq!(
            serde_json::from_str::<Value>(&Twin::list_to_json(&twins)).expect("json")[0],
            expected
        );
    }

    #[test]
    fn a_projection_reads_with_only_what_it_selected() {
        let body = json!([
            {"deviceId": "a", "status": "disabled", "lastActivityTime": "0001-01-01T00:00:00Z",
             "properties": {"reported": {"certificate": {"validFrom": "2026-01-01T00:00:00Z", "validUntil": "2026-02-01T00:00:00Z"}}}},
            {"deviceId": "b", "authenticationType": "certificateAuthority"}
        ])
        .to_string();
        let twins = Twin::list_from_json(body.as_bytes()).expect("a page");
        assert_eq!(twins[0].status, Some(DeviceStatus::Disabled));
        assert!(twins[0].etag.is_none() && twins[0].authentication_type.is_none());
        let cert = twins[0].reported_certificate().expect("some").expect("ok");
        assert_eq!(cert.thumbprint, "");
        assert!(twins[1].reported_certificate().is_none());
        let bad = Twin {
            properties: Some(TwinProperties {
                reported: Some(Map::from_iter([(
                    REPORTED_CERTIFICATE.to_owned(),
                    json!("soon"),
                )])),
                desired: None,
            }),
            ..Twin::default()
        };
        assert!(matches!(bad.reported_certificate(), Some(Err(_))));
    }

    #[test]
    fn a_query_body_and_the_item_type_round_trip() {
        let q = QuerySpecification {
            query: "SELECT * FROM devices WHERE deviceId = 'it''s'".into(),
        };
        assert_eq!(
            QuerySpecification::from_json(q.to_json().as_bytes()).expect("body"),
            q
        );
        assert_eq!(QueryItemType::parse("Twin"), QueryItemType::Twin);
        assert_eq!(QueryItemType::parse("raw").as_str(), "raw");
        assert_eq!(
            QueryItemType::parse("deviceJob"),
            QueryItemType::Other("deviceJob".into())
        );
    }

    #[test]
    fn the_reported_certificate_patch_is_what_the_query_finds_under_certificate() {
        let c = ReportedCertificate {
            thumbprint: "0A".into(),
            issuer: "CN=\"Quoted\" Root".into(),
            valid_from: "2026-01-01T00:00:00Z".into(),
            valid_until: "2026-04-01T00:00:00Z".into(),
        };
        let patch: Value = serde_json::from_str(&c.to_patch()).expect("json");
        assert_eq!(patch["certificate"]["validUntil"], "2026-04-01T00:00:00Z");
        let back: ReportedCertificate =
            serde_json::from_value(patch["certificate"].clone()).expect("back");
        assert_eq!(back, c);
        assert_eq!(
            c.valid_until_time().map(format_iso8601).as_deref(),
            Some("2026-04-01T00:00:00Z")
        );
    }

    #[test]
    fn iso_dates_read_with_offsets_fractions_or_none_and_nonsense_is_none() {
        let utc = |s: &str| parse_iso8601(s).map(format_iso8601);
        assert_eq!(
            utc("2026-03-31T00:00:00Z").as_deref(),
            Some("2026-03-31T00:00:00Z")
        );
        assert_eq!(
            utc("2026-03-31T02:30:00.1234567+02:30").as_deref(),
            Some("2026-03-31T00:00:00Z")
        );
        assert_eq!(
            utc("2026-03-31T00:00:00-01:00").as_deref(),
            Some("2026-03-31T01:00:00Z")
        );
        assert_eq!(
            utc("0001-01-01T00:00:00").as_deref(),
            Some("0001-01-01T00:00:00Z")
        );
        assert_eq!(utc("2026-03-31").as_deref(), Some("2026-03-31T00:00:00Z"));
        for bad in [
            "",
            "soon",
            "2026-13-01T00:00:00Z",
            "2026-02-30",
            "2026-01-01T25:00:00Z",
            "2026-01-01T00:00:00.x1Z",
            "-1-01-01",
            "2026-01-01T00:00:00+",
        ] {
            assert_eq!(parse_iso8601(bad), None, "{bad}");
        }
    }
}

//! The fleet's expiry as the hub sees it: each device's reported certificate
//! (`properties.reported.certificate`) classed at a given time, merged with the devices this page
//! made, and written as CSV.

use std::collections::BTreeMap;

use time::OffsetDateTime;

use crate::contract::{format_iso8601, AuthKind, DeviceStatus, ReportedCertificate, Twin};

/// How soon a device's reported certificate ends, most urgent first (so sorting finds the worst).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FleetExpiry {
    /// Past its `validUntil`: the hub refuses it.
    Expired,
    /// 7 days or fewer left.
    Within7,
    /// 8 to 14 days left.
    Within14,
    /// 15 to 30 days left.
    Within30,
    /// More than 30 days left.
    Later,
    /// Never reported (or reported something that is not a certificate's dates).
    Unknown,
}

impl FleetExpiry {
    /// The class of a certificate ending at `until`, at `now`.
    pub fn classify(until: OffsetDateTime, now: OffsetDateTime) -> Self {
        if now >= until {
            return Self::Expired;
        }
        match days_left(until, now) {
            d if d <= 7 => Self::Within7,
            d if d <= 14 => Self::Within14,
            d if d <= 30 => Self::Within30,
            _ => Self::Later,
        }
    }

    /// A word for a badge or a CSV column.
    pub fn label(self) -> &'static str {
        match self {
            Self::Expired => "expired",
            Self::Within7 => "7 days or fewer",
            Self::Within14 => "14 days or fewer",
            Self::Within30 => "30 days or fewer",
            Self::Later => "later",
            Self::Unknown => "unknown",
        }
    }
}

/// The fleet view's summary line: how many devices the hub and the page know, and how many in
/// each class that has any, the most urgent first; whether any needs attention (expired, or 30
/// days or fewer).
pub fn fleet_summary(rows: &[FleetRow]) -> (String, bool) {
    let counts = fleet_counts(rows);
    let on_hub = rows.iter().filter(|r| r.on_hub).count();
    let parts: Vec<String> = counts
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(class, n)| match class {
            FleetExpiry::Unknown => format!("{n} never reported a certificate"),
            c => format!("{n} {}", c.label()),
        })
        .collect();
    let urgent = counts
        .iter()
        .any(|(c, n)| *n > 0 && !matches!(c, FleetExpiry::Later | FleetExpiry::Unknown));
    let line = format!(
        "{on_hub} device{} on the hub, {} in all with this page's: {}.",
        if on_hub == 1 { "" } else { "s" },
        rows.len(),
        if parts.is_empty() {
            "none".to_owned()
        } else {
            parts.join(", ")
        }
    );
    (line, urgent)
}

/// Whole days from `now` to `until` (negative once past).
fn days_left(until: OffsetDateTime, now: OffsetDateTime) -> i64 {
    (until - now).whole_seconds().div_euclid(86_400)
}

/// A device this page made (its inventory): the id and the certificate it was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MadeHere {
    /// The device id.
    pub device_id: String,
    /// The certificate's notAfter.
    pub not_after: OffsetDateTime,
    /// Its SHA-256 thumbprint (hex, upper case).
    pub thumbprint: String,
}

/// One device of the fleet view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetRow {
    /// The device id.
    pub device_id: String,
    /// Whether the hub has it (a device only this page knows is not registered, or was deleted).
    pub on_hub: bool,
    /// What this page made it, when it did.
    pub made_here: Option<MadeHere>,
    /// Enabled or disabled, as the hub says.
    pub status: Option<DeviceStatus>,
    /// How it authenticates, as the hub says.
    pub auth: Option<AuthKind>,
    /// The primary thumbprint registered (self-signed devices).
    pub registered_thumbprint: Option<String>,
    /// When it was last active; `None` when never (the hub's `0001-01-01`).
    pub last_activity: Option<String>,
    /// What it reported of its certificate, when it reported something readable.
    pub reported: Option<ReportedCertificate>,
    /// How soon the reported certificate ends.
    pub expiry: FleetExpiry,
    /// Whole days left on the reported certificate (negative once past).
    pub days_left: Option<i64>,
    /// The device reports a certificate other than the one this page made it (renewed elsewhere,
    /// or not yet switched to a renewal).
    pub reports_other_certificate: bool,
}

/// The fleet view at `now`: every device of the hub's answer and every device this page made, by
/// id, most urgent first, then by id.
pub fn fleet_view(twins: &[Twin], made_here: &[MadeHere], now: OffsetDateTime) -> Vec<FleetRow> {
    let mut made: BTreeMap<&str, &MadeHere> = BTreeMap::new();
    for m in made_here {
        // The latest certificate of a device made more than once.
        let e = made.entry(m.device_id.as_str()).or_insert(m);
        if m.not_after > e.not_after {
            *e = m;
        }
    }
    let mut rows: Vec<FleetRow> = twins
        .iter()
        .map(|t| {
            let reported = t.reported_certificate().and_then(Result::ok);
            let until = reported
                .as_ref()
                .and_then(ReportedCertificate::valid_until_time);
            let mine = made.remove(t.device_id.as_str()).cloned();
            let reports_other_certificate = match (&reported, &mine) {
                (Some(r), Some(m)) if !r.thumbprint.is_empty() => {
                    !r.thumbprint.eq_ignore_ascii_case(&m.thumbprint)
                }
                _ => false,
            };
            FleetRow {
                device_id: t.device_id.clone(),
                on_hub: true,
                made_here: mine,
                status: t.status.clone(),
                auth: t.authentication_type.clone(),
                registered_thumbprint: t
                    .x509_thumbprint
                    .as_ref()
                    .and_then(|x| x.primary_thumbprint.clone()),
                last_activity: t
                    .last_activity_time
                    .clone()
                    .filter(|a| !a.starts_with("0001-01-01")),
                expiry: until.map_or(FleetExpiry::Unknown, |u| FleetExpiry::classify(u, now)),
                days_left: until.map(|u| days_left(u, now)),
                reported,
                reports_other_certificate,
            }
        })
        .collect();
    // Devices this page made that the hub did not list.
    rows.extend(made.into_values().map(|m| FleetRow {
        device_id: m.device_id.clone(),
        on_hub: false,
        made_here: Some(m.clone()),
        status: None,
        auth: None,
        registered_thumbprint: None,
        last_activity: None,
        reported: None,
        expiry: FleetExpiry::Unknown,
        days_left: None,
        reports_other_certificate: false,
    }));
    rows.sort_by(|a, b| {
        (a.expiry, a.days_left, &a.device_id).cmp(&(b.expiry, b.days_left, &b.device_id))
    });
    rows
}

/// How many devices are in each class.
pub fn fleet_counts(rows: &[FleetRow]) -> BTreeMap<FleetExpiry, usize> {
    let mut counts = BTreeMap::new();
    for r in rows {
        *counts.entry(r.expiry).or_insert(0) += 1;
    }
    counts
}

/// The CSV columns, in order.
pub const FLEET_CSV_HEADER: &str = "deviceId,onHub,madeHere,status,authenticationType,registeredThumbprint,lastActivityTime,expiry,daysLeft,validFrom,validUntil,reportedThumbprint,issuer,madeHereUntil,reportsOtherCertificate";

/// One CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break, quotes
/// doubled. Text that comes from devices or the hub and starts like a formula (`=`, `+`, `-`,
/// `@`, tab, carriage return) gets a leading `'`, so a spreadsheet shows it rather than runs it
/// (OWASP, CSV Injection).
pub fn csv_field(text: &str) -> String {
    let guarded = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

/// The view as CSV: [`FLEET_CSV_HEADER`], then one line per row, lines ended by CRLF.
pub fn fleet_csv(rows: &[FleetRow]) -> String {
    let mut out = String::from(FLEET_CSV_HEADER);
    out.push_str("\r\n");
    for r in rows {
        let text = |s: Option<&str>| csv_field(s.unwrap_or(""));
        let fields = [
            csv_field(&r.device_id),
            r.on_hub.to_string(),
            r.made_here.is_some().to_string(),
            text(r.status.as_ref().map(DeviceStatus::as_str)),
            text(r.auth.as_ref().map(AuthKind::as_str)),
            text(r.registered_thumbprint.as_deref()),
            text(r.last_activity.as_deref()),
            r.expiry.label().to_owned(),
            r.days_left.map(|d| d.to_string()).unwrap_or_default(),
            text(r.reported.as_ref().map(|c| c.valid_from.as_str())),
            text(r.reported.as_ref().map(|c| c.valid_until.as_str())),
            text(r.reported.as_ref().map(|c| c.thumbprint.as_str())),
            text(r.reported.as_ref().map(|c| c.issuer.as_str())),
            r.made_here
                .as_ref()
                .map(|m| format_iso8601(m.not_after))
                .unwrap_or_default(),
            r.reports_other_certificate.to_string(),
        ];
        out.push_str(&fields.join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(s: &str) -> OffsetDateTime {
        crate::contract::parse_iso8601(s).expect("a date")
    }

    fn twin(id: &str, until: Option<&str>, thumb: &str) -> Twin {
        let mut v = json!({"deviceId": id, "status": "enabled", "authenticationType": "selfSigned",
            "x509Thumbprint": {"primaryThumbprint": "REG", "secondaryThumbprint": null},
            "lastActivityTime": "0001-01-01T00:00:00Z"});
        if let Some(u) = until {
            v["properties"] = json!({"reported": {"certificate": {"thumbprint": thumb,
                "issuer": "CN=Root", "validFrom": "2026-01-01T00:00:00Z", "validUntil": u}}});
        }
        serde_json::from_value(v).expect("twin")
    }

    #[test]
    fn the_summary_counts_each_class_and_says_when_one_needs_attention() {
        let now = at("2026-12-01T00:00:00Z");
        let twins = [
            twin("a", Some("2026-11-30T00:00:00Z"), "T1"),
            twin("b", None, ""),
            twin("c", Some("2027-06-01T00:00:00Z"), "T3"),
        ];
        let rows = fleet_view(&twins, &[], now);
        let (line, urgent) = fleet_summary(&rows);
        assert_eq!(
            line,
            "3 devices on the hub, 3 in all with this page's: 1 expired, 1 later, 1 never reported a certificate."
        );
        assert!(urgent);
        let (line, urgent) = fleet_summary(&fleet_view(&twins[1..], &[], now));
        assert!(!urgent, "{line}");
        assert_eq!(
            fleet_summary(&[]).0,
            "0 devices on the hub, 0 in all with this page's: none."
        );
    }

    #[test]
    fn each_device_is_classed_by_its_reported_certificate_at_now() {
        let now = at("2026-12-01T12:00:00Z");
        let twins = [
            twin("later", Some("2027-01-01T12:00:00Z"), "A"),
            twin("d30", Some("2026-12-31T12:00:00Z"), "A"),
            twin("d14", Some("2026-12-15T12:00:00Z"), "A"),
            twin("d8", Some("2026-12-09T12:00:00Z"), "A"),
            twin("d7", Some("2026-12-08T12:00:00Z"), "A"),
            twin("today", Some("2026-12-01T12:00:01Z"), "A"),
            twin("expired", Some("2026-12-01T12:00:00Z"), "A"),
            twin("never", None, ""),
            twin("nonsense", Some("soon"), "A"),
        ];
        let rows = fleet_view(&twins, &[], now);
        let got: Vec<(&str, FleetExpiry, Option<i64>)> = rows
            .iter()
            .map(|r| (r.device_id.as_str(), r.expiry, r.days_left))
            .collect();
        use FleetExpiry::*;
        assert_eq!(
            got,
            [
                ("expired", Expired, Some(0)),
                ("today", Within7, Some(0)),
                ("d7", Within7, Some(7)),
                ("d8", Within14, Some(8)),
                ("d14", Within14, Some(14)),
                ("d30", Within30, Some(30)),
                ("later", Later, Some(31)),
                ("never", Unknown, None),
                ("nonsense", Unknown, None),
            ]
        );
        assert!(rows.iter().all(|r| r.on_hub && r.last_activity.is_none()));
        assert_eq!(rows[0].registered_thumbprint.as_deref(), Some("REG"));
        let counts = fleet_counts(&rows);
        assert_eq!(counts[&Within7], 2);
        assert_eq!(counts[&Unknown], 2);
    }

    #[test]
    fn devices_merge_by_id_and_one_only_one_side_knows_still_appears() {
        let now = at("2026-12-01T00:00:00Z");
        let made = [
            MadeHere {
                device_id: "both".into(),
                not_after: at("2027-06-01T00:00:00Z"),
                thumbprint: "old".into(),
            },
            MadeHere {
                device_id: "both".into(),
                not_after: at("2027-12-01T00:00:00Z"),
                thumbprint: "NEW".into(),
            },
            MadeHere {
                device_id: "page-only".into(),
                not_after: at("2027-01-01T00:00:00Z"),
                thumbprint: "P".into(),
            },
        ];
        let twins = [
            twin("both", Some("2027-06-01T00:00:00Z"), "OLD"),
            twin("hub-only", Some("2027-06-01T00:00:00Z"), "H"),
        ];
        let rows = fleet_view(&twins, &made, now);
        let by_id = |id: &str| rows.iter().find(|r| r.device_id == id).expect(id);
        let both = by_id("both");
        assert!(both.on_hub);
        // The page's latest certificate for it, which the device does not report yet.
        assert_eq!(
            both.made_here.as_ref().map(|m| m.thumbprint.as_str()),
            Some("NEW")
        );
        assert!(both.reports_other_certificate);
        assert!(by_id("hub-only").made_here.is_none());
        let page_only = by_id("page-only");
        assert!(!page_only.on_hub && page_only.expiry == FleetExpiry::Unknown);
        assert_eq!(rows.len(), 3);
    }

    #[test]
    fn csv_quotes_what_needs_it_and_defuses_formulas() {
        assert_eq!(csv_field("plain-id"), "plain-id");
        assert_eq!(
            csv_field("CN=Root, O=\"Acme\""),
            "\"CN=Root, O=\"\"Acme\"\"\""
        );
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("@sum"), "'@sum");
        let now = at("2026-12-01T00:00:00Z");
        let mut t = twin("=evil", Some("2026-12-03T00:00:00Z"), "T1");
        t.last_activity_time = Some("2026-11-30T10:00:00Z".into());
        let csv = fleet_csv(&fleet_view(&[t], &[], now));
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(lines[0], FLEET_CSV_HEADER);
        assert_eq!(
            lines[1],
            "'=evil,true,false,enabled,selfSigned,REG,2026-11-30T10:00:00Z,7 days or fewer,2,2026-01-01T00:00:00Z,2026-12-03T00:00:00Z,T1,CN=Root,,false"
        );
        assert_eq!(lines[2], "");
        assert_eq!(
            lines[1].split(',').count(),
            FLEET_CSV_HEADER.split(',').count()
        );
    }
}

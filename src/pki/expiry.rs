//! Expiry watch: every certificate made or imported here, soonest expiry first, with what to do.

use time::OffsetDateTime;

use super::dates::{format_rfc3339_utc, format_utc};
use super::{Certificate, CertificateInfo, PkiError};

/// Days before expiry from which a certificate is flagged (the first of the three alerts).
pub const EXPIRY_WARNING_DAYS: i64 = 30;

/// The alerts before expiry, in days, widest first: 30, 14 and 7 days ahead.
pub const EXPIRY_ALERT_DAYS: [i64; 3] = [EXPIRY_WARNING_DAYS, 14, 7];

/// How close a certificate is to expiry, in the alert steps of [`EXPIRY_ALERT_DAYS`].
/// Ordered from the most urgent to fine, so sorting or `min` finds the worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ExpiryStatus {
    /// Past its notAfter: the hub refuses it.
    Expired,
    /// Less than 7 days left.
    Within7,
    /// Less than 14 days left.
    Within14,
    /// Less than 30 days left.
    Within30,
    /// Fine.
    Ok,
}

impl ExpiryStatus {
    /// The status for a certificate `days_left` whole days from its notAfter (`expired` once past it).
    pub fn classify(expired: bool, days_left: i64) -> Self {
        match days_left {
            _ if expired => Self::Expired,
            d if d < 7 => Self::Within7,
            d if d < 14 => Self::Within14,
            d if d < EXPIRY_WARNING_DAYS => Self::Within30,
            _ => Self::Ok,
        }
    }

    /// A word for a badge or a CSV column.
    pub fn label(self) -> &'static str {
        match self {
            Self::Expired => "expired",
            Self::Within7 => "under 7 days",
            Self::Within14 => "under 14 days",
            Self::Within30 => "under 30 days",
            Self::Ok => "ok",
        }
    }

    /// Whether something must be done (expired or inside an alert window).
    pub fn needs_action(self) -> bool {
        self != Self::Ok
    }

    /// A tone for the interface: `bad` (expired or a week left), `warn`, or `ok`.
    pub fn tone(self) -> &'static str {
        match self {
            Self::Expired | Self::Within7 => "bad",
            Self::Within14 | Self::Within30 => "warn",
            Self::Ok => "ok",
        }
    }
}

/// One certificate in the watch list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiryRow {
    /// What it is to the user ("Root CA", "Device sensor-01").
    pub label: String,
    /// Its subject.
    pub subject: String,
    /// Its notAfter.
    pub not_after: OffsetDateTime,
    /// Whole days from now (negative once expired).
    pub days_left: i64,
    /// Expired, soon, or fine.
    pub status: ExpiryStatus,
    /// SHA-1 thumbprint (as the hub's CA list shows it).
    pub sha1: String,
    /// SHA-256 thumbprint (what a self-signed device may be registered with).
    pub sha256: String,
    /// Its issuer.
    pub issuer: String,
    /// Its serial number.
    pub serial: String,
    /// Its notBefore.
    pub not_before: OffsetDateTime,
    /// Its key ("ECDSA P-256", "RSA 2048").
    pub key_type: String,
    /// Whether it is a CA.
    pub is_ca: bool,
    /// What to do about it, when something must be done.
    pub advice: Option<String>,
    /// A device certificate with a newer one for the same device in the list (renewed): its
    /// date no longer needs action.
    pub superseded: bool,
}

/// The watch list for `items` (label, certificate) at `now`, soonest expiry first.
pub fn expiry_report(
    items: &[(String, Certificate)],
    now: OffsetDateTime,
) -> Result<Vec<ExpiryRow>, PkiError> {
    let infos = items
        .iter()
        .map(|(label, cert)| Ok((label.clone(), cert.info()?)))
        .collect::<Result<Vec<_>, PkiError>>()?;
    let refs: Vec<(&str, &CertificateInfo)> = infos.iter().map(|(l, i)| (l.as_str(), i)).collect();
    Ok(expiry_rows(&refs, now))
}

/// [`expiry_report`] for certificates already read (a page holds each one's
/// [`CertificateInfo`]: thousands of devices are not parsed again at every change).
pub fn expiry_rows(infos: &[(&str, &CertificateInfo)], now: OffsetDateTime) -> Vec<ExpiryRow> {
    // The latest notAfter of each device's certificates: an earlier one was renewed.
    let mut latest = std::collections::HashMap::<&str, OffsetDateTime>::new();
    for (_, info) in infos {
        if let (false, Some(cn)) = (info.is_ca, info.common_name.as_deref()) {
            let e = latest.entry(cn).or_insert(info.not_after);
            *e = (*e).max(info.not_after);
        }
    }
    let mut rows: Vec<ExpiryRow> = infos
        .iter()
        .map(|&(label, info)| {
            let days_left = info.days_left(now);
            let status = ExpiryStatus::classify(now >= info.not_after, days_left);
            let superseded = !info.is_ca
                && info
                    .common_name
                    .as_deref()
                    .and_then(|cn| latest.get(cn))
                    .is_some_and(|l| *l > info.not_after);
            let advice = match (status, info.is_ca) {
                (ExpiryStatus::Ok, _) => None,
                (_, false) if superseded => Some("Renewed: a newer certificate for this device is listed. Once the device uses it, this one can go (a thumbprint device: retire it on the hub in Renew).".to_owned()),
                (ExpiryStatus::Expired, true) => Some("Expired: devices it signed can no longer connect. Make a new CA, upload and verify it, and re-issue the devices.".to_owned()),
                (_, true) => Some(format!("Expires {}: make the next CA now, upload and verify it next to this one (on DPS as the enrollment group's secondary), and re-issue devices before then.", format_utc(info.not_after))),
                (ExpiryStatus::Expired, false) => Some("Expired: the hub refuses it. Renew it (Renew, below: same CN, its own key) and install the new certificate on the device.".to_owned()),
                (_, false) => Some(format!("Expires {}: renew it before then (Renew, below: same CN, its own key) and install the new certificate on the device (a DPS device then registers again and stays on its hub).", format_utc(info.not_after))),
            };
            ExpiryRow {
                label: label.to_owned(),
                subject: info.subject.clone(),
                not_after: info.not_after,
                days_left,
                status,
                sha1: info.sha1.as_str().to_owned(),
                sha256: info.sha256.as_str().to_owned(),
                issuer: info.issuer.clone(),
                serial: info.serial.clone(),
                not_before: info.not_before,
                key_type: info.key_type.clone(),
                is_ca: info.is_ca,
                advice,
                superseded,
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        a.not_after
            .cmp(&b.not_after)
            .then_with(|| a.label.cmp(&b.label))
    });
    rows
}

/// The watch list as CSV (RFC 4180: CRLF, fields quoted when they hold `,`, `"` or line breaks):
/// an inventory of the page's certificates for a calendar, a monitoring system or a spreadsheet.
pub fn expiry_csv(rows: &[ExpiryRow]) -> String {
    expiry_csv_with(rows, &[], |_| Vec::new())
}

/// [`expiry_csv`] with more columns (`headers`), each row's values from `extra` (e.g. where a
/// device is registered, read from the hub and DPS).
pub fn expiry_csv_with(
    rows: &[ExpiryRow],
    headers: &[&str],
    extra: impl Fn(&ExpiryRow) -> Vec<String>,
) -> String {
    fn field(s: &str) -> String {
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_owned()
        }
    }
    let mut out = String::from(
        "label,subject,not_after_utc,days_left,status,sha1,sha256,issuer,serial,not_before_utc,key,ca",
    );
    for h in headers {
        out.push(',');
        out.push_str(&field(h));
    }
    out.push_str("\r\n");
    for r in rows {
        let not_after = format_rfc3339_utc(r.not_after);
        let more: Vec<String> = extra(r).iter().map(|v| field(v)).collect();
        out.push_str(
            &[
                field(&r.label),
                field(&r.subject),
                not_after,
                r.days_left.to_string(),
                r.status.label().to_owned(),
                r.sha1.clone(),
                r.sha256.clone(),
                field(&r.issuer),
                r.serial.clone(),
                format_rfc3339_utc(r.not_before),
                field(&r.key_type),
                if r.is_ca { "yes" } else { "no" }.to_owned(),
            ]
            .into_iter()
            .chain(more)
            .collect::<Vec<_>>()
            .join(","),
        );
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::{
        CertificateAuthority, DeviceCertParams, KeyAlgorithm, RootCaParams, ValidityDays,
    };
    use time::Duration;

    #[test]
    fn a_renewed_devices_old_certificate_is_marked_superseded() {
        let now = OffsetDateTime::now_utc();
        let ca = CertificateAuthority::create_root(&RootCaParams::default(), now).unwrap();
        let dev = |id: &str, days: u32| {
            ca.issue_device_identity(
                &DeviceCertParams {
                    device_id: crate::contract::DeviceId::parse(id).unwrap(),
                    validity: ValidityDays::new(days).unwrap(),
                },
                KeyAlgorithm::EcdsaP256,
                now,
            )
            .unwrap()
            .certificate
        };
        let items = vec![
            ("new".to_owned(), dev("d1", 365)),
            ("old".to_owned(), dev("d1", 5)),
            ("other".to_owned(), dev("d2", 5)),
        ];
        let rows = expiry_report(&items, now).unwrap();
        let row = |l: &str| rows.iter().find(|r| r.label == l).unwrap();
        assert!(row("old").superseded);
        assert!(row("old").advice.as_deref().unwrap().starts_with("Renewed"));
        assert!(!row("new").superseded && !row("other").superseded);
        assert_eq!(row("other").status, ExpiryStatus::Within7);
    }

    #[test]
    fn soonest_first_with_status_advice_and_csv() {
        let t0 = OffsetDateTime::from_unix_timestamp(1_780_000_000).unwrap();
        let ca = CertificateAuthority::create_root(&RootCaParams::default(), t0).unwrap();
        let dev = |id: &str, days: u32| {
            ca.issue_device_identity(
                &DeviceCertParams {
                    device_id: crate::contract::DeviceId::parse(id).unwrap(),
                    validity: ValidityDays::new(days).unwrap(),
                },
                KeyAlgorithm::EcdsaP256,
                t0,
            )
            .unwrap()
            .certificate
        };
        let items = vec![
            ("Root CA".to_owned(), ca.certificate().clone()),
            ("Device \"long\", lived".to_owned(), dev("long", 400)),
            ("Device short".to_owned(), dev("short", 40)),
            ("Device gone".to_owned(), dev("gone", 5)),
        ];
        // 20 days on: "gone" has expired, "short" expires in under 30 days.
        let now = t0 + Duration::days(20);
        let rows = expiry_report(&items, now).unwrap();
        let order: Vec<_> = rows.iter().map(|r| (r.label.as_str(), r.status)).collect();
        assert_eq!(
            order,
            [
                ("Device gone", ExpiryStatus::Expired),
                ("Device short", ExpiryStatus::Within30),
                ("Device \"long\", lived", ExpiryStatus::Ok),
                ("Root CA", ExpiryStatus::Ok),
            ]
        );
        assert_eq!(rows[1].days_left, 20);
        assert!(rows[0]
            .advice
            .as_deref()
            .unwrap()
            .contains("the hub refuses it"));
        assert!(rows[1]
            .advice
            .as_deref()
            .unwrap()
            .contains("renew it before then"));
        assert!(rows[3].advice.is_none());
        let csv = expiry_csv(&rows);
        let lines: Vec<_> = csv.split("\r\n").collect();
        assert_eq!(
            lines[0],
            "label,subject,not_after_utc,days_left,status,sha1,sha256,issuer,serial,not_before_utc,key,ca"
        );
        // The inventory columns: SHA-256, the issuer quoted (it holds commas), serial, key, CA.
        assert_eq!(rows[0].sha256.len(), 64);
        assert!(
            lines[1].contains(&format!(
                ",{},\"C=US, O=MyOrg, CN=IoT Root CA\",{},",
                rows[0].sha256, rows[0].serial
            )),
            "{csv}"
        );
        assert!(lines[1].ends_with(",ECDSA P-256,no"), "{csv}");
        assert!(lines[4].ends_with(",yes"), "{csv}");
        assert!(lines[1].starts_with("Device gone,CN=gone,"), "{csv}");
        assert!(lines[1].contains(",-15,expired,"), "{csv}");
        assert!(lines[2].contains(",20,under 30 days,"), "{csv}");
        assert!(
            lines[3].starts_with("\"Device \"\"long\"\", lived\",CN=long,"),
            "{csv}"
        );
        assert!(lines[2].contains("T20:"), "{csv}");
    }

    #[test]
    fn alerts_at_thirty_fourteen_and_seven_days() {
        let t0 = OffsetDateTime::from_unix_timestamp(1_780_000_000).unwrap();
        let ca = CertificateAuthority::create_root(&RootCaParams::default(), t0).unwrap();
        let cert = ca
            .issue_device_identity(
                &DeviceCertParams {
                    device_id: crate::contract::DeviceId::parse("d").unwrap(),
                    validity: ValidityDays::new(60).unwrap(),
                },
                KeyAlgorithm::EcdsaP256,
                t0,
            )
            .unwrap()
            .certificate;
        let not_after = cert.info().unwrap().not_after;
        // (days before notAfter, status): each boundary on both sides.
        let cases = [
            (31, ExpiryStatus::Ok),
            (30, ExpiryStatus::Ok),
            (29, ExpiryStatus::Within30),
            (14, ExpiryStatus::Within30),
            (13, ExpiryStatus::Within14),
            (7, ExpiryStatus::Within14),
            (6, ExpiryStatus::Within7),
            (0, ExpiryStatus::Expired),
            (-3, ExpiryStatus::Expired),
        ];
        for (days_before, want) in cases {
            let now = not_after - Duration::days(days_before);
            let rows = expiry_report(&[("d".to_owned(), cert.clone())], now).unwrap();
            assert_eq!(rows[0].status, want, "{days_before} days before notAfter");
            assert_eq!(rows[0].status.needs_action(), want != ExpiryStatus::Ok);
        }
        // One minute before notAfter is still "under 7 days", not yet expired.
        let rows =
            expiry_report(&[("d".to_owned(), cert)], not_after - Duration::minutes(1)).unwrap();
        assert_eq!(rows[0].status, ExpiryStatus::Within7);
        assert!(
            ExpiryStatus::Expired < ExpiryStatus::Within7
                && ExpiryStatus::Within30 < ExpiryStatus::Ok
        );
    }
}

//! What the expiry watch says over its rows: the summary line and its tone, which rows a search
//! finds, and what reading the registrations found.

use super::expiry::{ExpiryRow, ExpiryStatus, EXPIRY_WARNING_DAYS};

/// The summary line over the list, and its tone (`ok`, `warn`, `bad`): how many are expired and
/// in each alert window (30, 14, 7 days).
pub fn expiry_summary(rows: &[ExpiryRow]) -> (String, &'static str) {
    // A renewed device's old certificate needs nothing: it is not counted as an alert.
    let live = || rows.iter().filter(|r| !r.superseded);
    let count = |s: ExpiryStatus| live().filter(|r| r.status == s).count();
    let worst = live().map(|r| r.status).min().unwrap_or(ExpiryStatus::Ok);
    if worst == ExpiryStatus::Ok {
        let text = if rows.len() == 1 {
            format!("The certificate is valid for more than {EXPIRY_WARNING_DAYS} days.")
        } else {
            format!(
                "All {} certificates are valid for more than {EXPIRY_WARNING_DAYS} days.",
                rows.len()
            )
        };
        return (text, "ok");
    }
    let parts: Vec<String> = [
        (ExpiryStatus::Expired, "expired"),
        (ExpiryStatus::Within7, "expiring within 7 days"),
        (ExpiryStatus::Within14, "within 14 days"),
        (ExpiryStatus::Within30, "within 30 days"),
    ]
    .into_iter()
    .filter_map(|(s, what)| match count(s) {
        0 => None,
        n => Some(format!("{n} {what}")),
    })
    .collect();
    (
        format!("{}, of {}.", parts.join(", "), rows.len()),
        worst.tone(),
    )
}

/// Whether a search for `needle` (lowercase, trimmed; empty finds all) finds `row` by its name,
/// subject, issuer, serial or a thumbprint.
pub fn expiry_row_matches(row: &ExpiryRow, needle: &str) -> bool {
    needle.is_empty()
        || [
            &row.label,
            &row.subject,
            &row.issuer,
            &row.serial,
            &row.sha1,
            &row.sha256,
        ]
        .iter()
        .any(|f| f.to_lowercase().contains(needle))
}

/// After reading where `total` device certificates are registered.
pub fn registrations_read(total: usize) -> String {
    format!(
        "Read where {total} device certificate{} are registered, on the hub and DPS.",
        if total == 1 { "" } else { "s" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::OffsetDateTime;

    fn row(label: &str, status: ExpiryStatus, superseded: bool) -> ExpiryRow {
        let t = OffsetDateTime::UNIX_EPOCH;
        ExpiryRow {
            label: label.into(),
            subject: format!("CN={label}"),
            not_after: t,
            days_left: 0,
            status,
            sha1: "AB01".into(),
            sha256: "CD02".into(),
            issuer: "CN=Root".into(),
            serial: "0F".into(),
            not_before: t,
            key_type: "ECDSA P-256".into(),
            is_ca: false,
            advice: None,
            superseded,
        }
    }

    #[test]
    fn all_valid_is_said_in_the_singular_and_plural() {
        assert_eq!(
            expiry_summary(&[row("a", ExpiryStatus::Ok, false)]),
            (
                "The certificate is valid for more than 30 days.".into(),
                "ok"
            )
        );
        let (text, tone) = expiry_summary(&[
            row("a", ExpiryStatus::Ok, false),
            row("b", ExpiryStatus::Ok, false),
        ]);
        assert_eq!(
            (text.as_str(), tone),
            ("All 2 certificates are valid for more than 30 days.", "ok")
        );
    }

    #[test]
    fn alerts_are_counted_by_window_and_renewed_ones_left_out() {
        let rows = [
            row("a", ExpiryStatus::Expired, false),
            row("b", ExpiryStatus::Within14, false),
            row("c", ExpiryStatus::Within14, false),
            row("old", ExpiryStatus::Within7, true),
        ];
        assert_eq!(
            expiry_summary(&rows),
            ("1 expired, 2 within 14 days, of 4.".into(), "bad")
        );
        // Only a renewed certificate is due: nothing to do.
        assert_eq!(expiry_summary(&rows[3..]).1, "ok");
    }

    #[test]
    fn search_finds_any_field_ignoring_case() {
        let r = row("Sensor-1", ExpiryStatus::Ok, false);
        assert!(expiry_row_matches(&r, ""));
        assert!(expiry_row_matches(&r, "sensor-1"));
        assert!(expiry_row_matches(&r, "cd02"));
        assert!(expiry_row_matches(&r, "cn=root"));
        assert!(!expiry_row_matches(&r, "other"));
        assert!(registrations_read(1).starts_with("Read where 1 device certificate are"));
    }
}

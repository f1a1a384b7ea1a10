//! Dates as this tool writes them: for people, and for files other programs read.

use time::OffsetDateTime;

/// `2026-11-22 08:12:00 UTC`: unambiguous for people in any locale.
pub fn format_utc(t: OffsetDateTime) -> String {
    utc_string(t, ' ', " UTC")
}

/// `2026-11-22T08:12:00Z` (RFC 3339): for files other programs read.
pub(super) fn format_rfc3339_utc(t: OffsetDateTime) -> String {
    utc_string(t, 'T', "Z")
}

fn utc_string(t: OffsetDateTime, separator: char, zone: &str) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}{separator}{:02}:{:02}:{:02}{zone}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

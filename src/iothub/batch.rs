//! Device ids for a batch: one per line (commas and spaces separate too), and ranges written
//! `prefix{1..100}suffix` or `sensor-{001..250}` (zero-padded to the start's width).

use std::collections::HashSet;
use std::fmt;

use crate::contract::{DeviceId, IdError};

/// Why a batch of device ids was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BatchError {
    /// No id was given.
    Empty,
    /// One entry is not a valid device id.
    Id {
        /// The entry as typed (after range expansion, the offending id).
        entry: String,
        /// Why.
        error: IdError,
    },
    /// A `{start..end}` range is malformed.
    Range {
        /// The entry as typed.
        entry: String,
        /// What is wrong with it.
        detail: &'static str,
    },
    /// More ids than one batch takes.
    TooMany {
        /// How many the text asks for.
        count: u64,
        /// The most one batch takes.
        max: usize,
    },
    /// The same id twice.
    Duplicate {
        /// The repeated id.
        id: String,
    },
}

impl fmt::Display for BatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str(
                "Enter device ids, one per line, or a range such as sensor-{001..100}.",
            ),
            Self::Id { entry, error } => write!(f, "\"{entry}\": {error}"),
            Self::Range { entry, detail } => write!(
                f,
                "\"{entry}\": {detail}. Write a range as prefix{{START..END}}suffix, e.g. sensor-{{001..100}}."
            ),
            Self::TooMany { count, max } => write!(
                f,
                "That is {count} devices; one batch makes at most {max}. Split it into several batches."
            ),
            Self::Duplicate { id } => write!(f, "\"{id}\" is listed twice; each device needs its own id."),
        }
    }
}

impl std::error::Error for BatchError {}

/// The ids `text` lists, in order, at most `max` of them.
pub fn parse_device_ids(text: &str, max: usize) -> Result<Vec<DeviceId>, BatchError> {
    let entries: Vec<&str> = text
        .split(|c: char| c == '\n' || c == ',' || c.is_whitespace())
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .collect();
    if entries.is_empty() {
        return Err(BatchError::Empty);
    }
    // Count first, so a range of a billion is refused without being expanded.
    let mut count: u64 = 0;
    let mut parsed = Vec::with_capacity(entries.len());
    for entry in &entries {
        let range = parse_range(entry)?;
        count = count.saturating_add(range.as_ref().map_or(1, |r| r.end - r.start + 1));
        parsed.push((*entry, range));
    }
    if count > max as u64 {
        return Err(BatchError::TooMany { count, max });
    }
    let mut ids = Vec::with_capacity(count as usize);
    let mut seen = HashSet::new();
    for (entry, range) in parsed {
        let mut push = |id: String| -> Result<(), BatchError> {
            let parsed = DeviceId::parse(&id).map_err(|error| BatchError::Id {
                entry: id.clone(),
                error,
            })?;
            if !seen.insert(id.clone()) {
                return Err(BatchError::Duplicate { id });
            }
            ids.push(parsed);
            Ok(())
        };
        match range {
            None => push(entry.to_owned())?,
            Some(r) => {
                for n in r.start..=r.end {
                    push(format!(
                        "{}{:0width$}{}",
                        r.prefix,
                        n,
                        r.suffix,
                        width = r.width
                    ))?;
                }
            }
        }
    }
    Ok(ids)
}

struct Range<'a> {
    prefix: &'a str,
    suffix: &'a str,
    start: u64,
    end: u64,
    width: usize,
}

/// `prefix{start..end}suffix`, or `None` when the entry has no braces.
fn parse_range(entry: &str) -> Result<Option<Range<'_>>, BatchError> {
    let Some(open) = entry.find('{') else {
        if entry.contains('}') {
            return Err(range_error(entry, "it has a '}' without a '{'"));
        }
        return Ok(None);
    };
    let close = entry[open..]
        .find('}')
        .map(|c| open + c)
        .ok_or_else(|| range_error(entry, "its '{' is not closed"))?;
    if entry[close + 1..].contains('{') {
        return Err(range_error(entry, "only one range per id is supported"));
    }
    let inner = &entry[open + 1..close];
    let (a, b) = inner
        .split_once("..")
        .ok_or_else(|| range_error(entry, "the braces must hold START..END"))?;
    let number = |s: &str| -> Result<u64, BatchError> {
        if s.is_empty() || !s.chars().all(|c| c.is_ascii_digit()) || s.len() > 9 {
            return Err(range_error(
                entry,
                "START and END must be whole numbers (up to 9 digits)",
            ));
        }
        s.parse()
            .map_err(|_| range_error(entry, "START and END must be whole numbers"))
    };
    let (start, end) = (number(a)?, number(b)?);
    if start > end {
        return Err(range_error(entry, "START is greater than END"));
    }
    Ok(Some(Range {
        prefix: &entry[..open],
        suffix: &entry[close + 1..],
        start,
        end,
        width: if a.len() > 1 && a.starts_with('0') {
            a.len()
        } else {
            0
        },
    }))
}

fn range_error(entry: &str, detail: &'static str) -> BatchError {
    BatchError::Range {
        entry: entry.to_owned(),
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(text: &str) -> Vec<String> {
        parse_device_ids(text, 1000)
            .unwrap()
            .iter()
            .map(|d| d.as_str().to_owned())
            .collect()
    }

    #[test]
    fn lists_and_ranges_expand_in_order() {
        assert_eq!(ids("a\nb, c  d"), ["a", "b", "c", "d"]);
        assert_eq!(
            ids("sensor-{001..003}"),
            ["sensor-001", "sensor-002", "sensor-003"]
        );
        assert_eq!(ids("x{9..11}.lab"), ["x9.lab", "x10.lab", "x11.lab"]);
        assert_eq!(ids("gw\nnode-{0..1}"), ["gw", "node-0", "node-1"]);
        // Padding follows the start's width even when the end is wider.
        assert_eq!(ids("d{08..10}"), ["d08", "d09", "d10"]);
    }

    #[test]
    fn bad_batches_are_refused_by_name() {
        let err = |t: &str| parse_device_ids(t, 100).unwrap_err().to_string();
        assert!(err("  \n ").contains("Enter device ids"));
        assert!(err("ok\nbad/one").contains("\"bad/one\": Character 4 ('/')"));
        assert!(err("a{1..}").contains("whole numbers"));
        assert!(err("a{5..2}").contains("START is greater than END"));
        assert!(err("a{1..2").contains("not closed"));
        assert!(err("a}").contains("without a '{'"));
        assert!(err("a{1..2}{3..4}").contains("only one range"));
        assert!(err("s{1..999999999}")
            .contains("That is 999999999 devices; one batch makes at most 100"));
        assert!(err("s{1..1000000000}").contains("up to 9 digits"));
        assert!(err("s{1..101}").contains("101 devices"));
        assert!(err("a\nb\na").contains("\"a\" is listed twice"));
        assert!(err("s{1..3}\ns2").contains("\"s2\" is listed twice"));
        assert!(err(&format!("{}{{1..2}}", "x".repeat(64))).contains("65 characters"));
    }
}

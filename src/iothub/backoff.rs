//! The client's answer to a throttled call: wait, then send it again.
//!
//! IoT Hub answers 429 when an operation throttle is exceeded and "the client should back-off and
//! retry" (Microsoft: `articles/iot-hub/iot-hub-devguide-quotas-throttling.md`, "Operation
//! throttles"). The wait is exponential backoff with full jitter: before retry `n` a time drawn
//! uniformly from `[0, min(cap, base * 2^(n-1))]`, so clients throttled together do not come back
//! together. A `Retry-After` the service sends (ARM does, on its own 429s) is a floor: the client
//! never comes back sooner than asked. The random draw and the sleeping are passed in (a seeded
//! [`Jitter`], the transport's `sleep`), so the policy is plain functions that tests pin.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// How a throttled call is sent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Sends of one call at most, the first included; 1 never retries.
    pub max_attempts: u32,
    /// The ceiling of the first wait; it doubles with each retry.
    pub base: Duration,
    /// No drawn wait is longer than this.
    pub cap: Duration,
}

impl Default for RetryPolicy {
    /// A cap of one minute: the registry throttle refills a minute's allowance in a minute, and a
    /// bulk call of 100 on one S1 unit needs all of it (azure-iot-common's throttled retry waits
    /// 10 to 60 seconds for the same reason). Ten sends give a throttled call about two minutes
    /// of expected waiting, inside the five minutes a registry token lives.
    fn default() -> Self {
        Self {
            max_attempts: 10,
            base: Duration::from_secs(1),
            cap: Duration::from_secs(60),
        }
    }
}

/// A `Retry-After` longer than this is not waited for: the call's SAS token (five minutes) would
/// have expired by then, so the call fails with the service's answer instead.
pub const RETRY_AFTER_MAX: Duration = Duration::from_secs(300);

/// Whether an answer's status means "not done, send it again later": 429 (a throttle) and 503
/// (the service busy). Neither applied the call, so sending it again is safe for any method.
pub fn is_retryable_status(status: u16) -> bool {
    matches!(status, 429 | 503)
}

/// The wait before retry `retry` (1 for the first), or `None` when the policy's attempts are spent
/// (or the service asks for more than [`RETRY_AFTER_MAX`]). `random` is a draw in `[0, 1)`.
pub fn retry_delay(
    policy: &RetryPolicy,
    retry: u32,
    retry_after: Option<Duration>,
    random: f64,
) -> Option<Duration> {
    if retry == 0 || retry >= policy.max_attempts {
        return None;
    }
    if retry_after.is_some_and(|d| d > RETRY_AFTER_MAX) {
        return None;
    }
    let doublings = retry.saturating_sub(1).min(31);
    let ceiling = policy
        .base
        .checked_mul(1u32 << doublings)
        .unwrap_or(policy.cap)
        .min(policy.cap);
    let drawn = ceiling.mul_f64(random.clamp(0.0, 1.0));
    Some(retry_after.map_or(drawn, |asked| asked.max(drawn)))
}

/// Reads a `Retry-After` header (RFC 9110 §10.2.3): delay-seconds, or an HTTP-date
/// (`Sun, 06 Nov 1994 08:49:37 GMT`) counted from `now_unix`; `None` when it is neither.
pub fn parse_retry_after(value: &str, now_unix: u64) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return value.parse().ok().map(Duration::from_secs);
    }
    let at = http_date(value)?;
    Some(Duration::from_secs(
        u64::try_from(at).ok()?.saturating_sub(now_unix),
    ))
}

/// The Unix time of an IMF-fixdate, the form HTTP dates are sent in.
fn http_date(value: &str) -> Option<i64> {
    let parts: Vec<&str> = value.split_ascii_whitespace().collect();
    let [_, day, month, year, clock, "GMT"] = parts.as_slice() else {
        return None;
    };
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| m == month)?;
    let month = time::Month::try_from(u8::try_from(month + 1).ok()?).ok()?;
    let date = time::Date::from_calendar_date(year.parse().ok()?, month, day.parse().ok()?).ok()?;
    let hms: Vec<u8> = clock
        .split(':')
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    let [h, m, s] = hms.as_slice() else {
        return None;
    };
    Some(
        date.with_hms(*h, *m, *s)
            .ok()?
            .assume_utc()
            .unix_timestamp(),
    )
}

/// The random draws of the backoff: SplitMix64 from a seed. Not for secrets; it only spreads
/// clients apart. A client seeds it from the system's random source ([`Jitter::from_entropy`]);
/// tests seed it with a constant.
#[derive(Debug)]
pub struct Jitter(AtomicU64);

impl Jitter {
    /// A sequence fixed by `seed`.
    pub fn seeded(seed: u64) -> Self {
        Self(AtomicU64::new(seed))
    }

    /// A sequence seeded from the system's random source (a constant if it fails: the waits are
    /// then still bounded, only less spread).
    pub fn from_entropy() -> Self {
        let mut seed = [0u8; 8];
        let _ = getrandom::fill(&mut seed);
        Self::seeded(u64::from_le_bytes(seed) ^ 0x5EED_B4C0_FF00_0001)
    }

    /// The next draw, in `[0, 1)`.
    pub fn next_unit(&self) -> f64 {
        let state = self
            .0
            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
            .wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        // The top 53 bits, as a double's mantissa holds them.
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

impl Clone for Jitter {
    fn clone(&self) -> Self {
        Self::seeded(self.0.load(Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 5,
            base: Duration::from_millis(100),
            cap: Duration::from_millis(500),
        }
    }

    #[test]
    fn the_ceiling_doubles_per_retry_up_to_the_cap() {
        // A draw of (almost) 1 shows the ceiling itself.
        let top = |retry| retry_delay(&policy(), retry, None, 0.999_999).unwrap();
        let ms = |d: Duration| d.as_millis();
        assert_eq!(ms(top(1)), 99);
        assert_eq!(ms(top(2)), 199);
        assert_eq!(ms(top(3)), 399);
        assert_eq!(ms(top(4)), 499, "capped");
        assert_eq!(retry_delay(&policy(), 2, None, 0.0), Some(Duration::ZERO));
        assert_eq!(
            retry_delay(&policy(), 2, None, 0.5),
            Some(Duration::from_millis(100))
        );
    }

    #[test]
    fn attempts_are_capped() {
        assert!(retry_delay(&policy(), 4, None, 0.5).is_some());
        assert_eq!(retry_delay(&policy(), 5, None, 0.5), None, "5 sends made");
        let once = RetryPolicy {
            max_attempts: 1,
            ..policy()
        };
        assert_eq!(retry_delay(&once, 1, None, 0.5), None);
    }

    #[test]
    fn a_retry_after_is_a_floor_and_a_huge_one_gives_up() {
        let asked = Some(Duration::from_secs(2));
        assert_eq!(
            retry_delay(&policy(), 1, asked, 0.5),
            Some(Duration::from_secs(2)),
            "longer than the cap, still honoured"
        );
        assert_eq!(
            retry_delay(&policy(), 3, Some(Duration::from_millis(10)), 0.5),
            Some(Duration::from_millis(200)),
            "the draw is longer than asked"
        );
        assert_eq!(
            retry_delay(&policy(), 1, Some(Duration::from_secs(301)), 0.5),
            None
        );
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        assert_eq!(parse_retry_after(" 7 ", 0), Some(Duration::from_secs(7)));
        // 1994-11-06T08:49:37Z is 784111777.
        let date = "Sun, 06 Nov 1994 08:49:37 GMT";
        assert_eq!(
            parse_retry_after(date, 784_111_770),
            Some(Duration::from_secs(7))
        );
        assert_eq!(parse_retry_after(date, 784_111_999), Some(Duration::ZERO));
        for bad in ["", "soon", "-3", "1.5", "Sun, 06 Nov 1994 08:49 GMT"] {
            assert_eq!(parse_retry_after(bad, 0), None, "{bad:?}");
        }
    }

    #[test]
    fn only_throttled_and_busy_answers_are_retried() {
        assert!(is_retryable_status(429));
        assert!(is_retryable_status(503));
        for s in [200, 400, 401, 404, 409, 412, 500] {
            assert!(!is_retryable_status(s), "{s}");
        }
    }

    #[test]
    fn jitter_is_fixed_by_its_seed_and_spread_over_the_unit_interval() {
        let a: Vec<f64> = (0..5).map(|_| 0.0).collect::<Vec<_>>();
        let j = Jitter::seeded(42);
        let first: Vec<f64> = a.iter().map(|_| j.next_unit()).collect();
        let k = Jitter::seeded(42);
        let again: Vec<f64> = a.iter().map(|_| k.next_unit()).collect();
        assert_eq!(first, again);
        let draws: Vec<f64> = (0..10_000).map(|_| j.next_unit()).collect();
        assert!(draws.iter().all(|d| (0.0..1.0).contains(d)));
        let mean = draws.iter().sum::<f64>() / draws.len() as f64;
        assert!((mean - 0.5).abs() < 0.02, "{mean}");
        assert_ne!(Jitter::seeded(1).next_unit(), Jitter::seeded(2).next_unit());
    }
}

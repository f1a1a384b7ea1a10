//! IoT Hub's operation throttles for a tier and unit count (`--tier S1 --units 1`); off unless
//! asked for. The limits are the core's (`hubcert::iothub::HubTier`, Microsoft's table in
//! `articles/iot-hub/iot-hub-devguide-quotas-throttling.md`):
//!
//! - identity registry operations: each single call counts one, a bulk call one per device it
//!   names ("only two of these bulk requests [of 50 devices] are accepted per minute", same
//!   article); over the limit the call is answered 429 `ThrottlingException` (429001) in the data
//!   plane's error body, `{"Message":"ErrorCode:ThrottlingException;…","ExceptionMessage":"Tracking
//!   ID:… Timestamp:…"}`, the shape a throttled registry call gets from IoT Hub (a .NET
//!   `ThrottlingException` quoted in Azure-Samples/Iot-Telemetry-Simulator#39:
//!   `{"Message":"ErrorCode:ThrottlingBacklogTimeout;The request has been throttled…","ExceptionMessage":"Tracking ID:…-TimeStamp:…"}`),
//!   which azure-iothub's `RestApiClient.translateError` turns into a `ThrottlingError`. No
//!   `Retry-After` is sent: Microsoft documents none for these answers.
//! - new device connections: a CONNECT over the limit is answered CONNACK 3 (server unavailable)
//!   and closed. Microsoft does not document what a throttled MQTT connection gets (its C SDK team:
//!   429 "is only respective to the HTTP transport. For MQTT the connection is closed by the hub",
//!   azure-iot-sdk-c#1766); 3 is the refusal the SDKs retry (Java's `MqttServerUnavailableException`
//!   is retryable, Python's maps to `ConnectionFailedError`), where 5 would read as bad credentials.
//! - device-to-cloud sends: a send over the limit closes the device's connection without an
//!   acknowledgement, as the hub does (azure-iot-sdk-c#1766 above; MicrosoftDocs/azure-docs#107838:
//!   on 429002 the hub "will proactively disconnect the device").
//! - queries (`POST /devices/query`): each call counts one, a page asked for with a continuation
//!   too (each is a request of its own); over the limit the call is answered 429
//!   `ThrottlingException` in the same error body as the registry's, which azure-iothub's
//!   `Registry.createQuery(...).next`/`nextAsTwin` report as a `ThrottlingError` and azure-iot-hub's
//!   `query_iot_hub` as an `HttpOperationError` of status 429. The limit is [`queries_per_minute`].
//!
//! Each throttle is a token bucket holding one window's allowance (a minute for the registry, a
//! second for connections and sends) and refilled at the published rate: a burst up to the
//! allowance passes, then calls pass at the rate. IoT Hub first queues what is over the limit for
//! a while ("traffic shaping") and refuses when its queue is full; localhub refuses at once, so a
//! client's backoff is exercised without minutes of waiting. The clock can run faster than the
//! wall clock (`--time-scale 60`: a minute's allowance refills in a second) for benchmarks.
//!
//! A leaf module: the registry's answer is built by `extract::RegistryOperation` and the bulk
//! call, the MQTT side's in `mqtt`.

use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use hubcert::iothub::HubTier;

/// The data plane's code for a throttled call (`hubcert::contract::HubErrorCode::ThrottlingException`).
pub(crate) const THROTTLING_EXCEPTION: &str = "ThrottlingException";

/// How localhub throttles: as a hub of this tier and unit count.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Throttling {
    /// The tier whose limits apply.
    pub tier: HubTier,
    /// Units of the tier (at least 1).
    pub units: u32,
    /// How many times faster than the wall clock the throttles' clock runs (1 in real time; 60
    /// makes a minute's allowance refill in a second).
    pub time_scale: f64,
}

impl Throttling {
    /// `units` units of `tier`, in real time.
    pub fn new(tier: HubTier, units: u32) -> Self {
        Self {
            tier,
            units: units.max(1),
            time_scale: 1.0,
        }
    }

    /// Queries a minute at these settings ([`queries_per_minute`]).
    pub fn queries_per_minute(&self) -> u64 {
        queries_per_minute(self.tier, self.units)
    }
}

/// Queries a minute on `units` units of `tier`: Microsoft's table of operation throttles
/// (MicrosoftDocs/azure-docs `articles/iot-hub/iot-hub-devguide-quotas-throttling.md`, "Basic and
/// standard tier operations", the row "Queries": "20/min/unit" under "Free, B1, and S1" and under
/// "B2 and S2", "1,000/min/unit" under "B3 and S3"). Per unit on every tier, Free included (it
/// shares S1's column).
pub(crate) fn queries_per_minute(tier: HubTier, units: u32) -> u64 {
    let per_unit = match tier {
        HubTier::F1 | HubTier::B1 | HubTier::S1 | HubTier::B2 | HubTier::S2 => 20,
        HubTier::B3 | HubTier::S3 => 1_000,
    };
    per_unit * u64::from(units.max(1))
}

/// A token bucket.
#[derive(Debug)]
struct Bucket {
    capacity: f64,
    per_second: f64,
    tokens: f64,
    last: Instant,
}

impl Bucket {
    /// A full bucket of one `window_seconds` of `per_second`.
    fn new(per_second: f64, window_seconds: f64) -> Self {
        let capacity = per_second * window_seconds;
        Self {
            capacity,
            per_second,
            tokens: capacity,
            last: Instant::now(),
        }
    }

    /// Takes `cost` tokens if the bucket holds them, after refilling it for the (scaled) time
    /// since the last call. A cost above the capacity is taken as a full bucket, so a call is
    /// never refused for good.
    fn take(&mut self, cost: f64, now: Instant, time_scale: f64) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64() * time_scale;
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.capacity);
        self.last = now;
        let cost = cost.min(self.capacity);
        if self.tokens + 1e-9 >= cost {
            self.tokens -= cost;
            true
        } else {
            false
        }
    }
}

/// The hub's throttles while it runs.
#[derive(Debug)]
pub(crate) struct Throttle {
    settings: Throttling,
    registry: Mutex<Bucket>,
    connections: Mutex<Bucket>,
    sends: Mutex<Bucket>,
    queries: Mutex<Bucket>,
}

impl Throttle {
    pub(crate) fn new(settings: Throttling) -> Self {
        let (tier, units) = (settings.tier, settings.units);
        Self {
            settings,
            registry: Mutex::new(Bucket::new(
                tier.registry_operations_per_minute(units) as f64 / 60.0,
                60.0,
            )),
            connections: Mutex::new(Bucket::new(
                tier.new_connections_per_second(units) as f64,
                1.0,
            )),
            sends: Mutex::new(Bucket::new(
                tier.device_to_cloud_sends_per_second(units) as f64,
                1.0,
            )),
            queries: Mutex::new(Bucket::new(
                queries_per_minute(tier, units) as f64 / 60.0,
                60.0,
            )),
        }
    }

    fn take(&self, bucket: &Mutex<Bucket>, cost: f64) -> bool {
        bucket.lock().unwrap_or_else(PoisonError::into_inner).take(
            cost,
            Instant::now(),
            self.settings.time_scale,
        )
    }

    fn hub_text(&self) -> String {
        let Throttling { tier, units, .. } = self.settings;
        match units {
            1 => format!("{tier} with 1 unit"),
            n => format!("{tier} with {n} units"),
        }
    }

    /// Counts `cost` identity registry operations; past the limit, why the call is refused (the
    /// data plane answers it 429 [`THROTTLING_EXCEPTION`]).
    pub(crate) fn registry(&self, cost: usize) -> Result<(), String> {
        if self.take(&self.registry, cost as f64) {
            return Ok(());
        }
        let limit = self
            .settings
            .tier
            .registry_operations_per_minute(self.settings.units);
        Err(format!(
            "The request has been throttled: identity registry operations are limited to {limit} a minute on {} (this call counts {cost}). Back off and try again.",
            self.hub_text()
        ))
    }

    /// Counts one query call (a page); past the limit, why it is refused (the data plane answers
    /// it 429 [`THROTTLING_EXCEPTION`]).
    pub(crate) fn query(&self) -> Result<(), String> {
        if self.take(&self.queries, 1.0) {
            return Ok(());
        }
        Err(format!(
            "The request has been throttled: queries are limited to {} a minute on {}. Back off and try again.",
            queries_per_minute(self.settings.tier, self.settings.units),
            self.hub_text()
        ))
    }

    /// Counts one new device connection; why it is refused past the limit.
    pub(crate) fn connection(&self) -> Result<(), String> {
        if self.take(&self.connections, 1.0) {
            return Ok(());
        }
        Err(format!(
            "throttled: new device connections are limited to {} a second on {}",
            self.settings
                .tier
                .new_connections_per_second(self.settings.units),
            self.hub_text()
        ))
    }

    /// Counts one device-to-cloud send; why the connection is closed past the limit.
    pub(crate) fn device_to_cloud(&self) -> Result<(), String> {
        if self.take(&self.sends, 1.0) {
            return Ok(());
        }
        Err(format!(
            "throttled: device-to-cloud sends are limited to {} a second on {}",
            self.settings
                .tier
                .device_to_cloud_sends_per_second(self.settings.units),
            self.hub_text()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_code_is_the_contracts() {
        assert_eq!(
            hubcert::contract::HubErrorCode::from(THROTTLING_EXCEPTION.to_owned()),
            hubcert::contract::HubErrorCode::ThrottlingException
        );
    }

    #[test]
    fn queries_are_twenty_a_minute_a_unit_and_a_thousand_on_b3_and_s3() {
        for tier in [
            HubTier::F1,
            HubTier::B1,
            HubTier::S1,
            HubTier::B2,
            HubTier::S2,
        ] {
            assert_eq!(queries_per_minute(tier, 1), 20, "{tier}");
            assert_eq!(queries_per_minute(tier, 3), 60, "{tier}");
        }
        for tier in [HubTier::B3, HubTier::S3] {
            assert_eq!(queries_per_minute(tier, 1), 1_000, "{tier}");
            assert_eq!(queries_per_minute(tier, 2), 2_000, "{tier}");
        }
        assert_eq!(queries_per_minute(HubTier::S1, 0), 20, "at least one unit");
    }

    #[test]
    fn the_twenty_first_query_in_a_minute_is_refused_and_the_registry_is_counted_apart() {
        let t = Throttle::new(Throttling {
            time_scale: 1e-9,
            ..Throttling::new(HubTier::S1, 1)
        });
        for i in 0..20 {
            assert_eq!(t.query(), Ok(()), "query {i}");
        }
        assert_eq!(
            t.query(),
            Err("The request has been throttled: queries are limited to 20 a minute on S1 with 1 unit. Back off and try again.".to_owned())
        );
        assert_eq!(
            t.registry(1),
            Ok(()),
            "a registry operation has its own bucket"
        );
    }

    #[test]
    fn a_bucket_passes_a_windows_allowance_then_the_rate() {
        // 100 a minute.
        let mut b = Bucket::new(100.0 / 60.0, 60.0);
        let t0 = b.last;
        assert!(b.take(50.0, t0, 1.0) && b.take(50.0, t0, 1.0));
        assert!(
            !b.take(50.0, t0, 1.0),
            "a third bulk of 50 in the same minute"
        );
        assert!(!b.take(50.0, t0 + Duration::from_secs(29), 1.0));
        assert!(
            b.take(50.0, t0 + Duration::from_secs(30), 1.0),
            "30 s refill 50"
        );
        // Scaled 60 times, a second is a minute.
        assert!(!b.take(1.0, t0 + Duration::from_secs(30), 60.0));
        assert!(b.take(100.0, t0 + Duration::from_secs(31), 60.0));
        // A call dearer than the bucket holds goes through on a full bucket.
        assert!(b.take(500.0, t0 + Duration::from_secs(40), 60.0));
    }
}

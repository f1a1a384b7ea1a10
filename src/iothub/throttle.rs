//! IoT Hub's operation throttles by tier and unit count, and what they mean for registering a
//! fleet through the registry.
//!
//! The figures are Microsoft's table (`articles/iot-hub/iot-hub-devguide-quotas-throttling.md`,
//! "Operation throttles", columns "Free, B1, and S1", "B2 and S2", "B3 and S3"):
//!
//! | throttle | F1, B1, S1 | B2, S2 | B3, S3 |
//! |---|---|---|---|
//! | identity registry operations | 100/min/unit | 100/min/unit | 5,000/min/unit |
//! | new device connections | higher of 100/s or 12/s/unit | 120/s/unit | 6,000/s/unit |
//! | device-to-cloud sends | higher of 100/s or 12/s/unit | 120/s/unit | 6,000/s/unit |
//!
//! A bulk registry call counts once per device it names: "if you want to submit bulk operation to
//! create 50 devices, and you have a S1 IoT Hub with one unit, only two of these bulk requests are
//! accepted per minute" (same article, "Identity registry operations throttle"). So bulk calls
//! save round trips, not throttle: 10,000 devices on one S1 unit take 100 minutes either way.

use std::fmt;
use std::str::FromStr;

/// An IoT Hub tier (the ARM SKU name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HubTier {
    /// Free.
    F1,
    /// Basic 1.
    B1,
    /// Basic 2.
    B2,
    /// Basic 3.
    B3,
    /// Standard 1.
    S1,
    /// Standard 2.
    S2,
    /// Standard 3.
    S3,
}

/// The throttle class of a tier: the table's three columns.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Column {
    FreeB1S1,
    B2S2,
    B3S3,
}

impl HubTier {
    /// Every tier.
    pub const ALL: [Self; 7] = [
        Self::F1,
        Self::B1,
        Self::B2,
        Self::B3,
        Self::S1,
        Self::S2,
        Self::S3,
    ];

    /// The SKU name (`S1`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::F1 => "F1",
            Self::B1 => "B1",
            Self::B2 => "B2",
            Self::B3 => "B3",
            Self::S1 => "S1",
            Self::S2 => "S2",
            Self::S3 => "S3",
        }
    }

    fn column(self) -> Column {
        match self {
            Self::F1 | Self::B1 | Self::S1 => Column::FreeB1S1,
            Self::B2 | Self::S2 => Column::B2S2,
            Self::B3 | Self::S3 => Column::B3S3,
        }
    }

    /// Identity registry operations (create, retrieve, list, update, delete) per minute, over
    /// `units` units; a bulk call counts each device it names.
    pub fn registry_operations_per_minute(self, units: u32) -> u64 {
        let per_unit = match self.column() {
            Column::FreeB1S1 | Column::B2S2 => 100,
            Column::B3S3 => 5_000,
        };
        per_unit * u64::from(units.max(1))
    }

    /// New device connections per second, over `units` units.
    pub fn new_connections_per_second(self, units: u32) -> u64 {
        let units = u64::from(units.max(1));
        match self.column() {
            // "Higher of 100/sec or 12/sec/unit".
            Column::FreeB1S1 => (12 * units).max(100),
            Column::B2S2 => 120 * units,
            Column::B3S3 => 6_000 * units,
        }
    }

    /// Device-to-cloud send operations per second, over `units` units (the same figures as new
    /// connections).
    pub fn device_to_cloud_sends_per_second(self, units: u32) -> u64 {
        self.new_connections_per_second(units)
    }
}

impl fmt::Display for HubTier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A tier name that is none of F1, B1, B2, B3, S1, S2, S3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownTier(pub String);

impl fmt::Display for UnknownTier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "'{}' is not an IoT Hub tier: use F1, B1, B2, B3, S1, S2 or S3",
            self.0
        )
    }
}

impl std::error::Error for UnknownTier {}

impl FromStr for HubTier {
    type Err = UnknownTier;

    fn from_str(s: &str) -> Result<Self, UnknownTier> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownTier(s.to_owned()))
    }
}

/// How devices are put in the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistrationMethod {
    /// One `PUT /devices/{id}` per device.
    OneByOne,
    /// `POST /devices` with up to 100 devices a call.
    Bulk,
}

/// How long registering a fleet takes at the registry throttle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationEstimate {
    /// Devices to register.
    pub devices: u64,
    /// HTTP calls it takes.
    pub calls: u64,
    /// The registry throttle it runs at, operations per minute.
    pub per_minute: u64,
    /// Seconds it takes at that rate, at least.
    pub seconds: u64,
    /// Whether DPS is the better path for this many devices.
    pub dps_advised: bool,
    /// A sentence for the page.
    pub text: String,
}

/// The most devices worth registering from the page, for a tier and unit count: those that go
/// through the registry throttle in [`DPS_ADVISED_AFTER_SECONDS`]. Past it DPS is the better
/// path: each device registers itself when it first connects, so nothing has to run (and stay
/// open) for the length of the fleet, and Microsoft says identity registry operations are meant for
/// "run-time use in device management and provisioning scenarios", large numbers going through
/// import jobs (the same article, "Identity registry operations throttle").
pub fn dps_threshold(tier: HubTier, units: u32) -> u64 {
    tier.registry_operations_per_minute(units) * DPS_ADVISED_AFTER_SECONDS / 60
}

/// Fifteen minutes: about as long as a page can be expected to stay open and in front, and three
/// times the five minutes a registry SAS token lives, so a longer run depends on retries and new
/// tokens going well for a long while.
pub const DPS_ADVISED_AFTER_SECONDS: u64 = 15 * 60;

/// How long registering `devices` on `units` units of `tier` takes at the published limit, and in
/// how many calls; with the advice for the page.
pub fn estimate_registration(
    devices: u64,
    tier: HubTier,
    units: u32,
    method: RegistrationMethod,
) -> RegistrationEstimate {
    let per_minute = tier.registry_operations_per_minute(units);
    let calls = match method {
        RegistrationMethod::OneByOne => devices,
        RegistrationMethod::Bulk => devices.div_ceil(crate::contract::BULK_MAX_DEVICES as u64),
    };
    // Each device is one operation whichever way it is sent.
    let seconds = (devices * 60).div_ceil(per_minute);
    let dps_advised = devices > dps_threshold(tier, units);
    let units_text = match units.max(1) {
        1 => "one unit".to_owned(),
        n => format!("{n} units"),
    };
    let calls_text = match method {
        RegistrationMethod::OneByOne => format!("{} calls", thousands(calls)),
        RegistrationMethod::Bulk => format!("{} bulk calls of up to 100", thousands(calls)),
    };
    let mut text = format!(
        "{} devices on {tier} with {units_text}: about {} at {} registry operations a minute ({calls_text}; a bulk call counts each device it names)",
        thousands(devices),
        duration_text(seconds),
        thousands(per_minute),
    );
    if dps_advised {
        text.push_str(&format!(
            ". Past {} devices DPS is the better path: with an enrollment group the devices register themselves when they first connect",
            thousands(dps_threshold(tier, units))
        ));
    }
    text.push('.');
    RegistrationEstimate {
        devices,
        calls,
        per_minute,
        seconds,
        dps_advised,
        text,
    }
}

/// What the register step says before many devices go: the estimate at the tier typed, or why the
/// units cannot be read (a hub has 1 to 200 units of a tier; S3 stops at 10). `None` for one
/// device, which takes no planning.
pub fn registration_outlook(
    devices: usize,
    tier: HubTier,
    units: &str,
) -> Option<Result<RegistrationEstimate, String>> {
    if devices < 2 {
        return None;
    }
    let most = if tier == HubTier::S3 { 10 } else { 200 };
    Some(match units.trim().parse::<u32>() {
        Ok(n) if (1..=most).contains(&n) => Ok(estimate_registration(
            devices as u64,
            tier,
            n,
            RegistrationMethod::Bulk,
        )),
        _ => Err(format!("Units: a number from 1 to {most} for {tier}.")),
    })
}

fn duration_text(seconds: u64) -> String {
    match seconds {
        0..=59 => match seconds {
            1 => "1 second".to_owned(),
            s => format!("{s} seconds"),
        },
        60..=5_999 => match seconds.div_ceil(60) {
            1 => "1 minute".to_owned(),
            m => format!("{m} minutes"),
        },
        _ => {
            let minutes = seconds.div_ceil(60);
            format!(
                "{} minutes ({:.1} hours)",
                thousands(minutes),
                seconds as f64 / 3600.0
            )
        }
    }
}

/// `n` with a comma between each three digits (10,000).
pub(super) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_outlook_is_for_many_devices_at_the_units_a_tier_has() {
        assert!(registration_outlook(1, HubTier::S1, "1").is_none());
        let e = registration_outlook(10_000, HubTier::S1, " 1 ")
            .unwrap()
            .unwrap();
        assert!(e.dps_advised && e.text.contains("DPS"), "{}", e.text);
        assert_eq!(e.calls, 100);
        let small = registration_outlook(50, HubTier::S1, "1").unwrap().unwrap();
        assert!(!small.dps_advised, "{}", small.text);
        assert!(registration_outlook(5, HubTier::S3, "11").unwrap().is_err());
        assert!(registration_outlook(5, HubTier::S2, "200").unwrap().is_ok());
        assert!(registration_outlook(5, HubTier::S1, "0").unwrap().is_err());
        assert!(registration_outlook(5, HubTier::S1, "two")
            .unwrap()
            .is_err());
    }

    #[test]
    fn the_published_table_by_tier_and_units() {
        use HubTier::*;
        for t in [F1, B1, S1, B2, S2] {
            assert_eq!(t.registry_operations_per_minute(1), 100, "{t}");
            assert_eq!(t.registry_operations_per_minute(3), 300, "{t}");
        }
        for t in [B3, S3] {
            assert_eq!(t.registry_operations_per_minute(2), 10_000, "{t}");
        }
        // Two S1 units: 24/s, but at least 100; nine: 108 (the article's examples).
        assert_eq!(S1.new_connections_per_second(2), 100);
        assert_eq!(S1.new_connections_per_second(9), 108);
        assert_eq!(F1.new_connections_per_second(1), 100);
        assert_eq!(S2.new_connections_per_second(2), 240);
        assert_eq!(S3.new_connections_per_second(1), 6_000);
        assert_eq!(S1.device_to_cloud_sends_per_second(9), 108);
        assert_eq!(B2.device_to_cloud_sends_per_second(1), 120);
        assert_eq!(S1.registry_operations_per_minute(0), 100, "no unit is one");
    }

    #[test]
    fn tiers_parse_by_sku_name() {
        for t in HubTier::ALL {
            assert_eq!(t.as_str().parse::<HubTier>(), Ok(t));
        }
        assert_eq!(" s2 ".parse::<HubTier>(), Ok(HubTier::S2));
        let e = "S4".parse::<HubTier>().unwrap_err();
        assert_eq!(e, UnknownTier("S4".into()));
        assert!(e.to_string().contains("F1, B1, B2, B3, S1, S2 or S3"));
    }

    #[test]
    fn ten_thousand_devices_on_one_s1_unit_take_a_hundred_minutes_either_way() {
        let one = estimate_registration(10_000, HubTier::S1, 1, RegistrationMethod::OneByOne);
        let bulk = estimate_registration(10_000, HubTier::S1, 1, RegistrationMethod::Bulk);
        assert_eq!(
            (one.calls, one.seconds, one.per_minute),
            (10_000, 6_000, 100)
        );
        assert_eq!((bulk.calls, bulk.seconds), (100, 6_000));
        assert!(one.dps_advised && bulk.dps_advised);
        assert_eq!(
            bulk.text,
            "10,000 devices on S1 with one unit: about 100 minutes (1.7 hours) at 100 registry \
             operations a minute (100 bulk calls of up to 100; a bulk call counts each device it \
             names). Past 1,500 devices DPS is the better path: with an enrollment group the \
             devices register themselves when they first connect."
        );
    }

    #[test]
    fn a_small_fleet_or_a_big_tier_needs_no_dps() {
        let small = estimate_registration(150, HubTier::S1, 1, RegistrationMethod::Bulk);
        assert_eq!((small.calls, small.seconds), (2, 90));
        assert!(!small.dps_advised);
        assert_eq!(
            small.text,
            "150 devices on S1 with one unit: about 2 minutes at 100 registry operations a minute \
             (2 bulk calls of up to 100; a bulk call counts each device it names)."
        );
        let s3 = estimate_registration(10_000, HubTier::S3, 2, RegistrationMethod::OneByOne);
        assert_eq!((s3.per_minute, s3.seconds), (10_000, 60));
        assert!(!s3.dps_advised);
        assert!(s3
            .text
            .starts_with("10,000 devices on S3 with 2 units: about 1 minute"));
    }

    #[test]
    fn the_dps_threshold_is_fifteen_minutes_of_registry_throttle() {
        assert_eq!(dps_threshold(HubTier::S1, 1), 1_500);
        assert_eq!(dps_threshold(HubTier::S2, 4), 6_000);
        assert_eq!(dps_threshold(HubTier::S3, 1), 75_000);
        let at = estimate_registration(1_500, HubTier::S1, 1, RegistrationMethod::Bulk);
        let past = estimate_registration(1_501, HubTier::S1, 1, RegistrationMethod::Bulk);
        assert!(!at.dps_advised && past.dps_advised);
        assert_eq!(
            estimate_registration(0, HubTier::S1, 1, RegistrationMethod::Bulk).calls,
            0
        );
    }
}

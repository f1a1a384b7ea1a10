//! IoT Hub's data-plane error codes: the `ErrorCode:` of an error body and the `errorCode` of a
//! bulk operation's per-device error. The names are those of azure-iot-hub's
//! `DeviceRegistryOperationError.error_code`; Microsoft numbers them (REST "IoT Hub API common
//! error codes", .NET `IotHubServiceErrorCode`): 400004 ArgumentInvalid, 400011
//! DeviceDefinedMultipleTimes ("present multiple times in the input request for bulk device
//! registry operations"), 404001 DeviceNotFound, 409001 DeviceAlreadyExists, 412001 (an etag that
//! does not match); TooManyDevices is the 413 .NET's bulk call maps to `TooManyDevicesException`;
//! 429001 ThrottlingException, a throttle exceeded (Microsoft:
//! `iot-hub-troubleshoot-error-429001-throttlingexception.md`, .NET `ErrorCode.ThrottlingException`).

use std::fmt;

use serde::{Deserialize, Serialize};

/// An IoT Hub error code, as the data plane writes it in `errorCode` (and in `ErrorCode:` of an
/// error body). The ones the registry's calls give; any other is kept as sent.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum HubErrorCode {
    /// An argument breaks the service's rules (a bad device id, an unknown auth type).
    ArgumentInvalid,
    /// `create` of an id the registry has.
    DeviceAlreadyExists,
    /// An id the registry does not have.
    DeviceNotFound,
    /// One id twice in one bulk call.
    DeviceDefinedMultipleTimes,
    /// The etag is not the current one.
    PreconditionFailed,
    /// More entries than one bulk call takes.
    TooManyDevices,
    /// An operation throttle of the hub's tier is exceeded (HTTP 429).
    ThrottlingException,
    /// A code this version does not know, as sent.
    Unknown(String),
}

impl HubErrorCode {
    const ALL: [Self; 7] = [
        Self::ArgumentInvalid,
        Self::DeviceAlreadyExists,
        Self::DeviceNotFound,
        Self::DeviceDefinedMultipleTimes,
        Self::PreconditionFailed,
        Self::TooManyDevices,
        Self::ThrottlingException,
    ];

    /// The code as the service writes it.
    pub fn as_str(&self) -> &str {
        match self {
            Self::ArgumentInvalid => "ArgumentInvalid",
            Self::DeviceAlreadyExists => "DeviceAlreadyExists",
            Self::DeviceNotFound => "DeviceNotFound",
            Self::DeviceDefinedMultipleTimes => "DeviceDefinedMultipleTimes",
            Self::PreconditionFailed => "PreconditionFailed",
            Self::TooManyDevices => "TooManyDevices",
            Self::ThrottlingException => "ThrottlingException",
            Self::Unknown(s) => s,
        }
    }
}

impl From<String> for HubErrorCode {
    fn from(s: String) -> Self {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .unwrap_or(Self::Unknown(s))
    }
}

impl From<HubErrorCode> for String {
    fn from(c: HubErrorCode) -> String {
        c.as_str().to_owned()
    }
}

impl fmt::Display for HubErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_and_an_unknown_one_is_kept() {
        for c in HubErrorCode::ALL {
            assert_eq!(HubErrorCode::from(c.to_string()), c);
        }
        assert_eq!(
            HubErrorCode::from("IotHubQuotaExceeded".to_owned()),
            HubErrorCode::Unknown("IotHubQuotaExceeded".into())
        );
    }
}

//! The api-versions hubcert speaks; each is written here and nowhere else.

/// ARM api-version for IoT Hub certificates (`Microsoft.Devices/IotHubs/{hub}/certificates`).
pub const ARM_API_VERSION: &str = "2023-06-30";

/// Data-plane api-version: device identities and the MQTT user name.
pub const DEVICE_API_VERSION: &str = "2021-04-12";

/// ARM api-version for DPS certificates (`Microsoft.Devices/provisioningServices/{dps}/certificates`).
pub const DPS_ARM_API_VERSION: &str = "2022-12-12";

//! Azure IoT Hub rules and identifiers the certificates must satisfy.
//!
//! Plain Rust, no I/O: the same checks run natively in tests and in the browser.

mod names;
pub mod sas;

pub use names::{DeviceId, IdError, VerificationCode};
pub use sas::{SasError, SasToken};

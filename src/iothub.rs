//! Azure IoT Hub: the rules certificates must satisfy, SAS tokens, and the REST calls the tool makes.
//!
//! Plain Rust, no I/O: the same code runs natively in tests and in the browser.

pub mod az;
mod batch;
pub mod client;
mod login;
pub mod rest;
pub mod snippets;

pub use batch::{parse_device_ids, BatchError};
pub use login::{DeviceLogin, LoginError};

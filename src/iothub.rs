//! Azure IoT Hub: the rules certificates must satisfy, SAS tokens, and the REST calls the tool makes.
//!
//! Plain Rust, no I/O: the same code runs natively in tests and in the browser.

mod arm;
pub mod az;
mod batch;
pub mod client;
mod error;
mod login;
mod registry;
mod request;
pub mod snippets;

pub use arm::{certificate_name, Arm, HubCertificate, AZURE_ARM_ENDPOINT};
pub use batch::{parse_device_ids, BatchError};
pub use error::{Plane, RestError};
pub use login::{DeviceLogin, LoginError};
pub use registry::{thumbprint, ConnectionString, DeviceAuth, HubDevice, Registry, ServiceAuth};
pub use request::{Method, Request};

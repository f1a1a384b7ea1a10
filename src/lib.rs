//! hubcert: certificates for Azure IoT Hub X.509 device authentication, made in the browser.
//!
//! The crate is a pure core ([`contract`], [`pki`], [`iothub`], [`mqtt`]) that builds and runs natively and in
//! WebAssembly, and a thin Yew shell (`app`, wasm32 only) over it. Private keys are generated and
//! used in the core; nothing here sends them anywhere.
#![deny(missing_docs)]
#![warn(unreachable_pub)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod contract;
pub mod iothub;
pub mod mqtt;
pub mod pki;

#[cfg(target_arch = "wasm32")]
// Without `full` (the page's first module), the parts only the whole app draws are left unused.
#[cfg_attr(not(feature = "full"), allow(dead_code, unused_imports))]
pub mod app;

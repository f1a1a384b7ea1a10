//! localhub: an offline stand-in for the parts of Azure IoT Hub that hubcert uses.
//!
//! - ARM CA certificates (`/subscriptions/.../IotHubs/{hub}/certificates/...`, `hubcert::contract::ARM_API_VERSION`)
//! - the device registry (`/devices/{id}`, `hubcert::contract::DEVICE_API_VERSION`) with service SAS authentication,
//!   and its bulk operation (`POST /devices`, up to 100 entries)
//! - the twin query (`POST /devices/query`, paged by `x-ms-continuation`)
//! - MQTT 3.1.1 over TLS and over TLS WebSocket (`/$iothub/websocket`, subprotocol `mqtt`)
//!   with X.509 (CA-signed or self-signed thumbprint) and SAS device authentication
//! - `/localhub/...`: what devices sent (JSON and server-sent events) and cloud-to-device sends
//!
//! - `relay`: a loopback CORS relay to a real hub's device registry (`localhub relay --hub NAME`)
//!
//! Everything listens on loopback only.
#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod arm;
mod auth;
mod bulk;
mod config;
mod console;
mod cors;
mod dps;
mod extract;
mod guard;
mod http;
mod mqtt;
mod persist;
mod query;
mod registry;
mod relay;
mod reply;
mod server;
mod store;
mod throttle;
mod tls;
mod transport;
mod wire;

pub use config::Config;
pub use relay::{start_relay, RelayConfig, RelayTarget, RunningRelay, DEFAULT_PORT as RELAY_PORT};
pub use server::{start, Running};
pub use store::{DeviceTransport, EventKind, Hub, TelemetryEvent};
pub use throttle::Throttling;
pub use transport::HttpTransport;

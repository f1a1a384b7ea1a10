use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::Duration;

/// How localhub runs. Every port may be 0 to let the system choose (tests do).
#[derive(Debug, Clone)]
pub struct Config {
    /// Where state and TLS material live; `None` keeps everything in memory.
    pub data_dir: Option<PathBuf>,
    /// The host name devices and SAS tokens use (`HostName=` in connection strings).
    pub host_name: String,
    /// The hub name in ARM paths.
    pub hub_name: String,
    /// Address to listen on; loopback unless changed on purpose.
    pub bind: IpAddr,
    /// Plain HTTP REST (for a page that does not trust localhub's root yet).
    pub http_port: u16,
    /// HTTPS REST.
    pub https_port: u16,
    /// MQTT over TLS.
    pub mqtt_port: u16,
    /// MQTT over TLS WebSocket.
    pub wss_port: u16,
    /// Origins allowed by CORS (and for WebSockets from a page): the pages that may read
    /// `/localhub/info`, which holds the owner keys, and so drive localhub. By default only the app
    /// as `scripts/run.sh` serves it (`http://127.0.0.1:8080`, `http://localhost:8080`), not every
    /// loopback port: another dev server on this machine is a foreign page. `http://host:*` allows
    /// any port of that host, `*` any origin.
    pub allowed_origins: Vec<String>,
    /// Open connections at most, on each listener (HTTP, HTTPS, MQTT, WebSocket) by itself.
    pub max_connections: usize,
    /// Largest MQTT packet accepted (IoT Hub's message limit is 256 KiB).
    pub max_packet_bytes: usize,
    /// Largest HTTP request body accepted.
    pub max_body_bytes: usize,
    /// Telemetry messages kept for `/localhub/telemetry`.
    pub telemetry_capacity: usize,
    /// Bytes of telemetry kept for `/localhub/telemetry` at most (bodies, properties, the events
    /// themselves); the oldest messages go first. A message larger than this is not kept.
    pub telemetry_bytes: usize,
    /// How long a REST request's whole body may take to arrive; a slower one is refused (408) and
    /// its connection closed.
    pub body_read_timeout: Duration,
    /// The longest a device connection may stay silent, whatever keep-alive it asked for (0, no
    /// keep-alive, included): IoT Hub's 1,767 seconds.
    pub mqtt_idle_max: Duration,
    /// Behave as a hub in preview mode: X.509 CA-signed devices may use MQTT over WebSockets with
    /// any chain. A GA hub (the default) accepts them over WebSockets only when the device
    /// certificate is signed directly by the verified CA.
    pub preview_mode: bool,
    /// The ID scope of localhub's DPS.
    pub id_scope: String,
    /// The DPS name in ARM paths (`provisioningServices/{name}`).
    pub dps_name: String,
    /// Throttle as IoT Hub does for a tier and unit count (registry operations, new device
    /// connections, device-to-cloud sends); `None`, the default, throttles nothing.
    pub throttling: Option<crate::Throttling>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: None,
            host_name: "localhost".into(),
            hub_name: "localhub".into(),
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            http_port: 8081,
            https_port: 8443,
            mqtt_port: 8883,
            wss_port: 8884,
            allowed_origins: vec![
                "http://127.0.0.1:8080".into(),
                "http://localhost:8080".into(),
            ],
            max_connections: 4096,
            max_packet_bytes: 256 * 1024,
            max_body_bytes: 256 * 1024,
            telemetry_capacity: 100_000,
            telemetry_bytes: 64 * 1024 * 1024,
            body_read_timeout: Duration::from_secs(30),
            // Microsoft: iot-mqtt-connect-to-iot-hub, "Default keep-alive timeout": IoT Hub limits
            // the server-side timeout to 29.45 minutes (1767 seconds), the Azure load balancer's
            // TCP idle timeout.
            mqtt_idle_max: Duration::from_secs(1767),
            preview_mode: false,
            id_scope: "0ne00000001".into(),
            dps_name: "localhub-dps".into(),
            throttling: None,
        }
    }
}

impl Config {
    /// Every port 0 (the system chooses), everything in memory: for tests.
    pub fn ephemeral() -> Self {
        Self {
            http_port: 0,
            https_port: 0,
            mqtt_port: 0,
            wss_port: 0,
            ..Self::default()
        }
    }
}

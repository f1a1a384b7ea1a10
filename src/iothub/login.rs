//! How a device signs in to IoT Hub over MQTT over WebSocket: from its connection string (SAS) or
//! as an X.509 device whose certificate the browser presents.

use std::fmt;

use super::registry::ConnectionString;
use super::HubPath;
use crate::contract::{build_sas_token, websocket_url, AuthKind, DeviceId, MqttUserName};
use crate::mqtt::ConnectOptions;

/// How long a device SAS token made for a test connection stays valid, in seconds.
const DEVICE_TOKEN_SECONDS: u64 = 3600;

/// Why a device login could not be made; nothing was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoginError {
    /// The connection string is malformed.
    ConnectionString(String),
    /// The connection string is not a device's with a key.
    NotADeviceConnectionString,
    /// No device id was given for an X.509 device.
    DeviceIdEmpty,
    /// No hub host name was given for an X.509 device.
    HostEmpty,
}

impl fmt::Display for LoginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ConnectionString(e) => f.write_str(e),
            Self::NotADeviceConnectionString => f.write_str("Connection string: use the device's (HostName=…;DeviceId=…;SharedAccessKey=…), from az iot hub device-identity connection-string show"),
            Self::DeviceIdEmpty => f.write_str("Device id: enter the id (the CN of the certificate you imported into this browser)."),
            Self::HostEmpty => f.write_str("Hub host name: enter it (NAME.azure-devices.net, or localhost for localhub)."),
        }
    }
}

impl std::error::Error for LoginError {}

/// Everything needed to open a device's MQTT connection over WebSocket.
#[derive(Clone, PartialEq, Eq)]
pub struct DeviceLogin {
    /// The device id (client id).
    pub device_id: String,
    /// The hub's host name (user name and SAS resource).
    pub host_name: String,
    /// `host:port` the WebSocket goes to.
    pub address: String,
    /// `wss://…/$iothub/websocket[?iothub-no-client-cert=true]`.
    pub url: String,
    /// The CONNECT packet's settings.
    pub options: ConnectOptions,
    /// Whether the device proves itself with a certificate (else a SAS token).
    pub x509: bool,
}

impl fmt::Debug for DeviceLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceLogin")
            .field("device_id", &self.device_id)
            .field("host_name", &self.host_name)
            .field("url", &self.url)
            .field("x509", &self.x509)
            .finish_non_exhaustive()
    }
}

/// `address` as typed, or the hub's port 443.
fn address_or_default(address: &str, host_name: &str) -> String {
    match address.trim() {
        "" => format!("{host_name}:443"),
        a => a.to_owned(),
    }
}

impl DeviceLogin {
    fn new(host_name: String, device_id: String, address: &str, password: Option<String>) -> Self {
        let address = address_or_default(address, &host_name);
        let x509 = password.is_none();
        Self {
            url: websocket_url(&address, !x509),
            options: ConnectOptions {
                client_id: device_id.clone(),
                username: MqttUserName::new(&host_name, &device_id).to_string(),
                password,
                keep_alive_secs: 60,
                clean_session: true,
            },
            device_id,
            host_name,
            address,
            x509,
        }
    }

    /// A SAS device from its connection string; the token lasts an hour from `now_unix`.
    pub fn sas(connection_string: &str, address: &str, now_unix: u64) -> Result<Self, LoginError> {
        let cs = ConnectionString::parse(connection_string)
            .map_err(|e| LoginError::ConnectionString(e.to_string()))?;
        let (Some(id), Some(key)) = (cs.device_id, cs.key) else {
            return Err(LoginError::NotADeviceConnectionString);
        };
        let resource = format!("{}/devices/{id}", cs.host_name);
        let token = build_sas_token(&resource, &key, None, now_unix + DEVICE_TOKEN_SECONDS)
            .map_err(|e| LoginError::ConnectionString(e.to_string()))?;
        Ok(Self::new(cs.host_name, id, address, Some(token)))
    }

    /// An X.509 device: the browser presents its certificate in the TLS handshake.
    pub fn x509(host_name: &str, device_id: &str, address: &str) -> Result<Self, LoginError> {
        let id = device_id.trim();
        if id.is_empty() {
            return Err(LoginError::DeviceIdEmpty);
        }
        let host = host_name.trim();
        if host.is_empty() {
            return Err(LoginError::HostEmpty);
        }
        // Ids that IoT Hub would refuse still get to try: the refusal then comes from the hub.
        let _ = DeviceId::parse(id);
        Ok(Self::new(host.to_owned(), id.to_owned(), address, None))
    }
}

/// What a hub will do with an X.509 device over MQTT over WebSockets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebSocketOutlook {
    /// Generally available: thumbprint devices, and CA-signed devices whose certificate the
    /// registered CA signed itself.
    Accepted,
    /// A GA hub answers CONNACK 5; a hub in preview mode accepts it from SDKs that send the
    /// chain, but Chromium-based browsers send only the device certificate (IoT Hub names no CAs
    /// in its TLS certificate request, and Chromium then sends no intermediates), so from this
    /// page it is refused either way there.
    NeedsPreviewMode,
}

impl WebSocketOutlook {
    /// For a device registered as `auth` whose certificate has `cas_between` CAs between it and
    /// the CA registered in the hub (0 when that CA signed it).
    ///
    /// Microsoft documents MQTT over WebSockets for X.509 CA-signed devices as preview-only and
    /// GA for thumbprint devices; its SDK engineers report a two-level chain (CA, device) working
    /// on GA hubs. Chrome and Edge send no intermediates to IoT Hub, so below a CA the device is
    /// refused from the page even by a hub in preview mode.
    pub fn of(auth: &AuthKind, cas_between: usize) -> Self {
        Self::of_path(&HubPath::Registered(auth.clone()), cas_between)
    }

    /// For a device that stands in the hub by `path`: a DPS device is a thumbprint device there
    /// ([`HubPath::Provisioned`]), generally available over WebSockets whatever signed it.
    pub fn of_path(path: &HubPath, cas_between: usize) -> Self {
        let auth = path.hub_auth();
        match auth {
            AuthKind::CertificateAuthority if cas_between > 0 => Self::NeedsPreviewMode,
            _ => Self::Accepted,
        }
    }

    /// What to tell the user before connecting, when it is not [`Self::Accepted`].
    pub fn caution(self) -> Option<&'static str> {
        match self {
            Self::Accepted => None,
            Self::NeedsPreviewMode => Some("This device's certificate was signed by an intermediate CA. Registered as CA-signed, it is refused from this page over MQTT over WebSockets (CONNACK 5): IoT Hub's TLS handshake names no CAs, so Chrome and Edge send the device certificate without its intermediates, and a generally available hub accepts CA-signed devices over WebSockets only when the verified CA signed them directly (preview mode accepts a chain over WebSockets, but only from device SDKs that send it). Ways that work here: register this device by thumbprint for the test (same certificate; IoT Hub then compares its SHA-1/SHA-256 only), or upload and verify the intermediate that signed it. On the device, the MQTT over TCP (8883) snippet below sends the chain. A device DPS provisioned is none of this: DPS writes it into the hub as a thumbprint device, which connects over WebSockets (check its registration to see)."),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::SasToken;

    const KEY: &str = "c2VjcmV0a2V5MTIzNDU2Nzg5MA==";

    #[test]
    fn a_sas_device_gets_a_token_for_its_own_resource() {
        let cs = format!("HostName=myhub.azure-devices.net;DeviceId=dev-1;SharedAccessKey={KEY}");
        let l = DeviceLogin::sas(&cs, "", 1_700_000_000).expect("login");
        assert_eq!(l.address, "myhub.azure-devices.net:443");
        assert_eq!(
            l.url,
            "wss://myhub.azure-devices.net:443/$iothub/websocket?iothub-no-client-cert=true"
        );
        assert_eq!(
            l.options.username,
            "myhub.azure-devices.net/dev-1/?api-version=2021-04-12"
        );
        assert!(!l.x509);
        let token = SasToken::parse(l.options.password.as_deref().expect("token")).expect("sas");
        token
            .verify(
                "myhub.azure-devices.net/devices/dev-1",
                &[KEY],
                1_700_000_000,
            )
            .expect("valid");
        assert_eq!(token.expiry, 1_700_003_600);
        assert!(!format!("{l:?}").contains(&token.signature));
    }

    #[test]
    fn an_x509_device_sends_no_password_and_bad_input_is_named() {
        let l = DeviceLogin::x509(" localhost ", "sensor-1", "localhost:8884").expect("login");
        assert_eq!(
            (l.url.as_str(), l.options.password.as_deref(), l.x509),
            ("wss://localhost:8884/$iothub/websocket", None, true)
        );
        assert_eq!(
            DeviceLogin::x509("h", " ", ""),
            Err(LoginError::DeviceIdEmpty)
        );
        assert_eq!(DeviceLogin::x509("", "d", ""), Err(LoginError::HostEmpty));
        let service = format!("HostName=h;SharedAccessKeyName=iothubowner;SharedAccessKey={KEY}");
        assert_eq!(
            DeviceLogin::sas(&service, "", 0),
            Err(LoginError::NotADeviceConnectionString)
        );
        assert!(matches!(
            DeviceLogin::sas("", "", 0),
            Err(LoginError::ConnectionString(_))
        ));
    }

    #[test]
    fn only_ca_signed_devices_under_an_intermediate_need_preview_mode_on_websockets() {
        use WebSocketOutlook::*;
        assert_eq!(
            WebSocketOutlook::of(&AuthKind::CertificateAuthority, 0),
            Accepted
        );
        assert_eq!(
            WebSocketOutlook::of(&AuthKind::CertificateAuthority, 1),
            NeedsPreviewMode
        );
        assert_eq!(WebSocketOutlook::of(&AuthKind::SelfSigned, 2), Accepted);
        assert!(NeedsPreviewMode
            .caution()
            .is_some_and(|c| c.contains("thumbprint")));
        assert_eq!(Accepted.caution(), None);
        // A DPS device under an intermediate: a thumbprint device in the hub, GA on WebSockets.
        assert_eq!(
            WebSocketOutlook::of_path(&HubPath::Provisioned, 1),
            Accepted
        );
        assert!(NeedsPreviewMode
            .caution()
            .is_some_and(|c| c.contains("DPS provisioned")));
    }
}

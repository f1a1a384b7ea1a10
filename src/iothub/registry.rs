//! Device identity calls on the hub's data plane (directly, through the relay, or to localhub),
//! authenticated by a service connection string or an Entra token.

use std::fmt;

use super::error::{endpoint, setting, RestError};
use super::request::{Method, Request};
use crate::contract::{
    build_sas_token, url_encode, AuthKind, Authentication, ConnectionState, Device, DeviceId,
    DeviceStatus, Redacted, RegisteredThumbprint, X509Thumbprint, DEVICE_API_VERSION,
};

/// How long a service SAS token made for one call stays valid, in seconds.
const SERVICE_TOKEN_SECONDS: u64 = 300;

/// The parts of a connection string (`HostName=…;SharedAccessKeyName=…;SharedAccessKey=…`, or a
/// device's `HostName=…;DeviceId=…;SharedAccessKey=…` / `…;x509=true`).
#[derive(Clone, PartialEq, Eq)]
pub struct ConnectionString {
    /// `HostName`.
    pub host_name: String,
    /// `SharedAccessKeyName` (service policies).
    pub policy: Option<String>,
    /// `DeviceId` (device connection strings).
    pub device_id: Option<String>,
    /// `SharedAccessKey`, base64.
    pub key: Option<String>,
    /// `x509=true`.
    pub x509: bool,
}

impl ConnectionString {
    /// Parses a connection string; says which part is missing or malformed.
    pub fn parse(input: &str) -> Result<Self, RestError> {
        const FIELD: &str = "Connection string";
        let input = input.trim().trim_matches('"');
        if input.is_empty() {
            return Err(setting(FIELD, "is empty: copy it from the hub's Shared access policies (iothubowner) or `az iot hub connection-string show`"));
        }
        let mut cs = Self {
            host_name: String::new(),
            policy: None,
            device_id: None,
            key: None,
            x509: false,
        };
        for part in input.split(';').filter(|p| !p.trim().is_empty()) {
            let Some((k, v)) = part.split_once('=') else {
                return Err(setting(FIELD, format!("'{part}' is not Name=value")));
            };
            let v = v.trim().to_owned();
            match k.trim() {
                "HostName" => cs.host_name = v,
                "SharedAccessKeyName" => cs.policy = Some(v),
                "DeviceId" => cs.device_id = Some(v),
                "SharedAccessKey" => cs.key = Some(v),
                "x509" => cs.x509 = v.eq_ignore_ascii_case("true"),
                _ => {}
            }
        }
        if cs.host_name.is_empty() {
            return Err(setting(FIELD, "has no HostName"));
        }
        if let Some(key) = &cs.key {
            use base64::Engine as _;
            if base64::engine::general_purpose::STANDARD
                .decode(key)
                .is_err()
            {
                return Err(setting(
                    FIELD,
                    "SharedAccessKey is not base64: copy the whole connection string again",
                ));
            }
        }
        Ok(cs)
    }
}

/// How device-registry calls authenticate.
#[derive(Clone, PartialEq, Eq)]
pub enum ServiceAuth {
    /// A shared access policy (from the service connection string); a token is made per call.
    Sas {
        /// Policy name (`iothubowner`).
        policy: String,
        /// The policy's key, base64.
        key: String,
    },
    /// An Entra ID token for `https://iothubs.azure.net`.
    Bearer(String),
}

/// How a device authenticates to the hub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceAuth {
    /// Certificate signed by a verified CA (`x509_ca`).
    CertificateAuthority,
    /// Self-signed or any certificate, pinned by thumbprint (`x509_thumbprint`).
    SelfSigned {
        /// SHA-1 (40 hex) or SHA-256 (64 hex) thumbprint.
        primary: String,
        /// A second thumbprint (certificate rollover); the primary if none.
        secondary: Option<String>,
    },
}

impl DeviceAuth {
    /// The registry's `authentication` for it; a thumbprint is checked, and a lone primary is
    /// written to both slots, as the portal and az do.
    pub fn authentication(&self) -> Result<Authentication, RestError> {
        Ok(match self {
            Self::CertificateAuthority => Authentication {
                kind: AuthKind::CertificateAuthority,
                ..Default::default()
            },
            Self::SelfSigned { primary, secondary } => {
                let primary = thumbprint(primary)?;
                let secondary = match secondary {
                    Some(s) => thumbprint(s)?,
                    None => primary.clone(),
                };
                Authentication {
                    kind: AuthKind::SelfSigned,
                    symmetric_key: None,
                    x509_thumbprint: Some(X509Thumbprint {
                        primary_thumbprint: Some(primary),
                        secondary_thumbprint: Some(secondary),
                    }),
                }
            }
        })
    }
}

/// Checks a thumbprint: 40 or 64 hex digits; colons and spaces are refused, as IoT Hub does.
pub fn thumbprint(value: &str) -> Result<String, RestError> {
    RegisteredThumbprint::parse(value)
        .map(|t| t.as_str().to_owned())
        .map_err(|e| setting("Thumbprint", e.to_string()))
}

impl fmt::Debug for ConnectionString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionString")
            .field("host_name", &self.host_name)
            .field("policy", &self.policy)
            .field("device_id", &self.device_id)
            .field("key", &self.key.as_deref().map(Redacted))
            .field("x509", &self.x509)
            .finish()
    }
}

impl ServiceAuth {
    /// Checks that the credentials are complete; `policy` names the owner policy to suggest.
    pub(super) fn check(&self, policy: &str) -> Result<(), RestError> {
        match self {
            Self::Sas { policy: p, key } => {
                if p.trim().is_empty() {
                    return Err(setting("Connection string", format!("has no SharedAccessKeyName: use a service policy's connection string ({policy}), not a device's")));
                }
                if key.trim().is_empty() {
                    return Err(setting("Connection string", "has no SharedAccessKey"));
                }
                Ok(())
            }
            Self::Bearer(t) if t.trim().is_empty() => Err(setting("Entra token", "is empty")),
            Self::Bearer(_) => Ok(()),
        }
    }

    /// The `Authorization` header for one call to `host_name` (the SAS token's resource).
    pub(super) fn authorization(
        &self,
        host_name: &str,
        now_unix: u64,
    ) -> Result<String, RestError> {
        match self {
            Self::Sas { policy, key } => build_sas_token(
                host_name,
                key,
                Some(policy),
                now_unix + SERVICE_TOKEN_SECONDS,
            )
            .map_err(|e| setting("Connection string", e.to_string())),
            Self::Bearer(t) => Ok(format!("Bearer {}", t.trim())),
        }
    }
}

impl fmt::Debug for ServiceAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sas { policy, key } => f
                .debug_struct("Sas")
                .field("policy", policy)
                .field("key", &Redacted(key))
                .finish(),
            Self::Bearer(t) => f.debug_tuple("Bearer").field(&Redacted(t)).finish(),
        }
    }
}

/// Where a service API's calls go and how they are signed: shared by the hub's registry and
/// DPS's service API, which differ only in names and paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ServiceTarget {
    /// Where requests go: `https://{host}`, the relay, or localhub.
    pub(super) base: String,
    /// The service's host name, the SAS token's resource.
    pub(super) host_name: String,
    auth: ServiceAuth,
}

/// How a service names its settings in messages.
pub(super) struct TargetNames {
    pub(super) host: &'static str,
    pub(super) endpoint: &'static str,
    pub(super) owner_policy: &'static str,
}

impl ServiceTarget {
    /// `endpoint_url` empty means `https://{host_name}`.
    pub(super) fn new(
        names: &TargetNames,
        endpoint_url: &str,
        host_name: &str,
        auth: ServiceAuth,
    ) -> Result<Self, RestError> {
        let host_name = host_name.trim().to_owned();
        if host_name.is_empty() {
            return Err(setting(names.host, "is empty"));
        }
        let base = if endpoint_url.trim().is_empty() {
            format!("https://{host_name}")
        } else {
            endpoint(names.endpoint, endpoint_url)?
        };
        auth.check(names.owner_policy)?;
        Ok(Self {
            base,
            host_name,
            auth,
        })
    }

    /// The `Authorization` header for one call made at `now_unix`.
    pub(super) fn authorization(&self, now_unix: u64) -> Result<String, RestError> {
        self.auth.authorization(&self.host_name, now_unix)
    }
}

/// The SAS credentials of a service connection string.
pub(super) fn sas_of(cs: ConnectionString) -> ServiceAuth {
    ServiceAuth::Sas {
        policy: cs.policy.unwrap_or_default(),
        key: cs.key.unwrap_or_default(),
    }
}

/// Device identity calls on the hub's data plane (or the relay, or localhub).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registry {
    target: ServiceTarget,
}

impl Registry {
    /// `endpoint`: where requests go (`https://{host}`, the relay, or localhub); empty means
    /// `https://{host_name}`. `host_name`: the hub's host name, the SAS token's resource.
    pub fn new(endpoint_url: &str, host_name: &str, auth: ServiceAuth) -> Result<Self, RestError> {
        let names = TargetNames {
            host: "Hub host name",
            endpoint: "Registry endpoint",
            owner_policy: "iothubowner",
        };
        ServiceTarget::new(&names, endpoint_url, host_name, auth).map(|target| Self { target })
    }

    /// From a service connection string; `endpoint` as in [`Registry::new`].
    pub fn from_connection_string(
        endpoint_url: &str,
        connection_string: &str,
    ) -> Result<Self, RestError> {
        let cs = ConnectionString::parse(connection_string)?;
        if cs.device_id.is_some() {
            return Err(setting(
                "Connection string",
                "is a device's: use the hub's iothubowner (or registryReadWrite) connection string",
            ));
        }
        let host = cs.host_name.clone();
        Self::new(endpoint_url, &host, sas_of(cs))
    }

    /// The hub's host name.
    pub fn host_name(&self) -> &str {
        &self.target.host_name
    }

    pub(super) fn authorization(&self, now_unix: u64) -> Result<String, RestError> {
        self.target.authorization(now_unix)
    }

    /// Where requests go: `https://{host}`, the relay, or localhub.
    pub(super) fn base(&self) -> &str {
        &self.target.base
    }

    fn request(&self, method: Method, id: &DeviceId, now_unix: u64) -> Result<Request, RestError> {
        let url = format!(
            "{}/devices/{}?api-version={DEVICE_API_VERSION}",
            self.target.base,
            url_encode(id.as_str())
        );
        Ok(Request::new(method, url, self.authorization(now_unix)?))
    }

    /// PUT a new device identity, enabled.
    pub fn create(
        &self,
        id: &DeviceId,
        auth: &DeviceAuth,
        now_unix: u64,
    ) -> Result<Request, RestError> {
        let authentication = auth.authentication()?;
        let mut request = self.request(Method::Put, id, now_unix)?;
        request
            .headers
            .push(("Content-Type", "application/json".to_owned()));
        request.body = Some(Device::new(id.as_str(), authentication).to_json());
        Ok(request)
    }

    /// PUT `device` (as read, then changed) back with its etag in `If-Match`, so a change made
    /// by someone else in between is refused (412) rather than overwritten.
    pub fn replace(&self, device: &Device, now_unix: u64) -> Result<Request, RestError> {
        let id = DeviceId::parse(&device.device_id).map_err(RestError::Name)?;
        let etag = format!("\"{}\"", device.etag().trim_matches('"'));
        let mut request = self.request(Method::Put, &id, now_unix)?.if_match(&etag);
        request
            .headers
            .push(("Content-Type", "application/json".to_owned()));
        request.body = Some(device.to_json());
        Ok(request)
    }

    /// [`Self::replace`] with `status` changed: how a device is disabled (revoked: IoT Hub checks
    /// no CRL) or enabled again.
    pub fn set_status(
        &self,
        device: &Device,
        status: DeviceStatus,
        reason: &str,
        now_unix: u64,
    ) -> Result<Request, RestError> {
        let mut changed = device.clone();
        changed.status = status;
        changed.status_reason = Some(reason.to_owned());
        self.replace(&changed, now_unix)
    }

    /// GET a device identity.
    pub fn get(&self, id: &DeviceId, now_unix: u64) -> Result<Request, RestError> {
        self.request(Method::Get, id, now_unix)
    }

    /// DELETE a device identity; `etag` `None` deletes whatever version is there (`*`).
    pub fn delete(
        &self,
        id: &DeviceId,
        etag: Option<&str>,
        now_unix: u64,
    ) -> Result<Request, RestError> {
        let etag = etag.map(|e| format!("\"{}\"", e.trim_matches('"')));
        Ok(self
            .request(Method::Delete, id, now_unix)?
            .if_match(etag.as_deref().unwrap_or("*")))
    }
}

/// A device identity as the hub describes it, the fields the page shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubDevice {
    /// Device id.
    pub device_id: String,
    /// Current etag.
    pub etag: String,
    /// Enabled or disabled.
    pub status: DeviceStatus,
    /// How it authenticates.
    pub auth_type: AuthKind,
    /// Primary thumbprint of a self-signed device.
    pub primary_thumbprint: Option<String>,
    /// Secondary thumbprint of a self-signed device.
    pub secondary_thumbprint: Option<String>,
    /// Connected or disconnected (disconnected when the answer says nothing).
    pub connection_state: ConnectionState,
}

impl HubDevice {
    /// Reads a device GET/PUT answer.
    pub fn parse(body: &str) -> Result<Self, RestError> {
        let d = Device::from_json(body.as_bytes())
            .map_err(|e| RestError::BadAnswer(format!("not a device description: {e}")))?;
        if d.device_id.is_empty() {
            return Err(RestError::BadAnswer(
                "a device description without deviceId".into(),
            ));
        }
        let (primary, secondary) = d.thumbprints();
        Ok(Self {
            device_id: d.device_id.clone(),
            etag: d.etag().to_owned(),
            primary_thumbprint: primary.map(str::to_owned),
            secondary_thumbprint: secondary.map(str::to_owned),
            status: d.status,
            auth_type: d.authentication.kind,
            connection_state: d.connection_state.unwrap_or(ConnectionState::Disconnected),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::SasToken;
    use serde_json::{json, Value};

    #[test]
    fn registry_calls_match_the_contract() {
        let reg = Registry::from_connection_string(
            "",
            "HostName=myhub.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=c2VjcmV0a2V5MTIzNDU2Nzg5MA==",
        )
        .unwrap();
        let id = DeviceId::parse("sensor-device-01").unwrap();
        let r = reg
            .create(&id, &DeviceAuth::CertificateAuthority, 1_700_000_000)
            .unwrap();
        assert_eq!(r.method, Method::Put);
        assert_eq!(
            r.url,
            "https://myhub.azure-devices.net/devices/sensor-device-01?api-version=2021-04-12"
        );
        let token = SasToken::parse(r.header("Authorization").unwrap()).unwrap();
        token
            .verify(
                "myhub.azure-devices.net",
                &["c2VjcmV0a2V5MTIzNDU2Nzg5MA=="],
                1_700_000_000,
            )
            .unwrap();
        assert_eq!(token.expiry, 1_700_000_000 + SERVICE_TOKEN_SECONDS);
        assert_eq!(token.policy.as_deref(), Some("iothubowner"));
        assert_eq!(
            serde_json::from_str::<Value>(r.body.as_deref().unwrap()).unwrap(),
            json!({"deviceId": "sensor-device-01", "status": "enabled", "authentication": {"type": "certificateAuthority"}, "capabilities": {"iotEdge": false}})
        );

        let t1 = "a".repeat(40);
        let r = reg
            .create(
                &id,
                &DeviceAuth::SelfSigned {
                    primary: t1.clone(),
                    secondary: None,
                },
                0,
            )
            .unwrap();
        let body: Value = serde_json::from_str(r.body.as_deref().unwrap()).unwrap();
        assert_eq!(
            body["authentication"],
            json!({"type": "selfSigned", "x509Thumbprint": {"primaryThumbprint": "A".repeat(40), "secondaryThumbprint": "A".repeat(40)}})
        );
        let colons = DeviceAuth::SelfSigned {
            primary: "AB:CD".into(),
            secondary: None,
        };
        assert!(reg
            .create(&id, &colons, 0)
            .unwrap_err()
            .to_string()
            .contains("':'"));
        let short = DeviceAuth::SelfSigned {
            primary: "ABCD".into(),
            secondary: None,
        };
        assert!(reg
            .create(&id, &short, 0)
            .unwrap_err()
            .to_string()
            .contains("40 (SHA-1) or 64"));

        let r = reg.delete(&id, None, 0).unwrap();
        assert_eq!(
            (r.method, r.header("If-Match")),
            (Method::Delete, Some("*"))
        );
        assert_eq!(
            reg.delete(&id, Some("MQ=="), 0).unwrap().header("If-Match"),
            Some("\"MQ==\"")
        );

        // Device ids with characters that need encoding in a path.
        let odd = DeviceId::parse("dev$1(a)").unwrap();
        assert_eq!(
            reg.get(&odd, 0).unwrap().url,
            "https://myhub.azure-devices.net/devices/dev%241%28a%29?api-version=2021-04-12"
        );

        // Through the relay or localhub: same path, another base; the SAS resource stays the hub.
        let relay = Registry::from_connection_string(
            "http://127.0.0.1:8090/",
            "HostName=myhub.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=c2VjcmV0a2V5MTIzNDU2Nzg5MA==",
        )
        .unwrap();
        let r = relay.get(&id, 5).unwrap();
        assert_eq!(
            r.url,
            "http://127.0.0.1:8090/devices/sensor-device-01?api-version=2021-04-12"
        );
        assert_eq!(
            SasToken::parse(r.header("Authorization").unwrap())
                .unwrap()
                .resource,
            "myhub.azure-devices.net"
        );

        let entra =
            Registry::new("", "h.azure-devices.net", ServiceAuth::Bearer("tok".into())).unwrap();
        assert_eq!(
            entra.get(&id, 0).unwrap().header("Authorization"),
            Some("Bearer tok")
        );
    }

    #[test]
    fn connection_strings() {
        let cs =
            ConnectionString::parse("HostName=h.azure-devices.net;DeviceId=d1;x509=true").unwrap();
        assert_eq!(
            (cs.device_id.as_deref(), cs.x509, cs.key),
            (Some("d1"), true, None)
        );
        assert!(
            Registry::from_connection_string("", "HostName=h;DeviceId=d;SharedAccessKey=YQ==")
                .unwrap_err()
                .to_string()
                .contains("device's")
        );
        assert!(ConnectionString::parse("")
            .unwrap_err()
            .to_string()
            .contains("empty"));
        assert!(ConnectionString::parse("SharedAccessKey=YQ==")
            .unwrap_err()
            .to_string()
            .contains("HostName"));
        assert!(ConnectionString::parse("HostName=h;SharedAccessKey=%%%")
            .unwrap_err()
            .to_string()
            .contains("base64"));
        assert!(ConnectionString::parse("HostName=h;garbage")
            .unwrap_err()
            .to_string()
            .contains("Name=value"));
        assert!(
            Registry::from_connection_string("", "HostName=h;SharedAccessKey=YQ==")
                .unwrap_err()
                .to_string()
                .contains("SharedAccessKeyName")
        );
    }

    #[test]
    fn device_answers_are_read() {
        let d = HubDevice::parse(r#"{"deviceId":"d1","etag":"\"MQ==\"","status":"enabled","connectionState":"Disconnected","authentication":{"type":"selfSigned","x509Thumbprint":{"primaryThumbprint":"AA","secondaryThumbprint":null}}}"#).unwrap();
        assert_eq!(
            (d.etag.as_str(), d.auth_type.as_str()),
            ("MQ==", "selfSigned")
        );
        assert_eq!(
            (d.primary_thumbprint.as_deref(), d.secondary_thumbprint),
            (Some("AA"), None)
        );
    }
}

//! IoT Hub's REST calls as plain data: every request the tool makes (URL, headers, JSON body), the
//! answers it reads, and what each failure means for the user.
//!
//! Nothing here does I/O. The browser shell sends a [`Request`] with `fetch`; native tests send the
//! same request to localhub. CA certificates go through ARM ([`Arm`]); devices through the hub's data
//! plane ([`Registry`]), directly, through the relay, or to localhub.

use std::fmt;

use serde_json::{json, Value};

use crate::contract::{
    build_sas_token, url_encode, AuthKind, Authentication, CertificateName, ConnectionState,
    Device, DeviceId, DeviceStatus, IdError, RegisteredThumbprint, X509Thumbprint, ARM_API_VERSION,
    DEVICE_API_VERSION,
};
/// Azure Resource Manager.
pub const AZURE_ARM_ENDPOINT: &str = "https://management.azure.com";
/// How long a service SAS token made for one call stays valid, in seconds.
pub const SERVICE_TOKEN_SECONDS: u64 = 300;

/// An HTTP method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// GET
    Get,
    /// PUT
    Put,
    /// POST
    Post,
    /// DELETE
    Delete,
}

impl Method {
    /// The method's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Put => "PUT",
            Self::Post => "POST",
            Self::Delete => "DELETE",
        }
    }
}

/// One HTTP request, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Method.
    pub method: Method,
    /// Full URL with query.
    pub url: String,
    /// Headers, in the order they are set.
    pub headers: Vec<(&'static str, String)>,
    /// JSON body, if any.
    pub body: Option<String>,
}

impl Request {
    fn new(method: Method, url: String, authorization: String) -> Self {
        Self {
            method,
            url,
            headers: vec![("Authorization", authorization)],
            body: None,
        }
    }

    fn if_match(mut self, etag: &str) -> Self {
        self.headers.push(("If-Match", etag.to_owned()));
        self
    }

    fn json(mut self, body: Value) -> Self {
        self.headers
            .push(("Content-Type", "application/json".to_owned()));
        self.body = Some(body.to_string());
        self
    }

    /// A header's value, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Which side of IoT Hub a call goes to; decides what a failure most likely means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plane {
    /// Azure Resource Manager: CA certificates.
    Arm,
    /// The hub's data plane: device identities.
    Registry,
}

/// What went wrong with a hub call, with the likely cause and the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RestError {
    /// A setting is missing or malformed; nothing was sent.
    Setting {
        /// The setting's label.
        field: &'static str,
        /// What is wrong with it.
        problem: String,
    },
    /// The request never got an HTTP answer: the host is down, the name does not resolve, or the
    /// browser refused the answer because it carried no CORS headers.
    Unreachable {
        /// Which plane was called.
        plane: Plane,
        /// Whether the target is localhub (else Azure or a relay).
        localhub: bool,
        /// What the transport said.
        detail: String,
    },
    /// The hub answered with an error status.
    Status {
        /// Which plane was called.
        plane: Plane,
        /// HTTP status.
        status: u16,
        /// The IoT Hub error code (`IH412001`, `DeviceNotFound`, …), if the body had one.
        code: Option<String>,
        /// The hub's own message, if the body had one.
        message: Option<String>,
    },
    /// A success answer that does not look like IoT Hub's.
    BadAnswer(String),
    /// This page failed a step of its own (making the verification certificate).
    Local(String),
    /// A name (certificate name, device id) breaks the service's rules; nothing was sent.
    Name(IdError),
}

impl RestError {
    /// Reads an error answer: the IoT Hub code and message from either plane's body shape
    /// (`{"code","message"}`, `{"error":{"code","message"}}`, `{"Message":"ErrorCode:X;..."}`).
    pub fn from_status(plane: Plane, status: u16, body: &str) -> Self {
        let value: Value = serde_json::from_str(body).unwrap_or(Value::Null);
        let obj = value.get("error").unwrap_or(&value);
        let mut code = obj.get("code").and_then(Value::as_str).map(str::to_owned);
        let mut message = obj
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if let Some(m) = obj.get("Message").and_then(Value::as_str) {
            match m.strip_prefix("ErrorCode:").and_then(|r| r.split_once(';')) {
                Some((c, rest)) => {
                    code = code.or_else(|| Some(c.to_owned()));
                    message = message.or_else(|| Some(rest.to_owned()));
                }
                None => message = message.or_else(|| Some(m.to_owned())),
            }
        }
        // ARM sometimes puts the IoT Hub code (IH######) inside the message only.
        if let Some(ih) = find_ih_code(body) {
            if code.as_deref().is_none_or(|c| !is_ih_code(c)) {
                code = Some(ih);
            }
        }
        if message.is_none() && !body.trim().is_empty() && value.is_null() {
            message = Some(body.chars().take(300).collect());
        }
        Self::Status {
            plane,
            status,
            code,
            message,
        }
    }

    /// Whether this is a stale-etag refusal (HTTP 412), which is worth one re-read and retry.
    pub fn is_stale_etag(&self) -> bool {
        matches!(self, Self::Status { status: 412, .. })
    }

    /// The HTTP status, if the hub answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The likely cause and the fix, in a sentence or two.
    pub fn advice(&self) -> String {
        match self {
            Self::Setting { field, problem } => format!("{field}: {problem}"),
            Self::Name(e) => e.to_string(),
            Self::Local(what) => format!("This page could not finish the step: {what}"),
            Self::BadAnswer(what) => format!(
                "The answer did not look like IoT Hub's ({what}). Check that the endpoint points at ARM or at the hub."
            ),
            Self::Unreachable { plane, localhub: true, .. } => format!(
                "localhub did not answer. Start it with ./scripts/run.sh (or `cargo run --release -p localhub`) and check the {} endpoint in the settings.",
                if *plane == Plane::Arm { "ARM" } else { "registry" }
            ),
            Self::Unreachable { plane: Plane::Arm, .. } => "No answer from Azure Resource Manager: check your network connection and the ARM endpoint, then try again.".to_owned(),
            Self::Unreachable { plane: Plane::Registry, .. } => "The hub's device API gave the page no answer. IoT Hub's data plane sends no CORS headers, so a browser page cannot call it directly: start the relay on your machine (`localhub relay --hub HUB.azure-devices.net`) and set the registry endpoint to it, or run the az command shown beside this step.".to_owned(),
            Self::Status { plane, status, code, .. } => {
                let code = code.as_deref().unwrap_or("");
                match (plane, *status, code) {
                    (_, 400, "IH400053") => "The verification certificate was signed by another CA than the uploaded one (IH400053). Make it with the same CA's key, or upload that CA.".to_owned(),
                    (_, 400, "IH400054") => "The verification certificate's CN is not the current verification code (IH400054). Generating a code replaces the previous one: generate it again and make a new verification certificate.".to_owned(),
                    (_, 400, "IH400052") => "The hub has no verification code for this certificate yet: generate one first.".to_owned(),
                    (Plane::Arm, 400, _) => "The hub refused the request: check the certificate (PEM of a CA certificate) and the certificate name (letters, digits, - . _; at most 64).".to_owned(),
                    (Plane::Registry, 400, _) => "The hub refused the device description: check the device id and, for self-signed devices, the thumbprints (40 or 64 hex digits, no colons).".to_owned(),
                    (Plane::Arm, 401, _) => "The ARM access token was refused or has expired (tokens last about an hour). Get a new one with `az account get-access-token --resource https://management.azure.com --query accessToken -o tsv` and paste it in the settings.".to_owned(),
                    (Plane::Registry, 401, _) => "The hub refused the service credentials: check the connection string (a policy with registry write, such as iothubowner) or get a new Entra token; a SAS token also fails when this computer's clock is off.".to_owned(),
                    (Plane::Arm, 403, _) => "Your account may not change this hub: it needs a role such as Contributor or IoT Hub Data Contributor on the hub or its resource group.".to_owned(),
                    (Plane::Registry, 403, _) => "The policy in the connection string may not write the registry: use iothubowner or registryReadWrite.".to_owned(),
                    (Plane::Arm, 404, _) => "Not found: check the subscription id, resource group and hub name, and that the certificate name exists on this hub.".to_owned(),
                    (Plane::Registry, 404, _) => "No such device on this hub: check the device id, or register it first.".to_owned(),
                    (Plane::Arm, 409, _) => "A certificate with this name already exists on the hub: choose another name, or delete the old one first.".to_owned(),
                    (Plane::Registry, 409, _) => "A device with this id is already registered: delete it first, or use it as it is.".to_owned(),
                    (_, 412, _) => "The etag was stale: something changed the resource since it was read (generating a verification code changes it). Read it again and retry.".to_owned(),
                    (_, 429, _) => "The hub is throttling requests (429): wait a few seconds and try again, or send fewer at once.".to_owned(),
                    (_, s, _) if s >= 500 => format!("The service failed ({s}). This is on Azure's side: try again in a minute."),
                    (_, s, _) => format!("The hub answered HTTP {s}."),
                }
            }
        }
    }
}

impl fmt::Display for RestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Status {
                status,
                code,
                message,
                ..
            } => {
                write!(f, "HTTP {status}")?;
                if let Some(code) = code {
                    write!(f, " {code}")?;
                }
                write!(f, ": {}", self.advice())?;
                if let Some(message) = message {
                    write!(f, " (The hub said: {message})")?;
                }
                Ok(())
            }
            Self::Unreachable { detail, .. } if !detail.is_empty() => {
                write!(f, "{} ({detail})", self.advice())
            }
            _ => f.write_str(&self.advice()),
        }
    }
}

impl std::error::Error for RestError {}

fn is_ih_code(s: &str) -> bool {
    s.len() == 8 && s.starts_with("IH") && s[2..].bytes().all(|b| b.is_ascii_digit())
}

fn find_ih_code(body: &str) -> Option<String> {
    body.match_indices("IH")
        .filter_map(|(i, _)| body.get(i..i + 8))
        .find(|c| is_ih_code(c))
        .map(str::to_owned)
}

fn setting(field: &'static str, problem: impl Into<String>) -> RestError {
    RestError::Setting {
        field,
        problem: problem.into(),
    }
}

fn endpoint(field: &'static str, value: &str) -> Result<String, RestError> {
    let v = value.trim().trim_end_matches('/');
    if !(v.starts_with("https://") || v.starts_with("http://")) || v.len() <= "https://".len() {
        return Err(setting(
            field,
            "must be a URL starting with https:// (or http:// for localhub and the relay)",
        ));
    }
    Ok(v.to_owned())
}

fn path_part(field: &'static str, value: &str) -> Result<String, RestError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(setting(field, "is empty"));
    }
    if let Some(c) = v
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "-_.()".contains(*c)))
    {
        return Err(setting(
            field,
            format!("contains '{c}', which Azure names never have"),
        ));
    }
    Ok(v.to_owned())
}

/// A certificate's name in the hub: `^[A-Za-z0-9-._]{1,64}$`.
pub fn certificate_name(value: &str) -> Result<String, RestError> {
    CertificateName::parse(value.trim())
        .map(|n| n.as_str().to_owned())
        .map_err(RestError::Name)
}

/// CA certificate calls through Azure Resource Manager (or localhub's copy of that API).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arm {
    base: String,
    token: String,
}

impl Arm {
    /// Checks the settings: `endpoint` (`https://management.azure.com` or localhub's URL),
    /// subscription id, resource group, hub name, and the bearer token.
    pub fn new(
        endpoint_url: &str,
        subscription: &str,
        resource_group: &str,
        hub: &str,
        token: &str,
    ) -> Result<Self, RestError> {
        let endpoint_url = endpoint("ARM endpoint", endpoint_url)?;
        let subscription = path_part("Subscription id", subscription)?;
        let resource_group = path_part("Resource group", resource_group)?;
        let hub = path_part("Hub name", hub)?;
        let token = token.trim();
        let token = token.strip_prefix("Bearer ").unwrap_or(token).trim();
        if token.is_empty() {
            return Err(setting(
                "ARM access token",
                "is empty: paste the output of `az account get-access-token --resource https://management.azure.com --query accessToken -o tsv`",
            ));
        }
        if token.chars().any(char::is_whitespace) {
            return Err(setting(
                "ARM access token",
                "contains spaces or line breaks: copy it again as one line",
            ));
        }
        Ok(Self {
            base: format!(
                "{endpoint_url}/subscriptions/{subscription}/resourceGroups/{resource_group}/providers/Microsoft.Devices/IotHubs/{hub}/certificates"
            ),
            token: token.to_owned(),
        })
    }

    fn url(&self, name: Option<&str>, action: Option<&str>) -> String {
        let mut url = self.base.clone();
        if let Some(name) = name {
            url.push('/');
            url.push_str(name);
        }
        if let Some(action) = action {
            url.push('/');
            url.push_str(action);
        }
        format!("{url}?api-version={ARM_API_VERSION}")
    }

    fn request(&self, method: Method, name: Option<&str>, action: Option<&str>) -> Request {
        Request::new(
            method,
            self.url(name, action),
            format!("Bearer {}", self.token),
        )
    }

    /// PUT a new CA certificate. `verified: true` asks for automatic verification.
    pub fn create(&self, name: &str, pem: &str, verified: bool) -> Request {
        self.request(Method::Put, Some(name), None)
            .json(json!({"properties": {"certificate": pem, "isVerified": verified}}))
    }

    /// PUT over an existing certificate (needs its current etag).
    pub fn update(&self, name: &str, pem: &str, verified: bool, etag: &str) -> Request {
        self.create(name, pem, verified).if_match(etag)
    }

    /// GET one certificate.
    pub fn get(&self, name: &str) -> Request {
        self.request(Method::Get, Some(name), None)
    }

    /// GET every certificate of the hub.
    pub fn list(&self) -> Request {
        self.request(Method::Get, None, None)
    }

    /// POST `generateVerificationCode` (changes the etag).
    pub fn generate_verification_code(&self, name: &str, etag: &str) -> Request {
        self.request(Method::Post, Some(name), Some("generateVerificationCode"))
            .if_match(etag)
    }

    /// POST `verify` with the verification certificate's PEM.
    pub fn verify(&self, name: &str, etag: &str, verification_pem: &str) -> Request {
        self.request(Method::Post, Some(name), Some("verify"))
            .if_match(etag)
            .json(json!({"certificate": verification_pem}))
    }

    /// DELETE a certificate (needs its current etag).
    pub fn delete(&self, name: &str, etag: &str) -> Request {
        self.request(Method::Delete, Some(name), None)
            .if_match(etag)
    }
}

/// A CA certificate as the hub describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubCertificate {
    /// Name in the hub.
    pub name: String,
    /// Current etag (pass it as `If-Match`).
    pub etag: String,
    /// Subject CN as the hub shows it.
    pub subject: String,
    /// Expiry as the hub shows it (RFC 1123).
    pub expiry: String,
    /// SHA-1 thumbprint, uppercase hex.
    pub thumbprint: String,
    /// Whether possession was proven (or automatic verification chosen).
    pub is_verified: bool,
    /// The current verification code, present after `generateVerificationCode`.
    pub verification_code: Option<String>,
}

fn field<'a>(v: &'a Value, name: &str) -> &'a str {
    v.get(name).and_then(Value::as_str).unwrap_or("")
}

impl HubCertificate {
    fn from_value(v: &Value) -> Result<Self, RestError> {
        let props = v.get("properties").ok_or_else(|| {
            RestError::BadAnswer("no properties in the certificate description".into())
        })?;
        let name = field(v, "name");
        if name.is_empty() {
            return Err(RestError::BadAnswer(
                "a certificate description without a name".into(),
            ));
        }
        Ok(Self {
            name: name.to_owned(),
            etag: field(v, "etag").trim_matches('"').to_owned(),
            subject: field(props, "subject").to_owned(),
            expiry: field(props, "expiry").to_owned(),
            thumbprint: field(props, "thumbprint").to_owned(),
            is_verified: props
                .get("isVerified")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            verification_code: props
                .get("verificationCode")
                .and_then(Value::as_str)
                .map(str::to_owned),
        })
    }

    /// Reads a GET/PUT/verify answer.
    pub fn parse(body: &str) -> Result<Self, RestError> {
        let v: Value = serde_json::from_str(body)
            .map_err(|e| RestError::BadAnswer(format!("not JSON: {e}")))?;
        Self::from_value(&v)
    }

    /// Reads a list answer (`{"value": [...]}`).
    pub fn parse_list(body: &str) -> Result<Vec<Self>, RestError> {
        let v: Value = serde_json::from_str(body)
            .map_err(|e| RestError::BadAnswer(format!("not JSON: {e}")))?;
        v.get("value")
            .and_then(Value::as_array)
            .ok_or_else(|| RestError::BadAnswer("no value list".into()))?
            .iter()
            .map(Self::from_value)
            .collect()
    }
}

/// The parts of a connection string (`HostName=…;SharedAccessKeyName=…;SharedAccessKey=…`, or a
/// device's `HostName=…;DeviceId=…;SharedAccessKey=…` / `…;x509=true`).
#[derive(Debug, Clone, PartialEq, Eq)]
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
#[derive(Debug, Clone, PartialEq, Eq)]
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

/// Checks a thumbprint: 40 or 64 hex digits; colons and spaces are refused, as IoT Hub does.
pub fn thumbprint(value: &str) -> Result<String, RestError> {
    RegisteredThumbprint::parse(value)
        .map(|t| t.as_str().to_owned())
        .map_err(|e| setting("Thumbprint", e.to_string()))
}

/// Device identity calls on the hub's data plane (or the relay, or localhub).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registry {
    base: String,
    host_name: String,
    auth: ServiceAuth,
}

impl Registry {
    /// `endpoint`: where requests go (`https://{host}`, the relay, or localhub); empty means
    /// `https://{host_name}`. `host_name`: the hub's host name, the SAS token's resource.
    pub fn new(endpoint_url: &str, host_name: &str, auth: ServiceAuth) -> Result<Self, RestError> {
        let host_name = host_name.trim().to_owned();
        if host_name.is_empty() {
            return Err(setting("Hub host name", "is empty"));
        }
        let base = if endpoint_url.trim().is_empty() {
            format!("https://{host_name}")
        } else {
            endpoint("Registry endpoint", endpoint_url)?
        };
        match &auth {
            ServiceAuth::Sas { policy, key } => {
                if policy.trim().is_empty() {
                    return Err(setting("Connection string", "has no SharedAccessKeyName: use a service policy's connection string (iothubowner), not a device's"));
                }
                if key.trim().is_empty() {
                    return Err(setting("Connection string", "has no SharedAccessKey"));
                }
            }
            ServiceAuth::Bearer(t) if t.trim().is_empty() => {
                return Err(setting("Entra token", "is empty"))
            }
            ServiceAuth::Bearer(_) => {}
        }
        Ok(Self {
            base,
            host_name,
            auth,
        })
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
        Self::new(
            endpoint_url,
            &cs.host_name,
            ServiceAuth::Sas {
                policy: cs.policy.unwrap_or_default(),
                key: cs.key.unwrap_or_default(),
            },
        )
    }

    /// The hub's host name.
    pub fn host_name(&self) -> &str {
        &self.host_name
    }

    fn authorization(&self, now_unix: u64) -> Result<String, RestError> {
        match &self.auth {
            ServiceAuth::Sas { policy, key } => build_sas_token(
                &self.host_name,
                key,
                Some(policy),
                now_unix + SERVICE_TOKEN_SECONDS,
            )
            .map_err(|e| setting("Connection string", e.to_string())),
            ServiceAuth::Bearer(t) => Ok(format!("Bearer {}", t.trim())),
        }
    }

    fn request(&self, method: Method, id: &DeviceId, now_unix: u64) -> Result<Request, RestError> {
        let url = format!(
            "{}/devices/{}?api-version={DEVICE_API_VERSION}",
            self.base,
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
        let authentication = match auth {
            DeviceAuth::CertificateAuthority => Authentication {
                kind: AuthKind::CertificateAuthority,
                ..Default::default()
            },
            DeviceAuth::SelfSigned { primary, secondary } => {
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
        };
        let mut request = self.request(Method::Put, id, now_unix)?;
        request
            .headers
            .push(("Content-Type", "application/json".to_owned()));
        request.body = Some(Device::new(id.as_str(), authentication).to_json());
        Ok(request)
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

    fn arm() -> Arm {
        Arm::new(
            "https://management.azure.com/",
            "sub-1",
            "rg-1",
            "myhub",
            "Bearer eyJ0",
        )
        .unwrap()
    }

    const BASE: &str = "https://management.azure.com/subscriptions/sub-1/resourceGroups/rg-1/providers/Microsoft.Devices/IotHubs/myhub/certificates";

    #[test]
    fn arm_calls_match_the_contract() {
        let a = arm();
        let r = a.create("root-ca-cert", "PEM", false);
        assert_eq!(r.method, Method::Put);
        assert_eq!(r.url, format!("{BASE}/root-ca-cert?api-version=2023-06-30"));
        assert_eq!(r.header("authorization"), Some("Bearer eyJ0"));
        assert_eq!(r.header("If-Match"), None);
        assert_eq!(r.header("Content-Type"), Some("application/json"));
        let body: Value = serde_json::from_str(r.body.as_deref().unwrap()).unwrap();
        assert_eq!(
            body,
            json!({"properties": {"certificate": "PEM", "isVerified": false}})
        );

        let r = a.update("root-ca-cert", "PEM", true, "AAAA=");
        assert_eq!(r.header("If-Match"), Some("AAAA="));

        let r = a.generate_verification_code("root-ca-cert", "AAAAAAExpNs=");
        assert_eq!((r.method, r.body.as_deref()), (Method::Post, None));
        assert_eq!(
            r.url,
            format!("{BASE}/root-ca-cert/generateVerificationCode?api-version=2023-06-30")
        );
        assert_eq!(r.header("If-Match"), Some("AAAAAAExpNs="));

        let r = a.verify("root-ca-cert", "E2", "VPEM");
        assert_eq!(
            r.url,
            format!("{BASE}/root-ca-cert/verify?api-version=2023-06-30")
        );
        assert_eq!(r.header("If-Match"), Some("E2"));
        assert_eq!(
            serde_json::from_str::<Value>(r.body.as_deref().unwrap()).unwrap(),
            json!({"certificate": "VPEM"})
        );

        assert_eq!(a.list().url, format!("{BASE}?api-version=2023-06-30"));
        assert_eq!(a.get("x").method, Method::Get);
        let r = a.delete("x", "E3");
        assert_eq!(
            (r.method, r.header("If-Match")),
            (Method::Delete, Some("E3"))
        );
    }

    #[test]
    fn arm_settings_are_checked_before_anything_is_sent() {
        let bad = [
            Arm::new("management.azure.com", "s", "r", "h", "t"),
            Arm::new("https://management.azure.com", "", "r", "h", "t"),
            Arm::new("https://management.azure.com", "s", "r g", "h", "t"),
            Arm::new("https://management.azure.com", "s", "r", "h/x", "t"),
            Arm::new("https://management.azure.com", "s", "r", "h", "  "),
            Arm::new("https://management.azure.com", "s", "r", "h", "ab\ncd"),
        ];
        let fields: Vec<_> = bad
            .iter()
            .map(|r| match r {
                Err(RestError::Setting { field, .. }) => *field,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            fields,
            [
                "ARM endpoint",
                "Subscription id",
                "Resource group",
                "Hub name",
                "ARM access token",
                "ARM access token"
            ]
        );
        assert!(certificate_name("root-ca.cert_1").is_ok());
        assert!(certificate_name(&"a".repeat(65))
            .unwrap_err()
            .to_string()
            .contains("65"));
        assert!(certificate_name("root ca")
            .unwrap_err()
            .to_string()
            .contains("' '"));
    }

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
    fn answers_are_read() {
        let c = HubCertificate::parse(r#"{"id":"/x","name":"root","etag":"AAAAAAExpNs=","type":"Microsoft.Devices/IotHubs/Certificates","properties":{"subject":"Root","expiry":"Sun, 21 Nov 2027 10:00:00 GMT","thumbprint":"AB12","isVerified":false,"verificationCode":"7C1F"}}"#).unwrap();
        assert_eq!(c.etag, "AAAAAAExpNs=");
        assert_eq!(c.verification_code.as_deref(), Some("7C1F"));
        assert!(!c.is_verified);
        assert_eq!(
            HubCertificate::parse_list(r#"{"value":[]}"#).unwrap(),
            vec![]
        );
        assert!(matches!(
            HubCertificate::parse("<html>"),
            Err(RestError::BadAnswer(_))
        ));
        assert!(matches!(
            HubCertificate::parse_list("{}"),
            Err(RestError::BadAnswer(_))
        ));
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

    #[test]
    fn every_status_has_its_own_advice() {
        let arm = |s: u16, body: &str| RestError::from_status(Plane::Arm, s, body);
        let reg = |s: u16, body: &str| RestError::from_status(Plane::Registry, s, body);
        // Each body shape the two planes use.
        let e = arm(
            412,
            r#"{"code":"IH412001","httpStatusCode":"PreconditionFailed","message":"Precondition failed"}"#,
        );
        assert!(e.is_stale_etag());
        assert!(matches!(&e, RestError::Status { code: Some(c), .. } if c == "IH412001"));
        let e = arm(
            400,
            r#"{"error":{"code":"BadRequest","message":"ErrorCode:IH400053 issuer not found"}}"#,
        );
        assert!(matches!(&e, RestError::Status { code: Some(c), .. } if c == "IH400053"));
        assert!(e.to_string().contains("signed by another CA"));
        let e = reg(
            404,
            r#"{"Message":"ErrorCode:DeviceNotFound;Device d1 not found","ExceptionMessage":""}"#,
        );
        assert!(
            matches!(&e, RestError::Status { code: Some(c), message: Some(m), .. } if c == "DeviceNotFound" && m.contains("d1"))
        );
        let e = reg(502, "<html>bad gateway</html>");
        assert!(e.to_string().contains("bad gateway"));

        let cases = [
            arm(400, r#"{"code":"IH400054"}"#),
            arm(400, r#"{"code":"IH400052"}"#),
            arm(400, "{}"),
            reg(400, "{}"),
            arm(401, ""),
            reg(401, ""),
            arm(403, ""),
            reg(403, ""),
            arm(404, ""),
            reg(404, ""),
            arm(409, ""),
            reg(409, ""),
            arm(412, ""),
            arm(429, ""),
            arm(503, ""),
            RestError::Unreachable {
                plane: Plane::Arm,
                localhub: true,
                detail: String::new(),
            },
            RestError::Unreachable {
                plane: Plane::Arm,
                localhub: false,
                detail: String::new(),
            },
            RestError::Unreachable {
                plane: Plane::Registry,
                localhub: false,
                detail: String::new(),
            },
        ];
        let advice: Vec<String> = cases.iter().map(RestError::advice).collect();
        let mut unique = advice.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), advice.len(), "{advice:#?}");
        assert!(advice[4].contains("az account get-access-token"));
        assert!(advice[17].contains("relay"));
        assert!(advice[13].contains("429"));
    }
}

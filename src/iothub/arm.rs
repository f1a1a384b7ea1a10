//! CA certificate calls through Azure Resource Manager (or localhub's copy of that API), and the
//! certificate descriptions they answer with.

use super::error::{endpoint, path_part, setting, RestError};
use super::request::{Method, Request};
use crate::contract::{
    CertificateDescription, CertificateListDescription, CertificateName,
    CertificateVerificationDescription, Redacted, ARM_API_VERSION, DPS_ARM_API_VERSION,
};

/// Azure Resource Manager.
pub const AZURE_ARM_ENDPOINT: &str = "https://management.azure.com";

/// A certificate's name in the hub: `^[A-Za-z0-9-._]{1,64}$`.
pub fn certificate_name(value: &str) -> Result<String, RestError> {
    CertificateName::parse(value.trim())
        .map(|n| n.as_str().to_owned())
        .map_err(RestError::Name)
}

/// CA certificate calls through Azure Resource Manager (or localhub's copy of that API).
#[derive(Clone, PartialEq, Eq)]
pub struct Arm {
    base: String,
    token: String,
    api_version: &'static str,
}

impl std::fmt::Debug for Arm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Arm")
            .field("base", &self.base)
            .field("api_version", &self.api_version)
            .field("token", &Redacted(&self.token))
            .finish()
    }
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
        let hub = path_part("Hub name", hub)?;
        Self::build(
            endpoint_url,
            subscription,
            resource_group,
            &format!("IotHubs/{hub}"),
            ARM_API_VERSION,
            token,
        )
    }

    /// The same calls on a Device Provisioning Service's CA certificates
    /// (`Microsoft.Devices/provisioningServices/{dps}/certificates`): the same upload, verification
    /// code and proof of possession as the hub's.
    pub fn dps(
        endpoint_url: &str,
        subscription: &str,
        resource_group: &str,
        dps: &str,
        token: &str,
    ) -> Result<Self, RestError> {
        let dps = path_part("DPS name", dps)?;
        Self::build(
            endpoint_url,
            subscription,
            resource_group,
            &format!("provisioningServices/{dps}"),
            DPS_ARM_API_VERSION,
            token,
        )
    }

    fn build(
        endpoint_url: &str,
        subscription: &str,
        resource_group: &str,
        resource: &str,
        api_version: &'static str,
        token: &str,
    ) -> Result<Self, RestError> {
        let endpoint_url = endpoint("ARM endpoint", endpoint_url)?;
        let subscription = path_part("Subscription id", subscription)?;
        let resource_group = path_part("Resource group", resource_group)?;
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
                "{endpoint_url}/subscriptions/{subscription}/resourceGroups/{resource_group}/providers/Microsoft.Devices/{resource}/certificates"
            ),
            token: token.to_owned(),
            api_version,
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
        format!("{url}?api-version={}", self.api_version)
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
            .json(CertificateDescription::upload(pem, verified))
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
            .json(CertificateVerificationDescription {
                certificate: verification_pem.to_owned(),
            })
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

impl HubCertificate {
    fn from_description(d: CertificateDescription) -> Result<Self, RestError> {
        let name = d.name.unwrap_or_default();
        if name.is_empty() {
            return Err(RestError::BadAnswer(
                "a certificate description without a name".into(),
            ));
        }
        let p = d.properties;
        Ok(Self {
            name,
            etag: d.etag.unwrap_or_default().trim_matches('"').to_owned(),
            subject: p.subject.unwrap_or_default(),
            expiry: p.expiry.unwrap_or_default(),
            thumbprint: p.thumbprint.unwrap_or_default(),
            is_verified: p.is_verified.unwrap_or(false),
            verification_code: p.verification_code,
        })
    }

    /// Reads a GET/PUT/verify answer.
    pub fn parse(body: &str) -> Result<Self, RestError> {
        let d: CertificateDescription = serde_json::from_str(body)
            .map_err(|e| RestError::BadAnswer(format!("not a certificate description: {e}")))?;
        Self::from_description(d)
    }

    /// Reads a list answer (`{"value": [...]}`).
    pub fn parse_list(body: &str) -> Result<Vec<Self>, RestError> {
        let list: CertificateListDescription = serde_json::from_str(body)
            .map_err(|e| RestError::BadAnswer(format!("not a certificate list: {e}")))?;
        list.value.into_iter().map(Self::from_description).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

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
    fn dps_certificates_take_the_same_calls_under_provisioning_services() {
        let a = Arm::dps(
            "https://management.azure.com",
            "sub-1",
            "rg-1",
            "fleet-dps",
            "eyJ0",
        )
        .unwrap();
        const DPS: &str = "https://management.azure.com/subscriptions/sub-1/resourceGroups/rg-1/providers/Microsoft.Devices/provisioningServices/fleet-dps/certificates";
        assert_eq!(
            a.create("root", "PEM", false).url,
            format!("{DPS}/root?api-version=2022-12-12")
        );
        assert_eq!(
            a.verify("root", "E", "V").url,
            format!("{DPS}/root/verify?api-version=2022-12-12")
        );
        let e = Arm::dps("https://management.azure.com", "s", "r", "bad/name", "t").unwrap_err();
        assert!(e.to_string().contains("DPS name"), "{e}");
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
    fn certificate_answers_are_read() {
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
    }
}

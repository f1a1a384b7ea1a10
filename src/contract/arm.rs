//! The CA certificate resource of Azure Resource Manager, as the hub (`Microsoft.Devices/IotHubs`,
//! api-version 2023-06-30) and DPS (`Microsoft.Devices/provisioningServices`, 2022-12-12) both
//! declare it in Azure/azure-rest-api-specs (`iothub.json` / `iotdps.json`): `CertificateDescription`
//! (the PUT body and every answer), `CertificateProperties` (with `verificationCode` as
//! `CertificatePropertiesWithNonce` adds it after `generateVerificationCode`),
//! `CertificateVerificationDescription` (the `verify` body) and `CertificateListDescription`.
//! The app writes these, localhub reads and answers them; fields not known are skipped on read.

use serde::{Deserialize, Serialize};

/// A CA certificate resource: `{id, name, type, etag, properties}`. A PUT sends `properties`
/// alone (`certificate`, `isVerified`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateDescription {
    /// `/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Devices/{kind}/{name}/certificates/{cert}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The certificate's name in the hub.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `Microsoft.Devices/IotHubs/Certificates` (or `provisioningServices`).
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The current etag (the `If-Match` of the next change).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// What the certificate is.
    pub properties: CertificateProperties,
}

/// `CertificateProperties` (and `CertificatePropertiesWithNonce`): the service fills every field
/// but `certificate` and `isVerified`, which a PUT sets.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateProperties {
    /// Subject CN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Not-after, RFC 1123.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry: Option<String>,
    /// SHA-1 thumbprint, uppercase hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbprint: Option<String>,
    /// Possession proven, or automatic verification asked for (on a PUT).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_verified: Option<bool>,
    /// When uploaded, RFC 1123.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// When last changed, RFC 1123.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<String>,
    /// The certificate: PEM, or base64 DER (the service takes both).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<String>,
    /// The proof-of-possession code, after `generateVerificationCode`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification_code: Option<String>,
}

impl CertificateDescription {
    /// The PUT body: the certificate, and whether to verify it automatically.
    pub fn upload(certificate: &str, is_verified: bool) -> Self {
        Self {
            properties: CertificateProperties {
                certificate: Some(certificate.to_owned()),
                is_verified: Some(is_verified),
                ..Default::default()
            },
            ..Default::default()
        }
    }
}

/// The `verify` body: the verification certificate (PEM or base64 DER).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateVerificationDescription {
    /// The verification certificate.
    pub certificate: String,
}

/// The list answer: `{"value": [...]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateListDescription {
    /// Every certificate (an answer without it is not a list).
    pub value: Vec<CertificateDescription>,
}

/// The `code` of an ARM error body for the certificate calls: IoT Hub's `IH` codes, each named by
/// what the service says with it. IH400053 is the service's, as users meet it ("Proof-Of-Possession
/// failed. Issuer certificate '...' cannot be found in the certificate chain ... errorcode:
/// IH400053": Azure/azure-cli#5376, Azure/azure-iot-sdk-c#1347); Microsoft publishes no table of
/// the others, so they follow the service's numbering (status, then a serial) and localhub is the
/// only side that writes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ArmErrorCode {
    /// The body is not a certificate description.
    BodyInvalid,
    /// The certificate's name breaks `^[A-Za-z0-9-._]{1,64}$`.
    NameInvalid,
    /// The certificate is not a readable X.509 certificate.
    CertificateInvalid,
    /// `verify` before any `generateVerificationCode`.
    NoVerificationCode,
    /// The verification certificate was signed by another key than the CA's.
    VerificationSignedByAnother,
    /// The verification certificate's CN is not the current code.
    VerificationCodeMismatch,
    /// No certificate of that name.
    CertificateNotFound,
    /// `If-Match` missing or stale.
    PreconditionFailed,
}

impl ArmErrorCode {
    const ALL: [Self; 8] = [
        Self::BodyInvalid,
        Self::NameInvalid,
        Self::CertificateInvalid,
        Self::NoVerificationCode,
        Self::VerificationSignedByAnother,
        Self::VerificationCodeMismatch,
        Self::CertificateNotFound,
        Self::PreconditionFailed,
    ];

    /// The code as the service writes it (`IH400053`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BodyInvalid => "IH400001",
            Self::NameInvalid => "IH400004",
            Self::CertificateInvalid => "IH400037",
            Self::NoVerificationCode => "IH400052",
            Self::VerificationSignedByAnother => "IH400053",
            Self::VerificationCodeMismatch => "IH400054",
            Self::CertificateNotFound => "IH404004",
            Self::PreconditionFailed => "IH412001",
        }
    }

    /// Reads a code; `None` for one this version does not know.
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == code.trim())
    }
}

impl std::fmt::Display for ArmErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_upload_writes_the_certificate_and_the_verification_choice_only() {
        let body = serde_json::to_value(CertificateDescription::upload("PEM", false)).unwrap();
        assert_eq!(
            body,
            json!({"properties": {"certificate": "PEM", "isVerified": false}})
        );
    }

    #[test]
    fn an_answer_as_arm_writes_it_reads_and_writes_back_the_same() {
        // The shape of the REST reference's example answer (Certificates_Get), with the code
        // `generateVerificationCode` adds.
        let answer = json!({
            "id": "/subscriptions/91d12660/resourceGroups/myResourceGroup/providers/Microsoft.Devices/IotHubs/testHub/certificates/cert",
            "name": "cert",
            "type": "Microsoft.Devices/IotHubs/Certificates",
            "etag": "AAAAAAFD6M4=",
            "properties": {
                "subject": "CN=testdevice1",
                "expiry": "Sat, 31 Dec 2039 23:59:59 GMT",
                "thumbprint": "97388663832D0393C9246CAB4FBA2C8677185A25",
                "isVerified": false,
                "created": "Thu, 12 Oct 2017 19:23:50 GMT",
                "updated": "Thu, 12 Oct 2017 19:26:56 GMT",
                "certificate": "",
                "verificationCode": "AB12CD"
            }
        });
        let read: CertificateDescription = serde_json::from_value(answer.clone()).unwrap();
        assert_eq!(read.name.as_deref(), Some("cert"));
        assert_eq!(read.properties.is_verified, Some(false));
        assert_eq!(read.properties.verification_code.as_deref(), Some("AB12CD"));
        assert_eq!(serde_json::to_value(&read).unwrap(), answer);
        let list: CertificateListDescription =
            serde_json::from_value(json!({"value": [answer]})).unwrap();
        assert_eq!(list.value, vec![read]);
        // Fields this version does not know are skipped.
        let extra: CertificateDescription = serde_json::from_value(
            json!({"properties": {"policyResourceId": "x"}, "systemData": {}}),
        )
        .unwrap();
        assert_eq!(extra.properties, CertificateProperties::default());
    }

    #[test]
    fn error_codes_read_back_as_written() {
        for code in ArmErrorCode::ALL {
            assert_eq!(ArmErrorCode::parse(code.as_str()), Some(code));
        }
        assert_eq!(
            ArmErrorCode::parse("IH400053"),
            Some(ArmErrorCode::VerificationSignedByAnother)
        );
        assert_eq!(ArmErrorCode::parse("IH999999"), None);
    }
}

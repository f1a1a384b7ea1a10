//! What a saved workspace holds: the CAs of the page with their keys (to sign again next month
//! without re-importing a `.pfx`), the devices issued (certificates, and keys where the page made
//! them), and the app's settings as it chose to keep them. Written as JSON, then sealed by
//! [`super::vault`].

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{Certificate, CertificateAuthority, KeyPair, PkiError};
use crate::contract::Redacted;

/// The version of the document inside the sealed file.
pub const WORKSPACE_VERSION: u32 = 1;

/// A CA with its key and the CAs above it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredCa {
    /// How the page shows it ("Root CA", "Intermediate CA 1").
    pub title: String,
    /// Its certificate, PEM.
    pub certificate: String,
    /// Its private key, PKCS#8 PEM.
    pub key: String,
    /// The CA certificates above it, nearest first, PEM (empty for a root).
    pub issuers: Vec<String>,
}

impl StoredCa {
    /// `ca` as stored, under `title`.
    pub fn from_ca(title: &str, ca: &CertificateAuthority) -> Result<Self, PkiError> {
        Ok(Self {
            title: title.to_owned(),
            certificate: ca.certificate().pem(),
            key: ca.key().to_pkcs8_pem()?.to_string(),
            issuers: ca.issuers().iter().map(Certificate::pem).collect(),
        })
    }

    /// The CA again, able to sign; refused (by [`CertificateAuthority::import`]) when the key
    /// does not match the certificate.
    pub fn restore(&self) -> Result<CertificateAuthority, PkiError> {
        let issuers = self
            .issuers
            .iter()
            .map(|p| Certificate::from_pem(p))
            .collect::<Result<Vec<_>, _>>()?;
        CertificateAuthority::import(
            Certificate::from_pem(&self.certificate)?,
            KeyPair::from_pkcs8_pem(&self.key)?,
            issuers,
        )
    }
}

/// A device certificate issued on the page.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredDevice {
    /// How the page shows it.
    pub title: String,
    /// Its certificate, PEM.
    pub certificate: String,
    /// Its private key (PKCS#8 PEM) when the page made it; none for a device's own CSR.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

/// The whole workspace.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Workspace {
    /// [`WORKSPACE_VERSION`].
    pub version: u32,
    /// The CAs in the order made (a root before the intermediates it signed).
    pub cas: Vec<StoredCa>,
    /// Which CA signs (an index into `cas`).
    #[serde(default)]
    pub active_ca: usize,
    /// Devices, newest first.
    pub devices: Vec<StoredDevice>,
    /// The app's settings as it keeps them (hub and DPS targets and credentials).
    #[serde(default)]
    pub settings: serde_json::Value,
}

impl Workspace {
    /// An empty workspace.
    pub fn new() -> Self {
        Self {
            version: WORKSPACE_VERSION,
            cas: Vec::new(),
            active_ca: 0,
            devices: Vec::new(),
            settings: serde_json::Value::Null,
        }
    }

    /// The JSON sealed into the file.
    pub fn to_json(&self) -> Result<zeroize::Zeroizing<Vec<u8>>, PkiError> {
        serde_json::to_vec(self)
            .map(zeroize::Zeroizing::new)
            .map_err(|e| PkiError::VaultInvalid {
                detail: e.to_string(),
            })
    }

    /// Reads the JSON opened from a file; checks every certificate and key parses, so a restore
    /// either brings everything back or nothing.
    pub fn from_json(json: &[u8]) -> Result<Self, PkiError> {
        let w: Self = serde_json::from_slice(json).map_err(|e| PkiError::VaultInvalid {
            detail: format!("its content is not a workspace ({e})"),
        })?;
        if w.version != WORKSPACE_VERSION {
            return Err(PkiError::VaultInvalid {
                detail: format!(
                    "its content is workspace version {}; this page reads {WORKSPACE_VERSION}",
                    w.version
                ),
            });
        }
        for ca in &w.cas {
            ca.restore()?;
        }
        for d in &w.devices {
            Certificate::from_pem(&d.certificate)?;
            if let Some(k) = &d.key {
                KeyPair::from_pkcs8_pem(k)?;
            }
        }
        Ok(w)
    }
}

// `Debug` never shows a private key nor the settings (they hold the hub's and DPS's credentials):
// only how long they are. Certificates are public and show as they are.

impl fmt::Debug for StoredCa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredCa")
            .field("title", &self.title)
            .field("certificate", &self.certificate)
            .field("key", &Redacted(&self.key))
            .field("issuers", &self.issuers)
            .finish()
    }
}

impl fmt::Debug for StoredDevice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredDevice")
            .field("title", &self.title)
            .field("certificate", &self.certificate)
            .field("key", &self.key.as_deref().map(Redacted))
            .finish()
    }
}

impl fmt::Debug for Workspace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let settings = if self.settings.is_null() {
            "<empty>"
        } else {
            "<redacted>"
        };
        f.debug_struct("Workspace")
            .field("version", &self.version)
            .field("cas", &self.cas)
            .field("active_ca", &self.active_ca)
            .field("devices", &self.devices)
            .field("settings", &format_args!("{settings}"))
            .finish()
    }
}

impl Default for Workspace {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::{
        open_vault, seal_vault, DeviceCertParams, IntermediateCaParams, KdfCost, KeyAlgorithm,
        RootCaParams, ValidityDays,
    };
    use time::OffsetDateTime;

    #[test]
    fn cas_and_devices_come_back_able_to_sign_after_a_sealed_round_trip() {
        let now = OffsetDateTime::now_utc();
        let root = CertificateAuthority::create_root(&RootCaParams::default(), now).unwrap();
        let inter = root
            .issue_intermediate(
                &IntermediateCaParams {
                    subject: RootCaParams {
                        common_name: "Kept Intermediate".into(),
                        ..RootCaParams::default()
                    },
                    path_len: Some(0),
                },
                now,
            )
            .unwrap();
        let dev = inter
            .issue_device_identity(
                &DeviceCertParams {
                    device_id: crate::contract::DeviceId::parse("kept-1").unwrap(),
                    validity: ValidityDays::new(30).unwrap(),
                },
                KeyAlgorithm::EcdsaP256,
                now,
            )
            .unwrap();
        let mut w = Workspace::new();
        w.cas.push(StoredCa::from_ca("Root CA", &root).unwrap());
        w.cas
            .push(StoredCa::from_ca("Intermediate CA", &inter).unwrap());
        w.active_ca = 1;
        w.devices.push(StoredDevice {
            title: "Device kept-1".into(),
            certificate: dev.certificate.pem(),
            key: Some(dev.key.to_pkcs8_pem().unwrap().to_string()),
        });
        w.settings = serde_json::json!({"target": "localhub"});

        let sealed = seal_vault(
            &w.to_json().unwrap(),
            "a long enough phrase",
            KdfCost::OWASP,
        )
        .unwrap();
        let back =
            Workspace::from_json(&open_vault(&sealed, "a long enough phrase").unwrap()).unwrap();
        assert_eq!(back, w);
        // The intermediate signs again, and what it signs chains to the same root.
        let again = back.cas[1].restore().unwrap();
        assert_eq!(again.issuers().len(), 1);
        let next = again
            .issue_device_identity(
                &DeviceCertParams {
                    device_id: crate::contract::DeviceId::parse("kept-2").unwrap(),
                    validity: ValidityDays::new(30).unwrap(),
                },
                KeyAlgorithm::EcdsaP256,
                now,
            )
            .unwrap();
        assert_eq!(
            next.certificate.info().unwrap().issuer,
            inter.certificate().info().unwrap().subject
        );
    }

    #[test]
    fn a_workspace_whose_key_is_not_its_cas_is_refused_whole() {
        let now = OffsetDateTime::now_utc();
        let a = CertificateAuthority::create_root(&RootCaParams::default(), now).unwrap();
        let b = CertificateAuthority::create_root(&RootCaParams::default(), now).unwrap();
        let mut stored = StoredCa::from_ca("Root CA", &a).unwrap();
        stored.key = b.key().to_pkcs8_pem().unwrap().to_string();
        let mut w = Workspace::new();
        w.cas.push(stored);
        let e = Workspace::from_json(&w.to_json().unwrap()).unwrap_err();
        assert!(
            e.to_string().contains("does not belong to the certificate"),
            "{e}"
        );
        let e = Workspace::from_json(br#"{"version":7,"cas":[],"devices":[]}"#).unwrap_err();
        assert!(e.to_string().contains("version 7"), "{e}");
    }
}

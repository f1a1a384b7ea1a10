//! Certificate signing requests (PKCS#10): made here for a device key, or made on the device and
//! signed here after checking the request's own signature, so the device key never moves.

use der::{Decode, Encode};
use time::OffsetDateTime;
use x509_cert::request::CertReq;

use super::armor::pem_rfc7468_decode;
use super::authority::{CertificateAuthority, DeviceCertParams};
use super::oid::{OID_COMMON_NAME, OID_EXTENSION_REQUEST};
use super::signature::{self, PublicKey, Unverifiable};
use super::{Certificate, KeyPair, PkiError, ValidityDays};
use crate::contract::DeviceId;

fn invalid(detail: impl Into<String>) -> PkiError {
    PkiError::CsrInvalid {
        detail: detail.into(),
    }
}

/// A request whose signature checked out, and what it asks for.
#[derive(Debug, Clone)]
pub struct SigningRequest {
    /// Subject as `CN=…, O=…`.
    pub subject: String,
    /// Subject CN, if any.
    pub common_name: Option<String>,
    /// Key type, e.g. "ECDSA P-256".
    pub key_type: String,
    /// The extensions requested (by name or OID); the device profile is applied regardless.
    pub requested_extensions: Vec<String>,
    key: PublicKey,
}

fn extension_name(oid: &der::oid::ObjectIdentifier) -> String {
    match oid.to_string().as_str() {
        "2.5.29.15" => "keyUsage".into(),
        "2.5.29.37" => "extendedKeyUsage".into(),
        "2.5.29.17" => "subjectAltName".into(),
        "2.5.29.19" => "basicConstraints".into(),
        "2.5.29.14" => "subjectKeyIdentifier".into(),
        other => other.to_owned(),
    }
}

/// Reads a CSR (PEM `CERTIFICATE REQUEST`, or DER) and checks its self-signature.
pub fn read_csr(bytes: &[u8]) -> Result<SigningRequest, PkiError> {
    super::import::size_ok(bytes.len())?;
    let der = match std::str::from_utf8(bytes) {
        Ok(text) if text.trim_start().starts_with("-----BEGIN") => {
            let (label, der) = pem_rfc7468_decode(text, "CERTIFICATE REQUEST")?;
            if label != "CERTIFICATE REQUEST" && label != "NEW CERTIFICATE REQUEST" {
                return Err(PkiError::PemInvalid {
                    expected: "CERTIFICATE REQUEST",
                    detail: format!("found {label}"),
                });
            }
            der
        }
        _ if bytes.is_empty() => return Err(invalid("the file is empty")),
        _ => bytes.to_vec(),
    };
    let req =
        CertReq::from_der(&der).map_err(|e| invalid(format!("not a PKCS#10 request: {e}")))?;
    let spki = &req.info.public_key;
    let key = PublicKey::of(spki)?;
    let (kind, point) = (key.kind, &key.point);

    // The request signs its own info with the private key of the public key it carries.
    let signed = req.info.to_der().map_err(|e| invalid(e.to_string()))?;
    match signature::verify(kind, point, &req.algorithm.oid, &signed, req.signature.raw_bytes()) {
        Ok(true) => {}
        Ok(false) => return Err(invalid("its signature does not match its contents: it was altered after it was made, or made with another key. Make a new CSR on the device")),
        Err(Unverifiable::SignatureAlgorithm(o)) => {
            return Err(invalid(format!(
                "its signature algorithm {o} is not ECDSA with SHA-256/384 nor RSA with SHA-256/384/512"
            )))
        }
        Err(Unverifiable::BadKey(k)) => {
            return Err(invalid(format!(
                "its public key is not a valid {} key",
                k.label()
            )))
        }
    }

    let subject = super::dn::rfc4514(&req.info.subject);
    let common_name = req
        .info
        .subject
        .iter()
        .find(|a| a.oid == OID_COMMON_NAME)
        .and_then(|a| {
            a.value
                .decode_as::<der::asn1::Utf8StringRef>()
                .map(|s| s.as_str().to_owned())
                .or_else(|_| {
                    a.value
                        .decode_as::<der::asn1::PrintableStringRef>()
                        .map(|s| s.as_str().to_owned())
                })
                .ok()
        });
    let mut requested_extensions = Vec::new();
    for attr in req.info.attributes.iter() {
        if attr.oid == OID_EXTENSION_REQUEST {
            for v in attr.values.iter() {
                if let Ok(exts) = v.decode_as::<Vec<x509_cert::ext::Extension>>() {
                    requested_extensions.extend(exts.iter().map(|e| extension_name(&e.extn_id)));
                }
            }
        }
    }
    Ok(SigningRequest {
        subject,
        common_name,
        key_type: kind.label(),
        requested_extensions,
        key,
    })
}

impl SigningRequest {
    /// The CSR's CN as a device id, checked against IoT Hub's rules.
    pub fn device_id(&self) -> Result<DeviceId, PkiError> {
        let cn = self
            .common_name
            .as_deref()
            .ok_or_else(|| invalid("its subject has no CN: the CN must be the device id"))?;
        DeviceId::parse(cn).map_err(PkiError::Id)
    }

    /// Issues the device certificate (CN = device id, clientAuth, the device profile) for the
    /// request's public key.
    pub fn sign(
        &self,
        ca: &CertificateAuthority,
        validity: ValidityDays,
        now: OffsetDateTime,
    ) -> Result<Certificate, PkiError> {
        let device_id = self.device_id()?;
        ca.issue_device_for(
            &DeviceCertParams {
                device_id,
                validity,
            },
            &self.key,
            now,
        )
    }
}

/// Makes a CSR for `key` with CN = `device_id` (what a device would send), PEM.
pub fn make_csr(key: &KeyPair, device_id: &DeviceId) -> Result<String, PkiError> {
    let mut params = rcgen::CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, device_id.as_str());
    let csr = params
        .serialize_request(key)
        .map_err(|e| PkiError::Signing {
            detail: e.to_string(),
        })?;
    csr.pem().map_err(|e| PkiError::Signing {
        detail: e.to_string(),
    })
}

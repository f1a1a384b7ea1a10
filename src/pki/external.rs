//! Certificates signed outside this module: the certificate is made here (subject, extensions,
//! validity, issuer), its to-be-signed part handed out, and the CA's signature, made by another
//! implementation of the same key (the browser's WebCrypto, several times faster than this crate
//! in WebAssembly), put in. The device's key may come from there too: only its public point is
//! needed here.

use std::cell::RefCell;

use der::asn1::{AnyRef, BitString};
use der::{Decode, Encode};
use time::OffsetDateTime;

use super::authority::CertificateAuthority;
use super::signature::{KeyKind, PublicKey};
use super::{Certificate, DeviceCertParams, KeyAlgorithm, KeyPair, PkiError};

/// A certificate made and waiting for its issuer's signature.
#[derive(Debug, Clone)]
pub struct UnsignedCertificate {
    /// The certificate with a placeholder signature (for its signature algorithm).
    placeholder: Vec<u8>,
    /// The TBSCertificate DER: what the issuer signs.
    tbs: Vec<u8>,
}

/// Records what rcgen asks the CA's key to sign, and answers with a placeholder.
struct Capture<'a> {
    ca_key: &'a KeyPair,
    tbs: RefCell<Vec<u8>>,
}

impl rcgen::PublicKeyData for Capture<'_> {
    fn der_bytes(&self) -> &[u8] {
        rcgen::PublicKeyData::der_bytes(self.ca_key)
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        rcgen::PublicKeyData::algorithm(self.ca_key)
    }
}

impl rcgen::SigningKey for Capture<'_> {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        *self.tbs.borrow_mut() = msg.to_vec();
        Ok(vec![0; 8])
    }
}

#[derive(der::Sequence)]
struct SignedCertificate<'a> {
    tbs: AnyRef<'a>,
    algorithm: AnyRef<'a>,
    signature: BitString,
}

fn encoding(e: der::Error) -> PkiError {
    PkiError::Signing {
        detail: e.to_string(),
    }
}

impl UnsignedCertificate {
    /// What the issuer's key signs (ECDSA with SHA-256/384, or RSA PKCS#1 v1.5 with SHA-256, as
    /// the CA's key type says).
    pub fn to_be_signed(&self) -> &[u8] {
        &self.tbs
    }

    /// The certificate with the issuer's `signature` as X.509 carries it (a DER ECDSA-Sig-Value,
    /// or the RSA signature bytes); see [`ecdsa_signature_der`] for WebCrypto's form.
    pub fn signed(&self, signature: &[u8]) -> Result<Certificate, PkiError> {
        let parsed = super::certificate::parse(&self.placeholder)?;
        let algorithm = parsed.signature_algorithm().to_der().map_err(encoding)?;
        let der = SignedCertificate {
            tbs: AnyRef::from_der(&self.tbs).map_err(encoding)?,
            algorithm: AnyRef::from_der(&algorithm).map_err(encoding)?,
            signature: BitString::from_bytes(signature).map_err(encoding)?,
        }
        .to_der()
        .map_err(encoding)?;
        Certificate::from_der(der)
    }
}

/// An ECDSA signature as WebCrypto gives it (r and s, each the curve's size: IEEE P1363) in the
/// DER form X.509 carries.
pub fn ecdsa_signature_der(algorithm: KeyAlgorithm, raw: &[u8]) -> Result<Vec<u8>, PkiError> {
    let bad = |e: &dyn std::fmt::Display| PkiError::Signing {
        detail: format!("not an ECDSA signature: {e}"),
    };
    match algorithm {
        KeyAlgorithm::EcdsaP256 => p256::ecdsa::Signature::from_slice(raw)
            .map(|s| s.to_der().as_bytes().to_vec())
            .map_err(|e| bad(&e)),
        KeyAlgorithm::EcdsaP384 => p384::ecdsa::Signature::from_slice(raw)
            .map(|s| s.to_der().as_bytes().to_vec())
            .map_err(|e| bad(&e)),
        KeyAlgorithm::Rsa(_) => Ok(raw.to_vec()),
    }
}

impl CertificateAuthority {
    /// The device certificate [`Self::issue_device`] would make for the ECDSA key whose public
    /// point (SEC1, uncompressed) is `public_point`, unsigned: sign [`UnsignedCertificate::to_be_signed`]
    /// with this CA's key elsewhere.
    pub fn device_unsigned(
        &self,
        params: &DeviceCertParams,
        key: KeyAlgorithm,
        public_point: &[u8],
        now: OffsetDateTime,
    ) -> Result<UnsignedCertificate, PkiError> {
        let kind = match key {
            KeyAlgorithm::EcdsaP256 => KeyKind::P256,
            KeyAlgorithm::EcdsaP384 => KeyKind::P384,
            KeyAlgorithm::Rsa(_) => {
                return Err(PkiError::Signing {
                    detail: "device keys made elsewhere are ECDSA".into(),
                })
            }
        };
        let public = PublicKey {
            kind,
            point: public_point.to_vec(),
        };
        let capture = Capture {
            ca_key: self.key(),
            tbs: RefCell::new(Vec::new()),
        };
        let placeholder = self.issue_device_with_signer(params, &public, &capture, now)?;
        let tbs = capture.tbs.into_inner();
        Ok(UnsignedCertificate {
            placeholder: placeholder.der().to_vec(),
            tbs,
        })
    }
}

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
use super::{
    Certificate, DeviceCertParams, KeyAlgorithm, KeyPair, PkiError, VerificationCertParams,
};

/// A certificate made and waiting for its issuer's signature.
#[derive(Debug, Clone)]
pub struct UnsignedCertificate {
    /// The signature algorithm (AlgorithmIdentifier DER), as the certificate repeats it.
    algorithm: Vec<u8>,
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
        let der = SignedCertificate {
            tbs: AnyRef::from_der(&self.tbs).map_err(encoding)?,
            algorithm: AnyRef::from_der(&self.algorithm).map_err(encoding)?,
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
        let parsed = super::certificate::parse(placeholder.der())?;
        Ok(UnsignedCertificate {
            algorithm: parsed.signature_algorithm().to_der().map_err(encoding)?,
            tbs: capture.tbs.into_inner(),
        })
    }

    /// The proof-of-possession certificate for the ECDSA key (of
    /// [`Self::verification_key_algorithm`]'s kind) whose public point is `public_point`, unsigned:
    /// the page makes that key and the CA's signature with WebCrypto. Written here element by
    /// element, not by the certificate builder, so a module that proves possession carries
    /// neither the builder nor key generation nor ECDSA signing. The same certificate as
    /// [`Self::issue_verification`]'s: CN = the code, the CA's subject as issuer (its very
    /// bytes), backdated as every certificate here, basicConstraints CA:FALSE and keyUsage
    /// digitalSignature (both critical), the key's identifier and the CA's.
    pub fn verification_unsigned(
        &self,
        params: &VerificationCertParams,
        public_point: &[u8],
        now: OffsetDateTime,
    ) -> Result<UnsignedCertificate, PkiError> {
        use super::der_out::{common_name_der, der_len, serial_bytes};
        use sha1::{Digest, Sha1};
        self.check_validity(params.validity, now)?;
        let (curve, len): (&[u8], usize) = match self.verification_key_algorithm() {
            KeyAlgorithm::EcdsaP384 => (&[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22], 97),
            _ => (
                &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07],
                65,
            ),
        };
        if public_point.len() != len || public_point.first() != Some(&4) {
            return Err(PkiError::Signing {
                detail: format!(
                    "a public point of {} bytes where the verification key's has {len}",
                    public_point.len()
                ),
            });
        }
        let algorithm: &[u8] = match self.key().algorithm() {
            KeyAlgorithm::EcdsaP256 => &[
                0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02,
            ],
            KeyAlgorithm::EcdsaP384 => &[
                0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03,
            ],
            KeyAlgorithm::Rsa(_) => &[
                0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05,
                0x00,
            ],
        };
        let (subject, ca_key_id) = subject_and_key_id(self.certificate().der())?;
        let tlv = |out: &mut Vec<u8>, tag: u8, value: &[u8]| {
            out.push(tag);
            der_len(out, value.len());
            out.extend_from_slice(value);
        };
        let mut serial = [0u8; 16];
        getrandom::fill(&mut serial).map_err(|_| PkiError::Random)?;
        let now = now.replace_nanosecond(0).unwrap_or(now);
        let start = now - super::authority::BACKDATE;
        let end = now + time::Duration::days(i64::from(params.validity.days()));
        let mut validity = Vec::new();
        for t in [start, end] {
            let (tag, text) = x509_time(t);
            tlv(&mut validity, tag, text.as_bytes());
        }
        let mut key_info = Vec::new();
        let mut ec = vec![0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
        ec.extend_from_slice(curve);
        tlv(&mut key_info, 0x30, &ec);
        let mut bits = vec![0];
        bits.extend_from_slice(public_point);
        tlv(&mut key_info, 0x03, &bits);
        // basicConstraints CA:FALSE and keyUsage digitalSignature, both critical.
        let mut extensions = vec![
            0x30, 0x0c, 0x06, 0x03, 0x55, 0x1d, 0x13, 0x01, 0x01, 0xff, 0x04, 0x02, 0x30, 0x00,
            0x30, 0x0e, 0x06, 0x03, 0x55, 0x1d, 0x0f, 0x01, 0x01, 0xff, 0x04, 0x04, 0x03, 0x02,
            0x07, 0x80,
        ];
        let mut ski = Vec::new();
        tlv(&mut ski, 0x04, &Sha1::digest(public_point));
        let mut ext = vec![0x06, 0x03, 0x55, 0x1d, 0x0e];
        tlv(&mut ext, 0x04, &ski);
        tlv(&mut extensions, 0x30, &ext);
        if let Some(id) = ca_key_id {
            let (mut aki, mut key_id) = (Vec::new(), Vec::new());
            tlv(&mut key_id, 0x80, id);
            tlv(&mut aki, 0x30, &key_id);
            let mut ext = vec![0x06, 0x03, 0x55, 0x1d, 0x23];
            tlv(&mut ext, 0x04, &aki);
            tlv(&mut extensions, 0x30, &ext);
        }
        let mut body = vec![0xa0, 0x03, 0x02, 0x01, 0x02];
        tlv(&mut body, 0x02, &serial_bytes(serial));
        body.extend_from_slice(algorithm);
        body.extend_from_slice(subject);
        tlv(&mut body, 0x30, &validity);
        common_name_der(&mut body, params.code.as_str().as_bytes());
        tlv(&mut body, 0x30, &key_info);
        let mut wrapped = Vec::new();
        tlv(&mut wrapped, 0x30, &extensions);
        tlv(&mut body, 0xa3, &wrapped);
        let mut tbs = Vec::with_capacity(body.len() + 4);
        tlv(&mut tbs, 0x30, &body);
        Ok(UnsignedCertificate {
            algorithm: algorithm.to_vec(),
            tbs,
        })
    }
}

/// UTCTime through 2049, GeneralizedTime from 2050 on (RFC 5280 §4.1.2.5), with its tag.
fn x509_time(t: OffsetDateTime) -> (u8, String) {
    let t = t.to_offset(time::UtcOffset::UTC);
    let rest = format!(
        "{:02}{:02}{:02}{:02}{:02}Z",
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    if (1950..2050).contains(&t.year()) {
        (0x17, format!("{:02}{rest}", t.year() % 100))
    } else {
        (0x18, format!("{:04}{rest}", t.year()))
    }
}

/// A certificate's subject (the Name's DER, as it is) and its subject key identifier, if any.
fn subject_and_key_id(der: &[u8]) -> Result<(&[u8], Option<&[u8]>), PkiError> {
    use super::der_in::{element, elements};
    let bad = |e: String| PkiError::CertificateInvalid { detail: e };
    let (cert, _) = element(der).map_err(bad)?;
    let (tbs, _) = element(cert.value).map_err(bad)?;
    // version [0], serial, signature, issuer, validity, subject, key info, then [1] [2] [3].
    let parts = elements(tbs.value)
        .collect::<Result<Vec<_>, _>>()
        .map_err(bad)?;
    let first = usize::from(parts.first().is_some_and(|e| e.tag == 0xa0));
    let subject = parts
        .get(first + 4)
        .filter(|e| e.tag == 0x30)
        .ok_or_else(|| bad("the CA certificate has no subject".into()))?
        .whole;
    let mut key_id = None;
    if let Some(extensions) = parts.iter().find(|e| e.tag == 0xa3) {
        let (list, _) = element(extensions.value).map_err(bad)?;
        for ext in elements(list.value) {
            let (oid, rest) = element(ext.map_err(bad)?.value).map_err(bad)?;
            if oid.value != [0x55, 0x1d, 0x0e] {
                continue;
            }
            // A `critical` BOOLEAN may come before the value.
            let (mut value, after) = element(rest).map_err(bad)?;
            if value.tag == 0x01 {
                value = element(after).map_err(bad)?.0;
            }
            let (id, _) = element(value.value).map_err(bad)?;
            key_id = Some(id.value);
        }
    }
    Ok((subject, key_id))
}

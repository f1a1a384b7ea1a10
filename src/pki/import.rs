//! Bringing an existing CA in: its certificate (PEM or DER) and its key (PKCS#8, SEC1, or
//! encrypted PKCS#8 with a password), checked to belong together and to be a CA.

use der::asn1::{BmpString, Ia5StringRef, PrintableStringRef, TeletexStringRef, Utf8StringRef};
use der::{Encode, Tag, Tagged};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, DnValue, IsCa, KeyIdMethod,
    KeyUsagePurpose,
};
use x509_cert::ext::pkix::{BasicConstraints as X509BasicConstraints, SubjectKeyIdentifier};

use super::authority::CertificateAuthority;
use super::certificate::parse;
use super::Field;
use super::{Certificate, KeyPair, PkiError};

fn invalid(detail: impl Into<String>) -> PkiError {
    PkiError::CertificateInvalid {
        detail: detail.into(),
    }
}

/// Inputs larger than this are refused before parsing (and files before they are read).
pub const MAX_INPUT_BYTES: usize = 1024 * 1024;

/// Refuses inputs over [`MAX_INPUT_BYTES`]; the shell calls it with a file's size before
/// reading the file.
pub fn size_ok(len: usize) -> Result<(), PkiError> {
    if len > MAX_INPUT_BYTES {
        return Err(PkiError::TooLarge { bytes: len });
    }
    Ok(())
}

/// Reads a certificate given as PEM text or as DER bytes (`.cer`, `.crt`, `.der`, `.pem`).
pub fn certificate_from_bytes(bytes: &[u8]) -> Result<Certificate, PkiError> {
    size_ok(bytes.len())?;
    match std::str::from_utf8(bytes) {
        Ok(text) if text.trim_start().starts_with("-----BEGIN") => Certificate::from_pem(text),
        _ if bytes.is_empty() => Err(invalid("the file is empty")),
        _ => Certificate::from_der(bytes.to_vec()),
    }
}

impl KeyPair {
    /// Reads a private key in any form OpenSSL writes: PKCS#8 (`PRIVATE KEY`), SEC1
    /// (`EC PRIVATE KEY`), PKCS#1 (`RSA PRIVATE KEY`), or encrypted PKCS#8
    /// (`ENCRYPTED PRIVATE KEY`, needs `password`).
    pub fn from_any_pem(pem: &str, password: Option<&str>) -> Result<Self, PkiError> {
        size_ok(pem.len())?;
        let label = pem
            .trim_start()
            .strip_prefix("-----BEGIN ")
            .and_then(|r| r.split_once("-----"))
            .map(|(l, _)| l.to_owned())
            .unwrap_or_default();
        match label.as_str() {
            "PRIVATE KEY" => Self::from_pkcs8_pem(pem),
            "ENCRYPTED PRIVATE KEY" => match password {
                Some(p) if !p.is_empty() => Self::from_encrypted_pkcs8_pem(pem, p),
                _ => Err(PkiError::FieldEmpty {
                    field: Field::EncryptedKeyPassword,
                }),
            },
            "EC PRIVATE KEY" | "RSA PRIVATE KEY" if pem.contains("Proc-Type: 4,ENCRYPTED") => {
                Err(PkiError::KeyInvalid {
                    detail: "it is encrypted the old OpenSSL way; convert it with `openssl pkcs8 -topk8 -in old.key -out new.key`".into(),
                })
            }
            "EC PRIVATE KEY" => Self::from_sec1_pem(pem),
            "RSA PRIVATE KEY" => Self::from_pkcs1_pem(pem),
            "" => Err(PkiError::PemInvalid {
                expected: "PRIVATE KEY",
                detail: "no -----BEGIN line".into(),
            }),
            other => Err(PkiError::PemInvalid {
                expected: "PRIVATE KEY",
                detail: format!("found {other}, which is not a private key"),
            }),
        }
    }
}

/// The subject of `cert` as rcgen needs it to name the issuer of what the CA signs, keeping each
/// attribute's order and string type so issued certificates name it byte for byte.
fn subject_of(cert: &x509_cert::Certificate) -> Result<DistinguishedName, PkiError> {
    let mut dn = DistinguishedName::new();
    let mut seen = Vec::new();
    for rdn in cert.tbs_certificate().subject().iter_rdn() {
        if rdn.iter().count() != 1 {
            return Err(invalid(
                "its subject has a multi-valued name part, which this tool cannot reproduce",
            ));
        }
        for atv in rdn.iter() {
            let arcs: Vec<u64> = atv.oid.arcs().map(u64::from).collect();
            let ty = DnType::from_oid(&arcs);
            if seen.contains(&ty) {
                return Err(invalid(format!(
                    "its subject repeats the attribute {}, which this tool cannot reproduce",
                    atv.oid
                )));
            }
            seen.push(ty.clone());
            let v = &atv.value;
            let bad = |e: der::Error| invalid(format!("subject attribute {}: {e}", atv.oid));
            let value = match v.tag() {
                Tag::PrintableString => DnValue::PrintableString(
                    PrintableStringRef::try_from(v)
                        .map_err(bad)?
                        .as_str()
                        .try_into()
                        .map_err(|_| {
                            invalid("a PrintableString with characters it may not hold")
                        })?,
                ),
                Tag::Utf8String => DnValue::Utf8String(
                    Utf8StringRef::try_from(v).map_err(bad)?.as_str().to_owned(),
                ),
                Tag::Ia5String => DnValue::Ia5String(
                    Ia5StringRef::try_from(v)
                        .map_err(bad)?
                        .as_str()
                        .try_into()
                        .map_err(|_| invalid("an IA5String with characters it may not hold"))?,
                ),
                Tag::TeletexString => DnValue::TeletexString(
                    TeletexStringRef::try_from(v)
                        .map_err(bad)?
                        .as_str()
                        .try_into()
                        .map_err(|_| invalid("a TeletexString this tool cannot reproduce"))?,
                ),
                Tag::BmpString => {
                    let s = v
                        .decode_as::<BmpString>()
                        .map_err(|e| invalid(format!("subject attribute {}: {e}", atv.oid)))?
                        .to_string();
                    DnValue::BmpString(
                        s.as_str()
                            .try_into()
                            .map_err(|_| invalid("a BMPString this tool cannot reproduce"))?,
                    )
                }
                other => {
                    return Err(invalid(format!(
                        "subject attribute {} is a {other}, which this tool cannot reproduce",
                        atv.oid
                    )))
                }
            };
            dn.push(ty, value);
        }
    }
    Ok(dn)
}

impl CertificateAuthority {
    /// An existing CA from a bundle of certificates (a chain file, a `.p7b`) and its key: the
    /// certificate whose public key is the key's signs, the others become the CAs above it in
    /// issuer order.
    pub fn import_bundle(certificates: Vec<Certificate>, key: KeyPair) -> Result<Self, PkiError> {
        let spki = key.subject_public_key_info_der();
        let mut leaf = None;
        let mut rest = Vec::with_capacity(certificates.len());
        for c in certificates {
            if leaf.is_none() && c.info()?.subject_public_key_info == spki {
                leaf = Some(c);
            } else {
                rest.push(c);
            }
        }
        let leaf = leaf.ok_or_else(|| PkiError::KeyInvalid {
            detail: "this key belongs to none of the certificates given (their public keys differ): pick the key made with the CA certificate".into(),
        })?;
        let issuers = super::order::order_chain(&leaf, rest);
        Self::import(leaf, key, issuers)
    }

    /// An existing CA from its certificate and key, with the CA certificates above it (nearest
    /// first; empty for a root). Refused when the key is not the certificate's, when the
    /// certificate is not a CA that may sign certificates, or when its subject cannot be
    /// reproduced exactly as the issuer of what it signs.
    pub fn import(
        certificate: Certificate,
        key: KeyPair,
        issuers: Vec<Certificate>,
    ) -> Result<Self, PkiError> {
        let info = certificate.info()?;
        if info.subject_public_key_info != key.subject_public_key_info_der() {
            return Err(PkiError::KeyInvalid {
                detail: "this key does not belong to the certificate (their public keys differ): pick the key made with it".into(),
            });
        }
        if !info.is_ca {
            return Err(invalid(
                "it is not a CA certificate (basicConstraints CA:TRUE is missing): IoT Hub needs a CA to sign devices",
            ));
        }
        if !info.can_sign_certificates {
            return Err(invalid(
                "its keyUsage does not allow signing certificates (keyCertSign)",
            ));
        }
        let parsed = parse(certificate.der())?;
        let tbs = parsed.tbs_certificate();
        let ext_err = |e: der::Error| invalid(e.to_string());
        let ski = tbs
            .get_extension::<SubjectKeyIdentifier>()
            .map_err(ext_err)?
            .map(|(_, s)| s.0.as_bytes().to_vec())
            .unwrap_or_else(|| key.key_identifier());
        let path_len = tbs
            .get_extension::<X509BasicConstraints>()
            .map_err(ext_err)?
            .and_then(|(_, b)| b.path_len_constraint);
        let mut params = CertificateParams::default();
        params.distinguished_name = subject_of(&parsed)?;
        params.key_identifier_method = KeyIdMethod::PreSpecified(ski);
        params.not_before = info.not_before;
        params.not_after = info.not_after;
        params.is_ca = IsCa::Ca(match path_len {
            Some(n) => BasicConstraints::Constrained(n),
            None => BasicConstraints::Unconstrained,
        });
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign];
        let subject_der = tbs.subject().to_der().map_err(ext_err)?;
        Self::from_parts(certificate, key, params, issuers, &subject_der)
    }
}

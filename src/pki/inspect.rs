//! What a file or pasted text is: one entry point for the inspector (and the fuzz targets) over
//! every reader of this module, PEM or DER.

use super::{
    certificate_from_bytes, read_csr, Certificate, KeyPair, Pkcs12Contents, PkiError,
    SigningRequest,
};

/// What [`inspect`] found.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Inspected {
    /// An X.509 certificate.
    Certificate(Certificate),
    /// Several certificates in one PEM text (a chain file), in the order given.
    Chain(Vec<Certificate>),
    /// A certificate signing request whose signature checked out.
    Request(SigningRequest),
    /// A private key.
    Key(KeyPair),
    /// A `.pfx`: key, certificate and chain.
    Pkcs12(Pkcs12Contents),
    /// Something that needs its password first: an encrypted key or a `.pfx`.
    NeedsPassword {
        /// What it is, e.g. "encrypted private key".
        what: &'static str,
    },
}

/// Reads `bytes` as whatever it is: PEM (by its label) or DER (a certificate, a CSR, a PKCS#8
/// key or a `.pfx`). `password` opens encrypted keys and `.pfx` files.
pub fn inspect(bytes: &[u8], password: Option<&str>) -> Result<Inspected, PkiError> {
    super::import::size_ok(bytes.len())?;
    let password = password.filter(|p| !p.is_empty());
    if let Ok(text) = std::str::from_utf8(bytes) {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(PkiError::PemInvalid {
                expected: "CERTIFICATE",
                detail: "the text is empty".into(),
            });
        }
        if let Some(rest) = trimmed.strip_prefix("-----BEGIN ") {
            let label = rest.split_once("-----").map(|(l, _)| l).unwrap_or_default();
            return match label {
                "CERTIFICATE" if trimmed.matches("-----BEGIN CERTIFICATE-----").count() > 1 => {
                    read_chain(trimmed).map(Inspected::Chain)
                }
                "CERTIFICATE" => certificate_from_bytes(trimmed.as_bytes()).map(Inspected::Certificate),
                "CERTIFICATE REQUEST" | "NEW CERTIFICATE REQUEST" => {
                    read_csr(trimmed.as_bytes()).map(Inspected::Request)
                }
                "ENCRYPTED PRIVATE KEY" => match password {
                    None => Ok(Inspected::NeedsPassword {
                        what: "encrypted private key",
                    }),
                    Some(p) => KeyPair::from_encrypted_pkcs8_pem(trimmed, p).map(Inspected::Key),
                },
                "PKCS7" | "CMS" => super::read_pkcs7(trimmed.as_bytes()).map(one_or_chain),
                "PRIVATE KEY" | "EC PRIVATE KEY" | "RSA PRIVATE KEY" => {
                    KeyPair::from_any_pem(trimmed, None).map(Inspected::Key)
                }
                "" => Err(PkiError::PemInvalid {
                    expected: "CERTIFICATE",
                    detail: "the -----BEGIN line has no closing dashes".into(),
                }),
                other => Err(PkiError::PemInvalid {
                    expected: "CERTIFICATE",
                    detail: format!(
                        "found {other}; this tool reads CERTIFICATE, CERTIFICATE REQUEST, PKCS7 and PRIVATE KEY blocks, and .pfx files"
                    ),
                }),
            };
        }
        if !bytes.starts_with(&[0x30]) {
            return Err(PkiError::PemInvalid {
                expected: "CERTIFICATE",
                detail: "this is text without a -----BEGIN line, and not DER".into(),
            });
        }
    }
    // DER: the first structure that reads it wins.
    if let Ok(cert) = Certificate::from_der(bytes.to_vec()) {
        return Ok(Inspected::Certificate(cert));
    }
    let csr_error = match read_csr(bytes) {
        Ok(req) => return Ok(Inspected::Request(req)),
        Err(e) => e,
    };
    if let Ok(key) = KeyPair::from_pkcs8_der(bytes) {
        return Ok(Inspected::Key(key));
    }
    if super::pkcs12_import::looks_like_pkcs12(bytes) {
        return match password {
            None => Ok(Inspected::NeedsPassword { what: ".pfx file" }),
            Some(p) => Ok(match super::pkcs12_import::read_pkcs12(bytes, p)? {
                Ok(contents) => Inspected::Pkcs12(contents),
                // A .pfx of certificates only (a CA or trust list): show them.
                Err(mut certs) if certs.len() == 1 => Inspected::Certificate(certs.remove(0)),
                Err(certs) => Inspected::Chain(certs),
            }),
        };
    }
    if super::pkcs7::looks_like_pkcs7(bytes) {
        return super::read_pkcs7(bytes).map(one_or_chain);
    }
    // Name why the most likely reading failed.
    match csr_error {
        e @ PkiError::CsrInvalid { .. } if looks_like_request(bytes) => Err(e),
        _ => Err(PkiError::CertificateInvalid {
            detail: "these bytes are not a certificate, a CSR, a PKCS#8 key, a .pfx nor a .p7b"
                .into(),
        }),
    }
}

/// One certificate as itself, several as a chain (a `.p7b`'s certificates).
fn one_or_chain(mut certs: Vec<Certificate>) -> Inspected {
    if certs.len() == 1 {
        Inspected::Certificate(certs.remove(0))
    } else {
        Inspected::Chain(certs)
    }
}

/// A DER SEQUENCE whose first element is a SEQUENCE starting with INTEGER 0 and a Name: the shape
/// of a PKCS#10 request, so its own error (e.g. an altered signature) is the one to show.
fn looks_like_request(bytes: &[u8]) -> bool {
    use der::Decode;
    x509_cert::request::CertReq::from_der(bytes).is_ok()
}

/// Every `CERTIFICATE` block of a chain file, in order; anything else in it is refused.
fn read_chain(text: &str) -> Result<Vec<Certificate>, PkiError> {
    let blocks = pem::parse_many(text).map_err(|e| PkiError::PemInvalid {
        expected: "CERTIFICATE",
        detail: format!("one of the blocks is damaged ({e})"),
    })?;
    blocks
        .into_iter()
        .enumerate()
        .map(|(i, b)| {
            if b.tag() != "CERTIFICATE" {
                return Err(PkiError::PemInvalid {
                    expected: "CERTIFICATE",
                    detail: format!("block {} is {}, not a certificate", i + 1, b.tag()),
                });
            }
            Certificate::from_der(b.into_contents())
        })
        .collect()
}

fn not_a_certificate(detail: &str) -> PkiError {
    PkiError::CertificateInvalid {
        detail: detail.into(),
    }
}

/// The certificates of a PEM text (one or a chain), a DER certificate or a `.p7b`, in file order.
pub fn certificates_from_bytes(bytes: &[u8]) -> Result<Vec<Certificate>, PkiError> {
    match inspect(bytes, None)? {
        Inspected::Certificate(c) => Ok(vec![c]),
        Inspected::Chain(v) => Ok(v),
        Inspected::Key(_) => Err(not_a_certificate(
            "this is a private key, not a certificate: put it in the key field",
        )),
        Inspected::Request(_) => Err(not_a_certificate(
            "this is a certificate signing request, not a certificate",
        )),
        Inspected::Pkcs12(_) | Inspected::NeedsPassword { .. } => Err(not_a_certificate(
            "this is a .pfx file or an encrypted key: choose it as a .pfx with its password",
        )),
    }
}

/// The CA certificates in `bytes`, whatever holds them: PEM (one or a chain), DER, a `.p7b`, or a
/// `.pfx` with or without its key (`password` opens it). For a CA whose key lives elsewhere (an
/// HSM, a Windows CA): it can be uploaded to the hub, not sign here. Refused by name when the file
/// holds no CA certificate.
pub fn ca_certificates_from_bytes(
    bytes: &[u8],
    password: Option<&str>,
) -> Result<Vec<Certificate>, PkiError> {
    let certs = match inspect(bytes, password)? {
        Inspected::Certificate(c) => vec![c],
        Inspected::Chain(v) => v,
        Inspected::Pkcs12(p) => {
            let mut v = vec![p.certificate];
            v.extend(p.chain);
            v
        }
        Inspected::NeedsPassword { what } => {
            return Err(PkiError::FieldEmpty {
                field: if what == ".pfx file" {
                    super::Field::PfxPassword
                } else {
                    super::Field::KeyPassword
                },
            })
        }
        Inspected::Key(_) => {
            return Err(not_a_certificate(
                "this is a private key, not a certificate: choose the CA's certificate file",
            ))
        }
        Inspected::Request(_) => {
            return Err(not_a_certificate(
                "this is a certificate signing request, not a certificate: sign it first",
            ))
        }
    };
    let cas: Vec<Certificate> = certs
        .into_iter()
        .filter(|c| c.info().is_ok_and(|i| i.is_ca))
        .collect();
    if cas.is_empty() {
        return Err(not_a_certificate(
            "it holds no CA certificate (basicConstraints CA:TRUE): the hub trusts a CA, not a device certificate",
        ));
    }
    Ok(cas)
}

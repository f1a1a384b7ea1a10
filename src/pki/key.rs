use std::fmt;

use p256::ecdsa::{signature::Signer, DerSignature, SigningKey as P256SigningKey};
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use sha1::{Digest, Sha1};

use super::PkiError;

/// The kinds of key this tool makes and signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyAlgorithm {
    /// ECDSA on NIST P-256 with SHA-256: small, fast, accepted by IoT Hub.
    EcdsaP256,
}

impl KeyAlgorithm {
    /// How the algorithm is shown to a person.
    pub fn label(self) -> &'static str {
        match self {
            Self::EcdsaP256 => "ECDSA P-256",
        }
    }
}

impl fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// A private key and its public half, usable by rcgen to sign.
pub struct KeyPair {
    secret: P256SigningKey,
    /// SEC1 uncompressed point: the subjectPublicKey bits.
    public_point: Vec<u8>,
}

impl fmt::Debug for KeyPair {
    /// Never prints the secret.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyPair")
            .field("algorithm", &self.algorithm())
            .finish_non_exhaustive()
    }
}

impl KeyPair {
    /// Makes a new key from the system's (or browser's) cryptographic random number generator.
    pub fn generate(algorithm: KeyAlgorithm) -> Result<Self, PkiError> {
        match algorithm {
            KeyAlgorithm::EcdsaP256 => {
                // Rejection sampling: a random 256-bit string is a valid scalar except with
                // probability about 2^-32, so this loop almost never runs twice.
                for _ in 0..64 {
                    let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
                    getrandom::fill(bytes.as_mut()).map_err(|_| PkiError::Random)?;
                    if let Ok(secret) = P256SigningKey::from_slice(bytes.as_ref()) {
                        return Ok(Self::from_p256(secret));
                    }
                }
                Err(PkiError::Random)
            }
        }
    }

    fn from_p256(secret: P256SigningKey) -> Self {
        let public_point = secret
            .verifying_key()
            .to_sec1_point(false)
            .as_bytes()
            .to_vec();
        Self {
            secret,
            public_point,
        }
    }

    /// Reads an unencrypted PKCS#8 private key in DER.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, PkiError> {
        P256SigningKey::from_pkcs8_der(der)
            .map(Self::from_p256)
            .map_err(|e| PkiError::KeyInvalid {
                detail: e.to_string(),
            })
    }

    /// Reads an unencrypted PKCS#8 private key in PEM (`-----BEGIN PRIVATE KEY-----`).
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, PkiError> {
        let (label, der) = pem_rfc7468_decode(pem, "PRIVATE KEY")?;
        if label != "PRIVATE KEY" {
            return Err(PkiError::PemInvalid {
                expected: "PRIVATE KEY",
                detail: format!("found {label}"),
            });
        }
        Self::from_pkcs8_der(&der)
    }

    /// The key as PKCS#8 DER.
    pub fn to_pkcs8_der(&self) -> Result<zeroize::Zeroizing<Vec<u8>>, PkiError> {
        self.secret
            .to_pkcs8_der()
            .map(|doc| zeroize::Zeroizing::new(doc.as_bytes().to_vec()))
            .map_err(|e| PkiError::KeyInvalid {
                detail: e.to_string(),
            })
    }

    /// The key as PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), what OpenSSL 3 writes by default.
    pub fn to_pkcs8_pem(&self) -> Result<zeroize::Zeroizing<String>, PkiError> {
        self.secret
            .to_pkcs8_pem(LineEnding::LF)
            .map(|pem| zeroize::Zeroizing::new(pem.as_str().to_owned()))
            .map_err(|e| PkiError::KeyInvalid {
                detail: e.to_string(),
            })
    }

    /// Which algorithm the key is for.
    pub fn algorithm(&self) -> KeyAlgorithm {
        KeyAlgorithm::EcdsaP256
    }

    /// The DER SubjectPublicKeyInfo, as it appears in a certificate.
    pub fn subject_public_key_info_der(&self) -> Vec<u8> {
        rcgen::PublicKeyData::subject_public_key_info(self)
    }

    /// RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey bits. OpenSSL computes the
    /// same, so identifiers match certificates made by either tool.
    pub fn key_identifier(&self) -> Vec<u8> {
        Sha1::digest(&self.public_point).to_vec()
    }
}

impl rcgen::PublicKeyData for KeyPair {
    fn der_bytes(&self) -> &[u8] {
        &self.public_point
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        &rcgen::PKCS_ECDSA_P256_SHA256
    }
}

impl rcgen::SigningKey for KeyPair {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        let signature: DerSignature = self
            .secret
            .try_sign(msg)
            .map_err(|_| rcgen::Error::RemoteKeyError)?;
        Ok(signature.as_bytes().to_vec())
    }
}

/// Decodes one PEM block, naming what was wrong in terms of the block we expected.
pub(super) fn pem_rfc7468_decode(
    pem: &str,
    expected: &'static str,
) -> Result<(String, Vec<u8>), PkiError> {
    let trimmed = pem.trim();
    if trimmed.is_empty() {
        return Err(PkiError::PemInvalid {
            expected,
            detail: "the text is empty".into(),
        });
    }
    if !trimmed.starts_with("-----BEGIN ") {
        return Err(PkiError::PemInvalid {
            expected,
            detail: "no -----BEGIN line".into(),
        });
    }
    let parsed = pem::parse(trimmed).map_err(|e| PkiError::PemInvalid {
        expected,
        detail: match e {
            pem::PemError::MissingEndTag => "the -----END line is missing".into(),
            pem::PemError::MismatchedTags(a, b) => format!("BEGIN {a} does not match END {b}"),
            pem::PemError::InvalidData(_) => "the base64 body is damaged".into(),
            other => other.to_string(),
        },
    })?;
    Ok((parsed.tag().to_owned(), parsed.into_contents()))
}

use std::fmt;

use p256::ecdsa::{signature::Signer, DerSignature, SigningKey as P256SigningKey};
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use p384::ecdsa::{DerSignature as P384DerSignature, SigningKey as P384SigningKey};
#[cfg(feature = "rsa")]
use rsa::pkcs1v15::SigningKey as RsaSigningKey;
use sha1::{Digest, Sha1};
#[cfg(feature = "rsa")]
use sha2::Sha256;

use super::armor::pem_rfc7468_decode;
use super::error::Unsupported;
use super::oid::{OID_EC_PUBLIC_KEY, OID_RSA_ENCRYPTION};
use super::Field;
use super::PkiError;

/// The kinds of key this tool makes and signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyAlgorithm {
    /// ECDSA on NIST P-256 with SHA-256: small, fast, accepted by IoT Hub.
    EcdsaP256,
    /// ECDSA on NIST P-384 with SHA-384: for CAs whose policy asks for it.
    EcdsaP384,
    /// RSA with PKCS#1 v1.5 signatures over SHA-256, modulus of this many bits (2048 to 8192;
    /// this tool makes 2048, 3072 and 4096). What the seed guide uses.
    Rsa(u16),
}

impl KeyAlgorithm {
    /// How the algorithm is shown to a person.
    pub fn label(self) -> String {
        match self {
            Self::EcdsaP256 => "ECDSA P-256".into(),
            Self::EcdsaP384 => "ECDSA P-384".into(),
            Self::Rsa(bits) => format!("RSA {bits}"),
        }
    }

    /// RSA 2048: the seed guide's device keys.
    pub const RSA_2048: Self = Self::Rsa(2048);
    /// RSA 3072.
    pub const RSA_3072: Self = Self::Rsa(3072);
    /// RSA 4096: the seed guide's root CA key.
    pub const RSA_4096: Self = Self::Rsa(4096);

    /// Whether this is an RSA key (slow to make: in the browser WebCrypto makes it).
    pub fn is_rsa(self) -> bool {
        matches!(self, Self::Rsa(_))
    }

    /// The sizes of RSA key this tool makes.
    pub const RSA_SIZES: [u16; 3] = [2048, 3072, 4096];
}

/// The smallest RSA modulus accepted: what IoT Hub and current guidance require.
pub(super) const RSA_MIN_BITS: usize = 2048;

impl fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

enum Secret {
    P256(P256SigningKey),
    P384(P384SigningKey),
    #[cfg(feature = "rsa")]
    Rsa(Box<RsaSigningKey<Sha256>>),
}

/// What a build without RSA (the page's first module) says to an RSA key; the page never gets
/// there (it offers RSA only once the whole app is loaded).
#[cfg(not(feature = "rsa"))]
fn without_rsa() -> PkiError {
    PkiError::UnsupportedKey {
        kind: Unsupported::Algorithm {
            oid: OID_RSA_ENCRYPTION,
        },
    }
}

/// A private key and its public half, usable by rcgen to sign.
pub struct KeyPair {
    secret: Secret,
    /// The subjectPublicKey bits: the SEC1 uncompressed point (EC) or the PKCS#1
    /// RSAPublicKey DER (RSA).
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
        // Rejection sampling: a random string of the scalar's length is a valid scalar except
        // with negligible probability, so these loops almost never run twice.
        for _ in 0..64 {
            match algorithm {
                KeyAlgorithm::EcdsaP256 => {
                    let mut bytes = zeroize::Zeroizing::new([0u8; 32]);
                    getrandom::fill(bytes.as_mut()).map_err(|_| PkiError::Random)?;
                    if let Ok(secret) = P256SigningKey::from_slice(bytes.as_ref()) {
                        return Ok(Self::from_p256(secret));
                    }
                }
                KeyAlgorithm::EcdsaP384 => {
                    let mut bytes = zeroize::Zeroizing::new([0u8; 48]);
                    getrandom::fill(bytes.as_mut()).map_err(|_| PkiError::Random)?;
                    if let Ok(secret) = P384SigningKey::from_slice(bytes.as_ref()) {
                        return Ok(Self::from_p384(secret));
                    }
                }
                KeyAlgorithm::Rsa(bits) => return Self::generate_rsa(bits),
            }
        }
        Err(PkiError::Random)
    }

    #[cfg(not(feature = "rsa"))]
    fn generate_rsa(_bits: u16) -> Result<Self, PkiError> {
        Err(without_rsa())
    }

    /// Makes an RSA key with RustCrypto `rsa` (e = 65537). Seconds natively for 4096 bits and
    /// much longer in WebAssembly: the browser asks WebCrypto instead and reads its PKCS#8.
    #[cfg(feature = "rsa")]
    fn generate_rsa(bits: u16) -> Result<Self, PkiError> {
        if !KeyAlgorithm::RSA_SIZES.contains(&bits) {
            return Err(PkiError::UnsupportedKey {
                kind: Unsupported::RsaSize {
                    bits: Some(usize::from(bits)),
                },
            });
        }
        // The adapter below cannot report a failing random source; find out before.
        getrandom::fill(&mut [0u8; 8]).map_err(|_| PkiError::Random)?;
        let mut rng = getrandom::rand_core::UnwrapErr(getrandom::SysRng);
        let key = rsa::RsaPrivateKey::new(&mut rng, usize::from(bits)).map_err(|e| {
            PkiError::KeyInvalid {
                detail: e.to_string(),
            }
        })?;
        Self::from_rsa(key)
    }

    #[cfg(feature = "rsa")]
    fn from_rsa(key: rsa::RsaPrivateKey) -> Result<Self, PkiError> {
        use rsa::pkcs1::EncodeRsaPublicKey;
        use rsa::traits::PublicKeyParts;
        let bits = key.n().bits() as usize;
        if bits < RSA_MIN_BITS {
            return Err(PkiError::KeyTooSmall {
                bits,
                min: RSA_MIN_BITS,
            });
        }
        if u16::try_from(bits).is_err() {
            return Err(PkiError::UnsupportedKey {
                kind: Unsupported::RsaSize { bits: Some(bits) },
            });
        }
        let public_point = key
            .to_public_key()
            .to_pkcs1_der()
            .map_err(|e| PkiError::KeyInvalid {
                detail: e.to_string(),
            })?
            .as_bytes()
            .to_vec();
        Ok(Self {
            secret: Secret::Rsa(Box::new(RsaSigningKey::new(key))),
            public_point,
        })
    }

    /// Reads a PKCS#1 RSA private key (`-----BEGIN RSA PRIVATE KEY-----`, `openssl genrsa -traditional`).
    #[cfg(not(feature = "rsa"))]
    pub fn from_pkcs1_pem(_pem: &str) -> Result<Self, PkiError> {
        Err(without_rsa())
    }

    /// Reads a PKCS#1 RSA private key (`-----BEGIN RSA PRIVATE KEY-----`, `openssl genrsa -traditional`).
    #[cfg(feature = "rsa")]
    pub fn from_pkcs1_pem(pem: &str) -> Result<Self, PkiError> {
        use rsa::pkcs1::DecodeRsaPrivateKey;
        let (label, der) = pem_rfc7468_decode(pem, "RSA PRIVATE KEY")?;
        if label != "RSA PRIVATE KEY" {
            return Err(PkiError::PemInvalid {
                expected: "RSA PRIVATE KEY",
                detail: format!("found {label}"),
            });
        }
        let key = rsa::RsaPrivateKey::from_pkcs1_der(&der).map_err(|e| PkiError::KeyInvalid {
            detail: format!("not a valid RSA key ({e})"),
        })?;
        Self::from_rsa(key)
    }

    fn from_p256(secret: P256SigningKey) -> Self {
        let public_point = secret
            .verifying_key()
            .to_sec1_point(false)
            .as_bytes()
            .to_vec();
        Self {
            secret: Secret::P256(secret),
            public_point,
        }
    }

    fn from_p384(secret: P384SigningKey) -> Self {
        let public_point = secret
            .verifying_key()
            .to_sec1_point(false)
            .as_bytes()
            .to_vec();
        Self {
            secret: Secret::P384(secret),
            public_point,
        }
    }

    /// Reads an unencrypted PKCS#8 private key in DER (ECDSA P-256 or P-384).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, PkiError> {
        use der::Decode;
        if let Ok(info) = pkcs8::PrivateKeyInfoRef::from_der(der) {
            if info.algorithm.oid == OID_RSA_ENCRYPTION {
                #[cfg(not(feature = "rsa"))]
                return Err(without_rsa());
                #[cfg(feature = "rsa")]
                {
                    let key = rsa::RsaPrivateKey::from_pkcs8_der(der).map_err(|e| {
                        PkiError::KeyInvalid {
                            detail: format!("not a valid RSA key ({e})"),
                        }
                    })?;
                    return Self::from_rsa(key);
                }
            }
            if info.algorithm.oid != OID_EC_PUBLIC_KEY {
                return Err(PkiError::UnsupportedKey {
                    kind: Unsupported::Algorithm {
                        oid: info.algorithm.oid,
                    },
                });
            }
        }
        match P256SigningKey::from_pkcs8_der(der) {
            Ok(k) => Ok(Self::from_p256(k)),
            Err(p256_err) => P384SigningKey::from_pkcs8_der(der)
                .map(Self::from_p384)
                .map_err(|_| PkiError::KeyInvalid {
                    detail: p256_err.to_string(),
                }),
        }
    }

    /// Reads a SEC1 EC private key (`-----BEGIN EC PRIVATE KEY-----`, `openssl ecparam -genkey`).
    pub fn from_sec1_pem(pem: &str) -> Result<Self, PkiError> {
        let (label, der) = pem_rfc7468_decode(pem, "EC PRIVATE KEY")?;
        if label != "EC PRIVATE KEY" {
            return Err(PkiError::PemInvalid {
                expected: "EC PRIVATE KEY",
                detail: format!("found {label}"),
            });
        }
        if let Ok(k) = p256::SecretKey::from_sec1_der(&der) {
            return Ok(Self::from_p256(P256SigningKey::from(k)));
        }
        match p384::SecretKey::from_sec1_der(&der) {
            Ok(k) => Ok(Self::from_p384(P384SigningKey::from(k))),
            Err(e) => Err(PkiError::KeyInvalid {
                detail: format!("not an EC key on P-256 or P-384 ({e})"),
            }),
        }
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
        match &self.secret {
            Secret::P256(k) => k.to_pkcs8_der(),
            Secret::P384(k) => k.to_pkcs8_der(),
            #[cfg(feature = "rsa")]
            Secret::Rsa(k) => k.to_pkcs8_der(),
        }
        .map(|doc| zeroize::Zeroizing::new(doc.as_bytes().to_vec()))
        .map_err(|e| PkiError::KeyInvalid {
            detail: e.to_string(),
        })
    }

    /// The key as PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), what OpenSSL 3 writes by default.
    pub fn to_pkcs8_pem(&self) -> Result<zeroize::Zeroizing<String>, PkiError> {
        match &self.secret {
            Secret::P256(k) => k.to_pkcs8_pem(LineEnding::LF),
            Secret::P384(k) => k.to_pkcs8_pem(LineEnding::LF),
            #[cfg(feature = "rsa")]
            Secret::Rsa(k) => k.to_pkcs8_pem(LineEnding::LF),
        }
        .map(|pem| zeroize::Zeroizing::new(pem.as_str().to_owned()))
        .map_err(|e| PkiError::KeyInvalid {
            detail: e.to_string(),
        })
    }

    /// The key as encrypted PKCS#8 PEM (`-----BEGIN ENCRYPTED PRIVATE KEY-----`): PBES2 with
    /// PBKDF2-HMAC-SHA256 and AES-256-CBC, what `openssl pkcs8 -topk8` writes by default.
    pub fn to_encrypted_pkcs8_pem(
        &self,
        password: &str,
    ) -> Result<zeroize::Zeroizing<String>, PkiError> {
        use der::Encode;
        if password.is_empty() {
            return Err(PkiError::FieldEmpty {
                field: Field::KeyPassword,
            });
        }
        let plain = self.to_pkcs8_der()?;
        let (alg, cipher) = super::pbe::encrypt(super::Pkcs12Preset::Modern, password, &plain)?;
        let der = pkcs12::pbe_params::EncryptedPrivateKeyInfo {
            encryption_algorithm: alg,
            encrypted_data: der::asn1::OctetString::new(cipher).map_err(der_error)?,
        }
        .to_der()
        .map_err(der_error)?;
        Ok(zeroize::Zeroizing::new(super::armor::pem_lf(
            "ENCRYPTED PRIVATE KEY",
            der,
        )))
    }

    /// Reads an encrypted PKCS#8 key (PEM `ENCRYPTED PRIVATE KEY`) with its password. PBES2 with
    /// PBKDF2 or scrypt and AES-CBC/GCM is understood, which covers OpenSSL 3's output.
    pub fn from_encrypted_pkcs8_pem(pem: &str, password: &str) -> Result<Self, PkiError> {
        use der::Decode;
        let (label, der) = pem_rfc7468_decode(pem, "ENCRYPTED PRIVATE KEY")?;
        if label != "ENCRYPTED PRIVATE KEY" {
            return Err(PkiError::PemInvalid {
                expected: "ENCRYPTED PRIVATE KEY",
                detail: format!("found {label}"),
            });
        }
        let info = pkcs8::EncryptedPrivateKeyInfoRef::from_der(&der).map_err(|e| {
            PkiError::KeyInvalid {
                detail: e.to_string(),
            }
        })?;
        super::pbe::check_work(&info.encryption_algorithm)
            .map_err(|detail| PkiError::KeyInvalid { detail })?;
        let plain = info
            .encryption_algorithm
            .decrypt(password, info.encrypted_data.as_bytes())
            .map_err(|e| match e {
                pkcs5::Error::AlgorithmParametersInvalid { .. }
                | pkcs5::Error::UnsupportedAlgorithm { .. } => PkiError::KeyInvalid {
                    detail: format!("its encryption is not supported ({e}); re-export it with `openssl pkcs8 -topk8 -v2 aes-256-cbc`"),
                },
                _ => PkiError::PasswordWrong {
                    what: "encrypted private key",
                },
            })?;
        Self::from_pkcs8_der(&plain).map_err(|_| PkiError::PasswordWrong {
            what: "encrypted private key",
        })
    }

    /// A second copy of this key (through its PKCS#8 encoding), for a caller that must own one,
    /// e.g. to export a CA's `.pfx`. Deliberately not `Clone`: copying a secret is explicit.
    pub fn duplicate(&self) -> Result<Self, PkiError> {
        Self::from_pkcs8_der(&self.to_pkcs8_der()?)
    }

    /// Which algorithm the key is for.
    pub fn algorithm(&self) -> KeyAlgorithm {
        match self.secret {
            Secret::P256(_) => KeyAlgorithm::EcdsaP256,
            Secret::P384(_) => KeyAlgorithm::EcdsaP384,
            #[cfg(feature = "rsa")]
            Secret::Rsa(ref k) => {
                use rsa::traits::PublicKeyParts;
                // from_rsa refused anything wider than u16.
                KeyAlgorithm::Rsa(u16::try_from(k.as_ref().as_ref().n().bits()).unwrap_or(u16::MAX))
            }
        }
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
        match self.secret {
            Secret::P256(_) => &rcgen::PKCS_ECDSA_P256_SHA256,
            Secret::P384(_) => &rcgen::PKCS_ECDSA_P384_SHA384,
            #[cfg(feature = "rsa")]
            Secret::Rsa(_) => &rcgen::PKCS_RSA_SHA256,
        }
    }
}

impl rcgen::SigningKey for KeyPair {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        match &self.secret {
            Secret::P256(k) => {
                let signature: DerSignature =
                    k.try_sign(msg).map_err(|_| rcgen::Error::RemoteKeyError)?;
                Ok(signature.as_bytes().to_vec())
            }
            Secret::P384(k) => {
                let signature: P384DerSignature =
                    k.try_sign(msg).map_err(|_| rcgen::Error::RemoteKeyError)?;
                Ok(signature.as_bytes().to_vec())
            }
            #[cfg(feature = "rsa")]
            Secret::Rsa(k) => {
                // Blinded with fresh randomness, so the time a signature takes says nothing
                // about the private exponent.
                use rsa::signature::RandomizedSigner;
                let signature: rsa::pkcs1v15::Signature = k
                    .try_sign_with_rng(&mut getrandom::SysRng, msg)
                    .map_err(|_| rcgen::Error::RemoteKeyError)?;
                Ok(rsa::signature::SignatureEncoding::to_vec(&signature))
            }
        }
    }
}

fn der_error(e: der::Error) -> PkiError {
    PkiError::KeyInvalid {
        detail: e.to_string(),
    }
}

//! PKCS#12 (`.pfx`) export: a key, its certificate and the chain, password-protected, in the two
//! presets devices and operating systems read.
//!
//! Built from RustCrypto parts: the `pkcs12` crate's structures and key-derivation function,
//! `cms` content types, `pkcs5` for PBES2, `des`/`cbc` for the legacy cipher, `hmac` for the MAC.

use cbc::cipher::{block_padding::Pkcs7, BlockModeEncrypt, KeyIvInit};
use der::asn1::{Any, BmpString, OctetString, SetOfVec};
use der::oid::ObjectIdentifier;
use der::{Decode, Encode};
use hmac::{Hmac, KeyInit, Mac};
use pkcs12::kdf::{derive_key_utf8, Pkcs12KeyType};
use pkcs12::pfx::{Pfx, Version};
use pkcs12::{CertBag, DigestInfo, MacData, SafeBag};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use x509_cert::attr::Attribute;
use x509_cert::spki::AlgorithmIdentifierOwned;

use super::{Certificate, KeyPair, PkiError};

pub(super) const OID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
pub(super) const OID_ENCRYPTED_DATA: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.6");
pub(super) const OID_X509_CERT: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.22.1");
pub(super) const OID_FRIENDLY_NAME: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.20");
const OID_LOCAL_KEY_ID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.21");
pub(super) const OID_SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
pub(super) const OID_SHA256: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");

/// Which encryption a `.pfx` uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pkcs12Preset {
    /// PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) and an HMAC-SHA256 MAC: OpenSSL 3's default.
    Modern,
    /// pbeWithSHAAnd3-KeyTripleDES-CBC and an HMAC-SHA1 MAC, for older Windows, macOS keychain
    /// and Android, which refuse AES-encrypted files.
    Legacy,
}

impl Pkcs12Preset {
    /// How it is shown to a person.
    pub fn label(self) -> &'static str {
        match self {
            Self::Modern => "modern (AES-256, SHA-256)",
            Self::Legacy => "legacy (3DES, SHA-1) for older Windows, macOS and Android",
        }
    }
}

/// Iterations for PBKDF2, the PKCS#12 KDF and the MAC (OpenSSL 3 uses 2048).
const ITERATIONS: u32 = 2048;

/// The most key-derivation iterations a file may ask for. OpenSSL writes 2048, password managers
/// up to about 600,000; a crafted file asking for billions would hang the page, so more than this
/// is refused (about a second of work in the browser).
pub(super) const MAX_ITERATIONS: u32 = 1_000_000;

/// The most memory scrypt may ask for (N × r × 128 bytes); OpenSSL's `-scrypt` uses 16 MiB.
const MAX_SCRYPT_BYTES: u64 = 256 << 20;

/// Whether the work a file's key derivation asks for is bounded; `Err` names what is too much.
pub(super) fn check_work(scheme: &pkcs5::EncryptionScheme) -> Result<(), String> {
    let pkcs5::EncryptionScheme::Pbes2(params) = scheme else {
        // PBES1's count is 16 bits: bounded.
        return Ok(());
    };
    match &params.kdf {
        pkcs5::pbes2::Kdf::Pbkdf2(p) => check_iterations(i64::from(p.iteration_count)),
        pkcs5::pbes2::Kdf::Scrypt(p) => {
            let bytes = p
                .cost_parameter
                .saturating_mul(u64::from(p.block_size))
                .saturating_mul(128);
            let work = bytes.saturating_mul(u64::from(p.parallelization));
            if bytes > MAX_SCRYPT_BYTES || work > 4 * MAX_SCRYPT_BYTES {
                Err(format!(
                    "its scrypt parameters (N={}, r={}, p={}) ask for more memory and time than a browser page should spend; re-export it with PBKDF2 (`openssl pkcs8 -topk8 -v2 aes-256-cbc`)",
                    p.cost_parameter, p.block_size, p.parallelization
                ))
            } else {
                Ok(())
            }
        }
        _ => Ok(()),
    }
}

/// Whether an iteration count is one this tool runs.
pub(super) fn check_iterations(n: i64) -> Result<(), String> {
    if n < 1 {
        Err(format!("its iteration count {n} is not valid"))
    } else if n > i64::from(MAX_ITERATIONS) {
        Err(format!(
            "it asks for {n} key-derivation iterations, more than the {MAX_ITERATIONS} this tool runs (OpenSSL writes 2048); re-export it with fewer"
        ))
    } else {
        Ok(())
    }
}

fn random<const N: usize>() -> Result<[u8; N], PkiError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|_| PkiError::Random)?;
    Ok(bytes)
}

fn encoding(e: impl std::fmt::Display) -> PkiError {
    PkiError::Signing {
        detail: format!("PKCS#12 encoding: {e}"),
    }
}

/// Encrypts `plain` for the preset; returns the algorithm identifier and the ciphertext.
pub(super) fn encrypt(
    preset: Pkcs12Preset,
    password: &str,
    plain: &[u8],
) -> Result<(AlgorithmIdentifierOwned, Vec<u8>), PkiError> {
    match preset {
        Pkcs12Preset::Modern => {
            let salt = random::<16>()?;
            let iv = random::<16>()?;
            let params =
                pkcs5::pbes2::Parameters::generate_pbkdf2_sha256_aes256cbc(ITERATIONS, &salt, iv)
                    .map_err(encoding)?;
            let cipher = params.encrypt(password, plain).map_err(encoding)?;
            let scheme = pkcs5::EncryptionScheme::from(params);
            let alg = AlgorithmIdentifierOwned::from_der(&scheme.to_der().map_err(encoding)?)
                .map_err(encoding)?;
            Ok((alg, cipher))
        }
        Pkcs12Preset::Legacy => {
            let salt = random::<8>()?;
            let rounds = ITERATIONS as i32;
            let key =
                derive_key_utf8::<Sha1>(password, &salt, Pkcs12KeyType::EncryptionKey, rounds, 24)
                    .map_err(encoding)?;
            let iv = derive_key_utf8::<Sha1>(password, &salt, Pkcs12KeyType::Iv, rounds, 8)
                .map_err(encoding)?;
            let cipher = cbc::Encryptor::<des::TdesEde3>::new_from_slices(&key, &iv)
                .map_err(encoding)?
                .encrypt_padded_vec::<Pkcs7>(plain);
            let params = pkcs12::pbe_params::Pkcs12PbeParams {
                salt: OctetString::new(salt.to_vec()).map_err(encoding)?,
                iterations: rounds,
            };
            let alg = AlgorithmIdentifierOwned {
                oid: pkcs12::PKCS_12_PBE_WITH_SHAAND3_KEY_TRIPLE_DES_CBC,
                parameters: Some(Any::encode_from(&params).map_err(encoding)?),
            };
            Ok((alg, cipher))
        }
    }
}

fn attributes(friendly_name: &str, local_key_id: &[u8]) -> Result<SetOfVec<Attribute>, PkiError> {
    let mut set = SetOfVec::new();
    let one = |v: Any| -> Result<SetOfVec<Any>, PkiError> {
        let mut s = SetOfVec::new();
        s.insert(v).map_err(encoding)?;
        Ok(s)
    };
    if !friendly_name.is_empty() {
        let name = BmpString::from_utf8(friendly_name).map_err(encoding)?;
        set.insert(Attribute {
            oid: OID_FRIENDLY_NAME,
            values: one(Any::encode_from(&name).map_err(encoding)?)?,
        })
        .map_err(encoding)?;
    }
    let id = OctetString::new(local_key_id.to_vec()).map_err(encoding)?;
    set.insert(Attribute {
        oid: OID_LOCAL_KEY_ID,
        values: one(Any::encode_from(&id).map_err(encoding)?)?,
    })
    .map_err(encoding)?;
    Ok(set)
}

fn content_info(oid: ObjectIdentifier, content: Any) -> cms::content_info::ContentInfo {
    cms::content_info::ContentInfo {
        content_type: oid,
        content,
    }
}

/// Writes a `.pfx` holding `key`, `certificate` (with `friendly_name`) and the CA certificates in
/// `chain` (nearest first), protected by `password`.
pub fn export_pkcs12(
    key: &KeyPair,
    certificate: &Certificate,
    chain: &[Certificate],
    friendly_name: &str,
    password: &str,
    preset: Pkcs12Preset,
) -> Result<Vec<u8>, PkiError> {
    if password.is_empty() {
        return Err(PkiError::FieldEmpty {
            field: "password for the .pfx",
        });
    }
    let info = certificate.info()?;
    if info.subject_public_key_info != key.subject_public_key_info_der() {
        return Err(PkiError::KeyInvalid {
            detail: "the key does not belong to this certificate".into(),
        });
    }
    // localKeyId ties the key to its certificate: the certificate's SHA-1, as OpenSSL does.
    let local_key_id = Sha1::digest(certificate.der()).to_vec();

    // Certificates: one SafeContents, encrypted.
    let mut cert_bags = Vec::new();
    for (i, cert) in std::iter::once(certificate).chain(chain).enumerate() {
        let bag = CertBag {
            cert_id: OID_X509_CERT,
            cert_value: OctetString::new(cert.der().to_vec()).map_err(encoding)?,
        };
        cert_bags.push(SafeBag {
            bag_id: pkcs12::PKCS_12_CERT_BAG_OID,
            bag_value: bag.to_der().map_err(encoding)?,
            bag_attributes: if i == 0 {
                Some(attributes(friendly_name, &local_key_id)?)
            } else {
                None
            },
        });
    }
    let certs_plain = cert_bags.to_der().map_err(encoding)?;
    let (alg, cipher) = encrypt(preset, password, &certs_plain)?;
    let encrypted = cms::encrypted_data::EncryptedData {
        version: cms::content_info::CmsVersion::V0,
        enc_content_info: cms::enveloped_data::EncryptedContentInfo {
            content_type: OID_DATA,
            content_enc_alg: alg,
            encrypted_content: Some(OctetString::new(cipher).map_err(encoding)?),
        },
        unprotected_attrs: None,
    };
    let certs_info = content_info(
        OID_ENCRYPTED_DATA,
        Any::encode_from(&encrypted).map_err(encoding)?,
    );

    // The key: a pkcs8ShroudedKeyBag in a plain SafeContents.
    let pkcs8 = key.to_pkcs8_der()?;
    let (alg, cipher) = encrypt(preset, password, &pkcs8)?;
    let shrouded = pkcs12::pbe_params::EncryptedPrivateKeyInfo {
        encryption_algorithm: alg,
        encrypted_data: OctetString::new(cipher).map_err(encoding)?,
    };
    let key_bags = vec![SafeBag {
        bag_id: pkcs12::PKCS_12_PKCS8_KEY_BAG_OID,
        bag_value: shrouded.to_der().map_err(encoding)?,
        bag_attributes: Some(attributes(friendly_name, &local_key_id)?),
    }];
    let key_info = content_info(
        OID_DATA,
        Any::encode_from(
            &OctetString::new(key_bags.to_der().map_err(encoding)?).map_err(encoding)?,
        )
        .map_err(encoding)?,
    );

    // AuthenticatedSafe, and the MAC over it.
    let auth_safe = vec![certs_info, key_info].to_der().map_err(encoding)?;
    let mac_salt = random::<16>()?;
    let rounds = ITERATIONS as i32;
    let (mac_oid, digest) = match preset {
        Pkcs12Preset::Modern => {
            let k = derive_key_utf8::<Sha256>(password, &mac_salt, Pkcs12KeyType::Mac, rounds, 32)
                .map_err(encoding)?;
            let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&k).map_err(encoding)?;
            mac.update(&auth_safe);
            (OID_SHA256, mac.finalize().into_bytes().to_vec())
        }
        Pkcs12Preset::Legacy => {
            let k = derive_key_utf8::<Sha1>(password, &mac_salt, Pkcs12KeyType::Mac, rounds, 20)
                .map_err(encoding)?;
            let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(&k).map_err(encoding)?;
            mac.update(&auth_safe);
            (OID_SHA1, mac.finalize().into_bytes().to_vec())
        }
    };
    let pfx = Pfx {
        version: Version::V3,
        auth_safe: content_info(
            OID_DATA,
            Any::encode_from(&OctetString::new(auth_safe).map_err(encoding)?).map_err(encoding)?,
        ),
        mac_data: Some(MacData {
            mac: DigestInfo {
                algorithm: AlgorithmIdentifierOwned {
                    oid: mac_oid,
                    parameters: Some(Any::null()),
                },
                digest: OctetString::new(digest).map_err(encoding)?,
            },
            mac_salt: OctetString::new(mac_salt.to_vec()).map_err(encoding)?,
            iterations: rounds,
        }),
    };
    pfx.to_der().map_err(encoding)
}

//! PKCS#12 (`.pfx`) export: a key, its certificate and the chain, password-protected, in the two
//! presets devices and operating systems read.
//!
//! Built from RustCrypto parts: the `pkcs12` crate's structures and key-derivation function,
//! `cms` content types, `pkcs5` for PBES2, `des`/`cbc` for the legacy cipher, `hmac` for the MAC.

use der::asn1::{Any, BmpString, OctetString, SetOfVec};
use der::oid::ObjectIdentifier;
use der::Encode;
use hmac::{Hmac, KeyInit, Mac};
use pkcs12::kdf::{derive_key_utf8, Pkcs12KeyType};
use pkcs12::pfx::{Pfx, Version};
use pkcs12::{CertBag, DigestInfo, MacData, SafeBag};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use x509_cert::attr::Attribute;
use x509_cert::spki::AlgorithmIdentifierOwned;

use super::oid::{
    OID_DATA, OID_ENCRYPTED_DATA, OID_FRIENDLY_NAME, OID_LOCAL_KEY_ID, OID_SHA1, OID_SHA256,
    OID_X509_CERT,
};
use super::pbe::{encoding, encrypt, random};
use super::Field;
use super::{Certificate, KeyPair, Pkcs12Preset, PkiError};

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
            field: Field::PfxPassword,
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
    let rounds = i32::try_from(preset.iterations()).map_err(encoding)?;
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

/// What a password-protected key export makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyExportKind {
    /// A `.pfx` with the modern preset (AES-256-CBC, PBKDF2 and MAC with 600,000 iterations).
    PfxModern,
    /// A `.pfx` with the legacy preset (3DES, SHA-1 MAC) for old Windows and Android.
    PfxLegacy,
    /// An encrypted PKCS#8 key (`-----BEGIN ENCRYPTED PRIVATE KEY-----`).
    EncryptedKey,
}

/// A password-protected export of a key (with its certificate and CA chain for a `.pfx`), as the
/// page hands it to a worker: 600,000 key-derivation iterations take a second or two, which the
/// page's thread must not spend. JSON, binary fields in base64.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyExportJob {
    /// What to make.
    pub kind: KeyExportKind,
    /// The private key, PKCS#8 DER, base64.
    pub key: String,
    /// The certificate, DER, base64.
    pub certificate: String,
    /// CA certificates, nearest first, DER, base64.
    pub chain: Vec<String>,
    /// The `.pfx`'s friendly name.
    pub friendly_name: String,
    /// The export password.
    pub password: String,
}

impl std::fmt::Debug for KeyExportJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyExportJob")
            .field("kind", &self.kind)
            .field("friendly_name", &self.friendly_name)
            .finish_non_exhaustive()
    }
}

impl KeyExportJob {
    /// The job for `key_der` (PKCS#8), `certificate` and `chain`.
    pub fn new(
        kind: KeyExportKind,
        key_der: &[u8],
        certificate: &Certificate,
        chain: &[Certificate],
        friendly_name: &str,
        password: &str,
    ) -> Self {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD;
        Self {
            kind,
            key: b64.encode(key_der),
            certificate: b64.encode(certificate.der()),
            chain: chain.iter().map(|c| b64.encode(c.der())).collect(),
            friendly_name: friendly_name.to_owned(),
            password: password.to_owned(),
        }
    }

    /// The file: the `.pfx`, or the encrypted key's PEM.
    pub fn run(&self) -> Result<Vec<u8>, PkiError> {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD;
        let bad = |what: &str| PkiError::Signing {
            detail: format!("the export was handed a damaged {what}"),
        };
        let key_der = zeroize::Zeroizing::new(b64.decode(&self.key).map_err(|_| bad("key"))?);
        let key = KeyPair::from_pkcs8_der(&key_der)?;
        let preset = match self.kind {
            KeyExportKind::EncryptedKey => {
                return Ok(key
                    .to_encrypted_pkcs8_pem(&self.password)?
                    .as_bytes()
                    .to_vec())
            }
            KeyExportKind::PfxModern => Pkcs12Preset::Modern,
            KeyExportKind::PfxLegacy => Pkcs12Preset::Legacy,
        };
        let certificate = Certificate::from_der(
            b64.decode(&self.certificate)
                .map_err(|_| bad("certificate"))?,
        )?;
        let chain = self
            .chain
            .iter()
            .map(|c| Certificate::from_der(b64.decode(c).map_err(|_| bad("CA certificate"))?))
            .collect::<Result<Vec<_>, _>>()?;
        export_pkcs12(
            &key,
            &certificate,
            &chain,
            &self.friendly_name,
            &self.password,
            preset,
        )
    }
}

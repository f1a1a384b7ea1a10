//! PKCS#12 (`.pfx`, `.p12`) import: the key, its certificate and the chain from a file made by
//! OpenSSL (3's default and `-legacy`), Windows, macOS or this tool, after the password checks out.
//!
//! Understood: the MAC with HMAC-SHA1/SHA-256/384/512 over the PKCS#12 KDF; bags encrypted with
//! PBES2 (PBKDF2 or scrypt, AES-CBC/GCM), pbeWithSHAAnd3-KeyTripleDES-CBC and
//! pbeWithSHAAnd40BitRC2-CBC / 128BitRC2-CBC (OpenSSL's `-legacy` certificates); plain and shrouded
//! key bags; X.509 certificate bags.

use cbc::cipher::{block_padding::Pkcs7, BlockModeDecrypt, InnerIvInit, KeyIvInit};
use der::asn1::{AnyRef, ContextSpecific, OctetString};
use der::{Decode, Encode};
use hmac::{Hmac, KeyInit, Mac};
use pkcs12::kdf::{derive_key_utf8, Pkcs12KeyType};
use pkcs12::pfx::Pfx;
use pkcs12::SafeBag;
use sha1::Sha1;
use sha2::{Sha256, Sha384, Sha512};
use x509_cert::spki::AlgorithmIdentifierOwned;

use super::oid::{
    OID_DATA, OID_ENCRYPTED_DATA, OID_FRIENDLY_NAME, OID_PBES2, OID_PBMAC1, OID_SHA1, OID_SHA256,
    OID_SHA384, OID_SHA512, OID_X509_CERT,
};
use super::pbe::check_iterations;
use super::{Certificate, KeyPair, PkiError};

/// What a `.pfx` held.
#[derive(Debug)]
pub struct Pkcs12Contents {
    /// The private key.
    pub key: KeyPair,
    /// The certificate of that key.
    pub certificate: Certificate,
    /// The other certificates, nearest issuer first where the file lets us tell.
    pub chain: Vec<Certificate>,
    /// The friendlyName of the key's certificate, if the file names it.
    pub friendly_name: Option<String>,
}

fn invalid(detail: impl Into<String>) -> PkiError {
    PkiError::Pkcs12Invalid {
        detail: detail.into(),
    }
}

fn wrong_password() -> PkiError {
    PkiError::PasswordWrong { what: ".pfx file" }
}

/// Checks the MAC: the one test of the password that does not depend on the ciphers inside.
fn check_mac(pfx: &Pfx, auth_safe: &[u8], password: &str) -> Result<(), PkiError> {
    let Some(mac_data) = &pfx.mac_data else {
        return Ok(());
    };
    let oid = mac_data.mac.algorithm.oid;
    if oid == OID_PBMAC1 {
        return Err(invalid(
            "its integrity check is PBMAC1, which this tool does not read yet; re-export it with `openssl pkcs12 -export` (HMAC-SHA256)",
        ));
    }
    let salt = mac_data.mac_salt.as_bytes();
    let rounds = mac_data.iterations;
    check_iterations(i64::from(rounds)).map_err(invalid)?;
    let expected = mac_data.mac.digest.as_bytes();
    macro_rules! verify_with {
        ($d:ty, $len:expr) => {{
            let key = derive_key_utf8::<$d>(password, salt, Pkcs12KeyType::Mac, rounds, $len)
                .map_err(|e| invalid(format!("its MAC parameters are not usable ({e})")))?;
            let mut mac =
                <Hmac<$d> as KeyInit>::new_from_slice(&key).map_err(|e| invalid(e.to_string()))?;
            mac.update(auth_safe);
            mac.verify_slice(expected).is_ok()
        }};
    }
    let ok = match oid {
        o if o == OID_SHA1 => verify_with!(Sha1, 20),
        o if o == OID_SHA256 => verify_with!(Sha256, 32),
        o if o == OID_SHA384 => verify_with!(Sha384, 48),
        o if o == OID_SHA512 => verify_with!(Sha512, 64),
        o => {
            return Err(invalid(format!(
                "its integrity check uses digest {o}, which this tool does not read"
            )))
        }
    };
    if ok {
        Ok(())
    } else {
        Err(wrong_password())
    }
}

/// Decrypts one encrypted part (a SafeContents or a shrouded key) with the algorithm it names.
fn decrypt(
    alg: &AlgorithmIdentifierOwned,
    password: &str,
    data: &[u8],
) -> Result<Vec<u8>, PkiError> {
    if alg.oid == OID_PBES2 {
        let scheme =
            pkcs5::EncryptionScheme::from_der(&alg.to_der().map_err(|e| invalid(e.to_string()))?)
                .map_err(|e| invalid(format!("its PBES2 parameters are not understood ({e})")))?;
        super::pbe::check_work(&scheme).map_err(invalid)?;
        return scheme.decrypt(password, data).map_err(|e| match e {
            pkcs5::Error::AlgorithmParametersInvalid { .. } | pkcs5::Error::UnsupportedAlgorithm { .. } => {
                invalid(format!("its encryption is not supported ({e}); re-export it with the modern preset or OpenSSL 3's defaults"))
            }
            _ => wrong_password(),
        });
    }
    let params = alg
        .parameters
        .as_ref()
        .ok_or_else(|| invalid("an encrypted part names no parameters"))?
        .decode_as::<pkcs12::pbe_params::Pkcs12PbeParams>()
        .map_err(|e| invalid(format!("its PBE parameters are not understood ({e})")))?;
    let salt = params.salt.as_bytes();
    let rounds = params.iterations;
    check_iterations(i64::from(rounds)).map_err(invalid)?;
    let derive = |kind, len| {
        derive_key_utf8::<Sha1>(password, salt, kind, rounds, len)
            .map_err(|e| invalid(format!("its PBE parameters are not usable ({e})")))
    };
    let padding = |_| wrong_password();
    match alg.oid {
        o if o == pkcs12::PKCS_12_PBE_WITH_SHAAND3_KEY_TRIPLE_DES_CBC => {
            let key = derive(Pkcs12KeyType::EncryptionKey, 24)?;
            let iv = derive(Pkcs12KeyType::Iv, 8)?;
            cbc::Decryptor::<des::TdesEde3>::new_from_slices(&key, &iv)
                .map_err(|e| invalid(e.to_string()))?
                .decrypt_padded_vec::<Pkcs7>(data)
                .map_err(padding)
        }
        o if o == pkcs12::PKCS_12_PBEWITH_SHAAND40_BIT_RC2_CBC
            || o == pkcs12::PKCS_12_PBE_WITH_SHAAND128_BIT_RC2_CBC =>
        {
            let bits = if o == pkcs12::PKCS_12_PBEWITH_SHAAND40_BIT_RC2_CBC {
                40
            } else {
                128
            };
            let key = derive(Pkcs12KeyType::EncryptionKey, bits / 8)?;
            let iv = derive(Pkcs12KeyType::Iv, 8)?;
            let cipher = rc2::Rc2::new_with_eff_key_len(&key, bits);
            let iv = cbc::cipher::Array::try_from(iv.as_slice()).map_err(|_| invalid("bad IV"))?;
            cbc::Decryptor::<rc2::Rc2>::inner_iv_init(cipher, &iv)
                .decrypt_padded_vec::<Pkcs7>(data)
                .map_err(padding)
        }
        o => Err(invalid(format!(
            "a part is encrypted with {o}, which this tool does not read (RC4 and 2-key 3DES are \
             obsolete); re-export it with `openssl pkcs12 -export` (AES-256)"
        ))),
    }
}

/// The content of a SafeBag's `[0] EXPLICIT` value, as DER.
fn bag_value(bag: &SafeBag) -> Result<Vec<u8>, PkiError> {
    let wrapped = ContextSpecific::<AnyRef<'_>>::from_der(&bag.bag_value);
    match wrapped {
        Ok(cs) => cs.value.to_der().map_err(|e| invalid(e.to_string())),
        // Already the bare value.
        Err(_) => Ok(bag.bag_value.clone()),
    }
}

fn friendly_name(bag: &SafeBag) -> Option<String> {
    bag.bag_attributes
        .as_ref()?
        .iter()
        .find(|a| a.oid == OID_FRIENDLY_NAME)?
        .values
        .iter()
        .next()?
        .decode_as::<der::asn1::BmpString>()
        .ok()
        .map(|s| s.to_string())
}

/// Whether `bytes` have the outer structure of a `.pfx` (before any password is tried).
pub fn looks_like_pkcs12(bytes: &[u8]) -> bool {
    Pfx::from_der(bytes).is_ok()
}

/// The keys and the certificates (with their friendly names) of a `.pfx`, password checked.
type Bags = (Vec<KeyPair>, Vec<(Certificate, Option<String>)>);

fn read_bags(bytes: &[u8], password: &str) -> Result<Bags, PkiError> {
    super::import::size_ok(bytes.len())?;
    if bytes.is_empty() {
        return Err(invalid("the file is empty"));
    }
    if bytes.starts_with(b"-----BEGIN") {
        return Err(invalid(
            "this is PEM text, not a .pfx; import PEM files as a certificate and a key",
        ));
    }
    let pfx = Pfx::from_der(bytes).map_err(|e| invalid(format!("not a PKCS#12 file ({e})")))?;
    if pfx.auth_safe.content_type != OID_DATA {
        return Err(invalid(
            "it is signed with a public key rather than protected by a password, which this tool does not read",
        ));
    }
    let auth_safe = pfx
        .auth_safe
        .content
        .decode_as::<OctetString>()
        .map_err(|e| invalid(e.to_string()))?;
    check_mac(&pfx, auth_safe.as_bytes(), password)?;
    let parts = Vec::<cms::content_info::ContentInfo>::from_der(auth_safe.as_bytes())
        .map_err(|e| invalid(format!("its contents are not understood ({e})")))?;

    let mut bags = Vec::new();
    for part in parts {
        let contents = match part.content_type {
            o if o == OID_DATA => part
                .content
                .decode_as::<OctetString>()
                .map_err(|e| invalid(e.to_string()))?
                .as_bytes()
                .to_vec(),
            o if o == OID_ENCRYPTED_DATA => {
                let enc = part
                    .content
                    .decode_as::<cms::encrypted_data::EncryptedData>()
                    .map_err(|e| invalid(e.to_string()))?;
                let info = enc.enc_content_info;
                let data = info
                    .encrypted_content
                    .ok_or_else(|| invalid("an encrypted part is empty"))?;
                decrypt(&info.content_enc_alg, password, data.as_bytes())?
            }
            o => return Err(invalid(format!("a part of type {o} is not understood"))),
        };
        let safe = Vec::<SafeBag>::from_der(&contents).map_err(|_| {
            // Without a MAC, a wrong password shows up here as garbage.
            if pfx.mac_data.is_none() {
                wrong_password()
            } else {
                invalid("a part does not hold certificates or keys")
            }
        })?;
        bags.extend(safe);
    }

    let mut keys = Vec::new();
    let mut certs = Vec::new();
    for bag in &bags {
        let value = bag_value(bag)?;
        match bag.bag_id {
            o if o == pkcs12::PKCS_12_PKCS8_KEY_BAG_OID => {
                let info = pkcs12::pbe_params::EncryptedPrivateKeyInfo::from_der(&value)
                    .map_err(|e| invalid(e.to_string()))?;
                let plain = zeroize::Zeroizing::new(decrypt(
                    &info.encryption_algorithm,
                    password,
                    info.encrypted_data.as_bytes(),
                )?);
                keys.push(KeyPair::from_pkcs8_der(&plain)?);
            }
            o if o == pkcs12::PKCS_12_KEY_BAG_OID => keys.push(KeyPair::from_pkcs8_der(&value)?),
            o if o == pkcs12::PKCS_12_CERT_BAG_OID => {
                let cert = pkcs12::CertBag::from_der(&value).map_err(|e| invalid(e.to_string()))?;
                if cert.cert_id == OID_X509_CERT {
                    let der = cert.cert_value.as_bytes().to_vec();
                    certs.push((Certificate::from_der(der)?, friendly_name(bag)));
                }
            }
            // CRLs, secrets and nested contents are not needed here.
            _ => {}
        }
    }
    Ok((keys, certs))
}

/// Reads a `.pfx` with its password: the key, its certificate, the others, and the name.
pub fn import_pkcs12(bytes: &[u8], password: &str) -> Result<Pkcs12Contents, PkiError> {
    let (keys, certs) = read_bags(bytes, password)?;
    assemble(keys, certs)
}

/// What a `.pfx` holds: a key with its certificates, or (a CA or trust list exported from
/// Windows or a keychain) certificates only. Read once, password checked.
pub(super) fn read_pkcs12(
    bytes: &[u8],
    password: &str,
) -> Result<Result<Pkcs12Contents, Vec<Certificate>>, PkiError> {
    let (keys, certs) = read_bags(bytes, password)?;
    if keys.is_empty() {
        if certs.is_empty() {
            return Err(invalid("it holds no certificates"));
        }
        return Ok(Err(certs.into_iter().map(|(c, _)| c).collect()));
    }
    assemble(keys, certs).map(Ok)
}

/// The key, its certificate (found by public key), the rest in issuer order.
fn assemble(
    mut keys: Vec<KeyPair>,
    certs: Vec<(Certificate, Option<String>)>,
) -> Result<Pkcs12Contents, PkiError> {
    let key = match keys.len() {
        0 => return Err(PkiError::Pkcs12WithoutKey),
        1 => keys.remove(0),
        n => {
            return Err(invalid(format!(
                "it holds {n} private keys; this tool takes one key per file"
            )))
        }
    };
    let spki = key.subject_public_key_info_der();
    let mut leaf = None;
    let mut chain = Vec::new();
    for (cert, name) in certs {
        if leaf.is_none() && cert.info()?.subject_public_key_info == spki {
            leaf = Some((cert, name));
        } else {
            chain.push(cert);
        }
    }
    let (certificate, friendly_name) = leaf.ok_or_else(|| {
        invalid(
            "none of its certificates belongs to its key: it is damaged or was assembled wrongly",
        )
    })?;
    let chain = super::order::order_chain(&certificate, chain);
    Ok(Pkcs12Contents {
        key,
        certificate,
        chain,
        friendly_name,
    })
}

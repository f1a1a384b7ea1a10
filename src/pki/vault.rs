//! A workspace sealed with a passphrase: Argon2id derives a 256-bit key, AES-256-GCM encrypts the
//! workspace and authenticates it together with the header (format, version, KDF parameters,
//! nonce), so a changed byte anywhere, a wrong passphrase or weakened parameters are refused.
//!
//! ```text
//! {"format":"hubcert-workspace","version":1,
//!  "kdf":{"name":"argon2id","memoryKib":19456,"iterations":2,"parallelism":1,"salt":"<base64, 16 bytes>"},
//!  "cipher":{"name":"aes-256-gcm","nonce":"<base64, 12 bytes>"},
//!  "ciphertext":"<base64: encrypted workspace JSON, then the 16-byte tag>"}
//! ```
//! The additional authenticated data is the file's JSON without `ciphertext`, keys in the order
//! above. Parameters are OWASP's minimum for Argon2id (19 MiB, 2 passes, 1 lane); a file asking
//! for less is refused, so nobody can hand a user a file that is cheap to brute-force.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::Aes256Gcm;
use argon2::{Algorithm, Argon2, Params, Version};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::PkiError;

/// What the file says it is.
pub const VAULT_FORMAT: &str = "hubcert-workspace";
/// The format version this code writes and reads.
pub const VAULT_VERSION: u32 = 1;
/// The shortest passphrase accepted for a new vault.
pub const MIN_PASSPHRASE_CHARS: usize = 12;

/// The largest workspace file read (a fleet of 100,000 devices with keys fits).
pub const MAX_VAULT_BYTES: usize = 256 << 20;

/// Checks a workspace file's size before it is read.
pub fn vault_size_ok(len: usize) -> Result<(), PkiError> {
    if len > MAX_VAULT_BYTES {
        return Err(damaged(format!(
            "it has {len} bytes, more than a workspace holds ({} MiB at most): choose the .hubcert file saved from this page",
            MAX_VAULT_BYTES >> 20
        )));
    }
    Ok(())
}

/// Argon2id cost: memory in KiB, passes, lanes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KdfCost {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes over the memory.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl KdfCost {
    /// OWASP's minimum for Argon2id: 19 MiB, 2 passes, 1 lane. What new vaults use.
    pub const OWASP: Self = Self {
        memory_kib: 19_456,
        iterations: 2,
        parallelism: 1,
    };

    /// Whether a file's parameters are at least OWASP's (memory × passes, and each at least
    /// what OWASP's alternatives allow), and not absurdly large (a file could otherwise ask a
    /// browser for gigabytes).
    fn acceptable(self) -> bool {
        let work = u64::from(self.memory_kib) * u64::from(self.iterations);
        let min = u64::from(Self::OWASP.memory_kib) * u64::from(Self::OWASP.iterations);
        work >= min
            && self.memory_kib >= 7_168
            && self.memory_kib <= 1 << 20
            && (1..=16).contains(&self.parallelism)
            && (1..=64).contains(&self.iterations)
    }
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Kdf {
    name: String,
    #[serde(flatten)]
    cost: KdfCost,
    salt: String,
}

#[derive(Serialize, Deserialize)]
struct Cipher {
    name: String,
    nonce: String,
}

/// The header, authenticated with the content.
#[derive(Serialize, Deserialize)]
struct Header {
    format: String,
    version: u32,
    kdf: Kdf,
    cipher: Cipher,
}

#[derive(Serialize, Deserialize)]
struct Sealed {
    #[serde(flatten)]
    header: Header,
    ciphertext: String,
}

fn damaged(detail: impl Into<String>) -> PkiError {
    PkiError::VaultInvalid {
        detail: detail.into(),
    }
}

fn derive(passphrase: &str, salt: &[u8], cost: KdfCost) -> Result<Zeroizing<[u8; 32]>, PkiError> {
    let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, Some(32))
        .map_err(|e| {
            damaged(format!(
                "its key derivation parameters are not usable ({e})"
            ))
        })?;
    let mut key = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(passphrase.as_bytes(), salt, key.as_mut())
        .map_err(|e| damaged(format!("the key could not be derived ({e})")))?;
    Ok(key)
}

/// Checks a new passphrase: at least [`MIN_PASSPHRASE_CHARS`] characters.
pub fn check_passphrase(passphrase: &str) -> Result<(), PkiError> {
    let chars = passphrase.chars().count();
    if chars < MIN_PASSPHRASE_CHARS {
        return Err(PkiError::PassphraseTooShort {
            chars,
            min: MIN_PASSPHRASE_CHARS,
        });
    }
    Ok(())
}

/// Seals `plaintext` (the workspace's JSON) under `passphrase` with `cost`; the file's text.
pub fn seal(plaintext: &[u8], passphrase: &str, cost: KdfCost) -> Result<String, PkiError> {
    check_passphrase(passphrase)?;
    if !cost.acceptable() {
        return Err(damaged(
            "the key derivation parameters are weaker than OWASP's minimum",
        ));
    }
    let mut salt = [0u8; 16];
    let mut nonce = [0u8; 12];
    getrandom::fill(&mut salt).map_err(|_| PkiError::Random)?;
    getrandom::fill(&mut nonce).map_err(|_| PkiError::Random)?;
    let header = Header {
        format: VAULT_FORMAT.into(),
        version: VAULT_VERSION,
        kdf: Kdf {
            name: "argon2id".into(),
            cost,
            salt: BASE64.encode(salt),
        },
        cipher: Cipher {
            name: "aes-256-gcm".into(),
            nonce: BASE64.encode(nonce),
        },
    };
    let aad = serde_json::to_vec(&header).map_err(|e| damaged(e.to_string()))?;
    let key = derive(passphrase, &salt, cost)?;
    let cipher = Aes256Gcm::new_from_slice(key.as_ref()).map_err(|e| damaged(e.to_string()))?;
    let ciphertext = cipher
        .encrypt(
            &nonce.into(),
            Payload {
                msg: plaintext,
                aad: &aad,
            },
        )
        .map_err(|_| damaged("encryption failed"))?;
    serde_json::to_string_pretty(&Sealed {
        header,
        ciphertext: BASE64.encode(ciphertext),
    })
    .map_err(|e| damaged(e.to_string()))
}

/// Opens a sealed workspace with `passphrase`: its JSON. A wrong passphrase and a changed file
/// look the same to AES-GCM and are refused with one message naming both.
pub fn open(sealed: &str, passphrase: &str) -> Result<Zeroizing<Vec<u8>>, PkiError> {
    let file: Sealed = serde_json::from_str(sealed).map_err(|e| {
        damaged(format!(
            "it is not a hubcert workspace file ({e}); choose the .hubcert file saved from this page"
        ))
    })?;
    let h = &file.header;
    if h.format != VAULT_FORMAT {
        return Err(damaged(format!(
            "its format is '{}', not {VAULT_FORMAT}",
            h.format
        )));
    }
    if h.version != VAULT_VERSION {
        return Err(damaged(format!(
            "it is version {} of the format; this page reads version {VAULT_VERSION}",
            h.version
        )));
    }
    if h.kdf.name != "argon2id" || h.cipher.name != "aes-256-gcm" {
        return Err(damaged(format!(
            "it uses {} and {}; this page reads argon2id and aes-256-gcm",
            h.kdf.name, h.cipher.name
        )));
    }
    if !h.kdf.cost.acceptable() {
        return Err(damaged(
            "its key derivation parameters are weaker than OWASP's minimum (or absurdly large), which this page refuses: the file was not saved by hubcert, or was changed",
        ));
    }
    let b64 = |what: &str, s: &str| {
        BASE64
            .decode(s)
            .map_err(|_| damaged(format!("its {what} is not base64")))
    };
    let salt = b64("salt", &h.kdf.salt)?;
    let nonce: [u8; 12] = b64("nonce", &h.cipher.nonce)?
        .try_into()
        .map_err(|_| damaged("its nonce is not 12 bytes"))?;
    if salt.len() < 16 {
        return Err(damaged("its salt is shorter than 16 bytes"));
    }
    let ciphertext = b64("ciphertext", &file.ciphertext)?;
    let aad = serde_json::to_vec(h).map_err(|e| damaged(e.to_string()))?;
    let key = derive(passphrase, &salt, h.kdf.cost)?;
    let cipher = Aes256Gcm::new_from_slice(key.as_ref()).map_err(|e| damaged(e.to_string()))?;
    cipher
        .decrypt(
            &nonce.into(),
            Payload {
                msg: &ciphertext,
                aad: &aad,
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| PkiError::VaultNotOpened)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASS: &str = "correct horse battery";

    #[test]
    fn a_sealed_workspace_opens_with_its_passphrase_only() {
        let plain = br#"{"cas":[],"note":"keys live here"}"#;
        let sealed = seal(plain, PASS, KdfCost::OWASP).unwrap();
        assert!(!sealed.contains("keys live here"));
        let v: serde_json::Value = serde_json::from_str(&sealed).unwrap();
        assert_eq!(v["format"], VAULT_FORMAT);
        assert_eq!(v["kdf"]["memoryKib"], 19_456);
        assert_eq!(*open(&sealed, PASS).unwrap(), plain.to_vec());
        assert_eq!(
            open(&sealed, "correct horse battery!"),
            Err(PkiError::VaultNotOpened)
        );
        // Two seals of the same content differ (fresh salt and nonce).
        assert_ne!(seal(plain, PASS, KdfCost::OWASP).unwrap(), sealed);
    }

    #[test]
    fn a_changed_byte_or_weakened_header_is_refused_by_name() {
        let sealed = seal(b"{}", PASS, KdfCost::OWASP).unwrap();
        let mut v: serde_json::Value = serde_json::from_str(&sealed).unwrap();
        // One bit of the ciphertext.
        let mut ct = BASE64.decode(v["ciphertext"].as_str().unwrap()).unwrap();
        ct[0] ^= 1;
        let mut flipped = v.clone();
        flipped["ciphertext"] = BASE64.encode(&ct).into();
        assert_eq!(
            open(&flipped.to_string(), PASS),
            Err(PkiError::VaultNotOpened)
        );
        // The header is authenticated: a more costly KDF claim changes the AAD.
        let mut costlier = v.clone();
        costlier["kdf"]["iterations"] = 3.into();
        assert_eq!(
            open(&costlier.to_string(), PASS),
            Err(PkiError::VaultNotOpened)
        );
        // Weakened parameters are refused before any work.
        v["kdf"]["memoryKib"] = 64.into();
        let e = open(&v.to_string(), PASS).unwrap_err().to_string();
        assert!(e.contains("weaker than OWASP"), "{e}");
        for (bad, says) in [
            ("not json", "not a hubcert workspace file"),
            (
                r#"{"format":"x","version":1,"kdf":{"name":"argon2id","memoryKib":19456,"iterations":2,"parallelism":1,"salt":""},"cipher":{"name":"aes-256-gcm","nonce":""},"ciphertext":""}"#,
                "format is 'x'",
            ),
            (
                r#"{"format":"hubcert-workspace","version":9,"kdf":{"name":"argon2id","memoryKib":19456,"iterations":2,"parallelism":1,"salt":""},"cipher":{"name":"aes-256-gcm","nonce":""},"ciphertext":""}"#,
                "version 9",
            ),
        ] {
            let e = open(bad, PASS).unwrap_err().to_string();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn short_passphrases_are_refused_when_sealing() {
        let e = seal(b"{}", "eleven-char", KdfCost::OWASP).unwrap_err();
        assert_eq!(e, PkiError::PassphraseTooShort { chars: 11, min: 12 });
        assert!(e.to_string().contains("12"), "{e}");
        assert!(seal(b"{}", "twelve-chars", KdfCost::OWASP).is_ok());
        let weak = KdfCost {
            memory_kib: 1024,
            iterations: 1,
            parallelism: 1,
        };
        assert!(seal(b"{}", PASS, weak).is_err());
    }
}

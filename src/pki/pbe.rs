//! Password-based encryption of keys, for `.pfx` files and encrypted PKCS#8: the presets this tool
//! writes, and the bounds on the work a file it reads may ask for.

use cbc::cipher::{block_padding::Pkcs7, BlockModeEncrypt, KeyIvInit};
use der::asn1::{Any, OctetString};
use der::{Decode, Encode};
use pkcs12::kdf::{derive_key_utf8, Pkcs12KeyType};
use sha1::Sha1;
use x509_cert::spki::AlgorithmIdentifierOwned;

use super::PkiError;

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

    /// Key-derivation iterations (PBKDF2 and the PKCS#12 MAC): OWASP's 600,000 for
    /// PBKDF2-HMAC-SHA256 in the modern preset, so a stolen file is slow to guess at; OpenSSL's
    /// 2048 in the legacy one, which old importers expect.
    pub fn iterations(self) -> u32 {
        match self {
            Self::Modern => MODERN_ITERATIONS,
            Self::Legacy => LEGACY_ITERATIONS,
        }
    }
}

/// PBKDF2-HMAC-SHA256 iterations of the modern preset (OWASP's minimum, 2023).
pub const MODERN_ITERATIONS: u32 = 600_000;
/// Iterations of the legacy preset (OpenSSL's default, which old importers expect).
pub const LEGACY_ITERATIONS: u32 = 2048;
/// The shortest password accepted for an exported key or `.pfx`.
pub const MIN_EXPORT_PASSWORD_CHARS: usize = 12;

/// Checks a password chosen to protect an exported key or `.pfx` (`field` says which).
pub fn check_export_password(password: &str, field: super::Field) -> Result<(), PkiError> {
    let chars = password.chars().count();
    if chars < MIN_EXPORT_PASSWORD_CHARS {
        return Err(PkiError::PasswordTooShort {
            field,
            chars,
            min: MIN_EXPORT_PASSWORD_CHARS,
        });
    }
    Ok(())
}

/// A random password of 25 characters from an alphabet without look-alikes (no 0/O, 1/l/I), in
/// groups of five: about 122 bits, easy to read out and type.
pub fn generate_password() -> Result<String, PkiError> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut out = String::with_capacity(29);
    let mut n = 0;
    while n < 25 {
        let [b] = random::<1>()?;
        // Rejection sampling keeps every character equally likely.
        if usize::from(b) >= 256 - 256 % ALPHABET.len() {
            continue;
        }
        if n > 0 && n % 5 == 0 {
            out.push('-');
        }
        out.push(char::from(ALPHABET[usize::from(b) % ALPHABET.len()]));
        n += 1;
    }
    Ok(out)
}

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

pub(super) fn random<const N: usize>() -> Result<[u8; N], PkiError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|_| PkiError::Random)?;
    Ok(bytes)
}

pub(super) fn encoding(e: impl std::fmt::Display) -> PkiError {
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
            let params = pkcs5::pbes2::Parameters::generate_pbkdf2_sha256_aes256cbc(
                MODERN_ITERATIONS,
                &salt,
                iv,
            )
            .map_err(encoding)?;
            let cipher = params.encrypt(password, plain).map_err(encoding)?;
            let scheme = pkcs5::EncryptionScheme::from(params);
            let alg = AlgorithmIdentifierOwned::from_der(&scheme.to_der().map_err(encoding)?)
                .map_err(encoding)?;
            Ok((alg, cipher))
        }
        Pkcs12Preset::Legacy => {
            let salt = random::<8>()?;
            let rounds = LEGACY_ITERATIONS as i32;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_passwords_are_long_unambiguous_and_different() {
        let a = generate_password().unwrap();
        let b = generate_password().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 29);
        assert_eq!(a.split('-').count(), 5);
        assert!(
            a.chars()
                .all(|c| c == '-' || "abcdefghjkmnpqrstuvwxyz23456789".contains(c)),
            "{a}"
        );
        assert!(check_export_password(&a, super::super::Field::PfxPassword).is_ok());
        let e = check_export_password("device-pw", super::super::Field::PfxPassword).unwrap_err();
        assert!(e.to_string().contains("at least 12"), "{e}");
        assert_eq!(Pkcs12Preset::Modern.iterations(), 600_000);
        assert_eq!(Pkcs12Preset::Legacy.iterations(), 2048);
    }
}

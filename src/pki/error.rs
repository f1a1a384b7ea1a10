use std::fmt;

use time::OffsetDateTime;

use super::dates::format_utc;
use crate::contract::IdError;

/// A key or signature this tool does not work with.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Unsupported {
    /// An RSA key of a size this tool does not use; `None` when the size cannot be read.
    RsaSize {
        /// Its modulus size.
        bits: Option<usize>,
    },
    /// A key algorithm other than ECDSA and RSA.
    Algorithm {
        /// Its object identifier.
        oid: der::oid::ObjectIdentifier,
    },
    /// An ECDSA key on a curve other than P-256 and P-384; `None` when none is named.
    Curve {
        /// The curve's object identifier.
        oid: Option<der::oid::ObjectIdentifier>,
    },
    /// A signature algorithm this tool cannot check.
    SignatureAlgorithm {
        /// Its object identifier.
        oid: der::oid::ObjectIdentifier,
    },
    /// The issuer's public key, which signatures are checked with.
    IssuerKey,
}

/// A well-known name for a key algorithm's OID, with the OID.
fn algorithm_name(oid: &der::oid::ObjectIdentifier) -> String {
    let oid = oid.to_string();
    let name = match oid.as_str() {
        "1.3.101.112" => "Ed25519",
        "1.3.101.113" => "Ed448",
        "1.3.101.110" => "X25519",
        "1.3.101.111" => "X448",
        "1.2.840.10040.4.1" => "DSA",
        "1.2.840.113549.1.1.10" => "RSA-PSS",
        _ => "Unknown",
    };
    format!("{name} ({oid})")
}

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::RsaSize { bits: Some(b) } => write!(f, "RSA {b} keys are"),
            Self::RsaSize { bits: None } => f.write_str("Malformed RSA keys are"),
            Self::Algorithm { oid } => write!(f, "{} keys are", algorithm_name(oid)),
            Self::Curve { oid } => write!(
                f,
                "ECDSA keys on curve {} are",
                oid.map(|o| o.to_string()).unwrap_or_else(|| "?".into())
            ),
            Self::SignatureAlgorithm { oid } => write!(f, "Signature algorithm {oid} is"),
            Self::IssuerKey => f.write_str("The issuer's key type is"),
        }
    }
}

/// Why a workspace file's key derivation (Argon2id) parameters are refused. Checked before any
/// key is derived, so a file cannot make the page work for minutes (or ask it for gigabytes)
/// before a passphrase is even tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KdfRefusal {
    /// Less work than OWASP's minimum (memory × passes below 19 MiB × 2, or memory below
    /// 7 MiB): a file whose passphrase would be cheap to guess.
    TooWeak,
    /// More memory than a workspace may ask for.
    Memory {
        /// The most accepted, in KiB.
        max_kib: u32,
    },
    /// More passes over the memory than a workspace may ask for.
    Passes {
        /// The most accepted.
        max: u32,
    },
    /// No lanes, or more than a workspace may ask for.
    Lanes {
        /// The most accepted (the least is 1).
        max: u32,
    },
    /// Memory and passes each within bounds, together costlier than a workspace may be: memory
    /// × passes above `max_memory_kib` × `max_passes`.
    Work {
        /// Memory, in KiB, of the costliest parameters accepted.
        max_memory_kib: u32,
        /// Passes of the costliest parameters accepted.
        max_passes: u32,
    },
}

/// What makes a new passphrase easy to guess, beyond its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PassphraseWeakness {
    /// One character typed again and again ("aaaaaaaaaaaa").
    OneCharacter,
    /// A shorter piece typed again and again ("abcabcabcabc", "passwordpassword").
    Repeated {
        /// How many characters the piece has.
        piece_chars: usize,
    },
    /// A run of consecutive letters, digits or keyboard keys ("abcdefghijkl", "123456789012",
    /// "qwertyuiopas"), forwards or backwards.
    Run,
    /// Too few different characters ("aabbaabbccdd").
    FewDistinct {
        /// How many different characters it has.
        distinct: usize,
        /// The fewest accepted.
        min: usize,
    },
}

/// A size in KiB as a person reads it: "19 MiB", "1 GiB", "512 KiB".
fn kib_text(kib: u64) -> String {
    let (unit, div) = if kib >= 1 << 20 {
        ("GiB", 1u64 << 20)
    } else if kib >= 1 << 10 {
        ("MiB", 1 << 10)
    } else {
        return format!("{kib} KiB");
    };
    if kib % div == 0 {
        format!("{} {unit}", kib / div)
    } else {
        format!("{} {unit}", one_decimal(kib, div))
    }
}

/// `n / d` with one decimal, a half rounded up, in integers: the float formatting machinery
/// (about 10 KB of WebAssembly) stays out of the page's modules.
pub(crate) fn one_decimal(n: u64, d: u64) -> String {
    let d = u128::from(d.max(1));
    let (q, r) = ((u128::from(n) * 10) / d, (u128::from(n) * 10) % d);
    let tenths = q + u128::from(r * 2 >= d);
    format!("{}.{}", tenths / 10, tenths % 10)
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// An input field a [`PkiError`] can name, so a form puts the message beside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Field {
    /// A certificate's common name.
    CommonName,
    /// A certificate's organization.
    Organization,
    /// A TLS server certificate's DNS name or address.
    ServerName,
    /// A validity period in days.
    ValidityDays,
    /// The password that protects an exported key.
    KeyPassword,
    /// The password that protects an exported `.pfx`.
    PfxPassword,
    /// The password of an encrypted key being read.
    EncryptedKeyPassword,
    /// A CA certificate being imported.
    CaCertificate,
    /// The device ids of a batch.
    DeviceIds,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::CommonName => "common name",
            Self::Organization => "organization",
            Self::ServerName => "server name",
            Self::ValidityDays => "validity in days",
            Self::KeyPassword => "password for the key",
            Self::PfxPassword => "password for the .pfx",
            Self::EncryptedKeyPassword => "password for the encrypted key",
            Self::CaCertificate => "CA certificate (paste its PEM or choose its file)",
            Self::DeviceIds => "list of device ids",
        })
    }
}

/// Everything that can go wrong making, reading or checking keys and certificates.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PkiError {
    /// A device id or verification code was refused.
    Id(IdError),
    /// The validity field is not a whole number of days.
    ValidityNotANumber {
        /// What was entered.
        input: String,
    },
    /// A validity of zero days.
    ValidityZero,
    /// A validity beyond what this tool issues.
    ValidityTooLong {
        /// Days requested.
        days: u32,
        /// The most allowed.
        max: u32,
    },
    /// The certificate would outlive the CA that signs it.
    ValidityExceedsIssuer {
        /// When the certificate would expire.
        not_after: OffsetDateTime,
        /// When the issuing CA expires.
        issuer_not_after: OffsetDateTime,
        /// The most whole days that still fit inside the CA's validity.
        max_days: i64,
    },
    /// The issuing CA has already expired.
    IssuerExpired {
        /// When it expired.
        not_after: OffsetDateTime,
    },
    /// A field is empty where one is required.
    FieldEmpty {
        /// Which field.
        field: Field,
    },
    /// A subject field is longer than X.509 allows.
    FieldTooLong {
        /// Which field.
        field: Field,
        /// Its length in characters.
        len: usize,
        /// The most allowed.
        max: usize,
    },
    /// The country is not two letters.
    CountryInvalid {
        /// What was entered.
        input: String,
    },
    /// The system random number generator failed.
    Random,
    /// The input is not PEM with the expected label.
    PemInvalid {
        /// What the PEM should have held, e.g. "CERTIFICATE".
        expected: &'static str,
        /// What the parser found wrong.
        detail: String,
    },
    /// The bytes are not a well-formed X.509 certificate.
    CertificateInvalid {
        /// What the parser found wrong.
        detail: String,
    },
    /// The bytes are not a private key this tool can use.
    KeyInvalid {
        /// What the parser found wrong.
        detail: String,
    },
    /// The key type is not one this tool signs with.
    UnsupportedKey {
        /// What it is.
        kind: Unsupported,
    },
    /// A `.pfx` file that cannot be read.
    Pkcs12Invalid {
        /// What was wrong.
        detail: String,
    },
    /// A `.pfx` holding certificates but no private key, where a key is needed.
    Pkcs12WithoutKey,
    /// An RSA key too short to be trusted (IoT Hub and current guidance ask for 2048 bits).
    KeyTooSmall {
        /// The key's modulus size.
        bits: usize,
        /// The smallest size accepted.
        min: usize,
    },
    /// An input file far larger than any certificate, key or request.
    TooLarge {
        /// Its size in bytes.
        bytes: usize,
    },
    /// A certificate signing request is malformed or its signature does not verify.
    CsrInvalid {
        /// What is wrong.
        detail: String,
    },
    /// A password did not open an encrypted key or file.
    PasswordWrong {
        /// What could not be opened.
        what: &'static str,
    },
    /// The CA's pathLen constraint forbids another CA below it.
    PathLenExhausted {
        /// The issuing CA's subject CN.
        issuer: String,
    },
    /// Signing or encoding a certificate failed.
    Signing {
        /// What the encoder reported.
        detail: String,
    },
    /// A workspace file is not one this page can open (format, version, parameters, encoding).
    VaultInvalid {
        /// What is wrong.
        detail: String,
    },
    /// A workspace did not open: a wrong passphrase, or a file changed after it was saved.
    VaultNotOpened,
    /// A password chosen to protect an export is too short.
    PasswordTooShort {
        /// Which password.
        field: Field,
        /// Its length in characters.
        chars: usize,
        /// The shortest accepted.
        min: usize,
    },
    /// A certificate that cannot be renewed as asked.
    RenewInvalid {
        /// Why.
        detail: String,
    },
    /// A new workspace passphrase is too short.
    PassphraseTooShort {
        /// Its length in characters.
        chars: usize,
        /// The shortest accepted.
        min: usize,
    },
    /// A new workspace passphrase is long enough but easy to guess.
    PassphraseWeak {
        /// What makes it so.
        weakness: PassphraseWeakness,
    },
    /// A workspace file asks for key derivation parameters this page does not derive with:
    /// refused before any work.
    VaultKdfRefused {
        /// Memory asked for, in KiB.
        memory_kib: u32,
        /// Passes asked for.
        iterations: u32,
        /// Lanes asked for.
        parallelism: u32,
        /// Which bound it breaks.
        refusal: KdfRefusal,
    },
}

impl fmt::Display for PkiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Id(e) => e.fmt(f),
            Self::ValidityNotANumber { input } => write!(
                f,
                "\"{input}\" is not a number of days. Enter a whole number such as 365."
            ),
            Self::ValidityZero => f.write_str("A certificate must be valid for at least 1 day."),
            Self::ValidityTooLong { days, max } => write!(
                f,
                "{days} days is longer than this tool issues (at most {max} days, about 30 years)."
            ),
            Self::ValidityExceedsIssuer { issuer_not_after, max_days, .. } => write!(
                f,
                "The certificate would outlive its CA, which expires on {}. \
                 Choose at most {max_days} days, or renew the CA first.",
                format_utc(*issuer_not_after)
            ),
            Self::IssuerExpired { not_after } => write!(
                f,
                "The CA expired on {}: it can no longer issue certificates. Create or import a new CA.",
                format_utc(*not_after)
            ),
            Self::FieldEmpty { field } => write!(f, "Enter a {field}."),
            Self::FieldTooLong { field, len, max } => {
                write!(f, "The {field} has {len} characters; X.509 allows at most {max}.")
            }
            Self::CountryInvalid { input } => write!(
                f,
                "\"{input}\" is not a country code. Use two letters such as US or DE, or leave it empty."
            ),
            Self::Random => f.write_str(
                "The browser's random number generator is not available, so no key can be made safely.",
            ),
            Self::PemInvalid { expected, detail } => write!(
                f,
                "This is not a PEM {expected} ({detail}). Paste the whole block, \
                 from -----BEGIN {expected}----- to -----END {expected}-----."
            ),
            Self::CertificateInvalid { detail } => {
                write!(f, "This is not a valid X.509 certificate ({detail}).")
            }
            Self::KeyInvalid { detail } => write!(f, "This is not a usable private key ({detail})."),
            Self::UnsupportedKey { kind } => write!(
                f,
                "{kind} not supported; use ECDSA P-256 or P-384, or RSA 2048, 3072 or 4096."
            ),
            Self::Pkcs12Invalid { detail } => write!(f, "This .pfx file cannot be imported: {detail}."),
            Self::Pkcs12WithoutKey => f.write_str(
                "This .pfx file holds certificates but no private key: export it again with the key included.",
            ),
            Self::KeyTooSmall { bits, min } => write!(
                f,
                "This RSA key has {bits} bits; at least {min} are needed. Make a new key \
                 (`openssl genrsa {min}`, or choose RSA here)."
            ),
            Self::TooLarge { bytes } => write!(
                f,
                "This file has {bytes} bytes; certificates, keys and requests are a few kilobytes. \
                 Choose the right file (at most 1 MiB)."
            ),
            Self::CsrInvalid { detail } => write!(f, "This CSR cannot be signed: {detail}."),
            Self::PasswordWrong { what } => write!(
                f,
                "The password does not open this {what}. Check it (passwords are case-sensitive) \
                 and that this is the file it belongs to."
            ),
            Self::PathLenExhausted { issuer } => write!(
                f,
                "{issuer} may not sign another CA (its pathLen constraint is used up): sign the \
                 intermediate with a CA higher in the chain, or issue device certificates from {issuer}."
            ),
            Self::Signing { detail } => write!(f, "The certificate could not be made ({detail})."),
            Self::VaultInvalid { detail } => write!(f, "This workspace cannot be opened: {detail}."),
            Self::VaultNotOpened => f.write_str(
                "The passphrase does not open this workspace, or the file was changed after it was saved (its authentication tag does not match). Check the passphrase (it is case-sensitive); if it is right, the file is damaged: use another copy. Nothing was changed on this page.",
            ),
            Self::PasswordTooShort { field, chars, min } => write!(
                f,
                "The {field} has {chars} characters; use at least {min}, or press Generate for a strong one. The file holds a private key: a short password falls to an offline guess in minutes."
            ),
            Self::RenewInvalid { detail } => {
                write!(f, "This certificate cannot be renewed: {detail}.")
            }
            Self::PassphraseTooShort { chars, min } => write!(
                f,
                "The passphrase has {chars} characters; use at least {min} (a few unrelated words are easy to remember and hard to guess)."
            ),
            Self::PassphraseWeak { weakness } => {
                f.write_str("This passphrase is among the first a guesser tries: ")?;
                match weakness {
                    PassphraseWeakness::OneCharacter => f.write_str("it is one character typed again and again.")?,
                    PassphraseWeakness::Repeated { piece_chars } => write!(
                        f,
                        "it is the same {piece_chars} characters typed again and again."
                    )?,
                    PassphraseWeakness::Run => f.write_str(
                        "it is a run of consecutive letters, digits or keys (like abcdef…, 123456… or qwerty…).",
                    )?,
                    PassphraseWeakness::FewDistinct { distinct, min } => write!(
                        f,
                        "it uses only {} (at least {min} are needed).",
                        plural(*distinct as u64, "different character", "different characters")
                    )?,
                }
                f.write_str(" Choose a few unrelated words instead (easy to remember, hard to guess).")
            }
            Self::VaultKdfRefused { memory_kib, iterations, parallelism, refusal } => {
                let (m, t, p) = (u64::from(*memory_kib), u64::from(*iterations), u64::from(*parallelism));
                match refusal {
                    KdfRefusal::TooWeak => write!(
                        f,
                        "This workspace file asks for key derivation weaker than OWASP's minimum for Argon2id ({} with {}, where at least 19 MiB with 2 passes are needed), which would make its passphrase cheap to guess; hubcert never writes such a file.",
                        kib_text(m),
                        plural(t, "pass", "passes")
                    )?,
                    KdfRefusal::Memory { max_kib } => write!(
                        f,
                        "This workspace file asks for {} of memory to open; hubcert's own files ask for 19 MiB, and this page opens none asking for more than {}.",
                        kib_text(m),
                        kib_text(u64::from(*max_kib))
                    )?,
                    KdfRefusal::Passes { max } => write!(
                        f,
                        "This workspace file asks for {} over its memory to open; hubcert's own files ask for 2, and this page opens none asking for more than {max}.",
                        plural(t, "pass", "passes")
                    )?,
                    KdfRefusal::Lanes { max } => write!(
                        f,
                        "This workspace file asks for {} to open; hubcert's own files use 1, and this page opens files using 1 to {max}.",
                        plural(p, "lane", "lanes")
                    )?,
                    KdfRefusal::Work { max_memory_kib, max_passes } => write!(
                        f,
                        "This workspace file asks for {} of memory with {} to open (memory × passes: {}); hubcert's own files ask for 19 MiB with 2 passes (38 MiB), and this page opens none above {} with {} ({}).",
                        kib_text(m),
                        plural(t, "pass", "passes"),
                        kib_text(m * t),
                        kib_text(u64::from(*max_memory_kib)),
                        plural(u64::from(*max_passes), "pass", "passes"),
                        kib_text(u64::from(*max_memory_kib) * u64::from(*max_passes))
                    )?,
                }
                f.write_str(" It was not made by hubcert or has been tampered with: nothing was derived from your passphrase. Open the .hubcert file saved from this page, or another copy of it.")
            }
        }
    }
}

impl std::error::Error for PkiError {}

impl From<IdError> for PkiError {
    fn from(e: IdError) -> Self {
        Self::Id(e)
    }
}

impl From<rcgen::Error> for PkiError {
    fn from(e: rcgen::Error) -> Self {
        Self::Signing {
            detail: e.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_decimal_is_what_a_float_would_print() {
        for d in [3u64, 7, 10, 1000, 1 << 10, 1 << 20] {
            for n in (0..5_000u64).chain([1331, 2_345, 99_999, 1_048_576 + 52_429]) {
                // Away from a half, as `{:.1}` prints the float.
                if (n * 10 % d) * 2 != d {
                    assert_eq!(
                        one_decimal(n, d),
                        format!("{:.1}", n as f64 / d as f64),
                        "{n}/{d}"
                    );
                }
            }
        }
        // A half goes up (a float of it may lie either side).
        assert_eq!(one_decimal(50, 1000), "0.1");
        assert_eq!(one_decimal(1280, 1024), "1.3");
        assert_eq!(one_decimal(2_250, 1000), "2.3");
    }
}

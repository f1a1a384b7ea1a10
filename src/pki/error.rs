use std::fmt;

use time::OffsetDateTime;

use super::dates::format_utc;
use crate::contract::IdError;

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
    /// A subject field is empty where one is required.
    FieldEmpty {
        /// The field's name as the user sees it.
        field: &'static str,
    },
    /// A subject field is longer than X.509 allows.
    FieldTooLong {
        /// The field's name as the user sees it.
        field: &'static str,
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
        /// The key's algorithm, as far as it was recognised.
        algorithm: String,
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
            Self::UnsupportedKey { algorithm } => {
                write!(
                    f,
                    "{algorithm} keys are not supported; use ECDSA P-256 or P-384, or RSA 2048, 3072 or 4096."
                )
            }
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

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

//! The thumbprints a self-signed (`x509_thumbprint`) device is registered with.

use std::fmt;

/// Why a thumbprint was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ThumbprintError {
    /// It contains `:` or spaces, as `openssl x509 -fingerprint` prints them.
    Separators,
    /// It is not 40 (SHA-1) or 64 (SHA-256) hex digits.
    Length {
        /// Its length in characters.
        len: usize,
    },
}

impl fmt::Display for ThumbprintError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Separators => {
                f.write_str("contains ':' (colons) or spaces, which IoT Hub refuses: remove them")
            }
            Self::Length { .. } => f.write_str("must be 40 (SHA-1) or 64 (SHA-256) hex digits"),
        }
    }
}

impl std::error::Error for ThumbprintError {}

/// A registered thumbprint: 40 (SHA-1) or 64 (SHA-256) hex digits, kept uppercase.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RegisteredThumbprint(String);

impl RegisteredThumbprint {
    /// Checks a thumbprint as IoT Hub does: hex digits only (colons and spaces refused),
    /// 40 or 64 of them; surrounding whitespace is trimmed, case is not significant.
    pub fn parse(value: &str) -> Result<Self, ThumbprintError> {
        let v = value.trim();
        if v.contains(':') || v.contains(' ') {
            return Err(ThumbprintError::Separators);
        }
        if !(v.len() == 40 || v.len() == 64) || !v.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ThumbprintError::Length { len: v.len() });
        }
        Ok(Self(v.to_ascii_uppercase()))
    }

    /// Uppercase hex.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether a certificate with these SHA-1 and SHA-256 thumbprints (hex, any case) matches.
    pub fn matches(&self, sha1: &str, sha256: &str) -> bool {
        self.0.eq_ignore_ascii_case(sha1) || self.0.eq_ignore_ascii_case(sha256)
    }
}

impl fmt::Display for RegisteredThumbprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbprints_are_hex_of_sha1_or_sha256_length() {
        let t = RegisteredThumbprint::parse(&"ab".repeat(20)).expect("sha-1");
        assert_eq!(t.as_str(), "AB".repeat(20));
        assert!(t.matches(&"ab".repeat(20), ""));
        assert!(RegisteredThumbprint::parse(&"0".repeat(64)).is_ok());
        assert_eq!(
            RegisteredThumbprint::parse("AB:CD"),
            Err(ThumbprintError::Separators)
        );
        assert_eq!(
            RegisteredThumbprint::parse("ABCD"),
            Err(ThumbprintError::Length { len: 4 })
        );
        assert_eq!(
            RegisteredThumbprint::parse(&"G".repeat(40)),
            Err(ThumbprintError::Length { len: 40 })
        );
    }
}

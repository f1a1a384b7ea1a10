//! IoT Hub shared access signatures: what the service and device SDKs compute, and what the hub checks.
//!
//! `SharedAccessSignature sr={url-encoded resource}&sig={url-encoded base64 HMAC}&se={expiry}[&skn={policy}]`
//! where the HMAC-SHA256, keyed with the base64-decoded shared access key, is taken over
//! `url-encoded resource + "\n" + expiry`.

use std::fmt;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::encoding::{url_decode, url_encode};

const PREFIX: &str = "SharedAccessSignature ";

/// Why a SAS token was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SasError {
    /// The shared access key is not base64.
    KeyNotBase64,
    /// The token does not start with `SharedAccessSignature `.
    NotASasToken,
    /// A required field (`sr`, `sig`, `se`) is missing.
    MissingField(&'static str),
    /// `se` is not a number of seconds.
    ExpiryInvalid,
    /// The token expired at `expiry` (Unix seconds).
    Expired {
        /// When it expired.
        expiry: u64,
    },
    /// The token is for another resource.
    WrongResource {
        /// What the token names.
        found: String,
    },
    /// The token names a different policy than expected.
    WrongPolicy {
        /// What the token names, if anything.
        found: Option<String>,
    },
    /// The signature does not match the key.
    BadSignature,
}

impl fmt::Display for SasError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::KeyNotBase64 => f.write_str("The shared access key is not valid base64: copy it again from the connection string."),
            Self::NotASasToken => f.write_str("The authorization is not a SharedAccessSignature token."),
            Self::MissingField(field) => write!(f, "The SAS token has no {field} field."),
            Self::ExpiryInvalid => f.write_str("The SAS token's expiry (se) is not a number."),
            Self::Expired { expiry } => write!(f, "The SAS token expired (se={expiry}): make a new one."),
            Self::WrongResource { found } => write!(f, "The SAS token is for {found}, not this hub or device."),
            Self::WrongPolicy { found } => match found {
                Some(p) => write!(f, "The SAS token is signed for policy {p}, which has no such key here."),
                None => f.write_str("The SAS token names no policy (skn)."),
            },
            Self::BadSignature => f.write_str("The SAS token's signature does not match: check the shared access key."),
        }
    }
}

impl std::error::Error for SasError {}

fn sign(encoded_resource: &str, expiry: u64, key: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = match <Hmac<Sha256> as KeyInit>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(format!("{encoded_resource}\n{expiry}").as_bytes());
    BASE64.encode(mac.finalize().into_bytes())
}

/// A symmetric-key enrollment group's device key: base64(HMAC-SHA256(base64-decoded group key,
/// registration id)), what Microsoft's "symmetric key attestation" docs and
/// `az iot dps enrollment-group compute-device-key` compute. The device signs its DPS
/// registration, and then its hub connection, with it; the group's key stays off the device.
pub fn derive_device_key(
    group_key_base64: &str,
    registration_id: &str,
) -> Result<String, SasError> {
    let key = BASE64
        .decode(group_key_base64.trim())
        .map_err(|_| SasError::KeyNotBase64)?;
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(&key).map_err(|_| SasError::KeyNotBase64)?;
    mac.update(registration_id.as_bytes());
    Ok(BASE64.encode(mac.finalize().into_bytes()))
}

/// Builds a token for `resource` (`{host}` for the service, `{host}/devices/{id}` for a device),
/// valid until `expiry` (Unix seconds). `policy` is the `skn` for service tokens, `None` for device tokens.
pub fn build_token(
    resource: &str,
    key_base64: &str,
    policy: Option<&str>,
    expiry: u64,
) -> Result<String, SasError> {
    let key = BASE64
        .decode(key_base64.trim())
        .map_err(|_| SasError::KeyNotBase64)?;
    let sr = url_encode(resource);
    let sig = url_encode(&sign(&sr, expiry, &key));
    let mut token = format!("{PREFIX}sr={sr}&sig={sig}&se={expiry}");
    if let Some(policy) = policy {
        token.push_str("&skn=");
        token.push_str(&url_encode(policy));
    }
    Ok(token)
}

/// The fields of a parsed token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SasToken {
    /// `sr` as sent (still URL-encoded): what was signed.
    pub encoded_resource: String,
    /// `sr` decoded.
    pub resource: String,
    /// `sig` decoded: base64 HMAC.
    pub signature: String,
    /// `se`: Unix seconds.
    pub expiry: u64,
    /// `skn` decoded, if present.
    pub policy: Option<String>,
}

impl SasToken {
    /// Parses `SharedAccessSignature sr=..&sig=..&se=..[&skn=..]`, fields in any order.
    pub fn parse(token: &str) -> Result<Self, SasError> {
        let body = token
            .trim()
            .strip_prefix(PREFIX)
            .ok_or(SasError::NotASasToken)?;
        let (mut sr, mut sig, mut se, mut skn) = (None, None, None, None);
        for pair in body.split('&') {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            match k {
                "sr" => sr = Some(v),
                "sig" => sig = Some(v),
                "se" => se = Some(v),
                "skn" => skn = Some(v),
                _ => {}
            }
        }
        let decode = url_decode;
        let sr = sr.ok_or(SasError::MissingField("sr"))?;
        Ok(Self {
            encoded_resource: sr.to_owned(),
            resource: decode(sr),
            signature: decode(sig.ok_or(SasError::MissingField("sig"))?),
            expiry: se
                .ok_or(SasError::MissingField("se"))?
                .parse()
                .map_err(|_| SasError::ExpiryInvalid)?,
            policy: skn.map(decode),
        })
    }

    /// Checks the token as IoT Hub does: not expired at `now` (Unix seconds), for `resource`
    /// (host compared case-insensitively), and signed with one of `keys_base64`.
    pub fn verify(&self, resource: &str, keys_base64: &[&str], now: u64) -> Result<(), SasError> {
        if self.expiry <= now {
            return Err(SasError::Expired {
                expiry: self.expiry,
            });
        }
        if !self
            .resource
            .trim_end_matches('/')
            .eq_ignore_ascii_case(resource)
        {
            return Err(SasError::WrongResource {
                found: self.resource.clone(),
            });
        }
        let matches = keys_base64
            .iter()
            .filter_map(|k| BASE64.decode(k.trim()).ok())
            .any(|key| {
                let expected = sign(&self.encoded_resource, self.expiry, &key);
                constant_time_eq(expected.as_bytes(), self.signature.as_bytes())
            });
        if matches {
            Ok(())
        } else {
            Err(SasError::BadSignature)
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "c2VjcmV0LWtleS1mb3ItdGVzdHMtb25seS0wMTIzNDU2Nzg5";

    // Vectors computed independently with Python:
    //   quote(res, safe=""); b64encode(hmac.new(b64decode(KEY), f"{enc}\n{exp}", sha256))
    #[test]
    fn device_token_matches_the_reference_vector() {
        let token = build_token(
            "myhub.azure-devices.net/devices/dev1",
            KEY,
            None,
            1_780_003_600,
        );
        assert_eq!(
            token.as_deref(),
            Ok(
                "SharedAccessSignature sr=myhub.azure-devices.net%2Fdevices%2Fdev1\
                &sig=ZxmmAnM6gWX8s%2BjNITHkX0%2BsIVJCfEqjgJCKrNHSW6A%3D&se=1780003600"
            )
        );
    }

    #[test]
    fn service_token_matches_the_reference_vector() {
        let token = build_token(
            "myhub.azure-devices.net",
            KEY,
            Some("iothubowner"),
            1_780_003_600,
        );
        assert_eq!(
            token.as_deref(),
            Ok("SharedAccessSignature sr=myhub.azure-devices.net\
                &sig=hOk1IIstw7R6vq%2F%2Fd1%2BdSl9Xn7HHkvgkFZzyIJThoSo%3D&se=1780003600&skn=iothubowner")
        );
    }

    #[test]
    fn a_group_key_derives_the_device_key_of_microsofts_docs() {
        // MicrosoftDocs/azure-docs, "How to provision devices using symmetric key enrollment
        // groups": this key and registration id give this derived key.
        assert_eq!(
            derive_device_key(
                "8isrFI1sGsIlvvFSSFRiMfCNzv21fjbE/+ah/lSh3lF8e2YG1Te7w1KpZhJFFXJrqYKi9yegxkqIChbqOS9Egw==",
                "sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6"
            )
            .as_deref(),
            Ok("Jsm0lyGpjaVYVP2g3FnmnmG9dI/9qU24wNoykUmermc=")
        );
        assert_eq!(
            derive_device_key("not base64!", "d"),
            Err(SasError::KeyNotBase64)
        );
    }

    #[test]
    fn a_token_verifies_until_it_expires() {
        let token = build_token("myhub.azure-devices.net", KEY, Some("iothubowner"), 2000).unwrap();
        let parsed = SasToken::parse(&token).unwrap();
        assert_eq!(parsed.policy.as_deref(), Some("iothubowner"));
        assert_eq!(
            parsed.verify("MyHub.azure-devices.net", &[KEY], 1999),
            Ok(())
        );
        assert_eq!(
            parsed.verify("myhub.azure-devices.net", &[KEY], 2000),
            Err(SasError::Expired { expiry: 2000 })
        );
    }

    #[test]
    fn a_token_for_another_resource_or_key_is_refused() {
        let token = build_token("myhub.azure-devices.net/devices/a", KEY, None, 2000).unwrap();
        let parsed = SasToken::parse(&token).unwrap();
        assert!(matches!(
            parsed.verify("myhub.azure-devices.net/devices/b", &[KEY], 1),
            Err(SasError::WrongResource { .. })
        ));
        assert_eq!(
            parsed.verify("myhub.azure-devices.net/devices/a", &["b3RoZXIta2V5"], 1),
            Err(SasError::BadSignature)
        );
        // The secondary key is accepted as well as the primary.
        assert_eq!(
            parsed.verify(
                "myhub.azure-devices.net/devices/a",
                &["b3RoZXIta2V5", KEY],
                1
            ),
            Ok(())
        );
    }

    #[test]
    fn malformed_tokens_say_what_is_missing() {
        assert_eq!(SasToken::parse("Bearer abc"), Err(SasError::NotASasToken));
        assert_eq!(
            SasToken::parse("SharedAccessSignature sig=a&se=1"),
            Err(SasError::MissingField("sr"))
        );
        assert_eq!(
            SasToken::parse("SharedAccessSignature sr=a&sig=b&se=soon"),
            Err(SasError::ExpiryInvalid)
        );
        assert_eq!(
            build_token("h", "not base64!", None, 1),
            Err(SasError::KeyNotBase64)
        );
    }
}

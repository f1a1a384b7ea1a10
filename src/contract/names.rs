//! Names both sides of IoT Hub check: device ids, verification codes, certificate names and hub
//! host names.

use std::fmt;

/// The longest device id IoT Hub accepts.
pub(crate) const MAX_DEVICE_ID_LEN: usize = 128;
/// RFC 5280 `ub-common-name`: a device certificate's CN, and so its device id, fits in 64.
pub(crate) const MAX_COMMON_NAME_LEN: usize = 64;

/// Punctuation IoT Hub allows in a device id besides ASCII letters and digits.
const DEVICE_ID_PUNCTUATION: &str = "-.%_*?!(),:=@$'";

/// Why a device id or verification code was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IdError {
    /// The device id is empty.
    DeviceIdEmpty,
    /// The device id has a character IoT Hub does not accept.
    DeviceIdInvalidChar {
        /// The refused character.
        ch: char,
        /// Its position, counted in characters from 1.
        position: usize,
    },
    /// The device id is longer than IoT Hub accepts (128).
    DeviceIdTooLong {
        /// Its length in characters.
        len: usize,
    },
    /// The device id is a valid IoT Hub id but too long for a certificate's CN (64).
    DeviceIdTooLongForCertificate {
        /// Its length in characters.
        len: usize,
    },
    /// The verification code is empty.
    VerificationCodeEmpty,
    /// The verification code is longer than a CN can hold.
    VerificationCodeTooLong {
        /// Its length in characters.
        len: usize,
    },
    /// The verification code has a character no IoT Hub code contains.
    VerificationCodeInvalidChar {
        /// The refused character.
        ch: char,
    },
    /// The certificate name is empty.
    CertificateNameEmpty,
    /// The certificate name is longer than 64 characters.
    CertificateNameTooLong {
        /// Its length in characters.
        len: usize,
    },
    /// The certificate name has a character outside `A-Za-z0-9-._`.
    CertificateNameInvalidChar {
        /// The refused character.
        ch: char,
    },
    /// The host is not `NAME.azure-devices.net`.
    NotAHubHost {
        /// The host as given.
        host: String,
    },
    /// The hub name is not 3 to 50 letters, digits or `-` (not first or last).
    HubNameInvalid {
        /// The name as given.
        name: String,
    },
    /// A DPS enrollment (group) id breaks DPS's rules: at most 128 letters, digits and `- . _ :`,
    /// ending with a letter, a digit or `-`.
    EnrollmentIdInvalid {
        /// The id as given.
        id: String,
    },
}

impl fmt::Display for IdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DeviceIdEmpty => f.write_str("Enter a device id: the certificate's CN must equal it."),
            Self::DeviceIdInvalidChar { ch, position } => write!(
                f,
                "Character {} ({}) is not allowed in an IoT Hub device id. \
                 Use letters, digits and {}",
                position,
                describe_char(*ch),
                DEVICE_ID_PUNCTUATION.chars().map(String::from).collect::<Vec<_>>().join(" ")
            ),
            Self::DeviceIdTooLong { len } => write!(
                f,
                "The device id has {len} characters; IoT Hub allows at most {MAX_DEVICE_ID_LEN}."
            ),
            Self::DeviceIdTooLongForCertificate { len } => write!(
                f,
                "The device id has {len} characters; a certificate's CN holds at most \
                 {MAX_COMMON_NAME_LEN}, so X.509 devices need an id of {MAX_COMMON_NAME_LEN} or fewer."
            ),
            Self::VerificationCodeEmpty => f.write_str(
                "Paste the verification code IoT Hub generated for this CA certificate.",
            ),
            Self::VerificationCodeTooLong { len } => write!(
                f,
                "The verification code has {len} characters; a CN holds at most \
                 {MAX_COMMON_NAME_LEN}. Check that only the code was pasted."
            ),
            Self::VerificationCodeInvalidChar { ch } => write!(
                f,
                "The verification code contains {}; IoT Hub codes are letters and digits only. \
                 Check that only the code was pasted.",
                describe_char(*ch)
            ),
            Self::CertificateNameEmpty => f.write_str("Enter a certificate name."),
            Self::CertificateNameTooLong { len } => write!(
                f,
                "The certificate name has {len} characters; at most {MAX_CERTIFICATE_NAME_LEN}."
            ),
            Self::CertificateNameInvalidChar { ch } => write!(
                f,
                "The certificate name contains '{ch}': only letters, digits, '-', '.' and '_' are allowed."
            ),
            Self::NotAHubHost { host } => write!(
                f,
                "{host} is not an IoT Hub host: give the hub's name or NAME{HUB_DOMAIN}."
            ),
            Self::HubNameInvalid { name } => write!(
                f,
                "'{name}' is not an IoT Hub name: 3 to 50 letters, digits or '-', not starting or ending with '-'."
            ),
            Self::EnrollmentIdInvalid { id } => write!(
                f,
                "'{id}' is not a DPS enrollment id: 1 to 128 letters, digits, '-', '.', '_' or ':', ending with a letter, a digit or '-'."
            ),
        }
    }
}

impl std::error::Error for IdError {}

fn describe_char(ch: char) -> String {
    match ch {
        ' ' => "a space".to_owned(),
        c if c.is_control() || c.is_whitespace() => format!("U+{:04X}", c as u32),
        c => format!("'{c}'"),
    }
}

/// A DPS enrollment group id (or an individual enrollment's registration id): at most 128
/// characters of letters, digits, `- . _ :`, the last a letter, a digit or `-` (DPS compares it
/// without case).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EnrollmentId(String);

impl EnrollmentId {
    /// Checks `input` against DPS's rules.
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let ok_char = |c: char| c.is_ascii_alphanumeric() || "-._:".contains(c);
        let ok_last = input
            .chars()
            .last()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '-');
        if input.len() > 128 || !ok_last || !input.chars().all(ok_char) {
            return Err(IdError::EnrollmentIdInvalid {
                id: input.to_owned(),
            });
        }
        Ok(Self(input.to_owned()))
    }

    /// The id as DPS spells it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EnrollmentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An IoT Hub device id that can also be a certificate's common name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DeviceId(String);

impl DeviceId {
    /// Checks `input` against IoT Hub's device id rules and the X.509 CN length limit.
    ///
    /// Surrounding whitespace is not trimmed: a device id with a space is a different device id.
    pub fn parse(input: &str) -> Result<Self, IdError> {
        if input.is_empty() {
            return Err(IdError::DeviceIdEmpty);
        }
        if let Some((i, ch)) = input
            .chars()
            .enumerate()
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || DEVICE_ID_PUNCTUATION.contains(*c)))
        {
            return Err(IdError::DeviceIdInvalidChar {
                ch,
                position: i + 1,
            });
        }
        // Only ASCII remains, so bytes and characters count the same.
        let len = input.len();
        if len > MAX_DEVICE_ID_LEN {
            return Err(IdError::DeviceIdTooLong { len });
        }
        if len > MAX_COMMON_NAME_LEN {
            return Err(IdError::DeviceIdTooLongForCertificate { len });
        }
        Ok(Self(input.to_owned()))
    }

    /// The id as IoT Hub and the certificate's CN spell it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id as a file name stem: the characters Windows forbids in names become `_`.
    pub fn file_stem(&self) -> String {
        self.0
            .chars()
            .map(|c| if "*?:".contains(c) { '_' } else { c })
            .collect()
    }
}

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The code IoT Hub issues for proof of possession of a CA's private key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VerificationCode(String);

impl VerificationCode {
    /// Trims what a paste brings along (spaces, newlines, quotes from `-o json`) and checks the rest.
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let code = input.trim().trim_matches('"').trim();
        if code.is_empty() {
            return Err(IdError::VerificationCodeEmpty);
        }
        // Hub codes are hex today; '-', '_' and '.' are let through in case that widens.
        if let Some(ch) = code
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        {
            return Err(IdError::VerificationCodeInvalidChar { ch });
        }
        if code.len() > MAX_COMMON_NAME_LEN {
            return Err(IdError::VerificationCodeTooLong { len: code.len() });
        }
        Ok(Self(code.to_owned()))
    }

    /// The code, which becomes the verification certificate's CN.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for VerificationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The longest certificate name IoT Hub and DPS accept.
const MAX_CERTIFICATE_NAME_LEN: usize = 64;

/// A CA certificate's name in IoT Hub or DPS: `^[A-Za-z0-9-._]{1,64}$`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CertificateName(String);

impl CertificateName {
    /// Checks `input` against the service's name rule; whitespace is not trimmed (the service
    /// refuses a space like any other character outside the rule).
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let v = input;
        if v.is_empty() {
            return Err(IdError::CertificateNameEmpty);
        }
        if let Some(ch) = v
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || "-._".contains(*c)))
        {
            return Err(IdError::CertificateNameInvalidChar { ch });
        }
        if v.len() > MAX_CERTIFICATE_NAME_LEN {
            return Err(IdError::CertificateNameTooLong { len: v.len() });
        }
        Ok(Self(v.to_owned()))
    }

    /// The name as the service spells it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CertificateName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The DNS suffix of every public-cloud IoT hub.
pub const HUB_DOMAIN: &str = ".azure-devices.net";

/// `myhub` becomes `myhub.azure-devices.net`; a name with a dot is taken as a full host name
/// (localhub's, a sovereign cloud's) and kept as it is.
pub fn hub_host_name(hub: &str) -> String {
    let hub = hub.trim();
    if hub.contains('.') {
        hub.to_owned()
    } else {
        format!("{hub}{HUB_DOMAIN}")
    }
}

/// A public-cloud IoT hub's host name, `NAME.azure-devices.net`, lowercase.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HubHost(String);

impl HubHost {
    /// From a hub name or host name (an `https://` prefix and a trailing `/` are dropped); anything
    /// but `NAME.azure-devices.net` with a valid hub name is refused.
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let trimmed = input
            .trim()
            .trim_start_matches("https://")
            .trim_end_matches('/');
        let host = hub_host_name(&trimmed.to_ascii_lowercase());
        let Some(name) = host.strip_suffix(HUB_DOMAIN) else {
            return Err(IdError::NotAHubHost { host });
        };
        // Azure's rule for IoT hub names.
        let valid = (3..=50).contains(&name.len())
            && !name.starts_with('-')
            && !name.ends_with('-')
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !valid {
            return Err(IdError::HubNameInvalid {
                name: name.to_owned(),
            });
        }
        Ok(Self(host))
    }

    /// The host name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The hub's name, the host's first label.
    pub fn hub_name(&self) -> &str {
        self.0.strip_suffix(HUB_DOMAIN).unwrap_or(&self.0)
    }
}

impl fmt::Display for HubHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_allowed_punctuation_mark_is_accepted() {
        let id = format!("a{DEVICE_ID_PUNCTUATION}Z9");
        assert_eq!(DeviceId::parse(&id).map(|d| d.to_string()), Ok(id));
    }

    #[test]
    fn invalid_character_is_named_with_its_position() {
        assert_eq!(
            DeviceId::parse("sensor/01"),
            Err(IdError::DeviceIdInvalidChar {
                ch: '/',
                position: 7
            })
        );
        assert_eq!(
            DeviceId::parse("caf\u{e9}"),
            Err(IdError::DeviceIdInvalidChar {
                ch: '\u{e9}',
                position: 4
            })
        );
        assert_eq!(
            DeviceId::parse(" dev"),
            Err(IdError::DeviceIdInvalidChar {
                ch: ' ',
                position: 1
            })
        );
    }

    #[test]
    fn lengths_are_checked_against_hub_and_certificate_limits() {
        assert!(DeviceId::parse(&"a".repeat(64)).is_ok());
        assert_eq!(
            DeviceId::parse(&"a".repeat(65)),
            Err(IdError::DeviceIdTooLongForCertificate { len: 65 })
        );
        assert_eq!(
            DeviceId::parse(&"a".repeat(129)),
            Err(IdError::DeviceIdTooLong { len: 129 })
        );
        assert_eq!(DeviceId::parse(""), Err(IdError::DeviceIdEmpty));
    }

    #[test]
    fn verification_code_is_trimmed_and_checked() {
        let code = VerificationCode::parse("  \"3A7B9C0DE1F2\"\n").map(|c| c.to_string());
        assert_eq!(code, Ok("3A7B9C0DE1F2".to_owned()));
        assert_eq!(
            VerificationCode::parse(" \n"),
            Err(IdError::VerificationCodeEmpty)
        );
        assert_eq!(
            VerificationCode::parse("ABC DEF"),
            Err(IdError::VerificationCodeInvalidChar { ch: ' ' })
        );
        assert_eq!(
            VerificationCode::parse(&"A".repeat(65)),
            Err(IdError::VerificationCodeTooLong { len: 65 })
        );
    }

    #[test]
    fn file_stem_replaces_characters_windows_refuses() {
        let id = DeviceId::parse("line:7*?a").expect("valid id");
        assert_eq!(id.file_stem(), "line_7__a");
    }

    #[test]
    fn messages_name_the_problem() {
        let msg = IdError::DeviceIdInvalidChar {
            ch: '/',
            position: 7,
        }
        .to_string();
        assert!(msg.contains("Character 7") && msg.contains("'/'"), "{msg}");
        let msg = IdError::DeviceIdTooLongForCertificate { len: 70 }.to_string();
        assert!(msg.contains("70") && msg.contains("64"), "{msg}");
    }

    #[test]
    fn certificate_names_follow_the_service_rule() {
        assert_eq!(
            CertificateName::parse("root-ca.cert_1").map(|n| n.to_string()),
            Ok("root-ca.cert_1".to_owned())
        );
        assert_eq!(
            CertificateName::parse(&"a".repeat(65)),
            Err(IdError::CertificateNameTooLong { len: 65 })
        );
        assert_eq!(
            CertificateName::parse("root ca"),
            Err(IdError::CertificateNameInvalidChar { ch: ' ' })
        );
        assert_eq!(
            CertificateName::parse(""),
            Err(IdError::CertificateNameEmpty)
        );
    }

    #[test]
    fn hub_hosts_are_public_cloud_hub_names_only() {
        assert_eq!(hub_host_name(" myhub "), "myhub.azure-devices.net");
        assert_eq!(hub_host_name("localhub.local"), "localhub.local");
        let host = HubHost::parse("https://MyHub.azure-devices.net/").expect("valid");
        assert_eq!(
            (host.as_str(), host.hub_name()),
            ("myhub.azure-devices.net", "myhub")
        );
        assert_eq!(
            HubHost::parse("my-hub").map(|h| h.to_string()),
            Ok("my-hub.azure-devices.net".into())
        );
        assert!(matches!(
            HubHost::parse("evil.example.com"),
            Err(IdError::NotAHubHost { .. })
        ));
        assert!(matches!(
            HubHost::parse("-bad"),
            Err(IdError::HubNameInvalid { .. })
        ));
        assert!(matches!(
            HubHost::parse("ab"),
            Err(IdError::HubNameInvalid { .. })
        ));
    }
}

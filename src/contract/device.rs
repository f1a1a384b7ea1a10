//! The registry's device identity JSON (`/devices/{id}`, api-version [`DEVICE_API_VERSION`]).
//!
//! One type for both sides: the app builds a [`Device`] to create an identity and reads the
//! hub's answer into one; localhub parses the app's body with it and answers with it.
//!
//! [`DEVICE_API_VERSION`]: super::DEVICE_API_VERSION

use std::fmt;

use serde::{Deserialize, Serialize};

/// Declares a wire-string enum with an `Unknown(String)` fallback, so a value a newer service sends
/// is kept rather than refused.
macro_rules! wire_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident => $wire:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(from = "String", into = "String")]
        pub enum $name {
            $($(#[$vm])* $variant,)+
            /// A value this version does not know, as sent.
            Unknown(String),
        }

        impl $name {
            /// The value as the service spells it.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $wire,)+
                    Self::Unknown(s) => s,
                }
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                match s.as_str() {
                    $($wire => Self::$variant,)+
                    _ => Self::Unknown(s),
                }
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.as_str().to_owned()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

wire_enum!(
    /// `authentication.type`.
    AuthKind {
        /// Symmetric keys (SAS tokens).
        Sas => "sas",
        /// A certificate pinned by thumbprint (`x509_thumbprint`).
        SelfSigned => "selfSigned",
        /// A certificate signed by a verified CA (`x509_ca`).
        CertificateAuthority => "certificateAuthority",
        /// No authentication (a module's parent device, never a device that connects).
        None => "none",
    }
);

wire_enum!(
    /// `status`.
    DeviceStatus {
        /// May connect.
        Enabled => "enabled",
        /// Refused at connect (CONNACK 5).
        Disabled => "disabled",
    }
);

wire_enum!(
    /// `connectionState`.
    ConnectionState {
        /// Has a live connection.
        Connected => "Connected",
        /// Has none.
        Disconnected => "Disconnected",
    }
);

impl Default for AuthKind {
    /// The hub's default when a body names none.
    fn default() -> Self {
        Self::Sas
    }
}

impl Default for DeviceStatus {
    /// The hub's default when a body names none.
    fn default() -> Self {
        Self::Enabled
    }
}

/// `authentication.symmetricKey`: base64 keys; the hub writes `null` for unset ones.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SymmetricKey {
    /// Primary key, base64.
    #[serde(default)]
    pub primary_key: Option<String>,
    /// Secondary key, base64.
    #[serde(default)]
    pub secondary_key: Option<String>,
}

/// `authentication.x509Thumbprint`: hex thumbprints; the hub writes `null` for unset ones.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct X509Thumbprint {
    /// Primary thumbprint.
    #[serde(default)]
    pub primary_thumbprint: Option<String>,
    /// Secondary thumbprint (certificate rollover).
    #[serde(default)]
    pub secondary_thumbprint: Option<String>,
}

/// `authentication`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Authentication {
    /// How the device authenticates.
    #[serde(rename = "type", default)]
    pub kind: AuthKind,
    /// Keys of a `sas` device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub symmetric_key: Option<SymmetricKey>,
    /// Thumbprints of a `selfSigned` device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x509_thumbprint: Option<X509Thumbprint>,
}

/// `capabilities`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Capabilities {
    /// An IoT Edge device.
    #[serde(default)]
    pub iot_edge: bool,
}

/// A device identity as the registry API writes and reads it. Fields the service sets (etag,
/// generation id, connection state, times) are absent from a create request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Device {
    /// The device id.
    pub device_id: String,
    /// Changes when an identity is deleted and made again with the same id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation_id: Option<String>,
    /// The identity's etag (unquoted in the body, quoted in the `ETag` header).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// Whether a connection is open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_state: Option<ConnectionState>,
    /// Enabled or disabled.
    #[serde(default)]
    pub status: DeviceStatus,
    /// Why it was disabled, if set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<String>,
    /// When the connection state last changed (ISO 8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_state_updated_time: Option<String>,
    /// When the status last changed (ISO 8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_updated_time: Option<String>,
    /// When the device last connected or sent (ISO 8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_activity_time: Option<String>,
    /// Cloud-to-device messages waiting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_to_device_message_count: Option<u64>,
    /// How it authenticates.
    #[serde(default)]
    pub authentication: Authentication,
    /// What it is.
    #[serde(default)]
    pub capabilities: Capabilities,
}

impl Device {
    /// A create request's body: enabled, with this authentication, not an Edge device.
    pub fn new(device_id: &str, authentication: Authentication) -> Self {
        Self {
            device_id: device_id.to_owned(),
            generation_id: None,
            etag: None,
            connection_state: None,
            status: DeviceStatus::Enabled,
            status_reason: None,
            connection_state_updated_time: None,
            status_updated_time: None,
            last_activity_time: None,
            cloud_to_device_message_count: None,
            authentication,
            capabilities: Capabilities::default(),
        }
    }

    /// Reads a device body.
    pub fn from_json(body: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(body)
    }

    /// Writes the body.
    pub fn to_json(&self) -> String {
        // A struct of strings, options and bools always serialises.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The etag without the quotes some answers carry.
    pub fn etag(&self) -> &str {
        self.etag.as_deref().unwrap_or("").trim_matches('"')
    }

    /// Primary and secondary thumbprints, empty strings read as absent.
    pub fn thumbprints(&self) -> (Option<&str>, Option<&str>) {
        fn pick(s: &Option<String>) -> Option<&str> {
            s.as_deref().filter(|s| !s.is_empty())
        }
        match &self.authentication.x509_thumbprint {
            Some(t) => (pick(&t.primary_thumbprint), pick(&t.secondary_thumbprint)),
            None => (None, None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    #[test]
    fn a_create_body_carries_only_what_the_caller_sets() {
        let d = Device::new(
            "sensor-1",
            Authentication {
                kind: AuthKind::CertificateAuthority,
                ..Default::default()
            },
        );
        let v: Value = serde_json::from_str(&d.to_json()).expect("json");
        assert_eq!(
            v,
            json!({"deviceId": "sensor-1", "status": "enabled", "authentication": {"type": "certificateAuthority"}, "capabilities": {"iotEdge": false}})
        );
    }

    #[test]
    fn a_hub_answer_reads_with_nulls_and_unknown_values_kept() {
        let body = json!({
            "deviceId": "d1", "generationId": "638", "etag": "\"MQ==\"",
            "connectionState": "Connected", "status": "disabled", "statusReason": null,
            "authentication": {"type": "selfSigned",
                "symmetricKey": {"primaryKey": null, "secondaryKey": null},
                "x509Thumbprint": {"primaryThumbprint": "AB", "secondaryThumbprint": ""}},
            "capabilities": {"iotEdge": false}, "deviceScope": "ms-azure-iot-edge://x"
        });
        let d = Device::from_json(body.to_string().as_bytes()).expect("parses");
        assert_eq!(d.status, DeviceStatus::Disabled);
        assert_eq!(d.connection_state, Some(ConnectionState::Connected));
        assert_eq!(d.authentication.kind, AuthKind::SelfSigned);
        assert_eq!(d.etag(), "MQ==");
        assert_eq!(d.thumbprints(), (Some("AB"), None));
        let odd = Device::from_json(
            br#"{"deviceId":"d","status":"paused","authentication":{"type":"tpm"}}"#,
        )
        .expect("parses");
        assert_eq!(odd.status, DeviceStatus::Unknown("paused".into()));
        assert_eq!(odd.authentication.kind.as_str(), "tpm");
    }

    #[test]
    fn every_wire_value_round_trips() {
        for k in [
            AuthKind::Sas,
            AuthKind::SelfSigned,
            AuthKind::CertificateAuthority,
            AuthKind::None,
        ] {
            assert_eq!(AuthKind::from(k.as_str().to_owned()), k);
        }
        for s in [DeviceStatus::Enabled, DeviceStatus::Disabled] {
            assert_eq!(DeviceStatus::from(s.to_string()), s);
        }
        for c in [ConnectionState::Connected, ConnectionState::Disconnected] {
            assert_eq!(ConnectionState::from(c.to_string()), c);
        }
    }

    #[test]
    fn what_one_side_writes_the_other_reads_back() {
        let request = Device::new(
            "thumb-dev",
            Authentication {
                kind: AuthKind::SelfSigned,
                symmetric_key: None,
                x509_thumbprint: Some(X509Thumbprint {
                    primary_thumbprint: Some("A".repeat(40)),
                    secondary_thumbprint: Some("B".repeat(64)),
                }),
            },
        );
        assert_eq!(
            Device::from_json(request.to_json().as_bytes()).ok(),
            Some(request.clone())
        );
        let answer = Device {
            generation_id: Some("1".into()),
            etag: Some("MQ==".into()),
            connection_state: Some(ConnectionState::Disconnected),
            status: DeviceStatus::Disabled,
            status_reason: Some("stolen".into()),
            last_activity_time: Some("0001-01-01T00:00:00Z".into()),
            cloud_to_device_message_count: Some(3),
            authentication: Authentication {
                symmetric_key: Some(SymmetricKey::default()),
                ..request.authentication.clone()
            },
            ..request
        };
        let text = answer.to_json();
        assert!(
            text.contains(r#""symmetricKey":{"primaryKey":null,"secondaryKey":null}"#),
            "{text}"
        );
        assert_eq!(Device::from_json(text.as_bytes()).ok(), Some(answer));
    }
}

//! The registry's bulk operation: `POST /devices?api-version=2021-04-12`, a body of up to
//! [`BULK_MAX_DEVICES`] [`ExportImportDevice`] entries, answered by a
//! [`BulkRegistryOperationResult`].
//!
//! Names and casing are those of the REST reference (Bulk Registry - Update Registry,
//! <https://learn.microsoft.com/rest/api/iothub/service/bulk-registry/update-registry>,
//! `BulkRegistry_UpdateRegistry` of the iothub data-plane spec, api-version 2021-04-12) as
//! Microsoft's generated Python client spells them (azure-iot-hub 2.7.0,
//! `protocol/models/export_import_device.py`: `id`, `moduleId`, `eTag`, `importMode`, `status`,
//! `statusReason`, `authentication`, `twinETag`, `tags`, `properties`, `capabilities`;
//! `bulk_registry_operation_result.py`: `isSuccessful`, `errors`, `warnings`;
//! `device_registry_operation_error.py`: `deviceId`, `errorCode`, `errorStatus`, `moduleId`,
//! `operation`; `device_registry_operation_warning.py`: `deviceId`, `warningCode`,
//! `warningStatus`).
//!
//! The service reads these bodies the way .NET's JSON reader does, without regard to case: Node's
//! `azure-iothub` 1.16.6 (`Registry._processBulkDevices`) sends `importMode` as `Update`,
//! `UpdateIfMatchETag`, `Delete` and `DeleteIfMatchETag`, and passes a device read from the hub
//! as it is, so its etag arrives as `etag`. Both are read here.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{Authentication, Capabilities, DeviceStatus, HubErrorCode};

/// At most this many entries per call ("A maximum of 100 devices can be specified per
/// invocation": azure-iot-hub's `bulk_create_or_update_devices`; Node's `addDevices` refuses more
/// before sending).
pub const BULK_MAX_DEVICES: usize = 100;

/// `importMode`: what one entry does.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum ImportMode {
    /// Create; an existing id is an error (`DeviceAlreadyExists`).
    Create,
    /// Replace the identity whatever its etag; a missing id is an error (`DeviceNotFound`).
    Update,
    /// Replace the identity if `eTag` is its current etag.
    UpdateIfMatchEtag,
    /// Delete whatever its etag; a missing id is an error (`DeviceNotFound`).
    Delete,
    /// Delete if `eTag` is its current etag.
    DeleteIfMatchEtag,
    /// Replace the twin's tags and desired properties whatever its etag.
    UpdateTwin,
    /// Replace the twin's tags and desired properties if `twinETag` is its current etag.
    UpdateTwinIfMatchEtag,
    /// A mode this version does not know, as sent.
    Unknown(String),
}

impl ImportMode {
    const ALL: [Self; 7] = [
        Self::Create,
        Self::Update,
        Self::UpdateIfMatchEtag,
        Self::Delete,
        Self::DeleteIfMatchEtag,
        Self::UpdateTwin,
        Self::UpdateTwinIfMatchEtag,
    ];

    /// The mode as the REST reference spells it.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Create => "create",
            Self::Update => "update",
            Self::UpdateIfMatchEtag => "updateIfMatchETag",
            Self::Delete => "delete",
            Self::DeleteIfMatchEtag => "deleteIfMatchETag",
            Self::UpdateTwin => "updateTwin",
            Self::UpdateTwinIfMatchEtag => "updateTwinIfMatchETag",
            Self::Unknown(s) => s,
        }
    }

    /// Whether the entry's etag must match the current one.
    pub fn needs_etag(&self) -> bool {
        matches!(
            self,
            Self::UpdateIfMatchEtag | Self::DeleteIfMatchEtag | Self::UpdateTwinIfMatchEtag
        )
    }
}

impl From<String> for ImportMode {
    /// Without regard to case, as the service reads it (Node sends `UpdateIfMatchETag`).
    fn from(s: String) -> Self {
        Self::ALL
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(&s))
            .unwrap_or(Self::Unknown(s))
    }
}

impl From<ImportMode> for String {
    fn from(m: ImportMode) -> String {
        m.as_str().to_owned()
    }
}

impl fmt::Display for ImportMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `properties` of an entry: the twin's desired (and, in exports, reported) properties.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TwinProperties {
    /// `desired`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desired: Option<Map<String, Value>>,
    /// `reported` (read only; ignored by imports).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reported: Option<Map<String, Value>>,
}

/// One entry of a bulk call: a device and what to do with it. Fields the caller leaves out are
/// not written (the Python client leaves out every `None`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportImportDevice {
    /// The device id.
    pub id: String,
    /// A module of the device, for module entries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module_id: Option<String>,
    /// The identity's etag, for `*IfMatchETag` modes (`eTag`; a device read from the hub carries
    /// it as `etag`, which Node sends as it is).
    #[serde(
        rename = "eTag",
        alias = "etag",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub etag: Option<String>,
    /// What to do.
    pub import_mode: ImportMode,
    /// Enabled or disabled; the hub's default (enabled) when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<DeviceStatus>,
    /// Why it is disabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<String>,
    /// How it authenticates; SAS with keys the hub makes when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication: Option<Authentication>,
    /// The twin's etag, for `updateTwinIfMatchETag`.
    #[serde(
        rename = "twinETag",
        alias = "twinEtag",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub twin_etag: Option<String>,
    /// The twin's tags.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Map<String, Value>>,
    /// The twin's properties.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<TwinProperties>,
    /// What it is (an IoT Edge device).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<Capabilities>,
}

impl ExportImportDevice {
    /// An entry with only its id and mode.
    pub fn new(id: &str, import_mode: ImportMode) -> Self {
        Self {
            id: id.to_owned(),
            module_id: None,
            etag: None,
            import_mode,
            status: None,
            status_reason: None,
            authentication: None,
            twin_etag: None,
            tags: None,
            properties: None,
            capabilities: None,
        }
    }

    /// The etag without the quotes a header form carries; `None` when absent or empty.
    pub fn etag(&self) -> Option<&str> {
        self.etag
            .as_deref()
            .map(|e| e.trim().trim_matches('"'))
            .filter(|e| !e.is_empty())
    }

    /// Reads a bulk request's body.
    pub fn list_from_json(body: &[u8]) -> Result<Vec<Self>, serde_json::Error> {
        serde_json::from_slice(body)
    }

    /// Writes a bulk request's body.
    pub fn list_to_json(entries: &[Self]) -> String {
        // Strings, options, maps of JSON values: always serialises.
        serde_json::to_string(entries).unwrap_or_default()
    }
}

/// `errors[]`: one entry that was not applied, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceRegistryOperationError {
    /// The entry's device id.
    pub device_id: String,
    /// Why, as a code.
    pub error_code: HubErrorCode,
    /// Why, in words.
    #[serde(default)]
    pub error_status: String,
    /// The entry's module, for module entries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module_id: Option<String>,
    /// The operation that failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
}

/// `warnings[]`: an entry applied with a remark (`DeviceRegisteredWithoutTwin`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceRegistryOperationWarning {
    /// The entry's device id.
    pub device_id: String,
    /// The remark, as a code.
    pub warning_code: String,
    /// The remark, in words.
    #[serde(default)]
    pub warning_status: String,
}

/// The answer to a bulk call: HTTP 200 when every entry applied, 400 with the same body when some
/// did not (the REST reference declares this schema for both; azure-iot-hub's
/// `BulkRegistryOperations.update_registry` reads it from either status). Entries not in `errors`
/// were applied.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkRegistryOperationResult {
    /// Whether every entry applied.
    pub is_successful: bool,
    /// The entries that did not.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub errors: Vec<DeviceRegistryOperationError>,
    /// Remarks on entries that did.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub warnings: Vec<DeviceRegistryOperationWarning>,
}

/// A list the service may write as `null`.
fn null_as_empty<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

impl BulkRegistryOperationResult {
    /// Reads an answer's body.
    pub fn from_json(body: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(body)
    }

    /// Writes the body.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::{AuthKind, SymmetricKey, X509Thumbprint};
    use serde_json::json;

    #[test]
    fn a_python_sdk_body_reads_and_writes_back_the_same() {
        // As azure-iot-hub 2.7.0 serialises `[ExportImportDevice]` (None fields left out).
        let body = json!([
            {"id": "bulk-0", "importMode": "create", "status": "enabled",
             "authentication": {"type": "sas", "symmetricKey": {"primaryKey": "YWFhYQ==", "secondaryKey": "YmJiYg=="}}},
            {"id": "bulk-1", "importMode": "updateIfMatchETag", "eTag": "MQ==",
             "authentication": {"type": "selfSigned", "x509Thumbprint": {"primaryThumbprint": "A".repeat(40), "secondaryThumbprint": "B".repeat(40)}}},
            {"id": "bulk-2", "importMode": "deleteIfMatchETag", "eTag": "Mg=="},
            {"id": "bulk-3", "importMode": "updateTwin", "tags": {"site": "north"},
             "properties": {"desired": {"interval": 30}}, "capabilities": {"iotEdge": true}}
        ]);
        let list = ExportImportDevice::list_from_json(body.to_string().as_bytes()).expect("reads");
        assert_eq!(
            list.iter()
                .map(|e| e.import_mode.clone())
                .collect::<Vec<_>>(),
            [
                ImportMode::Create,
                ImportMode::UpdateIfMatchEtag,
                ImportMode::DeleteIfMatchEtag,
                ImportMode::UpdateTwin
            ]
        );
        assert_eq!(list[0].status, Some(DeviceStatus::Enabled));
        let auth = list[1].authentication.as_ref().expect("auth");
        assert_eq!(auth.kind, AuthKind::SelfSigned);
        assert_eq!(
            auth.x509_thumbprint,
            Some(X509Thumbprint {
                primary_thumbprint: Some("A".repeat(40)),
                secondary_thumbprint: Some("B".repeat(40)),
            })
        );
        assert_eq!(list[2].etag(), Some("Mg=="));
        assert_eq!(
            list[3].tags.as_ref().map(|t| &t["site"]),
            Some(&json!("north"))
        );
        assert_eq!(list[3].capabilities, Some(Capabilities { iot_edge: true }));
        let written: Value =
            serde_json::from_str(&ExportImportDevice::list_to_json(&list)).expect("json");
        assert_eq!(written, body);
    }

    #[test]
    fn a_node_sdk_body_reads_with_its_casing_and_extra_fields() {
        // Node's updateDevices(devices, false): a device as GET gave it, `deviceId` renamed to
        // `id`, `importMode` capitalised, the etag as `etag`, nulls where the hub wrote them.
        let body = json!([{
            "id": "n1", "generationId": "638", "etag": "\"Mw==\"", "connectionState": "Disconnected",
            "status": "disabled", "statusReason": null, "cloudToDeviceMessageCount": 0,
            "authentication": {"type": "sas", "symmetricKey": {"primaryKey": "", "secondaryKey": null},
                "x509Thumbprint": {"primaryThumbprint": null, "secondaryThumbprint": null}},
            "capabilities": {"iotEdge": false}, "importMode": "UpdateIfMatchETag"
        }, {"id": "n2", "importMode": "Delete"}, {"id": "n3", "importMode": "createOrUpdate"}]);
        let list = ExportImportDevice::list_from_json(body.to_string().as_bytes()).expect("reads");
        assert_eq!(list[0].import_mode, ImportMode::UpdateIfMatchEtag);
        assert!(list[0].import_mode.needs_etag());
        assert_eq!(list[0].etag(), Some("Mw=="));
        assert_eq!(list[0].status, Some(DeviceStatus::Disabled));
        assert_eq!(
            list[0]
                .authentication
                .as_ref()
                .and_then(|a| a.symmetric_key.clone()),
            Some(SymmetricKey {
                primary_key: Some(String::new()),
                secondary_key: None
            })
        );
        assert_eq!(list[1].import_mode, ImportMode::Delete);
        assert!(!list[1].import_mode.needs_etag());
        assert_eq!(
            list[2].import_mode,
            ImportMode::Unknown("createOrUpdate".into())
        );
        // Written back in the reference's spelling.
        let written: Value =
            serde_json::from_str(&ExportImportDevice::list_to_json(&list[..1])).expect("json");
        assert_eq!(written[0]["importMode"], "updateIfMatchETag");
        assert_eq!(written[0]["eTag"], "\"Mw==\"");
        assert!(written[0].get("etag").is_none());
    }

    #[test]
    fn every_import_mode_round_trips_in_any_case() {
        for m in ImportMode::ALL {
            assert_eq!(ImportMode::from(m.to_string()), m);
            assert_eq!(ImportMode::from(m.as_str().to_uppercase()), m);
        }
    }

    #[test]
    fn a_partial_failure_reads_with_each_device_and_its_code() {
        let body = json!({
            "isSuccessful": false,
            "errors": [
                {"deviceId": "dup", "errorCode": "DeviceAlreadyExists", "errorStatus": "A device with ID 'dup' is already registered."},
                {"deviceId": "gone", "errorCode": "DeviceNotFound", "errorStatus": "Device gone is not registered", "operation": "delete"}
            ],
            "warnings": []
        });
        let r = BulkRegistryOperationResult::from_json(body.to_string().as_bytes()).expect("reads");
        assert!(!r.is_successful);
        assert_eq!(
            r.errors
                .iter()
                .map(|e| (e.device_id.as_str(), e.error_code.clone()))
                .collect::<Vec<_>>(),
            [
                ("dup", HubErrorCode::DeviceAlreadyExists),
                ("gone", HubErrorCode::DeviceNotFound)
            ]
        );
        let back: Value = serde_json::from_str(&r.to_json()).expect("json");
        assert_eq!(back, body);
        // A success may carry nulls for its lists.
        let ok = BulkRegistryOperationResult::from_json(
            br#"{"isSuccessful":true,"errors":null,"warnings":[{"deviceId":"w","warningCode":"DeviceRegisteredWithoutTwin","warningStatus":"x"}]}"#,
        )
        .expect("reads");
        assert!(ok.is_successful && ok.errors.is_empty());
        assert_eq!(ok.warnings[0].warning_code, "DeviceRegisteredWithoutTwin");
    }
}

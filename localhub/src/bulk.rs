//! The registry's bulk operation: `POST /devices?api-version=...`, a body of
//! `hubcert::contract::ExportImportDevice` entries, answered by a
//! `hubcert::contract::BulkRegistryOperationResult`.
//!
//! Each entry is checked as its single call is (`registry::put`, `registry::delete`: the device
//! id's rules, the authentication's shape, the etag of an `*IfMatchETag` mode). An entry that fails
//! is reported in `errors` by its device id and the others still apply; what applied is saved in
//! one write, as a single call's change is. The answer is 200 when every entry applied and 400,
//! with the same body, when some did not: the REST reference (Bulk Registry - Update Registry,
//! <https://learn.microsoft.com/rest/api/iothub/service/bulk-registry/update-registry>) declares
//! `BulkRegistryOperationResult` for both, and azure-iot-hub 2.7.0's
//! `BulkRegistryOperations.update_registry` reads the result from either status.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use hubcert::contract::{
    BulkRegistryOperationResult, DeviceId, DeviceRegistryOperationError, DeviceStatus,
    ExportImportDevice, HubErrorCode, ImportMode, BULK_MAX_DEVICES,
};
use serde_json::{Map, Value};

use crate::extract::{Body, RequestBody, ServiceCall};
use crate::registry::{already_registered, identity_record, not_registered, parse_auth};
use crate::reply::ApiError;
use crate::store::{DeviceAuth, DeviceRecord, Hub};

impl RequestBody for Vec<ExportImportDevice> {
    fn rejection(e: serde_json::Error) -> ApiError {
        ApiError::hub(
            StatusCode::BAD_REQUEST,
            "ArgumentInvalid",
            format!("The body is not a list of ExportImportDevice ({e})"),
        )
    }
}

/// What one entry asks of the registry, checked before anything is written.
enum Change {
    /// `create`, `update`, `updateIfMatchETag`: the identity as it will be.
    Identity {
        auth: DeviceAuth,
        enabled: bool,
        iot_edge: bool,
    },
    /// `delete`, `deleteIfMatchETag`.
    Delete,
    /// `updateTwin`: tags and desired properties replaced where the entry gives them.
    Twin {
        tags: Option<Map<String, Value>>,
        desired: Option<Map<String, Value>>,
    },
}

/// One entry's failure: its code and message.
type Refusal = (HubErrorCode, String);

fn argument(message: String) -> Refusal {
    (HubErrorCode::ArgumentInvalid, message)
}

/// The checks a single call makes of its body, for one entry.
fn check(entry: &ExportImportDevice) -> Result<Change, Refusal> {
    DeviceId::parse(&entry.id).map_err(|e| argument(e.to_string()))?;
    if entry.module_id.is_some() {
        // Modules are no part of localhub's registry.
        return Err(argument(format!(
            "Module entries ({}) are not supported by localhub",
            entry.id
        )));
    }
    if entry.import_mode.needs_etag() && compared_etag(entry).is_none() {
        return Err(argument(format!(
            "importMode {} needs the entry's {}",
            entry.import_mode,
            if entry.import_mode == ImportMode::UpdateTwinIfMatchEtag {
                "twinETag"
            } else {
                "eTag"
            }
        )));
    }
    match &entry.import_mode {
        ImportMode::Create | ImportMode::Update | ImportMode::UpdateIfMatchEtag => {
            let auth = parse_auth(entry.authentication.clone().unwrap_or_default())
                .map_err(argument)?;
            Ok(Change::Identity {
                auth,
                enabled: entry.status != Some(DeviceStatus::Disabled),
                iot_edge: entry.capabilities.as_ref().is_some_and(|c| c.iot_edge),
            })
        }
        ImportMode::Delete | ImportMode::DeleteIfMatchEtag => Ok(Change::Delete),
        ImportMode::UpdateTwin => Ok(Change::Twin {
            tags: entry.tags.clone(),
            desired: entry.properties.as_ref().and_then(|p| p.desired.clone()),
        }),
        // localhub keeps no twin etag to compare with.
        ImportMode::UpdateTwinIfMatchEtag => Err(argument(
            "importMode updateTwinIfMatchETag is not supported by localhub (it keeps no twin etag)"
                .into(),
        )),
        ImportMode::Unknown(other) => Err(argument(format!(
            "importMode '{other}' is unknown: use create, update, updateIfMatchETag, delete, deleteIfMatchETag, updateTwin or updateTwinIfMatchETag"
        ))),
    }
}

/// The etag an entry's mode compares: `twinETag` for the twin, `eTag` otherwise.
fn compared_etag(entry: &ExportImportDevice) -> Option<&str> {
    if entry.import_mode == ImportMode::UpdateTwinIfMatchEtag {
        entry
            .twin_etag
            .as_deref()
            .map(|e| e.trim().trim_matches('"'))
            .filter(|e| !e.is_empty())
    } else {
        entry.etag()
    }
}

/// Applies one checked entry to the registry; says whether the identity changed (so that a
/// connection on the old one is closed).
fn apply(
    devices: &mut std::collections::BTreeMap<String, DeviceRecord>,
    entry: &ExportImportDevice,
    change: Change,
    etag: String,
) -> Result<bool, Refusal> {
    let id = &entry.id;
    let existing = devices.get(id);
    let mode = &entry.import_mode;
    match (existing, mode) {
        (Some(_), ImportMode::Create) => {
            return Err((HubErrorCode::DeviceAlreadyExists, already_registered(id)))
        }
        (None, ImportMode::Create) => {}
        (None, _) => return Err((HubErrorCode::DeviceNotFound, not_registered(id))),
        (Some(d), m) if m.needs_etag() => {
            let wanted = compared_etag(entry).unwrap_or("");
            if wanted != "*" && wanted != d.etag {
                return Err((
                    HubErrorCode::PreconditionFailed,
                    format!(
                        "The eTag of device {id} is not the current one: read the device again"
                    ),
                ));
            }
        }
        (Some(_), _) => {}
    }
    let identity_changed = !matches!(change, Change::Twin { .. });
    match change {
        Change::Identity {
            auth,
            enabled,
            iot_edge,
        } => {
            let record = identity_record(existing, id, etag, auth, enabled, iot_edge);
            devices.insert(id.clone(), record);
        }
        Change::Delete => {
            devices.remove(id);
        }
        Change::Twin { tags, desired } => {
            if let Some(d) = devices.get_mut(id) {
                if let Some(t) = tags {
                    d.service.tags = t;
                }
                if let Some(p) = desired {
                    d.service.desired = p;
                }
            }
        }
    }
    Ok(identity_changed)
}

/// `POST /devices`: the bulk registry operation.
pub(crate) async fn update_registry(
    _: ServiceCall,
    State(hub): State<Arc<Hub>>,
    Body(entries): Body<Vec<ExportImportDevice>>,
) -> Result<Response, ApiError> {
    if entries.len() > BULK_MAX_DEVICES {
        // HTTP 413, as .NET's RegistryManager expects of this call (its error mapping for the bulk
        // operation turns RequestEntityTooLarge into TooManyDevicesException).
        return Err(ApiError::hub(
            StatusCode::PAYLOAD_TOO_LARGE,
            "TooManyDevices",
            format!(
                "The request has {} devices; a bulk registry operation takes at most {BULK_MAX_DEVICES}",
                entries.len()
            ),
        ));
    }
    if entries.is_empty() {
        return Err(ApiError::hub(
            StatusCode::BAD_REQUEST,
            "ArgumentInvalid",
            "The request names no devices",
        ));
    }
    // "A device identity can be specified only once in the list" (the reference): the call is
    // refused whole, before anything applies.
    let mut seen = BTreeSet::new();
    if let Some(twice) = entries.iter().find(|e| !seen.insert(e.id.as_str())) {
        return Err(ApiError::hub(
            StatusCode::BAD_REQUEST,
            "DeviceDefinedMultipleTimes",
            format!("Device {} is named more than once in the request", twice.id),
        ));
    }
    // Each device of the call is one identity registry operation (Microsoft:
    // iot-hub-devguide-quotas-throttling, "Identity registry operations throttle").
    crate::extract::registry_throttle(&hub, entries.len())?;
    let checked: Vec<(Result<Change, Refusal>, String)> = entries
        .iter()
        .map(|e| (check(e), hub.next_etag()))
        .collect();
    let (errors, touched) = hub.write(|_, devices| {
        let mut errors = Vec::new();
        let mut touched = Vec::new();
        for (entry, (change, etag)) in entries.iter().zip(checked) {
            match change.and_then(|c| apply(devices, entry, c, etag)) {
                Ok(true) => touched.push(entry.id.clone()),
                Ok(false) => {}
                Err((error_code, error_status)) => errors.push(DeviceRegistryOperationError {
                    device_id: entry.id.clone(),
                    error_code,
                    error_status,
                    module_id: None,
                    operation: None,
                }),
            }
        }
        (errors, touched)
    });
    // A changed or deleted registration applies from the next connection.
    for id in &touched {
        hub.disconnect(id);
    }
    let result = BulkRegistryOperationResult {
        is_successful: errors.is_empty(),
        errors,
        warnings: Vec::new(),
    };
    let status = if result.is_successful {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    Ok((status, Json(result)).into_response())
}

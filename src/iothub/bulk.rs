//! The registry's bulk operation (`POST /devices`): a list of entries sent in calls of at most
//! [`BULK_MAX_DEVICES`], and the answers read back to each device.
//!
//! IoT Hub answers 200 when every entry of a call applied and 400 with the same
//! `BulkRegistryOperationResult` when some did not (the REST reference, Bulk Registry - Update
//! Registry, declares the body for both; azure-iot-hub's `update_registry` reads it from either).
//! So a 400 whose body is that result is a partial failure, read per device; any other answer is
//! an error of the whole call.

use std::collections::BTreeMap;

use super::client::{Answer, HubClient, Transport};
use super::error::setting;
use super::{Method, Plane, Registry, Request, RestError};
use crate::contract::{
    BulkRegistryOperationResult, DeviceRegistryOperationError, DeviceRegistryOperationWarning,
    ExportImportDevice, BULK_MAX_DEVICES, DEVICE_API_VERSION,
};

impl Registry {
    /// One bulk call: `entries` (1 to [`BULK_MAX_DEVICES`]) as the body.
    pub fn bulk(
        &self,
        entries: &[ExportImportDevice],
        now_unix: u64,
    ) -> Result<Request, RestError> {
        if entries.is_empty() || entries.len() > BULK_MAX_DEVICES {
            return Err(setting(
                "Devices",
                format!(
                    "one bulk call takes 1 to {BULK_MAX_DEVICES} devices, not {}",
                    entries.len()
                ),
            ));
        }
        let url = format!("{}/devices?api-version={DEVICE_API_VERSION}", self.base());
        let mut request = Request::new(Method::Post, url, self.authorization(now_unix)?);
        request
            .headers
            .push(("Content-Type", "application/json".to_owned()));
        request.body = Some(ExportImportDevice::list_to_json(entries));
        Ok(request)
    }

    /// The bulk calls for any number of entries, in order, each of at most [`BULK_MAX_DEVICES`].
    pub fn bulk_calls(
        &self,
        entries: &[ExportImportDevice],
        now_unix: u64,
    ) -> Result<Vec<Request>, RestError> {
        entries
            .chunks(BULK_MAX_DEVICES)
            .map(|chunk| self.bulk(chunk, now_unix))
            .collect()
    }
}

/// Reads a bulk call's answer: the result on 200, and on 400 when the body is a result (some
/// entries failed, the others applied); any other answer is the whole call's error.
pub fn read_bulk_answer(answer: &Answer) -> Result<BulkRegistryOperationResult, RestError> {
    let parsed = BulkRegistryOperationResult::from_json(answer.body.as_bytes());
    match (answer.status, parsed) {
        (200, Ok(r)) => Ok(r),
        (200, Err(e)) => Err(RestError::BadAnswer(format!(
            "not a bulk registry result: {e}"
        ))),
        // A 400 without a result is the call refused whole (a body that does not parse, a device
        // named twice).
        (400, Ok(r)) if !r.is_successful => Ok(r),
        (status, _) => Err(RestError::from_status(
            Plane::Registry,
            status,
            &answer.body,
        )),
    }
}

/// What a bulk operation did, by device id.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BulkOutcome {
    /// Ids whose entries applied, in the order given.
    pub applied: Vec<String>,
    /// Entries the hub refused, by device id.
    pub failed: BTreeMap<String, DeviceRegistryOperationError>,
    /// Remarks on applied entries.
    pub warnings: Vec<DeviceRegistryOperationWarning>,
    /// Ids of the calls that were not answered or were refused whole (nothing of them applied,
    /// as far as the answer says), with the error that stopped the operation.
    pub not_applied: Vec<String>,
    /// The error that stopped the operation; later calls were not sent.
    pub stopped: Option<RestError>,
}

impl<T: Transport> HubClient<T> {
    /// Sends `entries` in calls of at most [`BULK_MAX_DEVICES`], one after the other, and reads
    /// each answer back to its devices. A throttled call is waited out and sent again (the
    /// client's `RetryPolicy`); each call is signed when it is sent, `now_unix` plus the time
    /// waited so far, so a long throttled run does not send expired tokens. A call refused whole
    /// (or unanswered, or still throttled when the policy gives up) stops the operation: its
    /// entries and those after it are `not_applied`.
    pub async fn bulk_registry(
        &self,
        registry: &Registry,
        entries: &[ExportImportDevice],
        now_unix: u64,
    ) -> Result<BulkOutcome, RestError> {
        let mut outcome = BulkOutcome::default();
        let waited_before = self.slept();
        for chunk in entries.chunks(BULK_MAX_DEVICES) {
            if outcome.stopped.is_some() {
                outcome
                    .not_applied
                    .extend(chunk.iter().map(|e| e.id.clone()));
                continue;
            }
            let waited = self.slept().saturating_sub(waited_before).as_secs();
            let call = registry.bulk(chunk, now_unix + waited)?;
            match self
                .send(Plane::Registry, &call)
                .await
                .and_then(|a| read_bulk_answer(&a))
            {
                Ok(result) => {
                    let mut failed: BTreeMap<String, DeviceRegistryOperationError> = result
                        .errors
                        .into_iter()
                        .map(|e| (e.device_id.clone(), e))
                        .collect();
                    for entry in chunk {
                        match failed.remove(&entry.id) {
                            Some(e) => {
                                outcome.failed.insert(entry.id.clone(), e);
                            }
                            None => outcome.applied.push(entry.id.clone()),
                        }
                    }
                    // An error for an id the call did not name is kept rather than dropped.
                    outcome.failed.extend(failed);
                    outcome.warnings.extend(result.warnings);
                }
                Err(e) => {
                    outcome
                        .not_applied
                        .extend(chunk.iter().map(|e| e.id.clone()));
                    outcome.stopped = Some(e);
                }
            }
        }
        Ok(outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::{HubErrorCode, ImportMode, SasToken};
    use crate::iothub::testing::{answer, registry, run, Reply, Script, KEY};
    use crate::iothub::ServiceAuth;
    use serde_json::{json, Value};

    fn creates(n: usize) -> Vec<ExportImportDevice> {
        (0..n)
            .map(|i| ExportImportDevice::new(&format!("d{i}"), ImportMode::Create))
            .collect()
    }

    fn ok() -> Reply {
        answer(
            200,
            json!({"isSuccessful": true, "errors": [], "warnings": []}).to_string(),
        )
    }

    #[test]
    fn a_bulk_call_is_a_signed_post_of_the_entries() {
        let r = registry()
            .bulk(&creates(2), 1_700_000_000)
            .expect("request");
        assert_eq!(r.method, Method::Post);
        assert_eq!(
            r.url,
            "http://127.0.0.1:8081/devices?api-version=2021-04-12"
        );
        assert_eq!(r.header("Content-Type"), Some("application/json"));
        SasToken::parse(r.header("Authorization").expect("auth"))
            .expect("token")
            .verify("myhub.azure-devices.net", &[KEY], 1_700_000_000)
            .expect("signed for the hub");
        let body: Value = serde_json::from_str(r.body.as_deref().expect("body")).expect("json");
        assert_eq!(
            body,
            json!([{"id": "d0", "importMode": "create"}, {"id": "d1", "importMode": "create"}])
        );
        let entra = Registry::new("", "h.azure-devices.net", ServiceAuth::Bearer("tok".into()))
            .expect("registry");
        assert_eq!(
            entra.bulk(&creates(1), 0).expect("request").url,
            "https://h.azure-devices.net/devices?api-version=2021-04-12"
        );
    }

    #[test]
    fn more_than_a_hundred_entries_go_in_calls_of_a_hundred_and_none_or_101_in_one_is_refused() {
        let reg = registry();
        let calls = reg.bulk_calls(&creates(250), 0).expect("calls");
        let sizes: Vec<usize> = calls
            .iter()
            .map(|c| {
                serde_json::from_str::<Vec<Value>>(c.body.as_deref().expect("body"))
                    .expect("list")
                    .len()
            })
            .collect();
        assert_eq!(sizes, [100, 100, 50]);
        assert!(matches!(
            reg.bulk(&creates(101), 0),
            Err(RestError::Setting {
                field: "Devices",
                ..
            })
        ));
        assert!(matches!(
            reg.bulk(&[], 0),
            Err(RestError::Setting {
                field: "Devices",
                ..
            })
        ));
        assert_eq!(reg.bulk_calls(&[], 0).expect("no calls"), []);
    }

    #[test]
    fn a_400_with_a_result_is_a_partial_failure_and_other_refusals_are_the_calls() {
        let partial = json!({"isSuccessful": false, "errors": [{"deviceId": "d1", "errorCode": "DeviceAlreadyExists", "errorStatus": "taken"}], "warnings": []});
        let r = read_bulk_answer(&Answer {
            status: 400,
            body: partial.to_string(),
            retry_after: None,
        })
        .expect("a partial failure");
        assert_eq!(r.errors[0].error_code, HubErrorCode::DeviceAlreadyExists);
        let whole = read_bulk_answer(&Answer {
            status: 400,
            body: r#"{"Message":"ErrorCode:DeviceDefinedMultipleTimes;d1 twice","ExceptionMessage":""}"#.into(),
            retry_after: None,
        })
        .expect_err("refused whole");
        assert!(
            matches!(&whole, RestError::Status { status: 400, code: Some(c), .. } if c == "DeviceDefinedMultipleTimes"),
            "{whole:?}"
        );
        let too_many = read_bulk_answer(&Answer {
            status: 413,
            body: r#"{"Message":"ErrorCode:TooManyDevices;101","ExceptionMessage":""}"#.into(),
            retry_after: None,
        })
        .expect_err("refused whole");
        assert_eq!(too_many.status(), Some(413));
        assert!(matches!(
            read_bulk_answer(&Answer {
                status: 200,
                body: "<html>".into(),
                retry_after: None,
            }),
            Err(RestError::BadAnswer(_))
        ));
    }

    #[test]
    fn each_device_is_told_what_happened_across_calls() {
        let partial = json!({"isSuccessful": false, "errors": [{"deviceId": "d101", "errorCode": "DeviceAlreadyExists", "errorStatus": "taken"}], "warnings": []});
        let script = Script::replies(vec![ok(), answer(400, partial.to_string())]);
        let out = run(HubClient::new(&script, true).bulk_registry(&registry(), &creates(150), 0))
            .expect("outcome");
        assert_eq!(script.sent.borrow().len(), 2);
        assert_eq!(out.applied.len(), 149);
        assert!(!out.applied.contains(&"d101".to_owned()));
        assert_eq!(out.failed.keys().collect::<Vec<_>>(), ["d101"]);
        assert_eq!(
            out.failed["d101"].error_code,
            HubErrorCode::DeviceAlreadyExists
        );
        assert!(out.not_applied.is_empty() && out.stopped.is_none());
    }

    #[test]
    fn a_call_refused_whole_stops_the_operation_and_names_what_was_not_applied() {
        let script = Script::replies(vec![
            ok(),
            crate::iothub::testing::unreachable("connection reset"),
        ]);
        let out = run(HubClient::new(&script, true).bulk_registry(&registry(), &creates(250), 0))
            .expect("outcome");
        // The third call is not sent once the second had no answer.
        assert_eq!(script.sent.borrow().len(), 2);
        assert_eq!(out.applied.len(), 100);
        assert_eq!(out.not_applied.len(), 150);
        assert_eq!(out.not_applied.first().map(String::as_str), Some("d100"));
        assert!(matches!(
            out.stopped,
            Some(RestError::Unreachable {
                plane: Plane::Registry,
                ..
            })
        ));

        let script = Script::new(vec![Ok((
            401,
            r#"{"Message":"ErrorCode:IotHubUnauthorizedAccess;Unauthorized","ExceptionMessage":""}"#,
        ))]);
        let out = run(HubClient::new(&script, true).bulk_registry(&registry(), &creates(3), 0))
            .expect("outcome");
        assert!(out.applied.is_empty());
        assert_eq!(out.not_applied, ["d0", "d1", "d2"]);
        assert_eq!(out.stopped.as_ref().and_then(RestError::status), Some(401));
    }

    fn throttled() -> Reply {
        answer(
            429,
            r#"{"Message":"ErrorCode:ThrottlingException;Throttled","ExceptionMessage":""}"#,
        )
    }

    fn policy(max_attempts: u32) -> crate::iothub::RetryPolicy {
        crate::iothub::RetryPolicy {
            max_attempts,
            base: std::time::Duration::from_secs(1),
            cap: std::time::Duration::from_secs(60),
        }
    }

    #[test]
    fn a_throttled_call_is_waited_out_and_sent_again_then_signed_later() {
        let script = Script::replies(vec![ok(), throttled(), throttled(), ok()]);
        let client = HubClient::new(&script, true).with_retry(policy(5), 7);
        let out =
            run(client.bulk_registry(&registry(), &creates(150), 1_700_000_000)).expect("outcome");
        assert_eq!(out.applied.len(), 150);
        assert!(out.stopped.is_none());
        let sent = script.sent.borrow();
        assert_eq!(sent.len(), 4, "call 2 sent three times");
        assert_eq!(sent[1], sent[2], "the same request again");
        let slept = script.slept.borrow().clone();
        assert_eq!(slept.len(), 2);
        // Full jitter: each wait is within its ceiling (1 s, then 2 s), and they add up.
        assert!(slept[0] <= std::time::Duration::from_secs(1), "{slept:?}");
        assert!(slept[1] <= std::time::Duration::from_secs(2), "{slept:?}");
        assert_eq!(client.slept(), slept[0] + slept[1]);
        // The same seed, the same waits.
        let again = Script::replies(vec![ok(), throttled(), throttled(), ok()]);
        let twin = HubClient::new(&again, true).with_retry(policy(5), 7);
        run(twin.bulk_registry(&registry(), &creates(150), 1_700_000_000)).expect("outcome");
        assert_eq!(*again.slept.borrow(), slept);
    }

    /// A scripted answer asking for `secs` of wait.
    fn asking(secs: u64) -> Reply {
        answer(429, "").retry_after(std::time::Duration::from_secs(secs))
    }

    #[test]
    fn a_retry_after_is_waited_and_a_call_throttled_past_the_attempts_stops_the_operation() {
        let script = Script::replies(vec![asking(30), asking(30), asking(30)]);
        let client = HubClient::new(&script, true).with_retry(policy(3), 1);
        let out = run(client.bulk_registry(&registry(), &creates(120), 0)).expect("outcome");
        assert_eq!(
            script.sent.borrow().len(),
            3,
            "three sends, then it gives up"
        );
        assert_eq!(
            *script.slept.borrow(),
            [std::time::Duration::from_secs(30); 2],
            "the asked wait, longer than the drawn one"
        );
        assert_eq!(out.not_applied.len(), 120);
        assert_eq!(out.stopped.as_ref().and_then(RestError::status), Some(429));
    }

    #[test]
    fn a_later_call_is_signed_after_the_waits_before_it() {
        // 61 s asked on the first call: the second call is signed 61 s later.
        let script = Script::replies(vec![asking(61), ok(), ok()]);
        let client = HubClient::new(&script, true).with_retry(policy(3), 1);
        run(client.bulk_registry(&registry(), &creates(150), 1_700_000_000)).expect("outcome");
        let expiry = |r: &Request| {
            SasToken::parse(r.header("Authorization").expect("auth"))
                .expect("token")
                .expiry
        };
        let sent = script.sent.borrow();
        assert_eq!(expiry(&sent[2]) - expiry(&sent[0]), 61);
    }
}

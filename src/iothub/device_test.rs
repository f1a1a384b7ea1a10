//! The device test's decisions (step 6): what a form asks to send, how often, to which topic, and
//! the text the page shows for a registration and the counts. The page moves frames only.

use std::fmt;

use super::login::WebSocketOutlook;
use super::snippets::DeviceFiles;
use crate::contract::AuthKind;
use crate::mqtt::DeviceEvent;

/// The device id the snippets name while no device is typed or issued.
const SNIPPET_DEVICE: &str = "sensor-device-01";

/// Why a device-test action was not taken; nothing was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeviceTestError {
    /// The number of messages is not 1 to 10,000.
    Count,
    /// The period is not 10 ms to an hour.
    Period,
    /// The reported properties are not JSON (the parser's message).
    ReportedNotJson(String),
    /// No connection is open.
    NotConnected,
}

impl fmt::Display for DeviceTestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Count => f.write_str("Messages: a number from 1 to 10000."),
            Self::Period => f.write_str("Every: a number of milliseconds, at least 10."),
            Self::ReportedNotJson(e) => write!(f, "Reported properties: not JSON ({e})."),
            Self::NotConnected => f.write_str("Connect first."),
        }
    }
}

impl std::error::Error for DeviceTestError {}

/// How many telemetry messages to send, and how far apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendPlan {
    /// Messages in all, the first sent at once.
    pub count: u32,
    /// Milliseconds between two messages.
    pub period_ms: u32,
}

impl SendPlan {
    /// Reads the form's "Messages" and "Every (ms)" fields.
    pub fn parse(count: &str, every_ms: &str) -> Result<Self, DeviceTestError> {
        let count = match count.trim().parse() {
            Ok(n) if (1..=10_000).contains(&n) => n,
            _ => return Err(DeviceTestError::Count),
        };
        // Faster than 10 ms only floods the log; slower than an hour is not a test.
        let period_ms = match every_ms.trim().parse() {
            Ok(n) if (10..=3_600_000).contains(&n) => n,
            _ => return Err(DeviceTestError::Period),
        };
        Ok(Self { count, period_ms })
    }
}

/// The message properties typed one `name=value` a line (blank lines skipped, a line without
/// `=` a name with an empty value).
pub fn message_properties(text: &str) -> Vec<(String, String)> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (k, v) = l.split_once('=').unwrap_or((l, ""));
            (k.trim().to_owned(), v.trim().to_owned())
        })
        .collect()
}

/// The reported-properties patch typed in the form: JSON, and an object (IoT Hub takes nothing
/// else as a patch).
pub fn reported_patch(text: &str) -> Result<serde_json::Value, DeviceTestError> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| DeviceTestError::ReportedNotJson(e.to_string()))?;
    if !value.is_object() {
        return Err(DeviceTestError::ReportedNotJson(
            "an object is needed, such as {\"firmware\": \"1.0.0\"}".into(),
        ));
    }
    Ok(value)
}

/// Where a line of the connection log comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogSide {
    /// From the hub.
    In,
    /// Something that went wrong.
    Err,
}

/// The connection log's line for what the device session saw.
pub fn device_event_line(event: &DeviceEvent) -> (LogSide, String) {
    use LogSide::{Err, In};
    match event {
        DeviceEvent::Connected => (In, "CONNACK 0: accepted".into()),
        DeviceEvent::Refused(r) => (In, format!("CONNACK {}: refused", r.code())),
        DeviceEvent::Subscribed { filter, refused } => match refused {
            false => (In, format!("SUBACK {filter}")),
            true => (Err, format!("SUBACK {filter}: refused")),
        },
        DeviceEvent::Acknowledged { pkid, rtt_ms } => {
            (In, format!("PUBACK id {pkid} after {rtt_ms} ms"))
        }
        DeviceEvent::Lost { pkid } => (
            Err,
            format!(
                "PUBLISH id {pkid}: no PUBACK within {} s; counted as lost",
                crate::mqtt::ACK_TIMEOUT_MS / 1000
            ),
        ),
        DeviceEvent::Twin { rid, .. } => (In, format!("twin response 200 for request {rid}")),
        DeviceEvent::ReportedUpdated { rid, .. } => {
            (In, format!("twin response 204 for request {rid}"))
        }
        DeviceEvent::TwinFailed { rid, status, .. } => {
            (Err, format!("twin response {status} for request {rid}"))
        }
        DeviceEvent::DesiredChanged { version, .. } => (
            In,
            format!("desired properties changed (version {})", shown(*version)),
        ),
        DeviceEvent::CloudToDevice { body, .. } => (
            In,
            format!("cloud-to-device message ({} bytes)", body.len()),
        ),
        DeviceEvent::MethodCall { name, .. } => (In, format!("direct method {name}")),
        DeviceEvent::Unexpected { topic, bytes } => {
            (In, format!("PUBLISH {topic} ({bytes} bytes)"))
        }
        DeviceEvent::Pong { rtt_ms } => (In, format!("PINGRESP after {rtt_ms} ms")),
    }
}

fn shown(version: Option<u64>) -> String {
    version.map_or_else(|| "?".into(), |v| v.to_string())
}

/// What the twin panel shows after a twin answer or a desired change; `None` for other events.
pub fn twin_panel_text(event: &DeviceEvent) -> Option<String> {
    match event {
        DeviceEvent::Twin { document, .. } => {
            Some(serde_json::to_string_pretty(document).unwrap_or_default())
        }
        DeviceEvent::ReportedUpdated { version, .. } => Some(format!(
            "Reported properties updated (version {}).",
            shown(*version)
        )),
        DeviceEvent::TwinFailed { status, body, .. } => {
            Some(format!("The hub answered {status}: {body}"))
        }
        DeviceEvent::DesiredChanged { version, patch } => Some(format!(
            "Desired properties changed (version {}):\n{}",
            shown(*version),
            serde_json::to_string_pretty(patch).unwrap_or_default()
        )),
        _ => None,
    }
}

/// How the device test answers a direct method: 200 with what it received, so that whoever invoked
/// it (the portal, `az iot hub invoke-device-method`) sees the round trip; the test device runs
/// nothing.
pub fn method_answer(name: &str, payload: &[u8]) -> (u16, serde_json::Value) {
    let received = serde_json::from_slice(payload)
        .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(payload).into()));
    (
        200,
        serde_json::json!({"method": name, "received": received, "answeredBy": "hubcert device test"}),
    )
}

/// How the cloud-to-device list shows a message: its body, then its properties.
pub fn cloud_to_device_text(body: &[u8], properties: &[(String, String)]) -> String {
    let body = String::from_utf8_lossy(body);
    if properties.is_empty() {
        return body.into_owned();
    }
    let props: Vec<String> = properties.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{body}  [{}]", props.join(", "))
}

/// What a device registered with `kind` means for an X.509 connection, after "Check its
/// registration".
pub fn registration_note(kind: &AuthKind) -> String {
    match kind {
        AuthKind::SelfSigned => " Registered by thumbprint (selfSigned): IoT Hub compares its SHA-1/SHA-256 only, and MQTT over WebSockets is generally available for it.".to_owned(),
        AuthKind::CertificateAuthority => " Registered as CA-signed (certificateAuthority).".to_owned(),
        other => format!(" Registered with {other} authentication: an X.509 certificate will not be accepted."),
    }
}

/// The telemetry counts line.
pub fn telemetry_counts(sent: u32, acked: u32, timed_out: u32) -> String {
    if timed_out == 0 {
        format!("{sent} sent · {acked} acknowledged")
    } else {
        format!("{sent} sent · {acked} acknowledged · {timed_out} timed out")
    }
}

/// What the hub will do with the device over WebSockets: a SAS device and a device not issued
/// here (`chain_len`, its CAs, unknown) are taken as accepted; an issued one by the CAs above its issuer,
/// and as CA-signed until its registration was read.
pub fn device_outlook(
    sas: bool,
    chain_len: Option<usize>,
    known: Option<&AuthKind>,
) -> WebSocketOutlook {
    match (sas, chain_len) {
        (false, Some(len)) => WebSocketOutlook::of(
            known.unwrap_or(&AuthKind::CertificateAuthority),
            len.saturating_sub(1),
        ),
        _ => WebSocketOutlook::Accepted,
    }
}

/// The files the "run it on the device" snippets name: the typed device, else the first issued,
/// else the sample's; the typed host, else a placeholder; localhub's TLS root when on localhub.
pub fn device_files(
    host: &str,
    device_id: &str,
    first_issued: Option<&str>,
    localhub: bool,
) -> DeviceFiles {
    let id = match device_id.trim() {
        "" => first_issued.unwrap_or(SNIPPET_DEVICE),
        typed => typed,
    }
    .to_owned();
    DeviceFiles {
        host: match host.trim() {
            "" => "NAME.azure-devices.net".to_owned(),
            typed => typed.to_owned(),
        },
        cert_file: format!("{id}.pem"),
        key_file: format!("{id}.key"),
        device_id: id,
        ca_file: localhub.then(|| ".localhub/tls/root-ca.pem".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn send_plan_takes_the_bounds_and_refuses_outside_them() {
        assert_eq!(
            SendPlan::parse(" 1 ", "10"),
            Ok(SendPlan {
                count: 1,
                period_ms: 10
            })
        );
        assert_eq!(
            SendPlan::parse("10000", "3600000").map(|p| p.count),
            Ok(10_000)
        );
        assert_eq!(SendPlan::parse("0", "1000"), Err(DeviceTestError::Count));
        assert_eq!(
            SendPlan::parse("10001", "1000"),
            Err(DeviceTestError::Count)
        );
        assert_eq!(SendPlan::parse("two", "1000"), Err(DeviceTestError::Count));
        assert_eq!(SendPlan::parse("2", "9"), Err(DeviceTestError::Period));
        assert_eq!(SendPlan::parse("2", ""), Err(DeviceTestError::Period));
        assert_eq!(
            DeviceTestError::Count.to_string(),
            "Messages: a number from 1 to 10000."
        );
    }

    #[test]
    fn message_properties_read_one_pair_a_line_and_skip_blank_lines() {
        assert_eq!(
            message_properties("$.ct = application/json\n\n  flag \n$.ce=utf-8"),
            vec![
                ("$.ct".to_owned(), "application/json".to_owned()),
                ("flag".to_owned(), String::new()),
                ("$.ce".to_owned(), "utf-8".to_owned()),
            ]
        );
        assert!(message_properties(" \n").is_empty());
    }

    #[test]
    fn reported_patch_takes_a_json_object_only() {
        assert_eq!(
            reported_patch(" {\"a\":1} "),
            Ok(serde_json::json!({"a": 1}))
        );
        for bad in ["{a", "[1]", "\"text\"", ""] {
            assert!(
                matches!(
                    reported_patch(bad),
                    Err(DeviceTestError::ReportedNotJson(_))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn device_events_read_as_log_lines_and_twin_panel_text() {
        use crate::mqtt::Refusal;
        let refused = DeviceEvent::Subscribed {
            filter: "$iothub/methods/POST/#".into(),
            refused: true,
        };
        assert_eq!(
            device_event_line(&refused),
            (
                LogSide::Err,
                "SUBACK $iothub/methods/POST/#: refused".into()
            )
        );
        assert_eq!(
            device_event_line(&DeviceEvent::Refused(Refusal::NotAuthorized)).1,
            "CONNACK 5: refused"
        );
        assert_eq!(
            device_event_line(&DeviceEvent::Lost { pkid: 3 }).0,
            LogSide::Err
        );
        let updated = DeviceEvent::ReportedUpdated {
            rid: "1".into(),
            version: Some(4),
        };
        assert_eq!(
            twin_panel_text(&updated).as_deref(),
            Some("Reported properties updated (version 4).")
        );
        let twin = DeviceEvent::Twin {
            rid: "2".into(),
            document: serde_json::json!({"reported": {"a": 1}}),
        };
        assert!(twin_panel_text(&twin).is_some_and(|t| t.contains("\"a\": 1")));
        let failed = DeviceEvent::TwinFailed {
            rid: "3".into(),
            request: None,
            status: 429,
            body: "throttled".into(),
        };
        assert_eq!(
            twin_panel_text(&failed).as_deref(),
            Some("The hub answered 429: throttled")
        );
        assert_eq!(twin_panel_text(&DeviceEvent::Pong { rtt_ms: 1 }), None);
    }

    #[test]
    fn a_direct_method_is_answered_with_what_it_carried() {
        let (status, body) = method_answer("reboot", br#"{"delay":5}"#);
        assert_eq!(status, 200);
        assert_eq!(body["method"], "reboot");
        assert_eq!(body["received"]["delay"], 5);
        assert_eq!(method_answer("ping", b"not json").1["received"], "not json");
    }

    #[test]
    fn a_cloud_to_device_message_shows_its_body_then_its_properties() {
        assert_eq!(cloud_to_device_text(b"reboot", &[]), "reboot");
        assert_eq!(
            cloud_to_device_text(
                b"reboot",
                &[("a".into(), "1".into()), ("b".into(), String::new())]
            ),
            "reboot  [a=1, b=]"
        );
    }

    #[test]
    fn registration_note_says_what_an_x509_connection_meets() {
        assert!(registration_note(&AuthKind::SelfSigned).contains("thumbprint"));
        assert!(registration_note(&AuthKind::CertificateAuthority).contains("CA-signed"));
        assert!(registration_note(&AuthKind::Sas).contains("will not be accepted"));
    }

    #[test]
    fn telemetry_counts_name_timeouts_only_when_there_are_any() {
        assert_eq!(telemetry_counts(2, 2, 0), "2 sent · 2 acknowledged");
        assert_eq!(
            telemetry_counts(3, 1, 2),
            "3 sent · 1 acknowledged · 2 timed out"
        );
    }

    #[test]
    fn device_outlook_is_accepted_for_sas_and_unknown_devices() {
        use WebSocketOutlook::*;
        assert_eq!(device_outlook(true, Some(3), None), Accepted);
        assert_eq!(device_outlook(false, None, None), Accepted);
        // Issued under an intermediate, not yet read from the hub: taken as CA-signed.
        assert_eq!(device_outlook(false, Some(3), None), NeedsPreviewMode);
        assert_eq!(device_outlook(false, Some(1), None), Accepted);
        assert_eq!(
            device_outlook(false, Some(3), Some(&AuthKind::SelfSigned)),
            Accepted
        );
    }

    #[test]
    fn device_files_fall_back_to_the_first_issued_then_the_sample() {
        let typed = device_files(" hub.azure-devices.net ", " dev-1 ", Some("other"), false);
        assert_eq!(typed.host, "hub.azure-devices.net");
        assert_eq!(typed.device_id, "dev-1");
        assert_eq!(typed.cert_file, "dev-1.pem");
        assert_eq!(typed.key_file, "dev-1.key");
        assert_eq!(typed.ca_file, None);
        let issued = device_files("", "", Some("other"), true);
        assert_eq!(issued.host, "NAME.azure-devices.net");
        assert_eq!(issued.device_id, "other");
        assert_eq!(issued.ca_file.as_deref(), Some(".localhub/tls/root-ca.pem"));
        assert_eq!(device_files("", "", None, false).device_id, SNIPPET_DEVICE);
    }
}

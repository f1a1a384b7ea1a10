//! What went wrong with a hub call, and what it most likely means for the user: every HTTP status
//! of either plane is mapped to advice here and nowhere else.

use std::fmt;

use serde_json::Value;

use crate::contract::{ArmErrorCode, IdError};

/// Which side of IoT Hub a call goes to; decides what a failure most likely means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plane {
    /// Azure Resource Manager: CA certificates.
    Arm,
    /// The hub's data plane: device identities.
    Registry,
    /// The Device Provisioning Service's service API: enrollments and registrations.
    Dps,
}

/// What went wrong with a hub call, with the likely cause and the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RestError {
    /// A setting is missing or malformed; nothing was sent.
    Setting {
        /// The setting's label.
        field: &'static str,
        /// What is wrong with it.
        problem: String,
    },
    /// The request never got an HTTP answer: the host is down, the name does not resolve, or the
    /// browser refused the answer because it carried no CORS headers.
    Unreachable {
        /// Which plane was called.
        plane: Plane,
        /// Whether the target is localhub (else Azure or a relay).
        localhub: bool,
        /// What the transport said.
        detail: String,
    },
    /// The hub answered with an error status.
    Status {
        /// Which plane was called.
        plane: Plane,
        /// HTTP status.
        status: u16,
        /// The IoT Hub error code (`IH412001`, `DeviceNotFound`, …), if the body had one.
        code: Option<String>,
        /// The hub's own message, if the body had one.
        message: Option<String>,
    },
    /// A success answer that does not look like IoT Hub's.
    BadAnswer(String),
    /// This page failed a step of its own (making the verification certificate).
    Local(String),
    /// A name (certificate name, device id) breaks the service's rules; nothing was sent.
    Name(IdError),
    /// The hub already has another certificate under this name.
    NameTaken {
        /// The name asked for.
        name: String,
    },
}

impl RestError {
    /// Reads an error answer: the IoT Hub code and message from either plane's body shape
    /// (`{"code","message"}`, `{"error":{"code","message"}}`, `{"Message":"ErrorCode:X;..."}`).
    pub fn from_status(plane: Plane, status: u16, body: &str) -> Self {
        let value: Value = serde_json::from_str(body).unwrap_or(Value::Null);
        let obj = value.get("error").unwrap_or(&value);
        let mut code = obj.get("code").and_then(Value::as_str).map(str::to_owned);
        let mut message = obj
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_owned);
        // DPS writes a number: {"errorCode":404202,"message":"..."}.
        if code.is_none() {
            code = obj.get("errorCode").and_then(|c| match c {
                Value::Number(n) => Some(n.to_string()),
                Value::String(s) => Some(s.clone()),
                _ => None,
            });
        }
        if let Some(m) = obj.get("Message").and_then(Value::as_str) {
            match m.strip_prefix("ErrorCode:").and_then(|r| r.split_once(';')) {
                Some((c, rest)) => {
                    code = code.or_else(|| Some(c.to_owned()));
                    message = message.or_else(|| Some(rest.to_owned()));
                }
                None => message = message.or_else(|| Some(m.to_owned())),
            }
        }
        // ARM sometimes puts the IoT Hub code (IH######) inside the message only.
        if let Some(ih) = find_ih_code(body) {
            if code.as_deref().is_none_or(|c| !is_ih_code(c)) {
                code = Some(ih);
            }
        }
        if message.is_none() && !body.trim().is_empty() && value.is_null() {
            message = Some(body.chars().take(300).collect());
        }
        Self::Status {
            plane,
            status,
            code,
            message,
        }
    }

    /// Whether this is a stale-etag refusal (HTTP 412), which is worth one re-read and retry.
    pub fn is_stale_etag(&self) -> bool {
        matches!(self, Self::Status { status: 412, .. })
    }

    /// The HTTP status, if the hub answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The likely cause and the fix, in a sentence or two.
    pub fn advice(&self) -> String {
        match self {
            Self::Setting { field, problem } => format!("{field}: {problem}"),
            Self::Name(e) => e.to_string(),
            Self::NameTaken { name } => format!("The hub already has another certificate named '{name}'. Choose another name, or delete that one in the list below."),
            Self::Local(what) => format!("This page could not finish the step: {what}"),
            Self::BadAnswer(what) => format!(
                "The answer did not look like IoT Hub's ({what}). Check that the endpoint points at ARM or at the hub."
            ),
            Self::Unreachable { plane, localhub: true, .. } => format!(
                "localhub did not answer. Start it with ./scripts/run.sh (or `cargo run --release -p localhub`) and check the {} endpoint in the settings.",
                match plane { Plane::Arm => "ARM", Plane::Registry => "registry", Plane::Dps => "DPS" }
            ),
            Self::Unreachable { plane: Plane::Arm, .. } => "No answer from Azure Resource Manager: check your network connection and the ARM endpoint, then try again.".to_owned(),
            Self::Unreachable { plane: Plane::Registry, .. } => "The hub's device API gave the page no answer. IoT Hub's data plane sends no CORS headers, so a browser page cannot call it directly: start the relay on your machine (`localhub relay --hub HUB.azure-devices.net`) and set the registry endpoint to it, or run the az command shown beside this step.".to_owned(),
            Self::Unreachable { plane: Plane::Dps, .. } => "The provisioning service gave the page no answer. DPS's service API sends no CORS headers, so a browser page cannot call it directly: start the relay on your machine (`localhub relay --dps NAME`) and set the DPS endpoint to it, or run the az command shown beside this step.".to_owned(),
            Self::Status { plane: Plane::Dps, status, code, .. } => {
                match (*status, code.as_deref().unwrap_or("")) {
                    (400, _) => "DPS refused the enrollment: check the enrollment id (letters, digits, - . _ :) and that the certificate is a CA certificate's PEM.".to_owned(),
                    (401, _) => "DPS refused the service credentials: use the DPS's own connection string (Shared access policies, provisioningserviceowner), not the hub's; a SAS token also fails when this computer's clock is off.".to_owned(),
                    (403, _) => "The policy in the connection string may not write enrollments: use provisioningserviceowner (enrollment write).".to_owned(),
                    (404, _) => "No such enrollment on this DPS: check the enrollment id, or create it first.".to_owned(),
                    (409, _) => "DPS already has an enrollment with this id: update it (it is read first, then written with its etag) or delete it.".to_owned(),
                    (412, _) => "The enrollment's etag was stale: it changed since it was read. Read it again and retry.".to_owned(),
                    (429, _) => "DPS is throttling requests (429): wait a few seconds and try again.".to_owned(),
                    (s, _) if s >= 500 => format!("DPS failed ({s}). This is on Azure's side: try again in a minute."),
                    (s, _) => format!("DPS answered HTTP {s}."),
                }
            }
            Self::Status { plane, status, code, .. } => {
                let code = code.as_deref().and_then(ArmErrorCode::parse);
                match (plane, *status, code) {
                    (_, 400, Some(ArmErrorCode::VerificationSignedByAnother)) => "The verification certificate was signed by another CA than the uploaded one (IH400053). Make it with the same CA's key, or upload that CA.".to_owned(),
                    (_, 400, Some(ArmErrorCode::VerificationCodeMismatch)) => "The verification certificate's CN is not the current verification code (IH400054). Generating a code replaces the previous one: generate it again and make a new verification certificate.".to_owned(),
                    (_, 400, Some(ArmErrorCode::NoVerificationCode)) => "The hub has no verification code for this certificate yet: generate one first.".to_owned(),
                    (Plane::Arm, 400, _) => "The hub refused the request: check the certificate (PEM of a CA certificate) and the certificate name (letters, digits, - . _; at most 64).".to_owned(),
                    (Plane::Registry, 400, _) => "The hub refused the device description: check the device id and, for self-signed devices, the thumbprints (40 or 64 hex digits, no colons).".to_owned(),
                    (Plane::Arm, 401, _) => "The ARM access token was refused or has expired (tokens last about an hour). Get a new one with `az account get-access-token --resource https://management.azure.com --query accessToken -o tsv` and paste it in the settings.".to_owned(),
                    (Plane::Registry, 401, _) => "The hub refused the service credentials: check the connection string (a policy with registry write, such as iothubowner) or get a new Entra token; a SAS token also fails when this computer's clock is off.".to_owned(),
                    (Plane::Arm, 403, _) => "Your account may not change this hub: it needs a role such as Contributor or IoT Hub Data Contributor on the hub or its resource group.".to_owned(),
                    (Plane::Registry, 403, _) => "The policy in the connection string may not write the registry: use iothubowner or registryReadWrite.".to_owned(),
                    (Plane::Arm, 404, _) => "Not found: check the subscription id, resource group and hub name, and that the certificate name exists on this hub.".to_owned(),
                    (Plane::Registry, 404, _) => "No such device on this hub: check the device id, or register it first.".to_owned(),
                    (Plane::Arm, 409, _) => "A certificate with this name already exists on the hub: choose another name, or delete the old one first.".to_owned(),
                    (Plane::Registry, 409, _) => "A device with this id is already registered: delete it first, or use it as it is.".to_owned(),
                    (_, 412, _) => "The etag was stale: something changed the resource since it was read (generating a verification code changes it). Read it again and retry.".to_owned(),
                    (_, 429, _) => "The hub is throttling requests (429): wait a few seconds and try again, or send fewer at once.".to_owned(),
                    (_, s, _) if s >= 500 => format!("The service failed ({s}). This is on Azure's side: try again in a minute."),
                    (_, s, _) => format!("The hub answered HTTP {s}."),
                }
            }
        }
    }
}

impl fmt::Display for RestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Status {
                plane,
                status,
                code,
                message,
            } => {
                write!(f, "HTTP {status}")?;
                if let Some(code) = code {
                    write!(f, " {code}")?;
                }
                write!(f, ": {}", self.advice())?;
                if let Some(message) = message {
                    let who = if *plane == Plane::Dps {
                        "DPS"
                    } else {
                        "The hub"
                    };
                    write!(f, " ({who} said: {message})")?;
                }
                Ok(())
            }
            Self::Unreachable { detail, .. } if !detail.is_empty() => {
                write!(f, "{} ({detail})", self.advice())
            }
            _ => f.write_str(&self.advice()),
        }
    }
}

impl std::error::Error for RestError {}

fn is_ih_code(s: &str) -> bool {
    s.len() == 8 && s.starts_with("IH") && s[2..].bytes().all(|b| b.is_ascii_digit())
}

fn find_ih_code(body: &str) -> Option<String> {
    body.match_indices("IH")
        .filter_map(|(i, _)| body.get(i..i + 8))
        .find(|c| is_ih_code(c))
        .map(str::to_owned)
}

pub(super) fn setting(field: &'static str, problem: impl Into<String>) -> RestError {
    RestError::Setting {
        field,
        problem: problem.into(),
    }
}

/// Whether `authority` (`host[:port]`) is this machine: only there may a token travel unencrypted.
fn is_loopback(authority: &str) -> bool {
    let host = match authority.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => authority.split(':').next().unwrap_or(""),
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// An endpoint URL: https, or http to a loopback address (localhub, the relay), so that a typo
/// never sends a token in clear over a network.
pub(super) fn endpoint(field: &'static str, value: &str) -> Result<String, RestError> {
    let v = value.trim().trim_end_matches('/');
    let authority = |rest: &str| rest.split('/').next().unwrap_or("").to_owned();
    match (v.strip_prefix("https://"), v.strip_prefix("http://")) {
        (Some(rest), _) if !authority(rest).is_empty() => Ok(v.to_owned()),
        (_, Some(rest)) if is_loopback(&authority(rest)) => Ok(v.to_owned()),
        (_, Some(rest)) if !authority(rest).is_empty() => Err(setting(
            field,
            format!(
                "must use https:// for {}: plain http:// is only for localhub and the relay on this machine (127.0.0.1, localhost), since the token would travel unencrypted",
                authority(rest)
            ),
        )),
        _ => Err(setting(
            field,
            "must be a URL starting with https:// (or http:// for localhub and the relay on this machine)",
        )),
    }
}

pub(super) fn path_part(field: &'static str, value: &str) -> Result<String, RestError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(setting(field, "is empty"));
    }
    if let Some(c) = v
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "-_.()".contains(*c)))
    {
        return Err(setting(
            field,
            format!("contains '{c}', which Azure names never have"),
        ));
    }
    Ok(v.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_has_its_own_advice() {
        let arm = |s: u16, body: &str| RestError::from_status(Plane::Arm, s, body);
        let reg = |s: u16, body: &str| RestError::from_status(Plane::Registry, s, body);
        // Each body shape the two planes use.
        let e = arm(
            412,
            r#"{"code":"IH412001","httpStatusCode":"PreconditionFailed","message":"Precondition failed"}"#,
        );
        assert!(e.is_stale_etag());
        assert!(matches!(&e, RestError::Status { code: Some(c), .. } if c == "IH412001"));
        let e = arm(
            400,
            r#"{"error":{"code":"BadRequest","message":"ErrorCode:IH400053 issuer not found"}}"#,
        );
        assert!(matches!(&e, RestError::Status { code: Some(c), .. } if c == "IH400053"));
        assert!(e.to_string().contains("signed by another CA"));
        let e = reg(
            404,
            r#"{"Message":"ErrorCode:DeviceNotFound;Device d1 not found","ExceptionMessage":""}"#,
        );
        assert!(
            matches!(&e, RestError::Status { code: Some(c), message: Some(m), .. } if c == "DeviceNotFound" && m.contains("d1"))
        );
        let e = reg(502, "<html>bad gateway</html>");
        assert!(e.to_string().contains("bad gateway"));

        let cases = [
            arm(400, r#"{"code":"IH400054"}"#),
            arm(400, r#"{"code":"IH400052"}"#),
            arm(400, "{}"),
            reg(400, "{}"),
            arm(401, ""),
            reg(401, ""),
            arm(403, ""),
            reg(403, ""),
            arm(404, ""),
            reg(404, ""),
            arm(409, ""),
            reg(409, ""),
            arm(412, ""),
            arm(429, ""),
            arm(503, ""),
            RestError::Unreachable {
                plane: Plane::Arm,
                localhub: true,
                detail: String::new(),
            },
            RestError::Unreachable {
                plane: Plane::Arm,
                localhub: false,
                detail: String::new(),
            },
            RestError::Unreachable {
                plane: Plane::Registry,
                localhub: false,
                detail: String::new(),
            },
        ];
        let advice: Vec<String> = cases.iter().map(RestError::advice).collect();
        let mut unique = advice.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), advice.len(), "{advice:#?}");
        assert!(advice[4].contains("az account get-access-token"));
        assert!(advice[17].contains("relay"));
        assert!(advice[13].contains("429"));
    }

    #[test]
    fn tokens_travel_in_clear_only_to_this_machine() {
        for ok in [
            "https://management.azure.com",
            "https://relay.example/",
            "http://127.0.0.1:8081",
            "http://localhost:8090/",
            "http://[::1]:8081",
            "http://127.0.0.2:18081",
        ] {
            assert!(endpoint("Endpoint", ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://management.azure.com",
            "http://192.168.1.10:8081",
            "http://localhost.evil.example",
            "ftp://x",
            "https://",
            "",
        ] {
            assert!(endpoint("Endpoint", bad).is_err(), "{bad}");
        }
        let e = endpoint("ARM endpoint", "http://management.azure.com")
            .unwrap_err()
            .to_string();
        assert!(e.contains("https://") && e.contains("unencrypted"), "{e}");
    }
}

//! The hub steps as whole operations over any HTTP transport: what the app runs through `fetch`
//! and the tests run natively against localhub. Retries, etag bookkeeping and error mapping live
//! here, so the browser shell only moves bytes.

use std::future::Future;

use super::{Arm, DeviceAuth, HubCertificate, HubDevice, Plane, Registry, Request, RestError};
use crate::contract::{DeviceId, VerificationCode};

/// An HTTP answer: status and body text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Body text (empty for 204).
    pub body: String,
}

/// Sends one request. `Err` means no HTTP answer at all (network down, name unknown, or a browser
/// refusing an answer without CORS headers), with what the transport said.
pub trait Transport {
    /// Sends `request` as described: method, URL, headers, body.
    fn send(&self, request: &Request) -> impl Future<Output = Result<Answer, String>>;
}

/// Where the proof of possession is; shown while it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PossessionStage {
    /// Reading the certificate's current etag.
    Reading,
    /// Asking the hub for a verification code.
    RequestingCode,
    /// Making the verification certificate with the CA key, on this page.
    Signing,
    /// Sending the verification certificate.
    Verifying,
    /// The etag went stale; reading it again before one retry.
    Retrying,
}

impl PossessionStage {
    /// A short label for a progress line.
    pub fn label(self) -> &'static str {
        match self {
            Self::Reading => "Reading the certificate from the hub…",
            Self::RequestingCode => "Asking the hub for a verification code…",
            Self::Signing => "Signing the verification certificate with the CA key…",
            Self::Verifying => "Sending the verification certificate…",
            Self::Retrying => "The etag changed meanwhile: reading it again and retrying once…",
        }
    }
}

/// What a proof of possession produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Possession {
    /// The certificate as the hub now describes it (verified).
    pub certificate: HubCertificate,
    /// The code the hub gave.
    pub code: String,
    /// The verification certificate sent, PEM.
    pub verification_pem: String,
    /// Whether a stale etag was re-read and the call retried.
    pub retried: bool,
}

/// What putting a CA on the hub did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaOnHub {
    /// The certificate as the hub now describes it.
    pub certificate: HubCertificate,
    /// The name was taken by this very CA (same thumbprint), which was used as it is.
    pub adopted: bool,
    /// The proof of possession, when one was needed.
    pub possession: Option<Possession>,
}

/// Runs hub operations over a transport.
#[derive(Debug, Clone)]
pub struct HubClient<T> {
    transport: T,
    localhub: bool,
}

impl<T: Transport> HubClient<T> {
    /// `localhub`: whether the target is localhub (changes what "no answer" advises).
    pub fn new(transport: T, localhub: bool) -> Self {
        Self {
            transport,
            localhub,
        }
    }

    /// Sends a request; a 2xx answer's body, or the error the user is shown.
    pub async fn call(&self, plane: Plane, request: &Request) -> Result<String, RestError> {
        match self.transport.send(request).await {
            Ok(a) if (200..300).contains(&a.status) => Ok(a.body),
            Ok(a) => Err(RestError::from_status(plane, a.status, &a.body)),
            Err(detail) => Err(RestError::Unreachable {
                plane,
                localhub: self.localhub,
                detail,
            }),
        }
    }

    async fn certificate_call(&self, request: &Request) -> Result<HubCertificate, RestError> {
        HubCertificate::parse(&self.call(Plane::Arm, request).await?)
    }

    /// Uploads a CA certificate; `verified` asks for automatic verification.
    pub async fn upload_certificate(
        &self,
        arm: &Arm,
        name: &str,
        pem: &str,
        verified: bool,
    ) -> Result<HubCertificate, RestError> {
        self.certificate_call(&arm.create(name, pem, verified))
            .await
    }

    /// Reads one certificate.
    pub async fn certificate(&self, arm: &Arm, name: &str) -> Result<HubCertificate, RestError> {
        self.certificate_call(&arm.get(name)).await
    }

    /// Lists the hub's CA certificates.
    pub async fn certificates(&self, arm: &Arm) -> Result<Vec<HubCertificate>, RestError> {
        HubCertificate::parse_list(&self.call(Plane::Arm, &arm.list()).await?)
    }

    /// Deletes a certificate with its current etag, re-reading it once if it went stale.
    pub async fn delete_certificate(&self, arm: &Arm, name: &str) -> Result<bool, RestError> {
        let mut retried = false;
        loop {
            let etag = self.certificate(arm, name).await?.etag;
            match self.call(Plane::Arm, &arm.delete(name, &etag)).await {
                Ok(_) => return Ok(retried),
                Err(e) if e.is_stale_etag() && !retried => retried = true,
                Err(e) => return Err(e),
            }
        }
    }

    /// Proof of possession in one flow: read the etag, get a verification code, let `sign` make the
    /// verification certificate (CN = code) with the CA's key, and verify. A stale etag at either
    /// POST is re-read once and that call retried. `progress` hears each stage.
    pub async fn prove_possession<S, E>(
        &self,
        arm: &Arm,
        name: &str,
        sign: S,
        progress: impl Fn(PossessionStage),
    ) -> Result<Possession, RestError>
    where
        S: FnOnce(&VerificationCode) -> Result<String, E>,
        E: std::fmt::Display,
    {
        let mut retried = false;
        progress(PossessionStage::Reading);
        let mut current = self.certificate(arm, name).await?;

        progress(PossessionStage::RequestingCode);
        let with_code = loop {
            match self
                .certificate_call(&arm.generate_verification_code(name, &current.etag))
                .await
            {
                Ok(c) => break c,
                Err(e) if e.is_stale_etag() && !retried => {
                    retried = true;
                    progress(PossessionStage::Retrying);
                    current = self.certificate(arm, name).await?;
                }
                Err(e) => return Err(e),
            }
        };
        let code_text = with_code
            .verification_code
            .clone()
            .ok_or_else(|| RestError::BadAnswer("the hub gave no verification code".into()))?;
        let code = VerificationCode::parse(&code_text).map_err(|e| {
            RestError::BadAnswer(format!("the hub's verification code is unusable: {e}"))
        })?;

        progress(PossessionStage::Signing);
        let verification_pem = sign(&code).map_err(|e| RestError::Local(e.to_string()))?;

        progress(PossessionStage::Verifying);
        let mut etag = with_code.etag;
        let mut verify_retried = false;
        let certificate = loop {
            match self
                .certificate_call(&arm.verify(name, &etag, &verification_pem))
                .await
            {
                Ok(c) => break c,
                Err(e) if e.is_stale_etag() && !verify_retried => {
                    verify_retried = true;
                    retried = true;
                    progress(PossessionStage::Retrying);
                    etag = self.certificate(arm, name).await?.etag;
                }
                Err(e) => return Err(e),
            }
        };
        if !certificate.is_verified {
            return Err(RestError::BadAnswer(
                "the hub accepted the verification certificate but does not show the CA as verified"
                    .into(),
            ));
        }
        Ok(Possession {
            certificate,
            code: code_text,
            verification_pem,
            retried,
        })
    }

    /// Puts a CA on the hub, verified: upload it (asking for automatic verification when
    /// `automatic`), or, when the name is taken (409, or 412 on hubs that answer a PUT without
    /// `If-Match` so), use what is there if it is this very CA (same SHA-1 thumbprint); then, unless
    /// the hub already shows it verified, prove possession with `sign`.
    #[allow(clippy::too_many_arguments)]
    pub async fn upload_and_verify<S, E>(
        &self,
        arm: &Arm,
        name: &str,
        pem: &str,
        sha1_thumbprint: &str,
        automatic: bool,
        sign: S,
        progress: impl Fn(PossessionStage),
    ) -> Result<CaOnHub, RestError>
    where
        S: FnOnce(&VerificationCode) -> Result<String, E>,
        E: std::fmt::Display,
    {
        let (certificate, adopted) = match self.upload_certificate(arm, name, pem, automatic).await
        {
            Ok(c) => (c, false),
            Err(e) if matches!(e.status(), Some(409 | 412)) => {
                match self.certificate(arm, name).await {
                    Ok(c) if c.thumbprint.eq_ignore_ascii_case(sha1_thumbprint) => (c, true),
                    Ok(_) => {
                        return Err(RestError::NameTaken {
                            name: name.to_owned(),
                        })
                    }
                    Err(_) => return Err(e),
                }
            }
            Err(e) => return Err(e),
        };
        if certificate.is_verified {
            return Ok(CaOnHub {
                certificate,
                adopted,
                possession: None,
            });
        }
        let possession = self.prove_possession(arm, name, sign, progress).await?;
        Ok(CaOnHub {
            certificate: possession.certificate.clone(),
            adopted,
            possession: Some(possession),
        })
    }

    /// Registers a device.
    pub async fn register_device(
        &self,
        registry: &Registry,
        id: &DeviceId,
        auth: &DeviceAuth,
        now_unix: u64,
    ) -> Result<HubDevice, RestError> {
        let request = registry.create(id, auth, now_unix)?;
        HubDevice::parse(&self.call(Plane::Registry, &request).await?)
    }

    /// Reads a device.
    pub async fn device(
        &self,
        registry: &Registry,
        id: &DeviceId,
        now_unix: u64,
    ) -> Result<HubDevice, RestError> {
        let request = registry.get(id, now_unix)?;
        HubDevice::parse(&self.call(Plane::Registry, &request).await?)
    }

    /// Deletes a device, whatever its version.
    pub async fn delete_device(
        &self,
        registry: &Registry,
        id: &DeviceId,
        now_unix: u64,
    ) -> Result<(), RestError> {
        let request = registry.delete(id, None, now_unix)?;
        self.call(Plane::Registry, &request).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iothub::Method;
    use std::cell::RefCell;
    use std::collections::VecDeque;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};

    /// Answers from a script and records what was sent.
    struct Script {
        answers: RefCell<VecDeque<Result<Answer, String>>>,
        sent: RefCell<Vec<Request>>,
    }

    impl Script {
        fn new(answers: Vec<Result<(u16, &str), &str>>) -> Self {
            Self {
                answers: RefCell::new(
                    answers
                        .into_iter()
                        .map(|a| {
                            a.map(|(status, body)| Answer {
                                status,
                                body: body.to_owned(),
                            })
                            .map_err(str::to_owned)
                        })
                        .collect(),
                ),
                sent: RefCell::new(Vec::new()),
            }
        }
    }

    impl Transport for &Script {
        async fn send(&self, request: &Request) -> Result<Answer, String> {
            self.sent.borrow_mut().push(request.clone());
            self.answers
                .borrow_mut()
                .pop_front()
                .expect("the script has an answer for every request")
        }
    }

    /// The script answers at once, so one poll finishes the future.
    fn run<F: Future>(f: F) -> F::Output {
        let mut f = pin!(f);
        match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(v) => v,
            Poll::Pending => panic!("a scripted call never waits"),
        }
    }

    fn cert(etag: &str, code: Option<&str>, verified: bool) -> String {
        let mut props = serde_json::json!({"subject": "CN=Root", "expiry": "x", "thumbprint": "AB", "isVerified": verified});
        if let Some(c) = code {
            props["verificationCode"] = c.into();
        }
        serde_json::json!({"name": "root", "etag": etag, "properties": props}).to_string()
    }

    fn arm() -> Arm {
        Arm::new("http://127.0.0.1:1", "sub", "rg", "hub", "tok").unwrap()
    }

    /// Proof of possession over `script`, signing with a stand-in PEM.
    fn possess(script: &Script) -> Result<Possession, RestError> {
        run(HubClient::new(script, true).prove_possession(
            &arm(),
            "root",
            |_: &VerificationCode| Ok::<_, String>("PEM".into()),
            |_| {},
        ))
    }

    const STALE: &str = r#"{"code":"IH412001","message":"Invalid ETag"}"#;

    #[test]
    fn possession_reads_asks_signs_verifies_with_each_fresh_etag() {
        let (e1, e2, e3) = (
            cert("e1", None, false),
            cert("e2", Some("C0DE"), false),
            cert("e3", None, true),
        );
        let script = Script::new(vec![Ok((200, &e1)), Ok((200, &e2)), Ok((200, &e3))]);
        let stages = RefCell::new(Vec::new());
        let signed = RefCell::new(String::new());
        let out = run(HubClient::new(&script, true).prove_possession(
            &arm(),
            "root",
            |code: &VerificationCode| -> Result<String, String> {
                *signed.borrow_mut() = code.to_string();
                Ok("PEM".into())
            },
            |s| stages.borrow_mut().push(s),
        ))
        .unwrap();
        assert!(out.certificate.is_verified && !out.retried);
        assert_eq!(
            (out.code.as_str(), signed.borrow().as_str()),
            ("C0DE", "C0DE")
        );
        let sent = script.sent.borrow();
        let calls: Vec<_> = sent
            .iter()
            .map(|r| {
                (
                    r.method,
                    r.url
                        .split('?')
                        .next()
                        .unwrap()
                        .rsplit('/')
                        .next()
                        .unwrap()
                        .to_owned(),
                    r.header("If-Match").map(str::to_owned),
                )
            })
            .collect();
        assert_eq!(
            calls,
            vec![
                (Method::Get, "root".into(), None),
                (
                    Method::Post,
                    "generateVerificationCode".into(),
                    Some("e1".into())
                ),
                (Method::Post, "verify".into(), Some("e2".into())),
            ]
        );
        assert_eq!(sent[2].body.as_deref(), Some(r#"{"certificate":"PEM"}"#));
        use PossessionStage::*;
        assert_eq!(
            *stages.borrow(),
            vec![Reading, RequestingCode, Signing, Verifying]
        );
    }

    #[test]
    fn a_stale_etag_at_verify_is_read_again_and_retried_once() {
        let (e1, e2, e9, ok) = (
            cert("e1", None, false),
            cert("e2", Some("C0DE"), false),
            cert("e9", Some("C0DE"), false),
            cert("e10", None, true),
        );
        let script = Script::new(vec![
            Ok((200, &e1)),
            Ok((200, &e2)),
            Ok((412, STALE)),
            Ok((200, &e9)),
            Ok((200, &ok)),
        ]);
        let out = possess(&script).unwrap();
        assert!(out.retried);
        let sent = script.sent.borrow();
        assert_eq!(sent[4].header("If-Match"), Some("e9"));
    }

    #[test]
    fn a_second_stale_etag_is_shown_not_retried_forever() {
        let (e1, e2, e9) = (
            cert("e1", None, false),
            cert("e2", Some("C0DE"), false),
            cert("e9", None, false),
        );
        let script = Script::new(vec![
            Ok((200, &e1)),
            Ok((200, &e2)),
            Ok((412, STALE)),
            Ok((200, &e9)),
            Ok((412, STALE)),
        ]);
        let err = possess(&script).unwrap_err();
        assert_eq!(err.status(), Some(412));
        assert!(err.to_string().contains("etag was stale"), "{err}");
        assert_eq!(script.sent.borrow().len(), 5);
    }

    #[test]
    fn signing_failure_and_missing_code_and_no_answer_each_say_so() {
        let (e1, e2) = (cert("e1", None, false), cert("e2", Some("C0DE"), false));
        let script = Script::new(vec![Ok((200, &e1)), Ok((200, &e2))]);
        let err = run(HubClient::new(&script, true).prove_possession(
            &arm(),
            "root",
            |_: &VerificationCode| Err("the CA has expired"),
            |_| {},
        ))
        .unwrap_err();
        assert!(err.to_string().contains("the CA has expired"), "{err}");

        let script = Script::new(vec![Ok((200, &e1)), Ok((200, &e1))]);
        let err = possess(&script).unwrap_err();
        assert!(err.to_string().contains("no verification code"), "{err}");

        let script = Script::new(vec![Err("Failed to fetch")]);
        let err = run(HubClient::new(&script, false).certificates(&arm())).unwrap_err();
        assert!(matches!(
            err,
            RestError::Unreachable {
                plane: Plane::Arm,
                localhub: false,
                ..
            }
        ));
        assert!(err.to_string().contains("Failed to fetch"), "{err}");
    }

    #[test]
    fn delete_reads_the_etag_and_retries_a_stale_one_once() {
        let (e1, e2) = (cert("e1", None, true), cert("e2", None, true));
        let script = Script::new(vec![
            Ok((200, &e1)),
            Ok((412, STALE)),
            Ok((200, &e2)),
            Ok((204, "")),
        ]);
        assert!(run(HubClient::new(&script, true).delete_certificate(&arm(), "root")).unwrap());
        let sent = script.sent.borrow();
        assert_eq!(sent[3].method, Method::Delete);
        assert_eq!(sent[3].header("If-Match"), Some("e2"));
    }

    /// `upload_and_verify` over `script`, for a CA whose SHA-1 thumbprint is `AB`.
    fn put_ca(script: &Script) -> Result<CaOnHub, RestError> {
        run(HubClient::new(script, true).upload_and_verify(
            &arm(),
            "root",
            "PEM",
            "ab",
            false,
            |_: &VerificationCode| Ok::<_, String>("VERIFICATION".into()),
            |_| {},
        ))
    }

    #[test]
    fn a_new_ca_is_uploaded_then_proven() {
        let script = Script::new(vec![
            Ok((201, &cert("e0", None, false))),
            Ok((200, &cert("e1", None, false))),
            Ok((200, &cert("e2", Some("C0DE"), false))),
            Ok((200, &cert("e3", None, true))),
        ]);
        let done = put_ca(&script).expect("verified");
        assert!(!done.adopted && done.certificate.is_verified);
        assert_eq!(done.possession.map(|p| p.code), Some("C0DE".to_owned()));
        let sent = script.sent.borrow();
        assert_eq!(sent[0].method, Method::Put);
        assert!(sent[3].url.contains("/verify?"), "{}", sent[3].url);
    }

    #[test]
    fn a_taken_name_holding_this_ca_is_adopted_and_another_ca_is_refused() {
        let conflict = r#"{"code":"Conflict","message":"exists"}"#;
        // Same thumbprint and already verified: nothing more to do.
        let script = Script::new(vec![
            Ok((409, conflict)),
            Ok((200, &cert("e1", None, true))),
        ]);
        let done = put_ca(&script).expect("adopted");
        assert!(done.adopted && done.possession.is_none());
        assert_eq!(script.sent.borrow().len(), 2);
        // Same thumbprint, unverified: adopted, then proven.
        let script = Script::new(vec![
            Ok((412, STALE)),
            Ok((200, &cert("e1", None, false))),
            Ok((200, &cert("e1", None, false))),
            Ok((200, &cert("e2", Some("C0DE"), false))),
            Ok((200, &cert("e3", None, true))),
        ]);
        let done = put_ca(&script).expect("adopted and proven");
        assert!(done.adopted && done.possession.is_some());
        // Another CA under that name.
        let other = cert("e1", None, true).replace("\"AB\"", "\"CD\"");
        let script = Script::new(vec![Ok((409, conflict)), Ok((200, &other))]);
        assert_eq!(
            put_ca(&script),
            Err(RestError::NameTaken {
                name: "root".into()
            })
        );
        // Any other failure is the upload's.
        let script = Script::new(vec![Ok((401, "{}"))]);
        assert_eq!(put_ca(&script).map_err(|e| e.status()), Err(Some(401)));
    }
}

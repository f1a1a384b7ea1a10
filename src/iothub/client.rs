//! The hub steps as whole operations over any HTTP transport: what the app runs through `fetch`
//! and the tests run natively against localhub. Retries, etag bookkeeping and error mapping live
//! here, so the browser shell only moves bytes.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::backoff::{is_retryable_status, retry_delay, Jitter, RetryPolicy};
use super::dps::{self, DpsService};
use super::{Arm, DeviceAuth, HubCertificate, HubDevice, Plane, Registry, Request, RestError};
use crate::contract::{
    DeviceId, DeviceStatus, EnrollmentGroup, IndividualEnrollment, RegistrationState,
    VerificationCode,
};

/// An HTTP answer: status and body text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Body text (empty for 204).
    pub body: String,
    /// The wait a `Retry-After` header asks for (read with `iothub::parse_retry_after`), if the
    /// answer had one.
    pub retry_after: Option<Duration>,
}

impl Answer {
    /// An answer with this status and body, and nothing else.
    pub fn new(status: u16, body: impl Into<String>) -> Self {
        Self {
            status,
            body: body.into(),
            retry_after: None,
        }
    }
}

/// Sends one request. `Err` means no HTTP answer at all (network down, name unknown, or a browser
/// refusing an answer without CORS headers), with what the transport said.
pub trait Transport {
    /// Sends `request` as described: method, URL, headers, body.
    fn send(&self, request: &Request) -> impl Future<Output = Result<Answer, String>>;

    /// As [`Transport::send`], with the answer's headers named in `keep` (lower case), for calls
    /// that answer in headers as well (a query's continuation). A transport that cannot read
    /// headers keeps none, as this default does: a query then stops after its first page.
    fn send_keeping(
        &self,
        request: &Request,
        keep: &'static [&'static str],
    ) -> impl Future<Output = Result<(Answer, Vec<(String, String)>), String>> {
        let _ = keep;
        async move { self.send(request).await.map(|a| (a, Vec::new())) }
    }

    /// Waits `duration` before a throttled call is sent again. The default does not wait (a
    /// scripted transport); a transport on a real network must wait (a timer in the browser,
    /// tokio's sleep natively), or a throttled hub is sent the call again at once.
    fn sleep(&self, duration: Duration) -> impl Future<Output = ()> {
        let _ = duration;
        std::future::ready(())
    }
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
            Self::Reading => "Reading the certificate's current etag…",
            Self::RequestingCode => "Asking for a verification code…",
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
#[derive(Debug)]
pub struct HubClient<T> {
    transport: T,
    localhub: bool,
    retry: RetryPolicy,
    jitter: Jitter,
    /// Nanoseconds waited in backoff so far.
    slept_ns: AtomicU64,
}

impl<T: Clone> Clone for HubClient<T> {
    fn clone(&self) -> Self {
        Self {
            transport: self.transport.clone(),
            localhub: self.localhub,
            retry: self.retry,
            jitter: self.jitter.clone(),
            slept_ns: AtomicU64::new(self.slept_ns.load(Ordering::Relaxed)),
        }
    }
}

impl<T: Transport> HubClient<T> {
    /// `localhub`: whether the target is localhub (changes what "no answer" advises). Throttled
    /// calls are retried with [`RetryPolicy::default`] and a jitter seeded from the system.
    pub fn new(transport: T, localhub: bool) -> Self {
        Self {
            transport,
            localhub,
            retry: RetryPolicy::default(),
            jitter: Jitter::from_entropy(),
            slept_ns: AtomicU64::new(0),
        }
    }

    /// The same client with another retry policy and a jitter fixed by `seed` (tests, and tools
    /// whose clock runs faster).
    pub fn with_retry(mut self, policy: RetryPolicy, seed: u64) -> Self {
        self.retry = policy;
        self.jitter = Jitter::seeded(seed);
        self
    }

    /// The transport it sends through.
    pub(super) fn transport(&self) -> &T {
        &self.transport
    }

    /// How long this client has waited in backoff so far.
    pub fn slept(&self) -> Duration {
        Duration::from_nanos(self.slept_ns.load(Ordering::Relaxed))
    }

    /// Sends a request; a 2xx answer's body, or the error the user is shown.
    pub async fn call(&self, plane: Plane, request: &Request) -> Result<String, RestError> {
        match self.send(plane, request).await? {
            a if (200..300).contains(&a.status) => Ok(a.body),
            a => Err(RestError::from_status(plane, a.status, &a.body)),
        }
    }

    /// Sends a request; any HTTP answer, for calls whose error statuses carry results (the bulk
    /// registry operation's 400). A throttled answer (429, or 503) is waited out and the request
    /// sent again, as the policy allows (`backoff`); the last answer is returned when it gives up.
    pub(super) async fn send(&self, plane: Plane, request: &Request) -> Result<Answer, RestError> {
        self.send_keeping(plane, request, &[])
            .await
            .map(|(answer, _)| answer)
    }

    /// As [`HubClient::send`], with the answer's headers named in `keep` (a query's paging), a
    /// throttled page waited out like any other call.
    pub(super) async fn send_keeping(
        &self,
        plane: Plane,
        request: &Request,
        keep: &'static [&'static str],
    ) -> Result<(Answer, Vec<(String, String)>), RestError> {
        let mut retry = 0;
        loop {
            let (answer, headers) =
                self.transport
                    .send_keeping(request, keep)
                    .await
                    .map_err(|detail| RestError::Unreachable {
                        plane,
                        localhub: self.localhub,
                        detail,
                    })?;
            if !is_retryable_status(answer.status) {
                return Ok((answer, headers));
            }
            retry += 1;
            let random = self.jitter.next_unit();
            let Some(wait) = retry_delay(&self.retry, retry, answer.retry_after, random) else {
                return Ok((answer, headers));
            };
            self.transport.sleep(wait).await;
            let ns = u64::try_from(wait.as_nanos()).unwrap_or(u64::MAX);
            self.slept_ns.fetch_add(ns, Ordering::Relaxed);
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
    /// verification certificate (CN = code) with the CA's key (a future: the page signs with
    /// WebCrypto), and verify. A stale etag at either
    /// POST is re-read once and that call retried. `progress` hears each stage.
    pub async fn prove_possession<S, F, E>(
        &self,
        arm: &Arm,
        name: &str,
        sign: S,
        progress: impl Fn(PossessionStage),
    ) -> Result<Possession, RestError>
    where
        S: FnOnce(VerificationCode) -> F,
        F: std::future::Future<Output = Result<String, E>>,
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
        let verification_pem = sign(code)
            .await
            .map_err(|e| RestError::Local(e.to_string()))?;

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
    pub async fn upload_and_verify<S, F, E>(
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
        S: FnOnce(VerificationCode) -> F,
        F: std::future::Future<Output = Result<String, E>>,
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

    /// Disables (`enabled` false: the hub refuses its connections, which is how IoT Hub revokes a
    /// device) or enables a device: read, then written back with the new status and its etag;
    /// one re-read and retry if it changed in between.
    pub async fn set_device_enabled(
        &self,
        registry: &Registry,
        id: &DeviceId,
        enabled: bool,
        reason: &str,
        now_unix: u64,
    ) -> Result<HubDevice, RestError> {
        let status = if enabled {
            DeviceStatus::Enabled
        } else {
            DeviceStatus::Disabled
        };
        self.update_device(registry, id, now_unix, |device| {
            device.status = status.clone();
            device.status_reason = Some(reason.to_owned());
            Ok((true, ()))
        })
        .await
        .map(|(device, ())| device)
    }

    /// Moves a thumbprint-registered device one step towards the certificate with thumbprints
    /// `sha1`/`sha256` (see [`RolloverStep`]): the new one as secondary, then primary, then the
    /// old one retired. Each press reads the hub's record first, so the sequence resumes after a
    /// reload, and the device is never left with no thumbprint that connects.
    pub async fn roll_thumbprint(
        &self,
        registry: &Registry,
        id: &DeviceId,
        sha1: &str,
        sha256: &str,
        now_unix: u64,
    ) -> Result<(HubDevice, super::RolloverStep), RestError> {
        self.update_device(registry, id, now_unix, |device| {
            let (step, next) =
                super::plan_rollover(device, sha1, sha256).map_err(RestError::Local)?;
            let changed = next.is_some();
            if let Some(t) = next {
                device.authentication.x509_thumbprint = Some(t);
            }
            Ok((changed, step))
        })
        .await
    }

    /// Reads a device, lets `change` edit it (it answers whether anything changed, and a value
    /// to return), and writes it back with the etag read; one re-read and retry if another
    /// writer got in between. Nothing is written when nothing changed.
    async fn update_device<R>(
        &self,
        registry: &Registry,
        id: &DeviceId,
        now_unix: u64,
        change: impl Fn(&mut crate::contract::Device) -> Result<(bool, R), RestError>,
    ) -> Result<(HubDevice, R), RestError> {
        let mut retried = false;
        loop {
            let body = self
                .call(Plane::Registry, &registry.get(id, now_unix)?)
                .await?;
            let mut device = crate::contract::Device::from_json(body.as_bytes())
                .map_err(|e| RestError::BadAnswer(format!("not a device description: {e}")))?;
            let (changed, result) = change(&mut device)?;
            if !changed {
                return Ok((HubDevice::parse(&body)?, result));
            }
            match self
                .call(Plane::Registry, &registry.replace(&device, now_unix)?)
                .await
            {
                Ok(body) => return Ok((HubDevice::parse(&body)?, result)),
                Err(e) if e.is_stale_etag() && !retried => retried = true,
                Err(e) => return Err(e),
            }
        }
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

    /// Writes a DPS enrollment read first: created when absent, else replaced with the etag read
    /// (one re-read and retry if another writer got in between).
    async fn save_with_etag<E: serde::de::DeserializeOwned>(
        &self,
        read: Request,
        write: impl Fn(Option<&str>) -> Result<Request, RestError>,
    ) -> Result<Saved<E>, RestError> {
        let mut retried = false;
        loop {
            let etag = match self.call(Plane::Dps, &read).await {
                Ok(body) => serde_json::from_str::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|v| v.get("etag").and_then(|e| e.as_str()).map(str::to_owned)),
                Err(RestError::Status { status: 404, .. }) => None,
                Err(e) => return Err(e),
            };
            match self.call(Plane::Dps, &write(etag.as_deref())?).await {
                Ok(body) => {
                    return Ok(Saved {
                        item: serde_json::from_str(&body)
                            .map_err(|e| RestError::BadAnswer(format!("not an enrollment: {e}")))?,
                        replaced: etag.is_some(),
                        retried,
                    })
                }
                Err(e) if e.is_stale_etag() && !retried => retried = true,
                Err(e) => return Err(e),
            }
        }
    }

    /// Creates an enrollment group, or replaces the one with its id.
    pub async fn save_enrollment_group(
        &self,
        dps: &DpsService,
        group: &EnrollmentGroup,
        now_unix: u64,
    ) -> Result<Saved<EnrollmentGroup>, RestError> {
        let read = dps.get_group(&group.enrollment_group_id, now_unix)?;
        self.save_with_etag(read, |etag| dps.put_group(group, etag, now_unix))
            .await
    }

    /// Creates an individual enrollment, or replaces the one with its registration id.
    pub async fn save_enrollment(
        &self,
        dps: &DpsService,
        enrollment: &IndividualEnrollment,
        now_unix: u64,
    ) -> Result<Saved<IndividualEnrollment>, RestError> {
        let read = dps.get_enrollment(&enrollment.registration_id, now_unix)?;
        self.save_with_etag(read, |etag| dps.put_enrollment(enrollment, etag, now_unix))
            .await
    }

    /// Reads a device's registration state.
    pub async fn registration_state(
        &self,
        dps: &DpsService,
        registration_id: &str,
        now_unix: u64,
    ) -> Result<RegistrationState, RestError> {
        let request = dps.get_registration(registration_id, now_unix)?;
        serde_json::from_str(&self.call(Plane::Dps, &request).await?)
            .map_err(|e| RestError::BadAnswer(format!("not a registration state: {e}")))
    }

    /// Reads an enrollment group.
    pub async fn enrollment_group(
        &self,
        dps: &DpsService,
        id: &str,
        now_unix: u64,
    ) -> Result<EnrollmentGroup, RestError> {
        let request = dps.get_group(id, now_unix)?;
        dps::parse_group(&self.call(Plane::Dps, &request).await?)
    }

    /// Every enrollment group of the DPS.
    pub async fn enrollment_groups(
        &self,
        dps: &DpsService,
        now_unix: u64,
    ) -> Result<Vec<EnrollmentGroup>, RestError> {
        let request = dps.query_groups(now_unix)?;
        dps::parse_groups(&self.call(Plane::Dps, &request).await?)
    }

    /// Disables (no device of it may register: how DPS revokes a CA's devices) or enables an
    /// enrollment group: read, then written back with its etag.
    pub async fn set_group_enabled(
        &self,
        dps: &DpsService,
        id: &str,
        enabled: bool,
        now_unix: u64,
    ) -> Result<Saved<EnrollmentGroup>, RestError> {
        let mut group = self.enrollment_group(dps, id, now_unix).await?;
        group.provisioning_status = Some(if enabled { "enabled" } else { "disabled" }.to_owned());
        self.save_enrollment_group(dps, &group, now_unix).await
    }

    /// Deletes an enrollment group, whatever its version.
    pub async fn delete_enrollment_group(
        &self,
        dps: &DpsService,
        id: &str,
        now_unix: u64,
    ) -> Result<(), RestError> {
        let request = dps.delete_group(id, None, now_unix)?;
        self.call(Plane::Dps, &request).await.map(|_| ())
    }

    /// Deletes an individual enrollment, whatever its version.
    pub async fn delete_enrollment(
        &self,
        dps: &DpsService,
        registration_id: &str,
        now_unix: u64,
    ) -> Result<(), RestError> {
        let request = dps.delete_enrollment(registration_id, now_unix)?;
        self.call(Plane::Dps, &request).await.map(|_| ())
    }
}

/// What saving an enrollment group did.
pub type SavedGroup = Saved<EnrollmentGroup>;

/// What saving a DPS enrollment (group or individual) did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saved<T> {
    /// The enrollment as DPS now describes it.
    pub item: T,
    /// An existing group of that id was replaced (else it was created).
    pub replaced: bool,
    /// A stale etag was re-read and the write retried.
    pub retried: bool,
}

#[cfg(test)]
mod tests;

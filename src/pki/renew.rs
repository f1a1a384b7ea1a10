//! Renewal: a device certificate again for the same device id (with the key the device already
//! holds, taken from its current certificate, or a new one), an intermediate or root CA again with
//! the same key and subject and a new validity, and which devices are due.
//!
//! A device renewed with its own key needs nothing new on the device but the certificate; one
//! renewed under a CA with the same subject and key still chains to what the hub verified.

use time::{Duration, OffsetDateTime};

use super::authority::CertificateAuthority;
use super::signature::PublicKey;
use super::{Certificate, DeviceCertParams, KeyAlgorithm, KeyPair, PkiError, ValidityDays};
use crate::contract::DeviceId;

/// Which key a renewed device certificate carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RenewKey {
    /// The public key of the current certificate: the device keeps its private key, and only the
    /// certificate file changes on it.
    Same,
    /// A new key of this kind, made here (the device gets a new key file too).
    New(KeyAlgorithm),
}

/// A renewed device certificate.
#[derive(Debug)]
pub struct Renewed {
    /// The device id, the CN of both certificates.
    pub device_id: DeviceId,
    /// The new certificate.
    pub certificate: Certificate,
    /// The new key, when [`RenewKey::New`] made one.
    pub new_key: Option<KeyPair>,
}

fn refused(detail: impl Into<String>) -> PkiError {
    PkiError::RenewInvalid {
        detail: detail.into(),
    }
}

impl CertificateAuthority {
    /// Issues `current`'s device certificate again: same CN (the device id), the device profile,
    /// `validity` from `now`, signed by this CA (the one that signed `current`, or the CA it rolls
    /// over to). Refused for a CA certificate, and for a CN that is not a device id.
    pub fn renew_device(
        &self,
        current: &Certificate,
        key: RenewKey,
        validity: ValidityDays,
        now: OffsetDateTime,
    ) -> Result<Renewed, PkiError> {
        let info = current.info()?;
        if info.is_ca {
            return Err(refused(
                "it is a CA certificate; renew it as a CA (same key, new validity)",
            ));
        }
        let cn = info
            .common_name
            .ok_or_else(|| refused("its subject has no CN, so it names no device"))?;
        let device_id = DeviceId::parse(&cn).map_err(PkiError::Id)?;
        let params = DeviceCertParams {
            device_id: device_id.clone(),
            validity,
        };
        let (certificate, new_key) = match key {
            RenewKey::Same => {
                let parsed = super::certificate::parse(current.der())?;
                let public = PublicKey::of(parsed.tbs_certificate().subject_public_key_info())?;
                (self.issue_device_for(&params, &public, now)?, None)
            }
            RenewKey::New(algorithm) => {
                self.check_validity(validity, now)?;
                let key = KeyPair::generate(algorithm)?;
                (self.issue_device(&params, &key, now)?, Some(key))
            }
        };
        Ok(Renewed {
            device_id,
            certificate,
            new_key,
        })
    }

    /// `ca` again, signed by this CA, with the same key, subject, pathLen and usages and a new
    /// validity: what it signed before still chains to it, and so does what it signs next.
    pub fn renew_intermediate(
        &self,
        ca: &CertificateAuthority,
        validity: ValidityDays,
        now: OffsetDateTime,
    ) -> Result<CertificateAuthority, PkiError> {
        if ca.is_root() {
            return Err(refused(
                "it is a root CA; renew it with its own key (Renew root)",
            ));
        }
        self.check_validity(validity, now)?;
        let params = ca.renewal_params(validity, now)?;
        let certificate = self.sign(&params, ca.key())?;
        let mut issuers = Vec::with_capacity(self.issuers().len() + 1);
        issuers.push(self.certificate().clone());
        issuers.extend(self.issuers().iter().cloned());
        CertificateAuthority::assemble(certificate, ca.key().duplicate()?, params, issuers)
    }

    /// This root again, self-signed with the same key and subject and a new validity: devices and
    /// intermediates it signed chain to the new certificate as they did to the old (the hub needs
    /// the new one uploaded and verified, as any new CA certificate).
    pub fn renew_root(
        &self,
        validity: ValidityDays,
        now: OffsetDateTime,
    ) -> Result<CertificateAuthority, PkiError> {
        if !self.is_root() {
            return Err(refused(
                "it is an intermediate; renew it with the CA above it",
            ));
        }
        let params = self.renewal_params(validity, now)?;
        let der = params.self_signed(self.key())?.der().to_vec();
        CertificateAuthority::assemble(
            Certificate::from_der(der)?,
            self.key().duplicate()?,
            params,
            Vec::new(),
        )
    }
}

/// A device certificate due for renewal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueDevice {
    /// Index into the list given to [`due_for_renewal`].
    pub index: usize,
    /// The device id.
    pub device_id: String,
    /// Whole days left (negative once expired).
    pub days_left: i64,
}

/// Which of `devices` (newest first, as the page lists them) expire within `within_days` of
/// `now`, counting only the newest certificate of each device id: a device already renewed is not
/// due again. CA certificates and certificates whose CN is not a device id are left out.
pub fn due_for_renewal(
    devices: &[Certificate],
    within_days: u32,
    now: OffsetDateTime,
) -> Vec<DueDevice> {
    // A certificate that does not read is left out, keeping the indexes of the others.
    let infos: Vec<Option<super::CertificateInfo>> =
        devices.iter().map(|c| c.info().ok()).collect();
    let refs: Vec<Option<&super::CertificateInfo>> = infos.iter().map(Option::as_ref).collect();
    due_for_renewal_info(&refs, within_days, now)
}

/// [`due_for_renewal`] for certificates already read (`None`: one that does not read).
pub fn due_for_renewal_info(
    devices: &[Option<&super::CertificateInfo>],
    within_days: u32,
    now: OffsetDateTime,
) -> Vec<DueDevice> {
    let horizon = now + Duration::days(i64::from(within_days));
    let mut seen = std::collections::HashSet::new();
    let mut due = Vec::new();
    for (index, info) in devices.iter().enumerate() {
        let Some(info) = info else { continue };
        let Some(cn) = info.common_name.clone() else {
            continue;
        };
        if info.is_ca || DeviceId::parse(&cn).is_err() || !seen.insert(cn.clone()) {
            continue;
        }
        if info.not_after <= horizon {
            due.push(DueDevice {
                index,
                device_id: cn,
                days_left: info.days_left(now),
            });
        }
    }
    due.sort_by_key(|d| d.days_left);
    due
}

/// Whether `cert` carries the public key of `key` (a renewal with [`RenewKey::Same`] does).
pub fn same_public_key(cert: &Certificate, key: &KeyPair) -> Result<bool, PkiError> {
    let parsed = super::certificate::parse(cert.der())?;
    let spki =
        der::Encode::to_der(parsed.tbs_certificate().subject_public_key_info()).map_err(|e| {
            PkiError::CertificateInvalid {
                detail: e.to_string(),
            }
        })?;
    Ok(spki == key.subject_public_key_info_der())
}

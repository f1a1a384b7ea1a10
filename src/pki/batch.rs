//! A batch of devices under one CA: one device per step (the caller brings each key, so RSA keys
//! can come from WebCrypto and the page can draw between steps), every device's files gathered,
//! one zip at the end.

use std::collections::VecDeque;

use time::OffsetDateTime;

use super::bundle::{device_files, zip_files, NamedFile};
use super::{Certificate, CertificateAuthority, DeviceCertParams, KeyPair, PkiError, ValidityDays};
use crate::contract::DeviceId;

/// One device the batch made.
#[derive(Debug)]
pub struct BatchDevice {
    /// Its id (the certificate's CN).
    pub device_id: DeviceId,
    /// Its certificate.
    pub certificate: Certificate,
    /// Its files, as they go into the zip.
    pub files: Vec<NamedFile>,
}

/// What a finished batch produced.
#[derive(Debug)]
pub struct BatchResult {
    /// The ids made, in order.
    pub device_ids: Vec<DeviceId>,
    /// Every device's files in one zip.
    pub zip: Vec<u8>,
    /// Whether it ended before every id (stopped, or a device failed).
    pub stopped_early: bool,
}

/// Issues devices one step at a time.
#[derive(Debug)]
pub struct BatchIssuer<'a> {
    ca: &'a CertificateAuthority,
    validity: ValidityDays,
    pending: VecDeque<DeviceId>,
    total: usize,
    made: Vec<DeviceId>,
    files: Vec<NamedFile>,
}

impl<'a> BatchIssuer<'a> {
    /// A batch of `ids` under `ca`, each valid `validity`; refused when the CA cannot issue that
    /// long from `now`.
    pub fn new(
        ca: &'a CertificateAuthority,
        ids: Vec<DeviceId>,
        validity: ValidityDays,
        now: OffsetDateTime,
    ) -> Result<Self, PkiError> {
        ca.check_validity(validity, now)?;
        Ok(Self {
            ca,
            validity,
            total: ids.len(),
            files: Vec::with_capacity(ids.len() * 4),
            made: Vec::with_capacity(ids.len()),
            pending: ids.into(),
        })
    }

    /// The id the next step issues; `None` when every device is made.
    pub fn next_id(&self) -> Option<&DeviceId> {
        self.pending.front()
    }

    /// Devices made so far, and in all.
    pub fn progress(&self) -> (usize, usize) {
        (self.made.len(), self.total)
    }

    /// Issues the next device with `key`; its files join the zip.
    pub fn issue_next(
        &mut self,
        key: &KeyPair,
        now: OffsetDateTime,
    ) -> Result<BatchDevice, PkiError> {
        let device_id = self.pending.front().cloned().ok_or(PkiError::FieldEmpty {
            field: super::Field::DeviceIds,
        })?;
        let certificate = self.ca.issue_device(
            &DeviceCertParams {
                device_id: device_id.clone(),
                validity: self.validity,
            },
            key,
            now,
        )?;
        let files = device_files(self.ca, &device_id, &certificate, key)?;
        self.pending.pop_front();
        self.files.extend(files.iter().cloned());
        self.made.push(device_id.clone());
        Ok(BatchDevice {
            device_id,
            certificate,
            files,
        })
    }

    /// The zip of every device made; `None` when none was.
    pub fn finish(self) -> Result<Option<BatchResult>, PkiError> {
        if self.made.is_empty() {
            return Ok(None);
        }
        Ok(Some(BatchResult {
            zip: zip_files(&self.files)?,
            stopped_early: self.made.len() < self.total,
            device_ids: self.made,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::{KeyAlgorithm, RootCaParams};

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_780_000_000).expect("time")
    }

    #[test]
    fn a_batch_issues_step_by_step_and_zips_every_devices_files() {
        let ca = CertificateAuthority::create_root(&RootCaParams::default(), now()).expect("ca");
        let ids: Vec<DeviceId> = ["b-1", "b-2", "b-3"]
            .iter()
            .map(|i| DeviceId::parse(i).expect("id"))
            .collect();
        let mut batch =
            BatchIssuer::new(&ca, ids, ValidityDays::new(30).expect("days"), now()).expect("batch");
        assert_eq!(batch.progress(), (0, 3));
        let key = KeyPair::generate(KeyAlgorithm::EcdsaP256).expect("key");
        let first = batch.issue_next(&key, now()).expect("first");
        assert_eq!(first.device_id.as_str(), "b-1");
        assert_eq!(
            first
                .certificate
                .info()
                .expect("info")
                .common_name
                .as_deref(),
            Some("b-1")
        );
        assert_eq!(batch.next_id().map(DeviceId::as_str), Some("b-2"));
        assert_eq!(batch.progress(), (1, 3));
        // Stopped after two: the zip holds both devices' files, and says it stopped early.
        batch
            .issue_next(
                &KeyPair::generate(KeyAlgorithm::EcdsaP256).expect("key"),
                now(),
            )
            .expect("second");
        let done = batch.finish().expect("zip").expect("something made");
        assert!(done.stopped_early);
        assert_eq!(done.device_ids.len(), 2);
        let names: Vec<String> = {
            let mut z = zip::ZipArchive::new(std::io::Cursor::new(done.zip)).expect("a zip");
            (0..z.len())
                .map(|i| z.by_index(i).expect("entry").name().to_owned())
                .collect()
        };
        assert!(
            names.contains(&"b-1.pem".to_owned()) && names.contains(&"b-2.key".to_owned()),
            "{names:?}"
        );
        assert!(!names.iter().any(|n| n.starts_with("b-3")), "{names:?}");
    }

    #[test]
    fn a_batch_outliving_its_ca_is_refused_before_any_device() {
        let ca = CertificateAuthority::create_root(
            &RootCaParams {
                validity: ValidityDays::new(10).expect("days"),
                ..RootCaParams::default()
            },
            now(),
        )
        .expect("ca");
        let ids = vec![DeviceId::parse("x").expect("id")];
        assert!(BatchIssuer::new(&ca, ids, ValidityDays::new(30).expect("days"), now()).is_err());
        let empty = BatchIssuer::new(&ca, Vec::new(), ValidityDays::new(5).expect("days"), now())
            .expect("batch");
        assert!(empty.finish().expect("nothing to zip").is_none());
    }
}

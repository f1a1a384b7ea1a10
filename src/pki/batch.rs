//! A batch of devices under one CA: one device per step (the caller brings each key, so RSA keys
//! can come from WebCrypto and the page can draw between steps), every device's files gathered,
//! one zip at the end.

use std::collections::VecDeque;

use time::OffsetDateTime;

use super::bundle::{device_files, NamedFile, ZipStream};
use super::{Certificate, CertificateAuthority, DeviceCertParams, KeyPair, PkiError, ValidityDays};
use crate::contract::{DeviceId, Redacted};

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
pub struct BatchResult {
    /// The ids made, in order.
    pub device_ids: Vec<DeviceId>,
    /// Every device's files in one zip.
    pub zip: Vec<u8>,
    /// Whether it ended before every id (stopped, or a device failed).
    pub stopped_early: bool,
}

impl std::fmt::Debug for BatchResult {
    // The zip holds the devices' keys: only its size is shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchResult")
            .field("device_ids", &self.device_ids)
            .field("zip", &format_args!("<redacted, {} bytes>", self.zip.len()))
            .field("stopped_early", &self.stopped_early)
            .finish()
    }
}

/// Issues devices one step at a time.
#[derive(Debug)]
pub struct BatchIssuer<'a> {
    ca: &'a CertificateAuthority,
    validity: ValidityDays,
    pending: VecDeque<DeviceId>,
    total: usize,
    made: Vec<DeviceId>,
    /// Every made device's files, zipped as they come.
    zip: ZipStream,
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
            zip: ZipStream::new(),
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
        for f in &files {
            self.zip.add(f)?;
        }
        self.pending.pop_front();
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
            zip: self.zip.finish().concat(),
            stopped_early: self.made.len() < self.total,
            device_ids: self.made,
        }))
    }
}

/// A part of a batch handed to a worker: the CA (with its key), the ids, and how to issue them.
/// Written by the page, read by the worker (`src/bin/batch-worker.rs`), as JSON.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchJob {
    /// The signing CA.
    pub ca: super::StoredCa,
    /// The device ids of this part.
    pub ids: Vec<String>,
    /// Validity in days.
    pub validity_days: u32,
    /// `p256` or `p384` (RSA keys come from WebCrypto on the page).
    pub key: String,
    /// The page's clock, Unix seconds.
    pub now_unix: i64,
}

/// One device a worker made: its certificate, its key, and its files, base64.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct BatchMade {
    /// Certificate, base64 DER.
    pub certificate: String,
    /// PKCS#8 key, base64 DER.
    pub key: String,
    /// The device's files as they go into the zip: name, base64 contents, whether secret.
    pub files: Vec<(String, String, bool)>,
}

impl std::fmt::Debug for BatchMade {
    // The key, and the files that hold it, show only as how long they are.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        struct Files<'a>(&'a [(String, String, bool)]);
        impl std::fmt::Debug for Files<'_> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_list()
                    .entries(self.0.iter().map(|(name, contents, secret)| {
                        let n = contents.len();
                        let hidden = if *secret { "redacted, " } else { "" };
                        (name, format!("<{hidden}{n} chars of base64>"), secret)
                    }))
                    .finish()
            }
        }
        f.debug_struct("BatchMade")
            .field("certificate", &self.certificate)
            .field("key", &Redacted(&self.key))
            .field("files", &Files(&self.files))
            .finish()
    }
}

/// What the page keeps of a device a worker made: the certificate, the key's PKCS#8 DER (read
/// into a key only when exported) and the files.
pub type OpenedBatchDevice = (Certificate, zeroize::Zeroizing<Vec<u8>>, Vec<NamedFile>);

impl BatchMade {
    /// What a worker sends for a device: `certificate`, its key's PKCS#8 DER and its files.
    pub fn new(certificate: &Certificate, key_der: &[u8], files: &[NamedFile]) -> Self {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD;
        Self {
            certificate: b64.encode(certificate.der()),
            key: b64.encode(key_der),
            files: files
                .iter()
                .map(|f| (f.name.clone(), b64.encode(&f.contents), f.secret))
                .collect(),
        }
    }

    /// The certificate, key and files again. The key is not read here (that would recompute its
    /// public key for each of thousands of devices); the certificate is parsed.
    pub fn open(&self) -> Result<OpenedBatchDevice, PkiError> {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD;
        let bad = |what: &str| PkiError::Signing {
            detail: format!("a worker sent a damaged {what}"),
        };
        let cert = Certificate::from_der(
            b64.decode(&self.certificate)
                .map_err(|_| bad("certificate"))?,
        )?;
        let key = zeroize::Zeroizing::new(b64.decode(&self.key).map_err(|_| bad("key"))?);
        let files = self
            .files
            .iter()
            .map(|(name, contents, secret)| {
                Ok(NamedFile {
                    name: name.clone(),
                    contents: b64.decode(contents).map_err(|_| bad("file"))?,
                    secret: *secret,
                })
            })
            .collect::<Result<_, PkiError>>()?;
        Ok((cert, key, files))
    }
}

/// Reads `n` bytes from `at` on.
fn take<'b>(bytes: &'b [u8], at: &mut usize, n: usize) -> Result<&'b [u8], PkiError> {
    let part = bytes.get(*at..*at + n).ok_or_else(damaged_packet)?;
    *at += n;
    Ok(part)
}

fn damaged_packet() -> PkiError {
    PkiError::Signing {
        detail: "a worker sent a damaged packet".into(),
    }
}

fn take_len(bytes: &[u8], at: &mut usize, width: usize) -> Result<usize, PkiError> {
    Ok(take(bytes, at, width)?
        .iter()
        .rev()
        .fold(0, |n, b| (n << 8) | usize::from(*b)))
}

fn put_len(out: &mut Vec<u8>, len: usize, width: usize) {
    out.extend_from_slice(&(len as u64).to_le_bytes()[..width]);
}

impl BatchMade {
    /// Appends one device to `out` in the packed form workers send as bytes (no JSON, no base64:
    /// the page takes it with a copy): its certificate's DER, its key's PKCS#8 DER, its files.
    /// Each device is a record of its own (a 4-byte length, then the device), so the page can
    /// open them one at a time.
    pub fn pack(
        out: &mut Vec<u8>,
        certificate_der: &[u8],
        key_der: &[u8],
        files: &[NamedFile],
    ) -> Result<(), PkiError> {
        let size = 4
            + certificate_der.len()
            + key_der.len()
            + 1
            + files
                .iter()
                .map(|f| 7 + f.name.len() + f.contents.len())
                .sum::<usize>();
        if certificate_der.len() > 0xffff
            || key_der.len() > 0xffff
            || files.len() > 0xff
            || files.iter().any(|f| f.name.len() > 0xffff)
            || u32::try_from(size).is_err()
        {
            return Err(PkiError::Signing {
                detail: "a device too large to send".into(),
            });
        }
        out.reserve(4 + size);
        put_len(out, size, 4);
        put_len(out, certificate_der.len(), 2);
        out.extend_from_slice(certificate_der);
        put_len(out, key_der.len(), 2);
        out.extend_from_slice(key_der);
        out.push(files.len() as u8);
        for f in files {
            out.push(u8::from(f.secret));
            put_len(out, f.name.len(), 2);
            out.extend_from_slice(f.name.as_bytes());
            put_len(out, f.contents.len(), 4);
            out.extend_from_slice(&f.contents);
        }
        Ok(())
    }

    /// Where each device of a packet [`Self::pack`] wrote lies in it, in order: opened from
    /// the packet itself (no copy of its keys to wipe again).
    pub fn split_packed(bytes: &[u8]) -> Result<Vec<std::ops::Range<usize>>, PkiError> {
        let mut at = 0;
        let mut out = Vec::new();
        while at < bytes.len() {
            let len = take_len(bytes, &mut at, 4)?;
            let start = at;
            take(bytes, &mut at, len)?;
            out.push(start..at);
        }
        Ok(out)
    }

    /// One device of [`Self::split_packed`]: the certificate, the key's PKCS#8 DER and the
    /// files, none of them read again (this crate made them, in a worker of the page's).
    pub fn open_packed(device: &[u8]) -> Result<OpenedBatchDevice, PkiError> {
        let mut at = 0;
        let len = take_len(device, &mut at, 2)?;
        let certificate = Certificate::from_der_made_here(take(device, &mut at, len)?.to_vec())?;
        let len = take_len(device, &mut at, 2)?;
        let key = zeroize::Zeroizing::new(take(device, &mut at, len)?.to_vec());
        let count = take_len(device, &mut at, 1)?;
        let mut files = Vec::with_capacity(count);
        for _ in 0..count {
            let secret = take_len(device, &mut at, 1)? == 1;
            let len = take_len(device, &mut at, 2)?;
            let name = std::str::from_utf8(take(device, &mut at, len)?)
                .map_err(|_| damaged_packet())?
                .to_owned();
            let len = take_len(device, &mut at, 4)?;
            files.push(NamedFile {
                name,
                contents: take(device, &mut at, len)?.to_vec(),
                secret,
            });
        }
        if at != device.len() {
            return Err(damaged_packet());
        }
        Ok((certificate, key, files))
    }
}

/// Runs a [`BatchJob`]: a key and a certificate per id, handed to `emit` `chunk` at a time.
pub fn run_batch_job(
    job: &BatchJob,
    chunk: usize,
    mut emit: impl FnMut(Vec<BatchMade>),
) -> Result<usize, PkiError> {
    let ca = job.ca.restore()?;
    let algorithm = match job.key.as_str() {
        "p256" => super::KeyAlgorithm::EcdsaP256,
        "p384" => super::KeyAlgorithm::EcdsaP384,
        other => {
            return Err(PkiError::Signing {
                detail: format!("workers make ECDSA keys, not {other}"),
            })
        }
    };
    let validity = ValidityDays::new(job.validity_days)?;
    let now = OffsetDateTime::from_unix_timestamp(job.now_unix).map_err(|e| PkiError::Signing {
        detail: e.to_string(),
    })?;
    ca.check_validity(validity, now)?;
    let mut out = Vec::with_capacity(chunk);
    for id in &job.ids {
        let device_id = DeviceId::parse(id).map_err(PkiError::Id)?;
        let made = ca.issue_device_identity(
            &DeviceCertParams {
                device_id: device_id.clone(),
                validity,
            },
            algorithm,
            now,
        )?;
        let files = device_files(&ca, &device_id, &made.certificate, &made.key)?;
        // The key file holds the key's PKCS#8 PEM: its DER is taken from there, not made again.
        let key_der = files
            .iter()
            .find(|f| f.secret)
            .and_then(|f| std::str::from_utf8(&f.contents).ok())
            .and_then(|pem| pem::parse(pem).ok())
            .map(|p| p.into_contents())
            .ok_or_else(|| PkiError::Signing {
                detail: "the key file was not made".into(),
            })?;
        out.push(BatchMade::new(&made.certificate, &key_der, &files));
        if out.len() >= chunk {
            emit(std::mem::take(&mut out));
        }
    }
    if !out.is_empty() {
        emit(out);
    }
    Ok(job.ids.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_worker_job_issues_every_id_under_the_ca_in_chunks() {
        let now = OffsetDateTime::now_utc();
        let ca = CertificateAuthority::create_root(&RootCaParams::default(), now).unwrap();
        let job = BatchJob {
            ca: crate::pki::StoredCa::from_ca("Root CA", &ca).unwrap(),
            ids: (1..=7).map(|n| format!("w-{n}")).collect(),
            validity_days: 30,
            key: "p384".into(),
            now_unix: now.unix_timestamp(),
        };
        // As it crosses to the worker and back.
        let job: BatchJob = serde_json::from_str(&serde_json::to_string(&job).unwrap()).unwrap();
        let mut chunks = Vec::new();
        assert_eq!(run_batch_job(&job, 3, |c| chunks.push(c)).unwrap(), 7);
        assert_eq!(chunks.iter().map(Vec::len).collect::<Vec<_>>(), [3, 3, 1]);
        for (n, made) in chunks.concat().iter().enumerate() {
            let (cert, key_der, files) = made.open().unwrap();
            let key = KeyPair::from_pkcs8_der(&key_der).unwrap();
            assert_eq!(key.algorithm(), KeyAlgorithm::EcdsaP384);
            assert!(crate::pki::same_public_key(&cert, &key).unwrap());
            assert_eq!(files.len(), 3, "pem, key and cer under a root");
            assert!(files
                .iter()
                .any(|f| f.name == format!("w-{}.cer", n + 1) && f.contents == cert.der()));
            assert_eq!(
                cert.info().unwrap().common_name.as_deref(),
                Some(format!("w-{}", n + 1).as_str())
            );
            assert!(crate::pki::is_signed_by(&cert, ca.certificate()).unwrap());
        }
        // A damaged reply and an RSA job are refused by name.
        let mut bad = chunks[0][0].clone();
        bad.key = "not base64!".into();
        assert!(bad.open().unwrap_err().to_string().contains("damaged key"));
        let rsa = BatchJob {
            key: "rsa2048".into(),
            ..job
        };
        assert!(run_batch_job(&rsa, 3, |_| {})
            .unwrap_err()
            .to_string()
            .contains("not rsa2048"));
    }
    #[test]
    fn packed_devices_open_as_they_were_packed_and_damage_is_refused() {
        let ca = CertificateAuthority::create_root(&RootCaParams::default(), now()).unwrap();
        let mut packet = Vec::new();
        let mut sent = Vec::new();
        for id in ["p-1", "p-2"] {
            let device_id = DeviceId::parse(id).unwrap();
            let made = ca
                .issue_device_identity(
                    &DeviceCertParams {
                        device_id: device_id.clone(),
                        validity: ValidityDays::new(30).unwrap(),
                    },
                    KeyAlgorithm::EcdsaP256,
                    now(),
                )
                .unwrap();
            let key_der = made.key.to_pkcs8_der().unwrap();
            let files = device_files(&ca, &device_id, &made.certificate, &made.key).unwrap();
            // The files made from the DER are the files made from the certificate.
            let key_pem = crate::pki::pkcs8_pem_from_der(&key_der);
            assert_eq!(
                NamedFile::device_set(&ca, &device_id, made.certificate.der(), &key_pem),
                files
            );
            BatchMade::pack(&mut packet, made.certificate.der(), &key_der, &files).unwrap();
            sent.push((made.certificate, key_der.to_vec(), files));
        }
        let devices = BatchMade::split_packed(&packet).unwrap();
        assert_eq!(devices.len(), 2);
        for (device, (cert, key, files)) in devices.iter().zip(&sent) {
            let (c, k, f) = BatchMade::open_packed(&packet[device.clone()]).unwrap();
            assert_eq!((&c, k.as_slice(), &f), (cert, key.as_slice(), files));
        }
        // Cut short, or a byte too many: refused, by name.
        assert!(BatchMade::split_packed(&packet[..packet.len() - 1]).is_err());
        let first = &packet[devices[0].clone()];
        let mut longer = first.to_vec();
        longer.push(0);
        let e = BatchMade::open_packed(&longer).unwrap_err().to_string();
        assert!(e.contains("damaged packet"), "{e}");
        assert!(BatchMade::open_packed(&first[..100]).is_err());
    }

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

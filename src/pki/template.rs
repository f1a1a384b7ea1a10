//! Device certificates spliced from a template of the CA's: a batch's thousands of devices
//! differ only in their serial, name, public point and key id, so the builder makes one and the
//! rest are cut from it ([`DeviceTemplate`]).

use time::OffsetDateTime;

use super::der_out::{common_name_der, der_len, der_len_size, serial_bytes};
use super::{
    ecdsa_signature_der, CertificateAuthority, DeviceCertParams, KeyAlgorithm, PkiError,
    ValidityDays,
};
use crate::contract::DeviceId;

/// The device certificates one CA issues for one key kind, validity and moment, made from the
/// certificate [`CertificateAuthority::device_unsigned`] builds, cut where a device's own parts go:
/// its serial, its name (the CN), its public point and the key identifier taken from it.
/// Everything else (issuer, validity, algorithms, the other extensions) is the same for every
/// device of a batch, so thousands of them are spliced, not built: the same bytes as the builder
/// makes, a tenth of the work.
#[derive(Debug, Clone)]
pub struct DeviceTemplate {
    /// Version, then the serial's tag and length: the serial follows.
    version: Vec<u8>,
    /// The signature algorithm, issuer and validity, after the serial.
    issued: Vec<u8>,
    /// The subject public key info before the point.
    key_info: Vec<u8>,
    /// After the point, up to the subject key identifier's 20 bytes.
    extensions: Vec<u8>,
    /// After the subject key identifier.
    tail: Vec<u8>,
    /// The signature algorithm as the certificate repeats it after the TBS.
    algorithm: Vec<u8>,
    /// How long a public point is (SEC1, uncompressed).
    point_len: usize,
    /// How the CA's key signs (WebCrypto's ECDSA signature is turned to DER with it).
    ca_algorithm: KeyAlgorithm,
}

impl DeviceTemplate {
    /// Serials for `n` certificates, drawn in one call.
    pub fn serials(&self, n: usize) -> Result<Vec<[u8; 16]>, PkiError> {
        let mut all = vec![0u8; n * 16];
        getrandom::fill(&mut all).map_err(|_| PkiError::Random)?;
        Ok(all
            .chunks_exact(16)
            .map(|c| serial_bytes(c.try_into().unwrap_or([0x40; 16])))
            .collect())
    }

    /// The public point a PKCS#8 ECDSA key of this template's kind carries (at its end, in the
    /// ECPrivateKey's `[1] publicKey`, as WebCrypto and this crate write it): the key's point
    /// without a second export. `None` when it does not end so.
    pub fn point_in_pkcs8<'k>(&self, der: &'k [u8]) -> Option<&'k [u8]> {
        let bits = 1 + self.point_len as u8;
        let head = [0xa1, bits + 2, 0x03, bits, 0x00];
        let at = der.len().checked_sub(self.point_len + head.len())?;
        let point = &der[at + head.len()..];
        (der[at..at + head.len()] == head && point.first() == Some(&4)).then_some(point)
    }

    /// How the CA signs what [`Self::to_be_signed`] gives.
    pub fn ca_algorithm(&self) -> KeyAlgorithm {
        self.ca_algorithm
    }

    /// The TBSCertificate of the device `device_id` whose key's public point (SEC1,
    /// uncompressed) is `point`, with the serial `serial` (one of [`Self::serials`]).
    pub fn to_be_signed(
        &self,
        device_id: &DeviceId,
        serial: &[u8; 16],
        point: &[u8],
    ) -> Result<Vec<u8>, PkiError> {
        use sha1::{Digest, Sha1};
        if point.len() != self.point_len || point.first() != Some(&4) {
            return Err(PkiError::Signing {
                detail: format!(
                    "a public point of {} bytes where this batch's keys have {}",
                    point.len(),
                    self.point_len
                ),
            });
        }
        let cn = device_id.as_str().as_bytes();
        let mut name = Vec::with_capacity(cn.len() + 16);
        common_name_der(&mut name, cn);
        let body = self.version.len()
            + 16
            + self.issued.len()
            + name.len()
            + self.key_info.len()
            + point.len()
            + self.extensions.len()
            + 20
            + self.tail.len();
        let mut tbs = Vec::with_capacity(body + 4);
        tbs.push(0x30);
        der_len(&mut tbs, body);
        tbs.extend_from_slice(&self.version);
        tbs.extend_from_slice(&serial_bytes(*serial));
        tbs.extend_from_slice(&self.issued);
        tbs.extend_from_slice(&name);
        tbs.extend_from_slice(&self.key_info);
        tbs.extend_from_slice(point);
        tbs.extend_from_slice(&self.extensions);
        tbs.extend_from_slice(&Sha1::digest(point));
        tbs.extend_from_slice(&self.tail);
        Ok(tbs)
    }

    /// The certificate's DER: `tbs` (from [`Self::to_be_signed`]) with the CA's signature of it,
    /// as WebCrypto gives it (ECDSA: r and s, IEEE P1363; RSA: its bytes).
    pub fn certificate_der(&self, tbs: &[u8], raw_signature: &[u8]) -> Result<Vec<u8>, PkiError> {
        let signature = ecdsa_signature_der(self.ca_algorithm, raw_signature)?;
        let bits = 1 + signature.len();
        let body = tbs.len() + self.algorithm.len() + 1 + der_len_size(bits) + bits;
        let mut der = Vec::with_capacity(body + 4);
        der.push(0x30);
        der_len(&mut der, body);
        der.extend_from_slice(tbs);
        der.extend_from_slice(&self.algorithm);
        der.push(0x03);
        der_len(&mut der, bits);
        der.push(0);
        der.extend_from_slice(&signature);
        Ok(der)
    }
}

impl CertificateAuthority {
    /// The template of the device certificates this CA issues, valid `validity` from `now`, for
    /// keys of kind `key` (ECDSA): cut from a certificate the builder made, and checked to make
    /// that certificate again byte for byte.
    pub fn device_template(
        &self,
        key: KeyAlgorithm,
        validity: ValidityDays,
        now: OffsetDateTime,
    ) -> Result<DeviceTemplate, PkiError> {
        use sha1::{Digest, Sha1};
        let point_len = match key {
            KeyAlgorithm::EcdsaP256 => 65,
            KeyAlgorithm::EcdsaP384 => 97,
            KeyAlgorithm::Rsa(_) => {
                return Err(PkiError::Signing {
                    detail: "device keys made elsewhere are ECDSA".into(),
                })
            }
        };
        // A point no real key has, that appears once: where the device's own point goes.
        let mut point = vec![4u8];
        point.extend((1..point_len as u8).map(|i| i.wrapping_mul(37) ^ 0xa5));
        let id = DeviceId::parse("template-device").map_err(PkiError::Id)?;
        let unsigned = self.device_unsigned(
            &DeviceCertParams {
                device_id: id.clone(),
                validity,
            },
            key,
            &point,
            now,
        )?;
        let tbs = unsigned.to_be_signed();
        let broken = || PkiError::Signing {
            detail: "the device certificate did not cut into a template".into(),
        };
        let find = |what: &[u8]| {
            let mut at = tbs
                .windows(what.len())
                .enumerate()
                .filter(|(_, w)| *w == what);
            match (at.next(), at.next()) {
                (Some((i, _)), None) => Ok(i),
                _ => Err(broken()),
            }
        };
        // SEQUENCE header, then version [0] v3 and the serial INTEGER of 16 bytes.
        let head = match tbs.get(..2) {
            Some([0x30, len]) if *len < 0x80 => 2,
            Some([0x30, len]) => 2 + usize::from(*len & 0x7f),
            _ => return Err(broken()),
        };
        let version_end = head + 5 + 2;
        if tbs.get(head..version_end) != Some(&[0xa0, 3, 2, 1, 2, 2, 16][..]) {
            return Err(broken());
        }
        let serial: [u8; 16] = tbs
            .get(version_end..version_end + 16)
            .and_then(|s| s.try_into().ok())
            .ok_or_else(broken)?;
        let mut name = Vec::new();
        common_name_der(&mut name, id.as_str().as_bytes());
        let name_at = find(&name)?;
        let point_at = find(&point)?;
        let key_id_at = find(&Sha1::digest(&point))?;
        let issued_at = version_end + 16;
        if !(issued_at < name_at
            && name_at + name.len() <= point_at
            && point_at + point_len <= key_id_at)
        {
            return Err(broken());
        }
        // The signature algorithm: the first element after the serial, repeated after the TBS.
        let algorithm_len = match tbs.get(issued_at..issued_at + 2) {
            Some([0x30, len]) if *len < 0x80 => 2 + *len as usize,
            _ => return Err(broken()),
        };
        let template = DeviceTemplate {
            version: tbs[head..version_end].to_vec(),
            issued: tbs[issued_at..name_at].to_vec(),
            key_info: tbs[name_at + name.len()..point_at].to_vec(),
            extensions: tbs[point_at + point_len..key_id_at].to_vec(),
            tail: tbs[key_id_at + 20..].to_vec(),
            algorithm: tbs[issued_at..issued_at + algorithm_len].to_vec(),
            point_len,
            ca_algorithm: self.key().algorithm(),
        };
        if template.to_be_signed(&id, &serial, &point)? != tbs {
            return Err(broken());
        }
        Ok(template)
    }
}

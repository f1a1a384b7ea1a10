//! A certificate's details read beside another's: a batch's devices are cut from one template
//! (issuer, validity, algorithms and most extensions the same bytes), so the page reads the first
//! device's certificate whole and each of the others only where they differ (serial, subject,
//! public key, key identifier). Whether they differ only there is checked on the bytes, element by
//! element; a certificate that differs anywhere else is read whole.

use der::Decode;
use x509_cert::name::Name;

use super::certificate::{common_name, describe_extension, display_name, serial_hex};
use super::der_in::{element, elements, Element};
use super::{Certificate, CertificateInfo, PkiError};

/// The extensions [`CertificateInfo`]'s flags are read from (basicConstraints, keyUsage,
/// extendedKeyUsage), as their OIDs' DER content: a sibling must have them as the known one has.
const FLAG_EXTENSIONS: [&[u8]; 3] = [
    &[0x55, 0x1d, 0x13],
    &[0x55, 0x1d, 0x0f],
    &[0x55, 0x1d, 0x25],
];

impl Certificate {
    /// What this certificate says, as [`Certificate::info`] would, read beside `known` (whose
    /// details are `known_info`): only the parts where the two differ are decoded. The same
    /// result as [`Certificate::info`] for any certificate; cheaper for one cut from the same
    /// template as `known` (a batch's devices).
    pub fn info_beside(
        &self,
        known: &Certificate,
        known_info: &CertificateInfo,
    ) -> Result<CertificateInfo, PkiError> {
        match beside(self, known.der(), known_info) {
            Some(info) => Ok(info),
            None => self.info(),
        }
    }
}

/// The TBSCertificate's elements (version, serial, signature algorithm, issuer, validity,
/// subject, subject public key info, extensions) and the signature algorithm after it.
fn parts(der: &[u8]) -> Option<(Vec<Element<'_>>, Element<'_>)> {
    let (outer, rest) = element(der).ok()?;
    if outer.tag != 0x30 || !rest.is_empty() {
        return None;
    }
    let mut top = elements(outer.value);
    let tbs = top.next()?.ok()?;
    let algorithm = top.next()?.ok()?;
    let fields = elements(tbs.value).collect::<Result<Vec<_>, _>>().ok()?;
    let tags: Vec<u8> = fields.iter().map(|e| e.tag).collect();
    (tags == [0xa0, 0x02, 0x30, 0x30, 0x30, 0x30, 0x30, 0xa3]).then_some((fields, algorithm))
}

/// Each extension of a TBSCertificate's `[3]` element: its OID's content and the whole element.
fn extensions<'a>(field: &Element<'a>) -> Option<Vec<(&'a [u8], &'a [u8])>> {
    let (list, rest) = element(field.value).ok()?;
    if list.tag != 0x30 || !rest.is_empty() {
        return None;
    }
    elements(list.value)
        .map(|ext| {
            let ext = ext.ok()?;
            let (oid, _) = element(ext.value).ok()?;
            (ext.tag == 0x30 && oid.tag == 0x06).then_some((oid.value, ext.whole))
        })
        .collect()
}

/// `known_info` with `cert`'s own parts, when it differs from `known` only in its
/// serial, subject, public key and extensions other than those the flags come from; `None`
/// otherwise (or when either does not read).
fn beside(
    cert: &Certificate,
    known: &[u8],
    known_info: &CertificateInfo,
) -> Option<CertificateInfo> {
    let der = cert.der();
    let ((mine, my_algorithm), (theirs, their_algorithm)) = (parts(der)?, parts(known)?);
    let same = |i: usize| mine[i].whole == theirs[i].whole;
    // Version, signature algorithm, issuer, validity; the key's algorithm; the outer algorithm.
    let (my_key, _) = element(mine[6].value).ok()?;
    let (their_key, _) = element(theirs[6].value).ok()?;
    if ![0, 2, 3, 4].into_iter().all(same)
        || my_key.whole != their_key.whole
        || my_algorithm.whole != their_algorithm.whole
    {
        return None;
    }
    let (my_extensions, their_extensions) = (extensions(&mine[7])?, extensions(&theirs[7])?);
    if my_extensions.len() != their_extensions.len()
        || known_info.extensions.len() != their_extensions.len()
    {
        return None;
    }
    let mut described = Vec::with_capacity(my_extensions.len());
    for (((oid, ext), (their_oid, their_ext)), known) in my_extensions
        .iter()
        .zip(&their_extensions)
        .zip(&known_info.extensions)
    {
        if ext == their_ext {
            described.push(known.clone());
        } else if oid == their_oid && !FLAG_EXTENSIONS.contains(oid) {
            let ext = x509_cert::ext::Extension::from_der(ext).ok()?;
            described.push(describe_extension(&ext));
        } else {
            return None;
        }
    }
    let subject = Name::from_der(mine[5].whole).ok()?;
    Some(CertificateInfo {
        subject: display_name(&subject),
        common_name: common_name(&subject),
        serial: serial_hex(mine[1].value),
        sha1: cert.sha1_thumbprint(),
        sha256: cert.sha256_thumbprint(),
        subject_public_key_info: mine[6].whole.to_vec(),
        extensions: described,
        ..known_info.clone()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::DeviceId;
    use crate::pki::{
        CertificateAuthority, DeviceCertParams, KeyAlgorithm, KeyPair, RootCaParams, ValidityDays,
    };
    use time::OffsetDateTime;

    /// A device certificate as a batch makes it: built unsigned, signed by the CA's key.
    fn device(ca: &CertificateAuthority, id: &str, days: u32, now: OffsetDateTime) -> Certificate {
        let key = KeyPair::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let params = DeviceCertParams {
            device_id: DeviceId::parse(id).unwrap(),
            validity: ValidityDays::new(days).unwrap(),
        };
        let point = rcgen::PublicKeyData::der_bytes(&key);
        let unsigned = ca
            .device_unsigned(&params, KeyAlgorithm::EcdsaP256, point, now)
            .unwrap();
        let signature = rcgen::SigningKey::sign(ca.key(), unsigned.to_be_signed()).unwrap();
        unsigned.signed(&signature).unwrap()
    }

    #[test]
    fn a_batch_sibling_is_read_where_it_differs_and_reads_as_a_whole_read_does() {
        let now = OffsetDateTime::now_utc();
        let ca = CertificateAuthority::create_root(&RootCaParams::default(), now).unwrap();
        let first = device(&ca, "bench-000001", 365, now);
        let first_info = first.info().unwrap();
        // Ids OpenSSL's DN form escapes, one of the longest, one of a single letter.
        for id in ["bench-000002", "a,b=c", "x", &"z".repeat(64)] {
            let other = device(&ca, id, 365, now);
            let read = beside(&other, first.der(), &first_info).expect(id);
            assert_eq!(read, other.info().unwrap(), "{id}");
            assert_eq!(read.common_name.as_deref(), Some(id));
            assert_ne!(read.sha256, first_info.sha256);
            assert_eq!(other.info_beside(&first, &first_info).unwrap(), read);
        }
    }

    #[test]
    fn a_certificate_that_differs_elsewhere_is_read_whole() {
        let now = OffsetDateTime::now_utc();
        let ca = CertificateAuthority::create_root(&RootCaParams::default(), now).unwrap();
        let other_ca = CertificateAuthority::create_root(
            &RootCaParams {
                common_name: "Another Root".into(),
                ..RootCaParams::default()
            },
            now,
        )
        .unwrap();
        let first = device(&ca, "d1", 365, now);
        let first_info = first.info().unwrap();
        // The same name, another key: only the authority key identifier and the signature
        // differ, so it reads beside (and reads as a whole read does, below).
        let same_name = CertificateAuthority::create_root(&RootCaParams::default(), now).unwrap();
        let twin = device(&same_name, "d2", 365, now);
        assert!(beside(&twin, first.der(), &first_info).is_some());
        assert_eq!(
            twin.info_beside(&first, &first_info).unwrap(),
            twin.info().unwrap()
        );
        let differing = [
            // Another validity, another issuer, a CA, a different kind of certificate.
            device(&ca, "d2", 30, now),
            device(&ca, "d2", 365, now + time::Duration::days(1)),
            device(&other_ca, "d2", 365, now),
            ca.certificate().clone(),
            other_ca.certificate().clone(),
        ];
        for (i, other) in differing.iter().enumerate() {
            assert!(beside(other, first.der(), &first_info).is_none(), "{i}");
            assert_eq!(
                other.info_beside(&first, &first_info).unwrap(),
                other.info().unwrap()
            );
        }
        // What the known certificate is said to hold must match it extension for extension.
        let mut fewer = first_info.clone();
        fewer.extensions.pop();
        let sibling = device(&ca, "d3", 365, now);
        assert!(beside(&sibling, first.der(), &fewer).is_none());
        assert_eq!(
            sibling.info_beside(&first, &fewer).unwrap(),
            sibling.info().unwrap()
        );
        // Bytes that are not a certificate beside it: none read.
        assert!(beside(&sibling, &first.der()[..40], &first_info).is_none());
    }
}

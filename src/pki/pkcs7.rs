//! PKCS#7 / CMS certificate bundles (`.p7b`, `.p7c`), as Windows exports a chain and
//! `openssl crl2pkcs7 -nocrl` writes one: a SignedData with certificates and no signers.

use cms::content_info::ContentInfo;
use cms::signed_data::SignedData;
use der::{Decode, Encode};

use super::oid::OID_SIGNED_DATA;
use super::{Certificate, PkiError};

fn invalid(detail: impl Into<String>) -> PkiError {
    PkiError::CertificateInvalid {
        detail: detail.into(),
    }
}

/// Whether `der` is a CMS ContentInfo (the outer shape of a `.p7b`).
pub(super) fn looks_like_pkcs7(der: &[u8]) -> bool {
    ContentInfo::from_der(der).is_ok_and(|ci| ci.content_type == OID_SIGNED_DATA)
}

/// The certificates of a PKCS#7 bundle, PEM (`-----BEGIN PKCS7-----`) or DER, in file order.
pub fn read_pkcs7(bytes: &[u8]) -> Result<Vec<Certificate>, PkiError> {
    let der = match std::str::from_utf8(bytes).map(str::trim) {
        Ok(text) if text.starts_with("-----BEGIN") => {
            let block = pem::parse(text).map_err(|e| PkiError::PemInvalid {
                expected: "PKCS7",
                detail: e.to_string(),
            })?;
            if block.tag() != "PKCS7" && block.tag() != "CMS" {
                return Err(PkiError::PemInvalid {
                    expected: "PKCS7",
                    detail: format!("found {}", block.tag()),
                });
            }
            block.into_contents()
        }
        _ => bytes.to_vec(),
    };
    let ci =
        ContentInfo::from_der(&der).map_err(|e| invalid(format!("not a PKCS#7 bundle ({e})")))?;
    if ci.content_type != OID_SIGNED_DATA {
        return Err(invalid(format!(
            "a PKCS#7 file of type {}, not a certificate bundle (signedData)",
            ci.content_type
        )));
    }
    let sd: SignedData = ci
        .content
        .decode_as()
        .map_err(|e| invalid(format!("its SignedData is damaged ({e})")))?;
    let certs: Vec<Certificate> = sd
        .certificates
        .map(|set| set.0.into_vec())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|c| match c {
            cms::cert::CertificateChoices::Certificate(c) => Some(c),
            _ => None,
        })
        .map(|c| {
            c.to_der()
                .map_err(|e| invalid(e.to_string()))
                .and_then(Certificate::from_der)
        })
        .collect::<Result<_, _>>()?;
    if certs.is_empty() {
        return Err(invalid("this PKCS#7 bundle holds no certificates"));
    }
    Ok(chain_order(certs))
}

/// A bundle's certificates leaf first, each followed by its issuer, when they form one chain
/// (a SET OF has no order of its own); otherwise as they came.
fn chain_order(certs: Vec<Certificate>) -> Vec<Certificate> {
    let infos: Vec<_> = certs.iter().map(|c| c.info().ok()).collect();
    let subject = |i: usize| infos[i].as_ref().map(|x| x.subject.clone());
    let issuer = |i: usize| infos[i].as_ref().map(|x| x.issuer.clone());
    // The leaf: issuer of none of the others.
    let leaf = (0..certs.len()).find(|&i| {
        (0..certs.len()).all(|j| j == i || issuer(j) != subject(i) || issuer(j) == subject(j))
    });
    let Some(mut at) = leaf else {
        return certs;
    };
    let mut order = vec![at];
    while order.len() < certs.len() {
        let next = (0..certs.len()).find(|&j| !order.contains(&j) && subject(j) == issuer(at));
        match next {
            Some(j) => {
                order.push(j);
                at = j;
            }
            None => return certs,
        }
    }
    let mut slots: Vec<Option<Certificate>> = certs.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}

/// A certificates-only PKCS#7 bundle (DER) of `certs`, as `openssl crl2pkcs7 -nocrl` writes.
pub fn write_pkcs7(certs: &[Certificate]) -> Result<Vec<u8>, PkiError> {
    let path = certs
        .iter()
        .map(|c| x509_cert::Certificate::from_der(c.der()).map_err(|e| invalid(e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    ContentInfo::try_from(path)
        .and_then(|ci| ci.to_der())
        .map_err(|e| invalid(format!("the PKCS#7 bundle could not be written ({e})")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::{CertificateAuthority, RootCaParams};

    #[test]
    fn a_bundle_written_here_reads_back_in_pem_and_der() {
        let now = time::OffsetDateTime::now_utc();
        let a = CertificateAuthority::create_root(&RootCaParams::default(), now).unwrap();
        let b = CertificateAuthority::create_root(&RootCaParams::default(), now).unwrap();
        let certs = vec![a.certificate().clone(), b.certificate().clone()];
        let der = write_pkcs7(&certs).unwrap();
        assert!(looks_like_pkcs7(&der));
        let mut back: Vec<_> = read_pkcs7(&der)
            .unwrap()
            .iter()
            .map(|c| c.der().to_vec())
            .collect();
        let mut want: Vec<_> = certs.iter().map(|c| c.der().to_vec()).collect();
        back.sort();
        want.sort();
        assert_eq!(back, want);
        let pem = pem::encode(&pem::Pem::new("PKCS7", der));
        assert_eq!(read_pkcs7(pem.as_bytes()).unwrap().len(), 2);
        assert!(read_pkcs7(b"\x30\x03\x02\x01\x00").is_err());
        assert!(!looks_like_pkcs7(a.certificate().der()));
    }
}

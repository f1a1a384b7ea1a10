//! PKCS#7 / CMS certificate bundles (`.p7b`, `.p7c`), as Windows exports a chain and
//! `openssl crl2pkcs7 -nocrl` writes one: a SignedData with certificates and no signers.

use std::collections::HashSet;

use cms::cert::CertificateChoices;
use cms::content_info::{CmsVersion, ContentInfo};
use cms::revocation::RevocationInfoChoices;
use cms::signed_data::{CertificateSet, EncapsulatedContentInfo, SignedData, SignerInfos};
use der::asn1::SetOfVec;
use der::{Any, Decode, Encode};

use super::der_in::{element, elements, Element};
use super::oid::{OID_DATA, OID_SIGNED_DATA};
use super::order::BySubject;
use super::{Certificate, PkiError};

fn invalid(detail: impl Into<String>) -> PkiError {
    PkiError::CertificateInvalid {
        detail: detail.into(),
    }
}

/// The content type's OID bytes and the content of a ContentInfo (one DER element of
/// SEQUENCE { OID, [0] EXPLICIT content }); why not when `der` is not one.
fn content_info(der: &[u8]) -> Result<(&[u8], Element<'_>), String> {
    let (outer, after) = element(der)?;
    let (oid, rest) = element(outer.value)?;
    if outer.tag != 0x30 || oid.tag != 0x06 {
        return Err("its outer shape is not a CMS ContentInfo".into());
    }
    if !after.is_empty() {
        return Err("something follows its ContentInfo".into());
    }
    let (content, _) = element(rest)?;
    if content.tag != 0xa0 {
        return Err("its content is missing".into());
    }
    Ok((oid.value, content))
}

/// Whether `der` is a CMS ContentInfo of signed data (the outer shape of a `.p7b`).
pub(super) fn looks_like_pkcs7(der: &[u8]) -> bool {
    content_info(der).is_ok_and(|(oid, _)| oid == OID_SIGNED_DATA.as_bytes())
}

/// The certificates' DER in a SignedData (`SEQUENCE { version, digestAlgorithms,
/// encapContentInfo, certificates [0] IMPLICIT SET OF CertificateChoices OPTIONAL, … }`), in file
/// order; the other choices (attribute certificates and the like) are left out.
fn signed_data_certificates(content: &[u8]) -> Result<Vec<&[u8]>, String> {
    let (sd, _) = element(content)?;
    if sd.tag != 0x30 {
        return Err("its SignedData is not a SEQUENCE".into());
    }
    let (version, rest) = element(sd.value)?;
    let (digests, rest) = element(rest)?;
    let (encapsulated, rest) = element(rest)?;
    if version.tag != 0x02 || digests.tag != 0x31 || encapsulated.tag != 0x30 {
        return Err(
            "its SignedData does not start with a version, digest algorithms and content".into(),
        );
    }
    let mut certificates = Vec::new();
    if let Ok((set, _)) = element(rest) {
        if set.tag == 0xa0 {
            for choice in elements(set.value) {
                let choice = choice?;
                if choice.tag == 0x30 {
                    certificates.push(choice.whole);
                }
            }
        }
    }
    Ok(certificates)
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
    let (content_type, content) =
        content_info(&der).map_err(|e| invalid(format!("not a PKCS#7 bundle ({e})")))?;
    if content_type != OID_SIGNED_DATA.as_bytes() {
        let oid = der::asn1::ObjectIdentifier::from_bytes(content_type)
            .map_or_else(|_| "unknown".to_owned(), |o| o.to_string());
        return Err(invalid(format!(
            "a PKCS#7 file of type {oid}, not a certificate bundle (signedData)"
        )));
    }
    let certs: Vec<Certificate> = signed_data_certificates(content.value)
        .map_err(|e| invalid(format!("its SignedData is damaged ({e})")))?
        .into_iter()
        .map(|der| Certificate::from_der(der.to_vec()))
        .collect::<Result<_, _>>()?;
    if certs.is_empty() {
        return Err(invalid("this PKCS#7 bundle holds no certificates"));
    }
    Ok(chain_order(certs))
}

/// A bundle's certificates leaf first, each followed by its issuer, when they form one chain
/// (a SET OF has no order of its own); otherwise as they came. The leaf is the first
/// certificate that no other (but a self-issued one) names as its issuer; each next one is the
/// first not yet placed whose subject is the issuer of the one before. Linear: each certificate
/// is read once and issuers are found through a map by subject.
fn chain_order(certs: Vec<Certificate>) -> Vec<Certificate> {
    let infos: Vec<_> = certs.iter().map(|c| c.info().ok()).collect();
    let subject = |i: usize| infos[i].as_ref().map(|x| x.subject.as_str());
    let issuer = |i: usize| infos[i].as_ref().map(|x| x.issuer.as_str());
    // Every name that some certificate, not self-issued, names as its issuer.
    let named_as_issuer: HashSet<&str> = infos
        .iter()
        .flatten()
        .filter(|x| x.issuer != x.subject)
        .map(|x| x.issuer.as_str())
        .collect();
    let leaf = (0..certs.len()).find(|&i| subject(i).is_none_or(|s| !named_as_issuer.contains(s)));
    let Some(mut at) = leaf else {
        return certs;
    };
    let mut by_subject = BySubject::new((0..certs.len()).map(subject));
    let mut taken = vec![false; certs.len()];
    taken[at] = true;
    let mut order = vec![at];
    while order.len() < certs.len() {
        let next = by_subject.untaken(issuer(at), &taken).next();
        match next {
            Some(j) => {
                taken[j] = true;
                order.push(j);
                at = j;
            }
            None => return certs,
        }
    }
    let mut slots: Vec<Option<Certificate>> = certs.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}

/// A certificates-only PKCS#7 bundle (DER) of `certs`, as `openssl crl2pkcs7 -nocrl` writes
/// (and as `cms`'s own conversion from a certificate path writes, byte for byte; that one sorts
/// its SET OF again after each certificate, quadratic for a long chain: here it is sorted once).
pub fn write_pkcs7(certs: &[Certificate]) -> Result<Vec<u8>, PkiError> {
    let mut sorted: Vec<&Certificate> = certs.iter().collect();
    // In DER order already (near enough), so the SET OF's own sort finds little to do.
    sorted.sort_by(|a, b| a.der().cmp(b.der()));
    let choices = sorted
        .into_iter()
        .map(|c| {
            x509_cert::Certificate::from_der(c.der())
                .map(CertificateChoices::Certificate)
                .map_err(|e| invalid(e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let unwritable =
        |e: der::Error| invalid(format!("the PKCS#7 bundle could not be written ({e})"));
    // An empty CRL set rather than none, as OpenSSL writes.
    let signed = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: SetOfVec::default(),
        encap_content_info: EncapsulatedContentInfo {
            econtent_type: OID_DATA,
            econtent: None,
        },
        certificates: Some(CertificateSet(
            SetOfVec::try_from(choices).map_err(unwritable)?,
        )),
        crls: Some(RevocationInfoChoices(SetOfVec::default())),
        signer_infos: SignerInfos(SetOfVec::default()),
    };
    ContentInfo {
        content_type: OID_SIGNED_DATA,
        content: Any::encode_from(&signed).map_err(unwritable)?,
    }
    .to_der()
    .map_err(unwritable)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::{CertificateAuthority, RootCaParams};

    /// The ordering as it was before it used maps (cubic): the reference the new one must match.
    fn chain_order_before(certs: Vec<Certificate>) -> Vec<Certificate> {
        let infos: Vec<_> = certs.iter().map(|c| c.info().ok()).collect();
        let subject = |i: usize| infos[i].as_ref().map(|x| x.subject.clone());
        let issuer = |i: usize| infos[i].as_ref().map(|x| x.issuer.clone());
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

    fn root(cn: &str) -> CertificateAuthority {
        let params = RootCaParams {
            common_name: cn.into(),
            ..RootCaParams::default()
        };
        CertificateAuthority::create_root(&params, issued_at()).unwrap()
    }

    /// One instant for every CA of a test: made a second apart, an intermediate would outlive its
    /// root by that second and be refused.
    fn issued_at() -> time::OffsetDateTime {
        time::OffsetDateTime::from_unix_timestamp(1_790_000_000).unwrap()
    }

    fn below(ca: &CertificateAuthority, cn: &str) -> CertificateAuthority {
        let params = crate::pki::IntermediateCaParams {
            subject: RootCaParams {
                common_name: cn.into(),
                ..RootCaParams::default()
            },
            path_len: None,
        };
        ca.issue_intermediate(&params, issued_at()).unwrap()
    }

    #[test]
    fn bundles_are_ordered_as_before_in_every_order_with_ties_loops_and_strays() {
        let r = root("R");
        let a = below(&r, "A");
        let b = below(&a, "B");
        let leaf = below(&b, "L");
        // A second "A" (a tie: same subject, another CA), a loop (X issued by Y, Y by X) and a
        // stray root.
        let x_root = root("X");
        let y_root = root("Y");
        let a2 = below(&y_root, "A");
        let y_by_x = below(&x_root, "Y");
        let x_by_y = below(&y_root, "X");
        let stray = root("S");
        let c = |ca: &CertificateAuthority| ca.certificate().clone();
        let sets = [
            vec![c(&leaf), c(&b), c(&a), c(&r)],
            vec![c(&leaf), c(&b), c(&a), c(&a2), c(&r)],
            vec![c(&leaf), c(&b), c(&a), c(&stray)],
            vec![c(&y_by_x), c(&x_by_y)],
            vec![
                c(&y_by_x),
                c(&x_by_y),
                below(&y_root, "M").certificate().clone(),
            ],
            vec![c(&leaf), c(&a), c(&r)],
            vec![c(&r), c(&stray), c(&x_root)],
            vec![c(&b), c(&a), c(&a2), c(&x_by_y), c(&y_by_x)],
        ];
        let mut chained = 0;
        for set in &sets {
            // Written as cms's own conversion writes it, in any order given.
            let path = |certs: &[Certificate]| {
                certs
                    .iter()
                    .map(|c| x509_cert::Certificate::from_der(c.der()).unwrap())
                    .collect::<Vec<_>>()
            };
            let mut reversed = set.clone();
            reversed.reverse();
            for order in [set.clone(), reversed] {
                assert_eq!(
                    write_pkcs7(&order).unwrap(),
                    ContentInfo::try_from(path(&order))
                        .unwrap()
                        .to_der()
                        .unwrap()
                );
            }
            for p in crate::pki::testing::permutations(set) {
                let want = chain_order_before(p.clone());
                if want != p {
                    chained += 1;
                }
                assert_eq!(chain_order(p), want);
            }
        }
        // Put in order: every order of the plain chain but the right one, and 5 of the 6 orders
        // of the loop with a leaf below it; the other sets do not form one chain and stay.
        assert_eq!(chained, 23 + 5);
        // A plain chain shuffled comes out leaf first.
        let got = chain_order(vec![c(&a), c(&r), c(&leaf), c(&b)]);
        assert_eq!(got, [c(&leaf), c(&b), c(&a), c(&r)]);
    }

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
        // What cms's own conversion writes, byte for byte (in any order given).
        for order in [certs.clone(), vec![certs[1].clone(), certs[0].clone()]] {
            let path = order
                .iter()
                .map(|c| x509_cert::Certificate::from_der(c.der()).unwrap())
                .collect::<Vec<_>>();
            assert_eq!(
                write_pkcs7(&order).unwrap(),
                ContentInfo::try_from(path).unwrap().to_der().unwrap()
            );
        }
        let pem = pem::encode(&pem::Pem::new("PKCS7", der));
        assert_eq!(read_pkcs7(pem.as_bytes()).unwrap().len(), 2);
        assert!(read_pkcs7(b"\x30\x03\x02\x01\x00").is_err());
        assert!(!looks_like_pkcs7(a.certificate().der()));
    }
}

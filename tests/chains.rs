//! Intermediate CAs: root → device, root → intermediate → device and root → two intermediates →
//! device, each verified by OpenSSL 3 (`-untrusted` intermediates) and by rustls-webpki for client
//! auth; pathLen is written and enforced; chain.pem is in the seed's order.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::*;
use hubcert::pki::{CertificateAuthority, IntermediateCaParams, PkiError, RootCaParams};

fn intermediate(
    issuer: &CertificateAuthority,
    cn: &str,
    path_len: Option<u8>,
) -> Result<CertificateAuthority, PkiError> {
    issuer.issue_intermediate(
        &IntermediateCaParams {
            subject: RootCaParams {
                common_name: cn.into(),
                validity: hubcert::pki::ValidityDays::new(1825).unwrap(),
                ..RootCaParams::default()
            },
            path_len,
        },
        now(),
    )
}

/// `openssl verify -CAfile root -untrusted chain leaf`.
fn openssl_chain(dir: &Scratch, root: &CertificateAuthority, chain: &str, leaf: &str) -> Run {
    let root = dir.write("root.pem", root.certificate().pem());
    let chain = dir.write("untrusted.pem", chain);
    let leaf = dir.write("leaf.pem", leaf);
    openssl_verify_chain(&root, &chain, &leaf)
}

#[test]
fn every_chain_shape_verifies_with_openssl_and_webpki() {
    let r = root();
    let one = intermediate(&r, "Intermediate One", None).unwrap();
    let two = intermediate(&one, "Intermediate Two", Some(0)).unwrap();
    let dir = Scratch::new();

    // root → device
    let d0 = device(&r, "chain-0", 365);
    assert!(webpki_client_auth(r.certificate().der(), &[], d0.certificate.der()).is_ok());
    assert_eq!(r.chain_pem(), r.certificate().pem());
    assert!(r.is_root() && r.issuers().is_empty());

    // root → intermediate → device
    let d1 = device(&one, "chain-1", 365);
    let run = openssl_chain(&dir, &r, &one.certificate().pem(), &d1.certificate.pem());
    assert!(run.ok, "{}{}", run.stdout, run.stderr);
    assert!(webpki_client_auth(
        r.certificate().der(),
        &[one.certificate().der()],
        d1.certificate.der()
    )
    .is_ok());
    // Without the intermediate, neither accepts it.
    let run = openssl_verify(
        &dir.write("r.pem", r.certificate().pem()),
        &dir.write("d1.pem", d1.certificate.pem()),
    );
    assert!(!run.ok);
    assert!(webpki_client_auth(r.certificate().der(), &[], d1.certificate.der()).is_err());

    // root → intermediate → intermediate → device; chain.pem = two, one, root.
    let d2 = device(&two, "chain-2", 365);
    let chain = two.chain_pem();
    assert_eq!(
        chain,
        format!(
            "{}{}{}",
            two.certificate().pem(),
            one.certificate().pem(),
            r.certificate().pem()
        )
    );
    let run = openssl_chain(&dir, &r, &chain, &d2.certificate.pem());
    assert!(run.ok, "{}{}", run.stdout, run.stderr);
    assert!(webpki_client_auth(
        r.certificate().der(),
        &[two.certificate().der(), one.certificate().der()],
        d2.certificate.der()
    )
    .is_ok());
    assert_eq!(two.issuers().len(), 2);
}

#[test]
fn intermediates_carry_ca_extensions_path_len_and_the_issuers_key_id() {
    let r = root();
    let one = intermediate(&r, "Intermediate One", Some(1)).unwrap();
    let dir = Scratch::new();
    let text = openssl_text(&dir.write("one.pem", one.certificate().pem()));
    assert_eq!(
        extension_block(&text, "X509v3 Basic Constraints"),
        Some(("X509v3 Basic Constraints: critical", "CA:TRUE, pathlen:1"))
    );
    assert_eq!(
        extension_block(&text, "X509v3 Key Usage"),
        Some((
            "X509v3 Key Usage: critical",
            "Digital Signature, Certificate Sign, CRL Sign"
        ))
    );
    assert!(
        text.contains("Issuer: C = US, O = MyOrg, CN = IoT Root CA"),
        "{text}"
    );
    // AKI of the intermediate = SKI of the root; AKI of its device = SKI of the intermediate.
    let ski = |t: &str| {
        extension_block(t, "X509v3 Subject Key Identifier")
            .unwrap()
            .1
            .to_owned()
    };
    let aki = |t: &str| {
        extension_block(t, "X509v3 Authority Key Identifier")
            .unwrap()
            .1
            .trim_start_matches("keyid:")
            .to_owned()
    };
    let root_text = openssl_text(&dir.write("root.pem", r.certificate().pem()));
    assert_eq!(aki(&text), ski(&root_text));
    let dev = device(&one, "aki-dev", 30);
    let dev_text = openssl_text(&dir.write("dev.pem", dev.certificate.pem()));
    assert_eq!(aki(&dev_text), ski(&text));
}

#[test]
fn path_len_and_lifetime_are_enforced_when_issuing() {
    let r = root();
    let last = intermediate(&r, "Last CA", Some(0)).unwrap();
    let err = intermediate(&last, "Too Deep", None).unwrap_err();
    assert!(matches!(err, PkiError::PathLenExhausted { .. }));
    assert!(
        err.to_string().contains("Last CA may not sign another CA"),
        "{err}"
    );
    // A device under a pathLen 0 CA is fine.
    let d = device(&last, "deep-device", 30);
    assert!(webpki_client_auth(
        r.certificate().der(),
        &[last.certificate().der()],
        d.certificate.der()
    )
    .is_ok());
    // An intermediate may not outlive the root (3650 days).
    let long = r.issue_intermediate(
        &IntermediateCaParams {
            subject: RootCaParams {
                common_name: "Long".into(),
                validity: hubcert::pki::ValidityDays::new(4000).unwrap(),
                ..RootCaParams::default()
            },
            path_len: None,
        },
        now(),
    );
    assert!(matches!(long, Err(PkiError::ValidityExceedsIssuer { .. })));
    // An empty CN is refused as for a root.
    assert!(matches!(
        intermediate(&r, "  ", None),
        Err(PkiError::FieldEmpty { .. })
    ));
}

#[test]
fn p384_roots_and_mixed_chains_verify_with_openssl_and_webpki() {
    use hubcert::pki::{KeyAlgorithm, KeyPair};
    let r = CertificateAuthority::create_root(
        &RootCaParams {
            common_name: "P-384 Root".into(),
            key_algorithm: KeyAlgorithm::EcdsaP384,
            ..RootCaParams::default()
        },
        now(),
    )
    .unwrap();
    assert_eq!(r.key().algorithm(), KeyAlgorithm::EcdsaP384);
    let dir = Scratch::new();
    let text = openssl_text(&dir.write("root384.pem", r.certificate().pem()));
    assert!(
        text.contains("secp384r1") && text.contains("ecdsa-with-SHA384"),
        "{text}"
    );
    assert_eq!(r.certificate().info().unwrap().key_type, "ECDSA P-384");
    // The key round-trips through PKCS#8, and OpenSSL reads it as the certificate's key.
    let pem = r.key().to_pkcs8_pem().unwrap();
    let back = KeyPair::from_pkcs8_pem(&pem).unwrap();
    assert_eq!(back.algorithm(), KeyAlgorithm::EcdsaP384);
    assert_eq!(
        back.subject_public_key_info_der(),
        r.certificate().info().unwrap().subject_public_key_info
    );
    let key_path = dir.write("root384.key", pem.as_bytes());
    let from_key = openssl(&["pkey", "-in", path_str(&key_path), "-pubout"]);
    let from_cert = openssl(&[
        "x509",
        "-in",
        path_str(&dir.path().join("root384.pem")),
        "-noout",
        "-pubkey",
    ]);
    assert!(from_key.ok && from_cert.ok);
    assert_eq!(from_key.stdout, from_cert.stdout);

    // P-384 root → P-384 intermediate → P-256 device (signed with SHA-384).
    let one = r
        .issue_intermediate(
            &IntermediateCaParams {
                subject: RootCaParams {
                    common_name: "P-384 Intermediate".into(),
                    validity: hubcert::pki::ValidityDays::new(1000).unwrap(),
                    key_algorithm: KeyAlgorithm::EcdsaP384,
                    ..RootCaParams::default()
                },
                path_len: Some(0),
            },
            now(),
        )
        .unwrap();
    let d = device(&one, "mixed-device", 365);
    let run = openssl_chain(&dir, &r, &one.certificate().pem(), &d.certificate.pem());
    assert!(run.ok, "{}{}", run.stdout, run.stderr);
    assert!(webpki_client_auth(
        r.certificate().der(),
        &[one.certificate().der()],
        d.certificate.der()
    )
    .is_ok());
    let dev_text = openssl_text(&dir.write("mixed.pem", d.certificate.pem()));
    assert!(
        dev_text.contains("ecdsa-with-SHA384") && dev_text.contains("prime256v1"),
        "{dev_text}"
    );
}

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

/// For each key type and chain shape: OpenSSL and webpki verify the device, and the inspector's
/// chain checks pass on the chain in order and name what is wrong out of order or cut short.
#[test]
fn every_key_type_and_chain_shape_verifies_and_the_chain_checks_agree() {
    use hubcert::contract::DeviceId;
    use hubcert::pki::{chain_checks, DeviceCertParams, KeyAlgorithm, ValidityDays};
    let dir = Scratch::new();
    for key in [
        KeyAlgorithm::EcdsaP256,
        KeyAlgorithm::EcdsaP384,
        KeyAlgorithm::RSA_2048,
    ] {
        let root = CertificateAuthority::create_root(
            &RootCaParams {
                key_algorithm: key,
                ..RootCaParams::default()
            },
            now(),
        )
        .unwrap();
        let sub = |issuer: &CertificateAuthority, cn: &str, path_len| {
            issuer
                .issue_intermediate(
                    &IntermediateCaParams {
                        subject: RootCaParams {
                            common_name: cn.into(),
                            validity: hubcert::pki::ValidityDays::new(1000).unwrap(),
                            key_algorithm: key,
                            ..RootCaParams::default()
                        },
                        path_len,
                    },
                    now(),
                )
                .unwrap()
        };
        let one = sub(&root, "Matrix One", Some(1));
        let two = sub(&one, "Matrix Two", Some(0));
        for (shape, signer) in [
            ("root → device", &root),
            ("one intermediate", &one),
            ("two intermediates", &two),
        ] {
            let what = format!("{key} / {shape}");
            let dev = signer
                .issue_device_identity(
                    &DeviceCertParams {
                        device_id: DeviceId::parse("matrix-dev").unwrap(),
                        validity: ValidityDays::new(100).unwrap(),
                    },
                    key,
                    now(),
                )
                .unwrap();
            let inters: Vec<&[u8]> = signer.issuers()[..signer.issuers().len().saturating_sub(1)]
                .iter()
                .map(|c| c.der())
                .chain((!signer.is_root()).then(|| signer.certificate().der()))
                .collect();
            // webpki wants the intermediates; order does not matter to it.
            webpki_client_auth(root.certificate().der(), &inters, dev.certificate.der())
                .unwrap_or_else(|e| panic!("{what}: {e:?}"));
            let untrusted = if signer.is_root() {
                String::new()
            } else {
                signer.chain_pem().replace(&root.certificate().pem(), "")
            };
            let run = openssl_verify_chain(
                &dir.write("root.pem", root.certificate().pem()),
                &dir.write(
                    "untrusted.pem",
                    if untrusted.is_empty() {
                        root.certificate().pem()
                    } else {
                        untrusted
                    },
                ),
                &dir.write("dev.pem", dev.certificate.pem()),
            );
            assert!(run.ok, "{what}: {}{}", run.stdout, run.stderr);

            // The chain as a fullchain file with the root: every check passes.
            let mut chain = vec![dev.certificate.clone()];
            if !signer.is_root() {
                chain.push(signer.certificate().clone());
                chain.extend(signer.issuers().iter().cloned());
            } else {
                chain.push(root.certificate().clone());
            }
            let checks = chain_checks(&chain, now()).unwrap();
            assert!(checks.iter().all(|c| c.passed), "{what}: {checks:#?}");
            // Cut short (no root): only "Ends at a root" fails.
            let failed: Vec<_> = chain_checks(&chain[..chain.len() - 1], now())
                .unwrap()
                .into_iter()
                .filter(|c| !c.passed)
                .map(|c| c.label)
                .collect();
            assert_eq!(failed, vec!["Ends at a root"], "{what}");
            // Reversed: the links are named as out of order.
            let mut reversed = chain.clone();
            reversed.reverse();
            let checks = chain_checks(&reversed, now()).unwrap();
            assert!(
                checks
                    .iter()
                    .any(|c| !c.passed && c.label == "Each certificate is followed by its issuer"),
                "{what}"
            );
        }
    }
    // pathLen broken on purpose with OpenSSL (this tool refuses to make it): root → A
    // (pathlen:0) → B (CA) → leaf. OpenSSL refuses it, and the chain checks name A.
    let o = |args: &[&str]| {
        let run = openssl(args);
        assert!(run.ok, "{args:?}: {}", run.stderr);
    };
    let p = |n: &str| path_str(&dir.path().join(n)).to_owned();
    let ext = dir.write("ext.cnf", "[ca0]\nbasicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n[ca]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n[leaf]\nbasicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n");
    openssl_self_signed(&dir, "r", "ec:P-256", "/CN=PL Root", 30, &[]);
    let mut prev = ("r.pem", "r.key");
    for (name, section) in [("a", "ca0"), ("b", "ca"), ("l", "leaf")] {
        let (key, csr, pem) = (
            format!("{name}.key"),
            format!("{name}.csr"),
            format!("{name}.pem"),
        );
        o(&[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            &p(&key),
            "-out",
            &p(&csr),
            "-subj",
            &format!("/CN=PL {name}"),
        ]);
        o(&[
            "x509",
            "-req",
            "-in",
            &p(&csr),
            "-CA",
            &p(prev.0),
            "-CAkey",
            &p(prev.1),
            "-CAcreateserial",
            "-days",
            "20",
            "-extfile",
            path_str(&ext),
            "-extensions",
            section,
            "-out",
            &p(&pem),
        ]);
        prev = (
            Box::leak(pem.into_boxed_str()),
            Box::leak(key.into_boxed_str()),
        );
    }
    let read = |n: &str| {
        hubcert::pki::Certificate::from_pem(&std::fs::read_to_string(dir.path().join(n)).unwrap())
            .unwrap()
    };
    let chain = [read("l.pem"), read("b.pem"), read("a.pem"), read("r.pem")];
    let untrusted = dir.write("ab.pem", format!("{}{}", chain[1].pem(), chain[2].pem()));
    let run = openssl(&[
        "verify",
        "-CAfile",
        &p("r.pem"),
        "-untrusted",
        path_str(&untrusted),
        &p("l.pem"),
    ]);
    assert!(!run.ok, "OpenSSL accepted a pathLen violation");
    let failed: Vec<_> = chain_checks(&chain, time::OffsetDateTime::now_utc())
        .unwrap()
        .into_iter()
        .filter(|c| !c.passed)
        .map(|c| c.detail)
        .collect();
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert!(
        failed[0].contains("\"PL a\" has pathLen 0 but 1 CA(s) below it"),
        "{failed:#?}"
    );
}

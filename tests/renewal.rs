//! Renewal: device certificates issued again with the device's own key (taken from the current
//! certificate) or a new one, intermediates and roots issued again with their key, checked by
//! OpenSSL 3 and rustls-webpki: renewed certificates verify, keep the key where asked, and what the
//! old CA signed still chains to the renewed one (and the other way round).
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::*;
use hubcert::pki::{
    due_for_renewal, same_public_key, Certificate, CertificateAuthority, KeyAlgorithm, KeyPair,
    PkiError, RenewKey, ValidityDays,
};
use time::Duration;

fn pubkey_of(dir: &Scratch, name: &str, cert: &Certificate) -> String {
    let path = dir.write(name, cert.pem());
    let run = openssl(&["x509", "-in", path_str(&path), "-noout", "-pubkey"]);
    assert!(run.ok, "{}", run.stderr);
    run.stdout
}

#[test]
fn a_device_renewed_with_its_own_key_keeps_the_key_and_verifies() {
    let dir = Scratch::new();
    for key in [
        KeyAlgorithm::EcdsaP256,
        KeyAlgorithm::EcdsaP384,
        KeyAlgorithm::Rsa(2048),
    ] {
        let (root, inter) = root_and_intermediate(key, "Renewal");
        let old = device(&inter, "renew-me-01", 30);
        let renewed = inter
            .renew_device(
                &old.certificate,
                RenewKey::Same,
                ValidityDays::new(365).unwrap(),
                now(),
            )
            .unwrap();
        assert!(renewed.new_key.is_none());
        assert_eq!(renewed.device_id.as_str(), "renew-me-01");
        let (a, b) = (
            old.certificate.info().unwrap(),
            renewed.certificate.info().unwrap(),
        );
        assert_eq!(a.subject, b.subject);
        assert_ne!(a.serial, b.serial, "a renewal is a new certificate");
        assert!(b.not_after > a.not_after + Duration::days(300));
        assert!(b.client_auth && !b.is_ca);
        assert!(same_public_key(&renewed.certificate, &old.key).unwrap());
        assert_eq!(
            pubkey_of(&dir, "old.pem", &old.certificate),
            pubkey_of(&dir, "new.pem", &renewed.certificate),
            "{key:?}: OpenSSL reads the same public key in both"
        );
        let root_path = dir.write("root.pem", root.certificate().pem());
        let chain = dir.write("inter.pem", inter.certificate().pem());
        let leaf = dir.write("renewed.pem", renewed.certificate.pem());
        let run = openssl_verify_chain(&root_path, &chain, &leaf);
        assert!(run.ok, "{key:?}: {}{}", run.stdout, run.stderr);
        webpki_client_auth(
            root.certificate().der(),
            &[inter.certificate().der()],
            renewed.certificate.der(),
        )
        .unwrap();
    }
}

#[test]
fn a_device_renewed_with_a_new_key_gets_that_key() {
    let ca = root();
    let old = device(&ca, "rekey-01", 30);
    let renewed = ca
        .renew_device(
            &old.certificate,
            RenewKey::New(KeyAlgorithm::EcdsaP384),
            ValidityDays::new(90).unwrap(),
            now(),
        )
        .unwrap();
    let key = renewed.new_key.expect("a new key");
    assert_eq!(key.algorithm(), KeyAlgorithm::EcdsaP384);
    assert!(same_public_key(&renewed.certificate, &key).unwrap());
    assert!(!same_public_key(&renewed.certificate, &old.key).unwrap());
    // OpenSSL agrees the key file belongs to the certificate.
    let dir = Scratch::new();
    let cert = dir.write("c.pem", renewed.certificate.pem());
    let key_path = dir.write("c.key", key.to_pkcs8_pem().unwrap().as_bytes());
    let a = openssl(&["x509", "-in", path_str(&cert), "-noout", "-pubkey"]);
    let b = openssl(&["pkey", "-in", path_str(&key_path), "-pubout"]);
    assert!(a.ok && b.ok);
    assert_eq!(a.stdout, b.stdout);
}

#[test]
fn a_renewed_intermediate_signs_for_devices_the_old_one_signed_and_back() {
    let dir = Scratch::new();
    let (root, inter) = root_and_intermediate(KeyAlgorithm::EcdsaP256, "Roll");
    let before = device(&inter, "before-01", 30);
    let renewed = root
        .renew_intermediate(&inter, ValidityDays::new(2000).unwrap(), now())
        .unwrap();
    let (a, b) = (
        inter.certificate().info().unwrap(),
        renewed.certificate().info().unwrap(),
    );
    assert_eq!(a.subject, b.subject);
    assert_eq!(a.path_len, b.path_len);
    assert_ne!(a.serial, b.serial);
    assert!(b.not_after > a.not_after);
    assert_eq!(renewed.issuers().len(), 1);
    let after = device(&renewed, "after-01", 30);

    let root_path = dir.write("root.pem", root.certificate().pem());
    let old_chain = dir.write("old-inter.pem", inter.certificate().pem());
    let new_chain = dir.write("new-inter.pem", renewed.certificate().pem());
    let before_path = dir.write("before.pem", before.certificate.pem());
    let after_path = dir.write("after.pem", after.certificate.pem());
    for (chain, leaf) in [
        (&new_chain, &before_path),
        (&old_chain, &after_path),
        (&new_chain, &after_path),
    ] {
        let run = openssl_verify_chain(&root_path, chain, leaf);
        assert!(run.ok, "{}{}", run.stdout, run.stderr);
    }
    webpki_client_auth(
        root.certificate().der(),
        &[renewed.certificate().der()],
        before.certificate.der(),
    )
    .unwrap();
    // A root is not renewed by another CA, and a device certificate not as a CA.
    let e = root
        .renew_intermediate(&root, ValidityDays::new(10).unwrap(), now())
        .unwrap_err();
    assert!(matches!(e, PkiError::RenewInvalid { .. }), "{e}");
    let e = inter
        .renew_root(ValidityDays::new(10).unwrap(), now())
        .unwrap_err();
    assert!(
        e.to_string().contains("renew it with the CA above it"),
        "{e}"
    );
    let e = root
        .renew_device(
            root.certificate(),
            RenewKey::Same,
            ValidityDays::ONE_DAY,
            now(),
        )
        .unwrap_err();
    assert!(e.to_string().contains("it is a CA certificate"), "{e}");
}

#[test]
fn an_imported_root_renewed_keeps_its_key_identifier_so_old_devices_still_chain() {
    // An OpenSSL-made root with a key identifier this tool would not compute (not a SHA-1 of the
    // key): a renewal that made a new one would break the old devices' authority key identifier.
    let dir = Scratch::new();
    let (cert, key) = openssl_self_signed(
        &dir,
        "ossl-root",
        "ec:P-256",
        "/CN=OpenSSL Root/O=Plant",
        3650,
        &[
            "basicConstraints=critical,CA:TRUE",
            "keyUsage=critical,keyCertSign,cRLSign",
            "subjectKeyIdentifier=01:02:03:04:05:06:07:08",
            // OpenSSL's default would name the key by its SHA-1 here, contradicting the SKI.
            "authorityKeyIdentifier=none",
        ],
    );
    let ca = CertificateAuthority::import(
        Certificate::from_pem(&std::fs::read_to_string(&cert).unwrap()).unwrap(),
        KeyPair::from_pkcs8_pem(&std::fs::read_to_string(&key).unwrap()).unwrap(),
        Vec::new(),
    )
    .unwrap();
    let old_device = device(&ca, "ossl-dev-01", 30);
    let renewed = ca
        .renew_root(ValidityDays::new(5000).unwrap(), now())
        .unwrap();
    let text = openssl_text(&dir.write("renewed-root.pem", renewed.certificate().pem()));
    assert!(text.contains("01:02:03:04:05:06:07:08"), "{text}");
    assert!(text.contains("Certificate Sign, CRL Sign"), "{text}");
    let new_root = dir.write("new-root.pem", renewed.certificate().pem());
    let leaf = dir.write("old-dev.pem", old_device.certificate.pem());
    let run = openssl_verify(&new_root, &leaf);
    assert!(run.ok, "{}{}", run.stdout, run.stderr);
    // And what the renewed root signs verifies under the original OpenSSL certificate (made at
    // the wall clock, not the tests' pinned one: the chain is checked, not the dates).
    let next = device(&renewed, "ossl-dev-02", 30);
    let next_path = dir.write("next.pem", next.certificate.pem());
    let run = openssl(&[
        "verify",
        "-no_check_time",
        "-CAfile",
        path_str(&cert),
        path_str(&next_path),
    ]);
    assert!(run.ok, "{}{}", run.stdout, run.stderr);
}

#[test]
fn only_the_newest_certificate_of_each_device_counts_as_due() {
    let ca = root();
    let soon_old = device(&ca, "dev-a", 10);
    let later = device(&ca, "dev-b", 200);
    let expiring = device(&ca, "dev-c", 30);
    let renewed_a = device(&ca, "dev-a", 365);
    // Newest first, as the page lists them.
    let list = vec![
        renewed_a.certificate.clone(),
        expiring.certificate.clone(),
        later.certificate.clone(),
        soon_old.certificate.clone(),
        ca.certificate().clone(),
    ];
    let due = due_for_renewal(&list, 30, now());
    let ids: Vec<&str> = due.iter().map(|d| d.device_id.as_str()).collect();
    assert_eq!(
        ids,
        ["dev-c"],
        "dev-a was renewed already; dev-b has 200 days"
    );
    assert_eq!(due[0].index, 1);
    // The boundary: 29 days is too short a horizon for a 30-day certificate.
    assert!(due_for_renewal(&list, 29, now()).is_empty());
    let all = due_for_renewal(&list, 400, now());
    assert_eq!(all.len(), 3, "{all:?}");
    assert!(all.windows(2).all(|w| w[0].days_left <= w[1].days_left));
}

#[test]
fn a_renewal_past_the_cas_end_says_so() {
    let ca = root();
    let old = device(&ca, "long-01", 30);
    let e = ca
        .renew_device(
            &old.certificate,
            RenewKey::Same,
            ValidityDays::new(5_000).unwrap(),
            now(),
        )
        .unwrap_err();
    assert!(matches!(e, PkiError::ValidityExceedsIssuer { .. }), "{e}");
}

//! Importing an existing CA made by OpenSSL: certificate as PEM or DER, key as PKCS#8, SEC1 or
//! encrypted PKCS#8. Devices it then signs verify with OpenSSL and webpki (which compares the
//! issuer name byte for byte); mismatched, non-CA and unsupported inputs are refused by name.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{device_at, openssl, openssl_self_signed, path_str, webpki_client_auth_at, Scratch};
use hubcert::pki::{certificate_from_bytes, CertificateAuthority, KeyPair, PkiError};
use rustls_pki_types::UnixTime;

fn now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

/// An OpenSSL CA with a subject using UTF-8, PrintableString and non-ASCII text.
fn openssl_ca(dir: &Scratch, curve: &str, name: &str) -> (String, String) {
    let (cert, key) = openssl_self_signed(
        dir,
        name,
        &format!("ec:{curve}"),
        "/C=DE/ST=Bayern/L=München/O=Example GmbH/OU=IoT/CN=Imported Root",
        1000,
        &[
            "basicConstraints=critical,CA:TRUE",
            "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
        ],
    );
    (
        std::fs::read_to_string(&cert).unwrap(),
        std::fs::read_to_string(&key).unwrap(),
    )
}

fn issue_and_check(dir: &Scratch, ca: &CertificateAuthority, root_pem: &str) {
    let dev = device_at(ca, "imported-dev", 365, now());
    let root = dir.write("root-for-verify.pem", root_pem);
    let leaf = dir.write("leaf.pem", dev.certificate.pem());
    let run = openssl(&["verify", "-CAfile", path_str(&root), path_str(&leaf)]);
    assert!(run.ok, "{}{}", run.stdout, run.stderr);
    // webpki matches the device's issuer against the CA's subject byte for byte.
    let root_der = certificate_from_bytes(root_pem.as_bytes())
        .unwrap()
        .der()
        .to_vec();
    webpki_client_auth_at(&root_der, &[], dev.certificate.der(), UnixTime::now()).unwrap();
}

#[test]
fn an_openssl_ca_imports_with_each_key_form_and_signs_devices_that_verify() {
    let dir = Scratch::new();
    for curve in ["P-256", "P-384"] {
        let (cert_pem, key_pem) = openssl_ca(&dir, curve, curve);
        // PKCS#8, as `openssl req -newkey` writes it.
        let cert = certificate_from_bytes(cert_pem.as_bytes()).unwrap();
        let key = KeyPair::from_any_pem(&key_pem, None).unwrap();
        let ca = CertificateAuthority::import(cert, key, vec![]).unwrap();
        issue_and_check(&dir, &ca, &cert_pem);

        // SEC1 (`openssl ec`), and the certificate as DER.
        let key_path = dir.write("k.pem", &key_pem);
        let sec1 = openssl(&["ec", "-in", path_str(&key_path)]);
        assert!(
            sec1.ok && sec1.stdout.contains("BEGIN EC PRIVATE KEY"),
            "{}",
            sec1.stderr
        );
        let cert_path = dir.write("c.pem", &cert_pem);
        let der_path = dir.path().join("c.der");
        let der = openssl(&[
            "x509",
            "-in",
            path_str(&cert_path),
            "-outform",
            "DER",
            "-out",
            path_str(&der_path),
        ]);
        assert!(der.ok);
        let cert = certificate_from_bytes(&std::fs::read(&der_path).unwrap()).unwrap();
        let ca = CertificateAuthority::import(
            cert,
            KeyPair::from_any_pem(&sec1.stdout, None).unwrap(),
            vec![],
        )
        .unwrap();
        issue_and_check(&dir, &ca, &cert_pem);

        // Encrypted PKCS#8: needs its password, and says when it is wrong.
        let enc = openssl(&[
            "pkcs8",
            "-topk8",
            "-in",
            path_str(&key_path),
            "-passout",
            "pass:ca-pass",
        ]);
        assert!(enc.ok, "{}", enc.stderr);
        assert!(matches!(
            KeyPair::from_any_pem(&enc.stdout, None),
            Err(PkiError::FieldEmpty { .. })
        ));
        assert!(matches!(
            KeyPair::from_any_pem(&enc.stdout, Some("nope")),
            Err(PkiError::PasswordWrong { .. })
        ));
        let key = KeyPair::from_any_pem(&enc.stdout, Some("ca-pass")).unwrap();
        let ca = CertificateAuthority::import(
            certificate_from_bytes(cert_pem.as_bytes()).unwrap(),
            key,
            vec![],
        )
        .unwrap();
        issue_and_check(&dir, &ca, &cert_pem);
    }
}

#[test]
fn wrong_pairs_and_non_cas_and_unsupported_keys_are_refused_by_name() {
    let dir = Scratch::new();
    let (cert_pem, _) = openssl_ca(&dir, "P-256", "a");
    let (_, other_key) = openssl_ca(&dir, "P-256", "b");
    let err = CertificateAuthority::import(
        certificate_from_bytes(cert_pem.as_bytes()).unwrap(),
        KeyPair::from_any_pem(&other_key, None).unwrap(),
        vec![],
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("does not belong to the certificate"),
        "{err}"
    );

    // A leaf certificate is not a CA.
    let (leaf, leaf_key) = openssl_self_signed(
        &dir,
        "leaf",
        "ec:P-256",
        "/CN=leaf",
        10,
        &["basicConstraints=critical,CA:FALSE"],
    );
    let err = CertificateAuthority::import(
        certificate_from_bytes(&std::fs::read(&leaf).unwrap()).unwrap(),
        KeyPair::from_any_pem(&std::fs::read_to_string(&leaf_key).unwrap(), None).unwrap(),
        vec![],
    )
    .unwrap_err();
    assert!(err.to_string().contains("not a CA certificate"), "{err}");

    // An Ed25519 key is named as not supported, not misread. (RSA keys import: tests/rsa.rs.)
    let ed = openssl(&["genpkey", "-algorithm", "ed25519"]);
    assert!(ed.ok, "{}", ed.stderr);
    let err = KeyPair::from_any_pem(&ed.stdout, None).unwrap_err();
    assert!(err.to_string().contains("Ed25519"), "{err}");
    // A certificate where a key is expected, garbage, and an empty file.
    assert!(KeyPair::from_any_pem(&cert_pem, None)
        .unwrap_err()
        .to_string()
        .contains("not a private key"));
    assert!(certificate_from_bytes(b"")
        .unwrap_err()
        .to_string()
        .contains("empty"));
    assert!(certificate_from_bytes(b"\x30\x03\x02\x01").is_err());
}

//! CSRs: a request made by OpenSSL on "the device" is checked and signed here, and the device
//! certificate verifies with OpenSSL and webpki and carries the device's own public key; a
//! tampered request is refused; a request made here verifies with `openssl req -verify`.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::*;
use hubcert::contract::DeviceId;
use hubcert::pki::{make_csr, read_csr, KeyAlgorithm, KeyPair, PkiError, ValidityDays};

/// `openssl req -new` with a fresh EC key; returns (CSR PEM, key path).
fn openssl_csr(dir: &Scratch, curve: &str, subj: &str) -> (String, std::path::PathBuf) {
    let key = dir.path().join(format!("{curve}.key"));
    let run = openssl(&[
        "req",
        "-new",
        "-newkey",
        "ec",
        "-pkeyopt",
        &format!("ec_paramgen_curve:{curve}"),
        "-nodes",
        "-keyout",
        path_str(&key),
        "-subj",
        subj,
        "-addext",
        "extendedKeyUsage=clientAuth",
    ]);
    assert!(run.ok, "{}", run.stderr);
    (run.stdout, key)
}

#[test]
fn a_device_made_csr_is_signed_and_the_certificate_holds_the_devices_key() {
    let ca = root();
    let dir = Scratch::new();
    for curve in ["P-256", "P-384"] {
        let (csr, key) = openssl_csr(&dir, curve, "/O=Device Maker/CN=csr-device-01");
        let req = read_csr(csr.as_bytes()).unwrap();
        assert_eq!(req.common_name.as_deref(), Some("csr-device-01"));
        assert_eq!(req.key_type, format!("ECDSA {curve}"));
        assert!(
            req.requested_extensions
                .iter()
                .any(|e| e == "extendedKeyUsage"),
            "{:?}",
            req.requested_extensions
        );
        let cert = req.sign(&ca, ValidityDays::SEED_DEVICE, now()).unwrap();
        let info = cert.info().unwrap();
        assert_eq!(
            info.subject, "CN=csr-device-01",
            "the device profile's subject, CN only"
        );
        assert!(info.client_auth && !info.is_ca);

        let root_path = dir.write("root.pem", ca.certificate().pem());
        let cert_path = dir.write("dev.pem", cert.pem());
        let run = openssl_verify(&root_path, &cert_path);
        assert!(run.ok, "{curve}: {}{}", run.stdout, run.stderr);
        let a = openssl(&["pkey", "-in", path_str(&key), "-pubout"]);
        let b = openssl(&["x509", "-in", path_str(&cert_path), "-noout", "-pubkey"]);
        assert_eq!(
            a.stdout, b.stdout,
            "{curve}: the certificate must carry the device's key"
        );

        webpki_client_auth(ca.certificate().der(), &[], cert.der()).unwrap();

        // The same request as DER reads the same.
        let csr_path = dir.write("req.pem", &csr);
        let der_path = dir.path().join("req.der");
        let der = openssl(&[
            "req",
            "-in",
            path_str(&csr_path),
            "-outform",
            "DER",
            "-out",
            path_str(&der_path),
        ]);
        assert!(der.ok, "{}", der.stderr);
        let again = read_csr(&std::fs::read(&der_path).unwrap()).unwrap();
        assert_eq!(again.common_name, req.common_name);
    }
}

#[test]
fn a_tampered_or_unsuitable_csr_is_refused_with_the_reason() {
    let dir = Scratch::new();
    let (csr, _) = openssl_csr(&dir, "P-256", "/CN=csr-device-02");
    let pem = pem::parse(&csr).unwrap();
    let mut der = pem.contents().to_vec();
    let at = der
        .windows(13)
        .position(|w| w == b"csr-device-02")
        .expect("the CN in the DER");
    der[at + 12] = b'3'; // csr-device-03: same length, signature no longer matches
    let err = read_csr(&der).unwrap_err();
    assert!(matches!(err, PkiError::CsrInvalid { .. }), "{err}");
    assert!(err.to_string().contains("altered"), "{err}");

    // A CN that is not a valid device id: the CSR reads, but is not signed.
    let (bad, _) = openssl_csr(&dir, "P-256", "/CN=bad#id");
    let req = read_csr(bad.as_bytes()).unwrap();
    let err = req
        .sign(&root(), ValidityDays::SEED_DEVICE, now())
        .unwrap_err();
    assert!(err.to_string().contains("'#'"), "{err}");

    // Ed25519 requests are named as unsupported; garbage, a certificate and emptiness are named
    // too. (RSA requests are signed: tests/rsa.rs.)
    let ed = openssl(&[
        "req",
        "-new",
        "-newkey",
        "ed25519",
        "-nodes",
        "-keyout",
        path_str(&dir.path().join("ed.key")),
        "-subj",
        "/CN=ed-dev",
    ]);
    assert!(ed.ok, "{}", ed.stderr);
    let err = read_csr(ed.stdout.as_bytes()).unwrap_err().to_string();
    assert!(
        err.contains("Ed25519 (1.3.101.112) keys are not supported"),
        "{err}"
    );
    assert!(read_csr(b"").unwrap_err().to_string().contains("empty"));
    assert!(read_csr(b"\x30\x82\x01").is_err());
    let cert_pem = root().certificate().pem();
    assert!(read_csr(cert_pem.as_bytes())
        .unwrap_err()
        .to_string()
        .contains("found CERTIFICATE"));
}

#[test]
fn a_csr_made_here_verifies_with_openssl() {
    let dir = Scratch::new();
    for alg in [KeyAlgorithm::EcdsaP256, KeyAlgorithm::EcdsaP384] {
        let key = KeyPair::generate(alg).unwrap();
        let csr = make_csr(&key, &DeviceId::parse("made-here").unwrap()).unwrap();
        let path = dir.write("made.csr", &csr);
        let run = openssl(&[
            "req",
            "-in",
            path_str(&path),
            "-verify",
            "-noout",
            "-subject",
        ]);
        assert!(run.ok, "{alg:?}: {}", run.stderr);
        assert!(
            format!("{}{}", run.stdout, run.stderr).contains("verify OK"),
            "{}{}",
            run.stdout,
            run.stderr
        );
        assert!(
            run.stdout.contains("CN = made-here") || run.stdout.contains("CN=made-here"),
            "{}",
            run.stdout
        );
        // And it reads back here.
        assert_eq!(
            read_csr(csr.as_bytes()).unwrap().common_name.as_deref(),
            Some("made-here")
        );
    }
}

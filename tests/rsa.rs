//! RSA keys (the seed guide's RSA 4096 root and RSA 2048 devices): every chain shape with RSA and
//! mixed RSA/ECDSA keys verifies with OpenSSL 3 and rustls-webpki; RSA device certificates carry
//! keyEncipherment; keys written here open in OpenSSL and keys OpenSSL writes (PKCS#1, PKCS#8,
//! encrypted PKCS#8) import here; OpenSSL's RSA CSRs are checked and signed; `.pfx` files with an
//! RSA key open in OpenSSL; a 1024-bit key is refused.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::*;
use hubcert::contract::DeviceId;
use hubcert::pki::{
    certificate_from_bytes, export_pkcs12, is_signed_by, read_csr, CertificateAuthority,
    DeviceCertParams, Identity, IntermediateCaParams, KeyAlgorithm, KeyPair, Pkcs12Preset,
    PkiError, RootCaParams, ValidityDays,
};

fn rsa_root(bits: u16) -> CertificateAuthority {
    CertificateAuthority::create_root(
        &RootCaParams {
            common_name: format!("RSA {bits} Root"),
            key_algorithm: KeyAlgorithm::Rsa(bits),
            ..RootCaParams::default()
        },
        now(),
    )
    .expect("RSA root")
}

fn intermediate(issuer: &CertificateAuthority, key: KeyAlgorithm) -> CertificateAuthority {
    issuer
        .issue_intermediate(
            &IntermediateCaParams {
                subject: RootCaParams {
                    common_name: format!("{key} Intermediate"),
                    validity: ValidityDays::new(1825).unwrap(),
                    key_algorithm: key,
                    ..RootCaParams::default()
                },
                path_len: Some(0),
            },
            now(),
        )
        .expect("intermediate")
}

fn device_with(ca: &CertificateAuthority, id: &str, key: KeyAlgorithm) -> Identity {
    ca.issue_device_identity(
        &DeviceCertParams {
            device_id: DeviceId::parse(id).unwrap(),
            validity: ValidityDays::new(365).unwrap(),
        },
        key,
        now(),
    )
    .expect("device")
}

/// `openssl pkey -pubout` of a PEM key, to compare public halves.
fn openssl_public(dir: &Scratch, name: &str, key_pem: &str, extra: &[&str]) -> String {
    let path = dir.write(name, key_pem);
    let mut args = vec!["pkey", "-pubout", "-in", path_str(&path)];
    args.extend_from_slice(extra);
    let run = openssl(&args);
    assert!(run.ok, "{}", run.stderr);
    run.stdout
}

fn cert_public(dir: &Scratch, name: &str, pem: &str) -> String {
    let path = dir.write(name, pem);
    let run = openssl(&["x509", "-noout", "-pubkey", "-in", path_str(&path)]);
    assert!(run.ok, "{}", run.stderr);
    run.stdout
}

#[test]
fn seed_shape_rsa4096_root_rsa2048_devices_and_mixed_chains_verify() {
    let dir = Scratch::new();
    let root = rsa_root(4096);
    assert_eq!(root.key().algorithm(), KeyAlgorithm::Rsa(4096));
    let root_pem = dir.write("root.pem", root.certificate().pem());
    let text = openssl_text(&root_pem);
    assert!(text.contains("Public-Key: (4096 bit)"), "{text}");
    assert!(text.contains("sha256WithRSAEncryption"), "{text}");

    // root → device, RSA 2048 (the seed) and P-256 under the RSA root.
    for (id, key) in [
        ("rsa-dev", KeyAlgorithm::RSA_2048),
        ("ec-under-rsa", KeyAlgorithm::EcdsaP256),
    ] {
        let dev = device_with(&root, id, key);
        let leaf = dir.write(&format!("{id}.pem"), dev.certificate.pem());
        let run = openssl_verify(&root_pem, &leaf);
        assert!(run.ok, "{id}: {}{}", run.stdout, run.stderr);
        webpki_client_auth(root.certificate().der(), &[], dev.certificate.der())
            .unwrap_or_else(|e| panic!("{id}: {e:?}"));
        assert!(is_signed_by(&dev.certificate, root.certificate()).unwrap());
        let text = openssl_text(&leaf);
        let (_, usage) = extension_block(&text, "X509v3 Key Usage").unwrap();
        if key.is_rsa() {
            assert_eq!(usage, "Digital Signature, Key Encipherment", "{text}");
        } else {
            assert_eq!(usage, "Digital Signature", "{text}");
        }
    }

    // root → intermediate (RSA 3072) → RSA device, and RSA root → P-384 intermediate → RSA device.
    for key in [KeyAlgorithm::RSA_3072, KeyAlgorithm::EcdsaP384] {
        let inter = intermediate(&root, key);
        let dev = device_with(&inter, "chained", KeyAlgorithm::RSA_2048);
        let run = openssl_verify_chain(
            &root_pem,
            &dir.write("inter.pem", inter.certificate().pem()),
            &dir.write("chained.pem", dev.certificate.pem()),
        );
        assert!(run.ok, "{key}: {}{}", run.stdout, run.stderr);
        webpki_client_auth(
            root.certificate().der(),
            &[inter.certificate().der()],
            dev.certificate.der(),
        )
        .unwrap_or_else(|e| panic!("{key}: {e:?}"));
        // Without the intermediate the device does not chain.
        assert!(webpki_client_auth(root.certificate().der(), &[], dev.certificate.der()).is_err());
    }

    // P-256 root → RSA intermediate → RSA intermediate → RSA device: two intermediates.
    let ec_root = common::root();
    let one = ec_root
        .issue_intermediate(
            &IntermediateCaParams {
                subject: RootCaParams {
                    common_name: "RSA One".into(),
                    validity: ValidityDays::new(1825).unwrap(),
                    key_algorithm: KeyAlgorithm::RSA_2048,
                    ..RootCaParams::default()
                },
                path_len: Some(1),
            },
            now(),
        )
        .unwrap();
    let two = intermediate(&one, KeyAlgorithm::RSA_2048);
    let dev = device_with(&two, "deep-rsa", KeyAlgorithm::RSA_2048);
    let chain = dir.write("chain.pem", two.chain_pem());
    let run = openssl_verify_chain(
        &dir.write("ec-root.pem", ec_root.certificate().pem()),
        &chain,
        &dir.write("deep.pem", dev.certificate.pem()),
    );
    assert!(run.ok, "{}{}", run.stdout, run.stderr);
    webpki_client_auth(
        ec_root.certificate().der(),
        &[two.certificate().der(), one.certificate().der()],
        dev.certificate.der(),
    )
    .unwrap();

    // The verification certificate of an RSA CA is signed with the CA's RSA key (its own key is
    // a quick P-256 one) and verifies under the CA.
    let v = verification(&root, "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF");
    let run = openssl_verify(&root_pem, &dir.write("v.pem", v.certificate.pem()));
    assert!(run.ok, "{}{}", run.stdout, run.stderr);
    assert!(is_signed_by(&v.certificate, root.certificate()).unwrap());
    // ...and not under another RSA key.
    let other = rsa_root(2048);
    assert!(!is_signed_by(&v.certificate, other.certificate()).unwrap());
}

#[test]
fn rsa_keys_round_trip_through_openssl_in_every_form() {
    let dir = Scratch::new();
    // Ours → OpenSSL: PKCS#8 and encrypted PKCS#8.
    let key = KeyPair::generate(KeyAlgorithm::RSA_2048).unwrap();
    let pem = key.to_pkcs8_pem().unwrap();
    let check = openssl(&[
        "rsa",
        "-check",
        "-noout",
        "-in",
        path_str(&dir.write("k.pem", pem.as_str())),
    ]);
    assert!(
        check.ok && check.stdout.contains("RSA key ok"),
        "{}{}",
        check.stdout,
        check.stderr
    );
    let public = openssl_public(&dir, "ours.key", &pem, &[]);
    let enc = key.to_encrypted_pkcs8_pem("s3cret-pass").unwrap();
    assert_eq!(
        openssl_public(&dir, "ours.enc", &enc, &["-passin", "pass:s3cret-pass"]),
        public
    );
    assert_eq!(
        KeyPair::from_any_pem(&enc, Some("s3cret-pass"))
            .unwrap()
            .subject_public_key_info_der(),
        key.subject_public_key_info_der()
    );

    // OpenSSL → ours: PKCS#8 (OpenSSL 3's default), PKCS#1 (-traditional), encrypted PKCS#8.
    let made = openssl(&["genrsa", "3072"]);
    assert!(made.ok, "{}", made.stderr);
    let pkcs8 = made.stdout;
    assert!(pkcs8.contains("BEGIN PRIVATE KEY"));
    let p8 = dir.write("o.key", &pkcs8);
    let pkcs1 = openssl(&["rsa", "-traditional", "-in", path_str(&p8)]);
    assert!(
        pkcs1.stdout.contains("BEGIN RSA PRIVATE KEY"),
        "{}",
        pkcs1.stderr
    );
    let encrypted = openssl(&[
        "pkcs8",
        "-topk8",
        "-v2",
        "aes-256-cbc",
        "-passout",
        "pass:pw1234",
        "-in",
        path_str(&p8),
    ]);
    assert!(encrypted.ok, "{}", encrypted.stderr);
    let expected = openssl_public(&dir, "o2.key", &pkcs8, &[]);
    for (form, text, password) in [
        ("PKCS#8", pkcs8.as_str(), None),
        ("PKCS#1", pkcs1.stdout.as_str(), None),
        (
            "encrypted PKCS#8",
            encrypted.stdout.as_str(),
            Some("pw1234"),
        ),
    ] {
        let k = KeyPair::from_any_pem(text, password).unwrap_or_else(|e| panic!("{form}: {e}"));
        assert_eq!(k.algorithm(), KeyAlgorithm::Rsa(3072), "{form}");
        let back = k.to_pkcs8_pem().unwrap();
        assert_eq!(
            openssl_public(&dir, "back.key", &back, &[]),
            expected,
            "{form}"
        );
    }
    assert!(matches!(
        KeyPair::from_any_pem(&encrypted.stdout, Some("wrong")),
        Err(PkiError::PasswordWrong { .. })
    ));

    // Too small: refused by size, not misread.
    let small = openssl(&["genrsa", "1024"]);
    let err = KeyPair::from_any_pem(&small.stdout, None).unwrap_err();
    assert!(
        matches!(
            err,
            PkiError::KeyTooSmall {
                bits: 1024,
                min: 2048
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("at least 2048"), "{err}");
}

#[test]
fn an_openssl_rsa_ca_imports_and_signs_devices_that_verify() {
    let dir = Scratch::new();
    let (cert, key) = openssl_self_signed(
        &dir,
        "ca",
        "rsa:4096",
        "/CN=Azure IoT Hub CA Cert Test Only",
        3650,
        &[
            "basicConstraints=critical,CA:TRUE",
            "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
        ],
    );
    let cert_pem = std::fs::read_to_string(&cert).unwrap();
    // As the seed guide keeps it: PKCS#1.
    let pkcs1 = openssl(&["rsa", "-traditional", "-in", path_str(&key)]);
    let ca = CertificateAuthority::import(
        certificate_from_bytes(cert_pem.as_bytes()).unwrap(),
        KeyPair::from_any_pem(&pkcs1.stdout, None).unwrap(),
        Vec::new(),
    )
    .unwrap();
    let dev = device_at(&ca, "imported-rsa", 365, time::OffsetDateTime::now_utc());
    let run = openssl(&[
        "verify",
        "-CAfile",
        path_str(&cert),
        path_str(&dir.write("dev.pem", dev.certificate.pem())),
    ]);
    assert!(run.ok, "{}{}", run.stdout, run.stderr);

    // Another RSA key with this certificate is refused.
    let other = openssl(&["genrsa", "2048"]);
    let err = CertificateAuthority::import(
        certificate_from_bytes(cert_pem.as_bytes()).unwrap(),
        KeyPair::from_any_pem(&other.stdout, None).unwrap(),
        Vec::new(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("does not belong"), "{err}");
}

#[test]
fn openssl_rsa_csrs_are_checked_and_signed_and_tampering_is_caught() {
    let dir = Scratch::new();
    let key = dir.path().join("dev.key");
    let run = openssl(&[
        "req",
        "-new",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        path_str(&key),
        "-subj",
        "/CN=rsa-csr-device",
    ]);
    assert!(run.ok, "{}", run.stderr);
    let csr_pem = run.stdout;
    let csr = read_csr(csr_pem.as_bytes()).unwrap();
    assert_eq!(csr.key_type, "RSA 2048");
    assert_eq!(csr.common_name.as_deref(), Some("rsa-csr-device"));
    let root = rsa_root(2048);
    let cert = csr
        .sign(&root, ValidityDays::new(365).unwrap(), now())
        .unwrap();
    let leaf = dir.write("csr-dev.pem", cert.pem());
    let run = openssl_verify(&dir.write("root.pem", root.certificate().pem()), &leaf);
    assert!(run.ok, "{}{}", run.stdout, run.stderr);
    webpki_client_auth(root.certificate().der(), &[], cert.der()).unwrap();
    // The certificate holds the device's key, which never came here.
    assert_eq!(
        cert_public(&dir, "c.pem", &cert.pem()),
        openssl_public(&dir, "k.pem", &std::fs::read_to_string(&key).unwrap(), &[])
    );
    let text = openssl_text(&leaf);
    assert!(
        text.contains("Digital Signature, Key Encipherment"),
        "{text}"
    );

    // One byte of the subject changed: the signature no longer matches.
    let der = pem::parse(csr_pem.as_bytes()).unwrap().into_contents();
    let mut tampered = der.clone();
    let at = tampered
        .windows(b"rsa-csr-device".len())
        .position(|w| w == b"rsa-csr-device")
        .unwrap();
    tampered[at] = b'R';
    assert!(read_csr(&der).is_ok());
    let err = read_csr(&tampered).unwrap_err();
    assert!(err.to_string().contains("altered"), "{err}");
}

#[test]
fn pfx_with_rsa_keys_open_in_openssl_for_both_presets() {
    let dir = Scratch::new();
    let root = rsa_root(2048);
    let dev = device_with(&root, "rsa-pfx", KeyAlgorithm::RSA_2048);
    let cert_pub = cert_public(&dir, "dev.pem", &dev.certificate.pem());
    for preset in [Pkcs12Preset::Modern, Pkcs12Preset::Legacy] {
        let pfx = export_pkcs12(
            &dev.key,
            &dev.certificate,
            &[root.certificate().clone()],
            "rsa-pfx",
            "pfx-pass",
            preset,
        )
        .unwrap();
        let path = dir.write("d.pfx", &pfx);
        let mut args = vec![
            "pkcs12",
            "-in",
            path_str(&path),
            "-nocerts",
            "-nodes",
            "-passin",
            "pass:pfx-pass",
        ];
        if preset == Pkcs12Preset::Legacy {
            args.push("-legacy");
        }
        let run = openssl(&args);
        assert!(run.ok, "{preset:?}: {}", run.stderr);
        assert_eq!(
            openssl_public(&dir, "from-pfx.key", &run.stdout, &[]),
            cert_pub,
            "{preset:?}"
        );
    }
}

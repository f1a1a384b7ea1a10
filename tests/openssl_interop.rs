//! Every certificate the core makes is read and verified by OpenSSL 3 and rustls-webpki.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::*;
use hubcert::contract::DeviceId;
use hubcert::pki::Field;
use hubcert::pki::{
    CertificateAuthority, DeviceCertParams, KeyPair, PkiError, RootCaParams, ValidityDays,
};

#[test]
fn root_ca_has_the_extensions_iot_hub_expects() {
    let ca = root();
    let dir = Scratch::new();
    let text = openssl_text(&dir.write("root-ca.pem", ca.certificate().pem()));

    assert!(
        text.contains("Subject: C = US, O = MyOrg, CN = IoT Root CA"),
        "{text}"
    );
    assert!(
        text.contains("Issuer: C = US, O = MyOrg, CN = IoT Root CA"),
        "{text}"
    );
    assert_eq!(
        extension_block(&text, "X509v3 Basic Constraints"),
        Some(("X509v3 Basic Constraints: critical", "CA:TRUE"))
    );
    assert_eq!(
        extension_block(&text, "X509v3 Key Usage"),
        Some((
            "X509v3 Key Usage: critical",
            "Digital Signature, Certificate Sign, CRL Sign"
        ))
    );
    assert!(text.contains("X509v3 Subject Key Identifier"), "{text}");
    assert!(
        text.contains("ecdsa-with-SHA256") && text.contains("prime256v1"),
        "{text}"
    );
    // A self-signed root verifies against itself.
    let path = dir.path().join("root-ca.pem");
    let run = openssl_verify(&path, &path);
    assert!(run.ok, "{}{}", run.stdout, run.stderr);
}

#[test]
fn root_ca_lifetime_is_the_requested_days() {
    let ca = root();
    let info = ca.certificate().info().expect("info");
    assert_eq!((info.not_after - now()).whole_days(), 3650);
    assert!(info.not_before <= now());
    assert!(info.is_ca && info.can_sign_certificates);
}

#[test]
fn device_certificate_verifies_under_its_root_with_openssl() {
    let ca = root();
    let dev = device(&ca, "sensor-device-01", 365);
    let dir = Scratch::new();
    let root_pem = dir.write("root-ca.pem", ca.certificate().pem());
    let dev_pem = dir.write("sensor-device-01.pem", dev.certificate.pem());

    let run = openssl_verify(&root_pem, &dev_pem);
    assert!(run.ok, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.trim_end().ends_with("sensor-device-01.pem: OK"),
        "{}",
        run.stdout
    );
}

#[test]
fn device_certificate_has_device_extensions_and_cn() {
    let ca = root();
    let dev = device(&ca, "sensor-device-01", 365);
    let dir = Scratch::new();
    let text = openssl_text(&dir.write("d.pem", dev.certificate.pem()));
    let root_text = openssl_text(&dir.write("r.pem", ca.certificate().pem()));

    assert!(text.contains("Subject: CN = sensor-device-01\n"), "{text}");
    assert!(
        text.contains("Issuer: C = US, O = MyOrg, CN = IoT Root CA"),
        "{text}"
    );
    assert_eq!(
        extension_block(&text, "X509v3 Basic Constraints"),
        Some(("X509v3 Basic Constraints: critical", "CA:FALSE"))
    );
    assert_eq!(
        extension_block(&text, "X509v3 Key Usage"),
        Some(("X509v3 Key Usage: critical", "Digital Signature"))
    );
    assert_eq!(
        extension_block(&text, "X509v3 Extended Key Usage").map(|(_, v)| v),
        Some("TLS Web Client Authentication")
    );
    // AKI of the device = SKI of the root.
    let (_, root_ski) = extension_block(&root_text, "X509v3 Subject Key Identifier").expect("ski");
    let (_, dev_aki) = extension_block(&text, "X509v3 Authority Key Identifier").expect("aki");
    assert_eq!(dev_aki.trim_start_matches("keyid:"), root_ski);
}

#[test]
fn serial_numbers_are_positive_128_bit_and_distinct() {
    let ca = root();
    let a = device(&ca, "a", 30);
    let b = device(&ca, "b", 30);
    let dir = Scratch::new();
    let serial = |name: &str, pem: String| {
        let run = openssl(&[
            "x509",
            "-noout",
            "-serial",
            "-in",
            path_str(&dir.write(name, pem)),
        ]);
        assert!(run.ok, "{}", run.stderr);
        run.stdout.trim().trim_start_matches("serial=").to_owned()
    };
    let sa = serial("a.pem", a.certificate.pem());
    let sb = serial("b.pem", b.certificate.pem());
    assert_eq!(sa.len(), 32, "16 bytes: {sa}");
    assert!(
        u8::from_str_radix(&sa[..2], 16).expect("hex") < 0x80,
        "positive: {sa}"
    );
    assert_ne!(sa, sb);
    assert_eq!(a.certificate.info().expect("info").serial, sa);
}

/// A serial whose first byte has its top bit set is written with a zero byte before it (DER's
/// sign): shown as OpenSSL shows it, without that byte, whether the details are read whole or
/// beside another certificate.
#[test]
fn a_serial_is_shown_as_openssl_shows_it() {
    let dir = Scratch::new();
    let mut shown = Vec::new();
    for serial in ["0x80aa", "0x7f01", "0x00ff"] {
        let (cert, _) = openssl_self_signed_with(
            &dir,
            "c",
            "ec:P-256",
            "/CN=serial",
            1,
            &[],
            &["-set_serial", serial],
        );
        let out = path_str(&cert).to_owned();
        let by_openssl = openssl(&["x509", "-noout", "-serial", "-in", &out]);
        let by_openssl = by_openssl
            .stdout
            .trim()
            .trim_start_matches("serial=")
            .to_owned();
        let pem = std::fs::read_to_string(&out).unwrap();
        let cert = hubcert::pki::Certificate::from_pem(&pem).unwrap();
        let info = cert.info().unwrap();
        assert_eq!(info.serial, by_openssl, "{serial}");
        assert_eq!(cert.info_beside(&cert, &info).unwrap().serial, by_openssl);
        shown.push(info.serial);
    }
    assert_eq!(shown, ["80AA", "7F01", "FF"]);
}

#[test]
fn device_key_is_pkcs8_and_matches_its_certificate() {
    let ca = root();
    let dev = device(&ca, "sensor-device-01", 365);
    let dir = Scratch::new();
    let key_pem = dev.key.to_pkcs8_pem().expect("pem");
    assert!(key_pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
    let key = dir.write("d.key", key_pem.as_bytes());
    let cert = dir.write("d.pem", dev.certificate.pem());

    let from_key = openssl(&["pkey", "-in", path_str(&key), "-pubout"]);
    let from_cert = openssl(&["x509", "-in", path_str(&cert), "-pubkey", "-noout"]);
    assert!(
        from_key.ok && from_cert.ok,
        "{}{}",
        from_key.stderr,
        from_cert.stderr
    );
    assert_eq!(from_key.stdout, from_cert.stdout);

    // And the key reads back into the core unchanged.
    let again = KeyPair::from_pkcs8_pem(&key_pem).expect("reimport");
    assert_eq!(
        again.subject_public_key_info_der(),
        dev.key.subject_public_key_info_der()
    );
}

#[test]
fn verification_certificate_carries_the_code_and_verifies_under_the_ca() {
    let ca = root();
    let code = "48B3A2C9B5F2A1E01FAB6FC2DFBF26F46A8A5DB2DE2E9A7F";
    let v = verification(&ca, &format!("  {code}\n"));
    let dir = Scratch::new();
    let root_pem = dir.write("root-ca.pem", ca.certificate().pem());
    let v_pem = dir.write("verification.pem", v.certificate.pem());

    let run = openssl_verify(&root_pem, &v_pem);
    assert!(run.ok, "{}{}", run.stdout, run.stderr);
    let text = openssl_text(&v_pem);
    assert!(text.contains(&format!("Subject: CN = {code}\n")), "{text}");
    let info = v.certificate.info().expect("info");
    assert_eq!((info.not_after - now()).whole_days(), 1);
}

#[test]
fn a_certificate_from_another_ca_is_refused_by_openssl() {
    let ca = root();
    let rogue = root();
    let dev = device(&rogue, "sensor-device-01", 365);
    let dir = Scratch::new();
    let root_pem = dir.write("root-ca.pem", ca.certificate().pem());
    let dev_pem = dir.write("d.pem", dev.certificate.pem());
    let run = openssl_verify(&root_pem, &dev_pem);
    assert!(
        !run.ok,
        "a device from another CA must not verify: {}",
        run.stdout
    );
}

#[test]
fn thumbprints_equal_openssl_fingerprints_without_colons() {
    let ca = root();
    let dev = device(&ca, "sensor-device-01", 365);
    let dir = Scratch::new();
    let cert = dir.write("d.pem", dev.certificate.pem());
    for (alg, ours) in [
        ("-sha1", dev.certificate.sha1_thumbprint().to_string()),
        ("-sha256", dev.certificate.sha256_thumbprint().to_string()),
    ] {
        let run = openssl(&[
            "x509",
            "-noout",
            "-fingerprint",
            alg,
            "-in",
            path_str(&cert),
        ]);
        assert!(run.ok, "{}", run.stderr);
        let theirs = run
            .stdout
            .trim()
            .split('=')
            .nth(1)
            .expect("fingerprint")
            .replace(':', "");
        assert_eq!(ours, theirs);
    }
    assert_eq!(dev.certificate.sha1_thumbprint().as_str().len(), 40);
    assert_eq!(dev.certificate.sha256_thumbprint().as_str().len(), 64);
}

#[test]
fn der_export_is_what_openssl_reads_as_der() {
    let ca = root();
    let dir = Scratch::new();
    let der = dir.write("root-ca.cer", ca.certificate().der());
    let run = openssl(&[
        "x509",
        "-inform",
        "DER",
        "-in",
        path_str(&der),
        "-outform",
        "PEM",
    ]);
    assert!(run.ok, "{}", run.stderr);
    assert_eq!(run.stdout, ca.certificate().pem());
}

#[test]
fn webpki_accepts_the_device_for_client_auth() {
    let ca = root();
    let dev = device(&ca, "sensor-device-01", 365);
    assert_eq!(
        webpki_client_auth(ca.certificate().der(), &[], dev.certificate.der()),
        Ok(())
    );
}

#[test]
fn webpki_refuses_a_device_from_another_ca() {
    let ca = root();
    // Same subject name as the trusted root, different key: the signature gives it away.
    let impostor = device(&root(), "sensor-device-01", 365);
    assert_eq!(
        webpki_client_auth(ca.certificate().der(), &[], impostor.certificate.der()),
        Err(webpki::Error::InvalidSignatureForPublicKey)
    );
    let other_params = RootCaParams {
        common_name: "Other CA".into(),
        ..Default::default()
    };
    let other = CertificateAuthority::create_root(&other_params, now()).expect("root");
    let stranger = device(&other, "sensor-device-01", 365);
    assert_eq!(
        webpki_client_auth(ca.certificate().der(), &[], stranger.certificate.der()),
        Err(webpki::Error::UnknownIssuer)
    );
}

#[test]
fn device_may_not_outlive_its_ca() {
    let params = RootCaParams {
        validity: ValidityDays::new(30).expect("days"),
        ..Default::default()
    };
    let ca = CertificateAuthority::create_root(&params, now()).expect("root");
    let req = DeviceCertParams {
        device_id: DeviceId::parse("dev").expect("id"),
        validity: ValidityDays::new(31).expect("days"),
    };
    let key = KeyPair::generate(hubcert::pki::KeyAlgorithm::EcdsaP256).expect("key");
    match ca.issue_device(&req, &key, now()) {
        Err(PkiError::ValidityExceedsIssuer { max_days, .. }) => assert_eq!(max_days, 30),
        other => panic!("expected ValidityExceedsIssuer, got {other:?}"),
    }
    let req = DeviceCertParams {
        validity: ValidityDays::new(30).expect("days"),
        ..req
    };
    assert!(ca.issue_device(&req, &key, now()).is_ok());
}

#[test]
fn an_expired_ca_issues_nothing() {
    let params = RootCaParams {
        validity: ValidityDays::new(1).expect("days"),
        ..Default::default()
    };
    let ca = CertificateAuthority::create_root(&params, now()).expect("root");
    let later = now() + time::Duration::days(2);
    let req = DeviceCertParams {
        device_id: DeviceId::parse("dev").expect("id"),
        validity: ValidityDays::new(1).expect("days"),
    };
    let key = KeyPair::generate(hubcert::pki::KeyAlgorithm::EcdsaP256).expect("key");
    assert!(matches!(
        ca.issue_device(&req, &key, later),
        Err(PkiError::IssuerExpired { .. })
    ));
}

#[test]
fn root_subject_fields_are_checked() {
    let bad = |p: RootCaParams| CertificateAuthority::create_root(&p, now()).err();
    assert_eq!(
        bad(RootCaParams {
            common_name: "  ".into(),
            ..Default::default()
        }),
        Some(PkiError::FieldEmpty {
            field: Field::CommonName
        })
    );
    assert_eq!(
        bad(RootCaParams {
            country: "USA".into(),
            ..Default::default()
        }),
        Some(PkiError::CountryInvalid {
            input: "USA".into()
        })
    );
    assert_eq!(
        bad(RootCaParams {
            organization: "o".repeat(65),
            ..Default::default()
        }),
        Some(PkiError::FieldTooLong {
            field: Field::Organization,
            len: 65,
            max: 64
        })
    );
    // Empty O and C are left out of the subject.
    let ca = CertificateAuthority::create_root(
        &RootCaParams {
            organization: String::new(),
            country: String::new(),
            ..Default::default()
        },
        now(),
    )
    .expect("root");
    assert_eq!(
        ca.certificate().info().expect("info").subject,
        "CN=IoT Root CA"
    );
}

#[test]
fn device_ids_with_every_allowed_character_are_issued_and_read_back() {
    let ca = root();
    let id = "Az09-.%_*?!(),:=@$'";
    let dev = device(&ca, id, 10);
    let info = dev.certificate.info().expect("info");
    assert_eq!(info.common_name.as_deref(), Some(id));
    let dir = Scratch::new();
    let run = openssl_verify(
        &dir.write("r.pem", ca.certificate().pem()),
        &dir.write("d.pem", dev.certificate.pem()),
    );
    assert!(run.ok, "{}{}", run.stdout, run.stderr);
}

#[test]
fn server_certificate_names_localhost_and_loopback_for_openssl() {
    let ca = root();
    let key = KeyPair::generate(hubcert::pki::KeyAlgorithm::EcdsaP256).expect("key");
    let params = hubcert::pki::ServerCertParams {
        names: vec!["localhost".into(), "127.0.0.1".into()],
        validity: ValidityDays::new(825).expect("days"),
    };
    let cert = ca.issue_server(&params, &key, now()).expect("server cert");
    let dir = Scratch::new();
    let root_pem = dir.write("r.pem", ca.certificate().pem());
    let leaf = dir.write("s.pem", cert.pem());
    let at = NOW_UNIX.to_string();
    for (flag, name) in [
        ("-verify_hostname", "localhost"),
        ("-verify_ip", "127.0.0.1"),
    ] {
        let run = openssl(&[
            "verify",
            "-attime",
            &at,
            "-purpose",
            "sslserver",
            flag,
            name,
            "-CAfile",
            path_str(&root_pem),
            path_str(&leaf),
        ]);
        assert!(run.ok, "{name}: {}{}", run.stdout, run.stderr);
    }
    let run = openssl(&[
        "verify",
        "-attime",
        &at,
        "-verify_hostname",
        "example.com",
        "-CAfile",
        path_str(&root_pem),
        path_str(&leaf),
    ]);
    assert!(!run.ok, "a name not in the certificate must not verify");
}

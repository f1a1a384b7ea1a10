//! The inspector's extension list against OpenSSL 3's `x509 -text`: for certificates made here
//! (root, intermediate, RSA and EC devices, verification, TLS server) and one made by OpenSSL with
//! SANs and two EKUs, every extension OpenSSL prints is listed here with the same name,
//! criticality and value.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::*;
use hubcert::pki::{
    Certificate, IntermediateCaParams, KeyAlgorithm, KeyPair, RootCaParams, ServerCertParams,
    ValidityDays,
};

/// (name, critical, value) for each extension in OpenSSL's text.
fn openssl_extensions(text: &str) -> Vec<(String, bool, String)> {
    let mut out = Vec::new();
    let mut lines = text
        .lines()
        .skip_while(|l| !l.contains("X509v3 extensions:"))
        .skip(1)
        .take_while(|l| !l.trim_start().starts_with("Signature Algorithm"))
        .peekable();
    while let Some(head) = lines.next() {
        let head = head.trim();
        let Some((name, rest)) = head.split_once(':') else {
            continue;
        };
        let name = name.trim_start_matches("X509v3 ").to_owned();
        let value = lines
            .next()
            .map(|l| l.trim().to_owned())
            .unwrap_or_default();
        out.push((name, rest.contains("critical"), value));
    }
    out
}

fn ours(cert: &Certificate) -> Vec<(String, bool, String)> {
    cert.info()
        .unwrap()
        .extensions
        .into_iter()
        .map(|e| (e.name, e.critical, e.value))
        .collect()
}

#[test]
fn extensions_read_as_openssl_prints_them() {
    let dir = Scratch::new();
    let root = root();
    let inter = root
        .issue_intermediate(
            &IntermediateCaParams {
                subject: RootCaParams {
                    common_name: "Ext Intermediate".into(),
                    validity: ValidityDays::new(100).unwrap(),
                    ..RootCaParams::default()
                },
                path_len: Some(0),
            },
            now(),
        )
        .unwrap();
    let rsa_dev = inter
        .issue_device_identity(
            &hubcert::pki::DeviceCertParams {
                device_id: hubcert::contract::DeviceId::parse("ext-rsa").unwrap(),
                validity: ValidityDays::new(30).unwrap(),
            },
            KeyAlgorithm::RSA_2048,
            now(),
        )
        .unwrap();
    let server_key = KeyPair::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let server = root
        .issue_server(
            &ServerCertParams {
                names: vec!["localhost".into(), "127.0.0.1".into(), "::1".into()],
                validity: ValidityDays::new(30).unwrap(),
            },
            &server_key,
            now(),
        )
        .unwrap();
    openssl_self_signed(
        &dir,
        "o",
        "ec:P-256",
        "/CN=openssl-made",
        10,
        &[
            "subjectAltName=DNS:device.example,IP:10.0.0.7,IP:fe80::1,email:ops@example.com,URI:https://example.com/x",
            "extendedKeyUsage=clientAuth,serverAuth",
            "keyUsage=critical,digitalSignature,keyAgreement",
        ],
    );
    let openssl_made =
        Certificate::from_pem(&std::fs::read_to_string(dir.path().join("o.pem")).unwrap()).unwrap();

    let cases = [
        ("root", root.certificate().clone()),
        ("intermediate", inter.certificate().clone()),
        ("P-256 device", device(&inter, "ext-ec", 30).certificate),
        ("RSA device", rsa_dev.certificate),
        (
            "verification",
            verification(&root, "ABCDEF0123456789").certificate,
        ),
        ("server", server),
        ("OpenSSL-made", openssl_made),
    ];
    for (what, cert) in cases {
        let path = dir.write("c.pem", cert.pem());
        let expected = openssl_extensions(&openssl_text(&path));
        assert!(!expected.is_empty(), "{what}: OpenSSL lists no extensions");
        let mut got = ours(&cert);
        let mut want = expected.clone();
        got.sort();
        want.sort();
        assert_eq!(got, want, "{what}");
    }
}

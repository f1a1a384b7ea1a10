//! The inspector's one entry point: every form a user may drop or paste is recognised (PEM by
//! label, DER by structure), password-protected ones ask for it, and the rest are named.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::*;
use hubcert::contract::DeviceId;
use hubcert::pki::{export_pkcs12, inspect, make_csr, Inspected, Pkcs12Preset, PkiError};

fn kind(r: &Result<Inspected, PkiError>) -> String {
    match r {
        Ok(Inspected::Certificate(_)) => "certificate".into(),
        Ok(Inspected::Request(_)) => "request".into(),
        Ok(Inspected::Chain(c)) => format!("chain of {}", c.len()),
        Ok(Inspected::Key(k)) => format!("key {}", k.algorithm()),
        Ok(Inspected::Pkcs12(p)) => format!("pfx with {} more", p.chain.len()),
        Ok(Inspected::NeedsPassword { what }) => format!("needs password: {what}"),
        Err(e) => format!("error: {e}"),
    }
}

#[test]
fn every_form_is_recognised_and_the_rest_named() {
    let root = root();
    let dev = device(&root, "inspected", 30);
    let csr_pem = make_csr(&dev.key, &DeviceId::parse("inspected").unwrap()).unwrap();
    let csr_der = pem::parse(&csr_pem).unwrap().into_contents();
    let key_pem = dev.key.to_pkcs8_pem().unwrap();
    let key_der = dev.key.to_pkcs8_der().unwrap();
    let enc = dev.key.to_encrypted_pkcs8_pem("pw-1234").unwrap();
    let pfx = export_pkcs12(
        &dev.key,
        &dev.certificate,
        &[root.certificate().clone()],
        "x",
        "pfx-pw",
        Pkcs12Preset::Legacy,
    )
    .unwrap();
    let cert_pem = dev.certificate.pem();
    let chain_pem = format!("{}{}", dev.certificate.pem(), root.certificate().pem());
    let rsa1 = openssl(&["genrsa", "-traditional", "2048"]).stdout;
    assert!(rsa1.contains("BEGIN RSA PRIVATE KEY"));

    let cases: Vec<(&str, &[u8], Option<&str>, &str)> = vec![
        ("certificate PEM", cert_pem.as_bytes(), None, "certificate"),
        ("chain file", chain_pem.as_bytes(), None, "chain of 2"),
        (
            "certificate DER",
            dev.certificate.der(),
            None,
            "certificate",
        ),
        ("CSR PEM", csr_pem.as_bytes(), None, "request"),
        ("CSR DER", &csr_der, None, "request"),
        ("PKCS#8 PEM", key_pem.as_bytes(), None, "key ECDSA P-256"),
        ("PKCS#8 DER", &key_der, None, "key ECDSA P-256"),
        ("PKCS#1 RSA", rsa1.as_bytes(), None, "key RSA 2048"),
        (
            "encrypted key, no password",
            enc.as_bytes(),
            None,
            "needs password: encrypted private key",
        ),
        (
            "encrypted key, password",
            enc.as_bytes(),
            Some("pw-1234"),
            "key ECDSA P-256",
        ),
        (
            "encrypted key, wrong password",
            enc.as_bytes(),
            Some("nope"),
            "error: The password does not open this encrypted private key",
        ),
        (".pfx, no password", &pfx, None, "needs password: .pfx file"),
        (".pfx, password", &pfx, Some("pfx-pw"), "pfx with 1 more"),
        (
            ".pfx, wrong password",
            &pfx,
            Some("nope"),
            "error: The password does not open this .pfx file",
        ),
        (
            "unknown PEM label",
            b"-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n",
            None,
            "found X509 CRL",
        ),
        (
            "plain text",
            b"hello there",
            None,
            "without a -----BEGIN line",
        ),
        ("empty", b"  \n", None, "empty"),
        (
            "DER of nothing known",
            b"\x30\x03\x02\x01\x00",
            None,
            "not a certificate, a CSR, a PKCS#8 key, a .pfx nor a .p7b",
        ),
    ];
    for (name, bytes, password, expect) in cases {
        let got = kind(&inspect(bytes, password));
        assert!(
            got.starts_with(expect) || got.contains(expect),
            "{name}: {got}"
        );
    }

    // A .pfx of certificates only (a CA exported without its key): shown as its certificates.
    let dir = Scratch::new();
    let certs = dir.write("certs.pem", &chain_pem);
    let out = dir.path().join("certs.pfx");
    let run = openssl(&[
        "pkcs12",
        "-export",
        "-nokeys",
        "-in",
        path_str(&certs),
        "-passout",
        "pass:pw-9",
        "-out",
        path_str(&out),
    ]);
    assert!(run.ok, "{}", run.stderr);
    let got = kind(&inspect(&std::fs::read(&out).unwrap(), Some("pw-9")));
    assert_eq!(got, "chain of 2");

    // An altered DER request is named as altered, not as unknown bytes.
    let mut tampered = csr_der.clone();
    let at = tampered.windows(9).position(|w| w == b"inspected").unwrap();
    tampered[at] = b'I';
    let got = kind(&inspect(&tampered, None));
    assert!(got.contains("altered"), "{got}");
}

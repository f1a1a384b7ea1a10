//! PKCS#7 certificate bundles (`.p7b`): what this tool writes OpenSSL 3 reads, and what OpenSSL
//! writes (`crl2pkcs7 -nocrl`, as Windows' chain export) this tool reads.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::*;
use hubcert::pki::{read_pkcs7, write_pkcs7, KeyAlgorithm};

#[test]
fn openssl_reads_our_bundles_and_we_read_openssls() {
    let (root, inter) = root_and_intermediate(KeyAlgorithm::EcdsaP256, "P7B");
    let dir = Scratch::new();

    // Ours, read by OpenSSL: both certificates come out.
    let ours = dir.write(
        "chain.p7b",
        write_pkcs7(&[inter.certificate().clone(), root.certificate().clone()]).unwrap(),
    );
    let printed = openssl(&[
        "pkcs7",
        "-inform",
        "DER",
        "-in",
        path_str(&ours),
        "-print_certs",
        "-noout",
    ]);
    assert!(printed.ok, "{}", printed.stderr);
    assert!(
        printed.stdout.contains("CN=P7B Root") || printed.stdout.contains("CN = P7B Root"),
        "{}",
        printed.stdout
    );
    assert_eq!(
        printed.stdout.matches("subject=").count(),
        2,
        "{}",
        printed.stdout
    );

    // OpenSSL's, in PEM and DER, read here.
    let chain = dir.write(
        "chain.pem",
        format!("{}{}", inter.certificate().pem(), root.certificate().pem()),
    );
    for form in ["PEM", "DER"] {
        let out = dir.path().join(format!("openssl-{form}.p7b"));
        let made = openssl(&[
            "crl2pkcs7",
            "-nocrl",
            "-certfile",
            path_str(&chain),
            "-outform",
            form,
            "-out",
            path_str(&out),
        ]);
        assert!(made.ok, "{}", made.stderr);
        let certs = read_pkcs7(&std::fs::read(&out).unwrap()).unwrap();
        let mut got: Vec<Vec<u8>> = certs.iter().map(|c| c.der().to_vec()).collect();
        let mut want = vec![
            inter.certificate().der().to_vec(),
            root.certificate().der().to_vec(),
        ];
        got.sort();
        want.sort();
        assert_eq!(got, want, "{form}");
    }
    // Not a bundle: said so.
    let e = read_pkcs7(root.certificate().der())
        .unwrap_err()
        .to_string();
    assert!(e.contains("PKCS#7") || e.contains("signedData"), "{e}");
}

#[test]
fn a_ca_imports_from_an_openssl_p7b_with_its_key_and_signs_devices_that_verify() {
    use hubcert::pki::{ca_certificates_from_bytes, CertificateAuthority, KeyPair, PkiError};
    let (root, inter) = root_and_intermediate(KeyAlgorithm::EcdsaP384, "P7B Import");
    let dir = Scratch::new();
    // Root first in the file, as some exports order it: the import finds the key's certificate.
    let chain = dir.write(
        "chain.pem",
        format!("{}{}", root.certificate().pem(), inter.certificate().pem()),
    );
    let out = dir.path().join("chain.p7b");
    let made = openssl(&[
        "crl2pkcs7",
        "-nocrl",
        "-certfile",
        path_str(&chain),
        "-outform",
        "DER",
        "-out",
        path_str(&out),
    ]);
    assert!(made.ok, "{}", made.stderr);
    let bytes = std::fs::read(&out).unwrap();
    let certs = ca_certificates_from_bytes(&bytes, None).unwrap();
    assert_eq!(certs.len(), 2);
    let key = KeyPair::from_pkcs8_pem(&inter.key().to_pkcs8_pem().unwrap()).unwrap();
    let ca = CertificateAuthority::import_bundle(certs.clone(), key).unwrap();
    assert_eq!(ca.certificate(), inter.certificate());
    assert_eq!(ca.issuers(), [root.certificate().clone()]);
    let dev = device(&ca, "p7b-dev-01", 30);
    let root_path = dir.write("root.pem", root.certificate().pem());
    let untrusted = dir.write("inter.pem", ca.chain_pem());
    let leaf = dir.write("dev.pem", dev.certificate.pem());
    let run = openssl_verify_chain(&root_path, &untrusted, &leaf);
    assert!(run.ok, "{}{}", run.stdout, run.stderr);
    // A key of neither certificate is refused by name.
    let other = KeyPair::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let e = CertificateAuthority::import_bundle(certs, other).unwrap_err();
    assert!(
        e.to_string()
            .contains("belongs to none of the certificates"),
        "{e}"
    );
    // A device certificate alone is not a CA to upload.
    let e = ca_certificates_from_bytes(dev.certificate.pem().as_bytes(), None).unwrap_err();
    assert!(e.to_string().contains("holds no CA certificate"), "{e}");
    assert!(matches!(
        ca_certificates_from_bytes(inter.key().to_pkcs8_pem().unwrap().as_bytes(), None),
        Err(PkiError::CertificateInvalid { .. })
    ));
}

#[test]
fn a_pfx_without_its_key_gives_the_ca_certificate_for_upload_only() {
    use hubcert::pki::{ca_certificates_from_bytes, Field, PkiError};
    let (root, _) = root_and_intermediate(KeyAlgorithm::EcdsaP256, "Keyless");
    let dir = Scratch::new();
    let cert = dir.write("root.pem", root.certificate().pem());
    let out = dir.path().join("root-only.pfx");
    let made = openssl(&[
        "pkcs12",
        "-export",
        "-nokeys",
        "-in",
        path_str(&cert),
        "-passout",
        "pass:keyless pass",
        "-out",
        path_str(&out),
    ]);
    assert!(made.ok, "{}", made.stderr);
    let bytes = std::fs::read(&out).unwrap();
    assert_eq!(
        ca_certificates_from_bytes(&bytes, None).unwrap_err(),
        PkiError::FieldEmpty {
            field: Field::PfxPassword
        }
    );
    assert!(matches!(
        ca_certificates_from_bytes(&bytes, Some("wrong")),
        Err(PkiError::PasswordWrong { .. })
    ));
    let certs = ca_certificates_from_bytes(&bytes, Some("keyless pass")).unwrap();
    assert_eq!(certs, [root.certificate().clone()]);
}

/// A signed message's SignedData (signers, their attributes, the certificates that came with it),
/// as `openssl cms -sign` writes it: its certificates are read, the rest passed over. The same
/// message streamed (BER, lengths left open) is refused with the command that makes it DER, and
/// that command's output reads.
#[test]
fn a_signed_message_gives_its_certificates_and_ber_is_refused_with_the_way_to_der() {
    let (root, inter) = root_and_intermediate(KeyAlgorithm::EcdsaP256, "P7M");
    let dir = Scratch::new();
    let signer = dir.write("inter.pem", inter.certificate().pem());
    let key = dir.write("inter.key", inter.key().to_pkcs8_pem().unwrap().as_str());
    let extra = dir.write("root.pem", root.certificate().pem());
    let message = dir.write("message.txt", "telemetry\n");
    let sign = |out: &std::path::Path, stream: bool| {
        let mut args = vec![
            "cms",
            "-sign",
            "-binary",
            "-nodetach",
            "-in",
            path_str(&message),
            "-signer",
            path_str(&signer),
            "-inkey",
            path_str(&key),
            "-certfile",
            path_str(&extra),
            "-outform",
            "DER",
            "-out",
            path_str(out),
        ];
        if stream {
            args.push("-stream");
        }
        let made = openssl(&args);
        assert!(made.ok, "{}", made.stderr);
        std::fs::read(out).unwrap()
    };
    let signed = sign(&dir.path().join("signed.p7m"), false);
    let mut got: Vec<Vec<u8>> = read_pkcs7(&signed)
        .unwrap()
        .iter()
        .map(|c| c.der().to_vec())
        .collect();
    let mut want = vec![
        inter.certificate().der().to_vec(),
        root.certificate().der().to_vec(),
    ];
    got.sort();
    want.sort();
    assert_eq!(got, want);

    let streamed_path = dir.path().join("streamed.p7m");
    let streamed = sign(&streamed_path, true);
    assert_ne!(streamed, signed, "a streamed message is BER");
    let e = read_pkcs7(&streamed).unwrap_err().to_string();
    assert!(e.contains("BER") && e.contains("openssl pkcs7"), "{e}");
    let der_path = dir.path().join("der.p7b");
    let converted = openssl(&[
        "pkcs7",
        "-inform",
        "DER",
        "-in",
        path_str(&streamed_path),
        "-outform",
        "DER",
        "-out",
        path_str(&der_path),
    ]);
    assert!(converted.ok, "{}", converted.stderr);
    assert_eq!(
        read_pkcs7(&std::fs::read(&der_path).unwrap())
            .unwrap()
            .len(),
        2
    );

    // Cut anywhere inside: a message, never a panic.
    for cut in [1, 2, 10, signed.len() / 2, signed.len() - 1] {
        let e = read_pkcs7(&signed[..cut]).unwrap_err().to_string();
        assert!(
            e.contains("PKCS#7") || e.contains("cut short"),
            "{cut}: {e}"
        );
    }
}

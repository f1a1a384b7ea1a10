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

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

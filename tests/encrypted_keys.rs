//! Encrypted PKCS#8 keys: what the core writes opens with `openssl pkey -passin`; what OpenSSL 3
//! writes (`pkcs8 -topk8`, PBES2 with PBKDF2 or scrypt) opens in the core; a wrong password says so.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::*;
use hubcert::pki::{KeyAlgorithm, KeyPair, PkiError};

const PASSWORD: &str = "s3cret pass";

#[test]
fn the_cores_encrypted_keys_open_in_openssl() {
    for alg in [KeyAlgorithm::EcdsaP256, KeyAlgorithm::EcdsaP384] {
        let key = KeyPair::generate(alg).unwrap();
        let pem = key.to_encrypted_pkcs8_pem(PASSWORD).unwrap();
        assert!(pem.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"));
        let dir = Scratch::new();
        let path = dir.write("enc.key", pem.as_bytes());
        let pass = format!("pass:{PASSWORD}");
        let out = openssl(&[
            "pkey",
            "-in",
            path_str(&path),
            "-passin",
            &pass,
            "-pubout",
            "-outform",
            "DER",
        ]);
        assert!(out.ok, "{alg:?}: {}", out.stderr);
        let wrong = openssl(&[
            "pkey",
            "-in",
            path_str(&path),
            "-passin",
            "pass:nope",
            "-noout",
        ]);
        assert!(!wrong.ok, "{alg:?}: opened with a wrong password");
        // And back in the core.
        let back = KeyPair::from_encrypted_pkcs8_pem(&pem, PASSWORD).unwrap();
        assert_eq!(
            back.subject_public_key_info_der(),
            key.subject_public_key_info_der()
        );
        assert!(matches!(
            KeyPair::from_encrypted_pkcs8_pem(&pem, "nope"),
            Err(PkiError::PasswordWrong { .. })
        ));
    }
}

#[test]
fn keys_encrypted_by_openssl_import_with_their_password() {
    let dir = Scratch::new();
    for (curve, v2) in [
        ("P-256", &["-v2", "aes-256-cbc"][..]),
        (
            "P-384",
            &["-v2", "aes-128-cbc", "-v2prf", "hmacWithSHA256"][..],
        ),
        ("P-256", &["-scrypt"][..]),
    ] {
        let plain = dir.path().join("plain.key");
        let gen = openssl(&[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            &format!("ec_paramgen_curve:{curve}"),
            "-out",
            path_str(&plain),
        ]);
        assert!(gen.ok, "{}", gen.stderr);
        let enc = dir.path().join("enc.key");
        let pass = format!("pass:{PASSWORD}");
        let mut args = vec![
            "pkcs8",
            "-topk8",
            "-in",
            path_str(&plain),
            "-out",
            path_str(&enc),
            "-passout",
            &pass,
        ];
        args.extend_from_slice(v2);
        let run = openssl(&args);
        assert!(run.ok, "{}", run.stderr);
        let text = std::fs::read_to_string(&enc).unwrap();
        let key = KeyPair::from_encrypted_pkcs8_pem(&text, PASSWORD)
            .unwrap_or_else(|e| panic!("{curve} {v2:?}: {e}"));
        // The same public key, as OpenSSL prints it from its own plain copy.
        let expected = openssl(&["pkey", "-in", path_str(&plain), "-pubout"]);
        let spki = dir.write("core.spki", key.subject_public_key_info_der());
        let got = openssl(&[
            "pkey",
            "-pubin",
            "-inform",
            "DER",
            "-in",
            path_str(&spki),
            "-pubout",
        ]);
        assert!(expected.ok && got.ok, "{}{}", expected.stderr, got.stderr);
        assert_eq!(got.stdout, expected.stdout, "{curve} {v2:?}");
        assert!(matches!(
            KeyPair::from_encrypted_pkcs8_pem(&text, "wrong"),
            Err(PkiError::PasswordWrong { .. })
        ));
    }
    // An unencrypted key or garbage handed in as encrypted: named, not a panic.
    let err = KeyPair::from_encrypted_pkcs8_pem(
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        PASSWORD,
    )
    .unwrap_err();
    assert!(err.to_string().contains("ENCRYPTED PRIVATE KEY"), "{err}");
}

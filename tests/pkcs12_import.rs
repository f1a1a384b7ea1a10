//! `.pfx` import: files made by OpenSSL 3 (default AES-256, `-legacy` RC2-40 + 3DES, 3DES
//! certificates, unencrypted bags, SHA-512 MAC) and by this tool, for P-256, P-384 and RSA keys,
//! give back the key, its certificate, the chain in issuer order and the friendly name; a wrong
//! password, a file without a key, PEM text and garbage are each refused by name.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::*;
use hubcert::contract::DeviceId;
use hubcert::pki::{
    export_pkcs12, import_pkcs12, CertificateAuthority, DeviceCertParams, KeyAlgorithm,
    Pkcs12Preset, PkiError, ValidityDays,
};

const PASSWORD: &str = "pfx-pässword";

#[test]
fn pfx_files_from_openssl_and_from_here_import_with_key_chain_and_name() {
    let dir = Scratch::new();
    for key in [
        KeyAlgorithm::EcdsaP256,
        KeyAlgorithm::EcdsaP384,
        KeyAlgorithm::RSA_2048,
    ] {
        let (root, inter) = root_and_intermediate(key, "Import");
        let dev = inter
            .issue_device_identity(
                &DeviceCertParams {
                    device_id: DeviceId::parse("pfx-import").unwrap(),
                    validity: ValidityDays::new(365).unwrap(),
                },
                key,
                now(),
            )
            .unwrap();
        let key_pem = dev.key.to_pkcs8_pem().unwrap();
        let key_path = dir.write("dev.key", key_pem.as_str());
        let cert_path = dir.write("dev.pem", dev.certificate.pem());
        // The chain file in the wrong order on purpose: import puts it in issuer order.
        let chain_path = dir.write(
            "chain.pem",
            format!("{}{}", root.certificate().pem(), inter.certificate().pem()),
        );
        let pass = format!("pass:{PASSWORD}");
        let mut made: Vec<(String, Vec<u8>)> = Vec::new();
        for (label, extra) in [
            ("OpenSSL default (AES-256)", vec![]),
            ("OpenSSL -legacy (RC2-40 + 3DES)", vec!["-legacy"]),
            (
                "OpenSSL 3DES certificates",
                vec!["-certpbe", "PBE-SHA1-3DES"],
            ),
            (
                "OpenSSL unencrypted bags",
                vec!["-keypbe", "NONE", "-certpbe", "NONE"],
            ),
            ("OpenSSL SHA-512 MAC", vec!["-macalg", "sha512"]),
        ] {
            let out = dir.path().join("o.pfx");
            let mut args = vec![
                "pkcs12",
                "-export",
                "-inkey",
                path_str(&key_path),
                "-in",
                path_str(&cert_path),
                "-certfile",
                path_str(&chain_path),
                "-name",
                "my device",
                "-passout",
                &pass,
                "-out",
                path_str(&out),
            ];
            args.extend(extra);
            let run = openssl(&args);
            assert!(run.ok, "{label}: {}", run.stderr);
            made.push((label.into(), std::fs::read(&out).unwrap()));
        }
        for preset in [Pkcs12Preset::Modern, Pkcs12Preset::Legacy] {
            let pfx = export_pkcs12(
                &dev.key,
                &dev.certificate,
                &[inter.certificate().clone(), root.certificate().clone()],
                "my device",
                PASSWORD,
                preset,
            )
            .unwrap();
            made.push((format!("hubcert {preset:?}"), pfx));
        }
        for (label, pfx) in made {
            let what = format!("{key} / {label}");
            let got = import_pkcs12(&pfx, PASSWORD).unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!(
                got.key.subject_public_key_info_der(),
                dev.key.subject_public_key_info_der(),
                "{what}"
            );
            assert_eq!(got.key.algorithm(), key, "{what}");
            assert_eq!(got.certificate.der(), dev.certificate.der(), "{what}");
            let chain: Vec<&[u8]> = got.chain.iter().map(|c| c.der()).collect();
            assert_eq!(
                chain,
                vec![inter.certificate().der(), root.certificate().der()],
                "{what}"
            );
            assert_eq!(got.friendly_name.as_deref(), Some("my device"), "{what}");
            // The imported key signs what the certificate says: the pair is usable.
            let back = export_pkcs12(
                &got.key,
                &got.certificate,
                &got.chain,
                "again",
                "x1234",
                Pkcs12Preset::Modern,
            );
            assert!(back.is_ok(), "{what}");
            // A wrong password is named as such, whatever the ciphers.
            let err = import_pkcs12(&pfx, "not the password").unwrap_err();
            assert!(
                matches!(err, PkiError::PasswordWrong { .. }),
                "{what}: {err:?}"
            );
        }
    }
}

#[test]
fn a_ca_pfx_imports_as_a_ca_that_signs_devices() {
    let dir = Scratch::new();
    let (root, inter) = root_and_intermediate(KeyAlgorithm::EcdsaP256, "Import");
    let pfx = export_pkcs12(
        inter.key(),
        inter.certificate(),
        &[root.certificate().clone()],
        "intermediate",
        PASSWORD,
        Pkcs12Preset::Modern,
    )
    .unwrap();
    let got = import_pkcs12(&pfx, PASSWORD).unwrap();
    let ca = CertificateAuthority::import(got.certificate, got.key, got.chain).unwrap();
    assert!(!ca.is_root());
    let dev = device(&ca, "from-pfx-ca", 30);
    let run = openssl_verify_chain(
        &dir.write("root.pem", root.certificate().pem()),
        &dir.write("inter.pem", inter.certificate().pem()),
        &dir.write("dev.pem", dev.certificate.pem()),
    );
    assert!(run.ok, "{}{}", run.stdout, run.stderr);
}

#[test]
fn unusable_pfx_files_are_refused_by_name() {
    let dir = Scratch::new();
    let (root, _) = root_and_intermediate(KeyAlgorithm::EcdsaP256, "Import");
    let dev = device(&root, "no-key", 30);
    let cert = dir.write("c.pem", dev.certificate.pem());
    let out = dir.path().join("nokey.pfx");
    let run = openssl(&[
        "pkcs12",
        "-export",
        "-nokeys",
        "-in",
        path_str(&cert),
        "-passout",
        "pass:pw12",
        "-out",
        path_str(&out),
    ]);
    assert!(run.ok, "{}", run.stderr);
    let err = import_pkcs12(&std::fs::read(&out).unwrap(), "pw12").unwrap_err();
    assert!(err.to_string().contains("no private key"), "{err}");

    let err = import_pkcs12(dev.certificate.pem().as_bytes(), "x").unwrap_err();
    assert!(err.to_string().contains("PEM text, not a .pfx"), "{err}");
    let err = import_pkcs12(b"", "x").unwrap_err();
    assert!(err.to_string().contains("empty"), "{err}");
    let err = import_pkcs12(b"\x30\x82\x05\x00garbage", "x").unwrap_err();
    assert!(err.to_string().contains("not a PKCS#12 file"), "{err}");
    let err = import_pkcs12(&vec![0x30; 2 << 20], "x").unwrap_err();
    assert!(matches!(err, PkiError::TooLarge { .. }), "{err:?}");
    // A certificate in DER is not a .pfx either.
    let err = import_pkcs12(dev.certificate.der(), "x").unwrap_err();
    assert!(err.to_string().contains("not a PKCS#12 file"), "{err}");
}

#[test]
fn a_pfx_asking_for_endless_key_derivation_is_refused_at_once() {
    use der::{Decode, Encode};
    let (root, _) = root_and_intermediate(KeyAlgorithm::EcdsaP256, "Import");
    let dev = device(&root, "slow-pfx", 30);
    let pfx = export_pkcs12(
        &dev.key,
        &dev.certificate,
        &[],
        "x",
        "pw12",
        Pkcs12Preset::Legacy,
    )
    .unwrap();
    let mut parsed = pkcs12::pfx::Pfx::from_der(&pfx).unwrap();
    parsed.mac_data.as_mut().unwrap().iterations = 50_000_000;
    let crafted = parsed.to_der().unwrap();
    // Refused by its parameters, before any of that work is started.
    let err = import_pkcs12(&crafted, "pw12").unwrap_err();
    assert!(
        err.to_string()
            .contains("50000000 key-derivation iterations"),
        "{err}"
    );
}

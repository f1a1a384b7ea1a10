//! `.pfx` export: OpenSSL 3 opens every modern file and, with `-legacy`, every legacy one, with
//! the password only; the key inside matches the certificate; the chain is there; NSS's
//! `pk12util` (what Chromium and Firefox use) imports both presets.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::process::Command;

use common::*;
use hubcert::pki::{export_pkcs12, KeyAlgorithm, Pkcs12Preset, PkiError};

const PASSWORD: &str = "correct horse ✓";

fn pk12util_import(dir: &Scratch, pfx: &std::path::Path) -> (bool, String) {
    let db = dir.path().join("nssdb");
    std::fs::create_dir_all(&db).unwrap();
    let db_arg = format!("sql:{}", db.display());
    let init = Command::new("certutil")
        .args(["-N", "-d", &db_arg, "--empty-password"])
        .output()
        .expect("certutil (Debian libnss3-tools)");
    assert!(init.status.success());
    let out = Command::new("pk12util")
        .args(["-i", path_str(pfx), "-d", &db_arg, "-W", PASSWORD, "-K", ""])
        .output()
        .expect("pk12util (Debian libnss3-tools)");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn openssl_and_nss_open_every_preset_for_p256_and_p384() {
    for key in [KeyAlgorithm::EcdsaP256, KeyAlgorithm::EcdsaP384] {
        let (root, inter) = root_and_intermediate(key, "PFX");
        let dev = device(&inter, "pfx-device", 365);
        for preset in [Pkcs12Preset::Modern, Pkcs12Preset::Legacy] {
            let what = format!("{key:?} {preset:?}");
            let pfx = export_pkcs12(
                &dev.key,
                &dev.certificate,
                &[inter.certificate().clone(), root.certificate().clone()],
                "pfx-device",
                PASSWORD,
                preset,
            )
            .unwrap();
            let dir = Scratch::new();
            let path = dir.write("device.pfx", &pfx);
            let pass = format!("pass:{PASSWORD}");
            let legacy = preset == Pkcs12Preset::Legacy;
            let with = |extra: &[&str]| {
                let mut args = vec!["pkcs12"];
                if legacy {
                    args.push("-legacy");
                }
                args.extend_from_slice(&["-in", path_str(&path), "-passin", &pass]);
                args.extend_from_slice(extra);
                openssl(&args)
            };

            // The structure and algorithms, as OpenSSL reports them.
            let info = with(&["-info", "-noout"]);
            assert!(info.ok, "{what}: {}", info.stderr);
            let report = format!("{}{}", info.stdout, info.stderr);
            if legacy {
                assert!(report.contains("MAC: sha1"), "{what}: {report}");
                assert!(
                    report.contains("pbeWithSHA1And3-KeyTripleDES-CBC"),
                    "{what}: {report}"
                );
            } else {
                assert!(report.contains("MAC: sha256"), "{what}: {report}");
                assert!(
                    report.contains("PBES2, PBKDF2, AES-256-CBC"),
                    "{what}: {report}"
                );
                // OWASP's 600,000 iterations, for the key's encryption and for the MAC.
                assert!(report.contains("Iteration 600000"), "{what}: {report}");
                assert!(!report.contains("Iteration 2048"), "{what}: {report}");
            }

            // Three certificates: the device, the intermediate, the root.
            let certs = with(&["-nokeys"]);
            assert!(certs.ok, "{what}: {}", certs.stderr);
            assert_eq!(
                certs.stdout.matches("BEGIN CERTIFICATE").count(),
                3,
                "{what}"
            );
            assert!(
                certs.stdout.contains("friendlyName: pfx-device"),
                "{what}: {}",
                certs.stdout
            );

            // The key inside is the certificate's key.
            let keys = with(&["-nocerts", "-nodes"]);
            assert!(keys.ok, "{what}: {}", keys.stderr);
            let key_path = dir.write("key.pem", &keys.stdout);
            let cert_path = dir.write("cert.pem", dev.certificate.pem());
            let a = openssl(&["pkey", "-in", path_str(&key_path), "-pubout"]);
            let b = openssl(&["x509", "-in", path_str(&cert_path), "-noout", "-pubkey"]);
            assert!(a.ok && b.ok, "{what}: {}{}", a.stderr, b.stderr);
            assert_eq!(a.stdout, b.stdout, "{what}");

            // A wrong password is refused.
            let wrong = openssl(&[
                "pkcs12",
                "-in",
                path_str(&path),
                "-passin",
                "pass:wrong",
                "-info",
                "-noout",
            ]);
            assert!(!wrong.ok, "{what}: opened with a wrong password");

            // NSS imports it (what Chromium and Firefox on Linux use).
            let (ok, out) = pk12util_import(&dir, &path);
            assert!(ok, "{what}: {out}");
        }
    }
}

#[test]
fn bad_requests_are_refused_with_a_reason() {
    let (root, _) = root_and_intermediate(KeyAlgorithm::EcdsaP256, "PFX");
    let dev = device(&root, "refused", 30);
    let other = device(&root, "other", 30);
    assert!(matches!(
        export_pkcs12(
            &dev.key,
            &dev.certificate,
            &[],
            "x",
            "",
            Pkcs12Preset::Modern
        ),
        Err(PkiError::FieldEmpty { .. })
    ));
    let err = export_pkcs12(
        &other.key,
        &dev.certificate,
        &[],
        "x",
        PASSWORD,
        Pkcs12Preset::Modern,
    )
    .unwrap_err();
    assert!(err.to_string().contains("does not belong"), "{err}");
}

/// The export as the page hands it to a worker: JSON there and back, then run. OpenSSL opens the
/// `.pfx` and the encrypted key with the password; the job's Debug shows neither secret.
#[test]
fn a_key_export_job_made_for_a_worker_gives_files_openssl_opens() {
    use hubcert::pki::{KeyExportJob, KeyExportKind};
    let (root, inter) = root_and_intermediate(KeyAlgorithm::EcdsaP256, "Job");
    let dev = device(&inter, "job-device", 365);
    let key_der = dev.key.to_pkcs8_der().unwrap();
    let chain = [inter.certificate().clone(), root.certificate().clone()];
    let dir = Scratch::new();
    let pass = format!("pass:{PASSWORD}");
    for kind in [KeyExportKind::PfxModern, KeyExportKind::EncryptedKey] {
        let job = KeyExportJob::new(
            kind,
            &key_der,
            &dev.certificate,
            &chain,
            "job-device",
            PASSWORD,
        );
        let debug = format!("{job:?}");
        assert!(
            !debug.contains(PASSWORD) && !debug.contains(&job.key),
            "{debug}"
        );
        let sent = serde_json::to_string(&job).unwrap();
        let received: KeyExportJob = serde_json::from_str(&sent).unwrap();
        let file = received.run().unwrap();
        let opened = if kind == KeyExportKind::EncryptedKey {
            let path = dir.write("job.key", &file);
            openssl(&["pkey", "-in", path_str(&path), "-passin", &pass, "-pubout"])
        } else {
            let path = dir.write("job.pfx", &file);
            openssl(&[
                "pkcs12",
                "-in",
                path_str(&path),
                "-passin",
                &pass,
                "-nocerts",
                "-nodes",
            ])
        };
        assert!(opened.ok, "{kind:?}: {}", opened.stderr);
    }
    // A damaged job says what is damaged.
    let mut job = KeyExportJob::new(
        KeyExportKind::PfxLegacy,
        &key_der,
        &dev.certificate,
        &chain,
        "x",
        PASSWORD,
    );
    job.certificate = "not base64!".into();
    let e = job.run().unwrap_err().to_string();
    assert!(e.contains("damaged certificate"), "{e}");
}

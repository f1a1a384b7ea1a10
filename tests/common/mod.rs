//! Helpers for native interop tests: a pinned clock, a scratch directory and the OpenSSL 3 CLI.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use hubcert::pki::{CertificateAuthority, Identity, KeyAlgorithm, RootCaParams, ValidityDays};
use rustls_pki_types::{CertificateDer, UnixTime};
use time::OffsetDateTime;

/// 2026-05-28T20:26:40Z: every test runs at this instant, and OpenSSL checks at it (`-attime`).
pub const NOW_UNIX: i64 = 1_780_000_000;

pub fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(NOW_UNIX).expect("valid timestamp")
}

#[path = "../support/identities.rs"]
mod identities;
pub use identities::device_at;

pub fn root() -> CertificateAuthority {
    identities::root_at(&RootCaParams::default().common_name, now())
}

/// A root and an intermediate (pathLen 0, 1000 days) below it, both with `key`, named
/// "{name} Root" and "{name} Intermediate".
pub fn root_and_intermediate(
    key: KeyAlgorithm,
    name: &str,
) -> (CertificateAuthority, CertificateAuthority) {
    let root = CertificateAuthority::create_root(
        &RootCaParams {
            common_name: format!("{name} Root"),
            key_algorithm: key,
            ..RootCaParams::default()
        },
        now(),
    )
    .expect("root CA");
    let inter = root
        .issue_intermediate(
            &hubcert::pki::IntermediateCaParams {
                subject: RootCaParams {
                    common_name: format!("{name} Intermediate"),
                    validity: ValidityDays::new(1000).expect("valid days"),
                    key_algorithm: key,
                    ..RootCaParams::default()
                },
                path_len: Some(0),
            },
            now(),
        )
        .expect("intermediate CA");
    (root, inter)
}

pub fn device(ca: &CertificateAuthority, id: &str, days: u32) -> Identity {
    device_at(ca, id, days, now())
}

pub fn verification(ca: &CertificateAuthority, code: &str) -> Identity {
    identities::verification_at(ca, code, now())
}

/// A scratch directory that is removed when dropped.
pub struct Scratch(tempfile::TempDir);

impl Scratch {
    pub fn new() -> Self {
        Self(tempfile::tempdir().expect("temp dir"))
    }

    #[track_caller]
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.0.path().join(name);
        std::fs::write(&path, contents).expect("write scratch file");
        path
    }

    pub fn path(&self) -> &Path {
        self.0.path()
    }
}

/// Output of an `openssl` run.
pub struct Run {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

/// Runs the OpenSSL 3 CLI; the tests are meaningless without it, so its absence fails them.
#[track_caller]
pub fn openssl(args: &[&str]) -> Run {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl on PATH");
    Run {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

pub fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

/// `openssl verify -attime NOW -CAfile ca leaf`, returning the run.
#[track_caller]
pub fn openssl_verify(ca: &Path, leaf: &Path) -> Run {
    verify_at_now(ca, None, leaf)
}

#[track_caller]
fn verify_at_now(ca: &Path, untrusted: Option<&Path>, leaf: &Path) -> Run {
    let at = NOW_UNIX.to_string();
    let mut args = vec!["verify", "-attime", &at, "-CAfile", path_str(ca)];
    if let Some(u) = untrusted {
        args.extend_from_slice(&["-untrusted", path_str(u)]);
    }
    args.push(path_str(leaf));
    openssl(&args)
}

/// `openssl req -x509`: a self-signed certificate `{name}.pem` and its key `{name}.key` in `dir`.
/// `key` is `"ec:P-256"`, `"ec:P-384"` or `"rsa:BITS"`; each of `addext` becomes an `-addext`.
#[track_caller]
pub fn openssl_self_signed(
    dir: &Scratch,
    name: &str,
    key: &str,
    subject: &str,
    days: u32,
    addext: &[&str],
) -> (PathBuf, PathBuf) {
    openssl_self_signed_with(dir, name, key, subject, days, addext, &[])
}

/// As [`openssl_self_signed`], with `more` arguments for `openssl req` (`-set_serial N`).
#[track_caller]
pub fn openssl_self_signed_with(
    dir: &Scratch,
    name: &str,
    key: &str,
    subject: &str,
    days: u32,
    addext: &[&str],
    more: &[&str],
) -> (PathBuf, PathBuf) {
    let cert = dir.path().join(format!("{name}.pem"));
    let key_path = dir.path().join(format!("{name}.key"));
    let days = days.to_string();
    let curve;
    let mut args = vec!["req", "-x509", "-newkey"];
    match key.strip_prefix("ec:") {
        Some(c) => {
            curve = format!("ec_paramgen_curve:{c}");
            args.extend(["ec", "-pkeyopt", &curve]);
        }
        None => args.push(key),
    }
    args.extend([
        "-nodes",
        "-keyout",
        path_str(&key_path),
        "-out",
        path_str(&cert),
        "-days",
        &days,
        "-subj",
        subject,
    ]);
    for ext in addext {
        args.extend(["-addext", ext]);
    }
    args.extend(more);
    let run = openssl(&args);
    assert!(run.ok, "openssl req -x509 {name}: {}", run.stderr);
    (cert, key_path)
}

/// `openssl x509 -noout -text`, asserting it parsed.
#[track_caller]
pub fn openssl_text(cert: &Path) -> String {
    let run = openssl(&["x509", "-noout", "-text", "-in", path_str(cert)]);
    assert!(
        run.ok,
        "openssl could not read {}: {}",
        cert.display(),
        run.stderr
    );
    run.stdout
}

/// The lines of `text` following the line that contains `heading`, up to the next heading.
pub fn extension_block<'a>(text: &'a str, heading: &str) -> Option<(&'a str, &'a str)> {
    let mut lines = text.lines();
    let head = lines.find(|l| l.contains(heading))?;
    let body = lines.next()?;
    Some((head.trim(), body.trim()))
}

/// rustls-webpki's verdict on `leaf` as a TLS client under `root`, given `intermediates`, at `at`.
pub fn webpki_client_auth_at(
    root_der: &[u8],
    intermediates: &[&[u8]],
    leaf_der: &[u8],
    at: UnixTime,
) -> Result<(), webpki::Error> {
    let root = CertificateDer::from(root_der.to_vec());
    let anchor = webpki::anchor_from_trusted_cert(&root)?;
    let leaf = CertificateDer::from(leaf_der.to_vec());
    let ee = webpki::EndEntityCert::try_from(&leaf)?;
    let inter: Vec<CertificateDer> = intermediates
        .iter()
        .map(|d| CertificateDer::from(d.to_vec()))
        .collect();
    ee.verify_for_usage(
        webpki::ALL_VERIFICATION_ALGS,
        &[anchor],
        &inter,
        at,
        webpki::KeyUsage::client_auth(),
        None,
        None,
    )
    .map(|_| ())
}

/// [`webpki_client_auth_at`] at the pinned clock.
pub fn webpki_client_auth(
    root_der: &[u8],
    intermediates: &[&[u8]],
    leaf_der: &[u8],
) -> Result<(), webpki::Error> {
    let at = UnixTime::since_unix_epoch(std::time::Duration::from_secs(NOW_UNIX as u64));
    webpki_client_auth_at(root_der, intermediates, leaf_der, at)
}

/// `openssl verify -attime NOW -CAfile root -untrusted chain leaf`.
#[track_caller]
pub fn openssl_verify_chain(root: &Path, untrusted: &Path, leaf: &Path) -> Run {
    verify_at_now(root, Some(untrusted), leaf)
}

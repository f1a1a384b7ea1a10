//! A long chain of certificates, cheap to make (one P-256 key signs all, no extensions), in a
//! shuffled order: what `tests/large_bundle.rs` checks and `benches/identities.rs` times (the
//! ordering of a `.p7b` of 3,000, as the inspector opens it, and of a CA imported with them).

use hubcert::pki::{Certificate, KeyPair};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyIdMethod, KeyUsagePurpose,
    SerialNumber,
};
use time::{Duration, OffsetDateTime};

/// 2026-05-28T20:26:40Z.
fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_780_000_000).expect("valid timestamp")
}

/// Level `level`'s certificate parameters: CN "L{level}" and nothing more (no extensions), so
/// that 3,000 of them fit in the 1 MiB a file may have, as the bundle that froze the page did
/// (0.8 MB); the deepest (`last`) is a CA that may sign, so it can be imported with its key.
fn params(level: usize, last: bool, key: &KeyPair) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name
        .push(DnType::CommonName, format!("L{level}"));
    p.not_before = now() - Duration::days(1);
    p.not_after = now() + Duration::days(365);
    p.serial_number = Some(SerialNumber::from(level as u64 + 1));
    if last {
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.key_usages = vec![KeyUsagePurpose::KeyCertSign];
        p.key_identifier_method = KeyIdMethod::PreSpecified(key.key_identifier());
    }
    p
}

/// `levels` certificates named L0 to L{levels - 1}, each signed by the one before (L0 by
/// itself) with `key`; the deepest has `last_key`. Root first.
pub fn long_chain(levels: usize, key: &KeyPair, last_key: &KeyPair) -> Vec<Certificate> {
    let root = params(0, false, key).self_signed(key).expect("root");
    let mut certs = vec![Certificate::from_der(root.der().to_vec()).expect("root parses")];
    let mut issuer = Issuer::new(params(0, false, key), key);
    for level in 1..levels {
        let last = level + 1 == levels;
        let subject_key = if last { last_key } else { key };
        let p = params(level, last, subject_key);
        let cert = p.signed_by(subject_key, &issuer).expect("certificate");
        certs.push(Certificate::from_der(cert.der().to_vec()).expect("certificate parses"));
        issuer = Issuer::new(p, key);
    }
    certs
}

/// The same certificates in another order, the same every run (xorshift, Fisher-Yates).
pub fn shuffled(mut certs: Vec<Certificate>) -> Vec<Certificate> {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    for i in (1..certs.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        certs.swap(i, (state % (i as u64 + 1)) as usize);
    }
    certs
}

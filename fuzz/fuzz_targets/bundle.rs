//! Chain files and `.p7b` bundles as a user brings an existing CA: read (PEM chain, DER, PKCS#7
//! in PEM or DER), checked as a chain, then imported with the CA's key (`import_bundle`), which
//! finds the key's certificate, orders the issuers and reproduces the subject. The key is the one
//! the seeds' CA was made with (`fuzz/seeds/ca.key`), so mutated seeds reach the import.
#![no_main]
use hubcert::pki::{
    ca_certificates_from_bytes, certificates_from_bytes, chain_checks, read_pkcs7,
    CertificateAuthority, KeyPair,
};
use libfuzzer_sys::fuzz_target;

const CA_KEY: &str = include_str!("../seeds/ca.key");

fuzz_target!(|data: &[u8]| {
    let now = time::OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000);
    let _ = read_pkcs7(data);
    let _ = ca_certificates_from_bytes(data, Some("fuzz"));
    if let Ok(certs) = certificates_from_bytes(data) {
        let _ = chain_checks(&certs, now);
        let key = KeyPair::from_any_pem(CA_KEY, None).unwrap();
        if let Ok(ca) = CertificateAuthority::import_bundle(certs, key) {
            let _ = ca.chain_pem();
        }
    }
});

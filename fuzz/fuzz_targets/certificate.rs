//! Certificates as a user drops them (PEM or DER): read, describe (every extension), check.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(cert) = hubcert::pki::certificate_from_bytes(data) {
        if let Ok(info) = cert.info() {
            let _ = info.extensions.len();
            let now = time::OffsetDateTime::UNIX_EPOCH;
            let _ = hubcert::pki::ca_checks(&cert, now);
            let _ = hubcert::pki::is_signed_by(&cert, &cert);
        }
    }
});

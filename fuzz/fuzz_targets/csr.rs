//! Certificate signing requests from devices (PEM or DER): read and check the self-signature.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(req) = hubcert::pki::read_csr(data) {
        let _ = req.device_id();
    }
});

//! Private keys: PEM in every label (with and without a password) and PKCS#8 DER.
#![no_main]
use libfuzzer_sys::fuzz_target;
use hubcert::pki::KeyPair;

fuzz_target!(|data: &[u8]| {
    let _ = KeyPair::from_pkcs8_der(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = KeyPair::from_any_pem(text, None);
        let _ = KeyPair::from_any_pem(text, Some("fuzz"));
    }
});

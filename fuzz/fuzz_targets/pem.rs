//! The inspector's entry point: anything pasted or dropped, PEM or DER, with a password.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = hubcert::pki::inspect(data, None);
    let _ = hubcert::pki::inspect(data, Some("fuzz"));
});

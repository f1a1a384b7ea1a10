//! `.pfx` files: structure, MAC, decryption of every supported cipher, bags.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = hubcert::pki::import_pkcs12(data, "fuzz");
});

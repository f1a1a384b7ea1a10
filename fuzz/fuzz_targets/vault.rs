//! A saved workspace file (`.hubcert`) as the page opens it: the sealed file's header up to the
//! key derivation (`open_vault`), and the workspace JSON inside (`Workspace::from_json`, which
//! restores every CA and reads every certificate and key). The first byte picks which.
//!
//! A header whose Argon2id cost the page would accept costs a real derivation (19 MiB, 2 passes
//! at least), far too slow to fuzz: such inputs stop before `open_vault`. So the fuzzer covers the
//! JSON, the checks of format, version, names and cost, and refusals; a cost bound itself is a
//! unit test's job.
#![no_main]
use hubcert::pki::{open_vault, vault_size_ok, Workspace};
use libfuzzer_sys::fuzz_target;

/// Whether `file` could ask for a key derivation: its kdf names a memory cost of at least 7 MiB
/// (the least any accepted parameters have), or says it in a form this check cannot read.
fn may_derive(file: &serde_json::Value) -> bool {
    let Some(kdf) = file.get("kdf") else {
        return false;
    };
    match kdf.get("memoryKib") {
        None => false,
        Some(m) => m.as_u64().is_none_or(|m| m >= 7_168),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    if which % 2 == 0 {
        if let Ok(w) = Workspace::from_json(rest) {
            let again = Workspace::from_json(&w.to_json().unwrap()).unwrap();
            assert_eq!(w, again);
        }
        return;
    }
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    if vault_size_ok(text.len()).is_err() {
        return;
    }
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v) if may_derive(&v) => {}
        // Not JSON (or JSON the check passes): refused before any derivation.
        _ => {
            let _ = open_vault(text, "fuzz passphrase");
        }
    }
});

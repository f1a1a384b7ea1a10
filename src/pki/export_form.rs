//! The key export form's decisions: the preset a choice stands for, the password hint, and what
//! each export says once saved.

use super::pbe::{Pkcs12Preset, MIN_EXPORT_PASSWORD_CHARS, MODERN_ITERATIONS};
use super::pkcs12::KeyExportKind;

/// Said when a password was generated: it must be copied before the file leaves.
pub const GENERATED_PASSWORD: &str = "A new password is in the field: copy it and keep it with the file's recipient before downloading.";

/// The `.pfx` preset and export a choice stands for (`legacy`: 3DES and SHA-1 for old Windows and
/// Android).
pub fn pfx_choice(legacy: bool) -> (Pkcs12Preset, KeyExportKind) {
    if legacy {
        (Pkcs12Preset::Legacy, KeyExportKind::PfxLegacy)
    } else {
        (Pkcs12Preset::Modern, KeyExportKind::PfxModern)
    }
}

/// The hint under the password: the minimum, how far the typed one is, ✓ once long enough.
pub fn export_password_hint(password: &str) -> String {
    let so_far = match password.chars().count() {
        0 => String::new(),
        n if n < MIN_EXPORT_PASSWORD_CHARS => format!(" ({n} so far)"),
        _ => " ✓".into(),
    };
    format!("At least {MIN_EXPORT_PASSWORD_CHARS} characters{so_far}")
}

/// Where a key file was encrypted, said after "Saved …".
fn where_made(off_page: bool) -> &'static str {
    if off_page {
        " Encrypted in a worker, off the page's thread."
    } else {
        ""
    }
}

/// After a `.pfx` was saved.
pub fn pfx_saved(name: &str, preset: Pkcs12Preset, off_page: bool) -> String {
    format!("Saved {name} ({}).{}", preset.label(), where_made(off_page))
}

/// After an encrypted key was saved.
pub fn encrypted_key_saved(name: &str, off_page: bool) -> String {
    format!(
        "Saved {name} (PKCS#8, AES-256-CBC, PBKDF2-HMAC-SHA256, {MODERN_ITERATIONS} iterations).{}",
        where_made(off_page)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_choice_gives_the_preset_and_the_export() {
        assert_eq!(
            pfx_choice(true),
            (Pkcs12Preset::Legacy, KeyExportKind::PfxLegacy)
        );
        assert_eq!(
            pfx_choice(false),
            (Pkcs12Preset::Modern, KeyExportKind::PfxModern)
        );
    }

    #[test]
    fn the_hint_counts_up_to_the_minimum() {
        assert_eq!(export_password_hint(""), "At least 12 characters");
        assert_eq!(
            export_password_hint("abc"),
            "At least 12 characters (3 so far)"
        );
        assert_eq!(
            export_password_hint("abcdefghijkl"),
            "At least 12 characters ✓"
        );
    }

    #[test]
    fn saved_lines_say_where_the_key_was_encrypted() {
        assert!(pfx_saved("d.pfx", Pkcs12Preset::Modern, true).ends_with("off the page's thread."));
        assert!(encrypted_key_saved("d.encrypted.key", false).ends_with("600000 iterations)."));
    }
}

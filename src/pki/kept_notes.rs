//! What the page says of the workspaces kept in this browser: unlocking and forgetting one.

/// Said when "Unlock" is pressed with no passphrase typed.
pub fn unlock_needs_passphrase(name: &str) -> String {
    format!("Type '{name}''s passphrase in the field above, then unlock.")
}

/// Said when the kept workspace is gone (another tab forgot it).
pub fn no_longer_kept(name: &str) -> String {
    format!("'{name}' is no longer kept here.")
}

/// After unlocking `name`: what it holds (`counts`) and how long the key derivation took.
pub fn unlocked(name: &str, counts: &str, elapsed_ms: f64) -> String {
    format!(
        "Unlocked '{name}': {counts} (in {} ms).",
        elapsed_ms.round().max(0.0) as u64
    )
}

/// What "Forget" asks first.
pub fn forget_confirm(name: &str) -> String {
    format!("Forget '{name}'? It is deleted from this browser; only a saved file brings it back. Press Forget again to confirm.")
}

/// After forgetting `name`.
pub fn forgotten(name: &str) -> String {
    format!("Forgot '{name}': it is no longer in this browser.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_notes_name_the_workspace() {
        assert_eq!(
            unlock_needs_passphrase("lab"),
            "Type 'lab''s passphrase in the field above, then unlock."
        );
        assert_eq!(
            unlocked("lab", "1 CA, 2 devices", 812.4),
            "Unlocked 'lab': 1 CA, 2 devices (in 812 ms)."
        );
        assert!(forget_confirm("lab").ends_with("Press Forget again to confirm."));
        assert_eq!(
            forgotten("lab"),
            "Forgot 'lab': it is no longer in this browser."
        );
        assert_eq!(no_longer_kept("lab"), "'lab' is no longer kept here.");
    }
}

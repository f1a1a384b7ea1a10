//! What the inspector asks for next: whether it shows the password field.

use super::error::PkiError;
use super::inspect::Inspected;

/// Whether the inspector shows its password field, given what the input read as (`None`:
/// nothing typed), whether a password is typed, and whether the input is a file: while the
/// input needs or took a password (an encrypted key, a `.pfx`, a wrong password), and while one
/// is typed for a file or a key (so it can be corrected).
pub fn wants_password(
    read: Option<&Result<Inspected, PkiError>>,
    password_typed: bool,
    from_file: bool,
) -> bool {
    let needs = matches!(
        read,
        Some(Ok(Inspected::NeedsPassword { .. }) | Ok(Inspected::Pkcs12(_)))
            | Some(Err(PkiError::PasswordWrong { .. }))
    );
    let opened = matches!(read, Some(Ok(Inspected::Key(_))));
    needs || (password_typed && (from_file || opened))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::{KeyAlgorithm, KeyPair};

    #[test]
    fn the_password_field_shows_while_a_password_is_needed_or_typed() {
        let needs: Result<Inspected, PkiError> = Ok(Inspected::NeedsPassword {
            what: "encrypted private key",
        });
        assert!(wants_password(Some(&needs), false, false));
        let key = Ok(Inspected::Key(
            KeyPair::generate(KeyAlgorithm::EcdsaP256).unwrap(),
        ));
        assert!(!wants_password(Some(&key), false, false));
        assert!(wants_password(Some(&key), true, false));
        assert!(wants_password(None, true, true));
        assert!(!wants_password(None, true, false));
        assert!(!wants_password(None, false, false));
    }
}

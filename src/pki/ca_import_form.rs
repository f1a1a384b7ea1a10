//! The CA import form's decisions: which of its fields an error belongs to, and what it says of a
//! loaded file.

use super::error::PkiError;

/// A field of the CA import form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportSlot {
    /// The CA certificate (text or file, a chain, a `.pfx`).
    Certificate,
    /// The CA's private key.
    Key,
    /// The password of an encrypted key or a `.pfx`.
    Password,
}

/// Said when no key is given with a certificate.
pub const NO_CA_KEY: &str = "Paste the CA's private key or choose its file.";

/// Where a `.pfx` import error goes, and what it says (a `.pfx` without its key points to the
/// upload of a CA whose key is elsewhere).
pub fn pfx_import_error(e: PkiError) -> (ImportSlot, String) {
    match e {
        e @ PkiError::PasswordWrong { .. } => (ImportSlot::Password, e.to_string()),
        e @ PkiError::Pkcs12WithoutKey => (
            ImportSlot::Certificate,
            format!("{e} To upload this CA to the hub without its key, use \"Upload a CA certificate whose key is elsewhere\" in step 3."),
        ),
        e => (ImportSlot::Certificate, e.to_string()),
    }
}

/// Where an error reading the key goes: a wrong or missing password to the password.
pub fn key_error_slot(e: &PkiError) -> ImportSlot {
    match e {
        PkiError::PasswordWrong { .. } | PkiError::FieldEmpty { .. } => ImportSlot::Password,
        _ => ImportSlot::Key,
    }
}

/// Where an error joining the certificates and key goes: a key that does not fit to the key.
pub fn bundle_error_slot(e: &PkiError) -> ImportSlot {
    match e {
        PkiError::KeyInvalid { .. } => ImportSlot::Key,
        _ => ImportSlot::Certificate,
    }
}

/// What the form says of a loaded certificate file.
pub fn ca_file_loaded(name: &str, pkcs12: bool) -> String {
    if pkcs12 {
        format!(
            "{name} loaded (PKCS#12): it holds the key and chain too; enter its password below."
        )
    } else {
        format!("{name} loaded (DER or PKCS#7).")
    }
}

/// Why a key file cannot be read: it is not PEM text.
pub fn key_not_pem(name: &str) -> String {
    format!("{name} is not a PEM text file: export the key as PEM (openssl pkey -in key.der -inform DER -out key.pem).")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pfx_errors_go_to_the_password_or_the_certificate() {
        let wrong = PkiError::PasswordWrong { what: ".pfx" };
        assert_eq!(pfx_import_error(wrong).0, ImportSlot::Password);
        let (slot, text) = pfx_import_error(PkiError::Pkcs12WithoutKey);
        assert_eq!(slot, ImportSlot::Certificate);
        assert!(text.ends_with("in step 3."));
        assert_eq!(
            pfx_import_error(PkiError::ValidityZero).0,
            ImportSlot::Certificate
        );
    }

    #[test]
    fn key_and_bundle_errors_go_to_their_field() {
        let empty = PkiError::FieldEmpty {
            field: crate::pki::Field::KeyPassword,
        };
        assert_eq!(key_error_slot(&empty), ImportSlot::Password);
        assert_eq!(key_error_slot(&PkiError::ValidityZero), ImportSlot::Key);
        assert_eq!(
            bundle_error_slot(&PkiError::ValidityZero),
            ImportSlot::Certificate
        );
        let misfit = PkiError::KeyInvalid {
            detail: "not the certificate's key".into(),
        };
        assert_eq!(bundle_error_slot(&misfit), ImportSlot::Key);
        assert!(ca_file_loaded("ca.pfx", true).contains("PKCS#12"));
        assert_eq!(
            ca_file_loaded("ca.der", false),
            "ca.der loaded (DER or PKCS#7)."
        );
        assert!(key_not_pem("k.der").starts_with("k.der is not a PEM text file"));
    }
}

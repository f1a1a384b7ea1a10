//! The intermediate step's decisions: which field an intermediate's error belongs to, its pathLen
//! as chosen, the file names of the tree's intermediates and the create button's text.

use super::error::{Field, PkiError};

/// The form field an error in making an intermediate belongs to (`None`: the form as a whole).
pub fn intermediate_error_field(e: &PkiError) -> Option<Field> {
    match e {
        PkiError::ValidityExceedsIssuer { .. } => Some(Field::ValidityDays),
        PkiError::FieldEmpty { .. } | PkiError::FieldTooLong { .. } => Some(Field::CommonName),
        _ => None,
    }
}

/// The pathLen chosen: `0`, `1`, `2`, or `none` for no limit.
pub fn path_len_choice(choice: &str) -> Option<u8> {
    choice.parse().ok()
}

/// The file stem of the tree's `n`th CA when it is an intermediate (`n` counts the root as 0):
/// `intermediate-ca`, then `intermediate-ca-2`, …
pub fn intermediate_stem(n: usize) -> String {
    if n == 1 {
        "intermediate-ca".to_owned()
    } else {
        format!("intermediate-ca-{n}")
    }
}

/// The create button's text, naming the signing CA when there is one.
pub fn create_intermediate_label(signer: Option<&str>) -> String {
    match signer {
        Some(name) if !name.is_empty() => format!("Create intermediate CA signed by {name}"),
        _ => "Create intermediate CA".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tree_names_its_intermediates_in_order() {
        assert_eq!(intermediate_stem(1), "intermediate-ca");
        assert_eq!(intermediate_stem(3), "intermediate-ca-3");
        assert_eq!(path_len_choice("0"), Some(0));
        assert_eq!(path_len_choice("2"), Some(2));
        assert_eq!(path_len_choice("none"), None);
        assert_eq!(create_intermediate_label(None), "Create intermediate CA");
        assert_eq!(
            create_intermediate_label(Some("")),
            "Create intermediate CA"
        );
        assert_eq!(
            create_intermediate_label(Some("Root")),
            "Create intermediate CA signed by Root"
        );
    }

    #[test]
    fn errors_go_to_their_field() {
        let long = PkiError::FieldTooLong {
            field: Field::CommonName,
            len: 65,
            max: 64,
        };
        assert_eq!(intermediate_error_field(&long), Some(Field::CommonName));
        assert_eq!(
            intermediate_error_field(&PkiError::FieldEmpty {
                field: Field::Organization
            }),
            Some(Field::CommonName)
        );
        assert_eq!(intermediate_error_field(&PkiError::ValidityZero), None);
    }
}

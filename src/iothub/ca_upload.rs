//! The CA upload step's decisions (step 3): which certificate goes up and how it is verified,
//! what the page says before and after, and the Azure CLI equivalent.

use super::az::AzHub;

/// Said when there is nothing to upload.
pub const NO_CA_TO_UPLOAD: &str =
    "Create a root CA in step 1 first: it is what the hub will trust.";

/// Said when "Upload this certificate instead" finds neither text nor file.
pub const NO_OUTSIDE_CA: &str = "Paste the CA certificate (PEM) or choose its file (.pem, .cer, .p7b, or a .pfx without its key).";

/// Whether the upload asks the hub for automatic verification: when chosen, and always for a CA
/// whose key is not on the page (possession can only be proven with the key).
pub fn verify_automatically(chosen: bool, key_here: bool) -> bool {
    chosen || !key_here
}

/// The upload button's text.
pub fn upload_button(automatic: bool, outside: bool) -> &'static str {
    if automatic || outside {
        "Upload (verified automatically)"
    } else {
        "Upload and prove possession"
    }
}

/// How a CA certificate from elsewhere is named on the page: its CN (or "CA"), and which of the
/// `count` CA certificates of `source` it is.
pub fn outside_ca_label(cn: Option<&str>, count: usize, source: &str) -> String {
    let cn = cn.unwrap_or("CA");
    if count > 1 {
        format!("{cn} (the first of {count} CA certificates in {source})")
    } else {
        format!("{cn} (from {source})")
    }
}

/// Why the page cannot sign the verification certificate of a CA whose key is elsewhere.
pub fn possession_elsewhere(code: &str) -> String {
    format!(
        "the hub holds this CA unverified and its key is not on this page: sign a verification certificate with CN {code} where the key is, and verify it with the az commands below (or delete it and upload again with automatic verification)"
    )
}

/// What a finished upload says: the name, how it was verified, and what happened on the way
/// (`adopted`: the hub already held it under this name; `retried`: the etag changed mid-flow).
pub fn uploaded_message(name: &str, automatic: bool, adopted: bool, retried: bool) -> String {
    let how = if automatic {
        "automatic verification"
    } else {
        "proof of possession"
    };
    let mut message = format!("'{name}' is on the hub and verified ({how}).");
    if adopted {
        message.push_str(" This CA was already on the hub under this name.");
    }
    if retried {
        message
            .push_str(" The etag changed during the flow; it was read again and the call retried.");
    }
    message
}

/// The upload with the Azure CLI: verified at once, or the three steps of proof of possession.
pub fn upload_commands(az: &AzHub, name: &str, automatic: bool) -> String {
    if automatic {
        az.certificate_create(name, "root-ca.pem", true)
    } else {
        format!(
            "{}\n{}\n# make verification.pem with the code (step 3b below does it)\n{}",
            az.certificate_create(name, "root-ca.pem", false),
            az.verification_code(name),
            az.verify(name, "verification.pem")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ca_from_elsewhere_is_always_verified_automatically() {
        assert!(verify_automatically(false, false));
        assert!(verify_automatically(true, true));
        assert!(!verify_automatically(false, true));
        assert_eq!(
            upload_button(false, true),
            "Upload (verified automatically)"
        );
        assert_eq!(upload_button(false, false), "Upload and prove possession");
    }

    #[test]
    fn outside_ca_label_names_the_first_of_several() {
        assert_eq!(
            outside_ca_label(Some("Corp CA"), 1, "ca.pem"),
            "Corp CA (from ca.pem)"
        );
        assert_eq!(
            outside_ca_label(None, 3, "chain.p7b"),
            "CA (the first of 3 CA certificates in chain.p7b)"
        );
    }

    #[test]
    fn uploaded_message_adds_what_happened_on_the_way() {
        assert_eq!(
            uploaded_message("root", false, false, false),
            "'root' is on the hub and verified (proof of possession)."
        );
        let m = uploaded_message("root", true, true, true);
        assert!(m.starts_with(
            "'root' is on the hub and verified (automatic verification). This CA was already"
        ));
        assert!(m.ends_with("the call retried."));
    }

    #[test]
    fn upload_commands_prove_possession_in_three_steps() {
        let az = AzHub {
            hub: "hub".into(),
            resource_group: "rg".into(),
        };
        assert!(!upload_commands(&az, "root", true).contains("generate-verification-code"));
        let pop = upload_commands(&az, "root", false);
        assert!(pop.contains("generate-verification-code"));
        assert!(pop.contains("# make verification.pem"));
        assert!(possession_elsewhere("ABC").contains("CN ABC"));
    }
}

//! The provisioning test's decisions: what its form lacks, and the files the device's own code
//! names.

use super::snippets::ProvisioningFiles;
use crate::contract::DPS_GLOBAL_HOST;

/// What the form lacks before registering, first missing first: the ID scope, the registration
/// id, the device endpoint.
pub fn provisioning_form_problem(
    id_scope: &str,
    registration_id: &str,
    endpoint: &str,
) -> Option<&'static str> {
    if id_scope.trim().is_empty() {
        Some("ID scope: enter it (DPS overview, or the command below; localhub's button fills it in).")
    } else if registration_id.trim().is_empty() {
        Some("Registration id: enter the device id, the CN of the certificate imported in this browser.")
    } else if endpoint.trim().is_empty() {
        Some("DPS device endpoint: enter host:port.")
    } else {
        None
    }
}

/// The files the device's own code names: the typed registration id (or `DEVICE`), its
/// fullchain file when an intermediate signed it (`chained`: the device sends its chain), the
/// ID scope (or `ID_SCOPE`), and localhub's host and TLS root on localhub.
pub fn provisioning_files(
    localhub: bool,
    id_scope: &str,
    registration_id: &str,
    chained: bool,
) -> ProvisioningFiles {
    let id = match registration_id.trim() {
        "" => "DEVICE",
        id => id,
    };
    ProvisioningFiles {
        provisioning_host: if localhub {
            "localhost"
        } else {
            DPS_GLOBAL_HOST
        }
        .to_owned(),
        id_scope: match id_scope.trim() {
            "" => "ID_SCOPE",
            s => s,
        }
        .to_owned(),
        registration_id: id.to_owned(),
        cert_file: if chained {
            format!("{id}-fullchain.pem")
        } else {
            format!("{id}.pem")
        },
        key_file: format!("{id}.key"),
        ca_file: localhub.then(|| ".localhub/tls/root-ca.pem".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_asks_for_the_scope_then_the_id_then_the_endpoint() {
        assert!(
            provisioning_form_problem(" ", "d", "h:443").is_some_and(|p| p.starts_with("ID scope"))
        );
        assert!(provisioning_form_problem("0ne", "", "h:443")
            .is_some_and(|p| p.starts_with("Registration id")));
        assert!(provisioning_form_problem("0ne", "d", " ")
            .is_some_and(|p| p.starts_with("DPS device endpoint")));
        assert_eq!(provisioning_form_problem("0ne", "d", "h:443"), None);
    }

    #[test]
    fn the_files_name_the_device_and_its_chain() {
        let f = provisioning_files(false, "", "", false);
        assert_eq!(f.provisioning_host, DPS_GLOBAL_HOST);
        assert_eq!(
            (f.id_scope.as_str(), f.registration_id.as_str()),
            ("ID_SCOPE", "DEVICE")
        );
        assert_eq!(f.ca_file, None);
        let chained = provisioning_files(true, " 0ne00 ", " dev-1 ", true);
        assert_eq!(chained.provisioning_host, "localhost");
        assert_eq!(chained.id_scope, "0ne00");
        assert_eq!(chained.cert_file, "dev-1-fullchain.pem");
        assert_eq!(chained.key_file, "dev-1.key");
        assert_eq!(
            chained.ca_file.as_deref(),
            Some(".localhub/tls/root-ca.pem")
        );
    }
}

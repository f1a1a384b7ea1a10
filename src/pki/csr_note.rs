//! What the page says of a CSR before signing it.

use super::csr::SigningRequest;

/// Said when neither text nor a file holds a CSR.
pub const NO_CSR: &str = "Paste the CSR (-----BEGIN CERTIFICATE REQUEST-----) or choose its file.";

impl SigningRequest {
    /// The extensions it asks for, and that the device profile is applied instead (a CSR never
    /// chooses its own key usage or CA flag).
    pub fn requested_extensions_note(&self) -> String {
        if self.requested_extensions.is_empty() {
            "none".to_owned()
        } else {
            format!(
                "{} (the device profile is applied instead: clientAuth, CA:FALSE)",
                self.requested_extensions.join(", ")
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::contract::DeviceId;
    use crate::pki::{make_csr, read_csr, KeyAlgorithm, KeyPair};

    #[test]
    fn a_plain_csr_asks_for_no_extensions() {
        let key = KeyPair::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let csr = make_csr(&key, &DeviceId::parse("dev-1").unwrap()).unwrap();
        let mut req = read_csr(csr.as_bytes()).unwrap();
        assert_eq!(req.requested_extensions_note(), "none");
        req.requested_extensions = vec!["basicConstraints".into(), "keyUsage".into()];
        assert_eq!(
            req.requested_extensions_note(),
            "basicConstraints, keyUsage (the device profile is applied instead: clientAuth, CA:FALSE)"
        );
    }
}

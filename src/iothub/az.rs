//! The Azure CLI command equivalent to each hub step, with the user's values filled in and quoted
//! for a POSIX shell, so every step can also be done by hand.

/// Quotes a value for bash/zsh/sh: left bare when it has only safe characters, else single-quoted.
pub(super) fn quote(value: &str) -> String {
    let safe = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:/@%+=,".contains(c));
    if safe {
        value.to_owned()
    } else {
        format!("'{}'", value.replace('\'', r"'\''"))
    }
}

/// The hub a command is for: its name, and the resource group when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AzHub {
    /// Hub name (`--hub-name`).
    pub hub: String,
    /// Resource group (`--resource-group`), may be empty.
    pub resource_group: String,
}

impl AzHub {
    fn args(&self) -> String {
        let hub = if self.hub.trim().is_empty() {
            "HUB"
        } else {
            self.hub.trim()
        };
        let mut s = format!("--hub-name {}", quote(hub));
        if !self.resource_group.trim().is_empty() {
            s.push_str(&format!(
                " --resource-group {}",
                quote(self.resource_group.trim())
            ));
        }
        s
    }

    /// Upload a CA certificate; `verified` = automatic verification.
    pub fn certificate_create(&self, name: &str, file: &str, verified: bool) -> String {
        format!(
            "az iot hub certificate create {} --name {} --path {}{}",
            self.args(),
            quote(name),
            quote(file),
            if verified { " --verified true" } else { "" }
        )
    }

    /// Read the etag and get a verification code.
    pub fn verification_code(&self, name: &str) -> String {
        format!(
            "ETAG=$(az iot hub certificate show {a} --name {n} --query etag -o tsv)\naz iot hub certificate generate-verification-code {a} --name {n} --etag \"$ETAG\" --query properties.verificationCode -o tsv",
            a = self.args(),
            n = quote(name)
        )
    }

    /// Read the (new) etag and verify with the verification certificate.
    pub fn verify(&self, name: &str, file: &str) -> String {
        format!(
            "ETAG=$(az iot hub certificate show {a} --name {n} --query etag -o tsv)\naz iot hub certificate verify {a} --name {n} --path {f} --etag \"$ETAG\"",
            a = self.args(),
            n = quote(name),
            f = quote(file)
        )
    }

    /// List the hub's CA certificates.
    pub fn certificate_list(&self) -> String {
        format!("az iot hub certificate list {} -o table", self.args())
    }

    /// Delete a CA certificate.
    pub fn certificate_delete(&self, name: &str) -> String {
        format!(
            "ETAG=$(az iot hub certificate show {a} --name {n} --query etag -o tsv)\naz iot hub certificate delete {a} --name {n} --etag \"$ETAG\"",
            a = self.args(),
            n = quote(name)
        )
    }

    /// Register a CA-signed device.
    pub fn device_create_ca(&self, device_id: &str) -> String {
        format!(
            "az iot hub device-identity create {} --device-id {} --auth-method x509_ca",
            self.args(),
            quote(device_id)
        )
    }

    /// Register a device pinned by thumbprint.
    pub fn device_create_thumbprint(
        &self,
        device_id: &str,
        primary: &str,
        secondary: &str,
    ) -> String {
        format!(
            "az iot hub device-identity create {} --device-id {} --auth-method x509_thumbprint --primary-thumbprint {} --secondary-thumbprint {}",
            self.args(),
            quote(device_id),
            quote(primary),
            quote(secondary)
        )
    }

    /// Disable (revoke) or enable a device identity.
    pub fn device_set_status(&self, device_id: &str, enabled: bool) -> String {
        format!(
            "az iot hub device-identity update {} --device-id {} --set status={}",
            self.args(),
            quote(device_id),
            if enabled { "enabled" } else { "disabled" }
        )
    }

    /// Set a thumbprint device's primary and secondary thumbprints (one step of a rollover).
    pub fn device_set_thumbprints(
        &self,
        device_id: &str,
        primary: &str,
        secondary: &str,
    ) -> String {
        format!(
            "az iot hub device-identity update {} --device-id {} --set authentication.x509Thumbprint.primaryThumbprint={} authentication.x509Thumbprint.secondaryThumbprint={}",
            self.args(),
            quote(device_id),
            quote(primary),
            quote(secondary)
        )
    }

    /// Show a device identity.
    pub fn device_show(&self, device_id: &str) -> String {
        format!(
            "az iot hub device-identity show {} --device-id {}",
            self.args(),
            quote(device_id)
        )
    }

    /// Delete a device identity.
    pub fn device_delete(&self, device_id: &str) -> String {
        format!(
            "az iot hub device-identity delete {} --device-id {}",
            self.args(),
            quote(device_id)
        )
    }

    /// Print the hub's iothubowner connection string.
    pub fn connection_string(&self) -> String {
        format!(
            "az iot hub connection-string show {} --policy-name iothubowner --key-type primary -o tsv",
            self.args()
        )
    }
}

/// The DPS instance a command is for: its name, and the resource group when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AzDps {
    /// DPS name (`--dps-name`).
    pub dps: String,
    /// Resource group (`--resource-group`), may be empty.
    pub resource_group: String,
}

impl AzDps {
    fn args(&self) -> String {
        let dps = match self.dps.trim() {
            "" => "DPS",
            d => d.strip_suffix(super::DPS_DOMAIN).unwrap_or(d),
        };
        let mut s = format!("--dps-name {}", quote(dps));
        if !self.resource_group.trim().is_empty() {
            s.push_str(&format!(
                " --resource-group {}",
                quote(self.resource_group.trim())
            ));
        }
        s
    }

    /// Create an X.509 enrollment group from the CA's certificate file (and a secondary's, for a
    /// rollover); `az iot dps enrollment-group update` takes the same options and `--etag`.
    pub fn enrollment_group_create(
        &self,
        id: &str,
        primary_file: &str,
        secondary_file: Option<&str>,
        enabled: bool,
    ) -> String {
        let mut s = format!(
            "az iot dps enrollment-group create {} --enrollment-id {} --certificate-path {}",
            self.args(),
            quote(id),
            quote(primary_file)
        );
        if let Some(f) = secondary_file {
            s.push_str(&format!(" --secondary-certificate-path {}", quote(f)));
        }
        if !enabled {
            s.push_str(" --provisioning-status disabled");
        }
        s
    }

    /// Upload a CA certificate to DPS, then prove possession (code, verification certificate).
    pub fn certificate_create_and_verify(&self, name: &str, file: &str) -> String {
        format!(
            "az iot dps certificate create {a} --certificate-name {n} --path {f}\nETAG=$(az iot dps certificate show {a} --certificate-name {n} --query etag -o tsv)\naz iot dps certificate generate-verification-code {a} --certificate-name {n} --etag \"$ETAG\" --query properties.verificationCode -o tsv\n# sign verification.pem with CN = that code and the CA's key, then:\nETAG=$(az iot dps certificate show {a} --certificate-name {n} --query etag -o tsv)\naz iot dps certificate verify {a} --certificate-name {n} --path verification.pem --etag \"$ETAG\"",
            a = self.args(),
            n = quote(name),
            f = quote(file)
        )
    }

    /// Create an X.509 enrollment group over a CA certificate proven on DPS.
    pub fn enrollment_group_create_by_reference(
        &self,
        id: &str,
        ca_name: &str,
        enabled: bool,
    ) -> String {
        format!(
            "az iot dps enrollment-group create {} --enrollment-id {} --ca-name {}{}",
            self.args(),
            quote(id),
            quote(ca_name),
            if enabled {
                ""
            } else {
                " --provisioning-status disabled"
            }
        )
    }

    /// Create an individual enrollment from the device's own certificate file.
    pub fn individual_create(&self, registration_id: &str) -> String {
        format!(
            "az iot dps enrollment create {} --enrollment-id {id} --attestation-type x509 --certificate-path {file}",
            self.args(),
            id = quote(registration_id),
            file = quote(&format!("{registration_id}.pem"))
        )
    }

    /// The options an enrollment group's command adds for its reprovision policy (`migrate`,
    /// `reset` or `never`) and the IoT Edge flag; empty for the defaults.
    pub fn group_options(reprovision: &str, iot_edge: bool) -> String {
        let mut s = String::new();
        match reprovision {
            "reset" => s.push_str(" --reprovision-policy reprovisionandresetdata"),
            "never" => s.push_str(" --reprovision-policy never"),
            _ => {}
        }
        if iot_edge {
            s.push_str(" --edge-enabled true");
        }
        s
    }

    /// List the enrollment groups.
    pub fn enrollment_group_list(&self) -> String {
        format!("az iot dps enrollment-group list {} -o table", self.args())
    }

    /// A device's registration state.
    pub fn registration_show(&self, registration_id: &str) -> String {
        format!(
            "az iot dps enrollment-group registration show {} --registration-id {}",
            self.args(),
            quote(registration_id)
        )
    }

    /// The ID scope devices put in their user name.
    pub fn id_scope(&self) -> String {
        let name = match self.dps.trim() {
            "" => "DPS",
            d => d.strip_suffix(super::DPS_DOMAIN).unwrap_or(d),
        };
        let mut s = format!(
            "az iot dps show --name {} --query properties.idScope -o tsv",
            quote(name)
        );
        if !self.resource_group.trim().is_empty() {
            s.push_str(&format!(
                " --resource-group {}",
                quote(self.resource_group.trim())
            ));
        }
        s
    }

    /// Print the DPS's provisioningserviceowner connection string.
    pub fn connection_string(&self) -> String {
        format!(
            "az iot dps connection-string show {} --policy-name provisioningserviceowner --key-type primary -o tsv",
            self.args()
        )
    }
}

/// Print an ARM access token for the certificate calls.
pub const ARM_TOKEN: &str =
    "az account get-access-token --resource https://management.azure.com --query accessToken -o tsv";

/// Print an Entra token for the device registry.
pub const REGISTRY_TOKEN: &str =
    "az account get-access-token --resource https://iothubs.azure.net --query accessToken -o tsv";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_values_survive_a_real_shell() {
        for value in [
            "plain-id_1.x",
            "dev$1",
            "it's",
            "a b",
            "(x)!*?",
            "",
            "@=,%+:/",
        ] {
            let out = std::process::Command::new("sh")
                .arg("-c")
                .arg(format!("printf %s {}", quote(value)))
                .output()
                .unwrap();
            assert_eq!(
                String::from_utf8(out.stdout).unwrap(),
                value,
                "{}",
                quote(value)
            );
        }
    }

    #[test]
    fn commands_carry_the_users_values() {
        let hub = AzHub {
            hub: "myhub".into(),
            resource_group: "my rg".into(),
        };
        assert_eq!(
            hub.certificate_create("root-ca-cert", "root-ca.pem", false),
            "az iot hub certificate create --hub-name myhub --resource-group 'my rg' --name root-ca-cert --path root-ca.pem"
        );
        assert!(hub
            .certificate_create("c", "f", true)
            .ends_with(" --verified true"));
        assert!(hub.verify("c", "verification.pem").contains("certificate verify --hub-name myhub --resource-group 'my rg' --name c --path verification.pem --etag \"$ETAG\""));
        assert_eq!(
            hub.device_set_status("d1", false),
            "az iot hub device-identity update --hub-name myhub --resource-group 'my rg' --device-id d1 --set status=disabled"
        );
        assert_eq!(
            hub.device_set_thumbprints("d1", "AA", "BB"),
            "az iot hub device-identity update --hub-name myhub --resource-group 'my rg' --device-id d1 --set authentication.x509Thumbprint.primaryThumbprint=AA authentication.x509Thumbprint.secondaryThumbprint=BB"
        );
        assert_eq!(
            AzHub { hub: String::new(), resource_group: String::new() }.device_create_ca("dev$1"),
            "az iot hub device-identity create --hub-name HUB --device-id 'dev$1' --auth-method x509_ca"
        );
    }

    #[test]
    fn dps_commands_carry_the_users_values() {
        let dps = AzDps {
            dps: "fleet-dps.azure-devices-provisioning.net".into(),
            resource_group: "rg".into(),
        };
        assert_eq!(
            dps.enrollment_group_create("line 1", "root-ca.pem", Some("next-ca.pem"), false),
            "az iot dps enrollment-group create --dps-name fleet-dps --resource-group rg --enrollment-id 'line 1' --certificate-path root-ca.pem --secondary-certificate-path next-ca.pem --provisioning-status disabled"
        );
        assert_eq!(
            dps.id_scope(),
            "az iot dps show --name fleet-dps --query properties.idScope -o tsv --resource-group rg"
        );
        let blank = AzDps {
            dps: String::new(),
            resource_group: String::new(),
        };
        assert_eq!(
            blank.enrollment_group_list(),
            "az iot dps enrollment-group list --dps-name DPS -o table"
        );
        assert!(blank
            .connection_string()
            .contains("provisioningserviceowner"));
    }
}

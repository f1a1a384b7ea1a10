//! How a device stands in the hub, and what that decides for its certificate's life.
//!
//! The rule, from how Azure behaves: DPS writes every X.509 device it provisions (through an
//! enrollment group or an individual enrollment) into the hub as a **self-signed (thumbprint)
//! device**, pinned to the certificate the device presented (SHA-256 in the hub, SHA-1 in DPS's
//! views), never as `certificateAuthority` (MicrosoftDocs/azure-docs#70976 and #108289,
//! Azure/azure-iot-sdk-csharp#3360, Azure/iotedge#2951). So:
//! - a DPS device needs no CA in the hub, and it is generally available over every protocol,
//!   MQTT over WebSockets included;
//! - its renewed certificate is accepted by the hub only once the device provisions again with it
//!   (DPS then writes the new thumbprint), not because a CA signed it;
//! - deleting its CA from the hub does not stop it: revoking it takes disabling its hub identity
//!   *and* blocking it from provisioning again (which would enable a fresh identity).
//!
//! A device registered in the hub directly keeps the authentication it was registered with.

use crate::contract::{AuthKind, RegistrationState, RegistrationStatus};

/// How a device came to be in the hub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HubPath {
    /// Registered in the hub directly (this page, `az`, the registry API) with this authentication.
    Registered(AuthKind),
    /// Provisioned through DPS: a thumbprint device pinned to the certificate it last presented.
    Provisioned,
}

impl HubPath {
    /// Reads the path from what is known of the device: the hub's record of it (its
    /// authentication type) and DPS's registration state. An assigned DPS registration with a hub
    /// record of a thumbprint device (or none read) is a provisioned device; otherwise the hub's
    /// record says how it was registered. `None` when neither is known.
    pub fn read(hub: Option<&AuthKind>, dps: Option<&RegistrationState>) -> Option<Self> {
        Self::read_assigned(
            hub,
            dps.is_some_and(|s| s.status == Some(RegistrationStatus::Assigned)),
        )
    }

    /// As [`Self::read`], with DPS's answer reduced to whether it assigned the device.
    pub fn read_assigned(hub: Option<&AuthKind>, assigned: bool) -> Option<Self> {
        match (hub, assigned) {
            (Some(AuthKind::SelfSigned) | None, true) => Some(Self::Provisioned),
            (Some(kind), _) => Some(Self::Registered(kind.clone())),
            (None, false) => None,
        }
    }

    /// The authentication type the hub holds for the device.
    pub fn hub_auth(&self) -> AuthKind {
        match self {
            Self::Registered(kind) => kind.clone(),
            Self::Provisioned => AuthKind::SelfSigned,
        }
    }

    /// Whether the hub trusts the device through a CA it holds (so deleting that CA from the hub
    /// stops it); a thumbprint device, which every DPS device is, is not stopped by it.
    pub fn trusted_through_hub_ca(&self) -> bool {
        matches!(self, Self::Registered(AuthKind::CertificateAuthority))
    }

    /// What a renewed certificate needs before the hub accepts it.
    pub fn renewal(&self) -> Renewal {
        match self {
            Self::Registered(AuthKind::CertificateAuthority) => Renewal::Nothing,
            Self::Registered(AuthKind::SelfSigned) => Renewal::Thumbprints,
            Self::Provisioned => Renewal::ProvisionAgain,
            Self::Registered(_) => Renewal::NotByCertificate,
        }
    }

    /// What revoking this one device takes, in order.
    pub fn revocation(&self) -> Vec<Revoke> {
        match self {
            Self::Provisioned => vec![Revoke::DisableInHub, Revoke::BlockProvisioning],
            Self::Registered(_) => vec![Revoke::DisableInHub],
        }
    }
}

/// What a renewed device certificate needs on the services.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Renewal {
    /// A CA-signed device registered in the hub: the hub checks the chain and the CN, nothing to
    /// change there.
    Nothing,
    /// A thumbprint device registered in the hub: the new thumbprint as secondary, then primary,
    /// then the old one retired.
    Thumbprints,
    /// A DPS device: it provisions again with the renewed certificate, and DPS writes the new
    /// thumbprint in the hub (an individual enrollment takes the new certificate first).
    ProvisionAgain,
    /// The device authenticates with SAS keys or nothing: a certificate does not log it in.
    NotByCertificate,
}

impl Renewal {
    /// In words, for the page.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Nothing => "Registered in the hub as CA-signed: nothing to change there; the hub checks the chain to the verified CA and the CN.",
            Self::Thumbprints => "Registered in the hub by thumbprint: pinned to one certificate, so the renewal goes in three presses (the new thumbprint as secondary, then primary, then the old one retired).",
            Self::ProvisionAgain => "Provisioned through DPS: the hub holds it as a thumbprint device pinned to the certificate it last presented, whatever CA signed it. The renewed certificate is accepted once the device provisions again with it (DPS writes the new thumbprint); an individual enrollment needs the new certificate first (as its secondary). Until then the hub refuses the new certificate and accepts the old one.",
            Self::NotByCertificate => "This device does not log in with a certificate (SAS keys or none): renewing a certificate changes nothing for it in the hub.",
        }
    }
}

/// One thing revoking a device takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Revoke {
    /// Disable the device's identity in the hub (IoT Hub checks no revocation list).
    DisableInHub,
    /// Keep DPS from provisioning it again: a disabled individual enrollment for its registration
    /// id (which DPS prefers to the group), or its group disabled. Without it, the device
    /// provisions again and DPS enables a fresh identity.
    BlockProvisioning,
}

impl Revoke {
    /// In words, for the page.
    pub fn describe(self) -> &'static str {
        match self {
            Self::DisableInHub => "Disable its identity in the hub: IoT Hub checks no revocation list, so this is what refuses its connections.",
            Self::BlockProvisioning => "Block it on DPS with a disabled individual enrollment for its registration id (DPS looks for one before the group): otherwise it provisions again and DPS writes it into the hub anew.",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assigned() -> RegistrationState {
        RegistrationState {
            status: Some(RegistrationStatus::Assigned),
            assigned_hub: Some("h.azure-devices.net".into()),
            ..Default::default()
        }
    }

    #[test]
    fn a_dps_device_is_a_thumbprint_device_provisioned_again_to_renew() {
        let p = HubPath::read(Some(&AuthKind::SelfSigned), Some(&assigned())).expect("known");
        assert_eq!(p, HubPath::Provisioned);
        assert_eq!(p.hub_auth(), AuthKind::SelfSigned);
        assert!(!p.trusted_through_hub_ca());
        assert_eq!(p.renewal(), Renewal::ProvisionAgain);
        assert_eq!(
            p.revocation(),
            [Revoke::DisableInHub, Revoke::BlockProvisioning]
        );
        // DPS's word alone is enough; the hub's record need not have been read.
        assert_eq!(
            HubPath::read(None, Some(&assigned())),
            Some(HubPath::Provisioned)
        );
    }

    #[test]
    fn a_device_registered_directly_keeps_its_registration() {
        let ca = HubPath::read(Some(&AuthKind::CertificateAuthority), None).expect("known");
        assert!(ca.trusted_through_hub_ca());
        assert_eq!(ca.renewal(), Renewal::Nothing);
        assert_eq!(ca.revocation(), [Revoke::DisableInHub]);
        // Registered by hand as CA-signed although DPS once assigned it: the hub's record wins.
        assert_eq!(
            HubPath::read(Some(&AuthKind::CertificateAuthority), Some(&assigned())),
            Some(HubPath::Registered(AuthKind::CertificateAuthority))
        );
        let pinned = HubPath::read(Some(&AuthKind::SelfSigned), None).expect("known");
        assert_eq!(pinned.renewal(), Renewal::Thumbprints);
        assert_eq!(
            HubPath::read(Some(&AuthKind::Sas), None).map(|p| p.renewal()),
            Some(Renewal::NotByCertificate)
        );
        // A failed or disabled registration is not a provisioned device.
        let failed = RegistrationState {
            status: Some(RegistrationStatus::Disabled),
            ..Default::default()
        };
        assert_eq!(HubPath::read(None, Some(&failed)), None);
    }
}

//! Which device a certificate the page holds is for: read once from the certificate, carried as a
//! typed [`DeviceId`] from issuance to registration, the device test, DPS and renewal, so no step
//! finds a device again by comparing common-name strings.

use super::CertificateInfo;
use crate::contract::DeviceId;

/// The device a certificate authenticates: a leaf (not a CA) whose common name is a valid IoT Hub
/// device id (IoT Hub and DPS take the CN as the device or registration id). `None` for a CA, a
/// certificate without a CN, or a CN no hub accepts as a device id.
pub fn leaf_device_id(info: &CertificateInfo) -> Option<DeviceId> {
    if info.is_ca {
        return None;
    }
    DeviceId::parse(info.common_name.as_deref()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::{
        CertificateAuthority, DeviceCertParams, KeyAlgorithm, RootCaParams, ValidityDays,
    };
    use time::OffsetDateTime;

    #[test]
    fn a_device_certificate_names_its_device_and_a_ca_names_none() {
        let now = OffsetDateTime::now_utc();
        let ca = CertificateAuthority::create_root(&RootCaParams::default(), now).expect("root");
        let params = DeviceCertParams {
            device_id: DeviceId::parse("sensor-7").expect("id"),
            validity: ValidityDays::SEED_DEVICE,
        };
        let device = ca
            .issue_device_identity(&params, KeyAlgorithm::EcdsaP256, now)
            .expect("device");
        let info = device.certificate.info().expect("info");
        assert_eq!(leaf_device_id(&info), Some(params.device_id.clone()));
        let root = ca.certificate().info().expect("info");
        assert!(root.common_name.is_some());
        assert_eq!(leaf_device_id(&root), None);
        let mut odd = info.clone();
        odd.common_name = Some("two words".into());
        assert_eq!(leaf_device_id(&odd), None, "a space is no device id");
        odd.common_name = None;
        assert_eq!(leaf_device_id(&odd), None);
    }
}

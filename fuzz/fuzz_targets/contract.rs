//! The contract's parsers of what a device or a service sends (what localhub reads from clients
//! and the app reads from Azure): the first byte picks one, the rest is its input. What parses is
//! written back and must read back the same, so both sides of the contract agree.
#![no_main]
use hubcert::contract::{
    url_decode, CertificateName, Device, DeviceId, DpsTopic, DpsUserName, EnrollmentGroup,
    EnrollmentId, HubHost, IndividualEnrollment, MqttUserName, PropertyBag, RegisteredThumbprint,
    RegistrationOperation, RegistrationRequest, SasToken, Topic, TopicFilter, VerificationCode,
};
use libfuzzer_sys::fuzz_target;
use serde::{de::DeserializeOwned, Serialize};
use std::fmt::Debug;

/// A key IoT Hub could hold for a device (base64 of 32 bytes).
const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// JSON in, JSON out, JSON in again: the same value.
fn json<T: Serialize + DeserializeOwned + PartialEq + Debug>(data: &[u8]) {
    if let Ok(v) = serde_json::from_slice::<T>(data) {
        let again: T = serde_json::from_str(&serde_json::to_string(&v).unwrap()).unwrap();
        assert_eq!(v, again);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    match which % 12 {
        0 => json::<Device>(rest),
        1 => json::<EnrollmentGroup>(rest),
        2 => json::<IndividualEnrollment>(rest),
        3 => json::<RegistrationRequest>(rest),
        4 => json::<RegistrationOperation>(rest),
        5 => {
            if let Ok(d) = Device::from_json(rest) {
                let _ = (d.etag(), d.thumbprints());
            }
            if let Ok(g) = serde_json::from_slice::<EnrollmentGroup>(rest) {
                let _ = (g.ca_references(), g.is_enabled(), g.signing_certificates());
            }
            if let Ok(e) = serde_json::from_slice::<IndividualEnrollment>(rest) {
                let _ = (e.client_certificates(), e.hub_device_id(), e.is_enabled());
            }
        }
        _ => {
            let Ok(text) = std::str::from_utf8(rest) else {
                return;
            };
            match which % 12 {
                6 => {
                    if let Ok(t) = Topic::parse(text) {
                        assert_eq!(Topic::parse(&t.to_string()).as_ref(), Ok(&t), "{text:?}");
                    }
                    let _ = PropertyBag::parse(text).to_string();
                    let _ = url_decode(text);
                }
                7 => {
                    if let Ok(t) = DpsTopic::parse(text) {
                        assert_eq!(DpsTopic::parse(&t.to_string()).as_ref(), Ok(&t), "{text:?}");
                    }
                    if let Some(f) = TopicFilter::parse(text) {
                        assert_eq!(
                            TopicFilter::parse(&f.to_string()).as_ref(),
                            Some(&f),
                            "{text:?}"
                        );
                    }
                }
                8 => {
                    if let Ok(u) = MqttUserName::parse(text) {
                        assert_eq!(
                            MqttUserName::parse(&u.to_string()).as_ref(),
                            Ok(&u),
                            "{text:?}"
                        );
                    }
                    if let Ok(u) = DpsUserName::parse(text) {
                        assert_eq!(
                            DpsUserName::parse(&u.to_string()).as_ref(),
                            Ok(&u),
                            "{text:?}"
                        );
                    }
                }
                9 => {
                    // A device's password (MQTT) or a service's Authorization header.
                    if let Ok(t) = SasToken::parse(text) {
                        let _ =
                            t.verify("fuzz.azure-devices.net/devices/d", &[KEY, "not base64"], 1);
                        let _ = t.verify(&t.resource, &[KEY], t.expiry.saturating_sub(1));
                    }
                }
                10 => {
                    let _ = DeviceId::parse(text).map(|d| d.file_stem());
                    let _ = EnrollmentId::parse(text);
                    let _ = VerificationCode::parse(text);
                    let _ = CertificateName::parse(text);
                    let _ = HubHost::parse(text).map(|h| h.hub_name().len());
                }
                _ => {
                    let _ = RegisteredThumbprint::parse(text);
                }
            }
        }
    }
});

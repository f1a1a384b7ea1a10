//! The core in the browser: its RNG, chains, .pfx files and refusals, without the page.

use hubcert::contract::{DeviceId, VerificationCode};
use hubcert::pki::{
    Certificate, CertificateAuthority, DeviceCertParams, KeyAlgorithm, KeyPair, RootCaParams,
    ValidityDays, VerificationCertParams,
};
use wasm_bindgen_test::wasm_bindgen_test;

use crate::page::{device_under, now};

#[wasm_bindgen_test]
fn browser_rng_makes_distinct_keys() {
    let a = KeyPair::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let b = KeyPair::generate(KeyAlgorithm::EcdsaP256).unwrap();
    assert_ne!(
        a.subject_public_key_info_der(),
        b.subject_public_key_info_der()
    );
}

#[wasm_bindgen_test]
fn core_makes_a_chain_that_parses_back() {
    let t = now();
    let ca = CertificateAuthority::create_root(&RootCaParams::default(), t).unwrap();
    let device = ca
        .issue_device_identity(
            &DeviceCertParams {
                device_id: DeviceId::parse("sensor-device-01").unwrap(),
                validity: ValidityDays::SEED_DEVICE,
            },
            KeyAlgorithm::EcdsaP256,
            t,
        )
        .unwrap();
    let verification = ca
        .issue_verification(
            &VerificationCertParams {
                code: VerificationCode::parse("ABCDEF0123456789").unwrap(),
                validity: ValidityDays::ONE_DAY,
            },
            t,
        )
        .unwrap();

    let root = Certificate::from_pem(&ca.certificate().pem())
        .unwrap()
        .info()
        .unwrap();
    assert_eq!(root.subject, "C=US, O=MyOrg, CN=IoT Root CA");
    assert!(root.is_ca && root.can_sign_certificates);

    let dev = Certificate::from_pem(&device.certificate.pem())
        .unwrap()
        .info()
        .unwrap();
    assert_eq!(dev.common_name.as_deref(), Some("sensor-device-01"));
    assert_eq!(dev.issuer, root.subject);
    assert!(dev.client_auth && !dev.is_ca);
    assert_eq!(dev.days_left(t), 365);

    let key = KeyPair::from_pkcs8_pem(&device.key.to_pkcs8_pem().unwrap()).unwrap();
    assert_eq!(
        key.subject_public_key_info_der(),
        dev.subject_public_key_info
    );

    let v = verification.certificate.info().unwrap();
    assert_eq!(v.common_name.as_deref(), Some("ABCDEF0123456789"));
    assert_eq!(v.issuer, root.subject);
}

#[wasm_bindgen_test]
fn a_pfx_made_in_the_browser_has_the_pkcs12_structure() {
    use der::Decode;
    use hubcert::pki::{export_pkcs12, Pkcs12Preset};
    let ca = CertificateAuthority::create_root(&RootCaParams::default(), now()).unwrap();
    let dev = device_under(&ca, "wasm-pfx", ValidityDays::SEED_DEVICE);
    for preset in [Pkcs12Preset::Modern, Pkcs12Preset::Legacy] {
        let der = export_pkcs12(
            &dev.key,
            &dev.certificate,
            &[ca.certificate().clone()],
            "wasm-pfx",
            "pw-1234",
            preset,
        )
        .unwrap();
        let pfx = pkcs12::pfx::Pfx::from_der(&der).unwrap();
        assert!(pfx.mac_data.is_some());
    }
}

#[wasm_bindgen_test]
fn every_bad_input_is_refused_with_its_own_message_in_the_browser() {
    crate::catalogue::check_all(now());
}

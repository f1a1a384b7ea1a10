//! IoT Hub pre-flight checks: each passes for what the tool makes and fails, with its reason, for
//! the mistakes the hub punishes. The signature check agrees with `openssl verify`.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::*;
use hubcert::pki::{
    ca_checks, device_checks, is_signed_by, verification_checks, CertificateAuthority, Check,
    KeyAlgorithm, RootCaParams,
};
use time::Duration;

fn failed(checks: &[Check]) -> Vec<&'static str> {
    checks
        .iter()
        .filter(|c| !c.passed)
        .map(|c| c.label)
        .collect()
}

#[test]
fn what_the_tool_makes_passes_every_check() {
    let ca = root();
    let dev = device(&ca, "sensor-device-01", 365);
    let v = verification(&ca, "ABCDEF0123");
    let t = now() + Duration::hours(1);
    assert_eq!(
        failed(&ca_checks(ca.certificate(), t).unwrap()),
        Vec::<&str>::new()
    );
    let d = device_checks(&dev.certificate, "sensor-device-01", ca.certificate(), t).unwrap();
    assert_eq!(failed(&d), Vec::<&str>::new(), "{d:?}");
    let vc = verification_checks(&v.certificate, " ABCDEF0123 ", ca.certificate(), t).unwrap();
    assert_eq!(failed(&vc), Vec::<&str>::new(), "{vc:?}");
}

#[test]
fn each_mistake_fails_its_check_with_the_reason() {
    let ca = root();
    let other = CertificateAuthority::create_root(
        &RootCaParams {
            common_name: "IoT Root CA".into(), // same name, different key
            key_algorithm: KeyAlgorithm::EcdsaP384,
            ..RootCaParams::default()
        },
        now(),
    )
    .unwrap();
    let dev = device(&ca, "sensor-device-01", 365);
    let t = now() + Duration::hours(1);

    // Wrong device id.
    let d = device_checks(&dev.certificate, "sensor-device-02", ca.certificate(), t).unwrap();
    assert_eq!(failed(&d), vec!["CN equals the device id"]);
    assert!(d[0].detail.contains("CONNACK 5"), "{}", d[0].detail);

    // Signed by a CA with the same name but another key: only the signature tells.
    let foreign = device(&other, "sensor-device-01", 365);
    let d = device_checks(
        &foreign.certificate,
        "sensor-device-01",
        ca.certificate(),
        t,
    )
    .unwrap();
    assert_eq!(failed(&d), vec!["Signed by the CA"]);
    assert!(!is_signed_by(&foreign.certificate, ca.certificate()).unwrap());
    assert!(is_signed_by(&foreign.certificate, other.certificate()).unwrap());
    // OpenSSL agrees.
    let dir = Scratch::new();
    let run = openssl_verify(
        &dir.write("ca.pem", ca.certificate().pem()),
        &dir.write("foreign.pem", foreign.certificate.pem()),
    );
    assert!(!run.ok);

    // Expired, and a CA given as a device.
    let later = now() + Duration::days(400);
    let d = device_checks(
        &dev.certificate,
        "sensor-device-01",
        ca.certificate(),
        later,
    )
    .unwrap();
    assert_eq!(failed(&d), vec!["Valid now"]);
    assert!(d.last().unwrap().detail.contains("expired"));
    let d = device_checks(ca.certificate(), "IoT Root CA", ca.certificate(), t).unwrap();
    assert!(
        failed(&d).contains(&"Not a CA") && failed(&d).contains(&"Client authentication allowed")
    );

    // Verification certificates: stale code (IH400054) and another CA (IH400053).
    let v = verification(&ca, "OLDCODE");
    let vc = verification_checks(&v.certificate, "NEWCODE", ca.certificate(), t).unwrap();
    assert_eq!(failed(&vc), vec!["CN equals the verification code"]);
    assert!(vc[0].detail.contains("IH400054"));
    let v2 = verification(&other, "NEWCODE");
    let vc = verification_checks(&v2.certificate, "NEWCODE", ca.certificate(), t).unwrap();
    assert_eq!(failed(&vc), vec!["Signed by the CA"]);
    assert!(vc[1].detail.contains("IH400053"));

    // A leaf offered as the CA, and a CA about to expire.
    let c = ca_checks(&dev.certificate, t).unwrap();
    assert!(
        failed(&c).contains(&"A CA certificate") && failed(&c).contains(&"May sign certificates")
    );
    let c = ca_checks(ca.certificate(), now() + Duration::days(3640)).unwrap();
    assert_eq!(failed(&c), vec!["Not about to expire"]);
}

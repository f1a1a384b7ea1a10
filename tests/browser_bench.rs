//! P-256 device identities per second in headless Chromium. Prints figures; asserts nothing
//! about speed. Built only with `--features bench` (scripts/bench.sh).
#![cfg(all(target_arch = "wasm32", feature = "bench"))]

use hubcert::iothub::DeviceId;
use hubcert::pki::{
    CertificateAuthority, DeviceCertParams, KeyAlgorithm, RootCaParams, ValidityDays,
};
use time::OffsetDateTime;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn p256_device_identities_per_second() {
    let now = OffsetDateTime::from_unix_timestamp((js_sys::Date::now() / 1000.0) as i64).unwrap();
    let ca = CertificateAuthority::create_root(&RootCaParams::default(), now).unwrap();
    let start = js_sys::Date::now();
    let mut made = 0u32;
    while js_sys::Date::now() - start < 2000.0 {
        let params = DeviceCertParams {
            device_id: DeviceId::parse(&format!("bench-{made}")).unwrap(),
            validity: ValidityDays::SEED_DEVICE,
        };
        let id = ca
            .issue_device_identity(&params, KeyAlgorithm::EcdsaP256, now)
            .unwrap();
        let _ = (id.certificate.pem(), id.key.to_pkcs8_pem().unwrap());
        made += 1;
    }
    let secs = (js_sys::Date::now() - start) / 1000.0;
    console_log!(
        "BENCH browser (headless Chromium, release wasm): {made} P-256 device identities in {secs:.2} s = {:.0} per second",
        f64::from(made) / secs
    );
    assert!(made > 0);
}

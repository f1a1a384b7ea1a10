//! The Inspect route (`#/inspect`): any certificate, chain, key or .pfx, checked as IoT Hub would.

use hubcert::pki::{CertificateAuthority, RootCaParams, ValidityDays};
use wasm_bindgen_test::wasm_bindgen_test;

use crate::page::*;

#[wasm_bindgen_test]
async fn a_user_inspects_certificates_and_sees_iot_hubs_checks() {
    let page = mount().await;
    create_root(&page, "Inspect Root").await;
    issue_device(&page, "inspected-01").await;
    let device_pem = pem_in(&page, "[id^=device-]");

    fill(&page, "inspect-text", &device_pem).await;
    let out = text(&page, "#inspect-result");
    assert!(
        out.contains("CN=inspected-01") && out.contains("all 7 checks pass"),
        "{out}"
    );

    // Against another device id: the CN check fails and says what the hub will do.
    fill(&page, "inspect-device-id", "inspected-02").await;
    let out = text(&page, "#inspect-result");
    assert!(
        out.contains("1 of 7 checks fail") && out.contains("CONNACK 5"),
        "{out}"
    );

    // A device from some other CA fails the signature check.
    let other = CertificateAuthority::create_root(&RootCaParams::default(), now()).unwrap();
    let foreign = device_under(&other, "inspected-02", ValidityDays::SEED_DEVICE);
    fill(&page, "inspect-text", &foreign.certificate.pem()).await;
    assert!(text(&page, "#inspect-result").contains("not signed by this CA"));

    // Each extension is decoded, as OpenSSL names it.
    fill(&page, "inspect-text", &device_pem).await;
    let out = text(&page, "#inspect-result");
    assert!(
        out.contains("Key Usagecritical") && out.contains("TLS Web Client Authentication"),
        "{out}"
    );

    // Not PEM at all.
    fill(&page, "inspect-text", "hello").await;
    assert!(text(&page, "#inspect-result").contains("without a -----BEGIN line"));

    // A .pfx chosen as a file: it asks for the password, names a wrong one, then shows the key,
    // the certificate, the chain and the checks.
    let pfx = hubcert::pki::export_pkcs12(
        &foreign.key,
        &foreign.certificate,
        &[other.certificate().clone()],
        "field unit",
        "pfx-secret",
        hubcert::pki::Pkcs12Preset::Legacy,
    )
    .unwrap();
    choose_file(&page, "inspect-file", "unit.pfx", &pfx);
    let out = wait_for(&page, "#inspect-result", "enter its password").await;
    assert!(out.contains(".pfx file"), "{out}");
    fill(&page, "inspect-password", "wrong").await;
    assert!(text(&page, "#inspect-result").contains("does not open this .pfx file"));
    fill(&page, "inspect-password", "pfx-secret").await;
    let out = text(&page, "#inspect-result");
    assert!(
        out.contains("PKCS#12")
            && out.contains("field unit")
            && out.contains("ECDSA P-256 (matches"),
        "{out}"
    );
    assert!(out.contains("not signed by this CA"), "{out}");
    // A DER certificate file is read too.
    choose_file(
        &page,
        "inspect-file",
        "device.cer",
        foreign.certificate.der(),
    );
    let out = wait_for(&page, "#inspect-result", "CN=inspected-02").await;
    assert!(out.contains("SHA-256 thumbprint"), "{out}");
    // A .p7b bundle (as Windows exports a chain): its certificates, checked as a chain.
    let p7_root = root_named("P7B Root");
    let p7_inter = intermediate_under(&p7_root, "P7B Intermediate", None);
    let bundle = hubcert::pki::write_pkcs7(&[
        p7_root.certificate().clone(),
        p7_inter.certificate().clone(),
    ])
    .unwrap();
    choose_file(&page, "inspect-file", "chain.p7b", &bundle);
    let out = wait_for(&page, "#inspect-result", "P7B Intermediate").await;
    assert!(out.contains("P7B Root"), "{out}");
}

#[wasm_bindgen_test]
async fn a_file_too_large_is_refused_by_its_size_before_it_is_read() {
    let page = mount().await;
    let big = vec![0x30u8; 2 * 1024 * 1024];
    choose_file(&page, "inspect-file", "big.der", &big);
    settle().await;
    sleep_ms(50).await;
    let inspector = text(&page, "#step-inspect");
    assert!(
        inspector.contains("big.der: This file has 2097152 bytes"),
        "{inspector}"
    );
}

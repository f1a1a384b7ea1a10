//! The Device certificates route (`#/devices`): one device, a batch, a key and CSR made here, or
//! a device's own CSR.

use hubcert::contract::DeviceId;
use hubcert::pki::{KeyAlgorithm, KeyPair};
use wasm_bindgen_test::wasm_bindgen_test;

use crate::page::*;

#[wasm_bindgen_test]
async fn a_user_makes_a_key_and_csr_here_then_signs_it() {
    let page = mount().await;
    create_root(&page, "Csr Maker Root").await;
    // A bad id is named before any key is made.
    type_into(&page, "csr-make-id", "bad id");
    press(&page, "csr-make-button").await;
    let e = text(&page, "#csr-make-id-error");
    assert!(e.contains("Character 4 (a space)"), "{e}");
    // RSA 2048 through WebCrypto; the CSR lands in the CSR field, with both files offered.
    type_into(&page, "csr-make-id", "csr-made-01");
    choose(&page, "csr-make-key", "rsa2048");
    press_until(
        &page,
        "csr-make-button",
        "#csr-made",
        "Made for csr-made-01",
    )
    .await;
    assert!(text(&page, "#csr-save-key").contains("csr-made-01.key"));
    assert!(text(&page, "#csr-save-csr").contains("csr-made-01.csr"));
    let preview = text(&page, "#csr-preview");
    assert!(
        preview.contains("CN=csr-made-01")
            && preview.contains("RSA 2048")
            && preview.contains("valid"),
        "{preview}"
    );
    press(&page, "csr-sign").await;
    let dev = text(&page, "[id^=device-]");
    assert!(
        dev.contains("CN=csr-made-01") && dev.contains("RSA 2048"),
        "{dev}"
    );
}

#[wasm_bindgen_test]
async fn a_user_signs_a_csr_made_on_the_device() {
    let device_key = KeyPair::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let csr = hubcert::pki::make_csr(&device_key, &DeviceId::parse("csr-leaf").unwrap()).unwrap();
    let page = mount().await;
    create_root(&page, "CSR Root").await;

    // A damaged request: the preview says so and nothing is signed.
    let mut der = pem::parse(&csr).unwrap().into_contents();
    let at = der.windows(8).position(|w| w == b"csr-leaf").unwrap();
    der[at + 7] = b'g'; // CN csr-leag: the signature no longer matches
    let broken = pem::encode(&pem::Pem::new("CERTIFICATE REQUEST", der));
    fill(&page, "csr-text", &broken).await;
    press(&page, "csr-sign").await;
    assert!(find(&page, "[id^=device-]").is_none());
    assert!(text(&page, "#csr-text-error").contains("altered"));
    assert!(text(&page, "#csr-preview").contains("altered"));

    fill(&page, "csr-text", &csr).await;
    let preview = text(&page, "#csr-preview");
    assert!(
        preview.contains("CN=csr-leaf") && preview.contains("valid"),
        "{preview}"
    );
    press(&page, "csr-sign").await;
    let dev = text(&page, "[id^=device-]");
    assert!(
        dev.contains("Device csr-leaf (from its CSR)") && dev.contains("CN=CSR Root"),
        "{dev}"
    );
    assert!(
        dev.contains("Download csr-leaf.pem") && !dev.contains("csr-leaf.key"),
        "{dev}"
    );
    // The certificate carries the device's key.
    let cert = certificate_in(&page, "[id^=device-]");
    assert_eq!(
        cert.info().unwrap().subject_public_key_info,
        device_key.subject_public_key_info_der()
    );
}

#[wasm_bindgen_test]
async fn a_user_issues_a_batch_from_a_range_and_registers_it() {
    let page = mount().await;
    create_root(&page, "Batch Root").await;

    // The list is read as it is typed: how many, which, and what is wrong.
    fill(&page, "batch-ids", "ok-1\nnot/ok").await;
    assert!(text(&page, "#batch-ids-error").contains("\"not/ok\": Character 4 ('/')"));
    fill(&page, "batch-ids", "line-{01..25}").await;
    let hint = text(&page, "#batch-ids-hint");
    assert!(
        hint.contains("25 devices: line-01, line-02, line-03 … line-25"),
        "{hint}"
    );
    let done = press_until(
        &page,
        "batch-create",
        "#batch-result",
        "25 device certificates issued",
    )
    .await;
    assert!(done.contains("line-01 … line-25"), "{done}");
    assert!(text(&page, "#batch-save").contains("Download devices-25.zip"));
    // No card per device: the batch has its summary; the register step lists them all.
    assert!(find(&page, "[id^=device-]").is_none());
    // The register step gets the devices a task later (hooks::use_deferred): its button is
    // enabled then.
    for _ in 0..100 {
        if !find(&page, "#reg-fill").unwrap().has_attribute("disabled") {
            break;
        }
        sleep_ms(10).await;
    }
    press(&page, "reg-fill").await;
    let listed = value(&page, "reg-ids");
    assert_eq!(listed.lines().count(), 25, "{listed}");
    assert!(listed.contains("line-13"), "{listed}");

    // A batch of hundreds stays searchable without drawing every row.
    type_into(&page, "batch-ids", "many-{001..210}");
    press_until(
        &page,
        "batch-create",
        "#batch-result",
        "210 device certificates issued",
    )
    .await;
    let more = wait_for(&page, "#expiry-more", "Showing the 200 soonest of 236").await;
    assert!(more.contains("download the CSV"), "{more}");
    assert_eq!(count(&page, "#expiry-table tbody tr"), 200);
    fill(&page, "expiry-search", "many-207").await;
    assert_eq!(count(&page, "#expiry-table tbody tr"), 1);
    type_into(&page, "expiry-search", "");

    // RSA keys come one by one from WebCrypto: a batch of more than 10,000 is refused, saying
    // why and what works; 100,001 is past any batch.
    choose(&page, "batch-key", "rsa2048");
    type_into(&page, "batch-ids", "rsa-{1..10001}");
    press(&page, "batch-create").await;
    let refused = text(&page, "#batch-ids-error");
    assert!(
        refused.contains("10001 devices with RSA keys") && refused.contains("ECDSA P-256"),
        "{refused}"
    );
    assert!(find(&page, "#batch-progress").is_none());
    fill(&page, "batch-ids", "many-{1..100001}").await;
    let refused = text(&page, "#batch-ids-error");
    assert!(refused.contains("100000"), "{refused}");

    // Stop keeps what was made.
    type_into(&page, "batch-ids", "rsa-{1..40}");
    press_until(&page, "batch-create", "#batch-progress", "Issued").await;
    let done = press_until(&page, "batch-stop", "#batch-result", "(stopped early)").await;
    assert!(done.contains("rsa-1 …"), "{done}");
    assert!(find(&page, "#batch-progress").is_none());
    page.remove();
}

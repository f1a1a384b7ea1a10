//! The Decode route (`#/decode`): what an IoT Hub or SDK error means, tied to the page's devices.

use wasm_bindgen_test::wasm_bindgen_test;

use crate::page::*;

#[wasm_bindgen_test]
async fn a_pasted_401003_is_decoded_and_tied_to_the_pages_device() {
    let page = mount().await;
    create_root(&page, "Decoder Root").await;
    issue_device(&page, "decoded-1").await;
    // The card shows the SHA-256 thumbprint as IoT Hub takes it.
    let sha256 = text(&page, "[id^=device-] code.sha256").trim().to_owned();
    assert_eq!(sha256.len(), 64, "{sha256}");
    fill(
        &page,
        "decode-text",
        &format!("Thumbprint does not match configuration: Thumbprint: SHA1Hash=00, SHA2Hash={sha256}; Configuration: PrimaryThumbprint=AA, SecondaryThumbprint=AA"),
    )
    .await;
    let result = text(&page, "#decode-result");
    assert!(result.contains("401003"), "{result}");
    assert!(
        result.contains("The device presented") && result.contains("CN=decoded-1"),
        "{result}"
    );
    fill(
        &page,
        "decode-text",
        "Connection error: Connection Refused: not authorised.",
    )
    .await;
    assert!(text(&page, "#decode-result").contains("CONNACK 5"));
}

//! The Upload & verify route (`#/upload`): the page's CA on localhub with proof of possession, or
//! one whose key is elsewhere, verified automatically; then the devices it signs registered.

use hubcert::pki::ValidityDays;
use serde_json::Value;
use wasm_bindgen_test::wasm_bindgen_test;

use crate::localhub::*;
use crate::page::*;

/// An unsigned JWT that expired in 2001.
const EXPIRED_JWT: &str = "eyJhbGciOiJub25lIn0.eyJleHAiOjEwMDAwMDAwMDB9.";

#[wasm_bindgen_test]
async fn a_user_uploads_proves_possession_and_registers_a_device_on_localhub() {
    let info = localhub_info().await;
    let page = mount().await;

    create_root(&page, "Browser Hub Root").await;
    let sha1 = text(&page, "#ca-result .thumb.sha1");

    // Point the settings at the test's localhub and read its connection string from it.
    point_at_localhub(&page).await;
    assert_eq!(
        value(&page, "hub-connection-string"),
        info["connectionString"].as_str().unwrap()
    );
    press_until(
        &page,
        "hub-test",
        "#hub-settings-status",
        "Connected to 'localhub'",
    )
    .await;

    // One click: upload, code, verification certificate, verify.
    let name = format!("browser-{}", suffix());
    type_into(&page, "hub-cert-name", &name);
    let done = press_until(
        &page,
        "hub-upload",
        "#hub-upload-status",
        "verified (proof of possession)",
    )
    .await;
    assert!(done.contains(&name), "{done}");
    let shown = text(&page, "#hub-cert-result");
    assert!(
        shown.contains("Verified") && shown.contains(&sha1),
        "{shown}"
    );
    // The verification certificate made on the way is shown with its file.
    let v = wait_for(&page, "#v-result", "Verification certificate (code").await;
    assert!(
        v.contains("CN=Browser Hub Root") && v.contains("verification.pem"),
        "{v}"
    );
    wait_for(&page, "#hub-cert-list", &name).await;

    // A device certificate, then its registration as CA-signed.
    let device = format!("browser-dev-{}", suffix());
    issue_device(&page, &device).await;
    press(&page, "reg-fill").await;
    assert!(value(&page, "reg-ids").contains(&device));
    register(&page, &format!("{device}\nbad/id"), "1 of 2 done; 1 failed").await;
    let rows = text(&page, "#reg-results");
    // Two ids go in one bulk call; the one the page refuses is not sent.
    assert!(
        rows.contains(&format!("{device} — registered (bulk)")),
        "{rows}"
    );
    assert!(rows.contains("bad/id — ") && rows.contains("'/'"), "{rows}");

    // Revoked as IoT Hub revokes (disabled in the registry), then enabled again.
    fill(&page, "reg-ids", &device).await;
    press_until(&page, "reg-disable", "#reg-status", "1 of 1 done").await;
    assert!(
        text(&page, "#reg-results").contains("disabled"),
        "{}",
        text(&page, "#reg-results")
    );
    press_until(&page, "reg-enable", "#reg-results", "enabled").await;

    // What localhub now holds, read with the test's own calls.
    let (status, cert) = get_json(&hub_certificate_url(&name), "Bearer test").await;
    assert_eq!(status, 200, "{cert}");
    assert_eq!(cert["properties"]["isVerified"], Value::Bool(true));
    assert_eq!(
        cert["properties"]["thumbprint"].as_str(),
        Some(sha1.as_str())
    );
    let (status, dev) = get_device(&info, &device).await;
    assert_eq!(status, 200, "{dev}");
    assert_eq!(dev["authentication"]["type"], "certificateAuthority");

    // A second device, pinned by the SHA-256 thumbprint of the certificate issued here.
    let pinned = format!("browser-pin-{}", suffix());
    issue_device(&page, &pinned).await;
    let sha256 = text(&page, "[id^=device-] .thumb.sha256");
    type_into(&page, "reg-ids", &pinned);
    press(&page, "reg-self").await;
    assert!(text(&page, "#step-register .command").contains(&sha256));
    press_until(&page, "reg-submit", "#reg-status", "1 of 1 done").await;
    let (status, dev) = get_device(&info, &pinned).await;
    assert_eq!(status, 200, "{dev}");
    assert_eq!(dev["authentication"]["type"], "selfSigned");
    assert_eq!(
        dev["authentication"]["x509Thumbprint"]["primaryThumbprint"].as_str(),
        Some(sha256.as_str())
    );
    // An id with no certificate on this page cannot be pinned: the row says what to do.
    type_into(&page, "reg-ids", "never-issued");
    press_until(
        &page,
        "reg-submit",
        "#reg-results",
        "No certificate with CN=never-issued",
    )
    .await;
    click(&page, "reg-ca");

    // An expired ARM token: the message says so and how to get a new one.
    type_into(&page, "hub-arm-token", EXPIRED_JWT);
    let err = press_until(&page, "hub-list", "#hub-list-status", "HTTP 401").await;
    assert!(
        err.contains("expired") && err.contains("az account get-access-token"),
        "{err}"
    );

    // Delete the device (two clicks), then the CA certificate from the list.
    type_into(&page, "hub-arm-token", "test");
    type_into(&page, "reg-ids", &device);
    press_until(
        &page,
        "reg-delete",
        "#reg-status",
        "Click Delete again to confirm",
    )
    .await;
    press_until(&page, "reg-delete", "#reg-status", "1 of 1 done").await;
    let (status, _) = get_device(&info, &device).await;
    assert_eq!(status, 404);
    press_until(&page, "hub-list", "#hub-cert-list", &name).await;
    let delete = format!("hub-delete-{name}");
    press_until(&page, &delete, "#hub-cert-list", "Click again to delete").await;
    press_until(
        &page,
        &delete,
        "#hub-list-status",
        &format!("Deleted '{name}'"),
    )
    .await;
}

#[wasm_bindgen_test]
async fn a_ca_whose_key_is_elsewhere_is_uploaded_and_verified_automatically() {
    localhub_info().await;
    let page = mount().await;
    hub_endpoints_at_localhub(&page);
    // A CA made elsewhere: only its certificate comes to this page.
    let elsewhere = root_named("HSM Root");
    let device = device_under(&elsewhere, "not-a-ca", ValidityDays::new(30).unwrap());
    // Nothing on the page yet: the step says so.
    assert!(text(&page, "#step-upload").contains("Create a root CA in step 1 first"));
    type_into(&page, "hub-outside-pem", &device.certificate.pem());
    press(&page, "hub-outside-use").await;
    assert!(text(&page, "#hub-outside-error").contains("holds no CA certificate"));
    type_into(&page, "hub-outside-pem", &elsewhere.certificate().pem());
    press(&page, "hub-outside-use").await;
    assert!(text(&page, "#hub-outside-chosen").contains("Uploading HSM Root"));
    assert!(text(&page, "#hub-upload").contains("verified automatically"));
    let name = format!("hsm-{}", suffix());
    type_into(&page, "hub-cert-name", &name);
    let done = press_until(
        &page,
        "hub-upload",
        "#hub-upload-status",
        "verified (automatic verification)",
    )
    .await;
    assert!(done.contains(&name), "{done}");
    let (hub, arm) = hub_and_arm();
    let on_hub = hub.certificate(&arm, &name).await.unwrap();
    assert!(on_hub.is_verified);
    let sha1 = elsewhere.certificate().info().unwrap().sha1;
    assert!(on_hub.thumbprint.eq_ignore_ascii_case(sha1.as_str()));
    assert!(hub.delete_certificate(&arm, &name).await.is_ok());
    page.remove();
}

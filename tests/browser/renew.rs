//! The Renew route (`#/renew`): the devices due, issued again, and the CA renewed.

use wasm_bindgen::JsCast;
use wasm_bindgen_test::wasm_bindgen_test;

use crate::page::*;

/// Ticks or unticks the first device of the renewal table.
fn toggle_first_due(page: &web_sys::Element) {
    find(page, "#renew-table input[type=checkbox]")
        .unwrap()
        .unchecked_ref::<web_sys::HtmlElement>()
        .click();
}

#[wasm_bindgen_test]
async fn a_user_renews_the_devices_due_with_their_keys_and_renews_the_ca() {
    let page = mount().await;
    create_root(&page, "Renewal Root").await;
    for (id, days) in [("due-soon", "10"), ("due-later", "200")] {
        issue_device_for(&page, id, days).await;
    }
    let old = certificate_in(&page, "[id^=device-]");
    assert_eq!(
        old.info().unwrap().common_name.as_deref(),
        Some("due-later")
    );
    // Within 30 days: only due-soon.
    let table = text(&page, "#renew-table");
    assert!(
        table.contains("due-soon") && !table.contains("due-later"),
        "{table}"
    );
    assert!(table.contains("held here"), "{table}");
    fill(&page, "renew-within", "365").await;
    let table = text(&page, "#renew-table");
    assert!(
        table.contains("due-soon") && table.contains("due-later"),
        "{table}"
    );
    // Untick due-soon: one device left to renew.
    toggle_first_due(&page);
    settle().await;
    assert_eq!(text(&page, "#renew-submit"), "Renew 1 device");
    let done = press_until(
        &page,
        "renew-submit",
        "#renew-result",
        "1 device certificate renewed: due-later",
    )
    .await;
    assert!(done.contains("Download renewed-devices-1.zip"), "{done}");
    let renewed = certificate_in(&page, "#renew-result [id^=renewed-]");
    let (a, b) = (old.info().unwrap(), renewed.info().unwrap());
    assert_eq!(b.common_name.as_deref(), Some("due-later"));
    assert_ne!(a.serial, b.serial);
    assert_eq!(
        a.subject_public_key_info, b.subject_public_key_info,
        "kept the device's key"
    );
    assert!(b.not_after > a.not_after);
    assert!(done.contains("Download due-later.key"), "{done}");
    // The newest certificate counts: due-later (its old certificate had 200 days) is no longer
    // due within 300 days; due-soon still is.
    fill(&page, "renew-within", "300").await;
    let table = text(&page, "#renew-table");
    assert!(
        table.contains("due-soon") && !table.contains("due-later"),
        "{table}"
    );
    // The hub side lists it for a thumbprint rollover.
    assert!(text(&page, "#renew-hub").contains("Renewed on this page: due-later."));

    // A new key this time, for due-soon.
    toggle_first_due(&page);
    press(&page, "renew-new-key").await;
    press_until(
        &page,
        "renew-submit",
        "#renew-result",
        "1 device certificate renewed: due-soon",
    )
    .await;
    let rekeyed = certificate_in(&page, "#renew-result [id^=renewed-]");
    assert_eq!(
        rekeyed.info().unwrap().common_name.as_deref(),
        Some("due-soon")
    );

    // The root renewed with its own key: the old device still chains to the new root.
    let old_root = certificate_in(&page, "#ca-result");
    let said = press_until(
        &page,
        "renew-ca-submit",
        "#renew-ca-status",
        "Renewed with the same key",
    )
    .await;
    assert!(said.contains("Upload the new certificate"), "{said}");
    let new_root = certificate_in(&page, "#ca-result");
    assert_ne!(new_root.der(), old_root.der());
    let (r0, r1) = (old_root.info().unwrap(), new_root.info().unwrap());
    assert_eq!(r0.subject, r1.subject);
    assert_eq!(r0.subject_public_key_info, r1.subject_public_key_info);
    assert!(hubcert::pki::is_signed_by(&old, &new_root).unwrap());
    // What the renewed root signs next chains to it.
    issue_device_for(&page, "after-renewal", "30").await;
    let next = certificate_in(&page, "[id^=device-]");
    assert_eq!(
        next.info().unwrap().common_name.as_deref(),
        Some("after-renewal")
    );
    assert!(hubcert::pki::is_signed_by(&next, &old_root).unwrap());
    page.remove();
}

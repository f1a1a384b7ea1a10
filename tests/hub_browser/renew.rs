//! The Renew route (`#/renew`) against localhub: a renewed thumbprint device rolled over on the
//! hub, and the Expiry route reading where each certificate stands.

use wasm_bindgen_test::wasm_bindgen_test;

use crate::localhub::*;
use crate::page::*;

#[wasm_bindgen_test]
async fn a_renewed_thumbprint_device_is_rolled_over_on_localhub_in_three_presses() {
    let info = localhub_info().await;
    let page = mount().await;
    create_root(&page, "Rollover Root").await;
    // No "Read settings from localhub": the first hub call reads them.
    hub_endpoints_at_localhub(&page);
    assert_eq!(value(&page, "hub-connection-string"), "");

    let id = format!("roll-{}", suffix());
    issue_device_for(&page, &id, "20").await;
    let old = text(&page, "[id^=device-] .thumb.sha256");
    type_into(&page, "reg-ids", &id);
    click(&page, "reg-self");
    press_until(&page, "reg-submit", "#reg-status", "1 of 1 done").await;

    // Renew it with its own key; the renewed certificate's thumbprint is what the hub must learn.
    press_until(
        &page,
        "renew-submit",
        "#renew-result",
        &format!("renewed: {id}"),
    )
    .await;
    let new = text(&page, "#renew-result [id^=renewed-] .thumb.sha256");
    assert_ne!(old, new);
    assert!(text(&page, "#renew-hub").contains(&id));

    let token = owner_token_for(&info, 120);
    let thumbprints = || {
        let (id, token) = (id.clone(), token.clone());
        async move {
            let (status, dev) = get_json(&device_url(&id), &token).await;
            assert_eq!(status, 200, "{dev}");
            let t = &dev["authentication"]["x509Thumbprint"];
            (
                t["primaryThumbprint"].as_str().unwrap_or("").to_owned(),
                t["secondaryThumbprint"].as_str().unwrap_or("").to_owned(),
            )
        }
    };
    assert_eq!(thumbprints().await, (old.clone(), old.clone()));
    let steps = [
        (
            "new thumbprint added as secondary",
            (old.clone(), new.clone()),
        ),
        ("new thumbprint is now primary", (new.clone(), old.clone())),
        ("old thumbprint retired", (new.clone(), new.clone())),
        ("already on the new certificate", (new.clone(), new.clone())),
    ];
    for (said, expected) in steps {
        press_until(&page, "renew-roll", "#renew-roll-results", said).await;
        wait_for(&page, "#renew-roll-status", "1 of 1 done").await;
        assert_eq!(thumbprints().await, expected, "{said}");
    }
    // The inventory reads where each certificate stands on the hub: the renewed one pinned, the
    // old one refused now; neither registered with DPS.
    press_until(
        &page,
        "expiry-read-registrations",
        "#expiry-registrations-status",
        "Read where",
    )
    .await;
    let table = text(&page, "#expiry-table");
    assert!(
        table.contains(
            "Hub: enabled, thumbprint, this certificate as primary. DPS: not registered."
        ),
        "{table}"
    );
    assert!(table.contains("this one is refused"), "{table}");
    fill(&page, "expiry-search", &new[..12]).await;
    assert!(text(&page, "#step-expiry").contains("1 of 3 shown"));
    type_into(&page, "expiry-search", "");

    // A CA-signed device needs nothing on the hub.
    let ca_dev = format!("roll-ca-{}", suffix());
    issue_device(&page, &ca_dev).await;
    type_into(&page, "reg-ids", &ca_dev);
    click(&page, "reg-ca");
    press_until(&page, "reg-submit", "#reg-status", "1 of 1 done").await;
    fill(&page, "renew-within", "400").await;
    press_until(&page, "renew-submit", "#renew-result", "renewed").await;
    press_until(&page, "renew-roll", "#renew-roll-results", "CA-signed").await;
    let rows = text(&page, "#renew-roll-results");
    assert!(rows.contains(&format!("{ca_dev} — CA-signed")), "{rows}");
    page.remove();
}

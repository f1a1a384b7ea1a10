//! The Roll over route (`#/rollover`): a fleet moved to a new root on localhub, step by step.

use wasm_bindgen_test::wasm_bindgen_test;

use crate::localhub::*;
use crate::page::*;

#[wasm_bindgen_test]
async fn a_user_rolls_a_fleet_over_to_a_new_root_step_by_step_on_localhub() {
    let info = localhub_info().await;
    let page = mount().await;
    let tag = suffix();
    create_root(&page, &format!("Old Root {tag}")).await;
    point_at_localhub(&page).await;
    let old_name = format!("old-{tag}");
    upload_with_proof(&page, &old_name).await;
    let dev = format!("fleet-{tag}");
    issue_device(&page, &dev).await;
    // A DPS group over the old root.
    read_localhub_dps(&page).await;
    let group = format!("rolling-{tag}");
    type_into(&page, "dps-group-id", &group);
    save_group(&page, &format!("Created enrollment group {group}")).await;
    // The new root, made beside the old.
    create_root(&page, &format!("New Root {tag}")).await;
    assert!(text(&page, "#rollover-old").contains("Old Root"));
    assert!(text(&page, "#rollover-new").contains("New Root"));

    press_until(
        &page,
        "rollover-read",
        "#rollover-next",
        "Upload the new CA",
    )
    .await;
    for next in [
        "Add the new CA to 1 DPS group",
        "Re-issue 1 device",
        "Retire the old CA",
    ] {
        press_until(&page, "rollover-next", "#rollover-next", next).await;
    }
    assert!(text(&page, "#rollover-standing").contains("1 on the new CA, 0 still on the old"));
    assert!(text(&page, "#rollover-save").contains("renewed-devices-1.zip"));
    // The re-issued certificate is listed with the page's devices (the Renew step sees two
    // certificates for the device now).
    assert!(text(&page, "#renew-hub").contains(&format!("Renewed on this page: {dev}.")));
    press_until(
        &page,
        "rollover-next",
        "#rollover-status",
        "Click again to confirm",
    )
    .await;
    press_until(&page, "rollover-next", "#rollover-next", "Rolled over").await;
    assert!(text(&page, "#rollover-status").contains("The old CA is retired"));

    // The hub no longer holds the old root; the group trusts only the new one.
    let (hub, arm) = hub_and_arm();
    assert_eq!(
        hub.certificate(&arm, &old_name).await.unwrap_err().status(),
        Some(404)
    );
    let (status, g) = get_json_dps(&format!("/enrollmentGroups/{group}"), &info).await;
    assert_eq!(status, 200, "{g}");
    let signing = &g["attestation"]["x509"]["signingCertificates"];
    assert!(
        signing["primary"]["info"]["subjectName"]
            .as_str()
            .unwrap_or("")
            .contains("New Root"),
        "{g}"
    );
    assert!(signing.get("secondary").is_none_or(|s| s.is_null()), "{g}");
    page.remove();
}

//! The Revoke route (`#/revoke`): what revoking a CA takes down on localhub and its DPS, then done.

use wasm_bindgen_test::wasm_bindgen_test;

use crate::localhub::*;
use crate::page::*;

#[wasm_bindgen_test]
async fn a_user_sees_what_revoking_an_intermediate_takes_down_then_revokes_it() {
    let info = localhub_info().await;
    let page = mount().await;
    create_root(&page, "Revocation Page Root").await;
    let line = format!("Line {}", suffix());
    create_intermediate(&page, &line).await;
    point_at_localhub(&page).await;
    // The intermediate (the signing CA now) on the hub, proven; a device under it, registered.
    let name = format!("line-{}", suffix());
    upload_with_proof(&page, &name).await;
    let dev = format!("line-dev-{}", suffix());
    issue_device(&page, &dev).await;
    register(&page, &dev, "1 of 1 done").await;
    // A DPS group over the intermediate (the second CA of the page).
    read_localhub_dps(&page).await;
    let group = format!("line-group-{}", suffix());
    type_into(&page, "dps-group-id", &group);
    choose(&page, "dps-primary", "ca-1");
    settle().await;
    save_group(&page, &format!("Created enrollment group {group}")).await;

    // One device kept out of the group on DPS: a disabled individual enrollment for it.
    type_into(&page, "dps-individual-id", &dev);
    press_until(
        &page,
        "dps-individual-block",
        "#dps-individual-status",
        "is blocked on DPS",
    )
    .await;
    let (status, e) = get_json_dps(&format!("/enrollments/{dev}"), &info).await;
    assert_eq!(status, 200, "{e}");
    assert_eq!(e["provisioningStatus"], "disabled", "{e}");

    // Check: the intermediate is chosen by default; the plan names what goes.
    assert!(text(&page, "#revoke-ca").contains(&line));
    let plan = press_until(&page, "revoke-check", "#revoke-plan", "On the hub as").await;
    assert!(plan.contains(&format!("'{name}'")), "{plan}");
    assert!(
        plan.contains(&format!("DPS enrollment groups trusting it: '{group}'")),
        "{plan}"
    );
    assert!(plan.contains(&dev), "{plan}");
    assert!(find(&page, "#revoke-above").is_none(), "{plan}");
    press_until(
        &page,
        "revoke-submit",
        "#revoke-status",
        "Click Revoke again to confirm",
    )
    .await;
    let done = press_until(&page, "revoke-submit", "#revoke-status", "Revoked").await;
    assert!(done.contains("done"), "{done}");
    let rows = text(&page, "#revoke-results");
    assert!(
        rows.contains("disabled") && rows.contains("deleted"),
        "{rows}"
    );

    // The hub no longer holds it; DPS's group is disabled.
    let (hub, arm) = hub_and_arm();
    let e = hub.certificate(&arm, &name).await.unwrap_err();
    assert_eq!(e.status(), Some(404), "{e}");
    let (status, g) = get_json_dps(&format!("/enrollmentGroups/{group}"), &info).await;
    assert_eq!(status, 200, "{g}");
    assert_eq!(g["provisioningStatus"], "disabled", "{g}");
    page.remove();
}

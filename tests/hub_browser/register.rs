//! The Register route (`#/register`): a fleet registered and deleted in bulk calls, stopped
//! midway and picked up again by a fresh page.

use wasm_bindgen_test::wasm_bindgen_test;

use crate::localhub::*;
use crate::page::*;

#[wasm_bindgen_test]
async fn the_page_registers_and_deletes_a_fleet_in_bulk_calls_each_device_with_its_own_outcome() {
    let info = localhub_info().await;
    let page = mount().await;
    point_at_localhub(&page).await;
    let run = suffix();
    // One id the hub already holds with symmetric keys: its row says so and nothing is sent for
    // it; the other 149 are created.
    let taken = format!("bulk-{run}-taken");
    put_device(&info, &taken, serde_json::json!({"type": "sas"}), None).await;
    let mut ids: Vec<String> = (0..149).map(|i| format!("bulk-{run}-{i:03}")).collect();
    ids.insert(70, taken.clone());
    type_into(&page, "reg-ids", &ids.join("\n"));
    press(&page, "reg-ca").await;
    // Before anything goes: how long the hub's registry throttle makes it, at the tier typed.
    let estimate = text(&page, "#reg-estimate");
    assert!(
        estimate.contains("150 devices on S1 with one unit: about 2 minutes")
            && estimate.contains("2 bulk calls"),
        "{estimate}"
    );
    fill(&page, "reg-units", "0").await;
    assert!(text(&page, "#reg-estimate").contains("Units: a number from 1 to 200"));
    fill(&page, "reg-units", "2").await;
    assert!(text(&page, "#reg-estimate").contains("with 2 units: about 45 seconds"));
    press_until(
        &page,
        "reg-submit",
        "#reg-status",
        "149 of 150 done; 1 failed",
    )
    .await;
    let rows = text(&page, "#reg-results");
    assert!(
        rows.contains(&format!(
            "{taken} — already on the hub with sas authentication, not certificateAuthority"
        )),
        "{rows}"
    );
    assert_eq!(rows.matches("registered (bulk)").count(), 149, "{rows}");
    for id in [&ids[0], &ids[149]] {
        let (status, dev) = get_device(&info, id).await;
        assert_eq!(status, 200, "{id}: {dev}");
        assert_eq!(dev["authentication"]["type"], "certificateAuthority");
    }

    // All 150 deleted, in two calls, after one confirmation.
    press_until(&page, "reg-delete", "#reg-status", "Delete 150 devices").await;
    press_until(&page, "reg-delete", "#reg-status", "150 of 150 done").await;
    for id in [&ids[0], &taken, &ids[149]] {
        let (status, _) = get_device(&info, id).await;
        assert_eq!(status, 404, "{id}");
    }
}

#[wasm_bindgen_test]
async fn a_fleet_run_stopped_midway_is_picked_up_by_a_fresh_page_from_what_the_hub_holds() {
    let info = localhub_info().await;
    let page = mount().await;
    point_at_localhub(&page).await;
    let run = suffix();
    let ids: Vec<String> = (0..150).map(|i| format!("resume-{run}-{i:03}")).collect();
    type_into(&page, "reg-ids", &ids.join("\n"));
    press(&page, "reg-ca").await;
    // Kept to one S1 unit's rate: after the first call of 100 the run waits a minute.
    assert_eq!(
        attribute(&page, "#reg-pace", "type").as_deref(),
        Some("checkbox")
    );
    press(&page, "reg-pace").await;
    press(&page, "reg-submit").await;
    let waiting = wait_for(&page, "#reg-status", "next call in").await;
    assert!(
        waiting.contains("100 of 150 done") && waiting.contains("100 registry operations a minute"),
        "{waiting}"
    );
    press(&page, "reg-stop").await;
    let stopped = wait_for(&page, "#reg-status", "50 stopped").await;
    assert!(
        stopped.contains("100 of 150 done") && stopped.contains("Register the same list again"),
        "{stopped}"
    );
    assert!(text(&page, "#reg-results").contains("not sent: the run stopped before it"));
    assert_eq!(get_device(&info, &ids[99]).await.0, 200);
    assert_eq!(
        get_device(&info, &ids[100]).await.0,
        404,
        "nothing sent after Stop"
    );

    // A fresh page (as after a reload) with the same list: the hub says which are there.
    let fresh = mount_at("#/register").await;
    point_at_localhub(&fresh).await;
    type_into(&fresh, "reg-ids", &ids.join("\n"));
    press(&fresh, "reg-ca").await;
    press_until(&fresh, "reg-submit", "#reg-status", "150 of 150 done.").await;
    let rows = text(&fresh, "#reg-results");
    assert_eq!(
        rows.matches("already on the hub (certificateAuthority)")
            .count(),
        100,
        "{rows}"
    );
    assert_eq!(rows.matches("registered (bulk)").count(), 50, "{rows}");
    assert_eq!(get_device(&info, &ids[149]).await.0, 200);
}

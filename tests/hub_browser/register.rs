//! The Register route (`#/register`): a fleet registered and deleted in bulk calls.

use wasm_bindgen_test::wasm_bindgen_test;

use crate::localhub::*;
use crate::page::*;

#[wasm_bindgen_test]
async fn the_page_registers_and_deletes_a_fleet_in_bulk_calls_each_device_with_its_own_outcome() {
    let info = localhub_info().await;
    let page = mount().await;
    point_at_localhub(&page).await;
    let run = suffix();
    // One id the hub already holds: its entry fails alone, the other 149 are created.
    let taken = format!("bulk-{run}-taken");
    put_device(&info, &taken, ca_signed_auth(), None).await;
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
        rows.contains(&format!("{taken} — DeviceAlreadyExists")),
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

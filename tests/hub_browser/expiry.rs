//! The Expiry route (`#/expiry`) against localhub: the hub's view of the fleet beside the page's.

use wasm_bindgen_test::wasm_bindgen_test;

use crate::localhub::*;
use crate::page::*;
use crate::recorder::{download_text, record_network};

#[wasm_bindgen_test]
async fn the_hubs_view_of_the_fleet_lists_every_device_beside_the_pages_and_exports_it() {
    let info = localhub_info().await;
    record_network();
    let page = mount().await;
    point_at_localhub(&page).await;
    let tag = suffix();
    // A device registered by someone else (never made on this page, never connected) ...
    let elsewhere = format!("fleet-{tag}-elsewhere");
    put_device(&info, &elsewhere, ca_signed_auth(), None).await;
    // ... and one made here, not registered.
    create_root(&page, &format!("Fleet Root {tag}")).await;
    let made = format!("fleet-{tag}-made");
    issue_device(&page, &made).await;

    press_until(&page, "fleet-read", "#fleet-status", "twins from the hub").await;
    let summary = text(&page, "#fleet-summary");
    assert!(
        summary.contains("devices on the hub") && summary.contains("never reported a certificate"),
        "{summary}"
    );
    let csv = download_text(&page, "fleet-expiry.csv").await;
    assert!(csv.starts_with("deviceId,onHub,madeHere,"), "{csv}");
    let line = |id: &str| {
        csv.lines()
            .find(|l| l.starts_with(&format!("{id},")))
            .unwrap_or_else(|| panic!("{id} not in {csv}"))
            .to_owned()
    };
    let row = line(&elsewhere);
    assert!(
        row.starts_with(&format!(
            "{elsewhere},true,false,enabled,certificateAuthority"
        )),
        "{row}"
    );
    assert!(row.contains(",unknown,"), "{row}");
    let row = line(&made);
    assert!(row.starts_with(&format!("{made},false,true,")), "{row}");
}

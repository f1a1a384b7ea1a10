//! The Expiry route (`#/expiry`) against localhub: the hub's view of the fleet beside the page's.

use wasm_bindgen_test::wasm_bindgen_test;

use crate::localhub::*;
use crate::page::*;
use crate::recorder::{download_text, record_network, recorded};

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

/// One bulk call of the test's own on localhub's registry: `mode` (`create`, `delete`) for `ids`.
async fn bulk(info: &serde_json::Value, mode: &str, ids: &[String]) {
    let body: Vec<serde_json::Value> = ids
        .iter()
        .map(|id| serde_json::json!({"id": id, "importMode": mode, "authentication": {"type": "certificateAuthority"}}))
        .collect();
    let r = gloo::net::http::Request::post(&format!("{LOCALHUB}/devices?api-version=2021-04-12"))
        .header("Authorization", &owner_token(info))
        .header("Content-Type", "application/json")
        .body(serde_json::Value::Array(body).to_string())
        .unwrap()
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "bulk {mode}");
}

#[wasm_bindgen_test]
async fn a_fleet_larger_than_a_page_is_read_to_its_last_page() {
    let info = localhub_info().await;
    let tag = suffix();
    // 1,050 devices: more than one page of 1,000 twins.
    let ids: Vec<String> = (0..1_050).map(|i| format!("pages-{tag}-{i:04}")).collect();
    for chunk in ids.chunks(100) {
        bulk(&info, "create", chunk).await;
    }
    record_network();
    let page = mount().await;
    point_at_localhub(&page).await;
    press_until(&page, "fleet-read", "#fleet-status", "twins from the hub").await;
    let queries: Vec<String> = recorded()
        .split("\n====\n")
        .filter(|r| r.contains("/devices/query"))
        .map(str::to_owned)
        .collect();
    assert!(queries.len() >= 2, "{} query calls", queries.len());
    assert!(
        queries[1..]
            .iter()
            .all(|q| q.to_ascii_lowercase().contains("x-ms-continuation")),
        "each later page asks with the hub's continuation"
    );
    let csv = download_text(&page, "fleet-expiry.csv").await;
    let ours = csv
        .lines()
        .filter(|l| l.starts_with(&format!("pages-{tag}-")))
        .count();
    assert_eq!(ours, 1_050, "every device, the last page's too");
    for chunk in ids.chunks(100) {
        bulk(&info, "delete", chunk).await;
    }
    page.remove();
}

//! The Expiry route (`#/expiry`): every certificate by expiry.

use wasm_bindgen_test::wasm_bindgen_test;

use crate::page::*;

#[wasm_bindgen_test]
async fn the_expiry_watch_lists_everything_soonest_first() {
    let page = mount().await;
    assert!(text(&page, "#step-expiry").contains("soonest expiry first"));
    create_root(&page, "Watch Root").await;
    for (id, days) in [
        ("watch-long", "700"),
        ("watch-short", "10"),
        ("watch-week", "5"),
    ] {
        issue_device_for(&page, id, days).await;
    }
    let summary = text(&page, "#expiry-summary");
    assert!(
        summary.contains("1 expiring within 7 days, 1 within 14 days, of 4"),
        "{summary}"
    );
    let rows: Vec<String> = (1..=4)
        .map(|n| text(&page, &format!("#expiry-table tbody tr:nth-child({n})")))
        .collect();
    assert!(
        rows[0].contains("Device watch-week") && rows[0].contains("under 7 days"),
        "{rows:?}"
    );
    assert!(
        rows[1].contains("Device watch-short") && rows[1].contains("under 14 days"),
        "{rows:?}"
    );
    assert!(rows[1].contains("renew it before then"), "{rows:?}");
    assert!(
        rows[2].contains("Device watch-long") && rows[2].contains("ok"),
        "{rows:?}"
    );
    assert!(rows[3].contains("Root CA"), "{rows:?}");
    press(&page, "expiry-csv").await;
    assert!(text(&page, "#step-expiry").contains("Saved certificate-expiry.csv"));
    page.remove();
}

//! The DPS route (`#/dps`) without a server: what it says before any call.

use wasm_bindgen_test::wasm_bindgen_test;

use crate::page::*;

#[wasm_bindgen_test]
async fn the_dps_route_lists_the_published_limits_with_their_sources() {
    let page = mount().await;
    let limits = text(&page, "#limits");
    assert!(
        limits.contains("CA certificates on one DPS: at most 25"),
        "{limits}"
    );
    assert!(
        limits
            .contains("symmetric-key enrollment groups on one DPS: at most 100 (cannot be raised)"),
        "{limits}"
    );
    assert!(limits.contains("the docs disagree"), "{limits}");
    assert!(limits.contains("Source: MicrosoftDocs"), "{limits}");
}

//! The home page (`#/`) and the routes: the table of `src/app/routes.rs` as the navigation, the
//! pager and the address see it.

use wasm_bindgen::JsCast;
use wasm_bindgen_test::wasm_bindgen_test;

use crate::page::*;

/// Which route's part the page shows (the others are drawn, hidden).
fn shown_route(page: &web_sys::Element) -> Vec<String> {
    let parts = page.query_selector_all(".route").unwrap();
    (0..parts.length())
        .map(|i| parts.item(i).unwrap().unchecked_into::<web_sys::Element>())
        .filter(|e| !e.has_attribute("hidden"))
        .map(|e| e.get_attribute("data-route").unwrap_or_default())
        .collect()
}

#[wasm_bindgen_test]
async fn the_page_opens_on_its_home_and_each_task_has_a_route_of_its_own() {
    let page = mount_at("").await;
    // Home first: what the workspace holds and the next step of the guide.
    assert_eq!(shown_route(&page), [""]);
    assert!(text(&page, "#home-next").contains("Next: 1 · Root CA"));
    assert!(text(&page, "#home-cas").contains("none yet"));
    assert_eq!(
        attribute(&page, "#home-go", "href").as_deref(),
        Some("#/root-ca")
    );
    // The navigation lists every route of the table, the shown one marked.
    assert_eq!(count(&page, ".stepper a"), 15);
    assert_eq!(
        attribute(&page, "#nav-home", "aria-current").as_deref(),
        Some("page")
    );
    // A route by its address: only its part shows, with the guided path's neighbours.
    go_to("#/root-ca").await;
    assert_eq!(shown_route(&page), ["root-ca"]);
    assert_eq!(
        attribute(&page, "#nav-root-ca", "aria-current").as_deref(),
        Some("page")
    );
    create_root(&page, "Routed Root").await;
    assert_eq!(
        attribute(&page, "[data-route=root-ca] #pager-next", "href").as_deref(),
        Some("#/connect")
    );
    go_to("#/devices").await;
    assert_eq!(shown_route(&page), ["devices"]);
    assert_eq!(
        attribute(&page, "[data-route=devices] #pager-prev", "href").as_deref(),
        Some("#/upload")
    );
    // What was made on one route is there on the others, and home counts it.
    issue_device(&page, "routed-1").await;
    go_to("#/").await;
    assert_eq!(shown_route(&page), [""]);
    let holds = text(&page, "#home-holds");
    assert!(
        holds.contains("Routed Root") && holds.contains("1 device certificate"),
        "{holds}"
    );
    assert!(!text(&page, "#home-next").contains("Root CA"));
    // A tool's route; an unknown address is home.
    go_to("#/revoke").await;
    assert_eq!(shown_route(&page), ["revoke"]);
    go_to("#/nowhere").await;
    assert_eq!(shown_route(&page), [""]);
    go_to("").await;
    page.remove();
}

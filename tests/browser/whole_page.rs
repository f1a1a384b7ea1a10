//! What holds on every route of the page: no field kept by the browser, nothing asked of another
//! origin unasked.

use wasm_bindgen::JsCast;
use wasm_bindgen_test::wasm_bindgen_test;

use crate::page::*;

/// No field of the page may be kept by the browser's form restore or autofill (a certificate or a
/// key's text on disk after Lock and Forget): every text field and text area says `autocomplete`
/// off (or `new-password` for a password the user makes).
#[wasm_bindgen_test]
async fn no_field_of_the_page_is_kept_by_the_browser() {
    let page = mount().await;
    create_root(&page, "Autocomplete Root").await;
    // Open every part, so that the fields they hold are drawn too.
    let details = page.query_selector_all("details").unwrap();
    for i in 0..details.length() {
        let d = details.item(i).unwrap();
        d.unchecked_ref::<web_sys::Element>()
            .set_attribute("open", "")
            .unwrap();
    }
    settle().await;
    let fields = page
        .query_selector_all(
            "textarea, input:not([type=file]):not([type=checkbox]):not([type=radio]):not([type=hidden])",
        )
        .unwrap();
    assert!(fields.length() > 20, "only {} fields", fields.length());
    let mut kept = Vec::new();
    for i in 0..fields.length() {
        let e: web_sys::Element = fields.item(i).unwrap().unchecked_into();
        let a = e.get_attribute("autocomplete").unwrap_or_default();
        if a != "off" && a != "new-password" {
            kept.push(format!("#{} ({a:?})", e.id()));
        }
    }
    assert!(kept.is_empty(), "fields the browser may keep: {kept:?}");
    page.remove();
}

/// A script's answer as text.
fn eval_text(script: &str) -> String {
    js_sys::eval(script)
        .unwrap()
        .as_string()
        .unwrap_or_default()
}

#[wasm_bindgen_test]
async fn the_page_asks_nothing_of_another_origin_until_the_user_does() {
    // Every fetch the page makes is recorded; resource timing lists what else it loaded.
    js_sys::eval(
        "window.__hubcertFetches = []; const f = window.fetch; \
         window.fetch = function (r, i) { window.__hubcertFetches.push(typeof r === 'string' ? r : r.url); return f.call(window, r, i); };",
    )
    .unwrap();
    let page = mount().await;
    sleep_ms(1500).await;
    let origin = web_sys::window().unwrap().location().origin().unwrap();
    let fetched = eval_text("window.__hubcertFetches.join('\\n')");
    let elsewhere: Vec<&str> = fetched
        .lines()
        .filter(|u| !u.is_empty() && !u.starts_with(&origin) && !u.starts_with('/'))
        .collect();
    assert!(elsewhere.is_empty(), "requests on load: {elsewhere:?}");
    let loaded = eval_text("performance.getEntriesByType('resource').map(e => e.name).join('\\n')");
    let elsewhere: Vec<&str> = loaded
        .lines()
        .filter(|u| !u.is_empty() && !u.starts_with(&origin))
        .collect();
    assert!(elsewhere.is_empty(), "loaded on load: {elsewhere:?}");
    // Pressing localhub's button is asking: then, and only then, it is called.
    click(&page, "hub-read-localhub");
    sleep_ms(500).await;
    let fetched = eval_text("window.__hubcertFetches.join('\\n')");
    assert!(fetched.contains("/localhub/info"), "{fetched}");
    page.remove();
}

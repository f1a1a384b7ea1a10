//! Driving the mounted app the way a user does, for the browser tests.
#![allow(dead_code)]

use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement, HtmlInputElement, HtmlTextAreaElement};

pub fn document() -> web_sys::Document {
    web_sys::window().unwrap().document().unwrap()
}

/// Mounts a fresh copy of the app in its own element.
pub fn mount() -> Element {
    let root = document().create_element("div").unwrap();
    document().body().unwrap().append_child(&root).unwrap();
    yew::Renderer::<hubcert::app::App>::with_root(root.clone()).render();
    root
}

pub fn find(root: &Element, selector: &str) -> Option<Element> {
    root.query_selector(selector).unwrap()
}

#[track_caller]
pub fn text(root: &Element, selector: &str) -> String {
    find(root, selector)
        .unwrap_or_else(|| panic!("no element matches {selector}"))
        .text_content()
        .unwrap_or_default()
}

/// Types into an input or textarea: set the value, fire a bubbling `input` event.
pub fn type_into(root: &Element, id: &str, value: &str) {
    let element = find(root, &format!("#{id}")).unwrap_or_else(|| panic!("no #{id}"));
    match element.dyn_ref::<HtmlTextAreaElement>() {
        Some(t) => t.set_value(value),
        None => element.unchecked_ref::<HtmlInputElement>().set_value(value),
    }
    let init = web_sys::EventInit::new();
    init.set_bubbles(true);
    let event = web_sys::Event::new_with_event_init_dict("input", &init).unwrap();
    element.dispatch_event(&event).unwrap();
}

/// The current value of an input or textarea.
pub fn value(root: &Element, id: &str) -> String {
    let element = find(root, &format!("#{id}")).unwrap_or_else(|| panic!("no #{id}"));
    match element.dyn_ref::<HtmlTextAreaElement>() {
        Some(t) => t.value(),
        None => element.unchecked_ref::<HtmlInputElement>().value(),
    }
}

pub fn click(root: &Element, id: &str) {
    find(root, &format!("#{id}"))
        .unwrap_or_else(|| panic!("no #{id}"))
        .unchecked_into::<HtmlElement>()
        .click();
}

pub async fn settle() {
    yew::scheduler::flush().await;
    // What the page draws a task later (tables over every certificate: app::hooks::use_deferred).
    sleep_ms(0).await;
    yew::scheduler::flush().await;
}

/// Waits until `selector`'s text contains `needle` (network calls take a moment); fails with
/// what the page shows instead.
pub async fn wait_for(root: &Element, selector: &str, needle: &str) -> String {
    for _ in 0..300 {
        settle().await;
        if let Some(e) = find(root, selector) {
            let t = e.text_content().unwrap_or_default();
            if t.contains(needle) {
                return t;
            }
        }
        sleep_ms(50).await;
    }
    panic!(
        "after 15 s, {selector} does not say {needle:?}; it says {:?}",
        find(root, selector).and_then(|e| e.text_content())
    );
}

/// Lets the browser run for `ms` milliseconds.
pub async fn sleep_ms(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window()
            .unwrap()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(promise).await.unwrap();
}

/// Picks an option of a `<select>` the way a user does: set the value, fire `change`.
pub fn choose(root: &Element, id: &str, value: &str) {
    let select: web_sys::HtmlSelectElement = find(root, &format!("#{id}"))
        .unwrap_or_else(|| panic!("no #{id}"))
        .unchecked_into();
    select.set_value(value);
    let init = web_sys::EventInit::new();
    init.set_bubbles(true);
    select
        .dispatch_event(&web_sys::Event::new_with_event_init_dict("change", &init).unwrap())
        .unwrap();
}

/// Puts a file into a file input the way the browser does after a user picks it, and fires
/// `change`.
pub fn choose_file(root: &Element, id: &str, name: &str, bytes: &[u8]) {
    let input: web_sys::HtmlInputElement = find(root, &format!("#{id}"))
        .unwrap_or_else(|| panic!("no #{id}"))
        .unchecked_into();
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    let file = web_sys::File::new_with_u8_array_sequence(&parts, name).unwrap();
    let transfer = web_sys::DataTransfer::new().unwrap();
    transfer.items().add_with_file(&file).unwrap();
    input.set_files(transfer.files().as_ref());
    let init = web_sys::EventInit::new();
    init.set_bubbles(true);
    input
        .dispatch_event(&web_sys::Event::new_with_event_init_dict("change", &init).unwrap())
        .unwrap();
}

//! Driving the mounted app the way a user does, for the browser tests (`tests/browser/` and
//! `tests/hub_browser/` include this file): the page's controls by id, the steps many tests take
//! (a root CA, an intermediate, a device certificate), and certificates made elsewhere.
#![allow(dead_code)]

use hubcert::pki::{
    Certificate, CertificateAuthority, DeviceCertParams, Identity, IntermediateCaParams,
    KeyAlgorithm, RootCaParams, ValidityDays,
};
use time::OffsetDateTime;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement, HtmlInputElement, HtmlTextAreaElement};

pub fn document() -> web_sys::Document {
    web_sys::window().unwrap().document().unwrap()
}

/// Mounts a fresh copy of the app in its own element and lets it draw.
pub async fn mount() -> Element {
    let root = document().create_element("div").unwrap();
    document().body().unwrap().append_child(&root).unwrap();
    yew::Renderer::<hubcert::app::App>::with_root(root.clone()).render();
    settle().await;
    root
}

/// Mounts a fresh copy of the app at the address `hash` (`""` for the home page).
pub async fn mount_at(hash: &str) -> Element {
    go_to(hash).await;
    mount().await
}

/// Goes to `hash` as a link would (the address changes, then `hashchange`).
pub async fn go_to(hash: &str) {
    web_sys::window()
        .unwrap()
        .location()
        .set_hash(hash)
        .unwrap();
    // `hashchange` is a task of its own.
    sleep_ms(30).await;
    settle().await;
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

/// How many elements match `selector`.
pub fn count(root: &Element, selector: &str) -> u32 {
    root.query_selector_all(selector).unwrap().length()
}

/// An attribute of the element `selector` matches.
#[track_caller]
pub fn attribute(root: &Element, selector: &str, name: &str) -> Option<String> {
    find(root, selector)
        .unwrap_or_else(|| panic!("no element matches {selector}"))
        .get_attribute(name)
}

#[track_caller]
fn by_id(root: &Element, id: &str) -> Element {
    find(root, &format!("#{id}")).unwrap_or_else(|| panic!("no #{id}"))
}

/// Fires a bubbling event of `kind` at `element`, as the browser does after a user's change.
fn fire(element: &Element, kind: &str) {
    let init = web_sys::EventInit::new();
    init.set_bubbles(true);
    let event = web_sys::Event::new_with_event_init_dict(kind, &init).unwrap();
    element.dispatch_event(&event).unwrap();
}

/// Types into an input or textarea: set the value, fire a bubbling `input` event.
pub fn type_into(root: &Element, id: &str, value: &str) {
    let element = by_id(root, id);
    match element.dyn_ref::<HtmlTextAreaElement>() {
        Some(t) => t.set_value(value),
        None => element.unchecked_ref::<HtmlInputElement>().set_value(value),
    }
    fire(&element, "input");
}

/// Types into a field, then lets the page draw what it reads from it.
pub async fn fill(root: &Element, id: &str, value: &str) {
    type_into(root, id, value);
    settle().await;
}

/// The current value of an input or textarea.
pub fn value(root: &Element, id: &str) -> String {
    let element = by_id(root, id);
    match element.dyn_ref::<HtmlTextAreaElement>() {
        Some(t) => t.value(),
        None => element.unchecked_ref::<HtmlInputElement>().value(),
    }
}

pub fn click(root: &Element, id: &str) {
    by_id(root, id).unchecked_into::<HtmlElement>().click();
}

/// Clicks, then lets the page draw its answer (for what the page does at once).
pub async fn press(root: &Element, id: &str) {
    click(root, id);
    settle().await;
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

/// Presses `id`, then waits until `selector` says `needle`.
pub async fn press_until(root: &Element, id: &str, selector: &str, needle: &str) -> String {
    click(root, id);
    wait_for(root, selector, needle).await
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
    let element = by_id(root, id);
    element
        .unchecked_ref::<web_sys::HtmlSelectElement>()
        .set_value(value);
    fire(&element, "change");
}

/// Puts a file into a file input the way the browser does after a user picks it, and fires
/// `change`.
pub fn choose_file(root: &Element, id: &str, name: &str, bytes: &[u8]) {
    let element = by_id(root, id);
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    let file = web_sys::File::new_with_u8_array_sequence(&parts, name).unwrap();
    let transfer = web_sys::DataTransfer::new().unwrap();
    transfer.items().add_with_file(&file).unwrap();
    element
        .unchecked_ref::<HtmlInputElement>()
        .set_files(transfer.files().as_ref());
    fire(&element, "change");
}

/// The text of the first textarea inside `selector` (a card's PEM).
#[track_caller]
pub fn pem_in(root: &Element, selector: &str) -> String {
    find(root, &format!("{selector} textarea"))
        .unwrap_or_else(|| panic!("no textarea in {selector}"))
        .unchecked_into::<HtmlTextAreaElement>()
        .value()
}

/// The certificate a card shows (the PEM in its textarea), parsed.
#[track_caller]
pub fn certificate_in(root: &Element, selector: &str) -> Certificate {
    Certificate::from_pem(&pem_in(root, selector)).unwrap()
}

// ---- the steps many tests take first ----

/// Step 1: a root CA named `cn`, with the form's defaults.
pub async fn create_root(root: &Element, cn: &str) {
    type_into(root, "ca-cn", cn);
    press(root, "ca-create").await;
}

/// An intermediate CA named `cn` under the signing CA, with the form's defaults.
pub async fn create_intermediate(root: &Element, cn: &str) {
    type_into(root, "im-cn", cn);
    press(root, "im-create").await;
}

/// Issues a device certificate for `id` with the step's defaults.
pub async fn issue_device(root: &Element, id: &str) {
    type_into(root, "d-id", id);
    press(root, "d-create").await;
}

/// Issues a device certificate for `id`, valid for `days`.
pub async fn issue_device_for(root: &Element, id: &str, days: &str) {
    type_into(root, "d-id", id);
    type_into(root, "d-days", days);
    press(root, "d-create").await;
}

// ---- certificates made elsewhere, at the browser's clock ----

pub fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(unix_now() as i64).unwrap()
}

pub fn unix_now() -> u64 {
    (js_sys::Date::now() / 1000.0) as u64
}

/// A P-256 root CA named `cn`, with the default validity.
pub fn root_named(cn: &str) -> CertificateAuthority {
    CertificateAuthority::create_root(
        &RootCaParams {
            common_name: cn.into(),
            ..RootCaParams::default()
        },
        now(),
    )
    .unwrap()
}

/// An intermediate CA (pathLen 0) named `cn` under `root`, valid `days` (the default if `None`).
pub fn intermediate_under(
    root: &CertificateAuthority,
    cn: &str,
    days: Option<u32>,
) -> CertificateAuthority {
    let mut subject = RootCaParams {
        common_name: cn.into(),
        ..RootCaParams::default()
    };
    if let Some(days) = days {
        subject.validity = ValidityDays::new(days).unwrap();
    }
    root.issue_intermediate(
        &IntermediateCaParams {
            subject,
            path_len: Some(0),
        },
        now(),
    )
    .unwrap()
}

/// A P-256 device identity for `id` signed by `ca`, valid `days`.
pub fn device_under(ca: &CertificateAuthority, id: &str, days: ValidityDays) -> Identity {
    ca.issue_device_identity(
        &DeviceCertParams {
            device_id: hubcert::contract::DeviceId::parse(id).unwrap(),
            validity: days,
        },
        KeyAlgorithm::EcdsaP256,
        now(),
    )
    .unwrap()
}

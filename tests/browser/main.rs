//! In headless Chromium, with no server: the core with the browser's RNG, and the page as a user
//! drives it, one module a route of the app (the ids of `src/app/routes.rs`); what holds on every
//! route is in `whole_page`.
#![cfg(target_arch = "wasm32")]

#[path = "../catalogue/mod.rs"]
mod catalogue;
#[path = "../page/mod.rs"]
mod page;

mod decode;
mod devices;
mod dps;
mod expiry;
mod home;
mod inspect;
mod pki;
mod renew;
mod root_ca;
mod whole_page;
mod workspace;

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

//! In headless Chromium against a running localhub (the fixtures of scripts/fixtures.sh): the hub
//! steps as a user clicks through them, then what localhub holds, checked by calls of the test's
//! own. One module a route of the app (the ids of `src/app/routes.rs`); what holds across the
//! routes is in `whole_page`; localhub's addresses and the test's own calls are in `localhub`.
#![cfg(target_arch = "wasm32")]

#[path = "../page/mod.rs"]
mod page;

mod localhub;
mod recorder;

mod connect;
mod dps;
mod expiry;
mod register;
mod renew;
mod revoke;
mod rollover;
mod test;
mod upload;
mod whole_page;

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

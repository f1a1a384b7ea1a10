//! The bad-input catalogue (tests/catalogue), natively.
#![cfg(not(target_arch = "wasm32"))]

mod catalogue;

#[test]
fn every_bad_input_is_refused_with_its_own_message() {
    catalogue::check_all(time::OffsetDateTime::now_utc());
}

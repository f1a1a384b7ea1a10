//! The whole app, loaded by the page's first module (bin `hubcert`) once its first screen works.
//! It draws nothing by itself: the first module calls `start_with` with what the page holds (its
//! CAs, devices and forms, as JSON in this page's memory), and the whole app takes the page over.

fn main() {}

/// Takes the page over from the first module; throws (a message) if what it passed does not
/// read back, in which case the first module's page stays.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn start_with(handoff: String) -> Result<(), wasm_bindgen::JsValue> {
    // It holds private keys: wiped when dropped.
    let handoff = zeroize::Zeroizing::new(handoff);
    hubcert::app::take_over(&handoff).map_err(|e| wasm_bindgen::JsValue::from_str(&e))
}

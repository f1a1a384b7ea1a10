//! The batch worker: issues part of a device batch off the page's thread. It takes a
//! [`hubcert::pki::BatchJob`] as JSON and answers, as JSON strings: `{"ready":true}` once loaded,
//! `{"made":[...]}` every few devices, then `{"done":N}` or `{"error":"..."}`.

#[cfg(target_arch = "wasm32")]
fn main() {
    use wasm_bindgen::{closure::Closure, JsCast, JsValue};
    use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

    let scope = DedicatedWorkerGlobalScope::from(JsValue::from(js_sys::global()));
    let reply = scope.clone();
    let post = move |v: serde_json::Value| {
        let _ = reply.post_message(&JsValue::from_str(&v.to_string()));
    };
    let answer = post.clone();
    let onmessage = Closure::<dyn Fn(MessageEvent)>::new(move |msg: MessageEvent| {
        let text = msg.data().as_string().unwrap_or_default();
        let job: hubcert::pki::BatchJob = match serde_json::from_str(&text) {
            Ok(j) => j,
            Err(e) => {
                return answer(serde_json::json!({ "error": format!("not a batch job: {e}") }))
            }
        };
        let result = hubcert::pki::run_batch_job(&job, 25, |made| {
            answer(serde_json::json!({ "made": made }));
        });
        answer(match result {
            Ok(n) => serde_json::json!({ "done": n }),
            Err(e) => serde_json::json!({ "error": e.to_string() }),
        });
    });
    scope.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    onmessage.forget();
    // Messages sent before the module was loaded are lost: the page waits for this.
    post(serde_json::json!({ "ready": true }));
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("batch-worker runs in the browser, as a Web Worker of the hubcert page");
}

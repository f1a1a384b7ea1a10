//! What the page sends and offers for download, recorded in the page for the tests to read.

use wasm_bindgen::JsCast;
use web_sys::Element;

use crate::page::settle;

/// Records every request the page sends (fetch: URL, headers, body; WebSocket: each frame, as
/// hex when binary) and every file it offers for download (the blobs behind object URLs).
/// Started again by a later test, it empties the records and wraps nothing twice.
const NETWORK_RECORDER: &str = r#"
window.__net = [];
window.__blobs = [];
if (!window.__recording) {
window.__recording = true;
const hex = (b) => Array.from(new Uint8Array(b)).map((x) => x.toString(16).padStart(2, "0")).join("");
const realFetch = window.fetch;
window.fetch = async function (r, init) {
  let text = "";
  const url = typeof r === "string" ? r : r.url;
  try {
    if (r instanceof Request) text = await r.clone().text();
    const body = init && init.body;
    if (typeof body === "string") text += body;
    else if (body instanceof ArrayBuffer) text += hex(body);
    else if (ArrayBuffer.isView(body)) text += hex(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength));
  } catch (e) { text += " (body unread: " + e + ")"; }
  let headers = "";
  if (r instanceof Request) headers = JSON.stringify([...r.headers]);
  window.__net.push(url + "\n" + headers + "\n" + text);
  return realFetch.call(window, r, init);
};
const realSend = WebSocket.prototype.send;
WebSocket.prototype.send = function (d) {
  let text = typeof d === "string" ? d
    : d instanceof ArrayBuffer ? hex(d)
    : ArrayBuffer.isView(d) ? hex(d.buffer.slice(d.byteOffset, d.byteOffset + d.byteLength)) : "";
  window.__net.push("ws " + this.url + "\n" + text);
  return realSend.call(this, d);
};
const realUrl = URL.createObjectURL;
URL.createObjectURL = function (b) { window.__blobs.push(b); return realUrl.call(URL, b); };
}
"#;

/// Starts recording; from here on the page's requests and downloads are kept.
pub fn record_network() {
    js_sys::eval(NETWORK_RECORDER).unwrap();
}

/// Everything recorded so far, the requests apart.
pub fn recorded() -> String {
    js_sys::eval("window.__net.join('\\n====\\n')")
        .unwrap()
        .as_string()
        .unwrap()
}

/// Clicks the download button that says `Download {name}` and returns the file's text.
pub async fn download_text(page: &Element, name: &str) -> String {
    let label = format!("Download {name}");
    let buttons = page.query_selector_all("button").unwrap();
    let button = (0..buttons.length())
        .filter_map(|i| buttons.item(i))
        .map(|n| n.unchecked_into::<web_sys::HtmlElement>())
        .find(|b| b.text_content().unwrap_or_default().trim() == label)
        .unwrap_or_else(|| panic!("no button {label}"));
    let before = js_sys::eval("window.__blobs.length")
        .unwrap()
        .as_f64()
        .unwrap() as u32;
    button.click();
    settle().await;
    let blob: web_sys::Blob = js_sys::eval(&format!("window.__blobs[{before}]"))
        .unwrap()
        .unchecked_into();
    wasm_bindgen_futures::JsFuture::from(blob.text())
        .await
        .unwrap()
        .as_string()
        .unwrap()
}

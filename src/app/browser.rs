//! The few browser services the page needs: clock, download, clipboard, panic banner.

use crate::pki::PkiError;
use time::OffsetDateTime;
use wasm_bindgen::{JsCast, JsValue};

/// The browser's clock, to whole seconds.
pub(crate) fn now() -> OffsetDateTime {
    let secs = (js_sys::Date::now() / 1000.0).floor() as i64;
    OffsetDateTime::from_unix_timestamp(secs).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// Saves `contents` as a file through a temporary object URL.
pub(crate) fn download(name: &str, mime: &str, contents: &[u8]) -> Result<(), String> {
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(contents));
    download_blob(name, &blob(&parts, mime)?)
}

/// A file the browser holds, made of `parts` (`Uint8Array`s) in order: a large download (a batch's
/// zip) stays out of the page's memory, and Chromium may keep it on disk.
pub(crate) fn blob(parts: &js_sys::Array, mime: &str) -> Result<web_sys::Blob, String> {
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    web_sys::Blob::new_with_u8_array_sequence_and_options(parts, &options)
        .map_err(|e| format!("Preparing the file failed: {}", describe(&e)))
}

/// A zip that the browser holds as it is written ([`crate::pki::ZipStream`]): its entries and
/// its directory go to the browser as Blobs of about a megabyte, so the page's memory holds only
/// the last few files whatever the size of the zip.
pub(crate) struct BrowserZip {
    zip: crate::pki::ZipStream,
    /// The entries written so far, as Blobs of about a megabyte each, side by side: one Blob is
    /// made of them at the end. (A Blob made of the previous one and the new bytes at every step
    /// costs the browser more at each step: the batch of 100,000 spent a quarter of the page's
    /// time there.)
    entries: js_sys::Array,
    directory: js_sys::Array,
}

impl BrowserZip {
    const MIME: &'static str = "application/zip";
    /// Files between two handovers to the browser: about a megabyte of entries.
    const FLUSH_EVERY: usize = 2048;

    /// An empty zip whose files are dated `at`.
    pub(crate) fn new(at: OffsetDateTime) -> Result<Self, String> {
        Ok(Self {
            zip: crate::pki::ZipStream::modified_at(at),
            entries: js_sys::Array::new(),
            directory: js_sys::Array::new(),
        })
    }

    /// Appends `files`; every [`Self::FLUSH_EVERY`] files, what is written goes to the browser.
    pub(crate) fn add(&mut self, files: &[crate::pki::NamedFile]) -> Result<(), String> {
        for f in files {
            self.zip.add(f).map_err(|e| e.to_string())?;
            if self.zip.len() % Self::FLUSH_EVERY == 0 {
                self.entries.push(&part(&self.zip.take_entries())?.into());
                self.directory
                    .push(&part(&self.zip.take_directory())?.into());
            }
        }
        Ok(())
    }

    /// The whole zip, as one Blob.
    pub(crate) fn finish(self) -> Result<web_sys::Blob, String> {
        let tail = self.zip.finish();
        let parts = self.entries;
        parts.push(&js_sys::Uint8Array::from(tail.entries.as_slice()));
        for d in self.directory.iter() {
            parts.push(&d);
        }
        parts.push(&js_sys::Uint8Array::from(tail.directory.as_slice()));
        parts.push(&js_sys::Uint8Array::from(tail.end.as_slice()));
        blob(&parts, Self::MIME)
    }
}

/// `bytes` as a Blob of their own (kept by the browser, out of the page's memory).
fn part(bytes: &[u8]) -> Result<web_sys::Blob, String> {
    blob(
        &js_sys::Array::of1(&js_sys::Uint8Array::from(bytes)),
        BrowserZip::MIME,
    )
}

/// Saves `blob` as a file named `name` through a temporary object URL.
pub(crate) fn download_blob(name: &str, blob: &web_sys::Blob) -> Result<(), String> {
    let fail = |what: &str, e: JsValue| format!("{what} failed: {}", describe(&e));
    let window = web_sys::window().ok_or("no window")?;
    let document = window.document().ok_or("no document")?;
    let url = web_sys::Url::create_object_url_with_blob(blob)
        .map_err(|e| fail("Preparing the file", e))?;
    let anchor: web_sys::HtmlAnchorElement = document
        .create_element("a")
        .map_err(|e| fail("Preparing the link", e))?
        .unchecked_into();
    anchor.set_href(&url);
    anchor.set_download(name);
    anchor.click();
    // The click has queued the download; the URL may go.
    let _ = web_sys::Url::revoke_object_url(&url);
    Ok(())
}

/// Copies `text`; resolves to an error message if the browser refuses.
pub(crate) async fn copy_text(text: String) -> Result<(), String> {
    let window = web_sys::window().ok_or("no window")?;
    let clipboard = window.navigator().clipboard();
    wasm_bindgen_futures::JsFuture::from(clipboard.write_text(&text))
        .await
        .map(|_| ())
        .map_err(|e| {
            format!(
                "The browser refused the clipboard ({}). Select the text and copy it.",
                describe(&e)
            )
        })
}

fn describe(e: &JsValue) -> String {
    e.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| "unknown error".into())
}

/// Turns a panic into a visible banner and a console error instead of a page that silently stops.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let message = info.to_string();
        web_sys::console::error_1(&JsValue::from_str(&format!("hubcert: {message}")));
        let banner = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.get_element_by_id("fatal"));
        if let Some(banner) = banner {
            banner.set_text_content(Some(&format!(
                "hubcert stopped because of an internal error: {message}. \
                 Files you already downloaded are safe. Reload the page to start again, \
                 and please report this message."
            )));
            let _ = banner.remove_attribute("hidden");
        }
    }));
}

/// Makes a key of `algorithm`. ECDSA keys are made at once in WebAssembly; RSA keys by the
/// browser's WebCrypto (`SubtleCrypto.generateKey`, exported as PKCS#8), which runs off the page's
/// thread and is many times faster than big-integer code in WebAssembly.
pub async fn generate_key(
    algorithm: crate::pki::KeyAlgorithm,
) -> Result<crate::pki::KeyPair, String> {
    use crate::pki::{KeyAlgorithm, KeyPair};
    use wasm_bindgen_futures::JsFuture;
    let KeyAlgorithm::Rsa(bits) = algorithm else {
        return KeyPair::generate(algorithm).map_err(|e| e.to_string());
    };
    let fail = |e: JsValue| {
        format!(
            "The browser could not make the RSA {bits} key ({}). Try again, or choose ECDSA P-256.",
            describe(&e)
        )
    };
    let subtle = web_sys::window()
        .ok_or("no window")?
        .crypto()
        .map_err(fail)?
        .subtle();
    let params = js_sys::Object::new();
    let set = |k: &str, v: &JsValue| js_sys::Reflect::set(&params, &JsValue::from_str(k), v);
    set("name", &"RSASSA-PKCS1-v1_5".into()).map_err(fail)?;
    set("modulusLength", &JsValue::from(u32::from(bits))).map_err(fail)?;
    set(
        "publicExponent",
        &js_sys::Uint8Array::from(&[1u8, 0, 1][..]).into(),
    )
    .map_err(fail)?;
    set("hash", &"SHA-256".into()).map_err(fail)?;
    let usages = js_sys::Array::of1(&"sign".into());
    let pair: web_sys::CryptoKeyPair = JsFuture::from(
        subtle
            .generate_key_with_object(&params, true, &usages)
            .map_err(fail)?,
    )
    .await
    .map_err(fail)?
    .unchecked_into();
    let exported = JsFuture::from(
        subtle
            .export_key("pkcs8", &pair.get_private_key())
            .map_err(fail)?,
    )
    .await
    .map_err(fail)?;
    let der = zeroize::Zeroizing::new(js_sys::Uint8Array::new(&exported).to_vec());
    KeyPair::from_pkcs8_der(&der).map_err(|e| e.to_string())
}

/// Gives the browser a turn (to draw and to handle clicks) before going on.
pub(crate) async fn yield_now() {
    sleep(0).await;
}

/// Waits `ms` milliseconds, letting the page draw and handle input meanwhile.
pub(crate) async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// Reads the first file of a file input.
pub(crate) async fn read_file(
    input: web_sys::HtmlInputElement,
) -> Result<(String, Vec<u8>), String> {
    let file = input
        .files()
        .and_then(|f| f.get(0))
        .ok_or("No file was chosen.")?;
    let bytes = read_file_bytes(&file).await?;
    Ok((file.name(), bytes))
}

/// Reads a chosen or dropped file whole, after checking its size: a multi-gigabyte file is
/// refused by its size, never read into the page.
pub(crate) async fn read_file_bytes(file: &web_sys::File) -> Result<Vec<u8>, String> {
    read_file_bytes_within(file, crate::pki::input_size_ok).await
}

/// As [`read_file_bytes`], with the size check given (a workspace file may be larger than any
/// certificate).
pub(crate) async fn read_file_bytes_within(
    file: &web_sys::File,
    size_ok: impl Fn(usize) -> Result<(), PkiError>,
) -> Result<Vec<u8>, String> {
    // `size()` is a JS number of bytes; anything beyond usize is over the limit anyway.
    let size = file.size();
    let len = if size > usize::MAX as f64 {
        usize::MAX
    } else {
        size as usize
    };
    size_ok(len).map_err(|e| format!("{}: {e}", file.name()))?;
    let buffer = wasm_bindgen_futures::JsFuture::from(file.array_buffer())
        .await
        .map_err(|_| format!("The browser could not read {}.", file.name()))?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

thread_local! {
    static BUSY: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Something the page is waiting on (a request, an open device connection) while it is held: a
/// first or route module does not hand the page to the whole app until none is.
pub(crate) struct Busy(());

impl Busy {
    pub(crate) fn start() -> Self {
        BUSY.with(|b| b.set(b.get() + 1));
        Busy(())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        BUSY.with(|b| b.set(b.get().saturating_sub(1)));
    }
}

/// Whether a request or connection is under way ([`Busy`]).
pub(crate) fn is_busy() -> bool {
    BUSY.with(std::cell::Cell::get) > 0
}

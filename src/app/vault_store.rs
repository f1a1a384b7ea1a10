//! Sealed workspaces kept in this browser's IndexedDB (database `hubcert`, store `workspaces`,
//! keyed by name). Only what `pki::seal_vault` wrote goes in: the text of an encrypted file.

use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{IdbDatabase, IdbOpenDbRequest, IdbRequest, IdbTransactionMode};

const DATABASE: &str = "hubcert";
const STORE: &str = "workspaces";

fn describe(e: &JsValue) -> String {
    e.as_string()
        .or_else(|| {
            e.dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
        })
        .unwrap_or_else(|| "unknown error".into())
}

/// Waits for an IndexedDB request: its result, or what went wrong.
async fn finished(request: &IdbRequest) -> Result<JsValue, String> {
    let promise = js_sys::Promise::new(&mut |resolve, reject| {
        let ok = Closure::once_into_js(move |_: JsValue| {
            let _ = resolve.call0(&JsValue::NULL);
        });
        let failed = Closure::once_into_js(move |e: JsValue| {
            let _ = reject.call1(&JsValue::NULL, &e);
        });
        request.set_onsuccess(Some(ok.unchecked_ref()));
        request.set_onerror(Some(failed.unchecked_ref()));
    });
    wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .map_err(|_| {
            request
                .error()
                .ok()
                .flatten()
                .map(|e| e.message())
                .unwrap_or_else(|| "the browser's storage refused the request".into())
        })?;
    request.result().map_err(|e| describe(&e))
}

async fn database() -> Result<IdbDatabase, String> {
    let factory = web_sys::window()
        .ok_or("no window")?
        .indexed_db()
        .map_err(|e| describe(&e))?
        .ok_or("this browser offers no IndexedDB (a private window may disable it)")?;
    let open: IdbOpenDbRequest = factory
        .open_with_u32(DATABASE, 1)
        .map_err(|e| describe(&e))?;
    let upgrade = Closure::once_into_js({
        let open = open.clone();
        move |_: JsValue| {
            if let Ok(db) = open.result() {
                let db: IdbDatabase = db.unchecked_into();
                if !db.object_store_names().contains(STORE) {
                    let _ = db.create_object_store(STORE);
                }
            }
        }
    });
    open.set_onupgradeneeded(Some(upgrade.unchecked_ref()));
    let db = finished(&open).await?;
    Ok(db.unchecked_into())
}

async fn in_store<F>(mode: IdbTransactionMode, f: F) -> Result<JsValue, String>
where
    F: FnOnce(&web_sys::IdbObjectStore) -> Result<IdbRequest, JsValue>,
{
    let db = database().await?;
    let tx = db
        .transaction_with_str_and_mode(STORE, mode)
        .map_err(|e| describe(&e))?;
    let store = tx.object_store(STORE).map_err(|e| describe(&e))?;
    let request = f(&store).map_err(|e| describe(&e))?;
    let result = finished(&request).await;
    db.close();
    result
}

/// Keeps `sealed` under `name`, replacing what was there.
pub(crate) async fn put(name: &str, sealed: &str) -> Result<(), String> {
    in_store(IdbTransactionMode::Readwrite, |s| {
        s.put_with_key(&JsValue::from_str(sealed), &JsValue::from_str(name))
    })
    .await
    .map(|_| ())
}

/// The sealed workspace kept under `name`, if any.
pub(crate) async fn get(name: &str) -> Result<Option<String>, String> {
    let v = in_store(IdbTransactionMode::Readonly, |s| {
        s.get(&JsValue::from_str(name))
    })
    .await?;
    Ok(v.as_string())
}

/// The names of the kept workspaces.
pub(crate) async fn names() -> Result<Vec<String>, String> {
    let v = in_store(IdbTransactionMode::Readonly, |s| s.get_all_keys()).await?;
    Ok(js_sys::Array::from(&v)
        .iter()
        .filter_map(|k| k.as_string())
        .collect())
}

/// The names of the workspaces kept in this browser, read once the component is drawn, and a
/// callback that reads them again (after a keep or a forget). A failed read leaves the list as it
/// was: the page offers nothing it cannot open.
#[yew::hook]
pub(crate) fn use_kept_names() -> (std::rc::Rc<Vec<String>>, yew::Callback<()>) {
    use yew::prelude::{use_callback, use_effect_with, use_state};
    let kept = use_state(|| std::rc::Rc::new(Vec::<String>::new()));
    let refresh = {
        let kept = kept.clone();
        use_callback((), move |(), ()| {
            let kept = kept.clone();
            yew::platform::spawn_local(async move {
                if let Ok(n) = names().await {
                    kept.set(std::rc::Rc::new(n));
                }
            });
        })
    };
    {
        let refresh = refresh.clone();
        use_effect_with((), move |()| refresh.emit(()));
    }
    ((*kept).clone(), refresh)
}

/// Forgets the workspace kept under `name`.
pub(crate) async fn remove(name: &str) -> Result<(), String> {
    in_store(IdbTransactionMode::Readwrite, |s| {
        s.delete(&JsValue::from_str(name))
    })
    .await
    .map(|_| ())
}

//! Working offline: the service worker (`sw.js`, written by the build) keeps the page's files, so
//! after one visit it opens and works with no network. This shows which build is running, whether
//! it is kept for offline use, and when a new deployment has taken over.

use wasm_bindgen::JsCast;
use yew::prelude::*;

/// The build id the build wrote into the page (`<meta name="hubcert-build">`).
pub(crate) fn build_id() -> Option<String> {
    let doc = web_sys::window()?.document()?;
    let meta = doc.query_selector("meta[name=hubcert-build]").ok()??;
    meta.dyn_into::<web_sys::HtmlMetaElement>()
        .ok()
        .map(|m| m.content())
}

#[derive(Clone, PartialEq)]
enum Offline {
    /// Not registered (no service worker here: a test page, plain http, or a browser without it).
    Unavailable,
    Registering,
    /// The files are kept: the page opens without a network.
    Ready,
    /// A new deployment took over while this page was open.
    Updated,
}

/// Registers the service worker (once the page is up) and says what it means.
#[component]
pub(crate) fn OfflineStatus() -> Html {
    let state = use_state(|| Offline::Unavailable);
    let build = use_memo((), |()| build_id());
    {
        let state = state.clone();
        let has_build = build.is_some();
        use_effect_with((), move |()| {
            let window = web_sys::window();
            let container = window
                .as_ref()
                .filter(|w| w.is_secure_context() && has_build)
                .map(|w| w.navigator().service_worker());
            let mut listener = None;
            if let Some(container) = container {
                state.set(Offline::Registering);
                let had_controller = container.controller().is_some();
                let on_change = state.clone();
                listener = Some(gloo::events::EventListener::new(
                    &container,
                    "controllerchange",
                    move |_| {
                        if had_controller {
                            on_change.set(Offline::Updated);
                        }
                    },
                ));
                let registering = container.register("./sw.js");
                let state = state.clone();
                yew::platform::spawn_local(async move {
                    let ok = wasm_bindgen_futures::JsFuture::from(registering)
                        .await
                        .is_ok()
                        && match container.ready() {
                            Ok(ready) => wasm_bindgen_futures::JsFuture::from(ready).await.is_ok(),
                            Err(_) => false,
                        };
                    state.set(if ok {
                        Offline::Ready
                    } else {
                        Offline::Unavailable
                    });
                });
            }
            move || drop(listener)
        });
    }
    let build = (*build).clone().unwrap_or_else(|| "development".into());
    let (text, class) = match &*state {
        Offline::Unavailable => (format!("Build {build}."), "muted"),
        Offline::Registering => (format!("Build {build}: keeping it for offline use…"), "muted"),
        Offline::Ready => (
            format!("Build {build}: kept in this browser, it opens and works without a network."),
            "ok",
        ),
        Offline::Updated => (
            format!("A new version of hubcert was deployed: reload to use it (this page is build {build})."),
            "warn",
        ),
    };
    html! {
        <p id="offline-status" class={classes!("offline", class)} role="status">
            {text}
            if *state == Offline::Updated {
                {" "}<button type="button" class="secondary small" id="offline-reload" onclick={Callback::from(|_| {
                    if let Some(w) = web_sys::window() { let _ = w.location().reload(); }
                })}>{"Reload"}</button>
            }
        </p>
    }
}

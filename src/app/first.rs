//! The page's first module: what the first screen needs, small enough to open fast on a slow link
//! (the home page, and steps 1 to 4 with ECDSA P-256 keys made here). Once it is drawn it loads the whole app
//! (`hubcert-full.js` and its WebAssembly) and hands the page over ([`super::handoff`]): what the
//! user made and typed carries over. A part only the whole app has (importing a CA, RSA keys,
//! batches, CSRs, `.pfx`, the hub and everything after) shows as loading until then.
//!
//! A route module (a deep link to a route of the hub or of day two: `super::routes::Module`) is
//! the whole app's page built with only its routes; it loads the whole app the same way
//! ([`use_rest`]) and hands the page over when something it does not draw is asked for.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use yew::prelude::*;

use super::handoff::{Handoff, FIRST_ROOT};
use super::later::{FirstContext, Rest, RestStatus};
use super::settings::HubSettings;
use super::state::{Action, Workbench};
use super::{dispatch, steps, Footer, Masthead, Stepper};

// The build (scripts/csp.py) names the whole app's files with its build id and their integrity:
// the JavaScript's in the page's import map (checked by import()), the WebAssembly's here.
#[wasm_bindgen(inline_js = r#"
export function load_full(base) {
  const meta = document.querySelector('meta[name="hubcert-full"]');
  const at = (attr, name) => new URL((meta && meta.getAttribute(attr)) || name, base).href;
  const js = at("content", "hubcert-full.js");
  const wasm = at("data-wasm", "hubcert-full_bg.wasm");
  const integrity = meta && meta.getAttribute("data-wasm-integrity");
  return import(js).then((m) =>
    m.default({ module_or_path: fetch(wasm, integrity ? { integrity } : {}) })
      .then((exports) => ({ start: m.start_with, exports })));
}
"#)]
extern "C" {
    #[wasm_bindgen(catch)]
    fn load_full(base: &str) -> Result<js_sys::Promise, JsValue>;
}

thread_local! {
    static FULL: std::cell::RefCell<Option<JsValue>> = const { std::cell::RefCell::new(None) };
    /// Destroys the first module's (or a route module's) app once the whole app has the page: its
    /// state (the keys made here, zeroized as they drop) goes with it.
    static DESTROY: std::cell::RefCell<Option<Box<dyn FnOnce()>>> = std::cell::RefCell::new(None);
}

/// Mounts the first module's page and starts loading the rest.
pub fn start() {
    mount::<FirstApp>("first");
}

/// Mounts a route module's page (the whole app's, with the routes of its build; the others show
/// as loading) and starts loading the rest (src/app/routes.rs, `Module`).
pub fn start_route_module() {
    mount::<super::App>("route");
}

fn mount<C: BaseComponent<Properties = ()>>(name: &str) {
    super::install_panic_hook();
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let Ok(root) = super::new_root(FIRST_ROOT) else {
        return;
    };
    if let Some(loading) = document.get_element_by_id("loading") {
        loading.remove();
    }
    if let Some(html) = document.document_element() {
        let _ = html.set_attribute("data-app", name);
    }
    let handle = yew::Renderer::<C>::with_root(root).render();
    DESTROY.with(|d| *d.borrow_mut() = Some(Box::new(move || handle.destroy())));
}

/// Destroys the first or route module's app (after the handover), outside of its own rendering.
fn destroy_later() {
    gloo::timers::callback::Timeout::new(0, || {
        if let Some(destroy) = DESTROY.with(|d| d.borrow_mut().take()) {
            destroy();
        }
        FULL.with(|f| f.borrow_mut().take());
    })
    .forget();
}

fn describe(e: &JsValue) -> String {
    js_sys::Reflect::get(e, &"message".into())
        .ok()
        .and_then(|m| m.as_string())
        .or_else(|| e.as_string())
        .unwrap_or_else(|| "it did not load".into())
}

async fn fetch_full() -> Result<(), String> {
    // One paint of the first screen before the download competes with it.
    super::browser::sleep(0).await;
    let base = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.base_uri().ok().flatten())
        .ok_or("the page has no address")?;
    let promise = load_full(&base).map_err(|e| describe(&e))?;
    let module = wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .map_err(|e| describe(&e))?;
    FULL.with(|f| *f.borrow_mut() = Some(module));
    Ok(())
}

/// Hands the page to the loaded whole app.
fn hand_over(
    bench: &Workbench,
    settings: &HubSettings,
    open: Option<String>,
) -> Result<(), String> {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let root = document
        .get_element_by_id(FIRST_ROOT)
        .ok_or("the page is gone")?;
    let json = Handoff::of_page(bench, settings, &root, open)?.to_json()?;
    let module = FULL
        .with(|f| f.borrow().clone())
        .ok_or("the rest of hubcert is not loaded")?;
    let start = js_sys::Reflect::get(&module, &"start".into())
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
        .ok_or("the rest of hubcert has no entry point (a mixed deployment? reload the page)")?;
    start
        .call1(&JsValue::NULL, &JsValue::from_str(&json))
        .map_err(|e| describe(&e))?;
    // As Trunk's loader says the first module started: the whole app's exports (its memory, for
    // the site's probes).
    let detail = js_sys::Object::new();
    let exports = js_sys::Reflect::get(&module, &"exports".into()).unwrap_or(JsValue::NULL);
    let _ = js_sys::Reflect::set(&detail, &"wasm".into(), &exports);
    let init = web_sys::CustomEventInit::new();
    init.set_detail(&detail);
    if let (Some(w), Ok(event)) = (
        web_sys::window(),
        web_sys::CustomEvent::new_with_event_init_dict("HubcertFullStarted", &init),
    ) {
        let _ = w.dispatch_event(&event);
    }
    Ok(())
}

/// Loads the whole app, then hands it the page with what `bench` and `settings` hold, once it is
/// `needed` (the first module: at once; a route module: when a route it does not draw is shown)
/// or a part only the whole app has is opened ([`FirstContext`]), and no request or device
/// connection is under way. The whole app's own build loads nothing.
#[hook]
pub(crate) fn use_rest(
    bench: &UseReducerHandle<Workbench>,
    settings: &UseReducerHandle<HubSettings>,
    needed: bool,
) -> FirstContext {
    let rest = use_state(|| Rest::Loading);
    let asked = use_mut_ref(|| None::<String>);
    let opened = use_state(|| false);
    let attempt = use_state(|| 0u32);
    {
        let rest = rest.clone();
        use_effect_with(*attempt, move |_| {
            if cfg!(feature = "full") {
                return;
            }
            rest.set(Rest::Loading);
            yew::platform::spawn_local(async move {
                rest.set(match fetch_full().await {
                    Ok(()) => Rest::Ready,
                    Err(e) => Rest::Failed(e),
                });
            });
        });
    }
    // Not while a request or a device connection is under way: its answer would land in a page
    // that is gone. Looked at again every quarter second until none is.
    let wait = use_state(|| 0u32);
    {
        let (bench, settings, asked, rest) =
            (bench.clone(), settings.clone(), asked.clone(), rest.clone());
        let wanted = needed || *opened;
        use_effect_with(
            ((*rest).clone(), *wait, wanted),
            move |(state, _, wanted)| {
                if *state != Rest::Ready || !*wanted || cfg!(feature = "full") {
                    return;
                }
                if super::browser::is_busy() {
                    gloo::timers::callback::Timeout::new(250, move || wait.set(*wait + 1)).forget();
                    return;
                }
                match hand_over(&bench, &settings, asked.borrow().clone()) {
                    Ok(()) => destroy_later(),
                    Err(e) => rest.set(Rest::Failed(e)),
                }
            },
        );
    }
    FirstContext {
        rest: (*rest).clone(),
        ask: Callback::from(move |id: String| {
            *asked.borrow_mut() = Some(id);
            opened.set(true);
        }),
        retry: Callback::from(move |()| attempt.set(*attempt + 1)),
    }
}

/// The first screen: the home page at the site's address; steps 1 to 4, then where the rest of
/// the app appears, on one page for the routes of the guided path (brought to the route's
/// section).
#[component]
pub fn FirstApp() -> Html {
    use super::routes::Route;
    let bench = use_reducer(Workbench::default);
    let settings = use_reducer(HubSettings::default);
    let context = use_rest(&bench, &settings, true);
    let route = super::routes::use_route(None);
    use_effect_with(route, |route| bring_into_view(*route));
    let on_ca = dispatch(&bench, Action::RootCreated);
    let on_device = dispatch(&bench, Action::DeviceIssued);
    let on_batch = dispatch(&bench, Action::DevicesIssued);
    let on_intermediate = dispatch(&bench, Action::IntermediateCreated);
    let on_select_ca = dispatch(&bench, Action::SelectCa);
    let on_verification = dispatch(&bench, Action::VerificationIssued);
    let ca = bench.ca.clone();
    html! {
        <ContextProvider<FirstContext> context={context}>
            <Masthead />
            <Stepper bench={bench.clone()} route={route} />
            <main>
                // Drawn only when shown: it reads every certificate.
                if route == Route::Home {
                    <super::home::Home bench={bench.clone()} settings={settings.clone()} />
                    // Where the rest of hubcert is (the tools, the hub, the unlock of a kept
                    // workspace come with it), or why it did not load.
                    <div class="home-rest"><RestStatus /></div>
                }
                <div class="route" data-route="first" hidden={route == Route::Home}>
                    <steps::RootCaStep oncreated={on_ca} issued={bench.root.clone()} />
                    <steps::IntermediateStep cas={bench.cas.clone()} active={ca.clone()} oncreated={on_intermediate} onselect={on_select_ca} />
                    <section class="step" id="step-hub" aria-labelledby="step-hub-title">
                        <div class="step-head">
                            <span class="step-no" aria-hidden="true">{"2"}</span>
                            <div>
                                <h2 id="step-hub-title">{"Connect, upload, register, test"}</h2>
                                <p class="lede">{"The hub and DPS steps, the device test, the inspector, expiry, renewal, rollover, revocation and the encrypted workspace come with the rest of hubcert. Steps 1 to 4 work now; what you make here carries over."}</p>
                            </div>
                        </div>
                        // The home page says it when shown (one status on the page).
                        if route != Route::Home {
                            <RestStatus />
                        }
                    </section>
                    <steps::VerificationStep ca={ca.clone()} onissued={on_verification} issued={bench.verification.clone()} />
                    <steps::DeviceStep ca={ca} onissued={on_device} onbatch={on_batch} issued={bench.devices.clone()} />
                </div>
            </main>
            <Footer />
        </ContextProvider<FirstContext>>
    }
}

/// Steps 1 to 4 are one page in the first module: a route of it is its first section there (the
/// others', where the rest of hubcert will appear).
fn bring_into_view(route: super::routes::Route) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    if route == super::routes::Route::Home {
        return;
    }
    let section = route
        .place()
        .sections
        .iter()
        .find_map(|id| document.get_element_by_id(id))
        .or_else(|| document.get_element_by_id("step-hub"));
    if let Some(section) = section {
        section.scroll_into_view();
    }
}

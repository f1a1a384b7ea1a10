//! The browser shell: Yew components over the pure core. wasm32 only.

#![deny(clippy::too_many_lines)]

mod browser;
mod card;
mod command;
mod decoder;
mod device;
mod dps;
mod expiry;
mod fetch;
mod field;
mod first;
mod fleet;
mod handoff;
mod home;
mod hooks;
mod hub;
mod inspect;
mod later;
mod mqtt_socket;
mod offline;
mod outcome;
mod routes;
mod settings;
mod state;
mod steps;
mod vault_store;
mod webcrypto;
mod workers;

use yew::prelude::*;

pub use browser::{generate_key, install_panic_hook};
pub use fetch::Fetch;
pub use first::{start as start_first, start_route_module};
use state::{Action, Workbench};

/// Takes the page over from the first module ([`first`]): what it made and what was typed in it
/// carry over ([`handoff`]); the first module's page goes once this one is drawn.
pub fn take_over(handoff_json: &str) -> Result<(), String> {
    install_panic_hook();
    handoff::Handoff::from_json(handoff_json)?.install()?;
    yew::Renderer::<App>::with_root(new_root("app-full")?).render();
    Ok(())
}

/// A new element `id` at the end of `<body>`, for an app to draw into.
fn new_root(id: &str) -> Result<web_sys::Element, String> {
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let root = document
        .create_element("div")
        .map_err(|_| "the page could not be drawn")?;
    root.set_id(id);
    document
        .body()
        .ok_or("no body")?
        .append_child(&root)
        .map_err(|_| "the page could not be drawn")?;
    Ok(root)
}

/// The whole page: the seed guide's steps, from the root CA to registered devices.
#[component]
pub fn App() -> Html {
    // After the first module handed the page over: what it made, and where the user was.
    let from_first = use_memo((), |()| handoff::take_from_first());
    // Where the user was in the first module: the route the whole app opens on.
    let start_route = from_first.as_ref().as_ref().and_then(|f| f.route());
    let bench = {
        let from_first = from_first.clone();
        use_reducer(move || {
            let mut bench = std::rc::Rc::new(Workbench::default());
            if let Some(from) = from_first.as_ref() {
                if let Some(r) = &from.restored {
                    bench = yew::Reducible::reduce(bench, r.opened());
                }
                if let Some(v) = &from.verification {
                    bench = yew::Reducible::reduce(bench, Action::VerificationIssued(v.clone()));
                }
            }
            (*bench).clone()
        })
    };
    let on_ca = dispatch(&bench, Action::RootCreated);
    let on_device = dispatch(&bench, Action::DeviceIssued);
    let on_batch = dispatch(&bench, Action::DevicesIssued);
    let on_intermediate = dispatch(&bench, Action::IntermediateCreated);
    let on_select_ca = dispatch(&bench, Action::SelectCa);
    let on_verification = dispatch(&bench, Action::VerificationIssued);
    let on_ca_renewed = dispatch(&bench, |(i, made)| Action::CaRenewed(i, made));
    let settings = {
        let from_first = from_first.clone();
        use_reducer(move || {
            from_first
                .as_ref()
                .as_ref()
                .and_then(|f| f.restored.as_ref()?.settings.clone())
                .unwrap_or_default()
        })
    };
    use_effect_with((), |()| settings::HubSettings::forget_stored());
    use_effect_with((), move |()| {
        if let Some(from) = from_first.as_ref() {
            handoff::finish(from);
        }
    });
    let on_workspace = {
        let (bench, settings) = (bench.clone(), settings.clone());
        Callback::from(move |r: std::rc::Rc<steps::Restored>| {
            bench.dispatch(r.opened());
            if let Some(s) = &r.settings {
                settings.dispatch(hub::SettingsAction::Replace(Box::new(s.clone())));
            }
        })
    };
    let ca = bench.ca.clone();
    // What the later steps list from the devices redraws a task after a change (a batch of
    // thousands would otherwise redraw every step in one long task).
    let devices_later = hooks::use_deferred(bench.devices.clone());

    let route = routes::use_route(start_route);
    // A route module loads the whole app, and hands it the page when a route or part it does not
    // draw is asked for (the whole app loads nothing).
    let rest = first::use_rest(&bench, &settings, !route.drawn_here());
    let keeping = steps::use_keeping(on_workspace.clone());
    // A route's parts stay drawn when another route shows (what was typed stays), hidden.
    use routes::Route as R;
    html! {
        <>
            <Masthead />
            <Stepper bench={bench.clone()} route={route} />
            <main>
              <ContextProvider<later::FirstContext> context={rest}>
              <ContextProvider<steps::Keeping> context={keeping}>
                // The home page is drawn only when shown: it reads every certificate.
                { part(route, R::Home, || if route == R::Home { html! { <home::Home bench={bench.clone()} settings={settings.clone()} /> } } else { html! {} }) }
                { part(route, R::RootCa, || html! { <>
                    <steps::RootCaStep oncreated={on_ca} issued={bench.root.clone()} />
                    <steps::IntermediateStep cas={bench.cas.clone()} active={ca.clone()} oncreated={on_intermediate} onselect={on_select_ca} />
                </> }) }
                { part(route, R::Connect, || html! { <hub::HubSettingsStep settings={settings.clone()} /> }) }
                { part(route, R::Upload, || html! { <>
                    <hub::HubCaStep settings={settings.clone()} ca={ca.clone()} onverification={on_verification.clone()} />
                    <steps::VerificationStep ca={ca.clone()} onissued={on_verification} issued={bench.verification.clone()} />
                </> }) }
                { part(route, R::Devices, || html! { <steps::DeviceStep ca={ca} onissued={on_device} onbatch={on_batch.clone()} issued={bench.devices.clone()} /> }) }
                { part(route, R::Register, || html! { <hub::HubDeviceStep settings={settings.clone()} devices={devices_later.clone()} /> }) }
                { part(route, R::Test, || html! { <device::DeviceTestStep devices={devices_later.clone()} localhub={settings.is_localhub()} settings={settings.clone()} /> }) }
                { part(route, R::Dps, || html! { <dps::DpsStep cas={bench.cas.clone()} devices={devices_later.clone()} settings={settings.clone()} /> }) }
                { part(route, R::Decode, || html! { <decoder::ErrorDecoderStep certificates={bench.all_certificates()} /> }) }
                { part(route, R::Inspect, || html! { <inspect::InspectStep ca={bench.ca.clone()} /> }) }
                { part(route, R::Expiry, || html! { <>
                    <expiry::ExpiryStep items={bench.all_certificates()} settings={settings.clone()} />
                    <fleet::FleetStep items={bench.all_certificates()} settings={settings.clone()} />
                </> }) }
                { part(route, R::Renew, || html! { <steps::RenewStep ca={bench.ca.clone()} cas={bench.cas.clone()} devices={bench.devices.clone()} settings={settings.clone()} onrenewed={on_batch.clone()} oncarenewed={on_ca_renewed} /> }) }
                { part(route, R::Rollover, || html! { <steps::RolloverStep cas={bench.cas.clone()} devices={devices_later.clone()} settings={settings.clone()} onrenewed={on_batch.clone()} /> }) }
                { part(route, R::Revoke, || html! { <steps::RevokeStep cas={bench.cas.clone()} devices={devices_later} settings={settings.clone()} /> }) }
                { part(route, R::Workspace, || html! { <steps::WorkspaceStep bench={bench.clone()} settings={settings.clone()} onopened={on_workspace} /> }) }
              </ContextProvider<steps::Keeping>>
              </ContextProvider<later::FirstContext>>
            </main>
            <Footer />
        </>
    }
}

/// Route `r`'s part of the page, hidden unless `shown`. A route module draws only its own routes
/// (`body` is not even built for the others, so their code stays out of it); the others show as
/// loading until the whole app is here.
fn part(shown: routes::Route, r: routes::Route, body: impl FnOnce() -> Html) -> Html {
    let body = if r.drawn_here() {
        body()
    } else {
        html! { <later::LaterRoute route={r} /> }
    };
    html! { <div class="route" data-route={r.place().id} hidden={shown != r}>{body}<home::Pager route={r} /></div> }
}

/// A callback that makes `action` of what it is given happen to the page's state.
fn dispatch<T: 'static>(
    bench: &UseReducerHandle<Workbench>,
    action: fn(T) -> Action,
) -> Callback<T> {
    let bench = bench.clone();
    Callback::from(move |t| bench.dispatch(action(t)))
}

/// The page's name and what it promises about keys.
#[component]
pub(crate) fn Masthead() -> Html {
    html! {
        <header class="masthead">
            <div class="brand">
                <svg class="logo" viewBox="0 0 64 64" aria-hidden="true">
                    <rect width="64" height="64" rx="14" fill="currentColor" />
                    <path d="M32 12l16 6v12c0 11-7 19-16 22-9-3-16-11-16-22V18z" fill="#fff" />
                    <path d="M25 32l5 5 10-11" stroke="currentColor" stroke-width="4" fill="none" stroke-linecap="round" stroke-linejoin="round" />
                </svg>
                <div>
                    <h1>{"hubcert"}</h1>
                    <p class="tagline">{"X.509 certificates for Azure IoT Hub, made in your browser."}</p>
                </div>
            </div>
            <p class="privacy" role="note">
                {"Keys are generated on this page and never leave it. Nothing is stored unless you save an encrypted workspace: download what you keep. Hub calls go only to the endpoints you set."}
            </p>
        </header>
    }
}

#[derive(Properties, PartialEq)]
pub(crate) struct StepperProps {
    pub(crate) bench: UseReducerHandle<Workbench>,
    /// The route shown.
    pub(crate) route: routes::Route,
}

/// The routes as links, read from the route table: the guided path numbered, then the tools; the
/// route shown is marked, the steps done ticked.
#[component]
pub(crate) fn Stepper(props: &StepperProps) -> Html {
    use routes::Route as R;
    // On a phone the stepper scrolls sideways: the route shown is brought into view.
    use_effect_with(props.route, |route| {
        let id = match route.place().id {
            "" => "nav-home".to_owned(),
            id => format!("nav-{id}"),
        };
        if let Some(e) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.get_element_by_id(&id))
        {
            let options = web_sys::ScrollIntoViewOptions::new();
            options.set_block(web_sys::ScrollLogicalPosition::Nearest);
            options.set_inline(web_sys::ScrollLogicalPosition::Center);
            e.scroll_into_view_with_scroll_into_view_options(&options);
        }
    });
    let bench = &props.bench;
    let done = |r: R| match r {
        R::RootCa => bench.ca.is_some(),
        R::Upload => bench.verification.is_some(),
        R::Devices => !bench.devices.is_empty(),
        _ => false,
    };
    html! {
        <nav class="stepper" aria-label="Steps">
            <ol>
                { for routes::PLACES.iter().map(|p| {
                    let href = p.route.hash();
                    let label = match p.step { Some(n) => format!("{n} · {}", p.title), None => p.title.to_owned() };
                    let current = props.route == p.route;
                    html! {
                        <li class={classes!(done(p.route).then_some("done"), current.then_some("current"))}>
                            <a href={href} id={format!("nav-{}", if p.id.is_empty() { "home" } else { p.id })} aria-current={current.then_some("page")}>{label}</a>
                        </li>
                    }
                }) }
            </ol>
        </nav>
    }
}

/// What the page replaces, and which build runs.
#[component]
pub(crate) fn Footer() -> Html {
    html! {
        <footer class="footnote">
            <p>{"Replaces the OpenSSL and az steps of the guide: "}
               <code>{"openssl genrsa / req -x509 / x509 -req"}</code>{" and "}<code>{"az iot hub certificate / device-identity"}</code>
               {". Every certificate made here verifies with "}<code>{"openssl verify -CAfile root-ca.pem"}</code>{"."}</p>
            <offline::OfflineStatus />
        </footer>
    }
}

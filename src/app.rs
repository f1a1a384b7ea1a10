//! The browser shell: Yew components over the pure core. wasm32 only.

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
mod handoff;
mod hooks;
mod hub;
mod inspect;
mod offline;
mod outcome;
mod settings;
mod state;
mod steps;
mod vault_store;
mod workers;

use yew::prelude::*;

pub use browser::{generate_key, install_panic_hook};
pub use fetch::Fetch;
pub use first::start as start_first;
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
    use_effect_with((), move |()| {
        if let Some(from) = from_first.as_ref() {
            handoff::finish(from);
        }
    });
    let on_ca = dispatch(&bench, Action::RootCreated);
    let on_device = dispatch(&bench, Action::DeviceIssued);
    let on_batch = dispatch(&bench, Action::DevicesIssued);
    let on_intermediate = dispatch(&bench, Action::IntermediateCreated);
    let on_select_ca = dispatch(&bench, Action::SelectCa);
    let on_verification = dispatch(&bench, Action::VerificationIssued);
    let on_ca_renewed = dispatch(&bench, |(i, made)| Action::CaRenewed(i, made));
    let settings = use_reducer(settings::HubSettings::default);
    use_effect_with((), |()| settings::HubSettings::forget_stored());
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

    html! {
        <>
            <Masthead />
            <Stepper bench={bench.clone()} first=false />
            <main>
                <steps::RootCaStep oncreated={on_ca} issued={bench.root.clone()} />
                <steps::IntermediateStep cas={bench.cas.clone()} active={ca.clone()} oncreated={on_intermediate} onselect={on_select_ca} />
                <hub::HubSettingsStep settings={settings.clone()} />
                <hub::HubCaStep settings={settings.clone()} ca={ca.clone()} onverification={on_verification.clone()} />
                <steps::VerificationStep ca={ca.clone()} onissued={on_verification} issued={bench.verification.clone()} />
                <steps::DeviceStep ca={ca} onissued={on_device} onbatch={on_batch.clone()} issued={bench.devices.clone()} />
                <hub::HubDeviceStep settings={settings.clone()} devices={devices_later.clone()} />
                <device::DeviceTestStep devices={devices_later.clone()} localhub={settings.is_localhub()} settings={settings.clone()} />
                <dps::DpsStep cas={bench.cas.clone()} devices={devices_later.clone()} settings={settings.clone()} />
                <decoder::ErrorDecoderStep certificates={bench.all_certificates()} />
                <inspect::InspectStep ca={bench.ca.clone()} />
                <expiry::ExpiryStep items={bench.all_certificates()} settings={settings.clone()} />
                <steps::RenewStep ca={bench.ca.clone()} cas={bench.cas.clone()} devices={bench.devices.clone()} settings={settings.clone()} onrenewed={on_batch.clone()} oncarenewed={on_ca_renewed} />
                <steps::RolloverStep cas={bench.cas.clone()} devices={devices_later.clone()} settings={settings.clone()} onrenewed={on_batch.clone()} />
                <steps::RevokeStep cas={bench.cas.clone()} devices={devices_later} settings={settings.clone()} />
                <steps::WorkspaceStep bench={bench.clone()} settings={settings.clone()} onopened={on_workspace} />
            </main>
            <Footer />
        </>
    }
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
    /// The first module's page: the steps it does not have yet link to where they will appear.
    pub(crate) first: bool,
}

/// The steps as links, the ones done marked.
#[component]
pub(crate) fn Stepper(props: &StepperProps) -> Html {
    let bench = &props.bench;
    let has_ca = bench.ca.is_some();
    let later = |anchor: &'static str| if props.first { "#step-hub" } else { anchor };
    html! {
        <nav class="stepper" aria-label="Steps">
            <ol>
                <li class={classes!(has_ca.then_some("done"))}><a href="#step-ca">{"1 · Root CA"}</a></li>
                <li><a href="#step-hub">{"2 · Connect"}</a></li>
                <li class={classes!(bench.verification.is_some().then_some("done"))}><a href={later("#step-upload")}>{"3 · Upload & verify"}</a></li>
                <li class={classes!((!bench.devices.is_empty()).then_some("done"))}><a href="#step-device">{"4 · Device certificates"}</a></li>
                <li><a href={later("#step-register")}>{"5 · Register"}</a></li>
                <li><a href={later("#step-device-test")}>{"6 · Test a device"}</a></li>
                <li><a href={later("#step-dps")}>{"7 · DPS"}</a></li>
                <li><a href={later("#step-decode")}>{"Decode an error"}</a></li>
                <li><a href={later("#step-inspect")}>{"Inspect"}</a></li>
                <li><a href={later("#step-expiry")}>{"Expiry"}</a></li>
                <li><a href={later("#step-renew")}>{"Renew"}</a></li>
                <li><a href={later("#step-rollover")}>{"Roll over"}</a></li>
                <li><a href={later("#step-revoke")}>{"Revoke"}</a></li>
                <li><a href={later("#step-workspace")}>{"Keep"}</a></li>
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

//! The browser shell: Yew components over the pure core. wasm32 only.

mod browser;
mod card;
mod field;
mod state;
mod steps;

use yew::prelude::*;

pub use browser::install_panic_hook;
use state::{Action, Workbench};

/// Mounts the app on `<body>`; what `main` calls.
pub fn start() {
    install_panic_hook();
    yew::Renderer::<App>::new().render();
}

/// The whole page: the three steps of the seed guide that make certificates.
#[component]
pub fn App() -> Html {
    let bench = use_reducer(Workbench::default);
    let on_ca = {
        let bench = bench.clone();
        Callback::from(move |issued| bench.dispatch(Action::RootCreated(issued)))
    };
    let on_device = {
        let bench = bench.clone();
        Callback::from(move |issued| bench.dispatch(Action::DeviceIssued(issued)))
    };
    let on_verification = {
        let bench = bench.clone();
        Callback::from(move |issued| bench.dispatch(Action::VerificationIssued(issued)))
    };
    let ca = bench.ca.clone();
    let has_ca = ca.is_some();

    html! {
        <>
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
                    {"Keys are generated on this page and never leave it. Nothing is stored: download what you keep."}
                </p>
            </header>
            <nav class="stepper" aria-label="Steps">
                <ol>
                    <li class={classes!(has_ca.then_some("done"))}><a href="#step-ca">{"1 · Root CA"}</a></li>
                    <li class={classes!(bench.verification.is_some().then_some("done"))}><a href="#step-verify">{"2 · Proof of possession"}</a></li>
                    <li class={classes!((!bench.devices.is_empty()).then_some("done"))}><a href="#step-device">{"3 · Device certificates"}</a></li>
                </ol>
            </nav>
            <main>
                <steps::RootCaStep oncreated={on_ca} issued={bench.root.clone()} />
                <steps::VerificationStep ca={ca.clone()} onissued={on_verification} issued={bench.verification.clone()} />
                <steps::DeviceStep ca={ca} onissued={on_device} issued={bench.devices.clone()} />
            </main>
            <footer class="footnote">
                <p>{"Replaces steps 1–3 of the OpenSSL guide: "}
                   <code>{"openssl genrsa / req -x509 / x509 -req"}</code>
                   {". Every certificate made here verifies with "}<code>{"openssl verify -CAfile root-ca.pem"}</code>{"."}</p>
            </footer>
        </>
    }
}

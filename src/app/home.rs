//! The home page: what this workspace holds and what needs doing. The CAs with their expiry, the
//! devices (how many, how many due), the hub and DPS settings, alerts at 30/14/7 days, the next
//! step of the guided path, and, when a workspace is kept in this browser, its unlock right here.

use yew::prelude::*;

use super::routes::{Route, PLACES};
use super::settings::HubSettings;
use super::state::Workbench;
use super::steps::KeptHere;
use crate::iothub::{next_step, Alerts, GuideFacts, GuideStep};

#[derive(Properties, PartialEq)]
pub(crate) struct HomeProps {
    pub(crate) bench: UseReducerHandle<Workbench>,
    pub(crate) settings: UseReducerHandle<HubSettings>,
}

/// The guided path's route for a step, and what the home page says about it.
fn next_of(step: GuideStep) -> (Route, &'static str) {
    match step {
        GuideStep::RootCa => (
            Route::RootCa,
            "Create or import the root CA that signs your devices.",
        ),
        GuideStep::Connect => (
            Route::Connect,
            "Set the hub to work with: localhub on this machine, or your Azure IoT Hub.",
        ),
        GuideStep::Upload => (
            Route::Upload,
            "Upload the CA to the hub and prove possession (or verify it automatically).",
        ),
        GuideStep::Devices => (
            Route::Devices,
            "Issue device certificates: one, a batch, or from a device's CSR.",
        ),
        GuideStep::RegisterAndTest => (
            Route::Register,
            "Register the devices in the hub, then test one over MQTT.",
        ),
    }
}

#[component]
pub(crate) fn Home(props: &HomeProps) -> Html {
    let bench = &props.bench;
    // The whole app unlocks kept workspaces here; the first module lists them (a constant
    // choice: the unlock's code stays out of the first module).
    let kept = if cfg!(feature = "full") {
        html! { <KeptHere /> }
    } else {
        html! { <KeptLater /> }
    };
    let now = super::browser::now();
    // Read from what each card already parsed: no certificate is parsed again here.
    let all = bench.all_certificates();
    let infos: Vec<(&str, &crate::pki::CertificateInfo)> =
        all.iter().map(|i| (i.title.as_str(), &i.info)).collect();
    let rows = crate::pki::expiry_rows(&infos, now);
    let alerts = Alerts::of(&rows);
    let due = rows
        .iter()
        .filter(|r| !r.is_ca && !r.superseded && r.days_left < 30)
        .count();
    let s = &props.settings;
    let hub_set = s.arm().is_ok() && s.registry().is_ok();
    let facts = GuideFacts {
        has_ca: bench.ca.is_some(),
        hub_set,
        verified: bench.verification.is_some(),
        devices: bench.devices.len(),
    };
    let (next, why) = next_of(next_step(facts));
    let place = next.place();
    let ca_rows = rows.iter().filter(|r| r.is_ca).collect::<Vec<_>>();
    let hub = if s.is_localhub() {
        "localhub (this machine)".to_owned()
    } else if s.profile().hub.is_empty() {
        "not set".to_owned()
    } else {
        format!("Azure IoT Hub '{}'", s.profile().hub)
    };
    let dps = if s.dps_service().is_ok() {
        format!("set (ID scope {})", s.profile().dps_id_scope)
    } else {
        "not set".to_owned()
    };
    html! {
        <section class="step home" id="home" aria-labelledby="home-title">
            <div class="step-head">
                <span class="step-no" aria-hidden="true">{"⌂"}</span>
                <div>
                    <h2 id="home-title">{"This workspace"}</h2>
                    <p class="lede">{"What it holds, what needs doing, and the next step of the guide."}</p>
                </div>
            </div>
            {kept}
            <div class="card home-next" id="home-next">
                <h3 class="sub">{ match place.step { Some(n) => format!("Next: {n} · {}", place.title), None => format!("Next: {}", place.title) } }</h3>
                <p>{why}</p>
                <div class="actions">
                    <a class="button primary" id="home-go" href={next.hash()}>{format!("Go to {}", place.title)}</a>
                </div>
            </div>
            <div class="card" id="home-holds">
                <h3 class="sub">{"Holds"}</h3>
                <dl class="facts">
                    <dt>{"CAs"}</dt>
                    <dd id="home-cas">
                        if ca_rows.is_empty() {
                            {"none yet"}
                        } else {
                            <ul class="plain">
                                { for ca_rows.iter().map(|r| html! {
                                    <li>{format!("{} ({}) · ", r.label, r.subject)}<span class={classes!("badge", r.status.tone())}>{ if r.days_left < 0 { "expired".to_owned() } else { format!("{} days left", r.days_left) } }</span></li>
                                }) }
                            </ul>
                        }
                    </dd>
                    <dt>{"Devices"}</dt>
                    <dd id="home-devices">{format!("{} device certificate{}, {due} due within 30 days", bench.devices.len(), if bench.devices.len() == 1 { "" } else { "s" })}</dd>
                    <dt>{"Expiry"}</dt>
                    <dd id="home-alerts" class={classes!((!alerts.is_clear()).then_some("warn"))}>
                        {alerts.describe()}
                        if !alerts.is_clear() { {" · "}<a href={Route::Expiry.hash()}>{"see Expiry"}</a> }
                    </dd>
                    <dt>{"Hub"}</dt><dd id="home-hub">{hub}</dd>
                    <dt>{"DPS"}</dt><dd id="home-dps">{dps}</dd>
                </dl>
            </div>
            <div class="card" id="home-tools">
                <h3 class="sub">{"Tools"}</h3>
                <ul class="tools">
                    { for PLACES.iter().filter(|p| p.step.is_none() && p.route != Route::Home).map(|p| html! {
                        <li><a href={p.route.hash()}>{p.title}</a>{" · "}<span class="muted">{p.what}</span></li>
                    }) }
                </ul>
            </div>
        </section>
    }
}

/// In the first module (no unlock of its own: it reads every key and certificate a workspace
/// holds, of any kind), the workspaces kept in this browser by name, and their unlock as a part
/// of the whole app; nothing when none is kept here.
#[component]
fn KeptLater() -> Html {
    let (names, _) = super::vault_store::use_kept_names();
    if names.is_empty() {
        return html! {};
    }
    html! {
        <div class="card" id="home-kept-first">
            <h3 class="sub">{"Kept in this browser"}</h3>
            <p>{format!("Encrypted: {}. Unlock it with its passphrase to go on where you left off.", names.join(", "))}</p>
            <super::later::Later id="home-kept" summary="Unlock the kept workspace" />
        </div>
    }
}

/// The guided path's previous and next step, under a step's route.
#[derive(Properties, PartialEq)]
pub(crate) struct PagerProps {
    pub(crate) route: Route,
}

#[component]
pub(crate) fn Pager(props: &PagerProps) -> Html {
    let (prev, next) = props.route.neighbours();
    if prev.is_none() && next.is_none() {
        return html! {};
    }
    let link = |r: Option<Route>, rel: &'static str, arrow: bool| {
        r.map(|r| {
            let p = r.place();
            let text = match (arrow, p.step) {
                (false, Some(n)) => format!("← {n} · {}", p.title),
                (true, Some(n)) => format!("{n} · {} →", p.title),
                _ => p.title.to_owned(),
            };
            html! { <a class="button secondary" id={format!("pager-{rel}")} rel={rel} href={r.hash()}>{text}</a> }
        })
        .unwrap_or_default()
    };
    html! {
        <nav class="pager" aria-label="Guided path">
            { link(prev, "prev", false) }
            { link(next, "next", true) }
        </nav>
    }
}

//! Expiry watch: everything this page made or imported, soonest expiry first, and a CSV for a
//! calendar or monitoring.

use std::rc::Rc;

use yew::prelude::*;

use std::collections::HashMap;

use super::browser;
use super::outcome::{outcome_view, Outcome};
use super::settings::HubSettings;
use super::state::Issued;
use crate::contract::DeviceId;
use crate::iothub::{describe_dps_registration, describe_hub_registration, RestError};
use crate::pki::{
    expiry_csv_with, expiry_row_matches, expiry_rows, expiry_summary, format_utc,
    registrations_read, ExpiryRow, ExpiryStatus,
};

/// The most rows drawn at once: a batch of thousands stays searchable and in the CSV without
/// putting thousands of rows on the page.
const ROWS_SHOWN: usize = 200;

/// Where each certificate's device is registered, by SHA-256 thumbprint: the hub's record and
/// DPS's, as read.
type Registrations = HashMap<String, (String, String)>;

/// What a failed read says in the table.
fn not_read(e: &RestError) -> String {
    match e.status() {
        Some(404) => "not registered".to_owned(),
        _ => format!("not read: {e}"),
    }
}

#[derive(Properties, PartialEq)]
pub(crate) struct ExpiryProps {
    /// Every certificate of the page, with the label it is shown under.
    pub(crate) items: Rc<Vec<Rc<Issued>>>,
    pub(crate) settings: UseReducerHandle<HubSettings>,
}

#[component]
pub(crate) fn ExpiryStep(props: &ExpiryProps) -> Html {
    let status = use_state(|| None::<String>);
    let search = use_state(String::new);
    let registrations = use_state(|| None::<Rc<Registrations>>);
    let reading = use_state(|| None::<Outcome>);
    // A task after the list changes (see use_deferred), and parsed again only then.
    let items = super::hooks::use_deferred(props.items.clone());
    let report = use_memo(items.clone(), |items| {
        let items: Vec<(&str, &crate::pki::CertificateInfo)> =
            items.iter().map(|i| (i.title.as_str(), &i.info)).collect();
        Ok::<_, crate::pki::PkiError>(expiry_rows(&items, browser::now()))
    });
    let on_read = {
        let (items, settings, registrations, reading) = (
            items.clone(),
            props.settings.clone(),
            registrations.clone(),
            reading.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            yew::platform::spawn_local(read_registrations(
                items.clone(),
                settings.clone(),
                registrations.clone(),
                reading.clone(),
            ));
        })
    };
    // Made when asked for: a batch of thousands would pay for it at every redraw.
    let on_csv = {
        let (status, report, regs) = (status.clone(), report.clone(), (*registrations).clone());
        Callback::from(move |_: MouseEvent| {
            let csv = report
                .as_ref()
                .as_ref()
                .map(|r| match &regs {
                    None => expiry_csv_with(r, &[], |_| Vec::new()),
                    Some(regs) => expiry_csv_with(r, &["hub", "dps"], |row| {
                        regs.get(&row.sha256)
                            .map(|(h, d)| vec![h.clone(), d.clone()])
                            .unwrap_or_else(|| vec![String::new(), String::new()])
                    }),
                })
                .unwrap_or_default();
            status.set(Some(
                match browser::download("certificate-expiry.csv", "text/csv", csv.as_bytes()) {
                    Ok(()) => "Saved certificate-expiry.csv.".to_owned(),
                    Err(e) => e,
                },
            ))
        })
    };
    let on_search = {
        let search = search.clone();
        Callback::from(move |e: InputEvent| {
            search.set(
                e.target_unchecked_into::<web_sys::HtmlInputElement>()
                    .value(),
            )
        })
    };
    let body = match report.as_ref() {
        Err(e) => html! { <p class="error" role="alert">{e.to_string()}</p> },
        Ok(rows) if rows.is_empty() => html! {
            <p class="hint">{"Certificates made or imported above are listed here, soonest expiry first."}</p>
        },
        Ok(rows) => {
            let (line, tone) = expiry_summary(rows);
            let needle = search.trim().to_lowercase();
            let shown: Vec<ExpiryRow> = rows
                .iter()
                .filter(|r| expiry_row_matches(r, &needle))
                .take(ROWS_SHOWN + 1)
                .cloned()
                .collect();
            let found = rows
                .iter()
                .filter(|r| expiry_row_matches(r, &needle))
                .count();
            html! {
                <>
                    <p class={classes!("summary", tone)} id="expiry-summary" role="status">{line}</p>
                    <div class="field">
                        <label for="expiry-search">{"Search (name, subject, issuer, serial or thumbprint)"}</label>
                        <input id="expiry-search" type="search" autocomplete="off" value={(*search).clone()} oninput={on_search} spellcheck="false" />
                        if !needle.is_empty() { <p class="hint">{format!("{found} of {} shown.", rows.len())}</p> }
                    </div>
                    <ExpiryTable rows={shown} registrations={(*registrations).clone()} />
                    if found > ROWS_SHOWN {
                        <p class="hint" id="expiry-more">{format!(
                            "Showing the {ROWS_SHOWN} soonest of {found}: search to narrow the list, or download the CSV for all of them."
                        )}</p>
                    }
                    <div class="actions">
                        <button type="button" class="secondary" id="expiry-read-registrations" onclick={on_read}
                            disabled={matches!(&*reading, Some(Outcome::Busy(_)))}>{"Read where each device is registered"}</button>
                        <button type="button" class="secondary" id="expiry-csv" onclick={on_csv}>{"Download certificate-expiry.csv"}</button>
                        if let Some(s) = &*status { <span class="done-note" role="status">{s}</span> }
                    </div>
                    { outcome_view(&reading, "expiry-registrations-status") }
                    <p class="hint">{"Nothing is stored: save the CSV to keep watching these dates (a calendar, a monitoring system). The hub's own list: az iot hub certificate list --hub-name HUB --query \"value[].{name:name, expiry:properties.expiry}\""}</p>
                </>
            }
        }
    };
    html! {
        <section class="step" id="step-expiry" aria-labelledby="step-expiry-title">
            <div class="step-head">
                <span class="step-no" aria-hidden="true">{"◔"}</span>
                <div>
                    <h2 id="step-expiry-title">{"Watch expiry"}</h2>
                    <p class="lede">{"The inventory: every certificate made or imported on this page, soonest expiry first, with alerts at 30, 14 and 7 days and what to do before it runs out; searchable, with where each device is registered on the hub and DPS, and exportable as CSV."}</p>
                </div>
            </div>
            <div class="card">{body}</div>
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct ExpiryTableProps {
    /// The rows found, soonest first (one more than shown tells there are more).
    rows: Vec<ExpiryRow>,
    registrations: Option<Rc<Registrations>>,
}

/// The certificates found, soonest expiry first, at most [`ROWS_SHOWN`].
#[component]
fn ExpiryTable(props: &ExpiryTableProps) -> Html {
    html! {
        <div class="table-wrap">
            <table id="expiry-table">
                <thead><tr><th scope="col">{"Certificate"}</th><th scope="col">{"Expires (UTC)"}</th><th scope="col">{"Days left"}</th><th scope="col">{"Status"}</th></tr></thead>
                <tbody>
                    { for props.rows.iter().take(ROWS_SHOWN).map(|r| html! {
                        <tr>
                            <td>
                                <strong>{&r.label}</strong><br/><span class="muted">{&r.subject}</span>
                                if let Some(a) = &r.advice { <br/><span class="advice">{a}</span> }
                                if let Some((h, d)) = props.registrations.as_ref().and_then(|m| m.get(&r.sha256)) {
                                    <br/><span class="registration">{format!("Hub: {h}. DPS: {d}.")}</span>
                                }
                            </td>
                            <td>{format_utc(r.not_after)}</td>
                            <td class="num">{r.days_left}</td>
                            <td>if r.superseded && r.status != ExpiryStatus::Ok {
                                <span class="badge ok">{"renewed"}</span>
                            } else {
                                <span class={classes!("badge", r.status.tone())}>{r.status.label()}</span>
                            }</td>
                        </tr>
                    }) }
                </tbody>
            </table>
        </div>
    }
}

/// Reads where each device certificate's device is registered, on the hub and DPS.
async fn read_registrations(
    items: Rc<Vec<Rc<Issued>>>,
    settings: UseReducerHandle<HubSettings>,
    registrations: UseStateHandle<Option<Rc<Registrations>>>,
    reading: UseStateHandle<Option<Outcome>>,
) {
    let s = super::hub::ready(&settings).await;
    let registry = match s.registry() {
        Ok(r) => r,
        Err(e) => return reading.set(Some(Outcome::Failed(e.to_string()))),
    };
    let dps = s.dps_service().ok();
    let hub = super::hub::client(&s);
    let devices: Vec<&Rc<Issued>> = items.iter().filter(|i| i.device_id.is_some()).collect();
    let total = devices.len();
    let mut found = Registrations::new();
    for (n, d) in devices.iter().enumerate() {
        let cn = d.info.common_name.clone().unwrap_or_default();
        reading.set(Some(Outcome::Busy(format!(
            "Reading {} of {total}: {cn}…",
            n + 1
        ))));
        let now = browser::now().unix_timestamp().max(0) as u64;
        let Ok(id) = DeviceId::parse(&cn) else {
            continue;
        };
        let state = match &dps {
            Some(svc) => Some(hub.registration_state(svc, &cn, now).await),
            None => None,
        };
        let on_dps = match &state {
            Some(Ok(state)) => describe_dps_registration(state),
            Some(Err(e)) => not_read(e),
            None => "DPS not set up".to_owned(),
        };
        let on_hub = match hub.device(&registry, &id, now).await {
            Ok(dev) => describe_hub_registration(
                &dev,
                d.info.sha1.as_str(),
                d.info.sha256.as_str(),
                state.as_ref().and_then(|s| s.as_ref().ok()),
            ),
            Err(e) => not_read(&e),
        };
        found.insert(d.info.sha256.to_string(), (on_hub, on_dps));
    }
    registrations.set(Some(Rc::new(found)));
    reading.set(Some(Outcome::Done(registrations_read(total))));
}

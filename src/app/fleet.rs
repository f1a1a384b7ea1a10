//! The hub's view of the fleet: every device the hub holds (made here or not), classed by the
//! certificate it reported (`properties.reported.certificate`), beside the devices this page made;
//! read with the twin query page by page, exported as CSV.

use std::rc::Rc;

use yew::prelude::*;

use super::browser;
use super::fetch::client;
use super::hub::ready;
use super::outcome::{outcome_view, Outcome};
use super::settings::HubSettings;
use super::state::Issued;
use crate::iothub::{fleet_csv, fleet_summary, fleet_view, FleetRow, MadeHere, TwinQuery};

/// The most rows drawn at once; the CSV has them all.
const ROWS_SHOWN: usize = 200;

#[derive(Properties, PartialEq)]
pub(crate) struct FleetProps {
    /// Every certificate of the page (its devices are merged in by id).
    pub(crate) items: Rc<Vec<Rc<Issued>>>,
    pub(crate) settings: UseReducerHandle<HubSettings>,
}

/// What the page made, as the fleet view merges it.
fn made_here(items: &[Rc<Issued>]) -> Vec<MadeHere> {
    items
        .iter()
        .filter_map(|i| {
            Some(MadeHere {
                device_id: i.device_id.as_ref()?.as_str().to_owned(),
                not_after: i.info.not_after,
                thumbprint: i.info.sha256.to_string(),
            })
        })
        .collect()
}

#[component]
pub(crate) fn FleetStep(props: &FleetProps) -> Html {
    let rows = use_state(|| None::<Rc<Vec<FleetRow>>>);
    let reading = use_state(|| None::<Outcome>);
    let on_read = {
        let (items, settings, rows, reading) = (
            props.items.clone(),
            props.settings.clone(),
            rows.clone(),
            reading.clone(),
        );
        Callback::from(move |_| {
            let (items, settings, rows, reading) = (
                items.clone(),
                settings.clone(),
                rows.clone(),
                reading.clone(),
            );
            reading.set(Some(Outcome::Busy(
                "Reading every device's twin from the hub, page by page…".into(),
            )));
            yew::platform::spawn_local(async move {
                let s = ready(&settings).await;
                let now = browser::now();
                let read = match s.registry() {
                    Err(e) => Err(e.to_string()),
                    Ok(registry) => client(&s)
                        .query_twins(
                            &registry,
                            &TwinQuery::fleet().text(),
                            Some(1000),
                            now.unix_timestamp().max(0) as u64,
                        )
                        .await
                        .map_err(|e| e.to_string()),
                };
                match read {
                    Ok(twins) => {
                        let view = fleet_view(&twins, &made_here(&items), now);
                        reading.set(Some(Outcome::Done(format!(
                            "Read {} twin{} from the hub.",
                            twins.len(),
                            if twins.len() == 1 { "" } else { "s" }
                        ))));
                        rows.set(Some(Rc::new(view)));
                    }
                    Err(e) => reading.set(Some(Outcome::Failed(e))),
                }
            });
        })
    };
    let on_csv = {
        let (rows, reading) = (rows.clone(), reading.clone());
        Callback::from(move |_| {
            let Some(r) = &*rows else { return };
            if let Err(e) =
                browser::download("fleet-expiry.csv", "text/csv", fleet_csv(r).as_bytes())
            {
                reading.set(Some(Outcome::Failed(e)));
            }
        })
    };
    let busy = matches!(&*reading, Some(Outcome::Busy(_)));
    html! {
        <section class="step" id="step-fleet" aria-labelledby="step-fleet-title">
            <div class="step-head">
                <span class="step-no" aria-hidden="true">{"◕"}</span>
                <div>
                    <h2 id="step-fleet-title">{"The hub's view of the fleet"}</h2>
                    <p class="lede">{"Every device the hub holds, made here or not, by the certificate it reported when it connected (the device snippets report it; unknown: never reported), beside the devices this page made."}</p>
                </div>
            </div>
            <div class="card">
                <div class="actions">
                    <button type="button" class="primary" id="fleet-read" onclick={on_read} disabled={busy}>{"Read the fleet from the hub"}</button>
                    <button type="button" class="secondary" id="fleet-csv" onclick={on_csv} disabled={rows.is_none()}>{"Download fleet-expiry.csv"}</button>
                </div>
                { outcome_view(&reading, "fleet-status") }
                if let Some(r) = &*rows { <FleetTable rows={r.clone()} /> }
            </div>
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct FleetTableProps {
    rows: Rc<Vec<FleetRow>>,
}

/// The summary line and the most urgent rows.
#[component]
fn FleetTable(props: &FleetTableProps) -> Html {
    let (line, urgent) = fleet_summary(&props.rows);
    html! {
        <>
            <p class={classes!("summary", if urgent { "warn" } else { "ok" })} id="fleet-summary" role="status">{line}</p>
            <div class="table-wrap">
                <table class="expiry" id="fleet-table">
                    <thead><tr><th>{"Device"}</th><th>{"Expiry (reported)"}</th><th>{"Days left"}</th><th>{"Hub"}</th><th>{"Made here"}</th></tr></thead>
                    <tbody>
                        { for props.rows.iter().take(ROWS_SHOWN).map(|r| html! {
                            <tr>
                                <td><code>{&r.device_id}</code></td>
                                <td>{r.expiry.label()}{ r.reported.as_ref().map(|c| format!(" ({})", c.valid_until)).unwrap_or_default() }</td>
                                <td>{ r.days_left.map(|d| d.to_string()).unwrap_or_default() }</td>
                                <td>{ if r.on_hub { r.status.as_ref().map(|s| s.to_string()).unwrap_or_default() } else { "not on the hub".to_owned() } }</td>
                                <td>{ if r.reports_other_certificate { "yes, reports another certificate" } else if r.made_here.is_some() { "yes" } else { "" } }</td>
                            </tr>
                        }) }
                    </tbody>
                </table>
            </div>
            if props.rows.len() > ROWS_SHOWN {
                <p class="hint" id="fleet-more">{format!("Showing the {ROWS_SHOWN} most urgent of {}: the CSV has them all.", props.rows.len())}</p>
            }
        </>
    }
}

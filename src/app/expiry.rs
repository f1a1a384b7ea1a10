//! Expiry watch: everything this page made or imported, soonest expiry first, and a CSV for a
//! calendar or monitoring.

use std::rc::Rc;

use yew::prelude::*;

use super::browser;
use super::state::Issued;
use crate::pki::{
    expiry_csv, expiry_report, format_utc, ExpiryRow, ExpiryStatus, EXPIRY_WARNING_DAYS,
};

/// The summary line over the list: how many are expired and in each alert window (30, 14, 7 days).
fn summary(rows: &[ExpiryRow]) -> (String, &'static str) {
    // A renewed device's old certificate needs nothing: it is not counted as an alert.
    let live = || rows.iter().filter(|r| !r.superseded);
    let count = |s: ExpiryStatus| live().filter(|r| r.status == s).count();
    let worst = live().map(|r| r.status).min().unwrap_or(ExpiryStatus::Ok);
    if worst == ExpiryStatus::Ok {
        let text = if rows.len() == 1 {
            format!("The certificate is valid for more than {EXPIRY_WARNING_DAYS} days.")
        } else {
            format!(
                "All {} certificates are valid for more than {EXPIRY_WARNING_DAYS} days.",
                rows.len()
            )
        };
        return (text, "ok");
    }
    let parts: Vec<String> = [
        (ExpiryStatus::Expired, "expired"),
        (ExpiryStatus::Within7, "expiring within 7 days"),
        (ExpiryStatus::Within14, "within 14 days"),
        (ExpiryStatus::Within30, "within 30 days"),
    ]
    .into_iter()
    .filter_map(|(s, what)| match count(s) {
        0 => None,
        n => Some(format!("{n} {what}")),
    })
    .collect();
    (
        format!("{}, of {}.", parts.join(", "), rows.len()),
        worst.tone(),
    )
}

#[derive(Properties, PartialEq)]
pub(crate) struct ExpiryProps {
    /// Every certificate of the page, with the label it is shown under.
    pub(crate) items: Rc<Vec<Rc<Issued>>>,
}

#[component]
pub(crate) fn ExpiryStep(props: &ExpiryProps) -> Html {
    let status = use_state(|| None::<String>);
    // Parsed again only when the list changes, not whenever the page redraws.
    let report = use_memo(props.items.clone(), |items| {
        let items: Vec<(String, crate::pki::Certificate)> = items
            .iter()
            .map(|i| (i.title.clone(), i.certificate.clone()))
            .collect();
        expiry_report(&items, browser::now())
    });
    let on_csv = {
        let status = status.clone();
        let csv = report
            .as_ref()
            .as_ref()
            .map(|r| expiry_csv(r))
            .unwrap_or_default();
        Callback::from(move |_: MouseEvent| {
            status.set(Some(
                match browser::download("certificate-expiry.csv", "text/csv", csv.as_bytes()) {
                    Ok(()) => "Saved certificate-expiry.csv.".to_owned(),
                    Err(e) => e,
                },
            ))
        })
    };
    let body = match report.as_ref() {
        Err(e) => html! { <p class="error" role="alert">{e.to_string()}</p> },
        Ok(rows) if rows.is_empty() => html! {
            <p class="hint">{"Certificates made or imported above are listed here, soonest expiry first."}</p>
        },
        Ok(rows) => {
            let (line, tone) = summary(rows);
            html! {
                <>
                    <p class={classes!("summary", tone)} id="expiry-summary" role="status">{line}</p>
                    <div class="table-wrap">
                        <table id="expiry-table">
                            <thead><tr><th scope="col">{"Certificate"}</th><th scope="col">{"Expires (UTC)"}</th><th scope="col">{"Days left"}</th><th scope="col">{"Status"}</th></tr></thead>
                            <tbody>
                                { for rows.iter().map(|r| html! {
                                    <tr>
                                        <td>
                                            <strong>{&r.label}</strong><br/><span class="muted">{&r.subject}</span>
                                            if let Some(a) = &r.advice { <br/><span class="advice">{a}</span> }
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
                    <div class="actions">
                        <button type="button" class="secondary" id="expiry-csv" onclick={on_csv}>{"Download certificate-expiry.csv"}</button>
                        if let Some(s) = &*status { <span class="done-note" role="status">{s}</span> }
                    </div>
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
                    <p class="lede">{"Every certificate made or imported on this page, soonest expiry first, with alerts at 30, 14 and 7 days and what to do before it runs out."}</p>
                </div>
            </div>
            <div class="card">{body}</div>
        </section>
    }
}

//! Register, show or delete devices.

use super::*;
use std::cell::Cell;
use std::ops::ControlFlow;

use super::super::fetch::Fetch;
use super::super::state::issued_for;
use crate::iothub::{
    delete_devices_confirm, describe_device, device_ops_result, register_commands,
    registration_auth, registration_outlook, run_progress, run_summary, typed_device_ids,
    with_issued_ids, DeviceOp, HubClient, HubTier, Pace, RunEvent, HUB_DEVICES, NO_DEVICE_IDS,
};

#[derive(Properties, PartialEq)]
pub(crate) struct HubDeviceProps {
    pub(crate) settings: UseReducerHandle<HubSettings>,
    /// Device certificates made on this page (for thumbprints and the id list).
    pub(crate) devices: Rc<Vec<Rc<Issued>>>,
}

/// What the operations need, and where they report.
#[derive(Clone)]
struct OpsContext {
    settings: UseReducerHandle<HubSettings>,
    devices: Rc<Vec<Rc<Issued>>>,
    ids: UseStateHandle<String>,
    self_signed: UseStateHandle<bool>,
    outcome: UseStateHandle<Option<Outcome>>,
    rows: UseStateHandle<Vec<(String, Result<String, String>)>>,
    confirm: UseStateHandle<bool>,
    /// The hub's tier and units typed in the outlook, and whether a bulk run keeps to its rate.
    tier: UseStateHandle<HubTier>,
    units: UseStateHandle<String>,
    /// The box as ticked; `None` until it is: kept to the rate for an Azure hub, not for localhub.
    paced: UseStateHandle<Option<bool>>,
    /// Set by Stop; read by the running operation before its next call.
    stop: Rc<Cell<bool>>,
}

/// The SHA-256 thumbprint of the certificate issued here for `id`, if any.
fn thumbprint_of(devices: &[Rc<Issued>], id: &DeviceId) -> Option<String> {
    issued_for(devices, id).map(|d| d.info.sha256.to_string())
}

/// Register, show or delete devices: one or a list, CA-signed or self-signed.
#[component]
pub(crate) fn HubDeviceStep(props: &HubDeviceProps) -> Html {
    let ctx = OpsContext {
        settings: props.settings.clone(),
        devices: props.devices.clone(),
        ids: use_state(String::new),
        self_signed: use_state(|| false),
        outcome: use_state(|| None::<Outcome>),
        rows: use_state(Vec::new),
        confirm: use_state(|| false),
        tier: use_state(|| HubTier::S1),
        units: use_state(|| "1".to_owned()),
        paced: use_state(|| None),
        stop: (*use_state(|| Rc::new(Cell::new(false)))).clone(),
    };
    let run = |op: DeviceOp| {
        let ctx = ctx.clone();
        Callback::from(move |_: MouseEvent| ctx.run(op))
    };
    let on_fill = {
        let (ids, devices) = (ctx.ids.clone(), props.devices.clone());
        Callback::from(move |_| {
            let issued = devices
                .iter()
                .filter_map(|d| d.device_id.as_ref().map(DeviceId::as_str));
            ids.set(with_issued_ids(&ids, issued));
        })
    };
    let set_self_signed = |v: bool| {
        let self_signed = ctx.self_signed.clone();
        Callback::from(move |_: Event| self_signed.set(v))
    };

    let s = &*props.settings;
    let az_hub = s.az();
    let list = typed_device_ids(&ctx.ids);
    let commands = register_commands(&az_hub, &list, *ctx.self_signed, |id| {
        DeviceId::parse(id)
            .ok()
            .and_then(|id| thumbprint_of(&props.devices, &id))
    });
    let first = list.first().map(String::as_str).unwrap_or("DEVICE_ID");
    let busy = matches!(&*ctx.outcome, Some(Outcome::Busy(m)) if !m.ends_with("to confirm."));
    let on_stop = {
        let stop = ctx.stop.clone();
        Callback::from(move |_: MouseEvent| stop.set(true))
    };
    let (ids, self_signed) = (&ctx.ids, *ctx.self_signed);

    html! {
        <section class="step" id="step-register" aria-labelledby="step-register-title">
            <div class="step-head">
                <span class="step-no" aria-hidden="true">{"5"}</span>
                <div>
                    <h2 id="step-register-title">{"Register devices"}</h2>
                    <p class="lede">{"CA-signed devices are trusted through the verified CA; self-signed ones are pinned by their certificate's thumbprint."}</p>
                </div>
            </div>
            if !s.is_localhub() { <p class="notice">{relay_notice(s)}</p> }
            <div class="card form">
                <div class="field">
                    <label for="reg-ids">{"Device ids, one per line"}</label>
                    <textarea autocomplete="off" id="reg-ids" class="mono" rows="4" value={(**ids).clone()} oninput={textarea_setter(ids)} spellcheck="false" aria-describedby="reg-ids-hint" />
                    <p class="hint" id="reg-ids-hint">{"Each id must be the CN of that device's certificate."}</p>
                </div>
                <div class="actions">
                    <button type="button" class="secondary" id="reg-fill" onclick={on_fill} disabled={props.devices.is_empty()}>{"Add the devices issued above"}</button>
                </div>
                <FleetOutlook count={list.len()} tier={ctx.tier.clone()} units={ctx.units.clone()} paced={ctx.paced.clone()} localhub={s.is_localhub()} />
                <fieldset class="choice">
                    <legend>{"Authentication"}</legend>
                    <label><input type="radio" id="reg-ca" name="reg-auth" checked={!self_signed} onchange={set_self_signed(false)} />{" CA-signed (x509_ca)"}</label>
                    <label><input type="radio" id="reg-self" name="reg-auth" checked={self_signed} onchange={set_self_signed(true)} />{" Self-signed: SHA-256 thumbprint of the certificate issued here (x509_thumbprint)"}</label>
                </fieldset>
                <div class="actions">
                    <button type="button" class="primary" id="reg-submit" onclick={run(DeviceOp::Register)} disabled={busy}>{"Register"}</button>
                    <button type="button" class="secondary" id="reg-show" onclick={run(DeviceOp::Show)} disabled={busy}>{"Show"}</button>
                    <button type="button" class="secondary" id="reg-disable" onclick={run(DeviceOp::Disable)} disabled={busy} title="Revoke: the hub refuses its connections until it is enabled again">{"Disable (revoke)"}</button>
                    <button type="button" class="secondary" id="reg-enable" onclick={run(DeviceOp::Enable)} disabled={busy}>{"Enable"}</button>
                    <button type="button" class={classes!("secondary", ctx.confirm.then_some("danger"))} id="reg-delete" onclick={run(DeviceOp::Delete)} disabled={busy}>{"Delete"}</button>
                    if busy { <button type="button" class="secondary" id="reg-stop" onclick={on_stop}>{"Stop"}</button> }
                </div>
                if list.len() > 1 {
                    <p class="hint" id="reg-resume-hint">{"Stopped, closed or reloaded midway? Register (or delete) the same list again: before each call the page reads which devices the hub already holds and sends only the rest."}</p>
                }
                { outcome_view(&ctx.outcome, "reg-status") }
                if !ctx.rows.is_empty() {
                    <ul class="results" id="reg-results">
                        { for ctx.rows.iter().map(|(id, r)| html! {
                            <li class={classes!(if r.is_ok() { "ok" } else { "bad" })}>
                                <code>{id}</code>{" — "}{ match r { Ok(m) | Err(m) => m.clone() } }
                            </li>
                        }) }
                    </ul>
                }
                <Command title="The same with the Azure CLI" command={commands} />
                <Command title="Revoke (disable) with the Azure CLI; --set status=enabled undoes it" command={az_hub.device_set_status(first, false)} />
            </div>
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct FleetOutlookProps {
    /// How many device ids are typed.
    count: usize,
    tier: UseStateHandle<HubTier>,
    units: UseStateHandle<String>,
    paced: UseStateHandle<Option<bool>>,
    /// Whether the hub is localhub (throttled only when started with --tier).
    localhub: bool,
}

/// For more than one device: the hub's tier and units, and how long registering them takes at
/// its published registry throttle (with DPS advised past what a page should run).
#[component]
fn FleetOutlook(props: &FleetOutlookProps) -> Html {
    let (tier, units, paced) = (props.tier.clone(), props.units.clone(), props.paced.clone());
    let Some(outlook) = registration_outlook(props.count, *tier, &units) else {
        return Html::default();
    };
    let on_paced = {
        let paced = paced.clone();
        Callback::from(move |e: Event| {
            let input = e.target_unchecked_into::<web_sys::HtmlInputElement>();
            paced.set(Some(input.checked()));
        })
    };
    let on_tier = {
        let tier = tier.clone();
        Callback::from(move |e: Event| {
            let value = e
                .target_unchecked_into::<web_sys::HtmlSelectElement>()
                .value();
            if let Ok(t) = value.parse() {
                tier.set(t);
            }
        })
    };
    let on_units = {
        let units = units.clone();
        Callback::from(move |e: InputEvent| {
            units.set(
                e.target_unchecked_into::<web_sys::HtmlInputElement>()
                    .value(),
            );
        })
    };
    html! {
        <div class="grid" id="reg-outlook">
            <div class="field">
                <label for="reg-tier">{"Hub tier"}</label>
                <select id="reg-tier" onchange={on_tier}>
                    { for HubTier::ALL.into_iter().map(|t| html! {
                        <option value={t.as_str()} selected={t == *tier}>{t.as_str()}</option>
                    }) }
                </select>
            </div>
            <div class="field">
                <label for="reg-units">{"Units"}</label>
                <input id="reg-units" type="number" min="1" value={(*units).clone()} oninput={on_units} autocomplete="off" />
            </div>
            <div class="wide">
                <label class="check"><input type="checkbox" id="reg-pace" checked={paced.unwrap_or(!props.localhub)} onchange={on_paced} aria-describedby="reg-pace-hint" />{" Keep to the tier's rate"}</label>
                <p class="hint" id="reg-pace-hint">{"Calls are spaced so that the hub never throttles them. Unticked, the page sends at once and waits whenever the hub answers 429 (throttled)."}</p>
            </div>
            if let Some(over) = HUB_DEVICES.crossing(0, props.count as u64) {
                <p class="error wide" id="reg-limit" role="alert">{over}</p>
            }
            { match outlook {
                Ok(e) => html! {
                    <p class={classes!("wide", if e.dps_advised { "notice" } else { "hint" })} id="reg-estimate" role="status">
                        {e.text}
                        if e.dps_advised { {" "}<a href="#/dps">{"Set up DPS"}</a> }
                    </p>
                },
                Err(e) => html! { <p class="error wide" id="reg-estimate" role="alert">{e}</p> },
            } }
        </div>
    }
}

/// Why an Azure hub's device API is reached through the relay.
fn relay_notice(s: &HubSettings) -> String {
    let hub = if s.profile().hub.trim().is_empty() {
        "HUB.azure-devices.net".to_owned()
    } else {
        hub_host_name(&s.profile().hub)
    };
    format!(
        "IoT Hub's device API sends no CORS headers, so this page reaches it through the relay on your machine: run `cargo run --release -p localhub -- relay --hub {hub}` and keep the registry endpoint at {RELAY_ENDPOINT}. Without the relay, run the az commands below instead."
    )
}

impl OpsContext {
    /// Runs `op` on every typed id, asking once first where `op` needs it.
    fn run(&self, op: DeviceOp) {
        let list = typed_device_ids(&self.ids);
        if list.is_empty() {
            return self
                .outcome
                .set(Some(Outcome::Failed(NO_DEVICE_IDS.into())));
        }
        if op.needs_confirmation() && !*self.confirm {
            self.confirm.set(true);
            return self
                .outcome
                .set(Some(Outcome::Busy(delete_devices_confirm(list.len()))));
        }
        self.confirm.set(false);
        self.stop.set(false);
        yew::platform::spawn_local(run_all(self.clone(), op, list));
    }
}

async fn run_all(ctx: OpsContext, op: DeviceOp, list: Vec<String>) {
    let outcome = &ctx.outcome;
    let s = ready(&ctx.settings).await;
    let registry = match s.registry() {
        Ok(r) => r,
        Err(e) => return outcome.set(Some(Outcome::Failed(e.to_string()))),
    };
    let hub = client(&s);
    let total = list.len();
    if op.in_bulk(total) {
        return run_bulk(&ctx, op, list, &hub, &registry).await;
    }
    let mut done = Vec::with_capacity(total);
    for (i, raw) in list.into_iter().enumerate() {
        if ctx.stop.get() {
            break;
        }
        outcome.set(Some(Outcome::Busy(format!(
            "{} {} of {total}: {raw}…",
            op.verb(),
            i + 1
        ))));
        let now = browser::now().unix_timestamp().max(0) as u64;
        let result: Result<String, String> = match DeviceId::parse(&raw) {
            Err(e) => Err(e.to_string()),
            Ok(id) => match op {
                DeviceOp::Register => {
                    let thumbprint = thumbprint_of(&ctx.devices, &id);
                    match registration_auth(*ctx.self_signed, id.as_str(), thumbprint) {
                        Ok(auth) => hub
                            .register_device(&registry, &id, &auth, now)
                            .await
                            .map(|d| format!("registered: {}", describe_device(&d)))
                            .map_err(|e| e.to_string()),
                        Err(e) => Err(e),
                    }
                }
                DeviceOp::Show => hub
                    .device(&registry, &id, now)
                    .await
                    .map(|d| describe_device(&d))
                    .map_err(|e| e.to_string()),
                DeviceOp::Disable | DeviceOp::Enable => hub
                    .set_device_enabled(
                        &registry,
                        &id,
                        op == DeviceOp::Enable,
                        op.status_reason(),
                        now,
                    )
                    .await
                    .map(|d| describe_device(&d))
                    .map_err(|e| e.to_string()),
                DeviceOp::Delete => hub
                    .delete_device(&registry, &id, now)
                    .await
                    .map(|()| "deleted".to_owned())
                    .map_err(|e| e.to_string()),
            },
        };
        done.push((raw, result));
        ctx.rows.set(done.clone());
    }
    finish(&ctx, total, &done);
}

/// The hub's clock for a run: the browser's, in Unix milliseconds.
fn now_ms() -> u64 {
    js_sys::Date::now().max(0.0) as u64
}

/// The outcome line once every device has its row.
fn finish(ctx: &OpsContext, total: usize, rows: &[(String, Result<String, String>)]) {
    let failed = rows.iter().filter(|(_, r)| r.is_err()).count();
    let (ok, summary) = device_ops_result(rows.len(), failed);
    let summary = if rows.len() < total {
        format!("Stopped: {summary} {} not started.", total - rows.len())
    } else {
        summary
    };
    ctx.outcome.set(Some(if ok {
        Outcome::Done(summary)
    } else {
        Outcome::Failed(summary)
    }));
}

/// Registers or deletes `list` as a run of bulk calls, 100 devices a call (the core's
/// `fleet_run`: what the hub already holds is read first and not sent again, the tier's pace kept
/// when asked, Stop heard before each call), each device's row saying how its entry went; an id
/// or thumbprint the page refuses gets its row without being sent.
async fn run_bulk(
    ctx: &OpsContext,
    op: DeviceOp,
    list: Vec<String>,
    hub: &HubClient<Fetch>,
    registry: &crate::iothub::Registry,
) {
    let total = list.len();
    let mut rows = Vec::with_capacity(total);
    let mut entries = Vec::with_capacity(total);
    for raw in list {
        let entry = DeviceId::parse(&raw)
            .map_err(|e| e.to_string())
            .and_then(|id| {
                let auth = match op {
                    DeviceOp::Register => Some(registration_auth(
                        *ctx.self_signed,
                        id.as_str(),
                        thumbprint_of(&ctx.devices, &id),
                    )?),
                    _ => None,
                };
                op.bulk_entry(&id, auth.as_ref())
            });
        match entry {
            Ok(e) => entries.push(e),
            Err(e) => rows.push((raw, Err(e))),
        }
    }
    let paced = ctx.paced.unwrap_or(!ctx.settings.is_localhub());
    let pace = match (paced, ctx.units.trim().parse::<u32>()) {
        (true, Ok(units)) => Some(Pace::for_tier(*ctx.tier, units)),
        _ => None,
    };
    let refused = rows.len();
    let report = hub
        .fleet_run(registry, op, &entries, &now_ms, pace, |event| {
            if let RunEvent::Rows(done) = event {
                rows.extend_from_slice(done);
                ctx.rows.set(rows.clone());
            } else if let Some(line) = run_progress(op, &event, entries.len(), pace) {
                ctx.outcome.set(Some(Outcome::Busy(line)));
            }
            if ctx.stop.get() {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .await;
    // The run's rows after those the page refused before it, which count as failed.
    let mut report = report;
    let mut all = rows[..refused].to_vec();
    all.append(&mut report.rows);
    report.rows = all;
    ctx.rows.set(report.rows.clone());
    let (ok, summary) = run_summary(op, &report);
    ctx.outcome.set(Some(if ok {
        Outcome::Done(summary)
    } else {
        Outcome::Failed(summary)
    }));
}

//! The due device certificates, chosen and renewed in one zip.

use std::collections::HashSet;

use super::*;
use crate::iothub::{due_within, renew_button, renewed_summary, RenewError};
use crate::pki::{due_for_renewal_info, DueDevice};

/// The most due devices listed at once (all of them are renewed).
const ROWS_SHOWN: usize = 200;

/// What a finished renewal left to download.
#[derive(Clone, PartialEq)]
struct RenewDone {
    ids: Vec<String>,
    zip: Rc<Download>,
    /// The renewed cards, shown here when there are few.
    cards: Vec<Rc<Issued>>,
}

/// The page's device list, compared by identity (the list is replaced whenever it changes).
#[derive(Clone)]
struct DevicesKey(Rc<Vec<Rc<Issued>>>);

impl PartialEq for DevicesKey {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

#[derive(Properties, PartialEq)]
pub(super) struct RenewDevicesProps {
    pub(super) ca: Option<SharedCa>,
    pub(super) devices: Rc<Vec<Rc<Issued>>>,
    /// The selected CA's title, which signs the renewed certificates.
    pub(super) signer: Option<String>,
    pub(super) onrenewed: Callback<Vec<Rc<Issued>>>,
}

/// What a renewal needs from the form.
#[derive(Clone)]
struct RenewInputs {
    ca: Option<SharedCa>,
    devices: Rc<Vec<Rc<Issued>>>,
    days: UseStateHandle<String>,
    same_key: bool,
    key: KeyAlgorithm,
    chosen: Vec<DueDevice>,
}

/// Where a renewal reports.
#[derive(Clone)]
struct RenewOutputs {
    progress: UseStateHandle<Option<(usize, usize)>>,
    done: UseStateHandle<Option<RenewDone>>,
    errors: UseStateHandle<FormErrors>,
    onrenewed: Callback<Vec<Rc<Issued>>>,
}

fn form_error(errors: &UseStateHandle<FormErrors>, message: String) {
    errors.set(FormErrors {
        fields: Vec::new(),
        form: Some(message),
    });
}

#[component]
pub(super) fn RenewDevices(props: &RenewDevicesProps) -> Html {
    let (within, set_within) = use_text("30");
    let (days, set_days) = use_text("365");
    let same_key = use_state(|| true);
    let (key, set_key) = use_key();
    let skipped = use_state(HashSet::<String>::new);
    let progress = use_state(|| None::<(usize, usize)>);
    let done = use_state(|| None::<RenewDone>);
    let errors = use_state(FormErrors::default);

    let within_days = due_within(&within);
    // Read again only when the devices or the horizon change, not at every redraw; and a task
    // after the devices change (see use_deferred).
    let devices = crate::app::hooks::use_deferred(DevicesKey(props.devices.clone()));
    let due: Rc<Vec<DueDevice>> = use_memo((devices, within_days), |(devices, within_days)| {
        let infos: Vec<Option<&crate::pki::CertificateInfo>> =
            devices.0.iter().map(|d| Some(&d.info)).collect();
        match within_days {
            Some(n) => due_for_renewal_info(&infos, *n, browser::now()),
            None => Vec::new(),
        }
    });
    let chosen: Vec<DueDevice> = due
        .iter()
        .filter(|d| !skipped.contains(&d.device_id))
        .cloned()
        .collect();
    let on_renew = renewer(
        RenewInputs {
            ca: props.ca.clone(),
            devices: props.devices.clone(),
            days: days.clone(),
            same_key: *same_key,
            key: *key,
            chosen: chosen.clone(),
        },
        RenewOutputs {
            progress: progress.clone(),
            done: done.clone(),
            errors: errors.clone(),
            onrenewed: props.onrenewed.clone(),
        },
    );
    let on_toggle = toggler(&skipped);
    let on_save = done.as_ref().map(|d| {
        let (zip, errors) = (d.zip.clone(), errors.clone());
        Callback::from(move |_: MouseEvent| {
            if let Err(e) = browser::download(&zip.name, zip.mime, &zip.contents) {
                form_error(&errors, e);
            }
        })
    });
    let set_same = |v: bool| {
        let s = same_key.clone();
        Callback::from(move |_: Event| s.set(v))
    };
    let running = progress.is_some();
    html! {
        <div class="card form" id="renew-devices">
            <div class="grid">
                <Field id="renew-within" label="Due within (days)" kind="number" value={(*within).clone()} oninput={set_within}
                    error={within_days.is_none().then(|| "Enter a whole number of days, 0 to 36500.".to_owned())}
                    hint="The newest certificate of each device counts" />
                <Field id="renew-days" label="New validity (days)" kind="number" value={(*days).clone()} oninput={set_days} error={errors.field("renew-days")} />
            </div>
            if due.is_empty() {
                <p class="hint" id="renew-none">{ if props.devices.is_empty() {
                    "Device certificates issued, imported with a workspace, or signed from a CSR are listed here when they are due.".to_owned()
                } else {
                    format!("No device certificate expires within {} days.", within.trim())
                } }</p>
            } else {
                <DueTable due={due.clone()} devices={props.devices.clone()} skipped={(*skipped).clone()} ontoggle={on_toggle} />
                if due.len() > ROWS_SHOWN {
                    <p class="hint" id="renew-more">{format!(
                        "{} devices are due; the {ROWS_SHOWN} soonest are listed, all {} are renewed unless unticked here.",
                        due.len(),
                        chosen.len()
                    )}</p>
                }
            }
            <fieldset class="choice">
                <legend>{"Key"}</legend>
                <label><input type="radio" id="renew-same-key" name="renew-key" checked={*same_key} onchange={set_same(true)} />
                    {" Keep each device's key: the public key of its current certificate (nothing new to install on the device but the certificate)"}</label>
                <label><input type="radio" id="renew-new-key" name="renew-key" checked={!*same_key} onchange={set_same(false)} />
                    {" A new key for each device (its key file changes too)"}</label>
            </fieldset>
            if !*same_key { <KeySelect id="renew-key" value={*key} onchange={set_key} disabled={running} /> }
            if let Some(t) = &props.signer { <p class="hint">{format!("Signed by {t}, the CA selected above. A device signed by another CA of this page moves to it (a rollover): the hub must trust this CA.")}</p> }
            if let Some((n, total)) = *progress {
                <div class="progress" id="renew-progress" role="status" aria-live="polite">
                    <progress max={total.to_string()} value={n.to_string()}></progress>
                    <span>{format!("Renewed {n} of {total}…")}</span>
                </div>
            }
            if let Some(e) = &errors.form { <p class="error" role="alert" id="renew-error">{e}</p> }
            <div class="actions">
                <button type="button" class="primary" id="renew-submit" onclick={on_renew} disabled={running || chosen.is_empty() || props.ca.is_none()}>
                    {renew_button(chosen.len())}
                </button>
            </div>
            if let (Some(d), Some(on_save)) = (&*done, on_save) {
                <div class="batch-result" id="renew-result" role="status">
                    <p class="done-note">{renewed_summary(&d.ids)}</p>
                    <button type="button" class="primary" id="renew-save" onclick={on_save}>{format!("Download {}", d.zip.name)}</button>
                    { for d.cards.iter().map(|i| html! {
                        <CertificateCard key={i.serial} id={format!("renewed-{}", i.serial)} issued={i.clone()} />
                    }) }
                </div>
            }
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct DueTableProps {
    due: Rc<Vec<DueDevice>>,
    devices: Rc<Vec<Rc<Issued>>>,
    /// Device ids unticked.
    skipped: HashSet<String>,
    /// A device id ticked or unticked.
    ontoggle: Callback<String>,
}

/// The due devices, soonest first, each with its tick.
#[component]
fn DueTable(props: &DueTableProps) -> Html {
    html! {
        <div class="table-wrap">
            <table id="renew-table">
                <thead><tr><th scope="col">{"Renew"}</th><th scope="col">{"Device"}</th><th scope="col">{"Days left"}</th><th scope="col">{"Key"}</th></tr></thead>
                <tbody>
                    { for props.due.iter().take(ROWS_SHOWN).map(|d| {
                        let old = props.devices.get(d.index);
                        let has_key = old.is_some_and(|o| o.pfx.is_some());
                        let cb_id = format!("renew-pick-{}", d.index);
                        let id = d.device_id.clone();
                        html! {
                            <tr>
                                <td><input type="checkbox" id={cb_id.clone()} checked={!props.skipped.contains(&d.device_id)} onchange={props.ontoggle.reform(move |_: Event| id.clone())} aria-label={format!("Renew {}", d.device_id)} /></td>
                                <td><label for={cb_id}><code>{&d.device_id}</code></label><br/><span class="muted">{old.map(|o| o.info.issuer.clone()).unwrap_or_default()}</span></td>
                                <td class="num">{d.days_left}</td>
                                <td>{ if has_key { "held here" } else { "on the device (from its CSR)" } }</td>
                            </tr>
                        }
                    }) }
                </tbody>
            </table>
        </div>
    }
}

/// Ticks or unticks a device id.
fn toggler(skipped: &UseStateHandle<HashSet<String>>) -> Callback<String> {
    let skipped = skipped.clone();
    Callback::from(move |id: String| {
        let mut s = (*skipped).clone();
        if !s.remove(&id) {
            s.insert(id);
        }
        skipped.set(s);
    })
}

/// "Renew N devices": checks the form, then renews each chosen device in turn.
fn renewer(input: RenewInputs, out: RenewOutputs) -> Callback<MouseEvent> {
    Callback::from(move |_: MouseEvent| {
        let Some(ca) = input.ca.clone() else {
            return form_error(&out.errors, NO_CA.into());
        };
        let validity = match ValidityDays::parse(&input.days) {
            Ok(v) => v,
            Err(e) => return out.errors.set(FormErrors::only("renew-days", e)),
        };
        if let Err(e) = ca.0.check_validity(validity, browser::now()) {
            return out.errors.set(FormErrors::only("renew-days", e));
        }
        if input.chosen.is_empty() {
            return form_error(&out.errors, RenewError::NothingChosen.to_string());
        }
        out.errors.set(FormErrors::default());
        out.done.set(None);
        out.progress.set(Some((0, input.chosen.len())));
        yew::platform::spawn_local(renew_all(ca, validity, input.clone(), out.clone()));
    })
}

async fn renew_all(ca: SharedCa, validity: ValidityDays, input: RenewInputs, out: RenewOutputs) {
    let total = input.chosen.len();
    let mut cards = Vec::with_capacity(total);
    let mut failure = None;
    for (n, due) in input.chosen.iter().enumerate() {
        let Some(old) = input.devices.get(due.index) else {
            continue;
        };
        match renew_one(&ca, old, input.same_key, input.key, validity).await {
            Ok(card) => cards.push(card),
            Err(e) => {
                failure = Some(format!("{}: {e}", due.device_id));
                break;
            }
        }
        if n % 8 == 7 || input.key.is_rsa() {
            out.progress.set(Some((n + 1, total)));
            browser::yield_now().await;
        }
    }
    out.progress.set(None);
    if let Some(f) = failure {
        return form_error(
            &out.errors,
            format!("The renewal stopped at {f}. Nothing was added."),
        );
    }
    let zip = match renewed_zip(&cards) {
        Ok(z) => z,
        Err(e) => return form_error(&out.errors, e),
    };
    let ids: Vec<String> = cards
        .iter()
        .filter_map(|c| c.device_id.as_ref().map(|id| id.as_str().to_owned()))
        .collect();
    let shown = if cards.len() <= 3 {
        cards.clone()
    } else {
        Vec::new()
    };
    out.done.set(Some(RenewDone {
        zip,
        ids,
        cards: shown,
    }));
    out.onrenewed.emit(cards);
}

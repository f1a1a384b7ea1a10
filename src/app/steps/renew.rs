//! Day two: renew what is due. Device certificates expiring within N days, issued again with each
//! device's own key (the device only gets a new certificate file) or a new key, in one zip; then
//! thumbprint-registered devices rolled over on the hub step by step so none is ever refused; and
//! the signing CA renewed with the same key (what it signed keeps chaining to it).

use std::collections::HashSet;

use super::*;
use crate::app::command::Command;
use crate::app::fetch::client;
use crate::app::outcome::{outcome_view, Outcome};
use crate::app::settings::HubSettings;
use crate::pki::{due_for_renewal_info, zip_files, DueDevice, NamedFile, RenewKey};

#[derive(Properties, PartialEq)]
pub(crate) struct RenewProps {
    /// The CA that signs the renewed certificates.
    pub(crate) ca: Option<SharedCa>,
    /// Every CA of the tree with its card, root first.
    pub(crate) cas: Rc<Vec<(SharedCa, Rc<Issued>)>>,
    /// Device certificates of the page, newest first.
    pub(crate) devices: Rc<Vec<Rc<Issued>>>,
    pub(crate) settings: UseReducerHandle<HubSettings>,
    /// Renewed device certificates, in the order renewed.
    pub(crate) onrenewed: Callback<Vec<Rc<Issued>>>,
    /// A renewed CA replaces the CA at this index of the tree.
    pub(crate) oncarenewed: Callback<(usize, (SharedCa, Rc<Issued>))>,
}

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

/// The device ids with more than one certificate on the page, and the newest one's thumbprints:
/// the devices a rollover on the hub is about.
fn renewed_ids(devices: &[Rc<Issued>]) -> Vec<(String, String, String)> {
    let mut count = std::collections::HashMap::<&str, usize>::new();
    for d in devices {
        if let Some(cn) = d.info.common_name.as_deref() {
            *count.entry(cn).or_default() += 1;
        }
    }
    let mut seen = HashSet::new();
    devices
        .iter()
        .filter_map(|d| {
            let cn = d.info.common_name.as_deref()?;
            (count.get(cn).copied().unwrap_or(0) > 1 && seen.insert(cn)).then(|| {
                (
                    cn.to_owned(),
                    d.info.sha1.to_string(),
                    d.info.sha256.to_string(),
                )
            })
        })
        .collect()
}

/// The page's device list, compared by identity (the list is replaced whenever it changes).
#[derive(Clone)]
struct DevicesKey(Rc<Vec<Rc<Issued>>>);

impl PartialEq for DevicesKey {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

#[component]
pub(crate) fn RenewStep(props: &RenewProps) -> Html {
    let (within, set_within) = use_text("30");
    let (days, set_days) = use_text("365");
    let same_key = use_state(|| true);
    let (key, set_key) = use_key();
    let skipped = use_state(HashSet::<String>::new);
    let progress = use_state(|| None::<(usize, usize)>);
    let done = use_state(|| None::<RenewDone>);
    let errors = use_state(FormErrors::default);
    let roll = use_state(|| None::<Outcome>);
    let roll_rows = use_state(Vec::<(String, Result<String, String>)>::new);
    let (ca_days, set_ca_days) = use_text("1825");
    let ca_outcome = use_state(|| None::<Outcome>);

    let within_days = within.trim().parse::<u32>().ok().filter(|d| *d <= 36_500);
    // Read again only when the devices or the horizon change, not at every redraw; and a task
    // after the devices change (see use_deferred).
    let devices = super::super::hooks::use_deferred(DevicesKey(props.devices.clone()));
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

    let on_renew = {
        let (ca, devices, onrenewed) = (
            props.ca.clone(),
            props.devices.clone(),
            props.onrenewed.clone(),
        );
        let (days, same_key, key, progress, done, errors) = (
            days.clone(),
            *same_key,
            *key,
            progress.clone(),
            done.clone(),
            errors.clone(),
        );
        let chosen = chosen.clone();
        Callback::from(move |_: MouseEvent| {
            let Some(ca) = ca.clone() else {
                return errors.set(FormErrors {
                    fields: Vec::new(),
                    form: Some(NO_CA.into()),
                });
            };
            let validity = match ValidityDays::parse(&days) {
                Ok(v) => v,
                Err(e) => return errors.set(FormErrors::only("renew-days", e)),
            };
            if let Err(e) = ca.0.check_validity(validity, browser::now()) {
                return errors.set(FormErrors::only("renew-days", e));
            }
            if chosen.is_empty() {
                return errors.set(FormErrors {
                    fields: Vec::new(),
                    form: Some(
                        "No device is chosen: raise \"Due within\" or tick a device above.".into(),
                    ),
                });
            }
            errors.set(FormErrors::default());
            done.set(None);
            let total = chosen.len();
            progress.set(Some((0, total)));
            let (chosen, devices, progress, done, errors, onrenewed) = (
                chosen.clone(),
                devices.clone(),
                progress.clone(),
                done.clone(),
                errors.clone(),
                onrenewed.clone(),
            );
            yew::platform::spawn_local(async move {
                let mut cards = Vec::with_capacity(total);
                let mut failure = None;
                for (n, due) in chosen.iter().enumerate() {
                    let Some(old) = devices.get(due.index) else {
                        continue;
                    };
                    let made = renew_one(&ca, old, same_key, key, validity).await;
                    match made {
                        Ok(card) => cards.push(card),
                        Err(e) => {
                            failure = Some(format!("{}: {e}", due.device_id));
                            break;
                        }
                    }
                    if n % 8 == 7 || key.is_rsa() {
                        progress.set(Some((n + 1, total)));
                        browser::yield_now().await;
                    }
                }
                progress.set(None);
                if let Some(f) = failure {
                    return errors.set(FormErrors {
                        fields: Vec::new(),
                        form: Some(format!("The renewal stopped at {f}. Nothing was added.")),
                    });
                }
                let zip = match renewed_zip(&cards) {
                    Ok(z) => z,
                    Err(e) => {
                        return errors.set(FormErrors {
                            fields: Vec::new(),
                            form: Some(e),
                        })
                    }
                };
                let ids: Vec<String> = cards
                    .iter()
                    .filter_map(|c| c.info.common_name.clone())
                    .collect();
                let shown = if cards.len() <= 3 {
                    cards.clone()
                } else {
                    Vec::new()
                };
                done.set(Some(RenewDone {
                    zip,
                    ids,
                    cards: shown,
                }));
                onrenewed.emit(cards);
            });
        })
    };

    let toggle = |id: String| {
        let skipped = skipped.clone();
        Callback::from(move |_: Event| {
            let mut s = (*skipped).clone();
            if !s.remove(&id) {
                s.insert(id.clone());
            }
            skipped.set(s);
        })
    };
    let on_save = done.as_ref().map(|d| {
        let (zip, errors) = (d.zip.clone(), errors.clone());
        Callback::from(move |_: MouseEvent| {
            if let Err(e) = browser::download(&zip.name, zip.mime, &zip.contents) {
                errors.set(FormErrors {
                    fields: Vec::new(),
                    form: Some(e),
                });
            }
        })
    });

    let rollover = renewed_ids(&props.devices);
    let on_roll = {
        let (settings, roll, roll_rows, rollover) = (
            props.settings.clone(),
            roll.clone(),
            roll_rows.clone(),
            rollover.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            let settings = settings.clone();
            let (roll, roll_rows, rollover) = (roll.clone(), roll_rows.clone(), rollover.clone());
            yew::platform::spawn_local(async move {
                let s = crate::app::hub::ready(&settings).await;
                let registry = match s.registry() {
                    Ok(r) => r,
                    Err(e) => return roll.set(Some(Outcome::Failed(e.to_string()))),
                };
                let hub = client(&s);
                let total = rollover.len();
                let mut rows = Vec::with_capacity(total);
                let mut failures = 0;
                for (i, (id, sha1, sha256)) in rollover.iter().enumerate() {
                    roll.set(Some(Outcome::Busy(format!(
                        "Rolling over {} of {total}: {id}…",
                        i + 1
                    ))));
                    let now = browser::now().unix_timestamp().max(0) as u64;
                    let result = match DeviceId::parse(id) {
                        Err(e) => Err(e.to_string()),
                        Ok(device) => hub
                            .roll_thumbprint(&registry, &device, sha1, sha256, now)
                            .await
                            .map(|(_, step)| step.describe().to_owned())
                            .map_err(|e| e.to_string()),
                    };
                    failures += usize::from(result.is_err());
                    rows.push((id.clone(), result));
                    roll_rows.set(rows.clone());
                }
                let line = format!(
                    "{} of {total} done{}. Press again for the next step of each thumbprint device.",
                    total - failures,
                    if failures > 0 {
                        format!("; {failures} failed, see below")
                    } else {
                        String::new()
                    }
                );
                roll.set(Some(if failures > 0 {
                    Outcome::Failed(line)
                } else {
                    Outcome::Done(line)
                }));
            });
        })
    };

    // The signing CA renewed with its own key.
    let active_index = props
        .ca
        .as_ref()
        .and_then(|ca| props.cas.iter().position(|(c, _)| c == ca));
    let on_renew_ca = {
        let (cas, oncarenewed, ca_outcome, ca_days) = (
            props.cas.clone(),
            props.oncarenewed.clone(),
            ca_outcome.clone(),
            ca_days.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            let Some(i) = active_index else {
                return ca_outcome.set(Some(Outcome::Failed(NO_CA.into())));
            };
            let validity = match ValidityDays::parse(&ca_days) {
                Ok(v) => v,
                Err(e) => return ca_outcome.set(Some(Outcome::Failed(e.to_string()))),
            };
            let (ca, card) = &cas[i];
            let now = browser::now();
            let renewed = if ca.0.is_root() {
                ca.0.renew_root(validity, now)
            } else {
                // Its parent is the CA of the tree whose certificate signed it.
                match cas.iter().find(|(p, _)| {
                    ca.0.issuers()
                        .first()
                        .is_some_and(|above| above == p.0.certificate())
                }) {
                    Some((parent, _)) => parent.0.renew_intermediate(&ca.0, validity, now),
                    None => {
                        return ca_outcome.set(Some(Outcome::Failed(
                            "The CA that signed this intermediate is not on the page (it was imported without its parent's key): renew it where its parent lives, then import it again.".into(),
                        )))
                    }
                }
            };
            // The same file names as the card it replaces (root-ca.pem, intermediate-ca.pem, …).
            let stem = card
                .downloads
                .first()
                .and_then(|d| d.name.strip_suffix(".pem"))
                .unwrap_or("ca")
                .to_owned();
            match renewed.and_then(|r| ca_card(r, &stem, card.title.clone(), true)) {
                Ok(made) => {
                    let not_after = crate::pki::format_utc(made.1.info.not_after);
                    oncarenewed.emit((i, made));
                    ca_outcome.set(Some(Outcome::Done(format!(
                        "Renewed with the same key and subject, valid until {not_after}. Upload the new certificate to the hub and DPS and verify it (step 3): the hub treats it as a new certificate. Devices it signed chain to it unchanged."
                    ))));
                }
                Err(e) => ca_outcome.set(Some(Outcome::Failed(e.to_string()))),
            }
        })
    };

    let s = &*props.settings;
    let az = s.az();
    let az_lines = rollover
        .iter()
        .take(5)
        .map(|(id, _, sha256)| {
            format!(
                "# {id}: stage (old primary, new secondary), then promote, then retire\n{}",
                az.device_set_thumbprints(id, "OLD_THUMBPRINT", sha256)
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    let running = progress.is_some();
    let roll_busy = matches!(&*roll, Some(Outcome::Busy(_)));
    let active_title = active_index.map(|i| props.cas[i].1.title.clone());
    html! {
        <section class="step" id="step-renew" aria-labelledby="step-renew-title">
            <div class="step-head">
                <span class="step-no" aria-hidden="true">{"↻"}</span>
                <div>
                    <h2 id="step-renew-title">{"Renew"}</h2>
                    <p class="lede">{"Device certificates due soon, issued again by the selected CA with the key each device already holds (only the certificate file changes on the device) or a new one; thumbprint devices rolled over on the hub without a refused connection; the CA renewed with its own key."}</p>
                </div>
            </div>
            if props.ca.is_none() { <p class="notice">{NO_CA}</p> }
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
                    <div class="table-wrap">
                        <table id="renew-table">
                            <thead><tr><th scope="col">{"Renew"}</th><th scope="col">{"Device"}</th><th scope="col">{"Days left"}</th><th scope="col">{"Key"}</th></tr></thead>
                            <tbody>
                                { for due.iter().take(ROWS_SHOWN).map(|d| {
                                    let old = props.devices.get(d.index);
                                    let has_key = old.is_some_and(|o| o.pfx.is_some());
                                    let cb_id = format!("renew-pick-{}", d.index);
                                    html! {
                                        <tr>
                                            <td><input type="checkbox" id={cb_id.clone()} checked={!skipped.contains(&d.device_id)} onchange={toggle(d.device_id.clone())} aria-label={format!("Renew {}", d.device_id)} /></td>
                                            <td><label for={cb_id}><code>{&d.device_id}</code></label><br/><span class="muted">{old.map(|o| o.info.issuer.clone()).unwrap_or_default()}</span></td>
                                            <td class="num">{d.days_left}</td>
                                            <td>{ if has_key { "held here" } else { "on the device (from its CSR)" } }</td>
                                        </tr>
                                    }
                                }) }
                            </tbody>
                        </table>
                    </div>
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
                    <label><input type="radio" id="renew-same-key" name="renew-key" checked={*same_key} onchange={{ let s = same_key.clone(); Callback::from(move |_: Event| s.set(true)) }} />
                        {" Keep each device's key: the public key of its current certificate (nothing new to install on the device but the certificate)"}</label>
                    <label><input type="radio" id="renew-new-key" name="renew-key" checked={!*same_key} onchange={{ let s = same_key.clone(); Callback::from(move |_: Event| s.set(false)) }} />
                        {" A new key for each device (its key file changes too)"}</label>
                </fieldset>
                if !*same_key { <KeySelect id="renew-key" value={*key} onchange={set_key} disabled={running} /> }
                if let Some(t) = &active_title { <p class="hint">{format!("Signed by {t}, the CA selected above. A device signed by another CA of this page moves to it (a rollover): the hub must trust this CA.")}</p> }
                if let Some((n, total)) = *progress {
                    <div class="progress" id="renew-progress" role="status" aria-live="polite">
                        <progress max={total.to_string()} value={n.to_string()}></progress>
                        <span>{format!("Renewed {n} of {total}…")}</span>
                    </div>
                }
                if let Some(e) = &errors.form { <p class="error" role="alert" id="renew-error">{e}</p> }
                <div class="actions">
                    <button type="button" class="primary" id="renew-submit" onclick={on_renew} disabled={running || chosen.is_empty() || props.ca.is_none()}>
                        {format!("Renew {} device{}", chosen.len(), if chosen.len() == 1 { "" } else { "s" })}
                    </button>
                </div>
                if let (Some(d), Some(on_save)) = (&*done, on_save) {
                    <div class="batch-result" id="renew-result" role="status">
                        <p class="done-note">{format!(
                            "{} device certificate{} renewed: {}. Listed with the devices for registration, the device test and the workspace.",
                            d.ids.len(),
                            if d.ids.len() == 1 { "" } else { "s" },
                            d.ids.iter().take(5).cloned().collect::<Vec<_>>().join(", ")
                        )}</p>
                        <button type="button" class="primary" id="renew-save" onclick={on_save}>{format!("Download {}", d.zip.name)}</button>
                        { for d.cards.iter().map(|i| html! {
                            <CertificateCard key={i.serial} id={format!("renewed-{}", i.serial)} issued={i.clone()} />
                        }) }
                    </div>
                }
            </div>
            <div class="card form" id="renew-hub">
                <h3>{"On the hub"}</h3>
                <ul class="hint" id="renew-paths">
                    <li>{crate::iothub::Renewal::Nothing.describe()}</li>
                    <li>{crate::iothub::Renewal::Thumbprints.describe()}{" Each press reads the hub first (safe to repeat, resumes after a reload); both certificates connect in between."}</li>
                    <li id="renew-dps">{crate::iothub::Renewal::ProvisionAgain.describe()}{" The provisioning test (DPS) does it from this browser once the renewed .pfx is imported."}</li>
                </ul>
                if rollover.is_empty() {
                    <p class="hint" id="renew-roll-none">{"Devices with a renewed certificate on this page are listed here."}</p>
                } else {
                    <p>{format!("Renewed on this page: {}.", rollover.iter().map(|(id, ..)| id.as_str()).collect::<Vec<_>>().join(", "))}</p>
                }
                <div class="actions">
                    <button type="button" class="secondary" id="renew-roll" onclick={on_roll} disabled={roll_busy || rollover.is_empty()}>{"Roll over on the hub (next step)"}</button>
                </div>
                { outcome_view(&roll, "renew-roll-status") }
                if !roll_rows.is_empty() {
                    <ul class="results" id="renew-roll-results">
                        { for roll_rows.iter().map(|(id, r)| html! {
                            <li class={classes!(if r.is_ok() { "ok" } else { "bad" })}>
                                <code>{id}</code>{" — "}{ match r { Ok(m) | Err(m) => m.clone() } }
                            </li>
                        }) }
                    </ul>
                }
                if !rollover.is_empty() {
                    <Command title="The same with the Azure CLI (one update per step; read the current primary with device-identity show)" command={az_lines} />
                }
            </div>
            <div class="card form" id="renew-ca">
                <h3>{"Renew the CA"}</h3>
                <p class="hint">{"The selected CA again with the same key, subject and key identifier and a new validity: devices and intermediates it signed chain to it unchanged. An intermediate is signed again by its parent on this page."}</p>
                <div class="grid">
                    <Field id="renew-ca-days" label="New validity (days)" kind="number" value={(*ca_days).clone()} oninput={set_ca_days} />
                </div>
                <div class="actions">
                    <button type="button" class="secondary" id="renew-ca-submit" onclick={on_renew_ca} disabled={active_index.is_none()}>
                        { match &active_title { Some(t) => format!("Renew {t}"), None => "Renew the CA".to_owned() } }
                    </button>
                </div>
                { outcome_view(&ca_outcome, "renew-ca-status") }
            </div>
        </section>
    }
}

/// The files of renewed devices as one zip, `renewed-devices-N.zip`.
pub(super) fn renewed_zip(cards: &[Rc<Issued>]) -> Result<Rc<Download>, String> {
    let files: Vec<NamedFile> = cards
        .iter()
        .flat_map(|c| c.downloads.iter().map(NamedFile::from))
        .collect();
    let zip = zip_files(&files).map_err(|e| e.to_string())?;
    Ok(Rc::new(Download {
        name: format!("renewed-devices-{}.zip", cards.len()),
        contents: Rc::new(zip),
        mime: "application/zip",
        secret: files.iter().any(|f| f.secret),
    }))
}

/// One device renewed under `ca`: with the key of its current certificate (the page's copy of the
/// private key kept with it where the page has one) or a new key.
pub(super) async fn renew_one(
    ca: &SharedCa,
    old: &Issued,
    same_key: bool,
    algorithm: KeyAlgorithm,
    validity: ValidityDays,
) -> Result<Rc<Issued>, String> {
    let now = browser::now();
    let (renewed, key) = if same_key {
        let r =
            ca.0.renew_device(&old.certificate, RenewKey::Same, validity, now)
                .map_err(|e| e.to_string())?;
        let key = match &old.pfx {
            Some(p) => Some(p.key().map_err(|e| e.to_string())?),
            None => None,
        };
        ((r.device_id, r.certificate), key)
    } else {
        let id = old
            .info
            .common_name
            .as_deref()
            .ok_or("its certificate has no CN")
            .and_then(|cn| DeviceId::parse(cn).map_err(|_| "its CN is not a device id"))?;
        let key = browser::generate_key(algorithm).await?;
        let cert =
            ca.0.issue_device(
                &DeviceCertParams {
                    device_id: id.clone(),
                    validity,
                },
                &key,
                now,
            )
            .map_err(|e| e.to_string())?;
        ((id, cert), Some(key))
    };
    let (id, cert) = renewed;
    let card = match key {
        Some(key) => {
            let files =
                crate::pki::device_files(&ca.0, &id, &cert, &key).map_err(|e| e.to_string())?;
            card_for(ca, &id, cert, files, key).map_err(|e| e.to_string())?
        }
        None => {
            let pem = cert.pem();
            issued(
                format!("Device {id}"),
                cert,
                vec![Download::pem(
                    format!("{}.pem", id.file_stem()),
                    &pem,
                    false,
                )],
            )
            .map_err(|e| e.to_string())?
        }
    };
    Ok(Rc::new(Issued {
        title: format!("{} (renewed)", card.title),
        in_batch: true,
        ..(*card).clone()
    }))
}

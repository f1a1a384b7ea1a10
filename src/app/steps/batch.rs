//! Many devices at once, one zip.

use super::*;
use crate::pki::BatchIssuer;

/// The most devices one batch makes: ECDSA batches run in a pool of workers (10,000 P-256
/// identities in about 3 s on two cores, 100,000 in about 25 s, `scripts/bench.sh`).
const MAX_BATCH: usize = 100_000;
/// RSA keys come from WebCrypto one by one on the page (with Stop): a few hundred ms each.
const MAX_RSA_BATCH: usize = 10_000;
/// The devices of a batch the page keeps as cards (for registration, the device test, the
/// expiry watch, the workspace): the first 10,000. All are in the zip; beyond that the page
/// would hold hundreds of MB.
const KEPT_CARDS: usize = 10_000;

#[derive(Properties, PartialEq)]
pub(super) struct BatchProps {
    pub(super) ca: Option<SharedCa>,
    pub(super) onbatch: Callback<Vec<Rc<Issued>>>,
}

/// A batch's zip, held by the browser.
#[derive(PartialEq)]
struct BatchZip {
    name: String,
    blob: web_sys::Blob,
}

/// What a finished batch shows.
#[derive(Clone, PartialEq)]
struct BatchDone {
    ids: Rc<Vec<String>>,
    zip: Rc<BatchZip>,
    stopped_early: bool,
    /// Issued by this many workers, off the page's thread (none: on the page).
    workers: usize,
    /// What made the keys and signatures: WebCrypto or WebAssembly.
    signer: String,
    /// How long it took, in milliseconds.
    elapsed_ms: f64,
}

/// Many devices at once: ids from a list or a range, a key and certificate each, one zip.
#[component]
pub(super) fn BatchStep(props: &BatchProps) -> Html {
    let ids_text = use_state(String::new);
    let (days, set_days) = use_text("365");
    let (key, set_key) = use_key();
    let errors = use_state(FormErrors::default);
    // (done, total) while running.
    let progress = use_state(|| None::<(usize, usize)>);
    let stop = use_mut_ref(|| false);
    let done = use_state(|| None::<BatchDone>);

    // Read as typed, not again at each progress step of a running batch.
    let parsed = use_memo((*ids_text).clone(), |t| {
        (!t.trim().is_empty()).then(|| crate::iothub::parse_device_ids(t, MAX_BATCH))
    });
    let onsubmit = {
        let (ids_text, days, key, errors, progress, stop, done) = (
            ids_text.clone(),
            days.clone(),
            key.clone(),
            errors.clone(),
            progress.clone(),
            stop.clone(),
            done.clone(),
        );
        let (ca, onbatch) = (props.ca.clone(), props.onbatch.clone());
        submit(Callback::from(move |()| {
            if progress.is_some() {
                return;
            }
            let mut errs = FormErrors::default();
            let ids = crate::iothub::parse_device_ids(&ids_text, MAX_BATCH)
                .map_err(|e| errs.add("batch-ids", e))
                .ok();
            let validity = ValidityDays::parse(&days)
                .map_err(|e| errs.add("batch-days", e))
                .ok();
            let (Some(ca), Some(ids), Some(validity)) = (&ca, ids, validity) else {
                if ca.is_none() {
                    errs.form = Some(NO_CA.into());
                }
                errors.set(errs);
                return;
            };
            if let Err(e) = ca.0.check_validity(validity, browser::now()) {
                errors.set(FormErrors::only("batch-days", e));
                return;
            }
            if key.is_rsa() && ids.len() > MAX_RSA_BATCH {
                errors.set(FormErrors::only(
                    "batch-ids",
                    format!("{} devices with RSA keys would take hours: each RSA key is made on its own. Issue at most {MAX_RSA_BATCH} per RSA batch, or choose ECDSA P-256 (up to {MAX_BATCH}, made in parallel off the page).", ids.len()),
                ));
                return;
            }
            errors.set(FormErrors::default());
            done.set(None);
            *stop.borrow_mut() = false;
            let total = ids.len();
            progress.set(Some((0, total)));
            let (ca, algorithm) = (ca.clone(), *key);
            let (errors, progress, stop, done, onbatch) = (
                errors.clone(),
                progress.clone(),
                stop.clone(),
                done.clone(),
                onbatch.clone(),
            );
            yew::platform::spawn_local(async move {
                let started = js_sys::Date::now();
                // ECDSA: a pool of workers issues; the page takes each device as it comes (its
                // card, its files into the zip, whose finished bytes go to the browser's keeping).
                let mut issued = Vec::with_capacity(total.min(KEPT_CARDS));
                let mut all_ids = Vec::with_capacity(total);
                let mut zip = match browser::BrowserZip::new(browser::now()) {
                    Ok(z) => z,
                    Err(e) => {
                        progress.set(None);
                        return errors.set(FormErrors {
                            fields: Vec::new(),
                            form: Some(e),
                        });
                    }
                };
                let pooled = crate::app::workers::issue(
                    &ca.0,
                    &ids,
                    validity,
                    algorithm,
                    browser::now().unix_timestamp(),
                    |n| progress.set(Some((n, total))),
                    || *stop.borrow(),
                    |id, (cert, key_der, files)| {
                        zip.add(&files)?;
                        all_ids.push(id.to_string());
                        if issued.len() < KEPT_CARDS {
                            let card = card_for_key_der(&ca, id, cert, files, key_der)
                                .map_err(|e| e.to_string())?;
                            issued.push(Rc::new(Issued {
                                in_batch: true,
                                ..(*card).clone()
                            }));
                        }
                        Ok(())
                    },
                )
                .await;
                match pooled {
                    Ok(crate::app::workers::Pooled {
                        taken,
                        workers,
                        signer,
                    }) => {
                        // The last steps, each in a task of its own so that none holds the
                        // page for long: the file, then the lists.
                        if taken == 0 {
                            progress.set(None);
                            return errors.set(FormErrors {
                                fields: Vec::new(),
                                form: Some(
                                    "Stopped before any device was issued: nothing to save.".into(),
                                ),
                            });
                        }
                        let blob = zip.finish();
                        browser::yield_now().await;
                        progress.set(None);
                        let blob = match blob {
                            Ok(b) => b,
                            Err(e) => {
                                return errors.set(FormErrors {
                                    fields: Vec::new(),
                                    form: Some(e),
                                })
                            }
                        };
                        let ids = all_ids;
                        onbatch.emit(issued);
                        browser::yield_now().await;
                        done.set(Some(BatchDone {
                            zip: Rc::new(BatchZip {
                                name: format!("devices-{}.zip", ids.len()),
                                blob,
                            }),
                            ids: Rc::new(ids),
                            stopped_early: taken < total,
                            workers,
                            signer,
                            elapsed_ms: js_sys::Date::now() - started,
                        }));
                        return;
                    }
                    Err(crate::app::workers::PoolError::Failed(e)) => {
                        progress.set(None);
                        return errors.set(FormErrors {
                            fields: Vec::new(),
                            form: Some(format!("The batch failed in a worker: {e}")),
                        });
                    }
                    // No workers here: issue on the page, one device at a time.
                    Err(crate::app::workers::PoolError::Unavailable) => {}
                }
                // The core issues and gathers the files; this loop brings the keys and draws.
                let mut batch = match BatchIssuer::new(&ca.0, ids, validity, browser::now()) {
                    Ok(b) => b,
                    Err(e) => {
                        progress.set(None);
                        errors.set(FormErrors::only("batch-days", e));
                        return;
                    }
                };
                let mut issued = Vec::with_capacity(total.min(KEPT_CARDS));
                let mut failure = None;
                while let Some(id) = batch.next_id().cloned() {
                    if *stop.borrow() {
                        break;
                    }
                    let key = match browser::generate_key(algorithm).await {
                        Ok(k) => k,
                        Err(e) => {
                            failure = Some(format!("{id}: {e}"));
                            break;
                        }
                    };
                    // As in the pool: every device in the zip, the first KEPT_CARDS as cards.
                    let keep = issued.len() < KEPT_CARDS;
                    let made = batch.issue_next(&key, browser::now()).and_then(|d| {
                        keep.then(|| card_for(&ca, &d.device_id, d.certificate, d.files, key))
                            .transpose()
                    });
                    match made {
                        Err(e) => {
                            failure = Some(format!("{id}: {e}"));
                            break;
                        }
                        Ok(Some(card)) => issued.push(Rc::new(Issued {
                            in_batch: true,
                            ..(*card).clone()
                        })),
                        Ok(None) => {}
                    }
                    // Let the page draw the progress and answer clicks between devices.
                    let (n, _) = batch.progress();
                    if n % 8 == 0 || algorithm.is_rsa() {
                        progress.set(Some((n, total)));
                        browser::yield_now().await;
                    }
                }
                let finished = batch.finish().map_err(|e| e.to_string()).map(|r| {
                    r.map(|r| {
                        let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(r.zip.as_slice()));
                        let blob = browser::blob(&parts, "application/zip");
                        (r, blob)
                    })
                });
                match finished {
                    Ok(Some((result, Ok(blob)))) => {
                        let name = format!("devices-{}.zip", result.device_ids.len());
                        onbatch.emit(issued);
                        done.set(Some(BatchDone {
                            ids: Rc::new(result.device_ids.iter().map(|d| d.to_string()).collect()),
                            zip: Rc::new(BatchZip { name, blob }),
                            stopped_early: result.stopped_early,
                            workers: 0,
                            signer: "WebAssembly".into(),
                            elapsed_ms: js_sys::Date::now() - started,
                        }));
                    }
                    Ok(Some((_, Err(e)))) | Err(e) => failure = Some(e),
                    Ok(None) => {}
                }
                progress.set(None);
                if let Some(f) = failure {
                    errors.set(FormErrors {
                        fields: Vec::new(),
                        form: Some(format!("The batch stopped at {f}")),
                    });
                }
            });
        }))
    };
    let on_stop = {
        let stop = stop.clone();
        Callback::from(move |_: MouseEvent| *stop.borrow_mut() = true)
    };
    let on_save = done.as_ref().map(|d| {
        let (zip, errors) = (d.zip.clone(), errors.clone());
        Callback::from(move |_: MouseEvent| {
            if let Err(e) = browser::download_blob(&zip.name, &zip.blob) {
                errors.set(FormErrors {
                    fields: Vec::new(),
                    form: Some(e),
                });
            }
        })
    });
    let count_hint = match parsed.as_ref() {
        None => "One id per line, or a range: sensor-{001..100} makes sensor-001 … sensor-100."
            .to_owned(),
        Some(Ok(ids)) => format!(
            "{} device{}: {}{}",
            ids.len(),
            if ids.len() == 1 { "" } else { "s" },
            ids.iter()
                .take(3)
                .map(|i| i.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            if ids.len() > 3 {
                format!(" … {}", ids[ids.len() - 1])
            } else {
                String::new()
            }
        ),
        Some(Err(_)) => String::new(),
    };
    let live_error = match parsed.as_ref() {
        Some(Err(e)) => Some(e.to_string()),
        _ => errors.field("batch-ids"),
    };
    let running = progress.is_some();
    html! {
        <details class="card import" id="batch">
            <summary>{"Or issue for many devices at once (one zip)"}</summary>
            <form class="form" {onsubmit} novalidate=true>
                <div class="field">
                    <label for="batch-ids">{"Device ids"}</label>
                    <textarea autocomplete="off" id="batch-ids" class="mono" rows="4" value={(*ids_text).clone()} oninput={textarea_setter(&ids_text)} spellcheck="false"
                        placeholder="sensor-{001..100}" aria-describedby="batch-ids-hint" />
                    <p class="hint" id="batch-ids-hint">{count_hint}</p>
                    if let Some(e) = live_error { <p class="error" id="batch-ids-error" role="alert">{e}</p> }
                </div>
                <div class="grid">
                    <Field id="batch-days" label="Validity (days)" kind="number" value={(*days).clone()} oninput={set_days} error={errors.field("batch-days")} />
                    <KeySelect id="batch-key" value={*key} onchange={set_key} disabled={running} />
                </div>
                if let Some((n, total)) = *progress {
                    <div class="progress" id="batch-progress" role="status" aria-live="polite">
                        <progress max={total.to_string()} value={n.to_string()}></progress>
                        <span>{format!("Issued {n} of {total}…")}</span>
                        <button type="button" class="secondary" id="batch-stop" onclick={on_stop}>{"Stop"}</button>
                    </div>
                }
                if let Some(e) = &errors.form { <p class="error" role="alert">{e}</p> }
                <div class="actions">
                    <button type="submit" class="primary" id="batch-create" disabled={running}>{"Issue the batch"}</button>
                </div>
                if let (Some(d), Some(on_save)) = (&*done, on_save) {
                    <div class="batch-result" id="batch-result" role="status">
                        <p class="done-note">{format!(
                            "{} device certificate{} issued{}: {} … {}. {}",
                            d.ids.len(),
                            if d.ids.len() == 1 { "" } else { "s" },
                            if d.stopped_early { " (stopped early)" } else { "" },
                            d.ids.first().cloned().unwrap_or_default(),
                            d.ids.last().cloned().unwrap_or_default(),
                            if d.ids.len() > KEPT_CARDS {
                                format!("All are in the zip; the first {KEPT_CARDS} are also listed for registration in step 5, the device test and the expiry watch (more would take hundreds of MB of this page's memory).")
                            } else {
                                "They are listed for registration in step 5 and for the device test.".to_owned()
                            },
                        )}</p>
                        <p class="hint" id="batch-how">{ if d.workers > 0 {
                            format!("Issued in {:.1} s by {} worker{}, off the page's thread; keys and signatures by {}.", d.elapsed_ms / 1000.0, d.workers, if d.workers == 1 { "" } else { "s" }, d.signer)
                        } else {
                            format!("Issued in {:.1} s on the page.", d.elapsed_ms / 1000.0)
                        } }</p>
                        <button type="button" class="primary" id="batch-save" onclick={on_save}>{format!("Download {}", d.zip.name)}</button>
                        <p class="hint">{"Per device: {id}.pem, {id}.key (private: keep it safe), {id}.cer and, under an intermediate, {id}-fullchain.pem."}</p>
                    </div>
                }
            </form>
        </details>
    }
}

//! Many devices at once, one zip.

use super::*;
use crate::pki::{batch_ids_hint, batch_size_ok, BatchIssuer, BatchSummary, KEPT_CARDS, MAX_BATCH};

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

/// Where a running batch reports.
#[derive(Clone)]
struct BatchContext {
    errors: UseStateHandle<FormErrors>,
    progress: UseStateHandle<Option<(usize, usize)>>,
    stop: Rc<std::cell::RefCell<bool>>,
    done: UseStateHandle<Option<BatchDone>>,
    onbatch: Callback<Vec<Rc<Issued>>>,
}

impl BatchContext {
    /// The batch ended with `message` and nothing to save.
    fn fail(&self, message: String) {
        self.progress.set(None);
        self.errors.set(FormErrors {
            fields: Vec::new(),
            form: Some(message),
        });
    }
}

/// Many devices at once: ids from a list or a range, a key and certificate each, one zip.
#[component]
pub(super) fn BatchStep(props: &BatchProps) -> Html {
    let ids_text = use_state(String::new);
    let (days, set_days) = use_text("365");
    let (key, set_key) = use_key();
    let ctx = BatchContext {
        errors: use_state(FormErrors::default),
        // (done, total) while running.
        progress: use_state(|| None::<(usize, usize)>),
        stop: use_mut_ref(|| false),
        done: use_state(|| None::<BatchDone>),
        onbatch: props.onbatch.clone(),
    };
    // Read as typed, not again at each progress step of a running batch.
    let parsed = use_memo((*ids_text).clone(), |t| {
        (!t.trim().is_empty()).then(|| crate::iothub::parse_device_ids(t, MAX_BATCH))
    });
    let onsubmit = {
        let (ids_text, days, key, ca, ctx) = (
            ids_text.clone(),
            days.clone(),
            key.clone(),
            props.ca.clone(),
            ctx.clone(),
        );
        submit(Callback::from(move |()| {
            // Read when pressed: a key chosen just before counts.
            let key = *key;
            if ctx.progress.is_some() {
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
                return ctx.errors.set(errs);
            };
            if let Err(e) = ca.0.check_validity(validity, browser::now()) {
                return ctx.errors.set(FormErrors::only("batch-days", e));
            }
            if let Err(e) = batch_size_ok(ids.len(), key.is_rsa()) {
                return ctx.errors.set(FormErrors::only("batch-ids", e));
            }
            ctx.errors.set(FormErrors::default());
            ctx.done.set(None);
            *ctx.stop.borrow_mut() = false;
            ctx.progress.set(Some((0, ids.len())));
            yew::platform::spawn_local(run_batch(ctx.clone(), ca.clone(), ids, validity, key));
        }))
    };
    let on_stop = {
        let stop = ctx.stop.clone();
        Callback::from(move |_: MouseEvent| *stop.borrow_mut() = true)
    };
    let on_save = ctx.done.as_ref().map(|d| {
        let (zip, errors) = (d.zip.clone(), ctx.errors.clone());
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
        None => batch_ids_hint(None),
        Some(Ok(ids)) => batch_ids_hint(Some(ids)),
        Some(Err(_)) => String::new(),
    };
    let live_error = match parsed.as_ref() {
        Some(Err(e)) => Some(e.to_string()),
        _ => ctx.errors.field("batch-ids"),
    };
    let running = ctx.progress.is_some();
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
                    <Field id="batch-days" label="Validity (days)" kind="number" value={(*days).clone()} oninput={set_days} error={ctx.errors.field("batch-days")} />
                    <KeySelect id="batch-key" value={*key} onchange={set_key} disabled={running} />
                </div>
                if let Some((n, total)) = *ctx.progress {
                    <div class="progress" id="batch-progress" role="status" aria-live="polite">
                        <progress max={total.to_string()} value={n.to_string()}></progress>
                        <span>{format!("Issued {n} of {total}…")}</span>
                        <button type="button" class="secondary" id="batch-stop" onclick={on_stop}>{"Stop"}</button>
                    </div>
                }
                if let Some(e) = &ctx.errors.form { <p class="error" role="alert">{e}</p> }
                <div class="actions">
                    <button type="submit" class="primary" id="batch-create" disabled={running}>{"Issue the batch"}</button>
                </div>
                if let (Some(d), Some(on_save)) = (&*ctx.done, on_save) {
                    <BatchResult done={d.clone()} onsave={on_save} />
                }
            </form>
        </details>
    }
}

#[derive(Properties, PartialEq)]
struct BatchResultProps {
    done: BatchDone,
    onsave: Callback<MouseEvent>,
}

/// A finished batch: how many, how it ran, its zip.
#[component]
fn BatchResult(props: &BatchResultProps) -> Html {
    let d = &props.done;
    let summary = BatchSummary {
        ids: &d.ids,
        stopped_early: d.stopped_early,
        workers: d.workers,
        signer: &d.signer,
        elapsed_ms: d.elapsed_ms,
    };
    html! {
        <div class="batch-result" id="batch-result" role="status">
            <p class="done-note">{summary.done_note()}</p>
            <p class="hint" id="batch-how">{summary.how()}</p>
            <button type="button" class="primary" id="batch-save" onclick={props.onsave.clone()}>{format!("Download {}", d.zip.name)}</button>
            <p class="hint">{"Per device: {id}.pem, {id}.key (private: keep it safe), {id}.cer and, under an intermediate, {id}-fullchain.pem."}</p>
        </div>
    }
}

/// Issues the batch: in a pool of workers where there are workers, else on the page.
async fn run_batch(
    ctx: BatchContext,
    ca: SharedCa,
    ids: Vec<DeviceId>,
    validity: ValidityDays,
    algorithm: KeyAlgorithm,
) {
    let started = js_sys::Date::now();
    let total = ids.len();
    // ECDSA: a pool of workers issues; the page takes each device as it comes (its card, its
    // files into the zip, whose finished bytes go to the browser's keeping).
    let mut issued = Vec::with_capacity(total.min(KEPT_CARDS));
    let mut all_ids = Vec::with_capacity(total);
    let mut zip = match browser::BrowserZip::new(browser::now()) {
        Ok(z) => z,
        Err(e) => return ctx.fail(e),
    };
    let pooled = crate::app::workers::issue(
        &ca.0,
        &ids,
        validity,
        algorithm,
        browser::now().unix_timestamp(),
        |n| ctx.progress.set(Some((n, total))),
        || *ctx.stop.borrow(),
        |id, (cert, key_der, files)| {
            zip.add(&files)?;
            all_ids.push(id.to_string());
            if issued.len() < KEPT_CARDS {
                // The first card is read whole, the others beside it.
                let first = issued.first().map(|c: &Rc<Issued>| c.as_ref());
                let card = card_for_key_der(&ca, id, cert, files, key_der, first)
                    .map_err(|e| e.to_string())?;
                issued.push(Issued::into_batch(card));
            }
            Ok(())
        },
    )
    .await;
    let crate::app::workers::Pooled {
        taken,
        workers,
        signer,
    } = match pooled {
        Ok(p) => p,
        Err(crate::app::workers::PoolError::Failed(e)) => {
            return ctx.fail(format!("The batch failed in a worker: {e}"))
        }
        // No workers here: issue on the page, one device at a time.
        Err(crate::app::workers::PoolError::Unavailable) => {
            return on_page(ctx, ca, ids, validity, algorithm, started).await
        }
    };
    // The last steps, each in a task of its own so that none holds the page for long: the
    // file, then the lists.
    if taken == 0 {
        return ctx.fail("Stopped before any device was issued: nothing to save.".into());
    }
    let blob = zip.finish();
    browser::yield_now().await;
    ctx.progress.set(None);
    let blob = match blob {
        Ok(b) => b,
        Err(e) => return ctx.fail(e),
    };
    ctx.onbatch.emit(issued);
    browser::yield_now().await;
    ctx.done.set(Some(BatchDone {
        zip: Rc::new(BatchZip {
            name: format!("devices-{}.zip", all_ids.len()),
            blob,
        }),
        ids: Rc::new(all_ids),
        stopped_early: taken < total,
        workers,
        signer,
        elapsed_ms: js_sys::Date::now() - started,
    }));
}

/// The batch on the page: the core issues and gathers the files; this loop brings the keys and
/// draws.
async fn on_page(
    ctx: BatchContext,
    ca: SharedCa,
    ids: Vec<DeviceId>,
    validity: ValidityDays,
    algorithm: KeyAlgorithm,
    started: f64,
) {
    let total = ids.len();
    let mut batch = match BatchIssuer::new(&ca.0, ids, validity, browser::now()) {
        Ok(b) => b,
        Err(e) => {
            ctx.progress.set(None);
            return ctx.errors.set(FormErrors::only("batch-days", e));
        }
    };
    let mut issued = Vec::with_capacity(total.min(KEPT_CARDS));
    let mut failure = None;
    while let Some(id) = batch.next_id().cloned() {
        if *ctx.stop.borrow() {
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
            Ok(Some(card)) => issued.push(Issued::into_batch(card)),
            Ok(None) => {}
        }
        // Let the page draw the progress and answer clicks between devices.
        let (n, _) = batch.progress();
        if n % 8 == 0 || algorithm.is_rsa() {
            ctx.progress.set(Some((n, total)));
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
            ctx.onbatch.emit(issued);
            ctx.done.set(Some(BatchDone {
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
    ctx.progress.set(None);
    if let Some(f) = failure {
        ctx.errors.set(FormErrors {
            fields: Vec::new(),
            form: Some(format!("The batch stopped at {f}")),
        });
    }
}

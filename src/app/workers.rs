//! A pool of Web Workers (`batch-worker`, built by Trunk beside the page) that issue a batch's
//! ECDSA devices off the page's thread, so the page stays responsive and the batch uses every
//! core. The ids go out in jobs of [`JOB_SIZE`], in order, each to the next free worker, and only
//! while the page keeps up with what came back: however large the batch, only a few thousand
//! devices wait in memory. Where workers are not there (a test page, a browser without them),
//! the caller issues on the page as before.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;

use super::browser::sleep;

use crate::contract::DeviceId;
use crate::pki::{
    BatchJob, BatchMade, CertificateAuthority, KeyAlgorithm, OpenedBatchDevice, StoredCa,
    ValidityDays,
};

/// The worker's loader, next to the page (Trunk's loader shim for `batch-worker`).
const WORKER_URL: &str = "./batch-worker_loader.js";
/// How long a worker may take to load before the page issues the batch itself.
const LOAD_TIMEOUT_MS: f64 = 10_000.0;

/// What the pool did: how many devices it handed on, the pool's size, and what signed.
pub(crate) struct Pooled {
    pub(crate) taken: usize,
    pub(crate) workers: usize,
    pub(crate) signer: String,
}

/// How long the page works on what the workers sent before it lets timers, input and drawing
/// run again.
const SLICE_MS: f64 = 6.0;
/// Devices per job.
const JOB_SIZE: usize = 500;
/// A free worker gets the next job only while fewer devices than this wait for the page.
const MAX_WAITING: usize = 2 * JOB_SIZE;

/// Why the workers did not issue the batch.
pub(crate) enum PoolError {
    /// No workers here: issue on the page instead.
    Unavailable,
    /// A worker refused or failed: say so.
    Failed(String),
}

#[derive(Default)]
struct Shared {
    ready: usize,
    load_failed: bool,
    /// The job each worker is on.
    on_job: Vec<Option<usize>>,
    /// What each job sent and the page has not taken yet, in the order of its ids.
    made: Vec<std::collections::VecDeque<BatchMade>>,
    done: Vec<bool>,
    /// Made and not taken yet, over all jobs.
    waiting: usize,
    error: Option<String>,
    count: usize,
    /// What signed, as the workers said ("WebCrypto", or "WebAssembly (…)").
    signer: Option<String>,
}

/// How many workers a batch of `n` gets: one per core (at most 4), at least 50 devices each.
pub(crate) fn pool_size(n: usize) -> usize {
    let cores = web_sys::window()
        .map(|w| w.navigator().hardware_concurrency() as usize)
        .unwrap_or(1)
        .clamp(1, 4);
    cores.min(n.div_ceil(50)).max(1)
}

/// Issues `ids` under `ca` in a pool of workers; `progress` hears how many are made, and
/// `stop` is asked between messages (what was made by then is kept, in order). Each made
/// device's id, certificate, key (PKCS#8 DER) and files go to `take` in the order of `ids`,
/// while the workers go on, a few milliseconds at a time (the page stays responsive, and a batch
/// of 100,000 never waits whole in memory); an error from `take` stops the batch.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn issue(
    ca: &CertificateAuthority,
    ids: &[DeviceId],
    validity: ValidityDays,
    algorithm: KeyAlgorithm,
    now_unix: i64,
    progress: impl Fn(usize),
    stop: impl Fn() -> bool,
    mut take: impl FnMut(&DeviceId, OpenedBatchDevice) -> Result<(), String>,
) -> Result<Pooled, PoolError> {
    let key = match algorithm {
        KeyAlgorithm::EcdsaP256 => "p256",
        KeyAlgorithm::EcdsaP384 => "p384",
        _ => return Err(PoolError::Unavailable),
    };
    if ids.is_empty() {
        return Err(PoolError::Unavailable);
    }
    let stored = StoredCa::from_ca("CA", ca).map_err(|e| PoolError::Failed(e.to_string()))?;
    let n = pool_size(ids.len());
    let jobs: Vec<&[DeviceId]> = ids.chunks(JOB_SIZE).collect();
    let shared = Rc::new(RefCell::new(Shared {
        on_job: vec![None; n],
        made: vec![Default::default(); jobs.len()],
        done: vec![false; jobs.len()],
        ..Shared::default()
    }));
    let mut workers = Vec::with_capacity(n);
    let mut handlers = Vec::with_capacity(n * 2);
    let terminate = |workers: &[web_sys::Worker]| workers.iter().for_each(|w| w.terminate());
    for i in 0..n {
        let Ok(worker) = web_sys::Worker::new(WORKER_URL) else {
            terminate(&workers);
            return Err(PoolError::Unavailable);
        };
        let on_message = {
            let shared = shared.clone();
            Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |m: web_sys::MessageEvent| {
                let text = m.data().as_string().unwrap_or_default();
                let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) else {
                    return;
                };
                let mut s = shared.borrow_mut();
                if v.get("ready").is_some() {
                    s.ready += 1;
                    return;
                }
                if let Some(e) = v.get("error").and_then(|e| e.as_str()) {
                    s.error = Some(e.to_owned());
                    return;
                }
                let Some(job) = s.on_job[i] else { return };
                if let Some(made) = v.get("made") {
                    if let Ok(made) = serde_json::from_value::<Vec<BatchMade>>(made.clone()) {
                        s.count += made.len();
                        s.waiting += made.len();
                        s.made[job].extend(made);
                    }
                } else if v.get("done").is_some() {
                    s.done[job] = true;
                    s.on_job[i] = None;
                    if let Some(signer) = v.get("signer").and_then(|x| x.as_str()) {
                        s.signer = Some(signer.to_owned());
                    }
                }
            })
        };
        let on_error = {
            let shared = shared.clone();
            Closure::<dyn Fn(web_sys::Event)>::new(move |_: web_sys::Event| {
                let mut s = shared.borrow_mut();
                if s.ready < n {
                    s.load_failed = true;
                } else {
                    s.error = Some("a worker stopped".into());
                }
            })
        };
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        handlers.push((on_message, on_error));
        workers.push(worker);
    }
    // Wait until every worker has loaded (a message sent before is lost).
    let started = js_sys::Date::now();
    loop {
        sleep(10).await;
        let s = shared.borrow();
        if s.load_failed || js_sys::Date::now() - started > LOAD_TIMEOUT_MS {
            drop(s);
            terminate(&workers);
            return Err(PoolError::Unavailable);
        }
        if s.ready == n {
            break;
        }
    }
    // The next job to send; the next device to take: which job, and where in it.
    let mut next_job = 0;
    let (mut job, mut at) = (0, 0);
    let mut taken = 0;
    let mut stopped = false;
    let mut behind = false;
    loop {
        // Timers, input and drawing run here; sooner when devices wait to be taken.
        sleep(if behind { 0 } else { 16 }).await;
        if let Some(e) = shared.borrow().error.clone() {
            terminate(&workers);
            return Err(PoolError::Failed(e));
        }
        progress(shared.borrow().count);
        if !stopped && stop() {
            // Keep what was made by now: the workers stop, what they sent is still taken.
            stopped = true;
            terminate(&workers);
        }
        // Free workers get the next jobs, while the page keeps up.
        while !stopped && next_job < jobs.len() {
            let mut s = shared.borrow_mut();
            let Some(free) = s.on_job.iter().position(Option::is_none) else {
                break;
            };
            if s.waiting >= MAX_WAITING {
                break;
            }
            s.on_job[free] = Some(next_job);
            drop(s);
            let batch = BatchJob {
                ca: stored.clone(),
                ids: jobs[next_job].iter().map(|d| d.to_string()).collect(),
                validity_days: validity.days(),
                key: key.to_owned(),
                now_unix,
            };
            let sent = serde_json::to_string(&batch)
                .map_err(|e| e.to_string())
                .and_then(|text| {
                    workers[free]
                        .post_message(&wasm_bindgen::JsValue::from_str(&text))
                        .map_err(|_| "a worker did not take its job".to_owned())
                });
            if let Err(e) = sent {
                terminate(&workers);
                return Err(PoolError::Failed(e));
            }
            next_job += 1;
        }
        // The page's share, for a slice of time: open what arrived, in the order of the ids.
        let slice_end = js_sys::Date::now() + SLICE_MS;
        behind = false;
        // With Stop, the jobs sent are all that will come.
        let last = if stopped { next_job } else { jobs.len() };
        while job < last {
            if js_sys::Date::now() >= slice_end {
                behind = true;
                break;
            }
            let next = {
                let mut s = shared.borrow_mut();
                let m = s.made[job].pop_front();
                if m.is_some() {
                    s.waiting -= 1;
                }
                m
            };
            match next {
                Some(m) => {
                    let id = &jobs[job][at];
                    if let Err(e) = m
                        .open()
                        .map_err(|e| e.to_string())
                        .and_then(|o| take(id, o))
                    {
                        terminate(&workers);
                        return Err(PoolError::Failed(format!("{id}: {e}")));
                    }
                    at += 1;
                    taken += 1;
                }
                // This job is all taken, or (stopped) all that will come of it.
                None if at == jobs[job].len() || stopped => {
                    job += 1;
                    at = 0;
                }
                None if shared.borrow().done[job] => {
                    terminate(&workers);
                    return Err(PoolError::Failed(format!(
                        "a worker finished with {} of its {} devices made",
                        at,
                        jobs[job].len()
                    )));
                }
                None => break,
            }
        }
        if job == last {
            break;
        }
    }
    terminate(&workers);
    drop(handlers);
    let s = shared.borrow();
    Ok(Pooled {
        taken,
        workers: n,
        signer: s.signer.clone().unwrap_or_else(|| "WebAssembly".into()),
    })
}

//! A pool of Web Workers (`batch-worker`, built by Trunk beside the page) that issue a batch's
//! ECDSA devices off the page's thread, so the page stays responsive and the batch uses every
//! core. The ids go out in jobs of at most [`JOB_SIZE`], in order, each to the worker with the
//! fewest (a worker holds up to [`QUEUED`], so it never waits for the next), and only while the
//! page keeps up with what came back: however large the batch, only a few thousand
//! devices wait in memory. Where workers are not there (a test page, a browser without them),
//! the caller issues on the page as before.
//!
//! A worker of the same kind also makes password-protected key files ([`export_key`]).

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;

use super::browser::sleep;

use crate::contract::DeviceId;
use crate::pki::{
    BatchJob, BatchMade, CertificateAuthority, KeyAlgorithm, KeyExportJob, OpenedBatchDevice,
    PackedDevices, StoredCa, ValidityDays, WorkerReply, WorkerRequest,
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
/// Devices per job at most; a smaller batch is cut so that every worker gets a part.
const JOB_SIZE: usize = 500;
/// A worker gets the next job only while fewer devices than this wait for the page.
const MAX_WAITING: usize = 2 * JOB_SIZE;
/// Jobs a worker holds at most: the one it is on and the next, so that it goes on without
/// waiting for the page to hear that it finished.
const QUEUED: usize = 2;

/// Why the workers did not issue the batch.
pub(crate) enum PoolError {
    /// No workers here: issue on the page instead.
    Unavailable,
    /// A worker refused or failed: say so.
    Failed(String),
}

/// A worker that has loaded, with what it said since last asked.
struct Spawned {
    worker: web_sys::Worker,
    inbox: Rc<RefCell<std::collections::VecDeque<Result<WorkerReply, String>>>>,
    /// It failed (a script error, or it stopped).
    failed: Rc<std::cell::Cell<bool>>,
    _on_message: Closure<dyn Fn(web_sys::MessageEvent)>,
    _on_error: Closure<dyn Fn(web_sys::Event)>,
}

impl Spawned {
    /// Starts `n` workers and waits until each has said it is ready (a message sent before that
    /// is lost); `Unavailable` if one does not load.
    async fn start(n: usize) -> Result<Vec<Self>, PoolError> {
        let mut all = Vec::with_capacity(n);
        for _ in 0..n {
            // With the build id where the build wrote one (scripts/csp.py): this build's worker.
            let url = match super::offline::build_id() {
                Some(build) => format!("{WORKER_URL}?v={build}"),
                None => WORKER_URL.to_owned(),
            };
            let Ok(worker) = web_sys::Worker::new(&url) else {
                all.iter().for_each(Self::stop);
                return Err(PoolError::Unavailable);
            };
            let inbox = Rc::new(RefCell::new(std::collections::VecDeque::new()));
            let failed = Rc::new(std::cell::Cell::new(false));
            let on_message = {
                let inbox = inbox.clone();
                Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |m: web_sys::MessageEvent| {
                    let data = m.data();
                    let reply = match data.dyn_ref::<js_sys::ArrayBuffer>() {
                        // Devices, packed: taken with one copy, opened one at a time later.
                        Some(buffer) => Ok(WorkerReply::Packed(
                            js_sys::Uint8Array::new(buffer).to_vec().into(),
                        )),
                        None => WorkerReply::from_json(&data.as_string().unwrap_or_default()),
                    };
                    inbox.borrow_mut().push_back(reply);
                })
            };
            let on_error = {
                let failed = failed.clone();
                Closure::<dyn Fn(web_sys::Event)>::new(move |_: web_sys::Event| failed.set(true))
            };
            worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
            worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
            all.push(Self {
                worker,
                inbox,
                failed,
                _on_message: on_message,
                _on_error: on_error,
            });
        }
        let started = js_sys::Date::now();
        let mut ready = vec![false; n];
        while !ready.iter().all(|r| *r) {
            sleep(10).await;
            if all.iter().any(|w| w.failed.get()) || js_sys::Date::now() - started > LOAD_TIMEOUT_MS
            {
                all.iter().for_each(Self::stop);
                return Err(PoolError::Unavailable);
            }
            for (w, r) in all.iter().zip(ready.iter_mut()) {
                let mut inbox = w.inbox.borrow_mut();
                if matches!(inbox.front(), Some(Ok(WorkerReply::Ready))) {
                    inbox.pop_front();
                    *r = true;
                }
            }
        }
        Ok(all)
    }

    fn post(&self, message: &str) -> Result<(), String> {
        self.worker
            .post_message(&wasm_bindgen::JsValue::from_str(message))
            .map_err(|_| "a worker did not take its job".to_owned())
    }

    fn stop(&self) {
        self.worker.terminate();
    }
}

/// Makes `job`'s file (a `.pfx` or an encrypted key) in a worker of its own, so the page stays
/// responsive through its 600,000 key-derivation iterations; on the page where there are no
/// workers. Says where it was made: `true` off the page.
pub(crate) async fn export_key(job: &KeyExportJob) -> Result<(Vec<u8>, bool), String> {
    match export_in_worker(job).await {
        Ok(file) => Ok((file, true)),
        Err(PoolError::Unavailable) => job.run().map(|f| (f, false)).map_err(|e| e.to_string()),
        Err(PoolError::Failed(e)) => Err(e),
    }
}

async fn export_in_worker(job: &KeyExportJob) -> Result<Vec<u8>, PoolError> {
    use base64::Engine as _;
    let message = WorkerRequest::Export(job.clone())
        .to_json()
        .map_err(PoolError::Failed)?;
    let workers = Spawned::start(1).await?;
    let w = &workers[0];
    w.post(&message).map_err(PoolError::Failed)?;
    let answer = loop {
        sleep(20).await;
        if w.failed.get() {
            break Err("the worker stopped".to_owned());
        }
        if let Some(reply) = w.inbox.borrow_mut().pop_front() {
            break match reply {
                Ok(WorkerReply::Exported(b64)) => base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .map_err(|_| "the worker sent a damaged file".to_owned()),
                Ok(WorkerReply::Error(e)) | Err(e) => Err(e),
                Ok(_) => Err("the worker answered something else".to_owned()),
            };
        }
    };
    w.stop();
    answer.map_err(PoolError::Failed)
}

/// What the pool knows of its jobs.
#[derive(Default)]
struct Jobs {
    /// The jobs each worker has, in the order it runs them (the first is the one it is on).
    on_job: Vec<std::collections::VecDeque<usize>>,
    /// What each job sent and the page has not taken yet, in the order of its ids.
    made: Vec<std::collections::VecDeque<Made>>,
    done: Vec<bool>,
    /// Made and not taken yet, over all jobs.
    waiting: usize,
    count: usize,
    /// What signed, as the workers said ("WebCrypto", or "WebAssembly (…)").
    signer: Option<String>,
}

/// A device a worker sent, not opened yet.
enum Made {
    /// As JSON (the WebAssembly signer).
    Json(BatchMade),
    /// Packed ([`BatchMade::pack`]): where in a packet the worker sent (wiped once, when its
    /// last device is taken).
    Packed(Rc<PackedDevices>, std::ops::Range<usize>),
}

impl Made {
    fn open(&self) -> Result<OpenedBatchDevice, String> {
        match self {
            Made::Json(m) => m.open(),
            Made::Packed(packet, at) => BatchMade::open_packed(&packet[at.clone()]),
        }
        .map_err(|e| e.to_string())
    }
}

/// The name a worker knows a key kind by; `None` for one workers do not make.
fn worker_key(algorithm: KeyAlgorithm) -> Option<&'static str> {
    match algorithm {
        KeyAlgorithm::EcdsaP256 => Some("p256"),
        KeyAlgorithm::EcdsaP384 => Some("p384"),
        _ => None,
    }
}

/// Hands `batch` to `worker`.
fn send(worker: &Spawned, batch: BatchJob) -> Result<(), String> {
    WorkerRequest::Batch(batch)
        .to_json()
        .and_then(|text| worker.post(&text))
}

impl Jobs {
    /// `workers` idle, `jobs` not sent yet.
    fn new(workers: usize, jobs: usize) -> Self {
        Self {
            on_job: vec![Default::default(); workers],
            made: (0..jobs).map(|_| Default::default()).collect(),
            done: vec![false; jobs],
            ..Self::default()
        }
    }

    /// Takes in what every worker said since last asked; the first error, or a worker that
    /// stopped, as an error.
    fn hear_all(&mut self, workers: &[Spawned]) -> Result<(), String> {
        for (i, w) in workers.iter().enumerate() {
            let heard: Vec<Result<WorkerReply, String>> = w.inbox.borrow_mut().drain(..).collect();
            if w.failed.get() {
                return Err("a worker stopped".to_owned());
            }
            heard
                .into_iter()
                .try_for_each(|reply| self.hear(i, reply?))?;
        }
        Ok(())
    }

    /// Takes in what worker `i` said; an error it reported, as an error.
    fn hear(&mut self, i: usize, reply: WorkerReply) -> Result<(), String> {
        if let WorkerReply::Error(e) = reply {
            return Err(e);
        }
        let Some(&job) = self.on_job[i].front() else {
            return Ok(());
        };
        match reply {
            WorkerReply::Made(made) => {
                self.count += made.len();
                self.waiting += made.len();
                self.made[job].extend(made.into_iter().map(Made::Json));
            }
            WorkerReply::Packed(packet) => {
                let made = BatchMade::split_packed(&packet).map_err(|e| e.to_string())?;
                self.count += made.len();
                self.waiting += made.len();
                let packet = Rc::new(packet);
                self.made[job].extend(made.into_iter().map(|at| Made::Packed(packet.clone(), at)));
            }
            WorkerReply::Done { signer, .. } => {
                self.done[job] = true;
                self.on_job[i].pop_front();
                self.signer = Some(signer);
            }
            _ => {}
        }
        Ok(())
    }
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
    // Workers make ECDSA keys only (RSA comes from WebCrypto one by one, on the page).
    let key = worker_key(algorithm)
        .filter(|_| !ids.is_empty())
        .ok_or(PoolError::Unavailable)?;
    let stored = StoredCa::from_ca("CA", ca).map_err(|e| PoolError::Failed(e.to_string()))?;
    let n = pool_size(ids.len());
    let jobs: Vec<&[DeviceId]> = ids.chunks(ids.len().div_ceil(n).min(JOB_SIZE)).collect();
    let mut state = Jobs::new(n, jobs.len());
    let workers = Spawned::start(n).await?;
    let terminate = |workers: &[Spawned]| workers.iter().for_each(Spawned::stop);
    // The next job to send; the next device to take: which job, and where in it.
    let mut next_job = 0;
    let (mut job, mut at) = (0, 0);
    let mut taken = 0;
    let mut stopped = false;
    let mut behind = false;
    loop {
        // Timers, input and drawing run here; sooner when devices wait to be taken.
        sleep(if behind { 0 } else { 16 }).await;
        if let Err(e) = state.hear_all(&workers) {
            terminate(&workers);
            return Err(PoolError::Failed(e));
        }
        progress(state.count);
        if !stopped && stop() {
            // Keep what was made by now: the workers stop, what they sent is still taken.
            stopped = true;
            terminate(&workers);
        }
        // Workers with less than QUEUED jobs get the next ones, while the page keeps up.
        while !stopped && next_job < jobs.len() && state.waiting < MAX_WAITING {
            let Some(free) = (0..QUEUED)
                .find_map(|depth| state.on_job.iter().position(|queue| queue.len() == depth))
            else {
                break;
            };
            state.on_job[free].push_back(next_job);
            let batch = BatchJob {
                ca: stored.clone(),
                ids: jobs[next_job].iter().map(|d| d.to_string()).collect(),
                validity_days: validity.days(),
                key: key.to_owned(),
                now_unix,
            };
            if let Err(e) = send(&workers[free], batch) {
                terminate(&workers);
                return Err(PoolError::Failed(e));
            }
            next_job += 1;
        }
        // The page's share, for a slice of time: open what arrived, in the order of the ids.
        let slice_end = js_sys::Date::now() + SLICE_MS;
        behind = false;
        // With Stop, the jobs sent are all that will come.
        let mut last = if stopped { next_job } else { jobs.len() };
        while job < last {
            if js_sys::Date::now() >= slice_end {
                behind = true;
                break;
            }
            let next = state.made[job].pop_front();
            if next.is_some() {
                state.waiting -= 1;
            }
            match next {
                Some(m) => {
                    let id = &jobs[job][at];
                    if let Err(e) = m.open().and_then(|o| take(id, o)) {
                        terminate(&workers);
                        return Err(PoolError::Failed(format!("{id}: {e}")));
                    }
                    at += 1;
                    taken += 1;
                }
                // This job is all taken.
                None if at == jobs[job].len() => {
                    job += 1;
                    at = 0;
                }
                // Stopped in the middle of this job: what was taken is the first devices of
                // the batch, in order; what later jobs made would leave a gap, so it goes.
                None if stopped => {
                    last = job;
                }
                None if state.done[job] => {
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
    Ok(Pooled {
        taken,
        workers: n,
        signer: state.signer.unwrap_or_else(|| "WebAssembly".into()),
    })
}

//! The batch worker: issues part of a device batch off the page's thread. It reads a
//! [`hubcert::pki::WorkerRequest`] and answers with [`hubcert::pki::WorkerReply`]s, both as JSON
//! strings: `Ready` once loaded, the devices every few (packed as bytes, their buffer handed over:
//! `BatchMade::pack`), then `Done` or `Error`. Jobs that come while one runs wait their turn.
//!
//! It also makes password-protected key files (`WorkerRequest::Export`, answered with `Exported`
//! or `Error`): 600,000 key-derivation iterations take a second or two, which the page's thread
//! must not spend.
//!
//! Keys and signatures come from the browser's WebCrypto where it takes the CA's key (ECDSA
//! P-256 key + signature: 0.17 ms there against 0.68 ms in WebAssembly, `scripts/bench.sh`); the
//! certificates are made by the core either way (spliced from the CA's template:
//! `CertificateAuthority::device_template`), and the pure-Rust path stays as the fallback.

#[cfg(target_arch = "wasm32")]
mod webcrypto {
    use hubcert::contract::DeviceId;
    use hubcert::pki::{
        pkcs8_pem_from_der, BatchJob, BatchMade, DeviceTemplate, KeyAlgorithm, NamedFile,
        ValidityDays,
    };
    use js_sys::{Array, Object, Reflect, Uint8Array};
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;
    use web_sys::{CryptoKey, CryptoKeyPair, SubtleCrypto};

    fn js(e: JsValue) -> String {
        e.as_string()
            .or_else(|| {
                Reflect::get(&e, &"message".into())
                    .ok()
                    .and_then(|m| m.as_string())
            })
            .unwrap_or_else(|| format!("{e:?}"))
    }

    fn dict(pairs: &[(&str, JsValue)]) -> Result<Object, String> {
        let o = Object::new();
        for (k, v) in pairs {
            Reflect::set(&o, &JsValue::from_str(k), v).map_err(js)?;
        }
        Ok(o)
    }

    fn curve(a: KeyAlgorithm) -> &'static str {
        match a {
            KeyAlgorithm::EcdsaP384 => "P-384",
            _ => "P-256",
        }
    }

    async fn bytes(p: js_sys::Promise) -> Result<Vec<u8>, String> {
        let v = JsFuture::from(p).await.map_err(js)?;
        Ok(Uint8Array::new(&v).to_vec())
    }

    fn subtle() -> Result<SubtleCrypto, String> {
        let scope: web_sys::WorkerGlobalScope = js_sys::global().unchecked_into();
        Ok(scope.crypto().map_err(js)?.subtle())
    }

    /// Why a job did not finish with WebCrypto.
    pub(crate) enum Failure {
        /// Before any device was made (WebCrypto does not take the CA's key here): run it in
        /// WebAssembly instead.
        Setup(String),
        /// After some devices were sent: report it.
        Run(String),
    }

    thread_local! {
        /// The last job's CA, ready in WebCrypto: the next job of the same batch uses it again.
        static READY: std::cell::RefCell<Option<(hubcert::pki::StoredCa, std::rc::Rc<CaKey>)>> =
            const { std::cell::RefCell::new(None) };
    }

    /// Runs `job` with WebCrypto.
    pub(crate) async fn run(
        job: &BatchJob,
        chunk: usize,
        emit: impl Fn(zeroize::Zeroizing<Vec<u8>>),
    ) -> Result<usize, Failure> {
        let ready = READY.with_borrow(|r| {
            r.as_ref()
                .filter(|(ca, _)| *ca == job.ca)
                .map(|(_, key)| key.clone())
        });
        let ca_key = match ready {
            Some(key) => key,
            None => {
                let key = std::rc::Rc::new(setup(job).await.map_err(Failure::Setup)?);
                READY.set(Some((job.ca.clone(), key.clone())));
                key
            }
        };
        devices(job, chunk, &ca_key, emit)
            .await
            .map_err(Failure::Run)
    }

    /// The CA (able to make certificates) and its key in WebCrypto, with how it signs.
    struct CaKey {
        ca: hubcert::pki::CertificateAuthority,
        key: CryptoKey,
        sign: Object,
        /// The last job's device template, with what it was made for: the jobs of one batch
        /// share it (building one signs a certificate in WebAssembly).
        template: std::cell::RefCell<Option<(TemplateFor, std::rc::Rc<DeviceTemplate>)>>,
    }

    /// What a device template is made for: key kind, validity and moment.
    type TemplateFor = (KeyAlgorithm, u32, i64);

    impl CaKey {
        /// The template for `job`'s devices: the last job's when it is the same batch's.
        fn template(
            &self,
            job: &BatchJob,
            algorithm: KeyAlgorithm,
        ) -> Result<std::rc::Rc<DeviceTemplate>, String> {
            let wanted = (algorithm, job.validity_days, job.now_unix);
            if let Some((made_for, template)) = self.template.borrow().as_ref() {
                if *made_for == wanted {
                    return Ok(template.clone());
                }
            }
            let validity = ValidityDays::new(job.validity_days).map_err(|e| e.to_string())?;
            let now = time::OffsetDateTime::from_unix_timestamp(job.now_unix)
                .map_err(|e| e.to_string())?;
            let template = std::rc::Rc::new(
                self.ca
                    .device_template(algorithm, validity, now)
                    .map_err(|e| e.to_string())?,
            );
            *self.template.borrow_mut() = Some((wanted, template.clone()));
            Ok(template)
        }
    }

    async fn setup(job: &BatchJob) -> Result<CaKey, String> {
        let subtle = subtle()?;
        let ca = job.ca.restore().map_err(|e| e.to_string())?;
        let ca_algorithm = ca.key().algorithm();
        let (import, sign) = match ca_algorithm {
            KeyAlgorithm::Rsa(_) => (
                dict(&[
                    ("name", "RSASSA-PKCS1-v1_5".into()),
                    ("hash", "SHA-256".into()),
                ])?,
                dict(&[("name", "RSASSA-PKCS1-v1_5".into())])?,
            ),
            a => (
                dict(&[("name", "ECDSA".into()), ("namedCurve", curve(a).into())])?,
                dict(&[
                    ("name", "ECDSA".into()),
                    (
                        "hash",
                        if a == KeyAlgorithm::EcdsaP384 {
                            "SHA-384"
                        } else {
                            "SHA-256"
                        }
                        .into(),
                    ),
                ])?,
            ),
        };
        let ca_der = ca.key().to_pkcs8_der().map_err(|e| e.to_string())?;
        let ca_key: CryptoKey = JsFuture::from(
            subtle
                .import_key_with_object(
                    "pkcs8",
                    &Uint8Array::from(ca_der.as_slice()),
                    &import,
                    false,
                    &Array::of1(&"sign".into()),
                )
                .map_err(js)?,
        )
        .await
        .map_err(js)?
        .unchecked_into();
        // The page reads these keys again (a .pfx, the workspace): one made here first must read
        // back as the same key, else the batch is made in WebAssembly.
        let probe = dict(&[("name", "ECDSA".into()), ("namedCurve", "P-256".into())])?;
        let pair: CryptoKeyPair = JsFuture::from(
            subtle
                .generate_key_with_object(&probe, true, &Array::of1(&"sign".into()))
                .map_err(js)?,
        )
        .await
        .map_err(js)?
        .unchecked_into();
        let der = bytes(
            subtle
                .export_key("pkcs8", &pair.get_private_key())
                .map_err(js)?,
        )
        .await?;
        let point = bytes(
            subtle
                .export_key("raw", &pair.get_public_key())
                .map_err(js)?,
        )
        .await?;
        let read = hubcert::pki::KeyPair::from_pkcs8_der(&der).map_err(|e| e.to_string())?;
        if rcgen::PublicKeyData::der_bytes(&read) != point.as_slice() {
            return Err("a WebCrypto key did not read back as itself".into());
        }
        Ok(CaKey {
            ca,
            key: ca_key,
            sign,
            template: Default::default(),
        })
    }

    /// All of `promises`, settled together.
    async fn all(promises: Vec<Result<js_sys::Promise, JsValue>>) -> Result<Array, String> {
        let list = Array::new();
        for p in promises {
            list.push(&JsValue::from(p.map_err(js)?));
        }
        Ok(JsFuture::from(js_sys::Promise::all(&list))
            .await
            .map_err(js)?
            .unchecked_into())
    }

    /// Issues the job's devices `chunk` at a time, each step of a chunk one call for all its
    /// devices (WebCrypto works on them together, and the worker waits once, not once a device);
    /// the next chunk's keys are made while this one is signed and packed. Each chunk goes to
    /// `emit` packed ([`BatchMade::pack`]).
    async fn devices(
        job: &BatchJob,
        chunk: usize,
        ca_key: &CaKey,
        emit: impl Fn(zeroize::Zeroizing<Vec<u8>>),
    ) -> Result<usize, String> {
        let subtle = subtle()?;
        let (ca, sign) = (&ca_key.ca, &ca_key.sign);
        let device_algorithm = match job.key.as_str() {
            "p384" => KeyAlgorithm::EcdsaP384,
            _ => KeyAlgorithm::EcdsaP256,
        };
        let generate = dict(&[
            ("name", "ECDSA".into()),
            ("namedCurve", curve(device_algorithm).into()),
        ])?;
        let usages = Array::of1(&"sign".into());
        let template = ca_key.template(job, device_algorithm)?;
        let keys = |n: usize| {
            all((0..n)
                .map(|_| subtle.generate_key_with_object(&generate, true, &usages))
                .collect())
        };
        let parts: Vec<&[String]> = job.ids.chunks(chunk.max(1)).collect();
        let mut next_keys = parts.first().map(|ids| Box::pin(keys(ids.len())));
        for (i, ids) in parts.iter().enumerate() {
            let pairs = match next_keys.take() {
                Some(k) => k.await?,
                None => break,
            };
            next_keys = parts.get(i + 1).map(|ids| Box::pin(keys(ids.len())));
            let device_ids = ids
                .iter()
                .map(|id| DeviceId::parse(id).map_err(|e| e.to_string()))
                .collect::<Result<Vec<_>, _>>()?;
            // The private key only: its PKCS#8 carries the public point too (Chromium's does).
            let exported = all(pairs
                .iter()
                .map(|pair| {
                    let pair: CryptoKeyPair = pair.unchecked_into();
                    subtle.export_key("pkcs8", &pair.get_private_key())
                })
                .collect())
            .await?;
            let serials = template.serials(ids.len()).map_err(|e| e.to_string())?;
            let mut tbs = Vec::with_capacity(ids.len());
            let mut key_ders = Vec::with_capacity(ids.len());
            let mut signing = Vec::with_capacity(ids.len());
            for (j, id) in device_ids.iter().enumerate() {
                let key_der =
                    zeroize::Zeroizing::new(Uint8Array::new(&exported.get(j as u32)).to_vec());
                let point = match template.point_in_pkcs8(&key_der) {
                    Some(point) => point.to_vec(),
                    // A browser whose PKCS#8 leaves the point out: asked for it apart.
                    None => {
                        let pair: CryptoKeyPair = pairs.get(j as u32).unchecked_into();
                        bytes(
                            subtle
                                .export_key("raw", &pair.get_public_key())
                                .map_err(js)?,
                        )
                        .await?
                    }
                };
                let to_sign = template
                    .to_be_signed(id, &serials[j], &point)
                    .map_err(|e| e.to_string())?;
                signing.push(subtle.sign_with_object_and_u8_array(sign, &ca_key.key, &to_sign));
                tbs.push(to_sign);
                key_ders.push(key_der);
            }
            let signatures = all(signing).await?;
            let mut packet = zeroize::Zeroizing::new(Vec::with_capacity(ids.len() * 2_400));
            for (j, id) in device_ids.iter().enumerate() {
                let raw = Uint8Array::new(&signatures.get(j as u32)).to_vec();
                let der = template
                    .certificate_der(&tbs[j], &raw)
                    .map_err(|e| e.to_string())?;
                let key_pem = pkcs8_pem_from_der(&key_ders[j]);
                let files = NamedFile::device_set(ca, id, &der, &key_pem);
                BatchMade::pack(&mut packet, &der, &key_ders[j], &files)
                    .map_err(|e| e.to_string())?;
            }
            emit(packet);
        }
        Ok(job.ids.len())
    }
}

/// Devices a worker makes and sends together: each step of a chunk is one WebCrypto call for all
/// of them, and one message carries them to the page.
#[cfg(target_arch = "wasm32")]
const CHUNK: usize = 50;

#[cfg(target_arch = "wasm32")]
fn main() {
    use hubcert::pki::{BatchJob, WorkerReply, WorkerRequest};
    use std::cell::{Cell, RefCell};
    use std::collections::VecDeque;
    use std::rc::Rc;
    use wasm_bindgen::{closure::Closure, JsCast, JsValue};
    use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

    let scope = DedicatedWorkerGlobalScope::from(JsValue::from(js_sys::global()));
    let reply = scope.clone();
    let packets = scope.clone();
    let post = move |r: WorkerReply| {
        let _ = reply.post_message(&JsValue::from_str(&r.to_json()));
    };
    let answer = post.clone();
    // Jobs waiting, run one after the other (the page sends the next before this one ends, so
    // the worker never waits for it).
    let queue = Rc::new(RefCell::new(VecDeque::<BatchJob>::new()));
    let running = Rc::new(Cell::new(false));
    let onmessage = Closure::<dyn Fn(MessageEvent)>::new(move |msg: MessageEvent| {
        let text = msg.data().as_string().unwrap_or_default();
        let answer = answer.clone();
        let scope = packets.clone();
        let job = match WorkerRequest::from_json(&text) {
            Ok(WorkerRequest::Export(export)) => {
                use base64::Engine as _;
                return answer(match export.run() {
                    Ok(file) => WorkerReply::Exported(
                        base64::engine::general_purpose::STANDARD.encode(file),
                    ),
                    Err(e) => WorkerReply::Error(e.to_string()),
                });
            }
            Ok(WorkerRequest::Batch(job)) => job,
            Err(e) => return answer(WorkerReply::Error(e)),
        };
        queue.borrow_mut().push_back(job);
        if running.replace(true) {
            return;
        }
        let (queue, running) = (queue.clone(), running.clone());
        wasm_bindgen_futures::spawn_local(async move {
            loop {
                let next = queue.borrow_mut().pop_front();
                let Some(job) = next else {
                    break running.set(false);
                };
                run_job(&job, &scope, &answer).await;
            }
        });
    });
    scope.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    onmessage.forget();
    // Messages sent before the module was loaded are lost: the page waits for this.
    post(WorkerReply::Ready);
}

/// Runs one batch job and says how it ended.
#[cfg(target_arch = "wasm32")]
async fn run_job(
    job: &hubcert::pki::BatchJob,
    scope: &web_sys::DedicatedWorkerGlobalScope,
    answer: &impl Fn(hubcert::pki::WorkerReply),
) {
    use hubcert::pki::WorkerReply;
    let emit = |made: Vec<hubcert::pki::BatchMade>| {
        answer(WorkerReply::Made(made));
    };
    // Packed devices go as bytes, their buffer handed over (transferred), not copied.
    let emit_packed = |packet: zeroize::Zeroizing<Vec<u8>>| {
        let bytes = js_sys::Uint8Array::from(packet.as_slice());
        let buffer = bytes.buffer();
        if scope
            .post_message_with_transfer(&buffer, &js_sys::Array::of1(&buffer))
            .is_err()
        {
            answer(WorkerReply::Error(
                "a packet of devices was not sent".into(),
            ));
        }
    };
    let (result, signer) = match webcrypto::run(job, CHUNK, emit_packed).await {
        Ok(n) => (Ok(n), "WebCrypto".to_owned()),
        Err(webcrypto::Failure::Run(e)) => (Err(e), "WebCrypto".to_owned()),
        Err(webcrypto::Failure::Setup(why)) => (
            hubcert::pki::run_batch_job(job, 25, emit).map_err(|e| e.to_string()),
            format!("WebAssembly (WebCrypto: {why})"),
        ),
    };
    answer(match result {
        Ok(count) => WorkerReply::Done { count, signer },
        Err(e) => WorkerReply::Error(e),
    });
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("batch-worker runs in the browser, as a Web Worker of the hubcert page");
}

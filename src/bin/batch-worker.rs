//! The batch worker: issues part of a device batch off the page's thread. It reads a
//! [`hubcert::pki::WorkerRequest`] and answers with [`hubcert::pki::WorkerReply`]s, both as JSON
//! strings: `Ready` once loaded, `Made` every few devices, then `Done` or `Error`.
//!
//! It also makes password-protected key files (`WorkerRequest::Export`, answered with `Exported`
//! or `Error`): 600,000 key-derivation iterations take a second or two, which the page's thread
//! must not spend.
//!
//! Keys and signatures come from the browser's WebCrypto where it takes the CA's key (ECDSA
//! P-256 key + signature: 0.17 ms there against 0.68 ms in WebAssembly, `scripts/bench.sh`); the
//! certificates are made by the core either way, and the pure-Rust path stays as the fallback.

#[cfg(target_arch = "wasm32")]
mod webcrypto {
    use hubcert::contract::DeviceId;
    use hubcert::pki::{
        device_files_with_key_pem, ecdsa_signature_der, pkcs8_pem_from_der, BatchJob, BatchMade,
        DeviceCertParams, KeyAlgorithm, ValidityDays,
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

    /// Runs `job` with WebCrypto.
    pub(crate) async fn run(
        job: &BatchJob,
        chunk: usize,
        emit: impl Fn(Vec<BatchMade>),
    ) -> Result<usize, Failure> {
        let ca_key = setup(job).await.map_err(Failure::Setup)?;
        devices(job, chunk, &ca_key, emit)
            .await
            .map_err(Failure::Run)
    }

    /// The CA (able to make certificates) and its key in WebCrypto, with how it signs.
    struct CaKey {
        ca: hubcert::pki::CertificateAuthority,
        key: CryptoKey,
        sign: Object,
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
        })
    }

    async fn devices(
        job: &BatchJob,
        chunk: usize,
        ca_key: &CaKey,
        emit: impl Fn(Vec<BatchMade>),
    ) -> Result<usize, String> {
        let subtle = subtle()?;
        let (ca, sign) = (&ca_key.ca, &ca_key.sign);
        let ca_algorithm = ca.key().algorithm();
        let device_algorithm = match job.key.as_str() {
            "p384" => KeyAlgorithm::EcdsaP384,
            _ => KeyAlgorithm::EcdsaP256,
        };
        let generate = dict(&[
            ("name", "ECDSA".into()),
            ("namedCurve", curve(device_algorithm).into()),
        ])?;
        let validity = ValidityDays::new(job.validity_days).map_err(|e| e.to_string())?;
        let now =
            time::OffsetDateTime::from_unix_timestamp(job.now_unix).map_err(|e| e.to_string())?;
        let mut out = Vec::with_capacity(chunk);
        for id in &job.ids {
            let device_id = DeviceId::parse(id).map_err(|e| e.to_string())?;
            let pair: CryptoKeyPair = JsFuture::from(
                subtle
                    .generate_key_with_object(&generate, true, &Array::of1(&"sign".into()))
                    .map_err(js)?,
            )
            .await
            .map_err(js)?
            .unchecked_into();
            let point = bytes(
                subtle
                    .export_key("raw", &pair.get_public_key())
                    .map_err(js)?,
            )
            .await?;
            let key_der = zeroize::Zeroizing::new(
                bytes(
                    subtle
                        .export_key("pkcs8", &pair.get_private_key())
                        .map_err(js)?,
                )
                .await?,
            );
            let unsigned = ca
                .device_unsigned(
                    &DeviceCertParams {
                        device_id: device_id.clone(),
                        validity,
                    },
                    device_algorithm,
                    &point,
                    now,
                )
                .map_err(|e| e.to_string())?;
            let raw = bytes(
                subtle
                    .sign_with_object_and_u8_array(sign, &ca_key.key, unsigned.to_be_signed())
                    .map_err(js)?,
            )
            .await?;
            let signature = ecdsa_signature_der(ca_algorithm, &raw).map_err(|e| e.to_string())?;
            let certificate = unsigned.signed(&signature).map_err(|e| e.to_string())?;
            let key_pem = pkcs8_pem_from_der(&key_der);
            let files = device_files_with_key_pem(ca, &device_id, &certificate, &key_pem)
                .map_err(|e| e.to_string())?;
            out.push(BatchMade::new(&certificate, &key_der, &files));
            if out.len() >= chunk {
                emit(std::mem::take(&mut out));
            }
        }
        if !out.is_empty() {
            emit(out);
        }
        Ok(job.ids.len())
    }
}

#[cfg(target_arch = "wasm32")]
fn main() {
    use hubcert::pki::{WorkerReply, WorkerRequest};
    use wasm_bindgen::{closure::Closure, JsCast, JsValue};
    use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

    let scope = DedicatedWorkerGlobalScope::from(JsValue::from(js_sys::global()));
    let reply = scope.clone();
    let post = move |r: WorkerReply| {
        let _ = reply.post_message(&JsValue::from_str(&r.to_json()));
    };
    let answer = post.clone();
    let onmessage = Closure::<dyn Fn(MessageEvent)>::new(move |msg: MessageEvent| {
        let text = msg.data().as_string().unwrap_or_default();
        let answer = answer.clone();
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
        wasm_bindgen_futures::spawn_local(async move {
            let emit = |made: Vec<hubcert::pki::BatchMade>| {
                answer(WorkerReply::Made(made));
            };
            let (result, signer) = match webcrypto::run(&job, 25, emit).await {
                Ok(n) => (Ok(n), "WebCrypto".to_owned()),
                Err(webcrypto::Failure::Run(e)) => (Err(e), "WebCrypto".to_owned()),
                Err(webcrypto::Failure::Setup(why)) => (
                    hubcert::pki::run_batch_job(&job, 25, emit).map_err(|e| e.to_string()),
                    format!("WebAssembly (WebCrypto: {why})"),
                ),
            };
            answer(match result {
                Ok(count) => WorkerReply::Done { count, signer },
                Err(e) => WorkerReply::Error(e),
            });
        });
    });
    scope.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    onmessage.forget();
    // Messages sent before the module was loaded are lost: the page waits for this.
    post(WorkerReply::Ready);
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("batch-worker runs in the browser, as a Web Worker of the hubcert page");
}

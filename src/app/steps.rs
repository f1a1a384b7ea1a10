//! The three steps of the seed guide that make certificates, each a form over the core.

use std::rc::Rc;

use yew::prelude::*;

use super::browser;
use super::card::CertificateCard;
use super::field::{textarea_setter, Field};
use super::state::{Download, Issued, PfxSource, SharedCa};
use crate::contract::{DeviceId, VerificationCode};
use crate::pki::{
    Certificate, CertificateAuthority, DeviceCertParams, IntermediateCaParams, KeyAlgorithm,
    KeyPair, PkiError, RootCaParams, ValidityDays, VerificationCertParams,
};

thread_local! {
    static NEXT_SERIAL: std::cell::Cell<u64> = const { std::cell::Cell::new(1) };
}

pub(crate) fn issued(
    title: String,
    certificate: Certificate,
    downloads: Vec<Download>,
) -> Result<Rc<Issued>, PkiError> {
    new_issued(title, certificate, downloads, None)
}

/// As [`issued`], with what a `.pfx` export needs.
fn issued_with_pfx(
    title: String,
    certificate: Certificate,
    downloads: Vec<Download>,
    pfx: PfxSource,
) -> Result<Rc<Issued>, PkiError> {
    new_issued(title, certificate, downloads, Some(Rc::new(pfx)))
}

/// What a CA's `.pfx` holds: a copy of its key and the CAs above it.
fn ca_pfx(ca: &CertificateAuthority, stem: &str) -> Result<PfxSource, PkiError> {
    Ok(PfxSource {
        key: ca.key().duplicate()?,
        chain: ca.issuers().to_vec(),
        stem: stem.to_owned(),
    })
}

fn new_issued(
    title: String,
    certificate: Certificate,
    downloads: Vec<Download>,
    pfx: Option<Rc<PfxSource>>,
) -> Result<Rc<Issued>, PkiError> {
    let info = certificate.info()?;
    let serial = NEXT_SERIAL.with(|n| {
        let v = n.get();
        n.set(v + 1);
        v
    });
    Ok(Rc::new(Issued {
        serial,
        title,
        certificate,
        info,
        downloads,
        pfx,
        in_batch: false,
    }))
}

#[hook]
fn use_text(initial: &'static str) -> (UseStateHandle<String>, Callback<String>) {
    let state = use_state(|| initial.to_owned());
    let set = {
        let state = state.clone();
        Callback::from(move |v: String| state.set(v))
    };
    (state, set)
}

/// Errors shown next to the fields of one form, plus one for the form as a whole.
#[derive(Default, Clone, PartialEq)]
struct FormErrors {
    fields: Vec<(&'static str, String)>,
    form: Option<String>,
}

impl FormErrors {
    fn field(&self, id: &str) -> Option<String> {
        self.fields
            .iter()
            .find(|(f, _)| *f == id)
            .map(|(_, m)| m.clone())
    }
    /// One error, next to field `id`.
    fn only(id: &'static str, e: impl ToString) -> Self {
        let mut errs = Self::default();
        errs.add(id, e);
        errs
    }
    fn add(&mut self, id: &'static str, e: impl ToString) {
        self.fields.push((id, e.to_string()));
    }
    fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.form.is_none()
    }
}

/// A key algorithm chooser; P-256 first (fast, small, what IoT Hub's samples use), then RSA (what
/// the seed guide uses: 4096 for the root, 2048 for devices).
#[derive(Properties, PartialEq)]
struct KeySelectProps {
    id: AttrValue,
    value: KeyAlgorithm,
    onchange: Callback<KeyAlgorithm>,
    #[prop_or_default]
    disabled: bool,
}

const KEY_CHOICES: [(&str, KeyAlgorithm, &str); 5] = [
    ("p256", KeyAlgorithm::EcdsaP256, "ECDSA P-256 (recommended)"),
    ("p384", KeyAlgorithm::EcdsaP384, "ECDSA P-384"),
    ("rsa2048", KeyAlgorithm::RSA_2048, "RSA 2048"),
    ("rsa3072", KeyAlgorithm::RSA_3072, "RSA 3072"),
    ("rsa4096", KeyAlgorithm::RSA_4096, "RSA 4096 (slow to make)"),
];

#[component]
fn KeySelect(props: &KeySelectProps) -> Html {
    let onchange = {
        let cb = props.onchange.clone();
        Callback::from(move |e: Event| {
            let v = e
                .target_unchecked_into::<web_sys::HtmlSelectElement>()
                .value();
            if let Some((_, k, _)) = KEY_CHOICES.iter().find(|(id, ..)| *id == v) {
                cb.emit(*k);
            }
        })
    };
    let option = |(value, key, label): &(&'static str, KeyAlgorithm, &'static str)| {
        html! { <option value={*value} selected={props.value == *key}>{*label}</option> }
    };
    html! {
        <div class="field">
            <label for={props.id.clone()}>{"Key"}</label>
            <select id={props.id.clone()} {onchange} disabled={props.disabled}>
                <optgroup label="ECDSA">{ for KEY_CHOICES[..2].iter().map(option) }</optgroup>
                <optgroup label="RSA (PKCS#1 v1.5, SHA-256)">{ for KEY_CHOICES[2..].iter().map(option) }</optgroup>
            </select>
        </div>
    }
}

#[hook]
fn use_key() -> (UseStateHandle<KeyAlgorithm>, Callback<KeyAlgorithm>) {
    let state = use_state(|| KeyAlgorithm::EcdsaP256);
    let set = {
        let state = state.clone();
        Callback::from(move |k| state.set(k))
    };
    (state, set)
}

/// An RSA key being made by WebCrypto: what, and since when (ms since the epoch).
#[derive(Clone, PartialEq)]
struct KeyJob {
    algorithm: KeyAlgorithm,
    started: f64,
}

type KeyJobHandle = UseStateHandle<Option<KeyJob>>;

/// Makes a key of `algorithm` and hands it to `then`: at once for ECDSA; for RSA after WebCrypto
/// has made it, while `job` shows progress (the page stays usable meanwhile).
fn with_key(
    algorithm: KeyAlgorithm,
    job: &KeyJobHandle,
    then: impl FnOnce(Result<KeyPair, String>) + 'static,
) {
    if !algorithm.is_rsa() {
        then(KeyPair::generate(algorithm).map_err(|e| e.to_string()));
        return;
    }
    job.set(Some(KeyJob {
        algorithm,
        started: js_sys::Date::now(),
    }));
    let job = job.clone();
    yew::platform::spawn_local(async move {
        let key = browser::generate_key(algorithm).await;
        job.set(None);
        then(key);
    });
}

#[derive(Properties, PartialEq)]
struct KeyProgressProps {
    id: AttrValue,
    job: Option<KeyJob>,
}

/// "Making an RSA 4096 key… 2.4 s", with a spinner, while WebCrypto works.
#[component]
fn KeyProgress(props: &KeyProgressProps) -> Html {
    let now = use_state(js_sys::Date::now);
    {
        let now = now.clone();
        use_effect_with(props.job.is_some(), move |running| {
            let timer = running.then(|| {
                gloo::timers::callback::Interval::new(200, move || now.set(js_sys::Date::now()))
            });
            move || drop(timer)
        });
    }
    let Some(job) = &props.job else {
        return html! {};
    };
    let seconds = ((*now - job.started) / 1000.0).max(0.0);
    let typical = match job.algorithm {
        KeyAlgorithm::Rsa(b) if b >= 4096 => "usually 1 to 10 s",
        _ => "usually under 2 s",
    };
    html! {
        <p class="progress keygen" id={props.id.clone()} role="status" aria-live="polite">
            <span class="spinner" aria-hidden="true"></span>
            <span>{format!("Making an {} key with the browser's WebCrypto ({typical}); the page stays usable…", job.algorithm)}</span>
            <span class="elapsed" aria-hidden="true">{format!("{seconds:.1} s")}</span>
        </p>
    }
}

fn submit(cb: Callback<()>) -> Callback<SubmitEvent> {
    Callback::from(move |e: SubmitEvent| {
        e.prevent_default();
        cb.emit(());
    })
}

/// Puts a root CA error next to its field, or under the form.
fn root_error(errs: &mut FormErrors, e: PkiError) {
    match e {
        PkiError::FieldEmpty {
            field: "common name",
        }
        | PkiError::FieldTooLong {
            field: "common name",
            ..
        } => errs.add("ca-cn", e),
        PkiError::FieldTooLong {
            field: "organization",
            ..
        } => errs.add("ca-org", e),
        PkiError::CountryInvalid { .. } => errs.add("ca-country", e),
        other => errs.form = Some(other.to_string()),
    }
}

#[derive(Properties, PartialEq)]
pub(crate) struct RootCaProps {
    pub(crate) oncreated: Callback<(SharedCa, Rc<Issued>)>,
    pub(crate) issued: Option<Rc<Issued>>,
}

/// Step 1: a root CA (`openssl genrsa` + `openssl req -x509`).
#[component]
pub(crate) fn RootCaStep(props: &RootCaProps) -> Html {
    let (cn, set_cn) = use_text("IoT Root CA");
    let (org, set_org) = use_text("MyOrg");
    let (country, set_country) = use_text("US");
    let (days, set_days) = use_text("3650");
    let (key, set_key) = use_key();
    let job = use_state(|| None::<KeyJob>);
    let errors = use_state(FormErrors::default);

    let onsubmit = {
        let (cn, org, country, days, errors, key, job) = (
            cn.clone(),
            org.clone(),
            country.clone(),
            days.clone(),
            errors.clone(),
            key.clone(),
            job.clone(),
        );
        let oncreated = props.oncreated.clone();
        submit(Callback::from(move |()| {
            if job.is_some() {
                return;
            }
            let mut errs = FormErrors::default();
            let validity = ValidityDays::parse(&days)
                .map_err(|e| errs.add("ca-days", e))
                .ok();
            let Some(validity) = validity else {
                errors.set(errs);
                return;
            };
            let params = RootCaParams {
                common_name: (*cn).clone(),
                organization: (*org).clone(),
                country: (*country).clone(),
                validity,
                key_algorithm: *key,
            };
            // Typos are reported before a slow key is made.
            if let Err(e) = params.check() {
                root_error(&mut errs, e);
                errors.set(errs);
                return;
            }
            errors.set(FormErrors::default());
            let (errors, oncreated) = (errors.clone(), oncreated.clone());
            with_key(*key, &job, move |made_key| {
                let mut errs = FormErrors::default();
                let made = made_key
                    .map_err(|e| errs.form = Some(e))
                    .ok()
                    .map(|made_key| {
                        CertificateAuthority::create_root_with_key(
                            &params,
                            made_key,
                            browser::now(),
                        )
                        .and_then(|ca| ca_card(ca, "root-ca", "Root CA".into(), true))
                    });
                match made {
                    Some(Ok(result)) => oncreated.emit(result),
                    Some(Err(e)) => root_error(&mut errs, e),
                    None => {}
                }
                errors.set(errs);
            });
        }))
    };

    html! {
        <section class="step" id="step-ca" aria-labelledby="step-ca-title">
            <div class="step-head">
                <span class="step-no" aria-hidden="true">{"1"}</span>
                <div>
                    <h2 id="step-ca-title">{"Create a root CA"}</h2>
                    <p class="lede">{"The certificate authority IoT Hub will trust. Its key signs the verification and device certificates below."}</p>
                </div>
            </div>
            <form class="card form" {onsubmit} novalidate=true>
                <div class="grid">
                    <Field id="ca-cn" label="Common name (CN)" value={(*cn).clone()} oninput={set_cn} error={errors.field("ca-cn")} />
                    <Field id="ca-org" label="Organization (O)" value={(*org).clone()} oninput={set_org} error={errors.field("ca-org")} hint="Optional" />
                    <Field id="ca-country" label="Country (C)" value={(*country).clone()} oninput={set_country} error={errors.field("ca-country")} hint="Two letters, optional" />
                    <Field id="ca-days" label="Validity (days)" kind="number" value={(*days).clone()} oninput={set_days} error={errors.field("ca-days")} hint="3650 = 10 years" />
                    <KeySelect id="ca-key" value={*key} onchange={set_key} disabled={job.is_some()} />
                </div>
                <KeyProgress id="ca-keygen" job={(*job).clone()} />
                if let Some(e) = &errors.form { <p class="error" role="alert">{e}</p> }
                <div class="actions">
                    <button type="submit" class="primary" id="ca-create" disabled={job.is_some()}>
                        { if props.issued.is_some() { "Create a new root CA" } else { "Create root CA" } }
                    </button>
                    if props.issued.is_some() && errors.is_empty() {
                        <span class="done-note">{"Created. A new one replaces it for the steps below."}</span>
                    }
                </div>
            </form>
            <ImportCa oncreated={props.oncreated.clone()} />
            if let Some(issued) = &props.issued {
                <CertificateCard id="ca-result" issued={issued.clone()} />
            }
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub(crate) struct VerificationProps {
    pub(crate) ca: Option<SharedCa>,
    pub(crate) onissued: Callback<Rc<Issued>>,
    pub(crate) issued: Option<Rc<Issued>>,
}

const NO_CA: &str = "Create a root CA in step 1 first: it signs this certificate.";

/// Step 2: the proof-of-possession certificate (`openssl req` + `openssl x509 -req`, CN = code).
#[component]
pub(crate) fn VerificationStep(props: &VerificationProps) -> Html {
    let (code, set_code) = use_text("");
    let (days, set_days) = use_text("1");
    let errors = use_state(FormErrors::default);

    let onsubmit = {
        let (code, days, errors) = (code.clone(), days.clone(), errors.clone());
        let (ca, onissued) = (props.ca.clone(), props.onissued.clone());
        submit(Callback::from(move |()| {
            let mut errs = FormErrors::default();
            let code = VerificationCode::parse(&code)
                .map_err(|e| errs.add("v-code", e))
                .ok();
            let validity = ValidityDays::parse(&days)
                .map_err(|e| errs.add("v-days", e))
                .ok();
            match (&ca, code, validity) {
                (None, ..) => errs.form = Some(NO_CA.into()),
                (Some(ca), Some(code), Some(validity)) => {
                    let made =
                        ca.0.issue_verification(
                            &VerificationCertParams { code, validity },
                            browser::now(),
                        )
                        .and_then(|id| {
                            let pem = id.certificate.pem();
                            issued(
                                "Verification certificate".into(),
                                id.certificate,
                                vec![Download::pem("verification.pem".into(), &pem, false)],
                            )
                        });
                    match made {
                        Ok(i) => onissued.emit(i),
                        Err(e @ PkiError::ValidityExceedsIssuer { .. }) => errs.add("v-days", e),
                        Err(e) => errs.form = Some(e.to_string()),
                    }
                }
                _ => {}
            }
            errors.set(errs);
        }))
    };

    html! {
        <section class="step" id="step-verify" aria-labelledby="step-verify-title">
            <div class="step-head">
                <span class="step-no" aria-hidden="true">{"3b"}</span>
                <div>
                    <h2 id="step-verify-title">{"Or prove possession by hand"}</h2>
                    <p class="lede">{"For a hub this page cannot reach: upload root-ca.pem in the portal (Certificates → Add), generate a verification code there, paste it here, and upload the verification certificate this makes."}</p>
                </div>
            </div>
            if props.ca.is_none() { <p class="notice">{NO_CA}</p> }
            <form class="card form" {onsubmit} novalidate=true>
                <div class="grid">
                    <Field id="v-code" label="Verification code from IoT Hub" mono=true value={(*code).clone()} oninput={set_code}
                        error={errors.field("v-code")} placeholder="e.g. 48B3A2C9B5F2A1E01FAB6FC2DFBF26F4…"
                        hint="Shown in the portal (Certificates → your CA → Generate verification code) or printed by az iot hub certificate generate-verification-code" />
                    <Field id="v-days" label="Validity (days)" kind="number" value={(*days).clone()} oninput={set_days} error={errors.field("v-days")} hint="1 day is enough: the hub checks it once" />
                </div>
                if let Some(e) = &errors.form { <p class="error" role="alert">{e}</p> }
                <div class="actions">
                    <button type="submit" class="primary" id="v-create">{"Create verification certificate"}</button>
                </div>
            </form>
            if let Some(issued) = &props.issued {
                <CertificateCard id="v-result" issued={issued.clone()} />
            }
        </section>
    }
}

fn device_error(errs: &mut FormErrors, e: PkiError) {
    match e {
        e @ PkiError::ValidityExceedsIssuer { .. } => errs.add("d-days", e),
        e => errs.form = Some(e.to_string()),
    }
}

/// A device certificate for `key`, signed by `ca`, with its files: certificate, key, the full
/// chain when `ca` is an intermediate, and what a `.pfx` needs.
fn device_card(
    ca: &SharedCa,
    device_id: DeviceId,
    validity: ValidityDays,
    key: KeyPair,
) -> Result<Rc<Issued>, PkiError> {
    let stem = device_id.file_stem();
    let title = format!("Device {device_id}");
    let certificate = ca.0.issue_device(
        &DeviceCertParams {
            device_id: device_id.clone(),
            validity,
        },
        &key,
        browser::now(),
    )?;
    let files = crate::pki::device_files(&ca.0, &device_id, &certificate, &key)?
        .into_iter()
        .map(Download::from)
        .collect();
    let mut chain = vec![ca.0.certificate().clone()];
    chain.extend(ca.0.issuers().iter().cloned());
    issued_with_pfx(title, certificate, files, PfxSource { key, chain, stem })
}

#[derive(Properties, PartialEq)]
pub(crate) struct DeviceProps {
    pub(crate) ca: Option<SharedCa>,
    pub(crate) onissued: Callback<Rc<Issued>>,
    pub(crate) onbatch: Callback<Vec<Rc<Issued>>>,
    pub(crate) issued: Rc<Vec<Rc<Issued>>>,
}

/// Step 3: device certificates (`openssl genrsa` + `req` + `x509 -req`, CN = device id).
#[component]
pub(crate) fn DeviceStep(props: &DeviceProps) -> Html {
    let (id, set_id) = use_text("sensor-device-01");
    let (days, set_days) = use_text("365");
    let (key, set_key) = use_key();
    let job = use_state(|| None::<KeyJob>);
    let errors = use_state(FormErrors::default);

    let onsubmit = {
        let (id, days, errors, key, job) = (
            id.clone(),
            days.clone(),
            errors.clone(),
            key.clone(),
            job.clone(),
        );
        let (ca, onissued) = (props.ca.clone(), props.onissued.clone());
        submit(Callback::from(move |()| {
            if job.is_some() {
                return;
            }
            let mut errs = FormErrors::default();
            let device_id = DeviceId::parse(&id).map_err(|e| errs.add("d-id", e)).ok();
            let validity = ValidityDays::parse(&days)
                .map_err(|e| errs.add("d-days", e))
                .ok();
            let (Some(ca), Some(device_id), Some(validity)) = (&ca, device_id, validity) else {
                if ca.is_none() {
                    errs.form = Some(NO_CA.into());
                }
                errors.set(errs);
                return;
            };
            if let Err(e) = ca.0.check_validity(validity, browser::now()) {
                device_error(&mut errs, e);
                errors.set(errs);
                return;
            }
            errors.set(FormErrors::default());
            let (ca, errors, onissued) = (ca.clone(), errors.clone(), onissued.clone());
            with_key(*key, &job, move |made_key| {
                let mut errs = FormErrors::default();
                match made_key {
                    Err(e) => errs.form = Some(e),
                    Ok(made_key) => match device_card(&ca, device_id, validity, made_key) {
                        Ok(i) => onissued.emit(i),
                        Err(e) => device_error(&mut errs, e),
                    },
                }
                errors.set(errs);
            });
        }))
    };

    html! {
        <section class="step" id="step-device" aria-labelledby="step-device-title">
            <div class="step-head">
                <span class="step-no" aria-hidden="true">{"4"}</span>
                <div>
                    <h2 id="step-device-title">{"Issue device certificates"}</h2>
                    <p class="lede">{"One per device. The certificate's CN must equal the device id you register in IoT Hub."}</p>
                </div>
            </div>
            if props.ca.is_none() { <p class="notice">{NO_CA}</p> }
            <form class="card form" {onsubmit} novalidate=true>
                <div class="grid">
                    <Field id="d-id" label="Device id" mono=true value={(*id).clone()} oninput={set_id} error={errors.field("d-id")}
                        hint="Up to 64 characters: letters, digits and - . % _ * ? ! ( ) , : = @ $ '" />
                    <Field id="d-days" label="Validity (days)" kind="number" value={(*days).clone()} oninput={set_days} error={errors.field("d-days")} hint="May not run past the CA's expiry" />
                    <KeySelect id="d-key" value={*key} onchange={set_key} disabled={job.is_some()} />
                </div>
                <KeyProgress id="d-keygen" job={(*job).clone()} />
                if let Some(e) = &errors.form { <p class="error" role="alert">{e}</p> }
                <div class="actions">
                    <button type="submit" class="primary" id="d-create" disabled={job.is_some()}>{"Issue device certificate"}</button>
                </div>
            </form>
            <BatchStep ca={props.ca.clone()} onbatch={props.onbatch.clone()} />
            <CsrStep ca={props.ca.clone()} onissued={props.onissued.clone()} />
            { for props.issued.iter().filter(|i| !i.in_batch).map(|i| html! {
                <CertificateCard key={i.serial} id={format!("device-{}", i.serial)} issued={i.clone()} />
            }) }
        </section>
    }
}

fn intermediate_error(errs: &mut FormErrors, e: PkiError) {
    match e {
        e @ PkiError::ValidityExceedsIssuer { .. } => errs.add("im-days", e),
        e @ (PkiError::FieldEmpty { .. } | PkiError::FieldTooLong { .. }) => errs.add("im-cn", e),
        e => errs.form = Some(e.to_string()),
    }
}

/// The most devices one batch makes: a thousand P-256 identities take a few seconds here.
const MAX_BATCH: usize = 1000;

#[derive(Properties, PartialEq)]
struct BatchProps {
    ca: Option<SharedCa>,
    onbatch: Callback<Vec<Rc<Issued>>>,
}

/// What a finished batch shows.
#[derive(Clone, PartialEq)]
struct BatchDone {
    ids: Rc<Vec<String>>,
    zip: Rc<Download>,
    stopped_early: bool,
}

/// Many devices at once: ids from a list or a range, a key and certificate each, one zip.
#[component]
fn BatchStep(props: &BatchProps) -> Html {
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
                let mut issued = Vec::with_capacity(total);
                let mut files = Vec::with_capacity(total * 4);
                let mut made_ids = Vec::with_capacity(total);
                let mut failure = None;
                for (n, id) in ids.into_iter().enumerate() {
                    if *stop.borrow() {
                        break;
                    }
                    let made = match browser::generate_key(algorithm).await {
                        Err(e) => Err(e),
                        Ok(k) => {
                            device_card(&ca, id.clone(), validity, k).map_err(|e| e.to_string())
                        }
                    };
                    match made {
                        Err(e) => {
                            failure = Some(format!("{id}: {e}"));
                            break;
                        }
                        Ok(card) => {
                            // The zip holds exactly the files the card would offer.
                            files.extend(card.downloads.iter().map(crate::pki::NamedFile::from));
                            issued.push(Rc::new(Issued {
                                in_batch: true,
                                ..(*card).clone()
                            }));
                            made_ids.push(id.to_string());
                        }
                    }
                    // Let the page draw the progress and answer clicks between devices.
                    if n % 8 == 7 || algorithm.is_rsa() {
                        progress.set(Some((n + 1, total)));
                        browser::yield_now().await;
                    }
                }
                let stopped_early = made_ids.len() < total;
                if !made_ids.is_empty() {
                    let name = format!("devices-{}.zip", made_ids.len());
                    match crate::pki::zip_files(&files) {
                        Ok(zip) => {
                            onbatch.emit(issued);
                            done.set(Some(BatchDone {
                                ids: Rc::new(made_ids),
                                zip: Rc::new(Download {
                                    name,
                                    contents: Rc::new(zip),
                                    mime: "application/zip",
                                    secret: true,
                                }),
                                stopped_early,
                            }));
                        }
                        Err(e) => failure = Some(e.to_string()),
                    }
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
            if let Err(e) = browser::download(&zip.name, zip.mime, &zip.contents) {
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
                    <textarea id="batch-ids" class="mono" rows="4" value={(*ids_text).clone()} oninput={textarea_setter(&ids_text)} spellcheck="false"
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
                            "{} device certificate{} issued{}: {} … {}. They are listed for registration in step 5 and for the device test.",
                            d.ids.len(),
                            if d.ids.len() == 1 { "" } else { "s" },
                            if d.stopped_early { " (stopped early)" } else { "" },
                            d.ids.first().cloned().unwrap_or_default(),
                            d.ids.last().cloned().unwrap_or_default(),
                        )}</p>
                        <button type="button" class="primary" id="batch-save" onclick={on_save}>{format!("Download {}", d.zip.name)}</button>
                        <p class="hint">{"Per device: {id}.pem, {id}.key (private: keep it safe), {id}.cer and, under an intermediate, {id}-fullchain.pem."}</p>
                    </div>
                }
            </form>
        </details>
    }
}

#[derive(Properties, PartialEq)]
pub(crate) struct IntermediateProps {
    /// Every CA of the tree, root first.
    pub(crate) cas: Rc<Vec<(SharedCa, Rc<Issued>)>>,
    /// The signing CA.
    pub(crate) active: Option<SharedCa>,
    pub(crate) oncreated: Callback<(SharedCa, Rc<Issued>)>,
    pub(crate) onselect: Callback<usize>,
}

/// Optional intermediate CAs under the root, and the choice of which CA signs.
#[component]
pub(crate) fn IntermediateStep(props: &IntermediateProps) -> Html {
    let (cn, set_cn) = use_text("IoT Intermediate CA");
    let (days, set_days) = use_text("1825");
    let (key, set_key) = use_key();
    let job = use_state(|| None::<KeyJob>);
    let path_len = use_state(|| "0".to_owned());
    let errors = use_state(FormErrors::default);

    let onsubmit = {
        let (cn, days, path_len, errors, key, job) = (
            cn.clone(),
            days.clone(),
            path_len.clone(),
            errors.clone(),
            key.clone(),
            job.clone(),
        );
        let (active, oncreated, cas) = (
            props.active.clone(),
            props.oncreated.clone(),
            props.cas.clone(),
        );
        submit(Callback::from(move |()| {
            if job.is_some() {
                return;
            }
            let mut errs = FormErrors::default();
            let validity = ValidityDays::parse(&days)
                .map_err(|e| errs.add("im-days", e))
                .ok();
            let (Some(issuer), Some(validity)) = (&active, validity) else {
                if active.is_none() {
                    errs.form = Some("Create a root CA first: it signs the intermediate.".into());
                }
                errors.set(errs);
                return;
            };
            let params = IntermediateCaParams {
                subject: RootCaParams {
                    common_name: (*cn).clone(),
                    validity,
                    key_algorithm: *key,
                    ..RootCaParams::default()
                },
                path_len: path_len.parse().ok(),
            };
            if let Err(e) = issuer.0.check_intermediate(&params, browser::now()) {
                intermediate_error(&mut errs, e);
                errors.set(errs);
                return;
            }
            errors.set(FormErrors::default());
            let n = cas.len();
            let (issuer, errors, oncreated) = (issuer.clone(), errors.clone(), oncreated.clone());
            with_key(*key, &job, move |made_key| {
                let mut errs = FormErrors::default();
                let made = made_key
                    .map_err(|e| errs.form = Some(e))
                    .ok()
                    .map(|made_key| {
                        issuer
                            .0
                            .issue_intermediate_with_key(&params, made_key, browser::now())
                            .and_then(|ca| {
                                let stem = if n == 1 {
                                    "intermediate-ca".to_owned()
                                } else {
                                    format!("intermediate-ca-{n}")
                                };
                                let title = format!("Intermediate CA ({stem})");
                                ca_card(ca, &stem, title, true)
                            })
                    });
                match made {
                    Some(Ok(r)) => oncreated.emit(r),
                    Some(Err(e)) => intermediate_error(&mut errs, e),
                    None => {}
                }
                errors.set(errs);
            });
        }))
    };
    let on_path_len = {
        let path_len = path_len.clone();
        Callback::from(move |e: Event| {
            path_len.set(
                e.target_unchecked_into::<web_sys::HtmlSelectElement>()
                    .value(),
            )
        })
    };
    let on_select = {
        let onselect = props.onselect.clone();
        Callback::from(move |e: Event| {
            if let Ok(i) = e
                .target_unchecked_into::<web_sys::HtmlSelectElement>()
                .value()
                .parse()
            {
                onselect.emit(i);
            }
        })
    };
    let name = |i: &Rc<Issued>| {
        i.info
            .common_name
            .clone()
            .unwrap_or_else(|| i.info.subject.clone())
    };
    let active_name = props
        .cas
        .iter()
        .find(|(ca, _)| Some(ca) == props.active.as_ref())
        .map(|(_, i)| name(i))
        .unwrap_or_default();

    html! {
        <section class="step" id="step-intermediate" aria-labelledby="step-intermediate-title">
            <div class="step-head">
                <span class="step-no" aria-hidden="true">{"1b"}</span>
                <div>
                    <h2 id="step-intermediate-title">{"Intermediate CAs (optional)"}</h2>
                    <p class="lede">{"Keep the root offline and sign devices with an intermediate. The CA chosen here signs the steps below and is the one uploaded to the hub; chain.pem holds it and the CAs above it."}</p>
                </div>
            </div>
            if props.cas.len() > 1 {
                <div class="card form">
                    <div class="field">
                        <label for="ca-active">{"Signing CA"}</label>
                        <select id="ca-active" onchange={on_select}>
                            { for props.cas.iter().enumerate().map(|(i, (ca, issued))| html! {
                                <option value={i.to_string()} selected={Some(ca) == props.active.as_ref()}>
                                    { if i == 0 { format!("{} (root)", name(issued)) } else { name(issued) } }
                                </option>
                            }) }
                        </select>
                    </div>
                </div>
            }
            <form class="card form" {onsubmit} novalidate=true>
                <div class="grid">
                    <Field id="im-cn" label="Common name (CN)" value={(*cn).clone()} oninput={set_cn} error={errors.field("im-cn")} />
                    <Field id="im-days" label="Validity (days)" kind="number" value={(*days).clone()} oninput={set_days} error={errors.field("im-days")} hint="May not run past the signing CA's expiry" />
                    <KeySelect id="im-key" value={*key} onchange={set_key} disabled={job.is_some()} />
                    <div class="field">
                        <label for="im-pathlen">{"CAs allowed below it (pathLen)"}</label>
                        <select id="im-pathlen" onchange={on_path_len}>
                            <option value="0" selected={*path_len == "0"}>{"0: signs devices only (recommended)"}</option>
                            <option value="1" selected={*path_len == "1"}>{"1"}</option>
                            <option value="2" selected={*path_len == "2"}>{"2"}</option>
                            <option value="none" selected={*path_len == "none"}>{"No limit"}</option>
                        </select>
                    </div>
                </div>
                <KeyProgress id="im-keygen" job={(*job).clone()} />
                if let Some(e) = &errors.form { <p class="error" role="alert">{e}</p> }
                <div class="actions">
                    <button type="submit" class="primary" id="im-create" disabled={props.active.is_none() || job.is_some()}>
                        { if active_name.is_empty() { "Create intermediate CA".to_owned() } else { format!("Create intermediate CA signed by {active_name}") } }
                    </button>
                </div>
            </form>
            { for props.cas.iter().skip(1).map(|(_, i)| html! {
                <CertificateCard key={i.serial} id={format!("intermediate-{}", i.serial)} issued={i.clone()} />
            }) }
        </section>
    }
}

/// Reads the first file of a file input.
async fn read_file(input: web_sys::HtmlInputElement) -> Result<(String, Vec<u8>), String> {
    let file = input
        .files()
        .and_then(|f| f.get(0))
        .ok_or("No file was chosen.")?;
    let buffer = wasm_bindgen_futures::JsFuture::from(file.array_buffer())
        .await
        .map_err(|_| format!("The browser could not read {}.", file.name()))?;
    Ok((file.name(), js_sys::Uint8Array::new(&buffer).to_vec()))
}

/// A file input's change handler for a slot that takes PEM text or DER bytes: PEM goes into
/// `text`, anything else into `bytes` (with its file name); a read failure shows on `field`.
fn pem_or_der_file(
    text: &UseStateHandle<String>,
    bytes: &UseStateHandle<Option<(String, Vec<u8>)>>,
    errors: &UseStateHandle<FormErrors>,
    field: &'static str,
) -> Callback<Event> {
    let (text, bytes, errors) = (text.clone(), bytes.clone(), errors.clone());
    Callback::from(move |e: Event| {
        let input: web_sys::HtmlInputElement = e.target_unchecked_into();
        let (text, bytes, errors) = (text.clone(), bytes.clone(), errors.clone());
        yew::platform::spawn_local(async move {
            match read_file(input).await {
                Ok((name, content)) => match String::from_utf8(content.clone()) {
                    Ok(pem) if pem.contains("-----BEGIN") => {
                        bytes.set(None);
                        text.set(pem);
                    }
                    _ => {
                        text.set(String::new());
                        bytes.set(Some((name, content)));
                    }
                },
                Err(e) => {
                    errors.set(FormErrors::only(field, e));
                }
            }
        });
    })
}

/// A CA's card: `{stem}.pem`, its key (`with_key`), `{stem}.cer` (DER), `chain.pem` when there are
/// CAs above it, and its `.pfx`.
fn ca_card(
    ca: CertificateAuthority,
    stem: &str,
    title: String,
    with_key: bool,
) -> Result<(SharedCa, Rc<Issued>), PkiError> {
    let mut downloads = vec![Download::pem(
        format!("{stem}.pem"),
        &ca.certificate().pem(),
        false,
    )];
    if with_key {
        downloads.push(Download::pem(
            format!("{stem}.key"),
            &ca.key().to_pkcs8_pem()?,
            true,
        ));
    }
    downloads.push(Download::cer(format!("{stem}.cer"), ca.certificate()));
    if !ca.issuers().is_empty() {
        downloads.push(Download::pem("chain.pem".into(), &ca.chain_pem(), false));
    }
    let shown = issued_with_pfx(
        title,
        ca.certificate().clone(),
        downloads,
        ca_pfx(&ca, stem)?,
    )?;
    Ok((SharedCa(Rc::new(ca)), shown))
}

/// The card of an imported CA: its certificate, and chain.pem when it came with CAs above it.
fn imported_card(ca: CertificateAuthority) -> Result<(SharedCa, Rc<Issued>), PkiError> {
    // The key was brought here: it is not offered back as a file (the .pfx panel has it).
    if ca.is_root() {
        ca_card(ca, "root-ca", "Imported CA".into(), false)
    } else {
        ca_card(ca, "ca", "Imported intermediate CA".into(), false)
    }
}

#[derive(Properties, PartialEq)]
pub(crate) struct ImportCaProps {
    pub(crate) oncreated: Callback<(SharedCa, Rc<Issued>)>,
}

/// An existing CA: certificate (PEM or DER) and key (PKCS#8, PKCS#1, SEC1 or encrypted PKCS#8),
/// or a `.pfx` holding both and the chain.
#[component]
pub(crate) fn ImportCa(props: &ImportCaProps) -> Html {
    let cert_text = use_state(String::new);
    let cert_der = use_state(|| None::<(String, Vec<u8>)>);
    let key_text = use_state(String::new);
    let password = use_state(String::new);
    let errors = use_state(FormErrors::default);

    let on_cert_file = pem_or_der_file(&cert_text, &cert_der, &errors, "imp-cert");
    let on_key_file = {
        let (key_text, errors) = (key_text.clone(), errors.clone());
        Callback::from(move |e: Event| {
            let input: web_sys::HtmlInputElement = e.target_unchecked_into();
            let (key_text, errors) = (key_text.clone(), errors.clone());
            yew::platform::spawn_local(async move {
                match read_file(input).await.and_then(|(name, bytes)| {
                    String::from_utf8(bytes).map_err(|_| {
                        format!("{name} is not a PEM text file: export the key as PEM (openssl pkey -in key.der -inform DER -out key.pem).")
                    })
                }) {
                    Ok(text) => key_text.set(text),
                    Err(e) => {
                        errors.set(FormErrors::only("imp-key", e));
                    }
                }
            });
        })
    };
    let on_password = {
        let password = password.clone();
        Callback::from(move |v: String| password.set(v))
    };
    let onsubmit = {
        let (cert_text, cert_der, key_text, password, errors) = (
            cert_text.clone(),
            cert_der.clone(),
            key_text.clone(),
            password.clone(),
            errors.clone(),
        );
        let oncreated = props.oncreated.clone();
        submit(Callback::from(move |()| {
            let mut errs = FormErrors::default();
            // A .pfx in the certificate slot brings its key and chain: the key field is not used.
            if let Some((name, bytes)) = cert_der
                .as_ref()
                .filter(|(_, b)| crate::pki::looks_like_pkcs12(b))
            {
                if password.is_empty() {
                    errs.add("imp-password", format!("Enter the password of {name}."));
                    errors.set(errs);
                    return;
                }
                let made = crate::pki::import_pkcs12(bytes, &password)
                    .and_then(|p| CertificateAuthority::import(p.certificate, p.key, p.chain));
                match made.and_then(imported_card) {
                    Ok(r) => oncreated.emit(r),
                    Err(e @ PkiError::PasswordWrong { .. }) => errs.add("imp-password", e),
                    Err(e) => errs.add("imp-cert", e),
                }
                errors.set(errs);
                return;
            }
            let cert = match &*cert_der {
                Some((_, bytes)) => crate::pki::certificate_from_bytes(bytes),
                None if cert_text.trim().is_empty() => Err(PkiError::FieldEmpty {
                    field: "CA certificate (paste its PEM or choose its file)",
                }),
                None => crate::pki::certificate_from_bytes(cert_text.as_bytes()),
            }
            .map_err(|e| errs.add("imp-cert", e))
            .ok();
            let key = if key_text.trim().is_empty() {
                errs.add("imp-key", "Paste the CA's private key or choose its file.");
                None
            } else {
                let pw = (!password.is_empty()).then_some(password.as_str());
                match crate::pki::KeyPair::from_any_pem(&key_text, pw) {
                    Ok(k) => Some(k),
                    Err(e @ (PkiError::PasswordWrong { .. } | PkiError::FieldEmpty { .. })) => {
                        errs.add("imp-password", e);
                        None
                    }
                    Err(e) => {
                        errs.add("imp-key", e);
                        None
                    }
                }
            };
            if let (Some(cert), Some(key)) = (cert, key) {
                match CertificateAuthority::import(cert, key, Vec::new()).and_then(imported_card) {
                    Ok(r) => oncreated.emit(r),
                    Err(e @ PkiError::KeyInvalid { .. }) => errs.add("imp-key", e),
                    Err(e) => errs.add("imp-cert", e),
                }
            }
            errors.set(errs);
        }))
    };
    let field_error = |id: &'static str| {
        errors
            .field(id)
            .map(|e| html! { <p class="error" id={format!("{id}-error")} role="alert">{e}</p> })
    };

    html! {
        <details class="card import" id="ca-import">
            <summary>{"Or import an existing CA (certificate and key, or a .pfx)"}</summary>
            <form class="form" {onsubmit} novalidate=true>
                <div class="grid">
                    <div class="field">
                        <label for="imp-cert">{"CA certificate (PEM)"}</label>
                        <textarea id="imp-cert" class="mono" rows="5" value={(*cert_text).clone()} oninput={textarea_setter(&cert_text)} spellcheck="false" placeholder="-----BEGIN CERTIFICATE-----" />
                        <label class="file">{"or a file (.pem, .cer, .crt, .der, or a .pfx/.p12 with its key): "}<input type="file" id="imp-cert-file" accept=".pem,.cer,.crt,.der,.pfx,.p12" onchange={on_cert_file} /></label>
                        if let Some((name, bytes)) = &*cert_der {
                            <p class="hint" id="imp-cert-loaded">{ if crate::pki::looks_like_pkcs12(bytes) { format!("{name} loaded (PKCS#12): it holds the key and chain too; enter its password below.") } else { format!("{name} loaded (DER).") } }</p>
                        }
                        { field_error("imp-cert") }
                    </div>
                    <div class="field">
                        <label for="imp-key">{"CA private key (PEM: PKCS#8, PKCS#1 RSA, EC or encrypted)"}</label>
                        <textarea id="imp-key" class="mono" rows="5" value={(*key_text).clone()} oninput={textarea_setter(&key_text)} spellcheck="false" placeholder="-----BEGIN PRIVATE KEY-----" />
                        <label class="file">{"or a file: "}<input type="file" id="imp-key-file" accept=".key,.pem" onchange={on_key_file} /></label>
                        { field_error("imp-key") }
                    </div>
                </div>
                <Field id="imp-password" label="Password (encrypted key or .pfx)" kind="password" value={(*password).clone()} oninput={on_password} error={errors.field("imp-password")} />
                <p class="hint">{"The key stays in this page: it is read here and never sent anywhere."}</p>
                <div class="actions">
                    <button type="submit" class="primary" id="imp-submit">{"Import CA"}</button>
                </div>
            </form>
        </details>
    }
}

#[derive(Properties, PartialEq)]
pub(crate) struct CsrProps {
    pub(crate) ca: Option<SharedCa>,
    pub(crate) onissued: Callback<Rc<Issued>>,
}

/// A device certificate for a CSR made on the device: the key never leaves it.
#[component]
pub(crate) fn CsrStep(props: &CsrProps) -> Html {
    let csr_text = use_state(String::new);
    let csr_bytes = use_state(|| None::<(String, Vec<u8>)>);
    let (days, set_days) = use_text("365");
    let errors = use_state(FormErrors::default);

    let current = || -> Option<Vec<u8>> {
        match &*csr_bytes {
            Some((_, b)) => Some(b.clone()),
            None if csr_text.trim().is_empty() => None,
            None => Some(csr_text.as_bytes().to_vec()),
        }
    };
    let preview = current().map(|b| crate::pki::read_csr(&b));

    let on_file = pem_or_der_file(&csr_text, &csr_bytes, &errors, "csr-text");

    // A key and CSR made here, for a device or another CA that wants a CSR.
    let (make_id, set_make_id) = use_text("");
    let (make_key, set_make_key) = use_key();
    let make_job = use_state(|| None::<KeyJob>);
    let made = use_state(|| None::<(String, Rc<Download>, Rc<Download>)>);
    let on_make = {
        let (make_id, make_key, make_job, made, errors) = (
            make_id.clone(),
            make_key.clone(),
            make_job.clone(),
            made.clone(),
            errors.clone(),
        );
        let (csr_text, csr_bytes) = (csr_text.clone(), csr_bytes.clone());
        Callback::from(move |_: MouseEvent| {
            if make_job.is_some() {
                return;
            }
            let id = match DeviceId::parse(&make_id) {
                Ok(id) => id,
                Err(e) => {
                    errors.set(FormErrors::only("csr-make-id", e));
                    return;
                }
            };
            errors.set(FormErrors::default());
            let (made, errors, csr_text, csr_bytes) = (
                made.clone(),
                errors.clone(),
                csr_text.clone(),
                csr_bytes.clone(),
            );
            with_key(*make_key, &make_job, move |key| {
                let result = key.and_then(|key| {
                    let csr = crate::pki::make_csr(&key, &id).map_err(|e| e.to_string())?;
                    let key_pem = key.to_pkcs8_pem().map_err(|e| e.to_string())?;
                    Ok((csr, key_pem))
                });
                match result {
                    Ok((csr, key_pem)) => {
                        let stem = id.file_stem();
                        made.set(Some((
                            id.to_string(),
                            Rc::new(Download::pem(format!("{stem}.key"), &key_pem, true)),
                            Rc::new(Download::pem(format!("{stem}.csr"), &csr, false)),
                        )));
                        csr_bytes.set(None);
                        csr_text.set(csr);
                    }
                    Err(e) => {
                        errors.set(FormErrors::only("csr-make-id", e));
                    }
                }
            });
        })
    };
    let save = |d: &Rc<Download>| {
        let d = d.clone();
        let errors = errors.clone();
        Callback::from(move |_: MouseEvent| {
            if let Err(e) = browser::download(&d.name, d.mime, &d.contents) {
                errors.set(FormErrors::only("csr-make-id", e));
            }
        })
    };
    let on_text = {
        let (csr_text, csr_bytes) = (csr_text.clone(), csr_bytes.clone());
        Callback::from(move |e: InputEvent| {
            csr_bytes.set(None);
            csr_text.set(
                e.target_unchecked_into::<web_sys::HtmlTextAreaElement>()
                    .value(),
            )
        })
    };
    let onsubmit = {
        let (errors, days, ca, onissued) = (
            errors.clone(),
            days.clone(),
            props.ca.clone(),
            props.onissued.clone(),
        );
        let bytes = current();
        submit(Callback::from(move |()| {
            let mut errs = FormErrors::default();
            let validity = ValidityDays::parse(&days)
                .map_err(|e| errs.add("csr-days", e))
                .ok();
            let req = match &bytes {
                None => {
                    errs.add(
                        "csr-text",
                        "Paste the CSR (-----BEGIN CERTIFICATE REQUEST-----) or choose its file.",
                    );
                    None
                }
                Some(b) => crate::pki::read_csr(b)
                    .map_err(|e| errs.add("csr-text", e))
                    .ok(),
            };
            match (&ca, req, validity) {
                (None, ..) => errs.form = Some(NO_CA.into()),
                (Some(ca), Some(req), Some(validity)) => {
                    let made = req.sign(&ca.0, validity, browser::now()).and_then(|cert| {
                        let id = req.device_id()?;
                        let stem = id.file_stem();
                        let pem = cert.pem();
                        issued(
                            format!("Device {id} (from its CSR)"),
                            cert,
                            vec![Download::pem(format!("{stem}.pem"), &pem, false)],
                        )
                    });
                    match made {
                        Ok(i) => onissued.emit(i),
                        Err(e @ PkiError::ValidityExceedsIssuer { .. }) => errs.add("csr-days", e),
                        Err(e) => errs.add("csr-text", e),
                    }
                }
                _ => {}
            }
            errors.set(errs);
        }))
    };

    html! {
        <details class="card import" id="csr">
            <summary>{"Or sign a CSR made on the device (its key never leaves it), or make a key and CSR"}</summary>
            <form class="form" {onsubmit} novalidate=true>
                <div class="field">
                    <label for="csr-text">{"Certificate signing request (PEM)"}</label>
                    <textarea id="csr-text" class="mono" rows="6" value={(*csr_text).clone()} oninput={on_text} spellcheck="false"
                        placeholder="-----BEGIN CERTIFICATE REQUEST-----" aria-describedby="csr-hint" />
                    <label class="file">{"or a file (.csr, .pem, .der): "}<input type="file" id="csr-file" accept=".csr,.pem,.der,.req" onchange={on_file} /></label>
                    <p class="hint" id="csr-hint">{"On the device: openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout device.key -subj \"/CN=DEVICE_ID\" -out device.csr"}</p>
                    if let Some(e) = errors.field("csr-text") { <p class="error" id="csr-text-error" role="alert">{e}</p> }
                </div>
                if let Some(p) = &preview {
                    <div id="csr-preview">
                    { match p {
                        Ok(r) => html! {
                            <dl class="facts">
                                <dt>{"Subject"}</dt><dd>{&r.subject}</dd>
                                <dt>{"Key"}</dt><dd>{&r.key_type}</dd>
                                <dt>{"Signature"}</dt><dd><span class="badge ok">{"valid"}</span></dd>
                                <dt>{"Requested extensions"}</dt>
                                <dd>{ if r.requested_extensions.is_empty() { "none".to_owned() } else { format!("{} (the device profile is applied instead: clientAuth, CA:FALSE)", r.requested_extensions.join(", ")) } }</dd>
                            </dl>
                        },
                        Err(e) => html! { <p class="error">{e.to_string()}</p> },
                    } }
                    </div>
                }
                <fieldset class="subform" id="csr-make">
                    <legend>{"No CSR yet? Make a key and CSR here"}</legend>
                    <p class="hint">{"For a device that cannot make its own, or for another CA that signs CSRs. The key is made in this page; save it and move it to the device."}</p>
                    <div class="grid">
                        <Field id="csr-make-id" label="Device id (becomes the CN)" mono=true value={(*make_id).clone()} oninput={set_make_id} error={errors.field("csr-make-id")} />
                        <KeySelect id="csr-make-key" value={*make_key} onchange={set_make_key} disabled={make_job.is_some()} />
                    </div>
                    <KeyProgress id="csr-make-keygen" job={(*make_job).clone()} />
                    <div class="actions">
                        <button type="button" id="csr-make-button" onclick={on_make} disabled={make_job.is_some()}>{"Make key and CSR"}</button>
                        if let Some((id, key, csr)) = &*made {
                            <span class="done-note" id="csr-made">{format!("Made for {id}; the CSR is filled in above.")}</span>
                            <button type="button" id="csr-save-key" onclick={save(key)}>{format!("Download {}", key.name)}</button>
                            <button type="button" id="csr-save-csr" onclick={save(csr)}>{format!("Download {}", csr.name)}</button>
                        }
                    </div>
                </fieldset>
                <Field id="csr-days" label="Validity (days)" kind="number" value={(*days).clone()} oninput={set_days} error={errors.field("csr-days")} />
                if let Some(e) = &errors.form { <p class="error" role="alert">{e}</p> }
                <div class="actions">
                    <button type="submit" class="primary" id="csr-sign">{"Sign CSR"}</button>
                </div>
            </form>
        </details>
    }
}

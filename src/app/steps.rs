//! The steps that make certificates, each a form over the core, one file each; this file holds
//! what they share (key choice and progress, form errors, cards, file inputs).

mod batch;
mod csr;
mod device;
mod import_ca;
mod intermediate;
mod renew;
mod revoke;
mod rollover;
mod root_ca;
mod verification;
mod workspace;

use batch::BatchStep;
pub(crate) use csr::CsrStep;
pub(crate) use device::DeviceStep;
pub(crate) use import_ca::ImportCa;
pub(crate) use intermediate::IntermediateStep;
pub(crate) use renew::RenewStep;
pub(crate) use revoke::RevokeStep;
pub(crate) use rollover::RolloverStep;
pub(crate) use root_ca::RootCaStep;
pub(crate) use verification::VerificationStep;
pub(crate) use workspace::{
    restore, use_keeping, workspace_of, Keeping, KeptHere, Restored, WorkspaceStep,
};

use std::rc::Rc;

use yew::prelude::*;

use super::browser::{self, read_file};
use super::card::CertificateCard;
use super::field::{textarea_setter, Field};
use super::hooks::use_draft;
use super::state::{
    new_issued, new_issued_beside, verification_card, Download, Issued, PfxSource, SharedCa,
};
use crate::contract::{DeviceId, VerificationCode};
use crate::pki::{
    Certificate, CertificateAuthority, DeviceCertParams, IntermediateCaParams, KeyAlgorithm,
    KeyPair, PkiError, RootCaParams, ValidityDays, VerificationCertParams,
};

/// What a step that signs says before there is a CA.
const NO_CA: &str = "Create a root CA in step 1 first: it signs this certificate.";

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
    PfxSource::new(ca.key(), ca.issuers().to_vec(), stem.to_owned())
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
    use_key_draft("")
}

/// As [`use_key`] for the chooser `id`, starting from what the first module's chooser held.
#[hook]
fn use_key_draft(id: &'static str) -> (UseStateHandle<KeyAlgorithm>, Callback<KeyAlgorithm>) {
    let state = use_state(|| {
        super::hooks::draft(id)
            .and_then(|v| {
                KEY_CHOICES
                    .iter()
                    .find(|(c, ..)| *c == v)
                    .map(|(_, k, _)| *k)
            })
            .unwrap_or(KeyAlgorithm::EcdsaP256)
    });
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
    if !cfg!(feature = "full") && algorithm != KeyAlgorithm::EcdsaP256 {
        then(Err(format!(
            "{algorithm} keys come with the rest of hubcert, which is loading: in a moment the page switches to it with what you typed here; then press the button again."
        )));
        return;
    }
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

/// The card of a device already issued by `ca`, offering `files`.
fn card_for(
    ca: &SharedCa,
    device_id: &DeviceId,
    certificate: crate::pki::Certificate,
    files: Vec<crate::pki::NamedFile>,
    key: KeyPair,
) -> Result<Rc<Issued>, PkiError> {
    card_for_key_der(ca, device_id, certificate, files, key.to_pkcs8_der()?, None)
}

/// As [`card_for`], with the key as PKCS#8 DER (from a worker), not read until exported; its
/// details read beside `sibling`'s (a batch's first card) where there is one.
fn card_for_key_der(
    ca: &SharedCa,
    device_id: &DeviceId,
    certificate: crate::pki::Certificate,
    files: Vec<crate::pki::NamedFile>,
    key_der: zeroize::Zeroizing<Vec<u8>>,
    sibling: Option<&Issued>,
) -> Result<Rc<Issued>, PkiError> {
    let stem = device_id.file_stem();
    let title = format!("Device {device_id}");
    let files = files.into_iter().map(Download::from).collect();
    let mut chain = vec![ca.0.certificate().clone()];
    chain.extend(ca.0.issuers().iter().cloned());
    let pfx = PfxSource::from_pkcs8_der(key_der, chain, stem);
    new_issued_beside(title, certificate, files, Some(Rc::new(pfx)), sibling)
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
    // The CA and the CAs above it as one .p7b, for Windows' certificate import.
    // (The whole app only: its writer is not in the page's first module.)
    #[cfg(feature = "full")]
    {
        let mut bundle = vec![ca.certificate().clone()];
        bundle.extend(ca.issuers().iter().cloned());
        downloads.push(Download::p7b(
            format!("{stem}.p7b"),
            crate::pki::write_pkcs7(&bundle)?,
        ));
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

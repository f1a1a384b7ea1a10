//! Step 3: a device certificate from a key made here.

use super::*;

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
    let certificate = ca.0.issue_device(
        &DeviceCertParams {
            device_id: device_id.clone(),
            validity,
        },
        &key,
        browser::now(),
    )?;
    let files = crate::pki::device_files(&ca.0, &device_id, &certificate, &key)?;
    card_for(ca, &device_id, certificate, files, key)
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
    let (id, set_id) = use_draft("d-id", "sensor-device-01");
    let (days, set_days) = use_draft("d-days", "365");
    let (key, set_key) = use_key_draft("d-key");
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
            if cfg!(feature = "full") {
                <BatchStep ca={props.ca.clone()} onbatch={props.onbatch.clone()} />
                <CsrStep ca={props.ca.clone()} onissued={props.onissued.clone()} />
            } else {
                <crate::app::later::Later id="batch" class="card import" summary="Or issue for many devices at once (one zip)" />
                <crate::app::later::Later id="csr" class="card import" summary="Or sign a CSR made on the device (its key never leaves it), or make a key and CSR" />
            }
            { for props.issued.iter().filter(|i| !i.in_batch).map(|i| html! {
                <CertificateCard key={i.serial} id={format!("device-{}", i.serial)} issued={i.clone()} />
            }) }
        </section>
    }
}

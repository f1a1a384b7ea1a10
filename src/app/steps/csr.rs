//! A device certificate for a CSR made on the device.

use super::*;

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
    let preview = current().map(|b| {
        crate::pki::read_csr(&b)
            .map(|r| {
                let note = r.requested_extensions_note();
                [r.subject, r.key_type, note]
            })
            .map_err(|e| e.to_string())
    });

    let on_file = pem_or_der_file(&csr_text, &csr_bytes, &errors, "csr-text");
    // A CSR made here fills in the form.
    let on_made = {
        let (csr_text, csr_bytes) = (csr_text.clone(), csr_bytes.clone());
        Callback::from(move |csr: String| {
            csr_bytes.set(None);
            csr_text.set(csr);
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
                    errs.add("csr-text", crate::pki::NO_CSR);
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
                    <textarea autocomplete="off" id="csr-text" class="mono" rows="6" value={(*csr_text).clone()} oninput={on_text} spellcheck="false"
                        placeholder="-----BEGIN CERTIFICATE REQUEST-----" aria-describedby="csr-hint" />
                    <label class="file">{"or a file (.csr, .pem, .der): "}<input type="file" id="csr-file" accept=".csr,.pem,.der,.req" onchange={on_file} /></label>
                    <p class="hint" id="csr-hint">{"On the device: openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout device.key -subj \"/CN=DEVICE_ID\" -out device.csr"}</p>
                    if let Some(e) = errors.field("csr-text") { <p class="error" id="csr-text-error" role="alert">{e}</p> }
                </div>
                if let Some(p) = preview { <CsrPreview request={p} /> }
                <MakeCsr errors={errors.clone()} onmade={on_made} />
                <Field id="csr-days" label="Validity (days)" kind="number" value={(*days).clone()} oninput={set_days} error={errors.field("csr-days")} />
                if let Some(e) = &errors.form { <p class="error" role="alert">{e}</p> }
                <div class="actions">
                    <button type="submit" class="primary" id="csr-sign">{"Sign CSR"}</button>
                </div>
            </form>
        </details>
    }
}

#[derive(Properties, PartialEq)]
struct CsrPreviewProps {
    /// The CSR read (subject, key, requested extensions), or why it cannot be.
    request: Result<[String; 3], String>,
}

/// What the pasted or chosen CSR asks for.
#[component]
fn CsrPreview(props: &CsrPreviewProps) -> Html {
    html! {
        <div id="csr-preview">
        { match &props.request {
            Ok([subject, key, extensions]) => html! {
                <dl class="facts">
                    <dt>{"Subject"}</dt><dd>{subject}</dd>
                    <dt>{"Key"}</dt><dd>{key}</dd>
                    <dt>{"Signature"}</dt><dd><span class="badge ok">{"valid"}</span></dd>
                    <dt>{"Requested extensions"}</dt>
                    <dd>{extensions}</dd>
                </dl>
            },
            Err(e) => html! { <p class="error">{e}</p> },
        } }
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct MakeCsrProps {
    /// The form's errors, where a failed make is said under the device id.
    errors: UseStateHandle<FormErrors>,
    /// A CSR made here, to fill in the form.
    onmade: Callback<String>,
}

/// A key and CSR made here, for a device or another CA that wants a CSR.
#[component]
fn MakeCsr(props: &MakeCsrProps) -> Html {
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
            props.errors.clone(),
        );
        let onmade = props.onmade.clone();
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
            let (made, errors, onmade) = (made.clone(), errors.clone(), onmade.clone());
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
                        onmade.emit(csr);
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
        let errors = props.errors.clone();
        Callback::from(move |_: MouseEvent| {
            if let Err(e) = browser::download(&d.name, d.mime, &d.contents) {
                errors.set(FormErrors::only("csr-make-id", e));
            }
        })
    };
    let errors = &props.errors;
    html! {
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
    }
}

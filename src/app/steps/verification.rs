//! Step 2: the verification certificate, CN = the hub's code.

use super::*;

#[derive(Properties, PartialEq)]
pub(crate) struct VerificationProps {
    pub(crate) ca: Option<SharedCa>,
    pub(crate) onissued: Callback<Rc<Issued>>,
    pub(crate) issued: Option<Rc<Issued>>,
}

/// Step 2: the proof-of-possession certificate (`openssl req` + `openssl x509 -req`, CN = code).
#[component]
pub(crate) fn VerificationStep(props: &VerificationProps) -> Html {
    let (code, set_code) = use_draft("v-code", "");
    let (days, set_days) = use_draft("v-days", "1");
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
                            verification_card("Verification certificate".into(), id.certificate)
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

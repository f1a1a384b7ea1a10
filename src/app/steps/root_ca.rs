//! Step 1: a root CA.

use super::*;
use crate::pki::Field as PkiField;

/// Puts a root CA error next to its field, or under the form.
fn root_error(errs: &mut FormErrors, e: PkiError) {
    match e {
        PkiError::FieldEmpty {
            field: PkiField::CommonName,
        }
        | PkiError::FieldTooLong {
            field: PkiField::CommonName,
            ..
        } => errs.add("ca-cn", e),
        PkiError::FieldTooLong {
            field: PkiField::Organization,
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
    let (cn, set_cn) = use_draft("ca-cn", "IoT Root CA");
    let (org, set_org) = use_draft("ca-org", "MyOrg");
    let (country, set_country) = use_draft("ca-country", "US");
    let (days, set_days) = use_draft("ca-days", "3650");
    let (key, set_key) = use_key_draft("ca-key");
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
            if cfg!(feature = "full") {
                <ImportCa oncreated={props.oncreated.clone()} />
            } else {
                <crate::app::later::Later id="ca-import" class="card import" summary="Or import an existing CA (certificate and key, or a .pfx)" />
            }
            if let Some(issued) = &props.issued {
                <CertificateCard id="ca-result" issued={issued.clone()} />
            }
        </section>
    }
}

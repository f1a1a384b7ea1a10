//! Intermediate CAs under the root, and which CA signs.

use super::*;

fn intermediate_error(errs: &mut FormErrors, e: PkiError) {
    match e {
        e @ PkiError::ValidityExceedsIssuer { .. } => errs.add("im-days", e),
        e @ (PkiError::FieldEmpty { .. } | PkiError::FieldTooLong { .. }) => errs.add("im-cn", e),
        e => errs.form = Some(e.to_string()),
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
    let (cn, set_cn) = use_draft("im-cn", "IoT Intermediate CA");
    let (days, set_days) = use_draft("im-days", "1825");
    let (key, set_key) = use_key_draft("im-key");
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

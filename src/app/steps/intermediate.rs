//! Intermediate CAs under the root, and which CA signs.

use super::*;

use crate::pki::{
    create_intermediate_label, intermediate_error_field, intermediate_stem, path_len_choice,
    Field as PkiField,
};

fn intermediate_error(errs: &mut FormErrors, e: PkiError) {
    match intermediate_error_field(&e) {
        Some(PkiField::ValidityDays) => errs.add("im-days", e),
        Some(_) => errs.add("im-cn", e),
        None => errs.form = Some(e.to_string()),
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
                path_len: path_len_choice(&path_len),
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
                                let stem = intermediate_stem(n);
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
    let active_name = props
        .cas
        .iter()
        .find(|(ca, _)| Some(ca) == props.active.as_ref())
        .map(|(_, i)| ca_name(i));

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
                <SigningCa cas={props.cas.clone()} active={props.active.clone()} onselect={props.onselect.clone()} />
            }
            <form class="card form" {onsubmit} novalidate=true>
                <div class="grid">
                    <Field id="im-cn" label="Common name (CN)" value={(*cn).clone()} oninput={set_cn} error={errors.field("im-cn")} />
                    <Field id="im-days" label="Validity (days)" kind="number" value={(*days).clone()} oninput={set_days} error={errors.field("im-days")} hint="May not run past the signing CA's expiry" />
                    <KeySelect id="im-key" value={*key} onchange={set_key} disabled={job.is_some()} />
                    <PathLenSelect value={(*path_len).clone()} onchange={{ let p = path_len.clone(); Callback::from(move |v| p.set(v)) }} />
                </div>
                <KeyProgress id="im-keygen" job={(*job).clone()} />
                if let Some(e) = &errors.form { <p class="error" role="alert">{e}</p> }
                <div class="actions">
                    <button type="submit" class="primary" id="im-create" disabled={props.active.is_none() || job.is_some()}>
                        { create_intermediate_label(active_name.as_deref()) }
                    </button>
                </div>
            </form>
            { for props.cas.iter().skip(1).map(|(_, i)| html! {
                <CertificateCard key={i.serial} id={format!("intermediate-{}", i.serial)} issued={i.clone()} />
            }) }
        </section>
    }
}

/// How a CA of the tree is named in the signing CA's list: its CN, else its subject.
fn ca_name(i: &Issued) -> String {
    i.info
        .common_name
        .clone()
        .unwrap_or_else(|| i.info.subject.clone())
}

#[derive(Properties, PartialEq)]
struct SigningCaProps {
    cas: Rc<Vec<(SharedCa, Rc<Issued>)>>,
    active: Option<SharedCa>,
    onselect: Callback<usize>,
}

/// Which CA of the tree signs the steps below.
#[component]
fn SigningCa(props: &SigningCaProps) -> Html {
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
    html! {
        <div class="card form">
            <div class="field">
                <label for="ca-active">{"Signing CA"}</label>
                <select id="ca-active" onchange={on_select}>
                    { for props.cas.iter().enumerate().map(|(i, (ca, issued))| html! {
                        <option value={i.to_string()} selected={Some(ca) == props.active.as_ref()}>
                            { if i == 0 { format!("{} (root)", ca_name(issued)) } else { ca_name(issued) } }
                        </option>
                    }) }
                </select>
            </div>
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct PathLenSelectProps {
    /// `0`, `1`, `2` or `none`.
    value: AttrValue,
    onchange: Callback<String>,
}

/// How many CAs the intermediate allows below it.
#[component]
fn PathLenSelect(props: &PathLenSelectProps) -> Html {
    let onchange = props.onchange.reform(|e: Event| {
        e.target_unchecked_into::<web_sys::HtmlSelectElement>()
            .value()
    });
    let v = props.value.as_str();
    html! {
        <div class="field">
            <label for="im-pathlen">{"CAs allowed below it (pathLen)"}</label>
            <select id="im-pathlen" {onchange}>
                <option value="0" selected={v == "0"}>{"0: signs devices only (recommended)"}</option>
                <option value="1" selected={v == "1"}>{"1"}</option>
                <option value="2" selected={v == "2"}>{"2"}</option>
                <option value="none" selected={v == "none"}>{"No limit"}</option>
            </select>
        </div>
    }
}

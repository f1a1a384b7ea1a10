//! Upload the CA and prove possession; list and delete the hub's CAs.

use super::*;
use crate::iothub::{
    possession_elsewhere, upload_button, upload_commands, uploaded_message, verify_automatically,
    NO_CA_TO_UPLOAD,
};

mod outside;
mod table;

use outside::OutsideCa;
use table::HubCaTable;

#[derive(Properties, PartialEq)]
pub(crate) struct HubCaProps {
    pub(crate) settings: UseReducerHandle<HubSettings>,
    pub(crate) ca: Option<SharedCa>,
    /// Hears the verification certificate made during proof of possession.
    pub(crate) onverification: Callback<Rc<Issued>>,
}

/// Upload the CA and prove possession of its key in one click; list and delete the hub's CAs.
#[component]
pub(crate) fn HubCaStep(props: &HubCaProps) -> Html {
    let name = use_state(|| "root-ca".to_owned());
    let automatic = use_state(|| false);
    let outcome = use_state(|| None::<Outcome>);
    let uploaded = use_state(|| None::<HubCertificate>);
    let list = use_state(|| None::<Vec<HubCertificate>>);
    let list_outcome = use_state(|| None::<Outcome>);
    let confirm = use_state(|| None::<String>);
    // A CA certificate whose key is not on this page (an HSM, a Windows CA): upload only.
    let outside = use_state(|| None::<(String, Certificate)>);

    let refresh = lister(&props.settings, &list, &list_outcome);
    let on_outside = {
        let outside = outside.clone();
        Callback::from(move |chosen| outside.set(chosen))
    };
    let on_upload = {
        let ctx = UploadContext {
            settings: props.settings.clone(),
            outcome: outcome.clone(),
            uploaded: uploaded.clone(),
            onverification: props.onverification.clone(),
            refresh: refresh.clone(),
        };
        let (ca, name, automatic) = (props.ca.clone(), name.clone(), automatic.clone());
        let outside = (*outside).clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            // The certificate to upload: one whose key is elsewhere if given, else the page's CA.
            let (certificate, ca) = match (&outside, ca.clone()) {
                (Some((_, cert)), _) => (cert.clone(), None),
                (None, Some(ca)) => (ca.0.certificate().clone(), Some(ca)),
                (None, None) => {
                    return ctx
                        .outcome
                        .set(Some(Outcome::Failed(NO_CA_TO_UPLOAD.into())))
                }
            };
            let automatic = verify_automatically(*automatic, ca.is_some());
            let name = (*name).clone();
            yew::platform::spawn_local(upload(ctx.clone(), certificate, ca, name, automatic));
        })
    };
    let on_delete = deleter(&props.settings, &confirm, &refresh, &list_outcome);
    let on_name = {
        let name = name.clone();
        Callback::from(move |v: String| name.set(v))
    };
    let set_automatic = |v: bool| {
        let automatic = automatic.clone();
        Callback::from(move |_: Event| automatic.set(v))
    };
    let az_hub = props.settings.az();
    let busy = matches!(*outcome, Some(Outcome::Busy(_)));

    html! {
        <section class="step" id="step-upload" aria-labelledby="step-upload-title">
            <div class="step-head">
                <span class="step-no" aria-hidden="true">{"3"}</span>
                <div>
                    <h2 id="step-upload-title">{"Upload the CA and prove possession"}</h2>
                    <p class="lede">{"One click: upload root-ca.pem, get the hub's verification code, sign the verification certificate with the CA key on this page, and verify."}</p>
                </div>
            </div>
            if props.ca.is_none() && outside.is_none() { <p class="notice">{NO_CA_TO_UPLOAD}</p> }
            <form class="card form" onsubmit={on_upload} novalidate=true>
                <div class="grid">
                    <Field id="hub-cert-name" label="Certificate name in the hub" value={(*name).clone()} oninput={on_name}
                        hint="Letters, digits, - . _; at most 64" />
                    <fieldset class="choice">
                        <legend>{"Verification"}</legend>
                        <label><input type="radio" id="hub-pop" name="hub-verify" checked={!*automatic} onchange={set_automatic(false)} />{" Proof of possession (recommended)"}</label>
                        <label><input type="radio" id="hub-auto" name="hub-verify" checked={*automatic} onchange={set_automatic(true)} />{" Automatic verification"}</label>
                    </fieldset>
                </div>
                if cfg!(feature = "full") {
                    <OutsideCa chosen={outside.is_some()} onchoose={on_outside} />
                } else {
                    // Reading any CA file (.pfx, PKCS#7, DER) is the inspector's code: kept out of
                    // the route module.
                    <crate::app::later::Later id="hub-outside" class="import" summary="Or upload a CA certificate whose key is elsewhere (an HSM, a Windows CA)" />
                }
                if let Some((from, _)) = &*outside {
                    <p class="notice" id="hub-outside-chosen">{format!("Uploading {from}, verified automatically.")}</p>
                }
                <div class="actions">
                    <button type="submit" class="primary" id="hub-upload" disabled={busy}>
                        { upload_button(*automatic, outside.is_some()) }
                    </button>
                </div>
                { outcome_view(&outcome, "hub-upload-status") }
                <Command title="The same with the Azure CLI" command={upload_commands(&az_hub, &name, *automatic)} />
            </form>
            if let Some(c) = &*uploaded {
                <article class="card result" id="hub-cert-result" aria-label="The CA as the hub shows it">
                    <h3>{"On the hub"}</h3>
                    { hub_certificate_facts(c) }
                </article>
            }
            <div class="card" id="hub-cert-list">
                <div class="list-head">
                    <h3>{"The hub's CA certificates"}</h3>
                    <button type="button" class="secondary" id="hub-list" onclick={refresh.reform(|_: MouseEvent| None)}>{"Refresh"}</button>
                </div>
                { outcome_view(&list_outcome, "hub-list-status") }
                if let Some(l) = &*list {
                    <HubCaTable list={l.clone()} confirming={(*confirm).clone()} ondelete={on_delete} />
                }
                <Command title="List with the Azure CLI" command={az_hub.certificate_list()} />
            </div>
        </section>
    }
}

/// Lists the hub's CA certificates; `Some(note)` is shown once the list is read.
fn lister(
    settings: &UseReducerHandle<HubSettings>,
    list: &UseStateHandle<Option<Vec<HubCertificate>>>,
    list_outcome: &UseStateHandle<Option<Outcome>>,
) -> Callback<Option<String>> {
    let (settings, list, list_outcome) = (settings.clone(), list.clone(), list_outcome.clone());
    Callback::from(move |done: Option<String>| {
        let (s, list, list_outcome) = ((*settings).clone(), list.clone(), list_outcome.clone());
        list_outcome.set(Some(Outcome::Busy(
            "Listing the hub's CA certificates…".into(),
        )));
        yew::platform::spawn_local(async move {
            let result = match s.arm() {
                Ok(arm) => client(&s).certificates(&arm).await,
                Err(e) => Err(e),
            };
            match result {
                Ok(l) => {
                    list.set(Some(l));
                    list_outcome.set(done.map(Outcome::Done));
                }
                Err(e) => list_outcome.set(Some(Outcome::Failed(e.to_string()))),
            }
        });
    })
}

/// "Delete" asks once ("Click again to delete"), then deletes and lists again.
fn deleter(
    settings: &UseReducerHandle<HubSettings>,
    confirm: &UseStateHandle<Option<String>>,
    refresh: &Callback<Option<String>>,
    list_outcome: &UseStateHandle<Option<Outcome>>,
) -> Callback<String> {
    let (settings, confirm, refresh, list_outcome) = (
        settings.clone(),
        confirm.clone(),
        refresh.clone(),
        list_outcome.clone(),
    );
    Callback::from(move |n: String| {
        if confirm.as_deref() != Some(n.as_str()) {
            return confirm.set(Some(n));
        }
        confirm.set(None);
        let (s, refresh, list_outcome) =
            ((*settings).clone(), refresh.clone(), list_outcome.clone());
        list_outcome.set(Some(Outcome::Busy(format!("Deleting '{n}'…"))));
        yew::platform::spawn_local(async move {
            let result = match s.arm() {
                Ok(arm) => client(&s).delete_certificate(&arm, &n).await,
                Err(e) => Err(e),
            };
            match result {
                Ok(_) => refresh.emit(Some(format!("Deleted '{n}' from the hub."))),
                Err(e) => list_outcome.set(Some(Outcome::Failed(e.to_string()))),
            }
        });
    })
}

/// Where an upload reports.
#[derive(Clone)]
struct UploadContext {
    settings: UseReducerHandle<HubSettings>,
    outcome: UseStateHandle<Option<Outcome>>,
    uploaded: UseStateHandle<Option<HubCertificate>>,
    onverification: Callback<Rc<Issued>>,
    refresh: Callback<Option<String>>,
}

/// Uploads `certificate` as `name` and verifies it: with the page's `ca` signing the
/// verification certificate, or automatically.
async fn upload(
    ctx: UploadContext,
    certificate: Certificate,
    ca: Option<SharedCa>,
    name: String,
    automatic: bool,
) {
    let outcome = &ctx.outcome;
    let fail = |e: RestError| outcome.set(Some(Outcome::Failed(e.to_string())));
    let s = (*ctx.settings).clone();
    let (arm, name) = match (s.arm(), certificate_name(&name)) {
        (Ok(a), Ok(n)) => (a, n),
        (Err(e), _) | (_, Err(e)) => return fail(e),
    };
    let pem = certificate.pem();
    let sha1 = certificate
        .info()
        .map(|i| i.sha1.to_string())
        .unwrap_or_default();
    outcome.set(Some(Outcome::Busy(format!(
        "Uploading the CA as '{name}'…"
    ))));
    let sign = |code: VerificationCode| async move {
        match &ca {
            Some(ca) => crate::app::webcrypto::verification_pem(&ca.0, code).await,
            None => Err(possession_elsewhere(&code.to_string())),
        }
    };
    let progress = |stage: PossessionStage| outcome.set(Some(Outcome::Busy(stage.label().into())));
    let done = match client(&s)
        .upload_and_verify(&arm, &name, &pem, &sha1, automatic, sign, progress)
        .await
    {
        Ok(done) => done,
        Err(e) => {
            if matches!(e, RestError::NameTaken { .. }) {
                // Show the list the message points to.
                ctx.refresh.emit(None);
            }
            return fail(e);
        }
    };
    let retried = done.possession.as_ref().is_some_and(|p| p.retried);
    if let Some(p) = &done.possession {
        if let Ok(i) = Certificate::from_pem(&p.verification_pem).and_then(|c| {
            crate::app::state::verification_card(
                format!("Verification certificate (code {})", p.code),
                c,
            )
        }) {
            ctx.onverification.emit(i);
        }
    }
    let cert = done.certificate;
    outcome.set(Some(Outcome::Done(uploaded_message(
        &cert.name,
        automatic,
        done.adopted,
        retried,
    ))));
    ctx.uploaded.set(Some(cert));
    ctx.refresh.emit(None);
}

fn verified_badge(verified: bool) -> Html {
    if verified {
        html! { <span class="badge ok">{"Verified"}</span> }
    } else {
        html! { <span class="badge warn">{"Unverified"}</span> }
    }
}

fn hub_certificate_facts(c: &HubCertificate) -> Html {
    html! {
        <dl class="facts">
            <dt>{"Name"}</dt><dd>{&c.name}</dd>
            <dt>{"Subject"}</dt><dd>{&c.subject}</dd>
            <dt>{"SHA-1 thumbprint"}</dt><dd><code class="thumb">{&c.thumbprint}</code></dd>
            <dt>{"Expires"}</dt><dd>{&c.expiry}</dd>
            <dt>{"Status"}</dt><dd>{ verified_badge(c.is_verified) }</dd>
        </dl>
    }
}

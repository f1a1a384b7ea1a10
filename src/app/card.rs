//! One issued certificate: what it says, its PEM, and its files.

use std::rc::Rc;

use yew::prelude::*;

use super::browser;
use super::state::{Download, Issued, PfxSource};
use crate::pki::{
    check_export_password, encrypted_key_saved, export_password_hint, format_utc, pfx_choice,
    pfx_saved, Certificate, Field, KeyExportKind, Pkcs12Preset, GENERATED_PASSWORD,
};

#[derive(Properties, PartialEq)]
pub(crate) struct CardProps {
    pub(crate) issued: Rc<Issued>,
    /// Prefix for element ids, unique on the page.
    pub(crate) id: AttrValue,
}

#[component]
pub(crate) fn CertificateCard(props: &CardProps) -> Html {
    let issued = &props.issued;
    let info = &issued.info;
    let now = browser::now();
    let days_left = info.days_left(now);
    let expiry = crate::pki::ExpiryStatus::classify(now >= info.not_after, days_left);
    let status = use_state(|| None::<Result<String, String>>);
    let pem = issued.certificate.pem();

    let on_copy = {
        let status = status.clone();
        let pem = pem.clone();
        Callback::from(move |_| {
            let status = status.clone();
            let pem = pem.clone();
            yew::platform::spawn_local(async move {
                status.set(Some(
                    browser::copy_text(pem).await.map(|_| "PEM copied.".into()),
                ));
            });
        })
    };
    let download = |d: &Download| {
        let d = d.clone();
        let status = status.clone();
        Callback::from(move |_| {
            status.set(Some(
                browser::download(&d.name, d.mime, &d.contents)
                    .map(|_| format!("Saved {}.", d.name)),
            ))
        })
    };
    let pem_id = format!("{}-pem", props.id);

    html! {
        <article class="card result" id={props.id.clone()} aria-label={issued.title.clone()}>
            <h3>{&issued.title}</h3>
            <dl class="facts">
                <dt>{"Subject"}</dt><dd class="subject">{&info.subject}</dd>
                <dt>{"Issuer"}</dt><dd>{&info.issuer}</dd>
                <dt>{"Valid"}</dt>
                <dd>
                    {format_utc(info.not_before)}{" → "}{format_utc(info.not_after)}
                    <span class={classes!("badge", expiry.tone())}>
                        { match days_left {
                            _ if expiry == crate::pki::ExpiryStatus::Expired => "expired".to_owned(),
                            1 => "1 day left".to_owned(),
                            d => format!("{d} days left"),
                        } }
                    </span>
                </dd>
                <dt>{"Key"}</dt><dd>{&info.key_type}</dd>
                <dt>{"SHA-1 thumbprint"}</dt>
                <dd><code class="thumb sha1">{info.sha1.as_str()}</code>
                    <span class="where">{"shown in IoT Hub's certificate list; accepted for self-signed devices"}</span></dd>
                <dt>{"SHA-256 thumbprint"}</dt>
                <dd><code class="thumb sha256">{info.sha256.as_str()}</code>
                    <span class="where">{"accepted for self-signed devices"}</span></dd>
                <dt>{"Serial"}</dt><dd><code>{&info.serial}</code></dd>
            </dl>
            <details class="pem">
                <summary>{"Certificate PEM"}</summary>
                <label class="sr-only" for={pem_id.clone()}>{format!("{} PEM", issued.title)}</label>
                <textarea autocomplete="off" id={pem_id} class="mono" readonly=true rows="8" value={pem} />
            </details>
            <div class="actions">
                <button type="button" class="secondary copy" onclick={on_copy}>{"Copy PEM"}</button>
                { for issued.downloads.iter().map(|d| html! {
                    <button type="button" class={classes!("download", d.secret.then_some("secret"))}
                        onclick={download(d)}
                        title={d.secret.then_some("Private key: keep it secret, store it on the device only")}>
                        {format!("Download {}", d.name)}
                    </button>
                }) }
            </div>
            if let Some(s) = &*status {
                <p class={classes!("status", if s.is_ok() { "ok" } else { "error" })} role="status">
                    { match s { Ok(m) | Err(m) => m.clone() } }
                </p>
            }
            if let Some(pfx) = &issued.pfx {
                if cfg!(feature = "full") {
                    <PfxExport id={format!("{}-pfx", props.id)} pfx={pfx.clone()} certificate={issued.certificate.clone()} />
                } else {
                    <crate::app::later::Later id={format!("{}-pfx", props.id)} class="pfx" summary={PFX_SUMMARY} />
                }
            }
        </article>
    }
}

const PFX_SUMMARY: &str =
    "Password-protected: PKCS#12 (.pfx) for Windows, macOS, browsers and Android, or an encrypted key";

#[derive(Properties)]
struct PfxProps {
    id: AttrValue,
    pfx: Rc<PfxSource>,
    certificate: Certificate,
}

impl PartialEq for PfxProps {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id && Rc::ptr_eq(&self.pfx, &other.pfx)
    }
}

/// A password, a preset and a button: the certificate, its key and its CA chain as a `.pfx`.
#[component]
fn PfxExport(props: &PfxProps) -> Html {
    let password = use_state(String::new);
    // A generated password is shown (the user must copy it); a typed one is hidden.
    let shown = use_state(|| false);
    let legacy = use_state(|| false);
    let status = use_state(|| None::<Result<String, String>>);
    let on_generate = {
        let (password, shown, status) = (password.clone(), shown.clone(), status.clone());
        Callback::from(move |_: MouseEvent| match crate::pki::generate_password() {
            Ok(p) => {
                password.set(p);
                shown.set(true);
                status.set(Some(Ok(GENERATED_PASSWORD.into())));
            }
            Err(e) => status.set(Some(Err(e.to_string()))),
        })
    };
    let on_password = {
        let (password, shown) = (password.clone(), shown.clone());
        Callback::from(move |e: InputEvent| {
            shown.set(false);
            password.set(
                e.target_unchecked_into::<web_sys::HtmlInputElement>()
                    .value(),
            )
        })
    };
    let on_preset = {
        let legacy = legacy.clone();
        Callback::from(move |e: Event| {
            legacy.set(
                e.target_unchecked_into::<web_sys::HtmlSelectElement>()
                    .value()
                    == "legacy",
            )
        })
    };
    let on_download = exporter(true, &password, &legacy, &status, props);
    let on_key = exporter(false, &password, &legacy, &status, props);
    let pw_id = format!("{}-password", props.id);
    let preset_id = format!("{}-preset", props.id);
    html! {
        <details class="pfx" id={props.id.clone()}>
            <summary>{PFX_SUMMARY}</summary>
            <div class="grid">
                <div class="field">
                    <label for={pw_id.clone()}>{"Password"}</label>
                    <div class="inline">
                        <input id={pw_id} type={if *shown { "text" } else { "password" }} class={classes!(shown.then_some("mono"))} autocomplete="new-password" spellcheck="false" value={(*password).clone()} oninput={on_password} />
                        <button type="button" class="secondary small" id={format!("{}-generate", props.id)} onclick={on_generate}>{"Generate"}</button>
                    </div>
                    <p class="hint">{export_password_hint(&password)}</p>
                </div>
                <div class="field">
                    <label for={preset_id.clone()}>{"Encryption"}</label>
                    <select id={preset_id} onchange={on_preset}>
                        <option value="modern" selected={!*legacy}>{Pkcs12Preset::Modern.label()}</option>
                        <option value="legacy" selected={*legacy}>{Pkcs12Preset::Legacy.label()}</option>
                    </select>
                </div>
            </div>
            <div class="actions">
                <button type="button" class="download secret" id={format!("{}-download", props.id)} onclick={on_download}>
                    {format!("Download {}.pfx", props.pfx.stem)}
                </button>
                <button type="button" class="download secret" id={format!("{}-key", props.id)} onclick={on_key}>
                    {format!("Download {}.encrypted.key", props.pfx.stem)}
                </button>
            </div>
            if let Some(s) = &*status {
                <p class={classes!("status", if s.is_ok() { "ok" } else { "error" })} role="status" id={format!("{}-status", props.id)}>
                    { match s { Ok(m) | Err(m) => m.clone() } }
                </p>
            }
        </details>
    }
}

/// "Download NAME.pfx" (`pfx`) or "Download NAME.encrypted.key": the password checked, the key
/// encrypted off the page where workers are, the file saved.
fn exporter(
    pfx_file: bool,
    password: &UseStateHandle<String>,
    legacy: &UseStateHandle<bool>,
    status: &UseStateHandle<Option<Result<String, String>>>,
    props: &PfxProps,
) -> Callback<MouseEvent> {
    let (password, legacy, status, pfx, cert) = (
        password.clone(),
        legacy.clone(),
        status.clone(),
        props.pfx.clone(),
        props.certificate.clone(),
    );
    Callback::from(move |_| {
        let field = if pfx_file {
            Field::PfxPassword
        } else {
            Field::KeyPassword
        };
        if let Err(e) = check_export_password(&password, field) {
            return status.set(Some(Err(e.to_string())));
        }
        let (preset, kind) = if pfx_file {
            pfx_choice(*legacy)
        } else {
            (Pkcs12Preset::Modern, KeyExportKind::EncryptedKey)
        };
        let (name, mime) = if pfx_file {
            (format!("{}.pfx", pfx.stem), "application/x-pkcs12")
        } else {
            (format!("{}.encrypted.key", pfx.stem), "application/pkcs8")
        };
        status.set(Some(Ok(if pfx_file {
            format!("Encrypting the key ({} iterations)…", preset.iterations())
        } else {
            "Encrypting the key…".into()
        })));
        let job = pfx.export_job(kind, &cert, &password);
        let status = status.clone();
        yew::platform::spawn_local(async move {
            browser::yield_now().await;
            let made = crate::app::workers::export_key(&job)
                .await
                .and_then(|(bytes, off_page)| {
                    browser::download(&name, mime, &bytes).map(|()| off_page)
                })
                .map(|off_page| {
                    if pfx_file {
                        pfx_saved(&name, preset, off_page)
                    } else {
                        encrypted_key_saved(&name, off_page)
                    }
                });
            status.set(Some(made));
        });
    })
}

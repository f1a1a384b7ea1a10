//! One issued certificate: what it says, its PEM, and its files.

use std::rc::Rc;

use yew::prelude::*;

use super::browser;
use super::state::{Download, Issued};
use crate::pki::format_utc;

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
    let days_left = info.days_left(browser::now());
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
                    <span class={classes!("badge", if days_left < 0 { "bad" } else if days_left < 30 { "warn" } else { "ok" })}>
                        { match days_left {
                            d if d < 0 => "expired".to_owned(),
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
                <textarea id={pem_id} class="mono" readonly=true rows="8" value={pem} />
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
        </article>
    }
}

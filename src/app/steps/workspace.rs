//! Keep the workspace: the page's CAs with their keys, its devices and its settings saved as one
//! encrypted file (`pki::seal_vault`), and opened again here or in another browser.

use super::*;
use crate::app::outcome::{outcome_view, Outcome};
use crate::app::settings::HubSettings;
use crate::app::state::Workbench;
use crate::pki::{
    open_vault, seal_vault, vault_size_ok, KdfCost, StoredCa, StoredDevice, Workspace,
    MIN_PASSPHRASE_CHARS,
};

/// The file a saved workspace goes to.
pub(crate) const WORKSPACE_FILE: &str = "hubcert-workspace.hubcert";

/// What opening a workspace brings back to the page.
pub(crate) struct Restored {
    pub(crate) cas: Vec<(SharedCa, Rc<Issued>)>,
    pub(crate) active: usize,
    pub(crate) devices: Vec<Rc<Issued>>,
    pub(crate) settings: Option<HubSettings>,
}

/// The page as a workspace document.
pub(crate) fn workspace_of(
    bench: &Workbench,
    settings: &HubSettings,
) -> Result<Workspace, PkiError> {
    let mut w = Workspace::new();
    for (ca, issued) in bench.cas.iter() {
        w.cas.push(StoredCa::from_ca(&issued.title, &ca.0)?);
    }
    w.active_ca = bench
        .ca
        .as_ref()
        .and_then(|active| bench.cas.iter().position(|(ca, _)| ca == active))
        .unwrap_or(0);
    for d in bench.devices.iter() {
        w.devices.push(StoredDevice {
            title: d.title.clone(),
            certificate: d.certificate.pem(),
            key: d.pfx.as_ref().map(|p| p.key_pem().to_string()),
        });
    }
    w.settings = settings.to_json();
    Ok(w)
}

/// Opens a sealed workspace with `passphrase` and brings back what it holds, whole or not at all.
fn unseal(sealed: &str, passphrase: &str) -> Result<Restored, PkiError> {
    open_vault(sealed, passphrase)
        .and_then(|json| Workspace::from_json(&json))
        .and_then(|w| restore(&w))
}

impl Restored {
    /// What opening it does to the page's state.
    pub(crate) fn opened(&self) -> crate::app::state::Action {
        crate::app::state::Action::WorkspaceOpened {
            cas: self.cas.clone(),
            active: self.active,
            devices: self.devices.clone(),
        }
    }

    /// "1 CA and 3 device certificates".
    fn counts(&self) -> String {
        let plural = |n: usize| if n == 1 { "" } else { "s" };
        format!(
            "{} CA{} and {} device certificate{}",
            self.cas.len(),
            plural(self.cas.len()),
            self.devices.len(),
            plural(self.devices.len())
        )
    }
}

/// The page again from a workspace: each CA able to sign, each device with its files (and its
/// `.pfx` where the key was made here and its CA is in the workspace).
pub(crate) fn restore(w: &Workspace) -> Result<Restored, PkiError> {
    let mut cas = Vec::with_capacity(w.cas.len());
    let mut roots = 0;
    for (i, stored) in w.cas.iter().enumerate() {
        let ca = stored.restore()?;
        let stem = if ca.is_root() {
            roots += 1;
            if roots == 1 {
                "root-ca".to_owned()
            } else {
                format!("root-ca-{roots}")
            }
        } else if i == 1 {
            "intermediate-ca".to_owned()
        } else {
            format!("intermediate-ca-{i}")
        };
        cas.push(ca_card(ca, &stem, stored.title.clone(), true)?);
    }
    let mut devices = Vec::with_capacity(w.devices.len());
    for stored in &w.devices {
        let cert = Certificate::from_pem(&stored.certificate)?;
        let info = cert.info()?;
        let issuer = cas.iter().find(|(ca, _)| {
            ca.0.certificate()
                .info()
                .is_ok_and(|i| i.subject == info.issuer)
        });
        let id = info
            .common_name
            .as_deref()
            .and_then(|cn| DeviceId::parse(cn).ok());
        let card = match (&stored.key, issuer, id) {
            (Some(key), Some((ca, _)), Some(id)) => {
                let key = KeyPair::from_pkcs8_pem(key)?;
                let files = crate::pki::device_files(&ca.0, &id, &cert, &key)?;
                card_for(ca, &id, cert, files, key)?
            }
            _ => {
                let stem = info.common_name.clone().unwrap_or_else(|| "device".into());
                let pem = cert.pem();
                issued(
                    stored.title.clone(),
                    cert,
                    vec![Download::pem(format!("{stem}.pem"), &pem, false)],
                )?
            }
        };
        devices.push(card);
    }
    Ok(Restored {
        active: w.active_ca.min(cas.len().saturating_sub(1)),
        cas,
        devices,
        settings: (!w.settings.is_null()).then(|| HubSettings::from_json(&w.settings)),
    })
}

#[derive(Properties, PartialEq)]
pub(crate) struct WorkspaceProps {
    pub(crate) bench: UseReducerHandle<Workbench>,
    pub(crate) settings: UseReducerHandle<HubSettings>,
    pub(crate) onopened: Callback<Rc<Restored>>,
}

impl PartialEq for Restored {
    fn eq(&self, _: &Self) -> bool {
        false
    }
}

/// Idle time after which a page whose workspace is kept here (and unchanged since) locks itself.
const IDLE_LOCK_MS: f64 = 15.0 * 60_000.0;

/// Whether an idle page locks: it has been idle long enough, and what it shows is a workspace
/// kept in this browser with nothing added since (`kept` and `now` count CAs and devices), so
/// locking loses nothing that cannot be unlocked again.
pub(crate) fn idle_lock_due(
    idle_ms: f64,
    kept: Option<(usize, usize)>,
    now: (usize, usize),
) -> bool {
    idle_ms >= IDLE_LOCK_MS && kept == Some(now) && now != (0, 0)
}

/// Lets the page draw a progress line before a slow, blocking step (key derivation).
async fn paint() {
    browser::yield_now().await;
    browser::yield_now().await;
}

#[component]
pub(crate) fn WorkspaceStep(props: &WorkspaceProps) -> Html {
    let passphrase = use_state(String::new);
    let confirm = use_state(String::new);
    let open_passphrase = use_state(String::new);
    let file = use_state(|| None::<(String, Vec<u8>)>);
    let save_line = use_state(|| None::<Outcome>);
    let open_line = use_state(|| None::<Outcome>);
    let keep_name = use_state(|| "default".to_owned());
    let kept = use_state(Vec::<String>::new);
    let keep_line = use_state(|| None::<Outcome>);
    // What was kept or unlocked here (CA and device counts), for the idle lock.
    let kept_counts = use_memo((), |()| {
        Rc::new(std::cell::Cell::new(None::<(usize, usize)>))
    })
    .as_ref()
    .clone();
    let last_input = use_memo((), |()| Rc::new(std::cell::Cell::new(js_sys::Date::now())))
        .as_ref()
        .clone();
    let counts = (props.bench.cas.len(), props.bench.devices.len());
    let now_counts = use_memo((), |()| Rc::new(std::cell::Cell::new((0usize, 0usize))))
        .as_ref()
        .clone();
    now_counts.set(counts);
    // Input anywhere on the page counts as activity; every 20 s, an idle page whose workspace
    // is kept here and unchanged locks itself.
    {
        let (kept_counts, last_input, now_counts, onopened, line) = (
            kept_counts.clone(),
            last_input.clone(),
            now_counts.clone(),
            props.onopened.clone(),
            keep_line.clone(),
        );
        use_effect_with((), move |()| {
            let document = web_sys::window().and_then(|w| w.document());
            let listeners: Vec<gloo::events::EventListener> = document
                .map(|d| {
                    ["keydown", "pointerdown", "input"]
                        .into_iter()
                        .map(|kind| {
                            let last = last_input.clone();
                            gloo::events::EventListener::new(&d, kind, move |_| {
                                last.set(js_sys::Date::now())
                            })
                        })
                        .collect()
                })
                .unwrap_or_default();
            let timer = gloo::timers::callback::Interval::new(20_000, move || {
                let idle = js_sys::Date::now() - last_input.get();
                if idle_lock_due(idle, kept_counts.get(), now_counts.get()) {
                    kept_counts.set(None);
                    onopened.emit(Rc::new(Restored {
                        cas: Vec::new(),
                        active: 0,
                        devices: Vec::new(),
                        settings: Some(HubSettings::default()),
                    }));
                    line.set(Some(Outcome::Done(format!(
                        "Locked after {} minutes without input. Unlock the kept workspace to go on.",
                        (IDLE_LOCK_MS / 60_000.0) as u32
                    ))));
                }
            });
            move || {
                drop(listeners);
                drop(timer);
            }
        });
    }
    // The kept workspaces' names, read once (this browser's own storage, no network).
    {
        let kept = kept.clone();
        use_effect_with((), move |()| {
            yew::platform::spawn_local(async move {
                if let Ok(names) = crate::app::vault_store::names().await {
                    kept.set(names);
                }
            });
        });
    }

    let on_save = {
        let (bench, settings, passphrase, confirm, line) = (
            props.bench.clone(),
            props.settings.clone(),
            passphrase.clone(),
            confirm.clone(),
            save_line.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if matches!(*line, Some(Outcome::Busy(_))) {
                return;
            }
            if let Err(e) = crate::pki::check_passphrase(&passphrase) {
                return line.set(Some(Outcome::Failed(e.to_string())));
            }
            if *passphrase != *confirm {
                return line.set(Some(Outcome::Failed(
                    "The two passphrases differ: type the same one twice.".into(),
                )));
            }
            if bench.cas.is_empty() && bench.devices.is_empty() {
                return line.set(Some(Outcome::Failed(
                    "There is nothing to keep yet: make or import a CA first.".into(),
                )));
            }
            let document = workspace_of(&bench, &settings).and_then(|w| w.to_json());
            let (pass, line) = ((*passphrase).clone(), line.clone());
            line.set(Some(Outcome::Busy(
                "Deriving the key from the passphrase (Argon2id, 19 MiB) and encrypting…".into(),
            )));
            yew::platform::spawn_local(async move {
                paint().await;
                let started = js_sys::Date::now();
                let sealed = document.and_then(|json| seal_vault(&json, &pass, KdfCost::OWASP));
                let ms = (js_sys::Date::now() - started).round();
                line.set(Some(match sealed {
                    Ok(text) => match browser::download(WORKSPACE_FILE, "application/json", text.as_bytes()) {
                        Ok(()) => Outcome::Done(format!(
                            "Saved {WORKSPACE_FILE} ({} KiB, sealed in {ms} ms). Keep it and its passphrase apart; without the passphrase nobody can open it, you included.",
                            text.len().div_ceil(1024)
                        )),
                        Err(e) => Outcome::Failed(e),
                    },
                    Err(e) => Outcome::Failed(e.to_string()),
                }));
            });
        })
    };

    let on_file = {
        let (file, line) = (file.clone(), open_line.clone());
        Callback::from(move |e: Event| {
            let input: web_sys::HtmlInputElement = e.target_unchecked_into();
            let (file, line) = (file.clone(), line.clone());
            yew::platform::spawn_local(async move {
                let Some(f) = input.files().and_then(|l| l.get(0)) else {
                    return;
                };
                match browser::read_file_bytes_within(&f, vault_size_ok).await {
                    Ok(bytes) => {
                        line.set(None);
                        file.set(Some((f.name(), bytes)));
                    }
                    Err(e) => {
                        file.set(None);
                        line.set(Some(Outcome::Failed(e)));
                    }
                }
            });
        })
    };

    let on_open = {
        let (file, passphrase, line, onopened) = (
            file.clone(),
            open_passphrase.clone(),
            open_line.clone(),
            props.onopened.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if matches!(*line, Some(Outcome::Busy(_))) {
                return;
            }
            let Some((name, bytes)) = (*file).clone() else {
                return line.set(Some(Outcome::Failed(format!(
                    "Choose the workspace file ({WORKSPACE_FILE}) first."
                ))));
            };
            if passphrase.is_empty() {
                return line.set(Some(Outcome::Failed(
                    "Enter the workspace's passphrase.".into(),
                )));
            }
            let (pass, line, onopened) = ((*passphrase).clone(), line.clone(), onopened.clone());
            line.set(Some(Outcome::Busy(format!("Opening {name}…"))));
            yew::platform::spawn_local(async move {
                paint().await;
                let started = js_sys::Date::now();
                let text = String::from_utf8_lossy(&bytes).into_owned();
                let opened = unseal(&text, &pass);
                let ms = (js_sys::Date::now() - started).round();
                match opened {
                    Ok(restored) => {
                        line.set(Some(Outcome::Done(format!(
                            "Opened {name}: {} (unlocked in {ms} ms).",
                            restored.counts()
                        ))));
                        onopened.emit(Rc::new(restored));
                    }
                    Err(e) => line.set(Some(Outcome::Failed(e.to_string()))),
                }
            });
        })
    };

    // Keep in this browser: the same sealing, into IndexedDB instead of a download.
    let on_keep = {
        let (bench, settings, passphrase, confirm, line, name, kept) = (
            props.bench.clone(),
            props.settings.clone(),
            passphrase.clone(),
            confirm.clone(),
            keep_line.clone(),
            keep_name.clone(),
            kept.clone(),
        );
        let kept_counts = kept_counts.clone();
        Callback::from(move |_: MouseEvent| {
            if matches!(*line, Some(Outcome::Busy(_))) {
                return;
            }
            let name = name.trim().to_owned();
            if name.is_empty() {
                return line.set(Some(Outcome::Failed(
                    "Name the workspace (a customer, a site).".into(),
                )));
            }
            if let Err(e) = crate::pki::check_passphrase(&passphrase) {
                return line.set(Some(Outcome::Failed(e.to_string())));
            }
            if *passphrase != *confirm {
                return line.set(Some(Outcome::Failed(
                    "The two passphrases differ: type the same one twice.".into(),
                )));
            }
            let document = workspace_of(&bench, &settings).and_then(|w| w.to_json());
            let (pass, line, kept) = ((*passphrase).clone(), line.clone(), kept.clone());
            let counts = (bench.cas.len(), bench.devices.len());
            let kept_counts = kept_counts.clone();
            line.set(Some(Outcome::Busy(format!(
                "Encrypting and keeping '{name}' in this browser…"
            ))));
            yew::platform::spawn_local(async move {
                paint().await;
                let sealed =
                    match document.and_then(|json| seal_vault(&json, &pass, KdfCost::OWASP)) {
                        Ok(s) => s,
                        Err(e) => return line.set(Some(Outcome::Failed(e.to_string()))),
                    };
                match crate::app::vault_store::put(&name, &sealed).await {
                    Ok(()) => {
                        kept_counts.set(Some(counts));
                        if let Ok(names) = crate::app::vault_store::names().await {
                            kept.set(names);
                        }
                        line.set(Some(Outcome::Done(format!(
                            "Kept '{name}' in this browser, encrypted ({} KiB). It survives reloads and restarts; unlock it below with its passphrase.",
                            sealed.len().div_ceil(1024)
                        ))));
                    }
                    Err(e) => line.set(Some(Outcome::Failed(format!(
                        "This browser would not keep it ({e}). Save the file instead."
                    )))),
                }
            });
        })
    };

    let unlock = {
        let (passphrase, line, onopened, kept_counts) = (
            open_passphrase.clone(),
            keep_line.clone(),
            props.onopened.clone(),
            kept_counts.clone(),
        );
        move |name: String| {
            let (passphrase, line, onopened, kept_counts) = (
                passphrase.clone(),
                line.clone(),
                onopened.clone(),
                kept_counts.clone(),
            );
            Callback::from(move |_: MouseEvent| {
                if passphrase.is_empty() {
                    return line.set(Some(Outcome::Failed(format!(
                        "Enter '{name}''s passphrase in the Open form's passphrase field, then unlock."
                    ))));
                }
                let (name, pass, line, onopened, kept_counts) = (
                    name.clone(),
                    (*passphrase).clone(),
                    line.clone(),
                    onopened.clone(),
                    kept_counts.clone(),
                );
                line.set(Some(Outcome::Busy(format!("Unlocking '{name}'…"))));
                yew::platform::spawn_local(async move {
                    paint().await;
                    let sealed = match crate::app::vault_store::get(&name).await {
                        Ok(Some(s)) => s,
                        Ok(None) => {
                            return line.set(Some(Outcome::Failed(format!(
                                "'{name}' is no longer kept here."
                            ))))
                        }
                        Err(e) => return line.set(Some(Outcome::Failed(e))),
                    };
                    let started = js_sys::Date::now();
                    match unseal(&sealed, &pass) {
                        Ok(restored) => {
                            kept_counts.set(Some((restored.cas.len(), restored.devices.len())));
                            line.set(Some(Outcome::Done(format!(
                                "Unlocked '{name}': {} (in {} ms).",
                                restored.counts(),
                                (js_sys::Date::now() - started).round()
                            ))));
                            onopened.emit(Rc::new(restored));
                        }
                        Err(e) => line.set(Some(Outcome::Failed(e.to_string()))),
                    }
                });
            })
        }
    };

    // Passphrase change: opened with the old one (the Open form's), sealed again with the new one
    // (the Save form's, typed twice); the page itself is not touched.
    let rekey = {
        let (old, new, confirm, line) = (
            open_passphrase.clone(),
            passphrase.clone(),
            confirm.clone(),
            keep_line.clone(),
        );
        move |name: String| {
            let (old, new, confirm, line) =
                (old.clone(), new.clone(), confirm.clone(), line.clone());
            Callback::from(move |_: MouseEvent| {
                if old.is_empty() {
                    return line.set(Some(Outcome::Failed(
                        "Type the current passphrase in the Open form and the new one twice in the Save form.".into(),
                    )));
                }
                if let Err(e) = crate::pki::check_passphrase(&new) {
                    return line.set(Some(Outcome::Failed(format!("New passphrase: {e}"))));
                }
                if *new != *confirm {
                    return line.set(Some(Outcome::Failed(
                        "The two new passphrases differ: type the same one twice.".into(),
                    )));
                }
                let (name, old, new, line) =
                    (name.clone(), (*old).clone(), (*new).clone(), line.clone());
                line.set(Some(Outcome::Busy(format!("Encrypting '{name}' again…"))));
                yew::platform::spawn_local(async move {
                    paint().await;
                    let sealed = match crate::app::vault_store::get(&name).await {
                        Ok(Some(s)) => s,
                        Ok(None) => {
                            return line.set(Some(Outcome::Failed(format!(
                                "'{name}' is no longer kept here."
                            ))))
                        }
                        Err(e) => return line.set(Some(Outcome::Failed(e))),
                    };
                    // Opened and checked whole before anything is replaced.
                    let resealed = open_vault(&sealed, &old)
                        .and_then(|json| Workspace::from_json(&json).map(|_| json))
                        .and_then(|json| seal_vault(&json, &new, KdfCost::OWASP));
                    match resealed {
                        Ok(text) => match crate::app::vault_store::put(&name, &text).await {
                            Ok(()) => line.set(Some(Outcome::Done(format!(
                                "'{name}' now opens with the new passphrase only."
                            )))),
                            Err(e) => line.set(Some(Outcome::Failed(e))),
                        },
                        Err(e) => line.set(Some(Outcome::Failed(e.to_string()))),
                    }
                });
            })
        }
    };

    let forget = {
        let (line, kept) = (keep_line.clone(), kept.clone());
        move |name: String| {
            let (line, kept) = (line.clone(), kept.clone());
            Callback::from(move |_: MouseEvent| {
                let (name, line, kept) = (name.clone(), line.clone(), kept.clone());
                yew::platform::spawn_local(async move {
                    match crate::app::vault_store::remove(&name).await {
                        Ok(()) => {
                            kept.set(crate::app::vault_store::names().await.unwrap_or_default());
                            line.set(Some(Outcome::Done(format!(
                                "Forgot '{name}': it is no longer in this browser."
                            ))));
                        }
                        Err(e) => line.set(Some(Outcome::Failed(e))),
                    }
                });
            })
        }
    };

    // Lock: the CAs, keys, devices and settings leave the page; what is kept stays encrypted.
    let on_lock = {
        let (line, onopened, kept_counts) = (
            keep_line.clone(),
            props.onopened.clone(),
            kept_counts.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            kept_counts.set(None);
            onopened.emit(Rc::new(Restored {
                cas: Vec::new(),
                active: 0,
                devices: Vec::new(),
                settings: Some(HubSettings::default()),
            }));
            line.set(Some(Outcome::Done(
                "Locked: the CAs, keys, devices and settings are gone from this page. Unlock a kept workspace (or open its file) to go on."
                    .into(),
            )));
        })
    };

    let set = |s: &UseStateHandle<String>| {
        let s = s.clone();
        Callback::from(move |v: String| s.set(v))
    };

    html! {
        <section class="step" id="step-workspace" aria-labelledby="step-workspace-title">
            <div class="step-head">
                <span class="step-no" aria-hidden="true">{"⛁"}</span>
                <div>
                    <h2 id="step-workspace-title">{"Keep this workspace"}</h2>
                    <p class="lede">{"Save the CAs with their keys, the devices and the settings of this page as one encrypted file, and open it next month here or in another browser: no .pfx to re-import. The passphrase never leaves the page: Argon2id (19 MiB, 2 passes) derives the key, AES-256-GCM encrypts and authenticates."}</p>
                </div>
            </div>
            <form class="card form" onsubmit={on_save} novalidate=true>
                <h3 class="sub">{"Save"}</h3>
                <div class="grid">
                    <Field id="ws-pass" label="Passphrase" kind="password" value={(*passphrase).clone()} oninput={set(&passphrase)}
                        hint={format!("At least {MIN_PASSPHRASE_CHARS} characters; a few unrelated words work well")} />
                    <Field id="ws-pass2" label="Passphrase again" kind="password" value={(*confirm).clone()} oninput={set(&confirm)} />
                    <Field id="ws-name" label="Name (to keep it in this browser)" value={(*keep_name).clone()} oninput={set(&keep_name)} hint="One per customer or site" />
                </div>
                <div class="actions">
                    <button type="submit" class="primary" id="ws-save">{"Save encrypted workspace"}</button>
                    <button type="button" class="secondary" id="ws-keep" onclick={on_keep}>{"Keep in this browser"}</button>
                </div>
                { outcome_view(&save_line, "ws-save-status") }
            </form>
            <form class="card form" onsubmit={on_open} novalidate=true>
                <h3 class="sub">{"Open"}</h3>
                <div class="grid">
                    <div class="field">
                        <label for="ws-file">{"Workspace file"}</label>
                        <input type="file" id="ws-file" accept=".hubcert,application/json" onchange={on_file} />
                    </div>
                    <Field id="ws-open-pass" label="Passphrase" kind="password" value={(*open_passphrase).clone()} oninput={set(&open_passphrase)} />
                </div>
                <p class="hint">{"Opening replaces this page's CAs, devices and settings with the file's."}</p>
                <div class="actions">
                    <button type="submit" class="primary" id="ws-open">{"Open workspace"}</button>
                </div>
                { outcome_view(&open_line, "ws-open-status") }
            </form>
            <div class="card form" id="ws-kept">
                <h3 class="sub">{"Kept in this browser (encrypted, in IndexedDB)"}</h3>
                if kept.is_empty() {
                    <p class="hint">{"None yet. \"Keep in this browser\" above stores the workspace here, encrypted with its passphrase."}</p>
                } else {
                    <ul class="kept">
                        { for kept.iter().map(|name| html! {
                            <li>
                                <strong>{name}</strong>
                                <button type="button" class="secondary small" id={format!("ws-unlock-{name}")} onclick={unlock(name.clone())}>{"Unlock"}</button>
                                <button type="button" class="secondary small" id={format!("ws-rekey-{name}")} onclick={rekey(name.clone())}>{"Change passphrase"}</button>
                                <button type="button" class="secondary small" id={format!("ws-forget-{name}")} onclick={forget(name.clone())}>{"Forget"}</button>
                            </li>
                        }) }
                    </ul>
                    <p class="hint">{"Unlock uses the passphrase typed in the Open form; Change passphrase takes the current one from there and the new one, twice, from the Save form. A page showing a kept workspace, with nothing added since, locks itself after 15 minutes without input."}</p>
                }
                <div class="actions">
                    <button type="button" class="secondary" id="ws-lock" onclick={on_lock}>{"Lock this page"}</button>
                </div>
                { outcome_view(&keep_line, "ws-keep-status") }
            </div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn an_idle_page_locks_only_when_nothing_unsaved_would_be_lost() {
        let kept = Some((2, 10));
        assert!(idle_lock_due(IDLE_LOCK_MS, kept, (2, 10)));
        assert!(!idle_lock_due(IDLE_LOCK_MS - 1.0, kept, (2, 10)));
        // A device issued since it was kept: not locked, it would be lost.
        assert!(!idle_lock_due(IDLE_LOCK_MS * 4.0, kept, (2, 11)));
        // Never kept or unlocked here, or already empty: nothing to lock.
        assert!(!idle_lock_due(IDLE_LOCK_MS * 4.0, None, (2, 10)));
        assert!(!idle_lock_due(IDLE_LOCK_MS * 4.0, Some((0, 0)), (0, 0)));
    }
}

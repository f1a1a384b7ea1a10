//! Keep the workspace: the page's CAs with their keys, its devices and its settings saved as one
//! encrypted file (`pki::seal_vault`), and opened again here or in another browser.

use super::*;
use crate::app::outcome::{outcome_view, Outcome};
use crate::app::settings::HubSettings;
use crate::app::state::Workbench;
use crate::pki::{
    forget_confirm, forgotten, idle_lock_due, lock_drops, lock_warning, no_longer_kept, open_vault,
    seal_vault, unlock_needs_passphrase, unlocked, vault_size_ok, Counts, KdfCost, StoredCa,
    StoredDevice, Workspace, IDLE_LOCK_MS, MIN_PASSPHRASE_CHARS,
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

/// Lets the page draw a progress line before a slow, blocking step (key derivation).
async fn paint() {
    browser::yield_now().await;
    browser::yield_now().await;
}

/// What was kept or unlocked here last (CA and device counts): `None` since the page opened.
/// Shared by the cards of the step; a `Cell` so that a save does not redraw the page.
#[derive(Clone, Default)]
struct KeptCounts(Rc<std::cell::Cell<Option<Counts>>>);

impl PartialEq for KeptCounts {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

/// What the page shows, counted.
fn counts_of(bench: &Workbench) -> Counts {
    Counts {
        cas: bench.cas.len(),
        devices: bench.devices.len(),
    }
}

/// The sessionStorage note a locked page leaves for the page it reloads into.
const LOCKED_NOTE: &str = "hubcert-locked";

/// Whether this is the page itself (the whole app took it over), not a test mounting the app.
fn is_the_page() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
        .and_then(|e| e.get_attribute("data-app"))
        .as_deref()
        == Some("full")
}

/// Locks: the CAs, keys, devices and settings leave the page. On the page itself it then reloads,
/// so that no copy of a key stays in either WebAssembly module's memory (nor a typed passphrase
/// in a field); what is kept stays encrypted in IndexedDB. The reloaded page says it was locked.
fn lock(onopened: &Callback<Rc<Restored>>, kept: &KeptCounts, why: &str) {
    kept.0.set(None);
    onopened.emit(Rc::new(Restored {
        cas: Vec::new(),
        active: 0,
        devices: Vec::new(),
        settings: Some(HubSettings::default()),
    }));
    if is_the_page() {
        if let Some(w) = web_sys::window() {
            if let Ok(Some(storage)) = w.session_storage() {
                let _ = storage.set_item(LOCKED_NOTE, why);
            }
            let _ = w.location().reload();
        }
    }
}

/// The note a lock left before the reload, read once.
fn take_locked_note() -> Option<String> {
    let storage = web_sys::window()?.session_storage().ok()??;
    let note = storage.get_item(LOCKED_NOTE).ok()??;
    let _ = storage.remove_item(LOCKED_NOTE);
    Some(note)
}

const LOCKED_BY_HAND: &str = "Locked: the CAs, keys, devices and settings are gone from this page (it was reloaded, so no copy stays in its memory). Unlock a kept workspace (or open its file) to go on.";

/// The workspaces kept in this browser, shared by the home page and the Keep route: their names,
/// what was kept or unlocked last, how many times the page was locked (each lock draws the forms
/// anew), and how a workspace reaches the page.
#[derive(Clone, PartialEq)]
pub(crate) struct Keeping {
    names: Rc<Vec<String>>,
    kept_counts: KeptCounts,
    generation: u32,
    bump: Callback<()>,
    refresh: Callback<()>,
    onopened: Callback<Rc<Restored>>,
}

/// Makes [`Keeping`] for the page (the App provides it as a context).
#[hook]
pub(crate) fn use_keeping(onopened: Callback<Rc<Restored>>) -> Keeping {
    let (names, refresh) = crate::app::vault_store::use_kept_names();
    let kept_counts = use_memo((), |()| KeptCounts::default()).as_ref().clone();
    let generation = use_state(|| 0u32);
    let bump = {
        let generation = generation.clone();
        use_callback(*generation, move |(), g| generation.set(*g + 1))
    };
    Keeping {
        names,
        kept_counts,
        generation: *generation,
        bump,
        refresh,
        onopened,
    }
}

/// The kept workspaces with their unlock field, for the home page (ids `home-…`); nothing when
/// none is kept here.
#[component]
pub(crate) fn KeptHere() -> Html {
    let Some(k) = use_context::<Keeping>() else {
        return html! {};
    };
    if k.names.is_empty() {
        return html! {};
    }
    html! {
        <KeptCard key={format!("home-{}", k.generation)} prefix="home" names={(*k.names).clone()} onopened={k.onopened.clone()}
            kept_counts={k.kept_counts.clone()} onchanged={k.refresh.clone()} />
    }
}

#[component]
pub(crate) fn WorkspaceStep(props: &WorkspaceProps) -> Html {
    let keeping = use_context::<Keeping>();
    let local_counts = use_memo((), |()| KeptCounts::default()).as_ref().clone();
    let kept_counts = keeping
        .as_ref()
        .map(|k| k.kept_counts.clone())
        .unwrap_or(local_counts);
    let names = keeping
        .as_ref()
        .map(|k| (*k.names).clone())
        .unwrap_or_default();
    let refresh = keeping
        .as_ref()
        .map(|k| k.refresh.clone())
        .unwrap_or_default();
    let bump = keeping.as_ref().map(|k| k.bump.clone()).unwrap_or_default();
    let generation = keeping.as_ref().map(|k| k.generation).unwrap_or(0);
    let lock_line = use_state(|| take_locked_note().map(Outcome::Done));
    let asked_to_lock = use_state(|| false);
    let now = counts_of(&props.bench);
    let now_counts = use_memo((), |()| Rc::new(std::cell::Cell::new(Counts::default())))
        .as_ref()
        .clone();
    now_counts.set(now);
    {
        let (kept_counts, onopened, line, bump) = (
            kept_counts.clone(),
            props.onopened.clone(),
            lock_line.clone(),
            bump.clone(),
        );
        use_idle_lock(now_counts, kept_counts.clone(), move || {
            let why = format!(
                "Locked after {} minutes without input. Unlock the kept workspace to go on.",
                (IDLE_LOCK_MS / 60_000.0) as u32
            );
            lock(&onopened, &kept_counts, &why);
            line.set(Some(Outcome::Done(why)));
            bump.emit(());
        });
    }
    let on_lock = {
        let (onopened, kept_counts, line, asked, bump) = (
            props.onopened.clone(),
            kept_counts.clone(),
            lock_line.clone(),
            asked_to_lock.clone(),
            bump.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            let last = kept_counts.0.get();
            if let (Some(drops), false) = (lock_drops(last, now), *asked) {
                asked.set(true);
                return line.set(Some(Outcome::Failed(lock_warning(drops, last.is_some()))));
            }
            asked.set(false);
            lock(&onopened, &kept_counts, LOCKED_BY_HAND);
            line.set(Some(Outcome::Done(LOCKED_BY_HAND.into())));
            bump.emit(());
        })
    };
    let key = generation.to_string();
    html! {
        <section class="step" id="step-workspace" aria-labelledby="step-workspace-title">
            <div class="step-head">
                <span class="step-no" aria-hidden="true">{"⛁"}</span>
                <div>
                    <h2 id="step-workspace-title">{"Keep this workspace"}</h2>
                    <p class="lede">{"Save the CAs with their keys, the devices and the settings of this page as one encrypted file, and open it next month here or in another browser: no .pfx to re-import. The passphrase never leaves the page: Argon2id (19 MiB, 2 passes) derives the key, AES-256-GCM encrypts and authenticates."}</p>
                </div>
            </div>
            <SaveCard key={format!("save-{key}")} bench={props.bench.clone()} settings={props.settings.clone()}
                kept_counts={kept_counts.clone()} onkept={refresh.clone()} />
            <OpenCard key={format!("open-{key}")} onopened={props.onopened.clone()} />
            <KeptCard key={format!("kept-{key}")} prefix="ws" names={names} onopened={props.onopened.clone()}
                kept_counts={kept_counts.clone()} onchanged={refresh} />
            <div class="card form" id="ws-lock-card">
                <p class="hint">{"A page showing a kept workspace, with nothing added since, locks itself after 15 minutes without input. Locking reloads the page: no key stays in its memory."}</p>
                <div class="actions">
                    <button type="button" class="secondary" id="ws-lock" onclick={on_lock}>
                        { if *asked_to_lock { "Lock and drop what is not kept" } else { "Lock this page" } }
                    </button>
                </div>
                { outcome_view(&lock_line, "ws-lock-status") }
            </div>
        </section>
    }
}

/// Input anywhere on the page counts as activity; every 20 s, an idle page whose workspace is
/// kept here and unchanged calls `on_idle`.
#[hook]
fn use_idle_lock<F: Fn() + 'static>(
    now: Rc<std::cell::Cell<Counts>>,
    kept: KeptCounts,
    on_idle: F,
) {
    let on_idle = Rc::new(on_idle);
    use_effect_with((), move |()| {
        let last_input = Rc::new(std::cell::Cell::new(js_sys::Date::now()));
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
            if idle_lock_due(idle, kept.0.get(), now.get()) {
                on_idle();
            }
        });
        move || {
            drop(listeners);
            drop(timer);
        }
    });
}

#[derive(Properties, PartialEq)]
struct SaveProps {
    bench: UseReducerHandle<Workbench>,
    settings: UseReducerHandle<HubSettings>,
    kept_counts: KeptCounts,
    onkept: Callback<()>,
}

/// What a save or keep checks first: a strong passphrase typed twice, and something to keep.
fn ready_to_seal(passphrase: &str, confirm: &str, bench: &Workbench) -> Result<(), String> {
    crate::pki::check_passphrase(passphrase).map_err(|e| e.to_string())?;
    if passphrase != confirm {
        return Err("The two passphrases differ: type the same one twice.".into());
    }
    if bench.cas.is_empty() && bench.devices.is_empty() {
        return Err("There is nothing to keep yet: make or import a CA first.".into());
    }
    Ok(())
}

/// Save as a file, or keep in this browser: one passphrase, one line for both, beside them.
#[component]
fn SaveCard(props: &SaveProps) -> Html {
    let passphrase = use_state(String::new);
    let confirm = use_state(String::new);
    let name = use_state(|| "default".to_owned());
    let line = use_state(|| None::<Outcome>);
    // `keep`: into IndexedDB under `name`; else a download.
    let seal = {
        let (bench, settings, passphrase, confirm, line, name) = (
            props.bench.clone(),
            props.settings.clone(),
            passphrase.clone(),
            confirm.clone(),
            line.clone(),
            name.clone(),
        );
        let (kept_counts, onkept) = (props.kept_counts.clone(), props.onkept.clone());
        move |keep: bool| {
            if matches!(*line, Some(Outcome::Busy(_))) {
                return;
            }
            let label = name.trim().to_owned();
            if keep && label.is_empty() {
                return line.set(Some(Outcome::Failed(
                    "Name the workspace (a customer, a site).".into(),
                )));
            }
            if let Err(e) = ready_to_seal(&passphrase, &confirm, &bench) {
                return line.set(Some(Outcome::Failed(e)));
            }
            let document = workspace_of(&bench, &settings).and_then(|w| w.to_json());
            let counts = counts_of(&bench);
            let (pass, line, kept_counts, onkept) = (
                (*passphrase).clone(),
                line.clone(),
                kept_counts.clone(),
                onkept.clone(),
            );
            line.set(Some(Outcome::Busy(if keep {
                format!("Encrypting and keeping '{label}' in this browser…")
            } else {
                "Deriving the key from the passphrase (Argon2id, 19 MiB) and encrypting…".into()
            })));
            yew::platform::spawn_local(async move {
                paint().await;
                let started = js_sys::Date::now();
                let sealed =
                    match document.and_then(|json| seal_vault(&json, &pass, KdfCost::OWASP)) {
                        Ok(s) => s,
                        Err(e) => return line.set(Some(Outcome::Failed(e.to_string()))),
                    };
                let ms = (js_sys::Date::now() - started).round();
                let kib = sealed.len().div_ceil(1024);
                line.set(Some(if keep {
                    match crate::app::vault_store::put(&label, &sealed).await {
                        Ok(()) => {
                            kept_counts.0.set(Some(counts));
                            onkept.emit(());
                            Outcome::Done(format!("Kept '{label}' in this browser, encrypted ({kib} KiB). It survives reloads and restarts; unlock it below with its passphrase."))
                        }
                        Err(e) => Outcome::Failed(format!("This browser would not keep it ({e}). Save the file instead.")),
                    }
                } else {
                    match browser::download(WORKSPACE_FILE, "application/json", sealed.as_bytes()) {
                        Ok(()) => Outcome::Done(format!("Saved {WORKSPACE_FILE} ({kib} KiB, sealed in {ms} ms). Keep it and its passphrase apart; without the passphrase nobody can open it, you included.")),
                        Err(e) => Outcome::Failed(e),
                    }
                }));
            });
        }
    };
    let seal = Rc::new(seal);
    let on_save = {
        let seal = seal.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            seal(false)
        })
    };
    let on_keep = Callback::from(move |_: MouseEvent| seal(true));
    let set = |s: &UseStateHandle<String>| {
        let s = s.clone();
        Callback::from(move |v: String| s.set(v))
    };
    html! {
        <form class="card form" onsubmit={on_save} novalidate=true>
            <h3 class="sub">{"Save"}</h3>
            <div class="grid">
                <Field id="ws-pass" label="Passphrase" kind="password" value={(*passphrase).clone()} oninput={set(&passphrase)}
                    hint={format!("At least {MIN_PASSPHRASE_CHARS} characters; a few unrelated words work well")} />
                <Field id="ws-pass2" label="Passphrase again" kind="password" value={(*confirm).clone()} oninput={set(&confirm)} />
                <Field id="ws-name" label="Name (to keep it in this browser)" value={(*name).clone()} oninput={set(&name)} hint="One per customer or site" />
            </div>
            <div class="actions">
                <button type="submit" class="primary" id="ws-save">{"Save encrypted workspace"}</button>
                <button type="button" class="secondary" id="ws-keep" onclick={on_keep}>{"Keep in this browser"}</button>
            </div>
            { outcome_view(&line, "ws-save-status") }
        </form>
    }
}

#[derive(Properties, PartialEq)]
struct OpenProps {
    onopened: Callback<Rc<Restored>>,
}

/// Open a workspace file with its passphrase.
#[component]
fn OpenCard(props: &OpenProps) -> Html {
    let file = use_state(|| None::<(String, Vec<u8>)>);
    let passphrase = use_state(String::new);
    let line = use_state(|| None::<Outcome>);
    let on_file = {
        let (file, line) = (file.clone(), line.clone());
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
            passphrase.clone(),
            line.clone(),
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
                let opened = unseal(&String::from_utf8_lossy(&bytes), &pass);
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
    let set = {
        let passphrase = passphrase.clone();
        Callback::from(move |v: String| passphrase.set(v))
    };
    html! {
        <form class="card form" onsubmit={on_open} novalidate=true>
            <h3 class="sub">{"Open"}</h3>
            <div class="grid">
                <div class="field">
                    <label for="ws-file">{"Workspace file"}</label>
                    <input type="file" id="ws-file" accept=".hubcert,application/json" onchange={on_file} />
                </div>
                <Field id="ws-open-pass" label="Passphrase" kind="password" value={(*passphrase).clone()} oninput={set} />
            </div>
            <p class="hint">{"Opening replaces this page's CAs, devices and settings with the file's."}</p>
            <div class="actions">
                <button type="submit" class="primary" id="ws-open">{"Open workspace"}</button>
            </div>
            { outcome_view(&line, "ws-open-status") }
        </form>
    }
}

#[derive(Properties, PartialEq)]
struct KeptProps {
    /// Element ids start with it: `ws` on the Keep route, `home` on the home page.
    prefix: AttrValue,
    names: Vec<String>,
    onopened: Callback<Rc<Restored>>,
    kept_counts: KeptCounts,
    onchanged: Callback<()>,
}

/// Why a kept workspace did not open, in words that fit it (the browser's copy, not a file).
fn unlock_error(name: &str, e: &PkiError) -> String {
    match e {
        PkiError::VaultNotOpened => format!(
            "The passphrase does not open '{name}'. Check it (it is case-sensitive) and try again; nothing on this page changed."
        ),
        other => other.to_string(),
    }
}

/// The workspaces kept in this browser: unlock (with its own passphrase field), change a
/// passphrase (its own three fields), forget (asked first).
#[component]
fn KeptCard(props: &KeptProps) -> Html {
    let p = props.prefix.clone();
    let passphrase = use_state(String::new);
    let line = use_state(|| None::<Outcome>);
    let forgetting = use_state(|| None::<String>);
    let rekeying = use_state(|| None::<String>);
    let unlock = |name: String| unlocker(name, &passphrase, &line, props);
    let forget = |name: String| {
        let (line, forgetting, onchanged) =
            (line.clone(), forgetting.clone(), props.onchanged.clone());
        Callback::from(move |_: MouseEvent| {
            if forgetting.as_deref() != Some(name.as_str()) {
                forgetting.set(Some(name.clone()));
                return line.set(Some(Outcome::Failed(forget_confirm(&name))));
            }
            forgetting.set(None);
            let (name, line, onchanged) = (name.clone(), line.clone(), onchanged.clone());
            yew::platform::spawn_local(async move {
                match crate::app::vault_store::remove(&name).await {
                    Ok(()) => {
                        onchanged.emit(());
                        line.set(Some(Outcome::Done(forgotten(&name))));
                    }
                    Err(e) => line.set(Some(Outcome::Failed(e))),
                }
            });
        })
    };
    let toggle_rekey = |name: String| {
        let rekeying = rekeying.clone();
        Callback::from(move |_: MouseEvent| {
            rekeying.set((rekeying.as_deref() != Some(name.as_str())).then(|| name.clone()))
        })
    };
    let set = {
        let passphrase = passphrase.clone();
        Callback::from(move |v: String| passphrase.set(v))
    };
    html! {
        <div class="card form" id={format!("{p}-kept")}>
            <h3 class="sub">{"Kept in this browser (encrypted, in IndexedDB)"}</h3>
            if props.names.is_empty() {
                <p class="hint">{"None yet. \"Keep in this browser\" above stores the workspace here, encrypted with its passphrase."}</p>
            } else {
                <div class="grid">
                    <Field id={format!("{p}-unlock-pass")} label="Passphrase to unlock" kind="password" value={(*passphrase).clone()} oninput={set} />
                </div>
                <ul class="kept">
                    { for props.names.iter().map(|name| html! {
                        <li>
                            <strong>{name}</strong>
                            <button type="button" class="primary small" id={format!("{p}-unlock-{name}")} onclick={unlock(name.clone())}>{"Unlock"}</button>
                            <button type="button" class="secondary small" id={format!("{p}-rekey-{name}")} aria-expanded={(rekeying.as_deref() == Some(name.as_str())).to_string()} onclick={toggle_rekey(name.clone())}>{"Change passphrase"}</button>
                            <button type="button" class="secondary small" id={format!("{p}-forget-{name}")} onclick={forget(name.clone())}>
                                { if forgetting.as_deref() == Some(name.as_str()) { "Forget: press again" } else { "Forget" } }
                            </button>
                            if rekeying.as_deref() == Some(name.as_str()) {
                                <Rekey prefix={p.clone()} name={name.clone()} />
                            }
                        </li>
                    }) }
                </ul>
            }
            { outcome_view(&line, &format!("{p}-keep-status")) }
        </div>
    }
}

/// "Unlock" for the kept workspace `name`, with the passphrase typed.
fn unlocker(
    name: String,
    passphrase: &UseStateHandle<String>,
    line: &UseStateHandle<Option<Outcome>>,
    props: &KeptProps,
) -> Callback<MouseEvent> {
    let (passphrase, line, onopened, kept_counts) = (
        passphrase.clone(),
        line.clone(),
        props.onopened.clone(),
        props.kept_counts.clone(),
    );
    Callback::from(move |_: MouseEvent| {
        if passphrase.is_empty() {
            return line.set(Some(Outcome::Failed(unlock_needs_passphrase(&name))));
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
                Ok(None) => return line.set(Some(Outcome::Failed(no_longer_kept(&name)))),
                Err(e) => return line.set(Some(Outcome::Failed(e))),
            };
            let started = js_sys::Date::now();
            match unseal(&sealed, &pass) {
                Ok(restored) => {
                    kept_counts.0.set(Some(Counts {
                        cas: restored.cas.len(),
                        devices: restored.devices.len(),
                    }));
                    let ms = js_sys::Date::now() - started;
                    line.set(Some(Outcome::Done(unlocked(&name, &restored.counts(), ms))));
                    onopened.emit(Rc::new(restored));
                }
                Err(e) => line.set(Some(Outcome::Failed(unlock_error(&name, &e)))),
            }
        });
    })
}

#[derive(Properties, PartialEq)]
struct RekeyProps {
    prefix: AttrValue,
    name: String,
}

/// A kept workspace's passphrase changed: opened with the current one, sealed again with the new
/// one (typed twice); the page itself is not touched.
#[component]
fn Rekey(props: &RekeyProps) -> Html {
    let p = props.prefix.clone();
    let old = use_state(String::new);
    let new = use_state(String::new);
    let again = use_state(String::new);
    let line = use_state(|| None::<Outcome>);
    let on_submit = {
        let (old, new, again, line, name) = (
            old.clone(),
            new.clone(),
            again.clone(),
            line.clone(),
            props.name.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if old.is_empty() {
                return line.set(Some(Outcome::Failed("Type the current passphrase.".into())));
            }
            if let Err(e) = crate::pki::check_passphrase(&new) {
                return line.set(Some(Outcome::Failed(format!("New passphrase: {e}"))));
            }
            if *new != *again {
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
                line.set(Some(match resealed {
                    Ok(text) => match crate::app::vault_store::put(&name, &text).await {
                        Ok(()) => Outcome::Done(format!(
                            "'{name}' now opens with the new passphrase only."
                        )),
                        Err(e) => Outcome::Failed(e),
                    },
                    Err(e) => Outcome::Failed(unlock_error(&name, &e)),
                }));
            });
        })
    };
    let set = |s: &UseStateHandle<String>| {
        let s = s.clone();
        Callback::from(move |v: String| s.set(v))
    };
    html! {
        <form class="rekey" id={format!("{p}-rekey-form")} onsubmit={on_submit} novalidate=true>
            <div class="grid">
                <Field id={format!("{p}-rekey-old")} label="Current passphrase" kind="password" value={(*old).clone()} oninput={set(&old)} />
                <Field id={format!("{p}-rekey-new")} label="New passphrase" kind="password" value={(*new).clone()} oninput={set(&new)} />
                <Field id={format!("{p}-rekey-new2")} label="New passphrase again" kind="password" value={(*again).clone()} oninput={set(&again)} />
            </div>
            <div class="actions">
                <button type="submit" class="primary small" id={format!("{p}-rekey-submit")}>{"Change passphrase"}</button>
            </div>
            { outcome_view(&line, &format!("{p}-rekey-status")) }
        </form>
    }
}

//! A guided CA rollover: the new CA verified on the hub beside the old, added to DPS's groups as
//! their secondary, the devices re-issued under it with their own keys, then the old retired.
//! Where it stands is read from the hub, DPS and the page each time, so after a reload (with the
//! workspace kept) it picks up at the step it reached.

use super::renew::{renew_one, renewed_zip};
use super::*;
use crate::app::fetch::client;
use crate::app::outcome::{outcome_view, Outcome};
use crate::app::settings::HubSettings;
use crate::iothub::{
    ca_name_from_cn, certificate_name, groups_added_note, only_new_ca, plan_ca_rollover,
    reissued_note, rollover_pair, uploaded_note, with_new_ca, CaRollover, CaRolloverInputs,
    CaRolloverStage, RestError, CHOOSE_TWO_CAS, RETIRED_NOTE, RETIRE_CONFIRM,
};

mod parts;
mod stage;

use parts::{RolloverChecklist, RolloverChoice};
use stage::take_step;

#[derive(Properties, PartialEq)]
pub(crate) struct RolloverProps {
    /// Every CA of the tree with its card, root first.
    pub(crate) cas: Rc<Vec<(SharedCa, Rc<Issued>)>>,
    /// Device certificates of the page, newest first.
    pub(crate) devices: Rc<Vec<Rc<Issued>>>,
    pub(crate) settings: UseReducerHandle<HubSettings>,
    /// Re-issued device certificates.
    pub(crate) onrenewed: Callback<Vec<Rc<Issued>>>,
}

/// Reads where the rollover from `old` to `new` stands.
async fn read_standing(
    s: &HubSettings,
    old: &Certificate,
    new: &Certificate,
    devices: &[Rc<Issued>],
) -> Result<(CaRollover, Option<String>), RestError> {
    let trust = crate::app::hub::read_trust(s).await?;
    let page = crate::app::hub::page_devices(devices);
    // How each device of either CA stands in the hub: CA-signed, or pinned by DPS.
    let mut ids: Vec<String> = Vec::new();
    for (id, cert) in &page {
        let under = |ca: &Certificate| crate::pki::is_signed_by(cert, ca).unwrap_or(false);
        if !ids.contains(id) && (under(old) || under(new)) {
            ids.push(id.clone());
        }
    }
    let paths = crate::app::hub::read_paths(s, &ids).await;
    Ok((
        plan_ca_rollover(&CaRolloverInputs {
            old,
            new,
            hub: &trust.hub,
            dps: &trust.dps,
            groups: &trust.groups,
            devices: &page,
            hub_devices: &paths.hub,
            dps_assigned: paths.dps_assigned.as_deref().unwrap_or(&[]),
        }),
        trust.dps_note,
    ))
}

/// Where the rollover between the CAs at two indexes stood when last read, and DPS's note.
type Standing = Option<(usize, usize, CaRollover, Option<String>)>;

#[component]
pub(crate) fn RolloverStep(props: &RolloverProps) -> Html {
    let old_index = use_state(|| 0usize);
    let new_index = use_state(|| None::<usize>);
    let standing = use_state(|| None::<(usize, usize, CaRollover, Option<String>)>);
    let outcome = use_state(|| None::<Outcome>);
    let confirm = use_state(|| false);
    let zip = use_state(|| None::<Rc<Download>>);

    let n = props.cas.len();
    let (old_i, new_i, pair) = rollover_pair(n, *old_index, *new_index);
    let new_name = pair
        .and_then(|(_, ni)| props.cas[ni].1.info.common_name.clone())
        .map(|cn| ca_name_from_cn(&cn))
        .unwrap_or_else(|| "new-ca".into());
    // A new choice forgets the standing read for the old one.
    let chosen = {
        let (old_index, new_index, standing, confirm) = (
            old_index.clone(),
            new_index.clone(),
            standing.clone(),
            confirm.clone(),
        );
        Callback::from(move |(new, i): (bool, Option<usize>)| {
            match (new, i) {
                (true, i) => new_index.set(i),
                (false, Some(i)) => old_index.set(i),
                (false, None) => {}
            }
            standing.set(None);
            confirm.set(false);
        })
    };
    let ctx = StepContext {
        cas: props.cas.clone(),
        devices: props.devices.clone(),
        settings: props.settings.clone(),
        onrenewed: props.onrenewed.clone(),
        standing: standing.clone(),
        outcome: outcome.clone(),
        zip: zip.clone(),
    };
    let on_read = {
        let ctx = ctx.clone();
        Callback::from(move |_: MouseEvent| ctx.read(pair))
    };
    let on_next = stepper(ctx, confirm.clone(), new_name.clone());
    let on_save = zip.as_ref().map(|z| {
        let (z, outcome) = (z.clone(), outcome.clone());
        Callback::from(move |_: MouseEvent| {
            if let Err(e) = browser::download(&z.name, z.mime, &z.contents) {
                outcome.set(Some(Outcome::Failed(e)));
            }
        })
    });

    let shown = standing
        .as_ref()
        .filter(|(oi, ni, ..)| Some((*oi, *ni)) == pair);
    let busy = matches!(&*outcome, Some(Outcome::Busy(m)) if !m.ends_with("to confirm."));
    html! {
        <section class="step" id="step-rollover" aria-labelledby="step-rollover-title">
            <div class="step-head">
                <span class="step-no" aria-hidden="true">{"⇄"}</span>
                <div>
                    <h2 id="step-rollover-title">{"Roll over to a new CA"}</h2>
                    <p class="lede">{"Make the new CA in step 1 (a new root or intermediate), then follow the steps: both CAs are trusted during the overlap, so no device is refused. Each press reads where it stands first, so it picks up after a reload."}</p>
                </div>
            </div>
            <div class="card form">
                if n < 2 {
                    <p class="hint" id="rollover-need">{"Two CAs are needed on this page: the one in use and the one taking over. Create or import the new one in step 1."}</p>
                } else {
                    <RolloverChoice cas={props.cas.clone()} old={old_i} new={new_i} onchoose={chosen} />
                }
                <div class="actions">
                    <button type="button" class="secondary" id="rollover-read" onclick={on_read} disabled={busy || pair.is_none()}>{"Read where it stands"}</button>
                    if let Some((_, _, r, _)) = shown {
                        <button type="button" class={classes!("primary", confirm.then_some("danger"))} id="rollover-next" onclick={on_next}
                            disabled={busy || r.stage == CaRolloverStage::Done}>{r.next_label(&new_name)}</button>
                    }
                </div>
                if let Some((_, _, r, note)) = shown { <RolloverChecklist items={r.checklist()} note={note.clone()} /> }
                { outcome_view(&outcome, "rollover-status") }
                if let (Some(z), Some(on_save)) = (&*zip, on_save) {
                    <button type="button" class="secondary" id="rollover-save" onclick={on_save}>{format!("Download {}", z.name)}</button>
                }
            </div>
        </section>
    }
}

/// What reading the standing and taking a step need.
#[derive(Clone)]
struct StepContext {
    cas: Rc<Vec<(SharedCa, Rc<Issued>)>>,
    devices: Rc<Vec<Rc<Issued>>>,
    settings: UseReducerHandle<HubSettings>,
    onrenewed: Callback<Vec<Rc<Issued>>>,
    standing: UseStateHandle<Standing>,
    outcome: UseStateHandle<Option<Outcome>>,
    zip: UseStateHandle<Option<Rc<Download>>>,
}

impl StepContext {
    fn busy(&self, m: String) {
        self.outcome.set(Some(Outcome::Busy(m)));
    }

    /// "Read where it stands" for the CAs at `pair`.
    fn read(&self, pair: Option<(usize, usize)>) {
        let Some((oi, ni)) = pair else {
            return self
                .outcome
                .set(Some(Outcome::Failed(CHOOSE_TWO_CAS.into())));
        };
        self.busy("Reading the hub and DPS…".into());
        let ctx = self.clone();
        yew::platform::spawn_local(async move {
            let s = crate::app::hub::ready(&ctx.settings).await;
            let (old, new) = (
                ctx.cas[oi].0 .0.certificate(),
                ctx.cas[ni].0 .0.certificate(),
            );
            match read_standing(&s, old, new, &ctx.devices).await {
                Ok((r, note)) => {
                    ctx.standing.set(Some((oi, ni, r, note)));
                    ctx.outcome.set(None);
                }
                Err(e) => ctx.outcome.set(Some(Outcome::Failed(e.to_string()))),
            }
        });
    }
}

/// The next step's button: asks before retiring, takes the step, then reads the standing again.
fn stepper(
    ctx: StepContext,
    confirm: UseStateHandle<bool>,
    new_name: String,
) -> Callback<MouseEvent> {
    Callback::from(move |_: MouseEvent| {
        let Some((oi, ni, r, _)) = (*ctx.standing).clone() else {
            return;
        };
        if r.stage.needs_confirmation() && !*confirm {
            confirm.set(true);
            return ctx.busy(RETIRE_CONFIRM.into());
        }
        confirm.set(false);
        let (ctx, new_name) = (ctx.clone(), new_name.clone());
        yew::platform::spawn_local(async move {
            let s = crate::app::hub::ready(&ctx.settings).await;
            let (old_ca, new_ca) = (ctx.cas[oi].0.clone(), ctx.cas[ni].0.clone());
            // The page's devices as they will be once what is re-issued here is listed.
            let mut devices_now: Vec<Rc<Issued>> = ctx.devices.to_vec();
            let result = match r.nothing_to_do() {
                Some(m) => Ok(m),
                None => take_step(&ctx, &s, &r, &new_ca, &new_name, &mut devices_now).await,
            };
            let m = match result {
                Ok(m) => m,
                Err(e) => return ctx.outcome.set(Some(Outcome::Failed(e))),
            };
            let (old, new) = (old_ca.0.certificate(), new_ca.0.certificate());
            match read_standing(&s, old, new, &devices_now).await {
                Ok((r, note)) => {
                    ctx.standing.set(Some((oi, ni, r, note)));
                    ctx.outcome.set(Some(Outcome::Done(m)));
                }
                Err(e) => ctx.outcome.set(Some(Outcome::Failed(format!(
                    "{m} Reading it again failed: {e}"
                )))),
            }
        });
    })
}

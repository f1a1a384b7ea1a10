//! Devices renewed on the page, rolled over on the hub one step per press.

use super::*;
use crate::app::command::Command;
use crate::app::fetch::client;
use crate::app::outcome::{outcome_view, Outcome};
use crate::iothub::{az_rollover, renewed_devices, Renewal, RenewedDevice, RolloverTally};

#[derive(Properties, PartialEq)]
pub(super) struct RenewOnHubProps {
    pub(super) devices: Rc<Vec<Rc<Issued>>>,
    pub(super) settings: UseReducerHandle<HubSettings>,
}

type RollRows = UseStateHandle<Vec<(String, Result<String, String>)>>;

#[component]
pub(super) fn RenewOnHub(props: &RenewOnHubProps) -> Html {
    let roll = use_state(|| None::<Outcome>);
    let roll_rows: RollRows = use_state(Vec::new);
    let infos: Vec<&crate::pki::CertificateInfo> = props.devices.iter().map(|d| &d.info).collect();
    let rollover = Rc::new(renewed_devices(&infos));
    let on_roll = {
        let (settings, roll, roll_rows, rollover) = (
            props.settings.clone(),
            roll.clone(),
            roll_rows.clone(),
            rollover.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            yew::platform::spawn_local(roll_over(
                settings.clone(),
                rollover.clone(),
                roll.clone(),
                roll_rows.clone(),
            ));
        })
    };
    let roll_busy = matches!(&*roll, Some(Outcome::Busy(_)));
    html! {
        <div class="card form" id="renew-hub">
            <h3>{"On the hub"}</h3>
            <ul class="hint" id="renew-paths">
                <li>{Renewal::Nothing.describe()}</li>
                <li>{Renewal::Thumbprints.describe()}{" Each press reads the hub first (safe to repeat, resumes after a reload); both certificates connect in between."}</li>
                <li id="renew-dps">{Renewal::ProvisionAgain.describe()}{" The provisioning test (DPS) does it from this browser once the renewed .pfx is imported."}</li>
            </ul>
            if rollover.is_empty() {
                <p class="hint" id="renew-roll-none">{"Devices with a renewed certificate on this page are listed here."}</p>
            } else {
                <p>{format!("Renewed on this page: {}.", rollover.iter().map(|d| d.device_id.as_str()).collect::<Vec<_>>().join(", "))}</p>
            }
            <div class="actions">
                <button type="button" class="secondary" id="renew-roll" onclick={on_roll} disabled={roll_busy || rollover.is_empty()}>{"Roll over on the hub (next step)"}</button>
            </div>
            { outcome_view(&roll, "renew-roll-status") }
            if !roll_rows.is_empty() {
                <ul class="results" id="renew-roll-results">
                    { for roll_rows.iter().map(|(id, r)| html! {
                        <li class={classes!(if r.is_ok() { "ok" } else { "bad" })}>
                            <code>{id}</code>{" — "}{ match r { Ok(m) | Err(m) => m.clone() } }
                        </li>
                    }) }
                </ul>
            }
            if !rollover.is_empty() {
                <Command title="The same with the Azure CLI (one update per step; read the current primary with device-identity show)" command={az_rollover(&props.settings.az(), &rollover, 5)} />
            }
        </div>
    }
}

/// One press: the next step of each renewed thumbprint device, read from the hub first.
async fn roll_over(
    settings: UseReducerHandle<HubSettings>,
    rollover: Rc<Vec<RenewedDevice>>,
    roll: UseStateHandle<Option<Outcome>>,
    roll_rows: RollRows,
) {
    let s = crate::app::hub::ready(&settings).await;
    let registry = match s.registry() {
        Ok(r) => r,
        Err(e) => return roll.set(Some(Outcome::Failed(e.to_string()))),
    };
    let hub = client(&s);
    let total = rollover.len();
    let mut rows = Vec::with_capacity(total);
    let mut failed = 0;
    for (i, d) in rollover.iter().enumerate() {
        let id = &d.device_id;
        roll.set(Some(Outcome::Busy(format!(
            "Rolling over {} of {total}: {id}…",
            i + 1
        ))));
        let now = browser::now().unix_timestamp().max(0) as u64;
        let result = match DeviceId::parse(id) {
            Err(e) => Err(e.to_string()),
            Ok(device) => hub
                .roll_thumbprint(&registry, &device, &d.sha1, &d.sha256, now)
                .await
                .map(|(_, step)| step.describe().to_owned())
                .map_err(|e| e.to_string()),
        };
        failed += usize::from(result.is_err());
        rows.push((id.clone(), result));
        roll_rows.set(rows.clone());
    }
    let tally = RolloverTally { total, failed };
    roll.set(Some(if tally.ok() {
        Outcome::Done(tally.line())
    } else {
        Outcome::Failed(tally.line())
    }));
}

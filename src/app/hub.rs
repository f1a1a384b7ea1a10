//! The hub steps: connection settings, CA upload with proof of possession, device registration.
//! Each step shows the az command that does the same by hand. One file per step; this one holds
//! what they share.

mod ca;
mod devices;
mod settings_step;

pub(crate) use ca::HubCaStep;
pub(crate) use devices::HubDeviceStep;
pub(crate) use settings_step::HubSettingsStep;

use std::rc::Rc;

use yew::prelude::*;

use super::browser;
use super::command::Command;
pub(crate) use super::fetch::client;
use super::fetch::localhub_info;
use super::field::{textarea_setter, Field};
use super::outcome::{outcome_view, Outcome};
use super::settings::{HubSettings, Profile, Target, RELAY_ENDPOINT};
use super::state::{Issued, SharedCa};
use crate::contract::{hub_host_name, DeviceId, VerificationCode};
use crate::iothub::PossessionStage;
use crate::iothub::{certificate_name, HubCertificate, RestError};
use crate::iothub::{AZ_ARM_TOKEN, AZ_REGISTRY_TOKEN};
use crate::pki::Certificate;

/// A change to the settings.
pub(crate) enum SettingsAction {
    Target(Target),
    Edit(fn(&mut Profile, String), String),
    /// What localhub said about itself: hub name and connection string.
    FromLocalhub(String, String),
    /// What localhub said about its DPS: connection string, ID scope, name.
    DpsFromLocalhub(String, String, String),
    /// Settings opened from a saved workspace.
    Replace(Box<HubSettings>),
}

impl Reducible for HubSettings {
    type Action = SettingsAction;

    fn reduce(self: Rc<Self>, action: SettingsAction) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            SettingsAction::Target(t) => next.target = t,
            SettingsAction::Edit(f, v) => f(next.profile_mut(), v),
            SettingsAction::Replace(s) => next = *s,
            SettingsAction::DpsFromLocalhub(cs, scope, name) => {
                next.localhub.dps_connection_string = cs;
                next.localhub.dps_id_scope = scope;
                next.localhub.dps_name = name;
            }
            SettingsAction::FromLocalhub(hub, cs) => {
                if !hub.is_empty() {
                    next.localhub.hub = hub;
                }
                next.localhub.connection_string = cs;
            }
        }
        Rc::new(next)
    }
}

/// The settings ready for a hub call. For localhub with no connection string yet, localhub is
/// asked for its settings first (and the page keeps them): the page asks localhub nothing until
/// a hub step is used, so a hosted copy makes no request outside its origin on its own. If
/// localhub does not answer, the settings are returned as they are and the call that follows
/// says what is missing.
pub(crate) async fn ready(settings: &UseReducerHandle<HubSettings>) -> HubSettings {
    let s = (**settings).clone();
    let wants_hub = s.localhub.connection_string.trim().is_empty();
    let wants_dps = s.localhub.dps_connection_string.trim().is_empty();
    if !s.is_localhub() || !(wants_hub || wants_dps) {
        return s;
    }
    match localhub_info(&s.localhub.registry_endpoint).await {
        Ok(info) => {
            let mut next = s;
            if wants_hub {
                if !info.hub_name.is_empty() {
                    next.localhub.hub = info.hub_name;
                }
                next.localhub.connection_string = info.connection_string;
            }
            if wants_dps && !info.id_scope.is_empty() {
                // The same localhub answers as DPS.
                next.localhub.dps_endpoint = next.localhub.registry_endpoint.clone();
                next.localhub.dps_connection_string = info.dps_connection_string;
                next.localhub.dps_id_scope = info.id_scope;
                next.localhub.dps_name = info.dps_name;
            }
            settings.dispatch(SettingsAction::Replace(Box::new(next.clone())));
            next
        }
        Err(_) => s,
    }
}

/// What the hub and DPS trust: the hub's CA certificates, DPS's and its enrollment groups. DPS
/// is optional: when it is not set up or does not answer, its lists are empty and the note says
/// why.
pub(crate) struct Trust {
    pub(crate) hub: Vec<HubCertificate>,
    pub(crate) dps: Vec<HubCertificate>,
    pub(crate) groups: Vec<crate::contract::EnrollmentGroup>,
    pub(crate) dps_note: Option<String>,
}

/// Reads [`Trust`] with `s`.
pub(crate) async fn read_trust(s: &HubSettings) -> Result<Trust, RestError> {
    let hub = client(s);
    let now = browser::now().unix_timestamp().max(0) as u64;
    let on_hub = hub.certificates(&s.arm()?).await?;
    let (dps, groups, dps_note) = match (s.dps_service(), s.dps_arm()) {
        (Ok(svc), Ok(arm)) => match (
            hub.certificates(&arm).await,
            hub.enrollment_groups(&svc, now).await,
        ) {
            (Ok(c), Ok(g)) => (c, g, None),
            (Err(e), _) | (_, Err(e)) => (vec![], vec![], Some(format!("DPS was not read: {e}"))),
        },
        _ => (
            vec![],
            vec![],
            Some("DPS was not read: its settings are not filled in (step 7).".into()),
        ),
    };
    Ok(Trust {
        hub: on_hub,
        dps,
        groups,
        dps_note,
    })
}

/// What the hub and DPS hold of some devices: the hub's records (how each is registered) and
/// the registration ids DPS reports assigned (DPS devices are thumbprint devices in the hub:
/// `iothub::HubPath`). At most [`PATHS_READ`] devices are read; `None` for DPS when it was not
/// read.
pub(crate) struct Paths {
    pub(crate) hub: Vec<crate::iothub::HubDevice>,
    pub(crate) dps_assigned: Option<Vec<String>>,
}

/// How many devices [`read_paths`] reads (two calls each).
pub(crate) const PATHS_READ: usize = 200;

/// Reads [`Paths`] for `ids` with `s`; a device the hub does not hold, or DPS never registered,
/// is left out.
pub(crate) async fn read_paths(s: &HubSettings, ids: &[String]) -> Paths {
    let hub = client(s);
    let now = browser::now().unix_timestamp().max(0) as u64;
    let mut paths = Paths {
        hub: Vec::new(),
        dps_assigned: None,
    };
    let svc = s.dps_service().ok();
    if svc.is_some() {
        paths.dps_assigned = Some(Vec::new());
    }
    for id in ids.iter().take(PATHS_READ) {
        if let (Ok(registry), Ok(device_id)) = (s.registry(), crate::contract::DeviceId::parse(id))
        {
            if let Ok(d) = hub.device(&registry, &device_id, now).await {
                paths.hub.push(d);
            }
        }
        if let (Some(svc), Some(assigned)) = (&svc, paths.dps_assigned.as_mut()) {
            if let Ok(state) = hub.registration_state(svc, id, now).await {
                if state.status == Some(crate::contract::RegistrationStatus::Assigned) {
                    assigned.push(id.clone());
                }
            }
        }
    }
    paths
}

/// The page's device certificates with their device ids, newest first.
pub(crate) fn page_devices(devices: &[Rc<Issued>]) -> Vec<(String, Certificate)> {
    devices
        .iter()
        .filter_map(|d| {
            let id = d.device_id.as_ref()?;
            Some((id.as_str().to_owned(), d.certificate.clone()))
        })
        .collect()
}

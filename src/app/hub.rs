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
use super::fetch::{localhub_info, Fetch};
use super::field::{textarea_setter, Field};
use super::outcome::{outcome_view, Outcome};
use super::settings::{HubSettings, Profile, Target, RELAY_ENDPOINT};
use super::state::{Issued, SharedCa};
use super::steps::issued;
use crate::contract::{hub_host_name, AuthKind, DeviceId, VerificationCode};
use crate::iothub::{certificate_name, DeviceAuth, HubCertificate, HubDevice, RestError};
use crate::iothub::{HubClient, PossessionStage};
use crate::iothub::{AZ_ARM_TOKEN, AZ_REGISTRY_TOKEN};
use crate::pki::{Certificate, ValidityDays, VerificationCertParams};

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

pub(crate) fn client(settings: &HubSettings) -> HubClient<Fetch> {
    HubClient::new(Fetch, settings.is_localhub())
}

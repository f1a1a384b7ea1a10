//! Where the hub steps send their calls, per target, and how the settings may be kept.

use serde_json::{json, Value};

use crate::contract::{hub_host_name, Redacted};
use crate::iothub::{Arm, Registry, RestError, ServiceAuth, AZURE_ARM_ENDPOINT};
use crate::iothub::{AzDps, AzHub, DpsService, DPS_DOMAIN};

/// localhub's REST address when started by `./scripts/run.sh`.
pub(crate) const LOCALHUB_ENDPOINT: &str = "http://127.0.0.1:8081";
/// The relay's default address (`localhub relay`).
pub(crate) const RELAY_ENDPOINT: &str = "http://127.0.0.1:8090";
/// Where earlier versions kept settings in clear when asked to ("Remember for this tab"); removed
/// on load, since secrets are now kept only in an encrypted workspace.
const OLD_STORAGE_KEY: &str = "hubcert.hub-settings";

/// Which IoT Hub the steps talk to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    Localhub,
    Azure,
}

/// The settings of one target. Switching targets keeps both, so nothing typed is lost.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Profile {
    pub(crate) arm_endpoint: String,
    pub(crate) subscription: String,
    pub(crate) resource_group: String,
    pub(crate) hub: String,
    pub(crate) arm_token: String,
    /// Where device calls go: localhub, the relay, or empty for the hub itself.
    pub(crate) registry_endpoint: String,
    pub(crate) connection_string: String,
    /// Where DPS service calls go: localhub, or the relay (`localhub relay --dps NAME`).
    pub(crate) dps_endpoint: String,
    /// The DPS's `provisioningserviceowner` connection string.
    pub(crate) dps_connection_string: String,
    pub(crate) dps_id_scope: String,
    /// The DPS's name in ARM paths; empty: the first label of the connection string's host.
    pub(crate) dps_name: String,
}

impl std::fmt::Debug for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Profile")
            .field("arm_endpoint", &self.arm_endpoint)
            .field("subscription", &self.subscription)
            .field("resource_group", &self.resource_group)
            .field("hub", &self.hub)
            .field("arm_token", &Redacted(&self.arm_token))
            .field("registry_endpoint", &self.registry_endpoint)
            .field("connection_string", &Redacted(&self.connection_string))
            .field("dps_endpoint", &self.dps_endpoint)
            .field(
                "dps_connection_string",
                &Redacted(&self.dps_connection_string),
            )
            .field("dps_id_scope", &self.dps_id_scope)
            .field("dps_name", &self.dps_name)
            .finish()
    }
}

impl Profile {
    fn localhub() -> Self {
        Self {
            arm_endpoint: LOCALHUB_ENDPOINT.into(),
            subscription: "00000000-0000-0000-0000-000000000000".into(),
            resource_group: "localhub-rg".into(),
            hub: "localhub".into(),
            arm_token: "localhub-accepts-any-token".into(),
            registry_endpoint: LOCALHUB_ENDPOINT.into(),
            connection_string: String::new(),
            dps_endpoint: LOCALHUB_ENDPOINT.into(),
            dps_connection_string: String::new(),
            dps_id_scope: String::new(),
            dps_name: String::new(),
        }
    }

    fn azure() -> Self {
        Self {
            arm_endpoint: AZURE_ARM_ENDPOINT.into(),
            subscription: String::new(),
            resource_group: String::new(),
            hub: String::new(),
            arm_token: String::new(),
            registry_endpoint: RELAY_ENDPOINT.into(),
            connection_string: String::new(),
            dps_endpoint: RELAY_ENDPOINT.into(),
            dps_connection_string: String::new(),
            dps_id_scope: String::new(),
            dps_name: String::new(),
        }
    }
}

/// All hub settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HubSettings {
    pub(crate) target: Target,
    pub(crate) localhub: Profile,
    pub(crate) azure: Profile,
}

impl Default for HubSettings {
    fn default() -> Self {
        Self {
            target: Target::Localhub,
            localhub: Profile::localhub(),
            azure: Profile::azure(),
        }
    }
}

impl HubSettings {
    pub(crate) fn profile(&self) -> &Profile {
        match self.target {
            Target::Localhub => &self.localhub,
            Target::Azure => &self.azure,
        }
    }

    pub(crate) fn profile_mut(&mut self) -> &mut Profile {
        match self.target {
            Target::Localhub => &mut self.localhub,
            Target::Azure => &mut self.azure,
        }
    }

    pub(crate) fn is_localhub(&self) -> bool {
        self.target == Target::Localhub
    }

    /// The CA certificate calls, or what is wrong with the settings.
    pub(crate) fn arm(&self) -> Result<Arm, RestError> {
        let p = self.profile();
        Arm::new(
            &p.arm_endpoint,
            &p.subscription,
            &p.resource_group,
            &p.hub,
            &p.arm_token,
        )
    }

    /// The device calls, or what is wrong with the settings. A connection string or, in its
    /// place, `Bearer <Entra token>` with `HostName=` given in the hub name field is accepted.
    pub(crate) fn registry(&self) -> Result<Registry, RestError> {
        let p = self.profile();
        let cs = p.connection_string.trim();
        match cs.strip_prefix("Bearer ") {
            Some(token) => Registry::new(
                &p.registry_endpoint,
                &hub_host_name(&p.hub),
                ServiceAuth::Bearer(token.trim().to_owned()),
            ),
            None => Registry::from_connection_string(&p.registry_endpoint, cs),
        }
    }

    /// The DPS service calls, or what is wrong with the settings.
    pub(crate) fn dps_service(&self) -> Result<DpsService, RestError> {
        let p = self.profile();
        DpsService::from_connection_string(&p.dps_endpoint, &p.dps_connection_string)
    }

    /// The DPS's name in ARM paths: as typed, else the first label of the connection string's
    /// host (empty when neither is known).
    pub(crate) fn dps_arm_name(&self) -> String {
        let p = self.profile();
        match (p.dps_name.trim(), self.dps_service()) {
            ("", Ok(s)) => s
                .host_name()
                .strip_suffix(DPS_DOMAIN)
                .unwrap_or_default()
                .to_owned(),
            (t, _) => t.to_owned(),
        }
    }

    /// The DPS's CA certificate calls (ARM, with the hub's subscription, group and token).
    pub(crate) fn dps_arm(&self) -> Result<Arm, RestError> {
        let p = self.profile();
        let name = self.dps_arm_name();
        Arm::dps(
            &p.arm_endpoint,
            &p.subscription,
            &p.resource_group,
            if name.is_empty() { "DPS" } else { &name },
            &p.arm_token,
        )
    }

    /// The az CLI's view of the same DPS.
    pub(crate) fn az_dps(&self) -> AzDps {
        AzDps {
            dps: self.dps_arm_name(),
            resource_group: if self.is_localhub() {
                String::new()
            } else {
                self.profile().resource_group.clone()
            },
        }
    }

    /// The az CLI's view of the same hub.
    pub(crate) fn az(&self) -> AzHub {
        let p = self.profile();
        AzHub {
            hub: p.hub.clone(),
            resource_group: if self.is_localhub() {
                String::new()
            } else {
                p.resource_group.clone()
            },
        }
    }

    pub(crate) fn to_json(&self) -> Value {
        let profile = |p: &Profile| {
            json!({
                "armEndpoint": p.arm_endpoint, "subscription": p.subscription,
                "resourceGroup": p.resource_group, "hub": p.hub, "armToken": p.arm_token,
                "registryEndpoint": p.registry_endpoint, "connectionString": p.connection_string,
                "dpsEndpoint": p.dps_endpoint, "dpsConnectionString": p.dps_connection_string,
                "dpsIdScope": p.dps_id_scope, "dpsName": p.dps_name,
            })
        };
        json!({
            "target": if self.is_localhub() { "localhub" } else { "azure" },
            "localhub": profile(&self.localhub),
            "azure": profile(&self.azure),
        })
    }

    pub(crate) fn from_json(v: &Value) -> Self {
        let mut s = Self::default();
        if v.get("target").and_then(Value::as_str) == Some("azure") {
            s.target = Target::Azure;
        }
        for (key, p) in [("localhub", &mut s.localhub), ("azure", &mut s.azure)] {
            let Some(o) = v.get(key) else { continue };
            let read = |name: &str, into: &mut String| {
                if let Some(x) = o.get(name).and_then(Value::as_str) {
                    *into = x.to_owned();
                }
            };
            read("armEndpoint", &mut p.arm_endpoint);
            read("subscription", &mut p.subscription);
            read("resourceGroup", &mut p.resource_group);
            read("hub", &mut p.hub);
            read("armToken", &mut p.arm_token);
            read("registryEndpoint", &mut p.registry_endpoint);
            read("connectionString", &mut p.connection_string);
            read("dpsEndpoint", &mut p.dps_endpoint);
            read("dpsConnectionString", &mut p.dps_connection_string);
            read("dpsIdScope", &mut p.dps_id_scope);
            read("dpsName", &mut p.dps_name);
        }
        s
    }

    /// Removes settings an earlier version kept in clear in this tab's sessionStorage.
    pub(crate) fn forget_stored() {
        if let Some(storage) = session_storage() {
            let _ = storage.remove_item(OLD_STORAGE_KEY);
        }
    }
}

fn session_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn a_profile_never_prints_its_token_or_connection_string() {
        let p = Profile {
            arm_token: "eyJ0eXAiOiJKV1QifQ.secret-token".into(),
            connection_string:
                "HostName=h;SharedAccessKeyName=iothubowner;SharedAccessKey=c2VjcmV0".into(),
            dps_connection_string:
                "HostName=d;SharedAccessKeyName=provisioningserviceowner;SharedAccessKey=ZHBzLXNlY3JldA=="
                    .into(),
            ..Profile::localhub()
        };
        let debug = format!("{p:?}");
        assert!(
            !debug.contains("secret-token")
                && !debug.contains("c2VjcmV0")
                && !debug.contains("ZHBzLXNlY3JldA"),
            "{debug}"
        );
        assert!(debug.contains("redacted"), "{debug}");
    }
}

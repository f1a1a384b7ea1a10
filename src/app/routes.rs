//! One route per task, read from one table: the navigation, the headings of the home page and
//! the tests use it. Hash routes (`#/devices`), so a static host needs no rewrite rules; back,
//! forward and reload keep the place, and a link to a route works on a first visit.

use yew::prelude::*;

/// A place of the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    Home,
    RootCa,
    Connect,
    Upload,
    Devices,
    Register,
    Test,
    Dps,
    Inspect,
    Decode,
    Expiry,
    Renew,
    Rollover,
    Revoke,
    Workspace,
}

/// A route's row of the table.
pub(crate) struct Place {
    pub(crate) route: Route,
    /// In the address: `#/{id}`.
    pub(crate) id: &'static str,
    /// In the navigation and on the home page.
    pub(crate) title: &'static str,
    /// Its number in the guided path of the seed guide; `None` for a tool.
    pub(crate) step: Option<u8>,
    /// What it is for, in a line (the home page's list of tools).
    pub(crate) what: &'static str,
    /// The ids of the page's sections it shows.
    pub(crate) sections: &'static [&'static str],
    /// The module a deep link to it loads first (index.html's loader, written by
    /// scripts/csp.py from this table), before the whole app takes the page over.
    pub(crate) module: Module,
}

/// The page's modules that draw routes before the whole app is there, each small enough to be
/// working within 2.5 s on a slow link (tests/site/routes.js measures it). A route module is the
/// whole app's [`super::App`] built with the `route-<id>` features of its routes (bin
/// `hubcert-<module>`, index.html); a route of another module shows as loading there until the
/// whole app takes the page over. index.html's loader reads this table (scripts/csp.py).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Module {
    /// The first module (bin `hubcert`, [`super::first`]): the home page (the site's own
    /// address; the unlock of a kept workspace is the whole app's: it reads every key and
    /// certificate the workspace holds, of any kind) and steps 1 to 4 with P-256 keys.
    First,
    /// Connecting to the hub, registering devices, the error decoder.
    Hub,
    /// The CA on the hub and its proof of possession.
    Upload,
    /// The device test over MQTT over WebSockets.
    Test,
    /// The workspace: keeping, opening and locking it (with RSA: a kept workspace may hold RSA
    /// keys).
    Keep,
    /// Expiry and revocation.
    Care,
    /// Renewal.
    Renew,
    /// CA rollover.
    Rollover,
    /// DPS: enrollments and the provisioning test.
    Dps,
    /// The inspector (with RSA: it reads any certificate, key or bundle).
    Inspect,
}

/// Every route, the guided path first, in its order.
pub(crate) const PLACES: &[Place] = &[
    Place {
        route: Route::Home,
        id: "",
        title: "Home",
        step: None,
        what: "What this workspace holds and what needs doing.",
        sections: &["home"],
        module: Module::First,
    },
    Place {
        route: Route::RootCa,
        id: "root-ca",
        title: "Root CA",
        step: Some(1),
        what: "Create or import the CA that signs the devices, and intermediates.",
        sections: &["step-ca", "step-intermediate"],
        module: Module::First,
    },
    Place {
        route: Route::Connect,
        id: "connect",
        title: "Connect",
        step: Some(2),
        what: "The hub (and DPS) to work with: localhub or Azure.",
        sections: &["step-hub"],
        module: Module::Hub,
    },
    Place {
        route: Route::Upload,
        id: "upload",
        title: "Upload & verify",
        step: Some(3),
        what: "The CA on the hub, with proof of possession.",
        sections: &["step-upload", "step-verify"],
        module: Module::Upload,
    },
    Place {
        route: Route::Devices,
        id: "devices",
        title: "Device certificates",
        step: Some(4),
        what: "One device, a batch, or a device's own CSR.",
        sections: &["step-device"],
        module: Module::First,
    },
    Place {
        route: Route::Register,
        id: "register",
        title: "Register",
        step: Some(5),
        what: "Device identities in the hub: CA-signed or by thumbprint.",
        sections: &["step-register"],
        module: Module::Hub,
    },
    Place {
        route: Route::Test,
        id: "test",
        title: "Test a device",
        step: Some(6),
        what: "This browser as the device, over MQTT over WebSockets.",
        sections: &["step-device-test"],
        module: Module::Test,
    },
    Place {
        route: Route::Dps,
        id: "dps",
        title: "DPS",
        step: None,
        what: "Enrollment groups, individual enrollments, the provisioning test.",
        sections: &["step-dps"],
        module: Module::Dps,
    },
    Place {
        route: Route::Inspect,
        id: "inspect",
        title: "Inspect",
        step: None,
        what: "Any certificate, chain, CSR, key or .pfx, checked as IoT Hub would.",
        sections: &["step-inspect"],
        module: Module::Inspect,
    },
    Place {
        route: Route::Decode,
        id: "decode",
        title: "Decode an error",
        step: None,
        what: "What an IoT Hub or SDK error means, and the fix.",
        sections: &["step-decode"],
        module: Module::Hub,
    },
    Place {
        route: Route::Expiry,
        id: "expiry",
        title: "Expiry",
        step: None,
        what: "Every certificate by expiry, and where each device is registered.",
        sections: &["step-expiry"],
        module: Module::Care,
    },
    Place {
        route: Route::Renew,
        id: "renew",
        title: "Renew",
        step: None,
        what: "The devices due, issued again; thumbprints rolled on the hub.",
        sections: &["step-renew"],
        module: Module::Renew,
    },
    Place {
        route: Route::Rollover,
        id: "rollover",
        title: "Roll over",
        step: None,
        what: "A fleet moved to a new CA with no refused connection.",
        sections: &["step-rollover"],
        module: Module::Rollover,
    },
    Place {
        route: Route::Revoke,
        id: "revoke",
        title: "Revoke",
        step: None,
        what: "What revoking a CA takes down, then done.",
        sections: &["step-revoke"],
        module: Module::Care,
    },
    Place {
        route: Route::Workspace,
        id: "workspace",
        title: "Keep",
        step: None,
        what: "The encrypted workspace: save, open, keep in this browser, lock.",
        sections: &["step-workspace"],
        module: Module::Keep,
    },
];

impl Route {
    /// Its row of the table.
    pub(crate) const fn place(self) -> &'static Place {
        // The table is in the enum's order (a test says so): a constant route's row is a
        // constant, so a module built without a route's feature leaves its code out.
        &PLACES[self as usize]
    }

    /// Whether this build of the app draws the route itself (the whole app draws every route;
    /// a route module only its own, [`Module`]).
    pub(crate) const fn drawn_here(self) -> bool {
        if cfg!(feature = "full") {
            return true;
        }
        // The first module's routes are drawn by its own page (`super::first::FirstApp`).
        if matches!(self.place().module, Module::First) {
            return false;
        }
        match self {
            Route::Home | Route::RootCa | Route::Devices => false,
            Route::Connect => cfg!(feature = "route-connect"),
            Route::Upload => cfg!(feature = "route-upload"),
            Route::Register => cfg!(feature = "route-register"),
            Route::Test => cfg!(feature = "route-test"),
            Route::Dps => cfg!(feature = "route-dps"),
            Route::Inspect => cfg!(feature = "route-inspect"),
            Route::Decode => cfg!(feature = "route-decode"),
            Route::Expiry => cfg!(feature = "route-expiry"),
            Route::Renew => cfg!(feature = "route-renew"),
            Route::Rollover => cfg!(feature = "route-rollover"),
            Route::Revoke => cfg!(feature = "route-revoke"),
            Route::Workspace => cfg!(feature = "route-workspace"),
        }
    }

    /// The route an address's fragment names (`#/devices`, `#devices`, `#/devices/`); the home
    /// page for none, or for one it does not know.
    pub(crate) fn from_hash(hash: &str) -> Self {
        let id = hash.trim_start_matches('#').trim_matches('/');
        PLACES
            .iter()
            .find(|p| p.id == id)
            .map(|p| p.route)
            .unwrap_or(Route::Home)
    }

    /// The route that shows the section with this id.
    pub(crate) fn of_section(id: &str) -> Option<Self> {
        PLACES
            .iter()
            .find(|p| p.sections.contains(&id))
            .map(|p| p.route)
    }

    /// The route showing the element with this id (in whichever module's page holds it now).
    pub(crate) fn of_element(id: &str) -> Option<Self> {
        let e = web_sys::window()?.document()?.get_element_by_id(id)?;
        let section = e.closest("section.step").ok()??;
        Self::of_section(&section.id())
    }

    /// Its address fragment.
    pub(crate) fn hash(self) -> String {
        format!("#/{}", self.place().id)
    }

    /// The guided path's step before and after this one.
    pub(crate) fn neighbours(self) -> (Option<Route>, Option<Route>) {
        let Some(n) = self.place().step else {
            return (None, None);
        };
        let at = |k: u8| PLACES.iter().find(|p| p.step == Some(k)).map(|p| p.route);
        (n.checked_sub(1).and_then(at), at(n + 1))
    }
}

/// The route in the address, kept as the address changes (links, back, forward). `start`, where
/// the user was in the module that handed the page over (the field in focus, the part opened: the
/// first module shows steps 1 to 4 on one page, so its address may name another of them), is
/// taken first and written into the address, in place of the history entry, so a reload comes
/// back to it.
#[hook]
pub(crate) fn use_route(start: Option<Route>) -> Route {
    let read = || {
        web_sys::window()
            .and_then(|w| w.location().hash().ok())
            .map(|h| Route::from_hash(&h))
            .unwrap_or(Route::Home)
    };
    let route = use_state(move || match start {
        Some(r) => {
            if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
                let _ = history.replace_state_with_url(
                    &wasm_bindgen::JsValue::NULL,
                    "",
                    Some(&r.hash()),
                );
            }
            r
        }
        _ => read(),
    });
    {
        let route = route.clone();
        use_effect_with((), move |()| {
            let listener = web_sys::window().map(|w| {
                gloo::events::EventListener::new(&w, "hashchange", move |_| {
                    route.set(read());
                    if let Some(w) = web_sys::window() {
                        w.scroll_to_with_x_and_y(0.0, 0.0);
                    }
                })
            });
            move || drop(listener)
        });
    }
    *route
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn every_route_has_one_address_and_the_guided_path_is_in_order() {
        for (i, p) in PLACES.iter().enumerate() {
            assert_eq!(
                p.route as usize, i,
                "the table is in the enum's order: {}",
                p.id
            );
            assert_eq!(p.route.place().id, p.id);
        }
        for p in PLACES {
            assert_eq!(Route::from_hash(&p.route.hash()), p.route, "{}", p.id);
        }
        assert_eq!(Route::from_hash(""), Route::Home);
        assert_eq!(Route::from_hash("#/nowhere"), Route::Home);
        assert_eq!(Route::from_hash("#devices/"), Route::Devices);
        let steps: Vec<u8> = PLACES.iter().filter_map(|p| p.step).collect();
        assert_eq!(steps, [1, 2, 3, 4, 5, 6]);
        assert_eq!(Route::RootCa.neighbours(), (None, Some(Route::Connect)));
        assert_eq!(
            Route::Devices.neighbours(),
            (Some(Route::Upload), Some(Route::Register))
        );
        assert_eq!(Route::Test.neighbours(), (Some(Route::Register), None));
        assert_eq!(Route::Dps.neighbours(), (None, None));
        assert_eq!(Route::of_section("step-verify"), Some(Route::Upload));
        assert_eq!(Route::of_section("step-nothing"), None);
    }
}

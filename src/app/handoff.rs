//! From the page's first module to the whole app.
//!
//! The page opens with a small module (bin `hubcert`, this crate built without its `full`
//! feature: steps 1 to 4 with ECDSA P-256 keys, [`super::first`]) and, once its first screen
//! works, loads the whole app (bin `hubcert-full`) in the background and hands the page over to
//! it. The two are separate WebAssembly instances with separate memories: what passes between them
//! is a [`Handoff`] as JSON, in this page's memory only. It holds the page's CAs and devices as a
//! workspace document (the one the encrypted workspace seals), the verification certificate, what
//! the user typed into the forms, where the focus and the scroll were, and which part they opened
//! that made the page bring in the rest.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use wasm_bindgen::JsCast;

use super::state::{Issued, Workbench};
use crate::pki::Certificate;

/// The element the first module draws into; the whole app removes it when it has drawn.
pub(crate) const FIRST_ROOT: &str = "app-first";

pub(crate) use crate::pki::{Handoff, HandoffFocus as Focus};

/// What the whole app starts from when the first module handed it the page.
pub(crate) struct FromFirst {
    pub(crate) restored: Option<super::steps::Restored>,
    pub(crate) verification: Option<Rc<Issued>>,
    pub(crate) focus: Option<Focus>,
    pub(crate) scroll_y: f64,
    pub(crate) open: Option<String>,
}

thread_local! {
    static FROM_FIRST: RefCell<Option<FromFirst>> = const { RefCell::new(None) };
}

impl FromFirst {
    /// The route showing where the user was in the first module: the field in focus, else the
    /// part opened.
    pub(crate) fn route(&self) -> Option<super::routes::Route> {
        self.focus
            .as_ref()
            .and_then(|f| super::routes::Route::of_element(&f.id))
            .or_else(|| {
                self.open
                    .as_deref()
                    .and_then(super::routes::Route::of_element)
            })
    }
}

/// What the whole app starts from, once (the first mount after a handoff).
pub(crate) fn take_from_first() -> Option<FromFirst> {
    FROM_FIRST.with(|f| f.borrow_mut().take())
}

impl Handoff {
    /// The page as the first module holds it, with the forms' contents read from `root`.
    pub(crate) fn of_page(
        bench: &Workbench,
        settings: &super::settings::HubSettings,
        root: &web_sys::Element,
        open: Option<String>,
    ) -> Result<Self, String> {
        let workspace = super::steps::workspace_of(bench, settings).map_err(|e| e.to_string())?;
        let carry = !bench.cas.is_empty()
            || !bench.devices.is_empty()
            || *settings != super::settings::HubSettings::default();
        let mut drafts = BTreeMap::new();
        let fields = root
            .query_selector_all("input[id], select[id], textarea[id]")
            .map_err(|_| "the page's fields could not be read".to_owned())?;
        for i in 0..fields.length() {
            let Some(node) = fields.item(i) else { continue };
            if let Some(input) = node.dyn_ref::<web_sys::HtmlInputElement>() {
                // Files cannot be carried over; passwords are not copied around.
                if !matches!(input.type_().as_str(), "file" | "password") {
                    drafts.insert(input.id(), input.value());
                }
            } else if let Some(select) = node.dyn_ref::<web_sys::HtmlSelectElement>() {
                drafts.insert(select.id(), select.value());
            } else if let Some(area) = node.dyn_ref::<web_sys::HtmlTextAreaElement>() {
                drafts.insert(area.id(), area.value());
            }
        }
        let window = web_sys::window();
        let focus = window
            .as_ref()
            .and_then(|w| w.document())
            .and_then(|d| d.active_element())
            .filter(|e| !e.id().is_empty() && root.contains(Some(e)))
            .map(|e| {
                let selection = e.dyn_ref::<web_sys::HtmlInputElement>().map(|i| {
                    (
                        i.selection_start().ok().flatten(),
                        i.selection_end().ok().flatten(),
                    )
                });
                let (start, end) = selection.unwrap_or_default();
                Focus {
                    id: e.id(),
                    start,
                    end,
                }
            });
        Ok(Self {
            workspace: carry.then_some(workspace),
            verification: bench.verification.as_ref().map(|v| v.certificate.pem()),
            drafts,
            focus,
            scroll_y: window.and_then(|w| w.scroll_y().ok()).unwrap_or(0.0),
            open,
        })
    }

    /// Makes this what the next mount of [`super::App`] starts from.
    pub(crate) fn install(self) -> Result<(), String> {
        let restored = self
            .workspace
            .as_ref()
            .map(|w| super::steps::restore(w).map_err(|e| e.to_string()))
            .transpose()?;
        let verification = self
            .verification
            .as_deref()
            .map(|pem| {
                Certificate::from_pem(pem)
                    .and_then(|c| {
                        super::state::verification_card("Verification certificate".into(), c)
                    })
                    .map_err(|e| e.to_string())
            })
            .transpose()?;
        super::hooks::set_drafts(self.drafts);
        FROM_FIRST.with(|f| {
            *f.borrow_mut() = Some(FromFirst {
                restored,
                verification,
                focus: self.focus,
                scroll_y: self.scroll_y,
                open: self.open,
            })
        });
        Ok(())
    }
}

/// Opens the part the user opened in the first module, brings it into view and (no field was in
/// focus there) puts the focus in its first field. A part the whole app draws once something is
/// read (the kept workspaces, from IndexedDB) is looked for again, every 50 ms for up to a second.
fn open_part(id: String, focus_first: bool, tries: u32) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let Some(open) = document.get_element_by_id(&id) else {
        if tries > 0 {
            gloo::timers::callback::Timeout::new(50, move || open_part(id, focus_first, tries - 1))
                .forget();
        }
        return;
    };
    let _ = open.set_attribute("open", "");
    open.scroll_into_view();
    if focus_first {
        if let Some(field) = open
            .query_selector("input:not([type=hidden]), select, textarea")
            .ok()
            .flatten()
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = field.focus();
        }
    }
}

/// After the whole app's first drawing: the first module's page goes, and the focus, the scroll
/// and the part the user opened come back.
pub(crate) fn finish(from: &FromFirst) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    if let Some(first) = document.get_element_by_id(FIRST_ROOT) {
        first.remove();
    }
    match from.open.as_deref() {
        Some(id) => open_part(id.to_owned(), from.focus.is_none(), 20),
        None => {
            if let Some(w) = web_sys::window() {
                w.scroll_to_with_x_and_y(0.0, from.scroll_y);
            }
        }
    }
    if let Some(focus) = &from.focus {
        if let Some(e) = document
            .get_element_by_id(&focus.id)
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = e.focus();
            if let (Some(input), Some(start), Some(end)) = (
                e.dyn_ref::<web_sys::HtmlInputElement>(),
                focus.start,
                focus.end,
            ) {
                let _ = input.set_selection_range(start, end);
            }
        }
    }
    if let Some(html) = document.document_element() {
        let _ = html.set_attribute("data-app", "full");
    }
}

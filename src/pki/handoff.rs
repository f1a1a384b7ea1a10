//! What the page's first module passes to the whole app when it hands the page over: the page's
//! CAs and devices as a workspace document, the verification certificate, what the forms hold,
//! where the focus and the scroll were, and the part the user opened. JSON, in the page's memory
//! only; read back whole or refused. The app (`app/handoff.rs`) makes it from the page and
//! installs it; its format is here so it can be read and fuzzed natively.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Workspace;

/// What the first module passes to the whole app (no `Debug`: it holds private keys).
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Handoff {
    /// The page's CAs (with their keys) and devices.
    pub workspace: Option<Workspace>,
    /// The verification certificate, PEM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification: Option<String>,
    /// What the forms hold, by field id.
    #[serde(default)]
    pub drafts: BTreeMap<String, String>,
    /// The field that had the focus.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub focus: Option<Focus>,
    /// How far down the page was.
    #[serde(default)]
    pub scroll_y: f64,
    /// The part (a `<details>` id) the user opened that only the whole app has.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open: Option<String>,
}

/// A focused field and its selection.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Focus {
    /// The field's element id.
    pub id: String,
    /// Where its selection starts.
    #[serde(default)]
    pub start: Option<u32>,
    /// Where it ends.
    #[serde(default)]
    pub end: Option<u32>,
}

impl Handoff {
    /// The JSON passed to the whole app; it holds private keys and is wiped when dropped.
    pub fn to_json(&self) -> Result<zeroize::Zeroizing<String>, String> {
        serde_json::to_string(self)
            .map(zeroize::Zeroizing::new)
            .map_err(|e| e.to_string())
    }

    /// Reads what the first module passed.
    pub fn from_json(json: &str) -> Result<Self, String> {
        serde_json::from_str(json).map_err(|e| format!("the page's state did not read back: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_handoff_reads_back_and_a_damaged_one_is_refused() {
        let h = Handoff {
            workspace: None,
            verification: None,
            drafts: BTreeMap::from([("d-id".to_owned(), "line-4".to_owned())]),
            focus: Some(Focus {
                id: "d-id".into(),
                start: Some(2),
                end: Some(5),
            }),
            scroll_y: 120.0,
            open: Some("batch".into()),
        };
        let back = Handoff::from_json(&h.to_json().unwrap()).unwrap();
        assert_eq!(back.drafts, h.drafts);
        assert_eq!(back.focus, h.focus);
        assert_eq!(back.open.as_deref(), Some("batch"));
        assert!(Handoff::from_json("{\"workspace\": 7}")
            .err()
            .is_some_and(|e| e.contains("did not read back")));
    }
}

//! The selected CA renewed with its own key.

use super::*;
use crate::app::outcome::{outcome_view, Outcome};
use crate::iothub::{ca_renewal, renewed_ca_note, CaRenewal};

#[derive(Properties, PartialEq)]
pub(super) struct RenewCaProps {
    /// Every CA of the tree with its card, root first.
    pub(super) cas: Rc<Vec<(SharedCa, Rc<Issued>)>>,
    /// The selected CA's index in `cas`.
    pub(super) active: Option<usize>,
    /// The selected CA's title.
    pub(super) title: Option<String>,
    pub(super) oncarenewed: Callback<(usize, (SharedCa, Rc<Issued>))>,
}

#[component]
pub(super) fn RenewCa(props: &RenewCaProps) -> Html {
    let (ca_days, set_ca_days) = use_text("1825");
    let ca_outcome = use_state(|| None::<Outcome>);
    let on_renew_ca = {
        let (cas, active, oncarenewed, ca_outcome, ca_days) = (
            props.cas.clone(),
            props.active,
            props.oncarenewed.clone(),
            ca_outcome.clone(),
            ca_days.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            let Some(i) = active else {
                return ca_outcome.set(Some(Outcome::Failed(NO_CA.into())));
            };
            ca_outcome.set(Some(match renew_ca(&cas, i, &ca_days) {
                Ok(made) => {
                    let note = renewed_ca_note(made.1.info.not_after);
                    oncarenewed.emit((i, made));
                    Outcome::Done(note)
                }
                Err(e) => Outcome::Failed(e),
            }));
        })
    };
    html! {
        <div class="card form" id="renew-ca">
            <h3>{"Renew the CA"}</h3>
            <p class="hint">{"The selected CA again with the same key, subject and key identifier and a new validity: devices and intermediates it signed chain to it unchanged. An intermediate is signed again by its parent on this page."}</p>
            <div class="grid">
                <Field id="renew-ca-days" label="New validity (days)" kind="number" value={(*ca_days).clone()} oninput={set_ca_days} />
            </div>
            <div class="actions">
                <button type="button" class="secondary" id="renew-ca-submit" onclick={on_renew_ca} disabled={props.active.is_none()}>
                    { match &props.title { Some(t) => format!("Renew {t}"), None => "Renew the CA".to_owned() } }
                </button>
            </div>
            { outcome_view(&ca_outcome, "renew-ca-status") }
        </div>
    }
}

/// The CA at `i` of the tree renewed for `days`, as the card that replaces it.
fn renew_ca(
    cas: &[(SharedCa, Rc<Issued>)],
    i: usize,
    days: &str,
) -> Result<(SharedCa, Rc<Issued>), String> {
    let validity = ValidityDays::parse(days).map_err(|e| e.to_string())?;
    let (ca, card) = &cas[i];
    let now = browser::now();
    let tree: Vec<_> = cas.iter().map(|(c, _)| c.0.certificate()).collect();
    let issuer = (!ca.0.is_root()).then(|| ca.0.issuers().first()).flatten();
    let renewed = match ca_renewal(issuer, &tree).map_err(|e| e.to_string())? {
        CaRenewal::SelfSigned => ca.0.renew_root(validity, now),
        CaRenewal::ByParent(p) => cas[p].0 .0.renew_intermediate(&ca.0, validity, now),
    };
    // The same file names as the card it replaces (root-ca.pem, intermediate-ca.pem, …).
    let stem = card
        .downloads
        .first()
        .and_then(|d| d.name.strip_suffix(".pem"))
        .unwrap_or("ca")
        .to_owned();
    renewed
        .and_then(|r| ca_card(r, &stem, card.title.clone(), true))
        .map_err(|e| e.to_string())
}

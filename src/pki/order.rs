//! A bundle of CA certificates put in issuer order.

use super::Certificate;

/// Puts the chain in issuer order from `leaf` upwards (nearest first); what is not on the path
/// stays, after it, in file order.
pub(super) fn order_chain(leaf: &Certificate, mut rest: Vec<Certificate>) -> Vec<Certificate> {
    let mut ordered = Vec::with_capacity(rest.len());
    let mut current = leaf.clone();
    while let Ok(info) = current.info() {
        if info.subject == info.issuer {
            break;
        }
        let Some(i) = rest.iter().position(|c| {
            c.info().is_ok_and(|ci| ci.subject == info.issuer)
                && super::is_signed_by(&current, c).unwrap_or(true)
        }) else {
            break;
        };
        current = rest.remove(i);
        ordered.push(current.clone());
    }
    ordered.extend(rest);
    ordered
}

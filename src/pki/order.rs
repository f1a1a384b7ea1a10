//! A bundle of CA certificates put in issuer order.
//!
//! Each certificate is read once and found by its subject through a map, so a bundle of
//! thousands is ordered in linear time (not one pass over the rest per link).

use std::collections::HashMap;

use super::Certificate;

/// Indices of certificates by subject, each list in file order, with how far the front of it is
/// known to be taken: the first not taken is found without going over the taken ones again.
pub(super) struct BySubject<'a> {
    lists: HashMap<&'a str, Untaken>,
    /// The certificates whose subject could not be read.
    unread: Untaken,
}

#[derive(Default)]
struct Untaken {
    /// `list[..front]` are all taken.
    front: usize,
    list: Vec<usize>,
}

impl Untaken {
    fn rest(&mut self, taken: &[bool]) -> &[usize] {
        while self.front < self.list.len() && taken[self.list[self.front]] {
            self.front += 1;
        }
        &self.list[self.front..]
    }
}

impl<'a> BySubject<'a> {
    /// `subjects[i]` is certificate `i`'s subject (`None` where it could not be read).
    pub(super) fn new(subjects: impl IntoIterator<Item = Option<&'a str>>) -> Self {
        let mut by = Self {
            lists: HashMap::new(),
            unread: Untaken::default(),
        };
        for (i, s) in subjects.into_iter().enumerate() {
            match s {
                Some(s) => by.lists.entry(s).or_default().list.push(i),
                None => by.unread.list.push(i),
            }
        }
        by
    }

    /// The certificates whose subject is `subject` (`None`: could not be read) and that are not
    /// `taken`, in file order.
    pub(super) fn untaken<'s>(
        &'s mut self,
        subject: Option<&str>,
        taken: &'s [bool],
    ) -> impl Iterator<Item = usize> + 's {
        let rest = match subject {
            Some(s) => self.lists.get_mut(s).map_or(&[][..], |u| u.rest(taken)),
            None => self.unread.rest(taken),
        };
        rest.iter().copied().filter(move |&i| !taken[i])
    }
}

/// Puts the chain in issuer order from `leaf` upwards (nearest first); what is not on the path
/// stays, after it, in file order. At each link, the first certificate (in file order) named as
/// the issuer whose signature checks (or cannot be checked) is taken.
pub(super) fn order_chain(leaf: &Certificate, rest: Vec<Certificate>) -> Vec<Certificate> {
    let infos: Vec<_> = rest.iter().map(|c| c.info().ok()).collect();
    // A certificate that cannot be read is never an issuer (it is never looked up).
    let mut by_subject =
        BySubject::new(infos.iter().map(|i| i.as_ref().map(|i| i.subject.as_str())));
    let mut taken = vec![false; rest.len()];
    let mut path = Vec::new();
    let Ok(leaf_info) = leaf.info() else {
        return rest;
    };
    let mut current = (leaf, &leaf_info);
    loop {
        let (cert, info) = current;
        if info.subject == info.issuer {
            break;
        }
        let next = by_subject
            .untaken(Some(info.issuer.as_str()), &taken)
            .find(|&j| super::is_signed_by(cert, &rest[j]).unwrap_or(true));
        let Some(j) = next else {
            break;
        };
        taken[j] = true;
        path.push(j);
        let Some(next_info) = infos[j].as_ref() else {
            break;
        };
        current = (&rest[j], next_info);
    }
    let mut slots: Vec<Option<Certificate>> = rest.into_iter().map(Some).collect();
    let mut ordered: Vec<Certificate> = path.iter().filter_map(|&i| slots[i].take()).collect();
    ordered.extend(slots.into_iter().flatten());
    ordered
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::{CertificateAuthority, IntermediateCaParams, RootCaParams};

    fn ca_below(above: &CertificateAuthority, cn: &str) -> CertificateAuthority {
        above
            .issue_intermediate(
                &IntermediateCaParams {
                    // 100 days shorter at each level: on the wall clock, the CA above started
                    // earlier, and a second between the two must not make this one outlive it.
                    subject: RootCaParams {
                        common_name: cn.into(),
                        validity: crate::pki::ValidityDays::new(
                            3000 - 100 * above.issuers().len() as u32,
                        )
                        .unwrap(),
                        ..RootCaParams::default()
                    },
                    path_len: None,
                },
                time::OffsetDateTime::now_utc(),
            )
            .unwrap()
    }

    fn cns(certs: &[Certificate]) -> Vec<String> {
        certs
            .iter()
            .map(|c| c.info().unwrap().common_name.unwrap())
            .collect()
    }

    /// The ordering as it was before it used a map (a pass over the rest per link, each
    /// certificate read again each time): the reference the new one must match.
    fn order_chain_before(leaf: &Certificate, mut rest: Vec<Certificate>) -> Vec<Certificate> {
        let mut ordered = Vec::with_capacity(rest.len());
        let mut current = leaf.clone();
        while let Ok(info) = current.info() {
            if info.subject == info.issuer {
                break;
            }
            let Some(i) = rest.iter().position(|c| {
                c.info().is_ok_and(|ci| ci.subject == info.issuer)
                    && crate::pki::is_signed_by(&current, c).unwrap_or(true)
            }) else {
                break;
            };
            current = rest.remove(i);
            ordered.push(current.clone());
        }
        ordered.extend(rest);
        ordered
    }

    #[test]
    fn chains_are_ordered_as_before_in_every_order() {
        let now = time::OffsetDateTime::now_utc();
        let root = |cn: &str| {
            let params = RootCaParams {
                common_name: cn.into(),
                ..RootCaParams::default()
            };
            CertificateAuthority::create_root(&params, now).unwrap()
        };
        let r = root("R");
        let a = ca_below(&r, "A");
        let b = ca_below(&a, "B");
        let leaf = ca_below(&b, "L");
        let y = root("Y");
        let fake_a = ca_below(&y, "A");
        // B again, under the other "A": a second path of the same names.
        let fake_b = ca_below(&fake_a, "B");
        let c = |ca: &CertificateAuthority| ca.certificate().clone();
        for rest in [
            vec![c(&b), c(&a), c(&fake_a), c(&r)],
            vec![c(&fake_b), c(&b), c(&fake_a), c(&a)],
            vec![c(&b), c(&y), c(&fake_a), c(&leaf)],
        ] {
            for p in crate::pki::testing::permutations(&rest) {
                assert_eq!(
                    order_chain(leaf.certificate(), p.clone()),
                    order_chain_before(leaf.certificate(), p)
                );
            }
        }
    }

    #[test]
    fn the_path_comes_first_in_issuer_order_and_the_rest_after_in_file_order() {
        let now = time::OffsetDateTime::now_utc();
        let root = CertificateAuthority::create_root(
            &RootCaParams {
                common_name: "R".into(),
                ..RootCaParams::default()
            },
            now,
        )
        .unwrap();
        let a = ca_below(&root, "A");
        let b = ca_below(&a, "B");
        let leaf = ca_below(&b, "L");
        // Another CA also named "A" with another key: its name matches B's issuer, its
        // signature does not, so the real A is taken although it comes later.
        let other_root = CertificateAuthority::create_root(
            &RootCaParams {
                common_name: "R2".into(),
                ..RootCaParams::default()
            },
            now,
        )
        .unwrap();
        let fake_a = ca_below(&other_root, "A");
        let stray = ca_below(&other_root, "S");
        let rest = vec![
            stray.certificate().clone(),
            root.certificate().clone(),
            fake_a.certificate().clone(),
            a.certificate().clone(),
            b.certificate().clone(),
        ];
        let ordered = order_chain(leaf.certificate(), rest);
        assert_eq!(cns(&ordered), ["B", "A", "R", "S", "A"]);
        assert_eq!(&ordered[1], a.certificate());
        assert_eq!(&ordered[4], fake_a.certificate());

        // A path broken in the middle: what is found, then the rest as it came.
        let ordered = order_chain(
            leaf.certificate(),
            vec![root.certificate().clone(), b.certificate().clone()],
        );
        assert_eq!(cns(&ordered), ["B", "R"]);
        // A root is its own end.
        let ordered = order_chain(root.certificate(), vec![a.certificate().clone()]);
        assert_eq!(cns(&ordered), ["A"]);
    }
}

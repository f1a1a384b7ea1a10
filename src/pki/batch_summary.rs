//! What a batch of device certificates may be and what the page says of it: how many one batch
//! makes, the typed ids in a line, and the batch once done.

use crate::contract::DeviceId;

/// The most devices one batch makes: ECDSA batches run in a pool of workers (10,000 P-256
/// identities in about 3 s on two cores, 100,000 in about 25 s, `scripts/bench.sh`).
pub const MAX_BATCH: usize = 100_000;
/// RSA keys are made one by one (a few hundred ms each).
pub const MAX_RSA_BATCH: usize = 10_000;
/// The devices of a batch the page keeps as cards: the first 10,000. All are in the zip; beyond
/// that the page would hold hundreds of MB.
pub const KEPT_CARDS: usize = 10_000;

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Whether `count` devices fit one batch with keys of this kind (`rsa`); why not if not.
pub fn batch_size_ok(count: usize, rsa: bool) -> Result<(), String> {
    if rsa && count > MAX_RSA_BATCH {
        return Err(format!("{count} devices with RSA keys would take hours: each RSA key is made on its own. Issue at most {MAX_RSA_BATCH} per RSA batch, or choose ECDSA P-256 (up to {MAX_BATCH}, made in parallel off the page)."));
    }
    Ok(())
}

/// The ids typed, in a line: how many, the first three and the last (`None`: nothing typed yet,
/// the grammar is shown instead).
pub fn batch_ids_hint(ids: Option<&[DeviceId]>) -> String {
    let Some(ids) = ids else {
        return "One id per line, or a range: sensor-{001..100} makes sensor-001 … sensor-100."
            .to_owned();
    };
    let first: Vec<&str> = ids.iter().take(3).map(DeviceId::as_str).collect();
    let last = match ids.last() {
        Some(l) if ids.len() > 3 => format!(" … {l}"),
        _ => String::new(),
    };
    format!(
        "{} device{}: {}{last}",
        ids.len(),
        plural(ids.len()),
        first.join(", ")
    )
}

/// A finished batch.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchSummary<'a> {
    /// The ids issued, in order.
    pub ids: &'a [String],
    /// Stopped before every id was issued.
    pub stopped_early: bool,
    /// Workers that issued them (0: the page itself).
    pub workers: usize,
    /// What made the keys and signatures (WebCrypto, WebAssembly).
    pub signer: &'a str,
    /// How long it took.
    pub elapsed_ms: f64,
}

impl BatchSummary<'_> {
    /// How many, from which to which, and where the page lists them.
    pub fn done_note(&self) -> String {
        let n = self.ids.len();
        let listed = if n > KEPT_CARDS {
            format!("All are in the zip; the first {KEPT_CARDS} are also listed for registration in step 5, the device test and the expiry watch (more would take hundreds of MB of this page's memory).")
        } else {
            "They are listed for registration in step 5 and for the device test.".to_owned()
        };
        format!(
            "{n} device certificate{} issued{}: {} … {}. {listed}",
            plural(n),
            if self.stopped_early {
                " (stopped early)"
            } else {
                ""
            },
            self.ids.first().cloned().unwrap_or_default(),
            self.ids.last().cloned().unwrap_or_default(),
        )
    }

    /// How long it took and where it ran.
    pub fn how(&self) -> String {
        let ms = self.elapsed_ms.round().max(0.0) as u64;
        let seconds = super::error::one_decimal(ms, 1000);
        if self.workers > 0 {
            format!(
                "Issued in {seconds} s by {} worker{}, off the page's thread; keys and signatures by {}.",
                self.workers,
                plural(self.workers),
                self.signer
            )
        } else {
            format!("Issued in {seconds} s on the page.")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(list: &[&str]) -> Vec<DeviceId> {
        list.iter().map(|i| DeviceId::parse(i).unwrap()).collect()
    }

    #[test]
    fn rsa_batches_are_capped_and_ecdsa_ones_are_not() {
        assert_eq!(batch_size_ok(MAX_RSA_BATCH, true), Ok(()));
        assert!(batch_size_ok(MAX_RSA_BATCH + 1, true)
            .is_err_and(|e| e.starts_with("10001 devices with RSA keys")));
        assert_eq!(batch_size_ok(MAX_BATCH, false), Ok(()));
    }

    #[test]
    fn the_hint_shows_three_ids_and_the_last() {
        assert!(batch_ids_hint(None).starts_with("One id per line"));
        assert_eq!(batch_ids_hint(Some(&ids(&["a"]))), "1 device: a");
        assert_eq!(
            batch_ids_hint(Some(&ids(&["a", "b", "c", "d", "e"]))),
            "5 devices: a, b, c … e"
        );
    }

    #[test]
    fn the_summary_says_how_many_where_and_how_fast() {
        let list: Vec<String> = vec!["s-1".into(), "s-2".into()];
        let s = BatchSummary {
            ids: &list,
            stopped_early: true,
            workers: 2,
            signer: "WebCrypto",
            elapsed_ms: 2_345.0,
        };
        assert!(s.done_note().starts_with(
            "2 device certificates issued (stopped early): s-1 … s-2. They are listed"
        ));
        assert_eq!(
            s.how(),
            "Issued in 2.3 s by 2 workers, off the page's thread; keys and signatures by WebCrypto."
        );
        let on_page = BatchSummary { workers: 0, ..s };
        assert_eq!(on_page.how(), "Issued in 2.3 s on the page.");
        let many: Vec<String> = (0..=KEPT_CARDS).map(|i| format!("d{i}")).collect();
        let big = BatchSummary {
            ids: &many,
            ..on_page
        };
        assert!(big.done_note().contains("the first 10000 are also listed"));
    }
}

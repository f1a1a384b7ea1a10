//! What locking the page and forgetting a kept workspace decide: what would be lost, and when the
//! page may lock by itself. The page asks before it drops anything that is not kept.

/// What the page shows, counted: CAs and device certificates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    /// CAs (roots and intermediates).
    pub cas: usize,
    /// Device certificates.
    pub devices: usize,
}

impl Counts {
    /// Whether there is nothing at all.
    pub fn is_empty(self) -> bool {
        self.cas == 0 && self.devices == 0
    }
}

/// Idle time after which a page whose workspace is kept here (and unchanged since) locks itself.
pub const IDLE_LOCK_MS: f64 = 15.0 * 60_000.0;

/// What locking now would drop that is not kept in this browser: `None` when nothing (the page
/// shows exactly what was last kept or unlocked here, or nothing at all). `kept` is what was kept
/// or unlocked here last (`None`: nothing since the page opened); `now` what the page shows.
pub fn lock_drops(kept: Option<Counts>, now: Counts) -> Option<Counts> {
    if now.is_empty() || kept == Some(now) {
        None
    } else {
        Some(now)
    }
}

/// Whether an idle page locks by itself: idle long enough, and locking loses nothing that cannot
/// be unlocked again.
pub fn idle_lock_due(idle_ms: f64, kept: Option<Counts>, now: Counts) -> bool {
    idle_ms >= IDLE_LOCK_MS && kept.is_some() && !now.is_empty() && lock_drops(kept, now).is_none()
}

/// What the page says before locking drops `drops`: what goes, and the two ways on.
pub fn lock_warning(drops: Counts, kept_before: bool) -> String {
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    let what = format!(
        "{} CA{} and {} device certificate{}",
        drops.cas,
        plural(drops.cas),
        drops.devices,
        plural(drops.devices)
    );
    let since = if kept_before {
        "changed since the last keep"
    } else {
        "never kept in this browser"
    };
    format!(
        "Locking drops what this page shows ({what}, {since}). Keep it first (Save above), or press Lock again to drop it."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEPT: Counts = Counts {
        cas: 2,
        devices: 10,
    };

    #[test]
    fn locking_asks_first_only_when_something_unkept_would_go() {
        assert_eq!(lock_drops(Some(KEPT), KEPT), None);
        assert_eq!(lock_drops(None, Counts::default()), None);
        let more = Counts {
            devices: 11,
            ..KEPT
        };
        assert_eq!(lock_drops(Some(KEPT), more), Some(more));
        assert_eq!(lock_drops(None, KEPT), Some(KEPT));
        let said = lock_warning(more, true);
        assert!(said.contains("2 CAs and 11 device certificates"), "{said}");
        assert!(said.contains("since the last keep") && said.contains("press Lock again"));
        assert!(lock_warning(Counts { cas: 1, devices: 1 }, false)
            .contains("1 CA and 1 device certificate, never kept"));
    }

    #[test]
    fn an_idle_page_locks_only_when_nothing_unsaved_would_be_lost() {
        assert!(idle_lock_due(IDLE_LOCK_MS, Some(KEPT), KEPT));
        assert!(!idle_lock_due(IDLE_LOCK_MS - 1.0, Some(KEPT), KEPT));
        // A device issued since it was kept: not locked, it would be lost.
        let more = Counts {
            devices: 11,
            ..KEPT
        };
        assert!(!idle_lock_due(IDLE_LOCK_MS * 4.0, Some(KEPT), more));
        // Never kept or unlocked here, or already empty: nothing to lock.
        assert!(!idle_lock_due(IDLE_LOCK_MS * 4.0, None, KEPT));
        assert!(!idle_lock_due(
            IDLE_LOCK_MS * 4.0,
            Some(Counts::default()),
            Counts::default()
        ));
    }
}

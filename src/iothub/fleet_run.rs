//! Registering or deleting a fleet as a run that can be stopped and picked up again, even after a
//! reload, without keeping anything in the browser: before each bulk call the run reads from the
//! hub which of the call's devices are already there (a twin query on their ids), and sends only
//! the rest. Registering the same list again therefore goes on where the last run stopped. The run
//! can also keep to the tier's published registry rate ([`Pace`]), so a large fleet goes through
//! without being throttled rather than by backing off from 429s.
//!
//! Reading first costs one query per call of 100 devices. Queries have their own throttle
//! (iot-hub-devguide-quotas-throttling, "Queries": 20 a minute per S1 or S2 unit), well above one
//! a minute, which is what a paced S1 run of 100 devices a minute makes.

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::time::Duration;

use super::client::{HubClient, Transport};
use super::device_ops::DeviceOp;
use super::query::literal;
use super::throttle::{thousands, HubTier};
use super::{Registry, RestError};
use crate::contract::{AuthKind, ExportImportDevice, Twin, BULK_MAX_DEVICES, QUERY_MAX_LENGTH};

/// A run's rate: registry operations spread so that a minute never sees more than the tier's
/// published allowance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pace {
    per_minute: u64,
}

impl Pace {
    /// At most `per_minute` registry operations a minute (at least one).
    pub fn new(per_minute: u64) -> Self {
        Self {
            per_minute: per_minute.max(1),
        }
    }

    /// The published identity registry rate of `units` units of `tier`.
    pub fn for_tier(tier: HubTier, units: u32) -> Self {
        Self::new(tier.registry_operations_per_minute(units))
    }

    /// Operations a minute.
    pub fn per_minute(self) -> u64 {
        self.per_minute
    }

    /// How long to wait before the next call when the last one counted `sent` operations and was
    /// answered `elapsed` ago: the next call goes once the rate has paid for the last one's
    /// operations, kept 2% under the published figure so that network jitter does not cross it.
    /// Spacing each call from the last one's answer (not from the run's start) never sends a
    /// burst to catch up after a slow or throttled call. With calls of 100 on one S1 unit, one
    /// call every 61.2 s.
    pub fn wait(self, sent: u64, elapsed: Duration) -> Duration {
        let due = sent.saturating_mul(60_000 * 50) / self.per_minute.saturating_mul(49);
        Duration::from_millis(due).saturating_sub(elapsed)
    }
}

/// The twin query that tells which of `ids` are on the hub, with what authentication: as few
/// queries as fit the query language's length limit ([`QUERY_MAX_LENGTH`]), each
/// `SELECT deviceId, authenticationType, x509Thumbprint FROM devices WHERE deviceId IN [...]`
/// (`IN` over a list of constants: MicrosoftDocs azure-docs `articles/iot-hub/query-twins.md`).
pub fn presence_queries(ids: &[&str]) -> Vec<String> {
    const HEAD: &str =
        "SELECT deviceId, authenticationType, x509Thumbprint FROM devices WHERE deviceId IN [";
    let mut queries = Vec::new();
    let mut current = String::new();
    for id in ids {
        let item = literal(id);
        // The closing bracket, and a comma before every item but the first.
        if !current.is_empty()
            && current.chars().count() + 1 + item.chars().count() + 1 > QUERY_MAX_LENGTH
        {
            current.push(']');
            queries.push(std::mem::take(&mut current));
        }
        if current.is_empty() {
            current.push_str(HEAD);
        } else {
            current.push_str(", ");
        }
        current.push_str(&item);
    }
    if !current.is_empty() {
        current.push(']');
        queries.push(current);
    }
    queries
}

/// What the hub holds for a device found by [`presence_queries`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnHub {
    /// Its authentication type, when the hub said.
    pub kind: Option<AuthKind>,
    /// Its primary thumbprint (self-signed devices), lower case.
    pub thumbprint: Option<String>,
}

impl OnHub {
    fn from_twin(twin: &Twin) -> Self {
        Self {
            kind: twin.authentication_type.clone(),
            thumbprint: twin
                .x509_thumbprint
                .as_ref()
                .and_then(|t| t.primary_thumbprint.as_deref())
                .map(str::to_ascii_lowercase),
        }
    }
}

/// What a device's row says without a call, given what the hub already holds: a registration of a
/// device already there as asked is done; one there with another authentication, or pinned to
/// another certificate, is refused with what to do; a deletion of a device not there is done.
/// `None`: the entry is sent.
pub fn settled_before(
    op: DeviceOp,
    entry: &ExportImportDevice,
    on_hub: Option<&OnHub>,
) -> Option<Result<String, String>> {
    match (op, on_hub) {
        (DeviceOp::Delete, None) => Some(Ok("not on the hub: nothing to delete".to_owned())),
        (DeviceOp::Register, Some(there)) => {
            let asked = entry.authentication.as_ref().map(|a| &a.kind);
            let asked_thumbprint = entry
                .authentication
                .as_ref()
                .and_then(|a| a.x509_thumbprint.as_ref())
                .and_then(|t| t.primary_thumbprint.as_deref())
                .map(str::to_ascii_lowercase);
            let kind = there.kind.as_ref();
            if kind != asked {
                let name = |k: Option<&AuthKind>| k.map_or("unknown", AuthKind::as_str).to_owned();
                return Some(Err(format!(
                    "already on the hub with {} authentication, not {}: delete it first, or give this certificate another device id",
                    name(kind),
                    name(asked)
                )));
            }
            if kind == Some(&AuthKind::SelfSigned)
                && asked_thumbprint.is_some()
                && there.thumbprint != asked_thumbprint
            {
                return Some(Err(
                    "already on the hub, pinned to another certificate's thumbprint: this certificate would be refused; renew the device (Renew, on the hub) to pin it".to_owned(),
                ));
            }
            Some(Ok(format!(
                "already on the hub ({}): left as it is",
                kind.map_or("unknown", AuthKind::as_str)
            )))
        }
        _ => None,
    }
}

/// What a run reports as it goes.
#[derive(Debug, PartialEq, Eq)]
pub enum RunEvent<'a> {
    /// Keeping to the pace: the next call goes in `left`.
    Waiting {
        /// Until the next call.
        left: Duration,
        /// Devices with their row so far.
        done: usize,
    },
    /// Reading which of the next call's devices are on the hub.
    Reading {
        /// Devices with their row so far.
        done: usize,
    },
    /// Sending a bulk call of `sending` devices.
    Sending {
        /// Devices with their row so far.
        done: usize,
        /// Devices in this call.
        sending: usize,
    },
    /// The rows of the devices one call settled (read, sent, or both), in the order given.
    Rows(&'a [(String, Result<String, String>)]),
}

/// The progress line of a run of `total` devices at this step (`pace`, if the run keeps one).
pub fn run_progress(
    op: DeviceOp,
    event: &RunEvent<'_>,
    total: usize,
    pace: Option<Pace>,
) -> Option<String> {
    let of = |done: usize| {
        format!(
            "{} in bulk: {} of {} done",
            op.verb(),
            thousands(done as u64),
            thousands(total as u64)
        )
    };
    Some(match event {
        RunEvent::Waiting { left, done } => format!(
            "{}; next call in {} s, keeping to {} registry operations a minute…",
            of(*done),
            left.as_secs() + u64::from(left.subsec_millis() > 0),
            thousands(pace.map_or(0, Pace::per_minute)),
        ),
        RunEvent::Reading { done } => format!(
            "{}; reading which of the next devices the hub already holds…",
            of(*done)
        ),
        RunEvent::Sending { done, sending } => format!("{}; sending {sending}…", of(*done)),
        RunEvent::Rows(_) => return None,
    })
}

/// What a run did.
#[derive(Debug, Default)]
pub struct RunReport {
    /// Each device's row, in the order given.
    pub rows: Vec<(String, Result<String, String>)>,
    /// Registry operations sent (devices named in bulk calls).
    pub sent: usize,
    /// Devices left unsent because the run was stopped (by the caller, or by an error that stops
    /// it); registering the same list again picks them up.
    pub not_sent: usize,
    /// Whether the caller stopped it.
    pub stopped: bool,
    /// When its last bulk call was answered (Unix milliseconds) and how many operations it
    /// counted: a pace spaces the next call from there.
    pub last_call: Option<(u64, u64)>,
    /// The error that stopped it, if one did.
    pub error: Option<RestError>,
}

/// Said on the row of a device a stopped run did not reach.
pub const NOT_SENT: &str =
    "not sent: the run stopped before it; run the same list again to go on from here";

/// The outcome line of a run: whether every device is done, and what to say.
pub fn run_summary(op: DeviceOp, report: &RunReport) -> (bool, String) {
    let total = report.rows.len();
    let failed = report
        .rows
        .iter()
        .filter(|(_, r)| r.is_err())
        .count()
        .saturating_sub(report.not_sent);
    let done = total - failed - report.not_sent;
    let mut text = format!(
        "{} of {} done",
        thousands(done as u64),
        thousands(total as u64)
    );
    if failed > 0 {
        text.push_str(&format!("; {} failed, see below", thousands(failed as u64)));
    }
    if report.not_sent > 0 {
        let why = match (&report.error, report.stopped) {
            (Some(e), _) => format!("stopped by the hub's answer ({e})"),
            (None, true) => "stopped".to_owned(),
            (None, false) => "not sent".to_owned(),
        };
        text.push_str(&format!(
            "; {} {why}. {} the same list again to go on: the page reads which devices are already on the hub and sends only the rest",
            thousands(report.not_sent as u64),
            match op {
                DeviceOp::Delete => "Delete",
                _ => "Register",
            }
        ));
    }
    text.push('.');
    (failed == 0 && report.not_sent == 0, text)
}

impl<T: Transport> HubClient<T> {
    /// Waits `duration` on the transport's timer.
    async fn pause(&self, duration: Duration) {
        self.transport().sleep(duration).await;
    }

    /// Registers or deletes (`op`) the devices of `entries` in bulk calls of up to 100: before each
    /// call, waits for `pace` (if any) and reads which of its devices the hub holds, settling
    /// those without a call ([`settled_before`]); then sends the rest and reads each device's
    /// row from the answer. `now_ms` is the clock (Unix milliseconds): calls are signed and paced
    /// by it. `on` hears each step; [`ControlFlow::Break`] stops the run before its next call
    /// (waits are heard at least once a second, so a stop is prompt). An error that stops a bulk
    /// call, or a presence query that fails, stops the run there.
    pub async fn fleet_run(
        &self,
        registry: &Registry,
        op: DeviceOp,
        entries: &[ExportImportDevice],
        now_ms: &dyn Fn() -> u64,
        pace: Option<Pace>,
        mut on: impl FnMut(RunEvent<'_>) -> ControlFlow<()>,
    ) -> RunReport {
        let mut report = RunReport::default();
        let mut chunks = entries.chunks(BULK_MAX_DEVICES);
        for chunk in chunks.by_ref() {
            let done = report.rows.len();
            if let (Some(pace), Some((answered, cost))) = (pace, report.last_call) {
                loop {
                    let elapsed = Duration::from_millis(now_ms().saturating_sub(answered));
                    let left = pace.wait(cost, elapsed);
                    if left.is_zero() {
                        break;
                    }
                    if on(RunEvent::Waiting { left, done }).is_break() {
                        report.stopped = true;
                        break;
                    }
                    self.pause(left.min(Duration::from_secs(1))).await;
                }
            }
            if report.stopped || on(RunEvent::Reading { done }).is_break() {
                report.stopped = true;
                self.not_sent(&mut report, chunk);
                break;
            }
            let rows = match self
                .chunk(registry, op, chunk, now_ms, &mut report, &mut on)
                .await
            {
                Ok(rows) => rows,
                Err(e) => {
                    report.error = Some(e);
                    self.not_sent(&mut report, chunk);
                    break;
                }
            };
            let stop = on(RunEvent::Rows(&rows)).is_break();
            report.rows.extend(rows);
            if report.error.is_some() {
                break;
            }
            if stop {
                report.stopped = true;
                break;
            }
        }
        for chunk in chunks {
            self.not_sent(&mut report, chunk);
        }
        report
    }

    /// Rows for a chunk the run does not send.
    fn not_sent(&self, report: &mut RunReport, chunk: &[ExportImportDevice]) {
        report.rows.extend(
            chunk
                .iter()
                .map(|e| (e.id.clone(), Err(NOT_SENT.to_owned()))),
        );
        report.not_sent += chunk.len();
    }

    /// One chunk: read what the hub holds, send the rest, each device's row in order. A failed
    /// presence query is the chunk's error (nothing sent); a bulk call that stops leaves its
    /// error in `report.error` with each device's row saying so.
    async fn chunk(
        &self,
        registry: &Registry,
        op: DeviceOp,
        chunk: &[ExportImportDevice],
        now_ms: &dyn Fn() -> u64,
        report: &mut RunReport,
        on: &mut impl FnMut(RunEvent<'_>) -> ControlFlow<()>,
    ) -> Result<Vec<(String, Result<String, String>)>, RestError> {
        let ids: Vec<&str> = chunk.iter().map(|e| e.id.as_str()).collect();
        let mut on_hub = BTreeMap::new();
        for query in presence_queries(&ids) {
            let twins = self
                .query_twins(registry, &query, None, now_ms() / 1000)
                .await?;
            on_hub.extend(
                twins
                    .iter()
                    .map(|t| (t.device_id.clone(), OnHub::from_twin(t))),
            );
        }
        let mut settled: BTreeMap<&str, Result<String, String>> = BTreeMap::new();
        let mut to_send = Vec::new();
        for entry in chunk {
            match settled_before(op, entry, on_hub.get(&entry.id)) {
                Some(row) => {
                    settled.insert(entry.id.as_str(), row);
                }
                None => to_send.push(entry.clone()),
            }
        }
        let outcome = if to_send.is_empty() {
            None
        } else {
            let _ = on(RunEvent::Sending {
                done: report.rows.len(),
                sending: to_send.len(),
            });
            report.sent += to_send.len();
            let outcome = self
                .bulk_registry(registry, &to_send, now_ms() / 1000)
                .await?;
            report.last_call = Some((now_ms(), to_send.len() as u64));
            report.error = outcome.stopped.clone();
            Some(outcome)
        };
        Ok(chunk
            .iter()
            .map(|e| {
                let row = match (settled.remove(e.id.as_str()), &outcome) {
                    (Some(row), _) => row,
                    (None, Some(o)) => op.bulk_row(o, &e.id),
                    (None, None) => Err("not sent".to_owned()),
                };
                (e.id.clone(), row)
            })
            .collect())
    }
}

#[cfg(test)]
mod tests;

//! What localhub holds: CA certificates, devices and their twins (persisted), telemetry (in memory).

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::Config;

/// A CA certificate uploaded through ARM.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CaRecord {
    pub(crate) name: String,
    pub(crate) der: Vec<u8>,
    pub(crate) etag: String,
    pub(crate) is_verified: bool,
    pub(crate) verification_code: Option<String>,
    pub(crate) created: i64,
    pub(crate) updated: i64,
}

/// How a device authenticates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum DeviceAuth {
    CertificateAuthority,
    SelfSigned {
        primary: Option<String>,
        secondary: Option<String>,
    },
    Sas {
        primary: String,
        secondary: String,
    },
    None,
}

/// A registered device.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct DeviceRecord {
    pub(crate) device_id: String,
    pub(crate) etag: String,
    pub(crate) generation_id: String,
    pub(crate) enabled: bool,
    pub(crate) auth: DeviceAuth,
    pub(crate) reported: serde_json::Map<String, serde_json::Value>,
    pub(crate) reported_version: u64,
    /// When the device last connected or sent, in Unix milliseconds (`lastActivityTime`). Kept
    /// while localhub runs, never written: a device's messages do not change the state file.
    #[serde(default, skip_serializing)]
    pub(crate) last_activity: Option<i64>,
    /// What the service side set: desired properties, tags, the IoT Edge flag (DPS's initial twin
    /// and capabilities).
    #[serde(default)]
    pub(crate) service: ServiceSide,
}

/// The parts of a device's twin and identity the service writes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct ServiceSide {
    pub(crate) desired: serde_json::Map<String, serde_json::Value>,
    pub(crate) tags: serde_json::Map<String, serde_json::Value>,
    pub(crate) iot_edge: bool,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Persisted {
    certificates: BTreeMap<String, CaRecord>,
    devices: BTreeMap<String, DeviceRecord>,
    primary_key: String,
    secondary_key: String,
    /// DPS: enrollment groups by id.
    #[serde(default)]
    enrollment_groups: BTreeMap<String, hubcert::contract::EnrollmentGroup>,
    /// DPS: the `provisioningserviceowner` key.
    #[serde(default)]
    dps_key: String,
    /// DPS: its CA certificates (ARM `provisioningServices/{dps}/certificates`).
    #[serde(default)]
    dps_certificates: BTreeMap<String, CaRecord>,
    /// DPS: individual enrollments by registration id.
    #[serde(default)]
    enrollments: BTreeMap<String, hubcert::contract::IndividualEnrollment>,
    /// DPS: what each device's last registration did, by registration id.
    #[serde(default)]
    registrations: BTreeMap<String, hubcert::contract::RegistrationState>,
}

/// The DPS's enrollments and registrations, and the hub's devices it assigns, changed together.
pub(crate) struct DpsRecords<'a> {
    pub(crate) enrollments: &'a mut BTreeMap<String, hubcert::contract::IndividualEnrollment>,
    pub(crate) registrations: &'a mut BTreeMap<String, hubcert::contract::RegistrationState>,
    pub(crate) devices: &'a mut BTreeMap<String, DeviceRecord>,
}

/// Whose ARM CA certificates a call is about: the hub's or the DPS's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CertStore {
    Hub,
    Dps,
}

/// What a [`TelemetryEvent`] records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    /// A device-to-cloud message.
    Telemetry,
    /// A device connected.
    Connected,
    /// A connection was refused (CONNACK 5).
    Refused,
    /// A connection ended.
    Disconnected,
}

impl EventKind {
    /// As the JSON and the server-sent event name spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Telemetry => "telemetry",
            Self::Connected => "connected",
            Self::Refused => "refused",
            Self::Disconnected => "disconnected",
        }
    }
}

/// How a device reached localhub.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceTransport {
    /// MQTT over TLS.
    Mqtt,
    /// MQTT over a TLS WebSocket.
    Wss,
}

impl std::fmt::Display for DeviceTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Mqtt => "mqtt",
            Self::Wss => "wss",
        })
    }
}

/// One message a device sent, or one thing that happened to a connection.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TelemetryEvent {
    /// What happened.
    pub kind: EventKind,
    /// The device.
    pub device_id: String,
    /// How the device came.
    pub transport: DeviceTransport,
    /// Milliseconds since the Unix epoch.
    pub received_at: i64,
    /// The payload as text (lossy UTF-8) for telemetry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Message properties from the topic's property bag.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub properties: BTreeMap<String, String>,
    /// Why a connection was refused or closed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A cloud-to-device message on its way to a connected device.
#[derive(Debug, Clone)]
pub(crate) struct C2dMessage {
    pub(crate) body: Vec<u8>,
    pub(crate) properties: BTreeMap<String, String>,
}

/// The live connection of a device: one at a time, a new one replaces it.
pub(crate) struct Session {
    pub(crate) id: u64,
    pub(crate) c2d: mpsc::Sender<C2dMessage>,
    pub(crate) close: Option<oneshot::Sender<()>>,
}

/// A change that could not be written to disk, and so was undone: the request that made it must
/// fail, since what localhub acknowledges is on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NotSaved(pub(crate) Arc<str>);

impl std::fmt::Display for NotSaved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the change could not be saved ({}), so it was not made",
            self.0
        )
    }
}

tokio::task_local! {
    /// The first change of the current request (or device connection) that could not be saved.
    static UNSAVED: RefCell<Option<NotSaved>>;
}

/// Runs `work` (one REST request, or one device connection) and says whether a change it made
/// through [`Hub::write`] and its kin could not be saved (and so was undone): its answer must then
/// be an error, never the success `work` may have built.
pub(crate) async fn saving<F: Future>(work: F) -> (F::Output, Option<NotSaved>) {
    UNSAVED
        .scope(RefCell::new(None), async move {
            let out = work.await;
            (out, UNSAVED.with(|u| u.borrow_mut().take()))
        })
        .await
}

/// Whether a change made so far in the current [`saving`] scope could not be saved.
pub(crate) fn unsaved() -> bool {
    UNSAVED.try_with(|u| u.borrow().is_some()).unwrap_or(false)
}

/// What the file on disk holds, and which changes were undone because a save failed.
#[derive(Default)]
struct Saved {
    /// Every change up to this count is on disk.
    upto: u64,
    /// The file's content, what the state goes back to when a save fails.
    bytes: Vec<u8>,
    /// Changes undone by a failed save: those after `.0` up to `.1`, and why.
    undone: Vec<(u64, u64, NotSaved)>,
}

/// The bytes localhub keeps of the telemetry it holds, roughly: the strings plus the event itself.
fn event_bytes(e: &TelemetryEvent) -> usize {
    std::mem::size_of::<TelemetryEvent>()
        + e.device_id.len()
        + e.body.as_ref().map_or(0, String::len)
        + e.reason.as_ref().map_or(0, String::len)
        + e.properties
            .iter()
            .map(|(k, v)| k.len() + v.len() + 2 * std::mem::size_of::<String>())
            .sum::<usize>()
}

/// The telemetry kept for `/localhub/telemetry`: at most `telemetry_capacity` messages and
/// `telemetry_bytes` bytes, the oldest dropped first.
#[derive(Default)]
struct Ring {
    events: VecDeque<TelemetryEvent>,
    bytes: usize,
}

/// The hub: state behind a lock, written to disk after each change when a data directory is set.
pub struct Hub {
    pub(crate) config: Config,
    state: Mutex<Persisted>,
    telemetry: Mutex<Ring>,
    pub(crate) events: broadcast::Sender<TelemetryEvent>,
    pub(crate) sessions: Mutex<HashMap<String, Session>>,
    etag_counter: AtomicU64,
    session_counter: AtomicU64,
    state_file: Option<PathBuf>,
    /// Changes made so far; a save covers every change up to the count it read.
    changes: AtomicU64,
    /// What the file on disk holds; its lock lets one writer at a time save.
    saved: Mutex<Saved>,
    /// Open `/localhub/events` streams: each holds a permit, so watchers cannot take every
    /// connection of the REST listener.
    pub(crate) event_streams: Arc<tokio::sync::Semaphore>,
    /// The tier's operation throttles, when `Config::throttling` asks for them.
    pub(crate) throttle: Option<crate::throttle::Throttle>,
}

/// `/localhub/events` streams open at once, at most.
pub(crate) const MAX_EVENT_STREAMS: usize = 16;

/// Reads `state.json`, or its backup when it is damaged (the damaged file is kept aside).
fn load(file: &std::path::Path) -> Result<Persisted, String> {
    let read = |f: &std::path::Path| -> Result<Option<Persisted>, String> {
        match std::fs::read(f) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| format!("{} is damaged ({e})", f.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("reading {}: {e}", f.display())),
        }
    };
    let backup = crate::persist::sibling(file, ".bak");
    match read(file) {
        Ok(Some(state)) => Ok(state),
        Ok(None) => Ok(read(&backup).ok().flatten().unwrap_or_default()),
        Err(damaged) => match read(&backup) {
            Ok(Some(state)) => {
                let aside = crate::persist::sibling(file, &format!(".damaged-{}", now_unix()));
                let _ = std::fs::rename(file, &aside);
                eprintln!(
                    "localhub: {damaged}; started from the backup of the previous write, {} (the damaged file is kept as {})",
                    backup.display(),
                    aside.display()
                );
                Ok(state)
            }
            _ => Err(format!(
                "{damaged}, and there is no usable backup ({}). Move {} away to start with an empty hub (CA certificates and devices are then registered again), or restore it from a copy.",
                backup.display(),
                file.display()
            )),
        },
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves the data consistent (every change is one assignment).
    m.lock().unwrap_or_else(|p| p.into_inner())
}

pub(crate) fn now_unix() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn now_millis() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

pub(crate) fn random_key() -> Result<String, String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| format!("random: {e}"))?;
    Ok(BASE64.encode(bytes))
}

impl Hub {
    /// Loads the hub from `config.data_dir`, or starts empty. A damaged `state.json` is set
    /// aside and the backup of the previous write used; if that is damaged too, localhub refuses
    /// to start and says which files and what to do.
    pub(crate) fn open(config: Config) -> Result<Arc<Self>, String> {
        let state_file = config.data_dir.as_ref().map(|d| d.join("state.json"));
        let mut state = match &state_file {
            Some(f) => load(f)?,
            None => Persisted::default(),
        };
        if state.primary_key.is_empty() {
            state.primary_key = random_key()?;
            state.secondary_key = random_key()?;
        }
        if state.dps_key.is_empty() {
            state.dps_key = random_key()?;
        }
        // A watcher that falls behind holds up to this many events (each up to 256 KiB of
        // telemetry, so 64 MiB at most), then skips ahead.
        let (events, _) = broadcast::channel(256);
        let throttle = config.throttling.map(crate::throttle::Throttle::new);
        let hub = Arc::new(Self {
            config,
            state: Mutex::new(state),
            telemetry: Mutex::new(Ring::default()),
            events,
            sessions: Mutex::new(HashMap::new()),
            etag_counter: AtomicU64::new(now_unix().unsigned_abs() << 16),
            session_counter: AtomicU64::new(1),
            state_file,
            changes: AtomicU64::new(1),
            saved: Mutex::new(Saved::default()),
            event_streams: Arc::new(tokio::sync::Semaphore::new(MAX_EVENT_STREAMS)),
            throttle,
        });
        hub.save().map_err(|e| e.0.to_string())?;
        Ok(hub)
    }

    /// A fresh etag, in the base64 form IoT Hub uses.
    pub(crate) fn next_etag(&self) -> String {
        let n = self.etag_counter.fetch_add(1, Ordering::Relaxed);
        BASE64.encode(n.to_be_bytes())
    }

    pub(crate) fn next_session_id(&self) -> u64 {
        self.session_counter.fetch_add(1, Ordering::Relaxed)
    }

    /// The `iothubowner` connection string.
    pub fn connection_string(&self) -> String {
        let s = lock(&self.state);
        format!(
            "HostName={};SharedAccessKeyName=iothubowner;SharedAccessKey={}",
            self.config.host_name, s.primary_key
        )
    }

    /// The DPS service connection string (`provisioningserviceowner`).
    pub fn dps_connection_string(&self) -> String {
        let s = lock(&self.state);
        format!(
            "HostName={};SharedAccessKeyName=provisioningserviceowner;SharedAccessKey={}",
            self.config.host_name, s.dps_key
        )
    }

    pub(crate) fn dps_key(&self) -> String {
        lock(&self.state).dps_key.clone()
    }

    /// Reads the enrollment groups.
    pub(crate) fn read_enrollment_groups<R>(
        &self,
        f: impl FnOnce(&BTreeMap<String, hubcert::contract::EnrollmentGroup>) -> R,
    ) -> R {
        f(&lock(&self.state).enrollment_groups)
    }

    /// Changes the enrollment groups and saves them, as every other change.
    pub(crate) fn write_enrollment_groups<R>(
        &self,
        f: impl FnOnce(&mut BTreeMap<String, hubcert::contract::EnrollmentGroup>) -> R,
    ) -> R {
        self.change(|s| f(&mut s.enrollment_groups))
    }

    pub(crate) fn owner_keys(&self) -> (String, String) {
        let s = lock(&self.state);
        (s.primary_key.clone(), s.secondary_key.clone())
    }

    /// Reads the state.
    pub(crate) fn read<R>(
        &self,
        f: impl FnOnce(&BTreeMap<String, CaRecord>, &BTreeMap<String, DeviceRecord>) -> R,
    ) -> R {
        let s = lock(&self.state);
        f(&s.certificates, &s.devices)
    }

    /// Notes that a device connected or sent now (`lastActivityTime`), in memory only: a save per
    /// message would cost a disk write per telemetry message, and the time tells nothing a device
    /// or the app relies on after a restart.
    pub(crate) fn touch(&self, device_id: &str) {
        if let Some(d) = lock(&self.state).devices.get_mut(device_id) {
            d.last_activity = Some(now_millis());
        }
    }

    /// As [`Hub::write`], saying whether the change was saved; an unsaved change is undone.
    pub(crate) fn try_write<R>(
        &self,
        f: impl FnOnce(&mut BTreeMap<String, CaRecord>, &mut BTreeMap<String, DeviceRecord>) -> R,
    ) -> Result<R, NotSaved> {
        self.try_change(|s| f(&mut s.certificates, &mut s.devices))
    }

    /// Changes the state and saves it; returns once the change is on disk. A change that cannot
    /// be saved is undone and fails the current request (see [`saving`]).
    pub(crate) fn write<R>(
        &self,
        f: impl FnOnce(&mut BTreeMap<String, CaRecord>, &mut BTreeMap<String, DeviceRecord>) -> R,
    ) -> R {
        self.change(|s| f(&mut s.certificates, &mut s.devices))
    }

    /// Changes the DPS's records (and the hub's devices) and saves them.
    pub(crate) fn write_dps<R>(&self, f: impl FnOnce(DpsRecords<'_>) -> R) -> R {
        self.change(|s| {
            f(DpsRecords {
                enrollments: &mut s.enrollments,
                registrations: &mut s.registrations,
                devices: &mut s.devices,
            })
        })
    }

    /// Reads the individual enrollments.
    pub(crate) fn read_enrollments<R>(
        &self,
        f: impl FnOnce(&BTreeMap<String, hubcert::contract::IndividualEnrollment>) -> R,
    ) -> R {
        f(&lock(&self.state).enrollments)
    }

    /// Reads the registration states.
    pub(crate) fn read_registrations<R>(
        &self,
        f: impl FnOnce(&BTreeMap<String, hubcert::contract::RegistrationState>) -> R,
    ) -> R {
        f(&lock(&self.state).registrations)
    }

    /// Reads the CA certificates of `store`.
    pub(crate) fn read_certs<R>(
        &self,
        store: CertStore,
        f: impl FnOnce(&BTreeMap<String, CaRecord>) -> R,
    ) -> R {
        let s = lock(&self.state);
        f(match store {
            CertStore::Hub => &s.certificates,
            CertStore::Dps => &s.dps_certificates,
        })
    }

    /// Changes the CA certificates of `store` and saves them.
    pub(crate) fn write_certs<R>(
        &self,
        store: CertStore,
        f: impl FnOnce(&mut BTreeMap<String, CaRecord>) -> R,
    ) -> R {
        self.change(|s| {
            f(match store {
                CertStore::Hub => &mut s.certificates,
                CertStore::Dps => &mut s.dps_certificates,
            })
        })
    }

    /// Changes the persisted state and returns once the change is on disk. When it cannot be
    /// saved, the state goes back to what is on disk and the current request is told (see
    /// [`saving`]): its answer becomes an error, whatever `f` returned.
    fn change<R>(&self, f: impl FnOnce(&mut Persisted) -> R) -> R {
        let (result, saved) = self.change_and_save(f);
        if let Err(e) = saved {
            let told = UNSAVED
                .try_with(|u| {
                    u.borrow_mut().get_or_insert_with(|| e.clone());
                })
                .is_ok();
            if !told {
                eprintln!("localhub: {e}; no request was there to be told");
            }
        }
        result
    }

    /// As [`Hub::change`], the failure returned to the caller.
    fn try_change<R>(&self, f: impl FnOnce(&mut Persisted) -> R) -> Result<R, NotSaved> {
        let (result, saved) = self.change_and_save(f);
        saved.map(|()| result)
    }

    fn change_and_save<R>(&self, f: impl FnOnce(&mut Persisted) -> R) -> (R, Result<(), NotSaved>) {
        let (result, change) = {
            let mut s = lock(&self.state);
            let result = f(&mut s);
            (result, self.changes.fetch_add(1, Ordering::SeqCst) + 1)
        };
        let saved = self.save_through(change);
        if let Err(e) = &saved {
            eprintln!(
                "localhub: could not save state: {}; the change was undone",
                e.0
            );
        }
        (result, saved)
    }

    fn save(&self) -> Result<(), NotSaved> {
        self.save_through(self.changes.load(Ordering::SeqCst))
    }

    /// Saves unless a save since `change` already did: concurrent writers share one write
    /// (group commit), and saves land on disk in the order their snapshots were taken. When the
    /// write fails, every change not on disk (this one, and any made since the last good write) is
    /// undone, and each of their writers gets the error.
    fn save_through(&self, change: u64) -> Result<(), NotSaved> {
        let Some(file) = &self.state_file else {
            return Ok(());
        };
        let mut saved = lock(&self.saved);
        if let Some((_, _, why)) = saved
            .undone
            .iter()
            .find(|(after, upto, _)| *after < change && change <= *upto)
        {
            return Err(why.clone());
        }
        if saved.upto >= change {
            return Ok(());
        }
        let (text, upto) = {
            let s = lock(&self.state);
            let upto = self.changes.load(Ordering::SeqCst);
            let text = serde_json::to_vec_pretty(&*s).map_err(|e| NotSaved(e.to_string().into()));
            (text, upto)
        };
        let written = text.and_then(|text| {
            crate::persist::write_atomic(file, &text)
                .map(|()| text)
                .map_err(|e| NotSaved(format!("writing {}: {e}", file.display()).into()))
        });
        match written {
            Ok(text) => {
                saved.upto = upto;
                saved.bytes = text;
                Ok(())
            }
            Err(why) => {
                // Back to what is on disk; changes made meanwhile are undone too.
                let mut s = lock(&self.state);
                let through = self.changes.load(Ordering::SeqCst);
                if !saved.bytes.is_empty() {
                    match serde_json::from_slice::<Persisted>(&saved.bytes) {
                        Ok(on_disk) => *s = on_disk,
                        Err(e) => eprintln!("localhub: could not undo unsaved changes: {e}"),
                    }
                }
                let after = saved.upto;
                match saved.undone.last_mut() {
                    // Failures with no good write between them undo one run of changes.
                    Some(last) if last.0 == after => {
                        last.1 = through;
                        last.2 = why.clone();
                    }
                    _ => saved.undone.push((after, through, why.clone())),
                }
                Err(why)
            }
        }
    }

    /// Records an event and tells watchers.
    pub(crate) fn record(&self, mut event: TelemetryEvent) {
        event.received_at = now_millis();
        if event.kind == EventKind::Telemetry {
            let size = event_bytes(&event);
            let (count, budget) = (self.config.telemetry_capacity, self.config.telemetry_bytes);
            if count > 0 && size <= budget {
                let mut t = lock(&self.telemetry);
                while t.events.len() >= count || t.bytes + size > budget {
                    match t.events.pop_front() {
                        Some(old) => t.bytes -= event_bytes(&old),
                        None => break,
                    }
                }
                t.bytes += size;
                t.events.push_back(event.clone());
            }
        }
        let _ = self.events.send(event);
    }

    /// Watches telemetry and connection events as they happen.
    pub fn subscribe(&self) -> broadcast::Receiver<TelemetryEvent> {
        self.events.subscribe()
    }

    /// Telemetry received, oldest first, optionally for one device.
    pub fn telemetry(&self, device_id: Option<&str>) -> Vec<TelemetryEvent> {
        lock(&self.telemetry)
            .events
            .iter()
            .filter(|e| device_id.is_none_or(|d| e.device_id == d))
            .cloned()
            .collect()
    }

    /// Closes a device's live connection, if any, so a changed registration takes effect.
    pub(crate) fn disconnect(&self, device_id: &str) {
        if let Some(mut s) = lock(&self.sessions).remove(device_id) {
            if let Some(close) = s.close.take() {
                let _ = close.send(());
            }
        }
    }
}

pub(crate) fn event(
    kind: EventKind,
    device_id: &str,
    transport: DeviceTransport,
) -> TelemetryEvent {
    TelemetryEvent {
        kind,
        device_id: device_id.into(),
        transport,
        received_at: 0,
        body: None,
        properties: BTreeMap::new(),
        reason: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str) -> DeviceRecord {
        DeviceRecord {
            device_id: id.into(),
            etag: String::new(),
            generation_id: String::new(),
            enabled: true,
            auth: DeviceAuth::CertificateAuthority,
            reported: Default::default(),
            reported_version: 1,
            last_activity: None,
            service: Default::default(),
        }
    }

    /// Concurrent writers while saves fail now and then (the data directory taken away and put
    /// back): every writer told its change was saved finds it on disk, every writer told it was
    /// not finds it neither on disk nor in memory, and memory and disk agree at the end.
    #[test]
    fn with_failing_saves_only_what_was_acknowledged_is_kept() {
        let dir = std::env::temp_dir().join(format!("localhub-undo-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        let hub = Hub::open(Config {
            data_dir: Some(dir.clone()),
            ..Config::ephemeral()
        })
        .expect("open");
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let toggler = {
            let (dir, stop) = (dir.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    let _ = std::fs::remove_dir_all(&dir);
                    std::thread::sleep(std::time::Duration::from_millis(3));
                    std::fs::create_dir_all(&dir).expect("dir");
                    std::thread::sleep(std::time::Duration::from_millis(3));
                }
            })
        };
        let writers: Vec<_> = (0..8)
            .map(|t| {
                let hub = hub.clone();
                std::thread::spawn(move || {
                    let (mut saved, mut undone) = (Vec::new(), Vec::new());
                    for i in 0..100 {
                        let id = format!("d-{t}-{i}");
                        let r = hub.try_write(|_, devices| {
                            devices.insert(id.clone(), record(&id));
                        });
                        match r {
                            Ok(()) => saved.push(id),
                            Err(_) => undone.push(id),
                        }
                    }
                    (saved, undone)
                })
            })
            .collect();
        let (mut saved, mut undone) = (Vec::new(), Vec::new());
        for w in writers {
            let (s, u) = w.join().expect("writer");
            saved.extend(s);
            undone.extend(u);
        }
        stop.store(true, Ordering::SeqCst);
        toggler.join().expect("toggler");
        std::fs::create_dir_all(&dir).expect("dir");
        hub.try_write(|_, devices| {
            devices.insert("last".into(), record("last"));
        })
        .expect("a save with the directory in place");
        assert!(
            !saved.is_empty() && !undone.is_empty(),
            "saved {}, undone {}",
            saved.len(),
            undone.len()
        );
        let text = std::fs::read(dir.join("state.json")).expect("state");
        let on_disk: Persisted = serde_json::from_slice(&text).expect("parses");
        let mut expected: Vec<String> = saved.clone();
        expected.push("last".into());
        expected.sort();
        let disk: Vec<String> = on_disk.devices.keys().cloned().collect();
        assert_eq!(
            disk, expected,
            "on disk: the acknowledged writes, and only they"
        );
        let memory: Vec<String> = hub.read(|_, d| d.keys().cloned().collect());
        assert_eq!(memory, expected, "in memory: the same");
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// The review's flood: 2,000 messages of 256 KiB from one device. What is kept stays within
    /// the byte budget, the newest kept.
    #[test]
    fn telemetry_kept_stays_within_its_byte_budget() {
        let hub = Hub::open(Config::ephemeral()).expect("open");
        let budget = hub.config.telemetry_bytes;
        assert_eq!(budget, 64 * 1024 * 1024);
        let body = "x".repeat(256 * 1024);
        for i in 0..2000 {
            let mut e = event(EventKind::Telemetry, "flooder", DeviceTransport::Mqtt);
            e.body = Some(format!("{i:04}{body}"));
            hub.record(e);
        }
        let ring = lock(&hub.telemetry);
        let counted: usize = ring.events.iter().map(event_bytes).sum();
        assert_eq!(ring.bytes, counted);
        assert!(ring.bytes <= budget, "{} bytes kept", ring.bytes);
        // 64 MiB holds 255 of them.
        assert_eq!(ring.events.len(), 255);
        assert_eq!(
            ring.events
                .back()
                .and_then(|e| e.body.as_deref())
                .map(|b| &b[..4]),
            Some("1999")
        );
        drop(ring);
        // A message larger than the whole budget is not kept; the count limit still holds.
        let small = Hub::open(Config {
            telemetry_bytes: 1000,
            telemetry_capacity: 3,
            ..Config::ephemeral()
        })
        .expect("open");
        for i in 0..5 {
            let mut e = event(EventKind::Telemetry, "d", DeviceTransport::Mqtt);
            e.body = Some(i.to_string());
            small.record(e);
        }
        let mut big = event(EventKind::Telemetry, "d", DeviceTransport::Mqtt);
        big.body = Some("y".repeat(2000));
        small.record(big);
        let bodies: Vec<_> = small
            .telemetry(None)
            .into_iter()
            .filter_map(|e| e.body)
            .collect();
        assert_eq!(bodies, ["2", "3", "4"]);
    }

    /// Concurrent writers: when the last of them returns, the file holds every change (an older
    /// snapshot must never land after a newer one).
    #[test]
    fn the_file_holds_every_change_once_all_writers_return() {
        let dir = std::env::temp_dir().join(format!("localhub-store-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        let config = Config {
            data_dir: Some(dir.clone()),
            ..Config::ephemeral()
        };
        let hub = Hub::open(config).expect("open");
        let threads: Vec<_> = (0..16)
            .map(|t| {
                let hub = hub.clone();
                std::thread::spawn(move || {
                    for i in 0..50 {
                        let id = format!("d-{t}-{i}");
                        hub.write(|_, devices| {
                            devices.insert(
                                id.clone(),
                                DeviceRecord {
                                    device_id: id.clone(),
                                    etag: String::new(),
                                    generation_id: String::new(),
                                    enabled: true,
                                    auth: DeviceAuth::CertificateAuthority,
                                    reported: Default::default(),
                                    reported_version: 1,
                                    last_activity: None,
                                    service: Default::default(),
                                },
                            )
                        });
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("writer");
        }
        let text = std::fs::read(dir.join("state.json")).expect("state");
        let state: Persisted = serde_json::from_slice(&text).expect("parses");
        assert_eq!(state.devices.len(), 16 * 50);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

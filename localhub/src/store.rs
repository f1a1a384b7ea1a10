//! What localhub holds: CA certificates, devices and their twins (persisted), telemetry (in memory).

use std::collections::{BTreeMap, HashMap, VecDeque};
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

/// The hub: state behind a lock, written to disk after each change when a data directory is set.
pub struct Hub {
    pub(crate) config: Config,
    state: Mutex<Persisted>,
    telemetry: Mutex<VecDeque<TelemetryEvent>>,
    pub(crate) events: broadcast::Sender<TelemetryEvent>,
    pub(crate) sessions: Mutex<HashMap<String, Session>>,
    etag_counter: AtomicU64,
    session_counter: AtomicU64,
    state_file: Option<PathBuf>,
    /// Changes made so far; a save covers every change up to the count it read.
    changes: AtomicU64,
    /// The change count the file on disk holds; its lock lets one writer at a time save.
    saved: Mutex<u64>,
}

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
        let (events, _) = broadcast::channel(1024);
        let hub = Arc::new(Self {
            config,
            state: Mutex::new(state),
            telemetry: Mutex::new(VecDeque::new()),
            events,
            sessions: Mutex::new(HashMap::new()),
            etag_counter: AtomicU64::new(now_unix().unsigned_abs() << 16),
            session_counter: AtomicU64::new(1),
            state_file,
            changes: AtomicU64::new(1),
            saved: Mutex::new(0),
        });
        hub.save()?;
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

    /// Changes the state and saves it; returns once the change is on disk.
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

    /// Changes the persisted state and returns once the change is on disk.
    fn change<R>(&self, f: impl FnOnce(&mut Persisted) -> R) -> R {
        let (result, change) = {
            let mut s = lock(&self.state);
            let result = f(&mut s);
            (result, self.changes.fetch_add(1, Ordering::SeqCst) + 1)
        };
        if let Err(e) = self.save_through(change) {
            eprintln!("localhub: could not save state: {e}");
        }
        result
    }

    fn save(&self) -> Result<(), String> {
        self.save_through(self.changes.load(Ordering::SeqCst))
    }

    /// Saves unless a save since `change` already did: concurrent writers share one write
    /// (group commit), and saves land on disk in the order their snapshots were taken.
    fn save_through(&self, change: u64) -> Result<(), String> {
        let Some(file) = &self.state_file else {
            return Ok(());
        };
        let mut saved = lock(&self.saved);
        if *saved >= change {
            return Ok(());
        }
        let (text, upto) = {
            let s = lock(&self.state);
            let upto = self.changes.load(Ordering::SeqCst);
            let text = serde_json::to_vec_pretty(&*s).map_err(|e| e.to_string())?;
            (text, upto)
        };
        crate::persist::write_atomic(file, &text)
            .map_err(|e| format!("writing {}: {e}", file.display()))?;
        *saved = upto;
        Ok(())
    }

    /// Records an event and tells watchers.
    pub(crate) fn record(&self, mut event: TelemetryEvent) {
        event.received_at = now_millis();
        if event.kind == EventKind::Telemetry {
            let mut t = lock(&self.telemetry);
            if t.len() >= self.config.telemetry_capacity {
                t.pop_front();
            }
            t.push_back(event.clone());
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

//! The provisioning test's connections (DPS registration, then the device session on the assigned
//! hub, each over the app's one MQTT socket), and what the user sees of them.

use std::rc::Rc;

use yew::prelude::*;

pub(super) use crate::app::mqtt_socket::now_ms;
use crate::app::mqtt_socket::{MqttSocket, SocketNote};
use crate::mqtt::{DeviceSession, Provisioning};

/// Where the provisioning test is.
#[derive(Clone, PartialEq)]
pub(super) enum Phase {
    /// Working, with what is happening.
    Busy(String),
    /// DPS assigned the device; the hub connection comes next.
    Assigned { hub: String, device_id: String },
    /// The assigned hub acknowledged the device's telemetry.
    Delivered { hub: String, device_id: String },
    /// It stopped, with why and what to do.
    Failed(String),
}

#[derive(Clone, PartialEq)]
pub(super) struct LogLine {
    pub(super) time: String,
    pub(super) dir: &'static str,
    pub(super) text: String,
}

#[derive(Clone, PartialEq, Default)]
pub(super) struct RunView {
    pub(super) phase: Option<Phase>,
    pub(super) log: Vec<LogLine>,
}

pub(super) enum RunAction {
    Reset,
    Phase(Phase),
    Log(&'static str, String),
}

const LOG_LINES: usize = 200;

impl Reducible for RunView {
    type Action = RunAction;

    fn reduce(self: Rc<Self>, action: RunAction) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            RunAction::Reset => next = RunView::default(),
            RunAction::Phase(p) => next.phase = Some(p),
            RunAction::Log(dir, text) => {
                let d = js_sys::Date::new_0();
                next.log.push(LogLine {
                    time: format!(
                        "{:02}:{:02}:{:02}.{:03}",
                        d.get_hours(),
                        d.get_minutes(),
                        d.get_seconds(),
                        d.get_milliseconds()
                    ),
                    dir,
                    text,
                });
                if next.log.len() > LOG_LINES {
                    next.log.remove(0);
                }
            }
        }
        Rc::new(next)
    }
}

/// The provisioning test's open connection: to DPS, then to the assigned hub.
pub(super) enum Connection {
    Dps(MqttSocket<Provisioning>),
    Hub(MqttSocket<DeviceSession>),
}

impl Connection {
    /// Ends it without a word in the log (a new run replaces it).
    pub(super) fn close(&self) {
        match self {
            Self::Dps(socket) => socket.close(),
            Self::Hub(socket) => socket.close(),
        }
    }
}

/// What a connection's socket said, in the log and the phase; `what` names the far side in
/// messages ("DPS", "the hub").
pub(super) fn notes(view: &UseReducerHandle<RunView>, what: &'static str) -> Callback<SocketNote> {
    let view = view.clone();
    Callback::from(move |note| match note {
        SocketNote::Sent(frame) => view.dispatch(RunAction::Log("out", frame)),
        SocketNote::Trouble(text) => view.dispatch(RunAction::Log("err", text)),
        SocketNote::Broken(e) => view.dispatch(RunAction::Phase(Phase::Failed(format!(
            "The connection to {what} ended: {e}."
        )))),
        SocketNote::Closed { code, opened } => {
            view.dispatch(RunAction::Log(
                "err",
                format!("WebSocket to {what} closed (code {code})"),
            ));
            view.dispatch(RunAction::Phase(Phase::Failed(if opened {
                format!("{what} closed the connection (WebSocket code {code}) before the step finished.")
            } else {
                format!("The WebSocket to {what} did not open. Check the address; that this browser trusts its TLS certificate (for localhub, its root); and that the device certificate is imported in the browser (none was offered, or it was refused).")
            })));
        }
    })
}

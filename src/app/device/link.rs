//! The connection under the device test: its view state, and the WebSocket wired to the core's
//! MQTT session (frames in, events out).

use super::*;

#[derive(Clone, PartialEq)]
pub(super) enum Status {
    /// On the way, with what is happening.
    Connecting(String),
    Connected,
    /// CONNACK 1-5; `x509` decides which causes are listed.
    Refused {
        refusal: Refusal,
        x509: bool,
    },
    /// Ended, with why.
    Closed(String),
}

#[derive(Clone, PartialEq)]
pub(super) struct LogLine {
    pub(super) time: String,
    pub(super) dir: &'static str,
    pub(super) text: String,
}

#[derive(Clone, PartialEq, Default)]
pub(super) struct DeviceView {
    pub(super) status: Option<Status>,
    pub(super) log: Vec<LogLine>,
    pub(super) c2d: Vec<String>,
    pub(super) twin: Option<String>,
    pub(super) sent: u32,
    pub(super) acked: u32,
    /// QoS 1 messages whose PUBACK never came within `ACK_TIMEOUT_MS`.
    pub(super) timed_out: u32,
}

pub(super) enum DeviceAction {
    Status(Status),
    Log(&'static str, String),
    C2d(String),
    Twin(String),
    Sent,
    Acked,
    TimedOut,
}

const LOG_LINES: usize = 300;

impl Reducible for DeviceView {
    type Action = DeviceAction;

    fn reduce(self: Rc<Self>, action: DeviceAction) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            DeviceAction::Status(s) => next.status = Some(s),
            DeviceAction::Log(dir, text) => {
                next.log.push(LogLine {
                    time: clock(),
                    dir,
                    text,
                });
                if next.log.len() > LOG_LINES {
                    next.log.remove(0);
                }
            }
            DeviceAction::C2d(m) => next.c2d.insert(0, m),
            DeviceAction::Twin(t) => next.twin = Some(t),
            DeviceAction::Sent => next.sent += 1,
            DeviceAction::Acked => next.acked += 1,
            DeviceAction::TimedOut => next.timed_out += 1,
        }
        Rc::new(next)
    }
}

/// The device test's connection: the core's device session over one WebSocket.
pub(super) type Link = MqttSocket<DeviceSession>;

/// Opens the WebSocket and runs a new device session over it.
pub(super) fn open(
    url: &str,
    options: &ConnectOptions,
    x509: bool,
    view: &UseReducerHandle<DeviceView>,
) -> Result<Link, String> {
    let session = DeviceSession::connect(options, now_ms()).map_err(|e| e.to_string())?;
    view.dispatch(DeviceAction::Status(Status::Connecting(
        "Opening the WebSocket; CONNECT goes out when it opens…".into(),
    )));
    let on_note = {
        let view = view.clone();
        Callback::from(move |note| noted(note, x509, &view))
    };
    let view = view.clone();
    MqttSocket::open(url, session, on_note, move |event, session| {
        handle(event, session, &view, x509)
    })
}

/// What the socket said, in the log and the status.
fn noted(note: SocketNote, x509: bool, view: &UseReducerHandle<DeviceView>) {
    match note {
        SocketNote::Sent(frame) => view.dispatch(DeviceAction::Log("out", frame)),
        SocketNote::Trouble(what) => view.dispatch(DeviceAction::Log("err", what)),
        SocketNote::Broken(e) => {
            view.dispatch(DeviceAction::Log("err", e.to_string()));
            view.dispatch(DeviceAction::Status(Status::Closed(format!(
                "Connection closed: {e}."
            ))));
        }
        SocketNote::Closed { code, opened } => {
            view.dispatch(DeviceAction::Log(
                "err",
                format!("WebSocket closed (code {code})"),
            ));
            view.dispatch(DeviceAction::Status(Status::Closed(if !opened && x509 {
                "The WebSocket did not open. Check the address; that this browser trusts the hub's TLS certificate (for localhub, its root); and that a device certificate is imported in the browser (none was offered, or the hub refused it).".into()
            } else if !opened {
                "The WebSocket did not open. Check the address and that this browser trusts the hub's TLS certificate (for localhub, its root).".into()
            } else {
                format!("The hub closed the connection (WebSocket code {code}).")
            })));
        }
    }
}

/// One event of the device session: the log line the core words, and what changes on the page.
fn handle(
    event: DeviceEvent,
    session: &mut DeviceSession,
    view: &UseReducerHandle<DeviceView>,
    x509: bool,
) -> Next {
    let (side, line) = device_event_line(&event);
    let dir = match side {
        LogSide::In => "in",
        LogSide::Err => "err",
    };
    view.dispatch(DeviceAction::Log(dir, line));
    if let Some(text) = twin_panel_text(&event) {
        view.dispatch(DeviceAction::Twin(text));
    }
    match event {
        DeviceEvent::Connected => view.dispatch(DeviceAction::Status(Status::Connected)),
        DeviceEvent::Refused(refusal) => {
            view.dispatch(DeviceAction::Status(Status::Refused { refusal, x509 }));
            return Next::Close;
        }
        DeviceEvent::Acknowledged { .. } => view.dispatch(DeviceAction::Acked),
        DeviceEvent::Lost { .. } => view.dispatch(DeviceAction::TimedOut),
        DeviceEvent::CloudToDevice { body, properties } => {
            view.dispatch(DeviceAction::C2d(cloud_to_device_text(&body, &properties)))
        }
        DeviceEvent::MethodCall { name, rid, payload } => {
            let (status, answer) = method_answer(&name, &payload);
            if let Err(e) = session.answer_method(&rid, status, &answer, now_ms()) {
                view.dispatch(DeviceAction::Log("err", e.to_string()));
            }
        }
        _ => {}
    }
    Next::Continue
}

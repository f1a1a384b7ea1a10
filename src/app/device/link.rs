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

/// An open WebSocket and the MQTT session over it, with the JS callbacks kept alive.
pub(super) struct Link {
    pub(super) socket: WebSocket,
    pub(super) session: Rc<RefCell<Option<Session>>>,
    pub(super) device_id: String,
    pub(super) next_rid: u32,
    pub(super) _handlers: Vec<Closure<dyn FnMut(JsValue)>>,
    pub(super) _ticker: gloo::timers::callback::Interval,
}

impl Drop for Link {
    fn drop(&mut self) {
        self.socket.set_onopen(None);
        self.socket.set_onmessage(None);
        self.socket.set_onclose(None);
        self.socket.set_onerror(None);
        let _ = self.socket.close();
    }
}

/// Sends what the session queued, logging each frame.
pub(super) fn pump(socket: &WebSocket, session: &mut Session, view: &UseReducerHandle<DeviceView>) {
    for frame in session.take_outgoing() {
        view.dispatch(DeviceAction::Log("out", describe(&frame)));
        if let Err(e) = socket.send_with_u8_array(&frame) {
            view.dispatch(DeviceAction::Log(
                "err",
                format!("send failed: {}", e.as_string().unwrap_or_default()),
            ));
        }
    }
}

/// Opens the WebSocket and wires it to a new session.
pub(super) fn open(
    url: &str,
    options: ConnectOptions,
    x509: bool,
    view: &UseReducerHandle<DeviceView>,
) -> Result<Link, String> {
    let socket = WebSocket::new_with_str(url, "mqtt").map_err(|e| {
        format!(
            "Could not open {url}: {}",
            e.as_string().unwrap_or_default()
        )
    })?;
    socket.set_binary_type(BinaryType::Arraybuffer);
    let session: Rc<RefCell<Option<Session>>> = Rc::default();
    let device_id = options.client_id.clone();
    let mut handlers: Vec<Closure<dyn FnMut(JsValue)>> = Vec::new();

    let onopen = {
        let (socket, session, view) = (socket.clone(), session.clone(), view.clone());
        Closure::<dyn FnMut(JsValue)>::new(move |_| {
            view.dispatch(DeviceAction::Status(Status::Connecting(
                "WebSocket open; sending CONNECT…".into(),
            )));
            match Session::connect(&options, now_ms()) {
                Ok(mut s) => {
                    pump(&socket, &mut s, &view);
                    *session.borrow_mut() = Some(s);
                }
                Err(e) => view.dispatch(DeviceAction::Status(Status::Closed(e.to_string()))),
            }
        })
    };
    socket.set_onopen(Some(onopen.as_ref().unchecked_ref()));
    handlers.push(onopen);

    let onmessage = {
        let (socket, session, view, id) = (
            socket.clone(),
            session.clone(),
            view.clone(),
            device_id.clone(),
        );
        Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
            let Ok(e) = e.dyn_into::<MessageEvent>() else {
                return;
            };
            let Ok(buf) = e.data().dyn_into::<ArrayBuffer>() else {
                view.dispatch(DeviceAction::Log(
                    "err",
                    "a text frame: MQTT uses binary frames".into(),
                ));
                return;
            };
            let bytes = Uint8Array::new(&buf).to_vec();
            let mut guard = session.borrow_mut();
            let Some(s) = guard.as_mut() else { return };
            match s.receive(&bytes, now_ms()) {
                Ok(events) => {
                    for event in events {
                        handle(event, s, &socket, &view, &id, x509);
                    }
                    pump(&socket, s, &view);
                }
                Err(err) => {
                    view.dispatch(DeviceAction::Log("err", err.to_string()));
                    view.dispatch(DeviceAction::Status(Status::Closed(format!(
                        "Connection closed: {err}."
                    ))));
                    let _ = socket.close();
                }
            }
        })
    };
    socket.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    handlers.push(onmessage);

    let onclose = {
        let (session, view) = (session.clone(), view.clone());
        Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
            let code = e.dyn_ref::<CloseEvent>().map(|c| c.code()).unwrap_or(0);
            let was_open = session.borrow().as_ref().is_some_and(|s| s.is_connected());
            let never_opened = session.borrow().is_none();
            view.dispatch(DeviceAction::Log(
                "err",
                format!("WebSocket closed (code {code})"),
            ));
            if never_opened {
                view.dispatch(DeviceAction::Status(Status::Closed(if x509 {
                    "The WebSocket did not open. Check the address; that this browser trusts the hub's TLS certificate (for localhub, its root); and that a device certificate is imported in the browser (none was offered, or the hub refused it).".into()
                } else {
                    "The WebSocket did not open. Check the address and that this browser trusts the hub's TLS certificate (for localhub, its root).".into()
                })));
            } else if was_open {
                view.dispatch(DeviceAction::Status(Status::Closed(format!(
                    "The hub closed the connection (WebSocket code {code})."
                ))));
            }
        })
    };
    socket.set_onclose(Some(onclose.as_ref().unchecked_ref()));
    handlers.push(onclose);

    let ticker = {
        let (socket, session, view) = (socket.clone(), session.clone(), view.clone());
        gloo::timers::callback::Interval::new(1000, move || {
            let mut guard = session.borrow_mut();
            let Some(s) = guard.as_mut() else { return };
            let now = now_ms();
            for pkid in s.expire_unacknowledged(now) {
                view.dispatch(DeviceAction::TimedOut);
                view.dispatch(DeviceAction::Log(
                    "err",
                    format!(
                        "PUBLISH id {pkid}: no PUBACK within {} s; counted as lost",
                        ACK_TIMEOUT_MS / 1000
                    ),
                ));
            }
            match s.tick(now) {
                Ok(()) => pump(&socket, s, &view),
                Err(e) => {
                    view.dispatch(DeviceAction::Status(Status::Closed(e.to_string())));
                    let _ = socket.close();
                }
            }
        })
    };

    Ok(Link {
        socket,
        session,
        device_id,
        next_rid: 0,
        _handlers: handlers,
        _ticker: ticker,
    })
}

pub(super) fn handle(
    event: Event,
    session: &mut Session,
    socket: &WebSocket,
    view: &UseReducerHandle<DeviceView>,
    device_id: &str,
    x509: bool,
) {
    match event {
        Event::Connected { .. } => {
            view.dispatch(DeviceAction::Log("in", "CONNACK 0: accepted".into()));
            view.dispatch(DeviceAction::Status(Status::Connected));
            let now = now_ms();
            for filter in [
                TopicFilter::CloudToDevice {
                    device_id: device_id.to_owned(),
                },
                TopicFilter::TwinResponses,
            ] {
                let filter = filter.to_string();
                if let Err(e) = session.subscribe(&filter, QoS::AtLeastOnce, now) {
                    view.dispatch(DeviceAction::Log("err", e.to_string()));
                }
            }
        }
        Event::Refused(r) => {
            view.dispatch(DeviceAction::Log(
                "in",
                format!("CONNACK {}: refused", r.code()),
            ));
            view.dispatch(DeviceAction::Status(Status::Refused { refusal: r, x509 }));
            let _ = socket.close();
        }
        Event::Acknowledged { pkid, rtt_ms } => {
            view.dispatch(DeviceAction::Acked);
            view.dispatch(DeviceAction::Log(
                "in",
                format!("PUBACK id {pkid} after {rtt_ms} ms"),
            ));
        }
        Event::Subscribed { pkid, granted } => {
            let refused = granted.iter().any(Option::is_none);
            view.dispatch(DeviceAction::Log(
                if refused { "err" } else { "in" },
                format!("SUBACK id {pkid}{}", if refused { ": refused" } else { "" }),
            ));
        }
        Event::Message { topic, payload, .. } => {
            let body = String::from_utf8_lossy(&payload).into_owned();
            match Topic::parse(&topic) {
                Ok(Topic::TwinResponse {
                    status,
                    rid,
                    version,
                }) => {
                    view.dispatch(DeviceAction::Log(
                        "in",
                        format!("twin response {status} for request {rid}"),
                    ));
                    let shown = match status {
                        200 => serde_json::from_str::<serde_json::Value>(&body)
                            .and_then(|v| serde_json::to_string_pretty(&v))
                            .unwrap_or(body),
                        204 => format!(
                            "Reported properties updated (version {}).",
                            version.map(|v| v.to_string()).unwrap_or_else(|| "?".into())
                        ),
                        s => format!("The hub answered {s}: {body}"),
                    };
                    view.dispatch(DeviceAction::Twin(shown));
                }
                Ok(Topic::CloudToDevice {
                    device_id: to,
                    properties,
                }) if to == device_id => {
                    let props = properties
                        .0
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(", ");
                    view.dispatch(DeviceAction::Log(
                        "in",
                        format!("cloud-to-device message ({} bytes)", payload.len()),
                    ));
                    view.dispatch(DeviceAction::C2d(if props.is_empty() {
                        body
                    } else {
                        format!("{body}  [{props}]")
                    }));
                }
                _ => view.dispatch(DeviceAction::Log(
                    "in",
                    format!("PUBLISH {topic} ({} bytes)", payload.len()),
                )),
            }
        }
        Event::Pong { rtt_ms } => view.dispatch(DeviceAction::Log(
            "in",
            format!("PINGRESP after {rtt_ms} ms"),
        )),
    }
}

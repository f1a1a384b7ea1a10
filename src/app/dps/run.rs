//! The provisioning test's connections: a WebSocket wired to one of the core's sans-IO MQTT flows
//! (DPS registration, then the device session on the assigned hub), and what the user sees of it.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{ArrayBuffer, Uint8Array};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{BinaryType, CloseEvent, MessageEvent, WebSocket};
use yew::prelude::*;

use crate::mqtt::{describe, Event, MqttError, Provisioning, ProvisioningEvent, Session};

pub(super) fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

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

/// A sans-IO MQTT flow of the core: bytes in, frames out, time passed in.
pub(super) trait Flow: 'static {
    type Ev;
    fn take_outgoing(&mut self) -> Vec<Vec<u8>>;
    fn receive(&mut self, bytes: &[u8], now_ms: u64) -> Result<Vec<Self::Ev>, MqttError>;
    fn tick(&mut self, now_ms: u64) -> Result<(), MqttError>;
}

impl Flow for Provisioning {
    type Ev = ProvisioningEvent;
    fn take_outgoing(&mut self) -> Vec<Vec<u8>> {
        Provisioning::take_outgoing(self)
    }
    fn receive(&mut self, bytes: &[u8], now_ms: u64) -> Result<Vec<Self::Ev>, MqttError> {
        Provisioning::receive(self, bytes, now_ms)
    }
    fn tick(&mut self, now_ms: u64) -> Result<(), MqttError> {
        Provisioning::tick(self, now_ms)
    }
}

impl Flow for Session {
    type Ev = Event;
    fn take_outgoing(&mut self) -> Vec<Vec<u8>> {
        Session::take_outgoing(self)
    }
    fn receive(&mut self, bytes: &[u8], now_ms: u64) -> Result<Vec<Self::Ev>, MqttError> {
        Session::receive(self, bytes, now_ms)
    }
    fn tick(&mut self, now_ms: u64) -> Result<(), MqttError> {
        Session::tick(self, now_ms)
    }
}

/// An open WebSocket carrying one flow; closing it (or dropping it) ends the connection.
pub(super) struct Wire {
    socket: WebSocket,
    _handlers: Vec<Closure<dyn FnMut(JsValue)>>,
    _ticker: gloo::timers::callback::Interval,
}

impl Drop for Wire {
    fn drop(&mut self) {
        self.socket.set_onopen(None);
        self.socket.set_onmessage(None);
        self.socket.set_onclose(None);
        let _ = self.socket.close();
    }
}

fn pump<F: Flow>(socket: &WebSocket, flow: &mut F, view: &UseReducerHandle<RunView>) {
    for frame in flow.take_outgoing() {
        view.dispatch(RunAction::Log("out", describe(&frame)));
        if socket.send_with_u8_array(&frame).is_err() {
            view.dispatch(RunAction::Log("err", "the WebSocket would not send".into()));
        }
    }
}

/// What a flow's event handler may do besides reading the event.
pub(super) struct Turn<'a, F> {
    pub(super) flow: &'a mut F,
    pub(super) view: &'a UseReducerHandle<RunView>,
    /// Set to end the connection once the frames queued now are sent.
    pub(super) done: bool,
}

/// Opens `url` with the MQTT subprotocol and runs `flow` over it; `on_event` sees each event.
/// `what` names the far side in messages ("DPS", "the hub").
pub(super) fn open<F: Flow>(
    url: &str,
    what: &'static str,
    flow: F,
    view: &UseReducerHandle<RunView>,
    on_event: impl Fn(F::Ev, &mut Turn<'_, F>) + 'static,
) -> Result<Wire, String> {
    let socket = WebSocket::new_with_str(url, "mqtt").map_err(|e| {
        format!(
            "Could not open {url}: {}",
            e.as_string().unwrap_or_default()
        )
    })?;
    socket.set_binary_type(BinaryType::Arraybuffer);
    let flow = Rc::new(RefCell::new(flow));
    let opened = Rc::new(std::cell::Cell::new(false));
    let finished = Rc::new(std::cell::Cell::new(false));
    let mut handlers: Vec<Closure<dyn FnMut(JsValue)>> = Vec::new();

    let onopen = {
        let (socket, flow, view, opened) =
            (socket.clone(), flow.clone(), view.clone(), opened.clone());
        Closure::<dyn FnMut(JsValue)>::new(move |_| {
            opened.set(true);
            pump(&socket, &mut *flow.borrow_mut(), &view);
        })
    };
    socket.set_onopen(Some(onopen.as_ref().unchecked_ref()));
    handlers.push(onopen);

    let onmessage = {
        let (socket, flow, view, finished) =
            (socket.clone(), flow.clone(), view.clone(), finished.clone());
        Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
            let Some(buf) = e
                .dyn_into::<MessageEvent>()
                .ok()
                .and_then(|m| m.data().dyn_into::<ArrayBuffer>().ok())
            else {
                view.dispatch(RunAction::Log(
                    "err",
                    "a text frame: MQTT uses binary frames".into(),
                ));
                return;
            };
            let bytes = Uint8Array::new(&buf).to_vec();
            let mut flow = flow.borrow_mut();
            match flow.receive(&bytes, now_ms()) {
                Ok(events) => {
                    let mut turn = Turn {
                        flow: &mut *flow,
                        view: &view,
                        done: false,
                    };
                    for event in events {
                        on_event(event, &mut turn);
                    }
                    let done = turn.done;
                    pump(&socket, &mut *flow, &view);
                    if done {
                        finished.set(true);
                        let _ = socket.close();
                    }
                }
                Err(err) => {
                    finished.set(true);
                    view.dispatch(RunAction::Phase(Phase::Failed(format!(
                        "{what} sent something that is not MQTT: {err}."
                    ))));
                    let _ = socket.close();
                }
            }
        })
    };
    socket.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    handlers.push(onmessage);

    let onclose = {
        let (view, opened, finished) = (view.clone(), opened.clone(), finished.clone());
        Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
            let code = e.dyn_ref::<CloseEvent>().map(|c| c.code()).unwrap_or(0);
            view.dispatch(RunAction::Log(
                "err",
                format!("WebSocket to {what} closed (code {code})"),
            ));
            if finished.get() {
                return;
            }
            view.dispatch(RunAction::Phase(Phase::Failed(if opened.get() {
                format!("{what} closed the connection (WebSocket code {code}) before the step finished.")
            } else {
                format!("The WebSocket to {what} did not open. Check the address; that this browser trusts its TLS certificate (for localhub, its root); and that the device certificate is imported in the browser (none was offered, or it was refused).")
            })));
        })
    };
    socket.set_onclose(Some(onclose.as_ref().unchecked_ref()));
    handlers.push(onclose);

    let ticker = {
        let (socket, flow, view) = (socket.clone(), flow.clone(), view.clone());
        gloo::timers::callback::Interval::new(500, move || {
            let Ok(mut flow) = flow.try_borrow_mut() else {
                return;
            };
            if flow.tick(now_ms()).is_ok() {
                pump(&socket, &mut *flow, &view);
            }
        })
    };

    Ok(Wire {
        socket,
        _handlers: handlers,
        _ticker: ticker,
    })
}

/// Makes the browser decide on a client certificate for `address` before a WebSocket goes there:
/// browsers choose one for https requests only and reuse that choice for the WebSocket.
pub(super) async fn choose_certificate(address: &str) {
    let _ = gloo::net::http::Request::get(&format!("https://{address}/"))
        .mode(web_sys::RequestMode::NoCors)
        .send()
        .await;
}

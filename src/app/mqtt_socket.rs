//! One WebSocket carrying one of the core's sans-IO MQTT flows (a DPS registration, a device's
//! session with its hub): frames go out as the flow queues them, bytes come in to the flow, its
//! clock ticks. The device test and the provisioning test both run over it; what a flow's events
//! mean is theirs (and the core's) to say.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{ArrayBuffer, Uint8Array};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{BinaryType, CloseEvent, MessageEvent, WebSocket};
use yew::Callback;

use crate::mqtt::{
    describe, DeviceEvent, DeviceSession, MqttError, Provisioning, ProvisioningEvent,
};

/// The page's clock, in milliseconds.
pub(crate) fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}

/// A sans-IO MQTT flow of the core: bytes in, frames out, time passed in.
pub(crate) trait Flow: 'static {
    /// What the flow reports.
    type Ev;
    fn take_outgoing(&mut self) -> Vec<Vec<u8>>;
    fn receive(&mut self, bytes: &[u8], now_ms: u64) -> Result<Vec<Self::Ev>, MqttError>;
    fn tick(&mut self, now_ms: u64) -> Result<Vec<Self::Ev>, MqttError>;
}

impl Flow for Provisioning {
    type Ev = ProvisioningEvent;
    fn take_outgoing(&mut self) -> Vec<Vec<u8>> {
        Provisioning::take_outgoing(self)
    }
    fn receive(&mut self, bytes: &[u8], now_ms: u64) -> Result<Vec<Self::Ev>, MqttError> {
        Provisioning::receive(self, bytes, now_ms)
    }
    fn tick(&mut self, now_ms: u64) -> Result<Vec<Self::Ev>, MqttError> {
        Provisioning::tick(self, now_ms).map(|()| Vec::new())
    }
}

impl Flow for DeviceSession {
    type Ev = DeviceEvent;
    fn take_outgoing(&mut self) -> Vec<Vec<u8>> {
        DeviceSession::take_outgoing(self)
    }
    fn receive(&mut self, bytes: &[u8], now_ms: u64) -> Result<Vec<Self::Ev>, MqttError> {
        DeviceSession::receive(self, bytes, now_ms)
    }
    fn tick(&mut self, now_ms: u64) -> Result<Vec<Self::Ev>, MqttError> {
        DeviceSession::tick(self, now_ms)
    }
}

/// What the socket tells the page besides the flow's events.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SocketNote {
    /// A frame went out (described).
    Sent(String),
    /// A frame could not be sent, or a text frame came.
    Trouble(String),
    /// The far side broke the protocol, or stopped answering: the connection is closed.
    Broken(MqttError),
    /// The WebSocket closed while the page still expected more; `opened` tells whether it had
    /// ever opened.
    Closed { code: u16, opened: bool },
}

/// After an event: go on, or end the connection once the frames queued now are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Next {
    Continue,
    Close,
}

/// What the page does with each of a flow's events.
type OnEvent<F> = Rc<dyn Fn(<F as Flow>::Ev, &mut F) -> Next>;

/// An open WebSocket carrying `F`; closing it (or dropping it) ends the connection.
pub(crate) struct MqttSocket<F: Flow> {
    socket: WebSocket,
    flow: Rc<RefCell<F>>,
    on_note: Callback<SocketNote>,
    /// The page ended it (or the flow did): its close is not news.
    finished: Rc<Cell<bool>>,
    _handlers: Vec<Closure<dyn FnMut(JsValue)>>,
    _ticker: gloo::timers::callback::Interval,
    /// An open connection: the page is not handed over under it.
    _busy: super::browser::Busy,
}

impl<F: Flow> Drop for MqttSocket<F> {
    fn drop(&mut self) {
        self.socket.set_onopen(None);
        self.socket.set_onmessage(None);
        self.socket.set_onclose(None);
        let _ = self.socket.close();
    }
}

fn pump<F: Flow>(socket: &WebSocket, flow: &mut F, on_note: &Callback<SocketNote>) {
    for frame in flow.take_outgoing() {
        on_note.emit(SocketNote::Sent(describe(&frame)));
        if socket.send_with_u8_array(&frame).is_err() {
            on_note.emit(SocketNote::Trouble("the WebSocket would not send".into()));
        }
    }
}

impl<F: Flow> MqttSocket<F> {
    /// Opens `url` with the MQTT subprotocol and runs `flow` over it (its CONNECT goes out when
    /// the socket opens); `on_event` sees each event with the flow, to act on it.
    pub(crate) fn open(
        url: &str,
        flow: F,
        on_note: Callback<SocketNote>,
        on_event: impl Fn(F::Ev, &mut F) -> Next + 'static,
    ) -> Result<Self, String> {
        Self::open_with(url, flow, on_note, Rc::new(on_event))
    }

    /// [`Self::open`], made once for each flow, not once for each page's `on_event`.
    fn open_with(
        url: &str,
        flow: F,
        on_note: Callback<SocketNote>,
        on_event: OnEvent<F>,
    ) -> Result<Self, String> {
        let socket = WebSocket::new_with_str(url, "mqtt").map_err(|e| {
            format!(
                "Could not open {url}: {}",
                e.as_string().unwrap_or_default()
            )
        })?;
        socket.set_binary_type(BinaryType::Arraybuffer);
        let flow = Rc::new(RefCell::new(flow));
        let opened = Rc::new(Cell::new(false));
        let finished = Rc::new(Cell::new(false));
        let mut handlers: Vec<Closure<dyn FnMut(JsValue)>> = Vec::new();

        let onopen = {
            let (socket, flow, on_note, opened) = (
                socket.clone(),
                flow.clone(),
                on_note.clone(),
                opened.clone(),
            );
            Closure::<dyn FnMut(JsValue)>::new(move |_| {
                opened.set(true);
                pump(&socket, &mut *flow.borrow_mut(), &on_note);
            })
        };
        socket.set_onopen(Some(onopen.as_ref().unchecked_ref()));
        handlers.push(onopen);

        let onmessage = {
            let (socket, flow, on_note, finished, on_event) = (
                socket.clone(),
                flow.clone(),
                on_note.clone(),
                finished.clone(),
                on_event.clone(),
            );
            Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
                let Some(buf) = e
                    .dyn_into::<MessageEvent>()
                    .ok()
                    .and_then(|m| m.data().dyn_into::<ArrayBuffer>().ok())
                else {
                    on_note.emit(SocketNote::Trouble(
                        "a text frame: MQTT uses binary frames".into(),
                    ));
                    return;
                };
                let bytes = Uint8Array::new(&buf).to_vec();
                let events = flow.borrow_mut().receive(&bytes, now_ms());
                settle(events, &socket, &flow, &on_note, &finished, &*on_event);
            })
        };
        socket.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
        handlers.push(onmessage);

        let onclose = {
            let (on_note, opened, finished) = (on_note.clone(), opened.clone(), finished.clone());
            Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
                let code = e.dyn_ref::<CloseEvent>().map(|c| c.code()).unwrap_or(0);
                if !finished.replace(true) {
                    on_note.emit(SocketNote::Closed {
                        code,
                        opened: opened.get(),
                    });
                }
            })
        };
        socket.set_onclose(Some(onclose.as_ref().unchecked_ref()));
        handlers.push(onclose);

        let ticker = {
            let (socket, flow, on_note, finished) = (
                socket.clone(),
                flow.clone(),
                on_note.clone(),
                finished.clone(),
            );
            gloo::timers::callback::Interval::new(500, move || {
                if finished.get() {
                    return;
                }
                let Ok(mut guard) = flow.try_borrow_mut() else {
                    return;
                };
                let events = guard.tick(now_ms());
                drop(guard);
                settle(events, &socket, &flow, &on_note, &finished, &*on_event);
            })
        };

        Ok(Self {
            socket,
            flow,
            on_note,
            finished,
            _handlers: handlers,
            _ticker: ticker,
            _busy: super::browser::Busy::start(),
        })
    }

    /// Runs `act` on the flow (send, ask, answer), then sends what it queued.
    pub(crate) fn with_flow<R>(&self, act: impl FnOnce(&mut F) -> R) -> R {
        let mut flow = self.flow.borrow_mut();
        let out = act(&mut flow);
        pump(&self.socket, &mut *flow, &self.on_note);
        out
    }

    /// Ends the connection; its close is not reported.
    pub(crate) fn close(&self) {
        self.finished.set(true);
        let _ = self.socket.close();
    }
}

/// Hands the flow's events to the page, sends what they queued, and closes when asked or broken.
fn settle<F: Flow>(
    events: Result<Vec<F::Ev>, MqttError>,
    socket: &WebSocket,
    flow: &RefCell<F>,
    on_note: &Callback<SocketNote>,
    finished: &Cell<bool>,
    on_event: &dyn Fn(F::Ev, &mut F) -> Next,
) {
    let mut flow = flow.borrow_mut();
    match events {
        Ok(events) => {
            let mut next = Next::Continue;
            for event in events {
                if on_event(event, &mut flow) == Next::Close {
                    next = Next::Close;
                }
            }
            pump(socket, &mut *flow, on_note);
            if next == Next::Close {
                finished.set(true);
                let _ = socket.close();
            }
        }
        Err(e) => {
            finished.set(true);
            on_note.emit(SocketNote::Broken(e));
            let _ = socket.close();
        }
    }
}

/// Makes the browser decide on a client certificate for `address` before a WebSocket goes there:
/// browsers choose one for https requests only and reuse that choice for the WebSocket to the same
/// host and port; without one, a server that asks for a certificate (IoT Hub, localhub) makes the
/// WebSocket fail. With X.509 this brings up the certificate picker.
pub(crate) async fn choose_certificate(address: &str) {
    let _ = gloo::net::http::Request::get(&format!("https://{address}/"))
        .mode(web_sys::RequestMode::NoCors)
        .send()
        .await;
}

//! MQTT 3.1.1 as IoT Hub speaks it, over any byte stream (TLS, or a WebSocket bridged to bytes).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use bytes::BytesMut;
use futures_util::{SinkExt, StreamExt};
use hubcert::contract::{
    MqttUserName, PropertyBag, RegisteredThumbprint, SasToken, Topic, TopicFilter,
};
use hubcert::mqtt::{
    ConnAck, Connect, ConnectReturnCode, Packet, PubAck, Publish, QoS, SubAck, SubscribeReasonCode,
    UnsubAck,
};
use hubcert::pki::{format_utc, Certificate};
use rustls_pki_types::{CertificateDer, UnixTime};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};
use tokio::time::{sleep_until, timeout, Instant};

use crate::store::{
    event, lock, now_unix, C2dMessage, DeviceAuth, DeviceTransport, EventKind, Hub, Session,
};
use crate::tls::PeerCerts;
use crate::wire::{read_packet, send};

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Cloud-to-device messages IoT Hub keeps per device.
pub(crate) const C2D_QUEUE_DEPTH: usize = 50;

/// `/$iothub/websocket`: MQTT in binary WebSocket frames, subprotocol `mqtt`.
pub(crate) async fn websocket(
    State(hub): State<Arc<Hub>>,
    peer: Option<Extension<PeerCerts>>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    // The offered token as the client spelled it: answered back the same, since a browser fails
    // the handshake when the answer is not one of the protocols it offered, byte for byte.
    let offered = headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .find(|p| p.eq_ignore_ascii_case("mqtt"))
        .map(str::to_owned);
    let Some(offered) = offered else {
        return (
            StatusCode::BAD_REQUEST,
            "The WebSocket subprotocol must be mqtt (Sec-WebSocket-Protocol: mqtt)",
        )
            .into_response();
    };
    let peer = peer.map(|Extension(p)| p).unwrap_or_default();
    let max = hub.config.max_packet_bytes;
    ws.protocols([offered])
        .max_message_size(max + 8)
        .on_upgrade(move |socket| bridge(hub, socket, peer))
}

/// Bridges WebSocket frames to a byte stream the MQTT session reads like TLS.
async fn bridge(hub: Arc<Hub>, socket: WebSocket, peer: PeerCerts) {
    let (ours, theirs) = tokio::io::duplex(64 * 1024);
    let session = tokio::spawn(serve(hub, theirs, peer, DeviceTransport::Wss));
    let (mut ws_tx, mut ws_rx) = socket.split();
    let (mut rd, mut wr) = tokio::io::split(ours);
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        tokio::select! {
            frame = ws_rx.next() => match frame {
                Some(Ok(Message::Binary(data))) => {
                    if wr.write_all(&data).await.is_err() { break; }
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                // MQTT over WebSocket is binary only; anything else ends the connection.
                _ => break,
            },
            n = rd.read(&mut buf) => match n {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if ws_tx.send(Message::Binary(bytes::Bytes::copy_from_slice(&buf[..n]))).await.is_err() { break; }
                }
            },
        }
    }
    let _ = ws_tx.close().await;
    session.abort();
}

/// One device connection, from CONNECT to close.
pub(crate) async fn serve<S>(hub: Arc<Hub>, stream: S, peer: PeerCerts, transport: DeviceTransport)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let max = hub.config.max_packet_bytes;
    let (mut rd, mut wr) = tokio::io::split(stream);
    let mut buf = BytesMut::with_capacity(4096);
    let connect = match timeout(CONNECT_TIMEOUT, read_packet(&mut rd, &mut buf, max)).await {
        Ok(Ok(Packet::Connect(c))) => c,
        // Not MQTT, or too slow: nothing to tell, just close.
        _ => return,
    };
    // A DPS client: its user name names an ID scope and a registration.
    if let Some(user) = connect
        .login
        .as_ref()
        .and_then(|l| hubcert::contract::DpsUserName::parse(&l.username).ok())
    {
        // A registration whose assignment could not be saved ends the connection before the
        // device is told it is assigned (every later write on it fails).
        let wr = HaltWhenUnsaved(wr);
        let (_, unsaved) =
            crate::store::saving(crate::dps::serve(hub, user, connect, rd, wr, buf, &peer.0)).await;
        if let Some(why) = unsaved {
            eprintln!("localhub dps: a registration ended unanswered: {why}");
        }
        return;
    }
    let device_id = connect.client_id.clone();
    // Over the tier's new-connection rate: server unavailable, which the device SDKs retry
    // (`throttle`).
    if let Err(reason) = hub.throttle.as_ref().map_or(Ok(()), |t| t.connection()) {
        let _ = send(
            &mut wr,
            &Packet::ConnAck(ConnAck::new(ConnectReturnCode::ServiceUnavailable, false)),
        )
        .await;
        let mut e = event(EventKind::Refused, &device_id, transport);
        e.reason = Some(reason);
        hub.record(e);
        return;
    }
    if let Err(reason) = authenticate(&hub, &connect, &peer.0, transport) {
        let _ = send(
            &mut wr,
            &Packet::ConnAck(ConnAck::new(ConnectReturnCode::NotAuthorized, false)),
        )
        .await;
        eprintln!("localhub: refused {device_id:?} over {transport}: {reason}");
        let mut e = event(EventKind::Refused, &device_id, transport);
        e.reason = Some(reason);
        hub.record(e);
        return;
    }
    if send(
        &mut wr,
        &Packet::ConnAck(ConnAck::new(ConnectReturnCode::Success, false)),
    )
    .await
    .is_err()
    {
        return;
    }

    // One connection per device: this one replaces any other.
    let session_id = hub.next_session_id();
    // IoT Hub keeps at most 50 cloud-to-device messages per device; the 51st send is refused
    // with DeviceMaximumQueueDepthExceeded. Messages wait in this channel until the device
    // subscribes.
    let (c2d_tx, mut c2d_rx) = mpsc::channel::<C2dMessage>(C2D_QUEUE_DEPTH);
    let (close_tx, mut close_rx) = oneshot::channel();
    let previous = lock(&hub.sessions).insert(
        device_id.clone(),
        Session {
            id: session_id,
            c2d: c2d_tx,
            close: Some(close_tx),
        },
    );
    if let Some(mut old) = previous {
        if let Some(close) = old.close.take() {
            let _ = close.send(());
        }
    }
    hub.record(event(EventKind::Connected, &device_id, transport));
    hub.touch(&device_id);

    // One and a half times the keep-alive, as MQTT 3.1.1 says, but never longer than IoT Hub
    // allows (`Config::mqtt_idle_max`, 1,767 s), keep-alive 0 included.
    let keep_alive = match Duration::from_secs(u64::from(connect.keep_alive) * 3 / 2) {
        d if d.is_zero() => hub.config.mqtt_idle_max,
        d => d.min(hub.config.mqtt_idle_max),
    };
    let mut deadline = Instant::now() + keep_alive;
    let mut c2d_subscribed = false;
    let mut next_pkid: u16 = 1;
    let reason: String = loop {
        tokio::select! {
            packet = read_packet(&mut rd, &mut buf, max) => {
                let packet = match packet { Ok(p) => p, Err(e) => break e };
                deadline = Instant::now() + keep_alive;
                if matches!(packet, Packet::Publish(_)) {
                    hub.touch(&device_id);
                }
                match handle(&hub, &device_id, transport, packet, &mut wr, &mut c2d_subscribed).await {
                    Ok(true) => {}
                    Ok(false) => break "disconnected by the device".into(),
                    Err(e) => break e,
                }
            }
            msg = c2d_rx.recv(), if c2d_subscribed => match msg {
                Some(m) => {
                    let topic = Topic::CloudToDevice {
                        device_id: device_id.clone(),
                        properties: PropertyBag(m.properties.into_iter().collect()),
                    }
                    .to_string();
                    let mut p = Publish::new(topic, QoS::AtLeastOnce, m.body);
                    p.pkid = next_pkid;
                    next_pkid = next_pkid.checked_add(1).unwrap_or(1);
                    if let Err(e) = send(&mut wr, &Packet::Publish(p)).await {
                        break e;
                    }
                }
                None => break "session replaced".into(),
            },
            _ = &mut close_rx => break "replaced by a newer connection or a registry change".into(),
            _ = sleep_until(deadline) => break "keep-alive timed out".into(),
        }
    };
    {
        let mut sessions = lock(&hub.sessions);
        if sessions.get(&device_id).is_some_and(|s| s.id == session_id) {
            sessions.remove(&device_id);
        }
    }
    let _ = wr.shutdown().await;
    let mut e = event(EventKind::Disconnected, &device_id, transport);
    e.reason = Some(reason);
    hub.record(e);
}

/// Handles one packet; `Ok(false)` ends the session normally, `Err` ends it for a reason.
async fn handle<W: AsyncWrite + Unpin>(
    hub: &Hub,
    id: &str,
    transport: DeviceTransport,
    packet: Packet,
    wr: &mut W,
    c2d_subscribed: &mut bool,
) -> Result<bool, String> {
    match packet {
        Packet::Publish(p) => {
            if p.qos == QoS::ExactlyOnce {
                return Err("QoS 2 is not supported by IoT Hub".into());
            }
            let refused = || format!("publish to a topic this device may not use: {}", p.topic);
            match Topic::parse(&p.topic).map_err(|_| refused())? {
                Topic::Telemetry {
                    device_id,
                    properties,
                } if device_id == id => {
                    // Over the tier's send rate the hub closes the connection (`throttle`).
                    if let Some(t) = &hub.throttle {
                        t.device_to_cloud()?;
                    }
                    let mut e = event(EventKind::Telemetry, id, transport);
                    e.body = Some(String::from_utf8_lossy(&p.payload).into_owned());
                    e.properties = properties.0.into_iter().collect();
                    hub.record(e);
                }
                Topic::TwinGet { rid } => {
                    let body = hub.read(|_, devices| {
                        devices.get(id).map(|d| {
                            let mut reported = serde_json::Value::Object(d.reported.clone());
                            reported["$version"] = d.reported_version.into();
                            let mut desired = serde_json::Value::Object(d.service.desired.clone());
                            desired["$version"] = 1.into();
                            serde_json::json!({"desired": desired, "reported": reported})
                        })
                    });
                    let body = body.unwrap_or_default().to_string();
                    let topic = Topic::TwinResponse {
                        status: 200,
                        rid,
                        version: None,
                    };
                    let reply = Publish::new(topic.to_string(), QoS::AtMostOnce, body);
                    send(wr, &Packet::Publish(reply)).await?;
                }
                Topic::TwinReportedPatch { rid } => {
                    let patch: Result<serde_json::Map<String, serde_json::Value>, _> =
                        serde_json::from_slice(&p.payload);
                    let answer = |status: u16, version: Option<u64>| Topic::TwinResponse {
                        status,
                        rid: rid.clone(),
                        version,
                    };
                    let topic = match patch {
                        Ok(patch) => {
                            let written = hub.try_write(|_, devices| {
                                let Some(d) = devices.get_mut(id) else {
                                    return Ok(0);
                                };
                                let mut reported = d.reported.clone();
                                apply_patch(&mut reported, patch);
                                let (before, after) =
                                    (twin_size(&d.reported), twin_size(&reported));
                                if after > REPORTED_MAX_SIZE && after > before {
                                    return Err(after);
                                }
                                d.reported = reported;
                                d.reported_version += 1;
                                Ok(d.reported_version)
                            });
                            match written {
                                Ok(Ok(version)) => answer(204, Some(version)),
                                Ok(Err(size)) => {
                                    eprintln!("localhub: refused a reported-properties patch of {id}: the reported properties would be {size} bytes, over IoT Hub's {REPORTED_MAX_SIZE}");
                                    answer(400, None)
                                }
                                Err(_) => answer(500, None),
                            }
                        }
                        // Malformed JSON: 400 (Microsoft: iot-mqtt-connect-to-iot-hub, "Update
                        // device twin's reported properties": 400 Bad Request, malformed JSON).
                        Err(_) => answer(400, None),
                    };
                    let reply = Publish::new(topic.to_string(), QoS::AtMostOnce, Vec::new());
                    send(wr, &Packet::Publish(reply)).await?;
                }
                _ => return Err(refused()),
            }
            if p.qos == QoS::AtLeastOnce {
                send(wr, &Packet::PubAck(PubAck::new(p.pkid))).await?;
            }
        }
        Packet::Subscribe(s) => {
            let codes = s
                .filters
                .iter()
                .map(|f| {
                    let granted = match TopicFilter::parse(&f.path) {
                        Some(TopicFilter::CloudToDevice { device_id }) if device_id == id => {
                            *c2d_subscribed = true;
                            true
                        }
                        Some(TopicFilter::CloudToDevice { .. }) | None => false,
                        Some(_) => true,
                    };
                    if granted {
                        SubscribeReasonCode::Success(if f.qos == QoS::AtMostOnce {
                            QoS::AtMostOnce
                        } else {
                            QoS::AtLeastOnce
                        })
                    } else {
                        SubscribeReasonCode::Failure
                    }
                })
                .collect();
            send(wr, &Packet::SubAck(SubAck::new(s.pkid, codes))).await?;
        }
        Packet::Unsubscribe(u) => send(wr, &Packet::UnsubAck(UnsubAck::new(u.pkid))).await?,
        Packet::PingReq => send(wr, &Packet::PingResp).await?,
        Packet::PubAck(_) => {}
        Packet::Disconnect => return Ok(false),
        other => return Err(format!("unexpected packet {other:?}")),
    }
    Ok(true)
}

/// The largest a twin's reported properties may grow: IoT Hub enforces "a 32 KB size limit each
/// on the value of properties/desired and properties/reported" and "rejects with an error all
/// operations that would increase the size of the tags, properties/desired, or
/// properties/reported documents above the limit" (Microsoft: iot-hub-devguide-device-twins,
/// "Device twin size"); Azure IoT Edge's hub, which mirrors IoT Hub, checks reported properties
/// against `TwinPropertyDocMaxLength = 32 * 1024` (Azure/iotedge#1932). Over MQTT the refusal is
/// the twin response's 400, the status IoT Hub documents for a patch it does not accept
/// (iot-mqtt-connect-to-iot-hub, "Update device twin's reported properties": "400 Bad Request.
/// Malformed JSON"; 5xx are server errors), and the status localhub gives malformed JSON.
pub(crate) const REPORTED_MAX_SIZE: usize = 32 * 1024;

/// Applies a reported-properties patch at its top level: `null` removes a property, any other
/// value replaces it.
fn apply_patch(
    doc: &mut serde_json::Map<String, serde_json::Value>,
    patch: serde_json::Map<String, serde_json::Value>,
) {
    for (k, v) in patch {
        match v {
            serde_json::Value::Null => {
                doc.remove(&k);
            }
            v => {
                doc.insert(k, v);
            }
        }
    }
}

/// A twin section's size as IoT Hub counts it: for each property its key's length plus its
/// value's; strings count their characters except Unicode control characters (C0 and C1),
/// numbers 8 bytes, booleans 4, objects (and here arrays) the sum of what they hold
/// (Microsoft: iot-hub-devguide-device-twins, "Device twin size").
pub(crate) fn twin_size(doc: &serde_json::Map<String, serde_json::Value>) -> usize {
    fn text(s: &str) -> usize {
        s.chars().filter(|c| !c.is_control()).count()
    }
    fn value(v: &serde_json::Value) -> usize {
        match v {
            serde_json::Value::Null => 0,
            serde_json::Value::Bool(_) => 4,
            serde_json::Value::Number(_) => 8,
            serde_json::Value::String(s) => text(s),
            serde_json::Value::Array(a) => a.iter().map(value).sum(),
            serde_json::Value::Object(o) => twin_size(o),
        }
    }
    doc.iter().map(|(k, v)| text(k) + value(v)).sum()
}

/// A device connection's writer that fails once a change made on the connection could not be
/// saved ([`crate::store::saving`]): the device is never told of a change that is not on disk.
struct HaltWhenUnsaved<W>(W);

impl<W: AsyncWrite + Unpin> AsyncWrite for HaltWhenUnsaved<W> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        if crate::store::unsaved() {
            return std::task::Poll::Ready(Err(std::io::Error::other(
                "a change could not be saved",
            )));
        }
        std::pin::Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

/// IoT Hub's checks, in its order; the reason is logged and sent to watchers, never to the device.
fn authenticate(
    hub: &Hub,
    connect: &Connect,
    peer: &[CertificateDer<'static>],
    transport: DeviceTransport,
) -> Result<(), String> {
    let id = connect.client_id.as_str();
    if id.is_empty() {
        return Err("the MQTT client id is empty; it must be the device id".into());
    }
    let login = connect.login.as_ref();
    let username = login.map(|l| l.username.as_str()).unwrap_or("");
    let expected = MqttUserName::new(&hub.config.host_name, id);
    match MqttUserName::parse(username) {
        Ok(u) if u.host.eq_ignore_ascii_case(&expected.host) && u.device_id == id => {}
        _ => return Err(format!("the username must be {expected}, not {username:?}")),
    }
    let device = hub
        .read(|_, devices| devices.get(id).cloned())
        .ok_or_else(|| format!("device {id} is not registered in the hub"))?;
    if !device.enabled {
        return Err(format!("device {id} is disabled"));
    }
    let now = now_unix();
    match &device.auth {
        DeviceAuth::Sas { primary, secondary } => {
            let password = login.map(|l| l.password.as_str()).unwrap_or("");
            let token = SasToken::parse(password).map_err(|e| format!("SAS: {e}"))?;
            token
                .verify(
                    &format!("{}/devices/{id}", hub.config.host_name),
                    &[primary, secondary],
                    now.max(0) as u64,
                )
                .map_err(|e| format!("SAS: {e}"))
        }
        DeviceAuth::SelfSigned { primary, secondary } => {
            let (cert, info) = leaf(peer, now)?;
            let _ = cert;
            let matches = [primary, secondary]
                .into_iter()
                .flatten()
                .filter_map(|t| RegisteredThumbprint::parse(t).ok())
                .any(|t| t.matches(info.sha1.as_str(), info.sha256.as_str()));
            if matches {
                Ok(())
            } else {
                Err(format!(
                    "the certificate's thumbprint ({}) is not the one registered for {id}",
                    info.sha1
                ))
            }
        }
        DeviceAuth::CertificateAuthority => {
            let (_, info) = leaf(peer, now)?;
            if info.common_name.as_deref() != Some(id) {
                return Err(format!(
                    "the certificate's CN ({}) is not the device id {id}",
                    info.common_name.as_deref().unwrap_or("none")
                ));
            }
            chain_to_verified_ca(hub, peer, now)?;
            // Microsoft documents X.509 CA-signed devices over WebSockets as preview-only; its
            // SDK engineers report a device signed directly by the verified CA working on GA
            // hubs, and users report CONNACK 5 with an intermediate. A GA hub here allows that
            // one case.
            if transport == DeviceTransport::Wss && !hub.config.preview_mode {
                chain_to_verified_ca(hub, &peer[..1], now).map_err(|_| {
                    "a CA-signed device under an intermediate over MQTT over WebSockets needs the hub's preview mode (a GA hub accepts over WebSockets only a certificate signed directly by the verified CA): register the device by thumbprint, use MQTT over TCP (8883), or enable preview mode".to_owned()
                })?;
            }
            Ok(())
        }
        DeviceAuth::None => Err(format!("device {id} has authentication type none")),
    }
}

fn leaf(
    peer: &[CertificateDer<'static>],
    now: i64,
) -> Result<(Certificate, hubcert::pki::CertificateInfo), String> {
    let der = peer
        .first()
        .ok_or("no client certificate was presented in the TLS handshake")?;
    let cert = Certificate::from_der(der.to_vec()).map_err(|e| e.to_string())?;
    let info = cert.info().map_err(|e| e.to_string())?;
    if info.not_after.unix_timestamp() < now {
        return Err(format!(
            "the device certificate expired on {}",
            format_utc(info.not_after)
        ));
    }
    if info.not_before.unix_timestamp() > now {
        return Err(format!(
            "the device certificate is not valid before {}",
            format_utc(info.not_before)
        ));
    }
    Ok((cert, info))
}

fn chain_to_verified_ca(
    hub: &Hub,
    peer: &[CertificateDer<'static>],
    now: i64,
) -> Result<(), String> {
    let (verified, unverified): (Vec<_>, Vec<_>) = hub
        .read(|certs, _| {
            certs
                .values()
                .map(|c| (c.name.clone(), c.der.clone(), c.is_verified))
                .collect::<Vec<_>>()
        })
        .into_iter()
        .partition(|(_, _, v)| *v);
    let at = UnixTime::since_unix_epoch(Duration::from_secs(now.max(0) as u64));
    let check = |cas: &[(String, Vec<u8>, bool)]| -> Result<(), webpki::Error> {
        let ders: Vec<CertificateDer<'static>> = cas
            .iter()
            .map(|(_, d, _)| CertificateDer::from(d.clone()))
            .collect();
        let anchors: Vec<_> = ders
            .iter()
            .filter_map(|d| webpki::anchor_from_trusted_cert(d).ok())
            .collect();
        let leaf = peer.first().ok_or(webpki::Error::BadDer)?;
        let ee = webpki::EndEntityCert::try_from(leaf)?;
        ee.verify_for_usage(
            webpki::ALL_VERIFICATION_ALGS,
            &anchors,
            &peer[1..],
            at,
            webpki::KeyUsage::client_auth(),
            None,
            None,
        )
        .map(|_| ())
    };
    match check(&verified) {
        Ok(()) => Ok(()),
        Err(e) => {
            if !unverified.is_empty() && check(&unverified).is_ok() {
                return Err("the certificate chains to a CA that is uploaded but not verified: prove possession first".into());
            }
            Err(match e {
                webpki::Error::UnknownIssuer => format!(
                    "the certificate is not signed by a verified CA in the hub (if an intermediate signed it, register that CA or send the intermediate too; the device sent {} certificate{})",
                    peer.len(),
                    if peer.len() == 1 { "" } else { "s" }
                ),
                webpki::Error::CertExpired { .. } => "a certificate in the chain has expired".into(),
                other => format!("the certificate chain was refused ({other:?})"),
            })
        }
    }
}

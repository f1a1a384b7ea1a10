//! Listeners: plain HTTP and HTTPS for REST, MQTT over TLS, MQTT over TLS WebSocket.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio_rustls::TlsAcceptor;

use crate::guard::Doors;
use crate::mqtt;
use crate::store::Hub;
use crate::tls::{PeerCerts, TlsIdentity};
use crate::{http, Config};

const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long the accept loop waits after a failed accept (no file descriptor left, say) before it
/// tries again.
const ACCEPT_PAUSE: Duration = Duration::from_millis(100);

/// A running localhub.
pub struct Running {
    /// The hub's state.
    pub hub: Arc<Hub>,
    /// Plain HTTP REST address.
    pub http: SocketAddr,
    /// HTTPS REST address.
    pub https: SocketAddr,
    /// MQTT over TLS address.
    pub mqtt: SocketAddr,
    /// MQTT over TLS WebSocket address.
    pub wss: SocketAddr,
    /// The root certificate clients must trust, PEM.
    pub root_pem: String,
    stop: watch::Sender<bool>,
}

impl Running {
    /// Stops accepting connections.
    pub fn stop(&self) {
        let _ = self.stop.send(true);
    }
}

/// Starts localhub on the configured loopback ports.
pub async fn start(config: Config) -> Result<Running, String> {
    if let Some(dir) = &config.data_dir {
        std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    }
    let mut names = vec![
        config.host_name.clone(),
        "localhost".into(),
        "127.0.0.1".into(),
    ];
    names.dedup();
    let tls = TlsIdentity::load_or_create(
        config.data_dir.as_ref().map(|d| d.join("tls")).as_deref(),
        &names,
    )?;
    let hub = Hub::open(config.clone())?;
    // One limit per listener: connections held on one (event streams, idle devices) never keep
    // the others from answering.
    let limit = || Arc::new(Semaphore::new(config.max_connections));
    let (stop, stopped) = watch::channel(false);

    let bind = |port: u16| {
        let addr = SocketAddr::new(config.bind, port);
        async move {
            TcpListener::bind(addr)
                .await
                .map_err(|e| format!("listening on {addr}: {e}"))
        }
    };
    let http_l = bind(config.http_port).await?;
    let https_l = bind(config.https_port).await?;
    let mqtt_l = bind(config.mqtt_port).await?;
    let wss_l = bind(config.wss_port).await?;
    let addr = |l: &TcpListener| l.local_addr().map_err(|e| e.to_string());
    let ports = [&http_l, &https_l, &wss_l]
        .into_iter()
        .map(|l| addr(l).map(|a| a.port()))
        .collect::<Result<Vec<_>, _>>()?;
    let doors = Doors::loopback(
        &[config.host_name.as_str(), &config.bind.to_string()],
        ports,
        config.allowed_origins.clone(),
    );
    let router = http::router(hub.clone(), doors);
    let running = Running {
        hub: hub.clone(),
        http: addr(&http_l)?,
        https: addr(&https_l)?,
        mqtt: addr(&mqtt_l)?,
        wss: addr(&wss_l)?,
        root_pem: tls.root_pem.clone(),
        stop,
    };

    // Plain HTTP: REST only (and SAS over ws, which needs no client certificate).
    let plain = router.clone();
    tokio::spawn(accept_loop(http_l, limit(), stopped.clone(), move |tcp| {
        let svc = TowerToHyperService::new(plain.clone());
        async move { serve_http(TokioIo::new(tcp), svc).await }
    }));

    // HTTPS REST and the WebSocket endpoint on one port, as IoT Hub serves both on 443: a client
    // certificate is asked for (optional), as the hub does.
    let rest_tls = TlsAcceptor::from(tls.device_config(true)?);
    let rest = router.clone();
    tokio::spawn(accept_loop(https_l, limit(), stopped.clone(), move |tcp| {
        let (acceptor, router) = (rest_tls.clone(), rest.clone());
        async move {
            if let Ok(Ok(tls)) = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await
            {
                let peer = peer_certs(tls.get_ref().1);
                let svc = TowerToHyperService::new(router.layer(Extension(peer)));
                serve_http(TokioIo::new(tls), svc).await;
            }
        }
    }));

    let mqtt_tls = TlsAcceptor::from(tls.device_config(false)?);
    let mqtt_hub = hub.clone();
    tokio::spawn(accept_loop(mqtt_l, limit(), stopped.clone(), move |tcp| {
        let (acceptor, hub) = (mqtt_tls.clone(), mqtt_hub.clone());
        async move {
            if let Ok(Ok(tls)) = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await
            {
                let peer = peer_certs(tls.get_ref().1);
                mqtt::serve(hub, tls, peer, crate::store::DeviceTransport::Mqtt).await;
            }
        }
    }));

    let wss_tls = TlsAcceptor::from(tls.device_config(true)?);
    let wss_router = router;
    tokio::spawn(accept_loop(wss_l, limit(), stopped, move |tcp| {
        let (acceptor, router) = (wss_tls.clone(), wss_router.clone());
        async move {
            if let Ok(Ok(tls)) = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await
            {
                let peer = peer_certs(tls.get_ref().1);
                let svc = TowerToHyperService::new(router.layer(Extension(peer)));
                serve_http(TokioIo::new(tls), svc).await;
            }
        }
    }));

    Ok(running)
}

fn peer_certs(conn: &rustls::ServerConnection) -> PeerCerts {
    PeerCerts(Arc::new(
        conn.peer_certificates()
            .map(|c| c.iter().map(|d| d.clone().into_owned()).collect())
            .unwrap_or_default(),
    ))
}

async fn serve_http<I, S>(io: I, svc: S)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    S: hyper::service::Service<
            hyper::Request<hyper::body::Incoming>,
            Response = axum::response::Response,
        > + Send
        + 'static,
    S::Future: Send + 'static,
    S::Error: std::error::Error + Send + Sync + 'static,
{
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(HANDSHAKE_TIMEOUT)
        .serve_connection(io, svc)
        .with_upgrades();
    let _ = conn.await;
}

/// Accepts until stopped; each connection holds a permit, and one over the limit is closed at once.
async fn accept_loop<F, Fut>(
    listener: TcpListener,
    limit: Arc<Semaphore>,
    mut stopped: watch::Receiver<bool>,
    serve: F,
) where
    F: Fn(tokio::net::TcpStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let mut failing = false;
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            _ = stopped.changed() => return,
        };
        let tcp = match accepted {
            Ok((tcp, _)) => {
                failing = false;
                tcp
            }
            Err(e) => {
                // Out of file descriptors (EMFILE, ENFILE) or memory, the connection waiting in the
                // backlog stays there and accept fails again at once: pause instead of spinning.
                if !failing {
                    eprintln!(
                        "localhub: accepting a connection failed ({e}); retrying every {} ms",
                        ACCEPT_PAUSE.as_millis()
                    );
                    failing = true;
                }
                tokio::select! {
                    _ = tokio::time::sleep(ACCEPT_PAUSE) => {}
                    _ = stopped.changed() => return,
                }
                continue;
            }
        };
        let Ok(permit) = limit.clone().try_acquire_owned() else {
            drop(tcp);
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let fut = serve(tcp);
        tokio::spawn(async move {
            fut.await;
            drop(permit);
        });
    }
}

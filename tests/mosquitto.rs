//! The app's MQTT session (`hubcert::mqtt`) against an independent broker: Debian's mosquitto with
//! a TLS listener that requires a client certificate (certificates made by `hubcert::pki`), and a
//! plain listener where `mosquitto_sub` watches. A publish from the session arrives at the
//! subscriber; a device from another CA is refused at the TLS handshake.
#![cfg(not(target_arch = "wasm32"))]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hubcert::contract::DeviceId;
use hubcert::mqtt::{ConnectOptions, Event, QoS, Session};
use hubcert::pki::{
    CertificateAuthority, DeviceCertParams, Identity, KeyAlgorithm, KeyPair, RootCaParams,
    ServerCertParams, ValidityDays,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for_port(port: u16) {
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "mosquitto did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

fn device(ca: &CertificateAuthority, id: &str) -> Identity {
    ca.issue_device_identity(
        &DeviceCertParams {
            device_id: DeviceId::parse(id).unwrap(),
            validity: ValidityDays::SEED_DEVICE,
        },
        KeyAlgorithm::EcdsaP256,
        now(),
    )
    .unwrap()
}

/// Opens TLS with the device's certificate and runs CONNECT; `Err` if the broker refuses the TLS
/// handshake.
fn connect(
    port: u16,
    ca: &CertificateAuthority,
    id: &Identity,
) -> Result<
    (
        rustls::StreamOwned<rustls::ClientConnection, TcpStream>,
        Session,
    ),
    String,
> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from(ca.certificate().der().to_vec()))
        .unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        id.key.to_pkcs8_der().unwrap().to_vec(),
    ));
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_client_auth_cert(
        vec![CertificateDer::from(id.certificate.der().to_vec())],
        key,
    )
    .unwrap();
    let conn =
        rustls::ClientConnection::new(Arc::new(config), ServerName::try_from("localhost").unwrap())
            .unwrap();
    let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    let mut session = Session::connect(
        &ConnectOptions {
            client_id: "mosquitto-device".into(),
            username: "ignored-with-use_identity_as_username".into(),
            password: None,
            keep_alive_secs: 30,
            clean_session: true,
        },
        0,
    )
    .unwrap();
    for frame in session.take_outgoing() {
        tls.write_all(&frame).map_err(|e| e.to_string())?;
    }
    tls.flush().map_err(|e| e.to_string())?;
    Ok((tls, session))
}

fn next_events(
    tls: &mut rustls::StreamOwned<rustls::ClientConnection, TcpStream>,
    session: &mut Session,
) -> Result<Vec<Event>, String> {
    let mut buf = [0u8; 4096];
    loop {
        let n = tls.read(&mut buf).map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("closed".into());
        }
        let events = session.receive(&buf[..n], 1).map_err(|e| e.to_string())?;
        for frame in session.take_outgoing() {
            tls.write_all(&frame).map_err(|e| e.to_string())?;
        }
        if !events.is_empty() {
            return Ok(events);
        }
    }
}

#[test]
fn the_apps_session_publishes_through_mosquitto_with_a_client_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let ca = CertificateAuthority::create_root(
        &RootCaParams {
            common_name: "Mosquitto Test Root".into(),
            ..RootCaParams::default()
        },
        now(),
    )
    .unwrap();
    let server_key = KeyPair::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let server = ca
        .issue_server(
            &ServerCertParams {
                names: vec!["localhost".into(), "127.0.0.1".into()],
                validity: ValidityDays::ONE_DAY,
            },
            &server_key,
            now(),
        )
        .unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    let cafile = write("ca.pem", &ca.certificate().pem());
    let certfile = write("server.pem", &server.pem());
    let keyfile = write("server.key", &server_key.to_pkcs8_pem().unwrap());
    let (plain, tls_port) = (free_port(), free_port());
    let conf = write(
        "mosquitto.conf",
        &format!(
            "user root\nper_listener_settings false\nallow_anonymous true\n\
             listener {plain} 127.0.0.1\n\
             listener {tls_port} 127.0.0.1\ncafile {cafile}\ncertfile {certfile}\nkeyfile {keyfile}\n\
             require_certificate true\nuse_identity_as_username true\n"
        ),
    );
    let broker = Killed(
        Command::new("/usr/sbin/mosquitto")
            .args(["-c", &conf])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mosquitto (Debian package mosquitto; scripts/setup.sh installs it)"),
    );
    wait_for_port(plain);
    wait_for_port(tls_port);

    let subscriber = Command::new("mosquitto_sub")
        .args(["-h", "127.0.0.1", "-p", &plain.to_string()])
        .args(["-t", "devices/#", "-v", "-C", "1", "-W", "20"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("mosquitto_sub (Debian package mosquitto-clients)");
    std::thread::sleep(Duration::from_millis(500));

    let identity = device(&ca, "mosquitto-device");
    let (mut tls, mut session) = connect(tls_port, &ca, &identity).expect("TLS accepted");
    assert_eq!(
        next_events(&mut tls, &mut session).unwrap(),
        vec![Event::Connected {
            session_present: false
        }]
    );
    let topic = "devices/mosquitto-device/messages/events/";
    let id = session
        .publish(topic, br#"{"temperature":22.5}"#, QoS::AtLeastOnce, 2)
        .unwrap();
    for frame in session.take_outgoing() {
        tls.write_all(&frame).unwrap();
    }
    match next_events(&mut tls, &mut session).unwrap().as_slice() {
        [Event::Acknowledged { pkid, .. }] => assert_eq!(*pkid, id),
        other => panic!("{other:?}"),
    }
    let out = subscriber.wait_with_output().unwrap();
    let line = String::from_utf8_lossy(&out.stdout);
    assert_eq!(line.trim(), format!(r#"{topic} {{"temperature":22.5}}"#));

    // A device from another CA never gets past the TLS handshake.
    let rogue_ca = CertificateAuthority::create_root(&RootCaParams::default(), now()).unwrap();
    let rogue = device(&rogue_ca, "mosquitto-device");
    let refused = connect(tls_port, &ca, &rogue)
        .and_then(|(mut tls, mut session)| next_events(&mut tls, &mut session).map(|_| ()));
    assert!(refused.is_err(), "a device from another CA was accepted");
    drop(broker);
}

//! Connections cannot hold localhub: a failing accept (no file descriptor left) pauses instead of
//! spinning, a REST body has one deadline for the whole of it, and a device connection cannot
//! stay silent longer than IoT Hub allows, keep-alive 0 included.

mod common;

use std::io::Read as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{device, root};
use localhub::Config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// User and system CPU time of process `pid` so far.
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    // The fields after the command name, which is in parentheses.
    let rest = &stat[stat.rfind(')').expect("comm") + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    let ticks: u64 =
        fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
    // USER_HZ is 100 on Linux.
    Duration::from_millis(ticks * 10)
}

#[test]
fn out_of_file_descriptors_the_accept_loop_waits_instead_of_spinning() {
    if !std::path::Path::new("/proc/self/stat").exists() {
        eprintln!("SKIPPED: needs Linux's /proc");
        return;
    }
    let http = free_port();
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(r#"ulimit -n 48 && exec "$0" "$@""#)
        .arg(env!("CARGO_BIN_EXE_localhub"))
        .arg("--in-memory")
        .args(["--http-port", &http.to_string()])
        .args(["--https-port", &free_port().to_string()])
        .args(["--mqtt-port", &free_port().to_string()])
        .args(["--wss-port", &free_port().to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("localhub runs");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", http)).is_err() {
        assert!(Instant::now() < deadline, "localhub did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    // More connections than it has descriptors: the rest wait in the backlog, and each accept
    // fails with EMFILE.
    let held: Vec<_> = (0..100)
        .filter_map(|_| std::net::TcpStream::connect(("127.0.0.1", http)).ok())
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let before = cpu_time(child.id());
    std::thread::sleep(Duration::from_secs(2));
    let used = cpu_time(child.id()) - before;
    let _ = child.kill();
    let _ = child.wait();
    let mut log = String::new();
    let _ = child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut log);
    println!(
        "{} connections held, fd limit 48: localhub used {:.2} s of CPU in 2 s",
        held.len(),
        used.as_secs_f64()
    );
    assert!(
        log.contains("accepting a connection failed"),
        "accept never failed, so the test proved nothing: {log}"
    );
    assert!(
        used < Duration::from_millis(400),
        "{:.2} s of CPU in 2 s: the accept loop spins",
        used.as_secs_f64()
    );
}

/// Sends `head` and then a body one byte every 200 ms; what localhub answered and when the
/// connection ended.
async fn trickle(addr: std::net::SocketAddr, head: String) -> (String, Duration) {
    let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let (mut rd, mut wr) = tcp.into_split();
    wr.write_all(head.as_bytes()).await.expect("head");
    let started = Instant::now();
    let writer = tokio::spawn(async move {
        loop {
            if wr.write_all(b"x").await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(8), rd.read_to_end(&mut answer)).await;
    let ended = started.elapsed();
    writer.abort();
    (String::from_utf8_lossy(&answer).into_owned(), ended)
}

#[tokio::test]
async fn a_body_trickled_a_byte_at_a_time_is_cut_off_at_the_deadline() {
    let hub = common::start_with(Config {
        body_read_timeout: Duration::from_secs(1),
        ..Config::ephemeral()
    })
    .await;
    let addr = hub.running.http;
    let host = format!("127.0.0.1:{}", addr.port());

    // Unauthenticated: a cloud-to-device send reads its body before it checks the token.
    let (answer, ended) = trickle(
        addr,
        format!("POST /localhub/devices/d1/messages HTTP/1.1\r\nHost: {host}\r\nContent-Length: 1000\r\n\r\n"),
    )
    .await;
    println!(
        "unauthenticated c2d trickle: ended after {:.2} s",
        ended.as_secs_f64()
    );
    assert!(answer.starts_with("HTTP/1.1 4"), "{answer}");
    assert!(
        ended < Duration::from_secs(3),
        "open {:.2} s",
        ended.as_secs_f64()
    );

    // Authenticated: a registry PUT gets 408 in IoT Hub's error shape.
    let token = hub.service_token(common::now().unix_timestamp() as u64 + 600);
    let (answer, ended) = trickle(
        addr,
        format!("PUT /devices/d1?api-version=2021-04-12 HTTP/1.1\r\nHost: {host}\r\nAuthorization: {token}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"),
    )
    .await;
    println!(
        "registry PUT trickle: ended after {:.2} s",
        ended.as_secs_f64()
    );
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("RequestTimedOut"), "{answer}");
    assert!(
        ended < Duration::from_secs(3),
        "open {:.2} s",
        ended.as_secs_f64()
    );

    // A body sent at once is unaffected.
    hub.register_ca_device("d1").await;
}

#[tokio::test]
async fn a_device_with_keep_alive_0_cannot_stay_silent_past_the_cap() {
    let hub = common::start_with(Config {
        mqtt_idle_max: Duration::from_secs(1),
        ..Config::ephemeral()
    })
    .await;
    let ca = root("Idle Root");
    hub.upload_and_verify("idle", &ca).await;
    hub.register_ca_device("idler").await;
    let id = device(&ca, "idler");

    let connect = |keep_alive: u16| {
        let mut c = hubcert::mqtt::Connect::new("idler");
        c.keep_alive = keep_alive;
        c.set_login("localhost/idler/?api-version=2021-04-12", "");
        hubcert::mqtt::encode(&hubcert::mqtt::Packet::Connect(c)).expect("encode")
    };
    for keep_alive in [0u16, 3600] {
        // Silent after CONNECT: closed at the cap (1 s here, 1,767 s by default).
        let mut tls = common::device_tls(&hub, &id).await.expect("tls");
        tls.write_all(&connect(keep_alive)).await.expect("connect");
        let mut connack = [0u8; 4];
        tls.read_exact(&mut connack).await.expect("connack");
        assert_eq!(connack, [0x20, 2, 0, 0]);
        let started = Instant::now();
        let mut rest = Vec::new();
        let closed = tokio::time::timeout(Duration::from_secs(6), tls.read_to_end(&mut rest)).await;
        println!(
            "keep-alive {keep_alive}: closed after {:.2} s of silence",
            started.elapsed().as_secs_f64()
        );
        assert!(
            closed.is_ok(),
            "keep-alive {keep_alive}: still open after 6 s"
        );
        assert!(started.elapsed() < Duration::from_secs(3));
    }

    // Talking keeps it open past the cap.
    let mut tls = common::device_tls(&hub, &id).await.expect("tls");
    tls.write_all(&connect(0)).await.expect("connect");
    let mut connack = [0u8; 4];
    tls.read_exact(&mut connack).await.expect("connack");
    for _ in 0..8 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        tls.write_all(&[0xC0, 0]).await.expect("pingreq");
        let mut pong = [0u8; 2];
        tls.read_exact(&mut pong).await.expect("pingresp");
        assert_eq!(pong, [0xD0, 0]);
    }
}

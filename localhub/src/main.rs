//! `localhub`: run the IoT Hub stand-in. `localhub --help` lists the options.

use std::path::PathBuf;

use localhub::Config;

const HELP: &str =
    "localhub: an offline stand-in for Azure IoT Hub (ARM CA certificates, device registry, MQTT)

usage: localhub [options]
  --data-dir DIR        keep state and TLS material in DIR (default: ./.localhub)
  --in-memory           keep nothing on disk (a new TLS root every start)
  --host-name NAME      host name for devices and SAS tokens (default: localhost)
  --hub-name NAME       hub name in ARM paths (default: localhub)
  --http-port N         plain HTTP REST, loopback (default: 8081)
  --https-port N        HTTPS REST (default: 8443)
  --mqtt-port N         MQTT over TLS (default: 8883)
  --wss-port N          MQTT over TLS WebSocket, /$iothub/websocket (default: 8884)
  --allow-origin URL    also allow this origin (CORS, and WebSockets from a page); repeatable;
                        http://host:* allows any port of that host. Always allowed: the app as
                        ./scripts/run.sh serves it, http://127.0.0.1:8080 and http://localhost:8080.
                        An allowed page can read /localhub/info (the owner keys): add only your own.
  --max-connections N   open connections at most on each listener (default: 4096)
  --telemetry-bytes N   bytes of telemetry kept for /localhub/telemetry, oldest dropped first
                        (default: 67108864, 64 MiB; also at most 100,000 messages)
  --preview-mode        act as a hub in preview mode: X.509 CA-signed devices may use MQTT over
                        WebSockets with any chain (a GA hub, the default, refuses them there unless
                        the device certificate is signed directly by the verified CA)
  --tier TIER           throttle as an IoT Hub of this tier does: F1, B1, B2, B3, S1, S2 or S3
                        (registry operations, new device connections, device-to-cloud sends,
                        twin queries, at Microsoft's published limits; over a limit a call is
                        answered 429 ThrottlingException). Default: no throttling
  --units N             units of the tier (default: 1)
  --time-scale N        run the throttles' clock N times faster (60: a minute's allowance refills
                        in a second), for benchmarks (default: 1)

usage: localhub relay (--hub NAME | --dps NAME) [--port N] [--allow-origin URL]...
  Lets the app register devices on a real hub: IoT Hub's device API sends no CORS headers, so a
  page cannot call it. The relay listens on 127.0.0.1 only, forwards only /devices/... to
  NAME.azure-devices.net (no other host), adds CORS for the app, and logs no secrets.
  --hub NAME            the hub: NAME or NAME.azure-devices.net (forwards /devices/...)
  --dps NAME            a DPS: NAME or NAME.azure-devices-provisioning.net (forwards
                        /enrollmentGroups/..., /enrollments/..., /registrations/...)
  --port N              loopback port (default: 8090, the app's default registry endpoint)
  --allow-origin URL    as above (always allowed: http://127.0.0.1:8080, http://localhost:8080).
                        A request from a page of any other origin is refused (403), not forwarded;
                        so is a path with an encoded '/' or '\\' (%2F, %5C) or a '..' segment (400).
";

async fn relay(args: Vec<String>) -> Result<(), String> {
    let mut hub = None;
    let mut dps = None;
    let mut upstream = None;
    let mut port = localhub::RELAY_PORT;
    let mut origins = Vec::new();
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "-h" | "--help" => return Err(String::new()),
            "--hub" => hub = Some(value("--hub")?),
            "--dps" => dps = Some(value("--dps")?),
            // For tests: a stand-in for the hub on loopback.
            "--test-upstream" => upstream = Some(value("--test-upstream")?),
            "--port" => {
                let v = value("--port")?;
                port = v
                    .parse()
                    .map_err(|_| format!("--port: {v} is not a port"))?;
            }
            "--allow-origin" => origins.push(value("--allow-origin")?),
            other => return Err(format!("relay: unknown option {other}")),
        }
    }
    let mut config = match (hub, dps, upstream) {
        (_, _, Some(u)) => localhub::RelayConfig::for_test_upstream(&u)?,
        (Some(_), Some(_), None) => {
            return Err("relay takes --hub or --dps, not both: run one relay for each".into())
        }
        (Some(h), None, None) => localhub::RelayConfig::for_hub(&h)?,
        (None, Some(d), None) => localhub::RelayConfig::for_dps(&d)?,
        (None, None, None) => {
            return Err(
                "relay needs --hub NAME (your hub: NAME.azure-devices.net) or --dps NAME".into(),
            )
        }
    };
    config.port = port;
    config.allowed_origins.extend(origins);
    let running = localhub::start_relay(config.clone()).await?;
    println!(
        "relay: http://{} -> {} (only /devices/...); set it as the registry endpoint in hubcert. Ctrl-C stops it.",
        running.addr,
        config.upstream()
    );
    let _ = tokio::signal::ctrl_c().await;
    running.stop();
    Ok(())
}

fn parse(args: Vec<String>) -> Result<Config, String> {
    let mut config = Config {
        data_dir: Some(PathBuf::from(".localhub")),
        ..Config::default()
    };
    let mut origins = Vec::new();
    let (mut tier, mut units, mut time_scale) = (None, None, None);
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        let port = |v: String, name: &str| {
            v.parse::<u16>()
                .map_err(|_| format!("{name}: {v} is not a port"))
        };
        match arg.as_str() {
            "-h" | "--help" => return Err(String::new()),
            "--data-dir" => config.data_dir = Some(PathBuf::from(value("--data-dir")?)),
            "--in-memory" => config.data_dir = None,
            "--host-name" => config.host_name = value("--host-name")?,
            "--hub-name" => config.hub_name = value("--hub-name")?,
            "--http-port" => config.http_port = port(value("--http-port")?, "--http-port")?,
            "--https-port" => config.https_port = port(value("--https-port")?, "--https-port")?,
            "--mqtt-port" => config.mqtt_port = port(value("--mqtt-port")?, "--mqtt-port")?,
            "--wss-port" => config.wss_port = port(value("--wss-port")?, "--wss-port")?,
            "--allow-origin" => origins.push(value("--allow-origin")?),
            "--preview-mode" => config.preview_mode = true,
            "--tier" => {
                let v = value("--tier")?;
                tier = Some(
                    v.parse::<hubcert::iothub::HubTier>()
                        .map_err(|e| format!("--tier: {e}"))?,
                );
            }
            "--units" => {
                let v = value("--units")?;
                units =
                    Some(v.parse::<u32>().ok().filter(|n| *n >= 1).ok_or_else(|| {
                        format!("--units: {v} is not a number of units (1 or more)")
                    })?);
            }
            "--time-scale" => {
                let v = value("--time-scale")?;
                time_scale = Some(
                    v.parse::<f64>()
                        .ok()
                        .filter(|n| n.is_finite() && *n > 0.0)
                        .ok_or_else(|| format!("--time-scale: {v} is not a positive number"))?,
                );
            }
            "--max-connections" => {
                let v = value("--max-connections")?;
                config.max_connections = v
                    .parse()
                    .map_err(|_| format!("--max-connections: {v} is not a number"))?;
            }
            "--telemetry-bytes" => {
                let v = value("--telemetry-bytes")?;
                config.telemetry_bytes = v
                    .parse()
                    .map_err(|_| format!("--telemetry-bytes: {v} is not a number"))?;
            }
            other => return Err(format!("unknown option {other}")),
        }
    }
    config.allowed_origins.extend(origins);
    config.throttling = match (tier, units, time_scale) {
        (Some(tier), units, scale) => Some(localhub::Throttling {
            time_scale: scale.unwrap_or(1.0),
            ..localhub::Throttling::new(tier, units.unwrap_or(1))
        }),
        (None, None, None) => None,
        (None, _, _) => return Err("--units and --time-scale need --tier".into()),
    };
    Ok(config)
}

#[tokio::main]
async fn main() {
    if cfg!(panic = "abort") {
        eprintln!(
            "localhub: warning: built with panic = \"abort\" (the workspace's release profile), so a \
             panic in one connection stops the server for every client: build it with \
             `--profile localhub` (release, unwinding)"
        );
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("relay") {
        match relay(args[1..].to_vec()).await {
            Ok(()) => return,
            Err(e) if e.is_empty() => {
                print!("{HELP}");
                return;
            }
            Err(e) => {
                eprintln!("localhub: {e}");
                std::process::exit(2);
            }
        }
    }
    let config = match parse(args) {
        Ok(c) => c,
        Err(e) if e.is_empty() => {
            print!("{HELP}");
            return;
        }
        Err(e) => {
            eprintln!("localhub: {e}\n\n{HELP}");
            std::process::exit(2);
        }
    };
    let running = match localhub::start(config.clone()).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("localhub: {e}");
            std::process::exit(1);
        }
    };
    let root = config
        .data_dir
        .as_ref()
        .map(|d| d.join("tls/root-ca.pem").display().to_string());
    println!(
        "localhub is running (hub '{}', host '{}')",
        config.hub_name, config.host_name
    );
    println!(
        "  REST            http://{}   https://{}",
        running.http, running.https
    );
    println!("  MQTT over TLS   {}", running.mqtt);
    println!("  MQTT over WSS   wss://{}/$iothub/websocket", running.wss);
    println!("  ARM base        http://{}/subscriptions/{{any}}/resourceGroups/{{any}}/providers/Microsoft.Devices/IotHubs/{}", running.http, config.hub_name);
    println!(
        "  telemetry       http://{}/localhub/telemetry   events: /localhub/events",
        running.http
    );
    if let Some(t) = config.throttling {
        println!(
            "  throttled as    {} x{} (registry {}/min, connections {}/s, sends {}/s, queries {}/min; clock x{})",
            t.tier,
            t.units,
            t.tier.registry_operations_per_minute(t.units),
            t.tier.new_connections_per_second(t.units),
            t.tier.device_to_cloud_sends_per_second(t.units),
            t.queries_per_minute(),
            t.time_scale
        );
    }
    println!(
        "  pages allowed   {} (add one with --allow-origin)",
        config.allowed_origins.join(", ")
    );
    // The owner keys stay off the terminal (and out of any log that captures it): they are at
    // /localhub/info, where the app reads them.
    println!(
        "  connection strings (hub and DPS owner keys): http://{}/localhub/info",
        running.http
    );
    match root {
        Some(r) => println!("  TLS root to trust: {r}"),
        None => println!("  TLS root (in memory):\n{}", running.root_pem),
    }
    let _ = tokio::signal::ctrl_c().await;
    running.stop();
}

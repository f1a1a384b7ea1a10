//! Secrets never appear in `Debug` output (logs, panics, error reports): every type that holds a
//! token, a key or a connection string is formatted and searched for the secret.

use hubcert::contract::{build_sas_token, DeviceId};
use hubcert::iothub::{Arm, ConnectionString, DeviceAuth, DeviceLogin, Registry, ServiceAuth};
use hubcert::mqtt::ConnectOptions;

const KEY: &str = "c2VjcmV0a2V5MTIzNDU2Nzg5MA==";
const TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.eyJleHAiOjk5OTk5OTk5OTl9.c2lnbmF0dXJl";

#[track_caller]
fn hides(debug: String, secrets: &[&str]) {
    for s in secrets {
        assert!(!debug.contains(s), "{s:?} leaks in {debug}");
    }
    assert!(debug.contains("redacted"), "{debug}");
}

#[test]
fn no_type_that_holds_a_secret_prints_it() {
    let arm = Arm::new("https://management.azure.com", "sub", "rg", "hub", TOKEN).unwrap();
    hides(format!("{arm:?}"), &[TOKEN, "c2lnbmF0dXJl"]);

    let cs = format!(
        "HostName=h.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey={KEY}"
    );
    hides(
        format!("{:?}", ConnectionString::parse(&cs).unwrap()),
        &[KEY],
    );
    let registry = Registry::from_connection_string("", &cs).unwrap();
    hides(format!("{registry:?}"), &[KEY]);
    hides(format!("{:?}", ServiceAuth::Bearer(TOKEN.into())), &[TOKEN]);

    // A request carries a SAS token made from the key: neither the key nor the token's
    // signature may show.
    let id = DeviceId::parse("d1").unwrap();
    let request = registry.get(&id, 1_700_000_000).unwrap();
    let token = request.header("Authorization").unwrap().to_owned();
    let signature = token
        .split("sig=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    hides(format!("{request:?}"), &[KEY, &token, signature]);
    let create = registry
        .create(&id, &DeviceAuth::CertificateAuthority, 1_700_000_000)
        .unwrap();
    hides(format!("{create:?}"), &[KEY, signature]);
    assert!(
        format!("{create:?}").contains("certificateAuthority"),
        "the body still shows"
    );

    let device_token = build_sas_token("h/devices/d1", KEY, None, 2_000_000_000).unwrap();
    let options = ConnectOptions {
        client_id: "d1".into(),
        username: "h/d1/?api-version=2021-04-12".into(),
        password: Some(device_token.clone()),
        keep_alive_secs: 60,
        clean_session: true,
    };
    hides(format!("{options:?}"), &[&device_token, KEY]);
    let login = DeviceLogin::sas(
        &format!("HostName=h;DeviceId=d1;SharedAccessKey={KEY}"),
        "",
        1_700_000_000,
    )
    .unwrap();
    let login_debug = format!("{login:?}");
    assert!(
        !login_debug.contains(KEY) && !login_debug.contains("sig="),
        "{login_debug}"
    );
}

/// The base64 lines of a PEM block, and its whole body as one line (how a key's DER shows in
/// base64 elsewhere).
fn pem_body(pem: &str) -> Vec<String> {
    let lines: Vec<String> = pem
        .lines()
        .filter(|l| !l.starts_with("-----") && !l.is_empty())
        .map(str::to_owned)
        .collect();
    let mut all = lines.clone();
    all.push(lines.concat());
    all
}

#[test]
fn workspaces_files_and_batches_never_print_a_private_key() {
    use hubcert::pki::{
        device_files, BatchMade, CertificateAuthority, DeviceCertParams, KeyAlgorithm, NamedFile,
        RootCaParams, StoredCa, StoredDevice, ValidityDays, Workspace,
    };

    let now = time::OffsetDateTime::from_unix_timestamp(1_780_000_000).unwrap();
    let ca = CertificateAuthority::create_root(&RootCaParams::default(), now).unwrap();
    let ca_key = ca.key().to_pkcs8_pem().unwrap().to_string();
    let device = ca
        .issue_device_identity(
            &DeviceCertParams {
                device_id: DeviceId::parse("leaky-1").unwrap(),
                validity: ValidityDays::new(30).unwrap(),
            },
            KeyAlgorithm::EcdsaP256,
            now,
        )
        .unwrap();
    let device_key = device.key.to_pkcs8_pem().unwrap().to_string();
    let cs = format!(
        "HostName=h.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey={KEY}"
    );

    let mut secrets: Vec<String> = vec![ca_key.clone(), device_key.clone(), KEY.into()];
    secrets.extend(pem_body(&ca_key));
    secrets.extend(pem_body(&device_key));
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    let check = |what: &str, debug: String, pretty: String| {
        assert!(
            debug.contains(what) && pretty.contains(what),
            "{what} is not named: {debug}"
        );
        hides(debug, &secrets);
        hides(pretty, &secrets);
    };

    let stored_ca = StoredCa::from_ca("Root CA", &ca).unwrap();
    let stored_device = StoredDevice {
        title: "Device leaky-1".into(),
        certificate: device.certificate.pem(),
        key: Some(device_key.clone()),
    };
    let mut w = Workspace::new();
    w.cas.push(stored_ca.clone());
    w.devices.push(stored_device.clone());
    w.settings = serde_json::json!({"target": "azure", "azure": {"connectionString": cs, "armToken": TOKEN}});
    check(
        "StoredCa",
        format!("{stored_ca:?}"),
        format!("{stored_ca:#?}"),
    );
    check(
        "StoredDevice",
        format!("{stored_device:?}"),
        format!("{stored_device:#?}"),
    );
    check("Workspace", format!("{w:?}"), format!("{w:#?}"));
    let w_debug = format!("{w:?}");
    assert!(
        !w_debug.contains(TOKEN) && !w_debug.contains("c2lnbmF0dXJl"),
        "{w_debug}"
    );
    // What is public still shows: titles and certificates.
    assert!(w_debug.contains("Device leaky-1") && w_debug.contains("BEGIN CERTIFICATE"));

    // The device's files (what a download or a zip entry holds), and a batch worker's answer.
    let files = device_files(
        &ca,
        &DeviceId::parse("leaky-1").unwrap(),
        &device.certificate,
        &device.key,
    )
    .unwrap();
    let key_file: &NamedFile = files.iter().find(|f| f.secret).unwrap();
    check(
        "NamedFile",
        format!("{key_file:?}"),
        format!("{key_file:#?}"),
    );
    check("NamedFile", format!("{files:?}"), format!("{files:#?}"));
    use base64::Engine as _;
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let made = BatchMade {
        certificate: b64(device.certificate.der()),
        key: b64(&device.key.to_pkcs8_der().unwrap()),
        files: files
            .iter()
            .map(|f| (f.name.clone(), b64(&f.contents), f.secret))
            .collect(),
    };
    let mut batch_secrets = secrets.clone();
    let key_file_b64 = b64(&key_file.contents);
    batch_secrets.push(&made.key);
    batch_secrets.push(&key_file_b64);
    for debug in [format!("{made:?}"), format!("{made:#?}")] {
        assert!(debug.contains("BatchMade"), "{debug}");
        hides(debug, &batch_secrets);
    }
}

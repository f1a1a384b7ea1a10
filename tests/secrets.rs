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

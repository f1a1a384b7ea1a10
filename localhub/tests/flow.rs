//! The seed guide's az flow as REST calls against localhub, then a device connecting with the
//! certificates hubcert made, and every refusal the hub owes.

mod common;

use std::time::Duration;

use common::*;
use localhub::{DeviceTransport, EventKind};
use serde_json::json;

#[tokio::test]
async fn seed_flow_upload_verify_register_connect_and_send() {
    let hub = start().await;
    let ca = root("IoT Root CA");
    hub.upload_and_verify("root-ca-cert", &ca).await;

    // What `az iot hub certificate list` shows.
    let list = hub
        .arm("GET", hub.cert_url("").trim_end_matches('/'), None, None)
        .await;
    assert_eq!(list.status, 200, "{}", list.body);
    let entry = &list.body["value"][0];
    assert_eq!(entry["name"], "root-ca-cert");
    assert_eq!(
        entry["properties"]["thumbprint"],
        ca.certificate().sha1_thumbprint().as_str()
    );
    assert_eq!(entry["properties"]["subject"], "IoT Root CA");
    assert_eq!(entry["type"], "Microsoft.Devices/IotHubs/Certificates");

    hub.register_ca_device("sensor-device-01").await;
    let dev = device(&ca, "sensor-device-01");
    let (client, mut events) = connect(&hub, Via::Tls, "sensor-device-01", Some(&dev), "")
        .await
        .expect("device connects");
    send_telemetry(
        &client,
        &mut events,
        "sensor-device-01",
        r#"{"temperature":22.5,"humidity":65}"#,
    )
    .await;

    let got = hub.running.hub.telemetry(Some("sensor-device-01"));
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].body.as_deref(),
        Some(r#"{"temperature":22.5,"humidity":65}"#)
    );
    assert_eq!(
        got[0].properties.get("$.ct").map(String::as_str),
        Some("application/json")
    );
    assert_eq!(got[0].transport, DeviceTransport::Mqtt);

    // The same telemetry through the REST view the app watches.
    let r = reply(
        hub.http
            .get(format!(
                "{}/localhub/telemetry?deviceId=sensor-device-01",
                hub.base
            ))
            .send()
            .await
            .expect("get"),
    )
    .await;
    assert_eq!(r.body[0]["deviceId"], "sensor-device-01");
}

#[tokio::test]
async fn device_connects_over_websocket_too() {
    let hub = start().await;
    let ca = root("IoT Root CA");
    hub.upload_and_verify("root", &ca).await;
    hub.register_ca_device("ws-device").await;
    let dev = device(&ca, "ws-device");
    let (client, mut events) = connect(&hub, Via::Wss, "ws-device", Some(&dev), "")
        .await
        .expect("device connects over wss");
    send_telemetry(&client, &mut events, "ws-device", "hello").await;
    let got = hub.running.hub.telemetry(Some("ws-device"));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].transport, DeviceTransport::Wss);
}

#[tokio::test]
async fn automatic_verification_skips_proof_of_possession() {
    let hub = start().await;
    let ca = root("Auto CA");
    let body = json!({"properties": {"certificate": ca.certificate().pem(), "isVerified": true}});
    let r = hub
        .arm("PUT", &hub.cert_url("auto"), None, Some(body))
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["properties"]["isVerified"], true);
    hub.register_ca_device("auto-dev").await;
    assert!(connect(
        &hub,
        Via::Tls,
        "auto-dev",
        Some(&device(&ca, "auto-dev")),
        ""
    )
    .await
    .is_ok());
}

/// Connects, expects CONNACK 5, and checks the reason localhub gives to whoever watches.
async fn refused(
    hub: &Hub,
    id: &str,
    identity: Option<&hubcert::pki::Identity>,
    password: &str,
    why: &str,
) {
    let mut watch = hub.running.hub.subscribe();
    match connect(hub, Via::Tls, id, identity, password).await {
        Ok(_) => panic!("{id} must be refused"),
        Err(e) => assert!(
            e.contains("NotAuthorized"),
            "{id}: expected CONNACK 5, got {e}"
        ),
    }
    let event = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match watch.recv().await {
                Ok(e) if e.kind == EventKind::Refused && e.device_id == id => return e,
                Ok(_) => continue,
                Err(e) => panic!("event stream ended: {e}"),
            }
        }
    })
    .await
    .expect("a refusal event");
    let reason = event.reason.unwrap_or_default();
    assert!(
        reason.contains(why),
        "{id}: reason {reason:?} should mention {why:?}"
    );
}

#[tokio::test]
async fn each_bad_device_gets_connack_5() {
    let hub = start().await;
    let ca = root("IoT Root CA");
    hub.upload_and_verify("root", &ca).await;

    // CA uploaded but not verified.
    let unverified = root("Unverified CA");
    let r = hub
        .arm(
            "PUT",
            &hub.cert_url("unverified"),
            None,
            Some(json!({"properties": {"certificate": unverified.certificate().pem()}})),
        )
        .await;
    assert_eq!(r.status, 201);
    hub.register_ca_device("dev-unverified").await;
    refused(
        &hub,
        "dev-unverified",
        Some(&device(&unverified, "dev-unverified")),
        "",
        "uploaded but not verified",
    )
    .await;

    // CN is not the device id.
    hub.register_ca_device("dev-a").await;
    refused(
        &hub,
        "dev-a",
        Some(&device(&ca, "dev-b")),
        "",
        "CN (dev-b) is not the device id dev-a",
    )
    .await;

    // Not registered.
    refused(
        &hub,
        "dev-unknown",
        Some(&device(&ca, "dev-unknown")),
        "",
        "not registered",
    )
    .await;

    // Signed by a CA the hub does not know.
    hub.register_ca_device("dev-rogue").await;
    refused(
        &hub,
        "dev-rogue",
        Some(&device(&root("Rogue CA"), "dev-rogue")),
        "",
        "not signed by a verified CA",
    )
    .await;

    // Expired: a certificate issued 40 days ago for 30 days.
    hub.register_ca_device("dev-expired").await;
    let past = now() - time::Duration::days(40);
    let old_ca =
        hubcert::pki::CertificateAuthority::create_root(&Default::default(), past).expect("old ca");
    hub.upload_and_verify("old", &old_ca).await;
    let params = hubcert::pki::DeviceCertParams {
        device_id: hubcert::contract::DeviceId::parse("dev-expired").expect("id"),
        validity: hubcert::pki::ValidityDays::new(30).expect("days"),
    };
    let expired = old_ca
        .issue_device_identity(&params, hubcert::pki::KeyAlgorithm::EcdsaP256, past)
        .expect("expired");
    refused(&hub, "dev-expired", Some(&expired), "", "expired").await;

    // No certificate at all for a CA-signed device.
    refused(&hub, "dev-a", None, "", "no client certificate").await;
    assert!(
        hub.running.hub.telemetry(None).is_empty(),
        "refusals are not telemetry"
    );

    // And the good device still gets in afterwards.
    hub.register_ca_device("dev-good").await;
    assert!(connect(
        &hub,
        Via::Tls,
        "dev-good",
        Some(&device(&ca, "dev-good")),
        ""
    )
    .await
    .is_ok());
}

#[tokio::test]
async fn self_signed_device_connects_by_thumbprint_only() {
    let hub = start().await;
    // A self-signed certificate whose CN is the device id.
    let own = root("thumb-dev");
    let sha256 = own.certificate().sha256_thumbprint().to_string();
    let body = json!({"deviceId": "thumb-dev", "authentication": {"type": "selfSigned", "x509Thumbprint": {"primaryThumbprint": sha256}}});
    assert_eq!(
        hub.registry("PUT", "thumb-dev", None, Some(body))
            .await
            .status,
        200
    );
    let identity = hubcert::pki::Identity {
        certificate: own.certificate().clone(),
        key: hubcert::pki::KeyPair::from_pkcs8_pem(&own.key().to_pkcs8_pem().expect("pem"))
            .expect("key"),
    };
    assert!(connect(&hub, Via::Tls, "thumb-dev", Some(&identity), "")
        .await
        .is_ok());

    // Another certificate for the same id is refused.
    let other = root("thumb-dev");
    let other_identity = hubcert::pki::Identity {
        certificate: other.certificate().clone(),
        key: hubcert::pki::KeyPair::from_pkcs8_pem(&other.key().to_pkcs8_pem().expect("pem"))
            .expect("key"),
    };
    refused(&hub, "thumb-dev", Some(&other_identity), "", "thumbprint").await;
}

#[tokio::test]
async fn thumbprints_with_colons_are_refused_as_the_hub_does() {
    let hub = start().await;
    let body = json!({"deviceId": "d", "authentication": {"type": "selfSigned", "x509Thumbprint": {"primaryThumbprint": "AB:CD"}}});
    let r = hub.registry("PUT", "d", None, Some(body)).await;
    assert_eq!(r.status, 400);
    assert!(
        r.body["Message"].as_str().unwrap_or("").contains("colons"),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn sas_device_connects_with_a_valid_token_and_not_with_a_bad_one() {
    let hub = start().await;
    let key = "c2VjcmV0LWtleS1mb3ItdGVzdHMtb25seS0wMTIzNDU2Nzg5";
    let body = json!({"deviceId": "sas-dev", "authentication": {"type": "sas", "symmetricKey": {"primaryKey": key, "secondaryKey": key}}});
    assert_eq!(
        hub.registry("PUT", "sas-dev", None, Some(body))
            .await
            .status,
        200
    );
    let expiry = (now().unix_timestamp() + 600) as u64;
    let token = hubcert::contract::build_sas_token("localhost/devices/sas-dev", key, None, expiry)
        .expect("token");
    let (client, mut events) = connect(&hub, Via::Tls, "sas-dev", None, &token)
        .await
        .expect("sas connects");
    send_telemetry(&client, &mut events, "sas-dev", "{}").await;

    let wrong = hubcert::contract::build_sas_token(
        "localhost/devices/sas-dev",
        "b3RoZXIta2V5",
        None,
        expiry,
    )
    .expect("token");
    refused(&hub, "sas-dev", None, &wrong, "signature does not match").await;
    let expired = hubcert::contract::build_sas_token("localhost/devices/sas-dev", key, None, 1000)
        .expect("token");
    refused(&hub, "sas-dev", None, &expired, "expired").await;
}

#[tokio::test]
async fn stale_etag_gets_412_and_foreign_verification_certificate_gets_400() {
    let hub = start().await;
    let ca = root("IoT Root CA");
    let r = hub
        .arm(
            "PUT",
            &hub.cert_url("root"),
            None,
            Some(json!({"properties": {"certificate": ca.certificate().pem()}})),
        )
        .await;
    let first_etag = r.body["etag"].as_str().expect("etag").to_owned();
    let r = hub
        .arm(
            "POST",
            &format!("{}/generateVerificationCode", hub.cert_url("root")),
            Some(&first_etag),
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    let code = r.body["properties"]["verificationCode"]
        .as_str()
        .expect("code")
        .to_owned();
    let fresh_etag = r.body["etag"].as_str().expect("etag").to_owned();
    assert_ne!(first_etag, fresh_etag, "generating a code changes the etag");

    // The seed's mistake: verify with the etag read before the code was generated.
    let r = hub
        .arm(
            "POST",
            &format!("{}/verify", hub.cert_url("root")),
            Some(&first_etag),
            Some(json!({"certificate": verification(&ca, &code)})),
        )
        .await;
    assert_eq!(r.status, 412, "{}", r.body);
    assert_eq!(r.body["code"], "IH412001");

    // Missing If-Match on an update.
    let r = hub
        .arm(
            "PUT",
            &hub.cert_url("root"),
            None,
            Some(json!({"properties": {"certificate": ca.certificate().pem()}})),
        )
        .await;
    assert_eq!(r.status, 412, "{}", r.body);

    // Signed by another CA.
    let r = hub
        .arm(
            "POST",
            &format!("{}/verify", hub.cert_url("root")),
            Some(&fresh_etag),
            Some(json!({"certificate": verification(&root("Other CA"), &code)})),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.body["code"], "IH400053");

    // Right CA, wrong code.
    let r = hub
        .arm(
            "POST",
            &format!("{}/verify", hub.cert_url("root")),
            Some(&fresh_etag),
            Some(json!({"certificate": verification(&ca, "0000")})),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.body);

    // Base64 DER is accepted as well as PEM.
    let pem = verification(&ca, &code);
    let der = hubcert::pki::Certificate::from_pem(&pem).expect("pem");
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der.der());
    let r = hub
        .arm(
            "POST",
            &format!("{}/verify", hub.cert_url("root")),
            Some(&fresh_etag),
            Some(json!({"certificate": b64})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["properties"]["isVerified"], true);
}

#[tokio::test]
async fn arm_needs_a_bearer_token_and_refuses_an_expired_one() {
    let hub = start().await;
    let r = reply(
        hub.http
            .get(format!("{}?api-version=2023-06-30", hub.cert_url("x")))
            .send()
            .await
            .expect("get"),
    )
    .await;
    assert_eq!(r.status, 401);
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let jwt = format!(
        "{}.{}.sig",
        b64.encode(r#"{"alg":"none"}"#),
        b64.encode(r#"{"exp":1000}"#)
    );
    let r = reply(
        hub.http
            .get(format!("{}?api-version=2023-06-30", hub.cert_url("x")))
            .header("Authorization", format!("Bearer {jwt}"))
            .send()
            .await
            .expect("get"),
    )
    .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body["code"], "ExpiredAuthenticationToken");
}

#[tokio::test]
async fn registry_refuses_bad_and_expired_service_tokens() {
    let hub = start().await;
    let body = Some(json!({"deviceId": "d1", "authentication": {"type": "certificateAuthority"}}));
    let expired = hub.service_token(1000);
    let r = hub
        .registry_with("PUT", "d1", None, body.clone(), &expired)
        .await;
    assert_eq!(r.status, 401, "{}", r.body);
    assert!(
        r.body["Message"].as_str().unwrap_or("").contains("expired"),
        "{}",
        r.body
    );
    let forged = hubcert::contract::build_sas_token(
        "localhost",
        "b3RoZXIta2V5",
        Some("iothubowner"),
        4_000_000_000,
    )
    .expect("token");
    assert_eq!(
        hub.registry_with("PUT", "d1", None, body.clone(), &forged)
            .await
            .status,
        401
    );
    assert_eq!(
        hub.registry("PUT", "d1", None, body.clone()).await.status,
        200
    );
    // Create twice: 409. Delete needs If-Match.
    assert_eq!(hub.registry("PUT", "d1", None, body).await.status, 409);
    assert_eq!(hub.registry("DELETE", "d1", None, None).await.status, 400);
    assert_eq!(
        hub.registry("DELETE", "d1", Some("*"), None).await.status,
        204
    );
    assert_eq!(hub.registry("GET", "d1", None, None).await.status, 404);
}

#[tokio::test]
async fn cors_answers_the_app_origin_only() {
    let hub = start().await;
    let preflight = |origin: &'static str| {
        hub.http
            .request(
                reqwest::Method::OPTIONS,
                format!("{}/devices/d1?api-version=2021-04-12", hub.base),
            )
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "PUT")
            .header(
                "Access-Control-Request-Headers",
                "authorization,content-type,if-match",
            )
            .send()
    };
    let ok = preflight("http://127.0.0.1:8080").await.expect("preflight");
    assert_eq!(
        ok.headers()
            .get("access-control-allow-origin")
            .and_then(|v| v.to_str().ok()),
        Some("http://127.0.0.1:8080")
    );
    assert!(ok.headers().get("access-control-allow-headers").is_some());
    // Only the app's own origin by default: another dev server on this machine gets nothing.
    for origin in [
        "http://localhost:5173",
        "https://evil.example",
        "http://127.0.0.1.evil.example:8080",
        "http://127.0.0.1:80x",
        "https://127.0.0.1:8080",
    ] {
        let other = preflight(origin).await.expect("preflight");
        assert!(
            other.headers().get("access-control-allow-origin").is_none(),
            "{origin} allowed"
        );
    }
}

/// Why the last refusal of `id` happened, as localhub tells watchers.
async fn refusal_reason(
    watch: &mut tokio::sync::broadcast::Receiver<localhub::TelemetryEvent>,
    id: &str,
) -> String {
    tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match watch.recv().await {
                Ok(e) if e.kind == EventKind::Refused && e.device_id == id => {
                    return e.reason.unwrap_or_default()
                }
                Ok(_) => continue,
                Err(e) => panic!("event stream ended: {e}"),
            }
        }
    })
    .await
    .expect("a refusal event")
}

#[tokio::test]
async fn ca_signed_devices_over_websockets_follow_the_ga_rule_unless_in_preview_mode() {
    for preview_mode in [false, true] {
        let hub = start_with(localhub::Config {
            preview_mode,
            ..localhub::Config::ephemeral()
        })
        .await;
        let ca = root("WS Root");
        hub.upload_and_verify("ws-root", &ca).await;
        let intermediate = ca
            .issue_intermediate(
                &hubcert::pki::IntermediateCaParams {
                    // Shorter than the root: on the wall clock, the root's ten years started earlier.
                    subject: hubcert::pki::RootCaParams {
                        common_name: "WS Intermediate".into(),
                        validity: hubcert::pki::ValidityDays::new(1000).expect("days"),
                        ..Default::default()
                    },
                    path_len: Some(0),
                },
                now(),
            )
            .expect("intermediate");
        let mode = if preview_mode { "preview" } else { "GA" };

        // Signed directly by the verified CA: works on every transport in both modes.
        hub.register_ca_device("direct-dev").await;
        let direct = device(&ca, "direct-dev");
        for via in [Via::Tls, Via::Wss, Via::WssRest] {
            assert!(
                connect(&hub, via, "direct-dev", Some(&direct), "")
                    .await
                    .is_ok(),
                "{mode}: a device signed by the verified CA connects"
            );
        }

        // Under an intermediate (sent in the handshake): MQTT over TCP always; over WebSockets
        // only in preview mode, on either port.
        hub.register_ca_device("chained-dev").await;
        let chained = device(&intermediate, "chained-dev");
        let chain = [intermediate.certificate()];
        assert!(
            connect_with_chain(&hub, Via::Tls, "chained-dev", Some(&chained), &chain, "")
                .await
                .is_ok(),
            "{mode}: MQTT over TLS takes an intermediate"
        );
        for via in [Via::Wss, Via::WssRest] {
            let mut watch = hub.running.hub.subscribe();
            let result =
                connect_with_chain(&hub, via, "chained-dev", Some(&chained), &chain, "").await;
            if preview_mode {
                assert!(result.is_ok(), "preview: {:?}", result.err());
            } else {
                let e = result.err().expect("a GA hub refuses it over WebSockets");
                assert!(e.contains("NotAuthorized"), "expected CONNACK 5, got {e}");
                let reason = refusal_reason(&mut watch, "chained-dev").await;
                assert!(reason.contains("preview mode"), "{reason}");
            }
        }

        // The same certificate registered by thumbprint: GA on WebSockets.
        let thumb = chained.certificate.sha256_thumbprint().to_string();
        let body = json!({"deviceId": "thumb-ws", "authentication": {"type": "selfSigned", "x509Thumbprint": {"primaryThumbprint": thumb}}});
        assert_eq!(
            hub.registry("PUT", "thumb-ws", None, Some(body))
                .await
                .status,
            200
        );
        let by_thumbprint = hubcert::pki::Identity {
            certificate: chained.certificate.clone(),
            key: hubcert::pki::KeyPair::from_pkcs8_pem(&chained.key.to_pkcs8_pem().expect("pem"))
                .expect("key"),
        };
        assert!(
            connect(&hub, Via::Wss, "thumb-ws", Some(&by_thumbprint), "")
                .await
                .is_ok(),
            "{mode}: a thumbprint device connects over WebSockets"
        );
    }
}

//! localhub's DPS, driven by the app's own sans-IO registration flow (`hubcert::mqtt::Provisioning`)
//! over TLS: an X.509 enrollment group made through the service API, a device registered and
//! assigned to the hub, which it then connects to; and DPS's refusals.

mod common;

use std::time::{Duration, Instant};

use common::*;
use hubcert::mqtt::{Provisioning, ProvisioningEvent};
use hubcert::pki::Identity;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn info(hub: &Hub) -> Value {
    hub.http
        .get(format!("{}/localhub/info", hub.base))
        .send()
        .await
        .expect("info")
        .json()
        .await
        .expect("json")
}

async fn dps(hub: &Hub, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
    hub.dps_call(method, path, body).await
}

/// The app's DPS client against this localhub: its ID scope and DPS name, the service settings
/// from its DPS connection string, and the client over HTTP.
struct AppDps {
    scope: String,
    name: String,
    svc: hubcert::iothub::DpsService,
    client: hubcert::iothub::HubClient<localhub::HttpTransport>,
}

async fn app_dps(hub: &Hub) -> AppDps {
    let facts = info(hub).await;
    let text = |k: &str| {
        facts[k]
            .as_str()
            .unwrap_or_else(|| panic!("{k} in /localhub/info"))
            .to_owned()
    };
    AppDps {
        scope: text("idScope"),
        name: text("dpsName"),
        svc: hubcert::iothub::DpsService::from_connection_string(
            &hub.base,
            &text("dpsConnectionString"),
        )
        .expect("DPS settings"),
        client: hubcert::iothub::HubClient::new(localhub::HttpTransport(hub.http.clone()), true),
    }
}

/// Now, in Unix seconds, for SAS tokens.
fn unix() -> u64 {
    now().unix_timestamp() as u64
}

/// Registers `registration_id` with `identity` over TLS; the flow's events until it finishes.
async fn register(
    hub: &Hub,
    id_scope: &str,
    registration_id: &str,
    identity: &Identity,
) -> Vec<ProvisioningEvent> {
    register_presenting(hub, id_scope, registration_id, identity, &[]).await
}

/// As [`register`], the device presenting `intermediates` (DER) after its certificate.
async fn register_presenting(
    hub: &Hub,
    id_scope: &str,
    registration_id: &str,
    identity: &Identity,
    intermediates: &[Vec<u8>],
) -> Vec<ProvisioningEvent> {
    let mut tls = device_tls_presenting(hub, identity, intermediates)
        .await
        .expect("tls");
    let started = Instant::now();
    let ms = || started.elapsed().as_millis() as u64;
    let mut flow = Provisioning::connect(id_scope, registration_id, None, 0).expect("connect");
    let mut events = Vec::new();
    let mut buf = [0u8; 8192];
    while !flow.is_finished() {
        for frame in flow.take_outgoing() {
            tls.write_all(&frame).await.expect("write");
        }
        tls.flush().await.expect("flush");
        match tokio::time::timeout(Duration::from_millis(200), tls.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => events.extend(flow.receive(&buf[..n], ms()).expect("well-formed")),
            Err(_) => {}
        }
        flow.tick(ms()).expect("tick");
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "registration took too long: {events:?}"
        );
    }
    events
}

#[tokio::test]
async fn a_device_of_an_enrollment_group_is_assigned_to_the_hub_and_connects_there() {
    let hub = start().await;
    let scope = info(&hub).await["idScope"]
        .as_str()
        .expect("scope")
        .to_owned();
    let ca = root("Fleet Root");
    // The CA is on DPS only (in the group), as in Microsoft's enrollment-group tutorial: the hub
    // does not know it.
    assert_eq!(hub.enroll_group("fleet", &ca, true).await, 200);
    let (status, group) = dps(&hub, reqwest::Method::GET, "/enrollmentGroups/fleet", None).await;
    assert_eq!(
        (status, group["provisioningStatus"].as_str()),
        (200, Some("enabled"))
    );

    let dev = device(&ca, "fleet-dev-1");
    let events = register(&hub, &scope, "fleet-dev-1", &dev).await;
    assert!(
        matches!(events.first(), Some(ProvisioningEvent::Registering)),
        "{events:?}"
    );
    assert!(
        events.iter().any(|e| matches!(
            e,
            ProvisioningEvent::Waiting {
                retry_after_ms: 1000,
                ..
            }
        )),
        "{events:?}"
    );
    assert_eq!(
        events.last(),
        Some(&ProvisioningEvent::Assigned {
            hub: "localhost".into(),
            device_id: "fleet-dev-1".into(),
            substatus: Some("initialAssignment".into())
        })
    );
    // The identity exists in the hub as DPS writes it: a thumbprint (self-signed) device pinned to
    // the SHA-256 of the certificate it presented, in both slots.
    let sha256 = |i: &Identity| i.certificate.info().unwrap().sha256.to_string();
    let pinned = |body: &Value| {
        let t = &body["authentication"]["x509Thumbprint"];
        (
            body["authentication"]["type"].as_str().map(str::to_owned),
            t["primaryThumbprint"].as_str().map(str::to_uppercase),
            t["secondaryThumbprint"].as_str().map(str::to_uppercase),
        )
    };
    let r = hub.registry("GET", "fleet-dev-1", None, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        pinned(&r.body),
        (
            Some("selfSigned".into()),
            Some(sha256(&dev).to_uppercase()),
            Some(sha256(&dev).to_uppercase())
        ),
        "{:?}",
        r.body
    );
    // It connects over MQTT/TLS and over WebSockets (a thumbprint device: GA on every protocol),
    // with no CA in the hub.
    for via in [Via::Tls, Via::Wss, Via::WssRest] {
        let (client, mut events) = connect(&hub, via, "fleet-dev-1", Some(&dev), "")
            .await
            .unwrap_or_else(|e| panic!("connects to the hub over {via:?}: {e}"));
        send_telemetry(&client, &mut events, "fleet-dev-1", r#"{"t":1}"#).await;
        let _ = client.disconnect().await;
    }

    // A renewed certificate (same id, same CA) is not the pinned one: the hub refuses it until the
    // device provisions again with it.
    let renewed = device(&ca, "fleet-dev-1");
    assert!(
        connect(&hub, Via::Tls, "fleet-dev-1", Some(&renewed), "")
            .await
            .is_err(),
        "a renewed certificate must not connect before it is provisioned"
    );
    let again = register(&hub, &scope, "fleet-dev-1", &renewed).await;
    assert!(
        matches!(again.last(), Some(ProvisioningEvent::Assigned { hub, device_id, .. }) if hub == "localhost" && device_id == "fleet-dev-1"),
        "{again:?}"
    );
    // DPS wrote the new thumbprint: the renewed certificate connects, the old one no longer does.
    let r = hub.registry("GET", "fleet-dev-1", None, None).await;
    assert_eq!(
        pinned(&r.body).1,
        Some(sha256(&renewed).to_uppercase()),
        "{:?}",
        r.body
    );
    let (client, mut events) = connect(&hub, Via::Wss, "fleet-dev-1", Some(&renewed), "")
        .await
        .expect("the renewed certificate connects once provisioned");
    send_telemetry(&client, &mut events, "fleet-dev-1", r#"{"t":2}"#).await;
    assert!(
        connect(&hub, Via::Tls, "fleet-dev-1", Some(&dev), "")
            .await
            .is_err(),
        "the replaced certificate must be refused"
    );
}

#[tokio::test]
async fn dps_refuses_as_dps_does() {
    let hub = start().await;
    let scope = info(&hub).await["idScope"]
        .as_str()
        .expect("scope")
        .to_owned();
    let ca = root("Group Root");
    assert_eq!(hub.enroll_group("paused", &ca, false).await, 200);
    let refused = |events: &[ProvisioningEvent]| {
        matches!(
            events.last(),
            Some(ProvisioningEvent::Failed { status: 5, .. })
        )
    };

    // The registration id is not the certificate's CN.
    let dev = device(&ca, "real-name");
    assert!(refused(&register(&hub, &scope, "other-name", &dev).await));
    // A CA no group names.
    let stranger = device(&root("Stranger Root"), "stranger");
    assert!(refused(
        &register(&hub, &scope, "stranger", &stranger).await
    ));
    // A wrong ID scope.
    assert!(refused(
        &register(&hub, "0neNOTMINE1", "real-name", &dev).await
    ));
    // A disabled group: the registration reports disabled.
    let events = register(&hub, &scope, "real-name", &dev).await;
    assert!(
        matches!(events.last(), Some(ProvisioningEvent::Failed { message, .. }) if message.contains("disabled")),
        "{events:?}"
    );
    // The service API wants its own key.
    let r = hub
        .http
        .get(format!(
            "{}/enrollmentGroups/paused?api-version=2021-10-01",
            hub.base
        ))
        .header(
            "Authorization",
            hub.service_token(now().unix_timestamp() as u64 + 60),
        )
        .send()
        .await
        .expect("answer");
    assert_eq!(r.status().as_u16(), 401);
    assert_eq!(
        dps(&hub, reqwest::Method::GET, "/enrollmentGroups/none", None)
            .await
            .0,
        404
    );
    assert_eq!(
        dps(
            &hub,
            reqwest::Method::DELETE,
            "/enrollmentGroups/paused",
            None
        )
        .await
        .0,
        204
    );
}

#[tokio::test]
async fn the_apps_dps_client_creates_replaces_lists_and_deletes_groups() {
    use hubcert::contract::EnrollmentGroup;
    use hubcert::iothub::RestError;
    let hub = start().await;
    let AppDps { svc, client, .. } = app_dps(&hub).await;
    let t = unix;
    let (a, b) = (root("Rollover A"), root("Rollover B"));

    let one = EnrollmentGroup::x509_signing("line-1", &a.certificate().pem(), None);
    let saved = client
        .save_enrollment_group(&svc, &one, t())
        .await
        .expect("created");
    assert!(!saved.replaced);
    let first_etag = saved.item.etag.clone().expect("etag");
    // Rolled over: B beside A as the secondary, written with the etag read.
    let two = EnrollmentGroup::x509_signing(
        "line-1",
        &a.certificate().pem(),
        Some(&b.certificate().pem()),
    );
    let saved = client
        .save_enrollment_group(&svc, &two, t())
        .await
        .expect("replaced");
    assert!(saved.replaced);
    assert_ne!(saved.item.etag.as_deref(), Some(first_etag.as_str()));
    // DPS answers with what it knows of each certificate (info), not the certificate.
    assert!(saved.item.signing_certificates().is_empty());
    let subjects: Vec<String> = saved
        .item
        .signing_entries()
        .iter()
        .filter_map(|e| e.info.as_ref().map(|i| i.subject_name.clone()))
        .collect();
    assert_eq!(subjects.len(), 2, "{subjects:?}");
    assert_eq!(
        saved.item.signing_entries()[0]
            .info
            .as_ref()
            .unwrap()
            .sha1_thumbprint,
        a.certificate().info().unwrap().sha1.to_string()
    );

    // A writer holding the old etag is refused (412), and one with none (409), as DPS does.
    let stale = svc.put_group(&one, Some(&first_etag), t()).unwrap();
    let e = client
        .call(hubcert::iothub::Plane::Dps, &stale)
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(412), "{e}");
    let blind = svc.put_group(&one, None, t()).unwrap();
    let e = client
        .call(hubcert::iothub::Plane::Dps, &blind)
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(409), "{e}");

    client
        .save_enrollment_group(
            &svc,
            &EnrollmentGroup::x509_signing("line-2", &b.certificate().pem(), None),
            t(),
        )
        .await
        .expect("second group");
    let ids: Vec<String> = client
        .enrollment_groups(&svc, t())
        .await
        .expect("query")
        .into_iter()
        .map(|g| g.enrollment_group_id)
        .collect();
    assert_eq!(ids, ["line-1", "line-2"]);
    client
        .delete_enrollment_group(&svc, "line-1", t())
        .await
        .expect("deleted");
    let e = client
        .enrollment_group(&svc, "line-1", t())
        .await
        .unwrap_err();
    assert!(
        matches!(&e, RestError::Status { status: 404, code: Some(c), .. } if c == "404202"),
        "{e:?}"
    );
    assert!(e.to_string().contains("No such enrollment"), "{e}");
}

#[tokio::test]
async fn a_ca_proven_on_dps_backs_a_group_by_reference_and_its_devices_register() {
    use hubcert::contract::{EnrollmentGroup, VerificationCode};
    use hubcert::iothub::Arm;
    use hubcert::pki::{ValidityDays, VerificationCertParams};
    let hub = start().await;
    let AppDps {
        scope,
        name: dps_name,
        svc,
        client,
    } = app_dps(&hub).await;
    let arm = Arm::dps(&hub.base, "sub", "rg", &dps_name, "any-token").expect("arm");
    let t = unix;
    let ca = root("DPS Proven Root");
    let sign = |code: VerificationCode| {
        std::future::ready(
            ca.issue_verification(
                &VerificationCertParams {
                    code,
                    validity: ValidityDays::ONE_DAY,
                },
                now(),
            )
            .map(|v| v.certificate.pem()),
        )
    };

    // Uploaded but not proven: a group may not refer to it yet.
    client
        .upload_certificate(&arm, "fleet-root", &ca.certificate().pem(), false)
        .await
        .expect("uploaded to DPS");
    let by_ref = EnrollmentGroup::x509_ca_references("by-ref", "fleet-root", None);
    let e = client
        .save_enrollment_group(&svc, &by_ref, t())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("not verified"), "{e}");
    // The one-click flow of the hub, on DPS: adopt the upload, prove possession.
    let sha1 = ca.certificate().info().expect("info").sha1.to_string();
    let done = client
        .upload_and_verify(
            &arm,
            "fleet-root",
            &ca.certificate().pem(),
            &sha1,
            false,
            sign,
            |_| {},
        )
        .await
        .expect("proven on DPS");
    assert!(done.adopted && done.certificate.is_verified);
    // The DPS's certificates are its own: the hub's list does not show it.
    let hub_arm = Arm::new(&hub.base, "sub", "rg", "localhub", "any-token").unwrap();
    assert!(client.certificates(&hub_arm).await.unwrap().is_empty());
    // A reference to a name DPS does not hold is refused by name.
    let e = client
        .save_enrollment_group(
            &svc,
            &EnrollmentGroup::x509_ca_references("ghost", "no-such", None),
            t(),
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("names no certificate"), "{e}");

    client
        .save_enrollment_group(&svc, &by_ref, t())
        .await
        .expect("group by reference");
    let dev = device(&ca, "ref-dev-1");
    let events = register(&hub, &scope, "ref-dev-1", &dev).await;
    assert!(
        matches!(events.last(), Some(ProvisioningEvent::Assigned { device_id, .. }) if device_id == "ref-dev-1"),
        "{events:?}"
    );
    // Another DPS name in the path is not this one.
    let other = Arm::dps(&hub.base, "sub", "rg", "someone-elses", "t").unwrap();
    let e = client.certificates(&other).await.unwrap_err();
    assert_eq!(e.status(), Some(404), "{e}");
}

#[tokio::test]
async fn an_individual_enrollment_registers_its_device_by_thumbprint_and_keeps_its_state() {
    use hubcert::contract::{IndividualEnrollment, RegistrationStatus};
    let hub = start().await;
    let AppDps {
        scope, svc, client, ..
    } = app_dps(&hub).await;
    let t = unix;
    // A certificate whose CA no group and no hub trusts: only its enrollment lets it in.
    let ca = root("Unlisted Root");
    let dev = device(&ca, "solo-1");

    // The certificate's CN must be the registration id.
    let wrong = IndividualEnrollment::x509_client("solo-2", &dev.certificate.pem(), None);
    let e = client.save_enrollment(&svc, &wrong, t()).await.unwrap_err();
    assert!(e.to_string().contains("is not the registration id"), "{e}");
    // Nothing registered yet: no state.
    let e = client
        .registration_state(&svc, "solo-1", t())
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(404), "{e}");

    let enrollment = IndividualEnrollment::x509_client("solo-1", &dev.certificate.pem(), None);
    let saved = client
        .save_enrollment(&svc, &enrollment, t())
        .await
        .expect("enrolled");
    assert!(!saved.replaced && saved.item.etag.is_some());
    let events = register(&hub, &scope, "solo-1", &dev).await;
    assert!(
        matches!(events.last(), Some(ProvisioningEvent::Assigned { device_id, .. }) if device_id == "solo-1"),
        "{events:?}"
    );
    // In the hub as a thumbprint device, with this certificate's SHA-256 (the hub's digest; DPS
    // shows SHA-1) in both slots, and it connects there.
    let r = hub.registry("GET", "solo-1", None, None).await;
    assert_eq!(
        r.body["authentication"]["type"], "selfSigned",
        "{:?}",
        r.body
    );
    let sha256 = dev.certificate.info().unwrap().sha256.to_string();
    for slot in ["primaryThumbprint", "secondaryThumbprint"] {
        assert_eq!(
            r.body["authentication"]["x509Thumbprint"][slot]
                .as_str()
                .map(str::to_uppercase),
            Some(sha256.to_uppercase()),
            "{slot}"
        );
    }
    let (c, mut ev) = connect(&hub, Via::Tls, "solo-1", Some(&dev), "")
        .await
        .expect("connects by thumbprint");
    send_telemetry(&c, &mut ev, "solo-1", r#"{"solo":1}"#).await;
    // The registration state as DPS keeps it.
    let state = client
        .registration_state(&svc, "solo-1", t())
        .await
        .expect("state");
    assert_eq!(state.status, Some(RegistrationStatus::Assigned));
    assert_eq!(state.assigned_hub.as_deref(), Some("localhost"));
    assert!(state.created_date_time_utc.is_some() && state.etag.is_some());

    // Another certificate with the same CN is not the enrolled one: refused.
    let other = device(&ca, "solo-1");
    assert!(matches!(
        register(&hub, &scope, "solo-1", &other).await.last(),
        Some(ProvisioningEvent::Failed { status: 5, .. })
    ));
    // Renewal through the enrollment: the new certificate as secondary, then registered again;
    // the hub's identity now lists both thumbprints.
    let renewed = IndividualEnrollment::x509_client(
        "solo-1",
        &dev.certificate.pem(),
        Some(&other.certificate.pem()),
    );
    let saved = client
        .save_enrollment(&svc, &renewed, t())
        .await
        .expect("updated");
    assert!(saved.replaced);
    let again = register(&hub, &scope, "solo-1", &other).await;
    assert!(
        matches!(again.last(), Some(ProvisioningEvent::Assigned { .. })),
        "{again:?}"
    );
    let r = hub.registry("GET", "solo-1", None, None).await;
    let other_sha256 = other.certificate.info().unwrap().sha256.to_string();
    assert_eq!(
        r.body["authentication"]["x509Thumbprint"]["secondaryThumbprint"]
            .as_str()
            .map(str::to_uppercase),
        Some(other_sha256.to_uppercase())
    );

    // Disabled: the registration says so and the state records it.
    let mut off = renewed.clone();
    off.provisioning_status = Some("disabled".into());
    client
        .save_enrollment(&svc, &off, t())
        .await
        .expect("disabled");
    let events = register(&hub, &scope, "solo-1", &dev).await;
    assert!(
        matches!(events.last(), Some(ProvisioningEvent::Failed { message, .. }) if message.contains("Enrollment solo-1 is disabled")),
        "{events:?}"
    );
    let state = client
        .registration_state(&svc, "solo-1", t())
        .await
        .expect("state");
    assert_eq!(state.status, Some(RegistrationStatus::Disabled));
    // Deleting the registration state and the enrollment.
    let (status, _) = dps(&hub, reqwest::Method::DELETE, "/registrations/solo-1", None).await;
    assert_eq!(status, 204);
    assert_eq!(
        client
            .registration_state(&svc, "solo-1", t())
            .await
            .unwrap_err()
            .status(),
        Some(404)
    );
    let (status, _) = dps(&hub, reqwest::Method::DELETE, "/enrollments/solo-1", None).await;
    assert_eq!(status, 204);
    assert!(matches!(
        register(&hub, &scope, "solo-1", &dev).await.last(),
        Some(ProvisioningEvent::Failed { status: 5, .. })
    ));
}

#[tokio::test]
async fn the_initial_twin_applies_once_and_the_reprovision_policy_decides_what_stays() {
    use hubcert::contract::{EnrollmentGroup, RegistrationStatus};
    let hub = start().await;
    let AppDps {
        scope, svc, client, ..
    } = app_dps(&hub).await;
    let t = unix;
    let ca = root("Twin Root");
    hub.upload_and_verify("twin-root", &ca).await;
    let mut group = EnrollmentGroup::x509_signing("twins", &ca.certificate().pem(), None);
    group.initial_twin =
        Some(json!({"tags": {"site": "plant-7"}, "properties": {"desired": {"interval": 30}}}));
    group.capabilities = Some(json!({"iotEdge": true}));
    client
        .save_enrollment_group(&svc, &group, t())
        .await
        .expect("group");

    let dev = device(&ca, "twin-1");
    assert!(matches!(
        register(&hub, &scope, "twin-1", &dev).await.last(),
        Some(ProvisioningEvent::Assigned { .. })
    ));
    let r = hub.registry("GET", "twin-1", None, None).await;
    assert_eq!(r.body["capabilities"]["iotEdge"], true, "{:?}", r.body);
    let twin = twin_of(&hub, "twin-1", &dev, Some(json!({"firmware": "1.0"}))).await;
    assert_eq!(twin["desired"]["interval"], 30, "{twin}");

    // Registering again with the default policy (migrate): the device's data stays.
    register(&hub, &scope, "twin-1", &dev).await;
    let twin = twin_of(&hub, "twin-1", &dev, None).await;
    assert_eq!(twin["reported"]["firmware"], "1.0", "{twin}");
    let state = client
        .registration_state(&svc, "twin-1", t())
        .await
        .unwrap();
    assert_eq!(state.substatus.as_deref(), Some("initialAssignment"));

    // Policy "reset to initial config": the next registration starts the twin again.
    let mut current = client.enrollment_group(&svc, "twins", t()).await.unwrap();
    current.reprovision_policy =
        Some(json!({"updateHubAssignment": true, "migrateDeviceData": false}));
    current.initial_twin = Some(json!({"properties": {"desired": {"interval": 60}}}));
    client
        .save_enrollment_group(&svc, &current, t())
        .await
        .expect("policy");
    register(&hub, &scope, "twin-1", &dev).await;
    let twin = twin_of(&hub, "twin-1", &dev, None).await;
    assert!(twin["reported"].get("firmware").is_none(), "{twin}");
    assert_eq!(twin["desired"]["interval"], 60, "{twin}");
    let state = client
        .registration_state(&svc, "twin-1", t())
        .await
        .unwrap();
    assert_eq!(
        (state.status, state.substatus.as_deref()),
        (Some(RegistrationStatus::Assigned), Some("deviceDataReset"))
    );
}

#[tokio::test]
async fn a_group_read_back_and_written_again_keeps_its_certificate_as_az_does() {
    // `az iot dps enrollment-group update` reads the group (certificates as info only) and
    // writes it back with one field changed; DPS keeps the certificate it holds.
    let hub = start().await;
    let ca = root("Info Root");
    assert_eq!(hub.enroll_group("info-group", &ca, true).await, 200);
    let (status, mut read) = dps(
        &hub,
        reqwest::Method::GET,
        "/enrollmentGroups/info-group",
        None,
    )
    .await;
    assert_eq!(status, 200, "{read}");
    let primary = &read["attestation"]["x509"]["signingCertificates"]["primary"];
    assert!(primary.get("certificate").is_none(), "{read}");
    assert_eq!(
        primary["info"]["sha1Thumbprint"].as_str(),
        Some(ca.certificate().info().unwrap().sha1.as_str())
    );
    assert!(primary["info"]["subjectName"]
        .as_str()
        .unwrap()
        .contains("CN=Info Root"));
    read["provisioningStatus"] = json!("disabled");
    let etag = read["etag"].as_str().unwrap().to_owned();
    let put = hub
        .http
        .put(format!(
            "{}/enrollmentGroups/info-group?api-version=2021-10-01",
            hub.base
        ))
        .header("Authorization", hub.dps_token())
        .header("If-Match", format!("\"{etag}\""))
        .json(&read)
        .send()
        .await
        .expect("answer");
    assert_eq!(put.status().as_u16(), 200);
    // The certificate is still the group's: a device under it is refused only because the group
    // is disabled now, and registers once it is enabled again.
    let scope = info(&hub).await["idScope"].as_str().unwrap().to_owned();
    let dev = device(&ca, "info-dev");
    let events = register(&hub, &scope, "info-dev", &dev).await;
    assert!(
        matches!(events.last(), Some(ProvisioningEvent::Failed { message, .. }) if message.contains("disabled")),
        "{events:?}"
    );
    // An info-only entry that matches nothing the group holds is refused.
    let mut bogus = read.clone();
    bogus["attestation"]["x509"]["signingCertificates"]["primary"]["info"]["sha1Thumbprint"] =
        json!("0000000000000000000000000000000000000000");
    bogus["attestation"]["x509"]["signingCertificates"]["primary"]["info"]["sha256Thumbprint"] =
        json!("");
    let (status, body) = dps(
        &hub,
        reqwest::Method::PUT,
        "/enrollmentGroups/info-group",
        Some(bogus),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body.to_string().contains("not one this enrollment holds"),
        "{body}"
    );
}

/// Where a CA rollover stands, read as the page reads it: the hub's and DPS's CAs and groups, and
/// for each device its hub record and whether DPS assigned it.
async fn rollover_standing(
    hub: &Hub,
    app: &AppDps,
    old: &hubcert::pki::CertificateAuthority,
    new: &hubcert::pki::CertificateAuthority,
    devices: &[(String, hubcert::pki::Certificate)],
) -> hubcert::iothub::CaRollover {
    use hubcert::contract::{DeviceId, RegistrationStatus};
    use hubcert::iothub::{plan_ca_rollover, Arm, CaRolloverInputs, Registry};
    let arm = Arm::new(&hub.base, "sub", "rg", "localhub", "any-token").unwrap();
    let registry =
        Registry::from_connection_string(&hub.base, &hub.running.hub.connection_string()).unwrap();
    let hub_certs = app.client.certificates(&arm).await.unwrap();
    let groups = app
        .client
        .enrollment_groups(&app.svc, unix())
        .await
        .unwrap();
    let (mut hub_devices, mut assigned) = (Vec::new(), Vec::new());
    for (id, _) in devices {
        if let Ok(d) = app
            .client
            .device(&registry, &DeviceId::parse(id).unwrap(), unix())
            .await
        {
            hub_devices.push(d);
        }
        if let Ok(s) = app.client.registration_state(&app.svc, id, unix()).await {
            if s.status == Some(RegistrationStatus::Assigned) {
                assigned.push(id.clone());
            }
        }
    }
    plan_ca_rollover(&CaRolloverInputs {
        old: old.certificate(),
        new: new.certificate(),
        hub: &hub_certs,
        dps: &[],
        groups: &groups,
        devices,
        hub_devices: &hub_devices,
        dps_assigned: &assigned,
    })
}

/// A DPS fleet (the CA on DPS only, as in Microsoft's tutorial) rolls over: the hub needs no CA;
/// the new CA joins the group, the device is re-issued, and the hub keeps the old certificate
/// pinned until the device provisions again with the new one; then the old CA is retired.
#[tokio::test]
async fn a_dps_fleet_rolls_over_by_provisioning_again_with_the_new_certificates() {
    use hubcert::iothub::{only_new_ca, with_new_ca, CaRolloverStage};
    use hubcert::pki::{RenewKey, ValidityDays};
    let hub = start().await;
    let app = app_dps(&hub).await;
    let t = unix;
    let (old, new) = (root("Rollover Old Root"), root("Rollover New Root"));
    assert_eq!(hub.enroll_group("rolling", &old, true).await, 200);
    let dev_old = device(&old, "roll-dev-1");
    let events = register(&hub, &app.scope, "roll-dev-1", &dev_old).await;
    assert!(
        matches!(events.last(), Some(ProvisioningEvent::Assigned { .. })),
        "{events:?}"
    );
    let mut devices = vec![("roll-dev-1".to_owned(), dev_old.certificate.clone())];
    let s = rollover_standing(&hub, &app, &old, &new, &devices).await;
    // A DPS device is pinned by thumbprint: the hub needs neither CA.
    assert!(!s.hub_needs_new, "{s:?}");
    assert_eq!(s.stage, CaRolloverStage::AddToGroups);
    assert_eq!(s.groups_old_only, ["rolling"]);

    // 1. The group trusts both (the read group's certificate stays as DPS described it).
    let read = app
        .client
        .enrollment_group(&app.svc, "rolling", t())
        .await
        .unwrap();
    let both = with_new_ca(&read, &new.certificate().pem(), None).unwrap();
    app.client
        .save_enrollment_group(&app.svc, &both, t())
        .await
        .unwrap();
    let s = rollover_standing(&hub, &app, &old, &new, &devices).await;
    assert_eq!(
        (s.stage, s.groups_both.clone()),
        (CaRolloverStage::Reissue, vec!["rolling".to_owned()])
    );
    assert_eq!(s.devices_on_old, ["roll-dev-1"]);

    // 2. Re-issued under the new CA: the hub still pins the old certificate.
    let renewed = new
        .renew_device(
            &dev_old.certificate,
            RenewKey::Same,
            ValidityDays::new(365).unwrap(),
            now(),
        )
        .unwrap();
    let dev_new = Identity {
        certificate: renewed.certificate,
        key: dev_old.key.duplicate().unwrap(),
    };
    devices.insert(0, ("roll-dev-1".to_owned(), dev_new.certificate.clone()));
    let s = rollover_standing(&hub, &app, &old, &new, &devices).await;
    assert_eq!(s.stage, CaRolloverStage::ProvisionAgain);
    assert_eq!(s.to_provision_again, ["roll-dev-1"]);
    assert!(connect(&hub, Via::Tls, "roll-dev-1", Some(&dev_new), "")
        .await
        .is_err());
    assert!(connect(&hub, Via::Tls, "roll-dev-1", Some(&dev_old), "")
        .await
        .is_ok());

    // 3. Provisioned again with the new certificate: DPS pins it in the hub.
    let events = register(&hub, &app.scope, "roll-dev-1", &dev_new).await;
    assert!(
        matches!(events.last(), Some(ProvisioningEvent::Assigned { .. })),
        "{events:?}"
    );
    let s = rollover_standing(&hub, &app, &old, &new, &devices).await;
    assert_eq!(s.stage, CaRolloverStage::RetireOld);
    assert!(connect(&hub, Via::Wss, "roll-dev-1", Some(&dev_new), "")
        .await
        .is_ok());

    // 4. The old CA retired: the old certificate no longer registers.
    let read = app
        .client
        .enrollment_group(&app.svc, "rolling", t())
        .await
        .unwrap();
    let only = only_new_ca(&read, &new.certificate().pem(), None).unwrap();
    app.client
        .save_enrollment_group(&app.svc, &only, t())
        .await
        .unwrap();
    assert_eq!(
        rollover_standing(&hub, &app, &old, &new, &devices)
            .await
            .stage,
        CaRolloverStage::Done
    );
    let events = register(&hub, &app.scope, "roll-dev-1", &dev_old).await;
    assert!(
        matches!(events.last(), Some(ProvisioningEvent::Failed { .. })),
        "{events:?}"
    );
}

/// A fleet registered in the hub as CA-signed rolls over through the hub: the new CA verified
/// beside the old, the devices re-issued (nothing to change in the hub for them), the old deleted.
#[tokio::test]
async fn a_hub_registered_ca_fleet_rolls_over_with_both_cas_on_the_hub() {
    use hubcert::iothub::{Arm, CaRolloverStage};
    use hubcert::pki::{RenewKey, ValidityDays};
    let hub = start().await;
    let app = app_dps(&hub).await;
    let (old, new) = (root("Hub Old Root"), root("Hub New Root"));
    hub.upload_and_verify("fleet-old", &old).await;
    let dev_old = device(&old, "hub-dev-1");
    hub.register_ca_device("hub-dev-1").await;
    let mut devices = vec![("hub-dev-1".to_owned(), dev_old.certificate.clone())];
    let s = rollover_standing(&hub, &app, &old, &new, &devices).await;
    assert!(s.hub_needs_new);
    assert_eq!(s.stage, CaRolloverStage::UploadNew);
    hub.upload_and_verify("fleet-new", &new).await;
    assert_eq!(
        rollover_standing(&hub, &app, &old, &new, &devices)
            .await
            .stage,
        CaRolloverStage::Reissue
    );
    let renewed = new
        .renew_device(
            &dev_old.certificate,
            RenewKey::Same,
            ValidityDays::new(365).unwrap(),
            now(),
        )
        .unwrap();
    let dev_new = Identity {
        certificate: renewed.certificate,
        key: dev_old.key.duplicate().unwrap(),
    };
    // During the overlap both certificates connect: the hub checks the chain, not a thumbprint.
    for (who, id) in [("old", &dev_old), ("new", &dev_new)] {
        assert!(
            connect(&hub, Via::Tls, "hub-dev-1", Some(id), "")
                .await
                .is_ok(),
            "{who}"
        );
    }
    devices.insert(0, ("hub-dev-1".to_owned(), dev_new.certificate.clone()));
    let s = rollover_standing(&hub, &app, &old, &new, &devices).await;
    assert_eq!(s.stage, CaRolloverStage::RetireOld);
    let arm = Arm::new(&hub.base, "sub", "rg", "localhub", "any-token").unwrap();
    app.client
        .delete_certificate(&arm, "fleet-old")
        .await
        .unwrap();
    assert_eq!(
        rollover_standing(&hub, &app, &old, &new, &devices)
            .await
            .stage,
        CaRolloverStage::Done
    );
    assert!(connect(&hub, Via::Tls, "hub-dev-1", Some(&dev_old), "")
        .await
        .is_err());
    assert!(connect(&hub, Via::Tls, "hub-dev-1", Some(&dev_new), "")
        .await
        .is_ok());
}

#[tokio::test]
async fn a_disabled_individual_enrollment_keeps_one_device_of_a_group_out() {
    // Microsoft's way to disallow one device of an X.509 enrollment group: a disabled
    // individual enrollment for its certificate.
    use hubcert::contract::IndividualEnrollment;
    let hub = start().await;
    let app = app_dps(&hub).await;
    let ca = root("Block Root");
    hub.upload_and_verify("block-root", &ca).await;
    assert_eq!(hub.enroll_group("block-fleet", &ca, true).await, 200);
    let (kept, blocked) = (device(&ca, "kept-1"), device(&ca, "blocked-1"));
    for (id, who) in [("kept-1", &kept), ("blocked-1", &blocked)] {
        let events = register(&hub, &app.scope, id, who).await;
        assert!(
            matches!(events.last(), Some(ProvisioningEvent::Assigned { .. })),
            "{id}: {events:?}"
        );
    }
    let mut enrollment =
        IndividualEnrollment::x509_client("blocked-1", &blocked.certificate.pem(), None);
    enrollment.provisioning_status = Some("disabled".into());
    app.client
        .save_enrollment(&app.svc, &enrollment, unix())
        .await
        .expect("saved");
    let events = register(&hub, &app.scope, "blocked-1", &blocked).await;
    assert!(
        matches!(events.last(), Some(ProvisioningEvent::Failed { message, .. }) if message.contains("disabled")),
        "{events:?}"
    );
    let events = register(&hub, &app.scope, "kept-1", &kept).await;
    assert!(
        matches!(events.last(), Some(ProvisioningEvent::Assigned { .. })),
        "{events:?}"
    );
}

#[tokio::test]
async fn the_group_of_the_most_specific_ca_in_the_chain_decides() {
    // DPS applies the first group up the device's chain (MicrosoftDocs concepts-x509-attestation,
    // "DPS order of operations with certificates"): a disabled group on an intermediate stops its
    // devices although an enabled group holds the root, and the other way round.
    use hubcert::pki::{IntermediateCaParams, RootCaParams, ValidityDays};
    let hub = start().await;
    let app = app_dps(&hub).await;
    let ca = root("Order Root");
    let line = ca
        .issue_intermediate(
            &IntermediateCaParams {
                subject: RootCaParams {
                    common_name: "Order Line 1".into(),
                    validity: ValidityDays::new(60).expect("days"),
                    ..Default::default()
                },
                path_len: Some(0),
            },
            now(),
        )
        .expect("intermediate");
    let presented = [line.certificate().der().to_vec()];
    let (first, second) = (device(&line, "line-dev-1"), device(&line, "line-dev-2"));
    // Named so that the root's group comes first in any listing.
    assert_eq!(hub.enroll_group("a-root", &ca, true).await, 200);
    assert_eq!(hub.enroll_group("b-line", &line, false).await, 200);
    let events = register_presenting(&hub, &app.scope, "line-dev-1", &first, &presented).await;
    assert!(
        matches!(events.last(), Some(ProvisioningEvent::Failed { message, .. }) if message.contains("disabled")),
        "the line's disabled group applies, not the root's: {events:?}"
    );
    // A device of the root alone still gets in through the root's group.
    let direct = device(&ca, "root-dev-1");
    let events = register(&hub, &app.scope, "root-dev-1", &direct).await;
    assert!(
        matches!(events.last(), Some(ProvisioningEvent::Assigned { .. })),
        "{events:?}"
    );
    // Enabled line group, disabled root group: the line's devices get in (the root's group would
    // have refused them).
    for id in ["a-root", "b-line"] {
        let path = format!("/enrollmentGroups/{id}");
        assert_eq!(dps(&hub, reqwest::Method::DELETE, &path, None).await.0, 204);
    }
    assert_eq!(hub.enroll_group("a-root", &ca, false).await, 200);
    assert_eq!(hub.enroll_group("b-line", &line, true).await, 200);
    let events = register_presenting(&hub, &app.scope, "line-dev-2", &second, &presented).await;
    assert!(
        matches!(events.last(), Some(ProvisioningEvent::Assigned { .. })),
        "{events:?}"
    );
}

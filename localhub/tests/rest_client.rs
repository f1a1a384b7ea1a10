//! The app's REST requests (`hubcert::iothub::rest`), sent as they are to localhub: the seed's hub
//! steps succeed, and each refusal comes back as the error the user is shown.

mod common;

use common::{connect, connect_with_chain, device, now, root, start, verification, Hub, Via};
use hubcert::contract::DeviceId;
use hubcert::iothub::HubClient;
use hubcert::iothub::{
    Arm, DeviceAuth, HubCertificate, HubDevice, Plane, Registry, Request, RestError,
};

/// Sends a request through the app's hub client; a 2xx body or the error the user is shown.
async fn ok(http: &reqwest::Client, req: &Request, plane: Plane) -> Result<String, RestError> {
    HubClient::new(localhub::HttpTransport(http.clone()), true)
        .call(plane, req)
        .await
}

fn unix() -> u64 {
    now().unix_timestamp() as u64
}

#[tokio::test]
async fn the_seed_flow_through_the_apps_requests() {
    let hub = start().await;
    let arm = Arm::new(&hub.base, "sub", "rg", "localhub", "any-token").unwrap();
    let reg =
        Registry::from_connection_string(&hub.base, &hub.running.hub.connection_string()).unwrap();
    let ca = root("Rest Root");
    let pem = ca.certificate().pem();

    // Upload, then proof of possession.
    let c = HubCertificate::parse(
        &ok(
            &hub.http,
            &arm.create("root-ca-cert", &pem, false),
            Plane::Arm,
        )
        .await
        .unwrap(),
    )
    .unwrap();
    assert!(!c.is_verified);
    assert_eq!(
        c.thumbprint,
        ca.certificate().info().unwrap().sha1.to_string()
    );
    let before = c.etag.clone();
    let c = HubCertificate::parse(
        &ok(
            &hub.http,
            &arm.generate_verification_code("root-ca-cert", &c.etag),
            Plane::Arm,
        )
        .await
        .unwrap(),
    )
    .unwrap();
    let code = c.verification_code.clone().expect("a code");
    assert_ne!(c.etag, before, "generating a code changes the etag");

    // The stale etag (from before the code) is refused with 412, which the app retries after a re-read.
    let vpem = verification(&ca, &code);
    let err = ok(
        &hub.http,
        &arm.verify("root-ca-cert", &before, &vpem),
        Plane::Arm,
    )
    .await
    .unwrap_err();
    assert!(err.is_stale_etag(), "{err}");
    assert!(err.to_string().contains("IH412001"), "{err}");

    // A verification certificate from another CA: IH400053 and its advice.
    let other = root("Other Root");
    let err = ok(
        &hub.http,
        &arm.verify("root-ca-cert", &c.etag, &verification(&other, &code)),
        Plane::Arm,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&err, RestError::Status { status: 400, code: Some(k), .. } if k == "IH400053"),
        "{err:?}"
    );
    assert!(err.to_string().contains("signed by another CA"));

    let fresh = HubCertificate::parse(
        &ok(&hub.http, &arm.get("root-ca-cert"), Plane::Arm)
            .await
            .unwrap(),
    )
    .unwrap();
    let v = HubCertificate::parse(
        &ok(
            &hub.http,
            &arm.verify("root-ca-cert", &fresh.etag, &vpem),
            Plane::Arm,
        )
        .await
        .unwrap(),
    )
    .unwrap();
    assert!(v.is_verified);
    let list =
        HubCertificate::parse_list(&ok(&hub.http, &arm.list(), Plane::Arm).await.unwrap()).unwrap();
    assert_eq!(
        list.iter()
            .map(|c| (c.name.as_str(), c.is_verified))
            .collect::<Vec<_>>(),
        [("root-ca-cert", true)]
    );

    // Register a CA-signed device; it connects with a certificate from that CA.
    let id = DeviceId::parse("sensor-device-01").unwrap();
    let d = HubDevice::parse(
        &ok(
            &hub.http,
            &reg.create(&id, &DeviceAuth::CertificateAuthority, unix())
                .unwrap(),
            Plane::Registry,
        )
        .await
        .unwrap(),
    )
    .unwrap();
    assert_eq!(
        (d.device_id.as_str(), d.auth_type.as_str()),
        ("sensor-device-01", "certificateAuthority")
    );
    let identity = device(&ca, "sensor-device-01");
    assert!(
        connect(&hub, Via::Tls, "sensor-device-01", Some(&identity), "")
            .await
            .is_ok()
    );

    // Registering it again: 409 with its own advice.
    let err = ok(
        &hub.http,
        &reg.create(&id, &DeviceAuth::CertificateAuthority, unix())
            .unwrap(),
        Plane::Registry,
    )
    .await
    .unwrap_err();
    assert_eq!(err.status(), Some(409), "{err}");
    assert!(err.to_string().contains("already registered"));

    // A self-signed device pinned by the SHA-256 thumbprint of its certificate.
    let self_id = DeviceId::parse("thumb-01").unwrap();
    let self_identity = device(&other, "thumb-01");
    let thumb = self_identity.certificate.info().unwrap().sha256.to_string();
    let auth = DeviceAuth::SelfSigned {
        primary: thumb.clone(),
        secondary: None,
    };
    let d = HubDevice::parse(
        &ok(
            &hub.http,
            &reg.create(&self_id, &auth, unix()).unwrap(),
            Plane::Registry,
        )
        .await
        .unwrap(),
    )
    .unwrap();
    assert_eq!(d.primary_thumbprint.as_deref(), Some(thumb.as_str()));
    assert!(
        connect(&hub, Via::Tls, "thumb-01", Some(&self_identity), "")
            .await
            .is_ok()
    );

    // Delete with a stale etag: 412; with "*": gone; then 404 with its advice.
    let err = ok(
        &hub.http,
        &reg.delete(&id, Some("c3RhbGU="), unix()).unwrap(),
        Plane::Registry,
    )
    .await
    .unwrap_err();
    assert!(err.is_stale_etag(), "{err}");
    ok(
        &hub.http,
        &reg.delete(&id, None, unix()).unwrap(),
        Plane::Registry,
    )
    .await
    .unwrap();
    let err = ok(&hub.http, &reg.get(&id, unix()).unwrap(), Plane::Registry)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(404));
    assert!(
        err.to_string().contains("DeviceNotFound") || err.to_string().contains("No such device"),
        "{err}"
    );

    // Deleting the CA needs its current etag.
    let cur = HubCertificate::parse(
        &ok(&hub.http, &arm.get("root-ca-cert"), Plane::Arm)
            .await
            .unwrap(),
    )
    .unwrap();
    assert!(
        ok(&hub.http, &arm.delete("root-ca-cert", &before), Plane::Arm)
            .await
            .unwrap_err()
            .is_stale_etag()
    );
    ok(
        &hub.http,
        &arm.delete("root-ca-cert", &cur.etag),
        Plane::Arm,
    )
    .await
    .unwrap();
    assert_eq!(
        ok(&hub.http, &arm.get("root-ca-cert"), Plane::Arm)
            .await
            .unwrap_err()
            .status(),
        Some(404)
    );
}

#[tokio::test]
async fn refused_credentials_explain_the_fix() {
    let hub = start().await;
    // An expired JWT (exp in 2001) on ARM: 401 and how to get a new token.
    let expired = "eyJhbGciOiJub25lIn0.eyJleHAiOjEwMDAwMDAwMDB9.";
    let arm = Arm::new(&hub.base, "sub", "rg", "localhub", expired).unwrap();
    let err = ok(&hub.http, &arm.list(), Plane::Arm).await.unwrap_err();
    assert_eq!(err.status(), Some(401), "{err}");
    assert!(
        err.to_string().contains("az account get-access-token"),
        "{err}"
    );

    // A connection string with the wrong key: 401 on the registry.
    let wrong = "HostName=localhost;SharedAccessKeyName=iothubowner;SharedAccessKey=d3Jvbmcta2V5LXdyb25nLWtleQ==";
    let reg = Registry::from_connection_string(&hub.base, wrong).unwrap();
    let err = ok(
        &hub.http,
        &reg.get(&DeviceId::parse("d1").unwrap(), unix()).unwrap(),
        Plane::Registry,
    )
    .await
    .unwrap_err();
    assert_eq!(err.status(), Some(401), "{err}");
    assert!(err.to_string().contains("connection string"), "{err}");

    // A token made an hour ago has expired (each call's token lives five minutes).
    let reg =
        Registry::from_connection_string(&hub.base, &hub.running.hub.connection_string()).unwrap();
    let stale = reg
        .get(&DeviceId::parse("d1").unwrap(), unix() - 3600)
        .unwrap();
    assert_eq!(
        ok(&hub.http, &stale, Plane::Registry)
            .await
            .unwrap_err()
            .status(),
        Some(401)
    );
}

#[tokio::test]
async fn the_apps_one_click_proof_of_possession_against_localhub() {
    use hubcert::iothub::PossessionStage;
    use hubcert::pki::{ValidityDays, VerificationCertParams};

    let hub = start().await;
    let arm = Arm::new(&hub.base, "sub", "rg", "localhub", "any-token").unwrap();
    let client = HubClient::new(localhub::HttpTransport(hub.http.clone()), true);
    let ca = root("One Click Root");
    let other = root("Other Root");
    fn sign_with(
        signer: &hubcert::pki::CertificateAuthority,
    ) -> impl FnOnce(
        hubcert::contract::VerificationCode,
    ) -> std::future::Ready<Result<String, hubcert::pki::PkiError>>
           + '_ {
        move |code| {
            std::future::ready(
                signer
                    .issue_verification(
                        &VerificationCertParams {
                            code,
                            validity: ValidityDays::ONE_DAY,
                        },
                        now(),
                    )
                    .map(|id| id.certificate.pem()),
            )
        }
    }

    // Signed by another CA: the hub's IH400053, and the CA stays unverified.
    client
        .upload_certificate(&arm, "root", &ca.certificate().pem(), false)
        .await
        .unwrap();
    let err = client
        .prove_possession(&arm, "root", sign_with(&other), |_| {})
        .await
        .unwrap_err();
    assert!(err.to_string().contains("IH400053"), "{err}");
    assert!(!client.certificate(&arm, "root").await.unwrap().is_verified);

    // With the CA's own key: every stage, then verified.
    let stages = std::cell::RefCell::new(Vec::new());
    let done = client
        .prove_possession(&arm, "root", sign_with(&ca), |s| {
            stages.borrow_mut().push(s)
        })
        .await
        .unwrap();
    assert!(done.certificate.is_verified && !done.retried);
    assert!(done.verification_pem.contains("BEGIN CERTIFICATE"));
    assert_eq!(
        *stages.borrow(),
        [
            PossessionStage::Reading,
            PossessionStage::RequestingCode,
            PossessionStage::Signing,
            PossessionStage::Verifying
        ]
    );
    let listed = client.certificates(&arm).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].is_verified);
    assert!(!client.delete_certificate(&arm, "root").await.unwrap());
    assert!(client.certificates(&arm).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_disabled_device_is_refused_until_enabled_again() {
    use hubcert::contract::DeviceStatus;
    let hub = start().await;
    let ca = root("Revocation Root");
    hub.upload_and_verify("revocation-root", &ca).await;
    hub.register_ca_device("revoked-1").await;
    let dev = device(&ca, "revoked-1");
    let cs = hub.running.hub.connection_string();
    let registry = Registry::from_connection_string(&hub.base, &cs).unwrap();
    let client = HubClient::new(localhub::HttpTransport(hub.http.clone()), true);
    let id = DeviceId::parse("revoked-1").unwrap();
    let t = || now().unix_timestamp() as u64;
    assert!(connect(&hub, Via::Tls, "revoked-1", Some(&dev), "")
        .await
        .is_ok());

    // Revoked as IoT Hub revokes: disabled in the registry (its etag read first).
    let d = client
        .set_device_enabled(&registry, &id, false, "revoked in hubcert", t())
        .await
        .expect("disabled");
    assert_eq!(d.status, DeviceStatus::Disabled);
    let e = connect(&hub, Via::Tls, "revoked-1", Some(&dev), "")
        .await
        .err()
        .expect("a disabled device is refused");
    assert!(e.contains("NotAuthorized") || e.contains("5"), "{e}");
    // Enabled again, it connects.
    let d = client
        .set_device_enabled(&registry, &id, true, "reinstated", t())
        .await
        .expect("enabled");
    assert_eq!(d.status, DeviceStatus::Enabled);
    assert!(connect(&hub, Via::Tls, "revoked-1", Some(&dev), "")
        .await
        .is_ok());
    // A device the hub does not have: the registry's 404, by name.
    let ghost = DeviceId::parse("no-such-device").unwrap();
    let e = client
        .set_device_enabled(&registry, &ghost, false, "x", t())
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(404), "{e}");
}

#[tokio::test]
async fn a_thumbprint_device_rolls_over_to_its_renewed_certificate_without_being_refused() {
    use hubcert::iothub::RolloverStep;
    use hubcert::pki::{Identity, RenewKey, ValidityDays};
    let hub = start().await;
    // A CA the hub has never seen: the device is pinned by thumbprint only.
    let ca = root("Thumbprint Root");
    let old = device(&ca, "thumb-roll-1");
    let cs = hub.running.hub.connection_string();
    let registry = Registry::from_connection_string(&hub.base, &cs).unwrap();
    let client = HubClient::new(localhub::HttpTransport(hub.http.clone()), true);
    let id = DeviceId::parse("thumb-roll-1").unwrap();
    let t = || now().unix_timestamp() as u64;
    let info = old.certificate.info().unwrap();
    client
        .register_device(
            &registry,
            &id,
            &DeviceAuth::SelfSigned {
                primary: info.sha256.to_string(),
                secondary: None,
            },
            t(),
        )
        .await
        .unwrap();
    // Renewed with the key the device already holds.
    let renewed = ca
        .renew_device(
            &old.certificate,
            RenewKey::Same,
            ValidityDays::new(365).unwrap(),
            now(),
        )
        .unwrap();
    let new = Identity {
        certificate: renewed.certificate,
        key: old.key.duplicate().unwrap(),
    };
    let new_info = new.certificate.info().unwrap();
    let connects = |identity: &Identity| {
        let identity = Identity {
            certificate: identity.certificate.clone(),
            key: identity.key.duplicate().unwrap(),
        };
        let hub = &hub;
        async move {
            connect(hub, Via::Tls, "thumb-roll-1", Some(&identity), "")
                .await
                .is_ok()
        }
    };
    assert!(connects(&old).await);
    assert!(!connects(&new).await, "not registered yet: refused");
    let mut seen = Vec::new();
    for _ in 0..4 {
        let (d, step) = client
            .roll_thumbprint(
                &registry,
                &id,
                new_info.sha1.as_str(),
                new_info.sha256.as_str(),
                t(),
            )
            .await
            .unwrap();
        seen.push(step);
        assert!(connects(&new).await, "{step:?}");
        assert_eq!(
            connects(&old).await,
            matches!(step, RolloverStep::Staged | RolloverStep::Promoted),
            "{step:?}"
        );
        if step == RolloverStep::Promoted {
            assert_eq!(
                d.primary_thumbprint.as_deref(),
                Some(new_info.sha256.as_str())
            );
        }
    }
    assert_eq!(
        seen,
        [
            RolloverStep::Staged,
            RolloverStep::Promoted,
            RolloverStep::Retired,
            RolloverStep::AlreadyDone
        ]
    );
}

#[tokio::test]
async fn revoking_an_intermediate_takes_its_devices_down_only_when_nothing_above_it_is_trusted() {
    use hubcert::iothub::{plan_revocation, RevocationInputs};
    use hubcert::pki::{IntermediateCaParams, RootCaParams};
    let hub = start().await;
    let root = root("Revoke Root");
    let inter = root
        .issue_intermediate(
            &IntermediateCaParams {
                // Shorter than the root: on the wall clock, the root's ten years started earlier.
                subject: RootCaParams {
                    common_name: "Revoke Line 2".into(),
                    validity: hubcert::pki::ValidityDays::new(1000).expect("days"),
                    ..RootCaParams::default()
                },
                path_len: Some(0),
            },
            now(),
        )
        .unwrap();
    let sibling = root
        .issue_intermediate(
            &IntermediateCaParams {
                // Shorter than the root: on the wall clock, the root's ten years started earlier.
                subject: RootCaParams {
                    common_name: "Revoke Line 3".into(),
                    validity: hubcert::pki::ValidityDays::new(1000).expect("days"),
                    ..RootCaParams::default()
                },
                path_len: Some(0),
            },
            now(),
        )
        .unwrap();
    hub.upload_and_verify("line-2", &inter).await;
    hub.upload_and_verify("line-3", &sibling).await;
    let (d2, d3) = (device(&inter, "line2-dev"), device(&sibling, "line3-dev"));
    hub.register_ca_device("line2-dev").await;
    hub.register_ca_device("line3-dev").await;
    let client = HubClient::new(localhub::HttpTransport(hub.http.clone()), true);
    let arm = Arm::new(&hub.base, "sub", "rg", "localhub", "any-token").unwrap();
    let (c2, c3) = (inter.certificate(), sibling.certificate());
    assert!(
        connects_with(&hub, "line2-dev", &d2, c2).await
            && connects_with(&hub, "line3-dev", &d3, c3).await
    );

    let devices = vec![
        ("line2-dev".to_owned(), d2.certificate.clone()),
        ("line3-dev".to_owned(), d3.certificate.clone()),
    ];
    let plan = |listed: &[hubcert::iothub::HubCertificate]| {
        plan_revocation(&RevocationInputs {
            target: inter.certificate(),
            above: &[root.certificate().clone()],
            below: &[],
            hub: listed,
            dps: &[],
            groups: &[],
            devices: &devices,
            dps_assigned: None,
        })
    };
    let listed = client.certificates(&arm).await.unwrap();
    let p = plan(&listed);
    assert_eq!(p.on_hub, ["line-2"]);
    assert_eq!(
        p.devices,
        ["line2-dev"],
        "the sibling's device is not affected"
    );
    assert!(p.deletion_suffices());
    // Deleting the intermediate from the hub takes its device down, not the sibling's.
    client.delete_certificate(&arm, "line-2").await.unwrap();
    assert!(!connects_with(&hub, "line2-dev", &d2, c2).await, "revoked");
    assert!(
        connects_with(&hub, "line3-dev", &d3, c3).await,
        "the sibling still connects"
    );

    // With the root verified on the hub, deleting the intermediate is not enough: the plan says
    // so, and the device is taken down by disabling it.
    hub.upload_and_verify("line-2", &inter).await;
    hub.upload_and_verify("revoke-root", &root).await;
    let p = plan(&client.certificates(&arm).await.unwrap());
    assert_eq!(p.trusted_above_on_hub, ["revoke-root"]);
    assert!(!p.deletion_suffices());
    client.delete_certificate(&arm, "line-2").await.unwrap();
    assert!(
        connects_with(&hub, "line2-dev", &d2, c2).await,
        "the root still trusts it"
    );
    let cs = hub.running.hub.connection_string();
    let registry = Registry::from_connection_string(&hub.base, &cs).unwrap();
    for id in &p.devices {
        client
            .set_device_enabled(
                &registry,
                &DeviceId::parse(id).unwrap(),
                false,
                "CA revoked",
                unix(),
            )
            .await
            .unwrap();
    }
    assert!(!connects_with(&hub, "line2-dev", &d2, c2).await, "disabled");
    assert!(connects_with(&hub, "line3-dev", &d3, c3).await);
}

/// Whether the device `id` connects over MQTT/TLS with `who`, sending its CA `ca` after it.
async fn connects_with(
    hub: &Hub,
    id: &str,
    who: &hubcert::pki::Identity,
    ca: &hubcert::pki::Certificate,
) -> bool {
    connect_with_chain(hub, Via::Tls, id, Some(who), &[ca], "")
        .await
        .is_ok()
}

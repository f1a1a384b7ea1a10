//! Device registration over MQTT on the device port: CONNECT checked (ID scope, CN = registration
//! id, an individual enrollment's certificate or a chain to a group's CA), then register and poll
//! until assigned; the assignment creates or updates the device in localhub's hub.

use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use hubcert::contract::{
    DpsTopic, DpsUserName, EnrollmentGroup, IndividualEnrollment, RegistrationOperation,
    RegistrationRequest, RegistrationState, RegistrationStatus,
};
use hubcert::pki::Certificate;
use mqttbytes::v4::{
    ConnAck, ConnectReturnCode, Packet, PubAck, Publish, SubAck, SubscribeReasonCode,
};
use mqttbytes::QoS;
use rustls_pki_types::{CertificateDer, UnixTime};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use crate::store::{now_unix, CertStore, DeviceAuth, DeviceRecord, Hub};
use crate::wire::{read_packet, send};

/// What lets a device register: its own individual enrollment, which DPS prefers, or a group.
#[derive(Debug, Clone)]
enum Attested {
    Individual(IndividualEnrollment),
    Group(EnrollmentGroup),
}

impl Attested {
    fn is_enabled(&self) -> bool {
        match self {
            Self::Individual(e) => e.is_enabled(),
            Self::Group(g) => g.is_enabled(),
        }
    }

    /// The enrollment's initial twin, reprovision policy and IoT Edge flag.
    fn settings(&self) -> (Option<&serde_json::Value>, Option<&serde_json::Value>, bool) {
        match self {
            Self::Individual(e) => (
                e.initial_twin.as_ref(),
                e.reprovision_policy.as_ref(),
                e.extra
                    .get("capabilities")
                    .and_then(|c| c.get("iotEdge"))
                    .and_then(serde_json::Value::as_bool)
                    .unwrap_or(false),
            ),
            Self::Group(g) => (
                g.initial_twin.as_ref(),
                g.reprovision_policy.as_ref(),
                g.capabilities
                    .as_ref()
                    .and_then(|c| c.get("iotEdge"))
                    .and_then(serde_json::Value::as_bool)
                    .unwrap_or(false),
            ),
        }
    }

    fn describe(&self) -> String {
        match self {
            Self::Individual(e) => format!("Enrollment {}", e.registration_id),
            Self::Group(g) => format!("Enrollment group {}", g.enrollment_group_id),
        }
    }
}

/// The individual enrollment of `registration_id` whose client certificate is the device's own.
fn enrollment_for(
    hub: &Hub,
    registration_id: &str,
    peer: &[CertificateDer<'static>],
) -> Option<IndividualEnrollment> {
    let leaf = peer.first()?;
    let enrollment = hub.read_enrollments(|all| all.get(registration_id).cloned())?;
    enrollment
        .client_certificates()
        .into_iter()
        .filter_map(|pem| crate::arm::parse_certificate(pem).ok())
        .any(|c| c.der() == leaf.as_ref())
        .then_some(enrollment)
}

/// SHA-256 thumbprints of an individual enrollment's certificates, primary first: the hub shows
/// SHA-256 where DPS shows SHA-1 (Azure/iotedge#2951, "DPS is showing SHA1 and the hub is showing
/// SHA256").
fn thumbprints(e: &IndividualEnrollment) -> Vec<String> {
    e.client_certificates()
        .into_iter()
        .filter_map(|pem| crate::arm::parse_certificate(pem).ok())
        .filter_map(|c| c.info().ok())
        .map(|i| i.sha256.to_string())
        .collect()
}

/// The hub identity DPS writes for an X.509 device: a self-signed (thumbprint) device, never a
/// CA-signed one, whichever enrollment admitted it (MicrosoftDocs/azure-docs#70976 and #108289,
/// Azure/azure-iot-sdk-csharp#3360: "devices provisioned with DPS always shown as X509
/// self-signed"). A group's device is pinned to the SHA-256 thumbprint of the certificate it
/// presented, in both slots; an individual enrollment's device to its enrollment's certificates,
/// primary and secondary, the primary repeated when there is no secondary (Azure/iotedge#2951:
/// "with only a primary certificate, the primary thumbprint is duplicated into the secondary").
/// So a renewed certificate reaches the hub only when the device provisions again with it.
fn hub_auth(attested: &Attested, presented: Option<&CertificateDer<'_>>) -> DeviceAuth {
    let t = match attested {
        Attested::Individual(e) => thumbprints(e),
        Attested::Group(_) => presented
            .and_then(|d| Certificate::from_der(d.to_vec()).ok())
            .and_then(|c| c.info().ok())
            .map(|i| vec![i.sha256.to_string()])
            .unwrap_or_default(),
    };
    DeviceAuth::SelfSigned {
        primary: t.first().cloned(),
        secondary: t.get(1).or(t.first()).cloned(),
    }
}

/// The CA certificates (DER) a group trusts: its signing certificates given whole, and the DPS
/// certificates it references that are verified.
fn anchors_of(hub: &Hub, group: &EnrollmentGroup) -> Vec<Vec<u8>> {
    let mut anchors: Vec<Vec<u8>> = group
        .signing_certificates()
        .into_iter()
        .filter_map(|pem| crate::arm::parse_certificate(pem).ok())
        .map(|c| c.der().to_vec())
        .collect();
    hub.read_certs(CertStore::Dps, |certs| {
        for name in group.ca_references() {
            if let Some(rec) = certs.get(name).filter(|c| c.is_verified) {
                anchors.push(rec.der.clone());
            }
        }
    });
    anchors
}

/// The enabled-or-not group one of whose CAs the device's chain reaches.
fn group_for(hub: &Hub, peer: &[CertificateDer<'static>]) -> Option<EnrollmentGroup> {
    let leaf = peer.first()?;
    let at = UnixTime::since_unix_epoch(Duration::from_secs(now_unix().max(0) as u64));
    hub.read_enrollment_groups(|groups| groups.values().cloned().collect::<Vec<_>>())
        .into_iter()
        .find(|g| {
            anchors_of(hub, g).into_iter().any(|der| {
                let ca = CertificateDer::from(der);
                let Ok(anchor) = webpki::anchor_from_trusted_cert(&ca) else {
                    return false;
                };
                webpki::EndEntityCert::try_from(leaf)
                    .and_then(|ee| {
                        ee.verify_for_usage(
                            webpki::ALL_VERIFICATION_ALGS,
                            &[anchor],
                            &peer[1..],
                            at,
                            webpki::KeyUsage::client_auth(),
                            None,
                            None,
                        )
                        .map(|_| ())
                    })
                    .is_ok()
            })
        })
}

/// What an enrollment's initial twin sets: tags, and desired properties.
fn initial_twin(
    twin: Option<&serde_json::Value>,
) -> (
    serde_json::Map<String, serde_json::Value>,
    serde_json::Map<String, serde_json::Value>,
) {
    let object = |v: Option<&serde_json::Value>| {
        v.and_then(serde_json::Value::as_object)
            .cloned()
            .unwrap_or_default()
    };
    (
        object(twin.and_then(|t| t.get("tags"))),
        object(
            twin.and_then(|t| t.get("properties"))
                .and_then(|p| p.get("desired")),
        ),
    )
}

/// Assigns the device to localhub's hub and records its registration state: the device is created,
/// or updated, as a thumbprint device ([`hub_auth`]), as DPS does. The first
/// assignment applies the enrollment's initial twin (tags, desired properties) and IoT Edge flag;
/// a later one keeps the device's data, unless the reprovision policy says not to migrate it
/// (`migrateDeviceData: false`): then its twin starts again from the initial twin and the
/// substatus is `deviceDataReset`.
fn assign(
    hub: &Hub,
    registration_id: &str,
    attested: &Attested,
    presented: Option<&CertificateDer<'_>>,
) -> RegistrationState {
    let etag = hub.next_etag();
    let now = now_unix();
    let stamp = crate::reply::rfc3339(now);
    let device_id = match attested {
        Attested::Group(_) => registration_id.to_owned(),
        Attested::Individual(e) => e.hub_device_id().to_owned(),
    };
    let auth = hub_auth(attested, presented);
    hub.write_dps(|dps| {
        let device = dps
            .devices
            .entry(device_id.clone())
            .or_insert_with(|| DeviceRecord {
                device_id: device_id.clone(),
                etag: etag.clone(),
                generation_id: now.to_string(),
                enabled: true,
                auth: auth.clone(),
                reported: Default::default(),
                reported_version: 1,
                last_activity: None,
                service: Default::default(),
            });
        if device.auth != auth {
            device.auth = auth;
            device.etag = etag.clone();
        }
        let (twin, policy, iot_edge) = attested.settings();
        let first = !dps
            .registrations
            .get(registration_id)
            .is_some_and(|r| r.status == Some(RegistrationStatus::Assigned));
        let migrate = policy
            .and_then(|p| p.get("migrateDeviceData"))
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(true);
        let update = policy
            .and_then(|p| p.get("updateHubAssignment"))
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(true);
        let reset = !first && update && !migrate;
        if first || reset {
            let (tags, desired) = initial_twin(twin);
            device.service.tags = tags;
            device.service.desired = desired;
            device.service.iot_edge = iot_edge;
        }
        if reset {
            device.reported.clear();
            device.reported_version += 1;
        }
        let created = dps
            .registrations
            .get(registration_id)
            .and_then(|r| r.created_date_time_utc.clone())
            .unwrap_or_else(|| stamp.clone());
        let state = RegistrationState {
            registration_id: registration_id.to_owned(),
            assigned_hub: Some(hub.config.host_name.clone()),
            device_id: Some(device_id.clone()),
            status: Some(RegistrationStatus::Assigned),
            substatus: Some(
                if reset {
                    "deviceDataReset"
                } else {
                    "initialAssignment"
                }
                .into(),
            ),
            created_date_time_utc: Some(created),
            last_updated_date_time_utc: Some(stamp.clone()),
            etag: Some(etag.clone()),
            ..Default::default()
        };
        dps.registrations
            .insert(registration_id.to_owned(), state.clone());
        state
    })
}

/// Records a refused registration (disabled enrollment) as DPS keeps it.
fn refuse_disabled(hub: &Hub, registration_id: &str, attested: &Attested) -> RegistrationState {
    let stamp = crate::reply::rfc3339(now_unix());
    let etag = hub.next_etag();
    hub.write_dps(|dps| {
        let created = dps
            .registrations
            .get(registration_id)
            .and_then(|r| r.created_date_time_utc.clone())
            .unwrap_or_else(|| stamp.clone());
        let state = RegistrationState {
            registration_id: registration_id.to_owned(),
            status: Some(RegistrationStatus::Disabled),
            error_message: Some(format!("{} is disabled.", attested.describe())),
            created_date_time_utc: Some(created),
            last_updated_date_time_utc: Some(stamp.clone()),
            etag: Some(etag.clone()),
            ..Default::default()
        };
        dps.registrations
            .insert(registration_id.to_owned(), state.clone());
        state
    })
}

/// A DPS device connection: CONNECT checked, then register and poll until assigned.
pub(crate) async fn serve<R, W>(
    hub: Arc<Hub>,
    user: DpsUserName,
    client_id: String,
    mut rd: R,
    mut wr: W,
    mut buf: BytesMut,
    peer: &[CertificateDer<'static>],
) where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let refuse = |why: String| {
        eprintln!("localhub dps: refused {client_id:?}: {why}");
    };
    let cn = peer
        .first()
        .and_then(|d| Certificate::from_der(d.to_vec()).ok())
        .and_then(|c| c.info().ok())
        .and_then(|i| i.common_name);
    // DPS looks for the device's own enrollment first, then a group.
    let attested = enrollment_for(&hub, &user.registration_id, peer)
        .map(Attested::Individual)
        .or_else(|| group_for(&hub, peer).map(Attested::Group));
    let problem = if user.id_scope != hub.config.id_scope {
        Some(format!("unknown ID scope {}", user.id_scope))
    } else if client_id != user.registration_id {
        Some("the client id is not the registration id".into())
    } else if cn.as_deref() != Some(user.registration_id.as_str()) {
        Some(format!(
            "the certificate's CN ({}) is not the registration id {}",
            cn.as_deref().unwrap_or("none"),
            user.registration_id
        ))
    } else if attested.is_none() {
        Some("no individual enrollment holds this certificate and no enrollment group's CA signed it".into())
    } else {
        None
    };
    let attested = match (problem, attested) {
        (None, Some(attested)) => attested,
        (problem, _) => {
            refuse(problem.unwrap_or_default());
            let _ = send(&mut wr, |b| {
                ConnAck::new(ConnectReturnCode::NotAuthorized, false).write(b)
            })
            .await;
            return;
        }
    };
    if send(&mut wr, |b| {
        ConnAck::new(ConnectReturnCode::Success, false).write(b)
    })
    .await
    .is_err()
    {
        return;
    }
    let max = hub.config.max_packet_bytes;
    let operation_id = format!("4.{}.{}", now_unix(), hub.next_session_id());
    loop {
        let packet = match tokio::time::timeout(
            Duration::from_secs(120),
            read_packet(&mut rd, &mut buf, max),
        )
        .await
        {
            Ok(Ok(p)) => p,
            _ => break,
        };
        let reply = match packet {
            Packet::Subscribe(s) => {
                let codes = s
                    .filters
                    .iter()
                    .map(|f| {
                        if f.path == hubcert::contract::DPS_RESPONSES {
                            SubscribeReasonCode::Success(QoS::AtMostOnce)
                        } else {
                            SubscribeReasonCode::Failure
                        }
                    })
                    .collect();
                if send(&mut wr, |b| SubAck::new(s.pkid, codes).write(b))
                    .await
                    .is_err()
                {
                    break;
                }
                None
            }
            Packet::Publish(p) => {
                if p.qos == QoS::AtLeastOnce
                    && send(&mut wr, |b| PubAck::new(p.pkid).write(b))
                        .await
                        .is_err()
                {
                    break;
                }
                match DpsTopic::parse(&p.topic) {
                    Ok(DpsTopic::Register { rid }) => {
                        let asked: Result<RegistrationRequest, _> =
                            serde_json::from_slice(&p.payload);
                        match asked {
                            Ok(r) if r.registration_id == user.registration_id => Some((
                                DpsTopic::Response {
                                    status: 202,
                                    rid,
                                    retry_after: Some(1),
                                },
                                serde_json::to_vec(&RegistrationOperation {
                                    operation_id: operation_id.clone(),
                                    status: RegistrationStatus::Assigning,
                                    registration_state: None,
                                }),
                            )),
                            _ => Some((
                                DpsTopic::Response {
                                    status: 400,
                                    rid,
                                    retry_after: None,
                                },
                                serde_json::to_vec(
                                    &serde_json::json!({"errorCode": 400_004, "message": "The registration request's registrationId is not the one in the user name."}),
                                ),
                            )),
                        }
                    }
                    Ok(DpsTopic::OperationStatus {
                        rid,
                        operation_id: asked,
                    }) if asked == operation_id => {
                        let op = if attested.is_enabled() {
                            RegistrationOperation {
                                operation_id: operation_id.clone(),
                                status: RegistrationStatus::Assigned,
                                registration_state: Some(assign(
                                    &hub,
                                    &user.registration_id,
                                    &attested,
                                    peer.first(),
                                )),
                            }
                        } else {
                            RegistrationOperation {
                                operation_id: operation_id.clone(),
                                status: RegistrationStatus::Disabled,
                                registration_state: Some(refuse_disabled(
                                    &hub,
                                    &user.registration_id,
                                    &attested,
                                )),
                            }
                        };
                        Some((
                            DpsTopic::Response {
                                status: 200,
                                rid,
                                retry_after: None,
                            },
                            serde_json::to_vec(&op),
                        ))
                    }
                    Ok(DpsTopic::OperationStatus { rid, .. }) => Some((
                        DpsTopic::Response {
                            status: 404,
                            rid,
                            retry_after: None,
                        },
                        serde_json::to_vec(
                            &serde_json::json!({"errorCode": 404_201, "message": "No such operation."}),
                        ),
                    )),
                    _ => break,
                }
            }
            Packet::PingReq => {
                if send(&mut wr, |b| mqttbytes::v4::PingResp.write(b))
                    .await
                    .is_err()
                {
                    break;
                }
                None
            }
            Packet::Unsubscribe(u) => {
                // SDKs unsubscribe before they disconnect and wait for the answer.
                if send(&mut wr, |b| mqttbytes::v4::UnsubAck::new(u.pkid).write(b))
                    .await
                    .is_err()
                {
                    break;
                }
                None
            }
            Packet::PubAck(_) => None,
            _ => break,
        };
        if let Some((topic, Ok(body))) = reply {
            let answer = Publish::new(topic.to_string(), QoS::AtMostOnce, body);
            if send(&mut wr, |b| answer.write(b)).await.is_err() {
                break;
            }
        }
    }
    let _ = wr.shutdown().await;
}

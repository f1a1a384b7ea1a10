//! localhub's Device Provisioning Service: enrollment groups through the service API
//! (`/enrollmentGroups/{id}`, DPS SAS), and device registration over MQTT on the device port
//! (a user name `{idScope}/registrations/{id}/api-version=...` is a DPS client). An X.509 device
//! whose chain reaches a group's signing certificate, with CN = registration id, is assigned to
//! localhub's hub: its identity is created (or kept) as CA-signed there.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use bytes::BytesMut;
use hubcert::contract::{
    DpsTopic, DpsUserName, EnrollmentGroup, EnrollmentId, RegistrationOperation,
    RegistrationRequest, RegistrationState, RegistrationStatus,
};
use hubcert::pki::Certificate;
use mqttbytes::v4::{
    ConnAck, ConnectReturnCode, Packet, PubAck, Publish, SubAck, SubscribeReasonCode,
};
use mqttbytes::QoS;
use rustls_pki_types::{CertificateDer, UnixTime};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use crate::extract::{Body, DpsServiceCall, IfMatch, RequestBody};
use crate::reply::{with_etag, ApiError};
use crate::store::{now_unix, CertStore, DeviceAuth, DeviceRecord, Hub};
use crate::wire::{read_packet, send};

impl RequestBody for EnrollmentGroup {
    fn rejection(e: serde_json::Error) -> ApiError {
        ApiError::dps(
            StatusCode::BAD_REQUEST,
            400_004,
            format!("The enrollment group is not valid JSON ({e})"),
        )
    }
}

fn group_not_found(id: &str) -> ApiError {
    ApiError::dps(
        StatusCode::NOT_FOUND,
        404_202,
        format!("Enrollment group {id} not found."),
    )
}

/// Whether a write with `if_match` may replace `current` (the group there, if any): DPS refuses
/// a PUT over an existing enrollment without an etag (409; azure-sdk-for-python#35187 shows it as
/// `ResourceExistsError`) and one with another etag (412).
fn check_write(
    if_match: &IfMatch,
    current: Option<&EnrollmentGroup>,
    id: &str,
) -> Result<(), ApiError> {
    let current_etag = current.and_then(|g| g.etag.as_deref());
    match (current_etag, if_match.matches(current_etag.unwrap_or(""))) {
        (Some(_), None) => Err(ApiError::dps(
            StatusCode::CONFLICT,
            409_201,
            format!(
                "Enrollment group {id} already exists: send its etag in If-Match to replace it."
            ),
        )),
        (Some(_), Some(false)) => Err(ApiError::dps(
            StatusCode::PRECONDITION_FAILED,
            412_201,
            format!("Enrollment group {id} has changed: its etag does not match If-Match."),
        )),
        (None, Some(_)) if if_match.0.as_deref() != Some("*") => Err(group_not_found(id)),
        _ => Ok(()),
    }
}

/// `PUT /enrollmentGroups/{id}`: creates, or replaces with the current etag.
pub(crate) async fn put_group(
    _: DpsServiceCall,
    State(hub): State<Arc<Hub>>,
    Path(id): Path<String>,
    if_match: IfMatch,
    Body(mut group): Body<EnrollmentGroup>,
) -> Result<Response, ApiError> {
    if group.enrollment_group_id != id {
        return Err(ApiError::dps(
            StatusCode::BAD_REQUEST,
            400_004,
            "The enrollmentGroupId in the body differs from the one in the URL",
        ));
    }
    if EnrollmentId::parse(&id).is_err() {
        return Err(ApiError::dps(
            StatusCode::BAD_REQUEST,
            400_004,
            format!("{}", hubcert::contract::IdError::EnrollmentIdInvalid { id }),
        ));
    }
    let signing = group.signing_certificates();
    let references = group.ca_references();
    if group.attestation.kind != "x509" || (signing.is_empty() == references.is_empty()) {
        return Err(ApiError::dps(
            StatusCode::BAD_REQUEST,
            400_004,
            "localhub's DPS takes X.509 enrollment groups with either signingCertificates (a CA's PEM) or caReferences (names of verified DPS CA certificates)",
        ));
    }
    for pem in signing {
        crate::arm::parse_certificate(pem).map_err(|e| {
            ApiError::dps(
                StatusCode::BAD_REQUEST,
                400_004,
                format!("A signing certificate is invalid: {e}"),
            )
        })?;
    }
    for name in references {
        match hub.read_certs(CertStore::Dps, |certs| certs.get(name).map(|c| c.is_verified)) {
            Some(true) => {}
            Some(false) => {
                return Err(ApiError::dps(
                    StatusCode::BAD_REQUEST,
                    400_004,
                    format!("The DPS certificate '{name}' is not verified: prove possession of its key first."),
                ))
            }
            None => {
                return Err(ApiError::dps(
                    StatusCode::BAD_REQUEST,
                    400_004,
                    format!("The CA reference '{name}' names no certificate of this DPS: upload it first."),
                ))
            }
        }
    }
    let etag = hub.next_etag();
    group.etag = Some(etag.clone());
    hub.write_enrollment_groups(|groups| {
        check_write(&if_match, groups.get(&id), &id)?;
        groups.insert(id, group.clone());
        Ok(())
    })?;
    Ok(with_etag(StatusCode::OK, &group, &etag))
}

/// `GET /enrollmentGroups/{id}`.
pub(crate) async fn get_group(
    _: DpsServiceCall,
    State(hub): State<Arc<Hub>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let group = hub
        .read_enrollment_groups(|groups| groups.get(&id).cloned())
        .ok_or_else(|| group_not_found(&id))?;
    let etag = group.etag.clone().unwrap_or_default();
    Ok(with_etag(StatusCode::OK, &group, &etag))
}

/// `POST /enrollmentGroups/query`: every group (localhub reads no query language; `*` is what
/// the SDKs and the app send).
pub(crate) async fn query_groups(_: DpsServiceCall, State(hub): State<Arc<Hub>>) -> Response {
    let groups = hub.read_enrollment_groups(|groups| groups.values().cloned().collect::<Vec<_>>());
    let mut r = Json(groups).into_response();
    r.headers_mut().insert(
        "x-ms-item-type",
        axum::http::HeaderValue::from_static("enrollmentGroup"),
    );
    r
}

/// `DELETE /enrollmentGroups/{id}`, with an optional `If-Match`.
pub(crate) async fn delete_group(
    _: DpsServiceCall,
    State(hub): State<Arc<Hub>>,
    Path(id): Path<String>,
    if_match: IfMatch,
) -> Result<StatusCode, ApiError> {
    hub.write_enrollment_groups(|groups| {
        let current = groups.get(&id).ok_or_else(|| group_not_found(&id))?;
        if if_match.matches(current.etag.as_deref().unwrap_or("")) == Some(false) {
            return Err(ApiError::dps(
                StatusCode::PRECONDITION_FAILED,
                412_201,
                format!("Enrollment group {id} has changed: its etag does not match If-Match."),
            ));
        }
        groups.remove(&id);
        Ok(StatusCode::NO_CONTENT)
    })
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

/// Assigns the device to localhub's hub: creates its CA-signed identity, or keeps the one there.
fn assign(hub: &Hub, registration_id: &str) -> RegistrationState {
    let etag = hub.next_etag();
    hub.write(|_, devices| {
        devices
            .entry(registration_id.to_owned())
            .or_insert_with(|| DeviceRecord {
                device_id: registration_id.to_owned(),
                etag,
                generation_id: now_unix().to_string(),
                enabled: true,
                auth: DeviceAuth::CertificateAuthority,
                reported: Default::default(),
                reported_version: 1,
                last_activity: None,
            });
    });
    RegistrationState {
        registration_id: registration_id.to_owned(),
        assigned_hub: Some(hub.config.host_name.clone()),
        device_id: Some(registration_id.to_owned()),
        status: Some(RegistrationStatus::Assigned),
        substatus: Some("initialAssignment".into()),
        ..Default::default()
    }
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
    let group = group_for(&hub, peer);
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
    } else if group.is_none() {
        Some("no enrollment group's signing certificate signed this device".into())
    } else {
        None
    };
    let group = match (problem, group) {
        (None, Some(group)) => group,
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
                        let op = if group.is_enabled() {
                            RegistrationOperation {
                                operation_id: operation_id.clone(),
                                status: RegistrationStatus::Assigned,
                                registration_state: Some(assign(&hub, &user.registration_id)),
                            }
                        } else {
                            RegistrationOperation {
                                operation_id: operation_id.clone(),
                                status: RegistrationStatus::Disabled,
                                registration_state: Some(RegistrationState {
                                    registration_id: user.registration_id.clone(),
                                    status: Some(RegistrationStatus::Disabled),
                                    error_message: Some(format!(
                                        "Enrollment group {} is disabled.",
                                        group.enrollment_group_id
                                    )),
                                    ..Default::default()
                                }),
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

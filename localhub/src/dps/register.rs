//! Device registration over MQTT (and MQTT over WebSockets) on the device port: CONNECT checked
//! (ID scope, client id = registration id, and [`attest`]: an X.509 certificate, or a
//! symmetric-key SAS token as the password), then register and poll until assigned; the
//! assignment creates or updates the device in localhub's hub.

use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use hubcert::contract::{
    DpsTopic, DpsUserName, RegistrationOperation, RegistrationRequest, RegistrationStatus,
};
use hubcert::mqtt::{
    ConnAck, Connect, ConnectReturnCode, Packet, PubAck, Publish, QoS, SubAck, SubscribeReasonCode,
    UnsubAck,
};
use rustls_pki_types::CertificateDer;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use super::attest::{attest, conclude, Credential};
use crate::store::{now_unix, Hub};
use crate::wire::{read_packet, send};

/// A DPS device connection: CONNECT checked, then register and poll until assigned.
pub(crate) async fn serve<R, W>(
    hub: Arc<Hub>,
    user: DpsUserName,
    connect: Connect,
    mut rd: R,
    mut wr: W,
    mut buf: BytesMut,
    peer: &[CertificateDer<'static>],
) where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let client_id = connect.client_id;
    // A symmetric-key device sends its SAS token as the password; an X.509 device none.
    let password = connect
        .login
        .as_ref()
        .map(|l| l.password.as_str())
        .filter(|p| p.trim_start().starts_with("SharedAccessSignature "));
    let credential = match password {
        Some(token) => Credential::Sas(token),
        None => Credential::Certificates(peer),
    };
    let attested = if client_id != user.registration_id {
        Err("the client id is not the registration id".to_owned())
    } else {
        attest(&hub, &user.id_scope, &user.registration_id, credential)
    };
    let attested = match attested {
        Ok(attested) => attested,
        Err(why) => {
            eprintln!("localhub dps: refused {client_id:?}: {why}");
            let _ = send(
                &mut wr,
                &Packet::ConnAck(ConnAck::new(ConnectReturnCode::NotAuthorized, false)),
            )
            .await;
            return;
        }
    };
    if send(
        &mut wr,
        &Packet::ConnAck(ConnAck::new(ConnectReturnCode::Success, false)),
    )
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
                if send(&mut wr, &Packet::SubAck(SubAck::new(s.pkid, codes)))
                    .await
                    .is_err()
                {
                    break;
                }
                None
            }
            Packet::Publish(p) => {
                if p.qos == QoS::AtLeastOnce
                    && send(&mut wr, &Packet::PubAck(PubAck::new(p.pkid)))
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
                        let op = conclude(&hub, &user.registration_id, &operation_id, &attested);
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
                if send(&mut wr, &Packet::PingResp).await.is_err() {
                    break;
                }
                None
            }
            Packet::Unsubscribe(u) => {
                // SDKs unsubscribe before they disconnect and wait for the answer.
                if send(&mut wr, &Packet::UnsubAck(UnsubAck::new(u.pkid)))
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
            if send(&mut wr, &Packet::Publish(answer)).await.is_err() {
                break;
            }
        }
    }
    let _ = wr.shutdown().await;
}

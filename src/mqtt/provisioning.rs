//! A device's registration with the Device Provisioning Service over MQTT, sans-IO like
//! [`Session`]: register, wait `retry-after`, poll the operation, until DPS assigns a hub or
//! refuses. Bytes in through [`Provisioning::receive`], frames out of
//! [`Provisioning::take_outgoing`], the time passed in.

use super::{ConnectOptions, Event, MqttError, QoS, Session};
use crate::contract::{
    DpsTopic, DpsUserName, RegistrationOperation, RegistrationRequest, RegistrationStatus,
    DPS_RESPONSES,
};

/// How long to wait before polling when DPS names no `retry-after`.
const DEFAULT_RETRY_MS: u64 = 3_000;

/// What the registration did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProvisioningEvent {
    /// CONNACK 0 came; the register request is on its way.
    Registering,
    /// DPS is working on it; the next poll goes out in `retry_after_ms`.
    Waiting {
        /// The operation being polled.
        operation_id: String,
        /// How long until the next poll.
        retry_after_ms: u64,
    },
    /// Assigned: the device may now connect to `hub` as `device_id`.
    Assigned {
        /// The hub's host name.
        hub: String,
        /// The device id in that hub.
        device_id: String,
        /// `initialAssignment`, `deviceDataMigrated`, ... when DPS says.
        substatus: Option<String>,
    },
    /// Refused: by CONNACK, by an error status, or a failed or disabled registration.
    Failed {
        /// The MQTT or DPS status (CONNACK code for a refused connection).
        status: u16,
        /// DPS's error code, when it gave one (`401002`, `400209`, ...).
        code: Option<i64>,
        /// DPS's message, or what went wrong.
        message: String,
    },
}

/// One device's registration.
#[derive(Debug)]
pub struct Provisioning {
    session: Session,
    registration_id: String,
    next_rid: u32,
    /// The operation to poll, and when.
    poll: Option<(String, u64)>,
    finished: bool,
}

impl Provisioning {
    /// Starts the CONNECT for `registration_id` in the DPS instance `id_scope`; `password` is a
    /// SAS token for symmetric-key devices, `None` for X.509 (the certificate is in TLS).
    pub fn connect(
        id_scope: &str,
        registration_id: &str,
        password: Option<String>,
        now_ms: u64,
    ) -> Result<Self, MqttError> {
        let options = ConnectOptions {
            client_id: registration_id.to_owned(),
            username: DpsUserName {
                id_scope: id_scope.to_owned(),
                registration_id: registration_id.to_owned(),
            }
            .to_string(),
            password,
            keep_alive_secs: 60,
            clean_session: true,
        };
        Ok(Self {
            session: Session::connect(&options, now_ms)?,
            registration_id: registration_id.to_owned(),
            next_rid: 0,
            poll: None,
            finished: false,
        })
    }

    /// Frames to send, in order.
    pub fn take_outgoing(&mut self) -> Vec<Vec<u8>> {
        self.session.take_outgoing()
    }

    /// Whether DPS has assigned or refused the device.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    fn rid(&mut self) -> String {
        self.next_rid += 1;
        self.next_rid.to_string()
    }

    fn fail(&mut self, status: u16, code: Option<i64>, message: String) -> ProvisioningEvent {
        self.finished = true;
        self.poll = None;
        ProvisioningEvent::Failed {
            status,
            code,
            message,
        }
    }

    /// Feeds bytes from DPS; returns what happened.
    pub fn receive(
        &mut self,
        bytes: &[u8],
        now_ms: u64,
    ) -> Result<Vec<ProvisioningEvent>, MqttError> {
        let mut out = Vec::new();
        for event in self.session.receive(bytes, now_ms)? {
            match event {
                Event::Connected { .. } => {
                    self.session
                        .subscribe(DPS_RESPONSES, QoS::AtLeastOnce, now_ms)?;
                    let rid = self.rid();
                    let body = serde_json::to_vec(&RegistrationRequest {
                        registration_id: self.registration_id.clone(),
                        payload: None,
                    })
                    .map_err(|e| MqttError::Encode(e.to_string()))?;
                    self.session.publish(
                        &DpsTopic::Register { rid }.to_string(),
                        &body,
                        QoS::AtLeastOnce,
                        now_ms,
                    )?;
                    out.push(ProvisioningEvent::Registering);
                }
                Event::Refused(r) => out.push(self.fail(
                    u16::from(r.code()),
                    None,
                    format!("DPS refused the connection (CONNACK {})", r.code()),
                )),
                Event::Message { topic, payload, .. } => {
                    if let Ok(DpsTopic::Response {
                        status,
                        retry_after,
                        ..
                    }) = DpsTopic::parse(&topic)
                    {
                        if let Some(e) = self.answer(status, retry_after, &payload, now_ms) {
                            out.push(e);
                        }
                    }
                }
                Event::Acknowledged { .. } | Event::Subscribed { .. } | Event::Pong { .. } => {}
            }
        }
        Ok(out)
    }

    fn answer(
        &mut self,
        status: u16,
        retry_after: Option<u32>,
        payload: &[u8],
        now_ms: u64,
    ) -> Option<ProvisioningEvent> {
        if status >= 300 {
            // Error bodies: {"errorCode": 401002, "message": "..."}.
            let v: serde_json::Value = serde_json::from_slice(payload).unwrap_or_default();
            let code = v.get("errorCode").and_then(serde_json::Value::as_i64);
            let message = v
                .get("message")
                .and_then(|m| m.as_str())
                .map(str::to_owned)
                .unwrap_or_else(|| String::from_utf8_lossy(payload).into_owned());
            return Some(self.fail(status, code, message));
        }
        let op: RegistrationOperation = match serde_json::from_slice(payload) {
            Ok(op) => op,
            Err(e) => {
                return Some(self.fail(
                    status,
                    None,
                    format!("DPS's answer is not a registration status ({e})"),
                ))
            }
        };
        match op.status {
            RegistrationStatus::Assigned => {
                let state = op.registration_state.unwrap_or_default();
                self.finished = true;
                self.poll = None;
                Some(ProvisioningEvent::Assigned {
                    hub: state.assigned_hub.unwrap_or_default(),
                    device_id: state.device_id.unwrap_or_default(),
                    substatus: state.substatus,
                })
            }
            RegistrationStatus::Failed | RegistrationStatus::Disabled => {
                let state = op.registration_state.unwrap_or_default();
                let message = state.error_message.unwrap_or_else(|| match op.status {
                    RegistrationStatus::Disabled => "the enrollment is disabled".to_owned(),
                    _ => "the registration failed".to_owned(),
                });
                Some(self.fail(status, state.error_code, message))
            }
            RegistrationStatus::Assigning | RegistrationStatus::Unassigned => {
                let wait = retry_after.map_or(DEFAULT_RETRY_MS, |s| u64::from(s) * 1000);
                self.poll = Some((op.operation_id.clone(), now_ms + wait));
                Some(ProvisioningEvent::Waiting {
                    operation_id: op.operation_id,
                    retry_after_ms: wait,
                })
            }
        }
    }

    /// Keep-alive, and the next poll once its time has come. Call it every second or so.
    pub fn tick(&mut self, now_ms: u64) -> Result<(), MqttError> {
        self.session.tick(now_ms)?;
        if let Some((operation_id, at)) = self.poll.clone() {
            if now_ms >= at {
                let rid = self.rid();
                self.session.publish(
                    &DpsTopic::OperationStatus { rid, operation_id }.to_string(),
                    b"",
                    QoS::AtLeastOnce,
                    now_ms,
                )?;
                self.poll = None;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mqtt::{encode, read, Packet, Publish};

    /// What DPS sends: a QoS 0 PUBLISH.
    fn from_dps(topic: &str, body: &str) -> Vec<u8> {
        encode(&Packet::Publish(Publish::new(
            topic,
            QoS::AtMostOnce,
            body.as_bytes(),
        )))
        .expect("encodes")
    }

    /// The topics of the PUBLISH frames the device sent.
    fn published(p: &mut Provisioning) -> Vec<(String, String)> {
        p.take_outgoing()
            .into_iter()
            .filter_map(|f| match read(&f, usize::MAX) {
                Ok(Some((Packet::Publish(p), _))) => {
                    Some((p.topic, String::from_utf8_lossy(&p.payload).into_owned()))
                }
                _ => None,
            })
            .collect()
    }

    fn started() -> Provisioning {
        let mut p = Provisioning::connect("0ne0000AAAA", "sensor-1", None, 0).expect("connect");
        p.take_outgoing();
        assert_eq!(
            p.receive(&[0x20, 0x02, 0x00, 0x00], 10).expect("connack"),
            vec![ProvisioningEvent::Registering]
        );
        p
    }

    #[test]
    fn a_device_registers_waits_polls_and_is_assigned() {
        let mut p = started();
        let sent = published(&mut p);
        assert_eq!(
            sent,
            vec![(
                "$dps/registrations/PUT/iotdps-register/?$rid=1".to_owned(),
                r#"{"registrationId":"sensor-1"}"#.to_owned()
            )]
        );
        let waiting = p
            .receive(
                &from_dps(
                    "$dps/registrations/res/202/?$rid=1&retry-after=3",
                    r#"{"operationId":"4.op","status":"assigning"}"#,
                ),
                100,
            )
            .expect("202");
        assert_eq!(
            waiting,
            vec![ProvisioningEvent::Waiting {
                operation_id: "4.op".into(),
                retry_after_ms: 3000
            }]
        );
        p.tick(3_099).expect("tick");
        assert!(published(&mut p).is_empty(), "not before retry-after");
        p.tick(3_100).expect("tick");
        assert_eq!(
            published(&mut p),
            vec![(
                "$dps/registrations/GET/iotdps-get-operationstatus/?$rid=2&operationId=4.op"
                    .to_owned(),
                String::new()
            )]
        );
        let done = p
            .receive(
                &from_dps(
                    "$dps/registrations/res/200/?$rid=2",
                    r#"{"operationId":"4.op","status":"assigned","registrationState":{"registrationId":"sensor-1","assignedHub":"hub.azure-devices.net","deviceId":"sensor-1","status":"assigned","substatus":"initialAssignment"}}"#,
                ),
                3_200,
            )
            .expect("200");
        assert_eq!(
            done,
            vec![ProvisioningEvent::Assigned {
                hub: "hub.azure-devices.net".into(),
                device_id: "sensor-1".into(),
                substatus: Some("initialAssignment".into())
            }]
        );
        assert!(p.is_finished());
    }

    #[test]
    fn refusals_carry_dps_codes_and_messages() {
        let mut p = started();
        let failed = p
            .receive(
                &from_dps(
                    "$dps/registrations/res/401/?$rid=1",
                    r#"{"errorCode":401002,"trackingId":"x","message":"The device is unauthorized."}"#,
                ),
                50,
            )
            .expect("401");
        assert_eq!(
            failed,
            vec![ProvisioningEvent::Failed {
                status: 401,
                code: Some(401_002),
                message: "The device is unauthorized.".into()
            }]
        );
        let mut p = started();
        let disabled = p
            .receive(
                &from_dps(
                    "$dps/registrations/res/200/?$rid=1",
                    r#"{"operationId":"4.x","status":"disabled","registrationState":{"registrationId":"sensor-1","status":"disabled"}}"#,
                ),
                50,
            )
            .expect("200");
        assert!(
            matches!(&disabled[..], [ProvisioningEvent::Failed { message, .. }] if message.contains("disabled"))
        );
        let mut p = Provisioning::connect("0ne", "d", None, 0).expect("connect");
        p.take_outgoing();
        assert!(matches!(
            &p.receive(&[0x20, 0x02, 0x00, 0x05], 1).expect("connack")[..],
            [ProvisioningEvent::Failed { status: 5, .. }]
        ));
    }
}

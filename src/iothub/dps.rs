//! The Device Provisioning Service's service API (enrollment groups, registration states), called
//! directly, through `localhub relay --dps`, or on localhub; authenticated by the DPS's own
//! connection string (`provisioningserviceowner`) or an Entra token.

use super::error::{endpoint, setting, RestError};
use super::registry::{sas_of, ConnectionString, ServiceAuth, ServiceTarget, TargetNames};
use super::request::{Method, Request};
use crate::contract::{
    registration_token, url_encode, Attestation, EnrollmentGroup, EnrollmentId,
    IndividualEnrollment, RegistrationOperation, RegistrationRequest, RegistrationState,
    DPS_DEVICE_API_VERSION, DPS_GLOBAL_HOST, DPS_SERVICE_API_VERSION,
};

/// The domain of every DPS instance's service host.
pub const DPS_DOMAIN: &str = ".azure-devices-provisioning.net";

/// Calls on one DPS instance's service API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DpsService {
    target: ServiceTarget,
}

impl DpsService {
    /// `endpoint`: where requests go (`https://{host}`, the relay, or localhub); empty means
    /// `https://{host_name}`. `host_name`: the DPS's service host, the SAS token's resource.
    pub fn new(endpoint_url: &str, host_name: &str, auth: ServiceAuth) -> Result<Self, RestError> {
        let names = TargetNames {
            host: "DPS host name",
            endpoint: "DPS endpoint",
            owner_policy: "provisioningserviceowner",
        };
        ServiceTarget::new(&names, endpoint_url, host_name, auth).map(|target| Self { target })
    }

    /// From the DPS's connection string; `endpoint` as in [`DpsService::new`]. A hub's connection
    /// string is refused by name: the two look alike and are easy to swap.
    pub fn from_connection_string(
        endpoint_url: &str,
        connection_string: &str,
    ) -> Result<Self, RestError> {
        let cs = ConnectionString::parse(connection_string)?;
        if cs.device_id.is_some() {
            return Err(setting(
                "DPS connection string",
                "is a device's: use the DPS's provisioningserviceowner connection string",
            ));
        }
        if cs.host_name.ends_with(crate::contract::HUB_DOMAIN) {
            return Err(setting(
                "DPS connection string",
                format!(
                    "is an IoT Hub's ({}): copy the DPS's own from its Shared access policies (provisioningserviceowner), or `az iot dps connection-string show --dps-name NAME`",
                    cs.host_name
                ),
            ));
        }
        let host = cs.host_name.clone();
        Self::new(endpoint_url, &host, sas_of(cs))
    }

    /// The DPS's service host name.
    pub fn host_name(&self) -> &str {
        &self.target.host_name
    }

    /// A symmetric-key enrollment (group or individual) written over one DPS holds keeps the
    /// keys DPS holds (`held`: what DPS answered for that id): its devices sign with them, and
    /// DPS makes new ones for a write without keys. A new enrollment, one of another kind, or
    /// keys given, stay as they are.
    pub fn keep_held_keys(attestation: &mut Attestation, held: Option<&Attestation>) {
        let Some(held) = held.filter(|h| !h.symmetric_keys().is_empty()) else {
            return;
        };
        if attestation.is_symmetric_key() && attestation.symmetric_keys().is_empty() {
            attestation.symmetric_key = held.symmetric_key.clone();
        }
    }

    fn request(&self, method: Method, path: &str, now_unix: u64) -> Result<Request, RestError> {
        let url = format!(
            "{}{path}?api-version={DPS_SERVICE_API_VERSION}",
            self.target.base
        );
        Ok(Request::new(
            method,
            url,
            self.target.authorization(now_unix)?,
        ))
    }

    /// `/{collection}/{id}`, the id checked by DPS's rules first.
    fn item_path(collection: &str, id: &str) -> Result<String, RestError> {
        let id = EnrollmentId::parse(id).map_err(RestError::Name)?;
        Ok(format!("/{collection}/{}", url_encode(id.as_str())))
    }

    /// A PUT of `body` to `path`, with `If-Match` when an etag is given.
    fn put(
        &self,
        path: &str,
        body: &impl serde::Serialize,
        etag: Option<&str>,
        now_unix: u64,
    ) -> Result<Request, RestError> {
        let body = serde_json::to_value(body)
            .map_err(|e| RestError::Local(format!("the enrollment: {e}")))?;
        let request = self.request(Method::Put, path, now_unix)?.json(body);
        Ok(with_etag(request, etag))
    }

    /// PUT an enrollment group: creates it, or (with the `etag` it was read with) replaces it.
    pub fn put_group(
        &self,
        group: &EnrollmentGroup,
        etag: Option<&str>,
        now_unix: u64,
    ) -> Result<Request, RestError> {
        let path = Self::item_path("enrollmentGroups", &group.enrollment_group_id)?;
        self.put(&path, group, etag, now_unix)
    }

    /// GET an enrollment group.
    pub fn get_group(&self, id: &str, now_unix: u64) -> Result<Request, RestError> {
        self.request(
            Method::Get,
            &Self::item_path("enrollmentGroups", id)?,
            now_unix,
        )
    }

    /// DELETE an enrollment group; `etag` `None` deletes whatever version is there.
    pub fn delete_group(
        &self,
        id: &str,
        etag: Option<&str>,
        now_unix: u64,
    ) -> Result<Request, RestError> {
        let request = self.request(
            Method::Delete,
            &Self::item_path("enrollmentGroups", id)?,
            now_unix,
        )?;
        Ok(with_etag(request, etag))
    }

    /// POST a query for every enrollment group (`{"query":"*"}`).
    pub fn query_groups(&self, now_unix: u64) -> Result<Request, RestError> {
        Ok(self
            .request(Method::Post, "/enrollmentGroups/query", now_unix)?
            .json(serde_json::json!({"query": "*"})))
    }

    /// PUT an individual enrollment: creates it, or (with its `etag`) replaces it.
    pub fn put_enrollment(
        &self,
        enrollment: &IndividualEnrollment,
        etag: Option<&str>,
        now_unix: u64,
    ) -> Result<Request, RestError> {
        let path = Self::item_path("enrollments", &enrollment.registration_id)?;
        self.put(&path, enrollment, etag, now_unix)
    }

    /// GET an individual enrollment.
    pub fn get_enrollment(
        &self,
        registration_id: &str,
        now_unix: u64,
    ) -> Result<Request, RestError> {
        self.request(
            Method::Get,
            &Self::item_path("enrollments", registration_id)?,
            now_unix,
        )
    }

    /// DELETE an individual enrollment, whatever its version.
    pub fn delete_enrollment(
        &self,
        registration_id: &str,
        now_unix: u64,
    ) -> Result<Request, RestError> {
        self.request(
            Method::Delete,
            &Self::item_path("enrollments", registration_id)?,
            now_unix,
        )
    }

    /// DELETE a device's registration state: its next registration starts afresh.
    pub fn delete_registration(
        &self,
        registration_id: &str,
        now_unix: u64,
    ) -> Result<Request, RestError> {
        let path = Self::item_path("registrations", registration_id)?;
        self.request(Method::Delete, &path, now_unix)
    }

    /// GET a device's registration state (`/registrations/{id}`).
    pub fn get_registration(
        &self,
        registration_id: &str,
        now_unix: u64,
    ) -> Result<Request, RestError> {
        let path = Self::item_path("registrations", registration_id)?;
        self.request(Method::Get, &path, now_unix)
    }
}

/// How long a registration's SAS token lives (Microsoft's Node.js SDK: an hour).
const REGISTRATION_TOKEN_SECONDS: u64 = 3600;

/// A symmetric-key device's registration over DPS's device API (HTTPS), as Microsoft's HTTP
/// provisioning transports send it: `PUT .../register` (202 and an operation id), then
/// `GET .../operations/{operationId}` until assigned; each call carries the registration's SAS
/// token ([`registration_token`]) signed with the device's key (an individual enrollment's, or
/// `derive_device_key` of its group's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DpsDeviceRegistration {
    base: String,
    id_scope: String,
    registration_id: String,
    device_key: String,
}

impl DpsDeviceRegistration {
    /// `endpoint`: where requests go (empty means DPS's global endpoint, or localhub's HTTP or
    /// HTTPS port).
    pub fn new(
        endpoint_url: &str,
        id_scope: &str,
        registration_id: &str,
        device_key_base64: &str,
    ) -> Result<Self, RestError> {
        let base = if endpoint_url.trim().is_empty() {
            format!("https://{DPS_GLOBAL_HOST}")
        } else {
            endpoint("DPS device endpoint", endpoint_url)?
        };
        let id_scope = id_scope.trim();
        if id_scope.is_empty() || !id_scope.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(setting("ID scope", "must be the DPS's ID scope (0ne...)"));
        }
        let registration_id = EnrollmentId::parse(registration_id).map_err(RestError::Name)?;
        // Checked now, so that a bad key is named before anything is sent.
        registration_token(id_scope, registration_id.as_str(), device_key_base64, 1)
            .map_err(|_| setting("device key", "is not base64"))?;
        Ok(Self {
            base,
            id_scope: id_scope.to_owned(),
            registration_id: registration_id.as_str().to_owned(),
            device_key: device_key_base64.trim().to_owned(),
        })
    }

    /// A device of a symmetric-key enrollment group: its key is `derive_device_key` of the
    /// group's key (`group_key_base64`) over its registration id.
    pub fn of_group(
        endpoint_url: &str,
        id_scope: &str,
        registration_id: &str,
        group_key_base64: &str,
    ) -> Result<Self, RestError> {
        let id = registration_id.trim();
        let key = crate::contract::derive_device_key(group_key_base64, id)
            .map_err(|_| setting("group key", "is not base64"))?;
        Self::new(endpoint_url, id_scope, id, &key)
    }

    /// The device's key, base64: what it signs its registration and its hub tokens with.
    pub fn device_key(&self) -> &str {
        &self.device_key
    }

    /// The registration id.
    pub fn registration_id(&self) -> &str {
        &self.registration_id
    }

    /// The ID scope.
    pub fn id_scope(&self) -> &str {
        &self.id_scope
    }

    /// The password of the registration over MQTT: its SAS token, valid an hour from `now_unix`.
    pub fn mqtt_password(&self, now_unix: u64) -> Result<String, RestError> {
        registration_token(
            &self.id_scope,
            &self.registration_id,
            &self.device_key,
            now_unix + REGISTRATION_TOKEN_SECONDS,
        )
        .map_err(|e| RestError::Local(e.to_string()))
    }

    /// Once assigned: the device's connection string on `hub` as `device_id`, with the same key
    /// (DPS writes a symmetric-key device into the hub as a SAS device with its key).
    pub fn hub_connection_string(&self, hub: &str, device_id: &str) -> String {
        format!(
            "HostName={};DeviceId={};SharedAccessKey={}",
            hub.trim(),
            device_id.trim(),
            self.device_key
        )
    }

    fn request(&self, method: Method, tail: &str, now_unix: u64) -> Result<Request, RestError> {
        let url = format!(
            "{}/{}/registrations/{}{tail}?api-version={DPS_DEVICE_API_VERSION}",
            self.base,
            self.id_scope,
            url_encode(&self.registration_id)
        );
        let token = registration_token(
            &self.id_scope,
            &self.registration_id,
            &self.device_key,
            now_unix + REGISTRATION_TOKEN_SECONDS,
        )
        .map_err(|e| RestError::Local(e.to_string()))?;
        Ok(Request::new(method, url, token))
    }

    /// `PUT /{idScope}/registrations/{registrationId}/register`: DPS answers 202 and the
    /// operation to poll ([`parse_registration_operation`]).
    pub fn register(&self, now_unix: u64) -> Result<Request, RestError> {
        let body = serde_json::to_value(RegistrationRequest {
            registration_id: self.registration_id.clone(),
            payload: None,
        })
        .map_err(|e| RestError::Local(format!("the registration: {e}")))?;
        Ok(self.request(Method::Put, "/register", now_unix)?.json(body))
    }

    /// `GET .../operations/{operationId}`: where the registration stands (`assigning`, then
    /// `assigned`, `failed` or `disabled`).
    pub fn operation_status(
        &self,
        operation_id: &str,
        now_unix: u64,
    ) -> Result<Request, RestError> {
        let tail = format!("/operations/{}", url_encode(operation_id));
        self.request(Method::Get, &tail, now_unix)
    }

    /// `POST /{idScope}/registrations/{registrationId}`: the device's registration state
    /// ([`parse_registration_state`]).
    pub fn registration_status(&self, now_unix: u64) -> Result<Request, RestError> {
        let body = serde_json::json!({"registrationId": self.registration_id});
        Ok(self.request(Method::Post, "", now_unix)?.json(body))
    }
}

/// Reads a register or operation-status answer.
pub fn parse_registration_operation(body: &str) -> Result<RegistrationOperation, RestError> {
    serde_json::from_str(body)
        .map_err(|e| RestError::BadAnswer(format!("not a registration operation: {e}")))
}

/// Reads a registration status answer.
pub fn parse_registration_state(body: &str) -> Result<RegistrationState, RestError> {
    serde_json::from_str(body)
        .map_err(|e| RestError::BadAnswer(format!("not a registration state: {e}")))
}

/// `request` with `If-Match: "{etag}"` when an etag is given.
fn with_etag(request: Request, etag: Option<&str>) -> Request {
    match etag {
        Some(e) => request.if_match(&format!("\"{}\"", e.trim_matches('"'))),
        None => request,
    }
}

/// Reads an enrollment group answer.
pub fn parse_group(body: &str) -> Result<EnrollmentGroup, RestError> {
    serde_json::from_str(body)
        .map_err(|e| RestError::BadAnswer(format!("not an enrollment group: {e}")))
}

/// Reads a query answer: a JSON array of enrollment groups.
pub fn parse_groups(body: &str) -> Result<Vec<EnrollmentGroup>, RestError> {
    serde_json::from_str(body)
        .map_err(|e| RestError::BadAnswer(format!("not a list of enrollment groups: {e}")))
}

/// What to check when DPS did not assign a device (`status`: the CONNACK code when the connection
/// was refused, else DPS's status; `message`: DPS's words), the likeliest cause first.
pub fn provisioning_refusal_advice(
    status: u16,
    message: &str,
    symmetric_key: bool,
) -> &'static str {
    match status {
        // CONNACK 4 (bad user name or password) and 5 (not authorised): the attestation failed.
        4 | 5 if symmetric_key => "DPS refused the device: check the device key (an individual enrollment's, or derived from its group's key over this very registration id), the registration id and the ID scope.",
        4 | 5 => "DPS refused the device: check that an enrollment group's CA signed its certificate, that the registration id equals the certificate's CN, and the ID scope.",
        _ if message.contains("disabled") => "The enrollment is disabled: enable the group (or the individual enrollment) above and register again.",
        _ => "DPS did not assign the device.",
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_refusal_is_explained_by_what_attested_the_device() {
        use super::provisioning_refusal_advice as advice;
        assert!(advice(5, "", true).contains("device key"));
        assert!(advice(4, "", false).contains("CA signed its certificate"));
        assert!(advice(200, "Enrollment group g is disabled.", false).contains("enable the group"));
        assert_eq!(advice(500, "boom", false), "DPS did not assign the device.");
    }

    use super::*;
    use crate::contract::SasToken;

    const CS: &str = "HostName=fleet-dps.azure-devices-provisioning.net;SharedAccessKeyName=provisioningserviceowner;SharedAccessKey=c2VjcmV0LWtleS1mb3ItdGVzdHM=";

    #[test]
    fn a_symmetric_key_registration_carries_the_device_api_path_and_its_token() {
        let key = crate::contract::derive_device_key("c2VjcmV0LWtleS1mb3ItdGVzdHM=", "sym-1")
            .expect("key");
        let dev = DpsDeviceRegistration::new("", "0ne00000001", "sym-1", &key).expect("settings");
        let r = dev.register(1_800_000_000).expect("request");
        assert_eq!(r.method, Method::Put);
        assert_eq!(
            r.url,
            "https://global.azure-devices-provisioning.net/0ne00000001/registrations/sym-1/register?api-version=2019-03-31"
        );
        assert_eq!(
            crate::contract::verify_registration_token(
                r.header("Authorization").expect("a token"),
                "0ne00000001",
                "sym-1",
                &[&key],
                1_800_000_000
            ),
            Ok(())
        );
        assert_eq!(r.body.as_deref(), Some(r#"{"registrationId":"sym-1"}"#));
        let r = dev.operation_status("5.ab.cd", 1).expect("request");
        assert_eq!(r.method, Method::Get);
        assert!(r
            .url
            .ends_with("/registrations/sym-1/operations/5.ab.cd?api-version=2019-03-31"));
        let r = DpsDeviceRegistration::new("http://127.0.0.1:8081/", "0ne00000001", "sym-1", &key)
            .expect("localhub")
            .registration_status(1)
            .expect("request");
        assert_eq!(r.method, Method::Post);
        assert_eq!(
            r.url,
            "http://127.0.0.1:8081/0ne00000001/registrations/sym-1?api-version=2019-03-31"
        );
        // Wrong settings are named before anything is sent.
        for (endpoint, scope, id, key) in [
            ("http://dps.example", "0ne00000001", "sym-1", key.as_str()),
            ("", "", "sym-1", key.as_str()),
            ("", "0ne/x", "sym-1", key.as_str()),
            ("", "0ne00000001", "has space", key.as_str()),
            ("", "0ne00000001", "sym-1", "not base64!"),
        ] {
            assert!(
                DpsDeviceRegistration::new(endpoint, scope, id, key).is_err(),
                "{endpoint} {scope} {id} {key}"
            );
        }
        let op = parse_registration_operation(r#"{"operationId":"5.a","status":"assigning"}"#)
            .expect("reads");
        assert_eq!(op.operation_id, "5.a");
        assert!(parse_registration_state("42").is_err());
    }

    #[test]
    fn a_group_device_derives_its_key_and_signs_its_mqtt_password_and_hub_login_with_it() {
        let group = "c2VjcmV0LWtleS1mb3ItdGVzdHM=";
        let dev =
            DpsDeviceRegistration::of_group("", "0ne00000001", " sym-2 ", group).expect("settings");
        let key = crate::contract::derive_device_key(group, "sym-2").expect("key");
        assert_eq!(dev.device_key(), key);
        assert_eq!(dev.registration_id(), "sym-2");
        assert_eq!(dev.id_scope(), "0ne00000001");
        let password = dev.mqtt_password(1_800_000_000).expect("token");
        assert_eq!(
            crate::contract::verify_registration_token(
                &password,
                "0ne00000001",
                "sym-2",
                &[&key],
                1_800_000_000 + 3599
            ),
            Ok(())
        );
        assert_eq!(
            dev.hub_connection_string("hub.azure-devices.net", "sym-2"),
            format!("HostName=hub.azure-devices.net;DeviceId=sym-2;SharedAccessKey={key}")
        );
        assert!(
            DpsDeviceRegistration::of_group("", "0ne00000001", "sym-2", "not base64!").is_err()
        );
    }

    #[test]
    fn a_symmetric_key_enrollment_written_again_keeps_the_keys_dps_holds() {
        let held = Attestation::symmetric_key(Some("AAAA"), Some("BBBB"));
        let mut again = Attestation::symmetric_key(None, None);
        DpsService::keep_held_keys(&mut again, Some(&held));
        assert_eq!(again, held);
        // New: DPS makes the keys.
        let mut new = Attestation::symmetric_key(None, None);
        DpsService::keep_held_keys(&mut new, None);
        assert!(new.symmetric_keys().is_empty());
        // Held as X.509: nothing to keep.
        let x509 = EnrollmentGroup::x509_signing("g", "PEM", None).attestation;
        DpsService::keep_held_keys(&mut new, Some(&x509));
        assert!(new.symmetric_keys().is_empty());
        // Keys given, or an X.509 write, stay as they are.
        let mut given = Attestation::symmetric_key(Some("CCCC"), None);
        DpsService::keep_held_keys(&mut given, Some(&held));
        assert_eq!(given.symmetric_keys(), ["CCCC"]);
        let mut to_x509 = x509.clone();
        DpsService::keep_held_keys(&mut to_x509, Some(&held));
        assert_eq!(to_x509, x509);
    }

    #[test]
    fn requests_carry_the_spec_path_version_sas_and_etag() {
        let dps = DpsService::from_connection_string("", CS).unwrap();
        assert_eq!(dps.host_name(), "fleet-dps.azure-devices-provisioning.net");
        let group = EnrollmentGroup::x509_signing("fleet:a", "PEM", None);
        let r = dps.put_group(&group, Some("AAAA"), 1_800_000_000).unwrap();
        assert_eq!(r.method, Method::Put);
        assert_eq!(
            r.url,
            "https://fleet-dps.azure-devices-provisioning.net/enrollmentGroups/fleet%3Aa?api-version=2021-10-01"
        );
        assert_eq!(r.header("If-Match"), Some("\"AAAA\""));
        let token = SasToken::parse(r.header("Authorization").unwrap()).unwrap();
        assert_eq!(token.resource, "fleet-dps.azure-devices-provisioning.net");
        assert_eq!(token.policy.as_deref(), Some("provisioningserviceowner"));
        let body: EnrollmentGroup = serde_json::from_str(r.body.as_deref().unwrap()).unwrap();
        assert_eq!(body, group);
        assert!(dps
            .put_group(&group, None, 0)
            .unwrap()
            .header("If-Match")
            .is_none());

        let q = dps.query_groups(0).unwrap();
        assert_eq!(q.method, Method::Post);
        assert!(q
            .url
            .ends_with("/enrollmentGroups/query?api-version=2021-10-01"));
        assert_eq!(q.body.as_deref(), Some(r#"{"query":"*"}"#));

        let via = DpsService::from_connection_string("http://127.0.0.1:8090/", CS).unwrap();
        let g = via.get_group("fleet", 0).unwrap();
        assert_eq!(
            g.url,
            "http://127.0.0.1:8090/enrollmentGroups/fleet?api-version=2021-10-01"
        );
        let d = via.delete_group("fleet", None, 0).unwrap();
        assert_eq!((d.method, d.header("If-Match")), (Method::Delete, None));
        let s = via.get_registration("sensor-1", 0).unwrap();
        assert!(s.url.contains("/registrations/sensor-1?"));
    }

    #[test]
    fn wrong_settings_are_named_before_anything_is_sent() {
        let hub =
            "HostName=h.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=c2VjcmV0";
        let e = DpsService::from_connection_string("", hub)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("IoT Hub's") && e.contains("provisioningserviceowner"),
            "{e}"
        );
        let device =
            "HostName=x.azure-devices-provisioning.net;DeviceId=d;SharedAccessKey=c2VjcmV0";
        assert!(DpsService::from_connection_string("", device).is_err());
        let e = DpsService::from_connection_string("http://10.0.0.5:8090", CS).unwrap_err();
        assert!(e.to_string().contains("https://"), "{e}");
        let dps = DpsService::from_connection_string("", CS).unwrap();
        let e = dps.get_group("bad id", 0).unwrap_err();
        assert!(matches!(e, RestError::Name(_)), "{e:?}");
        assert!(!format!("{dps:?}").contains("c2VjcmV0LWtleS1mb3ItdGVzdHM="));
    }

    #[test]
    fn answers_read_as_groups_or_say_what_they_are() {
        let g = EnrollmentGroup::x509_ca_references("fleet", "root", None);
        let body = serde_json::to_string(&vec![g.clone()]).unwrap();
        assert_eq!(parse_groups(&body).unwrap(), vec![g]);
        assert!(matches!(parse_group("[]"), Err(RestError::BadAnswer(_))));
        let e = RestError::from_status(
            super::super::Plane::Dps,
            404,
            r#"{"errorCode":404202,"trackingId":"t","message":"Enrollment group fleet not found.","timestampUtc":"2026-11-30T00:00:00Z"}"#,
        );
        assert!(matches!(&e, RestError::Status { code: Some(c), .. } if c == "404202"));
        let text = e.to_string();
        assert!(
            text.contains("No such enrollment")
                && text.contains("DPS said: Enrollment group fleet not found."),
            "{text}"
        );
    }
}

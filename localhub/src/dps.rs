//! localhub's Device Provisioning Service: the service API (`service.rs`: enrollment groups,
//! individual enrollments, registration states, DPS SAS), and device registration over MQTT on the
//! device port (`register.rs`: a user name `{idScope}/registrations/{id}/api-version=...` is a DPS
//! client) and over HTTPS (`http.rs`: the device API's register, operation status and registration
//! status). Both transports ask `attest.rs` which enrollment admits the device: an X.509 device of
//! an individual enrollment (its own certificate) or of a group (a chain to the group's CA), with
//! CN = registration id, or a symmetric-key device whose SAS token is signed with its
//! enrollment's key or its group's derived key; `attest.rs` then assigns it to localhub's hub.

mod attest;
mod http;
mod register;
mod service;

pub(crate) use http::{operation_status, register, registration_status};
pub(crate) use register::serve;
pub(crate) use service::{
    delete_enrollment, delete_group, delete_registration, get_enrollment, get_group,
    get_registration, put_enrollment, put_group, query_enrollments, query_groups,
};

//! localhub's Device Provisioning Service: the service API (`service.rs`: enrollment groups,
//! individual enrollments, registration states, DPS SAS), and device registration over MQTT on the
//! device port (`register.rs`: a user name `{idScope}/registrations/{id}/api-version=...` is a DPS
//! client). An X.509 device of an individual enrollment (its own certificate) or of a group (a chain
//! to the group's CA), with CN = registration id, is assigned to localhub's hub.

mod register;
mod service;

pub(crate) use register::serve;
pub(crate) use service::{
    delete_enrollment, delete_group, delete_registration, get_enrollment, get_group,
    get_registration, put_enrollment, put_group, query_enrollments, query_groups,
};

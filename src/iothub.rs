//! Azure IoT Hub: the rules certificates must satisfy, SAS tokens, and the REST calls the tool makes.
//!
//! Plain Rust, no I/O: the same code runs natively in tests and in the browser.

mod arm;
mod az;
mod backoff;
mod batch;
mod bulk;
mod ca_checklist;
mod ca_rollover;
mod ca_upload;
mod client;
mod decoder;
mod device_ops;
mod device_test;
mod dps;
mod error;
mod fleet;
mod fleet_run;
mod group_form;
mod guide;
mod identity;
mod individual_form;
mod inventory;
mod limits;
mod login;
mod provisioning_form;
mod query;
mod registry;
mod renew;
mod request;
mod revocation_summary;
mod revoke;
mod rollover;
mod snippets;
#[cfg(test)]
mod testing;
mod throttle;

pub use arm::{certificate_name, Arm, HubCertificate, AZURE_ARM_ENDPOINT};
pub use az::{AzDps, AzHub, ARM_TOKEN as AZ_ARM_TOKEN, REGISTRY_TOKEN as AZ_REGISTRY_TOKEN};
pub use backoff::{
    is_retryable_status, parse_retry_after, retry_delay, Jitter, RetryPolicy, RETRY_AFTER_MAX,
};
pub use batch::{parse_device_ids, BatchError};
pub use bulk::{read_bulk_answer, BulkOutcome};
pub use ca_checklist::{
    ca_name_from_cn, groups_added_note, reissued_note, rollover_pair, uploaded_note, ChecklistItem,
    CHOOSE_TWO_CAS, RETIRED_NOTE, RETIRE_CONFIRM,
};
pub use ca_rollover::{
    only_new_ca, plan_ca_rollover, with_new_ca, CaRollover, CaRolloverInputs, CaRolloverStage,
};
pub use ca_upload::{
    outside_ca_label, possession_elsewhere, upload_button, upload_commands, uploaded_message,
    verify_automatically, NO_CA_TO_UPLOAD, NO_OUTSIDE_CA,
};
pub use client::{Answer, CaOnHub, HubClient, Possession, PossessionStage, SavedGroup, Transport};
pub use decoder::{decode_error, Diagnosis, KnownCertificate};
pub use device_ops::{
    bulk_progress, delete_devices_confirm, describe_device, device_ops_result, register_commands,
    registration_auth, typed_device_ids, with_issued_ids, DeviceOp, NO_DEVICE_IDS,
};
pub use device_test::{
    cloud_to_device_text, device_event_line, device_files, device_outlook, message_properties,
    method_answer, registration_note, reported_patch, telemetry_counts, twin_panel_text,
    DeviceTestError, LogSide, SendPlan,
};
pub use dps::{
    parse_group, parse_groups, parse_registration_operation, parse_registration_state,
    provisioning_refusal_advice, DpsDeviceRegistration, DpsService, DPS_DOMAIN,
};
pub use error::{Plane, RestError};
pub use fleet::{
    csv_field, fleet_counts, fleet_csv, fleet_summary, fleet_view, FleetExpiry, FleetRow, MadeHere,
    FLEET_CSV_HEADER,
};
pub use fleet_run::{
    presence_queries, run_progress, run_summary, settled_before, OnHub, Pace, RunEvent, RunReport,
    NOT_SENT,
};
pub use group_form::{
    chosen_ca_index, effective_ca_choice, group_delete_confirm, groups_listed, initial_twin,
    proven_on_dps, reprovision_policy, saved_group_line, signing_subject, GroupForm, GroupTrust,
};
pub use guide::{next_step, Alerts, GuideFacts, GuideStep};
pub use identity::{HubPath, Renewal, Revoke};
pub use individual_form::{
    blocked_on_dps, cannot_block, individual_deleted, individual_enrollment_of,
    individual_enrollment_to_save, individual_saved_line, registration_state_line,
};
pub use inventory::{describe_dps_registration, describe_hub_registration};
pub use limits::{
    dps_ca_limit_note, group_limit_note, Limit, DPS_CAS, DPS_INDIVIDUAL_ENROLLMENTS,
    DPS_REGISTRATIONS_PER_MINUTE, DPS_SYMMETRIC_KEY_GROUPS, DPS_X509_GROUPS, HUB_DEVICES, LIMITS,
};
pub use login::{DeviceLogin, LoginError, WebSocketOutlook};
pub use provisioning_form::{provisioning_files, provisioning_form_problem};
pub use query::{literal, read_query_answer, FleetFilter, QueryPage, TwinQuery, FLEET_FIELDS};
pub use registry::{thumbprint, ConnectionString, DeviceAuth, HubDevice, Registry, ServiceAuth};
pub use renew::{
    az_rollover, ca_renewal, due_within, renew_button, renewed_ca_note, renewed_devices,
    renewed_summary, CaRenewal, RenewError, RenewedDevice, RolloverTally,
};
pub use request::{Method, Request};
pub use revocation_summary::{revocation_result, revoke_confirm, PlanLine};
pub use revoke::{plan_revocation, RevocationInputs, RevocationPlan};
pub use rollover::{plan_rollover, RolloverStep};
pub use snippets::{sample_telemetry, DeviceFiles, ProvisioningFiles};
pub use throttle::{
    dps_threshold, estimate_registration, registration_outlook, HubTier, RegistrationEstimate,
    RegistrationMethod, UnknownTier, DPS_ADVISED_AFTER_SECONDS,
};

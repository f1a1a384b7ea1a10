//! Keys, certificates and the checks IoT Hub applies to them.
//!
//! Inputs are plain `*Params` structs; [`CertificateAuthority`] issues certificates from them.
//! The clock is always passed in (`now`), so the same code runs in tests with a pinned time and
//! in the browser with `Date.now()`.

mod armor;
mod authority;
mod batch;
mod batch_summary;
mod bundle;
mod ca_import_form;
mod ca_tree;
mod certificate;
mod csr;
mod csr_note;
mod dates;
mod der_in;
mod der_out;
mod device_identity;
mod dn;
mod error;
mod expiry;
mod expiry_summary;
mod export_form;
mod external;
mod handoff;
mod import;
mod inspect;
mod inspect_prompt;
mod keeping;
mod kept_notes;
mod key;
mod oid;
mod order;
mod pbe;
mod pkcs12;
mod pkcs12_import;
mod pkcs7;
mod preflight;
mod renew;
mod sibling;
mod signature;
mod template;
#[cfg(test)]
mod testing;
mod validity;
mod vault;
mod worker_message;
mod workspace;

pub use authority::{
    CertificateAuthority, DeviceCertParams, Identity, IntermediateCaParams, RootCaParams,
    ServerCertParams, VerificationCertParams,
};
pub use batch::{
    run_batch_job, BatchDevice, BatchIssuer, BatchJob, BatchMade, BatchResult, OpenedBatchDevice,
};
pub use batch_summary::{
    batch_ids_hint, batch_size_ok, BatchSummary, KEPT_CARDS, MAX_BATCH, MAX_RSA_BATCH,
};
pub use bundle::{device_files, pkcs8_pem_from_der, zip_files, NamedFile, ZipStream};
pub use ca_import_form::{
    bundle_error_slot, ca_file_loaded, key_error_slot, key_not_pem, pfx_import_error, ImportSlot,
    NO_CA_KEY,
};
pub use ca_tree::{
    create_intermediate_label, intermediate_error_field, intermediate_stem, path_len_choice,
};
pub use certificate::{Certificate, CertificateInfo, ExtensionInfo, Thumbprint};
pub use csr::{make_csr, read_csr, SigningRequest};
pub use csr_note::NO_CSR;
pub use dates::format_utc;
pub use device_identity::leaf_device_id;
pub use error::{Field, KdfRefusal, PassphraseWeakness, PkiError, Unsupported};
pub use expiry::{
    expiry_csv, expiry_csv_with, expiry_report, expiry_rows, ExpiryRow, ExpiryStatus,
    EXPIRY_ALERT_DAYS, EXPIRY_WARNING_DAYS,
};
pub use expiry_summary::{expiry_row_matches, expiry_summary, registrations_read};
pub use export_form::{
    encrypted_key_saved, export_password_hint, pfx_choice, pfx_saved, GENERATED_PASSWORD,
};
pub use external::{ecdsa_signature_der, UnsignedCertificate};
pub use handoff::{Focus as HandoffFocus, Handoff};
pub use import::{certificate_from_bytes, size_ok as input_size_ok, MAX_INPUT_BYTES};
pub use inspect::{ca_certificates_from_bytes, certificates_from_bytes, inspect, Inspected};
pub use inspect_prompt::wants_password;
pub use keeping::{idle_lock_due, lock_drops, lock_warning, Counts, IDLE_LOCK_MS};
pub use kept_notes::{
    forget_confirm, forgotten, no_longer_kept, unlock_needs_passphrase, unlocked,
};
pub use key::{KeyAlgorithm, KeyPair};
pub use pbe::{
    check_export_password, generate_password, Pkcs12Preset, LEGACY_ITERATIONS,
    MIN_EXPORT_PASSWORD_CHARS, MODERN_ITERATIONS,
};
pub use pkcs12::{export_pkcs12, KeyExportJob, KeyExportKind};
pub use pkcs12_import::{import_pkcs12, looks_like_pkcs12, Pkcs12Contents};
pub use pkcs7::{read_pkcs7, write_pkcs7};
pub use preflight::{
    ca_checks, chain_checks, device_checks, is_signed_by, verification_checks, Check,
};
pub use renew::{
    due_for_renewal, due_for_renewal_info, same_public_key, DueDevice, RenewKey, Renewed,
};
pub use template::DeviceTemplate;
pub use validity::ValidityDays;
pub use vault::{
    check_passphrase, open as open_vault, seal as seal_vault, vault_size_ok, KdfCost,
    MAX_VAULT_BYTES, MIN_PASSPHRASE_CHARS, MIN_PASSPHRASE_DISTINCT, VAULT_FORMAT, VAULT_VERSION,
};
pub use worker_message::{PackedDevices, WorkerReply, WorkerRequest};
pub use workspace::{StoredCa, StoredDevice, Workspace, WORKSPACE_VERSION};

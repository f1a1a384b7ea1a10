//! The object identifiers the core reads and writes, named once; from `const_oid::db` where the
//! database has them.

use der::oid::db::{rfc2985, rfc4519, rfc5280, rfc5911, rfc5912};
use der::oid::ObjectIdentifier;

/// `id-at-commonName` (X.520).
pub(super) const OID_COMMON_NAME: ObjectIdentifier = rfc4519::CN;
/// CMS signedData: the content type of a `.p7b` certificate bundle.
pub(super) const OID_SIGNED_DATA: ObjectIdentifier = rfc5911::ID_SIGNED_DATA;
/// `id-ecPublicKey` (RFC 5480).
pub(super) const OID_EC_PUBLIC_KEY: ObjectIdentifier = rfc5912::ID_EC_PUBLIC_KEY;
/// `rsaEncryption` (RFC 8017).
pub(super) const OID_RSA_ENCRYPTION: ObjectIdentifier = rfc5912::RSA_ENCRYPTION;
/// `secp256r1` (P-256).
pub(super) const OID_P256: ObjectIdentifier = rfc5912::SECP_256_R_1;
/// `secp384r1` (P-384).
pub(super) const OID_P384: ObjectIdentifier = rfc5912::SECP_384_R_1;
/// `id-kp-clientAuth` (RFC 5280 §4.2.1.12).
pub(super) const OID_CLIENT_AUTH: ObjectIdentifier = rfc5280::ID_KP_CLIENT_AUTH;
/// `ecdsa-with-SHA256` (RFC 5758).
pub(super) const OID_ECDSA_SHA256: ObjectIdentifier = rfc5912::ECDSA_WITH_SHA_256;
/// `ecdsa-with-SHA384` (RFC 5758).
pub(super) const OID_ECDSA_SHA384: ObjectIdentifier = rfc5912::ECDSA_WITH_SHA_384;
/// `sha256WithRSAEncryption` (RFC 8017).
pub(super) const OID_RSA_SHA256: ObjectIdentifier = rfc5912::SHA_256_WITH_RSA_ENCRYPTION;
/// `sha384WithRSAEncryption` (RFC 8017).
pub(super) const OID_RSA_SHA384: ObjectIdentifier = rfc5912::SHA_384_WITH_RSA_ENCRYPTION;
/// `sha512WithRSAEncryption` (RFC 8017).
pub(super) const OID_RSA_SHA512: ObjectIdentifier = rfc5912::SHA_512_WITH_RSA_ENCRYPTION;
/// `id-sha1`.
pub(super) const OID_SHA1: ObjectIdentifier = rfc5912::ID_SHA_1;
/// `id-sha256`.
pub(super) const OID_SHA256: ObjectIdentifier = rfc5912::ID_SHA_256;
/// `id-sha384`.
pub(super) const OID_SHA384: ObjectIdentifier = rfc5912::ID_SHA_384;
/// `id-sha512`.
pub(super) const OID_SHA512: ObjectIdentifier = rfc5912::ID_SHA_512;
/// `id-data` (CMS).
pub(super) const OID_DATA: ObjectIdentifier = rfc5911::ID_DATA;
/// `id-encryptedData` (CMS).
pub(super) const OID_ENCRYPTED_DATA: ObjectIdentifier = rfc5911::ID_ENCRYPTED_DATA;
/// PKCS#9 `friendlyName`.
pub(super) const OID_FRIENDLY_NAME: ObjectIdentifier = rfc2985::PKCS_9_AT_FRIENDLY_NAME;
/// PKCS#9 `localKeyId`.
pub(super) const OID_LOCAL_KEY_ID: ObjectIdentifier = rfc2985::PKCS_9_AT_LOCAL_KEY_ID;
/// PKCS#9 `extensionRequest` (a CSR's requested extensions).
pub(super) const OID_EXTENSION_REQUEST: ObjectIdentifier = rfc2985::PKCS_9_AT_EXTENSION_REQUEST;
/// PKCS#9 `x509Certificate` certificate type (RFC 7292 §4.2.3); not in the database.
pub(super) const OID_X509_CERT: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.22.1");
/// PKCS#5 `id-PBES2` (RFC 8018); not in the database.
pub(super) const OID_PBES2: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.5.13");
/// PKCS#5 `id-PBMAC1` (RFC 8018); not in the database.
pub(super) const OID_PBMAC1: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.5.14");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_names_are_the_expected_arcs() {
        for (oid, arcs) in [
            (OID_COMMON_NAME, "2.5.4.3"),
            (OID_EC_PUBLIC_KEY, "1.2.840.10045.2.1"),
            (OID_RSA_ENCRYPTION, "1.2.840.113549.1.1.1"),
            (OID_P256, "1.2.840.10045.3.1.7"),
            (OID_P384, "1.3.132.0.34"),
            (OID_CLIENT_AUTH, "1.3.6.1.5.5.7.3.2"),
            (OID_ECDSA_SHA256, "1.2.840.10045.4.3.2"),
            (OID_ECDSA_SHA384, "1.2.840.10045.4.3.3"),
            (OID_RSA_SHA256, "1.2.840.113549.1.1.11"),
            (OID_RSA_SHA384, "1.2.840.113549.1.1.12"),
            (OID_RSA_SHA512, "1.2.840.113549.1.1.13"),
            (OID_SHA1, "1.3.14.3.2.26"),
            (OID_SHA256, "2.16.840.1.101.3.4.2.1"),
            (OID_SHA384, "2.16.840.1.101.3.4.2.2"),
            (OID_SHA512, "2.16.840.1.101.3.4.2.3"),
            (OID_DATA, "1.2.840.113549.1.7.1"),
            (OID_ENCRYPTED_DATA, "1.2.840.113549.1.7.6"),
            (OID_FRIENDLY_NAME, "1.2.840.113549.1.9.20"),
            (OID_LOCAL_KEY_ID, "1.2.840.113549.1.9.21"),
            (OID_EXTENSION_REQUEST, "1.2.840.113549.1.9.14"),
        ] {
            assert_eq!(oid.to_string(), arcs);
        }
    }
}

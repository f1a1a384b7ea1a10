use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, DnValue,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyUsagePurpose, SanType, SerialNumber,
};
use time::{Duration, OffsetDateTime};

use super::Field;
use super::{Certificate, KeyAlgorithm, KeyPair, PkiError, ValidityDays};
use crate::contract::{DeviceId, VerificationCode};

/// ub-common-name and ub-organization-name in RFC 5280 Appendix A.
const MAX_NAME_LEN: usize = 64;

/// Certificates start a little in the past so a device whose clock runs slow still accepts them.
pub(super) const BACKDATE: Duration = Duration::minutes(5);

/// What the user chooses for a new root CA (the seed guide's step 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootCaParams {
    /// Subject CN, e.g. "IoT Root CA".
    pub common_name: String,
    /// Subject O; empty leaves it out.
    pub organization: String,
    /// Subject C, two letters; empty leaves it out.
    pub country: String,
    /// Lifetime.
    pub validity: ValidityDays,
    /// Key to generate.
    pub key_algorithm: KeyAlgorithm,
}

impl Default for RootCaParams {
    /// The seed guide's values: `/CN=IoT Root CA/O=MyOrg/C=US`, 3650 days.
    fn default() -> Self {
        Self {
            common_name: "IoT Root CA".into(),
            organization: "MyOrg".into(),
            country: "US".into(),
            validity: ValidityDays::SEED_ROOT,
            key_algorithm: KeyAlgorithm::EcdsaP256,
        }
    }
}

impl RootCaParams {
    /// Checks the subject fields (CN, O, C) without making anything: run it before a slow key
    /// is made, so a typo is reported at once.
    pub fn check(&self) -> Result<(), PkiError> {
        subject(self).map(|_| ())
    }
}

/// What the user chooses for a device certificate (the seed guide's step 3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceCertParams {
    /// Becomes the CN; IoT Hub matches it against the registered device id.
    pub device_id: DeviceId,
    /// Lifetime; may not run past the CA's.
    pub validity: ValidityDays,
}

/// The proof-of-possession certificate for IoT Hub (the seed guide's step 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationCertParams {
    /// The code IoT Hub generated; becomes the CN.
    pub code: VerificationCode,
    /// Lifetime: one day is enough, the hub checks it once.
    pub validity: ValidityDays,
}

/// A TLS server certificate, e.g. for a local stand-in of IoT Hub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerCertParams {
    /// DNS names and IP addresses for the subjectAltName; the first is also the CN.
    pub names: Vec<String>,
    /// Lifetime; may not run past the CA's.
    pub validity: ValidityDays,
}

/// What the user chooses for an intermediate CA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntermediateCaParams {
    /// Subject CN, O and C, validity and key, as for a root.
    pub subject: RootCaParams,
    /// basicConstraints pathLenConstraint: how many CAs may follow below it (`None`: no limit;
    /// `Some(0)`: it may sign only devices).
    pub path_len: Option<u8>,
}

/// A certificate with its private key.
#[derive(Debug)]
pub struct Identity {
    /// The certificate.
    pub certificate: Certificate,
    /// Its private key.
    pub key: KeyPair,
}

/// A CA that can sign: its certificate, its key, and what rcgen needs to name it as issuer.
#[derive(Debug)]
pub struct CertificateAuthority {
    certificate: Certificate,
    key: KeyPair,
    /// Subject name, key identifier and usages, as the issuer of what this CA signs.
    params: CertificateParams,
    /// The CAs above this one, nearest first (empty for a root).
    issuers: Vec<Certificate>,
}

impl CertificateAuthority {
    /// Makes a self-signed root CA: basicConstraints critical CA:TRUE, keyUsage critical
    /// keyCertSign, cRLSign, digitalSignature (what IoT Hub's documentation configures).
    pub fn create_root(params: &RootCaParams, now: OffsetDateTime) -> Result<Self, PkiError> {
        let key = KeyPair::generate(params.key_algorithm)?;
        Self::create_root_with_key(params, key, now)
    }

    /// As [`Self::create_root`], with a key the caller made.
    pub fn create_root_with_key(
        params: &RootCaParams,
        key: KeyPair,
        now: OffsetDateTime,
    ) -> Result<Self, PkiError> {
        let mut cert = base_params(&key, now, params.validity)?;
        cert.distinguished_name = subject(params)?;
        cert.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        cert.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
        ];
        let der = cert.self_signed(&key)?.der().to_vec();
        Ok(Self {
            certificate: Certificate::from_der(der)?,
            key,
            params: cert,
            issuers: Vec::new(),
        })
    }

    /// Makes an intermediate CA signed by this one: basicConstraints critical CA:TRUE with the
    /// chosen pathLen, the same key usages as a root, AKI = this CA's SKI. Refused when this CA's
    /// own pathLen forbids another CA below it, or when it would outlive this CA.
    pub fn issue_intermediate(
        &self,
        params: &IntermediateCaParams,
        now: OffsetDateTime,
    ) -> Result<Self, PkiError> {
        self.check_intermediate(params, now)?;
        let key = KeyPair::generate(params.subject.key_algorithm)?;
        self.issue_intermediate_with_key(params, key, now)
    }

    /// Whether [`Self::issue_intermediate`] would accept `params` now (pathLen, subject,
    /// validity), without making a key.
    pub fn check_intermediate(
        &self,
        params: &IntermediateCaParams,
        now: OffsetDateTime,
    ) -> Result<(), PkiError> {
        if let IsCa::Ca(BasicConstraints::Constrained(0)) = self.params.is_ca {
            return Err(PkiError::PathLenExhausted {
                issuer: self.common_name(),
            });
        }
        params.subject.check()?;
        self.check_validity(params.subject.validity, now)
    }

    /// As [`Self::issue_intermediate`], with a key the caller made (in the browser, WebCrypto's
    /// RSA keys).
    pub fn issue_intermediate_with_key(
        &self,
        params: &IntermediateCaParams,
        key: KeyPair,
        now: OffsetDateTime,
    ) -> Result<Self, PkiError> {
        self.check_intermediate(params, now)?;
        let mut cert = self.leaf_params(&key, now, params.subject.validity)?;
        cert.distinguished_name = subject(&params.subject)?;
        cert.is_ca = IsCa::Ca(match params.path_len {
            Some(n) => BasicConstraints::Constrained(n),
            None => BasicConstraints::Unconstrained,
        });
        cert.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
        ];
        let certificate = self.sign(&cert, &key)?;
        let mut issuers = Vec::with_capacity(self.issuers.len() + 1);
        issuers.push(self.certificate.clone());
        issuers.extend(self.issuers.iter().cloned());
        Ok(Self {
            certificate,
            key,
            params: cert,
            issuers,
        })
    }

    /// Assembles an imported CA; checks that what it signs will name it exactly as its own
    /// certificate does (`subject_der`), by signing a throwaway certificate.
    pub(super) fn from_parts(
        certificate: Certificate,
        key: KeyPair,
        params: CertificateParams,
        issuers: Vec<Certificate>,
        subject_der: &[u8],
    ) -> Result<Self, PkiError> {
        use der::Encode;
        let ca = Self {
            certificate,
            key,
            params,
            issuers,
        };
        let probe_key = KeyPair::generate(KeyAlgorithm::EcdsaP256)?;
        let mut probe = base_params(
            &probe_key,
            ca.params.not_before + Duration::minutes(10),
            ValidityDays::ONE_DAY,
        )?;
        probe.not_after = probe.not_before + Duration::minutes(1);
        probe.distinguished_name.push(DnType::CommonName, "probe");
        let signed = ca.sign(&probe, &probe_key)?;
        let issuer = super::certificate::parse(signed.der())?
            .tbs_certificate()
            .issuer()
            .to_der()
            .map_err(|e| PkiError::CertificateInvalid {
                detail: e.to_string(),
            })?;
        if issuer != subject_der {
            return Err(PkiError::CertificateInvalid {
                detail: "its subject name is encoded in a way this tool cannot reproduce exactly, so devices it signs would not chain to it".into(),
            });
        }
        Ok(ca)
    }

    /// Whether this CA signs itself.
    pub fn is_root(&self) -> bool {
        self.issuers.is_empty()
    }

    /// The CAs above this one, nearest first; empty for a root.
    pub fn issuers(&self) -> &[Certificate] {
        &self.issuers
    }

    /// `chain.pem` in the seed's order: this CA if it is an intermediate, the intermediates above
    /// it, then the root. For a root, just the root.
    pub fn chain_pem(&self) -> String {
        std::iter::once(&self.certificate)
            .chain(self.issuers.iter())
            .map(Certificate::pem)
            .collect()
    }

    fn common_name(&self) -> String {
        self.certificate
            .info()
            .ok()
            .and_then(|i| i.common_name)
            .unwrap_or_else(|| "This CA".into())
    }

    /// The CA's certificate.
    pub fn certificate(&self) -> &Certificate {
        &self.certificate
    }

    /// The CA's private key.
    pub fn key(&self) -> &KeyPair {
        &self.key
    }

    /// When the CA expires.
    pub fn not_after(&self) -> OffsetDateTime {
        self.params.not_after
    }

    /// Issues a device certificate for `key`: CN = device id, basicConstraints CA:FALSE,
    /// keyUsage critical digitalSignature (and keyEncipherment for an RSA key),
    /// extendedKeyUsage clientAuth.
    pub fn issue_device(
        &self,
        params: &DeviceCertParams,
        key: &KeyPair,
        now: OffsetDateTime,
    ) -> Result<Certificate, PkiError> {
        self.issue_device_for(params, key, now)
    }

    /// A device certificate for a public key held here or elsewhere (from a CSR).
    pub(super) fn issue_device_for(
        &self,
        params: &DeviceCertParams,
        key: &(impl KeyId + rcgen::PublicKeyData),
        now: OffsetDateTime,
    ) -> Result<Certificate, PkiError> {
        self.issue_device_with_signer(params, key, &self.key, now)
    }

    /// As [`Self::issue_device_for`], with `signer` standing in for this CA's key (its public
    /// key and algorithm must be this CA's).
    pub(super) fn issue_device_with_signer(
        &self,
        params: &DeviceCertParams,
        key: &(impl KeyId + rcgen::PublicKeyData),
        signer: &impl rcgen::SigningKey,
        now: OffsetDateTime,
    ) -> Result<Certificate, PkiError> {
        let mut cert = self.leaf_params(key, now, params.validity)?;
        cert.distinguished_name
            .push(DnType::CommonName, params.device_id.as_str());
        cert.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        if *rcgen::PublicKeyData::algorithm(key) == rcgen::PKCS_RSA_SHA256 {
            // TLS client authentication only signs with the device key (CertificateVerify), so
            // digitalSignature is what the handshake needs. keyEncipherment is kept for RSA keys
            // because Microsoft's own device profile (azure-iot-sdk-c certGen.sh, `usr_cert`) sets
            // it, and device TLS stacks tested against IoT Hub see that profile; an EC key cannot
            // encipher, so it never gets the bit.
            cert.key_usages.push(KeyUsagePurpose::KeyEncipherment);
        }
        let issuer = Issuer::from_params(&self.params, signer);
        Certificate::from_der(cert.signed_by(key, &issuer)?.der().to_vec())
    }

    /// Makes a key and a device certificate for it.
    pub fn issue_device_identity(
        &self,
        params: &DeviceCertParams,
        algorithm: KeyAlgorithm,
        now: OffsetDateTime,
    ) -> Result<Identity, PkiError> {
        let key = KeyPair::generate(algorithm)?;
        let certificate = self.issue_device(params, &key, now)?;
        Ok(Identity { certificate, key })
    }

    /// The key kind of a proof-of-possession certificate's own key: the CA's, except P-256 for an
    /// RSA CA (making an RSA key would take seconds for a certificate nobody keeps; only the CA's
    /// signature matters to the hub).
    pub fn verification_key_algorithm(&self) -> KeyAlgorithm {
        match self.key.algorithm() {
            KeyAlgorithm::Rsa(_) => KeyAlgorithm::EcdsaP256,
            other => other,
        }
    }

    /// Makes the proof-of-possession certificate: CN = the hub's code, signed by this CA's key.
    /// Its own key is fresh and thrown away by callers that only upload the certificate.
    pub fn issue_verification(
        &self,
        params: &VerificationCertParams,
        now: OffsetDateTime,
    ) -> Result<Identity, PkiError> {
        let key = KeyPair::generate(self.verification_key_algorithm())?;
        let mut cert = self.leaf_params(&key, now, params.validity)?;
        cert.distinguished_name
            .push(DnType::CommonName, params.code.as_str());
        let certificate = self.sign(&cert, &key)?;
        Ok(Identity { certificate, key })
    }

    /// Issues a TLS server certificate: subjectAltName from `names`, extendedKeyUsage serverAuth.
    pub fn issue_server(
        &self,
        params: &ServerCertParams,
        key: &KeyPair,
        now: OffsetDateTime,
    ) -> Result<Certificate, PkiError> {
        let first = params.names.first().ok_or(PkiError::FieldEmpty {
            field: Field::ServerName,
        })?;
        let mut cert = self.leaf_params(key, now, params.validity)?;
        cert.distinguished_name
            .push(DnType::CommonName, first.as_str());
        cert.subject_alt_names = params
            .names
            .iter()
            .map(|n| match n.parse::<std::net::IpAddr>() {
                Ok(ip) => Ok(SanType::IpAddress(ip)),
                Err(_) => n.as_str().try_into().map(SanType::DnsName).map_err(|_| {
                    PkiError::FieldTooLong {
                        field: Field::ServerName,
                        len: n.len(),
                        max: 253,
                    }
                }),
            })
            .collect::<Result<_, _>>()?;
        cert.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        self.sign(&cert, key)
    }

    /// Whether this CA may sign something valid for `validity` from `now`: it has not expired
    /// and would outlive it. Cheap; run it before a slow key is made.
    pub fn check_validity(
        &self,
        validity: ValidityDays,
        now: OffsetDateTime,
    ) -> Result<(), PkiError> {
        let now = whole_seconds(now);
        if self.params.not_after <= now {
            return Err(PkiError::IssuerExpired {
                not_after: self.params.not_after,
            });
        }
        let not_after = now + Duration::days(i64::from(validity.days()));
        if not_after > self.params.not_after {
            return Err(PkiError::ValidityExceedsIssuer {
                not_after,
                issuer_not_after: self.params.not_after,
                max_days: (self.params.not_after - now).whole_days(),
            });
        }
        Ok(())
    }

    fn leaf_params(
        &self,
        key: &impl KeyId,
        now: OffsetDateTime,
        validity: ValidityDays,
    ) -> Result<CertificateParams, PkiError> {
        self.check_validity(validity, now)?;
        let mut cert = base_params(key, whole_seconds(now), validity)?;
        cert.is_ca = IsCa::ExplicitNoCa;

        cert.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        Ok(cert)
    }

    /// This CA's own certificate parameters with a new serial and a new validity from `now`:
    /// same subject, key and pathLen, and the CA key usages this tool issues (a renewal).
    pub(super) fn renewal_params(
        &self,
        validity: ValidityDays,
        now: OffsetDateTime,
    ) -> Result<CertificateParams, PkiError> {
        let fresh = base_params(&self.key, now, validity)?;
        let mut params = self.params.clone();
        params.not_before = fresh.not_before;
        params.not_after = fresh.not_after;
        params.serial_number = fresh.serial_number;
        // The subject key identifier stays as it was (an imported CA's may come from another
        // method), so the authority key identifier of what it signed still matches.
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
        ];
        Ok(params)
    }

    /// A CA from parameters this module made (so its subject encodes as its certificate's does).
    pub(super) fn assemble(
        certificate: Certificate,
        key: KeyPair,
        params: CertificateParams,
        issuers: Vec<Certificate>,
    ) -> Result<Self, PkiError> {
        Ok(Self {
            certificate,
            key,
            params,
            issuers,
        })
    }

    pub(super) fn sign(
        &self,
        cert: &CertificateParams,
        key: &impl rcgen::PublicKeyData,
    ) -> Result<Certificate, PkiError> {
        let issuer = Issuer::from_params(&self.params, &self.key);
        Certificate::from_der(cert.signed_by(key, &issuer)?.der().to_vec())
    }
}

/// Serial, validity, key identifiers: what every certificate here has in common.
/// A public key this module can name: its RFC 5280 method (1) key identifier.
pub(super) trait KeyId {
    fn key_id(&self) -> Vec<u8>;
}

impl KeyId for KeyPair {
    fn key_id(&self) -> Vec<u8> {
        self.key_identifier()
    }
}

fn base_params(
    key: &impl KeyId,
    now: OffsetDateTime,
    validity: ValidityDays,
) -> Result<CertificateParams, PkiError> {
    let now = whole_seconds(now);
    let mut cert = CertificateParams::default();
    cert.not_before = now - BACKDATE;
    cert.not_after = now + Duration::days(i64::from(validity.days()));
    cert.serial_number = Some(random_serial()?);
    // SKI from the key; the issuer's SKI becomes the AKI of what it signs.
    cert.key_identifier_method = KeyIdMethod::PreSpecified(key.key_id());
    cert.use_authority_key_identifier_extension = true;
    cert.distinguished_name = DistinguishedName::new();
    Ok(cert)
}

/// RFC 5280 §4.1.2.2: positive, at most 20 octets. 16 random bytes with the top bit cleared
/// (positive) and the next one set (so the DER encoding is always 16 bytes, never shortened).
fn random_serial() -> Result<SerialNumber, PkiError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|_| PkiError::Random)?;
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    Ok(SerialNumber::from_slice(&bytes))
}

fn whole_seconds(t: OffsetDateTime) -> OffsetDateTime {
    t.replace_nanosecond(0).unwrap_or(t)
}

fn subject(params: &RootCaParams) -> Result<DistinguishedName, PkiError> {
    let mut dn = DistinguishedName::new();
    let cn = params.common_name.trim();
    check_name(Field::CommonName, cn, true)?;
    let org = params.organization.trim();
    check_name(Field::Organization, org, false)?;
    let country = params.country.trim();
    if !country.is_empty() {
        if country.len() != 2 || !country.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(PkiError::CountryInvalid {
                input: country.to_owned(),
            });
        }
        let printable = country
            .to_ascii_uppercase()
            .as_str()
            .try_into()
            .map_err(|_| PkiError::CountryInvalid {
                input: country.to_owned(),
            })?;
        // X.520 requires PrintableString for countryName.
        dn.push(DnType::CountryName, DnValue::PrintableString(printable));
    }
    if !org.is_empty() {
        dn.push(DnType::OrganizationName, org);
    }
    dn.push(DnType::CommonName, cn);
    Ok(dn)
}

fn check_name(field: Field, value: &str, required: bool) -> Result<(), PkiError> {
    let len = value.chars().count();
    if required && len == 0 {
        return Err(PkiError::FieldEmpty { field });
    }
    if len > MAX_NAME_LEN {
        return Err(PkiError::FieldTooLong {
            field,
            len,
            max: MAX_NAME_LEN,
        });
    }
    Ok(())
}

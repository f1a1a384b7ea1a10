use std::fmt;

use der::{Decode, Encode};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage};
use x509_cert::name::Name;

use super::armor::pem_rfc7468_decode;
use super::der_in::{element, elements, Element};
use super::oid::{
    OID_CLIENT_AUTH, OID_COMMON_NAME, OID_EC_PUBLIC_KEY, OID_P256, OID_P384, OID_RSA_ENCRYPTION,
};
use super::PkiError;

/// A DER-encoded X.509 certificate that has been parsed once and found well-formed.
#[derive(Clone, PartialEq, Eq)]
pub struct Certificate {
    der: Vec<u8>,
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("sha1", &self.sha1_thumbprint().0)
            .finish()
    }
}

impl Certificate {
    /// Accepts DER bytes that parse as an X.509 certificate.
    pub fn from_der(der: Vec<u8>) -> Result<Self, PkiError> {
        parse(&der)?;
        Ok(Self { der })
    }

    /// DER this crate itself wrote as a certificate (a batch worker's, spliced from a template
    /// checked against the builder): kept without parsing it again, which would cost a
    /// batch's page a parse per device. Only its outer SEQUENCE is checked.
    pub(super) fn from_der_made_here(der: Vec<u8>) -> Result<Self, PkiError> {
        let whole = match der.get(..2) {
            Some([0x30, 0x82]) if der.len() >= 4 => {
                usize::from(u16::from_be_bytes([der[2], der[3]])) + 4
            }
            Some([0x30, 0x81]) if der.len() >= 3 => usize::from(der[2]) + 3,
            _ => 0,
        };
        if whole != der.len() {
            return Self::from_der(der);
        }
        Ok(Self { der })
    }

    /// Accepts one PEM `CERTIFICATE` block.
    pub fn from_pem(pem: &str) -> Result<Self, PkiError> {
        let (label, der) = pem_rfc7468_decode(pem, "CERTIFICATE")?;
        if label != "CERTIFICATE" {
            return Err(PkiError::PemInvalid {
                expected: "CERTIFICATE",
                detail: format!("found {label}"),
            });
        }
        Self::from_der(der)
    }

    /// The DER encoding (what Microsoft's scripts save as `.cer`).
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The PEM encoding, with LF line endings and a final newline.
    pub fn pem(&self) -> String {
        super::armor::pem_lf("CERTIFICATE", self.der.clone())
    }

    /// SHA-1 of the DER: what IoT Hub's CA certificate list shows.
    pub fn sha1_thumbprint(&self) -> Thumbprint {
        Thumbprint(hex_upper(&Sha1::digest(&self.der)))
    }

    /// SHA-256 of the DER: what the seed guide recommends for self-signed devices.
    pub fn sha256_thumbprint(&self) -> Thumbprint {
        Thumbprint(hex_upper(&Sha256::digest(&self.der)))
    }

    /// What the certificate says, readably.
    pub fn info(&self) -> Result<CertificateInfo, PkiError> {
        CertificateInfo::from_certificate(self)
    }
}

/// A certificate thumbprint as IoT Hub takes it: uppercase hex, no separators.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Thumbprint(String);

impl Thumbprint {
    /// The hex string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Thumbprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The fields of a certificate a person needs to check it, as `openssl x509 -text` would show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateInfo {
    /// Subject distinguished name, RFC 4514 order as OpenSSL prints it (`CN=…, O=…, C=…`).
    pub subject: String,
    /// Issuer distinguished name.
    pub issuer: String,
    /// Subject common name, if any.
    pub common_name: Option<String>,
    /// Serial number as uppercase hex.
    pub serial: String,
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity.
    pub not_after: OffsetDateTime,
    /// Key type and size, e.g. "ECDSA P-256".
    pub key_type: String,
    /// basicConstraints CA flag.
    pub is_ca: bool,
    /// basicConstraints pathLenConstraint: how many CAs may follow below it.
    pub path_len: Option<u8>,
    /// keyUsage allows keyCertSign (or there is no keyUsage, which allows everything).
    pub can_sign_certificates: bool,
    /// extendedKeyUsage includes clientAuth.
    pub client_auth: bool,
    /// SHA-1 thumbprint.
    pub sha1: Thumbprint,
    /// SHA-256 thumbprint.
    pub sha256: Thumbprint,
    /// The DER SubjectPublicKeyInfo, to match a private key against.
    pub subject_public_key_info: Vec<u8>,
    /// Every extension, decoded as `openssl x509 -text` names and shows it.
    pub extensions: Vec<ExtensionInfo>,
}

/// One certificate extension, readably.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionInfo {
    /// Its name ("Key Usage"), or its OID when unknown.
    pub name: String,
    /// Whether a verifier that does not understand it must refuse the certificate.
    pub critical: bool,
    /// Its value ("Digital Signature, Certificate Sign").
    pub value: String,
}

impl CertificateInfo {
    fn from_certificate(cert: &Certificate) -> Result<Self, PkiError> {
        let parsed = parse(cert.der())?;
        let tbs = parsed.tbs_certificate();
        let invalid = |e: der::Error| PkiError::CertificateInvalid {
            detail: e.to_string(),
        };
        let validity = tbs.validity();
        let not_before = to_offset(validity.not_before.to_unix_duration())?;
        let not_after = to_offset(validity.not_after.to_unix_duration())?;
        let basic = tbs.get_extension::<BasicConstraints>().map_err(invalid)?;
        let usage = tbs.get_extension::<KeyUsage>().map_err(invalid)?;
        let eku = tbs.get_extension::<ExtendedKeyUsage>().map_err(invalid)?;
        let spki = tbs.subject_public_key_info();
        Ok(Self {
            subject: display_name(tbs.subject()),
            issuer: display_name(tbs.issuer()),
            common_name: common_name(tbs.subject()),
            serial: serial_hex(tbs.serial_number().as_bytes()),
            not_before,
            not_after,
            key_type: describe_key(spki),
            is_ca: basic.as_ref().is_some_and(|(_, bc)| bc.ca),
            path_len: basic.and_then(|(_, bc)| bc.path_len_constraint),
            // RFC 5280 §4.2.1.3: without keyUsage, the key may be used for anything.
            can_sign_certificates: usage.is_none_or(|(_, ku)| ku.key_cert_sign()),
            client_auth: eku.is_some_and(|(_, eku)| eku.0.contains(&OID_CLIENT_AUTH)),
            sha1: cert.sha1_thumbprint(),
            sha256: cert.sha256_thumbprint(),
            subject_public_key_info: spki.to_der().map_err(invalid)?,
            extensions: tbs
                .extensions()
                .map(|exts| exts.iter().map(describe_extension).collect())
                .unwrap_or_default(),
        })
    }

    /// Whole days from `now` until expiry; negative once expired.
    pub fn days_left(&self, now: OffsetDateTime) -> i64 {
        (self.not_after - now).whole_days()
    }
}

fn colon_hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            s.push(':');
        }
        push_hex(&mut s, *b);
    }
    s
}

/// `b` as two uppercase hex digits (a table, not the formatter: a batch's cards format
/// thousands of thumbprints).
fn push_hex(s: &mut String, b: u8) {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    s.push(char::from(DIGITS[usize::from(b >> 4)]));
    s.push(char::from(DIGITS[usize::from(b & 0xf)]));
}

/// One GeneralName (RFC 5280 §4.2.1.6) as OpenSSL prints it, read from its element: the kinds
/// certificates carry by name, the rest as "other name". (Walked by hand: x509-cert's decoder for
/// every kind of GeneralName was 21 KB of each module that shows a certificate.)
fn general_name(n: &Element<'_>) -> Option<String> {
    let text = || std::str::from_utf8(n.value).ok().filter(|t| t.is_ascii());
    Some(match n.tag {
        0x81 => format!("email:{}", text()?),
        0x82 => format!("DNS:{}", text()?),
        0x86 => format!("URI:{}", text()?),
        0x87 => match n.value {
            [a, b, c, d] => format!("IP Address:{a}.{b}.{c}.{d}"),
            // OpenSSL's form: eight groups, uncompressed.
            b if b.len() == 16 => format!(
                "IP Address:{}",
                b.chunks(2)
                    .map(|g| format!("{:X}", u16::from_be_bytes([g[0], g[1]])))
                    .collect::<Vec<_>>()
                    .join(":")
            ),
            b => format!("IP Address:{}", colon_hex(b)),
        },
        // [4] EXPLICIT Name.
        0xa4 => format!("DirName:{}", display_name(&Name::from_der(n.value).ok()?)),
        // otherName, x400Address, ediPartyName, registeredID.
        0xa0 | 0xa3 | 0xa5 | 0x88 => "other name".into(),
        _ => return None,
    })
}

/// The elements of the SEQUENCE that is all of `bytes`; `None` when it is not one.
fn sequence(bytes: &[u8]) -> Option<impl Iterator<Item = Result<Element<'_>, String>>> {
    let (seq, rest) = element(bytes).ok()?;
    (seq.tag == 0x30 && rest.is_empty()).then(|| elements(seq.value))
}

/// subjectAltName's value: each name, as OpenSSL prints them.
fn describe_alt_names(bytes: &[u8]) -> Option<String> {
    let names = sequence(bytes)?
        .map(|n| general_name(&n.ok()?))
        .collect::<Option<Vec<_>>>()?;
    Some(names.join(", "))
}

/// authorityKeyIdentifier's value: its key identifier, or that it names the issuer instead.
fn describe_authority_key(bytes: &[u8]) -> Option<String> {
    let mut key = None;
    for field in sequence(bytes)? {
        let field = field.ok()?;
        match field.tag {
            0x80 => key = Some(colon_hex(field.value)),
            // authorityCertIssuer, authorityCertSerialNumber.
            0xa1 | 0x82 => {}
            _ => return None,
        }
    }
    Some(key.unwrap_or_else(|| "(by issuer name and serial)".into()))
}

/// Decodes one extension the way `openssl x509 -text` shows it.
pub(super) fn describe_extension(ext: &x509_cert::ext::Extension) -> ExtensionInfo {
    use x509_cert::ext::pkix::{KeyUsages, SubjectKeyIdentifier};
    let bytes = ext.extn_value.as_bytes();
    let oid = ext.extn_id.to_string();
    let (name, value): (&str, Option<String>) = match oid.as_str() {
        "2.5.29.19" => (
            "Basic Constraints",
            BasicConstraints::from_der(bytes).ok().map(|bc| {
                match (bc.ca, bc.path_len_constraint) {
                    (true, Some(n)) => format!("CA:TRUE, pathlen:{n}"),
                    (true, None) => "CA:TRUE".into(),
                    (false, _) => "CA:FALSE".into(),
                }
            }),
        ),
        "2.5.29.15" => (
            "Key Usage",
            KeyUsage::from_der(bytes).ok().map(|ku| {
                [
                    (KeyUsages::DigitalSignature, "Digital Signature"),
                    (KeyUsages::NonRepudiation, "Non Repudiation"),
                    (KeyUsages::KeyEncipherment, "Key Encipherment"),
                    (KeyUsages::DataEncipherment, "Data Encipherment"),
                    (KeyUsages::KeyAgreement, "Key Agreement"),
                    (KeyUsages::KeyCertSign, "Certificate Sign"),
                    (KeyUsages::CRLSign, "CRL Sign"),
                    (KeyUsages::EncipherOnly, "Encipher Only"),
                    (KeyUsages::DecipherOnly, "Decipher Only"),
                ]
                .iter()
                .filter(|(flag, _)| ku.0.contains(*flag))
                .map(|(_, n)| *n)
                .collect::<Vec<_>>()
                .join(", ")
            }),
        ),
        "2.5.29.37" => (
            "Extended Key Usage",
            ExtendedKeyUsage::from_der(bytes).ok().map(|eku| {
                eku.0
                    .iter()
                    .map(|o| match o.to_string().as_str() {
                        "1.3.6.1.5.5.7.3.1" => "TLS Web Server Authentication".to_owned(),
                        "1.3.6.1.5.5.7.3.2" => "TLS Web Client Authentication".to_owned(),
                        "1.3.6.1.5.5.7.3.3" => "Code Signing".to_owned(),
                        "1.3.6.1.5.5.7.3.4" => "E-mail Protection".to_owned(),
                        "1.3.6.1.5.5.7.3.8" => "Time Stamping".to_owned(),
                        "1.3.6.1.5.5.7.3.9" => "OCSP Signing".to_owned(),
                        other => other.to_owned(),
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            }),
        ),
        "2.5.29.14" => (
            "Subject Key Identifier",
            SubjectKeyIdentifier::from_der(bytes)
                .ok()
                .map(|ski| colon_hex(ski.0.as_bytes())),
        ),
        "2.5.29.35" => ("Authority Key Identifier", describe_authority_key(bytes)),
        "2.5.29.17" => ("Subject Alternative Name", describe_alt_names(bytes)),
        "2.5.29.31" => ("CRL Distribution Points", None),
        "1.3.6.1.5.5.7.1.1" => ("Authority Information Access", None),
        "2.5.29.32" => ("Certificate Policies", None),
        _ => ("", None),
    };
    let name = if name.is_empty() {
        oid.clone()
    } else {
        name.to_owned()
    };
    let value = value.unwrap_or_else(|| format!("{} bytes", bytes.len()));
    ExtensionInfo {
        name,
        critical: ext.critical,
        value,
    }
}

pub(super) fn parse(der: &[u8]) -> Result<x509_cert::Certificate, PkiError> {
    if der.is_empty() {
        return Err(PkiError::CertificateInvalid {
            detail: "no bytes".into(),
        });
    }
    x509_cert::Certificate::from_der(der).map_err(|e| PkiError::CertificateInvalid {
        detail: e.to_string(),
    })
}

fn to_offset(since_epoch: std::time::Duration) -> Result<OffsetDateTime, PkiError> {
    let secs = i64::try_from(since_epoch.as_secs()).unwrap_or(i64::MAX);
    OffsetDateTime::from_unix_timestamp(secs).map_err(|e| PkiError::CertificateInvalid {
        detail: e.to_string(),
    })
}

/// OpenSSL's order: most significant RDN first, as in the `-subj` flag the seed uses.
pub(super) fn display_name(name: &Name) -> String {
    super::dn::openssl_order(name)
}

pub(super) fn common_name(name: &Name) -> Option<String> {
    name.as_ref()
        .iter()
        .flat_map(|rdn| rdn.as_ref().iter())
        .find(|atv| atv.oid == OID_COMMON_NAME)
        .and_then(|atv| directory_string(&atv.value))
}

fn directory_string(value: &der::Any) -> Option<String> {
    use der::asn1::{Ia5StringRef, PrintableStringRef, Utf8StringRef};
    value
        .decode_as::<Utf8StringRef<'_>>()
        .map(|s| s.as_str().to_owned())
        .or_else(|_| {
            value
                .decode_as::<PrintableStringRef<'_>>()
                .map(|s| s.as_str().to_owned())
        })
        .or_else(|_| {
            value
                .decode_as::<Ia5StringRef<'_>>()
                .map(|s| s.as_str().to_owned())
        })
        .ok()
}

fn describe_key(spki: &x509_cert::spki::SubjectPublicKeyInfoOwned) -> String {
    let alg = &spki.algorithm;
    if alg.oid == OID_EC_PUBLIC_KEY {
        let curve = alg
            .parameters
            .as_ref()
            .and_then(|p| p.decode_as::<der::oid::ObjectIdentifier>().ok());
        match curve {
            Some(c) if c == OID_P256 => "ECDSA P-256".into(),
            Some(c) if c == OID_P384 => "ECDSA P-384".into(),
            Some(c) => format!("ECDSA (curve {c})"),
            None => "ECDSA (unnamed curve)".into(),
        }
    } else if alg.oid == OID_RSA_ENCRYPTION {
        match rsa_modulus_bits(spki.subject_public_key.raw_bytes()) {
            Some(bits) => format!("RSA {bits}"),
            None => "RSA".into(),
        }
    } else {
        format!("unknown ({})", alg.oid)
    }
}

/// RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }
pub(super) fn rsa_modulus_bits(public_key: &[u8]) -> Option<usize> {
    #[derive(der::Sequence)]
    struct RsaPublicKey<'a> {
        modulus: der::asn1::UintRef<'a>,
        _exponent: der::asn1::UintRef<'a>,
    }
    let key = RsaPublicKey::from_der(public_key).ok()?;
    let bytes = key.modulus.as_bytes();
    let first = *bytes.first()?;
    Some(bytes.len() * 8 - first.leading_zeros() as usize)
}

/// A serial's INTEGER content as OpenSSL shows it: uppercase hex without the zero byte DER puts
/// before a first byte whose top bit is set (the sign, not part of the number).
pub(super) fn serial_hex(content: &[u8]) -> String {
    match content {
        [0, next, ..] if *next >= 0x80 => hex_upper(&content[1..]),
        _ => hex_upper(content),
    }
}

pub(super) fn hex_upper(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    bytes.iter().for_each(|b| push_hex(&mut s, *b));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `tag`, a short length and `value`.
    fn tlv(tag: u8, value: &[u8]) -> Vec<u8> {
        let mut out = vec![tag, u8::try_from(value.len()).unwrap()];
        out.extend_from_slice(value);
        out
    }

    #[test]
    fn alternative_names_of_every_kind_read_as_openssl_prints_them() {
        let name = Name::from_der(&[
            0x30, 0x0f, 0x31, 0x0d, 0x30, 0x0b, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x04, b'g',
            b'a', b't', b'e',
        ])
        .unwrap()
        .to_der()
        .unwrap();
        let names = [
            tlv(0x82, b"gw.example"),
            tlv(0x81, b"ops@example.com"),
            tlv(0x86, b"https://example.com/x"),
            tlv(0x87, &[10, 0, 0, 7]),
            tlv(
                0x87,
                &[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
            ),
            tlv(0x87, &[1, 2]),
            tlv(0xa4, &name),
            tlv(0xa0, &[0x06, 0x01, 0x2a, 0xa0, 0x02, 0x05, 0x00]),
            tlv(0x88, &[0x2a]),
        ]
        .concat();
        assert_eq!(
            describe_alt_names(&tlv(0x30, &names)).as_deref(),
            Some(
                "DNS:gw.example, email:ops@example.com, URI:https://example.com/x, \
                 IP Address:10.0.0.7, IP Address:FE80:0:0:0:0:0:0:1, IP Address:01:02, \
                 DirName:CN=gate, other name, other name"
            )
        );
        // Not a SEQUENCE, bytes after it, a kind no certificate has, text that is not ASCII,
        // a name that does not read, cut short: not read (the extension shows its size).
        for bad in [
            tlv(0x31, &tlv(0x82, b"a")),
            [tlv(0x30, &tlv(0x82, b"a")), vec![0]].concat(),
            tlv(0x30, &tlv(0x8a, b"a")),
            tlv(0x30, &tlv(0x82, "é".as_bytes())),
            tlv(0x30, &tlv(0xa4, &[0x30, 0x01])),
            tlv(0x30, &tlv(0x82, b"abc"))[..5].to_vec(),
        ] {
            assert_eq!(describe_alt_names(&bad), None, "{bad:02x?}");
        }
    }

    #[test]
    fn an_authority_key_reads_as_its_identifier_or_says_it_names_the_issuer() {
        let key_id = tlv(0x80, &[0xab, 0x01]);
        let by_issuer = [tlv(0xa1, &[]), tlv(0x82, &[1])].concat();
        assert_eq!(
            describe_authority_key(&tlv(0x30, &key_id)).as_deref(),
            Some("AB:01")
        );
        assert_eq!(
            describe_authority_key(&tlv(0x30, &[key_id.clone(), by_issuer.clone()].concat()))
                .as_deref(),
            Some("AB:01")
        );
        assert_eq!(
            describe_authority_key(&tlv(0x30, &by_issuer)).as_deref(),
            Some("(by issuer name and serial)")
        );
        assert_eq!(describe_authority_key(&tlv(0x30, &tlv(0x04, &[1]))), None);
        assert_eq!(describe_authority_key(&key_id), None);
    }
}

//! IoT Hub pre-flight checks: what the hub will refuse, found before uploading or connecting,
//! each as a plain-language line.

use der::Encode;
use time::OffsetDateTime;

use super::certificate::parse;
use super::dates::format_utc;
use super::error::Unsupported;
use super::signature;
use super::{Certificate, PkiError};
use crate::contract::DeviceId;

/// One check and its outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// What was checked, e.g. "CN equals the device id".
    pub label: &'static str,
    /// Whether IoT Hub will be satisfied.
    pub passed: bool,
    /// What was found, and the fix when it failed.
    pub detail: String,
}

fn check(label: &'static str, passed: bool, detail: impl Into<String>) -> Check {
    Check {
        label,
        passed,
        detail: detail.into(),
    }
}

/// Whether `cert`'s signature verifies with `issuer`'s public key (ECDSA P-256/P-384 with
/// SHA-256/384, RSA PKCS#1 v1.5 with SHA-256/384/512). `Err` when the algorithms are not ones this tool checks.
pub fn is_signed_by(cert: &Certificate, issuer: &Certificate) -> Result<bool, PkiError> {
    let c = parse(cert.der())?;
    let i = parse(issuer.der())?;
    let tbs = c
        .tbs_certificate()
        .to_der()
        .map_err(|e| PkiError::CertificateInvalid {
            detail: e.to_string(),
        })?;
    let algorithm = &c.signature_algorithm().oid;
    if signature::supported(algorithm).is_err() {
        return Err(PkiError::UnsupportedKey {
            kind: Unsupported::SignatureAlgorithm { oid: *algorithm },
        });
    }
    let spki = i.tbs_certificate().subject_public_key_info();
    let kind = signature::KeyKind::of(spki).map_err(|_| PkiError::UnsupportedKey {
        kind: Unsupported::IssuerKey,
    })?;
    Ok(signature::verify(
        kind,
        spki.subject_public_key.raw_bytes(),
        algorithm,
        &tbs,
        c.signature().raw_bytes(),
    )
    // Both algorithms are supported here; a key that is not a point verifies nothing.
    .unwrap_or(false))
}

fn validity_checks(cert: &Certificate, now: OffsetDateTime, what: &str) -> Result<Check, PkiError> {
    let info = cert.info()?;
    Ok(if now < info.not_before {
        check(
            "Valid now",
            false,
            format!(
                "The {what} is not valid until {}: check this computer's clock, or re-issue it.",
                format_utc(info.not_before)
            ),
        )
    } else if now >= info.not_after {
        check(
            "Valid now",
            false,
            format!(
                "The {what} expired on {}: issue a new one.",
                format_utc(info.not_after)
            ),
        )
    } else {
        check(
            "Valid now",
            true,
            format!("{} days left", info.days_left(now)),
        )
    })
}

fn signed_by_check(cert: &Certificate, ca: &Certificate, refusal: &str) -> Check {
    match is_signed_by(cert, ca) {
        Ok(true) => check(
            "Signed by the CA",
            true,
            "Its signature verifies with the CA's key.",
        ),
        Ok(false) => check("Signed by the CA", false, refusal.to_owned()),
        Err(e) => check("Signed by the CA", false, e.to_string()),
    }
}

/// A CA before upload: CA:TRUE, keyCertSign, valid now (and not about to expire).
pub fn ca_checks(ca: &Certificate, now: OffsetDateTime) -> Result<Vec<Check>, PkiError> {
    let info = ca.info()?;
    let mut checks = vec![
        check(
            "A CA certificate",
            info.is_ca,
            if info.is_ca {
                "basicConstraints CA:TRUE".to_owned()
            } else {
                "basicConstraints CA:TRUE is missing: IoT Hub accepts it, but devices it signs will not chain. Use a CA certificate.".to_owned()
            },
        ),
        check(
            "May sign certificates",
            info.can_sign_certificates,
            if info.can_sign_certificates {
                "keyUsage keyCertSign".to_owned()
            } else {
                "keyUsage keyCertSign is missing: certificates it signs will be rejected."
                    .to_owned()
            },
        ),
        validity_checks(ca, now, "CA")?,
    ];
    let days = info.days_left(now);
    if (0..super::EXPIRY_WARNING_DAYS).contains(&days) {
        checks.push(check(
            "Not about to expire",
            false,
            format!("It expires in {days} days: plan a new CA and re-issue device certificates."),
        ));
    }
    Ok(checks)
}

/// A device certificate before registering `device_id` CA-signed under `ca`.
pub fn device_checks(
    device: &Certificate,
    device_id: &str,
    ca: &Certificate,
    now: OffsetDateTime,
) -> Result<Vec<Check>, PkiError> {
    let info = device.info()?;
    let ca_info = ca.info()?;
    let cn = info.common_name.clone().unwrap_or_default();
    let id_ok = DeviceId::parse(device_id);
    Ok(vec![
        match (&id_ok, cn == device_id.trim()) {
            (Err(e), _) => check("CN equals the device id", false, e.to_string()),
            (Ok(_), true) => check("CN equals the device id", true, format!("CN={cn}")),
            (Ok(_), false) => check(
                "CN equals the device id",
                false,
                format!("The CN is \"{cn}\" but the device id is \"{}\": IoT Hub refuses the connection (CONNACK 5). Issue a certificate with CN = the id.", device_id.trim()),
            ),
        },
        check(
            "CN fits X.509 (64 characters)",
            cn.chars().count() <= 64,
            format!("{} characters", cn.chars().count()),
        ),
        check(
            "Client authentication allowed",
            info.client_auth,
            if info.client_auth {
                "extendedKeyUsage clientAuth".to_owned()
            } else {
                "extendedKeyUsage clientAuth is missing: TLS stacks and the hub may refuse it as a client certificate.".to_owned()
            },
        ),
        check(
            "Not a CA",
            !info.is_ca,
            if info.is_ca { "It is a CA certificate: use a device (leaf) certificate." } else { "basicConstraints CA:FALSE" },
        ),
        signed_by_check(
            device,
            ca,
            "It was not signed by this CA: the hub will not chain it to the uploaded CA. Issue it with this CA, or upload the CA that signed it (an intermediate must be uploaded or sent by the device).",
        ),
        check(
            "Does not outlive its CA",
            info.not_after <= ca_info.not_after,
            if info.not_after <= ca_info.not_after {
                format!("expires {}, CA {}", format_utc(info.not_after), format_utc(ca_info.not_after))
            } else {
                format!("It expires {} but the CA on {}: it stops working when the CA expires.", format_utc(info.not_after), format_utc(ca_info.not_after))
            },
        ),
        validity_checks(device, now, "device certificate")?,
    ])
}

/// A verification certificate before `verify`: CN = the current code, signed by the uploaded CA.
pub fn verification_checks(
    verification: &Certificate,
    code: &str,
    ca: &Certificate,
    now: OffsetDateTime,
) -> Result<Vec<Check>, PkiError> {
    let info = verification.info()?;
    let cn = info.common_name.unwrap_or_default();
    let code = code.trim();
    Ok(vec![
        check(
            "CN equals the verification code",
            !code.is_empty() && cn == code,
            if cn == code {
                format!("CN={cn}")
            } else {
                format!("The CN is \"{cn}\" but the hub's code is \"{code}\" (IH400054): make it again with the current code; generating a code replaces the previous one.")
            },
        ),
        signed_by_check(
            verification,
            ca,
            "It was not signed by the uploaded CA's key (IH400053): make it with the same CA.",
        ),
        validity_checks(verification, now, "verification certificate")?,
    ])
}

/// A chain as pasted (leaf first, each certificate followed by its issuer): every link verifies,
/// every issuer is a CA that may sign and whose pathLen allows the CAs below it, every
/// certificate is valid now, and where the chain ends.
pub fn chain_checks(chain: &[Certificate], now: OffsetDateTime) -> Result<Vec<Check>, PkiError> {
    let infos = chain
        .iter()
        .map(Certificate::info)
        .collect::<Result<Vec<_>, _>>()?;
    let name = |i: usize| {
        infos[i]
            .common_name
            .clone()
            .unwrap_or_else(|| infos[i].subject.clone())
    };
    let mut checks = Vec::new();
    for i in 0..chain.len().saturating_sub(1) {
        let (child, parent) = (&infos[i], &infos[i + 1]);
        let link = format!("\"{}\" → \"{}\"", name(i), name(i + 1));
        checks.push(if child.issuer != parent.subject {
            check(
                "Each certificate is followed by its issuer",
                false,
                format!("{link}: its issuer is {}, not {}. Put the certificates in order: device, intermediates, root.", child.issuer, parent.subject),
            )
        } else {
            match is_signed_by(&chain[i], &chain[i + 1]) {
                Ok(true) => check("Each certificate is followed by its issuer", true, format!("{link}: signature verifies")),
                Ok(false) => check("Each certificate is followed by its issuer", false, format!("{link}: the names match but the signature does not verify: this issuer has another key (a re-made CA with the same name?).")),
                Err(e) => check("Each certificate is followed by its issuer", false, format!("{link}: {e}")),
            }
        });
        // CAs between this issuer and the leaf, which its pathLen must allow.
        let below = i;
        checks.push(check(
            "Issuers are CAs that may sign",
            parent.is_ca
                && parent.can_sign_certificates
                && parent.path_len.is_none_or(|n| usize::from(n) >= below),
            if !parent.is_ca {
                format!(
                    "\"{}\" is not a CA (basicConstraints CA:TRUE missing).",
                    name(i + 1)
                )
            } else if !parent.can_sign_certificates {
                format!("\"{}\" lacks keyUsage keyCertSign.", name(i + 1))
            } else if parent.path_len.is_some_and(|n| usize::from(n) < below) {
                format!(
                    "\"{}\" has pathLen {} but {below} CA(s) below it.",
                    name(i + 1),
                    parent.path_len.unwrap_or(0)
                )
            } else {
                format!(
                    "\"{}\": CA, keyCertSign{}",
                    name(i + 1),
                    parent
                        .path_len
                        .map(|n| format!(", pathLen {n}"))
                        .unwrap_or_default()
                )
            },
        ));
    }
    for (i, cert) in chain.iter().enumerate() {
        let mut c = validity_checks(cert, now, "certificate")?;
        c.detail = format!("\"{}\": {}", name(i), c.detail);
        checks.push(c);
    }
    if let Some(last) = infos.last() {
        let self_signed = last.subject == last.issuer
            && is_signed_by(&chain[chain.len() - 1], &chain[chain.len() - 1]).unwrap_or(false);
        checks.push(check(
            "Ends at a root",
            self_signed,
            if self_signed {
                format!("\"{}\" is a self-signed root", name(infos.len() - 1))
            } else {
                format!("It ends at \"{}\", issued by {}: add that CA to check the whole path. (IoT Hub only needs the uploaded CA; devices send the intermediates.)", name(infos.len() - 1), last.issuer)
            },
        ));
    }
    Ok(checks)
}

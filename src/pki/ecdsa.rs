//! The ECDSA keys this tool checks signatures with: which curve a public key is on, and whether a
//! signature verifies. Shared by CSR reading and the pre-flight checks.

use der::oid::ObjectIdentifier;
use p256::ecdsa::signature::hazmat::PrehashVerifier;
use sha2::{Digest, Sha256, Sha384};
use x509_cert::spki::SubjectPublicKeyInfoOwned;

use super::certificate::{OID_EC_PUBLIC_KEY, OID_P256, OID_P384, OID_RSA_ENCRYPTION};

const OID_ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const OID_ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");

/// A curve this tool signs and verifies with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Curve {
    P256,
    P384,
}

/// A public key this tool cannot check signatures with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum UnknownKey {
    Rsa,
    Algorithm(ObjectIdentifier),
    /// An EC key on another curve, or with no named curve.
    Curve(Option<ObjectIdentifier>),
}

/// Why a signature could not be checked at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Unverifiable {
    /// Not ECDSA with SHA-256 or SHA-384.
    SignatureAlgorithm(ObjectIdentifier),
    /// The public key is not a point on its curve.
    BadPoint(Curve),
}

impl Curve {
    /// The curve of an EC SubjectPublicKeyInfo.
    pub(super) fn of(spki: &SubjectPublicKeyInfoOwned) -> Result<Self, UnknownKey> {
        let alg = &spki.algorithm;
        if alg.oid == OID_RSA_ENCRYPTION {
            return Err(UnknownKey::Rsa);
        }
        if alg.oid != OID_EC_PUBLIC_KEY {
            return Err(UnknownKey::Algorithm(alg.oid));
        }
        match alg
            .parameters
            .as_ref()
            .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
        {
            Some(c) if c == OID_P256 => Ok(Self::P256),
            Some(c) if c == OID_P384 => Ok(Self::P384),
            other => Err(UnknownKey::Curve(other)),
        }
    }

    /// The curve's name.
    pub(super) fn name(self) -> &'static str {
        match self {
            Self::P256 => "P-256",
            Self::P384 => "P-384",
        }
    }

    /// How the key type is shown.
    pub(super) fn label(self) -> &'static str {
        match self {
            Self::P256 => "ECDSA P-256",
            Self::P384 => "ECDSA P-384",
        }
    }
}

/// Whether `algorithm` is one [`verify`] checks: ECDSA with SHA-256 or SHA-384.
pub(super) fn supported(algorithm: &ObjectIdentifier) -> Result<(), Unverifiable> {
    if *algorithm == OID_ECDSA_SHA256 || *algorithm == OID_ECDSA_SHA384 {
        Ok(())
    } else {
        Err(Unverifiable::SignatureAlgorithm(*algorithm))
    }
}

/// Whether `sig` (DER) by the key `point` on `curve` signs `signed` under `algorithm`
/// (ecdsa-with-SHA256 or -SHA384, either curve). A malformed signature is `Ok(false)`.
pub(super) fn verify(
    curve: Curve,
    point: &[u8],
    algorithm: &ObjectIdentifier,
    signed: &[u8],
    sig: &[u8],
) -> Result<bool, Unverifiable> {
    let digest = match *algorithm {
        o if o == OID_ECDSA_SHA256 => Sha256::digest(signed).to_vec(),
        o if o == OID_ECDSA_SHA384 => Sha384::digest(signed).to_vec(),
        o => return Err(Unverifiable::SignatureAlgorithm(o)),
    };
    Ok(match curve {
        Curve::P256 => {
            let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(point)
                .map_err(|_| Unverifiable::BadPoint(curve))?;
            p256::ecdsa::Signature::from_der(sig)
                .is_ok_and(|s| vk.verify_prehash(&digest, &s).is_ok())
        }
        Curve::P384 => {
            let vk = p384::ecdsa::VerifyingKey::from_sec1_bytes(point)
                .map_err(|_| Unverifiable::BadPoint(curve))?;
            p384::ecdsa::Signature::from_der(sig)
                .is_ok_and(|s| vk.verify_prehash(&digest, &s).is_ok())
        }
    })
}

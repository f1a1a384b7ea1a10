//! The public keys this tool checks signatures with (ECDSA P-256/P-384, RSA PKCS#1 v1.5): what
//! kind a public key is, and whether a signature verifies. Shared by CSR reading and the
//! pre-flight checks.

use der::oid::ObjectIdentifier;
use p256::ecdsa::signature::hazmat::PrehashVerifier;
#[cfg(feature = "rsa")]
use rsa::signature::Verifier;
#[cfg(feature = "rsa")]
use sha2::Sha512;
use sha2::{Digest, Sha256, Sha384};
use x509_cert::spki::SubjectPublicKeyInfoOwned;

use super::authority::KeyId;
use super::error::Unsupported;
use super::key::RSA_MIN_BITS;
use super::oid::{
    OID_ECDSA_SHA256, OID_ECDSA_SHA384, OID_EC_PUBLIC_KEY, OID_P256, OID_P384, OID_RSA_ENCRYPTION,
    OID_RSA_SHA256, OID_RSA_SHA384, OID_RSA_SHA512,
};
use super::PkiError;

/// A kind of public key this tool signs and verifies with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum KeyKind {
    P256,
    P384,
    /// RSA with a modulus of this many bits.
    Rsa(u16),
}

/// A public key this tool cannot check signatures with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum UnknownKey {
    Algorithm(ObjectIdentifier),
    /// An EC key on another curve, or with no named curve.
    Curve(Option<ObjectIdentifier>),
    /// An RSA key that does not parse, or outside 2048..=8192 bits.
    Rsa(Option<usize>),
}

/// Why a signature could not be checked at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Unverifiable {
    /// Not ECDSA with SHA-256/384 nor RSA PKCS#1 v1.5 with SHA-256/384/512.
    SignatureAlgorithm(ObjectIdentifier),
    /// The public key is not valid for its kind.
    BadKey(KeyKind),
}

impl KeyKind {
    /// The kind of a SubjectPublicKeyInfo.
    pub(super) fn of(spki: &SubjectPublicKeyInfoOwned) -> Result<Self, UnknownKey> {
        let alg = &spki.algorithm;
        if alg.oid == OID_RSA_ENCRYPTION {
            #[cfg(feature = "rsa")]
            let bits = {
                use rsa::pkcs1::DecodeRsaPublicKey;
                use rsa::traits::PublicKeyParts;
                let key = rsa::RsaPublicKey::from_pkcs1_der(spki.subject_public_key.raw_bytes())
                    .map_err(|_| UnknownKey::Rsa(None))?;
                key.n().bits() as usize
            };
            // Without RSA (the page's first module): the modulus read as DER.
            #[cfg(not(feature = "rsa"))]
            let bits = super::certificate::rsa_modulus_bits(spki.subject_public_key.raw_bytes())
                .ok_or(UnknownKey::Rsa(None))?;
            return match u16::try_from(bits) {
                Ok(b) if bits >= RSA_MIN_BITS => Ok(Self::Rsa(b)),
                _ => Err(UnknownKey::Rsa(Some(bits))),
            };
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

    /// How the key type is shown.
    pub(super) fn label(self) -> String {
        match self {
            Self::P256 => "ECDSA P-256".into(),
            Self::P384 => "ECDSA P-384".into(),
            Self::Rsa(bits) => format!("RSA {bits}"),
        }
    }

    /// The algorithm rcgen names this key with in a certificate's SubjectPublicKeyInfo.
    pub(super) fn rcgen_algorithm(self) -> &'static rcgen::SignatureAlgorithm {
        match self {
            Self::P256 => &rcgen::PKCS_ECDSA_P256_SHA256,
            Self::P384 => &rcgen::PKCS_ECDSA_P384_SHA384,
            Self::Rsa(_) => &rcgen::PKCS_RSA_SHA256,
        }
    }
}

/// A public key held elsewhere (in a CSR, or in a certificate being renewed), usable by rcgen as
/// the subject key of what is issued.
#[derive(Debug, Clone)]
pub(super) struct PublicKey {
    pub(super) kind: KeyKind,
    /// The subjectPublicKey bits (an EC point, or an RSAPublicKey).
    pub(super) point: Vec<u8>,
}

impl PublicKey {
    /// The key of a SubjectPublicKeyInfo, refused by name when this tool cannot sign for it.
    pub(super) fn of(spki: &SubjectPublicKeyInfoOwned) -> Result<Self, PkiError> {
        let kind = KeyKind::of(spki).map_err(|unknown| match unknown {
            UnknownKey::Rsa(Some(bits)) if bits < RSA_MIN_BITS => PkiError::KeyTooSmall {
                bits,
                min: RSA_MIN_BITS,
            },
            UnknownKey::Rsa(bits) => PkiError::UnsupportedKey {
                kind: Unsupported::RsaSize { bits },
            },
            UnknownKey::Algorithm(oid) => PkiError::UnsupportedKey {
                kind: Unsupported::Algorithm { oid },
            },
            UnknownKey::Curve(oid) => PkiError::UnsupportedKey {
                kind: Unsupported::Curve { oid },
            },
        })?;
        Ok(Self {
            kind,
            point: spki.subject_public_key.raw_bytes().to_vec(),
        })
    }
}

impl rcgen::PublicKeyData for PublicKey {
    fn der_bytes(&self) -> &[u8] {
        &self.point
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        self.kind.rcgen_algorithm()
    }
}

impl KeyId for PublicKey {
    fn key_id(&self) -> Vec<u8> {
        use sha1::Sha1;
        Sha1::digest(&self.point).to_vec()
    }
}

/// Whether `algorithm` is one [`verify`] checks: ECDSA with SHA-256/384, or RSA PKCS#1 v1.5 with
/// SHA-256/384/512.
pub(super) fn supported(algorithm: &ObjectIdentifier) -> Result<(), Unverifiable> {
    if [
        OID_ECDSA_SHA256,
        OID_ECDSA_SHA384,
        OID_RSA_SHA256,
        OID_RSA_SHA384,
        OID_RSA_SHA512,
    ]
    .contains(algorithm)
    {
        Ok(())
    } else {
        Err(Unverifiable::SignatureAlgorithm(*algorithm))
    }
}

/// Whether `sig` by the key `public_key` (the subjectPublicKey bits) of `kind` signs `signed`
/// under `algorithm`. A malformed signature, or an algorithm for another kind of key, is
/// `Ok(false)`.
pub(super) fn verify(
    kind: KeyKind,
    public_key: &[u8],
    algorithm: &ObjectIdentifier,
    signed: &[u8],
    sig: &[u8],
) -> Result<bool, Unverifiable> {
    supported(algorithm)?;
    let ecdsa_digest = match *algorithm {
        o if o == OID_ECDSA_SHA256 => Some(Sha256::digest(signed).to_vec()),
        o if o == OID_ECDSA_SHA384 => Some(Sha384::digest(signed).to_vec()),
        _ => None,
    };
    Ok(match (kind, ecdsa_digest) {
        (KeyKind::P256, Some(digest)) => {
            let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(public_key)
                .map_err(|_| Unverifiable::BadKey(kind))?;
            p256::ecdsa::Signature::from_der(sig)
                .is_ok_and(|s| vk.verify_prehash(&digest, &s).is_ok())
        }
        (KeyKind::P384, Some(digest)) => {
            let vk = p384::ecdsa::VerifyingKey::from_sec1_bytes(public_key)
                .map_err(|_| Unverifiable::BadKey(kind))?;
            p384::ecdsa::Signature::from_der(sig)
                .is_ok_and(|s| vk.verify_prehash(&digest, &s).is_ok())
        }
        #[cfg(not(feature = "rsa"))]
        (KeyKind::Rsa(_), None) => return Err(Unverifiable::SignatureAlgorithm(*algorithm)),
        #[cfg(feature = "rsa")]
        (KeyKind::Rsa(_), None) => {
            use rsa::pkcs1::DecodeRsaPublicKey;
            use rsa::pkcs1v15::{Signature, VerifyingKey};
            let key = rsa::RsaPublicKey::from_pkcs1_der(public_key)
                .map_err(|_| Unverifiable::BadKey(kind))?;
            let Ok(sig) = Signature::try_from(sig) else {
                return Ok(false);
            };
            match *algorithm {
                o if o == OID_RSA_SHA256 => VerifyingKey::<Sha256>::new(key)
                    .verify(signed, &sig)
                    .is_ok(),
                o if o == OID_RSA_SHA384 => VerifyingKey::<Sha384>::new(key)
                    .verify(signed, &sig)
                    .is_ok(),
                _ => VerifyingKey::<Sha512>::new(key)
                    .verify(signed, &sig)
                    .is_ok(),
            }
        }
        // An ECDSA signature from an RSA key or the other way round: not this key's.
        _ => false,
    })
}

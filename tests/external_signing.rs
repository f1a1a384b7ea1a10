//! Certificates signed outside the crate (as the batch workers do with WebCrypto): made here,
//! their to-be-signed part signed by another implementation of the CA's key, the signature put
//! in; OpenSSL 3 and webpki accept the result, and a wrong signature is caught.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::*;
use hubcert::contract::DeviceId;
use hubcert::pki::{
    ecdsa_signature_der, is_signed_by, DeviceCertParams, KeyAlgorithm, KeyPair, ValidityDays,
};
use p256::ecdsa::signature::Signer;

/// "Elsewhere": `ca`'s key through p256/p384 directly, raw r||s as WebCrypto gives it; an RSA
/// key's PKCS#1 v1.5 signature bytes as they are.
fn sign_elsewhere(ca: &hubcert::pki::CertificateAuthority, tbs: &[u8]) -> Vec<u8> {
    let pkcs8 = ca.key().to_pkcs8_der().unwrap();
    match ca.key().algorithm() {
        KeyAlgorithm::EcdsaP256 => {
            use p256::pkcs8::DecodePrivateKey;
            let k = p256::ecdsa::SigningKey::from_pkcs8_der(&pkcs8).unwrap();
            let s: p256::ecdsa::Signature = k.sign(tbs);
            s.to_bytes().to_vec()
        }
        KeyAlgorithm::Rsa(_) => rcgen::SigningKey::sign(ca.key(), tbs).unwrap(),
        _ => {
            use p384::pkcs8::DecodePrivateKey;
            let k = p384::ecdsa::SigningKey::from_pkcs8_der(&pkcs8).unwrap();
            let s: p384::ecdsa::Signature = k.sign(tbs);
            s.to_bytes().to_vec()
        }
    }
}

#[test]
fn a_device_certificate_signed_elsewhere_verifies_like_one_signed_here() {
    let dir = Scratch::new();
    for ca_key in [KeyAlgorithm::EcdsaP256, KeyAlgorithm::EcdsaP384] {
        let (root, inter) = root_and_intermediate(ca_key, "External");
        // The device key: only its public point is needed.
        let device_key = KeyPair::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let point = rcgen::PublicKeyData::der_bytes(&device_key).to_vec();
        let params = DeviceCertParams {
            device_id: DeviceId::parse("ext-dev-1").unwrap(),
            validity: ValidityDays::new(30).unwrap(),
        };
        let unsigned = inter
            .device_unsigned(&params, KeyAlgorithm::EcdsaP256, &point, now())
            .unwrap();
        // "Elsewhere": the CA's key through p256/p384 directly, raw r||s as WebCrypto gives it.
        let raw = sign_elsewhere(&inter, unsigned.to_be_signed());
        let cert = unsigned
            .signed(&ecdsa_signature_der(ca_key, &raw).unwrap())
            .unwrap();
        assert!(is_signed_by(&cert, inter.certificate()).unwrap());
        assert!(hubcert::pki::same_public_key(&cert, &device_key).unwrap());
        let info = cert.info().unwrap();
        assert_eq!(info.common_name.as_deref(), Some("ext-dev-1"));
        assert!(info.client_auth && !info.is_ca);
        let root_path = dir.write("root.pem", root.certificate().pem());
        let chain = dir.write("inter.pem", inter.certificate().pem());
        let leaf = dir.write("leaf.pem", cert.pem());
        let run = openssl_verify_chain(&root_path, &chain, &leaf);
        assert!(run.ok, "{ca_key:?}: {}{}", run.stdout, run.stderr);
        webpki_client_auth(
            root.certificate().der(),
            &[inter.certificate().der()],
            cert.der(),
        )
        .unwrap();
        // A signature over something else does not verify.
        let mut wrong = raw.clone();
        wrong[5] ^= 1;
        if let Ok(der) = ecdsa_signature_der(ca_key, &wrong) {
            let forged = unsigned.signed(&der).unwrap();
            assert!(!is_signed_by(&forged, inter.certificate()).unwrap());
        }
    }
    assert!(ecdsa_signature_der(KeyAlgorithm::EcdsaP256, &[1, 2, 3]).is_err());
}

/// The proof-of-possession certificate made for a key and a signature from elsewhere (the page's
/// WebCrypto): signed by the CA as OpenSSL checks it, CN = the code, the same kind of certificate
/// `issue_verification` makes; a point of the wrong size is refused.
#[test]
fn a_verification_certificate_signed_elsewhere_is_the_one_made_here() {
    use hubcert::contract::VerificationCode;
    use hubcert::pki::VerificationCertParams;
    let dir = Scratch::new();
    for ca_key in [
        KeyAlgorithm::EcdsaP256,
        KeyAlgorithm::EcdsaP384,
        KeyAlgorithm::RSA_2048,
    ] {
        let (root, _) = root_and_intermediate(ca_key, "Possession");
        let key = KeyPair::generate(root.verification_key_algorithm()).unwrap();
        let point = rcgen::PublicKeyData::der_bytes(&key).to_vec();
        let params = VerificationCertParams {
            code: VerificationCode::parse("9F1E2D3C4B5A69788796A5B4C3D2E1F0A1B2C3D4E5F60718")
                .unwrap(),
            validity: ValidityDays::ONE_DAY,
        };
        assert!(root
            .verification_unsigned(&params, &point[..point.len() - 1], now())
            .is_err());
        let unsigned = root.verification_unsigned(&params, &point, now()).unwrap();
        let raw = sign_elsewhere(&root, unsigned.to_be_signed());
        let cert = unsigned
            .signed(&ecdsa_signature_der(ca_key, &raw).unwrap())
            .unwrap();
        assert!(is_signed_by(&cert, root.certificate()).unwrap());
        assert!(hubcert::pki::same_public_key(&cert, &key).unwrap());
        let made_here = root.issue_verification(&params, now()).unwrap().certificate;
        let (info, here) = (cert.info().unwrap(), made_here.info().unwrap());
        assert_eq!(info.common_name, here.common_name);
        assert_eq!(info.issuer, here.issuer);
        assert_eq!(info.key_type, here.key_type);
        assert_eq!(info.is_ca, here.is_ca);
        let extensions = |i: &hubcert::pki::CertificateInfo| {
            let mut all: Vec<_> = i
                .extensions
                .iter()
                .map(|e| (e.name.clone(), e.critical))
                .collect();
            all.sort();
            all
        };
        assert_eq!(extensions(&info), extensions(&here));
        assert_eq!(extensions(&info).len(), 4, "{:?}", extensions(&info));
        assert_eq!(
            (info.not_after - info.not_before).whole_minutes(),
            (here.not_after - here.not_before).whole_minutes()
        );
        let root_path = dir.write("root.pem", root.certificate().pem());
        let leaf = dir.write("verification.pem", cert.pem());
        // At the moment it was made for (the tests' clock is fixed).
        let at = (now().unix_timestamp() + 60).to_string();
        let run = openssl(&[
            "verify",
            "-attime",
            &at,
            "-CAfile",
            path_str(&root_path),
            path_str(&leaf),
        ]);
        assert!(run.ok, "{ca_key:?}: {}{}", run.stdout, run.stderr);
    }
}

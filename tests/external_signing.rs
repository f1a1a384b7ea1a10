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
        let pkcs8 = inter.key().to_pkcs8_der().unwrap();
        let raw: Vec<u8> = match ca_key {
            KeyAlgorithm::EcdsaP256 => {
                use p256::pkcs8::DecodePrivateKey;
                let k = p256::ecdsa::SigningKey::from_pkcs8_der(&pkcs8).unwrap();
                let s: p256::ecdsa::Signature = k.sign(unsigned.to_be_signed());
                s.to_bytes().to_vec()
            }
            _ => {
                use p384::pkcs8::DecodePrivateKey;
                let k = p384::ecdsa::SigningKey::from_pkcs8_der(&pkcs8).unwrap();
                let s: p384::ecdsa::Signature = k.sign(unsigned.to_be_signed());
                s.to_bytes().to_vec()
            }
        };
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

//! The browser's WebCrypto on the page, for the one signature a module makes now and then: the
//! CA's on a proof-of-possession certificate. The certificate is made by the core
//! (`CertificateAuthority::verification_unsigned`); its throwaway key and the CA's signature come
//! from here, so the modules that prove possession in one click (upload, DPS) carry neither key
//! generation nor ECDSA signing in WebAssembly. The whole app falls back to the core's own
//! signature where the page has no WebCrypto (a page served over plain http from another host).

use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{CryptoKey, CryptoKeyPair, SubtleCrypto};

use crate::contract::VerificationCode;
use crate::pki::{
    ecdsa_signature_der, CertificateAuthority, KeyAlgorithm, ValidityDays, VerificationCertParams,
};

fn js(e: &JsValue) -> String {
    e.as_string()
        .or_else(|| {
            Reflect::get(e, &"message".into())
                .ok()
                .and_then(|m| m.as_string())
        })
        .unwrap_or_else(|| "unknown error".into())
}

fn dict(pairs: &[(&str, &str)]) -> Object {
    let o = Object::new();
    for (k, v) in pairs {
        let _ = Reflect::set(&o, &JsValue::from_str(k), &JsValue::from_str(v));
    }
    o
}

/// The page's `crypto.subtle`, or why there is none.
fn subtle() -> Result<SubtleCrypto, String> {
    let crypto = web_sys::window()
        .and_then(|w| w.crypto().ok())
        .ok_or("this browser has no WebCrypto")?;
    let subtle = Reflect::get(&crypto, &"subtle".into()).unwrap_or(JsValue::UNDEFINED);
    if subtle.is_undefined() {
        return Err(
            "the browser offers WebCrypto only to pages served over https or from \
                    localhost: open hubcert so"
                .into(),
        );
    }
    Ok(subtle.unchecked_into())
}

async fn done(what: &str, p: Result<js_sys::Promise, JsValue>) -> Result<JsValue, String> {
    let p = p.map_err(|e| format!("WebCrypto could not {what}: {}", js(&e)))?;
    JsFuture::from(p)
        .await
        .map_err(|e| format!("WebCrypto could not {what}: {}", js(&e)))
}

/// `(import, sign)` parameters for a key of `algorithm`.
fn parameters(algorithm: KeyAlgorithm) -> (Object, Object) {
    match algorithm {
        KeyAlgorithm::Rsa(_) => (
            dict(&[("name", "RSASSA-PKCS1-v1_5"), ("hash", "SHA-256")]),
            dict(&[("name", "RSASSA-PKCS1-v1_5")]),
        ),
        KeyAlgorithm::EcdsaP384 => (
            dict(&[("name", "ECDSA"), ("namedCurve", "P-384")]),
            dict(&[("name", "ECDSA"), ("hash", "SHA-384")]),
        ),
        KeyAlgorithm::EcdsaP256 => (
            dict(&[("name", "ECDSA"), ("namedCurve", "P-256")]),
            dict(&[("name", "ECDSA"), ("hash", "SHA-256")]),
        ),
    }
}

/// The proof-of-possession certificate (CN = `code`, one day) of `ca`, as PEM: its key made and
/// the CA's signature put on it by WebCrypto.
async fn with_webcrypto(
    ca: &CertificateAuthority,
    code: VerificationCode,
) -> Result<String, String> {
    let subtle = subtle()?;
    let ca_algorithm = ca.key().algorithm();
    let (import, sign) = parameters(ca_algorithm);
    let usages = Array::of1(&"sign".into());
    let ca_der = ca.key().to_pkcs8_der().map_err(|e| e.to_string())?;
    let ca_key: CryptoKey = done(
        "take the CA's key",
        subtle.import_key_with_object(
            "pkcs8",
            &Uint8Array::from(ca_der.as_slice()),
            &import,
            false,
            &usages,
        ),
    )
    .await?
    .unchecked_into();
    let (generate, _) = parameters(ca.verification_key_algorithm());
    let pair: CryptoKeyPair = done(
        "make the certificate's key",
        subtle.generate_key_with_object(&generate, false, &usages),
    )
    .await?
    .unchecked_into();
    let point = done(
        "read the certificate's public key",
        subtle.export_key("raw", &pair.get_public_key()),
    )
    .await?;
    let params = VerificationCertParams {
        code,
        validity: ValidityDays::ONE_DAY,
    };
    let unsigned = ca
        .verification_unsigned(
            &params,
            &Uint8Array::new(&point).to_vec(),
            super::browser::now(),
        )
        .map_err(|e| e.to_string())?;
    let raw = done(
        "sign with the CA's key",
        subtle.sign_with_object_and_u8_array(&sign, &ca_key, unsigned.to_be_signed()),
    )
    .await?;
    let signature = ecdsa_signature_der(ca_algorithm, &Uint8Array::new(&raw).to_vec())
        .map_err(|e| e.to_string())?;
    unsigned
        .signed(&signature)
        .map(|c| c.pem())
        .map_err(|e| e.to_string())
}

/// The proof-of-possession certificate (CN = `code`) of `ca`, as PEM, signed by the CA's key
/// through WebCrypto; in the whole app, by the core where the page has no WebCrypto.
pub(crate) async fn verification_pem(
    ca: &CertificateAuthority,
    code: VerificationCode,
) -> Result<String, String> {
    if cfg!(feature = "full") && subtle().is_err() {
        return ca
            .issue_verification(
                &VerificationCertParams {
                    code,
                    validity: ValidityDays::ONE_DAY,
                },
                super::browser::now(),
            )
            .map(|v| v.certificate.pem())
            .map_err(|e| e.to_string());
    }
    with_webcrypto(ca, code).await
}

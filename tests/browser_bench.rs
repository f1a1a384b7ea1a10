//! Benchmarks in headless Chromium (release wasm). Prints figures; asserts nothing about speed.
//! Built only with `--features bench` (scripts/bench.sh, which also times `openssl genrsa 4096`
//! in the same run and prints the ratio).
#![cfg(all(target_arch = "wasm32", feature = "bench"))]

use hubcert::contract::DeviceId;
use hubcert::pki::{
    CertificateAuthority, DeviceCertParams, KeyAlgorithm, KeyPair, RootCaParams, ValidityDays,
};
use time::OffsetDateTime;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp((js_sys::Date::now() / 1000.0) as i64).unwrap()
}

fn root(key: KeyAlgorithm, made: KeyPair) -> CertificateAuthority {
    CertificateAuthority::create_root_with_key(
        &RootCaParams {
            key_algorithm: key,
            ..RootCaParams::default()
        },
        made,
        now(),
    )
    .unwrap()
}

fn params(n: u32) -> DeviceCertParams {
    DeviceCertParams {
        device_id: DeviceId::parse(&format!("bench-{n}")).unwrap(),
        validity: ValidityDays::SEED_DEVICE,
    }
}

/// Identities (key + certificate + both PEMs) per second for `budget_ms`, keys from `make`.
async fn identities_per_second<F, Fut>(
    ca: &CertificateAuthority,
    budget_ms: f64,
    make: F,
) -> (u32, f64)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = KeyPair>,
{
    let start = js_sys::Date::now();
    let mut made = 0u32;
    while js_sys::Date::now() - start < budget_ms {
        let key = make().await;
        let cert = ca.issue_device(&params(made), &key, now()).unwrap();
        let _ = (cert.pem(), key.to_pkcs8_pem().unwrap());
        made += 1;
    }
    (made, (js_sys::Date::now() - start) / 1000.0)
}

#[wasm_bindgen_test]
async fn figures() {
    // P-256 under a P-256 root (the recommended default).
    let ca = root(
        KeyAlgorithm::EcdsaP256,
        KeyPair::generate(KeyAlgorithm::EcdsaP256).unwrap(),
    );
    let (n, s) = identities_per_second(&ca, 2000.0, || async {
        KeyPair::generate(KeyAlgorithm::EcdsaP256).unwrap()
    })
    .await;
    console_log!(
        "BENCH browser: {n} P-256 device identities in {s:.2} s = {:.0} per second",
        f64::from(n) / s
    );

    // P-384 under a P-384 root.
    let ca = root(
        KeyAlgorithm::EcdsaP384,
        KeyPair::generate(KeyAlgorithm::EcdsaP384).unwrap(),
    );
    let (n, s) = identities_per_second(&ca, 2000.0, || async {
        KeyPair::generate(KeyAlgorithm::EcdsaP384).unwrap()
    })
    .await;
    console_log!(
        "BENCH browser: {n} P-384 device identities in {s:.2} s = {:.1} per second",
        f64::from(n) / s
    );

    // A batch as the app makes it: 1000 P-256 devices, every device's files, one zip.
    let ids = hubcert::iothub::parse_device_ids("bench-{0001..1000}", 1000).unwrap();
    let t = js_sys::Date::now();
    let mut files = Vec::new();
    for id in &ids {
        let key = KeyPair::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let p = DeviceCertParams {
            device_id: id.clone(),
            validity: ValidityDays::SEED_DEVICE,
        };
        let cert = ca.issue_device(&p, &key, now()).unwrap();
        files.extend(hubcert::pki::device_files(&ca, id, &cert, &key).unwrap());
    }
    let zip = hubcert::pki::zip_files(&files).unwrap();
    console_log!(
        "BENCH browser: a batch of 1000 P-384-CA-signed P-256 devices with their files zipped in {:.2} s ({} KiB zip)",
        (js_sys::Date::now() - t) / 1000.0,
        zip.len() / 1024
    );

    // RSA-4096 keys from WebCrypto, as the app makes them.
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..5 {
        let t = js_sys::Date::now();
        last = Some(
            hubcert::app::generate_key(KeyAlgorithm::RSA_4096)
                .await
                .unwrap(),
        );
        times.push(js_sys::Date::now() - t);
    }
    let mean = times.iter().sum::<f64>() / times.len() as f64;
    console_log!(
        "BENCH webcrypto-rsa4096-ms: {mean:.0} (mean of {}: {:?})",
        times.len(),
        times.iter().map(|t| t.round()).collect::<Vec<_>>()
    );

    // RSA-2048 devices (WebCrypto keys) under that RSA-4096 root: the seed guide's shape; each
    // certificate is signed with the 4096-bit key in WebAssembly.
    let ca = root(KeyAlgorithm::RSA_4096, last.unwrap());
    let t = js_sys::Date::now();
    let _ = ca.issue_device(
        &params(0),
        &KeyPair::generate(KeyAlgorithm::EcdsaP256).unwrap(),
        now(),
    );
    console_log!(
        "BENCH browser: one signature with the RSA-4096 CA key in wasm: {:.0} ms",
        js_sys::Date::now() - t
    );
    let (n, s) = identities_per_second(&ca, 4000.0, || async {
        hubcert::app::generate_key(KeyAlgorithm::RSA_2048)
            .await
            .unwrap()
    })
    .await;
    console_log!("BENCH browser: {n} RSA-2048 device identities (WebCrypto keys, RSA-4096 CA) in {s:.2} s = {:.1} per second", f64::from(n) / s);

    // Why WebCrypto: one RSA-2048 key made by the pure-Rust `rsa` crate in wasm.
    let t = js_sys::Date::now();
    let _ = KeyPair::generate(KeyAlgorithm::RSA_2048).unwrap();
    console_log!("BENCH browser: one RSA-2048 key by the rsa crate in wasm: {:.0} ms (WebCrypto is used instead)", js_sys::Date::now() - t);
}

/// The workspace vault: Argon2id (19 MiB, 2 passes) + AES-256-GCM, sealing and opening a
/// workspace of one CA and 1,000 devices with keys.
#[wasm_bindgen_test]
async fn workspace_vault_figures() {
    let ca = root(
        KeyAlgorithm::EcdsaP256,
        KeyPair::generate(KeyAlgorithm::EcdsaP256).unwrap(),
    );
    let mut w = hubcert::pki::Workspace::new();
    w.cas
        .push(hubcert::pki::StoredCa::from_ca("Root CA", &ca).unwrap());
    for i in 0..1000 {
        if i % 50 == 0 {
            // Let the test runner's polls through.
            let promise = js_sys::Promise::new(&mut |resolve, _| {
                web_sys::window()
                    .unwrap()
                    .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0)
                    .unwrap();
            });
            wasm_bindgen_futures::JsFuture::from(promise).await.unwrap();
        }
        let d = ca
            .issue_device_identity(&params(i), KeyAlgorithm::EcdsaP256, now())
            .unwrap();
        w.devices.push(hubcert::pki::StoredDevice {
            title: format!("Device {i}"),
            certificate: d.certificate.pem(),
            key: Some(d.key.to_pkcs8_pem().unwrap().to_string()),
        });
    }
    let json = w.to_json().unwrap();
    let t = js_sys::Date::now();
    let sealed = hubcert::pki::seal_vault(
        &json,
        "a long bench passphrase",
        hubcert::pki::KdfCost::OWASP,
    )
    .unwrap();
    let seal_ms = js_sys::Date::now() - t;
    let t = js_sys::Date::now();
    let _ = hubcert::pki::open_vault(&sealed, "a long bench passphrase").unwrap();
    console_log!(
        "BENCH browser: workspace of 1 CA + 1000 devices ({} KiB sealed): sealed in {seal_ms:.0} ms, opened in {:.0} ms (Argon2id 19 MiB x 2 + AES-256-GCM)",
        sealed.len() / 1024,
        js_sys::Date::now() - t
    );
}

/// WebCrypto's native ECDSA P-256 against the pure-Rust path (p256 in wasm), for one key and
/// one signature each: what a batch would gain from signing with WebCrypto.
#[wasm_bindgen_test]
async fn webcrypto_against_rust_ecdsa_p256() {
    let n = 300;
    let webcrypto = js_sys::eval(
        "(async (n) => { const data = new Uint8Array(400); const t = performance.now(); \
          for (let i = 0; i < n; i++) { \
            const k = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign']); \
            await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, k.privateKey, data); } \
          return (performance.now() - t) / n; })(300)",
    )
    .unwrap();
    let webcrypto_ms = wasm_bindgen_futures::JsFuture::from(js_sys::Promise::from(webcrypto))
        .await
        .unwrap()
        .as_f64()
        .unwrap();
    let data = [0u8; 400];
    let start = js_sys::Date::now();
    for _ in 0..n {
        let key = KeyPair::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let _ = rcgen::SigningKey::sign(&key, &data).unwrap();
    }
    let rust_ms = (js_sys::Date::now() - start) / f64::from(n);
    console_log!(
        "BENCH browser: ECDSA P-256 key + signature: WebCrypto {webcrypto_ms:.3} ms, p256 in wasm {rust_ms:.3} ms ({:.1}x)",
        rust_ms / webcrypto_ms
    );
}

//! In headless Chromium: the core with the browser's RNG, and the page as a user drives it.
#![cfg(target_arch = "wasm32")]

use hubcert::contract::{DeviceId, VerificationCode};
use hubcert::pki::{
    Certificate, CertificateAuthority, DeviceCertParams, KeyAlgorithm, KeyPair, RootCaParams,
    ValidityDays, VerificationCertParams,
};
use time::OffsetDateTime;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

mod page;
use page::{choose, click, find, mount, settle, sleep_ms, text, type_into, value, wait_for};

wasm_bindgen_test_configure!(run_in_browser);

fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp((js_sys::Date::now() / 1000.0) as i64).unwrap()
}

#[wasm_bindgen_test]
fn browser_rng_makes_distinct_keys() {
    let a = KeyPair::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let b = KeyPair::generate(KeyAlgorithm::EcdsaP256).unwrap();
    assert_ne!(
        a.subject_public_key_info_der(),
        b.subject_public_key_info_der()
    );
}

#[wasm_bindgen_test]
fn core_makes_a_chain_that_parses_back() {
    let t = now();
    let ca = CertificateAuthority::create_root(&RootCaParams::default(), t).unwrap();
    let device = ca
        .issue_device_identity(
            &DeviceCertParams {
                device_id: DeviceId::parse("sensor-device-01").unwrap(),
                validity: ValidityDays::SEED_DEVICE,
            },
            KeyAlgorithm::EcdsaP256,
            t,
        )
        .unwrap();
    let verification = ca
        .issue_verification(
            &VerificationCertParams {
                code: VerificationCode::parse("ABCDEF0123456789").unwrap(),
                validity: ValidityDays::ONE_DAY,
            },
            t,
        )
        .unwrap();

    let root = Certificate::from_pem(&ca.certificate().pem())
        .unwrap()
        .info()
        .unwrap();
    assert_eq!(root.subject, "C=US, O=MyOrg, CN=IoT Root CA");
    assert!(root.is_ca && root.can_sign_certificates);

    let dev = Certificate::from_pem(&device.certificate.pem())
        .unwrap()
        .info()
        .unwrap();
    assert_eq!(dev.common_name.as_deref(), Some("sensor-device-01"));
    assert_eq!(dev.issuer, root.subject);
    assert!(dev.client_auth && !dev.is_ca);
    assert_eq!(dev.days_left(t), 365);

    let key = KeyPair::from_pkcs8_pem(&device.key.to_pkcs8_pem().unwrap()).unwrap();
    assert_eq!(
        key.subject_public_key_info_der(),
        dev.subject_public_key_info
    );

    let v = verification.certificate.info().unwrap();
    assert_eq!(v.common_name.as_deref(), Some("ABCDEF0123456789"));
    assert_eq!(v.issuer, root.subject);
}

// ---- the page ----

#[wasm_bindgen_test]
async fn a_user_makes_the_root_the_verification_and_a_device_certificate() {
    let page = mount();
    settle().await;

    // Before any CA exists, issuing a device says what to do first.
    click(&page, "d-create");
    settle().await;
    assert!(text(&page, "#step-device").contains("Create a root CA in step 1 first"));
    assert!(find(&page, "[id^=device-]").is_none());

    // Step 1.
    type_into(&page, "ca-cn", "Contoso Root");
    click(&page, "ca-create");
    settle().await;
    let ca = text(&page, "#ca-result");
    assert!(ca.contains("C=US, O=MyOrg, CN=Contoso Root"), "{ca}");
    assert!(
        ca.contains("Download root-ca.pem") && ca.contains("Download root-ca.key"),
        "{ca}"
    );
    let sha1 = text(&page, "#ca-result .thumb.sha1");
    assert_eq!(sha1.len(), 40);
    assert!(
        sha1.chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase()),
        "{sha1}"
    );

    // Step 2: an empty code is refused next to the field; a pasted one is trimmed.
    click(&page, "v-create");
    settle().await;
    assert!(text(&page, "#v-code-error").contains("Paste the verification code"));
    type_into(&page, "v-code", "  48B3A2C9B5F2A1E0\n");
    click(&page, "v-create");
    settle().await;
    assert!(find(&page, "#v-code-error").is_none());
    let v = text(&page, "#v-result");
    assert!(
        v.contains("CN=48B3A2C9B5F2A1E0") && v.contains("CN=Contoso Root"),
        "{v}"
    );
    assert!(v.contains("Download verification.pem"), "{v}");

    // Step 3: a bad id and a validity past the CA's are refused next to their fields.
    type_into(&page, "d-id", "line/7");
    type_into(&page, "d-days", "4000");
    click(&page, "d-create");
    settle().await;
    assert!(text(&page, "#d-id-error").contains("Character 5 ('/')"));
    type_into(&page, "d-id", "line-7");
    click(&page, "d-create");
    settle().await;
    assert!(text(&page, "#d-days-error").contains("would outlive its CA"));
    type_into(&page, "d-days", "0");
    click(&page, "d-create");
    settle().await;
    assert!(text(&page, "#d-days-error").contains("at least 1 day"));
    type_into(&page, "d-days", "365");
    click(&page, "d-create");
    settle().await;
    let dev = text(&page, "[id^=device-]");
    assert!(
        dev.contains("Device line-7") && dev.contains("CN=line-7"),
        "{dev}"
    );
    assert!(
        dev.contains("Download line-7.pem") && dev.contains("Download line-7.key"),
        "{dev}"
    );
    assert!(
        dev.contains("364 days left") || dev.contains("365 days left"),
        "{dev}"
    );

    // The PEM shown is the certificate itself.
    let pem: web_sys::HtmlTextAreaElement = find(&page, "[id^=device-] textarea")
        .unwrap()
        .unchecked_into();
    let info = Certificate::from_pem(&pem.value()).unwrap().info().unwrap();
    assert_eq!(info.common_name.as_deref(), Some("line-7"));
    page.remove();
}

#[wasm_bindgen_test]
async fn a_user_adds_an_intermediate_and_chooses_which_ca_signs() {
    let page = mount();
    settle().await;
    type_into(&page, "ca-cn", "Tree Root");
    click(&page, "ca-create");
    settle().await;

    type_into(&page, "im-cn", "Tree Intermediate");
    choose(&page, "im-key", "p384");
    click(&page, "im-create");
    settle().await;
    let card = text(&page, "[id^=intermediate-]");
    assert!(
        card.contains("CN=Tree Intermediate") && card.contains("CN=Tree Root"),
        "{card}"
    );
    assert!(card.contains("Download chain.pem"), "{card}");
    assert!(card.contains("Download intermediate-ca.p7b"), "{card}");
    assert!(card.contains("ECDSA P-384"), "{card}");
    // pathLen 0 (the default): it may not sign another CA, and the page says so.
    click(&page, "im-create");
    settle().await;
    assert!(text(&page, "#step-intermediate").contains("may not sign another CA"));

    // Devices are signed by the intermediate and come with a full chain.
    type_into(&page, "d-id", "leaf-1");
    click(&page, "d-create");
    settle().await;
    let dev = text(&page, "[id^=device-]");
    assert!(dev.contains("CN=Tree Intermediate"), "{dev}");
    assert!(dev.contains("Download leaf-1-fullchain.pem"), "{dev}");

    // Its .pfx: a short password is refused; then it is made and saved.
    let pw = find(&page, "[id^=device-] input[id$='-pfx-password']")
        .unwrap()
        .id();
    let button = pw.replace("-password", "-download");
    let status = format!("#{}", pw.replace("-password", "-status"));
    type_into(&page, &pw, "short-pw");
    click(&page, &button);
    settle().await;
    assert!(
        text(&page, &status).contains("at least 12"),
        "{}",
        text(&page, &status)
    );
    // Generate: a strong password, shown so it can be copied.
    click(&page, &pw.replace("-password", "-generate"));
    settle().await;
    let generated = page::value(&page, &pw);
    assert_eq!(generated.len(), 29, "{generated}");
    assert_eq!(
        find(&page, &format!("#{pw}"))
            .unwrap()
            .get_attribute("type")
            .as_deref(),
        Some("text")
    );
    type_into(&page, &pw, "device-secret-1");
    choose(&page, &pw.replace("-password", "-preset"), "legacy");
    click(&page, &button);
    wait_for(&page, &status, "Saved leaf-1.pfx (legacy").await;

    // The root CA's own .pfx (its key, for moving it to another machine or a keychain).
    let root_pw = find(&page, "#ca-result input[id$='-pfx-password']")
        .unwrap()
        .id();
    type_into(&page, &root_pw, "root-secret-pass");
    click(&page, &root_pw.replace("-password", "-download"));
    let status = wait_for(
        &page,
        &format!("#{}", root_pw.replace("-password", "-status")),
        "Saved root-ca.pfx",
    )
    .await;
    assert!(status.contains("modern"), "{status}");

    // Back to the root: the next device is signed by it, without a chain file.
    choose(&page, "ca-active", "0");
    settle().await;
    type_into(&page, "d-id", "leaf-2");
    click(&page, "d-create");
    settle().await;
    let dev = text(&page, "[id^=device-]");
    assert!(
        dev.contains("Device leaf-2") && !dev.contains("fullchain"),
        "{dev}"
    );
    let issuer_line = dev.split("Issuer").nth(1).unwrap_or_default();
    assert!(issuer_line.contains("CN=Tree Root"), "{dev}");

    // The device test says before connecting what a GA hub does over WebSockets: the device under
    // the intermediate needs preview mode (or a thumbprint registration); the root's does not.
    type_into(&page, "dev-id", "leaf-1");
    settle().await;
    let caution = text(&page, "#dev-ws-caution");
    assert!(
        caution.contains("preview mode") && caution.contains("thumbprint"),
        "{caution}"
    );
    type_into(&page, "dev-id", "leaf-2");
    settle().await;
    assert!(find(&page, "#dev-ws-caution").is_none());
}

#[wasm_bindgen_test]
fn a_pfx_made_in_the_browser_has_the_pkcs12_structure() {
    use der::Decode;
    use hubcert::pki::{export_pkcs12, Pkcs12Preset};
    let t = now();
    let ca = CertificateAuthority::create_root(&RootCaParams::default(), t).unwrap();
    let dev = ca
        .issue_device_identity(
            &DeviceCertParams {
                device_id: DeviceId::parse("wasm-pfx").unwrap(),
                validity: ValidityDays::SEED_DEVICE,
            },
            KeyAlgorithm::EcdsaP256,
            t,
        )
        .unwrap();
    for preset in [Pkcs12Preset::Modern, Pkcs12Preset::Legacy] {
        let der = export_pkcs12(
            &dev.key,
            &dev.certificate,
            &[ca.certificate().clone()],
            "wasm-pfx",
            "pw-1234",
            preset,
        )
        .unwrap();
        let pfx = pkcs12::pfx::Pfx::from_der(&der).unwrap();
        assert!(pfx.mac_data.is_some());
    }
}

#[wasm_bindgen_test]
async fn a_user_imports_an_existing_ca_with_an_encrypted_key() {
    let existing = CertificateAuthority::create_root(
        &RootCaParams {
            common_name: "Existing Corp CA".into(),
            ..RootCaParams::default()
        },
        now(),
    )
    .unwrap();
    let key_pem = existing.key().to_encrypted_pkcs8_pem("import-me").unwrap();
    let page = mount();
    settle().await;

    // Nothing pasted: both fields say what is missing.
    click(&page, "imp-submit");
    settle().await;
    assert!(text(&page, "#imp-cert-error").contains("CA certificate"));
    assert!(text(&page, "#imp-key-error").contains("private key"));

    type_into(&page, "imp-cert", &existing.certificate().pem());
    type_into(&page, "imp-key", &key_pem);
    type_into(&page, "imp-password", "wrong");
    click(&page, "imp-submit");
    settle().await;
    assert!(text(&page, "#imp-password-error").contains("password does not open"));

    type_into(&page, "imp-password", "import-me");
    click(&page, "imp-submit");
    settle().await;
    let ca = text(&page, "#ca-result");
    assert!(
        ca.contains("Imported CA") && ca.contains("CN=Existing Corp CA"),
        "{ca}"
    );
    // The key and its password do not stay in the form once imported.
    assert_eq!(page::value(&page, "imp-key"), "");
    assert_eq!(page::value(&page, "imp-password"), "");

    type_into(&page, "d-id", "imported-leaf");
    click(&page, "d-create");
    settle().await;
    let dev = text(&page, "[id^=device-]");
    let issuer = dev.split("Issuer").nth(1).unwrap_or_default();
    assert!(issuer.contains("CN=Existing Corp CA"), "{dev}");
}

#[wasm_bindgen_test]
async fn a_user_imports_an_intermediate_ca_from_a_pfx() {
    let root = CertificateAuthority::create_root(&RootCaParams::default(), now()).unwrap();
    let inter = root
        .issue_intermediate(
            &hubcert::pki::IntermediateCaParams {
                subject: RootCaParams {
                    common_name: "Pfx Intermediate".into(),
                    validity: ValidityDays::new(500).unwrap(),
                    ..RootCaParams::default()
                },
                path_len: Some(0),
            },
            now(),
        )
        .unwrap();
    let pfx = hubcert::pki::export_pkcs12(
        inter.key(),
        inter.certificate(),
        &[root.certificate().clone()],
        "intermediate",
        "ca-pfx-pw",
        // Legacy (2,048 iterations): the import path is the same, and the modern preset's
        // 600,000 iterations would hold this unoptimised test build's only thread for seconds.
        hubcert::pki::Pkcs12Preset::Legacy,
    )
    .unwrap();
    let page = mount();
    settle().await;
    page::choose_file(&page, "imp-cert-file", "intermediate.pfx", &pfx);
    page::wait_for(&page, "#imp-cert-loaded", "PKCS#12").await;
    click(&page, "imp-submit");
    settle().await;
    assert!(text(&page, "#imp-password-error").contains("Enter the password of intermediate.pfx"));
    type_into(&page, "imp-password", "not it");
    click(&page, "imp-submit");
    settle().await;
    assert!(text(&page, "#imp-password-error").contains("does not open this .pfx file"));
    type_into(&page, "imp-password", "ca-pfx-pw");
    click(&page, "imp-submit");
    settle().await;
    let ca = text(&page, "#ca-result");
    assert!(
        ca.contains("Imported intermediate CA") && ca.contains("Download chain.pem"),
        "{ca}"
    );
    // Devices it signs come with the full chain the hub needs.
    type_into(&page, "d-id", "pfx-leaf");
    click(&page, "d-create");
    settle().await;
    let dev = text(&page, "[id^=device-]");
    assert!(
        dev.contains("CN=Pfx Intermediate") && dev.contains("pfx-leaf-fullchain.pem"),
        "{dev}"
    );
}

#[wasm_bindgen_test]
async fn a_user_imports_an_intermediate_from_a_p7b_and_its_key() {
    let root = CertificateAuthority::create_root(&RootCaParams::default(), now()).unwrap();
    let inter = root
        .issue_intermediate(
            &hubcert::pki::IntermediateCaParams {
                subject: RootCaParams {
                    common_name: "P7b Intermediate".into(),
                    validity: ValidityDays::new(500).unwrap(),
                    ..RootCaParams::default()
                },
                path_len: Some(0),
            },
            now(),
        )
        .unwrap();
    // Root first, as a Windows chain export may order it.
    let p7b = hubcert::pki::write_pkcs7(&[root.certificate().clone(), inter.certificate().clone()])
        .unwrap();
    let page = mount();
    settle().await;
    page::choose_file(&page, "imp-cert-file", "chain.p7b", &p7b);
    page::wait_for(&page, "#imp-cert-loaded", "chain.p7b loaded").await;
    // The root's key is not the one given: refused by name.
    let stranger = KeyPair::generate(KeyAlgorithm::EcdsaP256).unwrap();
    type_into(&page, "imp-key", &stranger.to_pkcs8_pem().unwrap());
    click(&page, "imp-submit");
    settle().await;
    assert!(text(&page, "#imp-key-error").contains("belongs to none of the certificates"));
    type_into(&page, "imp-key", &inter.key().to_pkcs8_pem().unwrap());
    click(&page, "imp-submit");
    settle().await;
    let ca = text(&page, "#ca-result");
    assert!(
        ca.contains("Imported intermediate CA") && ca.contains("Download chain.pem"),
        "{ca}"
    );
    type_into(&page, "d-id", "p7b-leaf");
    click(&page, "d-create");
    settle().await;
    let dev = text(&page, "[id^=device-]");
    assert!(
        dev.contains("CN=P7b Intermediate") && dev.contains("p7b-leaf-fullchain.pem"),
        "{dev}"
    );
    page.remove();
}

#[wasm_bindgen_test]
async fn a_user_makes_a_key_and_csr_here_then_signs_it() {
    let page = mount();
    settle().await;
    type_into(&page, "ca-cn", "Csr Maker Root");
    click(&page, "ca-create");
    settle().await;
    // A bad id is named before any key is made.
    type_into(&page, "csr-make-id", "bad id");
    click(&page, "csr-make-button");
    settle().await;
    let e = text(&page, "#csr-make-id-error");
    assert!(e.contains("Character 4 (a space)"), "{e}");
    // RSA 2048 through WebCrypto; the CSR lands in the CSR field, with both files offered.
    type_into(&page, "csr-make-id", "csr-made-01");
    choose(&page, "csr-make-key", "rsa2048");
    click(&page, "csr-make-button");
    wait_for(&page, "#csr-made", "Made for csr-made-01").await;
    assert!(text(&page, "#csr-save-key").contains("csr-made-01.key"));
    assert!(text(&page, "#csr-save-csr").contains("csr-made-01.csr"));
    let preview = text(&page, "#csr-preview");
    assert!(
        preview.contains("CN=csr-made-01")
            && preview.contains("RSA 2048")
            && preview.contains("valid"),
        "{preview}"
    );
    click(&page, "csr-sign");
    settle().await;
    let dev = text(&page, "[id^=device-]");
    assert!(
        dev.contains("CN=csr-made-01") && dev.contains("RSA 2048"),
        "{dev}"
    );
}

#[wasm_bindgen_test]
async fn a_user_signs_a_csr_made_on_the_device() {
    let device_key = KeyPair::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let csr = hubcert::pki::make_csr(&device_key, &DeviceId::parse("csr-leaf").unwrap()).unwrap();
    let page = mount();
    settle().await;
    type_into(&page, "ca-cn", "CSR Root");
    click(&page, "ca-create");
    settle().await;

    // A damaged request: the preview says so and nothing is signed.
    let mut der = pem::parse(&csr).unwrap().into_contents();
    let at = der.windows(8).position(|w| w == b"csr-leaf").unwrap();
    der[at + 7] = b'g'; // CN csr-leag: the signature no longer matches
    let broken = pem::encode(&pem::Pem::new("CERTIFICATE REQUEST", der));
    type_into(&page, "csr-text", &broken);
    settle().await;
    click(&page, "csr-sign");
    settle().await;
    assert!(find(&page, "[id^=device-]").is_none());
    assert!(text(&page, "#csr-text-error").contains("altered"));
    assert!(text(&page, "#csr-preview").contains("altered"));

    type_into(&page, "csr-text", &csr);
    settle().await;
    let preview = text(&page, "#csr-preview");
    assert!(
        preview.contains("CN=csr-leaf") && preview.contains("valid"),
        "{preview}"
    );
    click(&page, "csr-sign");
    settle().await;
    let dev = text(&page, "[id^=device-]");
    assert!(
        dev.contains("Device csr-leaf (from its CSR)") && dev.contains("CN=CSR Root"),
        "{dev}"
    );
    assert!(
        dev.contains("Download csr-leaf.pem") && !dev.contains("csr-leaf.key"),
        "{dev}"
    );
    // The certificate carries the device's key.
    let pem: web_sys::HtmlTextAreaElement = find(&page, "[id^=device-] textarea")
        .unwrap()
        .unchecked_into();
    let cert = Certificate::from_pem(&pem.value()).unwrap();
    assert_eq!(
        cert.info().unwrap().subject_public_key_info,
        device_key.subject_public_key_info_der()
    );
}

#[wasm_bindgen_test]
async fn a_user_inspects_certificates_and_sees_iot_hubs_checks() {
    let page = mount();
    settle().await;
    type_into(&page, "ca-cn", "Inspect Root");
    click(&page, "ca-create");
    settle().await;
    type_into(&page, "d-id", "inspected-01");
    click(&page, "d-create");
    settle().await;
    let pem: web_sys::HtmlTextAreaElement = find(&page, "[id^=device-] textarea")
        .unwrap()
        .unchecked_into();
    let device_pem = pem.value();

    type_into(&page, "inspect-text", &device_pem);
    settle().await;
    let out = text(&page, "#inspect-result");
    assert!(
        out.contains("CN=inspected-01") && out.contains("all 7 checks pass"),
        "{out}"
    );

    // Against another device id: the CN check fails and says what the hub will do.
    type_into(&page, "inspect-device-id", "inspected-02");
    settle().await;
    let out = text(&page, "#inspect-result");
    assert!(
        out.contains("1 of 7 checks fail") && out.contains("CONNACK 5"),
        "{out}"
    );

    // A device from some other CA fails the signature check.
    let other = CertificateAuthority::create_root(&RootCaParams::default(), now()).unwrap();
    let foreign = other
        .issue_device_identity(
            &DeviceCertParams {
                device_id: DeviceId::parse("inspected-02").unwrap(),
                validity: ValidityDays::SEED_DEVICE,
            },
            KeyAlgorithm::EcdsaP256,
            now(),
        )
        .unwrap();
    type_into(&page, "inspect-text", &foreign.certificate.pem());
    settle().await;
    assert!(text(&page, "#inspect-result").contains("not signed by this CA"));

    // Each extension is decoded, as OpenSSL names it.
    type_into(&page, "inspect-text", &device_pem);
    settle().await;
    let out = text(&page, "#inspect-result");
    assert!(
        out.contains("Key Usagecritical") && out.contains("TLS Web Client Authentication"),
        "{out}"
    );

    // Not PEM at all.
    type_into(&page, "inspect-text", "hello");
    settle().await;
    assert!(text(&page, "#inspect-result").contains("without a -----BEGIN line"));

    // A .pfx chosen as a file: it asks for the password, names a wrong one, then shows the key,
    // the certificate, the chain and the checks.
    let pfx = hubcert::pki::export_pkcs12(
        &foreign.key,
        &foreign.certificate,
        &[other.certificate().clone()],
        "field unit",
        "pfx-secret",
        hubcert::pki::Pkcs12Preset::Legacy,
    )
    .unwrap();
    page::choose_file(&page, "inspect-file", "unit.pfx", &pfx);
    let out = page::wait_for(&page, "#inspect-result", "enter its password").await;
    assert!(out.contains(".pfx file"), "{out}");
    type_into(&page, "inspect-password", "wrong");
    settle().await;
    assert!(text(&page, "#inspect-result").contains("does not open this .pfx file"));
    type_into(&page, "inspect-password", "pfx-secret");
    settle().await;
    let out = text(&page, "#inspect-result");
    assert!(
        out.contains("PKCS#12")
            && out.contains("field unit")
            && out.contains("ECDSA P-256 (matches"),
        "{out}"
    );
    assert!(out.contains("not signed by this CA"), "{out}");
    // A DER certificate file is read too.
    page::choose_file(
        &page,
        "inspect-file",
        "device.cer",
        foreign.certificate.der(),
    );
    let out = page::wait_for(&page, "#inspect-result", "CN=inspected-02").await;
    assert!(out.contains("SHA-256 thumbprint"), "{out}");
    // A .p7b bundle (as Windows exports a chain): its certificates, checked as a chain.
    let p7_root = CertificateAuthority::create_root(
        &RootCaParams {
            common_name: "P7B Root".into(),
            ..RootCaParams::default()
        },
        now(),
    )
    .unwrap();
    let p7_inter = p7_root
        .issue_intermediate(
            &hubcert::pki::IntermediateCaParams {
                subject: RootCaParams {
                    common_name: "P7B Intermediate".into(),
                    ..RootCaParams::default()
                },
                path_len: Some(0),
            },
            now(),
        )
        .unwrap();
    let bundle = hubcert::pki::write_pkcs7(&[
        p7_root.certificate().clone(),
        p7_inter.certificate().clone(),
    ])
    .unwrap();
    page::choose_file(&page, "inspect-file", "chain.p7b", &bundle);
    let out = page::wait_for(&page, "#inspect-result", "P7B Intermediate").await;
    assert!(out.contains("P7B Root"), "{out}");
}

mod catalogue;

#[wasm_bindgen_test]
fn every_bad_input_is_refused_with_its_own_message_in_the_browser() {
    catalogue::check_all(now());
}

#[wasm_bindgen_test]
async fn a_user_makes_the_seeds_rsa_4096_root_and_rsa_2048_devices_with_webcrypto() {
    let page = mount();
    settle().await;
    type_into(&page, "ca-cn", "Seed RSA Root");
    choose(&page, "ca-key", "rsa4096");
    click(&page, "ca-create");
    // WebCrypto makes the key off the page's thread: a progress line shows, the button waits.
    let line = wait_for(&page, "#ca-keygen", "Making an RSA 4096 key").await;
    assert!(line.contains("WebCrypto"), "{line}");
    let button: web_sys::HtmlButtonElement = find(&page, "#ca-create").unwrap().unchecked_into();
    assert!(button.disabled());
    // Meanwhile the page answers: short timers fire on time, not after the key is made.
    let mut worst = 0.0f64;
    while find(&page, "#ca-keygen").is_some() {
        let t0 = js_sys::Date::now();
        sleep_ms(20).await;
        worst = worst.max(js_sys::Date::now() - t0);
        settle().await;
    }
    assert!(
        worst < 2000.0,
        "the page froze for {worst} ms while the key was made"
    );
    let ca = wait_for(&page, "#ca-result", "RSA 4096").await;
    assert!(ca.contains("CN=Seed RSA Root"), "{ca}");
    assert!(!button.disabled());
    let root_pem: web_sys::HtmlTextAreaElement =
        find(&page, "#ca-result textarea").unwrap().unchecked_into();
    let root = Certificate::from_pem(&root_pem.value()).unwrap();

    // The seed's device key: RSA 2048, signed with the RSA 4096 root's key in WebAssembly.
    type_into(&page, "d-id", "rsa-device-1");
    choose(&page, "d-key", "rsa2048");
    click(&page, "d-create");
    let dev = wait_for(&page, "[id^=device-]", "RSA 2048").await;
    assert!(dev.contains("CN=rsa-device-1"), "{dev}");
    let pem: web_sys::HtmlTextAreaElement = find(&page, "[id^=device-] textarea")
        .unwrap()
        .unchecked_into();
    let cert = Certificate::from_pem(&pem.value()).unwrap();
    assert!(hubcert::pki::is_signed_by(&cert, &root).unwrap());
    let info = cert.info().unwrap();
    assert_eq!(info.key_type, "RSA 2048");
    assert!(info.client_auth && !info.is_ca);

    // A typo is reported at once, before any key is made.
    type_into(&page, "d-id", "bad/id");
    click(&page, "d-create");
    settle().await;
    assert!(text(&page, "#d-id-error").contains("'/'"));
    assert!(find(&page, "#d-keygen").is_none());
    page.remove();
}

#[wasm_bindgen_test]
async fn a_user_issues_a_batch_from_a_range_and_registers_it() {
    let page = mount();
    settle().await;
    type_into(&page, "ca-cn", "Batch Root");
    click(&page, "ca-create");
    settle().await;

    // The list is read as it is typed: how many, which, and what is wrong.
    type_into(&page, "batch-ids", "ok-1\nnot/ok");
    settle().await;
    assert!(text(&page, "#batch-ids-error").contains("\"not/ok\": Character 4 ('/')"));
    type_into(&page, "batch-ids", "line-{01..25}");
    settle().await;
    let hint = text(&page, "#batch-ids-hint");
    assert!(
        hint.contains("25 devices: line-01, line-02, line-03 … line-25"),
        "{hint}"
    );
    click(&page, "batch-create");
    let done = wait_for(&page, "#batch-result", "25 device certificates issued").await;
    assert!(done.contains("line-01 … line-25"), "{done}");
    assert!(text(&page, "#batch-save").contains("Download devices-25.zip"));
    // No card per device: the batch has its summary; the register step lists them all.
    assert!(find(&page, "[id^=device-]").is_none());
    // The register step gets the devices a task later (hooks::use_deferred): its button is
    // enabled then.
    for _ in 0..100 {
        if !find(&page, "#reg-fill").unwrap().has_attribute("disabled") {
            break;
        }
        sleep_ms(10).await;
    }
    click(&page, "reg-fill");
    settle().await;
    let ids: web_sys::HtmlTextAreaElement = find(&page, "#reg-ids").unwrap().unchecked_into();
    let listed = ids.value();
    assert_eq!(listed.lines().count(), 25, "{listed}");
    assert!(listed.contains("line-13"), "{listed}");

    // A batch of hundreds stays searchable without drawing every row.
    type_into(&page, "batch-ids", "many-{001..210}");
    click(&page, "batch-create");
    wait_for(&page, "#batch-result", "210 device certificates issued").await;
    let more = wait_for(&page, "#expiry-more", "Showing the 200 soonest of 236").await;
    assert!(more.contains("download the CSV"), "{more}");
    assert_eq!(
        page.query_selector_all("#expiry-table tbody tr")
            .unwrap()
            .length(),
        200
    );
    type_into(&page, "expiry-search", "many-207");
    settle().await;
    assert_eq!(
        page.query_selector_all("#expiry-table tbody tr")
            .unwrap()
            .length(),
        1
    );
    type_into(&page, "expiry-search", "");

    // RSA keys come one by one from WebCrypto: a batch of more than 10,000 is refused, saying
    // why and what works; 100,001 is past any batch.
    choose(&page, "batch-key", "rsa2048");
    type_into(&page, "batch-ids", "rsa-{1..10001}");
    click(&page, "batch-create");
    settle().await;
    let refused = text(&page, "#batch-ids-error");
    assert!(
        refused.contains("10001 devices with RSA keys") && refused.contains("ECDSA P-256"),
        "{refused}"
    );
    assert!(find(&page, "#batch-progress").is_none());
    type_into(&page, "batch-ids", "many-{1..100001}");
    settle().await;
    let refused = text(&page, "#batch-ids-error");
    assert!(refused.contains("100000"), "{refused}");

    // Stop keeps what was made.
    type_into(&page, "batch-ids", "rsa-{1..40}");
    click(&page, "batch-create");
    wait_for(&page, "#batch-progress", "Issued").await;
    click(&page, "batch-stop");
    let done = wait_for(&page, "#batch-result", "(stopped early)").await;
    assert!(done.contains("rsa-1 …"), "{done}");
    assert!(find(&page, "#batch-progress").is_none());
    page.remove();
}

#[wasm_bindgen_test]
async fn the_expiry_watch_lists_everything_soonest_first() {
    let page = mount();
    settle().await;
    assert!(text(&page, "#step-expiry").contains("soonest expiry first"));
    type_into(&page, "ca-cn", "Watch Root");
    click(&page, "ca-create");
    settle().await;
    for (id, days) in [
        ("watch-long", "700"),
        ("watch-short", "10"),
        ("watch-week", "5"),
    ] {
        type_into(&page, "d-id", id);
        type_into(&page, "d-days", days);
        click(&page, "d-create");
        settle().await;
    }
    let summary = text(&page, "#expiry-summary");
    assert!(
        summary.contains("1 expiring within 7 days, 1 within 14 days, of 4"),
        "{summary}"
    );
    let rows: Vec<String> = (1..=4)
        .map(|n| text(&page, &format!("#expiry-table tbody tr:nth-child({n})")))
        .collect();
    assert!(
        rows[0].contains("Device watch-week") && rows[0].contains("under 7 days"),
        "{rows:?}"
    );
    assert!(
        rows[1].contains("Device watch-short") && rows[1].contains("under 14 days"),
        "{rows:?}"
    );
    assert!(rows[1].contains("renew it before then"), "{rows:?}");
    assert!(
        rows[2].contains("Device watch-long") && rows[2].contains("ok"),
        "{rows:?}"
    );
    assert!(rows[3].contains("Root CA"), "{rows:?}");
    click(&page, "expiry-csv");
    settle().await;
    assert!(text(&page, "#step-expiry").contains("Saved certificate-expiry.csv"));
    page.remove();
}

#[wasm_bindgen_test]
async fn a_file_too_large_is_refused_by_its_size_before_it_is_read() {
    let page = mount();
    settle().await;
    let big = vec![0x30u8; 2 * 1024 * 1024];
    page::choose_file(&page, "inspect-file", "big.der", &big);
    settle().await;
    sleep_ms(50).await;
    let inspector = text(&page, "#step-inspect");
    assert!(
        inspector.contains("big.der: This file has 2097152 bytes"),
        "{inspector}"
    );
}

#[wasm_bindgen_test]
async fn a_pasted_401003_is_decoded_and_tied_to_the_pages_device() {
    let page = mount();
    settle().await;
    type_into(&page, "ca-cn", "Decoder Root");
    click(&page, "ca-create");
    settle().await;
    type_into(&page, "d-id", "decoded-1");
    click(&page, "d-create");
    settle().await;
    // The card shows the SHA-256 thumbprint as IoT Hub takes it.
    let sha256 = text(&page, "[id^=device-] code.sha256").trim().to_owned();
    assert_eq!(sha256.len(), 64, "{sha256}");
    type_into(
        &page,
        "decode-text",
        &format!("Thumbprint does not match configuration: Thumbprint: SHA1Hash=00, SHA2Hash={sha256}; Configuration: PrimaryThumbprint=AA, SecondaryThumbprint=AA"),
    );
    settle().await;
    let result = text(&page, "#decode-result");
    assert!(result.contains("401003"), "{result}");
    assert!(
        result.contains("The device presented") && result.contains("CN=decoded-1"),
        "{result}"
    );
    type_into(
        &page,
        "decode-text",
        "Connection error: Connection Refused: not authorised.",
    );
    settle().await;
    assert!(text(&page, "#decode-result").contains("CONNACK 5"));
}

#[wasm_bindgen_test]
async fn a_workspace_is_saved_encrypted_and_a_saved_one_brings_back_cas_that_sign() {
    use hubcert::pki::{seal_vault, KdfCost, StoredCa, StoredDevice, Workspace};
    let page = mount();
    settle().await;
    // Saving: nothing yet, then the passphrase rules, then saved.
    click(&page, "ws-save");
    wait_for(&page, "#ws-save-status", "at least 12").await;
    type_into(&page, "ca-cn", "Saved Root");
    click(&page, "ca-create");
    settle().await;
    type_into(&page, "ws-pass", "a long passphrase");
    type_into(&page, "ws-pass2", "a long passphrase!");
    settle().await;
    click(&page, "ws-save");
    wait_for(&page, "#ws-save-status", "The two passphrases differ").await;
    type_into(&page, "ws-pass2", "a long passphrase");
    settle().await;
    click(&page, "ws-save");
    let saved = wait_for(&page, "#ws-save-status", "Saved hubcert-workspace.hubcert").await;
    assert!(saved.contains("sealed in"), "{saved}");

    // Opening a workspace saved elsewhere: its root and intermediate (with keys) and a device.
    let now = now();
    let root = CertificateAuthority::create_root(
        &RootCaParams {
            common_name: "Kept Root".into(),
            ..RootCaParams::default()
        },
        now,
    )
    .unwrap();
    let dev = root
        .issue_device_identity(
            &DeviceCertParams {
                device_id: DeviceId::parse("kept-dev").unwrap(),
                validity: ValidityDays::new(30).unwrap(),
            },
            KeyAlgorithm::EcdsaP256,
            now,
        )
        .unwrap();
    let mut w = Workspace::new();
    w.cas.push(StoredCa::from_ca("Root CA", &root).unwrap());
    w.devices.push(StoredDevice {
        title: "Device kept-dev".into(),
        certificate: dev.certificate.pem(),
        key: Some(dev.key.to_pkcs8_pem().unwrap().to_string()),
    });
    w.settings = serde_json::json!({"target": "azure", "azure": {"hub": "restored-hub", "resourceGroup": "rg-kept"}});
    let sealed = seal_vault(
        &w.to_json().unwrap(),
        "the right passphrase",
        KdfCost::OWASP,
    )
    .unwrap();

    click(&page, "ws-open");
    wait_for(&page, "#ws-open-status", "Choose the workspace file").await;
    page::choose_file(
        &page,
        "ws-file",
        "hubcert-workspace.hubcert",
        sealed.as_bytes(),
    );
    sleep_ms(100).await;
    // A wrong passphrase, then a file with one changed character: refused, nothing replaced.
    type_into(&page, "ws-open-pass", "the wrong passphrase");
    settle().await;
    click(&page, "ws-open");
    wait_for(&page, "#ws-open-status", "does not open this workspace").await;
    assert!(text(&page, "#ca-result").contains("CN=Saved Root"));
    let mut v: serde_json::Value = serde_json::from_str(&sealed).unwrap();
    let ct = v["ciphertext"].as_str().unwrap().to_owned();
    let flipped = if ct.starts_with('A') { "B" } else { "A" };
    v["ciphertext"] = format!("{flipped}{}", &ct[1..]).into();
    page::choose_file(
        &page,
        "ws-file",
        "changed.hubcert",
        v.to_string().as_bytes(),
    );
    sleep_ms(100).await;
    type_into(&page, "ws-open-pass", "the right passphrase");
    settle().await;
    click(&page, "ws-open");
    wait_for(
        &page,
        "#ws-open-status",
        "the file was changed after it was saved",
    )
    .await;
    page::choose_file(
        &page,
        "ws-file",
        "not-a-workspace.hubcert",
        b"{\"hello\": 1}",
    );
    sleep_ms(100).await;
    click(&page, "ws-open");
    wait_for(&page, "#ws-open-status", "not a hubcert workspace file").await;

    page::choose_file(
        &page,
        "ws-file",
        "hubcert-workspace.hubcert",
        sealed.as_bytes(),
    );
    sleep_ms(100).await;
    click(&page, "ws-open");
    wait_for(&page, "#ws-open-status", "1 CA and 1 device certificate").await;
    settle().await;
    assert!(text(&page, "#ca-result").contains("CN=Kept Root"));
    assert!(text(&page, "#step-expiry").contains("Device kept-dev"));
    // The settings came back too (Azure target, its hub and resource group).
    settle().await;
    sleep_ms(50).await;
    assert_eq!(page::value(&page, "hub-name"), "restored-hub");
    assert_eq!(page::value(&page, "hub-resource-group"), "rg-kept");
    // And nothing of them was written to the browser's storage.
    let session = web_sys::window()
        .unwrap()
        .session_storage()
        .unwrap()
        .unwrap();
    assert_eq!(session.length().unwrap(), 0);
    // The restored root signs again: a new device chains to it.
    type_into(&page, "d-id", "after-restore");
    click(&page, "d-create");
    settle().await;
    let card = text(&page, "[id^=device-]");
    assert!(
        card.contains("CN=after-restore") && card.contains("CN=Kept Root"),
        "{card}"
    );
    page.remove();
}

/// Goes to `hash` as a link would (the address changes, then `hashchange`).
async fn go_to(hash: &str) {
    web_sys::window()
        .unwrap()
        .location()
        .set_hash(hash)
        .unwrap();
    // `hashchange` is a task of its own.
    sleep_ms(30).await;
    settle().await;
}

/// Which route's part the page shows (the others are drawn, hidden).
fn shown_route(page: &web_sys::Element) -> Vec<String> {
    let parts = page.query_selector_all(".route").unwrap();
    (0..parts.length())
        .map(|i| parts.item(i).unwrap().unchecked_into::<web_sys::Element>())
        .filter(|e| !e.has_attribute("hidden"))
        .map(|e| e.get_attribute("data-route").unwrap_or_default())
        .collect()
}

#[wasm_bindgen_test]
async fn the_page_opens_on_its_home_and_each_task_has_a_route_of_its_own() {
    go_to("").await;
    let page = mount();
    settle().await;
    // Home first: what the workspace holds and the next step of the guide.
    assert_eq!(shown_route(&page), [""]);
    assert!(text(&page, "#home-next").contains("Next: 1 · Root CA"));
    assert!(text(&page, "#home-cas").contains("none yet"));
    assert_eq!(
        find(&page, "#home-go")
            .unwrap()
            .get_attribute("href")
            .as_deref(),
        Some("#/root-ca")
    );
    // The navigation lists every route of the table, the shown one marked.
    let nav = page.query_selector_all(".stepper a").unwrap();
    assert_eq!(nav.length(), 15);
    assert_eq!(
        find(&page, "#nav-home")
            .unwrap()
            .get_attribute("aria-current")
            .as_deref(),
        Some("page")
    );
    // A route by its address: only its part shows, with the guided path's neighbours.
    go_to("#/root-ca").await;
    assert_eq!(shown_route(&page), ["root-ca"]);
    assert_eq!(
        find(&page, "#nav-root-ca")
            .unwrap()
            .get_attribute("aria-current")
            .as_deref(),
        Some("page")
    );
    type_into(&page, "ca-cn", "Routed Root");
    click(&page, "ca-create");
    settle().await;
    let next = find(&page, "[data-route=root-ca] #pager-next").unwrap();
    assert_eq!(next.get_attribute("href").as_deref(), Some("#/connect"));
    go_to("#/devices").await;
    assert_eq!(shown_route(&page), ["devices"]);
    assert_eq!(
        find(&page, "[data-route=devices] #pager-prev")
            .unwrap()
            .get_attribute("href")
            .as_deref(),
        Some("#/upload")
    );
    // What was made on one route is there on the others, and home counts it.
    type_into(&page, "d-id", "routed-1");
    click(&page, "d-create");
    settle().await;
    go_to("#/").await;
    assert_eq!(shown_route(&page), [""]);
    let holds = text(&page, "#home-holds");
    assert!(
        holds.contains("Routed Root") && holds.contains("1 device certificate"),
        "{holds}"
    );
    assert!(!text(&page, "#home-next").contains("Root CA"));
    // A tool's route; an unknown address is home.
    go_to("#/revoke").await;
    assert_eq!(shown_route(&page), ["revoke"]);
    go_to("#/nowhere").await;
    assert_eq!(shown_route(&page), [""]);
    go_to("").await;
    page.remove();
}

/// No field of the page may be kept by the browser's form restore or autofill (a certificate or a
/// key's text on disk after Lock and Forget): every text field and text area says `autocomplete`
/// off (or `new-password` for a password the user makes).
#[wasm_bindgen_test]
async fn no_field_of_the_page_is_kept_by_the_browser() {
    let page = mount();
    settle().await;
    type_into(&page, "ca-cn", "Autocomplete Root");
    click(&page, "ca-create");
    settle().await;
    // Open every part, so that the fields they hold are drawn too.
    let details = page.query_selector_all("details").unwrap();
    for i in 0..details.length() {
        let d = details.item(i).unwrap();
        d.unchecked_ref::<web_sys::Element>()
            .set_attribute("open", "")
            .unwrap();
    }
    settle().await;
    let fields = page
        .query_selector_all(
            "textarea, input:not([type=file]):not([type=checkbox]):not([type=radio]):not([type=hidden])",
        )
        .unwrap();
    assert!(fields.length() > 20, "only {} fields", fields.length());
    let mut kept = Vec::new();
    for i in 0..fields.length() {
        let e: web_sys::Element = fields.item(i).unwrap().unchecked_into();
        let a = e.get_attribute("autocomplete").unwrap_or_default();
        if a != "off" && a != "new-password" {
            kept.push(format!("#{} ({a:?})", e.id()));
        }
    }
    assert!(kept.is_empty(), "fields the browser may keep: {kept:?}");
    page.remove();
}

#[wasm_bindgen_test]
async fn a_workspace_kept_in_this_browser_survives_a_reload_and_locks_and_unlocks() {
    let name = format!("site-{}", (js_sys::Math::random() * 1e9) as u64);
    let page = mount();
    settle().await;
    type_into(&page, "ca-cn", "Kept In Browser Root");
    click(&page, "ca-create");
    settle().await;
    // A passphrase that is too short: said beside the form; then a good one keeps it, and the
    // answer replaces the error in the same place (next to Keep).
    type_into(&page, "ws-pass", "too short");
    type_into(&page, "ws-pass2", "too short");
    type_into(&page, "ws-name", &name);
    settle().await;
    click(&page, "ws-keep");
    wait_for(&page, "#ws-save-status", "characters").await;
    type_into(&page, "ws-pass", "kept in this browser");
    type_into(&page, "ws-pass2", "kept in this browser");
    settle().await;
    click(&page, "ws-keep");
    wait_for(
        &page,
        "#ws-save-status",
        &format!("Kept '{name}' in this browser"),
    )
    .await;
    assert!(find(&page, "#ws-save-status.error").is_none());
    wait_for(&page, "#ws-kept", &name).await;
    page.remove();

    // A new page (as after a reload) lists it, and its home offers to unlock it right there, with
    // a passphrase field of its own.
    go_to("").await;
    let page = mount();
    wait_for(&page, "#ws-kept", &name).await;
    wait_for(&page, "#home-kept", &name).await;
    assert!(find(&page, "#home-unlock-pass").is_some());
    assert!(find(&page, &format!("#home-unlock-{name}")).is_some());
    // A CA made here and not kept: Lock asks first and drops nothing until asked again.
    type_into(&page, "ca-cn", "Unrelated Root");
    click(&page, "ca-create");
    settle().await;
    type_into(&page, "ws-pass", "typed before the lock");
    type_into(&page, "ws-open-pass", "typed before the lock");
    type_into(&page, "ws-unlock-pass", "typed before the lock");
    settle().await;
    click(&page, "ws-lock");
    let asked = wait_for(&page, "#ws-lock-status", "press Lock again").await;
    assert!(
        asked.contains("1 CA and 0 device certificates, never kept"),
        "{asked}"
    );
    assert!(
        find(&page, "#ca-result").is_some(),
        "nothing is dropped before the user agrees"
    );
    click(&page, "ws-lock");
    wait_for(&page, "#ws-lock-status", "Locked").await;
    settle().await;
    assert!(
        find(&page, "#ca-result").is_none(),
        "the CA is still shown after locking"
    );
    // Nothing typed survives the lock: one click on Unlock must not open it again.
    for field in ["ws-pass", "ws-open-pass", "ws-unlock-pass"] {
        assert_eq!(value(&page, field), "", "{field} after the lock");
    }
    click(&page, &format!("ws-unlock-{name}"));
    wait_for(&page, "#ws-keep-status", "Type").await;
    assert!(find(&page, "#ca-result").is_none());
    // Unlock has its own field; a wrong passphrase is named as such.
    type_into(&page, "ws-unlock-pass", "not the passphrase");
    settle().await;
    click(&page, &format!("ws-unlock-{name}"));
    wait_for(
        &page,
        "#ws-keep-status",
        &format!("The passphrase does not open '{name}'"),
    )
    .await;
    type_into(&page, "ws-unlock-pass", "kept in this browser");
    settle().await;
    click(&page, &format!("ws-unlock-{name}"));
    wait_for(
        &page,
        "#ws-keep-status",
        &format!("Unlocked '{name}': 1 CA"),
    )
    .await;
    settle().await;
    assert!(text(&page, "#ca-result").contains("CN=Kept In Browser Root"));
    // Nothing added since the unlock: Lock does not ask.
    click(&page, "ws-lock");
    wait_for(&page, "#ws-lock-status", "Locked").await;
    type_into(&page, "ws-unlock-pass", "kept in this browser");
    settle().await;
    click(&page, &format!("ws-unlock-{name}"));
    wait_for(&page, "#ws-keep-status", "Unlocked").await;
    // A new passphrase, in fields of its own: the old one no longer opens it, the new one does.
    click(&page, &format!("ws-rekey-{name}"));
    settle().await;
    type_into(&page, "ws-rekey-old", "kept in this browser");
    type_into(&page, "ws-rekey-new", "a brand new passphrase");
    type_into(&page, "ws-rekey-new2", "a brand new passphrase");
    settle().await;
    click(&page, "ws-rekey-submit");
    wait_for(
        &page,
        "#ws-rekey-status",
        "now opens with the new passphrase only",
    )
    .await;
    type_into(&page, "ws-unlock-pass", "kept in this browser");
    settle().await;
    click(&page, &format!("ws-unlock-{name}"));
    wait_for(&page, "#ws-keep-status", "does not open").await;
    type_into(&page, "ws-unlock-pass", "a brand new passphrase");
    settle().await;
    click(&page, &format!("ws-unlock-{name}"));
    wait_for(
        &page,
        "#ws-keep-status",
        &format!("Unlocked '{name}': 1 CA"),
    )
    .await;
    // Forget asks first.
    click(&page, &format!("ws-forget-{name}"));
    wait_for(&page, "#ws-keep-status", "Press Forget again").await;
    settle().await;
    assert!(find(&page, &format!("#ws-unlock-{name}")).is_some());
    click(&page, &format!("ws-forget-{name}"));
    wait_for(&page, "#ws-keep-status", &format!("Forgot '{name}'")).await;
    settle().await;
    assert!(find(&page, &format!("#ws-unlock-{name}")).is_none());
    page.remove();
}

#[wasm_bindgen_test]
async fn a_user_renews_the_devices_due_with_their_keys_and_renews_the_ca() {
    let page = mount();
    settle().await;
    type_into(&page, "ca-cn", "Renewal Root");
    click(&page, "ca-create");
    settle().await;
    for (id, days) in [("due-soon", "10"), ("due-later", "200")] {
        type_into(&page, "d-id", id);
        type_into(&page, "d-days", days);
        click(&page, "d-create");
        settle().await;
    }
    let pem_of = |selector: &str| -> Certificate {
        let area: web_sys::HtmlTextAreaElement = find(&page, &format!("{selector} textarea"))
            .unwrap_or_else(|| panic!("{selector}"))
            .unchecked_into();
        Certificate::from_pem(&area.value()).unwrap()
    };
    let old = pem_of("[id^=device-]");
    assert_eq!(
        old.info().unwrap().common_name.as_deref(),
        Some("due-later")
    );
    // Within 30 days: only due-soon.
    let table = text(&page, "#renew-table");
    assert!(
        table.contains("due-soon") && !table.contains("due-later"),
        "{table}"
    );
    assert!(table.contains("held here"), "{table}");
    type_into(&page, "renew-within", "365");
    settle().await;
    let table = text(&page, "#renew-table");
    assert!(
        table.contains("due-soon") && table.contains("due-later"),
        "{table}"
    );
    // Untick due-soon: one device left to renew.
    let pick = find(&page, "#renew-table input[type=checkbox]").unwrap();
    pick.unchecked_ref::<web_sys::HtmlElement>().click();
    settle().await;
    assert_eq!(text(&page, "#renew-submit"), "Renew 1 device");
    click(&page, "renew-submit");
    let done = wait_for(
        &page,
        "#renew-result",
        "1 device certificate renewed: due-later",
    )
    .await;
    assert!(done.contains("Download renewed-devices-1.zip"), "{done}");
    let renewed = pem_of("#renew-result [id^=renewed-]");
    let (a, b) = (old.info().unwrap(), renewed.info().unwrap());
    assert_eq!(b.common_name.as_deref(), Some("due-later"));
    assert_ne!(a.serial, b.serial);
    assert_eq!(
        a.subject_public_key_info, b.subject_public_key_info,
        "kept the device's key"
    );
    assert!(b.not_after > a.not_after);
    assert!(done.contains("Download due-later.key"), "{done}");
    // The newest certificate counts: due-later (its old certificate had 200 days) is no longer
    // due within 300 days; due-soon still is.
    type_into(&page, "renew-within", "300");
    settle().await;
    let table = text(&page, "#renew-table");
    assert!(
        table.contains("due-soon") && !table.contains("due-later"),
        "{table}"
    );
    // The hub side lists it for a thumbprint rollover.
    assert!(text(&page, "#renew-hub").contains("Renewed on this page: due-later."));

    // A new key this time, for due-soon.
    let pick = find(&page, "#renew-table input[type=checkbox]").unwrap();
    pick.unchecked_ref::<web_sys::HtmlElement>().click();
    click(&page, "renew-new-key");
    settle().await;
    click(&page, "renew-submit");
    wait_for(
        &page,
        "#renew-result",
        "1 device certificate renewed: due-soon",
    )
    .await;
    let rekeyed = pem_of("#renew-result [id^=renewed-]");
    assert_eq!(
        rekeyed.info().unwrap().common_name.as_deref(),
        Some("due-soon")
    );

    // The root renewed with its own key: the old device still chains to the new root.
    let old_root = pem_of("#ca-result");
    click(&page, "renew-ca-submit");
    let said = wait_for(&page, "#renew-ca-status", "Renewed with the same key").await;
    assert!(said.contains("Upload the new certificate"), "{said}");
    let new_root = pem_of("#ca-result");
    assert_ne!(new_root.der(), old_root.der());
    let (r0, r1) = (old_root.info().unwrap(), new_root.info().unwrap());
    assert_eq!(r0.subject, r1.subject);
    assert_eq!(r0.subject_public_key_info, r1.subject_public_key_info);
    assert!(hubcert::pki::is_signed_by(&old, &new_root).unwrap());
    // What the renewed root signs next chains to it.
    type_into(&page, "d-id", "after-renewal");
    type_into(&page, "d-days", "30");
    click(&page, "d-create");
    settle().await;
    let next = pem_of("[id^=device-]");
    assert_eq!(
        next.info().unwrap().common_name.as_deref(),
        Some("after-renewal")
    );
    assert!(hubcert::pki::is_signed_by(&next, &old_root).unwrap());
    page.remove();
}

#[wasm_bindgen_test]
async fn the_page_asks_nothing_of_another_origin_until_the_user_does() {
    // Every fetch the page makes is recorded; resource timing lists what else it loaded.
    js_sys::eval(
        "window.__hubcertFetches = []; const f = window.fetch; \
         window.fetch = function (r, i) { window.__hubcertFetches.push(typeof r === 'string' ? r : r.url); return f.call(window, r, i); };",
    )
    .unwrap();
    let page = mount();
    settle().await;
    sleep_ms(1500).await;
    let origin = web_sys::window().unwrap().location().origin().unwrap();
    let fetched = js_sys::eval("window.__hubcertFetches.join('\\n')")
        .unwrap()
        .as_string()
        .unwrap_or_default();
    let elsewhere: Vec<&str> = fetched
        .lines()
        .filter(|u| !u.is_empty() && !u.starts_with(&origin) && !u.starts_with('/'))
        .collect();
    assert!(elsewhere.is_empty(), "requests on load: {elsewhere:?}");
    let loaded =
        js_sys::eval("performance.getEntriesByType('resource').map(e => e.name).join('\\n')")
            .unwrap()
            .as_string()
            .unwrap_or_default();
    let elsewhere: Vec<&str> = loaded
        .lines()
        .filter(|u| !u.is_empty() && !u.starts_with(&origin))
        .collect();
    assert!(elsewhere.is_empty(), "loaded on load: {elsewhere:?}");
    // Pressing localhub's button is asking: then, and only then, it is called.
    click(&page, "hub-read-localhub");
    sleep_ms(500).await;
    let fetched = js_sys::eval("window.__hubcertFetches.join('\\n')")
        .unwrap()
        .as_string()
        .unwrap_or_default();
    assert!(fetched.contains("/localhub/info"), "{fetched}");
    page.remove();
}

#[wasm_bindgen_test]
async fn the_dps_route_lists_the_published_limits_with_their_sources() {
    let page = mount();
    settle().await;
    let limits = text(&page, "#limits");
    assert!(
        limits.contains("CA certificates on one DPS: at most 25"),
        "{limits}"
    );
    assert!(
        limits
            .contains("symmetric-key enrollment groups on one DPS: at most 100 (cannot be raised)"),
        "{limits}"
    );
    assert!(limits.contains("the docs disagree"), "{limits}");
    assert!(limits.contains("Source: MicrosoftDocs"), "{limits}");
}

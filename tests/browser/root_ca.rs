//! The Root CA route (`#/root-ca`): a root made or imported, intermediates, and which CA signs.

use hubcert::pki::{Certificate, CertificateAuthority, KeyAlgorithm, KeyPair, RootCaParams};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::wasm_bindgen_test;

use crate::page::*;

#[wasm_bindgen_test]
async fn a_user_makes_the_root_the_verification_and_a_device_certificate() {
    let page = mount().await;

    // Before any CA exists, issuing a device says what to do first.
    press(&page, "d-create").await;
    assert!(text(&page, "#step-device").contains("Create a root CA in step 1 first"));
    assert!(find(&page, "[id^=device-]").is_none());

    // Step 1.
    create_root(&page, "Contoso Root").await;
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
    press(&page, "v-create").await;
    assert!(text(&page, "#v-code-error").contains("Paste the verification code"));
    type_into(&page, "v-code", "  48B3A2C9B5F2A1E0\n");
    press(&page, "v-create").await;
    assert!(find(&page, "#v-code-error").is_none());
    let v = text(&page, "#v-result");
    assert!(
        v.contains("CN=48B3A2C9B5F2A1E0") && v.contains("CN=Contoso Root"),
        "{v}"
    );
    assert!(v.contains("Download verification.pem"), "{v}");

    // Step 3: a bad id and a validity past the CA's are refused next to their fields.
    issue_device_for(&page, "line/7", "4000").await;
    assert!(text(&page, "#d-id-error").contains("Character 5 ('/')"));
    issue_device(&page, "line-7").await;
    assert!(text(&page, "#d-days-error").contains("would outlive its CA"));
    issue_device_for(&page, "line-7", "0").await;
    assert!(text(&page, "#d-days-error").contains("at least 1 day"));
    issue_device_for(&page, "line-7", "365").await;
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
    let info = certificate_in(&page, "[id^=device-]").info().unwrap();
    assert_eq!(info.common_name.as_deref(), Some("line-7"));
    page.remove();
}

#[wasm_bindgen_test]
async fn a_user_adds_an_intermediate_and_chooses_which_ca_signs() {
    let page = mount().await;
    create_root(&page, "Tree Root").await;

    type_into(&page, "im-cn", "Tree Intermediate");
    choose(&page, "im-key", "p384");
    press(&page, "im-create").await;
    let card = text(&page, "[id^=intermediate-]");
    assert!(
        card.contains("CN=Tree Intermediate") && card.contains("CN=Tree Root"),
        "{card}"
    );
    assert!(card.contains("Download chain.pem"), "{card}");
    assert!(card.contains("Download intermediate-ca.p7b"), "{card}");
    assert!(card.contains("ECDSA P-384"), "{card}");
    // pathLen 0 (the default): it may not sign another CA, and the page says so.
    press(&page, "im-create").await;
    assert!(text(&page, "#step-intermediate").contains("may not sign another CA"));

    // Devices are signed by the intermediate and come with a full chain.
    issue_device(&page, "leaf-1").await;
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
    press(&page, &button).await;
    assert!(
        text(&page, &status).contains("at least 12"),
        "{}",
        text(&page, &status)
    );
    // Generate: a strong password, shown so it can be copied.
    press(&page, &pw.replace("-password", "-generate")).await;
    let generated = value(&page, &pw);
    assert_eq!(generated.len(), 29, "{generated}");
    assert_eq!(
        attribute(&page, &format!("#{pw}"), "type").as_deref(),
        Some("text")
    );
    type_into(&page, &pw, "device-secret-1");
    choose(&page, &pw.replace("-password", "-preset"), "legacy");
    press_until(&page, &button, &status, "Saved leaf-1.pfx (legacy").await;

    // The root CA's own .pfx (its key, for moving it to another machine or a keychain).
    let root_pw = find(&page, "#ca-result input[id$='-pfx-password']")
        .unwrap()
        .id();
    type_into(&page, &root_pw, "root-secret-pass");
    let status = press_until(
        &page,
        &root_pw.replace("-password", "-download"),
        &format!("#{}", root_pw.replace("-password", "-status")),
        "Saved root-ca.pfx",
    )
    .await;
    assert!(status.contains("modern"), "{status}");

    // Back to the root: the next device is signed by it, without a chain file.
    choose(&page, "ca-active", "0");
    settle().await;
    issue_device(&page, "leaf-2").await;
    let dev = text(&page, "[id^=device-]");
    assert!(
        dev.contains("Device leaf-2") && !dev.contains("fullchain"),
        "{dev}"
    );
    let issuer_line = dev.split("Issuer").nth(1).unwrap_or_default();
    assert!(issuer_line.contains("CN=Tree Root"), "{dev}");

    // The device test says before connecting what a GA hub does over WebSockets: the device under
    // the intermediate needs preview mode (or a thumbprint registration); the root's does not.
    fill(&page, "dev-id", "leaf-1").await;
    let caution = text(&page, "#dev-ws-caution");
    assert!(
        caution.contains("preview mode") && caution.contains("thumbprint"),
        "{caution}"
    );
    fill(&page, "dev-id", "leaf-2").await;
    assert!(find(&page, "#dev-ws-caution").is_none());
}

#[wasm_bindgen_test]
async fn a_user_imports_an_existing_ca_with_an_encrypted_key() {
    let existing = root_named("Existing Corp CA");
    let key_pem = existing.key().to_encrypted_pkcs8_pem("import-me").unwrap();
    let page = mount().await;

    // Nothing pasted: both fields say what is missing.
    press(&page, "imp-submit").await;
    assert!(text(&page, "#imp-cert-error").contains("CA certificate"));
    assert!(text(&page, "#imp-key-error").contains("private key"));

    type_into(&page, "imp-cert", &existing.certificate().pem());
    type_into(&page, "imp-key", &key_pem);
    type_into(&page, "imp-password", "wrong");
    press(&page, "imp-submit").await;
    assert!(text(&page, "#imp-password-error").contains("password does not open"));

    type_into(&page, "imp-password", "import-me");
    press(&page, "imp-submit").await;
    let ca = text(&page, "#ca-result");
    assert!(
        ca.contains("Imported CA") && ca.contains("CN=Existing Corp CA"),
        "{ca}"
    );
    // The key and its password do not stay in the form once imported.
    assert_eq!(value(&page, "imp-key"), "");
    assert_eq!(value(&page, "imp-password"), "");

    issue_device(&page, "imported-leaf").await;
    let dev = text(&page, "[id^=device-]");
    let issuer = dev.split("Issuer").nth(1).unwrap_or_default();
    assert!(issuer.contains("CN=Existing Corp CA"), "{dev}");
}

/// A root (the default name) and an intermediate named `cn` under it, valid 500 days.
fn root_and_intermediate(cn: &str) -> (CertificateAuthority, CertificateAuthority) {
    let root = CertificateAuthority::create_root(&RootCaParams::default(), now()).unwrap();
    let inter = intermediate_under(&root, cn, Some(500));
    (root, inter)
}

/// After an intermediate is imported: its card, then a device it signs with the full chain.
async fn the_imported_intermediate_signs(page: &web_sys::Element, cn: &str, device: &str) {
    let ca = text(page, "#ca-result");
    assert!(
        ca.contains("Imported intermediate CA") && ca.contains("Download chain.pem"),
        "{ca}"
    );
    // Devices it signs come with the full chain the hub needs.
    issue_device(page, device).await;
    let dev = text(page, "[id^=device-]");
    assert!(
        dev.contains(&format!("CN={cn}")) && dev.contains(&format!("{device}-fullchain.pem")),
        "{dev}"
    );
}

#[wasm_bindgen_test]
async fn a_user_imports_an_intermediate_ca_from_a_pfx() {
    let (root, inter) = root_and_intermediate("Pfx Intermediate");
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
    let page = mount().await;
    choose_file(&page, "imp-cert-file", "intermediate.pfx", &pfx);
    wait_for(&page, "#imp-cert-loaded", "PKCS#12").await;
    press(&page, "imp-submit").await;
    assert!(text(&page, "#imp-password-error").contains("Enter the password of intermediate.pfx"));
    type_into(&page, "imp-password", "not it");
    press(&page, "imp-submit").await;
    assert!(text(&page, "#imp-password-error").contains("does not open this .pfx file"));
    type_into(&page, "imp-password", "ca-pfx-pw");
    press(&page, "imp-submit").await;
    the_imported_intermediate_signs(&page, "Pfx Intermediate", "pfx-leaf").await;
}

#[wasm_bindgen_test]
async fn a_user_imports_an_intermediate_from_a_p7b_and_its_key() {
    let (root, inter) = root_and_intermediate("P7b Intermediate");
    // Root first, as a Windows chain export may order it.
    let p7b = hubcert::pki::write_pkcs7(&[root.certificate().clone(), inter.certificate().clone()])
        .unwrap();
    let page = mount().await;
    choose_file(&page, "imp-cert-file", "chain.p7b", &p7b);
    wait_for(&page, "#imp-cert-loaded", "chain.p7b loaded").await;
    // The root's key is not the one given: refused by name.
    let stranger = KeyPair::generate(KeyAlgorithm::EcdsaP256).unwrap();
    type_into(&page, "imp-key", &stranger.to_pkcs8_pem().unwrap());
    press(&page, "imp-submit").await;
    assert!(text(&page, "#imp-key-error").contains("belongs to none of the certificates"));
    type_into(&page, "imp-key", &inter.key().to_pkcs8_pem().unwrap());
    press(&page, "imp-submit").await;
    the_imported_intermediate_signs(&page, "P7b Intermediate", "p7b-leaf").await;
    page.remove();
}

#[wasm_bindgen_test]
async fn a_user_makes_the_seeds_rsa_4096_root_and_rsa_2048_devices_with_webcrypto() {
    let page = mount().await;
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
    let root = certificate_in(&page, "#ca-result");

    // The seed's device key: RSA 2048, signed with the RSA 4096 root's key in WebAssembly.
    type_into(&page, "d-id", "rsa-device-1");
    choose(&page, "d-key", "rsa2048");
    let dev = press_until(&page, "d-create", "[id^=device-]", "RSA 2048").await;
    assert!(dev.contains("CN=rsa-device-1"), "{dev}");
    let cert: Certificate = certificate_in(&page, "[id^=device-]");
    assert!(hubcert::pki::is_signed_by(&cert, &root).unwrap());
    let info = cert.info().unwrap();
    assert_eq!(info.key_type, "RSA 2048");
    assert!(info.client_auth && !info.is_ca);

    // A typo is reported at once, before any key is made.
    issue_device(&page, "bad/id").await;
    assert!(text(&page, "#d-id-error").contains("'/'"));
    assert!(find(&page, "#d-keygen").is_none());
    page.remove();
}

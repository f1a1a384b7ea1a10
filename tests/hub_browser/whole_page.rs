//! What holds across the routes against localhub: no private key leaves the page.

use wasm_bindgen::JsCast;
use wasm_bindgen_test::wasm_bindgen_test;

use crate::localhub::*;
use crate::page::*;
use crate::recorder::{download_text, record_network, recorded};

#[wasm_bindgen_test]
async fn no_private_key_leaves_the_page_through_a_whole_flow() {
    localhub_info().await;
    record_network();
    let page = mount().await;
    let tag = suffix();
    create_root(&page, &format!("Leak Check Root {tag}")).await;
    create_intermediate(&page, "Leak Check Intermediate").await;
    hub_endpoints_at_localhub(&page);
    let name = format!("leak-{tag}");
    upload_with_proof(&page, &name).await;
    let dev = format!("leak-dev-{tag}");
    issue_device(&page, &dev).await;
    fill(&page, "batch-ids", &format!("leak-batch-{tag}-{{1..3}}")).await;
    press_until(
        &page,
        "batch-create",
        "#batch-result",
        "3 device certificates issued",
    )
    .await;
    press(&page, "reg-fill").await;
    press_until(&page, "reg-submit", "#reg-status", "4 of 4 done").await;
    // A DPS group over the intermediate, and a renewal rolled over on the hub.
    read_localhub_dps(&page).await;
    type_into(&page, "dps-group-id", &format!("leak-group-{tag}"));
    choose(&page, "dps-primary", "ca-1");
    settle().await;
    save_group(&page, "Created enrollment group").await;
    fill(&page, "renew-within", "400").await;
    press_until(&page, "renew-submit", "#renew-result", "renewed").await;
    press_until(&page, "renew-roll", "#renew-roll-status", "done").await;

    // The keys, as the page offers them for download.
    let keys = [
        download_text(&page, "root-ca.key").await,
        download_text(&page, "intermediate-ca.key").await,
        download_text(&page, &format!("{dev}.key")).await,
    ];
    let recorded = recorded();
    // The recorder saw the flow: the intermediate's certificate went to the hub, devices to the
    // registry, the group to DPS.
    let inter_pem = find(&page, "[id^=intermediate-] textarea")
        .expect("the intermediate's card")
        .unchecked_into::<web_sys::HtmlTextAreaElement>()
        .value();
    let inter_b64: String = inter_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    assert!(
        recorded.contains(&inter_b64[..64])
            || recorded.replace("\\n", "").contains(&inter_b64[..64]),
        "the upload of the intermediate was not recorded"
    );
    assert!(
        recorded.contains(&format!("/devices/{dev}")),
        "{}",
        &recorded[..recorded.len().min(2000)]
    );
    assert!(recorded.contains("/enrollmentGroups/leak-group-"));
    for key in &keys {
        assert!(key.contains("PRIVATE KEY"), "{key}");
        let b64: String = key.lines().filter(|l| !l.starts_with("-----")).collect();
        let der = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &b64).unwrap();
        let der_hex: String = der.iter().map(|b| format!("{b:02x}")).collect();
        let needles: Vec<String> = key
            .lines()
            .filter(|l| !l.starts_with("-----") && l.len() >= 32)
            .map(str::to_owned)
            .chain([b64.clone(), der_hex[..64].to_owned()])
            .collect();
        for n in &needles {
            assert!(
                !recorded.contains(n.as_str()),
                "private key material left the page: {n}"
            );
        }
    }
    page.remove();
}

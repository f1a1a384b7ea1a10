//! The DPS route (`#/dps`): enrollment groups and individual enrollments on localhub's DPS, by
//! certificate and by symmetric key, and the provisioning test.

use serde_json::Value;
use wasm_bindgen_test::wasm_bindgen_test;
use web_sys::Element;

use crate::localhub::*;
use crate::page::*;

/// Presses the individual enrollment's `button`, waiting until its status says `said`.
async fn individual(page: &Element, button: &str, said: &str) {
    press_until(page, button, "#dps-individual-status", said).await;
}

/// Sets the provisioning test's DPS and hub address to `address`.
fn provision_through(page: &Element, address: &str) {
    type_into(page, "dps-device-endpoint", address);
    type_into(page, "dps-hub-address", address);
}

#[wasm_bindgen_test]
async fn dps_provisions_the_browser_store_device_which_then_sends_through_the_assigned_hub() {
    let info = localhub_info().await;
    let id = x509_device();
    let page = mount().await;
    create_root(&page, "DPS Page Root").await;

    // The service: localhub's DPS settings read from localhub; ARM (for the DPS's certificates)
    // is the hub step's.
    type_into(&page, "hub-arm-endpoint", LOCALHUB);
    read_localhub_dps(&page).await;
    assert_eq!(
        value(&page, "dps-id-scope"),
        info["idScope"].as_str().unwrap()
    );
    assert_eq!(
        value(&page, "dps-connection-string"),
        info["dpsConnectionString"].as_str().unwrap()
    );

    // A group over the page's root: created, then updated with its etag.
    let page_group = format!("page-fleet-{}", suffix());
    type_into(&page, "dps-group-id", &page_group);
    save_group(
        &page,
        &format!("Created enrollment group {page_group} (enabled)"),
    )
    .await;
    save_group(&page, &format!("Updated enrollment group {page_group}")).await;
    // A malformed initial twin is refused by name; a good one goes with the group.
    fill(&page, "dps-initial-twin", "[1]").await;
    save_group(&page, "Initial twin: a JSON object").await;
    fill(
        &page,
        "dps-initial-twin",
        r#"{"tags": {"site": "browser"}, "properties": {"desired": {"interval": 30}}}"#,
    )
    .await;
    save_group(&page, &format!("Updated enrollment group {page_group}")).await;
    let (_, g) = get_json_dps(&format!("/enrollmentGroups/{page_group}"), &info).await;
    assert_eq!(
        g["initialTwin"]["properties"]["desired"]["interval"], 30,
        "{g}"
    );
    assert_eq!(g["reprovisionPolicy"]["migrateDeviceData"], true, "{g}");
    type_into(&page, "dps-initial-twin", "");
    // A bad id is refused by name before anything is sent.
    type_into(&page, "dps-group-id", "fleet/1");
    save_group(&page, "not a DPS enrollment id").await;

    // By reference: refused while DPS does not hold the CA; uploaded and proven on DPS with the
    // hub's one-click flow, then accepted.
    let ca_name = format!("page-root-{}", suffix());
    press(&page, "dps-mode-reference").await;
    type_into(&page, "dps-ca-name", &ca_name);
    type_into(&page, "dps-group-id", &format!("by-ref-{}", suffix()));
    save_group(&page, "names no certificate of this DPS").await;
    press_until(
        &page,
        "dps-prove",
        "#dps-proof-status",
        "is on DPS and verified (proof of possession)",
    )
    .await;
    save_group(&page, &format!("the DPS certificate '{ca_name}'")).await;
    let dps_name = info["dpsName"].as_str().unwrap();
    let (status, on_dps) = get_json(
        &format!("{LOCALHUB}/subscriptions/s/resourceGroups/r/providers/Microsoft.Devices/provisioningServices/{dps_name}/certificates/{ca_name}?api-version=2022-12-12"),
        "Bearer test",
    )
    .await;
    assert_eq!(
        (status, &on_dps["properties"]["isVerified"]),
        (200, &Value::Bool(true)),
        "{on_dps}"
    );
    press(&page, "dps-mode-signing").await;

    // An individual enrollment of a device issued on the page: enrolled with its certificate,
    // and not registered yet.
    let solo = format!("page-solo-{}", suffix());
    issue_device(&page, &solo).await;
    type_into(&page, "dps-individual-id", &solo);
    individual(
        &page,
        "dps-individual-save",
        &format!("Created individual enrollment {solo} with 1 certificate"),
    )
    .await;
    individual(&page, "dps-state", "has not registered with this DPS yet").await;
    individual(
        &page,
        "dps-individual-delete",
        &format!("Deleted {solo}'s enrollment"),
    )
    .await;
    let (status, _) = get_json_dps(&format!("/enrollments/{solo}"), &info).await;
    assert_eq!(status, 404);
    type_into(&page, "dps-individual-id", "nobody-here");
    individual(
        &page,
        "dps-individual-save",
        "No device certificate with CN 'nobody-here'",
    )
    .await;

    // The store's device: no group trusts its CA yet, so DPS refuses it.
    fill(&page, "dps-registration-id", id).await;
    let code = text(&page, "#dps-snippets");
    let scope = info["idScope"].as_str().unwrap();
    assert!(
        code.contains(&format!("new X509Security(\"{id}\", tls)"))
            && code.contains(&format!("id_scope=\"{scope}\""))
            && code.contains("NODE_EXTRA_CA_CERTS="),
        "{code}"
    );
    provision_through(&page, LOCALHUB_WSS);
    let refused = press_until(
        &page,
        "dps-register",
        "#dps-result",
        "DPS refused the device",
    )
    .await;
    assert!(
        refused.contains("registration id equals the certificate's CN"),
        "{refused}"
    );

    // A group over its CA (pasted, as a user pastes a CA made elsewhere): provisioned, and the
    // assigned hub takes its telemetry.
    let (status, cert) = get_json(&hub_certificate_url(&format!("root-{id}")), "Bearer test").await;
    assert_eq!(status, 200, "{cert}");
    let store_group = format!("store-fleet-{}", suffix());
    type_into(&page, "dps-group-id", &store_group);
    choose(&page, "dps-primary", "paste");
    settle().await;
    type_into(
        &page,
        "dps-pasted",
        cert["properties"]["certificate"].as_str().unwrap(),
    );
    save_group(&page, &format!("Created enrollment group {store_group}")).await;
    let before = telemetry_of(id).await.len();
    let done = press_until(&page, "dps-register", "#dps-result", "Provisioned").await;
    assert!(
        done.contains(&format!("DPS assigned {id} to localhost"))
            && done.contains("acknowledged its telemetry"),
        "{done}"
    );
    let log = text(&page, "#dps-log");
    assert!(
        log.contains("iotdps-register") && log.contains("iotdps-get-operationstatus"),
        "{log}"
    );
    let after = telemetry_of(id).await;
    assert_eq!(after.len(), before + 1, "{after:?}");
    let last = after.last().unwrap();
    assert_eq!(last["transport"], "wss", "{last}");
    assert!(
        last["body"]
            .as_str()
            .unwrap_or("")
            .contains(&format!("\"deviceId\": \"{id}\"")),
        "{last}"
    );

    // Both groups are listed.
    let listed = press_until(&page, "dps-list", "#dps-groups", &store_group).await;
    assert!(
        listed.contains(&page_group) && listed.contains("DPS Page Root"),
        "{listed}"
    );

    // Disabled, the group no longer provisions the device, and the page says so.
    click(&page, "dps-enabled");
    save_group(
        &page,
        &format!("Updated enrollment group {store_group} (disabled)"),
    )
    .await;
    let off = press_until(&page, "dps-register", "#dps-result", "disabled").await;
    assert!(off.contains("enable the group"), "{off}");

    // The page's group deleted (asked once, then done): DPS no longer has it.
    fill(&page, "dps-group-id", &page_group).await;
    press_until(
        &page,
        "dps-delete",
        "#dps-status",
        "Click Delete again to confirm",
    )
    .await;
    press_until(
        &page,
        "dps-delete",
        "#dps-status",
        &format!("Deleted enrollment group {page_group}"),
    )
    .await;
    let (status, _) = get_json_dps(&format!("/enrollmentGroups/{page_group}"), &info).await;
    assert_eq!(status, 404);

    // Re-provisioning after renewal across a CA rollover: the fixture renewed the device under a
    // second root (verified on the hub) and presents that certificate on localhub's HTTPS port,
    // which serves the WebSocket too. The first group is disabled now, so only a group over the
    // new root can let it in: the renewed device registers and lands on the same hub with the
    // same device id.
    let (status, next) = get_json(
        &hub_certificate_url(&format!("root-{id}-next")),
        "Bearer test",
    )
    .await;
    assert_eq!(status, 200, "{next}");
    let next_group = format!("store-next-{}", suffix());
    type_into(&page, "dps-group-id", &next_group);
    click(&page, "dps-enabled");
    type_into(
        &page,
        "dps-pasted",
        next["properties"]["certificate"].as_str().unwrap(),
    );
    save_group(
        &page,
        &format!("Created enrollment group {next_group} (enabled)"),
    )
    .await;
    let https = LOCALHUB_HTTPS
        .expect("HUBCERT_LOCALHUB_HTTPS is unset: run under ./scripts/fixtures.sh run ...");
    provision_through(&page, https);
    // How DPS left the device in the hub before: a thumbprint device, pinned to the certificate
    // it presented then (DPS writes its X.509 devices so, never as CA-signed).
    let (_, first) = get_device(&info, id).await;
    assert_eq!(first["authentication"]["type"], "selfSigned", "{first}");
    let before = telemetry_of(id).await.len();
    let again = press_until(&page, "dps-register", "#dps-result", "Provisioned").await;
    assert!(
        again.contains(&format!("DPS assigned {id} to localhost")),
        "{again}"
    );
    assert_eq!(telemetry_of(id).await.len(), before + 1);
    // Provisioning again with the renewed certificate is what moves the hub to it: DPS wrote the
    // renewed certificate's thumbprint in place of the first one.
    let (_, renewed) = get_device(&info, id).await;
    let pinned = |d: &Value| d["authentication"]["x509Thumbprint"]["primaryThumbprint"].clone();
    assert_eq!(renewed["authentication"]["type"], "selfSigned", "{renewed}");
    assert_ne!(pinned(&renewed), pinned(&first), "{renewed}");
    // The fixture's device goes back to how the other tests know it: CA-signed in the hub.
    put_device(&info, id, ca_signed_auth(), Some("*")).await;
    provision_through(&page, LOCALHUB_WSS);
    type_into(&page, "dps-group-id", &store_group);
    type_into(
        &page,
        "dps-pasted",
        cert["properties"]["certificate"].as_str().unwrap(),
    );

    page.remove();
}

#[wasm_bindgen_test]
async fn a_symmetric_key_group_made_on_the_page_shows_dps_key_and_derives_device_keys() {
    let info = localhub_info().await;
    let page = mount().await;
    read_localhub_dps(&page).await;
    let scope = info["idScope"].as_str().unwrap();

    // A group by symmetric key: no CA asked for; DPS makes the keys and the page shows them.
    press(&page, "dps-group-attestation-symkey").await;
    assert!(find(&page, "#dps-primary").is_none());
    let group = format!("symkey-fleet-{}", suffix());
    type_into(&page, "dps-group-id", &group);
    save_group(
        &page,
        &format!("Created enrollment group {group} (enabled)"),
    )
    .await;
    let primary = text(&page, "#dps-group-key code");
    let (status, held) = get_json_dps(&format!("/enrollmentGroups/{group}"), &info).await;
    assert_eq!(status, 200, "{held}");
    assert_eq!(held["attestation"]["type"], "symmetricKey");
    assert_eq!(
        held["attestation"]["symmetricKey"]["primaryKey"].as_str(),
        Some(primary.as_str()),
        "the page shows the key DPS holds"
    );

    // The device key box: a registration id's key, derived from the group's.
    fill(&page, "dps-group-derive-id", "symkey-dev-7").await;
    let derived = text(&page, "#dps-group-derived code");
    assert_eq!(
        derived,
        hubcert::contract::derive_device_key(&primary, "symkey-dev-7").unwrap()
    );
    let needs = text(&page, "#dps-group-derived");
    assert!(
        needs.contains(&format!("ID scope: {scope}"))
            && needs.contains("Registration id: symkey-dev-7")
            && needs.contains(&format!("Device key: {derived}")),
        "{needs}"
    );
    fill(&page, "dps-group-derive-id", "").await;
    assert!(find(&page, "#dps-group-derived").is_none());

    // Saved again, the group keeps its keys (its devices' keys come from them).
    save_group(
        &page,
        &format!("Updated enrollment group {group} (enabled)"),
    )
    .await;
    assert_eq!(text(&page, "#dps-group-key code"), primary);

    // An individual enrollment by symmetric key: no certificate of the page needed.
    let solo = format!("symkey-solo-{}", suffix());
    press(&page, "dps-individual-attestation-symkey").await;
    type_into(&page, "dps-individual-id", &solo);
    individual(
        &page,
        "dps-individual-save",
        &format!("Created individual enrollment {solo} by symmetric key"),
    )
    .await;
    let key = text(&page, "#dps-individual-key code");
    let (_, held) = get_json_dps(&format!("/enrollments/{solo}"), &info).await;
    assert_eq!(
        held["attestation"]["symmetricKey"]["primaryKey"].as_str(),
        Some(key.as_str())
    );
    individual(
        &page,
        "dps-individual-save",
        &format!("Updated individual enrollment {solo}"),
    )
    .await;
    assert_eq!(text(&page, "#dps-individual-key code"), key);
    page.remove();
}

/// Creates a symmetric-key enrollment group with localhub's DPS service API (DPS makes its keys);
/// returns its primary key as DPS answered it.
async fn put_symmetric_key_group(info: &Value, id: &str) -> String {
    let body = serde_json::json!({
        "enrollmentGroupId": id,
        "attestation": {"type": "symmetricKey", "symmetricKey": {}},
    });
    let group = put_json(
        &format!("{LOCALHUB}/enrollmentGroups/{id}?api-version=2021-10-01"),
        &dps_owner_token(info),
        body,
        None,
    )
    .await;
    group["attestation"]["symmetricKey"]["primaryKey"]
        .as_str()
        .expect("DPS answers with the keys it made")
        .to_owned()
}

#[wasm_bindgen_test]
async fn the_page_provisions_a_symmetric_key_device_which_then_sends_through_the_assigned_hub() {
    let info = localhub_info().await;
    let group_key = put_symmetric_key_group(&info, &format!("symkey-test-{}", suffix())).await;
    let id = "symkey-dev-1";
    let before = telemetry_of(id).await.len();
    let page = mount().await;
    read_localhub_dps(&page).await;
    press(&page, "dps-test-attestation-symkey").await;
    type_into(&page, "dps-registration-id", id);
    provision_through(&page, LOCALHUB_WSS);
    settle().await;

    // No key: said before anything is sent.
    press_until(
        &page,
        "dps-register",
        "p.error",
        "Device key: paste the device's key",
    )
    .await;

    // A key no enrollment made: DPS refuses it, and the page says what to check.
    fill(
        &page,
        "dps-device-key",
        "c2VjcmV0LWtleS1vZi1ub2JvZHktYXQtYWxs",
    )
    .await;
    press_until(&page, "dps-register", "#dps-result", "check the device key").await;

    // The device key pasted, derived in the test from the group's key.
    let device_key = hubcert::contract::derive_device_key(&group_key, id).unwrap();
    fill(&page, "dps-device-key", &device_key).await;
    let done = press_until(&page, "dps-register", "#dps-result", "Provisioned").await;
    assert!(done.contains(&format!("assigned {id} to")), "{done}");
    let log = text(&page, "#dps-log");
    assert!(log.contains("iotdps-register"), "{log}");
    assert!(telemetry_of(id).await.len() > before, "telemetry arrived");

    // The group's key instead: the page derives the device key.
    type_into(&page, "dps-device-key", "");
    fill(&page, "dps-test-group-key", &group_key).await;
    press_until(&page, "dps-register", "#dps-result", "Provisioned").await;
    assert!(
        telemetry_of(id).await.len() > before + 1,
        "telemetry arrived again"
    );
    page.remove();
}

/// Every enrollment group of localhub's DPS, as its service API lists them.
async fn dps_groups(info: &Value) -> Vec<Value> {
    let r = gloo::net::http::Request::post(&format!(
        "{LOCALHUB}/enrollmentGroups/query?api-version=2021-10-01"
    ))
    .header("Authorization", &dps_owner_token(info))
    .header("Content-Type", "application/json")
    .body(r#"{"query":"*"}"#)
    .unwrap()
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
    r.json::<Vec<Value>>().await.unwrap()
}

#[wasm_bindgen_test]
async fn saving_the_101st_symmetric_key_group_says_the_limit_that_cannot_be_raised() {
    let info = localhub_info().await;
    let page = mount().await;
    read_localhub_dps(&page).await;
    // Fill the DPS up to 100 symmetric-key groups with the test's own calls.
    let held = dps_groups(&info)
        .await
        .iter()
        .filter(|g| g["attestation"]["type"] == "symmetricKey")
        .count();
    let run = suffix();
    let filler: Vec<String> = (held..100).map(|i| format!("limit-{run}-{i}")).collect();
    for id in &filler {
        put_symmetric_key_group(&info, id).await;
    }
    press(&page, "dps-group-attestation-symkey").await;
    let group = format!("limit-{run}-new");
    type_into(&page, "dps-group-id", &group);
    save_group(
        &page,
        &format!("Created enrollment group {group} (enabled)"),
    )
    .await;
    let said = text(&page, "#dps-status");
    assert!(
        said.contains("101 would be over the limit of 100 symmetric-key enrollment groups on one DPS, which cannot be raised"),
        "{said}"
    );
    // Saved again, it replaces itself: no limit to speak of.
    save_group(
        &page,
        &format!("Updated enrollment group {group} (enabled)"),
    )
    .await;
    assert!(!text(&page, "#dps-status").contains("over the limit"));
    // Leave the DPS as it was for the other tests.
    for id in filler.iter().chain([&group]) {
        let r = gloo::net::http::Request::delete(&format!(
            "{LOCALHUB}/enrollmentGroups/{id}?api-version=2021-10-01"
        ))
        .header("Authorization", &dps_owner_token(&info))
        .send()
        .await
        .unwrap();
        assert_eq!(r.status(), 204, "{id}");
    }
    page.remove();
}

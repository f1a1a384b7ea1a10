//! The Keep route (`#/workspace`): the encrypted workspace saved, opened, kept in this browser,
//! locked and unlocked.

use hubcert::pki::{seal_vault, KdfCost, StoredCa, StoredDevice, ValidityDays, Workspace};
use wasm_bindgen_test::wasm_bindgen_test;

use crate::page::*;

/// Chooses `bytes` as the workspace file to open, then presses Open and waits for `said`.
async fn open_file(page: &web_sys::Element, name: &str, bytes: &[u8], said: &str) {
    choose_file(page, "ws-file", name, bytes);
    sleep_ms(100).await;
    press_until(page, "ws-open", "#ws-open-status", said).await;
}

#[wasm_bindgen_test]
async fn a_workspace_is_saved_encrypted_and_a_saved_one_brings_back_cas_that_sign() {
    let page = mount().await;
    // Saving: nothing yet, then the passphrase rules, then saved.
    press_until(&page, "ws-save", "#ws-save-status", "at least 12").await;
    create_root(&page, "Saved Root").await;
    type_into(&page, "ws-pass", "a long passphrase");
    fill(&page, "ws-pass2", "a long passphrase!").await;
    press_until(
        &page,
        "ws-save",
        "#ws-save-status",
        "The two passphrases differ",
    )
    .await;
    fill(&page, "ws-pass2", "a long passphrase").await;
    let saved = press_until(
        &page,
        "ws-save",
        "#ws-save-status",
        "Saved hubcert-workspace.hubcert",
    )
    .await;
    assert!(saved.contains("sealed in"), "{saved}");

    // Opening a workspace saved elsewhere: its root and intermediate (with keys) and a device.
    let root = root_named("Kept Root");
    let dev = device_under(&root, "kept-dev", ValidityDays::new(30).unwrap());
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

    press_until(
        &page,
        "ws-open",
        "#ws-open-status",
        "Choose the workspace file",
    )
    .await;
    choose_file(
        &page,
        "ws-file",
        "hubcert-workspace.hubcert",
        sealed.as_bytes(),
    );
    sleep_ms(100).await;
    // A wrong passphrase, then a file with one changed character: refused, nothing replaced.
    fill(&page, "ws-open-pass", "the wrong passphrase").await;
    press_until(
        &page,
        "ws-open",
        "#ws-open-status",
        "does not open this workspace",
    )
    .await;
    assert!(text(&page, "#ca-result").contains("CN=Saved Root"));
    let mut v: serde_json::Value = serde_json::from_str(&sealed).unwrap();
    let ct = v["ciphertext"].as_str().unwrap().to_owned();
    let flipped = if ct.starts_with('A') { "B" } else { "A" };
    v["ciphertext"] = format!("{flipped}{}", &ct[1..]).into();
    choose_file(
        &page,
        "ws-file",
        "changed.hubcert",
        v.to_string().as_bytes(),
    );
    sleep_ms(100).await;
    fill(&page, "ws-open-pass", "the right passphrase").await;
    press_until(
        &page,
        "ws-open",
        "#ws-open-status",
        "the file was changed after it was saved",
    )
    .await;
    open_file(
        &page,
        "not-a-workspace.hubcert",
        b"{\"hello\": 1}",
        "not a hubcert workspace file",
    )
    .await;
    open_file(
        &page,
        "hubcert-workspace.hubcert",
        sealed.as_bytes(),
        "1 CA and 1 device certificate",
    )
    .await;
    settle().await;
    assert!(text(&page, "#ca-result").contains("CN=Kept Root"));
    assert!(text(&page, "#step-expiry").contains("Device kept-dev"));
    // The settings came back too (Azure target, its hub and resource group).
    settle().await;
    sleep_ms(50).await;
    assert_eq!(value(&page, "hub-name"), "restored-hub");
    assert_eq!(value(&page, "hub-resource-group"), "rg-kept");
    // And nothing of them was written to the browser's storage.
    let session = web_sys::window()
        .unwrap()
        .session_storage()
        .unwrap()
        .unwrap();
    assert_eq!(session.length().unwrap(), 0);
    // The restored root signs again: a new device chains to it.
    issue_device(&page, "after-restore").await;
    let card = text(&page, "[id^=device-]");
    assert!(
        card.contains("CN=after-restore") && card.contains("CN=Kept Root"),
        "{card}"
    );
    page.remove();
}

/// Types `passphrase` into Unlock's field, presses the workspace `name`'s Unlock and waits for
/// `said`.
async fn unlock(page: &web_sys::Element, name: &str, passphrase: &str, said: &str) {
    fill(page, "ws-unlock-pass", passphrase).await;
    press_until(page, &format!("ws-unlock-{name}"), "#ws-keep-status", said).await;
}

#[wasm_bindgen_test]
async fn a_workspace_kept_in_this_browser_survives_a_reload_and_locks_and_unlocks() {
    let name = format!("site-{}", (js_sys::Math::random() * 1e9) as u64);
    let page = mount().await;
    create_root(&page, "Kept In Browser Root").await;
    // A passphrase that is too short: said beside the form; then a good one keeps it, and the
    // answer replaces the error in the same place (next to Keep).
    type_into(&page, "ws-pass", "too short");
    type_into(&page, "ws-pass2", "too short");
    fill(&page, "ws-name", &name).await;
    press_until(&page, "ws-keep", "#ws-save-status", "characters").await;
    type_into(&page, "ws-pass", "kept in this browser");
    fill(&page, "ws-pass2", "kept in this browser").await;
    press_until(
        &page,
        "ws-keep",
        "#ws-save-status",
        &format!("Kept '{name}' in this browser"),
    )
    .await;
    assert!(find(&page, "#ws-save-status.error").is_none());
    wait_for(&page, "#ws-kept", &name).await;
    page.remove();

    // A new page (as after a reload) lists it, and its home offers to unlock it right there, with
    // a passphrase field of its own.
    let page = mount_at("").await;
    wait_for(&page, "#ws-kept", &name).await;
    wait_for(&page, "#home-kept", &name).await;
    assert!(find(&page, "#home-unlock-pass").is_some());
    assert!(find(&page, &format!("#home-unlock-{name}")).is_some());
    // A CA made here and not kept: Lock asks first and drops nothing until asked again.
    create_root(&page, "Unrelated Root").await;
    type_into(&page, "ws-pass", "typed before the lock");
    type_into(&page, "ws-open-pass", "typed before the lock");
    fill(&page, "ws-unlock-pass", "typed before the lock").await;
    let asked = press_until(&page, "ws-lock", "#ws-lock-status", "press Lock again").await;
    assert!(
        asked.contains("1 CA and 0 device certificates, never kept"),
        "{asked}"
    );
    assert!(
        find(&page, "#ca-result").is_some(),
        "nothing is dropped before the user agrees"
    );
    press_until(&page, "ws-lock", "#ws-lock-status", "Locked").await;
    settle().await;
    assert!(
        find(&page, "#ca-result").is_none(),
        "the CA is still shown after locking"
    );
    // Nothing typed survives the lock: one click on Unlock must not open it again.
    for field in ["ws-pass", "ws-open-pass", "ws-unlock-pass"] {
        assert_eq!(value(&page, field), "", "{field} after the lock");
    }
    press_until(
        &page,
        &format!("ws-unlock-{name}"),
        "#ws-keep-status",
        "Type",
    )
    .await;
    assert!(find(&page, "#ca-result").is_none());
    // Unlock has its own field; a wrong passphrase is named as such.
    unlock(
        &page,
        &name,
        "not the passphrase",
        &format!("The passphrase does not open '{name}'"),
    )
    .await;
    unlock(
        &page,
        &name,
        "kept in this browser",
        &format!("Unlocked '{name}': 1 CA"),
    )
    .await;
    settle().await;
    assert!(text(&page, "#ca-result").contains("CN=Kept In Browser Root"));
    // Nothing added since the unlock: Lock does not ask.
    press_until(&page, "ws-lock", "#ws-lock-status", "Locked").await;
    unlock(&page, &name, "kept in this browser", "Unlocked").await;
    // A new passphrase, in fields of its own: the old one no longer opens it, the new one does.
    press(&page, &format!("ws-rekey-{name}")).await;
    type_into(&page, "ws-rekey-old", "kept in this browser");
    type_into(&page, "ws-rekey-new", "a brand new passphrase");
    fill(&page, "ws-rekey-new2", "a brand new passphrase").await;
    press_until(
        &page,
        "ws-rekey-submit",
        "#ws-rekey-status",
        "now opens with the new passphrase only",
    )
    .await;
    unlock(&page, &name, "kept in this browser", "does not open").await;
    unlock(
        &page,
        &name,
        "a brand new passphrase",
        &format!("Unlocked '{name}': 1 CA"),
    )
    .await;
    // Forget asks first.
    press_until(
        &page,
        &format!("ws-forget-{name}"),
        "#ws-keep-status",
        "Press Forget again",
    )
    .await;
    settle().await;
    assert!(find(&page, &format!("#ws-unlock-{name}")).is_some());
    press_until(
        &page,
        &format!("ws-forget-{name}"),
        "#ws-keep-status",
        &format!("Forgot '{name}'"),
    )
    .await;
    settle().await;
    assert!(find(&page, &format!("#ws-unlock-{name}")).is_none());
    page.remove();
}

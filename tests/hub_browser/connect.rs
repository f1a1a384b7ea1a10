//! The Connect route's hub client (`#/connect`): the browser's fetch against localhub and
//! against nothing, without the page.

use hubcert::app::Fetch;
use hubcert::iothub::{HubClient, Plane};
use hubcert::pki::{CertificateAuthority, RootCaParams};
use wasm_bindgen_test::wasm_bindgen_test;

use crate::localhub::*;
use crate::page::{now, unix_now};

#[wasm_bindgen_test]
async fn a_stale_etag_and_a_missing_relay_come_back_as_their_messages() {
    localhub_info().await;
    let (hub, arm) = hub_and_arm();
    let ca = CertificateAuthority::create_root(&RootCaParams::default(), now()).unwrap();
    let name = format!("stale-{}", suffix());
    let uploaded = hub
        .upload_certificate(&arm, &name, &ca.certificate().pem(), false)
        .await
        .unwrap();
    hub.call(
        Plane::Arm,
        &arm.generate_verification_code(&name, &uploaded.etag),
    )
    .await
    .unwrap();
    // The etag read before the code was generated is stale now.
    let pem = ca.certificate().pem();
    let err = hub
        .call(Plane::Arm, &arm.verify(&name, &uploaded.etag, &pem))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(412), "{err}");
    assert!(err.to_string().contains("etag was stale"), "{err}");
    assert!(hub.delete_certificate(&arm, &name).await.is_ok());

    // Nothing listens here: the advice for Azure's registry is the relay.
    let nowhere = HubClient::new(Fetch, false);
    let reg = hubcert::iothub::Registry::from_connection_string(
        "http://127.0.0.1:9",
        "HostName=h.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=AAAA",
    )
    .unwrap();
    let id = hubcert::contract::DeviceId::parse("d1").unwrap();
    let err = nowhere.device(&reg, &id, unix_now()).await.unwrap_err();
    assert!(err.to_string().contains("start the relay"), "{err}");
}

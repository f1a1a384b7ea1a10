//! Day two: renew what is due. Device certificates expiring within N days, issued again with each
//! device's own key (the device only gets a new certificate file) or a new key, in one zip; then
//! thumbprint-registered devices rolled over on the hub step by step so none is ever refused; and
//! the signing CA renewed with the same key (what it signed keeps chaining to it).

use super::*;
use crate::app::settings::HubSettings;
use crate::pki::{zip_files, NamedFile, RenewKey};

mod ca;
mod devices;
mod on_hub;

use ca::RenewCa;
use devices::RenewDevices;
use on_hub::RenewOnHub;

#[derive(Properties, PartialEq)]
pub(crate) struct RenewProps {
    /// The CA that signs the renewed certificates.
    pub(crate) ca: Option<SharedCa>,
    /// Every CA of the tree with its card, root first.
    pub(crate) cas: Rc<Vec<(SharedCa, Rc<Issued>)>>,
    /// Device certificates of the page, newest first.
    pub(crate) devices: Rc<Vec<Rc<Issued>>>,
    pub(crate) settings: UseReducerHandle<HubSettings>,
    /// Renewed device certificates, in the order renewed.
    pub(crate) onrenewed: Callback<Vec<Rc<Issued>>>,
    /// A renewed CA replaces the CA at this index of the tree.
    pub(crate) oncarenewed: Callback<(usize, (SharedCa, Rc<Issued>))>,
}

#[component]
pub(crate) fn RenewStep(props: &RenewProps) -> Html {
    // The signing CA's place in the tree, which the CA renewal replaces.
    let active_index = props
        .ca
        .as_ref()
        .and_then(|ca| props.cas.iter().position(|(c, _)| c == ca));
    let active_title = active_index.map(|i| props.cas[i].1.title.clone());
    html! {
        <section class="step" id="step-renew" aria-labelledby="step-renew-title">
            <div class="step-head">
                <span class="step-no" aria-hidden="true">{"↻"}</span>
                <div>
                    <h2 id="step-renew-title">{"Renew"}</h2>
                    <p class="lede">{"Device certificates due soon, issued again by the selected CA with the key each device already holds (only the certificate file changes on the device) or a new one; thumbprint devices rolled over on the hub without a refused connection; the CA renewed with its own key."}</p>
                </div>
            </div>
            if props.ca.is_none() { <p class="notice">{NO_CA}</p> }
            <RenewDevices ca={props.ca.clone()} devices={props.devices.clone()} signer={active_title.clone()} onrenewed={props.onrenewed.clone()} />
            <RenewOnHub devices={props.devices.clone()} settings={props.settings.clone()} />
            <RenewCa cas={props.cas.clone()} active={active_index} title={active_title} oncarenewed={props.oncarenewed.clone()} />
        </section>
    }
}

/// The files of renewed devices as one zip, `renewed-devices-N.zip`.
pub(super) fn renewed_zip(cards: &[Rc<Issued>]) -> Result<Rc<Download>, String> {
    let files: Vec<NamedFile> = cards
        .iter()
        .flat_map(|c| c.downloads.iter().map(NamedFile::from))
        .collect();
    let zip = zip_files(&files).map_err(|e| e.to_string())?;
    Ok(Rc::new(Download {
        name: format!("renewed-devices-{}.zip", cards.len()),
        contents: Rc::new(zip),
        mime: "application/zip",
        secret: files.iter().any(|f| f.secret),
    }))
}

/// One device renewed under `ca`: with the key of its current certificate (the page's copy of the
/// private key kept with it where the page has one) or a new key.
pub(super) async fn renew_one(
    ca: &SharedCa,
    old: &Issued,
    same_key: bool,
    algorithm: KeyAlgorithm,
    validity: ValidityDays,
) -> Result<Rc<Issued>, String> {
    let now = browser::now();
    let (renewed, key) = if same_key {
        let r =
            ca.0.renew_device(&old.certificate, RenewKey::Same, validity, now)
                .map_err(|e| e.to_string())?;
        let key = match &old.pfx {
            Some(p) => Some(p.key().map_err(|e| e.to_string())?),
            None => None,
        };
        ((r.device_id, r.certificate), key)
    } else {
        let id = old
            .device_id
            .clone()
            .ok_or("its certificate's CN is not a device id")?;
        let key = browser::generate_key(algorithm).await?;
        let cert =
            ca.0.issue_device(
                &DeviceCertParams {
                    device_id: id.clone(),
                    validity,
                },
                &key,
                now,
            )
            .map_err(|e| e.to_string())?;
        ((id, cert), Some(key))
    };
    let (id, cert) = renewed;
    let card = match key {
        Some(key) => {
            let files =
                crate::pki::device_files(&ca.0, &id, &cert, &key).map_err(|e| e.to_string())?;
            card_for(ca, &id, cert, files, key).map_err(|e| e.to_string())?
        }
        None => {
            let pem = cert.pem();
            issued(
                format!("Device {id}"),
                cert,
                vec![Download::pem(
                    format!("{}.pem", id.file_stem()),
                    &pem,
                    false,
                )],
            )
            .map_err(|e| e.to_string())?
        }
    };
    Ok(Rc::new(Issued {
        title: format!("{} (renewed)", card.title),
        in_batch: true,
        ..(*card).clone()
    }))
}

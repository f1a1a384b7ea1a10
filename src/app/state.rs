//! What the page holds: plain data and an action enum, free of DOM code.

use std::rc::Rc;

use crate::contract::DeviceId;
use crate::pki::{Certificate, CertificateAuthority, CertificateInfo, KeyPair, PkiError};
use yew::Reducible;

/// A file the user can download.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Download {
    /// File name, as in the seed guide (`root-ca.pem`, `{device-id}.key`, ...).
    pub(crate) name: String,
    /// Contents.
    pub(crate) contents: Rc<Vec<u8>>,
    /// MIME type for the browser.
    pub(crate) mime: &'static str,
    /// A private key: shown with a warning.
    pub(crate) secret: bool,
}

impl std::fmt::Debug for Download {
    // The contents may be a private key, or a zip or .pfx holding keys: only their size is shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Download")
            .field("name", &self.name)
            .field(
                "contents",
                &format_args!("<redacted, {} bytes>", self.contents.len()),
            )
            .field("mime", &self.mime)
            .field("secret", &self.secret)
            .finish()
    }
}

impl From<crate::pki::NamedFile> for Download {
    fn from(f: crate::pki::NamedFile) -> Self {
        let mime = if f.name.ends_with(".cer") {
            "application/pkix-cert"
        } else if f.secret {
            "application/pkcs8"
        } else {
            "application/x-pem-file"
        };
        Self {
            name: f.name,
            contents: Rc::new(f.contents),
            mime,
            secret: f.secret,
        }
    }
}

impl From<&Download> for crate::pki::NamedFile {
    fn from(d: &Download) -> Self {
        Self {
            name: d.name.clone(),
            contents: d.contents.to_vec(),
            secret: d.secret,
        }
    }
}

impl Download {
    /// A certificate as DER (`.cer`, what Microsoft's scripts give the hub).
    pub(crate) fn cer(name: String, certificate: &crate::pki::Certificate) -> Self {
        Self {
            name,
            contents: Rc::new(certificate.der().to_vec()),
            mime: "application/pkix-cert",
            secret: false,
        }
    }

    /// Certificates as a PKCS#7 bundle (`.p7b`, as Windows imports and exports a chain).
    pub(crate) fn p7b(name: String, der: Vec<u8>) -> Self {
        Self {
            name,
            contents: Rc::new(der),
            mime: "application/x-pkcs7-certificates",
            secret: false,
        }
    }

    pub(crate) fn pem(name: String, text: &str, secret: bool) -> Self {
        let mime = if secret {
            "application/pkcs8"
        } else {
            "application/x-pem-file"
        };
        Self {
            name,
            contents: Rc::new(text.as_bytes().to_vec()),
            mime,
            secret,
        }
    }
}

/// A certificate the page made, ready to show.
#[derive(Debug, Clone)]
pub(crate) struct Issued {
    /// Distinguishes two results with the same content in lists and equality.
    pub(crate) serial: u64,
    /// Heading shown above it.
    pub(crate) title: String,
    pub(crate) certificate: Certificate,
    pub(crate) info: CertificateInfo,
    /// The device it authenticates (a leaf whose CN is a device id), read once at issuance.
    pub(crate) device_id: Option<DeviceId>,
    pub(crate) downloads: Vec<Download>,
    /// What a `.pfx` of it holds, when the page has its key.
    pub(crate) pfx: Option<Rc<PfxSource>>,
    /// Made in a batch: listed in the batch's summary rather than as a card of its own.
    pub(crate) in_batch: bool,
}

impl Issued {
    /// This card as one of a batch's (listed in the batch's summary): taken as it is when nothing
    /// else holds it, which a batch's fresh cards never are (no copy of their files).
    pub(crate) fn into_batch(card: Rc<Self>) -> Rc<Self> {
        let mut card = Rc::unwrap_or_clone(card);
        card.in_batch = true;
        Rc::new(card)
    }
}

thread_local! {
    static NEXT_SERIAL: std::cell::Cell<u64> = const { std::cell::Cell::new(1) };
}

/// A certificate the page made, with the next serial and its details read.
pub(crate) fn new_issued(
    title: String,
    certificate: Certificate,
    downloads: Vec<Download>,
    pfx: Option<Rc<PfxSource>>,
) -> Result<Rc<Issued>, PkiError> {
    new_issued_beside(title, certificate, downloads, pfx, None)
}

/// As [`new_issued`], its details read beside `sibling`'s certificate (a batch's first card:
/// the others differ from it only in their own parts, which is all that is read of them).
pub(crate) fn new_issued_beside(
    title: String,
    certificate: Certificate,
    downloads: Vec<Download>,
    pfx: Option<Rc<PfxSource>>,
    sibling: Option<&Issued>,
) -> Result<Rc<Issued>, PkiError> {
    let info = match sibling {
        Some(s) => certificate.info_beside(&s.certificate, &s.info)?,
        None => certificate.info()?,
    };
    let serial = NEXT_SERIAL.with(|n| {
        let v = n.get();
        n.set(v + 1);
        v
    });
    Ok(Rc::new(Issued {
        serial,
        title,
        certificate,
        device_id: crate::pki::leaf_device_id(&info),
        info,
        downloads,
        pfx,
        in_batch: false,
    }))
}

/// The newest certificate the page issued for device `id` (the list is newest first).
pub(crate) fn issued_for<'a>(devices: &'a [Rc<Issued>], id: &DeviceId) -> Option<&'a Rc<Issued>> {
    devices.iter().find(|d| d.device_id.as_ref() == Some(id))
}

/// Every certificate the page issued for device `id`, newest first.
pub(crate) fn issued_all_for<'a>(
    devices: &'a [Rc<Issued>],
    id: &'a DeviceId,
) -> impl Iterator<Item = &'a Rc<Issued>> {
    devices
        .iter()
        .filter(move |d| d.device_id.as_ref() == Some(id))
}

/// A verification certificate's card, offering `verification.pem`.
pub(crate) fn verification_card(
    title: String,
    certificate: Certificate,
) -> Result<Rc<Issued>, PkiError> {
    let pem = certificate.pem();
    new_issued(
        title,
        certificate,
        vec![Download::pem("verification.pem".into(), &pem, false)],
        None,
    )
}

/// The key and CA chain for a certificate's `.pfx`.
pub(crate) struct PfxSource {
    /// The private key as PKCS#8 DER: read into a key only when it is exported (reading one
    /// recomputes its public key, which a batch of thousands should not pay up front).
    key_der: zeroize::Zeroizing<Vec<u8>>,
    /// CA certificates, nearest first.
    pub(crate) chain: Vec<Certificate>,
    /// File stem and friendly name.
    pub(crate) stem: String,
}

impl PfxSource {
    /// What a `.pfx` of `key`'s certificate holds.
    pub(crate) fn new(
        key: &KeyPair,
        chain: Vec<Certificate>,
        stem: String,
    ) -> Result<Self, crate::pki::PkiError> {
        Ok(Self {
            key_der: key.to_pkcs8_der()?,
            chain,
            stem,
        })
    }

    /// As [`Self::new`], from the key's PKCS#8 DER as it is (a worker made it).
    pub(crate) fn from_pkcs8_der(
        key_der: zeroize::Zeroizing<Vec<u8>>,
        chain: Vec<Certificate>,
        stem: String,
    ) -> Self {
        Self {
            key_der,
            chain,
            stem,
        }
    }

    /// The key, read from its PKCS#8 encoding.
    pub(crate) fn key(&self) -> Result<KeyPair, crate::pki::PkiError> {
        KeyPair::from_pkcs8_der(&self.key_der)
    }

    /// A password-protected export of the key (and, for a `.pfx`, `certificate` and the chain).
    pub(crate) fn export_job(
        &self,
        kind: crate::pki::KeyExportKind,
        certificate: &Certificate,
        password: &str,
    ) -> crate::pki::KeyExportJob {
        crate::pki::KeyExportJob::new(
            kind,
            &self.key_der,
            certificate,
            &self.chain,
            &self.stem,
            password,
        )
    }

    /// The key as PKCS#8 PEM, without reading it.
    pub(crate) fn key_pem(&self) -> zeroize::Zeroizing<String> {
        crate::pki::pkcs8_pem_from_der(&self.key_der)
    }
}

impl std::fmt::Debug for PfxSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PfxSource")
            .field("stem", &self.stem)
            .finish_non_exhaustive()
    }
}

impl PartialEq for Issued {
    fn eq(&self, other: &Self) -> bool {
        self.serial == other.serial
    }
}

/// A CA that can sign, shared by the steps that need it.
#[derive(Clone, Debug)]
pub(crate) struct SharedCa(pub(crate) Rc<CertificateAuthority>);

impl PartialEq for SharedCa {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

/// The page's state.
#[derive(Default, Clone, PartialEq)]
pub(crate) struct Workbench {
    /// The CA that signs devices and verification certificates and is uploaded to the hub.
    pub(crate) ca: Option<SharedCa>,
    pub(crate) root: Option<Rc<Issued>>,
    /// Every CA of the page with its card, in the order made (a root before what it signed).
    pub(crate) cas: Rc<Vec<(SharedCa, Rc<Issued>)>>,
    pub(crate) verification: Option<Rc<Issued>>,
    /// Newest first.
    pub(crate) devices: Rc<Vec<Rc<Issued>>>,
}

/// What can happen to it.
pub(crate) enum Action {
    /// A new root (made or imported) joins the page's CAs and signs from now on; the CAs made
    /// before stay (a rollover needs the old and the new side by side).
    RootCreated((SharedCa, Rc<Issued>)),
    /// A new intermediate becomes the signing CA.
    IntermediateCreated((SharedCa, Rc<Issued>)),
    /// Another CA of the tree becomes the signing CA.
    SelectCa(usize),
    DeviceIssued(Rc<Issued>),
    /// A batch, in the order issued.
    DevicesIssued(Vec<Rc<Issued>>),
    VerificationIssued(Rc<Issued>),
    /// A CA renewed with its own key replaces the CA at this index of the tree.
    CaRenewed(usize, (SharedCa, Rc<Issued>)),
    /// A saved workspace replaces the page's CAs (root first; `active` signs) and devices.
    WorkspaceOpened {
        cas: Vec<(SharedCa, Rc<Issued>)>,
        active: usize,
        devices: Vec<Rc<Issued>>,
    },
}

impl Workbench {
    /// Every certificate of the page: the CAs of the tree, the verification certificate, and
    /// the devices.
    pub(crate) fn all_certificates(&self) -> Rc<Vec<Rc<Issued>>> {
        let mut all: Vec<Rc<Issued>> = self.cas.iter().map(|(_, i)| i.clone()).collect();
        all.extend(self.verification.iter().cloned());
        all.extend(self.devices.iter().cloned());
        Rc::new(all)
    }
}

impl Reducible for Workbench {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            Action::RootCreated((ca, issued)) => {
                next.ca = Some(ca.clone());
                let mut cas = (*self.cas).clone();
                cas.push((ca, issued.clone()));
                next.cas = Rc::new(cas);
                next.root = Some(issued);
                // A verification certificate belongs to the CA that signed it.
                next.verification = None;
            }
            Action::DeviceIssued(issued) => {
                let mut devices = Vec::with_capacity(self.devices.len() + 1);
                devices.push(issued);
                devices.extend(self.devices.iter().cloned());
                next.devices = Rc::new(devices);
            }
            Action::DevicesIssued(batch) => {
                let mut devices = Vec::with_capacity(self.devices.len() + batch.len());
                devices.extend(batch.into_iter().rev());
                devices.extend(self.devices.iter().cloned());
                next.devices = Rc::new(devices);
            }
            Action::VerificationIssued(issued) => next.verification = Some(issued),
            Action::WorkspaceOpened {
                cas,
                active,
                devices,
            } => {
                next.ca = cas.get(active).map(|(ca, _)| ca.clone());
                next.root = cas.first().map(|(_, issued)| issued.clone());
                next.cas = Rc::new(cas);
                next.devices = Rc::new(devices);
                next.verification = None;
            }
            Action::IntermediateCreated((ca, issued)) => {
                let mut cas = (*self.cas).clone();
                cas.push((ca.clone(), issued));
                next.cas = Rc::new(cas);
                next.ca = Some(ca);
                next.verification = None;
            }
            Action::CaRenewed(i, (ca, issued)) => {
                if let Some((old, _)) = self.cas.get(i) {
                    let mut cas = (*self.cas).clone();
                    if next.ca.as_ref() == Some(old) {
                        next.ca = Some(ca.clone());
                        next.verification = None;
                    }
                    if i == 0 {
                        next.root = Some(issued.clone());
                    }
                    cas[i] = (ca, issued);
                    next.cas = Rc::new(cas);
                }
            }
            Action::SelectCa(i) => {
                if let Some((ca, _)) = self.cas.get(i) {
                    if next.ca.as_ref() != Some(ca) {
                        next.verification = None;
                    }
                    next.ca = Some(ca.clone());
                }
            }
        }
        Rc::new(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn a_download_never_prints_its_contents() {
        let key = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n";
        let d = Download::pem("sensor-1.key".into(), key, true);
        for debug in [format!("{d:?}"), format!("{d:#?}")] {
            assert!(
                !debug.contains("MIGHAgEAMBMGByqGSM49") && !debug.contains("PRIVATE KEY"),
                "{debug}"
            );
            assert!(
                debug.contains("redacted") && debug.contains("sensor-1.key"),
                "{debug}"
            );
        }
    }
}

//! A zip of files (a batch of device certificates and keys): one download instead of hundreds.

use std::io::Write;

use super::PkiError;

/// Zips `files`, stored (not deflated: see below), in the given order; private keys get owner-only permissions. Names are
/// used as given: callers pass plain file names such as `sensor-001.pem`.
pub fn zip_files(files: &[NamedFile]) -> Result<Vec<u8>, PkiError> {
    let fail = |e: &dyn std::fmt::Display| PkiError::Signing {
        detail: format!("making the zip file: {e}"),
    };
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        // Stored: keys, certificates and their base64 are high-entropy, so deflate saved about
        // 15% for sixty times the time (10,000 devices: 3.2 MB stored, 2.8 MB deflated).
        .compression_method(zip::CompressionMethod::Stored);
    for file in files {
        let mode = if file.secret { 0o600 } else { 0o644 };
        writer
            .start_file(file.name.as_str(), options.unix_permissions(mode))
            .map_err(|e| fail(&e))?;
        writer.write_all(&file.contents).map_err(|e| fail(&e))?;
    }
    Ok(writer.finish().map_err(|e| fail(&e))?.into_inner())
}

/// One file of a device's set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedFile {
    /// File name, e.g. `sensor-001.pem`.
    pub name: String,
    /// Contents.
    pub contents: Vec<u8>,
    /// A private key (shown with a warning, zipped with owner-only permissions).
    pub secret: bool,
}

/// A device's files as the seed guide names them: `{id}.pem`, `{id}.key` (PKCS#8), `{id}.cer`
/// (DER) and, when `ca` is an intermediate, `{id}-fullchain.pem` (the device, then the CAs above
/// it but the root: what the device must send, since the hub holds only the uploaded CA).
pub fn device_files(
    ca: &super::CertificateAuthority,
    device_id: &crate::contract::DeviceId,
    certificate: &super::Certificate,
    key: &super::KeyPair,
) -> Result<Vec<NamedFile>, PkiError> {
    device_files_with_key_pem(ca, device_id, certificate, &key.to_pkcs8_pem()?)
}

/// The key's PKCS#8 DER as PEM (`-----BEGIN PRIVATE KEY-----`, 64-column lines, LF), without
/// reading the key.
pub fn pkcs8_pem_from_der(der: &[u8]) -> zeroize::Zeroizing<String> {
    zeroize::Zeroizing::new(pem::encode_config(
        &pem::Pem::new("PRIVATE KEY", der.to_vec()),
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    ))
}

/// As [`device_files`], with the key given as its PKCS#8 PEM (a key made by WebCrypto).
pub fn device_files_with_key_pem(
    ca: &super::CertificateAuthority,
    device_id: &crate::contract::DeviceId,
    certificate: &super::Certificate,
    key_pem: &str,
) -> Result<Vec<NamedFile>, PkiError> {
    let stem = device_id.file_stem();
    let pem = certificate.pem();
    let mut files = vec![
        NamedFile {
            name: format!("{stem}.pem"),
            contents: pem.clone().into_bytes(),
            secret: false,
        },
        NamedFile {
            name: format!("{stem}.key"),
            contents: key_pem.as_bytes().to_vec(),
            secret: true,
        },
        NamedFile {
            name: format!("{stem}.cer"),
            contents: certificate.der().to_vec(),
            secret: false,
        },
    ];
    if !ca.is_root() {
        let mut full = pem;
        full.push_str(&ca.certificate().pem());
        let above = ca.issuers();
        for c in &above[..above.len().saturating_sub(1)] {
            full.push_str(&c.pem());
        }
        files.push(NamedFile {
            name: format!("{stem}-fullchain.pem"),
            contents: full.into_bytes(),
            secret: false,
        });
    }
    Ok(files)
}

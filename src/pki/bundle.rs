//! A zip of files (a batch of device certificates and keys): one download instead of hundreds.

use std::io::Write;

use super::PkiError;

/// Zips `files`, stored (not deflated: see [`ZipStream`]), in the given order; private keys get
/// owner-only permissions. Names are used as given: callers pass plain file names such as
/// `sensor-001.pem`.
pub fn zip_files(files: &[NamedFile]) -> Result<Vec<u8>, PkiError> {
    let mut zip = ZipStream::new();
    for file in files {
        zip.add(file)?;
    }
    zip.finish()
}

/// A zip made one file at a time, whose finished bytes can be taken away as it grows: a batch of
/// 100,000 devices (hundreds of MB) never sits whole in memory. The bytes taken, then those of
/// [`ZipStream::finish`], concatenated, are the zip: the same as [`zip_files`] would make.
///
/// Files are stored, not deflated: keys, certificates and their base64 are high-entropy, so
/// deflate saved about 15% for sixty times the time (10,000 devices: 3.2 MB stored, 2.8 MB
/// deflated).
pub struct ZipStream {
    writer: zip::ZipWriter<Window>,
    tail: std::rc::Rc<std::cell::RefCell<Tail>>,
    files: usize,
}

impl Default for ZipStream {
    fn default() -> Self {
        Self::new()
    }
}

impl ZipStream {
    /// An empty zip.
    pub fn new() -> Self {
        let tail = std::rc::Rc::default();
        Self {
            writer: zip::ZipWriter::new(Window(std::rc::Rc::clone(&tail))),
            tail,
            files: 0,
        }
    }

    /// Appends `file`.
    pub fn add(&mut self, file: &NamedFile) -> Result<(), PkiError> {
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .unix_permissions(if file.secret { 0o600 } else { 0o644 });
        // What is before this file's header is final once the previous file is closed, which
        // starting this one does: the window may forget it after.
        let start = self.tail.borrow().position;
        self.writer
            .start_file(file.name.as_str(), options)
            .map_err(|e| zip_error(&e))?;
        self.tail.borrow_mut().settled = start;
        self.writer
            .write_all(&file.contents)
            .map_err(|e| zip_error(&e))?;
        self.files += 1;
        Ok(())
    }

    /// How many files are in.
    pub fn len(&self) -> usize {
        self.files
    }

    /// Whether no file is in yet.
    pub fn is_empty(&self) -> bool {
        self.files == 0
    }

    /// The bytes that are final (all of the zip up to the last file begun), removed from
    /// memory; the next call returns what follows them.
    pub fn take(&mut self) -> Vec<u8> {
        self.tail.borrow_mut().take_settled()
    }

    /// The rest of the zip: what [`ZipStream::take`] has not returned, and the central directory.
    pub fn finish(self) -> Result<Vec<u8>, PkiError> {
        self.writer.finish().map_err(|e| zip_error(&e))?;
        let rest = std::mem::take(&mut self.tail.borrow_mut().buffer);
        Ok(rest)
    }
}

fn zip_error(e: &dyn std::fmt::Display) -> PkiError {
    PkiError::Signing {
        detail: format!("making the zip file: {e}"),
    }
}

/// The zip writer's output: the [`Tail`] it shares with its [`ZipStream`].
struct Window(std::rc::Rc<std::cell::RefCell<Tail>>);

/// The tail of a zip being written: bytes from `base` on (those before were taken). The zip
/// writer seeks back only into the file it is writing (to fill in its header), never before
/// `settled`; a seek before `base` is an error, never a silent corruption.
#[derive(Default)]
struct Tail {
    buffer: Vec<u8>,
    /// Offset in the zip of `buffer[0]`.
    base: u64,
    /// Offset in the zip of the write cursor.
    position: u64,
    /// Offset before which nothing will be written again.
    settled: u64,
}

impl Tail {
    fn take_settled(&mut self) -> Vec<u8> {
        let n = (self.settled - self.base) as usize;
        let rest = self.buffer.split_off(n);
        self.base = self.settled;
        std::mem::replace(&mut self.buffer, rest)
    }
}

impl std::io::Write for Window {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let mut t = self.0.borrow_mut();
        t.write(data)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl std::io::Seek for Window {
    fn seek(&mut self, to: std::io::SeekFrom) -> std::io::Result<u64> {
        self.0.borrow_mut().seek(to)
    }
}

impl Tail {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let at = (self.position - self.base) as usize;
        let end = at + data.len();
        if end > self.buffer.len() {
            self.buffer.resize(end, 0);
        }
        self.buffer[at..end].copy_from_slice(data);
        self.position += data.len() as u64;
        Ok(data.len())
    }

    fn seek(&mut self, to: std::io::SeekFrom) -> std::io::Result<u64> {
        let end = self.base + self.buffer.len() as u64;
        let target = match to {
            std::io::SeekFrom::Start(n) => Some(n),
            std::io::SeekFrom::End(d) => end.checked_add_signed(d),
            std::io::SeekFrom::Current(d) => self.position.checked_add_signed(d),
        };
        match target {
            Some(t) if t >= self.base => {
                self.position = t;
                Ok(t)
            }
            _ => Err(std::io::Error::other(
                "the zip writer went back into bytes already handed on",
            )),
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn files(n: usize) -> Vec<NamedFile> {
        (0..n)
            .map(|i| NamedFile {
                name: format!("device-{i:05}.{}", if i % 2 == 0 { "pem" } else { "key" }),
                // Sizes that vary, contents that differ.
                contents: (0..(200 + i * 37 % 900))
                    .map(|j| (i * 31 + j * 7) as u8)
                    .collect(),
                secret: i % 2 == 1,
            })
            .collect()
    }

    #[test]
    fn a_zip_taken_in_pieces_is_the_zip_made_at_once_and_memory_holds_only_the_tail() {
        let files = files(500);
        let whole = zip_files(&files).unwrap();
        let mut stream = ZipStream::new();
        let mut pieces = Vec::new();
        let mut largest_tail = 0;
        for f in &files {
            stream.add(f).unwrap();
            largest_tail = largest_tail.max(stream.tail.borrow().buffer.len());
            pieces.extend(stream.take());
        }
        assert_eq!(stream.len(), 500);
        pieces.extend(stream.finish().unwrap());
        assert_eq!(pieces, whole);
        // What stays between takes is the last two files (each at most 1,100 bytes) with their
        // headers, not the zip.
        assert!(largest_tail < 2_600, "{largest_tail}");
        assert!(whole.len() > 200_000);
        // And it reads back.
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(pieces)).unwrap();
        assert_eq!(archive.len(), 500);
        for (i, f) in files.iter().enumerate() {
            let mut entry = archive.by_index(i).unwrap();
            assert_eq!(entry.name(), f.name);
            let mut read = Vec::new();
            std::io::Read::read_to_end(&mut entry, &mut read).unwrap();
            assert_eq!(read, f.contents);
            assert_eq!(
                entry.unix_mode().map(|m| m & 0o777),
                Some(if f.secret { 0o600 } else { 0o644 })
            );
        }
    }

    #[test]
    fn a_seek_into_bytes_already_taken_is_an_error() {
        use std::io::{Seek, SeekFrom, Write};
        let tail = std::rc::Rc::new(std::cell::RefCell::new(Tail::default()));
        let mut w = Window(tail.clone());
        w.write_all(b"0123456789").unwrap();
        tail.borrow_mut().settled = 6;
        assert_eq!(tail.borrow_mut().take_settled(), b"012345");
        assert!(w.seek(SeekFrom::Start(5)).is_err());
        assert_eq!(w.seek(SeekFrom::Start(7)).unwrap(), 7);
        w.write_all(b"x").unwrap();
        assert_eq!(tail.borrow().buffer, b"6x89");
    }
}

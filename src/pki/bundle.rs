//! A zip of files (a batch of device certificates and keys): one download instead of hundreds.

use super::PkiError;

/// Zips `files`, stored (not deflated: see [`ZipStream`]), in the given order; private keys get
/// owner-only permissions. Names are used as given: callers pass plain file names such as
/// `sensor-001.pem`.
pub fn zip_files(files: &[NamedFile]) -> Result<Vec<u8>, PkiError> {
    let mut zip = ZipStream::new();
    for file in files {
        zip.add(file)?;
    }
    Ok(zip.finish().concat())
}

/// A zip written one file at a time whose finished bytes can be taken away as it grows, entries
/// and central directory apart, so that a batch of 100,000 devices never sits in memory: what
/// holds it (the browser, as a Blob) gets the entries, then the directory, then the end
/// records. ZIP64 end records when there are 65,535 files or more.
///
/// Files are stored, not deflated: keys, certificates and their base64 are high-entropy, so
/// deflate saved about 15% for sixty times the time (10,000 devices: 3.2 MB stored, 2.8 MB
/// deflated). The `zip` crate writes such files too, but keeps every file's record in memory
/// until it finishes, and then writes the directory in one go (300,000 files: about 100 MB, and
/// 150 ms with the page held); this writer hands both on as it goes.
pub struct ZipStream {
    /// Local headers and contents not taken yet.
    entries: Vec<u8>,
    /// Central directory records not taken yet.
    directory: Vec<u8>,
    /// Bytes of entries so far (taken or not): where the next local header begins.
    offset: u64,
    /// Bytes of directory so far.
    directory_size: u64,
    files: u64,
    /// Modification time and date of every file, in MS-DOS form.
    dos_time: u16,
    dos_date: u16,
}

/// The end of a [`ZipStream`]: the entries and directory bytes not taken before, and the end
/// records. The zip is every taken entries part, `entries`, every taken directory part,
/// `directory`, then `end`.
pub struct ZipTail {
    /// Entries not taken before.
    pub entries: Vec<u8>,
    /// Directory records not taken before.
    pub directory: Vec<u8>,
    /// The end records.
    pub end: Vec<u8>,
}

impl ZipTail {
    /// All three, for a zip none of which was taken before.
    pub fn concat(self) -> Vec<u8> {
        let mut out = self.entries;
        out.extend(self.directory);
        out.extend(self.end);
        out
    }
}

impl std::fmt::Debug for ZipStream {
    // The contents hold private keys: only their size is shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZipStream")
            .field("files", &self.files)
            .field("bytes", &(self.offset + self.directory_size))
            .finish_non_exhaustive()
    }
}

impl Default for ZipStream {
    fn default() -> Self {
        Self::new()
    }
}

const LOCAL_HEADER: u32 = 0x0403_4b50;
const CENTRAL_HEADER: u32 = 0x0201_4b50;
const END_OF_DIRECTORY: u32 = 0x0605_4b50;
const ZIP64_END_OF_DIRECTORY: u32 = 0x0606_4b50;
const ZIP64_END_LOCATOR: u32 = 0x0706_4b50;
/// Version 2.0 (stored files), 4.5 (ZIP64); made on Unix, so the permissions are read.
const VERSION: u16 = 20;
const VERSION_ZIP64: u16 = 45;
const MADE_ON_UNIX: u16 = 3 << 8;
/// General purpose flag 11: the name is UTF-8.
const UTF8_NAME: u16 = 1 << 11;

fn put16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}
fn put32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}
fn put64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

impl ZipStream {
    /// An empty zip whose files are dated 1980-01-01 (the earliest a zip can say: the same
    /// files make the same zip).
    pub fn new() -> Self {
        Self {
            entries: Vec::new(),
            directory: Vec::new(),
            offset: 0,
            directory_size: 0,
            files: 0,
            dos_time: 0,
            dos_date: (1 << 5) | 1,
        }
    }

    /// An empty zip whose files are dated `at` (UTC; to the even second, as zips keep it).
    pub fn modified_at(at: time::OffsetDateTime) -> Self {
        let at = at.to_offset(time::UtcOffset::UTC);
        let mut zip = Self::new();
        if (1980..2108).contains(&at.year()) {
            zip.dos_date = (((at.year() - 1980) as u16) << 9)
                | ((u8::from(at.month()) as u16) << 5)
                | at.day() as u16;
            zip.dos_time =
                ((at.hour() as u16) << 11) | ((at.minute() as u16) << 5) | (at.second() as u16 / 2);
        }
        zip
    }

    /// Appends `file`.
    pub fn add(&mut self, file: &NamedFile) -> Result<(), PkiError> {
        let name = file.name.as_bytes();
        let (Ok(size), Ok(name_len)) = (
            u32::try_from(file.contents.len()),
            u16::try_from(name.len()),
        ) else {
            return Err(PkiError::Signing {
                detail: format!("making the zip file: {} is too large for it", file.name),
            });
        };
        let flags = if file.name.is_ascii() { 0 } else { UTF8_NAME };
        let crc = crc32fast::hash(&file.contents);
        let e = &mut self.entries;
        put32(e, LOCAL_HEADER);
        put16(e, VERSION);
        put16(e, flags);
        put16(e, 0); // stored
        put16(e, self.dos_time);
        put16(e, self.dos_date);
        put32(e, crc);
        put32(e, size);
        put32(e, size);
        put16(e, name_len);
        put16(e, 0);
        e.extend_from_slice(name);
        e.extend_from_slice(&file.contents);

        // Past 4 GiB of entries, the header's offset is in a ZIP64 extra field.
        let far = self.offset >= u32::MAX as u64;
        let d = &mut self.directory;
        let before = d.len();
        put32(d, CENTRAL_HEADER);
        put16(d, MADE_ON_UNIX | if far { VERSION_ZIP64 } else { VERSION });
        put16(d, if far { VERSION_ZIP64 } else { VERSION });
        put16(d, flags);
        put16(d, 0);
        put16(d, self.dos_time);
        put16(d, self.dos_date);
        put32(d, crc);
        put32(d, size);
        put32(d, size);
        put16(d, name_len);
        put16(d, if far { 12 } else { 0 });
        put16(d, 0); // comment
        put16(d, 0); // disk
        put16(d, 0); // internal attributes
        let mode: u32 = 0o100_000 | if file.secret { 0o600 } else { 0o644 };
        put32(d, mode << 16);
        put32(d, if far { u32::MAX } else { self.offset as u32 });
        d.extend_from_slice(name);
        if far {
            put16(d, 0x0001);
            put16(d, 8);
            put64(d, self.offset);
        }
        self.directory_size += (d.len() - before) as u64;
        self.offset += 30 + name.len() as u64 + size as u64;
        self.files += 1;
        Ok(())
    }

    /// How many files are in.
    pub fn len(&self) -> usize {
        self.files as usize
    }

    /// Whether no file is in yet.
    pub fn is_empty(&self) -> bool {
        self.files == 0
    }

    /// The entries (headers and contents) added since the last call, removed from memory.
    pub fn take_entries(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.entries)
    }

    /// The central directory records added since the last call, removed from memory.
    pub fn take_directory(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.directory)
    }

    /// What was not taken, and the end records.
    pub fn finish(self) -> ZipTail {
        let (entries_size, directory_size, files) = (self.offset, self.directory_size, self.files);
        let mut end = Vec::new();
        let zip64 = files >= u16::MAX as u64
            || directory_size >= u32::MAX as u64
            || entries_size >= u32::MAX as u64;
        if zip64 {
            let record_at = entries_size + directory_size;
            put32(&mut end, ZIP64_END_OF_DIRECTORY);
            put64(&mut end, 44);
            put16(&mut end, MADE_ON_UNIX | VERSION_ZIP64);
            put16(&mut end, VERSION_ZIP64);
            put32(&mut end, 0);
            put32(&mut end, 0);
            put64(&mut end, files);
            put64(&mut end, files);
            put64(&mut end, directory_size);
            put64(&mut end, entries_size);
            put32(&mut end, ZIP64_END_LOCATOR);
            put32(&mut end, 0);
            put64(&mut end, record_at);
            put32(&mut end, 1);
        }
        put32(&mut end, END_OF_DIRECTORY);
        put16(&mut end, 0);
        put16(&mut end, 0);
        put16(&mut end, files.min(u16::MAX as u64) as u16);
        put16(&mut end, files.min(u16::MAX as u64) as u16);
        put32(&mut end, directory_size.min(u32::MAX as u64) as u32);
        put32(&mut end, entries_size.min(u32::MAX as u64) as u32);
        put16(&mut end, 0);
        ZipTail {
            entries: self.entries,
            directory: self.directory,
            end,
        }
    }
}

/// One file of a device's set.
#[derive(Clone, PartialEq, Eq)]
pub struct NamedFile {
    /// File name, e.g. `sensor-001.pem`.
    pub name: String,
    /// Contents.
    pub contents: Vec<u8>,
    /// A private key (shown with a warning, zipped with owner-only permissions).
    pub secret: bool,
}

impl std::fmt::Debug for NamedFile {
    // A key's contents are the key: only their size is shown (and, for any file, no bytes).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.contents.len();
        f.debug_struct("NamedFile")
            .field("name", &self.name)
            .field(
                "contents",
                &format_args!("<{}{n} bytes>", if self.secret { "redacted, " } else { "" }),
            )
            .field("secret", &self.secret)
            .finish()
    }
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
    Ok(NamedFile::device_set(
        ca,
        device_id,
        certificate.der(),
        &key.to_pkcs8_pem()?,
    ))
}

/// The key's PKCS#8 DER as PEM (`-----BEGIN PRIVATE KEY-----`, 64-column lines, LF), without
/// reading the key.
pub fn pkcs8_pem_from_der(der: &[u8]) -> zeroize::Zeroizing<String> {
    zeroize::Zeroizing::new(super::armor::pem_lf("PRIVATE KEY", der.to_vec()))
}

impl NamedFile {
    /// A device's files ([`device_files`]) from its certificate's DER and its key's PKCS#8 PEM,
    /// without reading either (a batch's workers make thousands a second).
    pub fn device_set(
        ca: &super::CertificateAuthority,
        device_id: &crate::contract::DeviceId,
        certificate_der: &[u8],
        key_pem: &str,
    ) -> Vec<NamedFile> {
        let stem = device_id.file_stem();
        let pem = super::armor::pem_lf("CERTIFICATE", certificate_der.to_vec());
        let full = (!ca.is_root()).then(|| {
            let mut full = pem.clone();
            full.push_str(&ca.certificate().pem());
            let above = ca.issuers();
            for c in &above[..above.len().saturating_sub(1)] {
                full.push_str(&c.pem());
            }
            full
        });
        let mut files = Vec::with_capacity(4);
        files.push(NamedFile {
            name: format!("{stem}.pem"),
            contents: pem.into_bytes(),
            secret: false,
        });
        files.push(NamedFile {
            name: format!("{stem}.key"),
            contents: key_pem.as_bytes().to_vec(),
            secret: true,
        });
        files.push(NamedFile {
            name: format!("{stem}.cer"),
            contents: certificate_der.to_vec(),
            secret: false,
        });
        if let Some(full) = full {
            files.push(NamedFile {
                name: format!("{stem}-fullchain.pem"),
                contents: full.into_bytes(),
                secret: false,
            });
        }
        files
    }
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

    /// Reads `zip` with the `zip` crate (an implementation of its own) and checks every file.
    fn read_back(zip: Vec<u8>, files: &[NamedFile]) {
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
        assert_eq!(archive.len(), files.len());
        for (i, f) in files.iter().enumerate() {
            let mut entry = archive.by_index(i).unwrap();
            assert_eq!(entry.name(), f.name);
            let mut read = Vec::new();
            std::io::Read::read_to_end(&mut entry, &mut read).unwrap();
            assert_eq!(read, f.contents, "{}", f.name);
            assert_eq!(
                entry.unix_mode().map(|m| m & 0o777),
                Some(if f.secret { 0o600 } else { 0o644 })
            );
        }
    }

    #[test]
    fn a_zip_taken_in_pieces_is_the_zip_made_at_once_and_memory_holds_only_what_is_new() {
        let files = files(500);
        let whole = zip_files(&files).unwrap();
        let mut stream = ZipStream::new();
        let (mut entries, mut directory) = (Vec::new(), Vec::new());
        let mut largest_held = 0;
        for f in &files {
            stream.add(f).unwrap();
            largest_held = largest_held.max(stream.entries.len() + stream.directory.len());
            entries.extend(stream.take_entries());
            directory.extend(stream.take_directory());
        }
        assert_eq!(stream.len(), 500);
        let tail = stream.finish();
        entries.extend(tail.entries);
        directory.extend(tail.directory);
        let mut pieces = entries;
        pieces.extend(directory);
        pieces.extend(tail.end);
        assert_eq!(pieces, whole);
        // Between takes the writer holds one file and its records, not the zip.
        assert!(largest_held < 1_300, "{largest_held}");
        assert!(whole.len() > 200_000);
        read_back(pieces, &files);
    }

    #[test]
    fn sixty_six_thousand_files_take_zip64_end_records_that_readers_follow() {
        let files: Vec<NamedFile> = (0..66_000)
            .map(|i| NamedFile {
                name: format!("f{i}.pem"),
                contents: format!("file {i}").into_bytes(),
                secret: i % 3 == 0,
            })
            .collect();
        let zip = zip_files(&files).unwrap();
        // The ZIP64 end record and its locator precede the classic end record, whose counts say
        // "see ZIP64".
        let eocd = zip.len() - 22;
        assert_eq!(&zip[eocd..eocd + 4], &END_OF_DIRECTORY.to_le_bytes());
        assert_eq!(&zip[eocd + 8..eocd + 12], &[0xff; 4]);
        assert_eq!(&zip[eocd - 20..eocd - 16], &ZIP64_END_LOCATOR.to_le_bytes());
        read_back(zip, &files);
    }

    #[test]
    fn files_carry_the_time_they_were_made_and_utf8_names_say_so() {
        // 2026-12-01 04:29:07 UTC.
        let at = time::OffsetDateTime::from_unix_timestamp(1_796_099_347).unwrap();
        let mut z = ZipStream::modified_at(at);
        let f = NamedFile {
            name: "capteur-été.pem".into(),
            contents: b"x".to_vec(),
            secret: false,
        };
        z.add(&f).unwrap();
        let zip = z.finish().concat();
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
        let entry = archive.by_index(0).unwrap();
        assert_eq!(entry.name(), "capteur-été.pem");
        let t = entry.last_modified().unwrap();
        assert_eq!(
            (
                t.year(),
                t.month(),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            ),
            (2026, 12, 1, 4, 29, 6)
        );
    }
}

//! Batches: ids from a range, a device identity each under an intermediate, every device's files
//! in one zip. Python's zipfile (an independent reader) lists and extracts it; OpenSSL verifies
//! extracted certificates with their fullchain and matches their keys; keys are owner-only.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::process::Command;

use common::*;
use hubcert::iothub::parse_device_ids;
use hubcert::pki::{device_files, zip_files, DeviceCertParams, KeyAlgorithm, ValidityDays};

/// Runs a Python script with `args`; what it printed, or the test fails with its errors.
fn python(script: &str, args: &[&str]) -> String {
    let run = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python3");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    String::from_utf8_lossy(&run.stdout).to_string()
}

#[test]
fn a_batch_zips_every_devices_files_and_they_verify() {
    let dir = Scratch::new();
    let (root, inter) = root_and_intermediate(KeyAlgorithm::EcdsaP256, "Batch");
    let ids = parse_device_ids("line-{01..12}\ngateway", 500).unwrap();
    assert_eq!(ids.len(), 13);
    let mut files = Vec::new();
    for id in &ids {
        let identity = inter
            .issue_device_identity(
                &DeviceCertParams {
                    device_id: id.clone(),
                    validity: ValidityDays::new(365).unwrap(),
                },
                KeyAlgorithm::EcdsaP256,
                now(),
            )
            .unwrap();
        files.extend(device_files(&inter, id, &identity.certificate, &identity.key).unwrap());
    }
    let zip = dir.write("batch.zip", zip_files(&files).unwrap());

    // Python's zipfile: names in order, contents byte for byte, modes.
    let script = r#"
import sys, zipfile, stat
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
for i in z.infolist():
    print(i.filename, oct(stat.S_IMODE(i.external_attr >> 16)), i.compress_type, i.file_size)
z.extractall(sys.argv[2])
"#;
    let out_dir = dir.path().join("out");
    let listing = python(script, &[path_str(&zip), path_str(&out_dir)]);
    let lines: Vec<&str> = listing.lines().collect();
    assert_eq!(lines.len(), 13 * 4, "{listing}");
    // Method 0: stored (keys and certificates do not compress; see pki::zip_files).
    assert!(lines[0].starts_with("line-01.pem 0o644 0 "), "{listing}");
    assert!(lines[1].starts_with("line-01.key 0o600 0 "), "{listing}");
    assert!(lines[2].starts_with("line-01.cer 0o644 0 "), "{listing}");
    assert!(
        lines[3].starts_with("line-01-fullchain.pem 0o644 0 "),
        "{listing}"
    );
    assert!(listing.contains("gateway-fullchain.pem"), "{listing}");
    for f in &files {
        assert_eq!(
            std::fs::read(out_dir.join(&f.name)).unwrap(),
            f.contents,
            "{}",
            f.name
        );
    }

    // What came out of the zip works: the fullchain verifies under the root, the key is the
    // certificate's.
    let root_pem = dir.write("root.pem", root.certificate().pem());
    for id in ["line-07", "gateway"] {
        let full = out_dir.join(format!("{id}-fullchain.pem"));
        let run = openssl_verify_chain(&root_pem, &full, &out_dir.join(format!("{id}.pem")));
        assert!(run.ok, "{id}: {}{}", run.stdout, run.stderr);
        let key_pub = openssl(&[
            "pkey",
            "-pubout",
            "-in",
            path_str(&out_dir.join(format!("{id}.key"))),
        ]);
        let cert_pub = openssl(&[
            "x509",
            "-noout",
            "-pubkey",
            "-in",
            path_str(&out_dir.join(format!("{id}.pem"))),
        ]);
        assert!(key_pub.ok && cert_pub.ok);
        assert_eq!(key_pub.stdout, cert_pub.stdout, "{id}");
        let der = openssl(&[
            "x509",
            "-inform",
            "DER",
            "-noout",
            "-subject",
            "-in",
            path_str(&out_dir.join(format!("{id}.cer"))),
        ]);
        assert!(der.stdout.contains(&format!("CN = {id}")), "{}", der.stdout);
    }
}

/// The zip of a batch of 100,000 devices is written in pieces (entries and directory apart, as
/// the page hands them to the browser) and needs ZIP64 end records past 65,535 files: Python's
/// zipfile and Info-ZIP's unzip read such a zip, made from 70,000 files, whole.
#[test]
fn a_zip_written_in_pieces_with_seventy_thousand_files_reads_back_in_python_and_unzip() {
    use hubcert::pki::{NamedFile, ZipStream};
    let dir = Scratch::new();
    let mut zip = ZipStream::new();
    let (mut entries, mut directory) = (Vec::new(), Vec::new());
    for i in 0..70_000 {
        zip.add(&NamedFile {
            name: format!("device-{i:05}.{}", ["pem", "key", "cer"][i % 3]),
            contents: format!("contents of file {i}\n").into_bytes(),
            secret: i % 3 == 1,
        })
        .unwrap();
        if i % 256 == 255 {
            entries.extend(zip.take_entries());
            directory.extend(zip.take_directory());
        }
    }
    let tail = zip.finish();
    entries.extend(tail.entries);
    entries.extend(directory);
    entries.extend(tail.directory);
    entries.extend(tail.end);
    let path = dir.write("big.zip", entries);

    let script = r#"
import sys, zipfile, stat
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
infos = z.infolist()
assert len(infos) == 70000, len(infos)
assert infos[69999].filename == "device-69999.pem", infos[69999].filename
assert z.read("device-12345.pem") == b"contents of file 12345\n"
assert stat.S_IMODE(z.getinfo("device-00001.key").external_attr >> 16) == 0o600
print("ok", len(infos))
"#;
    python(script, &[path_str(&path)]);
    let unzip = Command::new("unzip")
        .args(["-tq", path_str(&path)])
        .output()
        .expect("unzip (Info-ZIP)");
    let said = String::from_utf8_lossy(&unzip.stdout);
    assert!(
        unzip.status.success() && said.contains("No errors"),
        "{said}"
    );
}

/// Batches splice device certificates from a template of the CA's (only the serial, the CN, the
/// public point and the key identifier change): for every CA key kind, root or intermediate,
/// P-256 and P-384 device keys and ids of every length, the spliced certificate is the builder's
/// byte for byte (same serial, same signature), and OpenSSL and rustls-webpki accept it.
#[test]
fn spliced_device_certificates_are_the_builders_byte_for_byte_and_verify() {
    use hubcert::contract::DeviceId;
    use hubcert::pki::KeyPair;
    let dir = Scratch::new();
    let days = ValidityDays::new(365).unwrap();
    let mut checked = 0;
    for ca_key in [
        KeyAlgorithm::EcdsaP256,
        KeyAlgorithm::EcdsaP384,
        KeyAlgorithm::Rsa(2048),
    ] {
        let (root, inter) = root_and_intermediate(ca_key, "Template");
        for (ca, above) in [(&root, None), (&inter, Some(&root))] {
            let root_pem = dir.write("root.pem", root.certificate().pem());
            let chain_pem = dir.write("chain.pem", ca.certificate().pem());
            for device_key in [KeyAlgorithm::EcdsaP256, KeyAlgorithm::EcdsaP384] {
                let template = ca.device_template(device_key, days, now()).unwrap();
                for len in [1, 9, 40, 64] {
                    let id: String = (0..len).map(|i| (b'a' + (i % 26) as u8) as char).collect();
                    let id = DeviceId::parse(&id).unwrap();
                    let key = KeyPair::generate(device_key).unwrap();
                    let point = rcgen::PublicKeyData::der_bytes(&key);
                    // The point read from the key's PKCS#8, as the batch reads WebCrypto's.
                    let pkcs8 = key.to_pkcs8_der().unwrap();
                    assert_eq!(template.point_in_pkcs8(&pkcs8), Some(point));
                    assert_eq!(template.point_in_pkcs8(&pkcs8[..pkcs8.len() - 1]), None);
                    let params = DeviceCertParams {
                        device_id: id.clone(),
                        validity: days,
                    };
                    let built = ca
                        .device_unsigned(&params, device_key, point, now())
                        .unwrap();
                    let serial = built_serial(built.to_be_signed());
                    let tbs = template.to_be_signed(&id, &serial, point).unwrap();
                    assert_eq!(tbs, built.to_be_signed(), "{ca_key:?} {device_key:?} {len}");
                    // The CA's signature, as the builder takes it (DER) and as WebCrypto gives it.
                    let der_signature = rcgen::SigningKey::sign(ca.key(), &tbs).unwrap();
                    let raw = raw_signature(ca_key, &der_signature);
                    let spliced = template.certificate_der(&tbs, &raw).unwrap();
                    let whole = built.signed(&der_signature).unwrap();
                    assert_eq!(spliced, whole.der(), "{ca_key:?} {device_key:?} {len}");
                    let pem = dir.write(
                        "leaf.pem",
                        hubcert::pki::Certificate::from_der(spliced.clone())
                            .unwrap()
                            .pem(),
                    );
                    let run = if above.is_some() {
                        openssl_verify_chain(&root_pem, &chain_pem, &pem)
                    } else {
                        openssl_verify(&root_pem, &pem)
                    };
                    assert!(run.ok, "{}{}", run.stdout, run.stderr);
                    let inters: Vec<&[u8]> =
                        above.map(|_| ca.certificate().der()).into_iter().collect();
                    webpki_client_auth(root.certificate().der(), &inters, &spliced).unwrap();
                    checked += 1;
                }
            }
        }
    }
    assert_eq!(checked, 3 * 2 * 2 * 4);
    // A point of the other kind is refused, not spliced.
    let template = root()
        .device_template(KeyAlgorithm::EcdsaP256, days, now())
        .unwrap();
    let p384 = KeyPair::generate(KeyAlgorithm::EcdsaP384).unwrap();
    assert!(template
        .to_be_signed(
            &DeviceId::parse("x").unwrap(),
            &[1; 16],
            rcgen::PublicKeyData::der_bytes(&p384)
        )
        .is_err());
}

/// The serial a TBSCertificate carries (after version [0], the INTEGER of 16 bytes).
fn built_serial(tbs: &[u8]) -> [u8; 16] {
    let head = 2 + usize::from(tbs[1] & 0x7f);
    assert_eq!(&tbs[head..head + 7], &[0xa0, 3, 2, 1, 2, 2, 16]);
    tbs[head + 7..head + 23].try_into().unwrap()
}

/// An ECDSA signature in WebCrypto's form (r and s, IEEE P1363); RSA's as it is.
fn raw_signature(ca_key: KeyAlgorithm, der: &[u8]) -> Vec<u8> {
    match ca_key {
        KeyAlgorithm::EcdsaP256 => p256::ecdsa::Signature::from_der(der)
            .unwrap()
            .to_bytes()
            .to_vec(),
        KeyAlgorithm::EcdsaP384 => p384::ecdsa::Signature::from_der(der)
            .unwrap()
            .to_bytes()
            .to_vec(),
        _ => der.to_vec(),
    }
}

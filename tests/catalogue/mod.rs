//! The bad-input catalogue: every way a user can hand this tool the wrong thing, each with its own
//! message, none panicking. Run natively (tests/bad_input.rs) and in headless Chromium
//! (tests/browser/main.rs), so both builds refuse the same way.
#![allow(dead_code)]

use hubcert::contract::{DeviceId, VerificationCode};
use hubcert::pki::{
    certificate_from_bytes, export_pkcs12, import_pkcs12, make_csr, read_csr, Certificate,
    CertificateAuthority, DeviceCertParams, IntermediateCaParams, KeyAlgorithm, KeyPair,
    Pkcs12Preset, PkiError, RootCaParams, ValidityDays,
};
use time::{Duration, OffsetDateTime};

/// An Ed25519 key (made once with `openssl genpkey -algorithm ed25519`): a key type IoT Hub's
/// X.509 authentication does not take.
const ED25519_KEY: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEINMdSjV4Bp6EZqgY7Fd+SkWxDQsaiYNWU+rHSbLHHd3l\n-----END PRIVATE KEY-----";
/// An RSA key (made once with `openssl genrsa 1024`): too short to be trusted.
const RSA_KEY: &str = "-----BEGIN PRIVATE KEY-----\nMIICdgIBADANBgkqhkiG9w0BAQEFAASCAmAwggJcAgEAAoGBAMBn4WsL3i4EMf+z\nISkxis9PZE9NaNMU36x2xC4S9LwMCI6dp11Mt7LwZeCFXXcCUDGoordBjpW+s5Un\nLKbzFslVwsIRbYpfzYuazY6bI+Tw580r3KRgnaLQBo8UkGsm3SdnplKsY6dlhb6z\nA2U6gMMRhVV7fsHq4OLhrLn9JAXvAgMBAAECgYBRHrsUddF71zr5Up3Fj2S12QQy\nxzFN5XwUa5J01nsmmXA2KNP6azD8GYzqZ3Arj+cduLq5xsMF8Xwng3e4/7538vhd\n3BadSexw+QEMTBq3XXyaLfPepHTzKDVBQ7WYAXP+/uemg4BsGaFKP68T2U3N7xtH\nLYKzQamF9mmdyfrsQQJBAOko9SDekjtPetFAKb8IEaMOvgCoKrecR+abVPkkMQ1H\nNibJzcxK0nGWauRihN+OsDOxf9lOHcRRdbooC6T0LSECQQDTQOoEpldfPnjNBGio\nMm/TCovl0burgrdM67DDhKbqmmUJ1xE/UESMfO8gBv1jWiUN8Dz8cOoUQ5ZBGkyH\nYEEPAkEA05NVDSSrMaLn4iYFO9JIntxr0hDH4qGwJTTjIMmUsWXjX8NUOoPS/zvt\nd51m0a6bee0iBMD8Bf+dgvV/y4m/wQJAE6c5Xj9fZ4P3VxNu7R7sGlUj2LifXgBm\nLyjKJBZmNPMyLS0t9JbyGaPR10fvMNwFEHvmIJIcpM/43YulzP5ebwJASSuyNrcs\nVMVzMATlqMCc02hbgwUqPYoc5nurnOuAdua4nxoB8NcMrIUqFHzyhIbSd95T7+80\nP8ieHVUn4QQo1A==\n-----END PRIVATE KEY-----";

/// One bad input: its name, what happened (an error message, or a description of success), and
/// the words the message must contain.
pub struct Case {
    pub name: &'static str,
    pub outcome: Result<String, String>,
    pub expect: &'static str,
}

fn err<T>(r: Result<T, PkiError>) -> Result<String, String> {
    match r {
        Ok(_) => Ok("accepted".into()),
        Err(e) => Err(e.to_string()),
    }
}

fn id_err<T, E: std::fmt::Display>(r: Result<T, E>) -> Result<String, String> {
    match r {
        Ok(_) => Ok("accepted".into()),
        Err(e) => Err(e.to_string()),
    }
}

/// An encrypted PKCS#8 key whose PBKDF2 asks for 99 million iterations (minutes of a hung page):
/// only its parameters matter, the ciphertext is filler.
fn key_asking_for_endless_work() -> String {
    use der::{Decode, Encode};
    let params = pkcs5::pbes2::Parameters::generate_pbkdf2_sha256_aes256cbc(
        99_000_000, &[7u8; 16], [9u8; 16],
    )
    .unwrap();
    let scheme = pkcs5::EncryptionScheme::from(params).to_der().unwrap();
    let info = pkcs12::pbe_params::EncryptedPrivateKeyInfo {
        encryption_algorithm: x509_cert::spki::AlgorithmIdentifierOwned::from_der(&scheme).unwrap(),
        encrypted_data: der::asn1::OctetString::new(vec![0u8; 64]).unwrap(),
    };
    pem::encode(&pem::Pem::new(
        "ENCRYPTED PRIVATE KEY",
        info.to_der().unwrap(),
    ))
}

/// All cases, made with `now` as the clock.
pub fn cases(now: OffsetDateTime) -> Vec<Case> {
    let ca = CertificateAuthority::create_root(&RootCaParams::default(), now).unwrap();
    let ca_pem = ca.certificate().pem();
    let device = ca
        .issue_device_identity(
            &DeviceCertParams {
                device_id: DeviceId::parse("catalogue-device").unwrap(),
                validity: ValidityDays::SEED_DEVICE,
            },
            KeyAlgorithm::EcdsaP256,
            now,
        )
        .unwrap();
    let other_key = KeyPair::generate(KeyAlgorithm::EcdsaP256).unwrap();
    let csr = make_csr(&device.key, &DeviceId::parse("catalogue-device").unwrap()).unwrap();
    let tampered_csr = {
        let mut der = pem::parse(&csr).unwrap().into_contents();
        let at = der
            .windows(16)
            .position(|w| w == b"catalogue-device")
            .unwrap();
        der[at] = b'K';
        der
    };
    let no_cn_csr = {
        let mut p = rcgen::CertificateParams::default();
        p.distinguished_name = rcgen::DistinguishedName::new();
        p.distinguished_name
            .push(rcgen::DnType::OrganizationName, "No CN Inc");
        p.serialize_request(&device.key).unwrap().pem().unwrap()
    };
    let expired_ca = CertificateAuthority::create_root(
        &RootCaParams {
            validity: ValidityDays::new(1).unwrap(),
            ..RootCaParams::default()
        },
        now - Duration::days(3),
    )
    .unwrap();
    // A CA:TRUE certificate without keyCertSign, made directly with rcgen.
    let no_sign_ca = {
        let key = KeyPair::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let mut p = rcgen::CertificateParams::default();
        p.distinguished_name
            .push(rcgen::DnType::CommonName, "No keyCertSign");
        p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        p.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
        p.serial_number = Some(rcgen::SerialNumber::from_slice(&[0x42]));
        let der = p.self_signed(&key).unwrap().der().to_vec();
        (Certificate::from_der(der).unwrap(), key)
    };
    let leaf_ca = ca
        .issue_intermediate(
            &IntermediateCaParams {
                subject: RootCaParams {
                    common_name: "Leaf-only".into(),
                    validity: ValidityDays::new(100).unwrap(),
                    ..RootCaParams::default()
                },
                path_len: Some(0),
            },
            now,
        )
        .unwrap();
    let encrypted = device.key.to_encrypted_pkcs8_pem("right password").unwrap();
    let truncated = ca_pem[..ca_pem.len() / 2].to_owned();
    let damaged = ca_pem.replacen("MII", "M!I", 1);
    let huge = vec![b'A'; 2 * 1024 * 1024];

    vec![
        Case { name: "empty certificate file", outcome: err(certificate_from_bytes(b"")), expect: "empty" },
        Case { name: "truncated PEM", outcome: err(Certificate::from_pem(&truncated)), expect: "END line is missing" },
        Case { name: "damaged base64", outcome: err(Certificate::from_pem(&damaged)), expect: "base64" },
        Case { name: "wrong PEM label", outcome: err(Certificate::from_pem(&device.key.to_pkcs8_pem().unwrap())), expect: "found PRIVATE KEY" },
        Case { name: "garbage DER", outcome: err(certificate_from_bytes(&[0x30, 0x03, 0x02, 0x01, 0x05])), expect: "not a valid X.509 certificate" },
        Case { name: "not PEM text", outcome: err(Certificate::from_pem("hello")), expect: "no -----BEGIN line" },
        Case { name: "huge file", outcome: err(certificate_from_bytes(&huge)), expect: "at most 1 MiB" },
        Case { name: "key where a certificate belongs in a CSR slot", outcome: err(read_csr(ca_pem.as_bytes())), expect: "found CERTIFICATE" },
        Case { name: "wrong password", outcome: err(KeyPair::from_any_pem(&encrypted, Some("wrong password"))), expect: "password does not open" },
        Case { name: "missing password", outcome: err(KeyPair::from_any_pem(&encrypted, None)), expect: "password for the encrypted key" },
        Case { name: "key/certificate mismatch", outcome: err(CertificateAuthority::import(ca.certificate().clone(), other_key, vec![])), expect: "does not belong" },
        Case { name: "CSR with a bad signature", outcome: err(read_csr(&tampered_csr)), expect: "altered" },
        Case { name: "CSR without a CN", outcome: err(read_csr(no_cn_csr.as_bytes()).and_then(|r| r.sign(&ca, ValidityDays::SEED_DEVICE, now))), expect: "no CN" },
        Case { name: "expired CA", outcome: err(expired_ca.issue_device_identity(&DeviceCertParams { device_id: DeviceId::parse("late").unwrap(), validity: ValidityDays::SEED_DEVICE }, KeyAlgorithm::EcdsaP256, now)), expect: "can no longer issue" },
        Case { name: "CA without keyCertSign", outcome: err(CertificateAuthority::import(no_sign_ca.0, no_sign_ca.1, vec![])), expect: "keyCertSign" },
        Case { name: "leaf certificate as a CA", outcome: err(CertificateAuthority::import(device.certificate.clone(), KeyPair::from_pkcs8_pem(&device.key.to_pkcs8_pem().unwrap()).unwrap(), vec![])), expect: "not a CA certificate" },
        Case { name: "RSA key under 2048 bits", outcome: err(KeyPair::from_any_pem(RSA_KEY, None)), expect: "1024 bits; at least 2048" },
        Case { name: "unknown key type (Ed25519)", outcome: err(KeyPair::from_any_pem(ED25519_KEY, None)), expect: "Ed25519 (1.3.101.112) keys are not supported" },
        Case { name: "old-style encrypted EC key", outcome: err(KeyPair::from_any_pem("-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END EC PRIVATE KEY-----\n", None)), expect: "openssl pkcs8 -topk8" },
        Case { name: "device id with a bad character", outcome: id_err(DeviceId::parse("line/7")), expect: "'/'" },
        Case { name: "device id longer than a CN", outcome: id_err(DeviceId::parse(&"d".repeat(65))), expect: "64" },
        Case { name: "empty verification code", outcome: id_err(VerificationCode::parse("   ")), expect: "Paste the verification code" },
        Case { name: "zero-day validity", outcome: err(ValidityDays::parse("0")), expect: "at least 1 day" },
        Case { name: "validity not a number", outcome: err(ValidityDays::parse("ten")), expect: "not a number of days" },
        Case { name: "validity past the CA", outcome: err(ca.issue_device_identity(&DeviceCertParams { device_id: DeviceId::parse("long").unwrap(), validity: ValidityDays::new(4000).unwrap() }, KeyAlgorithm::EcdsaP256, now)), expect: "would outlive its CA" },
        Case { name: "country not two letters", outcome: err(CertificateAuthority::create_root(&RootCaParams { country: "USA".into(), ..RootCaParams::default() }, now)), expect: "not a country code" },
        Case { name: "intermediate below pathLen 0", outcome: err(leaf_ca.issue_intermediate(&IntermediateCaParams { subject: RootCaParams::default(), path_len: None }, now)), expect: "may not sign another CA" },
        Case { name: ".pfx without a password", outcome: err(export_pkcs12(&device.key, &device.certificate, &[], "x", "", Pkcs12Preset::Modern)), expect: "password for the .pfx" },
        Case { name: ".pfx opened with a wrong password", outcome: err(import_pkcs12(&export_pkcs12(&device.key, &device.certificate, &[], "x", "right one", Pkcs12Preset::Modern).unwrap(), "wrong one")), expect: "does not open this .pfx file" },
        Case { name: "PEM text given as a .pfx", outcome: err(import_pkcs12(ca_pem.as_bytes(), "pw")), expect: "PEM text, not a .pfx" },
        Case { name: "garbage given as a .pfx", outcome: err(import_pkcs12(b"\x30\x03abc", "pw")), expect: "not a PKCS#12 file" },
        Case { name: "encrypted key asking for endless work", outcome: err(KeyPair::from_any_pem(&key_asking_for_endless_work(), Some("pw"))), expect: "99000000 key-derivation iterations" },
        Case { name: ".pfx with another key", outcome: err(export_pkcs12(&KeyPair::generate(KeyAlgorithm::EcdsaP256).unwrap(), &device.certificate, &[], "x", "pw", Pkcs12Preset::Legacy)), expect: "does not belong to this certificate" },
    ]
}

/// Checks every case: refused, with its expected words, and no two alike.
pub fn check_all(now: OffsetDateTime) {
    let cases = cases(now);
    assert!(cases.len() >= 20, "the catalogue has {} cases", cases.len());
    let mut seen: Vec<(String, &str)> = Vec::new();
    for c in &cases {
        match &c.outcome {
            Ok(what) => panic!("{}: {what}, but it must be refused", c.name),
            Err(message) => {
                assert!(
                    message.contains(c.expect),
                    "{}: the message should say {:?}: {message}",
                    c.name,
                    c.expect
                );
                if let Some((_, other)) = seen.iter().find(|(m, _)| m == message) {
                    panic!("{} and {other} give the same message: {message}", c.name);
                }
                seen.push((message.clone(), c.name));
            }
        }
    }
}

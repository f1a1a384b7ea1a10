//! Prepares a device on a running localhub the way the app does (upload the CA, prove possession,
//! register the device as CA-signed) and writes its certificate and key, for tests that need a
//! device certificate outside Rust (the browser's certificate store, other MQTT clients):
//! `{id}.pem`, `{id}.key` and the CA that signed it, `{id}-ca.pem`.
//!
//! With `--rogue`, the CA is made but never uploaded and the device never registered: a device
//! from a CA the hub does not know, which it must refuse.
//!
//! With `--renewed`, for a device provisioned before: the CA rolls over. A new root
//! ("Renewal Root {id}") is uploaded and verified as `root-{id}-next`, and a renewed certificate
//! for the same device id under it is written as `{id}-renewed.pem`, `{id}-renewed.key` and
//! `{id}-renewed-ca.pem`; the device's registration is left as it is.
//!
//! usage: cargo run -p localhub --example provision -- BASE_URL OUT_DIR DEVICE_ID [--rogue|--renewed]

use std::path::PathBuf;

use hubcert::contract::{DeviceId, VerificationCode};
use hubcert::iothub::HubClient;
use hubcert::iothub::{Arm, DeviceAuth, Registry};
use hubcert::pki::{
    CertificateAuthority, DeviceCertParams, KeyAlgorithm, RootCaParams, ValidityDays,
    VerificationCertParams,
};
use time::OffsetDateTime;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let flag = args
        .last()
        .filter(|a| a.starts_with("--"))
        .cloned()
        .unwrap_or_default();
    if !flag.is_empty() {
        args.pop();
    }
    let (rogue, renewed) = (flag == "--rogue", flag == "--renewed");
    let [base, out, id] = args.as_slice() else {
        return Err("usage: provision BASE_URL OUT_DIR DEVICE_ID [--rogue|--renewed]".into());
    };
    let out = PathBuf::from(out);
    std::fs::create_dir_all(&out)?;
    let http = reqwest::Client::new();
    let info: serde_json::Value = http
        .get(format!("{base}/localhub/info"))
        .send()
        .await?
        .json()
        .await?;
    let cs = info["connectionString"]
        .as_str()
        .ok_or("no connection string")?;
    let hub_name = info["hubName"].as_str().ok_or("no hub name")?;

    let now = OffsetDateTime::now_utc();
    let ca = CertificateAuthority::create_root(
        &RootCaParams {
            common_name: if renewed {
                format!("Renewal Root {id}")
            } else {
                format!("Provisioned Root {id}")
            },
            ..RootCaParams::default()
        },
        now,
    )?;
    let stem = if renewed {
        format!("{id}-renewed")
    } else {
        id.clone()
    };
    let write_device = |ca: &CertificateAuthority| -> Result<(), Box<dyn std::error::Error>> {
        let identity = ca.issue_device_identity(
            &DeviceCertParams {
                device_id: DeviceId::parse(id)?,
                validity: ValidityDays::SEED_DEVICE,
            },
            KeyAlgorithm::EcdsaP256,
            now,
        )?;
        std::fs::write(out.join(format!("{stem}.pem")), identity.certificate.pem())?;
        std::fs::write(
            out.join(format!("{stem}.key")),
            identity.key.to_pkcs8_pem()?.as_str(),
        )?;
        std::fs::write(out.join(format!("{stem}-ca.pem")), ca.certificate().pem())?;
        Ok(())
    };
    if rogue {
        write_device(&ca)?;
        println!("made {id}: signed by a CA the hub at {hub_name} has never seen");
        return Ok(());
    }
    let client = HubClient::new(localhub::HttpTransport(http), true);
    let arm = Arm::new(base, "sub", "rg", hub_name, "provision")?;
    let name = if renewed {
        format!("root-{id}-next")
    } else {
        format!("root-{id}")
    };
    client
        .upload_certificate(&arm, &name, &ca.certificate().pem(), false)
        .await?;
    let sign = |code: &VerificationCode| {
        ca.issue_verification(
            &VerificationCertParams {
                code: code.clone(),
                validity: ValidityDays::ONE_DAY,
            },
            now,
        )
        .map(|v| v.certificate.pem())
    };
    client.prove_possession(&arm, &name, sign, |_| {}).await?;
    if renewed {
        write_device(&ca)?;
        println!("renewed {id}: CA '{name}' verified beside the first, a new certificate under it");
        return Ok(());
    }
    let device_id = DeviceId::parse(id)?;
    let registry = Registry::from_connection_string(base, cs)?;
    let unix = now.unix_timestamp() as u64;
    client
        .register_device(
            &registry,
            &device_id,
            &DeviceAuth::CertificateAuthority,
            unix,
        )
        .await?;
    write_device(&ca)?;
    println!("provisioned {id}: CA '{name}' verified, device registered as CA-signed");
    Ok(())
}

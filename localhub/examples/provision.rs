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
//! With `--intermediate`: the root ("Chain Root {id}") is uploaded and verified, an intermediate
//! ("Chain Intermediate {id}", never uploaded) signs the device, and `{id}-ca.pem` holds the
//! intermediate then the root: the device a GA hub refuses over WebSockets and a hub in preview
//! mode accepts.
//!
//! BASE_URL may name several localhubs, separated by commas: the same CA is uploaded and verified,
//! and the device registered, on each.
//!
//! usage: cargo run -p localhub --example provision -- BASE_URL[,BASE_URL...] OUT_DIR DEVICE_ID [--rogue|--renewed|--intermediate]

use std::path::PathBuf;

use hubcert::contract::{DeviceId, VerificationCode};
use hubcert::iothub::HubClient;
use hubcert::iothub::{Arm, DeviceAuth, Registry};
use hubcert::pki::{
    CertificateAuthority, DeviceCertParams, IntermediateCaParams, KeyAlgorithm, RootCaParams,
    ValidityDays, VerificationCertParams,
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
    let (rogue, renewed, chained) = (
        flag == "--rogue",
        flag == "--renewed",
        flag == "--intermediate",
    );
    let [bases, out, id] = args.as_slice() else {
        return Err(
            "usage: provision BASE_URL[,BASE_URL...] OUT_DIR DEVICE_ID [--rogue|--renewed|--intermediate]"
                .into(),
        );
    };
    let out = PathBuf::from(out);
    std::fs::create_dir_all(&out)?;
    let now = OffsetDateTime::now_utc();
    let root = CertificateAuthority::create_root(
        &RootCaParams {
            common_name: if renewed {
                format!("Renewal Root {id}")
            } else if chained {
                format!("Chain Root {id}")
            } else {
                format!("Provisioned Root {id}")
            },
            ..RootCaParams::default()
        },
        now,
    )?;
    let intermediate = if chained {
        Some(root.issue_intermediate(
            &IntermediateCaParams {
                subject: RootCaParams {
                    common_name: format!("Chain Intermediate {id}"),
                    ..RootCaParams::default()
                },
                path_len: Some(0),
            },
            now,
        )?)
    } else {
        None
    };
    // The CA that signs the device.
    let signer = intermediate.as_ref().unwrap_or(&root);
    let stem = if renewed {
        format!("{id}-renewed")
    } else {
        id.clone()
    };
    let identity = signer.issue_device_identity(
        &DeviceCertParams {
            device_id: DeviceId::parse(id)?,
            validity: ValidityDays::SEED_DEVICE,
        },
        KeyAlgorithm::EcdsaP256,
        now,
    )?;
    let mut chain = signer.certificate().pem();
    if chained {
        chain.push_str(&root.certificate().pem());
    }
    for base in bases.split(',') {
        provision(base, id, &root, rogue, renewed, now).await?;
    }
    std::fs::write(out.join(format!("{stem}.pem")), identity.certificate.pem())?;
    std::fs::write(
        out.join(format!("{stem}.key")),
        identity.key.to_pkcs8_pem()?.as_str(),
    )?;
    std::fs::write(out.join(format!("{stem}-ca.pem")), chain)?;
    Ok(())
}

/// Uploads and verifies `ca` on the localhub at `base` and registers the device as CA-signed
/// (only what `rogue` and `renewed` leave to do).
async fn provision(
    base: &str,
    id: &str,
    ca: &CertificateAuthority,
    rogue: bool,
    renewed: bool,
    now: OffsetDateTime,
) -> Result<(), Box<dyn std::error::Error>> {
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

    if rogue {
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
    let sign = |code: VerificationCode| {
        std::future::ready(
            ca.issue_verification(
                &VerificationCertParams {
                    code,
                    validity: ValidityDays::ONE_DAY,
                },
                now,
            )
            .map(|v| v.certificate.pem()),
        )
    };
    client.prove_possession(&arm, &name, sign, |_| {}).await?;
    if renewed {
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
    println!("provisioned {id} on {base}: CA '{name}' verified, device registered as CA-signed");
    Ok(())
}

//! P-256 device identities per second (key + certificate + PEM), natively. Prints figures.

use std::time::{Duration, Instant};

use hubcert::contract::DeviceId;
use hubcert::pki::{
    CertificateAuthority, DeviceCertParams, KeyAlgorithm, RootCaParams, ValidityDays,
};
use time::OffsetDateTime;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let now = OffsetDateTime::now_utc();
    let ca = CertificateAuthority::create_root(&RootCaParams::default(), now)?;
    let budget = Duration::from_secs(2);
    let start = Instant::now();
    let mut made = 0u32;
    let mut bytes = 0usize;
    while start.elapsed() < budget {
        let params = DeviceCertParams {
            device_id: DeviceId::parse(&format!("bench-{made}"))?,
            validity: ValidityDays::SEED_DEVICE,
        };
        let id = ca.issue_device_identity(&params, KeyAlgorithm::EcdsaP256, now)?;
        bytes += id.certificate.pem().len() + id.key.to_pkcs8_pem()?.len();
        made += 1;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "native: {made} P-256 device identities in {secs:.2} s = {:.0} per second ({bytes} bytes of PEM)",
        f64::from(made) / secs
    );
    Ok(())
}

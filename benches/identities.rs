//! P-256 device identities per second (key + certificate + PEM), and a `.p7b` of 3,000 chained
//! certificates put in order as the inspector opens it, natively. Prints figures.

use std::time::{Duration, Instant};

use hubcert::contract::DeviceId;
use hubcert::pki::{
    inspect, write_pkcs7, CertificateAuthority, DeviceCertParams, KeyAlgorithm, KeyPair,
    RootCaParams, ValidityDays,
};
use time::OffsetDateTime;

#[path = "../tests/support/long_chain.rs"]
mod long_chain;

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

    // A .p7b of 3,000 chained certificates (0.8 MB, shuffled), as the inspector reads it: parsed
    // and put in issuer order; then imported as a CA with its chain (each link's signature
    // checked).
    let (key, last_key) = (
        KeyPair::generate(KeyAlgorithm::EcdsaP256)?,
        KeyPair::generate(KeyAlgorithm::EcdsaP256)?,
    );
    let chain = long_chain::long_chain(3_000, &key, &last_key);
    let p7b = write_pkcs7(&long_chain::shuffled(chain.clone()))?;
    let runs = 5;
    let start = Instant::now();
    for _ in 0..runs {
        inspect(&p7b, None)?;
    }
    let ms = start.elapsed().as_secs_f64() * 1000.0 / f64::from(runs);
    println!(
        "native: a .p7b of 3,000 chained certificates ({} KB) inspected (read, put in order) in {ms:.0} ms (mean of {runs})",
        p7b.len() / 1000
    );
    let start = Instant::now();
    CertificateAuthority::import_bundle(long_chain::shuffled(chain), last_key)?;
    println!(
        "native: the same 3,000 imported as a CA with its chain (ordered, each link's signature checked) in {:.0} ms",
        start.elapsed().as_secs_f64() * 1000.0
    );
    Ok(())
}

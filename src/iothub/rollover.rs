//! Moving a thumbprint-registered (`selfSigned`) device to a renewed certificate without the hub
//! ever refusing it: the new thumbprint goes in as the secondary (the device connects with either
//! certificate), then becomes the primary with the old kept as secondary, then the old goes. Each
//! step is read from the hub's own record, so the sequence resumes wherever it stopped.

use crate::contract::{AuthKind, Device, RegisteredThumbprint, X509Thumbprint};

/// What one press of "roll over" does (or found already done).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RolloverStep {
    /// The new thumbprint is now the secondary; the primary is still the old one.
    Staged,
    /// The new thumbprint is now the primary; the old one stays as secondary.
    Promoted,
    /// The old thumbprint is gone: both slots hold the new one.
    Retired,
    /// Both slots already hold the new thumbprint.
    AlreadyDone,
    /// The device is CA-signed: the hub checks only the chain and the CN, so a certificate
    /// renewed under a verified CA needs no change on the hub.
    CaSigned,
}

impl RolloverStep {
    /// What it means for the user, and what comes next.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Staged => "new thumbprint added as secondary; the device connects with the old or the new certificate. Install the new certificate on the device, then roll over again to make it primary",
            Self::Promoted => "new thumbprint is now primary; the old one stays as secondary until the device is seen on the new certificate. Roll over once more to retire the old one",
            Self::Retired => "old thumbprint retired; only the new certificate connects",
            Self::AlreadyDone => "already on the new certificate; nothing to change",
            Self::CaSigned => "CA-signed: the hub trusts the renewed certificate through the verified CA, nothing to change",
        }
    }
}

/// Where `device` stands with the certificate whose thumbprints are `sha1` and `sha256`, and the
/// thumbprints to write next (`None`: nothing to write). `Err` names why it cannot be rolled over.
pub fn plan_rollover(
    device: &Device,
    sha1: &str,
    sha256: &str,
) -> Result<(RolloverStep, Option<X509Thumbprint>), String> {
    match device.authentication.kind {
        AuthKind::SelfSigned => {}
        AuthKind::CertificateAuthority => return Ok((RolloverStep::CaSigned, None)),
        ref other => {
            return Err(format!(
                "it authenticates with {other}, not a certificate: register it by thumbprint or as CA-signed first"
            ))
        }
    }
    let is_new = |t: Option<&str>| {
        t.and_then(|t| RegisteredThumbprint::parse(t).ok())
            .is_some_and(|t| t.matches(sha1, sha256))
    };
    let (primary, secondary) = device.thumbprints();
    let new = sha256.to_ascii_uppercase();
    let write = |p: &str, s: &str| {
        Some(X509Thumbprint {
            primary_thumbprint: Some(p.to_owned()),
            secondary_thumbprint: Some(s.to_owned()),
        })
    };
    Ok(match (is_new(primary), is_new(secondary)) {
        (true, true) => (RolloverStep::AlreadyDone, None),
        (true, false) => {
            let p = primary.unwrap_or(&new);
            (RolloverStep::Retired, write(p, p))
        }
        (false, true) => {
            let s = secondary.unwrap_or(&new);
            (RolloverStep::Promoted, write(s, primary.unwrap_or(s)))
        }
        (false, false) => match primary {
            Some(old) => (RolloverStep::Staged, write(old, &new)),
            // No primary at all: nothing to keep connecting, so the new one takes both slots.
            None => (RolloverStep::Retired, write(&new, &new)),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::Authentication;

    const OLD1: &str = "1111111111111111111111111111111111111111";
    const OLD256: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    const NEW1: &str = "2222222222222222222222222222222222222222";
    const NEW256: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    fn device(primary: &str, secondary: &str) -> Device {
        Device::new(
            "d1",
            Authentication {
                kind: AuthKind::SelfSigned,
                symmetric_key: None,
                x509_thumbprint: Some(X509Thumbprint {
                    primary_thumbprint: Some(primary.into()),
                    secondary_thumbprint: Some(secondary.into()),
                }),
            },
        )
    }

    fn apply(d: &mut Device) -> RolloverStep {
        let (step, next) = plan_rollover(d, NEW1, NEW256).unwrap();
        if let Some(t) = next {
            d.authentication.x509_thumbprint = Some(t);
        }
        step
    }

    #[test]
    fn the_old_certificate_connects_until_the_new_one_is_primary_and_the_new_one_from_the_first_step(
    ) {
        let mut d = device(OLD256, OLD256);
        let accepts = |d: &Device, sha1: &str, sha256: &str| {
            let (p, s) = d.thumbprints();
            [p, s].into_iter().flatten().any(|t| {
                RegisteredThumbprint::parse(t)
                    .unwrap()
                    .matches(sha1, sha256)
            })
        };
        let mut steps = Vec::new();
        loop {
            let step = apply(&mut d);
            steps.push(step);
            if step == RolloverStep::AlreadyDone {
                break;
            }
            assert!(
                accepts(&d, NEW1, NEW256),
                "{step:?}: the new certificate must connect"
            );
            if step != RolloverStep::Retired {
                assert!(
                    accepts(&d, OLD1, OLD256),
                    "{step:?}: the old certificate must still connect"
                );
            }
            assert!(steps.len() < 5);
        }
        assert_eq!(
            steps,
            [
                RolloverStep::Staged,
                RolloverStep::Promoted,
                RolloverStep::Retired,
                RolloverStep::AlreadyDone
            ]
        );
        assert!(!accepts(&d, OLD1, OLD256));
        assert_eq!(
            d.thumbprints(),
            (
                Some(NEW256.to_ascii_uppercase().as_str()),
                Some(NEW256.to_ascii_uppercase().as_str())
            )
        );
    }

    #[test]
    fn a_device_registered_by_sha1_is_recognised_and_kept_as_registered() {
        // Promote: the secondary was written as SHA-1 by someone else; it is kept as written.
        let mut d = device(OLD256, NEW1);
        assert_eq!(apply(&mut d), RolloverStep::Promoted);
        assert_eq!(d.thumbprints(), (Some(NEW1), Some(OLD256)));
        assert_eq!(apply(&mut d), RolloverStep::Retired);
        assert_eq!(d.thumbprints(), (Some(NEW1), Some(NEW1)));
    }

    #[test]
    fn ca_signed_needs_nothing_and_sas_is_refused_by_name() {
        let ca = Device::new(
            "d2",
            Authentication {
                kind: AuthKind::CertificateAuthority,
                ..Default::default()
            },
        );
        assert_eq!(
            plan_rollover(&ca, NEW1, NEW256).unwrap(),
            (RolloverStep::CaSigned, None)
        );
        let sas = Device::new(
            "d3",
            Authentication {
                kind: AuthKind::Sas,
                ..Default::default()
            },
        );
        let e = plan_rollover(&sas, NEW1, NEW256).unwrap_err();
        assert!(e.contains("not a certificate"), "{e}");
    }
}

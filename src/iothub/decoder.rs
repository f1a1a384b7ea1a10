//! The error decoder: paste what a device SDK, the hub or OpenSSL printed, get the likely causes in
//! order and the fix, tied to the page's own certificates where the text names one (a 401003's
//! thumbprints, an issuer's name).

use crate::contract::ArmErrorCode;

/// A certificate the page made or imported, as the decoder matches it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownCertificate {
    /// How the page names it ("Device sensor-1", "Root CA").
    pub label: String,
    /// Subject common name.
    pub common_name: String,
    /// SHA-1 thumbprint, hex.
    pub sha1: String,
    /// SHA-256 thumbprint, hex.
    pub sha256: String,
}

/// One recognised error, with what most likely caused it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnosis {
    /// What the text says, in a few words.
    pub title: String,
    /// Likely causes, most likely first.
    pub causes: Vec<String>,
    /// What to do.
    pub fix: String,
    /// The page's certificates the text points at, with how.
    pub matched: Vec<String>,
}

fn diagnosis(title: &str, causes: &[&str], fix: &str) -> Diagnosis {
    Diagnosis {
        title: title.to_owned(),
        causes: causes.iter().map(|c| (*c).to_owned()).collect(),
        fix: fix.to_owned(),
        matched: Vec::new(),
    }
}

/// The hex value after `key=` (as in `SHA1Hash=AB12…`), up to the next non-hex character.
fn hex_after(text: &str, key: &str) -> Option<String> {
    let at = text.find(key)? + key.len();
    let hex: String = text[at..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect();
    (!hex.is_empty()).then_some(hex)
}

fn find_by_thumbprint<'a>(
    known: &'a [KnownCertificate],
    hex: &str,
) -> Option<&'a KnownCertificate> {
    known
        .iter()
        .find(|k| k.sha1.eq_ignore_ascii_case(hex) || k.sha256.eq_ignore_ascii_case(hex))
}

/// Reads `text` and returns what it recognises, most specific first; empty when nothing is known.
pub fn decode_error(text: &str, known: &[KnownCertificate]) -> Vec<Diagnosis> {
    let lower = text.to_ascii_lowercase();
    let has = |needle: &str| lower.contains(&needle.to_ascii_lowercase());
    let mut out = Vec::new();

    if has("SHA1Hash=") || has("SHA2Hash=") {
        let mut d = diagnosis(
            "401003: the device's certificate is not the one registered (thumbprint mismatch)",
            &[
                "The device presented another certificate than the one whose thumbprint is registered: a renewed or re-issued certificate, or another device's.",
                "The registration holds a thumbprint copied with a typo, or of the CA rather than of the device certificate.",
            ],
            "Register the device with the presented certificate's SHA-1 or SHA-256 thumbprint (put the new one as secondary first to roll over without downtime), or install the registered certificate on the device.",
        );
        for key in ["SHA1Hash=", "SHA2Hash="] {
            if let Some(k) = hex_after(text, key).and_then(|h| find_by_thumbprint(known, &h)) {
                d.matched.push(format!(
                    "The device presented {} (CN={}).",
                    k.label, k.common_name
                ));
            }
        }
        for key in ["PrimaryThumbprint=", "SecondaryThumbprint="] {
            if let Some(k) = hex_after(text, key).and_then(|h| find_by_thumbprint(known, &h)) {
                d.matched.push(format!(
                    "The hub's {} is {} (CN={}).",
                    key.trim_end_matches('='),
                    k.label,
                    k.common_name
                ));
            }
        }
        d.matched.dedup();
        out.push(d);
    } else if has("401003") || has("IoTHubUnauthorized\"") || has("renew token or certificate") {
        out.push(diagnosis(
            "401003 IoTHubUnauthorized: the hub did not accept the device's credentials",
            &[
                "The SAS token expired (SDKs renew it and reconnect: harmless if the device reconnects at once), or this device's clock is wrong.",
                "The device is not registered in this hub, or with another authentication type.",
                "The key in the connection string is not the device's current key.",
            ],
            "Check the device id and hub name, the registration's authentication type, and the device's clock (NTP); copy the connection string again.",
        ));
    }
    if has("401002") || has("IotHubUnauthorizedAccess") {
        out.push(diagnosis(
            "401002 IotHubUnauthorizedAccess: the service credentials were refused",
            &[
                "The connection string's policy has no permission for the call (registry write needs iothubowner or registryReadWrite).",
                "The SAS token was made with another key, or has expired (check this computer's clock).",
                "For DPS: the device's certificate or key is not the one the enrollment expects.",
            ],
            "Use the iothubowner connection string (`az iot hub connection-string show --policy-name iothubowner`), or a fresh Entra token.",
        ));
    }
    if has(ArmErrorCode::VerificationSignedByAnother.as_str()) {
        let mut d = diagnosis(
            "IH400053: the verification certificate was signed by another CA than the uploaded one",
            &[
                "The verification certificate was made with another CA's key (another root, or an intermediate rather than the uploaded CA).",
                "The uploaded certificate is not the CA whose key signed (a re-created CA with the same name).",
            ],
            "Make the verification certificate with the key of the CA you uploaded (hubcert does this in one click), or upload the CA that signed it.",
        );
        for k in known {
            if !k.common_name.is_empty() && text.contains(&k.common_name) {
                d.matched.push(format!(
                    "The text names {} (CN={}).",
                    k.label, k.common_name
                ));
            }
        }
        out.push(d);
    }
    if has(ArmErrorCode::VerificationCodeMismatch.as_str()) {
        out.push(diagnosis(
            "IH400054: the verification certificate's CN is not the current verification code",
            &["A new code was generated after this certificate was made: each generation replaces the previous code.", "The CN was typed with extra characters (quotes, spaces)."],
            "Generate the code again and make a new verification certificate with exactly that CN.",
        ));
    }
    if has(ArmErrorCode::PreconditionFailed.as_str()) || (has("412") && has("etag")) {
        out.push(diagnosis(
            "IH412001: the etag was stale",
            &["The certificate changed since it was read: generating a verification code changes its etag."],
            "Read the certificate again (`az iot hub certificate show`) and retry with its current etag.",
        ));
    }
    let refused = has("not authorised")
        || has("not authorized")
        || has("connack 5")
        || has("0x5")
        || has("return code 5")
        || has("RefusedNotAuthorized");
    if refused && !has("SHA1Hash=") && !has("401002") {
        out.push(diagnosis(
            "CONNACK 5: the hub refused the device's connection (not authorized)",
            &[
                "X.509 CA-signed device: its CA is not uploaded and verified in this hub, or the certificate was signed by an intermediate the device did not send.",
                "The certificate's CN is not the device id, exactly.",
                "The device is not registered, is disabled, or is registered with another authentication type.",
                "Over MQTT over WebSockets: a CA-signed device under an intermediate needs the hub's preview mode and an SDK that sends the chain (Chrome and Edge send no intermediates); register it by thumbprint, verify its intermediate in the hub, or use MQTT over TCP.",
                "SAS device: the token is wrong or expired (check the key and the device's clock).",
            ],
            "Check the registration (type and status), the CA's verified state, and the certificate's CN; hubcert's inspector runs IoT Hub's checks against the page's CA.",
        ));
    }
    let trust = has("unable to get local issuer certificate")
        || has("certificate verify failed")
        || has("self signed certificate in certificate chain")
        || has("self-signed certificate in certificate chain")
        || has("unable_to_get_issuer_cert");
    if trust {
        out.push(diagnosis(
            "The device does not trust the hub's TLS certificate",
            &[
                "The device's trust store lacks the roots IoT Hub uses: DigiCert Global Root G2 and Microsoft RSA Root CA 2017.",
                "Against localhub: the device does not trust localhub's own root (.localhub/tls/root-ca.pem).",
                "A proxy or firewall that inspects TLS replaced the hub's certificate.",
            ],
            "Give the device the right CA file (`--cafile`, `ca:` in the SDK options), or update its trust store.",
        ));
    }
    if has("alert unknown ca") || has("alert bad certificate") || has("alert certificate required")
    {
        out.push(diagnosis(
            "The server refused the device's certificate during the TLS handshake",
            &[
                "The server does not know the CA that signed the device certificate (upload and verify it, or send the intermediate too).",
                "The device sent no certificate, or one without the private key it was loaded with.",
            ],
            "Check that the device loads its certificate and key (and the intermediate, when there is one) and that its CA is registered where it connects.",
        ));
    }
    if has("certificate has expired")
        || has("certificate expired")
        || has("alert certificate expired")
    {
        out.push(diagnosis(
            "A certificate in the handshake has expired",
            &[
                "The device certificate (or its CA) is past its notAfter date.",
                "The device's clock is wrong.",
            ],
            "Renew the device certificate (same CN) and install it; check the device's clock.",
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(label: &str, cn: &str, sha1: &str, sha256: &str) -> KnownCertificate {
        KnownCertificate {
            label: label.into(),
            common_name: cn.into(),
            sha1: sha1.into(),
            sha256: sha256.into(),
        }
    }

    #[test]
    fn a_401003_thumbprint_mismatch_names_the_pages_certificates() {
        let old = device(
            "Device sensor-1 (first issue)",
            "sensor-1",
            &"A1".repeat(20),
            &"B1".repeat(32),
        );
        let new = device(
            "Device sensor-1 (renewed)",
            "sensor-1",
            &"C2".repeat(20),
            &"D2".repeat(32),
        );
        // As IoT Hub's troubleshooting guide quotes it.
        let text = format!(
            "Thumbprint does not match configuration: Thumbprint: SHA1Hash={}, SHA2Hash={}; Configuration: PrimaryThumbprint={}, SecondaryThumbprint={}",
            "c2".repeat(20),
            "D2".repeat(32),
            "A1".repeat(20),
            "A1".repeat(20)
        );
        let d = decode_error(&text, &[old, new]);
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(d[0].title.starts_with("401003"));
        assert_eq!(
            d[0].matched,
            vec![
                "The device presented Device sensor-1 (renewed) (CN=sensor-1).".to_owned(),
                "The hub's PrimaryThumbprint is Device sensor-1 (first issue) (CN=sensor-1)."
                    .to_owned(),
                "The hub's SecondaryThumbprint is Device sensor-1 (first issue) (CN=sensor-1)."
                    .to_owned(),
            ]
        );
    }

    #[test]
    fn sdk_refusals_are_recognised_as_connack_5() {
        for text in [
            // azure-iot-sdk-c (seen in Azure/azure-iot-sdks#985)
            "Func:mqtt_operation_complete_callback Line:1273 Connection Not Accepted: 0x5: Not Authorized",
            // paho / mosquitto_pub
            "Connection error: Connection Refused: not authorised.",
            // Node.js SDK
            "UnauthorizedError: mqtt.js returned Connection refused: Not authorized error",
        ] {
            let d = decode_error(text, &[]);
            assert!(d.iter().any(|d| d.title.starts_with("CONNACK 5")), "{text}: {d:?}");
            assert!(d[0].causes.iter().any(|c| c.contains("preview mode")));
        }
    }

    #[test]
    fn service_and_proof_of_possession_errors_get_their_own_fix() {
        // A DPS/AMQP 401002 as the C# SDK printed it (Azure/azure-iot-sdk-csharp#347).
        let d = decode_error(
            r#"AmqpException: {"errorCode":401002,"trackingId":"a44","message":"IotHubUnauthorizedAccess"}"#,
            &[],
        );
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(d[0].fix.contains("iothubowner"));
        let root = device("Root CA", "Contoso Root", "", "");
        let d = decode_error(
            "ErrorCode:IH400053; The verification certificate was not signed by CN=Contoso Root",
            &[root],
        );
        assert!(d[0].title.starts_with("IH400053"));
        assert_eq!(
            d[0].matched,
            vec!["The text names Root CA (CN=Contoso Root).".to_owned()]
        );
        assert!(decode_error("{\"code\":\"IH400054\"}", &[])[0]
            .title
            .starts_with("IH400054"));
        assert!(decode_error("HTTP 412 IH412001 Invalid etag", &[])[0]
            .title
            .starts_with("IH412001"));
    }

    #[test]
    fn tls_failures_say_who_does_not_trust_whom() {
        let d = decode_error("ssl.SSLCertVerificationError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local issuer certificate (_ssl.c:1006)", &[]);
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(d[0].causes[0].contains("DigiCert Global Root G2"));
        let d = decode_error("error:0A000418:SSL routines::tlsv1 alert unknown ca", &[]);
        assert!(
            d[0].title.contains("refused the device's certificate"),
            "{d:?}"
        );
        let d = decode_error("certificate verify failed: certificate has expired", &[]);
        assert!(d.iter().any(|d| d.title.contains("expired")));
        assert!(decode_error("everything is fine", &[]).is_empty());
    }
}

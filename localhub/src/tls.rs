//! localhub's TLS identity and the rustls configurations of its listeners.

use std::path::Path;
use std::sync::Arc;

use hubcert::pki::{
    Certificate, CertificateAuthority, KeyAlgorithm, KeyPair, RootCaParams, ServerCertParams,
    ValidityDays,
};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{DigitallySignedStruct, DistinguishedName, ServerConfig, SignatureScheme};

/// The certificates a client presented in the TLS handshake, leaf first.
#[derive(Clone, Default)]
pub(crate) struct PeerCerts(pub(crate) Arc<Vec<CertificateDer<'static>>>);

/// The server certificate and key, and the root that signed it (for clients to trust).
pub(crate) struct TlsIdentity {
    pub(crate) root_pem: String,
    server: Certificate,
    key: KeyPair,
}

impl TlsIdentity {
    /// Loads `tls/` from the data directory, or makes it. The root's private key is never kept:
    /// a root a user trusts in a browser can then vouch for nothing but this server.
    pub(crate) fn load_or_create(dir: Option<&Path>, names: &[String]) -> Result<Self, String> {
        if let Some(dir) = dir {
            let (root, server, key) = (
                dir.join("root-ca.pem"),
                dir.join("server.pem"),
                dir.join("server.key"),
            );
            if root.exists() && server.exists() && key.exists() {
                let read = |p: &Path| {
                    std::fs::read_to_string(p).map_err(|e| format!("reading {}: {e}", p.display()))
                };
                let identity = Self {
                    root_pem: read(&root)?,
                    server: Certificate::from_pem(&read(&server)?).map_err(|e| e.to_string())?,
                    key: KeyPair::from_pkcs8_pem(&read(&key)?).map_err(|e| e.to_string())?,
                };
                let info = identity.server.info().map_err(|e| e.to_string())?;
                if info.days_left(time::OffsetDateTime::now_utc()) > 7 {
                    return Ok(identity);
                }
                eprintln!("localhub: the TLS certificate expires soon; making a new one (trust the new root again)");
            }
        }
        let identity = Self::create(names)?;
        if let Some(dir) = dir {
            std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
            // Whole files or none; the key readable by its owner only from the first byte.
            let write = |name: &str, text: &str| {
                crate::persist::write_atomic(&dir.join(name), text.as_bytes())
                    .map_err(|e| format!("writing {name}: {e}"))
            };
            write("root-ca.pem", &identity.root_pem)?;
            write("server.pem", &identity.server.pem())?;
            let key = identity.key.to_pkcs8_pem().map_err(|e| e.to_string())?;
            write("server.key", &key)?;
        }
        Ok(identity)
    }

    fn create(names: &[String]) -> Result<Self, String> {
        let now = time::OffsetDateTime::now_utc();
        let days = |d| ValidityDays::new(d).map_err(|e| e.to_string());
        let root = CertificateAuthority::create_root(
            &RootCaParams {
                common_name: "localhub Root CA".into(),
                organization: "hubcert localhub".into(),
                country: String::new(),
                validity: days(3650)?,
                key_algorithm: KeyAlgorithm::EcdsaP256,
            },
            now,
        )
        .map_err(|e| e.to_string())?;
        let key = KeyPair::generate(KeyAlgorithm::EcdsaP256).map_err(|e| e.to_string())?;
        let server = root
            .issue_server(
                &ServerCertParams {
                    names: names.to_vec(),
                    validity: days(825)?,
                },
                &key,
                now,
            )
            .map_err(|e| e.to_string())?;
        Ok(Self {
            root_pem: root.certificate().pem(),
            server,
            key,
        })
    }

    fn chain_and_key(
        &self,
    ) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), String> {
        let key = self.key.to_pkcs8_der().map_err(|e| e.to_string())?;
        Ok((
            vec![CertificateDer::from(self.server.der().to_vec())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.to_vec())),
        ))
    }

    /// For devices: a client certificate is asked for but optional (SAS devices send none);
    /// the session decides after the handshake whether the chain is acceptable.
    pub(crate) fn device_config(&self, alpn_http: bool) -> Result<Arc<ServerConfig>, String> {
        let (chain, key) = self.chain_and_key()?;
        let provider = provider();
        let verifier = Arc::new(AnyClientCert {
            algorithms: provider.signature_verification_algorithms,
        });
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_client_cert_verifier(verifier)
            .with_single_cert(chain, key)
            .map_err(|e| e.to_string())?;
        if alpn_http {
            config.alpn_protocols = vec![b"http/1.1".to_vec()];
        }
        Ok(Arc::new(config))
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Accepts any certificate chain at handshake time, but still checks the client's signature,
/// so a client must hold the private key of the certificate it presents.
#[derive(Debug)]
struct AnyClientCert {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ClientCertVerifier for AnyClientCert {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    // IoT Hub names no acceptable CAs in its certificate request (`openssl s_client` against a
    // hub prints "No client certificate CA names sent"); Chromium then sends the client
    // certificate without intermediates, which localhub must see as IoT Hub does.
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

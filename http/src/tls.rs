//! TLS (rustls, on ring) for both sides: the server's identity and the
//! channel bindings of its certificate; the client's trust roots and the
//! bindings it computes from the certificate the server sent.

use crate::Error;
use crate::channel_bindings::tls_server_end_point;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::Path;
use std::sync::Arc;

/// A server's TLS configuration (HTTP/1.1 by ALPN: Negotiate and NTLM are
/// not defined over HTTP/2) and the SEC_CHANNEL_BINDINGS of its
/// certificate's `tls-server-end-point`.
#[derive(Debug, Clone)]
pub struct ServerTls {
    config: Arc<rustls::ServerConfig>,
    channel_bindings: Option<Arc<[u8]>>,
}

impl ServerTls {
    /// From a PEM certificate chain (the server's first) and a PEM private
    /// key (PKCS#8, PKCS#1 or SEC1). Errors name the file.
    pub fn from_pem_files(certificate: &Path, key: &Path) -> Result<Self, Error> {
        let pem = |file: &Path, reason: String| Error::Pem {
            file: file.to_path_buf(),
            reason,
        };
        let chain = CertificateDer::pem_file_iter(certificate)
            .map_err(|e| pem(certificate, e.to_string()))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| pem(certificate, e.to_string()))?;
        if chain.is_empty() {
            return Err(pem(certificate, "no CERTIFICATE in the file".into()));
        }
        let key = PrivateKeyDer::from_pem_file(key).map_err(|e| pem(key, e.to_string()))?;
        Self::new(chain, key)
    }

    /// From a certificate chain (the server's first) and its private key.
    /// A certificate whose signature algorithm defines no
    /// `tls-server-end-point` hash (e.g. Ed25519) is served without
    /// channel bindings, with a warning.
    pub fn new(
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> Result<Self, Error> {
        let channel_bindings = match chain.first().map(|c| tls_server_end_point(c)) {
            Some(Ok(data)) => Some(Arc::from(sspi_core::sec_channel_bindings(&data))),
            Some(Err(e)) => {
                tracing::warn!(error = %e, "serving without channel bindings");
                None
            }
            None => None,
        };
        let mut config = rustls::ServerConfig::builder_with_provider(
            rustls::crypto::ring::default_provider().into(),
        )
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self {
            config: Arc::new(config),
            channel_bindings,
        })
    }

    /// The rustls configuration.
    pub fn config(&self) -> &Arc<rustls::ServerConfig> {
        &self.config
    }

    /// The SEC_CHANNEL_BINDINGS of the certificate (`None` when its
    /// signature algorithm defines no `tls-server-end-point` hash).
    pub fn channel_bindings(&self) -> Option<&Arc<[u8]>> {
        self.channel_bindings.as_ref()
    }
}

/// A client TLS configuration that trusts the certificates of the PEM file
/// `roots` (a CA, or the server's self-signed certificate), HTTP/1.1 by ALPN.
pub fn client_config(roots: &Path) -> Result<Arc<rustls::ClientConfig>, Error> {
    let pem = |reason: String| Error::Pem {
        file: roots.to_path_buf(),
        reason,
    };
    let mut store = rustls::RootCertStore::empty();
    for certificate in CertificateDer::pem_file_iter(roots).map_err(|e| pem(e.to_string()))? {
        let certificate = certificate.map_err(|e| pem(e.to_string()))?;
        store
            .add(certificate)
            .map_err(|e| pem(format!("not a usable trust anchor: {e}")))?;
    }
    if store.is_empty() {
        return Err(pem("no CERTIFICATE in the file".into()));
    }
    let mut config = rustls::ClientConfig::builder_with_provider(
        rustls::crypto::ring::default_provider().into(),
    )
    .with_safe_default_protocol_versions()?
    .with_root_certificates(store)
    .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

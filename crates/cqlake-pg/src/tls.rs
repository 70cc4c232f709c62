//! TLS for the PostgreSQL door: a certificate chain and its key from PEM files.

use std::path::Path;
use std::sync::Arc;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::crypto::ring;

use crate::{Error, Result};

/// An acceptor for the certificate chain in `cert` and the private key in `key` (PKCS#8, PKCS#1
/// or SEC1). Any problem is an error naming the file: a server asked for TLS never falls back
/// to plain text.
pub(crate) fn acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| Error::Tls(format!("--pg-tls-cert {}: {e}", cert.display())))?;
    if chain.is_empty() {
        return Err(Error::Tls(format!(
            "--pg-tls-cert {}: no certificate in the file",
            cert.display()
        )));
    }
    let private = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| Error::Tls(format!("--pg-tls-key {}: {e}", key.display())))?;
    let config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, private)
        .map_err(|e| {
            Error::Tls(format!(
                "--pg-tls-cert {} with --pg-tls-key {}: {e}",
                cert.display(),
                key.display()
            ))
        })?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

//! The cluster's keys: mutual TLS on every link of a cluster.
//!
//! A cluster's links are the client's to the scheduler, each executor's to the scheduler, and
//! the client's and the executors' to the executors' Arrow Flight servers (results and shuffle
//! data). With keys, every one of them is TLS 1.3 and both ends show the cluster's certificate:
//! a process without the key is refused by every listener, and nothing on the network sees a
//! plan, a row or a credential.
//!
//! The keys are three PEM files in one directory, made by [`ClusterKeys::generate`]
//! (`cqlake cluster-keys`): `ca.pem`, a certificate authority that signed exactly one
//! certificate and whose private key was thrown away; `cluster.pem`, that certificate; and
//! `cluster.key`, its private key — the shared secret. Every process of the cluster and every
//! client gets the same directory. A certificate names the cluster, not a host
//! ([`SERVER_NAME`]), so one directory serves any set of machines and addresses.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use ballista_core::extension::EndpointOverrideFn;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity, ServerTlsConfig};

use crate::{Error, Result};

/// The name in the cluster's certificate, which every client checks instead of a host name.
pub const SERVER_NAME: &str = "cqlake-cluster";
/// The certificate authority's certificate, in a keys directory.
pub const CA_FILE: &str = "ca.pem";
/// The cluster's certificate, in a keys directory.
pub const CERT_FILE: &str = "cluster.pem";
/// The cluster's private key, in a keys directory.
pub const KEY_FILE: &str = "cluster.key";

/// The keys of a cluster: its certificate authority's certificate, its certificate and its
/// private key, as PEM. `Debug` never shows the key.
#[derive(Clone)]
pub struct ClusterKeys {
    ca: String,
    cert: String,
    key: String,
}

impl fmt::Debug for ClusterKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClusterKeys").finish_non_exhaustive()
    }
}

impl ClusterKeys {
    /// New keys valid from now for `days` days: an ECDSA P-256 certificate authority, which
    /// signs one certificate (for both ends of a link, named [`SERVER_NAME`]) and is then
    /// forgotten, so that no other certificate can ever be made for the cluster.
    pub fn generate(days: u32) -> Result<Self> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let from = unix_time(now.saturating_sub(3600))?;
        let until = unix_time(now + u64::from(days.max(1)) * 86_400)?;

        let ca_key = KeyPair::generate().map_err(keygen)?;
        let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(keygen)?;
        ca.distinguished_name
            .push(DnType::CommonName, "cqlake cluster authority");
        ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        ca.not_before = from;
        ca.not_after = until;
        let ca_cert = ca.self_signed(&ca_key).map_err(keygen)?;

        let key = KeyPair::generate().map_err(keygen)?;
        let mut node = CertificateParams::new(vec![SERVER_NAME.to_string()]).map_err(keygen)?;
        node.distinguished_name
            .push(DnType::CommonName, SERVER_NAME);
        node.is_ca = IsCa::ExplicitNoCa;
        node.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        node.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        node.not_before = from;
        node.not_after = until;
        let cert = node
            .signed_by(&key, &Issuer::new(ca, ca_key))
            .map_err(keygen)?;
        Ok(ClusterKeys {
            ca: ca_cert.pem(),
            cert: cert.pem(),
            key: key.serialize_pem(),
        })
    }

    /// The keys in `dir` ([`CA_FILE`], [`CERT_FILE`], [`KEY_FILE`]).
    pub fn read(dir: &Path) -> Result<Self> {
        let read = |name: &str| -> Result<String> {
            let path = dir.join(name);
            let text = std::fs::read_to_string(&path).map_err(|source| Error::Keys {
                path: path.clone(),
                source,
            })?;
            if !text.contains("-----BEGIN ") {
                return Err(Error::Config(format!(
                    "{}: not a PEM file (make a cluster's keys with `cqlake cluster-keys`)",
                    path.display()
                )));
            }
            Ok(text)
        };
        Ok(ClusterKeys {
            ca: read(CA_FILE)?,
            cert: read(CERT_FILE)?,
            key: read(KEY_FILE)?,
        })
    }

    /// Writes the keys into `dir` (made if missing), the private key readable by its owner
    /// only. Refuses to replace keys already there: the cluster's processes would no longer
    /// accept each other.
    pub fn write(&self, dir: &Path) -> Result<Vec<PathBuf>> {
        std::fs::create_dir_all(dir).map_err(|source| Error::Keys {
            path: dir.to_path_buf(),
            source,
        })?;
        for name in [CA_FILE, CERT_FILE, KEY_FILE] {
            let path = dir.join(name);
            if path.exists() {
                return Err(Error::Config(format!(
                    "{}: keys are there already, and are never replaced (the cluster's \
                     processes would refuse each other); remove them first to start anew",
                    path.display()
                )));
            }
        }
        let mut written = Vec::new();
        for (name, text, private) in [
            (CA_FILE, &self.ca, false),
            (CERT_FILE, &self.cert, false),
            (KEY_FILE, &self.key, true),
        ] {
            let path = dir.join(name);
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(if private { 0o600 } else { 0o644 });
            }
            #[cfg(not(unix))]
            let _ = private;
            let mut file = options.open(&path).map_err(|source| Error::Keys {
                path: path.clone(),
                source,
            })?;
            std::io::Write::write_all(&mut file, text.as_bytes()).map_err(|source| {
                Error::Keys {
                    path: path.clone(),
                    source,
                }
            })?;
            written.push(path);
        }
        Ok(written)
    }

    /// A listener's TLS: it shows the cluster's certificate and accepts only peers that show
    /// one signed by the cluster's authority.
    pub(crate) fn server_tls(&self) -> ServerTlsConfig {
        install_crypto();
        ServerTlsConfig::new()
            .identity(Identity::from_pem(&self.cert, &self.key))
            .client_ca_root(Certificate::from_pem(&self.ca))
    }

    /// A connection's TLS: it trusts only the cluster's authority, checks the peer's name is
    /// [`SERVER_NAME`], and shows the cluster's certificate.
    fn client_tls(&self) -> ClientTlsConfig {
        install_crypto();
        ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(&self.ca))
            .identity(Identity::from_pem(&self.cert, &self.key))
            .domain_name(SERVER_NAME)
    }

    /// What Ballista calls on every gRPC endpoint it makes (to the scheduler, to an
    /// executor's Flight server): the same address over `https`, with the cluster's TLS.
    /// Ballista writes `http://` into the executors' scheduler address and picks the scheme
    /// of its Flight clients from a setting, so the endpoint is made anew here; it keeps
    /// Ballista's connection settings (timeouts, keep-alives) but no per-request timeout,
    /// which would cut long result streams.
    pub(crate) fn endpoint_override(&self) -> EndpointOverrideFn {
        let tls = self.client_tls();
        Arc::new(
            move |endpoint: Endpoint| -> std::result::Result<Endpoint, BoxError> {
                let uri = endpoint.uri();
                let authority = uri
                    .authority()
                    .ok_or_else(|| format!("{uri}: no host and port"))?;
                Ok(Endpoint::from_shared(format!("https://{authority}"))?
                    .connect_timeout(Duration::from_secs(20))
                    .tcp_nodelay(true)
                    .tcp_keepalive(Some(Duration::from_secs(3600)))
                    .http2_keep_alive_interval(Duration::from_secs(300))
                    .keep_alive_timeout(Duration::from_secs(20))
                    .keep_alive_while_idle(true)
                    .tls_config(tls.clone())?)
            },
        )
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// rustls needs one process-wide cryptography provider when more than one is built in: ring,
/// as the rest of cqlake's TLS.
fn install_crypto() {
    let _ = tokio_rustls::rustls::crypto::ring::default_provider().install_default();
}

fn unix_time(secs: u64) -> Result<time::OffsetDateTime> {
    time::OffsetDateTime::from_unix_timestamp(secs as i64)
        .map_err(|e| Error::Config(format!("a key's validity: {e}")))
}

fn keygen(e: rcgen::Error) -> Error {
    Error::Config(format!("making the cluster's keys: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_written_read_back_and_never_replaced_or_shown() {
        let dir = tempfile::tempdir().unwrap();
        let keys = ClusterKeys::generate(30).unwrap();
        assert!(keys.ca.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(keys.key.contains("PRIVATE KEY"));
        let written = keys.write(dir.path()).unwrap();
        assert_eq!(written.len(), 3);
        let read = ClusterKeys::read(dir.path()).unwrap();
        assert_eq!(
            (&read.ca, &read.cert, &read.key),
            (&keys.ca, &keys.cert, &keys.key)
        );
        assert!(!format!("{read:?}").contains("PRIVATE"));
        // A second set is refused and leaves the first in place.
        let err = ClusterKeys::generate(30)
            .unwrap()
            .write(dir.path())
            .unwrap_err();
        assert!(err.to_string().contains("ca.pem"), "{err}");
        assert_eq!(ClusterKeys::read(dir.path()).unwrap().key, keys.key);
        // Another set of keys is another authority.
        assert_ne!(ClusterKeys::generate(30).unwrap().ca, keys.ca);
    }

    #[test]
    fn a_directory_without_keys_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let err = ClusterKeys::read(dir.path()).unwrap_err();
        assert!(err.to_string().ends_with("ca.pem"), "{err}");
        std::fs::write(dir.path().join(CA_FILE), "not a certificate").unwrap();
        let err = ClusterKeys::read(dir.path()).unwrap_err();
        assert!(err.to_string().contains("not a PEM file"), "{err}");
    }

    #[test]
    fn endpoints_are_rewritten_to_tls_on_the_same_address() {
        let keys = ClusterKeys::generate(1).unwrap();
        let over = keys.endpoint_override();
        let e = over(Endpoint::from_static("http://10.0.0.7:50050")).unwrap();
        assert_eq!(e.uri().to_string(), "https://10.0.0.7:50050/");
    }
}

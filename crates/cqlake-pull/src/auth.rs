//! Signing in as a daemon (OAuth 2.0 client credentials) with a client secret or a certificate,
//! and keeping an access token fresh.
//!
//! With a certificate, the client proves itself with a JWT it signs (`client_assertion`): PS256
//! (RSA-PSS with SHA-256), header `x5t#S256` (the base64url SHA-256 of the certificate's DER),
//! claims `aud` (the token URL), `iss` = `sub` (the client id), a fresh `jti`, `nbf`, `iat` and
//! `exp` five minutes after `nbf`. The flow has no refresh token: a token is fetched again when
//! it has less than [`REFRESH_BEFORE`] left, or when Graph refuses it (401, once).

use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{RSA_PSS_SHA256, RsaKeyPair};

use crate::secret::Secret;
use crate::{Error, Result};

/// A token with less than this left is fetched again before use.
pub const REFRESH_BEFORE: Duration = Duration::from_secs(300);

/// How the client proves who it is.
pub enum Credential {
    /// A client secret.
    Secret(Secret),
    /// A certificate registered with the app, and its RSA private key.
    Certificate(Box<Certificate>),
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::Secret(_) => f.write_str("Credential::Secret(<redacted>)"),
            Credential::Certificate(c) => {
                write!(f, "Credential::Certificate(x5t#S256 {})", c.thumbprint)
            }
        }
    }
}

/// A certificate and its private key, read from PEM files.
pub struct Certificate {
    /// base64url (no padding) of the SHA-256 of the certificate's DER: the `x5t#S256` header.
    pub thumbprint: String,
    key: RsaKeyPair,
}

impl Certificate {
    /// Reads the first `CERTIFICATE` of `cert` and the RSA key of `key` (`PRIVATE KEY`, PKCS#8,
    /// or `RSA PRIVATE KEY`, PKCS#1; not encrypted).
    pub fn from_pem_files(cert: &Path, key: &Path) -> Result<Certificate> {
        let read = |p: &Path| {
            std::fs::read_to_string(p).map_err(|e| Error::Config(format!("{}: {e}", p.display())))
        };
        let cert_text = read(cert)?;
        let key_text = read(key)?;
        Certificate::from_pem(&cert_text, &key_text).map_err(|e| match e {
            Error::Config(m) => {
                Error::Config(format!("{} / {}: {m}", cert.display(), key.display()))
            }
            e => e,
        })
    }

    /// [`Certificate::from_pem_files`] from the files' text.
    pub fn from_pem(cert: &str, key: &str) -> Result<Certificate> {
        let der = pem_block(cert, "CERTIFICATE")
            .ok_or_else(|| Error::Config("no CERTIFICATE block in the certificate file".into()))?;
        let digest = ring::digest::digest(&ring::digest::SHA256, &der);
        let thumbprint = URL_SAFE_NO_PAD.encode(digest.as_ref());
        let key = if let Some(der) = pem_block(key, "PRIVATE KEY") {
            RsaKeyPair::from_pkcs8(&der)
                .map_err(|e| Error::Config(format!("the PKCS#8 key is not an RSA key ({e})")))?
        } else if let Some(der) = pem_block(key, "RSA PRIVATE KEY") {
            RsaKeyPair::from_der(&der)
                .map_err(|e| Error::Config(format!("the PKCS#1 RSA key does not load ({e})")))?
        } else if key.contains("ENCRYPTED PRIVATE KEY") {
            return Err(Error::Config(
                "the private key is encrypted: decrypt it first (openssl pkcs8 -in KEY -out PLAIN.pem)"
                    .into(),
            ));
        } else {
            return Err(Error::Config(
                "no PRIVATE KEY or RSA PRIVATE KEY block in the key file".into(),
            ));
        };
        Ok(Certificate { thumbprint, key })
    }

    /// A client assertion for `client_id` at `token_url`, valid from `now` (seconds since the
    /// epoch) for five minutes.
    pub fn assertion(&self, client_id: &str, token_url: &str, now: u64) -> Result<String> {
        let rng = SystemRandom::new();
        let header = serde_json::json!({
            "alg": "PS256",
            "typ": "JWT",
            "x5t#S256": self.thumbprint,
        });
        let claims = serde_json::json!({
            "aud": token_url,
            "iss": client_id,
            "sub": client_id,
            "jti": uuid_v4(&rng)?,
            "nbf": now,
            "iat": now,
            "exp": now + 300,
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut sig = vec![0u8; self.key.public().modulus_len()];
        self.key
            .sign(&RSA_PSS_SHA256, &rng, signing_input.as_bytes(), &mut sig)
            .map_err(|_| Error::Config("signing the client assertion failed".into()))?;
        Ok(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig)))
    }
}

/// The DER bytes of the first PEM block labelled `label`.
pub fn pem_block(text: &str, label: &str) -> Option<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin)? + begin.len();
    let stop = start + text[start..].find(&end)?;
    let b64: String = text[start..stop]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    STANDARD.decode(b64).ok()
}

/// A random (version 4) UUID.
pub fn uuid_v4(rng: &dyn SecureRandom) -> Result<String> {
    let mut b = [0u8; 16];
    rng.fill(&mut b)
        .map_err(|_| Error::Config("the system random generator failed".into()))?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    ))
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// An access token and when it stops being usable.
#[derive(Clone)]
pub struct Token {
    /// The bearer token.
    pub value: Secret,
    /// When it expires.
    pub expires: Instant,
}

/// Gets and keeps access tokens for one app in one tenant.
pub struct TokenSource {
    http: reqwest::Client,
    token_url: String,
    client_id: String,
    scope: String,
    credential: Credential,
    current: tokio::sync::Mutex<Option<Token>>,
    /// Tokens fetched so far.
    fetched: std::sync::atomic::AtomicU64,
}

impl TokenSource {
    /// A source for `client_id` in `tenant`, signing in at `login_url` (the root, such as
    /// `https://login.microsoftonline.com`) for Graph at `graph_url`.
    pub fn new(
        http: reqwest::Client,
        login_url: &str,
        graph_url: &str,
        tenant: &str,
        client_id: &str,
        credential: Credential,
    ) -> Result<TokenSource> {
        let plain = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_')
        };
        if !plain(tenant) {
            return Err(Error::Config(format!(
                "tenant {tenant:?} is not a tenant id or domain name"
            )));
        }
        if !plain(client_id) {
            return Err(Error::Config(format!(
                "client id {client_id:?} is not an application id"
            )));
        }
        Ok(TokenSource {
            http,
            token_url: format!(
                "{}/{tenant}/oauth2/v2.0/token",
                login_url.trim_end_matches('/')
            ),
            client_id: client_id.to_string(),
            scope: format!("{}/.default", graph_url.trim_end_matches('/')),
            credential,
            current: tokio::sync::Mutex::new(None),
            fetched: 0.into(),
        })
    }

    /// How many tokens were fetched.
    pub fn fetched(&self) -> u64 {
        self.fetched.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// A token with at least [`REFRESH_BEFORE`] left, fetched if need be.
    pub async fn token(&self) -> Result<Token> {
        let mut current = self.current.lock().await;
        if let Some(t) = current.as_ref()
            && t.expires > Instant::now() + REFRESH_BEFORE
        {
            return Ok(t.clone());
        }
        let t = self.fetch().await?;
        *current = Some(t.clone());
        Ok(t)
    }

    /// Forgets `token` (Graph refused it): the next [`TokenSource::token`] fetches a new one.
    pub async fn refused(&self, token: &Token) {
        let mut current = self.current.lock().await;
        if current.as_ref().is_some_and(|t| t.value == token.value) {
            *current = None;
        }
    }

    async fn fetch(&self) -> Result<Token> {
        let mut form: Vec<(&str, String)> = vec![
            ("client_id", self.client_id.clone()),
            ("scope", self.scope.clone()),
            ("grant_type", "client_credentials".into()),
        ];
        match &self.credential {
            Credential::Secret(s) => form.push(("client_secret", s.expose().to_string())),
            Credential::Certificate(c) => {
                form.push((
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into(),
                ));
                form.push((
                    "client_assertion",
                    c.assertion(&self.client_id, &self.token_url, unix_now())?,
                ));
            }
        }
        let body = form_encode(&form);
        let path = url_path(&self.token_url);
        let resp = self
            .http
            .post(&self.token_url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(|e| Error::Network {
                path: path.clone(),
                reason: crate::client::describe_reqwest(&e),
            })?;
        let status = resp.status().as_u16();
        let request_id = resp
            .headers()
            .get("x-ms-request-id")
            .or_else(|| resp.headers().get("request-id"))
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let bytes = resp.bytes().await.map_err(|e| Error::Network {
            path: path.clone(),
            reason: crate::client::describe_reqwest(&e),
        })?;
        let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        if status != 200 {
            let code = json["error"].as_str().unwrap_or("").to_string();
            let description = json["error_description"]
                .as_str()
                .unwrap_or("")
                .lines()
                .next()
                .unwrap_or("")
                .to_string();
            return Err(Error::SignIn {
                path,
                status,
                code,
                description,
                request_id,
            });
        }
        let value = json["access_token"].as_str().ok_or_else(|| Error::SignIn {
            path: path.clone(),
            status,
            code: "no_access_token".into(),
            description: "the answer has no access_token".into(),
            request_id: request_id.clone(),
        })?;
        let lifetime = json["expires_in"]
            .as_u64()
            .or_else(|| json["expires_in"].as_str().and_then(|s| s.parse().ok()))
            .unwrap_or(3599);
        self.fetched
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(Token {
            value: Secret::new(value),
            expires: Instant::now() + Duration::from_secs(lifetime),
        })
    }
}

/// `application/x-www-form-urlencoded` of `pairs`.
pub fn form_encode(pairs: &[(&str, String)]) -> String {
    let enc = |s: &str| {
        let mut out = String::with_capacity(s.len());
        for b in s.bytes() {
            match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                    out.push(b as char)
                }
                b' ' => out.push('+'),
                _ => out.push_str(&format!("%{b:02X}")),
            }
        }
        out
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The path of `url` (no scheme, host or query), for messages.
pub fn url_path(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => u.path().to_string(),
        Err(_) => url
            .split('?')
            .next()
            .unwrap_or(url)
            .splitn(4, '/')
            .nth(3)
            .map_or_else(|| "/".into(), |p| format!("/{p}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_are_encoded() {
        assert_eq!(
            form_encode(&[
                ("a b", "x/y=z&".into()),
                ("scope", "https://g/.default".into())
            ]),
            "a+b=x%2Fy%3Dz%26&scope=https%3A%2F%2Fg%2F.default"
        );
    }

    #[test]
    fn uuids_are_version_4() {
        let u = uuid_v4(&SystemRandom::new()).unwrap();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"), "{u}");
        assert_ne!(u, uuid_v4(&SystemRandom::new()).unwrap());
    }

    #[test]
    fn paths_leave_out_host_and_query() {
        assert_eq!(
            url_path("https://graph.microsoft.com/v1.0/communications/callRecords?$filter=x"),
            "/v1.0/communications/callRecords"
        );
    }
}

//! Where a lake is: a local directory or a URL of an object store (S3, Azure Blob / ADLS Gen2,
//! Google Cloud Storage), with the storage options its store is opened with.
//!
//! Credentials and endpoints come from each cloud's environment variables, read by deltalake's
//! object store factories (`AWS_*`, `AZURE_STORAGE_*`, `GOOGLE_*`), and from options given
//! here, which take precedence. A secret given as an option on the command line would be
//! visible in the process list, so [`LakeLocation::with_option`] refuses the secret keys unless
//! their value is read from a file (`KEY=@FILE`). Nothing of an option's value is ever printed:
//! [`LakeLocation`]'s `Display` and `Debug` show the URL without query string or password, and
//! the option keys only.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Once, OnceLock};

use deltalake::ObjectStore;
use url::Url;

use crate::{Error, Result};

/// The URL schemes of object stores a lake may be on, with the cloud each belongs to.
pub const OBJECT_STORE_SCHEMES: [(&str, &str); 8] = [
    ("s3", "Amazon S3"),
    ("s3a", "Amazon S3"),
    ("az", "Azure Blob Storage"),
    ("azure", "Azure Blob Storage"),
    ("abfs", "Azure Data Lake Storage Gen2"),
    ("abfss", "Azure Data Lake Storage Gen2"),
    ("adl", "Azure Data Lake Storage Gen2"),
    ("gs", "Google Cloud Storage"),
];

/// Where a lake is, and the options of its store. See the [module documentation](self).
#[derive(Clone)]
pub struct LakeLocation {
    /// The lake's URL, ending in `/`.
    url: Url,
    /// The directory, for a lake on a local disk.
    local: Option<PathBuf>,
    /// Storage options given explicitly (the environment is read by the stores themselves).
    options: BTreeMap<String, String>,
    /// The store, once built (clones share it).
    store: Arc<OnceLock<Arc<dyn ObjectStore>>>,
    /// How long a writer's lease lasts without renewal (object stores only).
    lease_ttl: std::time::Duration,
}

impl PartialEq for LakeLocation {
    fn eq(&self, other: &Self) -> bool {
        (&self.url, &self.local, &self.options) == (&other.url, &other.local, &other.options)
    }
}

impl Eq for LakeLocation {}

impl LakeLocation {
    /// A lake in the local directory `dir` (which need not exist yet).
    pub fn local(dir: impl Into<PathBuf>) -> Self {
        let dir = dir.into();
        let abs = std::path::absolute(&dir).unwrap_or_else(|_| dir.clone());
        let url = Url::from_directory_path(&abs)
            .unwrap_or_else(|()| Url::parse("file:///").expect("a valid URL"));
        LakeLocation {
            url,
            local: Some(dir),
            options: BTreeMap::new(),
            store: Arc::default(),
            lease_ttl: crate::lease::LEASE_TTL,
        }
    }

    /// Parses what a user named a lake with: a local path, a `file://` URL, or an object store
    /// URL (`s3://bucket/path`, `az://container/path`,
    /// `abfss://container@account.dfs.core.windows.net/path`, `gs://bucket/path`). Any other
    /// `scheme://` is refused, so a URL is never taken for a local directory named after it.
    pub fn parse(text: &str) -> Result<Self> {
        let bad = |why: String| Error::Location(format!("{text}: {why}"));
        let Some((scheme, _)) = text.split_once("://") else {
            if text.is_empty() {
                return Err(bad("an empty lake location".into()));
            }
            return Ok(LakeLocation::local(text));
        };
        let scheme = scheme.to_ascii_lowercase();
        if scheme == "file" {
            let url = Url::parse(text).map_err(|e| bad(e.to_string()))?;
            let dir = url
                .to_file_path()
                .map_err(|()| bad("not a local path".into()))?;
            return Ok(LakeLocation::local(dir));
        }
        if !OBJECT_STORE_SCHEMES.iter().any(|(s, _)| *s == scheme) {
            let known: Vec<String> = OBJECT_STORE_SCHEMES
                .iter()
                .map(|(s, _)| format!("{s}://"))
                .collect();
            return Err(bad(format!(
                "unknown storage scheme {scheme}:// (a lake is a local directory or a URL of {})",
                known.join(", ")
            )));
        }
        let mut url = Url::parse(text).map_err(|e| bad(e.to_string()))?;
        if url.host_str().is_none_or(str::is_empty) {
            return Err(bad(format!(
                "no bucket or container (write {scheme}://BUCKET/PATH)"
            )));
        }
        if url.query().is_some() || url.password().is_some() {
            return Err(bad(
                "credentials in the URL would be visible in the process list; use the environment or --storage-option KEY=@FILE".into(),
            ));
        }
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        Ok(LakeLocation {
            url,
            local: None,
            options: BTreeMap::new(),
            store: Arc::default(),
            lease_ttl: crate::lease::LEASE_TTL,
        })
    }

    /// Adds a storage option `KEY=VALUE` (object_store's and deltalake's keys, such as
    /// `aws_endpoint`, `aws_allow_http`, `azure_storage_account_name` or
    /// `google_service_account`). A value `@FILE` is read from FILE (one trailing newline
    /// dropped); a secret key (a secret, key, token, password or SAS) must be given that way or
    /// in the environment.
    pub fn with_option(mut self, option: &str) -> Result<Self> {
        let bad = |why: String| Error::Location(format!("--storage-option {option}: {why}"));
        let Some((key, value)) = option.split_once('=') else {
            return Err(Error::Location(format!(
                "--storage-option {}: expected KEY=VALUE",
                redact_option(option)
            )));
        };
        let key = key.trim();
        if key.is_empty() {
            return Err(bad("an empty key".into()));
        }
        let value = match value.strip_prefix('@') {
            Some(file) => {
                let mut v = std::fs::read_to_string(file)
                    .map_err(|e| Error::Location(format!("--storage-option {key}: {file}: {e}")))?;
                if v.ends_with('\n') {
                    v.pop();
                    if v.ends_with('\r') {
                        v.pop();
                    }
                }
                v
            }
            None if is_secret_key(key) => {
                return Err(Error::Location(format!(
                    "--storage-option {key}: a secret on the command line is visible in the process list; put it in a file and pass {key}=@FILE, or set it in the environment"
                )));
            }
            None => value.to_string(),
        };
        self.options.insert(key.to_string(), value);
        self.store = Arc::default();
        Ok(self)
    }

    /// How long a writer's lease on a lake on an object store lasts without renewal: a killed
    /// writer's lease lapses after it (default [`LEASE_TTL`](crate::lease::LEASE_TTL), 60 s;
    /// at least 3 s). It is renewed every third of it, so the store must answer within that.
    pub fn with_lease_ttl(mut self, ttl: std::time::Duration) -> Self {
        self.lease_ttl = ttl.max(std::time::Duration::from_secs(3));
        self
    }

    /// See [`with_lease_ttl`](Self::with_lease_ttl).
    pub fn lease_ttl(&self) -> std::time::Duration {
        self.lease_ttl
    }

    /// The directory of a lake on a local disk; `None` on an object store.
    pub fn as_local(&self) -> Option<&Path> {
        self.local.as_deref()
    }

    /// Whether the lake is on an object store.
    pub fn is_remote(&self) -> bool {
        self.local.is_none()
    }

    /// The lake's URL (ending in `/`).
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The storage options given explicitly.
    pub fn options(&self) -> &BTreeMap<String, String> {
        &self.options
    }

    /// The URL of the table (or other directory) `name` in the lake, ending in `/`.
    pub fn join(&self, name: &str) -> Url {
        self.url
            .join(&format!("{name}/"))
            .expect("a table name joins a URL")
    }

    /// The object store holding the lake, rooted at the lake (paths in it are relative to
    /// the lake: `calls/_delta_log/…`), built by deltalake's factory for the URL's scheme
    /// with the environment and the options.
    pub fn store(&self) -> Result<Arc<dyn ObjectStore>> {
        if let Some(store) = self.store.get() {
            return Ok(store.clone());
        }
        let store = self.build_store()?;
        Ok(self.store.get_or_init(|| store).clone())
    }

    fn build_store(&self) -> Result<Arc<dyn ObjectStore>> {
        register_stores();
        if let Some(dir) = &self.local {
            std::fs::create_dir_all(dir).map_err(crate::table::io_err(dir))?;
            let fs =
                deltalake::logstore::object_store::local::LocalFileSystem::new_with_prefix(dir)
                    .map_err(|e| Error::Store {
                        location: self.to_string(),
                        source: e,
                    })?;
            return Ok(Arc::new(fs));
        }
        deltalake::logstore::store_for(&self.url, self.options.iter()).map_err(|e| Error::Delta {
            table: self.to_string(),
            source: e,
        })
    }
}

impl LakeLocation {
    /// Uploads the local file `from` to `rel` in the lake (and removes it); returns the URL
    /// of the object.
    pub async fn put_file(&self, from: &Path, rel: &str) -> Result<Url> {
        let to = deltalake::Path::from(rel);
        crate::files::upload(
            self.store()?,
            from.to_path_buf(),
            to,
            self.url().to_string(),
        )
        .await?;
        Ok(self.url.join(rel).expect("a relative path joins a URL"))
    }

    /// The bytes of the small object `name` at the lake's root (a file in its directory),
    /// `None` when there is none.
    pub(crate) async fn read_object(&self, name: &str) -> Result<Option<Vec<u8>>> {
        use deltalake::logstore::object_store::{Error as StoreError, ObjectStoreExt};
        if let Some(root) = self.as_local() {
            let path = root.join(name);
            return match std::fs::read(&path) {
                Ok(b) => Ok(Some(b)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(crate::table::io_err(&path)(e)),
            };
        }
        let err = |source| Error::Store {
            location: self.join(name).to_string(),
            source,
        };
        match self.store()?.get(&deltalake::Path::from(name)).await {
            Ok(r) => Ok(Some(r.bytes().await.map_err(err)?.to_vec())),
            Err(StoreError::NotFound { .. }) => Ok(None),
            Err(e) => Err(err(e)),
        }
    }

    /// [`LakeLocation::read_object`] parsed as JSON; text that is not JSON is an error naming
    /// the object.
    pub(crate) async fn read_json(&self, name: &str) -> Result<Option<serde_json::Value>> {
        let Some(bytes) = self.read_object(name).await? else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| Error::Location(format!("{}: not JSON: {e}", self.join(name))))
    }

    /// Writes the small object `name` at the lake's root (a file in its directory, the
    /// directory made if missing); `create` fails if it exists already (on an object store, a
    /// conditional put).
    pub(crate) async fn write_object(&self, name: &str, body: Vec<u8>, create: bool) -> Result<()> {
        use deltalake::logstore::object_store::{PutMode, PutOptions};
        if let Some(root) = self.as_local() {
            std::fs::create_dir_all(root).map_err(crate::table::io_err(root))?;
            let path = root.join(name);
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .create_new(create)
                .truncate(true)
                .open(&path)
                .map_err(crate::table::io_err(&path))?;
            return std::io::Write::write_all(&mut f, &body).map_err(crate::table::io_err(&path));
        }
        let opts = PutOptions {
            mode: if create {
                PutMode::Create
            } else {
                PutMode::Overwrite
            },
            ..Default::default()
        };
        self.store()?
            .put_opts(&deltalake::Path::from(name), body.into(), opts)
            .await
            .map(|_| ())
            .map_err(|source| Error::Store {
                location: self.join(name).to_string(),
                source,
            })
    }
}

#[cfg(test)]
impl LakeLocation {
    /// A lake at `url` in `store` (a test's in-memory store).
    pub(crate) fn with_store(url: &str, store: Arc<dyn ObjectStore>) -> Self {
        let l = LakeLocation {
            url: Url::parse(url).expect("a URL"),
            local: None,
            options: BTreeMap::new(),
            store: Arc::default(),
            lease_ttl: crate::lease::LEASE_TTL,
        };
        let _ = l.store.set(store);
        l
    }
}

/// Registers deltalake's object store and log store factories of S3, Azure and GCS (once).
pub(crate) fn register_stores() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        deltalake::aws::register_handlers(None);
        deltalake::azure::register_handlers(None);
        deltalake::gcp::register_handlers(None);
    });
}

/// Whether a storage option's key names a secret (its value must not be given on the command
/// line).
fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    let harmless = [
        "_id", "_enabled", "_path", "_file", "_url", "_name", "_type",
    ];
    if harmless.iter().any(|h| k.ends_with(h)) {
        return false;
    }
    ["secret", "token", "password", "sas", "key", "credential"]
        .iter()
        .any(|s| k.contains(s))
}

/// `KEY=…` of an option, its value hidden.
fn redact_option(option: &str) -> String {
    match option.split_once('=') {
        Some((k, _)) => format!("{k}=…"),
        None => "(value hidden)".into(),
    }
}

impl fmt::Display for LakeLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.local {
            Some(dir) => write!(f, "{}", dir.display()),
            None => {
                let mut url = self.url.clone();
                url.set_query(None);
                let _ = url.set_password(None);
                write!(f, "{url}")
            }
        }
    }
}

impl fmt::Debug for LakeLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LakeLocation")
            .field("location", &self.to_string())
            .field("options", &self.options.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl From<&Path> for LakeLocation {
    fn from(dir: &Path) -> Self {
        LakeLocation::local(dir)
    }
}

impl From<PathBuf> for LakeLocation {
    fn from(dir: PathBuf) -> Self {
        LakeLocation::local(dir)
    }
}

impl From<&PathBuf> for LakeLocation {
    fn from(dir: &PathBuf) -> Self {
        LakeLocation::local(dir.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_paths_and_file_urls_are_local_directories() {
        let l = LakeLocation::parse("some/lake").unwrap();
        assert_eq!(l.as_local(), Some(Path::new("some/lake")));
        assert!(l.url().as_str().starts_with("file:///"));
        assert!(l.url().as_str().ends_with("/some/lake/"), "{}", l.url());
        let f = LakeLocation::parse("file:///tmp/x").unwrap();
        assert_eq!(f.as_local(), Some(Path::new("/tmp/x")));
        assert_eq!(f.join("calls").as_str(), "file:///tmp/x/calls/");
        // A colon in a plain path is a path.
        assert!(LakeLocation::parse("c:lake").unwrap().as_local().is_some());
    }

    #[test]
    fn object_store_urls_are_remote_and_end_in_a_slash() {
        for (text, url) in [
            ("s3://bucket/lake", "s3://bucket/lake/"),
            ("s3://bucket", "s3://bucket/"),
            ("az://container/a/b/", "az://container/a/b/"),
            (
                "abfss://c@acct.dfs.core.windows.net/lake",
                "abfss://c@acct.dfs.core.windows.net/lake/",
            ),
            ("gs://bucket/lake", "gs://bucket/lake/"),
        ] {
            let l = LakeLocation::parse(text).unwrap();
            assert!(l.is_remote(), "{text}");
            assert_eq!(l.url().as_str(), url);
            assert_eq!(l.to_string(), url);
        }
        let l = LakeLocation::parse("s3://bucket/lake").unwrap();
        assert_eq!(l.join("calls").as_str(), "s3://bucket/lake/calls/");
    }

    #[test]
    fn unknown_schemes_and_urls_without_bucket_are_refused() {
        let e = LakeLocation::parse("hdfs://nn/lake")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown storage scheme hdfs://"), "{e}");
        assert!(e.contains("s3://") && e.contains("gs://"), "{e}");
        let e = LakeLocation::parse("s3:///lake").unwrap_err().to_string();
        assert!(e.contains("no bucket"), "{e}");
        assert!(LakeLocation::parse("").is_err());
    }

    #[test]
    fn credentials_in_a_url_are_refused_without_echoing_them() {
        let e = LakeLocation::parse("az://c/lake?sv=2024&sig=SECRETSIG")
            .unwrap_err()
            .to_string();
        assert!(e.contains("credentials in the URL"), "{e}");
        let e = LakeLocation::parse("s3://key:SECRETPW@bucket/lake")
            .unwrap_err()
            .to_string();
        assert!(e.contains("credentials in the URL"), "{e}");
    }

    #[test]
    fn secret_options_come_from_files_and_are_never_shown() {
        let l = LakeLocation::parse("s3://b/l").unwrap();
        let e = l
            .clone()
            .with_option("aws_secret_access_key=TOPSECRET")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("process list") && !e.contains("TOPSECRET"),
            "{e}"
        );
        let e = l.clone().with_option("TOPSECRET").unwrap_err().to_string();
        assert!(!e.contains("TOPSECRET"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("secret");
        std::fs::write(&file, "TOPSECRET\n").unwrap();
        let l = l
            .with_option(&format!("aws_secret_access_key=@{}", file.display()))
            .unwrap()
            .with_option("aws_access_key_id=AKIDEXAMPLE")
            .unwrap()
            .with_option("aws_endpoint=http://127.0.0.1:5000")
            .unwrap();
        assert_eq!(l.options()["aws_secret_access_key"], "TOPSECRET");
        assert_eq!(l.options()["aws_access_key_id"], "AKIDEXAMPLE");
        let shown = format!("{l} {l:?}");
        assert!(!shown.contains("TOPSECRET"), "{shown}");
        assert!(shown.contains("aws_secret_access_key"), "{shown}");
        let e = LakeLocation::parse("s3://b/l")
            .unwrap()
            .with_option("aws_session_token=@/nonexistent/file")
            .unwrap_err()
            .to_string();
        assert!(e.contains("/nonexistent/file"), "{e}");
    }

    #[test]
    fn secret_keys_are_recognised() {
        for k in [
            "aws_secret_access_key",
            "AWS_SESSION_TOKEN",
            "azure_storage_account_key",
            "azure_storage_sas_key",
            "azure_client_secret",
            "google_service_account_key",
            "aws_sse_customer_key_base64",
        ] {
            assert!(is_secret_key(k), "{k}");
        }
        for k in [
            "aws_access_key_id",
            "aws_endpoint",
            "aws_allow_http",
            "aws_region",
            "azure_storage_account_name",
            "azure_storage_use_emulator",
            "google_service_account_path",
            "aws_sse_kms_key_id",
        ] {
            assert!(!is_secret_key(k), "{k}");
        }
    }
}

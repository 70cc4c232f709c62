//! One writer at a time: the lake's lock.
//!
//! On a local disk the lock is [`LOCK_FILE`](crate::LOCK_FILE) held with an exclusive file lock,
//! which the kernel releases when the process dies. An object store has no such lock, so there
//! the lock is a *lease*: the object [`LOCK_FILE`](crate::LOCK_FILE) in the lake, created only
//! if absent (a conditional put, `PutMode::Create`), holding its owner and an expiry
//! [`LEASE_TTL`] ahead. The holder renews it every third of that with a conditional update on
//! the version it wrote last; a writer that finds an expired lease takes it over the same way,
//! so of two writers that find it expired at once only one wins. A killed writer's lease lapses
//! after [`LEASE_TTL`]; a writer whose renewal fails (the lease was taken over, or the store
//! could not be reached long enough for it to lapse) stops before its next commit.

use std::fs::File;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use deltalake::ObjectStore;
use deltalake::logstore::object_store::ObjectStoreExt;
use deltalake::logstore::object_store::{
    self as os, PutMode, PutOptions, PutPayload, UpdateVersion,
};

use crate::{Error, LOCK_FILE, LakeLocation, Result};

/// How long a lease lasts without renewal, unless
/// [`LakeLocation::with_lease_ttl`] says otherwise.
pub const LEASE_TTL: Duration = Duration::from_secs(60);

/// A held lock; released when dropped (a lease is deleted in the background; call
/// [`LakeLock::release`] to wait for that).
pub(crate) enum LakeLock {
    /// The local lock file, locked.
    File(#[allow(dead_code)] File),
    /// A lease on an object store.
    Lease(Lease),
}

impl LakeLock {
    /// Takes the lock of the lake, or fails with [`Error::Busy`] if another writer holds it.
    pub(crate) async fn acquire(lake: &LakeLocation, owner: &str) -> Result<LakeLock> {
        match lake.as_local() {
            Some(root) => {
                std::fs::create_dir_all(root).map_err(crate::table::io_err(root))?;
                let path = root.join(LOCK_FILE);
                let lock = File::options()
                    .create(true)
                    .truncate(false)
                    .write(true)
                    .open(&path)
                    .map_err(crate::table::io_err(&path))?;
                match lock.try_lock() {
                    Ok(()) => Ok(LakeLock::File(lock)),
                    Err(std::fs::TryLockError::WouldBlock) => {
                        Err(Error::Busy(root.display().to_string()))
                    }
                    Err(std::fs::TryLockError::Error(e)) => Err(crate::table::io_err(&path)(e)),
                }
            }
            None => Ok(LakeLock::Lease(
                Lease::acquire(lake, owner, lake.lease_ttl()).await?,
            )),
        }
    }

    /// Fails if the lock was lost (a lease that could not be renewed): the writer must stop
    /// before it commits anything more.
    pub(crate) fn check(&self) -> Result<()> {
        match self {
            LakeLock::File(_) => Ok(()),
            LakeLock::Lease(l) => l.check(),
        }
    }

    /// Releases the lock, waiting for a lease's deletion.
    pub(crate) async fn release(self) -> Result<()> {
        match self {
            LakeLock::File(_) => Ok(()),
            LakeLock::Lease(l) => l.release().await,
        }
    }
}

/// See the [module documentation](self).
pub(crate) struct Lease {
    store: Arc<dyn ObjectStore>,
    location: String,
    lost: Arc<AtomicBool>,
    renewal: Option<tokio::task::JoinHandle<()>>,
    ttl: Duration,
    /// The runtime the lease was taken in (for deleting it when dropped outside of one).
    runtime: tokio::runtime::Handle,
}

/// What a lease object holds.
fn body(owner: &str, ttl: Duration) -> PutPayload {
    let expires = now_ms() + ttl.as_millis() as u64;
    let host = std::env::var("HOSTNAME").unwrap_or_default();
    PutPayload::from(
        serde_json::json!({
            "owner": owner,
            "host": host,
            "pid": std::process::id(),
            "expires_ms": expires,
        })
        .to_string(),
    )
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn version_of(r: &os::PutResult) -> UpdateVersion {
    UpdateVersion {
        e_tag: r.e_tag.clone(),
        version: r.version.clone(),
    }
}

impl Lease {
    /// Creates the lease object, or takes over an expired one.
    pub(crate) async fn acquire(lake: &LakeLocation, owner: &str, ttl: Duration) -> Result<Lease> {
        let store = lake.store()?;
        let path = os::path::Path::from(LOCK_FILE);
        let location = format!("{}{LOCK_FILE}", lake.url());
        let store_err = |e| Error::Store {
            location: location.clone(),
            source: e,
        };
        let busy = || Error::Busy(lake.to_string());
        let create = PutOptions::from(PutMode::Create);
        let written = match store.put_opts(&path, body(owner, ttl), create).await {
            Ok(r) => r,
            Err(os::Error::AlreadyExists { .. }) => {
                let current = match store.get(&path).await {
                    Ok(c) => c,
                    // Released in between: try once more.
                    Err(os::Error::NotFound { .. }) => {
                        let create = PutOptions::from(PutMode::Create);
                        return match store.put_opts(&path, body(owner, ttl), create).await {
                            Ok(r) => Ok(Lease::start(store, path, location, owner, ttl, r)),
                            Err(os::Error::AlreadyExists { .. }) => Err(busy()),
                            Err(e) => Err(store_err(e)),
                        };
                    }
                    Err(e) => return Err(store_err(e)),
                };
                let seen = UpdateVersion {
                    e_tag: current.meta.e_tag.clone(),
                    version: current.meta.version.clone(),
                };
                let bytes = current.bytes().await.map_err(store_err)?;
                let expires = serde_json::from_slice::<serde_json::Value>(&bytes)
                    .ok()
                    .and_then(|v| v.get("expires_ms").and_then(|x| x.as_u64()))
                    .unwrap_or(0);
                if expires > now_ms() {
                    return Err(busy());
                }
                // Expired: take it over, unless someone else did first.
                let update = PutOptions::from(PutMode::Update(seen));
                match store.put_opts(&path, body(owner, ttl), update).await {
                    Ok(r) => r,
                    Err(os::Error::Precondition { .. } | os::Error::AlreadyExists { .. }) => {
                        return Err(busy());
                    }
                    Err(e) => return Err(store_err(e)),
                }
            }
            Err(e) => return Err(store_err(e)),
        };
        Ok(Lease::start(store, path, location, owner, ttl, written))
    }

    fn start(
        store: Arc<dyn ObjectStore>,
        path: os::path::Path,
        location: String,
        owner: &str,
        ttl: Duration,
        written: os::PutResult,
    ) -> Lease {
        let lost = Arc::new(AtomicBool::new(false));
        let renewal = {
            let (store, path, lost, owner) =
                (store.clone(), path.clone(), lost.clone(), owner.to_string());
            tokio::spawn(async move {
                let mut version = version_of(&written);
                let mut last = std::time::Instant::now();
                loop {
                    tokio::time::sleep(ttl / 3).await;
                    let update = PutOptions::from(PutMode::Update(version.clone()));
                    match store.put_opts(&path, body(&owner, ttl), update).await {
                        Ok(r) => {
                            version = version_of(&r);
                            last = std::time::Instant::now();
                        }
                        Err(os::Error::Precondition { .. } | os::Error::NotFound { .. }) => {
                            lost.store(true, Ordering::SeqCst);
                            return;
                        }
                        // A transient error: try again at the next tick, unless the lease
                        // may have lapsed meanwhile.
                        Err(_) if last.elapsed() < ttl * 2 / 3 => {}
                        Err(_) => {
                            lost.store(true, Ordering::SeqCst);
                            return;
                        }
                    }
                }
            })
        };
        Lease {
            store,
            location,
            lost,
            renewal: Some(renewal),
            ttl,
            runtime: tokio::runtime::Handle::current(),
        }
    }

    fn check(&self) -> Result<()> {
        if self.lost.load(Ordering::SeqCst) {
            return Err(Error::Location(format!(
                "{}: this writer's lease on the lake lapsed or was taken over (the store was unreachable for {} s or another writer took it); nothing more is committed, and the next writer rolls back the unfinished group",
                self.location,
                self.ttl.as_secs()
            )));
        }
        Ok(())
    }

    async fn release(mut self) -> Result<()> {
        if let Some(r) = self.renewal.take() {
            r.abort();
        }
        if self.lost.load(Ordering::SeqCst) {
            return Ok(());
        }
        let path = os::path::Path::from(LOCK_FILE);
        match self.store.delete(&path).await {
            Ok(()) | Err(os::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(Error::Store {
                location: self.location.clone(),
                source: e,
            }),
        }
    }
}

/// A dropped lease (a writer that failed or was dropped without [`LakeLock::release`]) is
/// deleted before the drop returns, where the runtime allows it to be waited for (a
/// multi-threaded runtime, or none current), so that the next writer does not wait for it to
/// lapse; on a current-thread runtime the deletion is only started.
impl Drop for Lease {
    fn drop(&mut self) {
        let Some(r) = self.renewal.take() else {
            return;
        };
        r.abort();
        if self.lost.load(Ordering::SeqCst) {
            return;
        }
        let store = self.store.clone();
        let delete = async move {
            let path = os::path::Path::from(LOCK_FILE);
            let _ = tokio::time::timeout(Duration::from_secs(10), store.delete(&path)).await;
        };
        match tokio::runtime::Handle::try_current() {
            Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
                tokio::task::block_in_place(|| h.block_on(delete));
            }
            Ok(h) => {
                h.spawn(delete);
            }
            Err(_) => {
                // A runtime already shut down panics on the timer: then the lease lapses.
                let rt = self.runtime.clone();
                let _ =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| rt.block_on(delete)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use deltalake::logstore::object_store::ObjectStoreExt;
    use deltalake::logstore::object_store::memory::InMemory;

    fn new_lake() -> (LakeLocation, Arc<dyn ObjectStore>) {
        let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        (
            LakeLocation::with_store("s3://b/lake/", store.clone()),
            store,
        )
    }

    async fn lease_body(store: &Arc<dyn ObjectStore>) -> serde_json::Value {
        let b = store
            .get(&os::path::Path::from(LOCK_FILE))
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        serde_json::from_slice(&b).unwrap()
    }

    #[tokio::test]
    async fn a_live_lease_keeps_a_second_writer_out_until_released() {
        let (lake, store) = new_lake();
        let first = Lease::acquire(&lake, "first", LEASE_TTL).await.unwrap();
        assert_eq!(lease_body(&store).await["owner"], "first");
        let second = Lease::acquire(&lake, "second", LEASE_TTL).await;
        assert!(matches!(second, Err(Error::Busy(_))));
        first.release().await.unwrap();
        assert!(store.head(&os::path::Path::from(LOCK_FILE)).await.is_err());
        let second = Lease::acquire(&lake, "second", LEASE_TTL).await.unwrap();
        assert_eq!(lease_body(&store).await["owner"], "second");
        second.check().unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_lapsed_lease_is_taken_over_and_its_holder_stops() {
        let (lake, store) = new_lake();
        let ttl = Duration::from_millis(600);
        let stale = Lease::acquire(&lake, "stale", ttl).await.unwrap();
        // The holder stops renewing (as if frozen); its lease lapses.
        stale.renewal.as_ref().unwrap().abort();
        tokio::time::sleep(ttl + Duration::from_millis(200)).await;
        let next = Lease::acquire(&lake, "next", LEASE_TTL).await.unwrap();
        assert_eq!(lease_body(&store).await["owner"], "next");
        next.check().unwrap();
        // A holder whose lease was taken over finds out at its next renewal.
        let (lake2, store2) = new_lake();
        let holder = Lease::acquire(&lake2, "holder", ttl).await.unwrap();
        store2
            .put(
                &os::path::Path::from(LOCK_FILE),
                body("intruder", LEASE_TTL),
            )
            .await
            .unwrap();
        tokio::time::sleep(ttl).await;
        let e = holder.check().unwrap_err().to_string();
        assert!(e.contains("taken over"), "{e}");
        // Its release leaves the other's lease alone.
        holder.release().await.unwrap();
        assert_eq!(lease_body(&store2).await["owner"], "intruder");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_dropped_lease_is_deleted_at_once() {
        let (lake, store) = new_lake();
        let lease = Lease::acquire(&lake, "dropped", LEASE_TTL).await.unwrap();
        drop(lease);
        assert!(store.head(&os::path::Path::from(LOCK_FILE)).await.is_err());
        Lease::acquire(&lake, "next", LEASE_TTL).await.unwrap();
    }

    #[test]
    fn a_lease_dropped_outside_its_runtime_is_deleted_too() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let (lake, store) = new_lake();
        let lease = rt
            .block_on(Lease::acquire(&lake, "outside", LEASE_TTL))
            .unwrap();
        drop(lease);
        let gone = rt.block_on(store.head(&os::path::Path::from(LOCK_FILE)));
        assert!(gone.is_err());
    }

    #[tokio::test]
    async fn a_lease_being_renewed_stays_live() {
        let (lake, _store) = new_lake();
        let ttl = Duration::from_millis(450);
        let held = Lease::acquire(&lake, "held", ttl).await.unwrap();
        tokio::time::sleep(ttl * 3).await;
        held.check().unwrap();
        assert!(matches!(
            Lease::acquire(&lake, "other", ttl).await,
            Err(Error::Busy(_))
        ));
    }
}

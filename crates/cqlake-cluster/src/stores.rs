//! The object stores a cluster's processes read the lake's files from.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use datafusion::error::DataFusionError;
use datafusion::execution::object_store::{DefaultObjectStoreRegistry, ObjectStoreRegistry};
use datafusion::object_store::ObjectStore;
use url::Url;

/// The object stores of a process: the local file system, and the stores of `s3://`, `az://`,
/// `abfss://`, `gs://`… URLs, each built the first time a plan reads from it the way
/// `--lake URL` builds one ([`cqlake_lake::LakeLocation`]): credentials and settings from this
/// process's environment (`AWS_*`, `AZURE_STORAGE_*`, `GOOGLE_*`) and its `--storage-option`s.
/// A plan names a store by its URL only: no credential travels in it.
#[derive(Debug)]
pub struct LakeStores {
    options: Vec<String>,
    built: Mutex<HashMap<String, Arc<dyn ObjectStore>>>,
    registered: DefaultObjectStoreRegistry,
}

impl LakeStores {
    /// The stores, with the storage options `options` (`KEY=VALUE`, `KEY=@FILE`; see
    /// [`LakeLocation::with_option`](cqlake_lake::LakeLocation::with_option)).
    pub fn new(options: Vec<String>) -> datafusion::error::Result<LakeStores> {
        // The options are checked now, not at the first query.
        let mut probe = cqlake_lake::LakeLocation::parse("s3://probe/").map_err(external)?;
        for o in &options {
            probe = probe.with_option(o).map_err(external)?;
        }
        Ok(LakeStores {
            options,
            built: Mutex::new(HashMap::new()),
            registered: DefaultObjectStoreRegistry::new(),
        })
    }
}

fn external(e: cqlake_lake::Error) -> DataFusionError {
    DataFusionError::External(Box::new(e))
}

impl ObjectStoreRegistry for LakeStores {
    fn register_store(
        &self,
        url: &Url,
        store: Arc<dyn ObjectStore>,
    ) -> Option<Arc<dyn ObjectStore>> {
        self.registered.register_store(url, store)
    }

    fn deregister_store(&self, url: &Url) -> datafusion::error::Result<Arc<dyn ObjectStore>> {
        self.registered.deregister_store(url)
    }

    fn get_store(&self, url: &Url) -> datafusion::error::Result<Arc<dyn ObjectStore>> {
        if let Ok(store) = self.registered.get_store(url) {
            return Ok(store);
        }
        let key = format!("{}://{}", url.scheme(), url.authority());
        let mut built = self.built.lock().expect("the store map");
        if let Some(store) = built.get(&key) {
            return Ok(store.clone());
        }
        let mut lake = cqlake_lake::LakeLocation::parse(&format!("{key}/")).map_err(external)?;
        if lake.is_remote() {
            for o in &self.options {
                lake = lake.with_option(o).map_err(external)?;
            }
        }
        let store = lake.store().map_err(external)?;
        built.insert(key, store.clone());
        Ok(store)
    }
}

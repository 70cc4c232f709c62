//! Reading the lake: every table registered for SQL at the versions of the latest finished group.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use cqlake_schema::TableId;
use datafusion::prelude::SessionContext;

use crate::group::recorded_versions;
use crate::table::{delta_err, has_table, load, query_err};
use crate::{LakeLocation, Result};

/// What a reader registered: for each partitioned table, the data files of each call start date
/// at the version it read. Two states list the same files for a date exactly when that date's
/// rows are the same in both (files are immutable; a change writes new ones), so a cache of
/// anything computed per date knows which dates to compute again.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LakeState {
    files: BTreeMap<&'static str, BTreeMap<String, BTreeSet<String>>>,
}

impl LakeState {
    /// Whether the state is known: false for a plain Parquet export, whose files are not
    /// versioned.
    pub fn is_known(&self) -> bool {
        !self.files.is_empty()
    }

    /// The data files of table `t` by call start date (`YYYY-MM-DD`; the empty string for rows
    /// whose date is null); `None` for a side table.
    pub fn files_by_date(&self, t: TableId) -> Option<&BTreeMap<String, BTreeSet<String>>> {
        self.files.get(t.name())
    }

    /// The dates whose files of table `t` differ between `self` and `other` (in either).
    pub fn changed_dates(&self, other: &LakeState, t: TableId) -> BTreeSet<String> {
        let empty = BTreeMap::new();
        let a = self.files_by_date(t).unwrap_or(&empty);
        let b = other.files_by_date(t).unwrap_or(&empty);
        a.keys()
            .chain(b.keys())
            .filter(|d| a.get(*d) != b.get(*d))
            .cloned()
            .collect()
    }
}

/// Registers every table of the lake at `root` in `ctx` under its name, each at the version the
/// latest finished group recorded, so a query sees whole groups only, even while a convert runs,
/// and returns what it registered. A plain Parquet export
/// ([`is_parquet_export`](crate::is_parquet_export)) is registered as listings of its files
/// instead (its state is not known).
pub async fn register_lake(ctx: &SessionContext, lake: &LakeLocation) -> Result<LakeState> {
    register(ctx, lake, Providers::Delta).await
}

/// [`register_lake`], with each table registered as a [`FileTable`](crate::FileTable): the same
/// files at the same versions, planned as DataFusion's own Parquet scan, which plan codecs can
/// send to the executors of a cluster (deltalake's scan cannot be sent).
pub async fn register_lake_files(ctx: &SessionContext, lake: &LakeLocation) -> Result<LakeState> {
    register(ctx, lake, Providers::Files).await
}

/// The table providers a reader registers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Providers {
    /// deltalake's, for queries planned and run in this process.
    Delta,
    /// [`FileTable`](crate::FileTable)s, for plans sent to other processes.
    Files,
}

async fn register(
    ctx: &SessionContext,
    lake: &LakeLocation,
    providers: Providers,
) -> Result<LakeState> {
    if let Some(root) = lake.as_local()
        && crate::parquet_in::is_parquet_export(root)
    {
        crate::parquet_in::register_parquet_export(ctx, root).await?;
        return Ok(LakeState::default());
    }
    if lake.is_remote() && !has_table(lake, TableId::Calls.name()).await? {
        return Err(crate::Error::Location(format!(
            "{lake}: no lake there (no calls/_delta_log)"
        )));
    }
    let mut state = LakeState::default();
    let calls = load(lake, TableId::Calls.name(), None).await?;
    let versions = recorded_versions(&calls).await?;
    for t in TableId::ALL {
        let table = if t == TableId::Calls && versions[0] == calls.version() {
            calls.clone()
        } else {
            load(lake, t.name(), versions[t.index()]).await?
        };
        let mut by_date: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for f in table.snapshot().map_err(delta_err(t))?.log_data().iter() {
            let date = match f
                .partition_values_map()
                .get(cqlake_schema::PARTITION_COLUMN)
            {
                Some(Some(date)) => date.clone(),
                _ => String::new(),
            };
            by_date
                .entry(date)
                .or_default()
                .insert(f.path().to_string());
        }
        state.files.insert(t.name(), by_date);
        let provider = provider(ctx, lake, t.name(), &table, providers).await?;
        ctx.register_table(t.name(), provider)
            .map_err(query_err(t))?;
    }
    crate::side::register_side_tables_as(ctx, lake, providers).await?;
    Ok(state)
}

/// The table provider of the loaded Delta table `table` (called `name`) that `providers` asks
/// for, reading with `ctx`'s settings.
pub(crate) async fn provider(
    ctx: &SessionContext,
    lake: &LakeLocation,
    name: &'static str,
    table: &deltalake::DeltaTable,
    providers: Providers,
) -> Result<Arc<dyn datafusion::catalog::TableProvider>> {
    table
        .update_datafusion_session(&ctx.state())
        .map_err(crate::table::delta_err_of(name))?;
    // With the session, the scan takes its Parquet settings from it: filters are then
    // evaluated after decoding (DataFusion's default) and still prune files. Without it,
    // deltalake pushes every filter into the Parquet decoder, which for the views'
    // classification decodes most columns twice and evaluates the CASE chains twice.
    let provider = table
        .table_provider()
        .with_session(Arc::new(ctx.state()))
        .await
        .map_err(crate::table::query_err_of(name))?;
    Ok(match providers {
        Providers::Delta => provider,
        Providers::Files => file_table(lake, name, table, provider.schema())?,
    })
}

/// The [`FileTable`](crate::FileTable) of the loaded Delta table `table` (called `name`), whose
/// provider has the columns of `schema`.
pub(crate) fn file_table(
    lake: &LakeLocation,
    name: &'static str,
    table: &deltalake::DeltaTable,
    schema: arrow::datatypes::SchemaRef,
) -> Result<Arc<dyn datafusion::catalog::TableProvider>> {
    let q = crate::table::query_err_of(name);
    let snapshot = table.snapshot().map_err(crate::table::delta_err_of(name))?;
    let partition = snapshot.metadata().partition_columns().first().cloned();
    let url = lake.join(name);
    let store = format!(
        "{}://{}",
        url.scheme(),
        &url[url::Position::BeforeHost..url::Position::AfterPort]
    );
    let root = deltalake::Path::from_url_path(url.path())
        .map_err(|e| crate::Error::Location(format!("{url}: {e}")))?;
    let mut files = Vec::new();
    for f in snapshot.log_data().iter() {
        let date = match &partition {
            None => None,
            Some(p) => match f.partition_values_map().get(p) {
                Some(Some(d)) => Some(parse_date(d).ok_or_else(|| {
                    crate::Error::Location(format!("{name}: a file of date {d:?} in {lake}"))
                })?),
                _ => None,
            },
        };
        files.push(crate::TableFile {
            path: format!("{root}/{}", f.path()),
            size: f.size() as u64,
            date,
        });
    }
    let t = crate::FileTable::new(name, store, schema, partition, files).map_err(&q)?;
    Ok(Arc::new(t))
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date.
fn parse_date(d: &str) -> Option<i32> {
    let mut parts = d.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (parts.next()??, parts.next()??, parts.next()??);
    i32::try_from(cqlake_schema::calendar::days_from_civil(y, m, day)).ok()
}

/// Whether there is a lake (a Delta `calls` table, or a plain Parquet export) at `lake`.
pub async fn lake_exists(lake: &LakeLocation) -> Result<bool> {
    if let Some(root) = lake.as_local()
        && crate::parquet_in::is_parquet_export(root)
    {
        return Ok(true);
    }
    has_table(lake, TableId::Calls.name()).await
}

/// A fingerprint of what the lake holds, cheap to take (listings only, no file is read): it changes whenever any table commits (a convert, a pull, an optimize, a
/// vacuum that cleans the log), so a long-lived reader knows when to register the lake again.
/// Equal fingerprints mean nothing was committed in between; a changed one may still lead to the
/// same [`register_lake`] state (a commit of an unfinished group is not read). For a plain
/// Parquet export, the names, sizes and times of its files.
pub async fn lake_fingerprint(lake: &LakeLocation) -> u64 {
    match lake.as_local() {
        Some(root) => local_fingerprint(root),
        None => remote_fingerprint(lake).await,
    }
}

/// [`lake_fingerprint`] of a lake on a local disk.
fn local_fingerprint(root: &Path) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    let entries = |dir: &Path| -> Vec<(String, u64, Option<std::time::SystemTime>)> {
        let mut v: Vec<_> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| {
                let meta = e.metadata().ok();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    meta.as_ref().map_or(0, |m| m.len()),
                    meta.and_then(|m| m.modified().ok()),
                )
            })
            .collect();
        v.sort();
        v
    };
    for (name, ..) in entries(root) {
        let dir = root.join(&name);
        let log = dir.join("_delta_log");
        name.hash(&mut h);
        if log.is_dir() {
            // A commit adds the next `NNNNNNNNNNNNNNNNNNNN.json` (names only: no file is
            // stat'ed); a checkpoint rewrites `_last_checkpoint`.
            let newest = std::fs::read_dir(&log)
                .into_iter()
                .flatten()
                .flatten()
                .filter_map(|e| {
                    let name = e.file_name().into_string().ok()?;
                    let version = name.strip_suffix(".json")?;
                    (version.len() == 20 && version.bytes().all(|b| b.is_ascii_digit()))
                        .then_some(name)
                })
                .max();
            newest.hash(&mut h);
            let checkpoint = std::fs::metadata(log.join("_last_checkpoint")).ok();
            checkpoint
                .map(|m| (m.len(), m.modified().ok()))
                .hash(&mut h);
        } else if dir.is_dir() {
            for e in entries(&dir) {
                e.hash(&mut h);
                // A Parquet export's partitions are directories one level down.
                let sub = dir.join(&e.0);
                if sub.is_dir() {
                    entries(&sub).hash(&mut h);
                }
            }
        }
    }
    h.finish()
}

/// [`lake_fingerprint`] of a lake on an object store: one listing of the lake's top level and
/// one of each table's `_delta_log` (names and sizes; a failed listing hashes as its error, so
/// the next success differs).
async fn remote_fingerprint(lake: &LakeLocation) -> u64 {
    use futures::TryStreamExt;
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    let store = match lake.store() {
        Ok(s) => s,
        Err(e) => {
            e.to_string().hash(&mut h);
            return h.finish();
        }
    };
    let top = match store.list_with_delimiter(None).await {
        Ok(top) => top,
        Err(e) => {
            e.to_string().hash(&mut h);
            return h.finish();
        }
    };
    let mut names: Vec<String> = top
        .common_prefixes
        .iter()
        .filter_map(|p| p.filename().map(str::to_string))
        .collect();
    names.sort();
    let logs = names.iter().map(|name| {
        let store = store.clone();
        async move {
            let prefix = deltalake::Path::from(format!("{name}/_delta_log/"));
            let mut v: Vec<(String, u64)> = store
                .list(Some(&prefix))
                .map_ok(|m| (m.location.to_string(), m.size))
                .try_collect()
                .await
                .unwrap_or_else(|e| vec![(e.to_string(), 0)]);
            v.sort();
            v
        }
    });
    let logs = futures::future::join_all(logs).await;
    for (name, log) in names.iter().zip(logs) {
        name.hash(&mut h);
        log.hash(&mut h);
    }
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::local_fingerprint as lake_fingerprint;

    #[test]
    fn the_fingerprint_changes_with_a_commit_and_only_then() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("calls").join("_delta_log");
        std::fs::create_dir_all(&log).unwrap();
        std::fs::write(log.join("00000000000000000000.json"), b"{}").unwrap();
        let first = lake_fingerprint(dir.path());
        assert_eq!(lake_fingerprint(dir.path()), first, "nothing committed");
        std::fs::write(log.join("00000000000000000001.json"), b"{}").unwrap();
        let second = lake_fingerprint(dir.path());
        assert_ne!(second, first, "a commit");
        // A data file written by a convert before its commit changes nothing.
        std::fs::write(dir.path().join("calls").join("part-0.parquet"), b"x").unwrap();
        assert_eq!(lake_fingerprint(dir.path()), second);
        // A new table does.
        std::fs::create_dir_all(dir.path().join("pstn_calls").join("_delta_log")).unwrap();
        assert_ne!(lake_fingerprint(dir.path()), second);
    }
}

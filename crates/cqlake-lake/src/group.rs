//! The group protocol in the Delta log: how a reader finds the table versions of the latest
//! finished group ([`LakeWriter`](crate::LakeWriter) records them).

use cqlake_schema::TableId;
use deltalake::DeltaTable;
use futures::TryStreamExt;

use crate::Result;
use crate::table::delta_err;

/// Commits of `calls` read first when looking for the latest finished group.
pub(crate) const RECENT_COMMITS: usize = 16;

/// The commit-info key that names the group a commit belongs to.
pub const GROUP_KEY: &str = "cqlake.group";
/// The commit-info key, on a group's `calls` commit, that records every table's version.
pub const VERSIONS_KEY: &str = "cqlake.versions";
/// The versions of every table that the latest finished group recorded, from the newest
/// `calls` commit that has them (in [`TableId::ALL`] order; `calls` itself at the version that
/// commit records for it, or, in lakes written before it recorded one, its current version).
/// Version 0 (the empty table) for every table when no group has finished yet.
pub(crate) async fn recorded_versions(calls: &DeltaTable) -> Result<[Option<u64>; 6]> {
    let mut out = [None; 6];
    out[0] = calls.version();
    // The newest commits first; the whole log only when they hold no finished group (its
    // length grows with every run).
    let mut infos: Vec<_> = calls
        .history(Some(RECENT_COMMITS))
        .try_collect()
        .await
        .map_err(delta_err(TableId::Calls))?;
    let finished = |i: &deltalake::kernel::CommitInfo| i.info.contains_key(VERSIONS_KEY);
    if !infos.iter().any(finished) && calls.version().unwrap_or(0) >= RECENT_COMMITS as u64 {
        infos = calls
            .history(None)
            .try_collect()
            .await
            .map_err(delta_err(TableId::Calls))?;
    }
    // Newest first.
    for info in &infos {
        if let Some(v) = info.info.get(VERSIONS_KEY).and_then(|v| v.as_object()) {
            for t in TableId::ALL.into_iter().skip(1) {
                out[t.index()] = v.get(t.name()).and_then(|x| x.as_u64());
            }
            if let Some(c) = v.get(TableId::Calls.name()).and_then(|x| x.as_u64()) {
                out[0] = Some(c);
            }
            return Ok(out);
        }
    }
    if calls.version() == Some(0) || infos.iter().any(|i| i.info.contains_key(GROUP_KEY)) {
        // No group finished yet (a first run is under way, or was killed): every table as it
        // was created, whatever an unfinished group committed to it.
        return Ok([Some(0); 6]);
    }
    Ok(out)
}

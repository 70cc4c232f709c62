//! Removing old calls: `cqlake purge`, and the retention a lake keeps.
//!
//! The call tables are partitioned by the date the call started, so removing the calls that
//! started before a date removes whole partitions: one `remove` action per data file, no data
//! rewritten, one group (`calls` last). The side tables' rows dated before it (PSTN,
//! direct-routing and SMS rows, blocked users, recordings; see
//! [`SideTable::date_column`](cqlake_schema::SideTable::date_column)) are deleted by Delta's
//! DELETE, a commit per table. `vacuum` then deletes the files.
//!
//! A lake may keep a retention ([`RETENTION_FILE`], written by [`set_retention`]): every
//! [`LakeWriter::finish`] then purges what fell out of it.

use cqlake_schema::{PARTITION_COLUMN, SideTable, TableId};
use deltalake::kernel::Action;
use deltalake::protocol::DeltaOperation;

use crate::delta::LakeWriter;
use crate::side::open_side_table;
use crate::table::{delta_err, delta_err_of};
use crate::{Error, LakeLocation, Result};

/// The object that holds a lake's retention, at its root.
pub const RETENTION_FILE: &str = "_cqlake_retention.json";

/// What a purge removed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PurgeStats {
    /// The first date kept (days since the Unix epoch).
    pub before: i32,
    /// Data files removed, per call table (in [`TableId::ALL`] order).
    pub files: [u64; 6],
    /// Rows removed, per call table.
    pub rows: [u64; 6],
    /// Rows removed, per side table (in [`SideTable::ALL`] order).
    pub side_rows: [u64; SideTable::ALL.len()],
}

impl LakeWriter {
    /// Removes every row of the calls that started before `before` (days since the Unix epoch)
    /// from every call table, as one group, and the side tables' rows dated before it; then
    /// releases the lake.
    pub async fn purge(mut self, before: i32) -> Result<PurgeStats> {
        let stats = self.purge_before(before).await?;
        self.release().await?;
        Ok(stats)
    }

    /// [`LakeWriter::purge`], keeping the lake.
    pub(crate) async fn purge_before(&mut self, before: i32) -> Result<PurgeStats> {
        let mut stats = PurgeStats {
            before,
            ..Default::default()
        };
        let group_id = format!("{}-purge", self.run_id);
        let date = crate::date_string(before);
        let mut actions: Vec<Vec<Action>> = vec![Vec::new(); 6];
        for t in TableId::ALL {
            let snapshot = self.table(t).snapshot().map_err(delta_err(t))?;
            for f in snapshot.log_data().iter() {
                let d = f
                    .partition_values_map()
                    .get(PARTITION_COLUMN)
                    .and_then(|v| v.as_deref().and_then(crate::optimize::parse_date));
                if d.is_some_and(|d| d < before) {
                    stats.files[t.index()] += 1;
                    stats.rows[t.index()] += f.num_records().unwrap_or(0) as u64;
                    actions[t.index()].push(Action::Remove(f.remove_action(true)));
                }
            }
        }
        if stats.files.iter().any(|&n| n > 0) {
            for t in crate::delta::calls_last() {
                let acts = std::mem::take(&mut actions[t.index()]);
                let finish = t == TableId::Calls;
                if acts.is_empty() && !finish {
                    continue;
                }
                let operation = DeltaOperation::Delete {
                    predicate: Some(format!("{PARTITION_COLUMN} < '{date}'")),
                };
                self.commit_actions(t, acts, operation, &group_id, finish)
                    .await?;
            }
        }
        for s in SideTable::ALL {
            let Some(column) = s.date_column() else {
                continue;
            };
            self.check_lock()?;
            stats.side_rows[s.index()] =
                delete_side_rows_before(&self.lake, s, column, &date).await?;
        }
        Ok(stats)
    }
}

/// Deletes the rows of side table `s` whose `column` is before `date` (`YYYY-MM-DD`, UTC);
/// how many.
async fn delete_side_rows_before(
    lake: &LakeLocation,
    s: SideTable,
    column: &str,
    date: &str,
) -> Result<u64> {
    if !crate::table::has_table(lake, s.name()).await? {
        return Ok(0);
    }
    use datafusion::prelude::{col, lit};
    let table = open_side_table(lake, s).await?;
    let days = crate::optimize::parse_date(date).unwrap_or(0);
    let start = datafusion::scalar::ScalarValue::TimestampMicrosecond(
        Some(i64::from(days) * 86_400_000_000),
        Some(cqlake_schema::UTC.into()),
    );
    let (_, metrics) = table
        .delete()
        .with_predicate(col(column).lt(lit(start)))
        .await
        .map_err(delta_err_of(s.name()))?;
    Ok(metrics.num_deleted_rows.unwrap_or(0) as u64)
}

/// The retention `lake` keeps, in days (`None`: it keeps everything).
pub async fn retention(lake: &LakeLocation) -> Result<Option<u32>> {
    let Some(v) = lake.read_json(RETENTION_FILE).await? else {
        return Ok(None);
    };
    match v.get("keep_days") {
        Some(serde_json::Value::Null) | None => Ok(None),
        Some(d) => d.as_u64().map(|d| Some(d as u32)).ok_or_else(|| {
            Error::Location(format!(
                "{}: keep_days is not a number of days",
                lake.join(RETENTION_FILE)
            ))
        }),
    }
}

/// Makes `lake` keep the calls of the last `keep_days` days (`None`: all of them), applied by
/// every later [`LakeWriter::finish`]. The caller holds the lake's lock.
pub async fn set_retention(lake: &LakeLocation, keep_days: Option<u32>) -> Result<()> {
    let body = serde_json::json!({ "keep_days": keep_days }).to_string();
    lake.write_object(RETENTION_FILE, body.into_bytes(), false)
        .await
}

/// Today's date (UTC) as days since the Unix epoch, less `days`.
pub fn days_ago(days: u32) -> i32 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    (now / 86_400) as i32 - days as i32
}

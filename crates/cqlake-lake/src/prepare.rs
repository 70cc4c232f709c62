//! Preparing batches for the [`LakeWriter`](crate::LakeWriter) away from it, in the pipeline's workers: claiming
//! their calls in the key index and encoding the rows of calls new to the lake.

use std::sync::Arc;

use arrow::array::RecordBatch;
use cqlake_schema::TableId;
use cqlake_schema::batch::{FlatBatch, FlatParts};

use crate::Result;
use crate::encode::{RowGroup, encode, encode_streams};
use crate::index::{Claim, Decision, KeyIndex};

/// Prepares batches for a [`LakeWriter`](crate::LakeWriter) away from it (in parallel, in the pipeline's
/// workers): decides which calls are new and encodes their rows. Cheap to clone.
#[derive(Clone)]
pub struct Preparer {
    pub(crate) index: Arc<KeyIndex>,
    pub(crate) rt: tokio::runtime::Handle,
}

/// A batch made ready for [`LakeWriter::push_prepared`](crate::LakeWriter::push_prepared) by a [`Preparer`].
pub struct Prepared {
    pub(crate) seq: u64,
    pub(crate) row_groups: Vec<RowGroup>,
    pub(crate) deferred: Option<FlatBatch>,
    pub(crate) stale: u64,
    pub(crate) superseded: u64,
}

/// Rows of one table, encoded for [`LakeWriter::push_new_rows`](crate::LakeWriter::push_new_rows): a bulk load of calls known to
/// be absent from the lake (benchmark lakes, copies), with no key checks.
pub struct NewRows {
    pub(crate) row_groups: Vec<RowGroup>,
}

impl NewRows {
    /// Encodes `batch` (in table `t`'s full schema, the partition column included) into one
    /// Parquet row group per partition date, as convert encodes the rows of new calls. Call it
    /// from any thread.
    pub fn encode(t: TableId, batch: &RecordBatch) -> Result<NewRows> {
        Ok(NewRows {
            row_groups: encode(t, batch)?,
        })
    }

    /// Rows encoded.
    pub fn rows(&self) -> usize {
        self.row_groups.iter().map(|rg| rg.rows).sum()
    }
}

impl Preparer {
    /// Claims the calls of `batch` and encodes the rows of those new to the lake and the run.
    /// Every prepared batch must be pushed to the writer it came from (it holds a place in the
    /// order the writer applies them in). Blocks: call it outside the runtime (from the
    /// pipeline's workers).
    pub fn prepare(&self, parts: FlatParts) -> Result<Prepared> {
        let claim = self.rt.block_on(self.index.claim(parts.partial()))?;
        prepare_claimed(parts, claim)
    }
}

pub(crate) fn prepare_claimed(parts: FlatParts, claim: Claim) -> Result<Prepared> {
    let Claim { seq, decisions } = claim;
    let pages = parts.partial().has_page_rows();
    let mut p = Prepared {
        seq,
        row_groups: Vec::new(),
        deferred: None,
        stale: 0,
        superseded: 0,
    };
    for d in &decisions {
        match d {
            Decision::Stale { superseded: true } => p.superseded += 1,
            Decision::Stale { superseded: false } => p.stale += 1,
            _ => {}
        }
    }
    let new: Vec<bool> = decisions.iter().map(|d| *d == Decision::New).collect();
    let group: Vec<bool> = decisions
        .iter()
        .map(|d| matches!(d, Decision::Group { .. }))
        .collect();
    if !pages && new.iter().all(|n| *n) {
        // Every call new: the batch as it is, `streams` context made column by column.
        let b = parts.partial();
        for t in TableId::ALL {
            if b.batches[t.index()].num_rows() == 0 {
                continue;
            }
            if t == TableId::Streams {
                p.row_groups.extend(encode_streams(&parts)?);
            } else {
                p.row_groups.extend(encode(t, &b.batches[t.index()])?);
            }
        }
        return Ok(p);
    }
    let batch = parts.complete();
    if pages || group.contains(&true) {
        p.deferred = Some(batch.select_calls(&group, true));
    }
    if new.contains(&true) {
        let b = batch.select_calls(&new, false);
        for t in TableId::ALL {
            let rows = &b.batches[t.index()];
            if rows.num_rows() > 0 {
                p.row_groups.extend(encode(t, rows)?);
            }
        }
    }
    Ok(p)
}

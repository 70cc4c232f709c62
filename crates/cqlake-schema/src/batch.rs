//! Batches of lake rows: what the parser hands to the lake writer.
//!
//! The flattener (`cqlake-ingest`) makes them from call records and side documents; the lake
//! writer (`cqlake-lake`) stores them. Neither needs the other: both speak these types.

use arrow::array::{Array, ArrayRef, RecordBatch, UInt32Array};
use arrow::compute::take;

use crate::{ColumnRole, SideTable, TableId};

/// Marks a row of a follow-up page in [`FlatBatch::call_rows`]: it has no call row in its batch.
pub const PAGE_ROW: u32 = u32::MAX;
const NONE: u32 = PAGE_ROW;

/// Per-call facts the lake needs to apply a record: which tables it speaks for.
#[derive(Debug, Clone, Default)]
pub struct CallCoverage {
    /// The record carried its `sessions` (so it replaces the call's sessions, segments, media and
    /// streams).
    pub sessions: bool,
    /// The record carried `participants_v2` or `participants`.
    pub participants: bool,
    /// The record says more sessions follow in another page (`sessions@odata.nextLink`).
    pub sessions_next_link: bool,
    /// The record says more participants follow in another page.
    pub participants_next_link: bool,
    /// The record's position in the input (set by the flattener's caller):
    /// among records of equal version, the later one wins.
    pub order: u64,
}

/// The rows flattened from a run of records: one batch per table, and for every row the row of its
/// call in `calls` (or `u32::MAX` for rows of a follow-up page).
#[derive(Debug, Clone)]
pub struct FlatBatch {
    /// One batch per table, in [`TableId::ALL`] order.
    pub batches: Vec<RecordBatch>,
    /// For each table, for each row, the row of its call in `batches[0]`, or `u32::MAX`.
    pub call_rows: Vec<Vec<u32>>,
    /// For each table, for each row, the input position of its record (set by the flattener's
    /// caller): rows of one record share it, and a later record has a larger one.
    pub orders: Vec<Vec<u64>>,
    /// For each row of `calls`, which child tables the record covered.
    pub coverage: Vec<CallCoverage>,
}

impl FlatBatch {
    /// Rows of table `t`.
    pub fn rows(&self, t: TableId) -> usize {
        self.batches[t.index()].num_rows()
    }

    /// Whether any row comes from a follow-up page (has no call row in this batch).
    pub fn has_page_rows(&self) -> bool {
        self.call_rows.iter().any(|rows| rows.contains(&NONE))
    }

    /// The rows of the calls where `keep[call row]` is true, and, when `pages`, the rows of
    /// follow-up pages; call rows renumbered.
    pub fn select_calls(&self, keep: &[bool], pages: bool) -> FlatBatch {
        let mut renumber = vec![NONE; keep.len()];
        let mut next = 0u32;
        for (r, k) in keep.iter().enumerate() {
            if *k {
                renumber[r] = next;
                next += 1;
            }
        }
        let mut batches = Vec::with_capacity(6);
        let mut call_rows = Vec::with_capacity(6);
        let mut orders = Vec::with_capacity(6);
        for t in 0..self.batches.len() {
            let rows: Vec<u32> = (0..self.call_rows[t].len() as u32)
                .filter(|&r| {
                    let c = self.call_rows[t][r as usize];
                    if c == NONE { pages } else { keep[c as usize] }
                })
                .collect();
            call_rows.push(
                rows.iter()
                    .map(|&r| {
                        let c = self.call_rows[t][r as usize];
                        if c == NONE {
                            NONE
                        } else {
                            renumber[c as usize]
                        }
                    })
                    .collect(),
            );
            orders.push(rows.iter().map(|&r| self.orders[t][r as usize]).collect());
            let b = &self.batches[t];
            batches.push(if rows.len() == b.num_rows() {
                b.clone()
            } else {
                arrow::compute::take_record_batch(b, &UInt32Array::from(rows))
                    .expect("take rows of a batch")
            });
        }
        let coverage = self
            .coverage
            .iter()
            .zip(keep)
            .filter(|(_, k)| **k)
            .map(|(c, _)| c.clone())
            .collect();
        FlatBatch {
            batches,
            call_rows,
            orders,
            coverage,
        }
    }
}

/// A flattened batch whose `streams` context columns (copied from the parent call, session,
/// segment and media rows) are not made yet: [`FlatParts::complete`] makes them all,
/// [`FlatParts::streams_column`] one at a time.
#[derive(Debug)]
pub struct FlatParts {
    batch: FlatBatch,
    /// For each streams row, its media, segment, session and call rows.
    parents: Vec<UInt32Array>,
}

impl From<FlatBatch> for FlatParts {
    /// A batch whose columns are all made already.
    fn from(batch: FlatBatch) -> Self {
        FlatParts {
            batch,
            parents: Vec::new(),
        }
    }
}

impl From<FlatParts> for FlatBatch {
    /// [`FlatParts::complete`].
    fn from(parts: FlatParts) -> Self {
        parts.complete()
    }
}

impl FlatParts {
    /// A batch whose `streams` context columns are null placeholders, and for each of its
    /// `streams` rows the rows of its media, segment, session and call (four arrays, in that
    /// order; null where the row has none).
    pub fn new(batch: FlatBatch, parents: Vec<UInt32Array>) -> Self {
        FlatParts { batch, parents }
    }

    /// The batch with every column made.
    pub fn complete(mut self) -> FlatBatch {
        if self.parents.is_empty() {
            return self.batch;
        }
        let t = TableId::Streams.index();
        let s = &self.batch.batches[t];
        let columns: Vec<ArrayRef> = (0..s.num_columns())
            .map(|i| self.streams_column(i))
            .collect();
        self.batch.batches[t] = RecordBatch::try_new(s.schema(), columns).expect("same schema");
        self.batch
    }

    /// Replaces every table's batch by `f(table, batch, context)`. `context` is false for a
    /// `streams` batch whose context columns are null placeholders still: they are made later
    /// from the parent tables' batches as `f` returned them.
    pub fn try_map_batches<E>(
        &mut self,
        mut f: impl FnMut(TableId, &RecordBatch, bool) -> Result<RecordBatch, E>,
    ) -> Result<(), E> {
        let placeholders = !self.parents.is_empty();
        for t in TableId::ALL {
            let context = !(placeholders && t == TableId::Streams);
            let mapped = f(t, &self.batch.batches[t.index()], context)?;
            self.batch.batches[t.index()] = mapped;
        }
        Ok(())
    }

    /// The batch as it is: every table complete but `streams`, whose context columns are null
    /// placeholders (read keys and call rows from it, not `streams` values).
    pub fn partial(&self) -> &FlatBatch {
        &self.batch
    }

    /// Column `i` of the `streams` batch, made from its parent rows if it is a context column.
    pub fn streams_column(&self, i: usize) -> ArrayRef {
        let streams = TableId::Streams;
        if self.parents.is_empty() {
            // A complete batch (see `From<FlatBatch>`).
            return self.batch.batches[streams.index()].column(i).clone();
        }
        let def = &streams.table().columns[i];
        let ColumnRole::Context {
            table: parent,
            column,
        } = def.role
        else {
            return self.batch.batches[streams.index()].column(i).clone();
        };
        let which = match parent {
            TableId::Media => 0,
            TableId::Segments => 1,
            TableId::Sessions => 2,
            _ => 3,
        };
        let source = self.batch.batches[parent.index()].column(column);
        let idx = &self.parents[which];
        // Most context columns are null in every parent row of a batch: the placeholder (one
        // shared null array per type) is the column.
        if source.null_count() == source.len() {
            self.batch.batches[streams.index()].column(i).clone()
        } else {
            take(source.as_ref(), idx, None).expect("take from parent rows")
        }
    }
}

/// The rows of the side tables, made by the side-document walker of `cqlake-ingest`.
#[derive(Debug, Clone)]
pub struct SideBatch {
    /// One batch per side table, in [`SideTable::ALL`] order.
    pub batches: Vec<RecordBatch>,
    /// For each table, for each row, its input position: among rows with the same key the later
    /// one wins.
    pub orders: Vec<Vec<u64>>,
}

impl SideBatch {
    /// Rows in every table.
    pub fn rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }

    /// Rows of table `t`.
    pub fn rows_of(&self, t: SideTable) -> usize {
        self.batches[t.index()].num_rows()
    }
}

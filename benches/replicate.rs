//! Large lakes for query benchmarks, made by replicating a converted lake: each copy of a row
//! gets a new call id and its dates moved past the previous copy's, so 56 copies of the lake of
//! a 2 GB corpus give a lake of 50 million streams without writing 110 GB of JSON.
//!
//! Rows are decoded once per source row group and encoded again for every copy through
//! [`NewRows`], so the copies are laid out the way `cqlake convert` lays out new calls (one
//! file per table and date, the same row-group encoding and Delta statistics).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use arrow::array::{
    Array, ArrayRef, AsArray, Date32Array, RecordBatch, StringBuilder, TimestampMicrosecondArray,
};
use arrow::datatypes::{DataType, Date32Type, SchemaRef, TimeUnit, TimestampMicrosecondType};
use cqlake_lake::{LakeWriter, NewRows, WriteStats};
use cqlake_schema::{PARTITION_COLUMN, TableId};
use parquet::arrow::arrow_reader::{ArrowReaderOptions, ParquetRecordBatchReaderBuilder};

/// Microseconds per day.
const DAY_US: i64 = 86_400_000_000;

/// What went wrong, with the file it concerns.
pub type Error = String;

/// Settings of [`replicate`].
#[derive(Debug, Clone)]
pub struct Replication {
    /// How many copies of every row (the first keeps its ids and dates). Default 2.
    pub copies: u32,
    /// The tables to copy. Default: all six.
    pub tables: Vec<TableId>,
    /// Worker threads decoding and encoding. Default: the number of CPUs.
    pub threads: usize,
    /// Spread the copies over about this many days: copy `k` is moved by `k mod (days /
    /// span)` spans of the source's days, so several copies share a date. Default: none, every
    /// copy gets its own span of dates.
    pub days: Option<i32>,
}

impl Default for Replication {
    fn default() -> Self {
        Replication {
            copies: 2,
            tables: TableId::ALL.to_vec(),
            threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
            days: None,
        }
    }
}

/// One source data file.
struct Source {
    table: TableId,
    path: PathBuf,
    /// Its partition date (days since the epoch), `None` for the null partition.
    date: Option<i32>,
    row_groups: usize,
}

/// Copies the lake at `from` into the lake at `to`, `settings.copies` times. Copy `k` moves
/// every date and timestamp by `k` times the source's span of days (or `k` modulo the spans
/// that fit in `settings.days`) and gives every call a new id (its first 8 hex digits XOR-ed
/// with a number derived from `k`). Returns the write totals.
pub fn replicate(from: &Path, to: &Path, settings: &Replication) -> Result<WriteStats, Error> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let mut sources = Vec::new();
    for (table, path) in data_files(&rt, from, &settings.tables)? {
        let date = partition_date(&path)?;
        let file = std::fs::File::open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let row_groups = ParquetRecordBatchReaderBuilder::try_new(file)
            .map_err(|e| format!("{}: {e}", path.display()))?
            .metadata()
            .num_row_groups();
        sources.push(Source {
            table,
            path,
            date,
            row_groups,
        });
    }
    let dates: Vec<i32> = sources.iter().filter_map(|s| s.date).collect();
    let span = match (dates.iter().min(), dates.iter().max()) {
        (Some(a), Some(b)) => b - a + 1,
        _ => 1,
    };
    let slots = settings.days.map_or(u32::MAX, |d| (d / span).max(1) as u32);
    let shift_days = move |k: u32| (k % slots) as i32 * span;
    // Work items: (source, row group); each is decoded once and encoded `copies` times.
    let items: Vec<(usize, usize)> = sources
        .iter()
        .enumerate()
        .flat_map(|(i, s)| (0..s.row_groups).map(move |g| (i, g)))
        .collect();
    let mut writer = rt
        .block_on(LakeWriter::open(to))
        .map_err(|e| e.to_string())?;
    let next = AtomicUsize::new(0);
    let (tx, rx) = crossbeam_channel::bounded::<Result<NewRows, Error>>(2 * settings.threads);
    std::thread::scope(|scope| -> Result<(), Error> {
        for _ in 0..settings.threads.max(1) {
            let tx = tx.clone();
            let (sources, items, next) = (&sources, &items, &next);
            scope.spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&(s, g)) = items.get(i) else { break };
                    let sent =
                        copy_row_group(&sources[s], g, settings.copies, &shift_days, &|rows| {
                            tx.send(Ok(rows))
                                .map_err(|_| "the writer stopped".to_string())
                        });
                    if let Err(e) = sent {
                        let _ = tx.send(Err(e));
                        break;
                    }
                }
            });
        }
        drop(tx);
        for rows in rx {
            rt.block_on(writer.push_new_rows(rows?))
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    })?;
    rt.block_on(writer.finish()).map_err(|e| e.to_string())
}

/// Rows of table `t` in the lake at `lake` (from its data files' footers).
pub fn rows(lake: &Path, t: TableId) -> Result<u64, Error> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let mut n = 0;
    for (_, path) in data_files(&rt, lake, &[t])? {
        let file = std::fs::File::open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        n += ParquetRecordBatchReaderBuilder::try_new(file)
            .map_err(|e| format!("{}: {e}", path.display()))?
            .metadata()
            .file_metadata()
            .num_rows() as u64;
    }
    Ok(n)
}

/// The current data files of `tables` in the lake at `lake`, as their Delta logs list them.
fn data_files(
    rt: &tokio::runtime::Runtime,
    lake: &Path,
    tables: &[TableId],
) -> Result<Vec<(TableId, PathBuf)>, Error> {
    let opened = rt
        .block_on(cqlake_lake::open_tables(&lake.into()))
        .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for t in tables {
        for uri in opened[t.index()]
            .get_file_uris()
            .map_err(|e| e.to_string())?
        {
            out.push((
                *t,
                PathBuf::from(uri.strip_prefix("file://").unwrap_or(&uri)),
            ));
        }
    }
    Ok(out)
}

/// The partition date in a data file's path (`.../call_start_date=YYYY-MM-DD/...`).
fn partition_date(path: &Path) -> Result<Option<i32>, Error> {
    let prefix = format!("{PARTITION_COLUMN}=");
    let value = path
        .components()
        .filter_map(|c| c.as_os_str().to_str())
        .find_map(|c| c.strip_prefix(prefix.as_str()))
        .ok_or_else(|| format!("{}: no {PARTITION_COLUMN}= in the path", path.display()))?;
    if value == "__HIVE_DEFAULT_PARTITION__" {
        return Ok(None);
    }
    cqlake_schema::calendar::parse_date(value)
        .map(Some)
        .ok_or_else(|| format!("{}: {value:?} is not a date", path.display()))
}

/// Decodes row group `g` of `source` and hands `copies` shifted copies of it, encoded, to
/// `send`.
fn copy_row_group(
    source: &Source,
    g: usize,
    copies: u32,
    shift_days: &dyn Fn(u32) -> i32,
    send: &dyn Fn(NewRows) -> Result<(), Error>,
) -> Result<(), Error> {
    let at = |e: &dyn std::fmt::Display| format!("{} row group {g}: {e}", source.path.display());
    let full = source.table.table().schema();
    let partition = full.index_of(PARTITION_COLUMN).map_err(|e| at(&e))?;
    let keep: Vec<usize> = (0..full.fields().len())
        .filter(|i| *i != partition)
        .collect();
    let file_schema: SchemaRef = Arc::new(full.project(&keep).map_err(|e| at(&e))?);
    let file = std::fs::File::open(&source.path).map_err(|e| at(&e))?;
    let options = ArrowReaderOptions::new().with_schema(file_schema);
    let builder =
        ParquetRecordBatchReaderBuilder::try_new_with_options(file, options).map_err(|e| at(&e))?;
    let rows = builder.metadata().row_group(g).num_rows() as usize;
    let reader = builder
        .with_row_groups(vec![g])
        .with_batch_size(rows.max(1))
        .build()
        .map_err(|e| at(&e))?;
    for batch in reader {
        let batch = batch.map_err(|e| at(&e))?;
        for k in 0..copies {
            let days = shift_days(k);
            let mut columns = shift(&batch, k, days).map_err(|e| at(&e))?;
            let date = source.date.map(|d| d + days);
            columns.insert(
                partition,
                Arc::new(Date32Array::from(vec![date; batch.num_rows()])),
            );
            let rows = RecordBatch::try_new(full.clone(), columns).map_err(|e| at(&e))?;
            send(NewRows::encode(source.table, &rows).map_err(|e| at(&e))?)?;
        }
    }
    Ok(())
}

/// The columns of `batch` for copy `k`: timestamps and dates moved by `days`, call ids made new.
/// Copy 0 is the batch itself.
fn shift(
    batch: &RecordBatch,
    k: u32,
    days: i32,
) -> Result<Vec<ArrayRef>, arrow::error::ArrowError> {
    if k == 0 {
        return Ok(batch.columns().to_vec());
    }
    let schema = batch.schema();
    batch
        .columns()
        .iter()
        .zip(schema.fields())
        .map(|(c, f)| {
            Ok(match c.data_type() {
                DataType::Timestamp(TimeUnit::Microsecond, tz) => {
                    let moved: TimestampMicrosecondArray = c
                        .as_primitive::<TimestampMicrosecondType>()
                        .unary(|v| v + days as i64 * DAY_US);
                    Arc::new(moved.with_timezone_opt(tz.clone())) as ArrayRef
                }
                DataType::Date32 => {
                    let moved: Date32Array = c.as_primitive::<Date32Type>().unary(|v| v + days);
                    Arc::new(moved)
                }
                DataType::Utf8 if f.name() == "call_id" => {
                    Arc::new(new_ids(c.as_string::<i32>(), k))
                }
                _ => c.clone(),
            })
        })
        .collect()
}

/// Call ids for copy `k`: the first 8 hex digits XOR-ed with a mix of `k` (a GUID stays a
/// GUID, and distinct ids stay distinct); ids that do not start with 8 hex digits get a prefix.
fn new_ids(ids: &arrow::array::StringArray, k: u32) -> arrow::array::StringArray {
    let mix = k.wrapping_mul(0x9E37_79B1);
    let mut out = StringBuilder::with_capacity(ids.len(), ids.value_data().len() + 16);
    for id in ids.iter() {
        match id {
            None => out.append_null(),
            Some(id) => match id.get(..8).and_then(|h| u32::from_str_radix(h, 16).ok()) {
                Some(head) if id.is_char_boundary(8) => {
                    out.append_value(format!("{:08x}{}", head ^ mix, &id[8..]))
                }
                _ => out.append_value(format!("{k:08x}-{id}")),
            },
        }
    }
    out.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_ids_stay_guids_and_distinct() {
        let ids = arrow::array::StringArray::from(vec![
            Some("2f1a1100-b174-40a0-aba7-0b405e01ed92"),
            Some("2f1a1101-b174-40a0-aba7-0b405e01ed92"),
            Some("not-hex"),
            None,
        ]);
        let one = new_ids(&ids, 1);
        let two = new_ids(&ids, 2);
        assert_eq!(one.value(0).len(), 36);
        assert!(one.value(0).ends_with("-b174-40a0-aba7-0b405e01ed92"));
        assert_ne!(one.value(0), ids.value(0));
        assert_ne!(one.value(0), two.value(0));
        assert_ne!(one.value(0), one.value(1));
        assert_eq!(one.value(2), "00000001-not-hex");
        assert!(one.is_null(3));
    }
}

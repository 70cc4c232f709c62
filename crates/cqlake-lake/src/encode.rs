//! Encoding row groups of a data file away from the writer: a worker turns the rows of one
//! partition date into finished Parquet column chunks, and the writer only appends them to
//! the date's file. Data files leave the partition column out (Delta Lake's convention).

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use arrow::array::{ArrayRef, AsArray, RecordBatch};
use arrow::datatypes::{Date32Type, SchemaRef};
use cqlake_schema::batch::FlatParts;
use cqlake_schema::{PARTITION_COLUMN, TableId};
use parquet::arrow::ArrowSchemaConverter;
use parquet::arrow::arrow_writer::{ArrowColumnChunk, compute_leaves};
use parquet::basic::Compression;
use parquet::file::properties::{WriterProperties, WriterPropertiesPtr};
use parquet::schema::types::SchemaDescPtr;

use crate::{Error, Result};

/// The shape of a table's data files.
pub(crate) struct FileSchema {
    /// The table's Arrow schema without the partition column.
    pub arrow: SchemaRef,
    /// Each column of `arrow` alone, as Arrow and Parquet schemas: columns are encoded one at
    /// a time, so that one column writer (and its zstd contexts) is alive at once.
    pub columns: Vec<(SchemaRef, SchemaDescPtr)>,
    /// Index of the partition column in the table's schema.
    pub partition: usize,
}

/// The data-file schema of table `t`.
pub(crate) fn file_schema(t: TableId) -> &'static FileSchema {
    static SCHEMAS: OnceLock<Vec<FileSchema>> = OnceLock::new();
    &SCHEMAS.get_or_init(|| {
        TableId::ALL
            .iter()
            .map(|t| {
                let full = t.table().schema();
                let partition = full.index_of(PARTITION_COLUMN).expect("partition column");
                let keep: Vec<usize> = (0..full.fields().len())
                    .filter(|i| *i != partition)
                    .collect();
                let arrow = Arc::new(full.project(&keep).expect("projection"));
                let columns = (0..arrow.fields().len())
                    .map(|i| {
                        let one = Arc::new(arrow.project(&[i]).expect("projection"));
                        let descr = Arc::new(
                            ArrowSchemaConverter::new()
                                .convert(&one)
                                .expect("the lake schema converts to Parquet"),
                        );
                        (one, descr)
                    })
                    .collect();
                FileSchema {
                    arrow,
                    columns,
                    partition,
                }
            })
            .collect()
    })[t.index()]
}

/// Column chunks with fewer values than this are left uncompressed.
const FEW_VALUES: usize = 256;

/// One encoded row group of table `table` for partition `date`.
pub(crate) struct RowGroup {
    /// The table.
    pub table: TableId,
    /// The partition date (days since the Unix epoch).
    pub date: i32,
    /// Rows.
    pub rows: usize,
    /// Finished column chunks, in schema order.
    pub chunks: Vec<ArrowColumnChunk>,
    /// Bytes of the encoded chunks.
    pub bytes: usize,
}

/// Encodes the rows of `batch` (in table `t`'s full schema) into one row group per
/// partition date.
pub(crate) fn encode(t: TableId, batch: &RecordBatch) -> Result<Vec<RowGroup>> {
    let fs = file_schema(t);
    let dates = batch.column(fs.partition).as_primitive::<Date32Type>();
    let mut by_date: BTreeMap<i32, Vec<u32>> = BTreeMap::new();
    let values = dates.values();
    let single = values.first().filter(|d| values.iter().all(|x| x == *d));
    let mut out = Vec::new();
    if let Some(&d) = single {
        out.push(encode_one(t, fs, batch, d)?);
        return Ok(out);
    }
    for (r, d) in values.iter().enumerate() {
        by_date.entry(*d).or_default().push(r as u32);
    }
    for (d, rows) in by_date {
        let part =
            arrow::compute::take_record_batch(batch, &arrow::array::UInt32Array::from(rows))?;
        out.push(encode_one(t, fs, &part, d)?);
    }
    Ok(out)
}

fn encode_one(t: TableId, fs: &FileSchema, batch: &RecordBatch, date: i32) -> Result<RowGroup> {
    encode_columns(t, fs, date, batch.num_rows(), &|i| {
        Ok(batch.column(i).clone())
    })
}

/// Encodes the `streams` rows of `parts`, making each context column only as it is encoded
/// (together they are most of the batch's memory).
pub(crate) fn encode_streams(parts: &FlatParts) -> Result<Vec<RowGroup>> {
    let t = TableId::Streams;
    let fs = file_schema(t);
    let batch = &parts.partial().batches[t.index()];
    let dates = batch.column(fs.partition).as_primitive::<Date32Type>();
    let values = dates.values();
    match values.first() {
        None => Ok(Vec::new()),
        Some(&d) if values.iter().all(|x| *x == d) => {
            Ok(vec![encode_columns(t, fs, d, batch.num_rows(), &|i| {
                Ok(parts.streams_column(i))
            })?])
        }
        Some(_) => {
            let columns = (0..batch.num_columns())
                .map(|i| parts.streams_column(i))
                .collect();
            encode(t, &RecordBatch::try_new(batch.schema(), columns)?)
        }
    }
}

/// Encodes one row group of `rows` rows of table `t`, column `i` (of the table's schema) from
/// `column(i)`, one column at a time.
pub(crate) fn encode_columns(
    t: TableId,
    fs: &FileSchema,
    date: i32,
    rows: usize,
    column: &dyn Fn(usize) -> Result<ArrayRef>,
) -> Result<RowGroup> {
    let perr = |e| Error::Parquet {
        path: t.name().into(),
        source: e,
    };
    let (zstd, plain) = properties();
    let mut chunks = Vec::with_capacity(fs.arrow.fields().len());
    for (j, (one, descr)) in fs.columns.iter().enumerate() {
        let c = column(if j < fs.partition { j } else { j + 1 })?;
        // Columns with (almost) no value in this row group get no codec: a zstd context per
        // column chunk costs more than the few bytes of levels and dictionary it would save
        // (streams has 202 columns, most of them sparse).
        let props = if c.len() - c.null_count() < FEW_VALUES {
            plain
        } else {
            zstd
        };
        #[allow(deprecated)] // the factory needs a file writer; this encodes without one
        let writers =
            parquet::arrow::arrow_writer::get_column_writers(descr, props, one).map_err(perr)?;
        let mut leaves = compute_leaves(one.field(0), &c).map_err(perr)?.into_iter();
        for mut w in writers {
            if let Some(leaf) = leaves.next() {
                w.write(&leaf).map_err(perr)?;
            }
            chunks.push(w.close().map_err(perr)?);
        }
    }
    let bytes = chunks
        .iter()
        .map(|c| c.close().metadata.compressed_size() as usize)
        .sum();
    Ok(RowGroup {
        table: t,
        date,
        rows,
        chunks,
        bytes,
    })
}

/// The writer properties of compressed and of uncompressed column chunks.
fn properties() -> (&'static WriterPropertiesPtr, &'static WriterPropertiesPtr) {
    static PROPS: OnceLock<(WriterPropertiesPtr, WriterPropertiesPtr)> = OnceLock::new();
    let (z, p) = PROPS.get_or_init(|| {
        (
            Arc::new(base_properties().build()),
            Arc::new(
                base_properties()
                    .set_compression(Compression::UNCOMPRESSED)
                    .build(),
            ),
        )
    });
    (z, p)
}

fn base_properties() -> parquet::file::properties::WriterPropertiesBuilder {
    WriterProperties::builder()
        .set_compression(Compression::ZSTD(
            parquet::basic::ZstdLevel::try_new(crate::ZSTD_LEVEL).expect("valid zstd level"),
        ))
        .set_statistics_enabled(parquet::file::properties::EnabledStatistics::Chunk)
}

/// The properties data files are opened with (each column chunk records its own codec).
pub(crate) fn file_properties() -> WriterProperties {
    base_properties().build()
}

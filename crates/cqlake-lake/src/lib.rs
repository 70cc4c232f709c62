//! Writing and reading the cqlake lake.
//!
//! A lake is a directory with one Delta Lake table per name (`<lake>/calls`, `<lake>/streams`, …),
//! written through the `deltalake` crate, partitioned by `call_start_date`, Parquet data files
//! compressed with zstd. [`LakeWriter`] applies flattened batches with one rule: for every call,
//! the record with the highest `version` (then `lastModifiedDateTime`) wins, in every table. It
//! groups batches, decides the winners against what the lake already holds, replaces the rows of
//! calls it updates and appends the rest; the `calls` table is committed last.
//!
//! Rows of follow-up pages (sessions and participants saved from `@odata.nextLink` pages) replace
//! the lake's copy of the same session or participant and take their call's partition date and
//! context. A group is atomic: a run killed part-way is rolled back when the lake is next opened
//! for writing, and readers ([`register_lake`]) see only finished groups.
//!
//! The side tables (recordings, record operations, PSTN, direct-routing and SMS logs,
//! notifications, sync state) are unpartitioned Delta tables beside them, merged by key (see
//! [`cqlake_schema::SideTable`]).
//!
//! [`ParquetWriter`] writes plain Parquet files instead, for a one-shot export; [`register_lake`]
//! reads such an export too.
#![deny(missing_docs)]

pub mod crash;
mod delta;
mod encode;
mod erase;
mod file_table;
mod files;
mod group;
mod index;
mod layout;
pub mod lease;
mod location;
mod optimize;
mod parquet_in;
mod parquet_out;
mod personal;
mod plan;
mod predicate;
mod prepare;
mod purge;
mod read;
mod scratch;
mod side;
mod stats;
mod table;

pub use delta::{
    DEFAULT_COMMIT_BYTES, DEFAULT_GROUP_BYTES, LOCK_FILE, LakeWriter, MAX_OPEN_FILES, WriteStats,
};
pub use erase::{ERASED_FILE, EraseStats, Erasure, Rule, SideRule};
pub use file_table::{FileTable, TableFile};
pub use group::{GROUP_KEY, VERSIONS_KEY};
pub use location::{LakeLocation, OBJECT_STORE_SCHEMES};
pub use personal::{PSEUDONYMS_FILE, Personal, pseudonym_fingerprint};
pub use prepare::{NewRows, Prepared, Preparer};
pub use purge::{PurgeStats, RETENTION_FILE, days_ago, retention, set_retention};
pub use read::{LakeState, lake_exists, lake_fingerprint, register_lake, register_lake_files};
pub use scratch::Scratch;
pub use table::open_tables;

pub use optimize::{Optimize, OptimizeStats, VacuumStats};
pub use parquet_in::is_parquet_export;
pub use parquet_out::{ParquetWriter, PreparedRows};
pub use plan::{
    CallKey, CallRows, PageOrders, Replace, Selection, Written, select, with_call_context,
};
pub use side::{SIDE_FLUSH_ROWS, merge as merge_side_rows, register_side_tables};

/// Errors of the lake crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A Delta Lake operation on a table failed.
    #[error("table {table}: {source}")]
    Delta {
        /// The table.
        table: String,
        /// The error.
        #[source]
        source: deltalake::DeltaTableError,
    },
    /// A query of the lake failed.
    #[error("table {table}: {source}")]
    Query {
        /// The table.
        table: String,
        /// The error.
        #[source]
        source: datafusion::error::DataFusionError,
    },
    /// Writing a Parquet file failed.
    #[error("{path}: {source}")]
    Parquet {
        /// The file.
        path: String,
        /// The error.
        #[source]
        source: parquet::errors::ParquetError,
    },
    /// An I/O error on a path.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// A lake location or storage option that cannot be used (the message names it).
    #[error("{0}")]
    Location(String),
    /// An operation of the lake's object store failed.
    #[error("{location}: {source}")]
    Store {
        /// The object (or the lake), as a URL or path without credentials.
        location: String,
        /// The error.
        #[source]
        source: deltalake::logstore::object_store::Error,
    },
    /// The lake holds personal values of the other kind (raw values or pseudonyms) than the
    /// writer writes, or pseudonyms under another key (the message says which).
    #[error("{0}")]
    Personal(String),
    /// A table of the lake has the layout of an earlier cqlake, which only `optimize` writes
    /// (the message says which table and what to run).
    #[error("{0}")]
    Layout(String),
    /// Another writer holds the lake's lock.
    #[error(
        "{0}: another cqlake process (convert, optimize or vacuum) is writing to this lake; retry when it has finished (or pass --wait SECONDS)"
    )]
    Busy(String),
    /// An Arrow error while assembling rows.
    #[error("{0}")]
    Arrow(#[from] arrow::error::ArrowError),
}

/// A `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The Parquet writer settings of data files written through deltalake (the group path) and of
/// plain Parquet output: zstd level 1, column chunk statistics, dictionary encoding, row groups
/// of at most [`ROW_GROUP_ROWS`] rows. (At level 3 the lake was no smaller, and slower to write.)
pub fn writer_properties() -> parquet::file::properties::WriterProperties {
    writer_properties_for(std::iter::empty())
}

/// [`writer_properties`], except that the columns named in `all_null` (null in every row of the
/// file to write) are left uncompressed: they hold no values, and a zstd codec per column chunk
/// costs more than the few bytes of levels it would save (the streams table has 202 columns).
pub fn writer_properties_for<'a>(
    all_null: impl IntoIterator<Item = &'a str>,
) -> parquet::file::properties::WriterProperties {
    use parquet::basic::{Compression, ZstdLevel};
    use parquet::schema::types::ColumnPath;
    let mut b = parquet::file::properties::WriterProperties::builder()
        .set_compression(Compression::ZSTD(
            ZstdLevel::try_new(ZSTD_LEVEL).expect("valid zstd level"),
        ))
        .set_statistics_enabled(parquet::file::properties::EnabledStatistics::Chunk)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS));
    for name in all_null {
        b = b.set_column_compression(ColumnPath::from(name), Compression::UNCOMPRESSED);
    }
    b.build()
}

/// `YYYY-MM-DD` of a Date32 value.
pub(crate) fn date_string(days: i32) -> String {
    arrow::temporal_conversions::date32_to_datetime(days)
        .map_or_else(|| days.to_string(), |d| d.date().to_string())
}

/// The zstd level of data files.
pub(crate) const ZSTD_LEVEL: i32 = 1;

/// The largest Parquet row group, in rows.
pub const ROW_GROUP_ROWS: usize = 128 * 1024;

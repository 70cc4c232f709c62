//! SQL over the cqlake lake: an [`Engine`] (a DataFusion session with every lake table
//! registered at its last finished group, read-only) and the result [`Format`]s every command
//! that prints rows shares.
//!
//! ```no_run
//! # async fn f() -> Result<(), cqlake_query::Error> {
//! let engine = cqlake_query::Engine::open(std::path::Path::new("lake"), cqlake_query::EngineOptions::default()).await?;
//! let rows = engine.sql("SELECT count(*) FROM streams").await?;
//! let mut out = Vec::new();
//! cqlake_query::write(&rows, cqlake_query::Format::Csv, &mut out)?;
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod display;
mod engine;
mod format;
mod reports;
mod rollup;
mod rules;
mod udf;
mod views;
mod wide;

pub use cqlake_lake::{LakeLocation, LakeState, lake_exists, lake_fingerprint};
pub use display::Presentation;
pub use engine::{Engine, EngineOptions, FooterCache, Rows, Runner, functions};
pub use format::{Format, write, write_presented};
pub use reports::{REPORTS, Report};
pub use rollup::{ROLLUPS, Rollup, RollupCache, RollupUse, dates_condition};
pub use rules::RuleSet;
pub use rules::header as sql_description;
pub use rules::header_field as sql_header_field;

/// Errors of the query crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The lake could not be opened.
    #[error("opening the lake")]
    Lake(#[from] Box<cqlake_lake::Error>),
    /// The statement is not a query (the lake is read-only here).
    #[error("{0}")]
    NotAQuery(String),
    /// Planning or running the query failed (parser errors name the line and column).
    #[error("{}", .0.strip_backtrace())]
    Sql(Box<datafusion::error::DataFusionError>),
    /// The query refers to something that is not there.
    #[error("{0}")]
    Plan(String),
    /// Formatting the result failed.
    #[error("formatting the result")]
    Format(#[from] arrow::error::ArrowError),
    /// Writing the result as Parquet failed.
    #[error("writing the result as Parquet")]
    Parquet(#[from] parquet::errors::ParquetError),
    /// Writing the result failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

// Not `#[from]`: the message is the whole story, a source would repeat it.
impl From<datafusion::error::DataFusionError> for Error {
    fn from(e: datafusion::error::DataFusionError) -> Self {
        Error::Sql(Box::new(e))
    }
}

impl From<cqlake_lake::Error> for Error {
    fn from(e: cqlake_lake::Error) -> Self {
        Error::Lake(Box::new(e))
    }
}

/// A `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

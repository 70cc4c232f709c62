//! The errors of this crate.

use std::path::PathBuf;

/// What can go wrong with a pseudonym key or a batch.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The key is shorter than [`crate::PseudonymKey::MIN_BYTES`].
    #[error(
        "the pseudonym key has {len} bytes: it needs at least {min} (32 random bytes, e.g. `openssl rand -base64 48`)",
        min = crate::PseudonymKey::MIN_BYTES
    )]
    KeyTooShort {
        /// The key's length in bytes.
        len: usize,
    },
    /// The key file could not be read.
    #[error("reading the pseudonym key file {path}")]
    KeyFile {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A batch could not be rebuilt.
    #[error("pseudonymising column {column} of {table}")]
    Arrow {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// Why.
        #[source]
        source: arrow::error::ArrowError,
    },
}

/// This crate's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

//! The crate's errors.

use std::io;

/// Errors of the ingest crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An input path that does not exist and matches nothing as a glob.
    #[error("{0}: no such file, directory or matching glob pattern")]
    NoSuchInput(String),
    /// A bad glob pattern.
    #[error("{pattern}: invalid glob pattern: {message}")]
    BadPattern {
        /// The pattern.
        pattern: String,
        /// Why it is invalid.
        message: String,
    },
    /// Reading an input failed.
    #[error("{path}: {source}")]
    Io {
        /// The input.
        path: String,
        /// The error.
        #[source]
        source: io::Error,
    },
    /// The sink (the caller's writer) failed on a delivery; its error is the source.
    #[error("{context}")]
    Sink {
        /// What the sink was doing (`writing the lake`, `writing rejects`).
        context: String,
        /// The sink's error, kept whole (a caller may look for its own error type in the chain).
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The sink stopped the run on purpose (`--strict` on the first rejected record).
    #[error("{0}")]
    Stopped(String),
}

impl Error {
    /// A [`Error::Sink`]: the sink's `error` while `context`.
    pub fn sink(
        context: impl Into<String>,
        error: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Error::Sink {
            context: context.into(),
            source: error.into(),
        }
    }
}

/// A `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

//! A Microsoft Graph client for call records: `cqlake pull`'s engine.
//!
//! - [`auth`]: signing in as a daemon (client credentials) with a secret or a certificate (a
//!   PS256 client assertion), tokens renewed before they expire and once when refused;
//! - [`client`]: authenticated GETs with bounded concurrency, client-side rate limits below
//!   Graph's, `Retry-After` honoured exactly, exponential back-off with jitter, a retry budget,
//!   next links followed only on the configured Graph host;
//! - [`records`]: listing a window day by day, getting the records that are new or newer than
//!   the lake's, whole (every next link followed), as one JSON document each;
//! - [`logs`]: the PSTN-type logs, in pieces of 90 days, page by page;
//! - [`cloud`]: the national clouds.
//!
//! The crate knows nothing of the lake: the caller says what the lake holds ([`records::Known`])
//! and takes the documents ([`records::Sink`]), which go through the same pipeline as
//! `cqlake convert`'s files. Secrets are [`Secret`]s, which never print.
#![deny(missing_docs)]

pub mod auth;
pub mod client;
pub mod cloud;
mod error;
pub mod logs;
pub mod records;
mod secret;

pub use error::{Error, Result};
pub use secret::Secret;

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
//! - [`recordings`]: the recordings delta query of each organizer, resumed where it stopped;
//! - [`state`]: what a pull remembers between runs (windows, records not ready yet, runs), as
//!   the rows of the lake's `pull_state` table;
//! - [`cloud`]: the national clouds.
//!
//! The crate does not read or write the lake: the caller says what the lake holds
//! ([`records::Known`], [`state::PullState`]) and takes the documents ([`records::Sink`]),
//! which go through the same pipeline as `cqlake convert`'s files. Secrets are [`Secret`]s,
//! which never print.
#![deny(missing_docs)]

pub mod auth;
pub mod client;
pub mod cloud;
mod error;
pub mod logs;
pub mod recordings;
pub mod records;
mod secret;
pub mod state;

pub use error::{Error, Result};
pub use secret::Secret;

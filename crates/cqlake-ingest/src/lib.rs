//! Reading Microsoft Graph call-record exports into Arrow record batches.
//!
//! The pipeline is push-based and does no I/O of its own except in [`source`]:
//! bytes → [`frame::Framer`] (one unit per document, array element or page item) →
//! [`decode::Decoder`] (simd-json tape with reused buffers, recognition by content) →
//! [`flatten::Flattener`] (rows of the six lake tables, bad records rolled back) →
//! [`cqlake_schema::batch::FlatBatch`].
//!
//! The generator of test data, which goes the other way, is the `cqlake-gen` crate.
//!
//! ```
//! use cqlake_ingest::{decode::{Decoder, Outcome, PageKind}, frame::{Framer, FrameKind}};
//! use cqlake_schema::TableId;
//!
//! let input = br#"{"id":"c1","version":1,"type":"peerToPeer","startDateTime":"2024-05-01T10:00:00Z"}
//! {"id":"c2","version":1,"type":"groupCall","startDateTime":"2024-05-01T11:00:00Z"}
//! "#;
//! let mut decoder = Decoder::new();
//! let mut outcomes = Vec::new();
//! let mut framer = Framer::new();
//! framer.push(input, &mut |f| outcomes.push(decoder.decode(f.bytes, &f.kind, &PageKind::Unknown)));
//! framer.finish(&mut |f| outcomes.push(decoder.decode(f.bytes, &f.kind, &PageKind::Unknown)));
//! assert_eq!(outcomes, vec![Outcome::Call, Outcome::Call]);
//! assert_eq!(decoder.flattener.finish().rows(TableId::Calls), 2);
//! ```
#![deny(missing_docs)]

pub mod colbuf;
pub mod decode;
mod error;
pub mod flatten;
pub mod frame;
pub mod input;
pub mod occurrence;
mod rows;
pub mod side;
pub mod source;
mod tape;
pub mod values;

pub use error::{Error, Result};
pub use occurrence::SessionOccurrences;

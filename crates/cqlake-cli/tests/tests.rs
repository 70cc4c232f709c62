//! End-to-end tests of the `cqlake` binary: convert real Graph examples and generated shapes,
//! read the lake back (with DataFusion here, and with Python's deltalake and pyarrow), and check
//! values, idempotence, version upserts, follow-up pages and rejects; a property test compares
//! the lake with the generator's model.

mod cluster;
mod common;
mod convert;
mod crash;
mod features;
mod flows;
mod r#gen;
mod layers;
mod layout;
mod maintain;
mod pages;
mod privacy;
mod pull;
mod roundtrip;
mod serve;
mod shell;
mod side;
mod sql;
mod values;

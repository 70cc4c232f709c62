//! End-to-end tests of the `cqlake` binary: convert real Graph examples and generated shapes,
//! read the lake back (with DataFusion here, and with Python's deltalake and pyarrow), and check
//! values, idempotence, version upserts and rejects.

mod common;
mod convert;
mod pages;
mod roundtrip;

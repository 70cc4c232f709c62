//! The layout of the lake's tables against the schema: a `streams` table made before it was
//! narrowed, and the schema `cqlake optimize` migrates it to.
//!
//! `streams` used to hold every context column of a stream's media, segment, session and call
//! (977 columns); it now keeps the media's and a chosen few of the others
//! ([`cqlake_schema::streams_wide`] lists where the rest is). A lake of the earlier layout is
//! read as it is: its extra columns stay readable, and the view `streams_wide` reads them from
//! `streams`. Writing rows into it is refused (its `streams` would hold two layouts), until
//! [`LakeWriter::optimize`](crate::LakeWriter::optimize) rewrites the table's files in the
//! current layout and commits its narrower schema.

use cqlake_schema::TableId;
use deltalake::DeltaTable;
use deltalake::kernel::{Action, MetadataExt, StructType};

use crate::table::delta_err;
use crate::{Error, LakeLocation, Result};

/// The columns table `t` has in the lake that the schema does not: empty for a table of the
/// current layout (or one not created yet).
pub(crate) fn extra_columns(table: &DeltaTable, t: TableId) -> Result<Vec<String>> {
    if table.version().is_none() {
        return Ok(Vec::new());
    }
    let snapshot = table.snapshot().map_err(delta_err(t))?;
    let current = t.table();
    Ok(snapshot
        .schema()
        .fields()
        .filter(|f| current.column_index(f.name()).is_none())
        .map(|f| f.name().to_string())
        .collect())
}

/// The error of a writer that would add rows to a lake whose table `t` has `extra` columns.
pub(crate) fn outdated(lake: &LakeLocation, t: TableId, extra: usize) -> Error {
    let columns = t.table().columns.len();
    Error::Layout(format!(
        "{lake}: its `{}` table has the layout of an earlier cqlake ({} columns, {extra} of them \
         context columns that `{}` no longer keeps); run `cqlake optimize --lake {lake}` once to \
         rewrite it in the current layout ({columns} columns; the others stay in the view \
         `streams_wide`). Reading the lake (sql, report, serve) works as it is.",
        t.name(),
        columns + extra,
        t.name(),
    ))
}

/// The `metaData` action that narrows table `t`'s schema to the schema's columns (its other
/// fields dropped, the rest as they were).
pub(crate) fn narrowed_metadata(table: &DeltaTable, t: TableId) -> Result<Action> {
    let snapshot = table.snapshot().map_err(delta_err(t))?;
    let current = t.table();
    let fields = snapshot
        .schema()
        .fields()
        .filter(|f| current.column_index(f.name()).is_some())
        .cloned()
        .collect::<Vec<_>>();
    let schema = StructType::try_new(fields).map_err(|e| delta_err(t)(e.into()))?;
    let metadata = snapshot
        .metadata()
        .clone()
        .with_schema(&schema)
        .map_err(|e| delta_err(t)(e.into()))?;
    Ok(Action::Metadata(metadata))
}

//! One Delta table of the lake: where it is, opening and scanning it, and the errors that name it.

use std::path::Path;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use cqlake_schema::{PARTITION_COLUMN, TableId};
use datafusion::logical_expr::Expr;
use datafusion::prelude::SessionContext;
use deltalake::DeltaTable;
use deltalake::protocol::SaveMode;

use crate::{Error, Result};

/// An I/O error at `path`.
pub(crate) fn io_err(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error::Io {
        path: path.display().to_string(),
        source: e,
    }
}

/// A Delta error of table `t`.
pub(crate) fn delta_err(t: TableId) -> impl Fn(deltalake::DeltaTableError) -> Error {
    delta_err_of(t.name())
}

/// A Delta error of the table called `table`.
pub(crate) fn delta_err_of(table: &'static str) -> impl Fn(deltalake::DeltaTableError) -> Error {
    move |e| Error::Delta {
        table: table.into(),
        source: e,
    }
}

/// A query error of table `t`.
pub(crate) fn query_err(t: TableId) -> impl Fn(datafusion::error::DataFusionError) -> Error {
    query_err_of(t.name())
}

/// A query error of the table called `table`.
pub(crate) fn query_err_of(
    table: &'static str,
) -> impl Fn(datafusion::error::DataFusionError) -> Error {
    move |e| Error::Query {
        table: table.into(),
        source: e,
    }
}

/// The URL of table `t` in the lake at `root` (its directory created).
pub(crate) fn table_url(root: &Path, t: TableId) -> Result<url::Url> {
    table_url_of(root, t.name())
}

/// The URL of the table called `name` in the lake at `root` (its directory created).
pub(crate) fn table_url_of(root: &Path, name: &'static str) -> Result<url::Url> {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
    let dir = dir.canonicalize().map_err(io_err(&dir))?;
    deltalake::ensure_table_uri(dir.to_string_lossy()).map_err(delta_err_of(name))
}

/// Opens (creating where missing) the six tables of the lake at `root`.
pub async fn open_tables(root: &Path) -> Result<Vec<DeltaTable>> {
    let mut out = Vec::with_capacity(6);
    for t in TableId::ALL {
        let url = table_url(root, t)?;
        let mut table = DeltaTable::try_from_url(url).await.map_err(delta_err(t))?;
        if table.version().is_none() {
            let empty = RecordBatch::new_empty(t.table().schema());
            table = table
                .write(vec![empty])
                .with_save_mode(SaveMode::Append)
                .with_partition_columns([PARTITION_COLUMN])
                .with_table_name(t.name())
                .await
                .map_err(delta_err(t))?;
        }
        out.push(table);
    }
    Ok(out)
}

/// The rows of table `t` that match `filter`, in the table's schema (or only `columns`).
pub(crate) async fn scan(
    table: &DeltaTable,
    t: TableId,
    filter: Expr,
    columns: Option<&[&str]>,
) -> Result<Vec<RecordBatch>> {
    if table.version().unwrap_or(0) == 0 {
        return Ok(Vec::new());
    }
    let schema = t.table().schema();
    let names: Vec<&str> = match columns {
        Some(c) => c.to_vec(),
        None => schema.fields().iter().map(|f| f.name().as_str()).collect(),
    };
    let target: SchemaRef = std::sync::Arc::new(
        schema.project(
            &names
                .iter()
                .map(|n| schema.index_of(n))
                .collect::<std::result::Result<Vec<_>, _>>()?,
        )?,
    );
    let ctx = SessionContext::new();
    table
        .update_datafusion_session(&ctx.state())
        .map_err(delta_err(t))?;
    let q = query_err(t);
    let provider = table.table_provider().await.map_err(&q)?;
    let batches = ctx
        .read_table(provider)
        .map_err(&q)?
        .filter(filter)
        .map_err(&q)?
        .select_columns(&names)
        .map_err(&q)?
        .collect()
        .await
        .map_err(&q)?;
    batches.iter().map(|b| conform(b, &target)).collect()
}

/// Casts the columns of a scanned batch (Delta scans return strings as views and may
/// dictionary-encode partition values) to `schema`.
pub(crate) fn conform(batch: &RecordBatch, schema: &SchemaRef) -> Result<RecordBatch> {
    let columns = batch
        .columns()
        .iter()
        .zip(schema.fields())
        .map(|(c, f)| {
            if c.data_type() == f.data_type() {
                Ok(c.clone())
            } else {
                arrow::compute::cast(c, f.data_type())
            }
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(RecordBatch::try_new(schema.clone(), columns)?)
}

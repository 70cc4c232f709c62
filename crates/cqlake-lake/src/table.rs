//! One Delta table of the lake: where it is, opening and scanning it, and the errors that name it.

use std::path::Path;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use cqlake_schema::{PARTITION_COLUMN, TableId};
use datafusion::logical_expr::Expr;
use datafusion::prelude::SessionContext;
use deltalake::DeltaTable;
use deltalake::protocol::SaveMode;

use crate::{Error, LakeLocation, Result};

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

/// The URL of the table called `name` in the lake (its directory created on a local disk).
pub(crate) fn table_url_of(lake: &LakeLocation, name: &'static str) -> Result<url::Url> {
    let Some(root) = lake.as_local() else {
        return Ok(lake.join(name));
    };
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
    let dir = dir.canonicalize().map_err(io_err(&dir))?;
    deltalake::ensure_table_uri(dir.to_string_lossy()).map_err(delta_err_of(name))
}

/// A builder of the table called `name` in the lake, with the lake's storage options.
pub(crate) fn builder(
    lake: &LakeLocation,
    name: &'static str,
) -> Result<deltalake::DeltaTableBuilder> {
    crate::location::register_stores();
    let url = table_url_of(lake, name)?;
    Ok(deltalake::DeltaTableBuilder::from_url(url)
        .map_err(delta_err_of(name))?
        .with_storage_options(
            lake.options()
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ))
}

/// The table called `name` in the lake, at `version` or its latest.
pub(crate) async fn load(
    lake: &LakeLocation,
    name: &'static str,
    version: Option<u64>,
) -> Result<DeltaTable> {
    let mut b = builder(lake, name)?;
    if let Some(v) = version {
        b = b.with_version(v as _);
    }
    b.load().await.map_err(delta_err_of(name))
}

/// The table called `name` in the lake, loaded if it exists (`version()` is `None` if not).
pub(crate) async fn try_load(lake: &LakeLocation, name: &'static str) -> Result<DeltaTable> {
    let mut table = builder(lake, name)?.build().map_err(delta_err_of(name))?;
    match table.load().await {
        Ok(()) | Err(deltalake::DeltaTableError::NotATable(_)) => Ok(table),
        Err(e) => Err(delta_err_of(name)(e)),
    }
}

/// Whether the lake has a Delta table called `name` (a `_delta_log` with a file in it).
pub(crate) async fn has_table(lake: &LakeLocation, name: &str) -> Result<bool> {
    if let Some(root) = lake.as_local() {
        return Ok(root.join(name).join("_delta_log").is_dir());
    }
    use futures::StreamExt;
    let store = lake.store()?;
    let prefix = deltalake::Path::from(format!("{name}/_delta_log/"));
    match store.list(Some(&prefix)).next().await {
        None => Ok(false),
        Some(Ok(_)) => Ok(true),
        Some(Err(e)) => Err(Error::Store {
            location: lake.join(name).to_string(),
            source: e,
        }),
    }
}

/// Opens (creating where missing) the six tables of the lake.
pub async fn open_tables(lake: &LakeLocation) -> Result<Vec<DeltaTable>> {
    let mut out = Vec::with_capacity(6);
    for t in TableId::ALL {
        let mut table = try_load(lake, t.name()).await?;
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

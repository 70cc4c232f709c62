//! Reading a plain Parquet export (`cqlake convert --format parquet`, see
//! [`ParquetWriter`](crate::ParquetWriter)) as the lake's tables: every call table a listing of
//! `<out>/<table>/call_start_date=YYYY-MM-DD/*.parquet` with the date as its Hive partition
//! column, every side table a listing of `<out>/<table>/*.parquet`, and a table with no
//! directory an empty table of its schema.

use std::path::Path;
use std::sync::Arc;

use arrow::datatypes::{DataType, SchemaRef};
use cqlake_schema::{PARTITION_COLUMN, SideTable, TableId};
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::datasource::{MemTable, TableProvider};
use datafusion::prelude::SessionContext;

use crate::Result;
use crate::table::{io_err, query_err_of};

/// Whether `root` holds a plain Parquet export rather than a Delta lake: a `calls` directory
/// without a Delta log.
pub fn is_parquet_export(root: &Path) -> bool {
    let calls = root.join(TableId::Calls.name());
    calls.is_dir() && !calls.join("_delta_log").exists()
}

/// Registers the tables of the plain Parquet export at `root` in `ctx`, under the lake's
/// table names.
pub(crate) async fn register_parquet_export(ctx: &SessionContext, root: &Path) -> Result<()> {
    for t in TableId::ALL {
        let file_schema = crate::encode::file_schema(t).arrow.clone();
        let partition = vec![(PARTITION_COLUMN.to_string(), DataType::Date32)];
        let provider = listing(root, t.name(), file_schema, partition)?;
        ctx.register_table(t.name(), provider)
            .map_err(query_err_of(t.name()))?;
    }
    for t in SideTable::ALL {
        let provider = listing(root, t.name(), t.def().schema(), Vec::new())?;
        ctx.register_table(t.name(), provider)
            .map_err(query_err_of(t.name()))?;
    }
    Ok(())
}

/// The Parquet files under `<root>/<name>/` as a table of `file_schema` (plus the `partition`
/// columns, read from the directory names), or an empty table where there is no directory.
fn listing(
    root: &Path,
    name: &'static str,
    file_schema: SchemaRef,
    partition: Vec<(String, DataType)>,
) -> Result<Arc<dyn TableProvider>> {
    let q = query_err_of(name);
    let dir = root.join(name);
    if !dir.is_dir() {
        let mut fields: Vec<_> = file_schema.fields().iter().cloned().collect();
        fields.extend(
            partition
                .iter()
                .map(|(n, dt)| Arc::new(arrow::datatypes::Field::new(n, dt.clone(), true))),
        );
        let schema = Arc::new(arrow::datatypes::Schema::new(fields));
        return Ok(Arc::new(
            MemTable::try_new(schema, vec![vec![]]).map_err(&q)?,
        ));
    }
    let dir = dir.canonicalize().map_err(io_err(&dir))?;
    let url = ListingTableUrl::parse(format!("{}/", dir.display())).map_err(&q)?;
    let options = ListingOptions::new(Arc::new(ParquetFormat::default()))
        .with_file_extension(".parquet")
        .with_table_partition_cols(partition);
    let config = ListingTableConfig::new(url)
        .with_listing_options(options)
        .with_schema(file_schema);
    Ok(Arc::new(ListingTable::try_new(config).map_err(&q)?))
}

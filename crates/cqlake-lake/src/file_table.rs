//! The lake's tables as plain lists of Parquet files, for engines that send plans to other
//! processes (a Ballista cluster).
//!
//! deltalake's table provider plans a scan that no plan codec can carry to another process. A
//! [`FileTable`] holds what that scan would read instead: the data files of the version the
//! reader picked (the last finished group), each with its size and call start date, and plans
//! DataFusion's own Parquet scan over them, which every DataFusion plan codec carries. It is
//! valid for the tables cqlake writes: no deletion vectors and no column mapping, so a Delta
//! snapshot is exactly the rows of its files. [`FileTable::to_bytes`] and
//! [`FileTable::from_bytes`] carry it inside a logical plan (the scan itself is planned where the
//! plan is, from the same files), with no access to the Delta log needed there.

use std::collections::BTreeSet;
use std::sync::Arc;

use arrow::array::{Array, BooleanArray, Date32Array, RecordBatch};
use arrow::datatypes::{FieldRef, Schema, SchemaRef};
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::config::TableParquetOptions;
use datafusion::common::{DFSchema, DataFusionError, ScalarValue};
use datafusion::datasource::TableType;
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::object_store::ObjectStoreUrl;
use datafusion::datasource::physical_plan::{FileGroup, FileScanConfigBuilder, ParquetSource};
use datafusion::datasource::source::DataSourceExec;
use datafusion::datasource::table_schema::TableSchema;
use datafusion::logical_expr::utils::conjunction;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::empty::EmptyExec;
use serde_json::{Value, json};

/// One data file of a [`FileTable`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableFile {
    /// Its path in the object store (`tmp/lake/streams/call_date=2024-07-01/part-….parquet`).
    pub path: String,
    /// Its size in bytes.
    pub size: u64,
    /// The call start date of its rows (days since 1970-01-01); `None` for rows without one,
    /// and for the files of an unpartitioned table.
    pub date: Option<i32>,
}

/// A table read as a fixed list of Parquet files. See the [module documentation](self).
#[derive(Debug, Clone)]
pub struct FileTable {
    /// The table's name (for messages).
    name: String,
    /// The object store the files are in (`file:///`, `s3://bucket`).
    store: String,
    /// The partition column, one of `schema`'s (the scan adds it after the files' columns).
    partition: Option<String>,
    /// The files.
    files: Vec<TableFile>,
    /// The columns, in the order the table shows them.
    schema: SchemaRef,
}

/// The first bytes of an encoded [`FileTable`].
const MAGIC: &[u8] = b"cqlake-file-table/1\n";

impl FileTable {
    /// A table of `files` in `store` with the columns of `schema`, one of which is the
    /// partition column `partition` when there is one.
    pub fn new(
        name: impl Into<String>,
        store: impl Into<String>,
        schema: SchemaRef,
        partition: Option<String>,
        files: Vec<TableFile>,
    ) -> datafusion::error::Result<FileTable> {
        let name = name.into();
        if let Some(p) = &partition
            && schema.index_of(p).is_err()
        {
            return Err(DataFusionError::Plan(format!(
                "table {name}: no partition column {p}"
            )));
        }
        let store = store.into();
        ObjectStoreUrl::parse(&store)?;
        Ok(FileTable {
            name,
            store,
            partition,
            files,
            schema,
        })
    }

    /// The table's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its files.
    pub fn files(&self) -> &[TableFile] {
        &self.files
    }

    /// The table as bytes, without its schema (which a plan carries anyway): see
    /// [`FileTable::from_bytes`].
    pub fn to_bytes(&self) -> Vec<u8> {
        let files: Vec<Value> = self
            .files
            .iter()
            .map(|f| json!([f.path, f.size, f.date]))
            .collect();
        let body = json!({
            "name": self.name,
            "store": self.store,
            "partition": self.partition,
            "files": files,
        });
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(body.to_string().as_bytes());
        out
    }

    /// Whether `bytes` were written by [`FileTable::to_bytes`].
    pub fn is_encoded(bytes: &[u8]) -> bool {
        bytes.starts_with(MAGIC)
    }

    /// The table [`FileTable::to_bytes`] wrote, with the columns of `schema`.
    pub fn from_bytes(bytes: &[u8], schema: SchemaRef) -> datafusion::error::Result<FileTable> {
        let bad = |what: &str| DataFusionError::Internal(format!("a file table's bytes: {what}"));
        let body = bytes.strip_prefix(MAGIC).ok_or_else(|| bad("no header"))?;
        let v: Value = serde_json::from_slice(body).map_err(|e| bad(&e.to_string()))?;
        let text = |k: &str| v[k].as_str().map(str::to_string);
        let name = text("name").ok_or_else(|| bad("no name"))?;
        let store = text("store").ok_or_else(|| bad("no store"))?;
        let mut files = Vec::new();
        for f in v["files"].as_array().ok_or_else(|| bad("no files"))? {
            let path = f[0].as_str().ok_or_else(|| bad("a file without a path"))?;
            let size = f[1].as_u64().ok_or_else(|| bad("a file without a size"))?;
            let date = match &f[2] {
                Value::Null => None,
                d => Some(
                    d.as_i64()
                        .and_then(|d| i32::try_from(d).ok())
                        .ok_or_else(|| bad("a file's date"))?,
                ),
            };
            files.push(TableFile {
                path: path.to_string(),
                size,
                date,
            });
        }
        FileTable::new(name, store, schema, text("partition"), files)
    }

    /// The dates (of files) that `filters` on the partition column alone keep; `None` if there
    /// is no such filter.
    fn kept_dates(
        &self,
        state: &dyn Session,
        filters: &[Expr],
    ) -> datafusion::error::Result<Option<BTreeSet<Option<i32>>>> {
        let Some(p) = &self.partition else {
            return Ok(None);
        };
        let on_date: Vec<Expr> = filters
            .iter()
            .filter(|f| {
                let cols = f.column_refs();
                !cols.is_empty() && cols.iter().all(|c| &c.name == p) && !f.is_volatile()
            })
            .cloned()
            .collect();
        let Some(predicate) = conjunction(on_date) else {
            return Ok(None);
        };
        let field = Arc::new(self.schema.field_with_name(p)?.clone());
        let schema = Arc::new(Schema::new(vec![field]));
        let dates: Vec<Option<i32>> = self
            .files
            .iter()
            .map(|f| f.date)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![Arc::new(Date32Array::from(dates.clone()))],
        )?;
        let df_schema = DFSchema::try_from(schema)?;
        let expr = state.create_physical_expr(predicate, &df_schema)?;
        let keep = expr.evaluate(&batch)?.into_array(batch.num_rows())?;
        let keep = keep
            .as_any()
            .downcast_ref::<BooleanArray>()
            .ok_or_else(|| DataFusionError::Internal("a date filter that is not boolean".into()))?;
        Ok(Some(
            dates
                .into_iter()
                .enumerate()
                .filter(|(i, _)| keep.is_valid(*i) && keep.value(*i))
                .map(|(_, d)| d)
                .collect(),
        ))
    }
}

#[async_trait::async_trait]
impl TableProvider for FileTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> datafusion::error::Result<Vec<TableProviderFilterPushDown>> {
        // Date filters choose the files; every filter is still applied to the rows read (the
        // Parquet scan takes them from there for row group and page pruning).
        Ok(vec![TableProviderFilterPushDown::Inexact; filters.len()])
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> datafusion::error::Result<Arc<dyn ExecutionPlan>> {
        let kept = self.kept_dates(state, filters)?;
        let mut files: Vec<&TableFile> = self
            .files
            .iter()
            .filter(|f| kept.as_ref().is_none_or(|k| k.contains(&f.date)))
            .collect();
        let projected = match projection {
            Some(p) => Arc::new(self.schema.project(p)?),
            None => self.schema.clone(),
        };
        if files.is_empty() {
            return Ok(Arc::new(EmptyExec::new(projected)));
        }
        // The largest files first, each to the group with the fewest bytes so far.
        files.sort_by(|a, b| b.size.cmp(&a.size).then_with(|| a.path.cmp(&b.path)));
        let n = state.config().target_partitions().clamp(1, files.len());
        let mut groups: Vec<(u64, Vec<PartitionedFile>)> = vec![(0, Vec::new()); n];
        for f in files {
            let g = groups
                .iter_mut()
                .min_by_key(|(bytes, _)| *bytes)
                .expect("at least one group");
            g.0 += f.size;
            let mut file = PartitionedFile::new(f.path.clone(), f.size);
            if self.partition.is_some() {
                file = file.with_partition_values(vec![ScalarValue::Date32(f.date)]);
            }
            g.1.push(file);
        }
        // The scan's columns are the files' columns, then the partition column: the table's
        // columns are picked from them in the table's order.
        let at = self
            .partition
            .as_ref()
            .map(|p| self.schema.index_of(p))
            .transpose()?;
        let width = self.schema.fields().len();
        let scan_index = |i: usize| match at {
            Some(p) if i == p => width - 1,
            Some(p) if i > p => i - 1,
            _ => i,
        };
        let (file_fields, partition_fields): (Vec<FieldRef>, Vec<FieldRef>) =
            self.schema.fields().iter().enumerate().fold(
                (Vec::new(), Vec::new()),
                |(mut f, mut p), (i, field)| {
                    if Some(i) == at {
                        p.push(field.clone());
                    } else {
                        f.push(field.clone());
                    }
                    (f, p)
                },
            );
        let columns: Vec<usize> = match projection {
            Some(p) => p.iter().map(|i| scan_index(*i)).collect(),
            None => (0..width).map(scan_index).collect(),
        };
        let table_schema = TableSchema::builder(Arc::new(Schema::new(file_fields)))
            .with_table_partition_cols(partition_fields)
            .build();
        let options = TableParquetOptions {
            global: state.config_options().execution.parquet.clone(),
            ..Default::default()
        };
        let source = ParquetSource::new(table_schema).with_table_parquet_options(options);
        let config =
            FileScanConfigBuilder::new(ObjectStoreUrl::parse(&self.store)?, Arc::new(source))
                .with_file_groups(groups.into_iter().map(|(_, g)| FileGroup::new(g)).collect())
                .with_projection_indices(Some(columns))?
                .with_limit(limit)
                .build();
        Ok(DataSourceExec::from_data_source(config))
    }
}

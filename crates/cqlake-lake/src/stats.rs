//! Delta `Add` actions, with data-skipping statistics, for Parquet files that cqlake writes
//! itself rather than through deltalake's writer.
//!
//! The statistics follow the Delta protocol's per-file statistics
//! (`{"numRecords":…,"minValues":{…},"maxValues":{…},"nullCount":{…}}`) and err on the side of
//! saying less: readers skip a file when its statistics exclude a predicate, so a wrong bound
//! silently loses rows, while a missing one only costs a read. A bound is written only when
//! every row group that holds values has an exact one, and only for types whose Parquet order is
//! the order queries compare in.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use cqlake_schema::calendar::civil_from_days;
use deltalake::kernel::Add;
use parquet::basic::{ColumnOrder, ConvertedType, LogicalType, TimeUnit, Type as PhysicalType};
use parquet::file::metadata::ParquetMetaData;
use parquet::file::statistics::Statistics;
use parquet::schema::types::ColumnDescriptor;
use serde_json::{Map, Value};

/// The Delta `Add` action for a Parquet data file that cqlake wrote itself (not through
/// deltalake's writer).
///
/// `path` is relative to the table root, `size` the file's length in bytes. The file holds
/// every column but `partition_column`, whose value (a `Date32`, days since the epoch; `None`
/// for the null partition) goes into the action's partition values. `metadata` is what
/// `ArrowWriter::close` (or `SerializedFileWriter::close`) returned; the statistics cover the
/// first `indexed_cols` top-level columns of the file (Delta's `dataSkippingNumIndexedCols`).
pub(crate) fn add_action(
    path: String,
    size: i64,
    partition_column: &str,
    partition_value: Option<i32>,
    metadata: &ParquetMetaData,
    indexed_cols: usize,
) -> Add {
    let modification_time = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    Add {
        path,
        size,
        partition_values: HashMap::from([(
            partition_column.to_string(),
            partition_value.map(partition_date),
        )]),
        modification_time,
        data_change: true,
        stats: Some(stats_json(metadata, indexed_cols)),
        tags: None,
        deletion_vector: None,
        base_row_id: None,
        default_row_commit_version: None,
        clustering_provider: None,
    }
}

/// The Delta statistics JSON of a Parquet file, over its first `indexed_cols` top-level columns.
fn stats_json(metadata: &ParquetMetaData, indexed_cols: usize) -> String {
    let schema = metadata.file_metadata().schema_descr();
    let groups = metadata.row_groups();
    let num_records: i64 = groups.iter().map(|g| g.num_rows()).sum();
    let (mut min_values, mut max_values, mut null_count) = (Map::new(), Map::new(), Map::new());
    for (i, column) in schema.columns().iter().enumerate() {
        // Top-level primitive columns only: a nested column's leaves are not its values.
        if schema.get_column_root_idx(i) >= indexed_cols
            || column.path().parts().len() != 1
            || column.max_rep_level() > 0
        {
            continue;
        }
        let stats: Vec<Option<&Statistics>> =
            groups.iter().map(|g| g.column(i).statistics()).collect();
        let nulls: Option<u64> = stats
            .iter()
            .map(|s| s.and_then(|s| s.null_count_opt()))
            .sum();
        let Some(nulls) = nulls else {
            // Without null counts there is no telling which row groups hold values either.
            continue;
        };
        let name = column.name().to_string();
        null_count.insert(name.clone(), nulls.into());
        let ordered = matches!(
            metadata.file_metadata().column_order(i),
            ColumnOrder::TYPE_DEFINED_ORDER(_)
        );
        let Some(kind) = Kind::of(column).filter(|_| ordered) else {
            continue;
        };
        if let Some((min, max)) = bounds(&stats, groups.iter().map(|g| g.num_rows()), kind) {
            min_values.insert(name.clone(), min);
            max_values.insert(name, max);
        }
    }
    let mut out = Map::new();
    out.insert("numRecords".into(), num_records.into());
    out.insert("minValues".into(), Value::Object(min_values));
    out.insert("maxValues".into(), Value::Object(max_values));
    out.insert("nullCount".into(), Value::Object(null_count));
    Value::Object(out).to_string()
}

/// How a column's minimum and maximum go into the statistics.
#[derive(Clone, Copy)]
enum Kind {
    /// A signed integer: a JSON number.
    Int,
    /// A date: `"YYYY-MM-DD"`.
    Date,
    /// A UTC timestamp with `per_ms` units a millisecond: `"YYYY-MM-DDTHH:MM:SS.sssZ"`, the
    /// minimum floored and the maximum ceiled to the millisecond.
    Timestamp {
        /// Units in a millisecond.
        per_ms: i64,
    },
    /// A boolean: a JSON boolean.
    Bool,
    /// A UTF-8 string: a JSON string.
    Str,
}

impl Kind {
    /// The kind of a leaf column, `None` where no bound is written (floats, decimals, unsigned
    /// integers, local timestamps, binary, …).
    fn of(c: &ColumnDescriptor) -> Option<Kind> {
        use PhysicalType as P;
        match (c.physical_type(), c.logical_type_ref()) {
            (P::BOOLEAN, None) => Some(Kind::Bool),
            (P::INT32 | P::INT64, None) if c.converted_type() == ConvertedType::NONE => {
                Some(Kind::Int)
            }
            (P::INT32 | P::INT64, Some(LogicalType::Integer(t))) if t.is_signed => Some(Kind::Int),
            (P::INT32, Some(LogicalType::Date)) => Some(Kind::Date),
            (P::INT64, Some(LogicalType::Timestamp(t))) if t.is_adjusted_to_u_t_c => {
                let per_ms = match t.unit {
                    TimeUnit::MILLIS => 1,
                    TimeUnit::MICROS => 1_000,
                    TimeUnit::NANOS => 1_000_000,
                };
                Some(Kind::Timestamp { per_ms })
            }
            (P::BYTE_ARRAY, Some(LogicalType::String)) => Some(Kind::Str),
            _ => None,
        }
    }
}

/// A bound read from one row group's statistics.
#[derive(PartialEq, PartialOrd)]
enum Bound {
    /// Integers, dates and timestamps, in the column's unit.
    Int(i64),
    /// Booleans.
    Bool(bool),
    /// Strings.
    Str(String),
}

/// The exact minimum and maximum of one row group, `None` when its statistics lack them or
/// they are not exact (a truncated string, say).
fn row_group_bounds(s: &Statistics) -> Option<(Bound, Bound)> {
    if !s.min_is_exact() || !s.max_is_exact() || s.is_min_max_deprecated() {
        return None;
    }
    let str_bound = |b: Option<&parquet::data_type::ByteArray>| {
        Some(Bound::Str(b?.as_utf8().ok()?.to_string()))
    };
    Some(match s {
        Statistics::Boolean(v) => (Bound::Bool(*v.min_opt()?), Bound::Bool(*v.max_opt()?)),
        Statistics::Int32(v) => (
            Bound::Int((*v.min_opt()?).into()),
            Bound::Int((*v.max_opt()?).into()),
        ),
        Statistics::Int64(v) => (Bound::Int(*v.min_opt()?), Bound::Int(*v.max_opt()?)),
        Statistics::ByteArray(v) => (str_bound(v.min_opt())?, str_bound(v.max_opt())?),
        _ => return None,
    })
}

/// The JSON minimum and maximum of a column over the row groups (`stats`, with `rows` rows
/// each), `None` unless every row group that holds a value has exact bounds.
fn bounds(
    stats: &[Option<&Statistics>],
    rows: impl Iterator<Item = i64>,
    kind: Kind,
) -> Option<(Value, Value)> {
    let mut acc: Option<(Bound, Bound)> = None;
    for (s, rows) in stats.iter().zip(rows) {
        let s = (*s)?;
        // A row group of nulls only has no bounds and needs none.
        if s.null_count_opt()? >= rows as u64 {
            continue;
        }
        let (min, max) = row_group_bounds(s)?;
        acc = Some(match acc {
            None => (min, max),
            Some((lo, hi)) => (
                if min < lo { min } else { lo },
                if max > hi { max } else { hi },
            ),
        });
    }
    let (min, max) = acc?;
    Some((json_bound(min, kind, false)?, json_bound(max, kind, true)?))
}

/// `b` as Delta writes it for a column of `kind`; `is_max` rounds timestamps up instead of down.
fn json_bound(b: Bound, kind: Kind, is_max: bool) -> Option<Value> {
    Some(match (kind, b) {
        (Kind::Int, Bound::Int(v)) => v.into(),
        (Kind::Date, Bound::Int(v)) => date(v)?.into(),
        (Kind::Timestamp { per_ms }, Bound::Int(v)) => {
            let ms = v.div_euclid(per_ms) + i64::from(is_max && v.rem_euclid(per_ms) != 0);
            timestamp(ms)?.into()
        }
        (Kind::Bool, Bound::Bool(v)) => v.into(),
        (Kind::Str, Bound::Str(v)) => v.into(),
        _ => return None,
    })
}

/// `days` since the epoch as `YYYY-MM-DD`, `None` outside years 0 to 9999 (no bound is better
/// than one a reader may parse differently).
fn date(days: i64) -> Option<String> {
    let (y, m, d) = civil_from_days(days);
    (0..=9999)
        .contains(&y)
        .then(|| format!("{y:04}-{m:02}-{d:02}"))
}

/// A date partition value as Delta writes it: `YYYY-MM-DD` (years past 9999 with a `+`, before
/// year 0 with a `-`, as deltalake formats them).
fn partition_date(days: i32) -> String {
    let (y, m, d) = civil_from_days(days.into());
    match y {
        0..=9999 => format!("{y:04}-{m:02}-{d:02}"),
        10_000.. => format!("+{y}-{m:02}-{d:02}"),
        _ => format!("-{:04}-{m:02}-{d:02}", -y),
    }
}

/// Milliseconds since the epoch as `YYYY-MM-DDTHH:MM:SS.sssZ`.
fn timestamp(ms: i64) -> Option<String> {
    const DAY: i64 = 86_400_000;
    let day = date(ms.div_euclid(DAY))?;
    let t = ms.rem_euclid(DAY);
    let (h, m, s, f) = (t / 3_600_000, t / 60_000 % 60, t / 1_000 % 60, t % 1_000);
    Some(format!("{day}T{h:02}:{m:02}:{s:02}.{f:03}Z"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use arrow::array::{
        ArrayRef, BooleanArray, Float64Array, Int64Array, ListBuilder, RecordBatch, StringArray,
        StringBuilder, TimestampMicrosecondArray,
    };
    use arrow::datatypes::{DataType, Field, Schema, TimeUnit as ArrowTimeUnit};
    use parquet::arrow::ArrowWriter;
    use parquet::file::properties::WriterProperties;
    use serde_json::json;

    /// 2024-05-01T10:00:00Z in microseconds.
    const T0: i64 = 1_714_557_600_000_000;

    fn schema() -> Arc<Schema> {
        let ts = DataType::Timestamp(ArrowTimeUnit::Microsecond, Some("UTC".into()));
        let list = DataType::List(Arc::new(Field::new("element", DataType::Utf8, true)));
        Arc::new(Schema::new(vec![
            Field::new("call_id", DataType::Utf8, false),
            Field::new("version", DataType::Int64, true),
            Field::new("score", DataType::Float64, true),
            Field::new("start", ts, true),
            Field::new("is_test", DataType::Boolean, true),
            Field::new("tags", list, true),
            Field::new("nothing", DataType::Utf8, true),
        ]))
    }

    /// Rows `(call_id, version, start µs)`, with fixed nulls in the other columns.
    fn batch(rows: &[(&str, Option<i64>, Option<i64>)]) -> RecordBatch {
        let n = rows.len();
        let mut tags = ListBuilder::new(StringBuilder::new()).with_field(Arc::new(Field::new(
            "element",
            DataType::Utf8,
            true,
        )));
        for r in 0..n {
            if r % 3 == 2 {
                tags.append_null();
            } else {
                tags.values().append_value(format!("t{r}"));
                tags.values().append_null();
                tags.append(true);
            }
        }
        let columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.0))),
            Arc::new(Int64Array::from_iter(rows.iter().map(|r| r.1))),
            Arc::new(Float64Array::from_iter(
                (0..n).map(|r| (r % 2 == 0).then_some(r as f64 + 0.5)),
            )),
            Arc::new(
                TimestampMicrosecondArray::from_iter(rows.iter().map(|r| r.2)).with_timezone("UTC"),
            ),
            Arc::new(BooleanArray::from_iter(
                (0..n).map(|r| (r != 1).then_some(r % 2 == 0)),
            )),
            Arc::new(tags.finish()),
            Arc::new(StringArray::from(vec![None::<&str>; n])),
        ];
        RecordBatch::try_new(schema(), columns).unwrap()
    }

    /// Writes `batch` to `path` in row groups of `group_rows`; returns the size and metadata.
    fn write(
        path: &std::path::Path,
        batch: &RecordBatch,
        group_rows: usize,
    ) -> (i64, ParquetMetaData) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let props = WriterProperties::builder()
            .set_max_row_group_row_count(Some(group_rows))
            .build();
        let file = std::fs::File::create(path).unwrap();
        let mut w = ArrowWriter::try_new(file, batch.schema(), Some(props)).unwrap();
        w.write(batch).unwrap();
        let metadata = w.close().unwrap();
        (std::fs::metadata(path).unwrap().len() as i64, metadata)
    }

    fn stats_of(add: &Add) -> Value {
        serde_json::from_str(add.stats.as_deref().unwrap()).unwrap()
    }

    #[test]
    fn stats_follow_the_rules_per_type() {
        let dir = tempfile::tempdir().unwrap();
        let rows = [
            ("c-05", Some(7), Some(T0 + 1_500)), // .001500
            ("c-01", None, Some(T0 + 250_000)),
            ("c-09", Some(-3), None),
            // The second row group (groups of 3 rows).
            ("c-03", Some(42), Some(T0 + 999_999_001)), // 10:16:39.999001
            ("c-07", Some(5), Some(T0 + 2_000)),
        ];
        let (size, metadata) = write(&dir.path().join("f.parquet"), &batch(&rows), 3);
        assert_eq!(metadata.num_row_groups(), 2);
        let add = add_action(
            "call_start_date=2024-05-01/f.parquet".into(),
            size,
            "call_start_date",
            Some(19_844),
            &metadata,
            32,
        );
        assert_eq!(add.path, "call_start_date=2024-05-01/f.parquet");
        assert_eq!(add.size, size);
        assert!(add.data_change);
        assert!(add.modification_time > 1_700_000_000_000);
        assert_eq!(
            add.partition_values,
            HashMap::from([("call_start_date".into(), Some("2024-05-01".into()))])
        );
        assert_eq!(
            stats_of(&add),
            json!({
                "numRecords": 5,
                "minValues": {
                    "call_id": "c-01",
                    "version": -3,
                    "start": "2024-05-01T10:00:00.001Z",
                    "is_test": false,
                },
                "maxValues": {
                    "call_id": "c-09",
                    "version": 42,
                    // 10:16:39.999001 ceiled.
                    "start": "2024-05-01T10:16:40.000Z",
                    "is_test": true,
                },
                "nullCount": {
                    "call_id": 0,
                    "version": 1,
                    "score": 2,
                    "start": 1,
                    "is_test": 1,
                    "nothing": 5,
                },
            })
        );
        // The null partition, and a budget of two columns.
        let add = add_action(
            "f.parquet".into(),
            size,
            "call_start_date",
            None,
            &metadata,
            2,
        );
        assert_eq!(
            add.partition_values,
            HashMap::from([("call_start_date".into(), None)])
        );
        assert_eq!(
            stats_of(&add),
            json!({
                "numRecords": 5,
                "minValues": {"call_id": "c-01", "version": -3},
                "maxValues": {"call_id": "c-09", "version": 42},
                "nullCount": {"call_id": 0, "version": 1},
            })
        );
    }

    #[test]
    fn truncated_strings_and_row_groups_of_nulls() {
        let dir = tempfile::tempdir().unwrap();
        let long = "x".repeat(100);
        // First row group: `version` all null, so only the second bounds it.
        let rows = [
            ("a", None, None),
            (long.as_str(), None, None),
            ("b", Some(3), Some(T0)),
            ("c", Some(4), Some(T0 + 1_000)),
        ];
        let (size, metadata) = write(&dir.path().join("f.parquet"), &batch(&rows), 2);
        let stats = stats_of(&add_action("f".into(), size, "d", Some(0), &metadata, 32));
        // The long string's statistics are truncated (not exact): no call_id bounds.
        assert_eq!(stats["minValues"].get("call_id"), None);
        assert_eq!(stats["maxValues"].get("call_id"), None);
        assert_eq!(stats["nullCount"]["call_id"], 0);
        assert_eq!(stats["minValues"]["version"], 3);
        assert_eq!(stats["maxValues"]["version"], 4);
        // Whole milliseconds stay as they are.
        assert_eq!(stats["minValues"]["start"], "2024-05-01T10:00:00.000Z");
        assert_eq!(stats["maxValues"]["start"], "2024-05-01T10:00:00.001Z");
    }

    #[test]
    fn dates_and_timestamps_format_like_delta() {
        assert_eq!(date(0).unwrap(), "1970-01-01");
        assert_eq!(date(19_844).unwrap(), "2024-05-01");
        assert_eq!(date(-1).unwrap(), "1969-12-31");
        assert_eq!(date(11_016).unwrap(), "2000-02-29");
        assert_eq!(date(-719_528).unwrap(), "0000-01-01");
        assert_eq!(date(2_932_896).unwrap(), "9999-12-31");
        assert_eq!(date(2_932_897), None);
        assert_eq!(partition_date(2_932_897), "+10000-01-01");
        assert_eq!(partition_date(-719_529), "-0001-12-31");
        assert_eq!(timestamp(-1).unwrap(), "1969-12-31T23:59:59.999Z");
        assert_eq!(
            timestamp(T0 / 1_000 + 3_723_004).unwrap(),
            "2024-05-01T11:02:03.004Z"
        );
        let ts = |v, max| json_bound(Bound::Int(v), Kind::Timestamp { per_ms: 1_000 }, max);
        assert_eq!(ts(-1, false).unwrap(), "1969-12-31T23:59:59.999Z");
        assert_eq!(ts(-1, true).unwrap(), "1970-01-01T00:00:00.000Z");
        assert_eq!(ts(1_001, true).unwrap(), "1970-01-01T00:00:00.002Z");
    }

    /// The rows' `call_id`s a query returns, sorted.
    async fn ids(df: datafusion::prelude::DataFrame) -> Vec<String> {
        use arrow::array::{Array, AsArray};
        let batches = df
            .select_columns(&["call_id"])
            .unwrap()
            .collect()
            .await
            .unwrap();
        let mut out: Vec<String> = batches
            .iter()
            .flat_map(|b| {
                let c = arrow::compute::cast(b.column(0), &DataType::Utf8).unwrap();
                let c = c.as_string::<i32>().clone();
                (0..c.len()).map(move |r| c.value(r).to_string())
            })
            .collect();
        out.sort();
        out
    }

    #[tokio::test]
    async fn delta_queries_never_skip_a_matching_file() {
        use datafusion::logical_expr::{Expr, col, lit};
        use datafusion::prelude::SessionContext;
        use datafusion::scalar::ScalarValue;
        use deltalake::DeltaTable;
        use deltalake::kernel::Action;
        use deltalake::kernel::transaction::CommitBuilder;
        use deltalake::protocol::{DeltaOperation, SaveMode};

        const PART: &str = "call_start_date";
        const DAY: i64 = 86_400_000_000;
        // The true (sub-millisecond) maximum of file A.
        const A_MAX: i64 = T0 + 999_999_001;
        let dir = tempfile::tempdir().unwrap();
        let url = deltalake::ensure_table_uri(dir.path().to_string_lossy()).unwrap();

        // The table: the files' columns plus the partition date.
        let mut fields: Vec<Field> = schema()
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        fields.push(Field::new(PART, DataType::Date32, true));
        let empty = RecordBatch::new_empty(Arc::new(Schema::new(fields)));
        let mut table = DeltaTable::try_from_url(url)
            .await
            .unwrap()
            .write(vec![empty])
            .with_save_mode(SaveMode::Append)
            .with_partition_columns([PART])
            .await
            .unwrap();

        let a = batch(&[
            ("a-1", Some(1), Some(T0 + 1_500)),
            ("a-2", Some(2), Some(A_MAX)),
            ("a-3", Some(3), None),
            ("a-4", Some(4), Some(A_MAX - 1)),
        ]);
        let b = batch(&[
            ("b-1", Some(10), Some(T0 + DAY)),
            ("b-2", Some(12), Some(T0 + DAY + 7)),
            ("b-3", None, Some(T0 + DAY + 999_999)),
        ]);
        let mut adds = Vec::new();
        let mut b_file = None;
        for (rows, day) in [(&a, 19_844), (&b, 19_845)] {
            let rel = format!("{PART}={}/part-00000-{day}.parquet", partition_date(day));
            let path = dir.path().join(&rel);
            let (size, metadata) = write(&path, rows, 2);
            adds.push(Action::Add(add_action(
                rel,
                size,
                PART,
                Some(day),
                &metadata,
                32,
            )));
            b_file = Some(path);
        }
        let operation = DeltaOperation::Write {
            mode: SaveMode::Append,
            partition_by: Some(vec![PART.to_string()]),
            predicate: None,
        };
        CommitBuilder::default()
            .with_actions(adds)
            .build(
                Some(table.snapshot().unwrap()),
                table.log_store(),
                operation,
            )
            .await
            .unwrap();
        table.load().await.unwrap();

        // deltalake parses the statistics back to typed values (a bound it cannot parse would
        // be null, and the file never skipped).
        let files = table.snapshot().unwrap().add_actions_table(true).unwrap();
        let column = |name: &str| {
            let c = files
                .column_by_name(name)
                .unwrap_or_else(|| panic!("{name}"));
            arrow::util::display::ArrayFormatter::try_new(c.as_ref(), &Default::default()).unwrap()
        };
        let (path, min_start, max_start) =
            (column("path"), column("min.start"), column("max.start"));
        let (min_version, max_id) = (column("min.version"), column("max.call_id"));
        let mut seen: Vec<String> = (0..files.num_rows())
            .map(|r| {
                format!(
                    "{} {} {} {} {}",
                    path.value(r),
                    min_start.value(r),
                    max_start.value(r),
                    min_version.value(r),
                    max_id.value(r)
                )
            })
            .collect();
        seen.sort();
        assert_eq!(
            seen,
            [
                "call_start_date=2024-05-01/part-00000-19844.parquet 2024-05-01T10:00:00.001Z \
                 2024-05-01T10:16:40Z 1 a-4",
                "call_start_date=2024-05-02/part-00000-19845.parquet 2024-05-02T10:00:00Z \
                 2024-05-02T10:00:01Z 10 b-3",
            ]
        );

        let ts = |v: i64| {
            lit(ScalarValue::TimestampMicrosecond(
                Some(v),
                Some("UTC".into()),
            ))
        };
        // A fresh session per query: DataFusion caches Parquet footers per session, and a
        // cached footer would let row-group pruning hide a file that file skipping missed.
        let session = async || {
            let ctx = SessionContext::new();
            table.update_datafusion_session(&ctx.state()).unwrap();
            ctx.register_table("t", table.table_provider().await.unwrap())
                .unwrap();
            ctx
        };
        let query =
            async |e: Expr| ids(session().await.table("t").await.unwrap().filter(e).unwrap()).await;
        let all_b = ["b-1", "b-2", "b-3"];
        assert_eq!(
            query(col("version").gt_eq(lit(3i64))).await,
            ["a-3", "a-4", "b-1", "b-2"]
        );
        assert_eq!(query(col("version").gt(lit(4i64))).await, ["b-1", "b-2"]);
        assert_eq!(query(col("version").eq(lit(4i64))).await, ["a-4"]);
        assert_eq!(query(col("call_id").eq(lit("a-2"))).await, ["a-2"]);
        assert_eq!(query(col("call_id").gt_eq(lit("b"))).await, all_b);
        assert_eq!(query(col("call_id").lt(lit("a-2"))).await, ["a-1"]);
        // At the sub-millisecond true maximum of A (its stats say 10:16:40.000, ceiled).
        assert_eq!(query(col("start").eq(ts(A_MAX))).await, ["a-2"]);
        assert_eq!(
            query(col("start").gt_eq(ts(A_MAX))).await,
            ["a-2", "b-1", "b-2", "b-3"]
        );
        assert_eq!(
            query(col("start").gt(ts(A_MAX - 1))).await,
            ["a-2", "b-1", "b-2", "b-3"]
        );
        assert_eq!(query(col("start").gt(ts(A_MAX))).await, all_b);
        assert_eq!(query(col("start").lt(ts(T0 + 1_501))).await, ["a-1"]);
        assert_eq!(
            query(col("start").eq(ts(T0 + DAY + 999_999))).await,
            ["b-3"]
        );
        assert_eq!(query(col("start").is_null()).await, ["a-3"]);
        let count = session()
            .await
            .sql("SELECT count(*) FROM t")
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        assert_eq!(
            count[0]
                .column(0)
                .as_any()
                .downcast_ref::<Int64Array>()
                .unwrap()
                .value(0),
            7
        );

        // The statistics do skip files: with B gone from disk, queries that its bounds exclude
        // still succeed, and the others fail.
        std::fs::remove_file(b_file.unwrap()).unwrap();
        let all = session().await.table("t").await.unwrap().collect().await;
        assert!(all.is_err_and(|e| e.to_string().contains("19845.parquet")));
        assert_eq!(
            query(col("version").lt(lit(10i64))).await,
            ["a-1", "a-2", "a-3", "a-4"]
        );
        assert_eq!(
            query(col("call_id").lt(lit("b"))).await,
            ["a-1", "a-2", "a-3", "a-4"]
        );
        assert_eq!(
            query(col("start").lt_eq(ts(A_MAX))).await,
            ["a-1", "a-2", "a-4"]
        );
    }
}

//! PostgreSQL's `information_schema` for a session: `tables`, `columns`, `views` and
//! `schemata` of the lake's schema `public` (and `table_constraints`, `key_column_usage`,
//! empty: the lake declares no keys), with PostgreSQL's type names (`integer`,
//! `timestamp with time zone`, `ARRAY` with `udt_name` `_text`, …), the types the wire
//! protocol sends. DataFusion's own `information_schema` names Arrow types, which tools that
//! read their column types from here (Grafana's column picker, Npgsql's `GetSchema`, which
//! Power BI's navigator uses) would show. `columns` has one column more than PostgreSQL's,
//! `arrow_type`: the lake's own type, as `cqlake schema` names it.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Int32Builder, RecordBatch, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::catalog::{MemorySchemaProvider, SchemaProvider};
use datafusion::datasource::{MemTable, TableType};
use datafusion::error::{DataFusionError, Result};
use datafusion::prelude::SessionContext;
use datafusion_postgres::arrow_pg::datatypes::into_pg_type;

/// The schemas a client sees.
const SCHEMAS: [&str; 3] = ["public", "pg_catalog", "information_schema"];

/// A table of text and integer columns, filled row by row.
struct Table {
    names: Vec<&'static str>,
    text: Vec<Option<StringBuilder>>,
    ints: Vec<Option<Int32Builder>>,
}

#[derive(Clone, Copy)]
enum Cell<'a> {
    Text(Option<&'a str>),
    Int(Option<i32>),
}

impl Table {
    /// Columns `names`, each text unless listed in `ints`.
    fn new(names: &[&'static str], ints: &[&str]) -> Table {
        Table {
            names: names.to_vec(),
            text: names
                .iter()
                .map(|n| (!ints.contains(n)).then(StringBuilder::new))
                .collect(),
            ints: names
                .iter()
                .map(|n| ints.contains(n).then(Int32Builder::new))
                .collect(),
        }
    }

    fn push(&mut self, row: &[Cell]) {
        for (i, cell) in row.iter().enumerate() {
            match cell {
                Cell::Text(v) => self.text[i]
                    .as_mut()
                    .expect("a text column")
                    .append_option(*v),
                Cell::Int(v) => self.ints[i]
                    .as_mut()
                    .expect("an integer column")
                    .append_option(*v),
            }
        }
    }

    fn finish(mut self) -> Result<Arc<MemTable>> {
        let mut fields = Vec::new();
        let mut arrays: Vec<ArrayRef> = Vec::new();
        for (i, name) in self.names.iter().enumerate() {
            if let Some(b) = self.text[i].as_mut() {
                fields.push(Field::new(*name, DataType::Utf8, true));
                arrays.push(Arc::new(b.finish()));
            } else if let Some(b) = self.ints[i].as_mut() {
                fields.push(Field::new(*name, DataType::Int32, true));
                arrays.push(Arc::new(b.finish()));
            }
        }
        let schema = Arc::new(Schema::new(fields));
        let batch = RecordBatch::try_new(schema.clone(), arrays)?;
        Ok(Arc::new(MemTable::try_new(schema, vec![vec![batch]])?))
    }
}

/// What PostgreSQL's `information_schema.columns` says of a column of Arrow type `t`:
/// `(data_type, udt_name, numeric_precision, numeric_precision_radix, numeric_scale,
/// datetime_precision)`.
fn pg_words(
    t: &DataType,
) -> (
    String,
    String,
    Option<i32>,
    Option<i32>,
    Option<i32>,
    Option<i32>,
) {
    let udt = into_pg_type(t)
        .map(|t| t.name().to_string())
        .unwrap_or_else(|_| "text".to_string());
    let data_type = match udt.as_str() {
        "bool" => "boolean",
        "int2" => "smallint",
        "int4" => "integer",
        "int8" => "bigint",
        "float4" => "real",
        "float8" => "double precision",
        "timestamptz" => "timestamp with time zone",
        "timestamp" => "timestamp without time zone",
        "time" => "time without time zone",
        a if a.starts_with('_') => "ARRAY",
        other => other,
    }
    .to_string();
    let (precision, radix, scale) = match (udt.as_str(), t) {
        ("int2", _) => (Some(16), Some(2), Some(0)),
        ("int4", _) => (Some(32), Some(2), Some(0)),
        ("int8", _) => (Some(64), Some(2), Some(0)),
        ("float4", _) => (Some(24), Some(2), None),
        ("float8", _) => (Some(53), Some(2), None),
        ("numeric", DataType::Decimal128(p, s)) => (Some(*p as i32), Some(10), Some(*s as i32)),
        ("numeric", _) => (None, Some(10), None),
        _ => (None, None, None),
    };
    let datetime = match udt.as_str() {
        "timestamptz" | "timestamp" | "time" | "interval" => Some(6),
        "date" => Some(0),
        _ => None,
    };
    (data_type, udt, precision, radix, scale, datetime)
}

/// Registers PostgreSQL's `information_schema` in catalog `catalog` of `ctx`, in place of
/// DataFusion's, from the tables and views of its schema `public` as they are now (a session
/// is opened again when the lake changes).
pub(crate) async fn register(ctx: &SessionContext, catalog: &str) -> Result<()> {
    let cat = ctx
        .catalog(catalog)
        .ok_or_else(|| DataFusionError::Plan(format!("no catalog {catalog}")))?;
    let mut tables = Table::new(
        &[
            "table_catalog",
            "table_schema",
            "table_name",
            "table_type",
            "is_insertable_into",
            "is_typed",
            "commit_action",
        ],
        &[],
    );
    let mut columns = Table::new(
        &[
            "table_catalog",
            "table_schema",
            "table_name",
            "column_name",
            "ordinal_position",
            "column_default",
            "is_nullable",
            "data_type",
            "character_maximum_length",
            "numeric_precision",
            "numeric_precision_radix",
            "numeric_scale",
            "datetime_precision",
            "character_octet_length",
            "character_set_catalog",
            "character_set_schema",
            "character_set_name",
            "collation_catalog",
            "udt_catalog",
            "udt_schema",
            "udt_name",
            "dtd_identifier",
            "is_identity",
            "identity_generation",
            "is_generated",
            "is_updatable",
            "arrow_type",
        ],
        &[
            "ordinal_position",
            "character_maximum_length",
            "character_octet_length",
            "numeric_precision",
            "numeric_precision_radix",
            "numeric_scale",
            "datetime_precision",
        ],
    );
    let mut views = Table::new(
        &[
            "table_catalog",
            "table_schema",
            "table_name",
            "view_definition",
            "check_option",
            "is_updatable",
        ],
        &[],
    );
    let mut schemata = Table::new(&["catalog_name", "schema_name", "schema_owner"], &[]);
    for s in SCHEMAS {
        schemata.push(&[
            Cell::Text(Some(catalog)),
            Cell::Text(Some(s)),
            Cell::Text(Some(crate::USER)),
        ]);
    }
    let public = cat
        .schema("public")
        .ok_or_else(|| DataFusionError::Plan(format!("no schema {catalog}.public")))?;
    let mut names = public.table_names();
    names.sort();
    for name in &names {
        let Some(table) = public.table(name).await? else {
            continue;
        };
        let kind = match table.table_type() {
            TableType::Base => "BASE TABLE",
            TableType::View => "VIEW",
            TableType::Temporary => "LOCAL TEMPORARY",
        };
        let here = [
            Cell::Text(Some(catalog)),
            Cell::Text(Some("public")),
            Cell::Text(Some(name)),
        ];
        tables.push(&[
            here[0],
            here[1],
            here[2],
            Cell::Text(Some(kind)),
            Cell::Text(Some("NO")),
            Cell::Text(Some("NO")),
            Cell::Text(None),
        ]);
        if table.table_type() == TableType::View {
            views.push(&[
                here[0],
                here[1],
                here[2],
                Cell::Text(table.get_table_definition()),
                Cell::Text(Some("NONE")),
                Cell::Text(Some("NO")),
            ]);
        }
        for (i, field) in table.schema().fields().iter().enumerate() {
            let (data_type, udt, precision, radix, scale, datetime) = pg_words(field.data_type());
            let arrow = field.data_type().to_string();
            let position = (i + 1).to_string();
            columns.push(&[
                here[0],
                here[1],
                here[2],
                Cell::Text(Some(field.name())),
                Cell::Int(Some(i as i32 + 1)),
                Cell::Text(None),
                Cell::Text(Some(if field.is_nullable() { "YES" } else { "NO" })),
                Cell::Text(Some(&data_type)),
                Cell::Int(None),
                Cell::Int(precision),
                Cell::Int(radix),
                Cell::Int(scale),
                Cell::Int(datetime),
                Cell::Int(None),
                Cell::Text(None),
                Cell::Text(None),
                Cell::Text(None),
                Cell::Text(None),
                Cell::Text(Some(catalog)),
                Cell::Text(Some("pg_catalog")),
                Cell::Text(Some(&udt)),
                Cell::Text(Some(&position)),
                Cell::Text(Some("NO")),
                Cell::Text(None),
                Cell::Text(Some("NEVER")),
                Cell::Text(Some("NO")),
                Cell::Text(Some(&arrow)),
            ]);
        }
    }
    let schema = MemorySchemaProvider::new();
    schema.register_table("tables".to_string(), tables.finish()?)?;
    schema.register_table("columns".to_string(), columns.finish()?)?;
    schema.register_table("views".to_string(), views.finish()?)?;
    schema.register_table("schemata".to_string(), schemata.finish()?)?;
    // The lake declares no keys: PostgreSQL's constraint views, empty.
    let constraint = [
        "constraint_catalog",
        "constraint_schema",
        "constraint_name",
        "table_catalog",
        "table_schema",
        "table_name",
    ];
    let mut names = constraint.to_vec();
    names.extend([
        "constraint_type",
        "is_deferrable",
        "initially_deferred",
        "enforced",
    ]);
    schema.register_table(
        "table_constraints".to_string(),
        Table::new(&names, &[]).finish()?,
    )?;
    let mut names = constraint.to_vec();
    names.extend([
        "column_name",
        "ordinal_position",
        "position_in_unique_constraint",
    ]);
    schema.register_table(
        "key_column_usage".to_string(),
        Table::new(
            &names,
            &["ordinal_position", "position_in_unique_constraint"],
        )
        .finish()?,
    )?;
    // DataFusion answers `information_schema.*` itself while its own is on.
    ctx.state_ref()
        .write()
        .config_mut()
        .options_mut()
        .catalog
        .information_schema = false;
    cat.register_schema("information_schema", Arc::new(schema))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::pg_words;
    use datafusion::arrow::datatypes::{DataType, Field, TimeUnit};
    use std::sync::Arc;

    #[test]
    fn types_are_worded_as_postgresql_words_them() {
        let words = |t: DataType| {
            let w = pg_words(&t);
            (w.0, w.1)
        };
        let s = |a: &str, b: &str| (a.to_string(), b.to_string());
        assert_eq!(
            words(DataType::Timestamp(
                TimeUnit::Microsecond,
                Some("UTC".into())
            )),
            s("timestamp with time zone", "timestamptz")
        );
        assert_eq!(words(DataType::Utf8View), s("text", "text"));
        assert_eq!(words(DataType::Int32), s("integer", "int4"));
        assert_eq!(words(DataType::Int64), s("bigint", "int8"));
        assert_eq!(words(DataType::Float64), s("double precision", "float8"));
        assert_eq!(words(DataType::Boolean), s("boolean", "bool"));
        assert_eq!(words(DataType::Date32), s("date", "date"));
        assert_eq!(
            words(DataType::List(Arc::new(Field::new(
                "element",
                DataType::Utf8View,
                true
            )))),
            s("ARRAY", "_text")
        );
        let d = pg_words(&DataType::Decimal128(38, 10));
        assert_eq!(
            (d.0.as_str(), d.2, d.3, d.4),
            ("numeric", Some(38), Some(10), Some(10))
        );
    }
}

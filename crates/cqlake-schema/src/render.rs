//! The table reference, as `cqlake schema` prints it and as docs/tables.md shows it.

use std::fmt::Write;

use crate::side::SideTable;
use crate::tables::{Column, ColumnRole, TableId};

fn type_name(dt: &arrow::datatypes::DataType) -> String {
    use arrow::datatypes::DataType::*;
    match dt {
        Utf8 => "string".into(),
        Int32 => "int32".into(),
        Int64 => "int64".into(),
        Float64 => "float64".into(),
        Boolean => "boolean".into(),
        Date32 => "date".into(),
        Timestamp(_, _) => "timestamp(us, UTC)".into(),
        Decimal128(p, s) => format!("decimal({p}, {s})"),
        List(f) => format!("list<{}>", type_name(f.data_type())),
        other => other.to_string(),
    }
}

fn role_note(role: &ColumnRole) -> &'static str {
    match role {
        ColumnRole::Key(_) => "key",
        ColumnRole::Extra => "unknown keys",
        ColumnRole::Context { .. } => "context",
        ColumnRole::Value { .. } => "",
        ColumnRole::Derived => "derived",
    }
}

/// What the reference says of a column: its role, and `personal` where it holds personal data.
fn note(c: &Column) -> String {
    match (role_note(&c.role), c.personal) {
        (role, false) => role.into(),
        ("", true) => "personal".into(),
        (role, true) => format!("{role}, personal"),
    }
}

/// Every table of the lake, call tables first: name, what a row is, columns.
fn all_tables() -> impl Iterator<Item = (&'static str, &'static str, &'static [Column])> {
    TableId::ALL
        .into_iter()
        .map(|id| (id.name(), id.doc(), id.table().columns.as_slice()))
        .chain(
            SideTable::ALL
                .into_iter()
                .map(|t| (t.name(), t.doc(), t.def().columns.as_slice())),
        )
}

/// The tables (all, or only the one named `only`) as plain text: one line per column with its
/// type, `personal` where it holds personal data, and the Graph property it comes from. `None`
/// when no table is named `only`.
pub fn text_reference(only: Option<&str>) -> Option<String> {
    let mut out = String::new();
    let mut found = false;
    for (name, doc, columns) in all_tables().filter(|(n, _, _)| only.is_none_or(|o| o == *n)) {
        found = true;
        let _ = writeln!(out, "{} ({} columns): {}", name, columns.len(), doc);
        let width = columns.iter().map(|c| c.name.len()).max().unwrap_or(0);
        for c in columns {
            let _ = writeln!(
                out,
                "  {:width$}  {:20}  {:8}  {}",
                c.name,
                type_name(&c.data_type),
                if c.personal { "personal" } else { "" },
                c.source
            );
        }
        out.push('\n');
    }
    found.then_some(out)
}

/// The names of every table.
pub fn table_names() -> Vec<&'static str> {
    all_tables().map(|(n, _, _)| n).collect()
}

/// The tables as the Markdown table reference docs/tables.md holds.
pub fn markdown_reference() -> String {
    let mut out = String::new();
    for (name, doc, columns) in all_tables() {
        let _ = writeln!(
            out,
            "### `{}`\n\n{} ({} columns, {} personal).\n",
            name,
            doc,
            columns.len(),
            columns.iter().filter(|c| c.personal).count()
        );
        out.push_str("| column | type | Graph property | |\n|---|---|---|---|\n");
        for c in columns {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} |",
                c.name,
                type_name(&c.data_type),
                c.source,
                note(c)
            );
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_docs_table_reference_is_the_generated_one() {
        let tables = include_str!("../../../docs/tables.md");
        let begin = "<!-- tables:begin -->\n";
        let start = tables
            .find(begin)
            .expect("docs/tables.md has a tables:begin marker")
            + begin.len();
        let end = tables[start..]
            .find("<!-- tables:end -->")
            .expect("docs/tables.md has a tables:end marker")
            + start;
        let generated = super::markdown_reference();
        assert!(
            tables[start..end].trim_end() == generated.trim_end(),
            "docs/tables.md's table reference is out of date: regenerate it with `cqlake schema --markdown`"
        );
    }
}

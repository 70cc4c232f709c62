//! The table reference, as `cqlake schema` prints it and as the README shows it.

use std::fmt::Write;

use crate::tables::{ColumnRole, TableId};

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
    }
}

/// The tables (all, or only `only`) as plain text: one line per column with its type and the Graph
/// property it comes from.
pub fn text_reference(only: Option<TableId>) -> String {
    let mut out = String::new();
    for id in TableId::ALL
        .into_iter()
        .filter(|t| only.is_none_or(|o| o == *t))
    {
        let t = id.table();
        let _ = writeln!(
            out,
            "{} ({} columns): {}",
            id.name(),
            t.columns.len(),
            id.doc()
        );
        let width = t.columns.iter().map(|c| c.name.len()).max().unwrap_or(0);
        for c in &t.columns {
            let _ = writeln!(
                out,
                "  {:width$}  {:20}  {}",
                c.name,
                type_name(&c.data_type),
                c.source
            );
        }
        out.push('\n');
    }
    out
}

/// The tables as the Markdown table reference the README embeds.
pub fn markdown_reference() -> String {
    let mut out = String::new();
    for id in TableId::ALL {
        let t = id.table();
        let _ = writeln!(
            out,
            "### `{}`\n\n{} ({} columns).\n",
            id.name(),
            id.doc(),
            t.columns.len()
        );
        out.push_str("| column | type | Graph property | |\n|---|---|---|---|\n");
        for c in &t.columns {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} |",
                c.name,
                type_name(&c.data_type),
                c.source,
                role_note(&c.role)
            );
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_readme_table_reference_is_the_generated_one() {
        let readme = include_str!("../../../README.md");
        let begin = "<!-- tables:begin -->\n";
        let start = readme
            .find(begin)
            .expect("README has a tables:begin marker")
            + begin.len();
        let end = readme[start..]
            .find("<!-- tables:end -->")
            .expect("README has a tables:end marker")
            + start;
        let generated = super::markdown_reference();
        assert!(
            readme[start..end].trim_end() == generated.trim_end(),
            "README.md's table reference is out of date: regenerate it with `cqlake schema --markdown`"
        );
    }
}

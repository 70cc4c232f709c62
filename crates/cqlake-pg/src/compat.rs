//! Client queries that `pg_catalog` here cannot answer as written, rewritten to equivalents
//! before they are parsed. Each entry names the client; the list is short on purpose: a query
//! belongs here only when a real client sends it verbatim and the catalog cannot follow it.

use std::borrow::Cow;

/// `(what the client sends, what runs instead)`, matched as text.
const REWRITES: [(&str, &str); 2] = [
    // Npgsql 4.0 (Power BI Desktop) type loading joins the receive function by OID; the
    // catalog keeps `pg_type.typreceive` as the function's name (what `regproc` prints), so
    // the join is by name.
    (
        "JOIN pg_proc ON pg_proc.oid = a.typreceive",
        "JOIN pg_proc ON pg_proc.proname = a.typreceive",
    ),
    // Npgsql's GetSchema("Columns") (Power BI's navigator, DBeaver's .NET peers) prints each
    // column's type by casting its name to `regtype`, which the catalog cannot: the same words
    // from `information_schema.columns`, arrays as `element[]`.
    (
        "udt_name::regtype::text",
        "CASE WHEN data_type <> 'ARRAY' THEN data_type \
         WHEN udt_name = '_int4' THEN 'integer[]' WHEN udt_name = '_int8' THEN 'bigint[]' \
         WHEN udt_name = '_float8' THEN 'double precision[]' WHEN udt_name = '_bool' THEN 'boolean[]' \
         WHEN udt_name = '_timestamptz' THEN 'timestamp with time zone[]' \
         ELSE substr(udt_name, 2) || '[]' END",
    ),
];

/// `sql` with the known client queries rewritten.
pub(crate) fn rewrite(sql: &str) -> Cow<'_, str> {
    let mut out = Cow::Borrowed(sql);
    for (from, to) in REWRITES {
        if out.contains(from) {
            out = Cow::Owned(out.replace(from, to));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn npgsql_type_loading_joins_by_name() {
        let sql = "SELECT 1 FROM pg_type AS a JOIN pg_proc ON pg_proc.oid = a.typreceive";
        assert_eq!(
            super::rewrite(sql),
            "SELECT 1 FROM pg_type AS a JOIN pg_proc ON pg_proc.proname = a.typreceive"
        );
        assert_eq!(super::rewrite("SELECT 1"), "SELECT 1");
        assert!(
            super::rewrite("SELECT udt_name::regtype::text AS data_type FROM t")
                .starts_with("SELECT CASE WHEN data_type <> 'ARRAY' THEN data_type")
        );
    }
}

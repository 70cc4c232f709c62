//! Client queries that `pg_catalog` here cannot answer as written, rewritten to equivalents
//! before they are parsed. Each entry names the client; the list is short on purpose: a query
//! belongs here only when a real client sends it verbatim and the catalog cannot follow it.

use std::borrow::Cow;

/// `(what the client sends, what runs instead)`, matched as text.
const REWRITES: [(&str, &str); 1] = [
    // Npgsql 4.0 (Power BI Desktop) type loading joins the receive function by OID; the
    // catalog keeps `pg_type.typreceive` as the function's name (what `regproc` prints), so
    // the join is by name.
    (
        "JOIN pg_proc ON pg_proc.oid = a.typreceive",
        "JOIN pg_proc ON pg_proc.proname = a.typreceive",
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
    }
}

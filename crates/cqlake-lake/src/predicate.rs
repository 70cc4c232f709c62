//! Predicates over the lake's keys and partition dates, shaped for deltalake's file pruning
//! (which walks expressions recursively: `OR` chains are kept balanced and shallow).

use std::collections::{BTreeMap, BTreeSet};

use cqlake_schema::TableId;
use datafusion::logical_expr::{Expr, col, lit};

use crate::plan::Replace;

/// String literals of `ids`, for an `IN` list.
pub(crate) fn str_list<'a>(ids: impl IntoIterator<Item = &'a str>) -> Vec<Expr> {
    ids.into_iter().map(lit).collect()
}

/// `call_start_date IN (dates)`.
pub(crate) fn in_dates(dates: &BTreeSet<i32>) -> Expr {
    dates_predicate(dates.iter().copied())
}

/// `call_start_date IN (dates) AND call_id IN (ids)`.
pub(crate) fn in_calls(ids: &BTreeSet<&str>, dates: &BTreeSet<i32>) -> Expr {
    in_dates(dates).and(col("call_id").in_list(str_list(ids.iter().copied()), false))
}

/// `call_id = C AND column IN (ids of C)`, one per call of `pairs` (call id, id).
pub(crate) fn by_call(pairs: &BTreeSet<(String, String)>, column: &str) -> Vec<Expr> {
    let mut by: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (c, id) in pairs {
        by.entry(c.as_str()).or_default().push(id.as_str());
    }
    by.into_iter()
        .map(|(c, ids)| {
            col("call_id")
                .eq(lit(c))
                .and(col(column).in_list(str_list(ids), false))
        })
        .collect()
}

/// `call_start_date IN (dates) AND (call_id IN (calls) OR (call_id = C AND session_id IN
/// (sessions of C)) OR (call_id = C AND participant_id IN (participants of C)) …) IS TRUE`.
pub(crate) fn replace_predicate(t: TableId, r: &Replace) -> Expr {
    let mut terms = Vec::new();
    if !r.calls.is_empty() {
        terms.push(col("call_id").in_list(str_list(r.calls.iter().map(String::as_str)), false));
    }
    if !r.sessions.is_empty() && t.table().key_index(cqlake_schema::Key::SessionId).is_some() {
        terms.extend(by_call(&r.sessions, "session_id"));
    }
    if !r.occurrences.is_empty()
        && t.table()
            .key_index(cqlake_schema::Key::SessionOccurrence)
            .is_some()
    {
        terms.extend(r.occurrences.iter().map(|(c, s, o)| {
            col("call_id")
                .eq(lit(c.as_str()))
                .and(col("session_id").eq(lit(s.as_str())))
                .and(col("session_occurrence").eq(lit(*o)))
        }));
    }
    if !r.participants.is_empty() && t == TableId::Participants {
        terms.extend(by_call(&r.participants, "participant_id"));
    }
    // A balanced `OR`: one term per call, and deltalake walks the tree recursively.
    let which = (!terms.is_empty()).then(|| balanced_or(terms));
    // `IS TRUE`: a row with a null id is not replaced, and the rewrite keeps it (a bare `IN`
    // is null there, and the rewrite would drop the row).
    let which = which.map_or_else(|| lit(false), Expr::is_true);
    in_dates(&r.dates).and(which)
}

/// `call_start_date` in `dates`, as ranges of consecutive days (`>= lo AND <= hi`) joined by
/// a balanced `OR`. An `IN` list would reach deltalake's file pruning as a chain of one `OR` per
/// date, which it walks recursively: a year of dates overflowed a worker thread's stack.
pub(crate) fn dates_predicate(
    dates: impl IntoIterator<Item = i32>,
) -> datafusion::logical_expr::Expr {
    use datafusion::logical_expr::{col, lit};
    use datafusion::scalar::ScalarValue;
    let mut sorted: Vec<i32> = dates.into_iter().collect();
    sorted.sort_unstable();
    sorted.dedup();
    let mut ranges: Vec<(i32, i32)> = Vec::new();
    for d in sorted {
        match ranges.last_mut() {
            Some((_, hi)) if *hi + 1 == d => *hi = d,
            _ => ranges.push((d, d)),
        }
    }
    let day = |d: i32| lit(ScalarValue::Date32(Some(d)));
    let terms: Vec<_> = ranges
        .into_iter()
        .map(|(lo, hi)| {
            let c = col(cqlake_schema::PARTITION_COLUMN);
            if lo == hi {
                c.eq(day(lo))
            } else {
                c.clone().gt_eq(day(lo)).and(c.lt_eq(day(hi)))
            }
        })
        .collect();
    balanced_or(terms)
}

/// `terms` joined by `OR` as a balanced tree (`false` when empty), so that recursive walks
/// of the expression stay shallow.
pub(crate) fn balanced_or(
    mut terms: Vec<datafusion::logical_expr::Expr>,
) -> datafusion::logical_expr::Expr {
    match terms.len() {
        0 => datafusion::logical_expr::lit(false),
        1 => terms.pop().expect("one term"),
        n => {
            let right = terms.split_off(n / 2);
            balanced_or(terms).or(balanced_or(right))
        }
    }
}

#[cfg(test)]
mod tests {
    use datafusion::logical_expr::{BinaryExpr, Expr, Operator};

    fn or_depth(e: &Expr) -> usize {
        match e {
            Expr::BinaryExpr(BinaryExpr {
                left,
                op: Operator::Or,
                right,
            }) => 1 + or_depth(left).max(or_depth(right)),
            _ => 0,
        }
    }

    #[test]
    fn dates_become_ranges_under_a_shallow_or() {
        let e = super::dates_predicate([3, 1, 2, 7, 9, 10]);
        assert_eq!(
            e.to_string(),
            "call_start_date >= Date32(\"1970-01-02\") AND call_start_date <= Date32(\"1970-01-04\") \
             OR call_start_date = Date32(\"1970-01-08\") \
             OR call_start_date >= Date32(\"1970-01-10\") AND call_start_date <= Date32(\"1970-01-11\")"
        );
        // Every other day of five years: 913 ranges, an OR tree 10 deep, not 912.
        let e = super::dates_predicate((0..1826).step_by(2));
        assert_eq!(or_depth(&e), 10);
        assert_eq!(super::dates_predicate([]).to_string(), "Boolean(false)");
    }
}

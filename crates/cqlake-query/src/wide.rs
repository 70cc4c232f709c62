//! The view `streams_wide`: every stream with every context column of its media, segment,
//! session and call, as [`cqlake_schema::streams_wide`] lists them.
//!
//! `streams` keeps the context the reports and dashboards read; the rest is joined here from
//! the parent rows a stream's context comes from: its call, and the segment and session of the
//! last occurrence of the session that holds its segment (a session id repeated within a call
//! writes its media and streams once, from that occurrence). The view adds that occurrence as
//! `session_occurrence`, so a query can join `sessions` and `segments` itself.
//!
//! A lake made before `streams` was narrowed holds every context column in `streams`: the view
//! reads them from there, and joins only the occurrence.
//!
//! The plan is built with DataFrame joins and one projection rather than planned from SQL: the
//! SQL select planner checks each of the view's ~980 items against the others (see
//! [`crate::views`]).

use cqlake_schema::{TableId, WideSource, streams_wide};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Column, Result as DfResult};
use datafusion::functions_aggregate::expr_fn::max;
use datafusion::logical_expr::{Cast, Expr, JoinType, LogicalPlan};
use datafusion::prelude::{DataFrame, SessionContext};

/// The name of the view.
pub(crate) const STREAMS_WIDE: &str = "streams_wide";

/// The column that names the occurrence a stream's segment and session context comes from.
const OCCURRENCE: &str = "session_occurrence";

/// Column `name` of the relation aliased `alias`.
fn q(alias: &str, name: &str) -> Expr {
    Expr::Column(Column::new(Some(alias), name))
}

/// `streams`' columns `keys` equal to the same columns of `alias`, and `extra` conditions.
fn on(alias: &str, keys: &[&str], extra: Vec<Expr>) -> Vec<Expr> {
    keys.iter()
        .map(|k| q("s", k).eq(q(alias, k)))
        .chain(extra)
        .collect()
}

/// The alias a parent table has in the view's joins.
fn alias(t: TableId) -> &'static str {
    match t {
        TableId::Media => "m",
        TableId::Segments => "g",
        TableId::Sessions => "e",
        TableId::Calls => "c",
        TableId::Participants | TableId::Streams => unreachable!("not a stream's parent"),
    }
}

/// `df` with its lists of string views cast to lists of strings (the lake's own type).
///
/// DataFusion 55 reads a list of strings from Parquet as a list of string views, and such a
/// column carried through a few hash joins takes memory far beyond its size (gigabytes for a
/// thousand rows): every output batch of a join seems to keep, or copy, the view buffers of
/// every input batch. Plain lists go through joins at their size.
fn plain_lists(df: DataFrame) -> DfResult<DataFrame> {
    let mut cast = false;
    let items: Vec<Expr> = df
        .schema()
        .fields()
        .iter()
        .map(|f| {
            let column = Expr::Column(Column::new_unqualified(f.name()));
            match f.data_type() {
                DataType::List(item) if item.data_type() == &DataType::Utf8View => {
                    cast = true;
                    let plain = cqlake_schema::list_of(DataType::Utf8);
                    Expr::Cast(Cast::new(Box::new(column), plain)).alias(f.name())
                }
                _ => column,
            }
        })
        .collect();
    if cast { df.select(items) } else { Ok(df) }
}

/// The plan of `streams_wide` over the tables registered in `ctx` (the lake's, or their
/// date-windowed views).
pub(crate) async fn plan(ctx: &SessionContext) -> DfResult<LogicalPlan> {
    let wide = streams_wide();
    let streams = ctx.table("streams").await?;
    // A lake made before `streams` was narrowed has every context column in `streams`.
    let all_in_streams = wide
        .iter()
        .all(|w| streams.schema().has_column_with_unqualified_name(&w.name));
    let segment = ["call_id", "call_start_date", "session_id", "segment_id"];
    let last = ctx
        .table("segments")
        .await?
        .aggregate(
            segment.iter().map(|k| q("segments", k)).collect(),
            vec![max(q("segments", OCCURRENCE)).alias(OCCURRENCE)],
        )?
        .alias("o")?;
    let mut df = plain_lists(streams)?.alias("s")?.join_on(
        last,
        JoinType::Left,
        on("o", &segment, Vec::new()),
    )?;
    let from_parent = |t: TableId| {
        !all_in_streams
            && wide
                .iter()
                .any(|w| matches!(w.source, WideSource::Parent { table, .. } if table == t))
    };
    let occurrence = |a: &str| vec![q(a, OCCURRENCE).eq(q("o", OCCURRENCE))];
    for (t, keys, extra) in [
        (
            TableId::Media,
            &[
                "call_id",
                "call_start_date",
                "session_id",
                "segment_id",
                "media_index",
            ][..],
            Vec::new(),
        ),
        (TableId::Segments, &segment[..], occurrence("g")),
        (
            TableId::Sessions,
            &["call_id", "call_start_date", "session_id"][..],
            occurrence("e"),
        ),
        (
            TableId::Calls,
            &["call_id", "call_start_date"][..],
            Vec::new(),
        ),
    ] {
        if from_parent(t) {
            let parent = plain_lists(ctx.table(t.name()).await?)?.alias(alias(t))?;
            df = df.join_on(parent, JoinType::Left, on(alias(t), keys, extra))?;
        }
    }
    let streams_table = TableId::Streams.table();
    let mut items: Vec<Expr> = wide
        .iter()
        .map(|w| match w.source {
            _ if all_in_streams => q("s", &w.name),
            WideSource::Streams(i) => q("s", &streams_table.columns[i].name),
            WideSource::Parent { table, column } => {
                q(alias(table), &table.table().columns[column].name).alias(&w.name)
            }
        })
        .collect();
    items.push(q("o", OCCURRENCE));
    df.select(items).map(DataFrame::into_unoptimized_plan)
}

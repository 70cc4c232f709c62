//! Planning the wide views (`stream_kind` … `stream_sides`, and the date windows) without
//! DataFusion's SQL select planner.
//!
//! Each of these views is `SELECT *, expr AS name, … FROM relation` over `streams`' 202
//! columns. DataFusion 55's select planner checks every select-list expression against all the
//! earlier ones by formatting both (`push_projection_dedupl`, run for every SELECT to look for
//! `UNNEST`): quadratic in the width, about 0.1 s per view when `streams` had 977 columns (0.45 s
//! of every `cqlake sql` and `cqlake report` start). So a view of that shape is planned here instead: the wildcard is
//! expanded from the input's schema, each other item is planned alone as an expression (by
//! DataFusion's own SQL expression planner, against the input's schema), and the projection is
//! built with [`LogicalPlanBuilder`]. Any other shape (a `WHERE`, a join, a `GROUP BY`, …) is
//! planned by [`SessionContext::sql`] as before: [`plan`] never changes what a view means, only
//! how fast it is planned.

use std::future::Future;
use std::pin::Pin;

use datafusion::common::{Column, DFSchema, Result as DfResult};
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder};
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::{
    Expr as SqlExpr, ExprWithAlias, Ident, Query, Select, SelectItem, SetExpr, Statement,
    TableFactor, WildcardAdditionalOptions,
};

/// The logical plan of the view `sql` (a single query).
pub(crate) async fn plan(ctx: &SessionContext, sql: &str) -> DfResult<LogicalPlan> {
    let state = ctx.state();
    let dialect = state.config().options().sql_parser.dialect;
    if let DfStatement::Statement(statement) = state.sql_to_statement(sql, &dialect)?
        && let Statement::Query(query) = *statement
        && let Some(plan) = plan_query(ctx, &query).await?
    {
        return Ok(plan);
    }
    Ok(ctx.sql(sql).await?.into_unoptimized_plan())
}

/// `Ok(None)` when `query` is not of the simple shape.
fn plan_query<'a>(
    ctx: &'a SessionContext,
    query: &'a Query,
) -> Pin<Box<dyn Future<Output = DfResult<Option<LogicalPlan>>> + Send + 'a>> {
    Box::pin(async move {
        let Some(select) = simple_select(query) else {
            return Ok(None);
        };
        let input = match &select.from[0].relation {
            TableFactor::Table {
                name,
                alias: None,
                args: None,
                with_hints,
                version: None,
                with_ordinality: false,
                partitions,
                json_path: None,
                sample: None,
                index_hints,
            } if with_hints.is_empty() && partitions.is_empty() && index_hints.is_empty() => ctx
                .table(name.to_string().as_str())
                .await?
                .into_unoptimized_plan(),
            TableFactor::Derived {
                lateral: false,
                subquery,
                alias: None,
                sample: None,
            } => match plan_query(ctx, subquery).await? {
                Some(plan) => plan,
                None => return Ok(None),
            },
            _ => return Ok(None),
        };
        let state = ctx.state();
        let input = match &select.selection {
            Some(condition) => {
                let condition = state.create_logical_expr_from_sql_expr(
                    ExprWithAlias {
                        expr: condition.clone(),
                        alias: None,
                    },
                    input.schema(),
                )?;
                LogicalPlanBuilder::from(input).filter(condition)?.build()?
            }
            None => input,
        };
        let schema = input.schema().clone();
        let mut exprs = Vec::with_capacity(schema.fields().len() + select.projection.len());
        for item in &select.projection {
            match item {
                SelectItem::Wildcard(options) => match excluded(options) {
                    Some(except) => exprs.extend(
                        schema
                            .iter()
                            .filter(|(_, f)| !except.iter().any(|e| e == f.name()))
                            .map(|(q, f)| Expr::Column(Column::new(q.cloned(), f.name()))),
                    ),
                    None => return Ok(None),
                },
                SelectItem::ExprWithAlias { expr, alias } => {
                    exprs.push(planned(&state, &schema, expr, alias)?);
                }
                _ => return Ok(None),
            }
        }
        Ok(Some(
            LogicalPlanBuilder::from(input).project(exprs)?.build()?,
        ))
    })
}

/// The single SELECT of `query` when it is `SELECT items FROM one_relation [WHERE condition]`
/// and nothing else, without a subquery.
fn simple_select(query: &Query) -> Option<&Select> {
    let SetExpr::Select(select) = query.body.as_ref() else {
        return None;
    };
    if select.from.len() != 1 || !select.from[0].joins.is_empty() {
        return None;
    }
    // A subquery reads tables the expression planner does not resolve.
    let subquery = datafusion::sql::sqlparser::ast::visit_expressions(select, |e| match e {
        SqlExpr::Subquery(_) | SqlExpr::InSubquery { .. } | SqlExpr::Exists { .. } => {
            std::ops::ControlFlow::Break(())
        }
        _ => std::ops::ControlFlow::Continue(()),
    });
    if subquery.is_break() {
        return None;
    }
    // Everything but the select list, the relation and the condition must be as in a bare
    // `SELECT 1 FROM t` (sqlparser's equality ignores source positions), so no clause is ever
    // overlooked.
    let template = template();
    let SetExpr::Select(bare) = template.body.as_ref() else {
        unreachable!("the template is a SELECT")
    };
    let strip = |s: &Select| Select {
        projection: Vec::new(),
        from: Vec::new(),
        selection: None,
        ..s.clone()
    };
    let mut outer = query.clone();
    outer.body = template.body.clone();
    (outer == template && strip(select) == strip(bare)).then_some(select)
}

/// `SELECT 1 FROM t`, parsed.
fn template() -> Query {
    let dialect = datafusion::sql::sqlparser::dialect::GenericDialect {};
    match datafusion::sql::sqlparser::parser::Parser::parse_sql(&dialect, "SELECT 1 FROM t")
        .expect("the template parses")
        .pop()
    {
        Some(Statement::Query(q)) => *q,
        _ => unreachable!("the template is a query"),
    }
}

/// The column names a wildcard leaves out (`* EXCEPT (...)`), or `None` for any other wildcard
/// option.
fn excluded(options: &WildcardAdditionalOptions) -> Option<Vec<String>> {
    if options.opt_ilike.is_some()
        || options.opt_exclude.is_some()
        || options.opt_replace.is_some()
        || options.opt_rename.is_some()
        || options.opt_alias.is_some()
    {
        return None;
    }
    let mut out = Vec::new();
    if let Some(except) = &options.opt_except {
        out.push(normalized(&except.first_element));
        out.extend(except.additional_elements.iter().map(normalized));
    }
    Some(out)
}

/// An identifier as DataFusion's SQL planner names it: unquoted ones in lower case.
fn normalized(ident: &Ident) -> String {
    match ident.quote_style {
        Some(_) => ident.value.clone(),
        None => ident.value.to_lowercase(),
    }
}

/// `expr AS alias`, planned against `schema` (as the select planner does it, a column selected
/// under its own name gets no alias).
fn planned(
    state: &datafusion::execution::SessionState,
    schema: &DFSchema,
    expr: &SqlExpr,
    alias: &Ident,
) -> DfResult<Expr> {
    let name = normalized(alias);
    let planned = state.create_logical_expr_from_sql_expr(
        ExprWithAlias {
            expr: expr.clone(),
            alias: None,
        },
        schema,
    )?;
    Ok(match planned {
        Expr::Column(c) if c.name == name => Expr::Column(c),
        e => e.alias(name),
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::RecordBatch;
    use datafusion::datasource::MemTable;
    use datafusion::prelude::SessionContext;

    use crate::RuleSet;

    /// A session with an empty `streams` of the lake's schema and cqlake's functions.
    fn session() -> SessionContext {
        let ctx = SessionContext::new();
        let schema = cqlake_schema::TableId::Streams.table().schema();
        let empty = RecordBatch::new_empty(schema.clone());
        let table = MemTable::try_new(schema, vec![vec![empty]]).expect("a table");
        ctx.register_table("streams", Arc::new(table))
            .expect("registered");
        ctx.register_udf(crate::udf::if_else());
        ctx.register_udf(crate::udf::media_kind());
        ctx
    }

    /// `sql` parsed, as a query.
    fn query(ctx: &SessionContext, sql: &str) -> datafusion::sql::sqlparser::ast::Query {
        let statement = ctx
            .state()
            .sql_to_statement(sql, &datafusion::config::Dialect::Generic)
            .expect("parses");
        let datafusion::sql::parser::Statement::Statement(s) = statement else {
            panic!("{sql} is a plain statement")
        };
        let datafusion::sql::sqlparser::ast::Statement::Query(q) = *s else {
            panic!("{sql} is a query")
        };
        *q
    }

    /// Field by field: qualifier, name, type, nullability.
    fn fields(plan: &datafusion::logical_expr::LogicalPlan) -> Vec<String> {
        plan.schema()
            .iter()
            .map(|(q, f)| format!("{q:?} {} {} {}", f.name(), f.data_type(), f.is_nullable()))
            .collect()
    }

    #[tokio::test]
    async fn every_view_of_every_rule_set_plans_here_exactly_as_sql_plans_it() {
        for rules in RuleSet::ALL {
            let ctx = session();
            for (name, sql) in crate::rules::views(rules) {
                let ours = super::plan_query(&ctx, &query(&ctx, sql))
                    .await
                    .expect("plans")
                    .unwrap_or_else(|| panic!("{name} ({}) has the simple shape", rules.name()));
                let theirs = ctx.sql(sql).await.expect("plans").into_unoptimized_plan();
                assert_eq!(fields(&ours), fields(&theirs), "{name}, {}", rules.name());
                let streams = cqlake_schema::TableId::Streams.table().columns.len();
                assert!(fields(&ours).len() > streams, "{name} is wide");
                let view = datafusion::dataframe::DataFrame::new(ctx.state(), ours).into_view();
                ctx.register_table(name, view).expect("registered");
            }
            // And the views answer as the SQL-planned ones would (the .slt files check values).
            let n = ctx
                .sql("SELECT count(*) FROM stream_sides")
                .await
                .expect("plans")
                .collect()
                .await
                .expect("runs");
            assert_eq!(n[0].num_rows(), 1);
        }
    }

    #[tokio::test]
    async fn a_filtered_view_plans_here_and_other_shapes_fall_back_to_sql() {
        let ctx = session();
        let filtered = "SELECT * FROM streams WHERE call_start_date >= DATE '2024-05-01'";
        let plan = super::plan(&ctx, filtered).await.expect("plans");
        let sql = ctx
            .sql(filtered)
            .await
            .expect("plans")
            .into_unoptimized_plan();
        assert_eq!(fields(&plan), fields(&sql));
        let datafusion::logical_expr::LogicalPlan::Projection(p) = &plan else {
            panic!("a projection")
        };
        let datafusion::logical_expr::LogicalPlan::Filter(f) = p.input.as_ref() else {
            panic!("over a filter")
        };
        assert!(
            f.predicate
                .to_string()
                .starts_with("streams.call_start_date >= "),
            "{}",
            f.predicate
        );
        for other in [
            "SELECT media_label, count(*) AS n FROM streams GROUP BY media_label",
            "SELECT DISTINCT media_label FROM streams",
            "SELECT media_label FROM streams ORDER BY 1",
            "SELECT media_label FROM streams LIMIT 3",
            "SELECT s.media_label FROM streams s",
            "SELECT a.media_label FROM streams a JOIN streams b ON a.call_id = b.call_id",
            "SELECT media_label, 1 FROM streams",
            "WITH x AS (SELECT 1 AS one) SELECT one FROM x",
            "SELECT * FROM streams WHERE call_id IN (SELECT call_id FROM streams LIMIT 1)",
            "SELECT * FROM streams WHERE EXISTS (SELECT 1 FROM streams LIMIT 1)",
            "SELECT *, (SELECT 1) AS one FROM streams",
        ] {
            assert!(
                super::plan_query(&ctx, &query(&ctx, other))
                    .await
                    .expect("plans")
                    .is_none(),
                "{other} is not of the simple shape"
            );
            let ours = super::plan(&ctx, other).await.expect("falls back");
            let theirs = ctx.sql(other).await.expect("plans").into_unoptimized_plan();
            assert_eq!(fields(&ours), fields(&theirs), "{other}");
        }
    }
}

//! The routes: the JSON API, the page and its assets.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::{Array, AsArray};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use cqlake_query::{Engine, Format, REPORTS, Report, Rollup, RollupUse, Rows};
use cqlake_schema::PARTITION_COLUMN;

use crate::dashboard::{VIEWS, View};
use crate::filters::Filters;
use crate::{Error, Result, ServerOptions};

/// What every request shares.
pub(crate) struct AppState {
    pub options: ServerOptions,
    /// The rollups (of each rule set), kept between requests.
    pub rollups: cqlake_query::RollupCache,
    /// The data files' Parquet footers, parsed once.
    pub footers: cqlake_query::FooterCache,
}

impl AppState {
    /// The engine options of `filters` under `rules`, with the server's threads, building file
    /// and footer cache.
    pub fn engine_options(
        &self,
        filters: &Filters,
        rules: cqlake_query::RuleSet,
    ) -> cqlake_query::EngineOptions {
        let o = &self.options;
        filters
            .engine_options(rules, o.threads, o.buildings.as_deref())
            .with_footer_cache(self.footers.clone())
    }

    /// [`AppState::engine_options`] for the heavy queries: on the cluster, if the server has
    /// one (the rollups' computation and the reports).
    pub fn heavy_options(
        &self,
        filters: &Filters,
        rules: cqlake_query::RuleSet,
    ) -> cqlake_query::EngineOptions {
        let options = self.engine_options(filters, rules);
        match &self.options.cluster {
            Some((runner, partitions)) => options
                .with_runner(runner.clone())
                .with_threads(*partitions),
            None => options,
        }
    }
}

pub(crate) fn router(state: Arc<AppState>) -> Router {
    let api = Router::new()
        .route("/api/reports", get(reports))
        .route("/api/reports/{name}", get(report))
        .route("/api/info", get(info))
        .route("/api/views", get(views))
        .route("/api/views/{name}", get(view))
        .route("/api/{*rest}", get(no_api))
        .route("/assets/{file}", get(crate::assets::asset))
        .fallback(get(crate::assets::page));
    let api = match state.options.password.clone() {
        Some(p) => api.layer(axum::middleware::from_fn_with_state(
            p,
            crate::auth::require_password,
        )),
        None => api,
    };
    api.layer(axum::middleware::from_fn(crate::assets::security_headers))
        .with_state(state)
}

/// `GET /api/reports`: `[{name, description}]`.
async fn reports() -> Response {
    let list: Vec<_> = REPORTS
        .iter()
        .map(|r| serde_json::json!({"name": r.name, "description": r.description()}))
        .collect();
    axum::Json(list).into_response()
}

/// `GET /api/views`: `[{name, title, description}]`.
async fn views() -> Response {
    let none = Filters::default();
    let list: Vec<_> = VIEWS
        .iter()
        .map(|v| serde_json::json!({"name": v.name, "title": v.title(&none), "description": v.description(&none)}))
        .collect();
    axum::Json(list).into_response()
}

/// `GET /api/info`: what the page needs to know of the server: `{rules, rule_sets, buildings,
/// dimensions}` (the default rule set, every rule set, whether a building file was given, the
/// dimensions a breakdown can be by).
async fn info(State(state): State<Arc<AppState>>) -> Response {
    let o = &state.options;
    axum::Json(serde_json::json!({
        "rules": o.rules.name(),
        "rule_sets": cqlake_query::RuleSet::ALL.iter().map(|r| r.name()).collect::<Vec<_>>(),
        "buildings": o.buildings.is_some(),
        "dimensions": crate::filters::DIMENSIONS
            .iter()
            .map(|(d, words)| serde_json::json!({"name": d, "title": words}))
            .collect::<Vec<_>>(),
    }))
    .into_response()
}

async fn no_api(Path(rest): Path<String>) -> Error {
    Error::NotFound(format!("/api/{rest}: no such endpoint"))
}

/// Computes the rollups of the default rule set. A failure is left to the first request that
/// needs a rollup, which computes it again and answers the error.
pub(crate) async fn warm_up(state: Arc<AppState>) {
    let o = &state.options;
    let options = state.engine_options(&Filters::default(), o.rules);
    let heavy = state.heavy_options(&Filters::default(), o.rules);
    if let Ok(engine) = Engine::open(o.lake.clone(), options).await {
        let _ = state
            .rollups
            .apply(&engine, &cqlake_query::ROLLUPS, || {
                Engine::open(o.lake.clone(), heavy)
            })
            .await;
    }
}

/// Opens the lake at its last finished group with `filters`. A user's or a call's views read
/// few rows of many: the engine then evaluates filters while decoding, and reads only the days
/// they took part in — for a user, the days of the user rollup kept in memory (their streams
/// are then found by their own columns); for a call, the dates and ids of the calls it selects,
/// found first (see [`Filters::with_calls`]).
async fn open(state: &AppState, filters: &Filters) -> Result<Engine> {
    let o = &state.options;
    let rules = filters.rules_or(o.rules);
    let options = state.engine_options(filters, rules);
    let Some(user) = filters.user.as_deref().filter(|_| filters.call.is_none()) else {
        if filters.call.is_none() {
            return Ok(Engine::open(o.lake.clone(), options).await?);
        }
        return open_calls(state, options.with_filter_pushdown(true)).await;
    };
    let options = options.with_filter_pushdown(true);
    let users = Rollup::named("user_rollup").expect("one of the rollups");
    // The user rollup as kept: one opening of the lake when no group has finished since.
    if let Some((known, rows)) = state.rollups.peek(&users, rules).await {
        let days = user_days(&rows, user, filters)?;
        let engine = Engine::open(o.lake.clone(), options.clone().with_days(days)).await?;
        if *engine.lake_state() == known {
            return Ok(engine);
        }
    }
    let unfiltered = || {
        Engine::open(
            o.lake.clone(),
            state.heavy_options(&Filters::default(), rules),
        )
    };
    let probe = Engine::open(
        o.lake.clone(),
        state.engine_options(&Filters::default(), rules),
    )
    .await?;
    let options = match state.rollups.apply(&probe, &[users], unfiltered).await? {
        RollupUse::Cached { .. } => match state.rollups.peek(&users, rules).await {
            Some((_, rows)) => options.with_days(user_days(&rows, user, filters)?),
            None => options,
        },
        // A lake with no versions (a Parquet export): every day, the user's streams by their
        // columns.
        RollupUse::Computed => options,
    };
    Ok(Engine::open(o.lake.clone(), options).await?)
}

/// The days (`YYYY-MM-DD`, within the filters' dates; the empty string for calls with no
/// start) on which `user` took part in a call, from `user_rollup`'s rows.
fn user_days(
    rows: &[arrow::array::RecordBatch],
    user: &str,
    filters: &Filters,
) -> Result<std::collections::BTreeSet<String>> {
    let mut days = std::collections::BTreeSet::new();
    for b in rows {
        let column = |name: &str| {
            b.schema().index_of(name).map_err(|_| {
                Error::Query(cqlake_query::Error::Plan(format!(
                    "user_rollup has no column {name}"
                )))
            })
        };
        let ids = utf8(b, column("user_id")?)?;
        let ids = ids.as_string::<i32>();
        let day = b.column(column("day")?);
        let day = day
            .as_primitive_opt::<arrow::datatypes::Date32Type>()
            .ok_or_else(|| {
                Error::Query(cqlake_query::Error::Plan(
                    "user_rollup's day is not a DATE".into(),
                ))
            })?;
        // Only the user's rows are formatted.
        for i in (0..b.num_rows()).filter(|&i| !ids.is_null(i) && ids.value(i) == user) {
            let d = match day.is_null(i) {
                true => String::new(),
                false => cqlake_schema::calendar::format_date(day.value(i).into()),
            };
            let within = filters.from.as_deref().is_none_or(|f| d.as_str() >= f)
                && filters.to.as_deref().is_none_or(|t| d.as_str() <= t);
            // (A call with no start date is outside any date window, as the engine's.)
            if within {
                days.insert(d);
            }
        }
    }
    Ok(days)
}

/// Column `i` of `b` as UTF-8 strings (the engine may answer other string types).
fn utf8(b: &arrow::array::RecordBatch, i: usize) -> Result<arrow::array::ArrayRef> {
    arrow::compute::cast(b.column(i), &arrow::datatypes::DataType::Utf8)
        .map_err(|e| Error::Query(e.into()))
}

/// The engine of `options` (a call's filter) narrowed to the dates and ids of the calls it
/// selects, found first; beyond [`MAX_LISTED_CALLS`], the engine finds them for each table.
async fn open_calls(state: &AppState, options: cqlake_query::EngineOptions) -> Result<Engine> {
    let o = &state.options;
    let probe = Engine::open(o.lake.clone(), options.clone()).await?;
    let calls = probe
        .sql(&format!(
            "SELECT DISTINCT call_id, CAST({PARTITION_COLUMN} AS VARCHAR) AS day FROM calls \
             LIMIT {}",
            MAX_LISTED_CALLS + 1
        ))
        .await?;
    let mut listed = Vec::new();
    for b in &calls.batches {
        let (ids, days) = (utf8(b, 0)?, utf8(b, 1)?);
        let (ids, days) = (ids.as_string::<i32>(), days.as_string::<i32>());
        for i in 0..b.num_rows() {
            let day = if days.is_null(i) { "" } else { days.value(i) };
            listed.push((ids.value(i).to_string(), day.to_string()));
        }
    }
    if listed.len() > MAX_LISTED_CALLS {
        return Ok(probe);
    }
    let narrowed = options.with_call_filter(Filters::with_calls(&listed));
    Ok(Engine::open(o.lake.clone(), narrowed).await?)
}

/// The most calls a call's views list by id (their dates prune the lake's partitions); beyond,
/// the engine finds them itself for each table.
const MAX_LISTED_CALLS: usize = 20_000;

/// The rows as `cqlake … --format json` prints them.
fn json_rows(rows: &Rows) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    cqlake_query::write(rows, Format::Json, &mut out)?;
    Ok(out)
}

fn json_response(body: Vec<u8>) -> Response {
    let mut r = body.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// `GET /api/reports/{name}?from=&to=&rules=`: exactly the rows of `cqlake report NAME
/// --format json` with the same options.
async fn report(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    Query(params): Query<BTreeMap<String, String>>,
) -> Result<Response> {
    if let Some(k) = params
        .keys()
        .find(|k| !["from", "to", "rules"].contains(&k.as_str()))
    {
        return Err(Error::BadRequest(format!(
            "unknown parameter {k:?} (a report takes from, to and rules)"
        )));
    }
    let Some(r) = Report::named(&name) else {
        return Err(Error::NotFound(format!(
            "{name:?}: no such report (GET /api/reports lists them)"
        )));
    };
    if r.name == "buildings" && state.options.buildings.is_none() {
        return Err(Error::BadRequest(
            "the buildings report needs the server started with --buildings FILE.csv".into(),
        ));
    }
    let filters = Filters::parse(&params)?;
    let options = state.heavy_options(&filters, filters.rules_or(state.options.rules));
    let engine = Engine::open(state.options.lake.clone(), options).await?;
    let rows = engine.sql(r.sql).await?;
    Ok(json_response(json_rows(&rows)?))
}

/// `GET /api/views/{name}?filters`: `{view, title, description, filters, unused, rules, sql,
/// columns, rows}` (`filters` in words, `unused` the parameters given that this view does not
/// use, `columns` in the query's order; each row an object, as `--format json` writes it).
async fn view(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    Query(params): Query<BTreeMap<String, String>>,
) -> Result<Response> {
    let Some(v) = View::named(&name) else {
        return Err(Error::NotFound(format!(
            "{name:?}: no such view (GET /api/views lists them)"
        )));
    };
    let filters = Filters::parse(&params)?;
    let rules = filters.rules_or(state.options.rules);
    let engine = open(&state, &filters).await?;
    let sql = v.render(&filters);
    // The trends and breakdowns read the rollups kept in memory; a user's or a call's views
    // narrow the raw tables themselves, where the rollups are quick to compute.
    let mut rollup = serde_json::Value::Null;
    let rollups = Rollup::read_by(&sql);
    if !rollups.is_empty() && filters.user.is_none() && filters.call.is_none() {
        let o = &state.options;
        let unfiltered = state.heavy_options(&Filters::default(), rules);
        rollup = match state
            .rollups
            .apply(&engine, &rollups, || {
                Engine::open(o.lake.clone(), unfiltered)
            })
            .await?
        {
            RollupUse::Cached { computed } => {
                serde_json::json!({"cached": true, "computed_dates": computed.len()})
            }
            RollupUse::Computed => serde_json::json!({"cached": false}),
        };
    }
    let rows = engine.sql(&sql).await?;
    let columns: Vec<&str> = rows
        .schema
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect();
    let meta = serde_json::json!({
        "view": v.name,
        "title": v.title(&filters),
        "description": v.description(&filters),
        "filters": filters.describe(rules),
        "unused": v.unused(&filters),
        "rules": rules.name(),
        "sql": sql,
        "rollup": rollup,
        "columns": columns,
    });
    Ok(json_response(with_rows(meta, &json_rows(&rows)?)))
}

/// The object `meta` with a last member `"rows"`: `rows`, JSON as `cqlake_query::write` wrote
/// it. Spliced, not parsed: a parse and print could move a float by its last digit.
pub(crate) fn with_rows(meta: serde_json::Value, rows: &[u8]) -> Vec<u8> {
    let mut out = meta.to_string().into_bytes();
    debug_assert_eq!(out.last(), Some(&b'}'));
    out.pop();
    if out.len() > 1 {
        out.push(b',');
    }
    out.extend_from_slice(br#""rows":"#);
    out.extend_from_slice(rows.trim_ascii_end());
    out.push(b'}');
    out
}

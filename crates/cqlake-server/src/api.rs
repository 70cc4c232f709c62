//! The routes: the JSON API, the page and its assets.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use cqlake_query::{Engine, Format, REPORTS, Report, Rows};

use crate::dashboard::{VIEWS, View};
use crate::filters::Filters;
use crate::{Error, Result, ServerOptions};

/// What every request shares.
pub(crate) struct AppState {
    pub options: ServerOptions,
}

pub(crate) fn router(state: Arc<AppState>) -> Router {
    let api = Router::new()
        .route("/api/reports", get(reports))
        .route("/api/reports/{name}", get(report))
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
    let list: Vec<_> = VIEWS
        .iter()
        .map(|v| serde_json::json!({"name": v.name, "title": v.title(), "description": v.description(None)}))
        .collect();
    axum::Json(list).into_response()
}

async fn no_api(Path(rest): Path<String>) -> Error {
    Error::NotFound(format!("/api/{rest}: no such endpoint"))
}

/// Opens the lake at its last finished group with `filters`.
async fn open(state: &AppState, filters: &Filters) -> Result<Engine> {
    let o = &state.options;
    let options = filters.engine_options(o.threads, o.buildings.as_deref());
    Ok(Engine::open(&o.lake, options).await?)
}

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
    let filters = Filters::parse(&params, state.options.rules)?;
    let engine = open(&state, &filters).await?;
    let rows = engine.sql(r.sql).await?;
    Ok(json_response(json_rows(&rows)?))
}

/// `GET /api/views/{name}?filters`: `{view, title, description, filters, rules, sql, columns,
/// rows}` (`columns` in the query's order; each row an object, as `--format json` writes it).
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
    let filters = Filters::parse(&params, state.options.rules)?;
    let engine = open(&state, &filters).await?;
    let sql = v.render(&filters);
    let rows = engine.sql(&sql).await?;
    let columns: Vec<&str> = rows
        .schema
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect();
    let rows: serde_json::Value = serde_json::from_slice(&json_rows(&rows)?)
        .map_err(|e| Error::Config(format!("the rows as JSON: {e}")))?;
    let body = serde_json::json!({
        "view": v.name,
        "title": v.title(),
        "description": v.description(Some(filters.grain)),
        "filters": filters.describe(),
        "rules": filters.rules.name(),
        "sql": sql,
        "columns": columns,
        "rows": rows,
    });
    Ok(axum::Json(body).into_response())
}

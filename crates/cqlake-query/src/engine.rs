//! The engine: one DataFusion session over a lake.

use std::path::Path;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use datafusion::execution::cache::cache_manager::{
    CacheManager, CacheManagerConfig, FileMetadataCache,
};
use datafusion::execution::memory_pool::FairSpillPool;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::{SQLOptions, SessionConfig, SessionContext};

use cqlake_schema::PARTITION_COLUMN;

use crate::{Error, Result, RuleSet};

/// Settings of an [`Engine`].
#[derive(Debug, Clone)]
pub struct EngineOptions {
    threads: usize,
    memory_limit: Option<usize>,
    rules: RuleSet,
    dates: (Option<String>, Option<String>),
    call_filter: Option<String>,
    days: Option<Vec<String>>,
    table_filters: Vec<(cqlake_schema::TableId, String)>,
    buildings: Option<std::path::PathBuf>,
    filter_pushdown: bool,
    catalog: Option<String>,
    footers: Option<FooterCache>,
    runner: Option<Arc<dyn Runner>>,
}

/// Where an [`Engine`]'s queries are planned and run: in this process (the default), or
/// elsewhere, such as a cluster (`cqlake-cluster`), through a session whose query planner sends
/// them there. An engine with a runner registers the lake's tables as
/// [`FileTable`](cqlake_lake::FileTable)s, which a plan can carry to other processes.
#[async_trait::async_trait]
pub trait Runner: Send + Sync + std::fmt::Debug {
    /// A session with the settings of `config` and the runtime `runtime` (memory pool, object
    /// stores, caches) for the engine to register the lake, its views and its functions in.
    async fn session(
        &self,
        config: SessionConfig,
        runtime: Arc<datafusion::execution::runtime_env::RuntimeEnv>,
    ) -> datafusion::error::Result<SessionContext>;
}

/// The scalar functions every engine registers (the views and rule sets call them): a plan
/// names them, so whatever runs a plan elsewhere registers the same.
pub fn functions() -> Vec<datafusion::logical_expr::ScalarUDF> {
    vec![
        crate::udf::ipv4(),
        crate::udf::if_else(),
        crate::udf::media_kind(),
    ]
}

/// Parquet footers (each data file's metadata and page index) kept between the engines that
/// share it, up to a size: a long-running reader (`cqlake serve`) then parses a file's footer
/// once, not on every query. Entries are keyed by path, size and modification time, and a
/// lake's data files never change, so a kept footer is always the file's.
#[derive(Clone)]
pub struct FooterCache {
    cache: Arc<FileMetadataCache>,
    limit: usize,
}

impl FooterCache {
    /// A cache of at most `bytes` of footers (the least recently used go first).
    pub fn new(bytes: usize) -> Result<FooterCache> {
        let config = CacheManagerConfig::default().with_metadata_cache_limit(bytes);
        let manager = CacheManager::try_new(&config)?;
        Ok(FooterCache {
            cache: manager.get_file_metadata_cache(),
            limit: bytes,
        })
    }

    /// The footers it holds (one per data file read).
    pub fn files(&self) -> usize {
        self.cache.len()
    }

    /// How often a footer it holds was read from it instead of the file, in all.
    pub fn hits(&self) -> usize {
        self.cache.list_entries().values().map(|e| e.hits).sum()
    }
}

impl std::fmt::Debug for FooterCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FooterCache")
            .field("limit", &self.limit)
            .field("files", &self.files())
            .finish()
    }
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
            memory_limit: None,
            rules: RuleSet::default(),
            dates: (None, None),
            call_filter: None,
            days: None,
            table_filters: Vec::new(),
            buildings: None,
            filter_pushdown: false,
            catalog: None,
            footers: None,
            runner: None,
        }
    }
}

impl EngineOptions {
    /// Threads (DataFusion's target partitions). Default: the number of CPUs.
    pub fn with_threads(mut self, n: usize) -> Self {
        self.threads = n.max(1);
        self
    }

    /// The classification rule set behind `stream_quality`. Default [`RuleSet::Classic`].
    pub fn with_rules(mut self, rules: RuleSet) -> Self {
        self.rules = rules;
        self
    }

    /// Only calls that started from `from` to `to` (UTC dates `YYYY-MM-DD`, both included;
    /// either may be open): every table and view sees only their rows.
    pub fn with_dates(mut self, from: Option<String>, to: Option<String>) -> Self {
        self.dates = (from, to);
        self
    }

    /// Only calls that started on one of `days` (UTC dates `YYYY-MM-DD`; the empty string for
    /// calls with no start), within the dates of [`EngineOptions::with_dates`]: the lake's
    /// partitions of other days are not read. Default: every day.
    pub fn with_days(mut self, days: impl IntoIterator<Item = String>) -> Self {
        self.days = Some(days.into_iter().collect());
        self
    }

    /// Only the rows of calls that pass `predicate`: a SQL condition on `call_id` and
    /// `call_start_date` (the columns every call table has; a subquery may read the unfiltered
    /// tables as `lake_calls`, `lake_participants`, …), applied to every call table like the
    /// dates. The caller quotes its literals. Default: every call.
    pub fn with_call_filter(mut self, predicate: impl Into<String>) -> Self {
        self.call_filter = Some(predicate.into());
        self
    }

    /// Only the rows of `table` that pass `predicate` (a SQL condition on its columns; the
    /// caller quotes its literals), in place of the call filter for that table; the dates still
    /// apply. For a narrower cut than whole calls where a table has the columns for it (a
    /// user's own streams: `streams` carries its session's identities). Default: none.
    pub fn with_table_filter(
        mut self,
        table: cqlake_schema::TableId,
        predicate: impl Into<String>,
    ) -> Self {
        self.table_filters.retain(|(t, _)| *t != table);
        self.table_filters.push((table, predicate.into()));
        self
    }

    /// Evaluates filters while decoding Parquet (DataFusion's `pushdown_filters`), in the order
    /// the plan gives them — the date, call and table filters first, so a query's own
    /// conditions (a classification) are evaluated only for the rows that pass those (DataFusion's
    /// `reorder_filters`, by the size of the columns a filter reads, put the classification first
    /// for a user's streams: 1.30 s against 0.98 s on 50 million streams). The other columns are
    /// decoded only for the rows that pass. Quick for a filter few rows pass (one call, one user's
    /// streams), slower for one most rows pass. Default: off, or DataFusion's setting from the
    /// environment (`DATAFUSION_EXECUTION_PARQUET_PUSHDOWN_FILTERS`).
    pub fn with_filter_pushdown(mut self, on: bool) -> Self {
        self.filter_pushdown = on;
        self
    }

    /// A building file in the layout of CQD's building data upload (CSV, with or without a
    /// header): registered as the view `buildings`, used by the `buildings` report.
    pub fn with_buildings(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.buildings = Some(path.into());
        self
    }

    /// The name of the catalog the tables and views are in (schema `public`), as a PostgreSQL
    /// client sees it as the database. Default: DataFusion's, `datafusion`.
    pub fn with_catalog(mut self, name: impl Into<String>) -> Self {
        self.catalog = Some(name.into());
        self
    }

    /// Keeps the Parquet footers the engine reads in `cache`, shared with the other engines
    /// given it (see [`FooterCache`]). Default: a cache of the engine's own, which goes with it.
    pub fn with_footer_cache(mut self, cache: FooterCache) -> Self {
        self.footers = Some(cache);
        self
    }

    /// Plans and runs the queries with `runner` instead of in this process. Default: in this
    /// process.
    pub fn with_runner(mut self, runner: Arc<dyn Runner>) -> Self {
        self.runner = Some(runner);
        self
    }

    /// Bytes the operators that can spill (sorts, aggregations, joins) may hold before they
    /// spill to disk or fail. Default: no limit.
    pub fn with_memory_limit(mut self, bytes: usize) -> Self {
        self.memory_limit = Some(bytes);
        self
    }
}

/// The result of a query.
#[derive(Debug, Clone)]
pub struct Rows {
    /// Its columns.
    pub schema: SchemaRef,
    /// Its rows.
    pub batches: Vec<RecordBatch>,
}

/// A read-only SQL session over a lake: the tables `calls`, `participants`, `sessions`,
/// `segments`, `media` and `streams`, each at the version the last finished convert group
/// recorded, the view `streams_wide` (every stream with every context column of its media,
/// segment, session and call), and the views `stream_kind`, `stream_audio`, `stream_quality`, `stream_sides`,
/// `stream_rollup`, `session_rollup`, `rated_rollup`, `user_rollup`, `receiver_rollup`,
/// `buildings`,
/// `subnet_buildings` and `call_flow` (see `sql/`).
pub struct Engine {
    ctx: SessionContext,
    rules: RuleSet,
    lake: cqlake_lake::LakeState,
}

impl Engine {
    /// Opens the lake at `lake` (a directory, or a [`LakeLocation`](cqlake_lake::LakeLocation)
    /// on an object store).
    pub async fn open(
        lake: impl Into<cqlake_lake::LakeLocation>,
        options: EngineOptions,
    ) -> Result<Engine> {
        let lake = lake.into();
        // DataFusion's settings can be tuned from the environment, as in datafusion-cli
        // (`DATAFUSION_EXECUTION_BATCH_SIZE=…`); the thread count is cqlake's.
        let mut config = SessionConfig::from_env()?
            .with_target_partitions(options.threads)
            .with_information_schema(true);
        if let Some(catalog) = &options.catalog {
            config = config.with_default_catalog_and_schema(catalog, "public");
        }
        // Partial aggregation is skipped from one group per 10 rows (DataFusion: 8 per 10):
        // `summary`'s call legs (about one group per 3 streams) then take 2.3 GB instead of
        // 4.1 GB on 50 million streams, in the same time.
        if std::env::var_os("DATAFUSION_EXECUTION_SKIP_PARTIAL_AGGREGATION_PROBE_RATIO_THRESHOLD")
            .is_none()
        {
            config
                .options_mut()
                .execution
                .skip_partial_aggregation_probe_ratio_threshold = 0.1;
        }
        if options.filter_pushdown {
            let parquet = &mut config.options_mut().execution.parquet;
            parquet.pushdown_filters = true;
            parquet.reorder_filters = false;
        }
        let mut runtime = RuntimeEnvBuilder::new();
        if let Some(limit) = options.memory_limit {
            runtime = runtime.with_memory_pool(Arc::new(FairSpillPool::new(limit)));
        }
        if let Some(f) = &options.footers {
            runtime = runtime.with_cache_manager(
                CacheManagerConfig::default()
                    .with_file_metadata_cache(Some(f.cache.clone()))
                    .with_metadata_cache_limit(f.limit),
            );
        }
        let ctx = match &options.runner {
            None => SessionContext::new_with_config_rt(config, runtime.build_arc()?),
            Some(r) => r.session(config, runtime.build_arc()?).await?,
        };
        let state = match options.runner {
            None => cqlake_lake::register_lake(&ctx, &lake).await?,
            Some(_) => cqlake_lake::register_lake_files(&ctx, &lake).await?,
        };
        let mut window = Vec::new();
        for (d, op) in [(&options.dates.0, ">="), (&options.dates.1, "<=")] {
            if let Some(d) = d {
                let valid = d.len() == 10
                    && d.bytes().enumerate().all(|(i, b)| {
                        if i == 4 || i == 7 {
                            b == b'-'
                        } else {
                            b.is_ascii_digit()
                        }
                    });
                if !valid {
                    return Err(Error::Plan(format!("{d:?} is not a date (YYYY-MM-DD)")));
                }
                window.push(format!("{PARTITION_COLUMN} {op} DATE '{d}'"));
            }
        }
        if let Some(days) = &options.days {
            window.push(format!(
                "({})",
                crate::dates_condition(PARTITION_COLUMN, days.iter().map(String::as_str))
            ));
        }
        if !window.is_empty() || options.call_filter.is_some() || !options.table_filters.is_empty()
        {
            // Every table under its raw name first: a filter's subquery may read any of them.
            for t in cqlake_schema::TableId::ALL.map(|t| t.name()) {
                let provider = ctx.deregister_table(t)?.expect("registered above");
                ctx.register_table(format!("lake_{t}").as_str(), provider)?;
            }
            for t in cqlake_schema::TableId::ALL {
                let own = options.table_filters.iter().find(|(x, _)| *x == t);
                let mut conditions = window.clone();
                if let Some(p) = own.map(|(_, p)| p).or(options.call_filter.as_ref()) {
                    conditions.push(format!("({p})"));
                }
                let sql = match conditions.is_empty() {
                    true => format!("SELECT * FROM lake_{}", t.name()),
                    false => format!(
                        "SELECT * FROM lake_{} WHERE {}",
                        t.name(),
                        conditions.join(" AND ")
                    ),
                };
                ctx.register_table(t.name(), view(&ctx, &sql).await?)?;
            }
        }
        let wide = crate::wide::plan(&ctx).await?;
        ctx.register_table(
            crate::wide::STREAMS_WIDE,
            datafusion::dataframe::DataFrame::new(ctx.state(), wide).into_view(),
        )?;
        for f in functions() {
            ctx.register_udf(f);
        }
        // Without a building file, `buildings` (and so `subnet_buildings`) is empty: the
        // dashboard's building queries then run unchanged and find no building.
        ctx.register_batch(
            "buildings_file",
            read_buildings(options.buildings.as_deref())?,
        )?;
        let buildings = ctx
            .sql(include_str!("../../../sql/views/buildings.sql"))
            .await?
            .into_view();
        ctx.register_table("buildings", buildings)?;
        for (name, query) in crate::rules::views(options.rules) {
            ctx.register_table(name, view(&ctx, query).await?)?;
        }
        for (name, query) in [
            (
                "stream_rollup",
                include_str!("../../../sql/views/stream_rollup.sql"),
            ),
            (
                "receiving_subnets",
                include_str!("../../../sql/views/receiving_subnets.sql"),
            ),
            (
                "subnet_buildings",
                include_str!("../../../sql/views/subnet_buildings.sql"),
            ),
            (
                "feedback_tokens",
                include_str!("../../../sql/views/feedback_tokens.sql"),
            ),
            (
                "rated_audio_streams",
                include_str!("../../../sql/views/rated_audio_streams.sql"),
            ),
            (
                "rated_rollup",
                include_str!("../../../sql/views/rated_rollup.sql"),
            ),
            (
                "session_rollup",
                include_str!("../../../sql/views/session_rollup.sql"),
            ),
            (
                "user_rollup",
                include_str!("../../../sql/views/user_rollup.sql"),
            ),
            (
                "receiver_rollup",
                include_str!("../../../sql/views/receiver_rollup.sql"),
            ),
        ] {
            ctx.register_table(name, view(&ctx, query).await?)?;
        }
        // Rule-free, and narrow: planned by DataFusion as it is.
        ctx.register_table(
            "call_flow",
            view(&ctx, include_str!("../../../sql/views/call_flow.sql")).await?,
        )?;
        Ok(Engine {
            ctx,
            rules: options.rules,
            lake: state,
        })
    }

    /// The rule set behind `stream_quality`.
    pub fn rules(&self) -> RuleSet {
        self.rules
    }

    /// The files this engine reads, by table and date (whatever its date and call filters).
    pub fn lake_state(&self) -> &cqlake_lake::LakeState {
        &self.lake
    }

    /// Reads the view `rollup` (one of [`crate::ROLLUPS`]) from `rows` instead of computing it
    /// from the raw tables (a table of the view's columns and rows, e.g. kept in memory by a
    /// server), and the views over it with it. The caller keeps `rows` equal to the view over
    /// the files this engine reads.
    pub async fn use_rollup(
        &self,
        rollup: &crate::Rollup,
        rows: Arc<dyn datafusion::catalog::TableProvider>,
    ) -> Result<()> {
        self.ctx.deregister_table(rollup.name)?;
        self.ctx.register_table(rollup.name, rows)?;
        for (reader, query) in rollup.readers() {
            self.ctx.deregister_table(*reader)?;
            self.ctx
                .register_table(*reader, view(&self.ctx, query).await?)?;
        }
        Ok(())
    }

    /// The DataFusion session (to register views and functions).
    pub fn context(&self) -> &SessionContext {
        &self.ctx
    }

    /// The first and last start dates (`YYYY-MM-DD`, UTC) of the calls this engine sees (within
    /// its date window), or `None` when it sees no call: what a report covers.
    pub async fn call_dates(&self) -> Result<Option<(String, String)>> {
        use arrow::array::{Array, AsArray};
        use arrow::datatypes::Date32Type;
        let rows = self
            .sql(&format!(
                "SELECT min({PARTITION_COLUMN}) AS first, max({PARTITION_COLUMN}) AS last FROM calls"
            ))
            .await?;
        let Some(b) = rows.batches.iter().find(|b| b.num_rows() > 0) else {
            return Ok(None);
        };
        let date = |i: usize| {
            let c = b.column(i).as_primitive::<Date32Type>();
            (!c.is_null(0)).then(|| cqlake_schema::calendar::format_date(c.value(0).into()))
        };
        Ok(date(0).zip(date(1)))
    }

    /// Runs one query. Statements that would change something (DDL, DML, `COPY`, `SET`,
    /// `CREATE EXTERNAL TABLE`, which could also read files outside the lake) are refused.
    pub async fn sql(&self, query: &str) -> Result<Rows> {
        let read_only = SQLOptions::new()
            .with_allow_ddl(false)
            .with_allow_dml(false)
            .with_allow_statements(false);
        let df = self
            .ctx
            .sql_with_options(query, read_only)
            .await
            .map_err(|e| match e {
                datafusion::error::DataFusionError::Plan(m)
                    if m.contains("not supported") || m.contains("Unsupported") =>
                {
                    Error::NotAQuery(format!(
                        "only queries run here (the lake is read-only): {m}"
                    ))
                }
                e => short(e),
            })?;
        let schema = Arc::new(df.schema().as_arrow().clone());
        Ok(Rows {
            schema,
            batches: df.collect().await.map_err(short)?,
        })
    }
}

/// The view defined by the query `sql`, planned by [`crate::views::plan`].
async fn view(
    ctx: &SessionContext,
    sql: &str,
) -> Result<Arc<dyn datafusion::catalog::TableProvider>> {
    let plan = crate::views::plan(ctx, sql).await?;
    Ok(datafusion::dataframe::DataFrame::new(ctx.state(), plan).into_view())
}

/// DataFusion's error, without the list of every valid field it appends to an unknown column
/// (streams alone has 202, streams_wide 978).
fn short(e: datafusion::error::DataFusionError) -> Error {
    let text = e.strip_backtrace();
    match text.find("\nValid fields are") {
        Some(at) => Error::Plan(format!(
            "{} (`cqlake schema TABLE` lists the columns)",
            &text[..at]
        )),
        None => Error::Sql(Box::new(e)),
    }
}

/// The columns of CQD's building data upload, in order.
const BUILDING_COLUMNS: [&str; 15] = [
    "network",
    "network_name",
    "network_range",
    "building_name",
    "ownership_type",
    "building_type",
    "office_type",
    "city",
    "zip_code",
    "country",
    "state",
    "region",
    "inside_corp",
    "express_route",
    "vpn",
];

/// Reads a building file: CSV (or tab-separated), 15 columns, a header line or not; no rows
/// without one.
fn read_buildings(path: Option<&Path>) -> Result<RecordBatch> {
    use arrow::array::StringArray;
    let text = match path {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| Error::Plan(format!("{}: {e}", path.display())))?,
        None => String::new(),
    };
    let path = path.unwrap_or(Path::new("(none)"));
    let mut columns: Vec<Vec<Option<String>>> = vec![Vec::new(); BUILDING_COLUMNS.len()];
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let sep = if line.contains('\t') { '\t' } else { ',' };
        let fields: Vec<&str> = line
            .split(sep)
            .map(|f| f.trim().trim_matches('"'))
            .collect();
        if n == 0 && fields[0].parse::<std::net::Ipv4Addr>().is_err() {
            continue; // a header
        }
        if fields.len() != BUILDING_COLUMNS.len() {
            return Err(Error::Plan(format!(
                "{}:{}: {} fields, a building row has {} ({})",
                path.display(),
                n + 1,
                fields.len(),
                BUILDING_COLUMNS.len(),
                BUILDING_COLUMNS.join(", ")
            )));
        }
        for (c, f) in columns.iter_mut().zip(fields) {
            c.push((!f.is_empty()).then(|| f.to_string()));
        }
    }
    let schema = Arc::new(arrow::datatypes::Schema::new(
        BUILDING_COLUMNS
            .iter()
            .map(|n| arrow::datatypes::Field::new(*n, arrow::datatypes::DataType::Utf8, true))
            .collect::<Vec<_>>(),
    ));
    let arrays = columns
        .into_iter()
        .map(|c| Arc::new(StringArray::from(c)) as arrow::array::ArrayRef)
        .collect();
    RecordBatch::try_new(schema, arrays).map_err(|e| Error::Plan(e.to_string()))
}

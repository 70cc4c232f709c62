//! A connection's session: a DataFusion context over the lake (its tables and views, every
//! built-in report as a view `report_NAME`, `pg_catalog`, PostgreSQL's `information_schema`,
//! `version()`), served by `datafusion-postgres`. Before each statement the connection looks at
//! the lake's fingerprint: when anything was committed since, it opens the lake again, so every
//! statement reads the last finished group, as each request of the web server does.

use std::collections::HashSet;
use std::fmt::Debug;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::logical_expr::{ColumnarValue, LogicalPlan, Volatility, create_udf};
use datafusion::sql::sqlparser;
use datafusion_postgres::datafusion_pg_catalog::pg_catalog::context::EmptyContextProvider;
use datafusion_postgres::datafusion_pg_catalog::setup_pg_catalog;
use datafusion_postgres::hooks::cursor::CursorStatementHook;
use datafusion_postgres::hooks::set_show::SetShowHook;
use datafusion_postgres::hooks::transactions::TransactionStatementHook;
use datafusion_postgres::{DfSessionService, QueryHook, pgwire};
use futures::Sink;
use pgwire::api::cancel::DefaultCancelHandler;
use pgwire::api::portal::{Format, Portal};
use pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use pgwire::api::results::{FieldInfo, Response};
use pgwire::api::stmt::{QueryParser, StoredStatement};
use pgwire::api::store::PortalStore;
use pgwire::api::{
    ClientInfo, ClientPortalStore, ConnectionManager, ErrorHandler, METADATA_USER,
    PgWireServerHandlers, Type,
};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::PgWireBackendMessage;

use crate::auth::{Login, Startup};
use crate::guard::ReadOnly;
use crate::{DATABASE, PgOptions};

/// A statement as datafusion-postgres keeps it: its text, and its parsed form and plan.
type DfStatement = (String, Option<(sqlparser::ast::Statement, LogicalPlan)>);

/// What every connection shares.
pub(crate) struct Shared {
    options: PgOptions,
    login: Option<Login>,
    connections: Arc<ConnectionManager>,
    cancel: Arc<DefaultCancelHandler>,
}

impl Shared {
    pub(crate) fn new(options: PgOptions) -> Shared {
        let connections = Arc::new(ConnectionManager::new());
        Shared {
            login: options.password.as_ref().map(Login::new),
            cancel: Arc::new(DefaultCancelHandler::new(connections.clone())),
            connections,
            options,
        }
    }

    /// Opens the lake once, so that a wrong lake is an error at start, not at the first client.
    pub(crate) async fn check(&self) -> crate::Result<()> {
        self.open(Arc::new(AtomicBool::new(false))).await?;
        Ok(())
    }

    /// A session over the lake at its last finished group.
    async fn open(&self, reset: Arc<AtomicBool>) -> Result<DfSessionService, cqlake_query::Error> {
        let o = &self.options;
        let mut options = cqlake_query::EngineOptions::default()
            .with_rules(o.rules)
            .with_catalog(DATABASE);
        if let Some(n) = o.threads {
            options = options.with_threads(n);
        }
        if let Some(b) = &o.buildings {
            options = options.with_buildings(b);
        }
        let engine = cqlake_query::Engine::open(o.lake.clone(), options).await?;
        let ctx = engine.context().clone();
        for report in cqlake_query::REPORTS {
            let view = ctx.sql(report.sql).await?.into_view();
            ctx.register_table(report_view(report.name), view)?;
        }
        setup_pg_catalog(&ctx, DATABASE, EmptyContextProvider).map_err(|e| *e)?;
        crate::information_schema::register(&ctx, DATABASE).await?;
        ctx.register_udf(version_udf());
        let hooks: Vec<Arc<dyn QueryHook>> = vec![
            Arc::new(ReadOnly { reset }),
            Arc::new(CursorStatementHook),
            Arc::new(SetShowHook),
            Arc::new(TransactionStatementHook),
        ];
        Ok(DfSessionService::new_with_hooks(Arc::new(ctx), hooks))
    }
}

/// The view a built-in report is under: `report_` and its name, `-` as `_`.
pub(crate) fn report_view(report: &str) -> String {
    format!("report_{}", report.replace('-', "_"))
}

/// `version()` as PostgreSQL words it (clients read the version from it), saying what answers.
fn version_udf() -> datafusion::logical_expr::ScalarUDF {
    let text = format!(
        "PostgreSQL {} on {}-{}, cqlake {} with Apache DataFusion {}",
        crate::auth::server_version()
            .split(' ')
            .next()
            .unwrap_or_default(),
        std::env::consts::ARCH,
        std::env::consts::OS,
        env!("CARGO_PKG_VERSION"),
        datafusion::DATAFUSION_VERSION,
    );
    create_udf(
        "version",
        vec![],
        DataType::Utf8,
        Volatility::Stable,
        Arc::new(move |_| Ok(ColumnarValue::Scalar(ScalarValue::Utf8(Some(text.clone()))))),
    )
}

/// A connection's current session, opened again when the lake changed or the client reset it.
struct Current {
    shared: Arc<Shared>,
    session: Mutex<Option<(u64, Arc<DfSessionService>)>>,
    reset: Arc<AtomicBool>,
    /// The statements (their text) planned in the current session: a prepared statement
    /// planned in an earlier one is planned again before it runs, so it reads the lake as it
    /// is now, not as it was (and not files an optimize and a vacuum have since removed).
    planned: Mutex<HashSet<String>>,
}

/// At most this many planned statements are remembered (then all are forgotten, and planned
/// again when they run).
const PLANNED_LIMIT: usize = 10_000;

impl Current {
    /// The session to run the next statement in.
    async fn session(&self) -> PgWireResult<Arc<DfSessionService>> {
        let fingerprint = cqlake_query::lake_fingerprint(&self.shared.options.lake).await;
        let reset = self.reset.load(Ordering::SeqCst);
        if !reset
            && let Some((f, s)) = &*self.session.lock().expect("not poisoned")
            && *f == fingerprint
        {
            return Ok(s.clone());
        }
        let session = Arc::new(
            self.shared
                .open(self.reset.clone())
                .await
                .map_err(lake_error)?,
        );
        self.reset.store(false, Ordering::SeqCst);
        self.planned.lock().expect("not poisoned").clear();
        *self.session.lock().expect("not poisoned") = Some((fingerprint, session.clone()));
        Ok(session)
    }

    /// Remembers that `text` was planned in the current session.
    fn planned(&self, text: &str) {
        let mut planned = self.planned.lock().expect("not poisoned");
        if planned.len() >= PLANNED_LIMIT {
            planned.clear();
        }
        planned.insert(text.to_string());
    }

    /// Whether `text` was planned in the current session.
    fn is_planned(&self, text: &str) -> bool {
        self.planned.lock().expect("not poisoned").contains(text)
    }

    /// The session the last statement was parsed in.
    fn last(&self) -> PgWireResult<Arc<DfSessionService>> {
        self.session
            .lock()
            .expect("not poisoned")
            .as_ref()
            .map(|(_, s)| s.clone())
            .ok_or_else(|| io_error("no session yet: the statement was not parsed".to_string()))
    }
}

/// The lake could not be opened: SQLSTATE 58030 (io_error), with every cause.
fn lake_error(e: cqlake_query::Error) -> PgWireError {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    io_error(format!("cannot read the lake: {text}"))
}

fn io_error(text: String) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "ERROR".to_string(),
        "58030".to_string(),
        text,
    )))
}

/// The handlers of one connection.
pub(crate) struct Connection {
    current: Arc<Current>,
    parser: Arc<LakeParser>,
    startup: Arc<Startup>,
    cancel: Arc<DefaultCancelHandler>,
}

impl Connection {
    pub(crate) fn new(shared: Arc<Shared>) -> Connection {
        let current = Arc::new(Current {
            shared: shared.clone(),
            session: Mutex::new(None),
            reset: Arc::new(AtomicBool::new(false)),
            planned: Mutex::new(HashSet::new()),
        });
        Connection {
            parser: Arc::new(LakeParser {
                current: current.clone(),
            }),
            current,
            startup: Arc::new(Startup::new(
                shared.login.as_ref(),
                shared.options.tls.is_some(),
                shared.connections.clone(),
            )),
            cancel: shared.cancel.clone(),
        }
    }
}

/// The query handlers, over the connection's current session.
pub(crate) struct Queries {
    current: Arc<Current>,
    parser: Arc<LakeParser>,
}

impl PgWireServerHandlers for Connection {
    fn simple_query_handler(&self) -> Arc<impl SimpleQueryHandler> {
        Arc::new(Queries {
            current: self.current.clone(),
            parser: self.parser.clone(),
        })
    }

    fn extended_query_handler(&self) -> Arc<impl ExtendedQueryHandler> {
        Arc::new(Queries {
            current: self.current.clone(),
            parser: self.parser.clone(),
        })
    }

    fn startup_handler(&self) -> Arc<impl pgwire::api::auth::StartupHandler> {
        self.startup.clone()
    }

    fn cancel_handler(&self) -> Arc<impl pgwire::api::cancel::CancelHandler> {
        self.cancel.clone()
    }

    fn error_handler(&self) -> Arc<impl ErrorHandler> {
        Arc::new(Errors)
    }
}

/// Gives DataFusion's errors the SQLSTATE a client expects (an unknown table or column, a
/// syntax error), and the message without DataFusion's prefixes.
struct Errors;

impl ErrorHandler for Errors {
    fn on_error<C>(&self, client: &C, error: &mut PgWireError)
    where
        C: ClientInfo,
    {
        if let PgWireError::InvalidPassword(_) = error {
            // As PostgreSQL words it, with the user of the start-up (SCRAM's own message
            // carries an empty one).
            let user = client
                .metadata()
                .get(METADATA_USER)
                .cloned()
                .unwrap_or_default();
            *error = PgWireError::UserError(Box::new(ErrorInfo::new(
                "FATAL".to_string(),
                "28P01".to_string(),
                format!("password authentication failed for user \"{user}\""),
            )));
            return;
        }
        let PgWireError::ApiError(e) = error else {
            return;
        };
        let text = e.to_string();
        let code = if text.contains("SQL error: ParserError") || text.contains("sql parser error") {
            "42601"
        } else if text.contains("table '") && text.contains("not found") {
            "42P01"
        } else if text.contains("No field named") || text.contains("Schema error") {
            "42703"
        } else if text.contains("Invalid function") {
            "42883"
        } else {
            "XX000"
        };
        let text = text
            .split("\nValid fields are")
            .next()
            .unwrap_or_default()
            .to_string();
        *error = PgWireError::UserError(Box::new(ErrorInfo::new(
            "ERROR".to_string(),
            code.to_string(),
            text,
        )));
    }
}

#[async_trait]
impl SimpleQueryHandler for Queries {
    async fn do_query<C>(&self, client: &mut C, query: &str) -> PgWireResult<Vec<Response>>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let session = self.current.session().await?;
        let query = crate::compat::rewrite(query);
        <DfSessionService as SimpleQueryHandler>::do_query(&session, client, &query).await
    }
}

#[async_trait]
impl ExtendedQueryHandler for Queries {
    type Statement = DfStatement;
    type QueryParser = LakeParser;

    fn query_parser(&self) -> Arc<Self::QueryParser> {
        self.parser.clone()
    }

    async fn do_query<C>(
        &self,
        client: &mut C,
        portal: &Portal<Self::Statement>,
        max_rows: usize,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let session = self.current.session().await?;
        let text = &portal.statement.statement.0;
        if portal.statement.statement.1.is_none() || self.current.is_planned(text) {
            return <DfSessionService as ExtendedQueryHandler>::do_query(
                &session, client, portal, max_rows,
            )
            .await;
        }
        // Prepared before the lake changed: planned again over the lake as it is now.
        let Some(statement) = self
            .parser
            .parse_sql(client, text, &portal.statement.parameter_types)
            .await?
        else {
            return Ok(Response::EmptyQuery);
        };
        let mut again = Portal::new_cursor(
            portal.name.clone(),
            Arc::new(StoredStatement::new(
                portal.statement.id.clone(),
                statement,
                portal.statement.parameter_types.clone(),
            )),
        );
        again.parameter_format = portal.parameter_format.clone();
        again.parameters = portal.parameters.clone();
        again.result_column_format = portal.result_column_format.clone();
        again.state = portal.state.clone();
        <DfSessionService as ExtendedQueryHandler>::do_query(&session, client, &again, max_rows)
            .await
    }
}

/// Parses (and plans) a statement of the extended protocol in the connection's current session.
pub(crate) struct LakeParser {
    current: Arc<Current>,
}

#[async_trait]
impl QueryParser for LakeParser {
    type Statement = DfStatement;

    async fn parse_sql<C>(
        &self,
        client: &C,
        sql: &str,
        types: &[Option<Type>],
    ) -> PgWireResult<Option<Self::Statement>>
    where
        C: ClientInfo + Unpin + Send + Sync,
    {
        let session = self.current.session().await?;
        let parser = <DfSessionService as ExtendedQueryHandler>::query_parser(&session);
        let sql = crate::compat::rewrite(sql);
        let parsed = parser.parse_sql(client, &sql, types).await?;
        if let Some((text, Some((_, plan)))) = &parsed {
            // The guard refused what it could see in the statement; this is the plan's word.
            if matches!(
                plan,
                LogicalPlan::Ddl(_) | LogicalPlan::Dml(_) | LogicalPlan::Copy(_)
            ) {
                return Err(crate::guard::refused(crate::guard::read_only(
                    text.split_whitespace().next().unwrap_or_default(),
                )));
            }
            self.current.planned(text);
        }
        Ok(parsed)
    }

    fn get_parameter_types(&self, stmt: &Self::Statement) -> PgWireResult<Vec<Type>> {
        let session = self.current.last()?;
        <DfSessionService as ExtendedQueryHandler>::query_parser(&session).get_parameter_types(stmt)
    }

    fn get_result_schema(
        &self,
        stmt: &Self::Statement,
        column_format: Option<&Format>,
    ) -> PgWireResult<Vec<FieldInfo>> {
        let session = self.current.last()?;
        <DfSessionService as ExtendedQueryHandler>::query_parser(&session)
            .get_result_schema(stmt, column_format)
    }
}

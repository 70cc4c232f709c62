//! The lake is read-only through the PostgreSQL door: this hook, the first of every session,
//! lets through only what reads (queries, `EXPLAIN` of them, cursors, `SHOW`, `SET` of session
//! settings, transaction statements, which change nothing here) and refuses the rest with
//! SQLSTATE 25006 before anything is planned. It also answers `DISCARD` and `RESET`, which
//! DataFusion does not know and connection pools send (Npgsql's `DISCARD ALL`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use datafusion::common::{DFSchema, ParamValues};
use datafusion::logical_expr::{EmptyRelation, LogicalPlan};
use datafusion::prelude::SessionContext;
use datafusion::sql::sqlparser::ast::{ObjectName, Query, Reset, Set, SetExpr, Statement};
use datafusion_postgres::QueryHook;
use datafusion_postgres::hooks::HookClient;
use datafusion_postgres::pgwire;
use pgwire::api::ClientInfo;
use pgwire::api::results::{Response, Tag};
use pgwire::api::store::PortalStore;
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};

/// The session settings `SET` keeps in a connection's metadata (datafusion-postgres' names):
/// what `RESET ALL` and `DISCARD ALL` forget.
const SESSION_SETTINGS: [&str; 8] = [
    "statement_timeout_ms",
    "timezone",
    "datestyle",
    "intervalstyle",
    "bytea_output",
    "extra_float_digits",
    "search_path",
    "application_name",
];

/// The read-only hook of one connection. `reset` is raised by `DISCARD ALL` / `RESET ALL`: the
/// connection then opens a fresh session (its DataFusion settings back to the defaults) before
/// the next statement.
pub(crate) struct ReadOnly {
    pub(crate) reset: Arc<AtomicBool>,
}

/// The prefixes of the DataFusion settings a client may `SET` for its session (how it executes,
/// optimises and explains); the others (runtime: memory and spill directory; catalog; the SQL
/// dialect) are the server's.
const CLIENT_SETTINGS: [&str; 3] = [
    "datafusion.execution.",
    "datafusion.optimizer.",
    "datafusion.explain.",
];

/// A setting's name as DataFusion reads it: each part unquoted, lowercased, joined with dots.
fn setting_name(name: &ObjectName) -> String {
    name.0
        .iter()
        .map(|part| match part.as_ident() {
            Some(ident) => ident.value.to_lowercase(),
            None => part.to_string().to_lowercase(),
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// Whether the query writes: `SELECT … INTO` creates a table.
fn writes(query: &Query) -> bool {
    fn body(e: &SetExpr) -> bool {
        match e {
            SetExpr::Select(s) => s.into.is_some(),
            SetExpr::Query(q) => writes(q),
            SetExpr::SetOperation { left, right, .. } => body(left) || body(right),
            _ => false,
        }
    }
    body(&query.body)
}

/// Why `what` (a statement's first words) is refused.
pub(crate) fn read_only(what: &str) -> String {
    format!(
        "cannot execute {what} here: the lake is read-only through cqlake serve (only queries run)"
    )
}

/// Whether `statement` only reads; `Err` says why not.
fn check(statement: &Statement) -> Result<(), String> {
    match statement {
        Statement::Query(q) if writes(q) => Err(read_only("SELECT INTO")),
        Statement::Declare { stmts }
            if stmts
                .iter()
                .any(|d| d.for_query.as_deref().is_some_and(writes)) =>
        {
            Err(read_only("SELECT INTO"))
        }
        Statement::Query(_)
        | Statement::Declare { .. }
        | Statement::ShowVariable { .. }
        | Statement::ShowVariables { .. }
        | Statement::ShowStatus { .. }
        | Statement::ShowCatalogs { .. }
        | Statement::ShowSchemas { .. }
        | Statement::ShowTables { .. }
        | Statement::ShowViews { .. }
        | Statement::ShowColumns { .. }
        | Statement::ShowFunctions { .. }
        | Statement::ExplainTable { .. }
        | Statement::StartTransaction { .. }
        | Statement::Commit { .. }
        | Statement::Rollback { .. }
        | Statement::Fetch { .. }
        | Statement::Close { .. }
        | Statement::Discard { .. }
        | Statement::Reset(_)
        | Statement::Deallocate { .. }
        | Statement::UNLISTEN { .. }
        | Statement::Execute { .. } => Ok(()),
        Statement::Explain { statement, .. } | Statement::Prepare { statement, .. } => {
            check(statement)
        }
        Statement::Set(set) => {
            let names: Vec<String> = match set {
                Set::SingleAssignment { variable, .. } => vec![setting_name(variable)],
                Set::ParenthesizedAssignments { variables, .. } => {
                    variables.iter().map(setting_name).collect()
                }
                Set::MultipleAssignments { assignments } => {
                    assignments.iter().map(|a| setting_name(&a.name)).collect()
                }
                _ => Vec::new(),
            };
            // DataFusion's runtime settings decide where spill files are written and how much
            // memory the server takes; its catalog and parser settings what every query means.
            match names.iter().find(|n| {
                n.starts_with("datafusion.") && !CLIENT_SETTINGS.iter().any(|p| n.starts_with(p))
            }) {
                Some(n) => Err(format!(
                    "SET {n}: a setting of the server, not of a session (a session may set datafusion.execution.*, datafusion.optimizer.* and datafusion.explain.*)"
                )),
                None => Ok(()),
            }
        }
        other => {
            let text = other.to_string();
            let words: Vec<&str> = text.split_whitespace().take(2).collect();
            Err(read_only(&words.join(" ")))
        }
    }
}

pub(crate) fn refused(why: String) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "ERROR".to_string(),
        "25006".to_string(), // read_only_sql_transaction
        why,
    )))
}

fn empty_plan() -> LogicalPlan {
    LogicalPlan::EmptyRelation(EmptyRelation {
        produce_one_row: false,
        schema: Arc::new(DFSchema::empty()),
    })
}

impl ReadOnly {
    /// The answer to the statements this hook runs itself (`DISCARD`, `RESET`, `DEALLOCATE`),
    /// `None` for the others.
    fn answer(&self, statement: &Statement, client: &mut dyn HookClient) -> Option<Response> {
        let tag = match statement {
            Statement::Discard { object_type } => {
                let all = object_type.to_string().eq_ignore_ascii_case("ALL");
                if all {
                    self.forget_settings(client);
                    client.portal_store().clear_portals();
                }
                format!("DISCARD {object_type}")
            }
            Statement::Reset(r) => {
                match &r.reset {
                    Reset::ALL => self.forget_settings(client),
                    Reset::ConfigurationParameter(name) => {
                        let name = name.to_string().to_ascii_lowercase();
                        let key = match name.as_str() {
                            "statement_timeout" => "statement_timeout_ms",
                            "time zone" | "timezone" => "timezone",
                            n => n,
                        };
                        client.metadata_mut().remove(key);
                    }
                }
                "RESET".to_string()
            }
            Statement::Deallocate { .. } => "DEALLOCATE".to_string(),
            // Nothing listens here (Npgsql's pool reset sends it).
            Statement::UNLISTEN { .. } => "UNLISTEN".to_string(),
            _ => return None,
        };
        Some(Response::Execution(Tag::new(&tag)))
    }

    /// A statement about to run (by either protocol): refused, answered here, or `None`.
    fn run(
        &self,
        statement: &Statement,
        client: &mut dyn HookClient,
    ) -> Option<PgWireResult<Response>> {
        if let Err(why) = check(statement) {
            return Some(Err(refused(why)));
        }
        self.answer(statement, client).map(Ok)
    }

    fn forget_settings(&self, client: &mut dyn HookClient) {
        for key in SESSION_SETTINGS {
            client.metadata_mut().remove(key);
        }
        self.reset.store(true, Ordering::SeqCst);
    }
}

#[async_trait]
impl QueryHook for ReadOnly {
    async fn handle_simple_query(
        &self,
        statement: &Statement,
        _ctx: &SessionContext,
        client: &mut dyn HookClient,
    ) -> Option<PgWireResult<Response>> {
        self.run(statement, client)
    }

    async fn handle_extended_parse_query(
        &self,
        statement: &Statement,
        _ctx: &SessionContext,
        _client: &(dyn ClientInfo + Send + Sync),
    ) -> Option<PgWireResult<LogicalPlan>> {
        if let Err(why) = check(statement) {
            return Some(Err(refused(why)));
        }
        match statement {
            Statement::Discard { .. }
            | Statement::Reset(_)
            | Statement::Deallocate { .. }
            | Statement::UNLISTEN { .. } => Some(Ok(empty_plan())),
            _ => None,
        }
    }

    async fn handle_extended_query(
        &self,
        statement: &Statement,
        _plan: &LogicalPlan,
        _params: &ParamValues,
        _ctx: &SessionContext,
        client: &mut dyn HookClient,
    ) -> Option<PgWireResult<Response>> {
        self.run(statement, client)
    }
}

#[cfg(test)]
mod tests {
    use super::check;
    use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
    use datafusion::sql::sqlparser::parser::Parser;

    fn verdict(sql: &str) -> Result<(), String> {
        let statements = Parser::parse_sql(&PostgreSqlDialect {}, sql).expect(sql);
        check(&statements[0])
    }

    #[test]
    fn reads_pass_and_writes_are_refused() {
        for sql in [
            "SELECT count(*) FROM streams",
            "WITH a AS (SELECT 1) SELECT * FROM a",
            "EXPLAIN SELECT 1",
            "SHOW server_version",
            "SET application_name = 'grafana'",
            "SET datafusion.execution.batch_size = 1024",
            "BEGIN",
            "COMMIT",
            "DISCARD ALL",
            "RESET ALL",
            "DEALLOCATE ALL",
            "DECLARE c CURSOR FOR SELECT 1",
        ] {
            assert_eq!(verdict(sql), Ok(()), "{sql}");
        }
        for (sql, word) in [
            ("INSERT INTO calls (call_id) VALUES ('x')", "INSERT"),
            ("DELETE FROM calls", "DELETE"),
            ("UPDATE calls SET call_id = 'x'", "UPDATE"),
            ("DROP TABLE calls", "DROP"),
            ("CREATE TABLE t AS SELECT 1", "CREATE"),
            ("CREATE VIEW v AS SELECT 1", "CREATE"),
            ("COPY calls TO '/tmp/x.csv'", "COPY"),
            ("TRUNCATE calls", "TRUNCATE"),
            ("ALTER TABLE calls RENAME TO c", "ALTER"),
            ("EXPLAIN ANALYZE DELETE FROM calls", "DELETE"),
            ("PREPARE p AS DELETE FROM calls", "DELETE"),
            ("SELECT * INTO t FROM calls", "SELECT INTO"),
            ("SELECT 1 UNION SELECT * INTO t FROM calls", "SELECT INTO"),
            (
                "DECLARE c CURSOR FOR SELECT * INTO t FROM calls",
                "SELECT INTO",
            ),
        ] {
            let why = verdict(sql).expect_err(sql);
            assert!(
                why.contains(word) && why.contains("read-only"),
                "{sql}: {why}"
            );
        }
        for sql in [
            "SET datafusion.runtime.temp_directory = '/etc'",
            "SET \"datafusion.runtime.temp_directory\" = '/etc'",
            "SET \"DATAFUSION\".Runtime.memory_limit = '1M'",
            "SET datafusion.catalog.information_schema = true",
            "SET datafusion.sql_parser.dialect = 'mysql'",
        ] {
            let why = verdict(sql).expect_err(sql);
            assert!(why.contains("a setting of the server"), "{sql}: {why}");
        }
        assert_eq!(verdict("SET datafusion.optimizer.max_passes = 2"), Ok(()));
        assert_eq!(verdict("UNLISTEN *"), Ok(()));
    }
}

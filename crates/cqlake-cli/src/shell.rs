//! `cqlake sql` without a query: an interactive shell over the lake.
//!
//! Statements end with `;` and may span lines; a line starting with `\` is a command (`\d`,
//! `\d NAME`, `\rules`, `\format`, `\timing`, `\?`, `\q`). On a terminal, lines are edited with
//! rustyline and kept in a history file; from a pipe, statements are read line by line with no
//! prompts, so standard output holds only the rows. Errors go to standard error and the shell
//! goes on; piped input that had an error exits with [`crate::EXIT_FATAL`] at its end.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{anyhow, bail};
use clap::ValueEnum;
use cqlake_query::Rows;
use rustyline::error::ReadlineError;
use rustyline::history::FileHistory;
use rustyline::{Config, Editor};

use crate::args::{QueryArgs, RowFormat};
use crate::session::Session;

/// The prompt for a new statement.
pub const PROMPT: &str = "cqlake> ";
/// The prompt for the next line of an unfinished statement (as wide as [`PROMPT`]).
pub const CONTINUATION: &str = "     -> ";
/// How many entries the history file keeps.
pub const HISTORY_SIZE: usize = 1000;
/// The environment variable naming the history file (empty: no history file).
pub const HISTORY_ENV: &str = "CQLAKE_HISTORY";

/// Why parquet cannot be the shell's format.
const NO_PARQUET: &str =
    "parquet writes one file per query: run `cqlake sql QUERY --format parquet --output FILE`";

/// What `\?` prints.
const HELP: &str = r"Statements end with `;` and may span lines. Commands (one line, no `;`):
  \d                list the tables and views
  \d NAME           the columns of a table or view, with their types
  \rules            the rule set behind stream_quality (--rules)
  \format [NAME]    show or set the output format: table, csv, json, ndjson, markdown
  \timing [on|off]  print how long each statement took (to standard error)
  \? or \help       this list
  \q                quit (or Ctrl-D); Ctrl-C drops the statement being typed
";

/// The tables and views, with their kind and column count (`\d`).
const LIST_SQL: &str = "SELECT t.table_name AS name,
       CASE t.table_type WHEN 'VIEW' THEN 'view' ELSE 'table' END AS kind,
       count(c.column_name) AS columns
FROM information_schema.tables t
LEFT JOIN information_schema.columns c
  ON c.table_catalog = t.table_catalog
 AND c.table_schema = t.table_schema
 AND c.table_name = t.table_name
WHERE t.table_schema <> 'information_schema'
GROUP BY t.table_name, t.table_type
ORDER BY kind, name";

/// Runs the shell over the lake `a` names until `\q`, Ctrl-D or the end of the input.
pub fn run(a: &QueryArgs) -> anyhow::Result<ExitCode> {
    let format = a.format.unwrap_or(RowFormat::Table);
    if format == RowFormat::Parquet {
        bail!("{NO_PARQUET}");
    }
    if format == RowFormat::Html {
        bail!("{}", crate::session::NO_HTML);
    }
    let session = crate::session::open(a, None, None)?;
    let stdin_tty = std::io::stdin().is_terminal();
    let editor = stdin_tty && std::io::stdout().is_terminal();
    let mut input = Input::new(
        editor,
        stdin_tty,
        history_path(
            std::env::var_os(HISTORY_ENV),
            std::env::var_os("XDG_STATE_HOME"),
            std::env::var_os("HOME"),
        ),
    )?;
    if stdin_tty {
        eprintln!(
            "cqlake sql shell over {} (rules {}). End statements with `;`; \\? lists the commands, \\q quits.",
            a.lake
                .as_ref()
                .map_or_else(|| ".".to_string(), |l| l.to_string()),
            session.engine.rules().name()
        );
    }
    let mut shell = Shell {
        session,
        format,
        timing: false,
        out: crate::session::sink(a)?,
        cancel_on_ctrl_c: editor,
        failed: false,
    };
    let outcome = shell.repl(&mut input);
    input.save();
    outcome?;
    Ok(if shell.failed && !stdin_tty {
        ExitCode::from(crate::EXIT_FATAL)
    } else {
        ExitCode::SUCCESS
    })
}

/// The shell's state between statements.
struct Shell {
    /// The engine and its runtime.
    session: Session,
    /// How rows are printed (never parquet).
    format: RowFormat,
    /// Whether to print each statement's elapsed time.
    timing: bool,
    /// Where rows go: standard output or `--output`.
    out: Box<dyn Write + Send>,
    /// Whether Ctrl-C cancels a running statement (only while rustyline owns the terminal, so
    /// that Ctrl-C still ends a shell reading a pipe).
    cancel_on_ctrl_c: bool,
    /// Whether any statement or command failed.
    failed: bool,
}

impl Shell {
    /// Reads and runs statements and commands until `\q` or the end of the input.
    fn repl(&mut self, input: &mut Input) -> anyhow::Result<()> {
        let mut pending = String::new();
        loop {
            let prompt = if pending.is_empty() {
                PROMPT
            } else {
                CONTINUATION
            };
            let line = match input.read(prompt)? {
                Read::Line(line) => line,
                Read::Interrupted => {
                    pending.clear();
                    continue;
                }
                Read::Eof => break,
            };
            let command = line.trim();
            if command.starts_with('\\') && !split_statements(&pending).open {
                input.remember(command);
                match parse_command(command) {
                    Ok(Command::Quit) => return Ok(()),
                    Ok(c) => {
                        let outcome = self.command(c);
                        self.check(outcome)?;
                    }
                    Err(message) => self.check(Err(anyhow!(message)))?,
                }
                continue;
            }
            pending.push_str(&line);
            pending.push('\n');
            let split = split_statements(&pending);
            for statement in &split.statements {
                input.remember(&format!("{statement};"));
                let outcome = self.statement(statement);
                self.check(outcome)?;
            }
            pending = split.rest.to_string();
        }
        // A piped script's last statement may lack its `;`; Ctrl-D on a terminal drops it.
        if !input.is_editor() && !pending.is_empty() {
            let statement = pending.trim();
            input.remember(&format!("{statement};"));
            let outcome = self.statement(statement);
            self.check(outcome)?;
        }
        Ok(())
    }

    /// Prints a failure to standard error and goes on, unless the output is gone (a broken
    /// pipe ends the shell, and `main` exits 0 for it).
    fn check(&mut self, outcome: anyhow::Result<()>) -> anyhow::Result<()> {
        let Err(e) = outcome else {
            return Ok(());
        };
        if e.chain().any(|c| {
            c.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
        }) {
            return Err(e);
        }
        eprintln!("error: {e:#}");
        self.failed = true;
        Ok(())
    }

    /// Runs one statement and prints its rows (and its time, with `\timing`).
    fn statement(&mut self, sql: &str) -> anyhow::Result<()> {
        let started = Instant::now();
        let rows = self.query(sql)?;
        self.print(&rows)?;
        if self.timing {
            eprintln!("Time: {:.3} ms", started.elapsed().as_secs_f64() * 1e3);
        }
        Ok(())
    }

    /// Runs `sql` on the engine; on a terminal, Ctrl-C cancels it.
    fn query(&self, sql: &str) -> anyhow::Result<Rows> {
        let Session { engine, rt } = &self.session;
        if !self.cancel_on_ctrl_c {
            return Ok(rt.block_on(engine.sql(sql))?);
        }
        let run = async {
            tokio::select! {
                rows = engine.sql(sql) => Some(rows),
                // A handler that cannot be installed disables this branch.
                Ok(()) = tokio::signal::ctrl_c() => None,
            }
        };
        match rt.block_on(run) {
            Some(rows) => Ok(rows?),
            None => bail!("statement cancelled (Ctrl-C)"),
        }
    }

    /// Writes `rows` in the current format.
    fn print(&mut self, rows: &Rows) -> anyhow::Result<()> {
        crate::session::write(rows, self.format, None, &mut self.out)
    }

    /// Runs a command other than `\q`.
    fn command(&mut self, command: Command<'_>) -> anyhow::Result<()> {
        match command {
            Command::List => {
                let rows = self.query(LIST_SQL)?;
                self.print(&rows)
            }
            Command::Describe(name) => {
                let rows = self.query(&describe_sql(name))?;
                if rows.batches.iter().all(|b| b.num_rows() == 0) {
                    bail!("no table or view {name} (\\d lists them)");
                }
                self.print(&rows)
            }
            Command::Rules => {
                let rules = self.session.engine.rules();
                let mut out = std::io::stdout().lock();
                writeln!(out, "{}: {}", rules.name(), rules.description())?;
                Ok(())
            }
            Command::Format(None) => {
                eprintln!("format {}", format_name(self.format));
                Ok(())
            }
            Command::Format(Some(name)) => {
                let format = RowFormat::from_str(name, true).map_err(|_| {
                    anyhow!("{name:?}: not a format (table, csv, json, ndjson, markdown)")
                })?;
                if format == RowFormat::Parquet {
                    bail!("{NO_PARQUET}");
                }
                if format == RowFormat::Html {
                    bail!("{}", crate::session::NO_HTML);
                }
                self.format = format;
                eprintln!("format {}", format_name(format));
                Ok(())
            }
            Command::Timing(on) => {
                self.timing = on.unwrap_or(!self.timing);
                eprintln!("timing {}", if self.timing { "on" } else { "off" });
                Ok(())
            }
            Command::Help => {
                std::io::stdout().lock().write_all(HELP.as_bytes())?;
                Ok(())
            }
            Command::Quit => Ok(()),
        }
    }
}

/// The name `--format` and `\format` know `format` by.
fn format_name(format: RowFormat) -> String {
    format
        .to_possible_value()
        .map_or_else(String::new, |v| v.get_name().to_string())
}

/// The query behind `\d NAME`: the columns of `NAME` (or `schema.NAME`), in order. Unquoted
/// names are folded to lower case, as SQL does; `"Name"` keeps its case.
fn describe_sql(name: &str) -> String {
    let ident = |s: &str| match s.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        Some(quoted) => quoted.replace('\'', "''"),
        None => s.to_lowercase().replace('\'', "''"),
    };
    let (schema, table) = match name.split_once('.') {
        Some((schema, table)) => (Some(schema), table),
        None => (None, name),
    };
    let mut sql = format!(
        "SELECT column_name AS name, data_type AS \"type\", is_nullable AS nullable \
         FROM information_schema.columns WHERE table_name = '{}'",
        ident(table)
    );
    if let Some(schema) = schema {
        sql.push_str(&format!(" AND table_schema = '{}'", ident(schema)));
    }
    sql.push_str(" ORDER BY table_schema, ordinal_position");
    sql
}

/// A shell command: a line starting with `\`.
#[derive(Debug, PartialEq, Eq)]
enum Command<'a> {
    /// `\d`: the tables and views.
    List,
    /// `\d NAME`: one table's or view's columns.
    Describe(&'a str),
    /// `\rules`: the rule set in use.
    Rules,
    /// `\format [NAME]`: show or set the output format.
    Format(Option<&'a str>),
    /// `\timing [on|off]`: toggle or set timing.
    Timing(Option<bool>),
    /// `\?`, `\help`: the commands.
    Help,
    /// `\q`, `\quit`: leave.
    Quit,
}

/// Parses a command line (`\d calls`); a trailing `;` is allowed. The error says what is wrong.
fn parse_command(line: &str) -> Result<Command<'_>, String> {
    let line = line.trim().trim_end_matches(';');
    let body = line.strip_prefix('\\').unwrap_or(line);
    let mut words = body.split_whitespace();
    let name = words.next().unwrap_or("");
    let arg = words.next();
    if words.next().is_some() {
        return Err(format!(
            "\\{name}: too many arguments (\\? lists the commands)"
        ));
    }
    let no_arg = |c: Command<'static>| match arg {
        None => Ok(c),
        Some(a) => Err(format!("\\{name} takes no argument, got {a:?}")),
    };
    match name {
        "d" => Ok(arg.map_or(Command::List, Command::Describe)),
        "rules" => no_arg(Command::Rules),
        "format" => Ok(Command::Format(arg)),
        "timing" => match arg {
            None => Ok(Command::Timing(None)),
            Some("on") => Ok(Command::Timing(Some(true))),
            Some("off") => Ok(Command::Timing(Some(false))),
            Some(a) => Err(format!("\\timing takes on or off, got {a:?}")),
        },
        "?" | "help" => no_arg(Command::Help),
        "q" | "quit" => no_arg(Command::Quit),
        _ => Err(format!("unknown command \\{name} (\\? lists the commands)")),
    }
}

/// Statements split off the shell's input, and what is left for the next line.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Split<'a> {
    /// The complete statements, trimmed and without their `;`. Blank ones (only whitespace
    /// and comments, as in `;;`) are left out.
    pub statements: Vec<&'a str>,
    /// The unfinished text after the last `;`, trimmed at the start; empty when it holds only
    /// whitespace and comments.
    pub rest: &'a str,
    /// Whether the input ends inside a quoted string, a quoted identifier or a block comment.
    pub open: bool,
}

/// Splits `input` at the `;`s that end statements: not those inside `'strings'` (with `''`
/// for a quote, and `\'` in `E'...'`), `"identifiers"`, `-- line comments` or
/// `/* block comments */`. Pure: the shell calls it on its whole pending input after each line.
pub(crate) fn split_statements(input: &str) -> Split<'_> {
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum State {
        Code,
        Single,
        Escaped,
        Double,
        Line,
        Block,
    }
    let bytes = input.as_bytes();
    let mut state = State::Code;
    let mut statements = Vec::new();
    // Where the current statement starts, and whether it has anything but blanks so far.
    let (mut start, mut blank) = (0, true);
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let next = bytes.get(i + 1).copied();
        match state {
            State::Code => match b {
                b'\'' => {
                    let e_string = i > 0
                        && bytes[i - 1].eq_ignore_ascii_case(&b'e')
                        && (i < 2 || !is_word(bytes[i - 2]));
                    state = if e_string {
                        State::Escaped
                    } else {
                        State::Single
                    };
                    blank = false;
                }
                b'"' => {
                    state = State::Double;
                    blank = false;
                }
                b'-' if next == Some(b'-') => {
                    state = State::Line;
                    i += 1;
                }
                b'/' if next == Some(b'*') => {
                    state = State::Block;
                    i += 1;
                }
                b';' => {
                    if !blank {
                        statements.push(input[start..i].trim());
                    }
                    (start, blank) = (i + 1, true);
                }
                b if b.is_ascii_whitespace() => {}
                _ => blank = false,
            },
            // `''` closes and reopens: the same state either way.
            State::Single if b == b'\'' => state = State::Code,
            State::Escaped if b == b'\\' => i += 1,
            State::Escaped if b == b'\'' => state = State::Code,
            State::Double if b == b'"' => state = State::Code,
            State::Line if b == b'\n' => state = State::Code,
            State::Block if b == b'*' && next == Some(b'/') => {
                state = State::Code;
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
    let open = matches!(
        state,
        State::Single | State::Escaped | State::Double | State::Block
    );
    let rest = if blank && !open {
        ""
    } else {
        input[start..].trim_start()
    };
    Split {
        statements,
        rest,
        open,
    }
}

/// Whether `b` can be part of an identifier (so the `e` before a quote is not an `E'...'`).
fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The history file: `$CQLAKE_HISTORY` if set (empty: none), else
/// `$XDG_STATE_HOME/cqlake/history` (an absolute `XDG_STATE_HOME`), else
/// `~/.local/state/cqlake/history`.
fn history_path(
    explicit: Option<std::ffi::OsString>,
    state: Option<std::ffi::OsString>,
    home: Option<std::ffi::OsString>,
) -> Option<PathBuf> {
    if let Some(path) = explicit {
        return (!path.is_empty()).then(|| PathBuf::from(path));
    }
    let state = state
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| {
            home.filter(|h| !h.is_empty())
                .map(|h| PathBuf::from(h).join(".local").join("state"))
        })?;
    Some(state.join("cqlake").join("history"))
}

/// One read from the input.
enum Read {
    /// A line, without its line end.
    Line(String),
    /// Ctrl-C: drop the unfinished statement.
    Interrupted,
    /// Ctrl-D or the end of the input.
    Eof,
}

/// Where lines come from, and the history they go to.
struct Input {
    /// The line editor; it also holds the history, whether or not it reads the lines.
    editor: Editor<(), FileHistory>,
    /// Whether the editor reads the lines (standard input and output are terminals).
    reads: bool,
    /// Whether plain reading shows prompts (on standard error: a terminal types into a
    /// redirected shell).
    prompts: bool,
    /// The history file, if any.
    history: Option<PathBuf>,
}

impl Input {
    /// The input: rustyline when `editor`, else plain lines from standard input (prompted on
    /// standard error when `prompts`); the history loaded from `history` if it exists.
    fn new(editor: bool, prompts: bool, history: Option<PathBuf>) -> anyhow::Result<Input> {
        let config = Config::builder()
            .max_history_size(HISTORY_SIZE)?
            .history_ignore_dups(true)?
            .auto_add_history(false)
            .build();
        let history_entries = FileHistory::with_config(&config);
        let mut input = Input {
            editor: Editor::with_history(config, history_entries)?,
            reads: editor,
            prompts,
            history,
        };
        if let Some(path) = &input.history {
            match input.editor.load_history(path) {
                Ok(()) => {}
                Err(ReadlineError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => eprintln!("cqlake: not reading the history {}: {e}", path.display()),
            }
        }
        Ok(input)
    }

    /// Whether lines come from the line editor.
    fn is_editor(&self) -> bool {
        self.reads
    }

    /// Reads one line after `prompt`.
    fn read(&mut self, prompt: &str) -> anyhow::Result<Read> {
        if self.reads {
            return match self.editor.readline(prompt) {
                Ok(line) => Ok(Read::Line(line)),
                Err(ReadlineError::Interrupted) => Ok(Read::Interrupted),
                Err(ReadlineError::Eof) => Ok(Read::Eof),
                Err(e) => Err(e.into()),
            };
        }
        if self.prompts {
            let mut err = std::io::stderr().lock();
            err.write_all(prompt.as_bytes())?;
            err.flush()?;
        }
        let mut line = String::new();
        if std::io::stdin().lock().read_line(&mut line)? == 0 {
            return Ok(Read::Eof);
        }
        let end = line.trim_end_matches(['\n', '\r']).len();
        line.truncate(end);
        Ok(Read::Line(line))
    }

    /// Adds `entry` (a whole statement or command) to the history.
    fn remember(&mut self, entry: &str) {
        if self.history.is_some() || self.reads {
            // Only a full or misconfigured history fails here; the shell goes on without.
            let _ = self.editor.add_history_entry(entry);
        }
    }

    /// Appends this session's entries to the history file. A failure is reported, not fatal.
    fn save(&mut self) {
        let Some(path) = &self.history else {
            return;
        };
        let saved = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => {
                std::fs::create_dir_all(dir).map_err(ReadlineError::from)
            }
            _ => Ok(()),
        }
        .and_then(|()| self.editor.append_history(path));
        if let Err(e) = saved {
            eprintln!("cqlake: not saving the history to {}: {e}", path.display());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(input: &str) -> (Vec<&str>, &str, bool) {
        let s = split_statements(input);
        (s.statements, s.rest, s.open)
    }

    #[test]
    fn splits_at_semicolons() {
        assert_eq!(split("SELECT 1;"), (vec!["SELECT 1"], "", false));
        assert_eq!(
            split("SELECT 1; SELECT 2;\n"),
            (vec!["SELECT 1", "SELECT 2"], "", false)
        );
        assert_eq!(
            split("SELECT 1; SELECT\n  2"),
            (vec!["SELECT 1"], "SELECT\n  2", false)
        );
        assert_eq!(split("  ;;  \n"), (vec![], "", false));
        assert_eq!(split(""), (vec![], "", false));
    }

    #[test]
    fn a_statement_spans_lines() {
        assert_eq!(
            split("SELECT count(*)\n"),
            (vec![], "SELECT count(*)\n", false)
        );
        assert_eq!(
            split("SELECT count(*)\n AS n FROM streams;\n"),
            (vec!["SELECT count(*)\n AS n FROM streams"], "", false)
        );
    }

    #[test]
    fn semicolons_in_quotes_do_not_split() {
        assert_eq!(
            split("SELECT 'a;b', \"c;d\" FROM t;"),
            (vec!["SELECT 'a;b', \"c;d\" FROM t"], "", false)
        );
        assert_eq!(
            split("SELECT 'it''s; fine';"),
            (vec!["SELECT 'it''s; fine'"], "", false)
        );
        assert_eq!(
            split(r"SELECT E'it\'s; fine', e'\\';"),
            (vec![r"SELECT E'it\'s; fine', e'\\'"], "", false)
        );
        // A backslash in a plain string is just a character.
        assert_eq!(split(r"SELECT 'a\';"), (vec![r"SELECT 'a\'"], "", false));
        assert_eq!(
            split("SELECT 'abc;\ndef"),
            (vec![], "SELECT 'abc;\ndef", true)
        );
        assert_eq!(split("SELECT \"a;"), (vec![], "SELECT \"a;", true));
    }

    #[test]
    fn semicolons_in_comments_do_not_split() {
        assert_eq!(
            split("SELECT 1 -- not; the end\n;"),
            (vec!["SELECT 1 -- not; the end"], "", false)
        );
        assert_eq!(
            split("/* ; */ SELECT 1;"),
            (vec!["/* ; */ SELECT 1"], "", false)
        );
        assert_eq!(split("/* ; \n"), (vec![], "/* ; \n", true));
        // Only comments: nothing to run, nothing pending.
        assert_eq!(split("-- a comment; really\n"), (vec![], "", false));
        assert_eq!(split("-- a comment\n;"), (vec![], "", false));
        assert_eq!(split("SELECT 1 - -1;"), (vec!["SELECT 1 - -1"], "", false));
    }

    #[test]
    fn parses_commands() {
        assert_eq!(parse_command("\\d"), Ok(Command::List));
        assert_eq!(parse_command("\\d calls;"), Ok(Command::Describe("calls")));
        assert_eq!(parse_command("\\rules"), Ok(Command::Rules));
        assert_eq!(parse_command("\\format"), Ok(Command::Format(None)));
        assert_eq!(
            parse_command("\\format csv"),
            Ok(Command::Format(Some("csv")))
        );
        assert_eq!(parse_command("\\timing"), Ok(Command::Timing(None)));
        assert_eq!(
            parse_command("\\timing off"),
            Ok(Command::Timing(Some(false)))
        );
        assert_eq!(parse_command("\\?"), Ok(Command::Help));
        assert_eq!(parse_command("\\help"), Ok(Command::Help));
        assert_eq!(parse_command("  \\q  "), Ok(Command::Quit));
        assert!(
            parse_command("\\x")
                .unwrap_err()
                .contains("unknown command \\x")
        );
        assert!(parse_command("\\q now").is_err());
        assert!(parse_command("\\d a b").is_err());
        assert!(parse_command("\\timing maybe").is_err());
    }

    #[test]
    fn describe_folds_and_quotes_names() {
        let sql = describe_sql("Calls");
        assert!(sql.contains("table_name = 'calls'"), "{sql}");
        let sql = describe_sql("information_schema.\"Tables\"");
        assert!(sql.contains("table_name = 'Tables'"), "{sql}");
        assert!(sql.contains("table_schema = 'information_schema'"), "{sql}");
        let sql = describe_sql("it's");
        assert!(sql.contains("table_name = 'it''s'"), "{sql}");
    }

    #[test]
    fn history_file_location() {
        let os = |s: &str| Some(std::ffi::OsString::from(s));
        assert_eq!(
            history_path(os("/tmp/h"), os("/state"), os("/home/u")),
            Some(PathBuf::from("/tmp/h"))
        );
        assert_eq!(history_path(os(""), os("/state"), os("/home/u")), None);
        assert_eq!(
            history_path(None, os("/state"), os("/home/u")),
            Some(PathBuf::from("/state/cqlake/history"))
        );
        // A relative XDG_STATE_HOME is ignored, as the spec says.
        assert_eq!(
            history_path(None, os("state"), os("/home/u")),
            Some(PathBuf::from("/home/u/.local/state/cqlake/history"))
        );
        assert_eq!(history_path(None, None, None), None);
    }
}

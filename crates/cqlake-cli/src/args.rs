//! Command-line arguments (clap). Only this binary sees them.

use std::path::PathBuf;

use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use cqlake_lake::LakeLocation;

use crate::values::{ByteSize, Date, parse_duration};

/// `--lake`: a directory or an object store URL (any other `scheme://` is refused).
fn parse_lake(s: &str) -> Result<LakeLocation, String> {
    LakeLocation::parse(s).map_err(|e| e.to_string())
}

/// The storage options of a lake on an object store.
#[derive(Debug, Clone, Default, Args)]
pub struct StorageArgs {
    /// An option of the lake's object store, KEY=VALUE (repeatable), as object_store names
    /// them: aws_endpoint, aws_region, aws_allow_http, azure_storage_account_name,
    /// google_service_account, … KEY=@FILE reads the value from FILE; a secret must be given
    /// that way or in the environment (AWS_*, AZURE_STORAGE_*, GOOGLE_*), which is read too.
    #[arg(long = "storage-option", value_name = "KEY=VALUE")]
    pub options: Vec<String>,
    /// How long a writer's lease on a lake on an object store lasts unrenewed: a killed
    /// writer's lapses after it (default 60s).
    #[arg(long, env = "CQLAKE_LEASE_TTL", value_name = "DURATION", value_parser = parse_duration, hide = true)]
    pub lease_ttl: Option<Duration>,
}

impl StorageArgs {
    /// `lake` with these options.
    pub fn apply(&self, lake: &LakeLocation) -> anyhow::Result<LakeLocation> {
        if lake.as_local().is_some() && !self.options.is_empty() {
            anyhow::bail!(
                "--storage-option is for a lake on an object store; {lake} is a directory"
            );
        }
        let mut out = lake.clone();
        if let Some(ttl) = self.lease_ttl {
            out = out.with_lease_ttl(ttl);
        }
        for o in &self.options {
            out = out.with_option(o)?;
        }
        Ok(out)
    }
}

/// Pseudonymisation of a `convert` or `pull`.
#[derive(Debug, Clone, Default, Args)]
pub struct PseudonymArgs {
    /// Replace every personal value (ids, names, UPNs, e-mail and phone numbers, IP and MAC
    /// addresses, machine names, feedback text: the columns `cqlake schema` marks personal, and
    /// every string in `extra`) by a keyed token, psn_ and 32 hex digits, the same for the same
    /// value in every table and run. The key (at least 32 bytes) comes from CQLAKE_PSEUDONYM_KEY
    /// or --pseudonym-key-file, never from the command line. A lake written so takes only
    /// writers with the same key; a lake of raw values is never pseudonymised in place.
    #[arg(long)]
    pub pseudonymise: bool,
    /// The file that holds the pseudonym key (its bytes; one trailing line break is ignored).
    #[arg(long, value_name = "FILE")]
    pub pseudonym_key_file: Option<PathBuf>,
}

/// Call-quality analytics over Microsoft Graph call records.
#[derive(Debug, Parser)]
#[command(name = "cqlake", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Convert Graph call-record exports into the lake.
    ///
    /// Tuning (environment, or the hidden options of the same name): CQLAKE_THREADS (workers),
    /// CQLAKE_COMMIT_BYTES (Parquet held in open data files before a commit, default 1 GiB),
    /// CQLAKE_GROUP_BYTES (Arrow data of replaced calls gathered before a commit, default
    /// 128 MiB).
    Convert(ConvertArgs),
    /// Keep the lake current from Microsoft Graph: list the call records of a window, get the new
    /// and newer ones whole, and convert them as `convert` does.
    ///
    /// Register an app in Microsoft Entra ID (App registrations → New registration), give it the
    /// application permission CallRecords.Read.All (Microsoft Graph → Application permissions;
    /// CallRecord-PstnCalls.Read.All for PSTN and direct routing) and grant admin consent; add a
    /// client secret (Certificates & secrets) or upload a certificate. Then:
    ///
    ///   CQLAKE_TENANT_ID=… CQLAKE_CLIENT_ID=… CQLAKE_CLIENT_SECRET=… cqlake pull --lake DIR
    ///
    /// or --certificate CERT.pem --private-key KEY.pem instead of the secret. The secret is read
    /// from the environment or from --client-secret-file, never from the command line.
    /// Recordings (--kinds recordings) also need OnlineMeetingRecording.Read.All and an
    /// application access policy covering the organizers.
    ///
    /// Run it daily: each run starts 3 days before where the last one ended, gets only what is
    /// new or newer, and asks again for the records that were not ready (`--status` shows them).
    Pull(Box<PullArgs>),
    /// Print the lake's tables: columns, types, `personal` for the columns that hold personal
    /// data, and the Graph property each comes from.
    Schema(SchemaArgs),
    /// Print the token of each VALUE under the pseudonym key (CQLAKE_PSEUDONYM_KEY or
    /// --pseudonym-key-file): what a lake converted with --pseudonymise holds in its place, to
    /// find a person in it (`cqlake pseudonym jane@contoso.com`).
    Pseudonym(PseudonymValuesArgs),
    /// Generate a seeded corpus of realistic call records (for tests and benchmarks); prints
    /// what it wrote and the rows the lake must hold as JSON to stderr.
    Gen(GenArgs),
    /// Run a SQL query over the lake (read-only) and print the rows; without a query, open an
    /// interactive shell.
    Sql(SqlArgs),
    /// Run a built-in quality report (or a .sql file) over the lake.
    Report(ReportArgs),
    /// Serve the lake's dashboards in the browser, with a JSON API under them (read-only; each
    /// request reads the last finished convert or pull).
    ///
    /// Listens on 127.0.0.1 unless --bind says otherwise; any other address needs the password
    /// in CQLAKE_SERVE_PASSWORD (HTTP basic, user cqlake). With --pg-port it also speaks the
    /// PostgreSQL protocol (database cqlake; password in CQLAKE_PG_PASSWORD). Stop it with Ctrl-C.
    Serve(ServeArgs),
    /// Run cqlake's cluster scheduler (DataFusion Ballista): `sql`, `report` and `serve` with
    /// --cluster df://HOST:PORT send their queries to it, and it has its executors run them.
    ///
    /// Start executors with `cqlake executor --scheduler HOST:PORT`. The lake must be at the
    /// same path (or object store URL) for the client, the scheduler and every executor. Listens
    /// on 127.0.0.1:50050; another address needs --cluster-keys. Stop it with Ctrl-C.
    Scheduler(SchedulerArgs),
    /// Run a cluster executor: it registers with the scheduler, runs the tasks of the queries it
    /// is given, and serves their results over Arrow Flight (127.0.0.1:50051). Stop it with
    /// Ctrl-C.
    Executor(ExecutorArgs),
    /// Make a cluster's keys: a directory to give every scheduler, executor and client of the
    /// cluster (--cluster-keys DIR). All their links are then mutual TLS, and processes without
    /// the keys are refused.
    ClusterKeys(ClusterKeysArgs),
    /// Compact the lake: rewrite each date's data files into few files of large row groups
    /// (run it after converts; queries read far fewer column chunks).
    Optimize(OptimizeArgs),
    /// Delete the data files the lake no longer lists (replaced by optimize or by an update)
    /// once they are older than the retention period.
    Vacuum(VacuumArgs),
    /// Remove the calls that started before a date from every call table (and the PSTN,
    /// direct-routing, SMS, blocked-user and recording rows dated before it), as one group;
    /// `--keep-days N` also makes every later convert and pull do so for the last N days.
    /// `cqlake vacuum` then deletes the files.
    Purge(PurgeArgs),
    /// Erase one person: in every table, their ids, names, UPN, e-mail and phone identities,
    /// and the names and network addresses of the endpoints they used become null (metrics and
    /// other people's data stay), as one group; the rejects lose the lines that name them.
    /// `cqlake vacuum` then deletes the replaced files and the log entries before now,
    /// whatever its retention.
    Forget(ForgetArgs),
}

/// How `sql` prints rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RowFormat {
    /// An aligned text table (the default on a terminal).
    Table,
    /// CSV with a header (the default when piped or written to a file).
    Csv,
    /// One JSON array of objects.
    Json,
    /// One JSON object per line.
    Ndjson,
    /// A Markdown table.
    Markdown,
    /// A Parquet file (needs --output or a pipe).
    Parquet,
    /// One self-contained HTML page with the report's charts, its table and its query, to
    /// open from disk, mail or archive (cqlake report only).
    Html,
}

/// What `sql` and `report` share: the lake, the rules, and where and how rows go.
#[derive(Debug, Args)]
pub struct QueryArgs {
    /// The lake (required): a directory, or an object store URL (s3://BUCKET/PATH,
    /// az://CONTAINER/PATH, abfss://CONTAINER@ACCOUNT.dfs.core.windows.net/PATH,
    /// gs://BUCKET/PATH).
    #[arg(long, value_name = "DIR|URL", value_parser = parse_lake)]
    pub lake: Option<LakeLocation>,
    #[command(flatten)]
    pub storage: StorageArgs,
    /// The classification rule set behind the `stream_quality` view: cqd-classic, cqd-2020,
    /// cqd-2021 or cqd-current.
    #[arg(long, default_value = "cqd-classic")]
    pub rules: String,
    /// Output format (default: table on a terminal, csv otherwise).
    #[arg(long, value_enum)]
    pub format: Option<RowFormat>,
    /// Write the rows to this file instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Query threads (default: all CPUs).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Memory that sorts, aggregations and joins may use before they spill (e.g. 2GB;
    /// default: no limit).
    #[arg(long, value_name = "SIZE")]
    pub memory_limit: Option<ByteSize>,
    /// A building file in the layout of CQD's building data upload (network, network name,
    /// range bits, building, ownership, building type, office type, city, zip, country, state,
    /// region, inside corp, express route, VPN): the view `buildings`.
    #[arg(long)]
    pub buildings: Option<PathBuf>,
    /// Run the query on the cluster whose scheduler is at this address (`cqlake scheduler`);
    /// --threads is then the number of parallel tasks per stage (default 16).
    #[arg(long, value_name = "df://HOST:PORT")]
    pub cluster: Option<String>,
    /// The cluster's keys (`cqlake cluster-keys`), when its processes run with them.
    #[arg(long, value_name = "DIR", requires = "cluster")]
    pub cluster_keys: Option<PathBuf>,
}

/// `cqlake sql`.
#[derive(Debug, Args)]
pub struct SqlArgs {
    /// The query (one statement). Tables: calls, participants, sessions, segments, media,
    /// streams; views: stream_quality, stream_sides. Without it, an interactive shell reads
    /// statements ending in `;` (`\?` lists its commands).
    pub query: Option<String>,
    #[command(flatten)]
    pub common: QueryArgs,
}

/// `cqlake report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A built-in report (see --list) or a .sql file.
    pub report: Option<String>,
    /// List the built-in reports.
    #[arg(long)]
    pub list: bool,
    /// Only calls that started on or after this UTC date (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub from: Option<Date>,
    /// Only calls that started on or before this UTC date (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub to: Option<Date>,
    #[command(flatten)]
    pub common: QueryArgs,
}

/// `cqlake scheduler`.
#[derive(Debug, Args)]
pub struct SchedulerArgs {
    /// The address to listen on: 127.0.0.1 unless told otherwise; any other needs
    /// --cluster-keys.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: std::net::IpAddr,
    /// The port (0 picks a free one).
    #[arg(long, default_value_t = cqlake_cluster::SCHEDULER_PORT)]
    pub port: u16,
    /// The cluster's keys (`cqlake cluster-keys`): mutual TLS with executors and clients.
    #[arg(long, value_name = "DIR")]
    pub cluster_keys: Option<PathBuf>,
    #[command(flatten)]
    pub storage: StorageArgs,
}

/// `cqlake cluster-keys`.
#[derive(Debug, Args)]
pub struct ClusterKeysArgs {
    /// The directory to write ca.pem, cluster.pem and cluster.key into (made if missing; keys
    /// already there are never replaced).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Days the keys are valid.
    #[arg(long, default_value_t = 365)]
    pub days: u32,
}

/// `cqlake executor`.
#[derive(Debug, Args)]
pub struct ExecutorArgs {
    /// The scheduler: HOST:PORT (or df://HOST:PORT).
    #[arg(long, default_value = "127.0.0.1:50050")]
    pub scheduler: String,
    /// The address to listen on: 127.0.0.1 unless told otherwise; any other needs
    /// --cluster-keys.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: std::net::IpAddr,
    /// The host name or address clients and other executors reach this executor at (default:
    /// --bind).
    #[arg(long, value_name = "HOST")]
    pub external_host: Option<String>,
    /// The cluster's keys (`cqlake cluster-keys`): mutual TLS with the scheduler, the clients
    /// and the other executors.
    #[arg(long, value_name = "DIR")]
    pub cluster_keys: Option<PathBuf>,
    /// The Arrow Flight port: task results and shuffle data.
    #[arg(long, default_value_t = cqlake_cluster::FLIGHT_PORT)]
    pub port: u16,
    /// The gRPC port announced to the scheduler.
    #[arg(long, default_value_t = cqlake_cluster::GRPC_PORT)]
    pub grpc_port: u16,
    /// Tasks run at once (default: all CPUs).
    #[arg(long)]
    pub tasks: Option<usize>,
    /// Where shuffle and spill files go (default: a temporary directory, removed at exit).
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
    /// Memory the tasks' sorts, aggregations and joins may use before they spill (e.g. 4GB;
    /// default: 70 % of the machine's).
    #[arg(long, value_name = "SIZE")]
    pub memory_limit: Option<ByteSize>,
    #[command(flatten)]
    pub storage: StorageArgs,
}

/// `cqlake serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The lake: a directory, or an object store URL (s3://BUCKET/PATH, az://CONTAINER/PATH,
    /// abfss://CONTAINER@ACCOUNT.dfs.core.windows.net/PATH, gs://BUCKET/PATH).
    #[arg(long, value_name = "DIR|URL", value_parser = parse_lake)]
    pub lake: LakeLocation,
    #[command(flatten)]
    pub storage: StorageArgs,
    /// The port (0 picks a free one).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// The address to listen on: 127.0.0.1 (this machine only) unless told otherwise; any other
    /// needs CQLAKE_SERVE_PASSWORD.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: std::net::IpAddr,
    /// The rule set of requests that name none: cqd-classic, cqd-2020, cqd-2021 or cqd-current.
    #[arg(long, default_value = "cqd-classic")]
    pub rules: String,
    /// CQD's building file (for the buildings report).
    #[arg(long)]
    pub buildings: Option<PathBuf>,
    /// Query threads (default: all CPUs).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Also open the PostgreSQL protocol on this port (0 picks a free one), for Grafana,
    /// Metabase, DBeaver, psql and Power BI: database cqlake, read-only, same address and rule
    /// set. Beyond loopback it needs the password of user cqlake in CQLAKE_PG_PASSWORD.
    #[arg(long, value_name = "PORT")]
    pub pg_port: Option<u16>,
    /// The PEM certificate chain of the PostgreSQL port: clients must then connect with TLS.
    #[arg(long, value_name = "FILE", requires_all = ["pg_port", "pg_tls_key"])]
    pub pg_tls_cert: Option<PathBuf>,
    /// The PEM private key (PKCS#8, PKCS#1 or SEC1) of --pg-tls-cert.
    #[arg(long, value_name = "FILE", requires = "pg_tls_cert")]
    pub pg_tls_key: Option<PathBuf>,
    /// Compute the rollups and run the reports on the cluster whose scheduler is at this
    /// address (`cqlake scheduler`); the views read the rollups kept here.
    #[arg(long, value_name = "df://HOST:PORT")]
    pub cluster: Option<String>,
    /// The cluster's keys (`cqlake cluster-keys`), when its processes run with them.
    #[arg(long, value_name = "DIR", requires = "cluster")]
    pub cluster_keys: Option<PathBuf>,
}

/// `cqlake optimize`.
#[derive(Debug, Args)]
pub struct OptimizeArgs {
    /// The lake: a directory, or an object store URL (s3://BUCKET/PATH, az://CONTAINER/PATH,
    /// abfss://CONTAINER@ACCOUNT.dfs.core.windows.net/PATH, gs://BUCKET/PATH).
    #[arg(long, value_name = "DIR|URL", value_parser = parse_lake)]
    pub lake: LakeLocation,
    #[command(flatten)]
    pub storage: StorageArgs,
    /// Only partitions dated on or after this UTC date (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub from: Option<Date>,
    /// Only partitions dated on or before this UTC date (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub to: Option<Date>,
    /// Partitions rewritten at once (default: all CPUs).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Wait up to this long for another cqlake process writing to the lake to finish: seconds,
    /// or with a unit (90s, 5m, 2h); default 0, fail at once with exit code 4.
    #[arg(long, value_name = "DURATION", default_value = "0", value_parser = parse_duration)]
    pub wait: Duration,
}

/// `cqlake purge`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("when").required(true).args(["before", "older_than", "keep_days", "keep_all"])))]
pub struct PurgeArgs {
    /// The lake: a directory, or an object store URL.
    #[arg(long, value_name = "DIR|URL", value_parser = parse_lake)]
    pub lake: LakeLocation,
    #[command(flatten)]
    pub storage: StorageArgs,
    /// Remove the calls that started before this UTC date (YYYY-MM-DD).
    #[arg(long, value_name = "DATE")]
    pub before: Option<Date>,
    /// Remove the calls that started more than DAYS days ago (before today's UTC date less
    /// DAYS).
    #[arg(long, value_name = "DAYS")]
    pub older_than: Option<u32>,
    /// Keep the calls of the last DAYS days: remove the older ones now, and remember it in the
    /// lake, so that every later convert and pull removes what falls out of it.
    #[arg(long, value_name = "DAYS")]
    pub keep_days: Option<u32>,
    /// Forget a retention set by --keep-days (nothing is removed).
    #[arg(long)]
    pub keep_all: bool,
    /// Print what was removed as JSON.
    #[arg(long)]
    pub json: bool,
    /// Wait up to this long for another cqlake process writing to the lake to finish: seconds,
    /// or with a unit (90s, 5m, 2h); default 0, fail at once with exit code 4.
    #[arg(long, value_name = "DURATION", default_value = "0", value_parser = parse_duration)]
    pub wait: Duration,
}

/// `cqlake forget`.
#[derive(Debug, Args)]
pub struct ForgetArgs {
    /// The lake: a directory, or an object store URL.
    #[arg(long, value_name = "DIR|URL", value_parser = parse_lake)]
    pub lake: LakeLocation,
    #[command(flatten)]
    pub storage: StorageArgs,
    /// The person: a UPN, user id, e-mail address or phone identity (their other ids are found
    /// from it), or a display name (which erases everyone of that name). On a pseudonymised
    /// lake, the value itself with the lake's key, or its token.
    #[arg(long, value_name = "VALUE")]
    pub user: String,
    /// The pseudonym key's file (else CQLAKE_PSEUDONYM_KEY), for a pseudonymised lake.
    #[arg(long, value_name = "FILE")]
    pub pseudonym_key_file: Option<PathBuf>,
    /// Print what changed as JSON.
    #[arg(long)]
    pub json: bool,
    /// Wait up to this long for another cqlake process writing to the lake to finish: seconds,
    /// or with a unit (90s, 5m, 2h); default 0, fail at once with exit code 4.
    #[arg(long, value_name = "DURATION", default_value = "0", value_parser = parse_duration)]
    pub wait: Duration,
}

/// `cqlake vacuum`.
#[derive(Debug, Args)]
pub struct VacuumArgs {
    /// The lake: a directory, or an object store URL (s3://BUCKET/PATH, az://CONTAINER/PATH,
    /// abfss://CONTAINER@ACCOUNT.dfs.core.windows.net/PATH, gs://BUCKET/PATH).
    #[arg(long, value_name = "DIR|URL", value_parser = parse_lake)]
    pub lake: LakeLocation,
    #[command(flatten)]
    pub storage: StorageArgs,
    /// Keep unlisted files modified within this many hours (readers of older snapshots may
    /// still need them).
    #[arg(long, default_value_t = 168)]
    pub retain_hours: u64,
    /// Wait up to this long for another cqlake process writing to the lake to finish: seconds,
    /// or with a unit (90s, 5m, 2h); default 0, fail at once with exit code 4.
    #[arg(long, value_name = "DURATION", default_value = "0", value_parser = parse_duration)]
    pub wait: Duration,
}

/// Output storage of `convert`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Delta Lake tables under `--lake` (upserts by call version; re-runs never duplicate).
    Delta,
    /// Plain Parquet files under `--out` (a one-shot export, no log).
    Parquet,
}

/// `cqlake convert`.
#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// Files, directories (recursive), glob patterns (`*`, `?`, `[a-z]`, `**`), or `-` for
    /// standard input. Gzip and zstd are recognised by content.
    #[arg(required = true)]
    pub inputs: Vec<String>,
    /// The lake (Delta format): a directory, or an object store URL (s3://BUCKET/PATH,
    /// az://CONTAINER/PATH, abfss://CONTAINER@ACCOUNT.dfs.core.windows.net/PATH,
    /// gs://BUCKET/PATH).
    #[arg(long, value_name = "DIR|URL", value_parser = parse_lake, required_if_eq("format", "delta"))]
    pub lake: Option<LakeLocation>,
    #[command(flatten)]
    pub storage: StorageArgs,
    /// Output storage.
    #[arg(long, value_enum, default_value_t = Format::Delta)]
    pub format: Format,
    /// Output directory for `--format parquet`.
    #[arg(long, required_if_eq("format", "parquet"))]
    pub out: Option<PathBuf>,
    /// Parse/flatten threads (default: all CPUs).
    #[arg(long, env = "CQLAKE_THREADS")]
    pub threads: Option<usize>,
    /// Parquet held in open data files before a commit (default 1 GiB).
    #[arg(long, env = "CQLAKE_COMMIT_BYTES", value_name = "SIZE", hide = true)]
    pub commit_bytes: Option<ByteSize>,
    /// Arrow data of replaced calls gathered before a commit (default 128 MiB).
    #[arg(long, env = "CQLAKE_GROUP_BYTES", value_name = "SIZE", hide = true)]
    pub group_bytes: Option<ByteSize>,
    /// Stop at the first bad record (exit 2) instead of quarantining it.
    #[arg(long)]
    pub strict: bool,
    #[command(flatten)]
    pub pseudonyms: PseudonymArgs,
    /// Largest record (a document, an array element or a page item), in MiB; a larger one is
    /// rejected. Each worker needs several times this much memory for it.
    #[arg(long, value_name = "MIB", default_value_t = 64)]
    pub max_record_mib: usize,
    /// No progress bar and no summary.
    #[arg(long, short)]
    pub quiet: bool,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
    /// Wait up to this long for another cqlake process writing to the lake to finish: seconds,
    /// or with a unit (90s, 5m, 2h); default 0, fail at once with exit code 4.
    #[arg(long, value_name = "DURATION", default_value = "0", value_parser = parse_duration)]
    pub wait: Duration,
}

/// What `pull` fetches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ValueEnum)]
pub enum PullKind {
    /// Call records (`/communications/callRecords`), with every session and participant.
    CallRecords,
    /// PSTN calls (`getPstnCalls`).
    Pstn,
    /// Direct-routing calls (`getDirectRoutingCalls`).
    DirectRouting,
    /// SMS logs (beta `getSmsLog`).
    Sms,
    /// PSTN blocked users (beta `getPstnBlockedUsersLog`).
    BlockedUsers,
    /// The PSTN online meeting dial-out report (beta).
    Dialout,
    /// Meeting recordings (`getAllRecordings` delta).
    Recordings,
}

/// Which Microsoft cloud.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CloudArg {
    /// graph.microsoft.com, login.microsoftonline.com.
    Global,
    /// US Government L4: graph.microsoft.us, login.microsoftonline.us.
    Usgov,
    /// US Government L5 (DoD): dod-graph.microsoft.us, login.microsoftonline.us.
    Usgovdod,
    /// Microsoft 365 operated by 21Vianet: refused, it has no call records.
    China,
}

/// `cqlake pull`.
#[derive(Debug, Args)]
pub struct PullArgs {
    /// The lake: a directory, or an object store URL (s3://BUCKET/PATH, az://CONTAINER/PATH,
    /// abfss://CONTAINER@ACCOUNT.dfs.core.windows.net/PATH, gs://BUCKET/PATH).
    #[arg(long, value_name = "DIR|URL", value_parser = parse_lake)]
    pub lake: LakeLocation,
    #[command(flatten)]
    pub storage: StorageArgs,
    /// Print where the pulls of the lake stand (windows, records not ready yet, recordings
    /// sync, recent runs) and exit; nothing is fetched.
    #[arg(long)]
    pub status: bool,
    /// The tenant (directory) id or domain (required unless --status).
    #[arg(long, env = "CQLAKE_TENANT_ID", value_name = "ID")]
    pub tenant: Option<String>,
    /// The application (client) id of the app registration (required unless --status).
    #[arg(long, env = "CQLAKE_CLIENT_ID", value_name = "ID")]
    pub client_id: Option<String>,
    /// A file holding the client secret (else the environment variable CQLAKE_CLIENT_SECRET).
    #[arg(long, value_name = "FILE", conflicts_with = "certificate")]
    pub client_secret_file: Option<PathBuf>,
    /// The app's certificate (PEM), with --private-key: sign in with a signed assertion.
    #[arg(long, value_name = "CERT.pem", requires = "private_key")]
    pub certificate: Option<PathBuf>,
    /// The certificate's RSA private key (PEM, PKCS#8 or PKCS#1, not encrypted).
    #[arg(long, value_name = "KEY.pem", requires = "certificate")]
    pub private_key: Option<PathBuf>,
    /// The cloud.
    #[arg(long, value_enum, default_value_t = CloudArg::Global)]
    pub cloud: CloudArg,
    /// Graph elsewhere (a proxy, a test stand-in): the bare root, such as
    /// http://127.0.0.1:8080, without /v1.0.
    #[arg(long, value_name = "URL")]
    pub graph_url: Option<String>,
    /// The sign-in service elsewhere: the bare root, such as http://127.0.0.1:8080.
    #[arg(long, value_name = "URL")]
    pub login_url: Option<String>,
    /// The N days up to now (default: from 3 days before the end of the last pull of each
    /// kind, 30 days the first time).
    #[arg(long, value_name = "N", conflicts_with_all = ["from", "to"])]
    pub days: Option<u32>,
    /// The first day of the window (UTC), with --to.
    #[arg(long, value_name = "DATE", requires = "to")]
    pub from: Option<Date>,
    /// The last day of the window (UTC, included).
    #[arg(long, value_name = "DATE", requires = "from")]
    pub to: Option<Date>,
    /// What to fetch, comma-separated.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "call-records,pstn,direct-routing"
    )]
    pub kinds: Vec<PullKind>,
    /// The meeting organizers whose recordings are pulled (with --kinds recordings): user ids,
    /// one a line (`#` starts a comment).
    #[arg(long, value_name = "FILE")]
    pub recordings_organizers: Option<PathBuf>,
    /// Also keep every raw Graph answer, gzip NDJSON by day (`DIR/YYYY-MM-DD.ndjson.gz`, one
    /// gzip member per run): `cqlake convert DIR` rebuilds the lake from it.
    #[arg(long, value_name = "DIR")]
    pub archive: Option<PathBuf>,
    /// Requests in flight at most.
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub concurrency: usize,
    #[command(flatten)]
    pub pseudonyms: PseudonymArgs,
    /// Parse/flatten threads (default: all CPUs).
    #[arg(long, env = "CQLAKE_THREADS")]
    pub threads: Option<usize>,
    /// No progress bar and no summary (errors are still printed).
    #[arg(long, short)]
    pub quiet: bool,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
    /// Wait up to this long for another cqlake process writing to the lake (seconds, or 90s,
    /// 5m, 2h); default 0, fail at once with exit code 4.
    #[arg(long, value_name = "DURATION", default_value = "0", value_parser = parse_duration)]
    pub wait: Duration,
    /// Client-side rate limits (requests per 20 s when listing, when getting records): below
    /// Graph's 40 and 1,500 by default.
    #[arg(
        long,
        value_name = "LIST,GET",
        hide = true,
        value_delimiter = ',',
        num_args = 2
    )]
    pub rate: Option<Vec<u32>>,
    /// The time the run takes as now (RFC 3339), for tests of windows and retention.
    #[arg(long, value_name = "TIME", hide = true)]
    pub now: Option<String>,
}

/// `cqlake pseudonym`.
#[derive(Debug, Args)]
pub struct PseudonymValuesArgs {
    /// The values (a UPN, user id, display name, phone number, IP address, …).
    #[arg(required = true)]
    pub values: Vec<String>,
    /// The file that holds the pseudonym key (else CQLAKE_PSEUDONYM_KEY).
    #[arg(long, value_name = "FILE")]
    pub pseudonym_key_file: Option<PathBuf>,
    /// Check that the key is the one this lake's pseudonyms are made with.
    #[arg(long, value_name = "DIR|URL", value_parser = parse_lake)]
    pub lake: Option<LakeLocation>,
    #[command(flatten)]
    pub storage: StorageArgs,
}

/// `cqlake schema`.
#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Only this table.
    pub table: Option<String>,
    /// As the Markdown reference docs/tables.md holds.
    #[arg(long)]
    pub markdown: bool,
}

/// What `gen` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GenKind {
    /// Call records (every option below applies).
    Calls,
    /// Recordings delta pages: a full round and an incremental one.
    Recordings,
    /// Record operations and the commsNotifications that end them.
    RecordOperations,
    /// getPstnCalls pages.
    Pstn,
    /// getDirectRoutingCalls pages.
    DirectRouting,
    /// getSmsLog pages (beta).
    Sms,
    /// getPstnBlockedUsersLog pages (beta).
    BlockedUsers,
    /// getPstnOnlineMeetingDialoutReport pages (beta).
    Dialout,
    /// callRecords change-notification payloads.
    Notifications,
}

/// Layouts of `gen`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GenContainer {
    /// One compact record per line, every session inline.
    Ndjson,
    /// One JSON array of compact records.
    Array,
    /// Pretty `$expand` responses, concatenated, every session inline.
    Concat,
    /// Compact callRecords collection pages, one per line.
    Page,
    /// One pretty-printed collection page.
    PrettyPage,
    /// Graph-faithful `$expand` responses (≤ 60 sessions, ≤ 130 participants) with their
    /// follow-up pages.
    Expanded,
}

/// API version shapes of `gen`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GenShape {
    /// v1.0 records.
    V1,
    /// beta records.
    Beta,
    /// Each call one or the other.
    Mixed,
}

/// Compression of `gen`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GenCompress {
    /// None.
    None,
    /// gzip.
    Gz,
    /// zstd.
    Zst,
}

/// `cqlake gen`.
#[derive(Debug, Args)]
pub struct GenArgs {
    /// The seed: the same seed and settings give the same bytes.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// What to write: call records, or the documents of a side table (one compact document
    /// per line, or one file per document in a directory).
    #[arg(long, value_enum, default_value_t = GenKind::Calls)]
    pub kind: GenKind,
    /// Distinct objects of a side-table kind (recordings, operations, log rows, notified calls).
    #[arg(long, default_value_t = 1000)]
    pub rows: u64,
    /// Objects per page of a side-table kind.
    #[arg(long, default_value_t = 100)]
    pub page_rows: u64,
    /// How many distinct calls (default 1000).
    #[arg(long, conflicts_with = "size")]
    pub calls: Option<u64>,
    /// The first UTC day calls start on (default 2024-05-01).
    #[arg(long, value_name = "DATE")]
    pub start: Option<Date>,
    /// Over how many days the calls start (default 30).
    #[arg(long, value_name = "N")]
    pub days: Option<u32>,
    /// Generate until this much uncompressed JSON is written: `500MB`, `1GB`, `2GiB`, bytes.
    #[arg(long)]
    pub size: Option<ByteSize>,
    /// Layout.
    #[arg(long, value_enum, default_value_t = GenContainer::Ndjson)]
    pub container: GenContainer,
    /// Graph API version the records look like.
    #[arg(long, value_enum, default_value_t = GenShape::V1)]
    pub shape: GenShape,
    /// Share of calls re-emitted later with a higher version (0 to 1).
    #[arg(long, default_value_t = 0.0)]
    pub revisions: f64,
    /// Start the output (every file, in a directory) with a UTF-8 byte order mark.
    #[arg(long)]
    pub bom: bool,
    /// Compression.
    #[arg(long, value_enum, default_value_t = GenCompress::None)]
    pub compress: GenCompress,
    /// Share of group calls (default 0.45; the rest are peer-to-peer).
    #[arg(long)]
    pub group_calls: Option<f64>,
    /// Share of group calls with 61 to 130 sessions (default 0.03).
    #[arg(long)]
    pub large_calls: Option<f64>,
    /// Share of group calls with 140 to 160 sessions (default 0.004).
    #[arg(long)]
    pub huge_calls: Option<f64>,
    /// Most sessions per `$expand` document and follow-up page of `--container expanded`
    /// (default 60, Graph's limit).
    #[arg(long)]
    pub sessions_per_page: Option<usize>,
    /// Most `participants_v2` per `$expand` document and follow-up page of
    /// `--container expanded` (default 130, Graph's limit).
    #[arg(long)]
    pub participants_per_page: Option<usize>,
    /// Output file (default: standard output). A path ending in `/` or an existing directory
    /// gets one file per JSON document (`00000000.json`, ...).
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Write the statistics to this file instead of standard error.
    #[arg(long)]
    pub stats: Option<PathBuf>,
}

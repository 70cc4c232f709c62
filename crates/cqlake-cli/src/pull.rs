//! `cqlake pull`: settings → Graph client → the answers, as one stream, through `convert`'s
//! pipeline into the lake → summary → exit code.

use std::collections::HashMap;
use std::io::{IsTerminal, Read, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::mpsc;

use anyhow::{Context, bail};
use arrow::array::{Array, AsArray};
use arrow::datatypes::Int64Type;
use cqlake_ingest::input::{Input, Stream};
use cqlake_pull::Secret;
use cqlake_pull::auth::{Certificate, Credential, TokenSource, unix_now};
use cqlake_pull::client::{ClientOptions, GraphClient};
use cqlake_pull::cloud::Cloud;
use cqlake_pull::logs::{self, Log, LogStats};
use cqlake_pull::records::{self, Event, RecordKey, RecordStats};
use cqlake_query::{Engine, EngineOptions};
use cqlake_schema::calendar::format_date;

use crate::args::{CloudArg, PullArgs, PullKind};
use crate::convert::{Job, Output};

const DAY_US: i64 = 86_400_000_000;

/// Where to sign in and what with.
struct Settings {
    graph_url: String,
    login_url: String,
    tenant: String,
    client_id: String,
    credential: Credential,
    from_us: i64,
    to_us: i64,
    options: ClientOptions,
    threads: usize,
    records: bool,
    logs: Vec<Log>,
}

fn resolve(a: &PullArgs) -> anyhow::Result<Settings> {
    if a.kinds.contains(&PullKind::Recordings) {
        bail!("--kinds recordings: recordings cannot be pulled yet (convert their delta pages)");
    }
    let cloud = Cloud::named(match a.cloud {
        CloudArg::Global => "global",
        CloudArg::Usgov => "usgov",
        CloudArg::Usgovdod => "usgovdod",
        CloudArg::China => "china",
    })?;
    let credential = if let (Some(c), Some(k)) = (&a.certificate, &a.private_key) {
        Credential::Certificate(Box::new(Certificate::from_pem_files(c, k)?))
    } else if let Some(f) = &a.client_secret_file {
        let text = std::fs::read_to_string(f)
            .with_context(|| format!("--client-secret-file {}", f.display()))?;
        let secret = text.trim();
        if secret.is_empty() {
            bail!("--client-secret-file {}: the file is empty", f.display());
        }
        Credential::Secret(Secret::new(secret))
    } else {
        match std::env::var("CQLAKE_CLIENT_SECRET") {
            Ok(s) if !s.trim().is_empty() => Credential::Secret(Secret::new(s.trim())),
            _ => bail!(
                "no credential: set CQLAKE_CLIENT_SECRET, or give --client-secret-file FILE, or --certificate CERT.pem --private-key KEY.pem"
            ),
        }
    };
    let now = (unix_now() as i64) * 1_000_000;
    let (from_us, to_us) = match (a.from, a.to) {
        (Some(f), Some(t)) => {
            if t.days < f.days {
                bail!("--to is before --from");
            }
            (
                i64::from(f.days) * DAY_US,
                ((i64::from(t.days) + 1) * DAY_US).min(now),
            )
        }
        _ => (now - i64::from(a.days.unwrap_or(30)) * DAY_US, now),
    };
    let mut options = ClientOptions {
        concurrency: a.concurrency.max(1),
        ..ClientOptions::default()
    };
    if let Some(r) = &a.rate {
        options.list_per_20s = r[0].max(1);
        options.get_per_20s = r[1].max(1);
    }
    Ok(Settings {
        graph_url: a
            .graph_url
            .clone()
            .unwrap_or_else(|| cloud.graph_url().into())
            .trim_end_matches('/')
            .to_string(),
        login_url: a
            .login_url
            .clone()
            .unwrap_or_else(|| cloud.login_url().into())
            .trim_end_matches('/')
            .to_string(),
        tenant: a.tenant.clone(),
        client_id: a.client_id.clone(),
        credential,
        from_us,
        to_us,
        options,
        threads: a
            .threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get())),
        records: a.kinds.contains(&PullKind::CallRecords),
        logs: [
            (PullKind::Pstn, Log::Pstn),
            (PullKind::DirectRouting, Log::DirectRouting),
            (PullKind::Sms, Log::Sms),
            (PullKind::BlockedUsers, Log::BlockedUsers),
            (PullKind::Dialout, Log::Dialout),
        ]
        .into_iter()
        .filter(|(k, _)| a.kinds.contains(k))
        .map(|(_, l)| l)
        .collect(),
    })
}

/// The keys of the records the lake holds for calls that started in the window (a day either
/// side).
fn known(
    rt: &tokio::runtime::Runtime,
    lake: &Path,
    from_us: i64,
    to_us: i64,
) -> anyhow::Result<HashMap<String, RecordKey>> {
    let engine = match rt.block_on(Engine::open(lake, EngineOptions::default())) {
        Ok(e) => e,
        // A lake with no table yet holds nothing.
        Err(_) if !lake.join("calls").exists() => return Ok(HashMap::new()),
        Err(e) => return Err(e).context("reading the lake's call records"),
    };
    let sql = format!(
        "SELECT call_id, version, CAST(last_modified_date_time AS BIGINT) FROM calls \
         WHERE call_start_date >= DATE '{}' AND call_start_date <= DATE '{}'",
        format_date(from_us.div_euclid(DAY_US) - 1),
        format_date(to_us.div_euclid(DAY_US) + 1)
    );
    let rows = rt
        .block_on(engine.sql(&sql))
        .context("reading the lake's call records")?;
    let mut out = HashMap::new();
    for b in &rows.batches {
        let ids = arrow::compute::cast(b.column(0), &arrow::datatypes::DataType::Utf8)?;
        let ids = ids.as_string::<i32>();
        let ver = b.column(1).as_primitive::<Int64Type>();
        let lm = b.column(2).as_primitive::<Int64Type>();
        for r in 0..b.num_rows() {
            let key = RecordKey {
                version: ver.is_valid(r).then(|| ver.value(r)),
                last_modified_us: lm.is_valid(r).then(|| lm.value(r)),
            };
            let e = out.entry(ids.value(r).to_string()).or_insert(key);
            *e = (*e).max(key);
        }
    }
    Ok(out)
}

/// The pulled records as a readable stream of NDJSON (one record a line).
struct Documents {
    rx: mpsc::Receiver<Vec<u8>>,
    buf: Vec<u8>,
    at: usize,
}

impl Read for Documents {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.at == self.buf.len() {
            match self.rx.recv() {
                Ok(mut doc) => {
                    doc.push(b'\n');
                    self.buf = doc;
                    self.at = 0;
                }
                Err(_) => return Ok(0),
            }
        }
        let n = out.len().min(self.buf.len() - self.at);
        out[..n].copy_from_slice(&self.buf[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// `--archive DIR`: every raw answer, one a line, in `DIR/YYYY-MM-DD.ndjson.gz` (the UTC day of
/// the run), a gzip member per run appended to the day's file.
struct Archive {
    dir: std::path::PathBuf,
    open: Option<(i64, flate2::write::GzEncoder<std::fs::File>)>,
}

impl Archive {
    fn write(&mut self, answers: &[records::Raw]) -> std::io::Result<()> {
        let day = (unix_now() as i64).div_euclid(86_400);
        if self.open.as_ref().is_none_or(|(d, _)| *d != day) {
            self.finish()?;
            std::fs::create_dir_all(&self.dir)?;
            let path = self.dir.join(format!("{}.ndjson.gz", format_date(day)));
            let f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)?;
            self.open = Some((
                day,
                flate2::write::GzEncoder::new(f, flate2::Compression::default()),
            ));
        }
        let (_, w) = self.open.as_mut().expect("opened above");
        for a in answers {
            w.write_all(&a.body)?;
            w.write_all(b"\n")?;
        }
        Ok(())
    }

    fn finish(&mut self) -> std::io::Result<()> {
        if let Some((_, w)) = self.open.take() {
            w.finish()?.sync_all()?;
        }
        Ok(())
    }
}

/// Hands each record to the pipeline (an unbounded channel: a sender inside the runtime never
/// blocks the workers the lake writer needs), keeps the pending ones, and archives the raw
/// answers.
struct ToPipeline {
    tx: mpsc::Sender<Vec<u8>>,
    archive: Option<Archive>,
    pending: Vec<(String, Option<i64>)>,
    bar: Option<indicatif::ProgressBar>,
    listed: u64,
    fetched: u64,
}

impl records::Sink for ToPipeline {
    fn record(&mut self, _id: &str, json: Vec<u8>) -> cqlake_pull::Result<()> {
        self.tx
            .send(json)
            .map_err(|e| cqlake_pull::Error::Sink(Box::new(e)))
    }

    fn raw(&mut self, answers: &[records::Raw]) -> cqlake_pull::Result<()> {
        match &mut self.archive {
            Some(a) => a
                .write(answers)
                .map_err(|e| cqlake_pull::Error::Sink(Box::new(e))),
            None => Ok(()),
        }
    }

    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Listed { listed, .. } => self.listed += listed as u64,
            Event::Fetched { .. } => self.fetched += 1,
            Event::Pending { id, start_us } => self.pending.push((id.to_string(), start_us)),
        }
        if let Some(b) = &self.bar {
            b.set_message(format!(
                "{} listed, {} fetched, {} pending",
                self.listed,
                self.fetched,
                self.pending.len()
            ));
        }
    }
}

/// What the Graph side did.
#[derive(Default)]
struct Pulled {
    records: RecordStats,
    logs: Vec<(Log, LogStats)>,
    requests: u64,
    throttled: u64,
    retries: u64,
    waited_s: f64,
    tokens: u64,
    pending: Vec<(String, Option<i64>)>,
}

pub fn run(a: PullArgs) -> anyhow::Result<ExitCode> {
    let s = resolve(&a)?;
    let rt = crate::convert::runtime(s.threads)?;
    let (tx, rx) = mpsc::channel();
    let stream = Input::Stream(Stream::new(
        "graph",
        Box::new(Documents {
            rx,
            buf: Vec::new(),
            at: 0,
        }),
    ));
    let progress = !a.quiet && std::io::stderr().is_terminal();
    let bar = progress.then(|| {
        let b = indicatif::ProgressBar::new_spinner();
        b.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {elapsed}  {msg}")
                .expect("valid template"),
        );
        b.enable_steady_tick(std::time::Duration::from_millis(200));
        b
    });
    let job = Job {
        inputs: vec![stream],
        output: Output::Delta(a.lake.clone()),
        threads: s.threads,
        strict: false,
        progress: false,
        wait: a.wait,
        max_record_bytes: 256 << 20,
        commit_bytes: None,
        group_bytes: None,
    };
    let lake = a.lake.clone();
    let archive_dir = a.archive.clone();
    let Settings {
        graph_url,
        login_url,
        tenant,
        client_id,
        credential,
        from_us,
        to_us,
        options,
        records: pull_records,
        logs: pull_logs,
        ..
    } = s;
    let mut task = None;
    let sink_bar = bar.clone();
    let summary = crate::convert::execute(job, &rt, |rt| {
        let known = known(rt, &lake, from_us, to_us)?;
        let http = reqwest::Client::builder()
            .user_agent(concat!("cqlake/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("starting the HTTP client")?;
        let tokens = TokenSource::new(
            http.clone(),
            &login_url,
            &graph_url,
            &tenant,
            &client_id,
            credential,
        )?;
        let concurrency = options.concurrency;
        let client = GraphClient::new(http, &graph_url, tokens, options)?;
        let mut sink = ToPipeline {
            tx,
            archive: archive_dir.map(|dir| Archive { dir, open: None }),
            pending: Vec::new(),
            bar: sink_bar,
            listed: 0,
            fetched: 0,
        };
        task = Some(rt.spawn(async move {
            let mut out = Pulled::default();
            if pull_records {
                out.records =
                    records::pull_records(&client, from_us, to_us, &known, concurrency, &mut sink)
                        .await?;
            }
            for log in pull_logs {
                let mut page = |raw: records::Raw| {
                    records::Sink::raw(&mut sink, std::slice::from_ref(&raw))?;
                    sink.tx
                        .send(raw.body.to_vec())
                        .map_err(|e| cqlake_pull::Error::Sink(Box::new(e)))
                };
                let st = logs::pull_log(&client, log, from_us, to_us, &mut page).await?;
                out.logs.push((log, st));
            }
            if let Some(a) = &mut sink.archive {
                a.finish()
                    .map_err(|e| cqlake_pull::Error::Sink(Box::new(e)))?;
            }
            let st = client.stats();
            let get =
                |a: &std::sync::atomic::AtomicU64| a.load(std::sync::atomic::Ordering::Relaxed);
            out.requests = get(&st.requests);
            out.throttled = get(&st.throttled);
            out.retries = get(&st.retries);
            out.waited_s = get(&st.waited_ms) as f64 / 1000.0;
            out.tokens = client.tokens_fetched();
            out.pending = std::mem::take(&mut sink.pending);
            Ok::<_, cqlake_pull::Error>(out)
            // `sink` (the sender) drops here: the stream ends and the pipeline finishes.
        }));
        Ok(())
    });
    let pulled = match task {
        Some(t) => rt.block_on(t).context("the pull task")?,
        None => {
            summary?;
            unreachable!("the hook runs when the lake opens")
        }
    };
    let summary = summary?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let pulled = match pulled {
        Ok(p) => p,
        Err(e) => {
            // What came before the error is in the lake; the error is always shown.
            eprintln!(
                "cqlake: error: {e}\n(records got before it were converted: {} call records)",
                summary.stats.calls
            );
            return Ok(ExitCode::from(crate::EXIT_FATAL));
        }
    };
    if a.json {
        let mut json = summary.to_json();
        json["pull"] = serde_json::json!({
            "window": [cqlake_schema::calendar::format_timestamp_us(from_us),
                       cqlake_schema::calendar::format_timestamp_us(to_us)],
            "listed": pulled.records.listed,
            "fetched": pulled.records.fetched,
            "unchanged": pulled.records.unchanged,
            "pending": pulled.records.pending,
            "pending_ids": pulled.pending.iter().map(|p| p.0.clone()).collect::<Vec<_>>(),
            "list_pages": pulled.records.list_pages,
            "next_pages": pulled.records.next_pages,
            "requests": pulled.requests,
            "throttled": pulled.throttled,
            "retries": pulled.retries,
            "waited_seconds": pulled.waited_s,
            "tokens": pulled.tokens,
            "logs": pulled.logs.iter().map(|(l, st)| (l.function().1.to_string(),
                serde_json::json!({"pages": st.pages, "rows": st.rows}))).collect::<serde_json::Map<_, _>>(),
        });
        writeln!(std::io::stdout().lock(), "{json}")?;
    } else if !a.quiet {
        eprintln!(
            "pulled {} to {}: {} call records listed, {} fetched, {} unchanged, {} pending (not ready yet: fetched again next time)",
            cqlake_schema::calendar::format_timestamp_us(from_us),
            cqlake_schema::calendar::format_timestamp_us(to_us),
            pulled.records.listed,
            pulled.records.fetched,
            pulled.records.unchanged,
            pulled.records.pending
        );
        eprintln!(
            "graph: {} requests ({} listing pages, {} session and participant pages), {} throttled, {} retries, {:.1} s waited",
            pulled.requests,
            pulled.records.list_pages,
            pulled.records.next_pages,
            pulled.throttled,
            pulled.retries,
            pulled.waited_s
        );
        for (l, st) in &pulled.logs {
            eprintln!("{}: {} rows in {} pages", l.function().1, st.rows, st.pages);
        }
        eprint!("{}", summary.to_text());
    }
    Ok(ExitCode::from(summary.exit_code()))
}

//! `cqlake pull`: settings → Graph client → the answers, as one stream, through `convert`'s
//! pipeline into the lake → summary → exit code.

use std::collections::HashMap;
use std::io::{IsTerminal, Read, Write};
use std::process::ExitCode;
use std::sync::atomic::Ordering;
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
use cqlake_pull::recordings::{self, RecordingStats};
use cqlake_pull::records::{self, Event, RecordKey, RecordStats};
use cqlake_pull::state::{PullState, RecordStatus};
use cqlake_query::{Engine, EngineOptions};
use cqlake_schema::calendar::{format_date, format_timestamp_us};

use crate::args::{CloudArg, PullArgs, PullKind};
use crate::convert::{Job, Output};

const DAY_US: i64 = 86_400_000_000;

/// A window given on the command line, or the default one of each kind.
#[derive(Debug, Clone, Copy)]
enum Window {
    /// `--days N`, `--from/--to`: the same for every kind.
    Given(i64, i64),
    /// From the lake's `pull_state`: 3 days before the end of each kind's last pull.
    Default,
}

/// Where to sign in and what with.
struct Settings {
    graph_url: String,
    login_url: String,
    tenant: String,
    client_id: String,
    credential: Credential,
    now_us: i64,
    window: Window,
    options: ClientOptions,
    threads: usize,
    records: bool,
    logs: Vec<Log>,
    organizers: Vec<String>,
}

/// The name of a kind in `pull_state` and on the command line.
fn kind_name(k: PullKind) -> &'static str {
    match k {
        PullKind::CallRecords => "call-records",
        PullKind::Pstn => "pstn",
        PullKind::DirectRouting => "direct-routing",
        PullKind::Sms => "sms",
        PullKind::BlockedUsers => "blocked-users",
        PullKind::Dialout => "dialout",
        PullKind::Recordings => "recordings",
    }
}

fn log_kind(l: Log) -> &'static str {
    kind_name(match l {
        Log::Pstn => PullKind::Pstn,
        Log::DirectRouting => PullKind::DirectRouting,
        Log::Sms => PullKind::Sms,
        Log::BlockedUsers => PullKind::BlockedUsers,
        Log::Dialout => PullKind::Dialout,
    })
}

/// Now, in µs (a run's key in `pull_state`: two runs in one second are two rows).
fn now_precise_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

fn now_of(a: &PullArgs) -> anyhow::Result<i64> {
    match &a.now {
        Some(t) => cqlake_schema::calendar::parse_timestamp_us(t)
            .with_context(|| format!("--now {t:?} is not a time (RFC 3339)")),
        None => Ok((unix_now() as i64) * 1_000_000),
    }
}

fn resolve(a: &PullArgs) -> anyhow::Result<Settings> {
    let cloud = Cloud::named(match a.cloud {
        CloudArg::Global => "global",
        CloudArg::Usgov => "usgov",
        CloudArg::Usgovdod => "usgovdod",
        CloudArg::China => "china",
    })?;
    let (Some(tenant), Some(client_id)) = (&a.tenant, &a.client_id) else {
        bail!("--tenant and --client-id (or CQLAKE_TENANT_ID and CQLAKE_CLIENT_ID) are required");
    };
    let organizers = if a.kinds.contains(&PullKind::Recordings) {
        let Some(f) = &a.recordings_organizers else {
            bail!(
                "--kinds recordings needs --recordings-organizers FILE (the organizers' user ids, one a line)"
            );
        };
        let text = std::fs::read_to_string(f)
            .with_context(|| format!("--recordings-organizers {}", f.display()))?;
        let ids: Vec<String> = text
            .lines()
            .map(|l| l.split('#').next().unwrap_or("").trim().to_string())
            .filter(|l| !l.is_empty())
            .collect();
        if ids.is_empty() {
            bail!("--recordings-organizers {}: no user id in it", f.display());
        }
        ids
    } else {
        Vec::new()
    };
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
    let now = now_of(a)?;
    let window = match (a.from, a.to, a.days) {
        (Some(f), Some(t), _) => {
            if t.days < f.days {
                bail!("--to is before --from");
            }
            Window::Given(
                i64::from(f.days) * DAY_US,
                ((i64::from(t.days) + 1) * DAY_US).min(now),
            )
        }
        (_, _, Some(d)) => Window::Given(now - i64::from(d) * DAY_US, now),
        _ => Window::Default,
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
        tenant: tenant.clone(),
        client_id: client_id.clone(),
        credential,
        now_us: now,
        window,
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
        organizers,
    })
}

/// The lake's SQL session, or `None` for a lake with no table yet.
fn open_engine(
    rt: &tokio::runtime::Runtime,
    lake: &cqlake_lake::LakeLocation,
) -> anyhow::Result<Option<Engine>> {
    if !rt
        .block_on(cqlake_lake::lake_exists(lake))
        .context("reading the lake")?
    {
        return Ok(None);
    }
    rt.block_on(Engine::open(lake.clone(), EngineOptions::default()))
        .map(Some)
        .context("reading the lake")
}

/// The lake's `pull_state`.
fn read_state(rt: &tokio::runtime::Runtime, engine: Option<&Engine>) -> anyhow::Result<PullState> {
    let Some(engine) = engine else {
        return Ok(PullState::default());
    };
    let rows = rt
        .block_on(engine.sql("SELECT * FROM pull_state"))
        .context("reading the lake's pull_state")?;
    Ok(PullState::from_batches(&rows.batches)?)
}

/// For each recordings organizer, the link its delta query resumes from (the newest one the
/// lake's `sync_state` keeps) and when it was seen.
fn resume_links(
    rt: &tokio::runtime::Runtime,
    engine: Option<&Engine>,
) -> anyhow::Result<HashMap<String, (String, i64, bool)>> {
    let mut out: HashMap<String, (String, i64, bool)> = HashMap::new();
    let Some(engine) = engine else {
        return Ok(out);
    };
    let rows = rt
        .block_on(engine.sql(
            "SELECT organizer_user_id, resume_link, \
             CAST(GREATEST(COALESCE(delta_link_seen_at, next_link_seen_at), COALESCE(next_link_seen_at, delta_link_seen_at)) AS BIGINT), \
             round_complete \
             FROM sync_state WHERE organizer_user_id IS NOT NULL AND resume_link IS NOT NULL",
        ))
        .context("reading the lake's sync_state")?;
    for b in &rows.batches {
        let s = |i: usize| arrow::compute::cast(b.column(i), &arrow::datatypes::DataType::Utf8);
        let (org, link) = (s(0)?, s(1)?);
        let (org, link) = (org.as_string::<i32>(), link.as_string::<i32>());
        let at = b.column(2).as_primitive::<Int64Type>();
        let done = b.column(3).as_boolean();
        for r in 0..b.num_rows() {
            let seen = if at.is_valid(r) { at.value(r) } else { 0 };
            let e = out
                .entry(org.value(r).to_string())
                .or_insert((String::new(), i64::MIN, false));
            if seen >= e.1 {
                *e = (
                    link.value(r).to_string(),
                    seen,
                    done.is_valid(r) && done.value(r),
                );
            }
        }
    }
    Ok(out)
}

/// `links` as [`resume_links`] read them from a pseudonymised lake (by the organizers' tokens,
/// with tokens inside the links), by the organizers' ids with their ids put back: the links
/// Graph answers.
fn restore_links(
    mut links: HashMap<String, (String, i64, bool)>,
    organizers: &[String],
    p: &cqlake_privacy::Pseudonymiser,
) -> HashMap<String, (String, i64, bool)> {
    organizers
        .iter()
        .filter_map(|org| {
            let (link, at, done) = links.remove(&p.token(org))?;
            Some((org.clone(), (p.restore_link(&link, org), at, done)))
        })
        .collect()
}

/// The keys of the records the lake holds for calls that started in the window (a day either
/// side), and for the pending records.
fn known(
    rt: &tokio::runtime::Runtime,
    engine: Option<&Engine>,
    from_us: i64,
    to_us: i64,
) -> anyhow::Result<HashMap<String, RecordKey>> {
    let Some(engine) = engine else {
        return Ok(HashMap::new());
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
/// blocks the workers the lake writer needs), keeps the state of the records not ready, shows
/// progress, and archives the raw answers.
struct ToPipeline {
    tx: mpsc::Sender<Vec<u8>>,
    archive: Option<Archive>,
    state: PullState,
    bar: Option<indicatif::ProgressBar>,
    client: Option<GraphClient>,
    day: (usize, usize),
    pages: u64,
    listed: u64,
    fetched: u64,
    pending: u64,
}

impl ToPipeline {
    fn send(&mut self, raw: records::Raw) -> cqlake_pull::Result<()> {
        records::Sink::raw(self, std::slice::from_ref(&raw))?;
        self.pages += 1;
        self.show();
        self.tx
            .send(raw.body.to_vec())
            .map_err(|e| cqlake_pull::Error::Sink(Box::new(e)))
    }

    fn show(&self) {
        let Some(b) = &self.bar else { return };
        let mut msg = String::new();
        if self.day.1 > 0 {
            msg.push_str(&format!("day {}/{}, ", self.day.0, self.day.1));
        }
        msg.push_str(&format!(
            "{} listed, {} fetched, {} pending, {} pages",
            self.listed, self.fetched, self.pending, self.pages
        ));
        if let Some(c) = &self.client {
            let st = c.stats();
            let get = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
            msg.push_str(&format!(", {} requests", get(&st.requests)));
            let throttled = get(&st.throttled);
            if throttled > 0 {
                msg.push_str(&format!(
                    ", {throttled} throttled ({:.1} s waited)",
                    get(&st.waited_ms) as f64 / 1000.0
                ));
            }
        }
        b.set_message(msg);
    }
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
        let now = (unix_now() as i64) * 1_000_000;
        match event {
            Event::Listed {
                listed,
                day,
                days,
                pages,
                ..
            } => {
                self.listed += listed as u64;
                self.day = (day, days);
                self.pages += pages;
            }
            Event::Fetched { id } => {
                self.fetched += 1;
                self.state.fetched(id, now);
            }
            Event::Pending { listed } => {
                self.pending += 1;
                self.state.pending(listed, now);
            }
        }
        self.show();
    }
}

/// What the Graph side did.
#[derive(Default)]
struct Pulled {
    records: RecordStats,
    logs: Vec<(Log, LogStats)>,
    recordings: Vec<(String, RecordingStats)>,
    /// The kinds pulled to the end, with their windows.
    complete: Vec<(&'static str, i64, i64)>,
    given_up: Vec<String>,
    requests: u64,
    throttled: u64,
    retries: u64,
    waited_s: f64,
    tokens: u64,
}

/// The run's windows: the call records' and each log's.
struct Windows {
    records: (i64, i64),
    logs: Vec<(Log, i64, i64)>,
    recordings_from: i64,
}

fn windows(s: &Settings, state: &PullState) -> Windows {
    let of = |kind: &str| match s.window {
        Window::Given(f, t) => (f, t),
        Window::Default => state.default_window(kind, s.now_us),
    };
    Windows {
        records: of("call-records"),
        logs: s
            .logs
            .iter()
            .map(|&l| {
                let (f, t) = of(log_kind(l));
                (l, f, t)
            })
            .collect(),
        recordings_from: of("recordings").0,
    }
}

pub fn run(a: PullArgs) -> anyhow::Result<ExitCode> {
    if a.status {
        return status(&a);
    }
    let s = resolve(&a)?;
    let pseudonyms = a.pseudonyms.resolve()?;
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
    let lake = a.storage.apply(&a.lake)?;
    let job = Job {
        inputs: vec![stream],
        output: Output::Delta(lake.clone()),
        threads: s.threads,
        strict: false,
        progress: false,
        wait: a.wait,
        max_record_bytes: 256 << 20,
        commit_bytes: None,
        group_bytes: None,
        pseudonyms: pseudonyms.clone(),
    };
    let archive_dir = a.archive.clone();
    let started_us = now_precise_us();
    // Shared by the two hooks: the pull task the first starts and the second waits for.
    let task = std::cell::RefCell::new(None);
    let windows_used = std::cell::Cell::new(None);
    let sink_bar = bar.clone();
    let mut outcome: Option<(PullState, Pulled, Result<(), cqlake_pull::Error>)> = None;
    let summary = crate::convert::execute(
        job,
        &rt,
        |rt| {
            // The lock is held: the state read here is the last run's.
            let engine = open_engine(rt, &lake)?;
            let mut state = read_state(rt, engine.as_ref())?;
            let w = windows(&s, &state);
            let (again, given_up) = state.due(s.now_us);
            let oldest = again
                .iter()
                .filter_map(|l| l.start_us)
                .fold(w.records.0, i64::min);
            let known = known(rt, engine.as_ref(), oldest, w.records.1)?;
            let resume = if s.organizers.is_empty() {
                HashMap::new()
            } else {
                let links = resume_links(rt, engine.as_ref())?;
                match &pseudonyms {
                    Some(p) => restore_links(links, &s.organizers, p),
                    None => links,
                }
            };
            drop(engine);
            windows_used.set(Some(w.records));
            let Settings {
                graph_url,
                login_url,
                tenant,
                client_id,
                credential,
                options,
                records: pull_records,
                organizers,
                ..
            } = s;
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
                state,
                bar: sink_bar,
                client: Some(client.clone()),
                day: (0, 0),
                pages: 0,
                listed: 0,
                fetched: 0,
                pending: 0,
            };
            *task.borrow_mut() = Some(rt.spawn(async move {
                let mut out = Pulled {
                    given_up,
                    ..Pulled::default()
                };
                let r: Result<(), cqlake_pull::Error> = async {
                    if pull_records {
                        out.records = records::pull_records(
                            &client,
                            w.records,
                            &known,
                            &again,
                            concurrency,
                            &mut sink,
                        )
                        .await?;
                        out.complete
                            .push(("call-records", w.records.0, w.records.1));
                    }
                    for &(log, from, to) in &w.logs {
                        let st = logs::pull_log(&client, log, from, to, &mut |raw| sink.send(raw))
                            .await?;
                        out.logs.push((log, st));
                        out.complete.push((log_kind(log), from, to));
                    }
                    for org in &organizers {
                        let link = resume.get(org).map(|(l, _, _)| l.as_str());
                        let st = recordings::pull_recordings(
                            &client,
                            org,
                            link,
                            w.recordings_from,
                            &mut |raw| sink.send(raw),
                        )
                        .await?;
                        out.recordings.push((org.clone(), st));
                    }
                    if !organizers.is_empty() {
                        out.complete
                            .push(("recordings", w.recordings_from, s.now_us));
                    }
                    Ok(())
                }
                .await;
                let archived = match &mut sink.archive {
                    Some(a) => a
                        .finish()
                        .map_err(|e| cqlake_pull::Error::Sink(Box::new(e))),
                    None => Ok(()),
                };
                let st = client.stats();
                let get = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
                out.requests = get(&st.requests);
                out.throttled = get(&st.throttled);
                out.retries = get(&st.retries);
                out.waited_s = get(&st.waited_ms) as f64 / 1000.0;
                out.tokens = client.tokens_fetched();
                if r.is_err() {
                    // Counts of what was done before the error.
                    out.records.listed = sink.listed;
                    out.records.fetched = sink.fetched;
                    out.records.pending = sink.pending;
                }
                let state = std::mem::take(&mut sink.state);
                (state, out, r.and(archived))
                // `sink` (the sender) drops here: the stream ends and the pipeline finishes.
            }));
            Ok(())
        },
        |rt| {
            // Every document is read: the task has ended (its sender is gone).
            let Some(t) = task.borrow_mut().take() else {
                return Ok(None);
            };
            let (mut state, p, result) = rt.block_on(t).context("the pull task")?;
            // The kinds pulled to the end advance, even when a later one failed.
            for &(kind, from, to) in &p.complete {
                state.complete_window(kind, from, to);
            }
            let run = cqlake_pull::state::Run {
                started_us,
                ended_us: now_precise_us(),
                window: windows_used.get().unwrap_or((0, 0)),
                complete: result.is_ok(),
                error: result.as_ref().err().map(|e| e.to_string()),
                listed: p.records.listed,
                fetched: p.records.fetched,
                unchanged: p.records.unchanged,
                pending: p.records.pending,
                given_up: p.given_up.len() as u64,
                log_rows: p.logs.iter().map(|(_, st)| st.rows).sum(),
                recordings: p.recordings.iter().map(|(_, st)| st.recordings).sum(),
                requests: p.requests,
                throttled: p.throttled,
            };
            state.add_run(run);
            let batch = state.to_batch()?;
            outcome = Some((state, p, result));
            Ok(Some(batch))
        },
    );
    let summary = summary?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let Some((state, pulled, result)) = outcome else {
        bail!("the pull did not start");
    };
    let (from_us, to_us) = windows_used.get().unwrap_or((0, 0));
    match result {
        Ok(()) => {}
        Err(e) => {
            // What came before the error is in the lake; the error is always shown.
            eprintln!(
                "cqlake: error: {e}\n(records got before it were converted: {} call records)",
                summary.stats.calls
            );
            return Ok(ExitCode::from(crate::EXIT_FATAL));
        }
    }
    let pending_ids = state.pending_ids();
    if a.json {
        let mut json = summary.to_json();
        json["pull"] = serde_json::json!({
            "window": [format_timestamp_us(from_us), format_timestamp_us(to_us)],
            "listed": pulled.records.listed,
            "fetched": pulled.records.fetched,
            "unchanged": pulled.records.unchanged,
            "pending": pulled.records.pending,
            "retried": pulled.records.retried,
            "pending_ids": pending_ids,
            "given_up": pulled.given_up.len(),
            "given_up_ids": pulled.given_up,
            "list_pages": pulled.records.list_pages,
            "next_pages": pulled.records.next_pages,
            "requests": pulled.requests,
            "throttled": pulled.throttled,
            "retries": pulled.retries,
            "waited_seconds": pulled.waited_s,
            "tokens": pulled.tokens,
            "logs": pulled.logs.iter().map(|(l, st)| (l.function().1.to_string(),
                serde_json::json!({"pages": st.pages, "rows": st.rows}))).collect::<serde_json::Map<_, _>>(),
            "recordings": pulled.recordings.iter().map(|(o, st)| (o.clone(),
                serde_json::json!({"pages": st.pages, "recordings": st.recordings, "restarted": st.restarted})))
                .collect::<serde_json::Map<_, _>>(),
            "seconds": summary.elapsed.as_secs_f64(),
        });
        writeln!(std::io::stdout().lock(), "{json}")?;
    } else if !a.quiet {
        if pulled.records != RecordStats::default() || !pulled.given_up.is_empty() {
            eprintln!(
                "pulled {} to {}: {} call records listed, {} fetched, {} unchanged, {} pending (not ready yet: asked for again next time)",
                format_timestamp_us(from_us),
                format_timestamp_us(to_us),
                pulled.records.listed,
                pulled.records.fetched,
                pulled.records.unchanged,
                pending_ids.len()
            );
        }
        if !pulled.given_up.is_empty() {
            eprintln!(
                "given up: {} call records never became ready within Graph's 30 days: {}",
                pulled.given_up.len(),
                pulled.given_up.join(", ")
            );
        }
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
        for (o, st) in &pulled.recordings {
            eprintln!(
                "recordings of {o}: {} in {} pages{}",
                st.recordings,
                st.pages,
                if st.restarted {
                    " (the saved sync state had expired: a full round)"
                } else {
                    ""
                }
            );
        }
        eprint!("{}", summary.to_text());
    }
    Ok(ExitCode::from(summary.exit_code()))
}

/// `cqlake pull --status`: where the pulls of the lake stand.
fn status(a: &PullArgs) -> anyhow::Result<ExitCode> {
    let rt = crate::convert::runtime(1)?;
    let lake = a.storage.apply(&a.lake)?;
    let engine = open_engine(&rt, &lake)?;
    if engine.is_none() && lake.as_local().is_none_or(|d| !d.exists()) {
        bail!("{lake}: no lake there");
    }
    let state = read_state(&rt, engine.as_ref())?;
    let resume = resume_links(&rt, engine.as_ref())?;
    let now = now_of(a)?;
    let t = format_timestamp_us;
    let pending: Vec<(&String, &cqlake_pull::state::PendingRecord)> = state
        .records
        .iter()
        .filter(|(_, r)| r.status == RecordStatus::Pending)
        .collect();
    let given_up = state
        .records
        .values()
        .filter(|r| r.status == RecordStatus::GivenUp)
        .count();
    if a.json {
        let json = serde_json::json!({
            "windows": state.windows.iter().map(|(k, &(f, to))| (k.clone(), serde_json::json!({
                "from": t(f), "to": t(to), "next_from": t(state.default_window(k, now).0)})))
                .collect::<serde_json::Map<_, _>>(),
            "pending": pending.iter().map(|(id, r)| serde_json::json!({
                "id": id, "call_start": r.call_start_us.map(t), "first_seen": t(r.first_seen_us),
                "last_attempt": t(r.last_attempt_us), "attempts": r.attempts})).collect::<Vec<_>>(),
            "given_up": given_up,
            "recordings": resume.iter().map(|(o, (_, at, done))| (o.clone(), serde_json::json!({
                "round_complete": done, "seen_at": (*at > 0).then(|| t(*at))})))
                .collect::<serde_json::Map<_, _>>(),
            "runs": state.runs.iter().rev().take(10).map(|r| serde_json::json!({
                "started": t(r.started_us), "ended": t(r.ended_us), "complete": r.complete,
                "window": [t(r.window.0), t(r.window.1)], "listed": r.listed, "fetched": r.fetched,
                "unchanged": r.unchanged, "pending": r.pending, "given_up": r.given_up,
                "log_rows": r.log_rows, "recordings": r.recordings, "requests": r.requests,
                "throttled": r.throttled, "error": r.error})).collect::<Vec<_>>(),
        });
        writeln!(std::io::stdout().lock(), "{json}")?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = String::new();
    if state.runs.is_empty() {
        out.push_str("no pull has run on this lake\n");
    }
    for (k, &(_, to)) in &state.windows {
        out.push_str(&format!(
            "{k}: pulled up to {}; the next run starts at {}\n",
            t(to),
            t(state.default_window(k, now).0)
        ));
    }
    out.push_str(&format!(
        "pending call records: {} (answered 404: asked for again next run, given up past 30 days); given up so far: {given_up}\n",
        pending.len()
    ));
    for (id, r) in &pending {
        out.push_str(&format!(
            "  {id}  started {}  first 404 {}  asked {} times\n",
            r.call_start_us.map_or("?".to_string(), t),
            t(r.first_seen_us),
            r.attempts
        ));
    }
    for (o, (_, at, done)) in &resume {
        out.push_str(&format!(
            "recordings of {o}: {} (state saved {})\n",
            if *done {
                "round complete, resumes from its delta link"
            } else {
                "round under way, resumes from its next link"
            },
            if *at > 0 { t(*at) } else { "?".into() }
        ));
    }
    if !state.runs.is_empty() {
        out.push_str("recent runs:\n");
    }
    for r in state.runs.iter().rev().take(5) {
        out.push_str(&format!(
            "  {}  {}  {} to {}: {} listed, {} fetched, {} unchanged, {} pending, {} requests, {} throttled{}\n",
            t(r.started_us),
            if r.complete { "complete" } else { "failed" },
            t(r.window.0),
            t(r.window.1),
            r.listed,
            r.fetched,
            r.unchanged,
            r.pending,
            r.requests,
            r.throttled,
            r.error.as_ref().map(|e| format!(": {e}")).unwrap_or_default()
        ));
    }
    write!(std::io::stdout().lock(), "{out}")?;
    Ok(ExitCode::SUCCESS)
}

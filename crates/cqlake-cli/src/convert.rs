//! `cqlake convert`: settings → pipeline → lake writer → summary → exit code.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};
use cqlake_ingest::source::{self, Delivery, PipelineOptions, Reject};
use cqlake_ingest::{Error as IngestError, input};
use cqlake_lake::{LakeWriter, ParquetWriter, Prepared, PreparedRows};
use cqlake_schema::batch::{FlatParts, SideBatch};

use crate::args::{ConvertArgs, Format};
use crate::summary::Summary;

/// `convert` arguments resolved into settings: clap has applied CLI > environment > default
/// (`CQLAKE_THREADS`, `CQLAKE_COMMIT_BYTES`, `CQLAKE_GROUP_BYTES`); this adds what depends on
/// the machine and the terminal.
struct ConvertSettings {
    job: Job,
    summary: bool,
    json: bool,
}

/// A run of the pipeline into the lake (or Parquet files): `convert`'s, and `pull`'s with the
/// Graph answers as its one input.
pub(crate) struct Job {
    pub inputs: Vec<input::Input>,
    pub output: Output,
    pub threads: usize,
    pub strict: bool,
    pub progress: bool,
    pub wait: std::time::Duration,
    pub max_record_bytes: usize,
    /// `CQLAKE_COMMIT_BYTES`: Parquet held in open data files before a commit.
    pub commit_bytes: Option<usize>,
    /// `CQLAKE_GROUP_BYTES`: Arrow data of replaced calls gathered before a commit.
    pub group_bytes: Option<usize>,
    /// `--pseudonymise`: personal values replaced by tokens under this key.
    pub pseudonyms: Option<cqlake_privacy::Pseudonymiser>,
}

pub(crate) enum Output {
    Delta(cqlake_lake::LakeLocation),
    Parquet(PathBuf),
}

/// Where a run keeps its local files (spills, rejects before they are uploaded): the lake's
/// directory, or for a lake on an object store a scratch directory, removed at the end.
enum WorkDir {
    Lake(PathBuf),
    Scratch(cqlake_lake::Scratch),
}

impl WorkDir {
    fn of(output: &Output) -> anyhow::Result<WorkDir> {
        Ok(match output {
            Output::Parquet(dir) => WorkDir::Lake(dir.clone()),
            Output::Delta(lake) => match lake.as_local() {
                Some(dir) => WorkDir::Lake(dir.to_path_buf()),
                None => WorkDir::Scratch(cqlake_lake::Scratch::new("work")?),
            },
        })
    }

    fn dir(&self) -> &std::path::Path {
        match self {
            WorkDir::Lake(dir) => dir,
            WorkDir::Scratch(s) => s.path(),
        }
    }
}

fn resolve(a: ConvertArgs) -> anyhow::Result<ConvertSettings> {
    let inputs = input::expand_inputs(&a.inputs)?;
    let threads = a
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let output = match a.format {
        Format::Delta => Output::Delta(
            a.storage
                .apply(a.lake.as_ref().context("--lake DIR is required")?)?,
        ),
        Format::Parquet => Output::Parquet(match (a.out, a.lake) {
            (Some(out), _) => out,
            (None, Some(lake)) => lake
                .as_local()
                .with_context(|| {
                    format!("{lake}: a Parquet export is written to a local directory (--out DIR)")
                })?
                .to_path_buf(),
            (None, None) => bail!("--out DIR is required with --format parquet"),
        }),
    };
    Ok(ConvertSettings {
        job: Job {
            inputs,
            output,
            threads,
            strict: a.strict,
            progress: !a.quiet && std::io::stderr().is_terminal(),
            wait: a.wait,
            max_record_bytes: a.max_record_mib.saturating_mul(1 << 20),
            commit_bytes: a.commit_bytes.map(|b| b.0 as usize),
            group_bytes: a.group_bytes.map(|b| b.0 as usize),
            pseudonyms: a.pseudonyms.resolve()?,
        },
        summary: !a.quiet,
        json: a.json,
    })
}

enum Sink {
    Delta(Box<LakeWriter>),
    Parquet(Box<ParquetWriter>),
}

/// A batch as the workers hand it on, encoded for its sink.
enum Item {
    Delta(cqlake_lake::Result<Prepared>),
    Parquet(cqlake_lake::Result<PreparedRows>),
    /// A batch that could not be pseudonymised.
    Failed(cqlake_privacy::Error),
}

pub fn run(args: ConvertArgs) -> anyhow::Result<ExitCode> {
    let s = resolve(args)?;
    let rt = runtime(s.job.threads)?;
    let summary = execute(s.job, &rt, |_| Ok(()), |_| Ok(None))?;
    if s.json {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", summary.to_json())?;
    } else if s.summary {
        eprint!("{}", summary.to_text());
    }
    Ok(ExitCode::from(summary.exit_code()))
}

/// The runtime of a run with `threads` workers.
pub(crate) fn runtime(threads: usize) -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .enable_all()
        .build()?)
}

/// Runs `s` (opening the lake, holding its lock until the end), calling `started_hook` once the
/// lock is held and before the inputs are read, and `finishing_hook` once every input is read
/// and before the last commit: the side-table rows it returns are written with the run's.
pub(crate) fn execute(
    s: Job,
    rt: &tokio::runtime::Runtime,
    started_hook: impl FnOnce(&tokio::runtime::Runtime) -> anyhow::Result<()>,
    finishing_hook: impl FnOnce(&tokio::runtime::Runtime) -> anyhow::Result<Option<SideBatch>>,
) -> anyhow::Result<Summary> {
    let started = Instant::now();
    let mut sink = match &s.output {
        Output::Delta(dir) => {
            let personal = crate::privacy::personal(s.pseudonyms.as_ref());
            let mut w = crate::open_writer(rt, dir, s.wait, &personal, false)?;
            if let Some(b) = s.commit_bytes {
                w = w.with_commit_bytes(b);
            }
            if let Some(b) = s.group_bytes {
                w = w.with_group_bytes(b);
            }
            Sink::Delta(Box::new(w))
        }
        Output::Parquet(dir) => Sink::Parquet(Box::new(ParquetWriter::create(dir.clone())?)),
    };
    let work = WorkDir::of(&s.output)?;
    // Spill directories a killed run left behind (the lake's lock is ours now).
    remove_stale_spills(work.dir());
    started_hook(rt)?;
    // A pseudonymised lake's rejects keep where a bad record is and what is wrong with it, not
    // its text (which holds the values the lake must not).
    let mut rejects = RejectLog::new(work.dir().join("_rejects"), s.pseudonyms.is_none());
    let pseudonyms = s.pseudonyms.as_ref();
    let bar = s.progress.then(|| {
        let b = indicatif::ProgressBar::new_spinner();
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {binary_bytes} read, {binary_bytes_per_sec}, {elapsed}  {msg}",
            )
            .expect("valid template"),
        );
        b
    });
    let progress = |bytes: u64| {
        if let Some(b) = &bar {
            b.set_position(bytes);
        }
    };
    // Spill files (records of dates set aside, see `source::run`) go in the output directory.
    let options = PipelineOptions::default()
        .with_threads(s.threads)
        .with_max_frame_bytes(s.max_record_bytes)
        .with_spill_dir(work.dir());
    let mut first_reject: Option<String> = None;
    let strict = s.strict;
    let mut records = 0u64;
    let preparer = match &sink {
        Sink::Delta(w) => Some(w.preparer()),
        Sink::Parquet(_) => None,
    };
    let prepare = |mut b: FlatParts| {
        if let Some(p) = pseudonyms
            && let Err(e) = p.tokeniser().flat(&mut b)
        {
            return Item::Failed(e);
        }
        match &preparer {
            Some(p) => Item::Delta(p.prepare(b)),
            None => Item::Parquet(ParquetWriter::prepare(b)),
        }
    };
    let mut deliver = |d: Delivery<Item>| -> cqlake_ingest::Result<()> {
        records += d.stats.records();
        if let Some(b) = &bar {
            let secs = started.elapsed().as_secs_f64().max(1e-3);
            b.set_message(format!(
                "{records} records, {:.0} records/s",
                records as f64 / secs
            ));
        }
        for r in &d.rejects {
            rejects
                .write(r)
                .map_err(|e| IngestError::sink("writing rejects", e))?;
            if first_reject.is_none() {
                first_reject = Some(describe_reject(r));
            }
        }
        if strict && !d.rejects.is_empty() {
            return Err(IngestError::Stopped(format!(
                "--strict: {}",
                describe_reject(&d.rejects[0])
            )));
        }
        let sink_err = |e: cqlake_lake::Error| IngestError::sink("writing the output", e);
        if let Some(mut side) = d.side {
            if let Some(p) = pseudonyms {
                p.tokeniser()
                    .side(&mut side)
                    .map_err(|e| IngestError::sink("pseudonymising", e))?;
            }
            match &mut sink {
                Sink::Delta(w) => rt.block_on(w.push_side(side)).map_err(sink_err)?,
                Sink::Parquet(w) => w.push_side(side).map_err(sink_err)?,
            }
        }
        match (d.batch, &mut sink) {
            (Some(Item::Delta(p)), Sink::Delta(w)) => {
                rt.block_on(w.push_prepared(p.map_err(sink_err)?))
                    .map_err(sink_err)?;
            }
            (Some(Item::Parquet(p)), Sink::Parquet(w)) => {
                w.push_prepared(p.map_err(sink_err)?).map_err(sink_err)?
            }
            (Some(Item::Failed(e)), _) => return Err(IngestError::sink("pseudonymising", e)),
            (None, _) => {}
            _ => unreachable!("items are made for their sink"),
        }
        Ok(())
    };
    let stats = source::run(&s.inputs, &options, &progress, &prepare, &mut deliver)?;
    if let Some(mut side) = finishing_hook(rt)? {
        if let Some(p) = pseudonyms {
            p.tokeniser().side(&mut side)?;
        }
        match &mut sink {
            Sink::Delta(w) => rt.block_on(w.push_side(side))?,
            Sink::Parquet(w) => w.push_side(side)?,
        }
    }
    let (rows, side_rows, write) = match sink {
        Sink::Delta(w) => {
            let ws = rt.block_on(w.finish())?;
            (ws.rows, ws.side_rows, Some(ws))
        }
        Sink::Parquet(w) => {
            let (rows, side) = w.finish()?;
            (rows, side, None)
        }
    };
    rejects.finish()?;
    let rejects_file = match (&s.output, rejects.path()) {
        (Output::Delta(lake), Some(path)) if lake.is_remote() => {
            let name = path.file_name().expect("a file").to_string_lossy();
            let url = rt
                .block_on(lake.put_file(&path, &format!("_rejects/{name}")))
                .context("uploading the rejects")?;
            Some(url.to_string())
        }
        (_, path) => path.map(|p| p.display().to_string()),
    };
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    Ok(Summary {
        stats,
        rows,
        side_rows,
        write,
        elapsed: started.elapsed(),
        rejects_file,
        first_reject,
    })
}

/// Removes `_cqlake-spill-*` directories in `dir` (spill files of a run that did not finish).
fn remove_stale_spills(dir: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        if e.file_name()
            .to_string_lossy()
            .starts_with(source::SPILL_PREFIX)
        {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

fn describe_reject(r: &Reject) -> String {
    match &r.path {
        Some(p) => format!(
            "{}:{} (byte {}) {}: {}",
            r.source, r.line, r.offset, p, r.error
        ),
        None => format!("{}:{} (byte {}): {}", r.source, r.line, r.offset, r.error),
    }
}

/// `<dir>/<run>.ndjson`: one JSON object per rejected unit, created on the first reject.
struct RejectLog {
    dir: PathBuf,
    file: Option<(PathBuf, std::io::BufWriter<std::fs::File>)>,
    /// Whether to keep each unit's first bytes (`excerpt`; null when not).
    excerpts: bool,
}

impl RejectLog {
    fn new(dir: PathBuf, excerpts: bool) -> Self {
        RejectLog {
            dir,
            file: None,
            excerpts,
        }
    }

    fn write(&mut self, r: &Reject) -> std::io::Result<()> {
        if self.file.is_none() {
            std::fs::create_dir_all(&self.dir)?;
            let stamp = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis());
            let path = self
                .dir
                .join(format!("rejects-{stamp}-{}.ndjson", std::process::id()));
            let f = std::fs::File::create(&path)?;
            self.file = Some((path, std::io::BufWriter::new(f)));
        }
        let (_, w) = self.file.as_mut().expect("opened above");
        let line = serde_json::json!({
            "source": &*r.source,
            "line": r.line,
            "offset": r.offset,
            "path": r.path,
            "error": r.error,
            "excerpt": self.excerpts.then_some(&r.excerpt),
        });
        writeln!(w, "{line}")
    }

    fn path(&self) -> Option<PathBuf> {
        self.file.as_ref().map(|(p, _)| p.clone())
    }

    fn finish(&mut self) -> std::io::Result<()> {
        if let Some((_, w)) = &mut self.file {
            w.flush()?;
        }
        Ok(())
    }
}

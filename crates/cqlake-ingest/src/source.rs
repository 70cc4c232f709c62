//! Sources: expanding inputs into files, decompressing them, and the parallel pipeline that
//! frames, parses and flattens them.
//!
//! This is the only module of the crate that does I/O. One thread reads and frames the inputs
//! one after another (gzip and zstd are recognised by their magic bytes, not by file names) and
//! packs framed units into work units of about [`DEFAULT_UNIT_BYTES`]; a pool of workers, each
//! with its own [`Decoder`], turns them into [`FlatBatch`]es; the caller's sink receives them in
//! the calling thread, so the writer keeps up or the queues (bounded) make the readers wait.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread;

use std::collections::BTreeMap;

use cqlake_schema::TableId;

use crate::decode::{Decoder, Outcome, PageKind, Route, odata_context, page_kind};
use crate::flatten::{FlatBatch, Flattener};
use crate::frame::{FrameKind, Framer};

/// The default size of a work unit handed to a worker.
pub const DEFAULT_UNIT_BYTES: usize = 4 * 1024 * 1024;
/// The default number of stream rows a worker gathers before it hands a batch to the writer.
pub const DEFAULT_BATCH_ROWS: usize = 16 * 1024;
/// The default number of rows (stream or call rows) a worker holds over all dates.
pub const DEFAULT_MAX_ROWS: usize = 4 * DEFAULT_BATCH_ROWS;
/// The most bytes of a bad unit kept in its rejection record.
pub const EXCERPT_BYTES: usize = 512;

/// One input: a file or standard input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A file.
    File(PathBuf),
    /// Standard input (`-`).
    Stdin,
}

impl Input {
    /// The name used in messages and rejection records.
    pub fn name(&self) -> String {
        match self {
            Input::File(p) => p.display().to_string(),
            Input::Stdin => "<stdin>".into(),
        }
    }
}

/// Errors of the ingest crate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An input path that does not exist and matches nothing as a glob.
    #[error("{0}: no such file, directory or matching glob pattern")]
    NoSuchInput(String),
    /// A bad glob pattern.
    #[error("{pattern}: invalid glob pattern: {message}")]
    BadPattern {
        /// The pattern.
        pattern: String,
        /// Why it is invalid.
        message: String,
    },
    /// Reading an input failed.
    #[error("{path}: {source}")]
    Io {
        /// The input.
        path: String,
        /// The error.
        #[source]
        source: io::Error,
    },
    /// The sink refused a batch.
    #[error("{0}")]
    Sink(String),
}

/// A `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Expands command-line inputs: files as they are, directories recursively (sorted, hidden
/// files skipped), glob patterns, and `-` for standard input.
pub fn expand_inputs(args: &[String]) -> Result<Vec<Input>> {
    let mut out = Vec::new();
    for a in args {
        if a == "-" {
            out.push(Input::Stdin);
            continue;
        }
        let p = Path::new(a);
        if p.is_dir() {
            let mut files = Vec::new();
            walk_dir(p, &mut files).map_err(|e| Error::Io {
                path: a.clone(),
                source: e,
            })?;
            files.sort();
            out.extend(files.into_iter().map(Input::File));
        } else if p.exists() {
            out.push(Input::File(p.to_path_buf()));
        } else if a.contains(['*', '?', '[']) {
            let paths = glob_paths(a)?;
            if paths.is_empty() {
                return Err(Error::NoSuchInput(a.clone()));
            }
            for path in paths {
                if path.is_dir() {
                    let mut files = Vec::new();
                    walk_dir(&path, &mut files).map_err(|e| Error::Io {
                        path: path.display().to_string(),
                        source: e,
                    })?;
                    files.sort();
                    out.extend(files.into_iter().map(Input::File));
                } else {
                    out.push(Input::File(path));
                }
            }
        } else {
            return Err(Error::NoSuchInput(a.clone()));
        }
    }
    Ok(out)
}

fn glob_paths(pattern: &str) -> Result<Vec<PathBuf>> {
    // A small glob: `*` and `?` within one path component, `**` for any depth.
    let bad = |m: &str| Error::BadPattern {
        pattern: pattern.into(),
        message: m.into(),
    };
    if pattern.contains('[') {
        return Err(bad("character classes are not supported; use * and ?"));
    }
    let absolute = pattern.starts_with('/');
    let parts: Vec<&str> = pattern.split('/').filter(|s| !s.is_empty()).collect();
    let base = if absolute {
        PathBuf::from("/")
    } else {
        PathBuf::from(".")
    };
    let mut found = Vec::new();
    glob_walk(&base, &parts, &mut found);
    found.sort();
    found.dedup();
    if !absolute {
        found = found
            .into_iter()
            .map(|p| p.strip_prefix(".").map(Path::to_path_buf).unwrap_or(p))
            .collect();
    }
    Ok(found)
}

fn glob_walk(dir: &Path, parts: &[&str], out: &mut Vec<PathBuf>) {
    let Some((first, rest)) = parts.split_first() else {
        out.push(dir.to_path_buf());
        return;
    };
    if *first == "**" {
        glob_walk(dir, rest, out);
        if let Ok(rd) = std::fs::read_dir(dir) {
            for e in rd.flatten() {
                if e.path().is_dir() && !e.file_name().to_string_lossy().starts_with('.') {
                    glob_walk(&e.path(), parts, out);
                }
            }
        }
        return;
    }
    if !first.contains(['*', '?']) {
        let p = dir.join(first);
        if p.exists() {
            glob_walk(&p, rest, out);
        }
        return;
    }
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if wildcard(first.as_bytes(), name.as_bytes())
                && (!name.starts_with('.') || first.starts_with('.'))
            {
                glob_walk(&e.path(), rest, out);
            }
        }
    }
}

/// `*` and `?` matching.
fn wildcard(p: &[u8], s: &[u8]) -> bool {
    match (p.first(), s.first()) {
        (None, None) => true,
        (Some(b'*'), _) => wildcard(&p[1..], s) || (!s.is_empty() && wildcard(p, &s[1..])),
        (Some(b'?'), Some(_)) => wildcard(&p[1..], &s[1..]),
        (Some(a), Some(b)) if a == b => wildcard(&p[1..], &s[1..]),
        _ => false,
    }
}

fn walk_dir(dir: &Path, out: &mut Vec<PathBuf>) -> io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        if e.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let p = e.path();
        if p.is_dir() {
            walk_dir(&p, out)?;
        } else {
            out.push(p);
        }
    }
    Ok(())
}

/// Opens an input and wraps it in a decompressor when its first bytes are gzip or zstd magic.
pub fn open(input: &Input) -> io::Result<Box<dyn Read + Send>> {
    let raw: Box<dyn Read + Send> = match input {
        Input::File(p) => Box::new(File::open(p)?),
        Input::Stdin => Box::new(io::stdin()),
    };
    let mut r = BufReader::with_capacity(1 << 20, raw);
    let head = io::BufRead::fill_buf(&mut r)?;
    Ok(if head.starts_with(&[0x1f, 0x8b]) {
        Box::new(flate2::read::MultiGzDecoder::new(r))
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Box::new(zstd::stream::read::Decoder::with_buffer(r)?)
    } else {
        Box::new(r)
    })
}

/// Settings of the pipeline.
#[derive(Debug, Clone)]
pub struct PipelineOptions {
    threads: usize,
    unit_bytes: usize,
    batch_rows: usize,
    max_rows: usize,
    max_frame_bytes: usize,
}

impl Default for PipelineOptions {
    fn default() -> Self {
        PipelineOptions {
            threads: thread::available_parallelism().map_or(2, |n| n.get()),
            unit_bytes: DEFAULT_UNIT_BYTES,
            batch_rows: DEFAULT_BATCH_ROWS,
            max_rows: DEFAULT_MAX_ROWS,
            max_frame_bytes: crate::frame::DEFAULT_MAX_FRAME_BYTES,
        }
    }
}

impl PipelineOptions {
    /// Parse/flatten workers. Default: the number of CPUs.
    pub fn with_threads(mut self, n: usize) -> Self {
        self.threads = n.max(1);
        self
    }
    /// Bytes of JSON per work unit. Default [`DEFAULT_UNIT_BYTES`].
    pub fn with_unit_bytes(mut self, n: usize) -> Self {
        self.unit_bytes = n.max(1);
        self
    }
    /// Stream rows per batch handed to the sink. Default [`DEFAULT_BATCH_ROWS`].
    pub fn with_batch_rows(mut self, n: usize) -> Self {
        self.batch_rows = n.max(1);
        self
    }
    /// Rows a worker holds over all its dates before it hands on the largest date's rows
    /// early. Default [`DEFAULT_MAX_ROWS`].
    pub fn with_max_rows(mut self, n: usize) -> Self {
        self.max_rows = n.max(1);
        self
    }
    /// Largest framed unit. Default [`crate::frame::DEFAULT_MAX_FRAME_BYTES`].
    pub fn with_max_frame_bytes(mut self, n: usize) -> Self {
        self.max_frame_bytes = n;
        self
    }
}

/// A rejected unit with its location.
#[derive(Debug, Clone)]
pub struct Reject {
    /// The input it came from.
    pub source: Arc<str>,
    /// Byte offset (in the decompressed stream) of the error, or of the unit when not known.
    pub offset: u64,
    /// 1-based line of the unit's start.
    pub line: u64,
    /// JSON path of the offending value, when known.
    pub path: Option<String>,
    /// What was wrong.
    pub error: String,
    /// The first bytes of the unit.
    pub excerpt: String,
}

/// Counts of one run.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    /// Inputs read.
    pub files: u64,
    /// Bytes read (decompressed).
    pub bytes: u64,
    /// Call records converted.
    pub calls: u64,
    /// Sessions from follow-up / List-sessions pages converted.
    pub page_sessions: u64,
    /// Participants from follow-up pages converted.
    pub page_participants: u64,
    /// Collection pages seen.
    pub pages: u64,
    /// Pages that said more pages follow (`@odata.nextLink`).
    pub pages_with_next_link: u64,
    /// Records (and unparseable units) rejected.
    pub rejected: u64,
    /// Documents that are not call-record data, by name.
    pub not_call_records: std::collections::BTreeMap<String, u64>,
}

impl Stats {
    /// Records read: converted + rejected.
    pub fn records(&self) -> u64 {
        self.calls + self.page_sessions + self.page_participants + self.rejected
    }

    fn merge(&mut self, o: Stats) {
        self.calls += o.calls;
        self.page_sessions += o.page_sessions;
        self.page_participants += o.page_participants;
        self.pages += o.pages;
        self.pages_with_next_link += o.pages_with_next_link;
        self.rejected += o.rejected;
        for (k, v) in o.not_call_records {
            *self.not_call_records.entry(k).or_default() += v;
        }
    }
}

/// What a worker sends: a prepared batch (or none), the rejects and the counts behind it.
#[derive(Debug)]
pub struct Delivery<P = FlatBatch> {
    /// The flattened rows of one partition date (or of follow-up pages), after the caller's
    /// `prepare` step, if any.
    pub batch: Option<P>,
    /// Rejected units.
    pub rejects: Vec<Reject>,
    /// Counts.
    pub stats: Stats,
}

struct UnitFrame {
    start: usize,
    len: usize,
    kind: FrameKind,
    offset: u64,
    line: u64,
    page: Arc<PageKind>,
}

struct WorkUnit {
    seq: u64,
    source: Arc<str>,
    data: Vec<u8>,
    frames: Vec<UnitFrame>,
    /// Framing errors found while packing this unit.
    rejects: Vec<Reject>,
    bytes: u64,
    files: u64,
}

/// Called with progress: bytes read so far.
pub type Progress<'a> = &'a (dyn Fn(u64) + Sync);

/// Runs the pipeline over `inputs`, handing every delivery to `sink` in the calling thread.
/// Stops at the first error of `sink` or of reading an input.
///
/// Each worker keeps one flattener per partition date (and one for rows of follow-up pages),
/// so a batch holds the rows of one date: the writer can make one file per date and table
/// from large row groups even when the input mixes dates. A date's rows are handed on when
/// they reach the batch size, and the largest date's when all of a worker's dates together
/// hold more than [`PipelineOptions::with_max_rows`]. `prepare` runs in the worker on every
/// batch before it is sent (the lake encodes Parquet there, in parallel).
pub fn run<P: Send>(
    inputs: &[Input],
    options: &PipelineOptions,
    progress: Progress<'_>,
    prepare: &(dyn Fn(FlatBatch) -> P + Sync),
    sink: &mut dyn FnMut(Delivery<P>) -> Result<()>,
) -> Result<Stats> {
    let workers = options.threads;
    let (unit_tx, unit_rx) = sync_channel::<WorkUnit>(workers);
    let unit_rx = Arc::new(std::sync::Mutex::new(unit_rx));
    let (out_tx, out_rx) = sync_channel::<Delivery<P>>(workers);
    let mut stats = Stats::default();
    thread::scope(|s| -> Result<()> {
        let reader = s.spawn(|| read_all(inputs, options, unit_tx, progress));
        for _ in 0..workers {
            let rx = unit_rx.clone();
            let tx = out_tx.clone();
            s.spawn(move || work(rx, tx, options, prepare));
        }
        drop(out_tx);
        let mut first_err = None;
        for d in out_rx.iter() {
            if first_err.is_some() {
                continue; // drain so the workers finish
            }
            stats.merge(d.stats.clone());
            stats.files += d.stats.files;
            stats.bytes += d.stats.bytes;
            if let Err(e) = sink(d) {
                first_err = Some(e);
            }
        }
        let read = reader.join().expect("reader thread panicked");
        if let Some(e) = first_err {
            return Err(e);
        }
        read
    })?;
    Ok(stats)
}

/// A worker's flatteners: one per partition date, one for follow-up page rows.
struct Batcher {
    order: u64,
    pages: Flattener,
    dates: BTreeMap<i32, Flattener>,
    /// Flatteners emptied earlier, reused for new dates.
    spare: Vec<Flattener>,
}

impl Route for Batcher {
    fn call(&mut self, date: Option<i32>) -> &mut Flattener {
        let fl = match date {
            Some(d) => self
                .dates
                .entry(d)
                .or_insert_with(|| self.spare.pop().unwrap_or_default()),
            None => &mut self.pages,
        };
        fl.set_order(self.order);
        fl
    }
    fn page(&mut self) -> &mut Flattener {
        self.pages.set_order(self.order);
        &mut self.pages
    }
}

/// The weight of a flattener's rows against the batch size: stream rows or call rows,
/// whichever is more.
fn weight(fl: &Flattener) -> usize {
    fl.rows(TableId::Streams).max(fl.rows(TableId::Calls))
}

impl Batcher {
    /// The flattened batches due: every date (or the pages) at `batch_rows`, then the largest
    /// dates while all together exceed `max_rows`; everything when `all`.
    fn due(&mut self, batch_rows: usize, max_rows: usize, all: bool) -> Vec<FlatBatch> {
        let mut out = Vec::new();
        let full: Vec<i32> = self
            .dates
            .iter()
            .filter(|(_, f)| all || weight(f) >= batch_rows)
            .map(|(d, _)| *d)
            .collect();
        for d in full {
            out.push(self.take(d));
        }
        loop {
            let total: usize = self.dates.values().map(weight).sum();
            if total <= max_rows {
                break;
            }
            let (&d, _) = self
                .dates
                .iter()
                .max_by_key(|(_, f)| weight(f))
                .expect("rows, so a date");
            out.push(self.take(d));
        }
        let page_rows = TableId::ALL
            .iter()
            .map(|t| self.pages.rows(*t))
            .max()
            .unwrap_or(0);
        if (all && page_rows > 0) || page_rows >= batch_rows {
            out.push(self.pages.finish());
        }
        out
    }

    fn take(&mut self, date: i32) -> FlatBatch {
        let mut fl = self.dates.remove(&date).expect("a date held");
        let b = fl.finish();
        self.spare.push(fl);
        b
    }
}

fn work<P>(
    rx: Arc<std::sync::Mutex<Receiver<WorkUnit>>>,
    tx: SyncSender<Delivery<P>>,
    options: &PipelineOptions,
    prepare: &(dyn Fn(FlatBatch) -> P + Sync),
) {
    let mut decoder = Decoder::new();
    let mut batcher = Batcher {
        order: 0,
        pages: Flattener::new(),
        dates: BTreeMap::new(),
        spare: Vec::new(),
    };
    let mut rejects = Vec::new();
    let mut stats = Stats::default();
    let send = |batches: Vec<FlatBatch>, rejects: &mut Vec<Reject>, stats: &mut Stats| -> bool {
        let mut batches = batches
            .into_iter()
            .filter(|b| b.batches.iter().any(|x| x.num_rows() > 0));
        let first = batches.next();
        let d = Delivery {
            batch: first.map(prepare),
            rejects: std::mem::take(rejects),
            stats: std::mem::take(stats),
        };
        if tx.send(d).is_err() {
            return false;
        }
        for b in batches {
            let d = Delivery {
                batch: Some(prepare(b)),
                rejects: Vec::new(),
                stats: Stats::default(),
            };
            if tx.send(d).is_err() {
                return false;
            }
        }
        true
    };
    loop {
        let unit = { rx.lock().expect("queue lock").recv() };
        let Ok(unit) = unit else { break };
        stats.bytes += unit.bytes;
        stats.files += unit.files;
        stats.rejected += unit.rejects.len() as u64;
        rejects.extend(unit.rejects);
        for (n, f) in unit.frames.iter().enumerate() {
            let bytes = &unit.data[f.start..f.start + f.len];
            batcher.order = (unit.seq << 24) | n as u64;
            match decoder.decode_routed(bytes, &f.kind, &f.page, &mut batcher) {
                Outcome::Call => stats.calls += 1,
                Outcome::Session => stats.page_sessions += 1,
                Outcome::Participant => stats.page_participants += 1,
                Outcome::PageEnd { next_link } => {
                    stats.pages += 1;
                    stats.pages_with_next_link += u64::from(next_link);
                }
                Outcome::NotCallRecord(name) => {
                    *stats.not_call_records.entry(name).or_default() += 1
                }
                Outcome::Rejected(r) => {
                    stats.rejected += 1;
                    let offset = f.offset + r.at.unwrap_or(0) as u64;
                    let line = f.line
                        + r.at.map_or(0, |at| {
                            memchr::memchr_iter(b'\n', &bytes[..at.min(bytes.len())]).count() as u64
                        });
                    rejects.push(Reject {
                        source: unit.source.clone(),
                        offset,
                        line,
                        path: r.path,
                        error: r.error,
                        excerpt: excerpt(bytes),
                    });
                }
            }
        }
        let due = batcher.due(options.batch_rows, options.max_rows, false);
        if !due.is_empty() && !send(due, &mut rejects, &mut stats) {
            return;
        }
    }
    let due = batcher.due(options.batch_rows, options.max_rows, true);
    send(due, &mut rejects, &mut stats);
}

/// The first bytes of a unit as text, for a rejection record.
pub fn excerpt(bytes: &[u8]) -> String {
    let mut end = bytes.len().min(EXCERPT_BYTES);
    while end > 0 && end < bytes.len() && (bytes[end] & 0xC0) == 0x80 {
        end -= 1;
    }
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

fn read_all(
    inputs: &[Input],
    options: &PipelineOptions,
    tx: SyncSender<WorkUnit>,
    progress: Progress<'_>,
) -> Result<()> {
    let mut total = 0u64;
    let mut seq = 0u64;
    for input in inputs {
        let source: Arc<str> = Arc::from(input.name());
        let io_err = |e: io::Error| Error::Io {
            path: input.name(),
            source: e,
        };
        let mut reader = open(input).map_err(io_err)?;
        let mut framer = Framer::new().with_max_frame_bytes(options.max_frame_bytes);
        let mut unit = new_unit(&source);
        unit.seq = seq;
        unit.files = 1;
        let mut page = Arc::new(PageKind::Unknown);
        let mut buf = vec![0u8; 1 << 20];
        let mut sent_ok = true;
        let handle =
            |f: crate::frame::Frame<'_>, unit: &mut WorkUnit, page: &mut Arc<PageKind>| match &f
                .kind
            {
                FrameKind::PageStart { .. } => {
                    *page = Arc::new(page_kind(odata_context(f.bytes).as_deref()));
                }
                FrameKind::Error(e) => unit.rejects.push(Reject {
                    source: source.clone(),
                    offset: f.offset,
                    line: f.line,
                    path: None,
                    error: e.to_string(),
                    excerpt: excerpt(f.bytes),
                }),
                kind => {
                    let start = unit.data.len();
                    unit.data.extend_from_slice(f.bytes);
                    let this_page =
                        if matches!(kind, FrameKind::PageItem { .. } | FrameKind::PageEnd { .. }) {
                            page.clone()
                        } else {
                            Arc::new(PageKind::Unknown)
                        };
                    unit.frames.push(UnitFrame {
                        start,
                        len: f.bytes.len(),
                        kind: kind.clone(),
                        offset: f.offset,
                        line: f.line,
                        page: this_page,
                    });
                    if matches!(kind, FrameKind::PageEnd { .. }) {
                        *page = Arc::new(PageKind::Unknown);
                    }
                }
            };
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    // A corrupt or truncated compressed stream: what was framed so far stands;
                    // the rest of the input is reported as one rejected unit.
                    unit.rejects.push(Reject {
                        source: source.clone(),
                        offset: framer.offset(),
                        line: 0,
                        path: None,
                        error: format!("reading stopped: {e}"),
                        excerpt: String::new(),
                    });
                    break;
                }
            };
            total += n as u64;
            unit.bytes += n as u64;
            progress(total);
            framer.push(&buf[..n], &mut |f| handle(f, &mut unit, &mut page));
            if unit.data.len() >= options.unit_bytes {
                let mut next = new_unit(&source);
                next.seq = unit.seq + 1;
                let full = std::mem::replace(&mut unit, next);
                if tx.send(full).is_err() {
                    sent_ok = false;
                    break;
                }
            }
        }
        framer.finish(&mut |f| handle(f, &mut unit, &mut page));
        seq = unit.seq + 1;
        if !sent_ok || tx.send(unit).is_err() {
            return Ok(()); // the consumer stopped; it reports why
        }
    }
    Ok(())
}

fn new_unit(source: &Arc<str>) -> WorkUnit {
    WorkUnit {
        seq: 0,
        source: source.clone(),
        data: Vec::new(),
        frames: Vec::new(),
        rejects: Vec::new(),
        bytes: 0,
        files: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::wildcard;

    #[test]
    fn wildcards() {
        assert!(wildcard(b"*.json", b"a.json"));
        assert!(wildcard(b"day-??.ndjson.gz", b"day-01.ndjson.gz"));
        assert!(!wildcard(b"*.json", b"a.json.gz"));
    }
}

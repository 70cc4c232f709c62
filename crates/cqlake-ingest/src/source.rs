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

use std::collections::{BTreeMap, BTreeSet};

use cqlake_schema::TableId;

use crate::decode::{Decoder, Outcome, PageKind, Route, odata_context, page_kind};
use crate::flatten::Flattener;
use crate::frame::{FrameError, FrameKind, Framer};
use crate::input::{Input, check_compressed, open};
use crate::occurrence::SessionOccurrences;
use crate::side::SideRows;
use crate::{Error, Result};
use cqlake_schema::batch::SideBatch;
use cqlake_schema::batch::{FlatBatch, FlatParts};

/// The default size of a work unit handed to a worker.
pub const DEFAULT_UNIT_BYTES: usize = 4 * 1024 * 1024;
/// The default number of stream rows a worker gathers before it hands a batch to the writer.
pub const DEFAULT_BATCH_ROWS: usize = 8 * 1024;
/// The default bytes of JSON behind one batch: a batch of few but large records is handed on
/// at this size, whatever its rows.
pub const DEFAULT_BATCH_BYTES: usize = 64 * 1024 * 1024;
/// The name prefix of a run's spill directory (see [`run`]).
pub const SPILL_PREFIX: &str = "_cqlake-spill-";
/// The default number of dates a worker flattens at a time.
pub const DEFAULT_MAX_DATES: usize = 2;
/// The most bytes of a bad unit kept in its rejection record.
pub const EXCERPT_BYTES: usize = 512;

/// Settings of the pipeline.
#[derive(Debug, Clone)]
pub struct PipelineOptions {
    threads: usize,
    unit_bytes: usize,
    batch_rows: usize,
    batch_bytes: usize,
    max_dates: usize,
    max_frame_bytes: usize,
    max_string_bytes: usize,
    check_compressed: bool,
    unchecked_lines: bool,
    spill_dir: Option<PathBuf>,
}

impl Default for PipelineOptions {
    fn default() -> Self {
        PipelineOptions {
            threads: thread::available_parallelism().map_or(2, |n| n.get()),
            unit_bytes: DEFAULT_UNIT_BYTES,
            batch_rows: DEFAULT_BATCH_ROWS,
            batch_bytes: DEFAULT_BATCH_BYTES,
            max_dates: DEFAULT_MAX_DATES,
            max_frame_bytes: crate::frame::DEFAULT_MAX_FRAME_BYTES,
            max_string_bytes: crate::frame::DEFAULT_MAX_STRING_BYTES,
            check_compressed: true,
            unchecked_lines: true,
            spill_dir: None,
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
    /// Bytes of JSON behind a batch handed to the sink (whatever its rows). Default
    /// [`DEFAULT_BATCH_BYTES`].
    pub fn with_batch_bytes(mut self, n: usize) -> Self {
        self.batch_bytes = n.max(1);
        self
    }
    /// Stream rows per batch handed to the sink. Default [`DEFAULT_BATCH_ROWS`].
    pub fn with_batch_rows(mut self, n: usize) -> Self {
        self.batch_rows = n.max(1);
        self
    }
    /// Dates a worker flattens at a time; call records of other dates are spilled and
    /// flattened after all input is read. Default [`DEFAULT_MAX_DATES`].
    pub fn with_max_dates(mut self, n: usize) -> Self {
        self.max_dates = n.max(1);
        self
    }
    /// Where spill files go (in a directory of their own, removed at the end). Default: the
    /// system's temporary directory.
    pub fn with_spill_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.spill_dir = Some(dir.into());
        self
    }
    /// Largest framed unit. Default [`crate::frame::DEFAULT_MAX_FRAME_BYTES`].
    pub fn with_max_frame_bytes(mut self, n: usize) -> Self {
        self.max_frame_bytes = n;
        self
    }
    /// Longest JSON string. Default [`crate::frame::DEFAULT_MAX_STRING_BYTES`].
    pub fn with_max_string_bytes(mut self, n: usize) -> Self {
        self.max_string_bytes = n;
        self
    }
    /// Whether a gzip or zstd file is decompressed whole, to check it, before its records are
    /// converted. A damaged one (not merely cut short) is then rejected whole, as one unit: its
    /// checksum cannot vouch for any of its records. Costs one more decompression (about 1 s per
    /// GB of JSON from gzip, a third of that from zstd). Default: true. Standard input is never
    /// checked (it cannot be read twice).
    pub fn with_check_compressed(mut self, check: bool) -> Self {
        self.check_compressed = check;
        self
    }
    /// Whether lines of NDJSON are framed whole, without a scan of their bytes, and checked by
    /// the parse in the workers instead ([`crate::frame::Framer::with_unchecked_lines`]). A
    /// line the parse finds wrong is framed again as a scan would have framed it, so what
    /// converts and what is rejected, with its message and position, do not change. Default:
    /// true (the framing thread then costs about a tenth of the scan's CPU on NDJSON).
    pub fn with_unchecked_lines(mut self, on: bool) -> Self {
        self.unchecked_lines = on;
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
    /// Records without `startDateTime` (a Get with `$select`) whose participants and sessions
    /// were converted as rows of follow-up pages.
    pub partial_records: u64,
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
    /// Rows made for each side table (in [`cqlake_schema::SideTable::ALL`] order).
    pub side: [u64; cqlake_schema::SideTable::ALL.len()],
    /// Secrets left out (record operations' access tokens, notifications' client states).
    pub redacted: u64,
    /// Keys written twice in one object with the same value, each taken as one value (a
    /// repeat with another value rejects its record).
    pub repeated_keys: u64,
}

impl Stats {
    /// Records read: converted + rejected.
    pub fn records(&self) -> u64 {
        self.converted() + self.rejected
    }

    /// Records converted: call records, sessions and participants of pages, side-table rows.
    pub fn converted(&self) -> u64 {
        self.calls
            + self.partial_records
            + self.page_sessions
            + self.page_participants
            + self.side.iter().sum::<u64>()
    }

    fn merge(&mut self, o: Stats) {
        self.calls += o.calls;
        self.partial_records += o.partial_records;
        self.page_sessions += o.page_sessions;
        self.page_participants += o.page_participants;
        self.pages += o.pages;
        self.pages_with_next_link += o.pages_with_next_link;
        self.rejected += o.rejected;
        for (a, b) in self.side.iter_mut().zip(o.side) {
            *a += b;
        }
        self.redacted += o.redacted;
        self.repeated_keys += o.repeated_keys;
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
    /// Rows of the side tables made since the last delivery that had some.
    pub side: Option<SideBatch>,
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
    /// For an item of a sessions page, the occurrence of its session id in the page chain.
    occurrence: u32,
    /// False for a line of NDJSON framed without a scan ([`crate::frame::Frame::checked`]).
    checked: bool,
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
/// Stops at the first error of `sink`, of reading an input or of the spill files.
///
/// A batch holds the rows of one partition date (or of follow-up pages), so the writer can make
/// one file per date and table from large row groups even when the input mixes dates. Each
/// worker flattens the records of at most [`PipelineOptions::with_max_dates`] dates at a time
/// and hands a date's rows on when they reach the batch size (or when the date has gone cold,
/// as in input sorted by time). Call records of other dates are set aside, unparsed, in spill
/// files under [`PipelineOptions::with_spill_dir`]; once all input is read the workers flatten
/// them one date at a time. `prepare` runs in the worker on every batch before it is sent (the
/// lake encodes Parquet there, in parallel).
pub fn run<P: Send>(
    inputs: &[Input],
    options: &PipelineOptions,
    progress: Progress<'_>,
    prepare: &(dyn Fn(FlatParts) -> P + Sync),
    sink: &mut dyn FnMut(Delivery<P>) -> Result<()>,
) -> Result<Stats> {
    let workers = options.threads;
    let spill_root = options.spill_dir.clone().unwrap_or_else(std::env::temp_dir);
    std::fs::create_dir_all(&spill_root).map_err(|e| Error::Io {
        path: spill_root.display().to_string(),
        source: e,
    })?;
    let spill_dir = tempfile::Builder::new()
        .prefix(SPILL_PREFIX)
        .tempdir_in(&spill_root)
        .map_err(|e| Error::Io {
            path: spill_root.display().to_string(),
            source: e,
        })?;
    let shared = Shared {
        spill_dir: spill_dir.path().to_path_buf(),
        spilled: std::sync::Mutex::new(BTreeSet::new()),
        barrier: std::sync::Barrier::new(workers),
        failed: std::sync::Mutex::new(None),
    };
    let (unit_tx, unit_rx) = sync_channel::<WorkUnit>(workers);
    let unit_rx = Arc::new(std::sync::Mutex::new(unit_rx));
    let (out_tx, out_rx) = sync_channel::<Delivery<P>>(workers);
    let mut stats = Stats::default();
    thread::scope(|s| -> Result<()> {
        let reader = s.spawn(|| read_all(inputs, options, unit_tx, progress));
        for id in 0..workers {
            let rx = unit_rx.clone();
            let tx = out_tx.clone();
            let shared = &shared;
            s.spawn(move || work(id, rx, tx, options, prepare, shared));
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
        if let Some(e) = shared.failed.lock().expect("error slot").take() {
            return Err(e);
        }
        read
    })?;
    Ok(stats)
}

/// What the workers share: the spill directory and the dates spilled to it.
struct Shared {
    spill_dir: PathBuf,
    spilled: std::sync::Mutex<BTreeSet<i32>>,
    /// Every worker has read its last unit and closed its spill files.
    barrier: std::sync::Barrier,
    failed: std::sync::Mutex<Option<Error>>,
}

impl Shared {
    fn spill_path(&self, worker: usize, date: i32) -> PathBuf {
        self.spill_dir.join(format!("{date}-{worker}.spill"))
    }

    fn fail(&self, e: Error) {
        self.failed.lock().expect("error slot").get_or_insert(e);
    }

    fn fail_io(&self, path: &Path, e: io::Error) {
        self.fail(Error::Io {
            path: path.display().to_string(),
            source: e,
        });
    }
}

/// Records had no flattener for a date unless one was used within this many records.
const COLD_RECORDS: u64 = 512;

/// A worker's flatteners: one per partition date it is flattening, one for follow-up page rows.
struct Batcher {
    order: u64,
    /// Call records routed so far.
    routed: u64,
    max_dates: usize,
    batch_rows: usize,
    batch_bytes: usize,
    /// Bytes of the unit being decoded (noted in the flattener it goes to).
    unit_bytes: usize,
    pages: Flattener,
    /// Flatteners by date, with the record count when each was last used.
    dates: BTreeMap<i32, (Flattener, u64)>,
    /// Batches of dates that went cold, to hand on.
    ready: Vec<FlatParts>,
    /// Flatteners emptied earlier, reused for new dates.
    spare: Vec<Flattener>,
    /// Rows of the side tables.
    side: SideRows,
}

impl Batcher {
    /// Whether date `d` has a flattener, making it one if there is room (or a cold date to
    /// give its place up).
    fn slot(&mut self, d: i32) -> bool {
        if self.dates.contains_key(&d) {
            return true;
        }
        if self.dates.len() >= self.max_dates {
            // The least recently used date gives its place up only when it has gone cold.
            let (&lru, &(_, used)) = self
                .dates
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .expect("dates held");
            if self.routed - used < COLD_RECORDS {
                return false;
            }
            let b = self.take(lru);
            self.ready.push(b);
        }
        let fl = self.spare.pop().unwrap_or_default();
        self.dates.insert(d, (fl, self.routed));
        true
    }
}

impl Batcher {
    /// [`Flattener::take_repeated_keys`] of every flattener and of the side rows.
    fn take_repeated_keys(&mut self) -> u64 {
        self.pages.take_repeated_keys()
            + self
                .dates
                .values_mut()
                .map(|(f, _)| f.take_repeated_keys())
                .sum::<u64>()
            + self
                .spare
                .iter_mut()
                .map(Flattener::take_repeated_keys)
                .sum::<u64>()
            + self.side.take_repeated_keys()
    }
}

impl Route for Batcher {
    fn call(&mut self, date: Option<i32>) -> Option<&mut Flattener> {
        self.routed += 1;
        let Some(d) = date else {
            self.pages.set_order(self.order);
            self.pages.add_input_bytes(self.unit_bytes);
            return Some(&mut self.pages);
        };
        if !self.slot(d) {
            return None;
        }
        let (fl, used) = self.dates.get_mut(&d).expect("a slot");
        *used = self.routed;
        fl.set_order(self.order);
        fl.add_input_bytes(self.unit_bytes);
        Some(fl)
    }
    fn page(&mut self) -> &mut Flattener {
        self.pages.set_order(self.order);
        self.pages.add_input_bytes(self.unit_bytes);
        &mut self.pages
    }
    fn side(&mut self) -> &mut SideRows {
        self.side.set_order(self.order);
        &mut self.side
    }
}

/// Whether a flattener holds a batch's worth: the batch size in stream rows or call rows,
/// whichever is more, or in bytes of JSON.
fn full(fl: &Flattener, batch_rows: usize, batch_bytes: usize) -> bool {
    fl.rows(TableId::Streams).max(fl.rows(TableId::Calls)) >= batch_rows
        || fl.input_bytes() >= batch_bytes
}

impl Batcher {
    /// The flattened batches due: those of dates that went cold, every date (or the pages) at
    /// the batch size; everything when `all`.
    fn due(&mut self, all: bool) -> Vec<FlatParts> {
        let mut out = std::mem::take(&mut self.ready);
        let full: Vec<i32> = self
            .dates
            .iter()
            .filter(|(_, (f, _))| all || full(f, self.batch_rows, self.batch_bytes))
            .map(|(d, _)| *d)
            .collect();
        for d in full {
            out.push(self.take(d));
        }
        let page_rows = TableId::ALL
            .iter()
            .map(|t| self.pages.rows(*t))
            .max()
            .unwrap_or(0);
        if (all && page_rows > 0)
            || page_rows >= self.batch_rows
            || self.pages.input_bytes() >= self.batch_bytes
        {
            out.push(self.pages.finish_parts());
        }
        out
    }

    fn take(&mut self, date: i32) -> FlatParts {
        let (mut fl, _) = self.dates.remove(&date).expect("a date held");
        let b = fl.finish_parts();
        self.spare.push(fl);
        b
    }
}

/// A worker's spill files, one per date, each a sequence of records: the source name, byte
/// offset, line and input order of the record, and its bytes.
struct Spill<'a> {
    shared: &'a Shared,
    worker: usize,
    files: BTreeMap<i32, std::io::BufWriter<File>>,
}

impl Spill<'_> {
    fn write(
        &mut self,
        date: i32,
        source: &str,
        f: &UnitFrame,
        order: u64,
        bytes: &[u8],
    ) -> Result<()> {
        let path = self.shared.spill_path(self.worker, date);
        let io_err = |e| Error::Io {
            path: path.display().to_string(),
            source: e,
        };
        let w = match self.files.entry(date) {
            std::collections::btree_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::btree_map::Entry::Vacant(v) => {
                self.shared
                    .spilled
                    .lock()
                    .expect("spilled dates")
                    .insert(date);
                v.insert(std::io::BufWriter::with_capacity(
                    64 * 1024,
                    File::create(&path).map_err(io_err)?,
                ))
            }
        };
        let mut put = |b: &[u8]| std::io::Write::write_all(w, b).map_err(io_err);
        let (kind, a, b) = match f.kind {
            FrameKind::Document if !f.checked => (3u8, 0, 0),
            FrameKind::Document => (0u8, 0, 0),
            FrameKind::ArrayItem { index } => (1, index, 0),
            FrameKind::PageItem { page, index } => (2, page, index),
            // Only units that may be call records are spilled.
            _ => (0, 0, 0),
        };
        let (page_tag, page_arg) = match &*f.page {
            PageKind::CallRecords => (0u8, ""),
            PageKind::Sessions { call_id } => (1, call_id.as_str()),
            PageKind::Participants { call_id } => (2, call_id.as_str()),
            PageKind::Unknown => (3, ""),
            PageKind::Other(name) => (4, name.as_str()),
            PageKind::Side(t) => (5, t.name()),
        };
        put(&(source.len() as u32).to_le_bytes())?;
        put(source.as_bytes())?;
        for n in [f.offset, f.line, order, a, b] {
            put(&n.to_le_bytes())?;
        }
        put(&[kind, page_tag])?;
        put(&(page_arg.len() as u32).to_le_bytes())?;
        put(page_arg.as_bytes())?;
        put(&(bytes.len() as u64).to_le_bytes())?;
        put(bytes)
    }

    fn close(self) -> Result<()> {
        for (date, mut w) in self.files {
            std::io::Write::flush(&mut w).map_err(|e| Error::Io {
                path: self
                    .shared
                    .spill_path(self.worker, date)
                    .display()
                    .to_string(),
                source: e,
            })?;
        }
        Ok(())
    }
}

/// One record read back from a spill file.
struct Spilled {
    source: Arc<str>,
    offset: u64,
    line: u64,
    order: u64,
    kind: FrameKind,
    page: PageKind,
    bytes: Vec<u8>,
    /// False for an unchecked line of NDJSON ([`UnitFrame::checked`]).
    checked: bool,
}

fn read_spilled(r: &mut impl Read) -> io::Result<Option<Spilled>> {
    let mut n4 = [0u8; 4];
    match r.read_exact(&mut n4) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let text = |r: &mut dyn Read, n: usize| -> io::Result<String> {
        let mut b = vec![0u8; n];
        r.read_exact(&mut b)?;
        Ok(String::from_utf8_lossy(&b).into_owned())
    };
    let source = text(r, u32::from_le_bytes(n4) as usize)?;
    let mut nums = [0u64; 5];
    for n in &mut nums {
        let mut u = [0u8; 8];
        r.read_exact(&mut u)?;
        *n = u64::from_le_bytes(u);
    }
    let [offset, line, order, a, b] = nums;
    let mut tags = [0u8; 2];
    r.read_exact(&mut tags)?;
    r.read_exact(&mut n4)?;
    let arg = text(r, u32::from_le_bytes(n4) as usize)?;
    let kind = match tags[0] {
        1 => FrameKind::ArrayItem { index: a },
        2 => FrameKind::PageItem { page: a, index: b },
        _ => FrameKind::Document,
    };
    let page = match tags[1] {
        0 => PageKind::CallRecords,
        1 => PageKind::Sessions { call_id: arg },
        2 => PageKind::Participants { call_id: arg },
        4 => PageKind::Other(arg),
        5 => match cqlake_schema::SideTable::from_name(&arg) {
            Some(t) => PageKind::Side(t),
            None => PageKind::Other(arg),
        },
        _ => PageKind::Unknown,
    };
    let mut u = [0u8; 8];
    r.read_exact(&mut u)?;
    let mut bytes = vec![0u8; u64::from_le_bytes(u) as usize];
    r.read_exact(&mut bytes)?;
    Ok(Some(Spilled {
        source: Arc::from(source),
        offset,
        line,
        order,
        kind,
        page,
        bytes,
        checked: tags[0] != 3,
    }))
}

/// The date of a call record's `startDateTime` found without parsing: the first
/// `"startDateTime"` key of the unit. (Graph writes the call's own before its sessions'; when
/// it is not, the record is only spilled under another date, and flattened all the same.)
fn quick_call_date(bytes: &[u8]) -> Option<i32> {
    let v = crate::decode::string_after_key(bytes, b"\"startDateTime\"", 40)?;
    let us = crate::values::parse_timestamp_us(std::str::from_utf8(v).ok()?)?;
    Some(us.div_euclid(86_400_000_000) as i32)
}

/// Counts one decoded unit in `stats`, and a rejected one in `rejects` too.
#[allow(clippy::too_many_arguments)]
fn tally(
    outcome: Outcome,
    bytes: &[u8],
    source: &Arc<str>,
    offset: u64,
    line: u64,
    stats: &mut Stats,
    rejects: &mut Vec<Reject>,
) {
    match outcome {
        Outcome::Call => stats.calls += 1,
        Outcome::PartialCall => stats.partial_records += 1,
        Outcome::Deferred { .. } => {}
        Outcome::Session => stats.page_sessions += 1,
        Outcome::Participant => stats.page_participants += 1,
        Outcome::PageEnd { next_link } => {
            stats.pages += 1;
            stats.pages_with_next_link += u64::from(next_link);
        }
        Outcome::Side { table, redacted } => {
            stats.side[table.index()] += 1;
            stats.redacted += u64::from(redacted);
        }
        Outcome::NotCallRecord(name) => *stats.not_call_records.entry(name).or_default() += 1,
        Outcome::Rejected(r) => {
            stats.rejected += 1;
            let at = r.at.map(|at| at.min(bytes.len()));
            rejects.push(Reject {
                source: source.clone(),
                offset: offset + at.unwrap_or(0) as u64,
                line: line
                    + at.map_or(0, |at| {
                        memchr::memchr_iter(b'\n', &bytes[..at]).count() as u64
                    }),
                path: r.path,
                error: r.error,
                excerpt: excerpt(bytes),
            });
        }
    }
}

fn work<P>(
    id: usize,
    rx: Arc<std::sync::Mutex<Receiver<WorkUnit>>>,
    tx: SyncSender<Delivery<P>>,
    options: &PipelineOptions,
    prepare: &(dyn Fn(FlatParts) -> P + Sync),
    shared: &Shared,
) {
    let mut decoder = Decoder::new();
    let mut line_framer = Framer::new()
        .with_max_frame_bytes(options.max_frame_bytes)
        .with_max_string_bytes(options.max_string_bytes);
    let mut batcher = Batcher {
        order: 0,
        routed: 0,
        max_dates: options.max_dates,
        batch_rows: options.batch_rows,
        batch_bytes: options.batch_bytes,
        unit_bytes: 0,
        pages: Flattener::new(),
        dates: BTreeMap::new(),
        ready: Vec::new(),
        spare: Vec::new(),
        side: SideRows::new(),
    };
    let mut spill = Spill {
        shared,
        worker: id,
        files: BTreeMap::new(),
    };
    let mut rejects = Vec::new();
    let mut stats = Stats::default();
    let send = |batches: Vec<FlatParts>,
                side: Option<SideBatch>,
                rejects: &mut Vec<Reject>,
                stats: &mut Stats|
     -> bool {
        let mut batches = batches
            .into_iter()
            .filter(|b| b.partial().batches.iter().any(|x| x.num_rows() > 0));
        let first = batches.next();
        let d = Delivery {
            batch: first.map(prepare),
            side,
            rejects: std::mem::take(rejects),
            stats: std::mem::take(stats),
        };
        if tx.send(d).is_err() {
            return false;
        }
        for b in batches {
            let d = Delivery {
                batch: Some(prepare(b)),
                side: None,
                rejects: Vec::new(),
                stats: Stats::default(),
            };
            if tx.send(d).is_err() {
                return false;
            }
        }
        true
    };
    let mut ok = true;
    let mut last_source: Option<Arc<str>> = None;
    loop {
        let unit = { rx.lock().expect("queue lock").recv() };
        let Ok(unit) = unit else { break };
        if !ok {
            continue; // drain so the reader finishes
        }
        stats.bytes += unit.bytes;
        stats.files += unit.files;
        stats.rejected += unit.rejects.len() as u64;
        rejects.extend(unit.rejects);
        if last_source.as_ref() != Some(&unit.source) {
            batcher
                .side
                .set_source(unit.source.clone(), modified_us(&unit.source));
            last_source = Some(unit.source.clone());
        }
        for (n, f) in unit.frames.iter().enumerate() {
            let bytes = &unit.data[f.start..f.start + f.len];
            // The frame's place in the input; the low byte numbers the documents a line that
            // was framed unchecked turns out to hold.
            let order = (unit.seq << 32) | ((n as u64) << 8);
            let mut d = Decoding {
                decoder: &mut decoder,
                batcher: &mut batcher,
                spill: &mut spill,
                source: &unit.source,
                stats: &mut stats,
                rejects: &mut rejects,
            };
            let done = if f.checked {
                d.checked(f, bytes, order)
            } else {
                d.unchecked(f, bytes, order, &mut line_framer)
            };
            if let Err(e) = done {
                shared.fail(e);
                ok = false;
                break;
            }
        }
        stats.repeated_keys += batcher.take_repeated_keys();
        let due = batcher.due(false);
        let side = (batcher.side.rows() >= options.batch_rows).then(|| batcher.side.finish());
        if (!due.is_empty() || side.is_some()) && !send(due, side, &mut rejects, &mut stats) {
            ok = false;
        }
    }
    if ok {
        let due = batcher.due(true);
        let side = (batcher.side.rows() > 0).then(|| batcher.side.finish());
        ok = send(due, side, &mut rejects, &mut stats);
    }
    if let Err(e) = spill.close() {
        shared.fail(e);
        ok = false;
    }
    // The spilled dates, one at a time, once every worker has closed its spill files.
    shared.barrier.wait();
    let mut fl = Flattener::new();
    while ok {
        let next = shared.spilled.lock().expect("spilled dates").pop_first();
        let Some(date) = next else { break };
        for w in 0..options.threads {
            let path = shared.spill_path(w, date);
            let file = match File::open(&path) {
                Ok(f) => f,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => {
                    shared.fail_io(&path, e);
                    ok = false;
                    break;
                }
            };
            let mut r = BufReader::with_capacity(256 * 1024, file);
            loop {
                let rec = match read_spilled(&mut r) {
                    Ok(Some(rec)) => rec,
                    Ok(None) => break,
                    Err(e) => {
                        shared.fail_io(&path, e);
                        ok = false;
                        break;
                    }
                };
                fl.set_order(rec.order);
                fl.add_input_bytes(rec.bytes.len());
                batcher.side.set_order(rec.order);
                let outcome = decoder.decode_routed(
                    &rec.bytes,
                    &rec.kind,
                    &rec.page,
                    0,
                    &mut OneDate(&mut fl, &mut batcher.side),
                );
                let again = (!rec.checked && matches!(outcome, Outcome::Rejected(_)))
                    .then(|| {
                        frame_again(
                            &mut line_framer,
                            &rec.source,
                            &rec.bytes,
                            rec.offset,
                            rec.line,
                        )
                    })
                    .filter(|again| !again.is_one(&rec.bytes));
                match again {
                    None => tally(
                        outcome,
                        &rec.bytes,
                        &rec.source,
                        rec.offset,
                        rec.line,
                        &mut stats,
                        &mut rejects,
                    ),
                    // An unchecked line that is not one document: what a scan frames it into.
                    Some(again) => {
                        stats.rejected += again.errors.len() as u64;
                        rejects.extend(again.errors);
                        for (k, (kind, range, offset, line)) in again.frames.into_iter().enumerate()
                        {
                            let sub = rec.order | (k as u64).min(0xff);
                            fl.set_order(sub);
                            batcher.side.set_order(sub);
                            let bytes = &again.data[range];
                            let outcome = decoder.decode_routed(
                                bytes,
                                &kind,
                                &rec.page,
                                0,
                                &mut OneDate(&mut fl, &mut batcher.side),
                            );
                            tally(
                                outcome,
                                bytes,
                                &rec.source,
                                offset,
                                line,
                                &mut stats,
                                &mut rejects,
                            );
                        }
                    }
                }
                stats.repeated_keys += fl.take_repeated_keys() + batcher.side.take_repeated_keys();
                if full(&fl, options.batch_rows, options.batch_bytes)
                    && !send(vec![fl.finish_parts()], None, &mut rejects, &mut stats)
                {
                    ok = false;
                    break;
                }
            }
            let _ = std::fs::remove_file(&path);
            if !ok {
                break;
            }
        }
        if ok {
            let side = (batcher.side.rows() > 0).then(|| batcher.side.finish());
            ok = send(vec![fl.finish_parts()], side, &mut rejects, &mut stats);
        }
    }
}

/// What decodes a worker's frames, and where their rows, spills, counts and rejects go.
struct Decoding<'a, 'b> {
    decoder: &'a mut Decoder,
    batcher: &'a mut Batcher,
    spill: &'a mut Spill<'b>,
    source: &'a Arc<str>,
    stats: &'a mut Stats,
    rejects: &'a mut Vec<Reject>,
}

impl Decoding<'_, '_> {
    /// Decodes a frame the reader's framer scanned, or sets it aside (unparsed, in a spill
    /// file) when it is a call record of a date the worker has no flattener for. Fails only
    /// when the spill file cannot be written.
    fn checked(&mut self, f: &UnitFrame, bytes: &[u8], order: u64) -> Result<()> {
        self.batcher.order = order;
        self.batcher.unit_bytes = f.len;
        let maybe_call = matches!(
            f.kind,
            FrameKind::Document | FrameKind::ArrayItem { .. } | FrameKind::PageItem { .. }
        ) && matches!(*f.page, PageKind::CallRecords | PageKind::Unknown);
        let early = if maybe_call {
            quick_call_date(bytes).filter(|d| !self.batcher.slot(*d))
        } else {
            None
        };
        let outcome = match early {
            Some(date) => Outcome::Deferred { date },
            None => self
                .decoder
                .decode_routed(bytes, &f.kind, &f.page, f.occurrence, self.batcher),
        };
        if let Outcome::Deferred { date } = outcome {
            self.spill.write(date, self.source, f, order, bytes)?;
        }
        self.tally(outcome, bytes, f);
        Ok(())
    }

    /// Decodes a line of NDJSON framed without a scan ([`UnitFrame::checked`] false), or sets
    /// it aside as it is, still unchecked, when it is a call record of a date the worker has no
    /// flattener for. Valid JSON is one document, decoded as [`Decoding::checked`] would; a line
    /// that does not parse is framed again by `framer` as the scan would have framed it, and
    /// what that gives is decoded as checked frames.
    fn unchecked(
        &mut self,
        f: &UnitFrame,
        bytes: &[u8],
        order: u64,
        framer: &mut Framer,
    ) -> Result<()> {
        self.batcher.order = order;
        self.batcher.unit_bytes = f.len;
        if let Some(date) = quick_call_date(bytes).filter(|d| !self.batcher.slot(*d)) {
            self.spill.write(date, self.source, f, order, bytes)?;
            self.tally(Outcome::Deferred { date }, bytes, f);
            return Ok(());
        }
        let outcome = self
            .decoder
            .decode_routed(bytes, &f.kind, &f.page, 0, self.batcher);
        if !matches!(outcome, Outcome::Rejected(_)) {
            self.tally(outcome, bytes, f);
            return Ok(());
        }
        let again = frame_again(framer, self.source, bytes, f.offset, f.line);
        if again.is_one(bytes) {
            // One document after all: the parse's rejection stands.
            self.tally(outcome, bytes, f);
            return Ok(());
        }
        self.stats.rejected += again.errors.len() as u64;
        self.rejects.extend(again.errors);
        for (k, (kind, range, offset, line)) in again.frames.into_iter().enumerate() {
            let g = UnitFrame {
                start: 0,
                len: range.len(),
                kind,
                offset,
                line,
                page: f.page.clone(),
                occurrence: 0,
                checked: true,
            };
            self.checked(&g, &again.data[range], order | (k as u64).min(0xff))?;
        }
        Ok(())
    }

    fn tally(&mut self, outcome: Outcome, bytes: &[u8], f: &UnitFrame) {
        tally(
            outcome,
            bytes,
            self.source,
            f.offset,
            f.line,
            self.stats,
            self.rejects,
        );
    }
}

/// The reject of bytes of `source` that could not be framed (`f`, with error `e`).
fn frame_reject(source: &Arc<str>, f: &crate::frame::Frame<'_>, e: &FrameError) -> Reject {
    Reject {
        source: source.clone(),
        offset: f.offset,
        line: f.line,
        path: None,
        error: e.to_string(),
        excerpt: excerpt(f.bytes),
    }
}

/// An unchecked line of NDJSON framed again, as the reader's scan would have framed it.
struct Again {
    /// The bytes of `frames`.
    data: Vec<u8>,
    /// The units: kind, bytes in `data`, offset and line.
    frames: Vec<(FrameKind, std::ops::Range<usize>, u64, u64)>,
    /// What could not be framed.
    errors: Vec<Reject>,
}

impl Again {
    /// Whether the line is one document after all: `bytes`, whole.
    fn is_one(&self, bytes: &[u8]) -> bool {
        self.errors.is_empty() && self.frames.len() == 1 && self.data == bytes
    }
}

/// Frames `bytes`, an unchecked line of NDJSON at `offset` on line `line` of `source`, again.
fn frame_again(
    framer: &mut Framer,
    source: &Arc<str>,
    bytes: &[u8],
    offset: u64,
    line: u64,
) -> Again {
    let mut again = Again {
        data: Vec::new(),
        frames: Vec::new(),
        errors: Vec::new(),
    };
    framer.frame_line(bytes, offset, line, &mut |g| match g.kind {
        FrameKind::Error(ref e) => again.errors.push(frame_reject(source, &g, e)),
        kind => {
            let start = again.data.len();
            again.data.extend_from_slice(g.bytes);
            again
                .frames
                .push((kind, start..again.data.len(), g.offset, g.line));
        }
    });
    again
}

/// The modification time of file `path` in µs since the epoch (none for standard input).
fn modified_us(path: &str) -> Option<i64> {
    let t = std::fs::metadata(path).ok()?.modified().ok()?;
    Some(t.duration_since(std::time::UNIX_EPOCH).ok()?.as_micros() as i64)
}

/// Every call record to one flattener (the spilled records of one date, only call records).
struct OneDate<'a>(&'a mut Flattener, &'a mut SideRows);

impl Route for OneDate<'_> {
    fn call(&mut self, _: Option<i32>) -> Option<&mut Flattener> {
        Some(self.0)
    }
    fn page(&mut self) -> &mut Flattener {
        self.0
    }
    fn side(&mut self) -> &mut SideRows {
        self.1
    }
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
        let mut unit = new_unit(&source);
        unit.seq = seq;
        unit.files = 1;
        let damage = if options.check_compressed {
            check_compressed(input).map_err(io_err)?
        } else {
            None
        };
        if let Some(d) = damage {
            unit.rejects.push(Reject {
                source: source.clone(),
                offset: d.offset,
                line: d.line,
                path: None,
                error: format!(
                    "damaged compressed data ({}) after {} decompressed bytes: none of this file's records are converted, as its checksum cannot vouch for any of them",
                    d.error, d.offset
                ),
                excerpt: String::new(),
            });
            seq = unit.seq + 1;
            if tx.send(unit).is_err() {
                return Ok(());
            }
            continue;
        }
        let mut reader = open(input).map_err(io_err)?;
        let mut framer = Framer::new()
            .with_max_frame_bytes(options.max_frame_bytes)
            .with_max_string_bytes(options.max_string_bytes)
            .with_unchecked_lines(options.unchecked_lines);
        let mut page = Arc::new(PageKind::Unknown);
        let mut occurrences = SessionOccurrences::default();
        let mut buf = vec![0u8; 1 << 20];
        let mut sent_ok = true;
        let mut read_failed = false;
        let handle = |f: crate::frame::Frame<'_>,
                      unit: &mut WorkUnit,
                      page: &mut Arc<PageKind>,
                      occurrences: &mut SessionOccurrences| {
            match &f.kind {
                FrameKind::PageStart { .. } => {
                    *page = Arc::new(page_kind(odata_context(f.bytes).as_deref()));
                    occurrences.page_start(page);
                }
                FrameKind::Error(e) => unit.rejects.push(frame_reject(&source, &f, e)),
                kind => {
                    let start = unit.data.len();
                    unit.data.extend_from_slice(f.bytes);
                    let this_page =
                        if matches!(kind, FrameKind::PageItem { .. } | FrameKind::PageEnd { .. }) {
                            page.clone()
                        } else {
                            Arc::new(PageKind::Unknown)
                        };
                    let occurrence = match kind {
                        FrameKind::PageItem { .. } => occurrences.item(f.bytes),
                        FrameKind::PageEnd { .. } => {
                            occurrences.page_end(f.bytes);
                            0
                        }
                        _ => 0,
                    };
                    unit.frames.push(UnitFrame {
                        start,
                        len: f.bytes.len(),
                        kind: kind.clone(),
                        offset: f.offset,
                        line: f.line,
                        page: this_page,
                        occurrence,
                        checked: f.checked,
                    });
                    if matches!(kind, FrameKind::PageEnd { .. }) {
                        *page = Arc::new(PageKind::Unknown);
                    }
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
                        line: framer.line(),
                        path: None,
                        error: format!("reading stopped: {e}"),
                        excerpt: String::new(),
                    });
                    read_failed = true;
                    break;
                }
            };
            total += n as u64;
            unit.bytes += n as u64;
            progress(total);
            framer.push(&buf[..n], &mut |f| {
                handle(f, &mut unit, &mut page, &mut occurrences)
            });
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
        framer.finish(&mut |f| handle(f, &mut unit, &mut page, &mut occurrences));
        // (A stream handed over in memory may carry nothing: a pull that found nothing new.)
        if framer.is_blank() && !read_failed && sent_ok && !matches!(input, Input::Stream(_)) {
            // Most likely an export that failed before writing anything: worth a look.
            unit.rejects.push(Reject {
                source: source.clone(),
                offset: 0,
                line: 1,
                path: None,
                error: "no JSON document in the input (it is empty or only whitespace)".into(),
                excerpt: String::new(),
            });
        }
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
    use super::*;
    use arrow::array::AsArray;

    #[test]
    fn records_of_dates_set_aside_are_flattened_after_the_input_with_their_positions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("calls.ndjson");
        // One date at a time: the records of 2024-05-02 are spilled while 05-01 is being
        // flattened; the one with a bad version is rejected when its date is flattened.
        std::fs::write(
            &path,
            concat!(
                r#"{"id":"a","version":1,"startDateTime":"2024-05-01T10:00:00Z"}"#,
                "\n",
                r#"{"id":"b","version":1,"startDateTime":"2024-05-02T10:00:00Z"}"#,
                "\n",
                r#"{"id":"c","version":"x","startDateTime":"2024-05-02T11:00:00Z"}"#,
                "\n",
                r#"{"id":"d","version":2,"startDateTime":"2024-05-01T12:00:00Z"}"#,
                "\n",
            ),
        )
        .unwrap();
        let options = PipelineOptions::default()
            .with_threads(1)
            .with_max_dates(1)
            .with_spill_dir(dir.path());
        let mut batches: Vec<FlatBatch> = Vec::new();
        let mut rejects = Vec::new();
        let stats = run(
            &[Input::File(path.clone())],
            &options,
            &|_| {},
            &|b| b.complete(),
            &mut |d| {
                batches.extend(d.batch);
                rejects.extend(d.rejects);
                Ok(())
            },
        )
        .unwrap();
        assert_eq!((stats.calls, stats.rejected), (3, 1));
        let mut by_date: Vec<(i32, Vec<String>)> = batches
            .iter()
            .map(|b| {
                let calls = &b.batches[0];
                let dates = calls
                    .column(1)
                    .as_primitive::<arrow::datatypes::Date32Type>();
                let ids = calls.column(0).as_string::<i32>();
                assert!(
                    dates.values().iter().all(|d| *d == dates.value(0)),
                    "one date a batch"
                );
                (
                    dates.value(0),
                    ids.iter().map(|i| i.unwrap().to_string()).collect(),
                )
            })
            .collect();
        by_date.sort();
        assert_eq!(
            by_date,
            vec![
                (19844, vec!["a".to_string(), "d".to_string()]),
                (19845, vec!["b".to_string()])
            ]
        );
        assert_eq!(rejects.len(), 1);
        assert_eq!(&*rejects[0].source, path.display().to_string());
        assert_eq!(
            (rejects[0].line, rejects[0].path.as_deref()),
            (3, Some("$.version"))
        );
        // The spill directory is gone.
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, vec![std::ffi::OsString::from("calls.ndjson")]);
    }

    /// Everything a run hands on, as sorted text: each table's rows, the rejects, and the
    /// counts.
    fn run_as_text(path: &Path, options: &PipelineOptions) -> (Vec<String>, Vec<String>, String) {
        let mut rows = Vec::new();
        let mut rejects = Vec::new();
        let mut stats = Stats::default();
        let total = run(
            &[Input::File(path.to_path_buf())],
            options,
            &|_| {},
            &|b| b.complete(),
            &mut |d| {
                for (t, batch) in d.batch.iter().flat_map(|b| b.batches.iter().enumerate()) {
                    // Each row as the bytes of arrow's row format: equal rows, equal bytes.
                    let fields = batch
                        .schema()
                        .fields()
                        .iter()
                        .map(|f| arrow::row::SortField::new(f.data_type().clone()))
                        .collect();
                    let converter = arrow::row::RowConverter::new(fields).unwrap();
                    let converted = converter.convert_columns(batch.columns()).unwrap();
                    rows.extend(converted.iter().map(|r| format!("{t} {:?}", r.as_ref())));
                }
                rejects.extend(d.rejects.iter().map(|r| format!("{r:?}")));
                stats.merge(d.stats);
                Ok(())
            },
        )
        .unwrap();
        rows.sort();
        rejects.sort();
        (rows, rejects, format!("{total:?} {:?}", stats.rejected))
    }

    #[test]
    fn lines_framed_unchecked_convert_and_reject_exactly_as_scanned_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("calls.ndjson");
        let call = |id: &str, day: u32| {
            format!(r#"{{"id":"{id}","version":1,"startDateTime":"2024-05-0{day}T10:00:00Z"}}"#)
        };
        let nested = |depth: usize| {
            format!(
                r#"{{"id":"deep{depth}","x":{}1{}}}"#,
                r#"{"a":"#.repeat(depth - 1),
                "}".repeat(depth - 1)
            )
        };
        let lines = [
            call("a", 1),
            format!("  {}  \r", call("b", 1)),
            String::new(),
            "   ".into(),
            // Two documents on a line, the second of another date.
            format!("{}{}", call("c", 1), call("d", 2)),
            format!("{} }}", call("e", 1)),
            r#"{"id":"f","x":{"a":1}"#.into(),
            r#"{"id":"g","x":[1}"#.into(),
            r#"{"id":"h" "x":1}"#.into(),
            "{\"id\":\"i\u{1}\",\"version\":1}".into(),
            r#"{"id":"j","version":"x","startDateTime":"2024-05-01T11:00:00Z"}"#.into(),
            nested(512),
            nested(513),
            r#"{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#communications/callRecords","value":[{"id":"k","version":1,"startDateTime":"2024-05-01T10:00:00Z"}]}"#.into(),
            r#"{"id":"l","note":"a \"value\" in a string","version":1,"startDateTime":"2024-05-01T10:00:00Z"}"#.into(),
            // Dates set aside before they are parsed: a good line and two documents.
            call("m", 3),
            format!("{}{}", call("n", 3), call("o", 1)),
            format!("{}{{", call("p", 3)),
            "garbage".into(),
            "{\"id\":\"q\",\"version\":1}\u{c}".into(),
            call("r", 1),
        ];
        let mut text = lines.join("\n");
        text.push_str("\n{\"id\":\"s\",\"version\":1,\"startDateTime\":\"2024-05-01T10:00:00Z\"}");
        std::fs::write(&path, text).unwrap();
        for threads in [1, 2] {
            let options = PipelineOptions::default()
                .with_threads(threads)
                .with_max_dates(1)
                .with_unit_bytes(700)
                .with_spill_dir(dir.path());
            let scanned = run_as_text(&path, &options.clone().with_unchecked_lines(false));
            let unchecked = run_as_text(&path, &options.with_unchecked_lines(true));
            assert_eq!(unchecked.0, scanned.0, "rows");
            assert_eq!(unchecked.1, scanned.1, "rejects");
            assert_eq!(unchecked.2, scanned.2, "counts");
            assert!(scanned.0.len() >= 10, "{}", scanned.0.len());
            // The input holds what it was meant to: good records and each kind of reject.
            assert!(scanned.1.len() >= 9, "{:#?}", scanned.1);
            for needle in [
                "broken NDJSON line",
                "does not match",
                "cannot follow",
                "nesting deeper",
                "outside a JSON document",
                "invalid JSON",
                "$.version",
            ] {
                assert!(
                    scanned.1.iter().any(|r| r.contains(needle)),
                    "no reject with {needle}: {:#?}",
                    scanned.1
                );
            }
        }
    }
}

//! `cqlake gen`: a seeded generator of realistic Microsoft Graph call records.
//!
//! [`Generator`] draws call records — peer-to-peer and group calls, sessions with segments,
//! media of every kind with their streams, networks, devices, user agents, feedback, failures,
//! identities and the odd key the schema does not know — and writes them in one of the
//! [`Container`]s Graph exports come in, streaming to any [`std::io::Write`] without holding the
//! corpus in memory. Every call is drawn from its own ChaCha8 stream keyed by the seed and the
//! call's number, so a seed gives the same bytes on every run and platform.
//!
//! The writer returns [`GenStats`]: the bytes written and, as ground truth for tests, the rows
//! the lake must hold per table once revisions are resolved (the highest `version` of each call
//! wins).
//!
//! The model ([`model`]) and the JSON writer ([`json`]) are public so that property tests can
//! build records, write them and compare the lake with them.
//!
//! ```
//! use cqlake_gen::{Container, Generator};
//! use cqlake_schema::TableId;
//!
//! let mut out = Vec::new();
//! let stats = Generator::new(7)
//!     .with_calls(3)
//!     .with_container(Container::Ndjson)
//!     .write_to(&mut out)
//!     .unwrap();
//! assert_eq!(stats.calls, 3);
//! assert_eq!(stats.rows(TableId::Calls), 3);
//! assert_eq!(out.iter().filter(|b| **b == b'\n').count(), 3);
//! assert_eq!(stats.bytes, out.len() as u64);
//! ```

pub mod json;
pub mod model;
pub mod pools;
mod random;
pub mod side;

#[cfg(test)]
mod tests;

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use cqlake_schema::TableId;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use json::{CallDoc, JsonWriter, Style};
use model::{CallModel, TableRows, Timestamp};
use random::{Params, Rng};

/// The default number of calls when neither [`Generator::with_calls`] nor
/// [`Generator::with_target_bytes`] is set.
pub const DEFAULT_CALLS: u64 = 1000;
/// The default share of group calls (the rest are peer-to-peer, with one session).
pub const DEFAULT_GROUP_CALL_SHARE: f64 = 0.45;
/// The default share of group calls with 61 to 130 sessions (more than one `$expand` page holds).
pub const DEFAULT_LARGE_CALL_SHARE: f64 = 0.03;
/// The default share of group calls with 140 to 160 sessions and more than 130 participants.
pub const DEFAULT_HUGE_CALL_SHARE: f64 = 0.004;
/// The default chance that one metric of a stream is poor (beyond its CQD threshold), before
/// the site and connection bias (a few subnets are much worse; wired is better, mobile worse).
pub const DEFAULT_POOR_SHARE: f64 = 0.025;
/// The default chance that one metric of a stream sits exactly at its CQD threshold
/// (jitter `PT0.03S`, packet loss `0.1`, round trip `PT0.5S`, ...).
pub const DEFAULT_THRESHOLD_SHARE: f64 = 0.008;
/// The default chance that one metric of a stream is missing (`null` or absent).
pub const DEFAULT_MISSING_SHARE: f64 = 0.04;
/// The default chance that an object that may carry one gets a key the schema does not declare
/// (call records, identity sets, streams; unknown feedback tokens five times as often).
pub const DEFAULT_UNKNOWN_KEY_SHARE: f64 = 0.02;
/// The default chance that a session carries user feedback.
pub const DEFAULT_FEEDBACK_SHARE: f64 = 0.1;
/// The default chance that a session has a `failureInfo` (segments: 70 % of it).
pub const DEFAULT_FAILURE_SHARE: f64 = 0.015;
/// The default share of calls re-emitted later with a higher `version` (off).
pub const DEFAULT_REVISIONS: f64 = 0.0;
/// The default number of calls a revision trails its call by, at most.
pub const DEFAULT_REVISION_DELAY: u64 = 50;
/// The default number of call records per collection page ([`Container::Page`]).
pub const DEFAULT_PAGE_CALLS: usize = 50;
/// The most sessions a `$expand` document holds (Graph's limit).
pub const DEFAULT_SESSIONS_PER_PAGE: usize = 60;
/// The most `participants_v2` a `$expand` document holds (Graph's limit).
pub const DEFAULT_PARTICIPANTS_PER_PAGE: usize = 130;
/// The default number of days call start times spread over.
pub const DEFAULT_DAYS: u32 = 30;
/// The default first day of the window: 2024-05-01 UTC (as seconds since the epoch).
pub const DEFAULT_START_UNIX_SECONDS: i64 = 1_714_521_600;
/// The gzip level used for [`Compression::Gzip`] (fast: the generator must keep up).
pub const GZIP_LEVEL: u32 = 1;
/// The zstd level used for [`Compression::Zstd`].
pub const ZSTD_LEVEL: i32 = 3;

const BOM: &[u8] = &[0xEF, 0xBB, 0xBF];
const FLUSH_BYTES: usize = 1 << 20;

/// How the records are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Container {
    /// One compact `$expand`-shaped record per line, every session inline.
    #[default]
    Ndjson,
    /// One top-level JSON array of compact records.
    Array,
    /// Pretty-printed `GET callRecords/{id}?$expand=sessions($expand=segments)` responses,
    /// concatenated, every session inline.
    Concat,
    /// Compact `callRecords` collection pages (`@odata.context`, `value`, `@odata.nextLink` on
    /// all but the last), one page per line.
    Page,
    /// One pretty-printed collection page holding every record.
    PrettyPage,
    /// Graph-faithful `$expand` responses: each call as a pretty document with at most 60
    /// sessions and 130 `participants_v2` (`sessions@odata.nextLink` /
    /// `participants_v2@odata.nextLink` when more follow), followed by its follow-up session
    /// and participant pages, whose items carry no call id.
    Expanded,
}

impl Container {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Container::Ndjson => "ndjson",
            Container::Array => "array",
            Container::Concat => "concat",
            Container::Page => "page",
            Container::PrettyPage => "pretty-page",
            Container::Expanded => "expanded",
        }
    }
}

/// Which Graph API version the records look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Shape {
    /// v1.0: `organizer_v2` / `participants_v2` (and the deprecated identity sets on some),
    /// endpoints with `associatedIdentity`.
    #[default]
    V1,
    /// beta: the identity sets `organizer` / `participants` (`participants_v2` on some),
    /// endpoints with `identity`.
    Beta,
    /// Each call one or the other (60 % v1.0).
    Mixed,
}

/// Compression of the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compression {
    /// None.
    #[default]
    None,
    /// gzip (level [`GZIP_LEVEL`]).
    Gzip,
    /// zstd (level [`ZSTD_LEVEL`]).
    Zstd,
}

impl Compression {
    /// The file name suffix (`""`, `".gz"`, `".zst"`).
    pub fn suffix(self) -> &'static str {
        match self {
            Compression::None => "",
            Compression::Gzip => ".gz",
            Compression::Zstd => ".zst",
        }
    }
}

/// One record in the output: call `index`, its `revision` (0 = first record).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Emission {
    /// The call's number (0-based, in order of first emission).
    pub index: u64,
    /// 0 for the call's first record, n for its n-th revision.
    pub revision: u32,
    /// True when no later revision of the call follows: this record is what the lake keeps.
    pub last: bool,
}

/// What a run wrote, and what the lake must hold after converting it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GenStats {
    /// Bytes written before compression (byte order marks included).
    pub bytes: u64,
    /// Bytes written after compression (equal to `bytes` without compression).
    pub bytes_out: u64,
    /// Top-level JSON documents (NDJSON lines, pages, `$expand` documents, follow-up pages).
    pub documents: u64,
    /// Files written (1 unless writing a directory).
    pub files: u64,
    /// Distinct calls.
    pub calls: u64,
    /// Call records written, revisions included.
    pub records: u64,
    /// Of `records`, the revisions.
    pub revisions: u64,
    /// Follow-up pages of sessions ([`Container::Expanded`]).
    pub session_pages: u64,
    /// Sessions written in follow-up pages.
    pub page_sessions: u64,
    /// Follow-up pages of `participants_v2` ([`Container::Expanded`]).
    pub participant_pages: u64,
    /// Participants written in follow-up pages.
    pub page_participants: u64,
    /// Rows of each lake table (in [`TableId::ALL`] order) once each call's highest version won.
    pub table_rows: TableRows,
    /// Streams per media `label`, of the winning records.
    pub streams_by_label: BTreeMap<String, u64>,
}

impl GenStats {
    /// Rows of table `t` the lake must hold.
    pub fn rows(&self, t: TableId) -> u64 {
        self.table_rows[t.index()]
    }

    fn count_final(&mut self, call: &CallModel) {
        for (a, b) in self.table_rows.iter_mut().zip(call.rows()) {
            *a += b;
        }
        call.count_streams_by_label(&mut self.streams_by_label);
    }
}

/// Writes a seeded corpus of call records. See the [module documentation](self).
#[derive(Debug, Clone)]
pub struct Generator {
    seed: u64,
    calls: Option<u64>,
    target_bytes: Option<u64>,
    container: Container,
    revisions: f64,
    revision_delay: u64,
    bom: bool,
    compression: Compression,
    page_calls: usize,
    sessions_per_page: usize,
    participants_per_page: usize,
    params: Params,
}

impl Generator {
    /// A generator of [`DEFAULT_CALLS`] calls from `seed`, with every other setting at its
    /// default.
    pub fn new(seed: u64) -> Self {
        Generator {
            seed,
            calls: None,
            target_bytes: None,
            container: Container::default(),
            revisions: DEFAULT_REVISIONS,
            revision_delay: DEFAULT_REVISION_DELAY,
            bom: false,
            compression: Compression::None,
            page_calls: DEFAULT_PAGE_CALLS,
            sessions_per_page: DEFAULT_SESSIONS_PER_PAGE,
            participants_per_page: DEFAULT_PARTICIPANTS_PER_PAGE,
            params: Params {
                shape: Shape::default(),
                start: Timestamp::from_unix_seconds(DEFAULT_START_UNIX_SECONDS),
                days: DEFAULT_DAYS,
                group_call_share: DEFAULT_GROUP_CALL_SHARE,
                large_call_share: DEFAULT_LARGE_CALL_SHARE,
                huge_call_share: DEFAULT_HUGE_CALL_SHARE,
                poor_share: DEFAULT_POOR_SHARE,
                threshold_share: DEFAULT_THRESHOLD_SHARE,
                missing_share: DEFAULT_MISSING_SHARE,
                unknown_key_share: DEFAULT_UNKNOWN_KEY_SHARE,
                feedback_share: DEFAULT_FEEDBACK_SHARE,
                failure_share: DEFAULT_FAILURE_SHARE,
            },
        }
    }

    /// Writes `n` distinct calls (plus their revisions). Default [`DEFAULT_CALLS`]; clears a
    /// target size.
    pub fn with_calls(mut self, n: u64) -> Self {
        self.calls = Some(n);
        self.target_bytes = None;
        self
    }

    /// Writes calls until at least `bytes` (uncompressed) are written, then the revisions still
    /// due. Clears a call count.
    pub fn with_target_bytes(mut self, bytes: u64) -> Self {
        self.target_bytes = Some(bytes);
        self.calls = None;
        self
    }

    /// The layout. Default [`Container::Ndjson`].
    pub fn with_container(mut self, c: Container) -> Self {
        self.container = c;
        self
    }

    /// The API version the records look like. Default [`Shape::V1`].
    pub fn with_shape(mut self, s: Shape) -> Self {
        self.params.shape = s;
        self
    }

    /// The share of calls re-emitted later (once, sometimes two or three times) with a higher
    /// `version`, a later `lastModifiedDateTime` and metrics measured again. Default
    /// [`DEFAULT_REVISIONS`] (none).
    pub fn with_revisions(mut self, share: f64) -> Self {
        self.revisions = share.clamp(0.0, 1.0);
        self
    }

    /// How many calls a revision trails its previous record by, at most. Default
    /// [`DEFAULT_REVISION_DELAY`].
    pub fn with_revision_delay(mut self, calls: u64) -> Self {
        self.revision_delay = calls.max(1);
        self
    }

    /// Starts the output (every file, when writing a directory) with a UTF-8 byte order mark.
    /// Default off.
    pub fn with_bom(mut self, bom: bool) -> Self {
        self.bom = bom;
        self
    }

    /// Compresses the output. Default [`Compression::None`].
    pub fn with_compression(mut self, c: Compression) -> Self {
        self.compression = c;
        self
    }

    /// Call records per collection page of [`Container::Page`]. Default [`DEFAULT_PAGE_CALLS`].
    pub fn with_page_calls(mut self, n: usize) -> Self {
        self.page_calls = n.max(1);
        self
    }

    /// The most sessions per `$expand` document and follow-up page of [`Container::Expanded`].
    /// Default [`DEFAULT_SESSIONS_PER_PAGE`].
    pub fn with_sessions_per_page(mut self, n: usize) -> Self {
        self.sessions_per_page = n.max(1);
        self
    }

    /// The most `participants_v2` per `$expand` document and follow-up page of
    /// [`Container::Expanded`]. Default [`DEFAULT_PARTICIPANTS_PER_PAGE`].
    pub fn with_participants_per_page(mut self, n: usize) -> Self {
        self.participants_per_page = n.max(1);
        self
    }

    /// The window of call start times: `days` days from `start`. Default
    /// [`DEFAULT_START_UNIX_SECONDS`], [`DEFAULT_DAYS`].
    pub fn with_window(mut self, start: Timestamp, days: u32) -> Self {
        self.params.start = start;
        self.params.days = days.max(1);
        self
    }

    /// The share of group calls. Default [`DEFAULT_GROUP_CALL_SHARE`].
    pub fn with_group_call_share(mut self, share: f64) -> Self {
        self.params.group_call_share = share.clamp(0.0, 1.0);
        self
    }

    /// The share of group calls with 61–130 sessions. Default [`DEFAULT_LARGE_CALL_SHARE`].
    pub fn with_large_call_share(mut self, share: f64) -> Self {
        self.params.large_call_share = share.clamp(0.0, 1.0);
        self
    }

    /// The share of group calls with 140–160 sessions. Default [`DEFAULT_HUGE_CALL_SHARE`].
    pub fn with_huge_call_share(mut self, share: f64) -> Self {
        self.params.huge_call_share = share.clamp(0.0, 1.0);
        self
    }

    /// The chance that a stream metric is poor. Default [`DEFAULT_POOR_SHARE`].
    pub fn with_poor_share(mut self, share: f64) -> Self {
        self.params.poor_share = share.clamp(0.0, 1.0);
        self
    }

    /// The chance that a stream metric is exactly at its threshold. Default
    /// [`DEFAULT_THRESHOLD_SHARE`].
    pub fn with_threshold_share(mut self, share: f64) -> Self {
        self.params.threshold_share = share.clamp(0.0, 1.0);
        self
    }

    /// The chance that a stream metric is missing. Default [`DEFAULT_MISSING_SHARE`].
    pub fn with_missing_share(mut self, share: f64) -> Self {
        self.params.missing_share = share.clamp(0.0, 1.0);
        self
    }

    /// The chance of a key the schema does not declare. Default [`DEFAULT_UNKNOWN_KEY_SHARE`].
    pub fn with_unknown_key_share(mut self, share: f64) -> Self {
        self.params.unknown_key_share = share.clamp(0.0, 1.0);
        self
    }

    /// The chance that a session carries feedback. Default [`DEFAULT_FEEDBACK_SHARE`].
    pub fn with_feedback_share(mut self, share: f64) -> Self {
        self.params.feedback_share = share.clamp(0.0, 1.0);
        self
    }

    /// The chance that a session has a `failureInfo`. Default [`DEFAULT_FAILURE_SHARE`].
    pub fn with_failure_share(mut self, share: f64) -> Self {
        self.params.failure_share = share.clamp(0.0, 1.0);
        self
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The layout.
    pub fn container(&self) -> Container {
        self.container
    }

    fn rng(&self, salt: u64, stream: u64) -> Rng {
        let mut r = ChaCha8Rng::seed_from_u64(self.seed ^ salt);
        r.set_stream(stream);
        Rng(r)
    }

    /// The first record of call number `index`.
    pub fn call(&self, index: u64) -> CallModel {
        random::call(&mut self.rng(0, index), &self.params)
    }

    /// Revision `revision` of call number `index` (0 is the first record): each revision is
    /// the previous one with `version` one higher, a later `lastModifiedDateTime`, new metrics
    /// and sometimes one more session.
    pub fn revision(&self, index: u64, revision: u32) -> CallModel {
        let mut call = self.call(index);
        for r in 1..=revision {
            let mut rng = self.rng(0x5EED_0F2E_7151_0500, index * 8 + u64::from(r));
            random::revise(&mut call, &mut rng, &self.params);
        }
        call
    }

    /// The record of an emission.
    pub fn record(&self, e: Emission) -> CallModel {
        self.revision(e.index, e.revision)
    }

    /// The records of `calls` distinct calls and their revisions, in output order (the target
    /// size is ignored: it depends on the container).
    pub fn records(&self, calls: u64) -> impl Iterator<Item = (Emission, CallModel)> + '_ {
        let mut plan = Plan::new();
        std::iter::from_fn(move || {
            let more = plan.next_call < calls;
            plan.next(self, more).map(|e| (e, self.record(e)))
        })
    }

    /// Writes the corpus to `w` as one stream (with the compression set) and returns what it
    /// wrote. `w` should be buffered if small writes are costly; the generator writes in chunks
    /// of about 1 MB.
    pub fn write_to<W: Write>(&self, w: W) -> io::Result<GenStats> {
        let sink = Sink::Stream(Some(Encoder::new(
            Counting { inner: w, n: 0 },
            self.compression,
        )?));
        let mut e = Emitter::new(self, sink);
        e.run()?;
        e.finish()
    }

    /// Writes the corpus into directory `dir` (created if needed), one file per top-level
    /// document, named by sequence number only (`00000017.json`, plus `.gz` / `.zst`), so the
    /// names do not tell a call document from a follow-up page.
    pub fn write_dir(&self, dir: &Path) -> io::Result<GenStats> {
        std::fs::create_dir_all(dir)?;
        let mut e = Emitter::new(self, Sink::<io::Sink>::Dir(DirSink::new(dir.to_path_buf())));
        e.run()?;
        e.finish()
    }
}

/// The order of records: calls in number order, each revision some calls after its previous
/// record, and revisions still due when the calls run out at the end.
struct Plan {
    next_call: u64,
    pending: BinaryHeap<Reverse<(u64, u64, u32, bool)>>,
}

impl Plan {
    fn new() -> Self {
        Plan {
            next_call: 0,
            pending: BinaryHeap::new(),
        }
    }

    /// The next record; `more` says whether a new call may start.
    fn next(&mut self, g: &Generator, more: bool) -> Option<Emission> {
        if let Some(Reverse((at, index, revision, last))) = self.pending.peek().copied()
            && (at <= self.next_call || !more)
        {
            self.pending.pop();
            return Some(Emission {
                index,
                revision,
                last,
            });
        }
        if !more {
            return None;
        }
        let index = self.next_call;
        self.next_call += 1;
        let mut revisions = 0;
        if g.revisions > 0.0 {
            let mut rng = g.rng(0x9A7E_D0C5, index);
            if rng.chance(g.revisions) {
                revisions = match rng.below(100) {
                    0..=69 => 1,
                    70..=94 => 2,
                    _ => 3,
                };
                let mut at = index;
                for r in 1..=revisions {
                    at += 1 + rng.below(g.revision_delay);
                    self.pending.push(Reverse((at, index, r, r == revisions)));
                }
            }
        }
        Some(Emission {
            index,
            revision: 0,
            last: revisions == 0,
        })
    }
}

/// Counts the bytes that reach the underlying writer.
struct Counting<W> {
    inner: W,
    n: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.n += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

enum Encoder<W: Write> {
    Plain(W),
    Gzip(flate2::write::GzEncoder<W>),
    Zstd(zstd::stream::write::Encoder<'static, W>),
}

impl<W: Write> Encoder<W> {
    fn new(w: W, c: Compression) -> io::Result<Self> {
        Ok(match c {
            Compression::None => Encoder::Plain(w),
            Compression::Gzip => Encoder::Gzip(flate2::write::GzEncoder::new(
                w,
                flate2::Compression::new(GZIP_LEVEL),
            )),
            Compression::Zstd => Encoder::Zstd(zstd::stream::write::Encoder::new(w, ZSTD_LEVEL)?),
        })
    }

    fn write_all(&mut self, b: &[u8]) -> io::Result<()> {
        match self {
            Encoder::Plain(w) => w.write_all(b),
            Encoder::Gzip(w) => w.write_all(b),
            Encoder::Zstd(w) => w.write_all(b),
        }
    }

    fn finish(self) -> io::Result<W> {
        let mut w = match self {
            Encoder::Plain(w) => w,
            Encoder::Gzip(e) => e.finish()?,
            Encoder::Zstd(e) => e.finish()?,
        };
        w.flush()?;
        Ok(w)
    }
}

type FileEncoder = Encoder<Counting<io::BufWriter<std::fs::File>>>;

struct DirSink {
    dir: PathBuf,
    next: u64,
    open: Option<FileEncoder>,
}

impl DirSink {
    fn new(dir: PathBuf) -> Self {
        DirSink {
            dir,
            next: 0,
            open: None,
        }
    }
}

enum Sink<W: Write> {
    Stream(Option<Encoder<Counting<W>>>),
    Dir(DirSink),
}

/// Writes the records of a [`Plan`] in a container, tracking the stats.
struct Emitter<'g, W: Write> {
    g: &'g Generator,
    sink: Sink<W>,
    buf: Vec<u8>,
    stats: GenStats,
    plan: Plan,
    /// Records in the current collection page.
    in_page: usize,
    compression: Compression,
}

impl<'g, W: Write> Emitter<'g, W> {
    fn new(g: &'g Generator, sink: Sink<W>) -> Self {
        Emitter {
            g,
            sink,
            buf: Vec::with_capacity(FLUSH_BYTES + (1 << 16)),
            stats: GenStats::default(),
            plan: Plan::new(),
            in_page: 0,
            compression: g.compression,
        }
    }

    /// Writes the buffer to the current output (opening a file in directory mode).
    fn flush_buf(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let bom = self.g.bom;
        match &mut self.sink {
            Sink::Stream(enc) => {
                let enc = enc.as_mut().expect("stream open until finish");
                enc.write_all(&self.buf)?;
            }
            Sink::Dir(d) => {
                if d.open.is_none() {
                    let name = format!("{:08}.json{}", d.next, self.compression.suffix());
                    d.next += 1;
                    let f = std::fs::File::create(d.dir.join(name))?;
                    let mut enc = Encoder::new(
                        Counting {
                            inner: io::BufWriter::with_capacity(1 << 16, f),
                            n: 0,
                        },
                        self.compression,
                    )?;
                    if bom {
                        enc.write_all(BOM)?;
                        self.stats.bytes += BOM.len() as u64;
                    }
                    self.stats.files += 1;
                    d.open = Some(enc);
                }
                d.open
                    .as_mut()
                    .expect("opened above")
                    .write_all(&self.buf)?;
            }
        }
        self.stats.bytes += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }

    /// Marks the end of a top-level document.
    fn end_document(&mut self) -> io::Result<()> {
        self.stats.documents += 1;
        match &mut self.sink {
            Sink::Stream(_) => {
                if self.buf.len() >= FLUSH_BYTES {
                    self.flush_buf()?;
                }
            }
            Sink::Dir(_) => {
                self.flush_buf()?;
                if let Sink::Dir(d) = &mut self.sink
                    && let Some(enc) = d.open.take()
                {
                    self.stats.bytes_out += enc.finish()?.n;
                }
            }
        }
        Ok(())
    }

    /// Bytes produced so far (written and buffered), for the target size.
    fn produced(&self) -> u64 {
        self.stats.bytes + self.buf.len() as u64
    }

    fn more_calls(&self) -> bool {
        match (self.g.calls, self.g.target_bytes) {
            (_, Some(t)) => self.produced() < t,
            (Some(n), None) => self.plan.next_call < n,
            (None, None) => self.plan.next_call < DEFAULT_CALLS,
        }
    }

    fn run(&mut self) -> io::Result<()> {
        if self.g.bom && matches!(self.sink, Sink::Stream(_)) {
            self.buf.extend_from_slice(BOM);
        }
        let c = self.g.container;
        match c {
            Container::Array => self.buf.extend_from_slice(b"[\n"),
            Container::PrettyPage => {
                self.buf.extend_from_slice(b"{\n    \"@odata.context\": \"");
                self.buf.extend_from_slice(self.page_root().as_bytes());
                self.buf.extend_from_slice(
                    b"/$metadata#communications/callRecords\",\n    \"value\": [",
                );
            }
            _ => {}
        }
        let more = self.more_calls();
        let mut next = self.plan.next(self.g, more);
        let mut first = true;
        while let Some(e) = next {
            let call = self.g.record(e);
            self.stats.records += 1;
            if e.revision == 0 {
                self.stats.calls += 1;
            } else {
                self.stats.revisions += 1;
            }
            if e.last {
                self.stats.count_final(&call);
            }
            self.write_record(&call, first)?;
            first = false;
            let more = self.more_calls();
            next = self.plan.next(self.g, more);
            if c == Container::Page && (self.in_page >= self.g.page_calls || next.is_none()) {
                self.close_page(next.is_some())?;
            }
        }
        match c {
            Container::Array => {
                self.buf.extend_from_slice(b"\n]\n");
                self.end_document()?;
            }
            Container::PrettyPage => {
                self.buf.extend_from_slice(b"\n    ]\n}\n");
                self.end_document()?;
            }
            _ => {}
        }
        Ok(())
    }

    fn page_root(&self) -> &'static str {
        match self.g.params.shape {
            Shape::Beta => model::ApiVersion::Beta.root(),
            _ => model::ApiVersion::V1.root(),
        }
    }

    fn close_page(&mut self, more: bool) -> io::Result<()> {
        self.buf.extend_from_slice(b"]");
        if more {
            self.buf.extend_from_slice(b",\"@odata.nextLink\":\"");
            self.buf.extend_from_slice(self.page_root().as_bytes());
            self.buf
                .extend_from_slice(b"/communications/callRecords?$skiptoken=");
            self.buf
                .extend_from_slice(itoa::Buffer::new().format(self.stats.records).as_bytes());
            self.buf.push(b'"');
        }
        self.buf.extend_from_slice(b"}\n");
        self.in_page = 0;
        self.end_document()
    }

    fn write_record(&mut self, call: &CallModel, first: bool) -> io::Result<()> {
        let inline = CallDoc::default();
        match self.g.container {
            Container::Ndjson => {
                let mut w = JsonWriter::new(&mut self.buf, Style::Compact);
                json::write_call(&mut w, call, &inline);
                self.buf.push(b'\n');
                self.end_document()?;
            }
            Container::Array => {
                if !first {
                    self.buf.extend_from_slice(b",\n");
                }
                let mut w = JsonWriter::new(&mut self.buf, Style::Compact);
                json::write_call(&mut w, call, &inline);
                self.flush_if_full()?;
            }
            Container::Page => {
                if self.in_page == 0 {
                    self.buf.extend_from_slice(b"{\"@odata.context\":\"");
                    self.buf.extend_from_slice(self.page_root().as_bytes());
                    self.buf
                        .extend_from_slice(b"/$metadata#communications/callRecords\",\"value\":[");
                } else {
                    self.buf.push(b',');
                }
                let mut w = JsonWriter::new(&mut self.buf, Style::Compact);
                json::write_call(&mut w, call, &inline);
                self.in_page += 1;
                self.flush_if_full()?;
            }
            Container::PrettyPage => {
                if !first {
                    self.buf.push(b',');
                }
                self.buf.extend_from_slice(b"\n        ");
                let mut w = JsonWriter::new(&mut self.buf, Style::Pretty).with_depth(2);
                json::write_call(&mut w, call, &inline);
                self.flush_if_full()?;
            }
            Container::Concat => {
                let mut w = JsonWriter::new(&mut self.buf, Style::Pretty);
                json::write_call(
                    &mut w,
                    call,
                    &CallDoc {
                        annotations: true,
                        ..CallDoc::default()
                    },
                );
                self.buf.push(b'\n');
                self.end_document()?;
            }
            Container::Expanded => self.write_expanded(call)?,
        }
        Ok(())
    }

    fn flush_if_full(&mut self) -> io::Result<()> {
        if self.buf.len() >= FLUSH_BYTES {
            self.flush_buf()?;
        }
        Ok(())
    }

    fn write_expanded(&mut self, call: &CallModel) -> io::Result<()> {
        let sp = self.g.sessions_per_page;
        let pp = self.g.participants_per_page;
        {
            let mut w = JsonWriter::new(&mut self.buf, Style::Pretty);
            json::write_call(
                &mut w,
                call,
                &CallDoc {
                    annotations: true,
                    max_sessions: Some(sp),
                    max_participants: Some(pp),
                },
            );
        }
        self.buf.push(b'\n');
        self.end_document()?;
        let n = call.sessions.len();
        let mut at = sp.min(n);
        while at < n {
            let end = (at + sp).min(n);
            {
                let mut w = JsonWriter::new(&mut self.buf, Style::Pretty);
                json::write_sessions_page(
                    &mut w,
                    call,
                    &call.sessions[at..end],
                    (end < n).then_some(end),
                );
            }
            self.buf.push(b'\n');
            self.stats.session_pages += 1;
            self.stats.page_sessions += (end - at) as u64;
            self.end_document()?;
            at = end;
        }
        if let Some(ps) = &call.participants_v2 {
            let n = ps.len();
            let mut at = pp.min(n);
            while at < n {
                let end = (at + pp).min(n);
                {
                    let mut w = JsonWriter::new(&mut self.buf, Style::Pretty);
                    json::write_participants_page(
                        &mut w,
                        call,
                        &ps[at..end],
                        (end < n).then_some(end),
                    );
                }
                self.buf.push(b'\n');
                self.stats.participant_pages += 1;
                self.stats.page_participants += (end - at) as u64;
                self.end_document()?;
                at = end;
            }
        }
        Ok(())
    }

    fn finish(mut self) -> io::Result<GenStats> {
        self.flush_buf()?;
        match &mut self.sink {
            Sink::Stream(enc) => {
                let c = enc.take().expect("stream open until finish").finish()?;
                self.stats.bytes_out = c.n;
                self.stats.files = 1;
            }
            Sink::Dir(d) => {
                if let Some(enc) = d.open.take() {
                    self.stats.bytes_out += enc.finish()?.n;
                }
            }
        }
        Ok(self.stats)
    }
}

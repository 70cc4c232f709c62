//! Framing: splitting a byte stream into JSON documents without parsing them.
//!
//! [`Framer`] is push-based and does no I/O: feed it bytes with [`Framer::push`] as they arrive
//! (from a file, a decompressor, stdin) and it calls back with one [`Frame`] per complete unit.
//! It understands the containers Graph exports come in:
//!
//! - one document, NDJSON / JSON Lines, or documents simply concatenated;
//! - a top-level JSON array, whose elements are emitted one by one ([`FrameKind::ArrayItem`]);
//! - a collection page `{"@odata.context": …, "value": [ … ], "@odata.nextLink": …}`, whose
//!   `value` elements are emitted one by one ([`FrameKind::PageItem`]) and whose remaining keys
//!   are emitted at the end as a small header document ([`FrameKind::PageEnd`]);
//! - a UTF-8 byte order mark at the start.
//!
//! Only the bytes of the unit being framed are held, so a multi-GB array or page frames in memory
//! bounded by its largest element. Structural errors (an unexpected byte between documents, a
//! document cut off at the end of the input, a broken line in NDJSON) become
//! [`FrameKind::Error`] frames that carry the position; framing resumes after them.

/// The default cap on the size of one framed unit (a document, or one element of an array or
/// page). Graph's largest records (a `$expand` callRecord with 60 sessions and 130
/// participants) are a few MB; a unit costs several times its size in memory while it is parsed
/// and flattened.
pub const DEFAULT_MAX_FRAME_BYTES: usize = 64 * 1024 * 1024;

/// The default cap on nesting depth inside one document.
pub const DEFAULT_MAX_DEPTH: usize = 512;

/// The default cap on the length of one JSON string (key or value) in bytes, as written (escapes
/// not expanded). No Graph call-record property comes near it; a longer string is a broken or
/// hostile export, and the unit holding it is rejected before it is buffered whole.
pub const DEFAULT_MAX_STRING_BYTES: usize = 16 * 1024 * 1024;

/// What a frame is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameKind {
    /// A whole top-level document.
    Document,
    /// An element of a top-level JSON array.
    ArrayItem {
        /// Position in the array.
        index: u64,
    },
    /// The start of a collection page's `value` array: the bytes so far (an unterminated object
    /// prefix that holds the keys before `value`, such as `@odata.context`).
    PageStart {
        /// Sequence number of the page within the stream.
        page: u64,
    },
    /// An element of a collection page's `value` array.
    PageItem {
        /// Sequence number of the page within the stream.
        page: u64,
        /// Position in `value`.
        index: u64,
    },
    /// The end of a page: its keys other than `value`, as a complete JSON object (`value` kept
    /// as an empty array).
    PageEnd {
        /// Sequence number of the page within the stream.
        page: u64,
        /// How many items the page had.
        items: u64,
    },
    /// Bytes that could not be framed.
    Error(FrameError),
}

/// Why bytes could not be framed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    /// A byte that cannot start a document or continue a container.
    Unexpected(u8),
    /// The input ended inside a document.
    Truncated,
    /// A line of NDJSON ended inside a document.
    BrokenLine,
    /// A closing bracket that does not match the open one.
    Mismatched(u8),
    /// A unit larger than the configured maximum.
    TooLarge(usize),
    /// Nesting deeper than the configured maximum.
    TooDeep(usize),
    /// A string longer than the configured maximum.
    StringTooLong(usize),
    /// A byte that cannot follow the one before it inside a document (invalid JSON that framing
    /// already sees, such as a comment or a missing comma).
    Invalid {
        /// The byte.
        byte: u8,
        /// The significant byte before it.
        after: u8,
    },
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameError::Unexpected(b) => write!(
                f,
                "unexpected byte {} outside a JSON document",
                show_byte(*b)
            ),
            FrameError::Truncated => write!(f, "input ends inside a JSON document (truncated)"),
            FrameError::BrokenLine => {
                write!(f, "line ends inside a JSON document (broken NDJSON line)")
            }
            FrameError::Mismatched(b) => write!(
                f,
                "closing {} does not match the open bracket",
                show_byte(*b)
            ),
            FrameError::TooLarge(max) => write!(f, "document larger than the limit of {max} bytes"),
            FrameError::TooDeep(max) => write!(f, "nesting deeper than the limit of {max} levels"),
            FrameError::StringTooLong(max) => {
                write!(f, "a string longer than the limit of {max} bytes")
            }
            FrameError::Invalid { byte, after } => write!(
                f,
                "invalid JSON: {} cannot follow {}",
                show_byte(*byte),
                show_byte(*after)
            ),
        }
    }
}

fn show_byte(b: u8) -> String {
    if b.is_ascii_graphic() {
        format!("'{}'", b as char)
    } else {
        format!("0x{b:02x}")
    }
}

/// One framed unit.
#[derive(Debug)]
pub struct Frame<'a> {
    /// What it is.
    pub kind: FrameKind,
    /// Its bytes (for an error, a bounded excerpt).
    pub bytes: &'a [u8],
    /// Byte offset of its first byte in the stream.
    pub offset: u64,
    /// 1-based line of its first byte.
    pub line: u64,
    /// False for a line of NDJSON framed whole without being scanned
    /// ([`Framer::with_unchecked_lines`]): it starts with `{` and ends with `}`, and is one
    /// [`FrameKind::Document`] exactly when it is valid JSON. Whoever parses it and finds it is
    /// not frames it again with [`Framer::frame_line`], which gives what the scan would have.
    pub checked: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Top {
    /// Between documents.
    Between,
    /// Inside a top-level array, between elements.
    ArrayBetween,
    /// Inside a document or element.
    Doc,
    /// Inside a document whose bytes are being skipped (too large, or a broken line).
    Skipping,
    /// At or inside a line of NDJSON to be framed unchecked, its bytes so far in `line_buf`
    /// ([`Framer::with_unchecked_lines`]).
    Line,
}

/// Where framing goes on once a failed unit has been skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resume {
    /// Between documents.
    Between,
    /// Between elements of a top-level array.
    ArrayBetween,
    /// Inside a page, after the failed item (the page's other items still count).
    PageItem,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Document,
    ArrayItem,
}

/// Splits a byte stream into frames. See the [module documentation](self).
#[derive(Debug)]
pub struct Framer {
    max_frame: usize,
    max_depth: usize,
    max_string: usize,
    /// Whole NDJSON lines are framed without being scanned.
    unchecked_lines: bool,
    /// The bytes so far of the line being framed unchecked.
    line_buf: Vec<u8>,
    // position
    offset: u64,
    line: u64,
    at_start: bool,
    /// Nothing but whitespace (and a byte order mark) seen so far.
    blank: bool,
    // state
    top: Top,
    unit: Unit,
    stack: Vec<u8>,
    in_string: bool,
    escape: bool,
    /// Position in `buf` of the open string's first byte.
    string_start: usize,
    /// Bytes of the unit being framed.
    buf: Vec<u8>,
    unit_offset: u64,
    unit_line: u64,
    unit_lines: u64,
    /// NDJSON detected: a document may not span lines.
    line_mode: bool,
    docs_done: u64,
    array_index: u64,
    // page tracking (depth-1 keys of a top-level object)
    key_start: Option<usize>,
    expect_key: bool,
    last_key_is_value: bool,
    after_colon_value: bool,
    page: Option<PageState>,
    pages: u64,
    skip_depth: usize,
    skip_string: bool,
    skip_escape: bool,
    resume: Resume,
    excerpt_start: Vec<u8>,
    /// Between documents after a stray byte: skip until something that can open a document.
    garbage: bool,
    /// The last significant byte outside strings in the current unit.
    prev_sig: u8,
    /// The byte before the current one (to see a line start).
    prev_byte: u8,
}

#[derive(Debug)]
struct PageState {
    seq: u64,
    header: Vec<u8>,
    items: u64,
    /// True while between items (after `[` or `,`), false inside one.
    item_open: bool,
    item_start: usize,
    item_offset: u64,
    item_line: u64,
}

impl Default for Framer {
    fn default() -> Self {
        Self::new()
    }
}

impl Framer {
    /// A framer with the default limits ([`DEFAULT_MAX_FRAME_BYTES`], [`DEFAULT_MAX_DEPTH`]).
    pub fn new() -> Self {
        Framer {
            max_frame: DEFAULT_MAX_FRAME_BYTES,
            max_depth: DEFAULT_MAX_DEPTH,
            max_string: DEFAULT_MAX_STRING_BYTES,
            unchecked_lines: false,
            line_buf: Vec::new(),
            offset: 0,
            line: 1,
            at_start: true,
            blank: true,
            top: Top::Between,
            unit: Unit::Document,
            stack: Vec::new(),
            in_string: false,
            escape: false,
            string_start: 0,
            buf: Vec::new(),
            unit_offset: 0,
            unit_line: 1,
            unit_lines: 0,
            line_mode: false,
            docs_done: 0,
            array_index: 0,
            key_start: None,
            expect_key: false,
            last_key_is_value: false,
            after_colon_value: false,
            page: None,
            pages: 0,
            skip_depth: 0,
            skip_string: false,
            skip_escape: false,
            resume: Resume::Between,
            excerpt_start: Vec::new(),
            garbage: false,
            prev_sig: 0,
            prev_byte: b'\n',
        }
    }

    /// Sets the largest unit (document, array element or page item) in bytes. Larger ones are
    /// reported as [`FrameError::TooLarge`] and skipped. Default [`DEFAULT_MAX_FRAME_BYTES`].
    pub fn with_max_frame_bytes(mut self, max: usize) -> Self {
        self.max_frame = max;
        self
    }

    /// Sets the deepest nesting allowed. Deeper documents are reported as [`FrameError::TooDeep`]
    /// and skipped. Default [`DEFAULT_MAX_DEPTH`].
    pub fn with_max_depth(mut self, max: usize) -> Self {
        self.max_depth = max;
        self
    }

    /// Sets the longest string (key or value, in bytes as written). A unit holding a longer one
    /// is reported as [`FrameError::StringTooLong`] and skipped. Default
    /// [`DEFAULT_MAX_STRING_BYTES`].
    pub fn with_max_string_bytes(mut self, max: usize) -> Self {
        self.max_string = max;
        self
    }

    /// Once the input is seen to be NDJSON, frames each following line that starts with `{`
    /// and ends with `}` (blanks around them aside) whole, at the speed of a newline search,
    /// with [`Frame::checked`] false; other lines (a page, a line cut across two pushes, one
    /// longer than the limits) are scanned as before. Default off: every byte is scanned.
    ///
    /// An unchecked line is one [`FrameKind::Document`] exactly when it is valid JSON of at most
    /// the maximum depth. A parser that finds otherwise calls [`Framer::frame_line`] on it,
    /// which frames it as the scan would have: what a scan rejects is rejected alike, with the
    /// same message and position.
    pub fn with_unchecked_lines(mut self, on: bool) -> Self {
        self.unchecked_lines = on;
        self
    }

    /// The deepest nesting allowed (see [`Framer::with_max_depth`]).
    pub fn max_depth(&self) -> usize {
        self.max_depth
    }

    /// Frames `line`, an unchecked line of NDJSON ([`Frame::checked`] false) whose first byte
    /// is at `offset` on line `line_no`, the way the scan would have framed it there. Keeps the
    /// limits and forgets any other state.
    pub fn frame_line(
        &mut self,
        line: &[u8],
        offset: u64,
        line_no: u64,
        out: &mut dyn FnMut(Frame<'_>),
    ) {
        *self = Framer {
            offset,
            line: line_no,
            at_start: false,
            blank: false,
            line_mode: true,
            docs_done: 1,
            ..Framer::new()
                .with_max_frame_bytes(self.max_frame)
                .with_max_depth(self.max_depth)
                .with_max_string_bytes(self.max_string)
        };
        self.push(line, out);
        // The newline that ended it: in NDJSON it ends whatever the line left open.
        self.push(b"\n", out);
    }

    /// In [`Top::Line`]: frames the whole lines of `input` unchecked, the first of them
    /// completing the line begun in `line_buf`; a line that must be scanned (it may be a page,
    /// garbage, or over a limit) is scanned. Consumes all of `input`: a line it leaves open
    /// stays in `line_buf`.
    fn unchecked_lines(&mut self, input: &[u8], out: &mut dyn FnMut(Frame<'_>)) -> usize {
        let limit = self.max_frame.min(self.max_string);
        let mut i = 0;
        while self.top == Top::Line {
            let rest = &input[i..];
            let Some(nl) = memchr::memchr(b'\n', rest) else {
                if self.line_buf.len() + rest.len() > limit {
                    // Too long to be framed unchecked: scanned from its start.
                    let begun = std::mem::take(&mut self.line_buf);
                    self.scan_instead(&[&begun, rest], out);
                } else {
                    self.line_buf.extend_from_slice(rest);
                }
                return input.len();
            };
            let mut begun = std::mem::take(&mut self.line_buf);
            let line: &[u8] = if begun.is_empty() {
                &rest[..nl]
            } else {
                begun.extend_from_slice(&rest[..nl]);
                &begun
            };
            match unchecked_doc(line, limit) {
                Some((lead, doc)) => {
                    out(Frame {
                        kind: FrameKind::Document,
                        bytes: doc,
                        offset: self.offset + lead as u64,
                        line: self.line,
                        checked: false,
                    });
                    self.docs_done += 1;
                    self.prev_byte = b'}';
                    self.prev_sig = b'}';
                    self.offset += line.len() as u64 + 1;
                    self.line += 1;
                }
                None if line.iter().all(|c| matches!(c, b' ' | b'\t' | b'\r')) => {
                    self.offset += line.len() as u64 + 1;
                    self.line += 1;
                }
                None => {
                    // The line and its newline, scanned: in NDJSON that leaves the scan between
                    // documents.
                    self.scan_instead(&[line, b"\n"], out);
                    if self.top == Top::Between && self.line_mode {
                        self.top = Top::Line;
                    }
                }
            }
            begun.clear();
            self.line_buf = begun;
            i += nl + 1;
        }
        i
    }

    /// Scans `parts` from between documents, as a push with unchecked lines off would.
    fn scan_instead(&mut self, parts: &[&[u8]], out: &mut dyn FnMut(Frame<'_>)) {
        self.top = Top::Between;
        self.unchecked_lines = false;
        for p in parts {
            self.push(p, out);
        }
        self.unchecked_lines = true;
    }

    /// Bytes consumed so far.
    pub fn offset(&self) -> u64 {
        self.offset + self.line_buf.len() as u64
    }

    /// The 1-based line of the next byte.
    pub fn line(&self) -> u64 {
        self.line
    }

    /// Whether the bytes so far were only whitespace and a byte order mark (an empty input).
    pub fn is_blank(&self) -> bool {
        self.blank
    }

    /// Feeds bytes; calls `out` for every unit completed by them.
    pub fn push(&mut self, input: &[u8], out: &mut dyn FnMut(Frame<'_>)) {
        let mut i = 0;
        // A UTF-8 byte order mark may open the stream, possibly split over pushes.
        const BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];
        while self.at_start && i < input.len() {
            let pos = self.offset as usize;
            if pos < 3 && input[i] == BOM[pos] {
                i += 1;
                self.offset += 1;
                if pos == 2 {
                    self.at_start = false;
                }
            } else {
                self.at_start = false;
                if pos > 0 {
                    self.blank = false;
                    // A partial BOM: its bytes are garbage before the first document.
                    out(Frame {
                        kind: FrameKind::Error(FrameError::Unexpected(BOM[0])),
                        bytes: &BOM[..pos],
                        offset: 0,
                        line: 1,
                        checked: true,
                    });
                    self.garbage = true;
                }
            }
        }
        while i < input.len() {
            let b = input[i];
            match self.top {
                Top::Between | Top::ArrayBetween => {
                    self.offset += 1;
                    i += 1;
                    match b {
                        b'\n' => {
                            self.line += 1;
                            // In NDJSON every line is a unit: garbage on one line is reported
                            // apart from garbage on the next.
                            if self.line_mode {
                                self.garbage = false;
                                if self.unchecked_lines && self.top == Top::Between {
                                    self.top = Top::Line;
                                }
                            }
                        }
                        b' ' | b'\t' | b'\r' => {}
                        _ if self.blank => {
                            // The first significant byte: look at it again as such.
                            self.blank = false;
                            self.offset -= 1;
                            i -= 1;
                        }
                        b'[' if self.top == Top::Between
                            && self.docs_done == 0
                            && !self.line_mode =>
                        {
                            self.garbage = false;
                            // A top-level array of documents.
                            self.top = Top::ArrayBetween;
                            self.array_index = 0;
                        }
                        b',' if self.top == Top::ArrayBetween => {}
                        b']' if self.top == Top::ArrayBetween => {
                            self.top = Top::Between;
                            self.docs_done += 1;
                        }
                        b'{' | b'[' => {
                            self.garbage = false;
                            let unit = if self.top == Top::ArrayBetween {
                                Unit::ArrayItem
                            } else {
                                Unit::Document
                            };
                            self.begin_unit(unit, b);
                        }
                        _ if self.garbage => {}
                        _ => {
                            self.garbage = true;
                            let off = self.offset - 1;
                            let mut excerpt = &input[i - 1..(i - 1 + 64).min(input.len())];
                            if self.line_mode {
                                // In NDJSON the line is the unit: its excerpt stops with it.
                                let end = memchr::memchr(b'\n', excerpt).unwrap_or(excerpt.len());
                                excerpt = &excerpt[..end];
                            }
                            out(Frame {
                                kind: FrameKind::Error(FrameError::Unexpected(b)),
                                bytes: excerpt,
                                offset: off,
                                line: self.line,
                                checked: true,
                            });
                        }
                    }
                }
                Top::Skipping => {
                    i += self.skip(input, i, out);
                }
                Top::Doc => {
                    i += self.scan(input, i, out);
                }
                Top::Line => {
                    i += self.unchecked_lines(&input[i..], out);
                }
            }
        }
    }

    /// Ends the stream: a unit still open is reported as [`FrameError::Truncated`].
    pub fn finish(&mut self, out: &mut dyn FnMut(Frame<'_>)) {
        if self.top == Top::Line {
            // A last line without a newline: scanned, to end as a scan ends.
            let begun = std::mem::take(&mut self.line_buf);
            self.scan_instead(&[&begun], out);
        }
        match self.top {
            Top::Doc => {
                // Inside a page item, the item is what was cut (the page's other items stand).
                let (from, offset, line) = match &self.page {
                    Some(p) if p.item_open => (p.item_start, p.item_offset, p.item_line),
                    _ => (0, self.unit_offset, self.unit_line),
                };
                let to = self.buf.len().min(from + 256);
                out(Frame {
                    kind: FrameKind::Error(FrameError::Truncated),
                    bytes: &self.buf[from..to],
                    offset,
                    line,
                    checked: true,
                });
            }
            Top::ArrayBetween => {
                out(Frame {
                    kind: FrameKind::Error(FrameError::Truncated),
                    bytes: b"[",
                    offset: self.offset,
                    line: self.line,
                    checked: true,
                });
            }
            Top::Skipping => {
                // The failed unit was reported already. When it was an item of a page, the page
                // was cut after it (its end, with any `@odata.nextLink`, is missing).
                if self.resume == Resume::PageItem {
                    out(Frame {
                        kind: FrameKind::Error(FrameError::Truncated),
                        bytes: &self.excerpt_start,
                        offset: self.unit_offset,
                        line: self.unit_line,
                        checked: true,
                    });
                }
            }
            Top::Between | Top::Line => {}
        }
        self.reset_unit();
        self.top = Top::Between;
    }

    fn begin_unit(&mut self, unit: Unit, open: u8) {
        self.top = Top::Doc;
        self.unit = unit;
        self.stack.clear();
        self.stack.push(open);
        self.in_string = false;
        self.escape = false;
        self.buf.clear();
        self.buf.push(open);
        self.unit_offset = self.offset - 1;
        self.unit_line = self.line;
        self.unit_lines = 0;
        self.key_start = None;
        self.expect_key = open == b'{' && unit == Unit::Document;
        self.last_key_is_value = false;
        self.after_colon_value = false;
        self.page = None;
        self.prev_sig = open;
    }

    fn reset_unit(&mut self) {
        self.buf.clear();
        self.stack.clear();
        self.page = None;
        self.in_string = false;
        self.escape = false;
    }

    /// Scans document bytes from `input[start..]`; returns how many were consumed.
    fn scan(&mut self, input: &[u8], start: usize, out: &mut dyn FnMut(Frame<'_>)) -> usize {
        let mut i = start;
        let n = input.len();
        while i < n {
            let b = input[i];
            if self.in_string {
                // Jump to the next quote or backslash.
                if self.escape {
                    self.escape = false;
                    self.push_byte(b);
                    i += 1;
                    continue;
                }
                match memchr::memchr3(b'"', b'\\', b'\n', &input[i..]) {
                    None => {
                        self.push_bytes(&input[i..]);
                        i = n;
                        if let Some(err) = self.over_limit() {
                            let consumed = i - start;
                            self.offset += consumed as u64;
                            self.fail_and_skip(err, out);
                            return consumed;
                        }
                        continue;
                    }
                    Some(k) => {
                        self.push_bytes(&input[i..i + k]);
                        i += k;
                        let c = input[i];
                        self.push_byte(c);
                        i += 1;
                        match c {
                            b'\\' => self.escape = true,
                            b'"' => {
                                self.in_string = false;
                                self.prev_sig = b'"';
                                self.end_string();
                            }
                            _ => {
                                // A raw newline inside a string is invalid JSON: the line was
                                // cut inside a string. Resume on the next line.
                                self.unit_lines += 1;
                                self.offset += (i - start) as u64;
                                let consumed = i - start;
                                self.broken_line(out);
                                return consumed;
                            }
                        }
                    }
                }
                if let Some(err) = self.over_limit() {
                    let consumed = i - start;
                    self.offset += consumed as u64;
                    self.fail_and_skip(err, out);
                    return consumed;
                }
                continue;
            }
            if matches!(b, b' ' | b'\t' | b'\r') {
                // A run of blanks (most of a pretty-printed page is indentation) is copied at
                // once: blanks change nothing else (a newline does, and ends the run).
                let run = input[i..]
                    .iter()
                    .position(|c| !matches!(c, b' ' | b'\t' | b'\r'))
                    .unwrap_or(n - i);
                self.push_bytes(&input[i..i + run]);
                i += run;
                self.prev_byte = input[i - 1];
                if let Some(err) = self.over_limit() {
                    let consumed = i - start;
                    self.offset += consumed as u64;
                    self.fail_and_skip(err, out);
                    return consumed;
                }
                continue;
            }
            self.push_byte(b);
            i += 1;
            let prev_byte = std::mem::replace(&mut self.prev_byte, b);
            if !matches!(b, b' ' | b'\t' | b'\r' | b'\n') {
                let prev_sig = std::mem::replace(&mut self.prev_sig, b);
                if matches!(b, b'{' | b'[' | b'"') && !matches!(prev_sig, b',' | b'[' | b':' | b'{')
                {
                    // Cannot continue this document: it was cut off. At a line start this is the
                    // next document (NDJSON after a truncated line); elsewhere the unit is broken.
                    let consumed = i - start;
                    self.offset += consumed as u64;
                    if prev_byte == b'\n' && b != b'"' {
                        self.buf.pop();
                        self.unit_lines -= 1;
                        self.broken_line(out);
                        self.line += 1;
                        let unit = if self.unit == Unit::ArrayItem {
                            Unit::ArrayItem
                        } else {
                            Unit::Document
                        };
                        self.begin_unit(unit, b);
                    } else {
                        self.fail_and_skip(
                            FrameError::Invalid {
                                byte: b,
                                after: prev_sig,
                            },
                            out,
                        );
                    }
                    return consumed;
                }
                if b == b'"'
                    || (b != b'{' && b != b'[' && b != b'}' && b != b']' && b != b',' && b != b':')
                {
                    self.open_scalar_item(i - start - 1);
                }
            }
            match b {
                b'"' => {
                    self.in_string = true;
                    self.string_start = self.buf.len();
                    self.after_colon_value = false;
                    if self.stack.len() == 1 && self.expect_key && self.unit == Unit::Document {
                        self.key_start = Some(self.buf.len());
                    }
                }
                b'{' | b'[' => {
                    if self.stack.len() == 1
                        && self.after_colon_value
                        && b == b'['
                        && self.last_key_is_value
                    {
                        self.stack.push(b);
                        self.start_page(out);
                        self.after_colon_value = false;
                        continue;
                    }
                    self.after_colon_value = false;
                    self.stack.push(b);
                    if self.stack.len() > self.max_depth {
                        let consumed = i - start;
                        self.offset += consumed as u64;
                        self.fail_and_skip(FrameError::TooDeep(self.max_depth), out);
                        return consumed;
                    }
                    if let Some(p) = &mut self.page
                        && self.stack.len() == 3
                        && !p.item_open
                    {
                        p.item_open = true;
                        p.item_start = self.buf.len() - 1;
                        p.item_offset = self.offset + (i - start) as u64 - 1;
                        p.item_line = self.unit_line + self.unit_lines;
                    }
                }
                b'}' | b']' => {
                    let open = self.stack.pop();
                    let expected = if b == b'}' { b'{' } else { b'[' };
                    if open != Some(expected) {
                        let consumed = i - start;
                        self.offset += consumed as u64;
                        self.fail_and_skip(FrameError::Mismatched(b), out);
                        return consumed;
                    }
                    let depth = self.stack.len();
                    if self.page.is_some() {
                        if depth == 2 {
                            self.end_page_item(out);
                        } else if depth == 1 {
                            self.end_page(out);
                        }
                    }
                    if depth == 0 {
                        let consumed = i - start;
                        self.offset += consumed as u64;
                        self.end_unit(out);
                        return consumed;
                    }
                }
                b':' => {
                    if self.stack.len() == 1 && self.unit == Unit::Document {
                        self.after_colon_value = true;
                        self.expect_key = false;
                    }
                }
                b',' => {
                    if self.stack.len() == 1 && self.unit == Unit::Document && self.stack[0] == b'{'
                    {
                        self.expect_key = true;
                        self.last_key_is_value = false;
                    }
                    if self.page.as_ref().is_some_and(|p| p.item_open) && self.stack.len() == 2 {
                        // A scalar item ends at the separator.
                        self.buf.pop();
                        self.end_page_item(out);
                    }
                }
                b'\n' => {
                    self.unit_lines += 1;
                    if self.line_mode {
                        let consumed = i - start;
                        self.offset += consumed as u64;
                        self.broken_line(out);
                        return consumed;
                    }
                }
                b' ' | b'\t' | b'\r' => {}
                _ => {
                    self.after_colon_value = false;
                }
            }
            if self.buf.len() > self.max_frame && self.page.as_ref().is_none_or(|p| p.item_open) {
                let consumed = i - start;
                self.offset += consumed as u64;
                self.fail_and_skip(FrameError::TooLarge(self.max_frame), out);
                return consumed;
            }
        }
        self.offset += (i - start) as u64;
        i - start
    }

    /// The limit the unit being framed has just exceeded, if any: its size, or the length of the
    /// string open in it.
    #[inline]
    fn over_limit(&self) -> Option<FrameError> {
        if self.in_string && self.buf.len() - self.string_start > self.max_string {
            return Some(FrameError::StringTooLong(self.max_string));
        }
        (self.buf.len() > self.max_frame && self.page.as_ref().is_none_or(|p| p.item_open))
            .then_some(FrameError::TooLarge(self.max_frame))
    }

    /// At depth 2 of a page, a scalar (or string) opens an item that ends at `,` or `]`.
    fn open_scalar_item(&mut self, rel: usize) {
        let depth = self.stack.len();
        let offset = self.offset + rel as u64;
        let line = self.unit_line + self.unit_lines;
        let len = self.buf.len();
        if let Some(p) = &mut self.page
            && depth == 2
            && !p.item_open
        {
            p.item_open = true;
            p.item_start = len - 1;
            p.item_offset = offset;
            p.item_line = line;
        }
    }

    #[inline]
    fn push_byte(&mut self, b: u8) {
        self.buf.push(b);
    }

    #[inline]
    fn push_bytes(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
    }

    fn end_string(&mut self) {
        if let Some(start) = self.key_start.take() {
            self.last_key_is_value = &self.buf[start..self.buf.len() - 1] == b"value";
        }
    }

    fn start_page(&mut self, out: &mut dyn FnMut(Frame<'_>)) {
        let seq = self.pages;
        self.pages += 1;
        out(Frame {
            kind: FrameKind::PageStart { page: seq },
            bytes: &self.buf,
            offset: self.unit_offset,
            line: self.unit_line,
            checked: true,
        });
        self.page = Some(PageState {
            seq,
            header: std::mem::take(&mut self.buf),
            items: 0,
            item_open: false,
            item_start: 0,
            item_offset: 0,
            item_line: 0,
        });
        self.buf.clear();
    }

    fn end_page_item(&mut self, out: &mut dyn FnMut(Frame<'_>)) {
        let Some(p) = &mut self.page else { return };
        if p.item_open {
            out(Frame {
                kind: FrameKind::PageItem {
                    page: p.seq,
                    index: p.items,
                },
                bytes: &self.buf[p.item_start..],
                offset: p.item_offset,
                line: p.item_line,
                checked: true,
            });
            p.items += 1;
            p.item_open = false;
        }
        self.buf.clear();
    }

    fn end_page(&mut self, out: &mut dyn FnMut(Frame<'_>)) {
        // The ']' closing `value` was just pushed into buf; a scalar item may precede it.
        let Some(p) = &mut self.page else { return };
        let mut rest = std::mem::take(&mut self.buf);
        if p.item_open {
            // A scalar last item ends before the ']'.
            let end = rest.len() - 1;
            let item = trim_ws(&rest[p.item_start..end]);
            out(Frame {
                kind: FrameKind::PageItem {
                    page: p.seq,
                    index: p.items,
                },
                bytes: item,
                offset: p.item_offset,
                line: p.item_line,
                checked: true,
            });
            p.items += 1;
            p.item_open = false;
        }
        rest.clear();
        rest.push(b']');
        let mut header = std::mem::take(&mut p.header);
        header.extend_from_slice(&rest);
        self.buf = header;
        // Remaining keys of the page object continue to accumulate in buf; PageEnd is emitted at
        // the end of the document.
    }

    fn end_unit(&mut self, out: &mut dyn FnMut(Frame<'_>)) {
        if self.unit_lines == 0 && self.unit == Unit::Document {
            // One document on one line: if another follows on a later line, this is NDJSON.
            self.line_mode = true;
        } else if self.unit == Unit::Document {
            self.line_mode = false;
        }
        self.line += self.unit_lines;
        let kind = match self.unit {
            Unit::Document => {
                self.docs_done += 1;
                if let Some(p) = self.page.take() {
                    FrameKind::PageEnd {
                        page: p.seq,
                        items: p.items,
                    }
                } else {
                    FrameKind::Document
                }
            }
            Unit::ArrayItem => {
                let k = FrameKind::ArrayItem {
                    index: self.array_index,
                };
                self.array_index += 1;
                k
            }
        };
        out(Frame {
            kind,
            bytes: &self.buf,
            offset: self.unit_offset,
            line: self.unit_line,
            checked: true,
        });
        self.top = if self.unit == Unit::ArrayItem {
            Top::ArrayBetween
        } else {
            Top::Between
        };
        self.reset_unit();
    }

    fn broken_line(&mut self, out: &mut dyn FnMut(Frame<'_>)) {
        let excerpt_len = self.buf.len().min(256);
        out(Frame {
            kind: FrameKind::Error(FrameError::BrokenLine),
            bytes: &self.buf[..excerpt_len],
            offset: self.unit_offset,
            line: self.unit_line,
            checked: true,
        });
        self.line += self.unit_lines;
        self.top = Top::Between;
        self.reset_unit();
    }

    /// Reports `err` for the current unit and skips the rest of it. In a page, the unit is the
    /// item being framed: the page goes on after it.
    fn fail_and_skip(&mut self, err: FrameError, out: &mut dyn FnMut(Frame<'_>)) {
        let item = self.page.as_ref().filter(|p| p.item_open);
        let (from, offset, line) = match item {
            Some(p) => (p.item_start, p.item_offset, p.item_line),
            None => (0, self.unit_offset, self.unit_line),
        };
        self.excerpt_start.clear();
        let to = self.buf.len().min(from + 256);
        self.excerpt_start.extend_from_slice(&self.buf[from..to]);
        out(Frame {
            kind: FrameKind::Error(err),
            bytes: &self.excerpt_start,
            offset,
            line,
            checked: true,
        });
        self.skip_string = self.in_string;
        self.skip_escape = self.escape;
        self.in_string = false;
        self.escape = false;
        if let Some(p) = self.page.as_mut().filter(|p| p.item_open) {
            // Skip to the end of the item; the page (its `{` and `[`) stays open.
            p.item_open = false;
            p.items += 1;
            self.skip_depth = self.stack.len().saturating_sub(2);
            self.stack.truncate(2);
            self.buf.clear();
            self.resume = Resume::PageItem;
        } else {
            self.line += self.unit_lines;
            self.unit_lines = 0;
            self.skip_depth = self.stack.len();
            self.resume = if self.unit == Unit::ArrayItem {
                Resume::ArrayBetween
            } else {
                Resume::Between
            };
            self.reset_unit();
        }
        self.top = Top::Skipping;
        if self.skip_depth == 0 && !self.skip_string {
            self.end_skip();
        }
    }

    /// Goes on framing after a skipped unit.
    fn end_skip(&mut self) {
        self.top = match self.resume {
            Resume::Between => Top::Between,
            Resume::ArrayBetween => Top::ArrayBetween,
            Resume::PageItem => {
                // Back inside the page's `value`, after the failed item.
                self.prev_sig = b'}';
                Top::Doc
            }
        };
    }

    /// Skips bytes of a failed unit until its brackets balance; returns bytes consumed.
    fn skip(&mut self, input: &[u8], start: usize, _out: &mut dyn FnMut(Frame<'_>)) -> usize {
        let mut i = start;
        while i < input.len() {
            let b = input[i];
            i += 1;
            if b == b'\n' {
                if self.resume == Resume::PageItem {
                    self.unit_lines += 1;
                } else {
                    self.line += 1;
                }
                if self.line_mode {
                    // In NDJSON the line is the unit, whatever it held.
                    self.line += self.unit_lines;
                    self.unit_lines = 0;
                    self.skip_depth = 0;
                    self.skip_string = false;
                    self.reset_unit();
                    self.top = Top::Between;
                    break;
                }
            }
            if self.skip_string {
                if self.skip_escape {
                    self.skip_escape = false;
                } else if b == b'\\' {
                    self.skip_escape = true;
                } else if b == b'"' {
                    self.skip_string = false;
                    if self.skip_depth == 0 {
                        self.end_skip();
                        break;
                    }
                }
                continue;
            }
            match b {
                b'"' => self.skip_string = true,
                b'{' | b'[' => self.skip_depth += 1,
                b'}' | b']' => {
                    self.skip_depth = self.skip_depth.saturating_sub(1);
                    if self.skip_depth == 0 {
                        self.end_skip();
                        break;
                    }
                }
                _ => {}
            }
        }
        self.offset += (i - start) as u64;
        i - start
    }
}

/// The document of a line that may be framed unchecked, with the blanks before it: one that
/// starts with `{` and ends with `}` (blanks around it aside), holds no `"value"` (it could be a
/// page's key) and is no longer than `limit`.
fn unchecked_doc(line: &[u8], limit: usize) -> Option<(usize, &[u8])> {
    let blank = |c: &u8| matches!(c, b' ' | b'\t' | b'\r');
    let lead = line.iter().position(|c| !blank(c))?;
    let end = line.iter().rposition(|c| !blank(c))? + 1;
    let doc = &line[lead..end];
    (line.len() <= limit
        && doc.first() == Some(&b'{')
        && doc.last() == Some(&b'}')
        && memchr::memmem::find(doc, b"\"value\"").is_none())
    .then_some((lead, doc))
}

fn trim_ws(b: &[u8]) -> &[u8] {
    let s = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let e = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(s, |e| e + 1);
    &b[s..e]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(input: &[u8], chunk: usize) -> Vec<(FrameKind, String, u64, u64)> {
        let mut f = Framer::new();
        let mut out = Vec::new();
        let mut cb = |fr: Frame<'_>| {
            out.push((
                fr.kind,
                String::from_utf8_lossy(fr.bytes).into_owned(),
                fr.offset,
                fr.line,
            ))
        };
        for c in input.chunks(chunk.max(1)) {
            f.push(c, &mut cb);
        }
        f.finish(&mut cb);
        out
    }

    fn kinds(v: &[(FrameKind, String, u64, u64)]) -> Vec<FrameKind> {
        v.iter().map(|x| x.0.clone()).collect()
    }

    #[test]
    fn ndjson_concatenated_and_bom_frame_the_same_at_any_chunk_size() {
        let input =
            "\u{feff}{\"a\":1}\n{\"b\":\"x}{\"}\n\n{\"c\":[1,{\"d\":2}]}{\"e\":3}".as_bytes();
        for chunk in [1, 2, 3, 7, 1000] {
            let f = frames(input, chunk);
            let docs: Vec<&str> = f.iter().map(|x| x.1.as_str()).collect();
            assert_eq!(
                docs,
                vec![
                    "{\"a\":1}",
                    "{\"b\":\"x}{\"}",
                    "{\"c\":[1,{\"d\":2}]}",
                    "{\"e\":3}"
                ],
                "chunk {chunk}"
            );
            assert_eq!(f[0].2, 3, "offset after the BOM");
            assert_eq!((f[1].3, f[2].3), (2, 4), "lines");
        }
    }

    #[test]
    fn unchecked_lines_parsed_or_framed_again_give_what_the_scan_gives() {
        let input = concat!(
            "{\"a\":1}\n",
            "{\"b\":[1,2,{\"c\":\"x}\"}]}\n",
            "  {\"c\":2}  \r\n",
            "\n",
            "{\"d\":1}{\"e\":2}\n",
            "{\"f\":1} }\n",
            "{\"g\":{\"h\":1}\n",
            "{\"i\":[1}\n",
            "{\"j\" \"k\":1}\n",
            "{\"v\":{\"value\":[1,2]}}\n",
            "{\"@odata.context\":\"x\",\"value\":[{\"l\":1},{\"m\":2}]}\n",
            "junk\n",
            "{\"n\":\"\\\"}\"}\n",
            "{\"o\":1}",
        );
        for chunk in [1, 3, 7, 64, 4096] {
            let mut framer = Framer::new().with_unchecked_lines(true);
            let mut again = Framer::new();
            let mut got = Vec::new();
            let mut unchecked = 0;
            let keep = |fr: Frame<'_>, got: &mut Vec<_>| {
                got.push((
                    fr.kind,
                    String::from_utf8_lossy(fr.bytes).into_owned(),
                    fr.offset,
                    fr.line,
                ))
            };
            let mut cb = |fr: Frame<'_>| {
                if fr.checked {
                    return keep(fr, &mut got);
                }
                unchecked += 1;
                assert_eq!(fr.kind, FrameKind::Document);
                let mut copy = fr.bytes.to_vec();
                if simd_json::to_tape(&mut copy).is_ok() {
                    keep(fr, &mut got);
                } else {
                    again.frame_line(fr.bytes, fr.offset, fr.line, &mut |g| {
                        assert!(g.checked);
                        keep(g, &mut got)
                    });
                }
            };
            for c in input.as_bytes().chunks(chunk) {
                framer.push(c, &mut cb);
            }
            framer.finish(&mut cb);
            // An error's excerpt may stop where a push stopped; the rest is the same at any size.
            let scanned = frames(input.as_bytes(), chunk);
            let no_excerpts = |v: &[(FrameKind, String, u64, u64)]| {
                v.iter()
                    .map(|(k, b, o, l)| {
                        let b = if matches!(k, FrameKind::Error(_)) {
                            ""
                        } else {
                            b
                        };
                        (k.clone(), b.to_string(), *o, *l)
                    })
                    .collect::<Vec<_>>()
            };
            assert_eq!(
                no_excerpts(&got),
                no_excerpts(&scanned),
                "chunks of {chunk}"
            );
            if chunk >= input.len() {
                assert_eq!(got, scanned);
            }
            // Every line after the first that starts with `{`, ends with `}`, holds no `"value"`
            // and ends with a newline, at any push size.
            assert_eq!(unchecked, 8, "chunks of {chunk}");
        }
    }

    #[test]
    fn top_level_array_yields_items() {
        let f = frames(b" [ {\"a\":1} ,\n {\"b\":[2]} ] ", 4);
        assert_eq!(
            kinds(&f),
            vec![
                FrameKind::ArrayItem { index: 0 },
                FrameKind::ArrayItem { index: 1 }
            ]
        );
        assert_eq!(f[1].1, "{\"b\":[2]}");
        assert_eq!(f[1].3, 2);
    }

    #[test]
    fn page_value_items_stream_and_header_keeps_other_keys() {
        let input = b"{\"@odata.context\": \"ctx\",\n \"value\": [ {\"id\":\"1\"}, {\"id\":\"2\",\"v\":[]} ],\n \"@odata.nextLink\": \"n\"}";
        for chunk in [1, 5, 1000] {
            let f = frames(input, chunk);
            assert_eq!(
                kinds(&f),
                vec![
                    FrameKind::PageStart { page: 0 },
                    FrameKind::PageItem { page: 0, index: 0 },
                    FrameKind::PageItem { page: 0, index: 1 },
                    FrameKind::PageEnd { page: 0, items: 2 },
                ],
                "chunk {chunk}"
            );
            assert!(f[0].1.contains("\"@odata.context\": \"ctx\""));
            assert_eq!(f[2].1, "{\"id\":\"2\",\"v\":[]}");
            let header: serde_json::Value = serde_json::from_str(&f[3].1).unwrap();
            assert_eq!(header["@odata.nextLink"], "n");
            assert_eq!(header["value"], serde_json::json!([]));
        }
    }

    #[test]
    fn nested_value_keys_are_not_pages() {
        let f = frames(b"{\"x\":{\"value\":[1,2]},\"value2\":[3]}", 3);
        assert_eq!(kinds(&f), vec![FrameKind::Document]);
    }

    #[test]
    fn truncated_ndjson_line_costs_only_itself() {
        let input = b"{\"a\":1}\n{\"b\":{\"c\":\n{\"d\":4}\n{\"e\":\"cut\n{\"f\":6}\n";
        let f = frames(input, 1000);
        let k = kinds(&f);
        assert_eq!(
            k,
            vec![
                FrameKind::Document,
                FrameKind::Error(FrameError::BrokenLine),
                FrameKind::Document,
                FrameKind::Error(FrameError::BrokenLine),
                FrameKind::Document
            ]
        );
        assert_eq!(f[2].1, "{\"d\":4}");
        assert_eq!(f[2].3, 3);
        assert_eq!(f[4].1, "{\"f\":6}");
        assert_eq!(f[4].3, 5);
    }

    #[test]
    fn truncated_document_and_garbage_are_reported_once() {
        let f = frames(b"\x00\x01garbage\xff{\"a\":1}{\"b\":", 3);
        assert_eq!(
            kinds(&f),
            vec![
                FrameKind::Error(FrameError::Unexpected(0)),
                FrameKind::Document,
                FrameKind::Error(FrameError::Truncated)
            ]
        );
        assert_eq!(f[2].2, 17);
    }

    #[test]
    fn mismatched_and_too_deep_are_errors_and_framing_resumes() {
        let f = frames(b"{\"a\":[}]}\n{\"ok\":1}", 2);
        assert_eq!(kinds(&f)[0], FrameKind::Error(FrameError::Mismatched(b'}')));
        assert_eq!(f.last().unwrap().1, "{\"ok\":1}");
        let deep = format!(
            "{}{}\n{{\"ok\":1}}",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        let f = frames(deep.as_bytes(), 4096);
        assert_eq!(
            kinds(&f)[0],
            FrameKind::Error(FrameError::TooDeep(DEFAULT_MAX_DEPTH))
        );
        assert_eq!(f.last().unwrap().1, "{\"ok\":1}");
    }

    #[test]
    fn indentation_runs_frame_the_same_at_any_chunk_size_and_keep_offsets_and_lines() {
        // A pretty-printed page with runs of spaces, tabs and CRs around every token, split
        // anywhere inside them; then a document cut after a long run of blanks.
        let input = "{\r\n  \t\"@odata.context\" :   \"ctx\" ,\r\n    \"value\":\t[\r\n                             {\r\n            \"id\" :   \"1\",\r\n            \"v\":  [  1 ,\t2 ]\r\n        },                     \r\n        {  \"id\":\"2\"  }\r\n    ]\r\n}\r\n   {\"a\":    {  \"b\" :     ";
        let whole = frames(input.as_bytes(), input.len());
        assert_eq!(
            kinds(&whole),
            vec![
                FrameKind::PageStart { page: 0 },
                FrameKind::PageItem { page: 0, index: 0 },
                FrameKind::PageItem { page: 0, index: 1 },
                FrameKind::PageEnd { page: 0, items: 2 },
                FrameKind::Error(FrameError::Truncated),
            ]
        );
        let item = &whole[1].1;
        assert!(item.starts_with('{') && item.ends_with('}'), "{item}");
        assert!(
            item.contains("\"v\":  [  1 ,\t2 ]"),
            "blanks inside an item are kept: {item}"
        );
        assert_eq!(
            &input[whole[1].2 as usize..][..item.len()],
            item.as_str(),
            "offset"
        );
        assert_eq!((whole[1].3, whole[2].3, whole[4].3), (4, 8, 11), "lines");
        for chunk in [1, 2, 3, 5, 8, 13] {
            assert_eq!(frames(input.as_bytes(), chunk), whole, "chunk {chunk}");
        }
    }

    #[test]
    fn a_unit_over_the_limit_inside_a_run_of_blanks_is_skipped() {
        let mut f = Framer::new().with_max_frame_bytes(64);
        let mut out = Vec::new();
        let mut input = b"{\"a\":".to_vec();
        input.extend(std::iter::repeat_n(b' ', 100));
        input.extend(b"1}\n{\"b\":1}\n");
        for chunk in input.chunks(7) {
            f.push(chunk, &mut |fr| out.push((fr.kind, fr.bytes.to_vec())));
        }
        f.finish(&mut |fr| out.push((fr.kind, fr.bytes.to_vec())));
        assert_eq!(out[0].0, FrameKind::Error(FrameError::TooLarge(64)));
        assert_eq!(out[1], (FrameKind::Document, b"{\"b\":1}".to_vec()));
        assert_eq!(out.len(), 2);
    }

    #[test]
    fn too_large_units_are_skipped() {
        let mut f = Framer::new().with_max_frame_bytes(16);
        let mut out = Vec::new();
        f.push(
            b"{\"a\":\"0123456789012345678901234\"}\n{\"b\":1}\n",
            &mut |fr| out.push((fr.kind, fr.bytes.to_vec())),
        );
        f.finish(&mut |fr| out.push((fr.kind, fr.bytes.to_vec())));
        assert_eq!(out[0].0, FrameKind::Error(FrameError::TooLarge(16)));
        assert_eq!(out[1], (FrameKind::Document, b"{\"b\":1}".to_vec()));
    }
}

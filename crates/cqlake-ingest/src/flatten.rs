//! Flattening: one parsed call record (a simd-json tape) into rows of the six lake tables.
//!
//! The walk is driven by the table plans of [`cqlake_schema`]: every key is looked up in the plan
//! of the Graph type being walked, its value is checked and converted, and appended to the
//! column the plan names. Keys the plan does not know go, with their path, into the row's `extra`
//! column. A value of the wrong type rejects the whole record: every table is rolled back to where
//! it was before the record, so a bad record never leaves half a call behind and never costs the
//! records around it.

use std::collections::HashMap;

use arrow::array::{ArrayRef, RecordBatch, UInt32Array};
use arrow::datatypes::DataType;
use cqlake_schema::batch::{CallCoverage, FlatBatch, FlatParts, PAGE_ROW};
use cqlake_schema::{ColumnRole, GroupPlan, Key, Leaf, PropPlan, TableId, tables};
use simd_json::{Node, StaticNode};
use std::fmt::Write as _;

use crate::colbuf::ColBuf;
use crate::values::{parse_decimal, parse_duration_ms, parse_timestamp_us};

const NONE: u32 = PAGE_ROW;

/// Why a record was rejected.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordError {
    /// JSON path of the offending value (`$.sessions[0].segments[1].media[0].streams[2].averageJitter`).
    pub path: String,
    /// What was wrong.
    pub message: String,
}

impl std::fmt::Display for RecordError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "at {}: {}", self.path, self.message)
    }
}

/// A position in the record: a linked list of keys and indices, built on the stack as the walk
/// descends, rendered only when an error or an unknown key needs it.
#[derive(Clone, Copy)]
pub(crate) struct Path<'p> {
    parent: Option<&'p Path<'p>>,
    seg: Seg<'p>,
    /// True at the object that a table row was opened for: `extra` keys are relative to it.
    row_root: bool,
}

#[derive(Clone, Copy)]
enum Seg<'p> {
    Root,
    Key(&'p str),
    Index(usize),
}

impl<'p> Path<'p> {
    pub(crate) fn root() -> Path<'static> {
        Path {
            parent: None,
            seg: Seg::Root,
            row_root: true,
        }
    }
    pub(crate) fn key(&'p self, k: &'p str) -> Path<'p> {
        Path {
            parent: Some(self),
            seg: Seg::Key(k),
            row_root: false,
        }
    }
    pub(crate) fn index(&'p self, i: usize) -> Path<'p> {
        Path {
            parent: Some(self),
            seg: Seg::Index(i),
            row_root: false,
        }
    }
    fn row(mut self) -> Self {
        self.row_root = true;
        self
    }
    fn render(&self) -> String {
        let mut segs = Vec::new();
        let mut p = Some(self);
        while let Some(x) = p {
            segs.push(x.seg);
            p = x.parent;
        }
        let mut s = String::from("$");
        for seg in segs.iter().rev() {
            match seg {
                Seg::Root => {}
                Seg::Key(k) => {
                    s.push('.');
                    s.push_str(k);
                }
                Seg::Index(i) => {
                    let _ = write!(s, "[{i}]");
                }
            }
        }
        s
    }
    /// The dotted path relative to the row's object, for `extra`.
    fn relative(&self) -> String {
        let mut segs = Vec::new();
        let mut p = Some(self);
        while let Some(x) = p {
            if x.row_root {
                break;
            }
            segs.push(x.seg);
            p = x.parent;
        }
        let mut s = String::new();
        for seg in segs.iter().rev() {
            match seg {
                Seg::Root => {}
                Seg::Key(k) => {
                    if !s.is_empty() {
                        s.push('.');
                    }
                    s.push_str(k);
                }
                Seg::Index(i) => {
                    let _ = write!(s, "[{i}]");
                }
            }
        }
        s
    }
}

pub(crate) type Res<T = ()> = Result<T, RecordError>;

pub(crate) fn err(path: &Path<'_>, message: impl Into<String>) -> RecordError {
    RecordError {
        path: path.render(),
        message: message.into(),
    }
}

pub(crate) fn describe(node: &Node<'_>) -> &'static str {
    match node {
        Node::String(_) => "a string",
        Node::Object { .. } => "an object",
        Node::Array { .. } => "an array",
        Node::Static(StaticNode::Null) => "null",
        Node::Static(StaticNode::Bool(_)) => "a boolean",
        Node::Static(StaticNode::F64(_)) => "a fractional number",
        Node::Static(_) => "an integer",
    }
}

/// Number of tape nodes the value starting at `i` spans.
#[inline]
fn span(nodes: &[Node<'_>], i: usize) -> usize {
    match nodes[i] {
        Node::Object { count, .. } | Node::Array { count, .. } => count + 1,
        _ => 1,
    }
}

/// Iterates `(key, value index)` over the object at `i`.
pub(crate) fn members<'a, 't>(
    nodes: &'t [Node<'a>],
    i: usize,
) -> impl Iterator<Item = (&'a str, usize)> + 't {
    let len = match nodes[i] {
        Node::Object { len, .. } => len,
        _ => 0,
    };
    let mut at = i + 1;
    (0..len).map(move |_| {
        let key = match nodes[at] {
            Node::String(s) => s,
            _ => "",
        };
        let v = at + 1;
        at = v + span(nodes, v);
        (key, v)
    })
}

/// Iterates the element indices of the array at `i`.
pub(crate) fn elements<'t>(nodes: &'t [Node<'_>], i: usize) -> impl Iterator<Item = usize> + 't {
    let len = match nodes[i] {
        Node::Array { len, .. } => len,
        _ => 0,
    };
    let mut at = i + 1;
    (0..len).map(move |_| {
        let v = at;
        at += span(nodes, v);
        v
    })
}

/// The string value of key `key` in the object at `i`, if present and a string.
pub fn find_str<'a>(nodes: &[Node<'a>], i: usize, key: &str) -> Option<&'a str> {
    members(nodes, i)
        .find(|(k, _)| *k == key)
        .and_then(|(_, v)| match nodes[v] {
            Node::String(s) => Some(s),
            _ => None,
        })
}

/// Writes the value at `i` as compact JSON.
pub fn write_json(nodes: &[Node<'_>], i: usize, out: &mut String) {
    match nodes[i] {
        Node::String(s) => write_json_str(s, out),
        Node::Static(StaticNode::Null) => out.push_str("null"),
        Node::Static(StaticNode::Bool(b)) => out.push_str(if b { "true" } else { "false" }),
        Node::Static(StaticNode::I64(n)) => {
            let _ = write!(out, "{n}");
        }
        Node::Static(StaticNode::U64(n)) => {
            let _ = write!(out, "{n}");
        }
        Node::Static(StaticNode::F64(f)) => {
            let _ = write!(out, "{f:?}");
        }
        Node::Object { .. } => {
            out.push('{');
            for (n, (k, v)) in members(nodes, i).enumerate() {
                if n > 0 {
                    out.push(',');
                }
                write_json_str(k, out);
                out.push(':');
                write_json(nodes, v, out);
            }
            out.push('}');
        }
        Node::Array { .. } => {
            out.push('[');
            for (n, v) in elements(nodes, i).enumerate() {
                if n > 0 {
                    out.push(',');
                }
                write_json(nodes, v, out);
            }
            out.push(']');
        }
    }
}

/// Writes `s` as a JSON string literal.
pub fn write_json_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The rows of one table being built: its value columns, the `extra` of the open row, and
/// per row its call row and input position.
pub(crate) struct TableBuf {
    pub(crate) cols: Vec<ColBuf>,
    pub(crate) rows: usize,
    pub(crate) extra_col: usize,
    pub(crate) extra: String,
    /// The keys in `extra` for the open row (to refuse a duplicate).
    pub(crate) extra_keys: Vec<String>,
    /// For each row, the row of its call in this batch's `calls` (NONE for rows from a
    /// follow-up page whose call is elsewhere).
    pub(crate) call_row: Vec<u32>,
    /// For each row, the input position of the record it came from.
    pub(crate) order: Vec<u64>,
}

impl TableBuf {
    fn new(id: TableId) -> TableBuf {
        let t = id.table();
        TableBuf::with_columns(&t.columns, t.extra)
    }

    /// Buffers for `columns` up to the first context column, with `extra` as the extra column.
    pub(crate) fn with_columns(columns: &[cqlake_schema::Column], extra: usize) -> TableBuf {
        let cols = columns
            .iter()
            .take_while(|c| !matches!(c.role, ColumnRole::Context { .. }))
            .map(|c| ColBuf::new(&c.data_type))
            .collect();
        TableBuf {
            cols,
            rows: 0,
            extra_col: extra,
            extra: String::new(),
            extra_keys: Vec::new(),
            call_row: Vec::new(),
            order: Vec::new(),
        }
    }

    pub(crate) fn truncate(&mut self, rows: usize) {
        for c in &mut self.cols {
            c.truncate(rows);
        }
        self.rows = rows;
        self.call_row.truncate(rows);
        self.order.truncate(rows);
        self.extra.clear();
        self.extra_keys.clear();
    }

    pub(crate) fn close_row(&mut self) {
        let tb = self;
        let row = tb.rows;
        let c = &mut tb.cols[tb.extra_col];
        c.pad(row);
        if !tb.extra.is_empty() {
            let mut s = String::with_capacity(tb.extra.len() + 2);
            s.push('{');
            s.push_str(&tb.extra);
            s.push('}');
            c.push_str(&s);
            tb.extra.clear();
            tb.extra_keys.clear();
        }
        tb.rows += 1;
    }

    pub(crate) fn add_extra(&mut self, path: &Path<'_>, nodes: &[Node<'_>], v: usize) -> Res {
        let key = path.relative();
        let tb = self;
        if tb.extra_keys.contains(&key) {
            return Err(err(path, "duplicate key"));
        }
        let buf = &mut tb.extra;
        if !buf.is_empty() {
            buf.push(',');
        }
        write_json_str(&key, buf);
        buf.push(':');
        write_json(nodes, v, buf);
        tb.extra_keys.push(key);
        Ok(())
    }

    /// One key of an object of type `plan.group`.
    /// `hint`: where in the group's properties to look first (Graph writes an object's keys in
    /// the order of its type, so the next key is usually the next property).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn member(
        &mut self,
        plan: &GroupPlan,
        nodes: &[Node<'_>],
        k: &str,
        v: usize,
        path: &Path<'_>,
        hint: &mut usize,
    ) -> Res {
        let Some((idx, _)) = plan.group.prop_hinted(k, hint) else {
            return self.add_extra(path, nodes, v);
        };
        match &plan.props[idx] {
            PropPlan::Leaf { leaf, column } => self.leaf(*column, *leaf, nodes, v, path),
            PropPlan::Object(child) => match nodes[v] {
                Node::Object { .. } => {
                    let mut hint = 0;
                    for (ck, cv) in members(nodes, v) {
                        self.member(child, nodes, ck, cv, &path.key(ck), &mut hint)?;
                    }
                    Ok(())
                }
                Node::Static(StaticNode::Null) => Ok(()),
                ref n => Err(err(
                    path,
                    format!(
                        "expected an object ({}), got {}",
                        child.group.graph_type,
                        describe(n)
                    ),
                )),
            },
            PropPlan::ObjectList { group, columns } => {
                self.object_list(group, columns, nodes, v, path)
            }
        }
    }

    fn object_list(
        &mut self,
        group: &cqlake_schema::graph::Group,
        columns: &[usize],
        nodes: &[Node<'_>],
        v: usize,
        path: &Path<'_>,
    ) -> Res {
        let row = self.rows;
        match nodes[v] {
            Node::Static(StaticNode::Null) => return Ok(()),
            Node::Array { .. } => {}
            ref n => {
                return Err(err(
                    path,
                    format!(
                        "expected an array of {}, got {}",
                        group.graph_type,
                        describe(n)
                    ),
                ));
            }
        }
        for &c in columns {
            let col = &mut self.cols[c];
            if col.len() > row {
                return Err(err(path, "duplicate key"));
            }
            col.pad(row);
        }
        let starts: Vec<usize> = columns
            .iter()
            .map(|&c| self.cols[c].list_items().len())
            .collect();
        for (n, e) in elements(nodes, v).enumerate() {
            let ep = path.index(n);
            if !matches!(nodes[e], Node::Object { .. }) {
                return Err(err(
                    &ep,
                    format!(
                        "expected a {} object, got {}",
                        group.graph_type,
                        describe(&nodes[e])
                    ),
                ));
            }
            let mut hint = 0;
            for (k, kv) in members(nodes, e) {
                let kp = ep.key(k);
                match group.prop_hinted(k, &mut hint) {
                    Some((pi, prop)) => {
                        let cqlake_schema::graph::PropKind::Leaf(leaf) = prop.kind else {
                            unreachable!()
                        };
                        let items = self.cols[columns[pi]].list_items();
                        if items.len() > starts[pi] + n {
                            return Err(err(&kp, "duplicate key"));
                        }
                        items.pad(starts[pi] + n);
                        set_leaf(items, leaf, nodes, kv, &kp)?;
                    }
                    None => self.add_extra(&kp, nodes, kv)?,
                }
            }
            for (pi, &c) in columns.iter().enumerate() {
                self.cols[c].list_items().pad(starts[pi] + n + 1);
            }
        }
        for &c in columns {
            self.cols[c].close_list();
        }
        Ok(())
    }

    fn leaf(
        &mut self,
        column: usize,
        leaf: Leaf,
        nodes: &[Node<'_>],
        v: usize,
        path: &Path<'_>,
    ) -> Res {
        let row = self.rows;
        let col = &mut self.cols[column];
        if col.len() > row {
            return Err(err(path, "duplicate key: the value was already set"));
        }
        if leaf == Leaf::TokenSet {
            return self.token_set(column, nodes, v, path);
        }
        col.pad(row);
        set_leaf(col, leaf, nodes, v, path)
    }

    fn token_set(&mut self, column: usize, nodes: &[Node<'_>], v: usize, path: &Path<'_>) -> Res {
        let row = self.rows;
        match nodes[v] {
            Node::Static(StaticNode::Null) => return Ok(()),
            Node::Object { .. } => {}
            ref n => {
                return Err(err(
                    path,
                    format!("expected an object of flags, got {}", describe(n)),
                ));
            }
        }
        let cols = &mut self.cols;
        cols[column].pad(row);
        let items = cols[column].list_items();
        for (k, kv) in members(nodes, v) {
            match nodes[kv] {
                Node::Static(StaticNode::Bool(true)) => items.push_str(k),
                Node::Static(StaticNode::Bool(false) | StaticNode::Null) => {}
                ref n => {
                    return Err(err(
                        &path.key(k),
                        format!("expected a boolean flag, got {}", describe(n)),
                    ));
                }
            }
        }
        cols[column].close_list();
        let mut json = String::new();
        write_json(nodes, v, &mut json);
        cols[column + 1].pad(row);
        cols[column + 1].push_str(&json);
        Ok(())
    }
}

/// Flattens call records into table rows. See the [module documentation](self).
pub struct Flattener {
    order: u64,
    t: Vec<TableBuf>,
    /// For each streams row: its media, segment, session and call rows.
    parents: Vec<[u32; 4]>,
    coverage: Vec<CallCoverage>,
    /// Bytes of JSON the rows held came from (as noted by the caller).
    input_bytes: usize,
}

impl Default for Flattener {
    fn default() -> Self {
        Self::new()
    }
}

struct Ctx<'a> {
    call_id: &'a str,
    date: i32,
    call_row: u32,
}

const CALLS: usize = 0;
const PARTICIPANTS: usize = 1;
const SESSIONS: usize = 2;
const SEGMENTS: usize = 3;
const MEDIA: usize = 4;
const STREAMS: usize = 5;

fn date_of(us: i64) -> i32 {
    us.div_euclid(86_400_000_000) as i32
}

impl Flattener {
    /// An empty flattener.
    pub fn new() -> Self {
        Flattener {
            order: 0,
            t: TableId::ALL.iter().map(|&id| TableBuf::new(id)).collect(),
            parents: Vec::new(),
            coverage: Vec::new(),
            input_bytes: 0,
        }
    }

    /// Notes that `n` more bytes of JSON went into the rows held (the caller's measure of a
    /// batch's size besides its rows; reset when the rows are taken).
    pub fn add_input_bytes(&mut self, n: usize) {
        self.input_bytes += n;
    }

    /// The bytes noted with [`Flattener::add_input_bytes`] since the rows were last taken.
    pub fn input_bytes(&self) -> usize {
        self.input_bytes
    }

    /// Sets the input position recorded with the next call records (see [`CallCoverage::order`]).
    pub fn set_order(&mut self, order: u64) {
        self.order = order;
    }

    /// Rows held, per table.
    pub fn rows(&self, t: TableId) -> usize {
        self.t[t.index()].rows
    }

    /// Flattens the callRecord object at the root of `nodes`. On error nothing is kept.
    pub fn push_call(&mut self, nodes: &[Node<'_>]) -> Res {
        let mark = self.mark();
        let r = self.call(nodes);
        if r.is_err() {
            self.rollback(mark);
        }
        r
    }

    /// Flattens a session object of a follow-up page of call `call_id`. Its rows carry no call
    /// context; the partition date is the session's own start date.
    pub fn push_session(&mut self, nodes: &[Node<'_>], call_id: &str) -> Res {
        let mark = self.mark();
        let root = Path::root();
        let r = (|| {
            let start = find_str(nodes, 0, "startDateTime")
                .and_then(parse_timestamp_us)
                .ok_or_else(|| {
                    err(
                        &root.key("startDateTime"),
                        "a session of a follow-up page needs a valid startDateTime",
                    )
                })?;
            let ctx = Ctx {
                call_id,
                date: date_of(start),
                call_row: NONE,
            };
            self.session(nodes, 0, &ctx, &root)
        })();
        if r.is_err() {
            self.rollback(mark);
        }
        r
    }

    /// Flattens a participant object of a follow-up `participants_v2` page of call `call_id`,
    /// whose call started at `start_us` (or, unknown, on the Unix epoch day).
    pub fn push_participant(
        &mut self,
        nodes: &[Node<'_>],
        call_id: &str,
        index: usize,
        start_us: Option<i64>,
    ) -> Res {
        let mark = self.mark();
        let ctx = Ctx {
            call_id,
            date: date_of(start_us.unwrap_or(0)),
            call_row: NONE,
        };
        let r = self.participant(nodes, 0, &ctx, "participants_v2", index, &Path::root());
        if r.is_err() {
            self.rollback(mark);
        }
        r
    }

    fn mark(&self) -> (Vec<usize>, usize, usize) {
        (
            self.t.iter().map(|t| t.rows).collect(),
            self.parents.len(),
            self.coverage.len(),
        )
    }

    fn rollback(&mut self, (rows, parents, coverage): (Vec<usize>, usize, usize)) {
        for (t, r) in self.t.iter_mut().zip(rows) {
            t.truncate(r);
        }
        self.parents.truncate(parents);
        self.coverage.truncate(coverage);
    }

    fn open_row(&mut self, t: usize, ctx: &Ctx<'_>) -> usize {
        let tb = &mut self.t[t];
        let row = tb.rows;
        tb.call_row.push(ctx.call_row);
        tb.order.push(self.order);
        // call_id and call_start_date are the first two columns of every table.
        tb.cols[0].pad(row);
        tb.cols[0].push_str(ctx.call_id);
        tb.cols[1].pad(row);
        tb.cols[1].push_i32(ctx.date);
        row
    }

    fn set_key_str(&mut self, t: usize, key: Key, row: usize, v: &str) {
        let idx = tables()[t].key_index(key).expect("key column");
        let c = &mut self.t[t].cols[idx];
        c.pad(row);
        c.push_str(v);
    }

    fn set_key_i32(&mut self, t: usize, key: Key, row: usize, v: i32) {
        let idx = tables()[t].key_index(key).expect("key column");
        let c = &mut self.t[t].cols[idx];
        c.pad(row);
        c.push_i32(v);
    }

    fn call(&mut self, nodes: &[Node<'_>]) -> Res {
        let root = Path::root();
        if !matches!(nodes.first(), Some(Node::Object { .. })) {
            return Err(err(
                &root,
                format!(
                    "a call record must be an object, not {}",
                    nodes.first().map_or("nothing", describe)
                ),
            ));
        }
        let call_id = match members(nodes, 0).find(|(k, _)| *k == "id") {
            Some((_, v)) => match nodes[v] {
                Node::String(s) if !s.is_empty() => s,
                ref n => {
                    return Err(err(
                        &root.key("id"),
                        format!(
                            "the call id must be a non-empty string, not {}",
                            describe(n)
                        ),
                    ));
                }
            },
            None => return Err(err(&root, "the call record has no id")),
        };
        let start = match members(nodes, 0).find(|(k, _)| *k == "startDateTime") {
            Some((_, v)) => match nodes[v] {
                Node::String(s) => parse_timestamp_us(s).ok_or_else(|| {
                    err(
                        &root.key("startDateTime"),
                        format!("invalid timestamp {s:?}"),
                    )
                })?,
                ref n => {
                    return Err(err(
                        &root.key("startDateTime"),
                        format!("expected a timestamp string, got {}", describe(n)),
                    ));
                }
            },
            None => {
                return Err(err(
                    &root,
                    "the call record has no startDateTime (the lake is partitioned by it)",
                ));
            }
        };
        let call_row = self.t[CALLS].rows as u32;
        let ctx = Ctx {
            call_id,
            date: date_of(start),
            call_row,
        };
        self.open_row(CALLS, &ctx);
        let mut cov = CallCoverage {
            order: self.order,
            ..CallCoverage::default()
        };
        let plan = &tables()[CALLS].plan;
        let mut hint = 0;
        let mut seen = Seen::default();
        for (k, v) in members(nodes, 0) {
            let path = root.key(k);
            match k {
                "id" => seen.once(1, &path)?,
                "sessions" => {
                    seen.once(2, &path)?;
                    cov.sessions = true;
                    self.array(nodes, v, &path, |me, i, e, p| {
                        me.session(nodes, e, &ctx, &p.index(i))
                    })?;
                }
                "participants_v2" => {
                    seen.once(4, &path)?;
                    cov.participants = true;
                    self.array(nodes, v, &path, |me, i, e, p| {
                        me.participant(nodes, e, &ctx, "participants_v2", i, &p.index(i))
                    })?;
                }
                "participants" => {
                    seen.once(8, &path)?;
                    cov.participants = true;
                    self.array(nodes, v, &path, |me, i, e, p| {
                        me.participant(nodes, e, &ctx, "participants", i, &p.index(i))
                    })?;
                }
                "sessions@odata.nextLink" => cov.sessions_next_link = true,
                "participants_v2@odata.nextLink" => cov.participants_next_link = true,
                _ if is_annotation(k) => {}
                _ => self.t[CALLS].member(plan, nodes, k, v, &path, &mut hint)?,
            }
        }
        self.t[CALLS].close_row();
        self.coverage.push(cov);
        Ok(())
    }

    fn array<'a>(
        &mut self,
        nodes: &[Node<'a>],
        v: usize,
        path: &Path<'_>,
        mut f: impl FnMut(&mut Self, usize, usize, &Path<'_>) -> Res,
    ) -> Res {
        match nodes[v] {
            Node::Array { .. } => {
                for (i, e) in elements(nodes, v).enumerate() {
                    f(self, i, e, path)?;
                }
                Ok(())
            }
            Node::Static(StaticNode::Null) => Ok(()),
            ref n => Err(err(path, format!("expected an array, got {}", describe(n)))),
        }
    }

    fn entity_id<'a>(nodes: &[Node<'a>], i: usize, path: &Path<'_>, what: &str) -> Res<&'a str> {
        if !matches!(nodes[i], Node::Object { .. }) {
            return Err(err(
                path,
                format!("a {what} must be an object, not {}", describe(&nodes[i])),
            ));
        }
        match members(nodes, i).find(|(k, _)| *k == "id") {
            Some((_, v)) => match nodes[v] {
                Node::String(s) if !s.is_empty() => Ok(s),
                ref n => Err(err(
                    &path.key("id"),
                    format!(
                        "the {what} id must be a non-empty string, not {}",
                        describe(n)
                    ),
                )),
            },
            None => Err(err(path, format!("the {what} has no id"))),
        }
    }

    fn session(&mut self, nodes: &[Node<'_>], i: usize, ctx: &Ctx<'_>, path: &Path<'_>) -> Res {
        let id = Self::entity_id(nodes, i, path, "session")?;
        let row = self.open_row(SESSIONS, ctx);
        self.set_key_str(SESSIONS, Key::SessionId, row, id);
        let path = path.row();
        let plan = &tables()[SESSIONS].plan;
        let mut segments = None;
        let mut hint = 0;
        let mut seen = Seen::default();
        for (k, v) in members(nodes, i) {
            match k {
                "id" => seen.once(1, &path.key(k))?,
                "segments" => {
                    seen.once(2, &path.key(k))?;
                    segments = Some(v);
                }
                _ if is_annotation(k) => {}
                _ => self.t[SESSIONS].member(plan, nodes, k, v, &path.key(k), &mut hint)?,
            }
        }
        self.t[SESSIONS].close_row();
        if let Some(v) = segments {
            let sp = path.key("segments");
            self.array(nodes, v, &sp, |me, n, e, p| {
                me.segment(nodes, e, ctx, id, row as u32, &p.index(n))
            })?;
        }
        Ok(())
    }

    fn segment(
        &mut self,
        nodes: &[Node<'_>],
        i: usize,
        ctx: &Ctx<'_>,
        session_id: &str,
        session_row: u32,
        path: &Path<'_>,
    ) -> Res {
        let id = Self::entity_id(nodes, i, path, "segment")?;
        let row = self.open_row(SEGMENTS, ctx);
        self.set_key_str(SEGMENTS, Key::SessionId, row, session_id);
        self.set_key_str(SEGMENTS, Key::SegmentId, row, id);
        let path = path.row();
        let plan = &tables()[SEGMENTS].plan;
        let mut media = None;
        let mut hint = 0;
        let mut seen = Seen::default();
        for (k, v) in members(nodes, i) {
            match k {
                "id" => seen.once(1, &path.key(k))?,
                "media" => {
                    seen.once(2, &path.key(k))?;
                    media = Some(v);
                }
                _ if is_annotation(k) => {}
                _ => self.t[SEGMENTS].member(plan, nodes, k, v, &path.key(k), &mut hint)?,
            }
        }
        self.t[SEGMENTS].close_row();
        if let Some(v) = media {
            let mp = path.key("media");
            let ids = (session_id, id, session_row, row as u32);
            self.array(nodes, v, &mp, |me, n, e, p| {
                me.media(nodes, e, ctx, ids, n, &p.index(n))
            })?;
        }
        Ok(())
    }

    fn media(
        &mut self,
        nodes: &[Node<'_>],
        i: usize,
        ctx: &Ctx<'_>,
        ids: (&str, &str, u32, u32),
        index: usize,
        path: &Path<'_>,
    ) -> Res {
        if !matches!(nodes[i], Node::Object { .. }) {
            return Err(err(
                path,
                format!(
                    "a media entry must be an object, not {}",
                    describe(&nodes[i])
                ),
            ));
        }
        let (session_id, segment_id, session_row, segment_row) = ids;
        let row = self.open_row(MEDIA, ctx);
        self.set_key_str(MEDIA, Key::SessionId, row, session_id);
        self.set_key_str(MEDIA, Key::SegmentId, row, segment_id);
        self.set_key_i32(MEDIA, Key::MediaIndex, row, index as i32);
        let path = path.row();
        let plan = &tables()[MEDIA].plan;
        let mut streams = None;
        let mut hint = 0;
        let mut seen = Seen::default();
        for (k, v) in members(nodes, i) {
            match k {
                "streams" => {
                    seen.once(1, &path.key(k))?;
                    streams = Some(v);
                }
                _ if is_annotation(k) => {}
                _ => self.t[MEDIA].member(plan, nodes, k, v, &path.key(k), &mut hint)?,
            }
        }
        self.t[MEDIA].close_row();
        if let Some(v) = streams {
            let sp = path.key("streams");
            let parents = [row as u32, segment_row, session_row, ctx.call_row];
            self.array(nodes, v, &sp, |me, n, e, p| {
                me.stream(
                    nodes,
                    e,
                    ctx,
                    (session_id, segment_id, index),
                    parents,
                    n,
                    &p.index(n),
                )
            })?;
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn stream(
        &mut self,
        nodes: &[Node<'_>],
        i: usize,
        ctx: &Ctx<'_>,
        ids: (&str, &str, usize),
        parents: [u32; 4],
        index: usize,
        path: &Path<'_>,
    ) -> Res {
        if !matches!(nodes[i], Node::Object { .. }) {
            return Err(err(
                path,
                format!("a stream must be an object, not {}", describe(&nodes[i])),
            ));
        }
        let row = self.open_row(STREAMS, ctx);
        self.set_key_str(STREAMS, Key::SessionId, row, ids.0);
        self.set_key_str(STREAMS, Key::SegmentId, row, ids.1);
        self.set_key_i32(STREAMS, Key::MediaIndex, row, ids.2 as i32);
        self.set_key_i32(STREAMS, Key::StreamIndex, row, index as i32);
        self.parents.push(parents);
        let path = path.row();
        let plan = &tables()[STREAMS].plan;
        let mut hint = 0;
        for (k, v) in members(nodes, i) {
            if is_annotation(k) {
                continue;
            }
            self.t[STREAMS].member(plan, nodes, k, v, &path.key(k), &mut hint)?;
        }
        self.t[STREAMS].close_row();
        Ok(())
    }

    fn participant(
        &mut self,
        nodes: &[Node<'_>],
        i: usize,
        ctx: &Ctx<'_>,
        source: &str,
        index: usize,
        path: &Path<'_>,
    ) -> Res {
        if !matches!(nodes[i], Node::Object { .. }) {
            return Err(err(
                path,
                format!(
                    "a participant must be an object, not {}",
                    describe(&nodes[i])
                ),
            ));
        }
        let row = self.open_row(PARTICIPANTS, ctx);
        self.set_key_str(PARTICIPANTS, Key::ParticipantSource, row, source);
        self.set_key_i32(PARTICIPANTS, Key::ParticipantIndex, row, index as i32);
        let path = path.row();
        let plan = &tables()[PARTICIPANTS].plan;
        if source == "participants" {
            // A deprecated participants entry is an identity set: it fills the identity columns.
            let PropPlan::Object(identity) = &plan.props[0] else {
                unreachable!("participant.identity is an object")
            };
            let mut hint = 0;
            for (k, v) in members(nodes, i) {
                self.t[PARTICIPANTS].member(identity, nodes, k, v, &path.key(k), &mut hint)?;
            }
        } else {
            let mut hint = 0;
            let mut seen = Seen::default();
            for (k, v) in members(nodes, i) {
                match k {
                    "id" => {
                        seen.once(1, &path.key(k))?;
                        match nodes[v] {
                            Node::String(s) => {
                                self.set_key_str(PARTICIPANTS, Key::ParticipantId, row, s)
                            }
                            Node::Static(StaticNode::Null) => {}
                            ref n => {
                                return Err(err(
                                    &path.key(k),
                                    format!("expected a string id, got {}", describe(n)),
                                ));
                            }
                        }
                    }
                    _ if is_annotation(k) => {}
                    _ => self.t[PARTICIPANTS].member(plan, nodes, k, v, &path.key(k), &mut hint)?,
                }
            }
        }
        self.t[PARTICIPANTS].close_row();
        Ok(())
    }

    /// Builds the batches of everything flattened so far and empties the flattener.
    pub fn finish(&mut self) -> FlatBatch {
        self.finish_parts().complete()
    }

    /// [`Flattener::finish`], leaving the `streams` columns copied from parent rows (the call,
    /// session, segment and media context, most of that wide table) to be made one at a time
    /// by whoever needs them (see [`FlatParts`]).
    pub fn finish_parts(&mut self) -> FlatParts {
        self.input_bytes = 0;
        let mut batches: Vec<RecordBatch> = Vec::with_capacity(6);
        // All-null columns (most of them, in a wide table) share one array per type and length.
        let mut nulls: HashMap<(DataType, usize), ArrayRef> = HashMap::new();
        let mut null_array = |dt: &DataType, len: usize| {
            nulls
                .entry((dt.clone(), len))
                .or_insert_with(|| arrow::array::new_null_array(dt, len))
                .clone()
        };
        let mut call_rows = Vec::with_capacity(6);
        let mut orders = Vec::with_capacity(6);
        for (id, tb) in TableId::ALL.iter().zip(self.t.iter_mut()) {
            let table = id.table();
            let rows = tb.rows;
            let mut arrays: Vec<ArrayRef> = tb
                .cols
                .iter_mut()
                .zip(&table.columns)
                .map(|(c, def)| {
                    c.pad(rows);
                    if c.is_all_null() && def.nullable {
                        null_array(&def.data_type, c.clear_nulls())
                    } else {
                        c.finish(&def.data_type)
                    }
                })
                .collect();
            // Context columns: placeholders until `FlatParts::complete` or `context_column`.
            for def in &table.columns[arrays.len()..] {
                arrays.push(null_array(&def.data_type, rows));
            }
            let batch =
                RecordBatch::try_new(table.schema(), arrays).expect("batch matches its schema");
            batches.push(batch);
            call_rows.push(std::mem::take(&mut tb.call_row));
            orders.push(std::mem::take(&mut tb.order));
            tb.rows = 0;
        }
        let parents: Vec<UInt32Array> = (0..4)
            .map(|p| {
                self.parents
                    .iter()
                    .map(|r| if r[p] == NONE { None } else { Some(r[p]) })
                    .collect()
            })
            .collect();
        self.parents.clear();
        FlatParts::new(
            FlatBatch {
                batches,
                call_rows,
                orders,
                coverage: std::mem::take(&mut self.coverage),
            },
            parents,
        )
    }
}

/// An OData control annotation (`@odata.context`, `sessions@odata.nextLink`), not data.
/// `@odata.type` is data where a type declares it, and otherwise kept in `extra`.
/// Keys the walk handles itself (not through a column), by bit, to refuse a second occurrence
/// as [`Flattener::member`] refuses one of a column's key.
#[derive(Default)]
struct Seen(u8);

impl Seen {
    fn once(&mut self, bit: u8, path: &Path<'_>) -> Res {
        if self.0 & bit != 0 {
            return Err(err(path, "duplicate key"));
        }
        self.0 |= bit;
        Ok(())
    }
}

pub(crate) fn is_annotation(k: &str) -> bool {
    k.contains("@odata.") && k != "@odata.type"
}

pub(crate) fn set_leaf(
    col: &mut ColBuf,
    leaf: Leaf,
    nodes: &[Node<'_>],
    v: usize,
    path: &Path<'_>,
) -> Res {
    let node = nodes[v];
    if let Node::Static(StaticNode::Null) = node {
        col.push_null();
        return Ok(());
    }
    let mismatch = |want: &str| err(path, format!("expected {want}, got {}", describe(&node)));
    match leaf {
        Leaf::Str => match node {
            Node::String(s) => col.push_str(s),
            _ => return Err(mismatch("a string")),
        },
        Leaf::Int32 => {
            let x = int_of(&node).ok_or_else(|| mismatch("a 32-bit integer"))?;
            let x = i32::try_from(x)
                .map_err(|_| err(path, format!("{x} does not fit in a 32-bit integer")))?;
            col.push_i32(x);
        }
        Leaf::Int64 => {
            let x = int_of(&node).ok_or_else(|| mismatch("a 64-bit integer"))?;
            col.push_i64(x);
        }
        Leaf::Float => match node {
            Node::Static(StaticNode::F64(f)) => col.push_f64(f),
            Node::Static(StaticNode::I64(n)) => col.push_f64(n as f64),
            Node::Static(StaticNode::U64(n)) => col.push_f64(n as f64),
            _ => return Err(mismatch("a number")),
        },
        Leaf::Bool => match node {
            Node::Static(StaticNode::Bool(b)) => col.push_bool(b),
            _ => return Err(mismatch("a boolean")),
        },
        Leaf::Timestamp => match node {
            Node::String(s) => col.push_i64(
                parse_timestamp_us(s)
                    .ok_or_else(|| err(path, format!("invalid timestamp {:?}", excerpt(s))))?,
            ),
            _ => return Err(mismatch("a timestamp string")),
        },
        Leaf::Duration => {
            match node {
                Node::String(s) => col.push_f64(parse_duration_ms(s).ok_or_else(|| {
                    err(path, format!("invalid ISO-8601 duration {:?}", excerpt(s)))
                })?),
                _ => return Err(mismatch("an ISO-8601 duration string")),
            }
        }
        Leaf::StrList => match node {
            Node::Array { .. } => {
                let items = col.list_items();
                for (n, e) in elements(nodes, v).enumerate() {
                    match nodes[e] {
                        Node::String(s) => items.push_str(s),
                        Node::Static(StaticNode::Null) => items.push_null(),
                        ref other => {
                            return Err(err(
                                &path.index(n),
                                format!("expected a string, got {}", describe(other)),
                            ));
                        }
                    }
                }
                col.close_list();
            }
            _ => return Err(mismatch("an array of strings")),
        },
        Leaf::Seconds => match node {
            Node::Static(StaticNode::F64(f)) => col.push_f64(f * 1000.0),
            Node::Static(StaticNode::I64(n)) => col.push_f64(n as f64 * 1000.0),
            Node::Static(StaticNode::U64(n)) => col.push_f64(n as f64 * 1000.0),
            _ => return Err(mismatch("a number of seconds")),
        },
        Leaf::Decimal => {
            // A number as simd-json read it (its shortest round-trip form is the text Graph
            // wrote for up to 15 significant digits), or a string (`IEEE754Compatible=true`).
            let text = match node {
                Node::String(s) => std::borrow::Cow::Borrowed(s),
                Node::Static(StaticNode::F64(f)) => std::borrow::Cow::Owned(f.to_string()),
                Node::Static(StaticNode::I64(n)) => std::borrow::Cow::Owned(n.to_string()),
                Node::Static(StaticNode::U64(n)) => std::borrow::Cow::Owned(n.to_string()),
                _ => return Err(mismatch("a decimal number")),
            };
            let v = parse_decimal(&text, cqlake_schema::graph::DECIMAL_SCALE as u32)
                .map_err(|e| err(path, e))?;
            col.push_i128(v);
        }
        Leaf::TokenSet => unreachable!("token sets are handled by the flattener"),
    }
    Ok(())
}

fn int_of(node: &Node<'_>) -> Option<i64> {
    match *node {
        Node::Static(StaticNode::I64(n)) => Some(n),
        Node::Static(StaticNode::U64(n)) => i64::try_from(n).ok(),
        Node::Static(StaticNode::F64(f)) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(f as i64),
        _ => None,
    }
}

pub(crate) fn excerpt(s: &str) -> &str {
    match s.char_indices().nth(80) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

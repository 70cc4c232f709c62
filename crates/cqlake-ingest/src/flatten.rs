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
use cqlake_schema::{Key, PropPlan, TableId, tables};
use simd_json::{Node, StaticNode};

use crate::rows::{DUPLICATE_KEY, Path, RecordError, Res, TableBuf, err};
use crate::tape::{describe, elements, find_str, is_annotation, members};
use crate::values::parse_timestamp_us;

const NONE: u32 = PAGE_ROW;

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

    /// Keys written twice with the same value in the records flattened since the last call
    /// (each taken as one value), and resets the count. Rolled-back records do not count.
    pub fn take_repeated_keys(&mut self) -> u64 {
        self.t.iter_mut().map(TableBuf::take_repeated).sum()
    }

    /// Rows held, per table.
    pub fn rows(&self, t: TableId) -> usize {
        self.t[t.index()].rows
    }

    /// Flattens the callRecord object at the root of `nodes`. On error nothing is kept.
    ///
    /// A record without `startDateTime` (a Get with `$select`, as in
    /// `?$select=participants_v2&$expand=participants_v2`) is [`Record::Partial`]: its
    /// participants and sessions become rows of follow-up pages, which merge into their call
    /// when it is in the lake or arrives; its other properties are left out, as they have no
    /// row without the call's partition date. One with neither is rejected.
    pub fn push_call(&mut self, nodes: &[Node<'_>]) -> Res<Record> {
        let mark = self.mark();
        let r = self.call(nodes);
        if r.is_err() {
            self.rollback(mark);
        }
        r
    }

    /// Flattens a session object of a follow-up page of call `call_id`. Its rows carry no call
    /// context; the partition date is the session's own start date. `occurrence` numbers the
    /// session among the earlier items of the call's pages with the same id (see
    /// [`Key::SessionOccurrence`] and [`crate::SessionOccurrences`]); its media and streams are
    /// written every time, and the lake keeps those of the last occurrence.
    pub fn push_session(&mut self, nodes: &[Node<'_>], call_id: &str, occurrence: u32) -> Res {
        let mark = self.mark();
        let root = Path::root();
        let r = (|| {
            let ctx = Ctx {
                call_id,
                date: session_date(nodes, 0, &root, "a follow-up page")?,
                call_row: NONE,
            };
            let occurrence = Occurrence {
                number: occurrence,
                repeated_later: Vec::new(),
            };
            self.session(nodes, 0, &ctx, &occurrence, &root)
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

    fn call(&mut self, nodes: &[Node<'_>]) -> Res<Record> {
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
            None => return self.partial_call(nodes, call_id).map(|()| Record::Partial),
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
                "id" => {
                    seen.first(1, nodes, 0, k, v, &path, &mut self.t[CALLS])?;
                }
                "sessions" => {
                    if !seen.first(2, nodes, 0, k, v, &path, &mut self.t[CALLS])? {
                        continue;
                    }
                    cov.sessions = true;
                    let repeats = Occurrence::of_all(nodes, v);
                    let first = Occurrence::default();
                    self.array(nodes, v, &path, |me, i, e, p| {
                        let occurrence = repeats.get(i).unwrap_or(&first);
                        me.session(nodes, e, &ctx, occurrence, &p.index(i))
                    })?;
                }
                "participants_v2" => {
                    if !seen.first(4, nodes, 0, k, v, &path, &mut self.t[CALLS])? {
                        continue;
                    }
                    cov.participants = true;
                    self.array(nodes, v, &path, |me, i, e, p| {
                        me.participant(nodes, e, &ctx, "participants_v2", i, &p.index(i))
                    })?;
                }
                "participants" => {
                    if !seen.first(8, nodes, 0, k, v, &path, &mut self.t[CALLS])? {
                        continue;
                    }
                    cov.participants = true;
                    self.array(nodes, v, &path, |me, i, e, p| {
                        me.participant(nodes, e, &ctx, "participants", i, &p.index(i))
                    })?;
                }
                "sessions@odata.nextLink" => cov.sessions_next_link = true,
                "participants_v2@odata.nextLink" => cov.participants_next_link = true,
                _ if is_annotation(k) => {}
                _ => self.t[CALLS].member(plan, nodes, 0, k, v, &path, &mut hint)?,
            }
        }
        self.t[CALLS].close_row();
        self.coverage.push(cov);
        Ok(Record::Call)
    }

    /// The participants and sessions of a record without `startDateTime`, as rows of follow-up
    /// pages (see [`Flattener::push_call`]).
    fn partial_call(&mut self, nodes: &[Node<'_>], call_id: &str) -> Res {
        let root = Path::root();
        // Participants of a call whose date is unknown lie on the epoch day until it is known.
        let ctx = Ctx {
            call_id,
            date: 0,
            call_row: NONE,
        };
        let mut carried = false;
        let mut seen = Seen::default();
        for (k, v) in members(nodes, 0) {
            let path = root.key(k);
            let bit = match k {
                "participants_v2" => 4,
                "participants" => 8,
                "sessions" => 2,
                _ => continue,
            };
            if !seen.first(bit, nodes, 0, k, v, &path, &mut self.t[PARTICIPANTS])? {
                continue;
            }
            carried = true;
            if k == "sessions" {
                let repeats = Occurrence::of_all(nodes, v);
                let first = Occurrence::default();
                self.array(nodes, v, &path, |me, i, e, p| {
                    let p = p.index(i);
                    let ctx = Ctx {
                        call_id,
                        date: session_date(nodes, e, &p, "a record without startDateTime")?,
                        call_row: NONE,
                    };
                    me.session(nodes, e, &ctx, repeats.get(i).unwrap_or(&first), &p)
                })?;
            } else {
                self.array(nodes, v, &path, |me, i, e, p| {
                    me.participant(nodes, e, &ctx, k, i, &p.index(i))
                })?;
            }
        }
        if carried {
            Ok(())
        } else {
            Err(err(
                &root,
                "the call record has no startDateTime (the lake is partitioned by it), and no participants or sessions to merge into its call",
            ))
        }
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

    fn session(
        &mut self,
        nodes: &[Node<'_>],
        i: usize,
        ctx: &Ctx<'_>,
        occurrence: &Occurrence<'_>,
        path: &Path<'_>,
    ) -> Res {
        let id = Self::entity_id(nodes, i, path, "session")?;
        let row = self.open_row(SESSIONS, ctx);
        self.set_key_str(SESSIONS, Key::SessionId, row, id);
        self.set_key_i32(
            SESSIONS,
            Key::SessionOccurrence,
            row,
            occurrence.number as i32,
        );
        let path = path.row();
        let plan = &tables()[SESSIONS].plan;
        let mut segments = None;
        let mut hint = 0;
        let mut seen = Seen::default();
        for (k, v) in members(nodes, i) {
            match k {
                "id" => {
                    seen.first(1, nodes, i, k, v, &path.key(k), &mut self.t[SESSIONS])?;
                }
                "segments" => {
                    if seen.first(2, nodes, i, k, v, &path.key(k), &mut self.t[SESSIONS])? {
                        segments = Some(v);
                    }
                }
                _ if is_annotation(k) => {}
                _ => self.t[SESSIONS].member(plan, nodes, i, k, v, &path.key(k), &mut hint)?,
            }
        }
        self.t[SESSIONS].close_row();
        if let Some(v) = segments {
            let sp = path.key("segments");
            let session = (id, occurrence, row as u32);
            self.array(nodes, v, &sp, |me, n, e, p| {
                me.segment(nodes, e, ctx, session, &p.index(n))
            })?;
        }
        Ok(())
    }

    /// A segment of session `(id, occurrence, row)`.
    fn segment(
        &mut self,
        nodes: &[Node<'_>],
        i: usize,
        ctx: &Ctx<'_>,
        (session_id, occurrence, session_row): (&str, &Occurrence<'_>, u32),
        path: &Path<'_>,
    ) -> Res {
        let id = Self::entity_id(nodes, i, path, "segment")?;
        let row = self.open_row(SEGMENTS, ctx);
        self.set_key_str(SEGMENTS, Key::SessionId, row, session_id);
        self.set_key_i32(
            SEGMENTS,
            Key::SessionOccurrence,
            row,
            occurrence.number as i32,
        );
        self.set_key_str(SEGMENTS, Key::SegmentId, row, id);
        let path = path.row();
        let plan = &tables()[SEGMENTS].plan;
        let mut media = None;
        let mut hint = 0;
        let mut seen = Seen::default();
        for (k, v) in members(nodes, i) {
            match k {
                "id" => {
                    seen.first(1, nodes, i, k, v, &path.key(k), &mut self.t[SEGMENTS])?;
                }
                "media" => {
                    if seen.first(2, nodes, i, k, v, &path.key(k), &mut self.t[SEGMENTS])? {
                        media = Some(v);
                    }
                }
                _ if is_annotation(k) => {}
                _ => self.t[SEGMENTS].member(plan, nodes, i, k, v, &path.key(k), &mut hint)?,
            }
        }
        self.t[SEGMENTS].close_row();
        // A later occurrence of the session repeats this segment's media: written once, from
        // the last occurrence (whose session and segment the streams' context columns show).
        if let Some(v) = media.filter(|_| !occurrence.repeated_later.contains(&id)) {
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
                    if seen.first(1, nodes, i, k, v, &path.key(k), &mut self.t[MEDIA])? {
                        streams = Some(v);
                    }
                }
                _ if is_annotation(k) => {}
                _ => self.t[MEDIA].member(plan, nodes, i, k, v, &path.key(k), &mut hint)?,
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
            self.t[STREAMS].member(plan, nodes, i, k, v, &path.key(k), &mut hint)?;
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
                self.t[PARTICIPANTS].member(identity, nodes, i, k, v, &path.key(k), &mut hint)?;
            }
        } else {
            let mut hint = 0;
            let mut seen = Seen::default();
            for (k, v) in members(nodes, i) {
                match k {
                    "id" => {
                        if !seen.first(
                            1,
                            nodes,
                            i,
                            k,
                            v,
                            &path.key(k),
                            &mut self.t[PARTICIPANTS],
                        )? {
                            continue;
                        }
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
                    _ => self.t[PARTICIPANTS].member(
                        plan,
                        nodes,
                        i,
                        k,
                        v,
                        &path.key(k),
                        &mut hint,
                    )?,
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
            tb.rows_taken();
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

/// The partition date of a session whose call's date is not known (of `whose`: a follow-up page,
/// a record without `startDateTime`): the date of its own `startDateTime`.
fn session_date(nodes: &[Node<'_>], i: usize, path: &Path<'_>, whose: &str) -> Res<i32> {
    find_str(nodes, i, "startDateTime")
        .and_then(parse_timestamp_us)
        .map(date_of)
        .ok_or_else(|| {
            err(
                &path.key("startDateTime"),
                format!("a session of {whose} needs a valid startDateTime"),
            )
        })
}

/// What [`Flattener::push_call`] made of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Record {
    /// A call record: a row of `calls` and the rows of what it carried.
    Call,
    /// A record without `startDateTime`: its participants and sessions, as rows of follow-up
    /// pages.
    Partial,
}

/// Where a session element stands among the elements of its call's `sessions` with the same id.
#[derive(Default)]
struct Occurrence<'a> {
    /// 0 for the first element with the id, 1 for the next, …
    number: u32,
    /// Ids of this occurrence's segments that a later occurrence carries too: their media and
    /// streams are left to that one.
    repeated_later: Vec<&'a str>,
}

impl<'a> Occurrence<'a> {
    /// For each element of the `sessions` array at `v`, its occurrence; empty when no session id
    /// repeats (every element is then the first of its id). Elements without a string id are
    /// left to the walk, which rejects them.
    fn of_all(nodes: &[Node<'a>], v: usize) -> Vec<Occurrence<'a>> {
        if !matches!(nodes[v], Node::Array { .. }) {
            return Vec::new();
        }
        let id_of = |e: usize| -> Option<&'a str> {
            if !matches!(nodes[e], Node::Object { .. }) {
                return None;
            }
            match members(nodes, e).find(|(k, _)| *k == "id") {
                Some((_, v)) => match nodes[v] {
                    Node::String(s) => Some(s),
                    _ => None,
                },
                None => None,
            }
        };
        let items: Vec<usize> = elements(nodes, v).collect();
        let ids: Vec<Option<&'a str>> = items.iter().map(|&e| id_of(e)).collect();
        let mut counts: HashMap<&str, u32> = HashMap::new();
        let mut numbers = Vec::with_capacity(ids.len());
        for id in &ids {
            let n = id.map_or(0, |id| {
                let c = counts.entry(id).or_insert(0);
                *c += 1;
                *c - 1
            });
            numbers.push(n);
        }
        if counts.values().all(|&c| c == 1) {
            return Vec::new();
        }
        let segment_ids = |e: usize| -> Vec<&'a str> {
            let Some((_, s)) = members(nodes, e).find(|(k, _)| *k == "segments") else {
                return Vec::new();
            };
            if !matches!(nodes[s], Node::Array { .. }) {
                return Vec::new();
            }
            elements(nodes, s).filter_map(id_of).collect()
        };
        (0..items.len())
            .map(|i| {
                let repeated_later = match ids[i] {
                    Some(id) if counts[id] > numbers[i] + 1 => {
                        let later: Vec<&'a str> = (i + 1..items.len())
                            .filter(|&j| ids[j] == Some(id))
                            .flat_map(|j| segment_ids(items[j]))
                            .collect();
                        segment_ids(items[i])
                            .into_iter()
                            .filter(|s| later.contains(s))
                            .collect()
                    }
                    _ => Vec::new(),
                };
                Occurrence {
                    number: numbers[i],
                    repeated_later,
                }
            })
            .collect()
    }
}

/// Keys the walk handles itself (not through a column), by bit, to refuse a second occurrence
/// with another value as [`TableBuf::member`] refuses one of a column's key.
#[derive(Default)]
struct Seen(u8);

impl Seen {
    /// Whether this is the first occurrence of the key `k` (bit `bit`) at `v` in the object at
    /// `obj`. A later occurrence with the same value is `false`, counted in `buf`; one with
    /// another value is an error.
    #[allow(clippy::too_many_arguments)]
    fn first(
        &mut self,
        bit: u8,
        nodes: &[Node<'_>],
        obj: usize,
        k: &str,
        v: usize,
        path: &Path<'_>,
        buf: &mut TableBuf,
    ) -> Result<bool, RecordError> {
        if self.0 & bit == 0 {
            self.0 |= bit;
            return Ok(true);
        }
        buf.unless_repeat(Err(err(path, DUPLICATE_KEY)), nodes, obj, k, v)
            .map(|()| false)
    }
}

//! Rows under construction: the column buffers of one table (rolled back when a record is
//! rejected), a leaf value checked and appended by its plan, and the errors that name the JSON
//! path of a bad value. The call-record walk ([`crate::flatten`]) and the side-document walk
//! ([`crate::side`]) both build rows with them.

use std::fmt::Write as _;

use cqlake_schema::{ColumnRole, GroupPlan, Leaf, PropPlan, TableId};
use simd_json::{Node, StaticNode};

use crate::colbuf::ColBuf;
use crate::tape::{
    describe, elements, int_of, members, repeats_earlier, write_json, write_json_str,
};
use crate::values::{parse_decimal, parse_duration_ms, parse_timestamp_us};

/// Why a record was rejected.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordError {
    /// JSON path of the offending value (`$.sessions[0].segments[1].media[0].streams[2].averageJitter`).
    pub path: String,
    /// What was wrong.
    pub message: String,
}

/// The start of the message of every duplicate-key error.
pub(crate) const DUPLICATE_KEY: &str = "duplicate key";

impl RecordError {
    /// A key of an object came twice.
    pub(crate) fn is_duplicate_key(&self) -> bool {
        self.message.starts_with(DUPLICATE_KEY)
    }
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
    pub(crate) fn row(mut self) -> Self {
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
    /// For each exact repeat of a key taken as one value (see [`repeats_earlier`]), the row it
    /// was in (dropped with the row when a record is rolled back).
    pub(crate) repeated: Vec<usize>,
    /// Repeats of rows already taken from the buffers.
    pub(crate) repeated_taken: u64,
}

impl TableBuf {
    /// Empty buffers for table `id`.
    pub(crate) fn new(id: TableId) -> TableBuf {
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
            repeated: Vec::new(),
            repeated_taken: 0,
        }
    }

    /// Counts an exact repeat of a key in the open row.
    fn repeat(&mut self) {
        self.repeated.push(self.rows);
    }

    /// Moves the repeats of the rows held to the count of taken rows (call it when the rows are
    /// taken and the row numbers start again).
    pub(crate) fn rows_taken(&mut self) {
        self.repeated_taken += self.repeated.len() as u64;
        self.repeated.clear();
    }

    /// Exact repeats of keys taken as one value since the last call, and resets the count.
    pub(crate) fn take_repeated(&mut self) -> u64 {
        let n = self.repeated_taken + self.repeated.len() as u64;
        self.repeated_taken = 0;
        self.repeated.clear();
        n
    }

    pub(crate) fn truncate(&mut self, rows: usize) {
        for c in &mut self.cols {
            c.truncate(rows);
        }
        self.rows = rows;
        self.call_row.truncate(rows);
        self.order.truncate(rows);
        self.repeated.retain(|r| *r < rows);
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
        self.extra_entry(path, path.relative(), |buf| write_json(nodes, v, buf))
    }

    /// Appends `key` to the row's `extra` object, its value written by `value`; a key already
    /// there is a duplicate (at `path`).
    fn extra_entry(
        &mut self,
        path: &Path<'_>,
        key: String,
        value: impl FnOnce(&mut String),
    ) -> Res {
        if self.extra_keys.contains(&key) {
            return Err(err(path, DUPLICATE_KEY));
        }
        let buf = &mut self.extra;
        if !buf.is_empty() {
            buf.push(',');
        }
        write_json_str(&key, buf);
        buf.push(':');
        value(buf);
        self.extra_keys.push(key);
        Ok(())
    }

    /// One key of an object of type `plan.group`.
    /// `hint`: where in the group's properties to look first (Graph writes an object's keys in
    /// the order of its type, so the next key is usually the next property).
    #[allow(clippy::too_many_arguments)]
    /// `obj` is the object the key is in: a key repeated there with the same value is one value
    /// (counted in [`TableBuf::repeated`]); with another value it is an error.
    pub(crate) fn member(
        &mut self,
        plan: &GroupPlan,
        nodes: &[Node<'_>],
        obj: usize,
        k: &str,
        v: usize,
        path: &Path<'_>,
        hint: &mut usize,
    ) -> Res {
        let r = self.member_once(plan, nodes, k, v, path, hint);
        self.unless_repeat(r, nodes, obj, k, v)
    }

    /// `r`, except that a duplicate-key error for key `k` at `v` of the object at `obj` that
    /// repeats an earlier occurrence exactly ([`repeats_earlier`]) is no error: the repeat is
    /// counted in the open row and skipped.
    pub(crate) fn unless_repeat(
        &mut self,
        r: Res,
        nodes: &[Node<'_>],
        obj: usize,
        k: &str,
        v: usize,
    ) -> Res {
        match r {
            Err(e) if e.is_duplicate_key() && repeats_earlier(nodes, obj, k, v) => {
                self.repeat();
                Ok(())
            }
            r => r,
        }
    }

    /// [`TableBuf::member`] without the repeat check.
    fn member_once(
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
                        self.member(child, nodes, v, ck, cv, &path.key(ck), &mut hint)?;
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
                return Err(err(path, DUPLICATE_KEY));
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
                            self.unless_repeat(Err(err(&kp, DUPLICATE_KEY)), nodes, e, k, kv)?;
                            continue;
                        }
                        items.pad(starts[pi] + n);
                        set_leaf(items, leaf, nodes, kv, &kp)?;
                    }
                    None => {
                        let r = self.add_extra(&kp, nodes, kv);
                        self.unless_repeat(r, nodes, e, k, kv)?;
                    }
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
            return Err(err(
                path,
                format!("{DUPLICATE_KEY}: the value was already set"),
            ));
        }
        match leaf {
            Leaf::TokenSet => return self.token_set(column, nodes, v, path),
            Leaf::Subnet => return self.subnet(column, nodes, v, path),
            Leaf::Enum(members) => {
                if let Node::String(s) = nodes[v] {
                    let member = enum_member(members, s);
                    col.pad(row);
                    col.push_str(member);
                    if member != s {
                        self.add_raw(path, s)?;
                    }
                    return Ok(());
                }
            }
            _ => {}
        }
        col.pad(row);
        set_leaf(col, leaf, nodes, v, path)
    }

    /// Keeps in `extra` (key `<path>@cqlake.raw`) the spelling of an enum value stored as the
    /// member it matches but for case.
    fn add_raw(&mut self, path: &Path<'_>, raw: &str) -> Res {
        let key = format!("{}@cqlake.raw", path.relative());
        self.extra_entry(path, key, |buf| write_json_str(raw, buf))
    }

    /// A subnet: the address in `column`, the prefix length of CIDR notation in `column + 1`.
    fn subnet(&mut self, column: usize, nodes: &[Node<'_>], v: usize, path: &Path<'_>) -> Res {
        let row = self.rows;
        let s = match nodes[v] {
            Node::Static(StaticNode::Null) => return Ok(()),
            Node::String(s) => s,
            ref n => {
                return Err(err(path, format!("expected a string, got {}", describe(n))));
            }
        };
        if s.is_empty() {
            return Ok(());
        }
        let (address, prefix) = split_cidr(s);
        self.cols[column].pad(row);
        self.cols[column].push_str(address);
        if let Some(p) = prefix {
            self.cols[column + 1].pad(row);
            self.cols[column + 1].push_i32(p);
        }
        Ok(())
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

/// `0001-01-01T00:00:00Z`, in µs since the epoch: what Graph writes for "no time" (the failure
/// time of a call that did not fail); stored as null.
pub(crate) const NO_TIME_US: i64 = -62_135_596_800_000_000;

/// Checks the value at `v` against `leaf` and appends it to `col`.
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
        // In a list (no `extra` to keep the raw spelling in), a member matched but for case is
        // stored as the member.
        Leaf::Enum(members) => match node {
            Node::String(s) => col.push_str(enum_member(members, s)),
            _ => return Err(mismatch("a string")),
        },
        Leaf::TypeName => match node {
            Node::String(s) if s.starts_with('#') => col.push_str(s),
            Node::String(s) => col.push_str(&format!("#{s}")),
            _ => return Err(mismatch("a string")),
        },
        Leaf::Address => match node {
            Node::String("") => col.push_null(),
            Node::String(s) => col.push_str(s),
            _ => return Err(mismatch("a string")),
        },
        Leaf::Subnet => match node {
            Node::String("") => col.push_null(),
            Node::String(s) => col.push_str(split_cidr(s).0),
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
            Node::String(s) => {
                let us = parse_timestamp_us(s)
                    .ok_or_else(|| err(path, format!("invalid timestamp {:?}", excerpt(s))))?;
                if us == NO_TIME_US {
                    col.push_null();
                } else {
                    col.push_i64(us);
                }
            }
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

/// The member of `members` that `s` spells, compared without regard to ASCII case; `s` itself
/// when it matches none (a member Graph added since).
pub(crate) fn enum_member<'a>(members: &'static [&'static str], s: &'a str) -> &'a str {
    if members.contains(&s) {
        return s;
    }
    members
        .iter()
        .find(|m| m.eq_ignore_ascii_case(s))
        .copied()
        .unwrap_or(s)
}

/// `192.168.1.0/24` → (`192.168.1.0`, 24); anything else (no `/`, or a prefix length that is not
/// 0–128) is an address as it is.
pub(crate) fn split_cidr(s: &str) -> (&str, Option<i32>) {
    if let Some((address, bits)) = s.split_once('/')
        && let Ok(n) = bits.trim().parse::<i32>()
        && (0..=128).contains(&n)
        && !address.is_empty()
    {
        return (address.trim(), Some(n));
    }
    (s, None)
}

/// The first 80 characters of `s`, for messages.
pub(crate) fn excerpt(s: &str) -> &str {
    match s.char_indices().nth(80) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn enum_values_take_the_members_spelling() {
        let m = cqlake_schema::graph::enums::CLIENT_PLATFORM;
        assert_eq!(super::enum_member(m, "windows"), "windows");
        assert_eq!(super::enum_member(m, "Windows"), "windows");
        assert_eq!(super::enum_member(m, "MACOS"), "macOS");
        assert_eq!(super::enum_member(m, "tvOS"), "tvOS");
    }

    #[test]
    fn cidr_subnets_split() {
        assert_eq!(
            super::split_cidr("192.168.1.0/24"),
            ("192.168.1.0", Some(24))
        );
        assert_eq!(super::split_cidr("2001:db8::/32"), ("2001:db8::", Some(32)));
        assert_eq!(super::split_cidr("10.0.0.0"), ("10.0.0.0", None));
        assert_eq!(super::split_cidr("10.0.0.0/x"), ("10.0.0.0/x", None));
        assert_eq!(super::split_cidr("10.0.0.0/200"), ("10.0.0.0/200", None));
    }

    #[test]
    fn no_time_is_the_first_instant_of_year_one() {
        assert_eq!(
            crate::values::parse_timestamp_us("0001-01-01T00:00:00Z"),
            Some(super::NO_TIME_US)
        );
        assert_eq!(
            super::NO_TIME_US,
            cqlake_schema::calendar::days_from_civil(1, 1, 1) * 86_400_000_000
        );
    }
}

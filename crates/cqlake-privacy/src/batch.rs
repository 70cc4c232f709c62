//! Batches pseudonymised column by column.

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, ListArray, RecordBatch, StringArray, StringBuilder};
use arrow::datatypes::DataType;
use cqlake_schema::batch::{FlatParts, SideBatch};
use cqlake_schema::{Column, ColumnRole, SideTable, TableId};

use crate::{Error, Pseudonymiser, Result};

/// The side-table columns that hold Graph links (a recordings query names its organizer inside
/// its URL): only the user ids inside them are replaced, so that `pull` can put them back.
const LINK_COLUMNS: &[(SideTable, &str)] = &[
    (SideTable::SyncState, "query"),
    (SideTable::SyncState, "resume_link"),
    (SideTable::SyncState, "delta_link"),
    (SideTable::SyncState, "next_link"),
];

/// Whether column `name` of side table `t` holds links whose user ids are replaced (rather
/// than the whole value).
pub fn is_link_column(t: SideTable, name: &str) -> bool {
    LINK_COLUMNS.contains(&(t, name))
}

/// The suffix of an `extra` key that keeps an enum's own spelling (not personal).
const RAW_SPELLING: &str = "@cqlake.raw";

/// How a column's values are replaced.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// The whole value becomes its token.
    Value,
    /// The user ids inside a link become their tokens.
    Link,
    /// Every string value inside the JSON text becomes its token.
    Json,
}

/// Tokens of batches under one key, each distinct value's token made once (values repeat: one
/// person's UPN is in every session, segment and stream of their calls).
pub struct Tokeniser<'a> {
    p: &'a Pseudonymiser,
    cache: HashMap<Box<str>, Box<str>>,
}

impl<'a> Tokeniser<'a> {
    pub(crate) fn new(p: &'a Pseudonymiser) -> Self {
        Tokeniser {
            p,
            cache: HashMap::new(),
        }
    }

    fn token(&mut self, value: &str) -> &str {
        if !self.cache.contains_key(value) {
            if self.cache.len() >= 1 << 20 {
                self.cache.clear();
            }
            let t = self.p.token(value).into_boxed_str();
            self.cache.insert(value.into(), t);
        }
        &self.cache[value]
    }

    fn replace(&mut self, mode: Mode, value: &str, out: &mut String) {
        out.clear();
        match mode {
            Mode::Value => out.push_str(self.token(value)),
            Mode::Link => out.push_str(&map_link_ids(value, |id| self.token(id).to_string())),
            Mode::Json => out.push_str(&self.json(value)),
        }
    }

    /// `text`, the JSON of an `extra` cell, with every string value (at any depth) replaced by
    /// its token; object keys, numbers and booleans stay, and so do the values of
    /// `…@cqlake.raw` keys (an enum's own spelling). Text that is not JSON becomes one token.
    pub fn json(&mut self, text: &str) -> String {
        match serde_json::from_str::<serde_json::Value>(text) {
            Ok(mut v) => {
                match &mut v {
                    serde_json::Value::Object(m) => {
                        for (k, v) in m.iter_mut() {
                            if !k.ends_with(RAW_SPELLING) {
                                self.walk(v);
                            }
                        }
                    }
                    other => self.walk(other),
                }
                v.to_string()
            }
            Err(_) => self.token(text).to_string(),
        }
    }

    fn walk(&mut self, v: &mut serde_json::Value) {
        match v {
            serde_json::Value::String(s) => *s = self.token(s).to_string(),
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| self.walk(v)),
            serde_json::Value::Object(m) => m.values_mut().for_each(|v| self.walk(v)),
            _ => {}
        }
    }

    /// `batch` (of a table whose columns are `columns`) with the values of its personal
    /// columns replaced; `context` false leaves `streams`' context columns (null placeholders
    /// still, made later from the parent tables' batches).
    pub fn batch(
        &mut self,
        table: &str,
        columns: &[Column],
        links: impl Fn(&str) -> bool,
        batch: &RecordBatch,
        context: bool,
    ) -> Result<RecordBatch> {
        let mut arrays: Vec<ArrayRef> = batch.columns().to_vec();
        let mut changed = false;
        for (i, c) in columns.iter().enumerate() {
            if !c.personal || (!context && matches!(c.role, ColumnRole::Context { .. })) {
                continue;
            }
            if arrays[i].null_count() == arrays[i].len() {
                continue;
            }
            let mode = if c.role == ColumnRole::Extra
                || matches!(c.role, ColumnRole::Context { table, column }
                    if table.table().columns[column].role == ColumnRole::Extra)
            {
                Mode::Json
            } else if links(&c.name) {
                Mode::Link
            } else {
                Mode::Value
            };
            arrays[i] = self
                .array(&arrays[i], mode)
                .map_err(|source| Error::Arrow {
                    table: table.into(),
                    column: c.name.clone(),
                    source,
                })?;
            changed = true;
        }
        if !changed {
            return Ok(batch.clone());
        }
        RecordBatch::try_new(batch.schema(), arrays).map_err(|source| Error::Arrow {
            table: table.into(),
            column: "*".into(),
            source,
        })
    }

    fn array(&mut self, a: &ArrayRef, mode: Mode) -> arrow::error::Result<ArrayRef> {
        Ok(match a.data_type() {
            DataType::Utf8 => Arc::new(self.strings(a.as_string::<i32>(), mode)),
            DataType::List(field) if field.data_type() == &DataType::Utf8 => {
                let list = a.as_list::<i32>();
                let values = self.strings(list.values().as_string::<i32>(), mode);
                Arc::new(ListArray::try_new(
                    field.clone(),
                    list.offsets().clone(),
                    Arc::new(values),
                    list.nulls().cloned(),
                )?)
            }
            other => {
                return Err(arrow::error::ArrowError::InvalidArgumentError(format!(
                    "a personal column must hold strings, not {other}"
                )));
            }
        })
    }

    fn strings(&mut self, a: &StringArray, mode: Mode) -> StringArray {
        let mut b = StringBuilder::with_capacity(a.len(), a.len() * 36);
        let mut buf = String::new();
        for v in a.iter() {
            match v {
                None => b.append_null(),
                Some(v) => {
                    self.replace(mode, v, &mut buf);
                    b.append_value(&buf);
                }
            }
        }
        b.finish()
    }

    /// Every table of `parts` pseudonymised (`streams`' context columns are made later from
    /// the parents, pseudonymised already).
    pub fn flat(&mut self, parts: &mut FlatParts) -> Result<()> {
        parts.try_map_batches(|t: TableId, batch, context| {
            self.batch(t.name(), &t.table().columns, |_| false, batch, context)
        })
    }

    /// Every side table of `side` pseudonymised.
    pub fn side(&mut self, side: &mut SideBatch) -> Result<()> {
        for t in SideTable::ALL {
            let b = &side.batches[t.index()];
            if b.num_rows() > 0 {
                let def = t.def();
                side.batches[t.index()] =
                    self.batch(t.name(), &def.columns, |c| is_link_column(t, c), b, true)?;
            }
        }
        Ok(())
    }
}

/// `link` with the user ids inside it (`meetingOrganizerUserId='ID'`, `users(ID)`,
/// `users('ID')`, `users/ID/`) replaced by `f(ID)`.
pub(crate) fn map_link_ids(link: &str, mut f: impl FnMut(&str) -> String) -> String {
    // (what comes before an id, the characters that end it)
    const PATTERNS: &[(&str, &[char])] = &[
        ("meetingOrganizerUserId='", &['\'']),
        ("users('", &['\'']),
        ("users(", &[')']),
        ("/users/", &['/', '?', '#']),
    ];
    let mut out = String::with_capacity(link.len() + 64);
    let mut rest = link;
    loop {
        // The earliest pattern in what is left.
        let next = PATTERNS
            .iter()
            .filter_map(|(p, ends)| rest.find(p).map(|at| (at, *p, *ends)))
            .min_by_key(|(at, p, _)| (*at, std::cmp::Reverse(p.len())));
        let Some((at, pattern, ends)) = next else {
            out.push_str(rest);
            return out;
        };
        let start = at + pattern.len();
        out.push_str(&rest[..start]);
        let len = rest[start..].find(ends).unwrap_or(rest.len() - start);
        let id = &rest[start..start + len];
        if id.is_empty() {
            // `users()` or `users//`: nothing to replace.
        } else {
            out.push_str(&f(id));
        }
        rest = &rest[start + len..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PseudonymKey;
    use arrow::array::{Int32Array, ListBuilder};
    use cqlake_schema::tables;

    fn p() -> Pseudonymiser {
        Pseudonymiser::new(&PseudonymKey::new(vec![9; 32]).unwrap())
    }

    #[test]
    fn every_personal_column_holds_strings() {
        let call_tables = tables().iter().map(|t| (t.name(), &t.columns));
        let side = cqlake_schema::side_tables()
            .iter()
            .map(|t| (t.name(), &t.columns));
        for (name, columns) in call_tables.chain(side) {
            for c in columns.iter().filter(|c| c.personal) {
                let ok = c.data_type == DataType::Utf8
                    || c.data_type == cqlake_schema::list_of(DataType::Utf8);
                assert!(
                    ok,
                    "{name}.{} is personal but holds {}",
                    c.name, c.data_type
                );
            }
        }
    }

    #[test]
    fn personal_columns_are_replaced_and_the_others_kept() {
        let p = p();
        let mut t = p.tokeniser();
        let columns = TableId::Media.table().columns.clone();
        // A media batch with two rows: an IP, a subnet, a relay address, hop addresses, extra.
        let schema = TableId::Media.table().schema();
        let arrays: Vec<ArrayRef> = columns
            .iter()
            .map(|c| -> ArrayRef {
                match (c.name.as_str(), &c.data_type) {
                    ("caller_network_ip_address", _) => {
                        Arc::new(StringArray::from(vec![Some("10.1.2.3"), None]))
                    }
                    ("caller_network_subnet", _) => {
                        Arc::new(StringArray::from(vec![Some("10.1.2.0"), Some("10.9.0.0")]))
                    }
                    ("caller_network_relay_ip_address", _) => {
                        Arc::new(StringArray::from(vec![Some("52.112.0.1"), None]))
                    }
                    ("caller_network_trace_route_hops_ip_address", _) => {
                        let mut b = ListBuilder::new(StringBuilder::new())
                            .with_field(Arc::new(arrow::datatypes::Field::new(
                                "element",
                                DataType::Utf8,
                                true,
                            )));
                        b.values().append_value("192.168.1.1");
                        b.values().append_null();
                        b.append(true);
                        b.append(false);
                        Arc::new(b.finish())
                    }
                    ("extra", _) => Arc::new(StringArray::from(vec![
                        Some(r#"{"caller.x.owner":"Jane Doe","caller.y@cqlake.raw":"Wired","n":[1,"a"]}"#),
                        None,
                    ])),
                    (_, DataType::Utf8) if !c.nullable => Arc::new(StringArray::from(vec!["k"; 2])),
                    (_, DataType::Int32) if !c.nullable => Arc::new(Int32Array::from(vec![0; 2])),
                    (_, DataType::Date32) if !c.nullable => {
                        Arc::new(arrow::array::Date32Array::from(vec![0; 2]))
                    }
                    (_, dt) => arrow::array::new_null_array(dt, 2),
                }
            })
            .collect();
        let batch = RecordBatch::try_new(schema, arrays).unwrap();
        let out = t.batch("media", &columns, |_| false, &batch, true).unwrap();
        let col = |name: &str| {
            out.column(columns.iter().position(|c| c.name == name).unwrap())
                .clone()
        };
        let ip = col("caller_network_ip_address");
        assert_eq!(ip.as_string::<i32>().value(0), p.token("10.1.2.3"));
        assert!(ip.is_null(1));
        let subnet = col("caller_network_subnet");
        assert_eq!(subnet.as_string::<i32>().value(1), "10.9.0.0");
        assert_eq!(
            col("caller_network_relay_ip_address")
                .as_string::<i32>()
                .value(0),
            "52.112.0.1"
        );
        let hops = col("caller_network_trace_route_hops_ip_address");
        let hops = hops.as_list::<i32>();
        let first = hops.value(0);
        assert_eq!(first.as_string::<i32>().value(0), p.token("192.168.1.1"));
        assert!(first.is_null(1) && hops.is_null(1));
        let extra: serde_json::Value =
            serde_json::from_str(col("extra").as_string::<i32>().value(0)).unwrap();
        assert_eq!(extra["caller.x.owner"], p.token("Jane Doe"));
        assert_eq!(extra["caller.y@cqlake.raw"], "Wired");
        assert_eq!(extra["n"][0], 1);
        assert_eq!(extra["n"][1], p.token("a"));
        // Not a string column: refused, naming the column.
        let bad = RecordBatch::try_from_iter([(
            "caller_network_ip_address",
            Arc::new(Int32Array::from(vec![1])) as ArrayRef,
        )])
        .unwrap();
        let ip_col = columns
            .iter()
            .find(|c| c.name == "caller_network_ip_address")
            .unwrap();
        let e = t
            .batch("media", std::slice::from_ref(ip_col), |_| false, &bad, true)
            .unwrap_err();
        assert!(e.to_string().contains("caller_network_ip_address"), "{e}");
    }
}

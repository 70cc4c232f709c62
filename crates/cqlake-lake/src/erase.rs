//! Erasing one person (`cqlake forget`): cells of the lake set to null, as one group.
//!
//! An [`Erasure`] says what to erase: a set of values (ids, UPNs, e-mail addresses, phone
//! numbers of the person) nulled wherever a personal column holds one — list items and the
//! string values of `extra` included — and [`Rule`]s for the cells that are the person's by
//! position rather than by value (the display name, machine name, IP and MAC addresses of the
//! endpoint they used). Each partition of a call table where anything changes is rewritten
//! whole (the rest are left alone), and the new files replace the old ones in one group,
//! `calls` last; the side tables are updated by Delta's UPDATE and DELETE.
//!
//! The replaced files are recorded in [`ERASED_FILE`]: the next [`LakeWriter::vacuum`] deletes
//! them whatever its retention, and cuts the Delta logs (whose column statistics may hold the
//! values) back to a checkpoint of the current version.

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, BooleanBufferBuilder, ListArray, StringArray,
    StringBuilder,
};
use arrow::datatypes::DataType;
use cqlake_schema::{ColumnRole, SideTable, TableId};
use deltalake::kernel::Action;
use deltalake::protocol::DeltaOperation;

use crate::delta::LakeWriter;
use crate::side::open_side_table;
use crate::table::delta_err_of;
use crate::{Error, LakeLocation, Result};

/// The object, at the lake's root, that lists the data files an erasure replaced (paths
/// relative to the lake), for the next vacuum.
pub const ERASED_FILE: &str = "_cqlake_erased.json";

/// Cells to set to null in the rows a rule selects.
#[derive(Debug, Clone)]
pub struct Rule {
    /// The columns whose values, together, select a row.
    pub when: Vec<String>,
    /// The value tuples (as text, in `when`'s order) that select a row.
    pub values: HashSet<Vec<String>>,
    /// The columns set to null in a selected row (nullable columns).
    pub null: Vec<String>,
}

/// A side table's rows to change: those whose column `when` holds one of `values` get the
/// columns `null` set to null, or are deleted when `delete`.
#[derive(Debug, Clone)]
pub struct SideRule {
    /// The column that selects a row.
    pub when: String,
    /// The values that select it.
    pub values: BTreeSet<String>,
    /// The columns set to null.
    pub null: Vec<String>,
    /// Delete the row instead.
    pub delete: bool,
}

/// What to erase: see [the module](self).
#[derive(Debug, Clone, Default)]
pub struct Erasure {
    /// Values nulled in every personal column (and inside `extra`) that holds one.
    pub values: HashSet<String>,
    /// Per call table (in [`TableId::ALL`] order), the cells erased by position.
    pub rules: [Vec<Rule>; 6],
    /// The side tables' rows.
    pub side: Vec<(SideTable, SideRule)>,
    /// Values whose lines go from the text the lake keeps beside its tables: a line of
    /// `_rejects/` that holds one keeps its position and loses its excerpt and message.
    pub texts: HashSet<String>,
}

/// What an erasure changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EraseStats {
    /// Rows changed, per call table (in [`TableId::ALL`] order).
    pub rows: [u64; 6],
    /// Rows of the partitions rewritten, per call table.
    pub rows_rewritten: [u64; 6],
    /// Rows changed or deleted, per side table (in [`SideTable::ALL`] order).
    pub side_rows: [u64; SideTable::ALL.len()],
    /// Partitions rewritten.
    pub partitions: u64,
    /// Data files replaced.
    pub files_removed: u64,
    /// Lines of `_rejects/` cleared.
    pub reject_lines: u64,
}

/// An [`Erasure`] for one call table, by column index.
pub(crate) struct TableEdit {
    /// The table's number of columns.
    columns: usize,
    values: Arc<HashSet<String>>,
    /// Personal columns of strings (or lists of strings), `extra` aside.
    personal: Vec<usize>,
    /// `extra` columns (the table's own and, in `streams`, its parents').
    extra: Vec<usize>,
    rules: Vec<IndexedRule>,
}

/// A [`Rule`] by column index: the `when` columns, the tuples that select a row, the columns
/// nulled.
type IndexedRule = (Vec<usize>, HashSet<Vec<String>>, Vec<usize>);

/// The edit of a run of rows: which columns to null in which rows.
pub(crate) struct RunEdit<'a> {
    edit: &'a TableEdit,
    /// Per column, the rows whose cell the rules null.
    nulls: Vec<Option<BooleanArray>>,
}

impl TableEdit {
    pub(crate) fn new(t: TableId, e: &Erasure) -> Result<Self> {
        let table = t.table();
        let index = |name: &str| {
            table.column_index(name).ok_or_else(|| {
                Error::Location(format!("forget: {} has no column {name}", t.name()))
            })
        };
        let mut rules = Vec::new();
        for r in &e.rules[t.index()] {
            let when = r
                .when
                .iter()
                .map(|c| index(c))
                .collect::<Result<Vec<_>>>()?;
            let null = r
                .null
                .iter()
                .map(|c| index(c))
                .collect::<Result<Vec<_>>>()?;
            if let Some(&i) = null.iter().find(|&&i| !table.columns[i].nullable) {
                return Err(Error::Location(format!(
                    "forget: {}.{} cannot be null",
                    t.name(),
                    table.columns[i].name
                )));
            }
            rules.push((when, r.values.clone(), null));
        }
        let is_extra = |role: &ColumnRole| match role {
            ColumnRole::Extra => true,
            ColumnRole::Context { table, column } => {
                table.table().columns[*column].role == ColumnRole::Extra
            }
            _ => false,
        };
        let mut personal = Vec::new();
        let mut extra = Vec::new();
        for (i, c) in table.columns.iter().enumerate() {
            if is_extra(&c.role) {
                extra.push(i);
            } else if c.personal && c.nullable {
                personal.push(i);
            }
        }
        Ok(TableEdit {
            columns: table.columns.len(),
            values: Arc::new(e.values.clone()),
            personal,
            extra,
            rules,
        })
    }

    /// The columns a run's edit reads before it can say what changes.
    pub(crate) fn inputs(&self) -> BTreeSet<usize> {
        let mut out: BTreeSet<usize> = self.personal.iter().chain(&self.extra).copied().collect();
        for (when, _, _) in &self.rules {
            out.extend(when);
        }
        out
    }

    /// The edit of a run of `rows` rows, its rule masks made from the `when` columns `read`
    /// returns.
    pub(crate) fn run(
        &self,
        rows: usize,
        read: &dyn Fn(usize) -> Result<ArrayRef>,
    ) -> Result<RunEdit<'_>> {
        let mut nulls: Vec<Option<BooleanArray>> = vec![None; self.columns];
        for (when, values, null) in &self.rules {
            let arrays = when
                .iter()
                .map(|&i| Ok(arrow::compute::cast(&read(i)?, &DataType::Utf8)?))
                .collect::<Result<Vec<_>>>()?;
            let strings: Vec<&StringArray> = arrays.iter().map(|a| a.as_string::<i32>()).collect();
            let mut mask = BooleanBufferBuilder::new(rows);
            let mut any = false;
            let mut tuple: Vec<String> = Vec::with_capacity(when.len());
            for r in 0..rows {
                tuple.clear();
                let mut complete = true;
                for s in &strings {
                    if s.is_null(r) {
                        complete = false;
                        break;
                    }
                    tuple.push(s.value(r).to_string());
                }
                let hit = complete && values.contains(&tuple);
                any |= hit;
                mask.append(hit);
            }
            if !any {
                continue;
            }
            let mask = BooleanArray::new(mask.finish(), None);
            for &c in null {
                nulls[c] = Some(match nulls[c].take() {
                    None => mask.clone(),
                    Some(m) => arrow::compute::or(&m, &mask)?,
                });
            }
        }
        Ok(RunEdit { edit: self, nulls })
    }
}

impl RunEdit<'_> {
    /// Whether a rule selected any row.
    pub(crate) fn nulls_any(&self) -> bool {
        self.nulls.iter().any(Option::is_some)
    }

    /// Column `i` of the run as it is read, edited; and per row whether it changed.
    pub(crate) fn apply(&self, i: usize, a: ArrayRef) -> Result<(ArrayRef, Option<BooleanArray>)> {
        let mut a = a;
        let mut changed: Option<BooleanArray> = None;
        let mut mark = |m: BooleanArray| -> Result<()> {
            changed = Some(match changed.take() {
                None => m,
                Some(c) => arrow::compute::or(&c, &m)?,
            });
            Ok(())
        };
        if let Some(Some(mask)) = self.nulls.get(i) {
            // Only the rows whose cell held a value change.
            let had = BooleanArray::from(a.logical_nulls().map_or_else(
                || vec![true; a.len()],
                |n| (0..a.len()).map(|r| n.is_valid(r)).collect(),
            ));
            mark(arrow::compute::and(mask, &had)?)?;
            a = arrow::compute::nullif(&a, mask)?;
        }
        let values = &self.edit.values;
        if !values.is_empty() {
            if self.edit.personal.contains(&i) {
                if let Some((edited, m)) = null_values(&a, values)? {
                    a = edited;
                    mark(m)?;
                }
            } else if self.edit.extra.contains(&i)
                && let Some((edited, m)) = scrub_json(&a, values)?
            {
                a = edited;
                mark(m)?;
            }
        }
        Ok((a, changed))
    }
}

/// `a` (strings, or lists of strings) with the cells (or list items) equal to one of `values`
/// null, and per row whether it changed; `None` when nothing did.
fn null_values(a: &ArrayRef, values: &HashSet<String>) -> Result<Option<(ArrayRef, BooleanArray)>> {
    match a.data_type() {
        DataType::Utf8 => {
            let s = a.as_string::<i32>();
            let hits: Vec<bool> = s
                .iter()
                .map(|v| v.is_some_and(|v| values.contains(v)))
                .collect();
            if !hits.contains(&true) {
                return Ok(None);
            }
            let mask = BooleanArray::from(hits);
            Ok(Some((arrow::compute::nullif(a, &mask)?, mask)))
        }
        DataType::List(field) if field.data_type() == &DataType::Utf8 => {
            let list = a.as_list::<i32>();
            let items: ArrayRef = list.values().clone();
            let Some((edited, item_hits)) = null_values(&items, values)? else {
                return Ok(None);
            };
            let offsets = list.offsets();
            let rows: Vec<bool> = (0..list.len())
                .map(|r| {
                    let (from, to) = (offsets[r] as usize, offsets[r + 1] as usize);
                    (from..to).any(|k| item_hits.value(k))
                })
                .collect();
            let out = ListArray::try_new(
                field.clone(),
                offsets.clone(),
                edited,
                list.nulls().cloned(),
            )?;
            Ok(Some((Arc::new(out), BooleanArray::from(rows))))
        }
        _ => Ok(None),
    }
}

/// `a`, JSON texts, with every string value equal to one of `values` (at any depth) made null,
/// and per row whether it changed; `None` when nothing did.
fn scrub_json(a: &ArrayRef, values: &HashSet<String>) -> Result<Option<(ArrayRef, BooleanArray)>> {
    fn walk(v: &mut serde_json::Value, values: &HashSet<String>) -> bool {
        match v {
            serde_json::Value::String(s) if values.contains(s.as_str()) => {
                *v = serde_json::Value::Null;
                true
            }
            serde_json::Value::Array(items) => {
                items.iter_mut().fold(false, |c, v| walk(v, values) | c)
            }
            serde_json::Value::Object(m) => m.values_mut().fold(false, |c, v| walk(v, values) | c),
            _ => false,
        }
    }
    let s = a.as_string::<i32>();
    let mut out = StringBuilder::with_capacity(s.len(), s.value_data().len());
    let mut hits = Vec::with_capacity(s.len());
    for v in s.iter() {
        match v {
            None => {
                out.append_null();
                hits.push(false);
            }
            Some(text) if values.iter().any(|x| text.contains(x.as_str())) => {
                match serde_json::from_str::<serde_json::Value>(text) {
                    Ok(mut json) => {
                        if walk(&mut json, values) {
                            out.append_value(json.to_string());
                            hits.push(true);
                        } else {
                            out.append_value(text);
                            hits.push(false);
                        }
                    }
                    // Not JSON: the whole text goes.
                    Err(_) => {
                        out.append_null();
                        hits.push(true);
                    }
                }
            }
            Some(text) => {
                out.append_value(text);
                hits.push(false);
            }
        }
    }
    if !hits.contains(&true) {
        return Ok(None);
    }
    Ok(Some((Arc::new(out.finish()), BooleanArray::from(hits))))
}

/// The paths (relative to the lake) an erasure replaced that no vacuum deleted yet.
pub(crate) async fn erased_files(lake: &LakeLocation) -> Result<Vec<String>> {
    let Some(v) = lake.read_json(ERASED_FILE).await? else {
        return Ok(Vec::new());
    };
    Ok(v.get("files")
        .and_then(|f| f.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|p| p.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default())
}

/// Records `paths` (relative to the lake) as replaced by an erasure, with those recorded
/// already; `None` clears the record.
pub(crate) async fn record_erased(lake: &LakeLocation, paths: Option<Vec<String>>) -> Result<()> {
    let files = match paths {
        None => Vec::new(),
        Some(p) => {
            let mut all = erased_files(lake).await?;
            all.extend(p);
            all
        }
    };
    let body = serde_json::json!({ "files": files }).to_string();
    lake.write_object(ERASED_FILE, body.into_bytes(), false)
        .await
}

impl LakeWriter {
    /// Applies `e` (see [the module](self)) as one group, then releases the lake.
    pub async fn erase(mut self, e: &Erasure, threads: usize) -> Result<EraseStats> {
        let group_id = format!("{}-forget", self.run_id);
        let mut stats = EraseStats::default();
        let mut erased: Vec<String> = Vec::new();
        let mut committed = false;
        for t in crate::delta::calls_last() {
            let edit = TableEdit::new(t, e)?;
            let (partitions, mut removes) = self.partitions(t, &crate::Optimize::new())?;
            let done = self
                .rewrite_all(t, &partitions, &removes, threads, Some(&edit))
                .await?;
            let mut actions = Vec::new();
            for (p, r) in partitions.iter().zip(done) {
                let Some(r) = r else { continue };
                stats.partitions += 1;
                stats.rows[t.index()] += r.changed;
                stats.rows_rewritten[t.index()] += r.rows;
                for f in &p.files {
                    let (_, remove) = removes.remove(f).expect("listed");
                    stats.files_removed += 1;
                    erased.push(format!("{}/{}", t.name(), remove.path));
                    actions.push(Action::Remove(remove));
                }
            }
            for (table, add) in self.files.close_all()? {
                debug_assert_eq!(table, t);
                actions.push(add);
            }
            let finish = t == TableId::Calls;
            if actions.is_empty() && !(finish && committed) {
                continue;
            }
            let operation = DeltaOperation::Update {
                predicate: Some("forget".into()),
            };
            self.commit_actions(t, actions, operation, &group_id, finish)
                .await?;
            committed = true;
        }
        for (s, rule) in &e.side {
            self.check_lock()?;
            let (rows, files) = erase_side(&self.lake, *s, rule).await?;
            stats.side_rows[s.index()] += rows;
            erased.extend(files);
        }
        if !erased.is_empty() {
            record_erased(&self.lake, Some(erased)).await?;
        }
        self.check_lock()?;
        stats.reject_lines = scrub_rejects(&self.lake, &e.texts).await?;
        self.release().await?;
        Ok(stats)
    }
}

/// A SQL string literal of `v`.
fn literal(v: &str) -> String {
    format!("'{}'", v.replace('\'', "''"))
}

/// Applies `rule` to side table `s`: rows changed or deleted, and the data files replaced
/// (relative to the lake).
async fn erase_side(
    lake: &LakeLocation,
    s: SideTable,
    rule: &SideRule,
) -> Result<(u64, Vec<String>)> {
    if rule.values.is_empty() || !crate::table::has_table(lake, s.name()).await? {
        return Ok((0, Vec::new()));
    }
    let table = open_side_table(lake, s).await?;
    let de = delta_err_of(s.name());
    let files = |t: &deltalake::DeltaTable| -> Result<HashSet<String>> {
        let snapshot = t.snapshot().map_err(&de)?;
        Ok(snapshot
            .log_data()
            .iter()
            .map(|f| f.path().to_string())
            .collect())
    };
    let before = files(&table)?;
    let list: Vec<String> = rule.values.iter().map(|v| literal(v)).collect();
    let predicate = format!("{} IN ({})", rule.when, list.join(", "));
    let (table, rows) = if rule.delete {
        let (t, m) = table
            .delete()
            .with_predicate(predicate)
            .await
            .map_err(&de)?;
        (t, m.num_deleted_rows.unwrap_or(0) as u64)
    } else {
        let mut u = table.update().with_predicate(predicate);
        for c in &rule.null {
            u = u.with_update(c.as_str(), "NULL");
        }
        let (t, m) = u.await.map_err(&de)?;
        (t, m.num_updated_rows as u64)
    };
    let after = files(&table)?;
    let replaced = before
        .difference(&after)
        .map(|p| format!("{}/{p}", s.name()))
        .collect();
    Ok((rows, replaced))
}

/// The rejects directory of a lake.
const REJECTS: &str = "_rejects";

/// Clears the lines of `_rejects/*.ndjson` that hold one of `texts`: they keep the input's
/// name, line, offset and path, and lose the excerpt and the message. How many.
async fn scrub_rejects(lake: &LakeLocation, texts: &HashSet<String>) -> Result<u64> {
    if texts.is_empty() {
        return Ok(0);
    }
    let mut names = Vec::new();
    match lake.as_local() {
        Some(root) => {
            let dir = root.join(REJECTS);
            if let Ok(entries) = std::fs::read_dir(&dir) {
                for e in entries.flatten() {
                    names.push(format!("{REJECTS}/{}", e.file_name().to_string_lossy()));
                }
            }
        }
        None => {
            use futures::TryStreamExt;
            let prefix = deltalake::Path::from(REJECTS);
            let listed: Vec<_> = lake
                .store()?
                .list(Some(&prefix))
                .try_collect()
                .await
                .map_err(|source| Error::Store {
                    location: lake.join(REJECTS).to_string(),
                    source,
                })?;
            names.extend(listed.into_iter().map(|m| m.location.to_string()));
        }
    }
    let mut cleared = 0;
    for name in names.iter().filter(|n| n.ends_with(".ndjson")) {
        let Some(bytes) = lake.read_object(name).await? else {
            continue;
        };
        let text = String::from_utf8_lossy(&bytes);
        let mut out = String::with_capacity(text.len());
        let mut changed = false;
        for line in text.lines() {
            if texts.iter().any(|t| line.contains(t.as_str())) {
                let mut v: serde_json::Value =
                    serde_json::from_str(line).unwrap_or(serde_json::Value::Null);
                if let Some(m) = v.as_object_mut() {
                    m.insert("excerpt".into(), serde_json::Value::Null);
                    m.insert("error".into(), "erased by cqlake forget".into());
                    if m.get("path")
                        .and_then(|p| p.as_str())
                        .is_some_and(|p| texts.iter().any(|t| p.contains(t.as_str())))
                    {
                        m.insert("path".into(), serde_json::Value::Null);
                    }
                    out.push_str(&v.to_string());
                } else {
                    out.push_str(r#"{"error":"erased by cqlake forget"}"#);
                }
                changed = true;
                cleared += 1;
            } else {
                out.push_str(line);
            }
            out.push('\n');
        }
        if changed {
            lake.write_object(name, out.into_bytes(), false).await?;
        }
    }
    Ok(cleared)
}

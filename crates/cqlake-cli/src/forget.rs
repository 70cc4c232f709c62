//! `cqlake forget`: one person erased from the lake.
//!
//! The person is found by the value given (a UPN, user id, e-mail address, phone identity or
//! display name; its token on a pseudonymised lake) in the scopes of every table (see
//! [`cqlake_privacy::person`]), and the ids found beside it are looked for in turn, until no
//! new one turns up. Then every scope they are in — endpoint, organizer, participant, log row —
//! has its personal columns set to null, and the network addresses of the segments where they
//! were the caller or the callee too, in one group (`cqlake_lake::Erasure`). `streams` keeps
//! only some columns of a segment's, session's or call's scopes, so its copies are erased by
//! the keys of the parent rows the person was found in.

use std::collections::{BTreeSet, HashSet};
use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, bail};
use arrow::array::AsArray;
use arrow::datatypes::DataType;
use cqlake_lake::{Erasure, Personal, Rule, SideRule};
use cqlake_privacy::person::{Scope, network_columns, scopes};
use cqlake_query::{Engine, EngineOptions};
use cqlake_schema::{SideTable, TableId};

use crate::args::ForgetArgs;

/// Rounds of looking for the ids found beside the person's (a UPN leads to an id, which leads
/// to the guest and phone identities of the same person, …).
const ROUNDS: usize = 4;

/// The parent tables of a stream whose scopes `streams` copies, with the keys that find a
/// stream's parent row.
const PARENT_KEYS: [(TableId, &[&str]); 3] = [
    (TableId::Segments, &["call_id", "session_id", "segment_id"]),
    (TableId::Sessions, &["call_id", "session_id"]),
    (TableId::Calls, &["call_id"]),
];

/// The key columns of a stream's parent table, and the keys of some of its rows.
type ParentRows = (&'static [&'static str], HashSet<Vec<String>>);

/// A SQL string literal.
fn literal(v: &str) -> String {
    format!("'{}'", v.replace('\'', "''"))
}

/// `col IN ('a', 'b')`.
fn one_of(col: &str, values: &BTreeSet<String>) -> String {
    let list: Vec<String> = values.iter().map(|v| literal(v)).collect();
    format!("\"{col}\" IN ({})", list.join(", "))
}

/// The tables a person is looked for in (`media` and `streams` hold copies), with their scopes.
fn tables() -> Vec<(&'static str, Vec<Scope>)> {
    let call = [
        TableId::Calls,
        TableId::Participants,
        TableId::Sessions,
        TableId::Segments,
    ]
    .into_iter()
    .map(|t| (t.name(), scopes(&t.table().columns)));
    let side = SideTable::ALL
        .into_iter()
        .map(|s| (s.name(), scopes(&s.def().columns)));
    call.chain(side).filter(|(_, s)| !s.is_empty()).collect()
}

/// Who the person is in the lake.
struct Person {
    /// Their ids, UPNs and e-mail addresses (and the value given).
    ids: BTreeSet<String>,
    /// Their display names found beside those ids (for the rejects' text).
    names: BTreeSet<String>,
    /// Whether the value given is a display name in the lake.
    by_name: bool,
    /// By scope path (`segment.caller`, `session.callee`, `callRecord.organizer`, …): the key
    /// columns of the parent table that has the scope ([`PARENT_KEYS`]), and the keys of its
    /// rows where they are in that scope.
    rows: std::collections::BTreeMap<String, ParentRows>,
}

/// Every non-null value of the string columns of `rows`.
fn values_of(rows: &cqlake_query::Rows) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    for b in &rows.batches {
        for c in b.columns() {
            let c = arrow::compute::cast(c, &DataType::Utf8)?;
            out.extend(c.as_string::<i32>().iter().flatten().map(str::to_string));
        }
    }
    Ok(out)
}

fn find(rt: &tokio::runtime::Runtime, engine: &Engine, value: &str) -> anyhow::Result<Person> {
    let sql = |q: String| -> anyhow::Result<cqlake_query::Rows> {
        rt.block_on(engine.sql(&q))
            .with_context(|| format!("looking for the person: {q}"))
    };
    // The values of the columns `select` of `table`'s rows where a column of `when` holds one
    // of `values`.
    let lookup = |table: &str,
                  select: &[String],
                  when: &[String],
                  values: &BTreeSet<String>|
     -> anyhow::Result<Vec<String>> {
        let cond: Vec<String> = when.iter().map(|c| one_of(c, values)).collect();
        let cols: Vec<String> = select.iter().map(|c| format!("\"{c}\"")).collect();
        values_of(&sql(format!(
            "SELECT DISTINCT {} FROM {table} WHERE {}",
            cols.join(", "),
            cond.join(" OR ")
        ))?)
    };
    let given: BTreeSet<String> = [value.to_string()].into();
    let mut ids = given.clone();
    let both = |s: &&Scope| !s.names.is_empty() && !s.ids.is_empty();
    // Is the value a display name?
    let mut by_name = false;
    for (table, scopes) in tables() {
        for s in scopes.iter().filter(both) {
            let found = lookup(table, &s.ids, &s.names, &given)?;
            by_name |= !found.is_empty();
            ids.extend(found);
        }
    }
    for _ in 0..ROUNDS {
        let before = ids.len();
        for (table, scopes) in tables() {
            for s in scopes.iter().filter(|s| !s.ids.is_empty()) {
                let found = lookup(table, &s.ids, &s.ids, &ids)?;
                ids.extend(found);
            }
        }
        if ids.len() == before {
            break;
        }
    }
    let mut names = BTreeSet::new();
    for (table, scopes) in tables() {
        for s in scopes.iter().filter(both) {
            names.extend(lookup(table, &s.names, &s.ids, &ids)?);
        }
    }
    // The rows of the parents of a stream where the person is in a scope, by the scope's
    // path: `streams` keeps only some of a scope's columns (its ids may be among those it
    // does not keep), so its copies are erased by these rows' keys.
    let mut rows = std::collections::BTreeMap::new();
    for (t, keys) in PARENT_KEYS {
        for s in scopes(&t.table().columns) {
            if s.ids.is_empty() {
                continue;
            }
            let mut cond: Vec<String> = s.ids.iter().map(|c| one_of(c, &ids)).collect();
            if by_name {
                cond.extend(s.names.iter().map(|n| one_of(n, &given)));
            }
            let found = sql(format!(
                "SELECT DISTINCT {} FROM {} WHERE {}",
                keys.join(", "),
                t.name(),
                cond.join(" OR ")
            ))?;
            let (_, set): &mut (_, HashSet<Vec<String>>) =
                rows.entry(s.path.clone()).or_insert((keys, HashSet::new()));
            for b in &found.batches {
                let cols: Vec<_> = (0..keys.len())
                    .map(|c| arrow::compute::cast(b.column(c), &DataType::Utf8))
                    .collect::<Result<_, _>>()?;
                for r in 0..b.num_rows() {
                    set.insert(
                        cols.iter()
                            .map(|c| c.as_string::<i32>().value(r).to_string())
                            .collect(),
                    );
                }
            }
        }
    }
    Ok(Person {
        ids,
        names,
        by_name,
        rows,
    })
}

/// The erasure of `p`, found by `value`.
fn erasure(p: &Person, value: &str) -> Erasure {
    let tuples = |set: &BTreeSet<String>| -> HashSet<Vec<String>> {
        set.iter().map(|v| vec![v.clone()]).collect()
    };
    let ids = tuples(&p.ids);
    let given = tuples(&[value.to_string()].into());
    let mut e = Erasure {
        values: p.ids.iter().cloned().collect(),
        texts: p.ids.iter().chain(&p.names).cloned().collect(),
        ..Default::default()
    };
    for t in TableId::ALL {
        let columns = &t.table().columns;
        let rules = &mut e.rules[t.index()];
        for s in scopes(columns) {
            for m in &s.ids {
                rules.push(Rule {
                    when: vec![m.clone()],
                    values: ids.clone(),
                    null: s.personal.clone(),
                });
            }
            if p.by_name {
                for n in &s.names {
                    rules.push(Rule {
                        when: vec![n.clone()],
                        values: given.clone(),
                        null: s.personal.clone(),
                    });
                }
            }
        }
        let found = |path: &str| p.rows.get(path).filter(|(_, r)| !r.is_empty());
        if t == TableId::Streams {
            // A scope's copy in a stream: by its parent row (a session's in every occurrence,
            // whichever the stream's context was taken from).
            for s in scopes(columns) {
                if let Some((keys, rows)) = found(&s.path) {
                    rules.push(Rule {
                        when: keys.iter().map(|k| k.to_string()).collect(),
                        values: rows.clone(),
                        null: s.personal.clone(),
                    });
                }
            }
        }
        for side in ["caller", "callee"] {
            let network = network_columns(columns, side);
            let Some((_, segments)) = found(&format!("segment.{side}")) else {
                continue;
            };
            if network.is_empty() {
                continue;
            }
            rules.push(Rule {
                when: vec!["call_id".into(), "session_id".into(), "segment_id".into()],
                values: segments.clone(),
                null: network,
            });
        }
    }
    for s in SideTable::ALL {
        if s == SideTable::SyncState {
            e.side.push((
                s,
                SideRule {
                    when: "organizer_user_id".into(),
                    values: p.ids.clone(),
                    null: Vec::new(),
                    delete: true,
                },
            ));
            continue;
        }
        for scope in scopes(&s.def().columns) {
            for m in &scope.ids {
                e.side.push((
                    s,
                    SideRule {
                        when: m.clone(),
                        values: p.ids.clone(),
                        null: scope.personal.clone(),
                        delete: false,
                    },
                ));
            }
        }
    }
    e
}

/// `cqlake forget`.
pub fn run(a: ForgetArgs) -> anyhow::Result<ExitCode> {
    let rt = crate::convert::runtime(2)?;
    let lake = a.storage.apply(&a.lake)?;
    if !rt.block_on(cqlake_lake::lake_exists(&lake))? {
        bail!("no lake at {lake}");
    }
    let value = a.user.trim();
    if value.is_empty() {
        bail!("--user: give a UPN, user id, e-mail address or display name");
    }
    // The value as the lake holds it: itself, or on a pseudonymised lake its token.
    let value = match rt.block_on(cqlake_lake::pseudonym_fingerprint(&lake))? {
        None => value.to_string(),
        Some(_) if cqlake_privacy::is_token(value) => value.to_string(),
        Some(f) => {
            let p = crate::privacy::pseudonymiser(a.pseudonym_key_file.as_deref())
                .context("the lake is pseudonymised: its key finds the person's token")?;
            if p.fingerprint() != f {
                bail!(
                    "{lake} is pseudonymised under another key (key {f}, given {})",
                    p.fingerprint()
                );
            }
            p.token(value)
        }
    };
    let started = std::time::Instant::now();
    // The lake's lock first: nothing changes between finding the person and erasing them.
    let w = crate::open_writer(&rt, &lake, a.wait, &Personal::Unchanged, false)?;
    let engine = rt
        .block_on(Engine::open(lake.clone(), EngineOptions::default()))
        .context("reading the lake")?;
    let person = find(&rt, &engine, &value)?;
    drop(engine);
    let e = erasure(&person, &value);
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let s = rt
        .block_on(w.erase(&e, threads))
        .with_context(|| format!("erasing from the lake at {lake}"))?;
    // A pull archive kept in the lake's directory (raw Graph answers).
    let archived = match lake.as_local() {
        Some(root) => erase_from_archives(root, &person)?,
        None => (0, 0),
    };
    let mut out = std::io::stdout().lock();
    let tables = TableId::ALL
        .into_iter()
        .map(|t| (t.name(), s.rows[t.index()]));
    let side = SideTable::ALL
        .into_iter()
        .map(|t| (t.name(), s.side_rows[t.index()]))
        .filter(|(_, n)| *n > 0);
    if a.json {
        let json = serde_json::json!({
            "identifiers": person.ids.len(),
            "rows": tables.clone().chain(side.clone()).map(|(n, r)| (n.to_string(), serde_json::json!(r))).collect::<serde_json::Map<_, _>>(),
            "partitions_rewritten": s.partitions,
            "files_replaced": s.files_removed,
            "reject_lines": s.reject_lines,
            "archive_lines": archived.1,
            "seconds": started.elapsed().as_secs_f64(),
        });
        writeln!(out, "{json}")?;
        return Ok(ExitCode::SUCCESS);
    }
    let changed: u64 = s.rows.iter().chain(&s.side_rows).sum();
    if changed == 0 && s.reject_lines == 0 && archived.1 == 0 {
        writeln!(
            out,
            "forget: nobody with that value in the lake; nothing changed"
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(
        out,
        "forget: {} identifier(s) of the person found; rows changed:",
        person.ids.len()
    )?;
    for (name, rows) in tables.chain(side) {
        writeln!(out, "  {name:<22} {rows:>12}")?;
    }
    if s.reject_lines > 0 {
        writeln!(out, "  rejects: {} line(s) cleared", s.reject_lines)?;
    }
    if archived.1 > 0 {
        writeln!(
            out,
            "  pull archive: {} answer(s) in {} file(s) rewritten without them",
            archived.1, archived.0
        )?;
    }
    writeln!(
        out,
        "{} partitions rewritten in {:.1} s; `cqlake vacuum` deletes the replaced files and \
         the log entries before now, whatever its retention",
        s.partitions,
        started.elapsed().as_secs_f64()
    )?;
    Ok(ExitCode::SUCCESS)
}

/// Rewrites the pull archives (`*.ndjson.gz`, see `pull --archive`) kept under the lake's
/// directory without the person (see [`cqlake_privacy::person::erase_from_document`]): files
/// rewritten, and answers changed.
fn erase_from_archives(root: &std::path::Path, p: &Person) -> anyhow::Result<(u64, u64)> {
    use std::io::{BufRead, Write as _};
    let (mut files, mut lines) = (0, 0);
    let archives = walkdir::WalkDir::new(root)
        .into_iter()
        .filter_entry(|e| e.file_name() != "_delta_log")
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_type().is_file() && e.file_name().to_string_lossy().ends_with(".ndjson.gz")
        });
    for e in archives {
        let path = e.path();
        let read = std::fs::File::open(path).with_context(|| path.display().to_string())?;
        let reader = std::io::BufReader::new(flate2::read::MultiGzDecoder::new(read));
        let tmp = path.with_extension("gz.forget");
        let out = std::fs::File::create(&tmp).with_context(|| tmp.display().to_string())?;
        let mut w = flate2::write::GzEncoder::new(out, flate2::Compression::default());
        let mut changed = 0;
        for line in reader.lines() {
            let line = line.with_context(|| path.display().to_string())?;
            let erased = serde_json::from_str::<serde_json::Value>(&line)
                .ok()
                .and_then(|mut v| {
                    cqlake_privacy::person::erase_from_document(&mut v, &p.ids, &p.names)
                        .then_some(v)
                });
            match erased {
                Some(v) => {
                    changed += 1;
                    writeln!(w, "{v}")?;
                }
                None => writeln!(w, "{line}")?,
            }
        }
        w.finish()?.sync_all()?;
        if changed > 0 {
            std::fs::rename(&tmp, path).with_context(|| path.display().to_string())?;
            files += 1;
            lines += changed;
        } else {
            std::fs::remove_file(&tmp)?;
        }
    }
    Ok((files, lines))
}

//! The summary printed at the end of `convert`.

use std::fmt::Write;
use std::time::Duration;

use cqlake_ingest::source::Stats;
use cqlake_lake::WriteStats;
use cqlake_schema::{SideTable, TableId};

/// Everything a run reports.
pub struct Summary {
    pub stats: Stats,
    pub rows: [u64; 6],
    /// Rows written per side table, after merging by key.
    pub side_rows: [u64; SideTable::ALL.len()],
    pub write: Option<WriteStats>,
    pub elapsed: Duration,
    pub rejects_file: Option<String>,
    pub first_reject: Option<String>,
}

impl Summary {
    fn mb_per_s(&self) -> f64 {
        self.stats.bytes as f64 / 1e6 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The human summary.
    pub fn to_text(&self) -> String {
        let s = &self.stats;
        let mut o = String::new();
        let _ = writeln!(
            o,
            "read {} file(s), {:.1} MB in {:.2} s ({:.1} MB/s)",
            s.files,
            s.bytes as f64 / 1e6,
            self.elapsed.as_secs_f64(),
            self.mb_per_s()
        );
        let _ = writeln!(
            o,
            "records: {} read = {} converted + {} rejected  (call records {}, sessions from pages {}, participants from pages {})",
            s.records(),
            s.converted(),
            s.rejected,
            s.calls,
            s.page_sessions,
            s.page_participants
        );
        if s.partial_records > 0 {
            let _ = writeln!(
                o,
                "records without startDateTime (a Get with $select), merged into their call as follow-up pages are: {}",
                s.partial_records
            );
        }
        let side: Vec<String> = SideTable::ALL
            .iter()
            .filter(|t| s.side[t.index()] > 0)
            .map(|t| format!("{} {}", t.name(), s.side[t.index()]))
            .collect();
        if !side.is_empty() {
            let _ = writeln!(o, "other Graph call data converted: {}", side.join(", "));
        }
        if s.redacted > 0 {
            let _ = writeln!(
                o,
                "secrets left out: {} (recording access tokens, notification client states)",
                s.redacted
            );
        }
        if s.repeated_keys > 0 {
            let _ = writeln!(
                o,
                "keys written twice with the same value, taken once: {}",
                s.repeated_keys
            );
        }
        if s.pages > 0 {
            let _ = writeln!(
                o,
                "pages: {} ({} with an @odata.nextLink to more data)",
                s.pages, s.pages_with_next_link
            );
        }
        for (name, n) in &s.not_call_records {
            let _ = writeln!(o, "not call-record data, skipped: {n} × {name}");
        }
        if let Some(w) = &self.write {
            let _ = writeln!(
                o,
                "calls: {} replaced an older version in the lake, {} already there (same or newer version), {} superseded in this run",
                w.replaced_calls, w.stale_calls, w.superseded_calls
            );
            if w.orphan_records > 0 {
                let _ = writeln!(
                    o,
                    "records waiting for their call record (sessions and participants of follow-up pages or of records without startDateTime, whose call is not in the lake yet): {} (kept; `cqlake report unexported` lists them, and they are completed when the call record is converted)",
                    w.orphan_records
                );
            }
            if let Some(p) = w.purged.as_ref().filter(|p| p.rows.iter().any(|&r| r > 0)) {
                let rows: Vec<String> = TableId::ALL
                    .iter()
                    .map(|t| format!("{} {}", t.name(), p.rows[t.index()]))
                    .collect();
                let _ = writeln!(
                    o,
                    "retention: the calls that started before {} removed ({} rows); `cqlake vacuum` deletes their files",
                    date_text(p.before),
                    rows.join(", ")
                );
            }
            if w.recovered_tables > 0 {
                let _ = writeln!(
                    o,
                    "recovered: {} table(s) rolled back to the last finished group of an interrupted run",
                    w.recovered_tables
                );
            }
        }
        let rows: Vec<String> = TableId::ALL
            .iter()
            .map(|t| format!("{} {}", t.name(), self.rows[t.index()]))
            .collect();
        let _ = writeln!(o, "rows written: {}", rows.join(", "));
        let side: Vec<String> = SideTable::ALL
            .iter()
            .filter(|t| self.side_rows[t.index()] > 0)
            .map(|t| format!("{} {}", t.name(), self.side_rows[t.index()]))
            .collect();
        if !side.is_empty() {
            let _ = writeln!(
                o,
                "side-table rows written (merged by key; a row replaced later in the run counts again): {}",
                side.join(", ")
            );
        }
        if let Some(p) = &self.rejects_file {
            let _ = writeln!(o, "rejected records are in {p}");
            if let Some(first) = &self.first_reject {
                let _ = writeln!(o, "first: {first}");
            }
        }
        o
    }

    /// The exit code of the run: some records rejected, or all converted.
    pub fn exit_code(&self) -> u8 {
        if self.stats.rejected > 0 {
            crate::EXIT_REJECTS
        } else {
            crate::EXIT_OK
        }
    }

    /// The summary as one JSON object.
    pub fn to_json(&self) -> serde_json::Value {
        let s = &self.stats;
        let rows: serde_json::Map<String, serde_json::Value> = TableId::ALL
            .iter()
            .map(|t| (t.name().to_string(), self.rows[t.index()].into()))
            .collect();
        let side: serde_json::Map<String, serde_json::Value> = SideTable::ALL
            .iter()
            .map(|t| (t.name().to_string(), s.side[t.index()].into()))
            .collect();
        let side_rows: serde_json::Map<String, serde_json::Value> = SideTable::ALL
            .iter()
            .map(|t| (t.name().to_string(), self.side_rows[t.index()].into()))
            .collect();
        serde_json::json!({
            "files": s.files,
            "bytes": s.bytes,
            "seconds": self.elapsed.as_secs_f64(),
            "mb_per_s": self.mb_per_s(),
            "records": s.records(),
            "converted": s.converted(),
            "rejected": s.rejected,
            "call_records": s.calls,
            "partial_records": s.partial_records,
            "page_sessions": s.page_sessions,
            "page_participants": s.page_participants,
            "pages": s.pages,
            "pages_with_next_link": s.pages_with_next_link,
            "not_call_records": s.not_call_records,
            "replaced_calls": self.write.as_ref().map(|w| w.replaced_calls),
            "stale_calls": self.write.as_ref().map(|w| w.stale_calls),
            "superseded_calls": self.write.as_ref().map(|w| w.superseded_calls),
            "orphan_records": self.write.as_ref().map(|w| w.orphan_records),
            "recovered_tables": self.write.as_ref().map(|w| w.recovered_tables),
            "rows": rows,
            "side_records": side,
            "side_rows": side_rows,
            "redacted": s.redacted,
            "repeated_keys": s.repeated_keys,
            "rejects_file": self.rejects_file,
            "purged": self.write.as_ref().and_then(|w| w.purged.as_ref()).map(|p| serde_json::json!({
                "before": date_text(p.before),
                "rows": TableId::ALL.iter().map(|t| (t.name().to_string(), serde_json::json!(p.rows[t.index()]))).collect::<serde_json::Map<_, _>>(),
                "side_rows": SideTable::ALL.iter().filter(|t| t.date_column().is_some()).map(|t| (t.name().to_string(), serde_json::json!(p.side_rows[t.index()]))).collect::<serde_json::Map<_, _>>(),
            })),
        })
    }
}

/// `YYYY-MM-DD` of days since the Unix epoch.
pub fn date_text(days: i32) -> String {
    arrow::temporal_conversions::date32_to_datetime(days)
        .map_or_else(|| days.to_string(), |d| d.date().to_string())
}

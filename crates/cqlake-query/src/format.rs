//! Result formats, shared by every command that prints rows.

use std::io::Write;

use arrow::array::RecordBatch;
use arrow::util::display::{ArrayFormatter, FormatOptions};

use crate::{Error, Result, Rows};

/// How rows are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// An aligned text table (the default on a terminal).
    Table,
    /// CSV with a header (the default when piped).
    Csv,
    /// One JSON array of objects.
    Json,
    /// One JSON object per line.
    Ndjson,
    /// A Markdown table.
    Markdown,
    /// A Parquet file (zstd).
    Parquet,
}

impl Format {
    /// The format named `name` (`table`, `csv`, `json`, `ndjson`, `markdown`, `parquet`).
    pub fn from_name(name: &str) -> Option<Format> {
        Some(match name {
            "table" => Format::Table,
            "csv" => Format::Csv,
            "json" => Format::Json,
            "ndjson" => Format::Ndjson,
            "markdown" | "md" => Format::Markdown,
            "parquet" => Format::Parquet,
            _ => return None,
        })
    }
}

/// Writes `rows` to `out` in `format`.
pub fn write<W: Write + Send>(rows: &Rows, format: Format, out: &mut W) -> Result<()> {
    let fmt_err = |e: arrow::error::ArrowError| Error::Format(e.to_string());
    let batches: Vec<&RecordBatch> = rows.batches.iter().filter(|b| b.num_rows() > 0).collect();
    match format {
        Format::Table => {
            let all: Vec<RecordBatch> = if batches.is_empty() {
                vec![RecordBatch::new_empty(rows.schema.clone())]
            } else {
                batches.into_iter().cloned().collect()
            };
            let text = arrow::util::pretty::pretty_format_batches(&all).map_err(fmt_err)?;
            writeln!(out, "{text}")?;
        }
        Format::Csv => {
            let mut w = arrow::csv::WriterBuilder::new()
                .with_header(true)
                .build(&mut *out);
            if batches.is_empty() {
                w.write(&RecordBatch::new_empty(rows.schema.clone()))
                    .map_err(fmt_err)?;
            }
            for b in batches {
                w.write(b).map_err(fmt_err)?;
            }
        }
        Format::Json => {
            let mut w = arrow::json::ArrayWriter::new(&mut *out);
            for b in &batches {
                w.write(b).map_err(fmt_err)?;
            }
            w.finish().map_err(fmt_err)?;
            if batches.is_empty() {
                write!(out, "[]")?;
            }
            writeln!(out)?;
        }
        Format::Ndjson => {
            let mut w = arrow::json::LineDelimitedWriter::new(&mut *out);
            for b in batches {
                w.write(b).map_err(fmt_err)?;
            }
            w.finish().map_err(fmt_err)?;
        }
        Format::Markdown => markdown(rows, &batches, out)?,
        Format::Parquet => {
            let props = parquet::file::properties::WriterProperties::builder()
                .set_compression(parquet::basic::Compression::ZSTD(Default::default()))
                .build();
            let mut w =
                parquet::arrow::ArrowWriter::try_new(&mut *out, rows.schema.clone(), Some(props))
                    .map_err(|e| Error::Format(e.to_string()))?;
            for b in batches {
                w.write(b).map_err(|e| Error::Format(e.to_string()))?;
            }
            w.close().map_err(|e| Error::Format(e.to_string()))?;
        }
    }
    Ok(())
}

/// A Markdown table: `|` in values escaped, nulls empty.
fn markdown<W: Write>(rows: &Rows, batches: &[&RecordBatch], out: &mut W) -> Result<()> {
    let cell = |s: &str| s.replace('|', "\\|").replace('\n', " ");
    let names: Vec<String> = rows
        .schema
        .fields()
        .iter()
        .map(|f| cell(f.name()))
        .collect();
    writeln!(out, "| {} |", names.join(" | "))?;
    writeln!(out, "|{}|", vec!["---"; names.len()].join("|"))?;
    let options = FormatOptions::default().with_null("");
    for b in batches {
        let formatters = b
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| Error::Format(e.to_string()))?;
        for r in 0..b.num_rows() {
            let values: Vec<String> = formatters
                .iter()
                .map(|f| cell(&f.value(r).to_string()))
                .collect();
            writeln!(out, "| {} |", values.join(" | "))?;
        }
    }
    Ok(())
}

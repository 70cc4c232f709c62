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

/// Writes `rows` to `out` in `format`. An error of `out` (a closed pipe) is returned as
/// [`Error::Io`] with its kind, even where a writer of arrow or parquet would have turned it
/// into a message.
pub fn write<W: Write + Send>(rows: &Rows, format: Format, out: &mut W) -> Result<()> {
    let mut watched = Watched {
        inner: out,
        error: None,
    };
    match write_to(rows, format, &mut watched) {
        Err(e) => Err(watched.error.take().map_or(e, Error::Io)),
        ok => ok,
    }
}

/// A writer that keeps (a copy of) the first error of the writer it wraps.
struct Watched<'a, W> {
    inner: &'a mut W,
    error: Option<std::io::Error>,
}

impl<W: Write> Watched<'_, W> {
    fn watch<T>(&mut self, r: std::io::Result<T>) -> std::io::Result<T> {
        if let Err(e) = &r
            && self.error.is_none()
        {
            self.error = Some(std::io::Error::new(e.kind(), e.to_string()));
        }
        r
    }
}

impl<W: Write> Write for Watched<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let r = self.inner.write(buf);
        self.watch(r)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let r = self.inner.flush();
        self.watch(r)
    }
}

fn write_to<W: Write + Send>(rows: &Rows, format: Format, out: &mut W) -> Result<()> {
    let batches: Vec<&RecordBatch> = rows.batches.iter().filter(|b| b.num_rows() > 0).collect();
    match format {
        Format::Table => {
            let all: Vec<RecordBatch> = if batches.is_empty() {
                vec![RecordBatch::new_empty(rows.schema.clone())]
            } else {
                batches.into_iter().cloned().collect()
            };
            let text = arrow::util::pretty::pretty_format_batches(&all)?;
            writeln!(out, "{text}")?;
        }
        Format::Csv => {
            let mut w = arrow::csv::WriterBuilder::new()
                .with_header(true)
                .build(&mut *out);
            if batches.is_empty() {
                w.write(&RecordBatch::new_empty(rows.schema.clone()))?;
            }
            for b in batches {
                w.write(b)?;
            }
        }
        Format::Json => {
            let mut w = arrow::json::ArrayWriter::new(&mut *out);
            for b in &batches {
                w.write(b)?;
            }
            w.finish()?;
            if batches.is_empty() {
                write!(out, "[]")?;
            }
            writeln!(out)?;
        }
        Format::Ndjson => {
            let mut w = arrow::json::LineDelimitedWriter::new(&mut *out);
            for b in batches {
                w.write(b)?;
            }
            w.finish()?;
        }
        Format::Markdown => markdown(rows, &batches, out)?,
        Format::Parquet => {
            let props = parquet::file::properties::WriterProperties::builder()
                .set_compression(parquet::basic::Compression::ZSTD(Default::default()))
                .build();
            let mut w =
                parquet::arrow::ArrowWriter::try_new(&mut *out, rows.schema.clone(), Some(props))?;
            for b in batches {
                w.write(b)?;
            }
            w.close()?;
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
            .collect::<std::result::Result<Vec<_>, _>>()?;
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

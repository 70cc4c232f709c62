//! Result formats, shared by every command that prints rows.

use std::io::Write;

use arrow::array::RecordBatch;
use arrow::util::display::{ArrayFormatter, FormatOptions};

use crate::display::nested_as_json;
use crate::{Error, Presentation, Result, Rows};

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

/// [`write`] for a person: in the table and Markdown formats, numbers are shown as
/// [`Presentation`] says (counts with thousands separators, rates as percentages) and aligned
/// right; the other formats are exact, as [`write`] writes them.
pub fn write_presented<W: Write + Send>(
    rows: &Rows,
    format: Format,
    presentation: &Presentation,
    out: &mut W,
) -> Result<()> {
    if !matches!(format, Format::Table | Format::Markdown) {
        return write(rows, format, out);
    }
    let (batches, numeric) = crate::display::present(rows, presentation)?;
    let text = match format {
        Format::Table => crate::display::table(&rows.schema, &batches, &numeric),
        _ => {
            let mut md = Vec::new();
            markdown(rows, &batches, &numeric, &mut md)?;
            String::from_utf8(md).expect("UTF-8")
        }
    };
    out.write_all(text.as_bytes())?;
    Ok(())
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

/// The rows of `rows` with nested columns as JSON text (see [`nested_as_json`]), never empty: an
/// empty result is one empty batch of its schema.
fn textual(rows: &Rows) -> Result<Vec<RecordBatch>> {
    let mut out = Vec::new();
    for b in rows.batches.iter().filter(|b| b.num_rows() > 0) {
        out.push(nested_as_json(b)?.unwrap_or_else(|| b.clone()));
    }
    if out.is_empty() {
        let empty = RecordBatch::new_empty(rows.schema.clone());
        out.push(nested_as_json(&empty)?.unwrap_or(empty));
    }
    Ok(out)
}

fn write_to<W: Write + Send>(rows: &Rows, format: Format, out: &mut W) -> Result<()> {
    let batches: Vec<&RecordBatch> = rows.batches.iter().filter(|b| b.num_rows() > 0).collect();
    match format {
        Format::Table => {
            let text = arrow::util::pretty::pretty_format_batches(&textual(rows)?)?;
            writeln!(out, "{text}")?;
        }
        Format::Csv => {
            let mut w = arrow::csv::WriterBuilder::new()
                .with_header(true)
                .build(&mut *out);
            for b in &textual(rows)? {
                w.write(b)?;
            }
        }
        Format::Json => {
            let mut w = arrow::json::ArrayWriter::new(&mut *out);
            for b in &batches {
                w.write(b)?;
            }
            // An empty result is `[]` (the writer writes both brackets even with no batch).
            w.finish()?;
            writeln!(out)?;
        }
        Format::Ndjson => {
            let mut w = arrow::json::LineDelimitedWriter::new(&mut *out);
            for b in batches {
                w.write(b)?;
            }
            w.finish()?;
        }
        Format::Markdown => markdown(rows, &textual(rows)?, &[], out)?,
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

/// A Markdown table: `|` in values escaped, nulls empty; the columns marked in `right` (where
/// given) aligned right.
fn markdown<W: Write>(
    rows: &Rows,
    batches: &[RecordBatch],
    right: &[bool],
    out: &mut W,
) -> Result<()> {
    let cell = |s: &str| s.replace('|', "\\|").replace('\n', " ");
    let names: Vec<String> = rows
        .schema
        .fields()
        .iter()
        .map(|f| cell(f.name()))
        .collect();
    writeln!(out, "| {} |", names.join(" | "))?;
    let rule: Vec<&str> = (0..names.len())
        .map(|i| {
            if right.get(i) == Some(&true) {
                "---:"
            } else {
                "---"
            }
        })
        .collect();
    writeln!(out, "|{}|", rule.join("|"))?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Array, ArrayRef, Int32Array, ListArray, StringArray, StructArray};
    use arrow::datatypes::{DataType, Field, Int32Type, Schema};
    use std::sync::Arc;

    /// Two rows: a list of integers (one null list), a struct, and a plain string.
    fn nested() -> Rows {
        let list = ListArray::from_iter_primitive::<Int32Type, _, _>(vec![
            Some(vec![Some(1), None, Some(3)]),
            None,
        ]);
        let names: ArrayRef = Arc::new(StringArray::from(vec![Some("a|b"), None]));
        let sizes: ArrayRef = Arc::new(Int32Array::from(vec![1, 2]));
        let s = StructArray::from(vec![
            (Arc::new(Field::new("name", DataType::Utf8, true)), names),
            (Arc::new(Field::new("size", DataType::Int32, false)), sizes),
        ]);
        let plain: ArrayRef = Arc::new(StringArray::from(vec!["x", "y"]));
        let schema = Arc::new(Schema::new(vec![
            Field::new("ids", list.data_type().clone(), true),
            Field::new("s", s.data_type().clone(), false),
            Field::new("plain", DataType::Utf8, false),
        ]));
        let batch =
            RecordBatch::try_new(schema.clone(), vec![Arc::new(list), Arc::new(s), plain]).unwrap();
        Rows {
            schema,
            batches: vec![batch],
        }
    }

    /// A writer whose reader is gone.
    struct ClosedPipe;

    impl Write for ClosedPipe {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn no_rows_are_an_empty_json_array() {
        let rows = nested();
        for batches in [vec![], vec![rows.batches[0].slice(0, 0)]] {
            let empty = Rows {
                schema: rows.schema.clone(),
                batches,
            };
            let mut out = Vec::new();
            write(&empty, Format::Json, &mut out).unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), "[]\n");
        }
    }

    #[test]
    fn a_closed_pipe_is_an_io_error_in_every_format() {
        for format in [
            Format::Table,
            Format::Csv,
            Format::Json,
            Format::Ndjson,
            Format::Markdown,
            Format::Parquet,
        ] {
            match write(&nested(), format, &mut ClosedPipe) {
                Err(Error::Io(e)) => assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe),
                other => panic!("{format:?}: {other:?}"),
            }
        }
    }
}

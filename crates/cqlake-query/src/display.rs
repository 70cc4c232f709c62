//! Results for people: the `table` and `markdown` formats of a report show counts as integers
//! with thousands separators (`1,280`, not `1280.0`) and rates as percentages with one decimal
//! (`6.3 %`, not `0.0628768722038514`), numbers aligned right. The machine formats (CSV, JSON,
//! Parquet) keep the exact values.
//!
//! Which values are rates is data, in the report's header:
//!
//! ```sql
//! -- percent: poor_rate
//! -- percent: value, target where measure in poor_stream_rate, setup_failure_rate
//! ```
//!
//! The first line makes every value of the column `poor_rate` a percentage, the second the
//! values of `value` and `target` in the rows whose `measure` is one of those named. Without
//! such a line, a column whose name ends in `_rate` is a rate, and one ending in `_pct` already
//! holds percent.
//!
//! ```
//! use cqlake_query::Presentation;
//!
//! let p = Presentation::from_header("-- percent: value where measure in poor_rate\nSELECT 1").unwrap();
//! assert_eq!(p.rules(), 1);
//! assert!(Presentation::from_header("-- percent: value where measure poor_rate").is_err());
//! ```

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Float64Type, Schema};
use arrow::util::display::{ArrayFormatter, FormatOptions};

use crate::{Error, Result, Rows};

/// Which values of a result are shown as percentages (see the [module documentation](self)).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Presentation {
    percent: Vec<PercentRule>,
}

/// One `-- percent:` line.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PercentRule {
    columns: Vec<String>,
    /// Only in rows whose column (`.0`) holds one of these values (`.1`).
    when: Option<(String, Vec<String>)>,
}

/// How a value is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shown {
    /// A fraction shown as a percentage (`0.063` → `6.3 %`).
    Fraction,
    /// A value already in percent (`99.5` → `99.5 %`).
    Percent,
    /// A number as it is, with thousands separators.
    Number,
    /// Anything else, as text.
    Text,
}

impl Presentation {
    /// The rules of the `-- percent:` lines in the comment header of `sql` (the lines before
    /// its first statement line). A line that does not parse is an error naming it.
    pub fn from_header(sql: &str) -> Result<Presentation> {
        let mut percent = Vec::new();
        for line in sql.lines() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let Some(comment) = line.strip_prefix("--") else {
                break;
            };
            let Some(rule) = comment.trim().strip_prefix("percent:") else {
                continue;
            };
            let bad = || {
                Error::Plan(format!(
                    "report header {line:?}: expected `-- percent: COLUMN, … [where COLUMN in VALUE, …]`"
                ))
            };
            let (columns, when) = match rule.split_once(" where ") {
                Some((columns, when)) => {
                    let (column, values) = when.trim().split_once(" in ").ok_or_else(bad)?;
                    let column = column.trim();
                    if column.is_empty() || column.contains(char::is_whitespace) {
                        return Err(bad());
                    }
                    (
                        columns,
                        Some((column.to_string(), list(values).ok_or_else(bad)?)),
                    )
                }
                None => (rule, None),
            };
            percent.push(PercentRule {
                columns: list(columns).ok_or_else(bad)?,
                when,
            });
        }
        Ok(Presentation { percent })
    }

    /// The number of `-- percent:` rules.
    pub fn rules(&self) -> usize {
        self.percent.len()
    }

    /// How column `name` (of type `dt`) is shown in a row whose values of other columns `cell`
    /// gives.
    fn shown(&self, name: &str, dt: &DataType, cell: &dyn Fn(&str) -> Option<String>) -> Shown {
        if !dt.is_numeric() {
            return Shown::Text;
        }
        let mut named = false;
        for rule in &self.percent {
            if !rule.columns.iter().any(|c| c == name) {
                continue;
            }
            named = true;
            match &rule.when {
                None => return Shown::Fraction,
                Some((column, values)) => {
                    if cell(column).is_some_and(|v| values.contains(&v)) {
                        return Shown::Fraction;
                    }
                }
            }
        }
        if named {
            Shown::Number
        } else if name.ends_with("_rate") {
            Shown::Fraction
        } else if name.ends_with("_pct") {
            Shown::Percent
        } else {
            Shown::Number
        }
    }
}

/// `a, b , c` as `[a, b, c]`; `None` when empty or an item is empty or holds a space.
fn list(text: &str) -> Option<Vec<String>> {
    let items: Vec<String> = text.split(',').map(|s| s.trim().to_string()).collect();
    (!items.is_empty()
        && items
            .iter()
            .all(|s| !s.is_empty() && !s.contains(char::is_whitespace)))
    .then_some(items)
}

/// The rows of `rows` as text for a person, and for each column whether it is numeric (to be
/// aligned right).
pub(crate) fn present(rows: &Rows, p: &Presentation) -> Result<(Vec<RecordBatch>, Vec<bool>)> {
    let fields = rows.schema.fields();
    let text_schema = Arc::new(Schema::new(
        fields
            .iter()
            .map(|f| Field::new(f.name(), DataType::Utf8, true))
            .collect::<Vec<_>>(),
    ));
    let numeric: Vec<bool> = fields.iter().map(|f| f.data_type().is_numeric()).collect();
    let options = FormatOptions::default().with_null("");
    let mut out = Vec::new();
    for batch in rows.batches.iter().filter(|b| b.num_rows() > 0) {
        let batch = nested_as_json(batch)?.unwrap_or_else(|| batch.clone());
        let formatters = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        // Each numeric column as floats, once per batch.
        let floats = batch
            .columns()
            .iter()
            .zip(&numeric)
            .map(|(c, n)| {
                n.then(|| arrow::compute::cast(c, &DataType::Float64))
                    .transpose()
            })
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let mut columns: Vec<Vec<Option<String>>> = vec![Vec::new(); fields.len()];
        for r in 0..batch.num_rows() {
            let cell = |name: &str| {
                let i = rows.schema.index_of(name).ok()?;
                let c = batch.column(i);
                (!c.is_null(r)).then(|| formatters[i].value(r).to_string())
            };
            for (i, f) in fields.iter().enumerate() {
                let column = batch.column(i);
                if column.is_null(r) {
                    columns[i].push(None);
                    continue;
                }
                let exact = formatters[i].value(r).to_string();
                let shown = p.shown(f.name(), f.data_type(), &cell);
                let x = floats[i]
                    .as_ref()
                    .map(|c| c.as_primitive::<Float64Type>().value(r));
                columns[i].push(Some(match (shown, x) {
                    (Shown::Fraction, Some(x)) => percent(x * 100.0),
                    (Shown::Percent, Some(x)) => percent(x),
                    (Shown::Number, Some(_)) if f.data_type().is_integer() => group_digits(&exact),
                    (Shown::Number, Some(x)) => float(x),
                    _ => exact,
                }));
            }
        }
        let arrays: Vec<ArrayRef> = columns
            .into_iter()
            .map(|c| Arc::new(StringArray::from(c)) as ArrayRef)
            .collect();
        out.push(RecordBatch::try_new(text_schema.clone(), arrays)?);
    }
    Ok((out, numeric))
}

/// `batch` with every nested column (list, struct, map) replaced by its values as JSON text, for
/// the text formats (CSV, table, Markdown) that have no form of their own for them; `None` when
/// it has no nested column.
pub(crate) fn nested_as_json(batch: &RecordBatch) -> Result<Option<RecordBatch>> {
    use arrow::array::{ArrayRef, StringBuilder};
    use arrow::datatypes::{DataType, Field, Schema};
    let schema = batch.schema();
    if !schema.fields().iter().any(|f| f.data_type().is_nested()) {
        return Ok(None);
    }
    let options = arrow::json::writer::EncoderOptions::default().with_explicit_nulls(true);
    let mut fields = Vec::with_capacity(schema.fields().len());
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(fields.capacity());
    for (field, column) in schema.fields().iter().zip(batch.columns()) {
        if !field.data_type().is_nested() {
            fields.push(field.clone());
            columns.push(column.clone());
            continue;
        }
        let mut encoder = arrow::json::writer::make_encoder(field, column.as_ref(), &options)?;
        let mut text = StringBuilder::with_capacity(column.len(), column.len() * 16);
        let mut buf = Vec::new();
        for i in 0..column.len() {
            if encoder.is_null(i) {
                text.append_null();
            } else {
                buf.clear();
                encoder.encode(i, &mut buf);
                text.append_value(String::from_utf8_lossy(&buf));
            }
        }
        fields.push(std::sync::Arc::new(Field::new(
            field.name(),
            DataType::Utf8,
            true,
        )));
        columns.push(std::sync::Arc::new(text.finish()));
    }
    Ok(Some(RecordBatch::try_new(
        std::sync::Arc::new(Schema::new(fields)),
        columns,
    )?))
}

/// `x` percent with one decimal: `6.3 %`.
fn percent(x: f64) -> String {
    if x.is_finite() {
        format!("{} %", group_digits(&format!("{x:.1}")))
    } else {
        x.to_string()
    }
}

/// A float for a person: a whole number as an integer, a large one with one decimal, a small one
/// with two (or three significant digits below 1), thousands separated.
fn float(x: f64) -> String {
    if !x.is_finite() {
        return x.to_string();
    }
    let text = if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{x:.0}")
    } else if x.abs() >= 100.0 {
        format!("{x:.1}")
    } else if x.abs() >= 1.0 {
        format!("{x:.2}")
    } else {
        // Three significant digits: 0.0123, 0.456.
        let digits = (2 - x.abs().log10().floor() as i32).clamp(2, 12) as usize;
        format!("{x:.digits$}")
    };
    group_digits(&text)
}

/// `-1234567.5` → `-1,234,567.5`: commas between groups of three digits of the integer part.
fn group_digits(text: &str) -> String {
    let (sign, rest) = match text.strip_prefix('-') {
        Some(r) => ("-", r),
        None => ("", text),
    };
    let (int, frac) = match rest.find('.') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    if !int.bytes().all(|b| b.is_ascii_digit()) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + int.len() / 3);
    out.push_str(sign);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out.push_str(frac);
    out
}

/// An aligned text table of text `batches` (numbers right-aligned), in the style of arrow's
/// pretty printer.
pub(crate) fn table(schema: &Schema, batches: &[RecordBatch], numeric: &[bool]) -> String {
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let mut rows: Vec<Vec<&str>> = Vec::new();
    for b in batches {
        let columns: Vec<&StringArray> = b
            .columns()
            .iter()
            .map(|c| c.as_any().downcast_ref::<StringArray>().expect("text"))
            .collect();
        for r in 0..b.num_rows() {
            rows.push(
                columns
                    .iter()
                    .map(|c| if c.is_null(r) { "" } else { c.value(r) })
                    .collect(),
            );
        }
    }
    let width = |s: &str| s.chars().count();
    let widths: Vec<usize> = (0..names.len())
        .map(|i| {
            rows.iter()
                .map(|r| width(r[i]))
                .chain([width(names[i])])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let rule: String = widths
        .iter()
        .map(|w| format!("+{}", "-".repeat(w + 2)))
        .collect::<String>()
        + "+\n";
    let line = |cells: &[&str], header: bool| {
        let mut s = String::new();
        for (i, cell) in cells.iter().enumerate() {
            let pad = widths[i] - width(cell);
            if numeric[i] && !header {
                s.push_str(&format!("| {}{cell} ", " ".repeat(pad)));
            } else {
                s.push_str(&format!("| {cell}{} ", " ".repeat(pad)));
            }
        }
        s + "|\n"
    };
    let mut out = rule.clone();
    out.push_str(&line(&names, true));
    out.push_str(&rule.replace('-', "="));
    for r in &rows {
        out.push_str(&line(r, false));
    }
    if !rows.is_empty() {
        out.push_str(&rule);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Float64Array, Int64Array};

    #[test]
    fn numbers_for_people() {
        assert_eq!(group_digits("1280"), "1,280");
        assert_eq!(group_digits("-1234567.25"), "-1,234,567.25");
        assert_eq!(group_digits("999"), "999");
        assert_eq!(float(1280.0), "1,280");
        assert_eq!(float(12.345), "12.35");
        assert_eq!(float(0.012345), "0.0123");
        assert_eq!(float(1234.56), "1,234.6");
        assert_eq!(percent(0.0628768722038514 * 100.0), "6.3 %");
        assert_eq!(percent(100.0), "100.0 %");
    }

    #[test]
    fn rates_by_header_by_row_and_by_name() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("measure", DataType::Utf8, false),
            Field::new("value", DataType::Float64, true),
            Field::new("target", DataType::Float64, true),
            Field::new("calls", DataType::Int64, false),
            Field::new("poor_rate", DataType::Float64, true),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(StringArray::from(vec!["calls", "poor_stream_rate"])),
                Arc::new(Float64Array::from(vec![1280.0, 0.0628768722038514])),
                Arc::new(Float64Array::from(vec![None, Some(0.03)])),
                Arc::new(Int64Array::from(vec![1234567, 0])),
                Arc::new(Float64Array::from(vec![Some(0.5), None])),
            ],
        )
        .unwrap();
        let rows = Rows {
            schema,
            batches: vec![batch],
        };
        let p = Presentation::from_header(
            "-- name: x\n-- percent: value, target where measure in poor_stream_rate, other\nSELECT 1",
        )
        .unwrap();
        let (text, numeric) = present(&rows, &p).unwrap();
        assert_eq!(numeric, vec![false, true, true, true, true]);
        let t = table(&text[0].schema(), &text, &numeric);
        assert_eq!(
            t,
            "\
+------------------+-------+--------+-----------+-----------+
| measure          | value | target | calls     | poor_rate |
+==================+=======+========+===========+===========+
| calls            | 1,280 |        | 1,234,567 |    50.0 % |
| poor_stream_rate | 6.3 % |  3.0 % |         0 |           |
+------------------+-------+--------+-----------+-----------+
"
        );
    }

    #[test]
    fn a_bad_percent_line_is_an_error_naming_it() {
        for bad in [
            "-- percent:",
            "-- percent: value where measure",
            "-- percent: value where in a",
            "-- percent: a b",
        ] {
            let e = Presentation::from_header(bad).unwrap_err().to_string();
            assert!(e.contains(bad.trim()), "{bad}: {e}");
        }
        // Lines after the header are not read.
        assert_eq!(
            Presentation::from_header("SELECT 1\n-- percent: x").unwrap(),
            Presentation::default()
        );
    }
}

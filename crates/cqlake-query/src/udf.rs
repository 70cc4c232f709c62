//! Functions the views and reports need.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayAccessor, ArrayRef, AsArray, BooleanArray, Datum, Int64Array, StringViewArray,
};
use arrow::buffer::{BooleanBuffer, NullBuffer};
use arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::type_coercion::binary::type_union_resolution;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility, create_udf,
};

/// `ipv4(text)`: a dotted IPv4 address as a number (null when the text is not one), for
/// matching subnets to network ranges.
pub(crate) fn ipv4() -> ScalarUDF {
    create_udf(
        "ipv4",
        vec![DataType::Utf8],
        DataType::Int64,
        Volatility::Immutable,
        Arc::new(|args: &[ColumnarValue]| {
            let arrays = ColumnarValue::values_to_arrays(args)?;
            let text = arrays[0].as_string::<i32>();
            let out: Int64Array = (0..text.len())
                .map(|i| {
                    if text.is_null(i) {
                        None
                    } else {
                        parse_ipv4(text.value(i))
                    }
                })
                .collect();
            Ok(ColumnarValue::Array(Arc::new(out)))
        }),
    )
}

fn parse_ipv4(s: &str) -> Option<i64> {
    let addr: std::net::Ipv4Addr = s.trim().parse().ok()?;
    Some(i64::from(u32::from(addr)))
}

/// `if(condition, then, else)`: `then` where the condition is true, `else` where it is false
/// or null (DuckDB's `if`). Both branches are computed for every row and picked in one pass
/// (arrow's `zip`): for the cheap branches of the views (columns, literals) that costs far less
/// than a `CASE`, which filters the batch once per branch.
pub(crate) fn if_else() -> ScalarUDF {
    ScalarUDF::new_from_impl(If {
        signature: Signature::user_defined(Volatility::Immutable),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct If {
    signature: Signature,
}

impl ScalarUDFImpl for If {
    fn name(&self) -> &str {
        "if"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, types: &[DataType]) -> Result<Vec<DataType>> {
        let [_, then, otherwise] = types else {
            return plan_err!("if takes three arguments: if(condition, then, else)");
        };
        let Some(common) = type_union_resolution(&[then.clone(), otherwise.clone()]) else {
            return plan_err!("if: no common type for {then} and {otherwise}");
        };
        Ok(vec![DataType::Boolean, common.clone(), common])
    }

    fn return_type(&self, types: &[DataType]) -> Result<DataType> {
        Ok(types[1].clone())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let Ok([condition, then, otherwise]) = <[ColumnarValue; 3]>::try_from(args.args) else {
            return exec_err!("if takes three arguments");
        };
        let mask = match condition {
            ColumnarValue::Scalar(ScalarValue::Boolean(c)) => {
                return Ok(if c == Some(true) { then } else { otherwise });
            }
            ColumnarValue::Scalar(c) => return exec_err!("if: a {} condition", c.data_type()),
            ColumnarValue::Array(a) => a,
        };
        let mask = mask.as_boolean();
        // Nulls pick `else`.
        let pick = match mask.nulls() {
            Some(valid) => mask.values() & valid.inner(),
            None => mask.values().clone(),
        };
        if let (ColumnarValue::Array(a), ColumnarValue::Array(b)) = (&then, &otherwise)
            && let Some(out) = select(&pick, a, b)?
        {
            return Ok(ColumnarValue::Array(out));
        }
        let datum = |v: &ColumnarValue| -> Result<Box<dyn Datum>> {
            Ok(match v {
                ColumnarValue::Array(a) => Box::new(a.clone()),
                ColumnarValue::Scalar(s) => Box::new(s.to_scalar()?),
            })
        };
        let (t, o) = (datum(&then)?, datum(&otherwise)?);
        let out = arrow::compute::kernels::zip::zip(mask, t.as_ref(), o.as_ref())?;
        Ok(ColumnarValue::Array(out))
    }
}

/// `a` where `pick` is set, `b` elsewhere, for the array types the views pick between (string
/// views and booleans) in one pass over the rows; `None` for other types (arrow's `zip` does
/// those, and picks between scalars well, but copies runs of rows from arrays, which is slow
/// when the picks alternate).
fn select(pick: &BooleanBuffer, a: &ArrayRef, b: &ArrayRef) -> Result<Option<ArrayRef>> {
    let valid = |x: &ArrayRef| match x.logical_nulls() {
        Some(n) => n.inner().clone(),
        None => BooleanBuffer::new_set(x.len()),
    };
    let either = |x: &BooleanBuffer, y: &BooleanBuffer| &(pick & x) | &(&!pick & y);
    Ok(match (a.data_type(), b.data_type()) {
        (DataType::Boolean, DataType::Boolean) => {
            let nulls = match (a.logical_nulls(), b.logical_nulls()) {
                (None, None) => None,
                _ => Some(NullBuffer::new(either(&valid(a), &valid(b))))
                    .filter(|n| n.null_count() > 0),
            };
            let values = either(a.as_boolean().values(), b.as_boolean().values());
            Some(Arc::new(BooleanArray::new(values, nulls)))
        }
        (DataType::Utf8View, DataType::Utf8View) => {
            // Views are copied as they are (those of `b` pointing into its buffers, appended
            // after `a`'s), and the strings are not validated again.
            let rows: Vec<(usize, usize)> = pick
                .iter()
                .enumerate()
                .map(|(i, p)| (usize::from(!p), i))
                .collect();
            Some(arrow::compute::interleave(
                &[a.as_ref(), b.as_ref()],
                &rows,
            )?)
        }
        _ => None,
    })
}

/// `media_kind(label)`: the kind of media a stream carries, from its media label (Graph has no
/// per-stream modality): `vbss` for `applicationsharing-video` (video-based screen sharing),
/// `appsharing` for other labels starting with `applicationsharing`, `audio` for labels
/// containing `audio`, `video` for labels containing `video`, `data` for `data`, and `other`
/// for the rest and for a null label. Labels are few, so each row costs a comparison with the
/// previous row's label.
pub(crate) fn media_kind() -> ScalarUDF {
    ScalarUDF::new_from_impl(MediaKind {
        signature: Signature::string(1, Volatility::Immutable),
    })
}

/// The kind of media label `label` (see [`media_kind`]).
pub(crate) fn kind_of_label(label: Option<&str>) -> &'static str {
    let Some(label) = label else { return "other" };
    if label == "applicationsharing-video" {
        "vbss"
    } else if label.starts_with("applicationsharing") {
        "appsharing"
    } else if label.contains("audio") {
        "audio"
    } else if label.contains("video") {
        "video"
    } else if label == "data" {
        "data"
    } else {
        "other"
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct MediaKind {
    signature: Signature,
}

impl ScalarUDFImpl for MediaKind {
    fn name(&self) -> &str {
        "media_kind"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8View)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let label = match &args.args[0] {
            ColumnarValue::Scalar(s) => {
                let kind = match s {
                    ScalarValue::Utf8(v) | ScalarValue::Utf8View(v) | ScalarValue::LargeUtf8(v) => {
                        kind_of_label(v.as_deref())
                    }
                    other => return exec_err!("media_kind: a {} label", other.data_type()),
                };
                return Ok(ColumnarValue::Scalar(ScalarValue::Utf8View(Some(
                    kind.into(),
                ))));
            }
            ColumnarValue::Array(a) => a,
        };
        let out: ArrayRef = match label.data_type() {
            DataType::Utf8View => kinds_of_views(label.as_string_view()),
            DataType::Utf8 => Arc::new(kinds(label.as_string::<i32>())),
            DataType::LargeUtf8 => Arc::new(kinds(label.as_string::<i64>())),
            other => return exec_err!("media_kind: a {other} label"),
        };
        Ok(ColumnarValue::Array(out))
    }
}

/// The kinds [`kind_of_label`] gives.
const KINDS: [&str; 6] = ["audio", "video", "vbss", "appsharing", "data", "other"];

/// Labels remembered by [`kinds_of_views`] (a lake has a handful of distinct labels).
const REMEMBERED: usize = 16;

/// [`kind_of_label`] of every label of a string-view array. A label short enough to sit inline
/// in its view is recognised by the view alone (equal inline views are equal strings): the
/// kinds of the last [`REMEMBERED`] distinct ones are kept, so most rows cost a few integer
/// comparisons. The result gathers the kinds' views by index (no string is copied or checked).
fn kinds_of_views(labels: &StringViewArray) -> ArrayRef {
    static ALL: std::sync::OnceLock<ArrayRef> = std::sync::OnceLock::new();
    let all = ALL.get_or_init(|| Arc::new(StringViewArray::from(KINDS.to_vec())));
    let index = |label: Option<&str>| {
        let kind = kind_of_label(label);
        KINDS.iter().position(|k| *k == kind).expect("a kind") as u32
    };
    let views = labels.views();
    let nulls = labels.nulls();
    let mut seen: Vec<(u128, u32)> = Vec::with_capacity(REMEMBERED);
    let mut out = Vec::with_capacity(views.len());
    for (i, &view) in views.iter().enumerate() {
        if nulls.is_some_and(|n| n.is_null(i)) {
            out.push(index(None));
        } else if let Some((_, k)) = seen.iter().find(|(v, _)| *v == view) {
            out.push(*k);
        } else {
            let k = index(Some(labels.value(i)));
            if (view as u32) <= INLINE_LEN && seen.len() < REMEMBERED {
                seen.push((view, k));
            }
            out.push(k);
        }
    }
    arrow::compute::take(all.as_ref(), &arrow::array::UInt32Array::from(out), None)
        .expect("indices are in range")
}

/// The longest string a view holds inline.
const INLINE_LEN: u32 = 12;

/// [`kind_of_label`] of every label, remembering the last label's kind.
fn kinds<'a>(labels: impl ArrayAccessor<Item = &'a str>) -> StringViewArray {
    let mut last: Option<(&str, &'static str)> = None;
    (0..labels.len())
        .map(|i| {
            if labels.is_null(i) {
                return Some(kind_of_label(None));
            }
            let label = labels.value(i);
            match last {
                Some((l, k)) if l == label => Some(k),
                _ => {
                    let k = kind_of_label(Some(label));
                    last = Some((label, k));
                    Some(k)
                }
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn addresses() {
        assert_eq!(super::parse_ipv4("10.0.0.0"), Some(167_772_160));
        assert_eq!(super::parse_ipv4("255.255.255.255"), Some(4_294_967_295));
        assert_eq!(super::parse_ipv4("fe80::1"), None);
        assert_eq!(super::parse_ipv4("10.0.0"), None);
    }

    #[test]
    fn media_labels() {
        use super::kind_of_label as k;
        assert_eq!(k(Some("main-audio")), "audio");
        assert_eq!(k(Some("main-video")), "video");
        assert_eq!(k(Some("applicationsharing-video")), "vbss");
        assert_eq!(k(Some("applicationsharing-video-2")), "appsharing");
        assert_eq!(k(Some("applicationsharing")), "appsharing");
        assert_eq!(k(Some("data")), "data");
        assert_eq!(k(Some("data-audio")), "audio");
        assert_eq!(k(Some("Main-Audio")), "other");
        assert_eq!(k(Some("")), "other");
        assert_eq!(k(None), "other");
    }

    #[test]
    fn media_kinds_of_string_views_match_the_label_mapping_row_by_row() {
        use arrow::array::{Array, AsArray, StringViewArray};
        // Short (inline) and long labels, runs of each, nulls between equal labels, and a
        // slice (views keep their offsets into the data buffers).
        let labels = [
            Some("main-audio"),
            Some("main-audio"),
            None,
            Some("main-audio"),
            Some("applicationsharing-video"),
            Some("applicationsharing-video"),
            Some("applicationsharing-rdp"),
            Some("main-video"),
            Some("data"),
            Some("data"),
            Some(""),
            Some("a label longer than twelve bytes with audio"),
            Some("main-audio"),
        ];
        let array = StringViewArray::from(labels.to_vec());
        for (from, to) in [(0, labels.len()), (3, labels.len()), (4, 9)] {
            let slice = array.slice(from, to - from);
            let kinds = super::kinds_of_views(&slice);
            let kinds = kinds.as_string_view();
            let got: Vec<&str> = (0..kinds.len()).map(|i| kinds.value(i)).collect();
            let want: Vec<&str> = labels[from..to]
                .iter()
                .map(|l| super::kind_of_label(*l))
                .collect();
            assert_eq!(got, want, "rows {from}..{to}");
            assert_eq!(kinds.null_count(), 0);
        }
    }

    #[test]
    fn if_picks_views_and_booleans_row_by_row_nulls_picking_else() {
        use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, StringViewArray};
        use std::sync::Arc;
        let long = "a string longer than twelve bytes";
        let a: ArrayRef = Arc::new(StringViewArray::from(vec![
            Some("a0"),
            Some(long),
            None,
            Some("a3"),
            Some("a4"),
        ]));
        let b: ArrayRef = Arc::new(StringViewArray::from(vec![
            Some("b0"),
            Some("b1"),
            Some("b2"),
            Some("another string, in b's buffer"),
            None,
        ]));
        let mask = BooleanArray::from(vec![Some(true), Some(true), Some(true), None, Some(false)]);
        let pick = mask.values() & mask.nulls().unwrap().inner();
        let out = super::select(&pick, &a, &b).unwrap().unwrap();
        let out = out.as_string_view();
        let got: Vec<Option<&str>> = (0..out.len())
            .map(|i| out.is_valid(i).then(|| out.value(i)))
            .collect();
        assert_eq!(
            got,
            vec![
                Some("a0"),
                Some(long),
                None,
                Some("another string, in b's buffer"),
                None
            ]
        );

        let x: ArrayRef = Arc::new(BooleanArray::from(vec![
            Some(true),
            None,
            Some(true),
            Some(false),
        ]));
        let y: ArrayRef = Arc::new(BooleanArray::from(vec![
            Some(false),
            Some(false),
            None,
            Some(true),
        ]));
        let pick = BooleanArray::from(vec![true, true, false, false])
            .values()
            .clone();
        let out = super::select(&pick, &x, &y).unwrap().unwrap();
        let out = out.as_boolean();
        let got: Vec<Option<bool>> = (0..4)
            .map(|i| out.is_valid(i).then(|| out.value(i)))
            .collect();
        assert_eq!(got, vec![Some(true), None, None, Some(true)]);
    }
}

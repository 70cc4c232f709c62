//! Column buffers: append-only columns that can be truncated, so a record that turns out to be
//! bad can be rolled back without touching the records before it.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Decimal128Array, Float64Array, Int32Array, Int64Array,
    ListArray, StringArray, TimestampMicrosecondArray, new_null_array,
};
use arrow::buffer::{NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow::datatypes::{DataType, Field};

/// One column under construction. Nulls at its end are only counted until a value follows, so
/// a column that stays null (most of a wide table's columns, for a given row) costs no memory
/// and becomes a [`new_null_array`].
#[derive(Debug)]
pub struct ColBuf {
    data: Data,
    /// Nulls after the last value of `data`, not materialized yet.
    pending: usize,
}

/// The materialized values of a column.
#[derive(Debug)]
enum Data {
    /// Utf8.
    Str {
        /// End offsets (the first offset, 0, is implicit).
        ends: Vec<i32>,
        /// String bytes.
        data: Vec<u8>,
        /// Validity.
        valid: Vec<bool>,
    },
    /// Int32.
    I32(Prim<i32>),
    /// Int64.
    I64(Prim<i64>),
    /// Float64.
    F64(Prim<f64>),
    /// Boolean.
    Bool(Prim<bool>),
    /// Timestamp(us, UTC).
    Ts(Prim<i64>),
    /// Date32.
    Date(Prim<i32>),
    /// Decimal128 (unscaled values).
    Dec(Prim<i128>),
    /// List of the inner column.
    List {
        /// End offsets into `inner`.
        ends: Vec<i32>,
        /// Validity of the lists.
        valid: Vec<bool>,
        /// The items.
        inner: Box<ColBuf>,
        /// The item field.
        field: Arc<Field>,
    },
}

/// Values and validity of a primitive column.
#[derive(Debug, Default)]
pub struct Prim<T> {
    /// Values (default where null).
    pub v: Vec<T>,
    /// Validity.
    pub valid: Vec<bool>,
}

impl<T: Copy + Default> Prim<T> {
    fn push(&mut self, x: T) {
        self.v.push(x);
        self.valid.push(true);
    }
    fn push_null(&mut self) {
        self.v.push(T::default());
        self.valid.push(false);
    }
    fn truncate(&mut self, n: usize) {
        self.v.truncate(n);
        self.valid.truncate(n);
    }
    fn take_parts(&mut self) -> (Vec<T>, Option<NullBuffer>) {
        let valid = std::mem::take(&mut self.valid);
        (std::mem::take(&mut self.v), nulls(valid))
    }
}

fn nulls(valid: Vec<bool>) -> Option<NullBuffer> {
    if valid.iter().all(|v| *v) {
        None
    } else {
        Some(NullBuffer::from(valid))
    }
}

impl Data {
    fn new(dt: &DataType) -> Data {
        match dt {
            DataType::Utf8 => Data::Str {
                ends: Vec::new(),
                data: Vec::new(),
                valid: Vec::new(),
            },
            DataType::Int32 => Data::I32(Prim::default()),
            DataType::Int64 => Data::I64(Prim::default()),
            DataType::Float64 => Data::F64(Prim::default()),
            DataType::Boolean => Data::Bool(Prim::default()),
            DataType::Timestamp(_, _) => Data::Ts(Prim::default()),
            DataType::Date32 => Data::Date(Prim::default()),
            DataType::Decimal128(_, _) => Data::Dec(Prim::default()),
            DataType::List(f) => Data::List {
                ends: Vec::new(),
                valid: Vec::new(),
                inner: Box::new(ColBuf::new(f.data_type())),
                field: f.clone(),
            },
            other => panic!("no column buffer for {other}"),
        }
    }

    /// Number of values.
    fn len(&self) -> usize {
        match self {
            Data::Str { valid, .. } | Data::List { valid, .. } => valid.len(),
            Data::I32(p) | Data::Date(p) => p.valid.len(),
            Data::I64(p) | Data::Ts(p) => p.valid.len(),
            Data::F64(p) => p.valid.len(),
            Data::Bool(p) => p.valid.len(),
            Data::Dec(p) => p.valid.len(),
        }
    }

    /// Appends one null.
    fn push_null(&mut self) {
        match self {
            Data::Str { ends, data, valid } => {
                ends.push(data.len() as i32);
                valid.push(false);
            }
            Data::I32(p) | Data::Date(p) => p.push_null(),
            Data::I64(p) | Data::Ts(p) => p.push_null(),
            Data::F64(p) => p.push_null(),
            Data::Bool(p) => p.push_null(),
            Data::Dec(p) => p.push_null(),
            Data::List {
                ends, valid, inner, ..
            } => {
                ends.push(inner.len() as i32);
                valid.push(false);
            }
        }
    }

    /// Appends a string (the column must be Utf8).
    #[inline]
    fn push_str(&mut self, s: &str) {
        if let Data::Str { ends, data, valid } = self {
            data.extend_from_slice(s.as_bytes());
            ends.push(data.len() as i32);
            valid.push(true);
        } else {
            unreachable!("push_str on a non-string column")
        }
    }

    /// Appends an i32.
    #[inline]
    fn push_i32(&mut self, x: i32) {
        match self {
            Data::I32(p) | Data::Date(p) => p.push(x),
            _ => unreachable!("push_i32 on a non-int32 column"),
        }
    }

    /// Appends an i64 (Int64 or timestamp).
    #[inline]
    fn push_i64(&mut self, x: i64) {
        match self {
            Data::I64(p) | Data::Ts(p) => p.push(x),
            _ => unreachable!("push_i64 on a non-int64 column"),
        }
    }

    /// Appends an f64.
    #[inline]
    fn push_f64(&mut self, x: f64) {
        match self {
            Data::F64(p) => p.push(x),
            _ => unreachable!("push_f64 on a non-float column"),
        }
    }

    /// Appends a bool.
    #[inline]
    fn push_bool(&mut self, x: bool) {
        match self {
            Data::Bool(p) => p.push(x),
            _ => unreachable!("push_bool on a non-boolean column"),
        }
    }

    /// Appends an unscaled decimal.
    fn push_i128(&mut self, x: i128) {
        match self {
            Data::Dec(p) => p.push(x),
            _ => unreachable!("push_i128 on a non-decimal column"),
        }
    }

    /// The items of a list column.
    fn list_items(&mut self) -> &mut ColBuf {
        match self {
            Data::List { inner, .. } => inner,
            _ => unreachable!("list_items on a non-list column"),
        }
    }

    /// Closes a list whose items were appended to [`ColBuf::list_items`].
    fn close_list(&mut self) {
        match self {
            Data::List {
                ends, valid, inner, ..
            } => {
                ends.push(inner.len() as i32);
                valid.push(true);
            }
            _ => unreachable!("close_list on a non-list column"),
        }
    }

    /// Drops values past the first `n`.
    fn truncate(&mut self, n: usize) {
        if self.len() <= n {
            return;
        }
        match self {
            Data::Str { ends, data, valid } => {
                ends.truncate(n);
                valid.truncate(n);
                data.truncate(ends.last().copied().unwrap_or(0) as usize);
            }
            Data::I32(p) | Data::Date(p) => p.truncate(n),
            Data::I64(p) | Data::Ts(p) => p.truncate(n),
            Data::F64(p) => p.truncate(n),
            Data::Bool(p) => p.truncate(n),
            Data::Dec(p) => p.truncate(n),
            Data::List {
                ends, valid, inner, ..
            } => {
                ends.truncate(n);
                valid.truncate(n);
                let keep = ends.last().copied().unwrap_or(0) as usize;
                inner.truncate(keep);
            }
        }
    }

    /// Turns the values into an Arrow array (of type `dt`) and empties the buffer.
    fn finish(&mut self, dt: &DataType) -> ArrayRef {
        match self {
            Data::Str { ends, data, valid } => {
                let offsets = offsets(std::mem::take(ends));
                let values = std::mem::take(data);
                let nb = nulls(std::mem::take(valid));
                Arc::new(StringArray::new(offsets, values.into(), nb))
            }
            Data::I32(p) => {
                let (v, n) = p.take_parts();
                Arc::new(Int32Array::new(ScalarBuffer::from(v), n))
            }
            Data::Date(p) => {
                let (v, n) = p.take_parts();
                Arc::new(Date32Array::new(ScalarBuffer::from(v), n))
            }
            Data::I64(p) => {
                let (v, n) = p.take_parts();
                Arc::new(Int64Array::new(ScalarBuffer::from(v), n))
            }
            Data::Ts(p) => {
                let (v, n) = p.take_parts();
                let tz = match dt {
                    DataType::Timestamp(_, tz) => tz.clone(),
                    _ => None,
                };
                Arc::new(
                    TimestampMicrosecondArray::new(ScalarBuffer::from(v), n).with_timezone_opt(tz),
                )
            }
            Data::F64(p) => {
                let (v, n) = p.take_parts();
                Arc::new(Float64Array::new(ScalarBuffer::from(v), n))
            }
            Data::Bool(p) => {
                let (v, n) = p.take_parts();
                Arc::new(BooleanArray::new(v.into_iter().collect(), n))
            }
            Data::Dec(p) => {
                let (v, n) = p.take_parts();
                let DataType::Decimal128(precision, scale) = *dt else {
                    unreachable!("a decimal column has a decimal type")
                };
                Arc::new(
                    Decimal128Array::new(ScalarBuffer::from(v), n)
                        .with_precision_and_scale(precision, scale)
                        .expect("valid decimal type"),
                )
            }
            Data::List {
                ends,
                valid,
                inner,
                field,
            } => {
                let offsets = offsets(std::mem::take(ends));
                let nb = nulls(std::mem::take(valid));
                let values = inner.finish(field.data_type());
                Arc::new(ListArray::new(field.clone(), offsets, values, nb))
            }
        }
    }
}

impl ColBuf {
    /// An empty column of Arrow type `dt`.
    pub fn new(dt: &DataType) -> ColBuf {
        ColBuf {
            data: Data::new(dt),
            pending: 0,
        }
    }

    /// Number of values.
    #[inline]
    pub fn len(&self) -> usize {
        self.data.len() + self.pending
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True when every value is null (or there are none).
    pub fn is_all_null(&self) -> bool {
        self.data.len() == 0
    }

    /// Empties a column whose values are all null; returns how many there were.
    pub fn clear_nulls(&mut self) -> usize {
        debug_assert!(self.is_all_null());
        std::mem::take(&mut self.pending)
    }

    /// Writes out the pending nulls: a value follows them.
    #[inline]
    fn materialize(&mut self) {
        for _ in 0..std::mem::take(&mut self.pending) {
            self.data.push_null();
        }
    }

    /// Appends one null.
    #[inline]
    pub fn push_null(&mut self) {
        self.pending += 1;
    }

    /// Appends nulls until the column has `n` values.
    #[inline]
    pub fn pad(&mut self, n: usize) {
        let len = self.len();
        if len < n {
            self.pending += n - len;
        }
    }

    /// Appends a string (the column must be Utf8).
    #[inline]
    pub fn push_str(&mut self, s: &str) {
        self.materialize();
        self.data.push_str(s);
    }

    /// Appends an i32 (Int32 or Date32).
    #[inline]
    pub fn push_i32(&mut self, x: i32) {
        self.materialize();
        self.data.push_i32(x);
    }

    /// Appends an i64 (Int64 or timestamp).
    #[inline]
    pub fn push_i64(&mut self, x: i64) {
        self.materialize();
        self.data.push_i64(x);
    }

    /// Appends an f64.
    #[inline]
    pub fn push_f64(&mut self, x: f64) {
        self.materialize();
        self.data.push_f64(x);
    }

    /// Appends a bool.
    #[inline]
    pub fn push_bool(&mut self, x: bool) {
        self.materialize();
        self.data.push_bool(x);
    }

    /// Appends an unscaled decimal (the column must be Decimal128).
    #[inline]
    pub fn push_i128(&mut self, x: i128) {
        self.materialize();
        self.data.push_i128(x);
    }

    /// The items of a list column, to append the items of a list that [`ColBuf::close_list`]
    /// then closes.
    pub fn list_items(&mut self) -> &mut ColBuf {
        self.materialize();
        self.data.list_items()
    }

    /// Closes a list whose items were appended to [`ColBuf::list_items`].
    pub fn close_list(&mut self) {
        self.materialize();
        self.data.close_list();
    }

    /// Drops values past the first `n`.
    pub fn truncate(&mut self, n: usize) {
        let len = self.data.len();
        if n >= len {
            self.pending = self.pending.min(n - len);
        } else {
            self.pending = 0;
            self.data.truncate(n);
        }
    }

    /// Turns the values into an Arrow array (of type `dt`) and empties the buffer.
    pub fn finish(&mut self, dt: &DataType) -> ArrayRef {
        if self.data.len() == 0 {
            return new_null_array(dt, std::mem::take(&mut self.pending));
        }
        self.materialize();
        self.data.finish(dt)
    }
}

fn offsets(ends: Vec<i32>) -> OffsetBuffer<i32> {
    let mut v = Vec::with_capacity(ends.len() + 1);
    v.push(0);
    v.extend(ends);
    OffsetBuffer::new(ScalarBuffer::from(v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::Array;

    #[test]
    fn truncate_rolls_back_strings_and_lists() {
        let mut s = ColBuf::new(&DataType::Utf8);
        s.push_str("a");
        s.push_null();
        s.push_str("bcd");
        s.truncate(2);
        s.push_str("x");
        let a = s.finish(&DataType::Utf8);
        let a = a.as_any().downcast_ref::<StringArray>().unwrap();
        assert_eq!((a.value(0), a.is_null(1), a.value(2)), ("a", true, "x"));

        let dt = cqlake_schema::list_of(DataType::Utf8);
        let mut l = ColBuf::new(&dt);
        l.list_items().push_str("audio");
        l.close_list();
        l.list_items().push_str("video");
        l.list_items().push_str("data");
        l.close_list();
        l.truncate(1);
        l.pad(2);
        let a = l.finish(&dt);
        let a = a.as_any().downcast_ref::<ListArray>().unwrap();
        assert_eq!(a.len(), 2);
        assert_eq!(a.value(0).len(), 1);
        assert!(a.is_null(1));
    }
}

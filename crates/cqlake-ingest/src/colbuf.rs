//! Column buffers: append-only columns that can be truncated, so a record that turns out to be
//! bad can be rolled back without touching the records before it.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Float64Array, Int32Array, Int64Array, ListArray,
    StringArray, TimestampMicrosecondArray,
};
use arrow::buffer::{NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow::datatypes::{DataType, Field};

/// One column under construction.
#[derive(Debug)]
pub enum ColBuf {
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

impl ColBuf {
    /// An empty column of Arrow type `dt`.
    pub fn new(dt: &DataType) -> ColBuf {
        match dt {
            DataType::Utf8 => ColBuf::Str {
                ends: Vec::new(),
                data: Vec::new(),
                valid: Vec::new(),
            },
            DataType::Int32 => ColBuf::I32(Prim::default()),
            DataType::Int64 => ColBuf::I64(Prim::default()),
            DataType::Float64 => ColBuf::F64(Prim::default()),
            DataType::Boolean => ColBuf::Bool(Prim::default()),
            DataType::Timestamp(_, _) => ColBuf::Ts(Prim::default()),
            DataType::Date32 => ColBuf::Date(Prim::default()),
            DataType::List(f) => ColBuf::List {
                ends: Vec::new(),
                valid: Vec::new(),
                inner: Box::new(ColBuf::new(f.data_type())),
                field: f.clone(),
            },
            other => panic!("no column buffer for {other}"),
        }
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            ColBuf::Str { valid, .. } | ColBuf::List { valid, .. } => valid.len(),
            ColBuf::I32(p) | ColBuf::Date(p) => p.valid.len(),
            ColBuf::I64(p) | ColBuf::Ts(p) => p.valid.len(),
            ColBuf::F64(p) => p.valid.len(),
            ColBuf::Bool(p) => p.valid.len(),
        }
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends one null.
    pub fn push_null(&mut self) {
        match self {
            ColBuf::Str { ends, data, valid } => {
                ends.push(data.len() as i32);
                valid.push(false);
            }
            ColBuf::I32(p) | ColBuf::Date(p) => p.push_null(),
            ColBuf::I64(p) | ColBuf::Ts(p) => p.push_null(),
            ColBuf::F64(p) => p.push_null(),
            ColBuf::Bool(p) => p.push_null(),
            ColBuf::List {
                ends, valid, inner, ..
            } => {
                ends.push(inner.len() as i32);
                valid.push(false);
            }
        }
    }

    /// Appends nulls until the column has `n` values.
    #[inline]
    pub fn pad(&mut self, n: usize) {
        while self.len() < n {
            self.push_null();
        }
    }

    /// Appends a string (the column must be Utf8).
    #[inline]
    pub fn push_str(&mut self, s: &str) {
        if let ColBuf::Str { ends, data, valid } = self {
            data.extend_from_slice(s.as_bytes());
            ends.push(data.len() as i32);
            valid.push(true);
        } else {
            unreachable!("push_str on a non-string column")
        }
    }

    /// Appends an i32.
    #[inline]
    pub fn push_i32(&mut self, x: i32) {
        match self {
            ColBuf::I32(p) | ColBuf::Date(p) => p.push(x),
            _ => unreachable!("push_i32 on a non-int32 column"),
        }
    }

    /// Appends an i64 (Int64 or timestamp).
    #[inline]
    pub fn push_i64(&mut self, x: i64) {
        match self {
            ColBuf::I64(p) | ColBuf::Ts(p) => p.push(x),
            _ => unreachable!("push_i64 on a non-int64 column"),
        }
    }

    /// Appends an f64.
    #[inline]
    pub fn push_f64(&mut self, x: f64) {
        match self {
            ColBuf::F64(p) => p.push(x),
            _ => unreachable!("push_f64 on a non-float column"),
        }
    }

    /// Appends a bool.
    #[inline]
    pub fn push_bool(&mut self, x: bool) {
        match self {
            ColBuf::Bool(p) => p.push(x),
            _ => unreachable!("push_bool on a non-boolean column"),
        }
    }

    /// The items of a list column.
    pub fn list_items(&mut self) -> &mut ColBuf {
        match self {
            ColBuf::List { inner, .. } => inner,
            _ => unreachable!("list_items on a non-list column"),
        }
    }

    /// Closes a list whose items were appended to [`ColBuf::list_items`].
    pub fn close_list(&mut self) {
        match self {
            ColBuf::List {
                ends, valid, inner, ..
            } => {
                ends.push(inner.len() as i32);
                valid.push(true);
            }
            _ => unreachable!("close_list on a non-list column"),
        }
    }

    /// Drops values past the first `n`.
    pub fn truncate(&mut self, n: usize) {
        if self.len() <= n {
            return;
        }
        match self {
            ColBuf::Str { ends, data, valid } => {
                ends.truncate(n);
                valid.truncate(n);
                data.truncate(ends.last().copied().unwrap_or(0) as usize);
            }
            ColBuf::I32(p) | ColBuf::Date(p) => p.truncate(n),
            ColBuf::I64(p) | ColBuf::Ts(p) => p.truncate(n),
            ColBuf::F64(p) => p.truncate(n),
            ColBuf::Bool(p) => p.truncate(n),
            ColBuf::List {
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
    pub fn finish(&mut self, dt: &DataType) -> ArrayRef {
        match self {
            ColBuf::Str { ends, data, valid } => {
                let offsets = offsets(std::mem::take(ends));
                let values = std::mem::take(data);
                let nb = nulls(std::mem::take(valid));
                Arc::new(StringArray::new(offsets, values.into(), nb))
            }
            ColBuf::I32(p) => {
                let (v, n) = p.take_parts();
                Arc::new(Int32Array::new(ScalarBuffer::from(v), n))
            }
            ColBuf::Date(p) => {
                let (v, n) = p.take_parts();
                Arc::new(Date32Array::new(ScalarBuffer::from(v), n))
            }
            ColBuf::I64(p) => {
                let (v, n) = p.take_parts();
                Arc::new(Int64Array::new(ScalarBuffer::from(v), n))
            }
            ColBuf::Ts(p) => {
                let (v, n) = p.take_parts();
                let tz = match dt {
                    DataType::Timestamp(_, tz) => tz.clone(),
                    _ => None,
                };
                Arc::new(
                    TimestampMicrosecondArray::new(ScalarBuffer::from(v), n).with_timezone_opt(tz),
                )
            }
            ColBuf::F64(p) => {
                let (v, n) = p.take_parts();
                Arc::new(Float64Array::new(ScalarBuffer::from(v), n))
            }
            ColBuf::Bool(p) => {
                let (v, n) = p.take_parts();
                Arc::new(BooleanArray::new(v.into_iter().collect(), n))
            }
            ColBuf::List {
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

//! Functions the views and reports need.

use std::sync::Arc;

use arrow::array::{Array, AsArray, Int64Array};
use arrow::datatypes::DataType;
use datafusion::logical_expr::{ColumnarValue, ScalarUDF, Volatility, create_udf};

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

#[cfg(test)]
mod tests {
    #[test]
    fn addresses() {
        assert_eq!(super::parse_ipv4("10.0.0.0"), Some(167_772_160));
        assert_eq!(super::parse_ipv4("255.255.255.255"), Some(4_294_967_295));
        assert_eq!(super::parse_ipv4("fe80::1"), None);
        assert_eq!(super::parse_ipv4("10.0.0"), None);
    }
}

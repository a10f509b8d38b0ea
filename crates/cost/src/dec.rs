//! Decimal literals evaluated at compile time.
//!
//! The price table is written with prices as the strings people read on a
//! price page (`"0.0000166667"`), not as mantissa/scale pairs that are easy to
//! get wrong. [`dec`] is a `const fn`, so a malformed literal in a `static`
//! is a compile error rather than a run-time panic.

use rust_decimal::Decimal;

/// Parse a non-negative decimal literal such as `"0.023"` or `"730"` at
/// compile time. Only digits and one `.` are accepted; at most 19 digits.
pub(crate) const fn dec(s: &str) -> Decimal {
    let bytes = s.as_bytes();
    let mut mantissa: u64 = 0;
    let mut scale: u32 = 0;
    let mut seen_dot = false;
    let mut digits = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'.' {
            assert!(!seen_dot, "two decimal points in a price literal");
            seen_dot = true;
        } else {
            assert!(b.is_ascii_digit(), "non-digit in a price literal");
            digits += 1;
            assert!(digits <= 19, "too many digits in a price literal");
            mantissa = mantissa * 10 + (b - b'0') as u64;
            if seen_dot {
                scale += 1;
            }
        }
        i += 1;
    }
    assert!(digits > 0, "empty price literal");
    Decimal::from_parts(mantissa as u32, (mantissa >> 32) as u32, 0, false, scale)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn const_parser_agrees_with_runtime_parser() {
        for s in [
            "0.023",
            "730",
            "0.0000166667",
            "1",
            "0.625",
            "1000000",
            "12345678901234.5",
        ] {
            assert_eq!(dec(s), Decimal::from_str(s).unwrap(), "{s}");
        }
    }
}

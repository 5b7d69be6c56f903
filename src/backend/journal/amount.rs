//! Amount parsing as hledger 1.25 reads it: a commodity on either side (with or without a space, quoted when it has
//! spaces or digits), a sign before or after a left commodity, digit groups, an exponent, and the decimal mark taken
//! from a `decimal-mark` or `commodity` directive when there is one — otherwise a lone separator is the decimal mark and
//! a repeated one groups digits. Numbers are built straight into a `Decimal` mantissa; no float, no allocation.

use rust_decimal::Decimal;

/// One parsed amount; `commodity` borrows from the line (quotes stripped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawAmount<'a> {
    pub quantity: Decimal,
    pub commodity: &'a str,
}

/// Decimal marks known while parsing: a file-wide `decimal-mark` directive, and per-commodity marks from `commodity`
/// directives.
pub trait MarkLookup {
    fn mark_for(&self, commodity: &str) -> Option<u8>;
}

fn is_commodity_byte(b: u8) -> bool {
    !(b.is_ascii_digit() || b"-+.@*;\t\r\n \"{}=,()[]".contains(&b))
}

/// Parses an amount at the start of `s` (leading spaces allowed); returns it and the number of bytes used.
/// Errors are `(byte offset in s, message)`.
pub fn parse_amount<'a>(
    s: &'a str,
    marks: &dyn MarkLookup,
) -> Result<(RawAmount<'a>, usize), (usize, String)> {
    let b = s.as_bytes();
    let mut i = skip_spaces(b, 0);
    let mut negative = false;
    if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
        negative = b[i] == b'-';
        i = skip_spaces(b, i + 1);
    }
    // Left commodity?
    let mut commodity = "";
    if i < b.len() && (b[i] == b'"' || is_commodity_byte(b[i])) {
        let (c, next) = read_commodity(s, i)?;
        commodity = c;
        i = skip_spaces(b, next);
        if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
            negative ^= b[i] == b'-';
            i = skip_spaces(b, i + 1);
        }
    }
    let num_start = i;
    // The number: digits and separators; spaces only when digits follow (digit groups like `1 000`).
    let mut end = i;
    while end < b.len() {
        let c = b[end];
        let digit_or_mark = c.is_ascii_digit() || c == b'.' || c == b',';
        let space_group = c == b' '
            && commodity.is_empty()
            && end > num_start
            && b[end - 1].is_ascii_digit()
            && b.get(end + 1..end + 4)
                .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
            && b.get(end + 4).is_none_or(|d| !d.is_ascii_digit())
            && groups_by_space(&b[num_start..end]);
        if !(digit_or_mark || space_group) {
            break;
        }
        end += 1;
    }
    if end == num_start || !b[num_start..end].iter().any(u8::is_ascii_digit) {
        return Err((num_start, "expected an amount".into()));
    }
    let number = &s[num_start..end];
    let mut j = end;
    // Exponent.
    let mut exponent: i32 = 0;
    if j < b.len() && (b[j] == b'e' || b[j] == b'E') {
        let mut k = j + 1;
        let mut eneg = false;
        if k < b.len() && (b[k] == b'-' || b[k] == b'+') {
            eneg = b[k] == b'-';
            k += 1;
        }
        let ds = k;
        while k < b.len() && b[k].is_ascii_digit() {
            k += 1;
        }
        if k > ds {
            exponent = s[ds..k]
                .parse::<i32>()
                .map_err(|_| (ds, "exponent too large".to_string()))?;
            if eneg {
                exponent = -exponent;
            }
            j = k;
        }
    }
    // Right commodity?
    if commodity.is_empty() {
        let k = skip_spaces(b, j);
        if k < b.len() && (b[k] == b'"' || is_commodity_byte(b[k])) {
            let (c, next) = read_commodity(s, k)?;
            commodity = c;
            j = next;
        }
    }
    let mark = marks.mark_for(commodity);
    let quantity = parse_number(number, mark, exponent).map_err(|m| (num_start, m))?;
    Ok((
        RawAmount {
            quantity: if negative { -quantity } else { quantity },
            commodity,
        },
        j,
    ))
}

fn groups_by_space(prefix: &[u8]) -> bool {
    // `1 000` style grouping: only digits so far, at most three after any previous space.
    prefix.iter().all(|c| c.is_ascii_digit() || *c == b' ')
}

fn skip_spaces(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
        i += 1;
    }
    i
}

fn read_commodity(s: &str, i: usize) -> Result<(&str, usize), (usize, String)> {
    let b = s.as_bytes();
    if b[i] == b'"' {
        match s[i + 1..].find('"') {
            Some(len) => Ok((&s[i + 1..i + 1 + len], i + 2 + len)),
            None => Err((i, "unclosed quote in commodity".into())),
        }
    } else {
        let mut j = i;
        while j < b.len() && is_commodity_byte(b[j]) {
            // Step over a whole UTF-8 character.
            j += utf8_len(b[j]);
        }
        Ok((&s[i..j.min(s.len())], j.min(s.len())))
    }
}

fn utf8_len(first: u8) -> usize {
    match first {
        0x00..=0x7f => 1,
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        _ => 4,
    }
}

/// Builds a decimal from digits and separators. `mark` is the known decimal mark, if any.
fn parse_number(number: &str, mark: Option<u8>, exponent: i32) -> Result<Decimal, String> {
    let b = number.as_bytes();
    let decimal_mark = match mark {
        Some(m) => Some(m),
        None => {
            let dots = b.iter().filter(|c| **c == b'.').count();
            let commas = b.iter().filter(|c| **c == b',').count();
            match (dots, commas) {
                (0, 0) => None,
                (_, 0) if dots == 1 => Some(b'.'),
                (0, _) if commas == 1 => Some(b','),
                (_, 0) | (0, _) => None, // repeated separator: digit groups
                _ => b.iter().rev().find(|c| **c == b'.' || **c == b',').copied(),
            }
        }
    };
    let mut mantissa: i128 = 0;
    let mut scale: u32 = 0;
    let mut seen_mark = false;
    for &c in b {
        match c {
            b'0'..=b'9' => {
                mantissa = mantissa
                    .checked_mul(10)
                    .and_then(|m| m.checked_add(i128::from(c - b'0')))
                    .ok_or_else(|| format!("number {number} is too large"))?;
                if seen_mark {
                    scale += 1;
                }
            }
            _ if Some(c) == decimal_mark => {
                if seen_mark {
                    return Err(format!("number {number} has more than one decimal mark"));
                }
                seen_mark = true;
            }
            b'.' | b',' | b' ' => {
                if seen_mark {
                    return Err(format!(
                        "digit group mark after the decimal mark in {number}"
                    ));
                }
            }
            _ => return Err(format!("unexpected {:?} in number {number}", c as char)),
        }
    }
    let mut scale = i64::from(scale) - i64::from(exponent);
    while scale < 0 {
        mantissa = mantissa
            .checked_mul(10)
            .ok_or_else(|| format!("number {number} is too large"))?;
        scale += 1;
    }
    if scale > 28 {
        return Err(format!("number {number} has too many decimal places"));
    }
    let m = i64::try_from(mantissa).ok();
    match m {
        Some(m) => Ok(Decimal::new(m, scale as u32)),
        None => Decimal::try_from_i128_with_scale(mantissa, scale as u32)
            .map_err(|_| format!("number {number} is too large")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    struct NoMarks;
    impl MarkLookup for NoMarks {
        fn mark_for(&self, _: &str) -> Option<u8> {
            None
        }
    }
    struct Comma;
    impl MarkLookup for Comma {
        fn mark_for(&self, _: &str) -> Option<u8> {
            Some(b',')
        }
    }

    fn amt(s: &str) -> (String, String) {
        let (a, _) = parse_amount(s, &NoMarks).expect("amount parses");
        (a.quantity.normalize().to_string(), a.commodity.to_string())
    }

    fn d(s: &str) -> String {
        Decimal::from_str(s)
            .expect("decimal")
            .normalize()
            .to_string()
    }

    #[test]
    fn like_hledger() {
        assert_eq!(amt("1,000 EUR"), (d("1"), "EUR".into()));
        assert_eq!(amt("$1,5"), (d("1.5"), "$".into()));
        assert_eq!(amt("2.000 GBP"), (d("2"), "GBP".into()));
        assert_eq!(amt("EUR 1.234,56"), (d("1234.56"), "EUR".into()));
        assert_eq!(amt("-$5"), (d("-5"), "$".into()));
        assert_eq!(amt("$-5"), (d("-5"), "$".into()));
        assert_eq!(amt("- $3"), (d("-3"), "$".into()));
        assert_eq!(amt("1E3 JPY"), (d("1000"), "JPY".into()));
        assert_eq!(amt("10 \"Green apples\""), (d("10"), "Green apples".into()));
        assert_eq!(amt("1 000.5 CHF"), (d("1000.5"), "CHF".into()));
        assert_eq!(amt("$1,000,000.25"), (d("1000000.25"), "$".into()));
        assert_eq!(amt("1.000.000 EUR"), (d("1000000"), "EUR".into()));
        assert_eq!(amt("€12"), (d("12"), "€".into()));
        assert_eq!(amt("12"), (d("12"), "".into()));
        assert_eq!(amt("-1.5e-2 BTC"), (d("-0.015"), "BTC".into()));
    }

    #[test]
    fn directive_marks_win() {
        let (a, _) = parse_amount("1.234,56 EUR", &Comma).expect("parses");
        assert_eq!(a.quantity.normalize().to_string(), "1234.56");
        let (a, _) = parse_amount("1,000 EUR", &Comma).expect("parses");
        assert_eq!(a.quantity.normalize().to_string(), "1");
    }

    #[test]
    fn reports_where() {
        let e = parse_amount("  abc", &NoMarks).expect_err("no number");
        assert_eq!(e.0, 5);
        let e = parse_amount("\"USD 5", &NoMarks).expect_err("unclosed");
        assert_eq!(e.0, 0);
    }

    #[test]
    fn stops_before_cost_and_comment() {
        let (a, used) = parse_amount("10 EUR @ $1.10", &NoMarks).expect("parses");
        assert_eq!(a.commodity, "EUR");
        assert_eq!(&"10 EUR @ $1.10"[used..], " @ $1.10");
    }
}

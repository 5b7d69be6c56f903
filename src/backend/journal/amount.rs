//! Amounts as hledger 1.25 lexes them, in two steps. `lex` finds where an amount's parts are — sign, commodity on
//! either side (quoted when it has spaces or digits), the number with its digit groups and decimal mark, an exponent —
//! without knowing any directive, so the editor and the reader agree on where an amount ends. `value` then turns a
//! lexed number into a `Decimal`, using the decimal mark a `decimal-mark` or `commodity` directive declared when the
//! number alone is ambiguous (`1,000`: one separator, digits on both sides). hledger's guards are kept: `$1..2` and
//! `$1,,000` are "invalid use of separator", `1.5 2` is "excessive trailing digits", digit groups and an exponent do
//! not mix; a number `Decimal` cannot hold exactly (more than 28 digits) is an error at its column, never a rounded
//! value. Numbers are built straight into a mantissa: no float, no allocation.

use super::syntax::{SyntaxError, is_space_at};
use rust_decimal::Decimal;
use std::ops::Range;

/// Decimal marks known while parsing: a file-wide `decimal-mark` directive, and per-commodity marks from `commodity`
/// directives.
pub trait MarkLookup {
    fn mark_for(&self, commodity: &str) -> Option<u8>;
}

/// How the digits of a number are separated, as hledger's `rawnumberp` classifies them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Digits, perhaps with one decimal mark that is not between two digit runs (`12`, `.5`, `5.`).
    Plain { mark: Option<u8> },
    /// Digit groups split by `sep` (`.`, `,` or a space), perhaps then a decimal mark: `1,000,000.25`, `1 2 3`.
    Grouped { sep: u8, mark: Option<u8> },
    /// One `.` or `,` between two digit runs: a decimal mark or a digit group mark, decided by the directives.
    Ambiguous { sep: u8 },
}

/// Where an amount's parts are, as byte ranges of the text it was lexed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmountLex {
    /// The whole amount, sign to commodity.
    pub span: Range<usize>,
    pub negative: bool,
    /// The commodity without quotes; empty (at the number) when none is written.
    pub commodity: Range<usize>,
    pub number: Range<usize>,
    pub shape: Shape,
    pub exponent: i32,
}

impl AmountLex {
    pub fn commodity<'t>(&self, text: &'t str) -> &'t str {
        &text[self.commodity.clone()]
    }
}

/// hledger's `isNonsimpleCommodityChar`: what ends a commodity symbol written without quotes.
fn ends_commodity(c: char) -> bool {
    c.is_ascii_digit() || "-+.@*;\t\n\r \"{}=".contains(c)
}

/// Lexes the amount starting at byte `at` of `text`. Errors point at the offending byte.
pub fn lex(text: &str, at: usize) -> Result<AmountLex, SyntaxError> {
    let b = text.as_bytes();
    let mut i = at;
    let mut negative = false;
    let sign = |i: &mut usize, negative: &mut bool| {
        if *i < b.len() && (b[*i] == b'-' || b[*i] == b'+') {
            *negative ^= b[*i] == b'-';
            *i = skip_blanks(text, *i + 1);
        }
    };
    sign(&mut i, &mut negative);
    let mut commodity = None;
    if i < b.len() && !b[i].is_ascii_digit() && b[i] != b'.' && b[i] != b',' {
        let c = commodity_at(text, i)?;
        i = skip_blanks(text, c.1);
        commodity = Some(c.0);
        sign(&mut i, &mut negative);
    }
    let (number, shape) = lex_number(text, i)?;
    let mut end = number.end;
    let mut exponent = 0;
    if let Some((e, next)) = exponent_at(text, end)? {
        if matches!(shape, Shape::Grouped { .. }) {
            return Err(SyntaxError::new(
                number.start,
                "invalid number: digit separators and exponents may not be used together",
            ));
        }
        exponent = e;
        end = next;
    }
    let commodity = match commodity {
        Some(c) => c,
        None => {
            let k = skip_blanks(text, end);
            match text[k..].chars().next() {
                Some(c) if c == '"' || !ends_commodity(c) && !is_space_at(text, k) => {
                    let (c, next) = commodity_at(text, k)?;
                    end = next;
                    c
                }
                _ => number.start..number.start,
            }
        }
    };
    Ok(AmountLex {
        span: at..end.max(commodity.end),
        negative,
        commodity,
        number,
        shape,
        exponent,
    })
}

/// A commodity symbol at `i`: quoted, or a run of characters that do not end one. Returns the symbol's range
/// (without quotes) and where lexing continues.
fn commodity_at(text: &str, i: usize) -> Result<(Range<usize>, usize), SyntaxError> {
    if text[i..].starts_with('"') {
        let inner = &text[i + 1..];
        // As hledger: a quoted symbol cannot hold `;`; the error is where the closing quote was expected.
        return match inner.find(['"', ';']) {
            Some(k) if inner.as_bytes()[k] == b'"' => Ok((i + 1..i + 1 + k, i + 2 + k)),
            k => Err(SyntaxError::new(
                k.map_or(text.len(), |k| i + 1 + k),
                "expected `\"` closing the quoted commodity symbol",
            )),
        };
    }
    let len = text[i..]
        .char_indices()
        .find(|&(k, c)| ends_commodity(c) || is_space_at(text, i + k))
        .map_or(text.len() - i, |(k, _)| k);
    if len == 0 {
        return Err(SyntaxError::new(i, "expected an amount"));
    }
    Ok((i..i + len, i + len))
}

fn digits(b: &[u8], i: usize) -> usize {
    let mut j = i;
    while j < b.len() && b[j].is_ascii_digit() {
        j += 1;
    }
    j
}

fn is_mark(c: u8) -> bool {
    c == b'.' || c == b','
}

/// hledger's `rawnumberp`: the number's extent and shape, then its two guards against mistyped numbers.
fn lex_number(text: &str, start: usize) -> Result<(Range<usize>, Shape), SyntaxError> {
    let b = text.as_bytes();
    let at = |i: usize| b.get(i).copied().unwrap_or(0);
    let (end, shape) = if is_mark(at(start)) && at(start + 1).is_ascii_digit() {
        (
            digits(b, start + 1),
            Shape::Plain {
                mark: Some(at(start)),
            },
        )
    } else {
        let g1 = digits(b, start);
        if g1 == start {
            return Err(SyntaxError::new(start, "expected an amount (a number)"));
        }
        let sep = at(g1);
        if (is_mark(sep) || sep == b' ') && at(g1 + 1).is_ascii_digit() {
            let mut end = digits(b, g1 + 1);
            let mut groups = 2;
            while at(end) == sep && at(end + 1).is_ascii_digit() {
                end = digits(b, end + 1);
                groups += 1;
            }
            let dec = at(end);
            if is_mark(dec) && dec != sep {
                (
                    digits(b, end + 1),
                    Shape::Grouped {
                        sep,
                        mark: Some(dec),
                    },
                )
            } else if groups == 2 && is_mark(sep) {
                (end, Shape::Ambiguous { sep })
            } else {
                (end, Shape::Grouped { sep, mark: None })
            }
        } else if is_mark(sep) {
            (g1 + 1, Shape::Plain { mark: Some(sep) })
        } else {
            (g1, Shape::Plain { mark: None })
        }
    };
    if is_mark(at(end)) {
        return Err(SyntaxError::new(
            end,
            "invalid number (invalid use of separator)",
        ));
    }
    if at(end) == b' ' && at(end + 1).is_ascii_digit() {
        return Err(SyntaxError::new(
            end + 1,
            "invalid number (excessive trailing digits)",
        ));
    }
    Ok((start..end, shape))
}

/// `e3`, `E-2`, `e+ 1` right after a number; `None` when what follows is not an exponent (`5EUR`).
fn exponent_at(text: &str, i: usize) -> Result<Option<(i32, usize)>, SyntaxError> {
    let b = text.as_bytes();
    if !matches!(b.get(i), Some(b'e' | b'E')) {
        return Ok(None);
    }
    let mut k = i + 1;
    let mut negative = false;
    if matches!(b.get(k), Some(b'-' | b'+')) {
        negative = b[k] == b'-';
        k = skip_blanks(text, k + 1);
    }
    let end = digits(b, k);
    if end == k {
        return Ok(None);
    }
    let e: i32 = text[k..end]
        .parse()
        .map_err(|_| SyntaxError::new(k, "exponent too large"))?;
    Ok(Some((if negative { -e } else { e }, end)))
}

/// Skips spaces and tabs (and the other characters hledger counts as spaces inside a line: vertical tab, form feed,
/// no-break space and the Unicode space separators, as `syntax::is_space`).
pub fn skip_blanks(text: &str, mut i: usize) -> usize {
    let b = text.as_bytes();
    loop {
        match b.get(i) {
            Some(b' ' | b'\t' | 0x0b | 0x0c) => i += 1,
            Some(&c) if c >= 0x80 && is_space_at(text, i) => {
                i += text[i..].chars().next().map_or(1, char::len_utf8);
            }
            _ => return i,
        }
    }
}

/// The amount's quantity, signed. `marks` settles an ambiguous number: with no known decimal mark, a lone `.` or
/// `,` between digits is the decimal mark, as in hledger.
pub fn value(lex: &AmountLex, text: &str, marks: &dyn MarkLookup) -> Result<Decimal, SyntaxError> {
    let decimal = match lex.shape {
        Shape::Plain { mark } | Shape::Grouped { mark, .. } => mark,
        Shape::Ambiguous { sep } => match marks.mark_for(lex.commodity(text)) {
            Some(m) if m != sep => None,
            _ => Some(sep),
        },
    };
    let number = &text[lex.number.clone()];
    let too_big = || {
        SyntaxError::new(
            lex.number.start,
            format!("number {number} has more digits than tally can hold exactly (28)"),
        )
    };
    let mut mantissa: i128 = 0;
    let mut scale: i64 = 0;
    let mut after_mark = false;
    for &c in number.as_bytes() {
        if c.is_ascii_digit() {
            mantissa = mantissa
                .checked_mul(10)
                .and_then(|m| m.checked_add(i128::from(c - b'0')))
                .ok_or_else(too_big)?;
            scale += i64::from(after_mark);
        } else if Some(c) == decimal && !after_mark {
            after_mark = true;
        }
    }
    scale -= i64::from(lex.exponent);
    while scale < 0 {
        mantissa = mantissa.checked_mul(10).ok_or_else(too_big)?;
        scale += 1;
    }
    let scale = u32::try_from(scale).map_err(|_| too_big())?;
    if scale > 28 {
        return Err(too_big());
    }
    let q = Decimal::try_from_i128_with_scale(mantissa, scale).map_err(|_| too_big())?;
    Ok(if lex.negative { -q } else { q })
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

    fn amt_with(s: &str, marks: &dyn MarkLookup) -> (String, String) {
        let l = lex(s, 0).expect("amount lexes");
        assert_eq!(
            l.span.end,
            s.trim_end().len(),
            "{s}: the whole text is the amount"
        );
        let q = value(&l, s, marks).expect("amount has a value");
        (q.normalize().to_string(), l.commodity(s).to_string())
    }

    fn amt(s: &str) -> (String, String) {
        amt_with(s, &NoMarks)
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
        // Checked against hledger 1.25: space groups of any size, on either side of a commodity.
        assert_eq!(amt("1 2 3"), (d("123"), "".into()));
        assert_eq!(amt("1 234 567.89"), (d("1234567.89"), "".into()));
        assert_eq!(amt("$1 000"), (d("1000"), "$".into()));
        assert_eq!(amt("$1,2,3"), (d("123"), "$".into()));
        assert_eq!(amt("5 AB,C"), (d("5"), "AB,C".into()));
        assert_eq!(amt("5 (X)"), (d("5"), "(X)".into()));
        assert_eq!(amt(".5"), (d("0.5"), "".into()));
        assert_eq!(amt("5."), (d("5"), "".into()));
        assert_eq!(amt("1,000e3"), (d("1000"), "".into()));
        assert_eq!(amt("5EUR"), (d("5"), "EUR".into()));
    }

    #[test]
    fn directive_marks_settle_ambiguous_numbers_only() {
        assert_eq!(
            amt_with("1.234,56 EUR", &Comma),
            (d("1234.56"), "EUR".into())
        );
        assert_eq!(amt_with("1,000 EUR", &Comma), (d("1"), "EUR".into()));
        assert_eq!(amt_with("1.000 EUR", &Comma), (d("1000"), "EUR".into()));
        assert_eq!(
            amt_with("1,000,000 EUR", &Comma),
            (d("1000000"), "EUR".into())
        );
    }

    #[test]
    fn mistyped_numbers_are_errors_where_hledger_says() {
        let e = lex("$1..2", 0).expect_err("two marks");
        assert_eq!(
            (e.at, e.message.as_str()),
            (3, "invalid number (invalid use of separator)")
        );
        let e = lex("$1,,000", 0).expect_err("two marks");
        assert_eq!(e.at, 3);
        let e = lex("1.5 2", 0).expect_err("trailing digits");
        assert_eq!(
            (e.at, e.message.as_str()),
            (4, "invalid number (excessive trailing digits)")
        );
        let e = lex("1,000,000.5,1", 0).expect_err("mark after decimals");
        assert_eq!(e.at, 11);
        let e = lex("1,000,000e3", 0).expect_err("groups and exponent");
        assert!(e.message.contains("exponents"), "{e:?}");
        let e = lex("  abc", 2).expect_err("no number");
        assert_eq!(e.at, 5);
        let e = lex("\"USD 5", 0).expect_err("unclosed");
        assert_eq!(e.at, 6);
    }

    #[test]
    fn numbers_decimal_cannot_hold_are_errors_not_rounded() {
        let s = "123456789012345678901234567890 X";
        let l = lex(s, 0).expect("lexes");
        let e = value(&l, s, &NoMarks).expect_err("too many digits");
        assert_eq!(e.at, 0);
        assert!(e.message.contains("28"), "{e:?}");
        let s = "0.00000000000000000000000000001";
        let l = lex(s, 0).expect("lexes");
        assert!(value(&l, s, &NoMarks).is_err());
        let s = "79228162514264337593543950335";
        let l = lex(s, 0).expect("lexes");
        assert_eq!(value(&l, s, &NoMarks).expect("fits").to_string(), s);
    }

    #[test]
    fn stops_before_cost_and_comment() {
        let s = "10 EUR @ $1.10";
        let l = lex(s, 0).expect("lexes");
        assert_eq!(l.commodity(s), "EUR");
        assert_eq!(&s[l.span.end..], " @ $1.10");
        let s = "$5;note";
        assert_eq!(lex(s, 0).expect("lexes").span, 0..2);
    }
}

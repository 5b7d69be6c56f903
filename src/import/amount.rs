//! Amounts in CSV fields, read as hledger's CSV reader reads them: signs simplified first (`(5)` and `-5` are
//! negative, `--5`, `-(5)` and `+5` are positive, a bare sign is empty), the `currency` put in front, then the journal
//! amount syntax — a commodity before or after the number (quoted when it has spaces or digits), a sign before or
//! after a left commodity, digit groups, an exponent, and a cost after `@` (unit) or `@@` (total). A number with one
//! kind of mark is ambiguous: without `decimal-mark` one mark is a decimal mark and several are digit groups; with
//! both `.` and `,` the last is the decimal mark. Also how amounts are written back as journal text.

use rust_decimal::Decimal;
use std::str::FromStr;

/// A cost (`@ UNIT` or `@@ TOTAL`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cost {
    /// `@@`: the total cost, not the cost of one unit.
    pub total: bool,
    pub currency: String,
    pub quantity: Decimal,
}

/// An amount as hledger reads it: commodity, quantity and an optional cost.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Amount {
    pub currency: String,
    pub quantity: Decimal,
    pub cost: Option<Cost>,
}

impl Amount {
    /// What the amount is worth in its cost's commodity (itself when it has no cost).
    pub fn at_cost(&self) -> (String, Decimal) {
        match &self.cost {
            None => (self.currency.clone(), self.quantity),
            Some(c) if c.total => {
                let sign = if self.quantity.is_sign_negative() && !self.quantity.is_zero() {
                    -Decimal::ONE
                } else if self.quantity.is_zero() {
                    Decimal::ZERO
                } else {
                    Decimal::ONE
                };
                (c.currency.clone(), c.quantity * sign)
            }
            Some(c) => (c.currency.clone(), self.quantity * c.quantity),
        }
    }

    /// The amount as journal text: `$-4.50`, `10EUR @ USD1.1`, `"ab c"5`.
    pub fn journal_text(&self) -> String {
        let mut text = money(&self.currency, self.quantity);
        if let Some(c) = &self.cost {
            let at = if c.total { "@@" } else { "@" };
            text.push_str(&format!(" {at} {}", money(&c.currency, c.quantity)));
        }
        text
    }
}

/// A commodity and quantity as journal text, the commodity quoted when hledger would not read it bare.
pub fn money(currency: &str, quantity: Decimal) -> String {
    let bare = currency
        .chars()
        .all(|c| !c.is_ascii_digit() && !c.is_whitespace() && !"-+.@*;\"{}=".contains(c));
    if bare {
        format!("{currency}{quantity}")
    } else {
        format!("\"{currency}\"{quantity}")
    }
}

/// hledger's sign simplification of a CSV amount (before the currency is put in front).
pub fn simplify_sign(text: &str) -> String {
    let t = text.trim();
    if let Some(inner) = t.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
        return simplify_sign(&negated(inner));
    }
    if let Some(inner) = t.strip_prefix("-(").and_then(|r| r.strip_suffix(')')) {
        return simplify_sign(inner);
    }
    if let Some(rest) = t.strip_prefix("--") {
        return rest.to_string();
    }
    if let Some(rest) = t.strip_prefix("-+") {
        return negated(rest);
    }
    if matches!(t, "-" | "+" | "()") {
        return String::new();
    }
    match t.strip_prefix('+') {
        Some(rest) => simplify_sign(rest),
        None => t.to_string(),
    }
}

fn negated(text: &str) -> String {
    match text.strip_prefix('-') {
        Some(rest) => rest.to_string(),
        None => format!("-{text}"),
    }
}

/// Reads `text` (signs already simplified, currency in front) as a journal amount.
pub fn parse(text: &str, decimal_mark: Option<char>) -> Result<Amount, String> {
    let bad = || format!("{text:?} is not an amount");
    let (main, cost) = match text.find('@') {
        Some(at) => (&text[..at], Some(&text[at..])),
        None => (text, None),
    };
    let main = without_lot_price(main);
    let (currency, quantity, rest) = single(main.trim(), decimal_mark).ok_or_else(bad)?;
    if !rest.trim().is_empty() {
        return Err(bad());
    }
    let cost = match cost {
        None => None,
        Some(c) => {
            let (total, body) = match c.strip_prefix("@@") {
                Some(b) => (true, b),
                None => (false, &c[1..]),
            };
            let (currency, quantity, rest) = single(body.trim(), decimal_mark).ok_or_else(bad)?;
            if !rest.trim().is_empty() {
                return Err(bad());
            }
            Some(Cost {
                total,
                currency,
                quantity,
            })
        }
    };
    Ok(Amount {
        currency,
        quantity,
        cost,
    })
}

/// A Ledger-style lot price (`{2 EUR}`) after the amount, which hledger reads and ignores.
fn without_lot_price(text: &str) -> String {
    match (text.find('{'), text.rfind('}')) {
        (Some(a), Some(b)) if a < b => format!("{}{}", &text[..a], &text[b + 1..]),
        _ => text.to_string(),
    }
}

/// One commodity and quantity at the start of `text`, and what follows it.
fn single(text: &str, decimal_mark: Option<char>) -> Option<(String, Decimal, &str)> {
    let (negative, t) = sign(text);
    if let Some((currency, after)) = commodity(t) {
        let (negative2, after) = sign(after.trim_start());
        let (q, rest) = number(after, decimal_mark)?;
        let q = if negative != negative2 { -q } else { q };
        return Some((currency, q, rest));
    }
    let (q, rest) = number(t, decimal_mark)?;
    let q = if negative { -q } else { q };
    match commodity(rest.trim_start()) {
        Some((currency, after)) => Some((currency, q, after)),
        None => Some((String::new(), q, rest)),
    }
}

fn sign(text: &str) -> (bool, &str) {
    match text.strip_prefix('-') {
        Some(rest) => (true, rest.trim_start()),
        None => (false, text.strip_prefix('+').unwrap_or(text).trim_start()),
    }
}

/// A quoted commodity (`"ab c"`) or a bare one (no digits, spaces or `-+.,@*;"{}=`).
fn commodity(text: &str) -> Option<(String, &str)> {
    if let Some(rest) = text.strip_prefix('"') {
        let end = rest.find('"')?;
        return Some((rest[..end].to_string(), &rest[end + 1..]));
    }
    let end = text
        .find(|c: char| c.is_ascii_digit() || c.is_whitespace() || "-+.,@*;\"{}=".contains(c))
        .unwrap_or(text.len());
    (end > 0).then(|| (text[..end].to_string(), &text[end..]))
}

/// A number with digit groups (`.`, `,` or a space between digits), a decimal mark and an exponent.
fn number(text: &str, decimal_mark: Option<char>) -> Option<(Decimal, &str)> {
    let bytes = text.as_bytes();
    let mut end = 0;
    while end < bytes.len() {
        let c = bytes[end];
        let digit_next = bytes.get(end + 1).is_some_and(u8::is_ascii_digit);
        if c.is_ascii_digit() || c == b'.' || c == b',' || (c == b' ' && end > 0 && digit_next) {
            end += 1;
        } else {
            break;
        }
    }
    let raw = text[..end].trim_end_matches(' ');
    if !raw.bytes().any(|c| c.is_ascii_digit()) {
        return None;
    }
    let mut q = Decimal::from_str(&plain_digits(raw, decimal_mark)?).ok()?;
    let (exponent, rest) = exponent(&text[raw.len()..]);
    if exponent > 0 {
        for _ in 0..exponent {
            q = q.checked_mul(Decimal::TEN)?;
        }
    } else if exponent < 0 {
        let scale = q.scale() + exponent.unsigned_abs();
        (scale <= 28).then_some(())?;
        q.set_scale(scale).ok()?;
    }
    Some((q, rest))
}

/// `raw`'s digits with `.` as the decimal mark, or `None` when its marks make no number.
fn plain_digits(raw: &str, decimal_mark: Option<char>) -> Option<String> {
    let marks: Vec<char> = raw.chars().filter(|c| matches!(c, '.' | ',')).collect();
    let decimal = match (marks.first(), marks.last()) {
        (None, _) | (_, None) => None,
        (Some(a), Some(b)) if a != b => Some(*b),
        (Some(m), _) => match decimal_mark {
            Some(d) if d == *m && marks.len() == 1 => Some(d),
            Some(d) if d == *m => return None,
            Some(_) => None,
            None if marks.len() == 1 => Some(*m),
            None => None,
        },
    };
    if let Some(d) = decimal {
        let after = raw.rsplit(d).next().unwrap_or("");
        if raw.matches(d).count() > 1 || after.contains(['.', ',', ' ']) {
            return None;
        }
    }
    let plain: String = raw
        .chars()
        .filter_map(|c| match c {
            _ if Some(c) == decimal => Some('.'),
            '0'..='9' => Some(c),
            _ => None,
        })
        .collect();
    Some(format!("0{}", plain.trim_end_matches('.')))
}

/// `e3` / `E-2` after a number (only when digits follow, so `5EUR` stays a commodity).
fn exponent(text: &str) -> (i32, &str) {
    let Some(rest) = text.strip_prefix(['e', 'E']) else {
        return (0, text);
    };
    let digits_from = usize::from(rest.starts_with(['-', '+']));
    let len = rest[digits_from..]
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len() - digits_from);
    match rest[..digits_from + len].parse::<i32>() {
        Ok(e) if len > 0 && e.abs() <= 28 => (e, &rest[digits_from + len..]),
        _ => (0, text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(text: &str, mark: Option<char>) -> Option<(String, String)> {
        parse(&simplify_sign(text), mark)
            .ok()
            .map(|a| (a.currency, a.quantity.normalize().to_string()))
    }

    #[test]
    fn numbers_read_as_hledger_reads_them() {
        let s = |c: &str, n: &str| Some((c.to_string(), n.to_string()));
        assert_eq!(q("1,000", None), s("", "1"));
        assert_eq!(q("1,000,000", None), s("", "1000000"));
        assert_eq!(q("1 000,5", None), s("", "1000.5"));
        assert_eq!(q("1.000,50", None), s("", "1000.5"));
        assert_eq!(q("1.000", Some(',')), s("", "1000"));
        assert_eq!(q("1,5", Some(',')), s("", "1.5"));
        assert_eq!(q("5e3", None), s("", "5000"));
        assert_eq!(q("5E-2", None), s("", "0.05"));
        assert_eq!(q("EUR-5", None), s("EUR", "-5"));
        assert_eq!(q("-$5", None), s("$", "-5"));
        assert_eq!(q("$ 5", None), s("$", "5"));
        assert_eq!(q("5 €", None), s("€", "5"));
        assert_eq!(q("(5)", None), s("", "-5"));
        assert_eq!(q("-(5)", None), s("", "5"));
        assert_eq!(q("--5", None), s("", "5"));
        assert_eq!(q("- 5", None), s("", "-5"));
        assert_eq!(q(".5", None), s("", "0.5"));
        assert_eq!(q("%3", None), s("%", "3"));
        assert_eq!(q("5-", None), None);
        assert_eq!(q("abc", None), None);
        assert_eq!(q("5 USD ; x", None), None);
        assert_eq!(simplify_sign("()"), "");
    }

    #[test]
    fn costs_read_and_convert() {
        let a = parse("10 EUR @ 1.1 USD", None).expect("unit");
        assert_eq!(
            a.at_cost(),
            ("USD".to_string(), Decimal::from_str("11.0").expect("d"))
        );
        let a = parse("-3 EUR @@ 4 USD", None).expect("total");
        assert_eq!(a.at_cost(), ("USD".to_string(), Decimal::from(-4)));
        assert_eq!(a.journal_text(), "EUR-3 @@ USD4");
        assert_eq!(money("ab c", Decimal::ONE), "\"ab c\"1");
    }
}

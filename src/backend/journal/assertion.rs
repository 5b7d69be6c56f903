//! Writing a balance assertion on one posting of an entry, or taking one off: what reconciling against a bank
//! statement leaves in the file (`= $1,234.56` after the posting's amount, or `=*` when subaccounts count). The
//! asserted amount is written in the posting's own style — commodity on the same side, the same spacing, the same
//! decimal mark and at least as many decimals — so the line reads like the user's own. Only the span from the end of
//! the posting's amounts to the assertion changes; comments, costs and spacing stay as written. A posting without a
//! written amount is refused (an assertion there would become a balance assignment), and so is one that already
//! carries an assertion (the save decides beforehand whether it already asserts the same balance).

use super::amount::{AmountLex, Shape};
use super::patch::PatchError;
use super::syntax::{self, BodyLine, Line};
use crate::domain::Money;
use std::ops::Range;

/// An assertion to write on (or take off) the posting with index `posting` among the entry's postings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssertionEdit {
    pub posting: usize,
    /// The account the posting is to, as the reader names it (the save checks it; the text editor does not).
    pub account: String,
    /// The balance to assert; `None` takes the posting's assertion off.
    pub balance: Option<Money>,
    /// `=*`: subaccounts included.
    pub inclusive: bool,
    /// Written before the assertion on a posting without a written amount (in the style of another posting of the
    /// entry in that commodity); taken off with the assertion.
    pub amount: Option<Money>,
}

/// The text edit (a range of the entry and its replacement) for `edit`; `None` when there is nothing to take off.
pub fn text_edit(
    lines: &[Line<'_>],
    body: &[BodyLine],
    edit: &AssertionEdit,
) -> Result<Option<(Range<usize>, String)>, PatchError> {
    let found = body
        .iter()
        .enumerate()
        .filter_map(|(i, b)| match b {
            BodyLine::Posting(p) => Some((i, p)),
            BodyLine::Comment(_) => None,
        })
        .nth(edit.posting);
    let Some((i, p)) = found else {
        return Err(PatchError::NoSuchPosting(edit.posting + 1));
    };
    let line = lines[i + 1];
    let Some(amount) = &p.amount else {
        return elided(lines, body, (line, p), edit);
    };
    match (&edit.balance, &p.assertion) {
        (Some(_), Some(_)) => Err(PatchError::AlreadyAsserted(edit.posting + 1)),
        (Some(balance), None) => {
            let op = if edit.inclusive { "=*" } else { "=" };
            let text = format!(" {op} {}", written_like(line.text, amount, balance)?);
            let at = line.start + p.amounts.end;
            Ok(Some((at..at, text)))
        }
        (None, None) => Ok(None),
        // Written with the assertion where the posting had no amount: both go.
        (None, Some(_)) if edit.amount.is_some() => Ok(Some((
            line.start + p.account.end..line.start + p.amounts.end,
            String::new(),
        ))),
        (None, Some(a)) => {
            let kept = line.text[..a.at].trim_end_matches(syntax::is_space).len();
            Ok(Some((
                line.start + kept..line.start + p.amounts.end,
                String::new(),
            )))
        }
    }
}

/// The edit on a posting without a written amount: its amount (`edit.amount`) and the assertion written after the
/// account, in the style of another posting of the entry in that commodity — or, taking the assertion off, both
/// taken off again.
fn elided(
    lines: &[Line<'_>],
    body: &[BodyLine],
    (line, p): (Line<'_>, &syntax::Posting),
    edit: &AssertionEdit,
) -> Result<Option<(Range<usize>, String)>, PatchError> {
    let no_amount = || PatchError::NoWrittenAmount(edit.posting + 1);
    let (Some(balance), Some(amount), None) = (&edit.balance, &edit.amount, &p.assertion) else {
        return Err(no_amount());
    };
    let like = body
        .iter()
        .zip(&lines[1..])
        .filter_map(|(b, l)| match b {
            BodyLine::Posting(q) => Some((l.text, q.amount.as_ref()?)),
            BodyLine::Comment(_) => None,
        })
        .find(|(text, lex)| lex.commodity(text) == amount.commodity)
        .ok_or_else(no_amount)?;
    let op = if edit.inclusive { "=*" } else { "=" };
    let text = format!(
        "  {} {op} {}",
        written_like(like.0, like.1, amount)?,
        written_like(like.0, like.1, balance)?
    );
    let at = line.start + p.account.end;
    Ok(Some((at..at, text)))
}

/// `money` written as the amount `like` is written in `line`: commodity side and spacing, decimal mark, decimals.
fn written_like(line: &str, like: &AmountLex, money: &Money) -> Result<String, PatchError> {
    let commodity = like.commodity(line);
    if commodity != money.commodity {
        return Err(PatchError::OtherCommodity {
            posting: commodity.to_string(),
            asserted: money.commodity.clone(),
        });
    }
    let (mark, decimals) = decimal_style(&line[like.number.clone()], like.shape);
    let q = money.quantity.abs().normalize();
    let scale = (q.scale() as usize).max(decimals);
    let mut number = format!("{q:.scale$}");
    if mark == ',' {
        number = number.replace('.', ",");
    }
    let sign = if money.quantity.is_sign_negative() && !money.quantity.is_zero() {
        "-"
    } else {
        ""
    };
    if commodity.is_empty() {
        return Ok(format!("{sign}{number}"));
    }
    let c = &like.commodity;
    let quoted = c.start > 0 && line.as_bytes().get(c.start - 1) == Some(&b'"');
    let written = if quoted {
        &line[c.start - 1..c.end + 1]
    } else {
        commodity
    };
    let (written_start, written_end) = if quoted {
        (c.start - 1, c.end + 1)
    } else {
        (c.start, c.end)
    };
    let has_space = |r: Range<usize>| line.get(r).is_some_and(|s| s.contains(syntax::is_space));
    Ok(if written_end <= like.number.start {
        let gap = if has_space(written_end..like.number.start) {
            " "
        } else {
            ""
        };
        format!("{sign}{written}{gap}{number}")
    } else {
        let gap = if has_space(like.number.end..written_start) {
            " "
        } else {
            ""
        };
        format!("{sign}{number}{gap}{written}")
    })
}

/// The decimal mark a number is written with and how many decimals it shows (`.` and 0 when it shows none).
fn decimal_style(number: &str, shape: Shape) -> (char, usize) {
    let mark = match shape {
        Shape::Plain { mark } | Shape::Grouped { mark, .. } => mark,
        // Read as a decimal mark unless a directive says otherwise; the read-back check catches the other case.
        Shape::Ambiguous { sep } => Some(sep),
    };
    let grouped_by = match shape {
        Shape::Grouped { sep, .. } => Some(sep),
        _ => None,
    };
    match mark {
        Some(m) => {
            let decimals = number.rfind(m as char).map_or(0, |k| {
                number[k + 1..].bytes().filter(u8::is_ascii_digit).count()
            });
            (m as char, decimals)
        }
        None if grouped_by == Some(b'.') => (',', 0),
        None => ('.', 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;
    use std::str::FromStr;

    fn assert_on(entry: &str, posting: usize, balance: Option<(&str, &str)>) -> String {
        let lines: Vec<Line<'_>> = syntax::lines(entry, 0, entry.len(), 1).collect();
        let body: Vec<BodyLine> = lines[1..]
            .iter()
            .map(|l| syntax::body_line(l.text).expect("posting"))
            .collect();
        let edit = AssertionEdit {
            posting,
            account: String::new(),
            balance: balance.map(|(q, c)| Money::new(Decimal::from_str(q).expect("q"), c)),
            inclusive: false,
            amount: None,
        };
        match text_edit(&lines, &body, &edit).expect("edit") {
            Some(e) => crate::backend::journal::patch::apply_edits(entry, &[e]).expect("apply"),
            None => entry.to_string(),
        }
    }

    #[test]
    fn written_in_the_postings_style_and_taken_off_again() {
        let e = "2025-01-02 x\n    assets:bank   $-45.00  ; note\n    expenses:food\n";
        let with = assert_on(e, 0, Some(("1234.5", "$")));
        assert_eq!(
            with,
            "2025-01-02 x\n    assets:bank   $-45.00 = $1234.50  ; note\n    expenses:food\n"
        );
        assert_eq!(assert_on(&with, 0, None), e);
        let eur = "2025-01-02 x\n    assets:bank  -45,5 EUR @ $1.10\n    expenses\n";
        assert_eq!(
            assert_on(eur, 0, Some(("-3", "EUR"))),
            "2025-01-02 x\n    assets:bank  -45,5 EUR @ $1.10 = -3,0 EUR\n    expenses\n"
        );
        let quoted = "2025-01-02 x\r\n    assets:fund  3 \"AB 1\"\r\n    equity\r\n";
        assert_eq!(
            assert_on(quoted, 0, Some(("10", "AB 1"))),
            "2025-01-02 x\r\n    assets:fund  3 \"AB 1\" = 10 \"AB 1\"\r\n    equity\r\n"
        );
    }

    #[test]
    fn refused_where_it_would_change_meaning() {
        let e = "2025-01-02 x\n    assets:bank  $5 = $10\n    expenses\n";
        let lines: Vec<Line<'_>> = syntax::lines(e, 0, e.len(), 1).collect();
        let body: Vec<BodyLine> = lines[1..]
            .iter()
            .map(|l| syntax::body_line(l.text).expect("posting"))
            .collect();
        let edit = |posting, c: &str| AssertionEdit {
            posting,
            account: String::new(),
            balance: Some(Money::new(Decimal::ONE, c)),
            inclusive: false,
            amount: None,
        };
        let err = |r: Result<_, PatchError>| r.expect_err("refused");
        assert_eq!(
            err(text_edit(&lines, &body, &edit(0, "$"))),
            PatchError::AlreadyAsserted(1)
        );
        assert_eq!(
            err(text_edit(&lines, &body, &edit(1, "$"))),
            PatchError::NoWrittenAmount(2)
        );
        assert_eq!(
            err(text_edit(&lines, &body, &edit(2, "$"))),
            PatchError::NoSuchPosting(3)
        );
    }
}

//! Turns query text into a `Query`. Tokens are split on whitespace outside quotes; each token's column is kept so a
//! bad term is reported where it starts.

use super::{Cmp, DateRange, Query, QueryError, Term};
use crate::domain::Status;
use chrono::{Datelike, NaiveDate};
use rust_decimal::Decimal;
use std::str::FromStr;

/// A token: its unquoted text and the 1-based column of its first character.
struct Token {
    text: String,
    column: usize,
}

fn tokenize(input: &str) -> Result<Vec<Token>, QueryError> {
    let mut tokens = Vec::new();
    let mut chars = input.chars().enumerate().peekable();
    while let Some(&(i, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let column = i + 1;
        let mut text = String::new();
        let mut quote: Option<(char, usize)> = None;
        while let Some(&(j, c)) = chars.peek() {
            match quote {
                Some((q, _)) if c == q => quote = None,
                Some(_) => text.push(c),
                None if c == '"' || c == '\'' => quote = Some((c, j + 1)),
                None if c.is_whitespace() => break,
                None => text.push(c),
            }
            chars.next();
        }
        if let Some((q, col)) = quote {
            return Err(QueryError {
                column: col,
                message: format!("unclosed quote {q}"),
            });
        }
        tokens.push(Token { text, column });
    }
    Ok(tokens)
}

/// Parses a query. An empty or all-blank string gives the query that matches everything.
pub fn parse(input: &str) -> Result<Query, QueryError> {
    let mut terms = Vec::new();
    for tok in tokenize(input)? {
        terms.push(parse_term(&tok.text, tok.column)?);
    }
    Ok(Query {
        terms,
        source: input.trim().to_string(),
    })
}

fn err(column: usize, message: impl Into<String>) -> QueryError {
    QueryError {
        column,
        message: message.into(),
    }
}

fn parse_term(text: &str, column: usize) -> Result<Term, QueryError> {
    let Some((prefix, value)) = text.split_once(':') else {
        return Ok(Term::Text(text.to_lowercase()));
    };
    let vcol = column + prefix.chars().count() + 1;
    let need_value = |what: &str| -> Result<String, QueryError> {
        if value.is_empty() {
            Err(err(vcol, format!("{prefix}: needs {what}")))
        } else {
            Ok(value.to_lowercase())
        }
    };
    match prefix.to_ascii_lowercase().as_str() {
        "acct" | "account" => Ok(Term::Account(need_value("an account name")?)),
        "desc" | "description" => Ok(Term::Desc(need_value("text")?)),
        "payee" => Ok(Term::Payee(need_value("text")?)),
        "note" => Ok(Term::Note(need_value("text")?)),
        "cur" | "commodity" => Ok(Term::Commodity(need_value("a commodity")?)),
        "tag" => {
            if value.is_empty() {
                return Err(err(vcol, "tag: needs a tag name"));
            }
            Ok(match value.split_once('=') {
                Some((n, v)) => Term::Tag {
                    name: n.to_lowercase(),
                    value: Some(v.to_lowercase()),
                },
                None => Term::Tag {
                    name: value.to_lowercase(),
                    value: None,
                },
            })
        }
        "status" => match value {
            "" => Ok(Term::Status(Status::Unmarked)),
            "!" => Ok(Term::Status(Status::Pending)),
            "*" => Ok(Term::Status(Status::Cleared)),
            other => Status::parse_name(other).map(Term::Status).ok_or_else(|| {
                err(
                    vcol,
                    format!("unknown status {other:?}: use status:, status:! or status:*"),
                )
            }),
        },
        "amt" => parse_amount(value, vcol),
        "date" => parse_date_range(value, vcol).map(Term::Date),
        "not" => {
            if value.is_empty() {
                return Err(err(vcol, "not: needs a term to negate"));
            }
            Ok(Term::Not(Box::new(parse_term(value, vcol)?)))
        }
        "is" => match value.to_ascii_lowercase().as_str() {
            "review" => Ok(Term::IsReview),
            "untagged" => Ok(Term::IsUntagged),
            other => Err(err(
                vcol,
                format!("unknown is:{other}: use is:review or is:untagged"),
            )),
        },
        _ => Ok(Term::Text(text.to_lowercase())),
    }
}

fn parse_amount(value: &str, column: usize) -> Result<Term, QueryError> {
    let (cmp, rest) = if let Some(r) = value.strip_prefix("<=") {
        (Cmp::Le, r)
    } else if let Some(r) = value.strip_prefix(">=") {
        (Cmp::Ge, r)
    } else if let Some(r) = value.strip_prefix('<') {
        (Cmp::Lt, r)
    } else if let Some(r) = value.strip_prefix('>') {
        (Cmp::Gt, r)
    } else if let Some(r) = value.strip_prefix('=') {
        (Cmp::Eq, r)
    } else {
        (Cmp::Eq, value)
    };
    let ncol = column + (value.len() - rest.len());
    if rest.is_empty() {
        return Err(err(ncol, "amt: needs a number, e.g. amt:>50 or amt:<=-20"));
    }
    let number = Decimal::from_str(rest.trim_start_matches('+'))
        .map_err(|_| err(ncol, format!("amt: {rest:?} is not a number")))?;
    let signed = rest.starts_with('+') || rest.starts_with('-') || number.is_zero();
    Ok(Term::Amount {
        cmp,
        value: number,
        signed,
    })
}

/// `2025`, `2025-03`, `2025-03-15` (also `/` or `.`), and ranges `A..B`, `A..`, `..B`; the end is exclusive,
/// and a partial end date means the start of that period, as in hledger.
fn parse_date_range(value: &str, column: usize) -> Result<DateRange, QueryError> {
    if value.is_empty() {
        return Err(err(
            column,
            "date: needs a date, e.g. date:2025-03 or date:2025-01..2025-04",
        ));
    }
    if let Some((a, b)) = value.split_once("..") {
        let start = if a.is_empty() {
            None
        } else {
            Some(parse_period(a, column)?.0)
        };
        let end = if b.is_empty() {
            None
        } else {
            Some(parse_period(b, column + a.len() + 2)?.0)
        };
        if let (Some(s), Some(e)) = (start, end)
            && e < s
        {
            return Err(err(
                column,
                format!("date: range ends ({e}) before it starts ({s})"),
            ));
        }
        return Ok(DateRange { start, end });
    }
    let (start, end) = parse_period(value, column)?;
    Ok(DateRange {
        start: Some(start),
        end: Some(end),
    })
}

/// A year, month or day: its first day and the first day after it.
fn parse_period(s: &str, column: usize) -> Result<(NaiveDate, NaiveDate), QueryError> {
    let bad = || {
        err(
            column,
            format!("date: {s:?} is not a date (use YYYY, YYYY-MM or YYYY-MM-DD)"),
        )
    };
    let parts: Vec<&str> = s.split(['-', '/', '.']).collect();
    let num = |p: &str| -> Result<u32, QueryError> {
        if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        p.parse::<u32>().map_err(|_| bad())
    };
    match parts.as_slice() {
        [y] if y.len() == 4 => {
            let y = num(y)? as i32;
            let start = NaiveDate::from_ymd_opt(y, 1, 1).ok_or_else(bad)?;
            let end = NaiveDate::from_ymd_opt(y + 1, 1, 1).ok_or_else(bad)?;
            Ok((start, end))
        }
        [y, m] if y.len() == 4 => {
            let (y, m) = (num(y)? as i32, num(m)?);
            let start = NaiveDate::from_ymd_opt(y, m, 1).ok_or_else(bad)?;
            let end = if m == 12 {
                NaiveDate::from_ymd_opt(y + 1, 1, 1)
            } else {
                NaiveDate::from_ymd_opt(y, m + 1, 1)
            }
            .ok_or_else(bad)?;
            Ok((start, end))
        }
        [y, m, d] if y.len() == 4 => {
            let start =
                NaiveDate::from_ymd_opt(num(y)? as i32, num(m)?, num(d)?).ok_or_else(bad)?;
            let end = start.succ_opt().ok_or_else(bad)?;
            debug_assert!(end.year() >= start.year());
            Ok((start, end))
        }
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid date")
    }

    fn one(q: &str) -> Term {
        let mut p = parse(q).expect("query parses");
        assert_eq!(p.terms.len(), 1, "{q}");
        p.terms.remove(0)
    }

    #[test]
    fn empty_query_matches_everything() {
        assert!(parse("").expect("ok").is_empty());
        assert!(parse("   ").expect("ok").is_empty());
    }

    #[test]
    fn free_words_are_lowercased_text() {
        let q = parse("Coffee  SHOP").expect("ok");
        assert_eq!(
            q.terms,
            vec![Term::Text("coffee".into()), Term::Text("shop".into())]
        );
    }

    #[test]
    fn prefixes() {
        assert_eq!(
            one("acct:Assets:Checking"),
            Term::Account("assets:checking".into())
        );
        assert_eq!(one("desc:rent"), Term::Desc("rent".into()));
        assert_eq!(one("payee:Amazon"), Term::Payee("amazon".into()));
        assert_eq!(one("note:gift"), Term::Note("gift".into()));
        assert_eq!(one("cur:USD"), Term::Commodity("usd".into()));
        assert_eq!(
            one("tag:trip"),
            Term::Tag {
                name: "trip".into(),
                value: None
            }
        );
        assert_eq!(
            one("tag:trip=Paris"),
            Term::Tag {
                name: "trip".into(),
                value: Some("paris".into())
            }
        );
        assert_eq!(one("is:review"), Term::IsReview);
        assert_eq!(one("is:untagged"), Term::IsUntagged);
    }

    #[test]
    fn quoted_values_keep_spaces() {
        assert_eq!(
            one("desc:\"whole foods\""),
            Term::Desc("whole foods".into())
        );
        assert_eq!(one("'whole foods'"), Term::Text("whole foods".into()));
        assert_eq!(one("payee:'A B'"), Term::Payee("a b".into()));
    }

    #[test]
    fn amounts() {
        let dec = |s: &str| Decimal::from_str(s).expect("decimal");
        assert_eq!(
            one("amt:>50"),
            Term::Amount {
                cmp: Cmp::Gt,
                value: dec("50"),
                signed: false
            }
        );
        assert_eq!(
            one("amt:<=-20"),
            Term::Amount {
                cmp: Cmp::Le,
                value: dec("-20"),
                signed: true
            }
        );
        assert_eq!(
            one("amt:100"),
            Term::Amount {
                cmp: Cmp::Eq,
                value: dec("100"),
                signed: false
            }
        );
        assert_eq!(
            one("amt:>=+5.5"),
            Term::Amount {
                cmp: Cmp::Ge,
                value: dec("5.5"),
                signed: true
            }
        );
        assert_eq!(
            one("amt:<0"),
            Term::Amount {
                cmp: Cmp::Lt,
                value: dec("0"),
                signed: true
            }
        );
    }

    #[test]
    fn dates() {
        assert_eq!(
            one("date:2025"),
            Term::Date(DateRange {
                start: Some(d(2025, 1, 1)),
                end: Some(d(2026, 1, 1))
            })
        );
        assert_eq!(
            one("date:2025-03"),
            Term::Date(DateRange {
                start: Some(d(2025, 3, 1)),
                end: Some(d(2025, 4, 1))
            })
        );
        assert_eq!(
            one("date:2025-12"),
            Term::Date(DateRange {
                start: Some(d(2025, 12, 1)),
                end: Some(d(2026, 1, 1))
            })
        );
        assert_eq!(
            one("date:2025/03/15"),
            Term::Date(DateRange {
                start: Some(d(2025, 3, 15)),
                end: Some(d(2025, 3, 16))
            })
        );
        assert_eq!(
            one("date:2025-01..2025-04"),
            Term::Date(DateRange {
                start: Some(d(2025, 1, 1)),
                end: Some(d(2025, 4, 1))
            })
        );
        assert_eq!(
            one("date:2025-01.."),
            Term::Date(DateRange {
                start: Some(d(2025, 1, 1)),
                end: None
            })
        );
        assert_eq!(
            one("date:..2025-04"),
            Term::Date(DateRange {
                start: None,
                end: Some(d(2025, 4, 1))
            })
        );
    }

    #[test]
    fn statuses() {
        assert_eq!(one("status:"), Term::Status(Status::Unmarked));
        assert_eq!(one("status:!"), Term::Status(Status::Pending));
        assert_eq!(one("status:*"), Term::Status(Status::Cleared));
        assert_eq!(one("status:pending"), Term::Status(Status::Pending));
    }

    #[test]
    fn not_wraps_any_term() {
        assert_eq!(
            one("not:tag:work"),
            Term::Not(Box::new(Term::Tag {
                name: "work".into(),
                value: None
            }))
        );
        assert_eq!(
            one("not:coffee"),
            Term::Not(Box::new(Term::Text("coffee".into())))
        );
    }

    #[test]
    fn errors_report_the_column() {
        let e = parse("coffee amt:>abc").expect_err("bad amount");
        assert_eq!(e.column, 13);
        let e = parse("date:2025-13").expect_err("bad month");
        assert_eq!(e.column, 6);
        let e = parse("x date:2025-04..2025-01").expect_err("backwards range");
        assert_eq!(e.column, 8);
        let e = parse("desc:\"open").expect_err("unclosed quote");
        assert_eq!(e.column, 6);
        let e = parse("status:maybe").expect_err("bad status");
        assert_eq!(e.column, 8);
        let e = parse("is:happy").expect_err("bad is:");
        assert_eq!(e.column, 4);
        let e = parse("  tag:").expect_err("empty tag");
        assert_eq!(e.column, 7);
        let e = parse("not:").expect_err("empty not");
        assert_eq!(e.column, 5);
        let e = parse("amt:").expect_err("empty amt");
        assert_eq!(e.column, 5);
    }

    #[test]
    fn unknown_prefix_is_a_free_word() {
        assert_eq!(one("http://x"), Term::Text("http://x".into()));
    }
}

//! Turns query text into a `Query`. Tokens are split on whitespace outside quotes; each token's column is kept so a
//! bad term is reported where it starts. A word with a colon whose prefix is not a query prefix is an account name
//! (`expenses:dining`), as in hledger; a prefix that looks like a mistyped one (`acc:`, `dsc:`) or that only hledger
//! has (`date2:`, `inacct:`) is an error at its column.

use super::{Cmp, Pattern, Query, QueryError, Term, period};
use crate::domain::Status;
use chrono::NaiveDate;
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

/// Parses a query; relative dates (`date:thismonth`) are taken from today's local date.
pub fn parse(input: &str) -> Result<Query, QueryError> {
    parse_on(input, chrono::Local::now().date_naive())
}

/// Parses a query with `today` as the date relative periods count from. An empty or all-blank string gives the query
/// that matches everything.
pub fn parse_on(input: &str, today: NaiveDate) -> Result<Query, QueryError> {
    let mut terms = Vec::new();
    for tok in tokenize(input)? {
        terms.push(parse_term(&tok.text, tok.column, today)?);
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

/// The prefixes tally reads, for error messages and typo detection.
pub const PREFIXES: &[&str] = &[
    "acct", "amt", "code", "cur", "date", "depth", "desc", "is", "not", "note", "payee", "real",
    "status", "tag",
];

/// hledger prefixes tally does not have: an error, never a silent word.
const UNSUPPORTED: &[&str] = &[
    "date2",
    "inacct",
    "inacctonly",
    "empty",
    "expr",
    "type",
    "any",
    "all",
];

fn pattern(value: &str, prefix: &str, column: usize) -> Result<Pattern, QueryError> {
    if value.is_empty() {
        return Err(err(
            column,
            format!("{prefix}: needs text or a regular expression"),
        ));
    }
    Pattern::new(value).map_err(|e| err(column, format!("{prefix}: {e}")))
}

fn parse_term(text: &str, column: usize, today: NaiveDate) -> Result<Term, QueryError> {
    let Some((prefix, value)) = text.split_once(':') else {
        return pattern(text, "a word", column).map(Term::Text);
    };
    let vcol = column + prefix.chars().count() + 1;
    let lower = prefix.to_ascii_lowercase();
    match lower.as_str() {
        "acct" | "account" => pattern(value, prefix, vcol).map(Term::Account),
        "desc" | "description" => pattern(value, prefix, vcol).map(Term::Desc),
        "payee" => pattern(value, prefix, vcol).map(Term::Payee),
        "note" => pattern(value, prefix, vcol).map(Term::Note),
        "code" => pattern(value, prefix, vcol).map(Term::Code),
        "cur" | "commodity" => {
            if value.is_empty() {
                return Err(err(vcol, format!("{prefix}: needs a commodity symbol")));
            }
            Ok(Term::Commodity(value.to_lowercase()))
        }
        "tag" => parse_tag(value, vcol),
        "status" => parse_status(value, vcol),
        "amt" => parse_amount(value, vcol),
        "date" => period::parse(value, today)
            .map(Term::Date)
            .map_err(|e| err(vcol, format!("date: {e}"))),
        "real" => match value {
            "" | "1" | "yes" | "y" | "true" => Ok(Term::Real(true)),
            "0" | "no" | "n" | "false" => Ok(Term::Real(false)),
            other => Err(err(
                vcol,
                format!("real: takes nothing, 1 or 0, not {other:?}"),
            )),
        },
        "depth" => value
            .parse::<usize>()
            .map(Term::Depth)
            .map_err(|_| err(vcol, format!("depth: needs a whole number, not {value:?}"))),
        "not" => {
            if value.is_empty() {
                return Err(err(vcol, "not: needs a term to negate"));
            }
            Ok(Term::Not(Box::new(parse_term(value, vcol, today)?)))
        }
        "is" => match value.to_ascii_lowercase().as_str() {
            "review" => Ok(Term::IsReview),
            "untagged" => Ok(Term::IsUntagged),
            other => Err(err(
                vcol,
                format!("unknown is:{other}: use is:review or is:untagged"),
            )),
        },
        _ if UNSUPPORTED.contains(&lower.as_str()) => Err(err(
            column,
            format!("{prefix}: is an hledger query tally does not support (see `tally --help`)"),
        )),
        _ => match PREFIXES.iter().find(|known| near(&lower, known)) {
            Some(known) => Err(err(
                column,
                format!("unknown query prefix {prefix}: (did you mean {known}:?)"),
            )),
            // `expenses:dining`: an account name, as hledger reads a word it has no prefix for.
            None => pattern(text, "a word", column).map(Term::Text),
        },
    }
}

/// A likely typo of `known`: one letter added, missing, changed, or two swapped; or a longer spelling of it.
fn near(word: &str, known: &str) -> bool {
    if word.len() < 2 || word == known {
        return false;
    }
    if known.starts_with(word) || (word.starts_with(known) && word.len() <= known.len() + 4) {
        return true;
    }
    known.len() >= 3 && strsim::osa_distance(word, known) <= 1
}

fn parse_tag(value: &str, column: usize) -> Result<Term, QueryError> {
    if value.is_empty() {
        return Err(err(column, "tag: needs a tag name"));
    }
    let (name, tag_value) = match value.split_once('=') {
        Some((n, v)) => (n, Some(v)),
        None => (value, None),
    };
    let name = pattern(name, "tag", column)?;
    let vcol = column + value.find('=').unwrap_or(0) + 1;
    let value = tag_value
        .filter(|v| !v.is_empty())
        .map(|v| pattern(v, "tag value", vcol))
        .transpose()?;
    Ok(Term::Tag { name, value })
}

fn parse_status(value: &str, column: usize) -> Result<Term, QueryError> {
    match value {
        "" => Ok(Term::Status(Status::Unmarked)),
        "!" => Ok(Term::Status(Status::Pending)),
        "*" => Ok(Term::Status(Status::Cleared)),
        other => Status::parse_name(other).map(Term::Status).ok_or_else(|| {
            err(
                column,
                format!("unknown status {other:?}: use status:, status:! or status:*"),
            )
        }),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::DateRange;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid date")
    }

    fn pat(s: &str) -> Pattern {
        Pattern::new(s).expect("pattern")
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
    fn free_words_are_patterns() {
        let q = parse("Coffee  SHOP").expect("ok");
        assert_eq!(
            q.terms,
            vec![Term::Text(pat("Coffee")), Term::Text(pat("SHOP"))]
        );
    }

    #[test]
    fn prefixes() {
        assert_eq!(
            one("acct:Assets:Checking"),
            Term::Account(pat("Assets:Checking"))
        );
        assert_eq!(one("desc:rent"), Term::Desc(pat("rent")));
        assert_eq!(one("payee:Amazon"), Term::Payee(pat("Amazon")));
        assert_eq!(one("note:gift"), Term::Note(pat("gift")));
        assert_eq!(one("cur:USD"), Term::Commodity("usd".into()));
        assert_eq!(
            one("tag:trip"),
            Term::Tag {
                name: pat("trip"),
                value: None
            }
        );
        assert_eq!(
            one("tag:trip=Paris"),
            Term::Tag {
                name: pat("trip"),
                value: Some(pat("Paris"))
            }
        );
        assert_eq!(one("is:review"), Term::IsReview);
        assert_eq!(one("is:untagged"), Term::IsUntagged);
        assert_eq!(one("code:12"), Term::Code(pat("12")));
        assert_eq!(one("real:"), Term::Real(true));
        assert_eq!(one("real:0"), Term::Real(false));
        assert_eq!(one("depth:2"), Term::Depth(2));
    }

    #[test]
    fn quoted_values_keep_spaces() {
        assert_eq!(one("desc:\"whole foods\""), Term::Desc(pat("whole foods")));
        assert_eq!(one("'whole foods'"), Term::Text(pat("whole foods")));
        assert_eq!(one("payee:'A B'"), Term::Payee(pat("A B")));
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
    fn dates_are_period_expressions() {
        let today = d(2026, 11, 29);
        let q = parse_on("date:thismonth", today).expect("thismonth");
        assert_eq!(
            q.terms,
            vec![Term::Date(DateRange {
                start: Some(d(2026, 11, 1)),
                end: Some(d(2026, 12, 1))
            })]
        );
        let q = parse_on("date:'last 30 days'", today).expect("quoted");
        assert_eq!(q.terms.len(), 1);
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
                name: pat("work"),
                value: None
            }))
        );
        assert_eq!(
            one("not:coffee"),
            Term::Not(Box::new(Term::Text(pat("coffee"))))
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
        let e = parse("acct:(food").expect_err("bad regex");
        assert_eq!(e.column, 6);
        let e = parse("depth:two").expect_err("bad depth");
        assert_eq!(e.column, 7);
        let e = parse("real:maybe").expect_err("bad real");
        assert_eq!(e.column, 6);
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
    fn unknown_prefixes_are_account_names_or_errors() {
        assert_eq!(one("http://x"), Term::Text(pat("http://x")));
        assert_eq!(one("expenses:dining"), Term::Text(pat("expenses:dining")));
        for (typo, column) in [
            ("acc:food", 1),
            ("x dsc:rent", 3),
            ("descr:x", 1),
            ("stauts:*", 1),
        ] {
            let e = parse(typo).expect_err(typo);
            assert_eq!(e.column, column, "{typo}");
            assert!(e.message.contains("did you mean"), "{e}");
        }
        let e = parse("coffee date2:2025").expect_err("date2");
        assert_eq!(e.column, 8);
        assert!(e.message.contains("does not support"), "{e}");
    }
}

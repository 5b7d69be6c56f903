//! Query-string parameters: strict parsing (unknown or repeated parameters are errors, so a typo such as `per_page`
//! is reported rather than silently ignored) and the translation of the seed's filters into tally's query language.
//! Each filter becomes a `Term` exactly as the equivalent `q` text would (`start_date` → `date:S..`, `source` →
//! `acct:`, `min_amount` → `amt:>=`, `tags` → `tag:` per id, all required, `search` → `desc:`), and the same text is
//! added to `Query::source`, so a backend that forwards the query as text (the REST client) filters identically.

use super::error::ApiError;
use crate::backend::{PageRequest, SortKey};
use crate::query::{self, Cmp, DateRange, Pattern, Query, Term};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::str::FromStr;

/// The largest page a client may ask for.
pub const MAX_LIMIT: usize = 200;
pub const DEFAULT_LIMIT: usize = 50;

pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    /// Rejects parameters not in `allowed` and parameters given twice.
    pub fn new(pairs: Vec<(String, String)>, allowed: &[&str]) -> Result<Params, ApiError> {
        for (i, (k, _)) in pairs.iter().enumerate() {
            if !allowed.contains(&k.as_str()) {
                return Err(ApiError::param(
                    k,
                    format!(
                        "unknown parameter '{k}'; this endpoint accepts: {}",
                        allowed.join(", ")
                    ),
                ));
            }
            if pairs[..i].iter().any(|(k2, _)| k2 == k) {
                return Err(ApiError::param(
                    k,
                    format!("the '{k}' parameter is given more than once"),
                ));
            }
        }
        Ok(Params { pairs })
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A text parameter; blank counts as absent.
    fn text(&self, name: &str) -> Option<&str> {
        self.get(name).map(str::trim).filter(|v| !v.is_empty())
    }

    /// A positive integer in `1..=max`.
    pub fn positive(&self, name: &str, default: usize, max: usize) -> Result<usize, ApiError> {
        let Some(v) = self.get(name) else {
            return Ok(default);
        };
        let n = if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
            v.parse::<usize>().ok()
        } else {
            None
        };
        match n {
            Some(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(ApiError::param(
                name,
                format!("The '{name}' parameter must be an integer from 1 to {max}"),
            )),
        }
    }

    fn date(&self, name: &str) -> Result<Option<NaiveDate>, ApiError> {
        let Some(v) = self.get(name) else {
            return Ok(None);
        };
        parse_iso_date(v.trim()).map(Some).ok_or_else(|| {
            ApiError::param(
                name,
                format!("The '{name}' parameter must be a valid ISO 8601 date"),
            )
        })
    }

    fn amount(&self, name: &str) -> Result<Option<Decimal>, ApiError> {
        let Some(v) = self.get(name) else {
            return Ok(None);
        };
        let v = v.trim();
        // Exactly the document's pattern: an optional sign, digits, and optionally a point and more digits.
        let unsigned = v.strip_prefix(['+', '-']).unwrap_or(v);
        let (whole, frac) = unsigned.split_once('.').unwrap_or((unsigned, "1"));
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        let ok = digits(whole) && digits(frac) && v.len() <= 40;
        let parsed = if ok {
            Decimal::from_str(v.trim_start_matches('+')).ok()
        } else {
            None
        };
        parsed.map(Some).ok_or_else(|| {
            ApiError::param(
                name,
                format!("The '{name}' parameter must be a decimal number such as 25 or -12.50"),
            )
        })
    }
}

/// `YYYY-MM-DD`, or an RFC 3339 date-time whose calendar date is taken as written.
pub fn parse_iso_date(s: &str) -> Option<NaiveDate> {
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Some(d);
    }
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|dt| dt.date_naive())
}

/// How `text` can be written as one query token: bare, or quoted with whichever quote it does not contain.
fn quote(text: &str) -> Option<String> {
    if !text.contains(['"', '\'']) && !text.contains(char::is_whitespace) && !text.is_empty() {
        Some(text.to_string())
    } else if !text.contains('"') {
        Some(format!("\"{text}\""))
    } else if !text.contains('\'') {
        Some(format!("'{text}'"))
    } else {
        None
    }
}

struct Builder {
    terms: Vec<Term>,
    text: Vec<String>,
}

impl Builder {
    fn push(&mut self, term: Term, text: Option<String>) {
        self.terms.push(term);
        if let Some(t) = text {
            self.text.push(t);
        }
    }
}

/// The query for a listing or an analytics call: the seed's filters, the date range, then the `q` text.
pub fn build_query(p: &Params) -> Result<Query, ApiError> {
    let mut b = Builder {
        terms: Vec::new(),
        text: Vec::new(),
    };
    date_terms(p, &mut b)?;
    if let Some(src) = p.text("source") {
        let pattern = Pattern::literal(src);
        let q = quote(pattern.as_str()).map(|q| format!("acct:{q}"));
        b.push(Term::Account(pattern), q);
    }
    amount_terms(p, &mut b)?;
    if let Some(tags) = p.text("tags") {
        tag_terms(tags, &mut b)?;
    }
    if let Some(search) = p.text("search") {
        let pattern = Pattern::literal(search);
        let text = quote(pattern.as_str()).map(|q| format!("desc:{q}"));
        b.push(Term::Desc(pattern), text);
    }
    if let Some(q) = p.text("q") {
        let parsed =
            query::parse(q).map_err(|e| ApiError::param("q", format!("invalid query: {e}")))?;
        b.terms.extend(parsed.terms);
        b.text.push(parsed.source);
    }
    Ok(Query {
        terms: b.terms,
        source: b.text.join(" "),
    })
}

/// `start_date`/`end_date` (inclusive on the wire) as one date range.
fn date_terms(p: &Params, b: &mut Builder) -> Result<(), ApiError> {
    let start = p.date("start_date")?;
    let end = p.date("end_date")?;
    if let (Some(s), Some(e)) = (start, end)
        && e < s
    {
        return Err(ApiError::param(
            "end_date",
            format!("The 'end_date' parameter ({e}) is before 'start_date' ({s})"),
        ));
    }
    if start.is_some() || end.is_some() {
        // end_date is inclusive on the wire; the query language's ranges end exclusively.
        let end_excl = match end {
            Some(e) => Some(e.succ_opt().ok_or_else(|| {
                ApiError::param("end_date", "The 'end_date' parameter is out of range")
            })?),
            None => None,
        };
        let fmt = |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
        b.push(
            Term::Date(DateRange {
                start,
                end: end_excl,
            }),
            Some(format!("date:{}..{}", fmt(start), fmt(end_excl))),
        );
    }
    Ok(())
}

/// `min_amount`/`max_amount` as amount terms (signed when written with a sign, as `amt:` is).
fn amount_terms(p: &Params, b: &mut Builder) -> Result<(), ApiError> {
    let min = p.amount("min_amount")?;
    let max = p.amount("max_amount")?;
    if let (Some(lo), Some(hi)) = (min, max)
        && hi < lo
    {
        return Err(ApiError::param(
            "max_amount",
            format!("The 'max_amount' parameter ({hi}) is below 'min_amount' ({lo})"),
        ));
    }
    for (name, value, cmp, op) in [
        ("min_amount", min, Cmp::Ge, ">="),
        ("max_amount", max, Cmp::Le, "<="),
    ] {
        if let Some(v) = value {
            let raw = p.get(name).unwrap_or_default().trim();
            let signed = raw.starts_with(['+', '-']) || v.is_zero();
            b.push(
                Term::Amount {
                    cmp,
                    value: v,
                    signed,
                },
                Some(format!("amt:{op}{raw}")),
            );
        }
    }
    Ok(())
}

/// `tags=a,b=c` as tag terms.
fn tag_terms(tags: &str, b: &mut Builder) -> Result<(), ApiError> {
    for id in tags.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        let (name, value) = match id.split_once(['=', ':']) {
            Some((n, v)) => (n.trim(), Some(v.trim())),
            None => (id, None),
        };
        if name.is_empty() {
            return Err(ApiError::param("tags", format!("empty tag name in {id:?}")));
        }
        let (name, value) = (Pattern::exact(name), value.map(Pattern::literal));
        let text = match &value {
            Some(v) => quote(&format!("{}={}", name.as_str(), v.as_str())),
            None => quote(name.as_str()),
        }
        .map(|q| format!("tag:{q}"));
        b.push(Term::Tag { name, value }, text);
    }
    Ok(())
}

/// `sort` (date, amount, payee, status, category) and `order` (asc, desc; newest/largest first by default).
pub fn sort_order(p: &Params) -> Result<(SortKey, bool), ApiError> {
    let sort = match p.get("sort") {
        None => SortKey::Date,
        Some(s) => SortKey::parse(s).ok_or_else(|| {
            ApiError::param(
                "sort",
                "The 'sort' parameter must be one of: date, amount, payee, status, category",
            )
        })?,
    };
    let ascending = match p.get("order") {
        None | Some("desc") => false,
        Some("asc") => true,
        Some(_) => {
            return Err(ApiError::param(
                "order",
                "The 'order' parameter must be asc or desc",
            ));
        }
    };
    Ok((sort, ascending))
}

/// `page`/`limit` as a `PageRequest`, refusing pages whose offset would overflow.
pub fn page_request(p: &Params) -> Result<(usize, usize, PageRequest), ApiError> {
    let page = p.positive("page", 1, u32::MAX as usize)?;
    let limit = p.positive("limit", DEFAULT_LIMIT, MAX_LIMIT)?;
    let (sort, ascending) = sort_order(p)?;
    let offset = (page - 1)
        .checked_mul(limit)
        .ok_or_else(|| ApiError::param("page", "The 'page' parameter is too large"))?;
    Ok((
        page,
        limit,
        PageRequest {
            offset,
            limit,
            sort,
            ascending,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params::new(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            &[
                "start_date",
                "end_date",
                "source",
                "min_amount",
                "max_amount",
                "tags",
                "search",
                "q",
                "page",
                "limit",
                "sort",
                "order",
            ],
        )
        .expect("known parameters")
    }

    /// Every filter's text, parsed by the query parser, gives the very terms built in code.
    #[test]
    fn filters_build_the_same_terms_as_their_text() {
        let p = params(&[
            ("start_date", "2025-01-01"),
            ("end_date", "2025-03-31T23:00:00Z"),
            ("source", "Assets:Bank Checking"),
            ("min_amount", "10"),
            ("max_amount", "-0.5"),
            ("tags", "work, trip=Lisbon"),
            ("search", "Whole Foods"),
            ("q", "status:* not:coffee"),
        ]);
        let built = build_query(&p);
        assert!(built.is_err(), "max below min is refused");
        let p = params(&[
            ("start_date", "2025-01-01"),
            ("end_date", "2025-03-31T23:00:00Z"),
            ("source", "Assets:Bank Checking"),
            ("min_amount", "-10"),
            ("max_amount", "200"),
            ("tags", "work, trip=Lisbon"),
            ("search", "Whole Foods"),
            ("q", "status:* not:coffee"),
        ]);
        let q = build_query(&p).expect("valid filters");
        assert_eq!(q.terms.len(), 9);
        let reparsed = query::parse(&q.source).expect("generated text parses");
        assert_eq!(reparsed.terms, q.terms, "{}", q.source);
        assert_eq!(
            q.terms[0],
            Term::Date(DateRange {
                start: NaiveDate::from_ymd_opt(2025, 1, 1),
                end: NaiveDate::from_ymd_opt(2025, 4, 1),
            })
        );
    }

    #[test]
    fn bad_parameters_name_themselves() {
        let cases: &[(&str, &str)] = &[
            ("start_date", "yesterday"),
            ("end_date", "2025-02-30"),
            ("min_amount", "1e5"),
            ("min_amount", "10."),
            ("min_amount", "+-5"),
            ("max_amount", "NaN"),
            ("q", "amt:>abc"),
        ];
        for (k, v) in cases {
            let e = build_query(&params(&[(k, v)])).expect_err(k);
            assert_eq!(e.param.as_deref(), Some(*k));
        }
        for (k, v) in [
            ("limit", "201"),
            ("limit", "0"),
            ("page", "-1"),
            ("page", "1.5"),
        ] {
            let e = page_request(&params(&[(k, v)])).expect_err(k);
            assert_eq!(e.param.as_deref(), Some(k));
        }
        let e = Params::new(vec![("per_page".into(), "5".into())], &["limit"])
            .err()
            .expect("unknown parameter");
        assert_eq!(e.param.as_deref(), Some("per_page"));
        let e = Params::new(
            vec![("limit".into(), "5".into()), ("limit".into(), "6".into())],
            &["limit"],
        )
        .err()
        .expect("repeated parameter");
        assert_eq!(e.param.as_deref(), Some("limit"));
    }

    #[test]
    fn limit_200_is_the_largest_page() {
        let (_, limit, req) = page_request(&params(&[("limit", "200"), ("page", "3")]))
            .expect("limit 200 is allowed");
        assert_eq!(limit, 200);
        assert_eq!(req.offset, 400);
    }
}

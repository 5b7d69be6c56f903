//! hledger's period expressions, as `date:` takes them: a smart date stands for its whole period (`2025` a year,
//! `2025-03` a month, `2025q1` a quarter, `thismonth`, `last week`, `yesterday`, `jan`, `1/15`, `30 days ago`), and
//! two of them make a range (`A..B`, `A-B`, `A to B`, `from A to B`, `from A`, `to B`, `A..`, `..B`) that ends where
//! B's period starts, as in hledger. `in 2025` is `2025`. tally adds `last N days|weeks|months` (the N periods up to
//! and including the current one), which hledger 1.25 does not have. Weeks start on Monday.

use super::DateRange;
use chrono::{Datelike, Days, Months, NaiveDate};

/// A period: its first day and the first day after it.
type Span = (NaiveDate, NaiveDate);

/// Parses `text` relative to `today`; the error says what is wrong, without a column (the caller adds it).
pub fn parse(text: &str, today: NaiveDate) -> Result<DateRange, String> {
    let t = text.trim().to_ascii_lowercase();
    let t = t.strip_prefix("in ").unwrap_or(&t).trim();
    if t.is_empty() {
        return Err(needs());
    }
    if let Some((a, b)) = split_range(t, today) {
        let start = side(a, today)?.map(|s| s.0);
        let end = side(b, today)?.map(|s| s.0);
        if let (Some(s), Some(e)) = (start, end)
            && e < s
        {
            return Err(format!("the range ends ({e}) before it starts ({s})"));
        }
        return Ok(DateRange { start, end });
    }
    let (start, end) = smart(t, today)?;
    Ok(DateRange {
        start: Some(start),
        end: Some(end),
    })
}

fn needs() -> String {
    "needs a date or period, e.g. date:2025-03, date:thismonth, date:2025q1, date:2025-01..2025-04"
        .into()
}

/// One side of a range: nothing (open) or a smart date.
fn side(text: &str, today: NaiveDate) -> Result<Option<Span>, String> {
    let text = text.trim();
    if text.is_empty() {
        Ok(None)
    } else {
        smart(text, today).map(Some)
    }
}

/// Splits a range into its two sides, when `t` is one.
fn split_range(t: &str, today: NaiveDate) -> Option<(&str, &str)> {
    if let Some(rest) = t.strip_prefix("from ") {
        return Some(rest.split_once(" to ").unwrap_or((rest, "")));
    }
    if let Some(rest) = t.strip_prefix("to ") {
        return Some(("", rest));
    }
    if let Some(pair) = t.split_once("..") {
        return Some(pair);
    }
    if let Some(pair) = t.split_once(" to ") {
        return Some(pair);
    }
    // `A-B` where both sides are dates (dates themselves may hold dashes), `-B` and `A-`.
    if let Some(b) = t.strip_prefix('-')
        && smart(b, today).is_ok()
    {
        return Some(("", b));
    }
    if let Some(a) = t.strip_suffix('-')
        && smart(a, today).is_ok()
    {
        return Some((a, ""));
    }
    t.match_indices('-').map(|(i, _)| i).find_map(|i| {
        let (a, b) = (&t[..i], &t[i + 1..]);
        (smart(a, today).is_ok() && smart(b, today).is_ok()).then_some((a, b))
    })
}

fn day(d: NaiveDate) -> Span {
    (d, d.succ_opt().unwrap_or(NaiveDate::MAX))
}

fn month_of(d: NaiveDate) -> Span {
    let start = d.with_day(1).unwrap_or(d);
    (
        start,
        start
            .checked_add_months(Months::new(1))
            .unwrap_or(NaiveDate::MAX),
    )
}

fn year_of(y: i32) -> Result<Span, String> {
    match (
        NaiveDate::from_ymd_opt(y, 1, 1),
        NaiveDate::from_ymd_opt(y + 1, 1, 1),
    ) {
        (Some(a), Some(b)) => Ok((a, b)),
        _ => Err(format!("{y} is not a year tally can handle")),
    }
}

fn quarter_of(y: i32, q: u32) -> Result<Span, String> {
    let start = NaiveDate::from_ymd_opt(y, (q - 1) * 3 + 1, 1)
        .ok_or_else(|| format!("{y}q{q} is not a quarter"))?;
    Ok((
        start,
        start
            .checked_add_months(Months::new(3))
            .unwrap_or(NaiveDate::MAX),
    ))
}

fn week_of(d: NaiveDate) -> Span {
    let start = d - Days::new(u64::from(d.weekday().num_days_from_monday()));
    (start, start + Days::new(7))
}

/// The period of `unit` containing `today`, moved by `offset` periods.
fn relative(unit: &str, offset: i32, today: NaiveDate) -> Option<Span> {
    let months = |span: Span, n: i32| -> Span {
        let shift = |d: NaiveDate| {
            if n >= 0 {
                d.checked_add_months(Months::new(n as u32))
            } else {
                d.checked_sub_months(Months::new(n.unsigned_abs()))
            }
            .unwrap_or(d)
        };
        (shift(span.0), shift(span.1))
    };
    let days = |span: Span, n: i64| -> Span {
        let shift = |d: NaiveDate| d.checked_add_signed(chrono::Duration::days(n)).unwrap_or(d);
        (shift(span.0), shift(span.1))
    };
    Some(match unit {
        "day" => days(day(today), i64::from(offset)),
        "week" => days(week_of(today), 7 * i64::from(offset)),
        "month" => months(month_of(today), offset),
        "quarter" => {
            let q = today.month0() / 3 + 1;
            months(quarter_of(today.year(), q).ok()?, 3 * offset)
        }
        "year" => months(year_of(today.year()).ok()?, 12 * offset),
        _ => return None,
    })
}

/// A unit word, singular or plural.
fn unit(word: &str) -> Option<&str> {
    let w = word.strip_suffix('s').unwrap_or(word);
    matches!(w, "day" | "week" | "month" | "quarter" | "year").then_some(w)
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

fn month_name(word: &str) -> Option<u32> {
    let full = crate::domain::MONTH_NAMES;
    (0..12)
        .find(|&i| word == MONTHS[i] || word == full[i])
        .map(|i| i as u32 + 1)
}

/// A smart date: the period it names.
fn smart(t: &str, today: NaiveDate) -> Result<Span, String> {
    let words: Vec<&str> = t.split_whitespace().collect();
    let bad = || {
        format!(
            "{t:?} is not a date or period ({})",
            needs().trim_start_matches("needs ")
        )
    };
    match words.as_slice() {
        ["today"] => return Ok(day(today)),
        ["yesterday"] => return Ok(day(today.pred_opt().unwrap_or(today))),
        ["tomorrow"] => return Ok(day(today.succ_opt().unwrap_or(today))),
        [which, u] => {
            let offset = match *which {
                "this" => Some(0),
                "last" => Some(-1),
                "next" => Some(1),
                _ => None,
            };
            if let (Some(o), Some(u)) = (offset, unit(u)) {
                return relative(u, o, today).ok_or_else(bad);
            }
        }
        [n, u, "ago"] => {
            if let (Ok(n), Some(u)) = (n.parse::<u32>(), unit(u)) {
                let (start, _) = relative(u, -(n as i32), today).ok_or_else(bad)?;
                // A day that many units ago (hledger: `30 days ago` is a day).
                let back = match u {
                    "day" | "week" => {
                        today - Days::new(u64::from(n) * if u == "week" { 7 } else { 1 })
                    }
                    _ => start.with_day(today.day()).unwrap_or(start),
                };
                return Ok(day(back));
            }
        }
        ["last", n, u] => {
            if let (Ok(n), Some(u)) = (n.parse::<u32>(), unit(u))
                && n > 0
            {
                let (_, end) = relative(u, 0, today).ok_or_else(bad)?;
                let (start, _) = relative(u, 1 - n as i32, today).ok_or_else(bad)?;
                return Ok((start, end));
            }
        }
        _ => {}
    }
    // `thismonth`, `lastweek`, `nextyear`: the same without the space.
    for (which, offset) in [("this", 0), ("last", -1), ("next", 1)] {
        if let Some(u) = t.strip_prefix(which).and_then(unit) {
            return relative(u, offset, today).ok_or_else(bad);
        }
    }
    if let Some(m) = month_name(t) {
        let d = NaiveDate::from_ymd_opt(today.year(), m, 1).ok_or_else(bad)?;
        return Ok(month_of(d));
    }
    numeric(t, today).ok_or_else(bad)
}

/// Digits: `2025`, `2025-03`, `2025-03-15` (`-`, `/` or `.`), `20250315`, `2025q1`, `q1`, `3/15` (this year).
fn numeric(t: &str, today: NaiveDate) -> Option<Span> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if let Some((y, q)) = t.split_once('q') {
        let q: u32 = q.parse().ok().filter(|q| (1..=4).contains(q))?;
        let y = if y.is_empty() {
            today.year()
        } else if digits(y) && y.len() == 4 {
            y.parse().ok()?
        } else {
            return None;
        };
        return quarter_of(y, q).ok();
    }
    if t.len() == 8 && digits(t) {
        let d = NaiveDate::from_ymd_opt(
            t[..4].parse().ok()?,
            t[4..6].parse().ok()?,
            t[6..].parse().ok()?,
        )?;
        return Some(day(d));
    }
    let parts: Vec<&str> = t.split(['-', '/', '.']).collect();
    if !parts.iter().all(|p| digits(p)) {
        return None;
    }
    let n = |p: &str| p.parse::<u32>().ok();
    match parts.as_slice() {
        [y] if y.len() == 4 => year_of(y.parse().ok()?).ok(),
        [y, m] if y.len() == 4 => Some(month_of(NaiveDate::from_ymd_opt(
            y.parse().ok()?,
            n(m)?,
            1,
        )?)),
        [m, d] if m.len() <= 2 => Some(day(NaiveDate::from_ymd_opt(today.year(), n(m)?, n(d)?)?)),
        [y, m, d] if y.len() == 4 => {
            Some(day(NaiveDate::from_ymd_opt(y.parse().ok()?, n(m)?, n(d)?)?))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid date")
    }

    /// A Sunday, the last day of a month, quarter's middle.
    const TODAY: (i32, u32, u32) = (2026, 11, 29);

    fn p(text: &str) -> (Option<NaiveDate>, Option<NaiveDate>) {
        let r = parse(text, d(TODAY.0, TODAY.1, TODAY.2)).unwrap_or_else(|e| panic!("{text}: {e}"));
        (r.start, r.end)
    }

    fn span(a: NaiveDate, b: NaiveDate) -> (Option<NaiveDate>, Option<NaiveDate>) {
        (Some(a), Some(b))
    }

    #[test]
    fn absolute_periods() {
        assert_eq!(p("2025"), span(d(2025, 1, 1), d(2026, 1, 1)));
        assert_eq!(p("2025-03"), span(d(2025, 3, 1), d(2025, 4, 1)));
        assert_eq!(p("2025/12"), span(d(2025, 12, 1), d(2026, 1, 1)));
        assert_eq!(p("2025.03.15"), span(d(2025, 3, 15), d(2025, 3, 16)));
        assert_eq!(p("20250315"), span(d(2025, 3, 15), d(2025, 3, 16)));
        assert_eq!(p("2025q1"), span(d(2025, 1, 1), d(2025, 4, 1)));
        assert_eq!(p("2025Q4"), span(d(2025, 10, 1), d(2026, 1, 1)));
        assert_eq!(p("q2"), span(d(2026, 4, 1), d(2026, 7, 1)));
        assert_eq!(p("1/15"), span(d(2026, 1, 15), d(2026, 1, 16)));
        assert_eq!(p("jan"), span(d(2026, 1, 1), d(2026, 2, 1)));
        assert_eq!(p("December"), span(d(2026, 12, 1), d(2027, 1, 1)));
        assert_eq!(p("in 2025"), span(d(2025, 1, 1), d(2026, 1, 1)));
    }

    #[test]
    fn relative_periods() {
        assert_eq!(p("today"), span(d(2026, 11, 29), d(2026, 11, 30)));
        assert_eq!(p("yesterday"), span(d(2026, 11, 28), d(2026, 11, 29)));
        assert_eq!(p("thismonth"), span(d(2026, 11, 1), d(2026, 12, 1)));
        assert_eq!(p("this month"), p("thismonth"));
        assert_eq!(p("lastmonth"), span(d(2026, 10, 1), d(2026, 11, 1)));
        assert_eq!(p("nextmonth"), span(d(2026, 12, 1), d(2027, 1, 1)));
        assert_eq!(p("thisweek"), span(d(2026, 11, 23), d(2026, 11, 30)));
        assert_eq!(p("last week"), span(d(2026, 11, 16), d(2026, 11, 23)));
        assert_eq!(p("thisquarter"), span(d(2026, 10, 1), d(2027, 1, 1)));
        assert_eq!(p("last quarter"), span(d(2026, 7, 1), d(2026, 10, 1)));
        assert_eq!(p("lastyear"), span(d(2025, 1, 1), d(2026, 1, 1)));
        assert_eq!(p("30 days ago"), span(d(2026, 10, 30), d(2026, 10, 31)));
        assert_eq!(p("last 30 days"), span(d(2026, 10, 31), d(2026, 11, 30)));
        assert_eq!(p("last 3 months"), span(d(2026, 9, 1), d(2026, 12, 1)));
    }

    #[test]
    fn ranges_end_where_the_second_period_starts() {
        assert_eq!(p("2025..2026"), span(d(2025, 1, 1), d(2026, 1, 1)));
        assert_eq!(p("2025-01..2025-04"), span(d(2025, 1, 1), d(2025, 4, 1)));
        assert_eq!(
            p("2025-01-01-2025-02-01"),
            span(d(2025, 1, 1), d(2025, 2, 1))
        );
        assert_eq!(
            p("from 2025-01 to 2025-03"),
            span(d(2025, 1, 1), d(2025, 3, 1))
        );
        assert_eq!(p("2025-01 to 2025-03"), p("from 2025-01 to 2025-03"));
        assert_eq!(p("from 2025"), (Some(d(2025, 1, 1)), None));
        assert_eq!(p("to 2025"), (None, Some(d(2025, 1, 1))));
        assert_eq!(p("2025.."), (Some(d(2025, 1, 1)), None));
        assert_eq!(p("..2025-04"), (None, Some(d(2025, 4, 1))));
        assert_eq!(p("-2025"), (None, Some(d(2025, 1, 1))));
        assert_eq!(p("2025-"), (Some(d(2025, 1, 1)), None));
        assert_eq!(p("lastmonth..today"), span(d(2026, 10, 1), d(2026, 11, 29)));
    }

    #[test]
    fn nonsense_is_an_error() {
        let today = d(TODAY.0, TODAY.1, TODAY.2);
        for bad in [
            "",
            "2025-13",
            "soon",
            "2025w10",
            "last 0 days",
            "2025-04..2025-01",
            "q5",
            "since 2025",
        ] {
            assert!(parse(bad, today).is_err(), "{bad:?} should not parse");
        }
    }
}

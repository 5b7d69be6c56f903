//! CSV dates as hledger reads them. Without `date-format`: `YYYY-M-D`, `YYYY/M/D` or `YYYY.M.D`. With it: the
//! strptime patterns of Haskell's `parseTimeM`, which must read the whole value — `%Y`, `%y`, `%m`, `%d`, `%H`,
//! `%M`, `%S`, `%I` take two digits (`%-d`, `%-m`… one or two; `%e`, `%l` a space-padded one), `%b`/`%h`/`%B`
//! month names, `%a`/`%A` day names, `%p` AM/PM, `%z`/`%Z` a zone (read and ignored, as hledger ignores it), `%j`,
//! `%F`, `%D`, `%T`, `%%`; a space matches any run of spaces. Times are read and dropped: only the date counts.

use crate::domain::MONTH_NAMES as MONTHS;
use chrono::NaiveDate;

const DAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// What a pattern read: year, month, day (or day of the year).
#[derive(Default)]
struct Parts {
    year: Option<i32>,
    month: Option<u32>,
    day: Option<u32>,
    year_day: Option<u32>,
}

/// Reads `text` with `format` (hledger's `date-format`), or as `YYYY-M-D` / `YYYY/M/D` / `YYYY.M.D`.
pub fn parse(text: &str, format: Option<&str>) -> Result<NaiveDate, String> {
    let text = text.trim();
    let Some(format) = format else {
        return ["%Y-%-m-%-d", "%Y/%-m/%-d", "%Y.%-m.%-d"]
            .iter()
            .find_map(|f| with_format(text, f).ok())
            .ok_or_else(|| {
                format!("could not parse {text:?} as a date (YYYY-M-D, YYYY/M/D or YYYY.M.D; or give date-format)")
            });
    };
    with_format(text, format).map_err(|why| {
        format!("could not parse {text:?} as a date using date-format {format:?}: {why}")
    })
}

fn with_format(text: &str, format: &str) -> Result<NaiveDate, String> {
    let mut parts = Parts::default();
    let rest = read(text, format, &mut parts)?;
    if !rest.is_empty() {
        return Err(format!("{rest:?} left over"));
    }
    let year = parts.year.ok_or("no year")?;
    let date = match parts.year_day {
        Some(d) => NaiveDate::from_yo_opt(year, d),
        None => NaiveDate::from_ymd_opt(year, parts.month.unwrap_or(1), parts.day.unwrap_or(1)),
    };
    date.ok_or_else(|| "no such day".to_string())
}

/// Reads `text` with `format` into `parts`; what is left of `text`.
fn read<'t>(mut text: &'t str, format: &str, parts: &mut Parts) -> Result<&'t str, String> {
    let mut f = format.chars().peekable();
    while let Some(c) = f.next() {
        if c.is_whitespace() {
            text = text.trim_start();
            continue;
        }
        if c != '%' {
            text = text
                .strip_prefix(c)
                .ok_or_else(|| format!("expected {c:?} at {text:?}"))?;
            continue;
        }
        let pad = f.next_if(|m| matches!(m, '-' | '_' | '0' | '^' | '#'));
        let spec = f.next().ok_or("a lone % at the end of date-format")?;
        text = directive(text, spec, pad, parts)?;
    }
    Ok(text)
}

fn directive<'t>(
    text: &'t str,
    spec: char,
    pad: Option<char>,
    parts: &mut Parts,
) -> Result<&'t str, String> {
    let (min, max) = if pad == Some('-') { (1, 2) } else { (2, 2) };
    Ok(match spec {
        'Y' => {
            let (y, rest) = digits(text, if pad == Some('-') { 1 } else { 4 }, 4)?;
            parts.year = Some(y as i32);
            rest
        }
        'y' => {
            let (y, rest) = digits(text, min, max)?;
            parts.year = Some(if y < 69 { 2000 + y } else { 1900 + y } as i32);
            rest
        }
        'm' => set(text, (min, max), &mut parts.month)?,
        'd' => set(text, (min, max), &mut parts.day)?,
        'e' => set(
            text.strip_prefix(' ').unwrap_or(text),
            (1, 2),
            &mut parts.day,
        )?,
        'j' => set(
            text,
            (if pad == Some('-') { 1 } else { 3 }, 3),
            &mut parts.year_day,
        )?,
        'H' | 'M' | 'S' | 'I' => digits(text, min, max)?.1,
        'k' | 'l' => digits(text.strip_prefix(' ').unwrap_or(text), 1, 2)?.1,
        'b' | 'h' | 'B' => {
            let (m, rest) = name(text, &MONTHS, spec == 'B')?;
            parts.month = Some(m as u32 + 1);
            rest
        }
        'a' | 'A' => name(text, &DAYS, spec == 'A')?.1,
        'p' | 'P' => ["am", "pm"]
            .iter()
            .find_map(|p| strip_prefix_ci(text, p))
            .ok_or_else(|| format!("expected AM or PM at {text:?}"))?,
        'z' | 'Z' => zone(text),
        'F' => read(text, "%Y-%m-%d", parts)?,
        'D' => read(text, "%m/%d/%y", parts)?,
        'T' => read(text, "%H:%M:%S", parts)?,
        '%' => text.strip_prefix('%').ok_or("expected %")?,
        other => return Err(format!("date-format: %{other} is not supported")),
    })
}

fn set<'t>(
    text: &'t str,
    (min, max): (usize, usize),
    to: &mut Option<u32>,
) -> Result<&'t str, String> {
    let (n, rest) = digits(text, min, max)?;
    *to = Some(n);
    Ok(rest)
}

/// From `min` to `max` ASCII digits.
fn digits(text: &str, min: usize, max: usize) -> Result<(u32, &str), String> {
    let len = text
        .bytes()
        .take(max)
        .take_while(u8::is_ascii_digit)
        .count();
    if len < min {
        return Err(format!("expected {min} digits at {text:?}"));
    }
    let n = text[..len]
        .parse()
        .map_err(|_| format!("{text:?}: too big"))?;
    Ok((n, &text[len..]))
}

/// A month or day name, full or its first three letters, any case; its index.
fn name<'t>(text: &'t str, names: &[&str], full: bool) -> Result<(usize, &'t str), String> {
    names
        .iter()
        .enumerate()
        .find_map(|(i, n)| {
            let n = if full { n } else { &n[..3] };
            strip_prefix_ci(text, n).map(|rest| (i, rest))
        })
        .ok_or_else(|| format!("expected a name at {text:?}"))
}

fn strip_prefix_ci<'t>(text: &'t str, prefix: &str) -> Option<&'t str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

/// `+0100`, `-05:00`, `Z`, `UTC`: read and ignored.
fn zone(text: &str) -> &str {
    if let Some(rest) = text.strip_prefix(['+', '-']) {
        let len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == ':'))
            .unwrap_or(rest.len());
        return &rest[len..];
    }
    let len = text
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(text.len());
    &text[len..]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("date")
    }

    #[test]
    fn formats_read_as_hledger_reads_them() {
        assert_eq!(parse("2025-1-5", None), Ok(d(2025, 1, 5)));
        assert_eq!(parse("2025.01.05", None), Ok(d(2025, 1, 5)));
        assert!(parse("5.1.2025", None).is_err());
        assert!(
            parse("1/2/2025", Some("%d/%m/%Y")).is_err(),
            "%d wants two digits"
        );
        assert_eq!(parse("1/2/2025", Some("%-d/%-m/%Y")), Ok(d(2025, 2, 1)));
        assert_eq!(parse("01/02/25", Some("%-d/%-m/%y")), Ok(d(2025, 2, 1)));
        assert_eq!(parse("Jan 5 2025", Some("%b %e %Y")), Ok(d(2025, 1, 5)));
        assert_eq!(
            parse("JANUARY 05 2025", Some("%B %d %Y")),
            Ok(d(2025, 1, 5))
        );
        assert_eq!(
            parse("2025-01-05 1:45 PM junk", Some("%Y-%m-%d %l:%M %p junk")),
            Ok(d(2025, 1, 5))
        );
        assert_eq!(
            parse("2025-01-05T23:45:00+0100", Some("%Y-%m-%dT%H:%M:%S%z")),
            Ok(d(2025, 1, 5))
        );
        assert_eq!(parse("20250105", Some("%Y%m%d")), Ok(d(2025, 1, 5)));
        assert!(parse("2025-01-05x", Some("%Y-%m-%d")).is_err());
        assert!(parse("2025-02-30", None).is_err());
    }
}

//! A statement as a person types it (the CLI's `--date`/`--balance`, the dashboard's reconcile form): a date like
//! `2025-01-31` (`/` and `.` accepted), and a balance in the journal's notation with its commodity on either side.

/// A statement date: `YYYY-MM-DD` (or with `/` or `.`), as in a journal.
pub fn date(s: &str) -> Result<chrono::NaiveDate, String> {
    let t = s.trim().replace(['/', '.'], "-");
    chrono::NaiveDate::parse_from_str(&t, "%Y-%m-%d")
        .map_err(|e| format!("{s:?} is not a date like 2025-01-31 ({e})"))
}

/// A statement balance in the journal's notation: an amount with its commodity on either side (`$1,234.56`,
/// `-80.10 EUR`, `1234`). A lone `,` or `.` before exactly three digits could be either mark and is refused.
pub fn amount(s: &str) -> Result<crate::domain::Money, String> {
    use crate::backend::journal::amount;
    struct NoDirectives;
    impl amount::MarkLookup for NoDirectives {
        fn mark_for(&self, _: &str) -> Option<u8> {
            None
        }
    }
    let text = s.trim();
    let bad = |why: String| format!("{s:?} is not an amount like $1234.56 or -80.10 EUR: {why}");
    let lexed = amount::lex(text, 0).map_err(|e| bad(e.message))?;
    if lexed.span.end != text.len() {
        return Err(bad(format!("unexpected {:?}", &text[lexed.span.end..])));
    }
    if let amount::Shape::Ambiguous { sep } = lexed.shape {
        let decimals = text[lexed.number.clone()]
            .rsplit(sep as char)
            .next()
            .map_or(0, str::len);
        if decimals == 3 {
            return Err(bad(format!(
                "`{}` could be a decimal mark or a digit group; write 1234.567 or 1,234.00",
                sep as char
            )));
        }
    }
    let quantity = amount::value(&lexed, text, &NoDirectives).map_err(|e| bad(e.message))?;
    Ok(crate::domain::Money::new(quantity, lexed.commodity(text)))
}

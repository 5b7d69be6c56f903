//! Text as the dashboard draws it. Every string that came from data (descriptions, tags, notes, account names,
//! error messages from servers) goes through `crate::text::clean` before it reaches the terminal (see there), so an
//! escape sequence in a journal or an API response is displayed, never executed. Also here: fitting and padding
//! text to a column width in display columns (a zero-width space or a combining mark takes none, a CJK character
//! two; never `chars().count()` or `format!("{:<w$}")`, which count characters), and number formatting.

use crate::domain::Balance;
pub use crate::text::clean;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// `clean(s)` cut to at most `width` display columns, ending in `…` when cut.
pub fn fit(s: &str, width: usize) -> String {
    let s = clean(s);
    if s.width() <= width {
        return s.into_owned();
    }
    if width == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > width - 1 {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

/// `s` cut to `width` display columns from the start, keeping its end (`…/finance/main.journal`): for paths,
/// whose end names the file.
pub fn fit_start(s: &str, width: usize) -> String {
    let s = clean(s);
    if s.width() <= width {
        return s.into_owned();
    }
    if width == 0 {
        return String::new();
    }
    let mut kept: Vec<char> = Vec::new();
    let mut used = 0;
    for c in s.chars().rev() {
        let w = c.width().unwrap_or(0);
        if used + w > width - 1 {
            break;
        }
        kept.push(c);
        used += w;
    }
    kept.reverse();
    let mut out = String::from("…");
    out.extend(kept);
    out
}

/// An account name cut to `width` from the middle of its path: the last part stays whole and each part before it
/// is shortened (`ass…:checking`, `exp…:din…:coffee`), so the account is still told apart from its siblings.
pub fn fit_account(name: &str, width: usize) -> String {
    let name = clean(name);
    if name.width() <= width {
        return name.into_owned();
    }
    let parts: Vec<&str> = name.split(':').collect();
    let Some((last, parents)) = parts.split_last() else {
        return fit(&name, width);
    };
    if parents.is_empty() || last.width() + 2 * parents.len() > width {
        return fit(&name, width);
    }
    // Room for the parents, each with its `:`; shared out evenly, at least one letter and `…` each.
    let room = width - last.width() - parents.len();
    let each = (room / parents.len()).max(2);
    let mut out = String::new();
    for p in parents {
        out.push_str(&if p.width() <= each {
            p.to_string()
        } else {
            fit(p, each)
        });
        out.push(':');
    }
    out.push_str(last);
    if out.width() > width {
        return fit(&name, width);
    }
    out
}

/// `s` then spaces up to `width` display columns; longer text is left as it is (cut it with `fit` first).
pub fn pad_end(s: &str, width: usize) -> String {
    let mut out = s.to_string();
    out.push_str(&" ".repeat(width.saturating_sub(s.width())));
    out
}

/// Spaces then `s`, right-aligned in `width` display columns; longer text is left as it is.
pub fn pad_start(s: &str, width: usize) -> String {
    let mut out = " ".repeat(width.saturating_sub(s.width()));
    out.push_str(s);
    out
}

/// `s` without its first `columns` display columns (an input field scrolled sideways); zero-width characters that
/// belong to a skipped character go with it.
pub fn skip_columns(s: &str, columns: usize) -> &str {
    let mut used = 0;
    for (i, c) in s.char_indices() {
        let w = c.width().unwrap_or(0);
        if used >= columns && (w > 0 || i == 0) {
            return &s[i..];
        }
        used += w;
    }
    ""
}

/// `1234567` → `1,234,567`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A balance as text, digits grouped in thousands (`-$1,234.50, 12.00 EUR`); `0` when empty.
pub fn money(b: &Balance) -> String {
    let parts: Vec<String> = b
        .non_zero()
        .map(|m| group_digits(&clean(&m.to_string())))
        .collect();
    if parts.is_empty() {
        "0".to_string()
    } else {
        parts.join(", ")
    }
}

/// Inserts `,` between thousands in the first run of digits (the integer part) of a formatted amount.
pub fn group_digits(s: &str) -> String {
    let Some(start) = s.find(|c: char| c.is_ascii_digit()) else {
        return s.to_string();
    };
    let len = s[start..]
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(s.len() - start);
    if len <= 3 {
        return s.to_string();
    }
    let digits = &s[start..start + len];
    let mut out = String::with_capacity(s.len() + len / 3);
    out.push_str(&s[..start]);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (len - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out.push_str(&s[start + len..]);
    out
}

/// True when every non-zero amount of the balance is negative.
pub fn is_negative(b: &Balance) -> bool {
    let mut any = false;
    for m in b.non_zero() {
        if !m.quantity.is_sign_negative() {
            return false;
        }
        any = true;
    }
    any
}

const BLOCKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// A one-line sparkline of magnitudes: the largest gets a full block, zero a space.
pub fn sparkline(values: &[f64]) -> String {
    let max = values.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    values
        .iter()
        .map(|v| {
            if max <= 0.0 || *v == 0.0 {
                ' '
            } else {
                let i = ((v.abs() / max) * 7.0).round() as usize;
                BLOCKS[i.min(7)]
            }
        })
        .collect()
}

/// A sparkline of levels (balances): the range from the lowest to the highest value is spread over the blocks.
pub fn level_sparkline(values: &[f64]) -> String {
    let (lo, hi) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(*v), hi.max(*v))
        });
    values
        .iter()
        .map(|v| {
            if hi - lo <= f64::EPSILON {
                BLOCKS[3]
            } else {
                let i = (((v - lo) / (hi - lo)) * 7.0).round() as usize;
                BLOCKS[i.min(7)]
            }
        })
        .collect()
}

/// A horizontal bar of `fraction` (0..=1) of `width` columns, in eighths.
pub fn bar(fraction: f64, width: usize) -> String {
    let eighths = (fraction.clamp(0.0, 1.0) * width as f64 * 8.0).round() as usize;
    let mut out = "█".repeat(eighths / 8);
    const PARTS: [char; 7] = ['▏', '▎', '▍', '▌', '▋', '▊', '▉'];
    if !eighths.is_multiple_of(8) {
        out.push(PARTS[eighths % 8 - 1]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_keep_their_end_and_accounts_their_last_part() {
        assert_eq!(
            fit_start("/home/me/finance/main.journal", 16),
            "…ce/main.journal"
        );
        assert_eq!(fit_start("short", 10), "short");
        assert_eq!(fit_account("assets:checking", 13), "ass…:checking");
        assert_eq!(fit_account("assets:checking", 20), "assets:checking");
        let deep = fit_account("expenses:dining:coffee shops", 20);
        assert!(
            deep.ends_with(":coffee shops") && deep.width() <= 20,
            "{deep}"
        );
        assert!(fit_account("assets:a-very-long-last-part", 8).width() <= 8);
    }

    #[test]
    fn escape_sequences_become_visible() {
        // `clean` itself is tested in `crate::text`; here, that fitting keeps what it cleans harmless.
        assert!(!fit("\u{1b}]0;title\u{7}", 40).contains('\u{1b}'));
    }

    #[test]
    fn fit_cuts_by_display_width() {
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(fit("abc", 4), "abc");
        assert_eq!(fit("日本語テキスト", 5), "日本…");
        assert_eq!(fit("abc", 0), "");
    }

    #[test]
    fn zero_width_characters_take_no_columns() {
        // Zero-width space, non-joiner, joiner, word joiner, BOM, a combining accent.
        let s = "a\u{200b}b\u{200c}c\u{200d}d\u{2060}e\u{feff}e\u{301}";
        assert_eq!(s.width(), 6);
        assert_eq!(fit(s, 6), s);
        assert_eq!(fit(s, 4).width(), 4);
        assert_eq!(pad_end(s, 8).width(), 8);
        assert_eq!(pad_end("Caf\u{e9}\u{200b}", 6), "Caf\u{e9}\u{200b}  ");
        assert_eq!(pad_start("\u{200b}$5", 4), "  \u{200b}$5");
        assert_eq!(pad_end("日本", 5), "日本 ");
        assert_eq!(pad_start("toolong", 3), "toolong");
        assert_eq!(skip_columns("a\u{200b}bc", 1), "bc");
        assert_eq!(skip_columns("e\u{301}xy", 1), "xy");
        assert_eq!(skip_columns("日本語", 2), "本語");
        assert_eq!(skip_columns("abc", 0), "abc");
        assert_eq!(skip_columns("abc", 5), "");
    }

    #[test]
    fn numbers_and_bars() {
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(12), "12");
        assert_eq!(group_digits("-$1234567.50"), "-$1,234,567.50");
        assert_eq!(group_digits("1234.00 EUR"), "1,234.00 EUR");
        assert_eq!(group_digits("$999.99"), "$999.99");
        assert_eq!(sparkline(&[0.0, 1.0, 4.0, -8.0]), " ▂▅█");
        assert_eq!(level_sparkline(&[-10.0, 0.0, 10.0]), "▁▅█");
        assert_eq!(bar(0.5, 4), "██");
        assert_eq!(bar(1.0 / 16.0, 4), "▎");
    }
}

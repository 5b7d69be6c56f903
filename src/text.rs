//! Text made safe for a terminal, shared by the dashboard (`ui`) and the command line (`cli`). Text from journals and
//! servers can hold control characters: ESC starts sequences that set the window title, write the clipboard (OSC 52)
//! or redraw the screen, and some terminals read the C1 controls (U+0080–U+009F, e.g. U+009B CSI) the same way.
//! `clean` makes every one of them visible — C0 controls and DEL as the Unicode control pictures (ESC as `␛`), C1
//! controls as `�` (they have no pictures) — and turns bidirectional overrides into `�` so text cannot be visually
//! reordered. Zero-width joiners, combining marks and other printable characters pass unchanged: they are text, and
//! the width functions count them as zero columns.

use std::borrow::Cow;

/// What `clean` shows instead of `c`, or `None` when `c` is safe to print.
fn replacement(c: char) -> Option<char> {
    match c {
        '\u{7f}' => Some('\u{2421}'),
        c if (c as u32) < 0x20 => char::from_u32(0x2400 + c as u32),
        '\u{80}'..='\u{9f}' => Some('\u{fffd}'),
        '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => {
            Some('\u{fffd}')
        }
        _ => None,
    }
}

/// True for the characters `clean` replaces: controls (C0, DEL, C1) and bidirectional overrides.
pub fn is_unsafe(c: char) -> bool {
    replacement(c).is_some()
}

/// The string with control characters made visible (see the module comment); newlines too, so one value stays on
/// one line.
pub fn clean(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(s.chars().map(|c| replacement(c).unwrap_or(c)).collect())
}

/// `clean` for a message that may span lines (an error with its causes): keeps `\n`, makes everything else visible,
/// `\r` included (it would let a message overwrite its own line).
pub fn clean_lines(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| c != '\n' && is_unsafe(c)) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.split('\n')
            .map(|line| clean(line))
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_become_visible() {
        assert_eq!(clean("ok"), Cow::Borrowed("ok"));
        assert_eq!(clean("\u{1b}[31mred\u{7}"), "␛[31mred␇");
        assert_eq!(clean("\u{1b}]0;pwned\u{7}"), "␛]0;pwned␇");
        assert_eq!(clean("\u{1b}]52;c;aGVsbG8=\u{7}"), "␛]52;c;aGVsbG8=␇");
        assert_eq!(clean("a\nb\tc\u{7f}\r"), "a␊b␉c␡␍");
        assert_eq!(
            clean("x\u{9b}2J\u{85}\u{202e}y"),
            "x\u{fffd}2J\u{fffd}\u{fffd}y"
        );
        assert_eq!(clean("lone \u{1b}"), "lone ␛");
    }

    #[test]
    fn printable_invisible_characters_pass_unchanged() {
        // Zero-width space, non-joiner, joiner, word joiner, BOM, a combining accent, an emoji ZWJ sequence.
        for s in [
            "a\u{200b}b",
            "a\u{200c}b",
            "a\u{200d}b",
            "a\u{2060}b",
            "\u{feff}a",
            "e\u{301}",
            "👩\u{200d}💻",
        ] {
            assert_eq!(clean(s), Cow::Borrowed(s));
        }
    }

    #[test]
    fn clean_lines_keeps_only_newlines() {
        assert_eq!(clean_lines("one\ntwo"), Cow::Borrowed("one\ntwo"));
        assert_eq!(
            clean_lines("bad \u{1b}]0;t\u{7}\nnext\r\u{9b}"),
            "bad ␛]0;t␇\nnext␍\u{fffd}"
        );
    }

    #[test]
    fn is_unsafe_matches_clean() {
        for c in [
            '\0', '\u{1b}', '\u{7f}', '\u{80}', '\u{9b}', '\u{9f}', '\u{202e}',
        ] {
            assert!(is_unsafe(c), "{c:?}");
        }
        for c in [' ', 'a', '\u{a0}', '\u{200b}', '\u{200d}', '€'] {
            assert!(!is_unsafe(c), "{c:?}");
        }
    }
}

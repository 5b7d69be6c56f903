//! The one grammar of journal text, shared by the reader (`parse`) and the editor (`patch`): it cuts text into lines
//! (LF, CRLF or a lone CR, as hledger reads them) and says where every part of a transaction's lines is — the header's
//! date, status, code, description and comment; each posting's status, account, amount, cost, balance assertion and
//! comment; each tag's name and value inside a comment. It only finds spans, as hledger 1.25's parser would; what the
//! parts mean (dates, decimal marks, aliases) is the reader's business. Because both sides use these spans, an edit
//! replaces exactly the part hledger reads, never a part found by a second, different reading of the text.

use super::amount::{self, AmountLex, skip_blanks};
use std::ops::Range;

/// A syntax error at byte `at` of the line (or text) that was lexed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub at: usize,
    pub message: String,
}

impl SyntaxError {
    pub fn new(at: usize, message: impl Into<String>) -> SyntaxError {
        SyntaxError {
            at,
            message: message.into(),
        }
    }
}

/// Haskell's `isSpace`, which hledger uses inside a line: ASCII blanks, no-break space and the Unicode space
/// separators (not U+0085, U+2028 or U+2029, and not zero-width characters).
pub fn is_space(c: char) -> bool {
    match c {
        ' ' | '\t' | '\u{b}' | '\u{c}' | '\r' | '\u{a0}' => true,
        c if c < '\u{100}' => false,
        '\u{2028}' | '\u{2029}' => false,
        c => c.is_whitespace(),
    }
}

/// The 1-based column (in characters) of byte `byte` of `line`.
pub fn column_of(line: &str, byte: usize) -> usize {
    line.get(..byte).map_or(byte, |p| p.chars().count()) + 1
}

/// Whether the character at byte `i` of `text` is a space (see `is_space`); false at the end.
pub fn is_space_at(text: &str, i: usize) -> bool {
    match text.as_bytes().get(i) {
        Some(b' ' | b'\t') => true,
        Some(&c) if c < 0x80 => c == 0x0b || c == 0x0c,
        Some(_) => text
            .get(i..)
            .and_then(|s| s.chars().next())
            .is_some_and(is_space),
        None => false,
    }
}

/// The byte length of the space character at `i` (0 when there is none).
fn space_len(text: &str, i: usize) -> usize {
    if is_space_at(text, i) {
        text[i..].chars().next().map_or(0, char::len_utf8)
    } else {
        0
    }
}

/// One line of text: where it starts, its text without the line ending, and the ending itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line<'t> {
    pub start: usize,
    pub text: &'t str,
    pub eol: &'t str,
    /// 1-based line number.
    pub number: u32,
}

impl Line<'_> {
    /// Where the next line starts.
    pub fn next(&self) -> usize {
        self.start + self.text.len() + self.eol.len()
    }
}

/// The lines of `text[from..to]`, numbered from `first`; each ends at LF, CRLF or a lone CR.
#[derive(Debug, Clone)]
pub struct Lines<'t> {
    text: &'t str,
    pos: usize,
    end: usize,
    number: u32,
}

pub fn lines(text: &str, from: usize, to: usize, first: u32) -> Lines<'_> {
    Lines {
        text,
        pos: from,
        end: to,
        number: first,
    }
}

impl<'t> Iterator for Lines<'t> {
    type Item = Line<'t>;
    fn next(&mut self) -> Option<Line<'t>> {
        if self.pos >= self.end {
            return None;
        }
        let bytes = &self.text.as_bytes()[self.pos..self.end];
        let (len, eol) = match memchr::memchr2(b'\n', b'\r', bytes) {
            Some(k) if bytes[k] == b'\r' && bytes.get(k + 1) == Some(&b'\n') => (k, 2),
            Some(k) => (k, 1),
            None => (bytes.len(), 0),
        };
        let line = Line {
            start: self.pos,
            text: &self.text[self.pos..self.pos + len],
            eol: &self.text[self.pos + len..self.pos + len + eol],
            number: self.number,
        };
        self.pos += len + eol;
        self.number += 1;
        Some(line)
    }
}

/// Whether a line holds nothing but spaces (it ends a transaction).
pub fn is_blank(line: &str) -> bool {
    line.chars().all(is_space)
}

/// A transaction's first line, as byte ranges of that line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub date: Range<usize>,
    /// `=DATE2` without the `=`.
    pub date2: Option<Range<usize>>,
    /// The `*` or `!` mark's byte.
    pub status: Option<usize>,
    /// The code inside `(` `)`.
    pub code: Option<Range<usize>>,
    /// The description without surrounding spaces; empty, where it would start, when there is none.
    pub description: Range<usize>,
    /// The comment's text after `;`, to the end of the line.
    pub comment: Option<Range<usize>>,
}

impl Header {
    /// Where the payee ends inside the description: at the first `|`, or the description's end.
    pub fn payee_end(&self, line: &str) -> usize {
        memchr::memchr(b'|', &line.as_bytes()[self.description.clone()])
            .map_or(self.description.end, |k| self.description.start + k)
    }
}

fn date_end(line: &str, i: usize) -> usize {
    line[i..]
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '-' | '/' | '.')))
        .map_or(line.len(), |k| i + k)
}

/// Lexes a transaction's header line: `DATE[=DATE2] [*|!] [(CODE)] DESCRIPTION [; COMMENT]`.
pub fn header(line: &str) -> Result<Header, SyntaxError> {
    let date = 0..date_end(line, 0);
    if date.is_empty() {
        return Err(SyntaxError::new(0, "expected a date"));
    }
    let mut i = date.end;
    let mut date2 = None;
    if line[i..].starts_with('=') {
        let d2 = i + 1..date_end(line, i + 1);
        if d2.is_empty() {
            return Err(SyntaxError::new(i + 1, "expected a secondary date"));
        }
        i = d2.end;
        date2 = Some(d2);
    }
    if i < line.len() && !is_space_at(line, i) {
        return Err(SyntaxError::new(
            i,
            format!(
                "unexpected {:?} after the date (expected a space or the end of the line)",
                line[i..].chars().next().unwrap_or(' ')
            ),
        ));
    }
    let after_date = i;
    i = skip_blanks(line, i);
    let mut status = None;
    if matches!(line.as_bytes().get(i), Some(b'*' | b'!')) {
        status = Some(i);
        i += 1;
    }
    // The code needs a space before its `(`, as in hledger: `2024-01-01 *(a) x` has the description `(a) x`.
    let before_code = status.map_or(after_date, |s| s + 1);
    let code_start = skip_blanks(line, before_code);
    let mut code = None;
    if code_start > before_code && line[code_start..].starts_with('(') {
        let close = line[code_start..].find(')').ok_or_else(|| {
            SyntaxError::new(line.len(), "expected `)` closing the transaction code")
        })?;
        code = Some(code_start + 1..code_start + close);
        i = code_start + close + 1;
    }
    let rest_start = i;
    let comment_at = memchr::memchr(b';', &line.as_bytes()[rest_start..]).map(|k| rest_start + k);
    let desc_end = comment_at.unwrap_or(line.len());
    let description = trim_range(line, rest_start..desc_end);
    Ok(Header {
        date,
        date2,
        status,
        code,
        description,
        comment: comment_at.map(|c| c + 1..line.len()),
    })
}

/// `range` of `text` without the spaces at both ends; an all-space range becomes empty at its start.
pub fn trim_range(text: &str, range: Range<usize>) -> Range<usize> {
    let s = &text[range.clone()];
    let start = range.start + (s.len() - s.trim_start_matches(is_space).len());
    let end = range.start + s.trim_end_matches(is_space).len();
    if end <= start {
        range.start..range.start
    } else {
        start..end
    }
}

/// A cost: `@ UNIT`, `@@ TOTAL`, or `(@)` / `(@@)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cost {
    pub at: usize,
    pub total: bool,
    pub amount: AmountLex,
}

/// A balance assertion or assignment: `=`, `==`, `=*`, `==*`, then an amount, perhaps with a cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assertion {
    /// The first `=`.
    pub at: usize,
    pub total: bool,
    pub inclusive: bool,
    pub amount: AmountLex,
    pub cost: Option<Cost>,
}

/// A posting line, as byte ranges of that line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posting {
    pub status: Option<usize>,
    /// The account as written, brackets of a virtual posting included.
    pub account: Range<usize>,
    pub amount: Option<AmountLex>,
    pub cost: Option<Cost>,
    pub assertion: Option<Assertion>,
    /// From the amount (or assertion) to the end of the last amount part: what the transaction's id covers.
    pub amounts: Range<usize>,
    /// The comment's text after `;`, to the end of the line.
    pub comment: Option<Range<usize>>,
}

/// A line inside a transaction, after its header. (A posting is much larger than a comment; lines are short-lived
/// values on the stack, one at a time, so boxing would only add an allocation per posting.)
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyLine {
    /// `    ; text`: the comment's text after `;`.
    Comment(Range<usize>),
    Posting(Posting),
}

/// Lexes an indented line inside a transaction. A line whose first non-space character is `;` is a comment; any
/// other line is a posting — `    # text` too, as hledger reads it.
pub fn body_line(line: &str) -> Result<BodyLine, SyntaxError> {
    let i = skip_blanks(line, 0);
    if line[i..].starts_with(';') {
        return Ok(BodyLine::Comment(i + 1..line.len()));
    }
    posting(line, i).map(BodyLine::Posting)
}

/// Where an account name written from `i` ends: before a space that another space (or the line's end) follows.
fn account_end(line: &str, i: usize) -> usize {
    let mut k = i;
    while k < line.len() {
        let n = space_len(line, k);
        if n > 0 && (k + n == line.len() || is_space_at(line, k + n)) {
            return k;
        }
        k += if n > 0 {
            n
        } else {
            line[k..].chars().next().map_or(1, char::len_utf8)
        };
    }
    line.len()
}

fn posting(line: &str, indent_end: usize) -> Result<Posting, SyntaxError> {
    let b = line.as_bytes();
    let mut i = indent_end;
    let mut status = None;
    if matches!(b.get(i), Some(b'*' | b'!')) {
        status = Some(i);
        i = skip_blanks(line, i + 1);
    }
    let account = i..account_end(line, i);
    if account.is_empty() {
        return Err(SyntaxError::new(i, "posting has no account name"));
    }
    i = skip_blanks(line, account.end);
    let amounts_start = i;
    let mut amount = None;
    let mut cost = None;
    if i < b.len() && b[i] != b';' && b[i] != b'=' {
        let a = amount::lex(line, i)?;
        i = skip_blanks(line, a.span.end);
        let (c, next) = costs_and_lots(line, i, true)?;
        cost = c;
        i = next;
        amount = Some(a);
    }
    let mut assertion = None;
    if b.get(i) == Some(&b'=') {
        let a = assertion_at(line, i)?;
        i = skip_blanks(
            line,
            a.cost
                .as_ref()
                .map_or(a.amount.span.end, |c| c.amount.span.end),
        );
        assertion = Some(a);
    }
    let amounts = trim_range(line, amounts_start..i);
    let comment = match b.get(i) {
        None => None,
        Some(b';') => Some(i + 1..line.len()),
        Some(_) => {
            return Err(SyntaxError::new(
                i,
                format!("unexpected text {:?} after the amount", &line[i..]),
            ));
        }
    };
    Ok(Posting {
        status,
        account,
        amount,
        cost,
        assertion,
        amounts,
        comment,
    })
}

fn assertion_at(line: &str, at: usize) -> Result<Assertion, SyntaxError> {
    let b = line.as_bytes();
    let mut i = at + 1;
    let total = b.get(i) == Some(&b'=');
    i += usize::from(total);
    let inclusive = b.get(i) == Some(&b'*');
    i += usize::from(inclusive);
    i = skip_blanks(line, i);
    let amount = amount::lex(line, i).map_err(|e| SyntaxError {
        message: format!("balance assertion: {}", e.message),
        ..e
    })?;
    let (cost, _) = costs_and_lots(line, skip_blanks(line, amount.span.end), false)?;
    Ok(Assertion {
        at,
        total,
        inclusive,
        amount,
        cost,
    })
}

/// After an amount: a cost, and (when `lots`) a lot price `{…}`/`{{…}}` and a lot date `[…]`, in any order, each at
/// most once; lot prices and dates are read and ignored, as hledger does. Returns the cost and where lexing goes on.
fn costs_and_lots(
    line: &str,
    mut i: usize,
    lots: bool,
) -> Result<(Option<Cost>, usize), SyntaxError> {
    let b = line.as_bytes();
    let mut cost = None;
    let (mut lot_price, mut lot_date) = (false, false);
    loop {
        let parenthesised = line[i..].starts_with("(@");
        if cost.is_none() && (b.get(i) == Some(&b'@') || parenthesised) {
            let at = i;
            let mut k = i + usize::from(parenthesised) + 1;
            let total = b.get(k) == Some(&b'@');
            k += usize::from(total);
            if parenthesised {
                if b.get(k) != Some(&b')') {
                    return Err(SyntaxError::new(k, "expected `)` after `(@`"));
                }
                k += 1;
            }
            let amount = amount::lex(line, skip_blanks(line, k)).map_err(|e| SyntaxError {
                message: format!("cost: {}", e.message),
                ..e
            })?;
            i = skip_blanks(line, amount.span.end);
            cost = Some(Cost { at, total, amount });
        } else if lots && !lot_price && b.get(i) == Some(&b'{') {
            let double = b.get(i + 1) == Some(&b'{');
            let close = if double { "}}" } else { "}" };
            let k = line[i..].find(close).ok_or_else(|| {
                SyntaxError::new(i, format!("expected `{close}` closing the lot price"))
            })?;
            i = skip_blanks(line, i + k + close.len());
            lot_price = true;
        } else if lots && !lot_date && b.get(i) == Some(&b'[') {
            let k = line[i..]
                .find(']')
                .ok_or_else(|| SyntaxError::new(i, "expected `]` closing the lot date"))?;
            i = skip_blanks(line, i + k + 1);
            lot_date = true;
        } else {
            return Ok((cost, i));
        }
    }
}

/// An account name as hledger keeps it: the words written, joined by single spaces (a tab or a no-break space between
/// two words reads as a space).
pub fn account_name(written: &str) -> std::borrow::Cow<'_, str> {
    let plain = !written
        .bytes()
        .any(|c| matches!(c, b'\t' | b'\r' | 0x0b | 0x0c))
        && (written.is_ascii() || !written.contains(is_unusual_space));
    if plain {
        return std::borrow::Cow::Borrowed(written);
    }
    let words: Vec<&str> = written.split(is_space).filter(|w| !w.is_empty()).collect();
    std::borrow::Cow::Owned(words.join(" "))
}

fn is_unusual_space(c: char) -> bool {
    c != ' ' && is_space(c)
}

/// A tag in a comment's text, as byte ranges of that text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagSpan {
    pub name: Range<usize>,
    /// The value without surrounding spaces (empty for `name:`).
    pub value: Range<usize>,
    /// Just after the value's terminating comma, or the end of the text when no comma follows.
    pub end: usize,
    pub comma: bool,
}

/// The tags in a comment's text (the text after `;` on one line), as hledger finds them: a tag's name is the last
/// space-separated word before a `:` (commas included: `; a,b:c` is the tag `a,b`), its value runs to the next comma
/// or the end of the text, without surrounding spaces; reading resumes after that comma. So `see http://x.y` is the
/// tag `http` with the value `//x.y`.
pub fn tags(comment: &str) -> Vec<TagSpan> {
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some(off) = memchr::memchr(b':', &comment.as_bytes()[pos..]) {
        let colon = pos + off;
        let name_start = comment[pos..colon]
            .char_indices()
            .rev()
            .find(|&(_, c)| is_space(c))
            .map_or(pos, |(k, c)| pos + k + c.len_utf8());
        if name_start == colon {
            pos = colon + 1;
            continue;
        }
        let vend = memchr::memchr(b',', &comment.as_bytes()[colon + 1..])
            .map_or(comment.len(), |k| colon + 1 + k);
        let comma = vend < comment.len();
        out.push(TagSpan {
            name: name_start..colon,
            value: trim_range(comment, colon + 1..vend),
            end: vend + usize::from(comma),
            comma,
        });
        pos = vend + usize::from(comma);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(line: &str) -> Vec<&str> {
        let h = header(line).expect("header lexes");
        let mut v = vec![&line[h.date.clone()]];
        v.extend(h.status.map(|s| &line[s..=s]));
        v.extend(h.code.clone().map(|c| &line[c]));
        v.push(&line[h.description.clone()]);
        v.extend(h.comment.clone().map(|c| &line[c]));
        v
    }

    #[test]
    fn headers_as_hledger_reads_them() {
        assert_eq!(
            parts("2024-01-01 * (a;b) Shop ; t:1"),
            ["2024-01-01", "*", "a;b", "Shop", " t:1"]
        );
        assert_eq!(parts("2024-01-01 *(a) x"), ["2024-01-01", "*", "(a) x"]);
        assert_eq!(
            parts("2024-01-01 (a|b) x | y"),
            ["2024-01-01", "a|b", "x | y"]
        );
        assert_eq!(parts("2024-01-01"), ["2024-01-01", ""]);
        assert_eq!(
            parts("2024/1/2=2024/1/5 ! Shop\t"),
            ["2024/1/2", "!", "Shop"]
        );
        assert_eq!(header("2024-01-01;c").expect_err("no space").at, 10);
        assert_eq!(header("2024-01-01*x").expect_err("no space").at, 10);
        assert_eq!(header("2024-01-01 (abc").expect_err("unclosed code").at, 15);
        let h = header("2024-01-01 Shop | note").expect("lexes");
        assert_eq!(h.payee_end("2024-01-01 Shop | note"), 16);
    }

    fn posting_parts(
        line: &str,
    ) -> (
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    ) {
        let BodyLine::Posting(p) = body_line(line).expect("lexes") else {
            panic!("not a posting: {line}")
        };
        (
            line[p.account.clone()].to_string(),
            p.amount.map(|a| line[a.span].to_string()),
            p.cost.map(|c| line[c.amount.span].to_string()),
            p.assertion
                .map(|a| line[a.at..a.amount.span.end].to_string()),
            p.comment.map(|c| line[c].to_string()),
        )
    }

    #[test]
    fn postings_as_hledger_reads_them() {
        let s = |x: &str| Some(x.to_string());
        assert_eq!(
            posting_parts("    a:b  $5 @ 2 EUR = $10 ; x:1"),
            ("a:b".into(), s("$5"), s("2 EUR"), s("= $10"), s(" x:1"))
        );
        // One space before `;` keeps it in the account name; a tab between words is a space.
        assert_eq!(posting_parts("    a ; c").0, "a ; c");
        assert_eq!(posting_parts("    a\t$100").0, "a\t$100");
        assert_eq!(account_name("a\t$100"), "a $100");
        assert_eq!(account_name("a\u{a0}b"), "a b");
        assert_eq!(account_name("Ünïcode:ok"), "Ünïcode:ok");
        // `#` and `*` start postings inside a transaction.
        assert_eq!(posting_parts("    # text").0, "# text");
        let BodyLine::Posting(p) = body_line("    * b").expect("lexes") else {
            panic!()
        };
        assert_eq!(p.status, Some(4));
        assert_eq!(
            posting_parts("    a  ==* 0"),
            ("a".into(), None, None, s("==* 0"), None)
        );
        assert_eq!(
            posting_parts("    a  0 AAA = 1 AAA @ 1.20 USD").3,
            s("= 1 AAA")
        );
        assert_eq!(
            posting_parts("    a  10 AAPL {$5} [2024-01-01] @ $6").2,
            s("$6")
        );
        assert_eq!(posting_parts("    a  10 AAPL (@@) $60").2, s("$60"));
        assert_eq!(posting_parts("    [a b]  1").0, "[a b]");
        assert!(matches!(body_line("   ; note: x"), Ok(BodyLine::Comment(r)) if r == (4..12)));
        assert_eq!(body_line("    a  5 x y").expect_err("junk").at, 11);
    }

    #[test]
    fn lines_end_at_lf_crlf_and_lone_cr() {
        let text = "a\r\nb\rc\nd";
        let v: Vec<(&str, &str, u32)> = lines(text, 0, text.len(), 1)
            .map(|l| (l.text, l.eol, l.number))
            .collect();
        assert_eq!(
            v,
            [
                ("a", "\r\n", 1),
                ("b", "\r", 2),
                ("c", "\n", 3),
                ("d", "", 4)
            ]
        );
    }

    fn tag_list(c: &str) -> Vec<(&str, &str)> {
        tags(c)
            .into_iter()
            .map(|t| (&c[t.name], &c[t.value]))
            .collect()
    }

    #[test]
    fn tags_as_hledger_reads_them() {
        assert_eq!(tag_list(" a,b:c"), [("a,b", "c")]);
        assert_eq!(
            tag_list(" a:1, b: 2 ,c:"),
            [("a", "1"), ("b", "2"), ("c", "")]
        );
        assert_eq!(tag_list(" see http://x.y"), [("http", "//x.y")]);
        assert_eq!(tag_list(" x :y"), []);
        assert_eq!(tag_list(" t:a:b"), [("t", "a:b")]);
        assert_eq!(tag_list("\u{a0}n\u{a0}k:v"), [("k", "v")]);
    }
}

//! The journal text patcher: rewrites the text of one transaction for an edit (status mark, transaction tags, note,
//! category) and splices rewritten entries back into a file's text. Everything here is a pure function on strings.
//! Parts of an entry that an edit does not ask about are copied byte for byte (spacing, trailing whitespace, line
//! endings, other comments), so the diff is what a person would make by hand. Only the header line, the comment
//! lines before the first posting and a renamed posting's line are ever re-rendered, and only when they change.
//! Tags are read the way hledger reads them (a tag name is the last word before a `:`, its value runs to the next
//! comma or the end of the line), so what tally writes is what `hledger tags` reads. The trade-off: an entry whose
//! header tally cannot read, or an edit whose text would be read back differently (a tag value with a comma, a note
//! with a `;`), is refused with a `PatchError` instead of being guessed at; the caller then writes nothing.

use crate::backend::TxnPatch;
use crate::domain::{Status, Tag};
use std::ops::Range;
use thiserror::Error;
use unicode_width::UnicodeWidthStr;

/// One edit to one transaction. `None` / empty leaves that part as it is. Removing and adding the same tag name
/// in one edit sets that tag: afterwards it occurs exactly once, with the added value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EntryEdit {
    pub status: Option<Status>,
    pub add_tags: Vec<Tag>,
    /// Tag names (case-insensitive) to remove, whatever their value.
    pub remove_tags: Vec<String>,
    /// The new note (the part after `payee | `); an empty note removes ` | note`.
    pub note: Option<String>,
    /// `(old account, new account)`: renames every posting whose account is exactly `old` (a transaction that
    /// posts to `new` and not to `old` is left as it is, so applying an edit twice is harmless).
    pub category: Option<(String, String)>,
}

impl EntryEdit {
    /// The edit for a backend `TxnPatch`; `current_category` is the account of the transaction's category posting,
    /// which a category change renames.
    pub fn from_patch(
        patch: &TxnPatch,
        current_category: Option<&str>,
    ) -> Result<EntryEdit, PatchError> {
        let category = match (&patch.category, current_category) {
            (None, _) => None,
            (Some(new), Some(old)) => Some((old.to_string(), new.clone())),
            (Some(_), None) => return Err(PatchError::NoCategoryPosting),
        };
        Ok(EntryEdit {
            status: patch.status,
            add_tags: patch.add_tags.clone(),
            remove_tags: patch.remove_tags.clone(),
            note: patch.note.clone(),
            category,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.status.is_none()
            && self.add_tags.is_empty()
            && self.remove_tags.is_empty()
            && self.note.is_none()
            && self.category.is_none()
    }
}

/// Why an entry cannot be edited safely. Nothing is written when one of these is returned.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PatchError {
    #[error("not an editable transaction: the first line does not start with a date ({0:?})")]
    NotATransaction(String),
    #[error(
        "invalid tag name {0:?}: a tag name must be non-empty and contain no spaces, `:`, `,`, `;` or control characters"
    )]
    InvalidTagName(String),
    #[error(
        "invalid value {value:?} for tag {name}: a tag value cannot contain `,`, line breaks or control characters"
    )]
    InvalidTagValue { name: String, value: String },
    #[error("invalid note {0:?}: a note cannot contain `;`, line breaks or control characters")]
    InvalidNote(String),
    #[error(
        "invalid account name {0:?}: an account name must be non-empty, without two spaces in a row, tabs, `;`, \
         surrounding brackets or control characters"
    )]
    InvalidAccount(String),
    #[error("no posting to account {0:?} in this transaction")]
    AccountNotFound(String),
    #[error("this transaction has no category posting to rename")]
    NoCategoryPosting,
    #[error("text edits overlap at byte {0}")]
    OverlappingEdits(usize),
    #[error("text edit range {start}..{end} is outside the text or not on a character boundary")]
    EditOutOfBounds { start: usize, end: usize },
}

/// A tag found in a comment's text, as byte ranges into that text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagSpan {
    pub name: Range<usize>,
    /// The value without surrounding whitespace (empty for `name:`).
    pub value: Range<usize>,
    /// Just after the value's terminating comma, or the end of the text when no comma follows.
    pub end: usize,
    pub comma: bool,
}

/// Finds the tags in a comment's text (the text after `;` on one line), exactly as hledger does: a tag name is the
/// last whitespace-separated word before a `:`, its value runs from there to the next comma or the end of the text,
/// trimmed; reading resumes after that comma. So `see http://x.y` is the tag `http` with value `//x.y`.
pub fn tag_spans(comment: &str) -> Vec<TagSpan> {
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some(off) = comment[pos..].find(':') {
        let colon = pos + off;
        let chunk = &comment[pos..colon];
        let name_start = chunk
            .char_indices()
            .rev()
            .find(|(_, c)| c.is_whitespace())
            .map_or(pos, |(i, c)| pos + i + c.len_utf8());
        let after = colon + 1;
        if name_start == colon {
            pos = after;
            continue;
        }
        let vstart = comment.len() - comment[after..].trim_start_matches([' ', '\t']).len();
        let vend_raw = comment[vstart..]
            .find(',')
            .map_or(comment.len(), |i| vstart + i);
        let raw = &comment[vstart..vend_raw];
        let lead = raw.len() - raw.trim_start().len();
        let trimmed = raw.trim();
        let comma = vend_raw < comment.len();
        let end = if comma { vend_raw + 1 } else { vend_raw };
        out.push(TagSpan {
            name: name_start..colon,
            value: vstart + lead..vstart + lead + trimmed.len(),
            end,
            comma,
        });
        pos = end;
    }
    out
}

/// The tags in a comment's text (see `tag_spans`).
pub fn comment_tags(comment: &str) -> Vec<Tag> {
    tag_spans(comment)
        .into_iter()
        .map(|s| Tag::new(&comment[s.name], &comment[s.value]))
        .collect()
}

/// Replaces byte ranges of `text` in one pass. Ranges may come in any order but must not overlap and must lie on
/// character boundaries; two insertions (empty ranges) at the same offset are applied in the order given.
pub fn apply_edits(text: &str, edits: &[(Range<usize>, String)]) -> Result<String, PatchError> {
    let mut order: Vec<usize> = (0..edits.len()).collect();
    order.sort_by_key(|&i| (edits[i].0.start, edits[i].0.end, i));
    let added: usize = edits.iter().map(|(_, s)| s.len()).sum();
    let mut out = String::with_capacity(text.len() + added);
    let mut cursor = 0;
    for i in order {
        let (range, replacement) = &edits[i];
        if range.start > range.end
            || range.end > text.len()
            || !text.is_char_boundary(range.start)
            || !text.is_char_boundary(range.end)
        {
            return Err(PatchError::EditOutOfBounds {
                start: range.start,
                end: range.end,
            });
        }
        if range.start < cursor {
            return Err(PatchError::OverlappingEdits(range.start));
        }
        out.push_str(&text[cursor..range.start]);
        out.push_str(replacement);
        cursor = range.end;
    }
    out.push_str(&text[cursor..]);
    Ok(out)
}

/// Rewrites one transaction's text for `edit`. `entry` is the exact text of one transaction: its header line
/// through its last indented line, including the final line ending (without a byte-order mark). Returns `Ok(None)`
/// when the edit changes nothing.
pub fn patch_entry(entry: &str, edit: &EntryEdit) -> Result<Option<String>, PatchError> {
    let adds = edit
        .add_tags
        .iter()
        .map(validated_tag)
        .collect::<Result<Vec<_>, _>>()?;
    let note = edit.note.as_deref().map(validated_note).transpose()?;
    if let Some((_, new)) = &edit.category {
        validate_account(new)?;
    }

    let lines = split_lines(entry);
    let first = lines
        .first()
        .ok_or_else(|| PatchError::NotATransaction(String::new()))?;
    let mut header = Header::parse(first.text)?;
    let mut header_dirty = false;

    if let Some(status) = edit.status {
        header_dirty |= header.set_status(status);
    }
    if let Some(note) = note {
        header_dirty |= header.set_note(note);
    }

    // Transaction-level comments: the header's comment, then indented `;` lines before the first posting.
    let comment_end = 1 + lines[1..]
        .iter()
        .take_while(|l| CommentLine::parse(l.text).is_some())
        .count();
    let comment_lines: Vec<CommentLine> = lines[1..comment_end]
        .iter()
        .filter_map(|l| CommentLine::parse(l.text))
        .collect();
    let mut bodies: Vec<Option<String>> = std::iter::once(header.comment.clone())
        .chain(comment_lines.iter().map(|c| Some(c.body.to_string())))
        .collect();
    let mut dirty = vec![false; bodies.len()];
    let added = |name: &str| adds.iter().any(|t| t.name.eq_ignore_ascii_case(name));
    for name in edit.remove_tags.iter().filter(|n| !added(n)) {
        while let Some((slot, span)) = occurrences(&bodies, name).into_iter().next() {
            remove_span(slot_body(&mut bodies, slot), &span);
            dirty[slot] = true;
        }
    }
    for tag in &adds {
        let exclusive = edit
            .remove_tags
            .iter()
            .any(|n| n.eq_ignore_ascii_case(&tag.name));
        add_tag(&mut bodies, &mut dirty, tag, exclusive);
    }
    if dirty[0] {
        let body = bodies[0].take().unwrap_or_default();
        if body.trim().is_empty() {
            header.comment = None;
            header.gap = String::new();
            if header.code.is_empty() && header.description.is_empty() {
                // The blanks that led up to the comment would be left dangling at the end of the line.
                if header.status.is_some() {
                    header.ws2.clear();
                } else {
                    header.ws1.clear();
                }
            }
        } else {
            if header.comment.is_none() {
                header.gap = "  ".to_string();
            }
            header.comment = Some(body);
        }
        header_dirty = true;
    }

    let mut renamed = 0;
    let mut out = String::with_capacity(entry.len() + 64);
    for (i, line) in lines.iter().enumerate() {
        if i == 0 {
            if header_dirty {
                header.render(&mut out);
            } else {
                out.push_str(line.text);
            }
        } else if i < comment_end {
            let c = &comment_lines[i - 1];
            match &bodies[i] {
                Some(body) if dirty[i] => {
                    if body.trim().is_empty() {
                        continue;
                    }
                    out.push_str(c.indent);
                    out.push(';');
                    out.push_str(body);
                    out.push_str(c.trailing);
                }
                _ => out.push_str(line.text),
            }
        } else {
            match &edit.category {
                Some((old, new)) if old != new => match rename_posting(line.text, old, new) {
                    Some(text) => {
                        renamed += 1;
                        out.push_str(&text);
                    }
                    None => out.push_str(line.text),
                },
                _ => out.push_str(line.text),
            }
        }
        out.push_str(line.eol);
    }
    if let Some((old, new)) = &edit.category {
        // Already renamed (an edit applied twice) is not an error: nothing changes.
        let already = || {
            lines[comment_end..]
                .iter()
                .any(|l| rename_posting(l.text, new, new).is_some())
        };
        if old != new && renamed == 0 && !already() {
            return Err(PatchError::AccountNotFound(old.clone()));
        }
    }
    Ok((out != entry).then_some(out))
}

struct Line<'a> {
    text: &'a str,
    eol: &'a str,
}

fn split_lines(s: &str) -> Vec<Line<'_>> {
    s.split_inclusive('\n')
        .map(|l| {
            let eol_len = if l.ends_with("\r\n") {
                2
            } else if l.ends_with('\n') {
                1
            } else {
                0
            };
            let (text, eol) = l.split_at(l.len() - eol_len);
            Line { text, eol }
        })
        .collect()
}

fn is_blank_char(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// The header line split into its parts; concatenating them gives the line back.
#[derive(Debug)]
struct Header<'a> {
    date: &'a str,
    ws1: String,
    status: Option<char>,
    ws2: String,
    /// `(CODE)` and the blanks after it, or empty.
    code: &'a str,
    description: String,
    /// Blanks between the description and the `;` of the comment.
    gap: String,
    /// The comment's text after `;`, without trailing whitespace.
    comment: Option<String>,
    /// Whitespace at the end of the line.
    trailing: &'a str,
}

impl<'a> Header<'a> {
    fn parse(line: &'a str) -> Result<Header<'a>, PatchError> {
        let not_txn = || PatchError::NotATransaction(line.chars().take(40).collect());
        let date_len = |s: &str| {
            s.find(|c: char| !(c.is_ascii_digit() || matches!(c, '-' | '/' | '.')))
                .unwrap_or(s.len())
        };
        let valid_date = |d: &str| {
            d.starts_with(|c: char| c.is_ascii_digit())
                && d.ends_with(|c: char| c.is_ascii_digit())
                && d.contains(['-', '/', '.'])
        };
        let mut pos = date_len(line);
        if !valid_date(&line[..pos]) {
            return Err(not_txn());
        }
        if line[pos..].starts_with('=') {
            let len = date_len(&line[pos + 1..]);
            if !valid_date(&line[pos + 1..pos + 1 + len]) {
                return Err(not_txn());
            }
            pos += 1 + len;
        }
        let date = &line[..pos];
        let rest = &line[pos..];
        if !(rest.is_empty() || rest.starts_with([' ', '\t'])) {
            return Err(not_txn());
        }
        let take_blanks = |s: &'a str| -> (&'a str, &'a str) {
            let n = s.len() - s.trim_start_matches(is_blank_char).len();
            s.split_at(n)
        };
        let (ws1, rest) = take_blanks(rest);
        let (status, ws2, rest) = match rest.chars().next() {
            Some(c @ ('*' | '!')) => {
                let (ws2, rest) = take_blanks(&rest[1..]);
                (Some(c), ws2, rest)
            }
            _ => (None, "", rest),
        };
        let (code, rest) = match (rest.starts_with('('), rest.find(')')) {
            (true, Some(close)) if !rest[..close].contains(';') => {
                let (blanks, after) = take_blanks(&rest[close + 1..]);
                (&rest[..close + 1 + blanks.len()], after)
            }
            _ => ("", rest),
        };
        let (desc_region, comment_region) = match rest.find(';') {
            Some(i) => (&rest[..i], Some(&rest[i + 1..])),
            None => (rest, None),
        };
        let description = desc_region.trim_end();
        let after_desc = &desc_region[description.len()..];
        let (gap, comment, trailing) = match comment_region {
            Some(c) => {
                let body = c.trim_end();
                (after_desc, Some(body.to_string()), &c[body.len()..])
            }
            None => ("", None, after_desc),
        };
        Ok(Header {
            date,
            ws1: ws1.to_string(),
            status,
            ws2: ws2.to_string(),
            code,
            description: description.to_string(),
            gap: gap.to_string(),
            comment,
            trailing,
        })
    }

    fn render(&self, out: &mut String) {
        out.push_str(self.date);
        out.push_str(&self.ws1);
        if let Some(c) = self.status {
            out.push(c);
        }
        out.push_str(&self.ws2);
        out.push_str(self.code);
        out.push_str(&self.description);
        out.push_str(&self.gap);
        if let Some(c) = &self.comment {
            out.push(';');
            out.push_str(c);
        }
        out.push_str(self.trailing);
    }

    /// Whether anything (code, description, comment) follows the status position.
    fn has_content_after_status(&self) -> bool {
        !self.code.is_empty() || !self.description.is_empty() || self.comment.is_some()
    }

    fn set_status(&mut self, status: Status) -> bool {
        let mark = status.mark().chars().next();
        if mark == self.status {
            return false;
        }
        match (self.status, mark) {
            (Some(_), Some(m)) => self.status = Some(m),
            (Some(_), None) => {
                self.status = None;
                if self.has_content_after_status() {
                    if self.ws1.is_empty() {
                        self.ws1 = if self.ws2.is_empty() {
                            " ".to_string()
                        } else {
                            std::mem::take(&mut self.ws2)
                        };
                    }
                } else {
                    self.ws1.clear();
                }
                self.ws2.clear();
            }
            (None, Some(m)) => {
                if self.ws1.is_empty() {
                    self.ws1 = " ".to_string();
                }
                self.status = Some(m);
                self.ws2 = if self.has_content_after_status() {
                    " ".to_string()
                } else {
                    String::new()
                };
            }
            (None, None) => return false,
        }
        true
    }

    fn set_note(&mut self, note: &str) -> bool {
        match self.description.find('|') {
            Some(p) => {
                let after = &self.description[p + 1..];
                if after.trim() == note {
                    return false;
                }
                if note.is_empty() {
                    self.description
                        .truncate(self.description[..p].trim_end().len());
                } else {
                    let blanks = after.len() - after.trim_start().len();
                    self.description.truncate(p + 1 + blanks);
                    self.description.push_str(note);
                }
            }
            None if note.is_empty() => return false,
            None => {
                if self.description.is_empty() {
                    self.description = format!("| {note}");
                    if self.status.is_some() && self.ws2.is_empty() && self.code.is_empty() {
                        self.ws2 = " ".to_string();
                    } else if self.status.is_none() && self.ws1.is_empty() {
                        self.ws1 = " ".to_string();
                    }
                    if self.comment.is_some() && self.gap.is_empty() {
                        self.gap = "  ".to_string();
                    }
                } else {
                    self.description.push_str(" | ");
                    self.description.push_str(note);
                }
            }
        }
        true
    }
}

/// An indented comment line (`    ; text`); concatenating the parts gives the line back.
struct CommentLine<'a> {
    indent: &'a str,
    body: &'a str,
    trailing: &'a str,
}

impl<'a> CommentLine<'a> {
    fn parse(line: &'a str) -> Option<CommentLine<'a>> {
        let rest = line.trim_start_matches(is_blank_char);
        let indent = &line[..line.len() - rest.len()];
        if indent.is_empty() || !rest.starts_with(';') {
            return None;
        }
        let c = &rest[1..];
        let body = c.trim_end();
        Some(CommentLine {
            indent,
            body,
            trailing: &c[body.len()..],
        })
    }
}

fn slot_body(bodies: &mut [Option<String>], slot: usize) -> &mut String {
    bodies[slot].get_or_insert_with(String::new)
}

fn occurrences(bodies: &[Option<String>], name: &str) -> Vec<(usize, TagSpan)> {
    bodies
        .iter()
        .enumerate()
        .filter_map(|(i, b)| b.as_deref().map(|b| (i, b)))
        .flat_map(|(i, b)| {
            tag_spans(b)
                .into_iter()
                .filter(|s| b[s.name.clone()].eq_ignore_ascii_case(name))
                .map(move |s| (i, s))
        })
        .collect()
}

/// Removes one tag with its separating comma and blanks, so the tags around it read as before.
fn remove_span(body: &mut String, span: &TagSpan) {
    if span.comma {
        let rest = &body[span.end..];
        let blanks = rest.len() - rest.trim_start_matches(is_blank_char).len();
        body.replace_range(span.name.start..span.end + blanks, "");
    } else {
        let mut start = body[..span.name.start]
            .trim_end_matches(is_blank_char)
            .len();
        if body[..start].ends_with(',') {
            start = body[..start - 1].trim_end_matches(is_blank_char).len();
        }
        body.replace_range(start..span.end, "");
    }
}

/// Adds `tag`, or gives an existing tag of that name the new value. When `exclusive` (the same name was also asked
/// to be removed), the result is exactly one occurrence with the new value; otherwise any occurrence that already
/// has the value satisfies the edit.
fn add_tag(bodies: &mut [Option<String>], dirty: &mut [bool], tag: &Tag, exclusive: bool) {
    let occ = occurrences(bodies, &tag.name);
    let has_value = |(slot, span): &(usize, TagSpan)| {
        bodies[*slot].as_deref().map(|b| &b[span.value.clone()]) == Some(tag.value.as_str())
    };
    let keep = match occ.iter().position(has_value) {
        Some(_) if !exclusive => return,
        Some(i) => i,
        None => 0,
    };
    match occ.get(keep) {
        Some((slot, span)) => {
            if !has_value(&occ[keep]) {
                slot_body(bodies, *slot).replace_range(span.value.clone(), &tag.value);
                dirty[*slot] = true;
            }
            // The tag now has exactly one value: drop the other occurrences, tracking where the kept one moves.
            let mut keep = keep;
            loop {
                let occ = occurrences(bodies, &tag.name);
                let victim = match (occ.len(), keep) {
                    (0 | 1, _) => break,
                    (_, 0) => 1,
                    _ => {
                        keep -= 1;
                        0
                    }
                };
                let (slot, span) = &occ[victim];
                remove_span(slot_body(bodies, *slot), span);
                dirty[*slot] = true;
            }
        }
        None => {
            let body = slot_body(bodies, 0);
            let text = format!("{}:{}", tag.name, tag.value);
            if body.trim().is_empty() {
                body.clear();
                body.push(' ');
            } else if body.ends_with(',') {
                body.push(' ');
            } else {
                body.push_str(", ");
            }
            body.push_str(&text);
            dirty[0] = true;
        }
    }
}

fn validated_tag(tag: &Tag) -> Result<Tag, PatchError> {
    let name = tag.name.trim();
    let value = tag.value.trim();
    if name.is_empty()
        || name
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, ':' | ',' | ';'))
    {
        return Err(PatchError::InvalidTagName(tag.name.clone()));
    }
    if value.chars().any(|c| c.is_control() || c == ',') {
        return Err(PatchError::InvalidTagValue {
            name: name.to_string(),
            value: tag.value.clone(),
        });
    }
    Ok(Tag::new(name, value))
}

fn validated_note(note: &str) -> Result<&str, PatchError> {
    if note.chars().any(|c| c.is_control() || c == ';') {
        return Err(PatchError::InvalidNote(note.to_string()));
    }
    Ok(note.trim())
}

fn validate_account(account: &str) -> Result<(), PatchError> {
    let bad = account.is_empty()
        || account.trim() != account
        || account.contains("  ")
        || account.starts_with(['(', '['])
        || account.ends_with([')', ']'])
        || account.chars().any(|c| c.is_control() || c == ';');
    if bad {
        return Err(PatchError::InvalidAccount(account.to_string()));
    }
    Ok(())
}

/// Renames the account of a posting line when it is exactly `old`, keeping the amount's column when the gap allows
/// (at least two spaces stay between account and amount). `None` when the line is not a posting to `old`.
fn rename_posting(line: &str, old: &str, new: &str) -> Option<String> {
    let rest = line.trim_start_matches(is_blank_char);
    let indent_len = line.len() - rest.len();
    if indent_len == 0 || rest.is_empty() || rest.starts_with(';') {
        return None;
    }
    let mut start = indent_len;
    if rest.starts_with(['*', '!']) {
        start += 1;
        start = line.len() - line[start..].trim_start_matches(is_blank_char).len();
    }
    let region = &line[start..];
    let acct_len = [region.find("  "), region.find('\t')]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(region.len());
    let written = &region[..acct_len];
    let (open, inner, close) = match (written.chars().next(), written.chars().last()) {
        (Some(o @ '('), Some(c @ ')')) | (Some(o @ '['), Some(c @ ']')) if written.len() >= 2 => {
            (Some(o), &written[1..written.len() - 1], Some(c))
        }
        _ => (None, written, None),
    };
    if inner != old {
        return None;
    }
    let after = &region[acct_len..];
    let gap_len = after.len() - after.trim_start_matches(is_blank_char).len();
    let (gap, tail) = after.split_at(gap_len);
    let mut out = String::with_capacity(line.len() + new.len());
    out.push_str(&line[..start]);
    out.extend(open);
    out.push_str(new);
    out.extend(close);
    if !tail.is_empty() && gap.chars().all(|c| c == ' ') {
        let old_w = UnicodeWidthStr::width(old) as isize;
        let new_w = UnicodeWidthStr::width(new) as isize;
        let want = (gap.len() as isize - (new_w - old_w)).max(2) as usize;
        out.extend(std::iter::repeat_n(' ', want));
    } else {
        out.push_str(gap);
    }
    out.push_str(tail);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::seq::IndexedRandom;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use std::process::Command;

    fn edit() -> EntryEdit {
        EntryEdit::default()
    }

    fn patched(entry: &str, edit: &EntryEdit) -> String {
        patch_entry(entry, edit).expect("patch").expect("a change")
    }

    fn with_status(s: Status) -> EntryEdit {
        EntryEdit {
            status: Some(s),
            ..edit()
        }
    }

    fn adding(tags: &[(&str, &str)]) -> EntryEdit {
        EntryEdit {
            add_tags: tags.iter().map(|(n, v)| Tag::new(*n, *v)).collect(),
            ..edit()
        }
    }

    fn removing(names: &[&str]) -> EntryEdit {
        EntryEdit {
            remove_tags: names.iter().map(|n| n.to_string()).collect(),
            ..edit()
        }
    }

    /// A tag reader written independently of `tag_spans`, after hledger's `commenttagsp`.
    fn read_tags(comment: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut rest = comment;
        while let Some((before, after)) = rest.split_once(':') {
            let name = before.split(char::is_whitespace).next_back().unwrap_or("");
            if name.is_empty() {
                rest = after;
                continue;
            }
            let (value, next) = after.split_once(',').unwrap_or((after, ""));
            out.push((name.to_string(), value.trim().to_string()));
            rest = next;
        }
        out
    }

    /// Transaction-level tags: the header comment, then `;` lines before the first posting.
    fn txn_tags(entry: &str) -> Vec<(String, String)> {
        let mut lines = entry.lines();
        let header = lines.next().unwrap_or("");
        let mut tags = header
            .split_once(';')
            .map(|(_, c)| read_tags(c))
            .unwrap_or_default();
        for l in lines {
            let t = l.trim_start();
            if t.len() == l.len() || !t.starts_with(';') {
                break;
            }
            tags.extend(read_tags(&t[1..]));
        }
        tags
    }

    /// Everything from the first posting on.
    fn postings_part(entry: &str) -> Vec<&str> {
        entry
            .split_inclusive('\n')
            .skip(1)
            .skip_while(|l| {
                let t = l.trim_start();
                t.len() < l.len() && t.starts_with(';')
            })
            .collect()
    }

    fn header_status(entry: &str) -> Status {
        let after_date = entry.trim_start_matches(|c: char| !c.is_whitespace());
        match after_date.trim_start_matches([' ', '\t']).chars().next() {
            Some('*') => Status::Cleared,
            Some('!') => Status::Pending,
            _ => Status::Unmarked,
        }
    }

    fn header_note(entry: &str) -> String {
        let header = entry.lines().next().unwrap_or("");
        let desc = header.split(';').next().unwrap_or("");
        desc.split_once('|')
            .map(|(_, n)| n.trim().to_string())
            .unwrap_or_default()
    }

    fn sorted_lower(mut tags: Vec<(String, String)>) -> Vec<(String, String)> {
        for t in &mut tags {
            t.0 = t.0.to_ascii_lowercase();
        }
        tags.sort();
        tags
    }

    /// What the tags should be after `edit`, computed on the tag list alone.
    fn expected_tags(before: &[(String, String)], edit: &EntryEdit) -> Vec<(String, String)> {
        let mut tags: Vec<(String, String)> = before
            .iter()
            .filter(|(n, _)| !edit.remove_tags.iter().any(|r| r.eq_ignore_ascii_case(n)))
            .cloned()
            .collect();
        for add in &edit.add_tags {
            let same = |n: &String| n.eq_ignore_ascii_case(&add.name);
            if tags.iter().any(|(n, v)| same(n) && *v == add.value) {
                continue;
            }
            match tags.iter().position(|(n, _)| same(n)) {
                Some(first) => {
                    tags[first].1 = add.value.clone();
                    let mut seen = 0;
                    tags.retain(|(n, _)| {
                        if same(n) {
                            seen += 1;
                            seen == 1
                        } else {
                            true
                        }
                    });
                }
                None => tags.push((add.name.clone(), add.value.clone())),
            }
        }
        sorted_lower(tags)
    }

    #[test]
    fn status_mark_is_replaced_inserted_and_removed() {
        let cleared = "2025-01-02 * Shop\n    expenses:food  $1\n    assets:bank\n";
        let unmarked = "2025-01-02 Shop\n    expenses:food  $1\n    assets:bank\n";
        let pending = "2025-01-02 ! Shop\n    expenses:food  $1\n    assets:bank\n";
        assert_eq!(patched(cleared, &with_status(Status::Unmarked)), unmarked);
        assert_eq!(patched(unmarked, &with_status(Status::Cleared)), cleared);
        assert_eq!(patched(cleared, &with_status(Status::Pending)), pending);
        assert_eq!(patched(pending, &with_status(Status::Unmarked)), unmarked);
        assert_eq!(
            patch_entry(cleared, &with_status(Status::Cleared)),
            Ok(None)
        );
        assert_eq!(
            patch_entry(unmarked, &with_status(Status::Unmarked)),
            Ok(None)
        );
        // Postings keep their own marks.
        let posting_marked = "2025-01-02 Shop\n    * expenses:food  $1\n    assets:bank\n";
        assert_eq!(
            patched(posting_marked, &with_status(Status::Pending)),
            "2025-01-02 ! Shop\n    * expenses:food  $1\n    assets:bank\n"
        );
    }

    #[test]
    fn status_keeps_codes_secondary_dates_tabs_and_bare_headers() {
        assert_eq!(
            patched(
                "2025-01-02=2025-01-05 (123) Shop  ; a:1\n    x  1\n",
                &with_status(Status::Cleared)
            ),
            "2025-01-02=2025-01-05 * (123) Shop  ; a:1\n    x  1\n"
        );
        assert_eq!(
            patched(
                "2025-01-02=2025-01-05 * (123) Shop\n    x  1\n",
                &with_status(Status::Unmarked)
            ),
            "2025-01-02=2025-01-05 (123) Shop\n    x  1\n"
        );
        assert_eq!(
            patched(
                "2025/01/02\t*\tShop\n\tx\t1\n",
                &with_status(Status::Unmarked)
            ),
            "2025/01/02\tShop\n\tx\t1\n"
        );
        assert_eq!(
            patched("2025-01-02 *Shop\n x  1\n", &with_status(Status::Unmarked)),
            "2025-01-02 Shop\n x  1\n"
        );
        assert_eq!(
            patched("2025-01-02\n x  1\n", &with_status(Status::Cleared)),
            "2025-01-02 *\n x  1\n"
        );
        assert_eq!(
            patched("2025-01-02 *\n x  1\n", &with_status(Status::Unmarked)),
            "2025-01-02\n x  1\n"
        );
    }

    #[test]
    fn crlf_entries_keep_crlf() {
        let e = "2025-01-02 * Shop  ; trip:paris\r\n    ; work:\r\n    expenses:food  $1\r\n    assets:bank\r\n";
        let out = patched(
            e,
            &EntryEdit {
                status: Some(Status::Pending),
                add_tags: vec![Tag::new("x", "1")],
                remove_tags: vec!["work".into()],
                ..edit()
            },
        );
        assert_eq!(
            out,
            "2025-01-02 ! Shop  ; trip:paris, x:1\r\n    expenses:food  $1\r\n    assets:bank\r\n"
        );
        // A final line without a line ending stays without one.
        assert_eq!(
            patched(
                "2025-01-02 Shop\r\n    a  1\r\n    b",
                &adding(&[("t", "")])
            ),
            "2025-01-02 Shop  ; t:\r\n    a  1\r\n    b"
        );
    }

    #[test]
    fn add_tag_creates_or_extends_the_header_comment() {
        let e = "2025-01-02 Shop\n    a  1\n    b\n";
        assert_eq!(
            patched(e, &adding(&[("trip", "paris"), ("work", "")])),
            "2025-01-02 Shop  ; trip:paris, work:\n    a  1\n    b\n"
        );
        assert_eq!(
            patched(
                "2025-01-02 Shop  ; lunch\n    a  1\n",
                &adding(&[("work", "")])
            ),
            "2025-01-02 Shop  ; lunch, work:\n    a  1\n"
        );
        assert_eq!(
            patched(
                "2025-01-02 Shop  ; lunch,\n    a  1\n",
                &adding(&[("work", "")])
            ),
            "2025-01-02 Shop  ; lunch, work:\n    a  1\n"
        );
        assert_eq!(
            patched("2025-01-02 Shop ;\n    a  1\n", &adding(&[("work", "")])),
            "2025-01-02 Shop ; work:\n    a  1\n"
        );
        // Trailing whitespace stays where it was.
        assert_eq!(
            patched("2025-01-02 Shop   \n    a  1\n", &adding(&[("w", "")])),
            "2025-01-02 Shop  ; w:   \n    a  1\n"
        );
        assert_eq!(
            patched(
                "2025-01-02 Shop  ; x:1 \t\n    a  1\n",
                &adding(&[("w", "")])
            ),
            "2025-01-02 Shop  ; x:1, w: \t\n    a  1\n"
        );
    }

    #[test]
    fn add_existing_tag_is_a_no_op_or_a_value_change() {
        let e = "2025-01-02 Shop  ; Trip:paris, work:\n    ; note: here\n    a  1\n";
        assert_eq!(patch_entry(e, &adding(&[("trip", "paris")])), Ok(None));
        assert_eq!(patch_entry(e, &adding(&[("WORK", "")])), Ok(None));
        assert_eq!(
            patched(e, &adding(&[("trip", "rome")])),
            "2025-01-02 Shop  ; Trip:rome, work:\n    ; note: here\n    a  1\n"
        );
        assert_eq!(
            patched(e, &adding(&[("work", "acme")])),
            "2025-01-02 Shop  ; Trip:paris, work:acme\n    ; note: here\n    a  1\n"
        );
        assert_eq!(
            patched(e, &adding(&[("note", "there")])),
            "2025-01-02 Shop  ; Trip:paris, work:\n    ; note: there\n    a  1\n"
        );
        // A tag written twice keeps one occurrence with the new value.
        assert_eq!(
            patched(
                "2025-01-02 Shop  ; t:1, u:, t:2\n    ; t:3\n    a  1\n",
                &adding(&[("t", "9")])
            ),
            "2025-01-02 Shop  ; t:9, u:\n    a  1\n"
        );
    }

    #[test]
    fn remove_tag_cleans_separators_and_empty_comments() {
        let e = "2025-01-02 Shop  ; a:1, b:2, c:3\n    a  1\n";
        assert_eq!(
            patched(e, &removing(&["b"])),
            "2025-01-02 Shop  ; a:1, c:3\n    a  1\n"
        );
        assert_eq!(
            patched(e, &removing(&["a"])),
            "2025-01-02 Shop  ; b:2, c:3\n    a  1\n"
        );
        assert_eq!(
            patched(e, &removing(&["C"])),
            "2025-01-02 Shop  ; a:1, b:2\n    a  1\n"
        );
        assert_eq!(
            patched(e, &removing(&["a", "b", "c"])),
            "2025-01-02 Shop\n    a  1\n"
        );
        assert_eq!(
            patched(
                "2025-01-02 Shop  ; lunch, trip:paris\n    a  1\n",
                &removing(&["trip"])
            ),
            "2025-01-02 Shop  ; lunch\n    a  1\n"
        );
        assert_eq!(
            patched("2025-01-02 Shop  ; a:1,b:2\n    a  1\n", &removing(&["a"])),
            "2025-01-02 Shop  ; b:2\n    a  1\n"
        );
        // Comment lines before the first posting: emptied lines go, others keep their text.
        let multi = "2025-01-02 Shop\n    ; trip:paris\n    ; hello, work:\n    ; review:\n    a  1  ; trip:rome\n    ; trip:x\n    b\n";
        assert_eq!(
            patched(multi, &removing(&["trip", "work"])),
            "2025-01-02 Shop\n    ; hello\n    ; review:\n    a  1  ; trip:rome\n    ; trip:x\n    b\n"
        );
        assert_eq!(patch_entry(multi, &removing(&["nothere"])), Ok(None));
        // Trailing whitespace after a removed comment stays, so adding and removing round-trips.
        for bare in [
            "2025-01-02 Shop   \n    a  1\n",
            "2025-01-02 *\n    a  1\n",
            "2025-01-02\n    a  1\n",
        ] {
            let added = patched(bare, &adding(&[("w", "")]));
            assert_eq!(txn_tags(&added), vec![("w".to_string(), String::new())]);
            assert_eq!(patched(&added, &removing(&["w"])), bare);
        }
    }

    #[test]
    fn urls_and_colons_in_comments_are_not_corrupted() {
        let e = "2025-01-02 Shop  ; see http://x.y/a?b=c;d, trip:paris\n    ; ref: https://bank.example/tx/1\n    a  1\n";
        assert_eq!(
            txn_tags(e),
            vec![
                ("http".to_string(), "//x.y/a?b=c;d".to_string()),
                ("trip".into(), "paris".into()),
                ("ref".into(), "https://bank.example/tx/1".into())
            ]
        );
        assert_eq!(
            patched(e, &removing(&["trip"])),
            "2025-01-02 Shop  ; see http://x.y/a?b=c;d\n    ; ref: https://bank.example/tx/1\n    a  1\n"
        );
        assert_eq!(
            patched(e, &adding(&[("url", "http://q.r:8080/x")])),
            "2025-01-02 Shop  ; see http://x.y/a?b=c;d, trip:paris, url:http://q.r:8080/x\n    ; ref: https://bank.example/tx/1\n    a  1\n"
        );
        let out = patched(e, &adding(&[("url", "http://q.r:8080/x")]));
        assert!(txn_tags(&out).contains(&("url".into(), "http://q.r:8080/x".into())));
    }

    #[test]
    fn note_is_added_replaced_and_removed() {
        let n = |s: &str| EntryEdit {
            note: Some(s.to_string()),
            ..edit()
        };
        let e = "2025-01-02 * (7) Shop  ; t:\n    a  1\n";
        assert_eq!(
            patched(e, &n("lunch with Bo")),
            "2025-01-02 * (7) Shop | lunch with Bo  ; t:\n    a  1\n"
        );
        assert_eq!(
            patched("2025-01-02 Shop | old  ; t:\n    a  1\n", &n("new")),
            "2025-01-02 Shop | new  ; t:\n    a  1\n"
        );
        assert_eq!(
            patched("2025-01-02 Shop|old\n    a  1\n", &n("new")),
            "2025-01-02 Shop|new\n    a  1\n"
        );
        assert_eq!(
            patched("2025-01-02 Shop | old  ; t:\n    a  1\n", &n("")),
            "2025-01-02 Shop  ; t:\n    a  1\n"
        );
        assert_eq!(patch_entry(e, &n("")), Ok(None));
        assert_eq!(
            patch_entry("2025-01-02 Shop | same\n    a  1\n", &n(" same ")),
            Ok(None)
        );
        assert_eq!(
            patched("2025-01-02 *\n    a  1\n", &n("x")),
            "2025-01-02 * | x\n    a  1\n"
        );
        assert_eq!(
            patch_entry(e, &n("a;b")),
            Err(PatchError::InvalidNote("a;b".into()))
        );
        assert_eq!(
            patch_entry(e, &n("a\nb")),
            Err(PatchError::InvalidNote("a\nb".into()))
        );
    }

    #[test]
    fn category_rename_keeps_amount_column() {
        let cat = |old: &str, new: &str| EntryEdit {
            category: Some((old.to_string(), new.to_string())),
            ..edit()
        };
        let e = "2025-01-02 Shop\n    expenses:food          $12.00  ; trip:x\n    assets:bank            $-12.00\n";
        assert_eq!(
            patched(e, &cat("expenses:food", "expenses:dining")),
            "2025-01-02 Shop\n    expenses:dining        $12.00  ; trip:x\n    assets:bank            $-12.00\n"
        );
        assert_eq!(
            patched(e, &cat("expenses:food", "expenses:a-much-longer-name")),
            "2025-01-02 Shop\n    expenses:a-much-longer-name  $12.00  ; trip:x\n    assets:bank            $-12.00\n"
        );
        assert_eq!(
            patched(e, &cat("expenses:food", "ex:f")),
            "2025-01-02 Shop\n    ex:f                   $12.00  ; trip:x\n    assets:bank            $-12.00\n"
        );
        // Tabs, status marks, virtual postings and elided amounts.
        assert_eq!(
            patched(
                "2025-01-02 Shop\n\t* (expenses:food)\t$1\n\t[expenses:food]  $1\n\tassets:bank\n",
                &cat("expenses:food", "expenses:café")
            ),
            "2025-01-02 Shop\n\t* (expenses:café)\t$1\n\t[expenses:café]  $1\n\tassets:bank\n"
        );
        assert_eq!(
            patched(e, &cat("assets:bank", "assets:checking")),
            "2025-01-02 Shop\n    expenses:food          $12.00  ; trip:x\n    assets:checking        $-12.00\n"
        );
        // Only exact matches: a parent or child account is not renamed.
        assert_eq!(
            patch_entry(e, &cat("expenses", "x")),
            Err(PatchError::AccountNotFound("expenses".into()))
        );
        assert_eq!(
            patch_entry(e, &cat("expenses:food", "bad  name")),
            Err(PatchError::InvalidAccount("bad  name".into()))
        );
        assert_eq!(
            patch_entry(e, &cat("expenses:food", "expenses:food")),
            Ok(None)
        );
        // A comment line that mentions the account is not a posting.
        assert_eq!(
            patch_entry(
                "2025-01-02 Shop\n    ; expenses:food\n    b  1\n",
                &cat("expenses:food", "x")
            ),
            Err(PatchError::AccountNotFound("expenses:food".into()))
        );
    }

    #[test]
    fn unsafe_entries_and_values_are_refused() {
        for e in [
            "~ monthly\n    a  1\n",
            "= expenses\n    a  1\n",
            "account assets\n",
            "Shop\n",
            "",
            "2025-01-02x Shop\n",
            "2025-01-02*Shop\n",
            "2025-01-02;c:1\n",
        ] {
            assert!(
                matches!(
                    patch_entry(e, &with_status(Status::Cleared)),
                    Err(PatchError::NotATransaction(_))
                ),
                "{e:?}"
            );
        }
        let e = "2025-01-02 Shop\n    a  1\n";
        assert!(matches!(
            patch_entry(e, &adding(&[("t", "a,b")])),
            Err(PatchError::InvalidTagValue { .. })
        ));
        for bad in ["", "a b", "a:b", "a,b", "a;b"] {
            assert_eq!(
                patch_entry(e, &adding(&[(bad, "")])),
                Err(PatchError::InvalidTagName(bad.into()))
            );
        }
        assert_eq!(patch_entry(e, &edit()), Ok(None));
    }

    #[test]
    fn backend_patches_convert_to_entry_edits() {
        let patch = TxnPatch {
            add_tags: vec![Tag::new("work", "")],
            remove_tags: vec!["review".into()],
            status: Some(Status::Cleared),
            category: Some("expenses:dining".into()),
            note: Some("n".into()),
            archive: false,
        };
        let e = EntryEdit::from_patch(&patch, Some("expenses:food")).expect("edit");
        assert_eq!(
            e.category,
            Some(("expenses:food".to_string(), "expenses:dining".to_string()))
        );
        assert_eq!(
            (e.status, e.note.as_deref()),
            (Some(Status::Cleared), Some("n"))
        );
        assert_eq!(
            patched(
                "2025-01-02 Shop  ; review:\n    expenses:food  $1\n    assets:bank\n",
                &e
            ),
            "2025-01-02 * Shop | n  ; work:\n    expenses:dining  $1\n    assets:bank\n"
        );
        assert_eq!(
            EntryEdit::from_patch(&patch, None),
            Err(PatchError::NoCategoryPosting)
        );
        let tags_only = TxnPatch {
            category: None,
            ..patch
        };
        assert!(
            EntryEdit::from_patch(&tags_only, None)
                .expect("edit")
                .category
                .is_none()
        );
    }

    #[test]
    fn tag_spans_match_hledger_reading() {
        let c = " lunch, trip:paris, work:,  x: y z , see http://a.b";
        let tags = comment_tags(c);
        let pairs: Vec<(String, String)> = tags.into_iter().map(|t| (t.name, t.value)).collect();
        assert_eq!(pairs, read_tags(c));
        assert_eq!(
            pairs,
            vec![
                ("trip".to_string(), "paris".to_string()),
                ("work".into(), "".into()),
                ("x".into(), "y z".into()),
                ("http".into(), "//a.b".into())
            ]
        );
        assert_eq!(comment_tags("a:1 b:2")[0].value, "1 b:2");
        assert!(comment_tags(" : nothing").is_empty());
    }

    #[test]
    fn apply_edits_splices_in_one_pass() {
        let text = "aaa bbb ccc";
        let out = apply_edits(
            text,
            &[
                (8..11, "CC".to_string()),
                (0..3, "A".to_string()),
                (4..4, ">".to_string()),
                (4..4, ">>".to_string()),
            ],
        );
        assert_eq!(out, Ok("A >>>bbb CC".to_string()));
        assert_eq!(apply_edits(text, &[]), Ok(text.to_string()));
        assert_eq!(
            apply_edits(text, &[(0..11, String::new())]),
            Ok(String::new())
        );
        assert_eq!(
            apply_edits(text, &[(0..5, "x".into()), (4..6, "y".into())]),
            Err(PatchError::OverlappingEdits(4))
        );
        assert_eq!(
            apply_edits(text, &[(10..12, "x".into())]),
            Err(PatchError::EditOutOfBounds { start: 10, end: 12 })
        );
        assert_eq!(
            apply_edits("é", &[(1..2, "x".into())]),
            Err(PatchError::EditOutOfBounds { start: 1, end: 2 })
        );
        // Adjacent ranges are not overlaps.
        assert_eq!(
            apply_edits(text, &[(4..8, "1".into()), (0..4, "0".into())]),
            Ok("01ccc".to_string())
        );
    }

    // ---- property-style tests on generated entries ----

    const NAMES: &[&str] = &["trip", "Trip", "work", "review", "lunch", "http", "a", "b"];
    const VALUES: &[&str] = &["", "paris", "2025-01", "x y", "a:b", "//x.y"];

    fn gen_comment(rng: &mut ChaCha8Rng) -> String {
        let mut parts = Vec::new();
        for _ in 0..rng.random_range(0..4) {
            let part = match rng.random_range(0..5) {
                0 => "free words".to_string(),
                1 => "see http://x.y/z".to_string(),
                _ => format!(
                    "{}:{}{}",
                    NAMES.choose(rng).expect("names"),
                    if rng.random_bool(0.2) { " " } else { "" },
                    VALUES.choose(rng).expect("values")
                ),
            };
            parts.push(part);
        }
        let sep = *[", ", ",", ", "].choose(rng).expect("seps");
        let lead = *[" ", "", "  "].choose(rng).expect("leads");
        format!("{lead}{}", parts.join(sep))
    }

    /// A random but valid journal entry (balanced for hledger), dated `day` days into 2020.
    fn gen_entry(rng: &mut ChaCha8Rng, day: u32, eol: &str) -> String {
        let date = chrono::NaiveDate::from_ymd_opt(2020, 1, 1)
            .expect("date")
            .checked_add_days(chrono::Days::new(u64::from(day)))
            .expect("date");
        let sep = *["-", "/", "."].choose(rng).expect("sep");
        let fmt = format!("%Y{sep}%m{sep}%d");
        let mut e = date.format(&fmt).to_string();
        if rng.random_bool(0.2) {
            e.push_str(&format!("={}", date.format("%Y-%m-%d")));
        }
        let desc = *[
            "Shop",
            "Cafe Rouge",
            "Shop | lunch",
            "Shop|note",
            "",
            "Grocer | ",
        ]
        .choose(rng)
        .expect("desc");
        e.push_str(["  ", " ", "\t"].choose(rng).expect("ws1"));
        match rng.random_range(0..3) {
            0 => e.push_str(["* ", "*", "*\t"].choose(rng).expect("st")),
            1 => e.push_str("! "),
            _ => {}
        }
        if rng.random_bool(0.3) {
            e.push_str("(123) ");
        }
        e.push_str(desc);
        if rng.random_bool(0.6) {
            e.push_str(["  ", "\t", " "].choose(rng).expect("gap"));
            e.push(';');
            e.push_str(&gen_comment(rng));
        }
        e.push_str(["", " ", "  \t"].choose(rng).expect("trail"));
        e.push_str(eol);
        for _ in 0..rng.random_range(0..3) {
            e.push_str(["    ", "\t", "  "].choose(rng).expect("indent"));
            e.push(';');
            e.push_str(&gen_comment(rng));
            e.push_str(["", " "].choose(rng).expect("trail"));
            e.push_str(eol);
        }
        let mark = *["", "* ", "! "].choose(rng).expect("mark");
        e.push_str(&format!("    {mark}expenses:food          $10.00"));
        if rng.random_bool(0.5) {
            e.push_str(&format!("  ;{}", gen_comment(rng)));
        }
        e.push_str(eol);
        if rng.random_bool(0.4) {
            e.push_str(&format!("    ;{}{eol}", gen_comment(rng)));
        }
        e.push_str(&format!("    assets:bank{eol}"));
        e
    }

    fn gen_edit(rng: &mut ChaCha8Rng, allow_category: bool) -> EntryEdit {
        let status = *[
            None,
            Some(Status::Unmarked),
            Some(Status::Pending),
            Some(Status::Cleared),
        ]
        .choose(rng)
        .expect("status");
        let add_tags = (0..rng.random_range(0..3))
            .map(|_| {
                Tag::new(
                    *NAMES.choose(rng).expect("n"),
                    VALUES.choose(rng).expect("v").trim(),
                )
            })
            .collect();
        let remove_tags = (0..rng.random_range(0..3))
            .map(|_| NAMES.choose(rng).expect("n").to_string())
            .collect();
        let note = [None, Some(""), Some("new note"), Some("lunch")]
            .choose(rng)
            .expect("note")
            .map(str::to_string);
        let category = if allow_category && rng.random_bool(0.3) {
            Some((
                "expenses:food".to_string(),
                ["expenses:dining:out", "ex:f"]
                    .choose(rng)
                    .expect("c")
                    .to_string(),
            ))
        } else {
            None
        };
        EntryEdit {
            status,
            add_tags,
            remove_tags,
            note,
            category,
        }
    }

    #[test]
    fn generated_entries_get_exactly_the_requested_changes() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for i in 0..3000 {
            let eol = if rng.random_bool(0.3) { "\r\n" } else { "\n" };
            let entry = gen_entry(&mut rng, i % 365, eol);
            let edit = gen_edit(&mut rng, true);
            assert_eq!(patch_entry(&entry, &EntryEdit::default()), Ok(None));
            let result = patch_entry(&entry, &edit).expect("patch");
            let out = result.clone().unwrap_or_else(|| entry.clone());
            let ctx = format!("entry {entry:?}\nedit {edit:?}\nout {out:?}");
            assert_eq!(
                sorted_lower(txn_tags(&out)),
                expected_tags(&txn_tags(&entry), &edit),
                "{ctx}"
            );
            assert_eq!(
                header_status(&out),
                edit.status.unwrap_or(header_status(&entry)),
                "{ctx}"
            );
            let want_note = edit.note.clone().unwrap_or_else(|| header_note(&entry));
            assert_eq!(header_note(&out), want_note.trim(), "{ctx}");
            let mut want_postings = postings_part(&entry).join("");
            if let Some((old, new)) = &edit.category {
                let old_line = format!("{old}          $");
                let pad = " ".repeat((10 + old.len()).saturating_sub(new.len()).max(2));
                want_postings = want_postings.replace(&old_line, &format!("{new}{pad}$"));
            }
            assert_eq!(postings_part(&out).join(""), want_postings, "{ctx}");
            assert!(
                out.split_inclusive('\n')
                    .all(|l| l.ends_with(eol) && (eol == "\r\n" || !l.ends_with("\r\n"))),
                "{ctx}"
            );
            // The date and code survive every edit.
            let first_word = |s: &str| {
                s.lines()
                    .next()
                    .unwrap_or("")
                    .split([' ', '\t'])
                    .next()
                    .unwrap_or("")
                    .to_string()
            };
            assert_eq!(first_word(&out), first_word(&entry), "{ctx}");
            assert_eq!(out.contains("(123)"), entry.contains("(123)"), "{ctx}");
            // Applying the same edit again changes nothing.
            assert_eq!(patch_entry(&out, &edit), Ok(None), "{ctx}");
            if result.is_none() {
                assert_eq!(out, entry);
            }
        }
    }

    fn hledger(file: &std::path::Path, args: &[&str]) -> String {
        let out = Command::new("hledger")
            .arg("-f")
            .arg(file)
            .args(args)
            .output()
            .expect("run hledger");
        assert!(
            out.status.success(),
            "hledger {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    }

    /// `(status, note, tags)` of one transaction as hledger reads it.
    type HledgerTxn = (String, String, Vec<(String, String)>);

    /// Each transaction from `hledger print -O json`, in file order.
    fn hledger_txns(file: &std::path::Path) -> Vec<HledgerTxn> {
        let json: serde_json::Value =
            serde_json::from_str(&hledger(file, &["print", "-O", "json"])).expect("json");
        let mut txns: Vec<(u64, HledgerTxn)> = json
            .as_array()
            .expect("array")
            .iter()
            .map(|t| {
                let desc = t["tdescription"].as_str().expect("desc");
                let note = desc
                    .split_once('|')
                    .map(|(_, n)| n.trim().to_string())
                    .unwrap_or_default();
                let tags = t["ttags"]
                    .as_array()
                    .expect("tags")
                    .iter()
                    .map(|p| {
                        (
                            p[0].as_str().expect("name").to_string(),
                            p[1].as_str().expect("value").to_string(),
                        )
                    })
                    .collect();
                let status = t["tstatus"].as_str().expect("status").to_string();
                (t["tindex"].as_u64().expect("index"), (status, note, tags))
            })
            .collect();
        txns.sort_by_key(|(i, _)| *i);
        txns.into_iter().map(|(_, t)| t).collect()
    }

    fn status_name(s: Status) -> &'static str {
        match s {
            Status::Unmarked => "Unmarked",
            Status::Pending => "Pending",
            Status::Cleared => "Cleared",
        }
    }

    #[test]
    fn hledger_reads_patched_files_as_intended() {
        let dir = tempfile::tempdir().expect("tempdir");
        let before = dir.path().join("before.journal");
        let after = dir.path().join("after.journal");
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let entries: Vec<String> = (0..300)
            .map(|i| gen_entry(&mut rng, i, if i % 5 == 0 { "\r\n" } else { "\n" }))
            .collect();
        let edits: Vec<EntryEdit> = (0..300).map(|_| gen_edit(&mut rng, false)).collect();
        let mut old_text = String::from("; generated\n\n");
        let mut ranges = Vec::new();
        for e in &entries {
            let start = old_text.len();
            old_text.push_str(e);
            ranges.push(start..old_text.len());
            old_text.push('\n');
        }
        let splices: Vec<(Range<usize>, String)> = ranges
            .iter()
            .zip(&edits)
            .rev()
            .filter_map(|(r, ed)| {
                patch_entry(&old_text[r.clone()], ed)
                    .expect("patch")
                    .map(|t| (r.clone(), t))
            })
            .collect();
        assert!(splices.len() > 200, "most generated edits change something");
        let new_text = apply_edits(&old_text, &splices).expect("splice");
        std::fs::write(&before, &old_text).expect("write");
        std::fs::write(&after, &new_text).expect("write");

        let old_txns = hledger_txns(&before);
        let new_txns = hledger_txns(&after);
        assert_eq!(old_txns.len(), entries.len());
        assert_eq!(new_txns.len(), entries.len());
        for (i, (entry, edit)) in entries.iter().zip(&edits).enumerate() {
            // Our reader agrees with hledger on the original text...
            assert_eq!(
                sorted_lower(old_txns[i].2.clone()),
                sorted_lower(txn_tags(entry)),
                "{entry:?}"
            );
            // ...and hledger reads back exactly the requested result.
            let ctx = format!("{entry:?} {edit:?}");
            assert_eq!(
                sorted_lower(new_txns[i].2.clone()),
                expected_tags(&txn_tags(entry), edit),
                "{ctx}"
            );
            let want_status = edit.status.unwrap_or(header_status(entry));
            assert_eq!(new_txns[i].0, status_name(want_status), "{ctx}");
            let want_note = edit.note.clone().unwrap_or_else(|| old_txns[i].1.clone());
            assert_eq!(new_txns[i].1, want_note.trim(), "{ctx}");
        }
        assert_eq!(
            hledger(&before, &["bal", "--flat", "-N"]),
            hledger(&after, &["bal", "--flat", "-N"])
        );
    }

    #[test]
    fn hledger_finds_tagged_and_recategorised_entries() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("j.journal");
        let text = "2025-01-02 * (12) Grocer | weekly  ; see http://x.y\n    ; trip:paris\n    expenses:food      $30.00  ; ptag:x\n    assets:bank\n\n2025-01-03=2025-01-05 Cafe\r\n\texpenses:food\t\t$4.50\r\n\tassets:bank\r\n";
        std::fs::write(&file, text).expect("write");
        let bal_before = hledger(&file, &["bal", "--flat", "-N"]);
        let first = 0..text.find("\n\n").expect("gap") + 1;
        let second = first.end + 1..text.len();
        let e1 = patched(
            &text[first.clone()],
            &EntryEdit {
                add_tags: vec![Tag::new("reviewed", "")],
                remove_tags: vec!["trip".into()],
                status: Some(Status::Pending),
                ..edit()
            },
        );
        let e2 = patched(&text[second.clone()], &adding(&[("reviewed", "yes")]));
        let new = apply_edits(text, &[(second.clone(), e2), (first.clone(), e1)]).expect("splice");
        std::fs::write(&file, &new).expect("write");
        hledger(&file, &["print"]);
        assert_eq!(hledger(&file, &["bal", "--flat", "-N"]), bal_before);
        let reg = hledger(&file, &["reg", "tag:reviewed"]);
        assert!(reg.contains("Grocer") && reg.contains("Cafe"), "{reg}");
        assert!(!hledger(&file, &["reg", "tag:trip"]).contains("Grocer"));
        assert!(hledger(&file, &["reg", "tag:http"]).contains("Grocer"));
        assert!(hledger(&file, &["reg", "tag:ptag"]).contains("Grocer"));
        assert!(hledger(&file, &["print", "--date2", "-p", "2025-01-05"]).contains("Cafe"));

        // Recategorising moves the amounts to the new account and nothing else.
        let cat = EntryEdit {
            category: Some(("expenses:food".into(), "expenses:dining".into())),
            ..edit()
        };
        let start = new.find("2025-01-03").expect("second entry");
        let e2 = patched(&new[start..], &cat);
        let moved = apply_edits(&new, &[(start..new.len(), e2)]).expect("splice");
        std::fs::write(&file, &moved).expect("write");
        let bal = hledger(&file, &["bal", "--flat", "-N", "expenses"]);
        assert!(bal.contains("$4.50  expenses:dining"), "{bal}");
        assert!(bal.contains("$30.00  expenses:food"), "{bal}");
    }
}

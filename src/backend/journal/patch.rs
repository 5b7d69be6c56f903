//! The journal text patcher: rewrites the text of one transaction for an edit (status mark, tags, note, category) and
//! splices rewritten entries back into a file's text. Everything here is a pure function on strings, and every part
//! it touches is found by `syntax`, the grammar the reader uses: the header's status mark and description, the
//! comments (the header's, `;` lines, postings' own) and the tags in them, a posting's account. So an edit replaces
//! exactly the part hledger reads — a code holding `;` or `|` is a code, `; a,b:c` is the tag `a,b` — and parts an
//! edit does not ask about are copied byte for byte (spacing, trailing whitespace, line endings, other comments).
//! Tags: adding sets the tag of exactly that name (hledger's names are case-sensitive: adding `tst` leaves `Tst:X`
//! alone) in the transaction's comments; removing matches names case-insensitively, as `tag:` queries do, in the
//! transaction's and its postings' comments. The editor is not trusted alone: the backend reads every patched entry
//! back with the production reader before writing (`verify`). What cannot be written safely — a note with `;`, a tag
//! value with `,`, renaming a posting that carries a balance assertion — is refused with a `PatchError`.

pub use super::assertion::AssertionEdit;
use super::syntax::{self, BodyLine, TagSpan};
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
    /// Tag names (case-insensitive) to remove, whatever their value, from the transaction and its postings.
    pub remove_tags: Vec<String>,
    /// The new note (the part after `payee | `); an empty note removes ` | note`.
    pub note: Option<String>,
    /// `(old account, new account)`: renames every posting whose account is exactly `old` (a transaction that
    /// posts to `new` and not to `old` is left as it is, so applying an edit twice is harmless).
    pub category: Option<(String, String)>,
    /// A balance assertion written on, or taken off, one posting (`assertion`).
    pub assertion: Option<AssertionEdit>,
}

impl EntryEdit {
    /// The edit for a backend `TxnPatch`; `current_category` is the account of the transaction's category posting,
    /// which a category change renames.
    pub fn from_patch(
        patch: &TxnPatch,
        current_category: Option<&str>,
    ) -> Result<EntryEdit, PatchError> {
        // A split names the posting to rename; otherwise it is the transaction's category posting.
        let current = patch.category_from.as_deref().or(current_category);
        let category = match (&patch.category, current) {
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
            assertion: patch.assertion.as_ref().map(|a| AssertionEdit {
                posting: a.posting,
                account: a.account.clone(),
                balance: a.balance.clone(),
                inclusive: a.inclusive,
                amount: a.amount.clone(),
            }),
        })
    }

    pub fn is_empty(&self) -> bool {
        self.status.is_none()
            && self.add_tags.is_empty()
            && self.remove_tags.is_empty()
            && self.note.is_none()
            && self.category.is_none()
            && self.assertion.is_none()
    }

    /// Whether a tag written with the name `name` goes: its name is asked to be removed (case-insensitively), and
    /// not also added under exactly this name (which sets it in place instead).
    pub fn removes_tag(&self, name: &str) -> bool {
        self.remove_tags
            .iter()
            .any(|n| n.eq_ignore_ascii_case(name))
            && !self.add_tags.iter().any(|t| t.name.trim() == name)
    }
}

/// Why an entry cannot be edited safely. Nothing is written when one of these is returned.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PatchError {
    #[error("not an editable transaction: {0}")]
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
         surrounding brackets, a leading `*` or `!` (it would read as a status mark) or control characters"
    )]
    InvalidAccount(String),
    #[error("no posting to account {0:?} in this transaction")]
    AccountNotFound(String),
    #[error(
        "the posting to {0:?} carries a balance assertion or assignment, which would then be about another \
         account; change it in the file by hand"
    )]
    AssertedPosting(String),
    #[error("this transaction has no category posting to rename")]
    NoCategoryPosting,
    #[error("the transaction has no posting {0}")]
    NoSuchPosting(usize),
    #[error(
        "posting {0} has no written amount: a balance assertion there would become a balance assignment"
    )]
    NoWrittenAmount(usize),
    #[error("posting {0} already carries a balance assertion or assignment")]
    AlreadyAsserted(usize),
    #[error(
        "an assertion in {asserted} cannot be written in the style of a posting in {posting:?}"
    )]
    OtherCommodity { posting: String, asserted: String },
    #[error("text edits overlap at byte {0}")]
    OverlappingEdits(usize),
    #[error("text edit range {start}..{end} is outside the text or not on a character boundary")]
    EditOutOfBounds { start: usize, end: usize },
}

/// The tags in a comment's text (see `syntax::tags`).
pub fn comment_tags(comment: &str) -> Vec<Tag> {
    syntax::tags(comment)
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

/// Where a comment lives, which decides whether added tags may go there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner {
    Transaction,
    Posting,
}

/// One comment of the entry: its text after `;` (trailing blanks excluded), changed or not.
struct Comment {
    owner: Owner,
    /// Index of the line it is on.
    line: usize,
    /// The text's range in that line.
    range: Range<usize>,
    body: String,
    dirty: bool,
}

/// The lexed lines of one entry.
struct Lexed<'e> {
    lines: Vec<syntax::Line<'e>>,
    header: syntax::Header,
    body: Vec<BodyLine>,
}

fn lex(entry: &str) -> Result<Lexed<'_>, PatchError> {
    let lines: Vec<syntax::Line<'_>> = syntax::lines(entry, 0, entry.len(), 1).collect();
    let first = lines
        .first()
        .ok_or_else(|| PatchError::NotATransaction("empty text".into()))?;
    let unreadable = |l: &syntax::Line<'_>, e: syntax::SyntaxError| {
        PatchError::NotATransaction(format!(
            "line {}, column {}: {}",
            l.number,
            syntax::column_of(l.text, e.at),
            e.message
        ))
    };
    if !first.text.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(PatchError::NotATransaction(format!(
            "the first line does not start with a date ({:?})",
            first.text.chars().take(40).collect::<String>()
        )));
    }
    let header = syntax::header(first.text).map_err(|e| unreadable(first, e))?;
    let mut body = Vec::with_capacity(lines.len());
    for l in &lines[1..] {
        if !syntax::is_space_at(l.text, 0) || syntax::is_blank(l.text) {
            return Err(PatchError::NotATransaction(format!(
                "line {} is not part of the transaction",
                l.number
            )));
        }
        body.push(syntax::body_line(l.text).map_err(|e| unreadable(l, e))?);
    }
    Ok(Lexed {
        lines,
        header,
        body,
    })
}

/// The entry's comments in order: the header's, then each body line's (a `;` line before the first posting belongs
/// to the transaction, after it to the posting above it).
fn comments(lx: &Lexed<'_>) -> Vec<Comment> {
    let mut out = Vec::new();
    let mut push = |owner, line: usize, text: &str, range: Range<usize>| {
        let body = text[range.clone()].trim_end_matches(syntax::is_space);
        out.push(Comment {
            owner,
            line,
            range: range.start..range.start + body.len(),
            body: body.to_string(),
            dirty: false,
        });
    };
    if let Some(c) = &lx.header.comment {
        push(Owner::Transaction, 0, lx.lines[0].text, c.clone());
    }
    let mut owner = Owner::Transaction;
    for (i, b) in lx.body.iter().enumerate() {
        let text = lx.lines[i + 1].text;
        match b {
            BodyLine::Comment(c) => push(owner, i + 1, text, c.clone()),
            BodyLine::Posting(p) => {
                owner = Owner::Posting;
                if let Some(c) = &p.comment {
                    push(owner, i + 1, text, c.clone());
                }
            }
        }
    }
    out
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
    let lx = lex(entry)?;
    let mut edits: Vec<(Range<usize>, String)> = Vec::new();
    let header_line = lx.lines[0];
    let mut header = Header::new(header_line.text, &lx.header);
    let mut header_dirty = false;
    if let Some(status) = edit.status {
        header_dirty |= header.set_status(status);
    }
    if let Some(note) = note {
        header_dirty |= header.set_note(note);
    }
    let mut comments = comments(&lx);
    if !edit.remove_tags.is_empty() {
        for c in comments.iter_mut() {
            while let Some(span) = syntax::tags(&c.body)
                .into_iter()
                .find(|s| edit.removes_tag(&c.body[s.name.clone()]))
            {
                remove_span(&mut c.body, &span);
                c.dirty = true;
            }
        }
    }
    if !adds.is_empty() && !comments.iter().any(|c| c.line == 0) {
        // A new header comment, where added tags go when the transaction has no comment of its own yet.
        comments.insert(
            0,
            Comment {
                owner: Owner::Transaction,
                line: 0,
                range: 0..0,
                body: String::new(),
                dirty: false,
            },
        );
    }
    for tag in &adds {
        let exclusive = edit
            .remove_tags
            .iter()
            .any(|n| n.eq_ignore_ascii_case(&tag.name));
        add_tag(&mut comments, tag, exclusive);
    }
    // The header's comment is rendered with the header; the others are replaced where they are.
    for c in comments.iter().filter(|c| c.dirty) {
        if c.line == 0 {
            header.set_comment(&c.body);
            header_dirty = true;
        } else {
            edits.push(comment_edit(&lx, c));
        }
    }
    if header_dirty {
        let start = header_line.start;
        let mut text = String::with_capacity(header_line.text.len() + 32);
        header.render(&mut text);
        edits.push((start..start + header_line.text.len(), text));
    }
    if let Some((old, new)) = &edit.category {
        edits.extend(renames(&lx, old, new)?);
    }
    if let Some(a) = &edit.assertion {
        edits.extend(super::assertion::text_edit(&lx.lines, &lx.body, a)?);
    }
    let out = apply_edits(entry, &edits)?;
    Ok((out != entry).then_some(out))
}

/// The text edit for a changed comment that is not the header's: an emptied `;` line goes (with its line ending);
/// an emptied posting comment goes with its `;` and the blanks before it.
fn comment_edit(lx: &Lexed<'_>, c: &Comment) -> (Range<usize>, String) {
    let line = lx.lines[c.line];
    let start = line.start;
    if !c.body.trim().is_empty() {
        return (start + c.range.start..start + c.range.end, c.body.clone());
    }
    match &lx.body[c.line - 1] {
        BodyLine::Comment(_) => (start..line.next(), String::new()),
        BodyLine::Posting(_) => {
            let semi = c.range.start - 1;
            let kept = line.text[..semi].trim_end_matches(syntax::is_space).len();
            (start + kept..start + c.range.end, String::new())
        }
    }
}

/// The edits renaming every posting to `old` (its written name, brackets aside) into `new`.
fn renames(
    lx: &Lexed<'_>,
    old: &str,
    new: &str,
) -> Result<Vec<(Range<usize>, String)>, PatchError> {
    let mut edits = Vec::new();
    let mut already = false;
    for (i, b) in lx.body.iter().enumerate() {
        let BodyLine::Posting(p) = b else { continue };
        let line = lx.lines[i + 1];
        let written = &line.text[p.account.clone()];
        let bracketed = written.len() > 2
            && (written.starts_with('(') && written.ends_with(')')
                || written.starts_with('[') && written.ends_with(']'));
        let inner = if bracketed {
            p.account.start + 1..p.account.end - 1
        } else {
            p.account.clone()
        };
        let name = syntax::account_name(&line.text[inner.clone()]);
        already |= name == new;
        if name != old || old == new {
            continue;
        }
        if p.assertion.is_some() {
            return Err(PatchError::AssertedPosting(old.to_string()));
        }
        // Keep the amount's column when the gap allows (at least two spaces stay between account and amount).
        let gap = p.account.end..p.amounts.start.max(p.account.end);
        let gap_text = &line.text[gap.clone()];
        let mut replacement = new.to_string();
        let mut range = inner.clone();
        if !p.amounts.is_empty() && gap_text.chars().all(|c| c == ' ') {
            let old_w = UnicodeWidthStr::width(&line.text[inner.clone()]) as isize;
            let new_w = UnicodeWidthStr::width(new) as isize;
            let want = (gap_text.len() as isize - (new_w - old_w)).max(2) as usize;
            replacement.push_str(&line.text[inner.end..p.account.end]);
            replacement.push_str(&" ".repeat(want));
            range = inner.start..gap.end;
        }
        edits.push((
            line.start + range.start..line.start + range.end,
            replacement,
        ));
    }
    if edits.is_empty() && old != new && !already {
        return Err(PatchError::AccountNotFound(old.to_string()));
    }
    Ok(edits)
}

/// Removes one tag with its separating comma and blanks, so the tags around it read as before.
fn remove_span(body: &mut String, span: &TagSpan) {
    let is_blank = |c: char| c == ' ' || c == '\t';
    if span.comma {
        let rest = &body[span.end..];
        let blanks = rest.len() - rest.trim_start_matches(is_blank).len();
        body.replace_range(span.name.start..span.end + blanks, "");
    } else {
        let mut start = body[..span.name.start].trim_end_matches(is_blank).len();
        if body[..start].ends_with(',') {
            start = body[..start - 1].trim_end_matches(is_blank).len();
        }
        body.replace_range(start..span.end, "");
    }
}

/// Occurrences of the tag named exactly `name` in the transaction's comments: (comment index, span).
fn occurrences(comments: &[Comment], name: &str) -> Vec<(usize, TagSpan)> {
    comments
        .iter()
        .enumerate()
        .filter(|(_, c)| c.owner == Owner::Transaction)
        .flat_map(|(i, c)| {
            syntax::tags(&c.body)
                .into_iter()
                .filter(|s| &c.body[s.name.clone()] == name)
                .map(move |s| (i, s))
        })
        .collect()
}

/// Adds `tag` to the transaction's comments, or gives the existing tag of that name the new value: afterwards it
/// occurs exactly once. Without `exclusive`, an occurrence that already has the value leaves everything as it is.
fn add_tag(comments: &mut [Comment], tag: &Tag, exclusive: bool) {
    let occ = occurrences(comments, &tag.name);
    let value_of = |(i, s): &(usize, TagSpan)| comments[*i].body[s.value.clone()].to_string();
    if !exclusive && occ.iter().any(|o| value_of(o) == tag.value) {
        return;
    }
    let keep = occ
        .iter()
        .position(|o| value_of(o) == tag.value)
        .unwrap_or(0);
    let Some((slot, span)) = occ.get(keep).cloned() else {
        let first = &mut comments[0];
        let body = &mut first.body;
        if body.trim().is_empty() {
            body.clear();
            body.push(' ');
        } else if body.ends_with(',') {
            body.push(' ');
        } else {
            body.push_str(", ");
        }
        body.push_str(&format!("{}:{}", tag.name, tag.value));
        first.dirty = true;
        return;
    };
    if value_of(&(slot, span.clone())) != tag.value {
        comments[slot]
            .body
            .replace_range(span.value.clone(), &tag.value);
        comments[slot].dirty = true;
    }
    // Exactly one occurrence stays: drop the others, tracking where the kept one moves.
    let mut keep = keep;
    loop {
        let occ = occurrences(comments, &tag.name);
        let victim = match (occ.len(), keep) {
            (0 | 1, _) => break,
            (_, 0) => 1,
            _ => {
                keep -= 1;
                0
            }
        };
        let (slot, span) = &occ[victim];
        remove_span(&mut comments[*slot].body, span);
        comments[*slot].dirty = true;
    }
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
    /// The parts of a header line from its lexed spans; they tile the line exactly.
    fn new(line: &'a str, h: &syntax::Header) -> Header<'a> {
        let skip = |from: usize| super::amount::skip_blanks(line, from);
        let after_date = h.date2.as_ref().map_or(h.date.end, |d| d.end);
        let p1 = skip(after_date);
        let (status, p2) = match h.status {
            Some(s) => (Some(line.as_bytes()[s] as char), skip(s + 1)),
            None => (None, p1),
        };
        let p3 = h.code.as_ref().map_or(p2, |c| skip(c.end + 1));
        let desc = if h.description.is_empty() {
            p3..p3
        } else {
            h.description.clone()
        };
        let (gap, comment, trailing) = match &h.comment {
            Some(c) => {
                let body = line[c.clone()].trim_end_matches(syntax::is_space);
                (
                    &line[desc.end..c.start - 1],
                    Some(body.to_string()),
                    &line[c.start + body.len()..],
                )
            }
            None => ("", None, &line[desc.end..]),
        };
        Header {
            date: &line[..after_date],
            ws1: line[after_date..p1].to_string(),
            status,
            ws2: h
                .status
                .map_or(String::new(), |s| line[s + 1..p2].to_string()),
            code: &line[p2..p3],
            description: line[desc].to_string(),
            gap: gap.to_string(),
            comment,
            trailing,
        }
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

    /// A changed header comment: an emptied one goes with the blanks that led up to it.
    fn set_comment(&mut self, body: &str) {
        if body.trim().is_empty() {
            self.comment = None;
            self.gap = String::new();
            if self.code.is_empty() && self.description.is_empty() {
                // The blanks that led up to the comment would be left dangling at the end of the line.
                if self.status.is_some() {
                    self.ws2.clear();
                } else {
                    self.ws1.clear();
                }
            }
        } else {
            if self.comment.is_none() {
                self.gap = "  ".to_string();
            }
            self.comment = Some(body.to_string());
        }
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
        || account.starts_with(['(', '[', '*', '!'])
        || account.ends_with([')', ']'])
        || account
            .chars()
            .any(|c| c.is_control() || c == ';' || (c != ' ' && syntax::is_space(c)));
    if bad {
        return Err(PatchError::InvalidAccount(account.to_string()));
    }
    Ok(())
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

    fn sorted(mut tags: Vec<(String, String)>) -> Vec<(String, String)> {
        tags.sort();
        tags
    }

    /// Tags on postings (their own comments and the `;` lines under them), read independently of the patcher.
    fn posting_tags(entry: &str) -> Vec<(String, String)> {
        let mut tags = Vec::new();
        let mut in_postings = false;
        for l in entry.lines().skip(1) {
            let t = l.trim_start();
            if let Some(c) = t.strip_prefix(';') {
                if in_postings {
                    tags.extend(read_tags(c));
                }
            } else {
                in_postings = true;
                if let Some((_, c)) = t.split_once(';') {
                    tags.extend(read_tags(c));
                }
            }
        }
        sorted(tags)
    }

    /// The posting lines without their comments (and without `;` lines).
    fn posting_lines(entry: &str) -> Vec<String> {
        postings_part(entry)
            .into_iter()
            .filter(|l| !l.trim_start().starts_with(';'))
            .map(|l| l.split(';').next().unwrap_or("").trim_end().to_string())
            .collect()
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
        assert_eq!(patch_entry(e, &adding(&[("Trip", "paris")])), Ok(None));
        assert_eq!(patch_entry(e, &adding(&[("work", "")])), Ok(None));
        assert_eq!(
            patched(e, &adding(&[("Trip", "rome")])),
            "2025-01-02 Shop  ; Trip:rome, work:\n    ; note: here\n    a  1\n"
        );
        // Tag names are case-sensitive, as in hledger: `tst` is another tag than `Tst`, whose value stays.
        assert_eq!(
            patched(
                "2025-01-02 Shop  ; Tst:X\n    a  1\n",
                &adding(&[("tst", "")])
            ),
            "2025-01-02 Shop  ; Tst:X, tst:\n    a  1\n"
        );
        // Setting a tag (remove + add) replaces every case variant with exactly the added one.
        let set = EntryEdit {
            remove_tags: vec!["trip".into()],
            ..adding(&[("trip", "rome")])
        };
        assert_eq!(
            patched(e, &set),
            "2025-01-02 Shop  ; work:, trip:rome\n    ; note: here\n    a  1\n"
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
        // Removal reaches the postings' comments too (a tag only on a posting is removed, not just "matched").
        assert_eq!(
            patched(multi, &removing(&["trip", "work"])),
            "2025-01-02 Shop\n    ; hello\n    ; review:\n    a  1\n    b\n"
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
                "2025-01-02 Shop\n\t* (expenses:food)\t\t$1\n\t[expenses:food]  $1\n\tassets:bank\n",
                &cat("expenses:food", "expenses:café")
            ),
            "2025-01-02 Shop\n\t* (expenses:café)\t\t$1\n\t[expenses:café]  $1\n\tassets:bank\n"
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
        // Found by the fuzz target: `    !x  1` is the posting `x` marked pending, so no posting can be renamed to
        // `!x` as written (the read-back check refused it, with a less helpful message).
        for bad in ["!x", "* x", "(x)", "[x]", "a  b", "a\tb", "a;b", " a"] {
            let rename = EntryEdit {
                category: Some(("a".into(), bad.into())),
                ..edit()
            };
            assert_eq!(
                patch_entry(e, &rename),
                Err(PatchError::InvalidAccount(bad.into())),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn backend_patches_convert_to_entry_edits() {
        let patch = TxnPatch {
            add_tags: vec![Tag::new("work", "")],
            remove_tags: vec!["review".into()],
            status: Some(Status::Cleared),
            category: Some("expenses:dining".into()),
            category_from: None,
            note: Some("n".into()),
            archive: false,
            assertion: None,
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
            assertion: None,
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
                sorted(txn_tags(&out)),
                super::super::verify::expected_tags(&txn_tags(&entry), &edit),
                "{ctx}"
            );
            assert_eq!(
                header_status(&out),
                edit.status.unwrap_or(header_status(&entry)),
                "{ctx}"
            );
            let want_note = edit.note.clone().unwrap_or_else(|| header_note(&entry));
            assert_eq!(header_note(&out), want_note.trim(), "{ctx}");
            let mut want_postings = posting_lines(&entry).join("\n");
            if let Some((old, new)) = &edit.category {
                let old_line = format!("{old}          $");
                let pad = " ".repeat((10 + old.len()).saturating_sub(new.len()).max(2));
                want_postings = want_postings.replace(&old_line, &format!("{new}{pad}$"));
            }
            assert_eq!(posting_lines(&out).join("\n"), want_postings, "{ctx}");
            let want_posting_tags: Vec<(String, String)> = posting_tags(&entry)
                .into_iter()
                .filter(|(n, _)| !edit.removes_tag(n))
                .collect();
            assert_eq!(posting_tags(&out), want_posting_tags, "{ctx}");
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
                sorted(old_txns[i].2.clone()),
                sorted(txn_tags(entry)),
                "{entry:?}"
            );
            // ...and hledger reads back exactly the requested result.
            let ctx = format!("{entry:?} {edit:?}");
            assert_eq!(
                sorted(new_txns[i].2.clone()),
                super::super::verify::expected_tags(&txn_tags(entry), edit),
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

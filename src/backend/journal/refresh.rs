//! After tally's own save, the index follows the new text without reading the files again: the edited entries are
//! read once more where they now stand in the new text (their status, description, tags, category posting and id
//! hash), and every later entry of the same file has its byte spans and line number shifted by what the edits before
//! it added or removed. Amounts are kept: an edit never changes one (the read-back check made sure). Anything
//! unexpected is an error, and the caller re-reads the files instead. Ids follow: an entry whose hash changed gets
//! its new id, and so does an identical twin whose occurrence number moved with it. The work is done in two steps
//! so reads never wait for it: `prepare` builds the new entry and tag tables beside the old ones (readers go on
//! meanwhile), and `install` swaps them in under the write lock, which takes microseconds.

use super::Loaded;
use super::parse::Block;
use super::save::{FilePlan, Spliced};
use crate::backend::Diagnostic;
use crate::backend::ledger::{
    Entry, EntryKind, IdIndex, Journal, Span, TagRec, content_hash, format_id, parse_id,
};
use crate::domain::TxnId;
use rustc_hash::{FxHashMap, FxHashSet};
use std::ops::Range;
use std::time::SystemTime;

/// The index after a save, built beside the one in use.
pub(super) struct Followed {
    entries: Vec<Entry>,
    tags: Vec<TagRec>,
    diagnostics: Vec<Diagnostic>,
    /// Each rewritten file: its index, new text, modification time and content hash.
    files: Vec<(u32, String, Option<SystemTime>, u128)>,
    /// Postings of edited entries: index, account name now, tags (a range into `tags`).
    postings: Vec<(u32, String, Range<u32>)>,
    /// The ids that may change, by entry index (empty when no hash changed), and the id index that names them
    /// now (built here, off the write lock).
    at_risk: FxHashMap<u32, TxnId>,
    ids: Option<IdIndex>,
    /// Accounts the edited entries now assert balances of (an assertion written by reconciling), with whether
    /// subaccounts count: added to `Journal::balance_checked`.
    asserted: Vec<(String, bool)>,
}

/// Builds the index that follows the save of `files` (each replaced with exactly its text; `done` gives each
/// file's new modification time), without touching the one in use.
pub(super) fn prepare(
    l: &Loaded,
    files: Vec<FilePlan>,
    done: &[(u32, Option<SystemTime>)],
) -> Result<Followed, String> {
    let j = &l.journal;
    let mut out = Followed {
        entries: j.entries.clone(),
        tags: j.tags.clone(),
        diagnostics: l.diagnostics.clone(),
        files: Vec::with_capacity(files.len()),
        postings: Vec::new(),
        at_risk: ids_at_risk(j, &files),
        ids: None,
        asserted: Vec::new(),
    };
    for fp in files {
        let modified = done
            .iter()
            .find(|(f, _)| *f == fp.file)
            .ok_or("a planned file was not written")?
            .1;
        follow_file(l, fp, modified, &mut out)?;
    }
    if !out.at_risk.is_empty() {
        out.ids = Some(IdIndex::build(&out.entries));
    }
    Ok(out)
}

/// What `install` replaced: freed by the caller once the write lock is released (unmapping a hundred megabytes
/// takes milliseconds no reader should wait for).
pub(super) struct Replaced {
    _entries: Vec<Entry>,
    _tags: Vec<TagRec>,
    _texts: Vec<String>,
    _ids: Option<IdIndex>,
}

/// Puts the followed index in place; returns the ids that changed, `(old, new)`, and what it replaced.
pub(super) fn install(l: &mut Loaded, f: Followed) -> (Vec<(TxnId, TxnId)>, Replaced) {
    let j = &mut l.journal;
    let mut old = Replaced {
        _entries: std::mem::replace(&mut j.entries, f.entries),
        _tags: std::mem::replace(&mut j.tags, f.tags),
        _texts: Vec::new(),
        _ids: None,
    };
    l.diagnostics = f.diagnostics;
    for (file, text, mtime, hash) in f.files {
        let sf = &mut j.files[file as usize];
        sf.len = text.len() as u64;
        old._texts.push(std::mem::replace(&mut sf.text, text));
        sf.mtime = mtime;
        sf.hash = hash;
    }
    for (index, name, tags) in f.postings {
        let account = j.accounts.intern(&name);
        while j.account_kinds.len() < j.accounts.names.len() {
            let n = &j.accounts.names[j.account_kinds.len()];
            j.account_kinds.push(crate::domain::account_kind(n));
        }
        let p = &mut j.postings[index as usize];
        p.account = account;
        p.tags = tags;
    }
    for (name, inclusive) in f.asserted {
        let account = j.accounts.intern(&name);
        while j.account_kinds.len() < j.accounts.names.len() {
            let n = &j.accounts.names[j.account_kinds.len()];
            j.account_kinds.push(crate::domain::account_kind(n));
        }
        if !j.balance_checked.contains(&(account, inclusive)) {
            j.balance_checked.push((account, inclusive));
        }
    }
    let Some(ids) = f.ids else {
        return (Vec::new(), old);
    };
    old._ids = std::mem::replace(&mut j.ids, std::sync::OnceLock::from(ids)).into_inner();
    let mut renamed: Vec<(TxnId, TxnId)> = f
        .at_risk
        .into_iter()
        .filter_map(|(index, old)| {
            let new = j.id_of(index);
            (new != old).then_some((old, new))
        })
        .collect();
    renamed.sort();
    (renamed, old)
}

/// The ids, by entry index, of every entry whose id a save of `files` may change: the edited entries whose hash
/// changes, and every entry sharing their old or new hash (their occurrence numbers may move). Empty when no hash
/// changes (tags and status keep the id).
fn ids_at_risk(j: &Journal, files: &[FilePlan]) -> FxHashMap<u32, TxnId> {
    let mut hashes: FxHashSet<u64> = FxHashSet::default();
    for s in files.iter().flat_map(|f| &f.spliced) {
        let old = j.entries[s.entry as usize].hash;
        if old != s.hash {
            hashes.insert(old);
            hashes.insert(s.hash);
        }
    }
    if hashes.is_empty() {
        return FxHashMap::default();
    }
    j.id_index()
        .sorted
        .iter()
        .filter(|(h, _, _)| hashes.contains(h))
        .map(|&(h, occurrence, index)| (index, TxnId(format_id(h, occurrence))))
        .collect()
}

/// Line breaks in `s` as the reader counts them: LF, CRLF and a lone CR each end a line.
fn line_breaks(s: &str) -> i64 {
    let b = s.as_bytes();
    let lf = b.iter().filter(|&&c| c == b'\n').count();
    let lone_cr = b
        .iter()
        .enumerate()
        .filter(|&(i, &c)| c == b'\r' && b.get(i + 1) != Some(&b'\n'))
        .count();
    (lf + lone_cr) as i64
}

/// How far the edits before a position moved it: for the first `k` edits (in file order), the bytes and lines
/// they added (negative when removed).
struct Shifts {
    /// Where each edit's old text ended, in file order.
    ends: Vec<usize>,
    /// Where each edit's old text started, as a line number.
    lines: Vec<u32>,
    /// `bytes[k]`, `line_delta[k]`: what the first `k` edits added.
    bytes: Vec<i64>,
    line_delta: Vec<i64>,
}

impl Shifts {
    fn new(j: &Journal, old_text: &str, fp: &FilePlan) -> Shifts {
        let n = fp.spliced.len();
        let mut s = Shifts {
            ends: Vec::with_capacity(n),
            lines: Vec::with_capacity(n),
            bytes: vec![0; n + 1],
            line_delta: vec![0; n + 1],
        };
        for (k, sp) in fp.spliced.iter().enumerate() {
            let new_start = (sp.old.start as i64 + s.bytes[k]) as usize;
            let new_text = &fp.text[new_start..new_start + sp.new_len];
            let old = &old_text[sp.old.clone()];
            s.bytes[k + 1] = s.bytes[k] + sp.new_len as i64 - old.len() as i64;
            s.line_delta[k + 1] = s.line_delta[k] + line_breaks(new_text) - line_breaks(old);
            s.ends.push(sp.old.end);
            s.lines.push(j.entries[sp.entry as usize].line);
        }
        s
    }

    /// How many edits end at or before byte `pos` of the old text.
    fn before_byte(&self, pos: u32) -> usize {
        self.ends.partition_point(|&end| end <= pos as usize)
    }

    /// How many edits start on a line before `line` of the old text.
    fn before_line(&self, line: u32) -> usize {
        self.lines.partition_point(|&l| l < line)
    }
}

fn shift(pos: u32, by: i64) -> u32 {
    (pos as i64 + by) as u32
}

fn shift_span(span: &mut Span, by: i64) {
    // (0, 0) is "none" (no code; a rule entry's description), not a place in the text.
    if *span != (0, 0) {
        *span = (shift(span.0, by), shift(span.1, by));
    }
}

fn follow_file(
    l: &Loaded,
    fp: FilePlan,
    modified: Option<SystemTime>,
    out: &mut Followed,
) -> Result<(), String> {
    let j = &l.journal;
    let file = fp.file;
    let shifts = Shifts::new(j, &j.files[file as usize].text, &fp);
    shift_entries(j, file, &shifts, (&fp.spliced, out));
    let path = j.files[file as usize].path.display().to_string();
    for d in out.diagnostics.iter_mut().filter(|d| d.file == path) {
        let k = shifts.before_line(d.line as u32);
        d.line = (d.line as i64 + shifts.line_delta[k]) as usize;
    }
    for (k, sp) in fp.spliced.iter().enumerate() {
        reread(
            l,
            (file, &fp.text),
            sp,
            (shifts.bytes[k], shifts.line_delta[k]),
            out,
        )?;
    }
    let hash = content_hash(fp.text.as_bytes());
    out.files.push((file, fp.text, modified, hash));
    Ok(())
}

/// Moves every entry of `file` that follows an edit by what the edits before it added (in `out`'s copies of the
/// entry and tag tables); the edited entries are left for `reread`.
fn shift_entries(
    j: &Journal,
    file: u32,
    shifts: &Shifts,
    (spliced, out): (&[Spliced], &mut Followed),
) {
    let edited: FxHashSet<u32> = spliced.iter().map(|s| s.entry).collect();
    let tags = &mut out.tags;
    for (index, e) in out.entries.iter_mut().enumerate() {
        if e.file != file || edited.contains(&(index as u32)) {
            continue;
        }
        let k = shifts.before_byte(e.span.0);
        let (by, lines) = (shifts.bytes[k], shifts.line_delta[k]);
        if by == 0 && lines == 0 {
            continue;
        }
        e.line = shift(e.line, lines);
        if by == 0 {
            continue;
        }
        e.span = (shift(e.span.0, by), shift(e.span.1, by));
        shift_span(&mut e.code, by);
        if e.description != (0, 0) {
            e.payee_end = shift(e.payee_end, by);
        }
        shift_span(&mut e.description, by);
        if e.kind != EntryKind::Regular {
            continue;
        }
        let own = std::iter::once(e.tags.clone());
        let postings = j.postings[e.postings.start as usize..e.postings.end as usize]
            .iter()
            .map(|p| p.tags.clone());
        for r in own.chain(postings) {
            for t in &mut tags[r.start as usize..r.end as usize] {
                t.name = (shift(t.name.0, by), shift(t.name.1, by));
                t.value = (shift(t.value.0, by), shift(t.value.1, by));
            }
        }
    }
}

/// Reads the edited entry where it now stands in the new `text` of `file` and takes from it what an edit may
/// change: status, code, description, tags, each posting's account and tags, the id hash.
fn reread(
    l: &Loaded,
    (file, text): (u32, &str),
    sp: &Spliced,
    (by, lines): (i64, i64),
    out: &mut Followed,
) -> Result<(), String> {
    let old = &l.journal.entries[sp.entry as usize];
    let start = (sp.old.start as i64 + by) as usize;
    let block = Block {
        file,
        start,
        end: start + sp.new_len,
        line: shift(old.line, lines),
        state: 0,
        kind: EntryKind::Regular,
    };
    let (chunk, accounts, _) = l.reader.parse_block(sp.entry, text, &block)?;
    let new = chunk
        .entries
        .first()
        .ok_or("the edited entry no longer reads as a transaction")?;
    if new.postings.len() != old.postings.len() || new.date != old.date || new.hash != sp.hash {
        return Err(format!(
            "the edited entry at line {} reads differently from its check",
            block.line
        ));
    }
    let mut append = |r: &Range<u32>| {
        let t0 = out.tags.len() as u32;
        out.tags
            .extend_from_slice(&chunk.tags[r.start as usize..r.end as usize]);
        t0..out.tags.len() as u32
    };
    let tags = append(&new.tags);
    for a in &chunk.assertions {
        let name = chunk
            .postings
            .get(a.posting as usize)
            .and_then(|p| accounts.get(p.account as usize));
        if let Some(name) = name {
            out.asserted.push((name.clone(), a.inclusive));
        }
    }
    for k in 0..new.postings.len() {
        let np = &chunk.postings[new.postings.start as usize + k];
        let range = append(&np.tags);
        let name = accounts[np.account as usize].clone();
        out.postings
            .push((old.postings.start + k as u32, name, range));
    }
    let e = &mut out.entries[sp.entry as usize];
    e.span = new.span;
    e.line = new.line;
    e.status = new.status;
    e.code = new.code;
    e.description = new.description;
    e.payee_end = new.payee_end;
    e.hash = new.hash;
    e.tags = tags;
    Ok(())
}

/// After a full re-read: the new id of each changed transaction (`ids`: old id, the hash it reads with now) whose
/// hash changed, when exactly one entry has that hash (twins cannot be told apart without the index the save had).
pub(super) fn renamed_by_hash(j: &Journal, ids: &[(TxnId, u64)]) -> Vec<(TxnId, TxnId)> {
    let sorted = &j.id_index().sorted;
    ids.iter()
        .filter(|(old, hash)| parse_id(&old.0).is_some_and(|(h, _)| h != *hash))
        .filter_map(|(old, hash)| {
            let from = sorted.partition_point(|(h, _, _)| h < hash);
            let to = sorted.partition_point(|(h, _, _)| h <= hash);
            (to - from == 1).then(|| (old.clone(), TxnId(format_id(*hash, 0))))
        })
        .collect()
}

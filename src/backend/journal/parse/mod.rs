//! Reads a journal and its includes into a `Journal`, in three passes, as hledger 1.25 reads it. Pass 1
//! (`directives`) walks each file's lines once, in order, following the directives that change how later text is read
//! and cutting the text into entry blocks, each tagged with the directive state in force. Pass 2 (`entry`) parses the
//! blocks in parallel (rayon), each chunk with its own name interner, through the grammar the editor uses too
//! (`syntax`). Pass 3 merges the chunks in order and does what needs the whole journal (`checks`: display-precision
//! balancing, balance assignments and assertions), then sorts by date. A malformed entry becomes a `FILE:LINE:COLUMN`
//! diagnostic and is left out of the index — its text is never touched — while the rest of the file loads.
//! `Reader` keeps what is needed to read one entry again exactly as the load did, for the editor's read-back check.

mod checks;
mod directives;
mod entry;

use super::amount::MarkLookup;
use crate::backend::Diagnostic;
use crate::backend::ledger::{EntryKind, Journal, SourceFile, Sym};
use crate::domain::Money;
use chrono::Datelike;
pub(crate) use entry::{Block, Chunk};
use rayon::prelude::*;
use regex::Regex;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How many entry blocks one parallel task parses.
const CHUNK: usize = 8192;

#[derive(Debug, Clone)]
enum Alias {
    Plain { from: String, to: String },
    Regex { re: Regex, to: String },
}

impl Alias {
    fn apply(&self, name: &str) -> Option<String> {
        match self {
            Alias::Plain { from, to } => {
                if name == from {
                    Some(to.clone())
                } else {
                    name.strip_prefix(from.as_str())
                        .filter(|rest| rest.starts_with(':'))
                        .map(|rest| format!("{to}{rest}"))
                }
            }
            Alias::Regex { re, to } => re
                .is_match(name)
                .then(|| re.replace_all(name, to.as_str()).into_owned()),
        }
    }
}

/// Directive state that changes how entries are read; blocks share snapshots of it.
#[derive(Debug, Clone, Default)]
pub(crate) struct ParseState {
    decimal_mark: Option<u8>,
    commodity_marks: HashMap<String, u8>,
    aliases: Vec<Alias>,
    year: Option<i32>,
    parents: Vec<String>,
    /// `D $1,000.00`: the commodity of amounts written without one.
    default_commodity: Option<String>,
}

impl MarkLookup for ParseState {
    fn mark_for(&self, commodity: &str) -> Option<u8> {
        self.commodity_marks
            .get(commodity)
            .copied()
            .or(self.decimal_mark)
    }
}

impl ParseState {
    pub(crate) fn account_name<'t>(&self, written: Cow<'t, str>) -> Cow<'t, str> {
        let mut name = written;
        if !self.parents.is_empty() {
            name = Cow::Owned(format!("{}:{}", self.parents.join(":"), name));
        }
        for alias in &self.aliases {
            if let Some(n) = alias.apply(&name) {
                name = Cow::Owned(n);
            }
        }
        name
    }
}

struct Scan {
    files: Vec<SourceFile>,
    blocks: Vec<Block>,
    states: Vec<Arc<ParseState>>,
    diagnostics: Vec<Diagnostic>,
    visiting: HashSet<PathBuf>,
    default_year: i32,
    /// Display precisions set by `commodity` (and `D`) directives: journal-wide, as in hledger.
    precisions: HashMap<String, u32>,
    /// False for text read from memory (`load_text`): an `include` is reported, not followed.
    follow_includes: bool,
}

/// A loaded journal, its problems, and what reads one of its entries again.
pub struct Loaded {
    pub journal: Journal,
    pub diagnostics: Vec<Diagnostic>,
    pub reader: Reader,
}

/// The directive state each entry was read with, so an edited entry can be read back exactly as a reload would.
#[derive(Debug, Default)]
pub struct Reader {
    states: Vec<Arc<ParseState>>,
    /// The state index of each entry (same index as `Journal::entries`).
    entry_state: Vec<u32>,
    default_year: i32,
}

/// Loads the journal at `path` and everything it includes.
pub fn load(path: &Path) -> std::io::Result<Loaded> {
    let mut scan = Scan::new(true);
    let started = std::time::Instant::now();
    scan.read_file(path)?;
    let scanned = started.elapsed();
    let out = scan.finish();
    tracing::debug!(
        "load {}: read+scan {scanned:?}, total {:?}",
        path.display(),
        started.elapsed()
    );
    Ok(out)
}

/// Reads `text` as the journal file `name` would be read, without touching the file system: `include` directives
/// are reported, not followed. For checking edits in memory (tests, the fuzz target).
pub fn load_text(name: &Path, text: &str) -> Loaded {
    let mut scan = Scan::new(false);
    scan.add_text(name, text.to_string(), None);
    scan.finish()
}

impl Scan {
    fn new(follow_includes: bool) -> Scan {
        Scan {
            files: Vec::new(),
            blocks: Vec::new(),
            states: vec![Arc::new(ParseState::default())],
            diagnostics: Vec::new(),
            visiting: HashSet::new(),
            default_year: chrono::Local::now().year(),
            precisions: HashMap::new(),
            follow_includes,
        }
    }

    fn diag(&mut self, file: u32, line: u32, column: usize, message: impl Into<String>) {
        self.diagnostics.push(Diagnostic {
            file: self.files[file as usize].path.display().to_string(),
            line: line as usize,
            column,
            message: message.into(),
        });
    }

    fn state(&self) -> &ParseState {
        // The last snapshot is the one in force.
        self.states
            .last()
            .map(Arc::as_ref)
            .unwrap_or_else(|| unreachable_state())
    }

    fn change_state(&mut self, f: impl FnOnce(&mut ParseState)) {
        let mut s = self.state().clone();
        f(&mut s);
        self.states.push(Arc::new(s));
    }

    /// Passes 2 and 3.
    fn finish(mut self) -> Loaded {
        let files = std::mem::take(&mut self.files);
        let blocks = std::mem::take(&mut self.blocks);
        let states = std::mem::take(&mut self.states);
        let default_year = self.default_year;
        let t0 = std::time::Instant::now();
        let chunks: Vec<Chunk> = blocks
            .par_chunks(CHUNK)
            .map(|blocks| entry::parse_chunk(blocks, &files, &states, default_year))
            .collect();
        let tp = std::time::Instant::now();
        let mut j = Journal {
            files,
            ..Journal::default()
        };
        j.entries
            .reserve_exact(chunks.iter().map(|c| c.entries.len()).sum());
        j.postings
            .reserve_exact(chunks.iter().map(|c| c.postings.len()).sum());
        j.tags
            .reserve_exact(chunks.iter().map(|c| c.tags.len()).sum());
        let mut diagnostics = self.diagnostics;
        let mut deferred = checks::Deferred::default();
        let mut entry_state = Vec::with_capacity(j.entries.capacity());
        for chunk in chunks {
            merge_chunk(
                &mut j,
                chunk,
                &mut diagnostics,
                &mut deferred,
                &mut entry_state,
            );
        }
        let t1 = std::time::Instant::now();
        checks::run(&mut j, deferred, &self.precisions, &mut diagnostics);
        j.account_kinds = j
            .accounts
            .names
            .iter()
            .map(|n| crate::domain::account_kind(n))
            .collect();
        index(&mut j);
        tracing::debug!(
            "parse {:?}, merge {:?}, checks+index {:?}",
            tp - t0,
            t1 - tp,
            t1.elapsed()
        );
        Loaded {
            journal: j,
            diagnostics,
            reader: Reader {
                states,
                entry_state,
                default_year,
            },
        }
    }
}

fn unreachable_state() -> &'static ParseState {
    static EMPTY: std::sync::OnceLock<ParseState> = std::sync::OnceLock::new();
    EMPTY.get_or_init(ParseState::default)
}

fn merge_chunk(
    j: &mut Journal,
    chunk: Chunk,
    diagnostics: &mut Vec<Diagnostic>,
    deferred: &mut checks::Deferred,
    entry_state: &mut Vec<u32>,
) {
    let acc: Vec<Sym> = chunk
        .accounts
        .iter()
        .map(|n| j.accounts.intern(n))
        .collect();
    let com: Vec<Sym> = chunk
        .commodities
        .iter()
        .map(|n| j.commodities.intern(n))
        .collect();
    let p_off = j.postings.len() as u32;
    let t_off = j.tags.len() as u32;
    let c_off = j.costs.len() as u32;
    let e_off = j.entries.len() as u32;
    for (q, c) in &chunk.costs {
        j.costs.push(Money::new(
            *q,
            j.commodities.get(com[*c as usize]).to_string(),
        ));
    }
    j.postings.extend(chunk.postings.into_iter().map(|mut p| {
        p.account = acc[p.account as usize];
        p.commodity = com[p.commodity as usize];
        p.tags = p.tags.start + t_off..p.tags.end + t_off;
        if p.cost > 0 {
            p.cost += c_off;
        }
        p
    }));
    j.tags.extend(chunk.tags);
    j.entries.extend(chunk.entries.into_iter().map(|mut e| {
        if e.kind == EntryKind::Regular {
            e.postings = e.postings.start + p_off..e.postings.end + p_off;
            e.tags = e.tags.start + t_off..e.tags.end + t_off;
        }
        e
    }));
    diagnostics.extend(chunk.diagnostics);
    entry_state.extend(chunk.entry_states);
    deferred
        .pending
        .extend(chunk.pending.into_iter().map(|mut p| {
            p.entry += e_off;
            p.elided = p.elided.map(|x| x + p_off);
            for a in &mut p.assignments {
                a.posting += p_off;
                a.commodity = com[a.commodity as usize];
                if let Some(c) = &mut a.cost {
                    c.1 = com[c.1 as usize];
                }
            }
            p
        }));
    deferred
        .assertions
        .extend(chunk.assertions.into_iter().map(|mut a| {
            a.posting += p_off;
            a.commodity = com[a.commodity as usize];
            a
        }));
    deferred
        .unbalanced
        .extend(chunk.unbalanced.into_iter().map(|mut u| {
            u.entry += e_off;
            for r in &mut u.residual {
                r.0 = com[r.0 as usize];
            }
            u
        }));
}

/// The date order (ids are indexed lazily, on first use).
fn index(j: &mut Journal) {
    let mut by_date: Vec<u32> = j
        .entries
        .iter()
        .enumerate()
        .filter(|(_, e)| e.kind == EntryKind::Regular)
        .map(|(i, _)| i as u32)
        .collect();
    let entries = &j.entries;
    // Journals are usually written in date order: only sort when they are not.
    if !by_date.is_sorted_by_key(|&i| entries[i as usize].date) {
        by_date.par_sort_by_key(|&i| entries[i as usize].date);
    }
    j.by_date = by_date;
}

/// One transaction as the reader sees it: what an edit may change and what it must leave alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryReading {
    pub date: chrono::NaiveDate,
    pub status: crate::domain::Status,
    pub code: String,
    pub payee: String,
    pub note: String,
    /// The description as written (payee and note).
    pub description: String,
    /// Transaction-level tags (header comment and `;` lines before the first posting), sorted.
    pub tags: Vec<(String, String)>,
    pub postings: Vec<PostingReading>,
    /// The id hash: date, code, description, each posting's account and amount text.
    pub hash: u64,
}

/// One posting as the reader sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostingReading {
    pub account: String,
    pub kind: crate::domain::PostingKind,
    pub quantity: rust_decimal::Decimal,
    pub commodity: String,
    pub cost: Option<(rust_decimal::Decimal, String)>,
    /// The posting's own tags, sorted.
    pub tags: Vec<(String, String)>,
    /// The balance assertion (or assignment) written on the posting.
    pub assertion: Option<AssertionReading>,
}

/// A balance assertion or assignment as the reader sees it: `=`, `==` (`total`), `=*`, `==*` (`inclusive`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssertionReading {
    pub quantity: rust_decimal::Decimal,
    pub commodity: String,
    pub total: bool,
    pub inclusive: bool,
    /// A posting with only `= AMOUNT`: its amount is assigned, not checked.
    pub assignment: bool,
}

/// Puts each assertion and assignment of a one-entry `chunk` on its posting (`first`: the entry's first posting).
fn fill_assertions(
    chunk: &Chunk,
    first: u32,
    commodities: &[String],
    postings: &mut [PostingReading],
) {
    let asserted = chunk.assertions.iter().map(|a| {
        (
            a.posting,
            a.quantity,
            a.commodity,
            (a.total, a.inclusive),
            false,
        )
    });
    let assigned = chunk.pending.iter().flat_map(|p| &p.assignments).map(|a| {
        (
            a.posting,
            a.target,
            a.commodity,
            (a.total, a.inclusive),
            true,
        )
    });
    for (posting, quantity, commodity, (total, inclusive), assignment) in asserted.chain(assigned) {
        let slot = posting
            .checked_sub(first)
            .and_then(|k| postings.get_mut(k as usize));
        if let Some(p) = slot {
            p.assertion = Some(AssertionReading {
                quantity,
                commodity: commodities[commodity as usize].clone(),
                total,
                inclusive,
                assignment,
            });
        }
    }
}

impl Reader {
    /// Reads `text` as the production reader read entry `index` (same directive state, same default year): the
    /// text must be exactly one transaction, a header line and indented lines.
    pub fn read_entry(&self, index: u32, text: &str) -> Result<EntryReading, String> {
        let mut lines = super::syntax::lines(text, 0, text.len(), 1);
        if !lines
            .next()
            .is_some_and(|l| l.text.starts_with(|c: char| c.is_ascii_digit()))
        {
            return Err("the text does not start with a date".into());
        }
        if let Some(l) = lines
            .find(|l| !super::syntax::is_space_at(l.text, 0) || super::syntax::is_blank(l.text))
        {
            return Err(format!("line {} would end the transaction early", l.number));
        }
        let block = Block {
            file: 0,
            start: 0,
            end: text.len(),
            line: 1,
            state: 0,
            kind: EntryKind::Regular,
        };
        let (chunk, accounts, commodities) = self.parse_block(index, text, &block)?;
        let e = chunk.entries.first().ok_or("no transaction was read")?;
        let span = |s: (u32, u32)| text[s.0 as usize..s.1 as usize].to_string();
        let tags = |r: std::ops::Range<u32>| {
            let mut v: Vec<(String, String)> = chunk.tags[r.start as usize..r.end as usize]
                .iter()
                .map(|t| (span(t.name), span(t.value)))
                .collect();
            v.sort();
            v
        };
        let description = span(e.description);
        let payee = span((e.description.0, e.payee_end)).trim_end().to_string();
        let note = if e.payee_end < e.description.1 {
            span((e.payee_end + 1, e.description.1)).trim().to_string()
        } else {
            String::new()
        };
        let postings = chunk.postings[e.postings.start as usize..e.postings.end as usize]
            .iter()
            .map(|p| PostingReading {
                account: accounts[p.account as usize].clone(),
                kind: p.kind,
                quantity: p.quantity,
                commodity: commodities[p.commodity as usize].clone(),
                cost: (p.cost > 0).then(|| {
                    let (q, c) = chunk.costs[(p.cost - 1) as usize];
                    (q, commodities[c as usize].clone())
                }),
                tags: tags(p.tags.clone()),
                assertion: None,
            })
            .collect::<Vec<_>>();
        let mut postings = postings;
        fill_assertions(&chunk, e.postings.start, &commodities, &mut postings);
        Ok(EntryReading {
            date: e.date,
            status: e.status,
            code: span(e.code),
            payee,
            note,
            description,
            tags: tags(e.tags.clone()),
            postings,
            hash: e.hash,
        })
    }

    /// Reads the block `block` of `text` (the whole text of its file) as entry `index` was read: same directive
    /// state, same default year; spans come out absolute in `text`. Returns the chunk with its local account and
    /// commodity names. The index follows a save with it, without reading the rest of the file.
    pub(crate) fn parse_block(
        &self,
        index: u32,
        text: &str,
        block: &Block,
    ) -> Result<(Chunk, Vec<String>, Vec<String>), String> {
        let state = self
            .entry_state
            .get(index as usize)
            .and_then(|&s| self.states.get(s as usize))
            .ok_or("the entry's directive state is unknown")?;
        let ctx = entry::BlockCtx {
            text,
            block,
            state,
            default_year: self.default_year,
        };
        let mut chunk = Chunk::default();
        let mut names = entry::Names {
            accounts: entry::LocalNames::new(),
            commodities: entry::LocalNames::new(),
        };
        let mut scratch = entry::Scratch::default();
        ctx.parse(&mut chunk, &mut names, &mut scratch)
            .map_err(|(line, column, message)| {
                format!("line {line}, column {column}: {message}")
            })?;
        Ok((
            chunk,
            names.accounts.into_names(),
            names.commodities.into_names(),
        ))
    }
}

//! Reads a journal and its includes into a `Journal`, in three passes. Pass 1 walks each file's lines once, in order:
//! it follows directives that change how later text is read (`include`, `decimal-mark`, `commodity`, `alias`, `Y`,
//! `apply account`, comment blocks) and cuts the text into entry blocks, each tagged with the parse state in force.
//! Pass 2 parses the blocks in parallel (rayon), each chunk with its own name interner. Pass 3, in order, merges the
//! chunks, fills balance assignments (which need running balances in date order), numbers duplicate ids and sorts
//! by date. A malformed entry becomes a `FILE:LINE:COLUMN` diagnostic and is left out of the index — its text is never
//! touched — while the rest of the file loads.

use super::amount::{MarkLookup, RawAmount, parse_amount};
use crate::backend::Diagnostic;
use crate::backend::ledger::{
    Entry, EntryKind, Journal, PostingRec, SourceFile, Span, Sym, TagRec,
};
use crate::domain::{Money, PostingKind, Status};
use chrono::{Datelike, NaiveDate};
use rayon::prelude::*;
use regex::{Regex, RegexBuilder};
use rust_decimal::Decimal;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::ops::Range;
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
struct ParseState {
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
    fn account_name<'t>(&self, written: &'t str) -> Cow<'t, str> {
        let mut name: Cow<'t, str> = Cow::Borrowed(written);
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

struct Block {
    file: u32,
    start: usize,
    end: usize,
    line: u32,
    state: u32,
    kind: EntryKind,
}

struct Scan {
    files: Vec<SourceFile>,
    blocks: Vec<Block>,
    states: Vec<Arc<ParseState>>,
    diagnostics: Vec<Diagnostic>,
    visiting: HashSet<PathBuf>,
    default_year: i32,
}

/// Loads the journal at `path` and everything it includes.
pub fn load(path: &Path) -> std::io::Result<(Journal, Vec<Diagnostic>)> {
    let mut scan = Scan {
        files: Vec::new(),
        blocks: Vec::new(),
        states: vec![Arc::new(ParseState::default())],
        diagnostics: Vec::new(),
        visiting: HashSet::new(),
        default_year: chrono::Local::now().year(),
    };
    let started = std::time::Instant::now();
    let text = std::fs::read(path)?;
    scan.add_file(path, text)?;
    let scanned = started.elapsed();
    let out = scan.finish();
    if std::env::var_os("TALLY_TIMINGS").is_some() {
        eprintln!(
            "load {}: read+scan {scanned:?}, total {:?}",
            path.display(),
            started.elapsed()
        );
    }
    Ok(out)
}

/// Parses journal text held in memory (tests, benchmarks); includes are resolved relative to `path`'s directory.
pub fn load_text(path: &Path, text: &str) -> (Journal, Vec<Diagnostic>) {
    let mut scan = Scan {
        files: Vec::new(),
        blocks: Vec::new(),
        states: vec![Arc::new(ParseState::default())],
        diagnostics: Vec::new(),
        visiting: HashSet::new(),
        default_year: chrono::Local::now().year(),
    };
    if let Err(e) = scan.add_file(path, text.as_bytes().to_vec()) {
        scan.diagnostics.push(Diagnostic {
            file: path.display().to_string(),
            line: 1,
            column: 1,
            message: e.to_string(),
        });
    }
    scan.finish()
}

fn column_of(line: &str, byte: usize) -> usize {
    line.get(..byte).map_or(byte, |p| p.chars().count()) + 1
}

impl Scan {
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

    fn add_file(&mut self, path: &Path, bytes: Vec<u8>) -> std::io::Result<()> {
        let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let meta = std::fs::metadata(path).ok();
        let text = String::from_utf8(bytes).map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "{}: not UTF-8 text (byte {})",
                    path.display(),
                    e.utf8_error().valid_up_to()
                ),
            )
        })?;
        let hash = crate::backend::ledger::content_hash(text.as_bytes());
        let file = self.files.len() as u32;
        self.files.push(SourceFile {
            path: path.to_path_buf(),
            len: text.len() as u64,
            mtime: meta.and_then(|m| m.modified().ok()),
            hash,
            text,
        });
        self.visiting.insert(canonical.clone());
        self.scan_file(file);
        self.visiting.remove(&canonical);
        Ok(())
    }

    /// Pass 1 over one file: cut blocks, follow directives.
    fn scan_file(&mut self, file: u32) {
        let text = std::mem::take(&mut self.files[file as usize].text);
        let bytes = text.as_bytes();
        let mut pos = if text.starts_with('\u{feff}') { 3 } else { 0 };
        let mut line_no: u32 = 0;
        let mut open: Option<Block> = None;
        let mut in_comment_block = false;
        let mut directive: Option<String> = None;
        while pos < bytes.len() {
            line_no += 1;
            let nl = memchr::memchr(b'\n', &bytes[pos..]).map(|i| pos + i);
            let next = nl.map_or(bytes.len(), |i| i + 1);
            let mut end = nl.unwrap_or(bytes.len());
            if end > pos && bytes[end - 1] == b'\r' {
                end -= 1;
            }
            let line = &text[pos..end];
            let first = bytes.get(pos).copied().unwrap_or(b'\n');
            if in_comment_block {
                if line.trim_end() == "end comment" {
                    in_comment_block = false;
                }
                pos = next;
                continue;
            }
            if first == b' ' || first == b'\t' {
                if line.bytes().all(|c| c == b' ' || c == b'\t') {
                    if let Some(b) = open.take() {
                        self.blocks.push(b);
                    }
                } else if let Some(b) = open.as_mut() {
                    b.end = next;
                } else if let Some(d) = &directive {
                    if d == "commodity"
                        && let Some(sample) = line.trim().strip_prefix("format")
                    {
                        let sample = sample.trim().to_string();
                        self.commodity_directive(&sample);
                    }
                } else {
                    let t = line.trim_start();
                    if !(t.starts_with(';') || t.starts_with('#')) {
                        let col = column_of(line, line.len() - t.len());
                        self.diag(
                            file,
                            line_no,
                            col,
                            "indented line outside a transaction (is a blank line above it?)",
                        );
                    }
                }
                pos = next;
                continue;
            }
            if let Some(b) = open.take() {
                self.blocks.push(b);
            }
            directive = None;
            let state = (self.states.len() - 1) as u32;
            match first {
                b'\n' | b'\r' => {}
                b'0'..=b'9' | b'~' | b'=' => {
                    let kind = match first {
                        b'~' => EntryKind::Periodic,
                        b'=' => EntryKind::Auto,
                        _ => EntryKind::Regular,
                    };
                    open = Some(Block {
                        file,
                        start: pos,
                        end: next,
                        line: line_no,
                        state,
                        kind,
                    });
                }
                b';' | b'#' | b'*' | b'%' | b'|' => {}
                _ => {
                    let mut word = line.split_whitespace().next().unwrap_or("");
                    // `Y2022`: hledger accepts the year directive without a space.
                    if word.len() > 1
                        && word.starts_with('Y')
                        && word[1..].bytes().all(|c| c.is_ascii_digit())
                    {
                        word = "Y";
                    }
                    let rest = line[word.len()..].trim();
                    let rest = strip_comment(rest);
                    match word {
                        "comment" => in_comment_block = true,
                        "include" => self.include(file, line_no, rest, &text, pos),
                        "decimal-mark" => match rest.as_bytes().first() {
                            Some(&m @ (b'.' | b',')) => {
                                self.change_state(|s| s.decimal_mark = Some(m))
                            }
                            _ => self.diag(
                                file,
                                line_no,
                                word.len() + 2,
                                "decimal-mark must be . or ,",
                            ),
                        },
                        "commodity" => {
                            directive = Some("commodity".into());
                            self.commodity_directive(rest);
                        }
                        "alias" => match parse_alias(rest) {
                            Ok(a) => self.change_state(|s| s.aliases.push(a)),
                            Err(m) => self.diag(file, line_no, 7, m),
                        },
                        "end" if rest == "aliases" => self.change_state(|s| s.aliases.clear()),
                        "end" if rest == "apply account" || rest == "apply" => {
                            self.change_state(|s| {
                                s.parents.pop();
                            })
                        }
                        "apply" if rest.starts_with("account") => {
                            let parent = rest["account".len()..].trim().to_string();
                            self.change_state(|s| s.parents.push(parent));
                        }
                        "Y" | "year" => match rest.parse::<i32>() {
                            Ok(y) => self.change_state(|s| s.year = Some(y)),
                            Err(_) => self.diag(
                                file,
                                line_no,
                                word.len() + 2,
                                format!("{word}: {rest:?} is not a year"),
                            ),
                        },
                        "apply" if rest.starts_with("year") => {
                            match rest["year".len()..].trim().parse::<i32>() {
                                Ok(y) => self.change_state(|s| s.year = Some(y)),
                                Err(_) => self.diag(file, line_no, 12, "apply year: not a year"),
                            }
                        }
                        "D" => {
                            let sample = strip_comment(rest).trim().to_string();
                            let symbol: String = sample
                                .trim_matches(|c: char| c.is_ascii_digit() || ".,- ".contains(c))
                                .trim_matches('"')
                                .to_string();
                            self.commodity_directive(&sample);
                            self.change_state(|s| s.default_commodity = Some(symbol));
                        }
                        "account" | "payee" | "tag" | "P" | "C" | "N" | "A" | "end" | "i" | "o"
                        | "I" | "O" | "h" | "b" | "assert" | "check" | "define" | "bucket"
                        | "value" | "def" | "expr" | "python" | "eval" | "--" => {
                            directive = Some(word.to_string());
                        }
                        _ => {
                            self.diag(file, line_no, 1, format!("unknown directive {word:?}"));
                        }
                    }
                }
            }
            pos = next;
        }
        if let Some(b) = open.take() {
            self.blocks.push(b);
        }
        self.files[file as usize].text = text;
    }

    fn commodity_directive(&mut self, rest: &str) {
        // `commodity $1,000.00`, `commodity 1.000,00 EUR`, `commodity EUR` (no sample: nothing to learn).
        let sample = strip_comment(rest).trim();
        let number: String = sample
            .chars()
            .skip_while(|c| !c.is_ascii_digit())
            .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ',' || *c == ' ')
            .collect();
        let symbol: String = sample
            .replace(number.trim(), " ")
            .trim()
            .trim_matches('-')
            .trim()
            .trim_matches('"')
            .to_string();
        let mark = infer_mark(number.trim());
        if let Some(m) = mark {
            self.change_state(|s| {
                s.commodity_marks.insert(symbol, m);
            });
        }
    }

    fn include(&mut self, file: u32, line_no: u32, target: &str, text: &str, line_start: usize) {
        let column = text[line_start..].find(target).map_or(9, |i| i + 1);
        let base = self.files[file as usize]
            .path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let target = target.trim();
        let expanded = expand_tilde(target);
        let full = if Path::new(&expanded).is_absolute() {
            PathBuf::from(&expanded)
        } else {
            base.join(&expanded)
        };
        let pattern = full.to_string_lossy().into_owned();
        let paths: Vec<PathBuf> = if pattern.contains(['*', '?', '[']) {
            match glob::glob(&pattern) {
                Ok(g) => {
                    let mut v: Vec<PathBuf> = g.filter_map(Result::ok).collect();
                    v.sort();
                    if v.is_empty() {
                        self.diag(
                            file,
                            line_no,
                            column,
                            format!("include: no files match {target}"),
                        );
                    }
                    v
                }
                Err(e) => {
                    self.diag(
                        file,
                        line_no,
                        column,
                        format!("include: bad glob {target}: {e}"),
                    );
                    Vec::new()
                }
            }
        } else {
            vec![full]
        };
        for p in paths {
            let canonical = std::fs::canonicalize(&p).unwrap_or_else(|_| p.clone());
            if self.visiting.contains(&canonical) {
                self.diag(
                    file,
                    line_no,
                    column,
                    format!("include cycle: {} includes itself", p.display()),
                );
                continue;
            }
            match std::fs::read(&p) {
                Ok(bytes) => {
                    if let Err(e) = self.add_file(&p, bytes) {
                        self.diag(file, line_no, column, format!("include: {e}"));
                    }
                }
                Err(e) => self.diag(
                    file,
                    line_no,
                    column,
                    format!("include: cannot read {}: {e}", p.display()),
                ),
            }
        }
    }

    /// Passes 2 and 3.
    fn finish(mut self) -> (Journal, Vec<Diagnostic>) {
        let files = std::mem::take(&mut self.files);
        let blocks = std::mem::take(&mut self.blocks);
        let states = std::mem::take(&mut self.states);
        let default_year = self.default_year;
        let t0 = std::time::Instant::now();
        let chunks: Vec<Chunk> = blocks
            .par_chunks(CHUNK)
            .map(|blocks| parse_chunk(blocks, &files, &states, default_year))
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
        let mut pending: Vec<Pending> = Vec::new();
        for chunk in chunks {
            merge_chunk(&mut j, chunk, &mut diagnostics, &mut pending);
        }
        let t1 = std::time::Instant::now();
        if !pending.is_empty() {
            fill_assignments(&mut j, pending, &mut diagnostics);
        }
        j.account_kinds = j
            .accounts
            .names
            .iter()
            .map(|n| crate::domain::account_kind(n))
            .collect();
        index(&mut j);
        if std::env::var_os("TALLY_TIMINGS").is_some() {
            eprintln!(
                "parse {:?}, merge {:?}, index {:?}",
                tp - t0,
                t1 - tp,
                t1.elapsed()
            );
        }
        (j, diagnostics)
    }
}

fn unreachable_state() -> &'static ParseState {
    static EMPTY: std::sync::OnceLock<ParseState> = std::sync::OnceLock::new();
    EMPTY.get_or_init(ParseState::default)
}

fn expand_tilde(p: &str) -> String {
    if let Some(rest) = p.strip_prefix("~/")
        && let Some(home) = directories::BaseDirs::new()
    {
        return home.home_dir().join(rest).to_string_lossy().into_owned();
    }
    p.to_string()
}

fn strip_comment(s: &str) -> &str {
    match s.find(';') {
        Some(i) => s[..i].trim_end(),
        None => s,
    }
}

fn infer_mark(number: &str) -> Option<u8> {
    let b = number.as_bytes();
    let dots = b.iter().filter(|c| **c == b'.').count();
    let commas = b.iter().filter(|c| **c == b',').count();
    match (dots, commas) {
        (0, 0) => None,
        (1, 0) => Some(b'.'),
        (0, 1) => Some(b','),
        (_, 0) => Some(b','),
        (0, _) => Some(b'.'),
        _ => b.iter().rev().find(|c| **c == b'.' || **c == b',').copied(),
    }
}

fn parse_alias(rest: &str) -> Result<Alias, String> {
    let (from, to) = rest
        .split_once('=')
        .ok_or_else(|| "alias needs OLD = NEW".to_string())?;
    let (from, to) = (from.trim(), to.trim().to_string());
    if let Some(re) = from.strip_prefix('/').and_then(|f| f.strip_suffix('/')) {
        let re = RegexBuilder::new(re)
            .case_insensitive(true)
            .build()
            .map_err(|e| format!("alias: bad regular expression: {e}"))?;
        // hledger writes back-references as \1; the regex crate as ${1}.
        let to = Regex::new(r"\\(\d)")
            .map(|r| r.replace_all(&to, "$${$1}").into_owned())
            .unwrap_or(to);
        Ok(Alias::Regex { re, to })
    } else {
        Ok(Alias::Plain {
            from: from.to_string(),
            to,
        })
    }
}

/// What one parallel task produced; names are interned locally and remapped on merge.
#[derive(Default)]
struct Chunk {
    entries: Vec<Entry>,
    postings: Vec<PostingRec>,
    tags: Vec<TagRec>,
    costs: Vec<(Decimal, Sym)>,
    accounts: Vec<String>,
    commodities: Vec<String>,
    diagnostics: Vec<Diagnostic>,
    /// Postings waiting for a balance assignment: (posting index, target, commodity); local indices.
    pending: Vec<Pending>,
}

/// An entry whose amounts depend on running balances: filled in pass 3.
struct Pending {
    entry: u32,
    /// (posting index, target balance, commodity) for each `ACCOUNT  = AMOUNT` posting.
    assignments: Vec<(u32, Decimal, Sym)>,
    /// Index of a posting with no amount at all, inferred after the assignments.
    elided: Option<u32>,
}

struct LocalNames<'t> {
    map: rustc_hash::FxHashMap<Cow<'t, str>, Sym>,
    names: Vec<String>,
    /// The last name interned: consecutive postings often repeat an account or commodity.
    last: Option<(Cow<'t, str>, Sym)>,
}

impl<'t> LocalNames<'t> {
    fn new() -> Self {
        LocalNames {
            map: rustc_hash::FxHashMap::default(),
            names: Vec::new(),
            last: None,
        }
    }
    fn intern(&mut self, s: Cow<'t, str>) -> Sym {
        if let Some((l, id)) = &self.last
            && *l == s
        {
            return *id;
        }
        if let Some(&id) = self.map.get(&s) {
            self.last = Some((s, id));
            return id;
        }
        let id = self.names.len() as Sym;
        self.names.push(s.to_string());
        self.map.insert(s, id);
        id
    }
}

fn parse_chunk(
    blocks: &[Block],
    files: &[SourceFile],
    states: &[Arc<ParseState>],
    default_year: i32,
) -> Chunk {
    let mut out = Chunk::default();
    // Sized for typical entries (two or three postings) so the vectors rarely grow.
    out.entries.reserve(blocks.len());
    out.postings.reserve(blocks.len() * 3);
    let mut accounts = LocalNames::new();
    let mut commodities = LocalNames::new();
    let mut scratch = Scratch::default();
    for b in blocks {
        let file = &files[b.file as usize];
        let state = &states[b.state as usize];
        let ctx = BlockCtx {
            text: &file.text,
            block: b,
            state,
            default_year,
        };
        match ctx.parse(&mut out, &mut accounts, &mut commodities, &mut scratch) {
            Ok(()) => {}
            Err((line, column, message)) => out.diagnostics.push(Diagnostic {
                file: file.path.display().to_string(),
                line: line as usize,
                column,
                message,
            }),
        }
    }
    out.accounts = accounts.names;
    out.commodities = commodities.names;
    out
}

type ParseError = (u32, usize, String);

struct BlockCtx<'t> {
    text: &'t str,
    block: &'t Block,
    state: &'t ParseState,
    default_year: i32,
}

struct ParsedPosting<'t> {
    account: Cow<'t, str>,
    kind: PostingKind,
    amount: Option<RawAmount<'t>>,
    cost: Option<RawAmount<'t>>,
    assignment: Option<RawAmount<'t>>,
    /// This posting's tags: a range into the block's scratch tag list.
    tags: Range<usize>,
    /// The account and amount text as written (without status mark or comment): the id hash covers these.
    account_text: &'t str,
    amount_text: &'t str,
}

/// Buffers reused from one block to the next within a chunk.
#[derive(Default)]
struct Scratch<'t> {
    postings: Vec<ParsedPosting<'t>>,
    tags: Vec<TagRec>,
}

impl<'t> BlockCtx<'t> {
    /// Parses one entry block and appends it to `out` (nothing is appended on error).
    fn parse(
        &self,
        out: &mut Chunk,
        accounts: &mut LocalNames<'t>,
        commodities: &mut LocalNames<'t>,
        scratch: &mut Scratch<'t>,
    ) -> Result<(), ParseError> {
        let b = self.block;
        let text = self.text;
        let mut lines = LineIter {
            text,
            pos: b.start,
            end: b.end,
            line: b.line,
        };
        let Some((hstart, header, hline)) = lines.next() else {
            return Ok(());
        };
        if b.kind != EntryKind::Regular {
            out.entries.push(Entry {
                file: b.file,
                span: (b.start as u32, b.end as u32),
                line: b.line,
                date: NaiveDate::default(),
                status: Status::Unmarked,
                code: (0, 0),
                description: (0, 0),
                payee_end: 0,
                postings: 0..0,
                tags: 0..0,
                hash: 0,
                kind: b.kind,
            });
            return Ok(());
        }
        let mut hasher = xxhash_rust::xxh3::Xxh3::new();
        let h = header.as_bytes();
        // Date.
        let date_end = h
            .iter()
            .position(|c| *c == b' ' || *c == b'\t' || *c == b';')
            .unwrap_or(h.len());
        let date_text = &header[..date_end];
        let (primary, secondary) = match date_text.split_once('=') {
            Some((p, s)) => (p, Some(s)),
            None => (date_text, None),
        };
        let date = self.parse_date(primary).map_err(|m| (hline, 1, m))?;
        if let Some(s) = secondary {
            self.parse_date(s)
                .map_err(|m| (hline, primary.len() + 2, format!("secondary date: {m}")))?;
        }
        hasher.update(primary.as_bytes());
        let mut i = skip_ws(h, date_end);
        // Status.
        let mut status = Status::Unmarked;
        if i < h.len() && (h[i] == b'*' || h[i] == b'!') {
            status = if h[i] == b'*' {
                Status::Cleared
            } else {
                Status::Pending
            };
            i = skip_ws(h, i + 1);
        }
        // Code.
        let mut code: Span = (0, 0);
        if i < h.len() && h[i] == b'(' {
            match header[i..].find(')') {
                Some(close) => {
                    code = ((hstart + i + 1) as u32, (hstart + i + close) as u32);
                    hasher.update(&h[i..=i + close]);
                    i = skip_ws(h, i + close + 1);
                }
                None => {
                    return Err((
                        hline,
                        column_of(header, i),
                        "unclosed ( in transaction code".into(),
                    ));
                }
            }
        }
        // Description up to the comment.
        let comment_at = memchr::memchr(b';', &h[i..]).map(|k| i + k);
        let desc_end = comment_at.unwrap_or(h.len());
        let description = header[i..desc_end].trim_end();
        let dstart = hstart + i;
        let dend = dstart + description.len();
        let payee_end = match memchr::memchr(b'|', description.as_bytes()) {
            Some(k) => dstart + k,
            None => dend,
        };
        hasher.update(b"\x1f");
        hasher.update(description.as_bytes());
        let tags_start = out.tags.len() as u32;
        if let Some(c) = comment_at {
            scan_tags(header, c + 1, hstart, &mut out.tags);
        }
        // Postings and comment lines.
        scratch.postings.clear();
        scratch.tags.clear();
        let postings = &mut scratch.postings;
        let ptags = &mut scratch.tags;
        for (lstart, line, lno) in lines.by_ref() {
            let trimmed = line.trim_start();
            let indent = line.len() - trimmed.len();
            if trimmed.starts_with(';') || trimmed.starts_with('#') {
                match postings.last_mut() {
                    Some(p) => {
                        // A comment line under a posting: its tags belong to that posting (the last in the list).
                        scan_tags(line, indent + 1, lstart, ptags);
                        p.tags.end = ptags.len();
                    }
                    None => scan_tags(line, indent + 1, lstart, &mut out.tags),
                }
                continue;
            }
            if trimmed.is_empty() {
                continue;
            }
            let p = self
                .parse_posting(line, indent, lstart, ptags)
                .map_err(|(col, m)| (lno, col, m))?;
            hasher.update(b"\x1e");
            hasher.update(p.account_text.as_bytes());
            hasher.update(b"\x1f");
            hasher.update(p.amount_text.as_bytes());
            postings.push(p);
        }
        let tags_end = out.tags.len() as u32;
        // Balance: infer the elided amount per group; assignments wait for pass 3.
        let entry_index = out.entries.len() as u32;
        let has_assignment = postings
            .iter()
            .any(|p| p.assignment.is_some() && p.amount.is_none());
        let mut elided_index = None;
        if !has_assignment {
            self.balance(postings, hline)?;
        }
        let pstart = out.postings.len() as u32;
        let mut assignments = Vec::new();
        for p in postings.iter() {
            let mut push =
                |quantity: Decimal, commodity: &'t str, out: &mut Chunk, tags: &[TagRec]| {
                    let tag_start = out.tags.len() as u32;
                    out.tags.extend_from_slice(tags);
                    let account = accounts.intern(p.account.clone());
                    let commodity = commodities.intern(Cow::Borrowed(commodity));
                    let cost = match &p.cost {
                        Some(c) => {
                            out.costs
                                .push((c.quantity, commodities.intern(Cow::Borrowed(c.commodity))));
                            out.costs.len() as u32
                        }
                        None => 0,
                    };
                    out.postings.push(PostingRec {
                        account,
                        commodity,
                        quantity,
                        kind: p.kind,
                        tags: tag_start..out.tags.len() as u32,
                        cost,
                        inferred: p.amount_text.is_empty() && p.assignment.is_none(),
                    });
                };
            match (&p.amount, &p.assignment) {
                (Some(a), _) => push(a.quantity, a.commodity, out, &ptags[p.tags.clone()]),
                (None, Some(target)) => {
                    let idx = out.postings.len() as u32;
                    push(Decimal::ZERO, target.commodity, out, &ptags[p.tags.clone()]);
                    let c = commodities.intern(Cow::Borrowed(target.commodity));
                    assignments.push((idx, target.quantity, c));
                }
                (None, None) => {
                    elided_index = Some(out.postings.len() as u32);
                    push(Decimal::ZERO, "", out, &ptags[p.tags.clone()]);
                }
            }
        }
        if has_assignment {
            out.pending.push(Pending {
                entry: entry_index,
                assignments,
                elided: elided_index,
            });
        }
        out.entries.push(Entry {
            file: b.file,
            span: (b.start as u32, b.end as u32),
            line: b.line,
            date,
            status,
            code,
            description: (dstart as u32, dend as u32),
            payee_end: payee_end as u32,
            postings: pstart..out.postings.len() as u32,
            tags: tags_start..tags_end,
            hash: hasher.digest(),
            kind: EntryKind::Regular,
        });
        Ok(())
    }

    fn parse_date(&self, s: &str) -> Result<NaiveDate, String> {
        // Fast path: YYYY-MM-DD with any one of the separators.
        let b = s.as_bytes();
        if b.len() == 10 && b[4] == b[7] && matches!(b[4], b'-' | b'/' | b'.') {
            let d = |r: std::ops::Range<usize>| -> Option<u32> {
                b[r].iter().try_fold(0u32, |acc, c| {
                    c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
                })
            };
            if let (Some(y), Some(m), Some(day)) = (d(0..4), d(5..7), d(8..10)) {
                return NaiveDate::from_ymd_opt(y as i32, m, day)
                    .ok_or_else(|| format!("{s:?} is not a valid date"));
            }
        }
        let parts: Vec<&str> = s.split(['-', '/', '.']).collect();
        let num = |p: &str| -> Result<u32, String> {
            if p.is_empty() || p.len() > 4 || !p.bytes().all(|c| c.is_ascii_digit()) {
                Err(format!("{s:?} is not a date (expected YYYY-MM-DD)"))
            } else {
                p.parse::<u32>().map_err(|e| e.to_string())
            }
        };
        let (y, m, d) = match parts.as_slice() {
            [y, m, d] => (num(y)? as i32, num(m)?, num(d)?),
            [m, d] => (
                self.state.year.unwrap_or(self.default_year),
                num(m)?,
                num(d)?,
            ),
            _ => return Err(format!("{s:?} is not a date (expected YYYY-MM-DD)")),
        };
        NaiveDate::from_ymd_opt(y, m, d).ok_or_else(|| format!("{s:?} is not a valid date"))
    }

    /// An amount, with the `D` directive's commodity when none is written.
    fn amount(&self, s: &'t str) -> Result<(RawAmount<'t>, usize), (usize, String)> {
        let (mut a, used) = parse_amount(s, self.state)?;
        if a.commodity.is_empty()
            && let Some(d) = &self.state.default_commodity
        {
            a.commodity = d.as_str();
        }
        Ok((a, used))
    }

    fn parse_posting(
        &self,
        line: &'t str,
        indent: usize,
        line_start: usize,
        tags: &mut Vec<TagRec>,
    ) -> Result<ParsedPosting<'t>, (usize, String)> {
        let b = line.as_bytes();
        let mut i = indent;
        if i < b.len() && (b[i] == b'*' || b[i] == b'!') {
            i = skip_ws(b, i + 1);
        }
        let acct_start = i;
        // The account ends at two blanks in a row (spaces or tabs, as hledger 1.25 reads it) or the end of the line.
        let blank = |c: u8| c == b' ' || c == b'\t';
        let mut end = i;
        while end < b.len() {
            if blank(b[end]) && b.get(end + 1).is_some_and(|&c| blank(c)) {
                break;
            }
            end += 1;
        }
        let mut written = line[acct_start..end].trim_end();
        if let Some(semi) = memchr::memchr(b';', written.as_bytes()) {
            // `account ; comment` with a single space: the comment is not part of the name.
            if written[..semi].ends_with(' ') {
                written = written[..semi].trim_end();
                end = acct_start + semi;
            }
        }
        if written.is_empty() {
            return Err((
                column_of(line, acct_start),
                "posting has no account name".into(),
            ));
        }
        let (name, kind) =
            if written.starts_with('(') && written.ends_with(')') && written.len() > 2 {
                (&written[1..written.len() - 1], PostingKind::Virtual)
            } else if written.starts_with('[') && written.ends_with(']') && written.len() > 2 {
                (&written[1..written.len() - 1], PostingKind::BalancedVirtual)
            } else {
                (written, PostingKind::Real)
            };
        let account = self.state.account_name(name);
        let mut p = ParsedPosting {
            account,
            kind,
            amount: None,
            cost: None,
            assignment: None,
            tags: tags.len()..tags.len(),
            account_text: written,
            amount_text: "",
        };
        let mut i = skip_ws(b, end);
        let amount_start = i;
        let col = |i: usize| column_of(line, i);
        if i < b.len() && b[i] != b';' && b[i] != b'=' {
            if b[i] == b'(' {
                return Err((
                    col(i),
                    "amount expressions in parentheses are not supported".into(),
                ));
            }
            let (a, used) = self
                .amount(&line[i..])
                .map_err(|(off, m)| (col(i + off), m))?;
            p.amount = Some(a);
            i = skip_ws(b, i + used);
            // Lot price `{...}` / `{{...}}` and lot date `[...]` after an amount: read and ignored, as hledger does.
            for (open, close) in [(b'{', b'}'), (b'[', b']')] {
                if i < b.len() && b[i] == open {
                    let Some(k) = memchr::memchr(close, &b[i..]) else {
                        return Err((col(i), format!("unclosed {}", open as char)));
                    };
                    let mut end = i + k + 1;
                    if open == b'{' && b.get(end) == Some(&b'}') {
                        end += 1;
                    }
                    i = skip_ws(b, end);
                }
            }
            if i < b.len() && b[i] == b'@' {
                let total = b.get(i + 1) == Some(&b'@');
                let start = if total { i + 2 } else { i + 1 };
                let (c, used) = self
                    .amount(&line[start..])
                    .map_err(|(off, m)| (col(start + off), format!("cost: {m}")))?;
                let unit = c.quantity.abs();
                let amount_q = a.quantity;
                let total_cost = if total { unit } else { unit * amount_q.abs() };
                let signed = if amount_q.is_sign_negative() {
                    -total_cost
                } else {
                    total_cost
                };
                p.cost = Some(RawAmount {
                    quantity: signed,
                    commodity: c.commodity,
                });
                i = skip_ws(b, start + used);
            }
        }
        if i < b.len() && b[i] == b'=' {
            let mut start = i + 1;
            if b.get(start) == Some(&b'=') {
                start += 1;
            }
            if b.get(start) == Some(&b'*') {
                start += 1;
            }
            let (a, used) = self
                .amount(&line[start..])
                .map_err(|(off, m)| (col(start + off), format!("balance assertion: {m}")))?;
            if p.amount.is_none() {
                p.assignment = Some(a);
            }
            i = skip_ws(b, start + used);
        }
        p.amount_text = line[amount_start..i].trim_end();
        if i < b.len() {
            if b[i] == b';' {
                scan_tags(line, i + 1, line_start, tags);
                p.tags.end = tags.len();
            } else {
                return Err((
                    col(i),
                    format!("unexpected text {:?} after the amount", &line[i..]),
                ));
            }
        }
        Ok(p)
    }

    /// Infers the one elided amount per group (real, balanced-virtual) and checks that each group balances.
    fn balance(&self, postings: &mut Vec<ParsedPosting<'t>>, hline: u32) -> Result<(), ParseError> {
        for group in [PostingKind::Real, PostingKind::BalancedVirtual] {
            let mut residual: Vec<(&'t str, Decimal)> = Vec::new();
            let mut elided: Option<usize> = None;
            let mut any_cost = false;
            for (k, p) in postings.iter().enumerate() {
                if p.kind != group {
                    continue;
                }
                match (&p.amount, &p.cost) {
                    (Some(_), Some(c)) => {
                        any_cost = true;
                        add_residual(&mut residual, c.commodity, c.quantity);
                    }
                    (Some(a), None) => add_residual(&mut residual, a.commodity, a.quantity),
                    (None, _) => {
                        if elided.is_some() {
                            return Err((
                                hline,
                                1,
                                "more than one posting without an amount".into(),
                            ));
                        }
                        elided = Some(k);
                    }
                }
            }
            residual.retain(|(_, q)| !q.is_zero());
            match elided {
                Some(k) => {
                    if residual.is_empty() {
                        postings[k].amount = Some(RawAmount {
                            quantity: Decimal::ZERO,
                            commodity: "",
                        });
                    } else {
                        let (c0, q0) = residual[0];
                        postings[k].amount = Some(RawAmount {
                            quantity: -q0,
                            commodity: c0,
                        });
                        // More commodities: the elided posting takes one amount each, as hledger does.
                        for &(c, q) in &residual[1..] {
                            let extra = ParsedPosting {
                                account: postings[k].account.clone(),
                                kind: postings[k].kind,
                                amount: Some(RawAmount {
                                    quantity: -q,
                                    commodity: c,
                                }),
                                cost: None,
                                assignment: None,
                                tags: postings[k].tags.clone(),
                                account_text: postings[k].account_text,
                                amount_text: "",
                            };
                            postings.insert(k + 1, extra);
                        }
                    }
                }
                None => {
                    if residual.len() == 1 && !any_cost {
                        let (c, q) = residual[0];
                        let what = if group == PostingKind::Real {
                            "transaction"
                        } else {
                            "balanced virtual postings"
                        };
                        let shown = crate::domain::Money::new(q, c);
                        return Err((hline, 1, format!("{what} does not balance: off by {shown}")));
                    }
                }
            }
        }
        Ok(())
    }
}

fn add_residual<'t>(residual: &mut Vec<(&'t str, Decimal)>, commodity: &'t str, q: Decimal) {
    match residual.iter_mut().find(|(c, _)| *c == commodity) {
        Some(r) => r.1 += q,
        None => residual.push((commodity, q)),
    }
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
        i += 1;
    }
    i
}

/// Finds hledger tags (`name:` or `name: value`, value up to the next comma) in `line[from..]`; spans are
/// `base + offset`, i.e. absolute in the file when `base` is the line's offset.
pub(crate) fn scan_tags(line: &str, from: usize, base: usize, out: &mut Vec<TagRec>) {
    let b = line.as_bytes();
    let mut i = from;
    let mut word_start = from;
    while i < b.len() {
        let c = b[i];
        if c == b' ' || c == b'\t' || c == b',' {
            word_start = i + 1;
            i += 1;
        } else if c == b':' {
            if i > word_start {
                let name = (base + word_start, base + i);
                let vstart = skip_ws(b, i + 1);
                let vend = line[vstart..].find(',').map_or(b.len(), |k| vstart + k);
                let value = line[vstart..vend].trim_end();
                out.push(TagRec {
                    name: (name.0 as u32, name.1 as u32),
                    value: ((base + vstart) as u32, (base + vstart + value.len()) as u32),
                });
                i = vend + 1;
                word_start = i;
            } else {
                i += 1;
                word_start = i;
            }
        } else {
            i += 1;
        }
    }
}

/// Iterates lines of a block: (absolute start offset, line without line ending, 1-based line number).
struct LineIter<'t> {
    text: &'t str,
    pos: usize,
    end: usize,
    line: u32,
}

impl<'t> Iterator for LineIter<'t> {
    type Item = (usize, &'t str, u32);
    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.end {
            return None;
        }
        let bytes = &self.text.as_bytes()[self.pos..self.end];
        let nl = memchr::memchr(b'\n', bytes);
        let mut len = nl.unwrap_or(bytes.len());
        let consumed = nl.map_or(bytes.len(), |n| n + 1);
        if len > 0 && bytes[len - 1] == b'\r' {
            len -= 1;
        }
        let start = self.pos;
        let line = &self.text[start..start + len];
        let no = self.line;
        self.pos += consumed;
        self.line += 1;
        Some((start, line, no))
    }
}

fn merge_chunk(
    j: &mut Journal,
    chunk: Chunk,
    diagnostics: &mut Vec<Diagnostic>,
    pending: &mut Vec<Pending>,
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
    pending.extend(chunk.pending.into_iter().map(|mut p| {
        p.entry += e_off;
        p.elided = p.elided.map(|x| x + p_off);
        for a in &mut p.assignments {
            a.0 += p_off;
            a.2 = com[a.2 as usize];
        }
        p
    }));
}

/// Balance assignments: walk entries in date order keeping running balances of the assigned accounts, set each
/// assigned posting to what makes the balance equal the target, then infer the entry's elided posting.
fn fill_assignments(j: &mut Journal, pending: Vec<Pending>, diagnostics: &mut Vec<Diagnostic>) {
    let assigned: HashSet<Sym> = pending
        .iter()
        .flat_map(|p| {
            p.assignments
                .iter()
                .map(|a| j.postings[a.0 as usize].account)
        })
        .collect();
    let by_entry: HashMap<u32, Pending> = pending.into_iter().map(|p| (p.entry, p)).collect();
    let mut order: Vec<u32> = (0..j.entries.len() as u32)
        .filter(|&i| j.entries[i as usize].kind == EntryKind::Regular)
        .collect();
    order.sort_by_key(|&i| (j.entries[i as usize].date, i));
    let mut running: HashMap<(Sym, Sym), Decimal> = HashMap::new();
    for i in order {
        let range = j.entries[i as usize].postings.clone();
        if let Some(p) = by_entry.get(&i) {
            for k in range.clone() {
                let rec = &j.postings[k as usize];
                if let Some(&(_, target, commodity)) = p.assignments.iter().find(|a| a.0 == k) {
                    let have = running
                        .get(&(rec.account, commodity))
                        .copied()
                        .unwrap_or_default();
                    j.postings[k as usize].quantity = target - have;
                    j.postings[k as usize].commodity = commodity;
                }
                let rec = &j.postings[k as usize];
                if assigned.contains(&rec.account) && Some(k) != p.elided {
                    *running.entry((rec.account, rec.commodity)).or_default() += rec.quantity;
                }
            }
            if let Some(e) = p.elided {
                let mut residual: Vec<(Sym, Decimal)> = Vec::new();
                let kind = j.postings[e as usize].kind;
                for k in range.clone() {
                    let rec = &j.postings[k as usize];
                    if k == e || rec.kind != kind {
                        continue;
                    }
                    let (c, q) = if rec.cost > 0 {
                        let m = &j.costs[(rec.cost - 1) as usize];
                        (
                            j.commodities.lookup(&m.commodity).unwrap_or(rec.commodity),
                            m.quantity,
                        )
                    } else {
                        (rec.commodity, rec.quantity)
                    };
                    match residual.iter_mut().find(|(rc, _)| *rc == c) {
                        Some(r) => r.1 += q,
                        None => residual.push((c, q)),
                    }
                }
                residual.retain(|(_, q)| !q.is_zero());
                if residual.len() > 1 {
                    let entry = &j.entries[i as usize];
                    diagnostics.push(Diagnostic {
                        file: j.files[entry.file as usize].path.display().to_string(),
                        line: entry.line as usize,
                        column: 1,
                        message: "balance assignment with an elided posting of several commodities is not supported"
                            .into(),
                    });
                }
                if let Some(&(c, q)) = residual.first() {
                    j.postings[e as usize].quantity = -q;
                    j.postings[e as usize].commodity = c;
                    let rec = &j.postings[e as usize];
                    if assigned.contains(&rec.account) {
                        *running.entry((rec.account, rec.commodity)).or_default() += rec.quantity;
                    }
                }
            }
        } else {
            for k in range {
                let rec = &j.postings[k as usize];
                if assigned.contains(&rec.account) {
                    *running.entry((rec.account, rec.commodity)).or_default() += rec.quantity;
                }
            }
        }
    }
}

/// Pass 3: the date order (ids are indexed lazily, on first use).
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

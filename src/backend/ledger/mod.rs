//! The in-memory ledger every local query runs on: text kept verbatim, and a compact index of its transactions. An
//! `Entry` holds byte spans into its file's text instead of copies (description, code, tags), and postings refer to
//! interned account and commodity names, so a 100 MB journal costs little more than its own text. `EntryView` presents
//! an entry to the query matcher and turns it into a domain `Transaction` on demand.
//!
//! The same index serves a server's mirror (`records` builds it from domain transactions): its one "file" is an arena
//! holding the transactions' strings, account kinds come from the server instead of hledger's naming rules, and
//! `ServerIndex` keeps what a journal does not have — the server's ids, payee and note apart from the description,
//! the server's own needs-review flag. So filtering, sums, sorting and analytics (`engine`) are one implementation
//! for files and servers.

pub mod engine;
pub mod records;

use crate::domain::{AccountKind, Money, Posting, PostingKind, Status, Tag, Transaction, TxnId};
use crate::query::{Pattern, PostingView, TxnView};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::collections::HashMap;
use std::ops::Range;
use std::path::PathBuf;

pub type Sym = u32;

/// A file of the journal, its bytes exactly as read (BOM and line endings included).
#[derive(Debug)]
pub struct SourceFile {
    pub path: PathBuf,
    pub text: String,
    pub len: u64,
    pub mtime: Option<std::time::SystemTime>,
    /// xxh3-128 of the bytes, to notice edits that keep size and mtime.
    pub hash: u128,
    /// Why tally will not rewrite this file (no write permission), if so: its transactions are read-only.
    pub read_only: Option<String>,
}

pub fn content_hash(bytes: &[u8]) -> u128 {
    xxhash_rust::xxh3::xxh3_128(bytes)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    Regular,
    /// `~ PERIOD` periodic transaction rule: kept, not applied.
    Periodic,
    /// `= QUERY` auto posting rule: kept, not applied.
    Auto,
    /// A server transaction that is gone (deleted on the server); kept until the index is rebuilt.
    Removed,
}

/// A byte span `[start, end)` into the entry's file text.
pub type Span = (u32, u32);

#[derive(Debug, Clone)]
pub struct Entry {
    pub file: u32,
    /// The whole entry: header line start to the end of its last indented line, final line ending included.
    pub span: Span,
    pub line: u32,
    pub date: NaiveDate,
    pub status: Status,
    pub code: Span,
    pub description: Span,
    /// Where the payee ends inside the description (`payee | note`); equals description end when there is no `|`.
    pub payee_end: u32,
    pub postings: Range<u32>,
    pub tags: Range<u32>,
    pub hash: u64,
    pub kind: EntryKind,
}

#[derive(Debug, Clone)]
pub struct PostingRec {
    pub account: Sym,
    pub commodity: Sym,
    pub quantity: Decimal,
    pub kind: PostingKind,
    /// Tags written on this posting: a range into `Journal::tags`.
    pub tags: Range<u32>,
    /// Index into `Journal::costs` plus one; zero when the posting has no cost.
    pub cost: u32,
    /// The amount was not written but inferred (the one elided amount): it does not set the commodity's display
    /// precision, as in hledger.
    pub inferred: bool,
}

#[derive(Debug, Clone, Copy)]
pub struct TagRec {
    pub name: Span,
    pub value: Span,
}

#[derive(Debug, Default)]
pub struct Interner {
    pub names: Vec<String>,
    map: HashMap<String, Sym>,
}

impl Interner {
    pub fn intern(&mut self, s: &str) -> Sym {
        if let Some(&id) = self.map.get(s) {
            return id;
        }
        let id = self.names.len() as Sym;
        self.names.push(s.to_string());
        self.map.insert(s.to_string(), id);
        id
    }

    pub fn get(&self, id: Sym) -> &str {
        &self.names[id as usize]
    }

    pub fn lookup(&self, s: &str) -> Option<Sym> {
        self.map.get(s).copied()
    }
}

/// Everything loaded from one journal and its includes.
#[derive(Debug, Default)]
pub struct Journal {
    pub files: Vec<SourceFile>,
    pub entries: Vec<Entry>,
    pub postings: Vec<PostingRec>,
    pub tags: Vec<TagRec>,
    pub costs: Vec<Money>,
    pub accounts: Interner,
    /// The kind of each interned account (by `Sym`), so hot paths need not classify names.
    pub account_kinds: Vec<crate::domain::AccountKind>,
    pub commodities: Interner,
    /// Regular entries, oldest first (date, then file order); listing and paging walk this.
    pub by_date: Vec<u32>,
    /// Built on first use: balances never need ids.
    pub ids: std::sync::OnceLock<IdIndex>,
    /// Set for a server's mirror: ids, payees, notes and flags as the server gives them.
    pub server: Option<ServerIndex>,
    /// The accounts that balance assertions or assignments name, each once, with whether one of them includes
    /// subaccounts (`=*`, `==*`).
    pub balance_checked: Vec<(Sym, bool)>,
}

/// What a server's transaction has that a journal entry does not, per entry (same index as `Journal::entries`).
/// Strings are spans into the arena (`files[0]`).
#[derive(Debug, Default)]
pub struct ServerIndex {
    pub rows: Vec<ServerRow>,
    pub by_id: HashMap<Box<str>, u32>,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct ServerRow {
    pub id: Span,
    pub payee: Span,
    pub note: Span,
    /// The server account (or source) the transaction belongs to, as shown.
    pub source: Span,
    /// Orders the transactions of one day as the server does (oldest first).
    pub order: Span,
    /// The server's own needs-review flag, when it has one.
    pub flag: Option<bool>,
    pub read_only: bool,
}

/// Transaction ids: `(hash, occurrence, entry index)` sorted for lookup, and the occurrence number of entries whose
/// text hash repeats (identical transactions get `-1`, `-2`, ... in file order).
#[derive(Debug, Default)]
pub struct IdIndex {
    pub sorted: Vec<(u64, u32, u32)>,
    pub repeats: HashMap<u32, u32>,
}

impl IdIndex {
    pub(crate) fn build(entries: &[Entry]) -> IdIndex {
        use rayon::prelude::*;
        let mut sorted: Vec<(u64, u32, u32)> = entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.kind == EntryKind::Regular)
            .map(|(i, e)| (e.hash, 0, i as u32))
            .collect();
        sorted.par_sort_unstable_by_key(|&(h, _, i)| (h, i));
        let mut repeats = HashMap::new();
        for k in 1..sorted.len() {
            if sorted[k].0 == sorted[k - 1].0 {
                sorted[k].1 = sorted[k - 1].1 + 1;
                repeats.insert(sorted[k].2, sorted[k].1);
            }
        }
        IdIndex { sorted, repeats }
    }
}

impl Journal {
    pub fn view(&self, index: u32) -> EntryView<'_> {
        EntryView {
            journal: self,
            entry: &self.entries[index as usize],
            index,
        }
    }

    pub fn text(&self, file: u32, span: Span) -> &str {
        &self.files[file as usize].text[span.0 as usize..span.1 as usize]
    }

    pub fn id_index(&self) -> &IdIndex {
        self.ids.get_or_init(|| IdIndex::build(&self.entries))
    }

    pub fn find(&self, id: &TxnId) -> Option<u32> {
        if let Some(server) = &self.server {
            return server.by_id.get(id.0.as_str()).copied();
        }
        let (hash, occ) = parse_id(&id.0)?;
        let ids = &self.id_index().sorted;
        ids.binary_search_by(|(h, o, _)| (*h, *o).cmp(&(hash, occ)))
            .ok()
            .map(|i| ids[i].2)
    }

    /// An account whose balance assertion or assignment, somewhere in the journal, looks at the balance of
    /// `account`: the account itself, or a parent of it asserted with `=*` or `==*`.
    pub fn balance_checked_by(&self, account: &str) -> Option<&str> {
        self.balance_checked.iter().find_map(|&(sym, inclusive)| {
            let asserted = self.accounts.get(sym);
            let parent = || {
                account
                    .strip_prefix(asserted)
                    .is_some_and(|rest| rest.starts_with(':'))
            };
            (asserted == account || inclusive && parent()).then_some(asserted)
        })
    }

    pub fn id_of(&self, index: u32) -> TxnId {
        if let Some(server) = &self.server {
            return TxnId(self.text(0, server.rows[index as usize].id).to_string());
        }
        let e = &self.entries[index as usize];
        let occurrence = self.id_index().repeats.get(&index).copied().unwrap_or(0);
        TxnId(format_id(e.hash, occurrence))
    }
}

pub fn format_id(hash: u64, occurrence: u32) -> String {
    if occurrence == 0 {
        format!("{hash:016x}")
    } else {
        format!("{hash:016x}-{occurrence}")
    }
}

pub fn parse_id(id: &str) -> Option<(u64, u32)> {
    let (h, occ) = match id.split_once('-') {
        Some((h, o)) => (h, o.parse::<u32>().ok()?),
        None => (id, 0),
    };
    if h.len() != 16 {
        return None;
    }
    Some((u64::from_str_radix(h, 16).ok()?, occ))
}

/// An entry seen through its journal: strings are slices of the file text.
#[derive(Clone, Copy)]
pub struct EntryView<'a> {
    pub journal: &'a Journal,
    pub entry: &'a Entry,
    pub index: u32,
}

impl<'a> EntryView<'a> {
    fn text(&self, span: Span) -> &'a str {
        self.journal.text(self.entry.file, span)
    }

    pub fn postings(&self) -> &'a [PostingRec] {
        let r = &self.entry.postings;
        &self.journal.postings[r.start as usize..r.end as usize]
    }

    pub fn txn_tags(&self) -> &'a [TagRec] {
        let r = &self.entry.tags;
        &self.journal.tags[r.start as usize..r.end as usize]
    }

    fn tag(&self, t: &TagRec) -> Tag {
        Tag::new(self.text(t.name), self.text(t.value))
    }

    fn server_row(&self) -> Option<&'a ServerRow> {
        self.journal
            .server
            .as_ref()
            .map(|s| &s.rows[self.index as usize])
    }

    /// Calls `f` with the name of every tag on the transaction and its postings (repeats included).
    pub fn for_each_tag_name(&self, f: &mut dyn FnMut(&'a str)) {
        for t in self.txn_tags() {
            f(self.text(t.name));
        }
        for p in self.postings() {
            for t in &self.journal.tags[p.tags.start as usize..p.tags.end as usize] {
                f(self.text(t.name));
            }
        }
    }

    /// Where the entry is: `FILE:LINE` (a server's own source for a mirrored record).
    pub fn to_source(&self) -> String {
        match self.server_row() {
            Some(row) => self.text(row.source).to_string(),
            None => {
                let file = &self.journal.files[self.entry.file as usize];
                format!("{}:{}", file.path.display(), self.entry.line)
            }
        }
    }

    /// The value of the transaction's first tag called `name`.
    pub fn tag_value(&self, name: &str) -> Option<&'a str> {
        self.txn_tags()
            .iter()
            .find(|t| self.text(t.name) == name)
            .map(|t| self.text(t.value))
    }

    pub fn account(&self, p: &PostingRec) -> &'a str {
        self.journal.accounts.get(p.account)
    }

    pub fn commodity(&self, p: &PostingRec) -> &'a str {
        self.journal.commodities.get(p.commodity)
    }

    pub fn kind(&self, p: &PostingRec) -> AccountKind {
        self.journal.account_kinds[p.account as usize]
    }

    /// The category: the first income/expense posting's account (or another non-real account); as `category_of`.
    pub fn category(&self) -> Option<&'a str> {
        let mut fallback = None;
        for p in self.postings() {
            let kind = self.kind(p);
            if kind.is_category() {
                return Some(self.account(p));
            }
            if fallback.is_none() && !kind.is_real() {
                fallback = Some(self.account(p));
            }
        }
        fallback
    }

    /// Adds the transaction's amount (see `Transaction::amount`) to `sum`.
    pub fn add_amount(&self, sum: &mut crate::domain::Balance) {
        // Same rule as `Transaction::amount`: the net of the real postings, or the first posting when that nets to
        // zero (a transfer between the holder's own accounts). The usual single-commodity case needs no allocation.
        let real = || {
            self.postings()
                .iter()
                .filter(|p| p.kind == PostingKind::Real && self.kind(p).is_real())
        };
        let mut commodity = None;
        let mut single = true;
        let mut net = Decimal::ZERO;
        for p in real() {
            match commodity {
                None => commodity = Some(p.commodity),
                Some(c) if c != p.commodity => single = false,
                Some(_) => {}
            }
            net += p.quantity;
        }
        if single {
            match commodity {
                Some(c) if !net.is_zero() => sum.add(net, self.journal.commodities.get(c)),
                _ => self.add_first(sum),
            }
            return;
        }
        let mut b = crate::domain::Balance::new();
        for p in real() {
            b.add(p.quantity, self.commodity(p));
        }
        if b.is_zero() {
            self.add_first(sum);
        } else {
            sum.merge(&b);
        }
    }

    fn add_first(&self, sum: &mut crate::domain::Balance) {
        if let Some(p) = self.postings().first() {
            sum.add(p.quantity, self.commodity(p));
        }
    }

    /// The single-commodity amount used for sorting by amount.
    pub fn sort_amount(&self) -> Decimal {
        let mut b = crate::domain::Balance::new();
        self.add_amount(&mut b);
        b.amounts().first().map(|m| m.quantity).unwrap_or_default()
    }

    pub fn id(&self) -> TxnId {
        self.journal.id_of(self.index)
    }

    /// What an edit can change (`to_transaction` without the postings' amounts and names).
    pub fn editable(&self) -> crate::backend::editable::Editable {
        let j = self.journal;
        let read_only = match self.server_row() {
            Some(row) => row.read_only,
            None => {
                self.entry.kind != EntryKind::Regular
                    || j.files[self.entry.file as usize].read_only.is_some()
            }
        };
        crate::backend::editable::Editable {
            id: self.id(),
            status: self.entry.status,
            tags: self.txn_tags().iter().map(|t| self.tag(t)).collect(),
            posting_tags: self
                .postings()
                .iter()
                .flat_map(|p| &j.tags[p.tags.start as usize..p.tags.end as usize])
                .map(|t| self.tag(t))
                .collect(),
            category: self.category().map(str::to_string),
            split: crate::backend::editable::split_of(
                self.category(),
                self.postings()
                    .iter()
                    .filter(|p| self.kind(p).is_category())
                    .map(|p| self.account(p)),
            ),
            note: TxnView::note(self).to_string(),
            read_only,
            transfer: {
                let postings = self.postings();
                postings.len() >= 2 && postings.iter().all(|p| self.kind(p).is_real())
            },
            assertions: Vec::new(),
            elided: Vec::new(),
        }
    }

    pub fn to_transaction(&self) -> Transaction {
        let j = self.journal;
        let e = self.entry;
        let postings = self
            .postings()
            .iter()
            .map(|p| {
                let account = self.account(p);
                let kind = self.kind(p);
                Posting {
                    account: account.to_string(),
                    amount: Money::new(p.quantity, self.commodity(p)),
                    cost: (p.cost > 0).then(|| j.costs[(p.cost - 1) as usize].clone()),
                    kind: p.kind,
                    account_kind: (kind != crate::domain::account_kind(account)).then_some(kind),
                    tags: j.tags[p.tags.start as usize..p.tags.end as usize]
                        .iter()
                        .map(|t| self.tag(t))
                        .collect(),
                    comment: String::new(),
                }
            })
            .collect();
        let (source, needs_review, read_only) = match self.server_row() {
            Some(row) => (self.text(row.source).to_string(), row.flag, row.read_only),
            None => {
                let file = &j.files[e.file as usize];
                (
                    self.to_source(),
                    None,
                    e.kind != EntryKind::Regular || file.read_only.is_some(),
                )
            }
        };
        Transaction {
            id: self.id(),
            date: e.date,
            status: e.status,
            description: TxnView::description(self).to_string(),
            payee: TxnView::payee(self).to_string(),
            note: TxnView::note(self).to_string(),
            code: self.text(e.code).to_string(),
            tags: self.txn_tags().iter().map(|t| self.tag(t)).collect(),
            postings,
            category: self.category().map(str::to_string),
            source,
            needs_review,
            read_only,
        }
    }
}

impl TxnView for EntryView<'_> {
    fn date(&self) -> NaiveDate {
        self.entry.date
    }
    fn status(&self) -> Status {
        self.entry.status
    }
    fn description(&self) -> &str {
        self.text(self.entry.description)
    }
    fn payee(&self) -> &str {
        if let Some(row) = self.server_row() {
            return self.text(row.payee);
        }
        self.text((self.entry.description.0, self.entry.payee_end))
            .trim_end()
    }
    fn note(&self) -> &str {
        if let Some(row) = self.server_row() {
            return self.text(row.note);
        }
        let end = self.entry.description.1;
        if self.entry.payee_end >= end {
            return "";
        }
        self.text((self.entry.payee_end + 1, end)).trim()
    }
    fn for_each_posting(&self, f: &mut dyn FnMut(PostingView<'_>) -> bool) -> bool {
        self.postings().iter().any(|p| {
            f(PostingView {
                account: self.account(p),
                quantity: p.quantity,
                commodity: self.commodity(p),
                kind: self.kind(p),
                real: p.kind == PostingKind::Real,
                account_id: Some(p.account),
            })
        })
    }
    fn any_tag(&self, f: &mut dyn FnMut(&str, &str) -> bool) -> bool {
        if self
            .txn_tags()
            .iter()
            .any(|t| f(self.text(t.name), self.text(t.value)))
        {
            return true;
        }
        self.postings().iter().any(|p| {
            self.journal.tags[p.tags.start as usize..p.tags.end as usize]
                .iter()
                .any(|t| f(self.text(t.name), self.text(t.value)))
        })
    }
    fn code(&self) -> &str {
        self.text(self.entry.code)
    }
    fn query_note(&self) -> &str {
        // hledger: a description without `|` is its own note.
        if self.server_row().is_none() && self.entry.payee_end >= self.entry.description.1 {
            return TxnView::description(self);
        }
        TxnView::note(self)
    }
    fn has_text(&self, word: &Pattern) -> bool {
        // In a journal, payee and note are parts of the description: one search covers all three.
        word.is_match(TxnView::description(self))
            || self.server_row().is_some_and(|row| {
                word.is_match(self.text(row.payee)) || word.is_match(self.text(row.note))
            })
    }

    fn needs_review(&self) -> bool {
        let review_tag = self.any_tag(&mut |n, _| n.eq_ignore_ascii_case("review"));
        let postings = self.postings();
        let transfer = postings.len() >= 2 && postings.iter().all(|p| self.kind(p).is_real());
        crate::domain::review_needed(
            self.entry.status,
            review_tag,
            self.category(),
            transfer,
            self.server_row().and_then(|row| row.flag),
        )
    }
}

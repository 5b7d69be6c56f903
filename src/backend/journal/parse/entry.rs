//! Pass 2 of reading: one entry block at a time, in parallel chunks. The block's lines are cut by `syntax` (the
//! grammar the editor uses too); here they get their meaning: dates with the year in force, account names through
//! `apply account` and aliases, amounts with the decimal marks in force, tags, the id hash. Each transaction is then
//! balanced as hledger balances it: per group (real, balanced virtual), costs converted, one elided amount inferred
//! (one amount per commodity), two commodities with no cost and opposite signs converted implicitly. What needs the
//! whole journal waits for pass 3 (`checks`): balance assignments, assertions, and a residual that may be only
//! rounding at the commodity's display precision.

use super::ParseState;
use crate::backend::Diagnostic;
use crate::backend::journal::amount::{self, AmountLex};
use crate::backend::journal::syntax::{self, BodyLine, Line};
use crate::backend::ledger::{Entry, EntryKind, PostingRec, SourceFile, Sym, TagRec};
use crate::domain::{PostingKind, Status};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::borrow::Cow;
use std::ops::Range;
use std::sync::Arc;

/// An entry block cut by pass 1: its bytes in its file, its first line, the directive state in force.
#[derive(Debug, Clone)]
pub(crate) struct Block {
    pub file: u32,
    pub start: usize,
    pub end: usize,
    pub line: u32,
    pub state: u32,
    pub kind: EntryKind,
}

/// An amount's value and commodity (borrowed from the line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RawAmount<'t> {
    pub quantity: Decimal,
    pub commodity: &'t str,
}

/// A balance assertion (`=`, `==`, `=*`, `==*`) as pass 3 checks it; posting index local to the chunk until merged.
#[derive(Debug, Clone)]
pub(crate) struct AssertionRec {
    pub posting: u32,
    pub quantity: Decimal,
    pub commodity: Sym,
    pub total: bool,
    pub inclusive: bool,
    /// Where the `=` is: file, line, 1-based column.
    pub file: u32,
    pub line: u32,
    pub column: u32,
}

/// A posting with only `= AMOUNT`: its amount is whatever makes the balance the target, found in pass 3.
#[derive(Debug, Clone)]
pub(crate) struct Assignment {
    pub posting: u32,
    pub target: Decimal,
    pub commodity: Sym,
    pub total: bool,
    pub inclusive: bool,
    /// `@ UNIT` / `@@ TOTAL` written with the target: the assigned amount gets that cost.
    pub cost: Option<(Decimal, Sym, bool)>,
}

/// An entry whose amounts depend on running balances: filled in pass 3.
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    pub entry: u32,
    pub assignments: Vec<Assignment>,
    /// Index of a posting with no amount at all, inferred after the assignments.
    pub elided: Option<u32>,
}

/// A transaction that does not balance exactly; pass 3 decides at the commodities' display precision.
#[derive(Debug, Clone)]
pub(crate) struct Unbalanced {
    pub entry: u32,
    pub group: PostingKind,
    pub residual: Vec<(Sym, Decimal)>,
}

/// What one parallel task produced; names are interned locally and remapped on merge.
#[derive(Default)]
pub(crate) struct Chunk {
    pub entries: Vec<Entry>,
    /// The directive state each entry was read with (same index as `entries`).
    pub entry_states: Vec<u32>,
    pub postings: Vec<PostingRec>,
    pub tags: Vec<TagRec>,
    pub costs: Vec<(Decimal, Sym)>,
    pub accounts: Vec<String>,
    pub commodities: Vec<String>,
    pub diagnostics: Vec<Diagnostic>,
    pub pending: Vec<Pending>,
    pub assertions: Vec<AssertionRec>,
    pub unbalanced: Vec<Unbalanced>,
}

pub(crate) struct LocalNames<'t> {
    map: rustc_hash::FxHashMap<Cow<'t, str>, Sym>,
    names: Vec<String>,
    /// The last name interned: consecutive postings often repeat an account or commodity.
    last: Option<(Cow<'t, str>, Sym)>,
}

impl<'t> LocalNames<'t> {
    pub fn new() -> Self {
        LocalNames {
            map: rustc_hash::FxHashMap::default(),
            names: Vec::new(),
            last: None,
        }
    }
    pub fn into_names(self) -> Vec<String> {
        self.names
    }

    pub fn intern(&mut self, s: Cow<'t, str>) -> Sym {
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

/// Parses a run of blocks into one chunk.
pub(crate) fn parse_chunk(
    blocks: &[Block],
    files: &[SourceFile],
    states: &[Arc<ParseState>],
    default_year: i32,
) -> Chunk {
    let mut out = Chunk::default();
    // Sized for typical entries (two or three postings) so the vectors rarely grow.
    out.entries.reserve(blocks.len());
    out.postings.reserve(blocks.len() * 3);
    let mut names = Names {
        accounts: LocalNames::new(),
        commodities: LocalNames::new(),
    };
    let mut scratch = Scratch::default();
    for b in blocks {
        let file = &files[b.file as usize];
        let ctx = BlockCtx {
            text: &file.text,
            block: b,
            state: &states[b.state as usize],
            default_year,
        };
        let before = out.entries.len();
        let parsed = ctx.parse(&mut out, &mut names, &mut scratch);
        if out.entries.len() > before {
            out.entry_states.push(b.state);
        }
        if let Err((line, column, message)) = parsed {
            out.diagnostics.push(Diagnostic {
                file: file.path.display().to_string(),
                line: line as usize,
                column,
                message,
            });
        }
    }
    out.accounts = names.accounts.names;
    out.commodities = names.commodities.names;
    out
}

/// (line, 1-based column, message).
pub(crate) type ParseError = (u32, usize, String);

pub(crate) use crate::backend::journal::syntax::column_of;

fn at_line(line: &Line<'_>, e: syntax::SyntaxError) -> ParseError {
    (line.number, column_of(line.text, e.at), e.message)
}

pub(crate) struct Names<'t> {
    pub accounts: LocalNames<'t>,
    pub commodities: LocalNames<'t>,
}

pub(crate) struct BlockCtx<'t> {
    pub text: &'t str,
    pub block: &'t Block,
    pub state: &'t ParseState,
    pub default_year: i32,
}

/// A balance assertion or assignment as written on a posting.
struct AssertionSpec<'t> {
    target: RawAmount<'t>,
    total: bool,
    inclusive: bool,
    line: u32,
    column: u32,
    cost: Option<(RawAmount<'t>, bool)>,
}

struct ParsedPosting<'t> {
    account: Cow<'t, str>,
    kind: PostingKind,
    amount: Option<RawAmount<'t>>,
    /// The total cost, signed like the amount.
    cost: Option<RawAmount<'t>>,
    assertion: Option<AssertionSpec<'t>>,
    /// This posting's tags: a range into the block's scratch tag list.
    tags: Range<usize>,
    /// The account and amount text as written (without status mark or comment): the id hash covers these.
    account_text: &'t str,
    amount_text: &'t str,
}

impl ParsedPosting<'_> {
    fn is_assignment(&self) -> bool {
        self.amount.is_none() && self.assertion.is_some()
    }
}

/// Buffers reused from one block to the next within a chunk.
#[derive(Default)]
pub(crate) struct Scratch<'t> {
    postings: Vec<ParsedPosting<'t>>,
    tags: Vec<TagRec>,
}

/// Pushes the tags of a comment (`range` of `line`) with spans absolute in the file.
fn push_tags(line: &Line<'_>, range: Range<usize>, out: &mut Vec<TagRec>) {
    let comment = &line.text[range.clone()];
    let base = (line.start + range.start) as u32;
    for t in syntax::tags(comment) {
        out.push(TagRec {
            name: (base + t.name.start as u32, base + t.name.end as u32),
            value: (base + t.value.start as u32, base + t.value.end as u32),
        });
    }
}

impl<'t> BlockCtx<'t> {
    /// Parses one entry block and appends it to `out` (nothing is appended on error).
    pub fn parse(
        &self,
        out: &mut Chunk,
        names: &mut Names<'t>,
        scratch: &mut Scratch<'t>,
    ) -> Result<(), ParseError> {
        let b = self.block;
        let mut lines = syntax::lines(self.text, b.start, b.end, b.line);
        let Some(head) = lines.next() else {
            return Ok(());
        };
        if b.kind != EntryKind::Regular {
            out.entries.push(rule_entry(b));
            return Ok(());
        }
        let h = syntax::header(head.text).map_err(|e| at_line(&head, e))?;
        let date = self
            .parse_date(&head.text[h.date.clone()])
            .map_err(|m| (head.number, 1, m))?;
        if let Some(d2) = &h.date2 {
            self.parse_date(&head.text[d2.clone()])
                .map_err(|m| (head.number, d2.start + 1, format!("secondary date: {m}")))?;
        }
        let mut hasher = xxhash_rust::xxh3::Xxh3::new();
        hasher.update(&head.text.as_bytes()[h.date.clone()]);
        if let Some(code) = &h.code {
            hasher.update(&head.text.as_bytes()[code.start - 1..code.end + 1]);
        }
        hasher.update(b"\x1f");
        hasher.update(&head.text.as_bytes()[h.description.clone()]);
        let tags_start = out.tags.len() as u32;
        if let Some(c) = &h.comment {
            push_tags(&head, c.clone(), &mut out.tags);
        }
        scratch.postings.clear();
        scratch.tags.clear();
        for line in lines {
            match syntax::body_line(line.text).map_err(|e| at_line(&line, e))? {
                BodyLine::Comment(c) => match scratch.postings.last_mut() {
                    // A comment line under a posting: its tags belong to that posting.
                    Some(p) => {
                        push_tags(&line, c, &mut scratch.tags);
                        p.tags.end = scratch.tags.len();
                    }
                    None => push_tags(&line, c, &mut out.tags),
                },
                BodyLine::Posting(sp) => {
                    let p = self
                        .posting(&line, &sp, &mut scratch.tags)
                        .map_err(|e| at_line(&line, e))?;
                    hasher.update(b"\x1e");
                    hasher.update(p.account_text.as_bytes());
                    hasher.update(b"\x1f");
                    hasher.update(p.amount_text.as_bytes());
                    scratch.postings.push(p);
                }
            }
        }
        let tags_end = out.tags.len() as u32;
        let entry_index = out.entries.len() as u32;
        let has_assignment = scratch.postings.iter().any(ParsedPosting::is_assignment);
        let mut unbalanced = Vec::new();
        if !has_assignment {
            for group in [PostingKind::Real, PostingKind::BalancedVirtual] {
                if let Some(residual) = balance(&mut scratch.postings, group, head.number)? {
                    unbalanced.push((group, residual));
                }
            }
        }
        let pstart = out.postings.len() as u32;
        let pending = self.push_postings(out, names, scratch, entry_index);
        for (group, residual) in unbalanced {
            let residual = residual
                .into_iter()
                .map(|(c, q)| (names.commodities.intern(Cow::Borrowed(c)), q))
                .collect();
            out.unbalanced.push(Unbalanced {
                entry: entry_index,
                group,
                residual,
            });
        }
        if has_assignment {
            out.pending.push(pending);
        }
        let payee_end = h.payee_end(head.text);
        let abs = |r: &Range<usize>| ((head.start + r.start) as u32, (head.start + r.end) as u32);
        out.entries.push(Entry {
            file: b.file,
            span: (b.start as u32, b.end as u32),
            line: b.line,
            date,
            status: status_of(head.text, h.status),
            code: h.code.as_ref().map_or((0, 0), abs),
            description: abs(&h.description),
            payee_end: (head.start + payee_end) as u32,
            postings: pstart..out.postings.len() as u32,
            tags: tags_start..tags_end,
            hash: hasher.digest(),
            kind: EntryKind::Regular,
        });
        Ok(())
    }

    /// Moves the block's parsed postings into the chunk; returns the entry's balance assignments (if any).
    fn push_postings(
        &self,
        out: &mut Chunk,
        names: &mut Names<'t>,
        scratch: &Scratch<'t>,
        entry: u32,
    ) -> Pending {
        let mut pending = Pending {
            entry,
            assignments: Vec::new(),
            elided: None,
        };
        for p in &scratch.postings {
            let index = out.postings.len() as u32;
            let (quantity, commodity) = match (&p.amount, &p.assertion) {
                (Some(a), _) => (a.quantity, a.commodity),
                (None, Some(s)) => (Decimal::ZERO, s.target.commodity),
                (None, None) => {
                    pending.elided = Some(index);
                    (Decimal::ZERO, "")
                }
            };
            let tag_start = out.tags.len() as u32;
            out.tags.extend_from_slice(&scratch.tags[p.tags.clone()]);
            let commodity = names.commodities.intern(Cow::Borrowed(commodity));
            let cost = match &p.cost {
                Some(c) => {
                    let sym = names.commodities.intern(Cow::Borrowed(c.commodity));
                    out.costs.push((c.quantity, sym));
                    out.costs.len() as u32
                }
                None => 0,
            };
            out.postings.push(PostingRec {
                account: names.accounts.intern(p.account.clone()),
                commodity,
                quantity,
                kind: p.kind,
                tags: tag_start..out.tags.len() as u32,
                cost,
                inferred: p.amount_text.is_empty() && p.assertion.is_none(),
            });
            if let Some(s) = &p.assertion {
                if p.amount.is_none() {
                    let cost = s.cost.map(|(c, total)| {
                        (
                            c.quantity,
                            names.commodities.intern(Cow::Borrowed(c.commodity)),
                            total,
                        )
                    });
                    pending.assignments.push(Assignment {
                        posting: index,
                        target: s.target.quantity,
                        commodity,
                        total: s.total,
                        inclusive: s.inclusive,
                        cost,
                    });
                } else {
                    out.assertions.push(AssertionRec {
                        posting: index,
                        quantity: s.target.quantity,
                        commodity: names.commodities.intern(Cow::Borrowed(s.target.commodity)),
                        total: s.total,
                        inclusive: s.inclusive,
                        file: self.block.file,
                        line: s.line,
                        column: s.column,
                    });
                }
            }
        }
        pending
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

    /// An amount's value, with the `D` directive's commodity when none is written.
    fn amount(&self, line: &'t str, lex: &AmountLex) -> Result<RawAmount<'t>, syntax::SyntaxError> {
        let quantity = amount::value(lex, line, self.state)?;
        let mut commodity = lex.commodity(line);
        if commodity.is_empty()
            && let Some(d) = &self.state.default_commodity
        {
            commodity = d.as_str();
        }
        Ok(RawAmount {
            quantity,
            commodity,
        })
    }

    /// A cost's total, signed: `@ UNIT` is the unit price times the amount; `@@ TOTAL` takes the amount's sign.
    fn cost(
        &self,
        line: &'t str,
        amount: &RawAmount<'t>,
        cost: &syntax::Cost,
    ) -> Result<RawAmount<'t>, syntax::SyntaxError> {
        let c = self.amount(line, &cost.amount)?;
        let quantity = if cost.total {
            if amount.quantity.is_sign_negative() {
                -c.quantity
            } else {
                c.quantity
            }
        } else {
            c.quantity.checked_mul(amount.quantity).ok_or_else(|| {
                syntax::SyntaxError::new(
                    cost.amount.span.start,
                    "the cost's total has more digits than tally can hold exactly (28)",
                )
            })?
        };
        Ok(RawAmount {
            quantity,
            commodity: c.commodity,
        })
    }

    fn posting(
        &self,
        line: &Line<'t>,
        sp: &syntax::Posting,
        tags: &mut Vec<TagRec>,
    ) -> Result<ParsedPosting<'t>, syntax::SyntaxError> {
        let text = line.text;
        let written = &text[sp.account.clone()];
        let bracketed =
            |o: char, c: char| written.len() > 2 && written.starts_with(o) && written.ends_with(c);
        let (name, kind) = if bracketed('(', ')') {
            (&written[1..written.len() - 1], PostingKind::Virtual)
        } else if bracketed('[', ']') {
            (&written[1..written.len() - 1], PostingKind::BalancedVirtual)
        } else {
            (written, PostingKind::Real)
        };
        let amount = sp
            .amount
            .as_ref()
            .map(|a| self.amount(text, a))
            .transpose()?;
        let cost = match (&amount, &sp.cost) {
            (Some(a), Some(c)) => Some(self.cost(text, a, c)?),
            _ => None,
        };
        let assertion = match &sp.assertion {
            Some(s) => {
                let target = self.amount(text, &s.amount)?;
                let cost = s
                    .cost
                    .as_ref()
                    .map(|c| self.amount(text, &c.amount).map(|a| (a, c.total)))
                    .transpose()?;
                Some(AssertionSpec {
                    target,
                    total: s.total,
                    inclusive: s.inclusive,
                    line: line.number,
                    column: column_of(text, s.at) as u32,
                    cost,
                })
            }
            None => None,
        };
        let start = tags.len();
        if let Some(c) = &sp.comment {
            push_tags(line, c.clone(), tags);
        }
        Ok(ParsedPosting {
            account: self.state.account_name(syntax::account_name(name)),
            kind,
            amount,
            cost,
            assertion,
            tags: start..tags.len(),
            account_text: written,
            amount_text: &text[sp.amounts.clone()],
        })
    }
}

fn status_of(line: &str, at: Option<usize>) -> Status {
    match at.map(|i| line.as_bytes()[i]) {
        Some(b'*') => Status::Cleared,
        Some(b'!') => Status::Pending,
        _ => Status::Unmarked,
    }
}

/// A periodic or auto posting rule: kept (and shown as such), not applied.
fn rule_entry(b: &Block) -> Entry {
    Entry {
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
    }
}

/// Adds `q` to the residual; `Err` when the sum has more digits than a `Decimal` holds.
fn add_residual<'t>(
    residual: &mut Vec<(&'t str, Decimal)>,
    commodity: &'t str,
    q: Decimal,
) -> Result<(), ()> {
    match residual.iter_mut().find(|(c, _)| *c == commodity) {
        Some(r) => r.1 = r.1.checked_add(q).ok_or(())?,
        None => residual.push((commodity, q)),
    }
    Ok(())
}

/// Balances one group of postings: infers the one elided amount (one amount per commodity), accepts two
/// commodities with no cost and opposite signs (an implicit conversion, as hledger does), and otherwise returns the
/// exact residual for pass 3 to judge at display precision. `None` when the group balances exactly.
fn balance<'t>(
    postings: &mut Vec<ParsedPosting<'t>>,
    group: PostingKind,
    hline: u32,
) -> Result<Option<Vec<(&'t str, Decimal)>>, ParseError> {
    let mut residual: Vec<(&'t str, Decimal)> = Vec::new();
    let mut elided: Option<usize> = None;
    let mut any_cost = false;
    let too_big = || {
        let message = "the amounts add up to more digits than tally can hold exactly (28)";
        (hline, 1, message.to_string())
    };
    for (k, p) in postings.iter().enumerate() {
        if p.kind != group {
            continue;
        }
        match (&p.amount, &p.cost) {
            (Some(_), Some(c)) => {
                any_cost = true;
                add_residual(&mut residual, c.commodity, c.quantity).map_err(|_| too_big())?;
            }
            (Some(a), None) => {
                add_residual(&mut residual, a.commodity, a.quantity).map_err(|_| too_big())?
            }
            (None, _) if elided.is_some() => {
                return Err((
                    hline,
                    1,
                    "more than one posting without an amount (remember two or more spaces between account and amount)"
                        .into(),
                ));
            }
            (None, _) => elided = Some(k),
        }
    }
    residual.retain(|(_, q)| !q.is_zero());
    let Some(k) = elided else {
        let implicit = !any_cost
            && residual.len() == 2
            && residual[0].1.is_sign_negative() != residual[1].1.is_sign_negative();
        return Ok((!residual.is_empty() && !implicit).then_some(residual));
    };
    let first = residual.first().copied().unwrap_or(("", Decimal::ZERO));
    postings[k].amount = Some(RawAmount {
        quantity: -first.1,
        commodity: first.0,
    });
    // More commodities: the elided posting takes one amount each, as hledger does.
    for (n, &(c, q)) in residual.iter().enumerate().skip(1) {
        let extra = ParsedPosting {
            account: postings[k].account.clone(),
            kind: postings[k].kind,
            amount: Some(RawAmount {
                quantity: -q,
                commodity: c,
            }),
            cost: None,
            assertion: None,
            tags: postings[k].tags.clone(),
            account_text: postings[k].account_text,
            amount_text: "",
        };
        postings.insert(k + n, extra);
    }
    Ok(None)
}

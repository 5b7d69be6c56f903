//! Pass 3 of reading: what needs the whole journal, done as hledger does it. First, transactions that did not balance
//! exactly are judged at each commodity's display precision (the most decimals its posted amounts are written with,
//! or its `commodity` directive's), rounding half to even: `3 AAPL @ $1.333` against `$-4` balances when `$` is shown
//! without decimals, and not when another entry writes `$1.000`; one that does not balance is reported and left out.
//! Then one walk in date order (file order within a date) keeps running balances of the accounts that matter, fills
//! balance assignments (`=`, `==`, `=*`, `==*`: the posting gets whatever makes the account's balance — or, with `*`,
//! the balance including subaccounts — the target; `==` also clears the other commodities), and checks every balance
//! assertion after its posting, reporting a failure at the `=`'s `FILE:LINE:COLUMN`.

use super::entry::{AssertionRec, Assignment, Pending, Unbalanced};
use crate::backend::Diagnostic;
use crate::backend::ledger::{EntryKind, Journal, PostingRec, Sym};
use crate::domain::{Money, PostingKind};
use rust_decimal::Decimal;
use std::collections::HashMap;

/// The work pass 2 left for pass 3, with indices already global.
#[derive(Default)]
pub(crate) struct Deferred {
    pub pending: Vec<Pending>,
    pub assertions: Vec<AssertionRec>,
    pub unbalanced: Vec<Unbalanced>,
}

/// Runs pass 3. `precisions` are the display precisions set by `commodity` directives.
pub(crate) fn run(
    j: &mut Journal,
    work: Deferred,
    precisions: &HashMap<String, u32>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    if !work.unbalanced.is_empty() {
        judge_unbalanced(j, &work.unbalanced, precisions, diagnostics);
    }
    let mut named: Vec<(Sym, bool)> = work
        .assertions
        .iter()
        .map(|a| (j.postings[a.posting as usize].account, a.inclusive))
        .chain(work.pending.iter().flat_map(|p| {
            p.assignments
                .iter()
                .map(|a| (j.postings[a.posting as usize].account, a.inclusive))
        }))
        .collect();
    named.sort_unstable();
    named.dedup();
    j.balance_checked = named;
    if !work.pending.is_empty() || !work.assertions.is_empty() {
        Walk::new(j, &work).run(j, work.pending, diagnostics);
    }
}

fn entry_diagnostic(j: &Journal, entry: u32, column: usize, message: String) -> Diagnostic {
    let e = &j.entries[entry as usize];
    Diagnostic {
        file: j.files[e.file as usize].path.display().to_string(),
        line: e.line as usize,
        column,
        message,
    }
}

fn judge_unbalanced(
    j: &mut Journal,
    unbalanced: &[Unbalanced],
    directives: &HashMap<String, u32>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let mut precision = vec![0u32; j.commodities.names.len()];
    for e in j.entries.iter().filter(|e| e.kind == EntryKind::Regular) {
        for p in &j.postings[e.postings.start as usize..e.postings.end as usize] {
            if !p.inferred {
                let s = &mut precision[p.commodity as usize];
                *s = (*s).max(p.quantity.scale());
            }
        }
    }
    for (name, &p) in directives {
        if let Some(c) = j.commodities.lookup(name) {
            precision[c as usize] = p;
        }
    }
    for u in unbalanced {
        let off: Vec<Money> = u
            .residual
            .iter()
            .filter(|(c, q)| !q.round_dp(precision[*c as usize]).is_zero())
            .map(|(c, q)| Money::new(*q, j.commodities.get(*c).to_string()))
            .collect();
        if off.is_empty() {
            continue;
        }
        let what = match u.group {
            PostingKind::BalancedVirtual => "balanced virtual postings do not balance",
            _ => "transaction does not balance",
        };
        let shown: Vec<String> = off.iter().map(ToString::to_string).collect();
        let message = format!("{what}: off by {}", shown.join(", "));
        diagnostics.push(entry_diagnostic(j, u.entry, 1, message));
        j.entries[u.entry as usize].kind = EntryKind::Removed;
    }
}

/// Running balances per account: one small list of (commodity, quantity) each. Sums here saturate: a journal whose
/// running balances pass 28 digits gets failed assertions, not a crash (each amount was checked when read).
type Running = Vec<Vec<(Sym, Decimal)>>;

fn add(running: &mut Running, account: Sym, commodity: Sym, q: Decimal) {
    let cell = &mut running[account as usize];
    match cell.iter_mut().find(|(c, _)| *c == commodity) {
        Some(x) => x.1 = x.1.saturating_add(q),
        None => cell.push((commodity, q)),
    }
}

/// The date-order walk over the journal's entries.
struct Walk {
    order: Vec<u32>,
    /// Assertions by posting index.
    assertions: HashMap<u32, Vec<AssertionRec>>,
    /// For each account that an inclusive assertion or assignment names: it and its subaccounts.
    families: HashMap<Sym, Vec<Sym>>,
    /// Accounts whose running balance matters.
    tracked: Vec<bool>,
    running: Running,
}

impl Walk {
    fn new(j: &Journal, work: &Deferred) -> Walk {
        let mut order: Vec<u32> = (0..j.entries.len() as u32)
            .filter(|&i| j.entries[i as usize].kind == EntryKind::Regular)
            .collect();
        order.sort_by_key(|&i| (j.entries[i as usize].date, i));
        let n = j.accounts.names.len();
        let mut tracked = vec![false; n];
        let mut families = HashMap::new();
        for &(account, inclusive) in &j.balance_checked {
            tracked[account as usize] = true;
            if inclusive && !families.contains_key(&account) {
                let name = j.accounts.get(account);
                let family: Vec<Sym> = (0..n as Sym)
                    .filter(|&s| {
                        let other = j.accounts.get(s);
                        other == name
                            || other.len() > name.len()
                                && other.starts_with(name)
                                && other.as_bytes()[name.len()] == b':'
                    })
                    .collect();
                for &s in &family {
                    tracked[s as usize] = true;
                }
                families.insert(account, family);
            }
        }
        let mut assertions: HashMap<u32, Vec<AssertionRec>> = HashMap::new();
        for a in &work.assertions {
            assertions.entry(a.posting).or_default().push(a.clone());
        }
        Walk {
            order,
            assertions,
            families,
            tracked,
            running: vec![Vec::new(); n],
        }
    }

    /// The balance an assertion or assignment on `account` looks at: its own, or with `*` its family's.
    fn balance_of(&self, account: Sym, inclusive: bool) -> Vec<(Sym, Decimal)> {
        let own = || self.running[account as usize].clone();
        if !inclusive {
            return own();
        }
        let mut sum: Vec<(Sym, Decimal)> = Vec::new();
        for &s in self.families.get(&account).map_or(&[][..], Vec::as_slice) {
            for &(c, q) in &self.running[s as usize] {
                match sum.iter_mut().find(|(sc, _)| *sc == c) {
                    Some(x) => x.1 = x.1.saturating_add(q),
                    None => sum.push((c, q)),
                }
            }
        }
        sum
    }

    fn post(&mut self, p: &PostingRec, amounts: &[(Sym, Decimal)]) {
        if self.tracked[p.account as usize] {
            for &(c, q) in amounts {
                add(&mut self.running, p.account, c, q);
            }
        }
    }

    fn run(mut self, j: &mut Journal, pending: Vec<Pending>, diagnostics: &mut Vec<Diagnostic>) {
        let mut pending: HashMap<u32, Pending> =
            pending.into_iter().map(|p| (p.entry, p)).collect();
        for i in std::mem::take(&mut self.order) {
            let range = j.entries[i as usize].postings.clone();
            match pending.remove(&i) {
                None => {
                    for k in range {
                        let p = j.postings[k as usize].clone();
                        self.post(&p, &[(p.commodity, p.quantity)]);
                        self.check(j, k, diagnostics);
                    }
                }
                Some(p) => self.fill(j, i, &p, diagnostics),
            }
        }
    }

    /// Checks the assertions on posting `k` against the running balance just after it.
    fn check(&self, j: &Journal, k: u32, diagnostics: &mut Vec<Diagnostic>) {
        let Some(list) = self.assertions.get(&k) else {
            return;
        };
        let account = j.postings[k as usize].account;
        for a in list {
            let bal = self.balance_of(account, a.inclusive);
            let got = bal
                .iter()
                .find(|(c, _)| *c == a.commodity)
                .map_or(Decimal::ZERO, |x| x.1);
            let money = |q: Decimal, c: Sym| Money::new(q, j.commodities.get(c).to_string());
            let name = j.accounts.get(account);
            let scope = if a.inclusive {
                " (with subaccounts)"
            } else {
                ""
            };
            let mut problem = (got != a.quantity).then(|| {
                format!(
                    "balance assertion failed: {name}{scope} is {} after this posting, asserted {}",
                    money(got, a.commodity),
                    money(a.quantity, a.commodity)
                )
            });
            if a.total
                && problem.is_none()
                && let Some(&(c, q)) = bal.iter().find(|(c, q)| *c != a.commodity && !q.is_zero())
            {
                problem = Some(format!(
                    "balance assertion failed: {name}{scope} also holds {} after this posting; `==` asserts only {}",
                    money(q, c),
                    money(a.quantity, a.commodity)
                ));
            }
            if let Some(message) = problem {
                diagnostics.push(Diagnostic {
                    file: j.files[a.file as usize].path.display().to_string(),
                    line: a.line as usize,
                    column: a.column as usize,
                    message,
                });
            }
        }
    }

    /// An entry with balance assignments: each assigned posting gets its amounts, then the elided posting (if any)
    /// takes what balances the entry; several commodities make several postings, as in hledger.
    fn fill(
        &mut self,
        j: &mut Journal,
        entry: u32,
        p: &Pending,
        diagnostics: &mut Vec<Diagnostic>,
    ) {
        let range = j.entries[entry as usize].postings.clone();
        let mut amounts: Vec<Vec<(Sym, Decimal)>> = Vec::with_capacity(range.len());
        for k in range.clone() {
            let rec = j.postings[k as usize].clone();
            let got = match p.assignments.iter().find(|a| a.posting == k) {
                Some(a) => self.assigned(&rec, a),
                None if Some(k) == p.elided => Vec::new(),
                None => vec![(rec.commodity, rec.quantity)],
            };
            if let Some(a) = p.assignments.iter().find(|a| a.posting == k)
                && let Some(cost) = a.cost
                && let Some(&(_, q)) = got.first()
            {
                let total = if cost.2 {
                    if q.is_sign_negative() {
                        -cost.0
                    } else {
                        cost.0
                    }
                } else {
                    cost.0.saturating_mul(q)
                };
                j.costs
                    .push(Money::new(total, j.commodities.get(cost.1).to_string()));
                j.postings[k as usize].cost = j.costs.len() as u32;
            }
            self.post(&rec, &got);
            self.check(j, k, diagnostics);
            amounts.push(got);
        }
        if let Some(e) = p.elided {
            let at = (e - range.start) as usize;
            let kind = j.postings[e as usize].kind;
            let mut residual: Vec<(Sym, Decimal)> = Vec::new();
            for (n, k) in range.clone().enumerate() {
                let rec = &j.postings[k as usize];
                if k == e || rec.kind != kind {
                    continue;
                }
                let converted = match rec.cost {
                    0 => amounts[n].clone(),
                    c => {
                        let m = &j.costs[(c - 1) as usize];
                        let sym = j.commodities.lookup(&m.commodity).unwrap_or(rec.commodity);
                        vec![(sym, m.quantity)]
                    }
                };
                for (c, q) in converted {
                    match residual.iter_mut().find(|(rc, _)| *rc == c) {
                        Some(x) => x.1 = x.1.saturating_add(q),
                        None => residual.push((c, q)),
                    }
                }
            }
            residual.retain(|(_, q)| !q.is_zero());
            amounts[at] = residual.into_iter().map(|(c, q)| (c, -q)).collect();
            let rec = j.postings[e as usize].clone();
            self.post(&rec, &amounts[at]);
        }
        write_amounts(j, entry, amounts);
    }

    fn assigned(&self, rec: &PostingRec, a: &Assignment) -> Vec<(Sym, Decimal)> {
        let bal = self.balance_of(rec.account, a.inclusive);
        let have = |c: Sym| {
            bal.iter()
                .find(|(x, _)| *x == c)
                .map_or(Decimal::ZERO, |x| x.1)
        };
        let mut out = vec![(a.commodity, a.target.saturating_sub(have(a.commodity)))];
        if a.total {
            out.extend(
                bal.iter()
                    .filter(|(c, q)| *c != a.commodity && !q.is_zero())
                    .map(|&(c, q)| (c, -q)),
            );
        }
        out
    }
}

/// Stores each posting's filled amounts: in place when each has one, else the entry's postings move to the end of
/// the posting list with one posting per commodity.
fn write_amounts(j: &mut Journal, entry: u32, amounts: Vec<Vec<(Sym, Decimal)>>) {
    let range = j.entries[entry as usize].postings.clone();
    if amounts.iter().all(|a| a.len() <= 1) {
        for (k, a) in range.zip(amounts) {
            if let Some(&(c, q)) = a.first() {
                let rec = &mut j.postings[k as usize];
                rec.commodity = c;
                rec.quantity = q;
            } else {
                j.postings[k as usize].quantity = Decimal::ZERO;
            }
        }
        return;
    }
    let start = j.postings.len() as u32;
    for (k, a) in range.zip(amounts) {
        let rec = j.postings[k as usize].clone();
        if a.is_empty() {
            j.postings.push(PostingRec {
                quantity: Decimal::ZERO,
                ..rec.clone()
            });
        }
        for (n, (c, q)) in a.into_iter().enumerate() {
            j.postings.push(PostingRec {
                commodity: c,
                quantity: q,
                cost: if n == 0 { rec.cost } else { 0 },
                ..rec.clone()
            });
        }
    }
    j.entries[entry as usize].postings = start..j.postings.len() as u32;
}

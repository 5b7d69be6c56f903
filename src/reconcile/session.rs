//! A reconciliation against a backend: `load` asks any `Backend` for the account's cleared balance on the statement
//! date (the listing's own sum, so a large ledger is never copied), its uncleared transactions up to that date, the
//! newest cleared ones and the last posting on or before the date, and runs `reconcile` on them; `apply` clears the
//! proposed transactions and, when nothing uncleared is left outside the statement, writes the statement's balance
//! as an assertion on that last posting — hledger checks an assertion against every posting up to it, cleared or
//! not, so only then does it hold. Both go in ONE `Backend::bulk_patch` with one undo entry (`ops::apply_each`). A
//! backend that cannot write assertions (a server) still gets the statuses, and the outcome says why there is no
//! assertion; there, a statement reconciled in full is remembered instead (`Backend::remember_statement`: a
//! server's mirror keeps it) and read back (`Backend::last_statement`), so the outcome says truthfully whether it was
//! kept. The CLI and the dashboard call these same two functions.
//!
//! The account is matched as `hledger bal ACCT` matches it — the account and its subaccounts, case-insensitively —
//! and with subaccounts holding the commodity the assertion includes them (`=*`).

use super::{AccountPosting, Limits, ReconcileError, Reconciliation, Statement, reconcile};
use crate::backend::{
    Backend, BackendError, Capabilities, PageRequest, PostingAssertion, SortKey, TxnPatch,
};
use crate::domain::{Account, Money, Status, Transaction, TxnId};
use crate::query::{self, Pattern, Query};

/// What `load` gathers besides the search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadOptions {
    pub limits: Limits,
    /// How many of the newest cleared transactions to list after the uncleared ones.
    pub cleared_shown: usize,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            limits: Limits::default(),
            cleared_shown: 200,
        }
    }
}

/// An account set against a statement, with what the dashboard shows and what `apply` needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    /// The account's transactions up to the statement date: the uncleared ones (oldest first), then the newest
    /// cleared ones (newest first, at most `LoadOptions::cleared_shown`).
    pub postings: Vec<AccountPosting>,
    pub reconciliation: Reconciliation,
    /// The last posting on or before the statement date in its commodity: where the balance assertion goes.
    pub last: Option<AccountPosting>,
    /// That posting's own amount (written out with the assertion when the journal leaves it to be inferred).
    pub last_amount: Option<Money>,
    /// Subaccounts hold the commodity too: the assertion includes them (`=*`).
    pub inclusive: bool,
}

/// The account and its subaccounts, as a pattern the backends' queries and this module both match with.
struct Family {
    account: String,
    pattern: Pattern,
}

impl Family {
    fn new(account: &str) -> Result<Family, ReconcileError> {
        let pattern = Pattern::new(&format!("^{}(:|$)", regex::escape(account.trim())))
            .map_err(|e| invalid("account", format!("{account:?}: {e}")))?;
        Ok(Family {
            account: account.trim().to_string(),
            pattern,
        })
    }

    fn matches(&self, account: &str) -> bool {
        self.pattern.is_match(account)
    }

    /// The family's transactions on or before `date`, as query text any backend understands.
    fn query(&self, date: chrono::NaiveDate, extra: &str) -> Result<Query, ReconcileError> {
        let regex = format!("^{}(:|$)", regex::escape(&self.account));
        let quote = if regex.contains('\'') { '"' } else { '\'' };
        if regex.contains(quote) {
            return Err(invalid(
                "account",
                "a name with both kinds of quotes".into(),
            ));
        }
        let end = date.succ_opt().unwrap_or(date);
        let text = format!("acct:{quote}{regex}{quote} date:..{end} {extra}");
        query::parse(&text).map_err(|e| invalid("account", format!("{text}: {}", e.message)))
    }
}

fn invalid(param: &str, message: String) -> ReconcileError {
    ReconcileError::Backend(BackendError::Invalid {
        param: param.into(),
        message,
    })
}

/// The commodities the family holds, sorted; an unknown account is an error naming the nearest name.
fn held(family: &Family, accounts: &[Account]) -> Result<Vec<String>, ReconcileError> {
    let mine: Vec<&Account> = accounts
        .iter()
        .filter(|a| family.matches(&a.name))
        .collect();
    if mine.is_empty() {
        let suggestion = accounts
            .iter()
            .map(|a| (strsim::jaro_winkler(&a.name, &family.account), &a.name))
            .filter(|(score, _)| *score > 0.8)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, n)| n.clone());
        return Err(ReconcileError::UnknownAccount {
            account: family.account.clone(),
            suggestion,
        });
    }
    let mut held: Vec<String> = mine
        .iter()
        .flat_map(|a| a.balance.amounts().iter().map(|m| m.commodity.clone()))
        .collect();
    held.sort();
    held.dedup();
    Ok(held)
}

/// The statement with its commodity settled: a bare number takes the account's one commodity.
fn settled(statement: &Statement, held: &[String]) -> Result<Statement, ReconcileError> {
    let mut s = statement.clone();
    s.account = s.account.trim().to_string();
    if s.balance.commodity.is_empty() && !held.iter().any(String::is_empty) {
        match held {
            [one] => s.balance.commodity = one.clone(),
            _ => {
                return Err(ReconcileError::NoCommodity {
                    account: s.account,
                    held: held.to_vec(),
                });
            }
        }
    }
    if !held.contains(&s.balance.commodity) {
        return Err(ReconcileError::CommodityMismatch {
            account: s.account,
            wanted: s.balance.commodity,
            held: held.to_vec(),
        });
    }
    Ok(s)
}

/// The transaction's postings to the family in `commodity`, summed; `None` when it has none.
fn account_posting(t: &Transaction, family: &Family, commodity: &str) -> Option<AccountPosting> {
    let mine: Vec<usize> = (0..t.postings.len())
        .filter(|&k| {
            let p = &t.postings[k];
            family.matches(&p.account) && p.amount.commodity == commodity
        })
        .collect();
    let last = *mine.last()?;
    Some(AccountPosting {
        id: t.id.clone(),
        date: t.date,
        description: t.description.clone(),
        status: t.status,
        amount: Money::new(
            mine.iter().map(|&k| t.postings[k].amount.quantity).sum(),
            commodity,
        ),
        location: t.source.clone(),
        posting: last,
        account: t.postings[last].account.clone(),
    })
}

fn page(limit: usize, ascending: bool) -> PageRequest {
    PageRequest {
        offset: 0,
        limit,
        sort: SortKey::Date,
        ascending,
    }
}

/// The account's postings in `commodity` among the transactions matching `q`, in the order listed.
async fn postings_of(
    backend: &dyn Backend,
    q: &Query,
    request: PageRequest,
    (family, commodity): (&Family, &str),
) -> Result<Vec<AccountPosting>, ReconcileError> {
    let listed = backend.transactions(q, request).await?;
    Ok(listed
        .items
        .iter()
        .filter_map(|t| account_posting(t, family, commodity))
        .collect())
}

/// The last posting of the family in `commodity` among the transactions matching `q`, newest first, a page at a time,
/// with that posting's own amount.
async fn last_posting(
    backend: &dyn Backend,
    q: &Query,
    (family, commodity): (&Family, &str),
) -> Result<Option<(AccountPosting, Money)>, ReconcileError> {
    const PAGE: usize = 50;
    let mut offset = 0;
    loop {
        let request = PageRequest {
            offset,
            ..page(PAGE, false)
        };
        let listed = backend.transactions(q, request).await?;
        if let Some(found) = listed.items.iter().find_map(|t| {
            let p = account_posting(t, family, commodity)?;
            let own = t.postings.get(p.posting)?.amount.clone();
            Some((p, own))
        }) {
            return Ok(Some(found));
        }
        offset += PAGE;
        if listed.items.len() < PAGE || offset >= listed.total {
            return Ok(None);
        }
    }
}

/// Sets `statement` against the ledger behind `backend`: the account's postings up to the statement date (the
/// uncleared ones first) and the reconciliation. A statement balance without a commodity takes the account's one.
pub async fn load(
    backend: &dyn Backend,
    statement: &Statement,
    options: &LoadOptions,
) -> Result<Loaded, ReconcileError> {
    let family = Family::new(&statement.account)?;
    let accounts = backend.accounts().await?;
    let held = held(&family, &accounts)?;
    let mut statement = settled(statement, &held)?;
    // The account as the ledger names it: what an assertion or a remembered statement is filed under.
    if let Some(a) = accounts
        .iter()
        .find(|a| a.name.eq_ignore_ascii_case(&statement.account))
    {
        statement.account = a.name.clone();
    }
    let commodity = statement.balance.commodity.as_str();
    let inclusive = accounts.iter().any(|a| {
        family.matches(&a.name)
            && !a.name.eq_ignore_ascii_case(&family.account)
            && a.balance.amounts().iter().any(|m| m.commodity == commodity)
    });
    let upto = family.query(statement.date, "")?;
    let cleared_q = family.query(statement.date, "status:*")?;
    let cleared = backend.transactions(&cleared_q, page(1, false)).await?.sum;
    let cleared = Money::new(cleared.get(commodity), commodity);
    let uncleared_q = family.query(statement.date, "not:status:*")?;
    let of = (&family, commodity);
    let uncleared = postings_of(backend, &uncleared_q, page(usize::MAX, true), of).await?;
    let recent = postings_of(backend, &cleared_q, page(options.cleared_shown, false), of).await?;
    let (last, last_amount) = match last_posting(backend, &upto, of).await? {
        Some((p, own)) => (Some(p), Some(own)),
        None => (None, None),
    };
    let reconciliation = reconcile(&statement, &cleared, &uncleared, &options.limits)?;
    let mut postings = uncleared;
    postings.extend(recent);
    Ok(Loaded {
        postings,
        reconciliation,
        last,
        last_amount,
        inclusive,
    })
}

/// What `apply` will write: each transaction's patch, and where the assertion goes or why there is none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub patches: Vec<(TxnId, TxnPatch)>,
    pub assertion: Result<AccountPosting, String>,
    pub label: String,
}

/// Where the balance assertion can go, or why it cannot.
fn assertion_place(loaded: &Loaded, caps: &Capabilities) -> Result<AccountPosting, String> {
    let r = &loaded.reconciliation;
    let s = &r.statement;
    if !caps.balance_assertions {
        return Err(caps
            .reason("balance_assertions")
            .unwrap_or("this backend cannot write balance assertions")
            .to_string());
    }
    // Outstanding transactions that net to zero on the account move no balance an assertion could see.
    let blocking = r
        .outstanding
        .iter()
        .filter(|p| !p.amount.quantity.is_zero())
        .count();
    if blocking > 0 {
        return Err(format!(
            "{blocking} uncleared posting(s) on or before {} are not on the statement; hledger would count them \
             against an assertion",
            s.date
        ));
    }
    let last = loaded.last.clone().ok_or_else(|| {
        format!(
            "{} has no posting in {} on or before {}",
            s.account, s.balance.commodity, s.date
        )
    })?;
    if loaded.inclusive && !last.account.eq_ignore_ascii_case(&s.account) {
        return Err(format!(
            "the last posting on or before {} ({}) is to the subaccount {}; an assertion there would check it alone",
            s.date, last.location, last.account
        ));
    }
    Ok(last)
}

/// The write `apply` makes: the proposal cleared, and the assertion where it holds (see `assertion_place`).
/// Refused when the proposal does not close the difference exactly.
pub fn plan(loaded: &Loaded, caps: &Capabilities) -> Result<Plan, ReconcileError> {
    let r = &loaded.reconciliation;
    if !r.exact {
        return Err(ReconcileError::NotExact {
            difference: r.difference.clone(),
            why: r.why_not_exact(),
        });
    }
    let mut patches: Vec<(TxnId, TxnPatch)> = Vec::new();
    for p in &r.proposal {
        if !patches.iter().any(|(id, _)| *id == p.id) {
            let patch = TxnPatch {
                status: Some(Status::Cleared),
                ..TxnPatch::default()
            };
            patches.push((p.id.clone(), patch));
        }
    }
    let assertion = assertion_place(loaded, caps);
    if let Ok(last) = &assertion {
        let change = Box::new(PostingAssertion {
            posting: last.posting,
            account: last.account.clone(),
            balance: Some(r.statement.balance.clone()),
            inclusive: loaded.inclusive,
            amount: loaded.last_amount.clone(),
        });
        match patches.iter_mut().find(|(id, _)| *id == last.id) {
            Some((_, patch)) => patch.assertion = Some(change),
            None => patches.push((
                last.id.clone(),
                TxnPatch {
                    assertion: Some(change),
                    ..TxnPatch::default()
                },
            )),
        }
    }
    let label = format!(
        "reconcile {} to {}: {} cleared{}",
        r.statement.account,
        r.statement.date,
        r.proposal.len(),
        if assertion.is_ok() {
            ", balance asserted"
        } else {
            ""
        }
    );
    Ok(Plan {
        patches,
        assertion,
        label,
    })
}

/// What `apply` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The write, with its one undo entry.
    pub applied: crate::ops::Applied,
    /// Where the assertion was written, or why none was.
    pub assertion: Result<AccountPosting, String>,
    /// On a backend that cannot write assertions: whether the statement was remembered in its place, or why not.
    /// `None` where an assertion is the memory (a journal).
    pub remembered: Option<Result<(), String>>,
}

/// The statement is reconciled in full: the proposal closes the difference exactly, so once it is cleared the
/// cleared balance is the statement's (the difference is zero).
fn fully_reconciled(r: &Reconciliation) -> bool {
    r.exact
        && r.proposal
            .iter()
            .map(|p| p.amount.quantity)
            .sum::<rust_decimal::Decimal>()
            == r.difference.quantity
}

/// After the statuses were written with no assertion because the backend cannot write one: keeps a fully reconciled
/// statement where the backend can (a server's mirror) and reads it back, so a backend with nowhere to keep it (a
/// plain REST client) is said to have none rather than taken at its word. The write stands either way.
async fn remember(
    backend: &dyn Backend,
    caps: &Capabilities,
    r: &Reconciliation,
) -> Option<Result<(), String>> {
    if caps.balance_assertions || !fully_reconciled(r) {
        return None;
    }
    let s = &r.statement;
    if let Err(e) = backend.remember_statement(s).await {
        return Some(Err(format!("keeping it failed: {e}")));
    }
    Some(match backend.last_statement(&s.account).await {
        Ok(Some(kept))
            if kept.account.eq_ignore_ascii_case(&s.account)
                && (kept.date, &kept.balance) == (s.date, &s.balance) =>
        {
            Ok(())
        }
        Ok(_) => Err(format!("{} has nowhere to keep it", caps.label)),
        Err(e) => Err(format!("reading it back failed: {e}")),
    })
}

/// Writes `plan(loaded)` in one save; on a backend that cannot write assertions, then remembers the statement
/// (`remember`). When the backend refuses the assertion itself (the posting has no written amount, or already
/// asserts another balance), nothing was saved, and the statuses are written alone instead, the refusal given as
/// the reason there is no assertion.
pub async fn apply(backend: &dyn Backend, loaded: &Loaded) -> Result<Applied, ReconcileError> {
    let caps = backend.capabilities();
    let plan = plan(loaded, &caps)?;
    let first = crate::ops::apply_each(backend, plan.label.clone(), &plan.patches).await;
    let refused = match first {
        Ok(applied) => {
            let remembered = remember(backend, &caps, &loaded.reconciliation).await;
            return Ok(Applied {
                applied,
                assertion: plan.assertion,
                remembered,
            });
        }
        Err(e @ (BackendError::ReadOnly(..) | BackendError::Invalid { .. }))
            if plan.assertion.is_ok() =>
        {
            e
        }
        Err(e) => return Err(e.into()),
    };
    let patches: Vec<(TxnId, TxnPatch)> = plan
        .patches
        .into_iter()
        .map(|(id, mut p)| {
            p.assertion = None;
            (id, p)
        })
        .filter(|(_, p)| !p.is_empty())
        .collect();
    let label = plan.label.replace(", balance asserted", "");
    let applied = crate::ops::apply_each(backend, label, &patches).await?;
    Ok(Applied {
        applied,
        assertion: Err(format!("the backend refused it: {refused}")),
        remembered: None,
    })
}

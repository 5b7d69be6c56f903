//! Reconciling an account against a bank statement: the statement says the balance on a date, the ledger's cleared
//! postings say another, and the difference should be made of postings the bank has seen and the ledger has not yet
//! marked cleared. `reconcile` proposes the smallest set of those uncleared postings (dated on or before the
//! statement) that closes the difference exactly (`search`, in integer minor units of the statement's commodity);
//! when none does, it names the closest single posting and a likely typo (`typo`: digits transposed, a factor of
//! ten). Everything here is plain data and pure functions, no I/O; `session` gathers the postings from a backend and
//! writes the outcome (statuses cleared and a balance assertion, in one save), for the CLI and the dashboard alike.
//!
//! tally's status is per transaction, so a candidate is a transaction: its amount is the sum of its postings to the
//! account (and subaccounts, as `hledger bal ACCT` counts them) in the statement's commodity, and clearing it clears
//! all of them.

pub mod parse;
pub mod search;
pub mod session;
pub mod typo;

use crate::domain::{Money, Status, TxnId};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

pub use search::Limits;

/// What the bank says: the account's balance at the end of `date`, in one commodity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    pub account: String,
    pub date: NaiveDate,
    pub balance: Money,
}

/// One transaction's postings to the reconciled account (and its subaccounts) in the statement's commodity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountPosting {
    pub id: TxnId,
    pub date: NaiveDate,
    pub description: String,
    pub status: Status,
    /// The sum of the transaction's postings to the account in the statement's commodity.
    pub amount: Money,
    /// `FILE:LINE` of the transaction (a journal), or the server's source.
    pub location: String,
    /// The last of those postings: its index among the transaction's postings and its account (where a balance
    /// assertion goes).
    pub posting: usize,
    pub account: String,
}

/// A posting that was probably typed wrong: it reads `posting.amount`, the bank likely has `likely`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Typo {
    pub posting: AccountPosting,
    pub likely: Money,
    pub kind: typo::TypoKind,
    /// Other uncleared postings that, with the corrected one, close the difference (empty: it alone does).
    pub with: Vec<AccountPosting>,
}

/// How far the search went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchReport {
    /// Uncleared postings searched.
    pub candidates: usize,
    /// Every set of this many postings or fewer was tried.
    pub searched_up_to: usize,
    /// Not every set size was tried (the work budget or the size limit stopped it).
    pub cut: bool,
}

/// A statement set against the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reconciliation {
    pub statement: Statement,
    /// The cleared balance on the statement date, in the statement's commodity.
    pub cleared: Money,
    /// Statement balance minus cleared balance: what the proposal must add up to.
    pub difference: Money,
    /// The smallest set of uncleared postings that closes the difference exactly (empty when none does, or when
    /// there is no difference), oldest first.
    pub proposal: Vec<AccountPosting>,
    /// The proposal closes the difference exactly.
    pub exact: bool,
    pub search: SearchReport,
    /// With no exact set: the uncleared posting nearest the difference.
    pub closest: Option<AccountPosting>,
    /// With no exact set: a posting that likely was typed wrong.
    pub typo: Option<Typo>,
    /// Uncleared postings on or before the statement date left out of the proposal.
    pub outstanding: Vec<AccountPosting>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error("--account: no account named {account}{}", suggest(.suggestion))]
    UnknownAccount {
        account: String,
        suggestion: Option<String>,
    },
    #[error("--balance: {account} holds {}; give the commodity with the amount", .held.join(", "))]
    NoCommodity { account: String, held: Vec<String> },
    #[error("--balance: {account} holds {}, not {wanted}", .held.join(", "))]
    CommodityMismatch {
        account: String,
        wanted: String,
        held: Vec<String>,
    },
    #[error("--balance: amounts too large or too precise to compare exactly ({0})")]
    TooLarge(String),
    #[error(
        "no set of uncleared postings closes the difference of {difference} exactly ({why}); nothing was written"
    )]
    NotExact { difference: Money, why: String },
    #[error(transparent)]
    Backend(#[from] crate::backend::BackendError),
}

fn suggest(s: &Option<String>) -> String {
    s.as_ref()
        .map(|s| format!(" (did you mean {s}?)"))
        .unwrap_or_default()
}

/// Quantities as integers in a common number of decimals: exact sums without `Decimal` in the search's inner loop.
struct MinorUnits {
    scale: u32,
}

impl MinorUnits {
    /// The scale that writes every one of `quantities` exactly.
    fn for_all<'a>(quantities: impl Iterator<Item = &'a Decimal>) -> MinorUnits {
        let scale = quantities.map(|q| q.normalize().scale()).max().unwrap_or(0);
        MinorUnits { scale }
    }

    fn to_units(&self, q: Decimal) -> Result<i64, ReconcileError> {
        let mut m = q;
        m.rescale(self.scale);
        i64::try_from(m.mantissa())
            .ok()
            .filter(|v| v.unsigned_abs() <= 1_000_000_000_000_000)
            .ok_or_else(|| ReconcileError::TooLarge(q.to_string()))
    }

    fn to_quantity(&self, units: i64) -> Decimal {
        Decimal::new(units, self.scale)
    }
}

/// Sets the statement against the cleared balance and the uncleared postings (on or before the statement date, in
/// its commodity, oldest first; others are ignored): the proposal, the closest posting and typo when there is no
/// exact set, and what stays outstanding.
pub fn reconcile(
    statement: &Statement,
    cleared: &Money,
    uncleared: &[AccountPosting],
    limits: &Limits,
) -> Result<Reconciliation, ReconcileError> {
    let commodity = &statement.balance.commodity;
    let candidates: Vec<&AccountPosting> = uncleared
        .iter()
        .filter(|p| p.date <= statement.date && &p.amount.commodity == commodity)
        .collect();
    let units = MinorUnits::for_all(
        candidates
            .iter()
            .map(|p| &p.amount.quantity)
            .chain([&statement.balance.quantity, &cleared.quantity]),
    );
    let difference = statement.balance.quantity - cleared.quantity;
    let target = units.to_units(difference)?;
    let amounts = candidates
        .iter()
        .map(|p| units.to_units(p.amount.quantity))
        .collect::<Result<Vec<i64>, _>>()?;
    let found = with_complement(
        search::smallest_subset(&amounts, target, limits),
        &amounts,
        (target, limits),
    );
    let chosen = found.set.clone().unwrap_or_default();
    let exact = found.set.is_some();
    let pick = |i: &usize| candidates[*i].clone();
    let closest = (!exact)
        .then(|| (0..amounts.len()).min_by_key(|&i| (amounts[i].abs_diff(target), i)))
        .flatten()
        .map(|i| pick(&i));
    let typo = if exact {
        None
    } else {
        typo::likely_typo(&amounts, target).map(|t| Typo {
            posting: pick(&t.index),
            likely: Money::new(units.to_quantity(t.likely), commodity.clone()),
            kind: t.kind,
            with: t.with.iter().map(pick).collect(),
        })
    };
    Ok(Reconciliation {
        statement: statement.clone(),
        cleared: Money::new(cleared.quantity, commodity.clone()),
        difference: Money::new(difference, commodity.clone()),
        proposal: chosen.iter().map(pick).collect(),
        exact,
        search: SearchReport {
            candidates: candidates.len(),
            searched_up_to: found.searched_up_to,
            cut: found.cut,
        },
        closest,
        typo,
        outstanding: (0..candidates.len())
            .filter(|i| !chosen.contains(i))
            .map(|i| pick(&i))
            .collect(),
    })
}

/// A search cut short without a set: most of the open postings may be on the statement (a month reconciled at
/// once), and the few left off are quick to find — a small set making up the rest of the total, whose complement
/// makes up the difference. Given a quarter of the budget, so the two searches stay within the bound together.
fn with_complement(
    found: search::Found,
    amounts: &[i64],
    (target, limits): (i64, &Limits),
) -> search::Found {
    if found.set.is_some() || !found.cut {
        return found;
    }
    let Some(total) = amounts.iter().try_fold(0i64, |acc, a| acc.checked_add(*a)) else {
        return found;
    };
    let Some(rest) = total.checked_sub(target) else {
        return found;
    };
    let quarter = Limits {
        budget: limits.budget / 4,
        ..*limits
    };
    match search::smallest_subset(amounts, rest, &quarter).set {
        Some(left_off) => search::Found {
            set: Some(
                (0..amounts.len())
                    .filter(|i| !left_off.contains(i))
                    .collect(),
            ),
            ..found
        },
        None => found,
    }
}

impl Reconciliation {
    /// Why the proposal is not exact, in a few words: how far the search went.
    pub fn why_not_exact(&self) -> String {
        let s = &self.search;
        if s.candidates == 0 {
            "there are no uncleared postings on or before the statement date".into()
        } else if s.cut {
            format!(
                "no set of up to {} of the {} uncleared postings adds up to it; larger sets were not all searched",
                s.searched_up_to, s.candidates
            )
        } else {
            format!(
                "no set of the {} uncleared postings adds up to it",
                s.candidates
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn money(s: &str) -> Money {
        Money::new(Decimal::from_str(s).expect("decimal"), "$")
    }

    fn posting(day: u32, amount: &str) -> AccountPosting {
        AccountPosting {
            id: TxnId(format!("t{day}")),
            date: NaiveDate::from_ymd_opt(2025, 1, day).expect("date"),
            description: format!("day {day}"),
            status: Status::Unmarked,
            amount: money(amount),
            location: format!("f.journal:{day}"),
            posting: 0,
            account: "assets:bank".into(),
        }
    }

    fn statement(balance: &str) -> Statement {
        Statement {
            account: "assets:bank".into(),
            date: NaiveDate::from_ymd_opt(2025, 1, 30).expect("date"),
            balance: money(balance),
        }
    }

    #[test]
    fn a_month_on_the_statement_but_one_is_found_through_its_complement() {
        // 20 postings, more than the search's largest set: all but one are on the statement.
        let uncleared: Vec<AccountPosting> = (1..=20)
            .map(|d| posting(d, &format!("-{}.{:02}", 10 + d * 7 % 13, d * 37 % 100)))
            .collect();
        let total: Decimal = uncleared.iter().map(|p| p.amount.quantity).sum();
        let left_off = uncleared[6].amount.quantity;
        let balance = Decimal::from(1000) + total - left_off;
        let r = reconcile(
            &statement(&balance.to_string()),
            &money("1000"),
            &uncleared,
            &Limits::default(),
        )
        .expect("reconcile");
        assert!(r.exact);
        assert_eq!(r.proposal.len(), 19);
        assert_eq!(r.outstanding, vec![uncleared[6].clone()]);
        let sum: Decimal = r.proposal.iter().map(|p| p.amount.quantity).sum();
        assert_eq!(sum, r.difference.quantity);
    }

    #[test]
    fn proposes_the_smallest_exact_set_and_leaves_the_rest_outstanding() {
        let uncleared = [
            posting(3, "-12.50"),
            posting(5, "-40"),
            posting(9, "-2.5"),
            posting(12, "100"),
        ];
        let r = reconcile(
            &statement("945"),
            &money("1000"),
            &uncleared,
            &Limits::default(),
        )
        .expect("reconciled");
        assert_eq!(r.difference, money("-55"));
        assert!(r.exact);
        let days: Vec<u32> = r
            .proposal
            .iter()
            .map(|p| chrono::Datelike::day(&p.date))
            .collect();
        assert_eq!(days, vec![3, 5, 9]);
        assert_eq!(r.outstanding.len(), 1);
        assert!(r.typo.is_none() && r.closest.is_none());
    }

    #[test]
    fn no_exact_set_names_the_closest_and_a_typo() {
        let uncleared = [posting(3, "-20"), posting(7, "-54.00"), posting(31, "-45")];
        let r = reconcile(
            &statement("955"),
            &money("1000"),
            &uncleared,
            &Limits::default(),
        )
        .expect("reconciled");
        assert!(!r.exact && r.proposal.is_empty());
        assert_eq!(
            r.search.candidates, 2,
            "the posting after the statement date is no candidate"
        );
        assert_eq!(r.closest.as_ref().map(|p| p.id.0.as_str()), Some("t7"));
        let typo = r.typo.clone().expect("typo");
        assert_eq!(typo.posting.id.0, "t7");
        assert_eq!(typo.likely, money("-45"));
        assert_eq!(typo.kind, typo::TypoKind::Transposed);
        assert_eq!(r.outstanding.len(), 2);
        assert!(r.why_not_exact().contains("2 uncleared"));
    }

    #[test]
    fn nothing_to_find_when_the_statement_agrees() {
        let r = reconcile(
            &statement("1000.00"),
            &money("1000"),
            &[posting(2, "5")],
            &Limits::default(),
        )
        .expect("reconciled");
        assert!(r.exact && r.proposal.is_empty());
        assert_eq!(r.outstanding.len(), 1);
    }
}

//! Recurring transactions found in the history, and each account's balance projected from them. Deterministic, no
//! model: transactions are grouped by payee (case and spacing ignored) and commodity; a group is recurring when it
//! has at least `MIN_OCCURRENCES`, its gaps fit one cadence (weekly, every two weeks, monthly, quarterly, yearly)
//! for at least 3 in 4 of them, its amounts stay within a quarter of their median for at least 3 in 4 of them, and
//! it is still going (the last one no more than one and a half gaps before the newest transaction of the ledger).
//! Each recurring group keeps its evidence (the occurrences it was found from) and its typical effect on each of
//! the holder's accounts (the median of each account's postings), so a transfer moves money between two accounts
//! and a bill takes it out of one. Projections start from each account's balance and add every expected occurrence
//! month by month; "now" is the newest transaction's date, so the same ledger always projects the same way.

use crate::domain::{Account, Transaction};
use crate::query::TxnView;
use chrono::{Datelike, Days, Months, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Fewest occurrences that make a pattern.
pub const MIN_OCCURRENCES: usize = 3;
/// How many occurrences are kept as evidence.
const EVIDENCE: usize = 6;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Cadence {
    Weekly,
    Biweekly,
    /// Twice a month on about the same days (a payroll on the 1st and the 15th).
    Semimonthly,
    Monthly,
    Quarterly,
    Yearly,
}

impl Cadence {
    /// The cadence a gap of `days` fits, if any.
    fn of(days: i64) -> Option<Cadence> {
        match days {
            6..=8 => Some(Cadence::Weekly),
            13..=17 => Some(Cadence::Biweekly),
            26..=35 => Some(Cadence::Monthly),
            84..=98 => Some(Cadence::Quarterly),
            350..=380 => Some(Cadence::Yearly),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Cadence::Weekly => "weekly",
            Cadence::Biweekly => "every 2 weeks",
            Cadence::Semimonthly => "twice a month",
            Cadence::Monthly => "monthly",
            Cadence::Quarterly => "quarterly",
            Cadence::Yearly => "yearly",
        }
    }

    fn days(self) -> i64 {
        match self {
            Cadence::Weekly => 7,
            Cadence::Biweekly | Cadence::Semimonthly => 15,
            Cadence::Monthly => 30,
            Cadence::Quarterly => 91,
            Cadence::Yearly => 365,
        }
    }

    /// The date one period after `d` (months keep the day of the month, clamped to the month's end).
    pub fn after(self, d: NaiveDate) -> NaiveDate {
        let months = |n| d.checked_add_months(Months::new(n)).unwrap_or(d);
        match self {
            Cadence::Weekly => d.checked_add_days(Days::new(7)).unwrap_or(d),
            Cadence::Biweekly => d.checked_add_days(Days::new(14)).unwrap_or(d),
            // The first half of the month → the same day two weeks on; the second → as far into the next month.
            Cadence::Semimonthly if d.day() < 15 => d.checked_add_days(Days::new(14)).unwrap_or(d),
            Cadence::Semimonthly => next_month(d)
                .checked_add_days(Days::new(u64::from(d.day() - 15)))
                .unwrap_or(d),
            Cadence::Monthly => months(1),
            Cadence::Quarterly => months(3),
            Cadence::Yearly => months(12),
        }
    }
}

/// What one occurrence does to one of the holder's accounts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Effect {
    pub account: String,
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
}

/// One occurrence, as evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Occurrence {
    pub date: NaiveDate,
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
}

/// A recurring transaction found in the history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recurring {
    /// What it is called: the latest occurrence's description.
    pub payee: String,
    pub commodity: String,
    /// The typical amount from the holder's side (the median).
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    pub cadence: Cadence,
    pub occurrences: usize,
    pub last: NaiveDate,
    pub next: NaiveDate,
    /// The typical effect on each of the holder's accounts.
    pub effects: Vec<Effect>,
    /// The latest occurrences it was found from, oldest first.
    pub evidence: Vec<Occurrence>,
}

impl Recurring {
    /// "24 × about -$15.49 monthly, last 2026-11-07".
    pub fn evidence_text(&self) -> String {
        let m = crate::domain::Money::new(self.amount, self.commodity.clone());
        format!(
            "{} × about {m} {}, last {}",
            self.occurrences,
            self.cadence.name(),
            self.last
        )
    }
}

/// One account's balance now and at the end of each month ahead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Projection {
    pub account: String,
    pub commodity: String,
    #[serde(with = "rust_decimal::serde::str")]
    pub balance: Decimal,
    pub months: Vec<MonthBalance>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthBalance {
    /// The month's first day.
    pub month: NaiveDate,
    /// The balance at the month's end.
    #[serde(with = "rust_decimal::serde::str")]
    pub balance: Decimal,
}

/// Recurring transactions and the projections they give.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Projections {
    /// The newest transaction's date: where "now" is.
    pub as_of: Option<NaiveDate>,
    pub recurring: Vec<Recurring>,
    pub accounts: Vec<Projection>,
}

fn median(mut v: Vec<Decimal>) -> Decimal {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

/// What the search needs of one transaction: its date, payee and description, amount from the holder's side in its
/// first commodity, and what it did to each of the holder's accounts in that commodity.
#[derive(Debug, Clone)]
pub struct Sample {
    pub date: NaiveDate,
    pub payee: String,
    pub description: String,
    pub commodity: String,
    pub amount: Decimal,
    pub effects: Vec<(String, Decimal)>,
}

impl Sample {
    /// The sample of any transaction-like view; `None` when it moves no money.
    pub fn of<T: TxnView + ?Sized>(t: &T, amount: &crate::domain::Balance) -> Option<Sample> {
        let m = amount.non_zero().next()?;
        let payee = if t.payee().trim().is_empty() {
            t.description()
        } else {
            t.payee()
        };
        let mut effects: Vec<(String, Decimal)> = Vec::new();
        t.for_each_posting(&mut |p| {
            if p.kind.is_real() && p.commodity == m.commodity {
                match effects.iter_mut().find(|(a, _)| a == p.account) {
                    Some((_, q)) => *q += p.quantity,
                    None => effects.push((p.account.to_string(), p.quantity)),
                }
            }
            false
        });
        Some(Sample {
            date: t.date(),
            payee: payee.to_string(),
            description: t.description().to_string(),
            commodity: m.commodity.clone(),
            amount: m.quantity,
            effects,
        })
    }

    /// What groups occurrences of one recurring transaction: the description (it tells the payroll from an
    /// expense refund by the same payee), without case, digits (a bank's varying reference numbers) or extra blanks.
    fn key(&self) -> String {
        let text = if self.description.trim().is_empty() {
            &self.payee
        } else {
            &self.description
        };
        text.chars()
            .filter(|c| !c.is_ascii_digit())
            .collect::<String>()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    }
}

/// The recurring pattern in one group of samples (sorted by date), if there is one.
fn pattern(group: &[&Sample], newest: NaiveDate) -> Option<Recurring> {
    if group.len() < MIN_OCCURRENCES {
        return None;
    }
    let gaps: Vec<i64> = group
        .windows(2)
        .map(|w| (w[1].date - w[0].date).num_days())
        .collect();
    let mut sorted = gaps.clone();
    sorted.sort_unstable();
    let mut cadence = Cadence::of(sorted[sorted.len() / 2])?;
    let fitting = gaps
        .iter()
        .filter(|g| Cadence::of(**g) == Some(cadence))
        .count();
    let mut days: Vec<u32> = group.iter().map(|t| t.date.day()).collect();
    days.sort_unstable();
    days.dedup();
    if cadence == Cadence::Biweekly && days.len() <= 2 {
        cadence = Cadence::Semimonthly;
    }
    if fitting * 4 < gaps.len() * 3 {
        return None;
    }
    let commodity = group[0].commodity.as_str();
    let amounts: Vec<Decimal> = group.iter().map(|t| t.amount).collect();
    let typical = median(amounts.clone());
    let near = amounts
        .iter()
        .filter(|a| (**a - typical).abs() <= typical.abs() / Decimal::from(4))
        .count();
    if typical.is_zero() || near * 4 < amounts.len() * 3 {
        return None;
    }
    let last = group.last()?.date;
    if (newest - last).num_days() * 2 > cadence.days() * 3 {
        return None;
    }
    // What it is now: the latest occurrences decide the amount and effects (a salary that went up).
    let first = group.len().saturating_sub(EVIDENCE);
    let recent = &group[first..];
    let typical = median(recent.iter().map(|t| t.amount).collect());
    let mut per_account: BTreeMap<String, Vec<Decimal>> = BTreeMap::new();
    for t in recent {
        for (account, q) in &t.effects {
            per_account.entry(account.clone()).or_default().push(*q);
        }
    }
    let effects = per_account
        .into_iter()
        .map(|(account, v)| Effect {
            account,
            amount: median(v),
        })
        .filter(|e| !e.amount.is_zero())
        .collect();
    let latest = &group[group.len() - 1];
    Some(Recurring {
        payee: if latest.description.trim().is_empty() {
            latest.payee.clone()
        } else {
            latest.description.clone()
        },
        commodity: commodity.to_string(),
        amount: typical,
        cadence,
        occurrences: group.len(),
        last,
        next: cadence.after(last),
        effects,
        evidence: recent
            .iter()
            .map(|t| Occurrence {
                date: t.date,
                amount: t.amount,
            })
            .collect(),
    })
}

/// Every recurring pattern in `txns`, largest amounts first (then by payee).
pub fn find(txns: &[Transaction]) -> Vec<Recurring> {
    find_in(
        txns.iter()
            .filter_map(|t| Sample::of(t, &t.amount()))
            .collect(),
    )
}

/// Every recurring pattern among `samples`, largest amounts first (then by payee).
pub fn find_in(samples: Vec<Sample>) -> Vec<Recurring> {
    let Some(newest) = samples.iter().map(|t| t.date).max() else {
        return Vec::new();
    };
    let mut groups: BTreeMap<(String, String), Vec<&Sample>> = BTreeMap::new();
    for t in &samples {
        groups
            .entry((t.key(), t.commodity.clone()))
            .or_default()
            .push(t);
    }
    let mut found: Vec<Recurring> = groups
        .into_values()
        .filter_map(|mut group| {
            group.sort_by_key(|t| t.date);
            pattern(&group, newest)
        })
        .collect();
    found.sort_by(|a, b| {
        b.amount
            .abs()
            .cmp(&a.amount.abs())
            .then_with(|| a.payee.cmp(&b.payee))
    });
    found
}

/// The first day of the month after `d`'s.
fn next_month(d: NaiveDate) -> NaiveDate {
    let first = NaiveDate::from_ymd_opt(d.year(), d.month(), 1).unwrap_or(d);
    first.checked_add_months(Months::new(1)).unwrap_or(first)
}

/// Each real account's balance at the end of each of the `months` months after the newest transaction's month,
/// from its balance now plus every occurrence `recurring` expects.
pub fn project(
    accounts: &[Account],
    recurring: &[Recurring],
    as_of: NaiveDate,
    months: u32,
) -> Vec<Projection> {
    let starts: Vec<NaiveDate> =
        std::iter::successors(Some(next_month(as_of)), |m| Some(next_month(*m)))
            .take(months as usize)
            .collect();
    let mut out = Vec::new();
    for a in accounts.iter().filter(|a| a.kind.is_real()) {
        // Every commodity the account holds, or that a recurring transaction moves in or out of it.
        let mut commodities: Vec<&str> = a
            .balance
            .amounts()
            .iter()
            .map(|m| m.commodity.as_str())
            .collect();
        for r in recurring {
            if r.effects.iter().any(|e| e.account == a.name)
                && !commodities.contains(&r.commodity.as_str())
            {
                commodities.push(&r.commodity);
            }
        }
        for commodity in commodities {
            let now = a.balance.get(commodity);
            let mut balance = now;
            let mut rows = Vec::with_capacity(starts.len());
            // Occurrences after `as_of` and before the first month count in the first month.
            let mut from = as_of.succ_opt().unwrap_or(as_of);
            for start in &starts {
                let end = next_month(*start);
                for r in recurring.iter().filter(|r| r.commodity == commodity) {
                    let effect: Decimal = r
                        .effects
                        .iter()
                        .filter(|e| e.account == a.name)
                        .map(|e| e.amount)
                        .sum();
                    if effect.is_zero() {
                        continue;
                    }
                    let mut d = r.next;
                    while d < end {
                        if d >= from {
                            balance += effect;
                        }
                        let after = r.cadence.after(d);
                        if after <= d {
                            break;
                        }
                        d = after;
                    }
                }
                rows.push(MonthBalance {
                    month: *start,
                    balance,
                });
                from = end;
            }
            out.push(Projection {
                account: a.name.clone(),
                commodity: commodity.to_string(),
                balance: now,
                months: rows,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{AccountKind, Balance, Money, Posting, PostingKind, Status, TxnId};

    fn txn(date: (i32, u32, u32), payee: &str, cents: i64, from: &str, to: &str) -> Transaction {
        let p = |account: &str, q: i64| Posting {
            account: account.into(),
            amount: Money::new(Decimal::new(q, 2), "$"),
            cost: None,
            kind: PostingKind::Real,
            account_kind: None,
            tags: vec![],
            comment: String::new(),
        };
        Transaction {
            id: TxnId(format!("{payee}{date:?}")),
            date: NaiveDate::from_ymd_opt(date.0, date.1, date.2).expect("date"),
            status: Status::Cleared,
            description: payee.into(),
            payee: payee.into(),
            note: String::new(),
            code: String::new(),
            tags: vec![],
            postings: vec![p(to, cents), p(from, -cents)],
            category: None,
            source: String::new(),
            needs_review: None,
            read_only: false,
        }
    }

    fn ledger() -> Vec<Transaction> {
        let mut v = Vec::new();
        for m in 1..=10 {
            v.push(txn(
                (2026, m, 7),
                "Netflix",
                1549 + i64::from(m % 2),
                "assets:checking",
                "expenses:tv",
            ));
            v.push(txn(
                (2026, m, 2),
                "Transfer to savings",
                180000,
                "assets:checking",
                "assets:savings",
            ));
            // Groceries: irregular, no pattern.
            v.push(txn(
                (2026, m, (m * 3 % 27) + 1),
                "Safeway",
                4000 + i64::from(m) * 997,
                "assets:checking",
                "expenses:food",
            ));
        }
        // A gym cancelled in March: not going any more.
        for m in 1..=3 {
            v.push(txn(
                (2026, m, 15),
                "Gym",
                4500,
                "assets:checking",
                "expenses:gym",
            ));
        }
        v
    }

    #[test]
    fn monthly_bills_and_transfers_are_found_with_evidence_and_stale_ones_are_not() {
        let found = find(&ledger());
        let names: Vec<&str> = found.iter().map(|r| r.payee.as_str()).collect();
        assert_eq!(names, vec!["Transfer to savings", "Netflix"], "{found:#?}");
        let netflix = &found[1];
        assert_eq!(netflix.cadence, Cadence::Monthly);
        assert_eq!(netflix.occurrences, 10);
        assert_eq!(
            netflix.next,
            NaiveDate::from_ymd_opt(2026, 11, 7).expect("date")
        );
        assert_eq!(netflix.evidence.len(), 6);
        assert!(
            netflix.evidence_text().starts_with("10 × about -$15.4"),
            "{}",
            netflix.evidence_text()
        );
        let transfer = &found[0];
        assert_eq!(
            transfer.effects,
            vec![
                Effect {
                    account: "assets:checking".into(),
                    amount: Decimal::new(-180000, 2)
                },
                Effect {
                    account: "assets:savings".into(),
                    amount: Decimal::new(180000, 2)
                },
            ]
        );
    }

    #[test]
    fn projections_add_each_expected_occurrence_month_by_month() {
        let txns = ledger();
        let found = find(&txns);
        let account = |name: &str, q: i64| {
            let mut b = Balance::new();
            b.add(Decimal::new(q, 2), "$");
            Account {
                name: name.into(),
                kind: AccountKind::Asset,
                balance: b,
                id: String::new(),
            }
        };
        let accounts = [
            account("assets:checking", 1_000_000),
            account("assets:savings", 0),
        ];
        let as_of = NaiveDate::from_ymd_opt(2026, 10, 31).expect("date");
        let p = project(&accounts, &found, as_of, 2);
        let checking = &p[0];
        assert_eq!(
            checking.months[0].month,
            NaiveDate::from_ymd_opt(2026, 11, 1).expect("date")
        );
        // November: one transfer (-1800) and one Netflix (about -15.50).
        let netflix = found[1].effects[0].amount;
        assert_eq!(
            checking.months[0].balance,
            Decimal::new(1_000_000, 2) - Decimal::new(180_000, 2) + netflix
        );
        assert_eq!(
            p[1].months[1].balance,
            Decimal::new(360_000, 2),
            "savings grows by two transfers"
        );
    }
}

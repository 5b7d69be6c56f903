//! Summaries and breakdowns computed from transactions, for backends whose server cannot compute them (the journal,
//! most dialects). Everything works over `TxnView`, so the journal backend can analyse its compact records without
//! building `Transaction`s. Income and spending come from category postings, as in hledger's income statement:
//! money into `income:*` accounts is income (shown positive), money into `expenses:*` accounts is spending (positive);
//! net = income − spending, per commodity. Transfers between real accounts count as neither.

pub mod recurring;
pub mod register;
pub mod suggest;

use crate::backend::{BreakdownRow, Dimension, GroupBy, PeriodSummary};
use crate::domain::{AccountKind, Balance};
use crate::query::TxnView;
use chrono::{Datelike, Duration, NaiveDate};
use std::collections::{BTreeMap, HashMap};

/// The first day of the period that contains `d`. Weeks start on Monday.
pub fn period_start(d: NaiveDate, group_by: GroupBy) -> NaiveDate {
    match group_by {
        GroupBy::Day => d,
        GroupBy::Week => d - Duration::days(i64::from(d.weekday().num_days_from_monday())),
        GroupBy::Month => d.with_day(1).unwrap_or(d),
        GroupBy::Year => NaiveDate::from_ymd_opt(d.year(), 1, 1).unwrap_or(d),
    }
}

/// The first day of the period after the one starting at `start`.
pub fn next_period(start: NaiveDate, group_by: GroupBy) -> NaiveDate {
    match group_by {
        GroupBy::Day => start + Duration::days(1),
        GroupBy::Week => start + Duration::days(7),
        GroupBy::Month => {
            let (y, m) = if start.month() == 12 {
                (start.year() + 1, 1)
            } else {
                (start.year(), start.month() + 1)
            };
            NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(start)
        }
        GroupBy::Year => NaiveDate::from_ymd_opt(start.year() + 1, 1, 1).unwrap_or(start),
    }
}

/// Accumulates a summary one transaction at a time; `finish` fills empty periods between the first and last so a
/// sparkline's x axis is regular time.
#[derive(Debug, Default)]
pub struct SummaryBuilder {
    group_by: GroupBy,
    periods: BTreeMap<NaiveDate, (Balance, Balance, usize)>,
}

impl SummaryBuilder {
    pub fn new(group_by: GroupBy) -> Self {
        SummaryBuilder {
            group_by,
            periods: BTreeMap::new(),
        }
    }

    pub fn add<T: TxnView + ?Sized>(&mut self, t: &T) {
        let start = period_start(t.date(), self.group_by);
        let slot = self.periods.entry(start).or_default();
        slot.2 += 1;
        t.for_each_posting(&mut |p| {
            match p.kind {
                AccountKind::Income => slot.0.add(-p.quantity, p.commodity),
                AccountKind::Expense => slot.1.add(p.quantity, p.commodity),
                _ => {}
            }
            false
        });
    }

    pub fn merge(&mut self, other: SummaryBuilder) {
        for (k, (i, s, n)) in other.periods {
            let slot = self.periods.entry(k).or_default();
            slot.0.merge(&i);
            slot.1.merge(&s);
            slot.2 += n;
        }
    }

    pub fn finish(self) -> Vec<PeriodSummary> {
        let mut out = Vec::with_capacity(self.periods.len());
        let (Some(first), Some(last)) = (
            self.periods.keys().next().copied(),
            self.periods.keys().next_back().copied(),
        ) else {
            return out;
        };
        let mut periods = self.periods;
        let mut d = first;
        while d <= last {
            let (income, spending, count) = periods.remove(&d).unwrap_or_default();
            let mut net = income.clone();
            for m in spending.amounts() {
                net.add(-m.quantity, &m.commodity);
            }
            out.push(PeriodSummary {
                start: d,
                income,
                spending,
                net,
                count,
            });
            let next = next_period(d, self.group_by);
            if next <= d {
                break;
            }
            d = next;
        }
        out
    }
}

pub fn summary<'a, T: TxnView + 'a>(
    txns: impl IntoIterator<Item = &'a T>,
    group_by: GroupBy,
) -> Vec<PeriodSummary> {
    let mut b = SummaryBuilder::new(group_by);
    for t in txns {
        b.add(t);
    }
    b.finish()
}

/// Accumulates a breakdown. What a transaction contributes: for `Category` each income/expense posting under its own
/// account; for `Account` each posting to a real account; for `Tag` and `Payee` the transaction's category amounts
/// (or, with no category, its first posting) under each tag name / its payee.
#[derive(Debug, Default)]
pub struct BreakdownBuilder {
    dimension: Dimension,
    rows: HashMap<String, (Balance, usize)>,
}

impl BreakdownBuilder {
    pub fn new(dimension: Dimension) -> Self {
        BreakdownBuilder {
            dimension,
            rows: HashMap::new(),
        }
    }

    fn slot(&mut self, key: &str) -> &mut (Balance, usize) {
        if !self.rows.contains_key(key) {
            self.rows.insert(key.to_string(), Default::default());
        }
        self.rows.get_mut(key).expect("inserted above")
    }

    pub fn add<T: TxnView + ?Sized>(&mut self, t: &T) {
        match self.dimension {
            Dimension::Category | Dimension::Account => {
                // Each posting under its own account: categories (income/expense) or real accounts.
                let categories = self.dimension == Dimension::Category;
                let wanted = |kind: AccountKind| {
                    if categories {
                        kind.is_category()
                    } else {
                        kind.is_real()
                    }
                };
                let mut seen: Vec<String> = Vec::new();
                t.for_each_posting(&mut |p| {
                    if wanted(p.kind) {
                        let slot = self.slot(p.account);
                        slot.0.add(p.quantity, p.commodity);
                        if !seen.iter().any(|s| s == p.account) {
                            slot.1 += 1;
                            seen.push(p.account.to_string());
                        }
                    }
                    false
                });
            }
            Dimension::Tag | Dimension::Payee => {
                let value = txn_value(t);
                let mut keys: Vec<String> = Vec::new();
                if self.dimension == Dimension::Payee {
                    let payee = t.payee();
                    keys.push(if payee.is_empty() {
                        "(no payee)".into()
                    } else {
                        payee.to_string()
                    });
                } else {
                    t.any_tag(&mut |name, _| {
                        let name = name.to_lowercase();
                        if !keys.contains(&name) {
                            keys.push(name);
                        }
                        false
                    });
                    if keys.is_empty() {
                        keys.push("(untagged)".into());
                    }
                }
                for k in keys {
                    let slot = self.slot(&k);
                    slot.0.merge(&value);
                    slot.1 += 1;
                }
            }
        }
    }

    pub fn merge(&mut self, other: BreakdownBuilder) {
        for (k, (b, n)) in other.rows {
            let slot = self.slot(&k);
            slot.0.merge(&b);
            slot.1 += n;
        }
    }

    /// Rows, largest magnitude (of the first commodity) first, then by key.
    pub fn finish(self) -> Vec<BreakdownRow> {
        let mut rows: Vec<BreakdownRow> = self
            .rows
            .into_iter()
            .map(|(key, (total, count))| BreakdownRow { key, total, count })
            .collect();
        rows.sort_by(|a, b| {
            let mag = |r: &BreakdownRow| {
                r.total
                    .non_zero()
                    .next()
                    .map(|m| m.quantity.abs())
                    .unwrap_or_default()
            };
            mag(b).cmp(&mag(a)).then_with(|| a.key.cmp(&b.key))
        });
        rows
    }
}

/// What a transaction is worth for tag/payee breakdowns: its category postings, or its first posting.
fn txn_value<T: TxnView + ?Sized>(t: &T) -> Balance {
    let mut b = Balance::new();
    let has_category = t.for_each_posting(&mut |p| p.kind.is_category());
    let mut first = true;
    t.for_each_posting(&mut |p| {
        if (has_category && p.kind.is_category()) || (!has_category && first) {
            b.add(p.quantity, p.commodity);
        }
        first = false;
        false
    });
    b
}

pub fn breakdown<'a, T: TxnView + 'a>(
    txns: impl IntoIterator<Item = &'a T>,
    dimension: Dimension,
) -> Vec<BreakdownRow> {
    let mut b = BreakdownBuilder::new(dimension);
    for t in txns {
        b.add(t);
    }
    b.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Money, Posting, PostingKind, Status, Tag, Transaction, TxnId};
    use rust_decimal::Decimal;

    fn txn(
        date: (i32, u32, u32),
        payee: &str,
        postings: &[(&str, i64)],
        tags: &[&str],
    ) -> Transaction {
        Transaction {
            id: TxnId(payee.into()),
            date: NaiveDate::from_ymd_opt(date.0, date.1, date.2).expect("date"),
            status: Status::Cleared,
            description: payee.into(),
            payee: payee.into(),
            note: String::new(),
            code: String::new(),
            tags: tags.iter().map(|t| Tag::new(*t, "")).collect(),
            postings: postings
                .iter()
                .map(|(a, q)| Posting {
                    account: (*a).into(),
                    amount: Money::new(Decimal::new(*q, 0), "$"),
                    cost: None,
                    kind: PostingKind::Real,
                    account_kind: None,
                    tags: vec![],
                    comment: String::new(),
                })
                .collect(),
            category: None,
            source: String::new(),
            needs_review: None,
            read_only: false,
        }
    }

    fn sample() -> Vec<Transaction> {
        vec![
            txn(
                (2025, 1, 31),
                "Employer",
                &[("assets:checking", 3000), ("income:salary", -3000)],
                &[],
            ),
            txn(
                (2025, 1, 5),
                "Grocer",
                &[("expenses:food", 100), ("assets:checking", -100)],
                &["work"],
            ),
            txn(
                (2025, 3, 2),
                "Grocer",
                &[("expenses:food", 50), ("assets:checking", -50)],
                &[],
            ),
            txn(
                (2025, 3, 9),
                "Bank",
                &[("assets:savings", 500), ("assets:checking", -500)],
                &[],
            ),
        ]
    }

    #[test]
    fn monthly_summary_fills_gaps_and_splits_income_from_spending() {
        let s = summary(&sample(), GroupBy::Month);
        assert_eq!(s.len(), 3);
        assert_eq!(s[0].income.get("$"), Decimal::new(3000, 0));
        assert_eq!(s[0].spending.get("$"), Decimal::new(100, 0));
        assert_eq!(s[0].net.get("$"), Decimal::new(2900, 0));
        assert_eq!(s[1].count, 0);
        assert_eq!(s[2].spending.get("$"), Decimal::new(50, 0));
        assert_eq!(s[2].count, 2);
    }

    #[test]
    fn weeks_start_on_monday() {
        let d = NaiveDate::from_ymd_opt(2025, 3, 9).expect("date"); // a Sunday
        assert_eq!(
            period_start(d, GroupBy::Week),
            NaiveDate::from_ymd_opt(2025, 3, 3).expect("date")
        );
    }

    #[test]
    fn breakdowns() {
        let c = breakdown(&sample(), Dimension::Category);
        assert_eq!(c[0].key, "income:salary");
        assert_eq!(c[1].key, "expenses:food");
        assert_eq!(c[1].total.get("$"), Decimal::new(150, 0));
        assert_eq!(c[1].count, 2);
        let p = breakdown(&sample(), Dimension::Payee);
        let grocer = p.iter().find(|r| r.key == "Grocer").expect("grocer row");
        assert_eq!(grocer.total.get("$"), Decimal::new(150, 0));
        let t = breakdown(&sample(), Dimension::Tag);
        assert!(
            t.iter()
                .any(|r| r.key == "work" && r.total.get("$") == Decimal::new(100, 0))
        );
        let a = breakdown(&sample(), Dimension::Account);
        assert!(
            a.iter()
                .any(|r| r.key == "assets:savings" && r.total.get("$") == Decimal::new(500, 0))
        );
    }
}

//! An account register, as `hledger register ACCT` prints it: one row per posting to the accounts ACCT matches (a
//! pattern, so its subaccounts too), oldest first, each with the posting's own amount — signed from the account's
//! side — and the running balance of the rows so far. The transactions come already filtered by the query; the
//! query's posting terms (`acct:`, `amt:`, `cur:`, `real:`, `depth:`) also choose the postings, as in hledger.

use crate::domain::{Balance, Posting, PostingKind, Transaction};
use crate::query::{Pattern, Query, Term, compare};
use chrono::NaiveDate;

/// One line of a register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterRow {
    pub date: NaiveDate,
    pub description: String,
    pub account: String,
    /// The posting's amount.
    pub amount: Balance,
    /// The sum of this row's amount and every row's before it.
    pub balance: Balance,
}

/// A posting-level term's verdict on `p`; `None` for a transaction-level term (already applied).
fn posting_term(t: &Term, p: &Posting) -> Option<bool> {
    Some(match t {
        Term::Account(a) => a.is_match(&p.account),
        Term::Amount { cmp, value, signed } => {
            if *signed {
                compare(*cmp, p.amount.quantity, *value)
            } else {
                compare(*cmp, p.amount.quantity.abs(), value.abs())
            }
        }
        Term::Commodity(c) => p.amount.commodity.eq_ignore_ascii_case(c),
        Term::Real(real) => (p.kind == PostingKind::Real) == *real,
        Term::Depth(n) => p.account.split(':').count() <= *n,
        Term::Not(inner) => !posting_term(inner, p)?,
        _ => return None,
    })
}

/// Whether the posting satisfies the query's posting-level terms: any of its `acct:` terms, all of the others.
fn posting_matches(query: &Query, p: &Posting) -> bool {
    let mut account = None;
    for t in &query.terms {
        match (t, posting_term(t, p)) {
            (Term::Account(_), Some(ok)) => account = Some(account.unwrap_or(false) || ok),
            (_, Some(false)) => return false,
            _ => {}
        }
    }
    account.unwrap_or(true)
}

/// The register of the accounts `account` matches, over `txns` (already filtered by `query`, oldest first).
pub fn register(txns: &[Transaction], account: &Pattern, query: &Query) -> Vec<RegisterRow> {
    let mut balance = Balance::new();
    let mut rows = Vec::new();
    for t in txns {
        for p in &t.postings {
            if !account.is_match(&p.account) || !posting_matches(query, p) {
                continue;
            }
            let mut amount = Balance::new();
            amount.add_money(&p.amount);
            balance.add_money(&p.amount);
            rows.push(RegisterRow {
                date: t.date,
                description: t.description.clone(),
                account: p.account.clone(),
                amount,
                balance: balance.clone(),
            });
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Money, Status, TxnId};
    use rust_decimal::Decimal;

    fn posting(account: &str, cents: i64) -> Posting {
        Posting {
            account: account.into(),
            amount: Money::new(Decimal::new(cents, 2), "$"),
            cost: None,
            kind: PostingKind::Real,
            account_kind: None,
            tags: vec![],
            comment: String::new(),
        }
    }

    fn txn(day: u32, description: &str, postings: Vec<Posting>) -> Transaction {
        Transaction {
            id: TxnId(format!("t{day}")),
            date: NaiveDate::from_ymd_opt(2025, 1, day).expect("date"),
            status: Status::Unmarked,
            description: description.into(),
            payee: description.into(),
            note: String::new(),
            code: String::new(),
            tags: vec![],
            postings,
            category: None,
            source: String::new(),
            needs_review: None,
            read_only: false,
        }
    }

    #[test]
    fn rows_carry_the_accounts_own_amount_and_a_running_balance() {
        let txns = vec![
            txn(
                1,
                "Pay",
                vec![
                    posting("assets:checking", 300_000),
                    posting("income:salary", -300_000),
                ],
            ),
            txn(
                2,
                "Transfer to savings",
                vec![
                    posting("assets:savings", 180_000),
                    posting("assets:checking", -180_000),
                ],
            ),
            txn(
                3,
                "Coffee",
                vec![
                    posting("expenses:dining", 450),
                    posting("assets:checking", -450),
                ],
            ),
        ];
        let q = crate::query::parse("").expect("query");
        let rows = register(&txns, &Pattern::new("checking").expect("pattern"), &q);
        let shown: Vec<(String, String)> = rows
            .iter()
            .map(|r| (r.amount.to_string(), r.balance.to_string()))
            .collect();
        assert_eq!(
            shown,
            vec![
                ("$3000.00".to_string(), "$3000.00".to_string()),
                ("-$1800.00".to_string(), "$1200.00".to_string()),
                ("-$4.50".to_string(), "$1195.50".to_string()),
            ]
        );
        // Subaccounts and posting terms.
        let assets = register(&txns, &Pattern::new("^assets").expect("pattern"), &q);
        assert_eq!(assets.len(), 4);
        let big = crate::query::parse("amt:>1000").expect("query");
        let rows = register(&txns, &Pattern::new("^assets").expect("pattern"), &big);
        assert_eq!(rows.len(), 3, "the coffee posting is filtered out");
    }
}

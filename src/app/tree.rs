//! The accounts pane's tree, as `hledger balance --tree --depth N` shows it: every account of every kind and each of
//! its parents (`expenses` above `expenses:dining`), assets first, then liabilities, equity, income and expenses, each with its total — its own postings plus its
//! subaccounts' — per commodity; accounts deeper than the depth limit are folded into their ancestor at the limit.

use super::state::AccountRow;
use crate::domain::{Balance, account_kind};
use std::collections::BTreeMap;

/// One line of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeRow {
    /// The full account name (`expenses:dining`).
    pub name: String,
    /// 1 for a top-level account.
    pub depth: usize,
    /// Its own postings and all its subaccounts' (shown or folded).
    pub total: Balance,
    /// Subaccounts exist below this row (shown or folded).
    pub has_children: bool,
    /// Month-end balances for the sparkline, when the backend's account of this name has them.
    pub history: Vec<rust_decimal::Decimal>,
}

impl TreeRow {
    /// The last part of the name, the way the tree shows it under its parent.
    pub fn leaf(&self) -> &str {
        self.name.rsplit(':').next().unwrap_or(&self.name)
    }

    /// A query pattern for this account and its subaccounts, exactly (`^assets:checking(:|$)`).
    pub fn pattern(&self) -> String {
        format!("^{}(:|$)", regex::escape(&self.name))
    }
}

/// The deepest level among `accounts`.
pub fn max_depth(accounts: &[AccountRow]) -> usize {
    accounts
        .iter()
        .map(|a| a.account.name.split(':').count())
        .max()
        .unwrap_or(1)
}

/// The tree of `accounts` (each with its own balance) down to `depth` levels.
pub fn account_tree(accounts: &[AccountRow], depth: usize) -> Vec<TreeRow> {
    let depth = depth.max(1);
    // Keyed by the top level's kind (assets, liabilities, equity, income, expenses, as a balance sheet and income
    // statement run), then the name's parts, so `a:b` sorts right after `a` and before `a b`.
    let mut nodes: BTreeMap<(u8, Vec<String>), TreeRow> = BTreeMap::new();
    for row in accounts {
        let parts: Vec<&str> = row.account.name.split(':').collect();
        let rank = account_kind(parts[0]) as u8;
        for level in 1..=parts.len().min(depth) {
            let key = (rank, parts[..level].iter().map(|s| s.to_string()).collect());
            let node = nodes.entry(key).or_insert_with(|| TreeRow {
                name: parts[..level].join(":"),
                depth: level,
                total: Balance::new(),
                has_children: false,
                history: Vec::new(),
            });
            node.total.merge(&row.account.balance);
            node.has_children |= parts.len() > level;
            if level == parts.len() {
                node.history = row.history.clone();
            }
        }
    }
    nodes.into_values().collect()
}

/// Whether the tree row is a real account (asset or liability), whose balance is money the holder has or owes.
pub fn is_real(row: &TreeRow) -> bool {
    account_kind(&row.name).is_real()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Account;
    use rust_decimal::Decimal;

    fn row(name: &str, dollars: i64) -> AccountRow {
        let mut balance = Balance::new();
        balance.add(Decimal::new(dollars, 0), "$");
        AccountRow {
            account: Account {
                name: name.into(),
                kind: account_kind(name),
                balance,
                id: String::new(),
            },
            history: vec![],
        }
    }

    fn shown(tree: &[TreeRow]) -> Vec<(String, usize, String)> {
        tree.iter()
            .map(|r| (r.name.clone(), r.depth, r.total.to_string()))
            .collect()
    }

    #[test]
    fn parents_carry_their_subaccounts_totals_and_depth_folds() {
        let accounts = vec![
            row("liabilities:card", -9),
            row("expenses:dining", 40),
            row("assets:checking", 100),
            row("assets:checking:joint", 5),
            row("expenses:dining:coffee", 2),
            row("assets:checking account", 7),
        ];
        let full = account_tree(&accounts, 9);
        assert_eq!(
            shown(&full),
            vec![
                ("assets".into(), 1, "$112.00".into()),
                ("assets:checking".into(), 2, "$105.00".into()),
                ("assets:checking:joint".into(), 3, "$5.00".into()),
                ("assets:checking account".into(), 2, "$7.00".into()),
                ("liabilities".into(), 1, "-$9.00".into()),
                ("liabilities:card".into(), 2, "-$9.00".into()),
                ("expenses".into(), 1, "$42.00".into()),
                ("expenses:dining".into(), 2, "$42.00".into()),
                ("expenses:dining:coffee".into(), 3, "$2.00".into()),
            ]
        );
        let two = account_tree(&accounts, 2);
        assert_eq!(two.len(), 7);
        assert!(two[1].has_children, "checking still has (folded) children");
        assert_eq!(two[1].total.to_string(), "$105.00");
        assert_eq!(account_tree(&accounts, 1).len(), 3);
        assert_eq!(max_depth(&accounts), 3);
        assert_eq!(full[1].pattern(), "^assets:checking(:|$)");
        assert_eq!(full[2].leaf(), "joint");
    }
}

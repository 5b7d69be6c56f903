//! Transactions, postings, accounts, tags and status as every backend reports them. A journal transaction keeps the
//! file and line it came from so edits land in the right file; a server transaction keeps the server's id.

use super::money::{Balance, Money};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A transaction id: the server's id as given, or for a journal a hash of the transaction's own text plus an
/// occurrence counter, so it stays stable across unrelated edits of the file.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TxnId(pub String);

impl fmt::Display for TxnId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for TxnId {
    fn from(s: &str) -> Self {
        TxnId(s.to_string())
    }
}

/// Journal status marks: `""`, `!`, `*`. "Reviewed" means `Cleared` unless the server has a flag of its own.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    #[default]
    Unmarked,
    Pending,
    Cleared,
}

impl Status {
    pub fn mark(self) -> &'static str {
        match self {
            Status::Unmarked => "",
            Status::Pending => "!",
            Status::Cleared => "*",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Status::Unmarked => "unmarked",
            Status::Pending => "pending",
            Status::Cleared => "cleared",
        }
    }

    pub fn parse_name(s: &str) -> Option<Status> {
        match s.to_ascii_lowercase().as_str() {
            "unmarked" | "" => Some(Status::Unmarked),
            "pending" | "!" => Some(Status::Pending),
            "cleared" | "*" | "reviewed" => Some(Status::Cleared),
            _ => None,
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A tag as hledger writes it in a comment: `name:` or `name:value`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Tag {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub value: String,
}

impl Tag {
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Tag {
            name: name.into(),
            value: value.into(),
        }
    }

    /// Parses `name` or `name:value` (as typed on the command line or in the tag popup).
    pub fn parse(s: &str) -> Tag {
        match s.split_once(':') {
            Some((n, v)) => Tag::new(n.trim(), v.trim()),
            None => Tag::new(s.trim(), ""),
        }
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.value.is_empty() {
            f.write_str(&self.name)
        } else {
            write!(f, "{}:{}", self.name, self.value)
        }
    }
}

/// Real postings move money; `()` virtual postings need not balance; `[]` balanced-virtual postings balance among
/// themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PostingKind {
    #[default]
    Real,
    Virtual,
    BalancedVirtual,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Posting {
    pub account: String,
    pub amount: Money,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<Money>,
    #[serde(default)]
    pub kind: PostingKind,
    /// What the account is, when the backend knows better than hledger's naming rules (a server's account types and
    /// categories: "Chase Checking" is an asset, "Food & Drink" an expense). `None`: by the account's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_kind: Option<AccountKind>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<Tag>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub comment: String,
}

impl Posting {
    /// What the posting's account is: as the backend says, else by hledger's naming rules.
    pub fn account_kind(&self) -> AccountKind {
        self.account_kind
            .unwrap_or_else(|| account_kind(&self.account))
    }

    /// Money into or out of the holder's own accounts (a real posting to an asset or liability).
    fn moves_money(&self) -> bool {
        self.kind == PostingKind::Real && self.account_kind().is_real()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transaction {
    pub id: TxnId,
    pub date: NaiveDate,
    pub status: Status,
    /// The whole description as written (for a journal: everything after status and code).
    pub description: String,
    /// The payee: the part before `|` in a journal description, the merchant on a server.
    pub payee: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub code: String,
    #[serde(default)]
    pub tags: Vec<Tag>,
    pub postings: Vec<Posting>,
    /// The expense/income account (journal) or the server's category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Where the transaction came from: `FILE:LINE` for a journal, the source/account name on a server.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source: String,
    /// The server's own needs-review flag, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub needs_review: Option<bool>,
    /// True when the backend cannot edit this transaction safely (unparsed parts, generated entries).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub read_only: bool,
}

impl Transaction {
    /// A transfer between the holder's own accounts (two or more postings, all to real accounts): it needs no
    /// category to leave the review queue.
    pub fn is_transfer(&self) -> bool {
        self.postings.len() >= 2 && self.postings.iter().all(|p| p.account_kind().is_real())
    }

    pub fn has_tag(&self, name: &str) -> bool {
        self.tags.iter().any(|t| t.name.eq_ignore_ascii_case(name))
            || self
                .postings
                .iter()
                .any(|p| p.tags.iter().any(|t| t.name.eq_ignore_ascii_case(name)))
    }

    /// The amount shown in one column: the sum of postings to real asset/liability accounts (money in or out of the
    /// holder's accounts); when there are none, the first posting's amount.
    pub fn amount(&self) -> Balance {
        let mut b = Balance::new();
        for p in self.postings.iter().filter(|p| p.moves_money()) {
            b.add_money(&p.amount);
        }
        if b.is_zero()
            && let Some(p) = self.postings.first()
        {
            b = Balance::new();
            b.add_money(&p.amount);
        }
        b
    }

    /// The holder's account the money moved in or out of: the first real asset/liability posting's account, or,
    /// as for `amount` when those net to zero (a transfer) or there are none, the first posting's account.
    pub fn account(&self) -> Option<&str> {
        let mut real = self.postings.iter().filter(|p| p.moves_money()).peekable();
        let nets_to_zero = {
            let mut b = Balance::new();
            for p in self.postings.iter().filter(|p| p.moves_money()) {
                b.add_money(&p.amount);
            }
            b.is_zero()
        };
        match real.peek() {
            Some(p) if !nets_to_zero => Some(p.account.as_str()),
            _ => self.postings.first().map(|p| p.account.as_str()),
        }
    }

    /// The review queue's test (see `review_needed`).
    pub fn needs_review(&self) -> bool {
        let transfer =
            self.postings.len() >= 2 && self.postings.iter().all(|p| p.account_kind().is_real());
        review_needed(
            self.status,
            self.has_tag("review"),
            self.category.as_deref(),
            transfer,
            self.needs_review,
        )
    }
}

/// What needs attention. A server with a review flag of its own decides alone (Sure: "no category"; FinWise: its
/// `needsReview`; Fin X: pending). Otherwise, as in a journal: unmarked or pending status, a `review` tag, or no
/// category (none, or an `unknown`/`uncategorized` one); a transfer between the holder's own accounts needs none.
pub fn review_needed(
    status: Status,
    review_tag: bool,
    category: Option<&str>,
    transfer: bool,
    server_flag: Option<bool>,
) -> bool {
    !review_reasons(status, review_tag, category, transfer, server_flag).is_empty()
}

/// Why a transaction is in the review queue (empty when it is not): the server's flag when it has one; else
/// `unmarked` or `pending`, `review tag`, `no category` (none, empty, or `…:unknown`/`…:uncategorized`; a transfer
/// between the holder's own accounts needs none).
pub fn review_reasons(
    status: Status,
    review_tag: bool,
    category: Option<&str>,
    transfer: bool,
    server_flag: Option<bool>,
) -> Vec<&'static str> {
    let mut why = Vec::new();
    if let Some(flag) = server_flag {
        if flag {
            why.push("flagged");
        }
        return why;
    }
    match status {
        Status::Unmarked => why.push("unmarked"),
        Status::Pending => why.push("pending"),
        Status::Cleared => {}
    }
    if review_tag {
        why.push("review tag");
    }
    if lacks_category(category, transfer) {
        why.push("no category");
    }
    why
}

/// No category, an empty one, or a placeholder (`…:unknown`); a transfer between the holder's own accounts needs
/// none.
pub fn lacks_category(category: Option<&str>, transfer: bool) -> bool {
    match category {
        None => !transfer,
        Some(c) => c.is_empty() || is_unknown_category(c),
    }
}

/// `…:unknown` or `…:uncategorized`: a placeholder, not a category.
pub fn is_unknown_category(c: &str) -> bool {
    let leaf = c.rsplit(':').next().unwrap_or(c);
    leaf.eq_ignore_ascii_case("unknown") || leaf.eq_ignore_ascii_case("uncategorized")
}

/// What an account is, by hledger's naming conventions (and the server's account type for REST backends).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccountKind {
    Asset,
    Liability,
    Equity,
    Income,
    Expense,
    Other,
}

impl AccountKind {
    /// Real accounts hold money (assets, liabilities); income and expense accounts are categories.
    pub fn is_real(self) -> bool {
        matches!(self, AccountKind::Asset | AccountKind::Liability)
    }

    pub fn is_category(self) -> bool {
        matches!(self, AccountKind::Income | AccountKind::Expense)
    }
}

/// Classifies an account name by its top-level part, as hledger does for its standard account types.
pub fn account_kind(name: &str) -> AccountKind {
    let top = name.split(':').next().unwrap_or(name);
    let is = |words: &[&str]| words.iter().any(|w| top.eq_ignore_ascii_case(w));
    if is(&["assets", "asset"]) {
        AccountKind::Asset
    } else if is(&["liabilities", "liability", "debts"]) {
        AccountKind::Liability
    } else if is(&["equity"]) {
        AccountKind::Equity
    } else if is(&["income", "revenue", "revenues"]) {
        AccountKind::Income
    } else if is(&["expenses", "expense"]) {
        AccountKind::Expense
    } else {
        AccountKind::Other
    }
}

/// An account with its own balance (its own postings only, not its subaccounts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub name: String,
    pub kind: AccountKind,
    pub balance: Balance,
    /// Server id, when the backend has one (a REST source); the name otherwise.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
}

/// The category of a set of postings: the first income/expense account, if any.
pub fn category_of<'a>(accounts: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let mut fallback = None;
    for a in accounts {
        if account_kind(a).is_category() {
            return Some(a);
        }
        if fallback.is_none() && !account_kind(a).is_real() {
            fallback = Some(a);
        }
    }
    fallback
}

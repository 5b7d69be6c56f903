//! The finance domain shared by every backend and the UI: money, postings, transactions, accounts, tags and status.
//! No I/O and no terminal code lives here. Money is always a `Decimal` quantity plus a commodity; sums are kept per
//! commodity (`Balance`) and different commodities are never added together. Signs are from the account holder's side:
//! a negative amount is money leaving the account.

mod money;
mod transaction;

pub use money::{Balance, Money};
pub use transaction::{
    Account, AccountKind, Posting, PostingKind, Status, Tag, Transaction, TxnId, account_kind,
    category_of, is_unknown_category, lacks_category, review_needed, review_reasons,
};

/// The months' English names, January first (hledger's dates and CSV date formats read them).
pub const MONTH_NAMES: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

//! The JSON shapes of the tally REST API (`assets/openapi.json`), shared by `tally serve` and the REST client so the
//! two cannot drift apart. Money travels as a decimal string plus a currency (`{"amount":"-54.20","currency":"$"}`),
//! never as a float; a per-commodity sum is a list of such objects. A transaction carries everything tally's domain
//! `Transaction` holds (postings, tags as `"name"`/`"name:value"`, status, review fields), so the client rebuilds it
//! losslessly and a remote ledger shows exactly what the local file shows. Parsing is lenient where the OpenAPI
//! document allows it (missing optional fields, numbers sent as JSON numbers); the server validates request bodies
//! itself so every bad field can be named in a 400.

use crate::backend::{BreakdownRow, PeriodSummary};
use crate::domain::{
    Account, AccountKind, Balance, Money, Posting, PostingKind, Status, Tag, Transaction, TxnId,
};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// One quantity of one currency or commodity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireMoney {
    #[serde(serialize_with = "rust_decimal::serde::str::serialize")]
    pub amount: Decimal,
    pub currency: String,
}

impl From<&Money> for WireMoney {
    fn from(m: &Money) -> Self {
        WireMoney {
            amount: m.quantity,
            currency: m.commodity.clone(),
        }
    }
}

impl From<&WireMoney> for Money {
    fn from(w: &WireMoney) -> Self {
        Money::new(w.amount, w.currency.clone())
    }
}

/// A `Balance` on the wire: every commodity it holds, zero sums included, so both sides compare equal.
pub fn balance_to_wire(b: &Balance) -> Vec<WireMoney> {
    b.amounts().iter().map(WireMoney::from).collect()
}

pub fn balance_from_wire(v: &[WireMoney]) -> Balance {
    let mut b = Balance::new();
    for m in v {
        b.add(m.amount, &m.currency);
    }
    b
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WirePosting {
    pub account: String,
    #[serde(serialize_with = "rust_decimal::serde::str::serialize")]
    pub amount: Decimal,
    pub currency: String,
    #[serde(default)]
    pub cost: Option<WireMoney>,
    #[serde(default)]
    pub kind: PostingKind,
    /// What the account is, when the backend says (a server's account types); absent: by the name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_kind: Option<AccountKind>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub comment: String,
}

/// A transaction as the API returns it. `amount`/`currency` are its primary amount (the first commodity of the
/// money moved in or out of real accounts), `amounts` all of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireTxn {
    pub id: String,
    pub date: NaiveDate,
    #[serde(serialize_with = "rust_decimal::serde::str::serialize")]
    pub amount: Decimal,
    pub currency: String,
    #[serde(default)]
    pub amounts: Vec<WireMoney>,
    pub description: String,
    /// The payee or merchant; when absent, the description stands in.
    #[serde(default)]
    pub payee: Option<String>,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub code: String,
    pub status: Status,
    /// True when the status is cleared.
    #[serde(default)]
    pub reviewed: bool,
    /// The review queue's verdict (unmarked/pending, no category, `review` tag, or the server's flag).
    #[serde(default)]
    pub needs_review: bool,
    /// The backend's own needs-review flag, when it has one.
    #[serde(default)]
    pub review_flag: Option<bool>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub read_only: bool,
    #[serde(default)]
    pub postings: Vec<WirePosting>,
}

fn tags_to_wire(tags: &[Tag]) -> Vec<String> {
    tags.iter().map(Tag::to_string).collect()
}

fn tags_from_wire(tags: &[String]) -> Vec<Tag> {
    tags.iter().map(|t| Tag::parse(t)).collect()
}

impl From<&Transaction> for WireTxn {
    fn from(t: &Transaction) -> Self {
        let amount = t.amount();
        let (primary, currency) = amount
            .non_zero()
            .next()
            .or_else(|| amount.amounts().first())
            .map(|m| (m.quantity, m.commodity.clone()))
            .unwrap_or_default();
        WireTxn {
            id: t.id.0.clone(),
            date: t.date,
            amount: primary,
            currency,
            amounts: balance_to_wire(&amount),
            description: t.description.clone(),
            payee: Some(t.payee.clone()),
            note: t.note.clone(),
            code: t.code.clone(),
            status: t.status,
            reviewed: t.status == Status::Cleared,
            needs_review: t.needs_review(),
            review_flag: t.needs_review,
            tags: tags_to_wire(&t.tags),
            category: t.category.clone(),
            source: t.source.clone(),
            read_only: t.read_only,
            postings: t
                .postings
                .iter()
                .map(|p| WirePosting {
                    account: p.account.clone(),
                    amount: p.amount.quantity,
                    currency: p.amount.commodity.clone(),
                    cost: p.cost.as_ref().map(WireMoney::from),
                    kind: p.kind,
                    account_kind: p.account_kind,
                    tags: tags_to_wire(&p.tags),
                    comment: p.comment.clone(),
                })
                .collect(),
        }
    }
}

impl From<WireTxn> for Transaction {
    fn from(w: WireTxn) -> Self {
        let postings = if w.postings.is_empty() {
            // A server that sends no postings still has an amount: keep it as one posting to its source.
            vec![Posting {
                account: w.source.clone(),
                amount: Money::new(w.amount, w.currency.clone()),
                cost: None,
                kind: PostingKind::Real,
                account_kind: None,
                tags: Vec::new(),
                comment: String::new(),
            }]
        } else {
            w.postings
                .iter()
                .map(|p| Posting {
                    account: p.account.clone(),
                    amount: Money::new(p.amount, p.currency.clone()),
                    cost: p.cost.as_ref().map(Money::from),
                    kind: p.kind,
                    account_kind: p.account_kind,
                    tags: tags_from_wire(&p.tags),
                    comment: p.comment.clone(),
                })
                .collect()
        };
        Transaction {
            id: TxnId(w.id),
            date: w.date,
            status: w.status,
            payee: w.payee.unwrap_or_else(|| w.description.clone()),
            description: w.description,
            note: w.note,
            code: w.code,
            tags: tags_from_wire(&w.tags),
            postings,
            category: w.category,
            source: w.source,
            needs_review: w.review_flag,
            read_only: w.read_only,
        }
    }
}

/// `meta` of a transaction list: the seed's paging fields plus the per-currency sum of everything that matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListMeta {
    pub total: usize,
    pub page: usize,
    pub limit: usize,
    pub total_pages: usize,
    #[serde(default)]
    pub sum: Vec<WireMoney>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TxnList {
    pub data: Vec<WireTxn>,
    pub meta: ListMeta,
}

/// `{"data": ...}`: every non-list answer (and lists without paging) is wrapped like this.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Data<T> {
    pub data: T,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireAccount {
    pub id: String,
    pub name: String,
    pub kind: AccountKind,
    pub balance: Vec<WireMoney>,
}

impl From<&Account> for WireAccount {
    fn from(a: &Account) -> Self {
        WireAccount {
            id: a.id.clone(),
            name: a.name.clone(),
            kind: a.kind,
            balance: balance_to_wire(&a.balance),
        }
    }
}

impl From<WireAccount> for Account {
    fn from(w: WireAccount) -> Self {
        Account {
            balance: balance_from_wire(&w.balance),
            name: w.name,
            kind: w.kind,
            id: w.id,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WirePeriod {
    pub start: NaiveDate,
    pub income: Vec<WireMoney>,
    pub spending: Vec<WireMoney>,
    pub net: Vec<WireMoney>,
    pub count: usize,
}

impl From<&PeriodSummary> for WirePeriod {
    fn from(p: &PeriodSummary) -> Self {
        WirePeriod {
            start: p.start,
            income: balance_to_wire(&p.income),
            spending: balance_to_wire(&p.spending),
            net: balance_to_wire(&p.net),
            count: p.count,
        }
    }
}

impl From<WirePeriod> for PeriodSummary {
    fn from(w: WirePeriod) -> Self {
        PeriodSummary {
            start: w.start,
            income: balance_from_wire(&w.income),
            spending: balance_from_wire(&w.spending),
            net: balance_from_wire(&w.net),
            count: w.count,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireBreakdownRow {
    pub key: String,
    pub total: Vec<WireMoney>,
    pub count: usize,
}

impl From<&BreakdownRow> for WireBreakdownRow {
    fn from(r: &BreakdownRow) -> Self {
        WireBreakdownRow {
            key: r.key.clone(),
            total: balance_to_wire(&r.total),
            count: r.count,
        }
    }
}

impl From<WireBreakdownRow> for BreakdownRow {
    fn from(w: WireBreakdownRow) -> Self {
        BreakdownRow {
            total: balance_from_wire(&w.total),
            key: w.key,
            count: w.count,
        }
    }
}

/// `POST /transactions/bulk-tag` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkTagResult {
    pub changed: usize,
    pub unchanged: usize,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).expect("decimal")
    }

    pub(super) fn sample_for_borrowed() -> Transaction {
        sample()
    }

    fn sample() -> Transaction {
        Transaction {
            id: TxnId("abc-1".into()),
            date: NaiveDate::from_ymd_opt(2025, 3, 14).expect("date"),
            status: Status::Pending,
            description: "Whole Foods | weekly".into(),
            payee: "Whole Foods".into(),
            note: "weekly".into(),
            code: "42".into(),
            tags: vec![Tag::new("trip", "Paris"), Tag::new("work", "")],
            postings: vec![
                Posting {
                    account: "expenses:food".into(),
                    amount: Money::new(dec("54.20"), "$"),
                    cost: Some(Money::new(dec("1.10"), "EUR")),
                    kind: PostingKind::Real,
                    account_kind: None,
                    tags: vec![Tag::new("receipt", "")],
                    comment: "receipt:".into(),
                },
                Posting {
                    account: "assets:checking".into(),
                    amount: Money::new(dec("-54.20"), "$"),
                    cost: None,
                    kind: PostingKind::Virtual,
                    account_kind: None,
                    tags: vec![],
                    comment: String::new(),
                },
            ],
            category: Some("expenses:food".into()),
            source: "ledger.journal:12".into(),
            needs_review: Some(true),
            read_only: true,
        }
    }

    #[test]
    fn transaction_round_trips_through_json() {
        let t = sample();
        let json = serde_json::to_string(&WireTxn::from(&t)).expect("serialise");
        assert!(json.contains(r#""amount":"54.20""#), "{json}");
        assert!(json.contains(r#""tags":["trip:Paris","work"]"#), "{json}");
        let back: WireTxn = serde_json::from_str(&json).expect("parse");
        assert_eq!(Transaction::from(back), t);
    }

    #[test]
    fn money_accepts_json_numbers_and_keeps_scale_as_strings() {
        let m: WireMoney =
            serde_json::from_str(r#"{"amount":1500.5,"currency":"USD"}"#).expect("parse");
        assert_eq!(m.amount, dec("1500.5"));
        let m: WireMoney =
            serde_json::from_str(r#"{"amount":"10.50","currency":"$"}"#).expect("parse");
        assert_eq!(
            serde_json::to_string(&m).expect("serialise"),
            r#"{"amount":"10.50","currency":"$"}"#
        );
    }

    #[test]
    fn balances_keep_zero_sums() {
        let mut b = Balance::new();
        b.add(dec("0"), "$");
        b.add(dec("3.5"), "EUR");
        let w = balance_to_wire(&b);
        assert_eq!(w.len(), 2);
        assert_eq!(balance_from_wire(&w), b);
    }
}

/// Serialises a `Transaction` straight into the `WireTxn` JSON shape without copying it first: the server's
/// listing writes thousands of these per second, and building owned `WireTxn`s cost an allocation per string.
/// `tests::borrowed_and_owned_shapes_agree` keeps the two in step.
pub struct TxnOut<'a>(pub &'a Transaction);

struct DecStr(Decimal);

impl Serialize for DecStr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

struct MoneyOut<'a>(&'a Money);

impl Serialize for MoneyOut<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Money", 2)?;
        st.serialize_field("amount", &DecStr(self.0.quantity))?;
        st.serialize_field("currency", &self.0.commodity)?;
        st.end()
    }
}

struct BalanceOut<'a>(&'a Balance);

impl Serialize for BalanceOut<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.amounts().iter().map(MoneyOut))
    }
}

struct TagsOut<'a>(&'a [Tag]);

impl Serialize for TagsOut<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(TagOut))
    }
}

struct TagOut<'a>(&'a Tag);

impl Serialize for TagOut<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0.value.is_empty() {
            s.serialize_str(&self.0.name)
        } else {
            s.collect_str(self.0)
        }
    }
}

struct PostingOut<'a>(&'a Posting);

impl Serialize for PostingOut<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let p = self.0;
        let mut st = s.serialize_struct("Posting", 7)?;
        st.serialize_field("account", &p.account)?;
        st.serialize_field("amount", &DecStr(p.amount.quantity))?;
        st.serialize_field("currency", &p.amount.commodity)?;
        st.serialize_field("cost", &p.cost.as_ref().map(MoneyOut))?;
        st.serialize_field("kind", &p.kind)?;
        st.serialize_field("tags", &TagsOut(&p.tags))?;
        st.serialize_field("comment", &p.comment)?;
        st.end()
    }
}

impl Serialize for TxnOut<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let t = self.0;
        let amount = t.amount();
        let primary = amount
            .non_zero()
            .next()
            .or_else(|| amount.amounts().first());
        let mut st = s.serialize_struct("Transaction", 18)?;
        st.serialize_field("id", &t.id.0)?;
        st.serialize_field("date", &t.date)?;
        st.serialize_field(
            "amount",
            &DecStr(primary.map(|m| m.quantity).unwrap_or_default()),
        )?;
        st.serialize_field("currency", primary.map_or("", |m| m.commodity.as_str()))?;
        st.serialize_field("amounts", &BalanceOut(&amount))?;
        st.serialize_field("description", &t.description)?;
        st.serialize_field("payee", &t.payee)?;
        st.serialize_field("note", &t.note)?;
        st.serialize_field("code", &t.code)?;
        st.serialize_field("status", &t.status)?;
        st.serialize_field("reviewed", &(t.status == Status::Cleared))?;
        st.serialize_field("needs_review", &t.needs_review())?;
        st.serialize_field("review_flag", &t.needs_review)?;
        st.serialize_field("tags", &TagsOut(&t.tags))?;
        st.serialize_field("category", &t.category)?;
        st.serialize_field("source", &t.source)?;
        st.serialize_field("read_only", &t.read_only)?;
        st.serialize_field("postings", &SeqOut(t.postings.iter().map(PostingOut)))?;
        st.end()
    }
}

/// A sequence serialised from an iterator that can be cloned (serde needs `&self`).
struct SeqOut<I>(I);

impl<I> Serialize for SeqOut<I>
where
    I: Iterator + Clone,
    I::Item: Serialize,
{
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.clone())
    }
}

/// A transaction listing written without intermediate copies (see `TxnOut`).
#[derive(Serialize)]
pub struct TxnListOut<'a> {
    pub data: Vec<TxnOut<'a>>,
    pub meta: ListMeta,
}

#[cfg(test)]
mod borrowed_tests {
    use super::*;

    #[test]
    fn borrowed_and_owned_shapes_agree() {
        let t = tests::sample_for_borrowed();
        let owned = serde_json::to_string(&WireTxn::from(&t)).expect("owned");
        let borrowed = serde_json::to_string(&TxnOut(&t)).expect("borrowed");
        assert_eq!(borrowed, owned);
        let mut plain = t.clone();
        plain.postings[0].cost = None;
        plain.tags.clear();
        plain.needs_review = None;
        plain.category = None;
        assert_eq!(
            serde_json::to_string(&TxnOut(&plain)).expect("borrowed"),
            serde_json::to_string(&WireTxn::from(&plain)).expect("owned")
        );
    }
}

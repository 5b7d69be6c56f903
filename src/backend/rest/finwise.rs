//! The FinWise dialect (seed `001_…`). The key goes alone in `Authorization` (no "Bearer"), paths sit at the root.
//! Lists take `filters` and `pagination` as URL-encoded JSON query parameters and answer bare arrays; the paging
//! headers (`x-page-number`, `x-page-size`, `x-count`, `x-has-next-page`) come from FinWise's client code, not its
//! documents, so a page is also known to be the last when it is shorter than asked. Amounts are
//! `{amount, currencyCode}` in major units, negative for money out (the holder's side already); an account's
//! `currentBalance` likewise (a credit card owed money is negative), inverted when the account's `invertAmounts`
//! says so. Dates are ISO timestamps; the transaction's date is the day written in it.
//!
//! The review queue is FinWise's own `needsReview` flag; `isPending` is the pending status. Categories come from
//! `/transaction-categories`, which does not say which are income: after a full listing, a category whose
//! transactions bring money in on balance is income (`settle`), remembered for incremental syncs. FinWise documents
//! no transaction edits, so tags, status, category and notes are unavailable with that reason; archiving
//! (`POST /transactions/:id/archive`) is offered, hides the row, and cannot be undone. `aggregated` reads the
//! server's own sums (`/transactions/aggregated3`), which tests hold against the mirror's. Errors are FinWise's
//! `{name, message, errors[]}` (possibly under `error`), shown with the `Request-Id`.

use super::RestOptions;
use super::client::{Auth, CoreOptions, HttpCore, Prefix, Retry};
use super::dialect::{
    BatchSink, Catalog, CatalogData, Category, Dialect, RemoteTxn, SyncScope, TxnBatch, posting,
};
use super::fields::{Fields, json_body, parse_error};
use crate::backend::{BackendError, Capabilities, GroupBy, Result, TxnPatch};
use crate::domain::{Account, AccountKind, Balance, Status, Tag, Transaction, TxnId};
use async_trait::async_trait;
use chrono::{DateTime, Duration, NaiveDate};
use reqwest::Method;
use reqwest::header::HeaderMap;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};

/// The page size asked for (FinWise's default is 100; the documents give no maximum).
pub const PAGE_SIZE: usize = 1000;

#[derive(Debug)]
pub struct FinWise {
    core: HttpCore,
}

/// What the paging headers say about a page.
struct PageFacts {
    has_next: Option<bool>,
    size: Option<usize>,
    count: Option<usize>,
}

fn header_number(h: &HeaderMap, name: &str) -> Option<usize> {
    h.get(name)?.to_str().ok()?.trim().parse().ok()
}

impl FinWise {
    pub fn new(opts: &RestOptions) -> Result<FinWise> {
        let core = HttpCore::new(CoreOptions {
            base_url: &opts.base_url,
            prefix: Prefix::Append(""),
            api_key: opts.api_key.as_deref(),
            auth: Auth::Raw,
            headers: Vec::new(),
            requests_per_minute: opts.requests_per_minute,
            allow_http: opts.allow_http,
            timeout: opts.timeout,
        })?;
        Ok(FinWise { core })
    }

    fn place(&self, method: &Method, path: &str) -> String {
        format!("{}: {method} /{path}", self.core.server())
    }

    /// One page of a list: its items and the paging facts.
    async fn page(&self, path: &str, filters: &Value, n: usize) -> Result<(Vec<Value>, PageFacts)> {
        let mut url = self.core.url(&[path]);
        let pagination = json!({ "pageNumber": n, "pageSize": PAGE_SIZE });
        {
            let mut q = url.query_pairs_mut();
            if filters.as_object().is_some_and(|f| !f.is_empty()) {
                q.append_pair("filters", &filters.to_string());
            }
            q.append_pair("pagination", &pagination.to_string());
        }
        let answer = self
            .core
            .send(Method::GET, url, None, Retry::Idempotent)
            .await?;
        let place = format!("{} page {n}", self.place(&Method::GET, path));
        let items = match json_body(&place, &answer.body)? {
            Value::Array(a) => a,
            // Lenient: a list wrapped in `data`.
            Value::Object(mut o) => match o.remove("data") {
                Some(Value::Array(a)) => a,
                _ => return Err(parse_error(&place, "expected a list")),
            },
            _ => return Err(parse_error(&place, "expected a list")),
        };
        let h = &answer.headers;
        let facts = PageFacts {
            has_next: h
                .get("x-has-next-page")
                .and_then(|v| v.to_str().ok())
                .map(|v| v.trim().eq_ignore_ascii_case("true")),
            size: header_number(h, "x-page-size"),
            count: header_number(h, "x-count"),
        };
        Ok((items, facts))
    }

    /// Every page of a list, in order, handing each to `each` with the total when the server says.
    async fn list(
        &self,
        path: &str,
        filters: &Value,
        each: &mut (dyn FnMut(Vec<Value>, Option<usize>) -> Result<()> + Send),
    ) -> Result<()> {
        let mut n = 1;
        loop {
            let (items, facts) = self.page(path, filters, n).await?;
            let got = items.len();
            each(items, facts.count)?;
            // Without the paging headers, a page shorter than asked is the last.
            let more = match facts.has_next {
                Some(more) => more,
                None => got >= facts.size.unwrap_or(PAGE_SIZE),
            };
            let past_count = facts
                .count
                .is_some_and(|c| n * facts.size.unwrap_or(PAGE_SIZE) >= c);
            if !more || got == 0 || (facts.has_next.is_none() && past_count) {
                return Ok(());
            }
            n += 1;
        }
    }

    /// The server's own sums of transaction amounts per period (`/transactions/aggregated3`), each period by its
    /// first day. FinWise dates buckets at the user's midnight written in UTC, so a timestamp in the evening
    /// belongs to the next day. Amounts arrive as floats and are rounded to cents.
    pub async fn aggregated(
        &self,
        group_by: GroupBy,
        filters: &Value,
    ) -> Result<Vec<(NaiveDate, Decimal)>> {
        let by = match group_by {
            GroupBy::Day => "day",
            GroupBy::Week => "week",
            GroupBy::Month => "Month",
            GroupBy::Year => "Year",
        };
        let mut url = self.core.url(&["transactions", "aggregated3"]);
        url.query_pairs_mut()
            .append_pair("aggregateBy[]", by)
            .append_pair("aggregateFn", "sum")
            .append_pair("filters", &filters.to_string());
        let answer = self
            .core
            .send(Method::GET, url, None, Retry::Idempotent)
            .await?;
        let place = self.place(&Method::GET, "transactions/aggregated3");
        let Value::Array(rows) = json_body(&place, &answer.body)? else {
            return Err(parse_error(&place, "expected a list"));
        };
        rows.iter()
            .enumerate()
            .map(|(i, r)| {
                let f = Fields::new(r, format!("{place}: row {}", i + 1))?;
                let at = f.str("date")?;
                let at = DateTime::parse_from_rfc3339(&at).map_err(|_| {
                    parse_error(f.place(), format!("date {at:?} is not a timestamp"))
                })?;
                let day = (at.naive_utc() + Duration::hours(12)).date();
                Ok((day, f.decimal("amount")?.round_dp(2)))
            })
            .collect()
    }
}

fn money(f: &Fields<'_>, key: &str) -> Result<Option<(Decimal, String)>> {
    match f.object(key)? {
        Some(m) => Ok(Some((
            m.decimal("amount")?,
            m.str("currencyCode")?.to_ascii_uppercase(),
        ))),
        None => Ok(None),
    }
}

fn account(v: &Value, place: &str) -> Result<Option<Account>> {
    let f = Fields::new(v, place)?;
    if f.get("archivedAt").is_some() {
        return Ok(None);
    }
    let kind = match f.opt_str("type")?.as_deref() {
        Some("credit" | "loan") => AccountKind::Liability,
        _ => AccountKind::Asset,
    };
    let invert = match f.object("data")? {
        Some(d) => d.opt_bool("invertAmounts")?.unwrap_or(false),
        None => false,
    };
    let mut balance = Balance::new();
    if let Some((q, c)) = money(&f, "currentBalance")? {
        balance.add(if invert { -q } else { q }, &c);
    }
    Ok(Some(Account {
        name: f.str("name")?,
        kind,
        balance,
        id: f.str("id")?,
    }))
}

/// Tags as FinWise lists them: objects with a `name` (or a nested `tag`), or plain strings.
fn tags(f: &Fields<'_>) -> Result<Vec<Tag>> {
    let mut out = Vec::new();
    for t in f.array("transactionTags")? {
        let name = match t {
            Value::String(s) => Some(s.clone()),
            Value::Object(_) => {
                let g = Fields::new(t, f.place())?;
                match g.opt_str("name")? {
                    Some(n) => Some(n),
                    None => match g.object("tag")? {
                        Some(inner) => inner.opt_str("name")?,
                        None => None,
                    },
                }
            }
            _ => None,
        };
        if let Some(n) = name.filter(|n| !n.trim().is_empty()) {
            out.push(Tag::new(n, ""));
        }
    }
    Ok(out)
}

fn transaction(v: &Value, place: &str, catalog: &CatalogData) -> Result<RemoteTxn> {
    let f = Fields::new(v, place)?;
    let id = f.str("id")?;
    let f = Fields::new(v, format!("{place} (transaction {id})"))?;
    let (amount, currency) =
        money(&f, "amount")?.ok_or_else(|| parse_error(f.place(), "field `amount` is missing"))?;
    let account_id = f.opt_str("accountId")?.unwrap_or_default();
    let account = catalog.accounts.iter().find(|a| a.id == account_id);
    let account_name = account.map_or_else(|| account_id.clone(), |a| a.name.clone());
    let kind = account.map_or(AccountKind::Asset, |a| a.kind);
    let mut postings = vec![posting(&account_name, amount, &currency, kind)];
    let transfer = f.opt_bool("isTransfer")?.unwrap_or(false);
    let category = match f.opt_str("transactionCategoryId")? {
        Some(cid) if !transfer => catalog.categories.iter().find(|c| c.id == cid).map(|c| {
            postings.push(posting(&c.name, -amount, &currency, c.kind));
            c.name.clone()
        }),
        _ => None,
    };
    let description = f
        .opt_str("description")?
        .or(f.opt_str("originalDescription")?)
        .unwrap_or_default();
    // `notes` is documented as a boolean but described as notes: a string is read, anything else ignored.
    let note = match f.get("notes") {
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    };
    let created = f.opt_str("createdAt")?.unwrap_or_default();
    let txn = Transaction {
        id: TxnId(id.clone()),
        date: f.date("date")?,
        status: if f.opt_bool("isPending")?.unwrap_or(false) {
            Status::Pending
        } else {
            Status::Cleared
        },
        payee: description.clone(),
        description,
        note,
        code: String::new(),
        tags: tags(&f)?,
        postings,
        category,
        source: account_name,
        needs_review: Some(f.opt_bool("needsReview")?.unwrap_or(false)),
        read_only: false,
    };
    Ok(RemoteTxn {
        txn,
        order: format!("{created}|{id}"),
    })
}

#[async_trait]
impl Dialect for FinWise {
    fn name(&self) -> &'static str {
        "finwise"
    }

    fn server(&self) -> &str {
        self.core.server()
    }

    fn http(&self) -> Option<&HttpCore> {
        Some(&self.core)
    }

    fn capabilities(&self) -> Capabilities {
        let mut caps = Capabilities::read_only(format!("finwise {}", self.core.server()));
        caps.archive = true;
        caps.sources = true;
        caps.sync = true;
        let no = "FinWise's API documents no transaction edits (only archiving)".to_string();
        caps.reasons = [
            "edit_status",
            "edit_tags",
            "bulk_tag",
            "manage_tags",
            "edit_category",
            "clear_category",
            "edit_notes",
        ]
        .into_iter()
        .map(|c| (c.to_string(), no.clone()))
        .chain([(
            "review_queue".to_string(),
            "FinWise's needs-review flag".to_string(),
        )])
        .collect::<BTreeMap<_, _>>();
        caps
    }

    fn incremental(&self) -> bool {
        true
    }

    async fn catalog(&self) -> Result<CatalogData> {
        let place = self.place(&Method::GET, "accounts");
        let mut accounts = Vec::new();
        let mut i = 0;
        self.list("accounts", &json!({}), &mut |items, _| {
            for v in &items {
                i += 1;
                accounts.extend(account(v, &format!("{place}: account {i}"))?);
            }
            Ok(())
        })
        .await?;
        accounts.sort_by(|a, b| a.name.cmp(&b.name));
        let place = self.place(&Method::GET, "transaction-categories");
        let mut categories = Vec::new();
        self.list("transaction-categories", &json!({}), &mut |items, _| {
            for v in &items {
                let f = Fields::new(v, format!("{place}: category {}", categories.len() + 1))?;
                let name = f.str("name")?;
                let name = if accounts.iter().any(|a| a.name == name) {
                    format!("{name} (category)")
                } else {
                    name
                };
                categories.push(Category {
                    id: f.str("id")?,
                    name,
                    kind: AccountKind::Expense,
                });
            }
            Ok(())
        })
        .await?;
        Ok(CatalogData {
            accounts,
            categories,
            tags: Vec::new(),
        })
    }

    async fn transactions(
        &self,
        scope: SyncScope,
        catalog: &CatalogData,
        sink: &mut BatchSink<'_>,
    ) -> Result<()> {
        let mut filters = json!({"excludeArchived": true, "excludeParentTransactions": true});
        if let SyncScope::Since(d) = scope {
            filters["fromDate"] = json!(d.to_string());
        }
        let place = self.place(&Method::GET, "transactions");
        let mut page = 0;
        self.list("transactions", &filters, &mut |items, count| {
            page += 1;
            let txns = items
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    transaction(v, &format!("{place} page {page}: item {}", i + 1), catalog)
                })
                .collect::<Result<_>>()?;
            sink(TxnBatch { txns, total: count })
        })
        .await
    }

    async fn write(&self, id: &TxnId, patch: &TxnPatch, catalog: &Catalog) -> Result<RemoteTxn> {
        if !patch.archive {
            return Err(BackendError::Unsupported(
                "FinWise's API documents no transaction edits (only archiving)".into(),
            ));
        }
        let url = self.core.url(&["transactions", &id.0, "archive"]);
        let place = format!("{}: POST /transactions/{id}/archive", self.core.server());
        // Archiving twice archives once: safe to repeat.
        let answer = self
            .core
            .send(Method::POST, url, None, Retry::Idempotent)
            .await
            .map_err(|e| match e {
                BackendError::Http { status: 404, .. } => {
                    BackendError::NotFound(format!("{id} on {} (HTTP 404)", self.core.server()))
                }
                other => other,
            })?;
        let v = json_body(&place, &answer.body)?;
        if Fields::new(&v, place.clone())?.get("archivedAt").is_none() {
            return Err(BackendError::Conflict(format!(
                "{place}: the server answered but the transaction is not archived"
            )));
        }
        transaction(&v, &place, &catalog.get())
    }

    /// Categories whose transactions bring money in on balance are income; the rest spending.
    fn settle(&self, txns: &mut [RemoteTxn], catalog: &mut CatalogData) {
        let mut net: HashMap<String, Decimal> = HashMap::new();
        for r in txns.iter() {
            if let Some(c) = &r.txn.category {
                *net.entry(c.clone()).or_default() += r.txn.postings[0].amount.quantity;
            }
        }
        for c in &mut catalog.categories {
            c.kind = if net
                .get(&c.name)
                .is_some_and(|n| n.is_sign_positive() && !n.is_zero())
            {
                AccountKind::Income
            } else {
                AccountKind::Expense
            };
        }
        let kinds: HashMap<&str, AccountKind> = catalog
            .categories
            .iter()
            .map(|c| (c.name.as_str(), c.kind))
            .collect();
        for r in txns.iter_mut() {
            for p in r.txn.postings.iter_mut().skip(1) {
                if let Some(k) = kinds.get(p.account.as_str()) {
                    p.account_kind = Some(*k);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> CatalogData {
        CatalogData {
            accounts: vec![
                account(
                    &json!({"id": "a1", "name": "My Credit Card Account", "type": "credit",
                        "currentBalance": {"amount": -3432, "currencyCode": "USD"}}),
                    "srv",
                )
                .expect("account")
                .expect("not archived"),
            ],
            categories: vec![
                Category {
                    id: "c1".into(),
                    name: "Groceries".into(),
                    kind: AccountKind::Expense,
                },
                Category {
                    id: "c2".into(),
                    name: "Salary".into(),
                    kind: AccountKind::Expense,
                },
            ],
            tags: vec![],
        }
    }

    #[test]
    fn the_seed_s_transaction_reads_as_money_out_of_the_card() {
        let v = json!({"id": "t1", "createdAt": "2024-05-01T14:18:22.304Z", "description": "Walmart",
                       "accountId": "a1", "amount": {"amount": -56, "currencyCode": "USD"},
                       "date": "2024-05-01T14:18:02.744Z", "transactionCategoryId": "c1",
                       "needsReview": true, "isPending": null, "notes": null,
                       "transactionTags": [{"id": "g", "name": "work"}]});
        let c = catalog();
        let t = transaction(&v, "srv", &c).expect("txn").txn;
        assert_eq!(t.amount().get("USD").to_string(), "-56");
        assert_eq!(t.account(), Some("My Credit Card Account"));
        assert_eq!(t.category.as_deref(), Some("Groceries"));
        assert_eq!((t.needs_review, t.status), (Some(true), Status::Cleared));
        assert_eq!(t.tags, vec![Tag::new("work", "")]);
        assert_eq!(c.accounts[0].balance.get("USD").to_string(), "-3432");
    }

    #[test]
    fn income_categories_are_settled_from_the_whole_listing() {
        let mut c = catalog();
        let txn = |id: &str, cat: &str, amount: i64| {
            transaction(
                &json!({"id": id, "accountId": "a1", "amount": {"amount": amount, "currencyCode": "USD"},
                        "date": "2024-05-01T00:00:00.000Z", "transactionCategoryId": cat}),
                "srv",
                &c,
            )
            .expect("txn")
        };
        let mut txns = vec![
            txn("1", "c2", 3000),
            txn("2", "c1", -80),
            txn("3", "c1", 20),
        ];
        FinWise::new(&RestOptions::default())
            .expect("dialect")
            .settle(&mut txns, &mut c);
        assert_eq!(c.categories[1].kind, AccountKind::Income);
        assert_eq!(
            c.categories[0].kind,
            AccountKind::Expense,
            "a refund does not make groceries income"
        );
        assert_eq!(
            txns[0].txn.postings[1].account_kind,
            Some(AccountKind::Income)
        );
    }
}

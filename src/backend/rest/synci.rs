//! The Synci dialect (seed `004_…`; a Laravel app). `Authorization: Bearer TOKEN` together with `Accept:
//! application/json` (without it Laravel answers errors with HTML or a redirect to its login page), paths under
//! `/api/v1`. Accounts from `/banks/accounts`, transactions from `/banks/transactions`, both in the `{data, meta,
//! links}` envelope with `page[number]` and `page[size]` (the envelope and paging come from Synci's client code, not
//! its documents: the listing also stops at an empty or short page). Listings are newest first, so an incremental
//! refresh stops once it passes its window. `amount` arrives as a number or a string, negative for money out;
//! `booked: false` is pending, and the review queue. Payee and description come from the `generated` fields that
//! Synci's rules produce, else from the counterparty's name and the bank's remittance text.
//!
//! Synci is read-only through tally. `S` asks Synci to sync a bank account (`POST /banks/accounts/{id}/sync`), the
//! one under the cursor or each of them; Synci allows that once a minute per account, and its 429 is reported as
//! "next sync possible in N s", not as a failure.

use super::RestOptions;
use super::client::{Auth, CoreOptions, HttpCore, Limits, Prefix, Retry};
use super::dialect::{
    BatchSink, Catalog, CatalogData, Category, Dialect, RemoteTxn, SyncScope, TxnBatch, posting,
};
use super::fields::{Fields, json_body, parse_error};
use crate::backend::{BackendError, Capabilities, Result, Source, TxnPatch};
use crate::domain::{Account, AccountKind, Balance, Status, Transaction, TxnId};
use async_trait::async_trait;
use reqwest::Method;
use serde_json::Value;
use std::collections::BTreeMap;

/// Synci's largest page.
pub const PAGE_SIZE: usize = 100;

#[derive(Debug)]
pub struct Synci {
    core: HttpCore,
}

impl Synci {
    pub fn new(opts: &RestOptions) -> Result<Synci> {
        let core = HttpCore::new(CoreOptions {
            base_url: &opts.base_url,
            prefix: Prefix::Append("/api/v1"),
            api_key: opts.api_key.as_deref(),
            auth: Auth::Bearer,
            headers: Vec::new(),
            requests_per_minute: opts.requests_per_minute,
            allow_http: opts.allow_http,
            timeout: opts.timeout,
        })?;
        Ok(Synci { core })
    }

    fn place(&self, method: &Method, path: &str) -> String {
        format!("{}: {method} /api/v1/{path}", self.core.server())
    }

    /// One page of a list: its items, whether it is the last, and the total when the server says.
    async fn page(&self, path: &[&str], n: usize) -> Result<(Vec<Value>, bool, Option<usize>)> {
        let mut url = self.core.url(path);
        url.query_pairs_mut()
            .append_pair("page[number]", &n.to_string())
            .append_pair("page[size]", &PAGE_SIZE.to_string());
        let answer = self
            .core
            .send(Method::GET, url, None, Retry::Idempotent)
            .await?;
        let place = format!("{} page {n}", self.place(&Method::GET, &path.join("/")));
        let v = json_body(&place, &answer.body)?;
        let f = Fields::new(&v, place.clone())?;
        let items = match f.get("data") {
            Some(Value::Array(a)) => a.clone(),
            _ => return Err(parse_error(&place, "field `data` is missing or not a list")),
        };
        let (last, total) = match f.object("meta")? {
            Some(m) => {
                let current = m.opt_int("current_page")?.unwrap_or(n as i64);
                let last_page = m.opt_int("last_page")?;
                (
                    last_page.is_some_and(|l| current >= l),
                    m.opt_int("total")?.map(|t| t.max(0) as usize),
                )
            }
            None => (false, None),
        };
        let short = items.len() < PAGE_SIZE;
        Ok((items, last || short, total))
    }

    /// Every page of a list; `each` returns false to stop early.
    async fn list(
        &self,
        path: &[&str],
        each: &mut (dyn FnMut(Vec<Value>, Option<usize>) -> Result<bool> + Send),
    ) -> Result<()> {
        let mut n = 1;
        loop {
            let (items, last, total) = self.page(path, n).await?;
            let empty = items.is_empty();
            if !each(items, total)? || last || empty {
                return Ok(());
            }
            n += 1;
        }
    }
}

fn account(v: &Value, place: &str) -> Result<Account> {
    let f = Fields::new(v, place)?;
    let id = f.str("id")?;
    let name = f
        .opt_str("name")?
        .or(f.opt_str("display_name")?)
        .or(f.opt_str("iban")?)
        .unwrap_or_else(|| id.clone());
    let mut balance = Balance::new();
    if let (Some(b), Some(c)) = (f.opt_decimal("balance")?, f.opt_str("currency")?) {
        balance.add(b, &c.to_ascii_uppercase());
    }
    Ok(Account {
        name,
        kind: AccountKind::Asset,
        balance,
        id,
    })
}

/// A text field that may sit in the `generated` object.
fn generated(f: &Fields<'_>, key: &str) -> Result<Option<String>> {
    Ok(match f.object("generated")? {
        Some(g) => g.opt_str(key)?.filter(|s| !s.trim().is_empty()),
        None => None,
    })
}

fn transaction(v: &Value, place: &str, catalog: &CatalogData) -> Result<RemoteTxn> {
    let f = Fields::new(v, place)?;
    let id = f.str("id")?;
    let f = Fields::new(v, format!("{place} (transaction {id})"))?;
    let amount = f.decimal("amount")?;
    let account_id = f.opt_str("bank_account_id")?.unwrap_or_default();
    let account = catalog.accounts.iter().find(|a| a.id == account_id);
    let account_name = account.map_or_else(|| account_id.clone(), |a| a.name.clone());
    let currency = f
        .opt_str("currency")?
        .or_else(|| account.and_then(|a| a.balance.amounts().first().map(|m| m.commodity.clone())))
        .ok_or_else(|| parse_error(f.place(), "field `currency` is missing"))?
        .to_ascii_uppercase();
    let counterparty = if amount.is_sign_negative() {
        f.opt_str("creditor_name")?
    } else {
        f.opt_str("debtor_name")?
    };
    let remittance = f.opt_str("remittance_information")?.unwrap_or_default();
    let payee = generated(&f, "payee")?
        .or(counterparty)
        .unwrap_or_else(|| remittance.clone());
    let description = generated(&f, "description")?.unwrap_or_else(|| {
        if remittance.is_empty() {
            payee.clone()
        } else {
            remittance.clone()
        }
    });
    let mut postings = vec![posting(
        &account_name,
        amount,
        &currency,
        AccountKind::Asset,
    )];
    let category = generated(&f, "category")?.map(|c| {
        let known = catalog.category(&c).map(|k| (k.name.clone(), k.kind));
        let (name, kind) = known.unwrap_or_else(|| {
            let kind = if amount.is_sign_positive() {
                AccountKind::Income
            } else {
                AccountKind::Expense
            };
            (c, kind)
        });
        postings.push(posting(&name, -amount, &currency, kind));
        name
    });
    let date = match f.get("booking_date") {
        Some(_) => f.date("booking_date")?,
        None => match f.get("value_date") {
            Some(_) => f.date("value_date")?,
            None => f.date("date")?,
        },
    };
    let booked = f.opt_bool("booked")?.unwrap_or(true);
    let txn = Transaction {
        id: TxnId(id.clone()),
        date,
        status: if booked {
            Status::Cleared
        } else {
            Status::Pending
        },
        description,
        payee,
        note: String::new(),
        code: String::new(),
        tags: Vec::new(),
        postings,
        category,
        source: account_name,
        needs_review: Some(!booked),
        read_only: false,
    };
    Ok(RemoteTxn { txn, order: id })
}

#[async_trait]
impl Dialect for Synci {
    fn name(&self) -> &'static str {
        "synci"
    }

    fn server(&self) -> &str {
        self.core.server()
    }

    fn http(&self) -> Option<&HttpCore> {
        Some(&self.core)
    }

    fn capabilities(&self) -> Capabilities {
        let mut caps = Capabilities::read_only(format!("synci {}", self.core.server()));
        caps.sources = true;
        caps.sync = true;
        let no = "Synci's API is read-only for transactions (its rules change them in Synci)"
            .to_string();
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
            "transactions the bank has not booked yet".to_string(),
        )])
        .collect::<BTreeMap<_, _>>();
        caps
    }

    fn incremental(&self) -> bool {
        true
    }

    async fn catalog(&self) -> Result<CatalogData> {
        let place = self.place(&Method::GET, "banks/accounts");
        let mut accounts = Vec::new();
        self.list(&["banks", "accounts"], &mut |items, _| {
            for v in &items {
                accounts.push(account(
                    v,
                    &format!("{place}: account {}", accounts.len() + 1),
                )?);
            }
            Ok(true)
        })
        .await?;
        accounts.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(CatalogData {
            accounts,
            categories: Vec::<Category>::new(),
            tags: Vec::new(),
        })
    }

    async fn transactions(
        &self,
        scope: SyncScope,
        catalog: &CatalogData,
        sink: &mut BatchSink<'_>,
    ) -> Result<()> {
        let place = self.place(&Method::GET, "banks/transactions");
        let mut page = 0;
        self.list(&["banks", "transactions"], &mut |items, total| {
            page += 1;
            let txns: Vec<RemoteTxn> = items
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    transaction(v, &format!("{place} page {page}: item {}", i + 1), catalog)
                })
                .collect::<Result<_>>()?;
            let (keep, go_on) = match scope {
                SyncScope::All => (txns, true),
                SyncScope::Since(d) => {
                    let older = txns.iter().any(|r| r.txn.date < d);
                    (
                        txns.into_iter().filter(|r| r.txn.date >= d).collect(),
                        !older,
                    )
                }
            };
            sink(TxnBatch { txns: keep, total })?;
            Ok(go_on)
        })
        .await
    }

    async fn write(&self, _id: &TxnId, _patch: &TxnPatch, _catalog: &Catalog) -> Result<RemoteTxn> {
        Err(BackendError::Unsupported(
            "Synci's API is read-only for transactions".into(),
        ))
    }

    fn sources(&self, catalog: &CatalogData) -> Vec<Source> {
        catalog
            .accounts
            .iter()
            .map(|a| Source {
                id: a.id.clone(),
                name: a.name.clone(),
                kind: "bank account".into(),
                last_sync: None,
                status: "ok".into(),
            })
            .collect()
    }

    async fn sync_source(&self, id: &str) -> Result<Source> {
        let url = self.core.url(&["banks", "accounts", id, "sync"]);
        // One try, no waiting: a sync is limited to once a minute per account, and its rate headers describe only
        // that limit (not the API's budget), so they are left out of it; a 429 is reported at once.
        let limits = Limits {
            budget: false,
            wait: false,
        };
        let answer = self
            .core
            .send_with(Method::POST, url, None, (Retry::UnlessSent, limits))
            .await
            .map_err(|e| match e {
                BackendError::Http { status: 404, .. } => BackendError::NotFound(format!(
                    "bank account {id} on {} (HTTP 404)",
                    self.core.server()
                )),
                other => other,
            })?;
        let place = self.place(&Method::POST, &format!("banks/accounts/{id}/sync"));
        let status = match json_body(&place, &answer.body) {
            Ok(v) => v
                .get("data")
                .and_then(|d| d.get("status"))
                .and_then(Value::as_str)
                .unwrap_or("requested")
                .to_string(),
            Err(_) => "requested".to_string(),
        };
        Ok(Source {
            id: id.to_string(),
            name: id.to_string(),
            kind: "bank account".into(),
            last_sync: None,
            status,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn amounts_as_numbers_or_strings_and_generated_text() {
        let c = CatalogData {
            accounts: vec![account(
                &json!({"id": "b1", "name": "Girokonto", "currency": "eur", "balance": "1520.30"}),
                "srv",
            )
            .expect("account")],
            ..CatalogData::default()
        };
        let v = json!({"id": "u1", "bank_account_id": "b1", "amount": "-12.50", "currency": "EUR",
                       "booking_date": "2026-11-10", "booked": false,
                       "remittance_information": "CARD 1234 AMZN MKTP DE*2K4",
                       "creditor_name": "AMAZON EU SARL",
                       "generated": {"payee": "Amazon", "description": "Amazon order", "category": "Shopping"}});
        let t = transaction(&v, "srv", &c).expect("txn").txn;
        assert_eq!(t.amount().get("EUR").to_string(), "-12.50");
        assert_eq!(
            (t.payee.as_str(), t.description.as_str()),
            ("Amazon", "Amazon order")
        );
        assert_eq!(t.category.as_deref(), Some("Shopping"));
        assert_eq!((t.status, t.needs_review), (Status::Pending, Some(true)));
        let v = json!({"id": "u2", "bank_account_id": "b1", "amount": 40, "booking_date": "2026-11-11",
                       "debtor_name": "Anna", "remittance_information": "Rent share", "generated": null});
        let t = transaction(&v, "srv", &c).expect("txn").txn;
        assert_eq!(t.amount().get("EUR").to_string(), "40");
        assert_eq!(
            (t.payee.as_str(), t.description.as_str()),
            ("Anna", "Rent share")
        );
        assert_eq!(c.accounts[0].balance.get("EUR").to_string(), "1520.30");
    }
}

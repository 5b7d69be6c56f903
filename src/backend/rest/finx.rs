//! The Fin X dialect (seed `003_…`). `Authorization: Bearer KEY`, paths under `/v1`. Lists are `{"has_more","data"}`
//! with cursor paging (`limit` ≤ 100, `starting_after` = the last id), newest first, so an incremental refresh reads
//! pages only until it passes the window it wants. A transaction has no text of its own: it is an `amount` (positive)
//! of `type` credit (money in) or debit (money out) on an account, with a `status` (pending, completed, failed) and
//! `created_at` in Unix seconds, which gives its date (UTC). Where a server sends a `description`, it is used;
//! otherwise the transaction is shown by its type and account ("debit · Checking") rather than a blank. The seed shows
//! no currency: an account's `currency` is used when the server sends one, else USD (said in the docs).
//!
//! Pending is the review queue. `r` sends `PUT status=completed`, `!` sends `pending`; a failed transaction moved no
//! money, and is kept, read-only, with the code `failed`. Fin X has no tags, categories or notes: those edits are unavailable.

use super::RestOptions;
use super::client::{Auth, CoreOptions, HttpCore, Prefix, Retry};
use super::dialect::{
    BatchSink, Catalog, CatalogData, Dialect, RemoteTxn, SyncScope, TxnBatch, posting,
};
use super::fields::{Fields, json_body, parse_error};
use crate::backend::{BackendError, Capabilities, Result, TxnPatch};
use crate::domain::{Account, AccountKind, Balance, Status, Transaction, TxnId};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Fin X's largest page.
pub const LIMIT: usize = 100;
/// The currency of amounts when the server names none.
pub const DEFAULT_CURRENCY: &str = "USD";

#[derive(Debug)]
pub struct FinX {
    core: HttpCore,
}

impl FinX {
    pub fn new(opts: &RestOptions) -> Result<FinX> {
        let core = HttpCore::new(CoreOptions {
            base_url: &opts.base_url,
            prefix: Prefix::Append("/v1"),
            api_key: opts.api_key.as_deref(),
            auth: Auth::Bearer,
            headers: Vec::new(),
            requests_per_minute: opts.requests_per_minute,
            allow_http: opts.allow_http,
            timeout: opts.timeout,
        })?;
        Ok(FinX { core })
    }

    fn place(&self, method: &Method, path: &str) -> String {
        format!("{}: {method} /v1/{path}", self.core.server())
    }

    async fn call(
        &self,
        method: Method,
        segments: &[&str],
        params: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Value> {
        let mut url = self.core.url(segments);
        if !params.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(params.iter().map(|(k, v)| (*k, v.as_str())));
        }
        let place = self.place(&method, &segments.join("/"));
        // A PUT of a status is a whole value: safe to repeat.
        let answer = self.core.send(method, url, body, Retry::Idempotent).await?;
        json_body(&place, &answer.body)
    }

    /// One page of a cursor-paged list: its items and whether more follow.
    async fn page(&self, path: &str, after: Option<&str>) -> Result<(Vec<Value>, bool)> {
        let mut params = vec![("limit", LIMIT.to_string())];
        if let Some(id) = after {
            params.push(("starting_after", id.to_string()));
        }
        let v = self.call(Method::GET, &[path], &params, None).await?;
        let place = self.place(&Method::GET, path);
        let f = Fields::new(&v, place.clone())?;
        let items = match f.get("data") {
            Some(Value::Array(a)) => a.clone(),
            _ => return Err(parse_error(&place, "field `data` is missing or not a list")),
        };
        Ok((items, f.opt_bool("has_more")?.unwrap_or(false)))
    }

    /// Every page of a list, handing each to `each`; `each` returns false to stop early.
    async fn pages(
        &self,
        path: &str,
        each: &mut (dyn FnMut(Vec<Value>) -> Result<bool> + Send),
    ) -> Result<()> {
        let mut after: Option<String> = None;
        loop {
            let (items, more) = self.page(path, after.as_deref()).await?;
            let last = items.last().and_then(|v| v.get("id")).and_then(|v| {
                v.as_str()
                    .map(str::to_string)
                    .or_else(|| Some(v.to_string()))
            });
            let go_on = each(items)?;
            // A server that says there is more but sends nothing, or repeats the cursor, has nothing more.
            match last {
                Some(id) if more && go_on && after.as_deref() != Some(id.as_str()) => {
                    after = Some(id);
                }
                _ => return Ok(()),
            }
        }
    }
}

fn account(v: &Value, place: &str) -> Result<Account> {
    let f = Fields::new(v, place)?;
    let id = f.str("id")?;
    let kind = match f.opt_str("type")?.as_deref() {
        Some("credit" | "credit_card" | "loan") => AccountKind::Liability,
        _ => AccountKind::Asset,
    };
    let currency = f
        .opt_str("currency")?
        .map(|c| c.to_ascii_uppercase())
        .unwrap_or_else(|| DEFAULT_CURRENCY.to_string());
    let mut balance = Balance::new();
    if let Some(b) = f.opt_decimal("balance")? {
        balance.add(b, &currency);
    }
    Ok(Account {
        name: f.opt_str("name")?.unwrap_or_else(|| id.clone()),
        kind,
        balance,
        id,
    })
}

/// The date of a Unix timestamp (seconds), in UTC.
fn unix_date(secs: i64, f: &Fields<'_>) -> Result<NaiveDate> {
    DateTime::from_timestamp(secs, 0)
        .map(|d| d.date_naive())
        .ok_or_else(|| parse_error(f.place(), format!("created_at {secs} is not a time")))
}

fn transaction(v: &Value, place: &str, catalog: &CatalogData) -> Result<RemoteTxn> {
    let f = Fields::new(v, place)?;
    let id = f.str("id")?;
    let f = Fields::new(v, format!("{place} (transaction {id})"))?;
    let account_id = f.str("account_id")?;
    let account = catalog.accounts.iter().find(|a| a.id == account_id);
    let account_name = account.map_or(account_id.clone(), |a| a.name.clone());
    let kind = account.map_or(AccountKind::Asset, |a| a.kind);
    let currency = account
        .and_then(|a| a.balance.amounts().first().map(|m| m.commodity.clone()))
        .or(f.opt_str("currency")?.map(|c| c.to_ascii_uppercase()))
        .unwrap_or_else(|| DEFAULT_CURRENCY.to_string());
    let kind_text = f.str("type")?;
    let amount = f.decimal("amount")?.abs();
    let amount = match kind_text.as_str() {
        "credit" => amount,
        "debit" => -amount,
        other => {
            return Err(parse_error(
                f.place(),
                format!("type should be credit or debit, got {other:?}"),
            ));
        }
    };
    let status_text = f.opt_str("status")?.unwrap_or_default();
    let status = match status_text.as_str() {
        "pending" => Status::Pending,
        "completed" => Status::Cleared,
        _ => Status::Unmarked,
    };
    let created = f.int("created_at")?;
    let text = f
        .opt_str("description")?
        .filter(|d| !d.trim().is_empty())
        .unwrap_or_else(|| format!("{kind_text} · {account_name}"));
    let txn = Transaction {
        id: TxnId(id.clone()),
        date: unix_date(created, &f)?,
        status,
        description: text.clone(),
        payee: text,
        note: String::new(),
        code: if status_text == "failed" {
            "failed".into()
        } else {
            String::new()
        },
        tags: Vec::new(),
        postings: vec![posting(&account_name, amount, &currency, kind)],
        category: None,
        source: account_name,
        needs_review: Some(status == Status::Pending),
        // A failed transaction moved no money: marking it completed would make it seem to have.
        read_only: status_text == "failed",
    };
    Ok(RemoteTxn {
        txn,
        order: format!("{created:012}|{id}"),
    })
}

#[async_trait]
impl Dialect for FinX {
    fn name(&self) -> &'static str {
        "finx"
    }

    fn server(&self) -> &str {
        self.core.server()
    }

    fn http(&self) -> Option<&HttpCore> {
        Some(&self.core)
    }

    fn capabilities(&self) -> Capabilities {
        let mut caps = Capabilities::read_only(format!("finx {}", self.core.server()));
        caps.edit_status = true;
        caps.sources = true;
        caps.sync = true;
        let no = |what: &str| {
            format!("Fin X has no {what} (its transactions are an amount, a type and a status)")
        };
        caps.reasons = BTreeMap::from([
            ("edit_tags".to_string(), no("tags")),
            ("bulk_tag".to_string(), no("tags")),
            ("manage_tags".to_string(), no("tags")),
            ("edit_category".to_string(), no("categories")),
            ("clear_category".to_string(), no("categories")),
            ("edit_notes".to_string(), no("notes")),
            (
                "review_queue".to_string(),
                "pending transactions (r completes one, ! puts it back to pending)".to_string(),
            ),
        ]);
        caps
    }

    fn incremental(&self) -> bool {
        true
    }

    async fn catalog(&self) -> Result<CatalogData> {
        let place = self.place(&Method::GET, "accounts");
        let mut accounts = Vec::new();
        self.pages("accounts", &mut |items| {
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
            ..CatalogData::default()
        })
    }

    async fn transactions(
        &self,
        scope: SyncScope,
        catalog: &CatalogData,
        sink: &mut BatchSink<'_>,
    ) -> Result<()> {
        let place = self.place(&Method::GET, "transactions");
        let mut page = 0;
        self.pages("transactions", &mut |items| {
            page += 1;
            let txns: Vec<RemoteTxn> = items
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    transaction(v, &format!("{place} page {page}: item {}", i + 1), catalog)
                })
                .collect::<Result<_>>()?;
            // Newest first: once a page reaches before the window, the rest is older still.
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
            sink(TxnBatch {
                txns: keep,
                total: None,
            })?;
            Ok(go_on)
        })
        .await
    }

    async fn write(&self, id: &TxnId, patch: &TxnPatch, catalog: &Catalog) -> Result<RemoteTxn> {
        let status = match patch.status {
            Some(Status::Cleared) => "completed",
            Some(Status::Pending) => "pending",
            Some(Status::Unmarked) => {
                return Err(BackendError::Invalid {
                    param: "status".into(),
                    message: "Fin X has pending, completed and failed; nothing like unmarked"
                        .into(),
                });
            }
            None => {
                return Err(BackendError::Unsupported(
                    "Fin X can only change a transaction's status".into(),
                ));
            }
        };
        let place = format!("{} {id}", self.place(&Method::PUT, "transactions"));
        let v = self
            .call(
                Method::PUT,
                &["transactions", &id.0],
                &[],
                Some(&json!({ "status": status })),
            )
            .await
            .map_err(|e| match e {
                BackendError::Http { status: 404, .. } => {
                    BackendError::NotFound(format!("{id} on {} (HTTP 404)", self.core.server()))
                }
                other => other,
            })?;
        let after = transaction(&v, &place, &catalog.get())?;
        if Some(after.txn.status) != patch.status {
            return Err(BackendError::Conflict(format!(
                "{place}: the server answered but the transaction is {}, not {status}",
                after.txn.status
            )));
        }
        Ok(after)
    }

    fn review_flag(&self, t: &Transaction) -> Option<bool> {
        Some(t.status == Status::Pending)
    }

    fn check(&self, patch: &TxnPatch) -> Result<()> {
        if patch.status == Some(Status::Unmarked) {
            return Err(BackendError::Invalid {
                param: "status".into(),
                message: "Fin X has pending, completed and failed; nothing like unmarked".into(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> CatalogData {
        CatalogData {
            accounts: vec![account(
                &json!({"id": "WAz8", "name": "Checking", "type": "checking", "balance": 1200.5, "currency": "eur"}),
                "srv",
            )
            .expect("account")],
            ..CatalogData::default()
        }
    }

    #[test]
    fn type_gives_the_sign_and_created_at_the_date() {
        let v = json!({"id": "xgQQ", "account_id": "WAz8", "amount": 100.00, "type": "debit",
                       "status": "pending", "created_at": 705103200, "updated_at": 705103200});
        let t = transaction(&v, "srv", &catalog()).expect("txn").txn;
        assert_eq!(t.amount().get("EUR").to_string(), "-100.0");
        assert_eq!(t.date.to_string(), "1992-05-05");
        assert_eq!(t.description, "debit · Checking");
        assert_eq!((t.status, t.needs_review), (Status::Pending, Some(true)));
        let v = json!({"id": "b", "account_id": "gone", "amount": "5", "type": "credit",
                       "status": "failed", "created_at": 0});
        let t = transaction(&v, "srv", &catalog()).expect("txn").txn;
        assert_eq!(t.amount().get("USD").to_string(), "5");
        assert_eq!(t.code, "failed");
        let bad = json!({"id": "c", "account_id": "WAz8", "amount": 1, "type": "refund", "created_at": 0});
        assert!(transaction(&bad, "srv", &catalog()).is_err());
    }
}

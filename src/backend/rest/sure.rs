//! The Sure dialect (we-promise/sure; facts in `api/sure.md`, seed `002_…`). Key in `X-Api-Key`, paths under
//! `/api/v1`, `Accept-Language: en` so the localized `amount` strings are at least predictable — but they are never
//! read: money comes from `signed_amount_cents` (income positive, expense negative, i.e. the holder's side already)
//! in the currency's minor units. Account balances are the server's (`balance_cents`; a liability the holder owes is
//! stored positive and shown negative here). A transaction becomes the posting to its own account plus one to its
//! category; a transfer keeps only its own side (Sure lists the other side as a transaction of the other account),
//! so per-account sums are right. Sure has no cleared/pending status: the review queue is "no category".
//!
//! Paging traps handled: `per_page` is at most 100 (more falls back to 25), and a page past the end returns the last
//! page again, so listing stops at `total_pages` and at any page that repeats. Tags are written by replacing the
//! whole set (`tag_ids`): the current set is read first and only the tags the patch names change; new tag names are
//! created on the server first. Setting a full set is idempotent, so a PATCH whose answer was lost is retried.

use super::RestOptions;
use super::client::{Auth, CoreOptions, HttpCore, Prefix, Retry};
use super::currency::from_minor;
use super::dialect::{
    BatchSink, Catalog, CatalogData, Category, Dialect, RemoteTag, RemoteTxn, SyncScope, TxnBatch,
};
use super::fields::{Fields, json_body, parse_error};
use crate::backend::{BackendError, Capabilities, Result, TxnPatch};
use crate::domain::{
    Account, AccountKind, Balance, Money, Posting, PostingKind, Status, Tag, Transaction, TxnId,
};
use async_trait::async_trait;
use futures::StreamExt;
use reqwest::Method;
use reqwest::header::{ACCEPT_LANGUAGE, HeaderName, HeaderValue};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// Sure's largest page.
pub const PER_PAGE: usize = 100;
/// Pages fetched at once after the first.
const CONCURRENT_PAGES: usize = 4;

#[derive(Debug)]
pub struct Sure {
    core: HttpCore,
}

/// `pagination` of a Sure list: the page it is, and how many pages there are for the size it used.
struct Pagination {
    page: usize,
    total_pages: usize,
    total_count: Option<usize>,
}

fn liability(account_type: &str) -> bool {
    matches!(account_type, "credit_card" | "loan" | "other_liability")
}

impl Sure {
    pub fn new(opts: &RestOptions) -> Result<Sure> {
        let core = HttpCore::new(CoreOptions {
            base_url: &opts.base_url,
            prefix: Prefix::Append("/api/v1"),
            api_key: opts.api_key.as_deref(),
            auth: Auth::Header(HeaderName::from_static("x-api-key")),
            headers: vec![(ACCEPT_LANGUAGE, HeaderValue::from_static("en"))],
            requests_per_minute: opts.requests_per_minute,
            allow_http: opts.allow_http,
            timeout: opts.timeout,
        })?;
        Ok(Sure { core })
    }

    fn place(&self, method: &Method, path: &str) -> String {
        format!("{}: {method} /api/v1/{path}", self.core.server())
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
        // GETs are safe to repeat; so are Sure's PATCHes as tally sends them (whole values, not increments).
        let retry = if method == Method::POST {
            Retry::UnlessSent
        } else {
            Retry::Idempotent
        };
        let place = self.place(&method, &segments.join("/"));
        let answer = self.core.send(method, url, body, retry).await?;
        if answer.body.is_empty() {
            return Ok(Value::Null);
        }
        json_body(&place, &answer.body)
    }

    /// One page of a paginated list whose items sit under `key`.
    async fn page(
        &self,
        path: &str,
        key: &str,
        n: usize,
        extra: &[(&str, String)],
    ) -> Result<(Vec<Value>, Pagination)> {
        let mut params = vec![("page", n.to_string()), ("per_page", PER_PAGE.to_string())];
        params.extend(extra.iter().cloned());
        let v = self.call(Method::GET, &[path], &params, None).await?;
        let place = format!("{} page {n}", self.place(&Method::GET, path));
        let f = Fields::new(&v, place.clone())?;
        let items = match f.get(key) {
            Some(Value::Array(a)) => a.clone(),
            Some(_) => return Err(parse_error(&place, format!("`{key}` is not a list"))),
            None => return Err(parse_error(&place, format!("field `{key}` is missing"))),
        };
        let pagination = match f.object("pagination")? {
            Some(p) => Pagination {
                page: p.opt_int("page")?.map_or(n, |x| x.max(1) as usize),
                total_pages: p.int("total_pages")?.max(0) as usize,
                total_count: p.opt_int("total_count")?.map(|x| x.max(0) as usize),
            },
            // No paging facts: this page is all there is.
            None => Pagination {
                page: n,
                total_pages: n,
                total_count: None,
            },
        };
        Ok((items, pagination))
    }

    /// Every item of a paginated list, page after page (catalogue lists are short).
    async fn all_pages(&self, path: &str, key: &str) -> Result<Vec<Value>> {
        let mut out = Vec::new();
        let mut n = 1;
        loop {
            let (items, p) = self.page(path, key, n, &[]).await?;
            let empty = items.is_empty();
            out.extend(items);
            // Past the end Sure answers the last page again: stop at total_pages, or when it says another page.
            if empty || p.page != n || n >= p.total_pages {
                return Ok(out);
            }
            n += 1;
        }
    }

    async fn fetch_transaction(&self, id: &TxnId, catalog: &CatalogData) -> Result<RemoteTxn> {
        let v = self
            .call(Method::GET, &["transactions", &id.0], &[], None)
            .await
            .map_err(|e| not_found(e, id, self.core.server()))?;
        let place = format!("{} {}", self.place(&Method::GET, "transactions"), id);
        transaction(unwrap_txn(&v), &place, catalog)
    }

    /// The tag ids for `names`, creating on the server the tags it does not have yet.
    async fn tag_ids(&self, names: &[String], catalog: &Catalog) -> Result<Vec<String>> {
        let mut ids = Vec::with_capacity(names.len());
        for name in names {
            if let Some(id) = catalog
                .with(|c| c.tag(name).map(|t| t.id.clone()))
                .flatten()
            {
                ids.push(id);
                continue;
            }
            let body = json!({ "tag": { "name": name } });
            let created = match self.call(Method::POST, &["tags"], &[], Some(&body)).await {
                Ok(v) => tag(&v, &self.place(&Method::POST, "tags"))?,
                // Created meanwhile by someone else ("Name has already been taken"): read the list again.
                Err(BackendError::Http { status: 422, .. }) => {
                    let all = self.tags().await?;
                    let found = all.iter().find(|t| t.name.eq_ignore_ascii_case(name));
                    found.cloned().ok_or_else(|| {
                        BackendError::Conflict(format!(
                            "{}: the tag {name:?} could not be created and is not listed",
                            self.core.server()
                        ))
                    })?
                }
                Err(e) => return Err(e),
            };
            ids.push(created.id.clone());
            catalog.with(|c| c.tags.push(created));
        }
        Ok(ids)
    }

    async fn tags(&self) -> Result<Vec<RemoteTag>> {
        let v = self.call(Method::GET, &["tags"], &[], None).await?;
        let place = self.place(&Method::GET, "tags");
        let list = v
            .as_array()
            .ok_or_else(|| parse_error(&place, "expected a list of tags"))?;
        list.iter().map(|t| tag(t, &place)).collect()
    }

    /// The PATCH body for `patch` applied to `current`, and the tag names the server should end up with.
    async fn patch_body(
        &self,
        current: &Transaction,
        patch: &TxnPatch,
        catalog: &Catalog,
    ) -> Result<(Map<String, Value>, Option<Vec<String>>)> {
        let mut body = Map::new();
        let mut want_tags = None;
        if !patch.add_tags.is_empty() || !patch.remove_tags.is_empty() {
            let names = tag_set(current, patch)?;
            let unchanged = names.len() == current.tags.len()
                && current.tags.iter().all(|t| names.contains(&t.to_string()));
            if !unchanged {
                body.insert(
                    "tag_ids".into(),
                    json!(self.tag_ids(&names, catalog).await?),
                );
            }
            want_tags = Some(names);
        }
        if let Some(name) = &patch.category {
            let id = catalog
                .with(|c| c.category(name).map(|x| x.id.clone()))
                .flatten()
                .ok_or_else(|| BackendError::Invalid {
                    param: "category".into(),
                    message: format!(
                        "{} has no category named {name:?} (categories are created in Sure itself)",
                        self.core.server()
                    ),
                })?;
            if current.category.as_deref() != Some(name.as_str()) {
                body.insert("category_id".into(), json!(id));
            }
        }
        if let Some(note) = &patch.note
            && &current.note != note
        {
            body.insert("notes".into(), json!(note));
        }
        Ok((body, want_tags))
    }
}

fn not_found(e: BackendError, id: &TxnId, server: &str) -> BackendError {
    match e {
        BackendError::Http { status: 404, .. } => {
            BackendError::NotFound(format!("{id} on {server} (HTTP 404)"))
        }
        other => other,
    }
}

/// Sure answers a single transaction bare; accept it wrapped as `{"transaction": …}` too.
fn unwrap_txn(v: &Value) -> &Value {
    v.get("transaction").filter(|t| t.is_object()).unwrap_or(v)
}

/// The Sure tag names a transaction should carry after `patch`: its current ones (exactly as the server spells
/// them), less those the patch removes or gives a new value, plus those it adds. Names compare without case.
fn tag_set(current: &Transaction, patch: &TxnPatch) -> Result<Vec<String>> {
    let touched = |t: &Tag| {
        patch
            .remove_tags
            .iter()
            .chain(patch.add_tags.iter().map(|a| &a.name))
            .any(|r| r.eq_ignore_ascii_case(&t.name))
    };
    let mut names: Vec<String> = current
        .tags
        .iter()
        .filter(|t| !touched(t) || patch.add_tags.contains(t))
        .map(Tag::to_string)
        .collect();
    for t in &patch.add_tags {
        let name = t.to_string();
        if t.name.trim().is_empty() {
            return Err(BackendError::Invalid {
                param: "tags".into(),
                message: "a tag needs a name".into(),
            });
        }
        if !names.iter().any(|n| n.eq_ignore_ascii_case(&name)) {
            names.push(name);
        }
    }
    Ok(names)
}

/// A Sure tag name as a domain tag. Sure tags have no values; a name written `name:value` (no blanks around the
/// colon), as tally writes a tag with a value, reads back as that tag, so `tag:trip=lisbon` finds it. Anything else
/// is a name alone. `Tag::to_string` gives the server's name back exactly either way.
fn sure_tag(name: &str) -> Tag {
    match name.split_once(':') {
        Some((n, v))
            if !n.is_empty()
                && !v.is_empty()
                && !n.ends_with(char::is_whitespace)
                && !v.starts_with(char::is_whitespace) =>
        {
            Tag::new(n, v)
        }
        _ => Tag::new(name, ""),
    }
}

fn tag(v: &Value, place: &str) -> Result<RemoteTag> {
    let f = Fields::new(v, place)?;
    Ok(RemoteTag {
        id: f.str("id")?,
        name: f.str("name")?,
    })
}

fn account(v: &Value, place: &str) -> Result<Account> {
    let f = Fields::new(v, place)?;
    let name = f.str("name")?;
    let kind = match f.opt_str("classification")?.as_deref() {
        Some("liability") => AccountKind::Liability,
        Some(_) => AccountKind::Asset,
        None if liability(&f.opt_str("account_type")?.unwrap_or_default()) => {
            AccountKind::Liability
        }
        None => AccountKind::Asset,
    };
    let mut balance = Balance::new();
    // Older servers send only the localized `balance` string, which is never parsed: no balance then.
    if let (Some(cents), Some(currency)) = (f.opt_int("balance_cents")?, f.opt_str("currency")?) {
        let q = from_minor(cents, &currency);
        // A liability is stored positive when owed; from the holder's side that is money owed: negative.
        balance.add(
            if kind == AccountKind::Liability {
                -q
            } else {
                q
            },
            &currency,
        );
    }
    Ok(Account {
        name,
        kind,
        balance,
        id: f.str("id")?,
    })
}

fn category(v: &Value, place: &str, accounts: &[Account]) -> Result<Category> {
    let f = Fields::new(v, place)?;
    let kind = match f.opt_str("classification")?.as_deref() {
        Some("income") => AccountKind::Income,
        _ => AccountKind::Expense,
    };
    Ok(Category {
        id: f.str("id")?,
        name: category_name(&f.str("name")?, accounts),
        kind,
    })
}

/// A category's name, told apart from an account of the same name (they are different things in one index).
fn category_name(name: &str, accounts: &[Account]) -> String {
    if accounts.iter().any(|a| a.name == name) {
        format!("{name} (category)")
    } else {
        name.to_string()
    }
}

/// A Sure transaction in the domain's terms (see the module note for the mapping).
fn transaction(v: &Value, place: &str, catalog: &CatalogData) -> Result<RemoteTxn> {
    let f = Fields::new(v, place)?;
    let id = f.str("id")?;
    let f = Fields::new(v, format!("{place} (transaction {id})"))?;
    let currency = f.str("currency")?;
    let cents = match f.opt_int("signed_amount_cents")? {
        Some(c) => c,
        // Older answers: the absolute amount and the classification give the sign.
        None => {
            let abs = f
                .int("amount_cents")
                .map_err(|_| parse_error(f.place(), "field `signed_amount_cents` is missing"))?;
            match f.str("classification")?.as_str() {
                "income" => abs.abs(),
                _ => -abs.abs(),
            }
        }
    };
    let amount = from_minor(cents, &currency);
    let own = f
        .object("account")?
        .ok_or_else(|| parse_error(f.place(), "field `account` is missing"))?;
    let account_id = own.opt_str("id")?.unwrap_or_default();
    let account_name = own.str("name")?;
    let account_kind = match catalog.accounts.iter().find(|a| a.id == account_id) {
        Some(a) => a.kind,
        None if liability(&own.opt_str("account_type")?.unwrap_or_default()) => {
            AccountKind::Liability
        }
        None => AccountKind::Asset,
    };
    let posting = |account: String, quantity, kind| Posting {
        account,
        amount: Money::new(quantity, currency.clone()),
        cost: None,
        kind: PostingKind::Real,
        account_kind: Some(kind),
        tags: Vec::new(),
        comment: String::new(),
    };
    let mut postings = vec![posting(account_name.clone(), amount, account_kind)];
    let transfer = f.object("transfer")?.is_some();
    let category = match f.object("category")? {
        Some(c) => {
            let cid = c.opt_str("id")?.unwrap_or_default();
            let known = catalog.categories.iter().find(|x| x.id == cid);
            let (name, kind) = match known {
                Some(k) => (k.name.clone(), k.kind),
                None => {
                    let kind = match f.opt_str("classification")?.as_deref() {
                        Some("income") => AccountKind::Income,
                        _ => AccountKind::Expense,
                    };
                    (category_name(&c.str("name")?, &catalog.accounts), kind)
                }
            };
            postings.push(posting(name.clone(), -amount, kind));
            Some(name)
        }
        None => None,
    };
    let name = f.opt_str("name")?.unwrap_or_default();
    let merchant = match f.object("merchant")? {
        Some(m) => m.opt_str("name")?,
        None => None,
    };
    let mut tags = Vec::new();
    for (i, t) in f.array("tags")?.iter().enumerate() {
        let t = Fields::new(t, format!("{} tag {}", f.place(), i + 1))?;
        tags.push(sure_tag(&t.str("name")?));
    }
    let created = f.opt_str("created_at")?.unwrap_or_default();
    let txn = Transaction {
        id: TxnId(id.clone()),
        date: f.date("date")?,
        status: Status::Unmarked,
        payee: merchant
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| name.clone()),
        description: name,
        note: f.opt_str("notes")?.unwrap_or_default(),
        code: String::new(),
        tags,
        postings,
        needs_review: Some(category.is_none() && !transfer),
        category,
        source: account_name,
        read_only: false,
    };
    Ok(RemoteTxn {
        txn,
        order: format!("{created}|{id}"),
    })
}

/// Whether the server's transaction shows what the patch asked for.
fn confirms(t: &Transaction, want_tags: &Option<Vec<String>>, patch: &TxnPatch) -> bool {
    let tags_ok = want_tags.as_ref().is_none_or(|want| {
        want.len() == t.tags.len()
            && want
                .iter()
                .all(|w| t.tags.iter().any(|x| x.to_string().eq_ignore_ascii_case(w)))
    });
    tags_ok
        && patch.category.as_ref().is_none_or(|c| {
            t.category
                .as_deref()
                .is_some_and(|x| x.eq_ignore_ascii_case(c))
        })
        && patch.note.as_ref().is_none_or(|n| &t.note == n)
}

#[async_trait]
impl Dialect for Sure {
    fn name(&self) -> &'static str {
        "sure"
    }

    fn server(&self) -> &str {
        self.core.server()
    }

    fn http(&self) -> Option<&HttpCore> {
        Some(&self.core)
    }

    fn capabilities(&self) -> Capabilities {
        let mut caps = Capabilities::read_only(format!("sure {}", self.core.server()));
        caps.edit_tags = true;
        caps.bulk_tag = true;
        caps.edit_category = true;
        caps.edit_notes = true;
        caps.sources = true;
        caps.sync = true;
        caps.reasons = BTreeMap::from([
            (
                "edit_status".to_string(),
                "Sure has no cleared/pending status; its review queue is \"no category\" (set one with c)"
                    .to_string(),
            ),
            (
                "review_queue".to_string(),
                "transactions without a category (Sure has no review status)".to_string(),
            ),
            (
                "clear_category".to_string(),
                "Sure cannot take a category away (its API ignores a blank one); set another instead"
                    .to_string(),
            ),
            (
                "manage_tags".to_string(),
                "tags are created on Sure when first used; rename or delete them in Sure".to_string(),
            ),
        ]);
        caps
    }

    fn incremental(&self) -> bool {
        true
    }

    async fn catalog(&self) -> Result<CatalogData> {
        let accounts = self.all_pages("accounts", "accounts").await?;
        let place = self.place(&Method::GET, "accounts");
        let mut accounts: Vec<Account> = accounts
            .iter()
            .enumerate()
            .map(|(i, a)| account(a, &format!("{place}: account {}", i + 1)))
            .collect::<Result<_>>()?;
        accounts.sort_by(|a, b| a.name.cmp(&b.name));
        let place = self.place(&Method::GET, "categories");
        let categories = self
            .all_pages("categories", "categories")
            .await?
            .iter()
            .enumerate()
            .map(|(i, c)| category(c, &format!("{place}: category {}", i + 1), &accounts))
            .collect::<Result<_>>()?;
        let tags = self.tags().await?;
        Ok(CatalogData {
            accounts,
            categories,
            tags,
        })
    }

    async fn transactions(
        &self,
        scope: SyncScope,
        catalog: &CatalogData,
        sink: &mut BatchSink<'_>,
    ) -> Result<()> {
        let filter: Vec<(&str, String)> = match scope {
            SyncScope::All => Vec::new(),
            SyncScope::Since(d) => vec![("start_date", d.to_string())],
        };
        let convert = |n: usize, items: &[Value]| -> Result<Vec<RemoteTxn>> {
            let place = format!("{} page {n}", self.place(&Method::GET, "transactions"));
            items
                .iter()
                .enumerate()
                .map(|(i, v)| transaction(v, &format!("{place}: item {}", i + 1), catalog))
                .collect()
        };
        let (first, p) = self
            .page("transactions", "transactions", 1, &filter)
            .await?;
        let total = p.total_count;
        let last = p.total_pages.max(1);
        sink(TxnBatch {
            txns: convert(1, &first)?,
            total,
        })?;
        let filter = &filter;
        let mut rest = futures::stream::iter(2..=last)
            .map(|n| async move {
                let (items, p) = self.page("transactions", "transactions", n, filter).await?;
                Ok::<_, BackendError>((n, items, p))
            })
            .buffered(CONCURRENT_PAGES);
        while let Some(page) = rest.next().await {
            let (n, items, p) = page?;
            // A page that says it is another one is Sure's "past the end": the listing shrank meanwhile.
            if p.page != n {
                break;
            }
            sink(TxnBatch {
                txns: convert(n, &items)?,
                total,
            })?;
        }
        Ok(())
    }

    async fn write(&self, id: &TxnId, patch: &TxnPatch, catalog: &Catalog) -> Result<RemoteTxn> {
        if patch.status.is_some() {
            return Err(BackendError::Unsupported(
                "Sure has no cleared/pending status".into(),
            ));
        }
        let data = catalog.get();
        let current = self.fetch_transaction(id, &data).await?;
        let (body, want_tags) = self.patch_body(&current.txn, patch, catalog).await?;
        if body.is_empty() {
            return Ok(current);
        }
        let body = json!({ "transaction": body });
        let v = self
            .call(Method::PATCH, &["transactions", &id.0], &[], Some(&body))
            .await
            .map_err(|e| not_found(e, id, self.core.server()))?;
        let place = format!("{} {}", self.place(&Method::PATCH, "transactions"), id);
        let after = transaction(unwrap_txn(&v), &place, &catalog.get())?;
        if !confirms(&after.txn, &want_tags, patch) {
            return Err(BackendError::Conflict(format!(
                "{place}: the server answered 200 but its transaction does not show the change"
            )));
        }
        Ok(after)
    }

    fn review_flag(&self, t: &Transaction) -> Option<bool> {
        // "No category", unless it is a transfer (a transaction with no category posting was listed as one only
        // if the server said it needs review).
        match t.needs_review {
            Some(true) | None => Some(t.category.is_none()),
            Some(false) => Some(false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> CatalogData {
        CatalogData {
            accounts: vec![Account {
                name: "Amex Gold".into(),
                kind: AccountKind::Liability,
                balance: Balance::new(),
                id: "acc-amex".into(),
            }],
            categories: vec![Category {
                id: "cat-food".into(),
                name: "Food & Drink".into(),
                kind: AccountKind::Expense,
            }],
            tags: vec![],
        }
    }

    #[test]
    fn money_comes_from_signed_cents_in_minor_units_never_from_the_display_string() {
        let v = json!({
            "id": "t1", "date": "2024-01-15", "amount": "¥1,200", "amount_cents": 1200,
            "signed_amount_cents": -1200, "currency": "JPY", "name": "Sushi", "notes": null,
            "classification": "expense",
            "account": {"id": "acc-amex", "name": "Amex Gold", "account_type": "credit_card"},
            "category": {"id": "cat-food", "name": "Food & Drink"},
            "merchant": {"id": 3, "name": "Sushi Zen"}, "tags": [{"id": "g1", "name": "Vacation"}],
            "transfer": null, "created_at": "2024-01-15T10:30:00Z"
        });
        let t = transaction(&v, "srv", &catalog()).expect("parses").txn;
        assert_eq!(t.amount().get("JPY").to_string(), "-1200");
        assert_eq!(t.postings[0].account_kind, Some(AccountKind::Liability));
        assert_eq!(t.category.as_deref(), Some("Food & Drink"));
        assert_eq!(t.payee, "Sushi Zen");
        assert_eq!(t.description, "Sushi");
        assert_eq!(t.tags, vec![Tag::new("Vacation", "")]);
        assert_eq!(t.needs_review, Some(false));
        assert_eq!(t.account(), Some("Amex Gold"));
    }

    #[test]
    fn a_missing_amount_is_an_error_naming_the_field_and_the_transaction() {
        let v = json!({"id": "t9", "date": "2024-01-15", "currency": "USD",
                       "account": {"id": "a", "name": "Checking"}});
        let e = transaction(&v, "http://h: GET /api/v1/transactions page 2", &catalog())
            .expect_err("no amount")
            .to_string();
        assert!(e.contains("page 2") && e.contains("t9"), "{e}");
        assert!(e.contains("signed_amount_cents"), "{e}");
    }

    #[test]
    fn liabilities_owed_are_negative_from_the_holder_s_side() {
        let a = account(
            &json!({"id": "x", "name": "Amex", "balance": "$1,000.00", "balance_cents": 100000,
                    "currency": "USD", "classification": "liability", "account_type": "credit_card"}),
            "srv",
        )
        .expect("account");
        assert_eq!(a.balance.get("USD").to_string(), "-1000.00");
    }

    #[test]
    fn tag_sets_keep_what_the_patch_does_not_touch() {
        let mut t = transaction(
            &json!({"id": "t", "date": "2024-01-01", "signed_amount_cents": -5, "currency": "USD",
                    "account": {"id": "a", "name": "A"},
                    "tags": [{"id": "1", "name": "Work expense"}, {"id": "2", "name": "review"}]}),
            "srv",
            &catalog(),
        )
        .expect("txn")
        .txn;
        let patch = TxnPatch {
            add_tags: vec![Tag::new("trip", "lisbon"), Tag::new("Work expense", "")],
            remove_tags: vec!["Review".into()],
            ..TxnPatch::default()
        };
        assert_eq!(
            tag_set(&t, &patch).expect("set"),
            vec!["Work expense".to_string(), "trip:lisbon".to_string()]
        );
        assert_eq!(sure_tag("trip:lisbon"), Tag::new("trip", "lisbon"));
        assert_eq!(sure_tag("Project: Alpha"), Tag::new("Project: Alpha", ""));
        assert_eq!(sure_tag("Project: Alpha").to_string(), "Project: Alpha");
        t.tags.clear();
        assert!(confirms(&t, &Some(vec![]), &TxnPatch::default()));
    }
}

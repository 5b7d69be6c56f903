//! The REST client backend for the tally API (`assets/openapi.json`): what `tally serve` speaks, and the
//! Refinal-style API of the seed it follows. Every `Backend` call maps onto one endpoint; the query travels as `q`
//! in tally's own query language, so a remote ledger filters, counts and sums exactly as the local one does.
//! Listing maps `offset`/`limit` onto `page`/`limit`: one request when a page size ≤ 200 covers the slice, else
//! the covering 200-item pages, the first alone (it tells the total) and the rest concurrently, at most
//! `PAGE_CONCURRENCY` at a time. Writes are not retried blindly (see `client`): a PATCH that failed after it was
//! sent is checked by reading the transaction back; it is re-sent only if the change is not there.
//! Capabilities come from the server's `/capabilities` (fetched by `connect`, or lazily by the first call);
//! until then the API's own capabilities are reported. A reconciled statement is not kept: the API has no place for
//! it and this client no local store (`remember_statement` does nothing, `last_statement` knows none).

pub mod client;
pub mod currency;
pub mod dialect;
pub mod fields;
pub mod finwise;
pub mod finx;
pub mod hledger_web;
pub mod query_text;
pub mod sure;
pub mod synci;
pub mod wire;

use crate::backend::{
    Backend, BackendError, BreakdownRow, BulkResult, Capabilities, Diagnostic, Dimension, GroupBy,
    PageRequest, PeriodSummary, Result, Source, TagInfo, TxnPage, TxnPatch,
};
use crate::domain::{Account, AccountKind, Balance, Tag, Transaction, TxnId};
use crate::query::Query;
use async_trait::async_trait;
use client::{CoreOptions, HttpCore, Retry};
use futures::StreamExt;
use reqwest::{Method, Url};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::time::Duration;
use tokio::sync::OnceCell;
use wire::{
    BulkTagResult, Data, TxnList, WireAccount, WireBreakdownRow, WirePeriod, WireTxn,
    balance_from_wire,
};

/// Largest page the API serves.
pub const MAX_PAGE: usize = 200;
/// Pages fetched at once when a listing spans many.
pub const PAGE_CONCURRENCY: usize = 6;
/// Most ids sent in one bulk-tag call (the server's limit); larger selections go in several calls.
pub const BULK_CHUNK: usize = 10_000;

/// How to reach a tally API server. `api_key` comes from the environment or `api_key_cmd`, never from argv.
#[derive(Clone)]
pub struct RestOptions {
    pub base_url: String,
    pub api_key: Option<String>,
    /// Client-side budget; 0 = unlimited.
    pub requests_per_minute: u32,
    /// Allow plain `http://` to a host that is not loopback.
    pub allow_http: bool,
    pub timeout: Duration,
}

impl std::fmt::Debug for RestOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RestOptions")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("requests_per_minute", &self.requests_per_minute)
            .field("allow_http", &self.allow_http)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl Default for RestOptions {
    fn default() -> Self {
        RestOptions {
            base_url: "http://127.0.0.1:8080".into(),
            api_key: None,
            requests_per_minute: 0,
            allow_http: false,
            timeout: Duration::from_secs(30),
        }
    }
}

#[derive(Debug)]
pub struct RestBackend {
    core: HttpCore,
    caps: OnceCell<Capabilities>,
    /// When `reload` last asked the server, and the change counter it saw.
    last_change: std::sync::Mutex<Option<(std::time::Instant, String)>>,
}

/// `reload` asks the server at most this often (the dashboard calls it several times a minute).
pub const CHANGE_POLL_INTERVAL: Duration = Duration::from_secs(3);

#[derive(serde::Deserialize)]
struct Changes {
    generation: String,
}

/// Why a REST backend writes no balance assertions, whatever the server behind it holds.
const NO_ASSERTIONS: &str =
    "the REST API has no balance assertions: reconciling clears statuses only";

/// Says that balance assertions cannot be written through the API (even when the server's own backend could).
fn without_assertions(mut caps: Capabilities) -> Capabilities {
    caps.balance_assertions = false;
    caps.reasons
        .insert("balance_assertions".into(), NO_ASSERTIONS.into());
    caps
}

/// What the tally API can do when the server does not say otherwise.
fn api_capabilities(label: String) -> Capabilities {
    without_assertions(Capabilities {
        edit_status: true,
        edit_tags: true,
        edit_category: true,
        edit_notes: true,
        bulk_tag: true,
        manage_tags: true,
        server_analytics: true,
        sources: true,
        sync: true,
        archive: false,
        watch: false,
        balance_assertions: false,
        label,
        reasons: Default::default(),
    })
}

impl RestBackend {
    pub fn new(opts: RestOptions) -> Result<Self, BackendError> {
        let core = HttpCore::new(CoreOptions {
            base_url: &opts.base_url,
            api_key: opts.api_key.as_deref(),
            requests_per_minute: opts.requests_per_minute,
            allow_http: opts.allow_http,
            timeout: opts.timeout,
            ..CoreOptions::default()
        })?;
        Ok(RestBackend {
            core,
            caps: OnceCell::new(),
            last_change: std::sync::Mutex::new(None),
        })
    }

    /// `new`, then asks the server what it can do (and so checks the URL and the key right away).
    pub async fn connect(opts: RestOptions) -> Result<Self, BackendError> {
        let b = RestBackend::new(opts)?;
        b.ensure_capabilities().await?;
        Ok(b)
    }

    pub fn server(&self) -> &str {
        self.core.server()
    }

    async fn ensure_capabilities(&self) -> Result<&Capabilities> {
        self.caps
            .get_or_try_init(|| async {
                match self.get::<Data<Capabilities>>(&["capabilities"], &[]).await {
                    Ok(d) => {
                        let mut caps = d.data;
                        caps.label = format!("{} via {}", caps.label, self.core.server());
                        Ok(without_assertions(caps))
                    }
                    // A Refinal-style server without tally's extension: the API's own capabilities.
                    Err(BackendError::Http { status: 404, .. }) => {
                        Ok(api_capabilities(format!("REST {}", self.core.server())))
                    }
                    Err(e) => Err(e),
                }
            })
            .await
    }

    fn url(&self, segments: &[&str], params: &[(&str, String)]) -> Url {
        let mut url = self.core.url(segments);
        if !params.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(params.iter().map(|(k, v)| (*k, v.as_str())));
        }
        url
    }

    fn decode<T: DeserializeOwned>(&self, bytes: &[u8], what: &str) -> Result<T> {
        serde_json::from_slice(bytes).map_err(|e| {
            BackendError::Parse(format!(
                "{}: the answer to {what} is not what the tally API document says: {e}",
                self.core.server()
            ))
        })
    }

    async fn get<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        params: &[(&str, String)],
    ) -> Result<T> {
        let url = self.url(segments, params);
        let answer = self
            .core
            .send(Method::GET, url, None, Retry::Idempotent)
            .await?;
        self.decode(&answer.body, &format!("GET /{}", segments.join("/")))
    }

    async fn write(
        &self,
        method: Method,
        segments: &[&str],
        body: Option<&Value>,
    ) -> Result<Vec<u8>> {
        let url = self.url(segments, &[]);
        let answer = self.core.send(method, url, body, Retry::UnlessSent).await?;
        Ok(answer.body)
    }

    async fn fetch_page(
        &self,
        q: &str,
        page: usize,
        limit: usize,
        req: &PageRequest,
    ) -> Result<TxnList> {
        let mut params = vec![
            ("page", page.to_string()),
            ("limit", limit.to_string()),
            ("sort", req.sort.name().to_string()),
            (
                "order",
                if req.ascending { "asc" } else { "desc" }.to_string(),
            ),
        ];
        if !q.is_empty() {
            params.push(("q", q.to_string()));
        }
        self.get(&["transactions"], &params)
            .await
            .map_err(|e| client::classify(e, None))
    }
}

/// The smallest page size (≤ 200) whose one page covers `offset..offset+limit`, if any.
fn single_page_size(offset: usize, limit: usize) -> Option<usize> {
    if limit == 0 || limit > MAX_PAGE {
        return None;
    }
    let last = offset.checked_add(limit - 1)?;
    (limit..=MAX_PAGE).find(|p| offset / p == last / p)
}

fn patch_body(patch: &TxnPatch) -> Value {
    let mut body = serde_json::Map::new();
    if patch.archive {
        body.insert("archive".into(), json!(true));
    }
    if !patch.add_tags.is_empty() {
        body.insert(
            "add_tags".into(),
            json!(
                patch
                    .add_tags
                    .iter()
                    .map(Tag::to_string)
                    .collect::<Vec<_>>()
            ),
        );
    }
    if !patch.remove_tags.is_empty() {
        body.insert("remove_tags".into(), json!(patch.remove_tags));
    }
    if let Some(s) = patch.status {
        body.insert("status".into(), json!(s.name()));
    }
    if let Some(c) = &patch.category {
        body.insert("category".into(), json!(c));
    }
    if let Some(n) = &patch.note {
        body.insert("note".into(), json!(n));
    }
    Value::Object(body)
}

/// A write that failed this way may or may not have been applied.
fn outcome_unknown(e: &BackendError) -> bool {
    match e {
        BackendError::Network { .. } => true,
        BackendError::Http { status, .. } => *status >= 500,
        _ => false,
    }
}

/// Whether `t` already shows every change `patch` asks for.
fn patch_applied(t: &Transaction, patch: &TxnPatch) -> bool {
    patch.status.is_none_or(|s| t.status == s)
        && patch
            .category
            .as_ref()
            .is_none_or(|c| t.category.as_deref() == Some(c.as_str()))
        && patch.note.as_ref().is_none_or(|n| &t.note == n)
        && patch.add_tags.iter().all(|a| t.tags.contains(a))
        && patch.remove_tags.iter().all(|r| {
            !t.tags.iter().any(|x| &x.name == r) || patch.add_tags.iter().any(|a| &a.name == r)
        })
}

#[async_trait]
impl Backend for RestBackend {
    fn capabilities(&self) -> Capabilities {
        self.caps
            .get()
            .cloned()
            .unwrap_or_else(|| api_capabilities(format!("REST {}", self.core.server())))
    }

    async fn diagnostics(&self) -> Vec<Diagnostic> {
        match self
            .get::<Data<Vec<Diagnostic>>>(&["diagnostics"], &[])
            .await
        {
            Ok(d) => d.data,
            Err(BackendError::Http { status: 404, .. }) => Vec::new(),
            // Not a problem in the ledger: the next real call reports the same failure with its own context.
            Err(e) => {
                tracing::warn!("cannot read the server's diagnostics: {e}");
                Vec::new()
            }
        }
    }

    async fn accounts(&self) -> Result<Vec<Account>> {
        self.ensure_capabilities().await?;
        match self.get::<Data<Vec<WireAccount>>>(&["accounts"], &[]).await {
            Ok(d) => Ok(d.data.into_iter().map(Account::from).collect()),
            // A Refinal-style server: each source is an account.
            Err(BackendError::Http { status: 404, .. }) => Ok(self
                .sources()
                .await?
                .into_iter()
                .map(|s| Account {
                    name: s.name,
                    kind: AccountKind::Asset,
                    balance: Balance::new(),
                    id: s.id,
                })
                .collect()),
            Err(e) => Err(e),
        }
    }

    async fn transactions(&self, query: &Query, page: PageRequest) -> Result<TxnPage> {
        self.ensure_capabilities().await?;
        let q = query_text::query_text(query)?;
        if page.limit == 0 {
            let first = self.fetch_page(&q, 1, 1, &page).await?;
            return Ok(TxnPage {
                items: Vec::new(),
                total: first.meta.total,
                sum: balance_from_wire(&first.meta.sum),
                before: None,
            });
        }
        let (size, first_page, last_page) = match single_page_size(page.offset, page.limit) {
            Some(p) => (p, page.offset / p + 1, page.offset / p + 1),
            None => {
                let last = page.offset.saturating_add(page.limit - 1);
                (MAX_PAGE, page.offset / MAX_PAGE + 1, last / MAX_PAGE + 1)
            }
        };
        if first_page > u32::MAX as usize {
            // Far past any real ledger's end: ask for the facts only.
            let first = self.fetch_page(&q, 1, 1, &page).await?;
            return Ok(TxnPage {
                items: Vec::new(),
                total: first.meta.total,
                sum: balance_from_wire(&first.meta.sum),
                before: None,
            });
        }
        let first = self.fetch_page(&q, first_page, size, &page).await?;
        let total = first.meta.total;
        let sum = balance_from_wire(&first.meta.sum);
        let last_page = last_page.min(total.div_ceil(size)).max(first_page);
        let mut wires = first.data;
        if last_page > first_page {
            let q = &q;
            let page_ref = &page;
            let mut rest = futures::stream::iter(first_page + 1..=last_page)
                .map(|n| async move { self.fetch_page(q, n, size, page_ref).await })
                .buffered(PAGE_CONCURRENCY);
            while let Some(p) = rest.next().await {
                wires.extend(p?.data);
            }
        }
        let skip = page.offset - (first_page - 1) * size;
        let items = wires
            .into_iter()
            .skip(skip)
            .take(page.limit)
            .map(Transaction::from)
            .collect();
        // The API does not carry running balances: a register over it shows amounts without them.
        Ok(TxnPage {
            items,
            total,
            sum,
            before: None,
        })
    }

    async fn transaction(&self, id: &TxnId) -> Result<Transaction> {
        let d: Data<WireTxn> = self
            .get(&["transactions", &id.0], &[])
            .await
            .map_err(|e| client::classify(e, Some(&id.0)))?;
        Ok(d.data.into())
    }

    async fn update_transaction(&self, id: &TxnId, patch: &TxnPatch) -> Result<Transaction> {
        if patch.assertion.is_some() {
            return Err(BackendError::Unsupported(format!(
                "writing a balance assertion: {NO_ASSERTIONS}"
            )));
        }
        let body = patch_body(patch);
        let sent = self
            .write(Method::PATCH, &["transactions", &id.0], Some(&body))
            .await;
        let bytes = match sent {
            Ok(b) => b,
            Err(first_err) if outcome_unknown(&first_err) => {
                // Sent, but no answer: read the transaction back; re-send once only if the change is missing.
                tracing::warn!(error = %first_err, "PATCH outcome unknown; checking");
                let current = match self.transaction(id).await {
                    Ok(t) => t,
                    Err(_) => return Err(first_err),
                };
                if patch_applied(&current, patch) {
                    return Ok(current);
                }
                self.write(Method::PATCH, &["transactions", &id.0], Some(&body))
                    .await
                    .map_err(|e| client::classify(e, Some(&id.0)))?
            }
            Err(e) => return Err(client::classify(e, Some(&id.0))),
        };
        let d: Data<WireTxn> = self.decode(&bytes, "PATCH /transactions/{id}")?;
        Ok(d.data.into())
    }

    async fn bulk_tag(&self, ids: &[TxnId], add: &[Tag], remove: &[String]) -> Result<BulkResult> {
        let mut total = BulkResult::default();
        for chunk in ids.chunks(BULK_CHUNK) {
            let body = json!({
                "ids": chunk.iter().map(|i| i.0.as_str()).collect::<Vec<_>>(),
                "add": add.iter().map(Tag::to_string).collect::<Vec<_>>(),
                "remove": remove,
            });
            let bytes = self
                .write(Method::POST, &["transactions", "bulk-tag"], Some(&body))
                .await
                .map_err(|e| match e {
                    BackendError::Http {
                        status: 404,
                        message,
                        ..
                    } => {
                        // The server names the missing id: "transaction ID not found; nothing was changed".
                        let id = message
                            .strip_prefix("transaction ")
                            .and_then(|m| m.split_once(" not found"))
                            .map_or(message.as_str(), |(id, _)| id);
                        BackendError::NotFound(format!(
                            "{id} on {} (HTTP 404; nothing was changed)",
                            self.core.server()
                        ))
                    }
                    other => client::classify(other, None),
                })?;
            let d: Data<BulkTagResult> = self.decode(&bytes, "POST /transactions/bulk-tag")?;
            total.changed += d.data.changed;
            total.unchanged += d.data.unchanged;
        }
        Ok(total)
    }

    async fn tags(&self) -> Result<Vec<TagInfo>> {
        let d: Data<Vec<TagInfo>> = self.get(&["tags"], &[]).await?;
        Ok(d.data)
    }

    async fn create_tag(&self, name: &str) -> Result<TagInfo> {
        let bytes = self
            .write(Method::POST, &["tags"], Some(&json!({ "name": name })))
            .await
            .map_err(|e| client::classify(e, None))?;
        let d: Data<TagInfo> = self.decode(&bytes, "POST /tags")?;
        Ok(d.data)
    }

    async fn rename_tag(&self, id: &str, new_name: &str) -> Result<TagInfo> {
        let bytes = self
            .write(
                Method::PATCH,
                &["tags", id],
                Some(&json!({ "name": new_name })),
            )
            .await
            .map_err(|e| client::classify(e, Some(id)))?;
        let d: Data<TagInfo> = self.decode(&bytes, "PATCH /tags/{id}")?;
        Ok(d.data)
    }

    async fn delete_tag(&self, id: &str) -> Result<()> {
        self.write(Method::DELETE, &["tags", id], None)
            .await
            .map_err(|e| client::classify(e, Some(id)))?;
        Ok(())
    }

    async fn summary(&self, query: &Query, group_by: GroupBy) -> Result<Vec<PeriodSummary>> {
        let mut params = vec![("group_by", group_by.name().to_string())];
        let q = query_text::query_text(query)?;
        if !q.is_empty() {
            params.push(("q", q));
        }
        let d: Data<Vec<WirePeriod>> = self
            .get(&["analytics", "summary"], &params)
            .await
            .map_err(|e| client::classify(e, None))?;
        Ok(d.data.into_iter().map(PeriodSummary::from).collect())
    }

    async fn breakdown(&self, query: &Query, dimension: Dimension) -> Result<Vec<BreakdownRow>> {
        let mut params = vec![("dimension", dimension.name().to_string())];
        let q = query_text::query_text(query)?;
        if !q.is_empty() {
            params.push(("q", q));
        }
        let d: Data<Vec<WireBreakdownRow>> = self
            .get(&["analytics", "breakdown"], &params)
            .await
            .map_err(|e| client::classify(e, None))?;
        Ok(d.data.into_iter().map(BreakdownRow::from).collect())
    }

    /// The server's projections (`/analytics/projections`); a server without them: worked out here from the
    /// listing.
    async fn projections(
        &self,
        query: &Query,
        months: u32,
    ) -> Result<crate::analytics::recurring::Projections> {
        let mut params = vec![("months", months.to_string())];
        let q = query_text::query_text(query)?;
        if !q.is_empty() {
            params.push(("q", q));
        }
        match self
            .get::<Data<crate::analytics::recurring::Projections>>(
                &["analytics", "projections"],
                &params,
            )
            .await
        {
            Ok(d) => Ok(d.data),
            Err(BackendError::Http { status: 404, .. }) => {
                let txns = self.transactions(query, PageRequest::all()).await?.items;
                let samples = crate::backend::recent(
                    txns.iter()
                        .filter_map(|t| crate::analytics::recurring::Sample::of(t, &t.amount()))
                        .collect(),
                );
                let accounts = self.accounts().await?;
                Ok(crate::backend::projections_from(samples, &accounts, months))
            }
            Err(e) => Err(client::classify(e, None)),
        }
    }

    async fn sources(&self) -> Result<Vec<Source>> {
        let d: Data<Vec<Source>> = self.get(&["sources"], &[]).await?;
        Ok(d.data)
    }

    /// Polls the server's change counter (`/changes`), at most every `CHANGE_POLL_INTERVAL`; true when the
    /// ledger changed since the last poll (edits by anyone, this client included, or the file changed on disk).
    /// Nowhere to keep it: the tally API has no endpoint for statements, and this client keeps no local copy (it
    /// runs tally's queries on the server, so it has no mirror). Reconciling through it writes the statuses only,
    /// and `reconcile::session::apply` reads back `last_statement` to say the statement was not remembered.
    async fn remember_statement(&self, _statement: &crate::reconcile::Statement) -> Result<()> {
        Ok(())
    }

    /// Not known: see `remember_statement` (the server's own assertions are not sent over the API either).
    async fn last_statement(&self, _account: &str) -> Result<Option<crate::reconcile::Statement>> {
        Ok(None)
    }

    async fn reload(&self) -> Result<bool> {
        let due = match self.last_change.lock() {
            Ok(last) => last
                .as_ref()
                .is_none_or(|(at, _)| at.elapsed() >= CHANGE_POLL_INTERVAL),
            Err(_) => true,
        };
        if !due {
            return Ok(false);
        }
        let generation = match self.get::<Data<Changes>>(&["changes"], &[]).await {
            Ok(d) => d.data.generation,
            // A server without the extension: nothing to poll.
            Err(BackendError::Http { status: 404, .. }) => return Ok(false),
            Err(e) => return Err(e),
        };
        let mut last = self
            .last_change
            .lock()
            .map_err(|_| BackendError::Io("reload state lock poisoned".into()))?;
        let changed = last.as_ref().is_some_and(|(_, g)| *g != generation);
        *last = Some((std::time::Instant::now(), generation));
        Ok(changed)
    }

    async fn sync(&self, source: &str) -> Result<Source> {
        let bytes = self
            .write(Method::POST, &["sources", source, "sync"], None)
            .await
            .map_err(|e| client::classify(e, None))?;
        let d: Data<Source> = self.decode(&bytes, "POST /sources/{provider}/sync")?;
        Ok(d.data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slice_inside_one_page_is_one_request() {
        assert_eq!(single_page_size(0, 50), Some(50));
        assert_eq!(single_page_size(100, 50), Some(50));
        assert_eq!(single_page_size(10, 50), Some(60));
        assert_eq!(single_page_size(0, 200), Some(200));
        assert_eq!(single_page_size(150, 100), Some(125));
        assert_eq!(single_page_size(150, 190), None);
        assert_eq!(single_page_size(0, 201), None);
        assert_eq!(single_page_size(0, 0), None);
        // Whatever size is picked, the slice lies in one page.
        for offset in 0..450 {
            for limit in [1, 7, 50, 199, 200] {
                if let Some(p) = single_page_size(offset, limit) {
                    assert_eq!(offset / p, (offset + limit - 1) / p);
                    assert!(p <= MAX_PAGE && p >= limit);
                }
            }
        }
    }

    #[test]
    fn a_patch_counts_as_applied_only_when_every_change_shows() {
        use crate::domain::Status;
        let t = Transaction {
            id: TxnId("t".into()),
            date: chrono::NaiveDate::from_ymd_opt(2025, 1, 2).expect("date"),
            status: Status::Cleared,
            description: "Shop".into(),
            payee: "Shop".into(),
            note: "n".into(),
            code: String::new(),
            tags: vec![Tag::new("trip", "Lisbon")],
            postings: vec![],
            category: Some("expenses:food".into()),
            source: String::new(),
            needs_review: None,
            read_only: false,
        };
        let patch = |f: &dyn Fn(&mut TxnPatch)| {
            let mut p = TxnPatch::default();
            f(&mut p);
            p
        };
        assert!(patch_applied(
            &t,
            &patch(&|p| p.status = Some(Status::Cleared))
        ));
        assert!(!patch_applied(
            &t,
            &patch(&|p| p.status = Some(Status::Pending))
        ));
        assert!(patch_applied(
            &t,
            &patch(&|p| p.add_tags = vec![Tag::new("trip", "Lisbon")])
        ));
        assert!(!patch_applied(
            &t,
            &patch(&|p| p.add_tags = vec![Tag::new("trip", "Rome")])
        ));
        assert!(!patch_applied(
            &t,
            &patch(&|p| p.remove_tags = vec!["trip".into()])
        ));
        assert!(patch_applied(
            &t,
            &patch(&|p| p.remove_tags = vec!["work".into()])
        ));
        assert!(patch_applied(&t, &patch(&|p| p.note = Some("n".into()))));
        assert!(!patch_applied(
            &t,
            &patch(&|p| p.category = Some("expenses:rent".into()))
        ));
    }

    #[test]
    fn debug_output_hides_the_key() {
        let opts = RestOptions {
            api_key: Some("tk_live_very_secret".into()),
            ..RestOptions::default()
        };
        assert!(!format!("{opts:?}").contains("very_secret"));
        let b = RestBackend::new(opts).expect("loopback http is fine");
        assert!(!format!("{b:?}").contains("very_secret"));
    }
}

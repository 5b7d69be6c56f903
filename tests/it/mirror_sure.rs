//! tally against a server that answers as Sure's documents say (`tests/it/servers/sure.rs`, on 127.0.0.1): the
//! conformance suite on the mirror with the server's own data as the oracle; money, signs and minor units checked
//! transaction by transaction against what the server stores; the paging traps; `tag_ids` replacing the whole set
//! (untouched tags kept, new ones created); categories and notes; the review queue draining; the outbox pacing
//! itself under a rate limit and finishing after a restart; and bad answers (HTML pages, missing fields, a cut
//! connection, error bodies) reported with the server, status and message while the mirror stays as it was.

use crate::servers;

use crate::conformance_suite::{Balances, Oracle, run_all};
use async_trait::async_trait;
use rust_decimal::Decimal;
use servers::sure::{Fault, SureData, SureOptions, SureServer, minor_digits};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tally::backend::mirror::{MirrorBackend, MirrorOptions, Wait};
use tally::backend::rest::RestOptions;
use tally::backend::rest::sure::Sure;
use tally::backend::{Backend, BackendError, PageRequest, TxnPatch};
use tally::domain::{AccountKind, Status, Tag, TxnId};
use tally::query::{self, Query};

fn sure(server: &SureServer, key: &str) -> Box<Sure> {
    Box::new(
        Sure::new(&RestOptions {
            base_url: server.url.clone(),
            api_key: Some(key.to_string()),
            timeout: Duration::from_secs(10),
            ..RestOptions::default()
        })
        .expect("a loopback URL is fine"),
    )
}

fn mirror_path(dir: &Path) -> PathBuf {
    dir.join("sure.sqlite")
}

async fn open(server: &SureServer, dir: &Path, wait: Wait) -> MirrorBackend {
    MirrorBackend::open(
        sure(server, &server.key),
        MirrorOptions {
            path: mirror_path(dir),
            wait,
        },
    )
    .await
    .expect("the mirror opens")
}

async fn everything(b: &dyn Backend) -> Vec<tally::domain::Transaction> {
    b.transactions(&Query::all(), PageRequest::all())
        .await
        .expect("listing")
        .items
}

/// The Sure tag name `name:value` as tally reads it back.
fn tag_of(name: &str) -> Tag {
    match name.split_once(':') {
        Some((n, v))
            if !n.is_empty() && !v.is_empty() && !n.ends_with(' ') && !v.starts_with(' ') =>
        {
            Tag::new(n, v)
        }
        _ => Tag::new(name, ""),
    }
}

/// What the Sure server holds, read from its data directly.
struct SureOracle<'a>(&'a SureServer);

#[async_trait]
impl Oracle for SureOracle<'_> {
    async fn balances(&self, _b: &dyn Backend) -> Balances {
        self.0.with_data(|d| {
            d.accounts
                .iter()
                .filter(|a| a.status != "disabled" && a.status != "pending_deletion")
                .filter_map(|a| {
                    let cents = d.balance_cents(&a.id);
                    let q = Decimal::new(cents, minor_digits(&a.currency));
                    let q = if a.classification == "liability" {
                        -q
                    } else {
                        q
                    };
                    (!q.is_zero()).then(|| (a.name.clone(), vec![(a.currency.clone(), q)]))
                })
                .collect()
        })
    }

    async fn count(&self, b: &dyn Backend, query: &str) -> Option<usize> {
        b.flush().await.expect("every edit reaches the server");
        let (name, value) = match query.strip_prefix("tag:") {
            Some(t) => match t.split_once('=') {
                Some((n, v)) => (Some(n.to_string()), Some(v.to_string())),
                None => (Some(t.to_string()), None),
            },
            None if query.is_empty() => (None, None),
            None => return None,
        };
        Some(self.0.with_data(|d| {
            d.transactions
                .iter()
                .filter(|t| d.visible(t))
                .filter(|t| {
                    name.as_ref().is_none_or(|n| {
                        t.tag_ids.iter().filter_map(|id| d.tag(id)).any(|tag| {
                            let tag = tag_of(&tag.name);
                            // `tag:` reads as hledger's: unanchored, case-insensitive (`tag:work`
                            // finds "Work expense").
                            let has = |hay: &str, needle: &str| {
                                hay.to_lowercase().contains(&needle.to_lowercase())
                            };
                            has(&tag.name, n) && value.as_ref().is_none_or(|v| has(&tag.value, v))
                        })
                    })
                })
                .count()
        }))
    }

    fn hledger_names(&self) -> bool {
        false
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sure_mirror_conforms() {
    let server = SureServer::start(SureOptions::default()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mirror = open(&server, dir.path(), Wait::Complete).await;
    run_all(&mirror, &SureOracle(&server)).await;
    mirror.flush().await.expect("flushed");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn money_signs_and_minor_units_are_the_server_s() {
    let server = SureServer::start(SureOptions {
        transactions: 600,
        ..SureOptions::default()
    })
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mirror = open(&server, dir.path(), Wait::Complete).await;
    let listed = everything(&mirror).await;
    let data: SureData = server.with_data(|d| d.clone());
    let visible: Vec<_> = data
        .transactions
        .iter()
        .filter(|t| data.visible(t))
        .collect();
    assert_eq!(
        listed.len(),
        visible.len(),
        "every visible transaction, once"
    );
    let mut currencies = std::collections::BTreeSet::new();
    for s in &visible {
        let t = listed
            .iter()
            .find(|t| t.id.0 == s.id)
            .unwrap_or_else(|| panic!("{} is mirrored", s.id));
        // Sure stores expenses positive; from the holder's side they are money out: negative.
        let want = -Decimal::new(s.amount_cents, minor_digits(&s.currency));
        assert_eq!(t.amount().get(&s.currency), want, "{}: amount", s.id);
        assert_eq!(t.date, s.date);
        assert_eq!(t.description, s.name);
        assert_eq!(t.note, s.notes.clone().unwrap_or_default());
        let account = data.account(&s.account_id).expect("account");
        assert_eq!(t.account(), Some(account.name.as_str()));
        let kind = t.postings[0].account_kind();
        let liability = account.classification == "liability";
        assert_eq!(kind == AccountKind::Liability, liability, "{}: kind", s.id);
        let category = s.category_id.as_ref().and_then(|c| data.category(c));
        assert_eq!(t.category.as_deref(), category.map(|c| c.name.as_str()));
        currencies.insert(s.currency.clone());
    }
    assert!(
        currencies.contains("JPY") && currencies.contains("KWD"),
        "the data exercises 0- and 3-decimal currencies: {currencies:?}"
    );
    let accounts = mirror.accounts().await.expect("accounts");
    let amex = accounts
        .iter()
        .find(|a| a.name == "Amex Gold")
        .expect("the card");
    assert!(
        amex.balance.amounts()[0].quantity.is_sign_negative(),
        "a card that is owed money is negative: {}",
        amex.balance
    );
    // Sure has no cleared/pending status: the queue is "no category", and r/! say why they are unavailable.
    let queue = mirror
        .transactions(&query::parse("is:review").expect("q"), PageRequest::all())
        .await
        .expect("queue");
    let uncategorised = visible
        .iter()
        .filter(|s| s.category_id.is_none() && s.transfer.is_none())
        .count();
    assert_eq!(queue.total, uncategorised);
    let e = mirror
        .update_transaction(
            &listed[0].id,
            &TxnPatch {
                status: Some(Status::Cleared),
                ..TxnPatch::default()
            },
        )
        .await
        .expect_err("no status on Sure");
    assert!(e.to_string().contains("no cleared/pending status"), "{e}");
    let caps = mirror.capabilities();
    assert!(!caps.edit_status && caps.reason("edit_status").is_some());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paging_asks_for_100_a_page_and_never_past_the_end() {
    let server = SureServer::start(SureOptions {
        transactions: 730,
        ..SureOptions::default()
    })
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mirror = open(&server, dir.path(), Wait::Complete).await;
    let total = server.with_data(|d| d.transactions.iter().filter(|t| d.visible(t)).count());
    assert_eq!(everything(&mirror).await.len(), total);
    let pages: Vec<usize> = server
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path == "/api/v1/transactions")
        .map(|r| {
            let q = r.query_pairs();
            let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
            assert_eq!(get("per_page").as_deref(), Some("100"), "{}", r.query);
            get("page").and_then(|p| p.parse().ok()).expect("page")
        })
        .collect();
    let last = total.div_ceil(100);
    assert_eq!(pages.iter().max(), Some(&last), "pages {pages:?}");
    assert_eq!(pages.len(), last, "each page once: {pages:?}");
    // Every request carried the key in X-Api-Key only, and asked for English amounts.
    for r in server.requests() {
        assert_eq!(r.header("x-api-key"), Some(server.key.as_str()));
        assert_eq!(r.header("authorization"), None);
        assert_eq!(r.header("accept-language"), Some("en"));
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags_are_sent_as_whole_sets_keeping_the_ones_not_touched() {
    let server = SureServer::start(SureOptions::default()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mirror = open(&server, dir.path(), Wait::Complete).await;
    let (id, before) = server.with_data(|d| {
        let t = d
            .transactions
            .iter()
            .find(|t| t.tag_ids.len() >= 2 && d.visible(t))
            .expect("a transaction with two tags");
        let names: Vec<String> = t
            .tag_ids
            .iter()
            .map(|i| d.tag(i).expect("tag").name.clone())
            .collect();
        (t.id.clone(), names)
    });
    let id = TxnId(id);
    // Meanwhile someone adds a tag in Sure's own UI: the read before the write keeps it too.
    let extra = server.with_data(|d| {
        let review = d.tag_by_name("review").expect("review tag").id.clone();
        let t = d.txn_mut(&id.0).expect("txn");
        if !t.tag_ids.contains(&review) {
            t.tag_ids.push(review);
        }
        "review".to_string()
    });
    server.clear_requests();
    let r = mirror
        .bulk_tag(
            std::slice::from_ref(&id),
            &[Tag::new("trip", "lisbon")],
            &[],
        )
        .await
        .expect("tagged");
    assert_eq!(r.changed, 1);
    mirror.flush().await.expect("sent");
    let names_now = |server: &SureServer| -> Vec<String> {
        server.with_data(|d| {
            d.txn(&id.0)
                .expect("txn")
                .tag_ids
                .iter()
                .map(|i| d.tag(i).expect("tag").name.clone())
                .collect()
        })
    };
    let now = names_now(&server);
    for n in before.iter().chain([&extra, &"trip:lisbon".to_string()]) {
        assert!(now.contains(n), "{n} kept/added: {now:?}");
    }
    let reqs = server.requests();
    assert!(
        reqs.iter()
            .any(|r| r.method == "POST" && r.path == "/api/v1/tags"),
        "the new tag is created on the server first"
    );
    let patch = reqs
        .iter()
        .find(|r| r.method == "PATCH")
        .expect("one PATCH");
    let sent = patch.body.as_ref().expect("body")["transaction"]["tag_ids"]
        .as_array()
        .expect("a full set")
        .len();
    assert_eq!(sent, now.len(), "the whole set was sent");
    // Removing one of the original tags leaves the others.
    mirror
        .bulk_tag(std::slice::from_ref(&id), &[], &[before[0].clone()])
        .await
        .expect("removed");
    mirror.flush().await.expect("sent");
    let after = names_now(&server);
    assert!(!after.contains(&before[0]));
    assert!(after.contains(&before[1]) && after.contains(&"trip:lisbon".to_string()));
    let shown = mirror.transaction(&id).await.expect("mirrored");
    assert!(
        shown.tags.contains(&Tag::new("trip", "lisbon")),
        "{:?}",
        shown.tags
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_category_takes_a_row_out_of_the_queue_and_notes_are_written() {
    let server = SureServer::start(SureOptions::default()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mirror = open(&server, dir.path(), Wait::Complete).await;
    let review = query::parse("is:review").expect("q");
    let queue = mirror
        .transactions(&review, PageRequest::all())
        .await
        .expect("queue");
    let first = queue.items.first().expect("an uncategorised row").clone();
    let done = mirror
        .update_transaction(
            &first.id,
            &TxnPatch {
                category: Some("Groceries".into()),
                ..TxnPatch::default()
            },
        )
        .await
        .expect("categorised");
    assert_eq!(done.category.as_deref(), Some("Groceries"));
    assert!(!done.needs_review(), "it left the queue at once");
    let after = mirror
        .transactions(&review, PageRequest::all())
        .await
        .expect("queue");
    assert_eq!(after.total, queue.total - 1);
    mirror
        .update_transaction(
            &first.id,
            &TxnPatch {
                note: Some("split with Sam".into()),
                ..TxnPatch::default()
            },
        )
        .await
        .expect("noted");
    mirror.flush().await.expect("sent");
    server.with_data(|d| {
        let t = d.txn(&first.id.0).expect("txn");
        let cat = t
            .category_id
            .as_ref()
            .and_then(|c| d.category(c))
            .expect("category");
        assert_eq!(cat.name, "Groceries");
        assert_eq!(t.notes.as_deref(), Some("split with Sam"));
    });
    // A category the server does not have is refused before anything is queued.
    let e = mirror
        .update_transaction(
            &first.id,
            &TxnPatch {
                category: Some("Yachts".into()),
                ..TxnPatch::default()
            },
        )
        .await
        .expect_err("unknown category");
    assert!(matches!(e, BackendError::Invalid { .. }), "{e}");
    assert!(
        e.to_string().contains("Groceries"),
        "the message lists them: {e}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_outbox_paces_itself_and_finishes_after_a_restart() {
    // 6 requests per 1-second window: each tag edit is a read and a write.
    let server = SureServer::start(SureOptions {
        rate_limit: Some((6, Duration::from_secs(1))),
        transactions: 40,
        ..SureOptions::default()
    })
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let ids: Vec<TxnId> = {
        let mirror = open(&server, dir.path(), Wait::Complete).await;
        let ids: Vec<TxnId> = everything(&mirror)
            .await
            .into_iter()
            .take(8)
            .map(|t| t.id)
            .collect();
        mirror
            .bulk_tag(&ids, &[Tag::new("paced", "")], &[])
            .await
            .expect("queued");
        // Quit before the outbox could send them all.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let a = mirror.activity();
        assert!(a.queued > 0, "still sending: {a:?}");
        ids
    };
    let sent_before = server.with_data(|d| {
        let tag = d.tag_by_name("paced").map(|t| t.id.clone());
        d.transactions
            .iter()
            .filter(|t| tag.as_ref().is_some_and(|g| t.tag_ids.contains(g)))
            .count()
    });
    assert!(
        sent_before < ids.len(),
        "the limit held some back: {sent_before}"
    );
    let mirror = open(&server, dir.path(), Wait::FirstPage).await;
    let started = std::time::Instant::now();
    mirror
        .flush()
        .await
        .expect("the rest is sent after the restart");
    let tagged = server.with_data(|d| {
        let tag = d.tag_by_name("paced").expect("created").id.clone();
        d.transactions
            .iter()
            .filter(|t| t.tag_ids.contains(&tag))
            .count()
    });
    assert_eq!(tagged, ids.len());
    assert_eq!(
        server.rate_limited(),
        0,
        "paced: the server never had to refuse"
    );
    assert!(started.elapsed() < Duration::from_secs(20));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_answers_name_the_server_and_leave_the_mirror_as_it_was() {
    let server = SureServer::start(SureOptions::default()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mirror = open(&server, dir.path(), Wait::Complete).await;
    let before = everything(&mirror).await;
    let path = "/transactions".to_string();
    let faults = [
        (
            Fault::HtmlError {
                path_prefix: path.clone(),
                status: 502,
            },
            "HTTP 502",
        ),
        (
            Fault::MissingField {
                path_prefix: path.clone(),
                field: "currency".into(),
            },
            "field `currency` is missing",
        ),
        (
            Fault::CutMidBody {
                path_prefix: path.clone(),
            },
            "connection",
        ),
        (
            Fault::Status {
                path_prefix: path.clone(),
                status: 422,
                body: serde_json::json!({"error": "validation_failed", "message": "Per page is odd"}),
            },
            "Per page is odd",
        ),
    ];
    for (fault, words) in faults {
        // Idempotent GETs retry 5xx and broken connections: fail every try.
        for _ in 0..4 {
            server.inject(fault.clone());
        }
        let e = mirror
            .sync("mirror")
            .await
            .expect_err(&format!("a bad answer: {fault:?}"));
        let shown = e.to_string();
        assert!(shown.contains(&server.url), "names the server: {shown}");
        assert!(
            shown.contains(words),
            "says what was wrong ({words}): {shown}"
        );
        while !server.pending_faults().is_empty() {
            let _ = mirror.sync("mirror").await;
        }
        assert_eq!(everything(&mirror).await, before, "after {fault:?}");
        assert!(mirror.activity().sync_error.is_some());
    }
    // Numbers sent as strings lose nothing: read exactly. So does an older server's answer without
    // signed_amount_cents (the absolute cents and the classification give the same amount).
    server.inject(Fault::NumbersAsStrings {
        path_prefix: path.clone(),
    });
    mirror
        .sync("mirror")
        .await
        .expect("integers as strings are read");
    assert_eq!(everything(&mirror).await, before);
    server.inject(Fault::MissingField {
        path_prefix: path,
        field: "signed_amount_cents".into(),
    });
    mirror.sync("mirror").await.expect("older answers are read");
    assert_eq!(everything(&mirror).await, before);
    drop(mirror);
    // The file on disk holds the last good sync.
    server.stop().await;
    let offline = SureServer::start(SureOptions::default()).await;
    let reopened = MirrorBackend::open(
        sure(&offline, "wrong-key"),
        MirrorOptions {
            path: mirror_path(dir.path()),
            wait: Wait::FirstPage,
        },
    )
    .await
    .expect("the mirror opens without the server");
    assert_eq!(everything(&reopened).await.len(), before.len());
    offline.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_scopes_and_rate_limit_answers_are_reported_as_the_server_says() {
    let server = SureServer::start(SureOptions {
        read_only_key: Some("read-only-key-0123".into()),
        ..SureOptions::default()
    })
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let e = MirrorBackend::open(
        sure(&server, "not-the-key"),
        MirrorOptions {
            path: dir.path().join("bad.sqlite"),
            wait: Wait::FirstPage,
        },
    )
    .await
    .err()
    .expect("a wrong key fails the first open");
    assert!(e.to_string().contains("HTTP 401"), "{e}");
    // A read-only key: reading works, a write is refused with Sure's message and stays retryable.
    let mirror = MirrorBackend::open(
        sure(&server, "read-only-key-0123"),
        MirrorOptions {
            path: dir.path().join("ro.sqlite"),
            wait: Wait::Complete,
        },
    )
    .await
    .expect("read scope reads");
    let id = everything(&mirror).await[0].id.clone();
    mirror
        .bulk_tag(std::slice::from_ref(&id), &[Tag::new("x", "")], &[])
        .await
        .expect("queued");
    let e = mirror.flush().await.expect_err("refused");
    assert!(e.to_string().contains("403"), "{e}");
    let a = mirror.activity();
    assert_eq!((a.failed, a.queued), (1, 0), "{a:?}");
    server.stop().await;
    // Rack::Attack's bare 429 (Retry-After: 60, no rate headers) is a rate limit, not a crash.
    let server = SureServer::start(SureOptions {
        rack_attack: Some(3),
        ..SureOptions::default()
    })
    .await;
    let e = MirrorBackend::open(
        sure(&server, &server.key),
        MirrorOptions {
            path: dir.path().join("rack.sqlite"),
            wait: Wait::Complete,
        },
    )
    .await
    .err()
    .expect("rate limited");
    assert!(
        matches!(
            e,
            BackendError::RateLimited {
                retry_after: 60,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("Rate limit exceeded"), "{e}");
    server.stop().await;
    // A self-hosted server's "Infinity" headers mean no limit at all.
    let server = SureServer::start(SureOptions {
        self_hosted: true,
        ..SureOptions::default()
    })
    .await;
    let mirror = MirrorBackend::open(
        sure(&server, &server.key),
        MirrorOptions {
            path: dir.path().join("self.sqlite"),
            wait: Wait::Complete,
        },
    )
    .await
    .expect("Infinity is read leniently");
    assert!(!everything(&mirror).await.is_empty());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_open_shows_the_first_page_and_streams_the_rest() {
    let server = SureServer::start(SureOptions {
        transactions: 3000,
        latency: Duration::from_millis(20),
        ..SureOptions::default()
    })
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mirror = open(&server, dir.path(), Wait::FirstPage).await;
    let first = mirror
        .transactions(&Query::all(), PageRequest::default())
        .await
        .expect("first page");
    assert!(first.total >= 100 && first.total < 3000, "{}", first.total);
    let newest = server.with_data(|d| d.transactions.iter().map(|t| t.date).max());
    assert_eq!(Some(first.items[0].date), newest, "the newest come first");
    assert!(
        mirror.activity().syncing.is_some(),
        "{:?}",
        mirror.activity()
    );
    let started = std::time::Instant::now();
    while mirror.activity().syncing.is_some() {
        assert!(started.elapsed() < Duration::from_secs(30), "sync finishes");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let total = server.with_data(|d| d.transactions.iter().filter(|t| d.visible(t)).count());
    assert_eq!(everything(&mirror).await.len(), total);
    assert!(
        mirror.reload().await.expect("reload"),
        "the UI is told to refresh"
    );
    drop(mirror);
    // A later open shows the mirror at once, even with the server gone.
    server.stop().await;
    let gone = SureServer::start(SureOptions::default()).await;
    let url = gone.url.clone();
    gone.stop().await;
    let again = MirrorBackend::open(
        Box::new(
            Sure::new(&RestOptions {
                base_url: url,
                api_key: Some("k".into()),
                timeout: Duration::from_secs(2),
                ..RestOptions::default()
            })
            .expect("url"),
        ),
        MirrorOptions {
            path: mirror_path(dir.path()),
            wait: Wait::FirstPage,
        },
    )
    .await
    .expect("opens from the mirror");
    assert_eq!(everything(&again).await.len(), total);
    assert!(again.activity().synced_at.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_mirror_is_rebuilt() {
    let server = SureServer::start(SureOptions::default()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(mirror_path(dir.path()), b"garbage, not SQLite").expect("write");
    let mirror = open(&server, dir.path(), Wait::Complete).await;
    assert!(!everything(&mirror).await.is_empty());
    let note = mirror.activity().note.expect("says so");
    assert!(note.contains("rebuilt"), "{note}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_of_a_transaction_deleted_on_the_server_is_refused_with_the_404() {
    let server = SureServer::start(SureOptions::default()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mirror = open(&server, dir.path(), Wait::Complete).await;
    let gone = everything(&mirror).await[3].id.clone();
    server.with_data(|d| d.transactions.retain(|t| t.id != gone.0));
    mirror
        .bulk_tag(std::slice::from_ref(&gone), &[Tag::new("late", "")], &[])
        .await
        .expect("queued locally");
    let e = mirror
        .flush()
        .await
        .expect_err("the server no longer has it");
    assert!(e.to_string().contains("404"), "{e}");
    // A full refresh drops it from the mirror.
    mirror.sync("mirror").await.expect("refresh");
    assert!(matches!(
        mirror.transaction(&gone).await,
        Err(BackendError::NotFound(_))
    ));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_speaks_sure_with_dialect() {
    let server = SureServer::start(SureOptions::default()).await;
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("config.toml"), "").expect("config");
    let tally = |args: &[&str]| {
        let out = assert_cmd::Command::cargo_bin("tally")
            .expect("binary")
            .args(args)
            .env("TALLY_API_KEY", &server.key)
            .env("TALLY_CACHE_DIR", dir.path())
            .env("TALLY_CONFIG", dir.path().join("config.toml"))
            .output()
            .expect("runs");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let url = format!("{}/api/v1", server.url);
    let (ok, out, err) = tally(&[
        "--remote",
        &url,
        "--dialect",
        "sure",
        "balances",
        "--format",
        "json",
    ]);
    assert!(ok, "{err}");
    let rows: serde_json::Value = serde_json::from_str(&out).expect("json");
    let names: Vec<&str> = rows
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|r| r["account"].as_str())
        .collect();
    assert!(
        names.contains(&"Chase Checking") && names.contains(&"Amex Gold"),
        "{names:?}"
    );
    let (ok, out, err) = tally(&[
        "--remote",
        &server.url,
        "--dialect",
        "sure",
        "transactions",
        "--limit",
        "1",
        "--format",
        "json",
    ]);
    assert!(ok, "{err}");
    let t: serde_json::Value = serde_json::from_str(&out).expect("json");
    let t = &t[0];
    assert!(
        t["amount"][0]["commodity"].is_string() && t["account"].is_string(),
        "{t}"
    );
    let (ok, out, err) = tally(&[
        "--remote",
        &server.url,
        "--dialect",
        "sure",
        "tag",
        "-q",
        "starbucks",
        "--add",
        "coffee",
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("transactions changed"), "{out}");
    let on_server = server.with_data(|d| {
        let tag = d.tag_by_name("coffee").expect("created").id.clone();
        d.transactions
            .iter()
            .filter(|t| t.tag_ids.contains(&tag))
            .count()
    });
    assert!(on_server > 0, "the command waits until the server has them");
    // The wrong dialect for a server is a clear error naming it, not a crash or an empty ledger.
    let (ok, _, err) = tally(&["--remote", &server.url, "--dialect", "finwise", "balances"]);
    assert!(
        !ok && err.contains(&server.url) && err.contains("HTTP 404"),
        "{err}"
    );
    let (ok, _, err) = tally(&["--dialect", "sure", "balances"]);
    assert!(!ok && err.contains("--remote"), "{err}");
    server.stop().await;
}
